"""The batch runner: listings in, a record file out, without ever losing finished work.

``run_batch`` reads the inputs twice as a stream — once to find, for every normalised
title (and every paper id), the copy with the longest abstract (so duplicates are dropped
without holding the papers in memory), once to feed the papers to the extractor — skips
papers the output file already holds (resume), extracts the rest concurrently
(``settings.concurrency`` at a time, ``settings.rpm`` requests a minute at most) and
appends each record the moment it completes. Output order follows completion, not input.
Standard input (``-``) is spooled to a temporary file so it can be read twice.

Stopping: the first Ctrl-C or SIGTERM stops new requests and gives the ones in flight
``BatchOptions.stop_grace_s`` seconds to finish (their records are written); then, or at
a second Ctrl-C, the rest are cancelled. Every finished record is already on disk and the
file is valid; re-running the same command resumes. A third Ctrl-C exits at once. A
:class:`~extractor.errors.FatalEndpointError` (bad key, unknown model, unreachable host)
stops the batch at once too (``BatchStats.stopped_by``).

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
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .api import open_extractor
from .errors import FatalEndpointError, InputError
from .extract import Extractor
from .listings import normalise_title, read_papers
from .output import RecordWriter
from .progress import Progress
from .schema import Paper, Record
from .settings import Settings

__all__ = ["BatchOptions", "BatchStats", "arun_batch", "plan", "run_batch"]


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

    read: int = 0
    unique: int = 0
    duplicates: int = 0
    already_done: int = 0
    extracted: int = 0
    from_cache: int = 0
    failed: int = 0
    dropped_values: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    wall_s: float = 0.0
    input_errors: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    stopped_by: str | None = None
    stopped_kind: str | None = None

    @property
    def papers_per_s(self) -> float:
        return (self.extracted + self.failed) / self.wall_s if self.wall_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "papers_per_s": round(self.papers_per_s, 3)}

    def summary(self) -> str:
        lines = [
            f"papers read {self.read}, unique {self.unique} ({self.duplicates} duplicates dropped), "
            f"already in output {self.already_done}",
            f"extracted {self.extracted} ({self.from_cache} from cache), failed {self.failed}"
            + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(self.failures.items()))})" if self.failures else "")
            + f", values dropped by grounding {self.dropped_values}",
            f"tokens in {self.tokens_in}, out {self.tokens_out}; "
            f"wall {self.wall_s:.1f}s, {self.papers_per_s:.2f} papers/s",
        ]
        if self.input_errors:
            lines.append(f"input errors {len(self.input_errors)} (shown above)")
        if self.interrupted:
            lines.append("interrupted: finished records are saved; run the same command again to resume")
        if self.stopped_by:
            lines.append(f"stopped: {self.stopped_by}")
        return "\n".join(lines)


def plan(
    read: Callable[[], Iterable[Paper]], done: set[str], stats: BatchStats, limit: int | None = None
) -> tuple[Iterator[Paper], int]:
    """Decide what to extract without holding the papers in memory.

    The first pass over the inputs keeps, per normalised title, the copy with the longest
    abstract; ``limit`` keeps the first N distinct papers in input order; papers whose id
    is in ``done`` (already in the output file) are skipped. Returns a second, lazy pass
    yielding the papers to extract, and their count. ``read`` re-opens the inputs.
    """
    best: dict[str, tuple[int, int, str]] = {}  # normalised title -> (length, position, id)
    position = 0
    for position, paper in enumerate(read(), 1):
        key = normalise_title(paper.title) or paper.id
        length = len(paper.abstract)
        if key not in best or length > best[key][0]:
            best[key] = (length, position, paper.id)
    stats.read = position
    stats.unique = len(best)
    stats.duplicates = stats.read - stats.unique
    winners = sorted((pos, pid) for _, pos, pid in best.values())
    del best
    if limit is not None:
        winners = winners[:limit]
    todo = {pos for pos, pid in winners if pid not in done}
    stats.already_done = len(winners) - len(todo)

    def second_pass() -> Iterator[Paper]:
        remaining = len(todo)
        for position, paper in enumerate(read(), 1):
            if remaining == 0:
                return
            if position in todo:
                remaining -= 1
                yield paper

    return second_pass(), len(todo)


async def arun_batch(
    inputs: list[str],
    output: str | Path,
    settings: Settings,
    options: BatchOptions | None = None,
    *,
    on_input_error: Callable[[InputError], None] | None = None,
    announce: Callable[[str], None] | None = None,
) -> BatchStats:
    """Run a batch (see the module docstring). Returns its :class:`BatchStats`."""
    opts = options or BatchOptions()
    stats = BatchStats()
    started = time.perf_counter()
    errors_seen: set[str] = set()

    def report(err: InputError) -> None:
        if str(err) not in errors_seen:  # both reading passes meet the same errors
            errors_seen.add(str(err))
            stats.input_errors.append(str(err))
            if on_input_error is not None:
                on_input_error(err)

    def read() -> Iterable[Paper]:
        return read_papers(
            inputs,
            fmt=opts.input_format,
            title_key=opts.title_key,
            abstract_key=opts.abstract_key,
            on_error=report,
            stdin=stdin_papers,
        )

    stdin_papers: io.StringIO | None = None
    if "-" in inputs:  # stdin cannot be read twice: buffer it once
        stdin_papers = io.StringIO(sys.stdin.read())

    def rewound() -> Iterable[Paper]:
        if stdin_papers is not None:
            stdin_papers.seek(0)
        return read()

    writer = RecordWriter(output, opts.output_format)
    try:
        pending, total = plan(rewound, writer.done, stats, opts.limit)
        if total == 0:
            return stats
        with Progress(total=total, enabled=not opts.quiet) as progress:
            async with open_extractor(settings, announce=announce) as ex:
                progress.start()
                async for record in ex.aextract_many(pending):
                    writer.write(record)
                    _count(record, stats)
                    progress.advance(record)
                    if opts.verbose:
                        progress.log(_describe(record))
    except asyncio.CancelledError:
        stats.interrupted = True
    except FatalEndpointError as exc:
        stats.stopped_by = str(exc)
    finally:
        writer.close()
        stats.wall_s = time.perf_counter() - started
    return stats


def _count(record: Record, stats: BatchStats) -> None:
    if record.error is not None:
        stats.failed += 1
        stats.failures[record.error.kind] = stats.failures.get(record.error.kind, 0) + 1
    else:
        stats.extracted += 1
        stats.dropped_values += len(record.dropped)
    if record.provenance is not None:
        if record.provenance.cached:
            stats.from_cache += 1
        stats.tokens_in += record.provenance.tokens_in
        stats.tokens_out += record.provenance.tokens_out


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
    """Synchronous :func:`arun_batch` that turns Ctrl-C and SIGTERM into a clean stop."""
    loop = asyncio.new_event_loop()
    task = loop.create_task(arun_batch(inputs, output, settings, options, **kwargs))
    interrupts = 0

    def stop() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            raise SystemExit(130)
        task.cancel()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass
    try:
        return loop.run_until_complete(task)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        loop.close()
