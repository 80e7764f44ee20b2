"""What the library holds, counted, and the library written out as a record file.

:func:`library_stats` counts papers (extracted, failed, with code), listings and days, the
kinds of contribution, and the papers of each recent day (how many were new that day).
:func:`export_records` writes the latest record of every paper as JSON Lines: the record
file ``extractor run`` writes, so ``extractor digest`` and ``extractor explain`` read it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LibraryStats", "export_records", "library_stats"]


@dataclass
class LibraryStats:
    """The counts ``extractor library stats`` prints."""

    path: str
    size_bytes: int = 0
    schema_version: int = 0
    papers: int = 0
    extracted: int = 0
    failed: int = 0
    with_code: int = 0
    listings: int = 0
    sightings: int = 0  # (paper, listing) pairs
    first_day: str | None = None
    last_day: str | None = None
    seen_more_than_once: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    days: list[dict[str, Any]] = field(default_factory=list)  # recent days: {day, papers, new}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """The counts, a few lines for a terminal."""
        span = f"{self.first_day} .. {self.last_day}" if self.first_day else "none yet"
        lines = [
            f"library     {self.path} ({self.size_bytes / 1e6:.1f} MB, schema {self.schema_version})",
            f"papers      {self.papers:,} ({self.extracted:,} extracted, {self.failed:,} failed, "
            f"{self.with_code:,} with code, {self.seen_more_than_once:,} listed more than once)",
            f"listings    {self.listings:,} ({self.sightings:,} paper sightings), days {span}",
        ]
        if self.kinds:
            lines.append("kinds       " + ", ".join(f"{k} {n:,}" for k, n in self.kinds.items()))
        if self.days:
            lines.append("recent days " + "; ".join(f"{d['day']}: {d['papers']} ({d['new']} new)" for d in self.days))
        return "\n".join(lines)


def library_stats(conn: sqlite3.Connection, path: Path, recent: int = 7) -> LibraryStats:
    """The counts of the library on ``conn``; ``recent`` days are listed one by one."""
    one = lambda sql: conn.execute(sql).fetchone()  # noqa: E731
    stats = LibraryStats(path=str(path), size_bytes=path.stat().st_size if path.exists() else 0)
    stats.schema_version = one("PRAGMA user_version")[0]
    stats.papers, stats.extracted, stats.with_code, stats.seen_more_than_once = one(
        "SELECT count(*), coalesce(sum(ok), 0), "
        "coalesce(sum(code_status = 'linked' OR code_link IS NOT NULL OR github_repo IS NOT NULL), 0), "
        "coalesce(sum(first_seen < last_seen), 0) FROM papers"
    )
    stats.failed = stats.papers - stats.extracted
    stats.listings, stats.sightings = one("SELECT count(DISTINCT listing), count(*) FROM listings")
    stats.first_day, stats.last_day = one("SELECT min(first_seen), max(last_seen) FROM papers")
    stats.kinds = dict(conn.execute("SELECT kind, count(*) FROM papers WHERE kind IS NOT NULL GROUP BY kind ORDER BY count(*) DESC, kind"))
    new = dict(conn.execute("SELECT first_seen, count(*) FROM papers GROUP BY first_seen"))
    for day, papers in conn.execute(
        "SELECT seen, count(DISTINCT paper_id) FROM listings GROUP BY seen ORDER BY seen DESC LIMIT ?", (recent,)
    ):
        stats.days.append({"day": day, "papers": papers, "new": new.get(day, 0)})
    return stats


def export_records(conn: sqlite3.Connection, since: str | None = None) -> Iterator[str]:
    """The latest record of every paper (last seen on or after ``since``), as JSON lines
    (each ending with a newline), oldest first seen first."""
    sql = "SELECT record FROM papers" + (" WHERE last_seen >= ?" if since else "") + " ORDER BY first_seen, id"
    for (record,) in conn.execute(sql, (since,) if since else ()):
        yield record + "\n"
