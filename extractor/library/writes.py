"""Writing records into the library: one row per paper, the listings it appeared in, the days.

Each record becomes a ``papers`` row (:func:`paper_row`). A paper already in the library
takes the new record's columns when the new record succeeded or the stored one had
failed (the latest-record rule of :func:`~extractor.records.latest.latest_copies`, applied
in SQL: records given in file order end as that function picks); its ``first_seen`` and
``last_seen`` widen to the new listing's day either way. The listing is recorded in
``listings`` once per paper.

Records are written in transactions of :data:`CHUNK` (``BEGIN IMMEDIATE``: a second writer
waits its turn instead of failing): a process killed mid-write loses the chunk it had not
committed and nothing else, and the record file it came from still holds every record, so
the next run puts them in.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..schema import Record
from .schema import PAPER_COLUMNS, as_day

__all__ = ["CHUNK", "AddStats", "add_records", "paper_row"]

CHUNK = 500

_COLUMNS = list(PAPER_COLUMNS)
_UPDATED = [c for c in _COLUMNS if c not in ("id", "first_seen", "last_seen")]
_UPSERT = (
    f"INSERT INTO papers ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + c for c in _COLUMNS)}) "
    f"ON CONFLICT(id) DO UPDATE SET ({', '.join(_UPDATED)}) = ({', '.join('excluded.' + c for c in _UPDATED)}) "
    "WHERE excluded.ok OR NOT papers.ok"
)
_WIDEN = (
    "UPDATE papers SET first_seen = min(first_seen, :first_seen), last_seen = max(last_seen, :last_seen) "
    "WHERE id = :id AND (first_seen > :first_seen OR last_seen < :last_seen)"
)
_LISTED = "INSERT OR IGNORE INTO listings (paper_id, listing, seen, added_at) VALUES (:id, :listing, :first_seen, :updated_at)"


@dataclass
class AddStats:
    """What :func:`add_records` did: records read, papers new to the library, papers whose
    row took the new record, and papers that kept a stored success over a new failure."""

    records: int = 0
    new: int = 0
    updated: int = 0
    kept: int = 0

    def describe(self) -> str:
        return f"{self.records} records: {self.new} new papers, {self.updated} updated, {self.kept} kept their earlier success"


def _json(value: Any) -> str | None:
    return json.dumps(value, ensure_ascii=False) if value else None


def paper_row(record: Record, seen: str, now: str) -> dict[str, Any]:
    """The ``papers`` row of ``record`` seen on the day ``seen``."""
    ex, meta, prov = record.extraction, record.meta, record.provenance
    ok = record.error is None and ex is not None
    return {
        "id": record.id,
        "arxiv_id": meta.arxiv_id if meta else None,
        "title": record.title,
        "abstract": record.abstract,
        "authors": _json(meta.authors) if meta else None,
        "organization": meta.organization if meta else None,
        "kind": record.kind.value if record.kind else None,
        "task": ex.task if ex else None,
        "method": ex.method if ex else None,
        "method_name": ex.method_name if ex else None,
        "summary": ex.summary if ex else None,
        "summary_source": record.summary_source,
        "code_link": ex.code_link if ex else None,
        "code_status": record.code_status,
        "github_repo": meta.github_repo if meta else None,
        "github_stars": meta.github_stars if meta else None,
        "project_page": meta.project_page if meta else None,
        "gains": _json([g.model_dump(mode="json") for g in ex.claimed_gains]) if ex else None,
        "n_gains": len(ex.claimed_gains) if ex else 0,
        "upvotes": meta.upvotes if meta else None,
        "comments": meta.comments if meta else None,
        "url": meta.url if meta else None,
        "pdf_url": meta.pdf_url if meta else None,
        "thumbnail": meta.thumbnail if meta else None,
        "categories": _json(meta.categories) if meta else None,
        "published": meta.published if meta else None,
        "listing_date": meta.listing_date if meta else None,
        "first_seen": seen,
        "last_seen": seen,
        "ok": int(ok),
        "error": f"{record.error.kind}: {record.error.message}" if record.error else None,
        "model": prov.model if prov else None,
        "prompt_version": prov.prompt_version if prov else None,
        "record": record.model_dump_json(),
        "updated_at": now,
    }


def _record(item: Record | Mapping[str, Any]) -> Record:
    return item if isinstance(item, Record) else Record.model_validate(item)


def add_records(
    conn: sqlite3.Connection,
    records: Iterable[Record | Mapping[str, Any]],
    *,
    listing: str | None = None,
    seen: str | dt.date | None = None,
) -> AddStats:
    """Write ``records`` (in order) into the library on ``conn``. Each appeared in the
    listing ``listing`` (default: the file it was read from, ``record.source.path``) on the
    day ``seen`` (default: the day its listing gives, ``meta.listing_date``, else today,
    UTC)."""
    stats = AddStats()
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    day = as_day(seen) if seen is not None else None
    if seen is not None and day is None:
        raise ValueError(f"seen={seen!r} is not a day (YYYY-MM-DD)")
    chunk: list[dict[str, Any]] = []

    def flush() -> None:
        if not chunk:
            return
        ids = [row["id"] for row in chunk]
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = dict(_stored(conn, ids))
            conn.executemany(_UPSERT, chunk)
            conn.executemany(_WIDEN, chunk)
            conn.executemany(_LISTED, chunk)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        for row in chunk:
            stored = before.get(row["id"])
            if stored is None:
                stats.new += 1
                before[row["id"]] = row["ok"]
            elif row["ok"] or not stored:
                stats.updated += 1
                before[row["id"]] = row["ok"]
            else:
                stats.kept += 1
        chunk.clear()

    for item in records:
        record = _record(item)
        when = day or (as_day(record.meta.listing_date) if record.meta and record.meta.listing_date else None) or today
        row = paper_row(record, when, now)
        row["listing"] = listing or record.source.path
        chunk.append(row)
        stats.records += 1
        if len(chunk) >= CHUNK:
            flush()
    flush()
    return stats


def _stored(conn: sqlite3.Connection, ids: list[str]) -> Iterable[tuple[str, int]]:
    """``(id, ok)`` of the papers among ``ids`` the library holds."""
    for start in range(0, len(ids), 900):  # SQLite's limit on bound parameters
        part = ids[start : start + 900]
        yield from conn.execute(f"SELECT id, ok FROM papers WHERE id IN ({', '.join('?' * len(part))})", part)
