"""HTTP to one OpenAI-compatible endpoint: the only place a request is sent and retried.

:class:`Transport` posts JSON and reads JSON over an aiohttp client per replica
(:mod:`extractor.http.sessions`). Pass your own ``transport=`` (any ``httpx2.AsyncBaseTransport``,
e.g. ``httpx2.MockTransport``) or ``client=`` (an ``httpx2.AsyncClient``) to test the request
policy without a socket, or ``sessions=`` (one :class:`~extractor.http.sessions.Session` per replica).

An endpoint may be several replicas of one deployment (``--base-url`` given more than
once): each request, and each retry of it, goes to the replica that
:class:`~extractor.http.replicas.Replicas` picks (the fewest in flight, drained ones left out),
so a retry of a request that failed on one replica may go to another. The retry policy and
the :class:`~extractor.http.budget.Budget` are the same for one replica or many.

Every HTTP exchange goes through one retry wrapper (tenacity): 429 (honouring
``retry-after-ms`` / ``Retry-After``), 408/409, 5xx, timeouts, dropped connections and
bodies that are not JSON are retried with exponential backoff and jitter. A refused
connection before anything ever answered (a wrong port, a server not started) is retried
only :data:`REFUSED_RETRIES` times, quickly: it is known within a second, and the error
says how many attempts it made. What a retry may
spend is a :class:`~extractor.http.budget.Budget`: one per paper, shared by all of that paper's requests, so the
worst case is written down once. ``settings.rpm`` spaces the starts of
all requests of one transport (:class:`~extractor.http.budget.RateLimiter`), retries included. What a fault means is :mod:`~extractor.http.failures`.

After its retries a failed exchange raises :class:`~extractor.errors.EndpointError` with a
short ``kind`` (``rate_limit``, ``server``, ``timeout``, ``connection``, ``bad_response``,
``context_length``, ``bad_request``, ``http``; a status's kind is
:func:`~extractor.http.status.status_kind`'s), or :class:`~extractor.errors.FatalEndpointError`
when retrying cannot help and every paper would fail the same way (``auth``, ``not_found``,
a host that never accepted a connection, an HTML page where the API should be), or
:class:`~extractor.errors.ServerGoneError` when a server that answered earlier stops
accepting connections. With several replicas, such an answer from one replica while another
is in use drops that replica (it is not used again, or drained for a cool-down) and the
request is retried on another; only when none is left is the error fatal.

Example:
    >>> import asyncio, httpx2
    >>> from extractor.settings import Settings
    >>> def answer(request):
    ...     return httpx2.Response(200, json={"data": [{"id": "m"}]})
    >>> t = Transport(Settings(base_url="http://127.0.0.1:9/v1"), transport=httpx2.MockTransport(answer))
    >>> asyncio.run(t.get("/models"))
    {'data': [{'id': 'm'}]}
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tenacity import AsyncRetrying, RetryCallState, stop_before_delay

from ..errors import EndpointError, FatalEndpointError, ServerGoneError, one_line
from ..settings import Settings
from .budget import Budget, RateLimiter
from .failures import HTTPStatusError, Unreadable, describe, endpoint_error, is_transient, outcome, refused, retry_after
from .replicas import Replica, Replicas
from .sessions import AiohttpSession, Answer, HttpxSession, NetworkError, Session

if TYPE_CHECKING:
    import httpx2

__all__ = ["REFUSED_RETRIES", "REFUSED_WAIT_S", "Transport"]

log = logging.getLogger("extractor")

_MAX_BACKOFF_S = 30.0
#: Retries of a refused connection while nothing has ever answered (a wrong port, a server
#: not started), ``REFUSED_WAIT_S`` seconds apart, then twice that: the error comes within
#: a second, saying how many attempts it made. Timeouts and 5xx keep the full policy.
REFUSED_RETRIES = 2
REFUSED_WAIT_S = 0.25


class Transport:
    """JSON over HTTP to one endpoint (one replica or several), with the rate limit and the
    retry policy. ``settings.rpm`` limits the requests of all replicas together.

    ``transport`` (an ``httpx2.AsyncBaseTransport``, shared by every replica's client),
    ``client`` (an ``httpx2.AsyncClient`` used for every replica, closed by its owner) or
    ``sessions`` (one :class:`~extractor.http.sessions.Session` per replica, in the order of
    ``settings.base_urls``) replace the network for tests.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        client: httpx2.AsyncClient | None = None,
        sessions: list[Session] | None = None,
    ) -> None:
        self.settings = settings
        self.limiter = RateLimiter(settings.rpm) if settings.rpm else None
        self.requests_sent = 0  # HTTP requests started (all kinds)
        self.responses_seen = 0  # HTTP responses received (any status): the host is reachable
        self.replicas = Replicas(settings)
        headers = {"Authorization": f"Bearer {settings.api_key_value()}"}
        if sessions is None:
            sessions = [self._session(replica, headers, transport, client) for replica in self.replicas.members]
        if len(sessions) != len(self.replicas):
            raise ValueError(f"{len(sessions)} sessions for {len(self.replicas)} replicas")
        self._sessions = sessions

    def _session(
        self,
        replica: Replica,
        headers: dict[str, str],
        transport: httpx2.AsyncBaseTransport | None,
        client: httpx2.AsyncClient | None,
    ) -> Session:
        base_url = replica.settings.base_url or ""
        if client is not None:
            return HttpxSession(client)
        if transport is not None:
            return HttpxSession(base_url=base_url, headers=headers, timeout=self.settings.timeout, transport=transport)
        return AiohttpSession(base_url, headers, self.settings.timeout)

    @property
    def host(self) -> str:
        """host:port of the endpoint (of every replica, joined by commas)."""
        return self.settings.endpoint_host

    async def aclose(self) -> None:
        for session in self._sessions:
            await session.aclose()

    async def get(self, path: str, budget: Budget | None = None) -> Any:
        """``GET path``: its JSON, after the retries ``budget`` allows."""
        return await self.send("GET", path, None, budget or Budget.for_settings(self.settings))

    async def post(self, path: str, body: dict[str, Any], budget: Budget) -> Any:
        """``POST path`` with a JSON body: its JSON, after the retries ``budget`` allows."""
        return await self.send("POST", path, body, budget)

    async def send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        budget: Budget,
        *,
        upload: dict[str, Any] | None = None,
        raw: bool = False,
    ) -> Any:
        """One exchange, retried while it is transient and ``budget`` has retries left and
        ``settings.retry_max_seconds`` is not spent. Raises :class:`EndpointError`.

        ``upload`` sends a multipart form instead of a JSON body (``{"data": {...},
        "files": {name: (filename, bytes, content type)}}``); ``raw`` returns a 2xx answer's bytes
        as they are (a file's content) instead of its JSON."""
        return (await self._retried(method, path, body, budget, upload, raw))[0]

    async def exchange(self, method: str, path: str, body: dict[str, Any] | None, budget: Budget) -> tuple[Any, str]:
        """:meth:`send` with a JSON body, also returning the host:port of the replica that answered."""
        return await self._retried(method, path, body, budget, None, False)

    async def _retried(
        self, method: str, path: str, body: dict[str, Any] | None, budget: Budget, upload: dict[str, Any] | None, raw: bool
    ) -> tuple[Any, str]:
        tried: list[Replica] = []  # the replica of each attempt

        def more(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if exc is None or budget.retries <= 0:
                return False
            if self._never_reached(exc) and state.attempt_number > REFUSED_RETRIES:
                return False  # nothing listens there: known at once, not after minutes of backoff
            # An answer that drops one replica for good is retried on another, if one is left.
            dropped = bool(tried) and tried[-1].state == "dead" and self.replicas.others_up(tried[-1])
            return is_transient(exc) or dropped

        def before_sleep(state: RetryCallState) -> None:  # a retry is spent only when it is sent
            budget.take_retry()
            self._log_retry(state, budget, tried[-1] if tried else None)

        retrying = AsyncRetrying(
            stop=stop_before_delay(self.settings.retry_max_seconds),
            wait=self._wait,
            retry=more,
            before_sleep=before_sleep,
            reraise=True,
        )
        attempts, started = 0, time.monotonic()
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    budget.requests += 1
                    data = await self._exchange(method, path, body, tried, upload, raw)
                    return data, tried[-1].host
        except asyncio.CancelledError:
            raise
        except (HTTPStatusError, Unreadable, NetworkError) as exc:
            error = self.failure(exc, attempts, tried[-1] if tried else None, time.monotonic() - started)
            raise error from exc
        except Exception as exc:  # anything else the HTTP stack raised: this paper fails, not the batch
            host = tried[-1].host if tried else self.host
            raise EndpointError(
                "connection", f"{method} {path} to {host} failed: {type(exc).__name__}: {one_line(str(exc))}", attempts
            ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _exchange(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        tried: list[Replica],
        upload: dict[str, Any] | None = None,
        raw: bool = False,
    ) -> Any:
        """One request to the replica the chooser picks (appended to ``tried``), its end
        reported back to the chooser."""
        waited = await self.limiter.acquire() if self.limiter is not None else 0.0
        replica = self.replicas.pick()
        tried.append(replica)
        failure: BaseException | None = None
        try:
            return await self._request(replica, method, path, body, waited, upload, raw)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            self.replicas.done(replica, outcome(failure), describe(failure) if failure is not None else "")

    async def _request(
        self,
        replica: Replica,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        waited: float,
        upload: dict[str, Any] | None,
        raw: bool,
    ) -> Any:
        session = self._sessions[replica.index]
        self.requests_sent += 1
        if log.isEnabledFor(logging.DEBUG):
            extra = f" (rate limit: waited {waited:.2f}s)" if waited > 0.0005 else ""
            where = f"{replica.host} " if len(self.replicas) > 1 else ""
            log.debug("%s %s%s%s", method, where, urlsplit(session.base_url).path + path, extra)
        answer: Answer = await session.request(method, path, body, upload)
        self.responses_seen += 1
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> HTTP %s", method, urlsplit(session.base_url).path + path, answer.status)
        ok = 200 <= answer.status < 300
        if raw and ok:
            return answer.content
        try:
            data = json.loads(answer.content)
        except ValueError:
            if ok:
                content_type = answer.content_type
                snippet = one_line(answer.text, 80)
                raise Unreadable(f"{content_type or 'no content type'} ({snippet!r})", "json" not in content_type) from None
            data = answer.text
        if not ok:
            raise HTTPStatusError(answer.status, data, answer.headers)
        return data

    def backoff(self, retry: int) -> float:
        """Seconds before transport retry number ``retry`` (1-based) when the server did
        not say: ``retry_backoff * 2**(retry-1)`` plus up to ``retry_backoff`` of jitter,
        at most 30 s."""
        base = self.settings.retry_backoff
        try:
            delay = base * 2 ** (retry - 1)
        except OverflowError:  # pragma: no cover - absurd retry counts
            delay = _MAX_BACKOFF_S
        return min(delay + random.uniform(0, base), _MAX_BACKOFF_S)

    def _never_reached(self, exc: BaseException | None) -> bool:
        """A refused connection while no replica has ever answered: nothing listens there."""
        return exc is not None and refused(exc) and self.responses_seen == 0

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if self._never_reached(exc):
            return REFUSED_WAIT_S * state.attempt_number
        asked = retry_after(exc.headers) if isinstance(exc, HTTPStatusError) else None
        if asked is not None:
            # Honour the server, plus a little jitter so concurrent callers do not return
            # as one burst.
            wait = asked + random.uniform(0, min(self.settings.retry_backoff, 1.0))
        else:
            wait = self.backoff(state.attempt_number)
        return min(wait, self.settings.retry_max_seconds)

    def _log_retry(self, state: RetryCallState, budget: Budget, replica: Replica | None = None) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if exc is None or not log.isEnabledFor(logging.INFO):
            return
        what = describe(exc)
        sleep = state.next_action.sleep if state.next_action else 0.0
        most = state.attempt_number + budget.retries + 1  # this exchange's last possible attempt
        host = replica.host if replica is not None else self.host
        log.info("%s: %s on attempt %d of %d; retrying in %.2fs", host, what, state.attempt_number, most, sleep)

    def failure(
        self, exc: BaseException, attempts: int, replica: Replica | None = None, seconds: float | None = None
    ) -> EndpointError:
        """The error an exchange that failed after ``attempts`` requests in ``seconds``
        raises, its last one on ``replica`` (default: the first). An error that would stop
        the batch is one paper's error while another replica is still in use."""
        replica = replica or self.replicas.members[0]
        error = endpoint_error(exc, replica.settings, attempts, reached=self.responses_seen > 0, seconds=seconds)
        if isinstance(error, FatalEndpointError | ServerGoneError) and self.replicas.others_up(replica):
            return EndpointError(error.kind, str(error), attempts)
        return error
