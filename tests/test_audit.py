"""`aimlcat audit`: request logs checked and aggregated, on the local engine and on Dask.

A generated log of 20,000 lines (plain, gzip and NDJSON files; envelopes, Batch lines and
bare bodies; timestamps over a year as RFC 3339 and epoch seconds, some missing, some
unreadable) carries planted findings whose counts, dates and lines the generator records.
The report must give exactly those, and every engine and split must give the same report
and the same findings table. The 200,000-line run is behind `-m scale`.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from aimlcat._audit import AuditReport, audit, format_time, parse_time
from aimlcat._exceptions import UsageError
from aimlcat._payloads import BadLine, iter_records

HELLO = [{"role": "user", "content": "hi"}]
CHAT = "/v1/chat/completions"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
YEAR_START = int((datetime(2025, 1, 1, tzinfo=UTC) - EPOCH).total_seconds())
YEAR = 365 * 86400
SINCE = "2025-07-01"
SINCE_US = int((datetime(2025, 7, 1, tzinfo=UTC) - EPOCH).total_seconds()) * 1_000_000

#: (code, model, endpoint, parameter) of each planted kind of finding.
KEYS = {
    "AML302": ("AML302", "gpt-4o", CHAT, "max_tokens"),
    "AML103": ("AML103", "dall-e-3", None, None),
    "AML303": ("AML303", "o3-mini", CHAT, "temperature"),
    "AML301": ("AML301", "gpt-4o", CHAT, "temperatur"),
    "AML102": ("AML102", "gpt-4.0", None, None),
    "AML003": ("AML003", None, None, None),
}


@dataclass
class Planted:
    """What the generator wrote: the files, and every line that should give a finding."""

    files: list[str]
    lines: int = 0
    blank: int = 0
    bad_timestamps: int = 0
    #: Every record's timestamp (µs; None: undated) and, if planted, its finding's code.
    records: list[tuple[str, int, int | None, str | None]] = field(default_factory=list)

    def findings(self, since: int | None = None) -> list[tuple[str, int, str, int | None]]:
        """(file, line, code, timestamp) of the findings a run with ``since`` reports."""
        return [(f, n, code, ts) for f, n, ts, code in self.records
                if code is not None and (since is None or ts is None or ts >= since)]


def _stamp(rnd: random.Random, planted: Planted, bad: bool) -> tuple[Any, int | None]:
    """A timestamp as a log would write it, and its value in µs (None: undated)."""
    r = rnd.random()
    if bad:
        return None, None
    if r < 0.08:
        return None, None  # no timestamp at all
    if r < 0.12:
        planted.bad_timestamps += 1
        return rnd.choice(["yesterday", "2025-13-01T00:00:00Z", True, [1]]), None
    seconds = YEAR_START + rnd.randrange(YEAR)
    if r < 0.5:
        return seconds, seconds * 1_000_000  # epoch seconds
    us = seconds * 1_000_000 + rnd.randrange(1000) * 1000
    when = EPOCH + timedelta(microseconds=us)
    if r < 0.75:
        return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", us
    return when.astimezone(timezone(timedelta(hours=2))).isoformat(), us


def _line(rnd: random.Random, kind: str, n: int, ts: Any) -> str:
    shape = n % 3  # envelope, Batch line, bare body in turn
    if kind == "AML003":
        return '{"model": "gpt-4o", "messages": ['  # cut short
    if kind == "AML302":
        body: dict[str, Any] = {"model": "gpt-4o", "messages": HELLO, "max_tokens": 64}
    elif kind == "AML103":
        body, shape = {"model": "dall-e-3", "prompt": "a lighthouse"}, 2
    elif kind == "AML303":
        body = {"model": "o3-mini", "messages": HELLO, "temperature": 0.2}
    elif kind == "AML301":
        body = {"model": "gpt-4o", "messages": HELLO, "temperatur": 0.2}
    elif kind == "AML102":
        body, shape = {"model": "gpt-4.0", "messages": HELLO}, 2
    else:
        body = {"model": "gpt-4o", "messages": HELLO, "max_completion_tokens": 64}
    extra = {} if ts is None else {"timestamp": ts}
    if shape == 0:
        doc: dict[str, Any] = {**extra, "endpoint": CHAT, "body": body}
    elif shape == 1:
        doc = {"custom_id": f"r{n}", "method": "POST", "url": CHAT, "body": body, **extra}
    else:
        doc = {**body, **extra}
    return json.dumps(doc)


def make_logs(root: Path, total: int, seed: int = 7) -> Planted:
    """``total`` lines over three files (40 % plain .jsonl, 30 % .jsonl.gz, 30 % .ndjson)."""
    rnd = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    names = ["a.jsonl", "b.jsonl.gz", "c.ndjson"]
    sizes = [total * 4 // 10, total * 3 // 10]
    sizes.append(total - sum(sizes))
    planted = Planted(files=[str(root / name) for name in names], lines=total)
    kinds = [(0.02, "blank"), (0.04, "AML003"), (0.14, "AML302"), (0.19, "AML103"),
             (0.23, "AML303"), (0.27, "AML301"), (0.29, "AML102"), (1.0, "clean")]
    for path, size in zip(planted.files, sizes, strict=True):
        out = []
        for n in range(1, size + 1):
            r = rnd.random()
            kind = next(k for bound, k in kinds if r < bound)
            if kind == "blank":
                planted.blank += 1
                out.append("")
                continue
            ts, us = _stamp(rnd, planted, bad=kind == "AML003")
            out.append(_line(rnd, kind, n, ts))
            planted.records.append((path, n, us, None if kind == "clean" else kind))
        data = ("\n".join(out) + "\n").encode()
        if path.endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        Path(path).write_bytes(data)
    return planted


# -- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    return make_logs(tmp_path_factory.mktemp("logs"), 20_000)


@pytest.fixture(scope="module")
def reference(logs: Planted, tmp_path_factory: pytest.TempPathFactory,
              ) -> tuple[dict[str, Any], bytes]:
    """One process, one chunk per file: the report and the findings table to compare with."""
    table = tmp_path_factory.mktemp("ref") / "findings.jsonl"
    report = audit(logs.files, jobs=1, findings_out=str(table))
    return report.to_dict(), table.read_bytes()


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A small in-process Dask cluster (threads), shared by the tests of this module."""
    distributed = pytest.importorskip("distributed")
    # TCP on the loopback (not in-process addresses): a CLI test's subprocess connects to it.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield client


# -- the planted findings --------------------------------------------------------------------

def _keyed(doc: dict[str, Any]) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {(f["code"], f["model"], f["endpoint"], f["parameter"]): f for f in doc["findings"]}


def _check_planted(doc: dict[str, Any], logs: Planted, since: int | None = None) -> None:
    found = logs.findings(since)
    keyed = _keyed(doc)
    assert set(keyed) == {KEYS[code] for _, _, code, _ in found}
    for code, key in KEYS.items():
        mine = [(f, n, ts) for f, n, c, ts in found if c == code]
        entry = keyed[key]
        dated = [ts for _, _, ts in mine if ts is not None]
        assert entry["count"] == entry["occurrences"] == len(mine), code
        assert entry["undated"] == len(mine) - len(dated), code
        assert entry["first_seen"] == format_time(min(dated, default=None)), code
        assert entry["last_seen"] == format_time(max(dated, default=None)), code
        order = {f: i for i, f in enumerate(logs.files)}
        first5 = sorted(mine, key=lambda x: (order[x[0]], x[1]))[:5]
        assert entry["samples"] == [{"file": f, "line": n} for f, n, _ in first5], code
    t = doc["totals"]
    records = [r for r in logs.records
               if since is None or r[2] is None or r[2] >= since]
    assert t["lines"] == logs.lines
    assert t["records"] == len(logs.records)
    assert t["before_since"] == len(logs.records) - len(records)
    assert t["bad_lines"] == sum(1 for r in records if r[3] == "AML003")
    assert t["requests"] == len(records) - t["bad_lines"]
    assert t["undated"] == sum(1 for r in records if r[2] is None)
    assert t["flagged"] == len(found)
    by_code = {c["code"]: c["count"] for c in doc["by_code"]}
    assert by_code == {code: sum(1 for x in found if x[2] == code) for code in KEYS}
    assert [f["path"] for f in doc["files"]] == logs.files
    assert all(f["error"] is None for f in doc["files"])
    model_of = {"AML302": "gpt-4o", "AML301": "gpt-4o", None: "gpt-4o", "AML103": "dall-e-3",
                "AML303": "o3-mini", "AML102": "gpt-4.0", "AML003": None}
    by_model = {m["model"]: (m["flagged"], m["requests"]) for m in doc["by_model"]}
    assert by_model == {model: (sum(1 for r in records if r[3] and model_of[r[3]] == model),
                                sum(1 for r in records if model_of[r[3]] == model))
                        for model in set(model_of.values()) - {None}}


def test_planted_findings_are_counted_exactly(logs: Planted,
                                              reference: tuple[dict[str, Any], bytes]) -> None:
    doc, _ = reference
    _check_planted(doc, logs)
    assert doc["totals"]["bad_timestamps"] == logs.bad_timestamps
    keyed = _keyed(doc)
    assert keyed[KEYS["AML303"]]["since"] == "2025-09-18"  # the catalog's removal date
    assert keyed[KEYS["AML103"]]["since"] == "2026-06-09"
    assert "max_completion_tokens" in keyed[KEYS["AML302"]]["hint"]
    assert keyed[KEYS["AML003"]]["message"].startswith("the line is not a JSON request")
    by_param = {p["parameter"]: p["count"] for p in doc["by_parameter"]}
    assert set(by_param) == {"max_tokens", "temperature", "temperatur"}


def test_findings_table_has_one_row_per_planted_finding(
        logs: Planted, reference: tuple[dict[str, Any], bytes]) -> None:
    _, table = reference
    rows = [json.loads(line) for line in table.splitlines()]
    assert [(r["file"], r["line"], r["code"]) for r in rows] == \
        [(f, n, code) for f, n, code, _ in logs.findings()]
    by_line = {(f, n): ts for f, n, _, ts in logs.findings()}
    assert all(r["timestamp"] == format_time(by_line[(r["file"], r["line"])]) for r in rows)
    assert set(rows[0]) == {"file", "line", "timestamp", "model", "endpoint", "code",
                            "severity", "parameter", "pointer", "message"}
    pointers = {(r["code"], r["pointer"]) for r in rows}
    assert ("AML302", "/body/max_tokens") in pointers  # into the line as written
    assert ("AML302", "/max_tokens") in pointers  # a bare body


def test_since_keeps_later_and_undated_lines(logs: Planted) -> None:
    doc = audit(logs.files, jobs=1, since=SINCE_US).to_dict()
    assert doc["since"] == "2025-07-01T00:00:00Z"
    _check_planted(doc, logs, SINCE_US)
    assert doc["totals"]["before_since"] > 1000


def test_chunks_and_processes_give_the_same_report_and_table(
        logs: Planted, reference: tuple[dict[str, Any], bytes], tmp_path: Path) -> None:
    table = tmp_path / "findings.jsonl"
    report = audit(logs.files, jobs=2, blocksize=64 * 1024, findings_out=str(table))
    assert report.to_dict() == reference[0]
    assert table.read_bytes() == reference[1]
    assert len(report.partial.chunk_lines) > 10  # the plain files were really split


def test_dask_gives_the_same_report_and_table(
        logs: Planted, reference: tuple[dict[str, Any], bytes], tmp_path: Path,
        dask_client: Any) -> None:
    report = audit(logs.files, engine="dask", client=dask_client, blocksize=64 * 1024)
    assert report.to_dict() == reference[0]
    table = tmp_path / "findings.jsonl"
    audit(logs.files, engine="dask", client=dask_client, blocksize=200 * 1024,
          findings_out=str(table))
    assert table.read_bytes() == reference[1]


def test_dask_since_and_parquet_table(logs: Planted, tmp_path: Path, dask_client: Any) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "findings.parquet"
    report = audit(logs.files, engine="dask", client=dask_client, since=SINCE_US,
                   blocksize=128 * 1024, findings_out=str(out))
    assert report.to_dict() == audit(logs.files, jobs=1, since=SINCE_US).to_dict()
    table = pq.read_table(out)
    assert table.column_names == ["file", "line", "timestamp", "model", "endpoint", "code",
                                  "severity", "parameter", "pointer", "message"]
    rows = table.to_pylist()
    expected = logs.findings(SINCE_US)
    assert [(r["file"], r["line"], r["code"]) for r in rows] == \
        [(f, n, c) for f, n, c, _ in expected]
    stamps = [None if r["timestamp"] is None else
              (r["timestamp"] - EPOCH) // timedelta(microseconds=1) for r in rows]
    assert stamps == [ts for _, _, _, ts in expected]


@pytest.mark.scale
def test_200k_lines_local_and_dask_agree(tmp_path: Path, dask_client: Any) -> None:
    logs = make_logs(tmp_path / "logs", 200_000, seed=11)
    local = audit(logs.files, blocksize=4 * 1024 * 1024).to_dict()
    _check_planted(local, logs)
    assert audit(logs.files, engine="dask", client=dask_client,
                 blocksize=2 * 1024 * 1024).to_dict() == local


# -- the pieces ------------------------------------------------------------------------------

def test_byte_ranges_tile_a_file(tmp_path: Path) -> None:
    lines = [b'\xef\xbb\xbf{"model": "gpt-4o"}', b"", b'{"model": "x"}', b"not json",
             b'{"model": "' + b"y" * 300 + b'"}', b"", b"", b'{"model": "z"}']
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"\r\n".join(lines))  # CRLF, and no newline at the end
    whole = list(iter_records(str(path)))
    size = path.stat().st_size
    for step in (1, 7, 20, 64, 400, size):
        got: list[tuple[int, bool]] = []
        first = 0
        for start in range(0, size, step):
            gen = iter_records(str(path), start=start, end=min(start + step, size))
            while True:
                try:
                    n, item = next(gen)
                except StopIteration as stop:
                    first += stop.value
                    break
                got.append((first + n, isinstance(item, BadLine)))
        assert first == len(lines), step
        assert got == [(n, isinstance(item, BadLine)) for n, item in whole], step


@pytest.mark.parametrize(("value", "expected"), [
    ("2025-08-19", "2025-08-19T00:00:00Z"),
    ("2025-08-19T10:00:00Z", "2025-08-19T10:00:00Z"),
    ("2025-08-19t10:00:00.250z", "2025-08-19T10:00:00.25Z"),
    ("2025-08-19T12:00:00+02:00", "2025-08-19T10:00:00Z"),
    ("2025-08-19 10:00:00", "2025-08-19T10:00:00Z"),
    (1755597600, "2025-08-19T10:00:00Z"),
    (1755597600.5, "2025-08-19T10:00:00.5Z"),
    ("1755597600", "2025-08-19T10:00:00Z"),
    ("yesterday", None), (True, None), (None, None), ([], None), (float("nan"), None),
    (1e20, None), ("2025-02-30", None),
])
def test_timestamps(value: Any, expected: str | None) -> None:
    assert format_time(parse_time(value)) == expected


def test_dask_is_imported_only_for_the_dask_engine(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"model": "gpt-4o", "messages": HELLO}) + "\n")
    code = ("import sys; from aimlcat._cli import run; "
            f"rc = run(['audit', {str(log)!r}, '-j', '1']); "
            "print(rc, sorted(m for m in ('dask', 'distributed', 'pyarrow') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                          text=True, timeout=120, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "0 []"


# -- the command -----------------------------------------------------------------------------

def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AIMLCAT_SCHEMAS"}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_audit(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aimlcat", "audit", *argv], check=False,
                          cwd=cwd, env=_env(), capture_output=True, text=True,
                          encoding="utf-8", timeout=180)


def test_cli_local_writes_report_and_parquet(logs: Planted, reference: tuple[dict[str, Any],
                                                                            bytes],
                                             tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    proc = run_audit(*logs.files, "-j", "2", "--blocksize", "100KiB", "--format", "json",
                     "-o", "report.json", "--findings-out", "rows.parquet", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # errors among the findings
    assert proc.stdout == ""
    assert json.loads((tmp_path / "report.json").read_text()) == reference[0]
    assert pq.read_table(tmp_path / "rows.parquet").num_rows == len(logs.findings())
    proc = run_audit(*logs.files, "--since", SINCE, "--select", "AML302", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr  # warnings only: below the fail level
    assert "Deprecated and removed" in proc.stdout
    assert "AML302 warning gpt-4o /v1/chat/completions `max_tokens`" in proc.stdout
    assert "AML303" not in proc.stdout
    assert "since 2025-07-01T00:00:00Z" in proc.stdout
    proc = run_audit(*logs.files, "--select", "AML302", "--fail-level", "warning",
                     "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1
    assert [c["code"] for c in json.loads(proc.stdout)["by_code"]] == ["AML302"]


def test_cli_dask_on_a_given_scheduler(logs: Planted,
                                       reference: tuple[dict[str, Any], bytes],
                                       tmp_path: Path, dask_client: Any) -> None:
    address = dask_client.scheduler.address
    proc = run_audit(*logs.files, "--scheduler", address, "--blocksize", "128KiB",
                     "--format", "json", "--findings-out", "rows.jsonl.gz", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout) == reference[0]
    assert gzip.decompress((tmp_path / "rows.jsonl.gz").read_bytes()) == reference[1]


def test_cli_dask_local_cluster(tmp_path: Path) -> None:
    """The default Dask engine: a LocalCluster of worker processes, started and stopped."""
    pytest.importorskip("distributed")
    small = make_logs(tmp_path / "logs", 300, seed=3)
    local = run_audit(*small.files, "--format", "json", "-j", "1", cwd=tmp_path)
    dask = run_audit(*small.files, "--format", "json", "--engine", "dask", "-j", "1",
                     cwd=tmp_path)
    assert dask.returncode == local.returncode == 1, dask.stderr
    assert json.loads(dask.stdout) == json.loads(local.stdout)


def test_cli_unreadable_files_are_one_line_each_and_the_rest_is_audited(
        tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"model": "gpt-4o", "messages": HELLO, "max_tokens": 5}) + "\n")
    full = gzip.compress(b"".join(
        json.dumps({"model": "gpt-4o", "messages": HELLO}).encode() + b"\n"
        for _ in range(2000)), mtime=0)
    (tmp_path / "cut.jsonl.gz").write_bytes(full[: len(full) // 2])
    (tmp_path / "fake.jsonl.gz").write_text("not gzip\n")
    proc = run_audit("good.jsonl", "missing.jsonl", "cut.jsonl.gz", "fake.jsonl.gz",
                     "--format", "json", cwd=tmp_path)
    assert proc.returncode == 2
    errors = proc.stderr.splitlines()
    assert len(errors) == 3, proc.stderr
    assert errors[0] == "aimlcat: missing.jsonl: no such file"
    assert errors[1].startswith("aimlcat: cut.jsonl.gz: unreadable after line ")
    assert errors[2].startswith("aimlcat: fake.jsonl.gz: cannot read")
    assert "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    assert [f["code"] for f in doc["findings"]] == ["AML302"]
    files = {f["path"]: f for f in doc["files"]}
    assert files["good.jsonl"]["lines"] == 1 and files["good.jsonl"]["error"] is None
    assert 0 < files["cut.jsonl.gz"]["lines"] < 2000  # what could be read was read


@pytest.mark.parametrize(("argv", "message"), [
    (["--since", "last tuesday"], "--since 'last tuesday': not a date"),
    (["--engine", "local", "--scheduler", "tcp://127.0.0.1:1"], "use it with --engine dask"),
    (["--blocksize", "lots"], "not a size"),
    (["--max-bytes", "0"], "--max-bytes: expected a whole number of at least 1, not '0'"),
    (["--jobs", "-2"], "-j/--jobs: expected a whole number of at least 0, not '-2'"),
    (["--samples", "-1"], "--samples: expected a whole number of at least 0"),
    (["--findings-out", "no/such/dir/rows.jsonl"], "cannot write no/such/dir/rows.jsonl"),
])
def test_cli_usage_errors(tmp_path: Path, argv: list[str], message: str) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"model": "gpt-4o", "messages": HELLO}) + "\n")
    proc = run_audit("log.jsonl", *argv, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_strict_fails_on_warnings_as_lint_does(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"model": "gpt-4o", "messages": HELLO, "max_tokens": 5}) + "\n")
    assert run_audit("log.jsonl", cwd=tmp_path).returncode == 0  # a warning only
    proc = run_audit("log.jsonl", "--strict", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    # --strict is --fail-level warning: another level with it is a usage error, as in
    # lint (it used to win in silence); the same level is accepted.
    proc = run_audit("log.jsonl", "--strict", "--fail-level", "error", cwd=tmp_path)
    assert proc.returncode == 2
    assert "--strict means --fail-level warning" in proc.stderr
    assert "--fail-level error" in proc.stderr and "Traceback" not in proc.stderr
    assert run_audit("log.jsonl", "--strict", "--fail-level", "warning",
                     cwd=tmp_path).returncode == 1


def test_cli_text_report_counts_in_english(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"model": "gpt-4o", "messages": HELLO, "max_tokens": 5}) + "\n")
    head = run_audit("log.jsonl", cwd=tmp_path).stdout.splitlines()[:4]
    assert head[0].startswith("aimlcat audit: 1 line in 1 file (catalog ")
    assert head[1:] == ["  1 request checked, 0 lines not JSON",
                        "  1 line without a timestamp, checked",
                        "  1 line with findings (100.0 %)"]


def test_cli_a_directory_without_logs_is_a_usage_error(tmp_path: Path) -> None:
    """As `lint` on a folder without payloads: exit 2 and say what was looked for,
    never an empty report that exits 0 as if the logs were clean."""
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "notes.txt").write_text("not a log\n")
    proc = run_audit("logs", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "no request logs found (*.jsonl, *.ndjson and their .gz)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_directories_are_searched_for_logs(tmp_path: Path) -> None:
    (tmp_path / "logs" / "2025").mkdir(parents=True)
    body = json.dumps({"model": "dall-e-3", "prompt": "x"}) + "\n"
    (tmp_path / "logs" / "2025" / "a.jsonl").write_text(body)
    (tmp_path / "logs" / "b.ndjson.gz").write_bytes(gzip.compress(body.encode()))
    (tmp_path / "logs" / "notes.txt").write_text("not a log\n")
    (tmp_path / "logs" / ".hidden.jsonl").write_text("not json\n")
    report: AuditReport = audit([str(tmp_path / "logs")], jobs=1)
    assert [os.path.relpath(f, tmp_path) for f in report.files] == [
        os.path.join("logs", "b.ndjson.gz"), os.path.join("logs", "2025", "a.jsonl")]
    assert report.to_dict()["by_code"][0]["count"] == 2


def test_fsspec_urls_are_read_like_paths(logs: Planted, reference: tuple[dict[str, Any], bytes],
                                         dask_client: Any) -> None:
    """Logs named by URL (what a cluster's workers reach: s3://, gs://, a shared file://)."""
    fsspec = pytest.importorskip("fsspec")
    urls = [Path(f).as_uri() for f in logs.files]
    as_paths = dict(zip(urls, logs.files, strict=True))
    for engine in ("local", "dask"):
        doc = audit(urls, engine=engine, client=dask_client, jobs=1,
                    blocksize=256 * 1024).to_dict()
        for f in doc["files"]:
            f["path"] = as_paths[f["path"]]
        for entry in doc["findings"]:
            for s in entry["samples"]:
                s["file"] = as_paths[s["file"]]
        assert doc == reference[0], engine
    # A directory URL is searched like a directory; memory:// needs no disk at all.
    mem = fsspec.filesystem("memory")
    mem.pipe("/audit-test/logs/x.jsonl", b'{"model": "dall-e-3", "prompt": "x"}\n')
    mem.pipe("/audit-test/logs/notes.txt", b"not a log\n")
    report = audit(["memory://audit-test/logs", "memory://audit-test/missing.jsonl"], jobs=1)
    assert report.files == ("memory:///audit-test/logs/x.jsonl",
                            "memory://audit-test/missing.jsonl")
    assert report.errors() == [("memory://audit-test/missing.jsonl", "no such file")]
    assert [c["code"] for c in report.to_dict()["by_code"]] == ["AML103"]


def test_dask_refuses_a_worker_without_this_aimlcat(tmp_path: Path) -> None:
    """A worker that cannot import aimlcat's audit would make Dask retry for ever: the
    environment is checked first, and the answer is one clear error."""
    distributed = pytest.importorskip("distributed")
    other = tmp_path / "other" / "aimlcat"  # an aimlcat without the audit module
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("")
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"model": "gpt-4o", "messages": HELLO}) + "\n")
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        env = {**_env(), "PYTHONPATH": str(other.parent)}
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
             "--nthreads", "1", "--no-dashboard", "--local-directory", str(tmp_path)],
            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client.wait_for_workers(1, timeout=60)
            with pytest.raises(UsageError, match="cannot run aimlcat audit .*No module named "
                               "'aimlcat._audit'.*install this aimlcat"):
                audit([str(log)], engine="dask", client=client)
        finally:
            worker.terminate()
            worker.wait(timeout=30)


@pytest.mark.parametrize(("blocked", "argv", "message"), [
    ("dask", ["--engine", "dask"], "--engine dask needs Dask: pip install 'aimlcat[dask]'"),
    ("pyarrow", ["--findings-out", "rows.parquet"],
     "writing Parquet needs pyarrow: pip install 'aimlcat[dask]'"),
])
def test_without_the_extra_one_line_says_what_to_install(tmp_path: Path, blocked: str,
                                                         argv: list[str], message: str) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"model": "gpt-4o", "messages": HELLO}) + "\n")
    # None in sys.modules makes the import fail, as when the package is not installed.
    code = (f"import sys; sys.modules[{blocked!r}] = None; from aimlcat._cli import run; "
            f"sys.exit(run(['audit', 'log.jsonl', '-j', '1', *{argv!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                          text=True, timeout=120, env=_env(), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"aimlcat: {message}" + (
        " (dask[distributed])" if blocked == "dask" else
        " (or pyarrow); a .jsonl file needs nothing more")
    assert not (tmp_path / "rows.parquet").exists()


def test_an_envelope_naming_two_endpoints_is_reported_as_lint_reports_it(
        tmp_path: Path) -> None:
    """`endpoint` and `url` that disagree: the audit says so (AML204 on `url`, the body
    checked against `endpoint`), with the lint's words; two spellings of one endpoint
    agree."""
    hello = [{"role": "user", "content": "hi"}]
    log = tmp_path / "requests.jsonl"
    log.write_text("\n".join(json.dumps(doc) for doc in [
        {"endpoint": "/v1/chat/completions", "url": "https://api.aimlapi.com/v1/embeddings",
         "body": {"model": "gpt-4o", "messages": hello}},
        {"endpoint": "/chat/completions", "url": "https://api.aimlapi.com/v1/chat/completions",
         "body": {"model": "gpt-4o", "messages": hello}},
    ]) + "\n")
    table = tmp_path / "findings.jsonl"
    audit([str(log)], jobs=1, findings_out=str(table))
    rows = [json.loads(line) for line in table.read_text().splitlines()]
    assert [(r["line"], r["code"], r["pointer"], r["message"]) for r in rows] == [
        (1, "AML204", "/url", ("the envelope's `url` names /v1/embeddings but its "
                               "`endpoint` names /v1/chat/completions; the body is "
                               "checked against `endpoint`"))]
    lint = subprocess.run([sys.executable, "-m", "aimlcat", "lint", "--format", "json",
                           str(log)], capture_output=True, text=True, check=False)
    linted = json.loads(lint.stdout)
    assert [(f["line"], f["code"], f["message"]) for f in linted["files"][0]["findings"]] \
        == [(1, "AML204", rows[0]["message"])]
