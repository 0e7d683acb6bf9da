"""The lint engine: files in, :class:`FileResult` s out (in input order).

For each file: read it (JSON, YAML, or JSON Lines a line at a time), validate
each request, keep the findings the selection reports, and only then, for a
file that has findings, find their lines and columns and apply the inline
``# aimlcat: ignore[...]`` comments of YAML files. With ``fix``/``diff`` the
safe fixes are written (or shown) through :mod:`aimlcat._fixer`. Many files are
checked in small batches, each step over the whole batch (:func:`check_files`):
the same results, in the same order, for less time.

Everything a worker process needs travels in a :class:`LintContext`, so
``--jobs N`` gives exactly what one process gives.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, Any

from ._config import Selector
from ._exceptions import PayloadError
from ._findings import Finding
from ._payloads import (
    DEFAULT_MAX_BYTES,
    STDIN,
    BadLine,
    Payload,
    file_kind,
    iter_records,
    named_twice,
    parse_payload,
    read_bytes,
    read_payload,
)
from ._results import FileResult, FindingSpool, Located
from ._secrets import redact_source

__all__ = ["LintContext", "Progress", "check_file", "check_files", "iter_lint", "lint_files"]


@dataclass(frozen=True, slots=True)
class LintContext:
    """What checking a file needs besides the file (picklable, for worker processes)."""

    endpoint: str | None = None
    selector: Selector = field(default_factory=Selector)
    fix: bool = False
    diff: bool = False
    #: Compiled catalog files when extra catalogs are merged in; None: the bundled catalog.
    catalog_files: dict[str, str] | None = None
    #: The largest file (or JSON Lines line) read.
    max_bytes: int = DEFAULT_MAX_BYTES


_CATALOG: list[Any] = []  # this process's catalog, once built


def use_catalog(cat: Any) -> None:
    """Make ``cat`` the catalog this process validates with."""
    _CATALOG[:] = [cat]


def _catalog(ctx: LintContext) -> Any:
    if not _CATALOG:
        if ctx.catalog_files is not None:
            from ._config import memory_catalog

            use_catalog(memory_catalog(ctx.catalog_files, "<extra catalogs>"))
        else:
            from ._catalog import load_catalog

            use_catalog(load_catalog())
    return _CATALOG[0]


# -- one document --------------------------------------------------------------------------

_INLINE = re.compile(r"#\s*aimlcat:\s*ignore(?:\[([^\]]*)\])?")


def _inline_ignores(text: str) -> dict[int, tuple[str, ...]]:
    """``# aimlcat: ignore[CODE, ...]`` comments by line (an empty tuple: every code)."""
    out: dict[int, tuple[str, ...]] = {}
    if "aimlcat:" not in text:
        return out
    for n, line in enumerate(text.split("\n"), 1):  # lines as positions count them
        m = _INLINE.search(line)
        if m:
            codes = m.group(1)
            out[n] = tuple(c.strip().upper() for c in codes.split(",") if c.strip()) \
                if codes is not None else ()
    return out


def _selected(findings: Sequence[Finding], path: str, ctx: LintContext) -> list[Finding]:
    sel = ctx.selector
    if sel.trivial:
        return list(findings)
    here = sel.ignored_here(path)
    return [f for f in findings if sel.enabled(f.code)
            and not (here and f.code.startswith(here))]


def _locate(payload: Payload, findings: list[Finding], shift: int = 0) -> list[Located]:
    spans = payload.spans(findings)
    if payload.kind == "yaml":
        inline = _inline_ignores(payload.text())
        if inline:
            kept = []
            for f, s in zip(findings, spans, strict=True):
                codes = inline.get(s.line)
                if codes is None or (codes and not f.code.startswith(codes)):
                    kept.append((f, s))
            return [Located(f, s) for f, s in kept]
    if shift:
        return [Located(f, s.shifted(shift)) for f, s in zip(findings, spans, strict=True)]
    return [Located(f, s) for f, s in zip(findings, spans, strict=True)]


def check_file(path: str, ctx: LintContext, *, stdin_text: str | None = None) -> FileResult:
    """Lint one file (``-``: ``stdin_text``), fixing it when ``ctx`` says so."""
    kind = None
    if path.__class__ is not str:  # what a walk found but cannot read (_discover.Unreadable)
        return FileResult(path=str(path), error=f"{path}: {getattr(path, 'reason', '?')}")
    if path != "-":
        kind = file_kind(path)
        if kind == "jsonl":
            return _check_jsonl(path, ctx)
    try:
        payload = read_payload(path, stdin_text=stdin_text, kind=kind, max_bytes=ctx.max_bytes)
    except PayloadError as exc:
        return _unreadable(exc)
    report = _catalog(ctx).validate(payload.body, payload.endpoint or ctx.endpoint)
    return _result(path, payload, report, ctx, stdin_text)


def _unreadable(exc: PayloadError) -> FileResult:
    return FileResult(path=exc.path, error=str(exc), error_span=_error_span(exc))


def _result(path: str, payload: Payload, report: Any, ctx: LintContext,
            stdin_text: str | None = None) -> FileResult:
    """A read and validated file's result: its selected findings, placed (and fixed)."""
    shown = STDIN if path == "-" else path
    found = report.findings
    twice = named_twice(payload, _catalog(ctx)) if payload.also_named else ()
    if not found and not payload.file_findings and not twice:
        return FileResult(shown, model=report.model, endpoint=report.endpoint)
    findings = _selected([*payload.file_findings, *twice,
                          *(payload.in_file(f) for f in found)], shown, ctx)
    result = FileResult(path=shown, findings=_locate(payload, findings) if findings else [],
                        model=report.model, endpoint=report.endpoint)
    if (ctx.fix or ctx.diff) and any(lf.finding.fix for lf in result.findings):
        return _fix_document(path, payload, result, ctx, stdin_text)
    return result


#: Files checked a batch at a time by :func:`check_files` (16 to 128 measure alike).
_BATCH = 32
#: ... unless their bytes pass this first: a batch of large files holds one or a few.
_BATCH_BYTES = 1 << 20


def check_files(paths: Sequence[str], ctx: LintContext, *,
                stdin_text: str | None = None) -> list[FileResult]:
    """:func:`check_file` of each path, in order, with the same results.

    Each step runs over the whole batch before the next (read every file, parse
    them, validate them, then place the findings): the same work as one file
    after another, but each step's code and data stay in the processor's caches
    across the batch instead of being evicted by the other steps' (and by the
    kernel's work in the system calls) once per file. On the bench corpus of
    10,000 small files that is 15-20 % of the lint's time. A batch is small
    (:data:`_BATCH` files, fewer once their bytes pass :data:`_BATCH_BYTES`), so
    memory stays flat. With ``--fix``/``--diff``
    files are checked one at a time (a file named twice must be read again
    after its fix); JSON Lines files and standard input always are."""
    if ctx.fix or ctx.diff or len(paths) < 2:
        return [check_file(path, ctx, stdin_text=stdin_text) for path in paths]
    out: list[FileResult] = []
    while len(out) < len(paths):
        out += _check_batch(paths, len(out), ctx, stdin_text)
    return out


def _check_batch(paths: Sequence[str], start: int, ctx: LintContext,
                 stdin_text: str | None) -> list[FileResult]:
    """The results of the files of ``paths`` from ``start`` on: :data:`_BATCH` of them, or
    fewer when their bytes passed :data:`_BATCH_BYTES` first (at least one)."""
    max_bytes = ctx.max_bytes
    read: list[Any] = []
    held = 0
    paths = paths[start:start + _BATCH]  # (not the rest of a long list: one slice each)
    for path in paths:
        if held > _BATCH_BYTES:
            break
        kind = None if path == "-" or path.__class__ is not str else file_kind(path)
        if kind is None or kind == "jsonl":
            read.append(None)
            continue
        try:
            data = read_bytes(path, max_bytes)
        except PayloadError as exc:
            read.append(exc)
        else:
            read.append(data)
            held += len(data)
    for i, data in enumerate(read):
        if data.__class__ is bytes:
            try:
                read[i] = parse_payload(data, paths[i], file_kind(paths[i]))
            except PayloadError as exc:
                read[i] = exc
    validate = _catalog(ctx).validate
    endpoint = ctx.endpoint
    reports = [validate(p.body, p.endpoint or endpoint) if p.__class__ is Payload else None
               for p in read]
    out = []
    for path, p, report in zip(paths, read, reports, strict=False):
        if report is not None:
            out.append(_result(path, p, report, ctx))
        elif p is None:
            out.append(check_file(path, ctx, stdin_text=stdin_text))
        else:
            out.append(_unreadable(p))
    return out


def _error_span(exc: PayloadError) -> Any:
    if exc.line is None:
        return None
    from ._positions import Span

    return Span(exc.line, exc.column or 1)


def _fix_document(path: str, payload: Payload, result: FileResult, ctx: LintContext,
                  stdin_text: str | None) -> FileResult:
    from ._fixer import fix_text, unified_diff

    fixes = [lf.finding.fix for lf in result.findings if lf.finding.fix is not None]
    old = payload.text()
    outcome = fix_text(old, payload.kind, fixes)
    result.fix_skipped = outcome.problem
    if outcome.text is None:
        return result
    if ctx.diff:
        # The BOM is part of the first line as a patch tool reads the file. Printed, so
        # through _secrets as every finding's text is: keys never shown.
        bom = "\ufeff" if path != "-" and _has_bom(path) else ""
        result.diff = redact_source(unified_diff(bom + old, bom + outcome.text, result.path))
        return result
    if path == "-":
        # A file that cannot be written (exit 2), as docs/linting.md says.
        result.fix_error = "standard input cannot be rewritten; use --diff"
        return result
    try:
        _write_document(path, outcome.text)
    except OSError as exc:
        result.fix_error = (exc.strerror or str(exc)).removeprefix(f"{path}: ")
        return result
    again = check_file(path, replace(ctx, fix=False, diff=False), stdin_text=stdin_text)
    again.fixed = outcome.applied
    again.fix_skipped = outcome.problem
    return again


def _has_bom(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(3) == b"\xef\xbb\xbf"


def _write_document(path: str, text: str) -> None:
    from pathlib import Path

    from ._fixer import atomic_binary
    from ._fsutil import atomic_write_text

    had_bom = _has_bom(path)
    if path.endswith(".gz"):
        import gzip

        with atomic_binary(path) as out:
            out.write(gzip.compress(text.encode("utf-8", "surrogateescape"), mtime=0))
        return
    atomic_write_text(Path(path), ("\ufeff" if had_bom else "") + text)


# -- JSON Lines ----------------------------------------------------------------------------

def _check_jsonl(path: str, ctx: LintContext) -> FileResult:
    """Lint a JSON Lines file a line at a time (memory stays flat with its length)."""
    from ._positions import Span

    cat = _catalog(ctx)
    # Findings go to a spool (past a few thousand, to a temporary file): a log where
    # every line has one keeps memory flat, and the reporters read them back in order.
    out = FindingSpool()
    result = FileResult(path=path, findings=out, records=0)
    # Only --fix / --diff need each line's fixes again.
    fixing = ctx.fix or ctx.diff
    fixable: dict[int, list[dict[str, Any]]] = {}
    records = 0
    try:
        for n, item in iter_records(path, ctx.max_bytes):
            records += 1
            if isinstance(item, BadLine):
                for f in _selected([item.finding], path, ctx):
                    out.append(Located(f, Span(n, item.column or 1)))
                continue
            report = cat.validate(item.body, item.endpoint or ctx.endpoint)
            twice = named_twice(item, cat) if item.also_named else ()
            if not report.findings and not item.file_findings and not twice:
                continue
            findings = _selected([*item.file_findings, *twice,
                                  *(item.in_file(f) for f in report.findings)], path, ctx)
            if not findings:
                continue
            located = _locate(item, findings, n - 1)
            out.extend(located)
            if fixing:
                fixes = [lf.finding.fix for lf in located if lf.finding.fix is not None]
                if fixes:
                    fixable[n] = fixes
    except PayloadError as exc:
        result.error = str(exc)
        result.error_span = _error_span(exc)
    result.records = records
    if fixable and result.error is None:
        return _fix_jsonl(path, result, fixable, ctx)
    return result


def _fix_jsonl(path: str, result: FileResult, fixable: dict[int, list[dict[str, Any]]],
               ctx: LintContext) -> FileResult:
    from ._fixer import LineDiff, atomic_binary, diff_name, fix_json_text

    gz = path.endswith(".gz")

    def lines() -> Any:
        if gz:
            import gzip

            return gzip.open(path, "rb")
        return open(path, "rb")

    # First pass: the new text of each line that has fixes (only those are kept), and
    # with --diff the diff, made as the lines go by.
    new: dict[int, bytes] = {}
    diff = LineDiff() if ctx.diff else None
    applied = 0
    problems = []
    with lines() as fh:
        for n, raw in enumerate(fh, 1):
            fixes = fixable.get(n)
            if fixes is not None:
                body = raw.rstrip(b"\r\n")
                bom = b"\xef\xbb\xbf" if n == 1 and body.startswith(b"\xef\xbb\xbf") else b""
                text = body[len(bom):].decode("utf-8", "surrogateescape")
                outcome = fix_json_text(text, fixes)
                if outcome.problem:
                    problems.append(f"line {n}: {outcome.problem}")
                if outcome.text is not None:
                    applied += outcome.applied
                    new[n] = (bom + outcome.text.encode("utf-8", "surrogateescape")
                              + raw[len(body):])
                    if diff is not None:  # the lines as they stand: a BOM, a CR kept
                        diff.changed(n, raw, new[n])
                    continue
            if diff is not None:
                diff.same(raw)
    if problems:
        result.fix_skipped = "; ".join(problems[:3]) + (" ..." if len(problems) > 3 else "")
    if not new:
        return result
    if diff is not None:
        name = diff_name(path)
        result.diff = redact_source(f"--- a/{name}\n+++ b/{name}\n" + diff.text())
        return result
    # Second pass: copy the file with those lines replaced, streaming.
    try:
        with lines() as src, atomic_binary(path) as dst:
            sink: Any = dst
            if gz:
                import gzip

                sink = gzip.GzipFile(fileobj=dst, mode="wb", mtime=0)
            for n, raw in enumerate(src, 1):
                sink.write(new.get(n, raw))
            if gz:
                sink.close()
    except OSError as exc:
        result.fix_error = (exc.strerror or str(exc)).removeprefix(f"{path}: ")
        return result
    again = _check_jsonl(path, replace(ctx, fix=False, diff=False))
    again.fixed = applied
    again.fix_skipped = result.fix_skipped
    return again


# -- many files ----------------------------------------------------------------------------

class Progress:
    """A progress bar on a terminal's standard error; silent in CI, when piped, or when short."""

    def __init__(self, total: int | None, stream: IO[str] | None = None, *,
                 enabled: bool | None = None, unit: str = "files") -> None:
        import time

        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = (_isatty(self.stream) and not os.environ.get("CI")
                       and os.environ.get("TERM") != "dumb")
        self.enabled = enabled and (total is None or total > 1)
        self.total = total
        self.unit = unit
        self.done = 0
        self._start = time.monotonic()
        self._last = 0.0
        self._shown = False
        self._clock = time.monotonic

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = self._clock()
        # Nothing for the first half second (short runs stay quiet), then ten times a second.
        if now - self._start < 0.5 or now - self._last < 0.1:
            return
        self._last = now
        if self.total is None:  # a count, when the files are found as the work goes
            self.stream.write(f"\r\x1b[Kaimlcat: {self.done:,} {self.unit}")
        else:
            width = 30
            filled = width * self.done // self.total
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r\x1b[Kaimlcat: [{bar}] {self.done:,}/{self.total:,} {self.unit}")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _init_worker(ctx: LintContext) -> None:
    global _WORKER_CTX
    import signal

    # Ctrl-C reaches the whole process group: the parent stops the pool (quietly, exit
    # 130); a worker that raised KeyboardInterrupt too would print its own traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_CTX = ctx
    _CATALOG.clear()  # a forked worker rebuilds from ctx (the parent's may hold state)
    _catalog(ctx)


_WORKER_CTX: LintContext | None = None


def _worker_check(paths: list[str]) -> list[FileResult]:
    assert _WORKER_CTX is not None
    return check_files(paths, _WORKER_CTX)


#: Files per task sent to a worker process: enough to amortise the round trip
#: (a file takes about 25 µs), few enough to keep workers evenly busy.
_CHUNK_FILES = 64


def iter_lint(files: Iterable[str], ctx: LintContext, *, jobs: int = 1,
              progress: Progress | None = None,
              stdin_text: str | None = None) -> Iterator[FileResult]:
    """Lint ``files`` (``-`` is standard input), yielding results in input order as they come.

    Nothing is kept per file, and ``files`` is read as the work goes (a lazy
    directory walk works): memory stays flat with the number of files. With
    ``jobs`` > 1, worker processes check chunks of files; only a few chunks per
    worker are in flight at a time, and results still come in input order."""
    if progress is not None and not progress.enabled:
        progress = None
    from itertools import islice

    if jobs <= 1:
        it = iter(files)
        while group := list(islice(it, _BATCH)):
            for result in check_files(group, ctx, stdin_text=stdin_text):
                yield result
                if progress is not None:
                    progress.advance()
        return
    from concurrent.futures import ProcessPoolExecutor

    it = iter(files)
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                             initargs=(ctx,)) as pool:
        try:
            yield from _pooled(pool, it, ctx, jobs, progress, stdin_text)
        except BaseException:  # Ctrl-C, a closed output: stop now, not after the queue
            _stop(pool)
            raise


def _stop(pool: Any) -> None:
    """Cancel what is queued and end the workers (they ignore SIGINT), so an interrupted
    lint exits at once instead of waiting for the chunks in flight.

    The pool's manager thread is then waited for (it ends as soon as it sees the workers
    gone): ``shutdown(wait=False)`` forgets it, and one still running when the
    interpreter exits races concurrent.futures' exit hook, which then writes to a pipe
    the thread has just closed and prints a traceback (CPython 3.11)."""
    workers = list((getattr(pool, "_processes", None) or {}).values())  # gone after shutdown
    manager = getattr(pool, "_executor_manager_thread", None)  # (ditto)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()
    if manager is not None:
        manager.join(timeout=10)


def _pooled(pool: Any, it: Iterator[str], ctx: LintContext, jobs: int,
            progress: Progress | None, stdin_text: str | None) -> Iterator[FileResult]:
    from collections import deque
    from concurrent.futures import Future
    from itertools import islice

    pending: deque[Future[list[FileResult]] | FileResult] = deque()
    exhausted = False
    while True:
        while not exhausted and len(pending) < 4 * jobs:
            chunk = list(islice(it, _CHUNK_FILES))
            if not chunk:
                exhausted = True
                break
            batch: list[str] = []
            for path in chunk:  # standard input is read here, in this process
                if path == "-" or path.__class__ is not str:  # not for a worker
                    if batch:
                        pending.append(pool.submit(_worker_check, batch))
                        batch = []
                    pending.append(check_file(path, ctx, stdin_text=stdin_text))
                else:
                    batch.append(path)
            if batch:
                pending.append(pool.submit(_worker_check, batch))
        if not pending:
            return
        head = pending.popleft()
        done = [head] if isinstance(head, FileResult) else head.result()
        yield from done
        if progress is not None:
            progress.advance(len(done))


def lint_files(files: Sequence[str], ctx: LintContext, *, jobs: int = 1,
               progress: Progress | None = None,
               stdin_text: str | None = None) -> list[FileResult]:
    """Lint ``files`` and return their results in the same order (see :func:`iter_lint`)."""
    if len(files) < 2:
        jobs = 1
    return list(iter_lint(files, ctx, jobs=jobs, progress=progress, stdin_text=stdin_text))
