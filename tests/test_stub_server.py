"""Tests of tests/stub_server.py: the OpenAI-compatible loopback stub with fault injection.

Every test starts its own server (in-process thread, or a child process) on 127.0.0.1 and
stops it; clients use small timeouts so the file stays fast and bounded.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from enum import Enum
from typing import Optional

import instructor
import openai
import pytest
from instructor.core import IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel, Field, ValidationError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stub_server import (  # noqa: E402
    FAULTS,
    StubProcess,
    StubServer,
    always,
    by_marker,
    chain,
    fail_first,
    faults_from_spec,
    instance_for_schema,
    invalid_instance_for_schema,
    message_hash,
    random_mix,
    request_text,
    summary_of,
)

STUB_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stub_server.py")


class Contribution(str, Enum):
    method = "method"
    dataset = "dataset"
    survey = "survey"


class Gain(BaseModel):
    metric: str
    magnitude: float
    unit: Optional[str] = None


class Summary(BaseModel):
    summary: str
    contribution: Contribution
    code_link: Optional[str] = None
    gains: list[Gain] = Field(default_factory=list)
    year: int


PAPER = "Attention Is All You Need\nWe propose the Transformer, based solely on attention."


def user(text: str) -> list[dict]:
    return [{"role": "system", "content": "Extract the fields."}, {"role": "user", "content": text}]


@pytest.fixture
def stub():
    with StubServer() as server:
        yield server


_CLIENTS: list[openai.OpenAI] = []


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()
    # every test stops the servers it started
    assert not [t.name for t in threading.enumerate() if t.name.startswith("StubServer:")]


def make_client(base_url: str, **kw) -> openai.OpenAI:
    """An OpenAI client closed at the end of the test (no retries, short timeout by default)."""
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 5.0)
    c = openai.OpenAI(base_url=base_url, api_key="x", **kw)
    _CLIENTS.append(c)
    return c


def client(server: StubServer, **kw) -> openai.OpenAI:
    return make_client(server.base_url, **kw)


def tool_kwargs(model: type[BaseModel] = Summary) -> dict:
    return {
        "tools": [
            {
                "type": "function",
                "function": {"name": model.__name__, "parameters": model.model_json_schema()},
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": model.__name__}},
    }


# ---------------------------------------------------------------------------------------
# protocol and schema-valid answers
# ---------------------------------------------------------------------------------------


def test_models_and_base_url(stub):
    assert stub.base_url.startswith("http://127.0.0.1:") and stub.base_url.endswith("/v1")
    assert stub.port > 0
    ids = [m.id for m in client(stub).models.list()]
    assert ids == ["stub-model"]


def test_tools_answer_is_schema_valid_and_paper_specific(stub):
    resp = client(stub).chat.completions.create(model="stub-model", messages=user(PAPER), **tool_kwargs())
    choice = resp.choices[0]
    assert choice.finish_reason in ("stop", "tool_calls")
    call = choice.message.tool_calls[0]
    assert call.function.name == "Summary"
    obj = Summary.model_validate_json(call.function.arguments)
    assert obj.summary == summary_of(PAPER)
    assert obj.code_link == message_hash(PAPER)
    assert obj.contribution in Contribution and len(obj.gains) == 1
    # usage: ~chars/4 of all message text, and of the answer
    chars = len("Extract the fields.") + len(PAPER)
    assert resp.usage.prompt_tokens == chars // 4
    assert resp.usage.completion_tokens == len(call.function.arguments) // 4


def test_json_schema_response_format(stub):
    resp = client(stub).chat.completions.create(
        model="stub-model",
        messages=user(PAPER),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "Summary", "schema": Summary.model_json_schema(), "strict": False},
        },
    )
    assert resp.choices[0].finish_reason == "stop"
    obj = Summary.model_validate_json(resp.choices[0].message.content)
    assert obj.summary == summary_of(PAPER)


def test_json_object_and_plain_get_default_shape(stub):
    for extra in ({"response_format": {"type": "json_object"}}, {}):
        resp = client(stub).chat.completions.create(model="stub-model", messages=user(PAPER), **extra)
        data = json.loads(resp.choices[0].message.content)
        assert data["summary"] == summary_of(PAPER)
        assert data["id"] == message_hash(PAPER)
        assert isinstance(data["extractions"], list)


@pytest.mark.parametrize(
    "mode",
    [instructor.Mode.TOOLS, instructor.Mode.JSON_SCHEMA, instructor.Mode.JSON, instructor.Mode.MD_JSON],
    ids=lambda m: m.name,
)
def test_instructor_modes_get_validated_objects(stub, mode):
    ic = instructor.from_openai(client(stub), mode=mode)
    obj = ic.chat.completions.create(model="stub-model", response_model=Summary, messages=user(PAPER), max_retries=0)
    assert isinstance(obj, Summary)
    assert obj.summary == summary_of(PAPER)
    assert isinstance(obj.contribution, Contribution)
    assert obj.code_link == message_hash(PAPER)  # the optional field is filled too
    assert isinstance(obj.gains[0], Gain)
    assert stub.attempts_for(PAPER) == 1


def test_concurrent_answers_come_from_their_own_request(stub):
    papers = [f"Paper number {i}\nAbstract {i} " + "x" * i for i in range(24)]

    async def run() -> list[Summary]:
        aclient = openai.AsyncOpenAI(base_url=stub.base_url, api_key="x", max_retries=0, timeout=5)
        ic = instructor.from_openai(aclient, mode=instructor.Mode.TOOLS)
        try:
            return await asyncio.gather(
                *(ic.chat.completions.create(model="stub-model", response_model=Summary, messages=user(p)) for p in papers)
            )
        finally:
            await aclient.close()

    results = asyncio.run(run())
    for paper, obj in zip(papers, results):
        assert obj.summary == summary_of(paper) == "A stub summary of " + " ".join(w.rstrip(".!?") for w in paper.split()[:24]) + "."
        assert obj.code_link == message_hash(paper)
    assert stub.requests == len(papers) and stub.fault_counts == {"ok": len(papers)}


class Node(BaseModel):
    name: str
    children: list["Node"] = []
    parent: Optional["Node"] = None


class Odd(BaseModel):
    bounded: int = Field(ge=5, le=9)
    ratio: float = Field(gt=0, lt=1)
    code: str = Field(min_length=20, max_length=30)
    tags: dict[str, int]
    pair: tuple[int, str]
    either: int | str | None
    many: list[int] = Field(min_length=3)
    tree: Node
    flag: bool
    summary: Optional[str]


@pytest.mark.parametrize("model", [Summary, Node, Odd])
def test_schema_walker_valid_and_invalid(model):
    schema = model.model_json_schema()
    inst = instance_for_schema(schema, summary="Title", tag="abc123")
    model.model_validate(inst)
    with pytest.raises(ValidationError):
        model.model_validate(invalid_instance_for_schema(schema, tag="abc123"))


def test_per_request_values_escape_and_untemplatable_schemas(stub):
    # the answer is built once per schema and then filled per request: check tricky text,
    # and a schema whose strings cannot be templated (length limits) still answers per paper
    tricky = 'He said "hi" \\ café \u2603 \t tab\nsecond line'
    obj = Summary.model_validate_json(call(stub, tricky).choices[0].message.tool_calls[0].function.arguments)
    assert obj.summary == summary_of(tricky) == 'A stub summary of He said "hi" \\ café \u2603 tab second line.'
    for text in ("paper one", "paper two"):
        resp = client(stub).chat.completions.create(
            model="stub-model", messages=user(text), **tool_kwargs(Odd)
        )
        odd = Odd.model_validate_json(resp.choices[0].message.tool_calls[0].function.arguments)
        assert odd.summary == summary_of(text) and odd.code.startswith(message_hash(text))


def test_streaming(stub):
    c = client(stub)
    args, finish, usage = "", None, None
    stream = c.chat.completions.create(
        model="stub-model", messages=user(PAPER), stream=True, stream_options={"include_usage": True}, **tool_kwargs()
    )
    for chunk in stream:
        usage = chunk.usage or usage
        for ch in chunk.choices:
            if ch.delta.tool_calls:
                args += ch.delta.tool_calls[0].function.arguments or ""
            finish = ch.finish_reason or finish
    assert Summary.model_validate_json(args).summary == summary_of(PAPER)
    assert finish == "stop" and usage.completion_tokens == len(args) // 4
    ic = instructor.from_openai(c, mode=instructor.Mode.JSON_SCHEMA)
    # (a model without enums: instructor's Partial rejects enum values given as strings)
    *_, last = ic.chat.completions.create_partial(model="stub-model", response_model=Gain, messages=user(PAPER))
    assert last.metric == message_hash(PAPER) and last.magnitude == 1.0


def test_answer_follows_schema_in_prompt(stub):
    schema = json.dumps(Gain.model_json_schema())
    messages = [
        {"role": "system", "content": f"Answer with JSON matching this schema:\n{schema}\nOnly JSON."},
        {"role": "user", "content": PAPER},
    ]
    resp = client(stub).chat.completions.create(
        model="stub-model", messages=messages, response_format={"type": "json_object"}
    )
    Gain.model_validate_json(resp.choices[0].message.content)


# ---------------------------------------------------------------------------------------
# faults, one by one
# ---------------------------------------------------------------------------------------


def call(server: StubServer, text: str = PAPER, **kw):
    return client(server, **kw).chat.completions.create(model="stub-model", messages=user(text), **tool_kwargs())


def test_fault_429_with_retry_after_headers():
    with StubServer(faults=always("429"), retry_after=0.25) as s:
        with pytest.raises(openai.RateLimitError) as info:
            call(s)
        headers = info.value.response.headers
        assert headers["retry-after"] == "1"  # whole seconds, rounded up
        assert headers["retry-after-ms"] == "250"
        assert info.value.code == "rate_limit_exceeded"
        assert s.fault_counts == {"429": 1}


@pytest.mark.parametrize("fault", ["500", "503"])
def test_fault_5xx(stub, fault):
    stub.faults = always(fault)
    with pytest.raises(openai.InternalServerError) as info:
        call(stub)
    assert info.value.status_code == int(fault)
    assert info.value.body["type"] == "server_error"


@pytest.mark.parametrize(
    "fault, exc, status, code",
    [
        ("401", openai.AuthenticationError, 401, "invalid_api_key"),
        ("404", openai.NotFoundError, 404, "model_not_found"),
        ("400_context", openai.BadRequestError, 400, "context_length_exceeded"),
    ],
)
def test_fault_4xx_in_openai_shape(stub, fault, exc, status, code):
    stub.set_faults(always(fault))
    with pytest.raises(exc) as info:
        call(stub)
    assert info.value.status_code == status
    assert info.value.code == code
    assert info.value.type == "invalid_request_error"


def test_fault_slow_times_out_without_blocking_others():
    with StubServer(faults=by_marker(), slow_seconds=3.0) as s:
        errors: list[BaseException] = []

        def slow_call() -> None:
            try:
                call(s, "[[fault:slow]] a slow paper", timeout=0.5)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        t0 = time.monotonic()
        thread = threading.Thread(target=slow_call)
        thread.start()
        time.sleep(0.1)
        Summary.model_validate_json(call(s).choices[0].message.tool_calls[0].function.arguments)
        fast = time.monotonic() - t0
        thread.join(5)
        assert fast < 0.5  # the other request was answered while the slow one waited
        assert len(errors) == 1 and isinstance(errors[0], openai.APITimeoutError)
        assert time.monotonic() - t0 < 2.0
        t1 = time.monotonic()
    assert time.monotonic() - t1 < 2.0  # stop() does not wait for the slow handler


def test_fault_drop_cuts_body(stub):
    stub.faults = always("drop")
    with pytest.raises(openai.APIConnectionError) as info:
        call(stub)
    assert not isinstance(info.value, openai.APITimeoutError)
    # raw view: 200 + Content-Length, but the connection closes half-way through the body
    conn = http.client.HTTPConnection("127.0.0.1", stub.port, timeout=5)
    conn.request("POST", "/v1/chat/completions", body=json.dumps({"messages": user(PAPER)}))
    resp = conn.getresponse()
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()


def test_fault_invalid_json(stub):
    stub.faults = always("invalid_json")
    with pytest.raises(ValueError):  # openai raises json.JSONDecodeError for a bad JSON body
        call(stub)
    req = urllib.request.Request(stub.base_url + "/chat/completions", data=json.dumps({"messages": user(PAPER)}).encode())
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(resp.read())


def test_fault_schema_fail(stub):
    stub.faults = always("schema_fail")
    resp = call(stub)
    args = resp.choices[0].message.tool_calls[0].function.arguments
    json.loads(args)  # valid JSON ...
    with pytest.raises(ValidationError):  # ... that fails the schema
        Summary.model_validate_json(args)
    ic = instructor.from_openai(client(stub), mode=instructor.Mode.TOOLS)
    with pytest.raises(InstructorRetryException):
        ic.chat.completions.create(model="stub-model", response_model=Summary, messages=user(PAPER), max_retries=1)
    assert stub.attempts_for(PAPER) == 3


def test_fault_length(stub):
    stub.faults = always("length")
    resp = client(stub).chat.completions.create(
        model="stub-model",
        messages=user(PAPER),
        response_format={"type": "json_schema", "json_schema": {"name": "S", "schema": Summary.model_json_schema()}},
    )
    assert resp.choices[0].finish_reason == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.choices[0].message.content)
    for mode in (instructor.Mode.TOOLS, instructor.Mode.JSON_SCHEMA):
        ic = instructor.from_openai(client(stub), mode=mode)
        with pytest.raises(IncompleteOutputException):
            ic.chat.completions.create(model="stub-model", response_model=Summary, messages=user(PAPER), max_retries=0)


def test_every_fault_is_counted_and_logged(stub):
    stub.slow_seconds = 0.05
    for fault in FAULTS:
        stub.faults = always(fault)
        try:
            call(stub, timeout=2.0)
        except Exception:  # noqa: BLE001 - every kind of failure is expected here
            pass
    assert stub.fault_counts == {f: 1 for f in FAULTS}
    log = stub.log
    assert [e.fault for e in log] == list(FAULTS)
    assert all(e.key == message_hash(PAPER) for e in log)
    assert stub.attempts == {message_hash(PAPER): len(FAULTS)}
    assert [e.time for e in log] == sorted(e.time for e in log)
    stub.reset()
    assert stub.requests == 0 and stub.log == [] and stub.attempts == {} and stub.fault_counts == {}


# ---------------------------------------------------------------------------------------
# hooks, retries and attempt counting
# ---------------------------------------------------------------------------------------


def test_openai_retries_recover_from_fail_first():
    with StubServer(faults=fail_first("429", 2), retry_after=0.05) as s:
        resp = call(s, max_retries=2)
        Summary.model_validate_json(resp.choices[0].message.tool_calls[0].function.arguments)
        assert s.attempts_for(PAPER) == 3
        assert [e.fault for e in s.log] == ["429", "429", None]


def test_instructor_reask_is_same_request():
    # JSON_SCHEMA re-asks append an assistant + a user message; the attempt count must follow
    with StubServer(faults=fail_first("schema_fail", 1)) as s:
        ic = instructor.from_openai(client(s), mode=instructor.Mode.JSON_SCHEMA)
        obj = ic.chat.completions.create(model="stub-model", response_model=Summary, messages=user(PAPER), max_retries=2)
        assert obj.summary == summary_of(PAPER)
        assert s.attempts_for(PAPER) == 2
        assert s.fault_counts == {"schema_fail": 1, "ok": 1}


def test_hook_gets_body_and_attempt(stub):
    seen: list[tuple[str, int]] = []

    def hook(body: dict, attempt: int) -> Optional[str]:
        seen.append((request_text(body), attempt))
        return "429" if attempt == 1 and request_text(body) == PAPER else None

    stub.faults = hook
    call(stub, max_retries=1)
    call(stub, "other paper")
    assert seen == [(PAPER, 1), (PAPER, 2), ("other paper", 1)]
    assert [e.fault for e in stub.log] == ["429", None, None]


def test_by_marker(stub):
    stub.faults = by_marker()
    text = "Paper [[fault:503x2]]\nabstract"
    for expected in ("503", "503", None):
        try:
            call(stub, text)
            got = None
        except openai.InternalServerError:
            got = "503"
        assert got == expected
    seq = "Paper [[fault:429x1]][[fault:500x1]]"
    call(stub, seq, max_retries=2)
    assert [e.fault for e in stub.log[-3:]] == ["429", "500", None]
    with pytest.raises(openai.AuthenticationError):
        call(stub, "Paper [[fault:401]]", max_retries=2)  # no count: every attempt (401 is not retried)
    call(stub, "a paper without markers")
    assert stub.log[-1].fault is None


def test_random_mix_is_deterministic_and_bounded():
    hook = random_mix(["429", "503"], rate=0.5, seed=7, max_failures_per_request=2)
    same = random_mix(["429", "503"], rate=0.5, seed=7, max_failures_per_request=2)
    bodies = [{"messages": [{"role": "user", "content": f"paper {i}"}]} for i in range(200)]
    plans = [[hook(b, a) for a in (1, 2, 3)] for b in bodies]
    assert plans == [[same(b, a) for a in (3, 2, 1)][::-1] for b in bodies]  # order-independent
    failing = [p for p in plans if p[0] is not None]
    assert 60 < len(failing) < 140
    assert all(p[2] is None for p in plans)  # at most 2 failures per request
    assert any(p[1] is not None for p in plans) and all(f in (None, "429", "503") for p in plans for f in p)
    assert random_mix(["500"], rate=0.0)(bodies[0], 1) is None
    assert all(random_mix(["500"], rate=1.0)(b, 1) == "500" for b in bodies)
    assert [random_mix(["500"], 0.5, seed=1)(b, 1) for b in bodies] != [random_mix(["500"], 0.5, seed=2)(b, 1) for b in bodies]


def test_helpers_validate_and_spec():
    with pytest.raises(ValueError):
        always("418")
    with pytest.raises(ValueError):
        faults_from_spec("bogus:1")
    body = {"messages": [{"role": "user", "content": "x [[fault:drop]]"}]}
    hook = faults_from_spec("marker+first:500:1")
    assert hook(body, 5) == "drop"
    assert hook({"messages": [{"role": "user", "content": "y"}]}, 1) == "500"
    assert chain(None, fail_first("404", 1))(body, 2) is None
    assert faults_from_spec("none") is None


# ---------------------------------------------------------------------------------------
# delay, counters from threads, subprocess
# ---------------------------------------------------------------------------------------


def test_delay_at_construction_and_runtime():
    with StubServer(delay=0.2) as s:
        c = client(s)
        t0 = time.monotonic()
        c.chat.completions.create(model="stub-model", messages=user(PAPER))
        assert time.monotonic() - t0 >= 0.2
        s.set_delay(0.0)
        t0 = time.monotonic()
        c.chat.completions.create(model="stub-model", messages=user(PAPER))
        assert time.monotonic() - t0 < 0.2


def test_concurrent_delayed_requests_overlap():
    with StubServer(delay=0.2) as s:
        c = client(s)
        threads = [
            threading.Thread(target=c.chat.completions.create, kwargs={"model": "m", "messages": user(f"p{i}")})
            for i in range(16)
        ]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
        assert time.monotonic() - t0 < 1.0  # 16 x 0.2 s in parallel, not in series
        assert s.requests == 16 and len(s.attempts) == 16


def test_start_stop_methods_free_the_port():
    s = StubServer().start()
    port = s.port
    client(s).models.list()
    s.stop()
    s.stop()  # idempotent
    with pytest.raises(openai.APIConnectionError):
        make_client(f"http://127.0.0.1:{port}/v1", timeout=1).models.list()


def test_script_prints_url_and_stops_on_sigterm():
    proc = subprocess.Popen(
        [sys.executable, STUB_PY, "--port", "0", "--delay", "0", "--faults", "marker"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:") and line.endswith("/v1")
        c = make_client(line)
        assert [m.id for m in c.models.list()] == ["stub-model"]
        with pytest.raises(openai.RateLimitError):
            c.chat.completions.create(model="stub-model", messages=user("p [[fault:429]]"))
        proc.terminate()  # SIGTERM
        assert proc.wait(5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_stub_process_control_endpoints():
    with StubProcess(delay=0.0) as p:
        c = make_client(p.base_url)
        ic = instructor.from_openai(c, mode=instructor.Mode.TOOLS)
        assert ic.chat.completions.create(model="stub-model", response_model=Summary, messages=user(PAPER)).summary
        p.configure(delay=0.2, faults="first:503:1")
        t0 = time.monotonic()
        with pytest.raises(openai.InternalServerError):
            c.chat.completions.create(model="stub-model", messages=user("q"))
        assert time.monotonic() - t0 >= 0.2
        stats = p.stats()
        assert stats["requests"] == 2 and stats["faults"] == {"ok": 1, "503": 1}
        assert stats["attempts"][message_hash(PAPER)] == 1
        p.reset()
        assert p.stats()["requests"] == 0
        assert p.cpu_seconds() > 0
        proc = p.proc
    assert proc.returncode == 0
