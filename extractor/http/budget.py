"""What a paper may spend, and how fast requests may start: the retry :class:`Budget` and
the :class:`RateLimiter` that :class:`~extractor.http.transport.Transport` draws on.

One :class:`Budget` per paper, shared by all of its requests, so the worst case is written
down once; ``settings.rpm`` spaces the starts of all requests of one transport, retries
included.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from ..settings import Settings

__all__ = ["Budget", "RateLimiter"]


@dataclass
class Budget:
    """What one paper may spend on retries: ``retries`` transport retries and ``reasks``
    schema re-asks in all, across all of the paper's requests.

    A paper sends at most ``asks + retries + reasks`` HTTP requests, where ``asks`` is the
    number of questions it asks (its parts, plus at most one re-ask for grounding or the
    summary): with the defaults (5 retries, 2 re-asks) a one-part paper sends at most
    ``2 + 5 + 2 = 9`` requests. Retries and re-asks never multiply.

    Example:
        >>> b = Budget(retries=1, reasks=0)
        >>> b.take_retry(), b.take_retry(), b.take_reask()
        (True, False, False)
    """

    retries: int
    reasks: int
    requests: int = 0

    @classmethod
    def for_settings(cls, settings: Settings) -> Budget:
        return cls(retries=settings.retries, reasks=settings.max_reasks)

    def take_retry(self) -> bool:
        if self.retries <= 0:
            return False
        self.retries -= 1
        return True

    def take_reask(self) -> bool:
        if self.reasks <= 0:
            return False
        self.reasks -= 1
        return True


class RateLimiter:
    """Spaces the starts of requests ``60 / rpm`` seconds apart (no bursts).

    One instance is shared by every concurrent request of a :class:`Transport`, on one
    event loop: each :meth:`acquire` reserves the next free start time and sleeps until
    then, so waiting callers are served in arrival order. A caller cancelled while waiting
    gives its slot back when no later one was reserved.

    Example:
        >>> limiter = RateLimiter(6000)  # one start every 10 ms
        >>> async def three():
        ...     return [round(await limiter.acquire(), 2) for _ in range(3)]
        >>> asyncio.run(three())
        [0.0, 0.01, 0.01]
    """

    def __init__(self, rpm: float) -> None:
        if rpm <= 0:
            raise ValueError("rpm must be positive")
        self.rpm = rpm
        self.interval = 60.0 / rpm
        self._next = 0.0

    async def acquire(self) -> float:
        """Wait for this request's start slot; return the seconds waited."""
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + self.interval
        wait = start - now
        if wait > 0:
            try:
                await asyncio.sleep(wait)
            except asyncio.CancelledError:
                if self._next == start + self.interval:  # nobody queued behind us
                    self._next = start
                raise
        return wait
