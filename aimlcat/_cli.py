"""The ``aimlcat`` command line: parse -> settings -> run -> exit code.

Only :func:`main` exits; each ``cmd_*`` returns an int. Exit codes: 0 clean
(warnings allowed unless ``--strict``), 1 findings at the fail level, 2 usage
error or unreadable input (2 wins over 1; the other files are still checked); 141 when
standard output closes before a check finishes (a listing such as ``models`` exits 0).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ._version import __version__

__all__ = ["main", "run"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE: standard output closed before a check finished
#: Commands whose output is a listing, not a verdict (a broken pipe is no failure there).
_LISTINGS = frozenset({"models", "show", "rule", "stats"})


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser. Commands whose options live in their own module get them
    only when ``command`` names them, so other commands do not import those modules."""
    from ._config import add_config_arguments, codes_action, whole_number

    p = argparse.ArgumentParser(
        prog="aimlcat",
        description="Model catalog and request validator for the AI/ML API gateway.")
    p.add_argument("--version", action="version", version=f"aimlcat {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    lint = sub.add_parser(
        "lint", help="check request payload files",
        description="Check request payload files: JSON, YAML, or JSON Lines (request logs, "
        "OpenAI Batch input; .jsonl, .jsonl.gz); a bare body or an envelope with "
        "`endpoint`/`url` and `body`. Settings come from [tool.aimlcat] in pyproject.toml "
        "or .aimlcat.toml (found upward from the working directory); flags override them.")
    lint.add_argument("paths", nargs="+", metavar="PATH",
                      help="files or directories; - reads standard input")
    lint.add_argument("--endpoint", help="endpoint path or URL for bodies that name none")
    out = lint.add_argument_group("output")
    out.add_argument("--format", action=_InOrder, choices=tuple(_FORMATS),
                     help="text (default; github when GITHUB_ACTIONS=true), json, sarif, "
                     "github or junit; repeat with -o for several reports in one run")
    out.add_argument("-o", "--output", action=_InOrder, metavar="FILE",
                     help="write the report of the --format before it to FILE "
                          "(- for standard output)")
    out.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour text output (auto: on a terminal, unless NO_COLOR is set)")
    out.add_argument("--no-progress", action="store_true",
                     help="no progress bar (it shows only on a terminal, and never in CI)")
    sel = lint.add_argument_group("what fails")
    sel.add_argument("--select", metavar="CODES", action=codes_action(),
                     help="comma-separated code prefixes to report (AML3, AML402, ALL); "
                     "repeated flags add up")
    sel.add_argument("--ignore", metavar="CODES", action=codes_action(),
                     help="comma-separated code prefixes not to report")
    sel.add_argument("--fail-level", choices=("error", "warning", "info"),
                     help="the least severity that makes the exit code 1 (default error)")
    sel.add_argument("--strict", action="store_true", help="fail on warnings too "
                     "(--fail-level warning)")
    sel.add_argument("--exit-zero", action="store_true",
                     help="exit 0 even when there are findings (2 still means unreadable input)")
    files = lint.add_argument_group("files")
    files.add_argument("--exclude", action="append", metavar="PATTERN",
                       help="gitignore-style pattern to skip (repeatable; replaces the "
                       "configuration's exclude)")
    files.add_argument("--force-exclude", action="store_true",
                       help="apply excludes to files named on the command line too "
                       "(what the pre-commit hook does)")
    files.add_argument("--no-respect-gitignore", dest="respect_gitignore",
                       action="store_false", default=None,
                       help="read files that .gitignore excludes")
    files.add_argument("--max-bytes", type=whole_number(1), default=None, metavar="N",
                       help="largest file (or JSON Lines line) to read, in bytes "
                            "(default 64 MiB)")
    files.add_argument("-j", "--jobs", type=whole_number(0), default=1, metavar="N",
                       help="worker processes (0: one per CPU; default 1)")
    add_config_arguments(files)
    fixing = lint.add_argument_group("fixes")
    fixing.add_argument("--fix", action="store_true",
                        help="rewrite files with the safe fixes (renames, removals)")
    fixing.add_argument("--diff", action="store_true",
                        help="print the fixes as a unified diff and write nothing "
                        "(exit 1 if anything would change)")

    rule = sub.add_parser("rule", help="explain a finding code, with a bad and a good example",
                          description="Explain finding codes. Without CODE, list them all.")
    rule.add_argument("codes", nargs="*", metavar="CODE",
                      help="a code (AML302), a prefix (AML3), a name (deprecated-parameter) "
                           "or ALL")
    rule.add_argument("--markdown", action="store_true",
                      help="print docs/rules.md (every rule) as Markdown")
    rule.add_argument("--format", choices=("text", "json"), default=None,
                      help="text (default) or json")

    models = sub.add_parser("models", help="list models, filtered")
    models.add_argument("--supports", metavar="PARAM[=VALUE]",
                        help="only models that take PARAM (and accept VALUE for it)")
    models.add_argument("--kind", help="chat, image, video, ...")
    models.add_argument("--status", choices=("active", "deprecated", "removed"))
    models.add_argument("--endpoint", help="only models served on this endpoint")
    models.add_argument("--input", action="append", metavar="MODALITY",
                        help="only models that take MODALITY (text, image, audio, video, "
                             "file); repeat or comma-separate to accept any of several")
    models.add_argument("--output", action="append", metavar="MODALITY",
                        help="only models that give MODALITY (text, image, audio, video, "
                             "embedding, 3d); repeated values are OR-ed")
    models.add_argument("--modality", action="append", metavar="MODALITY",
                        help="only models that take or give MODALITY")
    models.add_argument("--capability", action="append", metavar="NAME",
                        help="only models with capability NAME (streaming, tools, "
                             "structured_output, json_mode, vision, reasoning, web_search, "
                             "text_to_image, image_to_image, text_to_video, image_to_video, "
                             "video_to_video); repeated values are OR-ed, different "
                             "filters AND-ed, as in the gateway's GET /v1/models")
    models.add_argument("--match-all", action="store_true",
                        help="AND the values of --input, --output, --modality and "
                             "--capability too: a model must have each one given")
    models.add_argument("--format", choices=("text", "table", "json"), default="text",
                        help="text (default; `table` is the same) or json, as in the other "
                             "commands")
    add_config_arguments(models)  # a project's extra-catalogs are listed too

    show = sub.add_parser(
        "show", help="what the catalog knows about one model",
        description="What a model takes and gives, its capabilities, endpoints, parameters "
        "with their rules, deprecations and removals.")
    show.add_argument("model", help="a model id or alias (gpt-4o, flux/dev)")
    printed = show.add_mutually_exclusive_group()  # each replaces the description
    printed.add_argument("--schema", action="store_true",
                         help="print the compiled JSON Schema (none for a model whose "
                              "parameters no document describes)")
    printed.add_argument("--example", action="store_true",
                         help="print a minimal valid request body (one per endpoint, keyed "
                              "by endpoint, when the model has several: --endpoint picks one)")
    show.add_argument("--endpoint", help="only this endpoint")
    add_config_arguments(show)  # a project's extra-catalogs hold models to show too

    imp = sub.add_parser("import-openapi", add_help=False,
                         help="turn gateway OpenAPI documents into catalog YAML "
                              "(aimlcat import-openapi --help)")
    imp.add_argument("rest", nargs=argparse.REMAINDER)  # handled before parsing; see run()

    for name, text in (("build", "compile catalog/ to schemas/"),
                       ("check-catalog", "check the catalog YAML without writing")):
        b = sub.add_parser(name, help=text)
        b.add_argument("--catalog", type=Path, help="catalog directory (default: ./catalog, "
                       "else the one aimlcat ships)")
        if name == "build":  # check-catalog writes nothing: no --out
            b.add_argument("--out", type=Path,
                           help="schemas directory (default: next to the catalog)")
            b.add_argument("--check", action="store_true",
                           help="write nothing; exit 1 when schemas/ is stale")

    audit = sub.add_parser(
        "audit", help="check request logs (JSON Lines, .gz) at any scale, locally or on Dask",
        description="Check request logs and aggregate the findings: by code, model and "
        "parameter, with dates, first and last seen, and sample lines. Settings come from "
        "[tool.aimlcat] as for lint (select, ignore, fail-level, endpoint, max-bytes, "
        "extra-catalogs, required-catalog); flags override them. See docs/audit.md.")
    if command == "audit":
        from ._audit import add_arguments as audit_arguments

        audit_arguments(audit)
    stats = sub.add_parser(
        "stats", help="figures: models by kind and status, ids without rules, YAML per model")
    if command == "stats":
        from ._stats import add_arguments as stats_arguments

        stats_arguments(stats)
    sync = sub.add_parser(
        "sync", help="compare the catalog with the gateway's live model list",
        description="Compare the catalog with the gateway's live model list (GET /v1/models).")
    if command == "sync":
        from ._sync import add_arguments as sync_arguments  # the one command that goes online

        sync_arguments(sync)
    for name, command_parser in sub.choices.items():
        # An unknown option is reported with the command's usage, not the top level's.
        command_parser.set_defaults(command_parser=command_parser, command=name)
    return p


# -- lint ----------------------------------------------------------------------

_FORMATS = ("text", "json", "sarif", "github", "junit")


class _InOrder(argparse.Action):
    """``--format`` and ``-o`` in the order of the command line, as ``(dest, value)`` in
    ``reports`` (:func:`_pair_reports` reads them: an ``-o`` belongs to the ``--format``
    before it)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        namespace.reports = [*(getattr(namespace, "reports", None) or ()), (self.dest, values)]


def _pair_reports(order: Sequence[tuple[str, str]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``--format`` and ``-o`` options in command-line order -> the formats and the files,
    as :class:`LintSettings` takes them (the i-th file is the i-th format's; formats past
    the files go to standard output). Each ``-o`` is the file of the ``--format`` before
    it (``--format github --format sarif -o x.sarif``: the SARIF report in x.sarif); an
    ``-o`` before any format that has none waits for the next ``--format``. ``-o -`` is
    standard output, as ``-`` is standard input among the paths. Files left over stay in
    the list only alone (the default format's); more are a :class:`UsageError`."""
    pairs: list[list[str | None]] = []
    waiting: list[str] = []
    for dest, value in order:
        if dest == "format":
            pairs.append([value, waiting.pop(0) if waiting else None])
        elif pairs and pairs[-1][1] is None:
            pairs[-1][1] = value
        else:
            waiting.append(value)
    extra = waiting if pairs else waiting[1:]  # the default format takes one -o alone
    if extra:
        from ._exceptions import UsageError

        raise UsageError(f"-o {extra[0]} has no --format of its own (each -o is the file of "
                         "the --format before it): give it one, or leave it out")
    if waiting == ["-"]:  # `-o -` alone: the default format, on standard output
        waiting = []
    to_files = [(f, o) for f, o in pairs if o not in (None, "-")]
    formats = (tuple(str(f) for f, _ in to_files)
               + tuple(str(f) for f, o in pairs if o in (None, "-")))
    return formats, tuple(str(o) for _, o in to_files) + tuple(waiting)


@dataclass(frozen=True, slots=True)
class LintSettings:
    """``aimlcat lint``'s flags, parsed (None: not given, the configuration decides)."""

    paths: tuple[str, ...]
    endpoint: str | None = None
    formats: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    color: str = "auto"
    progress: bool = True
    select: str | None = None
    ignore: str | None = None
    fail_level: str | None = None
    strict: bool = False
    exit_zero: bool = False
    exclude: tuple[str, ...] | None = None
    force_exclude: bool = False
    respect_gitignore: bool | None = None
    jobs: int = 1
    max_bytes: int | None = None
    config: str | None = None
    no_config: bool = False
    no_cache: bool = False
    fix: bool = False
    diff: bool = False
    #: The spine's single-format field (``format="json"``), still accepted.
    format: str | None = None


def _use_color(setting: str, stream: IO[str]) -> bool:
    import os

    if setting != "auto":
        return setting == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def lint(settings: LintSettings, out: IO[str], stdin: IO[str] | None = None) -> int:
    import itertools
    import os
    import re

    from ._config import Selector, configured_catalog, effective, read_config
    from ._discover import IgnoreRules, Walker
    from ._exceptions import UsageError
    from ._lint import LintContext, Progress, use_catalog

    # Settings: flags over the configuration file over the defaults (shared with audit).
    cfg = read_config(settings.config, settings.no_config)
    eff = effective(cfg, select=settings.select, ignore=settings.ignore,
                    fail_level=settings.fail_level, strict=settings.strict,
                    endpoint=settings.endpoint, max_bytes=settings.max_bytes)
    fail_level = eff.fail_level
    formats = settings.formats or ((settings.format,) if settings.format else ())
    if not formats:
        formats = ("github",) if os.environ.get("GITHUB_ACTIONS") == "true" else ("text",)
    if len(formats) - len(settings.outputs) > 1:
        raise UsageError("several --format options write to standard output: give each "
                         "but one an -o/--output file")
    if settings.fix and settings.diff:
        raise UsageError("--fix writes the fixes and --diff only shows them: choose one")
    targets = _report_targets(settings.outputs)
    if settings.diff and settings.formats and len(settings.outputs) < len(formats):
        raise UsageError("--diff prints the diff on standard output: give each --format "
                         "an -o/--output file")

    import orjson  # noqa: F401  (parsing needs it; imported first, it reads the index too)

    cat, catalog_files = configured_catalog(cfg, cache=not settings.no_cache)
    use_catalog(cat)

    excludes = []
    if settings.exclude is not None:
        excludes.append(IgnoreRules(os.getcwd(), settings.exclude))
    elif cfg.exclude:
        excludes.append(IgnoreRules(cfg.base, cfg.exclude))
    # A private catalog's YAML files are catalog sources, never request payloads.
    for d in cfg.extra_catalogs:
        parent, name = os.path.split(os.path.abspath(d).rstrip(os.sep))
        escaped = re.sub(r"([\\*?\[\]!#])", r"\\\1", name)  # gitignore's own escapes
        excludes.append(IgnoreRules(parent, [f"/{escaped}/"]))
    respect = cfg.respect_gitignore if settings.respect_gitignore is None \
        else settings.respect_gitignore
    walker = Walker(exclude=excludes, respect_gitignore=respect,
                    force_exclude=settings.force_exclude, reports=targets)
    for path in settings.paths if targets else ():
        if walker.is_report(path):
            raise UsageError(f"{path} is both a file to check and the report (-o): write "
                             "the report elsewhere")
    found = walker.files(list(settings.paths))
    first = next(found, None)
    if first is None:
        if walker.skipped:  # every file named was excluded: nothing to check is no failure
            return EXIT_OK
        why = ""
        if walker.excluded:  # say so: "no files" where the user sees some is a puzzle
            why = (f"; {walker.excluded} excluded by --exclude, the configuration's "
                   "`exclude` or .gitignore"
                   + (" (--no-respect-gitignore reads what .gitignore excludes)"
                      if respect else ""))
        print("aimlcat: no payload files found (*.json, *.yaml, *.yml, *.jsonl, *.jsonl.gz)"
              + why, file=sys.stderr)
        return EXIT_USAGE

    ctx = LintContext(endpoint=eff.endpoint,
                      selector=Selector(eff.select, eff.ignore, cfg.per_file_ignores, cfg.base),
                      fix=settings.fix, diff=settings.diff, catalog_files=catalog_files,
                      max_bytes=eff.max_bytes)
    jobs = settings.jobs if settings.jobs > 0 else (os.cpu_count() or 1)
    files: Iterable[str] = itertools.chain((first,), found)
    progress = Progress(None, enabled=None if settings.progress else False)
    if progress.enabled:  # someone is watching: a bar with a total is worth the file list
        files = list(files)
        progress = Progress(len(files), enabled=None if settings.progress else False)
    stdin_text = (stdin or sys.stdin).read() if "-" in settings.paths else None

    try:
        return _lint_files(settings, formats, targets, out, cat.version, ctx, files, jobs,
                           progress, stdin_text, fail_level)
    except OSError as exc:
        if exc.filename is None or exc.filename not in targets:
            raise
        from ._fsutil import write_error

        print(f"aimlcat: {write_error(exc.filename, exc)}", file=sys.stderr)
        return EXIT_USAGE


def _report_targets(outputs: Sequence[str]) -> tuple[str, ...]:
    """The -o files, checked before any work: each writable (see ``_fsutil.check_target``)
    and each named once (two reports into one file would lose one)."""
    import os

    from ._exceptions import UsageError
    from ._fsutil import check_target, write_error

    seen: dict[str, str] = {}
    for target in outputs:
        real = os.path.realpath(target)
        if real in seen:
            raise UsageError(f"-o {target} is given twice (as {seen[real]} before): give "
                             "each report its own file")
        seen[real] = target
        try:
            check_target(target)
        except OSError as exc:
            raise UsageError(write_error(target, exc)) from None
    return tuple(outputs)


def _lint_files(settings: LintSettings, formats: Sequence[str], targets: Sequence[str],
                out: IO[str], catalog_version: str, ctx: Any, files: Iterable[str], jobs: int,
                progress: Any, stdin_text: str | None, fail_level: str) -> int:
    """Check ``files`` into the reports and return the exit code. Reports are written as
    results come (memory stays flat with the number of files), each -o file atomically:
    the old report stays until the new one is whole, and a write error (an OSError
    naming the file) leaves no part of one behind."""
    from ._fsutil import atomic_text
    from ._lint import iter_lint
    from ._reporters import REPORTERS, ReportContext, terminal_text
    from ._results import SEVERITY_RANK

    with contextlib.ExitStack() as opened:
        reporters: list[Any] = []
        for i, fmt in enumerate(formats):
            target = targets[i] if i < len(targets) else None
            stream = out
            if target is not None:
                stream = opened.enter_context(atomic_text(target))
            elif settings.diff:
                continue  # the diff has standard output
            color = (_use_color(settings.color, out) if target is None
                     else settings.color == "always") and fmt == "text"
            reporter = REPORTERS[fmt](ReportContext(
                color=color, fail_level=fail_level, catalog_version=catalog_version,
                fixing=settings.fix))
            reporter.start(stream)
            reporters.append(reporter)

        broken = failed = False
        changed = 0
        floor = SEVERITY_RANK[fail_level]
        try:
            for r in iter_lint(files, ctx, jobs=jobs, progress=progress, stdin_text=stdin_text):
                broken = broken or r.error is not None or r.fix_error is not None
                if r.findings and not failed:
                    failed = r.reaches(floor)
                if settings.diff:
                    if r.diff:
                        changed += 1
                        out.write(r.diff)
                    if r.error is not None:
                        print(terminal_text(r.error), file=sys.stderr)
                    if r.fix_skipped is not None:
                        print(terminal_text(f"{r.path}: not fixed: {r.fix_skipped}"),
                              file=sys.stderr)
                for reporter in reporters:
                    reporter.add(r)
        finally:
            progress.close()
        for reporter in reporters:
            reporter.finish()

    if settings.diff:
        print(f"aimlcat: {changed} file{'' if changed == 1 else 's'} would be changed by --fix",
              file=sys.stderr)
        if broken:
            return EXIT_USAGE
        return EXIT_FINDINGS if changed and not settings.exit_zero else EXIT_OK
    if broken:
        return EXIT_USAGE
    if settings.exit_zero:
        return EXIT_OK
    return EXIT_FINDINGS if failed else EXIT_OK


def cmd_rule(args: argparse.Namespace, out: IO[str]) -> int:
    from ._ruledoc import explain, markdown, rule_list, select_rules

    if args.markdown:
        if args.codes or args.format is not None:
            # The Markdown is docs/rules.md, every rule: a code or a format would be dropped.
            from ._exceptions import UsageError

            raise UsageError("--markdown prints every rule (docs/rules.md) as Markdown: give "
                             "it no CODE and no --format")
        out.write(markdown())
        return EXIT_OK
    if not args.codes:
        if args.format == "json":
            from ._ruledoc import rules_json

            out.write(rules_json(None))
            return EXIT_OK
        out.write(rule_list())
        return EXIT_OK
    rules = select_rules(args.codes)
    if args.format == "json":
        from ._ruledoc import rules_json

        out.write(rules_json(rules))
        return EXIT_OK
    out.write("\n".join(explain(r) for r in rules))
    return EXIT_OK


# -- models / show ---------------------------------------------------------------

def _project_catalog(args: argparse.Namespace) -> Any:
    """The catalog lint would check with here: the bundled one, merged with the
    configuration's ``extra-catalogs`` (and checked against its ``required-catalog``)."""
    from ._config import configured_catalog, read_config

    return configured_catalog(read_config(args.config, args.no_config),
                              cache=not args.no_cache)[0]


def cmd_models(args: argparse.Namespace, out: IO[str]) -> int:
    cat = _project_catalog(args)
    found = cat.models(supports=args.supports, kind=args.kind, status=args.status,
                       endpoint=args.endpoint, input=args.input, output=args.output,
                       modality=args.modality, capability=args.capability,
                       match_all=args.match_all)
    if args.format == "json":
        out.write(json.dumps([m.to_dict() for m in found], indent=2) + "\n")
        return EXIT_OK
    if not found:
        print("no model matches", file=sys.stderr)
        return EXIT_OK
    rows = [("ID", "KIND", "STATUS", "DEVELOPER", "TAKES -> GIVES", "ENDPOINTS")]
    rows += [(m.id, m.kind, m.status, m.developer, _takes_gives(m), " ".join(m.endpoints))
             for m in found]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[5] + "\n")
    return EXIT_OK


def _takes_gives(m: Any) -> str:
    return f"{','.join(m.input_modalities) or '?'} -> {','.join(m.output_modalities) or '?'}"


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


def _status_note(cat: Any, mid: str, rec: dict[str, Any]) -> None:
    """On standard error: the model is not active (its example is right, sending it is
    AML103/AML104)."""
    if rec["status"] != "active":
        info = cat.model(mid)
        since = f" since {info.status_since}" if info.status_since else ""
        repl = f"; replacement: {info.replacement}" if info.replacement else ""
        print(f"aimlcat: note: {mid} is {info.status}{since}{repl}", file=sys.stderr)


def cmd_show(args: argparse.Namespace, out: IO[str]) -> int:
    from ._config import check_endpoint_flag

    check_endpoint_flag(args.endpoint)  # `--endpoint ''` showed every endpoint
    cat = _project_catalog(args)
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
        if not eps:  # not known to be unserved there: nothing is known
            print(f"aimlcat: no document names an endpoint of {mid}, so --endpoint "
                  f"{args.endpoint} picks nothing; leave it out", file=sys.stderr)
            return EXIT_USAGE
        if path not in eps:
            what = "" if path is not None else " (no endpoint of the gateway)"
            print(f"aimlcat: {mid} is not served on {args.endpoint}{what}; its endpoints: "
                  f"{', '.join(eps)}", file=sys.stderr)
            return EXIT_USAGE
        eps = {path: eps[path]}
    if not eps and (args.schema or args.example):
        # No documented parameters (AML105): no schema to print, and an example that is
        # the model id alone.
        if args.schema:
            print(f"aimlcat: no schema: the catalog has no parameters for {mid} "
                  "(no document describes them)", file=sys.stderr)
            _status_note(cat, mid, rec)
            return EXIT_OK
        out.write(json.dumps({"model": args.model}, indent=2, ensure_ascii=False) + "\n")
        print(f"aimlcat: note: only the id of {mid} is known: no document describes its "
              "parameters", file=sys.stderr)
        _status_note(cat, mid, rec)
        return EXIT_OK
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
        _status_note(cat, mid, rec)
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
    w(f"  takes:          {', '.join(info.input_modalities) or 'not documented'}\n")
    w(f"  gives:          {', '.join(info.output_modalities) or 'not documented'}\n")
    if info.capabilities:
        w(f"  capabilities:   {', '.join(info.capabilities)}\n")
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
    given = getattr(args, "out", None)
    out = given if given is not None else cat_dir.parent / "schemas"
    return cat_dir, out


def _compile(cat_dir: Path) -> tuple[Any, dict[str, str]]:
    from ._compiler import compile_catalog
    from ._loader import load_catalog_source

    catalog = load_catalog_source(cat_dir)
    return catalog, compile_catalog(catalog)


def cmd_build(args: argparse.Namespace, out: IO[str]) -> int:
    from ._compiler import diff_schemas, write_schemas
    from ._exceptions import CatalogError
    from ._fsutil import write_error

    cat_dir, out_dir = _catalog_dirs(args)
    if out_dir.exists() and not out_dir.is_dir():
        print(f"aimlcat: {out_dir} is not a directory: --out names the schemas directory",
              file=sys.stderr)
        return EXIT_USAGE
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
    try:
        written, removed = write_schemas(files, out_dir)
    except OSError as exc:  # a directory that cannot be made or written
        print(f"aimlcat: {write_error(exc.filename or out_dir, exc)}", file=sys.stderr)
        return EXIT_USAGE
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
    import jsonschema_rs

    # The metaschema (bundled with the engine, no network) with its formats checked, so
    # a `pattern` must be a regex the engine that validates requests compiles. Run by
    # jsonschema-rs: 0.1 s for the whole catalog, where the pure-Python check took 7 s.
    meta = jsonschema_rs.Draft202012Validator(
        {"$ref": "https://json-schema.org/draft/2020-12/schema"}, validate_formats=True)
    bad = 0
    for rel, text in files.items():
        if rel == "index.json":
            continue
        for err in meta.iter_errors(json.loads(text)):
            bad += 1
            where = "/" + "/".join(str(k) for k in err.instance_path)
            out.write(f"schemas/{rel}: not a valid Draft 2020-12 schema at {where}: "
                      f"{err.message}\n")
            break
    if bad:
        return EXIT_FINDINGS
    from ._loader import REPEAT_LIMIT, find_repeated_definitions

    repeated = find_repeated_definitions(cat_dir)
    for p in repeated:
        out.write(f"{p}\n")
    if repeated:
        out.write(f"{len(repeated)} definition(s) repeated in more than {REPEAT_LIMIT} files "
                  f"in {cat_dir}\n")
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
        args, extra = _parser(argv[0] if argv else None).parse_known_args(argv)
        if extra:
            args.command_parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return EXIT_OK if exc.code in (0, None) else EXIT_USAGE
    try:
        if args.command == "lint":
            formats, outputs = _pair_reports(getattr(args, "reports", None) or ())
            return lint(LintSettings(
                paths=tuple(args.paths), endpoint=args.endpoint,
                formats=formats, outputs=outputs,
                color=args.color, progress=not args.no_progress, select=args.select,
                ignore=args.ignore, fail_level=args.fail_level, strict=args.strict,
                exit_zero=args.exit_zero,
                exclude=tuple(args.exclude) if args.exclude is not None else None,
                force_exclude=args.force_exclude, respect_gitignore=args.respect_gitignore,
                jobs=args.jobs, max_bytes=args.max_bytes, config=args.config,
                no_config=args.no_config, no_cache=args.no_cache, fix=args.fix,
                diff=args.diff), out, stdin)
        if args.command == "rule":
            return cmd_rule(args, out)
        if args.command == "models":
            return cmd_models(args, out)
        if args.command == "show":
            return cmd_show(args, out)
        if args.command == "sync":
            from ._sync import run as run_sync

            return run_sync(args, out)
        if args.command == "audit":
            from ._audit import run as run_audit

            return run_audit(args, out)
        if args.command == "stats":
            from ._stats import run as run_stats

            return run_stats(args, out)
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
    except BrokenPipeError:  # the reader stopped early: `aimlcat models | head`
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        # A listing has shown what was read: quiet success. A check's verdict is unknown
        # (`aimlcat lint requests | head` stops it midway) and 0 would pass it under
        # `set -o pipefail`: exit as a process killed by SIGPIPE does (git, coreutils).
        words = list(sys.argv[1:] if argv is None else argv)
        code = EXIT_OK if words[:1] and words[0] in _LISTINGS else EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
