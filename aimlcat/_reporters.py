"""Reporters: lint results as text, JSON, SARIF, GitHub annotations or JUnit XML.

One class per format, picked by name from :data:`REPORTERS`; each is built
with a :class:`ReportContext` (colour, fail level, catalog version) and writes
every result to one stream. Nothing here reads files or decides exit codes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, Any, Protocol

from ._findings import ERROR, INFO, WARNING, Finding
from ._results import SEVERITY_RANK, FileResult, Located, Summary
from ._version import __version__

__all__ = ["REPORTERS", "FileResult", "ReportContext", "Reporter", "Summary", "fix_text"]

@dataclass(frozen=True, slots=True)
class ReportContext:
    color: bool = False
    fail_level: str = ERROR
    catalog_version: str = ""
    #: ``--fix`` ran: say what was fixed rather than what could be.
    fixing: bool = False


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def fix_text(fix: dict[str, Any]) -> str:
    """A fix (a JSON Patch operation) in words."""
    op = fix.get("op")
    if op == "move":
        return f"rename {fix['from']} to {fix['path']}"
    if op == "remove":
        return f"remove {fix['path']}"
    return f"set {fix['path']} to {json.dumps(fix.get('value'))}"


def _where(r: FileResult, lf: Located) -> str:
    s = lf.span
    return f"{r.path}:{s.line}:{s.column}" if s is not None else r.path


def summary_line(results: list[FileResult], ctx: ReportContext) -> str:
    s = Summary.of(results)
    parts = []
    if s.errors:
        parts.append(_plural(s.errors, "error"))
    if s.warnings:
        parts.append(_plural(s.warnings, "warning"))
    if s.infos:
        parts.append(_plural(s.infos, "note"))
    if s.unreadable:
        parts.append(f"{s.unreadable:,} unreadable")
    checked = _plural(s.files, "file") + " checked"
    line = f"{checked}: {', '.join(parts)}." if parts else f"{checked}: no problems."
    if s.fixed:
        line += f" Fixed {_plural(s.fixed, 'problem')} in {_plural(s.fixed_files, 'file')}."
    if s.unwritable:
        line += f" {_plural(s.unwritable, 'file')} could not be written."
    if s.fixable and not ctx.fixing:
        line += f" {s.fixable:,} fixable with `aimlcat lint --fix`."
    return line


# -- text -------------------------------------------------------------------------------

_RESET, _BOLD, _DIM = "\x1b[0m", "\x1b[1m", "\x1b[2m"
_SEVERITY_COLOR = {ERROR: "\x1b[1;31m", WARNING: "\x1b[1;33m", INFO: "\x1b[1;36m"}


class TextReporter:
    """``path:line:col: CODE severity: message``, the hint and fix indented below."""

    def __init__(self, ctx: ReportContext | None = None) -> None:
        self.ctx = ctx or ReportContext()

    def _paint(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.ctx.color else text

    def write(self, results: list[FileResult], out: IO[str]) -> None:
        paint = self._paint
        for r in results:
            if r.error is not None:
                out.write(paint(_BOLD, r.error) + "\n")
            if r.fix_error is not None:
                out.write(paint(_BOLD, f"{r.path}: cannot write the fixes: {r.fix_error}") + "\n")
            if r.fix_skipped is not None:
                out.write(f"{r.path}: not fixed: {r.fix_skipped}\n")
            for lf in r.findings:
                f = lf.finding
                head = paint(_BOLD, _where(r, lf) + ":")
                code = paint(_SEVERITY_COLOR[f.severity], f"{f.code} {f.severity}:")
                out.write(f"{head} {code} {f.message}\n")
                if f.hint:
                    out.write(paint(_DIM, f"    hint: {f.hint}") + "\n")
                if f.fix:
                    out.write(paint(_DIM, f"    fix: {fix_text(f.fix)}") + "\n")
        out.write(summary_line(results, self.ctx) + "\n")


# -- JSON -------------------------------------------------------------------------------

class JsonReporter:
    """The machine-readable report: every file, every finding (with its position), a summary."""

    def __init__(self, ctx: ReportContext | None = None) -> None:
        self.ctx = ctx or ReportContext()

    def write(self, results: list[FileResult], out: IO[str]) -> None:
        files = []
        for r in results:
            entry: dict[str, Any] = {"path": r.path}
            if r.error is not None:
                entry["error"] = r.error
            if r.fix_error is not None:
                entry["fix_error"] = r.fix_error
            if r.fix_skipped is not None:
                entry["fix_skipped"] = r.fix_skipped
            entry["model"] = r.model
            entry["endpoint"] = r.endpoint
            if r.records is not None:
                entry["records"] = r.records
            if r.fixed:
                entry["fixed"] = r.fixed
            entry["findings"] = [lf.to_dict() for lf in r.findings]
            files.append(entry)
        doc = {"files": files, "summary": Summary.of(results).to_dict()}
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


# -- SARIF 2.1.0 --------------------------------------------------------------------------

SARIF_SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                "sarif-schema-2.1.0.json")
_SARIF_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "note"}


def _artifact(path: str) -> dict[str, str]:
    """A SARIF artifactLocation: relative to the working directory when below it."""
    import os
    from pathlib import Path
    from urllib.parse import quote

    if path.startswith("<"):  # <stdin>
        return {"uri": quote(path)}
    p = Path(os.path.abspath(path))
    try:
        rel = p.relative_to(Path.cwd())
    except ValueError:
        return {"uri": p.as_uri()}
    return {"uri": quote(rel.as_posix()), "uriBaseId": "%SRCROOT%"}


def _region(lf_span: Any) -> dict[str, int]:
    region = {"startLine": lf_span.line, "startColumn": lf_span.column}
    if lf_span.end_line is not None and lf_span.end_column is not None:
        region["endLine"] = lf_span.end_line
        region["endColumn"] = lf_span.end_column
    return region


def sarif_rules() -> list[dict[str, Any]]:
    """``tool.driver.rules``: one per code, with its summary and help."""
    from ._findings import RULES

    out = []
    for rule in RULES.values():
        text = rule.help or rule.summary
        markdown = f"**{rule.code} {rule.name}**: {rule.summary}\n\n{rule.help}".rstrip()
        if rule.fix:
            markdown += f"\n\nFix: {rule.fix}"
        out.append({
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": text},
            "help": {"text": text, "markdown": markdown},
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
            "properties": {"tags": [rule.name]},
        })
    return out


class SarifReporter:
    """SARIF 2.1.0: one run, every rule with its help, a result per finding."""

    def __init__(self, ctx: ReportContext | None = None) -> None:
        self.ctx = ctx or ReportContext()

    def write(self, results: list[FileResult], out: IO[str]) -> None:
        from pathlib import Path

        from ._findings import RULES

        index = {code: i for i, code in enumerate(RULES)}
        sarif_results: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        for r in results:
            where = _artifact(r.path)
            for problem, span in ((r.error, r.error_span), (r.fix_error, None)):
                if problem is None:
                    continue
                loc: dict[str, Any] = {"artifactLocation": where}
                if span is not None:
                    loc["region"] = _region(span)
                notes.append({"level": "error", "message": {"text": problem},
                              "locations": [{"physicalLocation": loc}]})
            for lf in r.findings:
                f = lf.finding
                physical: dict[str, Any] = {"artifactLocation": where}
                if lf.span is not None:
                    physical["region"] = _region(lf.span)
                text = f.message + (f"\n{f.hint}" if f.hint else "")
                result: dict[str, Any] = {
                    "ruleId": f.code,
                    "ruleIndex": index[f.code],
                    "level": _SARIF_LEVEL[f.severity],
                    "message": {"text": text},
                    "locations": [{
                        "physicalLocation": physical,
                        "logicalLocations": [{"fullyQualifiedName": f.pointer or "/",
                                              "kind": "member"}],
                    }],
                    "partialFingerprints": {"aimlcat/v1": _fingerprint(r.path, f)},
                    "properties": {"pointer": f.pointer},
                }
                if f.fix is not None:
                    result["properties"]["fix"] = f.fix
                    result["properties"]["fixDescription"] = fix_text(f.fix)
                sarif_results.append(result)
        run: dict[str, Any] = {
            "tool": {"driver": {
                "name": "aimlcat",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": sarif_rules(),
                "properties": {"catalogVersion": self.ctx.catalog_version},
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            "invocations": [{"executionSuccessful": not notes,
                             "toolExecutionNotifications": notes}],
            "columnKind": "unicodeCodePoints",
            "results": sarif_results,
        }
        doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def _fingerprint(path: str, f: Finding) -> str:
    """Stable across runs and line moves: file, code and pointer."""
    import hashlib

    return hashlib.sha256(f"{path}\0{f.code}\0{f.pointer}".encode()).hexdigest()[:32]


# -- GitHub Actions workflow commands ---------------------------------------------------

def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


_GH_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "notice"}


class GithubReporter:
    """``::error file=...,line=...,col=...,title=...::message`` lines GitHub turns into annotations."""

    def __init__(self, ctx: ReportContext | None = None) -> None:
        self.ctx = ctx or ReportContext()

    def write(self, results: list[FileResult], out: IO[str]) -> None:
        for r in results:
            for problem, span in ((r.error, r.error_span), (r.fix_error, None)):
                if problem is None:
                    continue
                props = [f"file={_gh_prop(r.path)}"]
                if span is not None:
                    props += [f"line={span.line}", f"col={span.column}"]
                props.append("title=aimlcat")
                out.write(f"::error {','.join(props)}::{_gh_data(problem)}\n")
            for lf in r.findings:
                f = lf.finding
                props = [f"file={_gh_prop(r.path)}"]
                s = lf.span
                if s is not None:
                    props += [f"line={s.line}", f"col={s.column}"]
                    if s.end_line == s.line and s.end_column is not None:
                        props += [f"endLine={s.end_line}", f"endColumn={s.end_column}"]
                props.append(f"title={_gh_prop(f'{f.code} {f.rule.name}')}")
                body = f.message + (f"\n{f.hint}" if f.hint else "")
                if f.fix:
                    body += f"\nfix (aimlcat lint --fix): {fix_text(f.fix)}"
                out.write(f"::{_GH_LEVEL[f.severity]} {','.join(props)}::{_gh_data(body)}\n")
        out.write(summary_line(results, self.ctx) + "\n")


# -- JUnit XML ----------------------------------------------------------------------------

class JunitReporter:
    """JUnit XML: a test case per file; a failure per finding at or above the fail level
    (findings below it are listed in the case's system-out); an error per unreadable file."""

    def __init__(self, ctx: ReportContext | None = None) -> None:
        self.ctx = ctx or ReportContext()

    def write(self, results: list[FileResult], out: IO[str]) -> None:
        from xml.sax.saxutils import escape as esc
        from xml.sax.saxutils import quoteattr

        floor = SEVERITY_RANK[self.ctx.fail_level]
        cases: list[str] = []
        failures = errors = 0
        for r in results:
            body: list[str] = []
            below: list[str] = []
            for problem in (r.error, r.fix_error):
                if problem is not None:
                    errors += 1
                    body.append(f"      <error type=\"unreadable\" message={quoteattr(problem)}>"
                                f"{esc(problem)}</error>")
            for lf in r.findings:
                f = lf.finding
                line = f"{_where(r, lf)}: {f.code} {f.severity}: {f.message}"
                detail = line + (f"\nhint: {f.hint}" if f.hint else "") + (
                    f"\nfix: {fix_text(f.fix)}" if f.fix else "")
                if SEVERITY_RANK[f.severity] >= floor:
                    failures += 1
                    body.append(f"      <failure type={quoteattr(f.code)} "
                                f"message={quoteattr(line)}>{esc(detail)}</failure>")
                else:
                    below.append(detail)
            if below:
                body.append("      <system-out>" + esc("\n".join(below)) + "</system-out>")
            attrs = (f"classname=\"aimlcat.lint\" name={quoteattr(r.path)} "
                     f"file={quoteattr(r.path)} time=\"0\"")
            if body:
                cases.append(f"    <testcase {attrs}>\n" + "\n".join(body) + "\n    </testcase>")
            else:
                cases.append(f"    <testcase {attrs}/>")
        n = len(results)
        counts = f'tests="{n}" failures="{failures}" errors="{errors}"'
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                  f'<testsuites name="aimlcat" {counts} time="0">\n'
                  f'  <testsuite name="aimlcat lint" {counts} skipped="0" time="0">\n'
                  + "".join(c + "\n" for c in cases)
                  + "  </testsuite>\n</testsuites>\n")


class Reporter(Protocol):
    def write(self, results: list[FileResult], out: IO[str]) -> None: ...


REPORTERS: dict[str, type[TextReporter | JsonReporter | SarifReporter | GithubReporter
                         | JunitReporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
    "sarif": SarifReporter,
    "github": GithubReporter,
    "junit": JunitReporter,
}
