"""Pre-flight inside HTTP clients: an httpx transport that checks requests before they leave.

:class:`PreflightTransport` (sync) and :class:`AsyncPreflightTransport` wrap any
other transport. A request is checked when it is a ``POST`` with a JSON body to
the gateway: the host ``api.aimlapi.com`` (any scheme or port), or a configured
base URL such as ``http://127.0.0.1:8000/v1`` (a proxy or a test server), at a
path the catalog knows as an endpoint. Everything else (GETs, multipart uploads,
unknown paths, other hosts) is handed to the wrapped transport untouched, and so
is every response, streamed ones included.

Policies: ``raise`` stops a request with errors before any byte is sent
(:class:`aimlcat.PreflightError`, carrying the report) and logs warnings;
``warn`` logs every finding to ``logging.getLogger("aimlcat")`` and sends the
request as it is; ``fix`` applies the report's safe fixes (JSON Patch moves and
removals), sends the fixed body with a correct ``Content-Length`` and the other
headers intact, and raises when errors remain after fixing.

The transports use the httpx transport API only, so they work inside ``httpx2``
clients too (the Anthropic SDK 2.x accepts only those): wrap an httpx2 transport,
or use ``aimlcat.client(lib="httpx2")``.

Secrets: a header's value is never read into a message. Findings quote body
values; should a body carry the request's API key, it is replaced by
``[redacted]`` in the error and in log lines (pointers, escaped forms and quotes
cut short included: :func:`aimlcat._secrets.redact_known`).
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, overload
from urllib.parse import urlsplit

import httpx

from ._catalog import SERVICE_PATHS, Catalog, doubled_version, load_catalog
from ._exceptions import CatalogError, PayloadError, PreflightError, UsageError
from ._findings import INFO, RULES, WARNING, Finding, Report
from ._payloads import load_json

if TYPE_CHECKING:  # the OpenAI SDK 3.x and the Anthropic SDK 2.x are typed against httpx2
    import httpx2

__all__ = ["GATEWAY_HOST", "GATEWAY_URL", "AsyncPreflightTransport", "BaseUrlProblem",
           "Preflight", "PreflightTransport", "async_client", "check_base_url", "client"]

log = logging.getLogger("aimlcat")

GATEWAY_HOST = "api.aimlapi.com"
GATEWAY_URL = "https://api.aimlapi.com"
Policy = Literal["raise", "warn", "fix"]
POLICIES: tuple[str, ...] = ("raise", "warn", "fix")

#: Hosts of other providers' own APIs: a base URL pointing there skips the gateway.
OTHER_PROVIDERS = {
    "api.openai.com": "OpenAI's own API",
    "api.anthropic.com": "Anthropic's own API",
    "generativelanguage.googleapis.com": "Google's Gemini API",
    "api.mistral.ai": "Mistral's own API",
    "api.groq.com": "Groq's API",
    "api.together.xyz": "Together AI's API",
    "api.deepseek.com": "DeepSeek's own API",
    "api.x.ai": "xAI's own API",
    "openrouter.ai": "OpenRouter",
}
_SECRET_HEADERS = ("authorization", "proxy-authorization", "x-api-key", "api-key", "cookie",
                   "x-goog-api-key")


# -- the check itself (one per transport; no I/O) --------------------------------------------

class Preflight:
    """Decides which requests to check, checks them and applies the policy.

    ``base_url`` (one or several) names extra places that are "the gateway": a
    URL's scheme, host and port must match, and its path must start with the base
    path (a trailing ``/v1`` aside, since SDKs and docs differ on where it goes).
    ``gateway_hosts`` (one host, or several) are matched on the host alone. A base URL
    without a scheme gets the one :func:`with_scheme` gives (http for this machine)."""

    def __init__(self, policy: Policy = "raise", *,
                 base_url: str | Iterable[str] | None = None,
                 gateway_hosts: str | Iterable[str] = (GATEWAY_HOST,),
                 catalog: Catalog | None = None) -> None:
        if policy not in POLICIES:
            raise UsageError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
        self.policy: Policy = policy
        self._catalog = catalog
        hosts = _strs(gateway_hosts, "gateway_hosts", "a host such as api.aimlapi.com",
                      none=False)
        self._hosts = frozenset(_gateway_host(h) for h in hosts)
        self._bases: list[tuple[str, str, int | None, str]] = []
        bases = _strs(base_url, "base_url", f"a URL such as {GATEWAY_URL}/v1")
        for base in bases:
            text = with_scheme(base.strip())[0]
            try:
                urlsplit(text).port  # noqa: B018 (raises for a bad IPv6 host, a port > 65535)
                url = httpx.URL(text)
            except (ValueError, httpx.InvalidURL) as exc:
                raise UsageError(f"base_url {base!r} is not a URL ({exc}); use one such as "
                                 f"{GATEWAY_URL}/v1, or the local server's "
                                 "http://127.0.0.1:PORT/v1") from None
            prefix = url.path.rstrip("/")
            while prefix.endswith("/v1"):  # …/v1/v1 too: the doubled /v1 is then AML204
                prefix = prefix[:-3]
            self._bases.append((url.scheme, url.host, url.port, prefix))
        self._warned_hosts: set[str] = set()

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog()
        return self._catalog

    def route(self, url: Any) -> str | None:
        """The path of ``url`` below the gateway's root, or None when it is not the gateway."""
        host = url.host
        if host in self._hosts:
            return str(url.path)
        for scheme, bhost, port, prefix in self._bases:
            if host == bhost and url.port == port and url.scheme == scheme:
                path = str(url.path)
                if not prefix:
                    return path
                if path.startswith(prefix) and path[len(prefix):len(prefix) + 1] == "/":
                    return path[len(prefix):]
        if host in OTHER_PROVIDERS and host not in self._warned_hosts:
            self._warned_hosts.add(host)
            log.warning("preflight: this client sends requests to %s (%s), not to the AI/ML API "
                        "gateway; they are not checked. Set the SDK's base_url to %s/v1 "
                        "(%s for the Anthropic SDK).", host, OTHER_PROVIDERS[host],
                        GATEWAY_URL, GATEWAY_URL)
        return None

    def target(self, request: Any) -> str | None:
        """The gateway path of a request worth checking (a JSON POST to the gateway), or None."""
        if request.method != "POST":
            return None
        json_body = False
        for name, value in request.headers.raw:  # one pass; Headers.get lowercases every key
            name = name.lower()
            if name == b"content-type":
                # application/json (or a +json type), parameters aside: not JSON Lines or
                # JSON text sequences, whose bodies are several documents
                media = value.split(b";", 1)[0].strip().lower()
                json_body = media == b"application/json" or media.endswith(b"+json")
            elif name == b"content-encoding" and value.strip().lower() != b"identity":
                return None  # a compressed body: not ours to unpack
        return self.route(request.url) if json_body else None

    def check(self, request: Any, path: str, body: bytes) -> bytes | None:
        """Check a request's body; the body to send instead, or None to send it as it is.

        Raises :class:`PreflightError` when the policy says so; never sends anything."""
        cat = self.catalog
        doubled = doubled_version(path)
        if doubled is not None:
            endpoint: str | None = None
            report = Report(findings=[_wrong_path(request.url, path, doubled)])
        else:
            endpoint = cat.canonical_endpoint(path)
            if endpoint is None:
                return None  # /v1/models, billing, keys ...: not a model endpoint
            try:
                doc, duplicates = load_json(body, "request body")
            except PayloadError as exc:
                report = Report(endpoint=endpoint, findings=[Finding(
                    "AML001", RULES["AML001"].severity, "",
                    f"the request body is not valid JSON: {exc.reason}",
                    "The gateway would reject it; check how the body is built.")])
            else:
                report = cat.validate(doc, endpoint)
                if report.findings:
                    _sdk_added(report, doc, endpoint, _sdk_of(request.headers))
                if duplicates:
                    report.findings[:0] = duplicates
                if not report.findings:
                    return None  # the common case: valid, sent byte for byte
                if self.policy == "fix" and report.fixable:
                    fixed = report.apply_fixes(doc)
                    if cat.validate(fixed, endpoint).ok and not duplicates:
                        self._log(request, report, fixed=True)
                        return _fixed_body(body, report, fixed)
        if not report.findings:
            return None
        if self.policy != "warn" and not report.ok:
            secrets = _secrets(request.headers)
            raise _error_class(request.headers)(_redact(report, secrets), method=request.method,
                                                url=_shown_url(request.url))
        self._log(request, report, fixed=False)
        return None

    def _log(self, request: Any, report: Report, *, fixed: bool) -> None:
        # The level of the most severe record: a report with an info finding (the SDK's own
        # encoding_format) and an error must still log the error where INFO is off.
        top = (logging.WARNING if any(f.severity != INFO for f in report.findings)
               else logging.INFO)
        if not log.isEnabledFor(top):  # nobody listens: no redaction, no formatting
            return
        secrets = _secrets(request.headers)
        report = _redact(report, secrets)
        where = f"{request.method} {_shown_url(request.url)}"
        model = f" ({report.model})" if report.model else ""
        for f in report.findings:
            level = logging.INFO if f.severity == INFO else logging.WARNING
            if fixed and f.fix is not None:
                log.log(level, "preflight: %s%s: %s: %s %s: %s; fixed before sending (%s)",
                        where, model, f.pointer or "/", f.code, f.severity, f.message,
                        _describe_fix(f.fix))
            else:
                log.log(level, "preflight: %s%s: %s: %s %s: %s", where, model, f.pointer or "/",
                        f.code, f.severity, f.message)


def _strs(value: str | Iterable[str] | None, name: str, example: str, *,
          none: bool = True) -> list[str]:
    """One string or several as a list (None as none, where ``none`` allows); anything
    else (an ``httpx.URL``, a number) is one UsageError naming the argument, not a
    TypeError from iterating it."""
    if value is None and none:
        return []
    # (bytes are one value too: iterated, they would be reported as ints)
    items: Any = [value] if isinstance(value, (str, bytes, bytearray)) else value
    try:
        found: list[Any] = list(items)
    except TypeError:  # None, a number, an httpx.URL: said below
        found = [items]
    for item in found:
        if not isinstance(item, str):
            raise UsageError(f"{name} takes a string ({example}) or a list of them, not "
                             f"{type(item).__name__}" + (
                                 f": pass str({name})" if type(item).__name__ == "URL" else ""))
    return found


def _gateway_host(text: str) -> str:
    """A ``gateway_hosts`` entry as requests' hosts read (lower case, an IPv6 address
    without brackets). A scheme, port, path or user info would match no request, so that
    every request went out unchecked: a UsageError instead (the value is not repeated: it
    may hold credentials)."""
    host = text.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or "/" in host or "@" in host or "[" in host or "]" in host \
            or (":" in host and host.count(":") < 2):  # ("[::1]:8443": a port, brackets left)
        raise UsageError(f"gateway_hosts takes host names such as {GATEWAY_HOST}, without a "
                         "scheme, port or path; for a place with a port or a path (a proxy, "
                         "a local server) pass its URL as base_url")
    return host


def _sdk_of(headers: Any) -> str | None:
    """Which SDK sent a request: ``"anthropic"`` (it sends ``anthropic-version``),
    ``"openai"`` (its User-Agent is ``OpenAI/Python …`` or ``AsyncOpenAI/Python …``), or None."""
    if "anthropic-version" in headers:
        return "anthropic"
    if "openai/" in headers.get("user-agent", "").lower():
        return "openai"
    return None


#: Keys an SDK writes into a body on its own: (SDK, endpoint, key) -> (the value it writes
#: when the caller names none, the value a model without the key gives anyway).
#: The OpenAI SDK's ``embeddings.create()`` asks for ``"base64"`` and decodes it, or takes
#: the floats that come back as they are. The Anthropic SDK adds no key of its own.
SDK_ADDED: dict[tuple[str, str, str], tuple[str, str]] = {
    ("openai", "/v1/embeddings", "encoding_format"): ("base64", "float"),
}
_NOT_TAKEN = ("AML301", "AML303")  # not a parameter of the model / removed from it


def _sdk_added(report: Report, doc: Any, endpoint: str, sdk: str | None) -> None:
    """Soften, in place, the findings about a key the calling SDK added itself.

    The SDK's own default (``encoding_format: "base64"``) on a model that does not
    take the key becomes an info finding: the gateway ignores it, and the call must
    work. The value such a model gives anyway (``"float"``), which only the caller can
    have asked for, becomes a warning: harmless, but worth removing. Both carry a
    safe fix (remove the key); any other value keeps its error."""
    if sdk is None or not isinstance(doc, dict):
        return
    for i, f in enumerate(report.findings):
        if f.code not in _NOT_TAKEN or f.pointer.count("/") != 1:
            continue
        key = f.pointer[1:]
        values = SDK_ADDED.get((sdk, endpoint, key))
        if values is None or doc.get(key) not in values:
            continue
        added, anyway = values
        model = report.model or "this model"
        fix = {"op": "remove", "path": f.pointer}
        if doc[key] == added:
            report.findings[i] = replace(
                f, severity=INFO, fix=fix,
                message=(f"the {_SDK_NAMES[sdk]} SDK added `{key}: \"{added}\"` on its own; "
                         f"the gateway ignores `{key}` for {model} on {endpoint}"),
                hint=(f"Nothing to do: {model} answers with {anyway}s, which the SDK reads as "
                      "they come. The fix policy removes the key before sending."))
        else:
            report.findings[i] = replace(
                f, severity=WARNING, fix=fix,
                message=(f"`{key}` is not a parameter of {model} on {endpoint}; the gateway "
                         f"ignores it, and \"{anyway}\" is what {model} gives anyway"),
                hint=f"Leave `{key}` out for {model}.")


_SDK_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic"}
_SDK_ERRORS: dict[str, type[PreflightError]] = {}


def _error_class(headers: Any) -> type[PreflightError]:
    """PreflightError, or a subclass that is also the calling SDK's own base error.

    The Anthropic SDK wraps any other exception from its HTTP client in
    ``APIConnectionError`` and retries it; an error of its own type it re-raises
    as it is, at once. So when the request comes from that SDK (it sends an
    ``anthropic-version`` header) and the SDK is loaded, the error is both an
    ``aimlcat.PreflightError`` and an ``anthropic.AnthropicError``; likewise for
    the OpenAI SDK (its User-Agent is ``OpenAI/Python …``, ``AsyncOpenAI/…``). The
    SDKs are never imported here."""
    module = _sdk_of(headers)
    if module is None:
        return PreflightError
    base = _SDK_NAMES[module] + "Error"
    cls = _SDK_ERRORS.get(module)
    if cls is None:
        sdk = sys.modules.get(module)
        sdk_error = getattr(sdk, base, None)
        if not (isinstance(sdk_error, type) and issubclass(sdk_error, Exception)):
            return PreflightError
        cls = type("PreflightError", (PreflightError, sdk_error),
                   {"__module__": PreflightError.__module__,
                    "__doc__": f"PreflightError, raised as the {module} SDK's own error type."})
        _SDK_ERRORS[module] = cls
    return cls


def _wrong_path(url: Any, path: str, served: str) -> Finding:
    base = f"{url.scheme}://{url.netloc.decode('ascii')}"
    prefix = str(url.path)[:-len(path)] if path and str(url.path).endswith(path) else ""
    right = base + prefix + served
    if served.startswith("/v1/"):
        return Finding("AML204", RULES["AML204"].severity, "",
                       f"`{path}` is not an endpoint of the gateway: the path doubles /v1; "
                       f"the gateway serves {right}",
                       "Remove one /v1 from the client's base_url (the OpenAI SDK takes "
                       f"{GATEWAY_URL}/v1, the Anthropic SDK {GATEWAY_URL}).")
    version = served.split("/", 2)[1]
    return Finding("AML204", RULES["AML204"].severity, "",
                   f"`{path}` is not an endpoint of the gateway: {version} endpoints are not "
                   f"under /v1; the gateway serves {right}",
                   f"Keep the base_url, and send {version} requests to the absolute URL {right} "
                   f"(a path relative to a base URL ending in /v1 lands under /v1: with the "
                   f"OpenAI SDK, client.post(\"{right}\", body=..., cast_to=object)).")


def _fixed_body(body: bytes, report: Report, fixed: Any) -> bytes:
    """``body`` with the report's fixes made in its text, as ``lint --fix`` makes them
    (:func:`aimlcat._fixer.fix_json_text`): every member not fixed goes out byte for byte
    (a 30-digit seed stays one, where a parse and a dump would make it a float). When a
    fix cannot be made in place, ``fixed`` is written out whole."""
    from ._fixer import fix_json_text

    try:
        outcome = fix_json_text(body.decode("utf-8"), [f.fix for f in report.fixable if f.fix])
    except (UnicodeDecodeError, PayloadError):
        outcome = None
    if outcome is not None and outcome.text is not None and outcome.problem is None:
        return outcome.text.encode("utf-8")
    return _dumps(fixed)


def _dumps(doc: Any) -> bytes:
    import orjson

    try:
        return orjson.dumps(doc)
    except TypeError:  # an integer beyond 64 bits, say
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _describe_fix(fix: dict[str, Any]) -> str:
    op = fix.get("op")
    if op == "move":
        return f"moved {fix['from']} to {fix['path']}"
    if op == "remove":
        return f"removed {fix['path']}"
    if op == "replace":
        return f"replaced {fix['path']}"
    return str(op)


def _shown_url(url: Any) -> str:
    """The URL without user info, query or fragment (they may carry credentials)."""
    return f"{url.scheme}://{url.netloc.decode('ascii')}{url.path}"


def _secrets(headers: Any) -> list[str]:
    found: list[str] = []
    for name in _SECRET_HEADERS:
        for value in headers.get_list(name):
            value = value.strip()
            parts = value.split(None, 1)
            for candidate in (value, parts[-1] if parts else ""):
                if len(candidate) >= 8 and candidate not in found:
                    found.append(candidate)
    return sorted(found, key=len, reverse=True)


def _redact(report: Report, secrets: Sequence[str]) -> Report:
    """The report with every secret masked (see :func:`aimlcat._secrets.redact_known`) in
    each finding's pointer, message, hint and fix (the same object when clean)."""
    if not secrets:
        return report
    from ._secrets import redact_known

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return redact_known(value, secrets)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    findings = [replace(f, pointer=clean(f.pointer), message=clean(f.message),
                        hint=clean(f.hint), fix=clean(f.fix)) for f in report.findings]
    if findings == report.findings:
        return report
    return Report(model=report.model, endpoint=report.endpoint, findings=findings)


def _send_instead(request: Any, body: bytes) -> None:
    """Make ``request`` carry ``body``: ``Content-Length`` set, every other header kept.

    In place, not a copy: the client sets ``response.request`` to the request it gave the
    transport, so with a copy ``response.request`` (and the OpenAI SDK's
    ``.http_request``) would show the body before the fix, not the one sent. ``read()``
    already turned the stream into a ``ByteStream`` and cached the body in ``_content``
    (httpx and httpx2 alike): both are replaced."""
    headers = request.headers
    headers["Content-Length"] = str(len(body))
    if "transfer-encoding" in headers:
        del headers["transfer-encoding"]
    request.stream = type(request.stream)(body)
    request._content = body


# -- transports ---------------------------------------------------------------------------------

class PreflightTransport(httpx.BaseTransport):
    """A sync transport that checks gateway requests, then hands them to ``transport``.

    ``transport`` defaults to ``httpx.HTTPTransport()``; pass an ``httpx2``
    transport to use this inside an ``httpx2.Client``."""

    def __init__(self, transport: httpx.BaseTransport | None = None, *,
                 policy: Policy = "raise", base_url: str | Iterable[str] | None = None,
                 gateway_hosts: str | Iterable[str] = (GATEWAY_HOST,),
                 catalog: Catalog | None = None, preflight: Preflight | None = None) -> None:
        self.preflight = preflight or Preflight(policy, base_url=base_url,
                                                gateway_hosts=gateway_hosts, catalog=catalog)
        self.transport = transport if transport is not None else httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = self.preflight.target(request)
        if path is not None:
            fixed = self.preflight.check(request, path, request.read())
            if fixed is not None:
                _send_instead(request, fixed)
        return self.transport.handle_request(request)

    def __enter__(self) -> Self:
        self.transport.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None = None,
                 exc_value: BaseException | None = None,
                 traceback: TracebackType | None = None) -> None:
        self.transport.__exit__(exc_type, exc_value, traceback)

    def close(self) -> None:
        self.transport.close()


class AsyncPreflightTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`PreflightTransport` (default ``httpx.AsyncHTTPTransport()``)."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None, *,
                 policy: Policy = "raise", base_url: str | Iterable[str] | None = None,
                 gateway_hosts: str | Iterable[str] = (GATEWAY_HOST,),
                 catalog: Catalog | None = None, preflight: Preflight | None = None) -> None:
        self.preflight = preflight or Preflight(policy, base_url=base_url,
                                                gateway_hosts=gateway_hosts, catalog=catalog)
        self.transport = transport if transport is not None else httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = self.preflight.target(request)
        if path is not None:
            fixed = self.preflight.check(request, path, await request.aread())
            if fixed is not None:
                _send_instead(request, fixed)
        return await self.transport.handle_async_request(request)

    async def __aenter__(self) -> Self:
        await self.transport.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None = None,
                        exc_value: BaseException | None = None,
                        traceback: TracebackType | None = None) -> None:
        await self.transport.__aexit__(exc_type, exc_value, traceback)

    async def aclose(self) -> None:
        await self.transport.aclose()


# -- one-line helpers ---------------------------------------------------------------------------

Lib = Literal["httpx", "httpx2"]


@overload
def client(policy: Policy = ..., base_url: str | None = ..., *, lib: Literal["httpx"] = ...,
           gateway_hosts: str | Iterable[str] = ..., catalog: Catalog | None = ...,
           transport: Any = ..., **kwargs: Any) -> httpx.Client: ...
@overload
def client(policy: Policy = ..., base_url: str | None = ..., *, lib: Literal["httpx2"],
           gateway_hosts: str | Iterable[str] = ..., catalog: Catalog | None = ...,
           transport: Any = ..., **kwargs: Any) -> httpx2.Client: ...
def client(policy: Policy = "raise", base_url: str | None = None, *, lib: Lib = "httpx",
           gateway_hosts: str | Iterable[str] = (GATEWAY_HOST,), catalog: Catalog | None = None,
           transport: Any = None, **kwargs: Any) -> Any:
    """An ``httpx.Client`` whose requests to the gateway are checked before they are sent.

    Pass it as ``http_client=`` to the OpenAI SDK (and, with ``lib="httpx2"``, to
    the Anthropic SDK 2.x, which takes only ``httpx2`` clients). ``policy`` is
    ``"raise"``, ``"warn"`` or ``"fix"``. ``base_url`` is the SDK's base URL when
    it is not ``https://api.aimlapi.com`` (a proxy, a local server): requests under
    it are checked too, and it becomes the client's own base URL. It is checked
    with :func:`check_base_url`; each problem is logged as a warning.
    ``transport`` is a transport to wrap instead of a new ``HTTPTransport``; the
    transport options ``verify``, ``cert``, ``http1``, ``http2``, ``limits``,
    ``proxy`` and ``retries`` build that new one. Other keyword arguments go to the
    client (``timeout``, ``headers``, ...)."""
    return _make(False, policy, base_url, lib, gateway_hosts, catalog, transport, kwargs)


@overload
def async_client(policy: Policy = ..., base_url: str | None = ..., *,
                 lib: Literal["httpx"] = ..., gateway_hosts: str | Iterable[str] = ...,
                 catalog: Catalog | None = ..., transport: Any = ...,
                 **kwargs: Any) -> httpx.AsyncClient: ...
@overload
def async_client(policy: Policy = ..., base_url: str | None = ..., *, lib: Literal["httpx2"],
                 gateway_hosts: str | Iterable[str] = ..., catalog: Catalog | None = ...,
                 transport: Any = ..., **kwargs: Any) -> httpx2.AsyncClient: ...
def async_client(policy: Policy = "raise", base_url: str | None = None, *, lib: Lib = "httpx",
                 gateway_hosts: str | Iterable[str] = (GATEWAY_HOST,), catalog: Catalog | None = None,
                 transport: Any = None, **kwargs: Any) -> Any:
    """The ``httpx.AsyncClient`` twin of :func:`client` (for ``AsyncOpenAI``, ``AsyncAnthropic``)."""
    return _make(True, policy, base_url, lib, gateway_hosts, catalog, transport, kwargs)


_TRANSPORT_OPTIONS = ("verify", "cert", "http1", "http2", "limits", "proxy", "retries")


def _make(asynchronous: bool, policy: Policy, base_url: str | None, lib: str,
          gateway_hosts: str | Iterable[str], catalog: Catalog | None, transport: Any,
          kwargs: dict[str, Any]) -> Any:
    mod: Any
    if lib == "httpx":
        mod = httpx
    elif lib == "httpx2":
        import httpx2

        mod = httpx2
    else:
        raise UsageError(f"lib must be 'httpx' or 'httpx2', not {lib!r}")
    preflight = Preflight(policy, base_url=base_url, gateway_hosts=gateway_hosts,
                          catalog=catalog)
    options = {k: kwargs.pop(k) for k in _TRANSPORT_OPTIONS if k in kwargs}
    if transport is None:
        # A client given a transport ignores these options: they go to the new transport.
        if "trust_env" in kwargs:
            options["trust_env"] = kwargs["trust_env"]
        transport = (mod.AsyncHTTPTransport if asynchronous else mod.HTTPTransport)(**options)
    elif options:
        raise UsageError(f"{', '.join(options)}: set these on the transport you pass")
    _warn_base_url(base_url)
    wrapper: Any = AsyncPreflightTransport if asynchronous else PreflightTransport
    wrapped = wrapper(transport, preflight=preflight)
    if base_url is not None:
        kwargs.setdefault("base_url", with_scheme(base_url.strip())[0])
    return (mod.AsyncClient if asynchronous else mod.Client)(transport=wrapped, **kwargs)


def _warn_base_url(base_url: str | None) -> None:
    if base_url is None:
        return
    for problem in check_base_url(base_url):
        log.warning("base URL: %s", problem.message)


# -- the base URL check -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class BaseUrlProblem:
    """One thing wrong with a base URL for the gateway, and the base URL to use instead."""

    code: str        # missing-scheme, other-provider, host-typo, not-https, endpoint-in-base,
    #                  doubled-v1, wrong-version, sdk-adds-v1, not-a-url
    message: str     # what is wrong, naming the right URL
    suggestion: str  # the whole corrected base URL

    def __str__(self) -> str:
        return self.message


SDK = Literal["openai", "anthropic"]


def check_base_url(url: str, *, sdk: SDK | None = None) -> list[BaseUrlProblem]:
    """What is wrong with ``url`` as the base URL of an SDK talking to the gateway.

    ``sdk`` says which SDK gets it: the OpenAI SDK appends ``/chat/completions``
    (so the base ends in ``/v1``), the Anthropic SDK appends ``/v1/messages`` (so
    it does not). Without ``sdk`` only problems that hold for both are reported.
    A base that ends in an endpoint or a service path of the gateway (``…/v1/models``),
    or on the gateway's host in a version other than /v1 (``…/v2``), is reported too.
    An empty list means the URL looks right. Each message names the corrected
    URL; the URL given is never repeated (it may hold credentials)."""
    if not isinstance(url, str):
        raise TypeError(f"check_base_url takes the base URL as a str, not {type(url).__name__}")
    found: list[tuple[str, str]] = []  # (code, what is wrong); the right URL is added below
    text = url.strip()
    if not text:
        return [BaseUrlProblem("not-a-url", f"the base URL is empty: use {_default_for(sdk)}",
                               _default_for(sdk))]
    text, added = with_scheme(text)
    if added:
        found.append(("missing-scheme", f"the base URL has no scheme ({added}://)"))
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:  # "https://[::1/v1", a port out of range
        parts, host, port = urlsplit(""), "", None
    scheme = parts.scheme.lower()
    if not host or scheme not in ("http", "https"):
        return [BaseUrlProblem("not-a-url", f"the base URL is not an http(s) URL: use "
                               f"{_default_for(sdk)}", _default_for(sdk))]
    segments = [s for s in parts.path.split("/") if s]

    if host in OTHER_PROVIDERS:
        found.append(("other-provider", (
            f"{host} is {OTHER_PROVIDERS[host]}, not the AI/ML API gateway, so your requests "
            "would skip it (and your AI/ML API key would not work there)")))
        wants_v1 = sdk == "openai" or (sdk is None and host != "api.anthropic.com")
        host, port, scheme = GATEWAY_HOST, None, "https"
        segments = ["v1"] if wants_v1 else []
    elif host != GATEWAY_HOST and _looks_like_gateway(host):
        found.append(("host-typo", f"{host} is not the gateway's API host ({GATEWAY_HOST})"))
        host, port = GATEWAY_HOST, None
    if host == GATEWAY_HOST and scheme != "https":
        found.append(("not-https", (
            "the gateway is served over https; plain http would send your API key unencrypted")))
        scheme = "https"

    tail, service = _endpoint_tail(segments, gateway=host == GATEWAY_HOST)
    if tail:
        shown = "/" + "/".join(tail)
        found.append(("endpoint-in-base", (
            f"the base URL ends with {shown}, the gateway's path for "
            f"{SERVICE_PATHS[service]} rather than a base; the SDK "
            "appends each path it calls to the base" if service else
            f"the base URL ends with the endpoint {shown}, which the SDK appends itself")))
        segments = segments[:len(segments) - len(tail)]
    collapsed: list[str] = []
    for s in segments:
        if s == "v1" and collapsed and collapsed[-1] == "v1":
            continue
        collapsed.append(s)
    if len(collapsed) != len(segments):
        found.append(("doubled-v1", (
            "the path doubles /v1 (…/v1/v1), so every endpoint would be reached as /v1/v1/…")))
        segments = collapsed
    if host == GATEWAY_HOST and segments and segments[-1] != "v1" \
            and _VERSION.fullmatch(segments[-1]):
        found.append(("wrong-version", _wrong_version(segments[-1], sdk)))
        while segments and _VERSION.fullmatch(segments[-1]):  # …/v1/v2: no version is right
            segments = segments[:-1]
        segments = segments if sdk == "anthropic" else [*segments, "v1"]
    if sdk == "anthropic" and segments and segments[-1] == "v1":
        found.append(("sdk-adds-v1", (
            "the Anthropic SDK adds /v1/messages itself, so a base URL ending in /v1 reaches "
            "/v1/v1/messages")))
        segments = segments[:-1]

    if not found:
        return []
    netloc = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    if port is not None:
        netloc += f":{port}"
    right = f"{scheme}://{netloc}" + "".join("/" + s for s in segments)
    return [BaseUrlProblem(code, f"{what}: use {right}", right) for code, what in found]


#: Hosts of this machine: a base URL naming one without a scheme means http.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})


def with_scheme(url: str) -> tuple[str, str | None]:
    """``url`` with a scheme, and the scheme added (None when it had one).

    The one rule for a base URL given without a scheme, used by the pre-flight
    check and by :func:`check_base_url` alike: ``http`` for this machine
    (``localhost``, ``127.0.0.1``, ``[::1]``), ``https`` for any other host."""
    if "://" in url:
        return url, None
    head = url.split("/", 1)[0].rpartition("@")[2].lower()
    host = head[1:head.find("]")] if head.startswith("[") else head.split(":", 1)[0]
    scheme = "http" if host in _LOCAL_HOSTS or host.endswith(".localhost") else "https"
    return f"{scheme}://{url}", scheme


def _default_for(sdk: SDK | None) -> str:
    return GATEWAY_URL if sdk == "anthropic" else GATEWAY_URL + "/v1"


def _looks_like_gateway(host: str) -> bool:
    if host in ("aimlapi.com", "www.aimlapi.com", "docs.aimlapi.com", "aimlapi.ai",
                "api.aimlapi.ai", "api.aiml.com", "api.aimlapi.com."):
        return True
    return difflib.SequenceMatcher(None, host, GATEWAY_HOST).ratio() >= 0.85


def _endpoint_tail(segments: list[str], *, gateway: bool) -> tuple[list[str], str | None]:
    """The trailing segments that spell a catalog endpoint or a service path (after a /v1
    base: ``chat/completions``, ``models``), if any, and the service path they spell (a
    key of ``SERVICE_PATHS``), if it is one.

    A service path without its /v1 (``…/models``, ``…/keys``) counts on the gateway's host,
    where no base has such a segment, and elsewhere only right after a /v1 (a proxy's
    own base may well end in ``/models``). ``{...}`` in a known path is one segment."""
    if not segments:
        return [], None
    try:
        cat = load_catalog()
    except CatalogError:  # a broken catalog must not break a URL check
        return [], None
    best: tuple[str, ...] = ()
    service: str | None = None
    for path, is_service in [*((p, False) for p in cat.endpoints()),
                             *((p, True) for p in SERVICE_PATHS)]:
        parts = tuple(p for p in path.split("/") if p)
        t = parts[1:] if parts[:1] == ("v1",) else parts
        n = len(t)
        if not t or n <= len(best) or n > len(segments):
            continue
        if not all(w == s or (w[:1] == "{" and w[-1:] == "}")
                   for w, s in zip(t, segments[-n:], strict=True)):
            continue
        if is_service and t is not parts and not gateway and segments[-n - 1:-n] != ["v1"]:
            continue
        best, service = t, path if is_service else None
    return list(best), service

#: A path segment that names an API version: v1, v2, v1beta, v2alpha1 ...
_VERSION = re.compile(r"v\d+(?:(?:alpha|beta)\d*)?")


def _wrong_version(version: str, sdk: SDK | None) -> str:
    """Why a gateway base URL ending in ``/<version>`` (not /v1) fails the SDK: what the
    gateway serves under that version (its catalog endpoints that are not legacy and its
    service paths), if anything."""
    try:
        served = [p for p in load_catalog().endpoints(current=True)
                  if p.startswith(f"/{version}/")]
    except CatalogError:  # a broken catalog must not break a URL check
        served = []
    account = [p for p in SERVICE_PATHS if p.startswith(f"/{version}/") and p.count("/") == 2]
    if account:
        served.append(f"account services ({', '.join(account)})")
    if not served:
        what = f"the gateway has no /{version} API"
    elif len(served) == 1:
        what = f"the gateway's /{version} serves {served[0]}"
    else:
        what = f"the gateway's /{version} serves {', '.join(served[:-1])} and {served[-1]}"
    if sdk == "anthropic":
        return (f"{what}; the Anthropic SDK adds /v1/messages itself, so it would call "
                f"/{version}/v1/messages, which the gateway does not serve")
    calls = "the OpenAI SDK calls" if sdk == "openai" else "an SDK calls"
    return (f"{what}; the endpoints {calls} (/chat/completions, /embeddings, "
            "/images/generations, /responses ...) are under /v1")
