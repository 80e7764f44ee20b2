"""How a source is asked, shared by every source: :class:`FetchOptions` (endpoint, retries,
backoff, pacing, timeout), :class:`Pacer` (calls spaced apart), and the words of a failure
(:func:`retried`, :func:`network_reason`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FetchOptions", "Pacer", "network_reason", "retried"]


@dataclass(frozen=True)
class FetchOptions:
    """How a source is asked; the defaults suit the real services.

    ``endpoint`` replaces the service's base URL (a mirror, or a test server on
    127.0.0.1): ``https://huggingface.co`` (or ``HF_ENDPOINT``) for ``hf``,
    ``https://export.arxiv.org`` for ``arxiv``. ``delay`` is the least time between two
    requests (None: 1 s for ``hf``, 3 s for ``arxiv``, as arXiv's terms ask)."""

    endpoint: str | None = None
    retries: int = 3
    backoff: float = 1.0
    delay: float | None = None
    timeout: float = 30.0


def retried(retries: int) -> str:
    """``" after 3 retries"``, ``" after 1 retry"``, or nothing: for a message.

    Example:
        >>> retried(3), retried(1), retried(0)
        (' after 3 retries', ' after 1 retry', '')
    """
    return f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""


def network_reason(exc: BaseException) -> str:
    """Why a connection failed, short: the system's words (``[Errno 111] Connection
    refused``) when the error holds them, else its first 160 characters."""
    import re

    text = " ".join(str(exc).split()) or type(exc).__name__
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    reason = found.group(0).strip() if found else text
    return reason if len(reason) <= 160 else reason[:159] + "…"


class Pacer:
    """Spaces calls at least ``delay`` seconds apart (the first goes at once)."""

    def __init__(self, delay: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.delay, self._clock, self._sleep = delay, clock, sleep
        self._last: float | None = None

    def wait(self) -> None:
        if self._last is not None and (left := self.delay - (self._clock() - self._last)) > 0:
            self._sleep(left)
        self._last = self._clock()
