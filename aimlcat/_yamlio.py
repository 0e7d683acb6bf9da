"""Safe YAML reading with positions: the one place aimlcat parses YAML.

Mappings come back as :class:`PosDict`, a dict that remembers the line and
column of each key, so errors can say ``file:line``. Dates stay strings,
duplicate keys are an error (PyYAML would silently keep the last one), and
only the safe loader is used (libyaml's when it is installed).

What comes back is JSON's data model and nothing else: legal YAML that has no
JSON form (``!!binary`` bytes, ``!!set``, ``!!omap``/``!!pairs``, a mapping or
sequence as a key) and nesting past :data:`MAX_DEPTH` levels are a
:class:`YamlError` at the node, never an object a caller cannot handle.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import yaml

T = TypeVar("T")

__all__ = ["MAX_DEPTH", "PosDict", "PosList", "YamlError", "load_yaml", "plain"]

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"

#: Mappings and sequences nested deeper than this are refused (with the place): the
#: constructor recurses, and a few hundred levels would exhaust Python's stack. No
#: request or catalog file comes near it.
MAX_DEPTH = 200


class PosDict(dict[str, Any]):
    """A dict that knows where it and each of its keys and values stood in the source
    (1-based lines, counted by ``\n`` as editors and reports count them; columns in
    characters). With duplicate keys allowed (:func:`load_yaml`), ``pairs`` holds every
    (key, value) of a mapping that repeats one, in order; the dict keeps the last."""

    __slots__ = ("column", "key_pos", "line", "pairs", "value_pos")

    def __init__(self) -> None:
        super().__init__()
        self.line: int | None = None
        self.column: int | None = None
        self.key_pos: dict[str, tuple[int, int]] = {}
        #: Where each value starts and ends: (line, column, end line, end column).
        self.value_pos: dict[str, tuple[int, int, int, int]] = {}
        self.pairs: list[tuple[str, Any]] | None = None


class PosList(list[Any]):
    """A list that knows where it and each of its items stood in the source (1-based)."""

    __slots__ = ("column", "item_pos", "line")

    def __init__(self) -> None:
        super().__init__()
        self.line: int | None = None
        self.column: int | None = None
        self.item_pos: list[tuple[int, int]] = []


class YamlError(Exception):
    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class _Loader(_Base):  # type: ignore[misc,valid-type]
    depth = 0
    #: YAML line (0-based) and column -> (line, column) as reported; None: the same + 1.
    line_map: Any = None
    #: Keep the last of repeated keys and record them (``PosDict.pairs``), not refuse them.
    allow_duplicates = False


def _pos(loader: Any, mark: Any) -> tuple[int, int]:
    if loader.line_map is None:
        return mark.line + 1, mark.column + 1
    return loader.line_map(mark.line, mark.column)  # type: ignore[no-any-return]


def _at(loader: Any, node: yaml.Node) -> tuple[int, int]:
    return _pos(loader, node.start_mark)


def _enter(loader: yaml.SafeLoader, node: yaml.Node) -> None:
    depth = getattr(loader, "depth", 0) + 1
    if depth > MAX_DEPTH:
        raise YamlError(f"nests mappings and sequences more than {MAX_DEPTH} levels deep; "
                        "no request needs that, so check how the file is produced",
                        *_at(loader, node))
    loader.depth = depth  # type: ignore[attr-defined]


def _depth_counted(build: Callable[[Any, Any], T]) -> Callable[[Any, Any], T]:
    """``build`` as a constructor that counts how deep mappings and sequences nest (and
    refuses past :data:`MAX_DEPTH`, see :func:`_enter`)."""
    def construct(loader: Any, node: Any) -> T:
        _enter(loader, node)
        try:
            return build(loader, node)
        finally:
            loader.depth -= 1
    return construct


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> PosDict:
    seen: set[object] = set()
    repeated = False
    for key_node, _ in node.value:
        if key_node.tag == _MERGE:
            continue
        if not isinstance(key_node, yaml.ScalarNode):  # `? [a, b]`: JSON keys are strings
            raise YamlError("mapping keys must be strings, not a "
                            f"{'sequence' if isinstance(key_node, yaml.SequenceNode) else 'mapping'}",
                            *_at(loader, key_node))
        if key_node.value in seen:
            if not loader.allow_duplicates:  # type: ignore[attr-defined]
                raise YamlError(f"duplicate key {key_node.value!r}",
                                *_pos(loader, key_node.start_mark))
            repeated = True
        seen.add(key_node.value)
    loader.flatten_mapping(node)  # `<<` merge keys: merged pairs first, explicit ones after
    out = PosDict()
    out.line, out.column = _pos(loader, node.start_mark)
    pairs = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            if isinstance(key, (int, float, bool)) or key is None:
                key = str(key)
            else:
                raise YamlError("mapping keys must be strings", *_pos(loader, key_node.start_mark))
        value = loader.construct_object(value_node, deep=True)
        out[key] = value
        if repeated:
            pairs.append((key, value))
        out.key_pos[key] = _pos(loader, key_node.start_mark)
        out.value_pos[key] = (*_pos(loader, value_node.start_mark),
                              *_pos(loader, value_node.end_mark))
    if repeated:
        out.pairs = pairs
    return out


def _sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> PosList:
    out = PosList()
    out.line, out.column = _pos(loader, node.start_mark)
    for child in node.value:
        out.append(loader.construct_object(child, deep=True))
        out.item_pos.append(_pos(loader, child.start_mark))
    return out


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    # Dates stay the ISO strings the author wrote; the catalog never needs datetime objects.
    return str(loader.construct_scalar(node))


def _construct_not_json(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    # Legal YAML the safe loader would turn into bytes, a set or a list of tuples.
    tag = node.tag.rsplit(":", 1)[-1]
    raise YamlError(f"`!!{tag}` has no JSON form: a request holds strings, numbers, "
                    "booleans, null, lists and mappings only", *_at(loader, node))


_Loader.add_constructor("tag:yaml.org,2002:map", _depth_counted(_mapping))
for _tag in ("binary", "set", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_not_json)
_Loader.add_constructor("tag:yaml.org,2002:seq", _depth_counted(_sequence))
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


_ODD_BREAK = re.compile(r"\r(?!\n)|[\x85\u2028\u2029]")
_YAML_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


def _line_map(text: str) -> Any:
    """YAML counts ``\r``, NEL, U+2028 and U+2029 as line breaks (even inside a quoted
    string); editors and reports count ``\n``. For a text with such characters, a map
    from YAML's (line, column) to the text's; None when both count alike."""
    if _ODD_BREAK.search(text) is None:
        return None
    # For each YAML line: (its line in the text, its first column there), worked out in
    # one pass, so each position costs two list lookups (not a count over the text).
    lines: list[tuple[int, int]] = []
    line, line_start = 1, 0  # the text's line and where it starts
    previous = 0
    for at in (0, *(m.end() for m in _YAML_BREAK.finditer(text))):
        newlines = text.count("\n", previous, at)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", previous, at) + 1
        lines.append((line, at - line_start))
        previous = at

    def real(yaml_line: int, column: int) -> tuple[int, int]:
        line, offset = lines[min(yaml_line, len(lines) - 1)]
        return line, offset + column + 1

    return real


def load_yaml(text: str, *, allow_duplicates: bool = False) -> Any:
    """Parse one YAML document safely; raise :class:`YamlError` with a position.

    Repeated keys are an error, unless ``allow_duplicates`` (a request payload, where
    they are a finding): then the last value counts and ``PosDict.pairs`` has them all."""
    loader = _Loader(text)
    loader.line_map = fix = _line_map(text)
    loader.allow_duplicates = allow_duplicates
    try:
        return loader.get_single_data()
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        where = (None, None) if mark is None else (
            (mark.line + 1, mark.column + 1) if fix is None else fix(mark.line, mark.column))
        raise YamlError(msg or "invalid YAML", *where) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc)) from None
    except RecursionError:  # the pure-Python composer recurses too (no libyaml)
        raise YamlError(f"nests mappings and sequences too deeply to read (more than "
                        f"{MAX_DEPTH} levels); no request needs that") from None
    finally:
        loader.dispose()


def plain(value: Any, *, budget: int | None = None) -> Any:
    """The same data as built-in dicts and lists (drops the position bookkeeping).

    YAML aliases share one object between places; copying expands them. With a
    ``budget`` (values to produce at most), a document whose aliases expand
    past it raises :class:`YamlError` instead of exhausting memory ("billion
    laughs"). Without aliases a document yields fewer values than it has
    characters, so a budget of a few times its length never bites honest input."""
    if budget is None:
        return _plain(value)
    left = [budget]

    def copy(v: Any) -> Any:
        left[0] -= 1
        if left[0] < 0:
            raise YamlError(f"YAML aliases expand this document past {budget:,} values; "
                            "refusing to expand it (write the repeated parts out, or use JSON)")
        if isinstance(v, dict):
            return {k: copy(x) for k, x in v.items()}
        if isinstance(v, list):
            return [copy(x) for x in v]
        return v

    return copy(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
