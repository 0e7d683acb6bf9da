"""`aimlcat stats` figures, and check-catalog's repeated-definition check."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from aimlcat._cli import run
from aimlcat._loader import REPEAT_LIMIT, find_repeated_definitions
from aimlcat._stats import catalog_stats

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "catalog"

MODELS = """\
developer: Acme
kind: chat
models:
  acme/one:
    aliases: [one]
    endpoints:
      - family: openai-chat
  acme/two:
    status: removed
    status_since: 2025-01-02
  acme/three:
    kind: image
    notes: Parameters not documented.
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """The repository's shared files (endpoints, vocabulary, families, shapes), three models."""
    dst = tmp_path / "catalog"
    shutil.copytree(CATALOG, dst, ignore=shutil.ignore_patterns("models"))
    (dst / "models" / "acme").mkdir(parents=True)
    (dst / "models" / "acme" / "chat.yaml").write_text(MODELS, encoding="utf-8")
    return dst


def _cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run(list(argv), out=out)
    return code, out.getvalue()


def test_counts_by_kind_and_status(small: Path) -> None:
    s = catalog_stats(small)
    assert s["models"] == 3 and s["ids"] == 4
    assert s["by_kind"] == {"chat": {"active": 1, "removed": 1}, "image": {"active": 1}}
    assert s["by_status"] == {"active": 2, "removed": 1}
    assert s["model_endpoints"] == 1
    assert s["without_parameter_rules"] == {"active": ["acme/three"], "removed": ["acme/two"]}


def test_yaml_lines_per_model(small: Path) -> None:
    y = catalog_stats(small)["yaml"]
    # acme/one: 4 lines (key, aliases, endpoints, family); acme/two: 3; acme/three: 3
    assert y["entry_lines"]["max"] == 4 and y["entry_lines"]["median"] == 3
    assert y["entry_lines"]["largest"][0] == {"id": "acme/one", "lines": 4}
    assert y["lines_in_model_files"] == len(MODELS.splitlines())
    assert y["lines_per_model"] == round(y["lines"] / 3, 1)


def test_stats_command_text_and_json(small: Path) -> None:
    code, text = _cli("stats", "--catalog", str(small))
    assert code == 0
    assert "3 models, 4 ids (with aliases), 1 model x endpoint schemas" in text
    assert "  acme/three  (active)" in text
    assert "ids without parameter rules: 2 (1 active, 1 removed)" in text
    code, text = _cli("stats", "--catalog", str(small), "--format", "json")
    assert code == 0
    assert json.loads(text) == catalog_stats(small)


def test_stats_on_the_repository_agrees_with_the_runtime() -> None:
    from aimlcat import load_catalog

    s = catalog_stats(CATALOG)
    cat = load_catalog()
    assert s["models"] == len({cat.resolve(i) for i in cat.ids()})
    assert sum(sum(v.values()) for v in s["by_kind"].values()) == s["models"]
    assert sum(s["by_status"].values()) == s["models"]
    assert s["ids"] == len(cat.ids())


def test_stats_on_a_broken_catalog_is_a_usage_error(small: Path) -> None:
    (small / "models" / "acme" / "chat.yaml").write_text(
        MODELS.replace("family: openai-chat", "family: nope"), encoding="utf-8")
    code, _ = _cli("stats", "--catalog", str(small))
    assert code == 2


# -- repeated definitions ---------------------------------------------------------------

SHAPE = """\
          camera:
            type: object
            properties:
              pan: {type: number, minimum: -10, maximum: 10}
              tilt: {type: number, minimum: -10, maximum: 10}
"""


def _video_file(root: Path, n: int, shape: str = SHAPE) -> None:
    text = (f"developer: Acme\nkind: video\nmodels:\n  acme/video-{n}:\n    endpoints:\n"
            "      - family: video-generation\n        parameters:\n" + shape)
    path = root / "models" / f"acme{n}" / "video.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _check(root: Path) -> tuple[int, str]:
    return _cli("check-catalog", "--catalog", str(root))


def test_a_shape_in_as_many_files_as_allowed_passes(small: Path) -> None:
    for n in range(REPEAT_LIMIT):
        _video_file(small, n)
    assert find_repeated_definitions(small) == []
    code, text = _check(small)
    assert code == 0, text


def test_a_shape_in_more_files_is_flagged_once_at_its_first_use(small: Path) -> None:
    for n in range(REPEAT_LIMIT + 1):
        _video_file(small, n)
    problems = find_repeated_definitions(small)
    assert len(problems) == 1
    (p,) = problems
    assert (p.file, p.line) == ("catalog/models/acme0/video.yaml", 8)
    assert p.key == "models.acme/video-0.endpoints[0].parameters.camera"
    assert f"{REPEAT_LIMIT + 1} files" in p.message and "acme3/video.yaml" in p.message
    code, text = _check(small)
    assert code == 1
    assert text.startswith("catalog/models/acme0/video.yaml:8: models.acme/video-0.endpoints[0]"
                           ".parameters.camera: repeated word for word in 4 files")


def test_small_flat_specs_and_different_shapes_are_not_flagged(small: Path) -> None:
    flat = "          seed: {minimum: 0, maximum: 100}\n"
    for n in range(REPEAT_LIMIT + 2):
        # the same flat spec everywhere, and the shape with a different bound each time
        _video_file(small, n, flat + SHAPE.replace("maximum: 10}", f"maximum: {10 + n}}}", 1))
    assert find_repeated_definitions(small) == []


def test_a_shape_repeated_inside_one_file_counts_once(small: Path) -> None:
    twice = SHAPE + SHAPE.replace("camera:", "camera2:")
    for n in range(REPEAT_LIMIT):
        _video_file(small, n, twice)
    assert find_repeated_definitions(small) == []


def test_nested_shapes_are_found_too(small: Path) -> None:
    nested = ("          config:\n            type: object\n            properties:\n"
              "              camera:\n" + "\n".join("    " + ln for ln in SHAPE.splitlines()[1:])
              + "\n              mode: {type: string}\n")
    for n in range(REPEAT_LIMIT):
        _video_file(small, n, nested)
    _video_file(small, 99)  # the bare shape once more, at the top level
    keys: list[Any] = [p.key for p in find_repeated_definitions(small)]
    assert keys == ["models.acme/video-0.endpoints[0].parameters.config.properties.camera"]


def test_the_repository_has_no_repeated_definitions() -> None:
    assert [str(p) for p in find_repeated_definitions(CATALOG)] == []
