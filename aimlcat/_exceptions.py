"""Exceptions raised by aimlcat.

The hierarchy::

    AimlcatError                 every error aimlcat raises on purpose
    ├── CatalogError             the catalog (YAML or compiled) is broken; carries
    │                            one CatalogProblem per problem (file, line, key)
    ├── PayloadError             a payload file cannot be read or parsed
    ├── PreflightError           a request failed the pre-flight check in an HTTP
    │                            client and was not sent; carries the Report
    └── UsageError               a caller passed arguments that make no sense

Findings about a request (an unknown parameter, a value out of range) are not
exceptions: they are data in a :class:`aimlcat.Report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._findings import Report

__all__ = ["AimlcatError", "CatalogError", "CatalogProblem", "PayloadError", "PreflightError",
           "UsageError"]


class AimlcatError(Exception):
    """Base class of every error aimlcat raises on purpose."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogProblem:
    """One problem in one catalog file, with where it is."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class CatalogError(AimlcatError):
    """The catalog cannot be loaded or compiled; ``problems`` lists every problem found."""

    def __init__(self, problems: list[CatalogProblem]) -> None:
        self.problems = problems
        lines = [str(p) for p in problems]
        super().__init__(
            f"{len(problems)} problem(s) in the catalog:\n  " + "\n  ".join(lines)
            if len(problems) != 1
            else lines[0]
        )


class PayloadError(AimlcatError):
    """A payload file cannot be read or parsed."""

    def __init__(self, path: str, message: str, *, line: int | None = None,
                 column: int | None = None) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.reason = message
        where = path if line is None else f"{path}:{line}" + (f":{column}" if column else "")
        super().__init__(f"{where}: {message}")


class PreflightError(AimlcatError):
    """A request failed the pre-flight check (see ``aimlcat.client``) and was not sent.

    ``report`` holds the findings; ``method`` and ``url`` name the request (the
    URL without its query or user info). Nothing of the request's headers is kept,
    so no API key reaches the message, the repr or a log line."""

    def __init__(self, report: Report, *, method: str = "POST", url: str = "") -> None:
        self.report = report
        self.method = method
        self.url = url
        counts = []
        for severity in ("error", "warning"):
            n = sum(1 for f in report.findings if f.severity == severity)
            if n:
                counts.append(f"{n} {severity}{'' if n == 1 else 's'}")
        what = report.model or "the request"
        where = f" on {report.endpoint}" if report.endpoint else ""
        head = (f"{method} {url} not sent: " if url else "not sent: ") + (
            f"{', '.join(counts) or 'no findings'} for {what}{where}")
        lines = [head]
        for f in report.findings:
            lines.append(f"  {f.pointer or '/'}: {f.code} {f.severity}: {f.message}")
            if f.hint:
                lines.append(f"      hint: {f.hint}")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_preflight, (self.report, self.method, self.url))


def _rebuild_preflight(report: Report, method: str, url: str) -> PreflightError:
    return PreflightError(report, method=method, url=url)


class UsageError(AimlcatError):
    """The caller asked for something that cannot be done as asked."""
