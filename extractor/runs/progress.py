"""The progress display on stderr: done/total, papers per second, ETA, cache hits, failures.

Built on ``rich``, laid out to fit an 80-column terminal (the bar takes what is left).
Quiet when stderr is not a terminal or with ``--quiet``; log lines (``--verbose``, and
the stop notice) still print, above the bar when there is one. ``rich`` is imported only
when something is shown (the bar, or a log line): a quiet run does without it.

Example:
    >>> with Progress(total=3, enabled=False) as p:
    ...     p.start()
    >>> p.done
    0
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from ..schema import Record

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as _RichProgress

__all__ = ["Progress"]


class Progress:
    """Counts records as they complete and shows them when stderr is a terminal."""

    def __init__(self, total: int, *, enabled: bool = True) -> None:
        self.total = total
        self.done = self.cached = self.failed = 0
        self._console: Console | None = None
        self.enabled = enabled and sys.stderr.isatty()
        self._bar: _RichProgress | None = None
        self._task: Any = None

    @property
    def console(self) -> Console:
        """The ``rich`` console on stderr that the bar and log lines are drawn on (made on
        first use)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        return self._console

    @console.setter
    def console(self, console: Console) -> None:
        self._console = console

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self) -> None:
        if not self.enabled or self._bar is not None:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as _RichProgress

        self._bar = _RichProgress(
            TextColumn("[bold]extracting"),
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("cached {task.fields[cached]} failed {task.fields[failed]}"),
            console=self.console,
            transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task("extract", total=self.total, rate="-", cached=0, failed=0)

    def advance(self, record: Record) -> None:
        self.done += 1
        if record.error is not None:
            self.failed += 1
        elif record.provenance is not None and record.provenance.cached:
            self.cached += 1
        if self._bar is not None:
            elapsed = self._bar.tasks[0].elapsed or 0.0
            rate = f"{self.done / elapsed:.1f}" if elapsed else "-"
            self._bar.update(self._task, advance=1, rate=rate, cached=self.cached, failed=self.failed)

    def log(self, message: str) -> None:
        self.console.print(message, markup=False, highlight=False)
