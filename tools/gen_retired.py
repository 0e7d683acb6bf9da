"""Write catalog/models/<developer>/retired.yaml: the models the gateway no longer serves.

    python tools/gen_retired.py [--check]

Reads the docs' model table (``../shared/reference``, at run time) and writes
one file per developer with every id of the "no longer supported" table as a
model with ``status: removed``:

- ids on one row are one model (the first clean id, the others aliases); a
  document id that is a spelling of a row id (docs/catalog.md, "Ids and
  aliases") is an alias too;
- ``status_since`` is the date the id was first listed as removed, when the
  table has one; otherwise no date and a note that the docs give none;
- the kind comes from the model's documents (current, deleted, or named in
  the docs' history); without any, from the id (noted);
- ``replacement`` only from :data:`REPLACEMENTS`, a reviewed list: same
  family, newer version, and served today.

Decisions that are not mechanical live in this file, each with its reason:
:data:`LIVE_AFTER_ALL`, :data:`REPLACEMENTS`, :data:`SKIP_EXISTING`.
``--check`` writes nothing and exits 1 when a file would change.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

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
REPLACEMENTS: dict[str, str] = {}

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
    return files


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
        "# tools/gen_retired.py from the docs' model table; edit the generator's",
        "# reviewed lists (replacements, decisions), not this file.",
        f"developer: {_scalar(dev)}",
        "kind: chat  # the default; each model states its own",
        "models:",
    ]
    for mid in sorted(models, key=str.lower):
        m = models[mid]
        lines.append(f"  {_scalar(mid)}:")
        for k, v in m.items():
            if k == "kind" and v == "chat":
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
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
