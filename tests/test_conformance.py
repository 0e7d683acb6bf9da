"""Conformance: every catalog model's compiled schema agrees with its gateway documents.

The reference docs (one OpenAPI 3.0 document per docs page) live outside the
repository, in ``../shared/reference``; a user's clone has none, so the whole
module skips when they are absent.

Three checks per (model, endpoint) row of :data:`ROWS`:

1. **Structure.** The request body of each document is converted from
   OpenAPI 3.0 to JSON Schema 2020-12 (:func:`oas30_to_2020_12`), both it and
   the compiled schema are reduced to a *normal form* (:class:`Node`) that
   hides how a union is spelled (``anyOf``/``oneOf`` in the docs; ``type``
   lists and ``if``/``then`` keyed on ``x-aimlcat-discriminator`` in the
   catalog; a union that no property tells apart stays an ordered list of
   shapes), and the two are compared recursively (:func:`compare`). Every
   difference must be explained by :data:`EXCEPTIONS`.
2. **Generated payloads.** A small seeded generator (:class:`BodyGenerator`)
   builds valid bodies from the documents' normal form (more of them while a
   union variant is unexercised); the catalog must accept them, and must reject
   one mutation per kind (unknown key, out of range, wrong type, missing
   required, bad enum) with the right code and pointer, except where an
   :data:`EXCEPTIONS` entry says the catalog deliberately differs.
3. **Facts.** Removed and deprecated parameters, their dates, and removed
   models give the findings the docs' history calls for.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aimlcat import Catalog, load_catalog

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
DOCS = REFERENCE / "aimlapi-docs"
OPENAPI = DOCS / "openapi"

if not OPENAPI.is_dir():
    pytest.skip(f"reference docs not found at {REFERENCE}", allow_module_level=True)

# =============================================================================
# The table: which documents each catalog model × endpoint comes from
# =============================================================================


@dataclass(frozen=True, slots=True)
class DocRef:
    """One request body: a document (relative to ``openapi/``) and its key in ``paths``."""

    file: str
    path: str


@dataclass(frozen=True, slots=True)
class Row:
    """A catalog model on one endpoint, and the request bodies it is built from.

    With several bodies the catalog is their union; where they disagree on a
    constraint, the *first* one wins (see :func:`merge_nodes`)."""

    model: str
    endpoint: str
    docs: tuple[DocRef, ...]
    removed: bool = False  # a removed model: its last documents, AML103 on any body

    @property
    def id(self) -> str:
        return f"{self.model}@{self.endpoint}"


_KLING = "kling-video/v1.6/pro/image-to-video"

# Documents that are not docs pages of their own (a draft or backup copy of a
# page): no row reads them; where they disagree with the page, the page wins.
IGNORED_DOCUMENTS: dict[str, str] = {
    "image-models/flux/flux-pro-test-no-codesample.json":
        "a test copy of image-models/flux/flux-pro.json without code samples",
    "text-models-llm/Google/gemma-3n-test-contructor.json":
        "a page-builder test copy of text-models-llm/Google/gemma-3n-e4b-it.json",
    "text-models-llm/Alibaba-Cloud/qwen3-omni-30b-a3b-captioner_BACKUP.json":
        "a backup of text-models-llm/Alibaba-Cloud/qwen3-omni-30b-a3b-captioner.json",
}


def document_order(file: str) -> tuple[int, str]:
    """The order in which a model's documents are united (the first wins a constraint
    both give): path order, except that the Black-Forest-Labs image pages come after
    the newer flux/ pages of the same models (which give the ranges)."""
    return (file.startswith("image-models/Black-Forest-Labs/"), file)


def _body_paths(doc: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """(path, model ids) of each POST body of a document whose `model` lists ids."""
    for path, item in (doc.get("paths") or {}).items():
        op = item.get("post") if isinstance(item, dict) else None
        content = ((op or {}).get("requestBody") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        if not isinstance(schema, dict):
            continue
        if "$ref" in schema:
            name = schema["$ref"].rpartition("/")[2]
            schema = doc.get("components", {}).get("schemas", {}).get(name, {})
        model = (schema.get("properties") or {}).get("model") or {}
        ids = [i for i in model.get("enum") or () if isinstance(i, str)]
        if ids:
            yield path, ids


@cache
def _document_bodies() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Every model request body of the docs: (file, path, model ids), in path order."""
    out = []
    files = (p.relative_to(OPENAPI).as_posix() for p in OPENAPI.rglob("*.json"))
    for file in sorted(files, key=document_order):
        if file in IGNORED_DOCUMENTS:
            continue
        for path, ids in _body_paths(load_document(file)):
            out.append((file, path, tuple(ids)))
    return tuple(out)


def derive_rows(cat: Catalog) -> tuple[Row, ...]:
    """One row per catalog model × endpoint that some document describes: every body
    whose `model` enum names one of the model's ids, on that endpoint, in
    :func:`document_order` (the order the catalog was imported in)."""
    found: dict[tuple[str, str], list[DocRef]] = {}
    for file, path, ids in _document_bodies():
        endpoint = cat.canonical_endpoint(path)
        for mid in dict.fromkeys(cat.resolve(i) for i in ids):
            if mid is None or endpoint is None:
                continue
            if endpoint not in cat.model_record(mid)["endpoints"]:
                continue  # the model is not (or no longer) served there
            refs = found.setdefault((mid, endpoint), [])
            if DocRef(file, path) not in refs:
                refs.append(DocRef(file, path))
    rows = [Row(mid, endpoint, tuple(refs), cat.model(mid).status == "removed")
            for (mid, endpoint), refs in found.items()]
    return tuple(sorted(rows, key=lambda r: (r.model, r.endpoint)))


# =============================================================================
# Expected, deliberate differences between the docs and the catalog
# =============================================================================
#
# Key: (model id, "*", or "<removed>" for every removed model, endpoint or "*", schema
# pointer, aspect) -> reason.
# Schema pointers name properties ("/image_size"), array items ("/[]"),
# additionalProperties values ("/{*}"), tagged-union cases ("/{role=user}"), the
# shapes of an untagged union, in order ("/{any=0}"), and, on nodes that take
# several JSON types, the type ("<object>"). Aspects are
# JSON Schema keywords ("default", "minimum", ...) or "type", "required",
# "only-in-doc", "only-in-catalog", "removed-param" (a parameter a document of the row
# still lists that the catalog says was removed: never exempt by a wildcard, since a
# body the docs allow would then get AML303), "additionalProperties",
# "alternatives" (how many shapes an untagged union has), "string-default" (a
# default written as a string where the type is a number, see below), and
# "union-of-documents": a row built from several request bodies compares with
# their merge (properties and enums: the union; `required`: the intersection;
# any other constraint both give: the first document's, see document_order), and
# each place where a later body differs from the first needs an entry here
# saying why the catalog takes the union.
#
# Handled in code, not listed: the compiled `model` enum holds one model's id
# and aliases, the docs' enum every id the document covers; the former must be
# a subset of the latter.
#
# A row-specific entry that no longer matches any difference fails the test:
# delete it once the catalog or the docs change.
EXCEPTIONS: dict[tuple[str, str, str, str], str] = {
    ("*", "*", "/messages/[]/{role=assistant}/content", "null-added"):
        "the docs type an assistant message's content string or array; the OpenAI SDK "
        "sends an earlier reply back as it came, and a reply that only calls tools has "
        "`content: null` (tool calling's second request): blocking it would stop every "
        "tool-calling client, so the catalog takes null too",
    ("*", "/v1/chat/completions", "/provider", "union-of-documents"):
        "chat documents list the body under `/v1/chat/completions` and again under "
        "`/chat/completions` (the same endpoint under a /v1 base URL); only the first lists "
        "`provider`, and the catalog takes the union",
    **dict.fromkeys(
        [(m, "/v1/images/generations", "*", "union-of-documents")
         for m in ("flux/dev", "flux/dev/image-to-image", "flux/schnell", "flux-pro",
                   "flux-pro/v1.1", "flux-pro/v1.1-ultra", "flux-realism")],
        "FLUX models have a page under image-models/flux/ (ranges, `seed`, "
        "`num_inference_steps`) and an older one under image-models/Black-Forest-Labs/ "
        "(`sync_mode`, other defaults); the catalog takes the union, ranges from the former"),
    **dict.fromkeys(
        [(m, "/v1/images/edits", "*", "union-of-documents")
         for m in ("openai/gpt-image-1", "openai/gpt-image-2")],
        "-EDIT_local_changes.json is a looser draft of the edit document (files as bare "
        "objects); the catalog takes the union"),
    **dict.fromkeys(
        [(f"#g1_nova-2-{v}", "/v1/stt/create", "*", "union-of-documents")
         for v in ("automotive", "conversationalai", "drivethru", "finance", "general",
                   "medical", "meeting", "phonecall", "video", "voicemail")],
        "Nova 2 has a page under speech-models/ and an older one under "
        "speech-voice-models/stt/ (which also takes `url` and an `audio` upload and lets the "
        "flags be null); the catalog takes the union"),
    **dict.fromkeys(
        [(m, "/v2/video/generations", "*", "union-of-documents")
         for m in ("klingai/video-o1-video-to-video-reference",
                   "klingai/video-v2-6-pro-image-to-video",
                   "klingai/video-v2-6-pro-text-to-video")],
        "the video-models/kling-ai/ copy of the page adds `provider` (and drops "
        "`tail_image_url`); the catalog takes the union"),
    **dict.fromkeys(
        [(m, "/v1/tts", "*", "union-of-documents")
         for m in ("minimax/speech-2.6-hd", "minimax/speech-2.6-turbo")],
        "the speech-2.5 page lists the 2.6 ids too; the 2.6 page adds defaults to "
        "`audio_setting`, which the catalog takes"),
    **dict.fromkeys(
        [(m, "/v1/chat/completions", "*", "union-of-documents")
         for m in ("deepseek/deepseek-non-thinking-v3.2-exp",
                   "deepseek/deepseek-thinking-v3.2-exp")],
        "the v3.2 page also lists the -exp id and adds the tool role and tool calls to "
        "`messages`; the catalog takes the union (its message list is the v3.2 page's)"),
    ("imagen4/preview", "/v1/images/generations", "*", "union-of-documents"):
        "the Imagen 4 generate page lists the preview id too; the preview page adds "
        "`num_images` bounds and a longer prompt; the catalog takes the union",
    **dict.fromkeys(
        [(m, "/v1/responses", "*", "union-of-documents")
         for m in ("openai/gpt-5-2-codex", "openai/gpt-5-2-pro")],
        "the model's chat page also documents /v1/responses, with `parallel_tool_calls` "
        "(and `reasoning`) and a lower `max_output_tokens` bound; the catalog takes the "
        "union, bounds from the RESPONSES page"),
    **dict.fromkeys(
        [(m, "/v1/responses", "/input", "type")
         for m in ("openai/gpt-5-2-codex", "openai/gpt-5-2-pro")],
        "the chat page's copy of the Responses body lets `input` be a single item object; "
        "the RESPONSES page (and the Responses API) take a string or a list of items, "
        "which the catalog keeps"),
    ("<removed>", "*", "*", "union-of-documents"):
        "a removed model keeps its last documents as tools/gen_retired.py imports them, "
        "united without review (its older and newer pages can differ a lot): AML103 stops "
        "before any parameter, and they serve `aimlcat show` and the migration hint",
    ("*", "*", "*", "string-default"):
        "the docs give a number-typed parameter a default written as a string (`duration` "
        "typed integer with the default \"5\" in 87 documents, MiniMax's `sample_rate` "
        "\"32000\"); the catalog states the number, the value the gateway takes",
    ("*", "*", "*", "null-default"):
        "the docs give an optional, nullable parameter the default null, which says no more "
        "than leaving it out; the catalog writes no default (`default: null` in the catalog's "
        "YAML removes an inherited key)",
    ("*", "*", "", "model-required"):
        "aimlcat requires `model` in every body (the gateway routes by it); a few documents "
        "do not list it as required",
    ("*", "*", "", "additionalProperties"):
        "aimlcat closes the top level (additionalProperties: false) so unknown keys are "
        "reported (AML301); the gateway docs leave it open and ignore them silently",
    ("openai/gpt-4o-transcribe", "/v1/stt/create", "/file", "required"):
        "the docs require `mimetype`, `originalname`, `encoding` and `fieldname` of the "
        "uploaded file, but the gateway's server fills these in from every multipart upload; "
        "the shared `uploaded_file` shape requires none of them (as the image-edit documents' "
        "union does)",
    **dict.fromkeys(
        [("*", "/v1/images/generations", f"/image_size<object>/{side}", "exclusiveMinimum")
         for side in ("width", "height")],
        "the Black-Forest-Labs pages only say a side is > 0 (boolean exclusiveMinimum); the "
        "catalog takes the flux/ page's range (from 64, 256 or 512 up), which is stricter"),
}

# Rows whose compiled schema disagrees with the docs in a way that is a catalog
# bug (not a deliberate difference): (model, endpoint, test) -> reason, where
# test is "structure", "payloads" or "mutations".
# Each is a strict xfail, so fixing the catalog turns it into a failure that
# asks for the entry to be removed.
_FIRST_UNION_WINS = (
    "a removed model's pages disagree on a union and the importer keeps the first page's "
    "union whole where this test unites the pages' types ({}); tools/gen_retired.py "
    "writes the importer's view, unreviewed, for a model AML103 stops at")
KNOWN_MISMATCHES: dict[tuple[str, str, str], str] = {
    **{(m, "/v1/chat/completions", test): _FIRST_UNION_WINS.format(
        "`tool_choice`: one page's object shapes, the other's string too")
       for m in ("anthropic/claude-opus-4", "anthropic/claude-sonnet-4",
                 "claude-3-7-sonnet-20250219")
       for test in ("structure", "payloads")},
    **{("bagoodex/bagoodex-search-v1", "/v1/chat/completions", test): _FIRST_UNION_WINS.format(
        "`response_format` without json_schema on the first page, `top_k` integer")
       for test in ("structure", "payloads")},
    **{("meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", "/v1/chat/completions", test):
       _FIRST_UNION_WINS.format("the first page's closed message and tool shapes")
       for test in ("structure", "payloads")},
}


# =============================================================================
# OpenAPI 3.0 -> JSON Schema 2020-12
# =============================================================================

_OAS_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object"})
_COMPONENT_PREFIX = "#/components/schemas/"


def oas30_to_2020_12(schema: Any, components: dict[str, Any]) -> Any:
    """Convert an OpenAPI 3.0 schema object to JSON Schema 2020-12, inlining ``$ref`` s."""
    return _OasConverter(components).convert(schema, branch=False)


class _OasConverter:
    def __init__(self, components: dict[str, Any]) -> None:
        self.components = components
        self.stack: list[str] = []

    def convert(self, node: Any, *, branch: bool) -> Any:
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith(_COMPONENT_PREFIX):
                raise ValueError(f"unsupported $ref {ref!r}")
            name = ref[len(_COMPONENT_PREFIX):]
            if name in self.stack:
                raise ValueError(f"recursive $ref {ref!r}: the normal form needs a tree")
            self.stack.append(name)
            try:
                # OpenAPI 3.0 ignores the siblings of a $ref.
                return self.convert(self.components[name], branch=branch)
            finally:
                self.stack.pop()
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "properties":
                out[key] = {k: self.convert(v, branch=False) for k, v in value.items()}
            elif key in ("items", "not") or (key == "additionalProperties"
                                             and isinstance(value, dict)):
                out[key] = self.convert(value, branch=False)
            elif key in ("anyOf", "oneOf", "allOf"):
                out[key] = [self.convert(v, branch=key != "allOf") for v in value]
            elif key == "example":
                out["examples"] = [value]
            elif key in ("nullable", "exclusiveMinimum", "exclusiveMaximum", "discriminator"):
                pass  # handled below (discriminator: we find the tag ourselves)
            elif key == "required" and isinstance(value, bool):
                pass  # `required: true` on a property: lifted into the parent below
            elif key == "type" and value not in _OAS_TYPES:
                pass  # a docs typo (an en dash in billing docs): no usable type
            else:
                out[key] = copy.deepcopy(value)
        props = node.get("properties")
        if isinstance(props, dict):
            lifted = [k for k, v in props.items()
                      if isinstance(v, dict) and v.get("required") is True]
            if lifted:
                out["required"] = list(dict.fromkeys([*out.get("required", []), *lifted]))
        # OpenAPI 3.0 exclusive bounds are booleans qualifying minimum/maximum.
        for excl, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            flag = node.get(excl)
            if flag is True and bound in out:
                out[excl] = out.pop(bound)
            elif isinstance(flag, (int, float)) and not isinstance(flag, bool):
                out[excl] = flag
        if node.get("nullable") is True:
            t = out.get("type")
            if t is not None:
                out["type"] = [*(t if isinstance(t, list) else [t]), "null"]
                if "enum" in out and None not in out["enum"]:
                    out["enum"] = [*out["enum"], None]
            elif branch and set(node) <= {"nullable", "description", "title", "example"}:
                # In a union, a bare `{nullable: true}` branch is the docs' way of
                # writing "or null". Elsewhere an untyped schema admits null already.
                out["type"] = "null"
        return out


@cache
def load_document(file: str) -> dict[str, Any]:
    with (OPENAPI / file).open(encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


@cache
def doc_request_schema(ref: DocRef) -> dict[str, Any]:
    """The POST request body of ``ref``, as JSON Schema 2020-12."""
    doc = load_document(ref.file)
    body = doc["paths"][ref.path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    components = doc.get("components", {}).get("schemas", {})
    converted: dict[str, Any] = oas30_to_2020_12(body, components)
    return converted


ROWS: tuple[Row, ...] = derive_rows(load_catalog())


# =============================================================================
# Normal form
# =============================================================================


class _Missing:
    def __repr__(self) -> str:
        return "absent"


MISSING: Any = _Missing()

_ANNOTATIONS = frozenset({"description", "title", "examples", "example", "$schema", "$id",
                          "$comment", "readOnly", "writeOnly", "contentEncoding",
                          "contentMediaType"})
# Constraint keywords kept verbatim in a facet, by the JSON type they apply to.
_KEYWORDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "integer": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "string": ("format", "minLength", "maxLength", "pattern"),
    "array": ("minItems", "maxItems", "uniqueItems"),
    "object": ("minProperties", "maxProperties"),
    "boolean": (),
    "null": (),
}
_STRUCTURAL = frozenset({"type", "enum", "const", "default", "deprecated", "anyOf", "oneOf",
                         "allOf", "properties", "required", "additionalProperties", "items",
                         "$ref", "x-aimlcat-discriminator"})
_KNOWN = _STRUCTURAL | {k for ks in _KEYWORDS_BY_TYPE.values() for k in ks}


@dataclass(eq=False)
class Facet:
    """What a schema says about values of one JSON type.

    Objects are either plain (``properties``/``required``/``additional``) or a
    tagged union (``tag`` + ``cases``, each case a plain object facet; a case
    that claims several tag values appears under each). Where no property tells
    the branches of a union apart (objects) or they differ in their items
    (arrays), the facet is an untagged union: ``alternatives``, in order."""

    keywords: dict[str, Any] = field(default_factory=dict)
    items: Node | None = None
    properties: dict[str, Node] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    closed: bool = False  # additionalProperties: false
    additional: Node | None = None  # additionalProperties: {schema}
    tag: str | None = None
    cases: dict[Any, Facet] = field(default_factory=dict)
    tag_enum: list[Any] | None = None  # the compiled base's enum of the tag
    alternatives: list[Facet] = field(default_factory=list)


@dataclass(eq=False)
class Node:
    """A schema in normal form: one facet per JSON type it admits (none = any value)."""

    types: dict[str, Facet]
    default: Any = MISSING
    deprecated: bool = False
    # An untagged anyOf/oneOf (its shapes are compared whole; mutations inside a shape
    # expect the finding in that shape: the validator reports the shape pointed to).
    opaque: bool = False


def canon(value: Any) -> str:
    """A JSON-equality key: 5 == 5.0, but true != 1 and "5" != 5."""

    def norm(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v

    return json.dumps(norm(value), sort_keys=True)


def json_type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _admits(t: str, value: Any) -> bool:
    vt = json_type_of(value)
    return vt == t or (t == "number" and vt == "integer")


class Normaliser:
    """Reduces a 2020-12 schema to :class:`Node` s, following ``$ref`` s with ``resolve``."""

    def __init__(self, resolve: Callable[[str], Any] | None = None) -> None:
        self.resolve = resolve
        self.stack: list[str] = []

    def node(self, schema: Any, where: str = "#") -> Node:
        if schema is True:
            return Node(types={})
        if not isinstance(schema, dict):
            raise TypeError(f"{where}: not a schema: {schema!r}")
        if "$ref" in schema:
            return self._ref(schema, where)
        unknown = [k for k in schema
                   if k not in _KNOWN and k not in _ANNOTATIONS and not k.startswith("x-")]
        if unknown:
            # Fail loudly: a keyword the comparison does not understand would
            # otherwise be silently ignored.
            raise ValueError(f"{where}: the normaliser does not understand {unknown}")
        default = schema.get("default", MISSING)
        deprecated = bool(schema.get("deprecated", False))
        union = schema.get("anyOf") or schema.get("oneOf")
        if union is not None:
            extra = [k for k in schema if k in _KNOWN - {"anyOf", "oneOf", "default", "deprecated"}]
            if extra and extra != ["enum"]:
                raise ValueError(f"{where}: keywords {extra} beside anyOf/oneOf")
            kw = "anyOf" if "anyOf" in schema else "oneOf"
            branches = [self.node(b, f"{where}/{kw}/{i}") for i, b in enumerate(union)]
            n = self._union(branches, where)
            if extra:  # an enum beside the union: the values both allow
                _restrict(n, schema["enum"])
            n.default, n.deprecated = default, deprecated
            return n
        return Node(types=self._facets(schema, where), default=default, deprecated=deprecated)

    def _ref(self, schema: dict[str, Any], where: str) -> Node:
        ref = schema["$ref"]
        if self.resolve is None:
            raise ValueError(f"{where}: unexpected $ref {ref!r}")
        if ref in self.stack:
            raise ValueError(f"{where}: recursive $ref {ref!r}")
        target = self.resolve(ref)
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        # 2020-12 applies a $ref and its siblings together; in the compiled
        # schemas the siblings only restate the target (`type: array`) or annotate.
        merged = dict(target)
        for k, v in siblings.items():
            if k in merged and k not in _ANNOTATIONS and canon(merged[k]) != canon(v):
                raise ValueError(f"{where}: $ref sibling {k}={v!r} contradicts {ref}")
            merged[k] = v
        self.stack.append(ref)
        try:
            return self.node(merged, f"{where}->{ref}")
        finally:
            self.stack.pop()

    def _facets(self, schema: dict[str, Any], where: str) -> dict[str, Facet]:
        enum: list[Any] | None = schema.get("enum")
        if "const" in schema:
            enum = [schema["const"]]
        t = schema.get("type")
        if t is None:
            if enum is not None:
                types = list(dict.fromkeys(json_type_of(v) for v in enum))
            elif "properties" in schema or "allOf" in schema:
                types = ["object"]
            elif "items" in schema:
                types = ["array"]
            else:
                types = []
        else:
            types = t if isinstance(t, list) else [t]
        facets: dict[str, Facet] = {}
        for ty in types:
            facet = self._object(schema, where) if ty == "object" else Facet()
            for k in _KEYWORDS_BY_TYPE[ty]:
                if k in schema and not _encoding_rule(schema, k):
                    facet.keywords[k] = schema[k]
            if enum is not None:
                facet.keywords["enum"] = [v for v in enum if _admits(ty, v)]
            if ty == "array" and "items" in schema:
                facet.items = self.node(schema["items"], f"{where}/items")
            facets[ty] = facet
        return facets

    def _object(self, schema: dict[str, Any], where: str) -> Facet:
        facet = Facet(
            properties={k: self.node(v, f"{where}/properties/{k}")
                        for k, v in schema.get("properties", {}).items()},
            required=frozenset(schema.get("required", ())),
        )
        extra = schema.get("additionalProperties", True)
        if extra is False:
            facet.closed = True
        elif isinstance(extra, dict):
            n = self.node(extra, f"{where}/additionalProperties")
            if n.types:  # `{}` (or the docs' `{nullable: true}`) is no constraint
                facet.additional = n
        if "allOf" not in schema:
            return facet
        # The compiled spelling of a tagged union: a base object whose tag
        # property enumerates the cases, and one if/then per case.
        tag: str | None = schema.get("x-aimlcat-discriminator")
        cases: dict[Any, Facet] = {}
        for i, part in enumerate(schema["allOf"]):
            if set(part) != {"if", "then"}:
                raise ValueError(f"{where}/allOf/{i}: only if/then tagged unions are understood")
            ((name, cond),) = part["if"]["properties"].items()
            if tag is None:
                tag = name
            if name != tag or not ("const" in cond or "enum" in cond):
                raise ValueError(f"{where}/allOf/{i}: not keyed on the discriminator {tag!r}")
            case_node = self.node(part["then"], f"{where}/allOf/{i}/then")
            if set(case_node.types) != {"object"}:
                raise ValueError(f"{where}/allOf/{i}: a case that is not an object")
            for value in [cond["const"]] if "const" in cond else cond["enum"]:
                cases[value] = case_node.types["object"]
        assert tag is not None
        # Anything the base says besides the tag applies to every case.
        for case in cases.values():
            for k, v in facet.properties.items():
                if k != tag:
                    case.properties.setdefault(k, v)
            case.required = case.required | (facet.required - {tag})
        base_tag = facet.properties.get(tag)
        tagged = Facet(tag=tag, cases=cases,
                       tag_enum=_enum_of(base_tag) if base_tag is not None else None)
        return _collapse(tagged)

    def _union(self, branches: list[Node], where: str) -> Node:
        by_type: dict[str, list[Facet]] = {}
        for b in branches:
            if not b.types:
                return Node(types={}, opaque=len(branches) > 1)
            for t, f in b.types.items():
                by_type.setdefault(t, []).append(f)
        types: dict[str, Facet] = {}
        for t, facets in by_type.items():
            if len(facets) == 1:
                types[t] = facets[0]
            elif t == "object":
                types[t] = _tag_objects(facets, where)
            elif t == "array":
                types[t] = Facet(alternatives=facets)
            else:
                types[t] = _merge_scalar_facets(facets, where)
        return Node(types=types, opaque=len(branches) > 1)


@functools.cache
def _base64_only_fields() -> dict[str, str | None]:
    """Property name -> a media type it takes, for every property the catalog declares as
    base64 data only (no URL), across all compiled schemas."""
    import aimlcat

    cat = aimlcat.load_catalog()
    found: dict[str, str | None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                if isinstance(sub, dict) and sub.get("x-aimlcat-encodings") == ["base64"]:
                    found[name] = (sub.get("x-aimlcat-media-types") or [None])[0]
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(cat.defs())
    for mid in cat.ids():
        if cat.resolve(mid) == mid:
            for path in cat.model_record(mid)["endpoints"]:
                walk(cat.endpoint_schema(mid, path))
    return found


def _encoding_rule(schema: dict[str, Any], keyword: str) -> bool:
    """A ``pattern``/``maxLength`` the compiler derives from ``x-aimlcat-encodings``.

    aimlcat checks base64 data (well-formed, media type, documented size) with
    these keywords; they are its own rule on top of the docs, not a docs fact,
    so the comparison sets them aside (tests/test_validator.py covers them)."""
    return keyword in ("pattern", "maxLength") and "base64" in schema.get(
        "x-aimlcat-encodings", ())


def _restrict(node: Node, enum: list[Any]) -> None:
    """Keep only the values of ``enum`` in each facet of ``node`` (an enum beside a union)."""
    for t, facet in list(node.types.items()):
        allowed = [v for v in enum if _admits(t, v)]
        own = facet.keywords.get("enum")
        if own is not None:
            allowed = [v for v in allowed if canon(v) in {canon(x) for x in own}]
        if allowed:
            facet.keywords["enum"] = allowed
        else:
            del node.types[t]


def _enum_of(node: Node) -> list[Any] | None:
    values: list[Any] = []
    for f in node.types.values():
        if "enum" not in f.keywords:
            return None
        values.extend(f.keywords["enum"])
    return values if node.types else None


def _collapse(facet: Facet) -> Facet:
    """A tagged union of one case is just that case."""
    if facet.tag is not None and len(facet.cases) == 1:
        return next(iter(facet.cases.values()))
    return facet


def _tag_objects(facets: list[Facet], where: str) -> Facet:
    """Several object branches of a union: find the property that tells them apart
    (required in each, with values of its own in each); without one, an untagged union."""
    plain: list[Facet] = []
    for f in facets:
        if f.alternatives:
            return Facet(alternatives=facets)
        for case in f.cases.values() if f.tag is not None else [f]:
            if not any(case is p for p in plain):
                plain.append(case)
    for name in plain[0].properties:
        cases: dict[Any, Facet] = {}
        for f in plain:
            prop = f.properties.get(name)
            enum = _enum_of(prop) if prop is not None else None
            if name not in f.required or not enum or any(
                    canon(v) in map(canon, cases) for v in enum):
                break
            cases.update(dict.fromkeys(enum, f))
        else:
            return _collapse(Facet(tag=name, cases=cases))
    return Facet(alternatives=facets)


def _merge_scalar_facets(facets: list[Facet], where: str) -> Facet:
    """Scalar branches of one type: the union of their enums; any other constraint
    only if every branch states it (`anyOf: [{format: uri}, {}]` is any string)."""
    out = Facet()
    enums = [f.keywords.get("enum") for f in facets]
    if all(e is not None for e in enums):
        out.keywords["enum"] = [v for e in enums for v in (e or [])]
    for k in dict.fromkeys(k for f in facets for k in f.keywords if k != "enum"):
        values = [f.keywords.get(k, MISSING) for f in facets]
        if any(v is MISSING for v in values):
            continue
        if len({canon(v) for v in values}) > 1:
            raise ValueError(f"{where}: union branches disagree on {k}")
        out.keywords[k] = values[0]
    return out


def merge_nodes(a: Node, b: Node) -> Node:
    """The union of two documents' views of one value; ``a`` wins a constraint both give."""
    types = dict(a.types)
    for t, fb in b.types.items():
        types[t] = merge_facets(types[t], fb) if t in types else fb
    if not a.types or not b.types:
        types = {}  # either side admits anything
    return Node(types=types, default=a.default if a.default is not MISSING else b.default,
                deprecated=a.deprecated or b.deprecated, opaque=a.opaque or b.opaque)


def merge_facets(a: Facet, b: Facet) -> Facet:
    if a.alternatives or b.alternatives:
        if len(a.alternatives) != len(b.alternatives):
            return a  # the first document's union whole, as the importer takes it
        return Facet(alternatives=[merge_facets(x, y)
                                   for x, y in zip(a.alternatives, b.alternatives, strict=True)])
    keywords = dict(a.keywords)
    for k, v in b.keywords.items():
        if k == "enum" and "enum" in keywords:
            seen = {canon(x) for x in keywords["enum"]}
            keywords["enum"] = [*keywords["enum"], *(x for x in v if canon(x) not in seen)]
        else:
            keywords.setdefault(k, v)
    if a.tag is not None and b.tag == a.tag:
        cases = dict(a.cases)
        for v, fb in b.cases.items():
            cases[v] = merge_facets(cases[v], fb) if v in cases else fb
        return Facet(keywords=keywords, tag=a.tag, cases=cases)
    if a.tag is not None or b.tag is not None:
        # A tagged union and a plain object (or another tag): the first document's
        # shape whole, as the importer unites them (a union is never added to a
        # shape without one, which would make a value satisfy both).
        return a
    props = dict(a.properties)
    for k, nb in b.properties.items():
        props[k] = merge_nodes(props[k], nb) if k in props else nb
    items = a.items if b.items is None else b.items if a.items is None else merge_nodes(a.items,
                                                                                    b.items)
    additional = None
    if a.additional is not None and b.additional is not None:
        additional = merge_nodes(a.additional, b.additional)
    return Facet(keywords=keywords, items=items, properties=props,
                 # A parameter is required by the union only if every document requires it.
                 required=a.required & b.required,
                 closed=a.closed and b.closed, additional=additional)


# =============================================================================
# Comparison
# =============================================================================


@dataclass(frozen=True, slots=True)
class Difference:
    pointer: str
    aspect: str
    doc: Any
    catalog: Any

    def __str__(self) -> str:
        where = self.pointer or "/"
        return f"{where}: {self.aspect}: docs {self.doc!r} vs catalog {self.catalog!r}"


def compare(doc: Node, cat: Node, ptr: str = "") -> Iterator[Difference]:
    """Every way the catalog's node differs from the docs' node."""
    if canon_or_missing(doc.default) != canon_or_missing(cat.default):
        yield Difference(ptr, "default", doc.default, cat.default)
    if doc.deprecated and not cat.deprecated:
        # The catalog may deprecate ahead of the docs (gpt-4o `max_tokens`), not lag them.
        yield Difference(ptr, "deprecated", True, False)
    if set(doc.types) != set(cat.types):
        yield Difference(ptr, "type", sorted(doc.types) or "any", sorted(cat.types) or "any")
    multi = len(set(doc.types) | set(cat.types)) > 1
    for t in doc.types:
        if t in cat.types:
            yield from compare_facets(doc.types[t], cat.types[t], ptr + (f"<{t}>" if multi else ""))


def canon_or_missing(value: Any) -> str:
    return "<absent>" if value is MISSING else canon(value)


def compare_facets(doc: Facet, cat: Facet, ptr: str) -> Iterator[Difference]:
    if doc.alternatives or cat.alternatives:
        # Untagged unions: the catalog lists the same shapes in the docs' order.
        if len(doc.alternatives) != len(cat.alternatives):
            yield Difference(ptr, "alternatives", len(doc.alternatives), len(cat.alternatives))
            return
        for i, (d, c) in enumerate(zip(doc.alternatives, cat.alternatives, strict=True)):
            yield from compare_facets(d, c, f"{ptr}/{{any={i}}}")
        return
    for k in sorted(set(doc.keywords) | set(cat.keywords)):
        dv, cv = doc.keywords.get(k, MISSING), cat.keywords.get(k, MISSING)
        if k == "enum" and dv is not MISSING and cv is not MISSING:
            same = sorted(map(canon, dv)) == sorted(map(canon, cv))
        else:
            same = canon_or_missing(dv) == canon_or_missing(cv)
        if not same:
            yield Difference(ptr, k, dv, cv)
    if (doc.items is None) != (cat.items is None):
        yield Difference(ptr, "items", "absent" if doc.items is None else "present",
                         "absent" if cat.items is None else "present")
    elif doc.items is not None and cat.items is not None:
        yield from compare(doc.items, cat.items, ptr + "/[]")
    if cat.tag_enum is not None and sorted(map(canon, cat.tag_enum)) != sorted(
            map(canon, cat.cases)):
        yield Difference(ptr, "discriminator-enum", sorted(cat.cases), cat.tag_enum)
    if doc.tag is not None or cat.tag is not None:
        if doc.tag != cat.tag:
            yield Difference(ptr, "discriminator", doc.tag, cat.tag)
            return
        dk, ck = set(doc.cases), set(cat.cases)
        if dk != ck:
            yield Difference(ptr, "variants", sorted(dk), sorted(ck))
        for v in doc.cases:
            if v in cat.cases:
                yield from compare_facets(doc.cases[v], cat.cases[v], f"{ptr}/{{{doc.tag}={v}}}")
        return
    for name in doc.properties:
        if name not in cat.properties:
            yield Difference(f"{ptr}/{name}", "only-in-doc", "present", MISSING)
    for name in cat.properties:
        if name not in doc.properties:
            yield Difference(f"{ptr}/{name}", "only-in-catalog", MISSING, "present")
        else:
            yield from compare(doc.properties[name], cat.properties[name], f"{ptr}/{name}")
    if doc.required != cat.required:
        yield Difference(ptr, "required", sorted(doc.required), sorted(cat.required))

    def extra(f: Facet) -> str:
        return "closed" if f.closed else "schema" if f.additional is not None else "open"

    if extra(doc) != extra(cat):
        yield Difference(ptr, "additionalProperties", extra(doc), extra(cat))
    elif doc.additional is not None and cat.additional is not None:
        yield from compare(doc.additional, cat.additional, ptr + "/{*}")


# =============================================================================
# Fixtures: the catalog, and each row's two normal forms
# =============================================================================


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


def compiled_normaliser(cat: Catalog) -> Normaliser:
    defs = cat.defs()["$defs"]

    def resolve(ref: str) -> Any:
        # `../../defs.json#/$defs/NAME` from a model schema, `#/$defs/NAME` inside defs.json.
        _, _, name = ref.partition("#/$defs/")
        if not name or name not in defs:
            raise ValueError(f"unresolvable $ref {ref!r}")
        return defs[name]

    return Normaliser(resolve)


@cache
def _doc_ref_node(ref: DocRef) -> Node:
    return Normaliser().node(doc_request_schema(ref), f"{ref.file}#{ref.path}")


@cache
def doc_node(row: Row) -> Node:
    """The docs' view of ``row``: its request bodies, normalised and merged."""
    nodes = [_doc_ref_node(ref) for ref in row.docs]
    merged = nodes[0]
    for n in nodes[1:]:
        merged = merge_nodes(merged, n)
    return merged


@cache
def catalog_node(cat: Catalog, row: Row) -> Node:
    return compiled_normaliser(cat).node(cat.schema(row.model, row.endpoint), row.id)


def _params(rows: tuple[Row, ...], test: str, *marks: Any) -> list[Any]:
    out = []
    for row in rows:
        reason = KNOWN_MISMATCHES.get((row.model, row.endpoint, test))
        xfail = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(row, id=row.id, marks=[*marks, *xfail]))
    return out


def shape_key(cat: Catalog, row: Row) -> str:
    """What the generated-body tests see of a row: the normal forms of its documents'
    merged request body and of its compiled schema, without `model` (which only
    names the ids)."""
    parts = [_node_plain(doc_node(row), root=True),
             _node_plain(catalog_node(cat, row), root=True)]
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _node_plain(node: Node | None, *, root: bool = False) -> Any:
    if node is None:
        return None
    return {"t": {t: _facet_plain(f, root) for t, f in sorted(node.types.items())},
            "d": canon_or_missing(node.default), "x": node.deprecated, "o": node.opaque}


def _facet_plain(f: Facet, root: bool = False) -> Any:
    return {"k": canon(f.keywords), "i": _node_plain(f.items),
            "p": {k: _node_plain(v) for k, v in sorted(f.properties.items())
                  if not (root and k == "model")},
            "r": sorted(f.required), "c": f.closed, "a": _node_plain(f.additional),
            "tag": f.tag, "cases": {canon(k): _facet_plain(v) for k, v in f.cases.items()},
            "te": canon(f.tag_enum), "alt": [_facet_plain(x) for x in f.alternatives]}


def distinct_shapes(rows: tuple[Row, ...]) -> tuple[Row, ...]:
    """The first row of each distinct shape (:func:`shape_key`)."""
    cat = load_catalog()
    first: dict[str, Row] = {}
    for row in rows:
        first.setdefault(shape_key(cat, row), row)
    return tuple(first.values())


# The default run generates at most this many bodies for each distinct shape;
# `pytest -m full` runs every row with as many bodies as its unions need.
QUICK_BODIES = 3
SHAPES: tuple[Row, ...] = distinct_shapes(ROWS)
_FULL = pytest.mark.full


# =============================================================================
# 0. The table itself
# =============================================================================


def test_rows_cover_the_live_catalog(cat: Catalog) -> None:
    """Every live model × endpoint the catalog compiles is described by a document (so it
    has a row). Removed models keep their last parameters from deleted pages, which no
    row reads."""
    compiled = {(mid, ep) for mid in {cat.resolve(i) for i in cat.ids()} if mid is not None
                if cat.model(mid).status != "removed"
                for ep in cat.model_record(mid)["endpoints"]}
    table = {(r.model, r.endpoint) for r in ROWS}
    assert not compiled - table, f"no document describes {sorted(compiled - table)}"


def test_every_documented_endpoint_is_compiled(cat: Catalog) -> None:
    """The converse of the above: each endpoint a document gives a model is one the
    catalog compiles for it. :func:`derive_rows` skips the pairs the catalog lacks, so
    without this a model missing a documented endpoint (o3-mini's RESPONSES page)
    would compare clean."""
    missing = sorted({(mid, cat.canonical_endpoint(path) or path, file)
                      for file, path, ids in _document_bodies()
                      for mid in {cat.resolve(i) for i in ids} if mid is not None
                      if cat.canonical_endpoint(path) not in cat.model_record(mid)["endpoints"]})
    assert not missing, f"documented endpoints the catalog does not compile: {missing}"


def test_every_endpoint_the_docs_history_moved_is_known(cat: Catalog) -> None:
    """Each path of a model's `endpoint-moved` event in history.json is an endpoint the
    catalog knows: a body sent to where the docs used to send it is told where the model
    went (AML201/AML203), not that the path does not exist (AML204, whose guess named
    Kling's endpoint for MiniMax's old one). A path the docs left for a vendor-free one
    is a legacy endpoint replaced by it, since the date of a move away from it."""
    index = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "index.json")
                       .read_text(encoding="utf-8"))
    unknown: set[str] = set()
    not_legacy: set[tuple[str, str]] = set()
    moved_on: dict[tuple[str, str], set[str]] = {}
    for events in _history().values():
        for e in events:
            if e["change"] != "endpoint-moved":
                continue
            old, new = cat.canonical_endpoint(e["from"]), cat.canonical_endpoint(e["to"])
            unknown |= {p for p, c in ((e["from"], old), (e["to"], new)) if c is None}
            if old is not None and new is not None:
                moved_on.setdefault((old, new), set()).add(e["date"])
            if old is None or new is None or old == new or not old.startswith("/v2/generate/"):
                continue
            legacy = index["endpoints"][old].get("legacy") or {}
            if cat.canonical_endpoint(legacy.get("replaced_by") or "") != new:
                not_legacy.add((old, new))
    assert not unknown, f"paths the docs' history names that the catalog does not know: {unknown}"
    assert not not_legacy, f"vendor paths not marked legacy for their successor: {not_legacy}"
    # A legacy endpoint's date is one on which the docs moved models away from it.
    for path, info in index["endpoints"].items():
        legacy = info.get("legacy") or {}
        seen = moved_on.get((path, legacy.get("replaced_by")), set())
        if legacy.get("since") and seen:
            assert legacy["since"] in seen, (path, legacy["since"], sorted(seen))


def test_every_documented_model_id_resolves(cat: Catalog) -> None:
    """Each id a document's request body lists in its `model` enum names a catalog model
    (directly or as an alias), so a payload for it is checked against its rules."""
    missing = sorted({i for file, _, ids in _document_bodies() for i in ids
                      if cat.resolve(i) is None})
    assert not missing, f"ids documents list that the catalog does not know: {missing}"


# =============================================================================
# 1. Structural agreement
# =============================================================================


def _allowed(row: Row, d: Difference) -> tuple[str, str, str, str] | None:
    for key in EXCEPTIONS:
        model, endpoint, pointer, aspect = key
        if ((model in ("*", row.model) or (model == "<removed>" and row.removed))
                and endpoint in ("*", row.endpoint)
                and pointer in ("*", d.pointer) and aspect == d.aspect):
            return key
    return None


def documents_disagree(row: Row) -> list[Difference]:
    """Where the row's later request bodies differ from its first one (the model
    enum aside), as "union-of-documents" differences: the catalog takes their
    union, and an EXCEPTIONS entry must say why."""
    first, *rest = row.docs
    out = []
    for ref in rest:
        for d in compare(_doc_ref_node(first), _doc_ref_node(ref)):
            if d.pointer != "/model" and _classify(d).aspect != "string-default":
                aspect = {"only-in-doc": "only here", "only-in-catalog": "not here"}.get(
                    d.aspect, d.aspect)
                out.append(Difference(d.pointer, "union-of-documents",
                                      f"{ref.file}#{ref.path}: {aspect}", MISSING))
    return out


@cache
def _known_spellings() -> frozenset[str]:
    """Every id the docs' model table or any document names."""
    data = _models_json()
    # Table cells as written and cleaned of typing (`claude-3-sonnet-20240229,`).
    table = {j.strip() for m in data["models"] for i in m["ids"]
             for j in (i, *re.split(r"\s+or\b\s*|,", i))}
    return frozenset(table | set(data["spec_model_ids"]))


def _classify(d: Difference) -> Difference:
    """Name the kinds of difference that one EXCEPTIONS entry explains for every row."""
    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if d.aspect == "default":
        for a, b in ((d.doc, d.catalog), (d.catalog, d.doc)):
            if isinstance(a, str) and number(b) and _number(a) == b:
                return Difference(d.pointer, "string-default", d.doc, d.catalog)
        if d.doc is None and d.catalog is MISSING:
            return Difference(d.pointer, "null-default", d.doc, d.catalog)
    if (d.aspect == "type" and isinstance(d.doc, list) and isinstance(d.catalog, list)
            and sorted({*d.doc, "null"}) == sorted(d.catalog) and "null" not in d.doc):
        return Difference(d.pointer, "null-added", d.doc, d.catalog)
    if (d.pointer == "" and d.aspect == "required" and isinstance(d.doc, list)
            and isinstance(d.catalog, list) and set(d.catalog) - set(d.doc) == {"model"}
            and set(d.doc) <= set(d.catalog)):
        return Difference(d.pointer, "model-required", d.doc, d.catalog)
    return d


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def structural_differences(cat: Catalog, row: Row) -> tuple[list[Difference], set[Any]]:
    """(unexplained differences, EXCEPTIONS keys used) for one row."""
    doc, compiled = doc_node(row), catalog_node(cat, row)
    removed = set(cat.model_record(row.model)["endpoints"][row.endpoint].get("removed", {}))
    unexplained: list[Difference] = []
    used: set[Any] = set()
    for d in [*documents_disagree(row), *compare(doc, compiled)]:
        if d.pointer == "/model" and d.aspect == "enum":
            # The docs' enum lists every id the document covers; the catalog's, one
            # model's id and aliases: some of them from the document, the others
            # spellings the docs' model table (or another document) gives.
            ours, theirs = set(d.catalog), set(d.doc)
            if ours & theirs and ours - theirs <= _known_spellings():
                continue
            d = Difference("/model", "enum-not-subset", d.doc, d.catalog)
        d = _classify(d)
        if d.aspect == "only-in-doc" and d.pointer.count("/") == 1 and d.pointer[1:] in removed:
            d = Difference(d.pointer, "removed-param", d.doc, d.catalog)
        key = _allowed(row, d)
        if key is None:
            unexplained.append(d)
        else:
            used.add(key)
    return unexplained, used


@pytest.mark.parametrize("row", _params(ROWS, "structure"))
def test_compiled_schema_matches_docs(cat: Catalog, row: Row) -> None:
    unexplained, _ = structural_differences(cat, row)
    assert not unexplained, (
        f"{row.id}: the compiled schema disagrees with "
        f"{', '.join(sorted({r.file for r in row.docs}))}:\n  "
        + "\n  ".join(map(str, unexplained)))


def test_every_exception_is_still_needed(cat: Catalog) -> None:
    used: set[Any] = set()
    for row in ROWS:
        used |= structural_differences(cat, row)[1]
    stale = [k for k in EXCEPTIONS if k[0] != "*" and k not in used]
    assert not stale, f"EXCEPTIONS entries that no longer match any difference: {stale}"


def test_normal_form_sees_through_spellings() -> None:
    """Guard the comparison itself: equivalent spellings normalise alike, real changes don't."""
    compiled = {
        "type": "array",
        "items": {
            "type": "object", "required": ["role"], "x-aimlcat-discriminator": "role",
            "properties": {"role": {"enum": ["a", "b"]}},
            "allOf": [
                {"if": {"properties": {"role": {"const": r}}, "required": ["role"]},
                 "then": {"type": "object", "required": ["role", "content"],
                          "properties": {"role": {"type": "string", "enum": [r]},
                                         "content": {"type": ["string", "array", "null"],
                                                     "items": {"type": "string"}}}}}
                for r in ("a", "b")
            ],
        },
    }
    docs = oas30_to_2020_12({
        "type": "array",
        "items": {"oneOf": [
            {"type": "object", "required": ["role", "content"],
             "properties": {"role": {"type": "string", "enum": [r]},
                            "content": {"anyOf": [{"type": "string"},
                                                  {"type": "array", "items": {"type": "string"}},
                                                  {"nullable": True}]}}}
            for r in ("a", "b")
        ]},
    }, {})
    n = Normaliser()
    assert list(compare(n.node(docs), n.node(compiled))) == []
    docs["items"]["oneOf"][1]["properties"]["content"]["anyOf"][0]["type"] = "integer"
    assert [(d.pointer, d.aspect) for d in compare(n.node(docs), n.node(compiled))] == [
        ("/[]/{role=b}/content", "type")]
    bounds = oas30_to_2020_12({"type": "integer", "minimum": 0, "exclusiveMinimum": True,
                               "nullable": True, "example": 3}, {})
    assert bounds == {"type": ["integer", "null"], "exclusiveMinimum": 0, "examples": [3]}


def test_normal_form_of_untagged_unions_and_shared_tags() -> None:
    """Objects no property tells apart compare shape by shape, in order; a tagged
    case may claim several values, spelled as an enum in the docs and in an `if`."""
    message = {"type": "object", "required": ["role"],
               "properties": {"role": {"type": "string"}, "type": {"enum": ["message"]}}}
    reference = {"type": "object", "required": ["id"],
                 "properties": {"id": {"type": "string"}, "type": {"enum": ["item_reference"]}}}
    n = Normaliser()
    docs = n.node(oas30_to_2020_12({"type": "array", "items": {"anyOf": [message, reference]}},
                                   {}))
    same = n.node({"type": "array", "items": {"anyOf": [copy.deepcopy(message),
                                                        copy.deepcopy(reference)]}})
    assert list(compare(docs, same)) == []
    changed = copy.deepcopy(reference)
    changed["required"] = ["id", "type"]
    other = n.node({"type": "array", "items": {"anyOf": [message, changed]}})
    assert [(d.pointer, d.aspect) for d in compare(docs, other)] == [("/[]/{any=1}", "required")]
    fewer = n.node({"type": "array", "items": {"anyOf": [message, message]}})
    assert ("/[]/{any=1}/role", "only-in-catalog") in {(d.pointer, d.aspect)
                                                       for d in compare(docs, fewer)}

    def tool(values: list[str], extra: str) -> dict[str, Any]:
        return {"type": "object", "required": ["type"],
                "properties": {"type": {"type": "string", "enum": values},
                               extra: {"type": "string"}}}

    docs = n.node(oas30_to_2020_12({"oneOf": [tool(["search", "search_v2"], "size"),
                                              tool(["mcp"], "url")]}, {}))
    cases: list[tuple[dict[str, Any], list[str], str]] = [
        ({"enum": ["search", "search_v2"]}, ["search", "search_v2"], "size"),
        ({"const": "mcp"}, ["mcp"], "url")]
    compiled: dict[str, Any] = {
        "type": "object", "required": ["type"], "x-aimlcat-discriminator": "type",
        "properties": {"type": {"enum": ["search", "search_v2", "mcp"]}},
        "allOf": [{"if": {"properties": {"type": cond}, "required": ["type"]},
                   "then": tool(values, extra)} for cond, values, extra in cases]}
    assert list(compare(docs, n.node(compiled))) == []
    compiled["allOf"][0]["then"] = tool(["search", "search_v2"], "sise")
    assert ("/{type=search_v2}/size", "only-in-doc") in {(d.pointer, d.aspect)
                                                        for d in compare(docs, n.node(compiled))}


Edit = Callable[[dict[str, Any], dict[str, Any]], None]


def _edit(path: str, change: Callable[[Any], object]) -> Edit:
    """An edit of the compiled schema ("schema/...") or of defs.json's $defs ("defs/...")."""

    def apply(schema: dict[str, Any], defs: dict[str, Any]) -> None:
        root, *parts = path.split("/")
        node: Any = schema if root == "schema" else defs
        for p in parts:
            node = node[int(p)] if isinstance(node, list) else node[p]
        change(node)

    return apply


# Plausible catalog slips, each with the difference the comparison must report.
# (The defs names are the catalog's; rename them here if the catalog does.)
_DRIFTS: list[tuple[str, str, Edit, tuple[str, str]]] = [
    ("gpt-4o", "/v1/chat/completions",
     _edit("schema/properties/temperature", lambda n: n.update(maximum=1)),
     ("/temperature", "maximum")),
    ("gpt-4o", "/v1/chat/completions",
     _edit("schema/properties/max_completion_tokens", lambda n: n.update(type="number")),
     ("/max_completion_tokens", "type")),
    ("gpt-4o", "/v1/chat/completions",
     _edit("defs/openai_image_part/properties/image_url/properties/detail/enum",
           lambda n: n.remove("auto")),
     ("/messages/[]/{role=user}/content<array>/[]/{type=image_url}/image_url/detail", "enum")),
    ("gpt-4o", "/v1/chat/completions",
     _edit("defs/openai_tool_message/required", lambda n: n.remove("tool_call_id")),
     ("/messages/[]/{role=tool}", "required")),
    ("gpt-4o", "/v1/chat/completions",
     _edit("defs/openai_response_format/allOf", lambda n: n.pop()),
     ("/response_format", "variants")),
    (_KLING, "/v2/video/generations",
     _edit("defs/kling_camera_control/properties/config/properties", lambda n: n.pop("zoom")),
     ("/camera_control/config/zoom", "only-in-doc")),
    ("flux/dev", "/v1/images/generations",
     _edit("schema/properties/image_size/anyOf/1/enum", lambda n: n.append("huge")),
     ("/image_size<string>", "enum")),
]


@pytest.mark.parametrize(("model", "endpoint", "edit", "expected"),
                         [pytest.param(*d, id=":".join(d[3])) for d in _DRIFTS])
def test_comparison_catches_catalog_drift(cat: Catalog, model: str, endpoint: str, edit: Edit,
                                          expected: tuple[str, str]) -> None:
    """Guard the guard: small edits to real compiled schemas surface as the right difference."""
    (row,) = [r for r in ROWS if (r.model, r.endpoint) == (model, endpoint)]
    schema = copy.deepcopy(cat.schema(model, endpoint))
    defs = copy.deepcopy(cat.defs()["$defs"])
    edit(schema, defs)
    drifted = Normaliser(lambda ref: defs[ref.partition("#/$defs/")[2]]).node(schema)
    before = {(d.pointer, d.aspect) for d in compare(doc_node(row), catalog_node(cat, row))}
    after = {(d.pointer, d.aspect) for d in compare(doc_node(row), drifted)}
    assert expected in after - before, sorted(after - before)


# =============================================================================
# 2. Generated payloads
# =============================================================================

_URI_FORMATS = frozenset({"uri", "iri", "uri-reference"})
# Values of the other formats the documents use (aimlcat checks formats).
_FORMAT_SAMPLES: dict[str, Callable[[random.Random], str]] = {
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "date-time": lambda rng: f"2025-01-{rng.randint(10, 28)}T12:30:00Z",
    "date": lambda rng: f"2025-01-{rng.randint(10, 28)}",
    "email": lambda rng: f"user{rng.randrange(1000)}@example.com",
}
_WORDS = ("a", "quiet", "harbour", "at", "dawn", "with", "two", "red", "boats", "mist")

# ("type", t) | ("alt", i) | ("case", v) | ("prop", k) | ("item",) | ("additional",)
Step = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Slot:
    """A value the generator wrote: where it is, and the docs' schema it satisfies."""

    pointer: tuple[str | int, ...]
    steps: tuple[Step, ...]  # schema path from the root to this node (without its type)
    node: Node
    type: str  # the JSON type the generator chose
    facet: Facet  # for a tagged union, the case the generator chose


class BodyGenerator:
    """Builds valid request bodies from the docs' normal form, deterministically.

    Unions rotate through their variants: a variant not produced yet is picked
    first, and an optional property is always included while its subtree holds
    a variant not produced yet, so a handful of bodies covers every variant.
    Arrays of tagged objects get one item per case (a chat with every role)."""

    def __init__(self, root: Node, model_ids: list[str], seed: int) -> None:
        self.root = root
        self.model_ids = model_ids
        self.rng = random.Random(seed)
        self.variants: dict[tuple[int, str], set[str]] = {}
        self.labels: dict[tuple[int, str], str] = {}  # union key -> schema pointer, for messages
        self.seen: dict[tuple[int, str], set[str]] = {}
        self._under: dict[int, frozenset[tuple[int, str]]] = {}
        self._register(root, "")
        self.mode = "random"
        self.slots: list[Slot] = []

    # -- union bookkeeping ---------------------------------------------------
    def _register(self, node: Node, where: str) -> frozenset[tuple[int, str]]:
        keys: set[tuple[int, str]] = set()
        if len(node.types) > 1:
            key = (id(node), "types")
            self.variants[key] = {canon(t) for t in node.types}
            self.labels[key] = where or "/"
            keys.add(key)
        for t, facet in node.types.items():
            keys |= self._register_facet(facet, where + (f"<{t}>" if len(node.types) > 1 else ""))
        self._under[id(node)] = frozenset(keys)
        return self._under[id(node)]

    def _register_facet(self, facet: Facet, where: str) -> frozenset[tuple[int, str]]:
        keys: set[tuple[int, str]] = set()
        if facet.alternatives:
            key = (id(facet), "alternatives")
            self.variants[key] = {canon(i) for i in range(len(facet.alternatives))}
            self.labels[key] = where or "/"
            keys.add(key)
            for i, alt in enumerate(facet.alternatives):
                keys |= self._register_facet(alt, f"{where}/{{any={i}}}")
        if facet.tag is not None:
            key = (id(facet), "cases")
            self.variants[key] = {canon(v) for v in facet.cases}
            self.labels[key] = where or "/"
            keys.add(key)
            for v, case in facet.cases.items():
                keys |= self._register_facet(case, f"{where}/{{{facet.tag}={v}}}")
        children = [("/[]", facet.items), ("/{*}", facet.additional),
                    *((f"/{k}", n) for k, n in facet.properties.items())]
        for suffix, child in children:
            if child is not None:
                keys |= self._register(child, where + suffix)
        self._under[id(facet)] = frozenset(keys)
        return self._under[id(facet)]

    def _pick(self, key: tuple[int, str], options: list[Any],
              leads_to: list[Node | Facet]) -> Any:
        """A variant not produced yet, else one leading to variants not produced
        yet, else any; ``leads_to[i]`` is the schema option ``i`` leads to."""
        done = self.seen.setdefault(key, set())
        ranked = sorted(range(len(options)), key=lambda i: (
            canon(options[i]) in done, not self._uncovered(leads_to[i]), i))
        best = ranked[0]
        if canon(options[best]) in done and not self._uncovered(leads_to[best]):
            best = self.rng.randrange(len(options))
        done.add(canon(options[best]))
        return options[best]

    def _uncovered(self, part: Node | Facet) -> bool:
        return any(self.seen.get(k, set()) != self.variants[k] for k in self._under[id(part)])

    def uncovered_variants(self) -> list[str]:
        return [f"{self.labels[k]}: {sorted(v - self.seen.get(k, set()))}"
                for k, v in self.variants.items() if self.seen.get(k, set()) != v]

    # -- generation ----------------------------------------------------------
    def body(self, mode: str) -> tuple[dict[str, Any], list[Slot]]:
        """One body; ``mode`` is "full" (every optional property), "minimal" or "random"."""
        self.mode, self.slots = mode, []
        value = self._node(self.root, (), ())
        assert isinstance(value, dict)
        return value, self.slots

    def _node(self, node: Node, ptr: tuple[str | int, ...], steps: tuple[Step, ...],
              case: Any = MISSING, alt: tuple[int, ...] = ()) -> Any:
        """A value for ``node``; ``case`` forces the case of a tagged union, ``alt``
        the shape of an untagged one (and of untagged ones nested in it)."""
        if not node.types:
            return "anything"
        names = list(node.types)
        t = (self._pick((id(node), "types"), names, [node.types[n] for n in names])
             if len(names) > 1 else names[0])
        facet = node.types[t]
        typed = (*steps, ("type", t))
        forced = list(alt)
        while facet.alternatives:
            key = (id(facet), "alternatives")
            if forced:
                i = forced.pop(0)
                self.seen.setdefault(key, set()).add(canon(i))
            else:
                shapes: list[Node | Facet] = list(facet.alternatives)
                i = self._pick(key, list(range(len(shapes))), shapes)
            facet = facet.alternatives[i]
            typed = (*typed, ("alt", i))
        if facet.tag is None:
            self.slots.append(Slot(ptr, steps, node, t, facet))
            return self._value(t, facet, ptr, typed)
        key = (id(facet), "cases")
        if case is MISSING:
            case = self._pick(key, list(facet.cases), list(facet.cases.values()))
        else:
            self.seen.setdefault(key, set()).add(canon(case))
        chosen = facet.cases[case]
        self.slots.append(Slot(ptr, steps, node, t, chosen))
        return self._object(chosen, ptr, (*typed, ("case", case)))

    def _value(self, t: str, facet: Facet, ptr: tuple[str | int, ...],
               steps: tuple[Step, ...]) -> Any:
        kw = facet.keywords
        if kw.get("enum"):
            return copy.deepcopy(self.rng.choice(kw["enum"]))
        if t == "null":
            return None
        if t == "boolean":
            return self.rng.choice([True, False])
        if t in ("integer", "number"):
            return self._integer(kw) if t == "integer" else self._number(kw)
        if t == "string":
            if "pattern" in kw:
                return _matching(kw["pattern"], _pointer(ptr))
            if kw.get("format") in _URI_FORMATS:
                return f"https://example.com/assets/{self.rng.randrange(10**6)}.png"
            if kw.get("format") in _FORMAT_SAMPLES:
                return _FORMAT_SAMPLES[kw["format"]](self.rng)
            name = next((p for p in reversed(ptr) if isinstance(p, str)), None)
            if name in _base64_only_fields():
                # aimlcat requires well-formed base64 here (its own rule, see
                # _encoding_rule); the docs only say "a string".
                media = _base64_only_fields()[name]
                return f"data:{media};base64,JVBERi0xLjQK" if media else "JVBERi0xLjQK"
            text = " ".join(self.rng.choice(_WORDS) for _ in range(self.rng.randint(1, 6)))
            text = text.ljust(int(kw.get("minLength", 0)), "x")
            return text[: int(kw.get("maxLength", len(text)))]
        if t == "array":
            return self._array(facet, ptr, steps)
        if t == "object":
            return self._object(facet, ptr, steps)
        raise AssertionError(t)

    def _integer(self, kw: dict[str, Any]) -> int:
        lows = [math.ceil(kw["minimum"])] if "minimum" in kw else []
        lows += [math.floor(kw["exclusiveMinimum"]) + 1] if "exclusiveMinimum" in kw else []
        highs = [math.floor(kw["maximum"])] if "maximum" in kw else []
        highs += [math.ceil(kw["exclusiveMaximum"]) - 1] if "exclusiveMaximum" in kw else []
        lo = max(lows) if lows else (min(highs) - 100 if highs else 1)
        hi = min(highs) if highs else lo + 100
        if self.rng.random() < 0.3:  # boundaries are where bugs live
            return self.rng.choice([lo, hi])
        return self.rng.randint(lo, hi)

    def _number(self, kw: dict[str, Any]) -> int | float:
        inclusive: list[int | float] = [kw[k] for k in ("minimum", "maximum") if k in kw]
        lows = [kw[k] for k in ("minimum", "exclusiveMinimum") if k in kw]
        highs = [kw[k] for k in ("maximum", "exclusiveMaximum") if k in kw]
        lo = float(max(lows)) if lows else (float(min(highs)) - 100 if highs else 0.0)
        hi = float(min(highs)) if highs else lo + 100
        if inclusive and self.rng.random() < 0.3:
            bound = self.rng.choice(inclusive)
            if lo <= bound <= hi and bound not in (kw.get("exclusiveMinimum"),
                                                   kw.get("exclusiveMaximum")):
                return bound
        # Strictly inside, so never on an exclusive bound.
        return round(lo + (hi - lo) * self.rng.uniform(0.05, 0.95), 3)

    def _array(self, facet: Facet, ptr: tuple[str | int, ...], steps: tuple[Step, ...]) -> Any:
        kw, items = facet.keywords, facet.items
        lo = max(int(kw.get("minItems", 0)), 1)
        hi: int | None = kw.get("maxItems")
        if items is None:
            return ["anything"] * lo
        item_steps = (*steps, ("item",))
        union = items.types.get("object")
        if len(items.types) == 1 and union is not None and (union.tag or union.alternatives):
            # One item per case and shape: a chat with every role, a content list
            # with every part, a Responses input with every kind of item.
            shapes = _shapes(union)
            if hi is not None and hi < len(shapes):
                # Fewer items allowed than there are cases: start somewhere else each time.
                start = self.rng.randrange(len(shapes))
                shapes = shapes[start:] + shapes[:start]
            return [self._node(items, (*ptr, i), item_steps, case=case, alt=path)
                    for i, (path, case) in enumerate(shapes[:hi])]
        n = min(self.rng.randint(lo, lo + 1), lo + 1 if hi is None else hi)
        return [self._node(items, (*ptr, i), item_steps) for i in range(n)]

    def _object(self, facet: Facet, ptr: tuple[str | int, ...],
                steps: tuple[Step, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, prop in facet.properties.items():
            if name not in facet.required and (ptr or name != "model"):
                # (aimlcat requires `model` even where a document does not)
                wanted = {"full": True, "minimal": False}.get(self.mode)
                if wanted is None:
                    wanted = self.rng.random() < 0.5 or self._uncovered(prop)
                if not wanted:
                    continue
            if not ptr and name == "model":
                # The docs' enum covers several models; the body is for this row's.
                out[name] = self._pick((id(prop), "model"), self.model_ids,
                                       [prop] * len(self.model_ids))
                continue
            out[name] = self._node(prop, (*ptr, name), (*steps, ("prop", name)))
        if not facet.properties and facet.additional is not None:
            key = str(self.rng.randrange(1000, 99999))  # e.g. a token id for logit_bias
            out[key] = self._node(facet.additional, (*ptr, key), (*steps, ("additional",)))
        return out


# Values for the patterns the documents use (a generator for regular expressions
# would be overkill): the first that matches is taken.
_PATTERN_SAMPLES = ("US", "01/15/2025", "2025-01-15", "12:30", "#1a2b3c", "en", "en-US",
                    "abc", "a1", "1")


def _matching(pattern: str, where: str) -> str:
    for sample in _PATTERN_SAMPLES:
        if re.search(pattern, sample):
            return sample
    raise NotImplementedError(f"{where}: no sample string matches {pattern!r}")


def _shapes(facet: Facet) -> list[tuple[tuple[int, ...], Any]]:
    """Every (untagged-union path, tagged case) a value of ``facet`` can take."""
    if facet.alternatives:
        return [((i, *path), case) for i, alt in enumerate(facet.alternatives)
                for path, case in _shapes(alt)]
    if facet.tag is not None:
        return [((), v) for v in facet.cases]
    return [((), MISSING)]


Body = tuple[dict[str, Any], list[Slot]]


def generate_bodies(row: Row, doc: Node, cat: Catalog, count: int = 5,
                    most: int = 40, *, quick: bool = False) -> tuple[list[Body], BodyGenerator]:
    """``count`` bodies, and more (up to ``most``) while a union variant is still
    unexercised: a document with many unions in optional places needs more.
    ``quick``: :data:`QUICK_BODIES` bodies, whatever they cover."""
    if quick:
        count = most = QUICK_BODIES
    else:
        most = max(most, 120)  # Claude's content blocks need about a hundred
    info = cat.model(row.model)
    # The model's ids the documents name (an alias only the model table gives would
    # make a body no document accepts).
    named = {i for ref in row.docs
             for i in doc_request_schema(ref)["properties"]["model"].get("enum", [])}
    ids = [i for i in (info.id, *info.aliases) if i in named] or [info.id, *info.aliases]
    gen = BodyGenerator(doc, ids, seed=sum(map(ord, row.id)))
    modes = ["full", "minimal", *["random"] * (count - 2)]
    bodies = [gen.body(m) for m in modes]
    while gen.uncovered_variants() and len(bodies) < most:
        bodies.append(gen.body("random"))
    return bodies, gen


def _pointer(parts: tuple[str | int, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _set(body: Any, parts: tuple[str | int, ...], value: Any) -> None:
    node = body
    for p in parts[:-1]:
        node = node[p]
    node[parts[-1]] = value


def _get(body: Any, parts: tuple[str | int, ...]) -> Any:
    node = body
    for p in parts:
        node = node[p]
    return node



def _compiled_at(root: Node, steps: tuple[Step, ...]) -> Node | None:
    """The compiled node at a docs schema path (through the same branch of an untagged
    union), or None when it is unreachable."""
    node: Node | None = root
    facet: Facet | None = None
    for step in steps:
        kind = step[0]
        if kind == "type":
            if node is None:
                return None
            facet = node.types.get(step[1])
            if facet is None and step[1] == "integer":
                facet = node.types.get("number")
        elif facet is None:
            return None
        elif kind == "alt":
            if step[1] >= len(facet.alternatives):
                return None
            facet = facet.alternatives[step[1]]
        elif kind == "case":
            if facet.tag is not None:
                facet = facet.cases.get(step[1])
        elif kind == "prop":
            node, facet = facet.properties.get(step[1]), None
        elif kind == "item":
            node, facet = facet.items, None
        elif kind == "additional":
            node, facet = facet.additional, None
    return node


MUTATIONS = ("unknown_key", "out_of_range", "wrong_type", "drop_required", "bad_enum")
_EXPECTED_CODE = {"unknown_key": "AML301", "out_of_range": "AML402", "wrong_type": "AML401",
                  "drop_required": "AML404", "bad_enum": "AML403"}
_WRONG_VALUES: tuple[tuple[str, Any], ...] = (
    ("string", "wrong-type"), ("integer", 12345), ("object", {"wrong": "type"}),
    ("array", ["wrong-type"]),
)


def _out_of_range(slot: Slot) -> int | float | None:
    """A number of the right type just outside the slot's range."""
    kw = slot.facet.keywords
    if slot.type not in ("integer", "number") or "enum" in kw:
        return None
    step = 1 if slot.type == "integer" else 0.5
    for key, delta in (("maximum", step), ("exclusiveMaximum", 0),
                       ("minimum", -step), ("exclusiveMinimum", 0)):
        if key in kw:
            bound: int | float = kw[key]
            return bound + delta
    return None


def _bad_enum(slot: Slot) -> Any:
    """A value of the right type that is not one of the slot's choices."""
    enum = slot.facet.keywords.get("enum")
    if not enum:
        return None
    if slot.type == "string":
        return "not-one-of-the-choices"
    if slot.type in ("integer", "number"):
        return max(enum) + (1 if slot.type == "integer" else 1.5)
    return None


def _wrong_type(slot: Slot) -> Any:
    """A value of a JSON type the slot does not take."""
    if "enum" in slot.facet.keywords:
        # Left to bad_enum: a tag is checked by enum only (an if/then picks the
        # case), and jsonschema-rs folds `type` into `enum` when every choice has
        # that type, so a wrong type there reads as a bad value (AML403), fairly.
        return None
    accepted = set(slot.node.types) | ({"integer"} if "number" in slot.node.types else set())
    return next((v for t, v in _WRONG_VALUES if t not in accepted), None)


def _required_to_drop(slot: Slot, body: dict[str, Any], rng: random.Random) -> str | None:
    """A required key of the object at the slot (never the body's `model`)."""
    value = _get(body, slot.pointer)
    if slot.type != "object" or not isinstance(value, dict):
        return None
    keys = sorted(k for k in slot.facet.required if k in value and (slot.pointer or k != "model"))
    return rng.choice(keys) if keys else None


def schema_pointer(root: Node, slot: Slot) -> str:
    """The schema pointer (as :func:`compare` spells it) of the docs node a slot filled."""
    out, facet = _walk(root, (*slot.steps, ("type", slot.type)))
    if facet.tag is not None:
        # A tagged union: the slot is the case the generator chose.
        case = next(v for v, f in facet.cases.items() if f is slot.facet)
        out += f"/{{{facet.tag}={case}}}"
    return out


def _walk(root: Node, steps: tuple[Step, ...]) -> tuple[str, Facet]:
    """Follow a generator's schema path (ending in a type step) through the docs' normal form."""
    out = ""
    node: Node | None = root
    facet: Facet | None = None
    for step in steps:
        kind = step[0]
        if kind == "type":
            assert node is not None
            if len(node.types) > 1:
                out += f"<{step[1]}>"
            facet = node.types[step[1]]
        elif kind == "alt":
            assert facet is not None
            out += f"/{{any={step[1]}}}"
            facet = facet.alternatives[step[1]]
        elif kind == "case":
            assert facet is not None
            if facet.tag is not None:
                out += f"/{{{facet.tag}={step[1]}}}"
                facet = facet.cases[step[1]]
        else:
            assert facet is not None
            if kind == "prop":
                node, out = facet.properties[step[1]], f"{out}/{step[1]}"
            elif kind == "item":
                node, out = facet.items, out + "/[]"
            else:
                node, out = facet.additional, out + "/{*}"
            facet = None
    assert facet is not None
    return out, facet


# The structural aspects each mutation probes: a deliberate difference listed in
# EXCEPTIONS for that aspect at that place exempts the place from the mutation.
_PROBES = {"drop_required": ("required",), "bad_enum": ("enum",), "wrong_type": ("type",),
           "out_of_range": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")}

Exempt = Callable[[str, str], bool]  # (schema pointer, aspect) -> an EXCEPTIONS entry covers it


def mutate(kind: str, body: dict[str, Any], slots: list[Slot], compiled: Node,
           rng: random.Random, doc: Node | None = None,
           exempt: Exempt | None = None) -> tuple[dict[str, Any], str] | None:
    """``body`` with one defect of ``kind``, and the pointer the finding must carry;
    None when the body has no place for that defect."""
    out = copy.deepcopy(body)
    if kind == "unknown_key":
        out["zz_not_a_parameter"] = 1
        return out, "/zz_not_a_parameter"
    eligible: list[tuple[Slot, Any]] = []
    for s in slots:
        if s.pointer == ("model",) or (not s.pointer and kind != "drop_required"):
            continue  # model defects are AML101/AML102, tested elsewhere
        if _compiled_at(compiled, s.steps) is None:
            continue
        if exempt is not None and doc is not None:
            where = schema_pointer(doc, s)
            if any(exempt(where, aspect) for aspect in _PROBES[kind]):
                continue
        if kind == "drop_required":
            value = _required_to_drop(s, body, rng)
        else:
            value = {"out_of_range": _out_of_range, "bad_enum": _bad_enum,
                     "wrong_type": _wrong_type}[kind](s)
        if value is not None:
            eligible.append((s, value))
    if not eligible:
        return None
    slot, value = rng.choice(eligible)
    if kind == "drop_required":
        del _get(out, slot.pointer)[value]
        return out, _pointer((*slot.pointer, value))
    _set(out, slot.pointer, value)
    return out, _pointer(slot.pointer)


def generation_doc(cat: Catalog, row: Row) -> Node:
    """The docs' normal form to generate bodies from: where an EXCEPTIONS entry says the
    catalog deliberately takes fewer JSON types than the docs, those types are left out."""

    def exempt(pointer: str) -> bool:
        return _allowed(row, Difference(pointer, "type", None, None)) is not None

    return _prune_types(doc_node(row), catalog_node(cat, row), exempt, "")


def _prune_types(doc: Node, cat: Node | None, exempt: Callable[[str], bool],
                 ptr: str) -> Node:
    if cat is None or not cat.types:
        return doc
    multi = len(set(doc.types) | set(cat.types)) > 1
    kept = {t: f for t, f in doc.types.items()
            if t in cat.types or (t == "integer" and "number" in cat.types) or not exempt(ptr)}
    types = {t: _prune_facet(f, cat.types.get(t), exempt, ptr + (f"<{t}>" if multi else ""))
             for t, f in (kept or doc.types).items()}
    if all(types[t] is doc.types[t] for t in types) and len(types) == len(doc.types):
        return doc
    return Node(types=types, default=doc.default, deprecated=doc.deprecated, opaque=doc.opaque)


def _prune_facet(doc: Facet, cat: Facet | None, exempt: Callable[[str], bool],
                 ptr: str) -> Facet:
    if cat is None or doc.alternatives or doc.tag is not None or cat.tag is not None:
        return doc
    props = {k: _prune_types(n, cat.properties.get(k), exempt, f"{ptr}/{k}")
             for k, n in doc.properties.items()}
    items = (_prune_types(doc.items, cat.items, exempt, ptr + "/[]")
             if doc.items is not None else None)
    if items is doc.items and all(props[k] is doc.properties[k] for k in props):
        return doc
    return Facet(keywords=doc.keywords, items=items, properties=props, required=doc.required,
                 closed=doc.closed, additional=doc.additional)


def _endpoint_spellings(row: Row, cat: Catalog) -> list[str]:
    """The row's endpoint as each document spells it (e.g. `/chat/completions` too)."""
    spellings = list(dict.fromkeys(ref.path for ref in row.docs))
    assert all(cat.canonical_endpoint(s) == row.endpoint for s in spellings), spellings
    return spellings


@pytest.mark.parametrize("row", _params(SHAPES, "payloads"))
def test_generated_bodies_are_accepted(cat: Catalog, row: Row) -> None:
    check_generated_bodies(cat, row, quick=True)


@pytest.mark.parametrize("row", _params(ROWS, "payloads", _FULL))
def test_generated_bodies_are_accepted_full(cat: Catalog, row: Row) -> None:
    check_generated_bodies(cat, row, quick=False)


def check_generated_bodies(cat: Catalog, row: Row, *, quick: bool) -> None:
    bodies, gen = generate_bodies(row, generation_doc(cat, row), cat, quick=quick)
    missed = gen.uncovered_variants()
    assert quick or not missed, f"union variants no generated body exercised: {missed}"
    sources = [jsonschema.Draft202012Validator(doc_request_schema(ref)) for ref in row.docs]
    validator = cat.validator(row.model, row.endpoint)
    removed_model = row.removed
    spellings = _endpoint_spellings(row, cat)
    for i, (body, _) in enumerate(bodies):
        # The generator is right: the body is valid under at least one source document
        # (a removed model's unreviewed union of pages may mix them: EXCEPTIONS).
        assert row.removed or any(v.is_valid(body) for v in sources), (i, body)
        assert validator.is_valid(body), (i, body, [e.message for e in validator.iter_errors(body)])
        report = cat.validate(body, endpoint=spellings[i % len(spellings)])
        if removed_model:
            # The validator stops at the model; the schema was checked above.
            assert [f.code for f in report.findings] == ["AML103"], report.findings
        else:
            assert report.ok, (i, body, [f.to_dict() for f in report.errors])


@pytest.mark.parametrize("row", _params(SHAPES, "mutations"))
def test_mutated_bodies_are_rejected(cat: Catalog, row: Row) -> None:
    check_mutated_bodies(cat, row, quick=True)


@pytest.mark.parametrize("row", _params(ROWS, "mutations", _FULL))
def test_mutated_bodies_are_rejected_full(cat: Catalog, row: Row) -> None:
    check_mutated_bodies(cat, row, quick=False)


def check_mutated_bodies(cat: Catalog, row: Row, *, quick: bool) -> None:
    doc, compiled = generation_doc(cat, row), catalog_node(cat, row)
    bodies, _ = generate_bodies(row, doc, cat, quick=quick)
    rng = random.Random(sum(map(ord, row.id)) + 1)
    validator = cat.validator(row.model, row.endpoint)
    # (a defect inside one shape of an untagged union can make the value another shape)
    sources = [jsonschema.Draft202012Validator(doc_request_schema(ref)) for ref in row.docs]
    removed_model = row.removed
    applied: set[str] = set()
    problems: list[str] = []
    def exempt(pointer: str, aspect: str) -> bool:
        return _allowed(row, Difference(pointer, aspect, None, None)) is not None

    for i, (body, slots) in enumerate(bodies):
        for kind in MUTATIONS:
            mutated = mutate(kind, body, slots, compiled, rng, doc, exempt)
            if mutated is None:
                continue
            applied.add(kind)
            bad, ptr = mutated
            code = _EXPECTED_CODE[kind]
            if any(v.is_valid(bad) for v in sources):
                continue  # still a valid body, in another shape of a union
            if removed_model:
                # Findings stop at AML103; the compiled schema must still say no.
                if validator.is_valid(bad):
                    problems.append(f"body {i} {kind} at {ptr}: schema accepts {bad}")
                continue
            found = [(f.code, f.pointer) for f in cat.validate(bad, endpoint=row.endpoint).findings]
            if (code, ptr) in found:
                continue
            # Inside an untagged union the finding is in the shape the value points to
            # (mutating one shape's slot can leave the value closer to another one): the
            # place must be right, and the code is the chosen shape's. A member dropped
            # where shapes fit alike (a tool without its `type` is also a custom tool
            # without `input_schema`) is the union's error, naming what each would need.
            parent = ptr.rsplit("/", 1)[0]
            in_union = any(step[0] == "alt" for slot in slots for step in slot.steps
                           if _pointer(slot.pointer) in (ptr, parent))
            if in_union and (any(p == ptr and c.startswith("AML40") for c, p in found)
                             or (kind == "drop_required" and ("AML408", parent) in found)):
                continue
            problems.append(f"body {i} {kind}: want {code} at {ptr}, got {found}")
    assert not problems, "\n".join(problems)
    # Every row has an unknown key to add and a wrong type to send; required
    # fields (besides `model`), ranges and enums depend on the model.
    assert {"unknown_key", "wrong_type"} <= applied, applied


# =============================================================================
# 3. Removed and deprecated facts
# =============================================================================


def _codes(report: Any) -> list[tuple[str, str]]:
    return [(f.code, f.pointer) for f in report.findings]


def test_kling_aspect_ratio_removed_on_universal_endpoint(cat: Catalog) -> None:
    body = {"model": _KLING, "image_url": "https://example.com/a.png", "prompt": "a boat",
            "aspect_ratio": "16:9"}
    report = cat.validate(body, endpoint="/v2/video/generations")
    hits = [f for f in report.findings if f.code == "AML303" and f.pointer == "/aspect_ratio"]
    assert hits, _codes(report)
    assert "2025-08-19" in hits[0].message
    assert hits[0].fix == {"op": "remove", "path": "/aspect_ratio"}


@pytest.mark.parametrize("param", ["ratio", "aspect_ratio"])
def test_kling_ratio_deprecated_on_legacy_endpoint(cat: Catalog, param: str) -> None:
    body = {"model": _KLING, "image_url": "https://example.com/a.png", "prompt": "a boat",
            param: "16:9"}
    report = cat.validate(body, endpoint="/v2/generate/video/kling/generation")
    assert ("AML302", f"/{param}") in _codes(report)
    assert report.ok  # deprecated (and the legacy endpoint) are warnings


def test_gpt4o_max_tokens_deprecated_with_move_fix(cat: Catalog) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 64}
    report = cat.validate(body, endpoint="/v1/chat/completions")
    (hit,) = [f for f in report.findings if f.code == "AML302"]
    assert hit.pointer == "/max_tokens"
    assert hit.fix == {"op": "move", "from": "/max_tokens", "path": "/max_completion_tokens"}
    assert report.apply_fixes(body)["max_completion_tokens"] == 64


def test_dall_e_3_is_removed(cat: Catalog) -> None:
    report = cat.validate({"model": "dall-e-3", "prompt": "a boat"},
                          endpoint="/v1/images/generations")
    assert _codes(report) == [("AML103", "/model")]
    (listed,) = [m for m in _models_json()["models"] if "dall-e-3" in m["ids"]]
    assert cat.model("dall-e-3").status_since == listed["deprecated_listed_on"]


# Deprecations the catalog states where the documents mark nothing, by developer and
# parameter: the structure test lets the catalog deprecate ahead of the docs, and only
# these are meant (the hint and fix speak for that developer's API).
AHEAD_OF_DOCS: dict[tuple[str, str], str] = {
    ("OpenAI", "max_tokens"): "OpenAI's API reference deprecates `max_tokens` in favour of "
    "`max_completion_tokens`; the gateway's OpenAI pages list both unmarked",
}


def test_deprecations_ahead_of_the_docs_are_deliberate(cat: Catalog) -> None:
    """A parameter the catalog deprecates while no document of its row does is one of
    :data:`AHEAD_OF_DOCS`. The `openai-chat` family deprecates `max_tokens`; a model of
    another developer imported with that family must say `deprecated: null`, or lint warns
    on (and `--fix` rewrites) a key its documents give as the output limit."""
    wrong = []
    for row in ROWS:
        if row.removed:
            continue
        marked = {k for ref in row.docs
                  for k, v in doc_request_schema(ref).get("properties", {}).items()
                  if isinstance(v, dict) and v.get("deprecated")}
        developer = cat.model(row.model).developer
        for param, summary in cat.model_record(row.model)["endpoints"][row.endpoint][
                "parameters"].items():
            if (summary.get("deprecated") and param not in marked
                    and (developer, param) not in AHEAD_OF_DOCS):
                wrong.append((row.id, param, developer))
    assert not wrong, f"deprecated in the catalog, not in the documents: {wrong}"


@cache
def _models_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DOCS / "models.json").read_text(encoding="utf-8"))
    return data


@cache
def _history() -> dict[str, list[dict[str, Any]]]:
    models: dict[str, list[dict[str, Any]]] = json.loads(
        (DOCS / "history.json").read_text(encoding="utf-8"))["models"]
    return models


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id) for r in ROWS])
def test_removed_and_deprecated_dates_match_docs_history(cat: Catalog, row: Row) -> None:
    """Each removal (and each dated deprecation) the catalog states for this row is
    an event in the docs' history of one of the row's documents, on that date; and a
    removed parameter is rejected with AML303 naming the date."""
    # The history is kept per id as the documents spell it: an alias's events are
    # the model's (google/imagen4/preview's page is imagen4/preview's).
    events = [e for i in (row.model, *cat.model(row.model).aliases)
              for e in _history().get(i, [])]
    files = {ref.file for ref in row.docs}
    ep = cat.model_record(row.model)["endpoints"][row.endpoint]
    for param, info in ep.get("removed", {}).items():
        dates = sorted(e["date"] for e in events if e["change"] == "parameter-removed"
                       and e.get("parameter") == param and e["file"] in files)
        assert dates, f"{row.id}: no docs history for the removal of {param}"
        assert info.get("since") == dates[-1], (param, info, dates)
        body = {"model": row.model, param: 1}
        found = [f for f in cat.validate(body, endpoint=row.endpoint).findings
                 if f.code == "AML303" and f.pointer == f"/{param}"]
        assert found and dates[-1] in found[0].message, param
    for param, summary in ep["parameters"].items():
        since = (summary.get("deprecated") or {}).get("since")
        if since:
            seen = {e["date"] for e in events if e["change"] == "parameter-deprecated"
                    and e.get("parameter") == param and e["file"] in files}
            assert since in seen, (row.id, param, since, seen)
