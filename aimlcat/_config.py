"""`lint` and `audit` settings: ``[tool.aimlcat]`` in ``pyproject.toml``, or ``.aimlcat.toml``.

The file is found upward from the working directory (in each directory
``.aimlcat.toml`` first, then a ``pyproject.toml`` that has a ``[tool.aimlcat]``
table). Paths in it are relative to its directory. Keys::

    select = ["AML"]               # code prefixes to report (default: every rule; not [])
    ignore = ["AML105"]            # code prefixes not to report
    per-file-ignores = { "legacy/**" = ["AML3"] }   # gitignore-style globs
    fail-level = "error"           # error | warning | info: what makes the exit code 1
    endpoint = "/v1/chat/completions"   # for bodies that name none
    exclude = ["fixtures/", "*.draft.json"]  # gitignore-style, on top of .gitignore
    respect-gitignore = true
    extra-catalogs = ["catalog-private"]     # YAML model files merged with the bundled catalog
    cache-dir = ".aimlcat_cache"   # where the merged catalog is cached (this is the default)
    required-catalog = ">=2026.8"  # PEP 440 specifier the catalog version must satisfy

Command-line flags override the file. Selecting is by prefix, and the longer
(more specific) of a matching ``select`` and ``ignore`` prefix wins, so
``select = ["AML3"]`` with ``ignore = ["AML302"]`` reports AML301 and AML303.

``aimlcat lint`` and ``aimlcat audit`` read the file the same way
(:func:`read_config`), settle flags against it with :func:`effective`, and get
their catalog from :func:`configured_catalog`; only ``lint`` applies the keys about
files in a repository (``exclude``, ``respect-gitignore``, ``per-file-ignores``).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ._exceptions import CatalogError, CatalogProblem, UsageError

__all__ = ["CACHE_DIR_NAME", "Config", "Effective", "Selector", "cache_location",
           "cached_merged", "check_endpoint_flag", "check_required_catalog",
           "configured_catalog", "effective", "find_config", "load_config", "merged_catalog",
           "parse_codes", "read_config"]

FAIL_LEVELS = ("error", "warning", "info")
_KEYS = ("select", "ignore", "per-file-ignores", "fail-level", "endpoint", "exclude",
         "respect-gitignore", "extra-catalogs", "required-catalog", "max-bytes", "cache-dir")


@dataclass(frozen=True, slots=True)
class Config:
    """What the configuration file says (every field None or empty when there is none)."""

    path: str | None = None
    base: str = "."
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fail_level: str | None = None
    endpoint: str | None = None
    exclude: tuple[str, ...] | None = None
    respect_gitignore: bool = True
    extra_catalogs: tuple[str, ...] = ()
    required_catalog: str | None = None
    max_bytes: int | None = None
    cache_dir: str | None = None
    #: Where the settings are in the file: ``("tool", "aimlcat")``, or ``()`` for the
    #: top of an ``.aimlcat.toml`` (to place a later error about one of them).
    table: tuple[str, ...] = ()


def _mentions_table(text: str) -> bool:
    """Whether a pyproject.toml's text may hold ``[tool.aimlcat]`` (no TOML parse)."""
    if "aimlcat" not in text:
        return False
    if "tool.aimlcat" in text.replace(" ", ""):
        return True
    table = ""
    for line in text.splitlines():  # `aimlcat = {...}` or `aimlcat.x = ...` under `[tool]`
        t = line.strip()
        if t.startswith("["):
            table = t.strip("[] \t").replace(" ", "")
        elif table == "tool" and _AIMLCAT_KEY.match(t):
            return True
    return False


_AIMLCAT_KEY = re.compile(r"[\"']?aimlcat[\"']?[ \t]*[=.]")


def _has_table(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return False
    if not _mentions_table(text):  # most pyproject.toml files: decided without parsing
        return False
    data = _read_toml(path)
    return isinstance(data.get("tool"), dict) and "aimlcat" in data["tool"]


def find_config(start: str | None = None) -> str | None:
    """The nearest configuration file at or above ``start`` (the working directory)."""
    d = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(d, ".aimlcat.toml")
        if os.path.isfile(candidate):
            return candidate
        candidate = os.path.join(d, "pyproject.toml")
        if os.path.isfile(candidate) and _has_table(candidate):
            return candidate
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _toml_text(path: str) -> str:
    """The text of the TOML file ``path``, past a leading byte order mark (Windows
    editors write one; tomllib refuses it, ruff and cargo read past it)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:  # tomllib.load let it out as a traceback
        line = data.count(b"\n", 0, exc.start) + 1
        raise UsageError(f"{path}:{line}: not UTF-8 (byte {data[exc.start]:#04x}); TOML "
                         "is UTF-8: save the file as UTF-8") from None


def _read_toml(path: str) -> dict[str, Any]:
    import tomllib

    text = _toml_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from None


def parse_codes(values: Iterable[str], where: str) -> tuple[str, ...]:
    """Code prefixes, checked: each must select at least one rule (``ALL`` means every one)."""
    from ._findings import RULES

    out = []
    for raw in values:
        code = raw.strip().upper()
        if not code:
            continue
        if code == "ALL":
            code = "AML"
        if not any(c.startswith(code) for c in RULES):
            import difflib

            guess = difflib.get_close_matches(code, list(RULES), n=1)
            tail = f"; did you mean {guess[0]}?" if guess else "; `aimlcat rule` lists them"
            raise UsageError(f"{where}: {raw!r} is no rule code or prefix of one{tail}")
        out.append(code)
    return tuple(out)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{where}: expected a list of strings")
    return tuple(value)


def load_config(path: str) -> Config:
    """Read and check one configuration file; :class:`UsageError` names what is wrong,
    as ``FILE:LINE: [tool.aimlcat] key: message`` (the line where it can be found)."""
    data = _read_toml(path)
    tool = data.get("tool")
    if "tool" in data and not isinstance(tool, dict):
        raise UsageError(f"{_place(path, ('tool',))}: `tool` must be a table ([tool.aimlcat])")
    if os.path.basename(path) == "pyproject.toml":
        keys: tuple[str, ...] = ("tool", "aimlcat")
        name = "[tool.aimlcat] "
    elif isinstance(tool, dict) and "aimlcat" in tool:
        keys, name = ("tool", "aimlcat"), "[tool.aimlcat] "
        # Settings at the top were passed over in silence, and so was a misspelt one:
        # any key there that is no table. (Other tables, such as a [project] in a
        # pyproject-shaped file named by --config, are not settings.)
        beside = [k for k in data if k in _KEYS or not isinstance(data[k], dict)]
        if beside and beside[0] in _KEYS:
            raise UsageError(f"{_place(path, (beside[0],))}: `{beside[0]}` is at the top of the "
                             "file and [tool.aimlcat] is there too: put every setting in one "
                             "of them")
        if beside:
            raise UsageError(f"{_place(path, (beside[0],))}: unknown key `{beside[0]}` at the "
                             "top of the file, where [tool.aimlcat] holds the settings"
                             f"{_did_you_mean(beside[0])}")
    else:
        keys, name = (), ""
    table = data
    for k in keys:
        table = table.get(k, {})
    if not isinstance(table, dict):
        raise UsageError(f"{_place(path, keys)}: {name or 'the file '}must be a table")
    with _placed(path, keys):
        return _read_table(path, table, keys, name)


def _read_table(path: str, table: dict[str, Any], keys: tuple[str, ...], name: str) -> Config:
    """The settings of ``table`` (the file's ``[tool.aimlcat]``, or the top of an
    ``.aimlcat.toml``), checked. A problem is a :class:`_SettingError`: the key and the
    message, to which :func:`_placed` adds the file and the line."""
    base = os.path.dirname(os.path.abspath(path))
    unknown = [k for k in table if k not in _KEYS]
    if unknown:
        raise _SettingError((unknown[0],),
                            f"{name}unknown key `{unknown[0]}`{_did_you_mean(unknown[0])}")

    def where(key: str) -> str:
        return f"{name}{key}"

    kw: dict[str, Any] = {"path": path, "base": base, "table": keys}
    for key in ("select", "ignore"):
        if key in table:
            with _about((key,)):
                codes = parse_codes(_strings(table[key], where(key)), where(key))
                if key == "select" and not codes:
                    # As `--select ''`: an empty select would report nothing, or (as it did)
                    # every code; neither is what `select = []` says.
                    import json

                    raise UsageError(
                        f"{where(key)}: {json.dumps(table[key])} names no code; list code "
                        "prefixes ([\"AML3\", \"AML402\"]), or [\"ALL\"] (or no `select`) "
                        "for every one")
            kw[key] = codes
    if "per-file-ignores" in table:
        pfi = table["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise _SettingError(("per-file-ignores",), f"{where('per-file-ignores')}: "
                                "expected a table of glob = [codes]")
        globs = []
        for glob, codes in pfi.items():
            label = where(f"per-file-ignores {glob!r}")
            with _about(("per-file-ignores", glob)):
                globs.append((glob, parse_codes(_strings(codes, label), label)))
        kw["per_file_ignores"] = tuple(globs)
    if "fail-level" in table:
        level = table["fail-level"]
        if level not in FAIL_LEVELS:
            raise _SettingError(("fail-level",), f"{where('fail-level')}: {level!r} is not "
                                f"one of {', '.join(FAIL_LEVELS)}")
        kw["fail_level"] = level
    for key, field in (("endpoint", "endpoint"), ("required-catalog", "required_catalog")):
        if key in table:
            if not isinstance(table[key], str):
                raise _SettingError((key,), f"{where(key)}: expected a string")
            if key == "endpoint" and not table[key].strip():
                raise _SettingError((key,), f"{where(key)}: {table[key]!r} names no endpoint; "
                                    "give a path or URL (/v1/chat/completions), or leave the "
                                    "key out")
            if key == "required-catalog":  # its syntax now; the version with the catalog
                with _about((key,)):
                    _specifier(table[key], where(key))
            kw[field] = table[key]
    if "max-bytes" in table:
        value = table["max-bytes"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _SettingError(("max-bytes",), f"{where('max-bytes')}: expected a positive "
                                "whole number of bytes")
        kw["max_bytes"] = value
    if "exclude" in table:
        with _about(("exclude",)):
            kw["exclude"] = _strings(table["exclude"], where("exclude"))
    if "respect-gitignore" in table:
        if not isinstance(table["respect-gitignore"], bool):
            raise _SettingError(("respect-gitignore",),
                                f"{where('respect-gitignore')}: expected true or false")
        kw["respect_gitignore"] = table["respect-gitignore"]
    if "extra-catalogs" in table:
        dirs = []
        with _about(("extra-catalogs",)):
            for d in _strings(table["extra-catalogs"], where("extra-catalogs")):
                full = os.path.normpath(os.path.join(base, d))
                if not os.path.isdir(full):
                    raise UsageError(f"{where('extra-catalogs')}: {d!r} is not a directory "
                                     f"({full})")
                dirs.append(full)
        kw["extra_catalogs"] = tuple(dirs)
    if "cache-dir" in table:
        if not isinstance(table["cache-dir"], str) or not table["cache-dir"]:
            raise _SettingError(("cache-dir",),
                                f"{where('cache-dir')}: expected a directory (a string)")
        kw["cache_dir"] = os.path.normpath(os.path.join(base, table["cache-dir"]))
    return Config(**kw)


def _did_you_mean(key: str) -> str:
    """The tail of an unknown key's message: the key it may stand for, or all of them."""
    import difflib

    guess = difflib.get_close_matches(key.replace("_", "-"), _KEYS, n=1)
    return f"; did you mean `{guess[0]}`?" if guess else f"; known: {', '.join(_KEYS)}"


class _SettingError(UsageError):
    """A problem with the key at ``keys`` (below the settings table), not yet placed."""

    def __init__(self, keys: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.keys = keys


@contextmanager
def _about(keys: tuple[str, ...]) -> Iterator[None]:
    """Turns a :class:`UsageError` about one key into a :class:`_SettingError` that knows
    the key (:func:`_placed` adds the file and the line)."""
    try:
        yield
    except _SettingError:
        raise
    except UsageError as exc:
        raise _SettingError(keys, str(exc)) from None


@contextmanager
def _placed(path: str, table: tuple[str, ...]) -> Iterator[None]:
    """Places a :class:`_SettingError` raised inside: ``FILE:LINE: message``."""
    try:
        yield
    except _SettingError as exc:
        raise UsageError(f"{_place(path, table + exc.keys)}: {exc}") from None


def _place(path: str, keys: Sequence[str]) -> str:
    """``path:line`` where the key at ``keys`` (the tables, then the key) is written, or
    ``path`` when no one line can be shown to hold it."""
    line = _key_line(path, keys) if keys else None
    return path if line is None else f"{path}:{line}"


def _key_line(path: str, keys: Sequence[str]) -> int | None:
    """The line of the TOML file ``path`` that writes the key at ``keys``, or None.

    tomllib keeps no positions, so each place the key's name is written as a key
    (``name =``, ``name.``, ``[...name]``, bare or quoted) is tried: the file is parsed
    again with the name changed there, and the place is the key's if the key's table now
    holds the changed name. Only errors pay for this (a parse per candidate)."""
    import tomllib

    try:
        text = _toml_text(path).replace("\r\n", "\n")
    except UsageError:
        return None
    probe = "aimlcat-probe-0f5e2d"
    pattern = r"""(?<![\w-])(["']?)""" + re.escape(keys[-1]) + r"\1(?=[ \t]*[=.\]])"
    for m in re.finditer(pattern, text):
        quote = m.group(1)
        changed = f"{text[:m.start()]}{quote}{probe}{quote}{text[m.end():]}"
        try:
            table: Any = tomllib.loads(changed)
        except tomllib.TOMLDecodeError:
            continue
        for k in keys[:-1]:
            table = table.get(k) if isinstance(table, dict) else None
        if isinstance(table, dict) and probe in table:
            return text.count("\n", 0, m.start()) + 1
    return None


# -- flags over the file over the defaults ----------------------------------------------

def read_config(path: str | None = None, no_config: bool = False) -> Config:
    """The configuration a command runs with: none with ``no_config`` (``--no-config``),
    the file at ``path`` (``--config``), else the one :func:`find_config` finds. Both
    at once contradict each other (the command line's parser refuses them too)."""
    if no_config and path is not None:
        raise UsageError(f"--config {path} and --no-config contradict each other: give one")
    if no_config:
        return Config()
    found = path or find_config()
    return load_config(found) if found is not None else Config()


@dataclass(frozen=True, slots=True)
class Effective:
    """The settings a run uses, each from a flag, else the configuration, else the default."""

    config: Config
    select: tuple[str, ...]
    ignore: tuple[str, ...]
    fail_level: str
    endpoint: str | None
    max_bytes: int


def effective(config: Config, *, select: str | None = None, ignore: str | None = None,
              fail_level: str | None = None, strict: bool = False,
              endpoint: str | None = None, max_bytes: int | None = None) -> Effective:
    """Settle the flags (``--select``, ``--ignore`` as given: comma-separated, None when
    absent) against ``config``. The one place both ``lint`` and ``audit`` take it from."""
    from ._payloads import DEFAULT_MAX_BYTES

    # Like ruff: a --select on the command line starts the selection afresh (the file's
    # ignore list goes with its select); an --ignore alone replaces the file's ignore.
    if select is not None:
        chosen = parse_codes(select.split(","), "--select")
        if not chosen:  # `--select ,` or an empty variable would report nothing and pass
            raise UsageError(f"--select {select!r} names no code; give code prefixes "
                             "(AML3, AML402) or ALL for every one")
    else:
        chosen = config.select or ("AML",)
    if ignore is not None:
        dropped = parse_codes(ignore.split(","), "--ignore")
    else:
        dropped = () if select is not None else config.ignore or ()
    if dropped:
        _check_something_reported(config, select, ignore, chosen, dropped)
    check_endpoint_flag(endpoint)
    if strict and fail_level not in (None, "warning"):
        # --strict is --fail-level warning: a second, different level would have to lose.
        raise UsageError(f"--strict means --fail-level warning, which contradicts "
                         f"--fail-level {fail_level}: give one of them")
    level = fail_level or ("warning" if strict else None) or config.fail_level or "error"
    return Effective(config=config, select=chosen, ignore=dropped, fail_level=level,
                     endpoint=endpoint or config.endpoint,
                     max_bytes=max_bytes or config.max_bytes or DEFAULT_MAX_BYTES)


def check_endpoint_flag(endpoint: str | None) -> None:
    """Refuse an empty ``--endpoint`` (an empty variable, ``--endpoint "$EP"``), which
    was taken as no flag at all: the body's own endpoint, or one inferred, was used."""
    if endpoint is not None and not endpoint.strip():
        raise UsageError(f"--endpoint {endpoint!r} names no endpoint; give a path or URL "
                         "(/v1/chat/completions), or leave the flag out")


def _check_something_reported(config: Config, select: str | None, ignore: str | None,
                              chosen: Sequence[str], dropped: Sequence[str]) -> None:
    """Refuse a selection whose every code is ignored too (``--select AML301 --ignore
    AML301``, ``ignore = ["ALL"]``): it would report nothing and pass, as an empty
    ``--select`` would, naming where each side comes from."""
    from ._findings import RULES

    if any(_longest(c, chosen) > _longest(c, dropped) for c in RULES):
        return
    import json

    flags: list[str] = []
    keys: list[str] = []  # from the file (a --select flag leaves the file's ignore out)
    written: dict[str, Any] = {}
    if config.path is not None and (select is None or ignore is None):
        written = _settings(config)  # the values as written (errors only pay for a read)
    for flag, name, codes in (("select", select, config.select), ("ignore", ignore, config.ignore)):
        if name is not None:
            flags.append(f"--{flag} {name}")
        elif codes:
            keys.append(flag)
    said = " with ".join(
        f"{k} = {json.dumps(written.get(k, list(getattr(config, k))), ensure_ascii=False)}"
        for k in keys)
    if keys:  # at the line of the last key named: the ignore, which is to be narrowed
        place = (_place(config.path, (*config.table, keys[-1])) if config.path
                 else "the configuration")
        said = f"{said} in {place}" + "".join(f" with {f}" for f in flags)
    else:
        said = " with ".join(flags)
    raise UsageError(f"{said} leaves no code to report (each selected code is ignored too): "
                     "narrow the ignore")


def _settings(config: Config) -> dict[str, Any]:
    """The settings table of ``config``'s file, as written (parsed again)."""
    table: Any = _read_toml(config.path) if config.path else {}
    for k in config.table:
        table = table.get(k, {}) if isinstance(table, dict) else {}
    return table if isinstance(table, dict) else {}


def configured_catalog(config: Config, *, cache: bool = True) -> tuple[Any, dict[str, str] | None]:
    """The catalog ``config`` asks for, checked against its ``required-catalog``: the
    bundled one, or it merged with ``extra-catalogs``. With extra catalogs, also their
    compiled files, which worker processes build the same catalog from (None: bundled).

    A merged catalog is compiled once and kept in the cache (:func:`cached_merged`,
    at :func:`cache_location`); ``cache=False`` (``--no-cache``) compiles it afresh."""
    files: dict[str, str] | None = None
    if config.extra_catalogs:
        files, cat = cached_merged(config.extra_catalogs,
                                   cache_location(config) if cache else None)
    else:
        from ._catalog import load_catalog

        cat = load_catalog()
    if config.required_catalog is not None:
        where = (_place(config.path, (*config.table, "required-catalog")) if config.path
                 else "configuration")
        check_required_catalog(config.required_catalog, cat.version, where)
    return cat, files


# -- which codes are reported -----------------------------------------------------------

def _longest(code: str, prefixes: Sequence[str]) -> int:
    return max((len(p) for p in prefixes if code.startswith(p)), default=-1)


class Selector:
    """Decides which findings are reported: select / ignore prefixes, then per-file ignores."""

    __slots__ = ("_cache", "_per_file", "ignore", "select")

    def __init__(self, select: Sequence[str] = ("AML",), ignore: Sequence[str] = (),
                 per_file_ignores: Sequence[tuple[str, Sequence[str]]] = (),
                 base: str = ".") -> None:
        from ._discover import compile_pattern

        self.select = tuple(select)
        self.ignore = tuple(ignore)
        self._cache: dict[str, bool] = {}
        # (regex, root, codes, negated): a glob starting with `!` switches its codes off
        # in the files it does NOT match, as in ruff (it was read as the glob without `!`).
        self._per_file: list[tuple[Any, str, tuple[str, ...], bool]] = []
        root = os.path.abspath(base).rstrip(os.sep) + os.sep
        import re

        for glob, codes in per_file_ignores:
            compiled = compile_pattern(glob)
            if compiled is not None:
                self._per_file.append((re.compile(compiled[0] + r"(?:/.*)?\Z", re.DOTALL), root,
                                       tuple(codes), compiled[1]))

    def __getstate__(self) -> dict[str, Any]:
        return {"select": self.select, "ignore": self.ignore, "_per_file": self._per_file}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.select = state["select"]
        self.ignore = state["ignore"]
        self._per_file = state["_per_file"]
        self._cache = {}

    def enabled(self, code: str) -> bool:
        hit = self._cache.get(code)
        if hit is None:
            hit = self._cache[code] = _longest(code, self.select) > _longest(code, self.ignore)
        return hit

    def ignored_here(self, path: str) -> tuple[str, ...]:
        """The code prefixes the per-file ignores switch off for ``path``."""
        if not self._per_file or path.startswith("<"):
            return ()
        abspath = os.path.abspath(path)
        out: list[str] = []
        for regex, root, codes, negated in self._per_file:
            matched = (abspath.startswith(root)
                       and regex.match(abspath[len(root):].replace(os.sep, "/")) is not None)
            if matched is not negated:
                out.extend(codes)
        return tuple(out)

    @property
    def trivial(self) -> bool:
        """Everything is reported (no select, ignore or per-file ignore narrows it)."""
        return self.select == ("AML",) and not self.ignore and not self._per_file


# -- the catalog ------------------------------------------------------------------------

def _specifier(spec: str, where: str) -> Any:
    """``spec`` as a PEP 440 :class:`~packaging.specifiers.SpecifierSet`, or a
    :class:`UsageError` at ``where``."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(spec)
    except InvalidSpecifier:
        raise UsageError(f"{where}: {spec!r} is not a PEP 440 version specifier (such as "
                         "\">=2026.8\")") from None


def check_required_catalog(spec: str, version: str, where: str) -> None:
    """Raise :class:`UsageError` unless the catalog ``version`` satisfies ``spec`` (PEP 440)."""
    from packaging.version import InvalidVersion, Version

    wanted = _specifier(spec, f"{where}: required-catalog")
    try:
        have = Version(version)
    except InvalidVersion:
        raise UsageError(f"the catalog version {version!r} is not a PEP 440 version") from None
    if not wanted.contains(have, prereleases=True):
        raise UsageError(
            f"{where}: required-catalog is {spec!r}, but this aimlcat carries catalog "
            f"{version}; install an aimlcat whose catalog matches (`pip install -U aimlcat`) "
            "or change the requirement")


def bundled_catalog_source() -> str:
    """The YAML catalog the bundled compiled catalog was built from."""
    here = os.path.dirname(os.path.abspath(__file__))
    source = os.path.join(os.path.dirname(here), "catalog")
    if os.path.isfile(os.path.join(source, "catalog.yaml")):
        return source
    return os.path.join(here, "_data", "catalog")


def merged_catalog(extra: Sequence[str]) -> Any:
    """The bundled catalog and the YAML model files under ``extra``, compiled as one.

    Loading and compiling run in memory (a temporary copy of the YAML, so the
    loader sees one tree); the result is a :class:`aimlcat.Catalog` the
    validator uses as it uses the bundled one. Problems name the real files."""
    files = compile_merged(extra)
    return memory_catalog(files, extra[0] if extra else "<memory>")


def compile_merged(extra: Sequence[str]) -> dict[str, str]:
    """Compiled catalog files (relative path -> text) of the bundled catalog plus ``extra``."""
    return _compile_sources(_gather_sources(extra))


# A source tree: (name inside the merged tree, the real directory, its files as
# (relative POSIX path, bytes), sorted). For an extra catalog the key of the cache and
# the compiler take the same bytes, read once, so what is compiled is what was keyed;
# the bundled catalog is read again only to compile.
_Source = tuple[str, str, list[tuple[str, bytes]]]


def _walk(root: str, suffixes: tuple[str, ...], skip_hidden: bool,
          recurse: bool = True) -> list[tuple[str, str]]:
    """The files under ``root`` whose names end with one of ``suffixes``, as (relative
    POSIX path, full path), sorted by name at each level: one scandir per directory,
    symbolic links followed (as the copy the loader reads used to be made), names
    starting with ``.`` left out if asked, a directory that cannot be listed passed
    over (as ``os.walk`` does)."""
    out: list[tuple[str, str]] = []

    def walk(directory: str, prefix: str) -> None:
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if skip_hidden and entry.name.startswith("."):
                continue
            if entry.is_dir():
                if recurse:
                    walk(entry.path, prefix + entry.name + "/")
            elif entry.name.endswith(suffixes):
                out.append((prefix + entry.name, entry.path))

    walk(root, "")
    return out


def _gather(root: str, skip_hidden: bool) -> list[tuple[str, bytes]]:
    """The files under ``root`` the loader reads (``*.yaml``), with their bytes. Nothing
    else there (a README, an editor's backup, a cache directory inside) changes the
    compiled catalog, so nothing else is in its key."""
    return [(rel, _read_whole(full)) for rel, full in _walk(root, (".yaml",), skip_hidden)]


def _hash_files(h: Any, files: Iterable[tuple[str, bytes]]) -> None:
    """Feed ``h`` each file's place, size and bytes (content, never times: a fresh install
    or checkout has new times and the same catalog, and a cache kept between CI runs
    must still match)."""
    for rel, data in files:
        h.update(f"{rel}\0{len(data)}\0".encode("utf-8", "surrogateescape"))
        h.update(data)


def _read_whole(path: str) -> bytes:
    """A file's bytes by raw reads (no file object: this runs for some 240 files a run)."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            parts = []
            while chunk := os.read(fd, 1 << 20):
                parts.append(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise CatalogError([CatalogProblem(
            file=path, line=None, key="", message=f"cannot read: {exc.strerror or exc}")]) from None
    return b"".join(parts)


def _gather_sources(extra: Sequence[str]) -> list[_Source]:
    source = bundled_catalog_source()
    return [("", source, _gather(source, False)),
            *((f"_extra{i}", d, _gather(d, True)) for i, d in enumerate(extra))]


def _compile_sources(sources: Sequence[_Source]) -> dict[str, str]:
    import tempfile

    from ._compiler import compile_catalog
    from ._loader import load_catalog_source

    with tempfile.TemporaryDirectory(prefix="aimlcat-catalog-") as tmp:
        root = os.path.join(tmp, "catalog")
        names: dict[str, str] = {}
        for name, real, files in sources:
            top = os.path.join(root, name) if name else root
            names[f"catalog/{name}/" if name else "catalog/"] = os.path.join(real, "")
            os.makedirs(top, exist_ok=True)
            for rel, data in files:
                target = os.path.join(top, *rel.split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as fh:
                    fh.write(data)
        try:
            return compile_catalog(load_catalog_source(root))
        except CatalogError as exc:
            raise CatalogError([_renamed(p, names) for p in exc.problems]) from None


def _renamed(problem: CatalogProblem, names: Mapping[str, str]) -> CatalogProblem:
    # Longest prefix first: the extra directories sit inside the copy's root.
    for prefix in sorted(names, key=len, reverse=True):
        if problem.file.startswith(prefix):
            return CatalogProblem(file=names[prefix] + problem.file[len(prefix):],
                                  line=problem.line, key=problem.key, message=problem.message)
    return problem


def memory_catalog(files: Mapping[str, str], label: str) -> Any:
    """A :class:`aimlcat.Catalog` over compiled files held in memory."""
    from pathlib import Path

    from ._catalog import Catalog, read_index

    class MemoryCatalog(Catalog):
        """A catalog compiled at start-up (extra catalogs): schemas come from memory."""

        def _load_schema(self, rel: str) -> dict[str, Any]:
            schema = self._schemas.get(rel)
            if schema is None:
                import orjson  # as Catalog._load_schema: faster, and imported anyway

                schema = self._schemas[rel] = orjson.loads(files[rel])
            return schema

    return MemoryCatalog(read_index(files["index.json"]), Path(label))


# -- the cache of merged catalogs -------------------------------------------------------
#
# Compiling the bundled YAML with extra catalogs takes seconds; a lint in a pre-commit
# hook or on every CI commit would pay them each time. The compiled files are kept in
# one file per key, named by a SHA-256 of everything that decides them (below), so an
# entry is never stale: a changed input is another name. Like ``.ruff_cache``, the
# cache sits beside the configuration file (extra catalogs come only from one), holds a
# ``.gitignore`` of ``*`` and a ``CACHEDIR.TAG``, and keeps the few entries last used.

CACHE_DIR_NAME = ".aimlcat_cache"
_CACHE_FORMAT = 1  # the layout of an entry; part of the key
_CACHE_MAGIC = b"aimlcat merged catalog\n"
_CACHE_KEEP = 4  # entries kept (a few private catalogs or branches); older ones pruned
_STALE_TEMP = 3600.0  # seconds after which a temporary file of a killed writer goes
_GITIGNORE = "# Created by aimlcat: the compiled catalog cache.\n*\n"
_CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                 "# This file is a cache directory tag created by aimlcat.\n"
                 "# For information about cache directory tags, see https://bford.info/cachedir/\n")

#: How many times this process compiled a merged catalog (the tests read it).
compilations = [0]


def cache_location(config: Config) -> str | None:
    """Where merged catalogs are cached, or None for no cache: ``AIMLCAT_NO_CACHE`` set
    (to anything but ``0``) turns it off; else ``AIMLCAT_CACHE_DIR``, else the file's
    ``cache-dir``, else ``.aimlcat_cache`` beside the configuration file. (Without a
    configuration file, as a :class:`Config` made in code, there is no default.)"""
    if os.environ.get("AIMLCAT_NO_CACHE", "") not in ("", "0"):
        return None
    env = os.environ.get("AIMLCAT_CACHE_DIR")
    if env:
        return os.path.abspath(env)
    if config.cache_dir:
        return config.cache_dir
    if config.path:
        return os.path.join(config.base, CACHE_DIR_NAME)
    return None


def _code_digest() -> bytes:
    """What of aimlcat itself decides a compiled catalog: its version and the bytes of its
    modules and meta-schema (a source checkout changes them without a new version)."""
    import hashlib

    from ._catalog import _INDEX_FORMAT
    from ._version import __version__

    h = hashlib.sha256(f"{__version__}\0{_INDEX_FORMAT}\0{_CACHE_FORMAT}\0".encode())
    here = os.path.dirname(os.path.abspath(__file__))
    _hash_files(h, ((rel, _read_whole(full))
                    for rel, full in _walk(here, (".py", ".json"), False, recurse=False)))
    return h.digest()


def _cache_key(sources: Sequence[_Source]) -> str:
    """The SHA-256 of aimlcat (:func:`_code_digest`) and of every source (the bundled YAML,
    then each extra directory): its path and its files' places and bytes, as the loader
    reads them (about 3 ms for the bundled catalog and aimlcat's modules). The sources
    are the ones a miss compiles, read once for both."""
    import hashlib

    h = hashlib.sha256(_code_digest())
    for name, real, files in sources:
        h.update(f"\0{name}\0{real}\0{len(files)}\0".encode("utf-8", "surrogateescape"))
        _hash_files(h, files)
    return h.hexdigest()


def _entry_path(directory: str, key: str) -> str:
    return os.path.join(directory, f"merged-{key[:40]}.cat")


def _read_entry(path: str, key: str) -> dict[str, str] | None:
    """The compiled files of a cache entry, or None when it is missing, unreadable, for
    another key, truncated or changed in any byte (its body's SHA-256 is checked)."""
    import hashlib
    import json

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    if not data.startswith(_CACHE_MAGIC):
        return None
    end = data.find(b"\n", len(_CACHE_MAGIC))
    if end < 0:
        return None
    try:
        head = json.loads(data[len(_CACHE_MAGIC):end])
        if head["key"] != key:
            return None
        body = memoryview(data)[end + 1:]
        sizes = [(str(name), int(size)) for name, size in head["files"]]
        if sum(size for _, size in sizes) != len(body) or \
                hashlib.sha256(body).hexdigest() != head["sha256"]:
            return None
        files: dict[str, str] = {}
        at = 0
        for name, size in sizes:
            files[name] = str(body[at:at + size], "utf-8")
            at += size
    except (ValueError, KeyError, TypeError):
        return None
    return files if "index.json" in files else None


def _write_entry(directory: str, key: str, files: Mapping[str, str]) -> None:
    """Write an entry atomically (a reader sees all of it or none; two runs writing the
    same key write the same bytes), mark the directory as a cache, prune old entries."""
    import hashlib
    import json

    from ._fsutil import atomic_binary

    os.makedirs(directory, exist_ok=True)
    # The markers only go into a directory that holds nothing but the cache: a
    # `.gitignore` of `*` written into a directory of the project (`cache-dir = "."`)
    # would hide its files from git and from lint.
    if all(_cache_file(e) for e in os.listdir(directory)):
        for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
            marker = os.path.join(directory, name)
            if not os.path.exists(marker):
                from ._fsutil import atomic_write_text

                atomic_write_text(marker, text)
    names = sorted(files)
    blobs = [files[n].encode("utf-8") for n in names]
    h = hashlib.sha256()
    for b in blobs:
        h.update(b)
    head = {"key": key, "sha256": h.hexdigest(),
            "files": [[n, len(b)] for n, b in zip(names, blobs, strict=True)]}
    path = _entry_path(directory, key)
    with atomic_binary(path) as fh:
        fh.write(_CACHE_MAGIC)
        fh.write(json.dumps(head, separators=(",", ":")).encode())
        fh.write(b"\n")
        for b in blobs:
            fh.write(b)
    _prune(directory, keep=path)


def _cache_file(name: str) -> bool:
    """A name the cache writes: an entry, a writer's temporary file, or a marker."""
    return (name in (".gitignore", "CACHEDIR.TAG")
            or (name.startswith(("merged-", ".merged-")) and name.endswith((".cat", ".tmp"))))


def _prune(directory: str, keep: str) -> None:
    """Delete all but the :data:`_CACHE_KEEP` entries used last, and temporary files a
    killed writer left. Another run may be pruning too: a file already gone is fine."""
    import time

    entries: list[tuple[float, str]] = []
    doomed: list[str] = []
    now = time.time()
    for entry in os.scandir(directory):
        try:
            mtime = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if entry.name.startswith("merged-") and entry.name.endswith(".cat"):
            if entry.path != keep:
                entries.append((mtime, entry.path))
        elif entry.name.startswith(".merged-") and entry.name.endswith(".tmp") \
                and now - mtime > _STALE_TEMP:
            doomed.append(entry.path)
    entries.sort(reverse=True)
    doomed.extend(path for _, path in entries[_CACHE_KEEP - 1:])
    for path in doomed:
        try:
            os.unlink(path)
        except OSError:
            pass


def cached_merged(extra: Sequence[str], directory: str | None) -> tuple[dict[str, str], Any]:
    """The compiled files of the bundled catalog plus ``extra``, and the catalog over
    them: from the cache in ``directory`` when an entry has this key, else compiled and
    written there. ``directory`` None: no cache. A bad entry is compiled again; a cache
    that cannot be written costs one warning line on stderr, never the run."""
    label = extra[0] if extra else "<memory>"
    if directory is None:
        compilations[0] += 1
        files = _compile_sources(_gather_sources(extra))
        return files, memory_catalog(files, label)
    sources = _gather_sources(extra)
    key = _cache_key(sources)
    path = _entry_path(directory, key)
    cached = _read_entry(path, key)
    if cached is not None:
        try:
            cat = memory_catalog(cached, label)
        except (CatalogError, ValueError, KeyError, TypeError, AttributeError):
            pass  # a well-formed entry whose index is not: compile it again
        else:
            try:
                os.utime(path)  # used now: pruning keeps the entries used last
            except OSError:
                pass
            return cached, cat
    compilations[0] += 1
    files = _compile_sources(sources)
    try:
        _write_entry(directory, key, files)
    except OSError as exc:
        from ._fsutil import write_error

        print(f"aimlcat: warning: not cached: {write_error(directory, exc)} "
              "(set cache-dir or AIMLCAT_CACHE_DIR, or pass --no-cache)", file=sys.stderr)
    return files, memory_catalog(files, label)


def add_config_arguments(group: Any) -> None:
    """The options that choose the configuration file and the catalog cache, as `lint`
    and `audit` both take them."""
    # One or the other: `--config FILE --no-config` used to read no file in silence.
    choice = group.add_mutually_exclusive_group()
    choice.add_argument("--config", metavar="FILE",
                        help="read this pyproject.toml or .aimlcat.toml instead of searching")
    choice.add_argument("--no-config", action="store_true", help="read no configuration file")
    group.add_argument("--no-cache", action="store_true",
                       help="compile extra-catalogs afresh; read and write no catalog cache")


def whole_number(least: int) -> Any:
    """An argparse ``type`` for a whole number of at least ``least`` (``--jobs``: 0,
    ``--max-bytes``: 1), so that ``--max-bytes -5`` is a usage error, not a limit."""
    def parse(text: str) -> int:
        import argparse

        try:
            value = int(text)
        except ValueError:
            value = least - 1
        if value < least:
            raise argparse.ArgumentTypeError(
                f"expected a whole number of at least {least}, not {text!r}")
        return value

    parse.__name__ = "number"
    return parse



def codes_action() -> Any:
    """The argparse ``action`` of ``--select`` and ``--ignore`` (lint and audit): given
    more than once, the lists add up (``--select AML3 --select AML4`` is ``AML3,AML4``,
    as in ruff), where the last one used to replace the others in silence."""
    import argparse

    class Codes(argparse.Action):
        def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                     values: Any, option_string: str | None = None) -> None:
            before = getattr(namespace, self.dest, None)
            setattr(namespace, self.dest, values if before is None else f"{before},{values}")

    return Codes
