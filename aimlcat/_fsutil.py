"""Atomic file writes: a temporary file in the same directory, then os.replace.

Every file aimlcat writes (``lint --fix``, ``build``, ``import-openapi``) goes
through :func:`atomic_binary`: a reader, or a process killed half-way, sees
the old file or the new one, never half of it. Permissions are kept; a
symbolic link or a read-only file is refused with a clear message.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_binary", "atomic_write_text"]


def _target_mode(path: str) -> int:
    """The mode the new file gets; refuses what must not be replaced."""
    if os.path.islink(path):
        raise OSError(f"{path}: refusing to write through a symbolic link")
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return 0o644
    if not mode & 0o222:
        # Replacing the directory entry would work (even for root); a read-only
        # file is someone's way of saying "do not touch".
        raise PermissionError(f"{path}: the file is read-only; not changed "
                              "(make it writable to let aimlcat rewrite it)")
    return mode


@contextmanager
def atomic_binary(path: str | Path) -> Iterator[IO[bytes]]:
    """Write ``path`` through a temporary file in its directory, then ``os.replace``.

    Streaming (JSON Lines and gzip files are written a line at a time); an
    exception inside the block leaves the original untouched."""
    path = str(path)
    mode = _target_mode(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8), atomically; see :func:`atomic_binary`."""
    with atomic_binary(path) as fh:
        fh.write(text.encode("utf-8"))
