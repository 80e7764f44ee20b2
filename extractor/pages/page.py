"""Everything one page shows, before it is rendered: the counts at its top
(:class:`DigestSummary`) and the :class:`Page` of some records (the cards, the failed papers,
the themes and the summary of the day).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..schema import Contribution, Record
from .cards import card, failed_card, seen_of
from .day import day_facts, day_themes
from .reading import _latest_records, _validate, listing_day
from .themes import Theme
from .watch import Watchlist

__all__ = ["DigestSummary", "Page"]


@dataclass
class DigestSummary:
    """The counts at the top of a digest (and what :func:`digest` returns)."""

    papers: int = 0
    unique: int = 0
    failed: int = 0
    with_gains: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    code: Counter[str] = field(default_factory=Counter)
    summary_sources: Counter[str] = field(default_factory=Counter)
    metrics: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    models: Counter[str] = field(default_factory=Counter)
    prompt_versions: Counter[str] = field(default_factory=Counter)
    date: str = ""
    new: int | None = None  # papers first seen on ``date`` (None: not known)
    seen_before: int | None = None  # papers first seen before ``date``
    watched: int = 0  # papers on the reader's watchlist
    themes: int = 0

    @classmethod
    def of(
        cls, read: int, records: Sequence[Record], date: str, first_seen: Mapping[str, str] | None = None
    ) -> DigestSummary:
        """Count ``records`` (already one per id) out of ``read`` records read; with
        ``first_seen``, how many are new on ``date`` and how many were seen before."""
        s = cls(papers=read, unique=len(records), date=date)
        for rec in records:
            s._add(rec)
        if first_seen is not None:
            seen = [seen_of(rec.id, first_seen, date) for rec in records]
            s.new = sum(1 for x in seen if x is None or x["new"])
            s.seen_before = len(seen) - s.new
        return s

    def _add(self, rec: Record) -> None:
        if rec.provenance:
            self.models[rec.provenance.model] += 1
            self.prompt_versions[rec.provenance.prompt_version] += 1
        if not rec.ok or rec.extraction is None:
            self.failed += 1
            self.errors[rec.error.kind if rec.error else "no extraction"] += 1
            return
        self.kinds[(rec.kind or Contribution.other).value] += 1
        self.code[rec.code_status] += 1
        self.summary_sources[getattr(rec, "summary_source", None) or "unknown"] += 1
        gains = rec.extraction.claimed_gains
        self.with_gains += bool(gains)
        self.metrics.update({g.metric.strip().lower() for g in gains if g.metric.strip()})


@dataclass
class Page:
    """Everything one page shows, before it is rendered: the counts, the cards, the
    failed papers, the themes and the summary of the day."""

    summary: DigestSummary
    cards: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    themes: list[Theme]
    facts: list[list[dict[str, Any]]]
    records: list[Record]

    @classmethod
    def of(
        cls,
        records: Iterable[Record | Mapping[str, Any]],
        *,
        day: str | None = None,
        first_seen: Mapping[str, str] | None = None,
        watch: Watchlist | None = None,
    ) -> Page:
        """The page of ``records`` (a paper present more than once is shown once) on ``day``
        (default: the latest listing day of the records, else today)."""
        read = [_validate(r) for r in records]
        unique = _latest_records(read)
        day = day or listing_day(unique) or datetime.now().strftime("%Y-%m-%d")
        summary = DigestSummary.of(len(read), unique, day, first_seen)
        ok = [rec for rec in unique if rec.ok]
        cards = [card(i, rec, first_seen, day) for i, rec in enumerate(ok)]
        found = day_themes(ok)
        theme_of = {pid: i for i, theme in enumerate(found) for pid in theme.ids}
        for c, rec in zip(cards, ok, strict=True):
            c["theme"] = theme_of.get(c["id"])
            c["watch"] = watch.match(rec) if watch else []
        summary.watched = sum(1 for c in cards if c["watch"])
        summary.themes = len(found)
        failed = [failed_card(rec) for rec in unique if not rec.ok]
        facts = day_facts(cards, {rec.id: rec for rec in ok}, found, day=day, failed=summary.failed)
        return cls(summary, cards, failed, found, facts, unique)

    def theme_list(self) -> list[dict[str, Any]]:
        """Each theme with its papers' titles and ids, for the template."""
        by_id = {c["id"]: c for c in self.cards}
        return [{"name": t.name, "n": len(t.ids), "papers": [{"id": pid, "title": " ".join(by_id[pid]["title"].split())}
                                                              for pid in t.ids]}
                for t in self.themes]  # fmt: skip
