"""The daily loop: fetch a day's listing, extract it, remember it in the library, write its digest.

``arun_daily`` does, for one day and one source (the Hugging Face Daily Papers, or an
arXiv category), in a folder of its own (``<folder>/<day>-hf/``):

1. **fetch** the listing into ``listing.jsonl`` (:mod:`extractor.sources`). A finished
   day's listing is fetched once and read from the file afterwards; today's is fetched
   again on each run, as papers are added during the day (``refresh`` always fetches);
2. **run** it into ``records.jsonl`` with the batch runner (:mod:`extractor.runs.run`):
   papers already there are skipped and the others answered from the cache when they
   can be, so running again the same day sends no request to the model;
3. **library**: the day's records go into the library (:mod:`extractor.library`) as seen
   in this listing on this day, with what the listing says of them today (upvotes grow);
4. **digest**: ``digest.html`` (or ``.md``) of the day's papers, new today first, then
   those still listed with the day each was first seen, the reader's watchlist marked
   (:func:`extractor.pages.digest.digest`);
5. **site**, when the ``site`` setting names a folder: the static site of the library
   refreshed there (:func:`extractor.pages.site.write_site`: the day's page and its
   neighbours', the index and the feed).

The library is opened first, so a file that is not a library stops the loop before any
request. Nothing here prints: the command line reports what :class:`DailyReport` says.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import InputError
from ..library import Library
from ..library.writes import AddStats
from ..records.dates import parse_day, utc_today
from ..schema import PaperMeta, Record
from ..settings import Settings
from ..sources.fetch import SOURCES, FetchOptions, listing_name
from .run import BatchOptions, BatchStats, arun_batch

__all__ = ["DailyOptions", "DailyReport", "arun_daily", "default_daily_folder", "run_daily"]


def default_daily_folder() -> Path:
    """``<user data dir>/extractor/daily``: where each day's files go by default."""
    import platformdirs

    return Path(platformdirs.user_data_dir("extractor")) / "daily"


@dataclass
class DailyOptions:
    """What ``extractor daily`` does (the model and the library are in :class:`Settings`)."""

    source: Literal["hf", "arxiv"] = "hf"
    date: str | dt.date = "today"
    category: str | None = None  # arxiv only
    limit: int | None = None
    folder: Path | None = None  # default: default_daily_folder()
    digest_format: Literal["html", "md"] = "html"
    refresh: bool = False
    quiet: bool = False
    fetch: FetchOptions = field(default_factory=FetchOptions)


@dataclass
class DailyReport:
    """What a daily run did."""

    day: str
    name: str  # the listing: "hf 2024-10-25"
    folder: Path
    listing: Path
    records: Path
    digest: Path | None = None
    fetched: bool = False  # False: the listing saved by an earlier run was read
    papers: int = 0
    new: int = 0
    seen_before: int = 0
    batch: BatchStats = field(default_factory=BatchStats)
    library: AddStats = field(default_factory=AddStats)
    site: Any = None  # the SiteReport of the refreshed site, when the site setting is set

    def summary(self) -> str:
        got = "fetched" if self.fetched else "read from the saved listing"
        lines = [f"{self.name}: {self.papers} papers ({got}): {self.new} new, {self.seen_before} seen before"]
        if self.papers:
            lines.append(self.batch.summary())
            lines.append(f"library: {self.library.describe()}")
        if self.site is not None:
            lines.append(f"site {self.site.describe()}")
        return "\n".join(lines)


def _fetch_or_read(options: DailyOptions, day: dt.date, path: Path) -> tuple[bool, int]:
    """Fetch the listing to ``path`` unless a finished day's is there; ``(fetched, items)``."""
    if path.exists() and not options.refresh and day < utc_today():
        return False, sum(1 for line in path.open(encoding="utf-8") if line.strip())
    from ..sources.fetch import fetch

    if options.source == "hf":
        listing = fetch("hf", date=day, limit=options.limit, options=options.fetch)
    else:
        listing = fetch("arxiv", category=options.category, since=day, until=day, limit=options.limit, options=options.fetch)
    listing.write(path)
    return True, len(listing)


def _records_of(path: Path, metas: dict[str, PaperMeta | None], on_error: Callable[[InputError], None] | None) -> Iterator[Record]:
    """The records of today's papers in ``path``, in file order, each with what today's
    listing says of it."""
    from ..records.jsonl import read_jsonl

    for _, obj in read_jsonl(path, "record", on_error):
        if obj.get("id") in metas:
            record = Record.model_validate(obj)
            yield record.model_copy(update={"meta": metas[record.id]})


async def arun_daily(
    options: DailyOptions,
    settings: Settings,
    *,
    announce: Callable[[str], None] | None = None,
    on_input_error: Callable[[InputError], None] | None = None,
    stop: asyncio.Event | None = None,
) -> DailyReport:
    """Run the daily loop once (see the module docstring). Raises
    :class:`~extractor.errors.SourceError` when the listing cannot be fetched and
    :class:`~extractor.errors.LibraryError` when the library cannot be used; a stop
    request ends the extraction early (``report.batch.interrupted``), and what was done is
    still put in the library and the digest."""
    from ..pages.digest import digest
    from ..pages.watch import Watchlist
    from ..records.listings import read_papers

    day = parse_day(options.date)
    query = {"date": day.isoformat()} if options.source == "hf" else {
        "category": options.category or "", "since": day.isoformat(), "until": day.isoformat()}  # fmt: skip
    name = listing_name(options.source, query)
    slug = f"{day.isoformat()}-{options.source}" + (f"-{options.category}" if options.source == "arxiv" else "")
    folder = (options.folder or default_daily_folder()) / slug
    report = DailyReport(day=day.isoformat(), name=name, folder=folder, listing=folder / "listing.jsonl",
                         records=folder / "records.jsonl")  # fmt: skip
    with Library(settings.library_path) as library:
        report.fetched, _ = await asyncio.to_thread(_fetch_or_read, options, day, report.listing)
        papers = list(read_papers([report.listing], on_error=on_input_error))
        metas = {paper.id: paper.meta for paper in papers}
        report.papers = len(metas)
        if not metas:
            return report
        batch = BatchOptions(quiet=options.quiet, stop_grace_s=5.0)
        run_settings = settings.model_copy(update={"library": None})  # the loop adds them itself, with the day
        report.batch = await arun_batch([str(report.listing)], report.records, run_settings, batch,
                                        on_input_error=on_input_error, announce=announce, stop=stop)  # fmt: skip
        if not report.records.exists():
            return report
        report.library = await asyncio.to_thread(
            library.add, _records_of(report.records, metas, on_input_error), listing=name, seen=day)  # fmt: skip
        first_seen = library.first_seen(metas)
        report.new = sum(1 for pid in metas if first_seen.get(pid, report.day) >= report.day)
        report.seen_before = len(metas) - report.new
        records = list(_records_of(report.records, metas, on_input_error))
        if records:
            report.digest = folder / f"digest.{options.digest_format}"
            title = f"{SOURCES[options.source]}{' ' + options.category if options.category else ''} · {report.day}"
            digest(records, report.digest, title=title, date=report.day, first_seen=first_seen,
                   watch=Watchlist.of(settings))  # fmt: skip
        if settings.site is not None:
            from ..pages.site import write_site

            report.site = await asyncio.to_thread(write_site, library, settings.site, only=[report.day],
                                                  watch=Watchlist.of(settings))  # fmt: skip
    return report


def run_daily(options: DailyOptions, settings: Settings, **kwargs: Any) -> DailyReport:
    """Synchronous :func:`arun_daily` (same keyword arguments)."""
    return asyncio.run(arun_daily(options, settings, **kwargs))
