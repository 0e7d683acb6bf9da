"""`aimlcat lint` at work: JSON Lines and batch files, configuration, fixes, jobs, output.

Driven in-process through ``aimlcat._cli.run`` on real files under ``tmp_path``.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from aimlcat._cli import run

HELLO = [{"role": "user", "content": "Hello"}]
GPT4O_MAX_TOKENS = {"model": "gpt-4o", "messages": HELLO, "max_tokens": 64}
CLAUDE = {"model": "anthropic/claude-sonnet-5", "messages": HELLO, "max_tokens": 256}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("AIMLCAT_SCHEMAS", "GITHUB_ACTIONS", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no configuration file from the checkout applies


def cli(*argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = run(list(argv), out=out, stdin=io.StringIO(stdin))
    return code, out.getvalue()


def cli_json(*argv: str) -> tuple[int, Any]:
    code, text = cli(*argv, "--format", "json")
    return code, json.loads(text)


def where(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first ``needle`` in ``text``."""
    i = text.index(needle)
    return text.count("\n", 0, i) + 1, i - text.rfind("\n", 0, i)


def batch_line(i: int, body: dict[str, Any], url: str = "/v1/chat/completions") -> str:
    return json.dumps({"custom_id": f"request-{i}", "method": "POST", "url": url, "body": body})


# -- JSON Lines and OpenAI Batch files ------------------------------------------------------


def test_batch_file_is_linted_line_by_line(tmp_path: Path) -> None:
    lines = [
        batch_line(1, {"model": "gpt-4o", "messages": HELLO, "max_completion_tokens": 10}),
        batch_line(2, GPT4O_MAX_TOKENS),
        "",  # blank lines are skipped
        '{"custom_id": "request-3", "body": {"model": "gpt-4o", "messages": [',  # cut short
        batch_line(4, {"model": "o3-mini", "messages": HELLO, "temperature": 0.5}),
        batch_line(5, {"model": "gpt-4o", "messages": HELLO}, url="/v1/images/generations"),
    ]
    f = tmp_path / "batch.jsonl"
    f.write_text("\n".join(lines) + "\n")
    code, doc = cli_json("lint", str(f))
    assert code == 1
    (entry,) = doc["files"]
    assert entry["records"] == 5
    got = [(x["line"], x["code"], x["pointer"]) for x in entry["findings"]]
    assert got == [(2, "AML302", "/body/max_tokens"), (4, "AML003", ""),
                   (5, "AML303", "/body/temperature"), (6, "AML201", "/url")]
    # columns are within the line
    assert entry["findings"][0]["column"] == lines[1].index('"max_tokens"') + 1
    code, text = cli("lint", str(f))
    assert f"{f}:2:{lines[1].index('max_tokens')}: AML302 warning:" in text
    assert f"{f}:4:" in text and "line 4 is not a JSON request" in text


def test_gzip_json_lines_and_gzip_json(tmp_path: Path) -> None:
    gz = tmp_path / "log.jsonl.gz"
    gz.write_bytes(gzip.compress((batch_line(1, GPT4O_MAX_TOKENS) + "\n").encode()))
    single = tmp_path / "one.json.gz"
    single.write_bytes(gzip.compress(json.dumps({**GPT4O_MAX_TOKENS, "n": 0}).encode()))
    code, doc = cli_json("lint", str(tmp_path))  # *.jsonl.gz is found; *.json.gz is not
    assert [Path(e["path"]).name for e in doc["files"]] == ["log.jsonl.gz"]
    code, doc = cli_json("lint", str(gz), str(single))
    assert code == 1
    assert [(x["line"], x["code"]) for x in doc["files"][0]["findings"]] == [(1, "AML302")]
    assert [x["code"] for x in doc["files"][1]["findings"]] == ["AML302", "AML402"]


def test_a_broken_gzip_stream_keeps_what_was_read(tmp_path: Path) -> None:
    data = gzip.compress("".join(batch_line(i, GPT4O_MAX_TOKENS) + "\n"
                                 for i in range(200)).encode())
    f = tmp_path / "cut.jsonl.gz"
    f.write_bytes(data[: len(data) // 2])
    code, doc = cli_json("lint", str(f))
    assert code == 2
    (entry,) = doc["files"]
    assert "unreadable after line" in entry["error"]
    assert entry["findings"] and all(x["code"] == "AML302" for x in entry["findings"])
    not_gzip = tmp_path / "plain.jsonl.gz"
    not_gzip.write_text("{}\n")
    code, doc = cli_json("lint", str(not_gzip))
    assert code == 2 and "cannot read" in doc["files"][0]["error"]


def test_memory_stays_flat_with_file_size(tmp_path: Path) -> None:
    import tracemalloc

    f = tmp_path / "big.jsonl"
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 400}]}
    line = batch_line(0, body) + "\n"
    with f.open("w") as fh:
        for _ in range(20_000):
            fh.write(line)
    size = f.stat().st_size
    assert size > 9_000_000
    cli("lint", "--format", "json", str(f))  # warm: catalog and validators are built
    tracemalloc.start()
    try:
        code, _ = cli("lint", "--format", "json", str(f))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0
    assert peak < size / 20, f"peak {peak:,} bytes for a {size:,}-byte file"


# -- positions and inline suppression -------------------------------------------------------


def test_yaml_positions_and_inline_ignore(tmp_path: Path) -> None:
    f = tmp_path / "flux.yaml"
    f.write_text("model: flux/dev\nprompt: a fox\ncfg_scale: 7  # aimlcat: ignore[AML301]\n"
                 "num_inference_steps: 80\nsteps: 3  # aimlcat: ignore\n"
                 "guidance_scale: 99  # aimlcat: ignore[AML3]\n")
    code, doc = cli_json("lint", str(f))
    got = [(x["code"], x["line"], x["column"]) for x in doc["files"][0]["findings"]]
    # A finding about a value points at the value, as in JSON; AML3 does not cover AML402.
    assert got == [("AML402", 4, 22), ("AML402", 6, 17)]
    code, text = cli("lint", str(f))
    assert f"{f}:4:22: AML402 error:" in text


def test_text_output_summary_and_fixable_count(tmp_path: Path) -> None:
    f = tmp_path / "a.json"
    f.write_text(json.dumps(GPT4O_MAX_TOKENS, indent=2))
    line, col = where(f.read_text(), '"max_tokens"')
    code, text = cli("lint", str(f))
    assert code == 0
    assert text.splitlines()[0] == (f"{f}:{line}:{col}: AML302 warning: `max_tokens` is deprecated on "
                                    "gpt-4o (/v1/chat/completions); use `max_completion_tokens`")
    assert text.splitlines()[1].startswith("    hint: ")
    assert text.splitlines()[2] == "    fix: rename /max_tokens to /max_completion_tokens"
    assert text.splitlines()[-1] == ("1 file checked: 1 warning. 1 fixable with "
                                     "`aimlcat lint --fix`.")


# -- fixes ----------------------------------------------------------------------------------


def test_fix_renames_max_tokens_on_gpt_4o_and_leaves_messages_alone(tmp_path: Path) -> None:
    gpt = tmp_path / "payloads" / "gpt.json"
    gpt.parent.mkdir()
    gpt_text = ('{\n    "model": "gpt-4o",\n    "messages": [\n        {"role": "user", '
                '"content": "Hello"}\n    ],\n    "max_tokens": 64,\n    "temperature": 0.2\n}\n')
    gpt.write_text(gpt_text)
    claude = tmp_path / "payloads" / "claude.json"
    claude_text = json.dumps({"endpoint": "/v1/messages", "body": CLAUDE}, indent=2) + "\n"
    claude.write_text(claude_text)
    code, text = cli("lint", "--fix", str(gpt.parent))
    assert code == 0, text
    assert gpt.read_text() == gpt_text.replace('"max_tokens"', '"max_completion_tokens"')
    assert claude.read_text() == claude_text  # max_tokens is the limit itself there
    assert "Fixed 1 problem in 1 file." in text
    # fixing twice equals fixing once
    code, text = cli("lint", "--fix", str(gpt.parent))
    assert gpt.read_text() == gpt_text.replace('"max_tokens"', '"max_completion_tokens"')
    assert "Fixed" not in text and "no problems" in text


def test_diff_writes_nothing_and_exits_1(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "gpt.json"
    f.write_text(json.dumps(GPT4O_MAX_TOKENS, indent=2) + "\n")
    before = f.read_text()
    code, text = cli("lint", "--diff", str(f))
    assert code == 1
    assert f.read_text() == before
    assert text.startswith(f"--- a/{f.as_posix().lstrip('/')}") or "--- a/" in text
    assert '-  "max_tokens": 64\n+  "max_completion_tokens": 64\n' in text
    assert "1 file would be changed" in capsys.readouterr().err
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(CLAUDE) + "\n")
    code, text = cli("lint", "--diff", "--endpoint", "/v1/messages", str(clean))
    assert (code, text) == (0, "")


def test_fix_a_batch_file_in_place(tmp_path: Path) -> None:
    f = tmp_path / "batch.jsonl"
    lines = [batch_line(1, GPT4O_MAX_TOKENS), "not json",
             batch_line(3, {"model": "o3-mini", "messages": HELLO, "top_p": 1})]
    f.write_text("\r\n".join(lines) + "\r\n")
    code, doc = cli_json("lint", "--fix", str(f))
    assert code == 1  # the broken line is still there
    assert doc["files"][0]["fixed"] == 2
    assert [x["code"] for x in doc["files"][0]["findings"]] == ["AML003"]
    assert f.read_bytes().decode() == "\r\n".join([
        lines[0].replace('"max_tokens"', '"max_completion_tokens"'), lines[1],
        lines[2].replace(', "top_p": 1', "")]) + "\r\n"
    gz = tmp_path / "batch.jsonl.gz"
    gz.write_bytes(gzip.compress((lines[0] + "\n").encode()))
    code, doc = cli_json("lint", "--fix", str(gz))
    assert code == 0
    assert "max_completion_tokens" in gzip.decompress(gz.read_bytes()).decode()


def test_a_file_that_cannot_be_written_is_reported_and_the_others_fixed(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text(json.dumps(GPT4O_MAX_TOKENS))
    link = tmp_path / "link.json"  # atomic writes refuse to write through a symlink
    link.symlink_to(real)
    other = tmp_path / "other.json"
    other.write_text(json.dumps(GPT4O_MAX_TOKENS))
    code, text = cli("lint", "--fix", str(link), str(other))
    assert code == 2
    assert f"{link}: cannot write the fixes:" in text and "symbolic link" in text
    assert "max_completion_tokens" in other.read_text()
    assert "max_tokens" in real.read_text()


def test_fix_keeps_a_bom_and_yaml_comments(tmp_path: Path) -> None:
    f = tmp_path / "bom.json"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps(GPT4O_MAX_TOKENS).encode())
    y = tmp_path / "o3.yaml"
    y.write_text("# keep me\nmodel: o3-mini\nmessages: []\ntemperature: 1  # old\nn: 1\n")
    cli("lint", "--fix", str(f), str(y))
    assert f.read_bytes().startswith(b"\xef\xbb\xbf{")
    assert b"max_completion_tokens" in f.read_bytes()
    assert y.read_text() == "# keep me\nmodel: o3-mini\nmessages: []\nn: 1\n"


# -- configuration ----------------------------------------------------------------------------


def project(tmp_path: Path, config: str) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = \"payloads\"\n\n" + config)
    d = tmp_path / "requests"
    d.mkdir(exist_ok=True)
    (d / "gpt.json").write_text(json.dumps(GPT4O_MAX_TOKENS, indent=2))
    (d / "typo.json").write_text(json.dumps({"model": "gpt-4o", "messages": HELLO,
                                             "temperatur": 1}))
    (d / "legacy").mkdir(exist_ok=True)
    (d / "legacy" / "old.json").write_text(json.dumps({"model": "gpt-4o", "messages": HELLO,
                                                       "temperatur": 1}))
    return d


def findings(doc: Any) -> list[tuple[str, str]]:
    return [(Path(e["path"]).name, f["code"]) for e in doc["files"] for f in e["findings"]]


def test_config_select_ignore_per_file_and_fail_level(tmp_path: Path) -> None:
    project(tmp_path, '[tool.aimlcat]\nfail-level = "warning"\nignore = ["AML302"]\n'
                      '[tool.aimlcat.per-file-ignores]\n"requests/legacy/**" = ["AML301"]\n')
    code, doc = cli_json("lint", "requests")
    assert findings(doc) == [("typo.json", "AML301")]
    assert code == 1
    # flags override the file
    code, doc = cli_json("lint", "--ignore", "", "--fail-level", "error", "requests")
    assert findings(doc) == [("gpt.json", "AML302"), ("typo.json", "AML301")]
    code, doc = cli_json("lint", "--select", "AML302", "requests")
    assert findings(doc) == [("gpt.json", "AML302")]
    assert code == 1  # fail-level warning still comes from the file
    code, doc = cli_json("lint", "--no-config", "requests")
    assert findings(doc) == [("gpt.json", "AML302"), ("old.json", "AML301"),
                             ("typo.json", "AML301")]


def test_config_found_from_a_subdirectory_and_paths_relative_to_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = project(tmp_path, '[tool.aimlcat]\nexclude = ["requests/legacy/"]\n')
    monkeypatch.chdir(d)
    code, doc = cli_json("lint", ".")
    assert [Path(e["path"]).name for e in doc["files"]] == ["gpt.json", "typo.json"]
    code, doc = cli_json("lint", "--exclude", "typo.json", ".")  # flags replace the file's
    assert [Path(e["path"]).name for e in doc["files"]] == ["gpt.json", "old.json"]


def test_default_endpoint_from_config(tmp_path: Path) -> None:
    d = project(tmp_path, '[tool.aimlcat]\nendpoint = "/v1/messages"\n')
    (d / "claude.json").write_text(json.dumps(CLAUDE))
    code, doc = cli_json("lint", str(d / "claude.json"))
    assert doc["files"][0]["endpoint"] == "/v1/messages" and code == 0
    code, doc = cli_json("lint", "--no-config", str(d / "claude.json"))
    assert findings(doc) == [("claude.json", "AML202")]


def test_required_catalog_mismatch_exits_2(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import aimlcat

    project(tmp_path, '[tool.aimlcat]\nrequired-catalog = ">=2999.1"\n')
    code, out = cli("lint", "requests")
    assert code == 2 and out == ""
    err = capsys.readouterr().err
    assert "required-catalog is '>=2999.1'" in err
    assert aimlcat.load_catalog().version in err
    assert str(tmp_path / "pyproject.toml") in err
    version = aimlcat.load_catalog().version
    project(tmp_path, f'[tool.aimlcat]\nrequired-catalog = "=={version}"\n')
    code, _ = cli("lint", "requests")
    assert code == 1


def test_bad_config_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project(tmp_path, '[tool.aimlcat]\nfail_level = "warning"\n')
    code, _ = cli("lint", "requests")
    assert code == 2
    assert "did you mean `fail-level`?" in capsys.readouterr().err


def test_extra_catalogs_from_config(tmp_path: Path) -> None:
    d = project(tmp_path, '[tool.aimlcat]\nextra-catalogs = ["private-models"]\n')
    private = tmp_path / "private-models"
    private.mkdir()
    (private / "team.yaml").write_text(
        "developer: Example Labs\nkind: chat\nmodels:\n  example/team-chat:\n"
        "    endpoints:\n      - family: openai-chat\n")
    (d / "team.json").write_text(json.dumps({"model": "example/team-chat", "messages": HELLO,
                                             "max_tokens": 9}))
    code, doc = cli_json("lint", str(d / "team.json"))
    assert findings(doc) == [("team.json", "AML302")]
    assert doc["files"][0]["model"] == "example/team-chat"
    # and with worker processes: the merged catalog travels to them
    code, doc2 = cli_json("lint", "--jobs", "2", str(d / "team.json"), str(d / "gpt.json"))
    assert findings(doc2) == [("team.json", "AML302"), ("gpt.json", "AML302")]


def test_gitignore_is_respected_inside_a_work_tree(tmp_path: Path) -> None:
    d = project(tmp_path, "")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("legacy/\n")
    code, doc = cli_json("lint", str(d))
    assert [Path(e["path"]).name for e in doc["files"]] == ["gpt.json", "typo.json"]
    code, doc = cli_json("lint", "--no-respect-gitignore", str(d))
    assert len(doc["files"]) == 3


def test_force_exclude_for_named_files(tmp_path: Path) -> None:
    d = project(tmp_path, '[tool.aimlcat]\nexclude = ["legacy/"]\n')
    old = str(d / "legacy" / "old.json")
    code, doc = cli_json("lint", old)
    assert len(doc["files"]) == 1
    code, text = cli("lint", "--force-exclude", old)
    assert (code, text) == (0, "")  # everything named was excluded: nothing to do


# -- exit codes, jobs, formats, progress ------------------------------------------------------


def test_exit_zero_and_fail_levels(tmp_path: Path) -> None:
    f = tmp_path / "typo.json"
    f.write_text(json.dumps({"model": "gpt-4o", "messages": HELLO, "temperatur": 1}))
    assert cli("lint", str(f))[0] == 1
    assert cli("lint", "--exit-zero", str(f))[0] == 0
    w = tmp_path / "warn.json"
    w.write_text(json.dumps(GPT4O_MAX_TOKENS))
    assert cli("lint", str(w))[0] == 0
    assert cli("lint", "--fail-level", "warning", str(w))[0] == 1
    assert cli("lint", "--fail-level", "info", str(w))[0] == 1
    # unreadable input still exits 2 with --exit-zero
    assert cli("lint", "--exit-zero", str(tmp_path / "missing.json"))[0] == 2


def test_jobs_give_the_same_output(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    f = tmp_path / "batch.jsonl"
    f.write_text("\n".join(batch_line(i, GPT4O_MAX_TOKENS) for i in range(30)) + "\nnope\n")
    args = ["lint", str(examples), str(f), str(tmp_path / "missing.json")]
    one = cli(*args)
    two = cli(*args, "--jobs", "2")
    assert one == two
    assert one[0] == 2
    assert cli(*args, "--format", "json") == cli(*args, "--format", "json", "-j", "0")


def test_batches_give_what_one_file_at_a_time_gives(tmp_path: Path) -> None:
    from aimlcat._lint import LintContext, check_file, check_files, iter_lint
    from aimlcat._results import FileResult

    # check_files reads, parses and validates a batch a step at a time: every kind of
    # file, every way of failing, and standard input give what check_file gives.
    files = {
        "good.json": json.dumps({"model": "gpt-4o", "messages": HELLO}),
        "warn.json": json.dumps(GPT4O_MAX_TOKENS, indent=2),
        "env.json": json.dumps({"endpoint": "/v1/chat/completions", "body": {
            "model": "gpt-4o", "messages": HELLO, "temperatur": 1}}),
        "dup.json": '{"model": "gpt-4o", "messages": [], "model": "gpt-4o"}',
        "key.json": json.dumps({"model": "gpt-4o", "messages": HELLO, "api_key": "x"}),
        "broken.json": '{"model": "gpt-4o",\n  "messages": [}',
        "empty.json": "  \n",
        "list.json": "[1, 2]",
        "req.yaml": "model: gpt-4o\nmessages: []\nmax_tokens: 5  # aimlcat: ignore[AML302]\n",
        "bad.yaml": "model: [\n",
        "lines.jsonl": batch_line(1, GPT4O_MAX_TOKENS) + "\nnope\n",
        "big.json": json.dumps({"model": "gpt-4o", "messages": HELLO, "x": "y" * 70_000}),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "adir.json").mkdir()
    paths = [str(tmp_path / n) for n in sorted(files)]
    paths[3:3] = ["-", str(tmp_path / "missing.json"), str(tmp_path / "adir.json")]
    stdin = json.dumps({"model": "gpt-4o", "messages": HELLO, "temperatur": 1})
    for ctx in (LintContext(), LintContext(endpoint="/v1/chat/completions", max_bytes=60_000)):
        one = [check_file(p, ctx, stdin_text=stdin) for p in paths]
        assert check_files(paths, ctx, stdin_text=stdin) == one
        assert list(iter_lint(iter(paths), ctx, stdin_text=stdin)) == one
        assert all(isinstance(r, FileResult) for r in one)
    assert sum(r.error is not None for r in one) == 6  # the big file, over 60,000 bytes
    assert sum(bool(r.findings) for r in one) == 7


def test_several_formats_in_one_run(tmp_path: Path) -> None:
    f = tmp_path / "a.json"
    f.write_text(json.dumps(GPT4O_MAX_TOKENS))
    code, text = cli("lint", str(f), "--format", "sarif", "-o", str(tmp_path / "r.sarif"),
                     "--format", "junit", "-o", str(tmp_path / "r.xml"), "--format", "text")
    assert code == 0
    assert "AML302 warning" in text
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    assert (tmp_path / "r.xml").read_text().startswith("<?xml")


@pytest.mark.parametrize(("argv", "to_stdout", "to_file"), [
    # the -o belongs to the --format before it, wherever the stdout one stands
    (["--format", "github", "--format", "sarif", "-o", "r.out"], "::warning", '"version"'),
    (["--format", "sarif", "-o", "r.out", "--format", "github"], "::warning", '"version"'),
    (["--format", "text", "--format", "json", "-o", "r.out"], "AML302 warning", '"files"'),
    (["-o", "r.out", "--format", "json"], "", '"files"'),  # an -o waits for its format
])
def test_each_output_file_gets_the_format_before_it(tmp_path: Path, argv: list[str],
                                                    to_stdout: str, to_file: str) -> None:
    f = tmp_path / "a.json"
    f.write_text(json.dumps(GPT4O_MAX_TOKENS))
    argv = [str(tmp_path / a) if a == "r.out" else a for a in argv]
    code, text = cli("lint", str(f), *argv)
    assert code == 0
    assert to_stdout in text and (text == "") == (to_stdout == "")
    assert to_file in (tmp_path / "r.out").read_text()


def test_output_dash_is_standard_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """`-o -` wrote the report into a file named `-`."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.json").write_text(json.dumps(GPT4O_MAX_TOKENS))
    code, text = cli("lint", "a.json", "--format", "json", "-o", "-")
    assert code == 0 and json.loads(text)["summary"]["warnings"] == 1
    code, text = cli("lint", "a.json", "--format", "text", "-o", "-", "--format", "sarif",
                     "-o", "r.sarif")
    assert code == 0 and "AML302 warning" in text and (tmp_path / "r.sarif").is_file()
    code, text = cli("lint", "a.json", "--format", "json", "-o", "-", "--format", "text")
    assert (code, text) == (2, "")
    assert "several --format options write to standard output" in capsys.readouterr().err
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("argv", [
    ["--format", "json", "--format", "sarif", "-o", "r.sarif", "-o", "left.out"],
    ["-o", "r.txt", "-o", "left.out"],  # the default format takes the first alone
    ["-o", "r.json", "--format", "json", "-o", "left.out"],
])
def test_an_output_with_no_format_of_its_own_is_named(
        tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """The error said "more -o files than --format options" where there were as many."""
    f = tmp_path / "a.json"
    f.write_text(json.dumps(GPT4O_MAX_TOKENS))
    code, text = cli("lint", str(f), *[str(tmp_path / a) if "." in a else a for a in argv])
    assert (code, text) == (2, "")
    err = capsys.readouterr().err
    assert f"-o {tmp_path / 'left.out'} has no --format of its own" in err
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # nothing written


@pytest.mark.parametrize("argv", [
    ["--format", "json", "--format", "sarif"],  # two reports on standard output
    ["-o", "x.json"],  # an output without a format... (text is the default; one -o is fine)
    ["--fix", "--diff"],
])
def test_output_usage_errors(tmp_path: Path, argv: list[str],
                             capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "a.json"
    f.write_text(json.dumps(GPT4O_MAX_TOKENS))
    code, _ = cli("lint", str(f), *argv)
    if argv == ["-o", "x.json"]:
        assert code == 0 and (tmp_path / "x.json").read_text().endswith("1 warning. 1 fixable "
                                                                        "with `aimlcat lint "
                                                                        "--fix`.\n")
        return
    assert code == 2
    assert "aimlcat:" in capsys.readouterr().err


def test_github_format_chosen_automatically(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "a.json"
    f.write_text(json.dumps(GPT4O_MAX_TOKENS, indent=2))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    line, col = where(f.read_text(), '"max_tokens"')
    code, text = cli("lint", str(f))
    assert text.startswith(f"::warning file={f},line={line},col={col},endLine={line},"
                           f"endColumn={col + 12},title=AML302 deprecated-parameter::")
    code, text = cli("lint", "--format", "text", str(f))
    assert text.startswith(f"{f}:{line}:{col}:")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_on_a_terminal_unless_no_color(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "a.json"
    f.write_text(json.dumps(GPT4O_MAX_TOKENS))
    out = Tty()
    run(["lint", str(f)], out=out)
    assert "\x1b[1;33mAML302 warning:\x1b[0m" in out.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    out = Tty()
    run(["lint", str(f)], out=out)
    assert "\x1b[" not in out.getvalue()
    out = Tty()
    run(["lint", "--color", "always", str(f)], out=out)
    assert "\x1b[" in out.getvalue()
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[" not in cli("lint", str(f))[1]  # piped: no colour
    assert "\x1b[" not in cli("lint", "--color", "never", str(f))[1]


def test_progress_bar_only_on_a_terminal_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from aimlcat._lint import Progress

    monkeypatch.delenv("CI", raising=False)
    assert Progress(100, Tty()).enabled
    assert not Progress(100, io.StringIO()).enabled
    monkeypatch.setenv("CI", "true")
    assert not Progress(100, Tty()).enabled
    monkeypatch.delenv("CI")
    stream = Tty()
    bar = Progress(10, stream)
    bar._start -= 10  # as if the run had lasted a while: it draws
    for _ in range(10):
        bar.advance()
        bar._last = 0.0
    bar.close()
    shown = stream.getvalue()
    assert "10/10 files" in shown and shown.endswith("\r\x1b[K")
    assert re.search(r"\[#{30}\]", shown)
    quiet = Tty()
    bar = Progress(10, quiet)  # a short run stays quiet
    for _ in range(10):
        bar.advance()
    bar.close()
    assert quiet.getvalue() == ""


def test_stdin_reports_positions_too() -> None:
    code, text = cli("lint", "-", stdin=json.dumps(GPT4O_MAX_TOKENS))
    col = json.dumps(GPT4O_MAX_TOKENS).index('"max_tokens"') + 1
    assert text.startswith(f"<stdin>:1:{col}: AML302 warning:")


def test_a_batch_of_large_files_is_not_held_whole(tmp_path: Path) -> None:
    # Files are read a batch at a time, but the batch ends once its bytes pass a bound:
    # linting twelve 1.5 MB files needs about what one needs, not twelve times that.
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
                       "user": "x" * 1_500_000})
    one, many = tmp_path / "one", tmp_path / "many"
    one.mkdir()
    many.mkdir()
    (one / "a.json").write_text(body)
    for i in range(12):
        (many / f"{i:02d}.json").write_text(body)
    small, large = _lint_peak(one, "text"), _lint_peak(many, "text")
    assert large < 2 * small, f"peak {small:,} B for one file, {large:,} B for twelve"


def _lint_peak(files_dir: Path, fmt: str) -> int:
    import tracemalloc

    sink = io.StringIO()
    run(["lint", "--format", fmt, "--exit-zero", str(files_dir)], out=sink)  # warm the catalog
    tracemalloc.start()
    try:
        run(["lint", "--format", fmt, "--exit-zero", str(files_dir)], out=_NullWriter())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


class _NullWriter(io.StringIO):
    """An output that keeps nothing (the report's own size is not what is measured)."""

    def write(self, s: str) -> int:
        return len(s)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit"])
def test_memory_stays_flat_with_the_number_of_files(tmp_path: Path, fmt: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from aimlcat._reporters import JunitReporter

    # JUnit's header holds the counts, so its test cases wait in a spool that moves to a
    # temporary file past SPOOL_BYTES (1 MiB); a small one shows that it does.
    monkeypatch.setattr(JunitReporter, "SPOOL_BYTES", 32_000)
    # Results are reported as they come and the directory walk is lazy: linting four
    # times as many files (one in four with a finding) needs about the same memory.
    good = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    bad = json.dumps({"model": "gpt-4o", "messages": [], "temperatur": 1})
    peaks = []
    for n in (1_000, 4_000):
        d = tmp_path / str(n)
        for i in range(n):
            sub = d / f"{i // 500:03d}"
            if i % 500 == 0:
                sub.mkdir(parents=True)
            (sub / f"{i:05d}.json").write_text(bad if i % 4 == 0 else good)
        peaks.append(_lint_peak(d, fmt))
    small, large = peaks
    # Holding a result per file would add well over 100 bytes per file (3,000 more files:
    # 300 kB or more); streaming adds nothing that grows with the count.
    assert large < small + 150_000, f"{fmt}: peak {small:,} B for 1,000 files, {large:,} B for 4,000"


def _findings_log(path: Path, lines: int) -> Path:
    """A JSON Lines log with findings on every line: AML302 (a warning, fixable) and
    AML301 (an error) on alternate lines, and a line that is not JSON."""
    with path.open("w") as fh:
        for i in range(lines):
            body = {"model": "gpt-4o", "messages": HELLO,
                    **({"max_tokens": 64} if i % 2 else {"temperatur": 1})}
            fh.write(("{broken" if i == 7 else json.dumps(body)) + "\n")
    return path


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_memory_stays_flat_with_the_findings_of_one_log(tmp_path: Path, fmt: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from aimlcat._reporters import JunitReporter
    from aimlcat._results import FindingSpool

    # A log where every line has a finding: the findings of one file go to a spool
    # (small bounds here, to show it with few lines) and each report streams them.
    monkeypatch.setattr(FindingSpool, "HOLD", 100)
    monkeypatch.setattr(FindingSpool, "BLOCK", 50)
    monkeypatch.setattr(JunitReporter, "SPOOL_BYTES", 32_000)
    peaks = []
    for n in (1_000, 8_000):
        d = tmp_path / str(n)
        d.mkdir()
        _findings_log(d / "log.jsonl", n)
        peaks.append(_lint_peak(d, fmt))
    small, large = peaks
    # Holding the findings adds about 600 bytes per line (7,000 more: over 4 MB); the
    # spool adds little, and the rest is when the collector frees the cycles json's
    # indenting encoder leaves per call (a few hundred kB either way).
    assert large < small + 1_500_000, f"{fmt}: peak {small:,} B for 1,000 lines, {large:,} B for 8,000"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_spooled_log_reports_as_one_held_whole(tmp_path: Path, fmt: str, jobs: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from aimlcat._results import FindingSpool

    log = _findings_log(tmp_path / "log.jsonl", 60)
    (tmp_path / "other.json").write_text(json.dumps(GPT4O_MAX_TOKENS))
    argv = ["lint", "--format", fmt, "-j", jobs, str(log), str(tmp_path / "other.json")]
    whole, whole_strict = cli(*argv), cli(*argv, "--strict")
    spools = tmp_path / "spools"
    spools.mkdir()
    monkeypatch.setenv("TMPDIR", str(spools))  # worker processes too
    monkeypatch.setattr(tempfile, "tempdir", str(spools))
    monkeypatch.setattr(FindingSpool, "HOLD", 5)
    monkeypatch.setattr(FindingSpool, "BLOCK", 3)
    # Byte for byte what the findings held in memory give; warnings below the fail level
    # (JUnit's system-out) and the counts of the summary included.
    assert cli(*argv) == whole
    assert cli(*argv, "--strict") == whole_strict
    # ... and the spool's temporary files are gone once the results are reported.
    assert [p.name for p in spools.iterdir() if p.name.startswith("aimlcat-findings-")] == []


def test_a_finding_spool_pickles_into_its_receiver(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import pickle

    from aimlcat._findings import Finding
    from aimlcat._results import FindingSpool, Located

    monkeypatch.setattr(FindingSpool, "HOLD", 2)
    monkeypatch.setattr(FindingSpool, "BLOCK", 2)
    spool = FindingSpool()
    made = [Located(Finding("AML301", "error", "/x", f"n{i}")) for i in range(7)]
    spool.extend(made)
    path = spool._path
    assert path is not None and Path(path).exists()
    assert list(spool) == made == list(spool)  # read back in order, as often as asked
    got = pickle.loads(pickle.dumps(spool))  # what a worker process hands its parent
    del spool
    gc.collect()
    assert Path(path).exists()  # handed over, not deleted by the sender
    assert list(got) == made and len(got) == 7 and got.by_severity["error"] == 7
    del got
    gc.collect()
    assert not Path(path).exists()


@pytest.mark.parametrize(("doc", "expected"), [
    # a body and no model: an envelope that names no endpoint (--endpoint decides)
    ({"custom_id": "a", "body": {"model": "gpt-4o", "messages": HELLO}}, []),
    # null is "not named": the url decides
    ({"endpoint": None, "url": "/v1/chat/completions",
      "body": {"model": "gpt-4o", "messages": HELLO}}, []),
    ({"endpoint": 42, "body": {"model": "gpt-4o", "messages": HELLO}},
     [("AML204", "/endpoint", "the envelope's `endpoint` is 42, not an endpoint path or URL")]),
    ({"endpoint": "/v1/chat/completions", "body": [1, 2]},
     [("AML001", "/body", "the request body is an array, not a JSON object")]),
    ({"endpoint": "/v1/chat/completions", "url": "https://api.aimlapi.com/v1/embeddings",
      "body": {"model": "gpt-4o", "messages": HELLO}},
     [("AML204", "/url", "the envelope's `url` names /v1/embeddings but its `endpoint` names "
                         "/v1/chat/completions; the body is checked against `endpoint`")]),
    # the same endpoint spelled two ways agrees
    ({"endpoint": "/chat/completions", "url": "https://api.aimlapi.com/v1/chat/completions",
      "body": {"model": "gpt-4o", "messages": HELLO}}, []),
    # a fragment is never sent, like a query it names no other endpoint
    ({"endpoint": "/v1/chat/completions#retry-2", "url": "/v1/chat/completions?trace=1",
      "body": {"model": "gpt-4o", "messages": HELLO}}, []),
    ({"url": "https://api.aimlapi.com/v1/embeddings#x",
      "body": {"model": "gpt-4o", "messages": HELLO}},
     [("AML201", "/url", "gpt-4o is not served on /v1/embeddings")]),
    # a URL whose host urlsplit cannot read: AML204 at its key, not a traceback
    ({"url": "https://[::1/v1/chat/completions",
      "body": {"model": "gpt-4o", "messages": HELLO}},
     [("AML204", "/url", "`https://[::1/v1/chat/completions` is not an endpoint of the gateway")]),
])
@pytest.mark.parametrize("kind", ["json", "jsonl"])
def test_envelopes_read_as_envelopes(tmp_path: Path, doc: dict[str, Any],
                                     expected: list[tuple[str, str, str]], kind: str) -> None:
    # Never "1:1 AML101 the body names no model" for an envelope: what is wrong with it is
    # said where it stands, and --endpoint serves an envelope that names none.
    f = tmp_path / f"req.{kind}"
    f.write_text(json.dumps(doc) + "\n")
    _, report = cli_json("lint", str(f), "--endpoint", "/v1/chat/completions")
    got = [(x["code"], x["pointer"], x["message"]) for x in report["files"][0]["findings"]]
    assert got == expected


def test_a_number_past_the_largest_double_in_a_file_is_named_as_it_reads(
        tmp_path: Path) -> None:
    """`1e400` is valid JSON text whose value no double holds: Python's json reads it as
    inf (orjson refuses it, and lint falls back to the standard parser). The finding's
    text must hold for a file, where nothing refused to send anything: it names the
    number a file spells, and what readers make of it."""
    files = {
        "big.json": '{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],\n'
                    ' "temperature": 1e400}\n',
        "bias.json": '{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],\n'
                     ' "logit_bias": {"50256": -1e400}}\n',
        "inf.yaml": "model: gpt-4o\nmessages:\n- {role: user, content: hi}\ntemperature: .inf\n",
        "log.jsonl": json.dumps({"model": "gpt-4o", "messages": HELLO}) + "\n"
                     + '{"model": "gpt-4o", "messages": [], "temperature": 1e400}\n',
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    code, doc = cli_json("lint", *files)
    assert code == 1
    got = {f["path"]: [(x["code"], x["pointer"], x["line"], x["column"], x["message"])
                       for x in f["findings"]] for f in doc["files"]}
    inf = ("`temperature` is inf, which JSON has no number for (a number past ±1.8e308, "
           "such as 1e400, reads as inf)")
    assert got == {
        "big.json": [("AML401", "/temperature", *where(files["big.json"], "1e400"), inf)],
        "bias.json": [("AML401", "/logit_bias/50256", *where(files["bias.json"], "-1e400"),
                       "`/logit_bias/50256` is -inf, which JSON has no number for (a number "
                       "past ±1.8e308, such as -1e400, reads as -inf)")],
        "inf.yaml": [("AML401", "/temperature", *where(files["inf.yaml"], ".inf"), inf)],
        "log.jsonl": [("AML401", "/temperature", *where(files["log.jsonl"], "1e400"), inf)],
    }
    hint = doc["files"][0]["findings"][0]["hint"]
    assert ("Written as 1e400 in JSON text (a file, a log line), Python's json and "
            "JavaScript's JSON.parse read it as an infinity and orjson refuses it. "
            "Send a finite number.") in hint
    # what the hint says of readers of the text
    assert json.loads(files["big.json"])["temperature"] == math.inf
    with pytest.raises(orjson.JSONDecodeError, match="infinity"):
        orjson.loads(files["big.json"])
    node = shutil.which("node")
    if node is not None:  # JavaScript's reading, where a JavaScript runtime is at hand
        out = subprocess.run([node, "-e", "process.stdout.write(String(JSON.parse("
                              "require('fs').readFileSync(0, 'utf8')).temperature))"],
                             input=files["big.json"], capture_output=True, text=True,
                             check=True, timeout=60)
        assert out.stdout == "Infinity"


def test_unreadable_json_says_line_and_column(tmp_path: Path) -> None:
    # A NaN literal and a byte that is not UTF-8 are placed like any other error.
    (tmp_path / "nan.json").write_text('{"model": "gpt-4o",\n  "temperature": -Infinity}')
    (tmp_path / "latin1.json").write_bytes(b'{"model": "gpt-4o",\n  "x": "caf\xe9"}')
    _, text = cli("lint", "nan.json", "latin1.json")
    assert "latin1.json:2:12: not UTF-8 text (byte 31)" in text
    assert "nan.json:2:18: invalid JSON: -Infinity is not valid JSON" in text
    log = tmp_path / "log.jsonl"
    log.write_text('{"model": "gpt-4o", "messages": [], "n": "x"}\n{"model": NaN}\n')
    _, doc = cli_json("lint", str(log))
    bad = [(f["line"], f["column"]) for f in doc["files"][0]["findings"] if f["code"] == "AML003"]
    assert bad == [(2, 11)]


def test_yaml_reads_like_json(tmp_path: Path) -> None:
    # A repeated key is AML002 at the repeat (JSON's finding, not an unreadable file);
    # a finding about a value points at the value; a raw U+2028 inside a quoted string
    # (a line break to YAML, not to an editor) moves no later line.
    f = tmp_path / "req.yaml"
    f.write_text("model: gpt-4o\nmessages: []\nstop: \"a\u2028b\"\ntemperature: 7\n"
                 "model: gpt-4o\nn: 'x'\n", encoding="utf-8")
    code, doc = cli_json("lint", str(f))
    assert code == 1
    got = [(x["code"], x["pointer"], x["line"], x["column"], x.get("end_column"))
           for x in doc["files"][0]["findings"]]
    assert sorted(got) == [("AML002", "/model", 5, 1, 6),
                           ("AML401", "/n", 6, 4, 7),
                           ("AML402", "/temperature", 4, 14, 15)]
    dup = tmp_path / "catalog-like.yaml"  # the catalog's own YAML still refuses repeats
    dup.write_text("a: 1\na: 2\n")
    from aimlcat._yamlio import YamlError, load_yaml

    with pytest.raises(YamlError, match="duplicate key 'a'"):
        load_yaml(dup.read_text())


def _applies(patch: str, where: Path) -> None:
    """``git apply --check`` (or ``patch --dry-run``) of ``patch`` in ``where``: the tools
    that read --diff's output must take it."""
    import shutil
    import subprocess

    if shutil.which("git"):
        argv = ["git", "apply", "--check", "-"]
    elif shutil.which("patch"):
        argv = ["patch", "-p1", "--dry-run", "--batch"]
    else:
        pytest.skip("neither git nor patch is installed")
    proc = subprocess.run(argv, input=patch.encode("utf-8", "surrogateescape"), cwd=where,
                          capture_output=True, check=False)
    assert proc.returncode == 0, (proc.stderr.decode(errors="replace"), patch)


@pytest.mark.parametrize("case", ["bom", "u2028-no-final-newline", "jsonl-bom-crlf-no-final",
                                  "jsonl-spaced", "absolute-below", "absolute-outside"])
def test_diff_is_a_patch_git_applies(tmp_path: Path, case: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    body = json.dumps(GPT4O_MAX_TOKENS, indent=2)
    if case == "bom":
        f = work / "req.json"
        f.write_bytes(b"\xef\xbb\xbf" + body.encode() + b"\n")
    elif case == "u2028-no-final-newline":
        f = work / "req.json"
        doc = {**GPT4O_MAX_TOKENS, "messages": [{"role": "user", "content": "a\u2028b"}]}
        f.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    elif case == "jsonl-bom-crlf-no-final":
        f = work / "log.jsonl"
        f.write_bytes(b"\xef\xbb\xbf" + json.dumps(GPT4O_MAX_TOKENS).encode() + b"\r\n"
                      + json.dumps(GPT4O_MAX_TOKENS).encode())
    elif case == "jsonl-spaced":  # hunks with context, joined when changes are close
        f = work / "log.jsonl"
        clean = json.dumps({"model": "gpt-4o", "messages": HELLO})
        f.write_text("".join((json.dumps(GPT4O_MAX_TOKENS) if n in (2, 9, 15, 16, 30)
                              else clean) + "\n" for n in range(1, 31)))
    else:
        sub = work if case == "absolute-below" else tmp_path / "elsewhere"
        sub.mkdir(exist_ok=True)
        f = sub / "req.json"
        f.write_text(body + "\n")
    code, patch = cli("lint", "--diff", str(f.resolve()))
    assert code == 1 and patch.startswith("--- a/") and "--- a//" not in patch
    # A file outside the working directory is named from the root: apply it there.
    _applies(patch, work if case != "absolute-outside" else Path(f.anchor))
    before = f.read_bytes()
    cli("lint", "--fix", str(f))
    fixed = f.read_bytes()
    if case != "absolute-outside" and __import__("shutil").which("git"):
        import subprocess

        f.write_bytes(before)
        subprocess.run(["git", "apply", "-"], input=patch.encode(), cwd=work, check=True)
        assert f.read_bytes() == fixed  # the patch makes exactly what --fix writes
