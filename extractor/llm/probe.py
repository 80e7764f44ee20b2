"""The mode probe: which structured-output form an endpoint really enforces.

It asks a plain question (no mention of JSON) under a tiny schema, first with
``response_format: json_schema`` then with a forced tool call. A server that enforces the
schema answers with valid JSON; one that ignores it answers in prose. Each question is
retried like any request: a transport fault is never read as an answer about schema
support. Only a well-formed answer (schema-valid or not) or a refusal of the request's form
(HTTP 400/422..., or 500/501 still there after the retries: llama-cpp-python's server
answers 500 to ``json_schema``) counts; a probe that meets only faults stops with what to do.

Example:
    >>> ProbeResult("tools", True, {"json_schema": "HTTP 500", "tools": "valid"}).describe()
    'tools (enforced) [json_schema: HTTP 500; tools: valid]'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..errors import EndpointError, FatalEndpointError, ServerGoneError, one_line
from ..http.budget import Budget
from ..http.failures import HTTPStatusError
from ..http.transport import Transport

__all__ = ["ProbeResult", "probe"]


@dataclass(frozen=True)
class ProbeResult:
    """What the endpoint really enforces. ``enforced`` is False when no mode produced a
    schema-valid answer to a prompt that does not ask for JSON: the server ignores
    schemas, and answers are then only validated after the fact."""

    mode: str
    enforced: bool
    tried: dict[str, str]

    def describe(self) -> str:
        tried = "; ".join(f"{m}: {r}" for m, r in self.tried.items())
        verdict = "enforced" if self.enforced else "NOT enforced (server ignores schemas)"
        return f"{self.mode} ({verdict}) [{tried}]"


# A tiny schema that a model does not follow by chance when asked a plain question.
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "fruit": {"type": "string", "enum": ["kiwi", "fig"]},
        "count": {"type": "integer"},
    },
    "required": ["fruit", "count"],
    "additionalProperties": False,
}
_MESSAGES = [{"role": "user", "content": "Name a fruit you like, in a few words."}]
_FORMS: list[tuple[str, dict[str, Any]]] = [
    ("json_schema", {"response_format": {"type": "json_schema", "json_schema": {"name": "probe", "schema": _SCHEMA}}}),
    (
        "tools",
        {
            "tools": [{"type": "function", "function": {"name": "probe", "parameters": _SCHEMA}}],
            "tool_choice": {"type": "function", "function": {"name": "probe"}},
        },
    ),
]
#: HTTP statuses that are not an answer about the request's form (auth, model, transport).
_NOT_ABOUT_FORM = {401, 403, 404, 408, 409, 429}


def _ok(text: str | None) -> bool:
    try:
        data = json.loads(text or "")
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and data.get("fruit") in ("kiwi", "fig")
        and isinstance(data.get("count"), int)
        and set(data) == {"fruit", "count"}
    )


def _text(response: Any, mode: str) -> str | None:
    """The answer's text: the forced tool call's arguments, else the content."""
    try:
        message = response["choices"][0]["message"]
        calls = (message.get("tool_calls") or []) if mode == "tools" else []
        return calls[0]["function"]["arguments"] if calls else message.get("content")  # type: ignore[no-any-return]
    except (KeyError, IndexError, TypeError, AttributeError):  # a JSON answer of another shape
        return None


def _rejects_form(exc: BaseException) -> bool:
    """The server refused this form of request (after the retries): a 4xx other than
    auth/model/rate-limit, or a 500/501."""
    if not isinstance(exc, HTTPStatusError) or exc.status in _NOT_ABOUT_FORM:
        return False
    return 400 <= exc.status < 500 or exc.status in (500, 501)


async def _one(transport: Transport, model: str, mode: str, extra: dict[str, Any]) -> str:
    """The verdict on one mode: ``valid``, ``ignored (...)`` or ``HTTP n``."""
    body = {"model": model, "messages": _MESSAGES, "temperature": 0, "max_tokens": 48, **extra}
    try:
        response = await transport.post("/chat/completions", body, Budget.for_settings(transport.settings))
    except EndpointError as error:
        if _rejects_form(error.__cause__ or error):
            return f"HTTP {error.__cause__.status}"  # type: ignore[union-attr]
        if isinstance(error, FatalEndpointError | ServerGoneError):
            raise
        raise FatalEndpointError(
            error.kind,
            f"the probe of {transport.host} for the structured-output mode it enforces met only faults ({error}); "
            "try again later, or skip the probe with --mode (json_schema, tools, json, md_json)",
            error.attempts,
        ) from error
    text = _text(response, mode)
    return "valid" if _ok(text) else f"ignored ({one_line(text or '', 60)!r})"


async def probe(transport: Transport, model: str) -> ProbeResult:
    """The first form the endpoint enforces, else ``md_json`` (not enforced)."""
    tried: dict[str, str] = {}
    for mode, extra in _FORMS:
        tried[mode] = await _one(transport, model, mode, extra)
        if tried[mode] == "valid":
            return ProbeResult(mode=mode, enforced=True, tried=tried)
    return ProbeResult(mode="md_json", enforced=False, tried=tried)
