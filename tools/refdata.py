"""Read the gateway's reference data (``../shared/reference``) for catalog maintenance.

Used by the generators under ``tools/`` and by the completeness tests. Nothing
here is copied into the repository: the reference files are read at run time,
and every function returns facts (ids, dates, document paths).

The spelling rule (docs/catalog.md, "Ids and aliases") is :func:`spelling_key`:
two ids that differ only in what the key throws away are one model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"
DOCS = REFERENCE / "aimlapi-docs"


def available() -> bool:
    return (DOCS / "models.json").is_file()


@cache
def models_json() -> dict[str, Any]:
    return json.loads((DOCS / "models.json").read_text("utf-8"))  # type: ignore[no-any-return]


@cache
def history() -> dict[str, list[dict[str, Any]]]:
    return json.loads((DOCS / "history.json").read_text("utf-8"))["models"]  # type: ignore[no-any-return]


@cache
def removed_parameters() -> dict[str, dict[str, str]]:
    return json.loads(  # type: ignore[no-any-return]
        (DOCS / "removed-parameters.json").read_text("utf-8"))["models"]


# -- table ids ------------------------------------------------------------------

def clean_table_id(raw: str) -> list[str]:
    """The ids a table cell really names.

    The table has typing leftovers: a trailing comma (``o1-preview,``), two
    spellings joined by " or " (``google/gemini-pro or gemini-pro``), a
    dangling " or" (``deepseek-chat or``) and a bare ``-`` where no id was
    given. Returns the clean ids (none for ``-``)."""
    out = []
    for part in re.split(r"\s+or\s+|\s+or$|,", raw.strip()):
        part = part.strip()
        if part and part != "-":
            out.append(part)
    return out


@dataclass
class Row:
    """One row of the docs' model table, with its ids cleaned."""

    raw_ids: list[str]
    ids: list[str]
    developer: str
    category: str
    status: str
    context_window: int | None
    listed_on: str | None
    openapi: list[str]
    docs_page: str | None
    extra: dict[str, Any] = field(default_factory=dict)


@cache
def rows() -> tuple[Row, ...]:
    out = []
    for m in models_json()["models"]:
        ids: list[str] = []
        for raw in m["ids"]:
            for i in clean_table_id(raw):
                if i not in ids:
                    ids.append(i)
        out.append(Row(raw_ids=list(m["ids"]), ids=ids, developer=m["developer"],
                       category=m["category"], status=m["status"],
                       context_window=m.get("context_window"),
                       listed_on=m.get("deprecated_listed_on"),
                       openapi=[o.removeprefix("openapi/") for o in m["openapi"]],
                       docs_page=m.get("docs_page")))
    return tuple(out)


def table_ids(status: str) -> set[str]:
    """Raw table ids of the rows with this status (``active`` or ``deprecated``)."""
    return {i for m in models_json()["models"] if m["status"] == status for i in m["ids"]}


def spec_ids() -> dict[str, list[str]]:
    return models_json()["spec_model_ids"]  # type: ignore[no-any-return]


# -- spelling -------------------------------------------------------------------

_PREFIX = re.compile(r"^#?g1_")


def spelling_key(model_id: str) -> str:
    """What two spellings of one id have in common.

    Dropped: case, the gateway's ``#g1_`` prefix, a vendor prefix (the first
    path segment, when there is more than one), and the difference between
    ``.``, ``_``, ``/`` and ``-`` (``v5.5/image-to-video`` = ``v5-5-image-to-video``).
    Kept: every letter and digit, so a dated snapshot (``-20240620``) or a
    size (``14b``/``a14b``) never matches another model."""
    s = _PREFIX.sub("", model_id.strip().lower())
    if "/" in s:
        s = s.split("/", 1)[1]
    return re.sub(r"[._/\s-]+", "-", s).strip("-")


@cache
def _doc_keys() -> dict[str, tuple[str, ...]]:
    keys: dict[str, list[str]] = {}
    for did in spec_ids():
        keys.setdefault(spelling_key(did), []).append(did)
    return {k: tuple(sorted(v)) for k, v in keys.items()}


@cache
def voice_enums() -> dict[str, tuple[str, ...]]:
    """Doc id -> the ``voice`` enum of its text-to-speech documents."""
    out: dict[str, set[str]] = {}
    for did, files in spec_ids().items():
        for f in files:
            for body in request_bodies(f.removeprefix("openapi/")):
                voice = body.get("properties", {}).get("voice", {})
                if isinstance(voice, dict) and voice.get("enum"):
                    out.setdefault(did, set()).update(map(str, voice["enum"]))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def doc_spellings(table_id: str) -> list[str]:
    """Document ids that are spellings of ``table_id`` by the rule.

    Besides :func:`spelling_key` equality, a table id that is a documented
    text-to-speech id plus one of its voices and a language tag
    (``#g1_aura-2-thalia-en`` for ``deepgram/aura-2`` with voice ``thalia``)
    is a spelling of that id: the table lists each voice, the documents take
    the voice as a parameter."""
    key = spelling_key(table_id)
    found = list(_doc_keys().get(key, ()))
    if table_id in spec_ids() and table_id not in found:
        found.append(table_id)
    if found:
        return sorted(found)
    for did, voices in voice_enums().items():
        base = spelling_key(did)
        m = re.fullmatch(re.escape(base) + r"-([a-z]+)-[a-z]{2}", key)
        if m and m.group(1) in voices:
            found.append(did)
    return sorted(found)


# -- documents --------------------------------------------------------------------

@cache
def load_document(rel: str) -> dict[str, Any]:
    """A document by its path under ``openapi/`` (or ``removed-openapi/``, prefixed so)."""
    path = DOCS / rel if rel.startswith("removed-openapi/") else DOCS / "openapi" / rel
    return json.loads(path.read_text("utf-8"))  # type: ignore[no-any-return]


def _deref(doc: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        node = doc.get("components", {}).get("schemas", {}).get(node["$ref"].split("/")[-1], {})
        seen += 1
    return node


def request_bodies(rel: str) -> list[dict[str, Any]]:
    """The top-level request-body schemas of a document's POST operations ($ref followed)."""
    return [body for _path, body in body_endpoints(rel)]


def body_endpoints(rel: str) -> list[tuple[str, dict[str, Any]]]:
    """(path, request-body schema) for each POST operation of a document."""
    doc = load_document(rel)
    out = []
    for path, ops in doc.get("paths", {}).items():
        op = ops.get("post") if isinstance(ops, dict) else None
        if not isinstance(op, dict):
            continue
        for content in op.get("requestBody", {}).get("content", {}).values():
            schema = _deref(doc, content.get("schema", {}))
            if isinstance(schema, dict):
                props = {k: _deref(doc, v) for k, v in schema.get("properties", {}).items()}
                out.append((path, {**schema, "properties": props}))
    return out


@cache
def removed_documents() -> dict[str, tuple[str, ...]]:
    """Model id -> the deleted documents (``removed-openapi/...``) whose model enum names it."""
    out: dict[str, list[str]] = {}
    for path in sorted((DOCS / "removed-openapi").rglob("*.json")):
        rel = path.relative_to(DOCS).as_posix()
        for body in request_bodies(rel):
            model = body.get("properties", {}).get("model", {})
            for mid in model.get("enum", []) if isinstance(model, dict) else []:
                out.setdefault(str(mid), []).append(rel)
    return {k: tuple(v) for k, v in out.items()}


def deprecated_flags() -> Iterable[tuple[str, str, str]]:
    """(model id, parameter, document) for every top-level ``deprecated: true`` in the documents."""
    for mid, files in sorted(spec_ids().items()):
        for f in files:
            rel = f.removeprefix("openapi/")
            for body in request_bodies(rel):
                for pname, spec in body.get("properties", {}).items():
                    if isinstance(spec, dict) and spec.get("deprecated") is True:
                        yield mid, pname, rel


# -- document ids of removed models ---------------------------------------------------

@cache
def _table_keys() -> dict[str, frozenset[tuple[str, bool]]]:
    """Spelling key -> (model id, removed?) of the table rows that spell it.

    A row's model is its first clean id; an id in both tables counts as the
    model docs/decisions/ids.yaml (``both_tables``) says it is."""
    both = id_decisions().get("both_tables") or {}
    out: dict[str, set[tuple[str, bool]]] = {}
    for r in rows():
        for i in r.ids:
            removed = r.status == "deprecated"
            owner = r.ids[0]
            if i in both:
                removed, owner = both[i]["status"] == "removed", i
            out.setdefault(spelling_key(i), set()).add((owner, removed))
    return {k: frozenset(v) for k, v in out.items()}


@cache
def removed_document_ids() -> dict[str, tuple[str, ...]]:
    """Document ids that the table never spells and whose documents name only removed models.

    Such an id is removed too: a spelling or snapshot of one of those models
    (an alias), or a model of its own that only their documents list. Returns
    id -> the removed table models its documents name (for the review in
    docs/decisions/ids.yaml, ``removed_document_ids``)."""
    keys = _table_keys()
    out: dict[str, tuple[str, ...]] = {}
    for did, files in sorted(spec_ids().items()):
        if spelling_key(did) in keys:
            continue
        named: set[tuple[str, bool]] = set()
        for f in files:
            for body in request_bodies(f.removeprefix("openapi/")):
                model = body.get("properties", {}).get("model", {})
                for other in model.get("enum", []) if isinstance(model, dict) else []:
                    named |= keys.get(spelling_key(str(other)), frozenset())
        if named and all(removed for _m, removed in named):
            out[did] = tuple(sorted(m for m, _r in named))
    return out


# -- live ids without a document ---------------------------------------------------

def _page(p: str | None) -> str:
    return (p or "").lower().removesuffix(".md")


@dataclass(frozen=True)
class Resolution:
    """How a live table id that no document spells is resolved.

    ``how`` is ``artifact`` (not an id: table typing; ``targets`` are the ids
    meant), ``spelling`` (``targets``: the document id it spells, rules R2/R3),
    ``page`` (its row points at the docs page of another row, which documents
    ``targets``; rule R4), ``reviewed`` (an alias decided by hand in
    docs/decisions/ids.yaml) or ``undocumented``."""

    table_id: str
    how: str
    targets: tuple[str, ...] = ()
    reason: str = ""


@cache
def id_decisions() -> dict[str, Any]:
    import yaml

    path = REPO / "docs" / "decisions" / "ids.yaml"
    return yaml.safe_load(path.read_text("utf-8"))  # type: ignore[no-any-return]


def undocumented_live_ids() -> list[str]:
    """Live table ids (not also listed as removed) that no document's model enum names."""
    live = table_ids("active") - table_ids("deprecated")
    return sorted(i for i in live if i not in spec_ids())


def resolve_live_id(table_id: str) -> Resolution:
    clean = clean_table_id(table_id)
    if clean != [table_id]:
        return Resolution(table_id, "artifact", tuple(clean),
                          "table typing around an id, not an id the gateway takes")
    found = doc_spellings(table_id)
    if found:
        return Resolution(table_id, "spelling", tuple(found))
    row = next(r for r in rows() if table_id in r.raw_ids)
    if row.docs_page:
        for other in rows():
            if other is not row and other.openapi and _page(other.docs_page) == _page(row.docs_page):
                return Resolution(table_id, "page", (other.ids[0],),
                                  f"its row and {other.ids[0]}'s point at one docs page, "
                                  "whose document names only the other id")
    reviewed = (id_decisions().get("reviewed_aliases") or {}).get(table_id)
    if reviewed:
        return Resolution(table_id, "reviewed", (reviewed["alias_of"],), reviewed["reason"])
    return Resolution(table_id, "undocumented")
