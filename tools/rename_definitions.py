"""Rename shared shapes (``definitions`` in catalog/shapes/*.yaml) and every ``ref:`` to them.

    python tools/rename_definitions.py OLD=NEW [OLD=NEW ...] [--dry-run]

The importer names a shape it finds again with another body ``chat_tools_2``,
``chat_tools_3``, ...; this gives such shapes names that say what sets each
apart. Text edits only (comments and layout stay): the definition's key in its
shapes file (moved to keep a sorted file without comments sorted), and each
``ref: OLD`` in the catalog. Refused, with nothing written: an OLD that is not a definition, a NEW
that already is one (or is named twice), and a shape referenced from files this
tool may not edit (``--protect``, by default catalog/families/ and
catalog/vocabulary.yaml, which other people own). Run ``aimlcat check-catalog``
and ``aimlcat build`` afterwards.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "catalog"
PROTECTED = ("families/", "vocabulary.yaml")
_KEY = re.compile(r"^  ([A-Za-z0-9_]+):", re.MULTILINE)


def _ref(name: str) -> re.Pattern[str]:
    return re.compile(r"(\bref:\s*)" + re.escape(name) + r"(?![A-Za-z0-9_.-])")


def _blocks(text: str) -> tuple[str, list[tuple[str, str]]]:
    """A shapes file as (head through ``definitions:``, [(name, block text)])."""
    head, sep, body = text.partition("definitions:\n")
    if not sep:
        raise ValueError("no definitions: section")
    starts = [m.start() for m in _KEY.finditer(body)]
    if starts:  # comments before the first definition stay in the head
        head, body = head + sep + body[:starts[0]], body[starts[0]:]
        sep = ""
        starts = [s - starts[0] for s in starts]
    blocks = []
    for i, s in enumerate(starts):
        chunk = body[s:starts[i + 1] if i + 1 < len(starts) else len(body)]
        name = _KEY.match(chunk)
        assert name is not None
        blocks.append((name.group(1), chunk))
    return head + sep, blocks


def rename(pairs: dict[str, str], protect: tuple[str, ...] = PROTECTED,
           dry_run: bool = False, catalog: Path = CATALOG) -> list[str]:
    """Apply ``pairs`` to the catalog source at ``catalog``; returns what changed, one
    line per file. Raises ValueError, having written nothing."""
    files = sorted(catalog.rglob("*.yaml"))
    texts = {p: p.read_text("utf-8") for p in files}
    shapes = [p for p in files if p.parent.name == "shapes"]
    owner: dict[str, Path] = {}
    for p in shapes:
        for name, _ in _blocks(texts[p])[1]:
            owner[name] = p
    problems = []
    if len(set(pairs.values())) != len(pairs):
        problems.append("a new name is given twice")
    for old, new in pairs.items():
        if old not in owner:
            problems.append(f"{old}: not a definition in catalog/shapes/")
        if new in owner and new not in pairs:
            problems.append(f"{new}: already a definition ({owner[new].name})")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", new):
            problems.append(f"{new}: not a lower_snake_case name")
        for p in files:
            rel = p.relative_to(catalog).as_posix()
            if rel.startswith(protect) and _ref(old).search(texts[p]):
                problems.append(f"{old}: referenced from {rel}, which this tool does not edit")
    if problems:
        raise ValueError("; ".join(problems))
    changed = []
    for p in files:
        text = texts[p]
        refs = 0
        for old, new in pairs.items():
            text, n = _ref(old).subn(lambda m, new=new: m.group(1) + new, text)
            refs += n
        renamed = 0
        if p in shapes:
            head, blocks = _blocks(text)
            out = []
            for name, chunk in blocks:
                if name in pairs:
                    chunk = f"  {pairs[name]}:" + chunk[len(name) + 3:]
                    name = pairs[name]
                    renamed += 1
                out.append((name, chunk))
            names = [n for n, _ in blocks]
            if renamed and names == sorted(names) and not re.search(r"^  #", text, re.MULTILINE):
                # Keep the file's alphabetical order; each block ends with a newline.
                text = head + "".join(c if c.endswith("\n") else c + "\n"
                                      for _, c in sorted(out, key=lambda b: b[0]))
                text = text.rstrip("\n") + "\n"
            elif renamed:
                text = head + "".join(c for _, c in out)
        if text != texts[p]:
            changed.append(f"{p.relative_to(catalog.parent)}: {renamed} definition(s), "
                           f"{refs} ref(s)")
            if not dry_run:
                p.write_text(text, "utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pairs", nargs="+", metavar="OLD=NEW")
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    pairs = {}
    for item in args.pairs:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            print(f"rename_definitions: {item!r} is not OLD=NEW", file=sys.stderr)
            return 2
        pairs[old] = new
    try:
        changed = rename(pairs, dry_run=args.dry_run)
    except ValueError as exc:
        print(f"rename_definitions: {exc}; nothing written", file=sys.stderr)
        return 2
    for line in changed:
        print(("would edit " if args.dry_run else "edited ") + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
