"""``aimlcat rule``: the finding codes explained, from :data:`aimlcat.RULES`.

``docs/rules.md`` is :func:`markdown` (``aimlcat rule --markdown``), and a test
checks the committed file is fresh. The examples are real files: :func:`run_example`
lints one exactly as ``aimlcat lint`` would, and the tests check every bad
example gives its code and every good one does not.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from ._exceptions import UsageError
from ._findings import RULES, Example, Rule
from ._results import FileResult

__all__ = ["explain", "markdown", "rule_list", "rules_json", "run_example", "select_rules"]

_GROUPS = {"0": "Payload files", "1": "Models", "2": "Endpoints", "3": "Parameters",
           "4": "Values", "5": "Modalities, capabilities and limits"}


def select_rules(names: Sequence[str]) -> list[Rule]:
    """Rules named by code (``AML302``), prefix (``AML3``), name (``deprecated-parameter``)
    or ``ALL`` (every rule, as ``--select ALL`` selects every one)."""
    out: list[Rule] = []
    for raw in names:
        key = raw.strip()
        if key.upper() == "ALL":
            key = "AML"
        found = [r for r in RULES.values() if r.code.startswith(key.upper()) or r.name == key]
        if not found or not key:
            import difflib

            options = [*RULES, *(r.name for r in RULES.values())]
            guess = difflib.get_close_matches(key, options, n=1)
            tail = f"; did you mean {guess[0]}?" if guess else "; `aimlcat rule` lists them"
            raise UsageError(f"no rule {raw!r}{tail}")
        out.extend(r for r in found if r not in out)
    return out


def run_example(example: Example) -> FileResult:
    """Lint an example file as ``aimlcat lint`` would (in a temporary directory)."""
    import tempfile

    from ._lint import LintContext, check_file, use_catalog

    with tempfile.TemporaryDirectory(prefix="aimlcat-example-") as tmp:
        if example.catalog is not None:
            from ._config import compile_merged, memory_catalog

            private = os.path.join(tmp, "private-catalog")
            os.mkdir(private)
            with open(os.path.join(private, "models.yaml"), "w", encoding="utf-8") as fh:
                fh.write(example.catalog)
            use_catalog(memory_catalog(compile_merged([private]), private))
        else:
            from ._catalog import load_catalog

            use_catalog(load_catalog())
        path = os.path.join(tmp, example.file)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(example.text)
        result = check_file(path, LintContext())
    result.path = example.file
    return result


def _indent(text: str, by: str = "    ") -> str:
    return "".join(by + line if line.strip() else line for line in text.splitlines(True))


def explain(rule: Rule) -> str:
    """A rule in words, its examples, and what aimlcat says about the bad one."""
    from textwrap import fill

    lines = [f"{rule.code} {rule.name} ({rule.severity})", "", fill(rule.summary, 88)]
    if rule.help:
        lines += ["", fill(rule.help, 88)]
    if rule.fix:
        lines += ["", fill(f"Fix: `aimlcat lint --fix` {rule.fix}.", 88)]
    if rule.bad is not None:
        lines += ["", f"Bad ({rule.bad.file}):", _indent(rule.bad.text).rstrip("\n")]
        result = run_example(rule.bad)
        said = [f"{result.path}:{lf.span.line}:{lf.span.column}: {lf.finding.code} "
                f"{lf.finding.severity}: {lf.finding.message}"
                for lf in result.findings if lf.span is not None]
        if said:
            lines += ["", "aimlcat says:", *("    " + s for s in said)]
    if rule.good is not None:
        lines += ["", f"Good ({rule.good.file}):", _indent(rule.good.text).rstrip("\n")]
    if rule.bad is not None and rule.bad.catalog is not None:
        lines += ["", "With this private catalog file (extra-catalogs):",
                  _indent(rule.bad.catalog).rstrip("\n")]
    return "\n".join(lines) + "\n"


def rule_list() -> str:
    """Every code, one line each."""
    width = max(len(r.name) for r in RULES.values())
    out = [f"{r.code}  {r.name.ljust(width)}  {r.severity.ljust(7)}  {r.summary}"
           for r in RULES.values()]
    return "\n".join(out) + "\n\n`aimlcat rule CODE` explains one, with examples.\n"


def rules_json(rules: Sequence[Rule] | None) -> str:
    def one(r: Rule) -> dict[str, Any]:
        d: dict[str, Any] = {"code": r.code, "name": r.name, "severity": r.severity,
                             "summary": r.summary, "help": r.help, "fix": r.fix}
        for label, ex in (("bad", r.bad), ("good", r.good)):
            if ex is not None:
                d[label] = {"file": ex.file, "text": ex.text, "catalog": ex.catalog}
        if r.bad is not None and rules is not None:
            # What `aimlcat rule CODE` prints under "aimlcat says:". Only for the codes
            # asked for, as in the text form: a private-catalog example compiles the
            # catalog (seconds), too slow for the list of every rule.
            d["bad"]["findings"] = [
                {"line": lf.span.line, "column": lf.span.column, "code": lf.finding.code,
                 "severity": lf.finding.severity, "message": lf.finding.message}
                for lf in run_example(r.bad).findings if lf.span is not None]
        return d

    chosen = list(RULES.values()) if rules is None else rules
    return json.dumps([one(r) for r in chosen], indent=2, ensure_ascii=False) + "\n"


def _fence(example: Example) -> str:
    lang = {"json": "json", "yaml": "yaml", "yml": "yaml", "jsonl": "json"}.get(
        example.file.rsplit(".", 1)[-1], "")
    return f"```{lang}\n{example.text.rstrip()}\n```"


def markdown() -> str:
    """docs/rules.md: every rule, grouped, with help and examples (no run-time output)."""
    notice = ("<!-- Generated by `aimlcat rule --markdown > docs/rules.md`; a test checks "
              "it is fresh. Edit aimlcat/_findings.py, not this file. -->")
    intro = ("Every finding has a stable code: `AML0xx` payload files, `AML1xx` models, "
             "`AML2xx` endpoints, `AML3xx` parameters, `AML4xx` values, `AML5xx` the request "
             "as a whole (`AML51x`: the context window). Codes are never "
             "reused. Select or ignore them by prefix (`--select AML3`, `ignore = [\"AML105\"]` "
             "in `[tool.aimlcat]`), or on one line of a YAML file with "
             "`# aimlcat: ignore[AML301]`. `aimlcat rule CODE` shows a rule with what aimlcat "
             "says about its bad example.")
    out = ["# Rules", "", notice, "", intro, "",
           "| code | name | severity | fix |", "|---|---|---|---|"]
    for r in RULES.values():
        out.append(f"| [{r.code}](#{r.code.lower()}-{r.name}) | {r.name} | {r.severity} | "
                   f"{'yes' if r.fix else ''} |")
    group = None
    for r in RULES.values():
        g = r.code[3]
        if g != group:
            group = g
            out += ["", f"## {_GROUPS.get(g, g)}"]
        out += ["", f"### {r.code} {r.name}", "", f"**{r.severity}.** {r.summary}"]
        if r.help:
            out += ["", r.help]
        if r.fix:
            out += ["", f"**Fix:** `aimlcat lint --fix` {r.fix}."]
        for label, ex in (("Bad", r.bad), ("Good", r.good)):
            if ex is not None:
                out += ["", f"{label} (`{ex.file}`):", "", _fence(ex)]
        if r.bad is not None and r.bad.catalog is not None:
            out += ["", "With this private catalog file (`extra-catalogs`):", "",
                    f"```yaml\n{r.bad.catalog.rstrip()}\n```"]
    return "\n".join(out) + "\n"
