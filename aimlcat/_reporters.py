"""Reporters: lint results as text, JSON, SARIF, GitHub annotations or JUnit XML.

One class per format, picked by name from :data:`REPORTERS`; each is built
with a :class:`ReportContext` (colour, fail level, catalog version) and writes
every result to one stream. Nothing here reads files or decides exit codes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any, Protocol

from ._findings import ERROR, INFO, WARNING, Finding
from ._results import SEVERITY_RANK, FileResult, Located, Summary
from ._secrets import redact_pointer
from ._version import __version__

__all__ = ["REPORTERS", "FileResult", "ReportContext", "Reporter", "Summary", "fix_text",
           "terminal_text"]

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
    """A fix (a JSON Patch operation) in words (a key-shaped key in its paths masked)."""
    fix = _shown_fix(fix)
    op = fix.get("op")
    if op == "move":
        return f"rename {fix['from']} to {fix['path']}"
    if op == "remove":
        return f"remove {fix['path']}"
    return f"set {fix['path']} to {json.dumps(fix.get('value'))}"


def _shown_fix(fix: dict[str, Any]) -> dict[str, Any]:
    """``fix`` with its paths as a report may show them: a field named like an API key
    (``{"sk-proj-...": 1}``) is masked, as every message is."""
    if not any(k in fix for k in ("path", "from")):
        return fix
    return {k: redact_pointer(v) if k in ("path", "from") and isinstance(v, str) else v
            for k, v in fix.items()}


def _shown(lf: Located) -> dict[str, Any]:
    """A located finding as the JSON report writes it, pointer and fix masked like its text."""
    out = lf.to_dict()
    out["pointer"] = redact_pointer(out["pointer"])
    if out.get("fix") is not None:
        out["fix"] = _shown_fix(out["fix"])
    return out


def _where(r: FileResult, lf: Located) -> str:
    s = lf.span
    return f"{r.path}:{s.line}:{s.column}" if s is not None else r.path


def summary_line(results: Iterable[FileResult] | Summary, ctx: ReportContext) -> str:
    s = results if isinstance(results, Summary) else Summary.of(results)
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


# -- the streaming frame -------------------------------------------------------------------

class _Reporter:
    """Reports are written as results arrive: ``start(out)``, ``add(result)`` per file,
    ``finish()``. Nothing is kept per file (a lint of millions of files keeps memory
    flat), except where a format needs it: SARIF's notes about unreadable files, and
    JUnit's test cases, which go to a spool file since its header holds the counts."""

    def __init__(self, ctx: ReportContext | None = None) -> None:
        self.ctx = ctx or ReportContext()
        self.summary = Summary()
        self.out: IO[str] | None = None

    def write(self, results: Iterable[FileResult], out: IO[str]) -> None:
        """The whole report of ``results`` at once."""
        self.start(out)
        for r in results:
            self.add(r)
        self.finish()

    def start(self, out: IO[str]) -> None:
        self.out = out
        self._begin(out)

    def add(self, r: FileResult) -> None:
        self.summary.add(r)
        assert self.out is not None, "start() first"
        self._file(r, self.out)

    def finish(self) -> None:
        assert self.out is not None, "start() first"
        self._end(self.out)

    def _begin(self, out: IO[str]) -> None:
        pass

    def _file(self, r: FileResult, out: IO[str]) -> None:
        raise NotImplementedError

    def _end(self, out: IO[str]) -> None:
        pass


def _indented(text: str, indent: str) -> str:
    """``text`` (indented JSON) moved right by ``indent``, its first line included."""
    return indent + text.replace("\n", "\n" + indent)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: What XML 1.0 cannot hold at all, even escaped (C0 controls but tab and line ends).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def unicode_text(text: str) -> str:
    """``text`` as valid Unicode: a file name that is not UTF-8 comes from the OS with
    lone surrogates (``\\udcff``), which no UTF-8 report can hold; each becomes U+FFFD.
    (SARIF's artifact URIs keep the name's bytes, percent-encoded.)"""
    return text if text.isascii() else _LONE_SURROGATE.sub("\ufffd", text)


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


#: Control characters (C0, DEL, C1) and the invisible marks that reorder or hide text
#: (bidi embeddings, overrides and isolates, zero-width and direction marks).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e"
                     "\u2060-\u2069\ufeff]")


def terminal_text(text: str) -> str:
    """``text`` for one line of a terminal or CI log: each control character or
    bidirectional override written as its Python escape (``\\x1b``, ``\\n``,
    ``\\u202e``). Other text, a file name that is not UTF-8 too, is left as it is."""
    if text.isascii() and text.isprintable():
        return text
    return _UNSAFE.sub(_escape, text)


def _escape(m: re.Match[str]) -> str:
    return m.group(0).encode("unicode_escape").decode("ascii")


class _JsonArray:
    """One array of a JSON document written element by element, so that the document
    reads exactly as ``json.dumps(doc, indent=2)`` would have written it whole. The
    document is written with a marker string in the array's place; the text around
    the marker is the head and the tail."""

    MARK = "\u0000aimlcat-stream\u0000"

    def __init__(self, doc_text: str) -> None:
        quoted = json.dumps(self.MARK)
        at = doc_text.index(quoted)
        self.head = doc_text[:at]
        self.tail = doc_text[at + len(quoted):]
        line_start = self.head.rfind("\n") + 1
        self.indent = " " * (len(self.head) - line_start - len(self.head[line_start:].lstrip()))
        self.first = True

    def open(self, out: IO[str]) -> None:
        out.write(self.head + "[")

    def item(self, value: Any, out: IO[str]) -> None:
        text = unicode_text(json.dumps(value, indent=2, ensure_ascii=False))
        self.item_text(text, out)

    def item_text(self, text: str, out: IO[str]) -> None:
        """An element given as its ``json.dumps(indent=2)`` text; the text may end
        unfinished (an element that streams an array of its own)."""
        out.write(("\n" if self.first else ",\n") + _indented(text, self.indent + "  "))
        self.first = False

    def close(self, out: IO[str], tail: str | None = None, end: str = "\n") -> None:
        out.write(("]" if self.first else "\n" + self.indent + "]")
                  + (self.tail if tail is None else tail) + end)


# -- text -------------------------------------------------------------------------------

_RESET, _BOLD, _DIM = "\x1b[0m", "\x1b[1m", "\x1b[2m"
_SEVERITY_COLOR = {ERROR: "\x1b[1;31m", WARNING: "\x1b[1;33m", INFO: "\x1b[1;36m"}


class TextReporter(_Reporter):
    """``path:line:col: CODE severity: message``, the hint and fix indented below."""

    def _paint(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.ctx.color else text

    def _file(self, r: FileResult, out: IO[str]) -> None:
        # Everything but the colours comes from the files (names, keys, model ids): shown
        # through terminal_text, a key holding ESC or a newline cannot forge output lines.
        paint = self._paint
        if r.error is not None:
            out.write(paint(_BOLD, terminal_text(r.error)) + "\n")
        if r.fix_error is not None:
            out.write(paint(_BOLD, terminal_text(f"{r.path}: cannot write the fixes: "
                                                 f"{r.fix_error}")) + "\n")
        if r.fix_skipped is not None:
            out.write(terminal_text(f"{r.path}: not fixed: {r.fix_skipped}") + "\n")
        for lf in r.findings:
            f = lf.finding
            head = paint(_BOLD, terminal_text(_where(r, lf)) + ":")
            code = paint(_SEVERITY_COLOR[f.severity], f"{f.code} {f.severity}:")
            out.write(f"{head} {code} {terminal_text(f.message)}\n")
            if f.hint:
                out.write(paint(_DIM, f"    hint: {terminal_text(f.hint)}") + "\n")
            if f.fix:
                out.write(paint(_DIM, f"    fix: {terminal_text(fix_text(f.fix))}") + "\n")

    def _end(self, out: IO[str]) -> None:
        out.write(summary_line(self.summary, self.ctx) + "\n")


# -- JSON -------------------------------------------------------------------------------

class JsonReporter(_Reporter):
    """The machine-readable report: every file, every finding (with its position), a summary."""

    def _begin(self, out: IO[str]) -> None:
        self._files = _JsonArray(json.dumps({"files": _JsonArray.MARK, "summary": None},
                                            indent=2))
        self._files.open(out)

    def _file(self, r: FileResult, out: IO[str]) -> None:
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
        if not r.findings:
            entry["findings"] = []
            self._files.item(entry, out)
            return
        # The findings array is written element by element inside the file's entry (a
        # JSON Lines log can have a finding on each of millions of lines): the entry's
        # text up to the array, each finding, then the rest, exactly as json.dumps of
        # the whole entry would have written them.
        entry["findings"] = _JsonArray.MARK
        text = unicode_text(json.dumps(entry, indent=2, ensure_ascii=False))
        findings = _JsonArray(text)
        outer = self._files.indent + "  "  # the entry's own indent in the files array
        self._files.item_text(findings.head, out)
        findings.indent = outer + findings.indent
        out.write("[")
        for lf in r.findings:
            findings.item(_shown(lf), out)
        findings.close(out, findings.tail.replace("\n", "\n" + outer), end="")

    def _end(self, out: IO[str]) -> None:
        summary = json.dumps(self.summary.to_dict(), indent=2).replace("\n", "\n  ")
        self._files.close(out, self._files.tail.replace("null", summary, 1))


# -- SARIF 2.1.0 --------------------------------------------------------------------------

SARIF_SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                "sarif-schema-2.1.0.json")
_SARIF_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "note"}


def _artifact(path: str) -> dict[str, str]:
    """A SARIF artifactLocation: relative to the working directory when below it.

    (String operations, not pathlib, on POSIX: this runs once per file with findings,
    and pathlib interns every path part it parses, which makes the interpreter's table
    of interned strings grow with the number of distinct file names.)"""
    import os
    from urllib.parse import quote, quote_from_bytes

    if path.startswith("<"):  # <stdin>
        return {"uri": quote(path)}
    full = os.path.abspath(path)
    cwd = os.getcwd()
    # pathlib where it differs: other systems, and POSIX's "//" root (which pathlib
    # keeps apart from "/"; abspath keeps a leading "//" too).
    if os.name != "posix" or full.startswith("//") or cwd.startswith("//"):
        from pathlib import Path

        p = Path(full)
        try:
            below = p.relative_to(Path(cwd))
        except ValueError:
            return {"uri": p.as_uri()}
        return {"uri": quote(below.as_posix()), "uriBaseId": "%SRCROOT%"}
    root = cwd.rstrip("/") + "/"
    if full == cwd:
        rel = "."
    elif full.startswith(root):
        rel = full[len(root):]
    else:  # what Path.as_uri() writes on POSIX
        return {"uri": "file://" + quote_from_bytes(os.fsencode(full))}
    return {"uri": quote_from_bytes(os.fsencode(rel)), "uriBaseId": "%SRCROOT%"}


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


class SarifReporter(_Reporter):
    """SARIF 2.1.0: one run, every rule with its help, a result per finding."""

    def _begin(self, out: IO[str]) -> None:
        from pathlib import Path

        from ._findings import RULES

        self._index = {code: i for i, code in enumerate(RULES)}
        self._notes: list[dict[str, Any]] = []
        run: dict[str, Any] = {
            "tool": {"driver": {
                "name": "aimlcat",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": sarif_rules(),
                "properties": {"catalogVersion": self.ctx.catalog_version},
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            # Results stream; the invocation, which says whether every file was read,
            # follows them.
            "results": _JsonArray.MARK,
            "invocations": None,
        }
        doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
        self._results = _JsonArray(json.dumps(doc, indent=2, ensure_ascii=False))
        self._results.open(out)

    def _file(self, r: FileResult, out: IO[str]) -> None:
        where = _artifact(r.path)
        for problem, span in ((r.error, r.error_span), (r.fix_error, None)):
            if problem is None:
                continue
            loc: dict[str, Any] = {"artifactLocation": where}
            if span is not None:
                loc["region"] = _region(span)
            self._notes.append({"level": "error", "message": {"text": problem},
                                "locations": [{"physicalLocation": loc}]})
        for lf in r.findings:
            f = lf.finding
            physical: dict[str, Any] = {"artifactLocation": where}
            if lf.span is not None:
                physical["region"] = _region(lf.span)
            text = f.message + (f"\n{f.hint}" if f.hint else "")
            result: dict[str, Any] = {
                "ruleId": f.code,
                "ruleIndex": self._index[f.code],
                "level": _SARIF_LEVEL[f.severity],
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": physical,
                    "logicalLocations": [{"fullyQualifiedName": redact_pointer(f.pointer) or "/",
                                          "kind": "member"}],
                }],
                "partialFingerprints": {"aimlcat/v1": _fingerprint(r.path, f)},
                "properties": {"pointer": redact_pointer(f.pointer)},
            }
            if f.fix is not None:
                result["properties"]["fix"] = _shown_fix(f.fix)
                result["properties"]["fixDescription"] = fix_text(f.fix)
            self._results.item(result, out)

    def _end(self, out: IO[str]) -> None:
        invocations = [{"executionSuccessful": not self._notes,
                        "toolExecutionNotifications": self._notes}]
        text = unicode_text(json.dumps(invocations, indent=2, ensure_ascii=False))
        indent = self._results.indent
        self._results.close(out, self._results.tail.replace(
            "null", text.replace("\n", "\n" + indent), 1))


def _fingerprint(path: str, f: Finding) -> str:
    """Stable across runs and line moves: file, code and pointer."""
    import hashlib

    key = f"{path}\0{f.code}\0{f.pointer}".encode("utf-8", "surrogateescape")  # a name's bytes
    return hashlib.sha256(key).hexdigest()[:32]


# -- GitHub Actions workflow commands ---------------------------------------------------

def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


_GH_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "notice"}


class GithubReporter(_Reporter):
    """``::error file=...,line=...,col=...,title=...::message`` lines GitHub turns into annotations."""

    def _file(self, r: FileResult, out: IO[str]) -> None:
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

    def _end(self, out: IO[str]) -> None:
        out.write(summary_line(self.summary, self.ctx) + "\n")


# -- JUnit XML ----------------------------------------------------------------------------

class JunitReporter(_Reporter):
    """JUnit XML: a test case per file; a failure per finding at or above the fail level
    (findings below it are listed in the case's system-out); an error per unreadable file.

    The header carries the counts, so the cases wait in a spool file (in memory while
    small) until the last one is known."""

    #: How much of the spool stays in memory before it moves to a temporary file.
    SPOOL_BYTES = 1 << 20

    def _begin(self, out: IO[str]) -> None:
        import tempfile

        self._spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed in _end)
            max_size=self.SPOOL_BYTES, mode="w+", encoding="utf-8", newline="\n")
        self._floor = SEVERITY_RANK[self.ctx.fail_level]
        self._failures = self._errors = 0

    def _file(self, r: FileResult, out: IO[str]) -> None:
        from xml.sax.saxutils import escape as esc
        from xml.sax.saxutils import quoteattr

        attrs = (f"classname=\"aimlcat.lint\" name={quoteattr(r.path)} "
                 f"file={quoteattr(r.path)} time=\"0\"")
        # A file name that is not UTF-8, a control character in a payload's key: what XML
        # cannot hold becomes U+FFFD (escaping adds none), in every piece written.
        write = self._spool.write
        attrs = _xml_text(attrs)
        if r.error is None and r.fix_error is None and not r.findings:
            write(f"    <testcase {attrs}/>\n")
            return
        # Written as they come (a JSON Lines log can have a finding on every line); the
        # findings below the fail level wait in a spool of their own for system-out.
        write(f"    <testcase {attrs}>\n")
        sep = ""
        for problem in (r.error, r.fix_error):
            if problem is not None:
                self._errors += 1
                write(_xml_text(f"{sep}      <error type=\"unreadable\" "
                                f"message={quoteattr(problem)}>{esc(problem)}</error>"))
                sep = "\n"
        below: Any = None
        for lf in r.findings:
            f = lf.finding
            line = f"{_where(r, lf)}: {f.code} {f.severity}: {f.message}"
            detail = line + (f"\nhint: {f.hint}" if f.hint else "") + (
                f"\nfix: {fix_text(f.fix)}" if f.fix else "")
            if SEVERITY_RANK[f.severity] >= self._floor:
                self._failures += 1
                write(_xml_text(f"{sep}      <failure type={quoteattr(f.code)} "
                                f"message={quoteattr(line)}>{esc(detail)}</failure>"))
                sep = "\n"
            elif below is None:
                import tempfile

                below = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed below)
                    max_size=self.SPOOL_BYTES, mode="w+", encoding="utf-8", newline="\n")
                below.write(_xml_text(esc(detail)))
            else:
                below.write(_xml_text("\n" + esc(detail)))
        if below is not None:
            import shutil

            with below:
                write(f"{sep}      <system-out>")
                below.seek(0)
                shutil.copyfileobj(below, self._spool)
                write("</system-out>")
        write("\n    </testcase>\n")

    def _end(self, out: IO[str]) -> None:
        import shutil

        counts = (f'tests="{self.summary.files}" failures="{self._failures}" '
                  f'errors="{self._errors}"')
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                  f'<testsuites name="aimlcat" {counts} time="0">\n'
                  f'  <testsuite name="aimlcat lint" {counts} skipped="0" time="0">\n')
        with self._spool as spool:
            spool.seek(0)
            shutil.copyfileobj(spool, out)
        out.write("  </testsuite>\n</testsuites>\n")


class Reporter(Protocol):
    def write(self, results: Iterable[FileResult], out: IO[str]) -> None: ...

    def start(self, out: IO[str]) -> None: ...

    def add(self, r: FileResult) -> None: ...

    def finish(self) -> None: ...


REPORTERS: dict[str, type[TextReporter | JsonReporter | SarifReporter | GithubReporter
                         | JunitReporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
    "sarif": SarifReporter,
    "github": GithubReporter,
    "junit": JunitReporter,
}
