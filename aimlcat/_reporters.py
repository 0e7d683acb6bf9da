"""Reporters: turn lint results into text or JSON. One class per format, picked by name."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from ._findings import ERROR, WARNING, Finding

__all__ = ["REPORTERS", "FileResult", "Reporter", "Summary"]

@dataclass(slots=True)
class FileResult:
    """What linting one file gave: its findings, or the error that stopped it being read."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    model: str | None = None
    endpoint: str | None = None

@dataclass(slots=True)
class Summary:
    files: int = 0
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    unreadable: int = 0

    @classmethod
    def of(cls, results: list[FileResult]) -> Summary:
        s = cls(files=len(results))
        for r in results:
            if r.error is not None:
                s.unreadable += 1
            for f in r.findings:
                if f.severity == ERROR:
                    s.errors += 1
                elif f.severity == WARNING:
                    s.warnings += 1
                else:
                    s.infos += 1
        return s

def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")

def _fix_text(fix: dict[str, Any]) -> str:
    op = fix.get("op")
    if op == "move":
        return f"rename {fix['from']} to {fix['path']}"
    if op == "remove":
        return f"remove {fix['path']}"
    return f"set {fix['path']} to {json.dumps(fix.get('value'))}"

class TextReporter:
    """``path: /pointer: CODE severity: message`` with the hint and fix indented below."""

    def write(self, results: list[FileResult], out: IO[str]) -> None:
        for r in results:
            if r.error is not None:
                out.write(f"{r.error}\n")
                continue
            for f in r.findings:
                where = f" {f.pointer}:" if f.pointer else ""
                out.write(f"{r.path}:{where} {f.code} {f.severity}: {f.message}\n")
                if f.hint:
                    out.write(f"    hint: {f.hint}\n")
                if f.fix:
                    out.write(f"    fix: {_fix_text(f.fix)}\n")
        s = Summary.of(results)
        parts = []
        if s.errors:
            parts.append(_plural(s.errors, "error"))
        if s.warnings:
            parts.append(_plural(s.warnings, "warning"))
        if s.infos:
            parts.append(_plural(s.infos, "note"))
        if s.unreadable:
            parts.append(f"{s.unreadable} unreadable")
        checked = _plural(s.files, "file") + " checked"
        if parts:
            out.write(f"{checked}: {', '.join(parts)}.\n")
        else:
            out.write(f"{checked}: no problems.\n")

class JsonReporter:
    """The machine-readable report: every file, every finding, and a summary."""

    def write(self, results: list[FileResult], out: IO[str]) -> None:
        files = []
        for r in results:
            entry: dict[str, Any] = {"path": r.path}
            if r.error is not None:
                entry["error"] = r.error
            entry["model"] = r.model
            entry["endpoint"] = r.endpoint
            entry["findings"] = [f.to_dict() for f in r.findings]
            files.append(entry)
        s = Summary.of(results)
        doc = {"files": files,
               "summary": {"files": s.files, "errors": s.errors, "warnings": s.warnings,
                           "infos": s.infos, "unreadable": s.unreadable}}
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")

class Reporter(Protocol):
    def write(self, results: list[FileResult], out: IO[str]) -> None: ...


REPORTERS: dict[str, type[Reporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
}
