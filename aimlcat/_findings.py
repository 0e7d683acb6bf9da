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

__all__ = ["RULES", "Finding", "Report", "Rule", "escape_pointer", "pointer_from"]

ERROR, WARNING, INFO = "error", "warning", "info"
_RANK = {ERROR: 2, WARNING: 1, INFO: 0}


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: str
    summary: str


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {r.code: r for r in rules}


#: Every finding code, grouped by hundreds: 0xx payload, 1xx model, 2xx endpoint,
#: 3xx parameters, 4xx values. Codes are stable: never reuse or renumber one.
RULES: dict[str, Rule] = _rules(
    Rule("AML001", "payload-not-object", ERROR, "The request body is not a JSON object."),
    Rule("AML002", "duplicate-key", ERROR,
         "A key appears twice in one object; parsers disagree on which value counts."),
    Rule("AML101", "missing-model", ERROR, "The body names no `model`."),
    Rule("AML102", "unknown-model", ERROR, "The model id is not in the catalog."),
    Rule("AML103", "removed-model", ERROR, "The model is no longer served by the gateway."),
    Rule("AML104", "deprecated-model", WARNING, "The model still works but is being retired."),
    Rule("AML105", "parameters-not-documented", INFO,
         "The catalog knows the model but not its parameters; only the model is checked."),
    Rule("AML201", "wrong-endpoint", ERROR, "The model is not served on this endpoint."),
    Rule("AML202", "ambiguous-endpoint", WARNING,
         "The model has several endpoints and the body does not say which; pass one."),
    Rule("AML203", "legacy-endpoint", WARNING, "The endpoint has been replaced by another."),
    Rule("AML204", "unknown-endpoint", ERROR, "The endpoint is not one the gateway serves."),
    Rule("AML301", "unsupported-parameter", ERROR,
         "The model does not take this parameter on this endpoint; the gateway ignores it."),
    Rule("AML302", "deprecated-parameter", WARNING,
         "The parameter still works on this model but should be migrated."),
    Rule("AML303", "removed-parameter", ERROR,
         "The model used to take this parameter; it is now ignored."),
    Rule("AML401", "wrong-type", ERROR, "A value has the wrong JSON type."),
    Rule("AML402", "out-of-range", ERROR, "A number is outside the allowed range."),
    Rule("AML403", "not-allowed-value", ERROR, "A value is not one of the allowed values."),
    Rule("AML404", "missing-required", ERROR, "A required parameter or field is missing."),
    Rule("AML405", "bad-format", ERROR, "A string is not in the required format (URI, ...)."),
    Rule("AML406", "constraint", ERROR,
         "A length, size, pattern or other constraint is not met."),
    Rule("AML407", "unknown-field", ERROR, "A nested object has a key its shape does not allow."),
    Rule("AML408", "no-matching-shape", ERROR, "A value matches none of the accepted shapes."),
    Rule("AML409", "bad-encoded-data", ERROR,
         "Base64 data (a data URL) does not decode, has a media type the parameter does not "
         "take, or is larger than documented."),
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
