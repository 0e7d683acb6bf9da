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


# -- -o reports ---------------------------------------------------------------------------

def test_a_report_named_as_an_input_is_refused_and_the_input_kept(tmp_path: Path) -> None:
    req = write(tmp_path / "req.json", DEPRECATED)
    before = Path(req).read_bytes()
    code, _ = cli("lint", req, "--format", "json", "-o", req)
    assert code == 2
    assert Path(req).read_bytes() == before


@pytest.mark.slow
def test_a_report_inside_the_walked_tree_is_never_linted(tmp_path: Path) -> None:
    write(tmp_path / "req.json", DEPRECATED)
    runs = [run_module("lint", ".", "--format", "json", "-o", "report.json", cwd=tmp_path)
            for _ in range(2)]
    assert [p.returncode for p in runs] == [0, 0], runs[1].stderr
    doc = json.loads((tmp_path / "report.json").read_text())
    assert [f["path"] for f in doc["files"]] == ["./req.json"]
    # Named twice through another spelling, it is refused before anything is written.
    proc = run_module("lint", "./report.json", "--format", "json", "-o", "report.json",
                      cwd=tmp_path)
    assert proc.returncode == 2
    assert "report.json is both a file to check and the report (-o)" in proc.stderr
    assert json.loads((tmp_path / "report.json").read_text()) == doc


@pytest.mark.slow
def test_a_report_that_cannot_be_written_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import resource

    write(tmp_path / "req.json", DEPRECATED)
    (tmp_path / "report.json").write_text("the old report\n")

    def small_files() -> None:  # a full disk, as the process meets it: EFBIG on write
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))

    env = {k: v for k, v in os.environ.items() if k != "AIMLCAT_SCHEMAS"}
    proc = subprocess.run([sys.executable, "-m", "aimlcat", "lint", "req.json", "--format",
                           "json", "-o", "report.json"], cwd=tmp_path, env=env, check=False,
                          capture_output=True, text=True, preexec_fn=small_files, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == "aimlcat: cannot write report.json: File too large\n"
    assert (tmp_path / "report.json").read_text() == "the old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "req.json"]


def test_the_same_report_file_twice_is_refused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    req = write(tmp_path / "req.json", CLEAN)
    out = str(tmp_path / "r.out")
    code, _ = cli("lint", req, "--format", "sarif", "-o", out, "--format", "json",
                  "-o", str(tmp_path / "." / "r.out"))
    assert code == 2
    assert "is given twice" in capsys.readouterr().err
    assert not os.path.exists(out)


# -- --diff and --fix exit codes ----------------------------------------------------------

def test_diff_writes_the_reports_given_files(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    req = write(tmp_path / "req.json", DEPRECATED)
    report = tmp_path / "r.json"
    code, out = cli("lint", "--diff", req, "--format", "json", "-o", str(report))
    assert code == 1
    assert out.startswith("---") and "+  \"max_completion_tokens\"" in out
    assert json.loads(report.read_text())["summary"]["warnings"] == 1
    # A report on standard output would be mixed into the diff.
    code, _ = cli("lint", "--diff", req, "--format", "json")
    assert code == 2
    assert "--diff prints the diff on standard output" in capsys.readouterr().err
    code, _ = cli("lint", "--diff", "--exit-zero", req)
    assert code == 0


def test_fix_of_standard_input_is_a_file_that_cannot_be_written() -> None:
    code, out = cli("lint", "--fix", "-", stdin=json.dumps(DEPRECATED))
    assert code == 2
    assert "<stdin>: cannot write the fixes: standard input cannot be rewritten; use --diff" in out


# -- what a walk meets ---------------------------------------------------------------------

def _refuse_listing(monkeypatch: pytest.MonkeyPatch, locked: Path) -> None:
    # As root, chmod 000 does not stop a listing: the kernel's answer is made here instead.
    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        if os.path.abspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_directory_that_cannot_be_listed_is_unreadable(tmp_path: Path, jobs: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "t" / "a.json", CLEAN)
    write(tmp_path / "t" / "locked" / "b.json", DEPRECATED)
    write(tmp_path / "t" / "z.json", CLEAN)
    _refuse_listing(monkeypatch, tmp_path / "t" / "locked")
    monkeypatch.chdir(tmp_path)
    code, out = cli("lint", "t", "-j", jobs)
    assert code == 2
    assert out.splitlines() == ["t/locked: cannot read: Permission denied",
                                "3 files checked: 1 unreadable."]
    code, out = cli("lint", "t/locked")
    assert (code, out.splitlines()[0]) == (2, "t/locked: cannot read: Permission denied")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="permissions do not stop root from listing a directory")
def test_a_directory_without_permissions_is_unreadable(tmp_path: Path) -> None:
    write(tmp_path / "locked" / "b.json", DEPRECATED)
    (tmp_path / "locked").chmod(0)
    try:
        code, out = cli("lint", str(tmp_path))
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert code == 2
    assert f"{tmp_path / 'locked'}: cannot read: Permission denied" in out


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_walk_passes_over_a_fifo_and_names_a_dangling_link(tmp_path: Path) -> None:
    d = tmp_path / "d"
    write(d / "a.json", CLEAN)
    os.mkfifo(d / "pipe.json")  # reading it would wait for a writer forever
    (d / "gone.json").symlink_to("nowhere.json")
    proc = run_module("lint", "d", "-j", "2", cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        "d/gone.json: a symbolic link to nowhere.json, which does not exist",
        "2 files checked: 1 unreadable."]


# -- a file named twice ---------------------------------------------------------------------

@pytest.mark.parametrize("args", [["g.json", "g.json", "./g.json"], ["d", "d/a.json", "g.json"],
                                  ["d/a.json", "d", ".", "g.json"]])
def test_a_file_named_twice_is_checked_once(tmp_path: Path, args: list[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "g.json", DEPRECATED)
    write(tmp_path / "d" / "a.json", DEPRECATED)
    monkeypatch.chdir(tmp_path)
    code, out = cli("lint", *args, "--format", "json")
    paths = [os.path.normpath(f["path"]) for f in json.loads(out)["files"]]
    assert len(paths) == len(set(paths)), paths
    assert set(paths) <= {"g.json", os.path.join("d", "a.json")}
    code, out = cli("lint", "--diff", *args)
    assert code == 1
    assert out.count("@@") == 2 * len(paths)  # one hunk per file


def test_standard_input_named_twice_is_read_once() -> None:
    code, out = cli("lint", "-", "-", stdin=json.dumps(CLEAN))
    assert (code, out.splitlines()[-1]) == (0, "1 file checked: no problems.")


# -- what the output shows -------------------------------------------------------------------

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8J9k0"


@pytest.mark.parametrize(("name", "text", "secret"), [
    ("key.json", json.dumps({**DEPRECATED, "metadata": {"k": KEY}}), KEY),
    ("key.yaml", "model: gpt-4o\napi_key: hunter2-not-key-shaped\nmessages:\n"
     "  - {role: user, content: Hello}\nmax_tokens: 64\n", "hunter2-not-key-shaped"),
    ("key.jsonl", json.dumps({**DEPRECATED, "api_key": "hunter2-in-a-log"}) + "\n",
     "hunter2-in-a-log"),
])
def test_diff_never_prints_a_key(tmp_path: Path, name: str, text: str, secret: str) -> None:
    f = write(tmp_path / name, text)
    code, out = cli("lint", "--diff", f)
    assert code == 1
    assert "max_completion_tokens" in out and "[redacted]" in out
    assert secret not in out


@pytest.mark.slow
@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="file names must be UTF-8 there")
def test_a_file_name_that_is_not_utf8_in_every_format(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    d = tmp_path / "nu"
    d.mkdir()
    (d / os.fsdecode(b"\xff\xfe.json")).write_text(json.dumps(DEPRECATED))
    (d / os.fsdecode(b"\xff\xfe.yaml")).write_text("model: [")  # an error quotes the name
    args = ["lint", "nu"]
    for fmt in ("text", "json", "sarif", "github", "junit"):
        args += ["--format", fmt, "-o", f"r.{fmt}"]
    proc = run_module(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == ""
    sarif = json.loads((tmp_path / "r.sarif").read_text(encoding="utf-8"))
    results = sarif["runs"][0]["results"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] \
        == "nu/%FF%FE.json"
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [f["path"] for f in doc["files"]] == ["nu/\ufffd\ufffd.json", "nu/\ufffd\ufffd.yaml"]
    cases = ET.parse(tmp_path / "r.junit").getroot().iter("testcase")
    assert [c.get("file") for c in cases] == ["nu/\ufffd\ufffd.json", "nu/\ufffd\ufffd.yaml"]
    # The text formats write the name's bytes, as a terminal shows them.
    assert (tmp_path / "r.text").read_bytes().startswith(b"nu/\xff\xfe.json:")
    assert b"file=nu/\xff\xfe.json" in (tmp_path / "r.github").read_bytes()


def test_text_output_escapes_control_characters_and_bidi_overrides() -> None:
    body = {"x\u001b[2Jy\nz": 1, "model": "gpt-4o",
            "messages": [{"role": "user", "content": "hi"}], "a\u202eb": 2}
    code, out = cli("lint", "-", "--endpoint", "/v1/chat/completions", "--format", "text",
                    stdin=json.dumps(body))
    assert code == 1
    assert "\x1b" not in out and "\u202e" not in out
    lines = out.splitlines()
    assert lines[0].endswith("`x\\x1b[2Jy\\nz` is not a parameter of gpt-4o on "
                             "/v1/chat/completions")
    assert any("`a\\u202eb` is not a parameter" in line for line in lines)
    assert lines[-1] == "1 file checked: 2 errors."


# -- Ctrl-C ---------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found += [int(x) for x in fh.read().split()]
        except OSError:
            pass
    return found


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux's /proc")
def test_ctrl_c_with_workers_is_quiet_and_prompt(tmp_path: Path) -> None:
    import signal
    import time

    line = json.dumps(DEPRECATED) + "\n"
    for name in ("a.jsonl", "b.jsonl"):  # tens of seconds of work
        (tmp_path / name).write_text(line * 100_000)
    env = {k: v for k, v in os.environ.items() if k != "AIMLCAT_SCHEMAS"}
    with open(tmp_path / "err.txt", "w") as err:
        # A session of its own: Ctrl-C at a terminal signals the whole process group.
        proc = subprocess.Popen([sys.executable, "-m", "aimlcat", "lint", ".", "-j", "2"],
                                cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
        workers: list[int] = []
        try:
            deadline = time.monotonic() + 60
            while len(workers) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
                workers = _children(proc.pid)
            time.sleep(1.0)  # the workers are checking lines now
            os.killpg(proc.pid, signal.SIGINT)
            code = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
            for pid in workers:  # none should be left; never leave one behind
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
    assert code == 130
    assert (tmp_path / "err.txt").read_text() == ""
