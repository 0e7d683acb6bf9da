"""The ``aimlcat`` command line, driven in-process through ``aimlcat._cli.run``.

Every payload is a real file under ``tmp_path`` (or real standard input); a few
tests run the CLI for real with ``python -m aimlcat`` from a temporary working
directory. Nothing of aimlcat is mocked.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aimlcat._cli import run

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
CATALOG = REPO / "catalog"
SCHEMAS = REPO / "schemas"

KLING = "kling-video/v1.6/pro/image-to-video"
IMAGEN = "google/imagen-4.0-generate-001"
VIDEO_MODELS = ["google/veo3", KLING, "minimax/hailuo-02"]
REMOVED_MODELS = ["dall-e-3", "meta-llama/Llama-Guard-3-11B-Vision-Turbo"]

# Derived by reading every file under examples/ against catalog/ by hand:
#   bad/dall-e-3.json              dall-e-3 is `status: removed`           -> AML103 (and nothing else)
#   bad/flux-cfg-scale.yaml        cfg_scale is not a flux/dev parameter   -> AML301
#                                  num_inference_steps 80 > maximum 50     -> AML402
#   bad/gpt-4o-max-tokens.json     max_tokens: rename deprecation          -> AML302
#                                  `temperatur` (typo) unknown             -> AML301
#   bad/image-part.json            image_url.url "picture.png" not a URI   -> AML405
#                                  image_url.detail "medium" not an option -> AML403
#   bad/kling-aspect-ratio.json    aspect_ratio removed 2025-08-19         -> AML303
#                                  duration 7 not in [5, 10]               -> AML403
#   bad/kling-legacy-endpoint.json legacy Kling endpoint                   -> AML203
#                                  ratio deprecated (remove) there         -> AML302
#   bad/o3-mini-sampling.json      temperature removed 2025-09-18          -> AML303
#   bad/imagen-negative-prompt.json  Imagen 4 takes no negative_prompt     -> AML301
#                                  num_images 6 > maximum 4                -> AML402
#   bad/gpt-image-1-edit-url.json  image_url is not an edit parameter      -> AML301
#                                  the uploaded `image` is missing         -> AML404
#                                  n 12 > maximum 10                       -> AML402
#   bad/veo3-prompt-optimizer.json Veo calls it enhance_prompt (synonym)   -> AML301
#                                  duration 10 not in [4, 6, 8]            -> AML403
#   bad/hailuo-02-prompt-optimizer.json  removed 2025-12-23 (renamed)      -> AML303
#                                  resolution "720P" not in [768P, 1080P]  -> AML403
#   bad/tts-1-input.json           `input` (OpenAI's name) unknown         -> AML301
#                                  `text` is required                      -> AML404
#   bad/gpt-4o-transcribe-whisper-options.json  response_format unknown    -> AML301
#                                  temperature 1.5 > maximum 1             -> AML402
#   bad/text-embedding-3-small-format.json  encoding_format "int8"         -> AML403
#                                  dimensions "256" is a string            -> AML401
#   bad/stable-audio-duration.yaml duration: this model says seconds_total -> AML301
#                                  steps 2000 > maximum 1000               -> AML402
#   bad/mistral-ocr-document.json  document_url missing in the document    -> AML404
#   bad/triposr-prompt.json        triposr takes no prompt                 -> AML301
#                                  mc_resolution 2048 > maximum 1024       -> AML402
#   bad/llama-guard-removed.json   the model is `status: removed`          -> AML103 (and nothing else)
#   bad/gpt-4o-responses-chat-habits.json  max_completion_tokens on /v1/responses
#                                  (this endpoint calls it max_output_tokens) -> AML301
#                                  a chat-style {"type": "text"} part: the input
#                                  message's part types are input_text... -> AML403
#   bad/claude-openai-habits.json  max_completion_tokens (Claude: max_tokens) -> AML301
#                                  metadata.user_id must be a string       -> AML401
#   good/*                         nothing
EXPECTED_EXAMPLE_FINDINGS = {
    ("dall-e-3.json", "AML103"),
    ("flux-cfg-scale.yaml", "AML301"),
    ("flux-cfg-scale.yaml", "AML402"),
    ("gpt-4o-max-tokens.json", "AML302"),
    ("gpt-4o-max-tokens.json", "AML301"),
    ("image-part.json", "AML405"),
    ("image-part.json", "AML403"),
    ("kling-aspect-ratio.json", "AML303"),
    ("kling-aspect-ratio.json", "AML403"),
    ("kling-legacy-endpoint.json", "AML203"),
    ("kling-legacy-endpoint.json", "AML302"),
    ("o3-mini-sampling.json", "AML303"),
    ("imagen-negative-prompt.json", "AML301"),
    ("imagen-negative-prompt.json", "AML402"),
    ("gpt-image-1-edit-url.json", "AML301"),
    ("gpt-image-1-edit-url.json", "AML404"),
    ("gpt-image-1-edit-url.json", "AML402"),
    ("veo3-prompt-optimizer.json", "AML301"),
    ("veo3-prompt-optimizer.json", "AML403"),
    ("hailuo-02-prompt-optimizer.json", "AML303"),
    ("hailuo-02-prompt-optimizer.json", "AML403"),
    ("tts-1-input.json", "AML301"),
    ("tts-1-input.json", "AML404"),
    ("gpt-4o-transcribe-whisper-options.json", "AML301"),
    ("gpt-4o-transcribe-whisper-options.json", "AML402"),
    ("text-embedding-3-small-format.json", "AML403"),
    ("text-embedding-3-small-format.json", "AML401"),
    ("stable-audio-duration.yaml", "AML301"),
    ("stable-audio-duration.yaml", "AML402"),
    ("mistral-ocr-document.json", "AML404"),
    ("triposr-prompt.json", "AML301"),
    ("triposr-prompt.json", "AML402"),
    ("llama-guard-removed.json", "AML103"),
    ("gpt-4o-responses-chat-habits.json", "AML301"),
    ("gpt-4o-responses-chat-habits.json", "AML403"),
    ("claude-openai-habits.json", "AML301"),
    ("claude-openai-habits.json", "AML401"),
}
EXAMPLE_FILES = {
    "dall-e-3.json", "flux-cfg-scale.yaml", "gpt-4o-max-tokens.json", "image-part.json",
    "kling-aspect-ratio.json", "kling-legacy-endpoint.json", "o3-mini-sampling.json",
    "imagen-negative-prompt.json", "gpt-image-1-edit-url.json", "veo3-prompt-optimizer.json",
    "hailuo-02-prompt-optimizer.json", "tts-1-input.json",
    "gpt-4o-transcribe-whisper-options.json", "text-embedding-3-small-format.json",
    "stable-audio-duration.yaml", "mistral-ocr-document.json", "triposr-prompt.json",
    "llama-guard-removed.json", "gpt-4o-responses-chat-habits.json", "claude-openai-habits.json",
    "flux-dev.yaml", "gpt-4o-chat.json", "kling-image-to-video.json",
    "imagen-4.json", "gpt-image-1-edit.json", "veo3.json", "hailuo-02.json", "tts-1.json",
    "gpt-4o-transcribe.json", "text-embedding-3-small.json", "stable-audio.yaml",
    "mistral-ocr.json", "triposr.json", "gpt-4o-responses.json", "claude-messages.json",
}
# Errors and warnings in the whole examples/ report (a file may repeat a code).
EXAMPLE_ERRORS = 34
EXAMPLE_WARNINGS = 3

# The `--format json` report, as a schema: required keys and types are pinned,
# places the contract leaves open ("...") allow more keys.
FINDING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "severity", "pointer", "message", "hint"],
    "properties": {
        "code": {"type": "string", "pattern": "^AML[0-9]{3}$"},
        "name": {"type": "string"},
        "severity": {"enum": ["error", "warning", "info"]},
        "pointer": {"type": "string", "pattern": "^(/.*)?$"},
        "message": {"type": "string", "minLength": 1},
        "hint": {"type": ["string", "null"]},
        "fix": {
            "type": "object",
            "required": ["op", "path"],
            "properties": {
                "op": {"enum": ["remove", "replace", "move"]},
                "path": {"type": "string", "pattern": "^/"},
                "from": {"type": "string", "pattern": "^/"},
            },
        },
    },
}
REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["files", "summary"],
    "additionalProperties": False,
    "properties": {
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "findings"],
                "properties": {
                    "path": {"type": "string"},
                    "error": {"type": "string"},
                    "findings": {"type": "array", "items": FINDING_SCHEMA},
                },
            },
        },
        "summary": {
            "type": "object",
            "required": ["files", "errors", "warnings"],
            "properties": {
                "files": {"type": "integer", "minimum": 0},
                "errors": {"type": "integer", "minimum": 0},
                "warnings": {"type": "integer", "minimum": 0},
            },
        },
    },
}

GPT4O_MAX_TOKENS = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "Hello"}],
    "max_tokens": 64,
}
GPT4O_CLEAN = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "Hello"}],
    "max_completion_tokens": 64,
    "temperature": 0.2,
}
KLING_ASPECT = {
    "model": KLING,
    "image_url": "https://example.com/first-frame.jpg",
    "prompt": "A paper boat drifts down a rainy street.",
    "aspect_ratio": "9:16",
}


@pytest.fixture(autouse=True)
def _bundled_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every test here reads the catalog of this checkout.
    monkeypatch.delenv("AIMLCAT_SCHEMAS", raising=False)


def cli(*argv: str, stdin: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = run(list(argv), out=out, stdin=io.StringIO(stdin) if stdin is not None else io.StringIO())
    return code, out.getvalue()


def cli_json(*argv: str, stdin: str | None = None) -> tuple[int, Any]:
    code, text = cli(*argv, "--format", "json", stdin=stdin)
    return code, json.loads(text)


def write(path: Path, data: Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2),
                    encoding="utf-8")
    return str(path)


def at(body: dict[str, Any], key: str, *, value: bool = False) -> str:
    """`line:col` of a top-level key (or its value) in ``write()``'s json.dumps(indent=2)."""
    lines = json.dumps(body, indent=2).splitlines()
    for n, line in enumerate(lines, 1):
        if line.startswith(f'  "{key}": '):
            return f"{n}:{len(line) - len(line.lstrip()) + 1 + (len(key) + 4 if value else 0)}"
    raise AssertionError(f"{key} not at the top level")


def check_report(doc: Any) -> None:
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(doc)
    s = doc["summary"]
    findings = [f for entry in doc["files"] for f in entry["findings"]]
    assert s["files"] == len(doc["files"])
    assert s["errors"] == sum(f["severity"] == "error" for f in findings)
    assert s["warnings"] == sum(f["severity"] == "warning" for f in findings)


def codes(doc: Any) -> list[tuple[str, str]]:
    return [(f["code"], f["pointer"]) for e in doc["files"] for f in e["findings"]]


# -- exit codes ---------------------------------------------------------------------


def test_clean_file_exits_0(tmp_path: Path) -> None:
    code, out = cli("lint", write(tmp_path / "ok.json", GPT4O_CLEAN))
    assert code == 0
    assert "1 file checked: no problems." in out


def test_warnings_only_exit_0_without_strict_and_1_with_strict(tmp_path: Path) -> None:
    f = write(tmp_path / "warn.json", GPT4O_MAX_TOKENS)
    code, out = cli("lint", f)
    assert code == 0
    assert "AML302 warning" in out
    assert "1 warning" in out
    code, out = cli("lint", "--strict", f)
    assert code == 1
    assert "AML302 warning" in out


def test_errors_exit_1(tmp_path: Path) -> None:
    body = {**GPT4O_CLEAN, "temperature": 3}
    code, out = cli("lint", write(tmp_path / "hot.json", body))
    assert code == 1
    # a value out of range: the position is the value's (json.dumps(indent=2) layout)
    assert f"{tmp_path / 'hot.json'}:{at(body, 'temperature', value=True)}: AML402 error:" in out


def test_missing_file_exits_2(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.json")
    code, out = cli("lint", missing)
    assert code == 2
    assert f"{missing}: no such file" in out


def test_invalid_json_exits_2_with_line_and_column(tmp_path: Path) -> None:
    f = write(tmp_path / "broken.json", '{"model": "gpt-4o",\n "messages": [}\n')
    code, out = cli("lint", f)
    assert code == 2
    # the stray `}` is on line 2, column 15
    assert f"{f}:2:15: invalid JSON" in out
    code, doc = cli_json("lint", f)
    assert code == 2
    check_report(doc)
    assert doc["files"][0]["error"].startswith(f"{f}:2:15: invalid JSON")
    assert doc["summary"]["unreadable"] == 1


def test_invalid_yaml_exits_2_with_line(tmp_path: Path) -> None:
    f = write(tmp_path / "broken.yaml", "model: flux/dev\nprompt: [a, b\nseed: 3\n")
    code, out = cli("lint", f)
    assert code == 2
    assert f"{f}:" in out and "invalid YAML" in out


@pytest.mark.parametrize("content", ["", "  \n\n"])
def test_empty_file_exits_2(tmp_path: Path, content: str) -> None:
    f = write(tmp_path / "empty.json", content)
    code, out = cli("lint", f)
    assert code == 2
    assert f"{f}: the file is empty" in out


def test_directory_without_payload_files_exits_2(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "nothing"
    write(d / "notes.txt", "not a payload")
    write(d / "sub" / "README.md", "# nor this")
    code, out = cli("lint", str(d))
    assert code == 2
    assert "no payload files found" in capsys.readouterr().err


def test_directory_whose_payloads_are_all_excluded_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`lint requests` in a work tree whose .gitignore has `*.json` said "no payload files
    found" beside a directory full of them, with no word of the excludes."""
    monkeypatch.chdir(tmp_path)  # --exclude patterns are relative to the working directory
    write(tmp_path / "requests" / "a.json", GPT4O_CLEAN)
    write(tmp_path / "requests" / "drafts" / "b.json", GPT4O_CLEAN)
    code, _ = cli("lint", str(tmp_path / "requests"), "--exclude", "*.json", "--no-config")
    assert code == 2
    assert capsys.readouterr().err == (
        "aimlcat: no payload files found (*.json, *.yaml, *.yml, *.jsonl, *.jsonl.gz); 2 "
        "excluded by --exclude, the configuration's `exclude` or .gitignore (--no-respect-"
        "gitignore reads what .gitignore excludes)\n")
    code, _ = cli("lint", str(tmp_path / "requests"), "--exclude", "a.json", "--exclude",
                  "drafts/", "--no-respect-gitignore", "--no-config")
    assert code == 2
    assert capsys.readouterr().err.endswith("; 2 excluded by --exclude, the configuration's "
                                            "`exclude` or .gitignore\n")


@pytest.mark.parametrize("argv", [
    ["frobnicate"],
    ["lint", "--bogus", "x.json"],
    ["lint"],
    ["models", "--status", "retired"],
    ["lint", "--format", "xml", "x.json"],
    # A negative size or count is no limit and no number of workers.
    ["lint", "--max-bytes", "-5", "x.json"],
    ["lint", "--max-bytes", "0", "x.json"],
    ["lint", "--jobs", "-1", "x.json"],
    ["lint", "--jobs", "many", "x.json"],
    ["check-catalog", "--out", "schemas"],  # it writes nothing: --out was a no-op
    [],
])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(*argv)
    assert code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["lint", "audit"])
@pytest.mark.parametrize("select", [",", "", " "])
def test_a_select_that_names_no_code_is_a_usage_error(
        tmp_path: Path, command: str, select: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--select ,` (or an empty variable) selected nothing: every finding dropped, exit 0."""
    f = write(tmp_path / ("a.jsonl" if command == "audit" else "a.json"),
              json.dumps({**GPT4O_CLEAN, "temperatur": 0.2}) + "\n")
    code, out = cli(command, f, "--select", select, "--no-config")
    assert code == 2 and out == ""
    assert f"aimlcat: --select {select!r} names no code" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["lint", "audit", "models", "stats", "sync", "rule"])
def test_an_unknown_option_shows_the_commands_usage(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`aimlcat audit logs --strictt` named the top level's usage (`aimlcat [-h] COMMAND`)."""
    code, _ = cli(command, *(["x"] if command in ("lint", "audit") else []), "--bogus")
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: aimlcat {command} ")
    assert err.endswith(f"aimlcat {command}: error: unrecognized arguments: --bogus\n")


def test_version_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    from aimlcat import __version__

    code, _ = cli("--version")
    assert code == 0
    assert f"aimlcat {__version__}" in capsys.readouterr().out


def test_unreadable_input_wins_over_findings_and_others_are_still_reported(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.json")
    bad = write(tmp_path / "bad.json", KLING_ASPECT)
    good = write(tmp_path / "good.json", GPT4O_CLEAN)
    empty = write(tmp_path / "empty.yaml", "")
    code, out = cli("lint", missing, bad, good, empty)
    assert code == 2
    assert f"{missing}: no such file" in out
    assert f"{empty}: the file is empty" in out
    assert f"{bad}:{at(KLING_ASPECT, 'aspect_ratio')}: AML303 error:" in out
    assert "4 files checked: 1 error, 2 unreadable." in out

    code, doc = cli_json("lint", missing, bad, good, empty)
    assert code == 2
    check_report(doc)
    by_path = {e["path"]: e for e in doc["files"]}
    assert list(by_path) == [missing, bad, good, empty]
    assert "no such file" in by_path[missing]["error"]
    assert by_path[missing]["findings"] == []
    assert [f["code"] for f in by_path[bad]["findings"]] == ["AML303"]
    assert by_path[good]["findings"] == [] and "error" not in by_path[good]
    assert doc["summary"]["errors"] == 1
    assert doc["summary"]["unreadable"] == 2


# -- discovery and standard input -------------------------------------------------------


def test_lint_directory_recurses_into_json_yaml_yml(tmp_path: Path) -> None:
    root = tmp_path / "payloads"
    a = write(root / "a.json", GPT4O_CLEAN)
    b = write(root / "nested" / "b.yaml", "model: flux/dev\nprompt: x\nnum_images: 9\n")
    c = write(root / "nested" / "deeper" / "c.yml", "model: o3-mini\nmessages: []\ntop_p: 0.5\n")
    write(root / "nested" / "ignored.txt", "{not json")
    # *.json.gz is read when named, not found by a walk (JSON Lines are: see test_lint_jsonl)
    write(root / "nested" / "ignored.json.gz", "{not json")
    write(root / ".hidden.json", "{not json")
    write(root / ".git" / "x.json", "{not json")
    code, doc = cli_json("lint", str(root))
    assert code == 1
    check_report(doc)
    assert [e["path"] for e in doc["files"]] == sorted([a, b, c])
    found = {(Path(e["path"]).name, f["code"], f["pointer"])
             for e in doc["files"] for f in e["findings"]}
    assert found == {("b.yaml", "AML402", "/num_images"), ("c.yml", "AML303", "/top_p")}


def test_stdin_json(tmp_path: Path) -> None:
    code, out = cli("lint", "-", stdin=json.dumps({**GPT4O_CLEAN, "temperature": 9}))
    assert code == 1
    # compact JSON on one line: `{"model": "gpt-4o", ..., "temperature": 9}`
    text = json.dumps({**GPT4O_CLEAN, "temperature": 9})
    assert f"<stdin>:1:{text.index(': 9') + 3}: AML402 error:" in out
    code, doc = cli_json("lint", "-", stdin=json.dumps(GPT4O_MAX_TOKENS))
    assert code == 0
    check_report(doc)
    assert doc["files"][0]["path"] == "<stdin>"
    assert codes(doc) == [("AML302", "/max_tokens")]


def test_stdin_yaml() -> None:
    text = "# a YAML body on stdin\nmodel: flux/dev\nprompt: a cat\nguidance_scale: 25\n"
    code, out = cli("lint", "-", stdin=text)
    assert code == 1
    assert "<stdin>:4:17: AML402 error:" in out  # YAML too: the value's line and column
    code, out = cli("lint", "-", stdin="model: flux/dev\nprompt: a cat\nguidance_scale: 2\n")
    assert code == 0, out


def test_stdin_json_lines_says_to_name_a_jsonl_file() -> None:
    lines = json.dumps(GPT4O_CLEAN) + "\n" + json.dumps(GPT4O_MAX_TOKENS) + "\n"
    code, out = cli("lint", "-", stdin=lines)
    assert code == 2
    assert out.startswith("<stdin>:2:1: invalid JSON: Extra data: standard input is read as "
                          "one request; name a .jsonl file to check JSON Lines\n")
    # Two values on one line are just bad JSON: no advice about JSON Lines.
    code, out = cli("lint", "-", stdin=json.dumps(GPT4O_CLEAN) + " {}")
    assert code == 2 and "Extra data" in out and "JSON Lines" not in out


def test_stdin_unreadable_is_named_stdin() -> None:
    code, out = cli("lint", "-", stdin='{"model": "gpt-4o",')
    assert code == 2
    assert out.startswith("<stdin>:1:")
    assert "invalid JSON" in out
    code, out = cli("lint", "-", stdin="")
    assert code == 2
    assert "<stdin>: the file is empty" in out


def test_stdin_and_files_together(tmp_path: Path) -> None:
    f = write(tmp_path / "k.json", KLING_ASPECT)
    code, doc = cli_json("lint", f, "-", stdin=json.dumps(GPT4O_CLEAN))
    assert code == 1
    assert [e["path"] for e in doc["files"]] == [f, "<stdin>"]


# -- endpoints ---------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", [
    "/v1/chat/completions",
    "/chat/completions",
    "https://api.aimlapi.com/v1/chat/completions",
    "https://api.aimlapi.com/v1/chat/completions?beta=1",
])
def test_endpoint_option_for_bare_bodies(tmp_path: Path, endpoint: str) -> None:
    f = write(tmp_path / "chat.json", GPT4O_CLEAN)
    code, doc = cli_json("lint", "--endpoint", endpoint, f)
    assert code == 0, doc
    assert doc["files"][0]["endpoint"] == "/v1/chat/completions"
    assert doc["files"][0]["findings"] == []


def test_wrong_endpoint_is_aml201(tmp_path: Path) -> None:
    f = write(tmp_path / "chat.json", GPT4O_CLEAN)
    code, doc = cli_json("lint", "--endpoint", "https://api.aimlapi.com/v1/images/generations", f)
    assert code == 1
    check_report(doc)
    [finding] = doc["files"][0]["findings"]
    assert finding["code"] == "AML201"
    assert finding["pointer"] == ""
    assert "/v1/chat/completions" in finding["hint"]


def test_unknown_endpoint_is_aml204(tmp_path: Path) -> None:
    f = write(tmp_path / "chat.json", GPT4O_CLEAN)
    code, doc = cli_json("lint", "--endpoint", "/v1/chat/completion", f)
    assert code == 1
    assert [c for c, _ in codes(doc)] == ["AML204"]


def test_kling_aspect_ratio_removed_on_universal_video_endpoint(tmp_path: Path) -> None:
    f = write(tmp_path / "kling.json", KLING_ASPECT)
    code, doc = cli_json("lint", "--endpoint", "/v2/video/generations", f)
    assert code == 1
    check_report(doc)
    [finding] = doc["files"][0]["findings"]
    assert finding["code"] == "AML303"
    assert finding["severity"] == "error"
    assert finding["pointer"] == "/aspect_ratio"
    assert "2025-08-19" in finding["message"]
    assert finding["hint"] and "image_url" in finding["hint"]
    assert finding["fix"] == {"op": "remove", "path": "/aspect_ratio"}
    assert doc["files"][0]["model"] == KLING
    assert doc["files"][0]["endpoint"] == "/v2/video/generations"


# -- envelopes ---------------------------------------------------------------------------


def test_envelope_with_endpoint_prefixes_pointers_with_body(tmp_path: Path) -> None:
    f = write(tmp_path / "env.json", {"endpoint": "/v2/video/generations", "body": KLING_ASPECT})
    code, doc = cli_json("lint", f)
    assert code == 1
    check_report(doc)
    [finding] = doc["files"][0]["findings"]
    assert (finding["code"], finding["pointer"]) == ("AML303", "/body/aspect_ratio")
    assert finding["fix"] == {"op": "remove", "path": "/body/aspect_ratio"}
    code, out = cli("lint", f)
    # the key inside the envelope's body: line 7 of json.dumps(indent=2), indented 4
    assert f"{f}:7:5: AML303 error:" in out
    assert "fix: remove /body/aspect_ratio" in out


def test_batch_line_envelope_with_url_and_extra_keys(tmp_path: Path) -> None:
    line = {"custom_id": "request-1", "method": "POST",
            "url": "https://api.aimlapi.com/v1/chat/completions", "body": GPT4O_MAX_TOKENS}
    f = write(tmp_path / "batch.json", line)
    code, doc = cli_json("lint", f)
    assert code == 0  # only a warning
    check_report(doc)
    [finding] = doc["files"][0]["findings"]
    assert finding["code"] == "AML302"
    assert finding["pointer"] == "/body/max_tokens"
    assert finding["fix"] == {"op": "move", "from": "/body/max_tokens",
                              "path": "/body/max_completion_tokens"}
    # custom_id and method are not findings: they belong to the envelope
    assert doc["files"][0]["endpoint"] == "/v1/chat/completions"


def test_yaml_envelope(tmp_path: Path) -> None:
    f = write(tmp_path / "env.yaml",
              "endpoint: /v1/images/generations\nbody:\n  model: flux/dev\n  prompt: a fox\n"
              "  num_images: 5\n")
    code, doc = cli_json("lint", f)
    assert code == 1
    assert codes(doc) == [("AML402", "/body/num_images")]


def test_envelope_naming_the_wrong_endpoint_points_at_it(tmp_path: Path) -> None:
    f = write(tmp_path / "env.json", {"endpoint": "/v1/images/generations", "body": GPT4O_CLEAN})
    code, doc = cli_json("lint", f)
    assert code == 1
    assert codes(doc) == [("AML201", "/endpoint")]
    f2 = write(tmp_path / "env2.json", {"url": "https://api.aimlapi.com/v9/nothing",
                                        "body": GPT4O_CLEAN})
    code, doc = cli_json("lint", f2)
    assert code == 1
    assert codes(doc) == [("AML204", "/url")]


def test_legacy_endpoint_in_envelope_points_at_url() -> None:
    code, doc = cli_json("lint", str(EXAMPLES / "bad" / "kling-legacy-endpoint.json"))
    assert code == 0  # two warnings
    assert codes(doc) == [("AML203", "/url"), ("AML302", "/body/ratio")]
    code, _ = cli("lint", "--strict", str(EXAMPLES / "bad" / "kling-legacy-endpoint.json"))
    assert code == 1


# -- the JSON report --------------------------------------------------------------------


def test_json_report_shape_and_rename_fix(tmp_path: Path) -> None:
    f = write(tmp_path / "gpt.json", GPT4O_MAX_TOKENS)
    code, text = cli("lint", "--format", "json", f)
    assert code == 0
    doc = json.loads(text)
    check_report(doc)
    assert set(doc) == {"files", "summary"}
    [entry] = doc["files"]
    assert entry["path"] == f
    [finding] = entry["findings"]
    assert finding["code"] == "AML302"
    assert finding["severity"] == "warning"
    assert finding["pointer"] == "/max_tokens"
    assert "max_completion_tokens" in finding["message"]
    assert isinstance(finding["hint"], str) and finding["hint"]
    assert finding["fix"] == {"op": "move", "from": "/max_tokens",
                              "path": "/max_completion_tokens"}
    assert doc["summary"]["files"] == 1
    assert doc["summary"]["errors"] == 0
    assert doc["summary"]["warnings"] == 1


def test_json_report_omits_fix_when_there_is_none(tmp_path: Path) -> None:
    f = write(tmp_path / "typo.json", {**GPT4O_CLEAN, "temperatur": 1})
    code, doc = cli_json("lint", f)
    assert code == 1
    [finding] = doc["files"][0]["findings"]
    assert finding["code"] == "AML301"
    assert "fix" not in finding
    assert "temperature" in finding["hint"]


def test_examples_directory(tmp_path: Path) -> None:
    code, doc = cli_json("lint", str(EXAMPLES))
    assert code == 1
    check_report(doc)
    names = [Path(e["path"]).name for e in doc["files"]]
    assert set(names) == EXAMPLE_FILES and len(names) == len(EXAMPLE_FILES)
    pairs = [(Path(e["path"]).name, f["code"]) for e in doc["files"] for f in e["findings"]]
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == EXPECTED_EXAMPLE_FINDINGS
    for e in doc["files"]:
        if Path(e["path"]).parent.name == "good":
            assert e["findings"] == [], e
    assert doc["summary"]["errors"] == EXAMPLE_ERRORS
    assert doc["summary"]["warnings"] == EXAMPLE_WARNINGS


# -- models -----------------------------------------------------------------------------


def table_ids(out: str) -> list[str]:
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ID", "KIND", "STATUS"]
    return [line.split()[0] for line in lines[1:]]


def test_models_supports_param_table_and_json() -> None:
    code, out = cli("models", "--supports", "guidance_scale")
    assert code == 0
    ids = table_ids(out)
    assert "flux/dev" in ids and ids == sorted(ids)
    assert "Black Forest Labs" in out and "/v1/images/generations" in out
    code, text = cli("models", "--supports", "guidance_scale", "--format", "json")
    assert code == 0
    doc = json.loads(text)
    assert isinstance(doc, list)
    assert [m["id"] for m in doc] == ids
    for m in doc:
        assert {"id", "aliases", "kind", "status"} <= set(m)
        assert isinstance(m["aliases"], list)
    flux = next(m for m in doc if m["id"] == "flux/dev")
    assert flux["kind"] == "image" and flux["status"] == "active"


# (value, models that must be listed, models that must not): the catalog grows,
# so each case names the models whose documents decide it.
@pytest.mark.parametrize(("supports", "listed", "unlisted"), [
    ("num_images=4", ["flux/dev", IMAGEN], []),
    ("num_images=1", ["flux/dev", IMAGEN], []),
    ("num_images=5", [], ["flux/dev", IMAGEN]),
    # Imagen's document gives `num_images` a maximum but no minimum.
    ("num_images=0", [IMAGEN], ["flux/dev"]),
    ("num_images=true", [], ["flux/dev", IMAGEN]),
    ("guidance_scale=20", ["flux/dev"], []),
    ("guidance_scale=20.5", [], ["flux/dev"]),
    ("duration=10", [KLING, "minimax/hailuo-02"], ["google/veo3"]),
    ("duration=7", [], [KLING, "minimax/hailuo-02", "google/veo3"]),
    ("reasoning_effort=high", ["o3-mini"], []),
    ("reasoning_effort=extreme", [], ["o3-mini"]),
])
def test_models_supports_param_value(supports: str, listed: list[str],
                                     unlisted: list[str]) -> None:
    code, text = cli("models", "--supports", supports, "--format", "json")
    assert code == 0
    ids = [m["id"] for m in json.loads(text)]
    assert set(listed) <= set(ids) and not set(unlisted) & set(ids), ids


def test_models_no_match_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli("models", "--supports", "num_images=true")
    assert code == 0
    assert out == ""
    assert "no model matches" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--supports", "guidance_scal"],
     "no model takes a parameter 'guidance_scal'; did you mean 'guidance_scale'"),
    (["--supports", "guidance_scal=3", "--format", "json"], "'guidance_scal'"),
    (["--kind", "imag"], "unknown kind 'imag'; did you mean 'image'?"),
    (["--kind", "spaceship"], "unknown kind 'spaceship'; known: 3d, chat"),
    # an empty value (`--input "$X"`) filtered nothing out: every model was listed
    (["--input", ","], "no modality named in ','; known: text, image"),
    (["--capability", ""], "no capability named in ''; known: streaming, tools"),
    (["--endpoint", "/v1/chat/completion"],
     "unknown endpoint '/v1/chat/completion'; did you mean /v1/chat/completions?"),
    (["--endpoint", "/zzz"], "unknown endpoint '/zzz'; known: /v1/chat/completions, "),
])
def test_models_typo_in_a_filter_is_a_usage_error(argv: list[str], message: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt kind or parameter says so (exit 2), as a misspelt --input does,
    instead of "no model matches" and exit 0."""
    code, out = cli("models", *argv)
    assert code == 2 and out == ""
    assert message in capsys.readouterr().err


def test_models_known_kind_and_parameter_with_no_match_is_not_an_error() -> None:
    code, doc = cli_json("models", "--kind", "3d", "--supports", "guidance_scale")
    assert code == 0 and doc == []


def test_models_format_text_like_the_other_commands() -> None:
    code, text = cli("models", "--kind", "3d", "--format", "text")
    assert code == 0
    assert text == cli("models", "--kind", "3d", "--format", "table")[1] == cli(
        "models", "--kind", "3d")[1]
    assert "triposr" in table_ids(text)


def test_models_kind_and_status() -> None:
    # The catalog grows: check the filters on models that are sure to stay,
    # and that the rest of each answer matches the filter.
    code, doc = cli_json("models", "--kind", "chat")
    assert code == 0
    assert {m["id"] for m in doc} >= {"gpt-4o", "gpt-4o-2024-05-13", "gpt-4o-2024-08-06",
                                      "o3-mini", "anthropic/claude-sonnet-5"}
    assert {m["kind"] for m in doc} == {"chat"}
    code, doc = cli_json("models", "--kind", "video")
    ids = [m["id"] for m in doc]
    assert set(ids) >= set(VIDEO_MODELS) and ids == sorted(ids)
    assert {m["kind"] for m in doc} == {"video"}
    code, doc = cli_json("models", "--status", "removed")
    assert code == 0
    assert {m["id"] for m in doc} >= set(REMOVED_MODELS)
    assert {m["status"] for m in doc} == {"removed"}
    code, out = cli("models", "--status", "removed")
    assert table_ids(out) == [m["id"] for m in doc]
    code, doc = cli_json("models", "--kind", "image", "--status", "active")
    assert {m["id"] for m in doc} >= {"flux/dev", IMAGEN, "openai/gpt-image-1"}
    assert {(m["kind"], m["status"]) for m in doc} == {("image", "active")}


def test_models_endpoint_filter() -> None:
    code, doc = cli_json("models", "--endpoint", "https://api.aimlapi.com/v2/video/generations")
    assert code == 0
    ids = [m["id"] for m in doc]
    assert set(VIDEO_MODELS) <= set(ids) and "gpt-4o" not in ids and ids == sorted(ids)
    assert all("/v2/video/generations" in m["endpoints"] for m in doc)
    code, _ = cli("models", "--endpoint", "/v9/nowhere")
    assert code == 2


# -- show --------------------------------------------------------------------------------


def test_show_model_with_aliases_and_deprecation() -> None:
    code, out = cli("show", "gpt-4o")
    assert code == 0
    assert out.startswith("gpt-4o\n")
    assert "aliases:        openai/gpt-4o" in out
    assert "POST /v1/chat/completions" in out
    assert "context window: 128,000 tokens" in out
    lines = out.splitlines()
    i = next(n for n, line in enumerate(lines) if line.split()[:1] == ["max_tokens"])
    assert "deprecated" in lines[i + 1] and "max_completion_tokens" in lines[i + 1]


def test_show_alias_resolves_to_the_model() -> None:
    code, out = cli("show", "openai/gpt-4o")
    assert code == 0
    assert out.startswith("gpt-4o\n")


def test_show_removed_parameters_with_dates() -> None:
    code, out = cli("show", "o3-mini")
    assert code == 0
    removed = {line.split()[0]: line for line in out.splitlines() if " removed on " in line}
    assert set(removed) == {"temperature", "top_p", "frequency_penalty", "presence_penalty",
                            "logit_bias", "logprobs", "top_logprobs", "prediction"}
    assert all("removed on 2025-09-18" in line for line in removed.values())
    assert "reasoning_effort" in out


def test_show_model_with_two_endpoints() -> None:
    code, out = cli("show", KLING)
    assert code == 0
    assert "POST /v2/video/generations" in out
    assert "POST /v2/generate/video/kling/generation" in out
    assert "legacy since 2025-12-19; use /v2/video/generations" in out
    assert any(line.split()[:3] == ["aspect_ratio", "removed", "on"] and "2025-08-19" in line
               for line in out.splitlines())
    assert "deprecated since 2025-05-08" in out
    code, out = cli("show", KLING, "--endpoint", "/v2/video/generations")
    assert code == 0
    assert "POST /v2/generate/video/kling/generation" not in out


def test_show_removed_model() -> None:
    code, out = cli("show", "dall-e-3")
    assert code == 0
    assert "status:         removed since 2026-06-09" in out


def test_show_schema_is_a_valid_json_schema() -> None:
    code, text = cli("show", "flux/dev", "--schema")
    assert code == 0
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["x-aimlcat-model"] == "flux/dev"
    assert schema["x-aimlcat-endpoint"] == "/v1/images/generations"
    assert schema["properties"]["guidance_scale"]["maximum"] == 20
    assert schema["additionalProperties"] is False


def test_show_schema_of_one_endpoint_and_of_all() -> None:
    code, text = cli("show", KLING, "--schema", "--endpoint", "/v2/video/generations")
    assert code == 0
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "aspect_ratio" in schema["x-aimlcat-removed-parameters"]
    code, text = cli("show", KLING, "--schema")
    assert code == 0
    both = json.loads(text)
    assert set(both) == {"/v2/video/generations", "/v2/generate/video/kling/generation"}
    for s in both.values():
        jsonschema.Draft202012Validator.check_schema(s)


def test_show_unknown_model_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli("show", "gpt4o")
    assert code == 2
    assert out == ""
    err = capsys.readouterr().err
    assert "unknown model 'gpt4o'" in err
    assert "did you mean" in err and "gpt-4o" in err


def test_show_wrong_endpoint_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = cli("show", "flux/dev", "--endpoint", "/v1/chat/completions")
    assert code == 2
    assert capsys.readouterr().err == ("aimlcat: flux/dev is not served on /v1/chat/completions; "
                                       "its endpoints: /v1/images/generations\n")
    code, _ = cli("show", "flux/dev", "--endpoint", "/v1/nope")
    assert code == 2
    assert capsys.readouterr().err == ("aimlcat: flux/dev is not served on /v1/nope (no endpoint "
                                       "of the gateway); its endpoints: /v1/images/generations\n")
    code, _ = cli("show", "veed/fabric-1.0-fast", "--endpoint", "/v2/video/generations")
    assert code == 2
    assert capsys.readouterr().err == ("aimlcat: no document names an endpoint of "
                                       "veed/fabric-1.0-fast, so --endpoint "
                                       "/v2/video/generations picks nothing; leave it out\n")


def test_show_schema_and_example_are_one_or_the_other(
        capsys: pytest.CaptureFixture[str]) -> None:
    """`show gpt-4o --schema --example` printed the schema alone, --example dropped."""
    code, out = cli("show", "gpt-4o", "--schema", "--example")
    assert code == 2 and out == ""
    assert "not allowed with argument" in capsys.readouterr().err


# -- build / check-catalog -----------------------------------------------------------------


def test_build_check_passes_on_the_repo() -> None:
    code, out = cli("build", "--check", "--catalog", str(CATALOG), "--out", str(SCHEMAS))
    assert code == 0, out
    assert "is up to date" in out


def test_build_check_reports_stale_schema(tmp_path: Path) -> None:
    cat = tmp_path / "catalog"
    out_dir = tmp_path / "schemas"
    shutil.copytree(CATALOG, cat)
    shutil.copytree(SCHEMAS, out_dir)
    flux = cat / "models" / "flux" / "images.yaml"
    text = flux.read_text(encoding="utf-8")
    old = "num_images: {minimum: 1, maximum: 4}"
    assert old in text  # flux/dev's, the file's first entry
    flux.write_text(text.replace(old, "num_images: {minimum: 1, maximum: 8}", 1),
                    encoding="utf-8")
    before = {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}

    code, out = cli("build", "--check", "--catalog", str(cat), "--out", str(out_dir))
    assert code == 1
    assert "stale:   schemas/models/flux_dev/images-generations.json" in out
    assert "stale:   schemas/index.json" in out  # the parameter summary changed too
    assert "kling" not in out and "gpt-4o" not in out
    assert "is stale: run `aimlcat build`" in out
    # --check writes nothing
    assert {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()} == before

    code, out = cli("build", "--catalog", str(cat), "--out", str(out_dir))
    assert code == 0
    assert "2 written" in out
    schema = json.loads((out_dir / "models" / "flux_dev" / "images-generations.json").read_text())
    assert schema["properties"]["num_images"]["maximum"] == 8
    code, _ = cli("build", "--check", "--catalog", str(cat), "--out", str(out_dir))
    assert code == 0


def test_build_check_reports_missing_and_extra(tmp_path: Path) -> None:
    out_dir = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, out_dir)
    (out_dir / "models" / "o3-mini" / "chat-completions.json").unlink()
    write(out_dir / "models" / "gone" / "chat-completions.json", "{}\n")
    code, out = cli("build", "--check", "--catalog", str(CATALOG), "--out", str(out_dir))
    assert code == 1
    assert "missing: schemas/models/o3-mini/chat-completions.json" in out
    assert "extra:   schemas/models/gone/chat-completions.json" in out


def snapshot(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file()}


def test_build_into_fresh_dir_is_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    code, out = cli("build", "--catalog", str(CATALOG), "--out", str(a))
    assert code == 0, out
    assert "0 removed" in out
    code, out = cli("build", "--check", "--catalog", str(CATALOG), "--out", str(a))
    assert code == 0, out
    code, _ = cli("build", "--catalog", str(CATALOG), "--out", str(b))
    assert code == 0
    first = snapshot(a)
    assert "index.json" in first and "defs.json" in first
    assert first == snapshot(b)
    # and the committed schemas/ are exactly what the build produces
    assert first == snapshot(SCHEMAS)
    # building again over the same output changes nothing
    code, out = cli("build", "--catalog", str(CATALOG), "--out", str(a))
    assert code == 0
    assert f"0 written, 0 removed, {len(first)} unchanged" in out
    assert snapshot(a) == first


@pytest.mark.parametrize("check", [False, True])
def test_build_out_that_is_no_directory_is_one_error(tmp_path: Path, check: bool,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`build --out FILE` was a FileExistsError traceback (`--check` called FILE stale), and
    an --out below a file a NotADirectoryError one."""
    (tmp_path / "afile").write_text("")
    flags = ["--check"] if check else []
    code, out = cli("build", "--catalog", str(CATALOG), "--out", str(tmp_path / "afile"), *flags)
    assert (code, out) == (2, "")
    assert capsys.readouterr().err == (f"aimlcat: {tmp_path / 'afile'} is not a directory: "
                                       "--out names the schemas directory\n")
    if not check:
        code, out = cli("build", "--catalog", str(CATALOG), "--out", str(tmp_path / "afile" / "s"))
        assert (code, out) == (2, "")
        assert capsys.readouterr().err.startswith(f"aimlcat: cannot write {tmp_path / 'afile'}")


def test_build_of_broken_catalog_writes_nothing(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    cat = tmp_path / "catalog"
    shutil.copytree(CATALOG, cat)
    (cat / "models" / "flux" / "images.yaml").write_text("models: [\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    code, _ = cli("build", "--catalog", str(cat), "--out", str(out_dir))
    assert code == 2
    err = capsys.readouterr().err
    assert "catalog/models/flux/images.yaml:" in err
    assert "nothing written" in err
    assert not out_dir.exists()


def test_check_catalog_passes_on_the_repo() -> None:
    code, out = cli("check-catalog", "--catalog", str(CATALOG))
    assert code == 0, out
    assert " OK: " in out


# -- real subprocess runs -------------------------------------------------------------------


def run_module(*argv: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AIMLCAT_SCHEMAS"}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run([sys.executable, "-m", "aimlcat", *argv], cwd=cwd, env=env,
                          input=stdin, capture_output=True, text=True, encoding="utf-8",
                          timeout=120)


@pytest.mark.slow
def test_subprocess_lint_examples_json(tmp_path: Path) -> None:
    proc = run_module("lint", str(EXAMPLES), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    check_report(doc)
    pairs = {(Path(e["path"]).name, f["code"]) for e in doc["files"] for f in e["findings"]}
    assert pairs == EXPECTED_EXAMPLE_FINDINGS


@pytest.mark.slow
def test_subprocess_lint_stdin_with_endpoint(tmp_path: Path) -> None:
    proc = run_module("lint", "--endpoint", "https://api.aimlapi.com/v1/chat/completions", "-",
                      cwd=tmp_path, stdin=json.dumps(GPT4O_CLEAN))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "1 file checked: no problems."
    proc = run_module("lint", "--strict", "-", cwd=tmp_path, stdin=json.dumps(GPT4O_MAX_TOKENS))
    assert proc.returncode == 1
    text = json.dumps(GPT4O_MAX_TOKENS)
    assert f"<stdin>:1:{text.index('max_tokens')}: AML302 warning:" in proc.stdout


@pytest.mark.slow
def test_subprocess_build_check_and_usage_error_from_elsewhere(tmp_path: Path) -> None:
    # From a directory without catalog/, build --check uses the catalog aimlcat comes from.
    proc = run_module("build", "--check", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "is up to date" in proc.stdout
    proc = run_module("lint", str(tmp_path / "nowhere.json"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "no such file" in proc.stdout
    proc = run_module("frobnicate", cwd=tmp_path)
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "expected"), [
    (["lint", "many.jsonl"], 141),  # a check stopped midway: its verdict is unknown
    (["models"], 0),  # a listing: the reader has what it wanted
])
def test_a_reader_that_stops_early_fails_a_check_not_a_listing(
        tmp_path: Path, argv: list[str], expected: int) -> None:
    """`aimlcat lint requests | head` exited 0 with errors in the files, so a pipeline
    under `set -o pipefail` passed a lint that had not even finished."""
    line = json.dumps({**GPT4O_CLEAN, "temperatur": 1})
    (tmp_path / "many.jsonl").write_text((line + "\n") * 3000)  # far past a pipe's buffer
    env = {k: v for k, v in os.environ.items() if k != "AIMLCAT_SCHEMAS"}
    with subprocess.Popen([sys.executable, "-m", "aimlcat", *argv], cwd=tmp_path, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline()
        proc.stdout.close()  # as `head -1` does
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == expected
    assert b"Traceback" not in err
