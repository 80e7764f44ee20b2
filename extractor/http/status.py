"""What an HTTP error status means: the one map from a status (and its OpenAI-shaped error
body) to an error ``kind``, read by the transport (:mod:`extractor.http.transport`) for an
answer over HTTP and by the Batch API reader (:mod:`extractor.batchapi.files`) for a line
of a batch output file, so the same answer is the same kind of error either way.

============================ ==================
status                       kind
============================ ==================
401, 403                     ``auth``
404                          ``not_found``
400, context too long        ``context_length``
400, anything else           ``bad_request``
429                          ``rate_limit``
5xx                          ``server``
any other                    ``http``
============================ ==================

Example:
    >>> status_kind(400, {"error": {"code": "context_length_exceeded", "message": "too long"}})
    'context_length'
    >>> status_kind(503), status_kind(418), error_message({"error": {"message": "no such model"}})
    ('server', 'http', 'no such model')
"""

from __future__ import annotations

from typing import Any

__all__ = ["error_message", "status_kind"]


def error_message(body: Any) -> str:
    """The message an error body carries (OpenAI's ``{"error": {"message"}}``, a bare
    ``{"error": "..."}``, or any text)."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error)
        return str(error)
    return str(body)


def _too_long(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("code") == "context_length_exceeded":
        return True
    lowered = error_message(body).lower()
    return "context" in lowered and ("length" in lowered or "exceed" in lowered)


def status_kind(status: int, body: Any = None) -> str:
    """The error kind of an answer with this status and body (see the module docstring)."""
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if status == 400:
        return "context_length" if _too_long(body) else "bad_request"
    if status == 429:
        return "rate_limit"
    if status >= 500:
        return "server"
    return "http"
