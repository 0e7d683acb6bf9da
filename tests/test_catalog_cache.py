"""The cache of merged catalogs (`extra-catalogs`): compiled once, then read back.

Real configuration files, private catalogs and cache directories in temporary
directories. Whether a run compiled is read from `aimlcat._config.compilations` (the
counter of compilations in this process) or from the cache directory's entries; no
timings. A compilation takes seconds, so the tests share one built entry where they can.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import pytest

from aimlcat import _config
from aimlcat._cli import run
from aimlcat._config import CACHE_DIR_NAME, Config, cache_location, configured_catalog, read_config

REPO = Path(__file__).resolve().parent.parent
HELLO = [{"role": "user", "content": "hi"}]
PRIVATE = (Path(__file__).parent / "fixtures" / "private" / "team-chat.yaml").read_text()
MORE = PRIVATE.replace("team-chat", "team-chat-2")
CONFIG = '[project]\nname = "payloads"\n\n[tool.aimlcat]\nextra-catalogs = ["private"]\n'


@pytest.fixture(autouse=True)
def _no_cache_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIMLCAT_CACHE_DIR", raising=False)
    monkeypatch.delenv("AIMLCAT_NO_CACHE", raising=False)


def make_project(root: Path, config: str = CONFIG) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(config)
    (root / "private").mkdir(exist_ok=True)
    (root / "private" / "chat.yaml").write_text(PRIVATE)
    return root


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("merged-*.cat")) if cache.is_dir() else []


def compiles() -> int:
    return _config.compilations[0]


def load(root: Path, cache: bool = True) -> tuple[Any, dict[str, str] | None]:
    return configured_catalog(read_config(str(root / "pyproject.toml")), cache=cache)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A project whose default cache holds one entry: (project, the entry's bytes)."""
    root = make_project(tmp_path_factory.mktemp("team"))
    load(root)
    (entry,) = entries(root / CACHE_DIR_NAME)
    return root, entry.read_bytes()


@pytest.fixture()
def warm(built: tuple[Path, bytes], tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """The shared project with a cache of its own (``AIMLCAT_CACHE_DIR``) holding the
    built entry: (project, cache directory)."""
    root, data = built
    cache = tmp_path / "cache"
    cache.mkdir()
    name = next(iter(entries(root / CACHE_DIR_NAME))).name
    (cache / name).write_bytes(data)
    monkeypatch.setenv("AIMLCAT_CACHE_DIR", str(cache))
    yield root, cache


def verdict(cat: Any, body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f.code, f.pointer) for f in cat.validate(body).findings]


# -- where, and whether ---------------------------------------------------------------------

def test_location_env_over_file_over_default(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(tmp_path)
    cfg = read_config(str(tmp_path / "pyproject.toml"))
    assert cache_location(cfg) == str(tmp_path / CACHE_DIR_NAME)
    (tmp_path / "pyproject.toml").write_text(CONFIG + 'cache-dir = "build/cat"\n')
    cfg = read_config(str(tmp_path / "pyproject.toml"))
    assert cache_location(cfg) == str(tmp_path / "build" / "cat")  # relative to the file
    monkeypatch.setenv("AIMLCAT_CACHE_DIR", str(tmp_path / "ci"))
    assert cache_location(cfg) == str(tmp_path / "ci")
    monkeypatch.setenv("AIMLCAT_NO_CACHE", "1")
    assert cache_location(cfg) is None
    monkeypatch.setenv("AIMLCAT_NO_CACHE", "0")
    assert cache_location(cfg) == str(tmp_path / "ci")
    # a Config made in code has no file to put a cache beside
    monkeypatch.delenv("AIMLCAT_CACHE_DIR")
    assert cache_location(Config(extra_catalogs=(str(tmp_path / "private"),))) is None


def test_bad_cache_dir_key_is_a_usage_error(tmp_path: Path) -> None:
    make_project(tmp_path, CONFIG + "cache-dir = 3\n")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        code = run(["lint", "--config", str(tmp_path / "pyproject.toml"), str(tmp_path)],
                   out=out)
    assert code == 2
    assert "cache-dir: expected a directory" in err.getvalue()


# -- built once, then read ------------------------------------------------------------------

def test_first_run_writes_second_reads(built: tuple[Path, bytes]) -> None:
    root, _ = built
    cache = root / CACHE_DIR_NAME
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache / "CACHEDIR.TAG").read_text().startswith(
        "Signature: 8a477f597d28d172789f06886806bc55")
    before = compiles()
    cat, files = load(root)
    assert compiles() == before  # read from the cache, not compiled
    assert files is not None and "index.json" in files
    body = {"model": "example/team-chat", "messages": HELLO, "max_tokens": 3}
    assert verdict(cat, body) == [("AML302", "/max_tokens")]
    # the cached files are exactly what a fresh compilation gives
    _, fresh = load(root, cache=False)
    assert compiles() == before + 1
    assert fresh == files
    assert len(entries(cache)) == 1  # --no-cache wrote nothing


def test_changed_added_removed_private_files_rebuild(warm: tuple[Path, Path]) -> None:
    root, cache = warm
    private = root / "private"
    before = compiles()
    load(root)
    assert compiles() == before  # the built entry
    # hidden, or not YAML: the loader never reads them, so the key does not change
    (private / ".chat.yaml.swp").write_text("junk")
    (private / "README.md").write_text("Our models.")
    (private / "chat.yaml~").write_text("an editor's backup")
    load(root)
    assert compiles() == before
    for name in (".chat.yaml.swp", "README.md", "chat.yaml~"):
        (private / name).unlink()

    (private / "more.yaml").write_text(MORE)  # added
    cat, _ = load(root)
    assert compiles() == before + 1
    assert "example/team-chat-2" in cat
    (private / "more.yaml").write_text(MORE.replace("team-chat-2", "team-chat-3"))  # edited
    try:
        cat, _ = load(root)
    finally:
        (private / "more.yaml").unlink()
    assert compiles() == before + 2
    assert "example/team-chat-3" in cat and "example/team-chat-2" not in cat
    cat, _ = load(root)  # removed: back to the first files, whose entry is still there
    assert compiles() == before + 2
    assert "example/team-chat-2" not in cat
    assert len(entries(cache)) == 3


def test_a_bad_entry_is_compiled_again_silently(warm: tuple[Path, Path],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    root, cache = warm
    (entry,) = entries(cache)
    good = entry.read_bytes()
    body = {"model": "example/team-chat", "messages": HELLO, "temperatur": 1}
    for bad in (good[: len(good) // 2],  # truncated
                good[:-200] + bytes([good[-200] ^ 1]) + good[-199:]):  # one bit changed
        entry.write_bytes(bad)
        before = compiles()
        cat, _ = load(root)
        assert compiles() == before + 1
        assert verdict(cat, body) == [("AML301", "/temperatur")]
        assert entry.read_bytes() == good  # rewritten
    assert capsys.readouterr().err == ""


def test_unwritable_cache_is_one_warning_and_the_run_goes_on(
        warm: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = warm
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("AIMLCAT_CACHE_DIR", str(blocker / "cache"))  # under a file
    (root / "team.json").write_text(json.dumps({"model": "example/team-chat",
                                                "messages": HELLO, "max_tokens": 3}))
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stderr(err):
            code = run(["lint", "--config", str(root / "pyproject.toml"), "--format", "json",
                        str(root / "team.json")], out=out)
    finally:
        (root / "team.json").unlink()
    assert code == 0
    doc = json.loads(out.getvalue())
    assert [f["code"] for f in doc["files"][0]["findings"]] == ["AML302"]
    (line,) = err.getvalue().splitlines()
    assert line.startswith("aimlcat: warning: not cached: cannot write")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into read-only directories")
def test_read_only_cache_is_read(warm: tuple[Path, Path],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    root, cache = warm
    cache.chmod(0o555)
    try:
        before = compiles()
        load(root)
        assert compiles() == before
        (root / "private" / "more.yaml").write_text(MORE)
        load(root)  # a miss that cannot be written
        assert compiles() == before + 1
    finally:
        cache.chmod(0o755)
        (root / "private" / "more.yaml").unlink(missing_ok=True)
    assert capsys.readouterr().err.count("\n") == 1


def test_old_entries_are_pruned(warm: tuple[Path, Path]) -> None:
    root, cache = warm
    (good,) = entries(cache)
    olds = []
    for i in range(6):
        old = cache / f"merged-{i:040d}.cat"
        old.write_bytes(b"old")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
        olds.append(old)
    stale = cache / f".{good.name}.abcd.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (1_000_000, 1_000_000))
    os.utime(good, (2_000_000, 2_000_000))
    (root / "private" / "more.yaml").write_text(MORE)
    try:
        load(root)
    finally:
        (root / "private" / "more.yaml").unlink()
    left = entries(cache)
    assert len(left) == _config._CACHE_KEEP
    assert good in left and olds[-1] in left and olds[-2] in left  # the ones used last
    assert not stale.exists()


# -- the commands ---------------------------------------------------------------------------

def lint_json(*argv: str, cwd: Path) -> tuple[int, Any]:
    out = io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        code = run(["lint", "--format", "json", *argv], out=out)
    finally:
        os.chdir(old)
    return code, json.loads(out.getvalue())


def test_verdicts_cached_and_uncached_are_identical(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    shutil.copytree(REPO / "examples", root / "examples")
    (root / "examples" / "team.json").write_text(json.dumps(
        {"model": "example/team-chat", "messages": HELLO, "max_tokens": 3}))
    before = compiles()
    fresh = lint_json("--no-cache", "examples", cwd=root)
    assert not (root / CACHE_DIR_NAME).exists()
    first = lint_json("examples", cwd=root)  # compiles and writes
    second = lint_json("--jobs", "2", "examples", cwd=root)  # reads; workers get the files
    assert compiles() == before + 2
    assert fresh == first == second
    assert fresh[0] == 1 and len(fresh[1]["files"]) > 5
    assert any(f["code"] == "AML302" for e in fresh[1]["files"] for f in e["findings"]
               if e["path"].endswith("team.json"))


def test_audit_reads_the_cache(warm: tuple[Path, Path]) -> None:
    root, _ = warm
    log = root / "logs" / "day.jsonl"
    log.parent.mkdir(exist_ok=True)
    log.write_text(json.dumps({"model": "example/team-chat", "messages": HELLO,
                               "max_tokens": 3}) + "\n")
    before = compiles()
    out = io.StringIO()
    code = run(["audit", "--no-progress", "--config", str(root / "pyproject.toml"),
                "--format", "json", "-j", "2", str(log)], out=out)
    assert compiles() == before
    assert code == 0
    doc = json.loads(out.getvalue())
    assert [(f["code"], f["model"]) for f in doc["findings"]] == [
        ("AML302", "example/team-chat")]


def test_show_and_models_know_the_private_models(warm: tuple[Path, Path],
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """lint checked `example/team-chat` from extra-catalogs, and `aimlcat show` of the same
    id in the same project said "unknown model" (`models` did not list it either)."""
    root, _ = warm
    monkeypatch.chdir(root)
    before = compiles()
    out = io.StringIO()
    assert run(["show", "example/team-chat"], out=out) == 0
    assert out.getvalue().startswith("example/team-chat\n")
    out = io.StringIO()
    assert run(["models", "--format", "json"], out=out) == 0
    assert "example/team-chat" in [m["id"] for m in json.loads(out.getvalue())]
    assert compiles() == before  # read from the cache, as lint does
    out = io.StringIO()
    assert run(["show", "example/team-chat", "--no-config"], out=out) == 2
    assert "unknown model 'example/team-chat'" in capsys.readouterr().err


def test_two_runs_at_once_share_the_cache(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "team.json").write_text(json.dumps({"model": "example/team-chat",
                                                "messages": HELLO}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    procs = [subprocess.Popen([sys.executable, "-m", "aimlcat", "lint", "team.json"],
                              cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert all(err == "" for _, err in results)
    assert len(entries(root / CACHE_DIR_NAME)) == 1
    assert not list((root / CACHE_DIR_NAME).glob(".*.tmp"))
    before = compiles()
    cat, _ = load(root)
    assert compiles() == before  # the entry they left is whole
    assert "example/team-chat" in cat


def test_a_cache_dir_holding_other_files_gets_no_markers(tmp_path: Path) -> None:
    """`cache-dir` naming a directory of the project: the cache's `.gitignore` of `*`
    would hide the directory's files from git and from lint, so it is not written."""
    root = make_project(tmp_path, CONFIG + 'cache-dir = "payloads"\n')
    payloads = root / "payloads"
    payloads.mkdir()
    (payloads / "bad.json").write_text(json.dumps(
        {"model": "example/team-chat", "messages": HELLO, "temperatur": 1}))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for _ in range(2):  # the run that writes the cache, and the one that reads it
        code, doc = lint_json(".", cwd=root)
        assert code == 1
        assert [f["code"] for e in doc["files"] for f in e["findings"]] == ["AML301"]
    assert entries(payloads) and not (payloads / ".gitignore").exists()
    assert not (payloads / "CACHEDIR.TAG").exists()


def test_lint_leaves_the_extra_catalogs_own_files_alone(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "req.json").write_text(json.dumps({"model": "example/team-chat",
                                               "messages": HELLO}))
    code, doc = lint_json("--no-cache", ".", cwd=root)
    assert code == 0
    assert [Path(e["path"]).name for e in doc["files"]] == ["req.json"]
    # named on the command line, a catalog file is still read as asked
    code, doc = lint_json("--no-cache", "private/chat.yaml", cwd=root)
    assert [f["code"] for e in doc["files"] for f in e["findings"]] == ["AML101"]


def test_the_bundled_catalog_is_keyed_by_its_files_bytes_not_times(tmp_path: Path) -> None:
    """The bundled YAML goes into the key by content: an edit, also one of the same size
    with its time put back, makes a new key; a copy with new times (a fresh install or
    checkout) keeps it, so a cache kept between CI runs still matches; a file the loader
    does not read changes nothing."""
    root = tmp_path / "catalog"
    shutil.copytree(_config.bundled_catalog_source(), root)

    def key_of(where: Path) -> str:
        return _config._cache_key([("", str(where), _config._gather(str(where), False))])

    key = key_of(root)
    for f in root.rglob("*.yaml"):
        os.utime(f, ns=(1_000_000_000, 1_000_000_000))
    assert key_of(root) == key
    (root / "README.md").write_text("notes\n")
    assert key_of(root) == key
    some = sorted(root.rglob("*.yaml"))[0]
    text = some.read_bytes()
    st = some.stat()
    some.write_bytes(text.replace(b"a", b"b", 1))  # same size, other bytes,
    os.utime(some, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old time put back
    edited = key_of(root)
    assert edited != key
    some.write_bytes(text + b"# more\n")
    assert key_of(root) not in (key, edited)
    # Where it lives is part of it too.
    shutil.copytree(root, tmp_path / "elsewhere")
    assert key_of(tmp_path / "elsewhere") != key_of(root)
