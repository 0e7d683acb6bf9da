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
from ._findings import Finding

__all__ = ["PAYLOAD_SUFFIXES", "STDIN", "Payload", "discover", "parse_payload", "read_payload"]

PAYLOAD_SUFFIXES = (".json", ".yaml", ".yml")
STDIN = "<stdin>"  # how standard input is named in findings and errors


@dataclass(frozen=True, slots=True)
class Payload:
    body: Any
    endpoint: str | None
    prefix: str  # JSON Pointer of the body inside the file ("" or "/body")
    endpoint_pointer: str = ""  # where the envelope names the endpoint ("/endpoint", "/url")

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
    if path == "-":
        text = stdin_text or ""
        kind = "yaml" if text.lstrip()[:1] not in ("{", "[") else "json"
        path = STDIN
    else:
        p = Path(path)
        try:
            if p.is_dir():
                raise PayloadError(path, "is a directory")
            data = p.read_bytes()
        except PayloadError:
            raise
        except FileNotFoundError:
            raise PayloadError(path, "no such file") from None
        except OSError as exc:
            raise PayloadError(path, f"cannot read: {exc.strerror or exc}") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PayloadError(path, f"not UTF-8 text (byte {exc.start})") from None
        kind = "yaml" if p.suffix.lower() in (".yaml", ".yml") else "json"
    return parse_payload(text, path, kind)


def parse_payload(text: str, path: str, kind: str = "json") -> Payload:
    if not text.strip():
        raise PayloadError(path, "the file is empty")
    if kind == "json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PayloadError(path, f"invalid JSON: {exc.msg}", line=exc.lineno,
                               column=exc.colno) from None
    else:
        from ._yamlio import YamlError, load_yaml, plain

        try:
            doc = plain(load_yaml(text))
        except YamlError as exc:
            raise PayloadError(path, f"invalid YAML: {exc.message}", line=exc.line,
                               column=exc.column) from None
    return _unwrap(doc)


def _unwrap(doc: Any) -> Payload:
    if isinstance(doc, dict) and isinstance(doc.get("body"), dict):
        key = "endpoint" if "endpoint" in doc else "url"
        endpoint = doc.get(key)
        if isinstance(endpoint, str):
            return Payload(doc["body"], endpoint, "/body", "/" + key)
    return Payload(doc, None, "")
