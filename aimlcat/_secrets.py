"""API keys in request files: find them, and never print them.

Keys do not belong in payload files (they end up in repositories and CI
logs), and a report must never repeat one. :func:`find_secrets` gives the
AML005 findings for a parsed file; :func:`redact` masks anything key-shaped
in text that quotes a payload (a finding's message or hint);
:func:`redact_known` masks a key known by value (the one a request carries),
in every form a message can hold it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from typing import Any

from ._findings import RULES, Finding, escape_pointer

__all__ = ["REDACTED", "find_secrets", "redact", "redact_known", "redact_pointer",
           "redact_source"]

#: Field names that carry credentials, in the spellings clients use.
_SECRET_NAMES = frozenset({
    "api_key", "apikey", "api-key", "apiKey", "ApiKey", "API_KEY", "API-KEY", "Api-Key",
    "x-api-key", "X-Api-Key", "X-API-Key", "X-API-KEY",
    "authorization", "Authorization", "AUTHORIZATION", "proxy-authorization",
    "Proxy-Authorization", "access_token", "accessToken", "bearer", "Bearer",
    "secret_key", "secretKey", "client_secret", "clientSecret",
})
#: What keys look like: OpenAI-style ``sk-`` keys (also sk-proj-, sk-ant- ...) and
#: bearer tokens. Long enough that ordinary words never match.
_KEY_SHAPE = re.compile(r"\b(sk-[A-Za-z0-9_-]{16,}|Bearer\s+[A-Za-z0-9._~+/=-]{16,})")
_KEY_PREFIXES = ("sk-", "Bearer ")


def redact(text: str) -> str:
    """``text`` with every key-shaped token masked (its first characters kept)."""
    if "sk-" not in text and "Bearer" not in text:
        return text
    return _KEY_SHAPE.sub(lambda m: m.group(0)[:6] + "…[redacted]", text)


#: A credential-named member as JSON or YAML writes it, up to the end of its value: a
#: quoted string, or a plain scalar up to a comma, a closing bracket, a comment or the
#: end of the line.
_NAMED_VALUE = re.compile(
    r"""(?P<key>(?<!\w)(?P<q>["']?)(?:""" + "|".join(sorted(map(re.escape, _SECRET_NAMES), key=len,
                                                     reverse=True))
    + r""")(?P=q)[ \t]*:[ \t]*)(?P<value>"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'"""
    r"""|[^\s,}\]#'"](?:[^\n,}\]#]*[^\s,}\]#])?)""")


def redact_source(text: str) -> str:
    """Payload text (a diff of it) with key-shaped tokens masked, and the value of every
    member named like a credential (``"api_key": "..."``, ``api_key: ...``) hidden, as
    the AML005 finding's "its value is not shown" promises."""
    return _NAMED_VALUE.sub(_hide_value, redact(text))


def _hide_value(m: re.Match[str]) -> str:
    value = m.group("value")
    quote = value[0] if value[0] in "\"'" else ""
    return f"{m.group('key')}{quote}…[redacted]{quote}"


def redact_pointer(pointer: str) -> str:
    """A JSON Pointer with every key-shaped token masked, looked for in each segment as
    written unescaped (``~1sk-...`` has no word boundary before the key)."""
    if "sk-" not in pointer and "Bearer" not in pointer:
        return pointer
    return "/".join(escape_pointer(redact(part.replace("~1", "/").replace("~0", "~")))
                    for part in pointer.split("/"))


REDACTED = "[redacted]"
#: The mark a quote cut short ends with (aimlcat's messages cut long values with it).
_CUT = "…"
#: The fewest leading characters of a key, before a cut, that are masked.
_MIN_CUT = 4


@functools.lru_cache(maxsize=64)
def _forms(secret: str) -> tuple[str, ...]:
    """``secret`` as a text can hold it: as it is, JSON-escaped, as a Python repr (of the
    str and of its UTF-8 bytes: error messages quote header values so) and as a JSON
    Pointer segment. Longest first, so a form is masked before a part of it."""
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             repr(secret)[1:-1], repr(secret.encode("utf-8", "surrogatepass"))[2:-1],
             secret.replace("~", "~0").replace("/", "~1")}
    return tuple(sorted(forms, key=len, reverse=True))


@functools.lru_cache(maxsize=64)
def _cut_short(secret: str) -> re.Pattern[str]:
    """A quote cut short (``…``) that ends in the start of one of ``secret``'s forms."""
    starts = {form[:n] for form in _forms(secret) for n in range(_MIN_CUT, len(form))}
    pattern = "|".join(re.escape(p) for p in sorted(starts, key=len, reverse=True))
    return re.compile(f"(?:{pattern}){_CUT}")


def redact_known(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` replaced by ``[redacted]``, in any of its
    :func:`_forms`, and with a quote cut short that ends in the start of one (at least
    four characters, then ``…``) masked the same way."""
    for secret in secrets:
        if not secret:
            continue
        for form in _forms(secret):
            if form in text:
                text = text.replace(form, REDACTED)
        if _CUT in text:
            text = _cut_short(secret).sub(REDACTED + _CUT, text)
    return text


def find_secrets(doc: Any, serialized: bytes | None = None) -> list[Finding]:
    """AML005 findings for credentials in a parsed file.

    Looked for where clients put them: the top of the file, the body of an
    envelope, and an envelope's ``headers``: fields named like credentials,
    and values shaped like keys. This runs once per file of a large lint, so
    it looks at those keys and values only (set operations and a prefix test;
    scanning all text of every file would cost as much as validating it).
    Nested text is not searched, but whatever a report quotes is redacted.

    ``serialized``, the document as compact JSON when the caller has it (the
    duplicate-key check makes it), lets most files skip the look at values:
    a string value starting ``sk-`` or ``Bearer `` is written ``"sk-`` or
    ``"Bearer `` there, and one search in C rules both out."""
    if not isinstance(doc, dict):
        return []
    body, headers = doc.get("body"), doc.get("headers")
    if not isinstance(body, dict):
        body = None
    if not isinstance(headers, dict):
        headers = None
    # (`b"B" in` is one memchr, much faster than a search for a longer pattern, and most
    # request bodies hold no capital B.)
    values = serialized is None or b'"sk-' in serialized \
        or (b"B" in serialized and b'"Bearer ' in serialized)
    if not values and doc.keys().isdisjoint(_SECRET_NAMES) \
            and (body is None or body.keys().isdisjoint(_SECRET_NAMES)) \
            and (headers is None or headers.keys().isdisjoint(_SECRET_NAMES)):
        return []  # most files: nothing named like a credential, nothing shaped like a key
    out: list[Finding] = []
    places: list[tuple[str, dict[str, Any]]] = [("", doc)]
    if body is not None:
        places.append(("/body", body))
    if headers is not None:
        places.append(("/headers", headers))
    for here, obj in places:
        named = not obj.keys().isdisjoint(_SECRET_NAMES)
        if not (named or values):
            continue
        for k, v in obj.items():
            if named and k in _SECRET_NAMES and v not in (None, ""):
                out.append(_finding(f"{here}/{escape_pointer(k)}", f"`{k}` holds a credential"))
            elif isinstance(v, str) and v.startswith(_KEY_PREFIXES) and _KEY_SHAPE.match(v):
                out.append(_finding(f"{here}/{escape_pointer(redact(k))}",
                                    "this value looks like an API key"))
            elif k.startswith(_KEY_PREFIXES) and _KEY_SHAPE.match(k):
                # A key pasted where a name goes (a log that writes {key: value}).
                out.append(_finding(f"{here}/{escape_pointer(redact(k))}",
                                    "this field's name looks like an API key"))
    return out


def _finding(pointer: str, what: str) -> Finding:
    return Finding("AML005", RULES["AML005"].severity, pointer,
                   f"{what}; keys do not belong in request files (its value is not shown)",
                   "Remove it and let the client add the key: the OpenAI and Anthropic SDKs "
                   "read it from the environment (AIMLAPI_KEY or the SDK's own variable), "
                   "and the gateway takes it in the Authorization header.")
