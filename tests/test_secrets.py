"""Credentials in request files: found (AML005) and never printed, in any format."""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson
import pytest

from aimlcat._cli import run
from aimlcat._payloads import parse_payload
from aimlcat._secrets import find_secrets, redact, redact_known

KEY = "sk-proj-Zq8mN2vL5xR7tY1wB4cD6fH9"
TOKEN = "Bearer eyJhbGciOiJIUzI1NiJ9xyzxyzxyz"


@pytest.mark.parametrize(("doc", "pointers"), [
    ({"model": "gpt-4o", "api_key": KEY}, ["/api_key"]),
    ({"model": "gpt-4o", "apiKey": "anything-at-all"}, ["/apiKey"]),
    ({"model": "gpt-4o", "API_KEY": "anything-at-all"}, ["/API_KEY"]),
    ({"model": "gpt-4o", "custom_token": KEY}, ["/custom_token"]),  # by its shape
    ({"endpoint": "/v1/chat/completions", "headers": {"Authorization": TOKEN},
      "body": {"model": "gpt-4o"}}, ["/headers/Authorization"]),
    ({"url": "/v1/chat/completions", "body": {"model": "gpt-4o", "x-api-key": "k"}},
     ["/body/x-api-key"]),
    # Named in the headers with nothing key-shaped anywhere; a key pasted as a field name.
    ({"endpoint": "/v1/chat/completions", "headers": {"X-Api-Key": "plain"},
      "body": {"model": "gpt-4o"}}, ["/headers/X-Api-Key"]),
    ({"url": "/v1/chat/completions", "body": {"model": "gpt-4o", KEY: 1}},
     ["/body/sk-pro…[redacted]"]),
    # Nested text is not searched (too costly per file), but never printed: see below.
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": f"use {KEY}"}]}, []),
    ({"model": "gpt-4o", "api_key": ""}, []),  # an empty placeholder holds nothing
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": "ask about sk-lines"}]}, []),
])
def test_found(doc: dict[str, object], pointers: list[str]) -> None:
    got = [f.pointer for f in find_secrets(doc)]
    assert got == pointers
    # The file path passes the compact JSON along to skip the look at values;
    # the answer is the same.
    assert [f.pointer for f in find_secrets(doc, orjson.dumps(doc))] == pointers
    assert [f.pointer for f in parse_payload(json.dumps(doc, indent=2).encode(), "t.json")
            .file_findings] == pointers
    assert all(f.code == "AML005" and f.severity == "warning" for f in find_secrets(doc))


def test_redact() -> None:
    assert KEY not in redact(f"model `{KEY}` is unknown")
    assert "eyJhbGciOiJIUzI1NiJ9" not in redact(TOKEN)
    assert redact("no secrets here") == "no secrets here"


def test_redact_known_masks_every_form_of_a_key() -> None:
    key = 'k3y/with~"odd\\chars-é'
    texts = [f"Illegal header value {('Bearer ' + key + chr(10)).encode()!r}",
             f"repr {key!r}", json.dumps({"v": key}), json.dumps({"v": key}, ensure_ascii=False),
             "/" + key.replace("~", "~0").replace("/", "~1"), f"cut {json.dumps(key)[:9]}…"]
    for text in texts:
        masked = redact_known(text, [key])
        assert "[redacted]" in masked and "k3y" not in masked, (text, masked)
    # A short start before the cut mark is no key; other text is left alone.
    assert redact_known("k3y… and more", [key]) == "k3y… and more"
    assert redact_known("nothing here", [key]) == "nothing here"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit"])
def test_never_printed(tmp_path: Path, fmt: str) -> None:
    f = tmp_path / "leaky.json"
    f.write_text(json.dumps({
        "endpoint": "/v1/chat/completions", "headers": {"Authorization": TOKEN},
        "body": {"model": KEY, "api_key": KEY, "temperature": KEY,
                 "messages": [{"role": "user", "content": KEY}, {"role": KEY}]}}))
    # a key pasted as a field name: its pointer, and a fix's path, are masked too
    named = tmp_path / "named.json"
    named.write_text(json.dumps({"model": "gpt-4o", "max_tokens": 5, KEY: 1,
                                 "messages": [{"role": "user", "content": "hi", KEY: 2}]}))
    out = io.StringIO()
    run(["lint", "--format", fmt, str(f), str(named)], out=out)
    text = out.getvalue()
    assert "AML005" in text and "AML301" in text
    assert KEY not in text and KEY[8:] not in text
    assert "eyJhbGciOiJIUzI1NiJ9" not in text


def test_yaml_and_jsonl_too(tmp_path: Path) -> None:
    y = tmp_path / "r.yaml"
    y.write_text(f"model: gpt-4o\nmessages: []\napi_key: {KEY}\n")
    jl = tmp_path / "log.jsonl"
    jl.write_text(json.dumps({"model": "gpt-4o", "messages": [], "api_key": KEY}) + "\n")
    out = io.StringIO()
    run(["lint", "--format", "json", str(y), str(jl)], out=out)
    report = json.loads(out.getvalue())
    assert [[x["code"] for x in e["findings"]] for e in report["files"]] == [
        ["AML005", "AML301"], ["AML005", "AML301"]]
    assert KEY not in out.getvalue()
