"""``aimlcat lint --fix``: the findings' safe fixes, written into the text as it stands.

A fix is a JSON Patch operation (a rename is ``move`` within one object, a
removal ``remove``, a new value ``replace``). Rather than re-dumping the
document, each one edits the text minimally: a key is renamed where it
stands, a member is cut out with its comma (and its line, when it had one
to itself), a value is replaced in place. Key order, indentation, line
endings and the trailing newline stay as they were.

Every edited text is checked before it is written: parsed again, it must be
exactly the document :meth:`aimlcat.Report.apply_fixes` gives (same keys in
the same order). A text that fails the check is left alone and the file is
reported as not fixed, so a fix can never corrupt a file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._findings import _parent as _parent_node
from ._findings import _parse_pointer
from ._fsutil import atomic_binary  # re-exported: the fixer writes through it

__all__ = ["FixOutcome", "atomic_binary", "fix_json_text", "fix_text", "fix_yaml_text",
           "unified_diff"]


@dataclass(frozen=True, slots=True)
class FixOutcome:
    """The fixed text (None: nothing changed or it could not be done), and how many applied."""

    text: str | None
    applied: int = 0
    problem: str | None = None


def _parent(ptr: str) -> str:
    return ptr[:ptr.rfind("/")] if ptr else ""


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- JSON ---------------------------------------------------------------------------------

def _json_edit(text: str, fix: dict[str, Any]) -> str | None:
    """``text`` with one fix applied, or None when it does not apply (source gone, target set)."""
    from ._positions import json_nodes

    op = fix.get("op")
    path = fix.get("path", "")
    if op == "move":
        src = fix.get("from", "")
        if not src or _parent(src) != _parent(path):
            return None  # only renames within one object are fixes aimlcat makes
        parent = _parent(path)
        nodes = json_nodes(text, [src], members=[parent], exact=True)
        holder = nodes.get(parent)
        if holder is None or holder.members is None or text[holder.value_start] != "{":
            return None
        keys = {m[0] for m in holder.members}
        old, new = _parse_pointer(src)[-1], _parse_pointer(path)[-1]
        if old not in keys or new in keys:
            return None
        node = nodes[src]
        return text[:node.key_start] + _dump(new) + text[node.key_end:]
    if op == "remove":
        parent = _parent(path)
        nodes = json_nodes(text, [], members=[parent], exact=True)
        holder = nodes.get(parent)
        if holder is None or holder.members is None:
            return None
        name = _parse_pointer(path)[-1]
        members = holder.members
        found = [i for i, m in enumerate(members) if m[0] == name]
        if not found:
            return None
        i = found[-1]

        def start(m: tuple[str, int, int, int]) -> int:
            return m[1] if m[1] >= 0 else m[2]

        if len(members) == 1:
            cut = (holder.value_start + 1, holder.value_end - 1)
        elif i + 1 < len(members):
            cut = (start(members[i]), start(members[i + 1]))
        else:
            cut = (members[i - 1][3], members[i][3])
        return text[:cut[0]] + text[cut[1]:]
    if op == "replace":
        target = json_nodes(text, [path], exact=True).get(path)
        if target is None or target.value_start < 0:
            return None
        return text[:target.value_start] + _dump(fix.get("value")) + text[target.value_end:]
    return None


def _same(a: Any, b: Any) -> bool:
    """Equal as documents, key order included."""
    import orjson

    try:
        return bool(orjson.dumps(a) == orjson.dumps(b))
    except TypeError:  # integers beyond 64 bits: the standard library compares them
        return json.dumps(a) == json.dumps(b)


def _expected(doc: Any, fixes: Sequence[dict[str, Any]]) -> Any:
    from ._findings import Finding, Report

    return Report(findings=[Finding("AML000", "info", "", "", None, f) for f in fixes]) \
        .apply_fixes(doc)


def fix_json_text(text: str, fixes: Sequence[dict[str, Any]]) -> FixOutcome:
    """Apply ``fixes`` to a JSON text minimally, and check the result."""
    from ._payloads import load_json

    original, _ = load_json(text, "")
    applied = 0
    for fix in fixes:
        edited = _json_edit(text, fix)
        if edited is not None:
            text, applied = edited, applied + 1
    if not applied:
        return FixOutcome(None)
    try:
        got, _ = load_json(text, "")
    except Exception:  # noqa: BLE001 (any parse failure means the edit went wrong)
        return FixOutcome(None, problem="the edited text would not parse; left unchanged")
    if not _same(got, _expected(original, fixes)):
        return FixOutcome(None, problem="the fixes could not be applied in place; left unchanged")
    return FixOutcome(text, applied, _missed(applied, fixes))


def _missed(applied: int, fixes: Sequence[dict[str, Any]]) -> str | None:
    missed = len(fixes) - applied
    if not missed:
        return None
    return f"{missed} of {len(fixes)} fixes could not be made in place; make them by hand"


# -- YAML ---------------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


def _yaml_node(tree: Any, ptr: str) -> tuple[Any, str] | None:
    """The mapping holding the last part of ``ptr`` (with its positions), and that part."""
    loc = _parent_node(tree, ptr)
    if loc is None or not isinstance(loc[0], dict) or not hasattr(loc[0], "key_pos"):
        return None
    return loc


def _key_token(line: str, col: int, key: str) -> tuple[int, int] | None:
    """Start and end (0-based, in ``line``) of a key written at 1-based ``col``."""
    from ._positions import key_end

    end = key_end([line], 1, col, key)
    return None if end is None else (col - 1, end - 1)


def _yaml_edit(lines: list[str], tree: Any, fix: dict[str, Any]) -> bool:
    """Apply one fix to ``lines`` (with their line endings) in place; False when it does not."""
    op = fix.get("op")
    path = fix.get("path", "")
    if op == "move":
        src = fix.get("from", "")
        if _parent(src) != _parent(path):
            return False
        loc = _yaml_node(tree, src)
        if loc is None:
            return False
        holder, old = loc
        new = _parse_pointer(path)[-1]
        if old not in holder or new in holder:
            return False
        line, col = holder.key_pos[old]
        text = lines[line - 1]
        tok = _key_token(text, col, old)
        if tok is None:
            return False
        spelled = new if _PLAIN_KEY.match(new) else _dump(new)
        lines[line - 1] = text[:tok[0]] + spelled + text[tok[1]:]
        return True
    if op == "remove":
        loc = _yaml_node(tree, path)
        if loc is None or loc[1] not in loc[0]:
            return False
        holder, key = loc
        line, col = holder.key_pos[key]
        if lines[line - 1][:col - 1].strip():
            return False  # not a block mapping key on a line of its own (flow style, `- key:`)
        end = line  # 0-based index of the first line that is not part of the member
        while end < len(lines):
            body = lines[end].rstrip("\r\n")
            stripped = body.lstrip(" ")
            indent = len(body) - len(stripped)
            if stripped and not stripped.startswith("#") and (
                    indent < col - 1 or (indent == col - 1 and not stripped.startswith("- "))):
                break
            end += 1
        while end > line:  # blank and comment lines before the next key stay
            prev = lines[end - 1].strip()
            if prev and not prev.startswith("#"):
                break
            end -= 1
        del lines[line - 1:end]
        return True
    if op == "replace":
        loc = _yaml_node(tree, path)
        if loc is None or loc[1] not in loc[0]:
            return False
        holder, key = loc
        line, col = holder.key_pos[key]
        text = lines[line - 1]
        tok = _key_token(text, col, key)
        if tok is None:
            return False
        m = re.match(r"(\s*:[ \t]+)([^#\r\n]*?)([ \t]+#[^\r\n]*)?(\r?\n?)\Z", text[tok[1]:])
        if m is None or not m.group(2):
            return False
        lines[line - 1] = (text[:tok[1]] + m.group(1) + _dump(fix.get("value"))
                           + (m.group(3) or "") + m.group(4))
        return True
    return False


_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def physical_lines(text: str) -> list[str]:
    """The lines of ``text`` with their ends, split at ``\n`` only, as git, patch and
    editors split them (``str.splitlines`` also splits at U+2028, form feeds and more,
    which may stand raw inside a JSON or YAML string)."""
    return _LINE.findall(text)


def fix_yaml_text(text: str, fixes: Sequence[dict[str, Any]]) -> FixOutcome:
    """Apply ``fixes`` to a YAML text by editing lines, and check the result."""
    from ._yamlio import YamlError, load_yaml, plain

    original = plain(load_yaml(text))
    lines = physical_lines(text)
    applied = 0
    for fix in fixes:
        tree = load_yaml("".join(lines))  # positions of the text as edited so far
        if _yaml_edit(lines, tree, fix):
            applied += 1
    if not applied:
        return FixOutcome(None, problem=_missed(applied, fixes))
    new = "".join(lines)
    try:
        got = plain(load_yaml(new))
    except YamlError:
        return FixOutcome(None, problem="the edited text would not parse; left unchanged")
    if not _same(got, _expected(original, fixes)):
        return FixOutcome(None, problem="the fixes could not be applied in place; left unchanged")
    return FixOutcome(new, applied, _missed(applied, fixes))


def fix_text(text: str, kind: str, fixes: Sequence[dict[str, Any]]) -> FixOutcome:
    """Fix a JSON or YAML document's text."""
    if kind == "yaml":
        return fix_yaml_text(text, fixes)
    return fix_json_text(text, fixes)


# -- output ------------------------------------------------------------------------------

def diff_name(path: str) -> str:
    """How a diff names a file (after ``a/`` and ``b/``, as git writes them): relative to
    the working directory when below it (``./x.json`` -> ``x.json``, ``/w/x.json`` run in
    ``/w`` -> ``x.json``), else from the root (``/tmp/x.json`` -> ``tmp/x.json``, which
    ``git apply`` and ``patch -p1`` take when run in ``/``). Never ``a//tmp`` or
    ``a/../x``, which both refuse."""
    full = os.path.abspath(path)
    rel = os.path.relpath(full, os.getcwd())
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        rel = os.path.splitdrive(full)[1].lstrip(os.sep)
    return rel.replace(os.sep, "/")


class LineDiff:
    """A unified diff made while a file is read a line at a time, for edits that replace
    lines in place (JSON Lines fixes): three lines of context around each change, as
    ``diff -u`` and git write them (``git apply`` refuses hunks without context). Only
    the last few unchanged lines and the diff itself are held."""

    CONTEXT = 3

    def __init__(self) -> None:
        from collections import deque

        self.hunks: list[str] = []
        self._before: deque[bytes] = deque(maxlen=self.CONTEXT)
        self._start = 0
        self._lines: list[str] = []
        self._trailing = 0

    @staticmethod
    def _text(raw: bytes) -> str:
        text = raw.removesuffix(b"\n").decode("utf-8", "surrogateescape")
        return text if raw.endswith(b"\n") else text + "\n\\ No newline at end of file"

    def same(self, raw: bytes) -> None:
        """An unchanged line."""
        self._before.append(raw)
        if not self._lines:
            return
        self._lines.append(" " + self._text(raw))
        self._trailing += 1
        if self._trailing == 2 * self.CONTEXT:  # a change within that many lines joins
            self._close()

    def changed(self, n: int, old: bytes, new: bytes) -> None:
        """Line ``n`` replaced."""
        if not self._lines:
            self._start = n - len(self._before)
            self._lines = [" " + self._text(b) for b in self._before]
        self._before.clear()
        self._lines += ["-" + self._text(old), "+" + self._text(new)]
        self._trailing = 0

    def _close(self) -> None:
        cut = max(self._trailing - self.CONTEXT, 0)
        lines = self._lines[:len(self._lines) - cut]
        count = sum(1 for x in lines if x[0] != "+")
        self.hunks.append(f"@@ -{self._start},{count} +{self._start},{count} @@\n"
                          + "\n".join(lines) + "\n")
        self._lines = []
        self._trailing = 0

    def text(self) -> str:
        """The hunks so far (the file read to its end)."""
        if self._lines:
            self._close()
        return "".join(self.hunks)


def unified_diff(old: str, new: str, path: str) -> str:
    """A unified diff (``a/`` and ``b/`` prefixes, as git writes them) that ``git apply``
    takes: lines split at ``\n`` only, the last one marked when it has no newline."""
    import difflib

    name = diff_name(path)
    lines = difflib.unified_diff(physical_lines(old), physical_lines(new),
                                 f"a/{name}", f"b/{name}")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


