"""Property tests: validate() never breaks, its pointers are true, its fixes are stable.

Bounded for CI (a few hundred examples each). The long run, 100,000 inputs:
``AIMLCAT_FUZZ_EXAMPLES=100000 python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimlcat import load_catalog
from aimlcat._samples import mutate, sample

CAT = load_catalog()
DEFS = CAT.defs()
PAIRS = [(m, p) for m in CAT.ids() if CAT.resolve(m) == m
         for p in CAT.model_record(m)["endpoints"]]
EXAMPLES = int(os.environ.get("AIMLCAT_FUZZ_EXAMPLES", "300"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25)

model_ids = st.sampled_from(CAT.ids() + ["gpt4o", "", "unknown/model"])
endpoints = st.none() | st.sampled_from(
    [*CAT.endpoints(), "/chat/completions", "https://api.aimlapi.com/v1/chat/completions",
     "/v1/nope", "", "https://api.aimlapi.com"])


def _resolves(doc: Any, pointer: str) -> bool:
    """The pointer names a value in ``doc``, or a missing key of an object in ``doc``."""
    if pointer == "":
        return True
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
    node = doc
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, dict):
            if part not in node:
                return last
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def _check(payload: Any, endpoint: str | None) -> None:
    report = CAT.validate(payload, endpoint)
    for f in report.findings:
        assert f.code and f.severity in ("error", "warning", "info") and f.message
        assert _resolves(payload, f.pointer), (f, payload)
    once = report.apply_fixes(payload)
    twice = CAT.validate(once, endpoint).apply_fixes(once)
    assert twice == once


@SETTINGS
@given(payload=json_values, endpoint=endpoints)
def test_any_json_value(payload: Any, endpoint: str | None) -> None:
    _check(payload, endpoint)


@SETTINGS
@given(model=model_ids, extra=st.dictionaries(st.text(max_size=12), json_values, max_size=6),
       endpoint=endpoints)
def test_any_object_with_a_model(model: str, extra: dict[str, Any],
                                 endpoint: str | None) -> None:
    _check({**extra, "model": model}, endpoint)


@SETTINGS
@given(index=st.integers(0, len(PAIRS) - 1), seed=st.integers(0, 2**32 - 1),
       rounds=st.integers(0, 4))
def test_mutated_valid_bodies(index: int, seed: int, rounds: int) -> None:
    mid, path = PAIRS[index]
    rnd = random.Random(seed)
    body = {**sample(CAT.endpoint_schema(mid, path), DEFS, rnd), "model": mid}
    for _ in range(rounds):
        body = mutate(body, rnd, keep=("model",))
    _check(body, path)


def test_deep_nesting_does_not_recurse_out() -> None:
    deep: Any = "x"
    for _ in range(10_000):
        deep = {"content": [deep]}
    payload = {"model": "gpt-4o", "messages": [{"role": "user", "content": [deep]}]}
    report = CAT.validate(payload)
    assert [(f.code, f.pointer) for f in report.findings] == [("AML004", "/messages")]


@pytest.mark.parametrize("size", [1, 5_000_000])
def test_long_strings(size: int) -> None:
    payload = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * size}],
               "temperatur": "y" * size}
    report = CAT.validate(payload)
    # 5,000,000 x's are 625,000 tokens for gpt-4o's tokenizer: over its window (AML511).
    assert [f.code for f in report.findings] == ["AML301"] + (["AML511"] if size > 1 else [])
    assert all(len(f.message) < 500 and len(f.hint or "") < 1000 for f in report.findings)
