"""``aimlcat audit``: request logs at any scale, checked and aggregated.

A request log is JSON Lines (plain or ``.gz``): each line a body, an envelope
(``endpoint``/``url`` and ``body``) or an OpenAI Batch line, read by
:func:`aimlcat._payloads.iter_records` and checked by the catalog exactly as
``aimlcat lint`` checks it. An optional ``timestamp`` (RFC 3339 or epoch
seconds) dates a line: on an envelope it sits beside ``body``; on a bare body
it is a top-level key, taken as the log's and not checked as a parameter.

The work is split into :class:`Chunk` s: a ``.gz`` file is one (a gzip stream
cannot be entered in the middle), a plain file is cut into byte ranges whose
lines are those that *begin* in the range. :func:`audit_chunk` turns one chunk
into a :class:`Partial`, an aggregate whose :meth:`Partial.merge` is associative
and commutative: counts add, first/last times take the min/max, samples keep the
first N line references in (file, line) order, line numbers stay relative to
their chunk until the end (each chunk also counts its lines, so the offsets are
known once every chunk is in). The local engine (a process pool) and the Dask
engine (:mod:`aimlcat._audit_dask`, a ``dask.bag`` of the same chunks reduced by
the same merge) therefore give the same report, byte for byte.

Memory is bounded by the number of distinct (code, model, endpoint, parameter)
keys, not by the number of lines: a chunk is streamed a line at a time, and the
full findings table (``--findings-out``) is written as chunks arrive, in order.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import IO, Any

from ._exceptions import PayloadError, UsageError
from ._findings import RULES
from ._payloads import DEFAULT_MAX_BYTES, BadLine, iter_records, named_twice
from ._secrets import redact, redact_pointer

__all__ = [
    "AuditContext",
    "AuditReport",
    "Chunk",
    "Partial",
    "RowSpool",
    "add_arguments",
    "audit",
    "audit_chunk",
    "expand_paths",
    "format_time",
    "merge_all",
    "parse_time",
    "plan_chunks",
    "run",
    "versions",
]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
_RANK = {"error": 2, "warning": 1, "info": 0}

#: A line, before its chunk's offset is known: (file index, chunk index, line in chunk).
Ref = tuple[int, int, int]
#: What findings are counted by: (code, model, endpoint, parameter); "" for none.
Key = tuple[str, str, str, str]
#: One finding of the full table, as a worker returns it (line relative to its chunk):
#: (ref, timestamp µs or None, model, endpoint, code, severity, parameter, pointer, message).
Row = tuple[Ref, int | None, str, str, str, str, str, str, str]

DEFAULT_BLOCKSIZE = 64 * 1024 * 1024
DEFAULT_SAMPLES = 5
#: Codes whose findings are about something going away; the report lists them with dates.
RETIRING = ("AML103", "AML104", "AML203", "AML302", "AML303")
_LOG_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
_LONGEST = 200  # model ids and endpoints taken from a log are cut to this many characters
#: Distinct (model, endpoint, parameter) keys kept per code, and distinct models: past them
#: the keys that sort last are counted together under OTHER, so that a log of endless
#: made-up parameter names or model ids cannot take all memory. Keeping the first keys in
#: sort order (not the most frequent) is what keeps the merge exact: the keys kept are the
#: same whichever way the chunks are grouped, and so is the report.
KEYS_PER_CODE = 1_000
MODELS_KEPT = 10_000
#: The model, endpoint and parameter of the keys counted together (text from a log never
#: equals it: :func:`_shown` writes a NUL as U+FFFD).
OTHER = "\x00"


# -- time ------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_S, _MAX_S = -62135596800, 253402300799  # 0001-01-01 .. 9999-12-31T23:59:59 UTC


def parse_time(value: Any) -> int | None:
    """A log timestamp as microseconds since the epoch; None if it is not one.

    RFC 3339 (``2025-08-19T10:00:00Z``, an offset, fractions; a date alone is
    midnight UTC; no offset means UTC) or epoch seconds (a number, or a string
    of one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds: float = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            try:
                when = datetime.fromisoformat(text.upper())
            except ValueError:
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            us = (when - _EPOCH) // timedelta(microseconds=1)
            # An offset can carry 0001-01-01 or 9999-12-31 past what a datetime holds in UTC.
            return us if _MIN_S * 1_000_000 <= us <= _MAX_S * 1_000_000 + 999_999 else None
    else:
        return None
    if not _MIN_S <= seconds <= _MAX_S:  # (also false for NaN)
        return None
    return value * 1_000_000 if isinstance(value, int) else round(seconds * 1_000_000)


def format_time(us: int | None) -> str | None:
    """Microseconds since the epoch as RFC 3339 in UTC (``...Z``)."""
    if us is None:
        return None
    when = _EPOCH + timedelta(microseconds=us)
    text = f"{when.year:04d}" + when.strftime("-%m-%dT%H:%M:%S")  # (%Y gives "1", not "0001")
    if when.microsecond:
        text += f".{when.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_since(text: str) -> int:
    """``--since``: an RFC 3339 date or date-time, or epoch seconds."""
    us = parse_time(text)
    if us is None:
        raise UsageError(f"--since {text!r}: not a date (2025-08-19), an RFC 3339 date-time "
                         "(2025-08-19T10:00:00Z) or epoch seconds")
    return us


# -- the aggregate ---------------------------------------------------------------------------

class Tally:
    """What is known about one key: how often, when, where (a few lines), and why."""

    __slots__ = ("count", "example", "first", "last", "occurrences", "replacement", "samples",
                 "severity", "since", "undated")

    def __init__(self, severity: str, since: str | None = None,
                 replacement: str | None = None) -> None:
        self.count = 0  # requests with this finding
        self.occurrences = 0  # findings (a request may hold the same one twice)
        self.undated = 0  # of ``count``, requests without a timestamp
        self.first: int | None = None
        self.last: int | None = None
        self.samples: list[Ref] = []  # the first N references, in (file, line) order
        #: The first finding's (reference, message, hint): messages differ by request.
        self.example: tuple[Ref, str, str | None] | None = None
        self.severity = severity
        self.since = since  # the catalog's date for what goes away (RETIRING codes)
        self.replacement = replacement

    def merge(self, other: Tally, limit: int) -> None:
        self.count += other.count
        self.occurrences += other.occurrences
        self.undated += other.undated
        self.first = _min(self.first, other.first)
        self.last = _max(self.last, other.last)
        if other.samples:
            self.samples = sorted(set(self.samples).union(other.samples))[:limit]
        # The first line's; on one line (keys counted together as OTHER), the least text.
        if other.example is not None and (self.example is None
                                          or _order(other.example) < _order(self.example)):
            self.example = other.example
        self.since = self.since or other.since
        self.replacement = self.replacement or other.replacement

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, s) for s in Tally.__slots__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(Tally.__slots__, state, strict=True):
            setattr(self, name, value)


def _order(example: tuple[Ref, str, str | None]) -> tuple[Ref, str, str]:
    return example[0], example[1], example[2] or ""


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


_COUNTERS = ("records", "requests", "bad_lines", "before_since", "undated", "bad_timestamps",
             "flagged")


class Partial:
    """The aggregate of some chunks. :meth:`merge` is associative and commutative, so any
    grouping of chunks (one process, a pool, a Dask reduction tree) gives the same result."""

    __slots__ = ("bad_lines", "bad_timestamps", "before_since", "catalogs", "chunk_lines",
                 "errors", "first", "flagged", "flagged_models", "last", "models", "records",
                 "requests", "samples", "tallies", "undated")

    def __init__(self, samples: int = DEFAULT_SAMPLES) -> None:
        self.samples = samples
        self.records = 0  # non-blank lines read
        self.requests = 0  # lines that parsed (and were not before --since)
        self.bad_lines = 0  # lines that are not JSON (AML003)
        self.before_since = 0  # lines dated before --since, skipped
        self.undated = 0  # lines checked without a usable timestamp
        self.bad_timestamps = 0  # of those, lines whose timestamp could not be read
        self.flagged = 0  # lines with at least one finding reported
        self.first: int | None = None  # over the dated lines checked
        self.last: int | None = None
        self.models: dict[str, int] = {}  # requests checked, by model
        self.flagged_models: dict[str, int] = {}  # requests with findings, by model
        self.tallies: dict[Key, Tally] = {}
        #: Lines (blank ones too) in each chunk: the offsets that make line numbers absolute.
        self.chunk_lines: dict[tuple[int, int], int] = {}
        self.errors: dict[tuple[int, int], str] = {}  # (file, chunk) -> what went wrong
        self.catalogs: set[str] = set()  # catalog versions the workers checked with

    def merge(self, other: Partial) -> Partial:
        """Add ``other`` into this aggregate (and return it): then :meth:`prune`."""
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.first = _min(self.first, other.first)
        self.last = _max(self.last, other.last)
        for into, came in ((self.models, other.models),
                           (self.flagged_models, other.flagged_models)):
            for model, n in came.items():
                into[model] = into.get(model, 0) + n
        for key, tally in other.tallies.items():
            _absorb(self.tallies, key, tally, self.samples)
        self.chunk_lines.update(other.chunk_lines)
        self.errors.update(other.errors)
        self.catalogs |= other.catalogs
        self.prune()
        return self

    def prune(self) -> None:
        """Keep the first KEYS_PER_CODE keys of each code and the first MODELS_KEPT models
        (in sort order); count the rest under OTHER. The keys kept are the first of all
        keys seen, whatever the grouping: a key among the first N of all is among the
        first N of every part. So merging stays exact for them, and additive for OTHER."""
        limit = KEYS_PER_CODE
        if len(self.tallies) > limit:
            by_code: dict[str, list[Key]] = {}
            for key in self.tallies:
                if key[1] != OTHER:
                    by_code.setdefault(key[0], []).append(key)
            for code, keys in by_code.items():
                if len(keys) > limit:
                    keys.sort()
                    bucket = (code, OTHER, OTHER, OTHER)
                    for key in keys[limit:]:
                        _absorb(self.tallies, bucket, self.tallies.pop(key), self.samples)
        if len(self.models) > MODELS_KEPT:
            names = sorted(m for m in self.models if m != OTHER)
            for m in names[MODELS_KEPT:]:
                self.models[OTHER] = self.models.get(OTHER, 0) + self.models.pop(m)
        if OTHER in self.models:
            # A model flagged but not (or no longer) among the models was folded here,
            # perhaps by a prune in the middle of its line: its flags go with it.
            for m in [m for m in self.flagged_models if m not in self.models]:
                self.flagged_models[OTHER] = (self.flagged_models.get(OTHER, 0)
                                              + self.flagged_models.pop(m))

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, s) for s in Partial.__slots__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(Partial.__slots__, state, strict=True):
            setattr(self, name, value)


def _absorb(tallies: dict[Key, Tally], key: Key, tally: Tally, limit: int) -> None:
    mine = tallies.get(key)
    if mine is None:
        mine = tallies[key] = Tally(tally.severity)
    mine.merge(tally, limit)
    if key[1] == OTHER:  # keys of different dates and severities: none, and the highest
        mine.since = mine.replacement = None
        if _RANK[tally.severity] > _RANK[mine.severity]:
            mine.severity = tally.severity


def merge_all(partials: Iterable[Partial], samples: int | None = None) -> Partial:
    """A new aggregate of ``partials`` (the reduction both engines use)."""
    out: Partial | None = None
    for p in partials:
        if out is None:
            out = Partial(p.samples if samples is None else samples)
        out.merge(p)
    return out if out is not None else Partial(DEFAULT_SAMPLES if samples is None else samples)


# -- the work --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of work: one file, or one byte range of a plain file."""

    file: int  # the file's position among the files audited
    index: int  # the chunk's number within its file
    path: str  # the file (a chunk carries its own: no task needs the whole list)
    start: int = 0
    end: int | None = None  # None: to the end of the file
    size: int = 0  # bytes (compressed for .gz), for progress


@dataclass(frozen=True, slots=True)
class AuditContext:
    """What auditing a chunk needs besides the chunk (small and picklable: it travels with
    every task to workers anywhere)."""

    endpoint: str | None = None
    since: int | None = None  # microseconds since the epoch
    select: tuple[str, ...] = ("AML",)
    ignore: tuple[str, ...] = ()
    samples: int = DEFAULT_SAMPLES
    max_bytes: int = DEFAULT_MAX_BYTES
    rows: bool = False  # also return one row per finding (the full table)
    #: Spill a chunk's rows to a temporary file past SPILL_ROWS (the local engine: its
    #: workers share a disk with the process that writes the table; Dask workers may not).
    spill: bool = False
    #: The catalog to check with: None, the bundled one; else the digest of the compiled
    #: files of the catalog merged with ``extra-catalogs``. The files (about 4 MB) do not
    #: travel in the context: a process gets them once (see :func:`_catalog`).
    catalog: str | None = None


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Directories become the logs below them (``*.jsonl``, ``*.ndjson``, and ``.gz``;
    sorted; hidden entries and anything not a regular file, such as a FIFO that would
    block, skipped); files are kept as named, duplicates dropped. A directory holding no
    log is kept as named, so that it is reported (an audit of nothing is a mistake).

    fsspec URLs (``s3://bucket/logs/``, ``file:///data/*.jsonl.gz``) are listed the
    same way, and may hold glob patterns."""
    out: list[str] = []
    seen: set[str] = set()

    def add(p: str) -> None:
        norm = p if "://" in p else os.path.normpath(p)
        if norm not in seen:
            seen.add(norm)
            out.append(p)

    for path in paths:
        if "://" in path:
            for p in _expand_url(path):
                add(p)
            continue
        if not os.path.isdir(path):
            add(path)
            continue
        before = len(out)
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if _is_log(name) and _regular(full := os.path.join(root, name)):
                    add(full)
        if len(out) == before:
            add(path)
    return out


def _regular(path: str) -> bool:
    """A regular file, or one that cannot be looked at (a symbolic-link loop, a file
    without permission): those are kept, to be reported as the file's error."""
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True


def _is_log(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(_LOG_SUFFIXES)


def _url_fs(url: str) -> tuple[Any, str]:
    """(fsspec filesystem, path in it) for a URL; raises PayloadError when it cannot."""
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise PayloadError(url, "reading a URL needs fsspec: pip install 'aimlcat[dask]'"
                           ) from None
    try:
        fs, path = url_to_fs(url)
    except (ValueError, ImportError) as exc:  # unknown protocol; its package not installed
        raise PayloadError(url, f"cannot open: {exc}") from None
    return fs, path


def _expand_url(url: str) -> list[str]:
    try:
        fs, path = _url_fs(url)
        if any(c in path for c in "*?["):
            found = sorted(p for p in fs.glob(path) if not fs.isdir(p))
        elif fs.isdir(path):
            found = sorted(p for p in fs.find(path)
                           if _is_log(p.rsplit("/", 1)[-1])
                           and not any(part.startswith(".") for part in
                                       p[len(path.rstrip("/")):].split("/")))
        else:
            return [url]
    except (PayloadError, OSError):
        return [url]  # reported as the file's error when it is planned
    # Nothing found: the URL itself, reported when it is planned (no such file; no logs).
    return [fs.unstrip_protocol(p) for p in found] or [url]


_NO_LOGS = "a directory holding no logs"


def plan_chunks(files: Sequence[str], blocksize: int = DEFAULT_BLOCKSIZE,
                ) -> tuple[list[Chunk], dict[int, str]]:
    """The chunks of ``files`` in (file, byte) order, and the files that cannot be read."""
    chunks: list[Chunk] = []
    errors: dict[int, str] = {}
    for i, path in enumerate(files):
        try:
            size, is_dir = _stat(path)
        except FileNotFoundError:
            errors[i] = "no such file"
            continue
        except PayloadError as exc:
            errors[i] = exc.reason
            continue
        except OSError as exc:
            errors[i] = f"cannot read: {exc.strerror or exc}"
            continue
        if is_dir:
            errors[i] = _NO_LOGS + " (*.jsonl, *.ndjson, and their .gz)"
            continue
        if path.endswith(".gz") or size <= blocksize:
            chunks.append(Chunk(i, 0, path, 0, None, size))
            continue
        n = -(-size // blocksize)
        for j in range(n):
            start = j * blocksize
            end = None if j == n - 1 else start + blocksize
            chunks.append(Chunk(i, j, path, start, end, (end or size) - start))
    return chunks, errors


def _stat(path: str) -> tuple[int, bool]:
    """(size in bytes, is a directory) of a path or URL."""
    if "://" not in path:
        st = os.stat(path)
        return st.st_size, os.path.isdir(path)
    fs, inner = _url_fs(path)
    info = fs.info(inner)
    return int(info.get("size") or 0), info.get("type") == "directory"


_STATE: dict[Any, Any] = {}  # this process's catalogs and selectors, built once
_STATE_LOCK = threading.Lock()


def catalog_digest(files: Mapping[str, str]) -> str:
    """A name for a merged catalog: the SHA-256 of its compiled files."""
    import hashlib

    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}\0{len(files[name])}\0".encode())
        h.update(files[name].encode())
    return h.hexdigest()


def _catalog(digest: str | None = None, files: Mapping[str, str] | None = None) -> Any:
    """This process's catalog: the bundled one (``digest`` None), or the catalog merged
    with extra catalogs named by ``digest``, built from its compiled ``files`` the first
    time they come (lint's mechanism: :func:`aimlcat._config.memory_catalog`). A process
    keeps one merged catalog: a Dask worker serving audits one after the other replaces
    it when the next one names another."""
    key = ("catalog", digest)
    cat = _STATE.get(key)
    if cat is None:
        if digest is None:
            from ._catalog import load_catalog

            cat = load_catalog()
        else:
            if files is None:
                raise RuntimeError("aimlcat audit: the compiled extra catalogs did not reach "
                                   "this process")
            from ._config import memory_catalog

            with _STATE_LOCK:  # a Dask worker runs tasks in several threads
                cat = _STATE.get(key)
                if cat is None:
                    for old in [k for k in list(_STATE) if k[0] == "catalog"
                                and k[1] is not None]:
                        _STATE.pop(old, None)
                    cat = _STATE[key] = memory_catalog(files, "<extra catalogs>")
            return cat
        _STATE[key] = cat
    return cat


def versions() -> tuple[str, str]:
    """(aimlcat version, catalog version) of this process: what a cluster must agree on."""
    from ._version import __version__

    return __version__, _catalog().version


def _selector(ctx: AuditContext) -> Any:
    key = (ctx.select, ctx.ignore)
    sel = _STATE.get(key)
    if sel is None:
        from ._config import Selector

        sel = _STATE[key] = Selector(ctx.select, ctx.ignore)
    return sel


def _parameter(code: str, pointer: str) -> str:
    """The top-level key a finding is about ("" for model and endpoint findings)."""
    if code[3] in "12" or not pointer:
        return ""
    head = pointer[1:].split("/", 1)[0]
    return head.replace("~1", "/").replace("~0", "~")


def _retirement(cat: Any, code: str, model: str, endpoint: str,
                parameter: str) -> tuple[str | None, str | None]:
    """The catalog's date (and replacement model) for what a RETIRING finding is about."""
    if code not in RETIRING or cat.resolve(model) is None:
        return None, None
    rec = cat.model_record(model)
    if code in ("AML103", "AML104"):
        return rec.get("status_since"), rec.get("replacement")
    ep = rec["endpoints"].get(endpoint) or {}
    if code == "AML203":
        return (ep.get("legacy") or {}).get("since"), None
    if code == "AML303":
        return (ep.get("removed", {}).get(parameter) or {}).get("since"), None
    dep = (ep.get("parameters", {}).get(parameter) or {}).get("deprecated") or {}
    return dep.get("since"), None


def _cut(text: str) -> str:
    return text if len(text) <= _LONGEST else text[:_LONGEST - 1] + "…"


def _shown(text: str) -> str:
    """Text taken from a log (a model id, an endpoint, a key name) as a report may show it:
    anything key-shaped masked, then cut short (a log line can hold a key anywhere); a NUL
    as U+FFFD (a NUL is OTHER)."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return _cut(redact(text))


#: Rows a chunk holds in memory before it spills them (local engine).
SPILL_ROWS = 20_000


class RowSpool:
    """A chunk's findings rows in a temporary file (pickled batches), so that a chunk with
    many findings (a large ``.gz`` file is one chunk) is not held in memory. Read once, in
    batches, by :meth:`batches`, which removes the file."""

    __slots__ = ("_fh", "path")

    def __init__(self) -> None:
        import tempfile

        fd, self.path = tempfile.mkstemp(prefix="aimlcat-rows-", suffix=".pickle")
        self._fh: IO[bytes] | None = os.fdopen(fd, "wb")

    def add(self, rows: list[Row]) -> None:
        import pickle

        assert self._fh is not None
        pickle.dump(rows, self._fh, protocol=pickle.HIGHEST_PROTOCOL)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def batches(self) -> Iterator[list[Row]]:
        import pickle

        try:
            with open(self.path, "rb") as fh:
                while True:
                    try:
                        yield pickle.load(fh)  # (our own file, mode 0600)
                    except EOFError:
                        return
        finally:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass


#: A chunk's findings rows: in memory, or spilled to a file.
Rows = list[Row] | RowSpool


def audit_chunk(chunk: Chunk, ctx: AuditContext,
                files: Mapping[str, str] | None = None) -> tuple[Partial, Rows]:
    """Read and check one chunk: its aggregate, and its findings table when ``ctx.rows``.
    ``files``: the compiled catalog ``ctx.catalog`` names, for a process that has not
    built it yet (a Dask task gets them as a scattered dependency)."""
    cat = _catalog(ctx.catalog, files)
    sel = _selector(ctx)
    p = Partial(ctx.samples)
    p.catalogs.add(cat.version)
    rows: list[Row] = []
    want_rows = ctx.rows
    spool: RowSpool | None = None
    spill_at = SPILL_ROWS if want_rows and ctx.spill else sys.maxsize
    limit = ctx.samples
    since = ctx.since
    tallies = p.tallies
    models = p.models
    path = chunk.path
    here = (chunk.file, chunk.index)
    records = iter_records(path, ctx.max_bytes, start=chunk.start, end=chunk.end)
    n = 0
    lines = 0
    prune_keys, prune_models = 2 * KEYS_PER_CODE, 2 * MODELS_KEPT
    try:
        while True:
            if len(rows) >= spill_at:
                if spool is None:
                    spool = RowSpool()
                spool.add(rows)
                rows = []
            try:
                n, item = next(records)
            except StopIteration as stop:
                lines = stop.value
                break
            p.records += 1
            ref = (chunk.file, chunk.index, n)
            if isinstance(item, BadLine):
                p.bad_lines += 1
                p.undated += 1
                f = item.finding
                if not sel.enabled(f.code):
                    continue
                p.flagged += 1
                # The reader numbers lines within the chunk; the row carries the real line.
                message = redact(f.message.replace(f"line {n} ", "the line ", 1))
                _tally(tallies, (f.code, "", "", ""), f.severity, ref, None, message, f.hint,
                       limit)
                if want_rows:
                    rows.append((ref, None, "", "", f.code, f.severity, "", "", message))
                continue
            body = item.body
            envelope = item.envelope
            holder = envelope if envelope is not None else body
            ts: int | None = None
            if isinstance(holder, dict) and "timestamp" in holder:
                raw = holder["timestamp"] if envelope is not None else body.pop("timestamp")
                if raw is not None:
                    ts = parse_time(raw)
                    if ts is None:
                        p.bad_timestamps += 1
            if ts is None:
                p.undated += 1
            elif since is not None and ts < since:
                p.before_since += 1
                continue
            else:
                p.first = ts if p.first is None or ts < p.first else p.first
                p.last = ts if p.last is None or ts > p.last else p.last
            p.requests += 1
            report = cat.validate(body, item.endpoint or ctx.endpoint)
            raw_model = body.get("model") if isinstance(body, dict) else None
            model = report.model or (_shown(raw_model) if isinstance(raw_model, str) else "")
            seen_before = models.get(model)
            if seen_before is None:
                seen_before = 0
                if len(models) >= prune_models:
                    p.prune()
                    prune_models = max(prune_models, 2 * len(models))
            models[model] = seen_before + 1
            in_line = item.file_findings
            if item.also_named:  # an envelope naming its endpoint twice: do they agree?
                in_line = (*in_line, *named_twice(item, cat))
            if not report.findings and not in_line:
                continue
            endpoint = report.endpoint or _shown(item.endpoint or ctx.endpoint or "")
            seen: set[Key] = set()
            prefix = item.prefix
            nfile = len(in_line)  # these point into the line, the rest into the body
            for i, f in enumerate((*in_line, *report.findings)):
                if not sel.enabled(f.code):
                    continue
                in_file = i < nfile
                body_ptr = f.pointer
                if in_file and prefix and body_ptr.startswith(prefix + "/"):
                    body_ptr = body_ptr[len(prefix):]
                parameter = _shown(_parameter(f.code, body_ptr))
                # (The validator's messages are redacted already; those about the line's
                # text, AML002 and AML005, are made here.)
                message = redact(f.message) if in_file else f.message
                key = (f.code, model, endpoint, parameter)
                t = tallies.get(key)
                if t is None:
                    if len(tallies) >= prune_keys:
                        p.prune()
                        prune_keys = max(prune_keys, 2 * len(tallies))
                    since_date, replacement = _retirement(cat, f.code, model, endpoint,
                                                          parameter)
                    t = tallies[key] = Tally(f.severity, since_date, replacement)
                t.occurrences += 1
                if key not in seen:
                    seen.add(key)
                    _count(t, ref, ts, message, f.hint and redact(f.hint), limit)
                if want_rows:
                    pointer = redact_pointer(f.pointer if in_file else item.in_file(f).pointer)
                    rows.append((ref, ts, model, endpoint, f.code, f.severity, parameter,
                                 pointer, message))
            if seen:
                p.flagged += 1
                p.flagged_models[model] = p.flagged_models.get(model, 0) + 1
    except PayloadError as exc:
        p.errors[here] = exc.reason
        lines = (exc.line - 1) if exc.line else n
    p.chunk_lines[here] = lines
    p.prune()
    if spool is not None:
        spool.add(rows)
        spool.close()
        return p, spool
    return p, rows


def _count(t: Tally, ref: Ref, ts: int | None, message: str, hint: str | None,
           limit: int) -> None:
    t.count += 1
    if ts is None:
        t.undated += 1
    else:
        if t.first is None or ts < t.first:
            t.first = ts
        if t.last is None or ts > t.last:
            t.last = ts
    if len(t.samples) < limit:  # lines arrive in order within a chunk
        t.samples.append(ref)
    if t.example is None:
        t.example = (ref, message, hint)


def _tally(tallies: dict[Key, Tally], key: Key, severity: str, ref: Ref, ts: int | None,
           message: str, hint: str | None, limit: int) -> None:
    t = tallies.get(key)
    if t is None:
        t = tallies[key] = Tally(severity)
    t.occurrences += 1
    _count(t, ref, ts, message, hint, limit)


# -- the report ------------------------------------------------------------------------------

@dataclass(slots=True)
class AuditReport:
    """The finished aggregate: line references made absolute, keys sorted."""

    files: tuple[str, ...]
    partial: Partial
    since: int | None
    fail_level: str = "error"

    def offsets(self) -> dict[tuple[int, int], int]:
        """The first line (minus one) of each chunk."""
        out: dict[tuple[int, int], int] = {}
        running: dict[int, int] = {}
        for (f, c) in sorted(self.partial.chunk_lines):
            out[(f, c)] = running.get(f, 0)
            running[f] = running.get(f, 0) + self.partial.chunk_lines[(f, c)]
        return out

    def file_lines(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for (f, _), n in self.partial.chunk_lines.items():
            out[f] = out.get(f, 0) + n
        return out

    def errors(self) -> list[tuple[str, str]]:
        """(file, message), one per file, in input order."""
        out: dict[int, str] = {}
        for (f, _), message in sorted(self.partial.errors.items()):
            out.setdefault(f, message)
        return [(self.files[f], m) for f, m in sorted(out.items())]

    def failing(self) -> bool:
        floor = _RANK[self.fail_level]
        return any(_RANK[t.severity] >= floor for t in self.partial.tallies.values())

    def ordered(self) -> list[tuple[Key, Tally]]:
        """Keys by count (most first), then by key."""
        return sorted(self.partial.tallies.items(), key=lambda kv: (-kv[1].count, kv[0]))

    def to_dict(self) -> dict[str, Any]:
        p = self.partial
        offsets = self.offsets()

        def where(ref: Ref) -> dict[str, Any]:
            return {"file": self.files[ref[0]], "line": offsets.get(ref[:2], 0) + ref[2]}

        by_code: dict[str, list[int]] = {}
        by_model: dict[str, int] = {}
        by_param: dict[str, int] = {}
        findings = []
        for (code, model, endpoint, param), t in self.ordered():
            c = by_code.setdefault(code, [0, 0])
            c[0] += t.count
            c[1] += t.occurrences
            folded = model == OTHER
            if model and not folded:
                by_model[model] = by_model.get(model, 0) + t.count
            if param and not folded:
                by_param[param] = by_param.get(param, 0) + t.count
            entry: dict[str, Any] = {
                "code": code, "name": RULES[code].name, "severity": t.severity,
                "model": None if folded else model or None,
                "endpoint": None if folded else endpoint or None,
                "parameter": None if folded else param or None,
                "count": t.count, "occurrences": t.occurrences,
                "undated": t.undated, "first_seen": format_time(t.first),
                "last_seen": format_time(t.last),
            }
            if code in RETIRING:
                entry["since"] = t.since
                if code in ("AML103", "AML104"):
                    entry["replacement"] = t.replacement
            if t.example is not None:
                entry["message"] = t.example[1]
                entry["hint"] = t.example[2]
            entry["samples"] = [where(r) for r in t.samples]
            if folded:
                entry["other"] = True  # the keys past KEYS_PER_CODE, counted together
            findings.append(entry)
        lines = self.file_lines()
        errors = dict(self.errors())
        return {
            "catalog_versions": sorted(p.catalogs),
            "limits": {"keys_per_code": KEYS_PER_CODE, "models": MODELS_KEPT},
            "since": format_time(self.since),
            "files": [{"path": path, "lines": lines.get(i, 0), "error": errors.get(path)}
                      for i, path in enumerate(self.files)],
            "totals": {
                "lines": sum(lines.values()), "records": p.records, "requests": p.requests,
                "bad_lines": p.bad_lines, "before_since": p.before_since,
                "undated": p.undated, "bad_timestamps": p.bad_timestamps,
                "flagged": p.flagged, "findings": sum(t.count for t in p.tallies.values()),
                "first_seen": format_time(p.first), "last_seen": format_time(p.last),
            },
            "by_code": [{"code": code, "name": RULES[code].name,
                         "severity": RULES[code].severity, "count": n, "occurrences": occ}
                        for code, (n, occ) in sorted(by_code.items(),
                                                     key=lambda kv: (-kv[1][0], kv[0]))],
            "by_model": [{"model": m, "flagged": p.flagged_models.get(m, 0),
                          "requests": p.models.get(m, 0), "count": n}
                         for m, n in sorted(by_model.items(), key=lambda kv: (-kv[1], kv[0]))
                         if m in p.models]  # (not the models counted as other)
            + ([{"model": None, "other": True, "flagged": p.flagged_models.get(OTHER, 0),
                 "requests": p.models[OTHER], "count": None}] if OTHER in p.models else []),
            "by_parameter": [{"parameter": k, "count": n}
                             for k, n in sorted(by_param.items(),
                                                key=lambda kv: (-kv[1], kv[0]))],
            "findings": findings,
        }


def write_json(report: AuditReport, out: IO[str]) -> None:
    import json

    out.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")


def write_text(report: AuditReport, out: IO[str]) -> None:
    d = report.to_dict()
    t = d["totals"]
    w = out.write
    nfiles = len(d["files"])
    versions = ", ".join(d["catalog_versions"]) or "none used"
    w(f"aimlcat audit: {_n(t['lines'], 'line')} in {_n(nfiles, 'file')} "
      f"(catalog {versions})\n")
    if len(d["catalog_versions"]) > 1:
        w("  warning: the workers checked with different catalogs; install one aimlcat "
          "version everywhere\n")
    w(f"  {_n(t['requests'], 'request')} checked, {_n(t['bad_lines'], 'line')} not JSON\n")
    if d["since"] is not None:
        w(f"  since {d['since']}: {_n(t['before_since'], 'earlier line')} skipped\n")
    if t["undated"]:
        bad = f" ({t['bad_timestamps']:,} with a timestamp that could not be read)" \
            if t["bad_timestamps"] else ""
        w(f"  {_n(t['undated'], 'line')} without a timestamp, checked{bad}\n")
    if t["first_seen"] is not None:
        w(f"  dated lines from {t['first_seen']} to {t['last_seen']}\n")
    share = f" ({100 * t['flagged'] / t['records']:.1f} %)" if t["records"] else ""
    w(f"  {_n(t['flagged'], 'line')} with findings{share}\n")
    if d["by_code"]:
        w("\nBy code\n")
        for c in d["by_code"]:
            w(f"  {c['code']}  {c['severity']:<7}  {c['name']:<28} {c['count']:>12,}\n")
    folded = [f["code"] for f in d["findings"] if f.get("other")]
    if folded or any(m.get("other") for m in d["by_model"]):
        lim = d["limits"]
        w(f"  note: more distinct keys than kept ({lim['keys_per_code']:,} per code, "
          f"{lim['models']:,} models); the rest are counted as (other)"
          f"{': ' + ', '.join(folded) if folded else ''}\n")
    if d["by_model"]:
        w("\nBy model (requests with findings / requests checked)\n")
        width = min(48, max(len(m["model"] or "(other)") for m in d["by_model"]))
        for m in d["by_model"]:
            w(f"  {m['model'] or '(other)':<{width}} {m['flagged']:>12,} / "
              f"{m['requests']:,}\n")
    if d["by_parameter"]:
        w("\nBy parameter\n")
        width = min(40, max(len(m["parameter"]) for m in d["by_parameter"]))
        for m in d["by_parameter"]:
            w(f"  {m['parameter']:<{width}} {m['count']:>12,}\n")
    retiring = [f for f in d["findings"] if f["code"] in RETIRING]
    if retiring:
        w("\nDeprecated and removed\n")
        for f in retiring:
            _text_finding(f, w)
    others = [f for f in d["findings"] if f["code"] not in RETIRING]
    if others:
        w("\nOther findings\n")
        for f in others:
            _text_finding(f, w)
    unreadable = len(report.errors())
    if unreadable:  # (each is one line on standard error)
        w(f"\n{unreadable:,} file{' was' if unreadable == 1 else 's were'} not read to the "
          "end; see the errors\n")


def _n(count: int, word: str) -> str:
    """``1 line``, ``2 lines``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _text_finding(f: dict[str, Any], w: Callable[[str], Any]) -> None:
    what = " ".join(x for x in (f["model"], f["endpoint"], f["parameter"] and
                                f"`{f['parameter']}`") if x) or f["name"]
    if f.get("other"):
        what = f"{f['name']} (other keys)"
    w(f"  {f['code']} {f['severity']} {what}: {f['count']:,} line"
      f"{'' if f['count'] == 1 else 's'}\n")
    if f["first_seen"] is not None:
        undated = f" (+{f['undated']:,} undated)" if f["undated"] else ""
        w(f"      seen {f['first_seen']} .. {f['last_seen']}{undated}\n")
    if f.get("since"):
        verb = "deprecated" if f["code"] in ("AML104", "AML302") else \
            "legacy" if f["code"] == "AML203" else "removed"
        repl = f"; replacement {f['replacement']}" if f.get("replacement") else ""
        w(f"      {verb} since {f['since']}{repl}\n")
    if f.get("message"):
        w(f"      {f['message']}\n")
    if f.get("hint"):
        w(f"      hint: {f['hint']}\n")
    if f["samples"]:
        w("      e.g. " + ", ".join(f"{s['file']}:{s['line']}" for s in f["samples"]) + "\n")


# -- the findings table ----------------------------------------------------------------------

#: The columns of the findings table; a row is a tuple in this order (timestamp in µs).
TABLE_FIELDS = ("file", "line", "timestamp", "model", "endpoint", "code", "severity",
                "parameter", "pointer", "message")
TableRow = tuple[str, int, int | None, str | None, str | None, str, str, str | None, str, str]


class _JsonlTable:
    def __init__(self, fh: IO[bytes], gz: bool) -> None:
        import orjson

        self._dumps = orjson.dumps
        self._gz: Any = None
        self._fh: Any = fh
        if gz:
            import gzip

            self._gz = self._fh = gzip.GzipFile(fileobj=fh, mode="wb", mtime=0)

    def write(self, rows: list[TableRow]) -> None:
        dumps = self._dumps
        self._fh.write(b"".join(
            dumps(dict(zip(TABLE_FIELDS, (*r[:2], format_time(r[2]), *r[3:]), strict=True)))
            + b"\n" for r in rows))

    def close(self) -> None:
        if self._gz is not None:
            self._gz.close()


class _ParquetTable:
    BATCH = 65536  # rows per row group, at most

    def __init__(self, fh: IO[bytes]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        self.schema = pa.schema([
            ("file", pa.string()), ("line", pa.int64()),
            ("timestamp", pa.timestamp("us", tz="UTC")), ("model", pa.string()),
            ("endpoint", pa.string()), ("code", pa.string()), ("severity", pa.string()),
            ("parameter", pa.string()), ("pointer", pa.string()), ("message", pa.string())])
        self._writer = pq.ParquetWriter(fh, self.schema)
        self._buffer: list[TableRow] = []

    def write(self, rows: list[TableRow]) -> None:
        self._buffer.extend(rows)
        if len(self._buffer) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            columns = [self._pa.array(list(col), type=field.type)
                       for col, field in zip(zip(*self._buffer, strict=True), self.schema,
                                             strict=True)]
            self._writer.write_table(self._pa.Table.from_arrays(columns, schema=self.schema))
            self._buffer = []

    def close(self) -> None:
        self._flush()
        self._writer.close()


@contextmanager
def open_table(path: str) -> Iterator[Callable[[list[TableRow]], None]]:
    """A writer of findings rows to ``path`` (``.parquet``: Parquet; else JSON Lines, gzip
    when it ends in ``.gz``), written atomically: the file appears when the audit is done."""
    parquet = path.lower().endswith(".parquet")
    if parquet:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UsageError("writing Parquet needs pyarrow: pip install 'aimlcat[dask]' "
                             "(or pyarrow); a .jsonl file needs nothing more") from None
    from ._fsutil import atomic_binary, write_error

    try:
        with atomic_binary(path) as fh:
            table: _JsonlTable | _ParquetTable = (
                _ParquetTable(fh) if parquet else _JsonlTable(fh, path.endswith(".gz")))
            yield table.write
            table.close()
    except OSError as exc:
        raise UsageError(write_error(path, exc)) from None


class _InOrder:
    """Takes chunk results in chunk order: merges them and writes their rows with the
    right line numbers (each file's running line count is known by then)."""

    def __init__(self, total: Partial, table: Callable[[list[TableRow]], None] | None,
                 progress: Any = None) -> None:
        self.total = total
        self.table = table
        self.progress = progress
        self.lines: dict[int, int] = {}

    def __call__(self, chunk: Chunk, partial: Partial, rows: Rows) -> None:
        self.total.merge(partial)
        offset = self.lines.get(chunk.file, 0)
        batches = rows.batches() if isinstance(rows, RowSpool) else (rows,)
        for batch in batches:
            if self.table is None or not batch:
                continue
            name = chunk.path
            self.table([(name, offset + ref[2], ts, model or None, endpoint or None, code,
                         severity, param or None, pointer, message)
                        for ref, ts, model, endpoint, code, severity, param, pointer, message
                        in batch])
        self.lines[chunk.file] = offset + partial.chunk_lines.get((chunk.file, chunk.index), 0)
        if self.progress is not None:
            self.progress.advance()


# -- engines ---------------------------------------------------------------------------------

_WORKER: list[AuditContext] = []


def _init_worker(ctx: AuditContext, files: Mapping[str, str] | None) -> None:
    _WORKER[:] = [ctx]
    _STATE.clear()  # a forked worker builds its own catalog
    _catalog(ctx.catalog, files)  # the compiled files come once per worker, as in lint


def _work(chunk: Chunk) -> tuple[Partial, Rows]:
    return audit_chunk(chunk, _WORKER[0])


def run_local(ctx: AuditContext, chunks: Sequence[Chunk], jobs: int,
              take: Callable[[Chunk, Partial, Rows], None],
              files: Mapping[str, str] | None = None) -> None:
    """Audit ``chunks`` in ``jobs`` processes, handing each result to ``take`` in chunk
    order. At most a few chunks per worker are in flight, so memory stays bounded.
    ``files``: the compiled catalog ``ctx.catalog`` names (sent to each worker once)."""
    jobs = min(jobs, len(chunks))  # a worker per chunk at most: each loads the catalog
    if jobs <= 1:
        for chunk in chunks:
            take(chunk, *audit_chunk(chunk, ctx, files))
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    todo = iter(chunks)
    window = jobs * 4
    try:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                                 initargs=(ctx, files)) as pool:
            pending = deque((c, pool.submit(_work, c)) for c in islice(todo, window))
            while pending:
                chunk, future = pending.popleft()
                result = future.result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(_work, nxt)))
                take(chunk, *result)
    except BrokenProcessPool:
        raise UsageError("a worker process died (out of memory?); try fewer --jobs or a "
                         "smaller --blocksize") from None


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def audit(paths: Sequence[str], *, engine: str = "local", jobs: int = 0,
          scheduler: str | None = None, client: Any = None, since: int | None = None,
          endpoint: str | None = None, select: Sequence[str] = ("AML",),
          ignore: Sequence[str] = (), samples: int = DEFAULT_SAMPLES,
          blocksize: int = DEFAULT_BLOCKSIZE, max_bytes: int = DEFAULT_MAX_BYTES,
          findings_out: str | None = None, fail_level: str = "error",
          progress: bool = False, protect: Sequence[str] = (),
          catalog_files: Mapping[str, str] | None = None) -> AuditReport:
    """Audit the logs at ``paths`` and return the aggregate.

    ``engine`` is ``local`` (``jobs`` processes; 0: the cores available) or ``dask``
    (a ``LocalCluster`` of ``jobs`` workers, the cluster at ``scheduler``, or an
    existing ``distributed.Client``). ``findings_out`` writes every finding as a row.
    ``protect``: other files the caller will write (the report): like ``findings_out``,
    checked before the work starts, and refused if they are among the logs.
    ``catalog_files``: a compiled catalog to check with in place of the bundled one
    (:func:`aimlcat._config.configured_catalog` gives them for ``extra-catalogs``)."""
    files = tuple(expand_paths(paths))
    if not files:
        raise UsageError("no request logs found (*.jsonl, *.ndjson and their .gz)")
    outputs = [p for p in (*protect, findings_out) if p is not None]
    _check_outputs(outputs, files)
    chunks, unreadable = plan_chunks(files, blocksize)
    if not chunks and unreadable and all(e.startswith(_NO_LOGS) for e in unreadable.values()):
        # Nothing but folders without logs: say so once, as lint does, with no empty report.
        raise UsageError("no request logs found (*.jsonl, *.ndjson and their .gz)")
    digest = catalog_digest(catalog_files) if catalog_files is not None else None
    ctx = AuditContext(endpoint=endpoint, since=since, select=tuple(select),
                       ignore=tuple(ignore), samples=samples, max_bytes=max_bytes,
                       rows=findings_out is not None,
                       spill=findings_out is not None and engine == "local", catalog=digest)
    total = Partial(samples)
    for i, message in unreadable.items():
        total.errors[(i, 0)] = message
    jobs = jobs if jobs > 0 else _available_cores()
    bar = None
    # (A Dask reduction has no per-chunk results to count: its dashboard shows progress.)
    if progress and (engine == "local" or ctx.rows):
        from ._lint import Progress

        bar = Progress(len(chunks), unit="parts")
        if not bar.enabled:
            bar = None

    def go(table: Callable[[list[TableRow]], None] | None) -> None:
        take = _InOrder(total, table, bar)
        if engine == "dask":
            from ._audit_dask import run_dask

            merged = run_dask(ctx, chunks, take, jobs=jobs, scheduler=scheduler, client=client,
                              files=catalog_files)
            if merged is not None:
                total.merge(merged)
        else:
            run_local(ctx, chunks, jobs, take, catalog_files)

    try:
        if findings_out is not None:
            with open_table(findings_out) as table:
                go(table)
        else:
            go(None)
    finally:
        if bar is not None:
            bar.close()
    return AuditReport(files, total, since, fail_level)


def _check_outputs(outputs: Sequence[str], files: Sequence[str]) -> None:
    """Refuse, before any work, outputs that cannot be written or that are logs being read
    (``-o log.jsonl`` would replace a log with its report)."""
    if not outputs:
        return
    from ._fsutil import check_target, write_error

    ids: dict[tuple[int, int], str] = {}
    seen: dict[str, str] = {}
    for out in outputs:
        if "://" in out:
            raise UsageError(f"cannot write {out}: the report and the findings table are "
                             "written to local files")
        real = os.path.realpath(out)
        if real in seen:  # the report, written last, would replace the table
            raise UsageError(f"-o {seen[real]} and --findings-out {out} are the same file: "
                             "give each its own")
        seen[real] = out
        try:
            check_target(out)
        except OSError as exc:
            raise UsageError(write_error(out, exc)) from None
        try:
            st = os.stat(out)
        except OSError:
            continue
        ids[(st.st_dev, st.st_ino)] = out
    if not ids:
        return
    for f in files:
        if "://" in f:
            continue
        try:
            st = os.stat(f)
        except OSError:
            continue
        same = ids.get((st.st_dev, st.st_ino))
        if same is not None:
            raise UsageError(f"{same} is one of the logs being audited: not overwritten "
                             "(write the report or the table somewhere else)")


# -- the command -----------------------------------------------------------------------------

def _size(text: str) -> int:
    units = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2,
             "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3}
    t = text.strip().lower().replace(" ", "")
    num = t.rstrip("kmgib")
    try:
        value = float(num) * units[t[len(num):]]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 64MiB)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 64MiB)")
    return int(value)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="JSON Lines logs (plain or .gz); directories are searched for "
                   "*.jsonl, *.ndjson and their .gz")
    p.add_argument("--engine", choices=("local", "dask"), default=None,
                   help="local: a process pool (default); dask: a Dask cluster "
                   "(pip install 'aimlcat[dask]')")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="the Dask scheduler to use (tcp://host:8786); implies --engine dask. "
                   "Without it, --engine dask starts a LocalCluster")
    from ._config import add_config_arguments, codes_action, whole_number

    p.add_argument("-j", "--jobs", type=whole_number(0), default=0, metavar="N",
                   help="processes (local) or LocalCluster workers (dask); 0: the cores "
                   "available (default)")
    p.add_argument("--since", metavar="DATE",
                   help="only lines dated at or after DATE (RFC 3339 date or date-time, or "
                   "epoch seconds); lines without a timestamp are checked and counted as undated")
    p.add_argument("--endpoint", help="endpoint path or URL for bodies that name none")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default) or json")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the report to FILE (- for standard output)")
    p.add_argument("--findings-out", metavar="FILE",
                   help="write every finding as a row: FILE.parquet (needs pyarrow), else "
                   "JSON Lines (.jsonl, or .jsonl.gz)")
    p.add_argument("--samples", type=whole_number(0), default=DEFAULT_SAMPLES, metavar="N",
                   help=f"line references kept per finding (default {DEFAULT_SAMPLES})")
    p.add_argument("--select", metavar="CODES", action=codes_action(),
                   help="comma-separated code prefixes to report (AML3, AML302, ALL); "
                   "repeated flags add up")
    p.add_argument("--ignore", metavar="CODES", action=codes_action(),
                   help="comma-separated code prefixes not to report")
    p.add_argument("--fail-level", choices=("error", "warning", "info"), default=None,
                   help="the least severity that makes the exit code 1 (default error)")
    p.add_argument("--strict", action="store_true",
                   help="fail on warnings too (--fail-level warning)")
    p.add_argument("--exit-zero", action="store_true",
                   help="exit 0 even when there are findings (2 still means unreadable input)")
    p.add_argument("--blocksize", type=_size, default=DEFAULT_BLOCKSIZE, metavar="SIZE",
                   help="split plain logs into pieces of about SIZE (default 64MiB); "
                   ".gz files are read whole")
    p.add_argument("--max-bytes", type=whole_number(1), default=None, metavar="N",
                   help="longest line read, in bytes (default 64 MiB)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it shows only on a terminal, and never in CI)")
    add_config_arguments(p)


def run(args: argparse.Namespace, out: IO[str]) -> int:
    """Run ``aimlcat audit`` with parsed arguments; the exit code.

    Settings come as for ``lint`` (:func:`aimlcat._config.effective`: flags over the
    configuration file over the defaults); the file's keys about payload files in a
    repository (``exclude``, ``respect-gitignore``, ``per-file-ignores``) do not apply
    to logs."""
    from ._config import configured_catalog, effective, read_config

    engine = args.engine or ("dask" if args.scheduler else "local")
    if args.scheduler and engine != "dask":
        raise UsageError("--scheduler is a Dask scheduler: use it with --engine dask")
    if args.samples < 0:
        raise UsageError("--samples must be 0 or more")
    if args.output == "-":  # standard output, as lint's `-o -`; not a file named -
        args.output = None
    if "-" in args.paths:  # lint's spelling of standard input; a log is cut into byte ranges
        raise UsageError("audit reads log files, not standard input (-): save the log to a "
                         "file (a file named - is ./-)")
    since = parse_since(args.since) if args.since is not None else None
    eff = effective(read_config(args.config, args.no_config), select=args.select,
                    ignore=args.ignore, fail_level=args.fail_level, strict=args.strict,
                    endpoint=args.endpoint, max_bytes=args.max_bytes)
    cat, files = configured_catalog(eff.config, cache=not args.no_cache)
    if files is not None:  # this process checks with the catalog just built, not a second
        with _STATE_LOCK:
            _STATE[("catalog", catalog_digest(files))] = cat
    report = audit(args.paths, engine=engine, jobs=args.jobs, scheduler=args.scheduler,
                   since=since, endpoint=eff.endpoint, select=eff.select, ignore=eff.ignore,
                   samples=args.samples, blocksize=args.blocksize, max_bytes=eff.max_bytes,
                   findings_out=args.findings_out, fail_level=eff.fail_level,
                   progress=not args.no_progress,
                   protect=(args.output,) if args.output else (), catalog_files=files)
    writer = write_json if args.format == "json" else write_text
    if args.output:
        import io

        from ._fsutil import atomic_write_text, write_error

        buf = io.StringIO()
        writer(report, buf)
        try:
            atomic_write_text(args.output, buf.getvalue())
        except OSError as exc:
            raise UsageError(write_error(args.output, exc)) from None
    else:
        writer(report, out)
    errors = report.errors()
    for path, message in errors:
        print(f"aimlcat: {path}: {message}", file=sys.stderr)
    if errors:
        return EXIT_USAGE
    if args.exit_zero:
        return EXIT_OK
    return EXIT_FINDINGS if report.failing() else EXIT_OK
