"""Schemas compiled for the compact yes/no checker (``aimlcat/_verdict.c``).

Why: a jsonschema-rs validator of a chat body is about 300 KB of small
allocations. A lint over many files meets hundreds of them, each with the
processor's caches cold, and pays 12-17 µs a call where the same call on a
validator just used costs 2-4 µs. The compact form of the same schema is a flat
array of nodes (a few KB), so a call touches little memory.

What: :func:`program` turns a standalone fast-form schema (see
``Catalog._build``: its definitions in its own ``$defs``, every ref local) into a
``Program``. Only the keywords the catalog's fast form uses are compiled; a
schema with any other keyword raises :class:`Unsupported` and keeps its
jsonschema-rs validator. ``pattern`` and ``format`` are judged by jsonschema-rs
itself (a one-keyword validator each, shared), so regular-expression and format
semantics are exactly the engine's. A value the checker cannot judge exactly as
jsonschema-rs would goes whole to ``fallback``, the jsonschema-rs validator of
the same schema, built on first need. ``tests/test_engines.py`` checks the
verdicts agree on every compiled schema.

The C extension is optional: without a compiler at install time aimlcat builds
jsonschema-rs validators as before (:data:`AVAILABLE` says which).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import _verdict

Program: type[_verdict.Program] | None
try:
    from ._verdict import Program
except ImportError:  # built without the extension
    Program = None

AVAILABLE = Program is not None

__all__ = ["AVAILABLE", "Unsupported", "program"]

_TYPES = {"null": 1, "boolean": 2, "integer": 4, "number": 8 | 4, "string": 16, "array": 32,
          "object": 64}
#: Keywords that do not change a verdict.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "description", "title", "default",
                          "examples", "deprecated", "readOnly", "writeOnly"})
_SIZES = ("minLength", "maxLength", "minItems", "maxItems")
_KNOWN = frozenset({"type", "$ref", "properties", "additionalProperties", "items", "required",
                    "allOf", "anyOf", "const", "enum", "minimum", "maximum",
                    "exclusiveMinimum", "pattern", "format", *_SIZES}) | _ANNOTATIONS

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_ANNOTATION_TYPES: dict[str, type | tuple[type, ...]] = {
    "$id": str, "$comment": str, "description": str, "title": str, "examples": list,
    "deprecated": bool, "readOnly": bool, "writeOnly": bool}
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]+")

#: One-keyword jsonschema-rs validators' ``is_valid``, per pattern or format.
_STRING_CHECKS: dict[tuple[str, str], Callable[[Any], bool]] = {}


class Unsupported(ValueError):
    """The schema uses something the compact checker does not read."""


def program(schema: dict[str, Any], fallback: Callable[[Any], bool]) -> Any:
    """A ``Program`` for ``schema`` (standalone, refs ``#/$defs/NAME``), whose unsure
    verdicts are ``fallback``'s. Raises :class:`Unsupported`, or RuntimeError
    when the extension is not built."""
    if Program is None:
        raise RuntimeError("aimlcat._verdict is not built")
    try:
        nodes = _Compiler(schema).nodes
    except RecursionError:  # a schema nested hundreds deep: jsonschema-rs's to judge
        raise Unsupported("nested too deeply") from None
    except TypeError as exc:  # e.g. an unhashable `type`: a schema jsonschema-rs refuses
        raise Unsupported(str(exc)) from None
    _no_cycle_on_one_value(nodes)
    return Program(nodes, fallback)


# Places in a node tuple (the layout _verdict.c's Program reads; see _Compiler.node) of
# the parts that apply other nodes to the same value.
_REF, _ALL_OF, _ANY_OF, _SWITCH = 2, 7, 8, 17


def _no_cycle_on_one_value(nodes: list[tuple[Any, ...]]) -> None:
    """Refuse refs that come back to a node without reading into the value ($ref, allOf,
    anyOf): the walk would try every way round such a cycle again and again (time
    exponential in the depth allowed). The catalog has none; jsonschema-rs keeps them."""
    edges = [[n[_REF], *n[_ALL_OF], *n[_ANY_OF], *(n[_SWITCH][1].values() if n[_SWITCH] else ())]
             for n in nodes]
    state = [0] * len(nodes)  # 0: not seen, 1: on the path, 2: done
    for start in range(len(nodes)):
        if state[start]:
            continue
        stack = [(start, iter(edges[start]))]
        state[start] = 1
        while stack:
            at, todo = stack[-1]
            nxt = next(todo, None)
            if nxt is None:
                state[at] = 2
                stack.pop()
            elif nxt >= 0 and state[nxt] == 1:
                raise Unsupported("a $ref cycle that never reads into the value")
            elif nxt >= 0 and state[nxt] == 0:
                state[nxt] = 1
                stack.append((nxt, iter(edges[nxt])))


def _string_check(keyword: str, value: Any) -> Callable[[Any], bool]:
    if not isinstance(value, str):
        raise Unsupported(f"{keyword} {value!r}")
    fn = _STRING_CHECKS.get((keyword, value))
    if fn is None:
        import jsonschema_rs

        fn = _STRING_CHECKS[(keyword, value)] = jsonschema_rs.validator_for(
            {keyword: value}, validate_formats=True).is_valid
    return fn


def _number(value: Any, keyword: str) -> int | float:
    if value.__class__ is int and abs(value) <= 2 ** 53:
        return int(value)
    if value.__class__ is float and math.isfinite(value):
        return float(value)
    raise Unsupported(f"{keyword} {value!r}")


def _size(value: Any, keyword: str) -> int:
    if value.__class__ is not int or value < 0:
        raise Unsupported(f"{keyword} {value!r}")
    return int(value)


class _Compiler:
    def __init__(self, root: Any) -> None:
        self.defs: dict[str, Any] = root.get("$defs", {}) if isinstance(root, dict) else {}
        self.nodes: list[tuple[Any, ...]] = []
        self.named: dict[str, int] = {}
        self.compile(root, root=True)

    def ref(self, target: Any) -> int:
        if not isinstance(target, str) or not target.startswith("#/$defs/"):
            raise Unsupported(f"$ref {target!r}")
        name = target[len("#/$defs/"):]
        if not _PLAIN_NAME.fullmatch(name) or name not in self.defs:
            raise Unsupported(f"$ref {target!r}")  # (a name a URI must escape: the engine's)
        at = self.named.get(name)
        if at is None:
            at = self.compile(self.defs[name], name)
        return at

    def compile(self, schema: Any, name: str | None = None, *, root: bool = False) -> int:
        if name is None and not root and isinstance(schema, dict) and "$ref" in schema and all(
                k == "$ref" or k in _ANNOTATIONS or k.startswith("x-") for k in schema):
            return self.ref(schema["$ref"])  # a bare ref is its target: no node of its own
        at = len(self.nodes)
        self.nodes.append(())  # its place, filled below (a ref may come back to it)
        if name is not None:
            self.named[name] = at
        self.nodes[at] = self.node(schema, root)
        return at

    def node(self, s: Any, root: bool = False) -> tuple[Any, ...]:
        if s is True:
            s = {}
        elif s is False:
            return (True, 0, -1, None, -1, -1, None, (), (), False, None, None, None, None,
                    None, (-1, -1, -1, -1), None, None, 0)
        elif not isinstance(s, dict):
            raise Unsupported(f"schema {s!r}")
        unknown = [k for k in s if k not in _KNOWN and not k.startswith("x-") and k != "$defs"]
        if unknown or (not root and ("$defs" in s or "$id" in s)):
            raise Unsupported(", ".join(unknown) or "$defs or $id below the root")
        if s.get("$schema", _DRAFT) != _DRAFT:  # another draft's semantics: the engine's
            raise Unsupported(f"$schema {s['$schema']!r}")
        for k, kind in _ANNOTATION_TYPES.items():
            if k in s and not isinstance(s[k], kind):  # jsonschema-rs refuses the schema
                raise Unsupported(f"{k} {s[k]!r}")
        types = 0
        if "type" in s:
            names = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not names:
                raise Unsupported("type []")
            for t in names:
                if t not in _TYPES:
                    raise Unsupported(f"type {t!r}")
                types |= _TYPES[t]
        ref = self.ref(s["$ref"]) if "$ref" in s else -1
        required: tuple[str, ...] = ()
        if "required" in s:
            req = s["required"]
            if not isinstance(req, list) or not all(isinstance(r, str) for r in req):
                raise Unsupported("required")
            required = tuple(dict.fromkeys(req))
            if len(required) != len(req):  # jsonschema-rs refuses repeated names
                raise Unsupported("required names repeated")
        props = None
        if "properties" in s:
            if not isinstance(s["properties"], dict):
                raise Unsupported("properties")
            # node * 2, plus 1 for a required name: the checker counts those while it
            # reads the body's keys instead of looking each one up.
            props = {str(k): self.compile(v) * 2 + (k in required)
                     for k, v in s["properties"].items()}
        addl = -1
        if "additionalProperties" in s:
            a = s["additionalProperties"]
            addl = -2 if a is False else -1 if a is True else self.compile(a)
        items = self.compile(s["items"]) if "items" in s else -1
        looked_up = tuple(r for r in required if props is None or r not in props) or None
        counted = len(required) - len(looked_up or ())
        allof = tuple(self.compile(x) for x in self.list(s, "allOf"))
        anyof = tuple(self.compile(x) for x in self.list(s, "anyOf"))
        enum = None
        if "enum" in s:
            if not isinstance(s["enum"], list):
                raise Unsupported("enum")
            enum = tuple(s["enum"])
        bounds = [_number(s[k], k) if k in s else None
                  for k in ("minimum", "maximum", "exclusiveMinimum")]
        sizes = tuple(_size(s[k], k) if k in s else -1 for k in _SIZES)
        strings = None
        if "pattern" in s or "format" in s:
            strings = (_string_check("pattern", s["pattern"]) if "pattern" in s else None,
                       _string_check("format", s["format"]) if "format" in s else None)
        return (False, types, ref, props, addl, items, looked_up, allof, anyof, "const" in s,
                s.get("const"), enum, *bounds, sizes, strings, self.switch(s, anyof), counted)

    def switch(self, s: dict[str, Any],
               branches: tuple[int, ...]) -> tuple[str, dict[str, int]] | None:
        """A tagged union, as the fast form writes one: every branch of ``anyOf`` is
        ``allOf`` of ``{properties: {TAG: {const: V}}, required: [TAG]}`` and the
        branch itself, each with its own string V. Only the branch a body's tag names
        can pass, so the checker looks that one up instead of trying them all, and
        checks only its second part: the first holds once the lookup found it."""
        tag: str | None = None
        table: dict[str, int] = {}
        for branch, at in zip(s.get("anyOf", ()), branches, strict=True):
            if not isinstance(branch, dict) or list(branch) != ["allOf"] \
                    or not isinstance(branch["allOf"], list) or len(branch["allOf"]) != 2:
                return None
            first = branch["allOf"][0]
            if not isinstance(first, dict) or set(first) != {"properties", "required"}:
                return None
            props, req = first["properties"], first["required"]
            if not isinstance(props, dict) or len(props) != 1 or req != list(props):
                return None
            (name, cond), = props.items()
            if tag is None:
                tag = name
            if name != tag or not isinstance(cond, dict) or list(cond) != ["const"] \
                    or not isinstance(cond["const"], str) or cond["const"] in table:
                return None
            table[cond["const"]] = self.nodes[at][_ALL_OF][1]  # the branch's second part
        return (tag, table) if tag is not None and table else None

    @staticmethod
    def list(s: dict[str, Any], key: str) -> list[Any]:
        value = s.get(key, [])
        if not isinstance(value, list) or (key in s and not value):
            raise Unsupported(key)
        return value
