"""The endpoint client: one OpenAI-compatible server, reached through ``instructor``.

Two layers of retry, kept apart so they never multiply:

* **transport** (tenacity, here): 429 (honouring ``Retry-After``), 5xx, timeouts,
  dropped connections and unreadable bodies are retried with exponential backoff and
  jitter, bounded by ``settings.retries`` and ``settings.retry_max_seconds``. The openai
  SDK's own retries are off.
* **validation** (instructor's re-ask): an answer that fails the schema is sent back with
  the validation error, at most ``settings.max_reasks`` times.

Errors that retrying cannot fix raise :class:`~extractor.errors.FatalEndpointError`
(bad key, unknown model, wrong URL) so a batch stops at once instead of failing every
paper; the rest raise :class:`~extractor.errors.EndpointError` with a short ``kind``.

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
import time
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
from pydantic import BaseModel, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from .errors import ConfigError, EndpointError, FatalEndpointError
from .settings import Settings

__all__ = ["Completion", "Endpoint", "ProbeResult", "INSTRUCTOR_MODES"]

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
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.APIResponseValidationError,
    json.JSONDecodeError,
)


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
        if "context" in text.lower() and ("length" in text.lower() or "exceed" in text.lower()):
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
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError):
        return EndpointError("bad_response", f"{host} sent an unreadable response: {_one_line(str(exc))}", attempts)
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
        self._client = openai.AsyncOpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key_value(),
            max_retries=0,  # tenacity below is the only transport retry layer
            timeout=settings.timeout,
        )
        self._instructors: dict[str, instructor.AsyncInstructor] = {}
        self.model: str | None = settings.model
        self.probe_result: ProbeResult | None = None
        self.mode: str | None = None if settings.mode == "auto" else settings.mode
        self._backoff = wait_exponential_jitter(
            multiplier=settings.retry_backoff, max=30.0, jitter=settings.retry_backoff
        )

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
        """
        model = await self.resolve_model()
        tried: dict[str, str] = {}
        attempts: list[tuple[str, dict[str, Any]]] = [
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
        for mode, extra in attempts:
            try:
                resp = await self._client.chat.completions.create(
                    model=model, messages=_PROBE_MESSAGES, temperature=0, max_tokens=48, **extra  # type: ignore[arg-type]
                )
            except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
                raise _classify(exc, self.settings, 1) from exc
            except openai.APIConnectionError as exc:
                raise FatalEndpointError("connection", f"cannot reach {self.host}: {exc}") from exc
            except openai.APIStatusError as exc:
                tried[mode] = f"HTTP {exc.status_code}"
                continue
            message = resp.choices[0].message
            if mode == "tools":
                calls = message.tool_calls or []
                text = calls[0].function.arguments if calls else message.content  # type: ignore[union-attr]
            else:
                text = message.content
            if _probe_ok(text):
                tried[mode] = "valid"
                self.probe_result = ProbeResult(mode=mode, enforced=True, tried=tried)
                break
            tried[mode] = f"ignored ({_one_line(text or '', 60)!r})"
        else:
            self.probe_result = ProbeResult(mode="md_json", enforced=False, tried=tried)
        self.mode = self.probe_result.mode
        return self.probe_result

    async def resolve_mode(self) -> str:
        """The configured mode, probing once when it is ``auto``."""
        if self.mode is None:
            await self.probe()
        assert self.mode is not None
        return self.mode

    # -- extraction --------------------------------------------------------------------

    def _instructor(self, mode: str) -> instructor.AsyncInstructor:
        if mode not in self._instructors:
            self._instructors[mode] = instructor.from_openai(self._client, mode=INSTRUCTOR_MODES[mode])
        return self._instructors[mode]

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = _retry_after(exc) if exc is not None else None
        if asked is not None:
            return min(asked, self.settings.retry_max_seconds)
        return self._backoff(state)

    async def complete(self, messages: list[dict[str, str]], response_model: type[T]) -> Completion:
        """Send one extraction request; return the validated answer and its cost.

        Raises :class:`EndpointError` (or :class:`FatalEndpointError`) when it fails.
        """
        s = self.settings
        model = await self.resolve_model()
        client = self._instructor(await self.resolve_mode())
        requests = 0
        tokens_in = tokens_out = 0
        started = time.perf_counter()

        async def once() -> Any:
            nonlocal requests
            reask = AsyncRetrying(
                stop=stop_after_attempt(s.max_reasks + 1), retry=retry_if_exception_type(_REASK_ERRORS), reraise=True
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

        transport = AsyncRetrying(
            stop=stop_after_attempt(s.retries + 1) | stop_after_delay(s.retry_max_seconds),
            wait=self._wait,
            retry=retry_if_exception(lambda e: isinstance(_unwrap(e), _TRANSIENT)),
            reraise=True,
        )
        try:
            value = await transport(once)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise _classify(_unwrap(exc), s, requests) from exc
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
