"""Validation of one request body against the catalog: findings, hints, fixes.

Two layers. The semantic layer reads the compiled index: is the model known,
served, on this endpoint; is each top-level key a parameter of this model on
this endpoint, deprecated, removed, or a name another model uses. The schema
layer runs the compiled JSON Schema with jsonschema-rs: one ``is_valid`` call
on the valid path, and only when that fails, the errors, translated into
findings that speak the catalog's language.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import orjson

from ._catalog import Catalog, EndpointPlan, doubled_version, endpoint_path
from ._findings import RULES, Finding, Report, escape_pointer, pointer_from
from ._secrets import redact
from ._tokens import FAMILIES, TOKEN_PATHS, context_findings, plainly_fits

__all__ = ["validate_payload"]


def _f(code: str, pointer: str, message: str, hint: str | None = None,
       fix: dict[str, Any] | None = None, severity: str | None = None) -> Finding:
    # Messages quote the payload (a model id, a value): never a key.
    return Finding(code, severity or RULES[code].severity, pointer, redact(message),
                   redact(hint) if hint else hint, fix)


@functools.lru_cache(maxsize=4096)
def _bigrams(word: str) -> frozenset[str]:
    # Candidates are parameter names: a small, fixed vocabulary worth remembering.
    return frozenset(word[i:i + 2] for i in range(len(word) - 1))


def _close(word: str, options: Any, n: int = 1, cutoff: float = 0.75) -> list[str]:
    """difflib's close matches, after a cheap bigram prefilter.

    A candidate sharing less than a third of its bigrams with ``word`` is no
    typo of it; ruling those out first keeps this off the profile of a failing
    request (difflib alone costs ~1 us per candidate)."""
    import difflib

    mine = _bigrams(word)
    if len(mine) >= 2:
        size = len(mine)
        options = [o for o in options
                   if 3 * len(mine & (b := _bigrams(o))) >= min(size, len(b) or 1)]
    return difflib.get_close_matches(word, list(options), n=n, cutoff=cutoff)


def _json(value: Any, limit: int = 60) -> str:
    """A value as JSON for a message, cut to ``limit`` characters."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits, say
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _jtype(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def validate_payload(cat: Catalog, payload: Any, endpoint: str | None = None) -> Report:
    # The lane: a body for a model and endpoint argument that gave a clean report before
    # (an active model on its current endpoint), whose keys are all plain parameters
    # there, needs only the engine's verdict and the context-window check: every other
    # finding depends on the model, the endpoint or a key that is not plain. Where the
    # endpoint is inferred from the keys (a model served on several), the lane is keyed
    # by the body's exact keys. Anything else, and any body the engine rejects, takes
    # the full path below.
    # A lane is (model, endpoint, the engine's is_valid, token family or None, window,
    # parameter summaries, the model as shown, the plain parameters or None): the window
    # check's cheap test runs here, and only a prompt that may not fit goes on to
    # context_findings.
    rejected = False  # the engine's verdict on the whole body, when the lane asked it
    if payload.__class__ is dict and payload.get("model").__class__ is str:
        lane = cat.lanes.get((endpoint, payload["model"]))
        if lane is None or not payload.keys() <= lane[7]:
            lane = cat.lanes.get((endpoint, *payload, payload["model"]))
        if lane is not None:
            if lane[2](payload):
                report = Report(lane[0], lane[1])
                family = lane[3]
                if family is not None and not plainly_fits(payload, family, lane[4], lane[5]):
                    _window_findings(payload, lane[1], lane[4], lane[5], lane[6],
                                     report.findings)
                return report
            rejected = True  # (the lane's model and endpoint are the ones found below)
    report = Report()
    out = report.findings
    if not isinstance(payload, dict):
        what = _jtype(payload)
        what = what if what == "null" else ("an " if what[0] in "aeiou" else "a ") + what
        out.append(_f("AML001", "", f"the request body is {what}, not a JSON object",
                      "Send an object such as {\"model\": \"gpt-4o\", ...}."))
        return report

    path: str | None = None
    if endpoint is not None:
        path = cat.canonical_endpoint(endpoint)
        if path is None:
            read = endpoint_path(endpoint)
            guess = _close(read, cat.endpoints(), cutoff=0.6)
            served = doubled_version(read)
            if "://" in endpoint and _unreadable_url(endpoint):
                hint = ("It is not a URL a client can send to (its host cannot be read); "
                        "give the path, such as /v1/chat/completions, or a whole URL.")
            elif served and cat.canonical_endpoint(served):
                hint = (f"The path doubles /v1; the gateway serves {served}. Remove one /v1 "
                        "from the client's base URL." if served.startswith("/v1/") else
                        f"{served.split('/')[1]} endpoints are not under /v1; the gateway "
                        f"serves {served}. Send the request to that path.")
            elif guess:
                hint = f"Did you mean {guess[0]}?"
            else:
                hint = "Known endpoints: " + ", ".join(cat.endpoints())
            out.append(_f("AML204", "", f"`{endpoint}` is not an endpoint of the gateway",
                          hint))
            return report
        report.endpoint = path

    model = payload.get("model")
    if model is None:
        out.append(_f("AML101", "/model", "the body names no `model`",
                      "Add \"model\": \"<id>\"; `aimlcat models` lists the ids."))
        return report
    if not isinstance(model, str):
        out.append(_f("AML401", "/model", f"`model` must be a string, not {_jtype(model)}"))
        return report
    mid = cat.resolve(model)
    if mid is None:
        guess = cat.close_ids(model)
        out.append(_f("AML102", "/model", f"`{model}` is not a model the gateway serves",
                      f"Did you mean `{guess[0]}`?" if guess else
                      "`aimlcat models` lists the known ids."))
        return report
    report.model = mid
    rec = cat.model_record(mid)
    shown = mid if model == mid else f"{model} ({mid})"

    status = rec["status"]
    if status == "removed":
        since = f" on {rec['status_since']}" if rec.get("status_since") else ""
        repl = rec.get("replacement")
        if repl:
            hint = f"Switch to `{repl}`." + _migration(cat, mid, repl, payload, path)
        elif rec["kind"] in cat.active_kinds():
            hint = (f"Pick a live {rec['kind']} model: `aimlcat models --kind {rec['kind']} "
                    "--status active`.")
        else:
            hint = (f"The catalog has no live {rec['kind']} model; `aimlcat models "
                    "--status active` lists what is served.")
        base = rec.get("base_model")
        if base and cat.resolve(base) is not None and cat.model(base).status == "active":
            hint += f" Its base model `{base}` is still served."
        out.append(_f("AML103", "/model",
                      f"`{model}` is no longer served: the gateway listed it as removed{since}",
                      hint))
        return report
    if status == "deprecated":
        since = f" since {rec['status_since']}" if rec.get("status_since") else ""
        repl = rec.get("replacement")
        out.append(_f("AML104", "/model", f"`{model}` is deprecated{since}",
                      f"Plan the move to `{repl}`." if repl else None))

    eps: dict[str, Any] = rec["endpoints"]
    if not eps:
        out.append(_f("AML105", "/model",
                      f"the catalog has no documented parameters for `{model}`; "
                      "only the model id was checked"))
        return report

    if path is None:
        path = cat.inferred_endpoint(mid, payload) if len(eps) > 1 else next(iter(eps))
        if path is None:
            out.append(_f("AML202", "", f"{shown} is served on several endpoints "
                          f"({', '.join(eps)}) and the body does not show which",
                          "Pass the endpoint: `--endpoint PATH`, an envelope with \"endpoint\", "
                          "or validate(payload, endpoint=...)."))
            return report
        report.endpoint = path
    elif path not in eps:
        out.append(_f("AML201", "", f"{shown} is not served on {path}",
                      f"Send it to {' or '.join(eps)}."))
        return report

    plan = cat.plan(mid, path)
    legacy = plan.legacy
    if legacy:
        since = f" on {legacy['since']}" if legacy.get("since") else ""
        out.append(_f("AML203", "", f"{path} was replaced by {legacy['replaced_by']}{since}",
                      legacy["hint"]))

    params: dict[str, Any] = plan.params
    removed: dict[str, Any] = plan.removed
    # Most bodies hold only plain parameters: one set difference (in C) says so.
    odd = payload.keys() - plan.plain
    # A key that is no parameter fails the body already: every schema is closed at its
    # top level (`additionalProperties: false`; tests/test_engines.py pins the verdict).
    for key in (k for k in payload if k in odd) if odd else ():
        if key.__class__ is not str:  # only a dict built in Python: JSON keys are strings
            raise ValueError(f"Dict key must be str: {key!r} ({type(key).__name__})")
        summary = params.get(key)
        if summary is not None:
            dep = summary.get("deprecated")
            if dep is not None:
                out.append(_deprecated(key, dep, params, payload, shown, path))
            continue
        rejected = True
        if key in removed:
            r = removed[key]
            since = f" on {r['since']}" if r.get("since") else ""
            out.append(_f("AML303", "/" + escape_pointer(key),
                          f"`{key}` was removed from {shown} on {path}{since}; "
                          "the gateway ignores it", r["hint"],
                          {"op": "remove", "path": "/" + escape_pointer(key)}))
        else:
            out.append(_capability_gap(cat, mid, key, payload, shown, path)
                       or _unsupported(cat, key, params, shown, path))

    window = rec.get("context_window") if path in TOKEN_PATHS else None
    if rejected or not plan.fast.is_valid(payload):
        _schema_findings(cat, mid, path, payload, plan, out, shown)
    elif not out and status == "active" and len(cat.lanes) < _LANES:
        fixed = endpoint is not None or len(eps) == 1  # the keys do not choose the endpoint
        cat.lanes[(endpoint, model) if fixed else (endpoint, *payload, model)] = (
            mid, path, plan.fast.is_valid, FAMILIES.get(path) if window is not None else None,
            window, params, shown, plan.plain if fixed else None)
    if window is not None:
        _window_findings(payload, path, window, params, shown, out)
    return report


#: Body shapes remembered for the lane (request logs repeat a few shapes).
_LANES = 4096


def _window_findings(payload: dict[str, Any], path: str, window: int, params: dict[str, Any],
                     shown: str, out: list[Finding]) -> None:
    """The context window (AML510/AML511): a length sum unless the prompt is large."""
    for code, ptr, message, hint in context_findings(payload, path, window, params, shown):
        out.append(_f(code, ptr, message, hint))


def _non_finite(ptr: str, value: float, want: list[str] | None) -> Finding:
    """AML401 for NaN or an infinity, which the engine reads as null (so its own error
    would say "not null"). True of a dict built in Python, of a YAML ``.inf``, and of a
    JSON file's number past the largest double (``1e400``), which Python reads as inf:
    the hint says what each way of sending does with it. ``want``: the types the place
    takes, when known, for what to send instead."""
    if not want or "number" in want:
        instead = "Send a finite number."
    elif "integer" in want:
        instead = "Send an integer."
    else:
        instead = f"{_name(ptr)} must be {' or '.join(want)}."
    if math.isnan(value):
        return _f("AML401", ptr, f"{_name(ptr)} is nan, which JSON has no number for",
                  "JSON has no NaN. From Python (a dict, a YAML .nan) it cannot go out as a "
                  "number: httpx and the OpenAI and Anthropic SDKs raise ValueError "
                  "(allow_nan=False), json.dumps writes NaN, which is not JSON, and orjson "
                  f"writes null. {instead}")
    sign = "" if value > 0 else "-"
    return _f("AML401", ptr,
              f"{_name(ptr)} is {value!r}, which JSON has no number for (a number past "
              f"±1.8e308, such as {sign}1e400, reads as {value!r})",
              f"From Python (a dict, a YAML {sign}.inf) it cannot go out as a number: httpx "
              "and the OpenAI and Anthropic SDKs raise ValueError (allow_nan=False), "
              f"json.dumps writes {sign}Infinity, which is not JSON, and orjson writes null. "
              f"Written as {sign}1e400 in JSON text (a file, a log line), Python's json and "
              f"JavaScript's JSON.parse read it as an infinity and orjson refuses it. {instead}")


def _value_at(value: Any, path: Any) -> Any:
    """The value at a jsonschema-rs instance path in ``value`` (None when there is none).
    The path gives an object's key that spells a number as an int (``{"50256": ...}``)."""
    for step in path:
        try:
            value = value[str(step)] if isinstance(value, dict) else value[step]
        except (LookupError, TypeError):
            return None
    return value


def _unreadable_url(text: str) -> bool:
    """Whether ``urlsplit`` refuses ``text`` (``https://[::1/v1/...``: a broken host)."""
    from urllib.parse import urlsplit

    try:
        urlsplit(text.strip())
    except ValueError:
        return True
    return False


def _schema_findings(cat: Catalog, mid: str, path: str, payload: dict[str, Any],
                     plan: EndpointPlan, out: list[Finding], shown: str = "") -> None:
    """Only after the whole body failed (a key that is no parameter, or the engine's
    verdict): which values failed, and why.

    The top level (required keys; unknown keys were judged above) is checked
    here in Python; each parameter's value is checked on its own with the fast
    form, and only a failing value is read with the precise form for errors."""
    params = plan.params
    for name in plan.required:
        if name not in payload:
            out.append(_f("AML404", "/" + escape_pointer(name), f"`{name}` is required",
                          f"Add `{name}` to the body."))
    fast = cat.property_validators(mid, path)
    precise = None
    encoded: set[str] = set()  # pointers of the AML409 findings made
    for key, value in payload.items():
        if key not in params or fast[key].is_valid(value):
            continue
        if value.__class__ is float and not math.isfinite(value):
            want = params[key].get("type")
            if want is None:  # a union (a string or an object): what its shapes take
                precise = precise or cat.property_validators(mid, path, fast=False)
                first = next(iter(precise[key].iter_errors(value)), None)
                want = _types_taken(first) if first is not None else None
            out.append(_non_finite("/" + escape_pointer(key), value,
                                   [want] if isinstance(want, str) else want))
            continue
        # A value the model's modalities or capabilities rule out: one finding that says
        # so (and names models that take it) instead of the schema's errors.
        gaps, cleared, inside = _capability_value_gaps(cat, mid, path, key, value, payload,
                                                       shown or mid, fast[key])
        out.extend(gaps)
        if cleared:
            continue
        precise = precise or cat.property_validators(mid, path, fast=False)
        schema = cat.property_schema(mid, path, key)
        try:
            errors = list(precise[key].iter_errors(value))
        except ValueError as exc:
            # jsonschema-rs: "Recursion limit reached" on very deep values. Its other
            # ValueErrors (a key that is no string, met only while listing errors) are
            # Catalog.validate's to turn into its TypeError.
            if not str(exc).startswith("Recursion limit"):
                raise
            out.append(_f("AML004", "/" + escape_pointer(key),
                          f"`{key}` nests too deeply to report what is wrong in it",
                          "Check how this value is built; no request nests hundreds of "
                          "levels deep."))
            continue
        said: set[tuple[str, str, str]] = set()
        start = len(out)
        for err in _meant(cat, schema, errors):
            inner = err.instance_path
            raw = _value_at(value, inner) if inner and err.instance is None else None
            if raw.__class__ is float and not math.isfinite(raw):
                f = _non_finite("/" + escape_pointer(key) + pointer_from(inner), raw,
                                _types_taken(err))
            else:
                f = _schema_finding(cat, schema, err, params, key)
            if inside and any(f.pointer == p or f.pointer.startswith(p + "/") for p in inside):
                continue  # said above, by an AML501
            # A value that fails every branch of a tagged union the same way (a message
            # that is no object fails each role's `then`) gives one error per branch: say
            # it once.
            said_key = (f.code, f.pointer, f.message)
            if said_key in said:
                continue
            said.add(said_key)
            # Base64 data can break `pattern` and `maxLength` at once: one finding says why.
            if f.code == "AML409":
                if f.pointer in encoded:
                    continue
                encoded.add(f.pointer)
            out.append(f)
        _one_per_value(out, start)


def _one_per_value(out: list[Finding], start: int) -> None:
    """A value outside an enum of another type breaks `type` and `enum` at once: the enum's
    finding (AML403, which lists the choices) says both, with the type finding's hint
    when it has one ("send the number without quotes"). ``out[start:]``: one parameter's."""
    if len(out) - start < 2:
        return  # (one finding: nothing to merge)
    mine = out[start:]
    enums = {f.pointer for f in mine if f.code == "AML403"}
    if not enums:
        return
    hints: dict[str, str] = {}
    kept: list[Finding] = []
    for f in mine:
        if f.code == "AML401" and f.pointer in enums:
            if f.hint:
                hints.setdefault(f.pointer, f.hint)
            continue
        kept.append(f)
    out[start:] = [dataclasses.replace(f, hint=hints[f.pointer])
                   if f.code == "AML403" and not f.hint and f.pointer in hints else f
                   for f in kept]


def _migration(cat: Catalog, old: str, repl: str, payload: dict[str, Any],
               path: str | None) -> str:
    """What the body would have to change for ``repl``: keys it calls differently, keys it
    does not take (on the endpoint asked for, else the one the body points at for the
    removed model, else the replacement's best match). When the catalog keeps the removed
    model's last parameters, keys it did not take either are told apart: typos, not
    migration work."""
    rid = cat.resolve(repl)
    eps: dict[str, Any] = cat.model_record(rid)["endpoints"] if rid is not None else {}
    if not eps:
        return ""
    old_eps: dict[str, Any] = cat.model_record(old)["endpoints"]
    if path is None and old_eps:
        path = _infer_endpoint(cat, old_eps, payload)
    where = path if path in eps else _infer_endpoint(cat, eps, payload) or next(iter(eps))
    params = eps[where]["parameters"]
    took: set[str] | None = None  # what the removed model took there, when known
    at = (path if path in old_eps else _infer_endpoint(cat, old_eps, payload)) if old_eps else None
    if at is not None:
        took = {*old_eps[at]["parameters"], *old_eps[at].get("removed", {})}
    renamed, missing, never = [], [], []
    for key in payload:
        if key == "model" or key in params:
            continue
        other = next((s for s in cat.synonyms(key) if s in params), None)
        if other is not None:
            renamed.append(f"`{key}` `{other}`")
        elif took is not None and key not in took:
            never.append(f"`{key}`")
        else:
            missing.append(f"`{key}`")
    text = ""
    if renamed:
        text += f" On {where} it calls " + ", ".join(renamed) + "."
    if missing:
        text += f" It does not take {', '.join(missing)}" + (f" on {where}" if not renamed else "")
        text += "; drop them." if len(missing) > 1 else "; drop it."
    if never:
        text += (f" Neither model takes {', '.join(never)}; drop "
                 + ("them." if len(never) > 1 else "it."))
    return text


def _infer_endpoint(cat: Catalog, eps: dict[str, Any], payload: dict[str, Any]) -> str | None:
    if len(eps) == 1:
        return next(iter(eps))
    current = [p for p, e in eps.items() if not e.get("legacy")]
    if len(current) == 1:
        return current[0]
    # Score each endpoint by how many of the body's keys it knows; a missing
    # required key must be reported, not steer the choice.
    keys = payload.keys() - {"model"}
    scored = sorted(((len(keys & eps[p]["parameters"].keys()), p)
                     for p in (current or list(eps))), reverse=True)
    if scored[0][0] > 0 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1]
    return None


def _deprecated(key: str, dep: dict[str, Any], params: dict[str, Any], payload: dict[str, Any],
                shown: str, path: str) -> Finding:
    ptr = "/" + escape_pointer(key)
    since = f" since {dep['since']}" if dep.get("since") else ""
    fix: dict[str, Any] | None = None
    hint = dep["hint"]
    action = dep["action"]
    if action == "rename":
        to = dep["to"]
        message = f"`{key}` is deprecated on {shown} ({path}){since}; use `{to}`"
        if to in params and to not in payload:
            fix = {"op": "move", "from": ptr, "path": "/" + escape_pointer(to)}
        elif to in payload:
            hint = f"`{to}` is set too; remove `{key}` once its value is in `{to}`."
    elif action == "remove":
        message = f"`{key}` is deprecated on {shown} ({path}){since}; remove it"
        fix = {"op": "remove", "path": ptr}
    else:
        message = (f"this value of `{key}` is deprecated on {shown} ({path}){since}; "
                   f"use {_json(dep.get('value'))}")
        fix = {"op": "replace", "path": ptr, "value": dep.get("value")}
    return _f("AML302", ptr, message, hint, fix)


def _unsupported(cat: Catalog, key: str, params: dict[str, Any], shown: str, path: str) -> Finding:
    ptr = "/" + escape_pointer(key)
    # The hint depends on the key, the endpoint and the parameter set only (shared dicts
    # of the index, alive as long as the catalog): remembered, since files and logs
    # repeat their typos and the fuzzy match costs tens of microseconds.
    memo_key = (key, path, id(params))
    hint = cat.hint_memo.get(memo_key)
    if hint is None:
        hint = _unsupported_hint(cat, key, params, path)
        if len(cat.hint_memo) < 4096:
            cat.hint_memo[memo_key] = hint
    return _f("AML301", ptr, f"`{key}` is not a parameter of {shown} on {path}", hint)


def _unsupported_hint(cat: Catalog, key: str, params: dict[str, Any], path: str) -> str:
    hints = []
    siblings = [s for s in cat.synonyms(key) if s in params]
    if siblings:
        s = siblings[0]
        bounds = _bounds(params[s])
        rng = f" ({bounds})" if bounds else ""
        hints.append(f"This model calls it `{s}`{rng}; check the value before renaming.")
    else:
        guess = _close(key, params)
        if guess:
            hints.append(f"Did you mean `{guess[0]}`?")
    if not hints:
        # Models on this endpoint first: an STT request is not helped by chat models.
        takers = cat.takers(key, path)[:3]
        if takers:
            hints.append(f"Models that take `{key}` on {path}: {', '.join(takers)}.")
        elif cat.takers(key):
            hints.append(f"No model takes `{key}` on {path}.")
    hints.append("The gateway accepts unknown keys silently, so this one would have no effect.")
    return " ".join(hints)


def _bounds(summary: dict[str, Any]) -> str | None:
    """A parameter's numeric bounds in words: "0–2", "at least 1", "at most 5"."""
    lo, hi = summary.get("minimum"), summary.get("maximum")
    if lo is not None and hi is not None:
        return f"{lo}–{hi}"
    if lo is not None:
        return f"at least {lo}"
    if hi is not None:
        return f"at most {hi}"
    return None


# -- schema errors -> findings ---------------------------------------------------

_DEFS_PREFIX = "../../defs.json#/$defs/"


def _subschema(cat: Catalog, schema: dict[str, Any], eval_path: list[Any]) -> Any:
    """Follow an evaluation path through the compiled schema, across ``$ref`` s into defs."""
    node: Any = schema
    defs = None
    for part in eval_path:
        if part == "$ref" and isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            name = ref.split("#/$defs/", 1)[-1]
            if defs is None:
                defs = cat.defs()["$defs"]
            node = defs.get(name, {})
            continue
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
        if node is None:
            return None
    return node


def _name(ptr: str) -> str:
    """How a message names a location: `temperature` at the top, the pointer deeper down."""
    if not ptr:
        return "the body"
    if ptr.count("/") == 1:
        return f"`{ptr[1:].replace('~1', '/').replace('~0', '~')}`"
    return f"`{ptr}`"


#: Error kinds' names by the kind's class, normalised once across jsonschema-rs
#: spellings ("additional_properties", ...).
_KIND_NAMES: dict[type, str] = {}

#: What a top-level value's type, range or enum finding says whatever the value is (its
#: pointer, the message around the value, the hint or what it is made from), by parameter
#: schema, error kind and keyword location: a body that fails pays for its value only.
#: An entry holds its schema, so the schema's id cannot be reused while the entry lives.
_PLACES: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_MAX_PLACES = 4096


def _kind_name(kind: Any) -> str:
    """An error kind's name: ``type``, ``anyof``, ``additionalproperties``..."""
    name = _KIND_NAMES.get(kind.__class__)
    if name is None:
        name = _KIND_NAMES[kind.__class__] = kind.name.replace("_", "").lower()
    return name


# -- unions: which shape a value was meant to have ---------------------------------
#
# A value that fails every branch of an untagged union (anyOf, oneOf) is one error
# whose context holds each branch's errors. Most such values were plainly meant for one
# branch, and reporting that branch's errors says what to change
# (`/input/1/content/0/file_data` is not base64) where "matches none of the shapes"
# does not. Which branch: not one whose type the value lacks; of the others, those
# that declare most of the value's members (an output message's `id` and `status` say
# "output message" louder than its `role` says "input message"; an item reference that
# only declares `id` says nothing about a message); of those, the ones whose
# discriminating members (a `type` or `role` const or enum, at any depth) the value
# gets right most often; of those, the ones it fits best (:func:`_closest`).
# Where those are several shapes each ruled out by a discriminating member (a `type` no
# shape has), fitting best would only favour the shape that asks least: the member is
# the error (:func:`_tag_finding`). Where nothing in the value points to a shape, what
# every shape says of it (a missing `type`), else the union's own error (AML408).

#: The kinds of error of an `enum` or `const` (jsonschema-rs spells const both ways). At
#: a member of a union's value they rule the branch out: the member discriminates
#: between the shapes (its `const` or `enum` names another one).
_ENUM_KINDS = frozenset({"enum", "constant", "const"})


def _wanted_types(err: Any) -> list[str] | None:
    """The JSON types ``err`` asks for when it says only that its value has another
    type (a union says so when each of its branches does, at the same value); else
    None."""
    name = _kind_name(err.kind)
    if name == "type":
        return list(err.kind.as_dict().get("types") or [])
    if name == "falseschema":
        return []
    context = getattr(err.kind, "context", None)
    if not context:
        return None
    depth = len(err.instance_path)
    out: list[str] = []
    for branch in context:
        found = None
        for e in branch:
            if len(e.instance_path) == depth:
                found = _wanted_types(e)
                if found is not None:
                    break
        if found is None:
            return None
        out.extend(found)
    return out


def _choices(data: dict[str, Any]) -> list[Any]:
    """The values an enum or const error's ``kind.as_dict()`` allows."""
    return list(data["options"]) if "options" in data else [data.get("expected_value")]


def _types_taken(err: Any) -> list[str] | None:
    """The JSON types the place of ``err`` takes, when it says: those a type error (or a
    union of them) asks for, else those of an enum's or const's choices."""
    want = _wanted_types(err)
    if want is None and _kind_name(err.kind) in _ENUM_KINDS:
        want = [_jtype(o) for o in _choices(err.kind.as_dict())]
    return None if want is None else list(dict.fromkeys(want))


def _type_off(branch: list[Any], depth: int) -> bool:
    """Whether a union branch's errors say its shape takes another JSON type than the
    value (at ``depth``) has: the value was not meant for it."""
    return any(len(e.instance_path) == depth and _wanted_types(e) is not None for e in branch)


def _off_members(branch: list[Any], depth: int) -> set[str]:
    """Members of the union's value (at ``depth``) whose const or enum in ``branch``
    names another value: the shape's discriminators that rule it out."""
    return {e.instance_path[-1] for e in branch
            if len(e.instance_path) == depth + 1 and e.instance_path[-1].__class__ is str
            and _kind_name(e.kind) in _ENUM_KINDS}


def _off_count(branch: list[Any], depth: int) -> int:
    """How many of ``branch``'s errors, at the union's value or inside it, are a member's
    const or enum naming another value: a content part's `type` the shape does not
    know says "another shape" at any depth. A union inside counts as its best shape."""
    n = 0
    for e in branch:
        here = len(e.instance_path)
        if here > depth and e.instance_path[-1].__class__ is str \
                and _kind_name(e.kind) in _ENUM_KINDS:
            n += 1
        elif getattr(e.kind, "context", None):
            inner = [_off_count(b, here) for b in e.kind.context
                     if b and not _type_off(b, here)]
            n += min(inner, default=0)
    return n


def _declared(cat: Catalog, node: Any, seen: int = 0) -> set[str]:
    """The member names a schema declares: its ``properties``, and those of the
    variants it combines (``allOf``/``anyOf``/``oneOf``, ``then``/``else``, ``$ref``)."""
    out: set[str] = set()
    if not isinstance(node, dict) or seen > 8:
        return out
    out.update(node.get("properties") or ())
    ref = node.get("$ref")
    if isinstance(ref, str) and "#/$defs/" in ref:
        out |= _declared(cat, cat.defs()["$defs"].get(ref.split("#/$defs/", 1)[1]), seen + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key) or ():
            out |= _declared(cat, sub, seen + 1)
    for key in ("then", "else"):
        out |= _declared(cat, node.get(key), seen + 1)
    return out


def _overlap(cat: Catalog, schema: dict[str, Any], err: Any, branch: list[Any],
             value: dict[str, Any]) -> int:
    """How many members of ``value`` the union branch (whose errors are ``branch``)
    declares."""
    at = len(err.evaluation_path)
    step = branch[0].evaluation_path
    if len(step) <= at:
        return 0
    where = (id(schema), *err.evaluation_path, step[at])
    entry = _DECLARED.get(where)
    if entry is None:
        path = [*err.evaluation_path, step[at]]
        entry = (schema, frozenset(_declared(cat, _subschema(cat, schema, path))))
        if len(_DECLARED) < _MAX_PLACES:
            _DECLARED[where] = entry
    names = entry[1]
    return sum(1 for k in value if k in names)


#: The member names each union branch declares (:func:`_declared`), by parameter schema
#: and the branch's keyword location: every failing item of a long array asks again.
#: An entry holds its schema, so the schema's id cannot be reused while the entry lives.
_DECLARED: dict[tuple[Any, ...], tuple[dict[str, Any], frozenset[str]]] = {}


def _shapes(cat: Catalog, schema: dict[str, Any], err: Any) -> list[list[Any]]:
    """The union branches (their errors) the failing value points to, in the schema's
    order; empty when none does. A value whose members no shape declares points to
    none: then the one "branch" is the errors every shape gives alike, if any. See the
    comment above."""
    context = getattr(err.kind, "context", None)
    if not context:
        return []
    depth = len(err.instance_path)
    shapes = [branch for branch in context if branch and not _type_off(branch, depth)]
    value = err.instance
    if len(shapes) > 1 and value.__class__ is dict:
        counts = [_overlap(cat, schema, err, branch, value) for branch in shapes]
        most = max(counts)
        if most == 0:
            # ({}, or members no shape declares) any one shape would be a guess; what
            # every shape says is not (each requires the `type` that is missing).
            said = [{(tuple(e.instance_path), e.message) for e in branch}
                    for branch in shapes]
            common = set.intersection(*said)
            first = [e for e in shapes[0] if (tuple(e.instance_path), e.message) in common]
            return [first] if first else []
        shapes = [branch for branch, n in zip(shapes, counts, strict=True) if n == most]
    if len(shapes) > 1:
        offs = [_off_count(branch, depth) for branch in shapes]
        least = min(offs)
        shapes = [branch for branch, n in zip(shapes, offs, strict=True) if n == least]
    return shapes


def _closest(shapes: list[list[Any]]) -> list[list[Any]]:
    """Of the shapes a failing value points to (:func:`_shapes`), those that fit it best
    and alike: fewest errors, then matched deepest (the shallowest error lies deepest)."""
    if len(shapes) < 2:
        return shapes

    def rank(branch: list[Any]) -> tuple[int, int]:
        return len(branch), -min(len(e.instance_path) for e in branch)

    best = min(rank(b) for b in shapes)
    return [b for b in shapes if rank(b) == best]


#: Errors that say the same of a value whatever the choices they list: a wrong type, a
#: value outside an enum (the first shape's list is as good as another's).
_ALIKE = _ENUM_KINDS | {"type"}


def _alike(err: Any) -> tuple[Any, ...]:
    """What an error says, for telling whether two shapes fail a value alike."""
    name = _kind_name(err.kind)
    where = tuple(err.instance_path)
    return (where, name) if name in _ALIKE else (where, name, err.message)


def _meant_branch(cat: Catalog, schema: dict[str, Any], err: Any) -> list[Any] | None:
    """The errors of the union branch the failing value was meant for, or None: the
    closest shape (:func:`_closest`), or the first of several that fail alike
    (:func:`_alike`); None when they fail differently (the union's own error then names
    what each would need) or are each ruled out by a discriminator (:func:`_tag_finding`
    says which member is wrong)."""
    depth = len(err.instance_path)
    shapes = _shapes(cat, schema, err)
    if len(shapes) > 1 and all(_off_members(b, depth) for b in shapes):
        # A `type` no shape has: the fewest errors would only name the smallest shape
        # (an item reference's "`id` is required" for a content part put in `input`).
        return None
    shapes = _closest(shapes)
    if not shapes:
        return None
    if len(shapes) > 1:
        if _off_members(shapes[0], depth):
            return None
        said = {frozenset(map(_alike, b)) for b in shapes}
        if len(said) > 1:
            return None
    return shapes[0]


def _meant(cat: Catalog, schema: dict[str, Any], errors: list[Any]) -> list[Any]:
    """``errors`` with each union error replaced by its meant branch's errors, at every
    depth (a branch's own errors may be unions)."""
    unions = _UNION_KINDS or _union_kinds()
    for e in errors:
        if e.kind.__class__ in unions:
            break
    else:
        return errors  # (most failing values: nothing to choose)
    out: list[Any] = []
    for err in errors:
        branch = _meant_branch(cat, schema, err) if err.kind.__class__ in unions else None
        if branch is None:
            out.append(err)
        else:
            out += _meant(cat, schema, branch)
    return out


#: The kinds of error that are a union's (one error holding each branch's errors), by
#: class: anyOf, and oneOf valid under none (not "valid under several": those branches'
#: errors are not the value's). Filled on first need (jsonschema-rs is loaded by then).
_UNION_KINDS: frozenset[type] = frozenset()


def _union_kinds() -> frozenset[type]:
    global _UNION_KINDS
    import jsonschema_rs

    kinds = jsonschema_rs.ValidationErrorKind
    _UNION_KINDS = frozenset({kinds.AnyOf, kinds.OneOfNotValid})
    return _UNION_KINDS


_RANGE_WORDS = {"minimum": "below the minimum", "maximum": "above the maximum",
                "exclusiveminimum": "not above", "exclusivemaximum": "not below"}


def _schema_finding(cat: Catalog, schema: dict[str, Any], err: Any,
                    params: dict[str, Any], key: str) -> Finding:
    """One jsonschema-rs error inside parameter ``key`` as a finding (``schema``: the
    parameter's own schema, the root of the error's paths)."""
    kind = err.kind
    inner = err.instance_path
    value = err.instance
    place = None
    if not inner:
        place = (id(schema), kind.__class__, *err.evaluation_path)
        parts = _PLACES.get(place)
        if parts is not None:
            return parts[1](parts, value)  # type: ignore[no-any-return]
    name = _kind_name(kind)
    ptr = "/" + escape_pointer(key) + (pointer_from(inner) if inner else "")
    data = kind.as_dict()
    if name == "type":
        want = data.get("types") or []
        parts = (schema, _type_finding, ptr, f"{_name(ptr)} must be {' or '.join(want)}, not ",
                 any(t in ("integer", "number") for t in want))
    elif name in _RANGE_WORDS:
        hint = None
        if not inner and key in params:
            bounds = _bounds(params[key])
            if bounds:
                hint = f"Allowed: {bounds}."
        parts = (schema, _range_finding, ptr, f"{_name(ptr)} is ",
                 f", {_RANGE_WORDS[name]} {_json(data.get('limit'))}", hint)
    elif name in _ENUM_KINDS:
        options = _choices(data)
        parts = (schema, _enum_finding, ptr, f"{_name(ptr)} is ", _allowed(options),
                 tuple(o for o in options if isinstance(o, str)))
    else:
        return _other_finding(cat, schema, err, name, ptr, data, value, key)
    if place is not None and len(_PLACES) < _MAX_PLACES:
        _PLACES[place] = parts
    return parts[1](parts, value)


def _allowed(choices: list[Any]) -> str:
    """An enum finding's list of choices: the first 12, a string whole (the catalog's
    word, to be copied), another value cut short."""
    listed = ", ".join(_json(o, 200 if isinstance(o, str) else 30) for o in choices[:12])
    more = f" (+{len(choices) - 12} more)" if len(choices) > 12 else ""
    return f"; allowed: {listed}{more}"


def _type_finding(parts: tuple[Any, ...], value: Any) -> Finding:
    hint = None
    if parts[4] and isinstance(value, str):  # a number was wanted
        try:
            num = float(value)
            hint = f"Send the number without quotes: {_json(int(num) if num.is_integer() else num)}."
        except ValueError:
            pass
    return _f("AML401", parts[2], f"{parts[3]}{_jtype(value)} ({_json(value, 40)})", hint)


def _range_finding(parts: tuple[Any, ...], value: Any) -> Finding:
    return _f("AML402", parts[2], f"{parts[3]}{_json(value)}{parts[4]}", parts[5])


def _enum_finding(parts: tuple[Any, ...], value: Any) -> Finding:
    hint = None
    if isinstance(value, str):
        guess = _close(value, parts[5], cutoff=0.6)
        if guess:
            hint = f"Did you mean {_json(guess[0])}?"
    return _f("AML403", parts[2], f"{parts[3]}{_json(value)}{parts[4]}", hint)


def _other_finding(cat: Catalog, schema: dict[str, Any], err: Any, name: str, ptr: str,
                   data: dict[str, Any], value: Any, key: str) -> Finding:
    """Every other kind of error: read from the error and the schema each time."""
    if name == "additionalproperties":
        unexpected = data.get("unexpected", [])
        obj = _subschema(cat, schema, list(err.evaluation_path)[:-1]) or {}
        allowed = list((obj.get("properties") or {}).keys())
        key = unexpected[0] if unexpected else "?"
        hint = None
        guess = _close(key, allowed) if allowed else []
        if guess:
            hint = f"Did you mean `{guess[0]}`?"
        elif allowed:
            hint = "Allowed here: " + ", ".join(f"`{a}`" for a in allowed) + "."
        extra = f" (and {len(unexpected) - 1} more)" if len(unexpected) > 1 else ""
        return _f("AML407", ptr + "/" + escape_pointer(key),
                  f"`{key}` is not a field of {_name(ptr)}{extra}", hint)
    if name == "required":
        prop = data.get("property")
        return _f("AML404", ptr + "/" + escape_pointer(str(prop)),
                  f"`{prop}` is required" + (f" in {_name(ptr)}" if ptr else ""))
    if name in ("pattern", "maxlength"):
        sub = _subschema(cat, schema, list(err.evaluation_path)[:-1]) or {}
        if "x-aimlcat-encodings" in sub and isinstance(value, str):
            return _encoded_finding(ptr, value, sub)
    if name == "format":
        fmt = data.get("format")
        hint = "Use an absolute URL (https://...) or a data URL (data:<type>;base64,...)." \
            if fmt in ("uri", "iri") else None
        return _f("AML405", ptr, f"{_name(ptr)} is not a valid {fmt}: {_json(value, 40)}", hint)
    if name in ("anyof", "oneofnotvalid", "oneofmultiplevalid"):
        meant = _shapes(cat, schema, err)
        tag = _tag_finding(meant, err, ptr, value)
        if tag is not None:
            return tag
        # Every shape takes another type (by reference and in nested unions too, which
        # the errors say and the schema here does not): a type error, worded as any
        # other. (Some shape takes the value's type otherwise: a list of types would
        # not say what is wrong.)
        kinds = _wanted_types(err)
        if kinds:
            kinds = list(dict.fromkeys(kinds))
            return _type_finding((None, _type_finding, ptr,
                                  f"{_name(ptr)} must be {' or '.join(kinds)}, not ",
                                  "integer" in kinds or "number" in kinds), value)
        n = _shape_count(err)
        hint = None
        closest = _closest(meant)
        if 1 < len(closest) <= 4:
            needs = dict.fromkeys(
                _schema_finding(cat, schema, b[0], {}, key).message for b in closest)
            hint = "The closest shapes fail on: " + "; or ".join(needs) + "."
        return _f("AML408", ptr, f"{_name(ptr)} matches none of the {n} shapes accepted "
                  "here" if n > 1 else f"{_name(ptr)} matches none of the accepted shapes", hint)
    return _f("AML406", ptr, f"{_name(ptr)}: {err.message}")


def _shape_count(err: Any) -> int:
    """How many shapes a union error's value fit none of: a branch that is a union
    itself (an Anthropic tool: one of 16 named tools, or any other typed object) counts
    its shapes. 0 when the error holds no branches."""
    depth = len(err.instance_path)
    n = 0
    for branch in getattr(err.kind, "context", None) or ():
        inner = branch[0] if len(branch) == 1 else None
        nested = inner is not None and len(inner.instance_path) == depth \
            and getattr(inner.kind, "context", None)
        n += _shape_count(inner) if nested else 1
    return n


def _tag_finding(shapes: list[list[Any]], err: Any, ptr: str, value: Any) -> Finding | None:
    """When ``shapes``, those an object value points to (:func:`_shapes`), are each ruled
    out by the same one member (a ``type`` or ``role`` naming none of them): that member's
    value is the error, with the shapes' choices (AML403). None otherwise."""
    if value.__class__ is not dict:
        return None
    depth = len(err.instance_path)
    members = {frozenset(_off_members(branch, depth)) for branch in shapes}
    if len(members) != 1:
        return None
    (common,) = members
    if len(common) != 1:
        return None
    (member,) = common
    options: list[Any] = []
    for branch in shapes:
        for e in branch:
            if (len(e.instance_path) == depth + 1 and e.instance_path[-1] == member
                    and _kind_name(e.kind) in _ENUM_KINDS):
                data = e.kind.as_dict()
                options.extend(_choices(data))
    if member not in value or not options:
        return None
    choices = list({orjson.dumps(o): o for o in options}.values())
    at = ptr + "/" + escape_pointer(member)
    got = value[member]
    if got.__class__ is float and not math.isfinite(got):  # not the null it reads as
        return _non_finite(at, got, list(dict.fromkeys(_jtype(o) for o in choices)))
    parts = (None, _enum_finding, at, f"{_name(at)} is ", _allowed(choices),
             tuple(o for o in choices if isinstance(o, str)))
    return _enum_finding(parts, value[member])


def _encoded_finding(ptr: str, value: str, sub: dict[str, Any]) -> Finding:
    """Why base64 data failed: media type, base64 itself, or size (AML409)."""
    import binascii

    types: list[str] = sub.get("x-aimlcat-media-types", [])
    limit: int | None = sub.get("x-aimlcat-max-bytes")
    accepts = f" Accepted: {', '.join(types)}." if types else ""
    data = value
    if value.startswith("data:"):
        header, _, data = value[5:].partition(",")
        media, _, params = header.partition(";")
        if types and media not in types:
            return _f("AML409", ptr, f"{_name(ptr)} is a data URL of type {media or '(none)'}, "
                      "which this parameter does not take", accepts.strip() or None)
        if "base64" not in params.split(";"):
            return _f("AML409", ptr, f"{_name(ptr)} is a data URL without `;base64`",
                      f"Write it as data:{media};base64,<data>.")
    try:
        raw = binascii.a2b_base64(data, strict_mode=True)
    except binascii.Error as exc:
        return _f("AML409", ptr, f"{_name(ptr)} does not decode as base64 ({exc})",
                  "Encode the file with standard base64 (A-Z a-z 0-9 + /, padded with =), "
                  "no line breaks.")
    if limit is not None and len(raw) > limit:
        return _f("AML409", ptr, f"{_name(ptr)} decodes to {len(raw):,} bytes; the limit is "
                  f"{limit:,}", "Send a smaller file, or a URL to it.")
    return _f("AML409", ptr, f"{_name(ptr)} is not accepted as base64 data{accepts}")



# -- modalities and capabilities (AML501-AML509) ------------------------------------------
#
# Each runs only off the valid path: for a top-level key the model does not take, or
# for a value its schema rejected. The model's sets come from the index (derived at
# build time), so every check is a lookup.

_NOT_CONTENT = frozenset({"tools", "tool_choice", "response_format", "text", "prompt"})
_NOUN = {"image": "an image", "audio": "an audio", "video": "a video", "file": "a file",
         "text": "text"}
_PLURAL = {"image": "images", "audio": "audio", "video": "videos", "file": "files",
           "text": "text"}
_FORMAT_CAPABILITY = {"json_schema": "structured_output", "json_object": "json_mode"}
_NO_GAPS: tuple[list[Finding], bool, list[str]] = ([], False, [])


def _parts(cat: Catalog, value: Any, at: str, depth: int = 0) -> list[tuple[str, str]]:
    """(pointer, modality) of every content part in ``value`` that carries media."""
    found: list[tuple[str, str]] = []
    if depth > 12:
        return found
    if isinstance(value, dict):
        tag = value.get("type")
        mod = cat.part_modality.get(tag) if isinstance(tag, str) else None
        if mod is not None:
            return [(at, mod)]
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                found += _parts(cat, v, f"{at}/{escape_pointer(k)}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, (dict, list)):
                found += _parts(cat, v, f"{at}/{i}", depth + 1)
    return found


def _needs(cat: Catalog, payload: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The input modalities and capabilities the whole body asks for."""
    inputs: set[str] = set()
    for key, value in payload.items():
        mod = cat.parameter_modality.get(key)
        if mod is not None and value not in (None, "", []):
            inputs.add(mod)
        if key not in _NOT_CONTENT and isinstance(value, (dict, list)):
            inputs.update(m for _, m in _parts(cat, value, ""))
    inputs.discard("text")  # every model with a prompt takes text: no filter
    caps: set[str] = set()
    if payload.get("stream") is True:
        caps.add("streaming")
    if payload.get("tools"):
        caps.add("tools")
    rf = payload.get("response_format")
    if isinstance(rf, dict) and isinstance(rf.get("type"), str) \
            and rf["type"] in _FORMAT_CAPABILITY:
        caps.add(_FORMAT_CAPABILITY[rf["type"]])
    return inputs, caps


def _takers_hint(cat: Catalog, mid: str, path: str, payload: dict[str, Any],
                 inputs: set[str], caps: set[str], what: str) -> str:
    """"Models that ... on PATH: a, b, c." for the whole body's needs when some model
    meets them all, else for this finding's own need; and the query that lists more."""
    all_in, all_caps = _needs(cat, payload)
    all_in |= inputs
    all_caps |= caps
    found = cat.capable(path, inputs=all_in, capabilities=all_caps, like=mid)
    if found and (all_in != inputs or all_caps != caps):
        inputs, caps = all_in, all_caps
        what = "accept this request"
    elif not found:
        found = cat.capable(path, inputs=inputs, capabilities=caps, like=mid)
    wanted = [*(f" --input {m}" for m in sorted(inputs - {"text"})),
              *(f" --capability {c}" for c in sorted(caps))]
    # Repeated values of one filter are OR-ed (as in GET /v1/models): the request needs all.
    several = len(inputs - {"text"}) > 1 or len(caps) > 1
    query = ("aimlcat models --status active --endpoint " + path + "".join(wanted)
             + (" --match-all" if several else ""))
    if not found:
        return f"No active model on {path} can {what}."
    return f"Models that {what} on {path}: {', '.join(found)} (more: `{query}`)."


def _taken(rec_inputs: list[str]) -> str:
    shown = [_PLURAL.get(m, m) for m in rec_inputs]
    if not shown:
        return "takes no documented input"
    if shown == ["text"]:
        return "takes text only"
    return "takes " + ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]


def _capability_gap(cat: Catalog, mid: str, key: str, payload: dict[str, Any], shown: str,
                    path: str) -> Finding | None:
    """A top-level key the model does not take, when the reason is a missing modality or
    capability (AML501-AML504); None lets AML301 report it."""
    ab = cat.abilities(mid)
    ptr = "/" + escape_pointer(key)
    value = payload[key]
    if key == "stream" and value is True and "streaming" not in ab["capabilities"]:
        return _stream_gap(cat, mid, ptr, payload, shown, path)
    if key == "tools" and "tools" not in ab["capabilities"]:
        return _f("AML503", ptr, f"{shown} does not call tools on {path}; `tools` would "
                  "have no effect",
                  _takers_hint(cat, mid, path, payload, set(), {"tools"}, "call tools"))
    if key == "response_format" and isinstance(value, dict) \
            and isinstance(value.get("type"), str) and value["type"] in _FORMAT_CAPABILITY:
        return _format_gap(cat, mid, ptr, value["type"], payload, shown, path)
    mod = cat.parameter_modality.get(key)
    # Media only: a `prompt` to a model that reads an image alone is AML301's business.
    if mod is not None and mod != "text" and mod not in ab["input"]:
        return _f("AML501", ptr, f"`{key}` is {_NOUN.get(mod, mod)} input; {shown} "
                  f"{_taken(ab['input'])}",
                  _takers_hint(cat, mid, path, payload, {mod}, set(),
                               f"take {_PLURAL.get(mod, mod)}"))
    return None


def _stream_gap(cat: Catalog, mid: str, ptr: str, payload: dict[str, Any], shown: str,
                path: str) -> Finding:
    return _f("AML502", ptr, f"{shown} cannot stream its answer on {path}",
              "Remove `stream`, or change the model. "
              + _takers_hint(cat, mid, path, payload, set(), {"streaming"}, "stream"))


def _format_gap(cat: Catalog, mid: str, ptr: str, kind: str, payload: dict[str, Any],
                shown: str, path: str) -> Finding:
    cap = _FORMAT_CAPABILITY[kind]
    other = next((k for k, c in _FORMAT_CAPABILITY.items()
                  if k != kind and c in cat.abilities(mid)["capabilities"]), None)
    hint = f"It takes {other}; switch the type if that is enough. " if other else ""
    return _f("AML504", ptr, f"{shown} does not take a `response_format` of type {kind} "
              f"on {path}",
              hint + _takers_hint(cat, mid, path, payload, set(), {cap},
                                  f"answer in {kind}"))


def _capability_value_gaps(cat: Catalog, mid: str, path: str, key: str, value: Any,
                           payload: dict[str, Any], shown: str,
                           fast: Any) -> tuple[list[Finding], bool, list[str]]:
    """For a value the schema rejected: (findings, whether they explain the whole value,
    pointers of the parts they cover)."""
    if type(value) is not dict and type(value) is not list and key != "stream":
        return _NO_GAPS  # the common failure (a number out of range): nothing to look up
    ab = cat.abilities(mid)
    ptr = "/" + escape_pointer(key)
    if key == "stream" and value is True and "streaming" not in ab["capabilities"]:
        return [_stream_gap(cat, mid, ptr, payload, shown, path)], True, []
    if key == "response_format" and isinstance(value, dict):
        kind = value.get("type")
        if isinstance(kind, str) and kind in _FORMAT_CAPABILITY \
                and _FORMAT_CAPABILITY[kind] not in ab["capabilities"]:
            return [_format_gap(cat, mid, ptr + "/type", kind, payload, shown, path)], True, []
        return _NO_GAPS
    if key in _NOT_CONTENT or not isinstance(value, (dict, list)):
        return _NO_GAPS
    bad = [(p, m) for p, m in _parts(cat, value, ptr) if m not in ab["input"]]
    if not bad:
        return _NO_GAPS
    findings = []
    for p, m in bad:
        findings.append(_f("AML501", p, f"{_name(p)} is {_NOUN.get(m, m)} part; {shown} "
                           f"{_taken(ab['input'])}",
                           "Remove the part, or change the model. "
                           + _takers_hint(cat, mid, path, payload, {m}, set(),
                                          f"take {_PLURAL.get(m, m)}")))
    # The rest of the value without those parts: when it passes, the parts were the
    # only trouble and the schema's errors about them are noise.
    cleaned = _without(value, ptr, {p for p, _ in bad})
    return findings, bool(fast.is_valid(cleaned)), [p for p, _ in bad]


def _without(value: Any, at: str, drop: set[str], depth: int = 0) -> Any:
    """``value`` with the parts at the pointers ``drop`` removed (a list emptied by it
    becomes the text "…", which every content field takes). Parts are found no deeper
    than :func:`_parts` looks, so deeper values are kept as they are."""
    if depth > 13:
        return value
    if isinstance(value, dict):
        return {k: _without(v, f"{at}/{escape_pointer(k)}", drop, depth + 1)
                for k, v in value.items()}
    if isinstance(value, list):
        kept = [_without(v, f"{at}/{i}", drop, depth + 1) for i, v in enumerate(value)
                if f"{at}/{i}" not in drop]
        return kept if kept or not value else "…"
    return value
