"""arXiv: a category's papers submitted in a date range, through the ``arxiv`` package (4.x).

The query is ``cat:CATEGORY AND submittedDate:[YYYYMMDD0000 TO YYYYMMDD2359]`` (GMT, the
first version's submission; ``cat:`` also matches cross-lists), sorted newest first. The
package pages through the results (200 a request), waits ``delay`` seconds between
requests (arXiv asks for 3) and retries failed requests. Each result becomes one flat
listing row named like :class:`~extractor.schema.PaperMeta`'s fields, so ``extractor run``
reads it with no flag: ``id`` (the arXiv id without version), ``title``, ``abstract``,
``authors``, ``categories`` (the primary one first), ``published``, ``listing_date`` (the
submission day), ``url``, ``pdf_url``, ``arxiv_comment``, and ``updated``, ``version``,
``journal_ref``, ``doi``, ``affiliations`` when arXiv gives them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from ..errors import SourceError
from .asking import FetchOptions, network_reason, retried

__all__ = ["CATEGORY", "PAGE_SIZE", "fetch_arxiv", "query_for", "result_row"]

PAGE_SIZE = 200
DEFAULT_ENDPOINT = "https://export.arxiv.org"
#: An arXiv category: ``cs.CL``, ``hep-th``, ``q-bio.NC``, ``astro-ph.CO``.
CATEGORY = re.compile(r"[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?")
_VERSION = re.compile(r"v(\d+)$")


def query_for(category: str, since: dt.date, until: dt.date) -> str:
    """The arXiv API query for ``category`` submitted from ``since`` to ``until`` (whole days).

    Example:
        >>> query_for("cs.CL", dt.date(2024, 10, 21), dt.date(2024, 10, 25))
        'cat:cs.CL AND submittedDate:[202410210000 TO 202410252359]'
    """
    return f"cat:{category} AND submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]"


def result_row(result: Any) -> dict[str, Any]:
    """One ``arxiv.Result`` as a flat listing row (see the module docstring)."""
    short = result.get_short_id()
    version = _VERSION.search(short)
    arxiv_id = _VERSION.sub("", short)
    categories = [result.primary_category] + [c for c in result.categories if c != result.primary_category]
    row: dict[str, Any] = {
        "id": arxiv_id,
        "title": result.title,
        "abstract": result.summary,
        "authors": [author.name for author in result.authors],
        "categories": [c for c in categories if c],
        "published": result.published.isoformat() if result.published else None,
        "listing_date": result.published.date().isoformat() if result.published else None,
        "url": f"https://arxiv.org/abs/{arxiv_id}",
        "pdf_url": result.pdf_url,
        "arxiv_comment": result.comment,
        "updated": result.updated.isoformat() if result.updated else None,
        "version": int(version.group(1)) if version else None,
        "journal_ref": result.journal_ref,
        "doi": result.doi,
    }
    affiliations = {author.name: author.affiliation for author in result.authors if getattr(author, "affiliation", None)}
    if affiliations:
        row["affiliations"] = affiliations
    return {key: value for key, value in row.items() if value not in (None, "", [])}


def _client(options: FetchOptions, page_size: int) -> Any:
    import arxiv

    client = arxiv.Client(page_size=page_size, delay_seconds=3.0 if options.delay is None else options.delay,
                          num_retries=options.retries)  # fmt: skip
    endpoint = (options.endpoint or DEFAULT_ENDPOINT).rstrip("/")
    client.query_url_format = f"{endpoint}/api/query?{{}}"
    session = getattr(client, "_session", None)
    if session is not None:  # the package sets no timeout: a stalled server would hang forever
        request, timeout = session.request, options.timeout
        session.request = lambda method, url, **kw: request(method, url, **{"timeout": timeout, **kw})
    return client


def fetch_arxiv(category: str, since: dt.date, until: dt.date, limit: int | None, options: FetchOptions) -> list[dict[str, Any]]:
    """The papers of ``category`` submitted from ``since`` to ``until``, newest first, at
    most ``limit``, as listing rows."""
    if not CATEGORY.fullmatch(category):
        raise SourceError("arxiv", f"{category!r} is not an arXiv category; give one like cs.CL or hep-th")
    import arxiv
    import requests

    client = _client(options, min(limit or PAGE_SIZE, PAGE_SIZE))
    host = urlsplit(client.query_url_format).netloc
    search = arxiv.Search(query=query_for(category, since, until), max_results=limit,
                          sort_by=arxiv.SortCriterion.SubmittedDate, sort_order=arxiv.SortOrder.Descending)  # fmt: skip
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    try:
        for result in client.results(search):
            row = result_row(result)
            if row["id"] not in seen:
                seen.add(row["id"])
                rows.append(row)
    except arxiv.HTTPError as exc:
        raise SourceError("arxiv", f"{host} answered HTTP {exc.status} for {category} {since}..{until}"
                                   f"{retried(options.retries)}") from None  # fmt: skip
    except arxiv.UnexpectedEmptyPageError:
        raise SourceError("arxiv", f"{host} returned an empty page after {len(rows)} papers"
                                   f"{retried(options.retries)}; arXiv is flaky at times: try again") from None  # fmt: skip
    except requests.Timeout:
        raise SourceError("arxiv", f"{host} did not answer within {options.timeout:g}s; try again later") from None
    except requests.RequestException as exc:
        raise SourceError("arxiv", f"cannot reach {host} ({network_reason(exc)}){retried(options.retries)}; check the network") from None
    return rows
