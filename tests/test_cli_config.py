"""Command-line flags against each other and against the configuration file: every
contradiction is one usage error (exit 2) that names what contradicts what, never a
silent winner. Real configuration files and payloads in a temporary working directory;
the CLI is run in-process (``aimlcat._cli.run``) and, where it matters, as
``python -m aimlcat``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aimlcat import RULES
from aimlcat._cli import run

HELLO = [{"role": "user", "content": "Hello"}]
#: A warning (AML302) and an error (AML301).
BOTH = {"model": "gpt-4o", "messages": HELLO, "max_tokens": 64, "temperatur": 0.2}
#: A warning only.
WARNING = {"model": "gpt-4o", "messages": HELLO, "max_tokens": 64}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a payload file of both severities, `a.json`, and
    `w.json` (a warning only), and a log `a.jsonl` of both."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.json").write_text(json.dumps(BOTH, indent=2))
    (tmp_path / "w.json").write_text(json.dumps(WARNING, indent=2))
    (tmp_path / "a.jsonl").write_text(json.dumps(BOTH) + "\n")
    return tmp_path


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return run(list(argv), out=out, stdin=io.StringIO()), out.getvalue()


def payload(command: str) -> str:
    return "a.jsonl" if command == "audit" else "a.json"


def run_module(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AIMLCAT_SCHEMAS"}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run([sys.executable, "-m", "aimlcat", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          check=False)


# -- --config and --no-config ------------------------------------------------------------

@pytest.mark.parametrize("command", ["lint", "audit", "models", "show"])
@pytest.mark.parametrize("order", ["config first", "no-config first"])
def test_config_and_no_config_together_is_a_usage_error(
        project: Path, command: str, order: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--config FILE --no-config` read no file in silence: one of them was dropped."""
    (project / "team.toml").write_text('select = ["AML301"]\n')
    target = {"lint": ["a.json"], "audit": ["a.jsonl"], "models": [], "show": ["gpt-4o"]}
    flags = ["--config", "team.toml", "--no-config"]
    if order != "config first":
        flags = flags[2:] + flags[:2]
    code, out = cli(command, *target[command], *flags)
    assert (code, out) == (2, "")
    err = capsys.readouterr().err
    assert err.startswith(f"usage: aimlcat {command} ")
    assert "--config" in err.splitlines()[-1] and "--no-config" in err.splitlines()[-1]
    assert "not allowed with" in err


def test_config_and_no_config_in_lint_settings(project: Path) -> None:
    """The same contradiction from Python (``LintSettings``) is one UsageError too."""
    from aimlcat._cli import LintSettings, lint
    from aimlcat._exceptions import UsageError

    (project / "team.toml").write_text('select = ["AML301"]\n')
    with pytest.raises(UsageError, match="--config team.toml and --no-config contradict"):
        lint(LintSettings(paths=("a.json",), config="team.toml", no_config=True),
             io.StringIO())


def test_config_or_no_config_alone_still_work(project: Path) -> None:
    (project / "team.toml").write_text('select = ["AML301"]\n')
    (project / ".aimlcat.toml").write_text('select = ["AML302"]\n')
    assert cli("lint", "a.json", "--format", "json")[0] == 0  # the warning alone
    code, text = cli("lint", "a.json", "--format", "json", "--config", "team.toml")
    assert code == 1 and [f["code"] for f in json.loads(text)["files"][0]["findings"]] == [
        "AML301"]
    code, text = cli("lint", "a.json", "--format", "json", "--no-config")
    assert code == 1 and len(json.loads(text)["files"][0]["findings"]) == 2


# -- --strict and --fail-level -----------------------------------------------------------

@pytest.mark.parametrize("command", ["lint", "audit"])
@pytest.mark.parametrize("level", ["error", "info"])
def test_strict_with_another_fail_level_is_a_usage_error(
        project: Path, command: str, level: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--strict --fail-level error` let --fail-level win in silence: it passed warnings
    that --strict promised to fail."""
    code, out = cli(command, payload(command), "--no-config", "--strict", "--fail-level", level)
    assert (code, out) == (2, "")
    assert capsys.readouterr().err == (
        f"aimlcat: --strict means --fail-level warning, which contradicts --fail-level "
        f"{level}: give one of them\n")


@pytest.mark.parametrize("command", ["lint", "audit"])
def test_strict_with_fail_level_warning_agrees(project: Path, command: str) -> None:
    (project / "w.jsonl").write_text(json.dumps(WARNING) + "\n")
    warning_only = "w.jsonl" if command == "audit" else "w.json"
    assert cli(command, warning_only, "--no-config")[0] == 0
    for flags in (["--strict"], ["--fail-level", "warning"],
                  ["--strict", "--fail-level", "warning"],
                  ["--fail-level", "warning", "--strict"]):
        assert cli(command, warning_only, "--no-config", *flags)[0] == 1, flags


def test_strict_beats_the_files_fail_level_without_contradiction(project: Path) -> None:
    """Flags over the file: --strict with a file that says `fail-level = "error"` is no
    contradiction (only two flags can contradict each other)."""
    (project / ".aimlcat.toml").write_text('fail-level = "error"\n')
    assert cli("lint", "w.json")[0] == 0
    assert cli("lint", "w.json", "--strict")[0] == 1


# -- an empty select ----------------------------------------------------------------------

@pytest.mark.parametrize("command", ["lint", "audit"])
@pytest.mark.parametrize(("name", "text", "line", "value"), [
    ("pyproject.toml", '[project]\nname = "x"\n\n[tool.aimlcat]\nselect = []\n', 5, "[]"),
    ("pyproject.toml", '[tool.aimlcat]\nignore = ["AML105"]\nselect = [""]\n', 3, '[""]'),
    (".aimlcat.toml", '# the team\'s settings\nselect = []\n', 2, "[]"),
    (".aimlcat.toml", 'select = " "\n', 1, '" "'),
])
def test_an_empty_select_in_the_file_is_an_error_at_its_line(
        project: Path, command: str, name: str, text: str, line: int, value: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`select = []` reported every code, where `--select ''` is a usage error: the
    same empty list is the same error, placed as the file's other errors are."""
    (project / name).write_text(text)
    code, out = cli(command, payload(command))
    assert (code, out) == (2, "")
    table = "[tool.aimlcat] " if name == "pyproject.toml" else ""
    assert capsys.readouterr().err == (
        f"aimlcat: {project / name}:{line}: {table}select: {value} names no code; list code "
        'prefixes (["AML3", "AML402"]), or ["ALL"] (or no `select`) for every one\n')


def test_select_all_in_the_file_is_every_code(project: Path) -> None:
    (project / ".aimlcat.toml").write_text('select = ["ALL"]\n')
    code, text = cli("lint", "a.json", "--format", "json")
    assert code == 1 and len(json.loads(text)["files"][0]["findings"]) == 2
    # and an empty ignore is no error: it ignores nothing
    (project / ".aimlcat.toml").write_text("ignore = []\n")
    assert cli("lint", "a.json")[0] == 1


# -- the shape of the file -----------------------------------------------------------------

@pytest.mark.parametrize("command", ["lint", "audit", "models"])
@pytest.mark.parametrize(("name", "text"), [
    ("pyproject.toml", 'tool = "aimlcat"\n'),
    (".aimlcat.toml", "\ntool = 5\n"),
])
def test_a_tool_key_that_is_no_table_is_an_error_not_a_traceback(
        project: Path, command: str, name: str, text: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`tool = "x"` crashed with AttributeError ('str' object has no attribute 'get')."""
    (project / name).write_text(text)
    line = text[:text.index("tool")].count("\n") + 1
    code, out = cli(command, *([payload(command)] if command != "models" else []),
                    "--config", name)
    assert (code, out) == (2, "")
    assert capsys.readouterr().err == (
        f"aimlcat: {name}:{line}: `tool` must be a table ([tool.aimlcat])\n")


def test_aimlcat_toml_with_settings_at_the_top_and_in_a_table_is_an_error(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An .aimlcat.toml takes its keys at the top, or under [tool.aimlcat]. With both,
    the keys at the top were passed over in silence: here the select of AML301 was
    dropped and the warning-only ignore of AML302 alone applied."""
    (project / ".aimlcat.toml").write_text(
        'select = ["AML301"]\n\n[tool.aimlcat]\nignore = ["AML302"]\n')
    code, out = cli("lint", "a.json")
    assert (code, out) == (2, "")
    assert capsys.readouterr().err == (
        f"aimlcat: {project / '.aimlcat.toml'}:1: `select` is at the top of the file and "
        "[tool.aimlcat] is there too: put every setting in one of them\n")
    # a misspelt key at the top is no table either: it was passed over in silence too,
    # where the same file without [tool.aimlcat] says "unknown key"
    (project / ".aimlcat.toml").write_text(
        'selct = ["AML301"]\n[project]\nname = "x"\n\n[tool.aimlcat]\nignore = ["AML302"]\n')
    code, out = cli("lint", "a.json")
    assert (code, out) == (2, "")
    assert capsys.readouterr().err == (
        f"aimlcat: {project / '.aimlcat.toml'}:1: unknown key `selct` at the top of the "
        "file, where [tool.aimlcat] holds the settings; did you mean `select`?\n")
    # each form alone is read, and other tables beside [tool.aimlcat] (a pyproject-shaped
    # file under another name) are no settings at the top
    for text in ('select = ["AML301"]\n', '[tool.aimlcat]\nselect = ["AML301"]\n',
                 '[project]\nname = "x"\n[tool.ruff]\nline-length = 99\n'
                 '[tool.aimlcat]\nselect = ["AML301"]\n'):
        (project / ".aimlcat.toml").write_text(text)
        code, report = cli("lint", "a.json", "--format", "json")
        assert code == 1
        assert [f["code"] for f in json.loads(report)["files"][0]["findings"]] == ["AML301"]


# -- a selection that every ignore cancels -------------------------------------------------

@pytest.mark.parametrize("command", ["lint", "audit"])
@pytest.mark.parametrize(("file", "flags", "said"), [
    (None, ["--select", "AML301", "--ignore", "AML301"], "--select AML301 with --ignore AML301"),
    (None, ["--ignore", "ALL"], "--ignore ALL"),
    (None, ["--select", "AML30", "--ignore", "AML301,AML302,aml303"],
     "--select AML30 with --ignore AML301,AML302,aml303"),
    ('select = ["AML3"]\nignore = ["AML30"]\n', [],
     'select = ["AML3"] with ignore = ["AML30"] in {config}:2'),
    ('select = ["AML3"]\n', ["--ignore", "AML3"],
     'select = ["AML3"] in {config}:1 with --ignore AML3'),
    # the values as the file writes them (it read `ignore = ["AML"]`, `select = ["AML3"]`),
    # at the line of the ignore, which the message says to narrow
    ('# ours\nignore = ["all"]\n', [], 'ignore = ["all"] in {config}:2'),
    ('select = "aml3"\n\nignore = ["AML3"]\n', [],
     'select = "aml3" with ignore = ["AML3"] in {config}:3'),
])
def test_a_selection_whose_every_code_is_ignored_is_a_usage_error(
        project: Path, command: str, file: str | None, flags: list[str], said: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`--select AML301 --ignore AML301` (the ignore wins a tie) reported nothing and
    passed, as the empty `--select ''` that is refused would have."""
    if file is not None:
        (project / ".aimlcat.toml").write_text(file)
    code, out = cli(command, payload(command), *flags, *([] if file else ["--no-config"]))
    assert (code, out) == (2, "")
    assert capsys.readouterr().err == (
        f"aimlcat: {said.format(config=project / '.aimlcat.toml')} leaves no code to report "
        "(each selected code is ignored too): narrow the ignore\n")


def test_a_selection_that_ignores_part_of_it_still_reports_the_rest(project: Path) -> None:
    code, text = cli("lint", "a.json", "--no-config", "--format", "json",
                     "--select", "AML30", "--ignore", "AML302")
    assert code == 1
    assert [f["code"] for f in json.loads(text)["files"][0]["findings"]] == ["AML301"]
    # a --select flag leaves the file's ignore out, so it cancels nothing
    (project / ".aimlcat.toml").write_text('ignore = ["ALL"]\n')
    code, text = cli("lint", "a.json", "--format", "json", "--select", "AML302")
    assert code == 0
    assert [f["code"] for f in json.loads(text)["files"][0]["findings"]] == ["AML302"]


# -- an empty endpoint ---------------------------------------------------------------------

@pytest.mark.parametrize("command", ["lint", "audit", "show"])
@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_endpoint_flag_is_a_usage_error(
        project: Path, command: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--endpoint "$EP"` with EP unset was taken as no flag: the file's endpoint, the
    body's or an inferred one was used instead (and `show` printed every endpoint)."""
    (project / ".aimlcat.toml").write_text('endpoint = "/v1/chat/completions"\n')
    target = "gpt-4o" if command == "show" else payload(command)
    code, out = cli(command, target, "--endpoint", value)
    assert (code, out) == (2, "")
    assert capsys.readouterr().err == (
        f"aimlcat: --endpoint {value!r} names no endpoint; give a path or URL "
        "(/v1/chat/completions), or leave the flag out\n")


def test_an_empty_endpoint_in_the_file_is_an_error_at_its_line(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`endpoint = ""` made every file an AML204 (`` is not an endpoint) instead of one
    error about the file."""
    (project / "pyproject.toml").write_text('[tool.aimlcat]\nselect = ["AML"]\nendpoint = ""\n')
    assert cli("lint", "a.json") == (2, "")
    assert capsys.readouterr().err == (
        f"aimlcat: {project / 'pyproject.toml'}:3: [tool.aimlcat] endpoint: '' names no "
        "endpoint; give a path or URL (/v1/chat/completions), or leave the key out\n")


# -- required-catalog ------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["lint", "audit"])
def test_required_catalog_errors_name_the_line(
        project: Path, command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Every other key's mistake is placed `FILE:LINE`; required-catalog's were `FILE:`
    alone, and a spec that is no version specifier was found only once the catalog was
    loaded, not when the file was read."""
    path = project / "pyproject.toml"
    path.write_text('[tool.aimlcat]\nselect = ["AML"]\nrequired-catalog = "newest please"\n')
    assert cli(command, payload(command)) == (2, "")
    assert capsys.readouterr().err == (
        f"aimlcat: {path}:3: [tool.aimlcat] required-catalog: 'newest please' is not a "
        'PEP 440 version specifier (such as ">=2026.8")\n')
    path.write_text('[tool.aimlcat]\n\nrequired-catalog = ">=2999.1"\n')
    assert cli(command, payload(command)) == (2, "")
    assert capsys.readouterr().err.startswith(
        f"aimlcat: {path}:3: required-catalog is '>=2999.1', but this aimlcat carries ")


# -- repeated --select and --ignore ----------------------------------------------------------

@pytest.mark.parametrize("command", ["lint", "audit"])
def test_repeated_select_and_ignore_flags_add_up(project: Path, command: str) -> None:
    """`--select AML301 --select AML302` kept the last flag alone (argparse's default),
    so AML301 was dropped in silence; as in ruff, repeated flags add up."""
    def reported(*flags: str) -> list[str]:
        code, text = cli(command, payload(command), "--no-config", "--format", "json",
                         *flags)
        doc = json.loads(text)
        if command == "lint":
            return sorted(f["code"] for f in doc["files"][0]["findings"])
        return sorted(row["code"] for row in doc["by_code"])

    assert reported("--select", "AML301") == ["AML301"]
    assert reported("--select", "AML301", "--select", "AML302") == ["AML301", "AML302"]
    assert reported("--ignore", "AML301") == ["AML302"]
    assert reported("--ignore", "AML301", "--ignore", "AML302") == []


# -- globs the regex engine refused ----------------------------------------------------------

@pytest.mark.parametrize(("config", "flags"), [
    ('exclude = ["req-[z-a].json"]\n', []),
    ("", ["--exclude", "req-[z-a].json"]),
    ('[per-file-ignores]\n"req-[z-a].json" = ["AML3"]\n', []),
])
def test_a_reversed_range_in_a_glob_is_read_as_git_reads_it(
        project: Path, config: str, flags: list[str]) -> None:
    """`[z-a]` in an exclude or a per-file-ignores glob ended the lint with a traceback
    (re.error: bad character range); git reads it as `z` alone."""
    (project / ".aimlcat.toml").write_text(config)
    (project / "req-z.json").write_text(json.dumps(BOTH))
    (project / "req-b.json").write_text(json.dumps(BOTH))
    code, text = cli("lint", "req-z.json", "req-b.json", "--force-exclude", "--format",
                     "json", *flags)
    assert code == 1
    found = {Path(f["path"]).name: [x["code"] for x in f["findings"]]
             for f in json.loads(text)["files"]}
    if "per-file" in config:
        assert found == {"req-z.json": [], "req-b.json": ["AML302", "AML301"]}
    else:
        assert found == {"req-b.json": ["AML302", "AML301"]}


def test_a_negated_per_file_ignore_through_the_cli(project: Path) -> None:
    """`"!a.json" = ["AML301"]` used to switch AML301 off in a.json itself."""
    (project / ".aimlcat.toml").write_text('[per-file-ignores]\n"!a.json" = ["AML301"]\n')
    (project / "b.json").write_text(json.dumps(BOTH))
    code, text = cli("lint", "a.json", "b.json", "--format", "json")
    assert code == 1
    found = {f["path"]: [x["code"] for x in f["findings"]] for f in json.loads(text)["files"]}
    assert found == {"a.json": ["AML302", "AML301"], "b.json": ["AML302"]}


# -- the same, as a user runs it ---------------------------------------------------------------

@pytest.mark.slow
def test_the_contradictions_as_python_m_aimlcat(tmp_path: Path) -> None:
    """Each contradiction above, run as a process: exit 2, one message, no traceback."""
    (tmp_path / "a.json").write_text(json.dumps(BOTH))
    (tmp_path / "team.toml").write_text('select = ["AML301"]\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text("[tool.aimlcat]\nselect = []\n")
    cases = [
        (["lint", "a.json", "--config", "team.toml", "--no-config"], tmp_path,
         "argument --no-config: not allowed with argument --config"),
        (["lint", "a.json", "--strict", "--fail-level", "error"], tmp_path,
         "--strict means --fail-level warning, which contradicts --fail-level error"),
        (["lint", "../a.json"], tmp_path / "sub",
         f"{tmp_path / 'sub' / 'pyproject.toml'}:2: [tool.aimlcat] select: [] names no code"),
    ]
    for argv, cwd, message in cases:
        proc = run_module(*argv, cwd=cwd)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stdout == ""
    proc = run_module("rule", "ALL", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [r["code"] for r in json.loads(proc.stdout)] == list(RULES)
