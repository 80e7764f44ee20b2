"""The endpoint client: one OpenAI-compatible server, reached through ``instructor``.

Two layers of retry, kept apart so they never multiply:

* **transport** (tenacity, here): 429 (honouring ``Retry-After``), 408/409, 5xx, timeouts,
  dropped connections and unreadable bodies are retried with exponential backoff and
  jitter, bounded by ``settings.retries`` and ``settings.retry_max_seconds`` (no wait
  starts that would end past that budget). The openai SDK's own retries are off.
* **validation** (instructor's re-ask): an answer that fails the schema is sent back with
  the validation error, at most ``settings.max_reasks`` times. A body that is not JSON at
  all (the SDK raises a plain ``json.JSONDecodeError``) is a *transport* error: it is
  marked as such when instructor sees it fail, so the re-ask loop passes it up instead
  of retrying it too (the two layers never multiply).

``settings.rpm`` spaces the starts of all HTTP requests of one :class:`Endpoint` (shared
by every concurrent call, re-asks and retries included) by ``60 / rpm`` seconds
(:class:`RateLimiter`). Every request and every retry is logged on the ``extractor``
logger (DEBUG and INFO), which ``--verbose`` shows.

The mode probe (:meth:`Endpoint.probe`) goes through the same transport retries: a
transport fault is never read as an answer about schema support. Only a well-formed
answer (schema-valid or not) or a refusal of the request's form (HTTP 400/422..., or
500/501 still there after the retries: llama-cpp-python's server answers 500 to
``json_schema``) counts; a probe that meets only faults stops with what to do.

Errors that retrying cannot fix raise :class:`~extractor.errors.FatalEndpointError`
(bad key, unknown model, wrong URL: a host that refused every connection of this run, or
one that keeps answering with something that is not JSON, such as a proxy's HTML page)
so a batch stops at once instead of failing every paper; the rest raise
:class:`~extractor.errors.EndpointError` with a short ``kind``: ``rate_limit``, ``server``,
``timeout``, ``connection``, ``bad_response``, ``validation``, ``length``,
``context_length``, ``bad_request``, ``http`` (fatal: ``auth``, ``not_found``,
``connection``).

Example:
    >>> import asyncio
    >>> from extractor.settings import Settings
    >>> ep = Endpoint(Settings(base_url="http://127.0.0.1:8080/v1", model="m", mode="tools"))
    >>> ep.host
    '127.0.0.1:8080'
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import instructor
import openai
from instructor.core.exceptions import (
    AsyncValidationError,
    IncompleteOutputException,
    InstructorRetryException,
    ResponseParsingError,
)
from instructor.utils.providers import Provider
from instructor.v2.core.registry import mode_registry
from openai.types.chat import ChatCompletion
from openai.types.completion_usage import CompletionUsage
from pydantic import BaseModel, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

from .errors import ConfigError, EndpointError, FatalEndpointError, ServerGoneError
from .settings import Settings

__all__ = ["Completion", "Endpoint", "ProbeResult", "RateLimiter", "INSTRUCTOR_MODES"]

log = logging.getLogger("extractor")

T = TypeVar("T", bound=BaseModel)

# instructor logs every failed attempt at ERROR; our records and summary report failures,
# so keep its log off the user's terminal unless they configure logging themselves.
logging.getLogger("instructor").addHandler(logging.NullHandler())
logging.getLogger("instructor").propagate = False

INSTRUCTOR_MODES: dict[str, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
    "md_json": instructor.Mode.MD_JSON,
}

# Parse errors instructor re-asks on (ValidationError, JSONDecodeError and its own).
_REASK_ERRORS: tuple[type[BaseException], ...] = (
    ValidationError,
    json.JSONDecodeError,
    ResponseParsingError,
    AsyncValidationError,
)
_TRANSIENT = (
    openai.RateLimitError,
    openai.InternalServerError,  # every 5xx
    openai.APITimeoutError,
    openai.APIConnectionError,  # refused, reset, closed mid-body
    openai.APIResponseValidationError,
)
_TRANSIENT_STATUS = {408, 409}  # request timeout, conflict: the SDK's own retry list
_MAX_BACKOFF_S = 30.0
_TRANSPORT_MARK = "_extractor_transport"


def _mark_transport(error: BaseException, *args: Any, **kwargs: Any) -> None:
    """instructor ``completion:error`` hook: the API call itself failed (as opposed to the
    parsing of its answer). Lets a JSONDecodeError of an unreadable body be told apart
    from one of an answer that is not JSON."""
    try:
        setattr(error, _TRANSPORT_MARK, True)
    except (AttributeError, TypeError):  # pragma: no cover - exceptions take attributes
        pass


def _from_transport(exc: BaseException) -> bool:
    return bool(getattr(exc, _TRANSPORT_MARK, False))


def _is_reask(exc: BaseException) -> bool:
    """Re-ask only when the answer failed to parse or validate, never on a transport error."""
    return isinstance(exc, _REASK_ERRORS) and not _from_transport(exc)


def _is_transient(exc: BaseException) -> bool:
    """Worth another transport attempt: rate limits, 5xx, timeouts, dropped connections
    and bodies that are not JSON at all."""
    exc = _unwrap(exc)
    if isinstance(exc, json.JSONDecodeError):
        return _from_transport(exc)
    if isinstance(exc, _TRANSIENT):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code in _TRANSIENT_STATUS


def _refused(exc: BaseException) -> bool:
    """A connection that never opened (refused, unknown host), as opposed to one that
    broke or timed out after opening."""
    if not isinstance(exc, openai.APIConnectionError) or isinstance(exc, openai.APITimeoutError):
        return False
    cause = exc.__cause__ or exc.__context__
    # httpx's (or httpx2's) ConnectError, matched by name so no HTTP library is imported here.
    return cause is not None and any(c.__name__ == "ConnectError" for c in type(cause).__mro__)


class _NotJSON(Exception):
    """A 2xx response that is not JSON (an HTML page from a proxy, a web server on that
    port): raised by the response hook, so the SDK reports it as a connection error
    whose cause is this."""

    def __init__(self, host: str, content_type: str, body: bytes) -> None:
        self.host = host
        snippet = _one_line(body.decode("utf-8", "replace"), 80)
        super().__init__(
            f"{host} answered with {content_type or 'no content type'}, not JSON ({snippet!r}); check that "
            "--base-url is the OpenAI-compatible API (usually ending in /v1), not a web page or a proxy"
        )


def _not_json(exc: BaseException) -> _NotJSON | None:
    cause = exc.__cause__ or exc.__context__
    return cause if isinstance(cause, _NotJSON) else exc if isinstance(exc, _NotJSON) else None


#: HTTP statuses that are not an answer about the request's form (auth, model, transport).
_NOT_ABOUT_FORM = {401, 403, 404, 408, 409, 429}


def _rejects_form(exc: BaseException) -> bool:
    """The server refused this form of request (after the retries): a 4xx other than
    auth/model/rate-limit, or a 500/501 (llama-cpp-python's answer to ``json_schema``)."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code in _NOT_ABOUT_FORM:
        return False
    return 400 <= exc.status_code < 500 or exc.status_code in (500, 501)


class RateLimiter:
    """Spaces the starts of requests ``60 / rpm`` seconds apart (no bursts).

    One instance is shared by every concurrent call of an :class:`Endpoint`, on one event
    loop: each :meth:`acquire` reserves the next free start time and sleeps until then, so
    waiting callers are served in arrival order. A caller cancelled while waiting gives its
    slot back when no later one was reserved.

    Example:
        >>> import asyncio
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


@dataclass(frozen=True)
class _Prepared:
    """A request body built once by instructor's handler, and the handlers that parse
    and re-ask its answers."""

    handlers: Any
    model: Any
    body: dict[str, Any]


@dataclass(frozen=True)
class Completion:
    """A validated answer and what it cost."""

    value: BaseModel
    tokens_in: int
    tokens_out: int
    attempts: int
    latency_s: float


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
_PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "fruit": {"type": "string", "enum": ["kiwi", "fig"]},
        "count": {"type": "integer"},
    },
    "required": ["fruit", "count"],
    "additionalProperties": False,
}
_PROBE_MESSAGES = [{"role": "user", "content": "Name a fruit you like, in a few words."}]


def _probe_ok(text: str | None) -> bool:
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


_PROBE_FORMS: list[tuple[str, dict[str, Any]]] = [
    (
        "json_schema",
        {"response_format": {"type": "json_schema", "json_schema": {"name": "probe", "schema": _PROBE_SCHEMA}}},
    ),
    (
        "tools",
        {
            "tools": [{"type": "function", "function": {"name": "probe", "parameters": _PROBE_SCHEMA}}],
            "tool_choice": {"type": "function", "function": {"name": "probe"}},
        },
    ),
]


def _probe_text(response: Any, mode: str) -> str | None:
    """The probe answer's text: the forced tool call's arguments, else the content."""
    try:
        message = response.choices[0].message
        calls = (message.tool_calls or []) if mode == "tools" else []
        return calls[0].function.arguments if calls else message.content  # type: ignore[no-any-return]
    except (AttributeError, IndexError, TypeError):  # a JSON answer of another shape
        return None


def _retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
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
            parsed = email.utils.parsedate_to_datetime(value)
            return max(0.0, parsed.timestamp() - time.time()) if parsed else None
    return None


def _classify(exc: BaseException, settings: Settings, attempts: int) -> EndpointError:
    """Turn an openai/instructor exception into our error with a message saying what to do."""
    host = settings.endpoint_host
    if (page := _not_json(exc)) is not None:
        return FatalEndpointError("bad_response", f"{page} ({attempts} attempts)", attempts)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return FatalEndpointError(
            "auth", f"{host} refused the API key (HTTP {exc.status_code}); set --api-key or EXTRACTOR_API_KEY", attempts
        )
    if isinstance(exc, openai.NotFoundError):
        return FatalEndpointError(
            "not_found",
            f"{host} answered 404 for model {settings.model!r} (check --model and --base-url; "
            "`extractor doctor` lists the served models)",
            attempts,
        )
    if isinstance(exc, openai.BadRequestError):
        text = str(exc)
        lowered = text.lower()
        if getattr(exc, "code", None) == "context_length_exceeded" or (
            "context" in lowered and ("length" in lowered or "exceed" in lowered)
        ):
            return EndpointError(
                "context_length",
                f"prompt too long for the model's context; lower --context-budget (now {settings.context_budget})",
                attempts,
            )
        return EndpointError("bad_request", f"{host} rejected the request: {_one_line(text)}", attempts)
    if isinstance(exc, openai.RateLimitError):
        return EndpointError("rate_limit", f"{host} kept answering 429 after {attempts} attempts", attempts)
    if isinstance(exc, openai.APITimeoutError):
        return EndpointError("timeout", f"no answer within {settings.timeout:g}s after {attempts} attempts", attempts)
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        why = f": {_one_line(str(cause), 400)}" if cause is not None and str(cause) else ""
        return EndpointError("connection", f"connection to {host} failed after {attempts} attempts{why}", attempts)
    if isinstance(exc, openai.InternalServerError):
        return EndpointError("server", f"{host} answered HTTP {exc.status_code} after {attempts} attempts", attempts)
    if isinstance(exc, openai.APIResponseValidationError) or (
        isinstance(exc, json.JSONDecodeError) and _from_transport(exc)
    ):
        return EndpointError(
            "bad_response",
            f"{host} kept sending unreadable responses ({_one_line(str(exc))}) after {attempts} attempts",
            attempts,
        )
    if isinstance(exc, IncompleteOutputException):
        return EndpointError(
            "length", f"answer cut off at max_tokens={settings.max_tokens}; raise --max-tokens", attempts
        )
    if isinstance(exc, _REASK_ERRORS):
        return EndpointError(
            "validation", f"answer failed the schema after {attempts} attempts: {_one_line(str(exc))}", attempts
        )
    if isinstance(exc, openai.APIStatusError):
        return EndpointError("http", f"{host} answered HTTP {exc.status_code}: {_one_line(str(exc))}", attempts)
    return EndpointError("error", f"{type(exc).__name__}: {_one_line(str(exc))}", attempts)


def _one_line(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unwrap(exc: BaseException) -> BaseException:
    """instructor wraps API errors raised during its re-ask loop; get the real one."""
    if isinstance(exc, InstructorRetryException) and exc.__cause__ is not None:
        return exc.__cause__
    return exc


class Endpoint:
    """One OpenAI-compatible endpoint, as configured by a :class:`Settings`.

    Reusable and cheap per call: the HTTP client and the instructor wrapper are built
    once. Use :meth:`aclose` (or ``async with``) when done.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limiter: RateLimiter | None = RateLimiter(settings.rpm) if settings.rpm else None
        self.requests_sent = 0  # HTTP requests started (all kinds)
        self.responses_seen = 0  # HTTP responses received (any status): the host is reachable
        self._client = openai.AsyncOpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key_value(),
            max_retries=0,  # tenacity below is the only transport retry layer
            timeout=settings.timeout,
            http_client=openai.DefaultAsyncHttpxClient(
                event_hooks={"request": [self._on_request], "response": [self._on_response]}
            ),
        )
        self._instructors: dict[str, instructor.AsyncInstructor] = {}
        self._prepared_cache: dict[tuple[str, str, type[BaseModel]], _Prepared] = {}
        self.model: str | None = settings.model
        self.probe_result: ProbeResult | None = None
        self.mode: str | None = None if settings.mode == "auto" else settings.mode

    async def _on_request(self, request: Any) -> None:
        """httpx request hook: wait for the rate limiter's slot, then count and log."""
        waited = await self.limiter.acquire() if self.limiter is not None else 0.0
        self.requests_sent += 1
        if log.isEnabledFor(logging.DEBUG):
            extra = f" (rate limit: waited {waited:.2f}s)" if waited > 0.0005 else ""
            log.debug("%s %s%s", request.method, request.url.path, extra)

    async def _on_response(self, response: Any) -> None:
        """httpx response hook: count and log; refuse a 2xx answer that is not JSON."""
        self.responses_seen += 1
        if log.isEnabledFor(logging.DEBUG):
            request = response.request
            log.debug("%s %s -> HTTP %s", request.method, request.url.path, response.status_code)
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if 200 <= response.status_code < 300 and "json" not in content_type and content_type != "text/event-stream":
            body = await response.aread()
            try:
                json.loads(body)
            except ValueError:
                raise _NotJSON(self.host, content_type, body) from None

    @property
    def host(self) -> str:
        return self.settings.endpoint_host

    async def __aenter__(self) -> Endpoint:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.close()

    # -- discovery ---------------------------------------------------------------------

    async def list_models(self) -> list[str]:
        """Model ids the endpoint serves."""
        try:
            page = await self._client.models.list()
        except openai.OpenAIError as exc:
            raise _classify(exc, self.settings, 1) from exc
        return [m.id for m in page.data]

    async def resolve_model(self) -> str:
        """The configured model, else the endpoint's first listed model."""
        if self.model:
            return self.model
        if self.host == "api.openai.com":
            self.model = "gpt-4o-mini"
            return self.model
        models = await self.list_models()
        if not models:
            raise ConfigError(f"{self.host} lists no models; pass --model")
        self.model = models[0]
        return self.model

    async def probe(self) -> ProbeResult:
        """Find the structured-output mode this endpoint really enforces.

        Asks a plain question (no mention of JSON) under a tiny schema, first with
        ``response_format: json_schema`` then with a forced tool call. A server that
        enforces the schema answers with valid JSON; one that ignores it answers in prose.
        Each question is retried like any request; a probe that meets only transport
        faults raises :class:`FatalEndpointError` instead of guessing.
        """
        model = await self.resolve_model()
        tried: dict[str, str] = {}
        for mode, extra in _PROBE_FORMS:
            tried[mode] = await self._probe_one(model, mode, extra)
            if tried[mode] == "valid":
                self.probe_result = ProbeResult(mode=mode, enforced=True, tried=tried)
                break
        else:
            self.probe_result = ProbeResult(mode="md_json", enforced=False, tried=tried)
        self.mode = self.probe_result.mode
        return self.probe_result

    async def _probe_one(self, model: str, mode: str, extra: dict[str, Any]) -> str:
        """The verdict on one mode: ``valid``, ``ignored (...)`` or ``HTTP n`` (the server
        refused that form of request)."""
        body = {"model": model, "messages": _PROBE_MESSAGES, "temperature": 0, "max_tokens": 48, **extra}
        transport = self._transport()
        try:
            response = await transport(self._post, body)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            real = _unwrap(exc)
            if _rejects_form(real):
                return f"HTTP {real.status_code}"  # type: ignore[attr-defined]
            error = self._failure(exc, transport.statistics.get("attempt_number", 1))
            if isinstance(error, FatalEndpointError | ServerGoneError):
                raise error from exc
            raise FatalEndpointError(
                error.kind,
                f"the probe of {self.host} for the structured-output mode it enforces met only faults ({error}); "
                "try again later, or skip the probe with --mode (json_schema, tools, json, md_json)",
                error.attempts,
            ) from exc
        text = _probe_text(response, mode)
        return "valid" if _probe_ok(text) else f"ignored ({_one_line(text or '', 60)!r})"

    async def resolve_mode(self) -> str:
        """The configured mode, probing once when it is ``auto``."""
        if self.mode is None:
            await self.probe()
        assert self.mode is not None
        return self.mode

    # -- extraction --------------------------------------------------------------------

    def _instructor(self, mode: str) -> instructor.AsyncInstructor:
        if mode not in self._instructors:
            client = instructor.from_openai(self._client, mode=INSTRUCTOR_MODES[mode])
            client.on("completion:error", _mark_transport)
            self._instructors[mode] = client
        return self._instructors[mode]

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

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = _retry_after(_unwrap(exc)) if exc is not None else None
        if asked is not None:
            # Honour the server, plus a little jitter so concurrent callers do not return
            # as one burst.
            wait = asked + random.uniform(0, min(self.settings.retry_backoff, 1.0))
        else:
            wait = self.backoff(state.attempt_number)
        return min(wait, self.settings.retry_max_seconds)

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if exc is None or not log.isEnabledFor(logging.INFO):
            return
        real = _unwrap(exc)
        what = f"HTTP {real.status_code}" if isinstance(real, openai.APIStatusError) else type(real).__name__
        sleep = state.next_action.sleep if state.next_action else 0.0
        log.info(
            "%s: %s on attempt %d of %d; retrying in %.2fs",
            self.host, what, state.attempt_number, self.settings.retries + 1, sleep,
        )  # fmt: skip

    def _prepared(self, model: str, mode: str, response_model: type[BaseModel]) -> _Prepared | None:
        """instructor's request for this model and mode, prepared once per run.

        instructor 1.17 rebuilds the response model and its JSON schema on every call
        (about 5 ms of CPU per paper here, which caps throughput on a busy 2-core client).
        For ``tools`` and ``json_schema`` the request body does not depend on the
        messages, so it is built once with instructor's own request handler; each call
        then posts it, and parses and re-asks with instructor's own handlers. ``json`` and
        ``md_json`` put the schema into the messages, so they go through instructor's
        client per call.
        """
        if mode not in ("tools", "json_schema"):
            return None
        key = (model, mode, response_model)
        if key not in self._prepared_cache:
            handlers = mode_registry.get_handlers(Provider.OPENAI, INSTRUCTOR_MODES[mode])
            base = {"model": model, "temperature": self.settings.temperature, "max_tokens": self.settings.max_tokens}
            prepared_model, body = handlers.request_handler(response_model, {**base, "messages": []})
            self._prepared_cache[key] = _Prepared(handlers=handlers, model=prepared_model, body=body)
        return self._prepared_cache[key]

    async def _post(self, body: dict[str, Any]) -> ChatCompletion:
        """POST a chat completion; a response body that is not JSON is marked as a
        transport error (retried, never re-asked)."""
        try:
            return await self._client.post("/chat/completions", cast_to=ChatCompletion, body=body)
        except json.JSONDecodeError as exc:
            _mark_transport(exc)
            raise

    def _transport(self) -> AsyncRetrying:
        """The transport retry policy of one request (see the module docstring)."""
        s = self.settings
        return AsyncRetrying(
            stop=stop_after_attempt(s.retries + 1) | stop_before_delay(s.retry_max_seconds),
            wait=self._wait,
            retry=retry_if_exception(_is_transient),
            before_sleep=self._log_retry,
            reraise=True,
        )

    def _failure(self, exc: BaseException, requests: int) -> EndpointError:
        """The error a request that failed after its retries raises."""
        real = _unwrap(exc)
        if _refused(real) and self.responses_seen == 0:
            # Nothing ever answered: a wrong URL or a server that is not running. Every
            # paper would fail the same way, so stop the batch instead.
            return FatalEndpointError(
                "connection",
                f"cannot reach {self.host} after {requests} attempts ({_one_line(str(real.__cause__), 200)}); "
                "check --base-url and that the server is running",
                requests,
            )
        if _refused(real):
            return ServerGoneError(
                f"{self.host} stopped accepting connections ({requests} attempts): the server is down", requests
            )
        return _classify(real, self.settings, requests)

    async def _once_prepared(
        self, prepared: _Prepared, messages: list[dict[str, str]], count: Callable[[int], None]
    ) -> Any:
        """One answer with a prepared request: at most ``max_reasks`` re-asks, with
        instructor's re-ask messages; usage summed over the attempts."""
        body: dict[str, Any] = {**prepared.body, "messages": list(messages)}
        usage_in = usage_out = 0
        for attempt in range(self.settings.max_reasks + 1):
            count(1)
            response = await self._post(body)
            if response.usage is not None:
                usage_in += response.usage.prompt_tokens or 0
                usage_out += response.usage.completion_tokens or 0
            try:
                value = prepared.handlers.response_parser(
                    response=response, response_model=prepared.model, validation_context=None,
                    strict=None, stream=False, is_async=True,
                )  # fmt: skip
            except _REASK_ERRORS as exc:
                if attempt == self.settings.max_reasks:
                    raise InstructorRetryException(
                        str(exc), last_completion=response, n_attempts=attempt + 1, total_usage=None,
                        messages=body["messages"], create_kwargs=body, failed_attempts=[],
                    ) from exc  # fmt: skip
                body = prepared.handlers.reask_handler(kwargs=body, response=response, exception=exc)
                continue
            value._total_usage = CompletionUsage(
                prompt_tokens=usage_in, completion_tokens=usage_out, total_tokens=usage_in + usage_out
            )
            return value
        raise AssertionError("unreachable")  # pragma: no cover

    async def complete(self, messages: list[dict[str, str]], response_model: type[T]) -> Completion:
        """Send one extraction request; return the validated answer and its cost.

        Raises :class:`EndpointError` (or :class:`FatalEndpointError`) when it fails.
        """
        s = self.settings
        model = await self.resolve_model()
        mode = await self.resolve_mode()
        requests = 0
        tokens_in = tokens_out = 0
        started = time.perf_counter()

        prepared = self._prepared(model, mode, response_model)
        # Only the modes without a prepared body need instructor's client: building it reads
        # `AsyncOpenAI.chat`, which imports every openai resource module (~0.6 s of CPU once).
        client = self._instructor(mode) if prepared is None else None

        def count_requests(n: int) -> None:
            nonlocal requests
            requests += n

        async def once() -> Any:
            nonlocal requests
            if prepared is not None:
                return await self._once_prepared(prepared, messages, count_requests)
            assert client is not None
            reask = AsyncRetrying(
                stop=stop_after_attempt(s.max_reasks + 1), retry=retry_if_exception(_is_reask), reraise=True
            )
            try:
                return await client.chat.completions.create(
                    model=model,
                    messages=messages,  # type: ignore[arg-type]
                    response_model=response_model,
                    max_retries=reask,
                    temperature=s.temperature,
                    max_tokens=s.max_tokens,
                )
            finally:
                requests += reask.statistics.get("attempt_number", 1)

        try:
            value = await self._transport()(once)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise self._failure(exc, requests) from exc
        usage = getattr(value, "_total_usage", None) or getattr(getattr(value, "_raw_response", None), "usage", None)
        if usage is not None:
            tokens_in, tokens_out = usage.prompt_tokens or 0, usage.completion_tokens or 0
        return Completion(
            value=value,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            attempts=requests,
            latency_s=time.perf_counter() - started,
        )
