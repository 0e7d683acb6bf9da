"""The YAML catalog loader: meta-schema and resolution errors, with where they are.

Each test copies catalog/ into ``tmp_path``, breaks one thing, loads it with
``aimlcat._loader.load_catalog_source`` and checks the CatalogProblem(s): the
file (relative to the catalog's parent, as the loader reports it), the 1-based
line (computed from the edited text, not hard-coded), the key and the message.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from aimlcat._cli import run
from aimlcat._exceptions import CatalogError, CatalogProblem
from aimlcat._loader import load_catalog_source

REPO = Path(__file__).resolve().parent.parent
CATALOG = REPO / "catalog"

FLUX = "catalog/models/flux/images.yaml"
KLING = "catalog/models/kling/video.yaml"
CHAT = "catalog/models/openai/chat.yaml"
DALLE = "catalog/models/openai/images.yaml"
FAM_CHAT = "catalog/families/openai-chat.yaml"
ROOT = "catalog/catalog.yaml"


@pytest.fixture
def cat(tmp_path: Path) -> Path:
    dst = tmp_path / "catalog"
    shutil.copytree(CATALOG, dst)
    return dst


def edit(root: Path, rel: str, old: str, new: str) -> str:
    """Replace the first occurrence of ``old`` in ``catalog/<rel>``; return the new text.

    The hand-written entry of each file comes first; imported models below it may
    repeat the same line."""
    p = root.parent / rel
    text = p.read_text(encoding="utf-8")
    assert old in text, f"{old!r} does not occur in {rel}"
    text = text.replace(old, new, 1)
    p.write_text(text, encoding="utf-8")
    return text


def create(root: Path, rel: str, text: str) -> str:
    p = root.parent / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return text


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the ``nth`` line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} not found {nth} time(s)"
    return hits[nth - 1]


def problems(root: Path) -> list[CatalogProblem]:
    with pytest.raises(CatalogError) as info:
        load_catalog_source(root)
    found = info.value.problems
    assert found, "CatalogError without problems"
    assert all(isinstance(p, CatalogProblem) for p in found)
    return found


def one(root: Path) -> CatalogProblem:
    found = problems(root)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def test_the_pristine_copy_loads(cat: Path) -> None:
    catalog = load_catalog_source(cat)
    assert "flux/dev" in catalog.models
    assert catalog.version


# -- meta-schema errors -------------------------------------------------------------------


def test_unknown_key_in_parameter_spec(cat: Path) -> None:
    text = edit(cat, FLUX, "num_images: {minimum: 1, maximum: 4}",
                "num_images: {minimum: 1, maximun: 4}")
    p = one(cat)
    assert p.file == FLUX
    assert p.line == line_of(text, "maximun")
    assert p.key == "models.flux/dev.endpoints[0].parameters.num_images.maximun"
    assert "maximun" in p.message and "unknown key" in p.message


def test_unknown_key_in_model_entry(cat: Path) -> None:
    text = edit(cat, CHAT, "  o3-mini:\n", "  o3-mini:\n    contxt_window: 5\n")
    p = one(cat)
    assert p.file == CHAT
    assert p.line in (line_of(text, "  o3-mini:"), line_of(text, "contxt_window"))
    assert p.key == "models.o3-mini.contxt_window"
    assert "contxt_window" in p.message


@pytest.mark.parametrize("case", ["block-spec", "top-level"])
def test_unknown_key_is_reported_at_its_own_line(cat: Path, case: str) -> None:
    if case == "block-spec":
        text = edit(cat, FLUX, "          num_images: {minimum: 1, maximum: 4}",
                    "          num_images:\n            minimum: 1\n            maximun: 4")
        needle = "maximun"
    else:
        text = edit(cat, FLUX, "models:", "modles:")
        needle = "modles:"
    p = one(cat)
    assert (p.file, p.line) == (FLUX, line_of(text, needle))


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_an_infinite_or_nan_bound_is_one_problem_at_its_line(cat: Path, value: str) -> None:
    # JSON has no form for it: compiled, the index held `Infinity`, which orjson (and
    # any strict reader) refuses, so a private catalog crashed the lint that used it.
    text = edit(cat, FLUX, "num_images: {minimum: 1, maximum: 4}",
                f"num_images: {{minimum: 1, maximum: {value}}}")
    p = one(cat)
    assert (p.file, p.line) == (FLUX, line_of(text, "num_images: {minimum: 1"))
    assert p.key == "models.flux/dev.endpoints[0].parameters.num_images.maximum"
    assert "not a finite number" in p.message


def test_wrong_type_of_a_keyword(cat: Path) -> None:
    text = edit(cat, FLUX, "num_images: {minimum: 1, maximum: 4}",
                'num_images:\n            maximum: 4\n            minimum: "two"')
    p = one(cat)
    assert p.file == FLUX
    assert p.line == line_of(text, 'minimum: "two"')
    assert p.key == "models.flux/dev.endpoints[0].parameters.num_images.minimum"
    assert "'two'" in p.message and "number" in p.message


def test_bad_type_name(cat: Path) -> None:
    text = edit(cat, FLUX, "            type: boolean\n", "            type: strng\n")
    p = one(cat)
    assert p.file == FLUX
    assert p.line == line_of(text, "type: strng")
    assert p.key == "models.flux/dev.endpoints[0].parameters.sync_mode.type"
    assert "'strng'" in p.message and "not a type name" in p.message


def test_top_level_list_is_not_a_catalog_file(cat: Path) -> None:
    create(cat, "catalog/models/flux/images.yaml", "- flux/dev\n- flux/schnell\n")
    p = one(cat)
    assert (p.file, p.line, p.key) == (FLUX, 1, "")
    assert "object" in p.message


# -- YAML-level errors ----------------------------------------------------------------------


def test_yaml_syntax_error_reports_the_line(cat: Path) -> None:
    text = edit(cat, FLUX, "          seed: {minimum: 1}", "          seed: {minimum: 1}}")
    p = one(cat)
    assert p.file == FLUX
    assert p.line == line_of(text, "seed: {minimum: 1}}")
    assert p.key == ""
    assert p.message


def test_duplicate_yaml_key(cat: Path) -> None:
    text = edit(cat, FLUX, "          seed: {minimum: 1}\n",
                "          seed: {minimum: 1}\n          seed: {minimum: 2}\n")
    p = one(cat)
    assert p.file == FLUX
    assert p.line == line_of(text, "seed: {minimum: 2}")
    assert "duplicate key" in p.message and "'seed'" in p.message


def test_duplicate_key_in_flow_mapping(cat: Path) -> None:
    text = edit(cat, FLUX, "num_images: {minimum: 1, maximum: 4}",
                "num_images: {minimum: 1, maximum: 4, minimum: 2}")
    p = one(cat)
    assert (p.file, p.line) == (FLUX, line_of(text, "minimum: 2}"))
    assert "'minimum'" in p.message


@pytest.mark.parametrize("content", ["", "# only a comment\n", "---\n"])
def test_empty_file(cat: Path, content: str) -> None:
    create(cat, FLUX, content)
    p = one(cat)
    assert p.file == FLUX
    assert p.line in (None, 1)
    assert "empty" in p.message


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system",
    "!!python/object/new:os.system",
    "!!python/name:os.system",
])
def test_python_tags_are_refused_and_never_run(cat: Path, tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "PWNED"
    text = edit(cat, FLUX, "developer: Black Forest Labs",
                f"developer: {tag} [\"touch {marker}\"]")
    p = one(cat)
    assert p.file == FLUX
    assert p.line == line_of(text, "developer:")
    assert "python/" in p.message
    assert not marker.exists()


# -- merge and resolution errors --------------------------------------------------------------


def test_duplicate_model_id_across_files(cat: Path) -> None:
    flux_line = line_of((cat / "models/flux/images.yaml").read_text(), "  flux/dev:")
    text = create(cat, "catalog/models/zz/copy.yaml",
                  "developer: Someone Else\nkind: image\nmodels:\n  # a second flux/dev\n"
                  "  flux/dev:\n    endpoints:\n      - family: image-generation\n")
    p = one(cat)
    assert p.file == "catalog/models/zz/copy.yaml"
    assert p.line == line_of(text, "  flux/dev:")
    assert p.key == "models.flux/dev"
    assert f"{FLUX}:{flux_line}" in p.message


def test_alias_clash(cat: Path) -> None:
    text = edit(cat, DALLE, "  dall-e-3:\n", "  dall-e-3:\n    aliases: [openai/gpt-4o]\n")
    p = one(cat)
    assert p.file == DALLE
    assert p.line in (line_of(text, "  dall-e-3:"), line_of(text, "aliases:"))
    assert p.key.startswith("models.dall-e-3")
    assert "'openai/gpt-4o'" in p.message and "'gpt-4o'" in p.message


def test_alias_clash_with_a_later_model_id_blames_the_alias(cat: Path) -> None:
    text = edit(cat, FLUX, "  flux/dev:\n", "  flux/dev:\n    aliases: [gpt-4o]\n")
    p = one(cat)
    assert p.file == FLUX
    assert p.line in (line_of(text, "  flux/dev:"), line_of(text, "aliases: [gpt-4o]"))
    assert p.key.startswith("models.flux/dev")


def test_family_that_does_not_exist(cat: Path) -> None:
    text = edit(cat, FLUX, "family: image-generation", "family: image-generatoin")
    p = one(cat)
    assert p.file == FLUX
    assert p.line == line_of(text, "family: image-generatoin")
    assert p.key == "models.flux/dev.endpoints[0].family"
    assert "'image-generatoin'" in p.message


def test_extends_a_family_that_does_not_exist(cat: Path) -> None:
    text = edit(cat, FAM_CHAT, "extends: openai-chat", "extends: openai-chatt")
    found = problems(cat)
    # (each distinct problem)
    [p] = set(found)
    assert p.file == FAM_CHAT
    assert p.key == "families.openai-reasoning-chat.extends"
    assert p.line in (line_of(text, "openai-reasoning-chat:"), line_of(text, "extends:"))
    assert "'openai-chatt'" in p.message


@pytest.mark.parametrize("target", ["nothing", "image-generation"])
def test_broken_family_is_reported_once(cat: Path, target: str) -> None:
    # image-generation is used by flux/dev and dall-e-3
    edit(cat, "catalog/families/images.yaml", "endpoint: images-generations",
         f"extends: {target}")
    found = problems(cat)
    assert len(found) == 1, "\n".join(map(str, found))


def test_ref_to_a_missing_definition(cat: Path) -> None:
    text = edit(cat, KLING, "ref: kling_dynamic_masks", "ref: kling_dynamic_maskz")
    p = one(cat)
    assert p.file == KLING
    assert p.key == ("models.kling-video/v1.6/pro/image-to-video.endpoints[0]"
                     ".parameters.dynamic_masks")
    assert "'kling_dynamic_maskz'" in p.message and "no definition" in p.message
    # within the endpoint entry that holds it (the exact line: see below)
    assert line_of(text, "- family: video-generation") <= p.line <= line_of(text, "maskz")


def test_ref_to_a_missing_definition_in_a_family(cat: Path) -> None:
    text = edit(cat, FAM_CHAT, "ref: openai_messages_multimodal",
                "ref: openai_messages_multimodalx")
    p = one(cat)
    assert p.file == FAM_CHAT
    assert p.key == "families.openai-chat.parameters.messages"
    assert "'openai_messages_multimodalx'" in p.message
    assert line_of(text, "  openai-chat:") <= p.line <= line_of(text, "multimodalx")


def test_rename_target_not_a_parameter_of_the_model(cat: Path) -> None:
    text = edit(cat, FLUX, "          seed: {minimum: 1}\n",
                "          seed:\n            minimum: 1\n            deprecated:\n"
                "              action: rename\n              to: random_seed\n"
                "              hint: Send the seed as random_seed from now on.\n")
    p = one(cat)
    assert p.file == FLUX
    assert p.key == "models.flux/dev.endpoints[0].parameters.seed.deprecated.to"
    assert "'random_seed'" in p.message
    assert "flux/dev" in p.message and "images-generations" in p.message
    assert line_of(text, "- family: image-generation") <= p.line <= line_of(text, "random_seed")


def test_rename_target_dropped_from_the_model(cat: Path) -> None:
    # The family renames max_tokens -> max_completion_tokens; o3-mini (its second endpoint,
    # chat) drops the target.
    text = edit(cat, CHAT, "      - family: openai-reasoning-chat\n",
                "      - family: openai-reasoning-chat\n        drop: [max_completion_tokens]\n")
    p = one(cat)
    assert p.file == CHAT
    assert p.key == "models.o3-mini.endpoints[1].parameters.max_tokens.deprecated.to"
    assert "'max_completion_tokens'" in p.message and "o3-mini" in p.message
    assert p.line in (line_of(text, "- family: openai-reasoning-chat"),
                      line_of(text, "drop: [max_completion_tokens]"))


def test_removed_parameter_that_is_still_a_parameter(cat: Path) -> None:
    text = edit(cat, CHAT, "          prediction:\n            since: 2025-09-18",
                "          reasoning_effort:\n            since: 2025-09-18")
    p = one(cat)
    assert p.file == CHAT
    assert p.key == "models.o3-mini.endpoints[1].removed.reasoning_effort"
    assert "still a parameter" in p.message
    assert (line_of(text, "- family: openai-reasoning-chat")
            <= p.line <= line_of(text, "  reasoning_effort:"))


@pytest.mark.parametrize("case", ["model-ref", "family-ref", "rename-to", "removed"])
def test_resolution_problems_point_at_the_offending_line(cat: Path, case: str) -> None:
    if case == "model-ref":
        rel = KLING
        text = edit(cat, KLING, "ref: kling_dynamic_masks", "ref: kling_dynamic_maskz")
        lines = {line_of(text, "          dynamic_masks:"), line_of(text, "maskz")}
    elif case == "family-ref":
        rel = FAM_CHAT
        text = edit(cat, FAM_CHAT, "ref: openai_messages_multimodal",
                    "ref: openai_messages_multimodalx")
        lines = {line_of(text, "multimodalx")}
    elif case == "rename-to":
        rel = FLUX
        text = edit(cat, FLUX, "          seed: {minimum: 1}\n",
                    "          seed:\n            minimum: 1\n            deprecated:\n"
                    "              action: rename\n              to: random_seed\n"
                    "              hint: Send the seed as random_seed from now on.\n")
        lines = set(range(line_of(text, "          seed:"), line_of(text, "random_seed") + 1))
    else:
        rel = CHAT
        text = edit(cat, CHAT, "          prediction:\n            since: 2025-09-18",
                    "          reasoning_effort:\n            since: 2025-09-18")
        lines = {line_of(text, "  reasoning_effort:")}
    p = one(cat)
    assert p.file == rel
    assert p.line in lines


# -- catalog_version --------------------------------------------------------------------------


def test_missing_catalog_version(cat: Path) -> None:
    edit(cat, ROOT, 'catalog_version: "2026.8.21"\n', "")
    p = one(cat)
    assert p.key == "catalog_version"
    assert "no file sets catalog_version" in p.message
    assert p.file in ("catalog", ROOT)


def test_catalog_version_not_pep440(cat: Path) -> None:
    edit(cat, ROOT, 'catalog_version: "2026.8.21"', 'catalog_version: "next tuesday"')
    p = one(cat)
    assert p.file == ROOT
    assert p.key == "catalog_version"
    assert "'next tuesday'" in p.message and "PEP 440" in p.message


def test_catalog_version_not_pep440_names_the_line(cat: Path) -> None:
    text = edit(cat, ROOT, 'catalog_version: "2026.8.21"', 'catalog_version: "next tuesday"')
    p = one(cat)
    assert p.line == line_of(text, 'catalog_version: "next tuesday"')


def test_catalog_version_set_twice(cat: Path) -> None:
    text = create(cat, "catalog/zz-extra.yaml", 'catalog_version: "1.0"\n')
    p = one(cat)
    assert (p.file, p.line, p.key) == ("catalog/zz-extra.yaml", line_of(text, "catalog_version"),
                                       "catalog_version")
    assert ROOT in p.message


def test_catalog_version_of_the_wrong_type(cat: Path) -> None:
    text = edit(cat, ROOT, 'catalog_version: "2026.8.21"', "catalog_version: 2026.8")
    found = problems(cat)
    assert any(p.file == ROOT and p.line == line_of(text, "catalog_version: 2026.8")
               and p.key == "catalog_version" and "string" in p.message for p in found)


def test_meta_error_in_catalog_yaml_has_no_spurious_version_problem(cat: Path) -> None:
    text = edit(cat, ROOT, "source: AI/ML API public documentation, snapshot of 2026-08-21",
                "source: 42")
    found = problems(cat)
    assert [(p.file, p.line, p.key) for p in found] == [(ROOT, line_of(text, "source: 42"),
                                                         "source")], "\n".join(map(str, found))


# -- many problems at once ----------------------------------------------------------------------


def test_meta_and_merge_problems_are_reported_together(cat: Path) -> None:
    flux = edit(cat, FLUX, "num_images: {minimum: 1, maximum: 4}",
                "num_images: {minimum: 1, maximun: 4}")
    flux = edit(cat, FLUX, "            type: boolean\n", "            type: strng\n")
    kling = edit(cat, KLING, "duration: {enum: [5, 10], default: 5}",
                 "duration: {enum: [5, 10], default: 5}}")
    dup = create(cat, "catalog/models/zz/dup.yaml",
                 "developer: X\nkind: chat\nmodels:\n  o3-mini:\n    endpoints: []\n")
    edit(cat, ROOT, 'catalog_version: "2026.8.21"', 'catalog_version: "not a version"')
    found = problems(cat)
    got = {(p.file, p.line) for p in found}
    assert (FLUX, line_of(flux, "maximun")) in got
    assert (FLUX, line_of(flux, "type: strng")) in got
    assert (KLING, line_of(kling, "default: 5}}")) in got
    assert ("catalog/models/zz/dup.yaml", line_of(dup, "o3-mini:")) in got
    assert any(p.key == "catalog_version" and "PEP 440" in p.message for p in found)
    assert len(found) == 5, "\n".join(map(str, found))


def test_resolution_problems_are_reported_together(cat: Path) -> None:
    edit(cat, FLUX, "family: image-generation", "family: image-generatoin")
    edit(cat, KLING, "ref: kling_dynamic_masks", "ref: kling_dynamic_maskz")
    edit(cat, DALLE, "  dall-e-3:\n", "  dall-e-3:\n    aliases: [openai/gpt-4o]\n")
    edit(cat, CHAT, "      - family: openai-reasoning-chat\n",
         "      - family: openai-reasoning-chat\n        drop: [max_completion_tokens]\n")
    found = problems(cat)
    keys = {(p.file, p.key) for p in found}
    assert keys == {
        (FLUX, "models.flux/dev.endpoints[0].family"),
        (KLING, "models.kling-video/v1.6/pro/image-to-video.endpoints[0].parameters.dynamic_masks"),
        (DALLE, "models.dall-e-3.aliases"),
        (CHAT, "models.o3-mini.endpoints[1].parameters.max_tokens.deprecated.to"),
    }


# -- the CLI on a broken catalog -------------------------------------------------------------------


def test_check_catalog_cli_prints_file_line_key_message(cat: Path) -> None:
    flux = edit(cat, FLUX, "num_images: {minimum: 1, maximum: 4}",
                "num_images: {minimum: 1, maximun: 4}")
    dalle = edit(cat, DALLE, "style: {enum", "style: {type: strng, enum")
    expected = [
        f"{FLUX}:{line_of(flux, 'maximun')}: models.flux/dev.endpoints[0].parameters.num_images."
        "maximun: "
        "unknown key(s) ('maximun' was unexpected)",
        f"{DALLE}:{line_of(dalle, 'strng')}: models.dall-e-3.endpoints[0].parameters.style.type: "
        "'strng' is not a type name",
    ]
    out = io.StringIO()
    code = run(["check-catalog", "--catalog", str(cat)], out=out)
    assert code == 1
    lines = out.getvalue().splitlines()
    for want in expected:
        assert any(line.startswith(want) for line in lines), (want, lines)
    assert lines[-1] == f"2 problem(s) in {cat}"


def test_check_catalog_cli_on_a_resolution_problem(cat: Path) -> None:
    text = edit(cat, FLUX, "family: image-generation", "family: image-generatoin")
    out = io.StringIO()
    code = run(["check-catalog", "--catalog", str(cat)], out=out)
    assert code == 1
    assert out.getvalue().splitlines()[0] == (
        f"{FLUX}:{line_of(text, 'image-generatoin')}: models.flux/dev.endpoints[0].family: "
        "no family named 'image-generatoin'; did you mean 'image-generation'?")


def test_check_catalog_names_a_compiled_schema_the_engine_cannot_use(cat: Path) -> None:
    """A `pattern` that is no regex passes the YAML checks; the compiled schema is then
    checked against the Draft 2020-12 metaschema, formats included."""
    edit(cat, FLUX, "prompt: {maxLength: 4000}", 'prompt: {maxLength: 4000, pattern: "[a-"}')
    out = io.StringIO()
    code = run(["check-catalog", "--catalog", str(cat)], out=out)
    assert code == 1
    assert out.getvalue() == (
        "schemas/models/flux_dev/images-generations.json: not a valid Draft 2020-12 schema "
        'at /properties/prompt/pattern: "[a-" is not a "regex"\n')


def test_check_catalog_on_a_missing_directory(tmp_path: Path) -> None:
    out = io.StringIO()
    code = run(["check-catalog", "--catalog", str(tmp_path / "nope")], out=out)
    assert code == 1
    assert "catalog directory not found" in out.getvalue()
