"""The compiled schemas stand on their own: valid Draft 2020-12, usable by another
engine with the same verdicts, and consistent with the index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing

from aimlcat import load_catalog
from aimlcat._payloads import discover, read_payload

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "schemas"


def _schema_files() -> list[Path]:
    return sorted(p for p in SCHEMAS.rglob("*.json") if p.name != "index.json")


@pytest.mark.parametrize("path", _schema_files(), ids=lambda p: p.relative_to(SCHEMAS).as_posix())
def test_every_schema_is_valid_draft_2020_12(path: Path) -> None:
    schema = json.loads(path.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_index_points_at_existing_schemas() -> None:
    index = json.loads((SCHEMAS / "index.json").read_text())
    for mid, rec in index["models"].items():
        for path, ep in rec["endpoints"].items():
            schema = json.loads((SCHEMAS / ep["schema"]).read_text())
            assert schema["x-aimlcat-model"] == mid
            assert schema["x-aimlcat-endpoint"] == path
            # Endpoints name their parameter summaries by position in `parameter_sets`.
            params = index["parameter_sets"][ep["parameters"]]
            assert list(schema["properties"]) == list(params)
            # Closed at the top: the validator takes a key that is no parameter as a
            # failed body without asking the engine.
            assert schema["additionalProperties"] is False


def test_index_has_a_line_per_model() -> None:
    """Start-up parses the index: it is compact, yet a change to one model (or one shared
    parameter set) is a change to one line of it."""
    text = (SCHEMAS / "index.json").read_text(encoding="utf-8")
    index = json.loads(text)
    lines = text.splitlines()
    for mid, rec in index["models"].items():
        line = json.dumps(mid, ensure_ascii=False) + ":" + json.dumps(
            rec, ensure_ascii=False, separators=(",", ":"))
        assert line in lines or line + "," in lines, mid
    entries = sum(len(index[k]) for k in ("models", "parameter_sets", "ability_sets",
                                           "endpoints", "modalities", "capabilities"))
    assert len(lines) <= entries + 2 * len(index) + 2


def _bodies() -> list[tuple[str, Any, str | None]]:
    out = []
    for f in discover([str(REPO / "examples"), str(REPO / "bench" / "data")]):
        p = read_payload(f)
        out.append((Path(f).name, p.body, p.endpoint))
    return out


def test_pure_python_engine_agrees_with_jsonschema_rs() -> None:
    """Another engine, given the files as they are, reaches the same verdicts."""
    cat = load_catalog()
    defs = cat.defs()
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(
        defs["$id"], referencing.Resource.from_contents(defs))
    checked = 0
    for name, body, endpoint in _bodies():
        report = cat.validate(body, endpoint)
        if report.model is None or report.endpoint is None or not isinstance(body, dict):
            continue
        if cat.model(report.model).status == "removed":
            continue
        schema = cat.schema(report.model, report.endpoint)
        pure = jsonschema.Draft202012Validator(
            schema, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        rs = cat.validator(report.model, report.endpoint)
        assert pure.is_valid(body) == rs.is_valid(body), name
        checked += 1
    assert checked >= 10
