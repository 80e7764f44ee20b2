"""What a failed HTTP exchange means: whether it is worth a retry, what it says about the
replica that served it, and the :class:`~extractor.errors.EndpointError` it ends in.

:class:`~extractor.http.transport.Transport` sends and retries; this module only reads
faults: :func:`is_transient` (429, 408/409, 5xx, network faults, unreadable bodies),
:func:`outcome` (for :class:`~extractor.http.replicas.Replicas`), :func:`retry_after` (the
wait the server asked for) and :func:`endpoint_error` (the error after the retries, with
its kind from :func:`~extractor.http.status.status_kind` and a message saying what to change).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

from ..errors import EndpointError, FatalEndpointError, ServerGoneError, one_line
from ..settings import Settings
from .replicas import Outcome
from .sessions import NetworkError, Refused, TimedOut
from .status import error_message, status_kind

__all__ = ["HTTPStatusError", "Unreadable", "describe", "endpoint_error", "is_transient", "outcome", "refused",
           "retry_after", "status_error"]  # fmt: skip

_TRANSIENT_STATUS = {408, 409, 429}


class HTTPStatusError(Exception):
    """An answer with a status other than 2xx; ``body`` is its JSON (or text)."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers = headers
        super().__init__(f"HTTP {status}: {one_line(error_message(body), 200)}")


class Unreadable(Exception):
    """A 2xx answer that cannot be read as JSON. ``page`` is set when it is not even
    meant as JSON (an HTML page from a proxy, a web server on that port)."""

    def __init__(self, detail: str, page: bool) -> None:
        self.page = page
        super().__init__(detail)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, HTTPStatusError):
        return exc.status in _TRANSIENT_STATUS or exc.status >= 500
    return isinstance(exc, NetworkError | Unreadable)


def refused(exc: BaseException) -> bool:
    """A connection that never opened (refused, unknown host), not one that broke later."""
    return isinstance(exc, Refused)


def outcome(exc: BaseException | None) -> Outcome:
    """What an exchange's end says about the replica that served it (see
    :class:`~extractor.http.replicas.Replicas`)."""
    if exc is None:
        return "ok"
    if refused(exc):
        return "down"
    if isinstance(exc, HTTPStatusError):
        if exc.status in (401, 403, 404):
            return "fatal"
        return "fault" if exc.status >= 500 else "ok"  # 4xx, 429 included: it answers
    if isinstance(exc, Unreadable):
        return "fatal" if exc.page else "fault"
    if isinstance(exc, NetworkError):
        return "fault"
    return "cancelled"  # cancelled, or a bug of ours: nothing learnt about the replica


def describe(exc: BaseException) -> str:
    """A fault in a few words, for a log line."""
    if isinstance(exc, HTTPStatusError):
        return f"HTTP {exc.status}"
    if isinstance(exc, NetworkError):
        return f"{exc.what} ({one_line(str(exc), 100)})" if str(exc) else exc.what
    return type(exc).__name__


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``)."""
    if not headers:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    if (value := headers.get("retry-after")) is not None:
        try:
            return float(value)
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):  # neither seconds nor a date: not an instruction
                return None
            return max(0.0, parsed.timestamp() - time.time()) if parsed else None
    return None


def endpoint_error(
    exc: BaseException, s: Settings, attempts: int, *, reached: bool, seconds: float | None = None
) -> EndpointError:
    """The error an exchange that failed after ``attempts`` requests (in ``seconds``)
    raises; ``reached``: the host answered earlier in this run."""
    host = s.endpoint_host
    if refused(exc):
        if not reached:
            # Nothing ever answered: a wrong URL or a server that is not running. Every
            # paper would fail the same way, so stop the batch instead.
            spent = f" in {seconds:.1f} s" if seconds is not None else ""
            return FatalEndpointError(
                "connection",
                f"cannot reach {host}: {attempts} attempts{spent} ({one_line(str(exc), 200)}); "
                "check --base-url and that the server is running",
                attempts,
            )
        return ServerGoneError(f"{host} stopped accepting connections ({attempts} attempts): the server is down", attempts)
    if isinstance(exc, TimedOut):
        return EndpointError("timeout", f"no answer within {s.timeout:g}s after {attempts} attempts", attempts)
    if isinstance(exc, NetworkError):
        why = f": {one_line(str(exc), 400)}" if str(exc) else f": {type(exc).__name__}"
        return EndpointError("connection", f"connection to {host} failed after {attempts} attempts{why}", attempts)
    if isinstance(exc, Unreadable):
        if exc.page:
            return FatalEndpointError(
                "bad_response",
                f"{host} answered with {exc}, not JSON ({attempts} attempts); check that --base-url is the "
                "OpenAI-compatible API (usually ending in /v1), not a web page or a proxy",
                attempts,
            )
        return EndpointError(
            "bad_response", f"{host} kept sending unreadable responses ({exc}) after {attempts} attempts", attempts
        )
    assert isinstance(exc, HTTPStatusError)
    return status_error(exc, s, attempts)


def status_error(exc: HTTPStatusError, s: Settings, attempts: int) -> EndpointError:
    """The error of an answer with an error status: its kind from
    :func:`~extractor.http.status.status_kind`, a message saying what to change."""
    host, status, text = s.endpoint_host, exc.status, error_message(exc.body)
    kind = status_kind(status, exc.body)
    if kind == "auth":
        return FatalEndpointError(
            kind, f"{host} refused the API key (HTTP {status}); set --api-key or EXTRACTOR_API_KEY", attempts
        )
    if kind == "not_found":
        return FatalEndpointError(
            kind,
            f"{host} answered 404 for model {s.model!r} (check --model and --base-url; "
            "`extractor doctor` lists the served models)",
            attempts,
        )
    messages = {
        "context_length": f"prompt too long for the model's context; lower --context-budget (now {s.context_budget})",
        "bad_request": f"{host} rejected the request: {one_line(text)}",
        "rate_limit": f"{host} kept answering 429 after {attempts} attempts",
        "server": f"{host} answered HTTP {status} after {attempts} attempts",
    }
    return EndpointError(kind, messages.get(kind, f"{host} answered HTTP {status}: {one_line(text)}"), attempts)
