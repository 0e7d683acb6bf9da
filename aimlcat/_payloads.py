"""Reading request payload files: JSON, YAML or JSONL, a bare body or an envelope.

An envelope is an object with a ``body`` and an ``endpoint`` or ``url`` key, or a
``body`` and no ``model`` (other keys, such as an OpenAI Batch line's ``custom_id``
and ``method``, are allowed). Pointers in findings about an envelope's body are prefixed with
``/body`` so they point into the file as written.

JSON Lines files (request logs, OpenAI Batch input; ``.jsonl``, optionally
gzip-compressed) are read one line at a time by :func:`iter_records`, so memory
stays flat however long the file is; each line is a body or an envelope, and a
line that is not JSON is a finding (AML003), not the end of the file.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ._discover import DEFAULT_SUFFIXES
from ._exceptions import PayloadError
from ._findings import RULES, Finding, escape_pointer
from ._secrets import find_secrets, redact

if TYPE_CHECKING:
    from ._positions import Span

__all__ = [
    "DEFAULT_SUFFIXES",
    "PAYLOAD_SUFFIXES",
    "STDIN",
    "BadLine",
    "Payload",
    "discover",
    "file_kind",
    "iter_records",
    "load_json",
    "named_twice",
    "parse_payload",
    "read_bytes",
    "read_payload",
]

PAYLOAD_SUFFIXES = DEFAULT_SUFFIXES  # what a directory walk picks up (the spine's name)
STDIN = "<stdin>"  # how standard input is named in findings and errors


def file_kind(path: str) -> str:
    """``json``, ``yaml`` or ``jsonl``, from the file name (``.gz`` looked through)."""
    if path.endswith(".json"):  # (most files of a lint: no lower-cased copy of the name)
        return "json"
    name = path.lower()
    name = name.removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    return "json"


#: Findings about the endpoint a body is sent to (placed on the envelope's `endpoint`/`url`).
_ENDPOINT_CODES = frozenset({"AML201", "AML203", "AML204"})


@dataclass(slots=True)
class Payload:
    """One request as read from a file (read-only by convention: not frozen, because a
    frozen dataclass costs a microsecond more to build, once per file of a large lint)."""

    body: Any
    endpoint: str | None
    prefix: str  # JSON Pointer of the body inside the file ("" or "/body")
    endpoint_pointer: str = ""  # where the envelope names the endpoint ("/endpoint", "/url")
    #: Findings about the file's text itself (duplicate keys), pointing into the file.
    file_findings: tuple[Finding, ...] = ()
    #: The text as read (a BOM removed), kept for positions and fixes.
    source: bytes | str = b""
    kind: str = "json"  # how ``source`` is written: json or yaml
    tree: Any = None  # YAML: the document with the positions _yamlio recorded
    #: The envelope object around ``body`` (None for a bare body): its other keys, such as
    #: a request log's ``timestamp``, are what ``aimlcat audit`` reads besides the body.
    envelope: Any = None
    #: An envelope naming its endpoint twice (``endpoint`` and ``url``): the second, as
    #: (pointer, text), for a check that both name the same endpoint.
    also_named: tuple[str, str] | None = None

    def in_file(self, finding: Finding) -> Finding:
        """The finding re-pointed from the body into the file as written."""
        if not self.prefix:
            return finding
        if not finding.pointer and self.endpoint_pointer and finding.code in _ENDPOINT_CODES:
            return replace(finding, pointer=self.endpoint_pointer)  # about the endpoint named
        fix = finding.fix
        if fix is not None:
            fix = {k: (self.prefix + v if k in ("path", "from") else v) for k, v in fix.items()}
        return replace(finding, pointer=self.prefix + finding.pointer, fix=fix)

    def text(self) -> str:
        """``source`` as text."""
        src = self.source
        return src if isinstance(src, str) else src.decode("utf-8", "surrogateescape")

    def spans(self, findings: Sequence[Finding]) -> list[Span]:
        """Where each finding (pointing into the file) stands in the text, in order.

        Called only for files with findings: positions cost nothing on a clean file."""
        from ._positions import json_spans, yaml_spans

        if self.kind == "yaml":
            return yaml_spans(self.tree, self.text(), [f.pointer for f in findings],
                              [f.code for f in findings])
        return json_spans(self.text(), [(f.pointer, f.code) for f in findings],
                          exact=bool(self.file_findings))


def named_twice(payload: Payload, cat: Any) -> tuple[Finding, ...]:
    """An envelope whose ``endpoint`` and ``url`` name different endpoints: AML204 on the
    second (the body is checked against the first, ``endpoint``). It needs the catalog
    (which spellings name one endpoint), so the lint and the audit ask it after reading."""
    also = payload.also_named
    if also is None or payload.endpoint is None:
        return ()
    first, second = cat.canonical_endpoint(payload.endpoint), cat.canonical_endpoint(also[1])
    if first == second:  # the same endpoint (or two unknown ones: AML204 says so already)
        return ()
    key = also[0].lstrip("/")
    named = payload.endpoint_pointer.lstrip("/")
    return (Finding("AML204", RULES["AML204"].severity, also[0],
                    f"the envelope's `{key}` names {second or also[1]} but its `{named}` "
                    f"names {first or payload.endpoint}; the body is checked against "
                    f"`{named}`",
                    "Name the endpoint once, or make both agree (in an OpenAI Batch file "
                    "every line's `url` is the batch's endpoint)."),)


def discover(paths: list[str]) -> Iterator[str]:
    """Expand directories into the payload files below them (sorted, hidden entries skipped).

    Paths that do not exist are yielded as they are, so the reader reports them.
    (No excludes: :mod:`aimlcat._discover` is the walk ``aimlcat lint`` uses.)"""
    from ._discover import Walker

    yield from Walker().files(paths)


#: The largest file (or JSON Lines line) read, unless the caller sets another limit.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


def _too_big(size: int, limit: int) -> str:
    return (f"is {size:,} bytes, over the {limit:,}-byte limit; raise it with --max-bytes "
            "or max-bytes in [tool.aimlcat] if such bodies are real")


def read_bytes(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A payload file's bytes (a ``.gz`` unpacked), or :class:`PayloadError` saying why not."""
    # os.open/os.read, not open(): no buffered file object for a file read whole, which
    # saves about half the cost of reading a small file (this runs once per file of a lint).
    # Three system calls for a file under 64 KiB (open, read, close): its size is asked
    # (fstat) only when the first read fills its buffer, which a short read never does.
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise PayloadError(path, "no such file") from None
    except IsADirectoryError:
        raise PayloadError(path, "is a directory") from None
    except OSError as exc:
        raise PayloadError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        want = _CHUNK if max_bytes >= _CHUNK else max_bytes + 1
        data = os.read(fd, want)
        if len(data) == want:  # a short read of a regular file is its end; this one may go on
            size = os.fstat(fd).st_size
            if size > max_bytes:
                raise PayloadError(path, _too_big(size, max_bytes))
            parts = [data]
            total = len(data)
            while total <= max_bytes and (chunk := os.read(fd, _CHUNK * 16)):
                total += len(chunk)
                parts.append(chunk)
            if total > max_bytes:  # a file that grew, or one with no size (a pipe)
                raise PayloadError(path, _too_big(total, max_bytes))
            data = b"".join(parts)
    except IsADirectoryError:
        raise PayloadError(path, "is a directory") from None
    except OSError as exc:
        raise PayloadError(path, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if path.endswith(".gz"):
        import gzip
        import zlib

        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                data = gz.read(max_bytes + 1)  # bounded: a small .gz may unpack huge
        except (OSError, EOFError, zlib.error) as exc:
            raise PayloadError(path, f"not a readable gzip file: {exc}") from None
        if len(data) > max_bytes:
            raise PayloadError(path, f"unpacks to more than {max_bytes:,} bytes; raise the "
                               "limit with --max-bytes or max-bytes in [tool.aimlcat]")
    return data


_CHUNK = 1 << 16


def read_payload(path: str, *, stdin_text: str | None = None,
                 kind: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Payload:
    """Read and parse one JSON or YAML payload file (``-`` reads ``stdin_text``).

    ``kind`` (json or yaml) when the caller knows it already; else from the name."""
    data: bytes | str
    if path == "-":
        data = stdin_text or ""
        kind = "yaml" if data.lstrip()[:1] not in ("{", "[") else "json"
        try:
            return parse_payload(data, STDIN, kind)
        except PayloadError as exc:
            # A second document on a line of its own: JSON Lines piped in.
            if exc.reason.startswith("invalid JSON: Extra data") and exc.column == 1:
                raise PayloadError(STDIN, f"{exc.reason}: standard input is read as one "
                                   "request; name a .jsonl file to check JSON Lines",
                                   line=exc.line, column=exc.column) from None
            raise
    else:
        data = read_bytes(path, max_bytes)
        kind = kind or file_kind(path)
    return parse_payload(data, path, kind)


def parse_payload(data: bytes | str, path: str, kind: str = "json") -> Payload:
    """Parse a payload's text (bytes are read as UTF-8, a BOM allowed)."""
    if isinstance(data, bytes) and data.startswith(_BOM):
        data = data[len(_BOM):]
    if not data or data.isspace():  # (isspace stops at the first other byte; strip copies)
        raise PayloadError(path, "the file is empty")
    if kind != "yaml":
        doc, found, again = _load_json(data, path)
        return _unwrap(doc, found, data, "json", None, again)
    if isinstance(data, bytes):
        data = _decode(data, path)
    from ._yamlio import YamlError, load_yaml, plain

    try:
        tree = load_yaml(data, allow_duplicates=True)  # a repeated key is AML002, as in JSON
    except YamlError as exc:
        raise PayloadError(path, f"invalid YAML: {exc.message}", line=exc.line,
                           column=exc.column) from None
    try:
        doc = plain(tree, budget=4 * len(data) + 1000)
    except YamlError as exc:
        raise PayloadError(path, exc.message) from None
    repeated: list[Finding] = []
    try:
        _duplicates(tree, "", repeated)
    except RecursionError:
        raise PayloadError(path, _TOO_DEEP) from None
    return _unwrap(doc, tuple(repeated), data, "yaml", tree)


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line of a JSON Lines file that is not JSON: an AML003 finding and where it broke."""

    finding: Finding
    column: int | None


def iter_records(path: str, max_bytes: int = DEFAULT_MAX_BYTES, *, start: int = 0,
                 end: int | None = None,
                 ) -> Generator[tuple[int, Payload | BadLine], None, int]:
    """The lines of a JSON Lines file, one at a time: (line number, payload or bad line).

    Blank lines are skipped (but counted). A file that cannot be opened raises
    :class:`PayloadError` before the first record; a gzip stream that breaks
    off raises it where it breaks (the records before it were yielded). The
    generator returns the number of lines it read, blank ones included.

    ``start``/``end`` read one byte range of a plain (not gzip) file, as
    ``aimlcat audit`` splits large logs: the range holds the lines that *begin*
    at an offset in ``[start, end)``, so ranges that tile a file read each line
    exactly once. Line numbers then count from the range's first line."""
    import zlib

    fh: Any = None
    stream: Any = None
    gz = path.endswith(".gz")
    if gz and (start or end is not None):
        raise ValueError("a gzip file is read whole, not by byte range")
    try:
        stream = open_binary(path)
        if gz:
            import gzip

            fh = gzip.GzipFile(fileobj=stream, mode="rb")
            fh.peek(1)  # a file that is not gzip at all fails here, as one error
        else:
            fh = stream
    except FileNotFoundError:
        raise PayloadError(path, "no such file") from None
    except IsADirectoryError:
        raise PayloadError(path, "is a directory") from None
    except (OSError, EOFError, zlib.error) as exc:
        _close_all(fh, stream)
        raise PayloadError(path, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    n = 0
    pos = 0  # bytes read so far (plain files: the offset of the next line)
    try:
        if start > 0:
            # The line that straddles `start` belongs to the range before: skip to its end.
            fh.seek(start - 1)
            pos = start - 1
            while (part := fh.readline(_CHUNK)):
                pos += len(part)
                if part.endswith(b"\n"):
                    break
        # readline with a bound: one huge line must not be held whole in memory.
        while (end is None or pos < end) and (raw := fh.readline(max_bytes + 1)):
            n += 1
            pos += len(raw)
            if len(raw) > max_bytes and not raw.endswith(b"\n"):
                while (rest := fh.readline(_CHUNK)):
                    pos += len(rest)  # skip the rest of the overlong line, a chunk at a time
                    if rest.endswith(b"\n"):
                        break
                yield n, BadLine(Finding(
                    "AML003", RULES["AML003"].severity, "",
                    f"line {n} is over the {max_bytes:,}-byte limit",
                    "Raise the limit with --max-bytes or max-bytes in [tool.aimlcat] if such "
                    "requests are real."), None)
                continue
            line = raw.rstrip(b"\r\n")
            if n == 1 and start == 0 and line.startswith(_BOM):
                line = line[len(_BOM):]
            if not line.strip():
                continue
            try:
                doc, found, again = _load_json(line, path)
            except PayloadError as exc:
                yield n, BadLine(Finding(
                    "AML003", RULES["AML003"].severity, "",
                    f"line {n} is not a JSON request: {exc.reason}",
                    "Each line of a JSON Lines file is one JSON value on one line: a request "
                    "body or an envelope (an OpenAI Batch line)."), exc.column)
                continue
            yield n, _unwrap(doc, found, line, "json", None, again)
    except (OSError, EOFError, zlib.error) as exc:
        raise PayloadError(path, f"unreadable after line {n}: {exc}", line=n + 1) from None
    finally:
        _close_all(fh, stream)
    return n


def open_binary(path: str) -> Any:
    """A binary file object for a path, or for an fsspec URL (``s3://``, ``gs://``,
    ``file://``, ...; needs fsspec, which ``aimlcat[dask]`` brings): how ``aimlcat audit``
    reads logs that live where a cluster's workers can reach them."""
    if "://" not in path:
        return open(path, "rb")
    try:
        import fsspec
    except ImportError:
        raise PayloadError(path, "reading a URL needs fsspec: pip install 'aimlcat[dask]'"
                           ) from None
    try:
        # fsspec's remote files take no size in readline: read through a standard buffer.
        return io.BufferedReader(fsspec.open(path, "rb").open(), 1 << 20)
    except ValueError as exc:  # an unknown protocol, a malformed URL
        raise PayloadError(path, f"cannot open: {exc}") from None
    except ImportError as exc:  # a protocol whose package is not installed (s3fs, gcsfs)
        raise PayloadError(path, f"cannot open: {exc}") from None


def _close_all(fh: Any, stream: Any) -> None:
    if fh is not None:
        fh.close()
    if stream is not None and stream is not fh:
        stream.close()


_BOM = b"\xef\xbb\xbf"


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Where, as line and column (characters, as every position), and the byte offset.
        start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[start:exc.start].decode("utf-8", "replace")) + 1
        raise PayloadError(path, f"not UTF-8 text (byte {exc.start})",
                           line=data.count(b"\n", 0, exc.start) + 1, column=column) from None


def load_json(data: bytes | str, path: str) -> tuple[Any, tuple[Finding, ...]]:
    """Parse JSON and report duplicate keys (AML002), which parsers resolve differently.

    The fast way: orjson parses, and re-serialising the result proves there
    was no duplicate. Compact text (how httpx and the OpenAI SDK send JSON) is
    usually its own re-serialisation byte for byte, which settles it; else, outside strings every ``:`` follows a key, and strings
    keep their colons, so the text and the re-serialised object have the same
    number of colons exactly when no key was dropped, unless the text spells a
    colon as ``\\u003a``. When that cannot be ruled out, or orjson refuses the
    text, the exact way (the standard parser with a pairs hook) decides and
    names the place of each duplicate."""
    doc, found, _ = _load_json(data, path)
    return doc, found


def _load_json(data: bytes | str, path: str) -> tuple[Any, tuple[Finding, ...], bytes | None]:
    """:func:`load_json`, also giving the compact re-serialised text when it made one."""
    import orjson

    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    else:
        try:
            # (`b"\\" not in raw` is one memchr: most files hold no escape at all.)
            again = orjson.dumps(doc)
            # Compact text as httpx and the OpenAI SDK write it is its own
            # re-serialisation: equal bytes (one memcmp) prove that nothing was dropped.
            # (Equal bytes also rule out an integer past 64 bits: orjson reads it as a
            # float, which it writes with an exponent, never as the digits it read.)
            if again == raw or (raw.count(b":") == again.count(b":")
                                and (b"\\" not in raw or b"\\u003" not in raw)
                                and not _long_ints_read_as_floats(again)):
                return doc, (), again
        except TypeError:  # orjson writes at most ~250 levels; the exact way decides
            pass
    doc, found = _load_json_exact(raw, path)
    return doc, found, None


#: A float's exponent as orjson writes it (``1.8446744073709552e+19``).
_EXPONENT = re.compile(rb"e\+(\d+)")


def _long_ints_read_as_floats(again: bytes) -> bool:
    """Whether orjson may have read an integer literal as a float: it keeps 64 bits (from
    -2**63 to 2**64 - 1) and makes a float of anything longer, which, written again
    (``again``), has an exponent of 18 or more. Such a text is read the exact way, whose
    integers keep every digit, so that a finding quotes the number as written. One
    memchr rules it out for almost every body."""
    return b"+" in again and any(int(m.group(1)) >= 18 for m in _EXPONENT.finditer(again))


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
        line, column = _constant_at(text)
        raise PayloadError(path, f"invalid JSON: {exc}", line=line, column=column) from None
    except RecursionError:
        raise PayloadError(path, _TOO_DEEP) from None
    found: list[Finding] = []
    try:
        _duplicates(doc, "", found)
    except RecursionError:
        raise PayloadError(path, _TOO_DEEP) from None
    return doc, tuple(found)


def _constant_at(text: str) -> tuple[int | None, int | None]:
    """Line and column of the first NaN / Infinity / -Infinity outside a string."""
    from ._positions import offset_span

    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)', text, re.DOTALL):
        if m.group(1):
            span = offset_span(text, m.start(1))
            return span.line, span.column
    return None, None


_TOO_DEEP = ("nests arrays and objects too deeply to read (hundreds of levels); no request "
             "needs that, so check how the file is produced")


def _duplicates(node: Any, here: str, out: list[Finding]) -> None:
    """AML002 for each key repeated in an object: a JSON :class:`_DupDict`, or a YAML
    mapping read with its duplicates allowed (``PosDict.pairs``)."""
    pairs = getattr(node, "pairs", None) if isinstance(node, dict) else None
    if pairs is not None:
        counts: dict[str, list[Any]] = {}
        for k, v in pairs:
            counts.setdefault(k, []).append(v)
        where = f"`{here}`" if here else "the body"
        for k, values in counts.items():
            if len(values) > 1:
                shown = redact(", ".join(json.dumps(v, ensure_ascii=False, default=str)[:40]
                                         for v in values))
                out.append(Finding(
                    "AML002", RULES["AML002"].severity, f"{here}/{escape_pointer(k)}",
                    redact(f"`{k}` appears {len(values)} times in {where}; parsers disagree "
                           "on which one counts"), f"Keep one. Values given, in order: {shown}."))
    if isinstance(node, dict):
        for k, v in node.items():
            _duplicates(v, f"{here}/{escape_pointer(k)}", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _duplicates(v, f"{here}/{i}", out)


def _unwrap(doc: Any, found: tuple[Finding, ...], source: bytes | str, kind: str,
            tree: Any, serialized: bytes | None = None) -> Payload:
    secrets = find_secrets(doc, serialized)
    if secrets:
        found = (*found, *secrets)
    if isinstance(doc, dict) and "body" in doc and (
            "model" not in doc or "endpoint" in doc or "url" in doc):
        # An envelope: a body, and the endpoint it goes to (`endpoint`, or `url` as in an
        # OpenAI Batch line; null or absent: not named, --endpoint or the body decides).
        # A request body always names its model, an envelope never does.
        named: list[tuple[str, str]] = []
        for key in ("endpoint", "url"):
            value = doc.get(key)
            if isinstance(value, str):
                named.append(("/" + key, value))
            elif value is not None:
                found = (*found, Finding(
                    "AML204", RULES["AML204"].severity, "/" + key,
                    f"the envelope's `{key}` is {_shown_value(value)}, not an endpoint path "
                    "or URL", "Give the endpoint as a path (/v1/chat/completions) or a URL, "
                    "or leave it out and pass --endpoint."))
        endpoint, pointer = (named[0][1], named[0][0]) if named else (None, "")
        return Payload(doc["body"], endpoint, "/body", pointer, found, source, kind, tree, doc,
                       (named[1][0], named[1][1]) if len(named) > 1 else None)
    return Payload(doc, None, "", "", found, source, kind, tree)


def _shown_value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return redact(text if len(text) <= 40 else text[:39] + "…")
