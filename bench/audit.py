"""`aimlcat audit` throughput: lines per second, local (1 and N processes) and Dask.

    python bench/audit.py                 # 200,000 lines, 3 samples per figure
    python bench/audit.py --lines 50000 --repeat 1
    python bench/audit.py --no-dask       # without the dask extra

The log is generated (and kept under bench/out/audit/): request log lines as a team's
gateway client writes them, an envelope with a timestamp around a chat body of a few
hundred bytes, one line in ten with a finding (deprecated, removed, unknown parameters,
removed and unknown models, cut-off lines); half of it in a plain .jsonl file, half in a .jsonl.gz.

Every figure is a ratio to a floor timed in the same run: reading the same lines and
`json.loads` of each, in one process. Subject and floor samples alternate; medians are
reported. Nothing is asserted; the exit status is 0 whatever the figures are.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "audit"
sys.path.insert(0, str(ROOT))

from aimlcat._audit import audit  # noqa: E402  (after the path set-up, from this checkout)

WORDS = ("the lighthouse keeper wrote a letter about tides storms ships and the long "
         "winter nights while the lamp turned above the grey sea").split()
CHAT = "/v1/chat/completions"


def _body(rnd: random.Random) -> dict[str, object]:
    text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(20, 80)))
    body: dict[str, object] = {
        "model": rnd.choice(("gpt-4o", "gpt-4o-mini", "gpt-4o-2024-08-06")),
        "messages": [{"role": "system", "content": "You answer briefly."},
                     {"role": "user", "content": text}],
        "max_completion_tokens": rnd.choice((64, 256, 1024)),
        "temperature": round(rnd.random(), 2),
    }
    r = rnd.random()
    if r < 0.04:
        body["max_tokens"] = body.pop("max_completion_tokens")  # deprecated (AML302)
    elif r < 0.06:
        body["temperatur"] = body.pop("temperature")  # unknown (AML301)
    elif r < 0.08:
        body["model"] = "o3-mini"  # temperature removed (AML303)
    elif r < 0.09:
        body = {"model": "dall-e-3", "prompt": text}  # removed model (AML103)
    elif r < 0.10:
        body["model"] = "gpt-4.0"  # unknown model (AML102)
    return body


def make_log(lines: int, seed: int = 1) -> list[str]:
    """The log files for ``lines`` lines (made once, then reused)."""
    OUT.mkdir(parents=True, exist_ok=True)
    plain, packed = OUT / f"log-{lines}.jsonl", OUT / f"log-{lines}.jsonl.gz"
    if plain.exists() and packed.exists():
        return [str(plain), str(packed)]
    rnd = random.Random(seed)
    start = 1_735_689_600
    out = []
    for i in range(lines):
        if rnd.random() < 0.01:
            out.append('{"timestamp": 1735689600, "endpoint": "/v1/chat/completions", "bo')
            continue
        doc = {"timestamp": start + i * 60, "endpoint": CHAT, "body": _body(rnd)}
        out.append(json.dumps(doc))
    half = lines // 2
    plain.write_text("\n".join(out[:half]) + "\n")
    packed.write_bytes(gzip.compress(("\n".join(out[half:]) + "\n").encode(), mtime=0))
    return [str(plain), str(packed)]


def floor(files: Sequence[str]) -> None:
    """Read every line and json.loads it: the least any audit must do."""
    for path in files:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as fh:
            for line in fh:
                try:
                    json.loads(line)
                except ValueError:
                    pass


def timed(fn: Callable[[], object]) -> float:
    t = perf_counter()
    fn()
    return perf_counter() - t


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3, help="samples per figure (median)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="processes / Dask workers for the parallel figures")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args(argv)

    files = make_log(args.lines)
    size = sum(os.path.getsize(f) for f in files)
    blocksize = 4 * 1024 * 1024  # so the plain half splits across the workers
    reference = audit(files, jobs=1).to_dict()
    lines = reference["totals"]["lines"]
    subjects: list[tuple[str, Callable[[], object]]] = [
        ("local, 1 process", lambda: audit(files, jobs=1, blocksize=blocksize)),
        (f"local, {args.jobs} processes",
         lambda: audit(files, jobs=args.jobs, blocksize=blocksize)),
    ]
    client = None
    startup = None
    if not args.no_dask:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            print("(no dask: pip install 'aimlcat[dask]'; Dask figures skipped)")
        else:
            t = perf_counter()
            cluster = LocalCluster(n_workers=args.jobs, threads_per_worker=1,
                                   processes=True, dashboard_address=":0")
            client = Client(cluster)
            startup = perf_counter() - t
            subjects.append((f"dask LocalCluster, {args.jobs} workers", lambda: audit(
                files, engine="dask", client=client, blocksize=blocksize)))
            # The same report: checked before anything is timed.
            dask_doc = audit(files, engine="dask", client=client, blocksize=blocksize)
            if dask_doc.to_dict() != reference:
                print("the Dask report differs from the local one; not timing it")
                subjects.pop()

    rows = []
    for name, fn in subjects:
        fn()  # warm: worker processes, catalogs, page cache
        subject, base = [], []
        for _ in range(args.repeat):
            base.append(timed(lambda: floor(files)))
            subject.append(timed(fn))
        s, b = statistics.median(subject), statistics.median(base)
        rows.append((name, lines / s, s / b, lines / b))
    if client is not None:
        client.close()
        client.cluster.close()

    print(f"aimlcat audit: {lines:,} lines, {size / 1e6:.1f} MB on disk "
          f"(half plain, half gzip), {args.repeat} samples per figure, medians")
    print(f"{'engine':<32} {'lines/s':>12} {'× floor time':>13} {'floor lines/s':>14}")
    for name, rate, ratio, floor_rate in rows:
        print(f"{name:<32} {rate:>12,.0f} {ratio:>12.1f}× {floor_rate:>14,.0f}")
    if startup is not None:
        print(f"(LocalCluster start-up, not in the figures: {startup:.1f} s)")
    print(f"floor: read each line and json.loads it, one process. machine: {os.cpu_count()} "
          f"CPUs, Python {platform.python_version()}. Nothing is asserted.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
