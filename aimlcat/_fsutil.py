"""Atomic file writes: a temporary file in the same directory, then os.replace.

Every file aimlcat writes (``lint --fix``, ``lint -o``, ``build``,
``import-openapi``) goes through :func:`atomic_binary`: a reader, or a process
killed half-way, sees the old file or the new one, never half of it. Permissions
are kept, and so are owner and group where the process may set them; a symbolic
link, a read-only file or a file with several hard links (a new file would break
them) is refused with a clear message.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_binary", "atomic_text", "atomic_write_text", "check_target",
           "write_error"]


def _target(path: str) -> os.stat_result | None:
    """The file to be replaced (None: a new one); refuses what must not be replaced."""
    if os.path.islink(path):
        raise OSError(f"{path}: refusing to write through a symbolic link")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if not st.st_mode & 0o222:
        # Replacing the directory entry would work (even for root); a read-only
        # file is someone's way of saying "do not touch".
        raise PermissionError(f"{path}: the file is read-only; not changed "
                              "(make it writable to let aimlcat rewrite it)")
    if st.st_nlink > 1 and not os.path.isdir(path):
        # A new file in its place would leave the other names with the old text.
        raise OSError(f"{path}: the file has {st.st_nlink} hard links; not changed "
                      "(a rewrite would break them: edit it in place, or copy it first)")
    return st


def _keep_owner(fd: int, st: os.stat_result) -> None:
    """Give the new file the old one's owner and group where this process may (root can;
    others can set a group they belong to); otherwise it stays theirs, as any edit would."""
    if (st.st_uid, st.st_gid) == (os.geteuid(), os.getegid()):
        return
    for uid, gid in ((st.st_uid, st.st_gid), (-1, st.st_gid)):
        try:
            os.fchown(fd, uid, gid)
            return
        except OSError:
            continue


def check_target(path: str | Path) -> None:
    """Raise the OSError :func:`atomic_binary` would, before any work is done: a symbolic
    link, a read-only file, a directory, or a directory to write in that does not exist.
    (A command that writes after a long run checks first, so it fails in a second.)"""
    path = str(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path}: is a directory")
    _target(path)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"{path}: no directory {parent}")


def write_error(path: str | Path, exc: OSError) -> str:
    """``cannot write PATH: why`` for an OSError of a write, the path said once."""
    why = exc.strerror or str(exc)
    return f"cannot write {path}: {why.removeprefix(f'{path}: ')}"


@contextmanager
def atomic_binary(path: str | Path) -> Iterator[IO[bytes]]:
    """Write ``path`` through a temporary file in its directory, then ``os.replace``.

    Streaming (JSON Lines and gzip files are written a line at a time); an
    exception inside the block leaves the original untouched."""
    path = str(path)
    st = _target(path)
    mode = 0o644 if st is None else st.st_mode & 0o7777
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                               dir=directory)
    fh = os.fdopen(fd, "wb")
    try:
        yield fh
        fh.flush()
        if st is not None and hasattr(os, "fchown"):
            _keep_owner(fh.fileno(), st)
        os.fsync(fh.fileno())
        fh.close()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            fh.close()  # flushes what is buffered: a disk that is full fails again here
        except OSError:
            pass  # the error on its way says it first
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8), atomically; see :func:`atomic_binary`."""
    with atomic_binary(path) as fh:
        fh.write(text.encode("utf-8"))


class _NamedText(io.TextIOWrapper):
    """A text stream whose write errors name its file (``exc.filename``), however far
    from the write they are caught: a report's disk-full is then ``cannot write FILE``."""

    path = ""

    def write(self, s: str) -> int:
        try:
            return super().write(s)
        except OSError as exc:
            raise _named(exc, self.path) from None

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as exc:
            raise _named(exc, self.path) from None


def _named(exc: OSError, path: str) -> OSError:
    if exc.filename is None:
        exc.filename = path
    return exc


@contextmanager
def atomic_text(path: str | Path) -> Iterator[IO[str]]:
    """:func:`atomic_binary` as a UTF-8 text stream (``\\n`` line ends), written as it
    comes (a lint report of millions of files keeps nothing in memory). An OSError
    of a write carries ``path`` as its ``filename``."""
    path = str(path)
    with atomic_binary(path) as raw:
        # surrogateescape: a file name that is not UTF-8 is written as its bytes, as on
        # a terminal (the text and github formats); the others make it valid first.
        text = _NamedText(raw, encoding="utf-8", errors="surrogateescape", newline="\n",
                          write_through=False)
        text.path = path
        try:
            yield text
            text.flush()
        finally:
            try:
                text.detach()  # atomic_binary closes the file, not the wrapper
            except (OSError, ValueError):
                pass  # an error already on its way says what went wrong
