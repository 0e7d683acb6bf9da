"""Modalities and capabilities: derived from the parameters at build time, recorded where
the parameters cannot tell, queried (library and CLI), and used by the findings
AML501-AML504. Everything runs on the real catalog (or a copy of it with planted
problems); sync's disagreements are in tests/test_sync.py."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import aimlcat
from aimlcat._cli import run as cli_run
from aimlcat._exceptions import UsageError

REPO = Path(__file__).resolve().parent.parent
CATALOG = REPO / "catalog"
HELLO = [{"role": "user", "content": "Hello"}]
IMAGE_PART = {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}


@pytest.fixture(scope="module")
def cat() -> aimlcat.Catalog:
    return aimlcat.load_catalog()


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    import contextlib

    with contextlib.redirect_stderr(err):
        code = cli_run(list(argv), out)
    return code, out.getvalue(), err.getvalue()


def codes(report: aimlcat.Report) -> list[tuple[str, str]]:
    return [(f.code, f.pointer) for f in report.findings]


# -- derivation, on real models ---------------------------------------------------------

@pytest.mark.parametrize(("model", "takes", "gives", "has", "lacks"), [
    # image parts in its messages; tools, stream, response_format json_schema / json_object
    ("gpt-4o", {"text", "image"}, {"text"},
     {"vision", "tools", "streaming", "structured_output", "json_mode"}, set()),
    # text-only messages; reasoning recorded on its family (no parameter proves it)
    ("o3-mini", {"text"}, {"text"}, {"tools", "streaming", "reasoning"}, {"vision"}),
    # `image_url` required: image to video, and no text-only video
    ("kling-video/v1.6/pro/image-to-video", {"text", "image"}, {"video"}, {"image_to_video"},
     {"text_to_video", "tools", "streaming"}),
    ("kling-video/v1.5/pro/text-to-video", {"text"}, {"video"}, {"text_to_video"},
     {"image_to_video", "video_to_video"}),
    ("alibaba/wan2.2-vace-fun-a14b-pose", {"video"}, {"video"}, {"video_to_video"}, set()),
    ("flux/dev", {"text"}, {"image"}, {"text_to_image"}, {"image_to_image", "vision"}),
    ("openai/tts-1", {"text"}, {"audio"}, set(), {"streaming"}),
    ("text-embedding-3-small", {"text"}, {"embedding"}, set(), set()),
    ("triposr", {"image"}, {"3d"}, set(), set()),
    # `thinking` proves reasoning; Claude's messages take image blocks
    ("anthropic/claude-sonnet-5", {"text", "image"}, {"text"},
     {"reasoning", "vision", "tools", "streaming"}, set()),
])
def test_derived_sets_of_real_models(cat: aimlcat.Catalog, model: str, takes: set[str],
                                     gives: set[str], has: set[str], lacks: set[str]) -> None:
    info = cat.model(model)
    assert takes <= set(info.input_modalities)
    assert gives == set(info.output_modalities)
    assert has <= set(info.capabilities)
    assert not lacks & set(info.capabilities)


def test_exact_sets_where_the_parameters_say_everything(cat: aimlcat.Catalog) -> None:
    # o3-mini's chat page takes text only; its Responses page takes `input_file` parts.
    assert cat.model("o3-mini").input_modalities == ("text", "file")
    assert cat.model("kling-video/v1.5/pro/text-to-video").input_modalities == ("text",)
    whisper = next(m for m in cat.models(kind="stt", status="active") if m.endpoints)
    assert whisper.input_modalities == ("audio",)  # a transcription prompt is no input
    assert whisper.output_modalities == ("text",)


def test_the_index_stores_the_final_sets(cat: aimlcat.Catalog) -> None:
    index = json.loads((REPO / "schemas" / "index.json").read_text(encoding="utf-8"))
    sets = index["ability_sets"]
    rec = index["models"]["gpt-4o"]
    assert sets[rec["abilities"]]["capabilities"] == list(cat.model("gpt-4o").capabilities)
    assert set(index["capabilities"]) >= {"streaming", "tools", "structured_output", "vision",
                                          "image_to_video"}
    assert index["capabilities"]["image_to_video"]["live"] is True
    assert "image_url" in index["modalities"]["image"]["parts"]


# -- check-catalog: recorded facts the parameters contradict ----------------------------

def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("caps") / "catalog"
    shutil.copytree(CATALOG, root)
    video = root / "families" / "video.yaml"
    text = video.read_text()
    anchor = "    description: Models on the universal asynchronous video endpoint.\n"
    assert anchor in text
    video.write_text(text.replace(anchor, anchor + "    capabilities: [tools, reasoning]\n"))
    (root / "models" / "example").mkdir()
    (root / "models" / "example" / "chat.yaml").write_text(
        "developer: Example Labs\nkind: chat\nmodels:\n"
        "  example/text-only:\n"
        "    modalities: {input: [text, image], output: [text, audio]}\n"
        "    capabilities: [vision, web_search]\n"
        "    endpoints:\n"
        "      - family: openai-reasoning-chat\n")
    return root


def test_check_catalog_fails_on_contradictions_with_lines(planted: Path) -> None:
    code, out, err = cli("check-catalog", "--catalog", str(planted))
    assert code != 0
    text = out + err
    video = planted / "families" / "video.yaml"
    line = _line_of(video, "capabilities: [tools, reasoning]")
    assert (f"catalog/families/video.yaml:{line}: families.video-generation.capabilities: "
            "records 'tools', but the parameters of ") in text
    assert "it needs a `tools` parameter" in text
    # reasoning is not decided by the parameters: recording it is allowed
    assert "records 'reasoning'" not in text
    # once per family, not once per model of it
    assert text.count("families.video-generation.capabilities") == 1
    model = planted / "models" / "example" / "chat.yaml"
    mline = _line_of(model, "modalities:")
    assert (f"catalog/models/example/chat.yaml:{mline}: models.example/text-only.modalities.input: "
            "records input 'image', but no parameter of example/text-only takes it") in text
    cline = _line_of(model, "capabilities:")
    assert (f"catalog/models/example/chat.yaml:{cline}: models.example/text-only.capabilities: "
            "records 'vision'") in text
    # outputs and undecided capabilities may be recorded
    assert "'audio'" not in text and "'web_search'" not in text


def test_unknown_names_are_reported_with_a_guess(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(CATALOG, root)
    (root / "models" / "example").mkdir()
    f = root / "models" / "example" / "chat.yaml"
    f.write_text("developer: Example Labs\nkind: chat\nmodels:\n"
                 "  example/typo:\n"
                 "    modalities: {input: [imgae]}\n"
                 "    capabilities: [tool]\n")
    code, out, err = cli("check-catalog", "--catalog", str(root))
    text = out + err
    assert code != 0
    assert ("catalog/models/example/chat.yaml:5: models.example/typo.modalities.input: 'imgae' "
            "is not a modality of the vocabulary; did you mean 'image'?") in text
    assert ("catalog/models/example/chat.yaml:6: models.example/typo.capabilities: 'tool' is not "
            "a capability of the vocabulary; did you mean 'tools'?") in text


def test_the_real_catalog_has_no_contradiction() -> None:
    code, out, _ = cli("check-catalog", "--catalog", str(CATALOG))
    assert code == 0, out


# -- queries --------------------------------------------------------------------------------

def test_library_filters_or_within_and_across(cat: aimlcat.Catalog) -> None:
    i2v = {m.id for m in cat.models(input="image", output="video")}
    assert "kling-video/v1.6/pro/image-to-video" in i2v
    assert "kling-video/v1.5/pro/text-to-video" not in i2v
    assert all("image" in cat.model(m).input_modalities for m in i2v)
    # comma-separated and repeated values are OR-ed
    either = {m.id for m in cat.models(output="image,video")}
    assert either == {m.id for m in cat.models(output=["image", "video"])}
    assert either == {m.id for m in cat.models(output="image")} | {
        m.id for m in cat.models(output="video")}
    # different filters AND-ed, and with --supports too
    both = cat.models(capability="tools", input="image", supports="temperature")
    assert both and all("tools" in m.capabilities and "image" in m.input_modalities
                        for m in both)
    assert {m.id for m in both} <= {m.id for m in cat.models(supports="temperature")}
    assert {m.id for m in cat.models(modality="video")} >= i2v
    with pytest.raises(UsageError, match="did you mean 'image'"):
        cat.models(input="imag")
    with pytest.raises(UsageError, match="unknown capability 'teleport'; known: streaming"):
        cat.models(capability="teleport")


def test_done_when_models_input_image_output_video() -> None:
    code, out, _ = cli("models", "--input", "image", "--output", "video")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ID", "KIND", "STATUS"] and "TAKES -> GIVES" in lines[0]
    ids = [line.split()[0] for line in lines[1:]]
    assert "kling-video/v1.6/pro/image-to-video" in ids
    assert "kling-video/v1.5/pro/text-to-video" not in ids
    assert not any(i.endswith("text-to-video") for i in ids)
    code, text, _ = cli("models", "--input", "image", "--output", "video", "--format", "json")
    doc = json.loads(text)
    assert [m["id"] for m in doc] == ids
    assert all("image" in m["modalities"]["input"] and m["modalities"]["output"] == ["video"]
               for m in doc)


def test_cli_capability_filters() -> None:
    code, text, _ = cli("models", "--capability", "tools", "--capability", "vision",
                        "--status", "active", "--format", "json")
    assert code == 0
    doc = json.loads(text)
    assert doc and all({"tools", "vision"} & set(m["capabilities"]) for m in doc)
    assert any("vision" not in m["capabilities"] for m in doc)  # OR-ed
    code, text, _ = cli("models", "--capability", "image_to_video", "--supports", "duration=10",
                        "--format", "json")
    ids = [m["id"] for m in json.loads(text)]
    assert "kling-video/v1.6/pro/image-to-video" in ids
    code, _, err = cli("models", "--capability", "tool")
    assert code == 2 and "unknown capability 'tool'; did you mean 'tools'?" in err


def test_show_lists_what_a_model_takes_and_gives() -> None:
    code, out, _ = cli("show", "gpt-4o")
    assert code == 0
    assert "  takes:          text, image, file\n  gives:          text\n" in out
    assert "capabilities:   streaming, tools, structured_output" in out


# -- findings ----------------------------------------------------------------------------------

def test_done_when_image_part_to_text_only_model(cat: aimlcat.Catalog) -> None:
    body = {"model": "o3-mini", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"}, IMAGE_PART]}]}
    r = cat.validate(body)
    assert codes(r) == [("AML501", "/messages/0/content/1")]  # one error, not the schema's
    f = r.findings[0]
    # (o3-mini's Responses page takes files; no endpoint of it takes images)
    assert f.severity == "error" and "is an image part; o3-mini takes text and files" in f.message
    named = f.hint.split("on /v1/chat/completions: ", 1)[1].split(" (more", 1)[0].split(", ")
    assert len(named) == 3
    for mid in named:
        info = cat.model(mid)
        assert "vision" in info.capabilities and info.status == "active"
        assert "/v1/chat/completions" in info.endpoints
        assert info.developer == "OpenAI"  # the same kind and developer first
    assert "--input image" in f.hint
    # each named model accepts the request as it is
    for mid in named:
        assert cat.validate({**body, "model": mid}).findings == []


def test_an_image_part_among_other_errors(cat: aimlcat.Catalog) -> None:
    body = {"model": "o3-mini", "messages": [{"role": "user", "content": [
        IMAGE_PART, {"type": "text", "text": 5}]}]}
    assert codes(cat.validate(body)) == [("AML501", "/messages/0/content/0"),
                                         ("AML401", "/messages/0/content/1/text")]


def test_models_named_accept_the_whole_request(cat: aimlcat.Catalog) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    body = {"model": "o3-mini", "messages": [{"role": "user", "content": [IMAGE_PART]}],
            "tools": tools, "stream": True}
    r = cat.validate(body)
    [f] = r.findings
    assert f.code == "AML501" and "Models that accept this request" in f.hint
    assert "--input image --capability streaming --capability tools" in f.hint


def test_the_query_in_the_hint_lists_only_models_that_take_the_request(
        cat: aimlcat.Catalog) -> None:
    """Repeated --input/--capability values are OR-ed, as in GET /v1/models; a request
    that needs two of them must ask for --match-all, or the "more" list holds models that
    would reject it (an image-only model for an image and audio request)."""
    audio = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    body = {"model": "o3-mini", "messages": [{"role": "user", "content": [IMAGE_PART, audio]}],
            "tools": tools, "stream": True}
    hint = cat.validate(body).findings[0].hint or ""
    query = hint.split("(more: `", 1)[1].split("`", 1)[0]
    assert query.endswith(" --match-all")
    named = hint.split(" on /v1/chat/completions: ", 1)[1].split(" (more", 1)[0].split(", ")
    code, out, _ = cli(*query.split()[1:], "--format", "json")
    assert code == 0
    listed = {m["id"]: m for m in json.loads(out)}
    assert set(named) <= set(listed)
    for m in listed.values():
        assert {"image", "audio"} <= set(m["modalities"]["input"]), m["id"]
        assert {"streaming", "tools"} <= set(m["capabilities"]), m["id"]
    # Without it, the same filters list more: models with either input.
    code, out, _ = cli(*query.split()[1:-1], "--format", "json")
    assert len(json.loads(out)) > len(listed)
    # One value per filter needs no --match-all.
    hint = cat.validate({**body, "messages": [{"role": "user", "content": [IMAGE_PART]}],
                         "tools": None, "stream": False}).findings[0].hint or ""
    assert "--match-all" not in hint


def test_match_all_in_the_library(cat: aimlcat.Catalog) -> None:
    both = cat.models(input=["image", "audio"], match_all=True)
    either = cat.models(input="image,audio")
    assert both and len(both) < len(either)
    assert all({"image", "audio"} <= set(m.input_modalities) for m in both)
    assert {m.id for m in both} <= {m.id for m in either}


def test_image_parameter_to_a_text_to_video_model(cat: aimlcat.Catalog) -> None:
    r = cat.validate({"model": "kling-video/v1.5/pro/text-to-video", "prompt": "a cat",
                      "image_url": "https://example.com/a.jpg"})
    assert codes(r) == [("AML501", "/image_url")]
    assert "kling-video/v1.5/pro/image-to-video" in r.findings[0].hint


def test_audio_and_file_parts(cat: aimlcat.Catalog) -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    r = cat.validate({"model": "gpt-4o", "messages": [{"role": "user", "content": [audio]}]})
    assert codes(r) == [("AML501", "/messages/0/content/0")]
    assert "is an audio part; gpt-4o takes text, images and files" in r.findings[0].message
    pdf = {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}}
    r = cat.validate({"model": "zhipu/glm-4.5", "messages": [{"role": "user", "content": [pdf]}]})
    assert codes(r) == [("AML501", "/messages/0/content/0")]
    assert "a file part" in r.findings[0].message


def test_stream_true_to_a_model_that_cannot_stream(cat: aimlcat.Catalog) -> None:
    body = {"model": "openai/tts-1", "text": "Hello", "voice": "alloy", "stream": True}
    r = cat.validate(body)
    assert codes(r) == [("AML502", "/stream")]
    named = r.findings[0].hint.split("on /v1/tts: ", 1)[1].split(" (more", 1)[0].split(", ")
    assert all("streaming" in cat.model(m).capabilities for m in named)
    # Its `stream` takes false only (the schema rejected true: one AML502, not AML403)
    assert cat.validate({**body, "stream": False}).findings == []
    # A model with no `stream` at all: true is AML502, false the plain AML301
    body = {"model": "bytedance/seed-audio-1-0", "text": "Hello"}
    params = cat.model_record(body["model"])["endpoints"]["/v1/tts"]["parameters"]
    assert "stream" not in params
    assert codes(cat.validate({**body, "stream": True})) == [("AML502", "/stream")]
    assert codes(cat.validate({**body, "stream": False})) == [("AML301", "/stream")]


def test_tools_to_a_model_without_tool_calling(cat: aimlcat.Catalog) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    r = cat.validate({"model": "deepseek/deepseek-r1", "messages": HELLO, "tools": tools})
    assert codes(r) == [("AML503", "/tools")]
    named = r.findings[0].hint.split(": ", 1)[1].split(" (more", 1)[0].split(", ")
    assert named and all("tools" in cat.model(m).capabilities for m in named)
    assert all(cat.model(m).developer == "DeepSeek" for m in named)


@pytest.mark.parametrize(("model", "fmt", "pointer", "hint"), [
    # takes json_object only: the schema rejected the type
    ("deepseek/deepseek-v4-pro-0813", {"type": "json_schema", "json_schema": {"name": "a"}},
     "/response_format/type", "It takes json_object"),
    # takes no response_format at all
    ("anthropic/claude-haiku-4.5", {"type": "json_object"}, "/response_format", "json_mode"),
])
def test_response_format_the_model_does_not_take(cat: aimlcat.Catalog, model: str,
                                                 fmt: dict[str, Any], pointer: str,
                                                 hint: str) -> None:
    r = cat.validate({"model": model, "messages": HELLO, "response_format": fmt},
                     endpoint="/v1/chat/completions")
    assert codes(r) == [("AML504", pointer)]
    assert hint in r.findings[0].hint


def test_findings_from_lint_name_the_line(tmp_path: Path) -> None:
    f = tmp_path / "vision.json"
    f.write_text(json.dumps({"model": "o3-mini", "messages": [
        {"role": "user", "content": [{"type": "text", "text": "What is this?"}, IMAGE_PART]}]},
        indent=2))
    code, out, _ = cli("lint", str(f), "--no-progress")
    assert code == 1
    assert ("AML501 error: `/messages/0/content/1` is an image part; o3-mini takes text and files"
            in out)
    assert "AML403" not in out and "AML408" not in out
