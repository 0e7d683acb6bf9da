"""tools/rename_definitions.py: a renamed shared shape compiles to the same schemas."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from aimlcat._compiler import compile_catalog
from aimlcat._loader import load_catalog_source

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import rename_definitions


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "catalog", tmp_path / "catalog")
    return tmp_path / "catalog"


def _parsed(files: dict[str, str]) -> dict[str, object]:
    return {path: json.loads(text) for path, text in files.items()}


def test_a_rename_changes_names_only(catalog: Path) -> None:
    before = compile_catalog(load_catalog_source(catalog))
    changed = rename_definitions.rename({"chat_content": "zz_renamed_content"}, catalog=catalog)
    assert any("shapes/chat.yaml: 1 definition(s)" in line for line in changed), changed
    after = compile_catalog(load_catalog_source(catalog))
    assert set(before) == set(after)
    renamed = {p: t.replace('"chat_content"', '"zz_renamed_content"')
               .replace("/chat_content\"", "/zz_renamed_content\"") for p, t in before.items()}
    assert _parsed(renamed) == _parsed(after)
    text = (catalog / "shapes" / "chat.yaml").read_text("utf-8")
    assert "chat_content" not in text and "  zz_renamed_content:" in text


def test_refused_renames_write_nothing(catalog: Path) -> None:
    snapshot = {p: p.read_bytes() for p in catalog.rglob("*.yaml")}
    with pytest.raises(ValueError, match="chat_messages_2: referenced from families/"):
        rename_definitions.rename({"chat_messages_2": "x_messages"}, catalog=catalog)
    with pytest.raises(ValueError, match="already a definition"):
        rename_definitions.rename({"chat_content": "chat_file_part"}, catalog=catalog)
    with pytest.raises(ValueError, match="not a definition"):
        rename_definitions.rename({"no_such_shape": "x"}, catalog=catalog)
    assert snapshot == {p: p.read_bytes() for p in catalog.rglob("*.yaml")}
