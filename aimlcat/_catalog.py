"""The runtime catalog: the compiled index, queries, and lazily built validators.

Start-up reads one file, ``schemas/index.json``. A model × endpoint schema
and its validator are built the first time a request needs them and kept.
No YAML, no pure-Python schema engine and no HTTP client is imported here.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._exceptions import CatalogError, CatalogProblem, UsageError
from ._findings import Report

__all__ = ["SERVICE_PATHS", "Catalog", "ModelInfo", "default_schema_dir", "doubled_version",
           "endpoint_path", "load_catalog"]

_INDEX_FORMAT = 2
#: A model's status in the catalog.
STATUSES = ("active", "deprecated", "removed")


def default_schema_dir() -> Path:
    """The compiled catalog: inside an installed wheel, else ``schemas/`` of the source tree."""
    override = os.environ.get("AIMLCAT_SCHEMAS")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    packaged = here / "_data" / "schemas"
    if (packaged / "index.json").is_file():
        return packaged
    return here.parent / "schemas"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelInfo:
    """What the catalog says about one model (a view of the index, cheap to build)."""

    id: str
    aliases: tuple[str, ...]
    developer: str
    kind: str
    status: str
    status_since: str | None
    replacement: str | None
    base_model: str | None
    context_window: int | None
    notes: str | None
    endpoints: tuple[str, ...]
    #: What the model takes and gives, and what it can do (names as in the
    #: gateway's live catalogue where it has them; see ``aimlcat models --help``).
    input_modalities: tuple[str, ...] = ()
    output_modalities: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "aliases": list(self.aliases), "developer": self.developer,
            "kind": self.kind, "status": self.status, "status_since": self.status_since,
            "replacement": self.replacement, "base_model": self.base_model,
            "context_window": self.context_window, "endpoints": list(self.endpoints),
            "modalities": {"input": list(self.input_modalities),
                           "output": list(self.output_modalities)},
            "capabilities": list(self.capabilities),
        }


class Catalog:
    """The compiled catalog. Build one with :func:`load_catalog`."""

    def __init__(self, index: dict[str, Any], schema_dir: Path) -> None:
        if index.get("format") != _INDEX_FORMAT:
            raise CatalogError([CatalogProblem(
                file=str(schema_dir / "index.json"), line=None, key="format",
                message=f"index format {index.get('format')!r} is not {_INDEX_FORMAT}; "
                        "run `aimlcat build` with this version of aimlcat")])
        self.schema_dir = schema_dir
        self.version: str = index["catalog_version"]
        self.source: str = index.get("source", "")
        self._models: dict[str, dict[str, Any]] = index["models"]
        # Endpoints name their parameter summary by position in `parameter_sets`
        # (written once however many models share it); put the shared dict in place.
        shared: list[dict[str, Any]] = index.get("parameter_sets", [])
        abilities: list[dict[str, list[str]]] = index.get("ability_sets", [])
        for rec in self._models.values():
            for ep in rec["endpoints"].values():
                if isinstance(ep["parameters"], int):
                    ep["parameters"] = shared[ep["parameters"]]
            if isinstance(rec.get("abilities"), int):
                rec["abilities"] = abilities[rec["abilities"]]
        #: modality -> {parts, parameters}; capability -> {live}
        self.modality_names: dict[str, dict[str, Any]] = index.get("modalities", {})
        self.capability_names: dict[str, dict[str, Any]] = index.get("capabilities", {})
        #: content part tag -> modality; top-level parameter -> modality (input carriers)
        self.part_modality: dict[str, str] = {
            t: n for n, e in self.modality_names.items() for t in e.get("parts", ())}
        self.parameter_modality: dict[str, str] = {
            p: n for n, e in self.modality_names.items() for p in e.get("parameters", ())}
        self._endpoints: dict[str, dict[str, Any]] = index["endpoints"]
        self._synonyms: dict[str, list[str]] = {}
        for group in index.get("synonyms", []):
            for name in group:
                self._synonyms[name] = [n for n in group if n != name]
        self._ids: dict[str, str] = {}
        for mid, rec in self._models.items():
            self._ids[mid] = mid
            for alias in rec["aliases"]:
                self._ids[alias] = mid
        self._paths: dict[str, str] = {}
        for path, ep in self._endpoints.items():
            self._paths[path] = path
            for alias in ep["aliases"]:
                self._paths[alias] = path
        self._validators: dict[tuple[str, str, bool], Any] = {}
        self._shared_validators: dict[bytes, Any] = {}
        self._shared_precise_validators: dict[bytes, Any] = {}
        self._property_validators: dict[tuple[str, str, bool], _Lazy] = {}
        self._plans: dict[tuple[str, str], EndpointPlan] = {}
        self._endpoint_memo: dict[str, str | None] = {}
        self._infer_memo: dict[tuple[str, ...], Any] = {}
        #: The validator's lane: body shapes known to need only the engine's verdict.
        self.lanes: dict[tuple[str | None, ...], tuple[Any, ...]] = {}
        #: Hints of unknown parameters, by (key, endpoint, parameter set): see _validator.
        self.hint_memo: dict[tuple[str, str, int], str] = {}
        self._guess_memo: dict[str, list[str]] = {}
        self._active_kinds: frozenset[str] | None = None
        self._property_schemas: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._registry_precise: Any = None
        self._fast_table: _FastDefs | None = None
        self._takers: dict[str, list[tuple[str, frozenset[str]]]] | None = None
        self._schemas: dict[str, dict[str, Any]] = {}

    def forget_bodies(self) -> None:
        """Forget what was learnt from the bodies seen so far (the lane's shapes, inferred
        endpoints, hints, close ids); validators and schemas stay built. The bench calls
        it so that a repeated pass over the same files is timed like a first one."""
        for memo in (self.lanes, self._infer_memo, self.hint_memo, self._guess_memo):
            memo.clear()

    # -- lookups -------------------------------------------------------------
    def resolve(self, model: str) -> str | None:
        """The canonical id of ``model`` (an id or an alias), or None."""
        return self._ids.get(model)

    def __contains__(self, model: object) -> bool:
        return isinstance(model, str) and model in self._ids

    def __len__(self) -> int:
        return len(self._models)

    def ids(self) -> list[str]:
        """Every id and alias the catalog resolves."""
        return list(self._ids)

    def model(self, model: str) -> ModelInfo:
        """The record of ``model`` (id or alias); KeyError when unknown."""
        mid = self._ids.get(model)
        if mid is None:
            raise KeyError(model)
        rec = self._models[mid]
        ab = rec.get("abilities") or _NO_ABILITIES
        return ModelInfo(
            id=mid, aliases=tuple(rec["aliases"]), developer=rec["developer"], kind=rec["kind"],
            status=rec["status"], status_since=rec.get("status_since"),
            replacement=rec.get("replacement"), base_model=rec.get("base_model"),
            context_window=rec.get("context_window"), notes=rec.get("notes"),
            endpoints=tuple(rec["endpoints"]), input_modalities=tuple(ab["input"]),
            output_modalities=tuple(ab["output"]), capabilities=tuple(ab["capabilities"]))

    def abilities(self, model: str) -> dict[str, list[str]]:
        """``{"input": [...], "output": [...], "capabilities": [...]}`` of a model (id or alias)."""
        return self._models[self._ids[model]].get("abilities") or _NO_ABILITIES

    def model_record(self, model: str) -> dict[str, Any]:
        """The raw index record of a model (endpoints with parameter summaries)."""
        return self._models[self._ids[model]]

    def endpoints(self, *, current: bool = False) -> list[str]:
        """Every endpoint's canonical path; with ``current``, only those that are not legacy."""
        if current:
            return [p for p, ep in self._endpoints.items() if not ep.get("legacy")]
        return list(self._endpoints)

    def synonyms(self, name: str) -> list[str]:
        return self._synonyms.get(name, [])

    def canonical_endpoint(self, endpoint: str) -> str | None:
        """The catalog path for an endpoint given as a path or URL, with or without ``/v1``."""
        if endpoint in self._endpoint_memo:
            return self._endpoint_memo[endpoint]
        hit = self._canonical_endpoint(endpoint)
        if len(self._endpoint_memo) < 1024:  # request logs repeat a handful of URLs
            self._endpoint_memo[endpoint] = hit
        return hit

    def _canonical_endpoint(self, endpoint: str) -> str | None:
        path = endpoint_path(endpoint)
        hit = self._paths.get(path)
        if hit is None and path.startswith("/v1/") and doubled_version(path) is None:
            # Under a https://api.aimlapi.com/v1 base URL, /v1/chat/completions is
            # spelled /chat/completions; a full URL then carries /v1 once more. Not a
            # second version, though: /v1/v1/chat/completions and /v1/v2/... are
            # served by no one (AML204, naming the path the gateway serves).
            hit = self._paths.get(path[3:])
        return hit

    # -- queries -------------------------------------------------------------
    def models(self, *, supports: str | None = None, kind: str | None = None,
               status: str | None = None, endpoint: str | None = None,
               input: str | Iterable[str] | None = None,
               output: str | Iterable[str] | None = None,
               modality: str | Iterable[str] | None = None,
               capability: str | Iterable[str] | None = None,
               match_all: bool = False) -> list[ModelInfo]:
        """Models matching every filter given.

        ``supports`` is ``PARAM`` or ``PARAM=VALUE`` (VALUE read as JSON when it
        parses, else as a string): models whose parameters include PARAM on some
        endpoint, and accept VALUE for it where one is given.

        ``input``, ``output``, ``modality`` (input or output) and ``capability``
        each take a name, a comma-separated list or a list of names, like the
        gateway's ``GET /v1/models`` filters: the names of one filter are OR-ed,
        different filters AND-ed. With ``match_all`` the names of one filter are AND-ed
        too: a model must take (give, have) each of them, as one request needing an image
        and audio input does. An unknown name is a :class:`UsageError`, and so is,
        when nothing matches, a ``kind`` or a ``supports`` parameter no model has; a
        ``status`` other than ``active``, ``deprecated`` or ``removed`` always is."""
        if status is not None and status not in STATUSES:
            raise _unknown("status", status, STATUSES)
        wanted_in = self._names(input, self.modality_names, "modality")
        wanted_out = self._names(output, self.modality_names, "modality")
        wanted_any = self._names(modality, self.modality_names, "modality")
        wanted_caps = self._names(capability, self.capability_names, "capability")
        want_value: Any = _NOVALUE
        param = supports
        if supports is not None and "=" in supports:
            param, raw = supports.split("=", 1)
            try:
                want_value = json.loads(raw)
            except ValueError:
                want_value = raw
        path = None
        if endpoint is not None:
            path = self.canonical_endpoint(endpoint)
            if path is None:
                import difflib

                guess = difflib.get_close_matches("/" + endpoint.strip("/"), self.endpoints(),
                                                  n=1, cutoff=0.6)
                tail = (f"; did you mean {guess[0]}?" if guess
                        else f"; known: {', '.join(self.endpoints())}")
                raise UsageError(f"unknown endpoint {endpoint!r}{tail}")
        out = []
        for mid, rec in self._models.items():
            if kind is not None and rec["kind"] != kind:
                continue
            if status is not None and rec["status"] != status:
                continue
            if wanted_in or wanted_out or wanted_any or wanted_caps:
                ab = rec.get("abilities") or _NO_ABILITIES
                if match_all:
                    if not (wanted_in.issubset(ab["input"])
                            and wanted_out.issubset(ab["output"])
                            and wanted_any.issubset({*ab["input"], *ab["output"]})
                            and wanted_caps.issubset(ab["capabilities"])):
                        continue
                else:
                    if wanted_in and wanted_in.isdisjoint(ab["input"]):
                        continue
                    if wanted_out and wanted_out.isdisjoint(ab["output"]):
                        continue
                    if wanted_any and wanted_any.isdisjoint(ab["input"]) \
                            and wanted_any.isdisjoint(ab["output"]):
                        continue
                    if wanted_caps and wanted_caps.isdisjoint(ab["capabilities"]):
                        continue
            eps = rec["endpoints"]
            if path is not None and path not in eps:
                continue
            if param is not None:
                scope = [eps[path]] if path is not None else list(eps.values())
                if not any(param in ep["parameters"]
                           and _accepts(ep["parameters"][param], want_value) for ep in scope):
                    continue
            out.append(self.model(mid))
        if not out:
            self._check_unknown(kind, param)
        return out

    def _check_unknown(self, kind: str | None, param: str | None) -> None:
        """Raise :class:`UsageError` for a ``kind`` or a parameter no model has, so that a
        typo is not answered with an empty list as if nothing matched."""
        import difflib

        if kind is not None:
            kinds = sorted({rec["kind"] for rec in self._models.values()})
            if kind not in kinds:
                raise _unknown("kind", kind, kinds)
        if param is not None:
            params = {p for rec in self._models.values() for ep in rec["endpoints"].values()
                      for p in ep["parameters"]}
            if param not in params:
                guess = difflib.get_close_matches(param, sorted(params), n=3, cutoff=0.7)
                tail = f"; did you mean {', '.join(map(repr, guess))}?" if guess else ""
                raise UsageError(f"no model takes a parameter {param!r}{tail}")

    @staticmethod
    def _names(value: str | Iterable[str] | None, known: dict[str, Any],
               what: str) -> frozenset[str]:
        """The names of one filter (comma-separated and repeated values), each checked."""
        if value is None:
            return frozenset()
        raw = [value] if isinstance(value, str) else list(value)
        names = [n.strip() for item in raw for n in str(item).split(",") if n.strip()]
        if raw and not names:  # `--input ""` (an empty variable) would filter nothing out
            raise UsageError(f"no {what} named in {', '.join(map(repr, raw))}; known: "
                             f"{', '.join(known)}")
        for n in names:
            if n not in known:
                raise _unknown(what, n, list(known))
        return frozenset(names)

    def capable(self, path: str, *, inputs: Iterable[str] = (), capabilities: Iterable[str] = (),
                like: str | None = None, limit: int = 3) -> list[str]:
        """Active models served on ``path`` that take every modality in ``inputs`` and have
        every capability in ``capabilities``: the ones closest to the model ``like`` first
        (same kind, then same developer, then the longest shared id prefix), then the
        shortest id (undated names before snapshots)."""
        need_in, need_caps = set(inputs), set(capabilities)
        me = self._models.get(self._ids.get(like or "", ""), {})
        dev, kind, mid = me.get("developer"), me.get("kind"), self._ids.get(like or "", "")
        found = []
        for other, rec in self._models.items():
            if other == mid or rec["status"] != "active" or path not in rec["endpoints"]:
                continue
            ab = rec.get("abilities") or _NO_ABILITIES
            if need_in.issubset(ab["input"]) and need_caps.issubset(ab["capabilities"]):
                found.append(other)

        def closeness(other: str) -> tuple[bool, bool, int, int, str]:
            rec = self._models[other]
            shared = len(os.path.commonprefix([mid, other])) if mid else 0
            return (rec["kind"] != kind, rec["developer"] != dev, -shared, len(other), other)

        return sorted(found, key=closeness)[:limit]

    # -- schemas and validation -------------------------------------------------
    def schema(self, model: str, endpoint: str | None = None) -> dict[str, Any]:
        """The compiled JSON Schema of ``model`` on ``endpoint`` (its only one when omitted).

        A copy, the caller's to change: the catalog's own builds its validators."""
        mid = self._ids[model]
        eps = self._models[mid]["endpoints"]
        if endpoint is None:
            if len(eps) != 1:
                raise UsageError(f"{mid} has {len(eps)} endpoints; name one: {', '.join(eps)}")
            path = next(iter(eps))
        else:
            found = self.canonical_endpoint(endpoint)
            if found is None or found not in eps:
                raise UsageError(f"{mid} is not served on {endpoint}; it is on {', '.join(eps)}")
            path = found
        return copy.deepcopy(self.endpoint_schema(mid, path))

    def endpoint_schema(self, mid: str, path: str) -> dict[str, Any]:
        """The compiled schema of a canonical model id on a canonical endpoint path (cached)."""
        return self._load_schema(self._models[mid]["endpoints"][path]["schema"])

    def _load_schema(self, rel: str) -> dict[str, Any]:
        schema = self._schemas.get(rel)
        if schema is None:
            # orjson: a schema is read only to build a validator, which imports it anyway;
            # defs.json (190 KB) takes 3 ms, against 8 with the standard parser.
            import orjson

            p = self.schema_dir / rel
            try:
                schema = orjson.loads(p.read_bytes())
            except (OSError, ValueError) as exc:
                raise CatalogError([CatalogProblem(file=str(p), line=None, key="",
                                                   message=f"compiled schema unreadable: {exc}; "
                                                           "run `aimlcat build`")]) from None
            self._schemas[rel] = schema
        return schema

    def defs(self) -> dict[str, Any]:
        return self._load_schema("defs.json")

    # Two forms of every schema. The published ("precise") form writes tagged
    # unions as if/then keyed on the discriminator, so errors land inside the
    # right variant; jsonschema-rs evaluates if/then about 3x slower than anyOf.
    # The "fast" form, derived here, writes each union as anyOf of (if and then)
    # branches: the same verdicts (the loader guarantees distinct discriminator
    # values), used for every yes/no question. Errors are read from the precise
    # form only, and only for the top-level values that failed.
    def _registry(self) -> Any:
        """The precise form's registry: ``defs.json`` as published (its errors' paths)."""
        if self._registry_precise is None:
            import jsonschema_rs

            defs = self.defs()
            self._registry_precise = jsonschema_rs.Registry([(defs["$id"], defs)])
        return self._registry_precise

    def _build(self, schema: dict[str, Any], fast: bool, compact: bool = False) -> Any:
        """A jsonschema-rs validator of the fast or the precise form; with ``compact``
        (yes/no questions only), the compact checker's program where it reads the
        schema (aimlcat/_compact.py), which answers ``is_valid`` alone."""
        import jsonschema_rs

        if fast:
            # Standalone: the definitions it reaches travel in its own `$defs`. No
            # registry of all 250-odd (7 ms to make, and their fast form 7 more, on the
            # first validator a process builds); the validator is the same either way.
            if self._fast_table is None:  # (two threads may each make one: both right)
                self._fast_table = _FastDefs(self.defs())
            standalone = self._fast_table.standalone(fast_form(schema))
            from . import _compact

            if compact and _compact.AVAILABLE:
                try:
                    return _compact.program(standalone, _Fallback(standalone).is_valid)
                except _compact.Unsupported:
                    pass
            return jsonschema_rs.validator_for(standalone, validate_formats=True)
        return jsonschema_rs.validator_for(schema, registry=self._registry(),
                                           validate_formats=True)

    def validator(self, mid: str, path: str, *, fast: bool = True) -> Any:
        """The whole-body validator of a canonical model id and endpoint path (cached)."""
        key = (mid, path, fast)
        v = self._validators.get(key)
        if v is None:
            v = self._validators[key] = self._build(self.endpoint_schema(mid, path), fast)
        return v

    def property_schema(self, mid: str, path: str, name: str) -> dict[str, Any]:
        """The schema of one top-level parameter, standing alone (refs still resolve; cached)."""
        key = (mid, path, name)
        out = self._property_schemas.get(key)
        if out is None:
            schema = self.endpoint_schema(mid, path)
            out = self._property_schemas[key] = {
                "$schema": schema["$schema"], "$id": schema["$id"], **schema["properties"][name]}
        return out

    def property_validators(self, mid: str, path: str, *, fast: bool = True) -> dict[str, Any]:
        """Validators of each top-level parameter's value, built on first lookup (cached)."""
        key = (mid, path, fast)
        table = self._property_validators.get(key)
        if table is None:
            table = self._property_validators[key] = _Lazy(
                lambda name: self._shared_validator(self.property_schema(mid, path, name), fast))
        return table

    def plan(self, mid: str, path: str) -> EndpointPlan:
        """Everything validation needs about one model × endpoint, in one cached lookup."""
        key = (mid, path)
        plan = self._plans.get(key)
        if plan is None:
            ep = self._models[mid]["endpoints"][path]
            params = ep["parameters"]
            plan = self._plans[key] = EndpointPlan(
                params=params, removed=ep.get("removed", {}), legacy=ep.get("legacy"),
                plain=frozenset(k for k, s in params.items() if "deprecated" not in s),
                required=tuple(k for k, s in params.items() if s.get("required")),
                fast=self._verdict_validator(mid, path))
        return plan

    def _verdict_validator(self, mid: str, path: str) -> Any:
        """The fast validator of a body whose ``model`` already resolved to ``mid``.

        Validation looks the model up before the schema runs, so the schema's
        ``model`` enum can only pass. Without it, and without annotations, many
        model x endpoint schemas are the same schema: those share one validator.
        Building one costs about a millisecond, and a lint of many files runs
        several hundred of them; fewer, shared validators also stay in the CPU's
        caches (measured: 10 µs per body when each file hits another validator,
        1.5 µs when they repeat)."""
        return self._shared_validator(verdict_form(self.endpoint_schema(mid, path)))

    def _shared_validator(self, schema: dict[str, Any], fast: bool = True) -> Any:
        """A validator of ``schema``, one per distinct schema. The fast form drops the
        annotations first; the precise form keeps them, since its errors quote them."""
        import orjson

        form = _strip(schema) if fast else dict(schema)
        form["$id"] = _VERDICT_ID
        key = orjson.dumps(form, option=orjson.OPT_SORT_KEYS)
        cache = self._shared_validators if fast else self._shared_precise_validators
        v = cache.get(key)
        if v is None:
            v = cache[key] = self._build(form, fast=fast, compact=fast)
        return v

    def close_ids(self, model: str) -> list[str]:
        """Known ids that an unknown ``model`` may be a typo of (closest first).

        Remembered: a request log repeats its unknown ids (``aimlcat audit`` would
        otherwise pay a fuzzy match over every id, ~1 ms, on each such line)."""
        hit = self._guess_memo.get(model)
        if hit is None:
            from ._validator import _close

            hit = _close(model, self.ids(), cutoff=0.6)
            if len(self._guess_memo) < 1024:
                self._guess_memo[model] = hit
        return hit

    def active_kinds(self) -> frozenset[str]:
        """The kinds (chat, image, ...) that have at least one active model."""
        if self._active_kinds is None:
            self._active_kinds = frozenset(rec["kind"] for rec in self._models.values()
                                           if rec["status"] == "active")
        return self._active_kinds

    def inferred_endpoint(self, mid: str, payload: dict[str, Any]) -> str | None:
        """The endpoint a body for ``mid`` (served on several) is meant for, or None when
        its keys do not tell. Remembered by the body's keys: bodies repeat their shape."""
        key = (mid, *payload)
        hit = self._infer_memo.get(key, _NOVALUE)
        if hit is _NOVALUE:
            from ._validator import _infer_endpoint

            hit = _infer_endpoint(self, self._models[mid]["endpoints"], payload)
            if len(self._infer_memo) < 4096:
                self._infer_memo[key] = hit
        return hit  # type: ignore[no-any-return]

    def takers(self, param: str, path: str | None = None) -> list[str]:
        """Active models that take ``param`` on some endpoint, or on ``path`` when one is
        given (an index built on first use)."""
        if self._takers is None:
            index: dict[str, list[tuple[str, frozenset[str]]]] = {}
            for mid, rec in self._models.items():
                if rec["status"] != "active":
                    continue
                where: dict[str, set[str]] = {}
                for p, ep in rec["endpoints"].items():
                    for n in ep["parameters"]:
                        where.setdefault(n, set()).add(p)
                for n, paths in where.items():
                    index.setdefault(n, []).append((mid, frozenset(paths)))
            self._takers = index
        return [mid for mid, paths in self._takers.get(param, ())
                if path is None or path in paths]

    def validate(self, payload: Any, endpoint: str | None = None) -> Report:
        """Check one request body; see :func:`aimlcat.validate`."""
        if endpoint is not None and not isinstance(endpoint, str):
            raise TypeError(f"endpoint must be a str (a path such as /v1/chat/completions, "
                            f"or a URL) or None, not {type(endpoint).__name__}")
        try:
            return _VALIDATE[0](self, payload, endpoint)
        except ValueError as exc:
            # The schema engine's word for a Python value JSON has no form for
            # (`[...]` copied from an example, a set, a key that is not a string): say
            # what validate() takes.
            if not str(exc).startswith(("Unsupported type", "Dict key must be str")):
                raise
            # A subclass of str, int or float (numpy.float64, a str subclass) is the value
            # json.dumps and the SDKs send; the engine takes only the exact types. Check
            # the same body with them made plain (only here, after the engine refused).
            try:
                plain = _plain_json(payload)
            except (_NotJson, RecursionError):
                raise TypeError(f"a request body holds JSON values only (dict, list, str, "
                                f"int, float, bool, None), as json.loads returns them: "
                                f"{exc}") from None
            return _VALIDATE[0](self, plain, endpoint)


def _unknown(what: str, name: str, known: Sequence[str]) -> UsageError:
    """The error for a filter value the catalog does not know: the closest known name
    as a did-you-mean, else every known name."""
    import difflib

    guess = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    tail = f"; did you mean {guess[0]!r}?" if guess else f"; known: {', '.join(known)}"
    return UsageError(f"unknown {what} {name!r}{tail}")


class _NotJson(Exception):
    """A value with no JSON form (a set, a key that is no string)."""


def _plain_json(value: Any) -> Any:
    """``value`` with every str, int and float subclass (``numpy.float64``, an ``IntEnum``,
    a ``str`` subclass, keys too) made the exact type, as ``json.dumps`` would write it;
    tuples as lists. Raises :class:`_NotJson` for anything JSON has no form for."""
    if value is None or value.__class__ in (str, int, float, bool):
        return value
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise _NotJson
            out[str.__str__(k)] = _plain_json(v)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    raise _NotJson


def _first_validate(cat: Catalog, payload: Any, endpoint: str | None) -> Report:
    # The validator imports this module: it is imported on first use, then called
    # directly (an import statement or a cached lookup per call costs more).
    from ._validator import validate_payload

    _VALIDATE[0] = validate_payload
    return validate_payload(cat, payload, endpoint)


_VALIDATE: list[Callable[[Catalog, Any, str | None], Report]] = [_first_validate]


#: The gateway's paths that serve no model (account and catalogue services, and fetching a
#: transcription by its id), as its documents list them, with what each serves;
#: ``{...}`` is one path segment. Not endpoints: a request to one is never checked, and a
#: body sent there is no model request. They matter where a base URL ends in one
#: (``check_base_url``).
SERVICE_PATHS: dict[str, str] = {
    "/v1/models": "the model list", "/models/metrics": "model metrics",
    "/v1/key": "API keys", "/v1/keys": "API keys", "/v1/keys/{prefix}": "API keys",
    "/v1/billing/balance": "billing", "/v1/stt/{generation_id}": "a transcription by its id",
    "/v2/billing": "billing", "/v2/billing/detail": "billing",
    "/v2/billing/transactions": "billing", "/v2/logs": "request logs", "/v2/usage": "usage",
    "/v2/usage/detail": "usage"}


def endpoint_path(endpoint: str) -> str:
    """The path an endpoint argument names, with one leading slash and none at the end:
    what :meth:`Catalog.canonical_endpoint` looks up.

    A URL's path, or the text up to its query (``?``) or fragment (``#``), as RFC 3986
    reads a path. Neither names the endpoint: the query goes to it, and the fragment is
    never sent at all (httpx and the SDKs leave it out of the request line), so
    ``/v1/chat/completions#x`` reaches /v1/chat/completions as ``?x=1`` does. A URL
    ``urlsplit`` cannot read (``https://[::1/v1/...``, a broken host) names no path: the
    text is returned whole, which no endpoint matches (AML204, not a traceback)."""
    text = endpoint.strip()
    if "://" in text:
        try:
            text = urlsplit(text).path
        except ValueError:
            return "/" + text.strip("/")
    else:
        text = text.split("?", 1)[0].split("#", 1)[0]
    return "/" + text.strip("/")


def doubled_version(path: str) -> str | None:
    """For ``/v1/v1/chat/completions`` (a base URL that ends in /v1 once too often) or
    ``/v1/v2/video/generations`` (a v2 endpoint reached under a base URL ending in /v1),
    the path the gateway serves (``/v1/chat/completions``, ``/v2/video/generations``);
    else None."""
    if path.startswith("/v1/v") and len(path) > 6 and path[5].isdigit():
        rest = path[3:]
        if rest[3:4] == "/" or (rest[3:4].isdigit() and rest[4:5] == "/"):
            return rest
    return None


#: Keywords that never change a verdict, dropped from the verdict form.
_ANNOTATIONS = frozenset({"title", "description", "examples", "default", "deprecated",
                          "$comment", "readOnly", "writeOnly", "contentMediaType"})
#: Keywords whose value is a map of names to subschemas, and those holding one
#: subschema or a list of them (every other keyword's value is data).
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
_SCHEMA_ONE = frozenset({"items", "additionalProperties", "not", "if", "then", "else",
                         "contains", "propertyNames", "unevaluatedItems",
                         "unevaluatedProperties"})
_SCHEMA_LIST = frozenset({"anyOf", "allOf", "oneOf", "prefixItems"})
#: Every model x endpoint schema sits at the same depth under ``models/``, so a
#: relative ``$ref`` resolves the same against this base as against its own.
_VERDICT_ID = "https://aimlcat.invalid/schemas/models/_/_.json"


def verdict_form(schema: dict[str, Any]) -> dict[str, Any]:
    """An endpoint schema as the valid path needs it: no ``model`` check (the model resolved)."""
    props = schema.get("properties")
    if isinstance(props, dict) and "model" in props:
        return {**schema, "properties": {**props, "model": {"type": "string"}}}
    return schema


def _strip(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k in _ANNOTATIONS or (k.startswith("x-aimlcat-") and k != "x-aimlcat-discriminator"):
            continue
        if k in _SCHEMA_MAPS and isinstance(v, dict):
            out[k] = {name: _strip(sub) for name, sub in v.items()}
        elif k in _SCHEMA_ONE:
            out[k] = _strip(v)
        elif k in _SCHEMA_LIST and isinstance(v, list):
            out[k] = [_strip(sub) for sub in v]
        else:
            out[k] = v
    return out


def fast_form(node: Any) -> Any:
    """The schema with every tagged union as anyOf of (if and then) branches (same verdicts).

    The union's own check of its tag (``properties: {TAG: {enum}}``, ``required: [TAG]``)
    goes too when the branches' ``if`` s say the same (each requires the tag and pins it to
    one of exactly those values): anyOf then passes only for one of them. It is there for
    the precise form's errors; in the engine it cost about 50 ns a message."""
    if isinstance(node, dict):
        out = {k: fast_form(v) for k, v in node.items()}
        tag = out.get("x-aimlcat-discriminator")
        if tag is not None:
            branches = out.pop("allOf")
            out["anyOf"] = [{"allOf": [b["if"], b["then"]]} for b in branches]
            if _tag_checked_by_branches(out, tag, [b["if"] for b in branches]):
                del out["properties"], out["required"]
        return out
    if isinstance(node, list):
        return [fast_form(v) for v in node]
    return node


def fast_defs(defs: dict[str, Any]) -> dict[str, Any]:
    """:func:`fast_form` of ``defs.json``, where moreover a union's branch that refers to a
    definition checking the tag to the branch's own value refers to a copy that does not
    (``NAME__TAG_known``): inside the branch the tag is that value already. The
    definition itself is kept for its other uses. About 25 ns a message.

    All definitions at once; validators take them one at a time from :class:`_FastDefs`
    (this is that, for every definition, in their order)."""
    table = _FastDefs(defs)  # (its own: no other thread sees it)
    fast = {name: table.get(name) for name in defs["$defs"]}
    fast.update(table.copies())
    return {k: fast if k == "$defs" else fast_form(v) for k, v in defs.items()}


class _Fallback:
    """The jsonschema-rs validator of a compact program's schema, built on first need:
    the verdict on a value the compact checker is unsure of (aimlcat/_compact.py)."""

    __slots__ = ("_schema", "_validator")

    def __init__(self, schema: dict[str, Any]) -> None:
        self._schema = schema
        self._validator: Any = None

    def is_valid(self, value: Any) -> bool:
        validator = self._validator
        if validator is None:  # (two threads may each build one: both right)
            import jsonschema_rs

            validator = jsonschema_rs.validator_for(self._schema, validate_formats=True)
            self._validator = validator
        return bool(validator.is_valid(value))


class _FastDefs:
    """The fast form of ``defs.json``'s definitions (see :func:`fast_defs`), each made
    when first asked for.

    :meth:`standalone` gives a fast-form schema its own ``$defs``: the definitions
    it reaches, refs made local. A definition comes out the same whatever order they
    are asked for in: ``tests/test_engines.py`` checks each against :func:`fast_defs`."""

    def __init__(self, defs: dict[str, Any]) -> None:
        self._source: dict[str, Any] = defs["$defs"]
        self._table: dict[str, Any] = {}  # name -> fast form (variants too)
        self._scanned: set[str] = set()  # names whose unions point at their variants
        self._base: dict[str, str] = {}  # variant -> the definition it copies
        self._refs_of: dict[str, frozenset[str]] = {}  # name -> the names it refers to
        self._lock = threading.Lock()

    def standalone(self, form: dict[str, Any]) -> dict[str, Any]:
        names: set[str] = set()
        out: dict[str, Any] = _localised(form, names)
        table: dict[str, Any] = {}
        todo = sorted(names)
        # One thread at a time: a definition is rewritten in place when first asked
        # for, and a Dask worker validates in several threads.
        with self._lock:
            while todo:
                name = todo.pop()
                if name in table:
                    continue
                table[name] = self.get(name)
                todo.extend(n for n in self._refs_of[name] if n not in table)
        out["$defs"] = table
        return out

    def _fast(self, name: str) -> Any:
        node = self._table.get(name)
        if node is None:
            node = self._table[name] = fast_form(self._source[name])
        return node

    def get(self, name: str) -> Any:
        """A definition's fast form (or a copy's), its unions' branches pointing at copies."""
        base = self._base.get(name, name)
        node = self._fast(base)
        if base not in self._scanned:
            self._scanned.add(base)
            self._point_at_variants(node)
        if name not in self._refs_of:  # final now: only a copy shares its nodes, and
            found: set[str] = set()  # the definition it copies was scanned above
            _refs(self._table[name], found)
            self._refs_of[name] = frozenset(found)
        return self._table[name]

    def copies(self) -> dict[str, Any]:
        """The ``NAME__TAG_known`` copies made so far."""
        return {name: self._table[name] for name in self._base}

    def _point_at_variants(self, root: Any) -> None:
        # A copy is shallow: what this rewrites below a definition reaches its copy too,
        # in whichever order definitions come.
        stack: list[Any] = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
                continue
            if not isinstance(node, dict):
                continue
            stack.extend(node.values())
            tag = node.get("x-aimlcat-discriminator")
            if tag is None or not isinstance(node.get("anyOf"), list):
                continue
            for branch in node["anyOf"]:
                cond, then = branch["allOf"]
                value = cond.get("properties", {}).get(tag, {}).get("const")
                ref = then.get("$ref") if len(then) == 1 else None
                if not isinstance(value, str) or not isinstance(ref, str) \
                        or not ref.startswith("#/$defs/"):
                    continue
                name = ref[len("#/$defs/"):]
                if name not in self._source:
                    continue
                target = self._fast(name)
                if not isinstance(target, dict):
                    continue
                own = target.get("properties", {}).get(tag)
                if (isinstance(own, dict) and set(own) <= {"type", "enum"}
                        and own.get("enum") == [value] and own.get("type") in (None, "string")):
                    variant = f"{name}__{tag}_known"
                    if variant not in self._table:
                        self._table[variant] = {**target,
                                                "properties": {**target["properties"], tag: True}}
                        self._base[variant] = name
                    branch["allOf"][1] = {"$ref": "#/$defs/" + variant}


_DEFS_REF = "#/$defs/"


def _localised(node: Any, names: set[str]) -> Any:
    """A copy of the schema ``node`` whose refs into ``defs.json`` are local
    (``#/$defs/NAME``), their names added to ``names``. Only schema positions are
    read: a ``$ref`` inside ``const``, ``enum`` or ``examples`` is data, kept as it is."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k == "$ref" and isinstance(v, str) and _DEFS_REF in v:
            name = v[v.index(_DEFS_REF) + len(_DEFS_REF):]
            names.add(name)
            out[k] = _DEFS_REF + name
        elif k in _SCHEMA_MAPS and isinstance(v, dict):
            out[k] = {key: _localised(sub, names) for key, sub in v.items()}
        elif k in _SCHEMA_ONE:
            out[k] = _localised(v, names)
        elif k in _SCHEMA_LIST and isinstance(v, list):
            out[k] = [_localised(sub, names) for sub in v]
        else:
            out[k] = v
    return out


def _refs(node: Any, names: set[str]) -> None:
    """The names of the definitions the schema ``node`` refers to (schema positions
    only, as :func:`_localised` reads them)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if not isinstance(n, dict):
            continue
        ref = n.get("$ref")
        if isinstance(ref, str) and ref.startswith(_DEFS_REF):
            names.add(ref[len(_DEFS_REF):])
        for k, v in n.items():
            if k in _SCHEMA_MAPS and isinstance(v, dict):
                stack.extend(v.values())
            elif k in _SCHEMA_ONE:
                stack.append(v)
            elif k in _SCHEMA_LIST and isinstance(v, list):
                stack.extend(v)


def _tag_checked_by_branches(node: dict[str, Any], tag: str, ifs: list[Any]) -> bool:
    props = node.get("properties")
    if not isinstance(props, dict) or set(props) != {tag} or node.get("required") != [tag]:
        return False
    own = props[tag]
    if not isinstance(own, dict) or not set(own) <= {"enum", "type"} or own.get("type") not in (
            None, "string") or not isinstance(own.get("enum"), list):
        return False
    consts = []
    for cond in ifs:
        pinned = cond.get("properties", {}).get(tag) if isinstance(cond, dict) else None
        if (set(cond) != {"properties", "required"} or cond["required"] != [tag]
                or set(cond["properties"]) != {tag} or not isinstance(pinned, dict)
                or set(pinned) != {"const"} or not isinstance(pinned["const"], str)):
            return False
        consts.append(pinned["const"])
    return all(isinstance(v, str) for v in own["enum"]) and set(own["enum"]) == set(consts)


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointPlan:
    """One model × endpoint as validation uses it (see :meth:`Catalog.plan`)."""

    params: dict[str, Any]  # parameter summaries, from the index
    removed: dict[str, Any]  # removed parameters: since, hint
    legacy: dict[str, Any] | None  # the endpoint's replacement, when it is legacy
    plain: frozenset[str]  # parameters that need no per-key finding (not deprecated)
    required: tuple[str, ...]
    fast: Any  # the whole-body validator, fast form


class _Lazy(dict[str, Any]):
    """A dict that builds a missing value with ``make(key)`` and keeps it."""

    def __init__(self, make: Callable[[str], Any]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: str) -> Any:
        value = self[key] = self._make(key)
        return value


_NO_ABILITIES: dict[str, list[str]] = {"input": [], "output": [], "capabilities": []}


class _NoValue:
    pass


_NOVALUE: Any = _NoValue()


def _accepts(summary: dict[str, Any], value: Any) -> bool:
    if value is _NOVALUE:
        return True
    if "enum" in summary:
        return any(_json_equal(value, option) for option in summary["enum"])
    t = summary.get("type")
    if t is not None and not _type_ok(value, t if isinstance(t, list) else [t]):
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in summary and value < summary["minimum"]:
            return False
        if "maximum" in summary and value > summary["maximum"]:
            return False
    return True


def _type_ok(value: Any, types: list[str]) -> bool:
    if value is None:
        return "null" in types
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return "integer" in types or "number" in types
    if isinstance(value, float):
        return "number" in types or ("integer" in types and value.is_integer())
    if isinstance(value, str):
        return "string" in types
    if isinstance(value, list):
        return "array" in types
    return "object" in types


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: true is not 1, but 5 is 5.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


_DEFAULT: dict[str, Catalog] = {}


def read_index(raw: bytes | str) -> dict[str, Any]:
    """Parse a compiled index: with orjson when it is imported already (validation and
    lint import it first: 3 ms against 6 for the 590 KB index), else with the standard
    parser, so that orjson's own import (datetime, uuid, platform...: ~7 ms beyond what
    aimlcat imports anyway) is paid only where a body is parsed or a validator built,
    not by `models`, `stats` or other queries."""
    fast_json = sys.modules.get("orjson")
    index: dict[str, Any] = fast_json.loads(raw) if fast_json is not None else json.loads(raw)
    return index


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Load a compiled catalog (``schemas/`` directory); the bundled one when ``path`` is None.

    The bundled catalog is loaded once per process and shared."""
    key = str(path) if path is not None else ""
    cat = _DEFAULT.get(key)
    if cat is not None:
        return cat
    schema_dir = Path(path) if path is not None else default_schema_dir()
    index_path = schema_dir / "index.json"
    try:
        index = read_index(index_path.read_bytes())
    except FileNotFoundError:
        raise CatalogError([CatalogProblem(
            file=str(index_path), line=None, key="",
            message="no compiled catalog here; run `aimlcat build`")]) from None
    except (OSError, ValueError) as exc:
        raise CatalogError([CatalogProblem(file=str(index_path), line=None, key="",
                                           message=f"unreadable compiled catalog: {exc}")]) from None
    try:
        cat = Catalog(index, schema_dir)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        # Another program's index.json, or one cut short: not a traceback from inside.
        what = f"no {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
        raise CatalogError([CatalogProblem(
            file=str(index_path), line=None, key="",
            message=f"not a compiled aimlcat catalog ({what}); run `aimlcat build`")]) from None
    _DEFAULT[key] = cat
    return cat
