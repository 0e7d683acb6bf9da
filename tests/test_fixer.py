"""Fixes written into the text: minimal edits, checked against Report.apply_fixes."""

from __future__ import annotations

import json
import os
import random
import stat
from pathlib import Path
from typing import Any

import pytest

from aimlcat._fixer import atomic_binary, fix_json_text, fix_yaml_text, unified_diff

RENAME = {"op": "move", "from": "/max_tokens", "path": "/max_completion_tokens"}


def fixed(text: str, *fixes: dict[str, Any]) -> str:
    out = fix_json_text(text, list(fixes))
    assert out.text is not None, out.problem
    return out.text


def test_rename_touches_only_the_key() -> None:
    text = ('{\n  "model": "gpt-4o",\n  "messages": [{"role": "user", "content": "Hi"}],\n'
            '  "max_tokens": 512,\n  "temperature": 0.2\n}\n')
    assert fixed(text, RENAME) == text.replace('"max_tokens"', '"max_completion_tokens"')
    compact = json.dumps({"model": "gpt-4o", "max_tokens": 5, "n": 1}, separators=(",", ":"))
    assert fixed(compact, RENAME) == compact.replace("max_tokens", "max_completion_tokens")


def test_rename_in_an_envelope_with_crlf_and_tabs() -> None:
    text = '{\r\n\t"url": "/v1/chat/completions",\r\n\t"body": {\r\n\t\t"max_tokens": 1\r\n\t}\r\n}'
    fix = {"op": "move", "from": "/body/max_tokens", "path": "/body/max_completion_tokens"}
    assert fixed(text, fix) == text.replace("max_tokens", "max_completion_tokens")


@pytest.mark.parametrize(("text", "path", "expected"), [
    # pretty: the member's line goes, indentation of the next stays
    ('{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}\n', "/b", '{\n  "a": 1,\n  "c": 3\n}\n'),
    ('{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}\n', "/a", '{\n  "b": 2,\n  "c": 3\n}\n'),
    ('{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}\n', "/c", '{\n  "a": 1,\n  "b": 2\n}\n'),
    ('{\n  "a": 1\n}\n', "/a", "{}\n"),
    # compact
    ('{"a": 1, "b": [1, {"x": 2}], "c": 3}', "/b", '{"a": 1, "c": 3}'),
    ('{"a":1,"b":2}', "/b", '{"a":1}'),
    ('{"a":1,"b":2}', "/a", '{"b":2}'),
    # nested
    ('{"body": {"model": "m", "top_p": 1}, "url": "/v1/x"}', "/body/top_p",
     '{"body": {"model": "m"}, "url": "/v1/x"}'),
])
def test_remove_cuts_the_member_and_its_comma(text: str, path: str, expected: str) -> None:
    assert fixed(text, {"op": "remove", "path": path}) == expected


def test_replace_a_value_in_place() -> None:
    text = '{\n  "model": "m",\n  "quality": "hd",\n  "n": 1\n}\n'
    fix = {"op": "replace", "path": "/quality", "value": "high"}
    assert fixed(text, fix) == text.replace('"hd"', '"high"')


def test_a_fix_that_does_not_apply_changes_nothing() -> None:
    text = '{"max_tokens": 1, "max_completion_tokens": 2}'
    assert fix_json_text(text, [RENAME]).text is None  # the target is set already
    assert fix_json_text('{"n": 1}', [RENAME]).text is None  # the source is gone
    assert fix_json_text('{"n": 1}', [{"op": "move", "from": "/a/b", "path": "/c"}]).text is None


def test_fixing_twice_equals_fixing_once() -> None:
    text = '{"model": "gpt-4o", "max_tokens": 5, "top_p": 1}\n'
    once = fixed(text, RENAME, {"op": "remove", "path": "/top_p"})
    assert once == '{"model": "gpt-4o", "max_completion_tokens": 5}\n'
    assert fix_json_text(once, [RENAME, {"op": "remove", "path": "/top_p"}]).text is None


@pytest.mark.parametrize("seed", range(25))
def test_random_bodies_and_layouts(seed: int) -> None:
    rnd = random.Random(seed)
    keys = [f"k{i}" for i in range(rnd.randrange(2, 7))]
    doc: dict[str, Any] = {k: rnd.choice([1, "s", [1, {"x": [2]}], {"y": None}, True])
                           for k in keys}
    victim = rnd.choice(keys)
    fixes: list[dict[str, Any]] = [{"op": "remove", "path": f"/{victim}"}]
    other = [k for k in keys if k != victim]
    if other:
        old = rnd.choice(other)
        fixes.append({"op": "move", "from": f"/{old}", "path": f"/{old}_new"})
    expected = {(k + "_new" if len(fixes) > 1 and k == fixes[1]["from"][1:] else k): v
                for k, v in doc.items() if k != victim}
    for layout in (json.dumps(doc), json.dumps(doc, indent=2) + "\n",
                   json.dumps(doc, indent="\t", separators=(",", " : "))):
        out = fixed(layout, *fixes)
        assert list(json.loads(out).items()) == list(expected.items())
        if layout.endswith("\n"):
            assert out.endswith("}\n")


def test_yaml_rename_remove_replace_keep_comments() -> None:
    text = ("# a request\nmodel: o3-mini   # reasoning\nmessages:\n  - role: user\n"
            "    content: hi\ntemperature: 0.5  # old habit\n\n# next\nmax_tokens: 10\n")
    out = fix_yaml_text(text, [{"op": "remove", "path": "/temperature"},
                               {"op": "move", "from": "/max_tokens",
                                "path": "/max_completion_tokens"}])
    assert out.text == ("# a request\nmodel: o3-mini   # reasoning\nmessages:\n  - role: user\n"
                        "    content: hi\n\n# next\nmax_completion_tokens: 10\n")
    assert out.applied == 2
    val = fix_yaml_text("model: m\nquality: hd  # old\n",
                        [{"op": "replace", "path": "/quality", "value": "high"}])
    assert val.text == 'model: m\nquality: "high"  # old\n'


def test_yaml_remove_takes_the_whole_block_value() -> None:
    text = "model: m\nextra:\n  nested: 1\n  list:\n  - a\n  - b\nlast: 2\n"
    out = fix_yaml_text(text, [{"op": "remove", "path": "/extra"}])
    assert out.text == "model: m\nlast: 2\n"
    seq = "model: m\nstop:\n- a\n- b\nlast: 2\n"  # a sequence at the key's own indentation
    assert fix_yaml_text(seq, [{"op": "remove", "path": "/stop"}]).text == "model: m\nlast: 2\n"


def test_yaml_flow_style_is_left_alone_and_said_so() -> None:
    text = "{model: m, top_p: 1}\n"
    out = fix_yaml_text(text, [{"op": "remove", "path": "/top_p"}])
    assert out.text is None
    assert out.problem == "1 of 1 fixes could not be made in place; make them by hand"


def test_unified_diff() -> None:
    diff = unified_diff('{\n  "a": 1\n}\n', '{\n  "b": 1\n}\n', "x/f.json")
    assert diff.startswith("--- a/x/f.json\n+++ b/x/f.json\n@@ -1,3 +1,3 @@\n")
    assert '-  "a": 1\n+  "b": 1\n' in diff
    assert "\\ No newline at end of file" in unified_diff("a", "b", "f")


def test_atomic_binary_keeps_mode_and_refuses_symlinks(tmp_path: Path) -> None:
    target = tmp_path / "f.jsonl"
    target.write_bytes(b"old\n")
    os.chmod(target, 0o600)
    with atomic_binary(str(target)) as fh:
        fh.write(b"new\n")
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    with pytest.raises(OSError, match="symbolic link"), atomic_binary(str(link)) as fh:
        fh.write(b"x")
    assert target.read_bytes() == b"new\n"
    with pytest.raises(RuntimeError), atomic_binary(str(target)) as fh:
        fh.write(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.jsonl", "link.jsonl"]
