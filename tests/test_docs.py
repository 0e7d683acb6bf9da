"""The user documentation, held to what aimlcat does.

README.md and docs/*.md quote commands, their output and Python; each sample that
can run here runs for real (in-process CLI, the real SDKs, real files under
``tmp_path``) and its quoted output is compared with what comes out. Links and
file names in the documents must exist, every flag a document gives a command must
be one of its options, docs/architecture.md must name every module, and the
README's two fresh-machine commands must be the ones CI runs.
"""

from __future__ import annotations

import doctest
import io
import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest

import aimlcat
from aimlcat._cli import run
from aimlcat._config import load_config

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
MARKDOWN = [README, REPO / "bench" / "README.md", *DOCS]
COMMANDS = ("lint", "rule", "models", "show", "import-openapi", "build", "check-catalog",
            "audit", "stats", "sync")


def blocks(path: Path, lang: str | None = None) -> list[str]:
    """The fenced code blocks of a Markdown file (of one language, when given)."""
    found = re.findall(r"^```(\w*)\n(.*?)^```$", path.read_text(encoding="utf-8"),
                       re.MULTILINE | re.DOTALL)
    return [body for tag, body in found if lang is None or tag == lang]


def section(path: Path, title: str) -> str:
    """The text of one ``## title`` section, up to the next heading of that level."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def run_sample(code: str, where: str, ns: dict[str, Any]) -> None:
    """Run a documented Python sample as a script in the namespace ``ns``."""
    exec(compile(code, where, "exec"), ns)  # noqa: S102 - the sample is our own document


def lint_text(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run(["lint", "--no-config", "--no-progress", *argv], out)
    return code, out.getvalue()


# -- quoted output ------------------------------------------------------------------------


def test_readme_tour_is_what_lint_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tour lints a file of examples/ and quotes the whole report."""
    [block] = blocks(README, "console")
    command, *expected = block.splitlines()
    argv = shlex.split(command.removeprefix("$ "))
    assert argv[:2] == ["aimlcat", "lint"]
    monkeypatch.chdir(REPO)
    code, out = lint_text(*argv[2:])
    assert out.splitlines() == expected
    assert code == 1


def test_linting_md_sample_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/linting.md's report, from the files it describes: a Batch file with a
    deprecated key on line 1 and a broken line 3, a YAML body out of range, and three
    clean files (copies of examples/good)."""
    [block] = blocks(REPO / "docs" / "linting.md", "console")
    command, *expected = block.splitlines()
    assert command == "$ aimlcat lint requests"
    requests = tmp_path / "requests"
    requests.mkdir()
    for name in ("gpt-4o-chat.json", "flux-dev.yaml", "text-embedding-3-small.json"):
        shutil.copy(REPO / "examples" / "good" / name, requests / name)
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
    lines = [
        json.dumps({"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
                    "body": {**chat, "max_tokens": 100}}),
        json.dumps({"custom_id": "r2", "method": "POST", "url": "/v1/chat/completions",
                    "body": chat}),
        ('{"custom_id": "r3", "method": "POST", "url": "/v1/chat/completions", '
         '"body": {"model": "gpt-4o", "messages": }'),
    ]
    (requests / "batch.jsonl").write_text("\n".join(lines) + "\n")
    (requests / "poster.yaml").write_text(
        "# The spring campaign's poster.\nmodel: flux/dev\n"
        "prompt: a paper boat on a rainy street, poster style\nnum_inference_steps: 80\n")
    monkeypatch.chdir(tmp_path)
    code, out = lint_text("requests")
    assert out.splitlines() == expected
    assert code == 1


def test_tokens_md_sample_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/tokens.md's AML510, from the request it describes."""
    text = (REPO / "docs" / "tokens.md").read_text(encoding="utf-8")
    sentence = re.search(r"the sentence `([^`]+)` (\d[\d,]*) times", text)
    assert sentence, "tokens.md says what big-request.json holds"
    times = int(sentence.group(2).replace(",", ""))
    body = {"model": "gpt-4o",
            "messages": [{"role": "user", "content": (sentence.group(1) + " ") * times}],
            "max_completion_tokens": 1000}
    (tmp_path / "big-request.json").write_text(json.dumps(body))
    [block] = blocks(REPO / "docs" / "tokens.md", "console")
    command, *expected = block.splitlines()
    assert command == "$ aimlcat lint big-request.json"
    monkeypatch.chdir(tmp_path)
    code, out = lint_text("big-request.json")
    assert out.splitlines() == expected
    assert code == 1


# -- Python samples -----------------------------------------------------------------------


def test_readme_python_sample_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's "From Python" block runs as written, and does what its comments say."""
    [sample, _client] = blocks(README, "python")
    ns: dict[str, Any] = {}
    run_sample(sample, "README.md", ns)
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in printed] == [["AML302", "warning", "/max_tokens"]]
    assert "max_completion_tokens" in ns["fixed"] and "max_tokens" in ns["body"]
    assert ns["cat"].validate(ns["fixed"]).findings == []


def expect_lines(comment_lines: list[str], actual: str) -> None:
    """Each quoted line (``...`` standing for any text) matches a line of ``actual``,
    in order; the lines between (hints) may be left out of the quote."""
    lines = iter(actual.splitlines())
    for quoted in comment_lines:
        pattern = re.compile(".*".join(re.escape(part) for part in quoted.split("...")))
        assert any(pattern.fullmatch(line) for line in lines), (quoted, actual)


def test_readme_client_sample_raises_as_quoted() -> None:
    """The README's client block, with the OpenAI SDK: refused before sending, with the
    error its comments quote."""
    pytest.importorskip("openai")
    [_sample, block] = blocks(README, "python")
    code = [line for line in block.splitlines() if not line.startswith("#")]
    quoted = [line[2:] for line in block.splitlines() if line.startswith("# ")]
    ns: dict[str, Any] = {"KEY": "sk-docs", "msgs": [{"role": "user", "content": "Hi"}]}
    with pytest.raises(aimlcat.PreflightError) as info:
        run_sample("\n".join(code), "README.md", ns)
    ns["client"].close()
    head, *rest = quoted
    assert head.startswith("aimlcat.PreflightError: ")
    expect_lines([head.removeprefix("aimlcat.PreflightError: "), *rest], str(info.value))


def test_clients_md_samples_run(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/clients.md's Python blocks, run in order as one script with the real SDKs
    (nothing reaches the network: the only request is refused before it is sent), and
    its quoted error compared with the one a default client raises."""
    pytest.importorskip("openai")
    pytest.importorskip("anthropic")
    import httpx

    doc = REPO / "docs" / "clients.md"
    ns: dict[str, Any] = {"KEY": "sk-docs", "msgs": [{"role": "user", "content": "Hi"}],
                          "httpx": httpx}
    for sample in blocks(doc, "python"):
        run_sample(sample, "docs/clients.md", ns)
    printed = capsys.readouterr().out
    assert "not sent: 1 error, 1 warning for gpt-4o on /v1/chat/completions" in printed
    assert isinstance(ns["transport"], aimlcat.PreflightTransport)
    for name in ("client", "claude", "http"):
        ns[name].close()

    [quoted] = blocks(doc, "text")
    client = aimlcat.client()
    with pytest.raises(aimlcat.PreflightError) as info:
        client.post("https://api.aimlapi.com/v1/chat/completions",
                    json={"model": "gpt-4o", "messages": ns["msgs"], "max_tokens": 10,
                          "temperatur": 0.2})
    client.close()
    expect_lines([line.strip() for line in quoted.splitlines()
                  if not line.strip().startswith("hint:")], str(info.value).replace("  ", ""))


def test_doctests_in_the_docs() -> None:
    """``>>>`` samples: docs/tokens.md and the package docstring."""
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = [parser.get_doctest(b, {}, "docs/tokens.md", None, 0)
             for b in blocks(REPO / "docs" / "tokens.md", "python")]
    tests.append(parser.get_doctest(aimlcat.__doc__ or "", {}, "aimlcat", None, 0))
    for test in tests:
        runner.run(test, out=lambda _text: None)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 3 and result.failed == 0, result


def test_linting_md_configuration_sample_loads(tmp_path: Path) -> None:
    """The ``[tool.aimlcat]`` sample of docs/linting.md is a configuration lint accepts,
    and means what its comments say."""
    [toml] = blocks(REPO / "docs" / "linting.md", "toml")
    (tmp_path / "pyproject.toml").write_text(toml)
    (tmp_path / "catalog-private").mkdir()
    config = load_config(str(tmp_path / "pyproject.toml"))
    assert config.fail_level == "warning"
    assert config.max_bytes == 64 * 1024 * 1024
    assert config.extra_catalogs == (str(tmp_path / "catalog-private"),)
    assert config.cache_dir == str(tmp_path / ".aimlcat_cache")
    assert dict(config.per_file_ignores) == {"requests/legacy/**": ("AML302",)}


# -- commands, flags, links, modules ------------------------------------------------------


def test_fresh_machine_commands_are_two_and_ci_runs_the_test_one() -> None:
    """The README shows a fresh machine two commands: one installs and lints the
    bundled examples, one installs the test extra and runs the suite, which is the
    command ``.ci/run`` runs."""
    commands = [b.strip() for b in re.findall(r"```sh\n(.*?)```",
                                              section(README, "On a fresh machine"), re.DOTALL)]
    assert commands == ["python -m pip install . && aimlcat lint examples/",
                        "python -m pip install -e '.[test]' && python -m pytest"]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == commands[1]


def options(capsys: pytest.CaptureFixture[str], command: str) -> set[str]:
    assert run([command, "--help"], io.StringIO()) == 0
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", capsys.readouterr().out))


def documented_flags() -> list[tuple[str, frozenset[str], str]]:
    """(document, the commands a passage names, a flag it gives them): from code spans
    and code lines that run ``aimlcat COMMAND``, and from the README's bullets, each of
    which is about the commands it names."""
    found: list[tuple[str, frozenset[str], str]] = []
    names = "|".join(re.escape(c) for c in COMMANDS)
    for path in MARKDOWN:
        text = path.read_text(encoding="utf-8")
        spans = re.findall(rf"`(aimlcat (?:{names})\b[^`]*)`", text)
        spans += re.findall(rf"^(?:\$ )?(aimlcat (?:{names})\b.*)$", text, re.MULTILINE)
        for span in spans:
            command = span.split()[1]
            for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", span.split("#")[0]):
                found.append((path.name, frozenset([command]), flag))
    # Documents about a command: every flag in them is that command's, except the flags
    # of the other program a line runs (`dask worker --nthreads 1`).
    about = {"linting.md": "lint", "audit.md": "audit", "importer.md": "import-openapi",
             "security.md": "lint audit"}
    for path in DOCS:
        if path.name in about:
            text = path.read_text(encoding="utf-8")
            theirs = set(re.findall(r"--[a-z][a-z0-9-]*",
                                    "\n".join(re.findall(r"^dask .*$", text, re.MULTILINE))))
            for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text):
                if flag not in theirs:
                    found.append((path.name, frozenset(about[path.name].split()), flag))
    sync = section(REPO / "docs" / "clients.md", "`aimlcat sync`")
    for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", sync):
        found.append(("clients.md", frozenset(["sync"]), flag))
    for bullet in re.findall(r"^- `aimlcat .*?(?=^- |^$)", section(README, "A short tour"),
                             re.MULTILINE | re.DOTALL):
        commands = frozenset(re.findall(rf"`aimlcat ({names})\b", bullet))
        for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", bullet):
            found.append(("README.md", commands, flag))
    return found


def test_documented_flags_exist(capsys: pytest.CaptureFixture[str]) -> None:
    helps = {c: options(capsys, c) for c in COMMANDS}
    flags = documented_flags()
    assert len(flags) > 150
    wrong = [(doc, sorted(cmds), flag) for doc, cmds, flag in flags
             if not any(flag in helps[c] for c in cmds)]
    assert wrong == []


def github_anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_and_named_files_exist() -> None:
    """Relative links (and their #anchors) and repository paths quoted in backticks."""
    broken = []
    for path in MARKDOWN:
        text = path.read_text(encoding="utf-8")
        for link in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+://", link):
                continue
            target, _, anchor = link.partition("#")
            file = (path.parent / target) if target else path
            if not file.exists():
                broken.append((path.name, link))
            elif anchor and file.is_file():
                headings = re.findall(r"^#+ (.*)$", file.read_text(encoding="utf-8"),
                                      re.MULTILINE)
                if anchor not in {github_anchor(h) for h in headings}:
                    broken.append((path.name, link))
        for named in re.findall(r"`((?:aimlcat|bench|catalog|docs|examples|tests|tools)/"
                                r"[\w./-]+)`", text):
            generated = named.startswith(("aimlcat/_data", "bench/out"))
            if not generated and "*" not in named and not (REPO / named).exists():
                broken.append((path.name, named))
    assert broken == []


def test_architecture_names_every_module() -> None:
    """docs/architecture.md's module table has one row for each module of aimlcat/
    (the C extension included), and no row for a module that is gone."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \|", text, re.MULTILINE)
    modules = {p.stem for p in (REPO / "aimlcat").glob("*.py")}
    modules |= {p.stem for p in (REPO / "aimlcat").glob("*.c")}
    assert sorted(rows) == sorted(modules)


def test_linting_md_names_the_hooks_command() -> None:
    """docs/linting.md quotes the pre-commit hook's command as the hook file runs it."""
    import yaml

    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    text = (REPO / "docs" / "linting.md").read_text(encoding="utf-8")
    assert f"The hook runs `{hook['entry']}`" in text


def test_readme_findings_table_has_every_rule() -> None:
    """The README's table of findings: every code once, with the rule's severity, and
    its name where the row lists codes one by one."""
    from aimlcat import RULES

    seen: dict[str, tuple[str, str | None]] = {}
    for codes, names, severities in re.findall(r"^\| (AML[^|]*) \| ([^|]*) \| ([^|]*) \|$",
                                               section(README, "In your client"), re.MULTILINE):
        if "–" in codes:
            first, last = (int(c.strip()[3:]) for c in codes.split("–"))
            listed = [f"AML{n:03d}" for n in range(first, last + 1)]
        else:
            listed = [c.strip() for c in codes.split("/")]
        sev = [s.strip() for s in severities.split("/")]
        sev = sev * len(listed) if len(sev) == 1 else sev
        rule_names = [re.sub(r"\s*[(;].*", "", n).strip() for n in names.split(" / ")]
        rule_names_or_none: list[str | None] = (
            list(rule_names) if len(rule_names) == len(listed) else [None] * len(listed))
        for code, s, name in zip(listed, sev, rule_names_or_none, strict=True):
            assert code not in seen, code
            seen[code] = (s, name)
    assert sorted(seen) == sorted(RULES)
    for code, (severity, name) in seen.items():
        assert severity == RULES[code].severity, code
        assert name is None or name == RULES[code].name, (code, name)
