"""Running async code from sync code: the one way, used by every sync call of the API.

``extractor.summarize``, ``extract_many``, ``run_batch``, ``prepare_requests``,
``ingest_answers``, ``doctor`` and the command line drive their coroutines through a
:class:`SyncLoop`. Where no event loop runs in the calling thread (a script, the CLI) the
coroutines run on a loop of the calling thread, and Ctrl-C cancels them as
``asyncio.run`` does. Where one already runs (Jupyter, an async web app) a sync call
cannot block it from inside, so the coroutines run on a loop of a worker thread of the
call's own, while the caller waits; an interrupt while it waits cancels them there. Either
way, when the call ends the loop is closed the way ``asyncio.run`` closes it: tasks still
pending are cancelled and awaited, async generators finalised, so nothing is reported
"destroyed but pending" afterwards.

Example:
    >>> async def answer():
    ...     return 42
    >>> run_sync(answer())
    42
    >>> async def inside_a_loop():  # as in a notebook cell
    ...     return run_sync(answer())
    >>> asyncio.run(inside_a_loop())
    42
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

__all__ = ["SyncLoop", "run_sync"]

T = TypeVar("T")


def _in_a_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class SyncLoop:
    """An event loop that sync code drives, call after call (see the module docstring).
    Use as a context manager; :attr:`loop` is the loop the coroutines run on.
    ``own_thread`` runs it on a worker thread even where no loop runs (a Ray actor, whose
    calls may come from several threads)."""

    def __init__(self, *, own_thread: bool = False) -> None:
        self._runner: asyncio.Runner | None = None
        self._thread: threading.Thread | None = None
        if own_thread or _in_a_running_loop():
            self.loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self.loop.run_forever, name="extractor-loop", daemon=True)
            self._thread.start()
        else:
            self._runner = asyncio.Runner()
            self.loop = self._runner.get_loop()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` to its end on this loop; its result, or its exception."""
        if self._runner is not None:
            return self._runner.run(coro)
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # an interrupt of the waiting caller: the work stops too
            raise

    def iterate(self, items: AsyncIterator[T]) -> Iterator[T]:
        """The items of an async iterator, one ``run`` each."""
        while True:
            try:
                yield self.run(items.__anext__())  # type: ignore[arg-type]
            except StopAsyncIteration:
                return

    def close(self, timeout: float | None = None) -> None:
        """Cancel what is still pending, finalise async generators, close the loop. With
        a worker thread, ``timeout`` bounds the wait for that (an actor's end must not
        hang on a task that ignores its cancellation); the thread is a daemon."""
        if self._runner is not None:
            self._runner.close()
            return
        if self._thread is None or self.loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(_shutdown(), self.loop).result(timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self.loop.close()

    def __enter__(self) -> SyncLoop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _shutdown() -> None:
    """What ``asyncio.run`` does before closing its loop (this coroutine's task excepted)."""
    loop = asyncio.get_running_loop()
    pending = [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task()]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine to its end from sync code, inside a running event loop or not."""
    with SyncLoop() as loop:
        return loop.run(coro)
