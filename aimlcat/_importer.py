"""Import the gateway's OpenAPI 3.0 model documents into catalog YAML (build side).

``aimlcat import-openapi DOC.json... [--out DIR]`` reads each document's POST
request bodies and writes catalog files that say what a person would write:
a parameter equal to its vocabulary entry is ``{}``, a model whose parameters
are a family's is ``family: NAME`` plus ``drop``/overrides, and a nested shape
equal to a shared ``definitions`` entry is ``ref: NAME``.

The run is all or nothing:

1. **read**: each document is JSON with ``paths`` and at least one POST
   request body (``application/json`` or ``multipart/form-data``);
2. **convert**: OpenAPI 3.0 schema objects become catalog specs
   (:class:`_Converter`): ``$ref`` inlined (recursive ones become new
   definitions), ``oneOf``/``anyOf`` become a tagged union, a type list or
   ``any_of``, boolean exclusive bounds become numeric ones, and so on;
3. **group**: model ids (the body's ``model`` enum; rows of the docs' model
   table; ids that differ only by a vendor prefix) and endpoints (the
   catalog's paths and aliases; unknown paths become new endpoints);
4. **merge**: a model on one endpoint described by several bodies (two
   documents, or ``/v1/chat/completions`` and ``/chat/completions``) is their
   union, the first body winning where both constrain a parameter;
5. **reuse**: ``ref``, ``family`` and vocabulary inheritance, each used only
   when the result means exactly the same (:class:`_Canon`);
6. **write**: readable, deterministic YAML (:func:`render_yaml`), checked
   against ``catalog_file.schema.json`` and written atomically.

Every problem names its file and, where possible, a JSON pointer into it.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

from ._records import Catalog

__all__ = ["ImportFailed", "ImportProblem", "ImportResult", "cli_main", "import_openapi",
           "render_yaml", "write_import"]

Spec = dict[str, Any]

EXIT_OK, EXIT_USAGE = 0, 2

# =============================================================================
# Problems
# =============================================================================


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """Why one document could not be imported: its file, a JSON pointer, the reason."""

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.pointer}" if self.pointer else self.file
        return f"{where}: {self.message}"


class ImportFailed(Exception):
    """Raised with every document's problem; nothing has been written."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = list(problems)


class _DocError(Exception):
    """A problem at one place of the document being read (becomes an ImportProblem)."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.pointer = pointer
        self.message = message


def _ptr(base: str, *parts: str | int) -> str:
    """Extend a JSON pointer (``#/...``), escaping ``~`` and ``/`` as RFC 6901 says."""
    out = base
    for p in parts:
        out += "/" + str(p).replace("~", "~0").replace("/", "~1")
    return out


# =============================================================================
# Numbers and equality keys
# =============================================================================


def _norm(value: Any) -> Any:
    """The same JSON value with integral floats as ints (JSON Schema: 5 == 5.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def _jkey(value: Any) -> str:
    """An equality key for JSON values (order of object keys ignored)."""
    return json.dumps(_norm(value), sort_keys=True, ensure_ascii=False)


def _enum_values(spec: Spec) -> list[Any] | None:
    if "const" in spec:
        return [spec["const"]]
    enum = spec.get("enum")
    return list(enum) if isinstance(enum, list) else None


def _types(spec: Spec) -> list[str] | None:
    t = spec.get("type")
    if t is None:
        return None
    return [t] if isinstance(t, str) else list(t)


# =============================================================================
# Unions: one rule shared by the converter and the equality check
# =============================================================================

# Keywords that only constrain values of one JSON type: branches of a union
# that differ in type and use only these can be merged into one spec with a
# type list (`anyOf: [string, array]` -> `type: [string, array]` + `items`).
_TYPE_KEYWORDS: dict[str, frozenset[str]] = {
    "string": frozenset({"minLength", "maxLength", "pattern", "format"}),
    "integer": frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                          "multipleOf"}),
    "number": frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                         "multipleOf"}),
    "array": frozenset({"items", "minItems", "maxItems", "uniqueItems"}),
    "object": frozenset({"properties", "additionalProperties"}),
    "boolean": frozenset(),
    "null": frozenset(),
}
# Keys set aside when comparing specs: annotations, and aimlcat's own base64
# checks (`encodings`, `media_types`, `max_bytes`), which the catalog may state
# ahead of the documents (as it may a deprecation), so reuse inherits them.
_ANNOTATIONS = frozenset({"description", "examples", "title", "encodings", "media_types",
                          "max_bytes"})
# Tags the gateway's unions use; preferred when several properties would do.
_PREFERRED_TAGS = ("type", "role")


def _core(spec: Spec) -> Spec:
    return {k: v for k, v in spec.items() if k not in _ANNOTATIONS and v is not None}


def _is_null_branch(spec: Spec) -> bool:
    """`{nullable: true}` alone (the docs' way to say "or null") or `{type: null}`."""
    core = _core(spec)
    return core == {"nullable": True} or (set(core) == {"type"} and _types(core) == ["null"])


def _is_object_spec(spec: Spec) -> bool:
    if any(k in spec for k in ("any_of", "variants", "ref", "$rec", "$tag")):
        return False
    t = _types(spec)
    return t == ["object"] or (t is None and "properties" in spec)


def _tag_values(spec: Spec, tag: str) -> list[Any] | None:
    prop = (spec.get("properties") or {}).get(tag)
    if not isinstance(prop, dict) or not prop.get("required"):
        return None
    values = _enum_values(prop)
    return values if values else None


def _find_tag(branches: list[Spec], hint: str | None) -> str | None:
    """A property every branch requires, with an enum, and no value claimed twice."""
    if not all(_is_object_spec(b) for b in branches):
        return None
    first: list[str] = [str(k) for k in branches[0].get("properties") or {}]
    for name in dict.fromkeys([*([hint] if hint else []), *_PREFERRED_TAGS, *first]):
        seen: set[str] = set()
        ok = True
        for b in branches:
            values = _tag_values(b, name)
            if values is None:
                ok = False
                break
            keys = {_jkey(v) for v in values}
            if keys & seen:
                ok = False
                break
            seen |= keys
        if ok:
            return name
    return None


def _merge_typed(branches: list[Spec]) -> Spec | None:
    """One spec with a type list, when each branch is one distinct type using only
    keywords of that type; None otherwise."""
    out: Spec = {"type": []}
    numeric = 0
    for b in branches:
        t = _types(b)
        if t is None or len(t) != 1 or t[0] in out["type"]:
            return None
        ty = t[0]
        numeric += ty in ("integer", "number")
        extra = set(_core(b)) - {"type"} - _TYPE_KEYWORDS[ty]
        if extra or numeric > 1:
            return None
        out["type"].append(ty)
        for k, v in b.items():
            if k in _TYPE_KEYWORDS[ty]:
                out[k] = v
    return out


def _union_of(branches: list[Spec], hint: str | None = None) -> Spec:
    """The catalog spelling of ``anyOf``/``oneOf`` over converted ``branches``.

    Null branches make the result nullable; objects told apart by a required
    enum property become ``variants`` + ``discriminator``; branches of distinct
    types become a type list; anything else stays ``any_of``.
    """
    nullable = False
    rest: list[Spec] = []
    for b in branches:
        if _is_null_branch(b):
            nullable = True
        elif not _core(b) or _core(b) == {"nullable": True}:
            return {}  # one branch admits any value, so the union does
        else:
            rest.append(b)
    out: Spec
    if not rest:
        out = {"type": "null"}
    elif len(rest) == 1:
        out = dict(rest[0])
    else:
        tag = _find_tag(rest, hint)
        merged = None if tag else _merge_typed(rest)
        if tag is not None:
            out = {"type": "object", "discriminator": tag, "variants": rest}
        elif merged is not None:
            out = merged
        else:
            out = {"any_of": rest}
    if nullable and _types(out) != ["null"]:
        out["nullable"] = True
    return out


# =============================================================================
# Equality of specs: a normal form that ignores how a thing is spelled
# =============================================================================

_KEPT_AS_IS = ("default", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
               "multipleOf", "minLength", "maxLength", "pattern", "format", "minItems",
               "maxItems", "uniqueItems")


class _Canon:
    """Reduces a catalog spec to a normal form, so two specs that accept the same
    values compare equal however they are written: ``ref`` s expanded, nullable
    folded into the type, enums as sets, one-variant unions as their variant,
    ``any_of`` re-read with :func:`_union_of`, annotations dropped."""

    def __init__(self, definitions: Mapping[str, Spec]) -> None:
        self.definitions = definitions
        # Memos by identity (the object is kept, so its id cannot be reused): the
        # reuse pass asks about the same subtrees many times. Results are shared,
        # so nothing here mutates a normal form once made.
        self._memo: dict[tuple[int, tuple[str, ...]], tuple[Spec, Spec]] = {}
        self._keys: dict[int, tuple[Spec, str]] = {}

    def key(self, spec: Spec) -> str:
        """An equality key: equal for two specs that accept the same values."""
        return self._key(self.canon(spec))

    def _key(self, normal: Spec) -> str:
        hit = self._keys.get(id(normal))
        if hit is not None and hit[0] is normal:
            return hit[1]
        k = json.dumps(normal, sort_keys=True, ensure_ascii=False)
        self._keys[id(normal)] = (normal, k)
        return k

    def canon(self, spec: Spec, stack: tuple[str, ...] = ()) -> Spec:
        """The normal form of ``spec`` (``stack``: definitions being expanded)."""
        memo = (id(spec), stack)
        hit = self._memo.get(memo)
        if hit is not None and hit[0] is spec:
            return hit[1]
        normal = self._canon(spec, stack)
        self._memo[memo] = (spec, normal)
        return normal

    def _canon(self, spec: Spec, stack: tuple[str, ...]) -> Spec:
        s = {k: v for k, v in spec.items() if v is not None and k not in _ANNOTATIONS}
        s.pop("use", None)
        if "ref" in s:
            return self._ref(s, stack)
        if "any_of" in s:
            # The compiler writes `anyOf` over the null wrap of `nullable`, so a
            # nullable any_of does not accept null; "or null" is a branch.
            s.pop("nullable", None)
            branches = [self.canon(b, stack) for b in s.pop("any_of")]
            union = _union_of(branches)
            with_null = bool(union.pop("nullable", False))
            if "any_of" not in union and not set(union) & set(s):
                merged = self.canon({**s, **union}, stack)
                return _add_null(merged) if with_null else merged
            alts = union.get("any_of", branches)
            if with_null and "any_of" in union:
                alts = [*alts, {"type": ["null"]}]
            s["$any"] = sorted(alts, key=self._key)
        if "variants" in s:
            # Likewise the union's `type: object` is written after the null
            # handling: a nullable tagged union does not accept null.
            s.pop("nullable", None)
        out: Spec = {}
        if s.get("required"):
            out["required"] = True
        if s.get("deprecated"):
            out["deprecated"] = True
        for k in _KEPT_AS_IS:
            if k in s:
                out[k] = _norm(s[k])
        for k in ("$any", "$rec", "$all"):
            if k in s:
                out[k] = s[k]
        types = _types(s)
        enum = _enum_values(s)
        if "items" in s:
            out["items"] = self.canon(s["items"], stack)
        props = {k: self.canon(v, stack) for k, v in (s.get("properties") or {}).items()}
        if props:
            out["properties"] = props
        extra = s.get("additionalProperties")
        if extra is False:
            out["additionalProperties"] = False
        elif isinstance(extra, dict):
            c = self.canon(extra, stack)
            if _core(c) not in ({}, {"nullable": True}):
                out["additionalProperties"] = c
        if "$tag" in s:  # already normal
            out["$tag"], out["$cases"] = s["$tag"], s["$cases"]
        elif "variants" in s:
            self._variants(s, out, stack)
            types = types or ["object"]
        if types is not None:
            out["type"] = sorted(set(types))
        if enum is not None:
            out["enum"] = sorted({_jkey(v): _norm(v) for v in enum}.values(), key=_jkey)
        return _add_null(out) if s.get("nullable") else out

    def _ref(self, s: Spec, stack: tuple[str, ...]) -> Spec:
        """A ``ref`` with its siblings, as the compiler writes it: ``$ref`` and the
        sibling keywords both apply; ``nullable`` without a sibling ``type`` means
        "null, or the shape"."""
        name = s.pop("ref")
        target = self.definitions.get(name)
        if target is None or name in stack:
            # Recursion (or an unknown name): compare by name from here on.
            return {**self.canon(s, stack), "$rec": name}
        flags: Spec = {k: s.pop(k) for k in ("required", "deprecated", "default") if k in s}
        nullable = bool(s.pop("nullable", False))
        inner = {k: v for k, v in target.items() if k not in _ANNOTATIONS}
        if s:
            # Keys that only mean something together: `additionalProperties: false`
            # closes over the `properties` beside it, a union over its branches.
            groups = ({"properties", "additionalProperties"}, {"any_of", "variants"})
            clash = any(k in inner and _jkey(s[k]) != _jkey(inner[k]) for k in s) or any(
                g & set(inner) and any(_jkey(s[k]) != _jkey(inner.get(k)) for k in g & set(s))
                for g in groups)
            if clash:
                # Two constraints on one value that a merged dict cannot say.
                both = [self.canon(dict(inner), (*stack, name)), self.canon(s, stack)]
                return {**self.canon(flags, stack), "$all": sorted(both, key=self._key)}
            if nullable and "type" in s:
                nullable = False  # null joins the sibling type, but the shape still says no
            inner.update(s)
        inner.update(flags)
        c = self.canon(inner, (*stack, name))
        return _add_null(c) if nullable else c

    def _variants(self, s: Spec, out: Spec, stack: tuple[str, ...]) -> None:
        tag = s.get("discriminator")
        cases = []
        for v in s["variants"]:
            c = dict(self.canon(v, stack))  # a copy: normal forms are shared
            c.setdefault("type", ["object"])
            prop = (c.get("properties") or {}).get(tag)
            if prop is not None:
                # The compiled union requires the tag before it picks a case.
                c["properties"] = {**c["properties"], tag: {**prop, "required": True}}
            cases.append(c)
        if len(cases) == 1:
            # A one-variant union accepts exactly what its variant accepts.
            for k, v in cases[0].items():
                out.setdefault(k, v)
        else:
            out["$tag"] = tag
            out["$cases"] = sorted(cases, key=self._key)


def _add_null(c: Spec) -> Spec:
    """The normal form ``c`` that also accepts null."""
    c = dict(c)
    if "type" in c:
        c["type"] = sorted(set(c["type"]) | {"null"})
    if "enum" in c and None not in c["enum"]:
        c["enum"] = sorted([*c["enum"], None], key=_jkey)
    if "type" not in c and "enum" not in c:
        if "$any" in c:
            c["$any"] = sorted([*c["$any"], {"type": ["null"]}], key=_jkey)
        elif set(c) - {"required", "deprecated", "default"}:
            c["nullable"] = True
    return c


# =============================================================================
# OpenAPI 3.0 schema objects -> catalog specs
# =============================================================================

_OAS_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
_COPIED = ("enum", "const", "default", "minimum", "maximum", "multipleOf", "minLength",
           "maxLength", "pattern", "format", "minItems", "maxItems", "uniqueItems")
# Read and dropped: annotations the catalog has no place for.
_IGNORED = frozenset({"title", "readOnly", "writeOnly", "xml", "externalDocs", "discriminator"})
_HANDLED = frozenset({"$ref", "type", "nullable", "description", "example", "examples",
                      "exclusiveMinimum", "exclusiveMaximum", "items", "properties", "required",
                      "additionalProperties", "deprecated", "oneOf", "anyOf", "allOf",
                      *_COPIED, *_IGNORED})
_NAME_RE = re.compile(r"[^A-Za-z0-9_.:#+-]+")


def _deprecation(name: str | None) -> Spec:
    what = f"`{name}`" if name else "this value"
    return {"action": "remove",
            "hint": f"The gateway's documentation marks {what} as deprecated; remove it."}


def _spell_null(spec: Spec) -> Spec:
    """``spec`` with "or null" beside a union written as a branch.

    The compiler writes a union's keywords over the null wrap of ``nullable``,
    so ``{any_of: [...], nullable: true}`` would not accept null; ``any_of:
    [{type: null}, ...]`` does."""
    if not spec.get("nullable") or not ("any_of" in spec or "variants" in spec):
        return spec
    rest = {k: v for k, v in spec.items() if k != "nullable"}
    outer: Spec = {k: rest.pop(k) for k in ("required", "deprecated", "default", "description",
                                             "examples") if k in rest}
    if "variants" in rest:
        return {"any_of": [{"type": "null"}, rest], **outer}
    branches = rest.pop("any_of")
    if isinstance(rest.get("enum"), list) and None not in rest["enum"]:
        rest["enum"] = [*rest["enum"], None]
    if "type" in rest:
        rest["type"] = list(dict.fromkeys([*(_types(rest) or []), "null"]))
    return {**rest, "any_of": [{"type": "null"}, *branches], **outer}


def _admits(types: list[str], value: Any) -> bool:
    """Whether a value of JSON ``types`` may be ``value``."""
    if value is None:
        kind = "null"
    elif isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        kind = "integer"
    elif isinstance(value, float):
        kind = "number"
    elif isinstance(value, str):
        kind = "string"
    else:
        kind = "array" if isinstance(value, list) else "object"
    return kind in types or (kind == "integer" and "number" in types)


def _resolve_pointer(doc: Any, ref: str) -> Any:
    node = doc
    for raw in ref[2:].split("/") if ref != "#" else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(ref)
    return node


def _refs_in(node: Any) -> list[str]:
    """The local ``$ref`` s directly inside ``node`` (not following them)."""
    out: list[str] = []
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            return [ref]
        for v in node.values():
            out.extend(_refs_in(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(_refs_in(v))
    return out


class _NewShapes:
    """Definitions the import adds: components that refer to themselves (a tree
    cannot inline them). Shared by all documents of a run."""

    def __init__(self, existing: Mapping[str, Spec]) -> None:
        self.existing = existing
        self.specs: dict[str, Spec] = {}
        self._by_ref: dict[tuple[str, str], str] = {}

    def name_for(self, file: str, ref: str) -> tuple[str, bool]:
        """The definition name for ``ref`` of ``file``; True when it is new to this run."""
        key = (file, ref)
        if key in self._by_ref:
            return self._by_ref[key], False
        base = _NAME_RE.sub("_", ref.rsplit("/", 1)[-1]).strip("_.:#+-") or "shape"
        name, n = base, 1
        while name in self.existing or name in self.specs or name in self._by_ref.values():
            n += 1
            name = f"{base}_{n}"
        self._by_ref[key] = name
        return name, True


class _Converter:
    """Converts one document's schema objects (OpenAPI 3.0) to catalog specs."""

    def __init__(self, doc: dict[str, Any], file: str, keep: bool, shapes: _NewShapes,
                 notes: list[str]) -> None:
        self.doc = doc
        self.file = file
        self.keep = keep
        self.shapes = shapes
        self.notes = notes
        self.stack: list[str] = []
        self._recursive: dict[str, bool] = {}

    # -- $ref ------------------------------------------------------------------
    def _target(self, ref: str, ptr: str) -> Any:
        if not ref.startswith("#/"):
            raise _DocError(_ptr(ptr, "$ref"), f"only local references (#/...) are supported, "
                            f"not {ref!r}")
        try:
            return _resolve_pointer(self.doc, ref)
        except KeyError:
            raise _DocError(_ptr(ptr, "$ref"), f"{ref!r} points at nothing") from None

    def _is_recursive(self, ref: str, ptr: str) -> bool:
        """Whether ``ref`` can reach itself through other references."""
        if ref not in self._recursive:
            seen: set[str] = set()
            todo = _refs_in(self._target(ref, ptr))
            while todo:
                r = todo.pop()
                if r in seen or not r.startswith("#/"):
                    continue
                seen.add(r)
                try:
                    todo.extend(_refs_in(_resolve_pointer(self.doc, r)))
                except KeyError:
                    continue  # reported when the converter reaches it
            self._recursive[ref] = ref in seen
        return self._recursive[ref]

    def _ref(self, ref: str, ptr: str) -> Spec:
        target = self._target(ref, ptr)
        if not self._is_recursive(ref, ptr):
            self.stack.append(ref)
            try:
                return self.convert(target, ref)
            finally:
                self.stack.pop()
        # A schema that contains itself becomes a definition referred to by name.
        name, new = self.shapes.name_for(self.file, ref)
        if new:
            self.shapes.specs[name] = {}  # reserved: the inner self-reference stops here
            self.shapes.specs[name] = self.convert(target, ref)
        return {"ref": name}

    # -- schema objects ----------------------------------------------------------
    def convert(self, node: Any, ptr: str, name: str | None = None) -> Spec:
        """The catalog spec of the schema object ``node`` found at ``ptr``."""
        if not isinstance(node, dict):
            raise _DocError(ptr, f"a schema must be a JSON object, not {json.dumps(node)[:40]}")
        if "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str):
                raise _DocError(_ptr(ptr, "$ref"), "$ref must be a string")
            # OpenAPI 3.0 ignores a $ref's siblings; so does the import.
            return self._ref(ref, ptr)
        for k in node:
            if k not in _HANDLED and not k.startswith("x-"):
                raise _DocError(_ptr(ptr, k), f"`{k}` cannot be expressed in the catalog")
        spec = self._keywords(node, ptr, name)
        unions = [k for k in ("oneOf", "anyOf") if k in node]
        if len(unions) > 1:
            raise _DocError(ptr, "oneOf and anyOf on one schema are not supported")
        if "allOf" in node:
            spec = self._combine(spec, self._all_of(node["allOf"], _ptr(ptr, "allOf")), ptr)
        if unions:
            spec = self._combine(spec, self._union(node, unions[0], ptr), ptr)
        return _spell_null(spec)

    def _keywords(self, node: dict[str, Any], ptr: str, name: str | None) -> Spec:
        spec: Spec = {}
        if "type" in node:
            t = node["type"]
            names = t if isinstance(t, list) else [t]
            bad = [x for x in names if not isinstance(x, str) or x not in _OAS_TYPES]
            if bad or not names:
                raise _DocError(_ptr(ptr, "type"), f"{json.dumps(t, ensure_ascii=False)} is not "
                                "a type name (string, number, integer, boolean, array, object)")
            spec["type"] = names[0] if len(names) == 1 else list(dict.fromkeys(names))
        for k in _COPIED:
            if k in node:
                if k == "default" and node[k] is None:
                    continue  # the catalog cannot say `default: null`; it is no constraint
                spec[k] = copy.deepcopy(node[k])
        if "default" in spec and "type" in spec and not _admits(_types(spec) or [], spec["default"]):
            # Kept as written (the importer does not guess), but worth a look.
            self.notes.append(f"{self.file}: {_ptr(ptr, 'default')}: the default "
                              f"{json.dumps(spec['default'])} is not of type {spec['type']}")
        # OpenAPI 3.0 exclusive bounds are booleans qualifying minimum/maximum;
        # 2020-12 (and the catalog) make them the bound itself.
        for excl, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            flag = node.get(excl)
            if flag is True and bound in spec:
                spec[excl] = spec.pop(bound)
            elif isinstance(flag, (int, float)) and not isinstance(flag, bool):
                spec[excl] = flag
            elif flag not in (None, True, False):
                raise _DocError(_ptr(ptr, excl), f"{excl} must be a boolean or a number")
        if "items" in node:
            items = self.convert(node["items"], _ptr(ptr, "items"))
            spec["items"] = items
        if "properties" in node:
            spec["properties"] = self._properties(node, ptr)
        elif isinstance(node.get("required"), list):
            # Required names without property schemas: any value, but present.
            spec["properties"] = {str(n): {"required": True} for n in node["required"]}
        if "additionalProperties" in node:
            extra = node["additionalProperties"]
            if extra is False:
                spec["additionalProperties"] = False
            elif isinstance(extra, dict):
                converted = self.convert(extra, _ptr(ptr, "additionalProperties"))
                if _core(converted) not in ({}, {"nullable": True}):
                    spec["additionalProperties"] = converted
            elif extra is not True:
                raise _DocError(_ptr(ptr, "additionalProperties"),
                                "additionalProperties must be a boolean or a schema")
        if node.get("nullable") is True:
            spec["nullable"] = True
        if node.get("required") is True:
            spec["required"] = True  # OpenAPI 3.0 has no such keyword; the docs use it once
        if node.get("deprecated") is True:
            spec["deprecated"] = _deprecation(name)
        if self.keep:
            if isinstance(node.get("description"), str) and node["description"].strip():
                spec["description"] = node["description"].strip()
            examples = node.get("examples")
            if isinstance(examples, list) and examples:
                spec["examples"] = copy.deepcopy(examples)
            elif "example" in node:
                spec["examples"] = [copy.deepcopy(node["example"])]
        return spec

    def _properties(self, node: dict[str, Any], ptr: str) -> dict[str, Spec]:
        props = node["properties"]
        if not isinstance(props, dict):
            raise _DocError(_ptr(ptr, "properties"), "properties must be an object")
        required = node.get("required", [])
        if not isinstance(required, (list, bool)):
            raise _DocError(_ptr(ptr, "required"), "required must be a list of names")
        out: dict[str, Spec] = {}
        for pname, pnode in props.items():
            spec = self.convert(pnode, _ptr(ptr, "properties", pname), name=pname)
            if _core(spec) == {"nullable": True}:
                spec = {k: v for k, v in spec.items() if k != "nullable"}  # any value
            if isinstance(required, list) and pname in required:
                spec["required"] = True
            out[pname] = spec
        for rname in required if isinstance(required, list) else []:
            if isinstance(rname, str) and rname not in out:
                out[rname] = {"required": True}
        return out

    def _union(self, node: dict[str, Any], key: str, ptr: str) -> Spec:
        branches = node[key]
        if not isinstance(branches, list) or not branches:
            raise _DocError(_ptr(ptr, key), f"{key} must be a non-empty list")
        converted = [self.convert(b, _ptr(ptr, key, i)) for i, b in enumerate(branches)]
        disc = node.get("discriminator")
        hint = disc.get("propertyName") if isinstance(disc, dict) else None
        return _union_of(converted, hint if isinstance(hint, str) else None)

    def _all_of(self, parts: Any, ptr: str) -> Spec:
        if not isinstance(parts, list) or not parts:
            raise _DocError(ptr, "allOf must be a non-empty list")
        out: Spec = {}
        for i, part in enumerate(parts):
            out = self._combine(out, self.convert(part, _ptr(ptr, i)), _ptr(ptr, i))
        return out

    def _combine(self, a: Spec, b: Spec, ptr: str) -> Spec:
        """Both ``a`` and ``b`` apply (allOf, or a union's sibling keywords).

        Exact when they constrain different keys (object parts with disjoint
        properties merge too); otherwise both are kept as an ``any_of`` is not,
        so the import refuses rather than guess."""
        if not _core(a):
            return {**a, **b}
        if not _core(b):
            return {**b, **a}
        out = dict(a)
        for k, v in b.items():
            if k == "properties" and isinstance(out.get(k), dict):
                clash = set(out[k]) & set(v)
                if any(_jkey(out[k][n]) != _jkey(v[n]) for n in clash):
                    raise _DocError(ptr, f"parts disagree on properties {sorted(clash)}")
                out[k] = {**out[k], **v}
            elif k in out and _jkey(out[k]) != _jkey(v) and k not in _ANNOTATIONS:
                if k == "nullable" or k == "required":
                    out[k] = True
                else:
                    raise _DocError(ptr, f"cannot combine two different `{k}`")
            else:
                out.setdefault(k, v)
        return out


# =============================================================================
# Reading documents
# =============================================================================

_JSON_TYPES = ("application/json",)
_MULTIPART_TYPES = ("multipart/form-data",)


@dataclass(slots=True)
class _Body:
    """One POST request body: where it is, its parameters and the models it covers."""

    file: str
    path: str
    pointer: str  # of the body's schema in the document
    content_type: str  # json | multipart
    params: dict[str, Spec]
    model_ids: list[str]
    summary: str | None


def _media(content: dict[str, Any]) -> tuple[str, str] | None:
    """(media type key, json|multipart), JSON preferred."""
    for key in content:
        base = key.split(";", 1)[0].strip().lower()
        if base in _JSON_TYPES or base.endswith("+json"):
            return key, "json"
    for key in content:
        if key.split(";", 1)[0].strip().lower() in _MULTIPART_TYPES:
            return key, "multipart"
    return None


def _read_bodies(doc: Any, file: str, keep: bool, shapes: _NewShapes,
                 notes: list[str]) -> list[_Body]:
    if not isinstance(doc, dict):
        raise _DocError("#", "the document is not a JSON object")
    paths = doc.get("paths")
    if not isinstance(paths, dict) or not paths:
        raise _DocError("#/paths" if "paths" in doc else "#", "the document has no `paths`")
    conv = _Converter(doc, file, keep, shapes, notes)
    bodies: list[_Body] = []
    for path, item in paths.items():
        op = item.get("post") if isinstance(item, dict) else None
        if not isinstance(op, dict) or "requestBody" not in op:
            continue  # GET operations and the like carry no parameters to import
        ptr = _ptr("#/paths", path, "post", "requestBody")
        rb = op["requestBody"]
        if isinstance(rb, dict) and isinstance(rb.get("$ref"), str):
            ptr, rb = rb["$ref"], conv._target(rb["$ref"], ptr)
        content = rb.get("content") if isinstance(rb, dict) else None
        if not isinstance(content, dict) or not content:
            raise _DocError(ptr, "the request body has no `content`")
        media = _media(content)
        if media is None:
            raise _DocError(_ptr(ptr, "content"), "no application/json or multipart/form-data "
                            f"body (found {', '.join(sorted(content))})")
        key, ctype = media
        sptr = _ptr(ptr, "content", key, "schema")
        schema = content[key].get("schema") if isinstance(content[key], dict) else None
        if schema is None:
            raise _DocError(sptr, "the request body has no schema")
        root = conv.convert(schema, sptr)
        if not isinstance(root.get("properties"), dict) or _types(root) not in (None, ["object"]):
            raise _DocError(sptr, "the request body is not an object with properties")
        params = root["properties"]
        model = params.get("model") or {}
        ids = _enum_values(model)
        if not ids or not all(isinstance(i, str) for i in ids):
            raise _DocError(_ptr(sptr, "properties", "model"),
                            "the body's `model` property lists no model ids (an enum of strings)")
        summary = op.get("summary") if isinstance(op.get("summary"), str) else None
        bodies.append(_Body(file=file, path=path, pointer=sptr, content_type=ctype, params=params,
                            model_ids=list(dict.fromkeys(ids)), summary=summary))
    if not bodies:
        raise _DocError("#/paths", "no POST operation has a request body")
    return bodies


# =============================================================================
# Model ids, developers, kinds, endpoints
# =============================================================================

KINDS = ("chat", "responses", "image", "video", "tts", "stt", "voice-chat", "music",
         "embedding", "ocr", "3d", "moderation", "search")
# Guessing the kind of model from its endpoint's path, first match wins.
_KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("chat/completions", "chat"), ("/messages", "chat"), ("/responses", "responses"),
    ("embedding", "embedding"), ("ocr", "ocr"), ("tts", "tts"), ("speech", "tts"),
    ("stt", "stt"), ("transcri", "stt"), ("video", "video"), ("image", "image"),
    ("audio", "music"), ("music", "music"), ("moderation", "moderation"), ("3d", "3d"),
    ("search", "search"), ("completions", "chat"), ("chat", "chat"),
)
_VERSION_RE = re.compile(r"^/v\d+(?=/)")


def _kind_of_path(path: str) -> str | None:
    low = path.lower()
    return next((kind for word, kind in _KIND_WORDS if word in low), None)


@dataclass(slots=True)
class _TableRow:
    ids: list[str]
    developer: str | None
    context_window: int | None


def _read_table(path: Path) -> list[_TableRow]:
    """Rows of the docs' model table (``models.json``: ``{"models": [{"ids": ...}]}``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    table = data.get("models") if isinstance(data, dict) else None
    if not isinstance(table, list):
        # Another JSON file (a request body, a document) would import as if no table were
        # given, every id of a row becoming a model of its own. (A ValueError, as for a
        # file that is not JSON: the command reports both as bad input.)
        raise ValueError(f"{path}: not the docs' model table (an object with a "  # noqa: TRY004
                         "`models` list)")
    rows: list[_TableRow] = []
    for row in table:
        ids = row.get("ids") if isinstance(row, dict) else None
        if isinstance(ids, list) and ids and all(isinstance(i, str) for i in ids):
            cw = row.get("context_window")
            dev = row.get("developer")
            rows.append(_TableRow(ids=list(ids), developer=dev if isinstance(dev, str) else None,
                                  context_window=cw if isinstance(cw, int) and cw > 0 else None))
    return rows


def _name_ok(name: str) -> bool:
    """Whether ``name`` may be a catalog name (model id, endpoint, definition)."""
    pattern = _meta_schema()["properties"]["models"]["propertyNames"]["pattern"]
    return re.match(pattern, name) is not None


def _is_prefixed(long: str, short: str) -> bool:
    """``openai/gpt-4o`` is ``gpt-4o`` with a vendor prefix."""
    head, sep, tail = long.partition("/")
    return bool(sep) and tail == short and bool(head)


class _Ids:
    """Which ids are one model: a table row is one model (its first id the id);
    without one, every id is a model, and ids that differ only by a vendor
    prefix are aliases of the unprefixed id."""

    def __init__(self, seen: list[str], rows: list[_TableRow]) -> None:
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        def union(a: str, b: str) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)

        wanted = set(seen)
        self.row_of: dict[str, _TableRow] = {}
        for row in rows:
            if wanted & set(row.ids):
                for i in row.ids:
                    self.row_of.setdefault(i, row)
                    union(row.ids[0], i)
        universe = list(dict.fromkeys([*seen, *self.row_of]))
        by_tail: dict[str, list[str]] = {}
        for i in universe:
            by_tail.setdefault(i.partition("/")[2], []).append(i)
        for i in universe:
            for long in by_tail.get(i, []):
                if _is_prefixed(long, i):
                    union(long, i)
        groups: dict[str, list[str]] = {}
        for i in universe:
            groups.setdefault(find(i), []).append(i)
        self.canonical: dict[str, str] = {}
        self.aliases: dict[str, list[str]] = {}
        for members in groups.values():
            canon = self._pick(members)
            lead = self.row_of.get(canon)
            ordered = [*(lead.ids if lead else []), *members]
            self.aliases[canon] = [i for i in dict.fromkeys(ordered) if i != canon]
            for m in members:
                self.canonical[m] = canon

    def _pick(self, members: list[str]) -> str:
        for m in members:
            row = self.row_of.get(m)
            if row is not None and _name_ok(row.ids[0]):
                return row.ids[0]
        # Catalog names have a narrower alphabet than gateway ids (`#g1_...`,
        # `...@001`); an alias may be spelled any way, so an id that fits leads.
        fits = [m for m in members if _name_ok(m)] or members
        plain = [m for m in fits if not any(_is_prefixed(m, o) for o in members)]
        return (plain or fits)[0]


@dataclass(slots=True)
class _NewEndpoint:
    name: str
    path: str
    aliases: list[str]
    content_type: str
    title: str


class _Endpoints:
    """Maps document paths to catalog endpoint names, declaring unknown ones."""

    def __init__(self, catalog: Catalog, bodies: list[_Body]) -> None:
        self.by_path: dict[str, str] = {}
        for e in catalog.endpoints.values():
            for p in (e.path, *e.aliases):
                self.by_path[p] = e.name
        self.catalog = catalog
        self.new: dict[str, _NewEndpoint] = {}
        known = set(self.by_path)
        paths = list(dict.fromkeys(b.path for b in bodies))
        first = {b.path: b for b in reversed(bodies)}
        taken = set(catalog.endpoints)
        # Versioned paths first, so `/chat/completions` can join `/v1/chat/completions`:
        # the docs serve unversioned paths from the https://api.aimlapi.com/v1 base.
        for p in sorted(paths, key=lambda p: (_VERSION_RE.match(p) is None, paths.index(p))):
            if p in known:
                continue
            twin = "/v1" + p if not _VERSION_RE.match(p) else None
            if twin is not None and twin in self.by_path:
                name = self.by_path[twin]
                self.by_path[p] = name
                if name in self.new:
                    self.new[name].aliases.append(p)
                continue
            name = self._name(p, taken)
            taken.add(name)
            body = first[p]
            self.new[name] = _NewEndpoint(name=name, path=p, aliases=[], title=f"POST {p}",
                                          content_type=body.content_type)
            self.by_path[p] = name

    @staticmethod
    def _name(path: str, taken: set[str]) -> str:
        words = [w for w in re.split(r"[^A-Za-z0-9]+", _VERSION_RE.sub("", path)) if w]
        base = "-".join(words).lower() or "endpoint"
        version = _VERSION_RE.match(path)
        candidates = [base, f"{version.group(0)[1:]}-{base}" if version else base]
        for c in candidates:
            if c not in taken:
                return c
        n = 2
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    def path_of(self, name: str) -> str:
        if name in self.new:
            return self.new[name].path
        return self.catalog.endpoints[name].path


# =============================================================================
# Merging bodies, deprecations
# =============================================================================

# A deprecated parameter is renamed only to a twin of the same meaning on the
# same endpoint; anything else is removed (the docs do not say what replaces it).
_TWINS: dict[str, tuple[str, ...]] = {
    "max_tokens": ("max_completion_tokens",),
    "ratio": ("aspect_ratio",),
}


def _merge_params(bodies: list[_Body]) -> dict[str, Spec]:
    """The union of several bodies' parameters for one model on one endpoint.

    The catalog's rule for several documents (the conformance test's too):
    parameters, nested properties and enum values are united; any other
    constraint both give is the first body's, and one only a later body gives
    is kept. A parameter (or nested property) is required only if every body
    requires it.
    """
    out: dict[str, Spec] = {}
    for body in bodies:
        for name, spec in body.params.items():
            out[name] = _merge_spec(out[name], spec) if name in out else copy.deepcopy(spec)
    for name, spec in out.items():
        if spec.get("required") and not all(b.params.get(name, {}).get("required")
                                            for b in bodies):
            del spec["required"]
    return out


_SHAPE_KEYS = ("ref", "any_of", "variants", "discriminator")


def _merge_spec(a: Spec, b: Spec) -> Spec:
    """``a`` and ``b`` united keyword by keyword (``a`` wins where both constrain).

    Unions (``any_of``, ``variants``) and ``ref`` s are taken from ``a`` whole
    when ``a`` has one, and never added to a spec without one (that would make
    a value satisfy both); ``required`` is left to the caller."""
    out = copy.deepcopy(a)
    shaped = any(k in a for k in _SHAPE_KEYS)
    for k, v in b.items():
        if k == "required" or (k in _SHAPE_KEYS and not shaped):
            continue  # a union beside a's own keywords would intersect, not unite
        if k not in out:
            if not shaped or k in ("default", "description", "examples", "deprecated"):
                out[k] = copy.deepcopy(v)
        elif k == "enum" and isinstance(v, list) and isinstance(out[k], list):
            seen = {_jkey(x) for x in out[k]}
            out[k] = [*out[k], *(copy.deepcopy(x) for x in v if _jkey(x) not in seen)]
        elif k == "properties" and isinstance(v, dict) and isinstance(out[k], dict):
            props: dict[str, Spec] = out[k]
            for name, sub in v.items():
                if name in props:
                    both = bool(props[name].get("required")) and bool(sub.get("required"))
                    props[name] = _merge_spec(props[name], sub)
                    if not both:
                        props[name].pop("required", None)
                else:
                    props[name] = {n: x for n, x in copy.deepcopy(sub).items() if n != "required"}
            for name, sub in props.items():
                if name not in v:
                    sub.pop("required", None)
        elif k in _SPEC_KEYS and isinstance(v, dict) and isinstance(out[k], dict):
            out[k] = _merge_spec(out[k], v)
    return out


def _resolve_twins(params: dict[str, Spec]) -> None:
    for name, spec in params.items():
        if not spec.get("deprecated"):
            continue
        for twin in _TWINS.get(name, ()):
            other = params.get(twin)
            if other is not None and not other.get("deprecated"):
                spec["deprecated"] = {
                    "action": "rename", "to": twin,
                    "hint": f"The gateway's documentation marks `{name}` as deprecated; "
                            f"send `{twin}` instead (rename the key)."}
                break


# =============================================================================
# Reuse: ref, vocabulary, family
# =============================================================================

# Keys that may stay beside a `ref:` (they say something about this use of the shape).
_REF_SIBLINGS = ("required", "description", "examples", "deprecated")
_REF_SIBLINGS_LOOSE = (*_REF_SIBLINGS, "default", "nullable")
_SPEC_KEYS = ("items", "additionalProperties")
_SPEC_LISTS = ("any_of", "variants")


def _structured(spec: Spec) -> bool:
    """Worth a shared name: has parts (a bare `{type: string}` never is)."""
    return any(k in spec for k in ("properties", "items", "any_of", "variants")) or (
        isinstance(spec.get("additionalProperties"), dict)) or len(_types(spec) or []) > 1


#: _Reuser's index of the catalog's definitions by normal form, per definitions text.
_INDEXES: dict[str, dict[str, str]] = {}


class _Reuser:
    """Rewrites converted specs to lean on what the catalog already has."""

    def __init__(self, catalog: Catalog, new_shapes: Mapping[str, Spec], keep: bool) -> None:
        self.catalog = catalog
        self.keep = keep
        self.canon = _Canon({**catalog.definitions, **new_shapes})
        # The index reads the catalog's definitions alone (new shapes get names no
        # definition has, so they never change one's normal form): one per catalog
        # text, kept across imports (a run of tools/gen_retired.py makes 133 of them).
        text = json.dumps(catalog.definitions, sort_keys=True, default=str)
        index = _INDEXES.get(text)
        if index is None:
            index = {}
            for name in sorted(catalog.definitions):
                spec = catalog.definitions[name]
                if _structured(spec) or "ref" in spec:
                    index.setdefault(self.canon.key(_core(spec)), name)
            if len(_INDEXES) >= 4:
                _INDEXES.clear()
            _INDEXES[text] = index
        self.index: Mapping[str, str] = index

    # -- ref ---------------------------------------------------------------------
    def use_definitions(self, spec: Spec) -> Spec:
        """``spec`` with every maximal subtree equal to a definition replaced by ``ref``."""
        for loose in (_REF_SIBLINGS, _REF_SIBLINGS_LOOSE):
            core = {k: v for k, v in spec.items() if k not in loose and k not in _ANNOTATIONS}
            if _structured(core):
                name = self.index.get(self.canon.key(core))
                if name is not None:
                    return {"ref": name, **{k: v for k, v in spec.items() if k not in core}}
        out = dict(spec)
        for k in _SPEC_KEYS:
            if isinstance(out.get(k), dict):
                out[k] = self.use_definitions(out[k])
        if isinstance(out.get("properties"), dict):
            out["properties"] = {n: self.use_definitions(s) for n, s in out["properties"].items()}
        for k in _SPEC_LISTS:
            if isinstance(out.get(k), list):
                out[k] = [self.use_definitions(s) for s in out[k]]
        return out

    # -- one parameter -----------------------------------------------------------
    def _same(self, key: str, a: Any, b: Any) -> bool:
        """Whether one key of a spec says the same in ``a`` and ``b`` (a first cut:
        :meth:`equal` checks the whole result)."""
        if key in _SPEC_KEYS and isinstance(a, dict) and isinstance(b, dict):
            return self.canon.key(a) == self.canon.key(b)
        if key == "properties" and isinstance(a, dict) and isinstance(b, dict):
            return self.canon.key({"properties": a}) == self.canon.key({"properties": b})
        if key == "enum" and isinstance(a, list) and isinstance(b, list):
            return sorted(map(_jkey, a)) == sorted(map(_jkey, b))
        return _jkey(a) == _jkey(b)

    def equal(self, target: Spec, resolved: Spec) -> bool:
        """Whether ``resolved`` (what the catalog would compile) means ``target``.

        Descriptions and examples are ignored unless kept; a deprecation the
        catalog states and the docs do not is allowed (the catalog may warn
        ahead of the docs, never lag them)."""
        if target.get("deprecated") and not resolved.get("deprecated"):
            return False
        if self.keep:
            for k in ("description", "examples"):
                if k in target and _jkey(target[k]) != _jkey(resolved.get(k)):
                    return False
        strip = ("deprecated",)
        t = {k: v for k, v in target.items() if k not in strip}
        r = {k: v for k, v in resolved.items() if k not in strip}
        return self.canon.key(t) == self.canon.key(r)

    def override(self, name: str, target: Spec, base: Spec | None,
                 names: Iterable[str] = ()) -> Spec:
        """The fewest keys that turn the inherited ``base`` into ``target``.

        ``base`` is the family's version of the parameter, else its vocabulary
        entry (what the loader merges the written keys onto); ``names`` are the
        model's parameters on the endpoint. Falls back to ``use: null`` and the
        whole spec when that is shorter."""
        if base is None:
            base = self.catalog.vocabulary.get(name, {})
        if name == "model":
            # The compiler writes the model's own ids as the enum; only "required" matters.
            target = {**base, "required": True}
        out: Spec = {}
        for k, v in target.items():
            if k != "deprecated" and not (k in base and self._same(k, v, base[k])):
                out[k] = v
        # A deprecation the catalog states ahead of the docs is kept (its wording
        # is ours), unless it renames to a parameter this model does not take.
        inherited = base.get("deprecated")
        stale = (isinstance(inherited, dict) and inherited.get("action") == "rename"
                 and inherited.get("to") not in set(names))
        if stale or (target.get("deprecated") and not inherited):
            out["deprecated"] = target.get("deprecated")
        # Inherited keys the target lacks are removed (`key: null`) only when
        # keeping them would change the meaning: `type: array` beside a `ref` to
        # an array shape is harmless, so it stays.
        extra = [k for k in base if k not in target and k not in _ANNOTATIONS
                 and k != "deprecated"]
        if not self.equal(target, self._merge(base, out)):
            out.update(dict.fromkeys(extra))
            for k in extra:
                trial = {x: v for x, v in out.items() if x != k}
                if self.equal(target, self._merge(base, trial)):
                    out = trial
        whole = {"use": None, **target}
        # `use: null` reads better than a list of removals of the same length.
        removes = any(v is None for v in out.values())
        if (not self.equal(target, self._merge(base, out)) or len(out) > len(whole)
                or (removes and len(out) == len(whole))):
            return whole
        return out

    @staticmethod
    def _merge(base: Spec, written: Spec) -> Spec:
        """What the loader makes of ``written`` over ``base`` (a null key removes it)."""
        return {k: v for k, v in {**base, **written}.items() if v is not None}

    # -- one model on one endpoint -----------------------------------------------
    def endpoint_entry(self, endpoint: str, params: dict[str, Spec]) -> Spec:
        """``{family, drop, parameters}`` or ``{endpoint, parameters}``, whichever is shorter."""
        plain = {n: self.override(n, s, None, params) for n, s in params.items()}

        def cost(written: Mapping[str, Spec], drop: Sequence[str]) -> int:
            return len(drop) + sum(1 + len(o) for o in written.values())

        best: Spec = {"endpoint": endpoint, "parameters": plain}
        best_cost = cost(plain, ())
        for fname in sorted(self.catalog.families):
            fam = self.catalog.families[fname]
            if fam["endpoint"] != endpoint:
                continue
            fparams: dict[str, Spec] = fam["parameters"]
            drop = [n for n in fparams if n not in params]
            written: dict[str, Spec] = {}
            for n, s in params.items():
                if n in fparams:
                    o = self.override(n, s, fparams[n], params)
                    if o:
                        written[n] = o
                else:
                    written[n] = plain[n]
            c = cost(written, drop)
            if c < best_cost:
                best_cost = c
                best = {"family": fname}
                if drop:
                    best["drop"] = drop
                if written:
                    best["parameters"] = written
        return best


# =============================================================================
# YAML output
# =============================================================================

# Spec keys in the order a person writes them.
_KEY_ORDER = ("use", "ref", "type", "enum", "const", "minimum", "exclusiveMinimum", "maximum",
              "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "format",
              "minItems", "maxItems", "uniqueItems", "default", "encodings", "media_types",
              "max_bytes", "items", "properties",
              "additionalProperties", "discriminator", "any_of", "variants", "nullable",
              "required", "deprecated", "description", "examples",
              # deprecated blocks
              "action", "to", "value", "since", "hint", "source")
_RANK = {k: i for i, k in enumerate(_KEY_ORDER)}


def _ordered_spec(spec: Spec) -> Spec:
    out: Spec = {}
    for k in sorted(spec, key=lambda k: _RANK.get(k, len(_RANK))):
        v = spec[k]
        if k in _SPEC_KEYS and isinstance(v, dict):
            v = _ordered_spec(v)
        elif k == "properties" and isinstance(v, dict):
            v = {n: _ordered_spec(s) for n, s in v.items()}
        elif k in _SPEC_LISTS and isinstance(v, list):
            v = [_ordered_spec(s) for s in v]
        elif k == "deprecated" and isinstance(v, dict):
            v = _ordered_spec(v)
        out[k] = v
    return out


class _Commented(dict[str, Any]):
    """A mapping whose keys may carry comment lines (written above the key);
    ``spaced`` puts a blank line between its entries."""

    def __init__(self, *args: Any, spaced: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.comments: dict[str, list[str]] = {}
        self.spaced = spaced


_WIDTH = 100
_NONPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")
# Plain (unquoted) strings: no indicator first, no flow punctuation (values also
# appear inside `{...}`), no ": " or " #"; the YAML round trip decides the rest
# (`16:9`, `2025-08-19`, `yes`, `1.0` all read back as something else).
_PLAIN_RE = re.compile(r"^[^-?:,\[\]{}#&*!|>'\"%@`\s][^,\[\]{}\x00-\x1f]*$")


@lru_cache(maxsize=65536)
def _plain_ok(s: str) -> bool:
    """Whether ``s`` reads back as the same string when written without quotes."""
    import yaml

    if (not _PLAIN_RE.match(s) or s != s.strip() or ": " in s or " #" in s
            or s.endswith(":") or _NONPRINTABLE.search(s)):
        return False
    try:
        return bool(yaml.safe_load(s) == s)
    except yaml.YAMLError:
        return False


def _quote(s: str) -> str:
    # JSON's double-quoted strings are YAML double-quoted strings too; escape
    # the few characters YAML would not read back as written.
    text = json.dumps(s, ensure_ascii=False)
    return _NONPRINTABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _scalar(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        r = repr(v)
        mant, e, exp = r.partition("e")
        if e and "." not in mant:
            r = f"{mant}.0e{exp}"  # PyYAML reads 1e-05 as a string, 1.0e-05 as a float
        return r
    if isinstance(v, str):
        return v if _plain_ok(v) else _quote(v)
    raise TypeError(f"cannot write {type(v).__name__} as YAML")


def _flow(v: Any) -> str | None:
    """``v`` on one line (``{a: 1, b: [x, y]}``), or None when it nests mappings."""
    if isinstance(v, dict):
        parts = []
        for k, x in v.items():
            if isinstance(x, dict) and x:
                return None
            inner = _flow(x)
            if inner is None:
                return None
            parts.append(f"{_scalar(str(k))}: {inner}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(v, list):
        if any(isinstance(x, (dict, list)) and x for x in v):
            return None
        return "[" + ", ".join(_flow(x) or "" for x in v) + "]"
    return _scalar(v)


def _wrapped(items: list[str], lead: str, indent: int) -> list[str] | None:
    """A flow sequence of scalars over several lines (continuations at ``indent``)."""
    lines = [f"{lead} ["]
    for i, item in enumerate(items):
        text = item + ("]" if i == len(items) - 1 else ",")
        if len(lines[-1]) + 1 + len(text) > _WIDTH and not lines[-1].endswith("["):
            lines.append(" " * indent + text)
        else:
            lines[-1] += ("" if lines[-1].endswith("[") else " ") + text
    return lines if all(len(x) <= _WIDTH for x in lines) else None


def _literal_ok(s: str) -> bool:
    return ("\n" in s and not s.startswith((" ", "\n")) and not s.endswith((" ", "\n"))
            and all(line == line.rstrip() and "\t" not in line and "\r" not in line
                    for line in s.split("\n")) and not _NONPRINTABLE.search(s))


def _block(v: Any, indent: int, out: list[str], lead: str) -> None:
    """Append ``v`` to ``out``: ``lead`` (``key:`` or ``-``) starts its first line,
    nested lines are indented by ``indent``."""
    pad = " " * indent
    if isinstance(v, (dict, list)) and v:
        flow = _flow(v)
        if flow is not None and len(lead) + 1 + len(flow) <= _WIDTH:
            out.append(f"{lead} {flow}")
            return
        if isinstance(v, list) and flow is not None:
            wrapped = _wrapped([_flow(x) or "" for x in v], lead, indent)
            if wrapped is not None:
                out.extend(wrapped)
                return
        if isinstance(v, list):
            out.append(lead)
            for x in v:
                if not (isinstance(x, dict) and x):
                    _block(x, indent + 2, out, f"{pad}-")
                    continue
                # A mapping item starts on the dash line: `- family: openai-chat`.
                sub: list[str] = []
                _mapping(x, indent + 2, sub)
                sub[0] = f"{pad}- {sub[0][indent + 2:]}"
                out.extend(sub)
            return
        if lead:
            out.append(lead)
        _mapping(v, indent, out)
        return
    if isinstance(v, str) and _literal_ok(v):
        out.append(f"{lead} |-")
        out.extend(f"{pad}{line}" if line else "" for line in v.split("\n"))
        return
    text = _flow(v) or ""
    if isinstance(v, str) and len(lead) + 1 + len(text) > _WIDTH and _folded_ok(v):
        # A long sentence (a hint, a kept description) folded at spaces, the
        # way the catalog writes them by hand.
        out.append(f"{lead} >-")
        line = ""
        for word in v.split(" "):
            if line and len(pad) + len(line) + 1 + len(word) > _WIDTH:
                out.append(pad + line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(pad + line)
        return
    out.append(f"{lead} {text}")


def _folded_ok(s: str) -> bool:
    return (bool(s) and s == s.strip() and "  " not in s and not _NONPRINTABLE.search(s)
            and not any(c in s for c in "\n\r\t"))


def _mapping(v: dict[str, Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    comments = v.comments if isinstance(v, _Commented) else {}
    spaced = isinstance(v, _Commented) and v.spaced
    for i, (k, x) in enumerate(v.items()):
        if spaced and i:
            out.append("")
        out.extend(f"{pad}# {c}" for c in comments.get(k, []))
        _block(x, indent + 2, out, f"{pad}{_scalar(str(k))}:")


def render_yaml(data: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """Readable, deterministic block-style YAML for ``data`` (small leaves in flow style).

    The text is read back and compared with ``data``, so a quoting slip is an
    error here rather than a silently different catalog."""
    from ._yamlio import load_yaml, plain

    out = [f"# {h}" if h else "#" for h in header]
    for k, v in data.items():
        lines: list[str] = []
        _block(v, 2, lines, f"{_scalar(str(k))}:")
        if len(lines) > 1 and out:
            out.append("")  # a blank line before each multi-line section
        out.extend(lines)
    text = "\n".join(out) + "\n"
    if plain(load_yaml(text)) != json.loads(json.dumps(data)):
        raise AssertionError("render_yaml: the YAML does not read back as the data")
    return text


# =============================================================================
# The whole import
# =============================================================================


@dataclass(slots=True)
class ImportResult:
    """What an import produced: relative path -> YAML text, and notes for the user."""

    files: dict[str, str]
    notes: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def _developer_from_path(file: str) -> str:
    # The docs keep each page under its developer's folder (image-models/Kling-AI/...).
    parent = Path(file).parent.name
    return re.sub(r"[-_]+", " ", parent).strip() or "unknown"


@lru_cache(maxsize=1)
def _meta_schema() -> dict[str, Any]:
    text = resources.files("aimlcat").joinpath("catalog_file.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _check_meta(rel: str, data: Mapping[str, Any]) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(_meta_schema())
    errors = sorted(validator.iter_errors(json.loads(json.dumps(data))), key=str)
    if errors:
        err = errors[0]
        where = "/".join(map(str, err.absolute_path))
        raise AssertionError(f"import produced an invalid {rel} at {where}: {err.message}")


@dataclass(slots=True)
class _Model:
    id: str
    aliases: list[str]
    developer: str
    kind: str
    context_window: int | None
    endpoints: dict[str, list[_Body]]  # endpoint name -> bodies, in reading order
    entries: list[Spec] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        seen: dict[str, list[str]] = {}
        for bodies in self.endpoints.values():
            for b in bodies:
                seen.setdefault(b.file, [])
                if b.path not in seen[b.file]:
                    seen[b.file].append(b.path)
        return [f"{f} ({', '.join(p)})" for f, p in seen.items()]


def import_openapi(documents: Sequence[str | Path], *, catalog: Catalog,
                   keep_descriptions: bool = False, models_table: str | Path | None = None,
                   developer: str | None = None, kind: str | None = None) -> ImportResult:
    """Import gateway OpenAPI documents against ``catalog``; nothing is written here.

    Raises :class:`ImportFailed` with one problem per document that cannot be
    read or converted (not JSON, no ``paths``, no POST body, an invalid type,
    ...), or when a model's kind cannot be told from its endpoint.
    """
    problems: list[ImportProblem] = []
    notes: list[str] = []
    shapes = _NewShapes(catalog.definitions)
    bodies: list[_Body] = []
    for doc_path in documents:
        file = Path(doc_path).as_posix()
        try:
            text = Path(doc_path).read_text(encoding="utf-8")
        except FileNotFoundError:
            problems.append(ImportProblem(file, "", "no such file"))
            continue
        except OSError as exc:  # the reason only: the path is already at the line's start
            problems.append(ImportProblem(file, "", f"cannot read: {exc.strerror or exc}"))
            continue
        except UnicodeDecodeError as exc:
            problems.append(ImportProblem(file, "", f"cannot read: not UTF-8 ({exc.reason})"))
            continue
        if not text.strip():
            problems.append(ImportProblem(file, "", "the file is empty"))
            continue
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(ImportProblem(file, "", f"not JSON: {exc.msg} at line {exc.lineno}"))
            continue
        try:
            bodies.extend(_read_bodies(doc, file, keep_descriptions, shapes, notes))
        except _DocError as exc:
            problems.append(ImportProblem(file, exc.pointer, exc.message))
    if problems:
        raise ImportFailed(problems)

    rows = _read_table(Path(models_table)) if models_table is not None else []
    ids = _Ids(list(dict.fromkeys(i for b in bodies for i in b.model_ids)), rows)
    endpoints = _Endpoints(catalog, bodies)
    models: dict[str, _Model] = {}
    for b in bodies:
        ep = endpoints.by_path[b.path]
        for mid in b.model_ids:
            canon = ids.canonical[mid]
            if not _name_ok(canon):
                problems.append(ImportProblem(
                    b.file, _ptr(b.pointer, "properties", "model"),
                    f"model id {canon!r} cannot be a catalog id (catalog names match "
                    f"{_meta_schema()['properties']['models']['propertyNames']['pattern']}); "
                    "a models.json row that lists it under another id makes it an alias"))
                break
            m = models.get(canon)
            if m is None:
                row = ids.row_of.get(canon)
                dev = developer or (row.developer if row else None) or _developer_from_path(b.file)
                m = models[canon] = _Model(id=canon, aliases=ids.aliases[canon], developer=dev,
                                           kind="", context_window=row.context_window if row
                                           else None, endpoints={})
            bucket = m.endpoints.setdefault(ep, [])
            if b not in bucket:
                bucket.append(b)
    for m in models.values():
        kinds = [kind or _kind_of_path(endpoints.path_of(ep)) for ep in m.endpoints]
        known = [k for k in kinds if k is not None]
        if not known:
            first = next(iter(m.endpoints.values()))[0]
            problems.append(ImportProblem(first.file, _ptr("#/paths", first.path),
                                          f"cannot tell what kind of model {m.id} is from the "
                                          "path; pass --kind"))
            continue
        m.kind = min(known, key=KINDS.index)
    if problems:
        # One line per document: its first problem.
        raise ImportFailed(list({p.file: p for p in reversed(problems)}.values())[::-1])

    reuser = _Reuser(catalog, shapes.specs, keep_descriptions)
    for m in models.values():
        for ep, bucket in m.endpoints.items():
            params = _merge_params(bucket)
            _resolve_twins(params)
            params = {n: reuser.use_definitions(s) for n, s in params.items()}
            entry = reuser.endpoint_entry(ep, params)
            m.entries.append(entry)
            ctype = bucket[0].content_type
            if ep not in endpoints.new and catalog.endpoints[ep].content_type != ctype:
                notes.append(f"{m.id}: {bucket[0].file} sends a {ctype} body to "
                             f"{catalog.endpoints[ep].path}, which the catalog declares "
                             f"{catalog.endpoints[ep].content_type}")
    owners = {i: m.id for m in catalog.models.values() for i in (m.id, *m.aliases)}
    for m in models.values():
        clash = sorted({owners[i] for i in (m.id, *m.aliases) if i in owners})
        if clash:
            notes.append(f"{m.id} is already in the catalog (as {', '.join(clash)}); "
                         "replace that entry rather than adding this one")
    files = _files(models, endpoints, shapes, documents)
    return ImportResult(files=files, notes=notes, models=sorted(models))


def _model_entry(m: _Model) -> Spec:
    entry: Spec = {}
    if m.aliases:
        entry["aliases"] = list(m.aliases)
    if m.context_window is not None:
        entry["context_window"] = m.context_window
    entry["endpoints"] = [_entry_ordered(e) for e in m.entries]
    return entry


def _entry_ordered(e: Spec) -> Spec:
    out: Spec = {}
    for k in ("family", "endpoint", "drop"):
        if k in e:
            out[k] = e[k]
    if "parameters" in e:
        out["parameters"] = {n: _ordered_spec(s) for n, s in e["parameters"].items()}
    return out


def _files(models: dict[str, _Model], endpoints: _Endpoints, shapes: _NewShapes,
           documents: Sequence[str | Path]) -> dict[str, str]:
    header = ["Imported by `aimlcat import-openapi`; review before moving into catalog/",
              "(see docs/importer.md)."]
    by_file: dict[tuple[str, str], list[_Model]] = {}
    for m in models.values():
        by_file.setdefault((m.developer, m.kind), []).append(m)
    files: dict[str, str] = {}
    rels: dict[str, tuple[str, str]] = {}
    for (dev, kind), members in sorted(by_file.items()):
        rel = f"{_slug(dev)}/{kind}.yaml"
        if rel in rels:
            raise ImportFailed([ImportProblem(str(documents[0]), "", f"developers {dev!r} and "
                                              f"{rels[rel][0]!r} would share {rel}")])
        rels[rel] = (dev, kind)
        entries = _Commented(spaced=True)
        for m, entry in _with_extends(members):
            entries[m.id] = entry
            if "extends" not in entry:
                entries.comments[m.id] = [f"from {s}" for s in m.sources]
        data = {"developer": dev, "kind": kind, "models": entries}
        _check_meta(rel, data)
        files[rel] = render_yaml(data, header)
    if endpoints.new:
        eps: Spec = {}
        for name in sorted(endpoints.new):
            e = endpoints.new[name]
            spec: Spec = {"path": e.path}
            if e.aliases:
                spec["aliases"] = sorted(e.aliases)
            spec["title"] = e.title
            detect = _detect(name, models)
            if detect:
                spec["detect"] = detect
            if e.content_type != "json":
                spec["content_type"] = e.content_type
            eps[name] = spec
        data = {"endpoints": eps}
        _check_meta("endpoints.yaml", data)
        files["endpoints.yaml"] = render_yaml(
            data, [*header, "", "Endpoints the catalog does not know yet (merge them into "
                   + "catalog/endpoints.yaml)."])
    if shapes.specs:
        data = {"definitions": {n: _ordered_spec(shapes.specs[n]) for n in sorted(shapes.specs)}}
        _check_meta("shapes.yaml", data)
        files["shapes.yaml"] = render_yaml(
            data, [*header, "", "Shapes that contain themselves, so they cannot be inlined."])
    return files


def _detect(endpoint: str, models: Mapping[str, _Model]) -> list[str]:
    """Body keys every imported model requires on ``endpoint`` (besides `model`)."""
    common: list[str] | None = None
    for m in models.values():
        bodies = m.endpoints.get(endpoint)
        if not bodies:
            continue
        params = _merge_params(bodies)
        req = [n for n, s in params.items() if s.get("required") and n != "model"]
        common = req if common is None else [n for n in common if n in req]
    return common or []


def _with_extends(members: list[_Model]) -> Iterable[tuple[_Model, Spec]]:
    """Models that share documents and parameters are written once: the first id
    the documents list (``gpt-4o``) in full, the others (dated snapshots) as
    ``extends``. Groups in id order, each parent before its children."""
    groups: dict[str, list[_Model]] = {}
    for m in members:  # first-seen order
        groups.setdefault(_jkey([m.entries, sorted(m.sources)]), []).append(m)
    for group in sorted(groups.values(), key=lambda g: g[0].id):
        parent = group[0]
        yield parent, _model_entry(parent)
        for child in sorted(group[1:], key=lambda m: m.id):
            entry: Spec = {"extends": parent.id, "aliases": list(child.aliases)}
            if child.context_window != parent.context_window:
                entry["context_window"] = child.context_window
            yield child, entry


def write_import(files: Mapping[str, str], out_dir: str | Path) -> list[Path]:
    """Write each file under ``out_dir`` atomically; return the paths written."""
    from ._fsutil import atomic_write_text

    root = Path(out_dir)
    written = []
    for rel, text in sorted(files.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
        written.append(path)
    return written


# =============================================================================
# Command line
# =============================================================================


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="aimlcat import-openapi",
        description="Turn the gateway's OpenAPI model documents into catalog YAML that reuses "
                    "the catalog's vocabulary, families and shapes.")
    p.add_argument("documents", nargs="+", metavar="DOC.json", help="OpenAPI 3.0 documents")
    p.add_argument("--out", type=Path, default=Path("imported"),
                   help="output directory (default: ./imported)")
    p.add_argument("--keep-descriptions", action="store_true",
                   help="keep the documents' descriptions and examples (for your own specs)")
    p.add_argument("--catalog", type=Path,
                   help="catalog to reuse (default: ./catalog, else the one aimlcat ships)")
    p.add_argument("--models-json", type=Path, metavar="FILE",
                   help="the docs' model table: ids on one row are one model")
    p.add_argument("--developer", help="developer of every imported model")
    p.add_argument("--kind", choices=KINDS, help="kind of every imported model")
    return p


def _default_catalog() -> Path:
    here = Path.cwd() / "catalog"
    if (here / "catalog.yaml").is_file():
        return here
    pkg = Path(__file__).resolve().parent
    source = pkg.parent / "catalog"
    return source if (source / "catalog.yaml").is_file() else pkg / "_data" / "catalog"


def cli_main(argv: list[str], out: IO[str]) -> int:
    """``aimlcat import-openapi``: 0 written, 2 on a usage error or any bad document
    (then nothing is written)."""
    from ._exceptions import CatalogError
    from ._loader import load_catalog_source

    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has printed
        return EXIT_OK if exc.code in (0, None) else EXIT_USAGE
    if args.out.exists() and not args.out.is_dir():
        out.write(f"aimlcat import-openapi: --out {args.out} is not a directory; "
                  "nothing written\n")
        return EXIT_USAGE
    cat_dir = args.catalog if args.catalog is not None else _default_catalog()
    try:
        catalog = load_catalog_source(cat_dir)
    except CatalogError as exc:
        for p in exc.problems:
            out.write(f"{p}\n")
        out.write(f"aimlcat import-openapi: the catalog {cat_dir} has problems; nothing written\n")
        return EXIT_USAGE
    if args.models_json is not None and not args.models_json.is_file():
        out.write(f"aimlcat import-openapi: {args.models_json}: no such file\n")
        return EXIT_USAGE
    try:
        result = import_openapi(args.documents, catalog=catalog,
                                keep_descriptions=args.keep_descriptions,
                                models_table=args.models_json, developer=args.developer,
                                kind=args.kind)
    except ImportFailed as exc:
        for problem in exc.problems:
            out.write(f"{problem}\n")
        out.write(f"aimlcat import-openapi: {len(exc.problems)} document(s) could not be "
                  "imported; nothing written\n")
        return EXIT_USAGE
    except (OSError, ValueError) as exc:
        out.write(f"aimlcat import-openapi: {exc}; nothing written\n")
        return EXIT_USAGE
    try:
        written = write_import(result.files, args.out)
    except OSError as exc:  # a directory that cannot be made or written
        from ._fsutil import write_error

        out.write(f"aimlcat import-openapi: {write_error(exc.filename or args.out, exc)}\n")
        return EXIT_USAGE
    for note in result.notes:
        out.write(f"note: {note}\n")
    out.write(f"imported {len(result.models)} model(s) from {len(args.documents)} document(s) "
              f"into {args.out}: {', '.join(p.relative_to(args.out).as_posix() for p in written)}\n")
    return EXIT_OK
