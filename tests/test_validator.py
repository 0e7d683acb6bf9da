"""Every finding the validator produces, on the bundled catalog and on a small
catalog compiled for the test (for cases the bundled one has no model for)."""

from __future__ import annotations

import copy
import json
import math
import shutil
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

import aimlcat
from aimlcat import load_catalog
from aimlcat._compiler import compile_catalog, write_schemas
from aimlcat._loader import load_catalog_source

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench" / "data"


def codes(report: Any) -> list[tuple[str, str]]:
    return [(f.code, f.pointer) for f in report.findings]


@pytest.fixture(scope="module")
def cat() -> aimlcat.Catalog:
    return load_catalog()


CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
KLING = {"model": "kling-video/v1.6/pro/image-to-video", "image_url": "https://e.com/a.jpg"}


# -- the benchmark bodies ----------------------------------------------------------

def test_bench_bodies(cat: aimlcat.Catalog) -> None:
    def load(name: str) -> Any:
        return json.loads((BENCH / name).read_text())

    assert codes(cat.validate(load("chat_valid.json"))) == []
    assert sorted(codes(cat.validate(load("chat_invalid.json")))) == [
        ("AML301", "/frobnicate"), ("AML401", "/max_completion_tokens"),
        ("AML402", "/temperature")]
    assert codes(cat.validate(load("video_valid.json"))) == []
    assert sorted(codes(cat.validate(load("video_invalid.json")))) == [
        ("AML301", "/resolution"), ("AML401", "/image_url"), ("AML402", "/cfg_scale"),
        ("AML403", "/duration"), ("AML405", "/tail_image_url")]


def test_a_body_the_lane_rejects_gets_the_same_findings_as_a_first_one() -> None:
    """Once a clean body opened the lane, a body of the same shape that the lane's
    engine rejects goes the full way with that verdict known: the findings are those
    given before the lane was open."""
    bad = [{**CHAT, "temperature": 7}, {**CHAT, "temperature": "hot", "n": 0},
           {**CHAT, "messages": [{"role": "robot", "content": "hi"}]}]
    cat = load_catalog()
    for body in bad:
        cat.forget_bodies()
        expected = cat.validate(body, "/v1/chat/completions")
        assert not cat.lanes
        assert cat.validate({**CHAT, "temperature": 1}, "/v1/chat/completions").ok
        assert cat.lanes  # the clean body opened a lane for this shape
        got = cat.validate(body, "/v1/chat/completions")
        assert got.findings and got.findings == expected.findings


# -- model ------------------------------------------------------------------------

def test_not_an_object(cat: aimlcat.Catalog) -> None:
    for payload, what in (([], "an array"), ("x", "a string"), (3, "an integer"),
                          (None, "null"), (True, "a boolean")):
        r = cat.validate(payload)
        assert codes(r) == [("AML001", "")]
        assert r.findings[0].message == f"the request body is {what}, not a JSON object"
        assert not r.ok


@pytest.mark.parametrize("value", [..., {"a"}])
def test_a_python_value_json_has_no_form_for_is_one_clear_type_error(
        cat: aimlcat.Catalog, value: Any) -> None:
    """`[...]` copied from the README's sketch, or a set: a TypeError saying what
    validate() takes, not the schema engine's bare ValueError."""
    with pytest.raises(TypeError, match=r"JSON values only .*Unsupported type"):
        cat.validate({"model": "gpt-4o", "messages": value})


class _Temperature(float):
    """A float subclass, as numpy.float64 is (np.linspace(0, 1, 5) gives those)."""


class _Name(str):
    """A str subclass (markupsafe.Markup, a typed id)."""


def test_subclasses_of_str_int_and_float_are_the_json_values_they_send_as(
        cat: aimlcat.Catalog) -> None:
    """json.dumps (and so httpx and the SDKs) writes a float subclass as a float, a str
    subclass as a string: validate() checks them as such, not a TypeError saying the body
    holds no JSON values."""
    body = {"model": _Name("gpt-4o"), _Name("messages"): [
        {"role": _Name("user"), "content": _Name("hi")}], "temperature": _Temperature(0.5)}
    assert cat.validate(body).findings == []
    r = cat.validate({**body, "temperature": _Temperature(3.0), _Name("max_tokens"): 10})
    assert codes(r) == [("AML302", "/max_tokens"), ("AML402", "/temperature")]
    assert r.apply_fixes(body) == body
    np = pytest.importorskip("numpy")
    for t in np.linspace(0.0, 3.0, 4):
        r = cat.validate({**body, "temperature": t})
        assert codes(r) == ([] if t <= 2 else [("AML402", "/temperature")])


@pytest.mark.parametrize("body", [
    {1: 2, "model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi", 5: 1}]},
    # inside a value whose errors are read (the engine refuses the key while listing
    # them): not AML004's "nests too deeply", which the value does not
    {"model": "gpt-4o", "input": [{1: 2}]},
    {"model": "gpt-4o", "messages": [{"role": "user", "content": [{1: "x"}]}]},
])
def test_a_key_that_is_not_a_string_is_one_clear_type_error(
        cat: aimlcat.Catalog, body: dict[Any, Any]) -> None:
    """A dict built in Python with an int key: the same TypeError, not a crash in the
    hint of an unknown parameter nor the engine's bare ValueError."""
    with pytest.raises(TypeError, match=r"JSON values only .*Dict key must be str"):
        cat.validate(body)


def test_missing_and_wrong_type_model(cat: aimlcat.Catalog) -> None:
    assert codes(cat.validate({"messages": []})) == [("AML101", "/model")]
    assert codes(cat.validate({"model": 4})) == [("AML401", "/model")]


def test_unknown_model_did_you_mean(cat: aimlcat.Catalog) -> None:
    r = cat.validate({"model": "gpt4o", "messages": []})
    assert codes(r) == [("AML102", "/model")]
    assert "`gpt-4o`" in (r.findings[0].hint or "")


def test_removed_model(cat: aimlcat.Catalog) -> None:
    r = cat.validate({"model": "dall-e-3", "prompt": "x"})
    (f,) = r.findings
    assert (f.code, f.severity, f.pointer) == ("AML103", "error", "/model")
    assert "2026-06-09" in f.message


def test_alias_resolves(cat: aimlcat.Catalog) -> None:
    r = cat.validate({**CHAT, "model": "openai/gpt-4o"})
    assert r.findings == [] and r.model == "gpt-4o"


# -- endpoint -----------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", [
    "/v1/chat/completions", "/chat/completions", "v1/chat/completions",
    "https://api.aimlapi.com/v1/chat/completions", "https://api.aimlapi.com/chat/completions",
    "https://api.aimlapi.com/v1/chat/completions?x=1", "/v1/chat/completions/",
    # A fragment is never sent (httpx leaves it out of the request line; test_client
    # proves it on the wire), so it names no other endpoint than the query does.
    "/v1/chat/completions#x", "https://api.aimlapi.com/v1/chat/completions#x",
    "/chat/completions?x=1#y", "/v1/chat/completions#x?y=1",
])
def test_endpoint_spellings(cat: aimlcat.Catalog, endpoint: str) -> None:
    r = cat.validate(CHAT, endpoint)
    assert r.findings == [] and r.endpoint == "/v1/chat/completions"


@pytest.mark.parametrize(("endpoint", "served"), [
    ("/v1/v1/chat/completions", "/v1/chat/completions"),
    ("https://api.aimlapi.com/v1/v1/chat/completions", "/v1/chat/completions"),
    ("v1/v1/chat/completions/", "/v1/chat/completions"),
    ("/v1/v1/chat/completions?stream=true", "/v1/chat/completions"),  # (the query is no path)
    ("https://api.aimlapi.com/v1/v2/video/generations", "/v2/video/generations"),
])
def test_a_second_version_after_v1_is_no_endpoint(cat: aimlcat.Catalog, endpoint: str,
                                                  served: str) -> None:
    """A request log line from a base URL with /v1 once too often: the gateway answers 404
    there, as the pre-flight transport says (AML204); validate() says so too."""
    body = CHAT if served.startswith("/v1/") else {
        "model": "kling-video/v1.6/pro/image-to-video", "image_url": "https://e.com/a.jpg",
        "prompt": "x"}
    r = cat.validate(body, endpoint)
    assert codes(r) == [("AML204", "")]
    assert f"the gateway serves {served}." in (r.findings[0].hint or "")
    assert codes(cat.validate(body, served)) == []


@pytest.mark.parametrize("endpoint", [5, b"/v1/chat/completions", ["/v1/chat/completions"]])
def test_an_endpoint_that_is_not_a_string_is_one_clear_type_error(
        cat: aimlcat.Catalog, endpoint: Any) -> None:
    """Not the AttributeError of `.strip()`, nor bytes' own TypeError, nor an unhashable
    list's, whether or not the body took the lane before."""
    for _ in range(2):
        cat.validate(CHAT, "/v1/chat/completions")
        with pytest.raises(TypeError, match=r"^endpoint must be a str .* not "
                           + type(endpoint).__name__):
            cat.validate(CHAT, endpoint)
        with pytest.raises(TypeError, match=r"^endpoint must be a str"):
            aimlcat.validate(CHAT, endpoint)


@pytest.mark.parametrize("tail", ["?x=1", "#x"])
def test_a_query_and_a_fragment_leave_an_unknown_path_unknown(cat: aimlcat.Catalog,
                                                              tail: str) -> None:
    """What follows the path is cut the same way for both, so a wrong path is AML204 with
    the same guess whether a query or a fragment follows it."""
    r = cat.validate(CHAT, "/v1/chat/completion" + tail)
    assert codes(r) == [("AML204", "")]
    assert r.findings[0].hint == "Did you mean /v1/chat/completions?"
    assert codes(cat.validate(CHAT, "/v1/v1/chat/completions" + tail)) == [("AML204", "")]


def test_a_url_whose_host_cannot_be_read_is_aml204_not_a_traceback(
        cat: aimlcat.Catalog) -> None:
    """urlsplit raises ValueError on an unclosed IPv6 bracket; validate() said so with a
    traceback. No client can send to it: AML204, saying why."""
    r = cat.validate(CHAT, "https://[::1/v1/chat/completions")
    assert codes(r) == [("AML204", "")]
    assert "its host cannot be read" in (r.findings[0].hint or "")


def test_wrong_and_unknown_endpoint(cat: aimlcat.Catalog) -> None:
    r = cat.validate(CHAT, "/v2/video/generations")
    assert codes(r) == [("AML201", "")]
    assert "/v1/chat/completions" in (r.findings[0].hint or "")
    r = cat.validate(CHAT, "/v1/chat/completion")
    assert codes(r) == [("AML204", "")]
    assert "/v1/chat/completions" in (r.findings[0].hint or "")


def test_legacy_endpoint_and_its_deprecations(cat: aimlcat.Catalog) -> None:
    body = {**KLING, "prompt": "p", "ratio": "16:9", "aspect_ratio": "1:1"}
    r = cat.validate(body, "/v2/generate/video/kling/generation")
    assert sorted(codes(r)) == [("AML203", ""), ("AML302", "/aspect_ratio"), ("AML302", "/ratio")]
    legacy = next(f for f in r.findings if f.code == "AML203")
    assert "/v2/video/generations" in legacy.message and "2025-12-19" in legacy.message
    assert all(f.fix == {"op": "remove", "path": f.pointer}
               for f in r.findings if f.code == "AML302")


def test_endpoint_inferred_prefers_current(cat: aimlcat.Catalog) -> None:
    r = cat.validate(KLING)
    assert r.endpoint == "/v2/video/generations" and r.findings == []


# -- parameters ---------------------------------------------------------------------

def test_kling_aspect_ratio_removed(cat: aimlcat.Catalog) -> None:
    r = cat.validate({**KLING, "aspect_ratio": "16:9"}, "/v2/video/generations")
    (f,) = r.findings
    assert (f.code, f.pointer, f.severity) == ("AML303", "/aspect_ratio", "error")
    assert "2025-08-19" in f.message and "aspect ratio of the input image" in (f.hint or "")
    assert f.fix == {"op": "remove", "path": "/aspect_ratio"}


def test_max_tokens_rename_on_gpt4o(cat: aimlcat.Catalog) -> None:
    body = {**CHAT, "max_tokens": 10, "temperature": 0.2}
    r = cat.validate(body)
    (f,) = r.findings
    assert (f.code, f.severity, f.pointer) == ("AML302", "warning", "/max_tokens")
    assert f.fix == {"op": "move", "from": "/max_tokens", "path": "/max_completion_tokens"}
    before = copy.deepcopy(body)
    fixed = r.apply_fixes(body)
    assert body == before, "apply_fixes must not mutate its input"
    assert list(fixed) == ["model", "messages", "max_completion_tokens", "temperature"]
    assert fixed["max_completion_tokens"] == 10
    assert cat.validate(fixed).findings == []
    assert r.apply_fixes(fixed) == fixed  # applying again changes nothing


def test_no_rename_when_target_already_set(cat: aimlcat.Catalog) -> None:
    r = cat.validate({**CHAT, "max_tokens": 10, "max_completion_tokens": 10})
    (f,) = r.findings
    assert f.code == "AML302" and f.fix is None
    assert "max_completion_tokens" in (f.hint or "")


def test_unsupported_parameter_hints(cat: aimlcat.Catalog) -> None:
    r = cat.validate({**CHAT, "temperatur": 0.2})
    assert codes(r) == [("AML301", "/temperatur")]
    assert "Did you mean `temperature`?" in (r.findings[0].hint or "")
    # another model's name for the same idea
    r = cat.validate({"model": "flux/dev", "prompt": "x", "cfg_scale": 3})
    assert codes(r) == [("AML301", "/cfg_scale")]
    assert "calls it `guidance_scale`" in (r.findings[0].hint or "")
    r = cat.validate({**KLING, "guidance_scale": 0.5})
    assert "calls it `cfg_scale`" in (r.findings[0].hint or "")
    # models that do take it
    r = cat.validate({**KLING, "num_inference_steps": 20})
    hint = r.findings[0].hint or ""
    assert "Models that take `num_inference_steps` on /v2/video/generations: " in hint
    named = hint.split(": ", 1)[1].split(". ", 1)[0].split(", ")
    # ... on the same endpoint: a video request is not helped by an image model.
    assert named and all("num_inference_steps" in cat.model_record(m)["endpoints"][
        "/v2/video/generations"]["parameters"] for m in named)
    # A parameter only other endpoints' models take names none of them.
    r = cat.validate({"model": "openai/gpt-4o-transcribe", "url": "https://x.test/a.mp3",
                      "response_format": "json"})
    assert [f.code for f in r.findings] == ["AML301"]
    assert (r.findings[0].hint or "").startswith(
        "No model takes `response_format` on /v1/stt/create.")


def test_removed_parameter_on_reasoning_model(cat: aimlcat.Catalog) -> None:
    r = cat.validate({"model": "o3-mini", "messages": [{"role": "user", "content": "x"}],
                      "temperature": 1, "reasoning_effort": "low"})
    assert codes(r) == [("AML303", "/temperature")]
    # and text-only messages: an image part is not accepted by o3-mini (one AML501 at the
    # part, not the schema's complaint about its `type`; tests/test_capabilities.py)
    r = cat.validate({"model": "o3-mini", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://e.com/a.png"}}]}]})
    assert codes(r) == [("AML501", "/messages/0/content/0")]


# -- values, nested -----------------------------------------------------------------

def test_nested_errors_point_into_the_chosen_variant(cat: aimlcat.Catalog) -> None:
    body = {"model": "gpt-4o", "messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "x"},
            {"type": "image_url", "image_url": {"url": 5}},
            {"type": "image_url", "image_url": {"url": "https://e.com/a.png", "detial": "low"}},
            {"type": "image_url"},
        ]},
        {"role": "usr", "content": "x"},
        {"role": "tool", "content": "x"},
        {"role": "system", "content": "x", "nmae": "y"},
    ]}
    r = cat.validate(body)
    got = sorted(codes(r))
    assert got == sorted([
        ("AML401", "/messages/0/content/1/image_url/url"),
        ("AML404", "/messages/0/content/3/image_url"),
        ("AML403", "/messages/1/role"),
        ("AML404", "/messages/2/tool_call_id"),
        ("AML407", "/messages/3/nmae"),
    ]), got
    by = {f.pointer: f for f in r.findings}
    assert by["/messages/1/role"].hint == 'Did you mean "user"?'
    assert "`name`" in (by["/messages/3/nmae"].hint or "")
    # `detial` is allowed: the user message's image part is open in the docs
    assert not any("detial" in f.pointer for f in r.findings)


def test_type_range_enum_format_required(cat: aimlcat.Catalog) -> None:
    r = cat.validate({"model": "flux/dev", "num_images": 9, "image_size": 5,
                      "seed": "7"})
    assert sorted(codes(r)) == [("AML401", "/image_size"), ("AML401", "/seed"),
                                ("AML402", "/num_images"), ("AML404", "/prompt")]
    seed = next(f for f in r.findings if f.pointer == "/seed")
    assert "without quotes" in (seed.hint or "")
    r = cat.validate({**KLING, "tail_image_url": "not a url", "duration": 7,
                      "dynamic_masks": [{"mask": "m", "trajectories": [{"x": 1, "y": 1}]}]})
    assert sorted(codes(r)) == [("AML403", "/duration"), ("AML405", "/tail_image_url"),
                                ("AML406", "/dynamic_masks/0/trajectories")]


def test_remembered_parts_of_a_finding_never_carry_a_value(cat: aimlcat.Catalog) -> None:
    # A top-level type, range or enum finding keeps what does not depend on the value
    # (pointer, the words around the value, the range hint) per schema place; what the
    # value decides (its text, "without quotes", "did you mean") is made anew each time.
    from aimlcat import _validator

    qwen = {"model": "alibaba/qwen-image", "prompt": "a lighthouse"}
    bodies = [
        {**CHAT, "temperature": 3.5, "max_completion_tokens": "1024", "n": -1},
        {**CHAT, "temperature": 9, "max_completion_tokens": "many", "n": 0},
        {**CHAT, "temperature": -0.5, "max_completion_tokens": 12.5},
        {**KLING, "duration": 7},
        {**KLING, "duration": "10s"},
        {**qwen, "output_format": "pnj"},
        {**qwen, "output_format": "gif"},
    ]
    cold = []
    for body in bodies:
        _validator._PLACES.clear()
        cold.append(cat.validate(body).findings)
    warm = [cat.validate(body).findings for body in bodies]
    assert warm == cold
    said = {(f.pointer, f.message, f.hint) for findings in warm for f in findings}
    assert ("/temperature", "`temperature` is 9, above the maximum 2", "Allowed: 0–2.") in said
    assert ("/temperature", "`temperature` is -0.5, below the minimum 0", "Allowed: 0–2.") in said
    wrong = "`max_completion_tokens` must be integer, not string"
    assert ("/max_completion_tokens", f'{wrong} ("1024")',
            "Send the number without quotes: 1024.") in said
    assert ("/max_completion_tokens", f'{wrong} ("many")', None) in said
    assert ("/output_format", '`output_format` is "pnj"; allowed: "jpeg", "png"',
            'Did you mean "png"?') in said
    assert ("/output_format", '`output_format` is "gif"; allowed: "jpeg", "png"', None) in said


def test_data_url_is_accepted_for_images(cat: aimlcat.Catalog) -> None:
    r = cat.validate({**KLING, "image_url": "data:image/png;base64,iVBORw0KGgo="})
    assert r.findings == []


def test_validate_caches_validators(cat: aimlcat.Catalog) -> None:
    v = cat.validator("gpt-4o", "/v1/chat/completions")
    cat.validate(CHAT)
    cat.validate({**CHAT, "temperature": 9})
    assert cat.validator("gpt-4o", "/v1/chat/completions") is v
    p = cat.property_validators("gpt-4o", "/v1/chat/completions", fast=False)["temperature"]
    assert cat.property_validators("gpt-4o", "/v1/chat/completions",
                                   fast=False)["temperature"] is p


def test_module_level_validate_uses_bundled_catalog() -> None:
    assert aimlcat.validate(CHAT).ok
    assert aimlcat.validate(CHAT, endpoint="/chat/completions").endpoint == "/v1/chat/completions"


# -- a small catalog for cases the bundled one has no model for ------------------------

MINI_MODELS = """\
developer: Test Labs
kind: chat
models:
  old-chat:
    status: deprecated
    status_since: 2026-01-02
    replacement: messages-chat
    endpoints:
      - family: openai-chat
  messages-chat:
    # Like /v1/messages: max_tokens is the limit itself, required, not deprecated.
    endpoints:
      - endpoint: chat-completions
        parameters:
          model: {required: true}
          messages: {ref: openai_messages_text, required: true}
          max_tokens: {type: integer, minimum: 1, required: true}
  two-ways:
    endpoints:
      - family: openai-chat
      - family: video-generation
  undocumented-model: {}
  "#g1_nullables@001":
    # Gateway ids may start with # and hold @; every nullable form accepts null.
    endpoints:
      - endpoint: chat-completions
        parameters:
          model: {required: true}
          a: {nullable: true, any_of: [{type: string}, {type: integer}]}
          b: {nullable: true, ref: openai_tool_choice}
          c:
            nullable: true
            type: object
            discriminator: type
            variants: [{type: object, properties: {type: {type: string, enum: [x], required: true}}}]
          d: {nullable: true, type: string, enum: [p, q]}
  uploader:
    kind: image
    endpoints:
      - endpoint: images-generations
        parameters:
          model: {required: true}
          image: {type: string, encodings: [base64], media_types: [image/png], max_bytes: 8}
"""


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> aimlcat.Catalog:
    root = tmp_path_factory.mktemp("mini")
    shutil.copytree(REPO / "catalog", root / "catalog")
    (root / "catalog" / "models" / "test").mkdir()
    (root / "catalog" / "models" / "test" / "chat.yaml").write_text(MINI_MODELS)
    write_schemas(compile_catalog(load_catalog_source(root / "catalog")), root / "schemas")
    return load_catalog(root / "schemas")


def test_deprecated_model_warns_and_continues(mini: aimlcat.Catalog) -> None:
    r = mini.validate({"model": "old-chat", "messages": [], "max_tokens": 5, "top_k": 3})
    assert codes(r) == [("AML104", "/model"), ("AML302", "/max_tokens"), ("AML301", "/top_k")]
    assert "2026-01-02" in r.findings[0].message
    assert "messages-chat" in (r.findings[0].hint or "")
    assert r.findings[0].severity == "warning"


def test_max_tokens_is_the_limit_where_there_is_no_twin(mini: aimlcat.Catalog) -> None:
    ok = {"model": "messages-chat", "messages": [{"role": "user", "content": "x"}],
          "max_tokens": 100}
    assert mini.validate(ok).findings == []
    r = mini.validate({**ok, "max_completion_tokens": 100})
    (f,) = r.findings
    assert f.code == "AML301" and f.fix is None
    assert "calls it `max_tokens`" in (f.hint or "")
    r = mini.validate({"model": "messages-chat", "messages": []})
    assert codes(r) == [("AML404", "/max_tokens")]


def test_ambiguous_endpoint(mini: aimlcat.Catalog) -> None:
    r = mini.validate({"model": "two-ways"})
    assert codes(r) == [("AML202", "")]
    assert mini.validate({"model": "two-ways", "messages": []}).endpoint == "/v1/chat/completions"
    assert mini.validate({"model": "two-ways", "prompt": "x"},
                         "/v2/video/generations").findings == []


def test_parameters_not_documented(mini: aimlcat.Catalog) -> None:
    r = mini.validate({"model": "undocumented-model", "anything": 1, "goes": [1]})
    assert codes(r) == [("AML105", "/model")]
    assert r.findings[0].severity == "info" and r.ok


@pytest.mark.parametrize(("url", "expect"), [
    ("https://e.com/a.png", None),
    ("data:image/png;base64,iVBORw0KGgo=", None),
    ("data:image/bmp;base64,Qk0=", "type image/bmp"),
    ("data:image/png,iVBORw0KGgo=", "without `;base64`"),
    ("data:image/png;base64,iVBO*w0KGgo=", "does not decode as base64"),
    ("data:image/png;base64,iVBORw0KGgo", "does not decode as base64"),  # bad padding
])
def test_data_urls_in_image_parts(cat: aimlcat.Catalog, url: str, expect: str | None) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": url}}]}]}
    r = cat.validate(body)
    if expect is None:
        assert r.findings == []
        return
    (f,) = r.findings
    assert (f.code, f.pointer) == ("AML409", "/messages/0/content/0/image_url/url")
    assert expect in f.message and f.hint


def test_encoded_data_size_and_raw_base64(mini: aimlcat.Catalog) -> None:
    ok = mini.validate({"model": "uploader", "image": "QUJD"})  # raw base64 is fine
    assert ok.findings == []
    assert mini.validate({"model": "uploader", "image": "data:image/png;base64,QUJD"}).ok
    r = mini.validate({"model": "uploader", "image": "data:image/png;base64,QUJDREVGR0hJSg=="})
    (f,) = r.findings
    assert f.code == "AML409" and "10 bytes; the limit is 8" in f.message


@pytest.mark.parametrize(("extra", "expected"), [
    ({"a": None, "b": None, "c": None, "d": None}, []),
    ({"a": "s", "b": "auto", "c": {"type": "x"}, "d": "p"}, []),
    ({"a": 1.5}, [("AML401", "/a")]),  # no shape of its type: a type error
    ({"b": 5}, [("AML401", "/b")]),
    ({"c": {"type": "y"}}, [("AML403", "/c/type")]),  # the tag names no shape
    ({"d": "r"}, [("AML403", "/d")]),
])
def test_nullable_unions_and_references(mini: aimlcat.Catalog, extra: dict[str, Any],
                                        expected: list[tuple[str, str]]) -> None:
    assert codes(mini.validate({"model": "#g1_nullables@001", **extra})) == expected


_RESPONSES = "/v1/responses"
_CHAT = "/v1/chat/completions"
_HI = [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize(("endpoint", "body", "expected", "words"), [
    # A Responses input item whose `role`/`type` point to the message shapes: the error
    # inside that shape, not "matches none of the shapes".
    (_RESPONSES, {"input": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]},
     [("AML403", "/input/0/content/0/type")], '"input_text"'),
    (_RESPONSES, {"input": [{"type": "message", "role": "user", "content": [
        {"type": "input_file", "filename": "a.pdf", "file_data": "not base64"}]}]},
     [("AML409", "/input/0/content/0/file_data")], "base64"),
    (_RESPONSES, {"input": [{"type": "message", "role": "bogus", "content": "Hi"}]},
     [("AML403", "/input/0/role")], '"developer"'),
    (_RESPONSES, {"input": [{"type": "mesage", "role": "user", "content": "Hi"}]},
     [("AML403", "/input/0/type")], '"message"'),
    # A `type` no item shape has (a content part put where an item goes): the tag's
    # error with every item's choice, not the smallest shape's (an item reference:
    # "`id` is required", "allowed: \"item_reference\", null").
    (_RESPONSES, {"input": [{"type": "input_text", "text": "Hi"}]},
     [("AML403", "/input/0/type")], '"function_call_output"'),
    (_RESPONSES, {"input": [{"type": "reasoning", "id": "rs_1", "summary": []}]},
     [("AML403", "/input/0/type")], '"message"'),
    (_RESPONSES, {"input": [{"type": math.inf}]}, [("AML401", "/input/0/type")],
     "which JSON has no number for"),
    # An item reference (which only requires `id`) is no shape for a message.
    (_RESPONSES, {"input": [{"role": "user"}]}, [("AML404", "/input/0/content")], "content"),
    # Nothing says which shape: the union's own error.
    (_RESPONSES, {"input": [{"text": "Hi"}]}, [("AML408", "/input/0")], "12 shapes"),
    (_RESPONSES, {"input": [{}]}, [("AML408", "/input/0")], "shapes"),
    # No shape of the value's type: a type error listing the types.
    (_RESPONSES, {"input": [True]}, [("AML401", "/input/0")], "must be object"),
    # The only object shape is meant; a wrong tag lists every shape's choice.
    (_CHAT, {"messages": _HI, "tool_choice": {"name": "f"}},
     [("AML404", "/tool_choice/function"), ("AML404", "/tool_choice/type")], "required"),
    (_CHAT, {"messages": _HI, "tool_choice": "bogus"}, [("AML403", "/tool_choice")],
     '"required"'),
])
def test_union_errors_point_inside_the_meant_shape(cat: aimlcat.Catalog, endpoint: str,
                                                   body: dict[str, Any],
                                                   expected: list[tuple[str, str]],
                                                   words: str) -> None:
    r = cat.validate({"model": "gpt-4o", **body}, endpoint)
    assert sorted(codes(r)) == expected
    assert all(words in f.message for f in r.findings), r.findings


def test_the_shapes_a_union_counts_are_those_of_its_nested_unions_too(
        cat: aimlcat.Catalog) -> None:
    """An Anthropic tool is one of 16 named tools (a union of their own) or any other
    typed object: a tool that fits none matches none of 17 shapes, not "of the 2"."""
    r = cat.validate({"model": "anthropic/claude-sonnet-5", "max_tokens": 10,
                      "messages": [{"role": "user", "content": "hi"}], "tools": [{}]},
                     "/v1/messages")
    (f,) = r.findings
    assert (f.code, f.pointer) == ("AML408", "/tools/0")
    assert f.message == "`/tools/0` matches none of the 17 shapes accepted here"


def test_the_choices_listed_are_whole_values(cat: aimlcat.Catalog) -> None:
    """A choice cut to 30 characters ("web_search_preview_2025_03_1…") is no value to
    copy; the choices are the catalog's own words, listed whole (at most 12 of them)."""
    r = cat.validate({"model": "gpt-4o", "input": "hi", "tools": [{"type": "web_search"}]},
                     _RESPONSES)
    (f,) = r.findings
    assert (f.code, f.pointer) == ("AML403", "/tools/0/type")
    assert '"web_search_preview_2025_03_11"' in f.message and "…" not in f.message
    r = cat.validate({"model": "anthropic/claude-sonnet-5", "max_tokens": 10, "messages": [
        {"role": "user", "content": [{"type": "txt", "text": "hi"}]}]}, "/v1/messages")
    (f,) = r.findings
    assert '"bash_code_execution_tool_result"' in f.message and "…" not in f.message


def test_union_tag_finding_suggests_the_close_choice(cat: aimlcat.Catalog) -> None:
    r = cat.validate({"model": "gpt-4o", "input": [
        {"type": "mesage", "role": "user", "content": "Hi"}]}, _RESPONSES)
    (f,) = r.findings
    assert f.hint == 'Did you mean "message"?'
    # only the shapes the item's other members point to: the message shapes
    assert "web_search_call" not in f.message


def test_every_rule_is_exercised() -> None:
    """Keep this list in step with RULES: each code above has a test in this file."""
    # AML002 (duplicate keys) belongs to reading files: tests/test_payloads.py; AML003
    # (a JSON Lines line that is not JSON) too: tests/test_lint_files.py.
    tested = {"AML001", "AML002", "AML003", "AML004", "AML005", "AML101", "AML102", "AML103", "AML104", "AML105", "AML201", "AML202",
              "AML203", "AML204", "AML301", "AML302", "AML303", "AML401", "AML402", "AML403",
              "AML404", "AML405", "AML406", "AML407", "AML408", "AML409"}
    # AML501-AML504 (modalities and capabilities): tests/test_capabilities.py.
    tested |= {"AML501", "AML502", "AML503", "AML504"}
    # AML510 / AML511 (the context window): tests/test_tokens.py.
    tested |= {"AML510", "AML511"}
    assert tested == set(aimlcat.RULES)


def test_the_lane_gives_what_the_full_path_gives() -> None:
    # A body shaped like one seen before (model, endpoint argument, keys) takes the lane:
    # the engine's verdict and the context-window check only. Its reports must be the
    # full path's, and a body of the same shape that is wrong must still be caught.
    fresh = load_catalog()
    fresh.lanes.clear()
    good = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.5}
    first = fresh.validate(good)
    assert fresh.lanes, "a valid body of an active model opens a lane"
    again = fresh.validate(copy.deepcopy(good))
    assert again == first and not again.findings
    # same shape, wrong values: the engine says no, the full path says why
    bad = {**good, "temperature": 9}
    assert [f.code for f in fresh.validate(bad).findings] == ["AML402"]
    # same shape, a prompt far over the window: the lane still checks the window
    huge = {**good, "messages": [{"role": "user", "content": "word " * 700_000}]}
    assert [f.code for f in fresh.validate(huge).findings] == ["AML510"]
    # a shape with a deprecated key never opens a lane; its finding comes every time
    old = {**good, "max_tokens": 10}
    for _ in range(2):
        assert [f.code for f in fresh.validate(old).findings] == ["AML302"]
    # the endpoint argument is part of the shape
    r = fresh.validate(good, endpoint="/v1/responses")
    assert r.endpoint == "/v1/responses" and r.findings
    # forgetting the shapes (the bench does, between passes) changes no report
    fresh.forget_bodies()
    assert not fresh.lanes
    assert fresh.validate(good) == first and fresh.lanes


def test_lanes_give_what_the_full_path_gives_on_generated_bodies(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every active model x endpoint: clean bodies of different shapes and broken ones,
    with and without the endpoint argument, give the same reports through the lanes
    (warm, a second and third time) as through the full path alone."""
    import random

    import aimlcat._validator as validator
    from aimlcat._samples import mutate, sample

    cat = load_catalog()
    defs = cat.defs()
    rnd = random.Random(11)
    cases: list[tuple[Any, str | None]] = []
    for mid in cat.ids():
        if cat.resolve(mid) != mid or cat.model(mid).status != "active":
            continue
        eps = cat.model_record(mid)["endpoints"]
        for path, ep in eps.items():
            if ep.get("legacy"):
                continue
            schema = cat.endpoint_schema(mid, path)
            bodies = [{**sample(schema, defs, rnd, optional=p, deprecated=False), "model": mid}
                      for p in (0.2, 0.6, 0.9)]
            bodies.append(mutate(bodies[-1], rnd, keep=("model",)))
            # deprecated keys pass the engine: the lane must still send them to the full path
            bodies.append({**sample(schema, defs, rnd, optional=0.9), "model": mid})
            for body in bodies:
                cases.append((body, path))
                if len(eps) == 1:
                    cases.append((body, None))
    cat.forget_bodies()
    monkeypatch.setattr(validator, "_LANES", 0)
    expected = [cat.validate(b, e) for b, e in cases]
    assert not cat.lanes
    monkeypatch.setattr(validator, "_LANES", 1 << 20)
    for _ in range(3):
        assert [cat.validate(b, e) for b, e in cases] == expected
    assert sum(len(k) == 2 for k in cat.lanes) > 500, "model lanes: one per model x endpoint"
    cat.forget_bodies()


@pytest.mark.parametrize(("value", "said"), [
    (float("nan"), "`temperature` is nan, which JSON has no number for"),
    (float("inf"), "`temperature` is inf, which JSON has no number for (a number past "
                   "±1.8e308, such as 1e400, reads as inf)"),
    (float("-inf"), "`temperature` is -inf, which JSON has no number for (a number past "
                    "±1.8e308, such as -1e400, reads as -inf)"),
])
def test_a_number_json_cannot_carry_is_named(cat: aimlcat.Catalog, value: float,
                                             said: str) -> None:
    """The engine reads NaN and the infinities as null; the finding says what they are,
    and where an infinity comes from in JSON text (tests/test_lint_files.py: a file)."""
    r = cat.validate({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
                      "temperature": value})
    (f,) = r.findings
    assert (f.code, f.pointer) == ("AML401", "/temperature")
    assert f.message == said
    assert f.hint is not None and f.hint.endswith("Send a finite number.")
    # what each encoder does, as the hint says (the SDKs: tests/test_client.py)
    assert "httpx and the OpenAI and Anthropic SDKs raise ValueError (allow_nan=False)" in f.hint
    sign = "-" if value < 0 else ""
    written = "NaN" if value != value else sign + "Infinity"
    assert f"json.dumps writes {written}, which is not JSON, and orjson writes null" in f.hint
    assert json.dumps(value) == written and orjson.dumps(value) == b"null"
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        httpx.Request("POST", "https://api.aimlapi.com/v1/chat/completions",
                      json={"temperature": value})


@pytest.mark.parametrize(("extra", "pointer", "instead"), [
    ({"logit_bias": {"50256": math.inf}}, "/logit_bias/50256", "Send a finite number."),
    ({"logit_bias": {"7": math.nan}}, "/logit_bias/7", "Send a finite number."),
    ({"n": math.inf}, "/n", "Send an integer."),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": -math.inf}]}]},
     "/messages/0/content/0/text", "`/messages/0/content/0/text` must be string."),
])
def test_a_non_finite_number_deeper_down_is_named_too(
        cat: aimlcat.Catalog, extra: dict[str, Any], pointer: str, instead: str) -> None:
    """Below the top level the engine's own error said "must be number, not null", of a
    value that is no null; the finding names it as at the top, with what to send."""
    r = cat.validate({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
                      **extra})
    (f,) = r.findings
    assert (f.code, f.pointer) == ("AML401", pointer)
    assert "which JSON has no number for" in f.message and "null" not in f.message
    assert f.hint is not None and f.hint.endswith(instead)



@pytest.mark.parametrize(("endpoint", "body", "pointer", "instead"), [
    (_CHAT, {"messages": _HI, "tool_choice": math.nan}, "/tool_choice",
     "`tool_choice` must be string or object."),
    (None, {"model": "flux/dev", "prompt": "x", "image_size": math.inf}, "/image_size",
     "`image_size` must be object or string."),
    (_RESPONSES, {"input": [math.nan]}, "/input/0", "`/input/0` must be object."),
    (_CHAT, {"messages": _HI, "response_format": {"type": math.nan}},
     "/response_format/type", "`/response_format/type` must be string."),
])
def test_a_non_finite_number_where_a_union_takes_no_number_says_what_it_takes(
        cat: aimlcat.Catalog, endpoint: str | None, body: dict[str, Any], pointer: str,
        instead: str) -> None:
    """A parameter or item that is a union (a string or an object) has no one `type`:
    the hint named none and said "Send a finite number.", which it takes no more than
    NaN. It says the types its shapes take."""
    r = cat.validate({"model": "gpt-4o", **body}, endpoint)
    (f,) = r.findings
    assert (f.code, f.pointer) == ("AML401", pointer)
    assert f.hint is not None and f.hint.endswith(instead), f.hint

@pytest.mark.parametrize(("body", "pointer"), [
    ({"model": "gpt-4o", "messages": [["hi"]]}, "/messages/0"),
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": [["hi"]]}]},
     "/messages/0/content/0"),
])
def test_a_value_that_fails_every_branch_alike_is_reported_once(
        cat: aimlcat.Catalog, body: dict[str, Any], pointer: str) -> None:
    """A message that is no object fails the `then` of every role the same way; the
    report says so once, not once per role."""
    r = cat.validate(body)
    assert codes(r) == [("AML401", pointer)]


def test_a_schema_the_caller_changes_leaves_validation_alone() -> None:
    """README: `cat.schema("flux/dev")` gives the compiled schema. A caller who trims it
    for their own use (another engine, a tool definition) edits their copy, not the one
    the shared catalog builds validators from."""
    cat = load_catalog()
    mine = cat.schema("flux/dev")
    mine["properties"].clear()
    mine["additionalProperties"] = True
    mine.pop("required", None)
    assert cat.schema("flux/dev")["properties"]
    r = aimlcat.validate({"model": "flux/dev", "prompt": "x", "cfg_scale": 3,
                          "guidance_scale": "high"})
    assert codes(r) == [("AML301", "/cfg_scale"), ("AML401", "/guidance_scale")]


@pytest.mark.parametrize("text", [
    '{"format": 2}', "[1, 2]", '"index"', '{"format": 2, "catalog_version": "x", "models": []}',
])
def test_an_index_that_is_not_aimlcat_s_is_one_catalog_error(tmp_path: Path, text: str) -> None:
    """load_catalog(path) (or AIMLCAT_SCHEMAS) pointing at some other index.json: one
    CatalogError naming the file, not a KeyError or AttributeError from inside."""
    (tmp_path / "index.json").write_text(text, encoding="utf-8")
    with pytest.raises(aimlcat.CatalogError, match="not a compiled aimlcat catalog") as caught:
        load_catalog(tmp_path)
    assert str(tmp_path / "index.json") in str(caught.value)


def test_a_status_typo_is_a_usage_error_not_an_empty_list() -> None:
    """As for a kind: `status="deprecate"` matching nothing must not look like "no
    deprecated models"; a real status with no model (none is deprecated today) is []."""
    cat = load_catalog()
    with pytest.raises(aimlcat.UsageError, match="unknown status 'deprecate'; did you mean "
                                                 "'deprecated'"):
        cat.models(status="deprecate")
    assert all(m.status == "deprecated" for m in cat.models(status="deprecated"))
    assert cat.models(status="removed")


def test_findings_with_a_fix_are_hashable_like_the_rest(cat: aimlcat.Catalog) -> None:
    """Finding is a frozen dataclass, and a set of findings is how one merges the reports of
    many requests; one with a fix (a dict) raised "unhashable type: 'dict'"."""
    r = cat.validate({**CHAT, "max_tokens": 5, "temperatur": 1})
    assert [f.fix is not None for f in r.findings] == [True, False]
    again = cat.validate({**CHAT, "max_tokens": 5, "temperatur": 1})
    assert len({*r.findings, *again.findings}) == 2
    import dataclasses

    assert dataclasses.replace(r.findings[0], fix=None) != r.findings[0]  # still compared


def test_a_value_of_the_wrong_type_outside_an_enum_is_one_finding(cat: aimlcat.Catalog) -> None:
    """`type` and `enum` both fail on such a value: the enum's finding says both (its
    choices), with the type finding's hint."""
    r = cat.validate({**KLING, "duration": "5"})
    assert [(f.code, f.pointer) for f in r.findings] == [("AML403", "/duration")]
    assert r.findings[0].hint == "Send the number without quotes: 5."
    r = cat.validate({"model": "gpt-4o", "messages": _HI, "response_format": {"type": 0}})
    assert [(f.code, f.pointer) for f in r.findings] == [("AML403", "/response_format/type")]
    assert '"json_schema"' in r.findings[0].message


def test_union_shapes_that_fit_alike_are_named_in_the_hint(cat: aimlcat.Catalog) -> None:
    """A tool without its `type` whose members fit a text-editor tool and a custom tool
    alike: neither is a guess to report; the union's error says what each would need."""
    tool = {"name": "str_replace_based_edit_tool", "input_examples": [{}],
            "allowed_callers": ["code_execution_20260120"]}
    r = cat.validate({"model": "anthropic/claude-sonnet-5", "max_tokens": 10,
                      "messages": [{"role": "user", "content": "hi"}], "tools": [tool]},
                     "/v1/messages")
    (f,) = r.findings
    assert (f.code, f.pointer) == ("AML408", "/tools/0")
    assert "`input_schema` is required" in (f.hint or "")
    assert "`type` is required" in (f.hint or "")
    # with a member only the editor declares, the editor is meant
    r = cat.validate({"model": "anthropic/claude-sonnet-5", "max_tokens": 10,
                      "messages": [{"role": "user", "content": "hi"}],
                      "tools": [{**tool, "max_characters": 100}]}, "/v1/messages")
    assert [(f.code, f.pointer) for f in r.findings] == [("AML404", "/tools/0/type")]
