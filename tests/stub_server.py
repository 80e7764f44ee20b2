"""A loopback HTTP server speaking the OpenAI chat-completions protocol, with fault injection.

Endpoints: ``GET /v1/models`` (one model, ``stub-model``) and ``POST /v1/chat/completions``,
which answers with *schema-valid* JSON for the schema the request carries, in the forms
`extractor` sends (see ``extractor/completions.py`` and ``extractor/probe.py``):

* ``tools`` + ``tool_choice``: a ``tool_calls`` message whose ``arguments`` is the JSON;
* ``response_format={"type": "json_schema", ...}``: the JSON as content;
* a schema written into the prompt (instructor's ``json`` and ``md_json`` modes; the first
  also sends ``response_format={"type": "json_object"}``): the JSON as content. Without
  any schema the answer has a default shape (``summary``, ``id``, ``extractions``).

``usage`` counts characters / 4. Answers are paper-specific and checkable. A request is
identified by its *prompt text* (:func:`request_text`): the last user message before the
first assistant message, so a re-ask (which appends an assistant message and a correcting
message) counts as the same request. Every string field named ``summary`` gets
:func:`summary_of` that text; every other free string gets :func:`message_hash` of it. The
answer is built once per schema as a JSON template; each request only fills in its values.

Per request, a fault hook ``(body, attempt) -> fault name | None`` may inject one of
:data:`FAULTS`; ``attempt`` is 1-based and counts how often the same prompt text was seen.
Ready-made hooks: :func:`always`, :func:`by_marker`, :func:`random_mix`, combined with
:func:`chain`; :func:`faults_from_spec` builds them from a short string (for the command
line and ``/_stub/config``). The faults, as sent:

================ =============================================================================
``429``          headers ``retry-after-ms`` and ``Retry-After`` (whole s, rounded up)
``500``/``503``  an OpenAI-shaped error (``type: server_error``)
``401``          ``code: invalid_api_key``
``404``          ``code: model_not_found``
``400_context``  ``code: context_length_exceeded``
``slow``         the answer after ``slow_seconds`` (other requests are not held up)
``drop``         200 + Content-Length, half the body, then the connection closes
``invalid_json`` 200, ``application/json``, a body that is not JSON
``html``         a 200 ``text/html`` page (a proxy's error page, a web server on that port)
``schema_fail``  a normal 200 whose JSON fails the schema (its required fields are missing)
``length``       a 200 with ``finish_reason: "length"`` and the JSON cut in half
================ =============================================================================

In-process use (a background thread with its own event loop)::

    with StubServer(faults=by_marker()) as stub:
        ...  # settings with base_url=stub.base_url
        assert stub.attempts_for(text) == 2 and stub.fault_counts == {"429": 1, "ok": 1}

Separate process (so the server's CPU is not the client's), e.g. for benchmarks::

    python tests/stub_server.py --port 0 --delay 0.2 [--faults marker]
    # first stdout line: http://127.0.0.1:PORT/v1 ; serves until SIGTERM/SIGINT

or from Python, :class:`StubProcess` does exactly that and reads/sets the counters and the
delay over HTTP (``GET /_stub/stats``, ``POST /_stub/reset``, ``POST /_stub/config``).

Only the standard library and aiohttp are imported at module level (no pytest).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import marshal
import math
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
from collections import Counter
from typing import Any, Callable, NamedTuple, Optional

from aiohttp import web

__all__ = [
    "FAULTS", "FaultHook", "JUNK_SUMMARY", "LogEntry", "StubProcess", "StubServer", "always", "by_marker",
    "chain", "faults_from_spec", "invalid_instance", "message_hash", "random_mix",
    "request_text", "schema_instance", "summary_of",
]  # fmt: skip

MODEL = "stub-model"

#: The fault names a hook may return.
FAULTS: tuple[str, ...] = (
    "429", "500", "503", "slow", "drop", "invalid_json", "schema_fail", "length", "401", "404", "400_context", "html",
)  # fmt: skip

#: ``(request body, attempt) -> fault name or None``; ``attempt`` is 1-based.
FaultHook = Callable[[dict, int], Optional[str]]


class LogEntry(NamedTuple):
    """One chat-completions request: wall-clock time, prompt hash, injected fault (or None)."""

    time: float
    key: str
    fault: Optional[str]


# -- request text -------------------------------------------------------------------------


def message_hash(text: str) -> str:
    """Short stable hash (12 hex characters) of a prompt text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


#: Longest value :func:`summary_of` gives.
SUMMARY_MAX_CHARS = 200
#: In a prompt, makes :func:`summary_of` answer debris instead of a sentence, as a small
#: model does (exercises the summary gate: re-ask, then an extractive summary).
JUNK_SUMMARY = "[[junk-summary]]"


def summary_of(text: str) -> str:
    """A sentence about ``text`` that the summary gate and the faithfulness check accept:
    ``"This paper is about "`` and the first 24 words of the abstract (the text after
    "Abstract:" when the prompt labels it; fault markers and the words' final periods left
    out) and a period, at most :data:`SUMMARY_MAX_CHARS` characters. ``"{{#1}}"`` when
    ``text`` holds :data:`JUNK_SUMMARY`."""
    if JUNK_SUMMARY in text:
        return "{{#1}}"
    text = re.split(r"\b(?:Abstract|Summary context):", text)[-1]  # the abstract, not the title
    words = [w.rstrip(".!?") for w in re.sub(r"\[\[[^\]]*\]\]", " ", text).split()]
    return ("This paper is about " + " ".join(words[:24]))[: SUMMARY_MAX_CHARS - 1].rstrip(".") + "." if words else ""


_MD_JSON_SUFFIX = "\n\nReturn the correct JSON response within a ```json codeblock. not the JSON_SCHEMA"


def _scan_messages(body: dict) -> tuple[str, int]:
    """(prompt text, total characters of all message text)."""
    messages = body.get("messages")
    key_text: Optional[str] = None
    last_user, total, seen_assistant = "", 0, False
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        text = message.get("content") if isinstance(message.get("content"), str) else ""
        total += len(text)
        if message.get("role") == "assistant":
            seen_assistant = True
        elif message.get("role") == "user":
            last_user = text
            if not seen_assistant:
                key_text = text
    key_text = last_user if key_text is None else key_text
    if key_text.endswith(_MD_JSON_SUFFIX):  # instructor's md_json mode appends this
        key_text = key_text[: -len(_MD_JSON_SUFFIX)]
    return key_text, total


def request_text(body: dict) -> str:
    """The prompt text that identifies a request (see the module docstring)."""
    return _scan_messages(body)[0]


# -- JSON schema -> instance ----------------------------------------------------------------

# Placeholders of an answer template (private-use characters survive json.dumps with
# ensure_ascii=False unchanged); each request then only substitutes its own values.
_SUMMARY_SLOT = "\ue000stub-summary\ue001"
_TAG_SLOT = "\ue000stub-tag\ue001"
_TAG_CHARS = 12  # len(message_hash(...))


class _Walker:
    """A valid instance of a JSON schema of the kind pydantic writes: ``$ref`` into
    ``$defs``, ``anyOf`` with ``null``, ``enum``/``const``, objects (every property
    filled), arrays (one item, or ``minItems``), strings (``summary`` or the tag, within
    ``minLength``/``maxLength``), numbers, booleans."""

    def __init__(self, root: Any, summary: str, tag: str) -> None:
        self.root, self.summary, self.tag = root, summary, tag
        self.templatable = True  # False: a slot would be cut or padded, so it cannot be filled later

    def resolve(self, schema: Any) -> Any:
        for _ in range(50):
            ref = schema.get("$ref") if isinstance(schema, dict) else None
            if not isinstance(ref, str) or not ref.startswith("#/"):
                break
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def value(self, schema: Any, name: Optional[str] = None, depth: int = 0) -> Any:
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or depth > 20:
            return self.string({}, name) if depth <= 20 else None
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return next((item for item in schema["enum"] if item is not None), schema["enum"][0])
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:  # the first branch that is not null, with the constraints around it
            real = [b for b in branches if (self.resolve(b) or {}).get("type") != "null"] or branches
            outer = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            return self.value({**outer, **self.resolve(real[0])}, name, depth + 1)
        kind = schema.get("type")
        kind = next((t for t in kind if t != "null"), "null") if isinstance(kind, list) else kind
        if kind == "object" or (kind is None and "properties" in schema):
            return {prop: self.value(sub, prop, depth + 1) for prop, sub in (schema.get("properties") or {}).items()}
        if kind == "array":
            n = max(schema.get("minItems") or 0, 1)
            n = min(n, schema["maxItems"]) if isinstance(schema.get("maxItems"), int) else n
            return [self.value(schema.get("items", {}), name, depth + 1)] * n
        if kind in ("integer", "number"):
            low = schema.get("minimum")
            value = max(1, low) if isinstance(low, (int, float)) else 1
            return int(value) if kind == "integer" else float(value)
        if kind == "boolean":
            return True
        return None if kind == "null" else self.string(schema, name)

    def string(self, schema: dict, name: Optional[str]) -> str:
        text = self.summary if name == "summary" else self.tag
        lo, hi = schema.get("minLength"), schema.get("maxLength")
        longest = SUMMARY_MAX_CHARS if text == _SUMMARY_SLOT else _TAG_CHARS  # what a slot may become
        if text in (_SUMMARY_SLOT, _TAG_SLOT) and ((isinstance(lo, int) and lo > 0) or (isinstance(hi, int) and hi < longest)):
            self.templatable = False
        if isinstance(lo, int) and len(text) < lo:
            text = ((text or "x") * (lo // max(len(text), 1) + 1))[:lo]
        return text[:hi] if isinstance(hi, int) else text


def schema_instance(schema: Any, *, summary: str = "", tag: str = "stub") -> Any:
    """A JSON value valid against ``schema``: ``summary`` fields get ``summary``, other
    free strings get ``tag``."""
    return _Walker(schema, summary, tag).value(schema)


def invalid_instance(schema: Any) -> Any:
    """A JSON value that fails ``schema`` (None: the default shape): an object without its
    required fields, or a list where nothing is required."""
    root = _Walker(schema, "", "").resolve(schema) if schema is not None else None
    return ["__stub_schema_fail__"] if isinstance(root, dict) and not root.get("required") else {"__stub_schema_fail__": 12345}


def _default_value(summary: str, tag: str) -> dict:
    """The answer to a request without a schema: the summary, the tag, and a
    langextract-shaped ``extractions`` list (``benchmarks/clients.py``)."""
    return {"summary": summary, "id": tag, "extractions": [{"summary": summary, "summary_attributes": {"id": tag}}]}


def _schema_in_text(text: str) -> Optional[dict]:
    """Best effort: the first JSON object in ``text`` that looks like a JSON schema."""
    decoder, start = json.JSONDecoder(), text.find("{")
    for _ in range(64):
        if start == -1:
            return None
        try:
            obj, end = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(obj, dict) and ("properties" in obj or "$defs" in obj):
            return obj
        start = text.find("{", end)
    return None


# -- fault hooks ----------------------------------------------------------------------------


def _check_fault(name: str) -> str:
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
    return name


def always(fault: str) -> FaultHook:
    """``fault`` for every attempt of every request."""
    _check_fault(fault)
    return lambda body, attempt: fault


_MARKER = re.compile(r"\[\[fault:([a-z0-9_]+?)(?:x(\d+))?\]\]")


def by_marker() -> FaultHook:
    """Faults named in the prompt text: ``[[fault:429x2]]`` = 429 for the first 2 attempts,
    ``[[fault:503]]`` (no count) = 503 on every attempt. Several markers apply in order:
    ``[[fault:429x1]][[fault:500x1]]`` = 429, then 500, then success."""

    def hook(body: dict, attempt: int) -> Optional[str]:
        text = request_text(body)
        seen = 0
        for match in _MARKER.finditer(text) if "[[fault:" in text else ():
            if match.group(2) is None or attempt <= seen + int(match.group(2)):
                return match.group(1)
            seen += int(match.group(2))
        return None

    return hook


def random_mix(faults: "list[str] | str", rate: float, seed: int = 0, max_failures_per_request: int = 1) -> FaultHook:
    """A fraction ``rate`` of requests (chosen by prompt hash and ``seed``, so the same
    requests fail whatever the arrival order) fails its first 1..``max_failures_per_request``
    attempts, each with a fault drawn from ``faults``; later attempts succeed."""
    faults = [_check_fault(f) for f in ([faults] if isinstance(faults, str) else faults)]
    if not faults:
        raise ValueError("random_mix needs at least one fault")
    plans: dict[str, tuple[str, ...]] = {}

    def hook(body: dict, attempt: int) -> Optional[str]:
        key = message_hash(request_text(body))
        if key not in plans:
            rng = random.Random(f"{seed}:{key}")
            n = rng.randint(1, max(1, max_failures_per_request)) if rng.random() < rate else 0
            plans[key] = tuple(rng.choice(faults) for _ in range(n))
        plan = plans[key]
        return plan[attempt - 1] if attempt <= len(plan) else None

    return hook


def chain(*hooks: Optional[FaultHook]) -> FaultHook:
    """The first non-None answer of ``hooks``."""
    active = [h for h in hooks if h is not None]

    def hook(body: dict, attempt: int) -> Optional[str]:
        for h in active:
            if (fault := h(body, attempt)) is not None:
                return fault
        return None

    return hook


def faults_from_spec(spec: Optional[str]) -> Optional[FaultHook]:
    """A hook from a string (``+``-separated parts, combined with :func:`chain`):
    ``none`` or empty (no faults), ``marker`` (:func:`by_marker`), ``always:FAULT``,
    ``random:FAULT,FAULT:RATE[:SEED[:MAX_FAILURES]]``; e.g. ``marker+random:429,503:0.1:7:2``."""
    if spec is None or spec.strip().lower() in ("", "none"):
        return None
    hooks: list[FaultHook] = []
    for part in spec.split("+"):
        bits = part.strip().split(":")
        try:
            if bits == ["marker"]:
                hooks.append(by_marker())
            elif bits[0] == "always" and len(bits) == 2:
                hooks.append(always(bits[1]))
            elif bits[0] == "random" and 3 <= len(bits) <= 5:
                numbers = [int(b) for b in bits[3:]]
                hooks.append(random_mix([f for f in bits[1].split(",") if f], float(bits[2]), *numbers))
            else:
                raise ValueError("bad form")
        except ValueError as exc:
            raise ValueError(f"bad fault spec part {part!r}: {exc}") from None
    return chain(*hooks)


# -- the server -----------------------------------------------------------------------------

#: fault -> (status, message, type, code); ``{model}`` is the request's model.
_ERRORS: dict[str, tuple[int, str, str, Optional[str]]] = {
    "500": (500, "The server had an error while processing your request. Sorry about that!", "server_error", None),
    "503": (503, "The engine is currently overloaded, please try again later.", "server_error", None),
    "401": (401, "Incorrect API key provided: x. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error", "invalid_api_key"),
    "404": (404, "The model `{model}` does not exist or you do not have access to it.", "invalid_request_error",
            "model_not_found"),
    "400_context": (400, "This model's maximum context length is 8192 tokens. However, your messages resulted in "
                    "8193 tokens. Please reduce the length of the messages.", "invalid_request_error",
                    "context_length_exceeded"),
}  # fmt: skip
_HTML_PAGE = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def _schema_key(schema: Any) -> str:
    """A cheap exact fingerprint of a parsed JSON schema (marshal is ~4x faster than json)."""
    try:
        data = marshal.dumps(schema, 2)
    except (ValueError, RecursionError):
        data = json.dumps(schema, sort_keys=True).encode()
    return hashlib.blake2b(data, digest_size=10).hexdigest()


class StubServer:
    """OpenAI-compatible chat-completions server on 127.0.0.1 (see the module docstring).

    Args:
        port: 0 picks a free port.
        delay: seconds every chat request waits before answering (the ``delay`` attribute).
        faults: a :data:`FaultHook`, or a spec string for :func:`faults_from_spec` (the
            ``faults`` attribute, or :meth:`set_faults`).
        slow_seconds: how long the ``slow`` fault waits before answering.
        retry_after: seconds advertised by the ``429`` fault.
        shutdown_timeout: how long ``stop()`` lets in-flight requests finish.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        delay: float = 0.0,
        faults: "FaultHook | str | None" = None,
        slow_seconds: float = 30.0,
        retry_after: float = 0.1,
        model: str = MODEL,
        shutdown_timeout: float = 0.5,
    ) -> None:
        self.host, self.port, self.model = host, port, model
        self.delay, self.slow_seconds, self.retry_after = float(delay), float(slow_seconds), float(retry_after)
        self.shutdown_timeout = shutdown_timeout
        self.set_faults(faults)
        self._lock = threading.Lock()
        self._requests = 0
        self._fault_counts: Counter[str] = Counter()
        self._attempts: dict[str, int] = {}
        self._log: list[LogEntry] = []
        self._templates: dict[tuple[str, str], Optional[str]] = {}  # (schema key, ok|bad) -> template
        self._prompt_schemas: dict[str, Optional[dict]] = {}  # message hash -> schema in it
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner: Optional[web.AppRunner] = None
        self._tasks: set[asyncio.Task] = set()

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no ``/v1``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the base URL a client takes."""
        return self.url + "/v1"

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/_stub/stats", self._http_stats)
        app.router.add_post("/_stub/reset", self._http_reset)
        app.router.add_post("/_stub/config", self._http_config)
        return app

    async def astart(self) -> None:
        """Start serving on the running event loop (used by ``start()`` and the script)."""
        self._loop = asyncio.get_running_loop()
        self._runner = web.AppRunner(
            self.make_app(), access_log=None, handler_cancellation=True, shutdown_timeout=self.shutdown_timeout
        )  # handler_cancellation: a client that hangs up cancels its handler
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port, backlog=1024).start()
        self.port = self._runner.addresses[0][1]

    async def astop(self) -> None:
        """Stop serving: in-flight requests get ``shutdown_timeout`` seconds, then are cancelled."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        for task in list(self._tasks):
            task.cancel()

    def start(self) -> "StubServer":
        """Serve from a background thread with its own event loop; returns when ready."""
        if self._thread is not None:
            raise RuntimeError("StubServer already started")
        ready, failure, loop = threading.Event(), [], asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.astart())
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                failure.append(exc)
            ready.set()
            try:
                if not failure:
                    loop.run_forever()
            finally:
                try:
                    loop.run_until_complete(self.astop())
                    loop.run_until_complete(loop.shutdown_asyncgens())
                finally:
                    loop.close()

        self._thread = threading.Thread(target=run, name=f"StubServer:{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("StubServer did not start within 30 s")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop the server and join its thread (idempotent)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        try:
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:  # the loop is already closed
            pass
        thread.join(self.shutdown_timeout + 10)
        self._thread = None

    def __enter__(self) -> "StubServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_delay(self, seconds: float) -> None:
        self.delay = float(seconds)

    def set_faults(self, faults: "FaultHook | str | None") -> None:
        self.faults: Optional[FaultHook] = faults_from_spec(faults) if isinstance(faults, str) else faults

    # -- counters ------------------------------------------------------------------------
    @property
    def requests(self) -> int:
        """Chat-completions requests received."""
        with self._lock:
            return self._requests

    @property
    def fault_counts(self) -> dict[str, int]:
        """Requests per injected fault name (``"ok"`` for requests without a fault)."""
        with self._lock:
            return dict(self._fault_counts)

    def attempts_for(self, text: str) -> int:
        """How often the prompt text ``text`` was requested."""
        with self._lock:
            return self._attempts.get(message_hash(text), 0)

    @property
    def log(self) -> list[LogEntry]:
        """``(time, prompt hash, fault or None)`` per request, in arrival order."""
        with self._lock:
            return list(self._log)

    def stats(self) -> dict:
        """A JSON-able snapshot of all counters."""
        with self._lock:
            return {
                "requests": self._requests,
                "faults": dict(self._fault_counts),
                "attempts": dict(self._attempts),
                "log": [list(e) for e in self._log],
            }

    def reset(self) -> None:
        """Zero all counters, attempts and the log."""
        with self._lock:
            self._requests = 0
            self._fault_counts.clear()
            self._attempts.clear()
            self._log.clear()

    # -- handlers ------------------------------------------------------------------------
    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"object": "list", "data": [{"id": self.model, "object": "model", "created": 0, "owned_by": "stub"}]}
        )

    async def _http_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _http_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _http_config(self, request: web.Request) -> web.Response:
        try:
            cfg = await request.json()
            if "faults" in cfg:
                self.set_faults(cfg["faults"] or None)
            for name in ("delay", "slow_seconds", "retry_after"):
                if name in cfg:
                    setattr(self, name, float(cfg[name]))
        except (ValueError, TypeError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response(
            {"ok": True, "delay": self.delay, "slow_seconds": self.slow_seconds, "retry_after": self.retry_after}
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            return await self._chat_inner(request)
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]

    async def _chat_inner(self, request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read())
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            return _error(400, f"We could not parse the JSON body of your request: {exc}", "invalid_request_error", None)
        try:
            text, prompt_chars, key, seq, fault = self.admit(body)
        except Exception:  # noqa: BLE001 - a broken hook becomes a visible 500
            return _error(500, f"stub fault hook raised:\n{traceback.format_exc(limit=3)}", "stub_error", "hook_error")

        if self.delay > 0:
            await asyncio.sleep(self.delay)
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
            fault = None
        if fault is None or fault in ("schema_fail", "length", "drop", "invalid_json"):
            return await self._completion(request, body, text, key, prompt_chars, seq, fault)
        if fault == "429":
            headers = {"retry-after": str(max(0, math.ceil(self.retry_after))),
                       "retry-after-ms": str(int(round(self.retry_after * 1000)))}  # fmt: skip
            message = f"Rate limit reached (stub). Please try again in {int(self.retry_after * 1000)}ms."
            return _error(429, message, "requests", "rate_limit_exceeded", headers)
        if fault == "html":
            return web.Response(status=200, body=_HTML_PAGE, content_type="text/html")
        if fault in _ERRORS:
            status, message, type_, code = _ERRORS[fault]
            return _error(status, message.format(model=body.get("model", "")), type_, code)
        return _error(500, f"stub: unknown fault {fault!r}; known: {', '.join(FAULTS)}", "stub_error", "unknown_fault")

    def admit(self, body: dict) -> tuple[str, int, str, int, Optional[str]]:
        """Count one chat request: (prompt text, characters of all messages, prompt hash,
        sequence number, injected fault or None). Raises what the fault hook raises."""
        text, prompt_chars = _scan_messages(body)
        key = message_hash(text)
        with self._lock:
            self._requests += 1
            attempt = self._attempts[key] = self._attempts.get(key, 0) + 1
            seq = self._requests
        fault: Optional[str] = None
        if self.faults is not None:
            fault = self.faults(body, attempt)
        with self._lock:
            self._fault_counts[fault or "ok"] += 1
            self._log.append(LogEntry(time.time(), key, fault))
        return text, prompt_chars, key, seq, fault

    # -- answers -------------------------------------------------------------------------
    def _schema(self, body: dict) -> tuple[Any, Optional[str]]:
        """(the schema the answer must follow or None, the tool to call or None)."""
        tools = body.get("tools")
        if isinstance(tools, list) and tools:
            choice = body.get("tool_choice")
            wanted = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
            functions = [t.get("function", {}) for t in tools if isinstance(t, dict)]
            chosen = next((f for f in functions if f.get("name") == wanted), functions[0])
            return chosen.get("parameters") or {"type": "object", "properties": {}}, chosen.get("name", "tool")
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            return (fmt.get("json_schema") or {}).get("schema"), None
        for message in body.get("messages") or []:  # a schema in the prompt (json, md_json)
            text = message.get("content") if isinstance(message, dict) else None
            if isinstance(text, str) and message.get("role") in ("system", "user") and '"properties"' in text:
                h = message_hash(text)
                if h not in self._prompt_schemas:
                    self._prompt_schemas[h] = _schema_in_text(text)
                if self._prompt_schemas[h] is not None:
                    return self._prompt_schemas[h], None
        return None, None

    def _answer(self, schema: Any, text: str, key: str, fault: Optional[str]) -> str:
        """The JSON text of the answer, from the schema's template when it has one."""
        kind = "bad" if fault == "schema_fail" else "ok"
        if kind == "bad":
            return json.dumps(invalid_instance(schema))
        template_key = (_schema_key(schema), kind)
        if template_key not in self._templates:
            self._templates[template_key] = self._build(schema, _SUMMARY_SLOT, _TAG_SLOT)
        template = self._templates[template_key]
        if template is None:  # a length limit on a slot: walked per request
            return self._build(schema, summary_of(text), key) or "{}"
        summary = json.dumps(summary_of(text), ensure_ascii=False)[1:-1]
        return template.replace(_SUMMARY_SLOT, summary).replace(_TAG_SLOT, key)

    @staticmethod
    def _build(schema: Any, summary: str, tag: str) -> Optional[str]:
        """JSON text of the instance; None when a template was asked for but is impossible."""
        if schema is None:
            return json.dumps(_default_value(summary, tag), ensure_ascii=False)
        walker = _Walker(schema, summary, tag)
        value = walker.value(schema)
        return json.dumps(value, ensure_ascii=False) if walker.templatable or summary != _SUMMARY_SLOT else None

    def completion_payload(
        self, body: dict, text: str, key: str, prompt_chars: int, seq: int, fault: Optional[str] = None
    ) -> dict:
        """The chat completion answering ``body`` (``schema_fail`` and ``length`` faults
        applied), as :meth:`admit` described the request."""
        schema, tool = self._schema(body)
        answer = self._answer(schema, text, key, fault)
        finish = "stop"
        if fault == "length":
            answer, finish = answer[: max(1, len(answer) // 2)], "length"
        message: dict[str, Any] = {"role": "assistant", "content": answer, "refusal": None}
        if tool is not None:
            call = {"id": f"call_{key}{seq}", "type": "function", "function": {"name": tool, "arguments": answer}}
            message.update(content=None, tool_calls=[call])
        return {
            "id": f"chatcmpl-stub{seq}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(answer) // 4,
                      "total_tokens": prompt_chars // 4 + len(answer) // 4},
        }  # fmt: skip

    async def _completion(
        self, request: web.Request, body: dict, text: str, key: str, prompt_chars: int, seq: int, fault: Optional[str]
    ) -> web.StreamResponse:
        payload = self.completion_payload(body, text, key, prompt_chars, seq, fault)
        data = json.dumps(payload, ensure_ascii=False).encode()
        if fault == "invalid_json":
            data = b'{"id": "chatcmpl-stub' + str(seq).encode() + b'", "choices": [<html>Bad Gateway</html>'
        if fault != "drop":
            return web.Response(status=200, body=data, content_type="application/json")
        # Headers and the first half of the body, then close the connection.
        resp = web.StreamResponse(status=200)
        resp.content_type, resp.content_length = "application/json", len(data)
        await resp.prepare(request)
        await resp.write(data[: len(data) // 2])
        if request.transport is not None:
            request.transport.close()  # flushes the half body, then FIN: the body is cut short
        return resp


def _error(status: int, message: str, type_: str, code: Optional[str], headers: Optional[dict] = None) -> web.Response:
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return web.Response(status=status, body=json.dumps(body).encode(), content_type="application/json", headers=headers)


# -- separate process -----------------------------------------------------------------------


class StubProcess:
    """Runs ``python tests/stub_server.py`` in a child process (so its CPU is its own).

    ``base_url`` is read from the child's first stdout line; ``stats()``, ``reset()`` and
    ``configure(delay=..., faults="marker", slow_seconds=..., retry_after=...)`` talk to it
    over HTTP; ``stop()`` sends SIGTERM. Also a context manager.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        delay: float = 0.0,
        faults: Optional[str] = None,
        slow_seconds: float = 30.0,
        retry_after: float = 0.1,
        python: str = sys.executable,
    ) -> None:
        self.args = [
            python, os.path.abspath(__file__), "--port", str(port), "--delay", str(delay),
            "--slow-seconds", str(slow_seconds), "--retry-after", str(retry_after),
            *(["--faults", faults] if faults else []),
        ]  # fmt: skip
        self.proc: Optional[subprocess.Popen] = None
        self.base_url = ""

    @property
    def url(self) -> str:
        return self.base_url[: -len("/v1")]

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30.0) -> "StubProcess":
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith("http"):
            self.stop()
            raise RuntimeError(f"stub server process did not report its URL: {line!r}")
        self.base_url = line[0].strip()
        return self

    def _call(self, method: str, path: str, payload: Optional[dict] = None) -> dict:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict:
        return self._call("GET", "/_stub/stats")

    def reset(self) -> None:
        self._call("POST", "/_stub/reset", {})

    def configure(self, **settings: Any) -> dict:
        return self._call("POST", "/_stub/config", settings)

    def cpu_seconds(self) -> float:
        """User+system CPU time of the child so far (Linux /proc)."""
        with open(f"/proc/{self.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def __enter__(self) -> "StubProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _serve(server: StubServer) -> None:
    await server.astart()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(server.base_url, flush=True)
    print(f"stub server on {server.base_url} (delay {server.delay}s); SIGTERM/SIGINT to stop", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await server.astop()


def arg_parser(description: str = "OpenAI-compatible stub server with fault injection.") -> argparse.ArgumentParser:
    """The command line of this server (also extended by ``benchmarks/capture_stub.py``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per chat request")
    parser.add_argument("--faults", default=None, help="fault spec, e.g. 'marker' or 'random:429,503:0.1:7:2'")
    parser.add_argument("--slow-seconds", type=float, default=30.0)
    parser.add_argument("--retry-after", type=float, default=0.1)
    parser.add_argument("--model", default=MODEL)
    return parser


def server_options(args: argparse.Namespace) -> dict:
    """:class:`StubServer` keyword arguments from :func:`arg_parser`'s options."""
    return {"delay": args.delay, "faults": args.faults, "slow_seconds": args.slow_seconds,
            "retry_after": args.retry_after, "model": args.model}  # fmt: skip


def main(argv: Optional[list[str]] = None) -> int:
    args = arg_parser().parse_args(argv)
    asyncio.run(_serve(StubServer(args.port, **server_options(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
