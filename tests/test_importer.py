"""`aimlcat import-openapi` (aimlcat/_importer.py): OpenAPI 3.0 model documents -> catalog YAML.

Two layers:

* **Fixtures** (always run): small hand-written documents under
  ``tests/fixtures/openapi/Acme`` imported against the tiny catalog in
  ``tests/fixtures/openapi/catalog`` (not ``catalog/``, so these tests pin
  exactly which vocabulary, shapes and families there are to reuse). Each
  construct is asserted on the YAML produced; the output must load and
  compile, and accept and reject the same bodies as the documents.
* **Reference round trip** (skipped without ``../shared/reference``): a
  dozen real gateway documents of different families are imported against
  ``catalog/``; the result is compiled together with the catalog's
  endpoints, vocabulary, shapes and families, and each model's compiled
  schema must agree with its document on generated bodies (valid ones and
  one-defect mutations of them).
"""

from __future__ import annotations

import copy
import io
import json
import math
import random
import re
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import aimlcat
from aimlcat._compiler import compile_catalog, write_schemas
from aimlcat._importer import ImportFailed, cli_main, import_openapi, render_yaml
from aimlcat._loader import load_catalog_source

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "openapi"
TEST_CATALOG = FIXTURES / "catalog"
ACME = FIXTURES / "Acme"
ACME_DOCS = [ACME / "chat.json", ACME / "video.json", ACME / "upload.json"]
OPENAPI = REPO.parent / "shared" / "reference" / "aimlapi-docs" / "openapi"
META = json.loads((REPO / "aimlcat" / "catalog_file.schema.json").read_text(encoding="utf-8"))


def run(*argv: str | Path) -> tuple[int, str]:
    """Run the command in-process: (exit code, everything it printed)."""
    out = io.StringIO()
    code = cli_main([str(a) for a in argv], out)
    return code, out.getvalue()


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def load(root: Path, rel: str) -> Any:
    return yaml.safe_load((root / rel).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("acme") / "imported"
    code, text = run(*ACME_DOCS, "--catalog", TEST_CATALOG, "--out", out)
    assert code == 0, text
    return out


def entry(root: Path, rel: str, model: str, index: int = 0) -> dict[str, Any]:
    """One endpoint entry of one imported model."""
    ep: dict[str, Any] = load(root, rel)["models"][model]["endpoints"][index]
    return ep


# =============================================================================
# Fixtures: each construct, asserted on the YAML
# =============================================================================


def test_output_files(acme: Path) -> None:
    assert sorted(read_tree(acme)) == ["acme/chat.yaml", "acme/stt.yaml", "acme/video.yaml",
                                       "endpoints.yaml", "shapes.yaml"]
    chat = load(acme, "acme/chat.yaml")
    assert (chat["developer"], chat["kind"]) == ("Acme", "chat")  # from the folder, the path


def test_family_with_drop_and_overrides(acme: Path) -> None:
    ep = entry(acme, "acme/chat.yaml", "chat-1")
    assert ep["family"] == "test-chat"
    assert ep["drop"] == ["stream"]  # the family has it, the document does not
    params = ep["parameters"]
    # Only what differs from the family: the narrower temperature range ...
    assert params["temperature"] == {"maximum": 1}
    # ... and nothing for what equals it: model, messages (a `test_messages`
    # shape spelled out inline), max_completion_tokens, stop.
    assert not {"model", "messages", "max_completion_tokens", "stop"} & set(params)
    # Parameter order is the document's.
    assert list(params) == ["temperature", "max_tokens", "seed", "stream_options",
                            "response_format", "tool_choice", "echo", "user_tag", "provider"]


def test_vocabulary_entry_and_definition_reuse(acme: Path) -> None:
    params = entry(acme, "acme/chat.yaml", "chat-1")["parameters"]
    assert params["seed"] == {}  # equals the vocabulary entry (its description is ignored)
    assert params["stream_options"] == {"ref": "test_stream_options"}  # equals a definition
    assert params["user_tag"] == {"type": "string", "nullable": True}  # new: written whole


def test_unions(acme: Path) -> None:
    params = entry(acme, "acme/chat.yaml", "chat-1")["parameters"]
    # oneOf of objects told apart by a `type` enum -> a tagged union.
    rf = params["response_format"]
    assert rf["discriminator"] == "type"
    assert [v["properties"]["type"] for v in rf["variants"]] == [
        {"type": "string", "enum": ["text"], "required": True},
        {"type": "string", "enum": ["json_schema"], "required": True}]
    assert rf["variants"][0]["additionalProperties"] is False
    # anyOf of a string enum and an object: no tag, different keywords -> any_of.
    assert params["tool_choice"] == {"any_of": [
        {"type": "string", "enum": ["none", "auto"]},
        {"type": "object", "properties": {"name": {"type": "string", "required": True}}}]}
    # anyOf [string, array] -> a type list with items.
    tags = entry(acme, "acme/video.yaml", "acme-video-1")["parameters"]["tags"]
    assert tags == {"type": ["string", "array"], "items": {"type": "string"}}


def test_deprecated_parameters(acme: Path) -> None:
    params = entry(acme, "acme/chat.yaml", "chat-1")["parameters"]
    # An obvious twin on the same endpoint: rename.
    dep = params["max_tokens"]["deprecated"]
    assert (dep["action"], dep["to"]) == ("rename", "max_completion_tokens")
    # No twin: remove, with a generic hint saying the docs mark it deprecated.
    echo = params["echo"]
    assert echo["type"] == "boolean"
    assert echo["deprecated"]["action"] == "remove"
    assert "deprecated" in echo["deprecated"]["hint"] and "remove" in echo["deprecated"]["hint"]


def test_model_ids_and_aliases(acme: Path) -> None:
    models = load(acme, "acme/chat.yaml")["models"]
    # `acme/chat-1` is `chat-1` with a vendor prefix: an alias. The dated id is a
    # model of its own, written with `extends` because its parameters are the same.
    assert list(models) == ["chat-1", "chat-1-0901"]
    assert models["chat-1"]["aliases"] == ["acme/chat-1"]
    assert models["chat-1-0901"] == {"extends": "chat-1", "aliases": []}


def test_two_paths_of_one_endpoint_are_merged(acme: Path) -> None:
    # /v1/chat/completions and /chat/completions: one entry, the union
    # (`provider` is only in the first), a parameter required by neither stays optional.
    eps = load(acme, "acme/chat.yaml")["models"]["chat-1"]["endpoints"]
    assert len(eps) == 1
    assert eps[0]["parameters"]["provider"] == {"type": "string"}


def test_new_endpoints(acme: Path) -> None:
    eps = load(acme, "endpoints.yaml")["endpoints"]
    assert eps["acme-video"]["path"] == "/v1/acme/video"
    assert eps["acme-video"]["aliases"] == ["/acme/video"]  # the same endpoint, /v1 base
    assert eps["acme-video"]["detect"] == ["prompt", "reference_id"]
    assert eps["acme-transcribe"]["content_type"] == "multipart"
    assert entry(acme, "acme/video.yaml", "acme-video-1")["endpoint"] == "acme-video"
    stt = load(acme, "acme/stt.yaml")["models"]["acme-listen-1"]["endpoints"][0]
    assert stt["parameters"]["file"] == {"type": "string", "format": "binary", "required": True}


def test_refs_and_openapi_30_keywords(acme: Path) -> None:
    params = entry(acme, "acme/video.yaml", "acme-video-1")["parameters"]
    assert params["model"] == {"required": True}
    assert params["prompt"] == {"maxLength": 500, "required": True}  # over the vocabulary
    assert params["camera"] == {"type": "object", "properties": {   # a $ref, inlined
        "pan": {"type": "number", "minimum": -1, "maximum": 1}}}
    # A schema that contains itself cannot be inlined: it becomes a definition.
    assert params["storyboard"] == {"ref": "Scene"}
    assert load(acme, "shapes.yaml")["definitions"]["Scene"] == {
        "type": "object", "properties": {"caption": {"type": "string", "required": True},
                                         "next": {"type": "array", "items": {"ref": "Scene"}}}}
    # Boolean exclusiveMinimum (3.0) -> the numeric bound (2020-12).
    assert params["strength"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
    assert params["reference_id"] == {"type": "string", "required": True}  # `required: true`
    assert params["aspect"] == {"type": "string"}  # `example` dropped


def test_keep_descriptions(tmp_path: Path) -> None:
    code, text = run(*ACME_DOCS, "--catalog", TEST_CATALOG, "--out", tmp_path,
                     "--keep-descriptions")
    assert code == 0, text
    params = entry(tmp_path, "acme/chat.yaml", "chat-1")["parameters"]
    assert params["user_tag"]["description"].startswith("Fixture text: a label")
    assert params["user_tag"]["examples"] == ["team-a"]
    # The document's description differs from the vocabulary's: written over it.
    assert params["seed"] == {"description": "Fixture text: a number for repeatable runs."}
    video = entry(tmp_path, "acme/video.yaml", "acme-video-1")["parameters"]
    assert video["aspect"] == {"type": "string", "examples": ["16:9"]}


def test_models_json_rows(tmp_path: Path) -> None:
    code, text = run(*ACME_DOCS, "--catalog", TEST_CATALOG, "--out", tmp_path,
                     "--models-json", FIXTURES / "models.json")
    assert code == 0, text
    # Two ids on one row are one model: the first is the id, the other an alias.
    listen = load(tmp_path, "acme-audio/stt.yaml")
    assert listen["developer"] == "Acme Audio"
    assert list(listen["models"]) == ["acme-listen-1"]
    assert listen["models"]["acme-listen-1"]["aliases"] == ["acme-listen-1-fast"]
    chat = load(tmp_path, "acme/chat.yaml")["models"]
    assert chat["chat-1"]["context_window"] == 32000
    assert chat["chat-1-0901"] == {"extends": "chat-1", "aliases": [], "context_window": None}


def test_kind_from_option_when_the_path_says_nothing(tmp_path: Path) -> None:
    doc = _doc({"/v1/frobnicate": _post({"type": "object", "properties": {
        "model": {"enum": ["frob-1"]}, "level": {"type": "integer"}}})})
    path = _write(tmp_path / "Acme" / "frob.json", doc)
    code, text = run(path, "--catalog", TEST_CATALOG, "--out", tmp_path / "a")
    assert code == 2 and "pass --kind" in text
    code, text = run(path, "--catalog", TEST_CATALOG, "--out", tmp_path / "b", "--kind", "search",
                     "--developer", "Frob Labs")
    assert code == 0, text
    assert load(tmp_path / "b", "frob-labs/search.yaml")["models"]["frob-1"]


def test_inherited_rename_to_a_missing_parameter_is_not_kept(tmp_path: Path) -> None:
    """A family's `max_tokens` -> `max_completion_tokens` rename cannot stay on a model
    that has no `max_completion_tokens` (the loader would reject the rename)."""
    cat = tmp_path / "catalog"
    shutil.copytree(TEST_CATALOG, cat)
    family = yaml.safe_load((cat / "families.yaml").read_text(encoding="utf-8"))
    family["families"]["test-chat"]["parameters"]["max_tokens"] = {"deprecated": {
        "action": "rename", "to": "max_completion_tokens", "hint": "Send the other key instead."}}
    (cat / "families.yaml").write_text(yaml.safe_dump(family), encoding="utf-8")
    chat = _read(ACME / "chat.json")["components"]["schemas"]["ChatBody"]
    keep = ("model", "messages", "temperature", "stop")
    body = {"type": "object", "required": ["model", "messages"],
            "properties": {**{k: v for k, v in chat["properties"].items() if k in keep},
                           "model": {"enum": ["old-chat-1"]},
                           "max_tokens": {"type": "integer", "minimum": 1}}}
    doc = _write(tmp_path / "Acme" / "old.json", _doc({"/v1/chat/completions": _post(body)}))
    code, text = run(doc, "--catalog", cat, "--out", tmp_path / "out")
    assert code == 0, text
    ep = entry(tmp_path / "out", "acme/chat.yaml", "old-chat-1")
    assert ep["family"] == "test-chat" and ep["drop"] == ["max_completion_tokens", "stream"]
    assert ep["parameters"] == {"temperature": {"maximum": 1}, "max_tokens": {"deprecated": None}}
    shutil.copytree(tmp_path / "out", cat / "models")
    compile_catalog(load_catalog_source(cat))


def test_default_of_another_type_is_kept_with_a_note(tmp_path: Path) -> None:
    doc = _write(tmp_path / "Acme" / "v.json", _doc({"/v1/acme/video": _post({
        "type": "object", "properties": {"model": {"enum": ["v-1"]},
                                         "duration": {"type": "integer", "default": "5"}}})}))
    code, text = run(doc, "--catalog", TEST_CATALOG, "--out", tmp_path / "out")
    assert code == 0, text
    assert "properties/duration/default: the default \"5\" is not of type integer" in text
    params = entry(tmp_path / "out", "acme/video.yaml", "v-1")["parameters"]
    assert params["duration"] == {"default": "5"}  # over the vocabulary's integer


def test_output_is_valid_loads_and_compiles(acme: Path, tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(META)
    for rel in read_tree(acme):
        errors = list(validator.iter_errors(load(acme, rel)))
        assert not errors, (rel, [e.message for e in errors])
    cat_dir = _catalog_with(tmp_path, TEST_CATALOG, acme, keep_models=True)
    catalog = load_catalog_source(cat_dir)
    assert {"chat-1", "chat-1-0901", "acme-video-1", "acme-listen-1"} <= set(catalog.models)
    assert compile_catalog(catalog)


def test_fixture_round_trip(acme: Path, tmp_path: Path) -> None:
    """The compiled import accepts and rejects what the fixture documents do."""
    runtime = _compile_to_runtime(_catalog_with(tmp_path, TEST_CATALOG, acme, keep_models=True),
                                  tmp_path / "schemas")
    for doc in ACME_DOCS:
        _assert_agreement(runtime, doc, skip=set())


def test_deterministic(tmp_path: Path) -> None:
    outs = [tmp_path / "one", tmp_path / "two"]
    for out in outs:
        code, text = run(*ACME_DOCS, "--catalog", TEST_CATALOG, "--out", out,
                         "--keep-descriptions")
        assert code == 0, text
    first = read_tree(outs[0])
    assert first == read_tree(outs[1])
    # Again into the same directory: the same bytes.
    run(*ACME_DOCS, "--catalog", TEST_CATALOG, "--out", outs[0], "--keep-descriptions")
    assert read_tree(outs[0]) == first


# =============================================================================
# Broken documents: one clear error each, exit 2, nothing written
# =============================================================================


def _doc(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": paths, **extra}


def _post(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {"post": {"requestBody": {"content": {media: {"schema": schema}}}}}


def _write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def test_several_documents_are_united_keyword_by_keyword(tmp_path: Path) -> None:
    # Two pages for one model: the first wins a constraint both give; one only the
    # second gives is kept; enums and nested properties are united; a property is
    # required only if both require it (the conformance test's rule, too).
    def body(**props: Any) -> dict[str, Any]:
        return {"type": "object", "required": ["model", "prompt"],
                "properties": {"model": {"enum": ["gen-1"]}, "prompt": {"type": "string"},
                               **props}}

    first = _write(tmp_path / "Acme" / "gen-1.json", _doc({"/v1/images/generations": _post(body(
        n={"type": "integer", "maximum": 4},
        style={"type": "string", "enum": ["a", "b"]},
        size={"type": "object", "required": ["w"], "properties": {"w": {"type": "integer"}}},
        input={"type": "array", "items": {"type": "string"}}))}))
    second = _write(tmp_path / "Acme" / "gen-1-old.json", _doc({"/v1/images/generations": _post(
        body(n={"type": "integer", "minimum": 1, "maximum": 8, "default": 1},
             style={"type": "string", "enum": ["b", "c"]},
             size={"type": "object", "required": ["w", "h"],
                   "properties": {"w": {"type": "integer", "minimum": 64},
                                  "h": {"type": "integer"}}},
             sync={"type": "boolean"},
             input={"anyOf": [{"type": "string"}, {"type": "object"}]}))}))
    out = tmp_path / "out"
    code, text = run(first, second, "--catalog", TEST_CATALOG, "--out", out)
    assert code == 0, text
    params = entry(out, "acme/image.yaml", "gen-1")["parameters"]
    assert params["n"] == {"type": "integer", "minimum": 1, "maximum": 4, "default": 1}
    assert params["style"]["enum"] == ["a", "b", "c"]
    assert params["size"]["properties"] == {
        "w": {"type": "integer", "minimum": 64, "required": True}, "h": {"type": "integer"}}
    assert params["sync"] == {"type": "boolean"}
    # A union only the second page gives is not added beside the first's type: the
    # value would have to satisfy both.
    assert params["input"] == {"type": "array", "items": {"type": "string"}}


_GOOD_BODY = {"type": "object", "properties": {"model": {"enum": ["m-1"]}}}
BROKEN: dict[str, tuple[Any, str, str]] = {
    # name: (document, pointer in the message or "", words of the message)
    "not-json": ("{'paths': nope", "", "not JSON"),
    "empty": ("  \n", "", "empty"),
    "not-an-object": ("[1, 2]", "#", "not a JSON object"),
    "no-paths": (_doc({}), "#/paths", "no `paths`"),
    "no-post-body": (_doc({"/v1/chat/completions": {"get": {}}}), "#/paths",
                     "no POST operation has a request body"),
    "en-dash-type": (
        _doc({"/v1/chat/completions": _post({"type": "object", "properties": {
            "model": {"enum": ["m-1"]}, "cost": {"type": "\u2013"}}})}),
        ("#/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema"
         "/properties/cost/type"), "is not a type name"),
    "dangling-ref": (
        _doc({"/v1/chat/completions": _post({"$ref": "#/components/schemas/Missing"})}),
        "#/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema/$ref",
        "points at nothing"),
    "no-model-enum": (
        _doc({"/v1/chat/completions": _post({"type": "object", "properties": {
            "model": {"type": "string"}}})}),
        "/schema/properties/model", "lists no model ids"),
    "body-not-object": (_doc({"/v1/chat/completions": _post({"type": "string"})}),
                        "/schema", "not an object with properties"),
    "xml-body": (_doc({"/v1/chat/completions": _post(_GOOD_BODY, "application/xml")}),
                 "/content", "no application/json or multipart/form-data body"),
    "unsupported-keyword": (
        _doc({"/v1/chat/completions": _post({"type": "object", "properties": {
            "model": {"enum": ["m-1"]}, "x": {"type": "object", "minProperties": 1}}})}),
        "/properties/x/minProperties", "cannot be expressed in the catalog"),
    "bad-model-id": (_doc({"/v1/chat/completions": _post({"type": "object", "properties": {
        "model": {"enum": ["a model"]}}})}), "/properties/model", "cannot be a catalog id"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_document(tmp_path: Path, name: str) -> None:
    doc, pointer, words = BROKEN[name]
    bad = _write(tmp_path / "docs" / f"{name}.json", doc)
    out = tmp_path / "out"
    code, text = run(ACME / "chat.json", bad, "--catalog", TEST_CATALOG, "--out", out)
    assert code == 2, text
    (line,) = [x for x in text.splitlines() if x.startswith(str(bad))]
    assert words in line and pointer in line, line
    assert "nothing written" in text
    assert not out.exists()  # all or nothing: the good document was not written either


def test_every_broken_document_is_reported(tmp_path: Path) -> None:
    bad = [_write(tmp_path / f"{n}.json", BROKEN[n][0]) for n in ("empty", "no-paths", "en-dash-type")]
    code, text = run(*bad, ACME / "chat.json", "--catalog", TEST_CATALOG, "--out", tmp_path / "o")
    assert code == 2
    assert [line.split(":")[0] for line in text.splitlines()[:3]] == [str(p) for p in bad]


def test_a_missing_or_undecodable_document_is_one_plain_line(tmp_path: Path) -> None:
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"x": "caf\xe9"}')
    code, text = run(tmp_path / "nope.json", latin, "--catalog", TEST_CATALOG,
                     "--out", tmp_path / "o")
    assert code == 2
    lines = text.splitlines()
    assert lines[0] == f"{(tmp_path / 'nope.json').as_posix()}: no such file"  # no Errno
    assert lines[1].startswith(f"{latin.as_posix()}: cannot read: not UTF-8 (")


def test_python_api_raises_with_problems(tmp_path: Path) -> None:
    bad = _write(tmp_path / "x.json", "[]")
    with pytest.raises(ImportFailed) as info:
        import_openapi([bad], catalog=load_catalog_source(TEST_CATALOG))
    (problem,) = info.value.problems
    assert (problem.file, problem.pointer) == (bad.as_posix(), "#")


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--help")[0] == 0
    assert run()[0] == 2  # no documents
    code, text = run(ACME / "chat.json", "--catalog", TEST_CATALOG, "--models-json",
                     tmp_path / "none.json", "--out", tmp_path / "o")
    assert code == 2 and "no such file" in text
    # any other JSON file was taken as an empty table, each id then a model of its own
    code, text = run(ACME / "chat.json", "--catalog", TEST_CATALOG, "--models-json",
                     ACME / "video.json", "--out", tmp_path / "o")
    assert (code, text) == (2, f"aimlcat import-openapi: {ACME / 'video.json'}: not the docs' "
                               "model table (an object with a `models` list); nothing written\n")
    assert not (tmp_path / "o").exists()
    code, text = run(ACME / "chat.json", "--catalog", tmp_path / "no-catalog")
    assert code == 2 and "nothing written" in text
    capsys.readouterr()


# =============================================================================
# YAML output
# =============================================================================


def test_render_yaml_reads_back_exactly() -> None:
    tricky = ["16:9", "2025-08-19", "yes", "No", "null", "~", "1.0", "0x1F", "a: b", "a #b",
              "#x", "- x", "@x", "`x`", "x,y", "[x]", "{x}", "", " lead", "trail ", "key:",
              "multi\nline\n\ntext", "é — “quoted”", "tab\there", "\u2028", "plain words"]
    data = {"strings": tricky, "numbers": [0, -1, 2.5, 1e-05, 1e20, True, False, None],
            "nested": {"deep": {"list": [{"a": 1, "b": [1, 2]}, {"c": {"d": "e"}}], "empty": {},
                                "none": []}},
            "long": " ".join(["word"] * 60)}
    text = render_yaml(data)
    assert yaml.safe_load(text) == data
    assert "long: >-" in text  # long sentences are folded, not one 300-character line


# =============================================================================
# Reference round trip (real gateway documents)
# =============================================================================

# One or more documents per family; `flux/dev` and the Kling model each come
# from two documents, gpt-4o from a chat and a Responses document.
REFERENCE_DOCS = (
    "text-models-llm/OpenAI/gpt-4o.json",                       # chat (two paths)
    "text-models-llm/OpenAI/o3-mini.json",                      # chat, reasoning
    "video-models/Kling-AI/v1.6-pro-image-to-video.json",       # video
    "video-models/Kling-AI/kling-video-image-to-video.json",    # legacy video, deprecated params
    "image-models/flux/flux-dev.json",                          # image
    "image-models/Black-Forest-Labs/flux-dev.json",             # image, second flux/dev document
    "image-models/OpenAI/gpt-image-1-EDIT.json",                # image edits (two paths)
    "speech-models/OpenAI/tts-1.json",                          # text-to-speech
    "speech-models/AssemblyAI/slam-1.json",                     # speech-to-text
    "embedding-models/OpenAI/text-embedding-3-small.json",      # embeddings
    "music-models/Google/Lyria-2.json",                         # music
    "vision-models-ocr/Mistral-AI/mistral-ocr-latest.json",     # OCR
    "text-models-llm/OpenAI/gpt-4o-RESPONSES.json",             # Responses API
    "text-models-llm/Anthropic/claude-3-haiku-MESSAGES.json",   # Anthropic messages
)
# Bodies not compared, and why: with several documents the first one's
# constraints win (the catalog's rule), so a later one may accept more.
REFERENCE_SKIP = {
    ("image-models/Black-Forest-Labs/flux-dev.json", "/v1/images/generations"):
        "flux/dev's ranges come from image-models/flux/flux-dev.json (listed first); this "
        "document allows any positive width and height",
}

needs_reference = pytest.mark.skipif(not OPENAPI.is_dir(),
                                     reason=f"reference docs not found at {OPENAPI}")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """(runtime catalog of the import compiled with catalog/'s shared parts, import dir)."""
    root = tmp_path_factory.mktemp("reference")
    out = root / "imported"
    code, text = run(*(OPENAPI / d for d in REFERENCE_DOCS), "--catalog", REPO / "catalog",
                     "--out", out)
    assert code == 0, text
    cat_dir = _catalog_with(root, REPO / "catalog", out, keep_models=False)
    return _compile_to_runtime(cat_dir, root / "schemas"), out


@needs_reference
def test_reference_import_round_trip(reference: tuple[Any, Path]) -> None:
    runtime, _ = reference
    for doc in REFERENCE_DOCS:
        _assert_agreement(runtime, OPENAPI / doc,
                          skip={p for (d, p) in REFERENCE_SKIP if d == doc})


@needs_reference
@pytest.mark.parametrize(("model", "path"), [
    ("gpt-4o", "/v1/chat/completions"),
    ("o3-mini", "/v1/chat/completions"),
    ("kling-video/v1.6/pro/image-to-video", "/v2/video/generations"),
    ("flux/dev", "/v1/images/generations"),
])
def test_reference_parameter_sets_match_catalog(reference: tuple[Any, Path], model: str,
                                                path: str) -> None:
    runtime, _ = reference
    imported = set(runtime.schema(model, path)["properties"])
    current = set(aimlcat.load_catalog().schema(model, path)["properties"])
    assert imported == current


@needs_reference
def test_reference_chat_models_use_families(reference: tuple[Any, Path]) -> None:
    _, out = reference
    models = load(out, "openai/chat.yaml")["models"]
    for mid in ("gpt-4o", "o3-mini"):
        chat = [e for e in models[mid]["endpoints"] if "family" in e]
        assert chat, models[mid]
    assert models["gpt-4o"]["aliases"] == ["openai/gpt-4o"]
    assert models["gpt-4o-2024-08-06"]["extends"] == "gpt-4o"


# =============================================================================
# Helpers: a catalog with the import, compiled; documents as JSON Schema 2020-12
# =============================================================================


def _catalog_with(root: Path, base: Path, imported: Path, *, keep_models: bool) -> Path:
    """``base`` plus the imported files, in ``root/catalog``.

    Without ``keep_models`` the base's model entries are left out (the import
    brings its own); shared sections in model files (a `definitions` entry next
    to a model) are kept, since the import may refer to them."""
    cat = root / "catalog"
    shutil.copytree(base, cat, ignore=None if keep_models else shutil.ignore_patterns("models"))
    if not keep_models and (base / "models").is_dir():
        for src in sorted((base / "models").rglob("*.yaml")):
            data = yaml.safe_load(src.read_text(encoding="utf-8")) or {}
            shared = {k: v for k, v in data.items() if k not in ("developer", "kind", "models")}
            if shared:
                dest = cat / "shared-from-models" / src.relative_to(base / "models")
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(yaml.safe_dump(shared, sort_keys=False), encoding="utf-8")
    shutil.copytree(imported, cat / "models" / "imported")
    return cat


def _compile_to_runtime(cat_dir: Path, schemas: Path) -> Any:
    write_schemas(compile_catalog(load_catalog_source(cat_dir)), schemas)
    return aimlcat.load_catalog(schemas)


_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object"})


class OasTo2020:
    """An OpenAPI 3.0 schema as JSON Schema 2020-12, written independently of the
    importer: components become ``$defs`` (so recursion is fine), ``oneOf`` is
    read as ``anyOf`` (the gateway's branches are alternatives, not exclusive
    ones, as the importer and the conformance tests read them)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.defs: dict[str, Any] = {}

    def schema(self, node: dict[str, Any]) -> dict[str, Any]:
        root = self.node(node)
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", **root,
                "$defs": self.defs}

    def node(self, n: dict[str, Any], branch: bool = False) -> dict[str, Any]:
        if "$ref" in n:
            name = n["$ref"].rsplit("/", 1)[-1]
            if name not in self.defs:
                self.defs[name] = {}
                target: Any = self.doc
                for part in n["$ref"][2:].split("/"):
                    target = target[part]
                self.defs[name] = self.node(target)
            return {"$ref": f"#/$defs/{name}"}
        out: dict[str, Any] = {}
        for k, v in n.items():
            if k == "properties":
                out[k] = {p: self.node(x) for p, x in v.items()}
                lifted = [p for p, x in v.items() if x.get("required") is True]
                if lifted:
                    out["required"] = list(dict.fromkeys([*n.get("required", []), *lifted]))
            elif k == "items" or (k == "additionalProperties" and isinstance(v, dict)):
                out[k] = self.node(v)
            elif k in ("anyOf", "oneOf"):
                out["anyOf"] = [self.node(b, branch=True) for b in v]
            elif k == "allOf":
                out[k] = [self.node(b) for b in v]
            elif (k == "type" and v not in _TYPES) or (k == "required" and not isinstance(v, list)):
                pass  # a docs typo (no usable type); `required: true` is lifted above
            elif k not in ("nullable", "exclusiveMinimum", "exclusiveMaximum", "example",
                           "description", "title", "discriminator", "deprecated"):
                out.setdefault(k, copy.deepcopy(v))
        for excl, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if n.get(excl) is True and bound in out:
                out[excl] = out.pop(bound)
        if n.get("nullable") is True:
            if "type" in out:
                out["type"] = [out["type"], "null"]
                if "enum" in out:
                    out["enum"] = [*out["enum"], None]
            elif branch and set(n) <= {"nullable", "description"}:
                return {"type": "null"}  # `anyOf: [..., {nullable: true}]`: "or null"
        return out


def _bodies_of(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        body = (item.get("post") or {}).get("requestBody")
        if body:
            content = body["content"]
            media = "application/json" if "application/json" in content else next(iter(content))
            yield path, content[media]["schema"]


@cache
def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _assert_agreement(runtime: Any, doc_path: Path, skip: set[str]) -> None:
    """For each body of the document and each model it lists: generated bodies
    and one-defect mutations of them get the same verdict from the document's
    schema and from the compiled import."""
    doc = _read(doc_path)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    for path, raw in _bodies_of(doc):
        if path in skip:
            continue
        schema = OasTo2020(doc).schema(raw)
        source = jsonschema.Draft202012Validator(schema, format_checker=checker)
        endpoint = runtime.canonical_endpoint(path)
        ids = BodyGenerator(schema, 0).resolve(schema)["properties"]["model"]["enum"]
        for mid in dict.fromkeys(runtime.resolve(i) for i in ids):
            compiled = runtime.validator(mid, endpoint)
            gen = BodyGenerator(schema, seed=len(mid) * 7919 + len(path))
            valid = 0
            problems: list[str] = []
            for mode in ("full", "minimal", "random", "random", "random", "random"):
                body, slots = gen.body(mode, mid)
                if source.is_valid(body):
                    valid += 1
                for label, candidate in [("body", body), *gen.mutations(body, slots)]:
                    want = source.is_valid(candidate)
                    if compiled.is_valid(candidate) != want:
                        problems.append(f"{label}: document says {want}: "
                                        f"{json.dumps(candidate)[:300]}")
            assert valid >= 3, f"{doc_path.name} {path} {mid}: the generator made few valid bodies"
            assert not problems, f"{doc_path.name} {path} {mid}:\n" + "\n".join(problems[:5])


_WORDS = ("a", "quiet", "harbour", "at", "dawn", "two", "red", "boats")
# Strings tried against a `pattern` (dates and country codes in the docs).
_PATTERN_SAMPLES = ("12/31/2024", "2024-12-31", "US", "en", "abc", "a1", "0", "example")
_FORMATS = {"uri": "https://example.com/assets/cat.png", "date-time": "2025-01-02T03:04:05Z",
            "date": "2025-01-02", "email": "someone@example.com",
            "uuid": "123e4567-e89b-12d3-a456-426614174000"}

Slot = tuple[tuple[str | int, ...], dict[str, Any]]


class BodyGenerator:
    """Seeded bodies from a 2020-12 schema (``full``, ``minimal`` or ``random``
    optional properties), with the schema of every value it wrote (its slots)."""

    def __init__(self, root: dict[str, Any], seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.mode = "random"
        self.slots: list[Slot] = []

    def resolve(self, s: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in s:
            s = self.root["$defs"][s["$ref"].rsplit("/", 1)[-1]]
        if "allOf" in s:  # objects in parts (the fixture's body): one object
            merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
            for part in [self.resolve(p) for p in s["allOf"]]:
                merged["properties"].update(part.get("properties", {}))
                merged["required"] += part.get("required", [])
            return merged
        return s

    def body(self, mode: str, model: str) -> tuple[dict[str, Any], list[Slot]]:
        self.mode, self.slots = mode, []
        value = self.value(self.root, (), 0)
        value["model"] = model
        return value, self.slots

    def value(self, s: dict[str, Any], ptr: tuple[str | int, ...], depth: int) -> Any:
        s = self.resolve(s)
        self.slots.append((ptr, s))
        rng = self.rng
        if "enum" in s:
            return copy.deepcopy(rng.choice(s["enum"]))
        if "const" in s:
            return copy.deepcopy(s["const"])
        if "anyOf" in s:
            return self.value(rng.choice(s["anyOf"]), ptr, depth)
        t = s.get("type")
        types = [t] if isinstance(t, str) else list(t or [])
        if not types:
            types = ["object"] if "properties" in s else ["array"] if "items" in s else []
        if not types:
            return "anything"
        real = [x for x in types if x != "null"]
        ty = "null" if not real or (len(real) < len(types) and rng.random() < 0.2) else \
            rng.choice(real)
        if ty == "null":
            return None
        if ty == "boolean":
            return rng.choice([True, False])
        if ty in ("integer", "number"):
            return self.number(s, ty)
        if ty == "string":
            if s.get("format") in _FORMATS:
                return _FORMATS[s["format"]]
            if "pattern" in s:
                fits = [c for c in _PATTERN_SAMPLES if re.search(s["pattern"], c)]
                return fits[0] if fits else "no-sample-fits"
            # Words run together to a multiple of four characters: also well-formed
            # base64, which the catalog may require where the documents do not say.
            text = "".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4)))
            lo, hi = int(s.get("minLength", 0)), int(s.get("maxLength", 10**6))
            n = min(max(lo, len(text)), hi)
            n = n + (-n) % 4 if n + (-n) % 4 <= hi else n - n % 4
            return (text * (n // len(text) + 1))[: max(n, lo)]
        if ty == "array":
            lo = max(int(s.get("minItems", 0)), 1 if depth < 4 else 0)
            hi = int(s.get("maxItems", lo + 1))
            n = min(lo + rng.randint(0, 1), hi)
            return [self.value(s.get("items", {}), (*ptr, i), depth + 1) for i in range(n)]
        out: dict[str, Any] = {}
        required = set(s.get("required", []))
        for name, prop in s.get("properties", {}).items():
            if name not in required:
                want = {"full": depth < 3, "minimal": False}.get(self.mode,
                                                                 rng.random() < 0.5 and depth < 4)
                if not want:
                    continue
            out[name] = self.value(prop, (*ptr, name), depth + 1)
        extra = s.get("additionalProperties")
        if isinstance(extra, dict) and not s.get("properties"):
            out["k1"] = self.value(extra, (*ptr, "k1"), depth + 1)
        return out

    def number(self, s: dict[str, Any], ty: str) -> int | float:
        lo: float = s.get("minimum", s.get("exclusiveMinimum", -50))
        hi: float = s.get("maximum", s.get("exclusiveMaximum", lo + 100))
        if ty == "integer":
            lo_i = math.ceil(lo) + (1 if "exclusiveMinimum" in s else 0)
            hi_i = math.floor(hi) - (1 if "exclusiveMaximum" in s else 0)
            value: int = self.rng.choice([lo_i, hi_i, self.rng.randint(lo_i, max(lo_i, hi_i))])
            step = s.get("multipleOf")
            return value - value % step if isinstance(step, int) and step else value
        inclusive: list[float] = [b for k, b in (("minimum", lo), ("maximum", hi)) if k in s]
        if inclusive and self.rng.random() < 0.3:
            return self.rng.choice(inclusive)
        return round(lo + (hi - lo) * self.rng.uniform(0.05, 0.95), 3)

    def mutations(self, body: dict[str, Any], slots: list[Slot]) -> list[tuple[str, Any]]:
        """Up to six copies of ``body``, each with one defect at a slot."""
        out: list[tuple[str, Any]] = []
        for ptr, s in slots:
            if ptr == ("model",):
                continue
            if not ptr:  # the body itself: drop a required parameter other than model
                keys = sorted(k for k in s.get("required", []) if k in body and k != "model")
                if keys:
                    out.append((f"drop /{keys[0]}", _without(body, (keys[0],))))
                continue
            t = s.get("type")
            types = {t} if isinstance(t, str) else set(t or [])
            if "enum" in s and all(isinstance(v, str) for v in s["enum"]):
                out.append((f"enum {ptr}", _with(body, ptr, "zz-not-a-choice")))
            if types & {"integer", "number"} and ("maximum" in s or "exclusiveMaximum" in s):
                bound: float = s["maximum"] if "maximum" in s else s["exclusiveMaximum"]
                out.append((f"range {ptr}", _with(body, ptr, bound + 1)))
            wrong = next((v for k, v in (("string", "wrong"), ("integer", 12345),
                                         ("object", {"wrong": 1}), ("array", ["wrong"]))
                          if k not in types and not (k == "integer" and "number" in types)), None)
            if types and wrong is not None:
                out.append((f"type {ptr}", _with(body, ptr, wrong)))
            out.append((f"null {ptr}", _with(body, ptr, None)))
            required = [k for k in s.get("required", []) if isinstance(_get(body, ptr), dict)
                        and k in _get(body, ptr)]
            if required:
                out.append((f"drop {ptr}/{required[0]}", _without(body, (*ptr, required[0]))))
        self.rng.shuffle(out)
        return out[:6]


def _get(body: Any, ptr: tuple[str | int, ...]) -> Any:
    for p in ptr:
        body = body[p]
    return body


def _with(body: dict[str, Any], ptr: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    _get(out, ptr[:-1])[ptr[-1]] = value
    return out


def _without(body: dict[str, Any], ptr: tuple[str | int, ...]) -> dict[str, Any]:
    out = copy.deepcopy(body)
    del _get(out, ptr[:-1])[ptr[-1]]
    return out


def test_cli_wiring(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`aimlcat import-openapi` reaches the importer with its own options, --help included."""
    import io

    from aimlcat._cli import run

    assert run(["import-openapi", "--help"], out=io.StringIO()) == 0
    assert "--keep-descriptions" in capsys.readouterr().out
    fixtures = Path(__file__).parent / "fixtures" / "openapi"
    out = io.StringIO()
    code = run(["import-openapi", str(fixtures / "Acme" / "video.json"), "--out", str(tmp_path),
                "--catalog", str(fixtures / "catalog")], out=out)
    assert code == 0, out.getvalue()
    assert list(tmp_path.rglob("*.yaml"))


def test_an_out_that_is_no_directory_is_one_error(tmp_path: Path) -> None:
    """`--out FILE` (or a path below a file) was a NotADirectoryError traceback."""
    (tmp_path / "afile").write_text("")
    code, text = run(*ACME_DOCS, "--catalog", TEST_CATALOG, "--out", tmp_path / "afile")
    assert (code, text) == (2, f"aimlcat import-openapi: --out {tmp_path / 'afile'} is not a "
                               "directory; nothing written\n")
    code, text = run(*ACME_DOCS, "--catalog", TEST_CATALOG, "--out", tmp_path / "afile" / "x")
    assert code == 2
    assert text.startswith(f"aimlcat import-openapi: cannot write {tmp_path / 'afile' / 'x'}")
    assert (tmp_path / "afile").read_text() == ""
