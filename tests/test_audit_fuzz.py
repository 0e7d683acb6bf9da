"""Property tests for `aimlcat audit`: any log gives a report, never an exception.

Generated logs mix random bytes, arbitrary JSON values, valid bodies of catalog models
broken at random, envelopes and Batch lines, and timestamps in every form the audit
accepts and many it does not; files are plain, gzip, or gzip broken off. For each:
no exception, exit code 0, 1 or 2 (2 exactly when a file could not be read), the report's
counts add up with each other and with the bytes written, a run cut into tiny chunks
gives the same report and findings table as one chunk per file (also when the limits
on distinct keys and models are made tiny, so that keys are counted as "other"), and
no key planted
anywhere in the lines appears in the text or JSON report or in the table.

Bounded for CI (60 examples each). The long run, 100,000 inputs, as for tests/test_fuzz.py:
``AIMLCAT_FUZZ_EXAMPLES=100000 python -m pytest tests/test_audit_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import random
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimlcat import _audit, load_catalog
from aimlcat._audit import audit, parse_time, write_json, write_text
from aimlcat._cli import run
from aimlcat._samples import mutate, sample

CAT = load_catalog()
DEFS = CAT.defs()
PAIRS = [(m, p) for m in CAT.ids() if CAT.resolve(m) == m
         for p in CAT.model_record(m)["endpoints"]][::7]  # a spread of models, not all
EXAMPLES = int(os.environ.get("AIMLCAT_FUZZ_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: Keys as they leak into logs; the part after the first 8 characters must never be shown.
SECRETS = ["sk-proj-Zq8mN2vL5xR7tY1wB4cD6fH9", "Bearer eyJhbGciOiJIUzI1NiJ9xyzxyzxyz",
           "sk-ant-api03-QwErTyUiOpAsDfGhJk"]
TAILS = [s[8:].encode() for s in SECRETS]
secret = st.sampled_from(SECRETS)
# A key alone, or beside other text (what a model id, an endpoint or a URL may hold).
leaky = secret | st.builds(lambda a, k, b: a + k + b,
                           st.sampled_from(["", "x ", "/v1/", "key=", "gpt-4o?k="]), secret,
                           st.sampled_from(["", " y", "/z", "&a=1"]))
text = st.text(max_size=20) | leaky
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(text, children, max_size=5),
    max_leaves=20)

_offsets = st.builds(timezone, st.timedeltas(min_value=-timedelta(hours=23, minutes=59),
                                             max_value=timedelta(hours=23, minutes=59)))
_moments = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                        timezones=st.none() | st.just(UTC) | _offsets)


def _written(when: datetime, how: int) -> str:
    if how == 0:
        return when.isoformat()
    if how == 1:
        return when.isoformat().replace("+00:00", "Z")
    if how == 2:
        return when.isoformat(sep=" ").lower()
    return when.date().isoformat()


#: Timestamps in the accepted forms (RFC 3339 with offsets, fractions, a date alone, epoch
#: seconds as numbers and strings) and in many that are not (out of range, words, other types).
timestamps = st.one_of(
    st.builds(_written, _moments, st.integers(0, 3)),
    st.integers(-10**13, 10**13), st.floats(), st.integers(-10**13, 10**13).map(str),
    st.floats(allow_nan=False).map(repr), st.text(max_size=25), st.booleans(), st.none(),
    st.lists(st.integers(), max_size=2), st.sampled_from(
        ["2025-02-30", "2025-13-01T00:00:00Z", "0001-01-01T00:00:00+05:00",
         "9999-12-31T23:59:59-05:00", "nan", "-inf", "1e400", " 1755597600 ", "yesterday"]))

_ENDPOINTS = [None, *CAT.endpoints()[:6], "/chat/completions", "/v1/nope", "",
              "https://api.aimlapi.com/v1/chat/completions"]


@st.composite
def bodies(draw: st.DrawFn) -> Any:
    """A valid body of a catalog model, broken a few times; or any object with a model."""
    if draw(st.booleans()):
        mid, path = PAIRS[draw(st.integers(0, len(PAIRS) - 1))]
        rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
        body: Any = {**sample(CAT.endpoint_schema(mid, path), DEFS, rnd), "model": mid}
        for _ in range(draw(st.integers(0, 3))):
            body = mutate(body, rnd, keep=("model",))
        return body
    return {**draw(st.dictionaries(text, json_values, max_size=4)),
            "model": draw(st.sampled_from(CAT.ids()[:40]) | leaky | st.text(max_size=10))}


@st.composite
def log_lines(draw: st.DrawFn) -> bytes:
    """One line of a log (without its newline), in one of the shapes logs take."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=40))
    if kind == 1:
        return json.dumps(draw(json_values)).encode()
    if kind == 2:
        return draw(st.sampled_from([
            b"", b"   ", b"{", b"NaN", b'{"model": NaN}', b'{"model": "gpt-4o",}',
            b'{"model": Infinity, "messages": []}', b"\xff\xfe{}", b'{"a": "\xc3\x28"}',
            b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 3_000 + b"1" + b"}" * 3_000,
            b'{"model": "gpt-4o", "model": "' + SECRETS[0].encode() + b'"}',
            b'{"' + SECRETS[0].encode() + b'": 1, "' + SECRETS[0].encode() + b'": 2}',
            b"\xef\xbb\xbf" + b'{"model": "gpt-4o", "messages": []}']))
    body = draw(bodies())
    stamp: dict[str, Any] = {"timestamp": draw(timestamps)} if draw(st.booleans()) else {}
    shape = draw(st.integers(0, 3))
    if shape == 0:
        doc: Any = {**body, **stamp} if isinstance(body, dict) else body
    elif shape == 1:
        doc = {**stamp, "endpoint": draw(st.sampled_from(_ENDPOINTS) | leaky), "body": body}
    elif shape == 2:
        doc = {"custom_id": "r", "method": "POST", "url": draw(st.sampled_from(_ENDPOINTS)),
               "body": body, **stamp}
    else:
        doc = {**stamp, "endpoint": "/v1/chat/completions",
               "headers": {"Authorization": draw(secret)}, "body": body,
               draw(st.sampled_from(["api_key", "apiKey", "x-api-key"])): draw(secret)}
    return json.dumps(doc, ensure_ascii=draw(st.booleans())).encode()


@st.composite
def logs(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    """1-3 log files as (name, bytes written): plain, gzip, or gzip broken."""
    files = []
    for i in range(draw(st.integers(1, 3))):
        lines = draw(st.lists(log_lines(), max_size=12))
        data = draw(st.sampled_from([b"\n", b"\r\n"])).join(lines)
        newline_at_end: bool = draw(st.booleans())
        if lines and newline_at_end:
            data += b"\n"
        how = draw(st.sampled_from(["plain", "plain", "gz", "gz-cut", "gz-fake"]))
        if how == "plain":
            files.append((f"f{i}.jsonl", data))
            continue
        packed = gzip.compress(data, mtime=0)
        if how == "gz-cut":
            packed = packed[:draw(st.integers(0, max(0, len(packed) - 1)))]
        elif how == "gz-fake":
            packed = data
        files.append((f"f{i}.jsonl.gz", packed))
    return files


@contextlib.contextmanager
def written(files: list[tuple[str, bytes]]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        for name, data in files:
            (Path(d) / name).write_bytes(data)
        yield Path(d)


def _expected_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _check_totals(doc: dict[str, Any], files: list[tuple[str, bytes]]) -> None:
    t = doc["totals"]
    assert t["records"] == t["requests"] + t["bad_lines"] + t["before_since"]
    assert t["records"] <= t["lines"] == sum(f["lines"] for f in doc["files"])
    assert t["flagged"] <= t["records"]
    assert t["bad_timestamps"] <= t["undated"] <= t["requests"] + t["bad_lines"]
    assert t["findings"] == sum(c["count"] for c in doc["by_code"]) \
        == sum(f["count"] for f in doc["findings"])
    assert sum(m["requests"] for m in doc["by_model"]) <= t["requests"]
    assert (t["first_seen"] is None) == (t["last_seen"] is None)
    if t["first_seen"] is not None:
        first, last = parse_time(t["first_seen"]), parse_time(t["last_seen"])
        assert first is not None and last is not None and first <= last
    for entry, (name, data) in zip(doc["files"], files, strict=True):
        if entry["error"] is None and not name.endswith(".gz"):
            assert entry["lines"] == _expected_lines(data), name
    for f in doc["findings"]:
        assert 0 < f["count"] <= f["occurrences"] and f["undated"] <= f["count"]
        assert len(f["samples"]) <= min(5, f["count"])
        assert f["samples"] == sorted(f["samples"], key=lambda s: (s["file"], s["line"]))


def _no_secret(*outputs: bytes) -> None:
    for out in outputs:
        for tail in TAILS:
            assert tail not in out, (tail, out[:2000])


@contextlib.contextmanager
def limits(keys: int | None) -> Iterator[None]:
    """The key limits made tiny (``keys``), so that the generated logs pass them."""
    if keys is None:
        yield
        return
    saved = _audit.KEYS_PER_CODE, _audit.MODELS_KEPT
    _audit.KEYS_PER_CODE = _audit.MODELS_KEPT = keys
    try:
        yield
    finally:
        _audit.KEYS_PER_CODE, _audit.MODELS_KEPT = saved


@SETTINGS
@given(files=logs(), since=st.none() | st.sampled_from(["2025-01-01", "1755597600"]),
       blocksize=st.integers(1, 200), keys=st.none() | st.integers(1, 3))
def test_any_log_gives_a_report(files: list[tuple[str, bytes]], since: str | None,
                                blocksize: int, keys: int | None) -> None:
    with written(files) as d, limits(keys):
        paths = [str(d / name) for name, _ in files]
        argv = ["audit", *paths, "-j", "1", "--no-progress"]
        if since:
            argv += ["--since", since]
        outs = {}
        for fmt in ("text", "json"):
            out = io.StringIO()
            with contextlib.redirect_stderr(io.StringIO()) as err:
                code = run([*argv, "--format", fmt, "--findings-out", str(d / "rows.jsonl")],
                           out=out)
            outs[fmt] = out.getvalue()
            assert code in (0, 1, 2)
            errors = err.getvalue().splitlines()
            assert (code == 2) == bool(errors), err.getvalue()
            assert all(line.startswith(f"aimlcat: {d}") for line in errors), errors
        doc = json.loads(outs["json"])
        _check_totals(doc, files)
        assert len(errors) == sum(1 for f in doc["files"] if f["error"] is not None)
        table = (d / "rows.jsonl").read_bytes()
        assert len(table.splitlines()) == sum(f["occurrences"] for f in doc["findings"])
        _no_secret(outs["text"].encode(), outs["json"].encode(), table)

        # The same logs cut into chunks of a few bytes: the same report, the same table.
        since_us = parse_time(since) if since else None
        chunked = audit(paths, jobs=1, since=since_us, blocksize=blocksize,
                        findings_out=str(d / "rows2.jsonl"))
        assert chunked.to_dict() == doc
        assert (d / "rows2.jsonl").read_bytes() == table
        for writer, fmt in ((write_json, "json"), (write_text, "text")):
            buf = io.StringIO()
            writer(chunked, buf)
            assert buf.getvalue() == outs[fmt]


@SETTINGS
@given(value=timestamps)
def test_any_timestamp_is_read_or_refused(value: Any) -> None:
    from aimlcat._audit import format_time

    us = parse_time(value)
    if us is not None:
        text = format_time(us)
        assert text is not None and parse_time(text) == us
