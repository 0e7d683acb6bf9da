"""What linting gives, as plain data: per file, its findings with their positions.

Built by :mod:`aimlcat._lint` (in worker processes too, so everything here
pickles) and read by :mod:`aimlcat._reporters`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._findings import ERROR, INFO, WARNING, Finding

if TYPE_CHECKING:  # positions are imported only for files that have findings
    from collections.abc import Iterable

    from ._positions import Span

__all__ = ["SEVERITY_RANK", "FileResult", "Located", "Summary"]

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


@dataclass(slots=True)
class FileResult:
    """What linting one file gave: its findings, or the error that stopped it being read."""

    path: str
    findings: list[Located] = field(default_factory=list)
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
        for lf in r.findings:
            f = lf.finding
            if f.severity == ERROR:
                self.errors += 1
            elif f.severity == WARNING:
                self.warnings += 1
            else:
                self.infos += 1
            if f.fix is not None:
                self.fixable += 1

    def to_dict(self) -> dict[str, int]:
        out = {"files": self.files, "errors": self.errors, "warnings": self.warnings,
               "infos": self.infos, "unreadable": self.unreadable, "fixable": self.fixable}
        if self.fixed or self.unwritable:
            out["fixed"] = self.fixed
            out["unwritable"] = self.unwritable
        return out
