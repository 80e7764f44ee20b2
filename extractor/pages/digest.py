"""A digest people read: one self-contained HTML page, or Markdown, from record files.

The HTML page needs no network: its CSS and JS are inline, and the records travel inside
it as a JSON blob that the page's script renders as cards, 50 to a page. At its top is the
day (:mod:`~extractor.pages.day`): a short summary built from facts, the themes of the day
(:mod:`~extractor.pages.themes`) with their papers, and counts and charts that follow the
active filters. Then the cards (:mod:`~extractor.pages.cards`): "new today" first, then
"still listed" with the day each was first seen, the reader's watchlist
(:mod:`~extractor.pages.watch`) ranked first in each; search (abstracts and authors too,
matches highlighted), filters and sorting whose state lives in the URL fragment (so a
filtered view can be shared); stars kept in the browser and exported as Markdown or BibTeX.

Every value is escaped: Jinja2 autoescaping for the template, ``textContent`` in the
script, and only ``http(s)`` URLs ever become links; every value sits in its own
direction-isolated element (``<bdi>``), so a right-to-left override in one cannot reverse
the labels around it; a Content-Security-Policy with a per-page nonce stops anything else
from running or loading.

The Markdown (for email, Slack or a GitHub issue) holds the same content: the summary of
the day and its themes, then one compact entry per paper grouped by contribution kind,
then the failed papers.

The heading's day is the listing's: the ``date`` given (``extractor daily`` gives the day it
fetched), else the latest listing day the records carry, else today.

Records from older files are read tolerantly: fields added later (``summary_source``,
``origin``) may be missing, unknown keys are ignored, and a malformed line is reported and
skipped; a file of which no line is a record (a CSV file, a listing) is reported in one line.

The page's parts: :mod:`~extractor.pages.reading` reads the record files,
:mod:`~extractor.pages.page` holds what a page shows, :mod:`~extractor.pages.render` renders
it; their public names are importable from here too.

The module is ``digests`` so that ``extractor.digest`` is always the function (importing a
submodule named ``digest`` would replace it on the package).

Example:
    >>> import extractor
    >>> from extractor.pages.digest import digest_records
    >>> extractor.digest(digest_records(["results.jsonl"]), "digest.html")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date as date_
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

from ..errors import InputError
from ..records.files import atomic_write, check_target
from ..records.formats import format_for
from ..schema import Record
from .cards import arxiv_href, evidence_span, meta_card, paper_href, safe_href
from .page import DigestSummary, Page
from .reading import DigestRecord, digest_records, listing_day
from .render import DigestFormat, render_html, render_markdown, script_json  # noqa: F401 - script_json: importable from here as before
from .watch import Watchlist

__all__ = [
    "DigestFormat",
    "DigestRecord",
    "DigestSummary",
    "Page",
    "arxiv_href",
    "digest",
    "digest_files",
    "digest_format_for",
    "digest_records",
    "evidence_span",
    "meta_card",
    "paper_href",
    "safe_href",
]


def digest_format_for(path: str | Path, explicit: str | None = None) -> DigestFormat:
    """``explicit`` if given, else by extension: ``.md`` / ``.markdown`` is Markdown,
    ``.html`` / ``.htm`` (or no extension, as ``/dev/stdout``) a page
    (:mod:`~extractor.records.formats`). Any other extension is refused with an
    :class:`InputError`: nobody gets HTML in ``x.txt`` by surprise."""
    found = format_for("digest", path, explicit)
    if found is None:
        suffix = PurePath(str(path)).suffix
        raise InputError(str(path), f"a digest is a page (.html) or Markdown (.md), not {suffix}: "
                                    "name the file so, or say which with --format html or --format md")  # fmt: skip
    return "md" if found == "md" else "html"


def digest(
    records: Iterable[Record | Mapping[str, Any]],
    path: str | Path,
    *,
    title: str | None = None,
    date: datetime | date_ | str | None = None,
    fmt: str | None = None,
    first_seen: Mapping[str, str] | None = None,
    watch: Watchlist | None = None,
) -> DigestSummary:
    """Write a digest of ``records`` to ``path``: a self-contained HTML page, or Markdown
    when ``path`` ends in ``.md`` (or ``fmt="md"``; another extension than ``.html``,
    ``.htm`` or ``.md`` needs ``fmt``). Returns the counts shown at its top.
    The file is written whole (:func:`~extractor.records.files.atomic_write`: a symlink is
    followed, a device written through, a directory refused in one
    :class:`~extractor.errors.InputError`).

    ``records`` are :class:`Record` objects or their JSON dicts (e.g. from
    :func:`digest_records`); a paper present more than once is shown once. ``date`` is
    the listing's day shown on the page (default: the latest listing day of the records,
    else today). ``first_seen`` maps paper ids to the day (``YYYY-MM-DD``) each was first
    seen (``extractor.Library.first_seen``): the page then shows "new today" first, then
    "still listed" with that day. ``watch`` marks and ranks first the papers of the
    reader's watchlist.
    """
    kind = digest_format_for(path, fmt)
    day = date if isinstance(date, str) or date is None else date.strftime("%Y-%m-%d")
    page = Page.of(records, day=day, first_seen=first_seen, watch=watch)
    title = title or f"Paper digest · {page.summary.date}"
    text = render_markdown(page, title) if kind == "md" else render_html(page, title)
    atomic_write(path, text, "the digest")
    return page.summary


def digest_files(
    paths: Sequence[str | Path],
    path: str | Path,
    *,
    title: str | None = None,
    fmt: str | None = None,
    on_error: Callable[[InputError], None] | None = None,
    watch: Watchlist | None = None,
) -> DigestSummary:
    """Write a digest of the JSONL record files ``paths`` to ``path`` (see :func:`digest`).
    The day shown is the records' latest listing day, else the newest file's modification
    time. Raises :class:`InputError` when no record could be read (when the one file given
    is no record file, that is the error, in one line)."""
    digest_format_for(path, fmt)
    check_target(path, "the digest")
    told: list[InputError] = []
    records = digest_records(paths, told.append)
    if not records and len(paths) == 1 and len(told) == 1 and not told[0].line:
        raise told[0]
    for problem in told:
        if on_error is None:
            raise problem
        on_error(problem)
    if not records:
        raise InputError(", ".join(str(p) for p in paths), "no records to digest")
    day = listing_day(records)
    if day is None:
        day = datetime.fromtimestamp(max(Path(p).stat().st_mtime for p in paths)).strftime("%Y-%m-%d")
    return digest(records, path, title=title, fmt=fmt, date=day, watch=watch)


