"""The pre-commit hook: its manifest, its entry on the files pre-commit would pass, and a real
``pre-commit try-repo`` run on a temporary git repository.

pre-commit installs a ``language: python`` hook by ``pip install``-ing this
repository into a fresh virtualenv. To keep that off the network, the run here
lets the virtualenv see the packages already installed (aimlcat's dependencies)
and points pip at the machine's local package indexes (``file://`` URLs from its
pip configuration) for the one build requirement, hatchling. Where pip has no
local index, the default configuration is used, and the test is skipped (with
the reason) if the package index cannot be reached.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from aimlcat._discover import DEFAULT_SUFFIXES

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / ".pre-commit-hooks.yaml"

BAD = '{"model": "gpt-4o", "messages": [], "max_tokens": 5, "temperatur": 1}\n'
GOOD = "model: flux/dev\nprompt: a fox at dusk\n"
BATCH = ('{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", '
         '"body": {"model": "gpt-4o", "messages": []}}\n')


def hook() -> dict[str, Any]:
    (only,) = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(only, dict)
    return only


def test_manifest_is_valid_and_covers_the_default_globs() -> None:
    h = hook()
    assert h["id"] == "aimlcat" and h["language"] == "python"
    assert h["entry"].split()[:2] == ["aimlcat", "lint"]
    assert "--force-exclude" in h["entry"]
    files = re.compile(h["files"])
    for suffix in DEFAULT_SUFFIXES:  # JSON, YAML and JSON Lines, as a directory walk finds
        assert files.search(f"requests/x{suffix}"), suffix
    for other in ("notes.txt", "x.json.bak", "Makefile"):
        assert not files.search(other)
    clientlib = pytest.importorskip("pre_commit.clientlib")
    clientlib.load_manifest(str(MANIFEST))  # pre-commit's own schema check


def git_repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "project"
    (repo / "requests" / "drafts").mkdir(parents=True)
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path)}
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    (repo / "requests" / "bad.json").write_text(BAD)
    (repo / "requests" / "good.yaml").write_text(GOOD)
    (repo / "requests" / "batch.jsonl").write_text(BATCH)
    (repo / "requests" / "drafts" / "wip.json").write_text("{not json yet")
    (repo / "notes.txt").write_text("not a request\n")
    (repo / "pyproject.toml").write_text('[tool.aimlcat]\nexclude = ["drafts/"]\n')
    subprocess.run(["git", "add", "."], cwd=repo, check=True, env=env)
    return repo


def staged(repo: Path) -> list[str]:
    """The files pre-commit passes the hook: tracked, and matching its `files` pattern."""
    names = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True,
                           check=True).stdout.split()
    return sorted(n for n in names if re.search(hook()["files"], n))


def test_hook_entry_on_the_files_pre_commit_passes(tmp_path: Path) -> None:
    repo = git_repo(tmp_path)
    files = staged(repo)
    assert files == ["requests/bad.json", "requests/batch.jsonl", "requests/drafts/wip.json",
                     "requests/good.yaml"]  # not pyproject.toml, not notes.txt
    entry = hook()["entry"].split()
    env = {k: v for k, v in os.environ.items() if k != "AIMLCAT_SCHEMAS"}
    proc = subprocess.run([sys.executable, "-m", "aimlcat", *entry[1:], *files], cwd=repo,
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "requests/bad.json:1:54: AML301 error:" in proc.stdout
    assert "wip.json" not in proc.stdout  # excluded by the project's configuration
    assert "3 files checked: 1 error, 1 warning." in proc.stdout
    # only excluded files named: nothing to check is a pass
    proc = subprocess.run([sys.executable, "-m", "aimlcat", *entry[1:],
                           "requests/drafts/wip.json"], cwd=repo, capture_output=True,
                          text=True, env=env, timeout=120)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr


def _local_indexes() -> list[str]:
    """``file://`` package indexes in pip's configuration (a machine's offline mirror)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                          text=True, check=False, timeout=60)
    urls: list[str] = []
    for line in proc.stdout.splitlines():
        if "index-url" in line.split("=", 1)[0]:
            value = line.split("=", 1)[1].strip().strip("'\"")
            urls += [u for u in value.split() if u.startswith("file://")]
    return [u for u in urls if Path(u[len("file://"):]).is_dir()]


_NO_INDEX = ("No matching distribution", "Could not find a version", "NewConnectionError",
             "Failed to establish a new connection", "Temporary failure in name resolution")


@pytest.mark.slow
def test_pre_commit_try_repo(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    repo = git_repo(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "AIMLCAT_SCHEMAS"}
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), HOME=str(tmp_path),
               GIT_CONFIG_NOSYSTEM="1", VIRTUALENV_SYSTEM_SITE_PACKAGES="true",
               VIRTUALENV_NO_PERIODIC_UPDATE="1", PIP_NO_CACHE_DIR="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    local = _local_indexes()
    if local:  # no network at all: the local indexes only
        env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=local[0],
                   PIP_EXTRA_INDEX_URL=" ".join(local[1:]))
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(REPO),
                           "aimlcat", "--files", *staged(repo)], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    log = tmp_path / "pre-commit-home" / "pre-commit.log"
    details = log.read_text(errors="replace") if log.exists() else ""
    if proc.returncode not in (0, 1) and any(s in out + details for s in _NO_INDEX):
        pytest.skip("installing the hook's environment needs a package index that cannot be "
                    "reached here")
    assert proc.returncode == 1, out + details
    assert "aimlcat lint" in out and "Failed" in out
    assert "requests/bad.json:1:54: AML301 error:" in out
    assert "wip.json" not in out.split("Using config:")[-1].split("aimlcat lint")[-1]
