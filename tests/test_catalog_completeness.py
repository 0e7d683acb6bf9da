"""Completeness: every id of the docs' model table resolves, as the docs say.

- Every id of the "no longer supported" table is a removed model, dated where
  the table gives a date (and saying so where it does not), its replacement
  served.
- Every served id that no document spells is an alias of a documented model
  (by the rule in docs/catalog.md, computed by ``tools/refdata.py``), an
  alias proposed for another engineer's file (docs/decisions/ids.yaml), or a
  model without endpoints whose notes say why.

The reference data lives outside the repository (``../shared/reference``);
the tests that read it skip cleanly without it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from aimlcat import Catalog, load_catalog

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import refdata

needs_reference = pytest.mark.skipif(not refdata.available(),
                                     reason=f"reference docs not found at {refdata.REFERENCE}")


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


def _decisions() -> dict[str, Any]:
    return refdata.id_decisions()


# -- the spelling rule (no reference data needed) -----------------------------------

@pytest.mark.parametrize(("a", "b"), [
    ("#g1_whisper-large", "whisper-large"),
    ("aai/slam-1", "slam-1"),
    ("pixverse/v5-5-image-to-video", "pixverse/v5.5/image-to-video"),
    ("anthropic/claude-opus-4.1", "claude-opus-4-1"),
    ("Meta-Llama/Llama-2-7b-chat-hf", "meta-llama/Llama-2-7b-chat-hf"),
    ("qwen-plus", "alibaba/qwen-plus"),
])
def test_spellings_of_one_id_share_a_key(a: str, b: str) -> None:
    assert refdata.spelling_key(a) == refdata.spelling_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("claude-3-5-sonnet-20240620", "claude-3-5-sonnet"),      # a dated snapshot
    ("alibaba/wan2.2-vace-fun-14b-depth", "alibaba/wan2.2-vace-fun-a14b-depth"),
    ("sora-2-t2v", "sora-2-pro-t2v"),
    ("gpt-4o", "gpt-4o-mini"),
])
def test_different_models_keep_different_keys(a: str, b: str) -> None:
    assert refdata.spelling_key(a) != refdata.spelling_key(b)


@pytest.mark.parametrize(("raw", "ids"), [
    ("o1-preview,", ["o1-preview"]),
    ("deepseek-chat or", ["deepseek-chat"]),
    ("google/gemini-pro or gemini-pro", ["google/gemini-pro", "gemini-pro"]),
    ("-", []),
    ("gpt-4o", ["gpt-4o"]),
])
def test_table_typing_is_cleaned(raw: str, ids: list[str]) -> None:
    assert refdata.clean_table_id(raw) == ids


# -- removed models -------------------------------------------------------------------

def _removed_rows() -> list[refdata.Row]:
    return [r for r in refdata.rows() if r.status == "deprecated"] if refdata.available() else []


def _served_after_all() -> set[str]:
    return {k for k, v in (_decisions().get("both_tables") or {}).items() if v["status"] == "active"}


@needs_reference
@pytest.mark.parametrize("row", _removed_rows(), ids=lambda r: ",".join(r.raw_ids))
def test_every_removed_table_id_is_a_removed_model(cat: Catalog, row: refdata.Row) -> None:
    if not row.ids:
        assert all(raw in _decisions()["not_ids"] for raw in row.raw_ids)
        return
    for raw in row.raw_ids:
        if refdata.clean_table_id(raw) != [raw]:
            assert raw in _decisions()["not_ids"], f"say in docs/decisions/ids.yaml what {raw!r} is"
    served = _served_after_all()
    owners = {cat.resolve(i) for i in row.ids if i not in served}
    if not owners:  # all served again: test_ids_in_both_tables_follow_the_decision
        return
    assert None not in owners, [i for i in row.ids if cat.resolve(i) is None]
    assert len(owners) == 1, f"ids on one row are one model: {owners}"
    info = cat.model(owners.pop())  # type: ignore[arg-type]
    assert info.status == "removed"
    if row.listed_on:
        assert info.status_since == row.listed_on
    else:
        assert info.status_since is None
        assert info.notes and "date" in info.notes, "say that the docs give no date"


@needs_reference
def test_ids_in_both_tables_follow_the_decision(cat: Catalog) -> None:
    both = refdata.table_ids("active") & refdata.table_ids("deprecated")
    decided = _decisions()["both_tables"]
    assert set(decided) == both
    for mid, d in decided.items():
        assert cat.model(mid).status == d["status"], mid


@needs_reference
def test_replacements_are_served_and_of_the_same_kind(cat: Catalog) -> None:
    for m in cat.models(status="removed"):
        if m.replacement:
            repl = cat.model(m.replacement)
            assert repl.status == "active", (m.id, m.replacement)
            assert repl.kind == m.kind, (m.id, m.replacement)


def _removed_document_ids() -> dict[str, tuple[str, ...]]:
    return refdata.removed_document_ids() if refdata.available() else {}


@needs_reference
def test_ids_only_removed_models_documents_name_are_decided() -> None:
    decided = _decisions().get("removed_document_ids") or {}
    assert set(decided) == set(_removed_document_ids())
    for did, d in decided.items():
        assert d["reason"] and (("alias_of" in d) != bool(d.get("own_model"))), did


@needs_reference
@pytest.mark.parametrize("doc_id", sorted(_removed_document_ids()))
def test_id_only_removed_models_documents_name_is_removed(cat: Catalog, doc_id: str) -> None:
    """An id that only documents of removed models list is removed too (no active
    entry built from those documents): an alias of one of those models, or a removed
    model of its own; either way a body naming it gets AML103 with a hint."""
    decision = _decisions()["removed_document_ids"][doc_id]
    mid = cat.resolve(doc_id)
    assert mid is not None
    info = cat.model(mid)
    assert info.status == "removed"
    if "alias_of" in decision:
        assert mid == cat.resolve(decision["alias_of"])
        assert mid in {cat.resolve(n) for n in refdata.removed_document_ids()[doc_id]}
    else:
        assert mid == doc_id
        assert info.status_since is not None or (info.notes and "date" in info.notes)
    (finding,) = cat.validate({"model": doc_id, "messages": [{"role": "user", "content": "hi"}]}
                              ).findings
    assert (finding.code, finding.pointer) == ("AML103", "/model")
    assert finding.hint and (not info.replacement or info.replacement in finding.hint)


@needs_reference
def test_removed_models_keep_their_last_documented_parameters(cat: Catalog) -> None:
    """A removed model that a document (current or deleted) describes keeps the
    endpoints and parameters of its last documents, for `aimlcat show` and the
    AML103 hint."""
    import gen_retired

    missing = [m.id for m in cat.models(status="removed")
               if gen_retired.last_documents((m.id, *m.aliases))
               and not cat.model_record(m.id)["endpoints"]]
    assert not missing


@needs_reference
def test_retired_files_are_current() -> None:
    import gen_retired

    assert gen_retired.main(["--check"]) == 0, "run python tools/gen_retired.py"


# -- served rows: ids, status, context window ---------------------------------------------

def _active_rows() -> list[refdata.Row]:
    return [r for r in refdata.rows() if r.status == "active"] if refdata.available() else []


@needs_reference
@pytest.mark.parametrize("row", _active_rows(), ids=lambda r: ",".join(r.raw_ids))
def test_served_table_row_is_one_active_model_with_its_context_window(
        cat: Catalog, row: refdata.Row) -> None:
    """A served row of the table is one active model (R1), and the catalog states the
    context window the row gives (the AML510/511 check uses it), or none where the row
    gives none. Nothing else compares the catalog's status or window with the table."""
    decided = _decisions()["both_tables"]
    ids = [i for i in row.ids if i not in decided or decided[i]["status"] == "active"]
    if not ids:  # the removed table's date and status win: test_ids_in_both_tables_...
        return
    owners = {cat.resolve(i) for i in ids}
    assert None not in owners, [i for i in ids if cat.resolve(i) is None]
    assert len(owners) == 1, f"ids on one row are one model: {owners}"
    info = cat.model(owners.pop())  # type: ignore[arg-type]
    assert info.status == "active", (info.id, info.status)
    assert info.context_window == row.context_window, (info.id, info.context_window)


# -- served ids without a document ------------------------------------------------------

def _undocumented() -> list[str]:
    return refdata.undocumented_live_ids() if refdata.available() else []


@needs_reference
@pytest.mark.parametrize("table_id", _undocumented())
def test_served_id_without_document_is_resolved(cat: Catalog, table_id: str) -> None:
    res = refdata.resolve_live_id(table_id)
    decisions = _decisions()
    if res.how == "artifact":
        assert table_id in decisions["not_ids"]
        for clean in res.targets:
            assert clean in refdata.spec_ids(), clean
        return
    if res.how == "undocumented":
        mid = cat.resolve(table_id)
        assert mid is not None, f"{table_id}: add it to an undocumented.yaml with the reason"
        info = cat.model(mid)
        assert info.status == "active" and not info.endpoints and info.notes
        return
    (target,) = res.targets
    mine, theirs = cat.resolve(table_id), cat.resolve(target)
    if mine is not None and theirs is not None:
        assert mine == theirs, f"{table_id} should be an alias of {target}"
        return
    proposed = decisions.get("proposed_aliases") or {}
    assert table_id in proposed.get(target, []), (
        f"{table_id} is a spelling of {target} ({res.how}): add the alias, or propose it "
        "in docs/decisions/ids.yaml")


@needs_reference
def test_undocumented_model_gets_one_info_finding(cat: Catalog) -> None:
    for res in map(refdata.resolve_live_id, _undocumented()):
        if res.how != "undocumented":
            continue
        report = cat.validate({"model": res.table_id, "prompt": "x", "no_such_key": 1})
        assert [(f.code, f.severity) for f in report.findings] == [("AML105", "info")]


# -- parameter decisions (docs/decisions/parameters.yaml) --------------------------------

def _param_decisions() -> dict[str, Any]:
    import yaml

    return yaml.safe_load((REPO / "docs" / "decisions" / "parameters.yaml").read_text("utf-8"))


def test_parameter_decisions_are_well_formed() -> None:
    doc = _param_decisions()
    rules = doc["rules"]
    for model, params in doc["decisions"].items():
        for param, rec in params.items():
            where = f"{model} {param}"
            assert rec["decision"] in ("keep", "drop"), where
            assert rec["rule"] in rules and rules[rec["rule"]].startswith(rec["decision"]), where
            assert rec["reason"], where
            if rec["decision"] == "keep":
                assert len(rec["hint"]) >= 10, where


@needs_reference
def test_parameter_decisions_are_current() -> None:
    import gen_param_decisions

    assert gen_param_decisions.main(["--check"]) == 0, "run python tools/gen_param_decisions.py"


@needs_reference
def test_every_documented_removal_has_a_decision() -> None:
    decided = _param_decisions()["decisions"]
    missing = [(m, p) for m, ps in refdata.removed_parameters().items() for p in ps
               if p not in decided.get(m, {})]
    assert not missing


@needs_reference
def test_every_kept_decision_is_in_the_catalog() -> None:
    """The other direction: a removal or deprecation the review kept is recorded on the
    model's endpoint. Without it, a `removed:` entry lost from a model file compares
    clean (the parameter is in neither the documents nor the schema) and a body that
    still sends it gets a bare AML301 instead of AML303 with the date and hint."""
    import gen_param_decisions

    pending = gen_param_decisions.todo()
    assert not pending, "kept decisions missing from the catalog:\n" + pending


def test_the_catalog_records_no_dropped_removal(cat: Catalog) -> None:
    """A `removed:` entry for a parameter the review dropped as noise is a mistake."""
    decided = _param_decisions()["decisions"]
    wrong = []
    for mid in {cat.resolve(i) for i in cat.ids()}:
        rec = cat.model_record(mid)  # type: ignore[arg-type]
        names = (mid, *cat.model(mid).aliases)  # type: ignore[arg-type]
        for ep in rec["endpoints"].values():
            for param in ep.get("removed", {}):
                for n in names:
                    d = decided.get(n, {}).get(param)
                    if d is not None and d["decision"] == "drop" and d["rule"] != "model-removed":
                        wrong.append((n, param, d["rule"]))
    assert not wrong


@needs_reference
def test_every_documented_path_is_an_endpoint_or_a_service_path(cat: Catalog) -> None:
    """`check_base_url` flags a base URL that ends in a path of the gateway; it knows the
    catalog's endpoints and `SERVICE_PATHS`. Every path a current document lists is one
    of them (a service page added to the docs shows up here)."""
    import json

    from aimlcat._catalog import SERVICE_PATHS

    known = set(cat.endpoints()) | set(SERVICE_PATHS)
    missing = set()
    for doc in sorted((refdata.DOCS / "openapi").rglob("*.json")):
        for path in json.loads(doc.read_text(encoding="utf-8")).get("paths", {}):
            full = path if path.startswith(("/v1/", "/v2/")) else "/v1" + path
            if path not in known and full not in known and cat.canonical_endpoint(path) is None:
                missing.add(path)
    assert missing == set(), sorted(missing)
