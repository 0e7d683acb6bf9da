"""``aimlcat sync`` against a real HTTP server on 127.0.0.1 that this module starts.

The server answers ``GET <scenario>/v1/models``: the fixture list
(tests/fixtures/sync/models.json, with planted differences from the catalog),
and the failure modes: no answer in time, 500 once then the list, 429 with
Retry-After then the list, 500 forever, a page that is not JSON, JSON that is
not the list, an empty list, an API key required. An unreachable port is a
port that was just closed. Backoff is shortened for the tests; nothing else
of aimlcat is changed.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import aimlcat
from aimlcat import _sync
from aimlcat._cli import run as cli_run
from aimlcat._sync import LiveModel, SyncError, cli_main, compare, models_url, parse_models

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sync" / "models.json"
KEY = "aiml-sync-key-51c0ffee9d2b7a44"


@dataclass
class ModelsServer:
    port: int = 0
    hits: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Authorization)
    queries: list[str] = field(default_factory=list)  # the query string of each request
    lock: threading.Lock = field(default_factory=threading.Lock)

    def base(self, scenario: str) -> str:
        return f"http://127.0.0.1:{self.port}/{scenario}"

    def count(self, scenario: str) -> int:
        with self.lock:
            return sum(1 for p, _ in self.hits if p.startswith(f"/{scenario}/"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: ModelsServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            self.close_connection = True

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        with self.state.lock:
            self.state.hits.append((path, self.headers.get("Authorization")))
            self.state.queries.append(query)
            seen = sum(1 for p, _ in self.state.hits if p == path)
        scenario = path.strip("/").split("/", 1)[0]
        kind = scenario.split("-", 1)[0]
        if not path.endswith("/v1/models"):
            self._send(404, b'{"error": "not found"}')
        elif kind == "ok":
            self._send(200, FIXTURE.read_bytes())
        elif kind == "slow":
            time.sleep(1.0)
            self._send(200, FIXTURE.read_bytes())
        elif kind == "flaky":  # 500 once, then the list
            if seen == 1:
                self._send(500, b'{"error": "internal"}')
            else:
                self._send(200, FIXTURE.read_bytes())
        elif kind == "busy":  # 429 asking for a short wait, then the list
            if seen == 1:
                self._send(429, b'{"error": "slow down"}', headers={"Retry-After": "0"})
            else:
                self._send(200, FIXTURE.read_bytes())
        elif kind == "down":
            self._send(503, b'{"error": "unavailable"}')
        elif kind == "trickle":  # the headers at once, then one byte every 50 ms, for ages
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(100_000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up: the point
                self.close_connection = True
        elif kind == "evil":  # ids that would drive a terminal
            self._send(200, json.dumps({"object": "list", "data": [
                {"id": "evil/\u202egpt", "aliases": ["a\nFAKE LINE"], "type": "x\x1b[31m"},
                {"id": "gpt-4o"}]}).encode())
        elif kind == "moved":  # to a port where nothing listens
            self._send(302, b"", headers={"Location": self.headers["X-Dead-Target"]})
        elif kind == "html":
            self._send(200, b"<html><body>Welcome</body></html>", "text/html; charset=utf-8")
        elif kind == "other":
            self._send(200, b'{"models": ["gpt-4o"]}')
        elif kind == "empty":
            self._send(200, b'{"object": "list", "data": []}')
        elif kind == "auth":
            if self.headers.get("Authorization") == f"Bearer {KEY}":
                self._send(200, FIXTURE.read_bytes())
            else:
                self._send(401, b'{"error": "missing or invalid key"}')
        else:
            self._send(404, b'{"error": "no such scenario"}')


@pytest.fixture(scope="module")
def models_server() -> Iterator[ModelsServer]:
    state = ModelsServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Handler,), {"state": state}))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, name="models-server", daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sync, "BACKOFF", 0.01)
    monkeypatch.delenv("AIMLAPI_KEY", raising=False)


_runs = iter(range(1_000_000))


def _fresh(kind: str) -> str:
    """A scenario name of its own, so per-path counters start at zero."""
    return f"{kind}-{next(_runs)}"


def _sync_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli_main(list(argv), out)
    return code, out.getvalue()


# -- the differences -----------------------------------------------------------------------------

def _planted(doc: dict[str, Any]) -> None:
    missing = [m["id"] for m in doc["missing"]]
    assert missing == ["openai/gpt-5"]
    assert doc["missing"][0]["aliases"] == ["gpt-5"]
    not_served = {m["id"]: m["status"] for m in doc["not_served"]}
    assert not_served.get("o3-mini") == "active"
    served = {n for m in json.loads(FIXTURE.read_text())["data"] for n in [m["id"], *m["aliases"]]}
    cat = aimlcat.load_catalog()
    for mid in not_served:  # every one is in the catalog and absent from the list
        info = cat.model(mid)
        assert info.status != "removed" and not {mid, *info.aliases} & served
    assert "dall-e-3" not in not_served  # removed in the catalog and gone: no difference
    assert [m["id"] for m in doc["removed_but_served"]] == [
        "meta-llama/Llama-Guard-3-11B-Vision-Turbo"]
    abilities = {(m["id"], m["what"]): (m["gateway_only"], m["catalog_only"])
                 for m in doc["abilities"]}
    assert abilities == {("google/veo3", "input"): (["image"], []),
                         ("google/veo3", "capabilities"): (["image_to_video"], []),
                         ("gpt-4o", "input"): ([], ["file"]),
                         ("gpt-4o", "capabilities"): ([], ["structured_output"])}
    aliases = {m["id"]: m for m in doc["aliases"]}
    assert {"gpt-4o", "anthropic/claude-sonnet-5"} <= set(aliases)
    # Other models differ only by spellings the docs give and this fixture lacks
    # (openai/gpt-image-1's `gpt-image-1`).
    assert all(not m["gateway_only"] for k, m in aliases.items()
               if k not in ("gpt-4o", "anthropic/claude-sonnet-5"))
    assert aliases["gpt-4o"]["gateway_only"] == ["gpt-4o-gateway-alias"]
    assert aliases["gpt-4o"]["catalog_only"] == []
    assert aliases["anthropic/claude-sonnet-5"]["gateway_only"] == ["claude-sonnet-5"]
    limits = {(m["id"], m["limit"]): (m["gateway"], m["catalog"]) for m in doc["limits"]}
    assert limits == {("anthropic/claude-sonnet-5", "context_window"): (200_000, 1_000_000),
                      ("text-embedding-3-small", "context_window"): (8191, 8000)}


def test_sync_json_lists_the_planted_differences(models_server: ModelsServer) -> None:
    code, out = _sync_cli("--base-url", models_server.base("ok"), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["source"] == models_server.base("ok") + "/v1/models"
    assert doc["served"] == 18 and doc["differences"] == sum(
        len(doc[k]) for k in ("missing", "not_served", "removed_but_served", "aliases", "limits",
                              "abilities"))
    _planted(doc)


def test_sync_text_report(models_server: ModelsServer) -> None:
    code, out = _sync_cli("--base-url", models_server.base("ok") + "/v1")
    assert code == 1
    assert out.startswith(f"{models_server.base('ok')}/v1/models: 18 models served; catalog ")
    assert "Served, not in the catalog (1):\n  openai/gpt-5  (aliases: gpt-5)" in out
    assert "no longer served: candidates for deprecation" in out and "  o3-mini  (active)" in out
    assert ("Marked removed in the catalog, still served (1):\n"
            "  meta-llama/Llama-Guard-3-11B-Vision-Turbo") in out
    assert "  gpt-4o: the gateway also calls it gpt-4o-gateway-alias" in out
    assert ("  anthropic/claude-sonnet-5: context window: gateway 200,000, catalog 1,000,000"
            in out)
    assert ("Modalities and capabilities (4):\n  google/veo3: takes: gateway also image\n"
            in out)
    assert out.rstrip().endswith("differences.")


def test_sync_asks_for_modalities_and_capabilities(models_server: ModelsServer) -> None:
    scenario = _fresh("ok")
    _sync_cli("--base-url", models_server.base(scenario))
    with models_server.lock:
        hits = [q for (p, _), q in zip(models_server.hits, models_server.queries)
                if p.startswith(f"/{scenario}/")]
    assert hits == ["include=modalities%2Ccapabilities"]


def test_modality_and_capability_disagreements() -> None:
    cat = aimlcat.load_catalog()
    gpt = cat.model("gpt-4o")
    agree = LiveModel("gpt-4o", gpt.aliases, context_length=gpt.context_window,
                      input_modalities=gpt.input_modalities,
                      output_modalities=gpt.output_modalities,
                      capabilities=(*gpt.capabilities, ))
    assert compare(cat, [agree]).abilities == []
    # The catalog's own names the live catalogue has no word for are no difference.
    no_json_mode = LiveModel("gpt-4o", gpt.aliases, input_modalities=gpt.input_modalities,
                             capabilities=tuple(c for c in gpt.capabilities
                                                if c not in ("json_mode", "web_search")))
    assert compare(cat, [no_json_mode]).abilities == []
    differs = LiveModel("kling-video/v1.5/pro/text-to-video", input_modalities=("text", "image"),
                        output_modalities=("video",),
                        capabilities=("text_to_video", "image_to_video", "streaming"))
    found = {(m["what"], tuple(m["gateway_only"]), tuple(m["catalog_only"]))
             for m in compare(cat, [differs]).abilities}
    assert found == {("input", ("image",), ()),
                     ("capabilities", ("image_to_video", "streaming"), ())}
    fewer = LiveModel("gpt-4o", gpt.aliases, capabilities=("streaming",))
    [entry] = compare(cat, [fewer]).abilities
    assert entry["catalog_only"] == ["structured_output", "tools", "vision"]
    assert entry["message"] == "capabilities: catalog also structured_output, tools, vision"


def test_sync_through_the_main_cli(models_server: ModelsServer) -> None:
    out = io.StringIO()
    assert cli_run(["sync", "--base-url", models_server.base("ok"), "--format", "json"],
                   out) == 1
    _planted(json.loads(out.getvalue()))


def test_no_differences_exits_0() -> None:
    cat = aimlcat.load_catalog()
    live = [LiveModel(m.id, m.aliases, context_length=m.context_window)
            for m in cat.models() if m.status != "removed"]
    report = compare(cat, live, "test")
    assert report.differences == 0, report.to_dict()


def test_alias_groups_that_differ_are_reported() -> None:
    cat = aimlcat.load_catalog()
    live = [LiveModel("gpt-4o", ("gpt-4o-2024-08-06",)), LiveModel("openai/gpt-4o")]
    report = compare(cat, live)
    messages = [m["message"] for m in report.aliases]
    assert any("as one model" in m and "gpt-4o-2024-08-06" in m for m in messages)
    assert any("as 2 models" in m for m in messages)


def test_output_limit_beyond_the_context_window() -> None:
    cat = aimlcat.load_catalog()
    report = compare(cat, [LiveModel("o3-mini", output_max=300_000, context_length=200_000)])
    assert [(m["id"], m["limit"]) for m in report.limits] == [("o3-mini", "output_max")]


# -- the network: retries, timeouts, failures ------------------------------------------------------

def test_500_then_success_is_retried(models_server: ModelsServer) -> None:
    scenario = _fresh("flaky")
    code, out = _sync_cli("--base-url", models_server.base(scenario), "--format", "json")
    assert code == 1 and json.loads(out)["served"] == 18
    assert models_server.count(scenario) == 2


def test_429_with_retry_after_is_retried(models_server: ModelsServer) -> None:
    scenario = _fresh("busy")
    code, _ = _sync_cli("--base-url", models_server.base(scenario))
    assert code == 1 and models_server.count(scenario) == 2


def test_500_forever_gives_up_after_the_retries(models_server: ModelsServer,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    scenario = _fresh("down")
    code, out = _sync_cli("--base-url", models_server.base(scenario), "--retries", "2")
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert models_server.count(scenario) == 3
    assert err == (f"aimlcat: sync: {models_server.base(scenario)}/v1/models answered 503 "
                   "Service Unavailable (3 tries)\n")


def test_backoff_doubles(models_server: ModelsServer, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(_sync, "BACKOFF", 0.5)
    with pytest.raises(SyncError):
        _sync.fetch_models(models_server.base(_fresh("down")), retries=3, sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0]


def test_timeout(models_server: ModelsServer, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = _fresh("slow")
    started = time.monotonic()
    code, _ = _sync_cli("--base-url", models_server.base(scenario), "--timeout", "0.2",
                        "--retries", "1")
    # Two tries of 0.2 s; without the timeout each would wait the server's 1 s (a busy CI
    # machine adds its own delays, so the bound is what tells the two apart).
    assert time.monotonic() - started < 1.9
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == (f"aimlcat: sync: {models_server.base(scenario)}/v1/models did not "
                           "answer within 0.2 s (2 tries)")


def test_timeout_bounds_the_whole_answer_not_each_read(
        models_server: ModelsServer, capsys: pytest.CaptureFixture[str]) -> None:
    # Every read gets a byte within 50 ms, so a per-read timeout never fires.
    scenario = _fresh("trickle")
    started = time.monotonic()
    code, _ = _sync_cli("--base-url", models_server.base(scenario), "--timeout", "0.3",
                        "--retries", "1")
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 2 and took < 3, took  # two tries of 0.3 s (and a chunk), not 100,000 s
    assert err == (f"aimlcat: sync: {models_server.base(scenario)}/v1/models did not answer "
                   "within 0.3 s (2 tries)\n")


@pytest.mark.parametrize(("argv", "expected"), [
    (["--base-url", "http://127.0.0.1:99999"], "--base-url is not a URL (port out of range"),
    (["--base-url", "http://[::1"], "--base-url is not a URL (invalid ipv6 url)"),
    (["--timeout", "-1"], "--timeout must be a number of seconds above 0, not -1\n"),
    (["--timeout", "0"], "--timeout must be a number of seconds above 0, not 0\n"),
    (["--timeout", "nan"], "--timeout must be a number of seconds above 0, not nan\n"),
    (["--timeout", "inf"], "--timeout must be a number of seconds above 0, not inf\n"),
])
def test_bad_arguments_are_one_usage_line(capsys: pytest.CaptureFixture[str],
                                          argv: list[str], expected: str) -> None:
    with socket.socket() as s:  # nothing listens there: a good URL would fail otherwise
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    full = argv if argv[0] == "--base-url" else ["--base-url", f"http://127.0.0.1:{port}",
                                                 *argv]
    for run in (lambda: _sync_cli(*full)[0], lambda: cli_run(["sync", *full], io.StringIO())):
        assert run() == 2
        err = capsys.readouterr().err
        assert err.startswith("aimlcat: sync: ") and expected in err
        assert err.count("\n") == 1 and "Traceback" not in err


def test_negative_retries_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`--retries -1` was taken (as no retry); every other count aimlcat takes refuses it."""
    for run in (lambda: _sync_cli("--retries", "-1")[0],
                lambda: cli_run(["sync", "--retries", "-1"], io.StringIO())):
        assert run() == 2
        err = capsys.readouterr().err
        assert err.endswith("error: argument --retries: expected a whole number of at least "
                            "0, not '-1'\n")


@pytest.mark.parametrize(("scenario", "expected"), [
    ("html", "the answer is not JSON (text/html, 33 bytes); is --base-url the gateway?"),
    ("other", "not the gateway's model list: no `data` array"),
    ("empty", "the gateway listed no models, so there is nothing to compare"),
])
def test_answers_that_are_not_the_list(models_server: ModelsServer,
                                       capsys: pytest.CaptureFixture[str],
                                       scenario: str, expected: str) -> None:
    code, out = _sync_cli("--base-url", models_server.base(scenario))
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert err.startswith("aimlcat: sync: ") and expected in err
    assert err.count("\n") == 1


def test_unreachable_host_is_one_line_and_not_retried(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    code, _ = _sync_cli("--base-url", f"http://127.0.0.1:{port}")
    assert time.monotonic() - started < 2
    err = capsys.readouterr().err
    assert code == 2
    assert err == (f"aimlcat: sync: cannot reach 127.0.0.1:{port} (connection refused); "
                   "check --base-url and the network\n")


def test_server_ids_are_escaped_in_the_text_report(models_server: ModelsServer) -> None:
    code, out = _sync_cli("--base-url", models_server.base(_fresh("evil")))
    assert code == 1
    assert all(c.isprintable() for c in out.replace("\n", ""))
    assert "\x1b" not in out and "\u202e" not in out
    assert ("  evil/\\u202egpt  (aliases: a\\nFAKE LINE)  [x\\x1b[31m]\n" in out)
    code, out = _sync_cli("--base-url", models_server.base(_fresh("evil")), "--format", "json")
    assert json.loads(out)["missing"][0]["id"] == "evil/\u202egpt"  # JSON keeps the data


def test_a_redirect_to_a_dead_host_names_that_host(
        models_server: ModelsServer, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = f"http://127.0.0.1:{port}/v1/models"
    fetch = _sync.fetch_models
    with pytest.raises(SyncError) as caught:
        fetch(models_server.base(_fresh("moved")), retries=0,
              transport=_with_header("X-Dead-Target", target))
    assert str(caught.value) == (f"cannot reach 127.0.0.1:{port} (connection refused); check "
                                 "--base-url and the network")


def _with_header(name: str, value: str) -> Any:
    """A real HTTP transport that adds one header (the test server reads its redirect
    target from it)."""
    import httpx

    class Adding(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            request.headers[name] = value
            return super().handle_request(request)

    return Adding()


def test_api_key_is_sent_as_bearer_and_never_printed(
        models_server: ModelsServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    scenario = _fresh("auth")
    code, _ = _sync_cli("--base-url", models_server.base(scenario))
    err = capsys.readouterr().err
    assert code == 2 and "needs an API key: set AIMLAPI_KEY or pass --api-key" in err

    code, out = _sync_cli("--base-url", models_server.base(scenario), "--api-key", KEY)
    assert code == 1
    monkeypatch.setenv("AIMLAPI_KEY", KEY)
    code, out2 = _sync_cli("--base-url", models_server.base(scenario), "--format", "json")
    assert code == 1
    with models_server.lock:
        auth = [a for p, a in models_server.hits if p.startswith(f"/{scenario}/")]
    assert auth == [None, f"Bearer {KEY}", f"Bearer {KEY}"]

    monkeypatch.setenv("AIMLAPI_KEY", "wrong-key-0123456789")
    code, _ = _sync_cli("--base-url", models_server.base(scenario))
    err2 = capsys.readouterr().err
    assert code == 2 and "the API key was refused" in err2
    for text in (out, out2, err, err2):
        assert KEY not in text and "wrong-key-0123456789" not in text


@pytest.mark.parametrize("ending", ["\n", "\r\n", " ", "\t"])
def test_a_key_ending_in_a_newline_is_stripped(
        models_server: ModelsServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], ending: str) -> None:
    scenario = _fresh("auth")
    monkeypatch.setenv("AIMLAPI_KEY", KEY + ending)
    code, out = _sync_cli("--base-url", models_server.base(scenario), "--format", "json")
    code2, _ = _sync_cli("--base-url", models_server.base(scenario), "--api-key", KEY + ending)
    assert (code, code2) == (1, 1)
    with models_server.lock:
        auth = [a for p, a in models_server.hits if p.startswith(f"/{scenario}/")]
    assert auth == [f"Bearer {KEY}"] * 2
    assert KEY not in out + capsys.readouterr().err


@pytest.mark.parametrize(("key", "flag"), [
    (KEY[:10] + "\n" + KEY[10:], False), (KEY + "\u00e9", True), (KEY[:8] + " " + KEY[8:], True),
    (KEY[:5] + "\x00" + KEY[5:], True)])
def test_a_key_no_header_can_carry_is_one_usage_error(
        models_server: ModelsServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], key: str, flag: bool) -> None:
    scenario = _fresh("auth")
    if flag:
        code, out = _sync_cli("--base-url", models_server.base(scenario), "--api-key", key)
    else:
        monkeypatch.setenv("AIMLAPI_KEY", key)
        code, out = _sync_cli("--base-url", models_server.base(scenario))
    err = capsys.readouterr().err
    assert code == 2 and out == "" and models_server.count(scenario) == 0
    source = "--api-key" if flag else "$AIMLAPI_KEY"
    assert err == (f"aimlcat: sync: {source} holds a character an HTTP header cannot carry (a "
                   "space, a control character or a non-ASCII letter); check how it was set\n")


# -- pieces -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("base", "url"), [
    ("https://api.aimlapi.com", "https://api.aimlapi.com/v1/models"),
    ("https://api.aimlapi.com/", "https://api.aimlapi.com/v1/models"),
    ("https://api.aimlapi.com/v1", "https://api.aimlapi.com/v1/models"),
    ("https://api.aimlapi.com/v1/models", "https://api.aimlapi.com/v1/models"),
    ("http://127.0.0.1:8080/proxy/v1/", "http://127.0.0.1:8080/proxy/v1/models"),
    ("https://user:pw@api.aimlapi.com/v1", "https://api.aimlapi.com/v1/models"),
])
def test_models_url(base: str, url: str) -> None:
    assert models_url(base) == url


def test_a_base_url_without_scheme_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _sync_cli("--base-url", "api.aimlapi.com")
    assert code == 2
    assert "needs a scheme: https://api.aimlapi.com" in capsys.readouterr().err
    code, _ = _sync_cli("--base-url", "localhost:8080/v1")  # the pre-flight's rule: http here
    assert code == 2
    assert "needs a scheme: http://localhost:8080/v1" in capsys.readouterr().err


def test_parse_models_reads_the_include_sections_and_rejects_other_shapes() -> None:
    live = parse_models(json.loads(FIXTURE.read_text()))
    gpt = next(m for m in live if m.id == "openai/gpt-4o")
    assert gpt.aliases == ("gpt-4o", "gpt-4o-gateway-alias")
    assert (gpt.context_length, gpt.output_max, gpt.type) == (128000, 16384,
                                                               "openai/chat-completions")
    assert (gpt.input_modalities, gpt.output_modalities) == (("text", "image"), ("text",))
    assert gpt.capabilities == ("streaming", "tools", "vision")
    flux = next(m for m in live if m.id == "flux/dev")
    assert flux.context_length is None and flux.output_max is None
    plain = next(m for m in live if m.id == "gpt-4o-2024-05-13")  # no include sections
    assert plain.input_modalities is None and plain.capabilities is None
    for bad, what in ([], "not an object"), ({"object": "list", "data": [{"aliases": []}]},
                                             "data[0] has no `id`"), (
            {"object": "list", "data": [{"id": "x", "aliases": "y"}]}, "`aliases` is not"), (
            {"object": "model", "data": [{"id": "x"}]}, "`object` is 'model'"):
        with pytest.raises(SyncError, match=what.replace("[", r"\[").replace("]", r"\]")):
            parse_models(bad)


def test_connection_failures_read_plainly() -> None:
    assert _sync._reason(OSError("[Errno 111] Connection refused")) == "connection refused"
    assert _sync._reason(OSError("[Errno -3] Temporary failure in name resolution")) == (
        "unknown host")
    assert _sync._reason(OSError("[Errno -2] Name or service not known")) == "unknown host"
