"""``Library``: the one object that opens, writes, searches and counts the library.

``Library(path)`` opens the SQLite file at ``path`` (default: the ``library`` setting, from
``--library`` or ``EXTRACTOR_LIBRARY``, else ``<user data dir>/extractor/library.db``),
checks that it is a library this release can use (:mod:`~extractor.library.schema`) and
makes a new one when there is none (``create=False``: raise instead, for commands that
only read). Every failure of the file, at opening or later (a damaged page, a lock held
past the busy timeout), is a one-line :class:`~extractor.errors.LibraryError`.

Example:
    >>> import extractor
    >>> with extractor.Library("library.db") as library:  # doctest: +SKIP
    ...     library.add_file("records.jsonl", listing="hf 2024-10-25", seen="2024-10-25")
    ...     for hit in library.search("knowledge editing", since="2024-10-01"):
    ...         print(hit.first_seen, hit.title)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from ..errors import InputError, LibraryError
from ..schema import Record
from .schema import connect
from .search import Hit, search
from .stats import LibraryStats, export_records, library_stats
from .writes import AddStats, add_records

__all__ = ["Library"]


class Library:
    """The papers seen across days, in one SQLite file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        if path is None:
            from ..settings import load_settings

            path = load_settings().library_path
        self.path = Path(path).expanduser()
        self._conn: sqlite3.Connection | None = connect(self.path, create=create)

    # -- plumbing ------------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection (for your own SQL; the schema is in docs/library.md)."""
        if self._conn is None:
            raise LibraryError(str(self.path), "the library was closed")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Library({str(self.path)!r})"

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """sqlite3's errors as one-line :class:`LibraryError`."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise LibraryError(str(self.path), f"busy: another process held it too long ({exc}); try again") from None
            raise LibraryError(str(self.path), f"cannot use it ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise LibraryError(str(self.path), f"damaged ({exc}); not written: restore a backup or give another --library") from None

    # -- writing -------------------------------------------------------------------------

    def add(
        self,
        records: Iterable[Record | Mapping[str, Any]],
        *,
        listing: str | None = None,
        seen: str | dt.date | None = None,
    ) -> AddStats:
        """Add ``records`` (records or their JSON dicts, in file order) seen in ``listing``
        on the day ``seen`` (defaults: the file each was read from; the day its listing
        gives, else today). Of a paper's records the latest success counts, else the latest."""
        with self._errors():
            return add_records(self.conn, records, listing=listing, seen=seen)

    def add_file(
        self,
        path: str | Path,
        *,
        listing: str | None = None,
        seen: str | dt.date | None = None,
        ids: set[str] | None = None,
        on_error: Callable[[InputError], None] | None = None,
    ) -> AddStats:
        """Add the records of a JSONL record file (only those of ``ids`` when given),
        streamed. A line that is not a record is passed to ``on_error`` (else raised)."""
        from ..records.jsonl import read_jsonl

        def records() -> Iterator[Mapping[str, Any]]:
            for _, obj in read_jsonl(path, "record", on_error):
                if ids is None or obj.get("id") in ids:
                    yield obj

        return self.add(records(), listing=listing, seen=seen)

    # -- reading -------------------------------------------------------------------------

    def search(
        self, query: str = "", *, since: str | dt.date | None = None, code: bool = False, kind: str | None = None, limit: int = 20
    ) -> list[Hit]:
        """The papers matching ``query`` (words, "phrases", prefix*, OR), best first, kept
        by the filters: last seen on or after ``since``, with code, of contribution ``kind``.
        See :mod:`~extractor.library.search`."""
        day = str(since) if since is not None else None
        with self._errors():
            return search(self.conn, query, since=day, code=code, kind=kind, limit=limit)

    def first_seen(self, ids: Iterable[str]) -> dict[str, str]:
        """``{id: first day seen}`` of the papers among ``ids`` the library holds."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, str] = {}
        with self._errors():
            for start in range(0, len(wanted), 900):
                part = wanted[start : start + 900]
                found.update(self.conn.execute(
                    f"SELECT id, first_seen FROM papers WHERE id IN ({', '.join('?' * len(part))})", part))  # fmt: skip
        return found

    def get(self, paper_id: str) -> Record | None:
        """The latest record of a paper, or None."""
        with self._errors():
            row = self.conn.execute("SELECT record FROM papers WHERE id = ?", (paper_id,)).fetchone()
        return Record.model_validate_json(row[0]) if row else None

    def __len__(self) -> int:
        with self._errors():
            return int(self.conn.execute("SELECT count(*) FROM papers").fetchone()[0])

    def stats(self, recent: int = 7) -> LibraryStats:
        """Counts: papers, extracted, failed, with code, listings, days, kinds, recent days."""
        with self._errors():
            return library_stats(self.conn, self.path, recent)

    def export(self, out: IO[str] | str | Path, *, since: str | dt.date | None = None) -> int:
        """Write the latest record of every paper (last seen on or after ``since``) as JSONL
        to ``out`` (a path or a text stream): a record file ``extractor digest`` reads.
        Returns how many."""
        count = 0
        day = str(since) if since is not None else None
        with self._errors(), contextlib.ExitStack() as stack:
            stream = out if hasattr(out, "write") else stack.enter_context(Path(out).open("w", encoding="utf-8"))  # type: ignore[arg-type]
            for line in export_records(self.conn, day):
                stream.write(line)  # type: ignore[union-attr]
                count += 1
        return count
