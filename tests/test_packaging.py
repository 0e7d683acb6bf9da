"""Packaging: a cheap ``import aimlcat``, the public names, and the built wheel.

The wheel test builds a real wheel from this checkout, installs it into a
directory of its own and runs it from elsewhere, so it checks what users get,
not the source tree.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

import aimlcat

REPO = Path(__file__).resolve().parent.parent

EXPECTED_ALL = {
    "RULES",
    "AimlcatError",
    "AsyncPreflightTransport",
    "BaseUrlProblem",
    "Catalog",
    "CatalogError",
    "CatalogProblem",
    "Finding",
    "ModelInfo",
    "PayloadError",
    "PreflightError",
    "PreflightTransport",
    "Report",
    "Rule",
    "TokenEstimate",
    "UsageError",
    "__version__",
    "async_client",
    "check_base_url",
    "client",
    "estimate_tokens",
    "load_catalog",
    "validate",
}
HEAVY = ("yaml", "jsonschema", "httpx", "jsonschema_rs")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AIMLCAT_SCHEMAS", "PYTHONPATH")}
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def python(code: str, *, cwd: Path, env: dict[str, str] | None = None,
           timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env or clean_env(),
                          capture_output=True, text=True, encoding="utf-8", timeout=timeout)


# -- (a) import cost and the public surface ---------------------------------------------------


def test_import_is_cheap_and_public_names_load_lazily(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import json, sys
        HEAVY = {HEAVY!r}

        def loaded():
            return sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)

        import aimlcat
        out = {{"after_import": loaded(), "file": aimlcat.__file__}}

        report = aimlcat.validate(
            {{"model": "gpt-4o", "messages": [], "max_tokens": 10}})
        out["codes"] = [f.code for f in report.findings]
        out["fix"] = report.findings[0].fix
        cat = aimlcat.load_catalog()
        out["models"] = len(cat)
        out["flux"] = cat.model("flux/dev").kind
        out["after_validate"] = sorted({{m.split(".")[0] for m in loaded()}})
        for name in aimlcat.__all__:
            getattr(aimlcat, name)
        out["after_all_names"] = sorted({{m.split(".")[0] for m in loaded()}})
        print(json.dumps(out))
    """)
    # This checkout's aimlcat, whatever an editable install points at (a git worktree's
    # tests would otherwise import the main checkout's).
    proc = python(code, cwd=tmp_path, env=clean_env(PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert Path(out["file"]).resolve() == (REPO / "aimlcat" / "__init__.py").resolve()
    assert out["after_import"] == [], "import aimlcat pulled in " + ", ".join(out["after_import"])
    assert out["codes"] == ["AML302"]
    assert out["fix"] == {"op": "move", "from": "/max_tokens", "path": "/max_completion_tokens"}
    assert out["models"] >= 1
    assert out["flux"] == "image"
    # validating needs the compiled engine, nothing else heavy
    assert out["after_validate"] == ["jsonschema_rs"]
    # ... and the pre-flight client and transports (aimlcat.client) need httpx
    assert out["after_all_names"] == ["httpx", "jsonschema_rs"]


def test_public_names() -> None:
    assert set(aimlcat.__all__) == EXPECTED_ALL
    assert len(aimlcat.__all__) == len(EXPECTED_ALL)
    for name in aimlcat.__all__:
        assert getattr(aimlcat, name) is not None, name
    assert dir(aimlcat) == sorted(EXPECTED_ALL)
    assert issubclass(aimlcat.CatalogError, aimlcat.AimlcatError)
    assert issubclass(aimlcat.PayloadError, aimlcat.AimlcatError)
    assert issubclass(aimlcat.UsageError, aimlcat.AimlcatError)
    assert isinstance(aimlcat.__version__, str) and aimlcat.__version__
    assert set(aimlcat.RULES) and all(code.startswith("AML") for code in aimlcat.RULES)
    with pytest.raises(AttributeError):
        aimlcat.no_such_name  # noqa: B018


# -- (b) the wheel ------------------------------------------------------------------------------


def _build_wheel(dest: Path, **env: str) -> Path:
    try:
        import hatchling  # noqa: F401
        extra = ["--no-build-isolation"]
    except ImportError:
        extra = []  # build isolation: pip fetches hatchling from PyPI
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *extra, "--disable-pip-version-check",
         "-q", "-w", str(dest), str(REPO)],
        cwd=dest, env=clean_env(**env), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [wheel] = dest.glob("aimlcat-*.whl")
    return wheel


def _install_wheel(wheel: Path, tmp_path: Path) -> Path:
    """Install ``wheel`` (no dependencies) into a directory of its own; that directory."""
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "-q",
         "--target", str(site), str(wheel)],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return site


@pytest.mark.slow
def test_wheel_contents_and_installed_cli(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = _build_wheel(dist)

    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        schema_files = sorted(p.relative_to(REPO / "schemas").as_posix()
                              for p in (REPO / "schemas").rglob("*.json"))
        assert "index.json" in schema_files and "defs.json" in schema_files
        for rel in schema_files:
            member = f"aimlcat/_data/schemas/{rel}"
            assert member in names, member
            assert zf.read(member) == (REPO / "schemas" / rel).read_bytes(), member
        packaged_schemas = {n for n in names if n.startswith("aimlcat/_data/schemas/")}
        assert packaged_schemas == {f"aimlcat/_data/schemas/{r}" for r in schema_files}
        for p in (REPO / "catalog").rglob("*.yaml"):
            assert f"aimlcat/_data/catalog/{p.relative_to(REPO / 'catalog').as_posix()}" in names
        for member in ("aimlcat/_data/catalog/catalog.yaml", "aimlcat/py.typed",
                       "aimlcat/catalog_file.schema.json", "aimlcat/__init__.py",
                       "aimlcat/__main__.py", "aimlcat/_cli.py"):
            assert member in names, member
        [ep_name] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        eps = configparser.ConfigParser()
        eps.read_string(zf.read(ep_name).decode("utf-8"))
        assert eps["console_scripts"]["aimlcat"] == "aimlcat._cli:main"
        # no tests, no repo-level clutter in the wheel
        assert not any(n.startswith(("tests/", "examples/", "bench/", "schemas/", "catalog/"))
                       for n in names)
        # the compact checker, compiled where this machine can (its source stays out)
        assert "aimlcat/_verdict.c" not in names and "aimlcat/_verdict.pyi" in names
        built = [n for n in names if n.startswith("aimlcat/_verdict.") and n.endswith(
            sysconfig.get_config_var("EXT_SUFFIX"))]
        assert built == ([f"aimlcat/_verdict{sysconfig.get_config_var('EXT_SUFFIX')}"]
                         if _compiler() else []), names

    site = _install_wheel(wheel, tmp_path)

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = clean_env(PYTHONPATH=str(site))
    proc = python("import aimlcat, aimlcat._catalog as c, aimlcat._compact as k; "
                  "print(aimlcat.__file__); print(c.default_schema_dir()); print(k.AVAILABLE)",
                  cwd=work, env=env)
    assert proc.returncode == 0, proc.stderr
    module_file, schema_dir, compact = proc.stdout.splitlines()
    assert compact == str(_compiler())
    module_file, schema_dir = Path(module_file), Path(schema_dir)
    assert module_file.resolve().is_relative_to(site.resolve())
    assert schema_dir.resolve() == (site / "aimlcat" / "_data" / "schemas").resolve()

    bad = work / "bad.json"
    bad.write_text(json.dumps({"model": "o3-mini", "messages": [{"role": "user", "content": "hi"}],
                               "temperature": 0.5}), encoding="utf-8")
    good = work / "good.yaml"
    good.write_text("model: flux/dev\nprompt: a lighthouse at dusk\nguidance_scale: 3.5\n",
                    encoding="utf-8")

    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "aimlcat", *argv], cwd=work, env=env,
                              capture_output=True, text=True, encoding="utf-8", timeout=60)

    proc = cli("lint", "bad.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # line 1 (compact JSON), column 71: the `"temperature"` key
    assert "bad.json:1:71: AML303 error:" in proc.stdout
    proc = cli("lint", "good.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no problems" in proc.stdout
    # the packaged YAML source serves check-catalog from any directory
    proc = cli("check-catalog")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " OK: " in proc.stdout


def _compiler() -> bool:
    """Whether this machine has the C compiler the build hook would use."""
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    return bool(cc) and shutil.which(cc[0]) is not None


@pytest.mark.slow
def test_without_a_c_compiler_the_wheel_is_pure_python_and_works(tmp_path: Path) -> None:
    """The compact checker is an accelerator: a build where compiling fails (no compiler
    here) still makes a working wheel, for any platform, that validates with jsonschema-rs."""
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = _build_wheel(dist, CC=str(tmp_path / "no-such-cc"))
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    with zipfile.ZipFile(wheel) as zf:
        assert not [n for n in zf.namelist() if n.startswith("aimlcat/_verdict.")
                    and not n.endswith(".pyi")]
    site = _install_wheel(wheel, tmp_path)
    proc = python(
        "import json, aimlcat, aimlcat._compact as k\n"
        "r = aimlcat.validate({'model': 'gpt-4o', 'messages': [{'role': 'user', 'content': 1}],"
        " 'temperatur': 1})\n"
        "print(k.AVAILABLE, ','.join(sorted(f.code for f in r.findings)))",
        cwd=tmp_path, env=clean_env(PYTHONPATH=str(site)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "AML301,AML401"], proc.stdout
