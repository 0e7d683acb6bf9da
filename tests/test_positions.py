"""Positions: every pointer in a JSON or YAML text maps to the line and column where it is written.

The JSON position finder is checked against the text itself: for random documents
in several layouts, the span found for each pointer holds exactly that key (or a
value that parses to that value).
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aimlcat._findings import escape_pointer
from aimlcat._positions import Span, json_nodes, json_spans, offset_span, yaml_spans
from aimlcat._yamlio import load_yaml


def pointers(doc: Any, here: str = "") -> list[str]:
    out = [here]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += pointers(v, f"{here}/{escape_pointer(k)}")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += pointers(v, f"{here}/{i}")
    return out


def get(doc: Any, ptr: str) -> Any:
    for part in ptr[1:].split("/") if ptr else []:
        part = part.replace("~1", "/").replace("~0", "~")
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def text_at(text: str, span: Span) -> str:
    lines = text.split("\n")
    start = sum(len(x) + 1 for x in lines[:span.line - 1]) + span.column - 1
    assert span.end_line is not None and span.end_column is not None
    end = sum(len(x) + 1 for x in lines[:span.end_line - 1]) + span.end_column - 1
    return text[start:end]


def random_doc(rnd: random.Random, depth: int = 0) -> Any:
    keys = ["model", "a/b", "t~ilde", "é", 'q"uote', "back\\slash", "x y", "", "0", "messages"]
    kind = rnd.randrange(6 if depth < 4 else 4)
    if kind == 0:
        return rnd.choice([None, True, False, 0, -1.5, 2**40, "s", "é\n\"", "{[:,]}"])
    if kind in (1, 2):
        return rnd.choice(["text", "with \\ backslash", "tab\t", "😀"])
    if kind == 3:
        return rnd.randrange(1000)
    if kind == 4:
        return [random_doc(rnd, depth + 1) for _ in range(rnd.randrange(4))]
    return {rnd.choice(keys): random_doc(rnd, depth + 1) for _ in range(rnd.randrange(5))}


LAYOUTS = [
    lambda d: json.dumps(d),
    lambda d: json.dumps(d, indent=2),
    lambda d: json.dumps(d, indent="\t", ensure_ascii=False),
    lambda d: json.dumps(d, separators=(",", ":")),
    lambda d: "\n  " + json.dumps(d, indent=4).replace(": ", " :  ") + "\n",
]


@pytest.mark.parametrize("seed", range(40))
def test_every_pointer_is_found_where_it_is_written(seed: int) -> None:
    rnd = random.Random(seed)
    doc = {"root": random_doc(rnd), "list": [random_doc(rnd) for _ in range(3)]}
    for layout in LAYOUTS:
        text = layout(doc)
        ptrs = pointers(doc)
        # one pointer at a time (the walk stops early) and all at once
        for batch in [[p] for p in ptrs] + [ptrs]:
            spans = json_spans(text, [(p, "AML401") for p in batch])  # value spans
            keys = json_spans(text, [(p, "AML301") for p in batch])  # key spans
            for p, vs, ks in zip(batch, spans, keys, strict=True):
                if p == "":  # the whole body: its first character
                    start = offset_span(text, len(text) - len(text.lstrip()))
                    assert (vs.line, vs.column) == (start.line, start.column)
                    continue
                assert json.loads(text_at(text, vs)) == get(doc, p), (p, text)
                last = p.rsplit("/", 1)[1].replace("~1", "/").replace("~0", "~")
                if isinstance(get(doc, p.rsplit("/", 1)[0] or ""), dict):
                    assert json.loads(text_at(text, ks)) == last


def test_missing_pointer_points_at_the_object_that_should_hold_it() -> None:
    text = '{\n  "model": "gpt-4o",\n  "messages": [\n    {"role": "user"}\n  ]\n}\n'
    # `content` is missing in the first message: the message object's opening brace
    (s,) = json_spans(text, [("/messages/0/content", "AML404")])
    assert (s.line, s.column) == (4, 5)
    (s,) = json_spans(text, [("/max_tokens", "AML404")])
    assert (s.line, s.column) == (1, 1)
    # deeper than the document goes: the deepest part that exists
    (s,) = json_spans(text, [("/messages/7/content/0", "AML404")])
    assert (s.line, s.column) == (3, 15)


def test_key_or_value_by_code_and_the_whole_body_at_its_start() -> None:
    text = '{"model": "gpt-4.0", "temperature": 3, "n": 1}'
    unknown, rng, dep, body = json_spans(text, [("/model", "AML102"), ("/temperature", "AML402"),
                                               ("/n", "AML301"), ("", "AML202")])
    assert text_at(text, unknown) == '"gpt-4.0"'  # the id is what is wrong
    assert text_at(text, rng) == "3"
    assert text_at(text, dep) == '"n"'  # an unknown key: the key
    assert (body.line, body.column, body.end_line, body.end_column) == (1, 1, 1, 2)


def test_repeated_keys_point_at_the_one_that_counts() -> None:
    text = '{"a": 1, "b": {"c": [1]}, "a": {"x": 2}}'
    (s,) = json_spans(text, [("/a", "AML002")], exact=True)
    assert (s.line, s.column) == (1, 27)
    (s,) = json_spans(text, [("/a/x", "AML401")], exact=True)
    assert text_at(text, s) == "2"


def test_escaped_keys_and_unicode_columns() -> None:
    text = '{"caf\\u00e9": 1, "é": "ü", "k": 2}'
    first, second, third = json_spans(text, [("/café", "AML301"), ("/é", "AML403"),
                                            ("/k", "AML301")])
    assert text_at(text, first) == '"caf\\u00e9"'
    assert text_at(text, second) == '"ü"'
    assert third.column == text.index('"k"') + 1  # code points, not bytes


def test_members_for_the_fixer() -> None:
    text = '{"a": 1, "b": [10, 20], "c": {}}'
    nodes = json_nodes(text, [], members=["", "/b"])
    assert [m[0] for m in nodes[""].members or []] == ["a", "b", "c"]
    assert [(m[0], text[m[2]:m[3]]) for m in nodes["/b"].members or []] == [("0", "10"),
                                                                           ("1", "20")]


def test_offset_span() -> None:
    text = "ab\ncd\r\nef"
    assert offset_span(text, 0, 2) == Span(1, 1, 1, 3)
    assert offset_span(text, 3) == Span(2, 1)
    assert offset_span(text, 7, 9) == Span(3, 1, 3, 3)
    assert Span(2, 3, 2, 5).shifted(10) == Span(12, 3, 12, 5)


def test_yaml_positions() -> None:
    text = ("# a request\nmodel: flux/dev\nprompt: a fox\n'quoted key': 1\nnested:\n"
            "  inner: 2\nlist:\n  - a\n  - {x: 1}\n")
    tree = load_yaml(text)
    spans = yaml_spans(tree, text, ["/model", "/quoted key", "/nested/inner", "/list/1",
                                    "/list/1/x", "/nested/missing", ""])
    assert [(s.line, s.column) for s in spans] == [(2, 1), (4, 1), (6, 3), (9, 5), (9, 6),
                                                   (5, 1), (2, 1)]
    assert spans[0].end_column == len("model") + 1
    assert spans[1].end_column == len("'quoted key'") + 1


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False,
                                                                 allow_infinity=False),
              st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
              st.sampled_from(['a"b', "a\\b", "[{", "}]", "\\u", '\\"', "😀", "é", "\u2028"])),
    lambda kids: st.one_of(st.lists(kids, max_size=4),
                           st.dictionaries(st.text(max_size=6), kids, max_size=4)),
    max_leaves=20)


def _dump_marking_values(value: Any, sep: str, ascii_only: bool) -> tuple[str, list[int]]:
    """JSON text of ``value`` (items and members joined by ``sep``: "," or ", \n ") and the
    offset where each value in it starts."""
    starts: list[int] = []
    out: list[str] = []
    size = 0

    def put(text: str) -> None:
        nonlocal size
        out.append(text)
        size += len(text)

    def dump(v: Any) -> None:
        starts.append(size)
        if isinstance(v, list):
            put("[")
            for i, item in enumerate(v):
                if i:
                    put(sep)
                dump(item)
            put("]")
        elif isinstance(v, dict):
            put("{ ")
            for i, (k, item) in enumerate(v.items()):
                if i:
                    put(sep)
                put(json.dumps(k, ensure_ascii=ascii_only) + " :\t")
                dump(item)
            put(" }")
        else:
            put(json.dumps(v, ensure_ascii=ascii_only))

    dump(value)
    return "".join(out), starts


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.sampled_from([",", ", \n ", "\r\n,"]), st.booleans())
def test_passing_over_a_value_in_c_ends_where_the_decoder_does(
        value: Any, sep: str, ascii_only: bool) -> None:
    """_positions passes over values with aimlcat._verdict.skip_json where it is built: at
    every value in the text, the same end offset as the standard library's scanner."""
    from aimlcat import _positions

    if _positions._skip is _positions._skip_py:
        pytest.skip("aimlcat._verdict is not built")
    text, starts = _dump_marking_values(value, sep, ascii_only)
    for start in starts:
        assert _positions._skip(text, start) == _positions._skip_py(text, start), (text, start)


@pytest.mark.parametrize(("text", "pos"), [('"abc', 0), ("[1, 2", 0), ("{", 0), ("", 0),
                                           ("1", 5), ("1", -1), ("]", 0)])
def test_passing_over_a_truncated_value_is_an_error(text: str, pos: int) -> None:
    from aimlcat import _positions

    if _positions._skip is _positions._skip_py:
        pytest.skip("aimlcat._verdict is not built")
    with pytest.raises(ValueError):
        _positions._skip(text, pos)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab :\n\r\x85\u2028\u2029", max_size=60))
def test_yaml_lines_are_mapped_to_the_texts_lines(text: str) -> None:
    """YAML breaks lines at CR, NEL, U+2028 and U+2029 too; positions are reported at the
    text's `\\n` lines. The map (made in one pass) agrees with counting the text directly."""
    import re as _re

    from aimlcat._yamlio import _YAML_BREAK, _line_map

    real = _line_map(text)
    if real is None:
        assert _re.search("\r(?!\n)|[\x85\u2028\u2029]", text) is None
        return
    starts = [0, *(m.end() for m in _YAML_BREAK.finditer(text))]
    for line in range(len(starts) + 2):
        at = starts[min(line, len(starts) - 1)]
        for column in (0, 3):
            want = (text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + column + 1)
            assert real(line, column) == want


def _missing(ptr: str) -> list[str]:
    return [ptr + "/nope", ptr + "/0/x", ptr + "/9"]


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.integers(0, len(LAYOUTS) - 1), st.booleans(), st.randoms())
def test_placing_pointers_in_c_finds_what_the_python_walk_finds(
        value: Any, layout: int, exact: bool, rnd: random.Random) -> None:
    """json_nodes walks the text in C (aimlcat._verdict.locate_json) where it is built:
    for any pointers asked (found ones, missing ones, none), the same offsets as the
    Python walk, early stop included."""
    from aimlcat import _positions

    if _positions._locate is None:
        pytest.skip("aimlcat._verdict is not built")
    doc = {"body": value, "n": [value, {"k": value}]}
    text = LAYOUTS[layout](doc)
    found = pointers(doc)
    asked = rnd.sample(found, min(len(found), rnd.randrange(4)))
    asked += rnd.sample(_missing(rnd.choice(found)), rnd.randrange(2))
    in_c = json_nodes(text, asked, exact=exact)
    locate, _positions._locate = _positions._locate, None
    try:
        in_python = json_nodes(text, asked, exact=exact)
    finally:
        _positions._locate = locate
    assert in_c == in_python, (text, asked)


@pytest.mark.parametrize("key", ["¹", "٣", "²3", "00", "0"])
def test_a_key_of_digits_that_are_no_index_is_placed(key: str) -> None:
    """"¹".isdigit() is true, but no index: such a key (an unknown parameter, say) was a
    ValueError in the lint's positions instead of a line and column."""
    text = json.dumps({"model": "gpt-4o", key: 1, "list": [1, 2]}, ensure_ascii=False)
    [span, item] = json_spans(text, [("/" + key, "AML301"), ("/list/1", "AML401")])
    assert text_at(text, span) == json.dumps(key, ensure_ascii=False)
    assert text_at(text, item) == "2"


def test_locating_with_malformed_arguments_is_an_error_not_a_crash() -> None:
    from aimlcat import _positions

    if _positions._locate is None:
        pytest.skip("aimlcat._verdict is not built")
    text = '{"a": [1, {"b": 2}]}'
    for kids, wanted in [({"": {"a": 5}}, ["/a"]), ({"": 3}, ["/a"]), ({}, [1])]:
        with pytest.raises(TypeError):
            _positions._locate(text, kids, wanted, False)  # type: ignore[arg-type]
    assert _positions._locate(text, {"": {"a": "/a"}}, ["/a"], False) is None  # no kids of /a
