"""A loopback HTTP server speaking the OpenAI chat-completions protocol, with fault injection.

Endpoints: ``GET /v1/models`` (one model, ``stub-model``) and ``POST /v1/chat/completions``
(also without the ``/v1`` prefix), which answers with *schema-valid* JSON for whatever JSON
schema the request carries, in the three ways clients enforce a schema:

* ``tools`` (+ ``tool_choice``): a ``tool_calls`` message whose ``arguments`` is JSON
  (legacy ``functions`` gets a ``function_call``);
* ``response_format={"type": "json_schema", "json_schema": {"schema": ...}}``: JSON content;
* ``response_format={"type": "json_object"}`` or no schema: JSON content. When a JSON schema
  is written into the system/user prompt (instructor's ``Mode.JSON``/``Mode.MD_JSON``), the
  answer follows it; otherwise it has a default shape (see :func:`default_answer`).

``stream: true`` gets the same answer as server-sent events. ``usage`` counts characters / 4.

Answers are paper-specific and checkable. A request is identified by its *prompt text*
(:func:`request_text`): the last user message before the first assistant message, so that
instructor's re-asks (which append an assistant message and a correcting user message) count
as the same request; with no assistant message it is simply the last user message (a suffix
that instructor's ``Mode.MD_JSON`` appends to it is ignored). Every string field named
``summary`` gets a sentence made of that text's first words (:func:`summary_of`); every other free string gets :func:`message_hash` of it (12 hex chars;
URIs/emails/uuids/dates get a valid value of their format). The instance is built once per
schema as a JSON template; each request only substitutes its own two values.

Per request, a fault hook ``(body, attempt) -> fault name | None`` may inject one of
:data:`FAULTS`; ``attempt`` is 1-based and counts how often the same prompt text was seen.
Ready-made hooks: :func:`fail_first`, :func:`always`, :func:`by_marker`, :func:`random_mix`,
combined with :func:`chain`; :func:`faults_from_spec` builds them from a short string (for the
command line and the ``/_stub/config`` endpoint). What the ``openai`` client sees:

============== ===============================================================================
``429``        ``RateLimitError``; headers ``retry-after-ms`` and ``Retry-After`` (whole s, rounded up)
``500/503``    ``InternalServerError`` (``type: server_error``)
``401``        ``AuthenticationError`` (``code: invalid_api_key``)
``404``        ``NotFoundError`` (``code: model_not_found``)
``400_context`` ``BadRequestError`` (``code: context_length_exceeded``)
``slow``       ``APITimeoutError`` when its timeout < ``slow_seconds`` (others are not blocked)
``drop``       ``APIConnectionError`` (200 + Content-Length, half the body, then the socket closes)
``invalid_json`` ``json.JSONDecodeError`` (200, ``application/json``, a body that is not JSON)
``html``       a 200 ``text/html`` page (a proxy's error page, a web server on that port); the
               ``openai`` client returns it as a ``str`` instead of a completion
``schema_fail`` a normal 200 whose JSON fails the schema (wrong types, a required field missing)
``length``     a 200 with ``finish_reason: "length"`` and the JSON cut in half
============== ===============================================================================

In-process use (a background thread with its own event loop)::

    with StubServer(delay=0.0, faults=fail_first("429", 1)) as stub:
        client = openai.OpenAI(base_url=stub.base_url, api_key="x")
        ...
        assert stub.requests == 2 and stub.fault_counts == {"429": 1, "ok": 1}

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
from collections import Counter, OrderedDict
from typing import Any, Callable, NamedTuple, Optional

from aiohttp import web

__all__ = [
    "FAULTS",
    "FaultHook",
    "LogEntry",
    "StubProcess",
    "StubServer",
    "always",
    "by_marker",
    "chain",
    "default_answer",
    "fail_first",
    "faults_from_spec",
    "instance_for_schema",
    "invalid_instance_for_schema",
    "message_hash",
    "random_mix",
    "request_text",
    "summary_of",
]

MODEL = "stub-model"

#: The fault names a hook may return.
FAULTS: tuple[str, ...] = (
    "429",
    "500",
    "503",
    "slow",
    "drop",
    "invalid_json",
    "schema_fail",
    "length",
    "401",
    "404",
    "400_context",
    "html",
)

#: ``(request body, attempt) -> fault name or None``; ``attempt`` is 1-based.
FaultHook = Callable[[dict, int], Optional[str]]


class LogEntry(NamedTuple):
    """One chat-completions request: wall-clock time, prompt hash, injected fault (or None)."""

    time: float
    key: str
    fault: Optional[str]


# --------------------------------------------------------------------------------------
# Request text helpers
# --------------------------------------------------------------------------------------


def message_hash(text: str) -> str:
    """Short stable hash (12 hex characters) of a prompt text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


#: Longest value :func:`summary_of` gives (a schema's ``maxLength`` at or above it keeps
#: the answer templatable).
SUMMARY_MAX_CHARS = 200
#: In a prompt, makes :func:`summary_of` answer debris instead of a sentence, as a small
#: model does (exercises the summary gate: re-ask, then an extractive summary).
JUNK_SUMMARY = "[[junk-summary]]"


def summary_of(text: str) -> str:
    """A sentence about ``text`` that a summary gate accepts: ``"A stub summary of "``
    and the first 24 words of ``text`` as one sentence (fault markers and the words' final
    periods left out) and a period, at most :data:`SUMMARY_MAX_CHARS` characters.
    ``"{{#1}}"`` when ``text`` holds :data:`JUNK_SUMMARY`."""
    if JUNK_SUMMARY in text:
        return "{{#1}}"
    # One sentence: fault markers left out (they are not the paper's words), and no word's
    # final period (a client reads a summary up to its first sentence's end).
    words = [w.rstrip(".!?") for w in re.sub(r"\[\[[^\]]*\]\]", " ", text).split()]
    return ("A stub summary of " + " ".join(words[:24]))[: SUMMARY_MAX_CHARS - 1].rstrip(".") + "." if words else ""


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multi-part content: [{"type": "text", "text": ...}, ...]
        parts = []
        for part in content:
            if isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    parts.append(text)
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return str(content)


_MD_JSON_SUFFIX = "\n\nReturn the correct JSON response within a ```json codeblock. not the JSON_SCHEMA"


def _scan_messages(body: dict) -> tuple[str, int]:
    """(prompt text, total characters of all message text)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return "", 0
    key_text: Optional[str] = None
    last_user: Optional[str] = None
    total = 0
    seen_assistant = False
    for message in messages:
        if not isinstance(message, dict):
            continue
        text = _content_text(message.get("content"))
        total += len(text)
        role = message.get("role")
        if role == "assistant":
            seen_assistant = True
        elif role == "user":
            last_user = text
            if not seen_assistant:
                key_text = text
    if key_text is None:
        key_text = last_user if last_user is not None else ""
    if key_text.endswith(_MD_JSON_SUFFIX):  # instructor's Mode.MD_JSON appends this
        key_text = key_text[: -len(_MD_JSON_SUFFIX)]
    return key_text, total


def request_text(body: dict) -> str:
    """The prompt text that identifies a request (see the module docstring)."""
    return _scan_messages(body)[0]


# --------------------------------------------------------------------------------------
# JSON schema -> instance
# --------------------------------------------------------------------------------------

_SOFT_DEPTH = 6  # past this: optional things are left out (null, [] and required-only objects)
_HARD_DEPTH = 40  # past this: give up with null (a schema recursing through required fields)
_TYPE_ORDER = ("object", "array", "string", "integer", "number", "boolean", "null")


def _resolve_pointer(root: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        return {}
    node = root
    for part in ref[1:].split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part, {})
        elif isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                return {}
        else:
            return {}
    return node


# Placeholders for a per-schema answer template (private-use characters survive json.dumps
# with ensure_ascii=False unchanged); each request then only substitutes its own values.
_SLOT_MARK = "\ue000"
_SUMMARY_SLOT = "\ue000stub-summary\ue001"
_TAG_SLOT = "\ue000stub-tag\ue001"


class _Walker:
    def __init__(self, root: Any, summary: str, tag: str) -> None:
        self.root = root
        self.summary = summary
        self.tag = tag
        self.active: list[str] = []  # $refs being expanded on the current path
        self.templatable = True  # False: the slots were transformed, not copied

    # -- schema normalisation ------------------------------------------------------
    def resolve(self, schema: Any, seen: int = 0) -> Any:
        """Follow ``$ref`` and merge ``allOf`` into one dict schema."""
        if not isinstance(schema, dict):
            return schema
        if "$ref" in schema and seen < 50:
            target = self.resolve(_resolve_pointer(self.root, schema["$ref"]), seen + 1)
            extra = {k: v for k, v in schema.items() if k != "$ref"}
            if not extra:
                return target
            merged = dict(target) if isinstance(target, dict) else {}
            merged.update(extra)
            return merged
        if "allOf" in schema and isinstance(schema["allOf"], list) and seen < 50:
            merged: dict = {k: v for k, v in schema.items() if k != "allOf"}
            for sub in schema["allOf"]:
                sub = self.resolve(sub, seen + 1)
                if not isinstance(sub, dict):
                    continue
                for k, v in sub.items():
                    if k == "properties" and isinstance(v, dict):
                        merged["properties"] = {**merged.get("properties", {}), **v}
                    elif k == "required" and isinstance(v, list):
                        merged["required"] = list(dict.fromkeys([*merged.get("required", []), *v]))
                    else:
                        merged.setdefault(k, v)
            return merged
        return schema

    @staticmethod
    def _types(schema: dict) -> list[str]:
        t = schema.get("type")
        if isinstance(t, str):
            return [t]
        if isinstance(t, list):
            return [x for x in t if isinstance(x, str)]
        if "properties" in schema or "additionalProperties" in schema or "required" in schema:
            return ["object"]
        if "items" in schema or "prefixItems" in schema:
            return ["array"]
        return []

    # -- valid instances -----------------------------------------------------------
    def _cyclic(self, schema: Any) -> bool:
        return isinstance(schema, dict) and schema.get("$ref") in self.active

    def value(self, schema: Any, name: Optional[str], depth: int) -> Any:
        if depth > _HARD_DEPTH:
            return None
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            if ref in self.active:  # recursion: keep only what is required from here on
                depth = max(depth, _SOFT_DEPTH)
            self.active.append(ref)
            try:
                return self._value(self.resolve(schema), name, depth)
            finally:
                self.active.pop()
        return self._value(self.resolve(schema), name, depth)

    def _value(self, schema: Any, name: Optional[str], depth: int) -> Any:
        if schema is True or not isinstance(schema, dict):
            return self._string({}, name)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            for item in enum:
                if item is not None:
                    return item
            return enum[0]
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                non_null = [
                    b
                    for b in branches
                    if not (isinstance(b, dict) and self._types(self.resolve(b)) == ["null"])
                ]
                if len(non_null) < len(branches) and (
                    depth >= _SOFT_DEPTH or all(self._cyclic(b) for b in non_null)
                ):
                    return None
                branch = non_null[0] if non_null else branches[0]
                base = {k: v for k, v in schema.items() if k not in (key, "type", "$defs", "definitions")}
                if isinstance(branch, dict) and base:
                    branch = {**base, **branch}
                return self.value(branch, name, depth)
        types = self._types(schema)
        non_null = [t for t in types if t != "null"]
        if types and not non_null:
            return None
        kind = non_null[0] if non_null else "string"
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, name, depth)
        if kind == "integer":
            return self._number(schema, integer=True)
        if kind == "number":
            return self._number(schema, integer=False)
        if kind == "boolean":
            return True
        return self._string(schema, name)

    def _object(self, schema: dict, depth: int) -> dict:
        props = schema.get("properties")
        required = schema.get("required") or []
        out: dict = {}
        if isinstance(props, dict):
            for prop, sub in props.items():
                if depth >= _SOFT_DEPTH and prop not in required:
                    continue
                out[prop] = self.value(sub, prop, depth + 1)
        extra = schema.get("additionalProperties")
        if not out and isinstance(extra, dict) and depth < _SOFT_DEPTH:
            out["key"] = self.value(extra, "key", depth + 1)
        return out

    def _array(self, schema: dict, name: Optional[str], depth: int) -> list:
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            return [self.value(sub, name, depth + 1) for sub in prefix]
        lo = schema.get("minItems") or 0
        n = max(lo, 0 if depth >= _SOFT_DEPTH or self._cyclic(schema.get("items")) else 1)
        hi = schema.get("maxItems")
        if isinstance(hi, int):
            n = min(n, hi)
        items = schema.get("items", {})
        if n == 0:
            return []
        first = self.value(items, name, depth + 1)
        return [first] * n

    @staticmethod
    def _number(schema: dict, integer: bool) -> Any:
        lo = schema.get("minimum")
        hi = schema.get("maximum")
        xlo = schema.get("exclusiveMinimum")
        xhi = schema.get("exclusiveMaximum")
        step = 1 if integer else 0.5
        if isinstance(xlo, (int, float)) and not isinstance(xlo, bool):
            lo = max(lo, xlo + step) if isinstance(lo, (int, float)) else xlo + step
        if isinstance(xhi, (int, float)) and not isinstance(xhi, bool):
            hi = min(hi, xhi - step) if isinstance(hi, (int, float)) else xhi - step
        value: float = 1
        if isinstance(lo, (int, float)) and value < lo:
            value = lo
        if isinstance(hi, (int, float)) and value > hi:
            value = hi
            if isinstance(lo, (int, float)) and value < lo:  # a narrow exclusive range
                value = (lo + hi) / 2 if not integer else lo
        if integer:
            return int(math.ceil(value)) if isinstance(lo, (int, float)) else int(value)
        return float(value)

    def _string(self, schema: dict, name: Optional[str]) -> str:
        fmt = schema.get("format")
        tag = self.tag
        if fmt in ("uri", "url", "iri", "uri-reference"):
            text = f"https://example.org/{tag}"
        elif fmt == "date-time":
            text = "2024-01-01T00:00:00Z"
        elif fmt == "date":
            text = "2024-01-01"
        elif fmt == "time":
            text = "00:00:00Z"
        elif fmt == "duration":
            text = "PT1S"
        elif fmt == "email":
            text = f"stub-{tag}@example.org"
        elif fmt == "uuid":
            self.templatable = False  # derived from the tag, not a copy of it
            h = hashlib.md5(tag.encode()).hexdigest()
            text = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
        elif fmt in ("ipv4",):
            text = "127.0.0.1"
        elif fmt in ("ipv6",):
            text = "::1"
        elif name == "summary":
            text = self.summary
        else:
            text = tag
        lo = schema.get("minLength")
        hi = schema.get("maxLength")
        longest = SUMMARY_MAX_CHARS if _SUMMARY_SLOT in text else len(_TAG_SLOT)  # what the slot may become
        if _SLOT_MARK in text and ((isinstance(lo, int) and lo > 0) or (isinstance(hi, int) and hi < longest)):
            self.templatable = False  # the length depends on the real value
        if isinstance(lo, int) and len(text) < lo:
            text = (text or "x") * (lo // max(len(text), 1) + 1)
            text = text[: max(lo, 1)]
        if isinstance(hi, int) and len(text) > hi:
            text = text[:hi]
        return text

    # -- invalid instances (for "schema_fail") -----------------------------------
    def _accepted_types(self, schema: Any, depth: int = 0) -> Optional[set[str]]:
        """JSON types accepting *any* value of the type; None means anything goes."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or depth > 20:
            return None
        if "const" in schema or "enum" in schema:
            return set()
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                out: set[str] = set()
                for b in branches:
                    sub = self._accepted_types(b, depth + 1)
                    if sub is None:
                        return None
                    out |= sub
                return out
        types = self._types(schema)
        if not types:
            return None
        out = set(types)
        if "number" in out:
            out.add("integer")
        return out

    def wrong_value(self, schema: Any) -> Any:
        """A value of a type the schema does not accept (``_NOTHING`` when none exists)."""
        accepted = self._accepted_types(schema)
        if accepted is None:
            return _NOTHING
        for kind, candidate in (
            ("string", "__stub_schema_fail__"),
            ("object", {"__stub_schema_fail__": True}),
            ("integer", 12345),
            ("array", ["__stub_schema_fail__"]),
        ):
            if kind not in accepted:
                return candidate
        return _NOTHING

    def invalid(self) -> Any:
        root = self.resolve(self.root)
        if isinstance(root, dict) and "object" in self._types(root):
            props = root.get("properties") if isinstance(root.get("properties"), dict) else {}
            required = [r for r in root.get("required") or [] if isinstance(r, str)]
            out: dict = {}
            for prop, sub in props.items():
                wrong = self.wrong_value(sub)
                if wrong is not _NOTHING:
                    out[prop] = wrong
            for prop in required[:1]:  # also leave a required field out
                out.pop(prop, None)
            if out or required:
                return out
            return ["__stub_schema_fail__"]  # an array where an object is expected
        wrong = self.wrong_value(root)
        return None if wrong is _NOTHING else wrong


_NOTHING = object()


def instance_for_schema(schema: Any, *, summary: str = "", tag: str = "stub") -> Any:
    """A JSON value valid against ``schema``: ``summary`` fields get ``summary``, other
    free strings get ``tag``; arrays get one item (or ``minItems``)."""
    return _Walker(schema, summary, tag).value(schema, None, 0)


def invalid_instance_for_schema(schema: Any, *, summary: str = "", tag: str = "stub") -> Any:
    """A JSON value that fails ``schema``: wrong-typed properties and a required field missing."""
    return _Walker(schema, summary, tag).invalid()


#: The shape of :func:`default_answer` (used to build a failing answer for ``schema_fail``).
DEFAULT_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "id": {"type": "string"},
        "extractions": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["summary", "id", "extractions"],
}


def default_answer(text: str) -> dict:
    """The answer when no schema is known: the summary, the hash, and a langextract-shaped
    ``extractions`` list."""
    return _default_value(summary_of(text), message_hash(text))


def _default_value(summary: str, tag: str) -> dict:
    return {
        "summary": summary,
        "id": tag,
        "extractions": [{"summary": summary, "summary_attributes": {"id": tag}}],
    }


def _schema_in_text(text: str) -> Optional[dict]:
    """Best effort: the first JSON object in ``text`` that looks like a JSON schema."""
    if '"properties"' not in text and '"$defs"' not in text:
        return None
    decoder = json.JSONDecoder()
    start = text.find("{")
    tries = 0
    while start != -1 and tries < 64:
        tries += 1
        try:
            obj, end = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(obj, dict) and ("properties" in obj or "$defs" in obj or "anyOf" in obj):
            return obj
        start = text.find("{", end)
    return None


# --------------------------------------------------------------------------------------
# Fault hooks
# --------------------------------------------------------------------------------------


def _check_fault(name: str) -> str:
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
    return name


def fail_first(fault: str, n: int = 1) -> FaultHook:
    """``fault`` for the first ``n`` attempts of every request, then success."""
    _check_fault(fault)

    def hook(body: dict, attempt: int) -> Optional[str]:
        return fault if attempt <= n else None

    hook.__name__ = f"fail_first({fault!r}, {n})"
    return hook


def always(fault: str) -> FaultHook:
    """``fault`` for every attempt of every request."""
    _check_fault(fault)

    def hook(body: dict, attempt: int) -> Optional[str]:
        return fault

    hook.__name__ = f"always({fault!r})"
    return hook


_MARKER = re.compile(r"\[\[fault:([a-z0-9_]+?)(?:x(\d+))?\]\]")


def by_marker() -> FaultHook:
    """Faults named in the prompt text: ``[[fault:429x2]]`` = 429 for the first 2 attempts,
    ``[[fault:503]]`` (no count) = 503 on every attempt. Several markers apply in order:
    ``[[fault:429x1]][[fault:500x1]]`` = 429, then 500, then success."""
    cache: dict[str, list[tuple[str, Optional[int]]]] = {}

    def hook(body: dict, attempt: int) -> Optional[str]:
        text = request_text(body)
        if "[[fault:" not in text:
            return None
        key = message_hash(text)
        plan = cache.get(key)
        if plan is None:
            plan = [(m.group(1), int(m.group(2)) if m.group(2) else None) for m in _MARKER.finditer(text)]
            if len(cache) > 100_000:
                cache.clear()
            cache[key] = plan
        seen = 0
        for fault, count in plan:
            if count is None:
                return fault
            if attempt <= seen + count:
                return fault
            seen += count
        return None

    return hook


def random_mix(
    faults: "list[str] | tuple[str, ...] | str",
    rate: float,
    seed: int = 0,
    max_failures_per_request: int = 1,
) -> FaultHook:
    """A fraction ``rate`` of requests (chosen by prompt hash and ``seed``, so the same
    requests fail whatever the arrival order) fails its first 1..``max_failures_per_request``
    attempts, each with a fault drawn from ``faults``; later attempts succeed."""
    if isinstance(faults, str):
        faults = [faults]
    faults = [_check_fault(f) for f in faults]
    if not faults:
        raise ValueError("random_mix needs at least one fault")
    max_failures_per_request = max(1, int(max_failures_per_request))
    plans: dict[str, tuple[str, ...]] = {}

    def hook(body: dict, attempt: int) -> Optional[str]:
        key = message_hash(request_text(body))
        plan = plans.get(key)
        if plan is None:
            rng = random.Random(f"{seed}:{key}")
            if rng.random() < rate:
                n = rng.randint(1, max_failures_per_request)
                plan = tuple(rng.choice(faults) for _ in range(n))
            else:
                plan = ()
            if len(plans) > 100_000:
                plans.clear()
            plans[key] = plan
        return plan[attempt - 1] if attempt <= len(plan) else None

    return hook


def chain(*hooks: Optional[FaultHook]) -> FaultHook:
    """The first non-None answer of ``hooks``."""
    active = [h for h in hooks if h is not None]

    def hook(body: dict, attempt: int) -> Optional[str]:
        for h in active:
            fault = h(body, attempt)
            if fault is not None:
                return fault
        return None

    return hook


def faults_from_spec(spec: Optional[str]) -> Optional[FaultHook]:
    """Build a hook from a string (``+``-separated parts, combined with :func:`chain`):

    * ``none`` or empty: no faults;
    * ``marker``: :func:`by_marker`;
    * ``always:FAULT``; ``first:FAULT:N``;
    * ``random:FAULT,FAULT:RATE[:SEED[:MAX_FAILURES]]``.

    e.g. ``marker+random:429,503:0.1:7:2``.
    """
    if spec is None or spec.strip().lower() in ("", "none"):
        return None
    hooks: list[FaultHook] = []
    for part in spec.split("+"):
        bits = part.strip().split(":")
        kind = bits[0].lower()
        try:
            if kind == "marker" and len(bits) == 1:
                hooks.append(by_marker())
            elif kind == "always" and len(bits) == 2:
                hooks.append(always(bits[1]))
            elif kind == "first" and len(bits) == 3:
                hooks.append(fail_first(bits[1], int(bits[2])))
            elif kind == "random" and 3 <= len(bits) <= 5:
                hooks.append(
                    random_mix(
                        [f for f in bits[1].split(",") if f],
                        float(bits[2]),
                        int(bits[3]) if len(bits) > 3 else 0,
                        int(bits[4]) if len(bits) > 4 else 1,
                    )
                )
            else:
                raise ValueError("bad form")
        except ValueError as exc:
            raise ValueError(f"bad fault spec part {part!r}: {exc}") from None
    return hooks[0] if len(hooks) == 1 else chain(*hooks)


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


def _schema_key(schema: Any) -> str:
    """A cheap exact fingerprint of a parsed JSON schema (marshal is ~4x faster than json)."""
    if schema is None:
        return "-"
    try:
        data = marshal.dumps(schema, 2)
    except (ValueError, RecursionError):
        data = json.dumps(schema, sort_keys=True).encode()
    return hashlib.blake2b(data, digest_size=10).hexdigest()


def _error_body(message: str, type_: str, code: Optional[str], param: Optional[str] = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": type_, "param": param, "code": code}}).encode()


class StubServer:
    """OpenAI-compatible chat-completions server on 127.0.0.1 (see the module docstring).

    Args:
        port: 0 picks a free port.
        delay: seconds every chat request waits (``asyncio.sleep``) before answering;
            settable later through the ``delay`` attribute.
        faults: a :data:`FaultHook` (or a spec string for :func:`faults_from_spec`);
            settable later through the ``faults`` attribute.
        slow_seconds: how long the ``slow`` fault waits before answering.
        retry_after: seconds advertised by the ``429`` fault, as ``retry-after-ms``
            (milliseconds) and ``Retry-After`` (whole seconds, rounded up, per the spec).
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
        log_limit: int = 1_000_000,
    ) -> None:
        self.host = host
        self.port = port
        self.delay = float(delay)
        self.faults: Optional[FaultHook] = faults_from_spec(faults) if isinstance(faults, str) else faults
        self.slow_seconds = float(slow_seconds)
        self.retry_after = float(retry_after)
        self.model = model
        self.shutdown_timeout = shutdown_timeout
        self.log_limit = log_limit

        self._lock = threading.Lock()
        self._requests = 0
        self._fault_counts: Counter[str] = Counter()
        self._attempts: dict[str, int] = {}
        self._log: list[LogEntry] = []
        self._seq = 0

        self._answers: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._templates: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._prompt_schemas: OrderedDict[str, Optional[dict]] = OrderedDict()
        self._cache_size = 8192

        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner: Optional[web.AppRunner] = None
        self._tasks: set[asyncio.Task] = set()

    # -- lifecycle -----------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no ``/v1``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: what an OpenAI client takes as ``base_url``."""
        return self.url + "/v1"

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        app.router.add_get("/_stub/stats", self._http_stats)
        app.router.add_post("/_stub/reset", self._http_reset)
        app.router.add_post("/_stub/config", self._http_config)
        return app

    async def astart(self) -> None:
        """Start serving on the running event loop (used by ``start()`` and the script)."""
        self._loop = asyncio.get_running_loop()
        self._runner = web.AppRunner(
            self.make_app(),
            access_log=None,
            handler_cancellation=True,  # a client that hangs up cancels its handler
            shutdown_timeout=self.shutdown_timeout,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def astop(self) -> None:
        """Stop serving (on the server's loop): in-flight requests get ``shutdown_timeout``
        seconds, then are cancelled."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        for task in list(self._tasks):
            task.cancel()

    def start(self) -> "StubServer":
        """Serve from a background thread with its own event loop; returns when ready."""
        if self._thread is not None:
            raise RuntimeError("StubServer already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.astart())
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                failure.append(exc)
                try:
                    loop.run_until_complete(self.astop())
                finally:
                    ready.set()
                    loop.close()
                return
            ready.set()
            try:
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
        self.faults = faults_from_spec(faults) if isinstance(faults, str) else faults

    # -- counters ------------------------------------------------------------------
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

    @property
    def attempts(self) -> dict[str, int]:
        """Requests seen per prompt hash (:func:`message_hash` of :func:`request_text`)."""
        with self._lock:
            return dict(self._attempts)

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

    # -- handlers ------------------------------------------------------------------
    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": self.model, "object": "model", "created": 0, "owned_by": "stub"}],
            }
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
            if task is not None:
                self._tasks.discard(task)

    async def _chat_inner(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            return self._error(400, f"We could not parse the JSON body of your request: {exc}", "invalid_request_error", None)

        text, prompt_chars = _scan_messages(body)
        key = message_hash(text)
        with self._lock:
            self._requests += 1
            attempt = self._attempts.get(key, 0) + 1
            self._attempts[key] = attempt
            self._seq += 1
            seq = self._seq

        fault: Optional[str] = None
        hook = self.faults
        hook_error: Optional[str] = None
        if hook is not None:
            try:
                fault = hook(body, attempt)
            except Exception:  # noqa: BLE001 - a broken hook becomes a visible 500
                hook_error = traceback.format_exc(limit=3)
                fault = "hook_error"
        with self._lock:
            self._fault_counts[fault or "ok"] += 1
            if len(self._log) < self.log_limit:
                self._log.append(LogEntry(time.time(), key, fault))

        if self.delay > 0:
            await asyncio.sleep(self.delay)

        if fault is None or fault in ("schema_fail", "length", "drop", "invalid_json", "slow"):
            if fault == "slow":
                await asyncio.sleep(self.slow_seconds)
                fault = None
            return await self._completion(request, body, text, key, prompt_chars, seq, fault)
        if fault == "429":
            headers = {
                "retry-after": str(max(0, math.ceil(self.retry_after))),
                "retry-after-ms": str(int(round(self.retry_after * 1000))),
                "x-ratelimit-remaining-requests": "0",
            }
            return self._error(
                429,
                f"Rate limit reached for {body.get('model', self.model)} (stub). "
                f"Please try again in {int(self.retry_after * 1000)}ms.",
                "requests",
                "rate_limit_exceeded",
                headers=headers,
            )
        if fault == "500":
            return self._error(
                500,
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
            )
        if fault == "503":
            return self._error(
                503, "The engine is currently overloaded, please try again later.", "server_error", None
            )
        if fault == "401":
            return self._error(
                401,
                "Incorrect API key provided: x. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            )
        if fault == "404":
            return self._error(
                404,
                f"The model `{body.get('model', '')}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
                param="model",
            )
        if fault == "400_context":
            tokens = prompt_chars // 4
            return self._error(
                400,
                "This model's maximum context length is 8192 tokens. However, your messages "
                f"resulted in {max(tokens, 8193)} tokens. Please reduce the length of the messages.",
                "invalid_request_error",
                "context_length_exceeded",
                param="messages",
            )
        if fault == "html":
            page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
            return web.Response(status=200, body=page, content_type="text/html")
        if fault == "hook_error":
            return self._error(500, f"stub fault hook raised:\n{hook_error}", "stub_error", "hook_error")
        return self._error(500, f"stub: unknown fault {fault!r}; known: {', '.join(FAULTS)}", "stub_error", "unknown_fault")

    def _error(
        self,
        status: int,
        message: str,
        type_: str,
        code: Optional[str],
        param: Optional[str] = None,
        headers: Optional[dict] = None,
    ) -> web.Response:
        return web.Response(
            status=status,
            body=_error_body(message, type_, code, param),
            content_type="application/json",
            headers=headers,
        )

    # -- answers -------------------------------------------------------------------
    def _target(self, body: dict) -> tuple[str, Any, Optional[str]]:
        """(how to answer: "tools" | "functions" | "content", schema or None, tool name)."""
        tools = body.get("tools")
        choice = body.get("tool_choice")
        if isinstance(tools, list) and tools and choice != "none":
            wanted = None
            if isinstance(choice, dict):
                fn = choice.get("function")
                wanted = fn.get("name") if isinstance(fn, dict) else choice.get("name")
            chosen = None
            for tool in tools:
                fn = tool.get("function", tool) if isinstance(tool, dict) else {}
                if wanted is None or fn.get("name") == wanted:
                    chosen = fn
                    break
            if chosen is None:
                first = tools[0]
                chosen = first.get("function", first) if isinstance(first, dict) else {}
            return "tools", chosen.get("parameters") or {"type": "object", "properties": {}}, chosen.get("name", "tool")
        functions = body.get("functions")
        if isinstance(functions, list) and functions and body.get("function_call") != "none":
            call = body.get("function_call")
            wanted = call.get("name") if isinstance(call, dict) else None
            chosen = next((f for f in functions if f.get("name") == wanted), functions[0])
            return "functions", chosen.get("parameters") or {"type": "object", "properties": {}}, chosen.get("name", "function")
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            js = fmt.get("json_schema") or {}
            schema = js.get("schema", js.get("schema_")) if isinstance(js, dict) else None
            if schema is not None:
                return "content", schema, None
        return "content", None, None

    def _prompt_schema(self, body: dict) -> Optional[dict]:
        messages = body.get("messages")
        if not isinstance(messages, list):
            return None
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in ("system", "developer", "user"):
                continue
            text = _content_text(message.get("content"))
            if '"properties"' not in text and '"$defs"' not in text:
                continue
            h = message_hash(text)
            if h in self._prompt_schemas:
                schema = self._prompt_schemas[h]
            else:
                schema = _schema_in_text(text)
                self._remember(self._prompt_schemas, h, schema)
            if schema is not None:
                return schema
        return None

    def _remember(self, cache: OrderedDict, key: Any, value: Any) -> None:
        cache[key] = value
        if len(cache) > self._cache_size:
            cache.popitem(last=False)

    def _answer(self, schema: Any, text: str, key: str, fault: Optional[str]) -> str:
        """The JSON text of the answer.

        The instance is built once per (schema, answer kind) as a JSON template with
        placeholders for the summary and the hash; a request then only substitutes its own
        values. Schemas whose strings cannot be templated (length limits on them, uuids)
        are walked per request, cached per (schema, prompt).
        """
        schema_key = _schema_key(schema)
        kind = "bad" if fault == "schema_fail" else "ok"
        template = self._templates.get((schema_key, kind))
        if template is None:
            template = self._build(schema, kind, _SUMMARY_SLOT, _TAG_SLOT)
            if template is None:
                template = ""  # not templatable
            self._remember(self._templates, (schema_key, kind), template)
        if template:
            out = template
            if _SUMMARY_SLOT in out:
                out = out.replace(_SUMMARY_SLOT, json.dumps(summary_of(text), ensure_ascii=False)[1:-1])
            return out.replace(_TAG_SLOT, key)
        cache_key = (schema_key, key, kind)
        answer = self._answers.get(cache_key)
        if answer is None:
            answer = self._build(schema, kind, summary_of(text), key) or "{}"
            self._remember(self._answers, cache_key, answer)
        return answer

    @staticmethod
    def _build(schema: Any, kind: str, summary: str, tag: str) -> Optional[str]:
        """JSON text of the instance; None when a template was asked for but is impossible."""
        if kind == "bad":
            walker = _Walker(DEFAULT_SCHEMA if schema is None else schema, summary, tag)
            value = walker.invalid()
        elif schema is None:
            walker = None
            value = _default_value(summary, tag)
        else:
            walker = _Walker(schema, summary, tag)
            value = walker.value(schema, None, 0)
        if walker is not None and not walker.templatable and summary == _SUMMARY_SLOT:
            return None
        return json.dumps(value, ensure_ascii=False)

    async def _completion(
        self,
        request: web.Request,
        body: dict,
        text: str,
        key: str,
        prompt_chars: int,
        seq: int,
        fault: Optional[str],
    ) -> web.StreamResponse:
        how, schema, tool_name = self._target(body)
        if how == "content" and schema is None:
            schema = self._prompt_schema(body)
        answer = self._answer(schema, text, key, fault)
        finish = "stop"
        if fault == "length":
            answer = answer[: max(1, len(answer) // 2)]
            finish = "length"
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        if how == "tools":
            message["tool_calls"] = [
                {
                    "id": f"call_{key}{seq}",
                    "type": "function",
                    "function": {"name": tool_name, "arguments": answer},
                }
            ]
            if finish == "stop" and not isinstance(body.get("tool_choice"), dict):
                finish = "tool_calls"
        elif how == "functions":
            message["function_call"] = {"name": tool_name, "arguments": answer}
            if finish == "stop":
                finish = "function_call"
        else:
            message["content"] = answer
        payload = {
            "id": f"chatcmpl-stub{seq}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "system_fingerprint": "fp_stub",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt_chars // 4,
                "completion_tokens": len(answer) // 4,
                "total_tokens": prompt_chars // 4 + len(answer) // 4,
            },
        }
        headers = {"x-request-id": f"req_stub{seq}"}
        if body.get("stream"):
            return await self._stream(request, body, payload, headers, fault)
        data = json.dumps(payload, ensure_ascii=False).encode()
        if fault == "invalid_json":
            bad = b'{"id": "chatcmpl-stub' + str(seq).encode() + b'", "object": "chat.completion", "choices": [<html>Bad Gateway</html>'
            return web.Response(status=200, body=bad, content_type="application/json", headers=headers)
        if fault == "drop":
            return await self._drop(request, data, headers)
        return web.Response(status=200, body=data, content_type="application/json", headers=headers)

    async def _stream(
        self, request: web.Request, body: dict, payload: dict, headers: dict, fault: Optional[str]
    ) -> web.StreamResponse:
        """``stream: true``: the same answer as server-sent events (role, two halves, finish,
        optional usage, ``[DONE]``). ``drop`` closes after the first half; ``invalid_json``
        sends an event that is not JSON."""
        choice = payload["choices"][0]
        message = choice["message"]
        base = {k: payload[k] for k in ("id", "created", "model", "system_fingerprint")}
        base["object"] = "chat.completion.chunk"

        def event(delta: dict, finish: Optional[str] = None) -> bytes:
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
            return b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n"

        if message.get("tool_calls"):
            call = message["tool_calls"][0]
            text = call["function"]["arguments"]
            first = {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"index": 0, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"], "arguments": ""}}],
            }

            def part(piece: str) -> dict:
                return {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}

        elif message.get("function_call"):
            text = message["function_call"]["arguments"]
            first = {"role": "assistant", "content": None, "function_call": {"name": message["function_call"]["name"], "arguments": ""}}

            def part(piece: str) -> dict:
                return {"function_call": {"arguments": piece}}

        else:
            text = message["content"] or ""
            first = {"role": "assistant", "content": ""}

            def part(piece: str) -> dict:
                return {"content": piece}

        half = len(text) // 2
        resp = web.StreamResponse(status=200, headers={**headers, "Cache-Control": "no-cache"})
        resp.content_type = "text/event-stream"
        await resp.prepare(request)
        await resp.write(event(first) + event(part(text[:half])))
        if fault == "drop":
            if request.transport is not None:
                request.transport.close()
            return resp
        if fault == "invalid_json":
            await resp.write(b"data: {not json <html>\n\n")
        tail = event(part(text[half:])) + event({}, choice["finish_reason"])
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            tail += b"data: " + json.dumps({**base, "choices": [], "usage": payload["usage"]}).encode() + b"\n\n"
        await resp.write(tail + b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def _drop(self, request: web.Request, data: bytes, headers: dict) -> web.StreamResponse:
        """Headers and the first half of the body, then close the connection."""
        resp = web.StreamResponse(status=200, headers=headers)
        resp.content_type = "application/json"
        resp.content_length = len(data)
        await resp.prepare(request)
        await resp.write(data[: len(data) // 2])
        transport = request.transport
        if transport is not None:
            transport.close()  # flushes the half body, then FIN: the body is cut short
        return resp


# --------------------------------------------------------------------------------------
# Separate process
# --------------------------------------------------------------------------------------


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
        extra_args: "list[str] | tuple[str, ...]" = (),
    ) -> None:
        self.args = [
            python,
            os.path.abspath(__file__),
            "--port",
            str(port),
            "--delay",
            str(delay),
            "--slow-seconds",
            str(slow_seconds),
            "--retry-after",
            str(retry_after),
            *(["--faults", faults] if faults else []),
            *extra_args,
        ]
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
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith("http"):
            self.stop()
            raise RuntimeError(f"stub server process did not report its URL: {line!r}")
        self.base_url = line[0].strip()
        return self

    def _call(self, method: str, path: str, payload: Optional[dict] = None) -> dict:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
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
    return {
        "delay": args.delay,
        "faults": args.faults,
        "slow_seconds": args.slow_seconds,
        "retry_after": args.retry_after,
        "model": args.model,
    }


def main(argv: Optional[list[str]] = None) -> int:
    args = arg_parser().parse_args(argv)
    asyncio.run(_serve(StubServer(args.port, **server_options(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
