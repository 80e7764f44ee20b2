"""Writing records: JSONL (one record per line) or CSV (flattened), append-only.

Every record is written whole (one ``write`` of its complete line) and flushed to the OS
the moment it completes, so a crash, a kill or Ctrl-C never loses finished work; the
file is also ``fsync``-ed every few seconds and on close. Opening an existing output file
*resumes* it, reading it as a stream (memory stays flat on big files; the reading
back is :mod:`extractor.records.resume`):

* a torn last line (left by a SIGKILL mid-write: no final newline, or a CSV row cut
  inside a quoted field) is cut off — the file is truncated, not rewritten;
* a paper with several records (a failed record and its retry, left by a run that was
  killed before it closed the file) keeps one: its last success, else its last failure.
  The others are removed (the file is rewritten by
  :func:`~extractor.records.files.atomic_write`'s rule: a symlinked output is rewritten
  where it points, the link kept), so no paper is ever in the file twice;
* the ids of the successful records are returned in ``done`` so the runner skips them;
  those of the failed ones in ``failed``: the runner retries them, and a failed record
  stays in the file until a newer record of the same paper replaces it (also when a
  ``--limit`` or a stop leaves it unretried). On :meth:`RecordWriter.close`, the records
  replaced in this run are removed the same way.

A file that is not a record file (say, the input listing given as ``-o`` by mistake) is
never touched: opening it raises :class:`~extractor.errors.InputError`. So does a path
that cannot hold records (a directory, a device such as ``/dev/full``, a place without
write permission, a full disk), before any paper is extracted; a write that fails later
(the disk filled up mid-run) raises it too, naming the path.

Within one writer, :meth:`RecordWriter.write` refuses an id it has already written (or
whose success the file holds), so a paper can not end up in the file twice whatever the
caller does; and the file is locked
(``flock``) while a writer has it open, so a second run started on the same output by
mistake stops with an error instead of writing the same papers again.

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> w = RecordWriter(out)
    >>> sorted(w.done)
    []
    >>> w.close()
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, the rest works
    fcntl = None  # type: ignore[assignment]
from pathlib import Path
from typing import IO, Any

from ..errors import InputError
from .files import check_target, resolved
from .formats import format_for
from .resume import OutputFormat, OutputScan, cut_tail, latest, rewrite
from ..schema import Record

__all__ = ["CSV_COLUMNS", "OutputFormat", "RecordWriter", "output_format_for"]


CSV_COLUMNS = [
    "id",
    "title",
    "task",
    "method",
    "method_name",
    "contribution",
    "code_link",
    "code_status",
    "claimed_gains",
    "summary",
    "truncated",
    "model",
    "mode",
    "prompt_version",
    "error",
    "source",
]

_FSYNC_EVERY_S = 5.0


def output_format_for(path: Path, explicit: str | None = None) -> OutputFormat:
    """``explicit`` if given, else by extension (``.csv`` is CSV, anything else JSONL:
    :mod:`~extractor.records.formats`)."""
    return "csv" if format_for("records", path, explicit) == "csv" else "jsonl"


def _csv_row(record: Record) -> dict[str, Any]:
    ex, prov = record.extraction, record.provenance
    return {
        "id": record.id,
        "title": record.title,
        "task": (ex.task or "") if ex else "",
        "method": (ex.method or "") if ex else "",
        "method_name": (ex.method_name or "") if ex else "",
        "contribution": record.kind.value if record.kind else "",
        "code_link": (ex.code_link or "") if ex else "",
        "code_status": record.code_status,
        "claimed_gains": json.dumps([g.model_dump(mode="json") for g in ex.claimed_gains], ensure_ascii=False)
        if ex
        else "",
        "summary": ex.summary if ex else "",
        "truncated": record.truncated,
        "model": prov.model if prov else "",
        "mode": prov.mode if prov else "",
        "prompt_version": prov.prompt_version if prov else "",
        "error": f"{record.error.kind}: {record.error.message}" if record.error else "",
        "source": f"{record.source.path}:{record.source.line}",
    }


class RecordWriter:
    """Append records to ``path``; see the module docstring for what resuming does.

    ``done`` holds the ids of the successful records in the file, ``failed`` those of
    its failed records; ``repaired_bytes`` the size of a torn tail that was cut;
    ``removed_duplicates`` how many superseded records resuming dropped."""

    def __init__(self, path: str | Path, fmt: str | None = None) -> None:
        self.path = Path(path)
        self.format: OutputFormat = output_format_for(self.path, fmt)
        self.repaired_bytes = 0
        self.removed_duplicates = 0
        self.done: set[str] = set()
        self.failed: set[str] = set()  # failed records in the file: retried, kept until replaced
        self._written_failed: set[str] = set()  # failed records written by this writer
        self._replaced = 0  # failed records of the file that this writer wrote anew
        self._broken = False  # a write failed: the file is left as it is
        self._existing = OutputScan(self.path, self.format, CSV_COLUMNS)
        self._created = not resolved(self.path).exists()  # made by this writer: removed if it stays empty
        self.written = 0  # records written by this writer
        self._fh: IO[bytes] = self._open_checked()
        try:
            if self.path.stat().st_size > 0 and self._resume():
                # The file was rewritten under a new inode: lock that one, then let the old go.
                old, self._fh = self._fh, self._open_locked()
                old.close()
        except BaseException:
            self._fh.close()
            raise
        self._last_sync = time.monotonic()
        if self.format == "csv" and os.fstat(self._fh.fileno()).st_size == 0:
            self._append(_csv_bytes(CSV_COLUMNS))

    def _cannot_write(self, why: str) -> InputError:
        return InputError(str(self.path), f"cannot write records here ({why}); give another -o")

    def _open_checked(self) -> IO[bytes]:
        """Open (and lock) the output, or say in one line why records cannot go there (a
        record file is read back to resume: a device or a FIFO is refused too)."""
        if resolved(self.path).exists():
            check_target(self.path, "records", streams=False, hint="give another -o")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = self._open_locked()
        except OSError as exc:
            raise self._cannot_write(exc.strerror or str(exc)) from exc
        space = os.statvfs(fh.fileno())
        if space.f_blocks > 0 and space.f_bavail == 0:
            fh.close()
            raise self._cannot_write("no space left on the device")
        return fh

    def _open_locked(self) -> IO[bytes]:
        fh = self.path.open("ab")
        if fcntl is not None:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                fh.close()
                raise InputError(
                    str(self.path), "another run is writing this file; wait for it to end, or give another -o"
                ) from exc
        return fh

    # -- resuming ----------------------------------------------------------------------

    def _resume(self) -> bool:
        """Read the existing file (see the module docstring); True when it was replaced."""
        rows, cut = self._existing.rows()
        self.repaired_bytes = self.path.stat().st_size - cut
        keep = latest(rows)
        for row in keep:
            if row.id is not None:
                (self.failed if row.failed else self.done).add(row.id)
        self.removed_duplicates = len(rows) - len(keep)
        if len(keep) == len(rows):
            if self.repaired_bytes:  # only a torn tail: cut it off in place
                cut_tail(self.path, cut)
            return False
        rewrite(self.path, keep)
        return True

    # -- writing -----------------------------------------------------------------------

    def write(self, record: Record) -> bool:
        """Append one record and flush it to the OS (it survives a kill of this process).
        Returns False, writing nothing, when this id already succeeded in the file or was
        written by this writer. A record of a paper whose failed record is in the file is
        written after it; :meth:`close` removes the failed one."""
        if record.id in self.done or record.id in self._written_failed:
            return False
        if self.format == "csv":
            data = _csv_bytes([str(v) for v in _csv_row(record).values()])
        else:
            data = (record.model_dump_json() + "\n").encode("utf-8")
        self._append(data)
        self.written += 1
        if record.id in self.failed:
            self.failed.discard(record.id)
            self._replaced += 1
        if record.error is None:
            self.done.add(record.id)
        else:
            self._written_failed.add(record.id)
        return True

    def _append(self, data: bytes) -> None:
        try:
            self._fh.write(data)
            self._fh.flush()
            now = time.monotonic()
            if now - self._last_sync >= _FSYNC_EVERY_S:
                os.fsync(self._fh.fileno())
                self._last_sync = now
        except OSError as exc:
            self._broken = True  # what is left in the buffer is never written: close() says nothing more
            raise InputError(
                str(self.path), f"writing a record failed ({exc.strerror or exc}); finished records are kept"
            ) from exc

    def close(self) -> None:
        """Flush and close the file; first remove the failed records that this writer's
        records replaced, so each paper is in the file once. A file this writer made and
        wrote no record to is removed: a run that wrote nothing leaves no empty file."""
        if self._fh.closed:
            return
        if self._broken:  # a write failed (a full disk): its torn line is cut when the file is resumed
            with contextlib.suppress(OSError):
                self._fh.close()
            return
        try:
            if self._created and not self.written:  # nothing was written (a server that never answered)
                resolved(self.path).unlink(missing_ok=True)
                return
            self._fh.flush()
            os.fsync(self._fh.fileno())
            if self._replaced:
                rewrite(self.path, latest(self._existing.rows()[0]))
                self._replaced = 0
        except OSError as exc:
            raise InputError(str(self.path), f"closing the record file failed ({exc.strerror or exc})") from exc
        finally:
            with contextlib.suppress(OSError):
                self._fh.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _csv_bytes(fields: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerow(fields)
    return buf.getvalue().encode("utf-8")

