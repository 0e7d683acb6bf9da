"""Request bodies made from a compiled schema: examples for users, inputs for tests and bench.

:func:`sample` builds a body the schema accepts, from a seeded
:class:`random.Random`, so the same seed gives the same body. :func:`mutate`
breaks one random place of a body (a junk value, a deleted or renamed key).
"""

from __future__ import annotations

import copy
import random
from typing import Any

__all__ = ["JUNK", "minimal", "mutate", "sample"]

#: Values that are wrong almost anywhere, used by :func:`mutate`.
JUNK: tuple[Any, ...] = (None, True, 0, -1, 3.5, 10**9, "", "x", "not a uri", [], [1], {},
                         {"zz": 1})


def sample(schema: dict[str, Any], defs: dict[str, Any], rnd: random.Random, *,
           optional: float = 0.5, deprecated: bool = True) -> Any:
    """A value ``schema`` accepts; ``optional`` is the chance of including each optional key.

    ``defs`` is the compiled ``defs.json`` that ``$ref`` s point into; with
    ``deprecated=False`` no deprecated property is included (a clean body)."""
    return _Sampler(defs, rnd, optional, deprecated).value(schema, 0)


def minimal(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """The smallest typical value ``schema`` accepts: required keys only, and the first
    choice everywhere (first union variant, first type, first enum value, one item)."""
    return _Sampler(defs, random.Random(0), 0.0, False, first=True).value(schema, 0)


# Strings for the patterns the gateway documents (country codes, US dates, ISO
# dates, times, colours, language tags); the first that matches is used.
_PATTERN_SAMPLES = ("US", "01/15/2025", "2025-01-15", "12:30", "#1a2b3c", "en", "en-US",
                    "abc", "a1", "1")


def _matching(pattern: str, default: str) -> str:
    import re

    try:
        return next((s for s in (default, *_PATTERN_SAMPLES) if re.search(pattern, s)), default)
    except re.error:
        return default


class _Sampler:
    def __init__(self, defs: dict[str, Any], rnd: random.Random, optional: float,
                 deprecated: bool, *, first: bool = False) -> None:
        self.defs = defs["$defs"]
        self.rnd = rnd
        self.optional = optional
        self.deprecated = deprecated
        self.first = first

    def choice(self, options: Any) -> Any:
        return options[0] if self.first else self.rnd.choice(options)

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target = self.defs[node["$ref"].rsplit("/", 1)[-1]]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    def value(self, node: Any, depth: int) -> Any:
        rnd = self.rnd
        if not isinstance(node, dict):
            return "anything"
        node = self._resolve(node)
        if "x-aimlcat-discriminator" in node:
            return self.value(self.choice(node["allOf"])["then"], depth)
        if "anyOf" in node:
            return self.value(self.choice(node["anyOf"]), depth)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return self.choice(node["enum"])
        types = node.get("type", "string")
        types = types if isinstance(types, list) else [types]
        if depth > 6:
            types = [t for t in types if t not in ("array", "object")] or types
        t = self.choice([t for t in types if t != "null"] or types)
        if t == "null":
            return None
        if t == "boolean":
            return rnd.random() < 0.5
        if t in ("integer", "number"):
            return self.number(node, t)
        if t == "string":
            if node.get("format") == "uri":
                return ("https://example.com/files/input.png" if self.first
                    else f"https://example.com/files/{rnd.randint(0, 999)}.png")
            lo, hi = node.get("minLength", 0), node.get("maxLength", 40)
            if "pattern" in node:
                return _matching(node["pattern"], "an example"[:hi].ljust(lo, "x"))
            return "an example"[:hi].ljust(lo, "x")
        if t == "array":
            lo = node.get("minItems", 0)
            hi = min(node.get("maxItems", lo + 3), lo + 3)
            count = max(lo, min(1, hi)) if self.first else rnd.randint(lo, hi)
            return [self.value(node.get("items", True), depth + 1) for _ in range(count)]
        out = {}
        required = set(node.get("required", []))
        for name, sub in node.get("properties", {}).items():
            if not self.deprecated and sub.get("deprecated") and name not in required:
                continue
            if name in required or rnd.random() < self.optional:
                out[name] = self.value(sub, depth + 1)
        return out

    def number(self, node: dict[str, Any], t: str) -> int | float:
        lo = node.get("minimum", node.get("exclusiveMinimum", 0))
        hi = node.get("maximum", node.get("exclusiveMaximum", lo + 100))
        if t == "integer":
            ilo = int(lo) + (1 if "exclusiveMinimum" in node or lo != int(lo) else 0)
            ihi = int(hi) - (1 if "exclusiveMaximum" in node and hi == int(hi) else 0)
            return self.rnd.randint(ilo, max(ilo, ihi))
        value = round(self.rnd.uniform(lo, hi), 3)
        if ("exclusiveMinimum" in node and value <= lo) or (
                "exclusiveMaximum" in node and value >= hi):
            value = (lo + hi) / 2
        return value


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*here, i))
    return out


def mutate(body: dict[str, Any], rnd: random.Random, *, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy of ``body`` broken in one random place (top-level keys in ``keep`` are spared)."""
    body = copy.deepcopy(body)
    paths = [p for p in _paths(body)[1:] if p[0] not in keep]
    if not paths:
        body["zz_unknown"] = 1
        return body
    path = rnd.choice(paths)
    parent: Any = body
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    roll = rnd.random()
    if roll < 0.2 and isinstance(parent, dict):
        del parent[last]
    elif roll < 0.3 and isinstance(parent, dict):
        parent[f"{last}_typo"] = parent.pop(last)
    else:
        parent[last] = copy.deepcopy(rnd.choice(JUNK))
    return body
