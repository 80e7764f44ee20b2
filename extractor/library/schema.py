"""The library's schema, and what is checked before a file is used as a library.

Tables (documented for people in docs/library.md):

* ``papers``: one row per paper id, from its latest record (the last one that succeeded,
  else the last one: the rule of :func:`~extractor.records.latest.latest_copies`), with the
  fields people search and sort by in columns, the whole record as JSON in ``record``, and
  ``first_seen`` / ``last_seen``: the first and last day of a listing it appeared in;
* ``listings``: one row per paper and listing it appeared in (``hf 2024-10-25``, an input
  file), with that listing's day;
* ``papers_fts``: an FTS5 index over title, abstract, task, method, summary and authors
  (Porter stemming), kept in step with ``papers`` by triggers (an update re-indexes a row
  only when one of those columns changed);
* ``library_info``: the schema version and who made the file, for people.

The file says it is a library in its header: ``PRAGMA application_id`` is
:data:`APPLICATION_ID` ("XTRC") and ``PRAGMA user_version`` the schema version. A file that
is not SQLite, an SQLite database of another program, or a library of a newer schema is
refused with one line and never written. Every connection waits up to
:data:`BUSY_TIMEOUT_S` for a lock (two runs writing at once take turns) and the file is in
WAL mode: readers never block the writer, and a process killed mid-write leaves the last
committed state (SQLite's atomic commit).

The tables are made with ``sqlite-utils`` (columns, keys, indexes, and the FTS5 table with
its triggers); reads and the conditional writes are plain SQL.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from ..errors import LibraryError

__all__ = [
    "APPLICATION_ID", "BUSY_TIMEOUT_S", "FTS_COLUMNS", "PAPER_COLUMNS", "SCHEMA_VERSION", "connect", "identify",
]  # fmt: skip

SCHEMA_VERSION = 1
APPLICATION_ID = 0x58545243  # "XTRC"
BUSY_TIMEOUT_S = 60.0
SQLITE_HEADER = b"SQLite format 3\x00"

#: The columns of ``papers`` and their types, in order.
PAPER_COLUMNS: dict[str, type] = {
    "id": str, "arxiv_id": str, "title": str, "abstract": str, "authors": str, "organization": str,
    "kind": str, "task": str, "method": str, "method_name": str, "summary": str, "summary_source": str,
    "code_link": str, "code_status": str, "github_repo": str, "github_stars": int, "project_page": str,
    "gains": str, "n_gains": int, "upvotes": int, "comments": int, "url": str, "pdf_url": str, "thumbnail": str,
    "categories": str, "published": str, "listing_date": str, "first_seen": str, "last_seen": str,
    "ok": int, "error": str, "model": str, "prompt_version": str, "record": str, "updated_at": str,
}  # fmt: skip
#: The columns the full-text index covers.
FTS_COLUMNS = ("title", "abstract", "task", "method", "summary", "authors")


def _refuse(path: Path, message: str) -> LibraryError:
    return LibraryError(str(path), f"{message}; it was not touched (give another --library, or set EXTRACTOR_LIBRARY)")


def _create(conn: sqlite3.Connection) -> None:
    """The tables, indexes, FTS5 index and triggers of a new library (in the caller's transaction)."""
    import sqlite_utils

    from ..version import __version__

    db = sqlite_utils.Database(conn, execute_plugins=False)
    papers = db["papers"].create(PAPER_COLUMNS, pk="id", not_null={"title", "abstract", "first_seen", "last_seen", "ok", "record"})  # type: ignore[union-attr]
    for column in ("arxiv_id", "last_seen", "first_seen", "kind"):
        papers.create_index([column])
    listings = db["listings"].create(  # type: ignore[union-attr]
        {"paper_id": str, "listing": str, "seen": str, "added_at": str},
        pk=("paper_id", "listing"),
        foreign_keys=[("paper_id", "papers", "id")],
        not_null={"seen"},
    )
    listings.create_index(["seen"])
    listings.create_index(["listing"])
    papers.enable_fts(list(FTS_COLUMNS), fts_version="FTS5", create_triggers=True, tokenize="porter")
    # sqlite-utils' update trigger re-indexes a row on any update; a paper listed again on
    # another day (upvotes, last_seen) keeps its text: re-index only when the text changed.
    changed = " OR ".join(f"old.[{c}] IS NOT new.[{c}]" for c in FTS_COLUMNS)
    old_values = ", ".join(f"old.[{c}]" for c in FTS_COLUMNS)
    new_values = ", ".join(f"new.[{c}]" for c in FTS_COLUMNS)
    columns = ", ".join(f"[{c}]" for c in FTS_COLUMNS)
    conn.execute("DROP TRIGGER [papers_au]")
    conn.execute(
        f"CREATE TRIGGER [papers_au] AFTER UPDATE ON [papers] WHEN {changed} BEGIN "
        f"INSERT INTO [papers_fts] ([papers_fts], rowid, {columns}) VALUES ('delete', old.rowid, {old_values}); "
        f"INSERT INTO [papers_fts] (rowid, {columns}) VALUES (new.rowid, {new_values}); END"
    )
    db["library_info"].insert_all(  # type: ignore[union-attr]
        [
            {"key": "schema_version", "value": str(SCHEMA_VERSION)},
            {"key": "created_by", "value": f"extractor {__version__}"},
            {"key": "created_at", "value": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")},
            {"key": "documentation", "value": "docs/library.md in the extractor repository"},
        ],
        pk="key",
    )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def identify(conn: sqlite3.Connection) -> tuple[int, int, list[str]]:
    """``(application id, user version, table names)`` of an open database."""
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return app, version, tables


def _check(path: Path, app: int, version: int, tables: list[str]) -> bool:
    """True when the file is a library this release can use, False when it is an empty
    database to make one in; else :class:`LibraryError`."""
    if app == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise _refuse(path, f"a library of a newer extractor (schema {version}; this one knows up to {SCHEMA_VERSION}): upgrade extractor")
        if version < 1:
            raise _refuse(path, f"a library with an unknown schema version ({version})")
        return True
    if app == 0 and not tables:
        return False
    shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
    raise _refuse(path, f"an SQLite database of another program (application id {app}, tables: {shown or 'none'}), not an extractor library")


def connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """An open connection to the library at ``path``, checked (and made, when ``create``
    and the file is new or an empty database). Raises :class:`LibraryError` in one line."""
    if path.is_dir():
        raise LibraryError(str(path), "is a directory; give a file path for the library")
    if path.exists():
        try:
            with path.open("rb") as fh:
                head = fh.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise LibraryError(str(path), f"cannot read it ({exc.strerror or exc})") from None
        if head and head != SQLITE_HEADER:
            raise _refuse(path, f"not an SQLite database (it starts with {head[:12]!r})")
    elif not create:
        raise LibraryError(str(path), "no library here yet: `extractor daily` or `extractor run --library PATH` makes one")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(str(path), f"cannot make its folder ({exc.strerror or exc})") from None
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise LibraryError(str(path), f"cannot open it ({exc})") from None
    try:
        _prepare(conn, path, create)
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: Path, create: bool) -> None:
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if _check(path, *identify(conn)):
            _pragmas(conn)
            return
        if not create:
            raise LibraryError(str(path), "an empty database, not a library yet: `extractor daily` or `extractor run --library PATH` fills it")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not _check(path, *identify(conn)):  # another process may have made it meanwhile
                _create(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        _pragmas(conn)
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, f"cannot be read as a library ({exc})") from None


def _pragmas(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable at each checkpoint, never corrupt
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA cache_size = -65536")  # up to 64 MB, taken as needed: FTS5 indexes 1.6x faster
    conn.execute("PRAGMA temp_store = MEMORY")


def as_day(value: Any) -> str | None:
    """``YYYY-MM-DD`` of a day or a timestamp (text or date); None when it is neither."""
    from ..records.dates import day_of

    day = day_of(value)
    return day.isoformat() if day else None
