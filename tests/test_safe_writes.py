"""Writes never lose a file: killed mid-run, every file is whole; read-only files and
symbolic links are refused with a clear message, and the other files are still fixed."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aimlcat._cli import run
from aimlcat._fsutil import atomic_write_text

ORIGINAL = ('{\n  "model": "gpt-4o",\n  "messages": [{"role": "user", "content": "Hi"}],\n'
            '  "max_tokens": 100\n}\n')
FIXED = ORIGINAL.replace('"max_tokens"', '"max_completion_tokens"')


def test_read_only_file_is_refused_and_others_fixed(tmp_path: Path) -> None:
    locked, free = tmp_path / "locked.json", tmp_path / "free.json"
    for f in (locked, free):
        f.write_text(ORIGINAL)
    locked.chmod(0o444)
    out = io.StringIO()
    code = run(["lint", "--fix", str(tmp_path)], out=out)
    assert code == 2
    assert "read-only" in out.getvalue()
    assert locked.read_text() == ORIGINAL and free.read_text() == FIXED


def test_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text(ORIGINAL)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(OSError, match="symbolic link"):
        atomic_write_text(link, "{}")
    assert target.read_text() == ORIGINAL


def test_permissions_are_kept(tmp_path: Path) -> None:
    f = tmp_path / "a.json"
    f.write_text(ORIGINAL)
    f.chmod(0o640)
    assert run(["lint", "--fix", str(f)], out=io.StringIO()) == 0
    assert f.read_text() == FIXED and (f.stat().st_mode & 0o777) == 0o640


def test_killed_mid_run_leaves_every_file_whole(tmp_path: Path) -> None:
    files = []
    for i in range(1000):
        f = tmp_path / f"{i // 100:02d}" / f"r{i:04d}.json"
        f.parent.mkdir(exist_ok=True)
        f.write_text(ORIGINAL)
        files.append(f)
    proc = subprocess.Popen([sys.executable, "-m", "aimlcat", "lint", "--fix", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill it as soon as it has started writing (files are fixed in sorted order),
    # so the kill lands mid-run whatever the machine's speed.
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if files[0].read_text() == FIXED:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    states = {"original": 0, "fixed": 0}
    for f in files:
        text = f.read_text()
        assert text in (ORIGINAL, FIXED), f"{f} is neither the original nor the fixed file"
        states["original" if text == ORIGINAL else "fixed"] += 1
    assert states["fixed"] >= 1 and states["original"] >= 1, states
    # Left-over temporary files are allowed (a killed process cannot clean up), but
    # they are hidden and never take a payload file's name.
    strays = [p for p in tmp_path.rglob("*") if p.is_file() and p not in set(files)]
    assert all(p.name.startswith(".") and p.name.endswith(".tmp") for p in strays)


def test_a_file_with_hard_links_is_refused(tmp_path: Path) -> None:
    # A new file in its place would leave the other name with the old text.
    first, other = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(ORIGINAL)
    os.link(first, tmp_path / "a-link.data")
    other.write_text(ORIGINAL)
    out = io.StringIO()
    code = run(["lint", "--fix", str(first), str(other)], out=out)
    assert code == 2
    assert (f"{first}: cannot write the fixes: the file has 2 hard links; not changed"
            in out.getvalue())
    assert first.read_text() == ORIGINAL and (tmp_path / "a-link.data").read_text() == ORIGINAL
    assert other.read_text() == FIXED


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root may give a file to another user")
def test_owner_and_group_are_kept(tmp_path: Path) -> None:
    f = tmp_path / "theirs.json"
    f.write_text(ORIGINAL)
    os.chown(f, 4321, 4322)
    assert run(["lint", "--fix", str(f)], out=io.StringIO()) == 0
    assert f.read_text() == FIXED
    assert (f.stat().st_uid, f.stat().st_gid) == (4321, 4322)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0 or len(os.getgroups()) < 2,
                    reason="needs a user in two groups")
def test_group_is_kept_where_the_user_may(tmp_path: Path) -> None:
    f = tmp_path / "shared.json"
    f.write_text(ORIGINAL)
    group = next(g for g in os.getgroups() if g != os.getegid())
    os.chown(f, -1, group)
    assert run(["lint", "--fix", str(f)], out=io.StringIO()) == 0
    assert f.stat().st_gid == group
