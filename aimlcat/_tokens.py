"""Prompt tokens of a request body, bounded without a tokenizer (no download, no network).

:func:`estimate_tokens` gives three numbers and a point estimate for the prompt of a
chat, Responses, Anthropic messages, embeddings or completions body:

``lower``
    A proven lower bound for tokenizers that split text before merging, the way the
    byte-level BPE families do (GPT-2, cl100k, o200k, Llama 3, Qwen 2/3): no token
    spans whitespace between two non-whitespace characters, nor a letter-to-digit,
    digit-to-letter, digit-to-punctuation, punctuation-to-digit or
    letter-to-punctuation (apostrophe aside) step between two ASCII characters.
    Each forced boundary starts a new token, so their count plus one bounds the
    tokens of a text. (One exception is handled: o200k joins punctuation,
    newlines and ``/`` in one piece, so ``x.\\n/y`` counts one boundary fewer.) A
    text is also at least ``ceil(bytes / 128)`` tokens, 128 bytes being the longest
    token of the three vocabularies measured, and ``ceil(alphanumerics / 48)``: none of
    their tokens holds more than 41 ASCII letters and digits. Images, audio and files
    count 0. For unpublished tokenizers (Anthropic's, Google's) the same splitting is an
    assumption.
``upper``
    A proven upper bound for byte-level tokenizers (every token covers at least one
    byte of the UTF-8 text; for a tokenizer that NFC-normalises first, of the NFC
    text) and for SentencePiece with byte fallback (every piece covers at least one
    byte, plus the one dummy-prefix piece per text), plus overhead constants: per
    message (role and separators), per request (reply priming; tool-use preambles
    when tools are sent), per image part. It does not hold for tokenizers that
    normalise with NFKC (up to 18 characters from one) or whose special tokens
    outnumber these constants.
``estimate`` and ``high``
    A point estimate from character classes, fitted to the largest of three real
    tokenizers' counts (cl100k, o200k, Qwen 3.5) on English, code, JSON, eight
    other languages, numbers, whitespace runs, emoji and base64; ``high`` is
    ``1.5 × estimate`` (within ``upper``). Measured error and coverage:
    docs/tokens.md; tests/test_tokens.py measures them again.

Speed: :func:`context_findings` (the validator's check) first compares a bound it
gets from string lengths alone with the window; only a prompt that might not fit
is looked at further.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["OUTPUT_LIMIT_PARAMS", "TOKEN_PATHS", "TokenEstimate", "context_findings", "estimate_tokens",
           "output_reservation", "text_bounds"]

#: The parameters that cap a response's tokens, in the order they are looked for.
OUTPUT_LIMIT_PARAMS = ("max_completion_tokens", "max_output_tokens", "max_tokens")

# -- constants (docs/tokens.md says where each comes from) ------------------------------
MAX_TOKEN_BYTES = 128  # longest token in cl100k, o200k and Qwen 3.5 (tests check it)
MAX_TOKEN_ALNUM = 48  # most ASCII letters and digits in one of their tokens: 41 (tests check)
PER_MESSAGE = 8  # upper: chat-template tokens around one message (OpenAI: 3, +1 a name)
PER_STRING = 1  # upper: SentencePiece's dummy-prefix piece, once per text
PER_REQUEST = 16  # upper: reply priming and the like
TOOLS_PREAMBLE = 1024  # upper: a tool-use system prompt some providers add
PER_TOOL = 32  # upper: how a tool is rendered, beyond its JSON
IMAGE_UPPER = 5000  # upper: one image part
IMAGE_ESTIMATE = 800  # estimate: one image part
HIGH_FACTOR = 1.5  # high = estimate x this (coverage: docs/tokens.md)
NFC_GROWTH = 3  # UAX #15: NFC makes UTF-8 at most 3x longer

FAMILIES = {
    "/v1/chat/completions": "chat", "/v1/messages": "chat", "/v1/responses": "responses",
    "/v1/embeddings": "embeddings", "/v1/completions": "completions",
}
#: Endpoints whose bodies carry a prompt: the ones the context-window check reads.
TOKEN_PATHS = frozenset(FAMILIES)


@dataclass(frozen=True, slots=True)
class TokenEstimate:
    """The prompt tokens of a request body (see :func:`estimate_tokens`).

    ``lower <= real <= upper`` holds under the assumptions in docs/tokens.md;
    ``estimate`` is a point estimate and ``high`` its margin (1.5x)."""

    lower: int
    estimate: int
    high: int
    upper: int
    #: Image parts, counted as 0 in ``lower`` and a constant in the others.
    images: int = 0
    #: JSON Pointers of parts with no bound (audio, files, stored context): not counted.
    uncounted: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"lower": self.lower, "estimate": self.estimate, "high": self.high,
                "upper": self.upper, "images": self.images, "uncounted": list(self.uncounted)}


# -- one text ---------------------------------------------------------------------------

# \x1c-\x1f are whitespace to Python, not to the tokenizers' \s (Unicode White_Space).
_NOT_SPACE = str.maketrans("\x1c\x1d\x1e\x1f", "____")
_PUNCT = r"!-/:-@\[-`{-~"


@functools.cache
def _patterns() -> tuple[re.Pattern[str], ...]:
    """The regular expressions of the slow path, compiled on first use (import stays cheap)."""
    return (
        re.compile(r"(?<=\S)[\r\n]+/"),  # o200k's punctuation + line breaks + `/` piece
        re.compile(r"[A-Za-z](?=[0-9!-&(-/:-@\[-`{-~])|[0-9](?=[A-Za-z" + _PUNCT + r"])|["
                   + _PUNCT + r"](?=[0-9])"),  # forced breaks between ASCII classes
        re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"),
        re.compile(r"[\U00010000-\U0010ffff]"),
        re.compile(r"\s\s+|[^ \S]"),  # whitespace runs, and lone whitespace but a space
    )


_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGITS = b"0123456789"
_ASCII_SPACE = b" \t\n\r\x0b\x0c"
_HIGH_BYTES = bytes(range(128, 256))
# Fitted (non-negative least squares, relative error) to max(cl100k, o200k, Qwen 3.5).
_W_WORD, _W_STEP, _W_LETTER, _W_DIGIT, _W_PUNCT = 0.136, 0.666, 0.210, 1.063, 0.181
_W_SPACE_RUN, _W_CJK, _W_ASTRAL, _W_OTHER = 2.066, 1.043, 3.574, 0.309


#: A word as ``str.split()`` finds them (both use Python's idea of whitespace).
_WORD = re.compile(r"\S+")


def _count(pattern: re.Pattern[str], text: str) -> int:
    """How many times ``pattern`` matches in ``text``, as ``len(pattern.findall(text))``
    says, without a list of the matches: a 50 MB prompt has some ten million words,
    and their list alone took 600 MB."""
    return pattern.subn("", text)[1]


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _nfc_bytes(text: str) -> int:
    """UTF-8 bytes of the text a tokenizer sees (NFC, for those that normalise)."""
    if text.isascii():
        return len(text)
    import unicodedata

    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return len(_utf8(text))


def text_bounds(text: str) -> tuple[int, int, int]:
    """``(lower, estimate, upper)`` tokens of one text (no template, no overhead)."""
    if not text:
        return 0, 0, 0
    upper = _nfc_bytes(text) + PER_STRING
    join, step, cjk_re, astral_re, space_run = _patterns()
    plain = text.translate(_NOT_SPACE)
    words = _count(_WORD, plain)
    # (each of these matches is one ASCII character, which CPython keeps one object of:
    # the list is a pointer per match, and findall is faster than _count here)
    steps = len(step.findall(plain)) if words else 0
    raw = _utf8(text)
    letters = len(raw) - len(raw.translate(None, _LETTERS))
    digits = len(raw) - len(raw.translate(None, _DIGITS))
    lower = max(words - _count(join, plain) + steps, -(-len(raw) // MAX_TOKEN_BYTES),
                -(-(letters + digits) // MAX_TOKEN_ALNUM), 1)
    ascii_bytes = len(raw.translate(None, _HIGH_BYTES))
    spaces = ascii_bytes - len(raw.translate(None, _ASCII_SPACE + _HIGH_BYTES))
    punct = ascii_bytes - letters - digits - spaces
    cjk = astral = other = 0
    if ascii_bytes < len(raw):
        cjk = _count(cjk_re, text)
        astral = _count(astral_re, text)
        other = len(raw) - ascii_bytes - 3 * cjk - 4 * astral
    est = (_W_WORD * words + _W_STEP * steps + _W_LETTER * letters + _W_DIGIT * digits
           + _W_PUNCT * punct + _W_SPACE_RUN * _count(space_run, text) + _W_CJK * cjk
           + _W_ASTRAL * astral + _W_OTHER * max(other, 0))
    return lower, min(max(round(est), lower), upper), upper


# -- a request body -------------------------------------------------------------------------

class _Prompt:
    """What a body puts in front of the model, gathered once."""

    __slots__ = ("exact", "extra", "images", "messages", "shadow", "texts", "tools", "uncounted")

    def __init__(self) -> None:
        self.texts: list[str] = []  # text the model certainly reads
        self.extra: list[str] = []  # text it may read (roles, schemas, tool calls): not in lower
        self.shadow: list[str] = []  # text it reads that `extra` holds already: lower only
        self.messages = 0
        self.images = 0
        self.tools = 0
        self.exact = 0  # token-id arrays (embeddings, completions): exact counts
        self.uncounted: list[str] = []

    def _overhead(self) -> int:
        return (PER_STRING * (len(self.texts) + len(self.extra)) + PER_MESSAGE * self.messages
                + PER_REQUEST + (TOOLS_PREAMBLE + PER_TOOL * self.tools if self.tools else 0)
                + IMAGE_UPPER * self.images + self.exact)

    def bounds(self) -> TokenEstimate:
        # Each text is tokenized on its own, or joined with template text between; a
        # lower bound of the texts joined directly holds for either.
        lower, est, _ = text_bounds("".join(self.texts + self.shadow))
        upper = sum(map(_nfc_bytes, self.texts)) + sum(map(_nfc_bytes, self.extra))
        upper += self._overhead()
        if self.shadow:  # the estimate reads them inside `extra`
            est -= text_bounds("".join(self.shadow))[1]
        est += sum(text_bounds(s)[1] for s in self.extra)
        lower += self.exact
        est += self.exact + IMAGE_ESTIMATE * self.images
        est = min(max(est, lower), upper)
        high = min(max(round(est * HIGH_FACTOR), lower), upper)
        return TokenEstimate(lower, est, high, upper, self.images, tuple(self.uncounted))


@functools.cache
def _orjson_dumps() -> Any:
    """orjson's ``dumps``, imported on first use: most bodies never need it, and its
    import (~10 ms) would come with every ``import aimlcat._validator``."""
    import orjson

    return orjson.dumps


def _json_text(value: Any) -> str:
    try:
        return _orjson_dumps()(value).decode()  # type: ignore[no-any-return]
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return repr(value)


_TEXT_PARTS = (None, "text", "input_text", "output_text")


def _parts(p: _Prompt, content: Any, ptr: str) -> None:
    """A message's content: a string, or a list of parts (text, image, audio, file...)."""
    if content.__class__ is str:
        p.texts.append(content)
        return
    if not isinstance(content, list):
        if content is not None:
            p.extra.append(_json_text(content))
        return
    for i, part in enumerate(content):
        if part.__class__ is str:
            p.texts.append(part)
            continue
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        text = part.get("text")
        if text.__class__ is str and kind in _TEXT_PARTS:
            p.texts.append(text)
        elif kind in ("image_url", "input_image", "image"):
            p.images += 1
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            p.texts.append(part["refusal"])
        elif kind == "tool_result":
            _parts(p, part.get("content"), f"{ptr}/{i}/content")
        elif kind == "tool_use":
            p.extra.append(_json_text(part.get("input")))
            if isinstance(part.get("name"), str):
                p.extra.append(part["name"])
        elif kind == "document" and _text_source(part.get("source")):
            p.texts.append(part["source"]["data"])
        elif kind in ("thinking", "redacted_thinking"):
            p.extra.append(_json_text(part))
        else:  # audio, files, documents as data: no bound from the body
            p.uncounted.append(f"{ptr}/{i}")


def _text_source(source: Any) -> bool:
    return (isinstance(source, dict) and source.get("type") == "text"
            and isinstance(source.get("data"), str))


def _message(p: _Prompt, m: dict[str, Any], ptr: str) -> None:
    p.messages += 1
    role = m.get("role")
    if role.__class__ is str:
        p.extra.append(role)
    name = m.get("name")
    if name.__class__ is str:
        p.extra.append(name)
    content = m.get("content")
    if content is not None:
        _parts(p, content, ptr + "/content")
    if content is None or len(m) > 2:  # tool calls, audio: rarer
        calls = m.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict):
                    if isinstance(fn.get("arguments"), str):
                        p.texts.append(fn["arguments"])
                    if isinstance(fn.get("name"), str):
                        p.extra.append(fn["name"])
        fn = m.get("function_call")
        if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
            p.texts.append(fn["arguments"])
        if m.get("audio") is not None:
            p.uncounted.append(ptr + "/audio")


def _messages(p: _Prompt, messages: Any, ptr: str) -> None:
    if isinstance(messages, list):
        for i, m in enumerate(messages):
            if isinstance(m, dict):
                _message(p, m, f"{ptr}/{i}")


def _descriptions(p: _Prompt, node: Any) -> None:
    """Tool names and descriptions are rendered verbatim: they count from below too."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("description", "name") and v.__class__ is str:
                p.shadow.append(v)
            elif isinstance(v, (dict, list)):
                _descriptions(p, v)
    elif isinstance(node, list):
        for v in node:
            _descriptions(p, v)


def _tools(p: _Prompt, body: dict[str, Any]) -> None:
    for key in ("tools", "functions"):
        tools = body.get(key)
        if isinstance(tools, list) and tools:
            p.tools += len(tools)
            p.extra.append(_json_text(tools))
            _descriptions(p, tools)
    for key in ("response_format", "text"):
        fmt = body.get(key)
        if isinstance(fmt, dict):
            p.extra.append(_json_text(fmt))


def _token_ids(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(t, int) and not isinstance(t, bool)
                                           for t in value)


def _gather(body: dict[str, Any], family: str) -> list[tuple[str, _Prompt]]:
    """The prompt(s) of a body: one for a chat, one per input for embeddings."""
    p = _Prompt()
    if family == "chat":
        system = body.get("system")
        if system is not None:
            p.messages += 1
            _parts(p, system, "/system")
        _messages(p, body.get("messages"), "/messages")
        _tools(p, body)
        return [("/messages", p)]
    if family == "responses":
        if isinstance(body.get("instructions"), str):
            p.texts.append(body["instructions"])
        inp = body.get("input")
        if inp.__class__ is str:
            p.texts.append(inp)
        elif isinstance(inp, list):
            for i, item in enumerate(inp):
                _response_item(p, item, f"/input/{i}")
        if body.get("previous_response_id") is not None:
            p.uncounted.append("/previous_response_id")
        _tools(p, body)
        return [("/input", p)]
    key = "input" if family == "embeddings" else "prompt"
    value = body.get(key)
    several = isinstance(value, list) and not _token_ids(value)
    items: list[Any] = value if isinstance(value, list) and several else [value]
    out = []
    for i, item in enumerate(items):
        q = _Prompt()
        if item.__class__ is str:
            q.texts.append(item)
        elif _token_ids(item):
            q.exact = len(item)
        out.append((f"/{key}/{i}" if several else f"/{key}", q))
    return out


def _response_item(p: _Prompt, item: Any, ptr: str) -> None:
    if item.__class__ is str:
        p.texts.append(item)
        return
    if not isinstance(item, dict):
        return
    kind = item.get("type")
    if kind in (None, "message") or "role" in item:
        _message(p, item, ptr)
    elif kind == "function_call":
        if isinstance(item.get("arguments"), str):
            p.texts.append(item["arguments"])
        if isinstance(item.get("name"), str):
            p.extra.append(item["name"])
    elif kind == "function_call_output":
        _parts(p, item.get("output"), ptr + "/output")
    elif kind == "item_reference":
        p.uncounted.append(ptr)
    else:
        p.extra.append(_json_text(item))


def _size(value: Any) -> int:
    """A bound on the UTF-8 (NFC) bytes of a value's JSON text, in C (orjson)."""
    try:
        raw = _orjson_dumps()(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return 1 << 62  # not JSON: let the full count decide
    return len(raw) if raw.isascii() else NFC_GROWTH * len(raw)


def _text_size(text: str) -> int:
    return len(text) + PER_STRING if text.isascii() else 4 * NFC_GROWTH * len(text) + PER_STRING


_IMAGE_PARTS = ("image_url", "input_image", "image")  # a tuple: `type` may be unhashable
_WIDE = 4 * NFC_GROWTH  # UTF-8 bytes of one character after NFC, at most


def _quick_content(content: Any) -> int:
    """At least what :func:`_parts` gathers for ``content``, toward the upper bound."""
    if content.__class__ is str:
        return (len(content) if content.isascii() else _WIDE * len(content)) + PER_STRING
    if content.__class__ is not list:
        return 0 if content is None else _size(content)
    n = 0
    for part in content:
        if part.__class__ is dict:
            kind = part.get("type")
            text = part.get("text")
            if text.__class__ is str and kind in _TEXT_PARTS:
                n += (len(text) if text.isascii() else _WIDE * len(text)) + PER_STRING
                continue
            if kind in _IMAGE_PARTS:
                n += IMAGE_UPPER
                continue
            # tool results and calls, documents...: all of their JSON, and images inside
            n += _quick_content(part.get("content"))
        n += _size(part)
    return n


_PLAIN_BOUND: Callable[..., int | None] | None
try:  # the C twin of _quick_plain_py (aimlcat/_verdict.c), where it is built
    from ._verdict import plain_bound as _PLAIN_BOUND
except ImportError:
    _PLAIN_BOUND = None

#: Roles a valid body uses; each is counted as `_ROLE_BYTES` without measuring it.
_ROLES = frozenset({"system", "user", "assistant", "tool", "function", "developer"})
_ROLE_BYTES = 9


class _NotPlain(Exception):
    """A message the lean loop does not read: the general one does."""


def _quick_plain(items: list[Any]) -> int:
    """Messages that are all ``{"role": <a known role>, "content": <text or text and image
    parts>}``, the common case, summed in C where aimlcat's extension is built (else
    :func:`_quick_plain_py`, the same sum); anything else raises :class:`_NotPlain`."""
    if _PLAIN_BOUND is None:
        return _quick_plain_py(items)
    n = _PLAIN_BOUND(items, _ROLES, _WIDE, PER_STRING, IMAGE_UPPER, _ROLE_BYTES)
    if n is None:
        raise _NotPlain
    return n


def _quick_plain_py(items: list[Any]) -> int:
    """:func:`_quick_plain` read with as few operations as Python allows."""
    n = _ROLE_BYTES * len(items)
    try:
        for m in items:
            if len(m) != 2 or m["role"] not in _ROLES:
                raise _NotPlain
            content = m["content"]
            if content.__class__ is str:
                n += len(content) if content.isascii() else _WIDE * len(content)
                continue
            for part in content:
                if len(part) != 2:
                    raise _NotPlain
                kind = part["type"]
                if kind == "text":
                    text = part["text"]
                    if text.__class__ is not str:
                        raise _NotPlain
                    n += (len(text) if text.isascii() else _WIDE * len(text)) + PER_STRING
                elif kind == "image_url":
                    n += IMAGE_UPPER
                else:
                    raise _NotPlain
    except (KeyError, TypeError, AttributeError):
        raise _NotPlain from None
    return n


def _quick_items(items: list[Any]) -> int:
    """:func:`_quick_plain` for any list of messages or Responses items."""
    n = 0
    for m in items:
        if m.__class__ is not dict:
            n += _quick_content([m])
            continue
        role = m.get("role")
        if len(m) == 2 and role.__class__ is str and "content" in m:
            n += (len(role) if role.isascii() else _WIDE * len(role)) + _quick_content(
                m["content"])
            continue
        # tool calls, outputs, names: all of its JSON (and images inside)
        n += _size(m) + _quick_content(m.get("content")) + _quick_content(m.get("output"))
    return n


def quick_upper(body: dict[str, Any], family: str) -> int:
    """A bound at least :meth:`_Prompt.bounds`' upper bound from lengths alone: what the
    valid path pays. A text counts its characters (x12 when not ASCII: 4 bytes each, and
    NFC at most triples UTF-8); anything else its JSON length (orjson, in C), which holds
    every text inside it, quoted; images their constant."""
    n = PER_REQUEST
    if family == "chat" or family == "responses":
        items = body.get("messages") if family == "chat" else body.get("input")
        if items.__class__ is list:
            n += (PER_MESSAGE + 2 * PER_STRING) * len(items)
            try:
                n += _quick_plain(items)
            except _NotPlain:
                n += _quick_items(items)
        elif items is not None:
            n += _quick_content(items)
        if "system" in body or "instructions" in body:
            for key in ("system", "instructions"):
                if key in body:
                    n += PER_MESSAGE + _quick_content(body[key])
        tools = body.get("tools")
        if (tools is not None or "response_format" in body or "functions" in body
                or "text" in body):  # one orjson call for all of them
            functions = body.get("functions")
            n += _size([tools, functions, body.get("response_format"), body.get("text")])
            for value in (tools, functions):
                if value.__class__ is list and value:
                    n += TOOLS_PREAMBLE + PER_TOOL * len(value)
        return n
    value = body.get("input" if family == "embeddings" else "prompt")
    if value.__class__ is str:
        return _text_size(value) + n
    if value.__class__ is not list:
        return n
    if _token_ids(value):
        return len(value) + n
    return max((len(v) if v.__class__ is list else _size(v) for v in value), default=0) + n


def _family(endpoint: str | None, body: dict[str, Any]) -> str | None:
    if endpoint is not None:
        path = "/" + endpoint.split("://", 1)[-1].split("?", 1)[0].strip("/")
        if "://" in endpoint:
            path = "/" + path.lstrip("/").partition("/")[2]
        for suffix, family in FAMILIES.items():
            if path == suffix or path == suffix[3:] or path.endswith(suffix):
                return family
        return None
    if "messages" in body:
        return "chat"
    if "prompt" in body:
        return "completions"
    if "input" in body:
        inp = body["input"]
        if "instructions" in body or (isinstance(inp, list) and any(
                isinstance(x, dict) for x in inp)):
            return "responses"
        return "embeddings"
    return None


def estimate_tokens(body: Any, model: str | None = None,
                    endpoint: str | None = None) -> TokenEstimate:
    """Bounds on the prompt tokens of a request ``body``, offline and without a tokenizer.

    ``endpoint`` (a path or URL) says how to read the body; without it, the model's
    only text endpoint in the catalog, else the body's keys (``messages``: chat,
    ``input``: Responses or embeddings, ``prompt``: completions). ``model`` defaults
    to the body's. For embeddings and completions with several inputs the figures
    are totals. Raises ``TypeError`` for a body that is not an object and
    ``ValueError`` when the endpoint takes no prompt."""
    if not isinstance(body, dict):
        raise TypeError(f"a request body is a JSON object, not {type(body).__name__}")
    if endpoint is None:
        name = model if model is not None else body.get("model")
        if isinstance(name, str):
            from ._catalog import load_catalog

            cat = load_catalog()
            mid = cat.resolve(name)
            if mid is not None:
                known = [e for e in cat.model_record(mid)["endpoints"] if e in FAMILIES]
                if len(known) == 1:
                    endpoint = known[0]
    family = _family(endpoint, body)
    if family is None:
        raise ValueError(f"no prompt to count on {endpoint}" if endpoint else
                         "the body has no `messages`, `input` or `prompt`; pass the endpoint")
    parts = [p.bounds() for _, p in _gather(body, family)]
    return TokenEstimate(
        sum(e.lower for e in parts), sum(e.estimate for e in parts), sum(e.high for e in parts),
        sum(e.upper for e in parts), sum(e.images for e in parts),
        tuple(u for e in parts for u in e.uncounted))


# -- the finding -----------------------------------------------------------------------------

def output_reservation(body: dict[str, Any], params: dict[str, Any]) -> tuple[int, str]:
    """Tokens the response may take, and their name for a message: the body's own limit,
    else the largest value the model's limit parameter takes (a schema ``maximum``, where
    the catalog has one), else 0 (the window must hold the prompt alone)."""
    for name in OUTPUT_LIMIT_PARAMS:
        value = body.get(name)
        if value is not None and _limit(value):
            return int(value), f"`{name}` {int(value):,}"
    for name in OUTPUT_LIMIT_PARAMS:
        summary = params.get(name)
        if summary is not None and "deprecated" not in summary:
            bound = summary.get("maximum")
            if isinstance(bound, int) and bound > 0:
                return bound, f"the model's largest `{name}` {bound:,}"
    return 0, ""


def _limit(value: Any) -> bool:
    """An output limit the body sets: any finite number from 0 up. A huge one is still the
    body's limit (``reserve`` takes it as it is, and the window check must say so)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
            and value != math.inf)


def reserve(body: dict[str, Any], params: dict[str, Any]) -> int:
    """:func:`output_reservation`'s number alone, without words (the valid path)."""
    for name in OUTPUT_LIMIT_PARAMS:
        value = body.get(name)
        if value is not None:
            if value.__class__ is int and value >= 0:
                return int(value)
            break
    return output_reservation(body, params)[0]


def plainly_fits(body: dict[str, Any], family: str, window: int,
                 params: dict[str, Any]) -> bool:
    """The cheap test :func:`context_findings` starts with (and the validator's lane uses
    alone): the prompt's length bound plus the output reservation fit in ``window``."""
    try:
        return quick_upper(body, family) <= window - (
            0 if family == "embeddings" else reserve(body, params))
    except RecursionError:  # nested thousands deep: context_findings decides
        return False


def context_findings(body: dict[str, Any], path: str, window: int, params: dict[str, Any],
                     shown: str) -> list[tuple[str, str, str, str]]:
    """AML510 / AML511 for a body whose model has a ``window``-token context:
    ``(code, pointer, message, hint)`` each. Cheap when the prompt plainly fits."""
    family = FAMILIES.get(path)
    if family is None or plainly_fits(body, family, window, params):
        return []
    reserved = 0 if family == "embeddings" else reserve(body, params)
    room = window - reserved
    try:
        units = [(ptr, prompt.bounds()) for ptr, prompt in _gather(body, family)]
    except RecursionError:  # nested thousands deep: AML004 says so already
        return []
    reason = output_reservation(body, params)[1] if reserved else ""
    out: list[tuple[str, str, str, str]] = []
    for ptr, est in units:
        if est.upper <= room or est.high <= room:
            continue
        what = "the input" if family == "embeddings" else "the prompt"
        plus = f", plus {reason}," if reason else ""
        skipped = (f" Not counted: {len(est.uncounted)} part(s) with no bound from the "
                   f"body ({', '.join(est.uncounted[:3])})." if est.uncounted else "")
        lower_it = " (or lower the output limit)" if reserved else ""
        if est.lower > room:
            code = "AML510"
            with_ = f"; with {reason} that is" if reason else ","
            message = (f"{what} is at least {_tokens(est.lower)} (a bound from its text){with_} "
                       f"more than {shown}'s {window:,}-token context window")
            hint = f"Shorten or split it{lower_it}; the estimate is {_tokens(est.estimate)}."
        else:
            code = "AML511"
            message = (f"{what} may not fit: about {_tokens(est.estimate)} (estimated; at least "
                       f"{est.lower:,}){plus} against {shown}'s {window:,}-token context window")
            hint = ("The count depends on the model's tokenizer: count it with that tokenizer, "
                    f"or leave more room{lower_it}.")
        out.append((code, ptr, message, hint + skipped))
    return out


def _tokens(n: int) -> str:
    return f"{n:,} token" + ("" if n == 1 else "s")
