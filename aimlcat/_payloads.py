"""Reading request payload files: JSON or YAML, a bare body or an envelope.

An envelope is an object with a ``body`` object and an ``endpoint`` or ``url``
(other keys, such as an OpenAI Batch line's ``custom_id`` and ``method``, are
allowed). Pointers in findings about an envelope's body are prefixed with
``/body`` so they point into the file as written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ._exceptions import PayloadError
from ._findings import RULES, Finding, escape_pointer

__all__ = ["PAYLOAD_SUFFIXES", "STDIN", "Payload", "discover", "load_json", "parse_payload",
           "read_payload"]

PAYLOAD_SUFFIXES = (".json", ".yaml", ".yml")
STDIN = "<stdin>"  # how standard input is named in findings and errors


@dataclass(frozen=True, slots=True)
class Payload:
    body: Any
    endpoint: str | None
    prefix: str  # JSON Pointer of the body inside the file ("" or "/body")
    endpoint_pointer: str = ""  # where the envelope names the endpoint ("/endpoint", "/url")
    #: Findings about the file's text itself (duplicate keys), pointing into the file.
    file_findings: tuple[Finding, ...] = ()

    def in_file(self, finding: Finding) -> Finding:
        """The finding re-pointed from the body into the file as written."""
        if not self.prefix:
            return finding
        if not finding.pointer and self.endpoint_pointer:
            return replace(finding, pointer=self.endpoint_pointer)  # about the endpoint named
        fix = finding.fix
        if fix is not None:
            fix = {k: (self.prefix + v if k in ("path", "from") else v) for k, v in fix.items()}
        return replace(finding, pointer=self.prefix + finding.pointer, fix=fix)


def discover(paths: list[str]) -> Iterator[str]:
    """Expand directories into the payload files below them (sorted, hidden entries skipped).

    Paths that do not exist are yielded as they are, so the reader reports them."""
    for raw in paths:
        if raw == "-":
            yield raw
            continue
        p = Path(raw)
        if p.is_dir():
            found = []
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in files:
                    if f.endswith(PAYLOAD_SUFFIXES) and not f.startswith("."):
                        found.append(os.path.join(root, f))
            yield from sorted(found)
        else:
            yield raw


def read_payload(path: str, *, stdin_text: str | None = None) -> Payload:
    """Read and parse one payload file (``-`` reads ``stdin_text``)."""
    data: bytes | str
    if path == "-":
        data = stdin_text or ""
        kind = "yaml" if data.lstrip()[:1] not in ("{", "[") else "json"
        path = STDIN
    else:
        # Plain open(), not pathlib: this runs once per file of a large lint.
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            raise PayloadError(path, "no such file") from None
        except IsADirectoryError:
            raise PayloadError(path, "is a directory") from None
        except OSError as exc:
            raise PayloadError(path, f"cannot read: {exc.strerror or exc}") from None
        kind = "yaml" if path.lower().endswith((".yaml", ".yml")) else "json"
    return parse_payload(data, path, kind)


def parse_payload(data: bytes | str, path: str, kind: str = "json") -> Payload:
    """Parse a payload's text (bytes are read as UTF-8, a BOM allowed)."""
    if isinstance(data, bytes) and data.startswith(_BOM):
        data = data[len(_BOM):]
    if not data.strip():
        raise PayloadError(path, "the file is empty")
    if kind == "json":
        doc, found = load_json(data, path)
        return _unwrap(doc, found)
    if isinstance(data, bytes):
        data = _decode(data, path)
    from ._yamlio import YamlError, load_yaml, plain

    try:
        doc = plain(load_yaml(data))
    except YamlError as exc:
        raise PayloadError(path, f"invalid YAML: {exc.message}", line=exc.line,
                           column=exc.column) from None
    return _unwrap(doc, ())


_BOM = b"\xef\xbb\xbf"


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(path, f"not UTF-8 text (byte {exc.start})") from None


def load_json(data: bytes | str, path: str) -> tuple[Any, tuple[Finding, ...]]:
    """Parse JSON and report duplicate keys (AML002), which parsers resolve differently.

    The fast way: orjson parses, and re-serialising the result proves there
    was no duplicate. Outside strings every ``:`` follows a key, and strings
    keep their colons, so the text and the re-serialised object have the same
    number of colons exactly when no key was dropped, unless the text spells a
    colon as ``\\u003a``. When that cannot be ruled out, or orjson refuses the
    text, the exact way (the standard parser with a pairs hook) decides and
    names the place of each duplicate."""
    import orjson

    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    else:
        # (`b"\\" not in raw` is one memchr: most files hold no escape at all.)
        if (raw.count(b":") == orjson.dumps(doc).count(b":")
                and (b"\\" not in raw or b"\\u003" not in raw)):
            return doc, ()
    return _load_json_exact(raw, path)


class _DupDict(dict[str, Any]):
    """An object that held some keys more than once: the pairs, in order."""

    __slots__ = ("pairs",)
    pairs: list[tuple[str, Any]]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        d = _DupDict(pairs)
        d.pairs = pairs
    return d


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _load_json_exact(raw: bytes, path: str) -> tuple[Any, tuple[Finding, ...]]:
    text = _decode(raw, path)
    try:
        doc = json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise PayloadError(path, f"invalid JSON: {exc.msg}", line=exc.lineno,
                           column=exc.colno) from None
    except ValueError as exc:  # NaN, Infinity
        raise PayloadError(path, f"invalid JSON: {exc}") from None
    found: list[Finding] = []
    _duplicates(doc, "", found)
    return doc, tuple(found)


def _duplicates(node: Any, here: str, out: list[Finding]) -> None:
    if isinstance(node, _DupDict):
        counts: dict[str, list[Any]] = {}
        for k, v in node.pairs:
            counts.setdefault(k, []).append(v)
        where = f"`{here}`" if here else "the body"
        for k, values in counts.items():
            if len(values) > 1:
                shown = ", ".join(json.dumps(v, ensure_ascii=False)[:40] for v in values)
                out.append(Finding(
                    "AML002", RULES["AML002"].severity, f"{here}/{escape_pointer(k)}",
                    f"`{k}` appears {len(values)} times in {where}; parsers disagree on "
                    "which one counts", f"Keep one. Values given, in order: {shown}."))
    if isinstance(node, dict):
        for k, v in node.items():
            _duplicates(v, f"{here}/{escape_pointer(k)}", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _duplicates(v, f"{here}/{i}", out)


def _unwrap(doc: Any, found: tuple[Finding, ...]) -> Payload:
    if isinstance(doc, dict) and isinstance(doc.get("body"), dict):
        key = "endpoint" if "endpoint" in doc else "url"
        endpoint = doc.get(key)
        if isinstance(endpoint, str):
            return Payload(doc["body"], endpoint, "/body", "/" + key, found)
    return Payload(doc, None, "", "", found)
