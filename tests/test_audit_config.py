"""`aimlcat audit` reads `[tool.aimlcat]` as `aimlcat lint` does: the same file, found the
same way, the same precedence (flags over the file over the defaults), and a team's private
models (`extra-catalogs`) known in every engine: in this process, in a process pool, and on
Dask worker processes. Real configuration files and real logs in temporary directories."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import pytest

from aimlcat._audit import AuditContext, catalog_digest
from aimlcat._cli import run
from aimlcat._config import Config, compile_merged, effective

HELLO = [{"role": "user", "content": "hi"}]
CHAT = "/v1/chat/completions"
PRIVATE = (Path(__file__).parent / "fixtures" / "private" / "team-chat.yaml").read_text()
#: One line each: a private model (AML102 unless the extra catalog is read), a deprecated
#: parameter (AML302, a warning), an unknown parameter (AML301, an error).
LINES = [
    {"model": "example/team-chat", "messages": HELLO},
    {"model": "gpt-4o", "messages": HELLO, "max_tokens": 5},
    {"model": "gpt-4o", "messages": HELLO, "temperatur": 1},
]


def write_log(path: Path, lines: list[dict[str, Any]] = LINES) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def project(tmp_path: Path, config: str, name: str = "pyproject.toml") -> Path:
    """A team's repository: its configuration, its private models, its logs."""
    (tmp_path / name).write_text(config)
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "chat.yaml").write_text(PRIVATE)
    write_log(tmp_path / "logs" / "day1.jsonl")
    return tmp_path


def cli(*argv: str, cwd: Path) -> tuple[int, str, list[str]]:
    """``aimlcat audit`` in-process from ``cwd``: (exit code, stdout, stderr lines)."""
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with redirect_stderr(err):
            code = run(["audit", "--no-progress", *argv], out=out)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue().splitlines()


def codes(stdout: str) -> list[tuple[str, str | None]]:
    doc = json.loads(stdout)
    return sorted((f["code"], f["model"]) for f in doc["findings"])


def audit_json(*argv: str, cwd: Path) -> tuple[int, list[tuple[str, str | None]]]:
    code, out, err = cli(*argv, "--format", "json", "-j", "1", cwd=cwd)
    assert code in (0, 1), err
    return code, codes(out)


ALL = [("AML102", "example/team-chat"), ("AML301", "gpt-4o"), ("AML302", "gpt-4o")]


# -- select, ignore, fail-level, endpoint, max-bytes from the file ----------------------------

def test_without_a_file_everything_is_reported(tmp_path: Path) -> None:
    write_log(tmp_path / "logs" / "day1.jsonl")
    assert audit_json("logs", cwd=tmp_path) == (1, ALL)


def test_select_and_ignore_come_from_pyproject(tmp_path: Path) -> None:
    project(tmp_path, '[tool.aimlcat]\nignore = ["AML102", "AML302"]\n')
    assert audit_json("logs", cwd=tmp_path) == (1, [("AML301", "gpt-4o")])
    (tmp_path / "pyproject.toml").write_text('[tool.aimlcat]\nselect = ["AML302"]\n')
    # only a warning is left: below the default fail level
    assert audit_json("logs", cwd=tmp_path) == (0, [("AML302", "gpt-4o")])


def test_found_upward_from_a_subdirectory_and_aimlcat_toml_first(tmp_path: Path) -> None:
    project(tmp_path, '[tool.aimlcat]\nselect = ["AML302"]\n')
    (tmp_path / "logs" / ".aimlcat.toml").write_text('select = ["AML301"]\n')
    assert audit_json("day1.jsonl", cwd=tmp_path / "logs") == (1, [("AML301", "gpt-4o")])
    assert audit_json("logs", cwd=tmp_path) == (0, [("AML302", "gpt-4o")])


def test_flags_override_the_file_as_in_lint(tmp_path: Path) -> None:
    project(tmp_path, '[tool.aimlcat]\nselect = ["AML3"]\nignore = ["AML302"]\n'
                      'fail-level = "warning"\n')
    assert audit_json("logs", cwd=tmp_path) == (1, [("AML301", "gpt-4o")])
    # --select starts afresh: the file's ignore goes with its select (like ruff)
    assert audit_json("logs", "--select", "AML30", cwd=tmp_path) == (
        1, [("AML301", "gpt-4o"), ("AML302", "gpt-4o")])
    # --ignore alone replaces the file's ignore, the file's select stays
    assert audit_json("logs", "--ignore", "AML301", cwd=tmp_path) == (
        1, [("AML302", "gpt-4o")])  # 1: the file's fail-level is warning
    # --fail-level beats the file's
    assert audit_json("logs", "--ignore", "AML301", "--fail-level", "error",
                      cwd=tmp_path) == (0, [("AML302", "gpt-4o")])


def test_fail_level_from_the_file(tmp_path: Path) -> None:
    project(tmp_path, '[tool.aimlcat]\nselect = ["AML302"]\nfail-level = "warning"\n')
    assert audit_json("logs", cwd=tmp_path) == (1, [("AML302", "gpt-4o")])
    assert audit_json("logs", "--exit-zero", cwd=tmp_path)[0] == 0


def test_no_config_and_config_path(tmp_path: Path) -> None:
    project(tmp_path, '[tool.aimlcat]\nignore = ["AML3"]\n')
    assert audit_json("logs", cwd=tmp_path) == (1, [("AML102", "example/team-chat")])
    assert audit_json("logs", "--no-config", cwd=tmp_path) == (1, ALL)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "team.toml").write_text('select = ["AML301"]\n')
    # --config names the file: the one that would be found is not read
    assert audit_json("logs", "--config", str(elsewhere / "team.toml"), cwd=tmp_path) == (
        1, [("AML301", "gpt-4o")])


def test_endpoint_and_max_bytes_from_the_file(tmp_path: Path) -> None:
    big = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 2000}]}
    write_log(tmp_path / "logs" / "day1.jsonl", [{"model": "gpt-4o", "messages": HELLO}, big])
    (tmp_path / ".aimlcat.toml").write_text('endpoint = "/v1/images/generations"\n'
                                            "max-bytes = 1000\n")
    code, found = audit_json("logs", cwd=tmp_path)
    # the wrong endpoint for both lines; the long line is too long to read
    assert found == [("AML003", None), ("AML201", "gpt-4o")], found
    code, found = audit_json("logs", "--endpoint", CHAT, "--max-bytes", "100000", cwd=tmp_path)
    assert (code, found) == (0, [])


def test_keys_about_repository_files_do_not_apply_to_logs(tmp_path: Path) -> None:
    """`exclude`, `respect-gitignore` and `per-file-ignores` are about payload files in a
    repository; logs are audited as named whatever they say (docs/audit.md says why)."""
    project(tmp_path, '[tool.aimlcat]\nexclude = ["logs/"]\nrespect-gitignore = true\n'
                      '[tool.aimlcat.per-file-ignores]\n"logs/**" = ["AML1", "AML3"]\n')
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("logs/\n")
    assert audit_json("logs", cwd=tmp_path) == (1, ALL)


def test_lint_and_audit_settle_the_same_settings(tmp_path: Path) -> None:
    """The same file and flags give lint and audit the same findings on the same bodies."""
    project(tmp_path, '[tool.aimlcat]\nselect = ["AML1", "AML3"]\nignore = ["AML301"]\n'
                      'extra-catalogs = ["private"]\n')
    payloads = tmp_path / "payloads"
    payloads.mkdir()
    for i, body in enumerate(LINES):
        (payloads / f"p{i}.json").write_text(json.dumps(body))
    for flags in ((), ("--select", "AML3"), ("--ignore", "AML302"), ("--no-config",)):
        out = io.StringIO()
        old = os.getcwd()
        os.chdir(tmp_path)
        try:
            run(["lint", "payloads", "--format", "json", "--no-progress", *flags], out=out)
        finally:
            os.chdir(old)
        linted = sorted(f["code"] for r in json.loads(out.getvalue())["files"]
                        for f in r["findings"])
        assert [c for c, _ in audit_json("logs", *flags, cwd=tmp_path)[1]] == linted, flags


def test_effective_flags_over_file_over_defaults() -> None:
    assert effective(Config()).select == ("AML",)
    cfg = Config(select=("AML3",), ignore=("AML302",), fail_level="warning",
                 endpoint=CHAT, max_bytes=10)
    e = effective(cfg)
    assert (e.select, e.ignore, e.fail_level, e.endpoint, e.max_bytes) == (
        ("AML3",), ("AML302",), "warning", CHAT, 10)
    e = effective(cfg, select="aml1", fail_level="info", endpoint="/v1/embeddings",
                  max_bytes=99)
    assert (e.select, e.ignore, e.fail_level, e.endpoint, e.max_bytes) == (
        ("AML1",), (), "info", "/v1/embeddings", 99)
    assert effective(cfg, ignore="AML301").ignore == ("AML301",)
    assert effective(Config(), strict=True).fail_level == "warning"
    assert effective(cfg, strict=True).fail_level == "warning"  # --strict over the file


# -- extra-catalogs in every engine -----------------------------------------------------------

CONFIG = '[tool.aimlcat]\nextra-catalogs = ["private"]\nselect = ["AML1", "AML302"]\n'


def test_private_models_known_in_this_process(tmp_path: Path) -> None:
    project(tmp_path, CONFIG)
    code, out, err = cli("logs", "--format", "json", "-j", "1", cwd=tmp_path)
    assert code == 0, err  # the warning only: the private model is known (no AML102)
    assert codes(out) == [("AML302", "gpt-4o")]
    assert json.loads(out)["totals"]["requests"] == 3


def test_private_models_known_in_a_process_pool(tmp_path: Path) -> None:
    project(tmp_path, CONFIG)
    for day in range(2, 5):  # several chunks, so that -j 2 starts two worker processes
        write_log(tmp_path / "logs" / f"day{day}.jsonl")
    code, out, err = cli("logs", "--format", "json", "-j", "2", "--blocksize", "100",
                         cwd=tmp_path)
    assert code == 0, err
    doc = json.loads(out)
    assert codes(out) == [("AML302", "gpt-4o")]
    assert doc["totals"]["requests"] == 12
    assert doc["by_model"] == [{"model": "gpt-4o", "flagged": 4, "requests": 8, "count": 4}]


def test_private_models_known_on_dask_worker_processes(tmp_path: Path) -> None:
    """A LocalCluster of worker processes (not threads in this process): the compiled
    catalog has to reach them."""
    pytest.importorskip("distributed")
    project(tmp_path, CONFIG)
    write_log(tmp_path / "logs" / "day2.jsonl")
    env = {k: v for k, v in os.environ.items() if k != "AIMLCAT_SCHEMAS"}
    argv = [sys.executable, "-m", "aimlcat", "audit", "logs", "--format", "json",
            "--no-progress", "-j", "2"]
    dask = subprocess.run([*argv, "--engine", "dask", "--findings-out", "rows.jsonl"],
                          check=False, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=180)
    assert dask.returncode == 0, dask.stderr
    local = subprocess.run(argv, check=False, cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=180)
    assert json.loads(dask.stdout) == json.loads(local.stdout)
    assert codes(dask.stdout) == [("AML302", "gpt-4o")]
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert {r["code"] for r in rows} == {"AML302"}
    # and without the file, the same cluster set-up reports the private model as unknown
    bare = subprocess.run([*argv, "--engine", "dask", "--no-config"], check=False,
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert bare.returncode == 1
    assert ("AML102", "example/team-chat") in codes(bare.stdout)


def test_the_context_stays_small_and_names_the_catalog(tmp_path: Path) -> None:
    """The compiled catalog (about 4 MB) travels once per worker, never in the context
    that goes with every task."""
    (tmp_path / "chat.yaml").write_text(PRIVATE)
    files = compile_merged([str(tmp_path)])
    assert len(pickle.dumps(files)) > 1_000_000
    ctx = AuditContext(catalog=catalog_digest(files))
    assert len(pickle.dumps(ctx)) < 1_000
    other = dict(files, **{"index.json": files["index.json"] + " "})
    assert catalog_digest(other) != ctx.catalog == catalog_digest(dict(files))


# -- a bad configuration ----------------------------------------------------------------------

@pytest.mark.parametrize(("config", "message"), [
    ('[tool.aimlcat]\nselcet = ["AML3"]\n', "unknown key `selcet`; did you mean `select`?"),
    ('[tool.aimlcat]\nfail-level = "fatal"\n', "'fatal' is not one of error, warning, info"),
    ('[tool.aimlcat]\nextra-catalogs = ["nowhere"]\n', "'nowhere' is not a directory"),
    ('[tool.aimlcat]\nrequired-catalog = ">=2999.1"\n', "required-catalog is '>=2999.1'"),
    ('[tool.aimlcat\n', "invalid TOML"),
])
def test_a_bad_configuration_is_one_error(tmp_path: Path, config: str, message: str) -> None:
    project(tmp_path, config)
    code, out, err = cli("logs", cwd=tmp_path)
    assert code == 2
    assert out == ""
    assert len(err) == 1, err
    assert message in err[0] and "pyproject.toml" in err[0]
    assert "Traceback" not in "\n".join(err)


def test_a_broken_private_catalog_is_one_error_naming_its_file(tmp_path: Path) -> None:
    project(tmp_path, '[tool.aimlcat]\nextra-catalogs = ["private"]\n')
    (tmp_path / "private" / "chat.yaml").write_text(PRIVATE.replace("openai-chat",
                                                                    "openai-chatt"))
    code, out, err = cli("logs", cwd=tmp_path)
    assert (code, out) == (2, "")
    assert len(err) == 1, err
    assert str(tmp_path / "private" / "chat.yaml") in err[0] and "openai-chatt" in err[0]


def test_a_missing_config_path_is_one_error(tmp_path: Path) -> None:
    write_log(tmp_path / "logs" / "day1.jsonl")
    code, out, err = cli("logs", "--config", "nope.toml", cwd=tmp_path)
    assert (code, out) == (2, "")
    assert err == ["aimlcat: nope.toml: cannot read: No such file or directory"]
