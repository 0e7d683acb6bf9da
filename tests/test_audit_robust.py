"""`aimlcat audit` under issue 8's standard: bad logs are one clear line each (the other
files still audited), keys never reach any output, writes are atomic and refuse what they
must not replace, and memory stays flat with the number of lines and files."""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import pytest

from aimlcat import _audit
from aimlcat._audit import audit
from aimlcat._cli import run

HELLO = [{"role": "user", "content": "hi"}]
GOOD = json.dumps({"model": "gpt-4o", "messages": HELLO, "max_tokens": 5})
KEY = "sk-proj-Zq8mN2vL5xR7tY1wB4cD6fH9"
TOKEN = "Bearer eyJhbGciOiJIUzI1NiJ9xyzxyzxyz"
TAILS = (KEY[8:], TOKEN[10:])


def cli(*argv: str, cwd: Path) -> tuple[int, str, list[str]]:
    """Run the command in-process from ``cwd``: (exit code, stdout, stderr lines)."""
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with redirect_stderr(err):
            code = run(["audit", "-j", "1", "--no-progress", *argv], out=out)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue().splitlines()


# -- bad logs --------------------------------------------------------------------------------

def _bad_files(d: Path) -> dict[str, str]:
    """Logs that cannot be read, each with the start of its one line on standard error."""
    full = gzip.compress(b"".join(GOOD.encode() + b"\n" for _ in range(3000)), mtime=0)
    (d / "cut.jsonl.gz").write_bytes(full[: len(full) // 2])
    (d / "fake.jsonl.gz").write_bytes(b"not gzip at all\n")
    (d / "loop1.jsonl").symlink_to("loop2.jsonl")
    (d / "loop2.jsonl").symlink_to("loop1.jsonl")
    (d / "nologs").mkdir()
    (d / "nologs" / "notes.txt").write_text("no logs here\n")
    return {
        "cut.jsonl.gz": "cut.jsonl.gz: unreadable after line ",
        "fake.jsonl.gz": "fake.jsonl.gz: cannot read: Not a gzipped file",
        "loop1.jsonl": "loop1.jsonl: cannot read: Too many levels of symbolic links",
        "missing.jsonl": "missing.jsonl: no such file",
        "nologs": "nologs: a directory holding no logs",
    }


def test_unreadable_logs_are_one_line_each_and_the_others_are_audited(tmp_path: Path) -> None:
    expected = _bad_files(tmp_path)
    (tmp_path / "good.jsonl").write_text(GOOD + "\n")
    names = [*expected, "good.jsonl"]
    code, out, errors = cli(*names, "--format", "json", cwd=tmp_path)
    assert code == 2
    assert len(errors) == len(expected), errors
    for line, (name, start) in zip(errors, expected.items(), strict=True):
        assert line.startswith(f"aimlcat: {start}"), (name, line)
        assert "Traceback" not in line
    doc = json.loads(out)
    files = {f["path"]: f for f in doc["files"]}
    assert files["good.jsonl"] == {"path": "good.jsonl", "lines": 1, "error": None}
    assert all(files[n]["error"] for n in expected)
    assert 0 < files["cut.jsonl.gz"]["lines"] < 3000  # what could be read was audited
    assert [(f["code"], f["count"]) for f in doc["findings"]] == [
        ("AML302", files["cut.jsonl.gz"]["lines"] + 1)]


def test_a_file_that_fails_while_read(tmp_path: Path) -> None:
    """A read error that is not about the path (EIO): /proc/self/mem fails on read."""
    if not os.path.exists("/proc/self/mem"):
        pytest.skip("needs /proc (Linux)")
    (tmp_path / "good.jsonl").write_text(GOOD + "\n")
    code, _, errors = cli("/proc/self/mem", "good.jsonl", cwd=tmp_path)
    assert code == 2
    assert errors == [("aimlcat: /proc/self/mem: unreadable after line 0: "
                       "[Errno 5] Input/output error")]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads files without permission")
def test_a_file_without_permission(tmp_path: Path) -> None:
    locked = tmp_path / "locked.jsonl"
    locked.write_text(GOOD + "\n")
    locked.chmod(0)
    (tmp_path / "good.jsonl").write_text(GOOD + "\n")
    code, _, errors = cli("locked.jsonl", "good.jsonl", cwd=tmp_path)
    assert code == 2
    assert errors == ["aimlcat: locked.jsonl: cannot read: Permission denied"]


def test_bad_lines_are_findings_with_their_line_and_the_rest_is_read(tmp_path: Path) -> None:
    """A bad line in a log of millions must not stop the audit: it is an AML003 finding
    (error: exit 1) at its line, and the lines after it are checked."""
    bad = [b"\xef\xbb\xbf" + GOOD.encode(), b"",  # a BOM on line 1 is read as absent
           b"\x00\x01\x02\xff binary", b'{"model": "gpt-4o", "a": "\xc3\x28"}',
           b"[" * 10_000 + b"]" * 10_000, b'{"model": NaN, "messages": []}',
           b'{"model": "gpt-4o",}', b'{"model": "gpt-4o", "content": "' + b"x" * 50_000 + b'"}',
           GOOD.encode()]
    (tmp_path / "bad.jsonl").write_bytes(b"\n".join(bad) + b"\n")
    code, out, errors = cli("bad.jsonl", "--max-bytes", "30000", "--format", "json",
                            "--findings-out", "rows.jsonl", cwd=tmp_path)
    assert (code, errors) == (1, [])
    doc = json.loads(out)
    assert doc["totals"] | {"first_seen": None} == {
        "lines": 9, "records": 8, "requests": 2, "bad_lines": 6, "before_since": 0,
        "undated": 8, "bad_timestamps": 0, "flagged": 8, "findings": 8,
        "first_seen": None, "last_seen": None}
    rows = [json.loads(r) for r in (tmp_path / "rows.jsonl").read_text().splitlines()]
    why = {r["line"]: r["message"] for r in rows if r["code"] == "AML003"}
    assert why == {
        3: "the line is not a JSON request: not UTF-8 text (byte 3)",
        4: "the line is not a JSON request: not UTF-8 text (byte 26)",
        5: why[5], 6: "the line is not a JSON request: invalid JSON: NaN is not valid JSON",
        7: why[7], 8: "the line is over the 30,000-byte limit"}
    assert "too deeply" in why[5] and why[7].startswith("the line is not a JSON request: ")
    assert [r["line"] for r in rows if r["code"] == "AML302"] == [1, 9]


def test_empty_logs_are_no_error(tmp_path: Path) -> None:
    """An empty log (a rotated file with nothing yet) holds no requests; it is listed with
    0 lines, not an error."""
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "blank.jsonl").write_bytes(b"\n \n\r\n")
    (tmp_path / "empty.jsonl.gz").write_bytes(gzip.compress(b""))
    (tmp_path / "zero.jsonl.gz").write_bytes(b"")  # not even a gzip header yet
    code, out, errors = cli("empty.jsonl", "blank.jsonl", "empty.jsonl.gz", "zero.jsonl.gz",
                            "--format", "json", cwd=tmp_path)
    assert (code, errors) == (0, [])
    assert [(f["lines"], f["error"]) for f in json.loads(out)["files"]] == [
        (0, None), (3, None), (0, None), (0, None)]


# -- keys ------------------------------------------------------------------------------------

LEAKY_LINES = [
    {"endpoint": "/v1/chat/completions", "headers": {"Authorization": TOKEN},
     "body": {"model": "gpt-4o", "messages": HELLO, "api_key": KEY}},
    {"model": KEY, "messages": HELLO},  # a key where the model id goes
    {"model": f"my-model?key={KEY}", "messages": HELLO},  # inside a model id
    {"model": "gpt-4o", "messages": HELLO, KEY: 1},  # as an unknown parameter's name
    {"model": "gpt-4o", "messages": HELLO, "temperatur": KEY},  # an unknown one's value
    {"model": "gpt-4o", "messages": [{"role": KEY, "content": "x"}]},  # a nested value
    {"model": "gpt-4o", "messages": [{"role": "user", KEY: "x"}]},  # a nested name
    {"endpoint": f"/v1/{KEY}", "body": {"model": "gpt-4o", "messages": HELLO}},
    {"url": f"https://api.example.com/v1/chat?key={KEY}", "body": {"model": "gpt-4o"}},
    {"custom_id": KEY, "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "gpt-4o", "messages": HELLO, "max_tokens": TOKEN}},
    {"model": "gpt-4o", "messages": HELLO, "timestamp": KEY},
]


def _leaky_log(d: Path) -> None:
    text = "\n".join(json.dumps(x) for x in LEAKY_LINES)
    dup = f'{{"model": "gpt-4o", "messages": [], "{KEY}": 1, "{KEY}": 2}}'
    (d / "leaky.jsonl").write_text(text + "\n" + dup + "\n")


@pytest.mark.parametrize(("fmt", "table"), [
    ("text", "rows.jsonl"), ("json", "rows.jsonl.gz"), ("json", "rows.parquet")])
def test_keys_never_reach_any_output(tmp_path: Path, fmt: str, table: str) -> None:
    if table.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    _leaky_log(tmp_path)
    code, out, errors = cli("leaky.jsonl", "--format", fmt, "-o", "report.out",
                            "--findings-out", table, cwd=tmp_path)
    assert (code, out, errors) == (1, "", [])
    report = (tmp_path / "report.out").read_text()
    assert "AML005" in report
    data = (tmp_path / table).read_bytes()
    if table.endswith(".gz"):
        data = gzip.decompress(data)
    elif table.endswith(".parquet"):
        import pyarrow.parquet as pq

        data = json.dumps(pq.read_table(tmp_path / table).to_pylist(), default=str).encode()
    assert b"AML005" in data
    for tail in TAILS:
        assert tail not in report, tail
        assert tail.encode() not in data, tail


def test_keys_are_found_as_aml005(tmp_path: Path) -> None:
    _leaky_log(tmp_path)
    doc = audit([str(tmp_path / "leaky.jsonl")], jobs=1).to_dict()
    secret = [f for f in doc["findings"] if f["code"] == "AML005"]
    assert sum(f["count"] for f in secret) >= 5
    samples = sorted(s["line"] for f in secret for s in f["samples"])
    assert {1, 2, 4, 5, 12} <= set(samples)  # headers, api_key, model, name, value


# -- writes ----------------------------------------------------------------------------------

def test_outputs_refused_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "log.jsonl").write_text(GOOD + "\n")
    (tmp_path / "old.json").write_text("previous report\n")
    (tmp_path / "ro.json").write_text("previous report\n")
    (tmp_path / "ro.json").chmod(0o444)
    (tmp_path / "link.json").symlink_to("old.json")
    cases = {
        ("-o", "ro.json"): "cannot write ro.json: the file is read-only; not changed",
        ("--findings-out", "ro.json"): "cannot write ro.json: the file is read-only",
        ("-o", "link.json"): "cannot write link.json: refusing to write through a symbolic",
        ("--findings-out", "link.json"): "cannot write link.json: refusing to write",
        ("-o", "log.jsonl"): "log.jsonl is one of the logs being audited: not overwritten",
        ("--findings-out", "./log.jsonl"): "./log.jsonl is one of the logs being audited",
        ("-o", "nodir/r.json"): "cannot write nodir/r.json: no directory ",
        ("-o", "."): "cannot write .: is a directory",
        ("-o", "s3://bucket/r.json"): "cannot write s3://bucket/r.json: the report and",
        # the report replaced the table written just before it, in silence
        ("-o", "old.json", "--findings-out", "./old.json"):
            "-o old.json and --findings-out ./old.json are the same file",
    }
    for argv, message in cases.items():
        code, out, errors = cli("log.jsonl", *argv, cwd=tmp_path)
        assert code == 2, argv
        assert out == "" and len(errors) == 1 and errors[0].startswith(f"aimlcat: {message}"), \
            (argv, errors)
    assert (tmp_path / "old.json").read_text() == "previous report\n"
    assert (tmp_path / "ro.json").read_text() == "previous report\n"
    assert (tmp_path / "log.jsonl").read_text() == GOOD + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "log.jsonl", "old.json",
                                                          "ro.json"]


def test_permissions_are_kept(tmp_path: Path) -> None:
    (tmp_path / "log.jsonl").write_text(GOOD + "\n")
    for name in ("r.json", "rows.jsonl"):
        (tmp_path / name).write_text("old\n")
        (tmp_path / name).chmod(0o640)
    assert cli("log.jsonl", "-o", "r.json", "--findings-out", "rows.jsonl", "--format", "json",
               cwd=tmp_path)[0] == 0  # (a warning)
    for name in ("r.json", "rows.jsonl"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o640
        assert (tmp_path / name).read_text() != "old\n"


def test_killed_mid_run_leaves_the_previous_outputs_whole(tmp_path: Path) -> None:
    lines = [GOOD] * 30_000
    (tmp_path / "log.jsonl").write_text("\n".join(lines) + "\n")
    for name in ("report.json", "rows.jsonl"):
        (tmp_path / name).write_text(f"previous {name}\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(_audit.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aimlcat", "audit", "log.jsonl", "-j", "1", "--blocksize",
         "64KiB", "--format", "json", "-o", "report.json", "--findings-out", "rows.jsonl"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill it once the table's temporary file holds rows: mid-write, whatever the speed.
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        tmps = [p for p in tmp_path.glob(".rows.jsonl.*.tmp") if p.stat().st_size > 0]
        if tmps:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    for name in ("report.json", "rows.jsonl"):
        assert (tmp_path / name).read_text() == f"previous {name}\n"
    strays = {p.name for p in tmp_path.iterdir()} - {"log.jsonl", "report.json", "rows.jsonl"}
    assert all(s.startswith(".") and s.endswith(".tmp") for s in strays), strays


# -- memory ----------------------------------------------------------------------------------

def _peak(paths: list[str], **kw: Any) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        audit(paths, jobs=1, **kw)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_with_the_number_of_lines(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """One .gz file is one chunk: its rows spill to a temporary file past SPILL_ROWS (made
    small here), so four times the lines, every one with findings, need the same memory."""
    monkeypatch.setattr(_audit, "SPILL_ROWS", 500)
    peaks = []
    for n in (3_000, 12_000):
        log = tmp_path / f"{n}.jsonl.gz"
        log.write_bytes(gzip.compress("".join(
            json.dumps({"timestamp": 1_750_000_000 + i, "model": "gpt-4o", "messages": HELLO,
                        "max_tokens": i, "temperatur": 1}) + "\n" for i in range(n)).encode()))
        audit([str(log)], jobs=1)  # warm: the catalog and its validators are built
        peaks.append(_peak([str(log)], findings_out=str(tmp_path / f"{n}.rows.jsonl")))
    small, large = peaks
    # Holding the rows would take well over 100 bytes per finding (18,000 more: 1.8 MB).
    assert large < small + 200_000, f"peak {small:,} B for 3,000 lines, {large:,} for 12,000"


def test_memory_grows_only_by_a_path_per_file(tmp_path: Path) -> None:
    """The report lists every file (its path, its line count): that, and the plan of its
    chunks, is all that grows, a few hundred bytes a file."""
    peaks = []
    for n in (100, 400):
        d = tmp_path / str(n)
        d.mkdir()
        for i in range(n):
            (d / f"{i:04d}.jsonl").write_text(GOOD + "\n" + GOOD + "\n")
        audit([str(d)], jobs=1)
        peaks.append(_peak([str(d)]))
    small, large = peaks
    assert large < small + 1000 * 300, f"peak {small:,} B for 100 files, {large:,} for 400"


# -- distinct keys ---------------------------------------------------------------------------

def _made_up(d: Path, n: int, name: str = "log.jsonl", models: bool = True) -> Path:
    """``n`` lines, each with a parameter name and (every other line, with ``models``) a
    model id of its own; and one known parameter, always the same."""
    log = d / name
    log.write_text("".join(json.dumps(
        {"model": f"made-up-{i:05d}" if i % 2 and models else "gpt-4o", "messages": HELLO,
         f"param_{i:05d}": 1, "max_tokens": 1}) + "\n" for i in range(n)))
    return log


def test_distinct_keys_past_the_limit_are_counted_as_other(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_audit, "KEYS_PER_CODE", 5)
    monkeypatch.setattr(_audit, "MODELS_KEPT", 4)
    log = str(_made_up(tmp_path, 60))
    report = audit([log], jobs=1)
    doc = report.to_dict()
    # The same report however the lines are cut and merged.
    assert audit([log], jobs=1, blocksize=97).to_dict() == doc
    by_code = {c["code"]: c["count"] for c in doc["by_code"]}
    assert by_code == {"AML301": 30, "AML102": 30, "AML302": 30}  # exact, folded or not
    unknown = [f for f in doc["findings"] if f["code"] == "AML301"]
    assert len(unknown) == 6 and [f["count"] for f in unknown if f.get("other")] == [25]
    assert sorted(f["parameter"] for f in unknown if not f.get("other")) == [
        f"param_{i:05d}" for i in (0, 2, 4, 6, 8)]  # the first in sort order
    models = {m["model"]: m["requests"] for m in doc["by_model"]}
    assert models[None] == 60 - 30 - 3  # gpt-4o and three made-up ids kept
    assert len(models) == 5 and models["gpt-4o"] == 30
    assert len(report.partial.models) == 5 and len(report.partial.tallies) == 5 + 1 + 5 + 1 + 1

    text = io.StringIO()
    _audit.write_text(report, text)
    assert "more distinct keys than kept (5 per code, 4 models)" in text.getvalue()
    assert "AML301 error unsupported-parameter (other keys): 25 lines" in text.getvalue()


def test_a_model_id_of_a_nul_is_not_the_other_bucket(tmp_path: Path) -> None:
    (tmp_path / "log.jsonl").write_text(json.dumps({"model": "\x00", "messages": HELLO}) + "\n")
    doc = audit([str(tmp_path / "log.jsonl")], jobs=1).to_dict()
    assert [(f["model"], f.get("other")) for f in doc["findings"]] == [("\ufffd", None)]


def test_memory_stays_flat_with_distinct_keys(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_audit, "KEYS_PER_CODE", 100)
    monkeypatch.setattr(_audit, "MODELS_KEPT", 100)
    from aimlcat import _validator

    # The validator remembers the bigrams of the names it suggests for in an LRU of 4,096
    # words: bounded, but its churn would be traced as new memory. Measured without it,
    # what is left is the audit's own memory.
    monkeypatch.setattr(_validator, "_bigrams", _validator._bigrams.__wrapped__)
    logs = [str(_made_up(tmp_path, n, f"{n}.jsonl", models=False)) for n in (1_500, 6_000)]
    audit(logs[1:], jobs=1)  # warm
    small, large = (_peak([log]) for log in logs)
    # A tally per key would be several hundred bytes: 4,500 more keys, over 2 MB.
    assert large < small + 200_000, f"peak {small:,} B for 1,500 keys, {large:,} for 6,000"


def test_standard_input_is_refused_with_a_reason(tmp_path: Path) -> None:
    """`aimlcat audit -` (lint's spelling of standard input) said "-: no such file"
    after printing an empty report."""
    code, out, err = cli("-", cwd=tmp_path)
    assert (code, out) == (2, "")
    assert err == ["aimlcat: audit reads log files, not standard input (-): save the log to "
                   "a file (a file named - is ./-)"]
    (tmp_path / "-").write_text('{"model": "gpt-4o", "messages": [], "max_tokens": 1}\n')
    code, out, err = cli("./-", "--format", "json", cwd=tmp_path)
    assert code == 0 and json.loads(out)["totals"]["requests"] == 1


def test_output_dash_is_standard_output(tmp_path: Path) -> None:
    """`audit log -o -` wrote the report into a file named `-`."""
    (tmp_path / "log.jsonl").write_text(GOOD + "\n")
    code, out, err = cli("log.jsonl", "--format", "json", "-o", "-", cwd=tmp_path)
    assert code == 0 and err == [] and json.loads(out)["totals"]["requests"] == 1
    assert not (tmp_path / "-").exists()
