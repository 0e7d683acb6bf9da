"""``aimlcat stats``: what the catalog holds, in figures (build side).

Counts models by kind and status, the ids that resolve (ids and aliases), the
model × endpoint schemas, the ids without parameter rules (models without
endpoints: removed ones, and served ones whose parameters no document gives),
and how much YAML each model costs: the lines of its own entry, and the
catalog's lines over its models. Text or ``--format json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import IO, Any

__all__ = ["add_arguments", "catalog_stats", "render_text", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalog", type=Path, help="catalog directory (default: ./catalog, "
                   "else the one aimlcat ships)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(out=None)


def _content_lines(text: str) -> int:
    return sum(1 for line in text.splitlines()
               if line.strip() and not line.lstrip().startswith("#"))


def _entry_lines(root: Path) -> dict[str, int]:
    """Model id -> content lines of its own entry (from its key to the next model's)."""
    from ._yamlio import PosDict, YamlError, load_yaml

    out: dict[str, int] = {}
    for path in sorted(root.rglob("*.yaml")):
        try:
            text = path.read_text(encoding="utf-8")
            doc = load_yaml(text)
        except (OSError, UnicodeDecodeError, YamlError):
            continue
        models = doc.get("models") if isinstance(doc, PosDict) else None
        if not isinstance(models, PosDict) or not models:
            continue
        lines = text.splitlines()
        starts = sorted((models.key_pos[k][0], k) for k in models)
        # The models section runs to the next top-level key or the end of the file.
        section_end = len(lines)
        after = [ln for k, (ln, _) in doc.key_pos.items() if ln > doc.key_pos["models"][0]]
        if after:
            section_end = min(after) - 1
        for i, (start, mid) in enumerate(starts):
            end = starts[i + 1][0] - 1 if i + 1 < len(starts) else section_end
            out[mid] = _content_lines("\n".join(lines[start - 1:end]))
    return out


def catalog_stats(cat_dir: str | Path) -> dict[str, Any]:
    """The figures for the catalog under ``cat_dir`` (raises CatalogError if it does not load)."""
    from ._loader import load_catalog_source

    root = Path(cat_dir)
    catalog = load_catalog_source(root)
    models = catalog.models.values()
    by_kind: dict[str, dict[str, int]] = {}
    by_status: dict[str, int] = {}
    for m in models:
        by_kind.setdefault(m.kind, {}).setdefault(m.status, 0)
        by_kind[m.kind][m.status] += 1
        by_status[m.status] = by_status.get(m.status, 0) + 1
    bare: dict[str, list[str]] = {}
    for m in models:
        if not m.endpoints:
            bare.setdefault(m.status, []).extend([m.id, *m.aliases])
    files = sorted(p for p in root.rglob("*.yaml") if p.is_file())
    total = sum(_content_lines(p.read_text(encoding="utf-8")) for p in files)
    model_files = [p for p in files if "models" in p.relative_to(root).parts[:1]]
    per_model = _entry_lines(root)
    counts = sorted(per_model.values())
    n = len(catalog.models)
    largest = sorted(per_model.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return {
        "catalog_version": catalog.version,
        "models": n,
        "ids": sum(1 + len(m.aliases) for m in models),
        "model_endpoints": sum(len(m.endpoints) for m in models),
        "by_status": dict(sorted(by_status.items())),
        "by_kind": {k: dict(sorted(v.items())) for k, v in sorted(by_kind.items())},
        "without_parameter_rules": {k: sorted(v) for k, v in sorted(bare.items())},
        "yaml": {
            "files": len(files),
            "lines": total,
            "lines_in_model_files": sum(_content_lines(p.read_text(encoding="utf-8"))
                                        for p in model_files),
            "lines_per_model": round(total / n, 1) if n else 0.0,
            "entry_lines": {
                "mean": round(statistics.fmean(counts), 1) if counts else 0.0,
                "median": statistics.median(counts) if counts else 0,
                "max": counts[-1] if counts else 0,
                "largest": [{"id": k, "lines": v} for k, v in largest],
            },
        },
    }


def render_text(s: dict[str, Any]) -> str:
    statuses = ("active", "deprecated", "removed")
    w = []
    w.append(f"catalog {s['catalog_version']}: {s['models']} models, {s['ids']} ids "
             f"(with aliases), {s['model_endpoints']} model x endpoint schemas")
    w.append("")
    width = max([len("kind"), *map(len, s["by_kind"])])
    w.append(f"  {'kind'.ljust(width)}  " + "  ".join(f"{st:>10}" for st in statuses)
             + f"  {'total':>6}")
    for kind, row in s["by_kind"].items():
        w.append(f"  {kind.ljust(width)}  " + "  ".join(f"{row.get(st, 0):>10}" for st in statuses)
                 + f"  {sum(row.values()):>6}")
    w.append(f"  {'all'.ljust(width)}  "
             + "  ".join(f"{s['by_status'].get(st, 0):>10}" for st in statuses)
             + f"  {s['models']:>6}")
    w.append("")
    bare = s["without_parameter_rules"]
    n_bare = sum(len(v) for v in bare.values())
    w.append(f"ids without parameter rules: {n_bare}"
             + (" (" + ", ".join(f"{len(v)} {k}" for k, v in bare.items()) + ")" if bare else ""))
    for status in ("active", "deprecated"):
        for mid in bare.get(status, []):
            w.append(f"  {mid}  ({status})")
    y = s["yaml"]
    e = y["entry_lines"]
    w.append("")
    w.append(f"YAML: {y['lines']} lines in {y['files']} files ({y['lines_in_model_files']} in "
             f"model files), {y['lines_per_model']} lines per model")
    w.append(f"  a model's own entry: mean {e['mean']}, median {e['median']}, max {e['max']} lines")
    if e["largest"]:
        w.append("  largest: " + ", ".join(f"{x['id']} ({x['lines']})" for x in e["largest"]))
    return "\n".join(w) + "\n"


def run(args: argparse.Namespace, out: IO[str]) -> int:
    from ._cli import _catalog_dirs

    cat_dir, _ = _catalog_dirs(args)
    s = catalog_stats(cat_dir)
    if args.format == "json":
        out.write(json.dumps(s, indent=2) + "\n")
    else:
        out.write(render_text(s))
    return 0
