"""The ``aimlcat`` command line: parse -> settings -> run -> exit code.

Only :func:`main` exits; each ``cmd_*`` returns an int. Exit codes: 0 clean
(warnings allowed unless ``--strict``), 1 findings at the fail level, 2 usage
error or unreadable input (2 wins over 1; the other files are still checked).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ._version import __version__

__all__ = ["main", "run"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="aimlcat",
        description="Model catalog and request validator for the AI/ML API gateway.")
    p.add_argument("--version", action="version", version=f"aimlcat {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    lint = sub.add_parser("lint", help="check request payload files",
                          description="Check request payload files (JSON or YAML; a bare body "
                          "or an envelope with `endpoint`/`url` and `body`).")
    lint.add_argument("paths", nargs="+", metavar="PATH",
                      help="files or directories; - reads standard input")
    lint.add_argument("--endpoint", help="endpoint path or URL for bodies that name none")
    lint.add_argument("--format", choices=("text", "json"), default="text")
    lint.add_argument("--strict", action="store_true", help="fail on warnings too")

    models = sub.add_parser("models", help="list models, filtered")
    models.add_argument("--supports", metavar="PARAM[=VALUE]",
                        help="only models that take PARAM (and accept VALUE for it)")
    models.add_argument("--kind", help="chat, image, video, ...")
    models.add_argument("--status", choices=("active", "deprecated", "removed"))
    models.add_argument("--endpoint", help="only models served on this endpoint")
    models.add_argument("--format", choices=("table", "json"), default="table")

    show = sub.add_parser("show", help="what the catalog knows about one model")
    show.add_argument("model")
    show.add_argument("--schema", action="store_true", help="print the compiled JSON Schema")
    show.add_argument("--example", action="store_true",
                      help="print a minimal valid request body for each endpoint")
    show.add_argument("--endpoint", help="only this endpoint")

    imp = sub.add_parser("import-openapi", add_help=False,
                         help="turn gateway OpenAPI documents into catalog YAML "
                              "(aimlcat import-openapi --help)")
    imp.add_argument("rest", nargs=argparse.REMAINDER)  # handled before parsing; see run()

    for name, text in (("build", "compile catalog/ to schemas/"),
                       ("check-catalog", "check the catalog YAML without writing")):
        b = sub.add_parser(name, help=text)
        b.add_argument("--catalog", type=Path, help="catalog directory (default: ./catalog, "
                       "else the one aimlcat ships)")
        b.add_argument("--out", type=Path, help="schemas directory (default: next to the catalog)")
        if name == "build":
            b.add_argument("--check", action="store_true",
                           help="write nothing; exit 1 when schemas/ is stale")

    from ._sync import add_arguments as sync_arguments  # the one command that goes online
    sync_arguments(sub.add_parser(
        "sync", help="compare the catalog with the gateway's live model list",
        description="Compare the catalog with the gateway's live model list (GET /v1/models)."))
    return p


# -- lint ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LintSettings:
    paths: tuple[str, ...]
    endpoint: str | None = None
    format: str = "text"
    strict: bool = False


def lint(settings: LintSettings, out: IO[str], stdin: IO[str] | None = None) -> int:
    from ._catalog import load_catalog
    from ._exceptions import PayloadError
    from ._findings import ERROR, WARNING
    from ._payloads import STDIN, discover, read_payload
    from ._reporters import REPORTERS, FileResult

    cat = load_catalog()
    results: list[FileResult] = []
    unreadable = False
    for path in discover(list(settings.paths)):
        try:
            text = (stdin or sys.stdin).read() if path == "-" else None
            payload = read_payload(path, stdin_text=text)
        except PayloadError as exc:
            unreadable = True
            results.append(FileResult(path=exc.path, error=str(exc)))
            continue
        report = cat.validate(payload.body, payload.endpoint or settings.endpoint)
        results.append(FileResult(path=STDIN if path == "-" else path,
                                  findings=[*payload.file_findings,
                                            *(payload.in_file(f) for f in report.findings)],
                                  model=report.model, endpoint=report.endpoint))
    if not results:
        print("aimlcat: no payload files found (*.json, *.yaml, *.yml)", file=sys.stderr)
        return EXIT_USAGE
    REPORTERS[settings.format]().write(results, out)
    if unreadable:
        return EXIT_USAGE
    fail = {ERROR, WARNING} if settings.strict else {ERROR}
    if any(f.severity in fail for r in results for f in r.findings):
        return EXIT_FINDINGS
    return EXIT_OK


# -- models / show ---------------------------------------------------------------

def cmd_models(args: argparse.Namespace, out: IO[str]) -> int:
    from ._catalog import load_catalog

    found = load_catalog().models(supports=args.supports, kind=args.kind, status=args.status,
                                  endpoint=args.endpoint)
    if args.format == "json":
        out.write(json.dumps([m.to_dict() for m in found], indent=2) + "\n")
        return EXIT_OK
    if not found:
        print("no model matches", file=sys.stderr)
        return EXIT_OK
    rows = [("ID", "KIND", "STATUS", "DEVELOPER", "ENDPOINTS")]
    rows += [(m.id, m.kind, m.status, m.developer, " ".join(m.endpoints)) for m in found]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[4] + "\n")
    return EXIT_OK


def _rules_text(s: dict[str, Any]) -> str:
    parts = []
    t = s.get("type")
    if t is not None:
        t = " | ".join(t) if isinstance(t, list) else t
        parts.append(t)
    if "format" in s:
        parts.append(s["format"])
    if "shape" in s:
        parts.append(f"({s['shape']})")
    if s.get("nullable"):
        parts.append("nullable")
    if "enum" in s:
        parts.append("one of " + ", ".join(json.dumps(v) for v in s["enum"]))
    lo = s.get("minimum", s.get("exclusiveMinimum"))
    hi = s.get("maximum", s.get("exclusiveMaximum"))
    if lo is not None or hi is not None:
        parts.append(f"{'' if lo is None else lo}..{'' if hi is None else hi}")
    if "default" in s:
        parts.append(f"default {json.dumps(s['default'])}")
    return ", ".join(parts)


def cmd_show(args: argparse.Namespace, out: IO[str]) -> int:
    from ._catalog import load_catalog

    cat = load_catalog()
    mid = cat.resolve(args.model)
    if mid is None:
        import difflib

        guess = difflib.get_close_matches(args.model, cat.ids(), n=3, cutoff=0.6)
        tail = f"; did you mean {', '.join(guess)}?" if guess else ""
        print(f"aimlcat: unknown model {args.model!r}{tail}", file=sys.stderr)
        return EXIT_USAGE
    rec = cat.model_record(mid)
    eps = rec["endpoints"]
    if args.endpoint:
        path = cat.canonical_endpoint(args.endpoint)
        if path not in eps:
            print(f"aimlcat: {mid} is not served on {args.endpoint}", file=sys.stderr)
            return EXIT_USAGE
        eps = {path: eps[path]}
    if args.schema:
        schemas = {p: cat.schema(mid, p) for p in eps}
        doc = next(iter(schemas.values())) if len(schemas) == 1 else schemas
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    if args.example:
        from ._samples import minimal

        # Legacy endpoints only when asked for by name: an example shows what to send now.
        current = [p for p, e in eps.items() if args.endpoint or not e.get("legacy")]
        examples = {p: {**minimal(cat.endpoint_schema(mid, p), cat.defs()), "model": args.model}
                    for p in current or list(eps)}
        doc = next(iter(examples.values())) if len(examples) == 1 else examples
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    info = cat.model(mid)
    w = out.write
    w(f"{mid}\n")
    if info.aliases:
        w(f"  aliases:        {', '.join(info.aliases)}\n")
    w(f"  developer:      {info.developer}\n  kind:           {info.kind}\n")
    status = info.status + (f" since {info.status_since}" if info.status_since else "")
    if info.replacement:
        status += f"; replacement: {info.replacement}"
    w(f"  status:         {status}\n")
    if info.base_model:
        w(f"  base model:     {info.base_model}\n")
    if info.context_window:
        w(f"  context window: {info.context_window:,} tokens\n")
    if info.notes:
        w(f"  notes:          {info.notes}\n")
    if not eps:
        w("  parameters not documented\n")
    for path, ep in eps.items():
        w(f"\n  POST {path}")
        if ep.get("legacy"):
            lg = ep["legacy"]
            w(f"  (legacy since {lg.get('since') or '?'}; use {lg['replaced_by']})")
        w("\n")
        params = ep["parameters"]
        width = max(len(k) for k in (*params, *ep.get("removed", {}))) + 2
        for name, s in params.items():
            flag = "required" if s.get("required") else "        "
            w(f"    {name.ljust(width)}{flag}  {_rules_text(s)}\n")
            if "deprecated" in s:
                d = s["deprecated"]
                since = f" since {d['since']}" if d.get("since") else ""
                w(f"    {'':{width}}          deprecated{since}: {d['hint']}\n")
        for name, r in ep.get("removed", {}).items():
            since = f" on {r['since']}" if r.get("since") else ""
            w(f"    {name.ljust(width)}removed{since}: {r['hint']}\n")
    return EXIT_OK


# -- build / check-catalog ---------------------------------------------------------

def _catalog_dirs(args: argparse.Namespace) -> tuple[Path, Path]:
    if args.catalog is not None:
        cat_dir = args.catalog
    elif (Path.cwd() / "catalog" / "catalog.yaml").is_file():
        cat_dir = Path.cwd() / "catalog"
    else:
        here = Path(__file__).resolve().parent
        source = here.parent / "catalog"
        cat_dir = source if (source / "catalog.yaml").is_file() else here / "_data" / "catalog"
    out = args.out if args.out is not None else cat_dir.parent / "schemas"
    return cat_dir, out


def _compile(cat_dir: Path) -> tuple[Any, dict[str, str]]:
    from ._compiler import compile_catalog
    from ._loader import load_catalog_source

    catalog = load_catalog_source(cat_dir)
    return catalog, compile_catalog(catalog)


def cmd_build(args: argparse.Namespace, out: IO[str]) -> int:
    from ._compiler import diff_schemas, write_schemas
    from ._exceptions import CatalogError

    cat_dir, out_dir = _catalog_dirs(args)
    try:
        catalog, files = _compile(cat_dir)
    except CatalogError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(f"aimlcat: the catalog has {len(exc.problems)} problem(s); nothing written",
              file=sys.stderr)
        return EXIT_USAGE
    if args.check:
        diffs = diff_schemas(files, out_dir)
        if diffs:
            for d in diffs:
                out.write(d + "\n")
            out.write(f"{out_dir} is stale: run `aimlcat build`\n")
            return EXIT_FINDINGS
        out.write(f"{out_dir} is up to date ({len(files)} files, "
                  f"catalog {catalog.version})\n")
        return EXIT_OK
    written, removed = write_schemas(files, out_dir)
    out.write(f"built {len(files)} files in {out_dir}: {written} written, {removed} removed, "
              f"{len(files) - written} unchanged\n")
    return EXIT_OK


def cmd_check_catalog(args: argparse.Namespace, out: IO[str]) -> int:
    from ._exceptions import CatalogError

    cat_dir, _ = _catalog_dirs(args)
    try:
        catalog, files = _compile(cat_dir)
    except CatalogError as exc:
        for p in exc.problems:
            out.write(f"{p}\n")
        out.write(f"{len(exc.problems)} problem(s) in {cat_dir}\n")
        return EXIT_FINDINGS
    import jsonschema

    bad = 0
    for rel, text in files.items():
        if rel == "index.json":
            continue
        try:
            jsonschema.Draft202012Validator.check_schema(json.loads(text))
        except jsonschema.SchemaError as exc:
            bad += 1
            out.write(f"schemas/{rel}: not a valid Draft 2020-12 schema: {exc.message}\n")
    if bad:
        return EXIT_FINDINGS
    n_ep = sum(len(m.endpoints) for m in catalog.models.values())
    out.write(f"catalog {catalog.version} OK: {len(catalog.models)} models, "
              f"{n_ep} model x endpoint schemas, {len(catalog.definitions)} shared shapes\n")
    return EXIT_OK


# -- entry point -------------------------------------------------------------------

def run(argv: Sequence[str] | None = None, out: IO[str] | None = None,
        stdin: IO[str] | None = None) -> int:
    """Run the CLI in-process and return the exit code (what tests call)."""
    from ._exceptions import AimlcatError, CatalogError

    out = out or sys.stdout
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["import-openapi"]:
        # It parses its own options (argparse would swallow a leading --help).
        from ._importer import cli_main

        return cli_main(argv[1:], out)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return EXIT_OK if exc.code in (0, None) else EXIT_USAGE
    try:
        if args.command == "lint":
            return lint(LintSettings(paths=tuple(args.paths), endpoint=args.endpoint,
                                     format=args.format, strict=args.strict), out, stdin)
        if args.command == "models":
            return cmd_models(args, out)
        if args.command == "show":
            return cmd_show(args, out)
        if args.command == "sync":
            from ._sync import run as run_sync

            return run_sync(args, out)
        if args.command == "build":
            return cmd_build(args, out)
        return cmd_check_catalog(args, out)
    except CatalogError as exc:
        print(f"aimlcat: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AimlcatError as exc:
        print(f"aimlcat: {exc}", file=sys.stderr)
        return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        code = run(argv)
        sys.stdout.flush()
    except BrokenPipeError:  # `aimlcat models | head`
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = EXIT_OK
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
