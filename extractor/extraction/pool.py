"""The worker pool: a bounded number of papers in flight, results as they complete.

Example:
    >>> import asyncio
    >>> async def double(x):
    ...     await asyncio.sleep(0.01 * (3 - x))
    ...     return 2 * x
    >>> async def collect():
    ...     return sorted([y async for y in imap_unordered(range(3), double, width=2)])
    >>> asyncio.run(collect())
    [0, 2, 4]
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar

__all__ = ["imap_unordered"]

A = TypeVar("A")
B = TypeVar("B")


async def imap_unordered(items: Iterable[A], fn: Callable[[A], Awaitable[B]], width: int) -> AsyncIterator[B]:
    """``fn`` over ``items``, ``width`` at a time, yielding results in completion order.

    ``items`` is consumed lazily (memory stays flat on long inputs). The first exception
    of ``fn`` stops the pool and is raised here; closing the iterator cancels the work
    in flight, and a cancelled worker ends at once (it never waits for room in the queue
    of results nobody reads any more)."""
    results: asyncio.Queue[tuple[B | BaseException | None]] = asyncio.Queue(maxsize=width * 2)
    source = iter(items)

    async def worker() -> None:
        try:
            for item in source:  # shared iterator: each item goes to one worker
                await results.put((await fn(item),))
        except asyncio.CancelledError:
            raise  # the pool is closing: nobody reads the queue any more, so nothing is put in it
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which stops the pool
            await results.put((exc,))
            return
        await results.put((None,))

    tasks = [asyncio.create_task(worker()) for _ in range(width)]
    running = len(tasks)
    try:
        while running:
            (item,) = await results.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
