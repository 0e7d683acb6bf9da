"""Reading payload files: the fast orjson path and the exact path agree, duplicate
keys are found wherever they are, and bad text is one clear error."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from aimlcat import PayloadError
from aimlcat._payloads import load_json, parse_payload, read_payload


def dups(text: str) -> list[tuple[str, str]]:
    _, found = load_json(text.encode(), "t.json")
    return [(f.code, f.pointer) for f in found]


@pytest.mark.parametrize(("text", "expected"), [
    ('{"a": 1, "a": 2}', [("AML002", "/a")]),
    ('{"a": 1, "b": {"c": 1, "c": 1}}', [("AML002", "/b/c")]),
    ('{"m": [{"role": "user", "role": "system"}]}', [("AML002", "/m/0/role")]),
    ('{"a~b/c": 1, "a~b/c": 1}', [("AML002", "/a~0b~1c")]),
    # a colon spelled as an escape cannot hide a duplicate from the fast check
    ('{"a": "x\\u003ay", "a": 1}', [("AML002", "/a")]),
    ('{"a": "x\\u003ay", "b": 1}', []),
    # colons and quotes inside strings, odd spacing around colons
    ('{"a" :"k\\": v", "b"\n:\t"x:y:z"}', []),
    ('{"a" :"k\\": v", "a"\n:\t"x:y:z"}', [("AML002", "/a")]),
    ('{"body": {"model": "gpt-4o", "model": "o3-mini"}, "endpoint": "/v1/chat/completions"}',
     [("AML002", "/body/model")]),
    ('[1, {"x": 1}]', []),
    # compact text, as httpx and the OpenAI SDK write it (the equal-bytes shortcut)
    ('{"a":1,"a":1}', [("AML002", "/a")]),
    ('{"a":{"b":[1,{"c":"d"}]},"e":"f:g"}', []),
    ('{"a":{"b":1,"b":1},"c":2}', [("AML002", "/a/b")]),
])
def test_duplicate_keys(text: str, expected: list[tuple[str, str]]) -> None:
    assert dups(text) == expected


def test_duplicate_key_message_names_the_values() -> None:
    _, (f,) = load_json(b'{"temperature": 0.2, "temperature": 0.9}', "t.json")
    assert f.severity == "error" and "2 times" in f.message
    assert f.hint is not None and "0.2, 0.9" in f.hint


def test_fast_and_exact_paths_parse_the_same() -> None:
    """orjson's result and the standard parser's are the same data."""
    rnd = random.Random(7)
    alphabet = ['"', "\\\\", ":", "é", "\\u00e9", " ", "x", "\\n", "{"]

    def value(depth: int) -> Any:
        kind = rnd.randrange(6 if depth < 4 else 4)
        if kind == 0:
            return rnd.choice([None, True, False])
        if kind == 1:
            return rnd.choice([0, -7, 2**40, 1.5, -0.25, 1e300])
        if kind in (2, 3):
            return "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(8)))
        if kind == 4:
            return [value(depth + 1) for _ in range(rnd.randrange(4))]
        return {f"k{rnd.randrange(9)}:{i}": value(depth + 1) for i in range(rnd.randrange(4))}

    for _ in range(300):
        doc = {"x": value(0)}
        for text in (json.dumps(doc), json.dumps(doc, indent=2, ensure_ascii=False)):
            parsed, found = load_json(text.encode(), "t.json")
            assert found == () and parsed == json.loads(text)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty"),
    (b"  \n", "empty"),
    (b'{"a": NaN}', "NaN is not valid JSON"),
    (b'{"a": Infinity}', "Infinity is not valid JSON"),
    (b'{"a": 1,}', "invalid JSON"),
    (b'{"a": "\xff"}', "not UTF-8"),
])
def test_bad_text_is_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "bad.json"
    f.write_bytes(content)
    with pytest.raises(PayloadError) as info:
        read_payload(str(f))
    assert message in str(info.value) and str(f) in str(info.value)


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.json"
    f.write_text('{\n  "model": "gpt-4o"\n  "messages": []\n}\n')
    with pytest.raises(PayloadError) as info:
        read_payload(str(f))
    assert (info.value.line, info.value.column) == (3, 3)


def test_bom_and_big_integers(tmp_path: Path) -> None:
    f = tmp_path / "bom.json"
    f.write_bytes(b'\xef\xbb\xbf{"model": "gpt-4o"}')
    assert read_payload(str(f)).body == {"model": "gpt-4o"}
    big = parse_payload(b'{"n": 123456789012345678901234567890}', "t.json").body
    assert big["n"] == 123456789012345678901234567890 and type(big["n"]) is int


@pytest.mark.parametrize("n", [2 ** 64 - 1, 2 ** 64, -2 ** 63, -2 ** 63 - 1, 10 ** 40,
                               -10 ** 40, 1234567890123456789])
@pytest.mark.parametrize("spaced", [False, True])
def test_integers_keep_every_digit(n: int, spaced: bool) -> None:
    """orjson keeps 64 bits (a larger integer comes back a float); such a body is read
    the exact way, so findings quote the number as written. In a string, or as part of
    a float, a long run of digits is left as it is."""
    doc = {"n": n, "s": str(n) * 2, "f": 0.12345678901234567890123, "a": [n]}
    text = json.dumps(doc, indent=2 if spaced else None).encode()
    body = parse_payload(text, "t.json").body
    assert body == json.loads(text)
    assert type(body["n"]) is int and body["n"] == n and body["a"] == [n]


def test_a_long_integer_is_quoted_as_written() -> None:
    from aimlcat import load_catalog

    body = parse_payload(b'{"model": "gpt-4o", "messages": [{"role": "user", "content": '
                         b'"hi"}], "max_completion_tokens": 123456789012345678901234567890}',
                         "t.json").body
    [finding] = load_catalog().validate(body).findings
    assert "123,456,789,012,345,678,901,234,567,890" in finding.message


def test_lint_reports_duplicates_in_file_coordinates(tmp_path: Path) -> None:
    import io

    from aimlcat._cli import run

    f = tmp_path / "env.json"
    f.write_text('{"endpoint": "/v1/chat/completions", "body": '
                 '{"model": "gpt-4o", "messages": [], "n": 1, "n": 2}}')
    out = io.StringIO()
    assert run(["lint", "--format", "json", str(f)], out=out) == 1
    (entry,) = json.loads(out.getvalue())["files"]
    assert [(x["code"], x["pointer"]) for x in entry["findings"]] == [("AML002", "/body/n")]


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    import time

    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(8):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    f = tmp_path / "bomb.yaml"
    f.write_text("\n".join([*lines, "model: gpt-4o"]) + "\n")
    start = time.monotonic()
    with pytest.raises(PayloadError, match="aliases expand"):
        read_payload(str(f))
    assert time.monotonic() - start < 5


def test_yaml_anchors_in_honest_use(tmp_path: Path) -> None:
    f = tmp_path / "anchors.yaml"
    f.write_text("messages: [&m {role: user, content: hi}, *m]\nmodel: gpt-4o\n")
    assert read_payload(str(f)).body["messages"] == [{"role": "user", "content": "hi"}] * 2


def test_size_limit(tmp_path: Path) -> None:
    f = tmp_path / "big.json"
    f.write_text('{"model": "gpt-4o", "messages": [], "x": "' + "y" * 5000 + '"}')
    with pytest.raises(PayloadError, match="over the 1,000-byte limit"):
        read_payload(str(f), max_bytes=1000)
    assert read_payload(str(f), max_bytes=10_000).body["model"] == "gpt-4o"


@pytest.mark.parametrize("size", [1000, 1001, 65_535, 65_536, 65_537, 300_000])
@pytest.mark.parametrize("limit", [1000, 65_536, 200_000])
def test_size_limit_at_the_edges(tmp_path: Path, size: int, limit: int) -> None:
    # A file is read without asking its size first unless the first read fills its
    # buffer: at, just under and just over the limit and the 64 KiB read, whole or refused.
    f = tmp_path / "edge.json"
    head = '{"model": "gpt-4o", "messages": [], "x": "'
    f.write_text(head + "y" * (size - len(head) - 2) + '"}')
    assert f.stat().st_size == size
    if size > limit:
        with pytest.raises(PayloadError, match=f"is {size:,} bytes, over the {limit:,}-byte"):
            read_payload(str(f), max_bytes=limit)
    else:
        assert len(read_payload(str(f), max_bytes=limit).body["x"]) == size - len(head) - 2


def test_gzip_that_unpacks_past_the_limit(tmp_path: Path) -> None:
    import gzip

    f = tmp_path / "bomb.json.gz"
    f.write_bytes(gzip.compress(b" " * 2_000_000 + b"{}"))
    with pytest.raises(PayloadError, match="unpacks to more than"):
        read_payload(str(f), max_bytes=100_000)


def test_size_limit_from_flag_and_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from aimlcat._cli import run

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.json").write_text('{"model": "gpt-4o", "messages": []}' + " " * 2000)
    (tmp_path / "log.jsonl").write_text(
        '{"model": "gpt-4o", "messages": []}\n' + '{"x": "' + "y" * 5000 + '"}\n'
        + '{"model": "gpt-4o", "messages": []}\n')
    out = io.StringIO()
    assert run(["lint", "--max-bytes", "1000", "a.json"], out=out) == 2
    assert "over the 1,000-byte limit" in out.getvalue()
    (tmp_path / ".aimlcat.toml").write_text("max-bytes = 1000\n")
    out = io.StringIO()
    assert run(["lint", "a.json"], out=out) == 2
    out = io.StringIO()
    assert run(["lint", "--max-bytes", "100000", "a.json"], out=out) == 0
    out = io.StringIO()
    assert run(["lint", "--format", "json", "log.jsonl"], out=out) == 1  # line 2: over the limit
    (entry,) = json.loads(out.getvalue())["files"]
    assert [(f["code"], f.get("line")) for f in entry["findings"]] == [("AML003", 2)]


def test_symlink_loop_and_directory(tmp_path: Path) -> None:
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    with pytest.raises(PayloadError, match="cannot read") as info:
        read_payload(str(loop))
    assert str(loop) in str(info.value)
    with pytest.raises(PayloadError, match="is a directory"):
        read_payload(str(tmp_path))
