"""File discovery: gitignore-style patterns, .gitignore files in a work tree, explicit paths."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from aimlcat._discover import IgnoreRules, Walker, compile_pattern, find_git_root


def matches(pattern: str, path: str, is_dir: bool = False) -> bool | None:
    rules = IgnoreRules("/base", [pattern])
    return rules.verdict_rel(path, is_dir)


@pytest.mark.parametrize(("pattern", "path", "is_dir", "expected"), [
    ("*.json", "a.json", False, True),
    ("*.json", "deep/er/a.json", False, True),  # no slash: a name at any depth
    ("*.json", "a.yaml", False, None),
    ("/top.json", "top.json", False, True),  # a leading slash anchors
    ("/top.json", "sub/top.json", False, None),
    ("sub/x.json", "sub/x.json", False, True),  # a slash in the middle anchors too
    ("sub/x.json", "a/sub/x.json", False, None),
    ("build/", "build", True, True),  # a trailing slash: directories only
    ("build/", "build", False, None),
    ("**/fixtures", "a/b/fixtures", True, True),
    ("**/fixtures", "fixtures", True, True),
    ("logs/**", "logs/a/b.json", False, True),
    ("a/**/b.json", "a/b.json", False, True),
    ("a/**/b.json", "a/x/y/b.json", False, True),
    ("req-0?.json", "req-01.json", False, True),
    ("req-0?.json", "req-001.json", False, None),
    ("req-[0-4].json", "req-3.json", False, True),
    ("req-[!0-4].json", "req-7.json", False, True),
    ("req-[!0-4].json", "req-3.json", False, None),
    # A reversed range is its first character alone, as git reads it (the regex engine
    # refused it: a traceback); a class's members are literal characters.
    ("req-[z-a].json", "req-z.json", False, True),
    ("req-[z-a].json", "req-b.json", False, None),
    ("req-[xz-a].json", "req-x.json", False, True),
    ("req-[!z-a].json", "req-b.json", False, True),
    ("req-[!z-a].json", "req-z.json", False, None),
    ("req-[a&&b].json", "req-&.json", False, True),
    ("req-[[].json", "req-[.json", False, True),
    # `]` first in a class is a member, after a `!` or `^` too: `[!]]` is any character
    # but `]`. `[!]` and `[^]` were cut at that `]`, and their empty negated class ended
    # the lint with re.error; unclosed, they are literal, as an unclosed `[` is.
    ("req-[!]].json", "req-a.json", False, True),
    ("req-[!]].json", "req-].json", False, None),
    ("req-[^]a].json", "req-b.json", False, True),
    ("req-[^]a].json", "req-a.json", False, None),
    ("req-[!].json", "req-[!].json", False, True),
    ("req-[!].json", "req-a.json", False, None),
    ("[^]", "[^]", False, True),
    ("\\#hash.json", "#hash.json", False, True),
    ("# a comment", "# a comment", False, None),
    ("", "anything", False, None),
    ("*.json  ", "a.json", False, True),  # trailing blanks are dropped
])
def test_patterns(pattern: str, path: str, is_dir: bool, expected: bool | None) -> None:
    assert matches(pattern, path, is_dir) is expected


def test_negation_last_match_wins() -> None:
    rules = IgnoreRules("/base", ["*.json", "!keep.json", "keep.json"])
    assert rules.verdict_rel("keep.json", False) is True
    rules = IgnoreRules("/base", ["*.json", "!keep.json"])
    assert rules.verdict_rel("keep.json", False) is False
    assert rules.verdict_rel("other.json", False) is True


def test_compile_pattern_is_a_regex() -> None:
    compiled = compile_pattern("a/**/*.json")
    assert compiled is not None
    assert re.fullmatch(compiled[0], "a/b/c.json")
    assert compile_pattern("#x") is None


def tree(root: Path, files: list[str]) -> None:
    for f in files:
        p = root / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("{}\n")


def rel(root: Path, found: list[str]) -> list[str]:
    return [Path(p).relative_to(root).as_posix() for p in found]


def test_gitignore_files_in_a_work_tree(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    tree(tmp_path, ["a.json", "out/x.json", "sub/b.json", "sub/c.tmp.json", "sub/keep.tmp.json",
                    "sub/deeper/d.yaml", "notes.txt", "x.jsonl", "y.jsonl.gz", "z.json.gz"])
    (tmp_path / ".gitignore").write_text("out/\n*.tmp.json\n")
    (tmp_path / "sub" / ".gitignore").write_text("!keep.tmp.json\ndeeper/\n")
    (tmp_path / ".git" / "info").mkdir()
    (tmp_path / ".git" / "info" / "exclude").write_text("x.jsonl\n")
    found = rel(tmp_path, list(Walker(respect_gitignore=True).files([str(tmp_path)])))
    assert found == ["a.json", "sub/b.json", "sub/keep.tmp.json", "y.jsonl.gz"]
    everything = rel(tmp_path, list(Walker().files([str(tmp_path)])))
    assert everything == ["a.json", "out/x.json", "sub/b.json", "sub/c.tmp.json",
                          "sub/deeper/d.yaml", "sub/keep.tmp.json", "x.jsonl", "y.jsonl.gz"]


def test_directory_only_gitignore_does_not_hide_a_shallower_file_pattern(tmp_path: Path) -> None:
    # A .gitignore whose patterns are all for directories is passed over for files (it
    # has nothing to say about them): the shallower one's file patterns still apply.
    (tmp_path / ".git").mkdir()
    tree(tmp_path, ["a.json", "a.tmp.json", "sub/b.json", "sub/b.tmp.json", "sub/out/c.json",
                    "sub/out.json"])
    (tmp_path / ".gitignore").write_text("*.tmp.json\n")
    (tmp_path / "sub" / ".gitignore").write_text("out/\nbuild/\n")
    assert not IgnoreRules(str(tmp_path), ["out/", "build/"]).matches_files
    assert IgnoreRules(str(tmp_path), ["out/", "!keep.json"]).matches_files
    found = rel(tmp_path, list(Walker(respect_gitignore=True).files([str(tmp_path)])))
    assert found == ["a.json", "sub/b.json", "sub/out.json"]
    found = rel(tmp_path, list(Walker(exclude=[IgnoreRules(str(tmp_path), ["sub/"])]).files(
        [str(tmp_path)])))
    assert found == ["a.json", "a.tmp.json"]


def test_named_paths_win_unless_force_exclude(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    tree(tmp_path, ["out/x.json", "out/deeper/y.json", "ok.json"])
    (tmp_path / ".gitignore").write_text("out/\n")
    w = Walker(respect_gitignore=True)
    # a directory named on the command line is walked; a file named is read
    assert rel(tmp_path, list(w.files([str(tmp_path / "out")]))) == [
        "out/deeper/y.json", "out/x.json"]
    assert list(w.files([str(tmp_path / "out" / "x.json")])) == [str(tmp_path / "out/x.json")]
    forced = Walker(respect_gitignore=True, force_exclude=True)
    named = [str(tmp_path / "out" / "deeper" / "y.json"), str(tmp_path / "ok.json")]
    assert list(forced.files(named)) == [str(tmp_path / "ok.json")]
    assert forced.skipped == [named[0]]


def test_exclude_patterns_apply_below_their_base(tmp_path: Path) -> None:
    tree(tmp_path, ["p/a.json", "p/drafts/b.json", "p/c.draft.json", "q/drafts/d.json"])
    w = Walker(exclude=[IgnoreRules(str(tmp_path / "p"), ["drafts/", "*.draft.json"])])
    assert rel(tmp_path, list(w.files([str(tmp_path)]))) == ["p/a.json", "q/drafts/d.json"]


def test_outside_a_work_tree_gitignore_is_not_read(tmp_path: Path) -> None:
    if find_git_root(str(tmp_path)) is not None:
        pytest.skip("the temporary directory is inside a git work tree here")
    tree(tmp_path, ["a.json", "b.json"])
    (tmp_path / ".gitignore").write_text("b.json\n")
    assert rel(tmp_path, list(Walker(respect_gitignore=True).files([str(tmp_path)]))) == [
        "a.json", "b.json"]


def test_missing_paths_and_stdin_pass_through(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.json")
    assert list(Walker().files(["-", missing])) == ["-", missing]


def test_hidden_entries_are_skipped(tmp_path: Path) -> None:
    tree(tmp_path, [".hidden.json", ".dir/a.json", "v.json"])
    assert rel(tmp_path, list(Walker().files([str(tmp_path)]))) == ["v.json"]


def test_order_is_sorted_per_argument(tmp_path: Path) -> None:
    tree(tmp_path, ["b/2.json", "b/1.json", "a/9.json"])
    found = list(Walker().files([str(tmp_path / "b"), str(tmp_path / "a")]))
    assert [os.path.basename(p) for p in found] == ["1.json", "2.json", "9.json"]
