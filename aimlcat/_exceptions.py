"""Exceptions raised by aimlcat.

The hierarchy::

    AimlcatError                 every error aimlcat raises on purpose
    ├── CatalogError             the catalog (YAML or compiled) is broken; carries
    │                            one CatalogProblem per problem (file, line, key)
    ├── PayloadError             a payload file cannot be read or parsed
    └── UsageError               a caller passed arguments that make no sense

Findings about a request (an unknown parameter, a value out of range) are not
exceptions: they are data in a :class:`aimlcat.Report`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AimlcatError", "CatalogError", "CatalogProblem", "PayloadError", "UsageError"]


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


class UsageError(AimlcatError):
    """The caller asked for something that cannot be done as asked."""
