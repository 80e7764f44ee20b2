"""Writing a file: the one way every writer of ``extractor`` puts a file on disk.

Records (their resume rewrites), ``--stats-json``, digests, Batch API request and answer
files all go through :func:`atomic_write` (or :func:`replacing`, when the content is
streamed). The target is what the user named, as they expect it:

* a **regular file** (or a new one) is written whole or not at all: the content goes to a
  temporary file beside it, is ``fsync``-ed, renamed over the target, and the directory
  is ``fsync``-ed. A crash leaves the old file or the new one, never half of one. A file
  that existed keeps its permission bits; a new one gets the usual ``0666 & ~umask``;
* a **symlink** is followed: the file it points to is written, the link stays a link;
* a **character device or a FIFO** (``/dev/null``, ``/dev/stdout``, a pipe) is written
  through, never replaced: a device stays a device (``/dev/full`` fails with "no space
  left", in one line);
* a **directory, a block device or a socket** is refused before anything is written.

Nothing but the named file changes: the temporary file is removed whatever happens, and
no directory is created. Every failure is one :class:`~extractor.errors.InputError`
naming the path: ``out.html: cannot write the digest here (a directory); give a file
path``. :func:`check_target` runs the same checks alone, so a command can refuse a bad
path before any work.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "stats.json"
    >>> atomic_write(path, b"{}", what="the stats")
    >>> path.read_bytes()
    b'{}'
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal

from ..errors import InputError

__all__ = ["TargetKind", "atomic_write", "check_target", "fsync_directory", "replacing", "resolved"]

#: What a path names, for a writer: a regular file (or none yet), or a stream written through.
TargetKind = Literal["file", "stream"]

_REFUSED = {
    stat.S_IFDIR: "a directory",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}
_STREAMS = {stat.S_IFCHR: "a character device", stat.S_IFIFO: "a FIFO"}


def _cannot(path: str | Path, what: str, why: str, hint: str = "give another path") -> InputError:
    return InputError(str(path), f"cannot write {what} here ({why}); {hint}")


def resolved(path: str | Path) -> Path:
    """``path`` with its symlinks followed (a link to a file not made yet names that file)."""
    return Path(os.path.realpath(path))


def check_target(
    path: str | Path, what: str = "the file", *, streams: bool = True, hint: str = "give another path"
) -> TargetKind:
    """Whether ``path`` (its symlinks followed) is a file to replace or a stream to write
    through; :class:`InputError` (its message ending in ``hint``) when it is neither: a
    directory, a block device, a socket, a stream when ``streams`` is False, a missing
    directory. Writes nothing."""
    target = resolved(path)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise _cannot(path, what, f"no directory {target.parent}", hint) from None
        return "file"
    except OSError as exc:
        raise _cannot(path, what, exc.strerror or str(exc), hint) from exc
    kind = stat.S_IFMT(mode)
    if kind in _REFUSED:
        raise _cannot(path, what, _REFUSED[kind], hint)
    if kind in _STREAMS:
        if not streams:
            raise _cannot(path, what, f"{_STREAMS[kind]}, not a regular file", hint)
        return "stream"
    if kind != stat.S_IFREG:
        raise _cannot(path, what, "not a regular file", hint)
    return "file"


@contextlib.contextmanager
def replacing(path: str | Path, what: str = "the file") -> Iterator[IO[bytes]]:
    """A binary file to write ``path``'s new content to (see the module docstring); the
    target changes only when the ``with`` block ends without an exception."""
    target = resolved(path)
    if check_target(path, what) == "stream":
        try:
            with target.open("wb") as fh:
                yield fh
        except OSError as exc:
            raise _cannot(path, what, exc.strerror or str(exc)) from exc
        return
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise _cannot(path, what, exc.strerror or str(exc)) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            with contextlib.suppress(FileNotFoundError):
                os.fchmod(fh.fileno(), stat.S_IMODE(target.stat().st_mode))  # an existing file keeps its mode
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        fsync_directory(target.parent)
    except OSError as exc:
        raise _cannot(path, what, exc.strerror or str(exc)) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def atomic_write(path: str | Path, data: bytes | str, what: str = "the file") -> None:
    """Write ``data`` (text is UTF-8) to ``path`` whole (see the module docstring)."""
    with replacing(path, what) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)


def fsync_directory(directory: str | Path) -> None:
    """Make a rename in ``directory`` durable (where the platform allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
