"""Configuration: finding the file, reading it strictly, selecting codes, merging catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest

import aimlcat
from aimlcat._config import (
    Selector,
    check_required_catalog,
    find_config,
    load_config,
    merged_catalog,
    parse_codes,
)
from aimlcat._exceptions import CatalogError, UsageError

FULL = """\
[project]
name = "team-payloads"

[tool.aimlcat]
select = ["AML"]
ignore = ["AML105", "aml2"]
fail-level = "warning"
endpoint = "/v1/chat/completions"
exclude = ["drafts/"]
respect-gitignore = false
extra-catalogs = ["private"]
required-catalog = ">=2026.8"

[tool.aimlcat.per-file-ignores]
"legacy/**" = ["AML3"]
"*.batch.jsonl" = ["AML003"]
"""


def test_reads_every_key_relative_to_its_directory(tmp_path: Path) -> None:
    (tmp_path / "private").mkdir()
    (tmp_path / "pyproject.toml").write_text(FULL)
    cfg = load_config(str(tmp_path / "pyproject.toml"))
    assert cfg.select == ("AML",)
    assert cfg.ignore == ("AML105", "AML2")
    assert cfg.fail_level == "warning"
    assert cfg.endpoint == "/v1/chat/completions"
    assert cfg.exclude == ("drafts/",)
    assert cfg.respect_gitignore is False
    assert cfg.extra_catalogs == (str(tmp_path / "private"),)
    assert cfg.required_catalog == ">=2026.8"
    assert cfg.per_file_ignores == (("legacy/**", ("AML3",)), ("*.batch.jsonl", ("AML003",)))
    assert cfg.base == str(tmp_path)


def test_found_upward_and_nearest_wins(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text('[tool.aimlcat]\nselect = ["AML3"]\n')
    # a pyproject.toml without the table does not count, even named `aimlcat`
    (tmp_path / "a" / "pyproject.toml").write_text(
        '[project]\nname = "aimlcat-user"\n[project.scripts]\naimlcat = "x:y"\n')
    assert find_config(str(deep)) == str(tmp_path / "pyproject.toml")
    (tmp_path / "a" / "b" / ".aimlcat.toml").write_text('ignore = ["AML1"]\n')
    assert find_config(str(deep)) == str(tmp_path / "a" / "b" / ".aimlcat.toml")
    cfg = load_config(str(tmp_path / "a" / "b" / ".aimlcat.toml"))
    assert cfg.ignore == ("AML1",)


@pytest.mark.parametrize("text", [
    "[tool]\naimlcat = {select = [\"AML3\"]}\n",
    "tool.aimlcat.select = [\"AML3\"]\n",
    "[tool.aimlcat]\n",
    "[ tool . aimlcat ]\n",
])
def test_every_spelling_of_the_table_is_found(tmp_path: Path, text: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    assert find_config(str(tmp_path)) == str(tmp_path / "pyproject.toml")


@pytest.mark.parametrize(("text", "message"), [
    ("[tool.aimlcat]\nselcet = [\"AML3\"]\n", "unknown key `selcet`; did you mean `select`?"),
    ("[tool.aimlcat]\nselect = \"AML9\"\n", "'AML9' is no rule code"),
    ("[tool.aimlcat]\nselect = [\"AML31\"]\n", "'AML31' is no rule code"),
    ("[tool.aimlcat]\nignore = [1]\n", "expected a list of strings"),
    ("[tool.aimlcat]\nfail-level = \"fatal\"\n", "'fatal' is not one of error, warning, info"),
    ("[tool.aimlcat]\nextra-catalogs = [\"nowhere\"]\n", "'nowhere' is not a directory"),
    ("[tool.aimlcat]\nrespect-gitignore = \"yes\"\n", "expected true or false"),
    ("[tool.aimlcat]\nper-file-ignores = [\"x\"]\n", "expected a table"),
    ("[tool.aimlcat\n", "invalid TOML"),
])
def test_mistakes_are_usage_errors_naming_file_and_key(tmp_path: Path, text: str,
                                                       message: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    with pytest.raises(UsageError) as info:
        load_config(str(path))
    assert message in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(("name", "text", "where"), [
    # each spelling of the table, the key bare or quoted, after comments and other tables
    ("pyproject.toml", '[project]\nname = "x"\n\n[tool.aimlcat]\nselect = ["AML9"]\n',
     ":5: [tool.aimlcat] select: 'AML9' is no rule code"),
    ("pyproject.toml", 'tool.aimlcat.fail-level = "fatal"\n',
     ":1: [tool.aimlcat] fail-level: 'fatal' is not one of"),
    ("pyproject.toml", '[tool]\nname = 1\naimlcat = {ignore = ["x"], "max-bytes" = 0}\n',
     ":3: [tool.aimlcat] ignore: 'x' is no rule code"),
    ("pyproject.toml", ("[tool.aimlcat]\n# select = 1\nexclude = ['select = 2']\n"
                       "\"select\" = [\n  'AML3',\n  'AML9',\n]\n"),
     ":4: [tool.aimlcat] select: 'AML9' is no rule code"),
    ("pyproject.toml", ('[tool.aimlcat.per-file-ignores]\n"old/**" = ["AML3"]\n'
                       '"new/**" = ["AML31"]\n'),
     ":3: [tool.aimlcat] per-file-ignores 'new/**': 'AML31' is no rule code"),
    ("pyproject.toml", "[tool.aimlcat]\n\nrespect_gitignore = false\n",
     ":3: [tool.aimlcat] unknown key `respect_gitignore`; did you mean `respect-gitignore`?"),
    ("pyproject.toml", "[tool]\naimlcat = 3\n", ":2: [tool.aimlcat] must be a table"),
    (".aimlcat.toml", '\n\nmax-bytes = -1\n', ":3: max-bytes: expected a positive whole"),
    (".aimlcat.toml", '[tool.aimlcat]\ncache-dir = ""\n',
     ":2: [tool.aimlcat] cache-dir: expected a directory"),
    # the same key in another table, before or after; Windows line ends; a byte order mark
    ("pyproject.toml", '[tool.ruff]\nselect = ["E"]\n\n[tool.aimlcat]\nselect = ["AML9"]\n',
     ":5: [tool.aimlcat] select: 'AML9' is no rule code"),
    ("pyproject.toml", '[tool.aimlcat]\nselect = ["AML9"]\n[tool.ruff]\nselect = ["E"]\n',
     ":2: [tool.aimlcat] select: 'AML9' is no rule code"),
    ("pyproject.toml", '[tool.aimlcat]\r\n\r\nselect = ["AML9"]\r\n',
     ":3: [tool.aimlcat] select: 'AML9' is no rule code"),
    (".aimlcat.toml", '\ufeff# the team\n\nselect = ["AML9"]\n',
     ":3: select: 'AML9' is no rule code"),
])
def test_mistakes_name_the_line_of_the_key(tmp_path: Path, name: str, text: str,
                                           where: str) -> None:
    """`FILE:LINE: key: message`, as catalog and payload errors are placed; tomllib keeps
    no positions, so the line is found by parsing the file again with the key renamed."""
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(UsageError) as info:
        load_config(str(path))
    assert str(info.value).startswith(str(path) + where), str(info.value)


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    """Notepad and PowerShell start UTF-8 files with a byte order mark; tomllib refuses
    it ("Invalid statement (at line 1, column 1)"), where ruff and cargo read past it."""
    for name, text in ((".aimlcat.toml", 'select = ["AML3"]\n'),
                       ("pyproject.toml", '[tool.aimlcat]\nselect = ["AML3"]\n')):
        for old in tmp_path.iterdir():
            old.unlink()
        path = tmp_path / name
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
        assert find_config(str(tmp_path)) == str(path)
        assert load_config(str(path)).select == ("AML3",)


@pytest.mark.parametrize("name", [".aimlcat.toml", "pyproject.toml"])
def test_a_file_that_is_not_utf8_is_a_usage_error_at_its_line(tmp_path: Path,
                                                             name: str) -> None:
    """A comment saved in Latin-1 (`# café`) ended the run with a UnicodeDecodeError
    traceback: tomllib decodes the bytes itself and raises no TOMLDecodeError for them."""
    path = tmp_path / name
    path.write_bytes(b'[tool.aimlcat]\nselect = ["AML3"]\n# caf\xe9\n')
    with pytest.raises(UsageError) as info:
        load_config(str(path))
    assert str(info.value) == (f"{path}:3: not UTF-8 (byte 0xe9); TOML is UTF-8: save the "
                               "file as UTF-8")
    if name == "pyproject.toml":  # found by the search too, where it is read first
        with pytest.raises(UsageError, match=r":3: not UTF-8"):
            find_config(str(tmp_path))


def test_selection_by_prefix_the_more_specific_wins() -> None:
    sel = Selector(select=("AML3",), ignore=("AML302",))
    assert [c for c in aimlcat.RULES if sel.enabled(c)] == ["AML301", "AML303"]
    sel = Selector(select=("AML302",), ignore=("AML3",))
    assert [c for c in aimlcat.RULES if sel.enabled(c)] == ["AML302"]
    assert Selector().trivial and not Selector(ignore=("AML1",)).trivial
    assert parse_codes(["all", " aml40 "], "--select") == ("AML", "AML40")


def test_per_file_ignores_match_globs_below_the_config(tmp_path: Path) -> None:
    sel = Selector(per_file_ignores=[("legacy/**", ("AML3",)), ("*.jsonl", ("AML003",))],
                   base=str(tmp_path))
    assert sel.ignored_here(str(tmp_path / "legacy" / "old" / "a.json")) == ("AML3",)
    assert sel.ignored_here(str(tmp_path / "logs" / "day.jsonl")) == ("AML003",)
    assert sel.ignored_here(str(tmp_path / "new" / "a.json")) == ()
    assert sel.ignored_here("<stdin>") == ()


def test_a_negated_per_file_glob_applies_to_the_files_it_does_not_match(tmp_path: Path) -> None:
    """As in ruff, `"!requests/**" = ["AML105"]` switches AML105 off outside requests/;
    the `!` was dropped and the codes switched off inside it, the opposite."""
    sel = Selector(per_file_ignores=[("!requests/**", ("AML105",)), ("*.jsonl", ("AML003",))],
                   base=str(tmp_path))
    assert sel.ignored_here(str(tmp_path / "requests" / "a.json")) == ()
    assert sel.ignored_here(str(tmp_path / "scratch" / "a.json")) == ("AML105",)
    assert sel.ignored_here(str(tmp_path / "requests" / "d.jsonl")) == ("AML003",)
    assert sel.ignored_here(str(tmp_path.parent / "elsewhere.json")) == ("AML105",)


def test_required_catalog() -> None:
    version = aimlcat.load_catalog().version
    check_required_catalog(f">={version}", version, "pyproject.toml")
    check_required_catalog(f"=={version}", version, "pyproject.toml")
    with pytest.raises(UsageError) as info:
        check_required_catalog(">=2999.1", version, "/p/pyproject.toml")
    text = str(info.value)
    assert "/p/pyproject.toml" in text and "'>=2999.1'" in text and version in text
    with pytest.raises(UsageError, match="not a PEP 440 version specifier"):
        check_required_catalog("newest please", version, "pyproject.toml")


PRIVATE = (Path(__file__).parent / "fixtures" / "private" / "team-chat.yaml").read_text()


def test_extra_catalogs_merge_with_the_bundled_one(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir()
    (private / "chat.yaml").write_text(PRIVATE)
    cat = merged_catalog([str(private)])
    assert isinstance(cat, aimlcat.Catalog)
    assert cat.version == aimlcat.load_catalog().version
    body = {"model": "example/team-chat", "messages": [{"role": "user", "content": "Hi"}]}
    assert cat.validate(body).findings == []
    r = cat.validate({**body, "max_tokens": 5, "temperatur": 1})
    assert [f.code for f in r.findings] == ["AML302", "AML301"]
    assert cat.validate({"model": "gpt-4o", "messages": []}).model == "gpt-4o"  # bundled ones too
    assert "example/team-chat" not in aimlcat.load_catalog()  # the bundled catalog is untouched


def test_a_broken_private_catalog_names_the_real_file(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir()
    (private / "chat.yaml").write_text(PRIVATE.replace("openai-chat", "openai-chatt"))
    with pytest.raises(CatalogError) as info:
        merged_catalog([str(private)])
    (problem,) = info.value.problems
    assert problem.file == str(private / "chat.yaml")
    assert "openai-chatt" in problem.message
