"""A run's inputs, read twice as a stream: :func:`open_inputs` gives a ``read()`` that starts
over at each call (standard input spooled to a temporary file), and :func:`plan` decides
what to extract in a first pass (the duplicate rule of
:func:`~extractor.records.identity.unique_copies`, ``limit``, resume) without holding the
papers in memory, then yields them in a second.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..errors import InputError, InputWarning
from ..records.identity import unique_copies
from ..records.listings import read_papers
from ..schema import Paper
from .stats import BatchOptions, BatchStats

__all__ = ["open_inputs", "plan"]


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
