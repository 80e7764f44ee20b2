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

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterable, Iterator
from typing import Any, TypeVar

from .llm.connect import endpoint_configured
from .errors import EndpointError, InputError
from .extraction.extractor import open_extractor
from .records.listings import paper_from_text
from .schema import Paper, Extraction, Record
from .settings import Settings, load_settings

__all__ = ["asummarize", "endpoint_configured", "extract_many", "open_extractor", "summarize"]

T = TypeVar("T")

def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, also when an event loop already runs (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


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
    if required and not value.strip():
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
    return _run(asummarize(abstract, title, **settings))


def summarize_record(abstract: str, title: str | None = None, **settings: Any) -> Record:
    """Like :func:`summarize` but return the whole :class:`Record` (provenance, links,
    grounding)."""
    return _run(_extract_one(abstract, title, settings))


def extract_many(papers: Iterable[Paper], **settings: Any) -> Iterator[Record]:
    """Extract many papers concurrently, yielding records as they complete (failed papers
    are records with ``error`` set). Keyword arguments are :class:`Settings` fields.

    Example:
        >>> from extractor.records.listings import read_papers
        >>> for rec in extract_many(read_papers(["seeds/"]), base_url=URL):  # doctest: +SKIP
        ...     print(rec.id, rec.extraction.task if rec.ok else rec.error.kind)
    """
    s = load_settings(settings)
    loop = asyncio.new_event_loop()
    stack = contextlib.AsyncExitStack()
    try:
        ex = loop.run_until_complete(stack.enter_async_context(open_extractor(s)))
        agen = ex.aextract_many(papers)
        while True:
            try:
                yield loop.run_until_complete(agen.__anext__())
            except StopAsyncIteration:
                break
        loop.run_until_complete(agen.aclose())
    finally:
        loop.run_until_complete(stack.aclose())
        loop.close()
