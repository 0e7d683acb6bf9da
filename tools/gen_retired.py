"""Write catalog/models/<developer>/retired.yaml: the models the gateway no longer serves.

    python tools/gen_retired.py [--check]

Reads the docs' model table and documents (``../shared/reference``, at run
time) and writes one file per developer with every id of the "no longer
supported" table as a model with ``status: removed``:

- ids on one row are one model (the first clean id, the others aliases); a
  document id that is a spelling of a row id (docs/catalog.md, "Ids and
  aliases") is an alias too;
- ``status_since`` is the date the id was first listed as removed, when the
  table has one; otherwise no date and a note that the docs give none;
- the kind comes from the model's documents (current, deleted, or named in
  the docs' history); without any, from the id (noted);
- ``replacement`` only from :data:`REPLACEMENTS`, a reviewed list: same
  family, newer version, and served today;
- ``endpoints`` from the model's last documents (:func:`last_endpoints`), so
  ``aimlcat show`` and the AML103 hint know what it took.

Decisions that are not mechanical live in this file, each with its reason:
:data:`LIVE_AFTER_ALL`, :data:`REPLACEMENTS`, :data:`SKIP_EXISTING`; ids only the
documents of removed models name are decided in docs/decisions/ids.yaml
(``removed_document_ids``).
``--check`` writes nothing and exits 1 when a file would change.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import refdata

CATALOG = refdata.REPO / "catalog" / "models"

# Ids listed in both tables that the documents show as served: their
# documents were reworked on 2026-07-07, after the id was listed as removed,
# together with the new "-latest" models (documents of removed models are
# never edited after the listing date). catalog/models/<dev>/relisted.yaml
# holds them. `anthropic/claude-sonnet-4`, also in both tables, is removed:
# its documents were last edited on 2026-04-22, before its listing on
# 2026-06-16, like those of claude-opus-4 listed the same day.
LIVE_AFTER_ALL = {"anthropic/claude-3-haiku", "google/gemma-2-27b-it"}

# Removed models already in other catalog files (written before this file).
SKIP_EXISTING = {"dall-e-3", "meta-llama/Llama-Guard-3-11B-Vision-Turbo"}

# Reviewed replacements: model id -> a served model of the same family, newer.
REPLACEMENTS: dict[str, str] = {
    "chatgpt-4o-latest": "gpt-4o",
    "o1-mini": "o3-mini",
    # The same model under its undated id, served again (docs/decisions/ids.yaml).
    "claude-3-haiku-20240307": "anthropic/claude-3-haiku",
    "anthropic/claude-opus-4": "anthropic/claude-opus-4.1",
    "claude-3-opus-20240229": "anthropic/claude-opus-4.1",
    "anthropic/claude-sonnet-4": "anthropic/claude-sonnet-4.5",
    "claude-3-sonnet-20240229": "anthropic/claude-sonnet-4.5",
    "claude-3-5-sonnet-20240620": "anthropic/claude-sonnet-4.5",
    "claude-3-5-sonnet-20241022": "anthropic/claude-sonnet-4.5",
    "claude-3-7-sonnet-20250219": "anthropic/claude-sonnet-4.5",
    "claude-3-5-haiku-20241022": "anthropic/claude-haiku-4.5",
    "gpt-4": "openai/gpt-4.1-2025-04-14",
    "gpt-4-0613": "openai/gpt-4.1-2025-04-14",
    "gpt-4-turbo": "openai/gpt-4.1-2025-04-14",
    "gpt-4-turbo-2024-04-09": "openai/gpt-4.1-2025-04-14",
    "gpt-4-0125-preview": "openai/gpt-4.1-2025-04-14",
    "gpt-4-1106-preview": "openai/gpt-4.1-2025-04-14",
    "gpt-3.5-turbo-16k-0613": "gpt-3.5-turbo",
    "o1-preview": "o1",
    "openai/gpt-5-chat-latest": "openai/gpt-5-2-chat-latest",
    "openai/gpt-5-1-chat-latest": "openai/gpt-5-2-chat-latest",
    "openai/gpt-5-codex": "openai/gpt-5-1-codex",
    "bytedance/seedream-3.0": "bytedance/seedream-v4-text-to-image",
    "bytedance/seededit-3.0-i2i": "bytedance/seedream-v4-edit",
    "qwen-max": "alibaba/qwen3-max-instruct",
    "qwen-max-2025-01-25": "alibaba/qwen3-max-instruct",
    "nvidia/nemotron-nano-9b-v2": "nvidia/nemotron-3-nano-30b-a3b",
    "nvidia/llama-3.3-nemotron-super-49b-v1.5": "nvidia/nemotron-3-super-120b-a12b",
    "moonshot/kimi-k2-0905-preview": "moonshotai/kimi-k2-0905",
    "moonshot/kimi-k2-preview": "moonshotai/kimi-k2",
    "moonshot/kimi-k2-turbo-preview": "moonshotai/kimi-k2",
    "baidu/ernie-5-0-thinking-latest": "baidu/ernie-5.0",
    "baidu/ernie-5-0-thinking-preview": "baidu/ernie-5.0",
    "gemini-2.0-flash": "google/gemini-2.5-flash",
    "gemini-2.0-flash-exp": "google/gemini-2.5-flash",
    "google/gemini-2.0-flash-thinking-exp-01": "google/gemini-2.5-flash",
    "google/gemini-2.5-flash-preview": "google/gemini-2.5-flash",
    "gemini-1.5-flash": "google/gemini-2.5-flash",
    "gemini-1.5-pro": "google/gemini-2.5-pro",
    "google/gemini-pro": "google/gemini-2.5-pro",
    "google/gemini-2.5-pro-preview": "google/gemini-2.5-pro",
    "google/gemini-2.5-pro-exp-03-25": "google/gemini-2.5-pro",
    "google/gemini-3-pro-preview": "google/gemini-3-1-pro-preview",
    "google/gemma-2-9b-it": "google/gemma-3-12b-it",
    "google/gemma-2b-it": "google/gemma-3-4b-it",
    "imagen-4.0-ultra-generate-preview-06-06": "google/imagen-4.0-ultra-generate-001",
    "textembedding-gecko-multilingual@001": "text-multilingual-embedding-002",
    "meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "meta-llama/Llama-3-70b-chat-hf": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "meta-llama/meta-llama-3-70b-instruct-turbo": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "Meta-Llama/Meta-Llama-3-70B-Instruct-Lite": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "mistralai/Mixtral-8x22B-Instruct-v0.1": "mistralai/mixtral-8x22b-instruct",
    "mistralai/codestral-2501": "mistralai/codestral-2508",
    "Gryphe/MythoMax-L2-13b": "gryphe/mythomax-l2-13b",
    "Gryphe/MythoMax-L2-13b-Lite": "gryphe/mythomax-l2-13b",
    "luma/ray-1.6": "luma/ray-2",
    "kling-video/v1.5/standard/text-to-video": "kling-video/v1.6/standard/text-to-video",
    "stabilityai/stable-diffusion-xl-base-1.0": "stable-diffusion-v35-large",
    "stabilityai/stable-diffusion-2-1": "stable-diffusion-v35-large",
    "runwayml/stable-diffusion-v1-5": "stable-diffusion-v35-large",
    "aion-labs/aion-1.0": "aion-labs/aion-2.0",
    "aion-labs/aion-1.0-mini": "aion-labs/aion-3.0-mini",
    "music-01": "minimax/music-1.5",
}

# Developer names as the catalog spells them (the table spells some several ways).
DEVELOPERS = {
    "Open AI": "OpenAI", "Nvidia": "NVIDIA", "Nous Research": "NousResearch",
    "TogetherAI": "Together AI", "Together": "Together AI", "StabilityAI": "Stability AI",
    "Minimax AI": "MiniMax", "AI21 Labs": "AI21", "Imsys": "LMSYS",
}

# Directory names under catalog/models/ where the short form is not mechanical.
SLUGS = {
    "Mistral AI": "mistral", "Stability AI": "stability", "Kling AI": "kling",
    "Alibaba Cloud": "alibaba", "Allen Institute for AI": "allenai", "01.AI": "01-ai",
    "Together AI": "together", "Luma AI": "luma", "Arcee AI": "arcee", "Defog AI": "defog",
    "Hugging Face": "huggingface", "Tim Dettmers": "tim-dettmers", "Mosaic ML": "mosaicml",
    "Disco Research": "discoresearch", "Suno AI": "suno",
}

_DOC_KINDS = {
    "text-models-llm": "chat", "image-models": "image", "video-models": "video",
    "embedding-models": "embedding", "moderation-safety-models": "moderation",
    "music-models": "music", "web-search-models": "search", "vision-models-ocr": "ocr",
    "3d-generating-models": "3d",
}


def developer(name: str) -> str:
    return DEVELOPERS.get(name, name)


def slug(dev: str) -> str:
    if dev in SLUGS:
        return SLUGS[dev]
    return re.sub(r"[^a-z0-9]+", "-", dev.lower()).strip("-")


def _doc_kind(files: list[str]) -> str | None:
    for f in files:
        parts = f.split("/")
        for p in parts[:2]:
            if p in _DOC_KINDS:
                return _DOC_KINDS[p]
        if parts[0] == "speech-models":
            return "tts" if "tts" in f.lower() else "stt"
    return None


def _name_kind(mid: str, context_window: int | None) -> str:
    low = mid.lower()
    if re.search(r"bert|bge|uae-large|embed|gecko", low):
        return "embedding"
    # Image prompts are cut at 77 tokens (the CLIP text encoder): the table
    # gives that as the "context" of its image models.
    if context_window == 77 or re.search(r"diffusion|openjourney|realistic_vision", low):
        return "image"
    if re.search(r"video|ray-", low):
        return "video"
    return "chat"


def kind_of(row: refdata.Row) -> tuple[str, bool]:
    """The model's kind, and whether it came from a document."""
    files = list(row.openapi)
    for i in (*row.raw_ids, *row.ids):
        files += [f.removeprefix("removed-openapi/") for f in refdata.removed_documents().get(i, ())]
        files += [e["file"] for e in refdata.history().get(i, [])]
    kind = _doc_kind(files)
    if kind is not None:
        return kind, True
    return _name_kind(row.ids[0], row.context_window), False


def collect() -> dict[str, dict[str, dict[str, object]]]:
    """developer slug -> {"developer": name, "models": {id: fields}}."""
    table = refdata.table_ids("active") | refdata.table_ids("deprecated")
    files: dict[str, dict[str, object]] = {}
    seen: dict[str, dict[str, object]] = {}
    home: dict[str, str] = {}  # model id -> its developer's directory
    for row in refdata.rows():
        if row.status != "deprecated":
            continue
        ids = [i for i in row.ids if i not in LIVE_AFTER_ALL]
        if not ids or ids[0] in SKIP_EXISTING:
            continue
        mid = ids[0]
        if mid in seen:  # the same id on two rows of the table: one model
            continue
        aliases = list(ids[1:])
        for i in ids:
            for d in refdata.doc_spellings(i):
                if d not in table and d not in aliases and d != mid:
                    aliases.append(d)
        kind, documented = kind_of(row)
        dev = developer(row.developer)
        model: dict[str, object] = {}
        if aliases:
            model["aliases"] = aliases
        model["kind"] = kind
        model["status"] = "removed"
        if row.listed_on:
            model["status_since"] = row.listed_on
        if mid in REPLACEMENTS:
            model["replacement"] = REPLACEMENTS[mid]
        if row.context_window and kind in ("chat", "embedding", "moderation", "search"):
            model["context_window"] = row.context_window
        notes = []
        if not row.listed_on:
            notes.append("The docs list it as no longer supported but give no date.")
        if not documented:
            notes.append("No document ever described it; the kind follows from its name.")
        if set(row.ids) & LIVE_AFTER_ALL:
            notes.append("The undated id of this row is served again; see relisted.yaml.")
        if notes:
            model["notes"] = " ".join(notes)
        seen[mid] = model
        entry = files.setdefault(slug(dev), {"developer": dev, "models": {}})
        entry["models"][mid] = model  # type: ignore[index]
        home[mid] = slug(dev)
    _add_document_ids(files, seen, home)
    for mid, model in seen.items():
        names = (mid, *model.get("aliases", ()))  # type: ignore[misc]
        endpoints, sources, problem = last_endpoints(names)
        if endpoints:
            model["endpoints"] = endpoints
            model["_sources"] = sources
        elif problem:
            SKIPPED[mid] = problem
    return files


# Removed models whose last documents could not be imported: id -> why.
SKIPPED: dict[str, str] = {}


def _document_order(rel: str) -> tuple[int, str]:
    # As the served models were imported (docs/coverage.md): path order, the
    # Black-Forest-Labs image pages after the newer flux/ pages.
    return ("image-models/Black-Forest-Labs/" in rel, rel)


def last_documents(names: tuple[str, ...]) -> list[str]:
    """The documents that last described a model (paths under the docs folder): the
    current documents whose model lists name one of its ids, else the deleted ones."""
    current = {f for i in names for f in refdata.spec_ids().get(i, [])}
    if current:
        return sorted((f if f.startswith("openapi/") else "openapi/" + f for f in current),
                      key=_document_order)
    deleted = {f for i in names for f in refdata.removed_documents().get(i, ())}
    return sorted(deleted, key=_document_order)


@functools.cache
def _source_catalog() -> Any:
    from aimlcat._loader import load_catalog_source

    return load_catalog_source(refdata.REPO / "catalog")


def last_endpoints(names: tuple[str, ...]) -> tuple[list[Any], list[str], str | None]:
    """(endpoint items, source documents, problem) of a removed model: its last
    documents imported with ``aimlcat import-openapi`` against the catalog, so they
    reuse its families and shapes. Empty with a problem when they cannot be imported
    as they are (an id the catalog cannot hold, a path or shape it lacks)."""
    from aimlcat._importer import ImportFailed, import_openapi

    docs = last_documents(names)
    if not docs:
        return [], [], None
    # One table row holding the model's ids makes them one model for the importer
    # (its documents may spell the id differently from one another).
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "models.json"
        table.write_text(json.dumps({"models": [{"ids": list(names)}]}), "utf-8")
        try:
            result = import_openapi([refdata.DOCS / d for d in docs], catalog=_source_catalog(),
                                    models_table=table)
        except ImportFailed as exc:
            result = exc
    if isinstance(result, ImportFailed):
        exc = result
        return [], docs, "; ".join(f"{p.file.split('aimlapi-docs/')[-1]}: {p.message}"
                                   for p in exc.problems)
    new = sorted(set(result.files) & {"endpoints.yaml", "shapes.yaml"})
    if new:
        return [], docs, f"the import needs {', '.join(new)} (a path or shape the catalog lacks)"
    entries: dict[str, Any] = {}
    for text in result.files.values():
        entries.update(yaml.safe_load(text).get("models") or {})
    for mid, entry in entries.items():
        if mid == names[0] or (mid in names and names[0] not in entries):
            while "extends" in entry:
                entry = entries[entry["extends"]]
            return list(entry["endpoints"]), docs, None
    return [], docs, "the import names none of its ids"


def _add_document_ids(files: dict[str, dict[str, object]], seen: dict[str, dict[str, object]],
                      home: dict[str, str]) -> None:
    """Ids that only documents of removed models name (docs/decisions/ids.yaml,
    ``removed_document_ids``): an alias of one of those models, or a removed
    model of its own beside them."""
    decided = refdata.id_decisions().get("removed_document_ids") or {}
    found = refdata.removed_document_ids()
    if set(decided) != set(found):
        raise SystemExit("docs/decisions/ids.yaml: removed_document_ids must decide exactly "
                         f"{sorted(found)}; it decides {sorted(decided)}")
    owner = {i: mid for mid, m in seen.items()
             for i in (mid, *m.get("aliases", ()))}  # type: ignore[misc]
    for did, named in found.items():
        d = decided[did]
        if "alias_of" in d:
            model = seen[owner[d["alias_of"]]]
            aliases = [*model.pop("aliases", ()), did]  # type: ignore[misc]
            rest = dict(model)
            model.clear()
            model.update(aliases=aliases, **rest)  # aliases first, as written for rows
            continue
        first = owner[named[0]]
        files_ = [f.removeprefix("openapi/") for f in refdata.spec_ids()[did]]
        model = {"kind": _doc_kind(files_) or "chat", "status": "removed"}
        if did in REPLACEMENTS:
            model["replacement"] = REPLACEMENTS[did]
        model["notes"] = (f"The table never lists it; only the documents of {first} (removed) "
                          "name it, so the docs give no date of its own.")
        seen[did] = model
        files[home[first]]["models"][did] = model  # type: ignore[index]


_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/+@-]*$")


def _scalar(v: object) -> str:
    special = re.fullmatch(r"[\d.:-]+|true|false|null|yes|no|on|off", str(v), re.IGNORECASE)
    if isinstance(v, str) and _PLAIN.match(v) and not special:
        return v
    text = yaml.safe_dump(v, default_flow_style=True, width=10**6, allow_unicode=True)
    return text.removesuffix("\n...\n").strip()


def render(dev: str, models: dict[str, dict[str, object]]) -> str:
    lines = [
        "# Models the gateway lists as no longer supported. Generated by",
        "# tools/gen_retired.py from the docs' model table and the models' last",
        "# documents; edit the generator's reviewed lists (replacements,",
        "# decisions), not this file.",
        f"developer: {_scalar(dev)}",
        "kind: chat  # the default; each model states its own",
        "models:",
    ]
    for mid in sorted(models, key=str.lower):
        m = models[mid]
        for src in m.get("_sources", ()):  # type: ignore[attr-defined]
            gone = " (deleted)" if src.startswith("removed-openapi/") else ""
            lines.append(f"  # last documented in {src.split('/', 1)[1]}{gone}")
        lines.append(f"  {_scalar(mid)}:")
        for k, v in m.items():
            if k == "kind" and v == "chat" or k == "_sources":
                continue
            if k == "endpoints":
                from aimlcat._importer import render_yaml

                block = render_yaml({"endpoints": v}).rstrip("\n").split("\n")
                lines.extend("    " + line if line else line for line in block)
                continue
            if isinstance(v, list):
                lines.append(f"    {k}: [{', '.join(_scalar(x) for x in v)}]")
            elif k == "notes":
                lines.append(f"    {k}: >-")
                words, cur = str(v).split(), ""
                for w in words:
                    if cur and len(cur) + 1 + len(w) > 72:
                        lines.append("      " + cur)
                        cur = w
                    else:
                        cur = f"{cur} {w}".strip()
                lines.append("      " + cur)
            else:
                lines.append(f"    {k}: {_scalar(v)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    args = ap.parse_args(argv)
    if not refdata.available():
        print(f"reference data not found at {refdata.REFERENCE}", file=sys.stderr)
        return 2
    stale = []
    for s, entry in sorted(collect().items()):
        text = render(str(entry["developer"]), entry["models"])  # type: ignore[arg-type]
        path = CATALOG / s / "retired.yaml"
        old = path.read_text("utf-8") if path.is_file() else None
        if old == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
    for p in stale:
        print(("stale: " if args.check else "wrote ") + str(p.relative_to(refdata.REPO)))
    if not args.check:
        for mid, why in sorted(SKIPPED.items()):
            print(f"no endpoints for {mid}: {why}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
