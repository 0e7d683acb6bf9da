"""Where a JSON Pointer stands in a payload file's text: line and column.

Positions are found after validation, and only for files that have findings,
so a clean file costs nothing here. For JSON the text is walked along the
pointers wanted only, in C where aimlcat._verdict is built (``locate_json``);
the Python walk (keys written with escapes, the fixer's member lists, no
extension) passes over a value off every wanted path with ``skip_json``, else
the standard library's decoder, so its work is proportional to the depth of the
pointers, not to the size of the file. For YAML the positions
:mod:`aimlcat._yamlio` records while parsing are read.

Lines and columns are 1-based; columns count Unicode code points (SARIF's
``unicodeCodePoints``). A pointer that names nothing in the file (a missing
required key) is placed at the nearest enclosing value that exists.
"""

from __future__ import annotations

import json
import json.scanner
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

__all__ = ["JsonNode", "Span", "json_nodes", "json_spans", "key_end", "offset_span",
           "yaml_spans"]


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a file: 1-based start line and column, end (exclusive column) when known."""

    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def shifted(self, lines: int) -> Span:
        """The same region ``lines`` further down (a JSONL record inside its file)."""
        return Span(self.line + lines, self.column,
                    None if self.end_line is None else self.end_line + lines, self.end_column)


# Findings about a value (the model id, the endpoint named, a value's type,
# range or format) point at the value; the others (unknown, deprecated,
# removed or repeated keys) at the key.
VALUE_CODES = frozenset({"AML102", "AML103", "AML104", "AML105", "AML201", "AML203", "AML204",
                         "AML401", "AML402", "AML403", "AML405", "AML406", "AML408", "AML409"})


@dataclass(slots=True)
class JsonNode:
    """Offsets (into the text) of one value and, for an object member, of its key."""

    value_start: int = -1
    value_end: int = -1
    key_start: int = -1
    key_end: int = -1
    #: For an object or array asked for with ``members``: (key or index, key_start,
    #: value_start, value_end) of each member, in order (key_start is -1 in arrays).
    members: list[tuple[str, int, int, int]] | None = None


_WS = re.compile(r"[ \t\n\r]*")
_BLANKS = frozenset(" \t\n\r")
# A member's key, the colon and the blanks around it, in one match (group 1: the
# key as written, escapes and all).
# (The string's body written as runs of plain characters between escapes, not as one
# alternation per character: the same matches in about two thirds of the time.)
_KEY = r'"([^"\\]*(?:\\.[^"\\]*)*)"[ \t\n\r]*:[ \t\n\r]*'
_MEMBER = re.compile(r"[ \t\n\r]*" + _KEY, re.DOTALL)
# What follows a member that is not the last: the comma and the next member's key, in
# one match (no match: the object ends there); and the comma between array items.
_NEXT = re.compile(r"[ \t\n\r]*,[ \t\n\r]*" + _KEY, re.DOTALL)
_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
# The C scanner behind JSONDecoder.raw_decode, called directly: (value, end).
_scan: Any = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # (typeshed)


def _skip_py(text: str, pos: int) -> int:
    return int(_scan(text, pos)[1])


# How values off every wanted path are passed over: the offset just past the value at
# ``pos``. aimlcat._verdict's skip_json finds it without making the value (a chat
# file's messages array: about 1 µs against 15 for the scanner, which builds it);
# without the extension, the standard library's scanner.
_skip: Callable[[str, int], int]
_locate: Callable[[str, dict[str, dict[Any, str]], list[str], bool],
                  dict[str, list[int]] | None] | None
try:
    from ._verdict import locate_json as _locate
    from ._verdict import skip_json as _skip
except ImportError:
    _skip = _skip_py
    _locate = None


def _ws(text: str, pos: int) -> int:
    """The offset of the first non-blank character at or after ``pos``."""
    if text[pos:pos + 1] not in _BLANKS:
        return pos
    m = _WS.match(text, pos)
    return m.end() if m is not None else pos


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


class _Done(Exception):
    """Every pointer asked for is placed (found, or known to be missing): stop reading."""


class _JsonWalk:
    __slots__ = ("early", "kids", "members", "nodes", "open", "text")

    def __init__(self, text: str, wanted: Collection[str], members: Collection[str],
                 early: bool) -> None:
        self.text = text
        self.early = early
        #: For each container on a wanted path: its wanted children, by key (arrays: by
        #: index too) -> their pointers. Everything else is passed over unread.
        self.kids: dict[str, dict[str | int, str]] = {"": {}}
        for p in (*wanted, *members):
            parent = ""
            for part in p[1:].split("/") if p else ():
                child = f"{parent}/{part}"
                kids = self.kids.setdefault(parent, {})
                name = _unescape(part)
                kids[name] = child
                if name.isdigit() and name.isascii():  # ("¹".isdigit(), but no index)
                    kids[int(name)] = child
                parent = child
            self.kids.setdefault(parent, {})
        self.members = set(members)
        self.nodes: dict[str, JsonNode] = {}
        #: Pointers not yet placed; the walk stops when none is left.
        self.open = set(wanted) | self.members

    def _closed(self, ptr: str) -> None:
        """The value at ``ptr`` has been read whole: it, and whatever it would hold, is placed."""
        if not self.early:
            return
        open_ = self.open
        open_.discard(ptr)
        if open_:
            inside = ptr + "/"
            for p in [p for p in open_ if p.startswith(inside)]:
                open_.discard(p)
        if not open_:
            raise _Done

    def value(self, pos: int, ptr: str) -> int:
        """Walk the (wanted) value starting at ``pos``; return the offset just past it."""
        text = self.text
        node = self.nodes.get(ptr)
        if node is None:
            node = self.nodes[ptr] = JsonNode()
        node.value_start = pos
        c = text[pos]
        kids = self.kids[ptr]
        members: list[tuple[str, int, int, int]] | None = (
            [] if ptr in self.members else None)
        node.members = members
        if c == "{":
            pos += 1
            m = _MEMBER.match(text, pos)
            while m is not None:
                raw = m.group(1)
                key = raw if "\\" not in raw else json.loads(f'"{raw}"')
                vstart = m.end()
                child = kids.get(key)
                if child is None:
                    pos = _skip(text, vstart)  # off every wanted path: passed over in C
                else:
                    # A repeated key: the last one is the one parsers keep.
                    cnode = self.nodes.get(child)
                    if cnode is None:
                        cnode = self.nodes[child] = JsonNode()
                    cnode.key_start, cnode.key_end = m.start(1) - 1, m.end(1) + 1
                    pos = self.value(vstart, child)
                if members is not None:
                    members.append((key, m.start(1) - 1, vstart, pos))
                m = _NEXT.match(text, pos)
            pos = _ws(text, pos) + 1  # past the `}` (the text is valid JSON)
            node.value_end = pos
            self._closed(ptr)
            return pos
        if c == "[":
            pos = _ws(text, pos + 1)
            i = 0
            if text[pos] != "]":
                while True:
                    vstart = pos
                    child = kids.get(i)
                    pos = _skip(text, pos) if child is None else self.value(pos, child)
                    if members is not None:
                        members.append((str(i), -1, vstart, pos))
                    i += 1
                    comma = _COMMA.match(text, pos)
                    if comma is None:
                        pos = _ws(text, pos)  # the `]`
                        break
                    pos = comma.end()
            node.value_end = pos + 1
            self._closed(ptr)
            return pos + 1
        end = _skip(text, pos)
        node.value_end = end
        self._closed(ptr)
        return end


def json_nodes(text: str, pointers: Collection[str], *, members: Collection[str] = (),
               exact: bool = False) -> dict[str, JsonNode]:
    """Offsets of every pointer in ``pointers`` that exists in ``text`` (and of its parents).

    ``text`` must be valid JSON (the caller parsed it already). ``members``:
    pointers of objects or arrays whose member list is wanted too (the fixer's).
    Reading stops as soon as every pointer asked for is placed, unless ``exact``:
    a text with repeated keys must be read to its end, since the last of a
    repeated key is the one that counts."""
    walk = _JsonWalk(text, pointers, members, not exact)
    if _locate is not None and not members:  # the same walk in C (aimlcat/_verdict.c)
        found = _locate(text, walk.kids, list(pointers), exact)
        if found is not None:  # (None: a key written with escapes; read below)
            return {ptr: JsonNode(at[0], at[1], at[2], at[3]) for ptr, at in found.items()}
    try:
        walk.value(_ws(text, 0), "")
    except _Done:
        pass
    return walk.nodes


def offset_span(text: str, start: int, end: int | None = None) -> Span:
    """The line and column of offset ``start`` (and ``end``) in ``text``."""
    line = text.count("\n", 0, start) + 1
    col = start - text.rfind("\n", 0, start)
    if end is None:
        return Span(line, col)
    end_line = line + text.count("\n", start, end)
    end_col = end - text.rfind("\n", 0, end)
    return Span(line, col, end_line, end_col)


def _nearest(pointer: str, found: dict[str, Any]) -> str:
    """The pointer itself when it was found, else its deepest ancestor that was."""
    while pointer and pointer not in found:
        pointer = pointer[:pointer.rfind("/")]
    return pointer


def json_spans(text: str, wanted: list[tuple[str, str]], *, exact: bool = False) -> list[Span]:
    """A span for each (pointer, code) in ``wanted``, in the same order.

    ``exact``: the text repeats a key somewhere (see :func:`json_nodes`)."""
    nodes = json_nodes(text, [p for p, _ in wanted], exact=exact)
    out = []
    for ptr, code in wanted:
        near = _nearest(ptr, nodes)
        node = nodes.get(near)
        if node is None:  # cannot happen for valid JSON: the root is always found
            out.append(Span(1, 1))
        elif near != ptr or not ptr:  # a missing key: the start of the object that should hold it
            # (and a finding about the whole body: its first character, not every line)
            out.append(offset_span(text, node.value_start, node.value_start + 1))
        elif node.key_start >= 0 and code not in VALUE_CODES:
            out.append(offset_span(text, node.key_start, node.key_end))
        else:
            out.append(offset_span(text, node.value_start, node.value_end))
    return out


def key_end(lines: list[str], line: int, col: int, key: str) -> int | None:
    """The column just past a YAML key written at (line, col), when it can be read off."""
    if not 0 < line <= len(lines):
        return None
    rest = lines[line - 1][col - 1:]
    if rest.startswith(key):
        return col + len(key)
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        i = 1
        while i < len(rest):
            if rest[i] == "\\" and quote == '"':
                i += 2
                continue
            if rest[i] == quote:
                if quote == "'" and rest[i + 1:i + 2] == "'":
                    i += 2
                    continue
                return col + i + 1
            i += 1
    return None


def yaml_spans(tree: Any, text: str, pointers: list[str],
               codes: list[str] | None = None) -> list[Span]:
    """A span for each pointer, from the positions a PosDict/PosList tree recorded: the
    key, or for a finding about a value (``codes``, :data:`VALUE_CODES`) the value."""
    lines = text.split("\n")  # lines as _yamlio counts them (and editors, and reports)
    out = []
    for i, ptr in enumerate(pointers):
        node = tree
        where = (getattr(tree, "line", None) or 1, getattr(tree, "column", None) or 1)
        key: str | None = None
        value: tuple[int, int, int, int] | None = None
        for part in ([] if not ptr else ptr[1:].split("/")):
            name = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and name in node:
                pos = getattr(node, "key_pos", {}).get(name)
                if pos is None:
                    break
                value = getattr(node, "value_pos", {}).get(name)
                where, key, node = pos, name, node[name]
            elif isinstance(node, list) and name.isdigit() and int(name) < len(node):
                items = getattr(node, "item_pos", [])
                if int(name) >= len(items):
                    break
                where, key, value, node = items[int(name)], None, None, node[int(name)]
            else:
                break
        if key is not None and value is not None and codes is not None \
                and codes[i] in VALUE_CODES:
            line, col, end_line, end_col = value
            out.append(Span(line, col, end_line, end_col) if end_line == line
                       else Span(line, col))
            continue
        end = key_end(lines, where[0], where[1], key) if key is not None else None
        out.append(Span(where[0], where[1], where[0] if end else None, end))
    return out
