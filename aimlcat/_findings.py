"""Findings and reports: what validation says about a request, as plain data.

A :class:`Finding` has a stable ``code`` (see :data:`RULES`), a ``severity``,
a JSON Pointer (RFC 6901) into the payload, a message, a hint and optionally a
``fix``: a JSON Patch (RFC 6902) operation that applies the safe repair.
Reporters format reports; nothing here prints.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RULES", "Example", "Finding", "Report", "Rule", "escape_pointer", "pointer_from"]

ERROR, WARNING, INFO = "error", "warning", "info"
_RANK = {ERROR: 2, WARNING: 1, INFO: 0}


@dataclass(frozen=True, slots=True)
class Example:
    """A payload file that shows a rule: its name (the suffix says how it is read) and text."""

    file: str
    text: str
    #: A private catalog file (YAML, as under ``extra-catalogs``) the example needs,
    #: for rules the bundled catalog has no model to show with.
    catalog: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A finding code: what it means, why it matters, and a bad and a good example.

    ``aimlcat rule CODE`` and ``docs/rules.md`` are made from these; a test
    lints every example and checks the bad one gives the code and the good
    one does not."""

    code: str
    name: str
    severity: str
    summary: str
    help: str = ""
    bad: Example | None = None
    good: Example | None = None
    #: What ``aimlcat lint --fix`` does about it, when it does something.
    fix: str | None = None


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {r.code: r for r in rules}


def _ex(file: str, text: str, catalog: str | None = None) -> Example:
    return Example(file, text, catalog)


#: A private catalog file for the two rules no bundled model shows (see Example.catalog).
_PRIVATE_CHAT = """\
developer: Example Labs
kind: chat
models:
  example/old-chat:
    status: deprecated
    status_since: 2026-01-02
    replacement: gpt-4o
    endpoints:
      - family: openai-chat
  example/beta-chat: {}
"""

_HELLO = '[{"role": "user", "content": "Hello"}]'

#: Every finding code, grouped by hundreds: 0xx payload, 1xx model, 2xx endpoint,
#: 3xx parameters, 4xx values. Codes are stable: never reuse or renumber one.
RULES: dict[str, Rule] = _rules(
    Rule("AML001", "payload-not-object", ERROR, "The request body is not a JSON object.",
         "A request body is a JSON object such as `{\"model\": ..., ...}`. A file holding an "
         "array, a string or a number is no request; several requests belong in a JSON Lines "
         "file, one per line.",
         _ex("request.json", '["gpt-4o", "Hello"]\n'),
         _ex("request.json", '{"model": "gpt-4o", "messages": ' + _HELLO + '}\n')),
    Rule("AML002", "duplicate-key", ERROR,
         "A key appears twice in one object; parsers disagree on which value counts.",
         "JSON leaves a repeated key undefined: Python and most servers keep the last value, "
         "some parsers the first, some refuse the body. Which value the model sees depends on "
         "the server that reads it. Keep one.",
         _ex("request.json", '{\n  "model": "gpt-4o",\n  "messages": ' + _HELLO + ',\n'
             '  "temperature": 0.2,\n  "temperature": 0.9\n}\n'),
         _ex("request.json", '{\n  "model": "gpt-4o",\n  "messages": ' + _HELLO + ',\n'
             '  "temperature": 0.2\n}\n')),
    Rule("AML003", "bad-line", ERROR,
         "A line of a JSON Lines file (request log, batch file) is not JSON.",
         "In a JSON Lines file (a request log, an OpenAI Batch input file) each line is one "
         "JSON value. A line cut short, or a pretty-printed object spread over several lines, "
         "is reported on its own line; the other lines are still checked.",
         _ex("batch.jsonl",
             '{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", '
             '"body": {"model": "gpt-4o", "messages": ' + _HELLO + '}}\n'
             '{"custom_id": "2", "method": "POST", "url": "/v1/chat/completions", '
             '"body": {"model": "gpt-4o", "messages": \n'),
         _ex("batch.jsonl",
             '{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", '
             '"body": {"model": "gpt-4o", "messages": ' + _HELLO + '}}\n'
             '{"custom_id": "2", "method": "POST", "url": "/v1/chat/completions", '
             '"body": {"model": "gpt-4o", "messages": ' + _HELLO + '}}\n')),
    Rule("AML101", "missing-model", ERROR, "The body names no `model`.",
         "Every request names the model that serves it; without one the gateway cannot route "
         "it and aimlcat cannot check anything else. `aimlcat models` lists the ids.",
         _ex("request.json", '{"messages": ' + _HELLO + '}\n'),
         _ex("request.json", '{"model": "gpt-4o", "messages": ' + _HELLO + '}\n')),
    Rule("AML102", "unknown-model", ERROR, "The model id is not in the catalog.",
         "The id is neither a model nor an alias the catalog knows, often a typo or another "
         "provider's spelling. The hint names the closest known id.",
         _ex("request.json", '{"model": "gpt-4.0", "messages": ' + _HELLO + '}\n'),
         _ex("request.json", '{"model": "gpt-4o", "messages": ' + _HELLO + '}\n')),
    Rule("AML103", "removed-model", ERROR, "The model is no longer served by the gateway.",
         "The gateway has retired the model: requests fail or are routed elsewhere. The "
         "message gives the date; the hint names the replacement, or how to find a live "
         "model of the same kind.",
         _ex("request.json", '{"model": "dall-e-3", "prompt": "A lighthouse at dusk"}\n'),
         _ex("request.json", '{"model": "flux/dev", "prompt": "A lighthouse at dusk"}\n')),
    Rule("AML104", "deprecated-model", WARNING, "The model still works but is being retired.",
         "The model is still served, but the gateway has announced its retirement. The rest "
         "of the body is checked as usual; plan the move to the replacement the hint names. "
         "(The example uses a private catalog entry: no bundled model is deprecated today.)",
         _ex("request.json", '{"model": "example/old-chat", "messages": ' + _HELLO + '}\n',
             _PRIVATE_CHAT),
         _ex("request.json", '{"model": "gpt-4o", "messages": ' + _HELLO + '}\n',
             _PRIVATE_CHAT)),
    Rule("AML105", "parameters-not-documented", INFO,
         "The catalog knows the model but not its parameters; only the model is checked.",
         "The catalog lists the model (so its id is right) but not its parameters, so the "
         "body cannot be checked. This is a note, not a failure: it says how far the check "
         "went. (The example uses a private catalog entry.)",
         _ex("request.json", '{"model": "example/beta-chat", "messages": ' + _HELLO + '}\n',
             _PRIVATE_CHAT),
         _ex("request.json", '{"model": "gpt-4o", "messages": ' + _HELLO + '}\n',
             _PRIVATE_CHAT)),
    Rule("AML201", "wrong-endpoint", ERROR, "The model is not served on this endpoint.",
         "The envelope (or `--endpoint`) names an endpoint the model is not served on; the "
         "gateway would refuse the request or pass it to a model that reads it differently. "
         "The hint names the model's endpoints.",
         _ex("request.json", '{\n  "endpoint": "/v1/images/generations",\n  "body": '
             '{"model": "gpt-4o", "messages": ' + _HELLO + '}\n}\n'),
         _ex("request.json", '{\n  "endpoint": "/v1/chat/completions",\n  "body": '
             '{"model": "gpt-4o", "messages": ' + _HELLO + '}\n}\n')),
    Rule("AML202", "ambiguous-endpoint", WARNING,
         "The model has several endpoints and the body does not say which; pass one.",
         "The model is served on several endpoints that take bodies like this one, so "
         "aimlcat cannot tell which rules apply and checks no further. Name the endpoint: "
         "an envelope with `endpoint` (or `url`), `--endpoint`, or `endpoint` in the "
         "configuration.",
         _ex("request.json", '{"model": "anthropic/claude-sonnet-5", "messages": ' + _HELLO
             + ', "max_tokens": 256}\n'),
         _ex("request.json", '{\n  "endpoint": "/v1/messages",\n  "body": {"model": '
             '"anthropic/claude-sonnet-5", "messages": ' + _HELLO
             + ', "max_tokens": 256}\n}\n')),
    Rule("AML203", "legacy-endpoint", WARNING, "The endpoint has been replaced by another.",
         "The endpoint still answers but has been replaced; the hint says where to send the "
         "body and what changes there.",
         _ex("request.json",
             '{\n  "url": "https://api.aimlapi.com/v2/generate/video/kling/generation",\n'
             '  "body": {"model": "kling-video/v1.6/pro/image-to-video", "image_url": '
             '"https://example.com/frame.jpg", "prompt": "Leaves swirl"}\n}\n'),
         _ex("request.json",
             '{\n  "url": "https://api.aimlapi.com/v2/video/generations",\n'
             '  "body": {"model": "kling-video/v1.6/pro/image-to-video", "image_url": '
             '"https://example.com/frame.jpg", "prompt": "Leaves swirl"}\n}\n')),
    Rule("AML204", "unknown-endpoint", ERROR, "The endpoint is not one the gateway serves.",
         "The endpoint path (or URL) is not one the gateway serves; paths may be given with "
         "or without the `/v1` base, or as full URLs. The hint names the closest one.",
         _ex("request.json", '{\n  "endpoint": "/v1/chat/completion",\n  "body": '
             '{"model": "gpt-4o", "messages": ' + _HELLO + '}\n}\n'),
         _ex("request.json", '{\n  "endpoint": "/v1/chat/completions",\n  "body": '
             '{"model": "gpt-4o", "messages": ' + _HELLO + '}\n}\n')),
    Rule("AML301", "unsupported-parameter", ERROR,
         "The model does not take this parameter on this endpoint; the gateway ignores it.",
         "The gateway accepts unknown keys silently, so a typo, or a parameter another model "
         "uses, costs a request that does not do what was meant. The hint suggests the "
         "parameter this model uses (a synonym it calls differently, or the closest name), "
         "or the models that do take it.",
         _ex("request.yaml", "model: flux/dev\nprompt: a red bicycle against a white wall\n"
             "cfg_scale: 7\n"),
         _ex("request.yaml", "model: flux/dev\nprompt: a red bicycle against a white wall\n"
             "guidance_scale: 7\n")),
    Rule("AML302", "deprecated-parameter", WARNING,
         "The parameter still works on this model but should be migrated.",
         "A deprecation belongs to one model on one endpoint: `max_tokens` is deprecated on "
         "OpenAI chat models that take `max_completion_tokens`, and it is the limit itself on "
         "/v1/messages. The message says what to use instead.",
         _ex("request.json", '{\n  "model": "gpt-4o",\n  "messages": ' + _HELLO + ',\n'
             '  "max_tokens": 512\n}\n'),
         _ex("request.json", '{\n  "model": "gpt-4o",\n  "messages": ' + _HELLO + ',\n'
             '  "max_completion_tokens": 512\n}\n'),
         "renames the key (or removes it, or sets the new value) where it stands"),
    Rule("AML303", "removed-parameter", ERROR,
         "The model used to take this parameter; it is now ignored.",
         "The model took this parameter once; the gateway now drops it silently. The message "
         "gives the date, the hint what to do instead.",
         _ex("request.json", '{\n  "model": "o3-mini",\n  "messages": ' + _HELLO + ',\n'
             '  "temperature": 0.2\n}\n'),
         _ex("request.json", '{\n  "model": "o3-mini",\n  "messages": ' + _HELLO + ',\n'
             '  "reasoning_effort": "low"\n}\n'),
         "removes the key (the gateway ignores it, so nothing changes)"),
    Rule("AML401", "wrong-type", ERROR, "A value has the wrong JSON type.",
         "A value is a string where a number is wanted (or the other way round, and so on). "
         "Some servers coerce, others refuse or ignore the value.",
         _ex("request.json", '{"model": "text-embedding-3-small", "input": "hello", '
             '"dimensions": "256"}\n'),
         _ex("request.json", '{"model": "text-embedding-3-small", "input": "hello", '
             '"dimensions": 256}\n')),
    Rule("AML402", "out-of-range", ERROR, "A number is outside the allowed range.",
         "The number is below the minimum or above the maximum the model documents; the hint "
         "gives the range.",
         _ex("request.json", '{"model": "gpt-4o", "messages": ' + _HELLO
             + ', "temperature": 3}\n'),
         _ex("request.json", '{"model": "gpt-4o", "messages": ' + _HELLO
             + ', "temperature": 0.7}\n')),
    Rule("AML403", "not-allowed-value", ERROR, "A value is not one of the allowed values.",
         "The parameter takes a fixed set of values; the message lists them and the hint "
         "suggests the closest.",
         _ex("request.json", '{"model": "kling-video/v1.6/pro/image-to-video", "image_url": '
             '"https://example.com/frame.jpg", "prompt": "Leaves swirl", "duration": 7}\n'),
         _ex("request.json", '{"model": "kling-video/v1.6/pro/image-to-video", "image_url": '
             '"https://example.com/frame.jpg", "prompt": "Leaves swirl", "duration": 5}\n')),
    Rule("AML404", "missing-required", ERROR, "A required parameter or field is missing.",
         "The model needs this parameter (or a nested object needs this field). Its position "
         "in a file is that of the object that should hold it.",
         _ex("request.json", '{"model": "gpt-4o", "max_completion_tokens": 300}\n'),
         _ex("request.json", '{"model": "gpt-4o", "messages": ' + _HELLO
             + ', "max_completion_tokens": 300}\n')),
    Rule("AML405", "bad-format", ERROR, "A string is not in the required format (URI, ...).",
         "The value must be, say, an absolute URL or a data URL; a bare file name is not one "
         "the gateway can fetch.",
         _ex("request.json", '{"model": "kling-video/v1.6/pro/image-to-video", '
             '"image_url": "frame.jpg", "prompt": "Leaves swirl"}\n'),
         _ex("request.json", '{"model": "kling-video/v1.6/pro/image-to-video", '
             '"image_url": "https://example.com/frame.jpg", "prompt": "Leaves swirl"}\n')),
    Rule("AML406", "constraint", ERROR,
         "A length, size, pattern or other constraint is not met.",
         "The value has the right type but breaks another documented rule: a string too short "
         "or too long, too many items, a pattern.",
         _ex("request.json", '{"model": "openai/tts-1", "text": "", "voice": "alloy"}\n'),
         _ex("request.json", '{"model": "openai/tts-1", "text": "Hello there", '
             '"voice": "alloy"}\n')),
    Rule("AML407", "unknown-field", ERROR, "A nested object has a key its shape does not allow.",
         "Like AML301, one level down: a key inside a nested object (a message, a response "
         "format) that its shape does not have. The hint names the closest allowed key or "
         "lists them.",
         _ex("request.json", '{"model": "gpt-4o", "messages": ' + _HELLO + ', '
             '"response_format": {"type": "json_object", "schema": {}}}\n'),
         _ex("request.json", '{"model": "gpt-4o", "messages": ' + _HELLO + ', '
             '"response_format": {"type": "json_object"}}\n')),
    Rule("AML408", "no-matching-shape", ERROR, "A value matches none of the accepted shapes.",
         "The value could take one of several shapes and fits none of them, often a habit "
         "from another endpoint (a chat-style content part on the Responses API).",
         _ex("request.json", '{\n  "endpoint": "/v1/responses",\n  "body": {"model": "gpt-4o", '
             '"input": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}\n}\n'),
         _ex("request.json", '{\n  "endpoint": "/v1/responses",\n  "body": {"model": "gpt-4o", '
             '"input": [{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}]}'
             '\n}\n')),
    Rule("AML409", "bad-encoded-data", ERROR,
         "Base64 data (a data URL) does not decode, has a media type the parameter does not "
         "take, or is larger than documented.",
         "Base64 data is checked the way the gateway reads it: it must decode, a data URL "
         "must say `;base64` and carry a media type the parameter takes, and the decoded size "
         "must be within the documented limit.",
         _ex("request.json", '{"model": "gpt-4o", "messages": [{"role": "user", "content": '
             '[{"type": "image_url", "image_url": {"url": "data:image/bmp;base64,Qk0="}}]}]}\n'),
         _ex("request.json", '{"model": "gpt-4o", "messages": [{"role": "user", "content": '
             '[{"type": "image_url", "image_url": {"url": '
             '"data:image/png;base64,iVBORw0KGgo="}}]}]}\n')),
)


def escape_pointer(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def pointer_from(parts: Any) -> str:
    """RFC 6901 JSON Pointer from a sequence of keys and indexes."""
    return "".join("/" + escape_pointer(p) for p in parts)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong (or worth knowing) about a request."""

    code: str
    severity: str
    pointer: str
    message: str
    hint: str | None = None
    fix: dict[str, Any] | None = None

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code, "name": RULES[self.code].name, "severity": self.severity,
            "pointer": self.pointer, "message": self.message, "hint": self.hint,
        }
        if self.fix is not None:
            out["fix"] = self.fix
        return out


@dataclass(slots=True)
class Report:
    """The findings for one request, in the order they were found."""

    model: str | None = None
    endpoint: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        """True when nothing is at error level."""
        return not any(f.severity == ERROR for f in self.findings)

    def worst(self) -> str | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=_RANK.__getitem__)

    @property
    def fixable(self) -> list[Finding]:
        return [f for f in self.findings if f.fix is not None]

    def apply_fixes(self, payload: Any) -> Any:
        """A fixed deep copy of ``payload`` (the input is never changed).

        Applies each finding's ``fix`` (a JSON Patch operation) in order; a fix
        whose source has gone or whose target exists already is skipped."""
        out = copy.deepcopy(payload)
        for f in self.findings:
            if f.fix is not None:
                _apply(out, f.fix)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "endpoint": self.endpoint,
                "findings": [f.to_dict() for f in self.findings]}


def _parse_pointer(ptr: str) -> list[str]:
    if not ptr:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in ptr[1:].split("/")]


def _parent(doc: Any, ptr: str) -> tuple[Any, str] | None:
    parts = _parse_pointer(ptr)
    if not parts:
        return None
    node = doc
    for p in parts[:-1]:
        if isinstance(node, dict) and p in node:
            node = node[p]
        elif isinstance(node, list) and p.isdigit() and int(p) < len(node):
            node = node[int(p)]
        else:
            return None
    return node, parts[-1]


def _apply(doc: Any, op: dict[str, Any]) -> None:
    kind = op.get("op")
    if kind == "remove":
        loc = _parent(doc, op["path"])
        if loc and isinstance(loc[0], dict):
            loc[0].pop(loc[1], None)
    elif kind == "replace":
        loc = _parent(doc, op["path"])
        if loc and isinstance(loc[0], dict) and loc[1] in loc[0]:
            loc[0][loc[1]] = copy.deepcopy(op["value"])
    elif kind == "move":
        src, dst = _parent(doc, op["from"]), _parent(doc, op["path"])
        if (src and dst and isinstance(src[0], dict) and isinstance(dst[0], dict)
                and src[1] in src[0] and dst[1] not in dst[0]):
            if src[0] is dst[0]:
                # Keep the key where it stood: rebuild the dict in its order.
                items = [(dst[1] if k == src[1] else k, v) for k, v in src[0].items()]
                src[0].clear()
                src[0].update(items)
            else:
                dst[0][dst[1]] = src[0].pop(src[1])
