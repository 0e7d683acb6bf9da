"""Rules: every code is explained with real examples, and docs/rules.md is fresh."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from aimlcat import RULES
from aimlcat._cli import run
from aimlcat._ruledoc import markdown, run_example, select_rules

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _bundled_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIMLCAT_SCHEMAS", raising=False)


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return run(list(argv), out=out), out.getvalue()


@pytest.mark.parametrize("code", list(RULES))
def test_bad_example_gives_the_code_and_good_one_does_not(code: str) -> None:
    rule = RULES[code]
    assert rule.help and rule.bad is not None and rule.good is not None, code
    bad = run_example(rule.bad)
    assert bad.error is None, bad.error
    assert code in [lf.finding.code for lf in bad.findings]
    assert all(lf.span is not None for lf in bad.findings)  # every finding is placed
    good = run_example(rule.good)
    assert good.error is None, good.error
    assert code not in [lf.finding.code for lf in good.findings]
    # a good example is clean, apart from notes
    assert [lf.finding.code for lf in good.findings if lf.finding.severity != "info"] == []


def test_fixable_rules_say_what_the_fix_does() -> None:
    for code in ("AML302", "AML303"):
        rule = RULES[code]
        assert rule.fix and rule.bad is not None
        finding = next(lf.finding for lf in run_example(rule.bad).findings
                       if lf.finding.code == code)
        assert finding.fix is not None


def test_docs_rules_md_is_fresh() -> None:
    committed = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == markdown(), "run `aimlcat rule --markdown > docs/rules.md`"
    code, text = cli("rule", "--markdown")
    assert code == 0 and text == committed
    for code_ in RULES:
        assert f"### {code_} {RULES[code_].name}" in committed


def test_rule_command_explains_with_what_aimlcat_says() -> None:
    code, text = cli("rule", "AML302")
    assert code == 0
    assert text.startswith("AML302 deprecated-parameter (warning)\n")
    assert "Bad (request.json):" in text and "Good (request.json):" in text
    assert "aimlcat says:\n    request.json:4:3: AML302 warning:" in text
    assert "Fix: `aimlcat lint --fix` renames" in text


def test_rule_command_prefix_name_list_and_json() -> None:
    code, text = cli("rule", "AML40")
    assert code == 0 and text.count(" (error)\n") == 9
    code, text = cli("rule", "duplicate-key")
    assert text.startswith("AML002 duplicate-key")
    code, text = cli("rule")
    assert code == 0 and len([x for x in text.splitlines() if x.startswith("AML")]) == len(RULES)
    code, text = cli("rule", "AML301", "--format", "json")
    (doc,) = json.loads(text)
    assert doc["code"] == "AML301" and doc["bad"]["file"] == "request.yaml"


def test_rule_json_carries_what_the_text_says_aimlcat_says() -> None:
    code, text = cli("rule", "AML302")
    code, doc = cli("rule", "AML302", "--format", "json")
    assert code == 0
    [said] = json.loads(doc)[0]["bad"]["findings"]
    assert f"request.json:{said['line']}:{said['column']}: {said['code']} {said['severity']}: " \
        f"{said['message']}" in text
    # The list of every rule stays quick: no example is run for it.
    code, doc = cli("rule", "--format", "json")
    assert all("findings" not in (r.get("bad") or {}) for r in json.loads(doc))


def test_rule_all_explains_every_rule_as_select_all_selects_every_one() -> None:
    """`aimlcat rule ALL` was refused (no rule 'ALL') where `--select ALL` and
    `select = ["ALL"]` mean every rule: here too it is every rule, as the prefix AML is."""
    every = list(RULES.values())
    assert select_rules(["ALL"]) == select_rules([" all "]) == select_rules(["AML"]) == every
    code, text = cli("rule", "ALL")
    assert code == 0
    heads = [line.split()[0] for line in text.splitlines()
             if re.fullmatch(r"AML\d{3} [a-z0-9-]+ \((error|warning|info)\)", line)]
    assert heads == list(RULES)


def test_rule_command_unknown_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = cli("rule", "AML999")
    assert code == 2
    assert "no rule 'AML999'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["AML302"], ["--format", "json"]])
def test_markdown_with_a_code_or_a_format_is_a_usage_error(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`rule AML302 --markdown` printed every rule, the code dropped in silence."""
    code, text = cli("rule", "--markdown", *argv)
    assert (code, text) == (2, "")
    assert "--markdown prints every rule" in capsys.readouterr().err
