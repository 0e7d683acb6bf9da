"""What linting gives, as plain data: per file, its findings with their positions.

Built by :mod:`aimlcat._lint` (in worker processes too, so everything here
pickles) and read by :mod:`aimlcat._reporters`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._findings import ERROR, INFO, WARNING, Finding

if TYPE_CHECKING:  # positions are imported only for files that have findings
    from collections.abc import Iterable, Iterator

    from ._positions import Span

__all__ = ["SEVERITY_RANK", "FileResult", "FindingSpool", "Located", "Summary"]

SEVERITY_RANK = {INFO: 0, WARNING: 1, ERROR: 2}


@dataclass(frozen=True, slots=True)
class Located:
    """A finding and where it stands in its file (None: no text to point into)."""

    finding: Finding
    span: Span | None = None

    def to_dict(self) -> dict[str, Any]:
        out = self.finding.to_dict()
        if self.span is not None:
            out["line"] = self.span.line
            out["column"] = self.span.column
            if self.span.end_line is not None:
                out["end_line"] = self.span.end_line
                out["end_column"] = self.span.end_column
        return out


class FindingSpool:
    """A file's located findings, in order, for files that can have any number of them
    (a JSON Lines log where every line has a finding). The first :attr:`HOLD` stay in
    memory; the rest are pickled to a temporary file in blocks of :attr:`BLOCK`, so
    memory stays flat however many there are. Iterating reads them back (each
    iteration on its own), and the counts a summary needs are kept as they are added,
    so counting reads nothing back.

    Pickling one hands its temporary file over (a worker process's result goes to the
    parent, which deletes the file once the result is dropped)."""

    HOLD = 2_000
    BLOCK = 1_000

    def __init__(self) -> None:
        self._head: list[Located] = []
        self._block: list[Located] = []
        self._path: str | None = None
        self._writer: Any = None
        self._cleanup: Any = None
        self._count = 0
        #: Findings by severity, and how many carry a fix.
        self.by_severity: dict[str, int] = {ERROR: 0, WARNING: 0, INFO: 0}
        self.fixable = 0

    def append(self, lf: Located) -> None:
        self._count += 1
        self.by_severity[lf.finding.severity] += 1
        if lf.finding.fix is not None:
            self.fixable += 1
        if len(self._head) < self.HOLD:
            self._head.append(lf)
            return
        self._block.append(lf)
        if len(self._block) >= self.BLOCK:
            self._spill()

    def extend(self, items: Iterable[Located]) -> None:
        for lf in items:
            self.append(lf)

    def _spill(self) -> None:
        import pickle

        if self._writer is None:
            import os
            import tempfile
            import weakref

            fd, self._path = tempfile.mkstemp(prefix="aimlcat-findings-", suffix=".pickle")
            self._writer = os.fdopen(fd, "wb")
            self._cleanup = weakref.finalize(self, _remove, self._path, self._writer)
        # As plain tuples: pickling the slotted dataclasses themselves costs 3-4 times as much.
        rows = [(f.code, f.severity, f.pointer, f.message, f.hint, f.fix,
                 None if s is None else (s.line, s.column, s.end_line, s.end_column))
                for f, s in ((lf.finding, lf.span) for lf in self._block)]
        pickle.dump(rows, self._writer, protocol=pickle.HIGHEST_PROTOCOL)
        self._block = []

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[Located]:
        yield from self._head
        if self._path is not None:
            import pickle

            from ._positions import Span

            if self._writer is not None:
                self._writer.flush()
            with open(self._path, "rb") as fh:
                while True:
                    try:
                        rows = pickle.load(fh)
                    except EOFError:
                        break
                    for code, severity, pointer, message, hint, fix, span in rows:
                        yield Located(Finding(code, severity, pointer, message, hint, fix),
                                      None if span is None else Span(*span))
        yield from self._block

    def __eq__(self, other: object) -> bool:
        """The same findings in the same order (as another spool or as a list)."""
        if isinstance(other, FindingSpool | list):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        if self._writer is not None:
            self._writer.flush()
            self._writer.close()
            self._cleanup.detach()  # the receiving side owns the file now
            self._writer = self._cleanup = None
        return (_restore_spool, (self._head, self._block, self._path, self._count,
                                 self.by_severity, self.fixable))


def _remove(path: str, writer: Any) -> None:
    import contextlib
    import os

    if writer is not None:
        writer.close()
    with contextlib.suppress(OSError):
        os.remove(path)


def _restore_spool(head: list[Located], block: list[Located], path: str | None, count: int,
                   by_severity: dict[str, int], fixable: int) -> FindingSpool:
    import weakref

    spool = FindingSpool()
    spool._head, spool._block, spool._count = head, block, count
    spool.by_severity, spool.fixable = by_severity, fixable
    if path is not None:
        spool._path = path
        spool._cleanup = weakref.finalize(spool, _remove, path, None)
    return spool


@dataclass(slots=True)
class FileResult:
    """What linting one file gave: its findings, or the error that stopped it being read."""

    path: str
    #: A list, or for a JSON Lines file a :class:`FindingSpool` (iterate it; do not index).
    findings: list[Located] | FindingSpool = field(default_factory=list)
    error: str | None = None
    error_span: Span | None = None
    model: str | None = None
    endpoint: str | None = None
    #: JSON Lines: how many requests (non-blank lines) were read.
    records: int | None = None
    #: ``--fix``: fixes written; ``--diff``: the unified diff of what would change.
    fixed: int = 0
    diff: str | None = None
    #: ``--fix``: the file could not be rewritten (it is reported; the others are still fixed).
    fix_error: str | None = None
    #: ``--fix``/``--diff``: fixes that could not be made in place (the file is left as it was).
    fix_skipped: str | None = None

    def counts(self) -> tuple[dict[str, int], int]:
        """Findings per severity, and how many carry a fix: a spool's running counts (nothing
        read back), else counted over the list once."""
        found = self.findings
        if isinstance(found, FindingSpool):
            return found.by_severity, found.fixable
        by_severity = {ERROR: 0, WARNING: 0, INFO: 0}
        fixable = 0
        for lf in found:
            by_severity[lf.finding.severity] += 1
            fixable += lf.finding.fix is not None
        return by_severity, fixable

    def reaches(self, rank: int) -> bool:
        """Whether a finding is at or above the severity of ``rank`` (SEVERITY_RANK)."""
        return any(n and SEVERITY_RANK[sev] >= rank for sev, n in self.counts()[0].items())


@dataclass(slots=True)
class Summary:
    files: int = 0
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    unreadable: int = 0
    fixable: int = 0
    fixed: int = 0
    fixed_files: int = 0
    unwritable: int = 0

    @classmethod
    def of(cls, results: Iterable[FileResult]) -> Summary:
        s = cls()
        for r in results:
            s.add(r)
        return s

    def add(self, r: FileResult) -> None:
        """Count one more file (reports are written as results come, not kept)."""
        self.files += 1
        if r.error is not None:
            self.unreadable += 1
        if r.fix_error is not None:
            self.unwritable += 1
        if r.fixed:
            self.fixed += r.fixed
            self.fixed_files += 1
        by_severity, fixable = r.counts()
        self.errors += by_severity[ERROR]
        self.warnings += by_severity[WARNING]
        self.infos += by_severity[INFO]
        self.fixable += fixable

    def to_dict(self) -> dict[str, int]:
        out = {"files": self.files, "errors": self.errors, "warnings": self.warnings,
               "infos": self.infos, "unreadable": self.unreadable, "fixable": self.fixable}
        if self.fixed or self.unwritable:
            out["fixed"] = self.fixed
            out["unwritable"] = self.unwritable
        return out
