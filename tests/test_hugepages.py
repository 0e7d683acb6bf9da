"""Huge pages for a long lint run's heap (aimlcat._hugepages): granted where Linux and
glibc allow it, never twice, never when turned off, and asked for only by long runs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aimlcat import _hugepages, _lint
from aimlcat._cli import run

linux_thp = pytest.mark.skipif(
    not sys.platform.startswith("linux")
    or not os.path.exists("/sys/kernel/mm/transparent_hugepage/enabled"),
    reason="transparent huge pages are a Linux feature")

# A child process: the call changes the allocator of the process it runs in.
_CHILD = textwrap.dedent("""
    import json, sys
    from aimlcat._hugepages import PAD, prefer_huge_pages

    def advised():
        # VmFlags "hg": the region asked for huge pages (madvise MADV_HUGEPAGE).
        size, out = 0, 0
        for line in open("/proc/self/smaps"):
            if "-" in line.split(" ", 1)[0] and not line.startswith("VmFlags"):
                a, b = (int(x, 16) for x in line.split(" ", 1)[0].split("-"))
                size = b - a
            elif line.startswith("VmFlags") and " hg" in line:
                out += size
        return out

    before = advised()
    first = prefer_huge_pages()
    second = prefer_huge_pages()
    # Allocations after the call land in the advised region and work as ever.
    blocks = [bytes(200) * (i % 7 + 1) for i in range(200_000)]
    assert sum(map(len, blocks)) > 0
    print(json.dumps({"first": first, "second": second, "before": before,
                      "after": advised(), "pad": PAD}))
""")


def _child(env: dict[str, str] | None = None) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, timeout=60, check=True)
    return json.loads(out.stdout)


@linux_thp
def test_granted_once_and_the_heap_is_advised() -> None:
    got = _child({"AIMLCAT_HUGE_PAGES": "1"})
    if not got["first"]:
        pytest.skip("this C library or kernel does not grant it (the call left things be)")
    assert got["second"] is False  # once per process
    assert got["before"] == 0
    # The advised region is the heap's new top: most of PAD, rounded to 2 MB pages.
    assert got["after"] >= got["pad"] - (4 << 20)  # type: ignore[operator]


@linux_thp
def test_turned_off_by_the_environment() -> None:
    got = _child({"AIMLCAT_HUGE_PAGES": "0"})
    assert got == {**got, "first": False, "second": False, "after": 0}


def test_only_a_long_lint_run_asks_for_them(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(_hugepages, "prefer_huge_pages", lambda: calls.append(1) or True)
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    for i in range(_lint._HUGE_PAGES_FROM):
        (tmp_path / f"req-{i:05d}.json").write_text(body, encoding="utf-8")
    short = sorted(tmp_path.iterdir())[: _lint._HUGE_PAGES_FROM - 1]
    out = io.StringIO()
    assert run(["lint", "--no-config", *map(str, short)], out=out) == 0
    assert calls == []
    out = io.StringIO()
    assert run(["lint", "--no-config", str(tmp_path)], out=out) == 0
    assert calls == [1]
    # Every file was checked, the first ones (read ahead to count) included.
    assert f"{_lint._HUGE_PAGES_FROM:,} files checked: no problems." in out.getvalue()
