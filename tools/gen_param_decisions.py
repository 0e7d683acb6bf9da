"""Write docs/decisions/parameters.yaml: keep or drop each parameter the docs dropped or deprecated.

    python tools/gen_param_decisions.py [--check]

Sources, read from ``../shared/reference`` at run time:

- ``removed-parameters.json``: per model, parameters its documents once listed
  and no longer list, with the date of the last removal (1,884 pairs);
- ``history.json``: every change, to tell a real removal from docs noise;
- the documents' own ``deprecated: true`` flags and the history's
  ``parameter-deprecated`` events.

One record per (model, parameter): ``keep`` (the catalog records it: a
``removed:`` entry with the date and a hint, or a ``deprecated:`` spec) or
``drop`` (it stays out), the rule that decided and the reason. The rules, in
order, are :data:`RULES`; :data:`OVERRIDES` are the corrections from review
(spot checks), each with its reason. ``--check`` exits 1 when the file is stale.
"""

from __future__ import annotations

import argparse
import collections
import functools
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import refdata

OUT = refdata.REPO / "docs" / "decisions" / "parameters.yaml"

RULES = {
    "model-removed": "drop: the model itself is removed (AML103 stops before any parameter)",
    "reasoning-sampling": "keep: a sampling control, log probabilities or predicted output "
                          "on an OpenAI reasoning model, which takes none (however often the "
                          "docs listed it)",
    "moved": "keep: dropped when the model moved to another endpoint; a migration fact",
    "flip-flop": "drop: docs noise; removed and listed again before the last removal",
    "short-lived": "drop: listed only for a while (added after the docs began, then removed): "
                   "a docs mistake, never a parameter users relied on",
    "template-cleanup": "drop: a chat model's generic parameter list trimmed in a docs-wide "
                        "edit; the parameter never applied to this model",
    "template-trim": "drop: a generic chat parameter (OpenAI's or the router's list) taken "
                     "out of a chat model's documents; it never applied to this model",
    "targeted": "keep: removed from this model's documents alone; the gateway stopped taking it",
    "flagged": "keep: the documents still list it, flagged deprecated",
    "flag-lifted": "drop: flagged deprecated once, listed without the flag today",
    "typo": "drop: the docs misspelled a parameter and corrected it (review)",
}

# Chat parameters that every chat document of a template era listed: OpenAI's
# chat-completions set and the router's extras. Taken out of one model's
# documents they say nothing about that model.
GENERIC_CHAT = {
    "audio", "modalities", "web_search_options", "reasoning_effort", "n", "logit_bias",
    "logprobs", "top_logprobs", "prediction", "parallel_tool_calls", "max_completion_tokens",
    "max_tokens", "stream_options", "response_format", "tools", "tool_choice", "seed", "stop",
    "presence_penalty", "frequency_penalty", "temperature", "top_p", "metadata", "store",
    "user", "service_tier", "reasoning", "min_p", "top_a", "top_k", "repetition_penalty",
    "echo", "provider", "normalize_tool_schemas", "last_updated_after_filter",
    "last_updated_before_filter", "search_after_date_filter", "search_before_date_filter",
    "search_domain_filter", "search_mode", "search_recency_filter", "return_images",
    "return_related_questions", "function_call", "functions",
}
SAMPLING = {"temperature", "top_p", "frequency_penalty", "presence_penalty", "logit_bias",
            "logprobs", "top_logprobs", "n", "prediction"}


def _openai_reasoning(model: str) -> bool:
    import re

    return re.match(r"^(openai/)?(o\d|gpt-5)", model) is not None

# Real endpoint changes (the docs' own path edits are not: /v2/chat -> /v1/chat,
# /openai/deployments round trips, /tts <-> /v1/tts on one day).
def _real_move(src: str, dst: str) -> bool:
    pairs = {("/v1/images/generations", "/v1/images/edits"),
             ("/v1/images/edits", "/v1/images/generations"),
             ("/v1/responses", "/v1/chat/completions")}
    return src.startswith("/v2/generate/video/") or (src, dst) in pairs


# A parameter renamed on the day it was removed: old -> new.
RENAMES = {
    "prompt_optimizer": "enhance_prompt", "first_frame_image": "image_url",
    "last_frame_image": "last_image_url", "ratio": "aspect_ratio",
    "image_list": "image_urls", "static_mask_url": "static_mask", "size": "aspect_ratio",
    "enable_prompt_expansion": "enhance_prompt", "stop_sequences": "stop",
}

# Corrections from review: (model, parameter) -> (decision, rule, reason).
# Confirmations too: a kept removal checked against the documents says why.
OVERRIDES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("google/imagen4/preview", "negative_prompt"): (
        "keep", "targeted", ("reviewed: the deleted imagen4-preview page listed it; its page was "
        "rewritten on 2025-11-20 to the Imagen 4 parameter set (watermark, safety and person "
        "settings), which has no negative prompt, and no Imagen 4 document lists one since")),
    ("google/lyria2", "provider"): (
        "keep", "targeted", ("reviewed: dropped from the Lyria 2 page alone on 2025-05-30 and never "
        "listed again; its current page takes `prompt`, `negative_prompt` and `seed` only")),
    ("minimax-music", "provider"): (
        "keep", "targeted", ("reviewed: dropped from the legacy MiniMax music page on 2025-02-28 and "
        "from the current one on 2025-08-19, never listed again; no MiniMax music document "
        "takes it today")),
    ("stable-audio", "provider"): (
        "keep", "targeted", ("reviewed: dropped from the Stable Audio page on 2025-02-28 (with the "
        "MiniMax music page, the only other music page to list it) and never listed again")),
    ("blackforestlabs/flux-2-lora", "loars"): (
        "drop", "typo", "a misspelling of `loras`, corrected on 2025-12-03 (AML301 suggests it)"),
    ("blackforestlabs/flux-2-lora-edit", "loars"): (
        "drop", "typo", "a misspelling of `loras`, corrected on 2025-12-03 (AML301 suggests it)"),
}

# Docs-wide edits: dates on which at least this many removals happened at once.
BULK = 50


def _kind(files: list[str]) -> str:
    for f in files:
        if f.startswith("text-models-llm/") or "/text-models-llm/" in f:
            return "chat"
    return files[0].split("/")[0] if files else "?"


def _catalog() -> tuple[set[tuple[str, str]], set[str]]:
    """(model id or alias, parameter) pairs already recorded as removed in the catalog
    source, and the ids (and aliases) of the removed models."""
    from aimlcat._loader import load_catalog_source

    pairs, removed = set(), set()
    for m in load_catalog_source(refdata.REPO / "catalog").models.values():
        if m.status == "removed":
            removed.update((m.id, *m.aliases))
        for me in m.endpoints:
            for p in me.removed:
                for i in (m.id, *m.aliases):
                    pairs.add((i, p))
    return pairs, removed


def _current_params(model: str) -> set[str]:
    out: set[str] = set()
    for f in refdata.spec_ids().get(model, []):
        for body in refdata.request_bodies(f.removeprefix("openapi/")):
            out.update(body.get("properties", {}))
    return out


def _hint(model: str, param: str, date: str, rule: str, added_same_day: set[str],
          move: tuple[str, str] | None) -> str:
    new = RENAMES.get(param)
    if new and new in added_same_day:
        where = f" when the model moved to {move[1]}" if move else ""
        return f"Renamed to `{new}` on {date}{where}; send `{new}` instead."
    if new and new in _current_params(model):
        return f"Not taken since {date}; the model takes `{new}` for this. Send `{new}` instead."
    if param == "prediction" and _openai_reasoning(model):
        return "Predicted outputs are not available on reasoning models; remove it."
    if param in ("logprobs", "top_logprobs") and _openai_reasoning(model):
        return "Reasoning models return no token log probabilities; remove it."
    if param in SAMPLING and _openai_reasoning(model):
        return ("Reasoning models ignore sampling controls; remove it and steer with "
                "`reasoning_effort`.")
    if move and move[0].startswith("/v2/generate/video/") and param == "type":
        return (f"The universal video endpoint ({move[1]}, since {date}) takes no `type`: the "
                "model id says what to generate. Remove it.")
    if move and move[0].startswith("/v2/generate/video/") and param == "external_task_id":
        return (f"The universal video endpoint ({move[1]}, since {date}) returns its own task "
                "id and takes no `external_task_id`; remove it.")
    if move:
        return (f"Not taken on {move[1]} since the model moved there from {move[0]} on "
                f"{date}; remove it.")
    others = sorted(added_same_day - {param})
    also = (" The same edit added " + ", ".join(f"`{o}`" for o in others) + ".") if others else ""
    return (f"The documents stopped listing `{param}` for this model on {date} and the gateway "
            f"ignores it; remove it.{also}")


def _flag_hint(param: str, listed: dict[str, Any]) -> tuple[str, str]:
    """(action, hint) for a parameter a current document flags deprecated."""
    if param == "ratio" and "aspect_ratio" in listed and not listed["aspect_ratio"].get("deprecated"):
        return "rename:aspect_ratio", "Use `aspect_ratio` (same values); `ratio` is its old name."
    if param in ("ratio", "aspect_ratio"):
        return "remove", ("The video takes the aspect ratio of the input image; crop the image "
                          "instead and remove this key.")
    if param in ("tools", "tool_choice"):
        return "remove", "This model does not call tools; remove it."
    return "remove", f"The documents mark `{param}` deprecated; remove it."


def decide() -> dict[str, dict[str, dict[str, Any]]]:
    _pairs, removed_models = _catalog()
    # Ids of the removed table that the catalog does not hold yet count as removed too.
    removed_models |= refdata.table_ids("deprecated") - refdata.table_ids("active")
    rp = refdata.removed_parameters()
    hist = refdata.history()
    per_date = collections.Counter(d for ps in rp.values() for d in ps.values())
    out: dict[str, dict[str, dict[str, Any]]] = {}

    for model, params in sorted(rp.items()):
        events = hist.get(model, [])
        moves = {}
        for e in events:
            if e["change"] == "endpoint-moved" and _real_move(e["from"], e["to"]):
                moves[e["date"]] = (e["from"], e["to"])
        files = sorted({e["file"] for e in events})
        kind = _kind(files)
        for param, date in sorted(params.items()):
            pe = sorted((e for e in events if e.get("parameter") == param),
                        key=lambda e: e["date"])
            removed = sorted({e["date"] for e in pe if e["change"] == "parameter-removed"})
            added = sorted({e["date"] for e in pe if e["change"] == "parameter-added"})
            added_same_day = {e["parameter"] for e in events
                              if e["change"] == "parameter-added" and e["date"] == date}
            if (model, param) in OVERRIDES:
                decision, rule, reason = OVERRIDES[(model, param)]
            elif model in removed_models:
                decision, rule, reason = "drop", "model-removed", "the model is removed"
            elif param in SAMPLING and _openai_reasoning(model):
                decision, rule = "keep", "reasoning-sampling"
                reason = f"last removed {date}; reasoning models do not take it"
            elif date in moves:
                src, dst = moves[date]
                decision, rule = "keep", "moved"
                reason = f"removed when the model moved from {src} to {dst} on {date}"
            elif any(a > r for r in removed for a in added):
                flips = [(r, min(a for a in added if a > r)) for r in removed
                         if any(a > r for a in added)]
                decision, rule = "drop", "flip-flop"
                reason = "; ".join(f"removed {r} and listed again {a}" for r, a in flips)
                reason += f"; last removed {date}"
            elif added and added[0] < date:
                decision, rule = "drop", "short-lived"
                reason = f"in the docs only between {added[0]} and {date}"
            elif kind == "chat" and per_date[date] >= BULK:
                decision, rule = "drop", "template-cleanup"
                reason = (f"one of {per_date[date]} removals across the docs on {date}; "
                          "the generic chat parameter list was trimmed")
            elif kind == "chat" and param in GENERIC_CHAT and not (
                    param in SAMPLING and _openai_reasoning(model)):
                decision, rule = "drop", "template-trim"
                reason = (f"taken out of this chat model's documents on {date}, with no endpoint "
                          "move; a generic chat parameter")
            else:
                decision, rule = "keep", "targeted"
                reason = f"removed from this model's documents alone on {date}"
            rec: dict[str, Any] = {"decision": decision, "date": date, "rule": rule,
                                   "reason": reason}
            if decision == "keep":
                rec["hint"] = _hint(model, param, date, rule, added_same_day, moves.get(date))
            out.setdefault(model, {})[param] = rec

    # Deprecations: the documents' own flags (current) and the history's events.
    current: dict[tuple[str, str], dict[str, Any]] = {}
    for model, param, doc in refdata.deprecated_flags():
        for _path, body in refdata.body_endpoints(doc):
            if param in body.get("properties", {}):
                current.setdefault((model, param), body["properties"])
    events: dict[tuple[str, str], str] = {}
    for model, evs in hist.items():
        for e in evs:
            if e["change"] == "parameter-deprecated":
                key = (model, e["parameter"])
                events[key] = max(events.get(key, ""), e["date"])
    for model, param in sorted(set(current) | set(events)):
        if param in out.get(model, {}):
            continue  # removed since: decided above
        date = events.get((model, param))
        rec: dict[str, Any] = {"decision": "drop"}
        if date:
            rec["date"] = date
        if model in removed_models:
            rec.update(rule="model-removed", reason="the model is removed")
        elif (model, param) not in current:
            rec.update(rule="flag-lifted",
                       reason=f"flagged deprecated on {date}; listed without the flag today")
        else:
            action, hint = _flag_hint(param, current[(model, param)])
            rec.update(decision="keep", rule="flagged",
                       reason="a current document lists it with deprecated: true",
                       action=action, hint=hint)
        out.setdefault(model, {})[param] = rec
    return dict(sorted(out.items()))


@functools.cache
def _legacy_paths() -> frozenset[str]:
    """Paths of the endpoints the catalog declares legacy (vendor paths models left)."""
    from aimlcat._loader import load_catalog_source

    src = load_catalog_source(refdata.REPO / "catalog")
    return frozenset(e.path for e in src.endpoints.values() if e.legacy)


def _endpoint_of(model: str, param: str, date: str | None) -> str:
    """The endpoint whose document dropped (or, ``date`` None, flags) the parameter."""
    import aimlcat

    cat = aimlcat.load_catalog()
    if date is None:  # flagged: the current document that lists it deprecated
        files = [d for m, p, d in refdata.deprecated_flags() if (m, p) == (model, param)]
    else:
        files = [e["file"] for e in refdata.history().get(model, [])
                 if e.get("parameter") == param and e["date"] == date]
        files += [f.removeprefix("openapi/") for f in refdata.spec_ids().get(model, [])]
    legacy = _legacy_paths()
    for f in files:
        try:
            for path, _body in refdata.body_endpoints(f):
                ep = cat.canonical_endpoint(path)
                if ep is not None and (date is None or ep not in legacy):
                    return ep
        except OSError:
            continue
    return "?"


def todo() -> str:
    """Kept decisions not yet in the catalog, grouped by model and endpoint, as YAML."""
    import aimlcat

    cat = aimlcat.load_catalog()
    lines = []
    for model, params in decide().items():
        pending: dict[str, list[str]] = {}
        mid = cat.resolve(model)
        rec = cat.model_record(mid) if mid else None
        for p, d in params.items():
            if d["decision"] != "keep":
                continue
            if d["rule"] == "flagged":
                ep = _endpoint_of(model, p, None)
                if rec and p in rec["endpoints"].get(ep, {}).get("parameters", {}) and \
                        rec["endpoints"][ep]["parameters"][p].get("deprecated"):
                    continue
                action = d["action"]
                spec = (f"{{action: rename, to: {action.split(':')[1]}" if ":" in action
                        else "{action: remove")
                since = f", since: {d['date']}" if d.get("date") else ""
                pending.setdefault(ep, []).append(
                    f"      {p}: {{deprecated: {spec}{since}, hint: {_q(d['hint'])}}}}}")
                continue
            ep = _endpoint_of(model, p, d["date"])
            if rec and p in rec["endpoints"].get(ep, {}).get("removed", {}):
                continue
            pending.setdefault(ep, []).append(
                f"      {p}: {{since: {d['date']}, hint: {_q(d['hint'])}}}")
        for ep, entries in pending.items():
            flagged = entries[0].lstrip().split(": ", 1)[1].startswith("{deprecated")
            lines.append(f"{model}  # {ep}" + (" (in the catalog)" if mid else ""))
            lines.append("    parameters:" if flagged else "    removed:")
            lines.extend(entries)
    return "".join(line + "\n" for line in lines)


def _q(s: str) -> str:
    import json

    return json.dumps(s, ensure_ascii=False)


def render(decisions: dict[str, dict[str, dict[str, Any]]]) -> str:
    counts = collections.Counter((r["decision"], r["rule"]) for ps in decisions.values()
                                 for r in ps.values())
    lines = [
        "# Keep or drop: every parameter the gateway's documents removed or flagged",
        "# deprecated, per model. Generated by tools/gen_param_decisions.py (rules and",
        "# review corrections live there); regenerate, do not edit by hand.",
        "#",
        "# keep: the catalog records it (`removed:` with date and hint, or a",
        "#       `deprecated:` spec for a flagged parameter still listed);",
        "# drop: it stays out of the catalog (an unknown key then gets AML301).",
        "#",
        "# Totals: " + ", ".join(f"{d} {r}: {n}" for (d, r), n in sorted(counts.items())),
        "rules:",
    ]
    lines += [f"  {k}: {_q(v)}" for k, v in RULES.items()]
    lines.append("decisions:")
    for model, params in decisions.items():
        lines.append(f"  {_q(model)}:")
        for p, rec in params.items():
            body = ", ".join(f"{k}: {_q(str(v))}" for k, v in rec.items())
            lines.append(f"    {_q(p)}: {{{body}}}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--todo", action="store_true",
                    help="print the kept decisions the catalog does not record yet, as YAML "
                    "to paste into each model's endpoint")
    args = ap.parse_args(argv)
    if not refdata.available():
        print(f"reference data not found at {refdata.REFERENCE}", file=sys.stderr)
        return 2
    if args.todo:
        sys.stdout.write(todo())
        return 0
    text = render(decide())
    old = OUT.read_text("utf-8") if OUT.is_file() else None
    if old == text:
        return 0
    if args.check:
        print(f"stale: {OUT.relative_to(refdata.REPO)} (run python tools/gen_param_decisions.py)")
        return 1
    OUT.write_text(text, "utf-8")
    print(f"wrote {OUT.relative_to(refdata.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
