"""``aimlcat lint`` as a CI job meets it: reports written safely, odd files and odd
YAML reported per file, names and texts that must not upset the output. Real files
under ``tmp_path``; the end-to-end cases run ``python -m aimlcat`` for real."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aimlcat._cli import run

CLEAN = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}],
         "max_completion_tokens": 64}
DEPRECATED = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}],
              "max_tokens": 64}


@pytest.fixture(autouse=True)
def _bundled_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIMLCAT_SCHEMAS", raising=False)


def write(path: Path, data: Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2),
                    encoding="utf-8")
    return str(path)


def cli(*argv: str, stdin: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = run(list(argv), out=out, stdin=io.StringIO(stdin or ""))
    return code, out.getvalue()


def run_module(*argv: str, cwd: Path, stdin: str | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AIMLCAT_SCHEMAS"}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run([sys.executable, "-m", "aimlcat", *argv], check=False, cwd=cwd, env=env,
                          input=stdin, capture_output=True, text=True, encoding="utf-8",
                          timeout=timeout)


# -- YAML with no JSON form -------------------------------------------------------------

NOT_JSON_YAML = {
    "binary.yaml": ("model: gpt-4o\nstop: !!binary aGk=\n", "2:7", "`!!binary` has no JSON form"),
    "set.yaml": ("model: gpt-4o\nstop: !!set {a, b}\n", "2:7", "`!!set` has no JSON form"),
    "key.yaml": ("model: gpt-4o\n? [a, b]\n: c\n", "2:3", "mapping keys must be strings"),
    "deep.yaml": ("model: gpt-4o\ntools: " + "[" * 500 + "]" * 500 + "\n", "2:",
                  "more than 200 levels deep"),
}


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_yaml_without_a_json_form_is_one_error_per_file(tmp_path: Path, jobs: str) -> None:
    for name, (text, _, _) in NOT_JSON_YAML.items():
        write(tmp_path / "req" / name, text)
    write(tmp_path / "req" / "z.json", DEPRECATED)  # after them: still checked
    proc = run_module("lint", "req", "-j", jobs, "--format", "json", "-o", "report.json",
                      "--format", "text", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for name, (_, where, what) in NOT_JSON_YAML.items():
        line = next(x for x in proc.stdout.splitlines() if x.startswith(f"req/{name}:"))
        assert line.startswith(f"req/{name}:{where}") and "invalid YAML" in line and what in line
    assert "req/z.json:" in proc.stdout and "AML302" in proc.stdout
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["summary"]["unreadable"] == 4 and len(doc["files"]) == 5


def test_yaml_without_a_json_form_on_stdin() -> None:
    code, out = cli("lint", "-", stdin="model: gpt-4o\nstop: !!binary aGk=\n")
    assert code == 2
    assert out.startswith("<stdin>:2:7: invalid YAML: `!!binary` has no JSON form")
