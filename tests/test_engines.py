"""Speed never changes a verdict.

For every compiled model × endpoint schema, bodies generated from the schema
itself (valid ones, then random mutations of them) get the same accept /
reject verdict from: the fast form (anyOf unions, used for every yes/no at
run time), the precise form (the published if/then schemas, used for errors),
the per-parameter validators the error path uses, and the pure-Python
jsonschema engine reading the published files as they are.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import jsonschema
import pytest
import referencing

from aimlcat import load_catalog

CAT = load_catalog()
DEFS = CAT.defs()
PAIRS = [(mid, path) for mid in CAT.ids() if CAT.resolve(mid) == mid
         for path in CAT.model_record(mid)["endpoints"]]
JUNK: list[Any] = [None, True, 0, -1, 3.5, 10**9, "", "x", "not a uri", [], [1], {}, {"zz": 1}]


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target = DEFS["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def generate(node: Any, rnd: random.Random, depth: int = 0) -> Any:
    """A value valid under ``node`` (a compiled schema), or as near as the schema allows."""
    if node is True or not isinstance(node, dict):
        return "anything"
    node = _resolve(node)
    if "x-aimlcat-discriminator" in node:
        return generate(rnd.choice(node["allOf"])["then"], rnd, depth)
    if "anyOf" in node:
        return generate(rnd.choice(node["anyOf"]), rnd, depth)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return rnd.choice(node["enum"])
    types = node.get("type", "string")
    types = types if isinstance(types, list) else [types]
    if depth > 6:
        types = [t for t in types if t not in ("array", "object")] or types
    t = rnd.choice(types)
    if t == "null":
        return None
    if t == "boolean":
        return rnd.random() < 0.5
    if t in ("integer", "number"):
        lo = node.get("minimum", node.get("exclusiveMinimum", -5))
        hi = node.get("maximum", node.get("exclusiveMaximum", lo + 100))
        if "exclusiveMinimum" in node:
            lo += 1
        if "exclusiveMaximum" in node:
            hi -= 1
        if t == "integer":
            return rnd.randint(int(lo) if lo == int(lo) else int(lo) + 1, int(hi))
        return round(rnd.uniform(lo, hi), 3)
    if t == "string":
        if node.get("format") == "uri":
            return f"https://example.com/{rnd.randint(0, 99)}.png"
        return "x" * max(node.get("minLength", 0), min(5, node.get("maxLength", 5)))
    if t == "array":
        lo = node.get("minItems", 0)
        hi = min(node.get("maxItems", lo + 3), lo + 3)
        return [generate(node.get("items", True), rnd, depth + 1)
                for _ in range(rnd.randint(lo, hi))]
    out = {}
    props = node.get("properties", {})
    required = set(node.get("required", []))
    for name, sub in props.items():
        if name in required or rnd.random() < 0.5:
            out[name] = generate(sub, rnd, depth + 1)
    return out


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*here, i))
    return out


def mutate(body: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    body = copy.deepcopy(body)
    path = rnd.choice(_paths(body)[1:] or [()])
    if not path:
        body["zz_unknown"] = 1
        return body
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


@pytest.mark.parametrize(("mid", "path"), PAIRS, ids=[f"{m} {p}" for m, p in PAIRS])
def test_fast_precise_and_pure_python_agree(mid: str, path: str) -> None:
    # `format: uri` is checked by the pure-Python engine only with jsonschema's
    # format extra (in the test extra); without it, every string would pass.
    assert not jsonschema.Draft202012Validator.FORMAT_CHECKER.conforms("x", "uri")
    rnd = random.Random(f"{mid} {path}")
    schema = CAT.endpoint_schema(mid, path)
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(
        DEFS["$id"], referencing.Resource.from_contents(DEFS))
    pure = jsonschema.Draft202012Validator(
        schema, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    fast, precise = CAT.validator(mid, path), CAT.validator(mid, path, fast=False)
    per_param = CAT.property_validators(mid, path)
    accepted = rejected = 0
    for _ in range(12):
        body = generate(schema, rnd)
        body["model"] = mid
        for candidate in [body, *(mutate(body, rnd) for _ in range(8))]:
            verdict = fast.is_valid(candidate)
            assert precise.is_valid(candidate) == verdict, candidate
            assert pure.is_valid(candidate) == verdict, candidate
            # The error path's per-parameter view finds a failure exactly when the
            # body fails for a reason other than its top-level keys.
            props = schema["properties"]
            top_ok = set(candidate) <= set(props) and all(
                k in candidate for k in schema.get("required", []))
            values_ok = all(per_param[k].is_valid(v) for k, v in candidate.items() if k in props)
            assert (top_ok and values_ok) == verdict, candidate
            accepted += verdict
            rejected += not verdict
    assert accepted >= 12 and rejected >= 20, (accepted, rejected)
