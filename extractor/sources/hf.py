"""The Hugging Face Daily Papers: ``GET {endpoint}/api/daily_papers``, through ``huggingface_hub``.

``huggingface_hub``'s ``HfApi.list_daily_papers`` (1.2+) asks this endpoint, but turns each
item into a ``PaperInfo`` that keeps only the fields it knows of what the Hub puts inside
``paper`` (before 2.5, not even the GitHub repo and stars) and drops the day an item was
listed on (``paper.submittedOnDailyAt``). So the same request is made here with the library's own
HTTP layer (its shared client, headers, ``http_backoff`` retries with ``Retry-After``, and
``hf_raise_for_status`` errors), and the items are kept as the Hub sent them.

The answer is a bare JSON array with no total and no next link: pages (``p``, 0-based, of
``limit`` items, 50 by default) are asked until one is not full, brings no paper not seen
yet (an endpoint that ignores ``p``), or the ``limit`` is reached. A paper listed twice (a week or a month
can hold one on two days) is kept once, at its first place.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from ..errors import SourceError
from .asking import FetchOptions, Pacer, network_reason, retried

__all__ = ["PAGE_SIZE", "fetch_hf"]

PAGE_SIZE = 50  # the API's documented default page size
MAX_PAGES = 200  # 10,000 papers: more than any month has held
_SORTS = {"published": "publishedAt", "publishedAt": "publishedAt", "trending": "trending"}


@contextmanager
def _quiet_retries() -> Iterator[None]:
    """huggingface_hub logs each retry as a warning; the error that ends the retries is
    what the user sees, in one line."""
    logger = logging.getLogger("huggingface_hub.utils._http")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _headers() -> dict[str, str]:
    from huggingface_hub.utils import build_hf_headers

    from ..version import __version__

    token = os.environ.get("HF_TOKEN", "").strip() or False  # never a token saved on disk
    return build_hf_headers(token=token, library_name="extractor", library_version=__version__)


def _get(url: str, params: dict[str, Any], options: FetchOptions) -> list[dict[str, Any]]:
    """One page of items; every failure as a one-line :class:`SourceError`."""
    import httpx2
    from huggingface_hub import errors as hf_errors
    from huggingface_hub.utils import hf_raise_for_status, http_backoff

    host = urlsplit(url).netloc
    try:
        with _quiet_retries():
            response = http_backoff("GET", url, params=params, headers=_headers(), timeout=options.timeout,
                                    max_retries=options.retries, base_wait_time=options.backoff,
                                    max_wait_time=max(8.0, options.backoff))  # fmt: skip
            hf_raise_for_status(response)
    except hf_errors.OfflineModeIsEnabled:
        raise SourceError("hf", "HF_HUB_OFFLINE is set: unset it to fetch the Daily Papers") from None
    except hf_errors.HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        hint = " (check HF_TOKEN)" if status in (401, 403) else ""
        detail = _server_message(exc.response)
        raise SourceError("hf", f"{host} answered HTTP {status} for {_shown(params)}{hint}{detail}") from None
    except httpx2.TimeoutException:
        raise SourceError("hf", f"{host} did not answer within {options.timeout:g}s{retried(options.retries)}; try again later") from None
    except httpx2.HTTPError as exc:
        raise SourceError("hf", f"cannot reach {host} ({network_reason(exc)}){retried(options.retries)}; check the network") from None
    try:
        items = response.json()
    except ValueError:
        raise SourceError("hf", f"{host} answered something that is not JSON for {_shown(params)}") from None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise SourceError("hf", f"{host} answered {type(items).__name__}, not a list of papers, for {_shown(params)}")
    return items


def _server_message(response: Any) -> str:
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 - any body that is not JSON: no detail
        return ""
    message = body.get("error") if isinstance(body, dict) else None
    return f": {' '.join(str(message).split())[:200]}" if message else ""


def _shown(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items() if k not in ("p", "limit")) or "the latest papers"


def _paper_id(item: dict[str, Any]) -> str | None:
    paper = item.get("paper")
    pid = paper.get("id") if isinstance(paper, dict) else item.get("id")
    return str(pid) if pid is not None else None


def fetch_hf(query: dict[str, str], limit: int | None, options: FetchOptions) -> list[dict[str, Any]]:
    """The Daily Papers items for ``query`` (``date``, ``week`` or ``month``, and ``sort``),
    at most ``limit``, as the Hub sent them."""
    from huggingface_hub import constants

    endpoint = (options.endpoint or constants.ENDPOINT).rstrip("/")
    url = f"{endpoint}/api/daily_papers"
    params: dict[str, Any] = {k: v for k, v in query.items() if k in ("date", "week", "month")}
    if "sort" in query:
        if query["sort"] not in _SORTS:
            raise SourceError("hf", f"unknown sort {query['sort']!r}; use published or trending")
        params["sort"] = _SORTS[query["sort"]]
    size = min(limit or PAGE_SIZE, PAGE_SIZE)
    pacer = Pacer(1.0 if options.delay is None else options.delay)
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for page in range(MAX_PAGES):
        pacer.wait()
        batch = _get(url, {"p": page, "limit": size, **params}, options)
        fresh = []
        for item in batch:
            pid = _paper_id(item)
            if pid is None or pid not in seen:
                fresh.append(item)
                if pid is not None:
                    seen.add(pid)
        items.extend(fresh)
        if len(batch) < size or not fresh or (limit is not None and len(items) >= limit):
            break
    return items[:limit] if limit is not None else items
