"""Compile the catalog records to JSON Schema (Draft 2020-12) and the runtime index.

Output (all under ``schemas/``, deterministic, committed):

- ``defs.json``: every shared definition as ``$defs``;
- ``models/<slug>/<endpoint>.json``: one closed object schema per model × endpoint,
  whose ``$ref`` s point into ``defs.json`` by relative URI;
- ``index.json``: what the validator needs without touching a schema (ids,
  aliases, status, endpoints, a summary of each parameter, deprecations,
  removals, synonyms). The runtime loads this one file at start-up. Parameter
  summaries that several model × endpoint pairs share are written once
  (``parameter_sets``) and referred to by position.

Tagged unions (``variants`` + ``discriminator``) compile to ``if``/``then``
pairs keyed on the discriminator, not ``oneOf``: every engine then reports a
bad value inside the chosen variant, at its real location.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ._exceptions import CatalogError, CatalogProblem
from ._loader import discriminator_values
from ._records import Catalog, Deprecation, Endpoint, Legacy, Model, ModelEndpoint, Spec

__all__ = ["SCHEMA_BASE", "compile_catalog", "diff_schemas", "dumps", "write_schemas"]

SCHEMA_BASE = "https://aimlcat.invalid/schemas/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
INDEX_FORMAT = 2

# Keywords copied as they are: the catalog uses JSON Schema's own names for them.
_PLAIN = ("type", "enum", "const", "default", "examples", "minimum", "maximum",
          "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
          "pattern", "format", "minItems", "maxItems", "uniqueItems")


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "_"


class _Compiler:
    def __init__(self, catalog: Catalog, defs_ref: str) -> None:
        self.cat = catalog
        self.defs_ref = defs_ref

    def spec(self, spec: Spec) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "description" in spec:
            out["description"] = spec["description"].strip()
        if "ref" in spec:
            out["$ref"] = f"{self.defs_ref}#/$defs/{spec['ref']}"
        for k in _PLAIN:
            if k in spec:
                out[k] = spec[k]
        if "items" in spec:
            out["items"] = self.spec(spec["items"])
        if "properties" in spec:
            out["properties"] = {k: self.spec(v) for k, v in spec["properties"].items()}
            req = [k for k, v in spec["properties"].items() if v.get("required")]
            if req:
                out["required"] = req
        if "additionalProperties" in spec:
            ap = spec["additionalProperties"]
            out["additionalProperties"] = ap if isinstance(ap, bool) else self.spec(ap)
        if "any_of" in spec:
            out["anyOf"] = [self.spec(v) for v in spec["any_of"]]
        if "variants" in spec:
            out.update(self.union(spec))
        if spec.get("encodings"):
            out.update(_encoded(spec))
        if spec.get("deprecated"):
            out["deprecated"] = True
            out["x-aimlcat-deprecated"] = Deprecation.from_dict(spec["deprecated"]).to_dict()
        if spec.get("nullable"):
            out = _nullable(out)
        return out

    def union(self, spec: Spec) -> dict[str, Any]:
        disc = spec["discriminator"]
        all_values: list[Any] = []
        branches = []
        for variant in spec["variants"]:
            values = discriminator_values(variant, disc, self.cat.definitions)
            all_values.extend(values)
            cond: dict[str, Any] = {"const": values[0]} if len(values) == 1 else {"enum": values}
            branches.append({"if": {"properties": {disc: cond}, "required": [disc]},
                             "then": self.spec(variant)})
        return {
            "type": "object",
            "required": [disc],
            "properties": {disc: {"enum": all_values}},
            "allOf": branches,
            "x-aimlcat-discriminator": disc,
        }


# Well-formed base64: groups of four, with the padding rules of RFC 4648.
_B64 = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"


def _encoded(spec: Spec) -> dict[str, Any]:
    """Keywords for a value that may carry base64 data (a data URL, or raw base64).

    The rules become a ``pattern`` (and a ``maxLength`` for ``max_bytes``), so
    the engine checks them on the valid path with no Python walk; the
    ``x-aimlcat-*`` annotations let the validator explain a failure."""
    enc = list(spec["encodings"])
    out: dict[str, Any] = {"x-aimlcat-encodings": enc}
    if "base64" not in enc:
        return out
    types = spec.get("media_types")
    media = "(?:" + "|".join(re.escape(t) for t in types) + ")" if types else r"[\w.+-]+/[\w.+*-]+"
    data_url = f"data:{media};base64,{_B64}$"
    if "url" in enc:
        # Anything that is not a data URL is left to `format: uri`.
        out["pattern"] = f"^(?!data:)|^{data_url}"
    else:
        out["pattern"] = f"^(?:{data_url[:-1]}|{_B64})$"
    if types:
        out["x-aimlcat-media-types"] = list(types)
    if spec.get("max_bytes"):
        n = spec["max_bytes"]
        longest = max((len(t) for t in types), default=100) if types else 100
        out["maxLength"] = -(-n // 3) * 4 + len("data:;base64,") + longest
        out["x-aimlcat-max-bytes"] = n
    return out


_OUTER = ("description", "default", "deprecated", "x-aimlcat-deprecated")


def _nullable(out: dict[str, Any]) -> dict[str, Any]:
    """``out`` that also accepts null.

    A plain type gains "null" (and an enum gains None). A union, a reference or
    an untyped schema is wrapped as anyOf [null, it]: adding "null" to a
    union's type would let null slip past its if/then branches, or be
    overwritten by them."""
    t = out.get("type")
    if t is not None and not {"anyOf", "allOf", "$ref"} & out.keys():
        out["type"] = [t, "null"] if isinstance(t, str) else list(dict.fromkeys([*t, "null"]))
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    outer = {k: out.pop(k) for k in _OUTER if k in out}
    return {**outer, "anyOf": [{"type": "null"}, out]}


def _legacy(legacy: Legacy, endpoints: dict[str, Endpoint]) -> dict[str, Any]:
    return {"since": legacy.since, "replaced_by": endpoints[legacy.replaced_by].path,
            "hint": legacy.hint}


def _summary(spec: Spec, definitions: dict[str, Spec]) -> dict[str, Any]:
    """What the index keeps of a top-level parameter (enough for queries and hints)."""
    out: dict[str, Any] = {}
    t = spec.get("type")
    if t is None and "ref" in spec:
        t = definitions.get(spec["ref"], {}).get("type")
    if t is not None:
        out["type"] = t
    if "ref" in spec:
        out["shape"] = spec["ref"]
    for k in ("enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "format",
              "default"):
        if k in spec:
            out[k] = spec[k]
    if spec.get("nullable"):
        out["nullable"] = True
    if spec.get("required"):
        out["required"] = True
    if spec.get("deprecated"):
        out["deprecated"] = Deprecation.from_dict(spec["deprecated"]).to_dict()
    return out


def _model_schema(c: _Compiler, m: Model, me: ModelEndpoint, path: str, sid: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name, spec in me.parameters.items():
        s = c.spec(spec)
        if name == "model":
            s["enum"] = [m.id, *m.aliases]
        props[name] = s
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": sid,
        "title": f"{m.id} — POST {path}",
        "type": "object",
        "properties": props,
    }
    req = [k for k, v in me.parameters.items() if v.get("required")]
    if req:
        schema["required"] = req
    schema["additionalProperties"] = False
    schema["x-aimlcat-model"] = m.id
    schema["x-aimlcat-endpoint"] = path
    if me.removed:
        schema["x-aimlcat-removed-parameters"] = {k: r.to_dict() for k, r in me.removed.items()}
    return schema


def compile_catalog(cat: Catalog) -> dict[str, str]:
    """Every file of ``schemas/``: relative path -> exact text."""
    files: dict[str, Any] = {}
    problems: list[CatalogProblem] = []
    defs_c = _Compiler(cat, "")
    files["defs.json"] = {
        "$schema": DRAFT,
        "$id": SCHEMA_BASE + "defs.json",
        "title": "aimlcat shared request shapes",
        "$defs": {k: defs_c.spec(v) for k, v in sorted(cat.definitions.items())},
    }
    model_c = _Compiler(cat, "../../defs.json")
    index_models: dict[str, Any] = {}
    slugs: dict[str, str] = {}
    for m in cat.models.values():
        s = slug(m.id)
        if s in slugs:
            problems.append(CatalogProblem(file=m.file, line=m.line, key=f"models.{m.id}",
                                           message=f"file name {s!r} clashes with {slugs[s]!r}"))
        slugs[s] = m.id
        eps: dict[str, Any] = {}
        for me in m.endpoints:
            ep = cat.endpoints[me.endpoint]
            rel = f"models/{s}/{me.endpoint}.json"
            files[rel] = _model_schema(model_c, m, me, ep.path, SCHEMA_BASE + rel)
            legacy = me.legacy or ep.legacy
            entry: dict[str, Any] = {"schema": rel}
            if me.family:
                entry["family"] = me.family
            if legacy is not None:
                entry["legacy"] = _legacy(legacy, cat.endpoints)
            entry["parameters"] = {k: _summary(v, cat.definitions) for k, v in me.parameters.items()}
            if me.removed:
                entry["removed"] = {k: r.to_dict() for k, r in me.removed.items()}
            eps[ep.path] = entry
        rec: dict[str, Any] = {
            "aliases": list(m.aliases), "developer": m.developer, "kind": m.kind,
            "status": m.status,
        }
        for k in ("status_since", "replacement", "base_model", "context_window", "notes"):
            v = getattr(m, k)
            if v is not None:
                rec[k] = v
        rec["endpoints"] = eps
        index_models[m.id] = rec
    if problems:
        raise CatalogError(problems)
    # Many models take the same parameters on an endpoint (a family without
    # overrides): each distinct parameter summary is written once, in
    # `parameter_sets`, and endpoints refer to it by position. The runtime puts
    # the shared dict back in place, so readers of the index see no difference.
    sets: dict[str, int] = {}
    shared: list[dict[str, Any]] = []
    for rec in index_models.values():
        for entry in rec["endpoints"].values():
            key = json.dumps(entry["parameters"], ensure_ascii=False)
            if key not in sets:
                sets[key] = len(shared)
                shared.append(entry["parameters"])
            entry["parameters"] = sets[key]
    files["index.json"] = {
        "format": INDEX_FORMAT,
        "catalog_version": cat.version,
        "source": cat.source,
        "endpoints": {
            e.path: {"name": e.name, "title": e.title, "aliases": list(e.aliases),
                     "detect": list(e.detect),
                     **({"content_type": e.content_type} if e.content_type != "json" else {}),
                     **({"legacy": _legacy(e.legacy, cat.endpoints)} if e.legacy else {})}
            for e in cat.endpoints.values()},
        "synonyms": [list(g) for g in cat.synonyms],
        "parameter_sets": shared,
        "models": index_models,
    }
    return {k: dumps(v) for k, v in sorted(files.items())}


def _existing(out_dir: Path) -> dict[str, Path]:
    if not out_dir.is_dir():
        return {}
    return {p.relative_to(out_dir).as_posix(): p for p in out_dir.rglob("*.json") if p.is_file()}


def diff_schemas(files: dict[str, str], out_dir: Path) -> list[str]:
    """Human-readable differences between compiled ``files`` and ``out_dir``; empty when fresh."""
    have = _existing(out_dir)
    out = []
    for rel, text in files.items():
        p = have.get(rel)
        if p is None:
            out.append(f"missing: schemas/{rel}")
        elif p.read_text(encoding="utf-8") != text:
            out.append(f"stale:   schemas/{rel}")
    for rel in sorted(set(have) - set(files)):
        out.append(f"extra:   schemas/{rel} (no catalog entry produces it)")
    return out


def write_schemas(files: dict[str, str], out_dir: Path) -> tuple[int, int]:
    """Write changed files atomically and remove ones no longer produced.

    Returns (written, removed)."""
    from ._fsutil import atomic_write_text

    have = _existing(out_dir)
    written = 0
    for rel, text in files.items():
        p = out_dir / rel
        if rel in have and have[rel].read_text(encoding="utf-8") == text:
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(p, text)
        written += 1
    removed = 0
    for rel in sorted(set(have) - set(files)):
        have[rel].unlink()
        removed += 1
        parent = have[rel].parent
        while parent != out_dir and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    return written, removed
