"""Count the request bodies the compiled schemas judge as the gateway's documents do.

    python tools/conformance_counts.py [--full] [--format text|json]

Uses the conformance test's own machinery (tests/test_conformance.py): for
every catalog model x endpoint that documents describe, the bodies its
generator builds from the documents, and one mutation of each kind per body
(unknown key, out of range, wrong type, missing required, bad enum). Each body
is judged by the documents (valid under at least one of the row's request
bodies) and by the compiled schema, and the two verdicts are tallied:

- generated bodies: how many the documents and the schemas both accept;
- mutated bodies: how many the documents and the schemas both reject; an unknown
  key is counted apart, since the documents leave the body open and the catalog
  closes it on purpose (AML301).

The default is the quick body count of the test run (3 bodies a row);
``--full`` generates as many as the ``-m full`` run (every union variant).
Needs the reference docs (``../shared/reference``) and the test extra.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import random
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _conformance() -> Any:
    path = REPO / "tests" / "test_conformance.py"
    spec = importlib.util.spec_from_file_location("conformance", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["conformance"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def count(full: bool = False) -> dict[str, Any]:
    import jsonschema

    tc = _conformance()
    cat = tc.load_catalog()
    generated: collections.Counter[str] = collections.Counter()
    mutated: dict[str, collections.Counter[str]] = {k: collections.Counter() for k in tc.MUTATIONS}
    for row in tc.ROWS:
        doc, compiled = tc.generation_doc(cat, row), tc.catalog_node(cat, row)
        bodies, _ = tc.generate_bodies(row, doc, cat, quick=not full)
        sources = [jsonschema.Draft202012Validator(tc.doc_request_schema(ref)) for ref in row.docs]
        validator = cat.validator(row.model, row.endpoint)
        rng = random.Random(sum(map(ord, row.id)) + 1)

        def exempt(pointer: str, aspect: str, row: Any = row) -> bool:
            return tc._allowed(row, tc.Difference(pointer, aspect, None, None)) is not None

        for body, slots in bodies:
            by_docs = any(v.is_valid(body) for v in sources)
            generated[_verdict(by_docs, validator.is_valid(body))] += 1
            for kind in tc.MUTATIONS:
                found = tc.mutate(kind, body, slots, compiled, rng, doc, exempt)
                if found is None:
                    continue
                bad, _ptr = found
                mutated[kind][_verdict(any(v.is_valid(bad) for v in sources),
                                       validator.is_valid(bad))] += 1
    same_gen = generated["both accept"]
    same_mut = sum(c["both reject"] for k, c in mutated.items() if k != "unknown_key")
    return {
        "rows": len(tc.ROWS),
        "mode": "full" if full else "quick",
        "generated": dict(generated),
        "mutated": {k: dict(c) for k, c in mutated.items()},
        "accepted_alike": same_gen,
        "generated_total": sum(generated.values()),
        "rejected_alike": same_mut,
        "mutated_total": sum(sum(c.values()) for k, c in mutated.items() if k != "unknown_key"),
        "unknown_keys_rejected": mutated["unknown_key"]["only the schema rejects"],
        "unknown_keys_total": sum(mutated["unknown_key"].values()),
    }


def _verdict(docs_ok: bool, schema_ok: bool) -> str:
    return {(True, True): "both accept", (False, False): "both reject",
            (True, False): "only the schema rejects",
            (False, True): "only the documents reject"}[(docs_ok, schema_ok)]


def render_text(c: dict[str, Any]) -> str:
    lines = [
        f"{c['rows']} model x endpoint rows, {c['mode']} body count",
        (f"generated bodies: {c['generated_total']}; the documents and the compiled schemas "
        f"both accept {c['accepted_alike']}"),
        "  " + ", ".join(f"{v} {n}" for v, n in sorted(c["generated"].items())),
        (f"mutated bodies (out of range, wrong type, missing required, bad enum): "
        f"{c['mutated_total']}; rejected by both {c['rejected_alike']}"),
        (f"unknown keys (the documents leave bodies open): {c['unknown_keys_total']}; "
        f"rejected by the schemas {c['unknown_keys_rejected']}"),
    ]
    for kind, verdicts in c["mutated"].items():
        lines.append(f"  {kind}: " + ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items())))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="as many bodies as the -m full run")
    ap.add_argument("--format", choices=("text", "json"), default="text")
    args = ap.parse_args(argv)
    if not (REPO.parent / "shared" / "reference" / "aimlapi-docs" / "openapi").is_dir():
        print("reference docs not found at ../shared/reference", file=sys.stderr)
        return 2
    c = count(full=args.full)
    sys.stdout.write(json.dumps(c, indent=2) + "\n" if args.format == "json" else render_text(c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
