"""The batch runner: listings in, a record file out, without ever losing finished work.

``run_batch`` reads the inputs twice as a stream — once, in a worker thread (so a stop
request is handled at once, however big the input), to find the copy of every
paper to keep by the duplicate rule of :func:`~extractor.records.identity.unique_copies`
(without holding the papers in memory), once to feed the papers to the extractor — skips
papers the output file already holds (resume), extracts the rest concurrently
(``settings.concurrency`` at a time, ``settings.rpm`` requests a minute at most) and
appends each record the moment it completes. Output order follows completion, not input.
Standard input (``-``) is spooled to a temporary file so it can be read twice.

Stopping: setting the ``stop`` event stops new requests and gives the ones in flight
``BatchOptions.stop_grace_s`` seconds to finish (their records are written); then, or
when the task is cancelled, the rest are cancelled. Every finished record is already on
disk and the file is valid; re-running the same command resumes. The library installs no
signal handlers: the command line turns Ctrl-C and SIGTERM into ``stop`` and cancellation.
A :class:`~extractor.errors.FatalEndpointError` (bad key, unknown model, unreachable host)
stops the batch at once too (``BatchStats.stopped_by``).

With the ``library`` setting, the library is opened (and checked) before anything else,
and at the end every record of the output file is added to it (:mod:`extractor.library`:
the latest record of each paper counts), also after a stop: the file holds them all.

What a run is told and counts is :mod:`~extractor.runs.stats`'s; how it reads its inputs
twice, :mod:`~extractor.runs.inputs`'s (both importable from here too).

Example:
    >>> from extractor.settings import Settings
    >>> stats = run_batch(["seeds/"], "out.jsonl", Settings(base_url=URL))  # doctest: +SKIP
    >>> stats.extracted, stats.failed  # doctest: +SKIP
    (544, 0)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import FatalEndpointError, InputError
from ..extraction.extractor import Extractor, open_extractor
from ..records.output import RecordWriter
from ..schema import Paper, Record
from ..settings import Settings
from ..sync import run_sync
from .inputs import open_inputs, plan
from .progress import Progress
from .stats import BatchOptions, BatchStats

__all__ = ["BatchOptions", "BatchStats", "arun_batch", "open_inputs", "plan", "run_batch"]


class _ProgressLog(logging.Handler):
    """Routes the ``extractor`` logger (each request and retry) above the progress bar."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.DEBUG)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.progress.log(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never break the batch
            self.handleError(record)


@contextlib.contextmanager
def _verbose_logging(progress: Progress, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    logger = logging.getLogger("extractor")
    handler = _ProgressLog(progress)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def arun_batch(
    inputs: list[str],
    output: str | Path,
    settings: Settings,
    options: BatchOptions | None = None,
    *,
    on_input_error: Callable[[InputError], None] | None = None,
    announce: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
) -> BatchStats:
    """Run a batch (see the module docstring). Returns its :class:`BatchStats`.

    Setting ``stop`` asks for a graceful stop: no new paper starts, the ones in flight
    get ``options.stop_grace_s`` seconds. Cancelling the task stops at once. Either way
    the output file is valid and ``stats.interrupted`` is set.
    """
    opts = options or BatchOptions()
    stats = BatchStats.for_settings(settings)
    started = time.perf_counter()
    stop = stop if stop is not None else asyncio.Event()

    with contextlib.ExitStack() as resources:
        library = resources.enter_context(_open_library(settings, output, opts))
        opened: list[bool] = []  # the output was opened as a record file: its records go to the library
        resources.callback(lambda: opened and _add_to_library(library, Path(output), stats, on_input_error))
        read = resources.enter_context(open_inputs(inputs, opts, stats, on_input_error))
        writer = resources.enter_context(RecordWriter(output, opts.output_format))
        opened.append(True)
        total = 0
        try:
            # The first pass is CPU work: off the event loop, so a stop is handled at once.
            pending, total = await asyncio.to_thread(plan, read, writer.done, stats, opts.limit, stop.is_set)
            if stop.is_set():
                stats.interrupted = True
            if total == 0:
                return stats  # nothing to ask: no endpoint is opened

            def feed() -> Iterator[Paper]:
                for paper in pending:
                    if stop.is_set():
                        return
                    yield paper

            with Progress(total=total, enabled=not opts.quiet) as progress, _verbose_logging(progress, opts.verbose):

                async def consume(ex: Extractor) -> None:
                    async with contextlib.aclosing(ex.aextract_many(feed())) as records:
                        async for record in records:
                            if writer.write(record):
                                stats.count(record)
                                progress.advance(record)
                                if opts.verbose:
                                    progress.log(_describe(record))

                async with open_extractor(settings, announce=announce) as ex:
                    progress.start()
                    await _until_done_or_stopped(consume(ex), stop, opts.stop_grace_s)
        except asyncio.CancelledError:
            stop.set()  # ends a first pass still reading in its thread
            stats.interrupted = True
        except FatalEndpointError as exc:
            stats.stopped_by = str(exc)
            stats.stopped_kind = exc.kind
        finally:
            stats.wall_s = time.perf_counter() - started
        if stop.is_set() and stats.extracted + stats.failed < total:
            stats.interrupted = True
    return stats


@contextlib.contextmanager
def _open_library(settings: Settings, output: str | Path, opts: BatchOptions) -> Iterator[Any]:
    """The library of ``settings.library`` (None when unset), opened before the batch so a
    file that is not a library stops it before any request."""
    if settings.library is None:
        yield None
        return
    from ..errors import ConfigError
    from ..library import Library
    from ..records.output import output_format_for

    if output_format_for(Path(output), opts.output_format) != "jsonl":
        raise ConfigError("the library reads the records back: write them as JSONL (-o records.jsonl)")
    with Library(settings.library) as library:
        yield library


def _add_to_library(library: Any, output: Path, stats: BatchStats, on_error: Callable[[InputError], None] | None) -> None:
    """Every record of the output file into the library, once the writer has closed it."""
    if library is not None and output.exists():
        stats.library = f"{library.path}: " + library.add_file(output, on_error=on_error).describe()


async def _until_done_or_stopped(work: Any, stop: asyncio.Event, grace: float) -> None:
    """Run ``work``; once ``stop`` is set, give it ``grace`` seconds, then cancel it."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            await asyncio.wait({task}, timeout=grace)
        if not task.done():
            task.cancel()
        await task  # its result, its exception, or CancelledError when cut short
    finally:
        for pending in (task, stopper):
            if not pending.done():
                pending.cancel()
        await asyncio.gather(task, stopper, return_exceptions=True)


def _describe(record: Record) -> str:
    prov = record.provenance
    if record.error is not None:
        return f"{record.id}: FAILED {record.error.kind}: {record.error.message}"
    cost = f"{prov.latency_s:.2f}s, {prov.tokens_in}+{prov.tokens_out} tokens, {prov.attempts} attempts" if prov else ""
    return f"{record.id}: ok{' (cache)' if prov and prov.cached else ''} {cost}"


def run_batch(
    inputs: list[str],
    output: str | Path,
    settings: Settings,
    options: BatchOptions | None = None,
    **kwargs: Any,
) -> BatchStats:
    """Synchronous :func:`arun_batch` (same keyword arguments; also inside a running event
    loop: :mod:`extractor.sync`). It installs no signal handlers: Ctrl-C cancels the
    batch, whose finished records are saved (``stats.interrupted``)."""
    return run_sync(arun_batch(inputs, output, settings, options, **kwargs))
