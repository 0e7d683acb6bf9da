"""The lint corpus: 10,000 request files made from the catalog, one in ten broken.

    python bench/corpus.py [--files N] [--out DIR]

Bodies are like the benchmark bodies: the 7.4 KB chat body for the gpt-4o
family, the Kling video body for Kling, and for every other active model ×
endpoint a body sampled from its compiled schema. Models are taken in turn;
every tenth file gets one random mutation. A model served on several
endpoints is written as an envelope naming the endpoint. The same catalog
and --files give the same files.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aimlcat import load_catalog
from aimlcat._samples import mutate, sample

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
DEFAULT_OUT = ROOT / "bench" / "out" / "corpus"


def _templates() -> dict[str, Any]:
    return {name: json.loads((DATA / f"{name}.json").read_text())
            for name in ("chat_valid", "video_valid")}


def makers() -> list[tuple[str, str, Callable[[random.Random], Any]]]:
    """One body maker per active model × endpoint of the bundled catalog."""
    cat = load_catalog()
    defs = cat.defs()
    tpl = _templates()
    out: list[tuple[str, str, Callable[[random.Random], Any]]] = []
    for mid in cat.ids():
        if cat.resolve(mid) != mid or cat.model(mid).status != "active":
            continue
        for path, ep in cat.model_record(mid)["endpoints"].items():
            if ep.get("legacy"):
                continue  # clean files: no legacy endpoints, no deprecated parameters
            schema = cat.endpoint_schema(mid, path)
            template = None
            if path == "/v1/chat/completions" and mid.startswith("gpt-4o"):
                template = tpl["chat_valid"]
            elif path == "/v2/video/generations" and mid == tpl["video_valid"]["model"]:
                template = tpl["video_valid"]
            if template is not None:
                out.append((mid, path, lambda rnd, t=template, m=mid: {**t, "model": m}))
            else:
                out.append((mid, path, lambda rnd, s=schema, m=mid: {
                    **sample(s, defs, rnd, optional=0.7, deprecated=False), "model": m}))
    return out


def build(out: Path, files: int) -> Path:
    """Write the corpus to ``out`` (replacing it) and return it."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    cat = load_catalog()
    rnd = random.Random(1234)
    todo = makers()
    for i in range(files):
        mid, path, make = todo[i % len(todo)]
        body = make(rnd)
        if i % 10 == 9:
            body = mutate(body, rnd, keep=("model",))
        doc = body if len(cat.model_record(mid)["endpoints"]) == 1 else {
            "endpoint": path, "body": body}
        sub = out / f"{i // 1000:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"req-{i:05d}.json").write_text(json.dumps(doc, indent=2) + "\n")
    (out / "MANIFEST").write_text(f"files={files} catalog={cat.version} models={len(todo)}\n")
    return out


def ensure(out: Path, files: int) -> Path:
    """The corpus at ``out``, built unless a matching one is there already."""
    cat = load_catalog()
    manifest = out / "MANIFEST"
    want = f"files={files} catalog={cat.version} models={len(makers())}\n"
    if manifest.is_file() and manifest.read_text() == want:
        return out
    return build(out, files)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    build(args.out, args.files)
    print(f"wrote {args.files} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
