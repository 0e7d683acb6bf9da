"""Speed never changes a verdict.

For every compiled model × endpoint schema, bodies generated from the schema
itself (valid ones, then random mutations of them) get the same accept /
reject verdict from: the verdict form the valid path uses (the fast form
without the model check, shared between schemas that are otherwise the
same), the fast form (anyOf unions, used for every yes/no at
run time), the precise form (the published if/then schemas, used for errors),
the per-parameter validators the error path uses, and the pure-Python
jsonschema engine reading the published files as they are.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import jsonschema
import pytest
import referencing

from aimlcat import load_catalog
from aimlcat._samples import mutate, sample

CAT = load_catalog()
DEFS = CAT.defs()
PAIRS = [(mid, path) for mid in CAT.ids() if CAT.resolve(mid) == mid
         for path in CAT.model_record(mid)["endpoints"]]


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
    # The valid path's validator: model already resolved, shared between schemas alike.
    verdict_only = CAT.plan(mid, path).fast
    per_param = CAT.property_validators(mid, path)
    accepted = rejected = 0
    for _ in range(12):
        body = sample(schema, DEFS, rnd)
        body["model"] = mid
        for candidate in [body, *(mutate(body, rnd, keep=("model",)) for _ in range(8))]:
            verdict = fast.is_valid(candidate)
            assert precise.is_valid(candidate) == verdict, candidate
            assert verdict_only.is_valid(candidate) == verdict, candidate
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


@pytest.mark.parametrize("message", [
    {"content": "hi"}, {"role": "robot", "content": "hi"}, {"role": 1, "content": "hi"},
    {"role": None, "content": "hi"}, {"role": ["user"], "content": "hi"}, "hi", None, 3,
    {"role": "user"}, {"role": "user", "content": [{"text": "no type"}]},
    {"role": "user", "content": [{"type": "video", "video": "x"}]},
    {"role": "user", "content": [{"type": 7, "text": "x"}]},
    {"role": "user", "content": ["bare string part"]},
])
def test_a_union_tag_is_checked_without_its_own_enum(message: Any) -> None:
    """The fast form drops a tagged union's own check of its tag where its branches say
    the same: a missing, unknown or mistyped tag is still refused by every form."""
    body = {"model": "gpt-4o", "messages": [message]}
    path = "/v1/chat/completions"
    verdicts = {CAT.plan("gpt-4o", path).fast.is_valid(body),
                CAT.validator("gpt-4o", path).is_valid(body),
                CAT.validator("gpt-4o", path, fast=False).is_valid(body)}
    assert verdicts == {False}


def test_standalone_fast_schemas_carry_the_fast_definitions() -> None:
    """A fast validator is built from a standalone schema (the definitions it reaches in its
    own $defs, no registry): each definition there, copies included, is exactly what
    fast_defs makes of defs.json, every ref is local and resolves, and nothing
    reachable is missing."""
    import copy

    from aimlcat._catalog import _FastDefs, _strip, fast_defs, fast_form, verdict_form

    want = fast_defs(copy.deepcopy(DEFS))["$defs"]
    table = _FastDefs(copy.deepcopy(DEFS))
    seen: set[str] = set()
    plans = 0
    for mid in CAT.ids():
        for path in CAT.model_record(mid)["endpoints"] if CAT.resolve(mid) == mid else ():
            try:
                schema = CAT.endpoint_schema(mid, path)
            except KeyError:  # a retired model without compiled endpoints
                continue
            out = table.standalone(fast_form(_strip(verdict_form(schema))))
            text = json.dumps(out)
            assert "defs.json" not in text, f"{mid} {path}: a ref still points at defs.json"
            refs = set(re.findall(r'"\$ref": "#/\$defs/([^"]+)"', text))
            assert refs <= set(out["$defs"]), f"{mid} {path}: {refs - set(out['$defs'])}"
            for name, node in out["$defs"].items():
                assert node == want[name], f"{mid} {path}: {name} differs from fast_defs"
            seen |= set(out["$defs"])
            plans += 1
    assert plans > 700 and any(n.endswith("_known") for n in seen)


def test_a_ref_in_data_is_data_in_a_standalone_schema() -> None:
    """Only schema positions hold refs: a `$ref` inside `examples`, `const` or `enum` is
    data, neither followed (no definition of that name is looked for) nor rewritten."""
    import jsonschema_rs

    from aimlcat._catalog import _FastDefs

    defs = {"$defs": {
        "a": {"type": "object", "additionalProperties": False,
              "examples": [{"$ref": "#/$defs/nowhere"}],
              "properties": {"x": {"const": {"$ref": "../../defs.json#/$defs/b"}},
                             "y": {"$ref": "#/$defs/b"}}},
        "b": {"type": "string", "default": {"$ref": "#/$defs/absent"}},
    }}
    form = {"type": "object",
            "properties": {"p": {"$ref": "../../defs.json#/$defs/a"},
                           "q": {"enum": [{"$ref": "../../defs.json#/$defs/b"}]}}}
    out = _FastDefs(defs).standalone(form)
    assert set(out["$defs"]) == {"a", "b"}
    assert out["properties"]["q"] == form["properties"]["q"]
    assert out["$defs"]["a"]["properties"]["x"] == defs["$defs"]["a"]["properties"]["x"]
    v = jsonschema_rs.validator_for(out)
    data = {"$ref": "../../defs.json#/$defs/b"}
    assert v.is_valid({"p": {"x": data, "y": "s"}, "q": data})
    assert not v.is_valid({"p": {"x": {"$ref": "#/$defs/b"}}})
    assert not v.is_valid({"p": {"y": 1}})


def test_union_branches_refer_to_copies_that_trust_the_tag() -> None:
    """fast_defs: a branch's definition is read through a copy without its tag check (the
    branch has checked it); the definition itself keeps it for its other uses."""
    from aimlcat._catalog import fast_defs

    table = fast_defs(DEFS)["$defs"]
    branches = table["openai_messages_multimodal"]["items"]["anyOf"]
    refs = {b["allOf"][1]["$ref"] for b in branches}
    assert "#/$defs/openai_user_message_multimodal__role_known" in refs
    copy = table["openai_user_message_multimodal__role_known"]
    assert copy["properties"]["role"] is True
    assert table["openai_user_message_multimodal"]["properties"]["role"]["enum"] == ["user"]


def test_without_the_compact_checker_jsonschema_rs_gives_the_same_verdicts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without a C compiler has no aimlcat._verdict: every fast validator is then
    jsonschema-rs's, with the same verdicts and findings (the other tests here run with
    whichever engine this install has)."""
    from pathlib import Path

    from aimlcat import _compact
    from aimlcat._catalog import Catalog, default_schema_dir, read_index

    monkeypatch.setattr(_compact, "AVAILABLE", False)
    schema_dir = default_schema_dir()
    bare = Catalog(read_index((schema_dir / "index.json").read_bytes()), schema_dir)
    data = Path(__file__).resolve().parent.parent / "bench" / "data"
    path = "/v1/chat/completions"
    assert not isinstance(bare.plan("gpt-4o", path).fast, _compact.Program or type(None))
    rnd = random.Random(11)
    schema = CAT.endpoint_schema("gpt-4o", path)
    bodies = [json.loads((data / n).read_text(encoding="utf-8"))
              for n in ("chat_valid.json", "chat_invalid.json", "video_valid.json")]
    for _ in range(20):
        body = sample(schema, DEFS, rnd)
        body["model"] = "gpt-4o"
        bodies += [body, *(mutate(body, rnd, keep=("model",)) for _ in range(5))]
    for body in bodies:
        assert bare.validate(body).to_dict() == CAT.validate(body).to_dict(), body
