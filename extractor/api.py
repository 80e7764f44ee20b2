"""The convenience calls: build the configured extractor, use it, close it.

``summarize`` is to :class:`~extractor.extraction.extractor.Extractor` what ``httpx.get`` is to
``httpx.Client``. Settings come from keyword arguments, then the environment, then the
config file (see :mod:`extractor.settings`). With no endpoint configured at all, the
bundled local model is started for the call and stopped after it.

Example:
    >>> import extractor
    >>> s = extractor.summarize(  # doctest: +SKIP
    ...     "We propose SlowFast networks for video recognition ...",
    ...     title="SlowFast Networks for Video Recognition",
    ...     base_url="http://127.0.0.1:8080/v1",
    ... )
    >>> s.method_name  # doctest: +SKIP
    'SlowFast'
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .llm.connect import endpoint_configured
from .errors import EndpointError, InputError
from .extraction.extractor import open_extractor
from .records.listings import as_paper, dedupe, is_blank, paper_from_text
from .schema import Paper, Extraction, Record
from .settings import Settings, load_settings
from .sync import SyncLoop, run_sync

__all__ = ["asummarize", "endpoint_configured", "extract_many", "open_extractor", "summarize"]


async def asummarize(abstract: str, title: str | None = None, **settings: Any) -> Extraction:
    """Extract one abstract; return its grounded :class:`Extraction`.

    Keyword arguments are :class:`Settings` fields (``base_url``, ``model``, ``mode``...).
    Raises :class:`~extractor.errors.InputError` when ``abstract`` is not a non-blank str
    (or ``title`` neither None nor a str), before any request, and
    :class:`~extractor.errors.EndpointError` when the endpoint fails.
    """
    record = await _extract_one(abstract, title, settings)
    assert record.extraction is not None
    return record.extraction


def _check_text(name: str, value: object, *, required: bool) -> None:
    """Refuse, before any request, an argument that is not text (or blank when required)."""
    if value is None and not required:
        return
    if isinstance(value, bytes | bytearray):
        raise InputError(name, "is bytes, expected str; decode it first, e.g. data.decode('utf-8')")
    if not isinstance(value, str):
        raise InputError(name, f"is {type(value).__name__}, expected str")
    if required and is_blank(value):
        raise InputError(name, "is empty; there is nothing to extract")


async def _extract_one(abstract: str, title: str | None, flags: dict[str, Any]) -> Record:
    _check_text("abstract", abstract, required=True)
    _check_text("title", title, required=False)
    s = load_settings(flags)
    paper = paper_from_text(abstract, title=title)
    async with open_extractor(s) as ex:
        record = await ex.aextract(paper)
    if record.error is not None:
        raise EndpointError(record.error.kind, record.error.message, record.error.attempts)
    return record


def summarize(abstract: str, title: str | None = None, **settings: Any) -> Extraction:
    """Extract one abstract; return its grounded :class:`Extraction`.

    Example:
        >>> extractor.summarize(text, base_url="http://127.0.0.1:8080/v1")  # doctest: +SKIP
        Extraction(task='video recognition', method=..., method_name='SlowFast', ...)
    """
    return run_sync(asummarize(abstract, title, **settings))


def extract_many(papers: Iterable[Paper | Mapping[str, Any]], **settings: Any) -> Iterator[Record]:
    """Extract many papers concurrently, yielding records as they complete (failed papers
    are records with ``error`` set). Keyword arguments are :class:`Settings` fields.

    ``papers`` are :class:`Paper` objects (as :func:`~extractor.records.listings.read_papers`
    gives them) or mappings with ``title`` and ``abstract`` (and ``id``). They are read
    whole and checked when it is called, before any request (an item that is not a paper
    raises :class:`~extractor.errors.InputError` naming it, an unknown setting
    :class:`~extractor.errors.ConfigError`), and de-duplicated by the rule of
    ``extractor run`` (:func:`~extractor.records.listings.dedupe`): a paper given twice is
    extracted once.

    Example:
        >>> from extractor.records.listings import read_papers
        >>> for rec in extract_many(read_papers(["seeds/"]), base_url=URL):  # doctest: +SKIP
        ...     print(rec.id, rec.extraction.task if rec.ok else rec.error.kind)
    """
    return _extracted(_unique_papers(papers), load_settings(settings))  # both checked now, before any request


def _extracted(papers: list[Paper], s: Settings) -> Iterator[Record]:
    with SyncLoop() as loop:
        stack = contextlib.AsyncExitStack()
        try:
            ex = loop.run(stack.enter_async_context(open_extractor(s)))
            records = ex.aextract_many(papers)
            try:
                yield from loop.iterate(records)
            finally:
                loop.run(records.aclose())
        finally:
            loop.run(stack.aclose())


def _unique_papers(papers: Iterable[Paper | Mapping[str, Any]]) -> list[Paper]:
    """Every item as a :class:`Paper` (or :class:`InputError`), duplicates dropped."""
    if isinstance(papers, str | bytes | Mapping | Paper) or not isinstance(papers, Iterable):
        raise InputError(
            "papers", f"is {type(papers).__name__}, expected an iterable of papers (for one abstract: summarize)"
        )
    return dedupe(as_paper(item, f"papers[{n}]") for n, item in enumerate(papers))[0]
