"""Which files a lint reads: directories walked, excludes and ``.gitignore`` respected.

Patterns follow ``.gitignore`` (the subset a payload tree needs, which is nearly
all of it): ``#`` comments, ``!`` re-includes, a trailing ``/`` for directories
only, a ``/`` at the start or in the middle anchors the pattern to its base
directory (otherwise it matches a name at any depth), ``*``, ``?``, ``[...]``
and ``**`` (``**/x``, ``x/**``, ``a/**/b``). Within one source the last match
wins; a deeper ``.gitignore`` wins over a shallower one, as in git.

The reports a lint writes (``-o FILE``) are never read as payloads: a walk passes
over them (``aimlcat lint . -o report.json`` works every time, as with ruff's
``--output-file``), and :meth:`Walker.is_report` lets the caller refuse one named
as an input.

Paths named on the command line are always read, unless ``force_exclude``
(what the pre-commit hook passes, since pre-commit names every file); a
directory named on the command line is walked even when a pattern matches it,
and its entries are matched as the walk reaches them.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Self

__all__ = ["DEFAULT_SUFFIXES", "IgnoreRules", "Unreadable", "Walker", "compile_pattern",
           "find_git_root"]

#: What a directory walk picks up (``*.json.gz`` is read when named, not found by default).
DEFAULT_SUFFIXES = (".json", ".yaml", ".yml", ".jsonl", ".jsonl.gz")


class Unreadable(str):
    """A path a walk found but cannot give as a payload file: a directory it cannot list,
    a symbolic link to nothing. The lint reports it as an unreadable input (exit 2) in
    its place in the order, ``f"{path}: {reason}"``."""

    reason: str

    def __new__(cls, path: str, reason: str) -> Self:
        self = super().__new__(cls, path)
        self.reason = reason
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # to a worker process and back
        return Unreadable, (str(self), self.reason)


def compile_pattern(pattern: str) -> tuple[str, bool, bool] | None:
    """A gitignore pattern as (regex source, negated, directories only); None for no pattern."""
    p = pattern.rstrip("\n").rstrip("\r")
    # Trailing spaces are dropped unless escaped.
    while p.endswith(" ") and not p.endswith("\\ "):
        p = p[:-1]
    if not p or p.startswith("#"):
        return None
    negate = p.startswith("!")
    if negate or p.startswith(("\\!", "\\#")):
        p = p[1:]
    dir_only = p.endswith("/")
    p = p.rstrip("/")
    if not p:
        return None
    anchored = "/" in p
    p = p.lstrip("/")
    out = []
    i, n = 0, len(p)
    while i < n:
        c = p[i]
        if c == "*":
            if p.startswith("**", i):
                at_start = i == 0 or p[i - 1] == "/"
                at_end = i + 2 == n or p[i + 2] == "/"
                if at_start and at_end:
                    if i + 2 == n:  # `x/**`: everything inside
                        out.append(".*")
                    else:  # `**/x`, `a/**/b`: zero or more directories
                        out.append("(?:.*/)?")
                        i += 1  # the slash after ** is part of the group
                    i += 2
                    continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            # A `]` first in the class (after a `!` or `^` too) is a member, not its end.
            first = i + 2 if p[i + 1:i + 2] in ("!", "^") else i + 1
            j = p.find("]", first + 1 if p[first:first + 1] == "]" else first)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = p[i + 1:j]
                negated = body[:1] in ("!", "^")
                out.append(_char_class(body[1:] if negated else body, negated))
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(p[i]))
        else:
            out.append(re.escape(c))
        i += 1
    body = "".join(out)
    return ("" if anchored else "(?:.*/)?") + body, negate, dir_only


def _char_class(body: str, negated: bool) -> str:
    """A glob's ``[...]`` as a regex class. Each member is escaped (Python reads ``[[``,
    ``&&`` or ``--`` inside a class as its own syntax), a backslash is itself, and a
    range whose ends are reversed (``z-a``) is its first character alone, as git's
    wildmatch reads it: the regex engine refuses such a range, and ``exclude =
    ["[z-a]"]`` used to end the lint with a traceback."""
    items: list[str] = []
    k, n = 0, len(body)
    while k < n:
        first = body[k]
        if k + 2 < n and body[k + 1] == "-":
            last = body[k + 2]
            items.append(re.escape(first) if first > last
                         else f"{re.escape(first)}-{re.escape(last)}")
            k += 3
        else:
            items.append(re.escape(first))
            k += 1
    return f"[{'^' if negated else ''}{''.join(items)}]"


class IgnoreRules:
    """Patterns from one source (a ``.gitignore``, ``--exclude``, the config) and their base."""

    __slots__ = ("_any_dir", "_any_file", "base", "negations", "rules")

    def __init__(self, base: str, patterns: Iterable[str]) -> None:
        self.base = os.path.abspath(base).rstrip(os.sep) + os.sep
        self.rules: list[tuple[re.Pattern[str], bool, bool]] = []
        files, dirs = [], []
        for raw in patterns:
            compiled = compile_pattern(raw)
            if compiled is None:
                continue
            src, negate, dir_only = compiled
            self.rules.append((re.compile(src + r"\Z", re.DOTALL), negate, dir_only))
            dirs.append(src)
            if not dir_only:
                files.append(src)
        self.negations = any(neg for _, neg, _ in self.rules)
        # One search rules out most paths; only a hit evaluates the rules in order.
        self._any_file = re.compile("(?:" + "|".join(files) + r")\Z", re.DOTALL) if files else None
        self._any_dir = re.compile("(?:" + "|".join(dirs) + r")\Z", re.DOTALL) if dirs else None

    def __bool__(self) -> bool:
        return bool(self.rules)

    @property
    def matches_files(self) -> bool:
        """False when every pattern is for directories only (``build/``): no file matches."""
        return self._any_file is not None

    def verdict(self, abspath: str, is_dir: bool) -> bool | None:
        """True: ignored; False: re-included by a ``!`` pattern; None: no pattern matches."""
        if not abspath.startswith(self.base):
            return None  # patterns apply below their base only, as a .gitignore does
        rel = abspath[len(self.base):]
        if os.sep != "/":
            rel = rel.replace(os.sep, "/")
        return self.verdict_rel(rel, is_dir)

    def rel_dir(self, absdir: str) -> str | None:
        """``absdir`` relative to the base, with a trailing slash ("" for the base itself);
        None when it is not below the base."""
        if absdir + os.sep == self.base:
            return ""
        if not absdir.startswith(self.base):
            return None
        rel = absdir[len(self.base):] + "/"
        return rel.replace(os.sep, "/") if os.sep != "/" else rel

    def verdict_rel(self, rel: str, is_dir: bool) -> bool | None:
        """:meth:`verdict` of a path given relative to the base (``/``-separated)."""
        quick = self._any_dir if is_dir else self._any_file
        if quick is None or quick.match(rel) is None:
            return None
        for regex, negate, dir_only in reversed(self.rules):
            if (is_dir or not dir_only) and regex.match(rel):
                return not negate
        return None

    @classmethod
    def from_file(cls, path: str, base: str) -> IgnoreRules | None:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                rules = cls(base, fh.read().splitlines())
        except OSError:
            return None
        return rules if rules else None


def find_git_root(start: str) -> str | None:
    """The work tree holding ``start`` (a directory with ``.git``), or None."""
    d = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


class Walker:
    """Expands paths into payload files, in a stable order (sorted per argument)."""

    def __init__(self, *, suffixes: Sequence[str] | None = None,
                 exclude: Sequence[IgnoreRules] = (), respect_gitignore: bool = False,
                 force_exclude: bool = False, reports: Sequence[str] = ()) -> None:
        self.suffixes = tuple(suffixes or DEFAULT_SUFFIXES)
        # The report files that exist now, as (device, inode): a hard link or another
        # spelling of the path is the same file. A walk stats only entries of those names.
        self._reports: set[tuple[int, int]] = set()
        self._report_names: set[str] = set()
        for path in reports:
            try:
                st = os.stat(path)
            except OSError:
                continue
            self._reports.add((st.st_dev, st.st_ino))
            self._report_names.add(os.path.basename(path))
        self.exclude = [r for r in exclude if r]
        self.respect_gitignore = respect_gitignore
        self.force_exclude = force_exclude
        self._gitignores: dict[str, IgnoreRules | None] = {}
        self._roots: dict[str, str | None] = {}
        #: Files named on the command line that an exclude pattern skipped (force_exclude).
        self.skipped: list[str] = []
        #: Payload files and directories a walk passed over for an exclude or .gitignore.
        self.excluded = 0
        self._named_ids: set[tuple[int, int]] = set()
        self._named_names: set[str] = set()
        self._done: set[tuple[int, int]] = set()

    # -- the rules that apply --------------------------------------------------------
    def _gitignore(self, directory: str, names: Iterable[str] | None = None) -> IgnoreRules | None:
        if directory not in self._gitignores:
            found = None
            if names is None or ".gitignore" in names:
                found = IgnoreRules.from_file(os.path.join(directory, ".gitignore"), directory)
            self._gitignores[directory] = found
        return self._gitignores[directory]

    def _git_root(self, directory: str) -> str | None:
        if directory not in self._roots:
            root = find_git_root(directory) if self.respect_gitignore else None
            if root is not None and (root + os.sep) not in self._gitignores:
                info = os.path.join(root, ".git", "info", "exclude")
                self._gitignores[root + os.sep] = IgnoreRules.from_file(info, root)
            self._roots[directory] = root
        return self._roots[directory]

    def _chain(self, directory: str) -> list[IgnoreRules]:
        """The .gitignore rules that apply inside ``directory``, deepest first."""
        root = self._git_root(directory)
        if root is None:
            return []
        chain = []
        d = directory
        while True:
            rules = self._gitignore(d)
            if rules is not None:
                chain.append(rules)
            if d == root or len(d) <= len(root):
                break
            d = os.path.dirname(d)
        info = self._gitignores.get(root + os.sep)
        if info is not None:
            chain.append(info)
        return chain

    def _excluded(self, abspath: str, is_dir: bool, chain: Sequence[IgnoreRules]) -> bool:
        for rules in self.exclude:
            if rules.verdict(abspath, is_dir):
                return True
        for rules in chain:
            v = rules.verdict(abspath, is_dir)
            if v is not None:
                return v
        return False

    def excluded_path(self, path: str) -> bool:
        """Whether a path named on the command line is excluded (it or a directory above it)."""
        abspath = os.path.abspath(path)
        d = os.path.dirname(abspath)
        if self._excluded(abspath, False, self._chain(d)):
            return True
        while True:
            parent = os.path.dirname(d)
            if parent == d:
                return False
            if self._excluded(d, True, self._chain(parent)):
                return True
            d = parent

    def _first_time(self, path: str) -> bool:
        """False for an entry of a walk already checked as, or below, a path named before;
        True otherwise (and a path named later is then not checked again)."""
        ident = _file_id(path)
        if ident is None or ident not in self._named_ids:
            return True
        if ident in self._done:
            return False
        self._done.add(ident)
        return True

    def is_report(self, path: str) -> bool:
        """Whether ``path`` is one of the report files this lint writes."""
        if not self._reports or path == "-":
            return False
        try:
            st = os.stat(path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) in self._reports

    # -- the walk -----------------------------------------------------------------------
    def files(self, paths: Sequence[str]) -> Iterator[str]:
        """Every payload file under ``paths``; paths that do not exist are yielded as given.

        Lazily, and in the order of a sort of the paths, without holding them:
        a lint of millions of files starts at once and keeps memory flat."""
        # Each file once, in the place it comes first (as ruff does): `lint g.json ./g.json`,
        # `lint - -`, `lint d d/a.json` and `lint d/a.json d` check it once. What is named
        # on the command line is known by (device, inode); a walk asks only for entries
        # with one of those names, so nothing is kept per file of a walk.
        named: dict[str, tuple[int, int] | None] = {}
        dirs: set[str] = set()  # the named paths that are directories (from the same stat)
        for raw in paths:
            if raw != "-" and raw not in named:
                try:
                    st = os.stat(raw)
                except (OSError, ValueError):
                    named[raw] = None
                    continue
                named[raw] = (st.st_dev, st.st_ino)
                if stat.S_ISDIR(st.st_mode):
                    dirs.add(raw)
        self._named_ids = {i for i in named.values() if i is not None}
        self._named_names = {os.path.basename(os.path.normpath(p)) for p, i in named.items()
                             if i is not None} if len(named) > 1 else set()
        self._done = set()
        missing: set[str] = set()
        stdin = False
        for raw in paths:
            if raw == "-":
                if not stdin:
                    stdin = True
                    yield raw
                continue
            ident = named[raw]
            if ident is None:  # not there: said once, as given first
                if os.path.normpath(raw) not in missing:
                    missing.add(os.path.normpath(raw))
                    yield raw
                continue
            if ident in self._done:
                continue
            self._done.add(ident)
            if raw in dirs:
                yield from self._walk(raw)
            elif self.force_exclude and (self.exclude or self.respect_gitignore) \
                    and self.excluded_path(raw):  # (it exists: its stat gave the ident)
                self.skipped.append(raw)
            else:
                yield raw

    def _walk(self, top: str) -> Iterator[str]:
        # Depth first with an explicit stack (no recursion limit on deep trees). Within a
        # directory, a subdirectory sorts as its name plus "/": that is how a sort of the
        # full paths would place its files, so the output is in sorted order.
        stack = [iter(self._entries(top, os.path.abspath(top)))]
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
            elif entry[1] is None:
                yield entry[0]
            else:
                stack.append(iter(self._entries(entry[0], entry[1])))

    def _entries(self, root: str, absroot: str) -> list[tuple[str, str | None]]:
        """One directory's payload files (path, None) and subdirectories (path, absolute
        path) to descend into, in order. Symbolic links to directories are not followed.
        A directory that cannot be listed is an :class:`Unreadable` path (a lint that
        passed over it would pass without checking its files), and so is a symbolic
        link to nothing; FIFOs, sockets and devices are passed over (reading a FIFO
        would block the lint; name one on the command line to read it)."""
        try:
            with os.scandir(root) as it:
                listing = list(it)
        except OSError as exc:
            return [(Unreadable(root, f"cannot read: {exc.strerror or exc}"), None)]
        dirs: list[str] = []
        files: list[str] = []
        odd: dict[str, str | None] = {}  # not a regular file: name -> why it is reported
        for e in listing:
            try:
                is_dir = e.is_dir()
            except OSError:
                is_dir = False
            if not is_dir:
                files.append(e.name)
                if not _is_file(e):
                    odd[e.name] = _dangling(e)
            elif not _is_link(e):
                dirs.append(e.name)
        # Each source's patterns, with this directory's path relative to its base: the
        # entries below are then matched by name, with no path arithmetic per file.
        excludes: list[tuple[IgnoreRules, str]] = []
        ignores: list[tuple[IgnoreRules, str]] = []
        if self.exclude or self.respect_gitignore:
            self._gitignore(absroot, files)  # read this directory's own .gitignore
            for rules in self.exclude:
                rel = rules.rel_dir(absroot)
                if rel is not None:
                    excludes.append((rules, rel))
            for rules in self._chain(absroot):
                rel = rules.rel_dir(absroot)
                if rel is not None:
                    ignores.append((rules, rel))
        check = bool(excludes or ignores)
        suffixes = self.suffixes
        # Per directory, not per file: this loop sees every file of a large lint.
        names = [f for f in files if f.endswith(suffixes) and f[:1] != "."]
        if odd:
            names = [f for f in names if f not in odd or odd[f] is not None]
        if self._report_names and not self._report_names.isdisjoint(names):
            names = [f for f in names if f not in self._report_names
                     or not self.is_report(os.path.join(absroot, f))]
        if check:
            # Sources whose patterns are all for directories say nothing about a file.
            file_excludes = [x for x in excludes if x[0].matches_files]
            file_ignores = [x for x in ignores if x[0].matches_files]
            if file_excludes or file_ignores:
                kept = [f for f in names if not _excluded(f, False, file_excludes, file_ignores)]
                self.excluded += len(names) - len(kept)
                names = kept
        prefix = root if root.endswith(os.sep) else root + os.sep
        # Names sort as plain strings (no key function: the C comparison alone); a
        # name holds no "/", so the one at the end marks a subdirectory.
        shown = [d for d in dirs if not d.startswith(".")]
        subdirs = [d + "/" for d in shown
                   if not (check and _excluded(d, True, excludes, ignores))]
        self.excluded += len(shown) - len(subdirs)
        names += subdirs
        if self._named_names and not self._named_names.isdisjoint(n.rstrip("/") for n in names):
            names = [n for n in names if n.rstrip("/") not in self._named_names
                     or self._first_time(os.path.join(absroot, n.rstrip("/")))]
        names.sort()
        out: list[tuple[str, str | None]] = [
            (prefix + n, None) if n[-1] != "/"
            else (prefix + n[:-1], os.path.join(absroot, n[:-1])) for n in names]
        if odd:
            out = [(Unreadable(p, why), None) if a is None and (why := odd.get(p[len(prefix):]))
                   else (p, a) for p, a in out]
        return out


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _is_file(entry: os.DirEntry[str]) -> bool:
    """A regular file, or a symbolic link to one (no system call for a plain entry)."""
    try:
        return entry.is_file()
    except OSError:
        return False


def _dangling(entry: os.DirEntry[str]) -> str | None:
    """Why a symbolic link that leads to no file is reported; None for what is passed
    over (a FIFO, a socket, a device, or a link to one)."""
    try:
        if not entry.is_symlink():
            return None
        os.stat(entry.path)
    except FileNotFoundError:
        try:
            target = os.readlink(entry.path)
        except OSError:
            target = "?"
        return f"a symbolic link to {target}, which does not exist"
    except OSError as exc:  # a loop of links, a directory that cannot be searched
        return f"cannot read: {exc.strerror or exc}"
    return None


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return True


def _excluded(name: str, is_dir: bool, excludes: Sequence[tuple[IgnoreRules, str]],
              ignores: Sequence[tuple[IgnoreRules, str]]) -> bool:
    """An entry of a directory: excluded by a pattern, or ignored by the nearest .gitignore
    that has a say (each source paired with the directory's path relative to its base)."""
    for rules, rel in excludes:
        if rules.verdict_rel(rel + name, is_dir):
            return True
    for rules, rel in ignores:
        v = rules.verdict_rel(rel + name, is_dir)
        if v is not None:
            return v
    return False
