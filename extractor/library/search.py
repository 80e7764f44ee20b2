"""Searching the library: words in, the best matching papers out, ranked.

A query is words, all of which a paper must hold (in its title, abstract, task, method,
summary or authors; stemmed, so "hallucination" finds "hallucinations"), ``"quoted
phrases"``, ``prefix*`` words and ``OR`` between two words. Nothing else of FTS5's syntax is
taken from the user: every word is quoted, so "GPT-4", "C++" or a stray quote never makes
a syntax error. Papers are ranked by BM25 with the title weighing most
(:data:`WEIGHTS`), then by upvotes. Filters: ``since`` (last seen on or after that day),
``code`` (a code link in the abstract or a GitHub repo on the listing), ``kind`` (the
contribution kind). An empty query lists the papers the filters keep, latest first.

Example:
    >>> fts_query('knowledge editing "real world" GPT-4 hallu* OR drift')
    '"knowledge" "editing" "real world" "GPT-4" "hallu"* OR "drift"'
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Hit", "WEIGHTS", "fts_query", "search"]

#: BM25 weights of the indexed columns: title, abstract, task, method, summary, authors.
WEIGHTS = (10.0, 1.0, 4.0, 4.0, 2.0, 3.0)
_TOKENS = re.compile(r'"[^"]*"|\S+')
MARK = ("«", "»")


@dataclass
class Hit:
    """One paper found: what a result line shows, and ``snippet``, the best matching
    passage with the matched words between « and »."""

    id: str
    title: str
    arxiv_id: str | None = None
    url: str | None = None
    kind: str | None = None
    task: str | None = None
    method: str | None = None
    method_name: str | None = None
    summary: str | None = None
    code_link: str | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    upvotes: int | None = None
    authors: list[str] = field(default_factory=list)
    first_seen: str = ""
    last_seen: str = ""
    listings: int = 0
    ok: bool = True
    snippet: str = ""
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fts_query(text: str) -> str:
    """An FTS5 query from what a user typed: every word and phrase quoted (so nothing in it
    is syntax), a trailing ``*`` kept as a prefix search, ``OR`` kept between words."""
    parts: list[str] = []
    for token in _TOKENS.findall(text):
        if token == "OR":
            if parts and parts[-1] != "OR":
                parts.append("OR")
            continue
        prefix = token.endswith("*") and len(token) > 1
        word = token.rstrip("*") if prefix else token
        word = word.strip('"').replace('"', " ").strip()
        if word:
            parts.append(f'"{word}"' + ("*" if prefix else ""))
    while parts and parts[-1] == "OR":
        parts.pop()
    return " ".join(parts)


_SELECT = (
    "SELECT p.id, p.title, p.arxiv_id, p.url, p.kind, p.task, p.method, p.method_name, p.summary, p.code_link, "
    "p.github_repo, p.github_stars, p.upvotes, p.authors, p.first_seen, p.last_seen, "
    "(SELECT count(*) FROM listings l WHERE l.paper_id = p.id) AS listings, p.ok"
)


def search(
    conn: sqlite3.Connection,
    query: str = "",
    *,
    since: str | None = None,
    code: bool = False,
    kind: str | None = None,
    limit: int = 20,
) -> list[Hit]:
    """The papers matching ``query`` and the filters, best first (see the module docstring)."""
    where: list[str] = []
    params: dict[str, object] = {"limit": limit}
    if since:
        where.append("p.last_seen >= :since")
        params["since"] = since
    if code:
        where.append("(p.code_status = 'linked' OR p.code_link IS NOT NULL OR p.github_repo IS NOT NULL)")
    if kind:
        where.append("p.kind = :kind")
        params["kind"] = kind
    match = fts_query(query)
    filters = "".join(" AND " + w for w in where)
    if match:
        # The best ``limit`` first (rank and filters only), then their columns and snippets.
        weights = ", ".join(f"{w:g}" for w in WEIGHTS)
        score = f"bm25(papers_fts, {weights})"
        best = (
            f"SELECT papers_fts.rowid FROM papers_fts JOIN papers p ON p.rowid = papers_fts.rowid "
            f"WHERE papers_fts MATCH :match{filters} ORDER BY {score}, p.upvotes DESC LIMIT :limit"
        )
        sql = (
            f"{_SELECT}, snippet(papers_fts, -1, '{MARK[0]}', '{MARK[1]}', '…', 16) AS snippet, {score} AS score "
            f"FROM papers_fts JOIN papers p ON p.rowid = papers_fts.rowid "
            f"WHERE papers_fts MATCH :match AND papers_fts.rowid IN ({best}) ORDER BY score, p.upvotes DESC"
        )
        params["match"] = match
    else:
        order = "ORDER BY p.last_seen DESC, p.upvotes DESC, p.id"
        best = f"SELECT p.rowid FROM papers p WHERE 1{filters} {order} LIMIT :limit"
        sql = f"{_SELECT}, '' AS snippet, 0.0 AS score FROM papers p WHERE p.rowid IN ({best}) {order}"
    hits = []
    for row in conn.execute(sql, params):
        values = dict(zip(Hit.__dataclass_fields__, row[:18]))
        values["authors"] = json.loads(values["authors"]) if values["authors"] else []
        values["ok"] = bool(values["ok"])
        hits.append(Hit(**values, snippet=row[18] or "", score=-float(row[19] or 0.0)))
    return hits
