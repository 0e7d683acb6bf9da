"""Load the YAML catalog into typed records (build time only).

Steps: read every ``*.yaml`` under the catalog directory safely (positions
kept), check each file against the meta-schema, merge the sections, resolve
the vocabulary, families and ``extends``, and check every cross-reference.
All problems are gathered and raised together as one :class:`CatalogError`,
each naming file, line and key.
"""

from __future__ import annotations

import copy
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

from ._exceptions import CatalogError, CatalogProblem
from ._records import Catalog, Endpoint, Legacy, Model, ModelEndpoint, Recorded, Removal, Spec
from ._yamlio import PosDict, PosList, YamlError, load_yaml
from ._yamlio import plain as _plain

__all__ = ["load_catalog_source", "resolve_spec"]

_SECTIONS = ("endpoints", "parameters", "definitions", "families", "models", "modalities",
             "kinds", "capabilities")
_NESTED_SPEC_KEYS = ("items", "additionalProperties")


def _meta_validator() -> Any:
    import jsonschema

    schema = json.loads(
        resources.files("aimlcat").joinpath("catalog_file.schema.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _locate(doc: Any, path: list[Any]) -> int | None:
    """Line of the deepest node of ``path`` that carries a position."""
    line = getattr(doc, "line", None)
    node = doc
    for part in path:
        if isinstance(node, PosDict) and part in node:
            line = node.key_pos.get(part, (line, 0))[0]
            node = node[part]
        elif isinstance(node, PosList) and isinstance(part, int) and part < len(node):
            line = node.item_pos[part][0]
            node = node[part]
        else:
            break
    return line


def _not_finite(doc: Any) -> list[list[Any]]:
    """Paths of the floats in ``doc`` that are infinite or NaN (YAML's ``.inf``, ``.nan``)."""
    out: list[list[Any]] = []
    stack: list[tuple[Any, list[Any]]] = [(doc, [])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, float):
            if not math.isfinite(node):
                out.append(path)
        elif isinstance(node, dict):
            stack.extend((v, [*path, k]) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, [*path, i]) for i, v in enumerate(node))
    return sorted(out, key=lambda p: list(map(str, p)))


def _key_line(node: Any, key: str, default: int | None) -> int | None:
    """Line of ``key`` in a positioned mapping, else ``default``."""
    pos = getattr(node, "key_pos", None)
    return pos[key][0] if pos and key in pos else default


def _key_path(path: list[Any]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


class _Problems:
    def __init__(self) -> None:
        self.items: list[CatalogProblem] = []

    def add(self, file: str, line: int | None, key: str, message: str) -> None:
        self.items.append(CatalogProblem(file=file, line=line, key=key, message=message))


class _Entry:
    """A named section entry together with where it came from."""

    __slots__ = ("extra", "file", "line", "value")

    def __init__(self, value: Any, file: str, line: int | None, extra: dict[str, Any]) -> None:
        self.value = value
        self.file = file
        self.line = line
        self.extra = extra


def load_catalog_source(root: str | Path) -> Catalog:
    """Load and resolve the YAML catalog under ``root``; raise CatalogError listing every problem."""
    root = Path(root)
    problems = _Problems()
    if not root.is_dir():
        raise CatalogError([CatalogProblem(file=str(root), line=None, key="",
                                           message="catalog directory not found")])
    files = sorted(p for p in root.rglob("*.yaml") if p.is_file())
    if not files:
        raise CatalogError([CatalogProblem(file=str(root), line=None, key="",
                                           message="no *.yaml files in the catalog directory")])
    meta = _meta_validator()
    sections: dict[str, dict[str, _Entry]] = {s: {} for s in _SECTIONS}
    version: tuple[str, str, int] | None = None
    source = ""
    synonyms: list[tuple[str, ...]] = []

    for path in files:
        rel = path.relative_to(root.parent).as_posix() if root.parent != path else path.name
        try:
            doc = load_yaml(path.read_text(encoding="utf-8"))
        except YamlError as exc:
            problems.add(rel, exc.line, "", exc.message)
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.add(rel, None, "", f"cannot read: {exc}")
            continue
        if doc is None:
            problems.add(rel, None, "", "the file is empty")
            continue
        if isinstance(doc, PosDict) and isinstance(doc.get("catalog_version"), str):
            # Read even when the file has other problems, so none is reported twice.
            if version is not None:
                problems.add(rel, doc.key_pos["catalog_version"][0], "catalog_version",
                             f"catalog_version is already set in {version[1]}")
            version = (doc["catalog_version"], rel, doc.key_pos["catalog_version"][0])
            source = str(doc.get("source", ""))
        not_finite = _not_finite(doc)
        for p in not_finite:
            problems.add(rel, _locate(doc, p), _key_path(p),
                         "not a finite number: JSON, and so a compiled schema, has no "
                         "infinity or NaN; leave the bound out for no bound")
        if not_finite:
            continue
        errors = sorted(meta.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            for err in errors:
                p = list(err.absolute_path)
                if err.validator == "additionalProperties" and isinstance(err.instance, dict):
                    known = err.schema.get("properties", {})
                    unknown = [k for k in err.instance if k not in known]
                    if unknown:
                        p.append(unknown[0])  # the unknown key's own line
                problems.add(rel, _locate(doc, p), _key_path(p), _meta_message(err))
            continue
        for group in doc.get("synonyms", []):
            synonyms.append(tuple(group))
        defaults = {"developer": doc.get("developer"), "kind": doc.get("kind")}
        for section in _SECTIONS:
            for name, value in (doc.get(section) or {}).items():
                line = doc[section].key_pos[name][0]
                if name in sections[section]:
                    first = sections[section][name]
                    problems.add(rel, line, f"{section}.{name}",
                                 f"already defined in {first.file}:{first.line}")
                    continue
                sections[section][name] = _Entry(value, rel, line, defaults)

    if version is None:
        problems.add(root.name, None, "catalog_version", "no file sets catalog_version")
    else:
        from packaging.version import InvalidVersion, Version

        try:
            Version(version[0])
        except InvalidVersion:
            problems.add(version[1], version[2], "catalog_version",
                         f"{version[0]!r} is not a PEP 440 version")
    if problems.items:
        raise CatalogError(problems.items)

    resolver = _Resolver(sections, problems)
    catalog = resolver.build(version[0] if version else "0", source, tuple(synonyms))
    if problems.items:
        raise CatalogError(problems.items)
    return catalog


def _meta_message(err: Any) -> str:
    if err.validator == "additionalProperties":
        return str(err.message).replace("Additional properties are not allowed", "unknown key(s)")
    if err.validator == "oneOf" and err.path and err.path[-1] == "type":
        return f"{err.instance!r} is not a type name (string, integer, number, boolean, object, array, null)"
    return str(err.message)


def resolve_spec(name: str | None, spec: Spec | None, vocabulary: dict[str, Any],
                 *, base: Spec | None = None) -> Spec:
    """Merge an override onto what it inherits and return a plain spec.

    It inherits the vocabulary entry named by ``use`` (``use: null`` inherits
    nothing), else ``base`` (the family's version of the parameter), else the
    vocabulary entry of the same name. A key set to null removes the inherited
    key. Nested specs may ``use`` vocabulary entries too.
    """
    spec = dict(spec or {})
    if "use" in spec:
        use = spec.pop("use")
        inherited = _vocab(vocabulary, use) if use is not None else {}
    elif base is not None:
        inherited = copy.deepcopy(base)
    else:
        inherited = _vocab(vocabulary, name) if name is not None else {}
    merged = {**inherited, **spec}
    return _nested({k: _plain(v) for k, v in merged.items() if v is not None}, vocabulary)


def _vocab(vocabulary: dict[str, Any], name: str) -> Spec:
    entry = vocabulary.get(name)
    if entry is None:
        return {}
    return copy.deepcopy(dict(entry.value if isinstance(entry, _Entry) else entry))


def _nested(spec: Spec, vocabulary: dict[str, Any]) -> Spec:
    if isinstance(spec.get("properties"), dict):
        spec["properties"] = {
            k: resolve_spec(None, v, vocabulary) if "use" in v else _nested(v, vocabulary)
            for k, v in spec["properties"].items()}
    for key in _NESTED_SPEC_KEYS:
        v = spec.get(key)
        if isinstance(v, dict):
            spec[key] = resolve_spec(None, v, vocabulary) if "use" in v else _nested(v, vocabulary)
    for key in ("any_of", "variants"):
        if isinstance(spec.get(key), list):
            spec[key] = [resolve_spec(None, v, vocabulary) if "use" in v else _nested(v, vocabulary)
                         for v in spec[key]]
    return spec


class _Resolver:
    def __init__(self, sections: dict[str, dict[str, _Entry]], problems: _Problems) -> None:
        self.s = sections
        self.p = problems
        self._families: dict[str, dict[str, Any]] = {}
        self._failed: set[str] = set()

    # -- helpers -----------------------------------------------------------
    def _check_refs(self, spec: Any, file: str, line: int | None, key: str) -> None:
        """Problems with what ``spec`` names; each at the line of the key that names it
        (``line``, the enclosing entry's, when the spec carries no positions)."""
        if isinstance(spec, dict):
            ref = spec.get("ref")
            if ref is not None and ref not in self.s["definitions"]:
                self.p.add(file, _key_line(spec, "ref", line), key,
                           f"ref {ref!r} names no definition")
            use = spec.get("use")
            if use is not None and use not in self.s["parameters"]:
                self.p.add(file, _key_line(spec, "use", line), key,
                           f"use {use!r} names no vocabulary parameter")
            if "variants" in spec and spec.get("discriminator"):
                self._check_discriminator(spec, file, _key_line(spec, "variants", line), key)
            for k, v in spec.items():
                if k in ("properties",) and isinstance(v, dict):
                    for pn, ps in v.items():
                        self._check_refs(ps, file, _key_line(v, pn, line),
                                         f"{key}.properties.{pn}")
                elif k in _NESTED_SPEC_KEYS and isinstance(v, dict):
                    self._check_refs(v, file, _key_line(spec, k, line), f"{key}.{k}")
                elif k in ("any_of", "variants") and isinstance(v, list):
                    for i, x in enumerate(v):
                        self._check_refs(x, file, _locate(v, [i]) or line, f"{key}.{k}[{i}]")

    def _check_discriminator(self, spec: Spec, file: str, line: int | None, key: str) -> None:
        disc = spec["discriminator"]
        seen: dict[Any, int] = {}
        for i, variant in enumerate(spec["variants"]):
            values = discriminator_values(variant, disc, self.definitions_plain())
            if not values:
                self.p.add(file, line, f"{key}.variants[{i}]",
                           f"variant has no `{disc}` property with an enum or const")
            for v in values:
                if v in seen:
                    self.p.add(file, line, f"{key}.variants[{i}]",
                               f"{disc}={v!r} is also claimed by variant {seen[v]}")
                seen[v] = i

    def definitions_plain(self) -> dict[str, Spec]:
        return {k: e.value for k, e in self.s["definitions"].items()}

    # -- families ------------------------------------------------------------
    def family(self, name: str, stack: tuple[str, ...] = ()) -> dict[str, Any] | None:
        if name in self._families:
            return self._families[name]
        if name in self._failed:
            return None  # already reported
        fam = self._family(name, stack)
        if fam is None:
            self._failed.add(name)
        return fam

    def _family(self, name: str, stack: tuple[str, ...]) -> dict[str, Any] | None:
        entry = self.s["families"].get(name)
        if entry is None:
            return None
        raw = entry.value
        if name in stack:
            self.p.add(entry.file, entry.line, f"families.{name}",
                       "extends itself: " + " -> ".join((*stack, name)))
            return None
        params: dict[str, Spec] = {}
        endpoint = raw.get("endpoint")
        parent: dict[str, Any] | None = None
        if "extends" in raw:
            parent = self.family(raw["extends"], (*stack, name))
            if parent is None:
                if raw["extends"] not in self.s["families"]:
                    self.p.add(entry.file, entry.line, f"families.{name}.extends",
                               self._no_family(raw["extends"]))
                return None
            params = copy.deepcopy(parent["parameters"])
            endpoint = endpoint or parent["endpoint"]
        for d in raw.get("drop", []):
            if d not in params:
                self.p.add(entry.file, entry.line, f"families.{name}.drop",
                           f"{d!r} is not a parameter of the parent family")
            params.pop(d, None)
        for pname, pspec in (raw.get("parameters") or {}).items():
            params[pname] = resolve_spec(pname, pspec, self.s["parameters"], base=params.get(pname))
            self._check_refs(pspec, entry.file,
                             _locate(raw, ["parameters", pname]) or entry.line,
                             f"families.{name}.parameters.{pname}")
        if endpoint not in self.s["endpoints"]:
            self.p.add(entry.file, entry.line, f"families.{name}.endpoint",
                       f"no endpoint named {endpoint!r}")
        recorded = tuple(parent["recorded"]) if "extends" in raw and parent is not None else ()
        own = _recorded(f"family {name}", raw, entry.file, entry.line)
        if own is not None:
            recorded = (*recorded, own)
        fam = {"endpoint": endpoint, "parameters": params, "description": raw["description"],
               "recorded": recorded}
        self._families[name] = fam
        return fam

    # -- models --------------------------------------------------------------
    def _raw_model(self, mid: str, stack: tuple[str, ...] = ()) -> dict[str, Any] | None:
        entry = self.s["models"][mid]
        raw = dict(entry.value or {})
        if "extends" not in raw:
            return raw
        parent_id = raw.pop("extends")
        if parent_id not in self.s["models"]:
            self.p.add(entry.file, entry.line, f"models.{mid}.extends", f"no model named {parent_id!r}")
            return None
        if parent_id in stack:
            self.p.add(entry.file, entry.line, f"models.{mid}.extends", "extends itself")
            return None
        parent = self._raw_model(parent_id, (*stack, mid))
        if parent is None:
            return None
        pentry = self.s["models"][parent_id]
        merged = {"developer": pentry.extra["developer"], "kind": pentry.extra["kind"], **parent}
        merged.update(raw)
        return merged

    def model(self, mid: str) -> Model | None:
        entry = self.s["models"][mid]
        raw = self._raw_model(mid)
        if raw is None:
            return None
        where = (entry.file, entry.line)
        endpoints: list[ModelEndpoint] = []
        recorded: list[Recorded] = []
        seen_ep: set[str] = set()
        for i, ep in enumerate(raw.get("endpoints", [])):
            key = f"models.{mid}.endpoints[{i}]"
            line = _locate(entry.value, ["endpoints", i]) if entry.value else entry.line
            # Problems inside this endpoint item point at their key, when the item is
            # written in this entry (not inherited with `extends` from another).
            own_item = any(e is ep for e in ((entry.value or {}).get("endpoints") or ()))

            def at(path: list[Any], ep: Any = ep, line: int | None = line,
                   own_item: bool = own_item) -> int | None:
                return (_locate(ep, path) or line) if own_item else line
            params: dict[str, Spec] = {}
            family = ep.get("family")
            if family is not None:
                fam = self.family(family)
                if fam is None:
                    if family not in self.s["families"]:
                        self.p.add(entry.file, line, f"{key}.family", self._no_family(family))
                    continue
                ep_name = fam["endpoint"]
                params = copy.deepcopy(fam["parameters"])
                recorded.extend(r for r in fam["recorded"] if r not in recorded)
            else:
                ep_name = ep["endpoint"]
            if ep_name not in self.s["endpoints"]:
                self.p.add(entry.file, line, f"{key}.endpoint", f"no endpoint named {ep_name!r}")
                continue
            if ep_name in seen_ep:
                self.p.add(entry.file, line, key, f"endpoint {ep_name!r} is listed twice")
            seen_ep.add(ep_name)
            for d in ep.get("drop", []):
                if d not in params:
                    self.p.add(entry.file, line, f"{key}.drop", f"{d!r} is not a parameter of {family!r}")
                params.pop(d, None)
            for pname, pspec in (ep.get("parameters") or {}).items():
                params[pname] = resolve_spec(pname, pspec, self.s["parameters"], base=params.get(pname))
                self._check_refs(pspec, entry.file, at(["parameters", pname]),
                                 f"{key}.parameters.{pname}")
            for pname, pspec in params.items():
                dep = pspec.get("deprecated")
                if dep and dep.get("action") == "rename" and dep.get("to") not in params:
                    self.p.add(entry.file, at(["parameters", pname, "deprecated", "to"]),
                               f"{key}.parameters.{pname}.deprecated.to",
                               f"rename target {dep.get('to')!r} is not a parameter of {mid} "
                               f"on {ep_name}")
            removed = {k: Removal.from_dict(v) for k, v in (ep.get("removed") or {}).items()}
            for k in removed:
                if k in params:
                    self.p.add(entry.file, at(["removed", k]), f"{key}.removed.{k}",
                               "listed as removed but still a parameter")
            legacy = Legacy.from_dict(ep["legacy"]) if ep.get("legacy") else None
            if "model" in params:
                params["model"] = {**params["model"], "required": True}
            endpoints.append(ModelEndpoint(endpoint=ep_name, family=family, parameters=params,
                                           removed=removed, legacy=legacy))
        own = _recorded(f"model {mid}", raw, entry.file, entry.line, entry.value)
        if own is not None:
            recorded.append(own)
        # A model without endpoints is allowed: its parameters are not documented.
        developer = raw.get("developer") or entry.extra["developer"]
        kind = raw.get("kind") or entry.extra["kind"]
        return Model(
            id=mid, aliases=tuple(raw.get("aliases", ())), developer=developer, kind=kind,
            status=raw.get("status", "active"), status_since=raw.get("status_since"),
            replacement=raw.get("replacement"), base_model=raw.get("base_model"),
            context_window=raw.get("context_window"), notes=raw.get("notes"),
            endpoints=tuple(endpoints), file=where[0], line=where[1], recorded=tuple(recorded))

    # -- whole catalog -------------------------------------------------------
    def build(self, version: str, source: str, synonyms: tuple[tuple[str, ...], ...]) -> Catalog:
        endpoints: dict[str, Endpoint] = {}
        paths: dict[str, str] = {}
        for name, e in self.s["endpoints"].items():
            v = e.value
            legacy = Legacy.from_dict(v["legacy"]) if v.get("legacy") else None
            endpoints[name] = Endpoint(name=name, path=v["path"], title=v["title"],
                                       aliases=tuple(v.get("aliases", ())),
                                       detect=tuple(v.get("detect", ())),
                                       content_type=v.get("content_type", "json"), legacy=legacy)
            for p in (v["path"], *v.get("aliases", ())):
                if p in paths:
                    self.p.add(e.file, e.line, f"endpoints.{name}",
                               f"path {p} is already used by endpoint {paths[p]!r}")
                paths[p] = name
        for name, e in self.s["endpoints"].items():
            lg = e.value.get("legacy")
            if lg and lg["replaced_by"] not in self.s["endpoints"]:
                self.p.add(e.file, e.line, f"endpoints.{name}.legacy.replaced_by",
                           f"no endpoint named {lg['replaced_by']!r}")
        for group in synonyms:
            for n in group:
                if n not in self.s["parameters"]:
                    self.p.add("vocabulary", None, "synonyms", f"{n!r} is not a vocabulary parameter")
        for name, e in self.s["parameters"].items():
            self._check_refs(e.value, e.file, e.line, f"parameters.{name}")
        for name, e in self.s["definitions"].items():
            self._check_refs(e.value, e.file, e.line, f"definitions.{name}")
        for name in self.s["families"]:
            self.family(name)

        models: dict[str, Model] = {}
        for mid in self.s["models"]:
            m = self.model(mid)
            if m is not None:
                models[mid] = m
        owners: dict[str, str] = {m.id: m.id for m in models.values()}
        for m in models.values():
            for alias in m.aliases:
                if alias in owners and owners[alias] != m.id:
                    what = "the id" if alias == owners[alias] else "an alias"
                    self.p.add(m.file, m.line, f"models.{m.id}.aliases",
                               f"alias {alias!r} is already {what} of {owners[alias]!r}")
                else:
                    owners[alias] = m.id
        for m in models.values():
            if m.replacement is not None and m.replacement not in owners:
                self.p.add(m.file, m.line, f"models.{m.id}.replacement",
                           f"replacement {m.replacement!r} is not in the catalog")
            for me in m.endpoints:
                if me.legacy and me.legacy.replaced_by not in endpoints:
                    self.p.add(m.file, m.line, f"models.{m.id}.legacy.replaced_by",
                               f"no endpoint named {me.legacy.replaced_by!r}")
        self._check_recorded_names(models)
        return Catalog(
            version=version, source=source, endpoints=endpoints, synonyms=synonyms,
            vocabulary={k: _plain(e.value) for k, e in self.s["parameters"].items()},
            definitions={k: _plain(e.value) for k, e in self.s["definitions"].items()},
            families=self._families, models=dict(sorted(models.items())),
            modalities={k: _plain(e.value) for k, e in self.s["modalities"].items()},
            capabilities={k: _plain(e.value) for k, e in self.s["capabilities"].items()},
            kinds={k: _plain(e.value) for k, e in self.s["kinds"].items()})

    def _no_family(self, name: Any) -> str:
        import difflib

        guess = difflib.get_close_matches(str(name), list(self.s["families"]), n=1)
        return f"no family named {name!r}" + (f"; did you mean {guess[0]!r}?" if guess else "")

    def _check_recorded_names(self, models: dict[str, Model]) -> None:
        """Every modality and capability a kind, family or model names is in the vocabulary."""
        import difflib

        def check(name: str, section: str, file: str, line: int | None, key: str) -> None:
            known = self.s[section]
            if name in known:
                return
            guess = difflib.get_close_matches(name, list(known), n=1)
            what = "modality" if section == "modalities" else "capability"
            self.p.add(file, line, key, f"{name!r} is not a {what} of the vocabulary"
                       + (f"; did you mean {guess[0]!r}?" if guess else
                          f" (catalog/capabilities.yaml `{section}`)"))

        for kind, e in self.s["kinds"].items():
            for side in ("input", "output"):
                for n in e.value.get(side, ()):
                    check(n, "modalities", e.file, e.line, f"kinds.{kind}.{side}")
        seen: set[int] = set()
        for rec in (r for m in models.values() for r in m.recorded):
            if id(rec) in seen:
                continue
            seen.add(id(rec))
            prefix = rec.owner.replace("family ", "families.").replace("model ", "models.")
            for side in ("input", "output"):
                for n in getattr(rec, side):
                    check(n, "modalities", rec.file, rec.lines.get("modalities", rec.line),
                          f"{prefix}.modalities.{side}")
            for n in rec.capabilities:
                check(n, "capabilities", rec.file, rec.lines.get("capabilities", rec.line),
                      f"{prefix}.capabilities")


def _recorded(owner: str, raw: dict[str, Any], file: str, line: int | None,
              doc: Any = None) -> Recorded | None:
    """The modalities and capabilities a family or model entry records, or None."""
    mods = raw.get("modalities") or {}
    caps = raw.get("capabilities") or []
    if not mods and not caps:
        return None
    node = doc if doc is not None else raw
    lines = {k: _locate(node, [k]) if isinstance(node, PosDict) and k in node else line
             for k in ("modalities", "capabilities")}
    return Recorded(owner=owner, file=file, line=line, input=tuple(mods.get("input", ())),
                    output=tuple(mods.get("output", ())), capabilities=tuple(caps), lines=lines)


def discriminator_values(variant: Spec, disc: str, definitions: dict[str, Spec]) -> list[Any]:
    """The discriminator values a union variant claims (following one ``ref``)."""
    seen = 0
    while "ref" in variant and "properties" not in variant and seen < 10:
        target = definitions.get(variant["ref"])
        if target is None:
            return []
        variant = target
        seen += 1
    prop = (variant.get("properties") or {}).get(disc) or {}
    if "const" in prop:
        return [prop["const"]]
    return list(prop.get("enum") or [])



# -- repetition (check-catalog) ----------------------------------------------------

#: A definition repeated word for word in more files than this is reported.
REPEAT_LIMIT = 3
_MIN_TEXT = 120  # shorter flat specs ({type: integer, minimum: 1}) are not "definitions"


def find_repeated_definitions(root: str | Path, limit: int = REPEAT_LIMIT) -> list[CatalogProblem]:
    """Parameter specs and shapes written out word for word in more than ``limit`` files.

    Candidates are ``definitions`` entries, parameter specs (vocabulary,
    families, model endpoints) and the shapes nested in them (``properties``,
    ``items``, ``additionalProperties``, ``any_of``, ``variants``) that are
    objects with structure (properties or a union) or long (>= 120 characters
    as canonical JSON). Each repeated one is reported once, at its first
    occurrence, naming the other files; a spec repeated inside one file (YAML
    anchors) counts once."""
    root = Path(root)
    seen: dict[str, dict[str, tuple[int | None, str]]] = {}
    for path in sorted(p for p in root.rglob("*.yaml") if p.is_file()):
        rel = path.relative_to(root.parent).as_posix()
        try:
            doc = load_yaml(path.read_text(encoding="utf-8"))
        except (YamlError, OSError, UnicodeDecodeError):
            continue  # the loader reports unreadable files
        if not isinstance(doc, PosDict):
            continue
        for line, key, spec in _spec_nodes(doc):
            text = json.dumps(_plain(spec), sort_keys=True, ensure_ascii=False)
            if not _is_definition(spec, text):
                continue
            seen.setdefault(text, {}).setdefault(rel, (line, key))
    out = []
    for where in seen.values():
        if len(where) <= limit:
            continue
        files = list(where)
        line, key = where[files[0]]
        out.append(CatalogProblem(
            file=files[0], line=line, key=key,
            message=f"repeated word for word in {len(files)} files (also "
                    f"{', '.join(files[1:])}): make it a shared definition (`ref`), a "
                    "vocabulary entry or part of a family"))
    return sorted(out, key=lambda p: (p.file, p.line or 0, p.key))


def _is_definition(spec: Any, text: str) -> bool:
    if not isinstance(spec, dict):
        return False
    if "properties" in spec or "any_of" in spec or "variants" in spec:
        return True
    return len(text) >= _MIN_TEXT


def _spec_nodes(doc: PosDict) -> list[tuple[int | None, str, Any]]:
    """(line, key path, spec) for every spec and nested shape in one catalog file."""
    out: list[tuple[int | None, str, Any]] = []

    def walk(spec: Any, line: int | None, key: str) -> None:
        if not isinstance(spec, dict):
            return
        out.append((line, key, spec))
        props = spec.get("properties")
        if isinstance(props, dict):
            for name, sub in props.items():
                sub_line = props.key_pos.get(name, (line, 0))[0] if isinstance(props, PosDict) \
                    else line
                walk(sub, sub_line, f"{key}.properties.{name}")
        for nested in _NESTED_SPEC_KEYS:
            if isinstance(spec.get(nested), dict):
                walk(spec[nested], _locate(spec, [nested]), f"{key}.{nested}")
        for union in ("any_of", "variants"):
            if isinstance(spec.get(union), list):
                for i, sub in enumerate(spec[union]):
                    walk(sub, _locate(spec, [union, i]), f"{key}.{union}[{i}]")

    def params(block: Any, prefix: str) -> None:
        if isinstance(block, PosDict):
            for name, spec in block.items():
                walk(spec, block.key_pos[name][0], f"{prefix}.{name}")

    params(doc.get("definitions"), "definitions")
    params(doc.get("parameters"), "parameters")
    families = doc.get("families")
    if isinstance(families, PosDict):
        for fname, fam in families.items():
            if isinstance(fam, dict):
                params(fam.get("parameters"), f"families.{fname}.parameters")
    models = doc.get("models")
    if isinstance(models, PosDict):
        for mid, model in models.items():
            for i, ep in enumerate((model or {}).get("endpoints") or []):
                if isinstance(ep, dict):
                    params(ep.get("parameters"), f"models.{mid}.endpoints[{i}].parameters")
    return out
