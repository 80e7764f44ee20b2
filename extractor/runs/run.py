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
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FatalEndpointError, InputError, InputWarning
from ..extraction.extractor import Extractor, open_extractor
from ..records.listings import read_papers
from ..records.output import RecordWriter
from .progress import Progress
from ..schema import Paper, Record
from ..settings import Settings
from ..sync import run_sync
from ..records.identity import unique_copies

__all__ = ["BatchOptions", "BatchStats", "arun_batch", "open_inputs", "plan", "run_batch"]


@dataclass
class BatchOptions:
    """How inputs are read and output written (the rest is in :class:`Settings`)."""

    input_format: str | None = None
    title_key: str = "title"
    abstract_key: str = "abstract"
    output_format: str | None = None
    limit: int | None = None
    quiet: bool = False
    verbose: bool = False
    stop_grace_s: float = 5.0  # after a stop request, how long requests in flight may finish


@dataclass
class BatchStats:
    """What a run did; printed as the closing summary."""

    read: int = 0  # papers read, duplicates included
    unique: int = 0  # distinct papers by the duplicate rule
    duplicates: int = 0  # papers dropped as duplicates
    already_done: int = 0  # unique papers the output file already held
    extracted: int = 0  # records written with an extraction
    from_cache: int = 0  # records answered from the cache
    failed: int = 0  # error records written
    dropped_values: int = 0  # values grounding removed
    summaries: dict[str, int] = field(default_factory=dict)  # summary source -> records
    origins: dict[str, int] = field(default_factory=dict)  # "rule" / "model" -> values
    tokens_in: int = 0
    tokens_out: int = 0
    wall_s: float = 0.0
    input_errors: list[str] = field(default_factory=list)  # every input problem told, warnings included
    input_lost: int = 0  # input problems that lost input (a file, line or row skipped), warnings not
    failures: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    stopped_by: str | None = None
    stopped_kind: str | None = None
    model: bool = True  # a model was asked (not policy "rules"): its costs are worth a line
    library: str | None = None  # what adding the output to the library did

    @classmethod
    def for_settings(cls, settings: Settings) -> BatchStats:
        return cls(model=settings.uses_model)

    def count(self, record: Record) -> None:
        """Add one written record to the counts."""
        if record.error is not None:
            self.failed += 1
            self.failures[record.error.kind] = self.failures.get(record.error.kind, 0) + 1
        else:
            self.extracted += 1
            self.dropped_values += len(record.dropped)
            if record.summary_source is not None:
                self.summaries[record.summary_source] = self.summaries.get(record.summary_source, 0) + 1
            for source in record.origin.values():
                self.origins[source] = self.origins.get(source, 0) + 1
        if record.provenance is not None:
            if record.provenance.cached:
                self.from_cache += 1
            self.tokens_in += record.provenance.tokens_in
            self.tokens_out += record.provenance.tokens_out

    @property
    def papers_per_s(self) -> float:
        return (self.extracted + self.failed) / self.wall_s if self.wall_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "papers_per_s": round(self.papers_per_s, 3)}

    def summary(self) -> str:
        """The closing summary. Without a model (policy ``rules``) nothing is cached, asked
        or grounded: those counts are left out."""
        failures = f" ({', '.join(f'{k}: {v}' for k, v in sorted(self.failures.items()))})" if self.failures else ""
        speed = f"wall {self.wall_s:.1f}s, {self.papers_per_s:.2f} papers/s"
        lines = [
            f"papers read {self.read}, unique {self.unique} ({self.duplicates} duplicates dropped), "
            f"already in output {self.already_done}"
        ]
        if not self.model:
            lines += [
                f"extracted {self.extracted}, failed {self.failed}{failures}; rules only, no model",
                f"summaries: extractive {self.summaries.get('extractive', 0)}; values from rules {self.origins.get('rule', 0)}",
                speed,
            ]
        else:
            lines += [
                f"extracted {self.extracted} ({self.from_cache} from cache), failed {self.failed}{failures}"
                f", values dropped by grounding {self.dropped_values}",
                f"summaries: {_counts(self.summaries, ('model', 'extractive'))}; "
                f"values from {_counts(self.origins, ('rule', 'model'))}",
                f"tokens in {self.tokens_in}, out {self.tokens_out}; {speed}",
            ]
        if self.library:
            lines.append(f"library: {self.library}")
        if self.input_errors:
            lines.append(f"input errors {len(self.input_errors)} (shown above; input lost: {self.input_lost})")
        if self.interrupted:
            lines.append("interrupted: finished records are saved; run the same command again to resume")
        if self.stopped_by:
            lines.append(f"stopped: {self.stopped_by}")
        return "\n".join(lines)


def plan(
    read: Callable[[], Iterable[Paper]],
    done: set[str],
    stats: BatchStats,
    limit: int | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> tuple[Iterator[Paper], int]:
    """Decide what to extract without holding the papers in memory.

    The first pass over the inputs applies :func:`~extractor.records.identity.unique_copies` (the
    rule ``extractor papers`` counts with). ``limit`` keeps the first N distinct papers in
    input order; papers whose id is in ``done`` (already in the output file) are skipped.
    Returns a second, lazy pass yielding the papers to extract, and their count. ``read``
    re-opens the inputs; a paper whose id differs from the first pass (the input changed
    in between) is skipped, so no id is ever yielded twice. When ``stopped()`` turns true
    during the first pass, reading ends there and nothing is planned.
    """

    def until_stopped() -> Iterator[Paper]:
        for paper in read():
            if stopped():
                return
            yield paper

    winners, stats.read = unique_copies(until_stopped())
    if stopped():
        return iter(()), 0
    stats.unique = len(winners)
    stats.duplicates = stats.read - stats.unique
    if limit is not None:
        winners = winners[:limit]
    todo = {pos: pid for pos, pid in winners if pid not in done}
    stats.already_done = len(winners) - len(todo)
    del winners

    def second_pass() -> Iterator[Paper]:
        remaining = len(todo)
        for position, paper in enumerate(read(), 1):
            if remaining == 0:
                return
            if todo.get(position) is not None:
                remaining -= 1
                if todo[position] == paper.id:
                    yield paper

    return second_pass(), len(todo)


@contextlib.contextmanager
def _spooled_stdin(inputs: list[str]) -> Iterator[Any]:
    """Standard input copied to a temporary file (in memory while small) so both passes
    can read it; None when ``-`` is not among the inputs."""
    if "-" not in inputs:
        yield None
        return
    with tempfile.SpooledTemporaryFile(max_size=8 * 2**20, mode="w+b") as spool:
        source = getattr(sys.stdin, "buffer", None)
        if source is not None:
            shutil.copyfileobj(source, spool)
        else:  # a text stream (tests, embedding)
            for chunk in iter(lambda: sys.stdin.read(2**16), ""):
                spool.write(chunk.encode("utf-8"))
        yield spool


@contextlib.contextmanager
def open_inputs(
    inputs: list[str],
    opts: BatchOptions,
    stats: BatchStats,
    on_input_error: Callable[[InputError], None] | None = None,
) -> Iterator[Callable[[], Iterable[Paper]]]:
    """A ``read()`` that yields the papers of ``inputs`` from the start each time it is
    called (for :func:`plan`'s two passes; standard input is spooled). Each input error is
    added to ``stats.input_errors`` and passed to ``on_input_error`` once, however many
    passes meet it."""
    errors_seen: set[str] = set()

    def report(err: InputError) -> None:
        if str(err) not in errors_seen:  # both reading passes meet the same errors
            errors_seen.add(str(err))
            stats.input_errors.append(str(err))
            stats.input_lost += not isinstance(err, InputWarning)
            if on_input_error is not None:
                on_input_error(err)

    with _spooled_stdin(inputs) as stdin_papers:

        def read() -> Iterable[Paper]:
            if stdin_papers is not None:
                stdin_papers.seek(0)
            return read_papers(
                inputs,
                fmt=opts.input_format,
                title_key=opts.title_key,
                abstract_key=opts.abstract_key,
                on_error=report,
                stdin=stdin_papers,
            )

        yield read


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


def _counts(counts: dict[str, int], names: tuple[str, ...]) -> str:
    """``"model 12, extractive 3"``: every name, zeros included, in the given order."""
    return ", ".join(f"{name} {counts.get(name, 0)}" for name in names)


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
