"""Write the kept parameter decisions into the model files: `removed:` blocks.

    python tools/apply_param_decisions.py [--only FILE ...] [--skip FILE ...] [--dry-run]

For each kept decision of docs/decisions/parameters.yaml (rules ``moved``,
``targeted`` and ``reasoning-sampling``) that the catalog does not record yet, find the model's entry and
its endpoint item in its YAML file and add ``PARAM: {since, hint}`` under that
item's ``removed:`` (created after the item's last line). Text edits only:
comments, anchors and layout stay as they are. Skipped, and listed: models
that inherit their endpoints (``extends``), parameters the endpoint still
takes, removals the docs' history records under no id of the model or only in a deleted
document (the conformance test checks each against the history of the model's ids), and flow-style ``removed:`` blocks (block-style ones are extended).
Run ``aimlcat check-catalog`` and ``aimlcat build`` afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_param_decisions
import refdata

from aimlcat._loader import load_catalog_source
from aimlcat._yamlio import PosDict, load_yaml

CATALOG = refdata.REPO / "catalog"


def _pending() -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for model, params in gen_param_decisions.decide().items():
        for p, d in params.items():
            if d["decision"] == "keep" and d["rule"] in ("moved", "targeted",
                                                         "reasoning-sampling"):
                out.setdefault(model, {})[p] = d
    return out


def _item_end(lines: list[str], start: int, dash_col: int) -> int:
    """Index of the last line of the list item starting at ``start`` (0-based)."""
    end = start
    for i in range(start + 1, len(lines)):
        text = lines[i]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        indent = len(text) - len(text.lstrip())
        if indent <= dash_col:
            break
        end = i
    return end


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", default=None, help="edit only these files")
    ap.add_argument("--skip", nargs="*", default=[], help="do not edit these files")
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    catalog = load_catalog_source(CATALOG)
    families = {k: v["endpoint"] for k, v in catalog.families.items()}
    owners = {i: m for m in catalog.models.values() for i in (m.id, *m.aliases)}
    edits: dict[Path, list[tuple[int, str, str]]] = {}
    skipped: list[str] = []
    for model, params in _pending().items():
        m = owners.get(model)
        if m is None:
            skipped.append(f"{model}: not in the catalog")
            continue
        path = refdata.REPO / m.file
        rel = m.file
        if (args.only is not None and rel not in args.only) or rel in args.skip:
            continue
        doc = load_yaml(path.read_text("utf-8"))
        raw = doc["models"][m.id]
        if not isinstance(raw, PosDict) or "endpoints" not in raw:
            skipped.append(f"{model}: its endpoints are inherited ({rel})")
            continue
        lines = path.read_text("utf-8").splitlines()
        for p, d in params.items():
            target = gen_param_decisions._endpoint_of(model, p, d["date"])
            compiled = next((me for me in m.endpoints
                             if catalog.endpoints[me.endpoint].path == target), None)
            if compiled is None:
                skipped.append(f"{model} {p}: no endpoint item for {target}")
                continue
            if p in compiled.parameters:
                skipped.append(f"{model} {p}: still a parameter on {target}")
                continue
            if p in compiled.removed:
                continue
            current = {f.removeprefix("openapi/") for i in (m.id, *m.aliases)
                       for f in refdata.spec_ids().get(i, [])}
            if not any(e.get("parameter") == p and e["change"] == "parameter-removed"
                       and e["date"] == d["date"] and e["file"] in current
                       for i in (m.id, *m.aliases) for e in refdata.history().get(i, [])):
                # The conformance test checks each removal against the history of
                # the catalog id in a current document; the docs record it elsewhere.
                skipped.append(f"{model} {p}: the docs' history has it under another id or "
                               "document than the catalog's")
                continue
            items = raw["endpoints"]
            idx = next(i for i, it in enumerate(items)
                       if (families.get(it.get("family")) or it.get("endpoint"))
                       == compiled.endpoint)
            start = items.item_pos[idx][0] - 1
            dash_col = len(lines[start]) - len(lines[start].lstrip())
            item = items[idx]
            if "removed" in item:  # add under the existing block
                r_line = item.key_pos["removed"][0] - 1
                r_col = len(lines[r_line]) - len(lines[r_line].lstrip())
                if lines[r_line].rstrip().endswith("{}") or "{" in lines[r_line].split(":", 1)[1]:
                    skipped.append(f"{model} {p}: a flow-style removed: block (add by hand)")
                    continue
                end = _item_end(lines, r_line, r_col)
                header = ""
                pad = " " * r_col
            else:
                end = _item_end(lines, start, dash_col)
                pad = " " * (dash_col + 2)
                header = f"{pad}removed:"
            entry = (f"{pad}  {p}: {{since: {d['date']}, hint: "
                     f"{json.dumps(d['hint'], ensure_ascii=False)}}}")
            edits.setdefault(path, []).append((end, header, entry))
    for path, found in edits.items():
        lines = path.read_text("utf-8").splitlines()
        by_end: dict[int, tuple[str, list[str]]] = {}
        for end, header, entry in found:
            by_end.setdefault(end, (header, []))[1].append(entry)
        for end in sorted(by_end, reverse=True):
            header, entries = by_end[end]
            lines[end + 1:end + 1] = [header, *entries] if header else entries
        print(f"{'would edit' if args.dry_run else 'edited'} {path.relative_to(refdata.REPO)}: "
              f"{sum(len(e) for _, e in by_end.values())} removal(s)")
        if not args.dry_run:
            path.write_text("\n".join(lines) + "\n", "utf-8")
    for s in skipped:
        print("skipped:", s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
