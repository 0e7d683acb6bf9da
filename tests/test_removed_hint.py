"""AML103 on a removed model with a replacement: what the body must change to switch."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import aimlcat
from aimlcat import load_catalog
from aimlcat._compiler import compile_catalog, write_schemas
from aimlcat._loader import load_catalog_source

REPO = Path(__file__).resolve().parents[1]

MODELS = """\
developer: Test
kind: video
models:
  old-video:
    status: removed
    status_since: 2025-05-01
    replacement: new-video
    endpoints:
      - family: video-generation
        parameters:
          prompt: {}
          cfg_scale: {}
          prompt_optimizer: {}
          camera_fixed: {type: boolean, description: Keep the camera still.}
  new-video:
    endpoints:
      - family: video-generation
        parameters:
          prompt: {}
          guidance_scale: {}
          enhance_prompt: {}
  gone-video:
    status: removed
    replacement: new-video
  old-undocumented:
    status: removed
    replacement: bare-video
  bare-video: {}
"""


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> aimlcat.Catalog:
    root = tmp_path_factory.mktemp("hint")
    shutil.copytree(REPO / "catalog", root / "catalog",
                    ignore=shutil.ignore_patterns("models"))
    (root / "catalog" / "models" / "test").mkdir(parents=True)
    (root / "catalog" / "models" / "test" / "video.yaml").write_text(MODELS)
    write_schemas(compile_catalog(load_catalog_source(root / "catalog")), root / "schemas")
    return load_catalog(root / "schemas")


def _hint(cat: aimlcat.Catalog, body: dict[str, object]) -> str:
    (f,) = cat.validate(body).findings
    assert (f.code, f.pointer) == ("AML103", "/model")
    return f.hint or ""


def test_hint_names_renamed_and_unknown_keys(cat: aimlcat.Catalog) -> None:
    hint = _hint(cat, {"model": "old-video", "prompt": "a cat", "cfg_scale": 0.5,
                       "prompt_optimizer": True, "camera_fixed": True})
    assert hint.startswith("Switch to `new-video`.")
    assert ("On /v2/video/generations it calls `cfg_scale` `guidance_scale`, "
            "`prompt_optimizer` `enhance_prompt`.") in hint
    assert hint.endswith("It does not take `camera_fixed`; drop it.")


def test_hint_for_a_body_the_replacement_takes_as_it_is(cat: aimlcat.Catalog) -> None:
    assert _hint(cat, {"model": "old-video", "prompt": "a cat"}) == "Switch to `new-video`."


def test_only_unknown_keys(cat: aimlcat.Catalog) -> None:
    hint = _hint(cat, {"model": "gone-video", "prompt": "x", "a": 1, "b": 2})
    assert hint == ("Switch to `new-video`. It does not take `a`, `b` on "
                    "/v2/video/generations; drop them.")


def test_a_replacement_without_documented_parameters_says_nothing_more(
        cat: aimlcat.Catalog) -> None:
    assert _hint(cat, {"model": "old-undocumented", "x": 1}) == "Switch to `bare-video`."


def test_keys_the_removed_model_did_not_take_either_are_told_apart(
        cat: aimlcat.Catalog) -> None:
    """The catalog keeps a removed model's last parameters: a key it never took is a
    typo, not something the move to the replacement loses."""
    hint = _hint(cat, {"model": "old-video", "prompt": "a cat", "camera_fixed": True,
                       "cfg_scalr": 0.5})
    assert hint == ("Switch to `new-video`. It does not take `camera_fixed` on "
                    "/v2/video/generations; drop it. Neither model takes `cfg_scalr`; drop it.")
