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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._exceptions import CatalogError, CatalogProblem
from ._loader import discriminator_values
from ._records import Catalog, Deprecation, Endpoint, Legacy, Model, ModelEndpoint, Spec

__all__ = ["SCHEMA_BASE", "Abilities", "compile_catalog", "derive_abilities", "diff_schemas",
           "dumps", "write_schemas"]

SCHEMA_BASE = "https://aimlcat.invalid/schemas/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
INDEX_FORMAT = 2

# Keywords copied as they are: the catalog uses JSON Schema's own names for them.
_PLAIN = ("type", "enum", "const", "default", "examples", "minimum", "maximum",
          "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
          "pattern", "format", "minItems", "maxItems", "uniqueItems")


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def index_dumps(index: dict[str, Any]) -> str:
    """``index.json``'s text: one line per top-level key, and one per model, endpoint and
    shared set inside, each compact. Every start-up parses this file, and the standard
    parser reads compact text about 40% faster than indented text; a line per model keeps
    a change to one model a one-line diff."""
    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    lines = []
    for key, value in index.items():
        if isinstance(value, dict) and value and key in _INDEX_BY_LINE:
            inner = ",\n".join(f"{compact(k)}:{compact(v)}" for k, v in value.items())
            lines.append(f"{compact(key)}:{{\n{inner}\n}}")
        elif isinstance(value, list) and value and key in _INDEX_BY_LINE:
            inner = ",\n".join(compact(v) for v in value)
            lines.append(f"{compact(key)}:[\n{inner}\n]")
        else:
            lines.append(f"{compact(key)}:{compact(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


#: The index's collections written an entry per line.
_INDEX_BY_LINE = frozenset({"endpoints", "modalities", "capabilities", "ability_sets",
                            "parameter_sets", "models"})


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


# -- modalities and capabilities ---------------------------------------------------------
#
# What a model takes and gives, derived from its resolved parameters (rules in
# docs/catalog.md, "Modalities and capabilities"); the vocabulary and the parameter
# and part names that carry each modality are catalog data (catalog/capabilities.yaml).
# The index stores the final sets, so the runtime derives nothing.

#: Parameters whose unions are not content (tool definitions, answer formats, a stored
#: prompt template that names its variables).
_NOT_CONTENT = frozenset({"tools", "tool_choice", "response_format", "text", "prompt"})
#: Parameters that ask for reasoning or web search by themselves. The gateway's shared
#: chat page lists `reasoning_effort`, `reasoning` and `web_search_options` for every
#: model on it, so those prove nothing and the capability is recorded instead.
_REASONING_PARAMS = ("thinking", "enable_thinking", "thinking_budget")
_SEARCH_PARAMS = ("enable_search", "search_options", "enable_web_search", "web_search")


@dataclass(frozen=True, slots=True)
class Abilities:
    """A model's final modalities and capabilities (vocabulary order)."""

    input: tuple[str, ...]
    output: tuple[str, ...]
    capabilities: tuple[str, ...]


def _type_tags(spec: Any, definitions: dict[str, Spec], seen: frozenset[str] = frozenset(),
               out: set[str] | None = None) -> set[str]:
    """Every value a nested object's ``type`` property is pinned to (const or enum):
    the tags of content parts and other tagged shapes, across ``ref`` s."""
    out = set() if out is None else out
    if not isinstance(spec, dict):
        return out
    ref = spec.get("ref")
    if isinstance(ref, str) and ref not in seen and ref in definitions:
        _type_tags(definitions[ref], definitions, seen | {ref}, out)
    props = spec.get("properties")
    if isinstance(props, dict):
        tag = props.get("type")
        if isinstance(tag, dict):
            values = [tag["const"]] if "const" in tag else tag.get("enum") or []
            out.update(v for v in values if isinstance(v, str))
        for sub in props.values():
            _type_tags(sub, definitions, seen, out)
    for key in ("items", "additionalProperties"):
        if isinstance(spec.get(key), dict):
            _type_tags(spec[key], definitions, seen, out)
    for key in ("any_of", "variants"):
        for sub in spec.get(key) or ():
            _type_tags(sub, definitions, seen, out)
    return out


def _accepts_true(spec: Spec) -> bool:
    if spec.get("const") is False:
        return False
    enum = spec.get("enum")
    return enum is None or True in enum


class _Deriver:
    """Derives each model's modalities and capabilities; gathers contradictions."""

    def __init__(self, cat: Catalog) -> None:
        self.cat = cat
        self.mod_order = list(cat.modalities)
        self.cap_order = list(cat.capabilities)
        self.part_of: dict[str, str] = {}
        self.param_of: dict[str, str] = {}
        for name, entry in cat.modalities.items():
            for part in entry.get("parts", ()):
                self.part_of[part] = name
            for param in entry.get("parameters", ()):
                self.param_of[param] = name
        self.problems: list[CatalogProblem] = []
        self._reported: set[tuple[str, int | None, str]] = set()

    def endpoint(self, kind: str, me: ModelEndpoint) -> tuple[set[str], set[str], set[str]]:
        """(inputs, outputs, capabilities) that one endpoint's parameters prove."""
        defs = self.cat.definitions
        params = me.parameters
        k = self.cat.kinds.get(kind, {})
        inputs = set(k.get("input", ()))
        outputs = set(k.get("output", ()))
        required_media = False
        for name, spec in params.items():
            mod = self.param_of.get(name)
            if mod is not None:
                inputs.add(mod)
                required_media |= mod != "text" and bool(spec.get("required"))
            if name not in _NOT_CONTENT:
                for tag in _type_tags(spec, defs):
                    if tag in self.part_of:
                        inputs.add(self.part_of[tag])
        if kind == "stt":
            inputs.discard("text")  # a transcription prompt is a hint, not the input
        wanted = params.get("modalities")
        if wanted is not None:  # chat models asked to answer in audio, say
            items = wanted.get("items") or {}
            outputs.update(v for v in items.get("enum") or () if v in self.cat.modalities)
        caps: set[str] = set()
        if "stream" in params and _accepts_true(params["stream"]):
            caps.add("streaming")
        if "tools" in params:
            caps.add("tools")
            if any(t.startswith("web_search") for t in _type_tags(params["tools"], defs)):
                caps.add("web_search")
        formats: set[str] = set()
        for name in ("response_format", "text"):
            if name in params:
                formats |= _type_tags(params[name], defs)
        if "json_schema" in formats:
            caps.add("structured_output")
        if "json_object" in formats:
            caps.add("json_mode")
        if any(p in params for p in _REASONING_PARAMS):
            caps.add("reasoning")
        if any(p in params for p in _SEARCH_PARAMS):
            caps.add("web_search")
        if "image" in inputs and "text" in outputs:
            caps.add("vision")
        for out in ("image", "video"):
            if out not in outputs:
                continue
            if "text" in inputs and not required_media:
                caps.add(f"text_to_{out}")
            if "image" in inputs:
                caps.add(f"image_to_{out}")
            if "video" in inputs and out == "video":
                caps.add("video_to_video")
        return inputs, outputs, caps

    def model(self, m: Model) -> Abilities:
        inputs: set[str] = set()
        outputs = set(self.cat.kinds.get(m.kind, {}).get("output", ()))
        caps: set[str] = set()
        for me in m.endpoints:
            i, o, c = self.endpoint(m.kind, me)
            inputs |= i
            outputs |= o
            caps |= c
        if not m.endpoints:
            inputs |= set(self.cat.kinds.get(m.kind, {}).get("input", ()))
        derived_in, derived_caps = set(inputs), set(caps)
        for rec in m.recorded:
            if m.endpoints:
                self._contradictions(m, rec, derived_in, derived_caps)
            inputs.update(rec.input)
            outputs.update(rec.output)
            caps.update(rec.capabilities)
        if "image" in inputs and "text" in outputs:
            caps.add("vision")
        return Abilities(
            input=tuple(n for n in self.mod_order if n in inputs),
            output=tuple(n for n in self.mod_order if n in outputs),
            capabilities=tuple(n for n in self.cap_order if n in caps))

    def _contradictions(self, m: Model, rec: Any, inputs: set[str], caps: set[str]) -> None:
        prefix = rec.owner.replace("family ", "families.").replace("model ", "models.")
        for name in rec.input:
            if name in inputs:
                continue
            entry = self.cat.modalities.get(name, {})
            carriers = [*(f"`{p}`" for p in entry.get("parameters", ())),
                        *(f"`{t}` parts" for t in entry.get("parts", ()))]
            proof = (" (it would take one of " + ", ".join(carriers[:6])
                     + (", ..." if len(carriers) > 6 else "") + ")") if carriers else ""
            self._add(rec.file, rec.lines.get("modalities", rec.line),
                      f"{prefix}.modalities.input",
                      f"records input {name!r}, but no parameter of {m.id} takes it{proof}")
        for name in rec.capabilities:
            entry = self.cat.capabilities.get(name, {})
            if name in caps or not entry.get("decided"):
                continue
            self._add(rec.file, rec.lines.get("capabilities", rec.line), f"{prefix}.capabilities",
                      f"records {name!r}, but the parameters of {m.id} do not allow it: "
                      + _WHY.get(name, "see docs/catalog.md, Modalities and capabilities"))

    def _add(self, file: str, line: int | None, key: str, message: str) -> None:
        # A family's record is reported once, for the first model that shows it.
        if (file, line, key) in self._reported:
            return
        self._reported.add((file, line, key))
        self.problems.append(CatalogProblem(file=file, line=line, key=key, message=message))


#: What proves each decided capability (for check-catalog's messages).
_WHY = {
    "streaming": "it needs a `stream` parameter that accepts true",
    "tools": "it needs a `tools` parameter",
    "structured_output": "it needs a `response_format` (or `text`) shape of type json_schema",
    "json_mode": "it needs a `response_format` (or `text`) shape of type json_object",
    "vision": "it needs an image input (an image part or parameter) and a text output",
    "text_to_image": "it needs an image output and a text input with no media input required",
    "image_to_image": "it needs an image output and an image input",
    "text_to_video": "it needs a video output and a text input with no media input required",
    "image_to_video": "it needs a video output and an image input",
    "video_to_video": "it needs a video output and a video input",
}


def derive_abilities(cat: Catalog) -> tuple[dict[str, Abilities], list[CatalogProblem]]:
    """Every model's final modalities and capabilities, and the recorded facts its
    parameters contradict (as problems with file, line and key)."""
    d = _Deriver(cat)
    out = {mid: d.model(m) for mid, m in cat.models.items()}
    return out, sorted(d.problems, key=lambda p: (p.file, p.line or 0, p.key))


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
    abilities, contradictions = derive_abilities(cat)
    problems.extend(contradictions)
    ability_sets: dict[Abilities, int] = {}
    index_models: dict[str, Any] = {}
    slugs: dict[str, str] = {}
    for m in cat.models.values():
        s = slug(m.id)
        if s in slugs:
            problems.append(CatalogProblem(file=m.file, line=m.line, key=f"models.{m.id}",
                                           message=f"file name {s!r} clashes with {slugs[s]!r}"))
        slugs[s] = m.id
        eps: dict[str, Any] = {}
        served = {me.endpoint for me in m.endpoints}
        for me in m.endpoints:
            ep = cat.endpoints[me.endpoint]
            rel = f"models/{s}/{me.endpoint}.json"
            files[rel] = _model_schema(model_c, m, me, ep.path, SCHEMA_BASE + rel)
            legacy = me.legacy or ep.legacy
            if me.legacy is None and legacy is not None and legacy.replaced_by not in served:
                # An endpoint replaced for the models that moved is still current for one
                # the docs never moved: AML203's "send it to X" would meet AML201 there.
                legacy = None
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
        ab = abilities[m.id]
        # Written once per distinct combination (`ability_sets`), like parameter sets.
        rec["abilities"] = ability_sets.setdefault(ab, len(ability_sets))
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
        # The vocabulary of modalities and capabilities, and what carries each input
        # modality in a body (content part tags, top-level parameters): for queries and
        # for the validator's findings.
        "modalities": {n: {k: e[k] for k in ("parts", "parameters") if k in e}
                       for n, e in cat.modalities.items()},
        "capabilities": {n: {"live": bool(e.get("live"))} for n, e in cat.capabilities.items()},
        # What a model takes and gives: models name their combination by position.
        "ability_sets": [{"input": list(a.input), "output": list(a.output),
                          "capabilities": list(a.capabilities)} for a in ability_sets],
        "parameter_sets": shared,
        "models": index_models,
    }
    return {k: index_dumps(v) if k == "index.json" else dumps(v)
            for k, v in sorted(files.items())}


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
