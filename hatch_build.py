"""Build hook: compile aimlcat/_verdict.c, the compact yes/no checker (optional).

The extension is an accelerator only: when no C compiler is found, or compiling
fails, the build goes on without it and aimlcat validates with jsonschema-rs
alone (same verdicts, slower on long lints; see aimlcat/_compact.py). Set
``AIMLCAT_REQUIRE_EXTENSION=1`` to make a failed compile fail the build (CI does).

Run as a script (``python hatch_build.py``) it compiles the module in place, for
a source checkout that was installed before the extension existed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
SOURCE = ROOT / "aimlcat" / "_verdict.c"


def target() -> Path:
    return ROOT / "aimlcat" / ("_verdict" + sysconfig.get_config_var("EXT_SUFFIX"))


def compile_extension(out: Path) -> str | None:
    """Compile SOURCE into ``out``; None on success, else why it failed (one line)."""
    cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    if not cc or shutil.which(cc[0]) is None:
        return f"no C compiler ({' '.join(cc) or 'CC unset'})"
    ldshared = shlex.split(sysconfig.get_config_var("LDSHARED") or "")
    link = ["-shared"] if sys.platform != "darwin" else ["-bundle", "-undefined",
                                                          "dynamic_lookup"]
    if ldshared:  # the interpreter's own link flags, minus its compiler name
        link = [a for a in ldshared[1:] if a not in ("-pthread",)] or link
    include = sysconfig.get_paths()["include"]
    tmp = out.with_name(out.name + ".tmp")
    cmd = [*cc, "-O2", "-fPIC", "-std=c99", "-Wall", "-Werror=implicit-function-declaration",
           f"-I{include}", str(SOURCE), *link, "-o", str(tmp)]
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        tmp.unlink(missing_ok=True)
        return f"{cc[0]}: {exc}"
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return f"{cc[0]} exited {proc.returncode}: {last}"
    os.replace(tmp, out)
    return None


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script, outside a build
    BuildHookInterface = object  # type: ignore[misc,assignment]


class CustomBuildHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    """Compile the extension into the wheel (a temporary file), or, for an editable
    install, next to its source (where the editable install imports it from)."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._tmp: str | None = None
        if self.target_name != "wheel":
            return
        if version == "editable":
            out = target()
        else:
            import tempfile

            self._tmp = tempfile.mkdtemp(prefix="aimlcat-ext-")
            out = Path(self._tmp) / target().name
        problem = compile_extension(out)
        if problem is not None:
            if os.environ.get("AIMLCAT_REQUIRE_EXTENSION", "") not in ("", "0"):
                raise RuntimeError(f"aimlcat: compiling {SOURCE.name} failed: {problem}")
            print(f"aimlcat: {SOURCE.name} not compiled ({problem}); "
                  "validating with jsonschema-rs alone", file=sys.stderr)
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(out)] = f"aimlcat/{out.name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if getattr(self, "_tmp", None):
            shutil.rmtree(self._tmp, ignore_errors=True)


if __name__ == "__main__":
    problem = compile_extension(target())
    print(problem or f"built {target().relative_to(ROOT)}")
    sys.exit(1 if problem else 0)
