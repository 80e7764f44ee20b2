"""A typed answer from a chat completion: the request body, its validation, the re-ask loop.

:class:`Completer` builds the request with ``instructor``'s own request handler for the
mode (``tools``, ``json_schema``, ``json``, ``md_json``), reads the answer with
``instructor``'s parser into the pydantic response model, and when the answer fails the
schema sends it back with the validation error (``instructor``'s re-ask message), as
long as the paper's :class:`~extractor.http.budget.Budget` has re-asks left. Every request
goes through :class:`~extractor.http.transport.Transport`, whose retries draw on the same
budget: this is the only re-ask loop, and retries and re-asks never multiply.
:meth:`Completer.read_answer` reads an answer that was asked for elsewhere (a line of a
Batch API output file) the same way, without re-asks.

For ``tools`` and ``json_schema`` the body does not depend on the messages, so it is built
once per response model (``instructor`` rebuilds the schema on every call, ~5 ms of CPU);
``json`` and ``md_json`` put the schema into the messages and are built per call.

The handlers come from :func:`openai_handlers`, which registers them without importing
the openai SDK (over a second of start-up that nothing here uses).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, TypeVar

import instructor
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import EndpointError, one_line
from .handlers import openai_handlers
from ..settings import Settings
from ..http.budget import Budget
from ..http.transport import Transport

try:  # where instructor.core.exceptions takes them from, without importing instructor.core
    # (its client, patch and retry modules, tenacity: nothing this module uses)
    from instructor.v2.core.errors import AsyncValidationError, IncompleteOutputException, ResponseParsingError
except ImportError:  # pragma: no cover - another instructor layout
    from instructor.core.exceptions import AsyncValidationError, IncompleteOutputException, ResponseParsingError

__all__ = ["INSTRUCTOR_MODES", "Completer", "Completion"]

T = TypeVar("T", bound=BaseModel)

INSTRUCTOR_MODES: dict[str, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
    "md_json": instructor.Mode.MD_JSON,
}

# Answers that fail to parse or validate: re-asked, never retried as transport faults.
_REASK_ERRORS: tuple[type[BaseException], ...] = (
    ValidationError,
    json.JSONDecodeError,
    ResponseParsingError,
    AsyncValidationError,
)


class _Function(BaseModel):
    name: str | None = None
    arguments: str | dict[str, Any] | None = None


class _ToolCall(BaseModel):
    id: str | None = None
    type: str = "function"
    function: _Function


class _Message(BaseModel):
    role: str = "assistant"
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[_ToolCall] | None = None
    function_call: Any = None


class _Choice(BaseModel):
    index: int = 0
    message: _Message
    finish_reason: str | None = None


class _Usage(BaseModel):
    prompt_tokens: int | None = 0
    completion_tokens: int | None = 0


class ChatAnswer(BaseModel):
    """The parts of a chat completion that ``instructor``'s parsers and re-ask handlers
    read (the openai SDK's own ``ChatCompletion`` costs over a second to import, more than
    a whole batch's requests on a fast server)."""

    model_config = ConfigDict(extra="allow")

    choices: list[_Choice] = Field(min_length=1)
    usage: _Usage | None = None


@dataclass(frozen=True)
class Completion:
    """A validated answer and what it cost; ``endpoint`` is the host:port of the replica
    that answered the final request."""

    value: BaseModel
    tokens_in: int
    tokens_out: int
    attempts: int
    latency_s: float
    endpoint: str = ""


@dataclass(frozen=True)
class _Request:
    handlers: Any
    model: Any  # the response model as instructor prepared it
    body: dict[str, Any]


class Completer:
    """Typed answers over one :class:`~extractor.http.transport.Transport`."""

    def __init__(self, transport: Transport, settings: Settings) -> None:
        self.transport = transport
        self.settings = settings
        self._bodies: dict[tuple[str, str, type[BaseModel]], _Request] = {}

    def request(self, model: str, mode: str, response_model: type[BaseModel], messages: list[dict[str, str]]) -> _Request:
        """The request ``instructor`` would send for these messages."""
        handlers = openai_handlers(INSTRUCTOR_MODES[mode])
        base = {"model": model, "temperature": self.settings.temperature, "max_tokens": self.settings.max_tokens}
        if mode not in ("tools", "json_schema"):
            prepared, body = handlers.request_handler(response_model, {**base, "messages": list(messages)})
            return _Request(handlers, prepared, body)
        key = (model, mode, response_model)
        if key not in self._bodies:
            prepared, body = handlers.request_handler(response_model, {**base, "messages": []})
            schema = _sent_schema(body)
            if schema is not None:
                _drop_titles(schema)
                bound = answer_tokens(schema)
                if bound is not None:
                    body["max_tokens"] = min(self.settings.max_tokens, bound)
            self._bodies[key] = _Request(handlers, prepared, body)
        cached = self._bodies[key]
        return _Request(cached.handlers, cached.model, {**cached.body, "messages": list(messages)})

    async def complete(
        self, model: str, mode: str, messages: list[dict[str, str]], response_model: type[T], budget: Budget
    ) -> Completion:
        """Ask until the answer validates or ``budget`` has no re-ask left; raises
        :class:`~extractor.errors.EndpointError` (``validation``, ``length`` or the
        transport's kinds)."""
        request = self.request(model, mode, response_model, messages)
        body, started, sent_before = request.body, time.perf_counter(), budget.requests
        tokens_in = tokens_out = 0
        while True:
            try:
                data, host = await self.transport.exchange("POST", "/chat/completions", body, budget)
            except EndpointError as exc:
                exc.attempts = budget.requests - sent_before  # re-asks included
                raise
            attempts = budget.requests - sent_before
            response = self._chat_answer(data, attempts, f"{host} answered with")
            if response.usage is not None:
                tokens_in += response.usage.prompt_tokens or 0
                tokens_out += response.usage.completion_tokens or 0
            try:
                value = self._parse(request, response, body, attempts)
            except _REASK_ERRORS as exc:
                if not budget.take_reask():
                    raise EndpointError(
                        "validation", f"answer failed the schema after {attempts} attempts: {one_line(str(exc))}", attempts
                    ) from exc
                body = request.handlers.reask_handler(kwargs=body, response=response, exception=exc)
                continue
            return Completion(value, tokens_in, tokens_out, attempts, time.perf_counter() - started, host)

    def read_answer(self, request: _Request, data: Any) -> Completion:
        """The typed answer in a chat completion that was asked for elsewhere (a line of a
        Batch API output file) for ``request``. Nothing can be re-asked: an answer that
        fails the schema raises :class:`~extractor.errors.EndpointError` ``validation``
        (``length``, ``refusal`` and ``bad_response`` as for :meth:`complete`)."""
        response = self._chat_answer(data, 1, "the batch answered with")
        try:
            value = self._parse(request, response, request.body, 1)
        except _REASK_ERRORS as exc:
            raise EndpointError("validation", f"answer failed the schema: {one_line(str(exc))}", 1) from exc
        usage = response.usage or _Usage()
        return Completion(value, usage.prompt_tokens or 0, usage.completion_tokens or 0, 1, 0.0)

    @staticmethod
    def _chat_answer(data: Any, attempts: int, who: str) -> ChatAnswer:
        try:
            return ChatAnswer.model_validate(data)
        except ValidationError as exc:
            raise EndpointError(
                "bad_response", f"{who} something that is not a chat completion ({one_line(str(exc), 160)})", attempts
            ) from exc

    @staticmethod
    def _parse(request: _Request, response: ChatAnswer, body: dict[str, Any], attempts: int) -> BaseModel:
        """The answer as the response model; raises one of ``_REASK_ERRORS`` when it fails
        the schema, :class:`~extractor.errors.EndpointError` when re-asking cannot help."""
        try:
            value: BaseModel = request.handlers.response_parser(
                response=response, response_model=request.model, validation_context=None,
                strict=None, stream=False, is_async=True,
            )  # fmt: skip
        except AssertionError as exc:  # instructor's way of saying the model refused
            raise EndpointError("refusal", f"the model declined to answer: {one_line(str(exc))}", attempts) from exc
        except IncompleteOutputException as exc:
            raise EndpointError(
                "length", f"answer cut off at max_tokens={body.get('max_tokens')}; raise --max-tokens", attempts
            ) from exc
        return value


def _sent_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema inside a ``tools`` or ``json_schema`` request body."""
    if body.get("tools"):
        return body["tools"][0]["function"].get("parameters")  # type: ignore[no-any-return]
    response_format = body.get("response_format") or {}
    return (response_format.get("json_schema") or {}).get("schema")


def _drop_titles(node: Any, in_properties: bool = False) -> None:
    """Remove pydantic's ``title`` keys (not properties named ``title``): they repeat the
    property names and cost about a tenth of the schema's prompt tokens."""
    if isinstance(node, dict):
        if not in_properties:
            node.pop("title", None)
        for key, value in node.items():
            _drop_titles(value, in_properties=key in ("properties", "$defs", "definitions") and not in_properties)
    elif isinstance(node, list):
        for item in node:
            _drop_titles(item)


#: Characters per token assumed for a bound: 3 for the text of an enum (English runs near 4),
#: 1.5 for a free string, which a small model may fill with degenerate text ("ia ia ia ...",
#: SmolLM2 in span mode: 2 tokens per 3 characters). The bound must hold for that too: an
#: answer the grammar ends is complete, one cut at ``max_tokens`` is lost.
_CHARS_PER_TOKEN = 3
_FREE_CHARS_PER_TOKEN = 1.5


def answer_tokens(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> int | None:
    """The most tokens a JSON answer within this schema's bounds can take (with room for a
    grammar's whitespace), or None when a string or list is unbounded. ``max_tokens``
    follows from it, so a model that must stop at the bounds is not cut short, and one that
    would ramble is stopped at the bounds, not at the configured limit.

    Example:
        >>> answer_tokens({"type": "object", "properties": {"s": {"type": "string", "maxLength": 30}}})
        33
    """
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return answer_tokens(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [answer_tokens(option, defs) for option in schema[key]]
            return None if None in options else max(o for o in options if o is not None)
    if "enum" in schema:
        return 2 + max(len(json.dumps(v)) for v in schema["enum"]) // _CHARS_PER_TOKEN + 1
    if "const" in schema:
        return 2 + len(json.dumps(schema["const"])) // _CHARS_PER_TOKEN + 1
    kind = schema.get("type")
    if kind == "object":
        total = 2
        for name, prop in schema.get("properties", {}).items():
            inner = answer_tokens(prop, defs)
            if inner is None:
                return None
            total += inner + 3 + len(name) // _CHARS_PER_TOKEN
        return total + total // 4  # whitespace a grammar allows between tokens
    if kind == "array":
        if "maxItems" not in schema:
            return None
        item = answer_tokens(schema.get("items", {}), defs)
        return None if item is None else 2 + schema["maxItems"] * (item + 1)
    if kind == "string":
        return None if "maxLength" not in schema else 2 + int(schema["maxLength"] // _FREE_CHARS_PER_TOKEN)
    return 8  # numbers, booleans, null
