"""Pre-flight in HTTP clients: the transport, the helpers, the real SDKs, the base URL check.

Requests go to a real HTTP server that this module starts on 127.0.0.1 (a
session fixture). It answers like the gateway would (a chat completion, an SSE
stream, an Anthropic message) and records exactly what arrives, so each test
can say what reached the wire: invalid requests nothing, valid ones the very
bytes the client built, fixed ones the fixed body. The OpenAI and Anthropic SDKs
are the real packages. A few tests wrap ``httpx.MockTransport`` instead of the
network to show the default gateway host (api.aimlapi.com) is checked without
sending anything anywhere.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

import aimlcat
from aimlcat import PreflightError, check_base_url

SECRET = "sk-aiml-test-7f3a9c1e5b2d4086"  # the API key every test sends; must never be shown
MESSAGES = [{"role": "user", "content": "Say hi"}]
CLAUDE = "anthropic/claude-sonnet-5"


# -- the recording server ------------------------------------------------------------------------

@dataclass
class Arrived:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    host: str
    port: int
    arrived: list[Arrived] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def v1(self) -> str:
        return self.root + "/v1"


def _chat_completion(model: str) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000,
            "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": "Hi!"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _message(model: str) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "Hi!"}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 2}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: Server  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _record(self) -> Arrived:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        got = Arrived(self.command, self.path, list(self.headers.items()), body)
        with self.server_state.lock:
            self.server_state.arrived.append(got)
        return got

    def _send(self, doc: Any, status: int = 200) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._record()
        self._send({"object": "list", "data": []})

    def do_POST(self) -> None:
        got = self._record()
        path = self.path.split("?", 1)[0]
        body: Any = None
        if (got.header("Content-Type") or "").startswith("application/json"):
            try:
                body = got.json()
            except ValueError:
                body = None
        model = body.get("model", "?") if isinstance(body, dict) else "?"
        if path.endswith("/chat/completions"):
            if isinstance(body, dict) and body.get("stream"):
                self._stream(model)
            else:
                self._send(_chat_completion(model))
        elif path.endswith("/messages"):
            self._send(_message(model))
        elif path.endswith("/embeddings"):
            self._send({"object": "list", "model": model, "data": [
                {"object": "embedding", "index": 0, "embedding": [0.25, -0.5]}],
                "usage": {"prompt_tokens": 1, "total_tokens": 1}})
        else:
            self._send({"ok": True})

    def _stream(self, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for delta, finish in (({"role": "assistant", "content": "Hi"}, None),
                              ({"content": " there"}, None), ({}, "stop")):
            self.wfile.write(b"data: " + json.dumps(_chunk(model, delta, finish)).encode()
                             + b"\n\n")
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.close_connection = True


@pytest.fixture(scope="session")
def _loopback() -> Iterator[Server]:
    state = Server("127.0.0.1", 0)
    handler = type("Handler", (_Handler,), {"server_state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, name="loopback-gateway", daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server(_loopback: Server) -> Server:
    """The loopback gateway, with nothing recorded yet."""
    with _loopback.lock:
        _loopback.arrived.clear()
    return _loopback


def _headers(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json", **extra}


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
        assert SECRET[:12] not in text


# -- the transport with plain httpx -----------------------------------------------------------------

def test_valid_request_arrives_byte_for_byte_with_its_headers(server: Server) -> None:
    # Odd spacing and key order on purpose: a valid body is never re-serialised.
    raw = (b'{ "messages" : [{"role":"user","content":"Say hi"}],\n'
           b'  "model":"gpt-4o", "max_completion_tokens": 10 }')
    with aimlcat.client(base_url=server.v1) as http:
        r = http.post(server.v1 + "/chat/completions", content=raw,
                      headers=_headers(**{"X-Trace": "abc-123"}))
    assert r.status_code == 200
    [got] = server.arrived
    assert got.body == raw
    assert got.header("Content-Length") == str(len(raw))
    assert got.header("X-Trace") == "abc-123"
    assert got.header("Authorization") == f"Bearer {SECRET}"


def test_raise_stops_an_invalid_request_before_any_byte_is_sent(server: Server) -> None:
    body = {"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 10, "temperatur": 0.2}
    with aimlcat.client(base_url=server.v1) as http, pytest.raises(PreflightError) as caught:
        http.post(server.v1 + "/chat/completions", json=body, headers=_headers())
    assert server.arrived == []
    exc = caught.value
    assert [(f.code, f.pointer) for f in exc.report.findings] == [
        ("AML302", "/max_tokens"), ("AML301", "/temperatur")]
    text = str(exc)
    assert "max_completion_tokens" in text and "temperatur" in text and "temperature" in text
    assert exc.url == server.v1 + "/chat/completions"
    _no_secret(text, repr(exc))


def test_the_gateway_host_is_checked_by_default_with_or_without_v1() -> None:
    sent: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    bad = {"model": "gpt-4o", "messages": MESSAGES, "temperatur": 0.2}
    good = json.dumps({"model": "gpt-4o", "messages": MESSAGES}).encode()
    with aimlcat.client(transport=httpx.MockTransport(gateway)) as http:
        for url in ("https://api.aimlapi.com/v1/chat/completions",
                    "https://api.aimlapi.com/chat/completions"):
            with pytest.raises(PreflightError):
                http.post(url, json=bad)
            http.post(url, content=good, headers={"Content-Type": "application/json"})
        with pytest.raises(PreflightError) as caught:
            http.post("https://api.aimlapi.com/v2/video/generations",
                      json={"model": "google/veo3", "prompt": "a cat", "cfg_scale": 3})
    assert [r.content for r in sent] == [good, good]
    assert caught.value.report.endpoint == "/v2/video/generations"


def test_warn_logs_every_finding_and_sends_the_body_unchanged(
        server: Server, caplog: pytest.LogCaptureFixture) -> None:
    raw = json.dumps({"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 10,
                      "temperatur": 0.2}).encode()
    with caplog.at_level(logging.WARNING, logger="aimlcat"), \
            aimlcat.client("warn", base_url=server.v1) as http:
        assert http.post(server.v1 + "/chat/completions", content=raw,
                         headers=_headers()).status_code == 200
    [got] = server.arrived
    assert got.body == raw
    logged = [r for r in caplog.records if r.name == "aimlcat"]
    assert [r.levelno for r in logged] == [logging.WARNING, logging.WARNING]
    assert "AML302" in logged[0].getMessage() and "/max_tokens" in logged[0].getMessage()
    assert "AML301" in logged[1].getMessage() and "/temperatur" in logged[1].getMessage()
    _no_secret(caplog.text)


def test_fix_sends_the_fixed_body_with_a_right_content_length(
        server: Server, caplog: pytest.LogCaptureFixture) -> None:
    body = {"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 10, "temperature": 0.2}
    with caplog.at_level(logging.WARNING, logger="aimlcat"), \
            aimlcat.client("fix", base_url=server.v1) as http:
        http.post(server.v1 + "/chat/completions", json=body,
                  headers=_headers(**{"X-Trace": "t-9"}))
    [got] = server.arrived
    assert got.json() == {"model": "gpt-4o", "messages": MESSAGES,
                          "max_completion_tokens": 10, "temperature": 0.2}
    assert list(got.json()) == ["model", "messages", "max_completion_tokens", "temperature"]
    assert got.header("Content-Length") == str(len(got.body))
    assert got.header("Content-Type") == "application/json"
    assert got.header("X-Trace") == "t-9"
    assert got.header("Authorization") == f"Bearer {SECRET}"
    assert "fixed before sending (moved /max_tokens to /max_completion_tokens)" in caplog.text
    _no_secret(caplog.text)


def test_fix_edits_only_what_it_fixes_and_the_rest_arrives_byte_for_byte(
        server: Server) -> None:
    # A 30-digit seed and a float with all its digits: a parse and a dump would change
    # the first (orjson reads it as 1.2345678901234568e+29); spacing shows the edit is
    # made in the text.
    raw = (b'{"model": "gpt-4o",  "messages": [{"role":"user","content":"Say hi"}],\n'
           b' "seed": 123456789012345678901234567890, "max_tokens": 10,'
           b' "temperature": 0.30000000000000004}')
    removed = (b'{"model":"o3-mini","temperature":0.5,"seed":123456789012345678901234567890,'
               b'"messages":[{"role":"user","content":"Say hi"}]}')
    with aimlcat.client("fix", base_url=server.v1) as http:
        for body in (raw, removed):
            http.post(server.v1 + "/chat/completions", content=body, headers=_headers())
    first, second = server.arrived
    assert first.body == raw.replace(b'"max_tokens"', b'"max_completion_tokens"')
    assert second.body == removed.replace(b'"temperature":0.5,', b"")
    assert json.loads(first.body)["seed"] == 123456789012345678901234567890


def test_the_response_carries_the_request_that_was_sent(server: Server, openai: Any) -> None:
    body = {"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 10}
    fixed = {"model": "gpt-4o", "messages": MESSAGES, "max_completion_tokens": 10}
    libs = ["httpx"] + (["httpx2"] if _has("httpx2") else [])
    for lib in libs:
        with aimlcat.client("fix", base_url=server.v1, lib=lib) as http:  # type: ignore[call-overload]
            r = http.post(server.v1 + "/chat/completions", json=body, headers=_headers())
        assert r.request.content == server.arrived[-1].body
        assert json.loads(r.request.content) == fixed
        assert r.request.headers["Content-Length"] == str(len(server.arrived[-1].body))

    async def run() -> Any:
        async with aimlcat.async_client("fix", base_url=server.v1) as http:
            return await http.post(server.v1 + "/chat/completions", json=body,
                                   headers=_headers())

    assert asyncio.run(run()).request.content == server.arrived[-1].body
    with _openai(server, "fix") as sdk:
        raw = sdk.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES,
                                                            max_tokens=10)
    assert raw.http_request.content == server.arrived[-1].body
    assert json.loads(raw.http_request.content)["max_completion_tokens"] == 10


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_fix_still_raises_when_errors_remain_after_fixing(server: Server) -> None:
    body = {"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 10, "temperatur": 0.2}
    with aimlcat.client("fix", base_url=server.v1) as http, pytest.raises(PreflightError) as c:
        http.post(server.v1 + "/chat/completions", json=body, headers=_headers())
    assert server.arrived == []
    assert {f.code for f in c.value.report.findings} == {"AML302", "AML301"}


def test_fix_removes_a_removed_parameter_and_sends(server: Server) -> None:
    # o3-mini lost `temperature`: an error whose fix (remove it) is safe.
    body = {"model": "o3-mini", "messages": MESSAGES, "temperature": 0.5}
    report = aimlcat.validate(body, "/v1/chat/completions")
    assert [f.code for f in report.errors] == ["AML303"] and report.errors[0].fix is not None
    with aimlcat.client("fix", base_url=server.v1) as http:
        http.post(server.v1 + "/chat/completions", json=body, headers=_headers())
    [got] = server.arrived
    assert got.json() == {"model": "o3-mini", "messages": MESSAGES}


def test_warnings_alone_do_not_stop_a_request_in_raise_mode(
        server: Server, caplog: pytest.LogCaptureFixture) -> None:
    raw = json.dumps({"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 5}).encode()
    with caplog.at_level(logging.WARNING, logger="aimlcat"), \
            aimlcat.client(base_url=server.v1) as http:
        http.post(server.v1 + "/chat/completions", content=raw, headers=_headers())
    assert [a.body for a in server.arrived] == [raw]
    assert "AML302" in caplog.text


def test_what_is_not_a_json_post_to_a_known_endpoint_passes_through(server: Server) -> None:
    bad = json.dumps({"model": "gpt-4o", "temperatur": 1}).encode()
    with aimlcat.client(base_url=server.v1) as http:
        assert http.get(server.v1 + "/models", headers=_headers()).status_code == 200
        # a path the catalog does not know (a service endpoint)
        http.post(server.v1 + "/billing/report", content=bad, headers=_headers())
        # not JSON
        http.post(server.v1 + "/chat/completions", content=bad,
                  headers={"Content-Type": "text/plain"})
        # not one JSON document (JSON Lines)
        http.post(server.v1 + "/chat/completions", content=bad + b"\n" + bad,
                  headers={"Content-Type": "application/jsonl"})
        # a multipart upload
        http.post(server.root + "/v1/stt/create", data={"model": "openai/gpt-4o-transcribe"},
                  files={"file": ("a.wav", b"RIFF....WAVEfmt ", "audio/wav")})
        # another host: not the gateway
        http.post(f"http://localhost:{server.port}/v1/chat/completions", content=bad,
                  headers=_headers())
    paths = [(a.method, a.path) for a in server.arrived]
    assert paths == [("GET", "/v1/models"), ("POST", "/v1/billing/report"),
                     ("POST", "/v1/chat/completions"), ("POST", "/v1/chat/completions"),
                     ("POST", "/v1/stt/create"), ("POST", "/v1/chat/completions")]
    assert server.arrived[1].body == bad and server.arrived[2].body == bad
    assert server.arrived[3].body == bad + b"\n" + bad
    upload = server.arrived[4]
    assert (upload.header("Content-Type") or "").startswith("multipart/form-data")
    assert b"RIFF....WAVEfmt " in upload.body and upload.header("Content-Length") == str(
        len(upload.body))
    assert server.arrived[5].body == bad


def test_a_streamed_request_body_is_read_and_checked(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],'
        yield b' "temperatur": 1}'

    with aimlcat.client(base_url=server.v1) as http, pytest.raises(PreflightError):
        http.post(server.v1 + "/chat/completions", content=chunks(),
                  headers={"Content-Type": "application/json"})
    assert server.arrived == []


def test_duplicate_keys_and_broken_json_are_stopped(server: Server) -> None:
    dup = b'{"model": "gpt-4o", "messages": [], "temperature": 0.1, "temperature": 2}'
    with aimlcat.client(base_url=server.v1) as http:
        with pytest.raises(PreflightError) as c1:
            http.post(server.v1 + "/chat/completions", content=dup, headers=_headers())
        with pytest.raises(PreflightError) as c2:
            http.post(server.v1 + "/chat/completions", content=b'{"model": "gpt-4o",',
                      headers=_headers())
    assert server.arrived == []
    assert c1.value.report.findings[0].code == "AML002"
    assert c1.value.report.findings[0].pointer == "/temperature"
    assert [f.code for f in c2.value.report.findings] == ["AML001"]
    assert "not valid JSON" in str(c2.value)


def test_a_fragment_never_reaches_the_wire_and_the_request_is_checked(server: Server,
                                                                      openai: Any) -> None:
    """Why `endpoint_path` drops a fragment as it drops a query: httpx (and the OpenAI SDK,
    whose relative paths it joins) leaves it out of the request line, so the server
    sees the endpoint alone; the transport checks that endpoint."""
    url = server.v1 + "/chat/completions?trace=1#retry-2"
    good = {"model": "gpt-4o", "messages": MESSAGES}
    with aimlcat.client(base_url=server.v1) as http:
        with pytest.raises(PreflightError):
            http.post(url, json={**good, "temperatur": 0.2}, headers=_headers())
        http.post(url, json=good, headers=_headers())
    with _openai(server) as sdk:
        sdk.post("/chat/completions#retry-3", body=good, cast_to=object)
    assert [(a.path, a.json()) for a in server.arrived] == [
        ("/v1/chat/completions?trace=1", good), ("/v1/chat/completions", good)]
    assert aimlcat.validate(good, endpoint=url).findings == []  # and a log line of it


def test_an_infinity_is_refused_by_the_sdks_and_stopped_as_text(server: Server,
                                                                openai: Any) -> None:
    """What AML401's hint says of an infinity, on the wire: built in Python, the OpenAI
    and Anthropic SDKs raise ValueError before the transport sees a byte; written as
    1e400 in a body's text, it would go out, so the transport stops it with the finding
    `validate()` and `lint` give."""
    anthropic = _anthropic_module()
    inf = float("inf")
    with _openai(server) as sdk, pytest.raises(
            ValueError, match="Out of range float values are not JSON compliant"):
        sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=inf)
    with anthropic.Anthropic(base_url=server.root, api_key=SECRET, max_retries=0,
                             http_client=aimlcat.client(base_url=server.root, lib="httpx2")
                             ) as claude, pytest.raises(ValueError, match="Out of range"):
        claude.messages.create(model=CLAUDE, max_tokens=64, messages=MESSAGES,
                               extra_body={"temperature": inf})
    text = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], ' \
           b'"temperature": 1e400}'
    with aimlcat.client(base_url=server.v1) as http, pytest.raises(PreflightError) as caught:
        http.post(server.v1 + "/chat/completions", content=text, headers=_headers())
    assert server.arrived == []
    [finding] = caught.value.report.findings
    expected = aimlcat.validate(json.loads(text)).findings
    assert [(finding.code, finding.pointer, finding.message, finding.hint)] == [
        (f.code, f.pointer, f.message, f.hint) for f in expected]
    assert "such as 1e400, reads as inf" in finding.message


def test_a_doubled_v1_is_stopped_naming_the_url_the_gateway_serves(server: Server) -> None:
    body = {"model": "gpt-4o", "messages": MESSAGES}
    with aimlcat.client(base_url=server.v1) as http, pytest.raises(PreflightError) as caught:
        http.post(server.v1 + "/v1/chat/completions", json=body, headers=_headers())
    assert server.arrived == []
    [finding] = caught.value.report.findings
    assert finding.code == "AML204"
    assert f"the gateway serves {server.v1}/chat/completions" in finding.message


def test_a_doubled_v1_in_the_base_url_itself_is_stopped(server: Server, openai: Any) -> None:
    # docs/clients.md has the same base URL go to the SDK and to aimlcat.client().
    base = server.v1 + "/v1"
    sdk = openai.OpenAI(base_url=base, api_key=SECRET, max_retries=0,
                        http_client=aimlcat.client(base_url=base))
    with sdk:
        for extra in ({}, {"extra_body": {"temperatur": 0.2}}):
            with pytest.raises(PreflightError) as caught:
                sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, **extra)
            [finding] = caught.value.report.findings
            assert finding.code == "AML204"
            assert f"the gateway serves {server.v1}/chat/completions" in finding.message
    assert server.arrived == []


def test_a_v2_endpoint_under_v1_is_told_to_use_an_absolute_url(server: Server,
                                                               openai: Any) -> None:
    body = {"model": "google/veo3", "prompt": "a cat"}
    right = server.root + "/v2/video/generations"
    with _openai(server) as sdk:
        with pytest.raises(PreflightError) as caught:
            sdk.post("/v2/video/generations", body=body, cast_to=object)
        assert server.arrived == []
        [finding] = caught.value.report.findings
        assert finding.code == "AML204" and "doubles" not in finding.message
        assert finding.message.endswith(f"v2 endpoints are not under /v1; the gateway serves "
                                        f"{right}")
        assert finding.hint is not None and f'client.post("{right}"' in finding.hint
        sdk.post(right, body=body, cast_to=object)  # the advice works
    assert [(a.path, a.json()) for a in server.arrived] == [("/v2/video/generations", body)]


def test_no_secret_in_errors_logs_or_reports(server: Server,
                                             caplog: pytest.LogCaptureFixture) -> None:
    # The key even leaks into the body, where findings quote values: it is redacted.
    body = {"model": SECRET, "messages": MESSAGES}
    headers = _headers(**{"x-api-key": SECRET, "Cookie": f"session={SECRET}"})
    with caplog.at_level(logging.DEBUG, logger="aimlcat"):
        with aimlcat.client(base_url=server.v1) as http, pytest.raises(PreflightError) as c:
            http.post(server.v1 + "/chat/completions?key=" + SECRET, json=body,
                      headers=headers)
        with aimlcat.client("warn", base_url=server.v1) as http:
            http.post(server.v1 + "/chat/completions?key=" + SECRET, json=body,
                      headers=headers)
    exc = c.value
    assert "[redacted]" in str(exc)
    _no_secret(str(exc), repr(exc), json.dumps(exc.report.to_dict()), exc.url,
               caplog.text, str(pickle.loads(pickle.dumps(exc))))
    assert "[redacted]" in caplog.text
    assert len(server.arrived) == 1  # the warn-mode request was sent as it was


def test_a_key_quoted_cut_short_or_used_as_a_field_name_is_redacted(
        server: Server, caplog: pytest.LogCaptureFixture) -> None:
    # AI/ML API keys are 32 hex characters. A message quotes a long value cut to 60
    # characters, which kept 27 of them; a key used as a field name is the pointer.
    key = "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e"
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "gpt-4o", "messages": MESSAGES, "temperature": f"api key is {key}",
            key: True, "a/" + key: 1}
    with caplog.at_level(logging.DEBUG, logger="aimlcat"):
        with aimlcat.client(base_url=server.v1) as http, pytest.raises(PreflightError) as c:
            http.post(server.v1 + "/chat/completions", json=body, headers=headers)
        with aimlcat.client("warn", base_url=server.v1) as http:
            http.post(server.v1 + "/chat/completions", json=body, headers=headers)
    exc = c.value
    pointers = [f.pointer for f in exc.report.findings]
    assert sorted(pointers) == ["/[redacted]", "/a~1[redacted]", "/temperature"]
    assert '"api key is [redacted]…' in str(exc)
    for text in (str(exc), repr(exc), json.dumps(exc.report.to_dict()), caplog.text,
                 str(pickle.loads(pickle.dumps(exc)))):
        assert key[:4] not in text  # no start of the key, however short the quote
    assert caplog.text.count("[redacted]") >= 3
    assert len(server.arrived) == 1  # warn sent it, as it was
    assert server.arrived[0].json()[key] is True


def test_preflight_error_is_an_aimlcat_error_and_pickles() -> None:
    report = aimlcat.validate({"model": "gpt-4o", "messages": [], "temperatur": 1})
    exc = PreflightError(report, method="POST", url="https://api.aimlapi.com/v1/chat/completions")
    assert isinstance(exc, aimlcat.AimlcatError)
    again = pickle.loads(pickle.dumps(exc))
    assert str(again) == str(exc) and again.report == report


def test_an_unknown_policy_is_a_usage_error() -> None:
    with pytest.raises(aimlcat.UsageError, match="raise, warn, fix"):
        aimlcat.client("strict")  # type: ignore[call-overload]


def test_requests_to_another_provider_pass_with_one_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    sent: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(401, json={"error": "bad key"})

    body = {"model": "gpt-4o", "temperatur": 1}
    with caplog.at_level(logging.WARNING, logger="aimlcat"), \
            aimlcat.client(transport=httpx.MockTransport(provider)) as http:
        for _ in range(2):
            http.post("https://api.openai.com/v1/chat/completions", json=body)
    assert len(sent) == 2
    warned = [r.getMessage() for r in caplog.records if "api.openai.com" in r.getMessage()]
    assert len(warned) == 1
    assert "https://api.aimlapi.com/v1" in warned[0]


def test_async_client_raises_fixes_and_passes(server: Server) -> None:
    async def run() -> None:
        async with aimlcat.async_client(base_url=server.v1) as http:
            with pytest.raises(PreflightError):
                await http.post(server.v1 + "/chat/completions", headers=_headers(),
                                json={"model": "gpt-4o", "messages": MESSAGES, "temperatur": 1})
            raw = json.dumps({"model": "gpt-4o", "messages": MESSAGES}).encode()
            await http.post(server.v1 + "/chat/completions", content=raw, headers=_headers())
        async with aimlcat.async_client("fix", base_url=server.v1) as http:
            await http.post(server.v1 + "/chat/completions", headers=_headers(),
                            json={"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 3})

    asyncio.run(run())
    assert [a.json() for a in server.arrived] == [
        {"model": "gpt-4o", "messages": MESSAGES},
        {"model": "gpt-4o", "messages": MESSAGES, "max_completion_tokens": 3}]


# -- the real OpenAI SDK ---------------------------------------------------------------------------

@pytest.fixture
def openai() -> Any:
    """The real OpenAI SDK (the test extra installs it)."""
    return pytest.importorskip("openai")


def _openai(server: Server, policy: str = "raise", **kw: Any) -> Any:
    import openai

    return openai.OpenAI(base_url=server.v1, api_key=SECRET, max_retries=2,
                         http_client=aimlcat.client(policy, base_url=server.v1, **kw))


def test_openai_sdk_raise_mode_names_both_problems_and_sends_nothing(server: Server, openai: Any) -> None:
    with _openai(server) as sdk, pytest.raises(PreflightError) as caught:
        sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=10,
                                    extra_body={"temperatur": 0.2})
    assert server.arrived == []
    assert isinstance(caught.value, openai.OpenAIError)  # the SDK passes its own errors on
    text = str(caught.value)
    assert "`max_tokens` is deprecated" in text and "max_completion_tokens" in text
    assert "`temperatur` is not a parameter" in text and "temperature" in text
    _no_secret(text, repr(caught.value))


def test_openai_sdk_fix_mode_sends_max_completion_tokens(server: Server, openai: Any) -> None:
    with _openai(server, "fix") as sdk:
        reply = sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=10)
    assert reply.choices[0].message.content == "Hi!"
    [got] = server.arrived
    assert got.json()["max_completion_tokens"] == 10 and "max_tokens" not in got.json()
    assert got.header("Content-Length") == str(len(got.body))


def test_openai_sdk_valid_requests_arrive_as_the_sdk_built_them(server: Server, openai: Any) -> None:
    kwargs: dict[str, Any] = {"model": "gpt-4o", "messages": MESSAGES, "temperature": 0.3,
                              "max_completion_tokens": 20, "extra_body": {"top_p": 0.9}}
    with openai.OpenAI(base_url=server.v1, api_key=SECRET) as plain:
        plain.chat.completions.create(**kwargs)
    with _openai(server) as sdk:
        sdk.chat.completions.create(**kwargs)
    with _openai(server, lib="httpx2") as sdk:
        sdk.chat.completions.create(**kwargs)
    first, second, third = server.arrived
    assert first.body == second.body == third.body
    assert json.loads(first.body)["top_p"] == 0.9


def test_openai_sdk_tool_calling_round_trip_is_sent(server: Server, openai: Any) -> None:
    """Tool calling sends the model's earlier reply back as the SDK got it: an assistant
    message with `content: null` beside its tool calls. That request is valid and must
    arrive (the docs type the content string or array; the catalog takes null too)."""
    from openai.types.chat import ChatCompletionMessage

    reply = ChatCompletionMessage.model_validate({
        "role": "assistant", "content": None,
        "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "lookup", "arguments": "{}"}}]})
    messages = [*MESSAGES, reply, {"role": "tool", "tool_call_id": "call_1", "content": "42"}]
    with _openai(server) as sdk:
        sdk.chat.completions.create(model="gpt-4o", messages=messages)
    [got] = server.arrived
    assert got.json()["messages"][-2]["content"] is None


def test_openai_sdk_stream_is_checked_and_passes_through(server: Server, openai: Any) -> None:
    with _openai(server) as sdk:
        with pytest.raises(PreflightError):
            sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True,
                                        extra_body={"temperatur": 1})
        assert server.arrived == []
        with sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                         stream=True) as stream:
            text = "".join(c.choices[0].delta.content or "" for c in stream)
    assert text == "Hi there"
    [got] = server.arrived
    assert got.json()["stream"] is True


def test_async_openai_sdk(server: Server, openai: Any) -> None:
    async def run() -> None:
        async with openai.AsyncOpenAI(
                base_url=server.v1, api_key=SECRET,
                http_client=aimlcat.async_client(base_url=server.v1)) as sdk:
            with pytest.raises(PreflightError):
                await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                                  max_tokens=10, extra_body={"temperatur": 0.2})
        async with openai.AsyncOpenAI(
                base_url=server.v1, api_key=SECRET,
                http_client=aimlcat.async_client("fix", base_url=server.v1)) as fixing:
            await fixing.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                                 max_tokens=10)

    asyncio.run(run())
    [got] = server.arrived
    assert got.json()["max_completion_tokens"] == 10


def test_openai_sdk_embeddings_with_its_own_encoding_format(
        server: Server, openai: Any, caplog: pytest.LogCaptureFixture) -> None:
    # embeddings.create() adds "encoding_format": "base64" when the caller names none;
    # most embedding models do not take the key (text-embedding-004: not a parameter,
    # voyage-2: removed) and the gateway ignores it. The call must work in raise mode.
    with caplog.at_level(logging.INFO, logger="aimlcat"), _openai(server) as sdk:
        for model in ("text-embedding-004", "voyage-2"):
            reply = sdk.embeddings.create(model=model, input="hello")
            assert reply.data[0].embedding == [0.25, -0.5]
        # Asking for what such a model gives anyway: sent, with a warning.
        sdk.embeddings.create(model="text-embedding-004", input="hello",
                              encoding_format="float")
        # A model that takes the key: nothing to say.
        sdk.embeddings.create(model="text-embedding-3-small", input="hello")
    assert [a.json().get("encoding_format") for a in server.arrived] == [
        "base64", "base64", "float", "base64"]
    logged = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "aimlcat"]
    assert [level for level, _ in logged] == [logging.INFO, logging.INFO, logging.WARNING]
    assert all("/encoding_format" in m for _, m in logged)
    assert "the OpenAI SDK added `encoding_format: \"base64\"` on its own; the gateway " \
           "ignores `encoding_format` for text-embedding-004" in logged[0][1]
    assert "\"float\" is what text-embedding-004 gives anyway" in logged[2][1]


def test_warn_logs_an_error_beside_an_info_finding_where_info_is_off(
        server: Server, openai: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The SDK's own encoding_format is an info finding; a typo in the same request is an
    error that `warn` sends and must log, with the logger at its usual WARNING level."""
    with caplog.at_level(logging.WARNING, logger="aimlcat"), _openai(server, "warn") as sdk:
        sdk.embeddings.create(model="text-embedding-004", input="hello",
                              extra_body={"dimensionz": 8})
    [got] = server.arrived
    assert got.json()["dimensionz"] == 8
    logged = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "aimlcat"]
    assert [level for level, _ in logged] == [logging.WARNING]
    assert "/dimensionz: AML301 error" in logged[0][1]


def test_fix_mode_drops_the_sdks_encoding_format_and_other_clients_still_fail(
        server: Server, openai: Any) -> None:
    with _openai(server, "fix") as sdk:
        assert sdk.embeddings.create(model="voyage-2", input="hi").data[0].embedding == [
            0.25, -0.5]
        sdk.embeddings.create(model="text-embedding-004", input="hi", encoding_format="float")
    assert [a.json() for a in server.arrived] == [
        {"model": "voyage-2", "input": "hi"}, {"model": "text-embedding-004", "input": "hi"}]
    # Not the SDK: a body that asks a model for base64 it will not give is an error.
    body = {"model": "text-embedding-004", "input": "hi", "encoding_format": "base64"}
    with aimlcat.client(base_url=server.v1) as http, pytest.raises(PreflightError) as caught:
        http.post(server.v1 + "/embeddings", json=body, headers=_headers())
    assert [(f.code, f.severity) for f in caught.value.report.findings] == [("AML301", "error")]
    assert len(server.arrived) == 2


def test_async_openai_sdk_embeddings(server: Server, openai: Any) -> None:
    async def run() -> None:
        async with openai.AsyncOpenAI(
                base_url=server.v1, api_key=SECRET,
                http_client=aimlcat.async_client(base_url=server.v1)) as sdk:
            await sdk.embeddings.create(model="alibaba/qwen-text-embedding-v4", input="x")

    asyncio.run(run())
    assert server.arrived[0].json()["encoding_format"] == "base64"


# -- the real Anthropic SDK --------------------------------------------------------------------------

def _anthropic_module() -> Any:
    return pytest.importorskip("anthropic")


def test_anthropic_sdk_messages(server: Server) -> None:
    anthropic = _anthropic_module()
    # The Anthropic SDK 2.x takes httpx2 clients only: lib="httpx2".
    sdk = anthropic.Anthropic(base_url=server.root, api_key=SECRET,
                              http_client=aimlcat.client(base_url=server.root, lib="httpx2"))
    kwargs = {"model": CLAUDE, "max_tokens": 64, "messages": MESSAGES, "system": "Be brief."}
    with sdk, anthropic.Anthropic(base_url=server.root, api_key=SECRET) as plain:
        reply = sdk.messages.create(**kwargs)
        assert reply.content[0].text == "Hi!"
        plain.messages.create(**kwargs)
        checked, unchecked = server.arrived
        assert checked.path == "/v1/messages" and checked.body == unchecked.body
        assert SECRET in (checked.header("x-api-key") or checked.header("Authorization") or "")

        with pytest.raises(PreflightError) as caught:  # at once: not wrapped, not retried
            sdk.messages.create(**kwargs, extra_body={"temprature": 0.5})
    assert isinstance(caught.value, anthropic.AnthropicError)
    assert len(server.arrived) == 2
    _no_secret(str(caught.value), repr(caught.value))


def test_async_anthropic_sdk(server: Server) -> None:
    anthropic = _anthropic_module()

    async def run() -> None:
        async with anthropic.AsyncAnthropic(
                base_url=server.root, api_key=SECRET,
                http_client=aimlcat.async_client(base_url=server.root, lib="httpx2")) as sdk:
            await sdk.messages.create(model=CLAUDE, max_tokens=64, messages=MESSAGES)
            with pytest.raises(PreflightError):
                await sdk.messages.create(model="gpt-4o", max_tokens=64, messages=MESSAGES)

    asyncio.run(run())
    assert [a.json()["model"] for a in server.arrived] == [CLAUDE]


# -- the base URL check -----------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "sdk", "codes", "right"), [
    ("https://api.aimlapi.com/v1", "openai", [], None),
    ("https://api.aimlapi.com/v1/", None, [], None),
    ("https://api.aimlapi.com", "anthropic", [], None),
    ("http://127.0.0.1:8000/v1", "openai", [], None),
    ("https://api.openai.com/v1", "openai", ["other-provider"], "https://api.aimlapi.com/v1"),
    ("https://api.anthropic.com", "anthropic", ["other-provider"], "https://api.aimlapi.com"),
    ("https://api.anthropic.com", None, ["other-provider"], "https://api.aimlapi.com"),
    ("https://api.aimlapi.com/v1/v1", "openai", ["doubled-v1"], "https://api.aimlapi.com/v1"),
    ("api.aimlapi.com/v1", "openai", ["missing-scheme"], "https://api.aimlapi.com/v1"),
    ("http://api.aimlapi.com/v1", None, ["not-https"], "https://api.aimlapi.com/v1"),
    ("https://api.aimlapi.com/v1/chat/completions", "openai", ["endpoint-in-base"],
     "https://api.aimlapi.com/v1"),
    ("https://api.aimlapi.com/v1", "anthropic", ["sdk-adds-v1"], "https://api.aimlapi.com"),
    ("https://aimlapi.com/v1", "openai", ["host-typo"], "https://api.aimlapi.com/v1"),
    ("api.openai.com/v1", "openai", ["missing-scheme", "other-provider"],
     "https://api.aimlapi.com/v1"),
    ("localhost:8000/v1/v1", None, ["missing-scheme", "doubled-v1"], "http://localhost:8000/v1"),
    ("https://[::1]:8000/v1", "anthropic", ["sdk-adds-v1"], "https://[::1]:8000"),
    ("[::1]:8000/v1", "openai", ["missing-scheme"], "http://[::1]:8000/v1"),
    ("https://[::1/v1", None, ["not-a-url"], "https://api.aimlapi.com/v1"),
    ("http://127.0.0.1:99999/v1", None, ["not-a-url"], "https://api.aimlapi.com/v1"),
    # an endpoint or a service path pasted as the base: the SDK would append its own
    ("https://api.aimlapi.com/v1/chat/completions", None, ["endpoint-in-base"],
     "https://api.aimlapi.com/v1"),
    ("https://api.aimlapi.com/v1/models", "openai", ["endpoint-in-base"],
     "https://api.aimlapi.com/v1"),
    ("https://api.aimlapi.com/v1/models/", None, ["endpoint-in-base"],
     "https://api.aimlapi.com/v1"),
    ("https://api.aimlapi.com/models", "openai", ["endpoint-in-base"], "https://api.aimlapi.com"),
    ("https://api.aimlapi.com/v2/billing", "openai", ["endpoint-in-base"],
     "https://api.aimlapi.com"),
    ("https://api.aimlapi.com/v1/models", "anthropic", ["endpoint-in-base", "sdk-adds-v1"],
     "https://api.aimlapi.com"),
    ("http://127.0.0.1:8000/v1/models", "openai", ["endpoint-in-base"],
     "http://127.0.0.1:8000/v1"),
    # a version the SDK cannot use: the gateway's /v2 is video, music and account services
    ("https://api.aimlapi.com/v2", "openai", ["wrong-version"], "https://api.aimlapi.com/v1"),
    ("https://api.aimlapi.com/v2/", None, ["wrong-version"], "https://api.aimlapi.com/v1"),
    ("https://api.aimlapi.com/v2", "anthropic", ["wrong-version"], "https://api.aimlapi.com"),
    ("https://api.aimlapi.com/v3", "openai", ["wrong-version"], "https://api.aimlapi.com/v1"),
    ("https://api.aimlapi.com/v1beta", None, ["wrong-version"], "https://api.aimlapi.com/v1"),
    # a version after a version: the base is the gateway's /v1, not ".../v1/v1" (which the
    # doubled-v1 check would flag) nor ".../v2/v1"
    ("https://api.aimlapi.com/v1/v2", "openai", ["wrong-version"], "https://api.aimlapi.com/v1"),
    ("https://api.aimlapi.com/v2/v2", None, ["wrong-version"], "https://api.aimlapi.com/v1"),
    ("https://api.aimlapi.com/v1/v2", "anthropic", ["wrong-version"], "https://api.aimlapi.com"),
    ("api.aimlapi.com/v2", "openai", ["missing-scheme", "wrong-version"],
     "https://api.aimlapi.com/v1"),
    ("https://aimlapi.com/v2", "openai", ["host-typo", "wrong-version"],
     "https://api.aimlapi.com/v1"),
    # another host's path is its own business: a proxy's /models or /v2 may be its base
    ("https://proxy.internal/llm/models", "openai", [], None),
    ("http://127.0.0.1:8000/v2", "openai", [], None),
])
def test_check_base_url(url: str, sdk: Any, codes: list[str], right: str | None) -> None:
    problems = check_base_url(url, sdk=sdk)
    assert [p.code for p in problems] == codes
    for p in problems:
        assert p.suggestion == right
        assert p.message.endswith(f"use {right}")


@pytest.mark.parametrize("url", ["https://api.aimlapi.com", "https://api.aimlapi.com/",
                                 "https://api.aimlapi.com/v1", "https://api.aimlapi.com/v1/",
                                 "HTTPS://API.AIMLAPI.COM/v1"])
@pytest.mark.parametrize("sdk", [None, "openai", "anthropic"])
def test_the_gateways_own_bases_are_not_flagged(url: str, sdk: Any) -> None:
    """The other side of the endpoint and version checks: the bases the SDKs take. (Only
    the Anthropic SDK's own /v1 is wrong: it adds /v1/messages itself.)"""
    expected = ["sdk-adds-v1"] if sdk == "anthropic" and url.rstrip("/").endswith("/v1") else []
    assert [p.code for p in check_base_url(url, sdk=sdk)] == expected


@pytest.mark.parametrize(("url", "what"), [
    ("https://api.aimlapi.com/v1/models", "the model list"),
    ("https://api.aimlapi.com/v2/billing", "billing"),
    ("https://api.aimlapi.com/v1/keys/sk-abc", "API keys"),
    ("https://api.aimlapi.com/v1/stt/3f2a", "a transcription by its id"),
])
def test_a_service_path_in_the_base_says_what_it_serves(url: str, what: str) -> None:
    """Not one list (model list, keys, billing, usage) for every service path: a pasted
    transcription URL is none of those."""
    [problem] = check_base_url(url, sdk="openai")
    assert problem.code == "endpoint-in-base"
    assert f"the gateway's path for {what} rather than a base" in problem.message


def test_wrong_version_names_what_the_gateway_serves_under_v2() -> None:
    [problem] = check_base_url("https://api.aimlapi.com/v2", sdk="openai")
    assert problem.message.startswith(
        "the gateway's /v2 serves /v2/video/generations, /v2/generate/audio and account "
        "services (/v2/billing, /v2/logs, /v2/usage); the endpoints the OpenAI SDK calls "
        "(/chat/completions, /embeddings")
    [problem] = check_base_url("https://api.aimlapi.com/v2", sdk="anthropic")
    assert "it would call /v2/v1/messages, which the gateway does not serve" in problem.message
    [problem] = check_base_url("https://api.aimlapi.com/v7")
    assert problem.message.startswith("the gateway has no /v7 API;")


def test_a_service_path_with_a_key_in_it_is_named_by_its_pattern() -> None:
    # /v1/keys/{prefix} carries part of a key: the message names the pattern, not the key
    [problem] = check_base_url(f"https://api.aimlapi.com/v1/keys/{SECRET[:14]}", sdk="openai")
    assert problem.code == "endpoint-in-base" and "/keys/{prefix}" in problem.message
    _no_secret(problem.message, problem.suggestion)


@pytest.mark.parametrize(("tail", "right_tail"), [("/v1/models", "/v1"),
                                                   ("/v1/chat/completions", "/v1")])
def test_an_endpoint_as_the_base_is_what_the_sdk_then_calls(
        server: Server, openai: Any, tail: str, right_tail: str) -> None:
    """Why a base URL ending in an endpoint is flagged: the real OpenAI SDK appends its own
    path to it, and the request reaches a path nobody serves; the base the check names
    reaches the endpoint."""
    base = server.root + tail
    [problem] = check_base_url(base, sdk="openai")
    assert (problem.code, problem.suggestion) == ("endpoint-in-base", server.root + right_tail)
    for url in (base, problem.suggestion):
        with openai.OpenAI(base_url=url, api_key=SECRET, max_retries=0) as sdk:
            sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert [a.path for a in server.arrived] == [tail + "/chat/completions",
                                                "/v1/chat/completions"]


def test_a_v2_base_is_what_the_openai_sdk_cannot_use(server: Server, openai: Any) -> None:
    """The OpenAI SDK under a /v2 base calls /v2/chat/completions (the legacy path the chat
    models left) and /v2/embeddings (none); under the base the check names, /v1/..."""
    [problem] = check_base_url("https://api.aimlapi.com/v2", sdk="openai")
    assert problem.suggestion == "https://api.aimlapi.com/v1"
    for version in ("/v2", "/v1"):
        with openai.OpenAI(base_url=server.root + version, api_key=SECRET,
                           max_retries=0) as sdk:
            sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            sdk.embeddings.create(model="text-embedding-3-small", input="hi")
    paths = [a.path for a in server.arrived]
    assert paths == ["/v2/chat/completions", "/v2/embeddings",
                     "/v1/chat/completions", "/v1/embeddings"]
    cat = aimlcat.load_catalog()
    assert cat.canonical_endpoint("/v2/embeddings") is None
    assert "/v2/chat/completions" not in cat.endpoints(current=True)
    assert {cat.canonical_endpoint(p) for p in paths[2:]} <= set(cat.endpoints(current=True))


def test_check_base_url_never_repeats_credentials() -> None:
    [problem] = check_base_url(f"http://user:{SECRET}@api.aimlapi.com/v1?key={SECRET}")
    assert problem.code == "not-https"
    _no_secret(problem.message, problem.suggestion)


def test_a_client_with_a_wrong_base_url_warns_naming_the_right_one(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="aimlcat"):
        aimlcat.client(base_url="https://api.aimlapi.com/v1/v1").close()
    assert "use https://api.aimlapi.com/v1" in caplog.text


def test_a_base_url_without_scheme_is_checked_under_the_scheme_the_check_names(
        server: Server, openai: Any, caplog: pytest.LogCaptureFixture) -> None:
    bare = f"localhost:{server.port}/v1"
    with caplog.at_level(logging.WARNING, logger="aimlcat"):
        http_client = aimlcat.client(base_url=bare)
    assert f"no scheme (http://): use http://{bare}" in caplog.text
    sdk = openai.OpenAI(base_url=f"http://{bare}", api_key=SECRET, max_retries=0,
                        http_client=http_client)
    with sdk:
        with pytest.raises(PreflightError):
            sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                        extra_body={"temperatur": 0.2})
        assert server.arrived == []
        sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        # the client's own base URL got the same scheme
        http_client.post("/chat/completions", json={"model": "gpt-4o", "messages": MESSAGES})
    assert [a.path for a in server.arrived] == ["/v1/chat/completions"] * 2


def test_gateway_hosts_may_be_one_host(server: Server) -> None:
    with aimlcat.client(gateway_hosts=server.host) as http, pytest.raises(PreflightError):
        http.post(server.v1 + "/chat/completions", headers=_headers(),
                  json={"model": "gpt-4o", "messages": MESSAGES, "temperatur": 1})
    assert server.arrived == []


def test_a_base_url_that_is_no_url_is_a_usage_error() -> None:
    for bad in ("https://[::1/v1", "http://127.0.0.1:99999/v1"):
        with pytest.raises(aimlcat.UsageError, match=re.escape(
                f"base_url {bad!r} is not a URL (")) as exc:
            aimlcat.client(base_url=bad)
        assert "use one such as https://api.aimlapi.com/v1" in str(exc.value)


def test_transport_options_build_the_wrapped_transport(server: Server) -> None:
    with aimlcat.client(base_url=server.v1, http2=False, retries=1, timeout=5) as http:
        # base_url is the client's own base URL too
        r = http.post("/chat/completions", headers=_headers(),
                      json={"model": "gpt-4o", "messages": MESSAGES})
    assert r.status_code == 200 and len(server.arrived) == 1
    with pytest.raises(aimlcat.UsageError, match="set these on the transport"):
        aimlcat.client(transport=httpx.HTTPTransport(), verify=False)


def test_httpx2_clients_fix_too(server: Server) -> None:
    pytest.importorskip("httpx2")
    with aimlcat.client("fix", base_url=server.v1, lib="httpx2") as http:
        http.post(server.v1 + "/chat/completions", headers=_headers(),
                  json={"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 7})
        with pytest.raises(PreflightError):
            http.post(server.v1 + "/chat/completions", headers=_headers(),
                      json={"model": "gpt-4o", "messages": MESSAGES, "temperatur": 1})
    [got] = server.arrived
    assert got.json() == {"model": "gpt-4o", "messages": MESSAGES, "max_completion_tokens": 7}
    assert got.header("Content-Length") == str(len(got.body))


# -- typing: what a user's code sees under mypy --strict ---------------------------------------

_TYPED_USER = '''\
from typing import assert_type

import httpx
import httpx2
from anthropic import Anthropic, AsyncAnthropic
from openai import AsyncOpenAI, OpenAI

import aimlcat

KEY = "sk-test"
assert_type(aimlcat.client(), httpx.Client)
assert_type(aimlcat.async_client("warn"), httpx.AsyncClient)
sync_client = aimlcat.client("fix", "http://127.0.0.1:8000/v1", lib="httpx2")
async_client = aimlcat.async_client(lib="httpx2")
assert_type(sync_client, httpx2.Client)
assert_type(async_client, httpx2.AsyncClient)
# As README.md and docs/clients.md show them:
OpenAI(base_url="https://api.aimlapi.com/v1", api_key=KEY, http_client=sync_client)
AsyncOpenAI(base_url="https://api.aimlapi.com/v1", api_key=KEY, http_client=async_client)
Anthropic(base_url="https://api.aimlapi.com", api_key=KEY,
          http_client=aimlcat.client(lib="httpx2"))
AsyncAnthropic(base_url="https://api.aimlapi.com", api_key=KEY,
               http_client=aimlcat.async_client(lib="httpx2"))
'''


@pytest.mark.slow
def test_the_sdk_clients_type_check_as_documented(tmp_path: Any) -> None:
    """The OpenAI SDK 3.x and the Anthropic SDK 2.x declare ``http_client: httpx2.Client``:
    ``client(lib="httpx2")`` must be typed as one (it was ``Any``), and the documented
    calls must pass ``mypy --strict`` in a user's code."""
    pytest.importorskip("mypy")
    for name in ("openai", "anthropic", "httpx2"):
        pytest.importorskip(name)
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(tmp_path) / "user_code.py"
    # mypy finds aimlcat where this interpreter does (sys.path, PYTHONPATH included), as
    # an installed package: the one under test, checked as a user's code sees it.
    env = dict(os.environ)
    script.write_text(_TYPED_USER, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--cache-dir", str(Path(tmp_path) / ".mypy_cache"), "--config-file", "/dev/null",
         str(script)],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"base_url": httpx.URL("http://127.0.0.1:8000/v1")}, r"base_url takes a string .* not URL"),
    ({"base_url": 8000}, r"base_url takes a string .* not int"),
    ({"base_url": ["http://127.0.0.1:8000/v1", None]}, r"base_url .* not NoneType"),
    ({"gateway_hosts": None}, r"gateway_hosts takes a string .* not NoneType"),
    ({"gateway_hosts": ["api.aimlapi.com", 443]}, r"gateway_hosts .* not int"),
    ({"base_url": b"http://127.0.0.1:8000/v1"}, r"base_url takes a string .* not bytes"),
    ({"gateway_hosts": b"api.aimlapi.com"}, r"gateway_hosts takes a string .* not bytes"),
])
def test_a_base_url_or_host_that_is_no_string_is_a_usage_error(kwargs: dict[str, Any],
                                                               message: str) -> None:
    """Not "TypeError: 'URL' object is not iterable" from deep inside the transport."""
    for make in (aimlcat.client, aimlcat.async_client, aimlcat.PreflightTransport):
        with pytest.raises(aimlcat.UsageError, match=message):
            make(**kwargs)
    with pytest.raises(TypeError, match="check_base_url takes the base URL as a str"):
        check_base_url(httpx.URL("https://api.aimlapi.com/v1"))  # type: ignore[arg-type]


@pytest.mark.parametrize("host", [f"127.0.0.1:{8000}", "https://api.aimlapi.com",
                                  "api.aimlapi.com/v1", "user:sk-aiml-secret@api.aimlapi.com", "",
                                  "[::1]:8443"])
def test_a_gateway_host_with_a_port_or_scheme_is_a_usage_error(server: Server, host: str) -> None:
    """A request's host never carries a port or a scheme, so such an entry matched nothing
    and every request went out unchecked. The value is not repeated (it may hold a key)."""
    with pytest.raises(aimlcat.UsageError, match="gateway_hosts takes host names") as caught:
        aimlcat.client(gateway_hosts=host)
    assert "secret" not in str(caught.value)


def test_gateway_hosts_take_ipv6_and_any_case(server: Server) -> None:
    for host in ("[::1]", "::1", "API.AIMLAPI.COM"):
        aimlcat.client(gateway_hosts=host).close()
    with aimlcat.client(gateway_hosts=["Elsewhere.example", "127.0.0.1"]) as http, \
            pytest.raises(PreflightError):
        http.post(server.v1 + "/chat/completions", headers=_headers(),
                  json={"model": "gpt-4o", "messages": MESSAGES, "temperatur": 1})
    assert server.arrived == []
