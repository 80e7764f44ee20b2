"""Fetching a listing: one call for every source, its options, and the file it writes.

``fetch("hf", date=...)`` asks the Hugging Face Daily Papers for a day, an ISO week or a
month; ``fetch("arxiv", category=..., since=...)`` asks arXiv for a category's papers
submitted in a date range. Either returns a :class:`Listing`: the items exactly as the
source gave them (nothing dropped, so a field the source adds later is kept too), which
:meth:`Listing.write` saves as the JSON Lines file ``extractor run`` reads, and
:meth:`Listing.papers` reads with the same reader as ``run``. How a source is asked
(:class:`~extractor.sources.asking.FetchOptions`, pacing, retries) is :mod:`~extractor.sources.asking`'s.

Network faults (refused or dropped connections, timeouts, HTTP 429 and 5xx) are retried
``FetchOptions.retries`` times, waiting ``backoff`` seconds and doubling (``Retry-After``
is honoured); then the call raises :class:`~extractor.errors.SourceError`, whose message
is one line. Requests to one source are spaced: at least ``delay`` seconds apart (arXiv
asks for 3 s; the Hub is asked 1 s apart). A ``limit`` stops asking once that many papers
are in.

Nothing is stored of a token: the Hugging Face token is read from ``HF_TOKEN`` when it is
set and sent in the request's header only (a token saved by ``huggingface-cli login`` is
not used).

Example:
    >>> import extractor
    >>> listing = extractor.fetch("hf", date="2024-10-25")  # doctest: +SKIP
    >>> listing.write("listing.jsonl"); [p.meta.upvotes for p in listing.papers()][:3]  # doctest: +SKIP
    [64, 41, 37]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import InputError, SourceError
from ..records.dates import parse_day, utc_today, week_of
from ..schema import Paper
from .asking import FetchOptions, Pacer, network_reason, retried

__all__ = ["FetchOptions", "Listing", "Pacer", "SOURCES", "fetch", "listing_name", "network_reason", "retried"]

SourceName = Literal["hf", "arxiv"]
SOURCES: dict[str, str] = {"hf": "Hugging Face Daily Papers", "arxiv": "arXiv"}


@dataclass
class Listing:
    """A fetched listing: ``items`` as the source gave them, in its order, one per paper."""

    source: str
    query: dict[str, str]
    items: list[dict[str, Any]] = field(default_factory=list)
    fetched_at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))

    def __len__(self) -> int:
        return len(self.items)

    @property
    def name(self) -> str:
        """A short name for the listing: ``hf 2024-10-25``, ``arxiv cs.CL 2024-10-21..2024-10-25``."""
        return listing_name(self.source, self.query)

    def papers(self, on_error: Callable[[InputError], None] | None = None) -> list[Paper]:
        """The items as :class:`~extractor.schema.Paper` objects, read as ``extractor run``
        reads the written file (an item without title or abstract is reported to
        ``on_error``, else raised)."""
        from ..records.listings import read_objects

        return list(read_objects(self.items, label=f"{self.source} listing", on_error=on_error))

    def write(self, path: str | Path) -> Path:
        """Write the items as JSON Lines to ``path`` (atomically: a reader never sees half a
        listing, and a failed write leaves any old file as it was). Returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.",
                                             suffix=".tmp", delete=False)  # fmt: skip
        try:
            with handle:
                for item in self.items:
                    handle.write(json.dumps(item, ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(handle.name, target)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
        return target

    def lines(self) -> Iterator[str]:
        """The items as JSON Lines (each ending with a newline)."""
        for item in self.items:
            yield json.dumps(item, ensure_ascii=False) + "\n"


def listing_name(source: str, query: Mapping[str, str]) -> str:
    """``hf 2024-10-25``, ``hf 2024-W43``, ``arxiv cs.CL 2024-10-25`` (or a range)."""
    if source == "arxiv":
        since, until = query.get("since", ""), query.get("until", "")
        days = since if since == until else f"{since}..{until}"
        return f"arxiv {query.get('category', '')} {days}".strip()
    when = query.get("date") or query.get("week") or query.get("month") or "latest"
    return f"{source} {when}"


def _hf_query(date: str | dt.date | None, week: str | None, month: str | None) -> dict[str, str]:
    given = [name for name, value in (("date", date), ("week", week), ("month", month)) if value]
    if len(given) > 1:
        raise SourceError("hf", f"give one of date, week or month, not {' and '.join(given)}")
    if week:
        return {"week": week_of(str(week))}
    if month:
        text = str(month).strip()
        try:
            dt.date.fromisoformat(text + "-01")
        except ValueError:
            raise SourceError("hf", f"{month!r} is not a month; give YYYY-MM") from None
        return {"month": text}
    return {"date": parse_day(date or "today").isoformat()}


def fetch(
    source: str,
    *,
    date: str | dt.date | None = None,
    week: str | None = None,
    month: str | None = None,
    category: str | None = None,
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    limit: int | None = None,
    sort: str | None = None,
    options: FetchOptions | None = None,
) -> Listing:
    """Fetch a listing (see the module docstring).

    ``hf``: one of ``date`` (``YYYY-MM-DD``, ``today``, ``yesterday``; default today, UTC),
    ``week`` (``2024-W43`` or a day in it) or ``month`` (``2024-10``); ``sort`` is
    ``published`` (the Hub's default) or ``trending``. ``arxiv``: ``category`` (``cs.CL``)
    and ``since`` (default today) to ``until`` (default ``since``), by submission day, newest
    first. Raises :class:`~extractor.errors.SourceError` (one line) when the source cannot
    be reached or answers with an error, or when the arguments make no sense (nothing is
    asked then)."""
    options = options or FetchOptions()
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    try:
        if source == "hf":
            if category or since or until:
                raise ValueError("hf takes date, week or month (category, since and until are for arxiv)")
            from .hf import fetch_hf

            query = _hf_query(date, week, month)
            if sort:
                query["sort"] = sort
            items = fetch_hf(query, limit, options)
        elif source == "arxiv":
            if date or week or month or sort:
                raise ValueError("arxiv takes category, since and until (date, week, month and sort are for hf)")
            if not category:
                raise ValueError("arxiv needs a category, e.g. cs.CL")
            from .arxiv import fetch_arxiv

            first = parse_day(since or utc_today())
            last = parse_day(until) if until else first
            if last < first:
                raise ValueError(f"until ({last}) is before since ({first})")
            query = {"category": category, "since": first.isoformat(), "until": last.isoformat()}
            items = fetch_arxiv(category, first, last, limit, options)
        else:
            raise ValueError(f"unknown source {source!r}; use one of: {', '.join(SOURCES)}")
    except SourceError:
        raise
    except ValueError as exc:
        raise SourceError(source, str(exc)) from None
    return Listing(source=source, query=query, items=items)
