"""``aimlcat sync``: compare the catalog with the gateway's live model list.

The only command that touches the network. It reads ``GET /v1/models`` (an
``{"object": "list", "data": [...]}`` document; each model has an ``id``, its
``aliases``, an endpoint ``type`` and an ``info`` object that carries
``contextLength`` and ``outputMax`` for text models, and, asked for with
``?include=modalities,capabilities``, what each model takes and gives and what
it can do) and reports what differs from the catalog:

- models served but missing from the catalog;
- catalog models (active or deprecated) no longer served: candidates for
  deprecation or removal; and models marked removed that are still served;
- alias mismatches: names the gateway lists for a model that the catalog does
  not, and the other way round, and names the two group differently;
- limits: the live ``contextLength`` against the catalog's ``context_window``;
  ``outputMax`` against the maximum of the model's output-limit parameter (where
  the catalog gives one) and against its context window;
- modalities and capabilities: input or output modalities one side lists and the
  other does not, and capabilities the gateway lists that the catalog lacks, or
  that the catalog gives under one of the gateway's names and the gateway does not.

Exit codes: 0 no differences, 1 differences, 2 the list could not be read (the
host is unreachable, no answer in time, an error status after the retries, an
answer that is not the model list) or a usage error. One line says which.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import urlsplit

from ._exceptions import AimlcatError
from ._tokens import OUTPUT_LIMIT_PARAMS

__all__ = ["DEFAULT_BASE_URL", "LiveModel", "SyncError", "SyncReport", "add_arguments",
           "clean_key", "cli_main", "compare", "fetch_models", "models_url", "parse_models",
           "run"]

DEFAULT_BASE_URL = "https://api.aimlapi.com"
ENV_KEY = "AIMLAPI_KEY"
BACKOFF = 0.5             # seconds before the first retry; doubled for each further one
MAX_RETRY_AFTER = 30.0    # a Retry-After longer than this is cut to it
INCLUDE = "modalities,capabilities"  # the optional sections of the list that sync compares

EXIT_OK, EXIT_DIFFERENCES, EXIT_ERROR = 0, 1, 2


class SyncError(AimlcatError):
    """The live model list could not be read; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class LiveModel:
    """One entry of the gateway's model list (only what sync compares)."""

    id: str
    aliases: tuple[str, ...] = ()
    type: str | None = None
    context_length: int | None = None
    output_max: int | None = None
    #: None when the answer has no such section (an older gateway, or no ``include``).
    input_modalities: tuple[str, ...] | None = None
    output_modalities: tuple[str, ...] | None = None
    capabilities: tuple[str, ...] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


# -- reading the list ------------------------------------------------------------------------

def models_url(base_url: str) -> str:
    """``…/v1/models`` under a base URL given with or without ``/v1`` (or the full URL)."""
    text = base_url.strip()
    if "://" not in text:
        from ._client import with_scheme  # (the one rule: http for this machine)

        raise SyncError(f"--base-url needs a scheme: {with_scheme(text)[0]}")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises for a port out of range)
    except ValueError as exc:  # "http://[::1", "http://host:99999"
        raise SyncError(f"--base-url is not a URL ({str(exc).lower()}); use one such as "
                        + DEFAULT_BASE_URL) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncError("--base-url must be an http(s) URL such as " + DEFAULT_BASE_URL)
    path = parts.path.rstrip("/").removesuffix("/models").removesuffix("/v1")
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    if ":" in parts.hostname:  # IPv6
        netloc = f"[{parts.hostname}]" + ("" if parts.port is None else f":{parts.port}")
    return f"{parts.scheme}://{netloc}{path}/v1/models"


def fetch_models(base_url: str = DEFAULT_BASE_URL, *, api_key: str | None = None,
                 timeout: float = 10.0, retries: int = 3, transport: Any = None,
                 sleep: Callable[[float], None] = time.sleep) -> tuple[str, list[LiveModel]]:
    """GET the model list; (the URL read, its models). Raises :class:`SyncError`.

    Retries on 429 and 5xx answers and on timeouts, ``retries`` times at most,
    waiting :data:`BACKOFF` seconds, then twice as long each time (or what a
    429's ``Retry-After`` asks, up to :data:`MAX_RETRY_AFTER`). A host that
    refuses the connection or cannot be resolved fails at once.

    ``timeout`` bounds each try as a whole, not each read: the answer is streamed
    and a try that has not ended ``timeout`` seconds after it began is given up
    at its next chunk (a server trickling one byte a second cannot hold it; one
    that sends nothing at all is cut by the read timeout, the same ``timeout``)."""
    import httpx

    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not math.isfinite(timeout) or timeout <= 0:
        shown = f"{timeout:g}" if isinstance(timeout, (int, float)) else repr(timeout)
        raise SyncError(f"--timeout must be a number of seconds above 0, not {shown}")
    url = models_url(base_url)
    host = urlsplit(url).netloc
    headers = {"Accept": "application/json", "User-Agent": _user_agent()}
    api_key = clean_key(api_key)
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    limits = httpx.Timeout(timeout, connect=min(timeout, 5.0))
    tries = max(0, retries) + 1
    last = ""
    wait = 0.0
    with httpx.Client(timeout=limits, headers=headers, transport=transport,
                      follow_redirects=True) as http:
        for attempt in range(tries):
            if attempt:
                sleep(wait)
            wait = BACKOFF * 2 ** attempt  # 0.5, 1, 2, ... s unless the server says
            try:
                response, content = _get(http, url, time.monotonic() + timeout)
            except (httpx.TimeoutException, _Late):
                last = f"did not answer within {timeout:g} s"
                continue
            except httpx.ConnectError as exc:
                raise SyncError(f"cannot reach {_host(exc, host)} ({_reason(exc)}); check "
                                "--base-url and the network") from None
            except httpx.HTTPError as exc:
                raise SyncError(f"{url}: the connection failed ({_reason(exc)})") from None
            except httpx.InvalidURL as exc:  # a host httpx will not send to
                raise SyncError(f"--base-url is not a URL ({exc})") from None
            status = response.status_code
            if status == 429 or status >= 500:
                last = f"answered {status} {response.reason_phrase}".rstrip()
                asked = _retry_after(response.headers.get("Retry-After"))
                if asked is not None:
                    wait = asked
                continue
            if status in (401, 403):
                why = ("the API key was refused" if api_key else
                       f"it needs an API key: set {ENV_KEY} or pass --api-key")
                raise SyncError(f"{url} answered {status} {response.reason_phrase}: {why}")
            if not 200 <= status < 300:
                hint = ": is --base-url the gateway?" if status in (404, 405) else ""
                raise SyncError(f"{url} answered {status} {response.reason_phrase}".rstrip()
                                + hint)
            return url, parse_models(_json(response, content, url), url)
    raise SyncError(f"{url} {last} ({tries} {'try' if tries == 1 else 'tries'})")


class _Late(Exception):
    """A try outlived its deadline."""


def _get(http: Any, url: str, deadline: float) -> tuple[Any, bytes]:
    """GET ``url`` (following redirects); the response and its body, read by chunks
    against a ``time.monotonic()`` ``deadline`` (:class:`_Late` past it). An error
    answer is read too, so its connection can serve the retry."""
    with http.stream("GET", url, params={"include": INCLUDE}) as response:
        chunks: list[bytes] = []
        for chunk in response.iter_bytes():
            if time.monotonic() > deadline:
                raise _Late
            chunks.append(chunk)
        if time.monotonic() > deadline:
            raise _Late
        return response, b"".join(chunks)


def _host(exc: Any, default: str) -> str:
    """The host the failed request went to (after redirects), else ``default``."""
    try:
        return str(exc.request.url.netloc.decode("ascii"))
    except (RuntimeError, AttributeError):
        return default


def clean_key(key: str | None, source: str = "the API key") -> str | None:
    """``key`` without surrounding whitespace (a pasted key often ends in a newline), or
    None when nothing is left. Raises :class:`SyncError`, never quoting the key, when it
    still cannot go into a header: a space, a control or a non-ASCII character in it."""
    if key is None:
        return None
    key = key.strip()
    if key and not (key.isascii() and key.isprintable() and " " not in key):
        raise SyncError(f"{source} holds a character an HTTP header cannot carry (a space, a "
                        "control character or a non-ASCII letter); check how it was set")
    return key or None


def _user_agent() -> str:
    from ._version import __version__

    return f"aimlcat/{__version__} (sync)"


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    if "refused" in text.lower():
        return "connection refused"
    if any(m in text.lower() for m in ("name or service not known", "nodename nor servname",
                                       "temporary failure in name resolution",
                                       "no address associated")):
        return "unknown host"
    return text.splitlines()[0][:120] if text else type(exc).__name__


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: fall back to the backoff
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _json(response: Any, content: bytes, url: str) -> Any:
    import orjson

    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        ctype = response.headers.get("Content-Type", "no Content-Type")
        raise SyncError(f"{url}: the answer is not JSON ({ctype.split(';')[0]}, "
                        f"{len(content)} bytes); is --base-url the gateway?") from None


def parse_models(doc: Any, where: str = "the answer") -> list[LiveModel]:
    """The models of a ``/v1/models`` document. Raises :class:`SyncError` on another format."""
    def bad(what: str) -> SyncError:
        return SyncError(f"{where}: not the gateway's model list: {what}")

    if not isinstance(doc, dict):
        raise bad(f"a JSON {type(doc).__name__}, not an object")
    data = doc.get("data")
    if not isinstance(data, list):
        raise bad("no `data` array")
    if doc.get("object", "list") != "list":
        raise bad(f"`object` is {doc.get('object')!r}, not \"list\"")
    if not data:
        raise SyncError(f"{where}: the gateway listed no models, so there is nothing to compare "
                        "(a filter in --base-url, or an outage?)")
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise bad(f"data[{i}] has no `id` string")
        aliases = item.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise bad(f"data[{i}] (`{item['id']}`): `aliases` is not an array of strings")
        info: dict[str, Any] = item["info"] if isinstance(item.get("info"), dict) else {}
        mods: dict[str, Any] = (item["modalities"] if isinstance(item.get("modalities"), dict)
                                else {})
        out.append(LiveModel(
            id=item["id"], aliases=tuple(a for a in aliases if a != item["id"]),
            type=item.get("type") if isinstance(item.get("type"), str) else None,
            context_length=_positive_int(info.get("contextLength")),
            output_max=_positive_int(info.get("outputMax")),
            input_modalities=_names(mods.get("input")),
            output_modalities=_names(mods.get("output")),
            capabilities=_names(item.get("capabilities"))))
    return out


def _names(value: Any) -> tuple[str, ...] | None:
    """A list of names from the answer; None when absent or not a list of strings."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return tuple(value)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


# -- comparing -----------------------------------------------------------------------------------

@dataclass
class SyncReport:
    source: str
    catalog_version: str
    served: int
    catalog_models: int
    missing: list[dict[str, Any]] = field(default_factory=list)
    not_served: list[dict[str, Any]] = field(default_factory=list)
    removed_but_served: list[dict[str, Any]] = field(default_factory=list)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    limits: list[dict[str, Any]] = field(default_factory=list)
    abilities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return (len(self.missing) + len(self.not_served) + len(self.removed_but_served)
                + len(self.aliases) + len(self.limits) + len(self.abilities))

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "catalog_version": self.catalog_version,
                "served": self.served, "catalog_models": self.catalog_models,
                "differences": self.differences, "missing": self.missing,
                "not_served": self.not_served, "removed_but_served": self.removed_but_served,
                "aliases": self.aliases, "limits": self.limits, "abilities": self.abilities}


def compare(cat: Any, live: Sequence[LiveModel], source: str = "") -> SyncReport:
    """What differs between the catalog ``cat`` and the live list ``live``."""
    report = SyncReport(source=source, catalog_version=cat.version, served=len(live),
                        catalog_models=len(cat))
    matched: dict[str, list[LiveModel]] = {}
    for m in live:
        hits = sorted({mid for n in m.names if (mid := cat.resolve(n)) is not None})
        if not hits:
            report.missing.append({"id": m.id, "aliases": list(m.aliases), "type": m.type})
            continue
        if len(hits) > 1:
            report.aliases.append({
                "id": hits[0], "gateway": list(m.names), "catalog": hits,
                "message": f"the gateway serves {', '.join(m.names)} as one model ({m.id}); "
                           f"the catalog has them as {len(hits)} models: {', '.join(hits)}"})
        for mid in hits:
            matched.setdefault(mid, []).append(m)

    for info in cat.models():
        entries = matched.get(info.id)
        if entries is None:
            if info.status != "removed":
                report.not_served.append({"id": info.id, "status": info.status})
            continue
        if info.status == "removed":
            report.removed_but_served.append({"id": info.id, "gateway": entries[0].id})
        if len(entries) > 1:
            ids = [e.id for e in entries]
            report.aliases.append({
                "id": info.id, "gateway": ids, "catalog": [info.id],
                "message": f"the gateway lists {', '.join(ids)} as {len(ids)} models; the "
                           f"catalog has them as one ({info.id})"})
            continue
        [entry] = entries
        _compare_names(report, cat, info, entry)
        _compare_limits(report, cat, info, entry)
        _compare_abilities(report, cat, info, entry)
    return report


def _compare_names(report: SyncReport, cat: Any, info: Any, entry: LiveModel) -> None:
    live_names = set(entry.names)
    cat_names = {info.id, *info.aliases}
    # A live name the catalog resolves to another model is reported once, above.
    gateway_only = sorted(n for n in live_names - cat_names if cat.resolve(n) is None)
    catalog_only = sorted(cat_names - live_names)
    if not gateway_only and not catalog_only:
        return
    parts = []
    if gateway_only:
        parts.append(f"the gateway also calls it {', '.join(gateway_only)}")
    if catalog_only:
        parts.append(f"the catalog also calls it {', '.join(catalog_only)}, the gateway does not")
    report.aliases.append({"id": info.id, "gateway_only": gateway_only,
                           "catalog_only": catalog_only, "message": "; ".join(parts)})


def _compare_limits(report: SyncReport, cat: Any, info: Any, entry: LiveModel) -> None:
    window = info.context_window
    if entry.context_length is not None and entry.context_length != window:
        report.limits.append({
            "id": info.id, "limit": "context_window", "gateway": entry.context_length,
            "catalog": window,
            "message": f"context window: gateway {entry.context_length:,}, catalog "
                       + (f"{window:,}" if window is not None else "none")})
    out = entry.output_max
    if out is None:
        return
    if window is not None and out > window:
        report.limits.append({
            "id": info.id, "limit": "output_max", "gateway": out, "catalog": window,
            "message": f"output limit: gateway {out:,} is more than the catalog's context "
                       f"window {window:,}"})
        return
    for path, ep in cat.model_record(info.id)["endpoints"].items():
        for name in OUTPUT_LIMIT_PARAMS:
            summary = ep["parameters"].get(name)
            if summary is None or "deprecated" in summary:
                continue
            bound = summary.get("maximum")
            if isinstance(bound, int) and bound != out:
                report.limits.append({
                    "id": info.id, "limit": "output_max", "gateway": out, "catalog": bound,
                    "parameter": name, "endpoint": path,
                    "message": f"output limit: gateway {out:,}, catalog `{name}` maximum "
                               f"{bound:,} on {path}"})
            break


def _compare_abilities(report: SyncReport, cat: Any, info: Any, entry: LiveModel) -> None:
    """Modalities and capabilities, where the answer lists them. A catalog capability
    the live catalogue has no name for (``json_mode``, say) is not a difference."""
    live_names = {n for n, e in getattr(cat, "capability_names", {}).items() if e.get("live")}
    for what, gateway, catalog, named in (
            ("input", entry.input_modalities, info.input_modalities, None),
            ("output", entry.output_modalities, info.output_modalities, None),
            ("capabilities", entry.capabilities, info.capabilities, live_names)):
        if gateway is None:
            continue
        gateway_only = sorted(set(gateway) - set(catalog))
        catalog_only = sorted(n for n in set(catalog) - set(gateway)
                              if named is None or n in named)
        if not gateway_only and not catalog_only:
            continue
        label = {"input": "takes", "output": "gives", "capabilities": "capabilities"}[what]
        parts = []
        if gateway_only:
            parts.append(f"gateway also {', '.join(gateway_only)}")
        if catalog_only:
            parts.append(f"catalog also {', '.join(catalog_only)}")
        report.abilities.append({"id": info.id, "what": what, "gateway_only": gateway_only,
                                 "catalog_only": catalog_only,
                                 "message": f"{label}: " + "; ".join(parts)})


# -- output ----------------------------------------------------------------------------------------

def printable(text: str) -> str:
    """``text`` safe for a terminal: every character that is not printable (newlines,
    escape sequences, bidi overrides such as U+202E) written as its Python escape. What
    the gateway sends (model ids, aliases, types) passes here before it is shown."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def write_text(report: SyncReport, out: IO[str]) -> None:
    w = out.write
    w(f"{printable(report.source)}: {report.served} models served; catalog "
      f"{report.catalog_version}: {report.catalog_models} models\n")
    sections: list[tuple[str, list[str]]] = [
        ("Served, not in the catalog",
         [m["id"] + (f"  (aliases: {', '.join(m['aliases'])})" if m["aliases"] else "")
          + (f"  [{m['type']}]" if m.get("type") else "") for m in report.missing]),
        ("In the catalog, no longer served: candidates for deprecation",
         [f"{m['id']}  ({m['status']})" for m in report.not_served]),
        ("Marked removed in the catalog, still served",
         [m["id"] for m in report.removed_but_served]),
        ("Alias mismatches", [f"{m['id']}: {m['message']}" for m in report.aliases]),
        ("Limits", [f"{m['id']}: {m['message']}" for m in report.limits]),
        ("Modalities and capabilities",
         [f"{m['id']}: {m['message']}" for m in report.abilities]),
    ]
    for title, lines in sections:
        if lines:
            w(f"\n{title} ({len(lines)}):\n")
            for line in lines:
                w(f"  {printable(line)}\n")
    n = report.differences
    w("\nNo differences.\n" if n == 0 else f"\n{n} difference{'' if n == 1 else 's'}.\n")


def write_json(report: SyncReport, out: IO[str]) -> None:
    out.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")


# -- command line ----------------------------------------------------------------------------------

def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``aimlcat sync`` (used by the main CLI and by :func:`cli_main`)."""
    p.add_argument("--base-url", default=DEFAULT_BASE_URL, metavar="URL",
                   help=f"the gateway, with or without /v1 (default {DEFAULT_BASE_URL})")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--api-key", metavar="KEY",
                   help=f"sent as a Bearer token (default: ${ENV_KEY}); never printed")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="for each try as a whole, the answer read included (default 10)")
    from ._config import whole_number

    p.add_argument("--retries", type=whole_number(0), default=3, metavar="N",
                   help="retries on 429, 5xx and timeouts, with backoff (default 3)")


def run(args: argparse.Namespace, out: IO[str], err: IO[str] | None = None) -> int:
    """Run ``aimlcat sync`` with parsed arguments; the exit code."""
    from ._catalog import load_catalog
    from ._secrets import redact_known

    err = err or sys.stderr
    given = args.api_key or os.environ.get(ENV_KEY) or None
    try:
        key = clean_key(given, "--api-key" if args.api_key else f"${ENV_KEY}")
        source, live = fetch_models(args.base_url, api_key=key, timeout=args.timeout,
                                    retries=args.retries)
    except SyncError as exc:
        message = str(exc)
        if given:
            message = redact_known(message, [given, given.strip()])
        print(f"aimlcat: sync: {printable(message)}", file=err)
        return EXIT_ERROR
    report = compare(load_catalog(), live, source)
    (write_json if args.format == "json" else write_text)(report, out)
    return EXIT_DIFFERENCES if report.differences else EXIT_OK


def cli_main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """``aimlcat sync`` on its own: parse ``argv`` (without the command name) and run."""
    p = argparse.ArgumentParser(prog="aimlcat sync", description=__doc__.splitlines()[0]
                                if __doc__ else None)
    add_arguments(p)
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:
        return EXIT_OK if exc.code in (0, None) else EXIT_ERROR
    return run(args, out or sys.stdout)
