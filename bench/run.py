"""Speed figures for aimlcat, each a ratio against a floor measured in the same run.

    python bench/run.py             # 7 samples per figure (about 75 s on 2 cores)
    python bench/run.py --quick     # fewer, shorter samples
    python bench/run.py --only corpus,cli   # some groups of figures
    python bench/run.py --repeat 11

Machines are noisy, so nothing here is asserted: every figure is printed next to
a floor (``json.loads`` of the same body, or ``python -c pass``) timed in the
same run, interleaved with it, and the goal column is informative only. The
exit status is 0 whatever the figures are.  See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from time import perf_counter_ns
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
DATA_REL = "bench/data"  # as the CLI figures name the file, run from ROOT

CHAT_MODEL = "gpt-4o"
CHAT_ENDPOINT = "/v1/chat/completions"


# -- settings --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Settings:
    repeat: int            # samples per figure; the median of these is reported
    sample_ns: int         # an in-process sample runs its function for at least this long
    runs_per_sample: int   # a subprocess sample is the mean of this many process runs

    @classmethod
    def from_args(cls, quick: bool, repeat: int | None) -> Settings:
        if quick:
            return cls(repeat=repeat or 5, sample_ns=20_000_000, runs_per_sample=2)
        return cls(repeat=repeat or 7, sample_ns=100_000_000, runs_per_sample=5)


# -- results ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Samples:
    """Per-call (or per-run) times in nanoseconds, one per sample."""

    ns: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.ns)

    @property
    def low(self) -> float:
        return min(self.ns)

    @property
    def high(self) -> float:
        return max(self.ns)

    @property
    def spread(self) -> float:
        """(max - min) / median: how far apart the samples were, as a fraction."""
        return (self.high - self.low) / self.median if self.median else 0.0


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    subject: Samples
    floor: Samples | None        # None: an absolute figure
    floor_name: str
    goal: float | None           # ratio goal (or ms for an absolute figure); None: comparison only
    absolute: bool = False
    note: str = ""
    #: The goal is shown for comparison, with no met/unmet mark (a figure too noisy, or
    #: too dependent on the machine's start-up costs, to judge by it).
    compare: bool = False

    @property
    def value(self) -> float:
        """The figure compared with the goal: a ratio, or milliseconds when absolute."""
        if self.floor is None:
            return self.subject.median / 1e6
        return self.subject.median / self.floor.median

    @property
    def met(self) -> bool | None:
        return None if self.goal is None or self.compare else self.value <= self.goal


# -- timing ----------------------------------------------------------------------------------
def _loop(fn: Callable[[], object], loops: int) -> int:
    """Run ``fn`` ``loops`` times with the collector off (as timeit does); elapsed ns."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = perf_counter_ns()
        for _ in range(loops):
            fn()
        return perf_counter_ns() - t0
    finally:
        if gc_was_enabled:
            gc.enable()


def _calibrate(fn: Callable[[], object], sample_ns: int) -> int:
    """Loops per sample so that one sample lasts at least ``sample_ns`` (1, 2, 5, 10, ...)."""
    loops = 1
    while True:
        for step in (1, 2, 5):
            n = loops * step
            if _loop(fn, n) >= sample_ns:
                return n
        loops *= 10


def time_pair(subject: Callable[[], object], floor: Callable[[], object],
              s: Settings) -> tuple[Samples, Samples]:
    """Time two in-process functions, interleaving their samples so they share the noise."""
    fns = (subject, floor)
    for fn in fns:  # warm-up: caches, lazily built validators, specialised bytecode
        _loop(fn, 3)
    loops = [_calibrate(fn, s.sample_ns) for fn in fns]  # calibration doubles as a warm-up
    out: tuple[list[float], list[float]] = ([], [])
    for _ in range(s.repeat):
        for fn, n, acc in zip(fns, loops, out, strict=True):
            acc.append(_loop(fn, n) / n)
    return Samples(tuple(out[0])), Samples(tuple(out[1]))


#: The environment of every timed process. PYTHONDONTWRITEBYTECODE (set on some CI and
#: sandbox machines) is dropped: with it, each new process compiles aimlcat from source
#: (about 10 ms), which an installed package never does (pip writes the .pyc files).
#: The warm-up runs write them.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(cmd: Sequence[str]) -> int:
    t0 = perf_counter_ns()
    subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False, env=ENV)
    return perf_counter_ns() - t0


def time_commands(subject: Sequence[str], floor: Sequence[str],
                  s: Settings) -> tuple[Samples, Samples]:
    """Wall time of two commands, run alternately; each sample is the mean of a few runs."""
    for cmd in (subject, floor):  # warm-up: page cache, .pyc files
        _run(cmd)
        _run(cmd)
    out: tuple[list[float], list[float]] = ([], [])
    for _ in range(s.repeat):
        runs: tuple[list[int], list[int]] = ([], [])
        for _ in range(s.runs_per_sample):
            runs[0].append(_run(subject))
            runs[1].append(_run(floor))
        for acc, r in zip(out, runs, strict=True):
            acc.append(statistics.fmean(r))
    return Samples(tuple(out[0])), Samples(tuple(out[1]))


# -- the figures -----------------------------------------------------------------------------
def _body(name: str) -> tuple[str, Any]:
    text = (DATA / name).read_text(encoding="utf-8")
    return text, json.loads(text)


def _check(cond: bool, message: str) -> None:
    """Stop before timing anything that does not behave as the figure assumes."""
    if not cond:
        sys.exit(f"bench: {message}")


def validate_figures(s: Settings) -> list[Figure]:
    from aimlcat import load_catalog

    cat = load_catalog()
    cases = [
        # name, file, findings expected, goal
        ("validate chat_valid", "chat_valid.json", 0, 0.5),
        ("validate chat_invalid (3 errors)", "chat_invalid.json", 3, 3.0),
        ("validate video_valid", "video_valid.json", 0, 1.0),
    ]
    figures = []
    for name, file, expected, goal in cases:
        text, body = _body(file)
        found = len(cat.validate(body).findings)  # also builds and caches the validator
        _check(found == expected, f"{file}: {found} findings, expected {expected}")
        _check(json.loads(text) == body, f"{file}: validate() changed the body")
        subject, floor = time_pair(partial(cat.validate, body), partial(json.loads, text), s)
        figures.append(Figure(name, subject, floor, "json.loads", goal,
                              note=f"{found} findings"))
    figures.append(_scaling_figure(cat, s))
    return figures


#: Responses `input` items that each fail in a way the validator explains at length: a
#: message with ten parts of bad base64 data and a chat-style part, an item whose `type`
#: no item shape has, and an empty item (no shape to point to).
_BAD_ITEMS = (
    {"type": "message", "role": "user", "content": [
        *[{"type": "input_file", "filename": "a.pdf", "file_data": "not base64"}] * 10,
        {"type": "text", "text": "a chat-style part"}]},
    {"type": "input_text", "text": "a content part where an item goes"},
    {},
)


def _scaling_figure(cat: Any, s: Settings) -> Figure:
    """How a failing body's report grows with the body: 8x the failing items against 1x.
    Linear work gives about 8x; work that grows with the findings already made (a scan
    of them per finding) shows as far more."""
    def body(n: int) -> dict[str, Any]:
        return {"model": CHAT_MODEL, "input": [_BAD_ITEMS[i % 3] for i in range(n)]}

    small, large = body(90), body(720)
    found = len(cat.validate(large, "/v1/responses").findings)
    _check(found == 8 * len(cat.validate(small, "/v1/responses").findings),
           "failing input items: the findings do not grow with the items")
    subject, floor = time_pair(partial(cat.validate, large, "/v1/responses"),
                               partial(cat.validate, small, "/v1/responses"), s)
    return Figure("validate 720 failing input items", subject, floor, "(90 items)", 10.0,
                  note=f"{found} findings on /v1/responses")


def jsonschema_figures(s: Settings) -> list[Figure]:
    """The pure-Python engine on the same compiled schema: a comparison, not a goal."""
    import jsonschema
    import referencing

    from aimlcat import load_catalog

    cat = load_catalog()
    defs = cat.defs()
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(
        defs["$id"], referencing.Resource.from_contents(defs))
    schema = cat.schema(CHAT_MODEL, CHAT_ENDPOINT)
    validator = jsonschema.Draft202012Validator(
        schema, registry=registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)  # as aimlcat checks formats
    text, body = _body("chat_valid.json")
    _check(validator.is_valid(body), "chat_valid.json is not valid under jsonschema")

    figures = []
    calls: list[tuple[str, Callable[[], object]]] = [
        ("jsonschema is_valid chat_valid", lambda: validator.is_valid(body)),
        ("jsonschema iter_errors chat_valid", lambda: list(validator.iter_errors(body))),
    ]
    for name, call in calls:
        subject, floor = time_pair(call, partial(json.loads, text), s)
        figures.append(Figure(name, subject, floor, "json.loads", None,
                              note="pure-Python engine, comparison only"))
    return figures


def corpus_figures(s: Settings) -> list[Figure]:
    """Lint of the 10,000-file corpus in one process, against reading + json.loads of it."""
    import io

    sys.path.insert(0, str(ROOT / "bench"))
    from corpus import DEFAULT_OUT, ensure

    from aimlcat import load_catalog
    from aimlcat._cli import run

    corpus = ensure(DEFAULT_OUT, 10_000)
    files = sorted(str(p) for p in corpus.rglob("*.json"))

    cat = load_catalog()

    def lint() -> None:
        # A lint run is one pass over the files: what the previous sample learnt about
        # these very bodies (the validator's lane) must not make this one faster.
        cat.forget_bodies()
        run(["lint", str(corpus)], out=io.StringIO())

    def floor() -> None:
        for f in files:
            with open(f, "rb") as fh:
                json.loads(fh.read())

    # Samples here are whole passes over the corpus: fewer of them suffice.
    short = Settings(repeat=max(3, s.repeat // 2), sample_ns=1, runs_per_sample=1)
    subject, base = time_pair(lint, floor, short)
    per_file = Samples(tuple(x / len(files) for x in subject.ns))
    rate = len(files) / (subject.median / 1e9)
    # The same work as a user's CI job sees it: a new process that loads the catalog and
    # builds every validator it needs, against a new process that reads the same files.
    cmd, _ = aimlcat_command()
    read_all = ("import json, os, sys\n"
                "for dp, dn, fn in os.walk(sys.argv[1]):\n"
                "    for f in fn:\n"
                "        if f.endswith('.json'):\n"
                "            with open(os.path.join(dp, f), 'rb') as fh: json.loads(fh.read())\n")
    procs = Settings(repeat=max(3, s.repeat // 2), sample_ns=1, runs_per_sample=1)
    cold, cold_base = time_commands([*cmd, "lint", "--exit-zero", str(corpus)],
                                    [sys.executable, "-c", read_all, str(corpus)], procs)
    return [
        Figure(f"lint {len(files):,} files, one process", subject, base,
               "read + json.loads", 2.0, note=f"{rate:,.0f} files/s; corpus: {corpus}"),
        Figure("  … per file (≤ 40 µs is 25,000 files/s)", per_file, None, "", 0.04,
               note="absolute; 0.04 ms per file is 25,000 files/s"),
        Figure(f"  … cold: `aimlcat lint` of the {len(files):,} files", cold, cold_base,
               "python reading them", 2.0, compare=True,
               note="a new process each (catalog loaded, validators built), against a new "
                    "process that reads + json.loads the same files"),
    ]


_LOOPBACK_SERVER = """\
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
REPLY = json.dumps({"id": "c1", "object": "chat.completion", "choices": []}).encode()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 65536  # one write per answer: no delayed-ACK stalls
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(REPLY)))
        self.end_headers()
        self.wfile.write(REPLY)
httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(httpd.server_address[1], flush=True)
httpd.serve_forever()
"""


def preflight_figures(s: Settings) -> list[Figure]:
    """What the pre-flight transport (``aimlcat.client()``) adds to a chat_valid POST.

    1. End to end: POSTs through the checking client and through plain httpx to the same
       loopback server, interleaved. The server runs in its own process (the other core)
       and answers a short JSON body over keep-alive connections, one per client.
    2. The check alone: the same two clients over ``httpx.MockTransport`` (no network),
       interleaved; the difference is the time the transport adds, set against 5% of
       the loopback round trip measured in (1)."""
    import httpx

    import aimlcat

    headers = {"Content-Type": "application/json", "Authorization": "Bearer bench"}
    spaced = (DATA / "chat_valid.json").read_bytes()
    # The body as clients send it: httpx's `json=` and the OpenAI SDK both write compact
    # JSON (separators "," and ":", non-ASCII as is). The file's own spaced bytes are
    # timed too, in the last row.
    raw = json.dumps(json.loads(spaced), ensure_ascii=False, separators=(",", ":")).encode()
    bad = (DATA / "chat_invalid.json").read_bytes()
    server = subprocess.Popen([sys.executable, "-c", _LOOPBACK_SERVER], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{int(server.stdout.readline())}/v1"
        url = base + "/chat/completions"
        with aimlcat.client(base_url=base) as checked, httpx.Client() as plain:
            try:
                checked.post(url, content=bad, headers=headers)
                _check(False, "the pre-flight client sent chat_invalid.json")
            except aimlcat.PreflightError:
                pass  # it checks what it is timed on
            for http in (checked, plain):
                _check(http.post(url, content=raw, headers=headers).status_code == 200,
                       "the loopback server did not answer 200")
            subject, floor = time_pair(
                lambda: checked.post(url, content=raw, headers=headers),
                lambda: plain.post(url, content=raw, headers=headers), s)
    finally:
        server.terminate()
        server.wait(timeout=10)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"id": "c1"}')

    def added(body: bytes) -> Samples:
        with aimlcat.client(base_url=base, transport=httpx.MockTransport(answer)) as checked, \
                httpx.Client(transport=httpx.MockTransport(answer)) as plain:
            with_check, without = time_pair(
                lambda: checked.post(url, content=body, headers=headers),
                lambda: plain.post(url, content=body, headers=headers), s)
        return Samples(tuple(a - b for a, b in zip(with_check.ns, without.ns, strict=True)))

    compact, loose = added(raw), added(spaced)
    budget = 0.05 * floor.median
    return [
        Figure("pre-flight POST chat_valid, loopback", subject, floor, "plain httpx POST", 1.05,
               note=f"end to end: {fmt_time(subject.median - floor.median)} more per request "
                    f"({subject.median / floor.median - 1:.1%}); goal: under 5% of a loopback "
                    "round trip"),
        Figure("  … the check alone (MockTransport)", compact, None, "", budget / 1e6,
               absolute=True,
               note=f"absolute: checking client minus plain httpx, no network; "
                    f"{compact.median / floor.median:.1%} of the loopback round trip "
                    f"({fmt_time(floor.median)}); goal: 5% of it"),
        Figure("  … the same, the file's spaced bytes", loose, None, "", budget / 1e6,
               absolute=True,
               note=f"absolute: {loose.median / floor.median:.1%} of the round trip; spaced "
                    "text costs the duplicate-key check two colon counts"),
    ]


def aimlcat_command() -> tuple[list[str], str]:
    """The console script of this interpreter's environment (not a shim), else ``-m aimlcat``."""
    search = os.pathsep.join(filter(None, [sysconfig.get_path("scripts"),
                                           os.environ.get("PATH")]))
    script = shutil.which("aimlcat", path=search)
    if script:
        return [script], script
    return [sys.executable, "-m", "aimlcat"], f"{Path(sys.executable).name} -m aimlcat"


def cli_figures(s: Settings) -> tuple[list[Figure], str]:
    cmd, shown = aimlcat_command()
    floor = [sys.executable, "-c", "pass"]
    cases = [
        ("cold `aimlcat lint chat_valid`", ["lint", f"{DATA_REL}/chat_valid.json"], 5.0),
        ("cold `aimlcat models --supports`", ["models", "--supports", "guidance_scale"], 5.0),
    ]
    figures = []
    for name, args, goal in cases:
        done = subprocess.run(cmd + args, cwd=ROOT, capture_output=True, text=True, check=False,
                              env=ENV)
        _check(done.returncode == 0 and bool(done.stdout.strip()),
               f"`aimlcat {' '.join(args)}` exited {done.returncode}: {done.stderr.strip()}")
        subject, base = time_commands(cmd + args, floor, s)
        figures.append(Figure(name, subject, base, "python -c pass", goal))
    return figures, shown


_PRIVATE = ("developer: Bench Labs\nkind: chat\nmodels:\n  bench/team-chat:\n"
            "    endpoints:\n      - family: openai-chat\n")


def extra_catalog_figures(s: Settings) -> list[Figure]:
    """Cold ``aimlcat lint`` in a project with ``extra-catalogs``: the first run compiles the
    merged catalog and writes ``.aimlcat_cache``, the next ones read it. Floor: the same
    lint of the same file with the bundled catalog (``--no-config``), interleaved."""
    import tempfile

    cmd, _ = aimlcat_command()
    with tempfile.TemporaryDirectory(prefix="aimlcat-bench-") as tmp:
        proj = Path(tmp)
        (proj / "private").mkdir()
        (proj / "private" / "team.yaml").write_text(_PRIVATE)
        (proj / "pyproject.toml").write_text('[tool.aimlcat]\nextra-catalogs = ["private"]\n')
        shutil.copy(DATA / "chat_valid.json", proj / "chat_valid.json")
        merged = [*cmd, "lint", "chat_valid.json"]
        bundled = [*cmd, "lint", "--no-config", "chat_valid.json"]

        def run(c: Sequence[str], cold_cache: bool = False) -> int:
            if cold_cache:
                shutil.rmtree(proj / ".aimlcat_cache", ignore_errors=True)
            t0 = perf_counter_ns()
            done = subprocess.run(c, cwd=proj, stdin=subprocess.DEVNULL, capture_output=True,
                                  check=False, env=ENV)
            took = perf_counter_ns() - t0
            _check(done.returncode == 0, f"`{' '.join(c)}` exited {done.returncode}")
            return took

        run(bundled)
        run(merged)  # warm-up: .pyc files, page cache
        first: tuple[list[float], list[float]] = ([], [])
        for _ in range(min(s.repeat, 3)):  # seconds each
            first[0].append(run(merged, cold_cache=True))
            first[1].append(run(bundled))
        second: tuple[list[float], list[float]] = ([], [])
        for _ in range(s.repeat):
            a = [run(merged) for _ in range(s.runs_per_sample)]
            b = [run(bundled) for _ in range(s.runs_per_sample)]
            second[0].append(statistics.fmean(a))
            second[1].append(statistics.fmean(b))
    floor = "the same lint, bundled catalog"
    return [
        Figure("cold `aimlcat lint` + extra-catalogs, 1st run (compiles, writes the cache)",
               Samples(tuple(first[0])), Samples(tuple(first[1])), floor, None),
        Figure("… 2nd run (reads the cache)", Samples(tuple(second[0])),
               Samples(tuple(second[1])), floor, 1.2),
    ]


_LOAD_PROBE = """\
from time import perf_counter_ns
t0 = perf_counter_ns()
import aimlcat
aimlcat.load_catalog()
print(perf_counter_ns() - t0)
"""


def load_figure(s: Settings) -> Figure:
    """``import aimlcat; aimlcat.load_catalog()`` timed inside fresh processes (absolute)."""
    def once() -> int:
        done = subprocess.run([sys.executable, "-c", _LOAD_PROBE], cwd=ROOT,
                              capture_output=True, text=True, check=False, env=ENV)
        _check(done.returncode == 0, f"load probe failed: {done.stderr.strip()}")
        return int(done.stdout.strip())

    once()
    once()  # warm-up
    samples = tuple(statistics.fmean(once() for _ in range(s.runs_per_sample))
                    for _ in range(s.repeat))
    return Figure("cold import + load_catalog()", Samples(samples), None, "", 30.0,
                  absolute=True, note="absolute, in a fresh process")


# -- output ----------------------------------------------------------------------------------
def fmt_time(ns: float) -> str:
    if ns < 0:  # a difference of two timings can be
        return "-" + fmt_time(-ns)
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_samples(x: Samples) -> str:
    return f"{fmt_time(x.median)} ({fmt_time(x.low)}–{fmt_time(x.high)})"


def table(figures: Sequence[Figure]) -> str:
    head = ("figure", "median (min–max)", "floor median", "ratio", "goal", "met")
    rows: list[tuple[str, ...]] = []
    for f in figures:
        if f.floor is None:
            floor = "— (absolute)"
            ratio = fmt_time(f.subject.median)
            goal = f"≤ {fmt_time(f.goal * 1e6)}" if f.goal is not None else "—"
        else:
            floor = f"{fmt_time(f.floor.median)} {f.floor_name}"
            ratio = f"{f.value:.3g}×"
            goal = ("(compare)" if f.goal is None
                    else f"≤ {f.goal:g}× (compare)" if f.compare else f"≤ {f.goal:g}×")
        met = "" if f.met is None else ("✓" if f.met else "✗")
        rows.append((f.name, fmt_samples(f.subject), floor, ratio, goal, met))
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


#: Figure groups, for --only.
GROUPS = ("validate", "cli", "corpus", "preflight", "jsonschema")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeat", type=int, default=None, metavar="N",
                    help="samples per figure, median reported (default 7; 5 with --quick)")
    ap.add_argument("--quick", action="store_true",
                    help="shorter samples and fewer process runs per sample")
    ap.add_argument("--only", metavar="GROUPS",
                    help="comma-separated figure groups to run: " + ", ".join(GROUPS))
    args = ap.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        ap.error("--repeat must be at least 1")
    s = Settings.from_args(args.quick, args.repeat)

    t0 = perf_counter_ns()
    only = set(args.only.split(",")) if args.only else set(GROUPS)
    unknown = only - set(GROUPS)
    if unknown:
        ap.error(f"--only: unknown group(s) {', '.join(sorted(unknown))}; "
                 f"groups: {', '.join(GROUPS)}")
    figures: list[Figure] = []
    cli_shown = ""
    if "validate" in only:
        figures += validate_figures(s)
    if "cli" in only:
        cli, cli_shown = cli_figures(s)
        figures += cli
        figures.append(load_figure(s))
        figures += extra_catalog_figures(s)
    if "corpus" in only:
        figures += corpus_figures(s)
    if "preflight" in only:
        figures += preflight_figures(s)
    if "jsonschema" in only:
        figures += jsonschema_figures(s)
    elapsed = (perf_counter_ns() - t0) / 1e9

    print(table(figures))
    print()
    for f in figures:
        if f.note:
            print(f"  {f.name}: {f.note}")
    if cli_shown:
        print(f"  CLI command: {cli_shown}; floor: {sys.executable} -c pass")
    floors = [f.floor for f in figures if f.floor is not None and f.floor_name == "json.loads"]
    # The floor's spread only when a figure measured it (not with --only corpus, say).
    noise = (f"json.loads floor spread up to {max(x.spread for x in floors):.0%} of its "
             "median (noise); " if floors else "")
    print()
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()} "
          f"({platform.python_implementation()}, {platform.machine()}); {noise}"
          f"{s.repeat} samples per figure, {elapsed:.0f} s in all"
          f"{' (--quick)' if args.quick else ''}")
    print("Goals are informative only; nothing here is asserted.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
