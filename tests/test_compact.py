"""The compact yes/no checker (aimlcat/_verdict.c, compiled by aimlcat/_compact.py).

It stands in for jsonschema-rs on every yes/no question the validator asks, so
it must give jsonschema-rs's verdict on every value: exactly, or by saying it is
unsure, in which case the value goes to jsonschema-rs. tests/test_engines.py
compares verdicts on bodies generated from every compiled schema; here are the
values a generator does not make (non-finite and huge numbers, lone surrogates,
Python types JSON has no word for, deep nesting) and the checker's own parts.
"""

from __future__ import annotations

import collections
import math
import os
import random
import shutil
import sysconfig
from typing import Any

import jsonschema_rs
import pytest

from aimlcat import _compact, load_catalog

# Where this machine can compile the extension, it must have been compiled: a build
# that failed quietly would leave every test here skipped and every lint slower.
_CC = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
if not _compact.AVAILABLE:
    if shutil.which(_CC):
        pytest.fail(f"aimlcat._verdict is not built although {_CC} is here: reinstall "
                    "(pip install -e .) or run `python hatch_build.py`", pytrace=False)
    pytest.skip("no C compiler: aimlcat validates with jsonschema-rs alone",
                allow_module_level=True)


def rs(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def outcome(fn: Any, value: Any) -> Any:
    try:
        return bool(fn(value))
    except Exception as exc:  # noqa: BLE001 - the exact engine's own refusal
        return type(exc)


def same_outcome(prog: Any, exact: Any, value: Any) -> None:
    """The compact verdict is jsonschema-rs's. Where jsonschema-rs refuses the value (a
    type JSON has no word for, a lone surrogate), the checker raises the same, or says
    invalid when another part already fails (the validator's error path then meets
    the refusal the same way); it never says valid."""
    want, got = outcome(exact.is_valid, value), outcome(prog.is_valid, value)
    if isinstance(want, type):
        assert got in (want, False), (want, got, value)
    else:
        assert got == want, (want, got, value)


def agree(schema: dict[str, Any], value: Any) -> int:
    """Assert the compact verdict is jsonschema-rs's; the checker's own answer."""
    exact = rs(schema)
    prog = _compact.program(schema, exact.is_valid)
    same_outcome(prog, exact, value)
    judged: int = prog.judge(value)
    if judged != -1:
        assert bool(judged) == exact.is_valid(value), (schema, value)
    return judged


NUMBERS = {"type": "object", "properties": {
    "n": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
    "i": {"type": "integer", "exclusiveMinimum": 0},
    "e": {"enum": [1, "a", None, True, [1, 2], {"k": 1}]},
    "c": {"const": 1.0}}}


@pytest.mark.parametrize("value", [
    {"n": 1}, {"n": 1.5}, {"n": 2.0000001}, {"n": -0.0}, {"n": None}, {"n": True},
    {"n": math.nan}, {"n": math.inf}, {"n": -math.inf}, {"i": 1}, {"i": 1.0}, {"i": 0},
    {"i": 1.5}, {"i": False}, {"i": 2 ** 53}, {"i": 2 ** 53 + 1}, {"i": 2 ** 64},
    {"i": -(2 ** 70)}, {"i": 1e300}, {"e": 1.0}, {"e": True}, {"e": 1}, {"e": False},
    {"e": 0}, {"e": [1.0, 2]}, {"e": [1, 2, 3]}, {"e": {"k": 1.0}}, {"e": {"k": True}},
    {"e": (1, 2)}, {"e": None}, {"c": 1}, {"c": True}, {"c": "1"},
])
def test_numbers_and_equality_as_json_schema_says(value: Any) -> None:
    """1 == 1.0 but not true; an integral float is an integer; NaN, infinities and
    integers past 2**53 are the exact engine's to judge."""
    judged = agree(NUMBERS, value)
    (v,) = value.values()
    if (isinstance(v, float) and not math.isfinite(v)) or (
            isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2 ** 53):
        assert judged == -1


STRINGS = {"type": "object", "properties": {
    "s": {"type": "string", "minLength": 2, "maxLength": 3},
    "p": {"type": "string", "pattern": "^[A-Z]{2}$"},
    "d": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
    "u": {"type": "string", "format": "uri"},
    "x": {"format": "uuid"}}, "additionalProperties": False}


@pytest.mark.parametrize("value", [
    {"s": "ab"}, {"s": "a"}, {"s": "abcd"}, {"s": "é😀"}, {"s": "😀😀😀😀"}, {"s": "\ud800x"},
    {"p": "US"}, {"p": "us"}, {"p": "USA"}, {"p": "US\n"}, {"d": "2024-01-02"},
    {"d": "٢٠٢٤-٠١-٠٢"}, {"u": "https://example.com/a.png"}, {"u": "not a uri"},
    {"u": ""}, {"x": "2c1f6b2e-2c5a-4a35-9c1a-1f0f5b6c7d8e"}, {"x": "nope"}, {"x": 7},
    {"z": 1}, {"\ud800": 1}, {1: 1}, {"s": collections.UserString("ab")},
])
def test_strings_patterns_and_formats_are_the_engines_own(value: Any) -> None:
    """Lengths count code points; patterns and formats are judged by jsonschema-rs
    itself; a lone surrogate, which it cannot encode, is left to it whole."""
    agree(STRINGS, value)


SHAPES = {"type": "object", "required": ["a"],
          "properties": {"a": {"type": "array", "items": {"type": "integer"}, "minItems": 1,
                               "maxItems": 2},
                         "o": {"type": "object", "additionalProperties": {"type": "string"}},
                         "t": True, "f": False},
          "additionalProperties": False}


@pytest.mark.parametrize("value", [
    {"a": [1]}, {"a": []}, {"a": [1, 2, 3]}, {"a": [1, "x"]}, {}, {"a": [1], "t": object()},
    {"a": [1], "f": 1}, {"a": [1], "o": {"k": "v"}}, {"a": [1], "o": {"k": 1}},
    {"a": (1,)}, collections.OrderedDict(a=[1]), {"a": [1], "zz": 1}, [], "x", None,
    {"a": [True]}, {"a": [1.0]}, {"a": [1], "o": {2: "v"}},
])
def test_objects_and_arrays(value: Any) -> None:
    agree(SHAPES, value)


UNION = {"$defs": {
    "user": {"type": "object", "properties": {"role": True, "content": {"type": "string"}},
             "required": ["role", "content"], "additionalProperties": False},
    "tool": {"type": "object", "properties": {"role": True, "id": {"type": "string"}},
             "required": ["role", "id"]}},
    "type": "array", "items": {"anyOf": [
        {"allOf": [{"properties": {"role": {"const": "user"}}, "required": ["role"]},
                   {"$ref": "#/$defs/user"}]},
        {"allOf": [{"properties": {"role": {"const": "tool"}}, "required": ["role"]},
                   {"$ref": "#/$defs/tool"}]}]}}


@pytest.mark.parametrize("message", [
    {"role": "user", "content": "hi"}, {"role": "tool", "id": "1"}, {"role": "tool"},
    {"role": "user", "content": 1}, {"role": "robot", "content": "hi"}, {"content": "hi"},
    {"role": 1, "content": "hi"}, {"role": None}, {"role": ["user"]}, {"role": "\ud800"},
    {"role": ("user",)}, "user", 3, None, [], {"role": "user", "content": "hi", "x": 1},
])
def test_a_tagged_union_is_one_lookup_with_the_same_verdicts(message: Any) -> None:
    """The fast form's tagged unions (anyOf of allOf[tag check, branch]) are looked up
    by the body's tag (values that are no object still try every branch): a missing,
    unknown, mistyped or unreadable tag gets the verdict trying them all would give."""
    agree(UNION, [message])


def test_refs_that_only_point_on_and_cycles_of_them() -> None:
    chain = {"$defs": {"s": {"$ref": "#/$defs/t"}, "t": {"type": "string"},
                       "tree": {"type": "array", "items": {"$ref": "#/$defs/tree"}}},
             "properties": {"x": {"$ref": "#/$defs/s"}, "t": {"$ref": "#/$defs/tree"}}}
    for value in ({"x": "y"}, {"x": 1}, {}, {"t": [[], [[]]]}, {"t": [1]}):
        agree(chain, value)
    # A cycle that never reads into the value would be tried every way round, again and
    # again (2**100 ways for this one): such a schema keeps its jsonschema-rs validator.
    for loop in ({"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
                 {"a": {"allOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/a"}]}},
                 {"a": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/a"}]}}):
        with pytest.raises(_compact.Unsupported):
            _compact.program({"$defs": loop, "$ref": "#/$defs/a"}, bool)
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(3000):
        deep = {"items": deep}
    with pytest.raises(_compact.Unsupported):
        _compact.program(deep, bool)


def test_deep_values_go_to_the_exact_engine() -> None:
    tree = {"$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}},
            "$ref": "#/$defs/n"}
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    assert agree(tree, [[[]]]) == 1
    assert agree(tree, deep) == -1  # past the checker's depth: jsonschema-rs decides


@pytest.mark.parametrize("schema", [
    {"oneOf": [{"type": "string"}]}, {"not": {"type": "string"}}, {"multipleOf": 2},
    {"uniqueItems": True}, {"patternProperties": {"a": {}}}, {"if": {}, "then": {}},
    {"$ref": "defs.json#/$defs/x"}, {"$ref": "#/$defs/missing"}, {"type": "decimal"},
    {"exclusiveMinimum": True}, {"minimum": 2 ** 60}, {"maxLength": -1}, {"required": "a"},
    {"anyOf": []}, {"properties": {"a": {"$defs": {}}}}, {"pattern": 3}, {"type": []},
    # another draft's semantics, and schemas jsonschema-rs refuses to build
    {"$schema": "http://json-schema.org/draft-07/schema#", "type": "integer"},
    {"required": ["a", "a"]}, {"properties": {"a": {"description": 1}}},
    {"$defs": {"a b": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/a b"}}},
    {"properties": {"x": {"$id": "http://e.invalid/x", "type": "string"}}},
    {"type": {}}, {"type": [["string"]]},
    {"items": {"items": {"items": {"type": "string"}}}} | {"x": 0},
])
def test_what_it_does_not_read_keeps_jsonschema_rs(schema: dict[str, Any]) -> None:
    with pytest.raises(_compact.Unsupported):
        _compact.program(schema, bool)


@pytest.mark.parametrize("nodes", [
    [], [()], [(1, 2, 3)], ["x"],
    [(False, 0, 5, None, -1, -1, None, (), (), False, None, None, None, None, None,
      (-1, -1, -1, -1), None, None, 0)],
    [(False, 0, -1, None, -1, -1, None, (9,), (), False, None, None, None, None, None,
      (-1, -1, -1, -1), None, None, 0)],
    [(False, 0, -1, [], -1, -1, None, (), (), False, None, None, None, None, None,
      (-1, -1, -1, -1), None, None, 0)],
])
def test_a_malformed_program_is_an_error_not_a_crash(nodes: list[Any]) -> None:
    assert _compact.Program is not None
    with pytest.raises((ValueError, TypeError)):
        _compact.Program(nodes, bool)


def test_the_catalogs_fast_checks_are_compact_programs() -> None:
    """Every shared verdict validator and per-parameter validator the catalog builds is
    a compact program; the whole-body validator users ask for stays jsonschema-rs."""
    cat = load_catalog()
    plan = cat.plan("gpt-4o", "/v1/chat/completions")
    assert isinstance(plan.fast, _compact.Program)
    assert isinstance(cat.property_validators("gpt-4o", "/v1/chat/completions")["messages"],
                      _compact.Program)
    assert not isinstance(cat.validator("gpt-4o", "/v1/chat/completions"), _compact.Program)


ODD = [math.nan, math.inf, 2 ** 64, -(2 ** 80), "\udfff", (1, 2), {3: 4}, b"x", 1.0, True,
       None, "", [], {}, collections.OrderedDict(), 0]


def _mutations(value: Any, rnd: random.Random) -> Any:
    """Copies of ``value`` with one nested value swapped for an odd one."""
    if isinstance(value, dict) and value:
        key = rnd.choice(list(value))
        out = dict(value)
        out[key] = rnd.choice(ODD) if rnd.random() < 0.5 else _mutations(value[key], rnd)
        return out
    if isinstance(value, list) and value:
        i = rnd.randrange(len(value))
        out_list = list(value)
        out_list[i] = rnd.choice(ODD) if rnd.random() < 0.5 else _mutations(value[i], rnd)
        return out_list
    return rnd.choice(ODD)


def test_odd_python_values_in_real_bodies() -> None:
    """Bodies of the benchmark, with one nested value swapped for a value JSON has no word
    for (or a huge or non-finite number): the same verdict or exception as jsonschema-rs."""
    import json
    from pathlib import Path

    from aimlcat._catalog import _FastDefs, _strip, fast_form, verdict_form

    cat = load_catalog()
    table = _FastDefs(cat.defs())
    data = Path(__file__).resolve().parent.parent / "bench" / "data"
    rnd = random.Random(7)
    checked = 0
    for name in ("chat_valid.json", "chat_invalid.json", "video_valid.json"):  # 1 invalid
        body = json.loads((data / name).read_text(encoding="utf-8"))
        report = cat.validate(body)
        assert report.model and report.endpoint
        schema = table.standalone(fast_form(_strip(verdict_form(
            cat.endpoint_schema(report.model, report.endpoint)))))
        exact = rs(schema)
        prog = _compact.program(schema, exact.is_valid)
        for _ in range(300):
            value = _mutations(body, rnd)
            same_outcome(prog, exact, value)
            checked += 1
    assert checked == 900


def test_threads_sharing_a_program_get_the_verdicts_one_thread_gets() -> None:
    """A props node's key cache changes as bodies are read; threads that share a catalog
    (Dask workers' threads, a web server's) must still get every verdict right."""
    import json
    import threading
    from pathlib import Path

    cat = load_catalog()
    plan = cat.plan("gpt-4o", "/v1/chat/completions")
    data = Path(__file__).resolve().parent.parent / "bench" / "data"
    good = json.loads((data / "chat_valid.json").read_text(encoding="utf-8"))
    bodies = [good, {**good, "temperature": "hot"}, {**good, "messages": [{"role": "robot"}]},
              {**good, "n": 2, "seed": 3}, {**good, "tools": [{"type": "function"}]}]
    want = [plan.fast.is_valid(b) for b in bodies]
    assert want == [True, False, False, True, False]
    wrong: list[int] = []

    def work(shift: int) -> None:
        for i in range(3000):
            k = (i + shift) % len(bodies)
            if plan.fast.is_valid(bodies[k]) != want[k]:
                wrong.append(k)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


class _Hijack:
    """A key that hashes like a body's own and, compared, empties the containers the
    checker is walking (once armed): a lookup that ran it mid-walk would read freed
    memory."""

    def __init__(self, like: str) -> None:
        self.like = like
        self.victims: tuple[Any, ...] = ()

    def arm(self, *victims: Any) -> None:
        self.victims = victims

    def __hash__(self) -> int:
        return hash(self.like)

    def __eq__(self, other: object) -> bool:
        for v in self.victims:
            v.clear()
        return False


def test_keys_that_run_code_are_left_to_jsonschema_rs_before_any_lookup() -> None:
    """A body key that is not a str (here, one whose __eq__ empties the body) could run
    Python code inside a lookup: the checker looks nothing up in a dict before it has seen
    every key is a plain str, and is unsure otherwise (found by review: a crash)."""
    schema = {"type": "array", "items": {"type": "object", "required": ["role"]}}
    seen: list[Any] = []
    prog = _compact.program(schema, lambda v: seen.append(v) or False)
    body: list[Any] = []
    item: dict[Any, Any] = {"role": "x", "content": "y"}
    key = _Hijack("role")
    item[key] = 1
    body.append(item)
    key.arm(item, body)
    assert prog.judge(body) == -1 and len(body) == 1 and len(item) == 3
    assert prog.is_valid(body) is False and seen == [body]
    cat = load_catalog()
    chat: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    message = chat["messages"][0]
    key = _Hijack("role")
    message[key] = 1
    key.arm(message, chat["messages"])
    assert cat.plan("gpt-4o", "/v1/chat/completions").fast.judge(chat) == -1
    try:  # what the Python layers make of such a body is theirs; no crash is the point
        cat.validate(chat)
    except (TypeError, ValueError):
        pass


def test_the_plain_sum_reads_no_key_that_runs_code() -> None:
    from aimlcat import _tokens

    if _tokens._PLAIN_BOUND is None:
        pytest.skip("aimlcat._verdict is not built")
    items: list[Any] = []
    role = _Hijack("user")
    message: dict[Any, Any] = {"role": role, "content": "x" * 100}
    items.append(message)
    role.arm(items, message)
    args = (_tokens._ROLES, _tokens._WIDE, 1, 5000, 9)
    assert _tokens._PLAIN_BOUND(items, *args) is None and len(items) == 1
    key = _Hijack("content")
    other: dict[Any, Any] = {"role": "user", key: 1}
    key.arm(items, other)
    assert _tokens._PLAIN_BOUND([other], *args) is None and len(other) == 2


def test_a_program_keeps_its_own_copy_of_what_it_was_given() -> None:
    props = {"a": 0 * 2}
    node = (False, 0, -1, props, -1, -1, None, (), (), False, None, None, None, None, None,
            (-1, -1, -1, -1), None, None, 0)
    assert _compact.Program is not None
    prog = _compact.Program([node], bool)
    props["a"] = 200_000  # past the end of the program, had it kept the dict
    assert prog.is_valid({"a": 1}) is True


def test_a_program_and_a_fallback_that_refers_to_it_are_collected() -> None:
    import gc
    import weakref

    class Marker:
        pass

    refs = []
    for _ in range(20):
        marker = Marker()
        refs.append(weakref.ref(marker))
        holder: list[Any] = []

        def fallback(v: Any, holder: list[Any] = holder, marker: Any = marker) -> bool:
            return bool(holder)

        holder.append(_compact.program({"type": "string"}, fallback))
        del marker, holder, fallback
    gc.collect()
    assert all(r() is None for r in refs)


def test_a_long_key_is_not_kept_alive_by_the_key_cache() -> None:
    import sys

    prog = _compact.program({"properties": {"a": {"type": "string"}},
                             "additionalProperties": False}, bool)
    long_key = "k" * 10_000
    before = sys.getrefcount(long_key)
    assert prog.is_valid({long_key: 1}) is False
    assert sys.getrefcount(long_key) == before
    short = "".join(["b"] * 10)
    before = sys.getrefcount(short)
    assert prog.is_valid({short: 1}) is False
    assert sys.getrefcount(short) == before + 1  # remembered: short keys repeat
