"""Tests of tests/stub_server.py: the OpenAI-compatible loopback stub with fault injection.

The stub is checked with what `extractor` sends (its own :class:`~extractor.llm.endpoint.Endpoint`
in every mode) and on the wire (plain ``httpx2``). Every test starts its own server
(in-process thread, or a child process) on 127.0.0.1 and stops it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any, Optional

import httpx2
import pytest
from pydantic import BaseModel, ValidationError

from extractor.llm.endpoint import Endpoint
from extractor.llm.probe import _SCHEMA as PROBE_SCHEMA
from extractor.extraction.prompts import load_prompt
from extractor.schema import Extraction, SummaryAnswer
from extractor.settings import Settings
from extractor.evidence.spans import candidates, choice_model
from extractor.http.budget import Budget

from .stub_server import (
    FAULTS,
    StubProcess,
    StubServer,
    always,
    by_marker,
    chain,
    faults_from_spec,
    invalid_instance,
    message_hash,
    random_mix,
    request_text,
    schema_instance,
    summary_of,
)

STUB_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stub_server.py")
TITLE = "Attention Is All You Need"
ABSTRACT = "We propose the Transformer, based solely on attention. It reaches 28.4 BLEU on WMT 2014."


def messages(title: str = TITLE, abstract: str = ABSTRACT) -> list[dict[str, str]]:
    return load_prompt("extract").messages(title=title, abstract=abstract)


def user(title: str = TITLE, abstract: str = ABSTRACT) -> str:
    return messages(title, abstract)[1]["content"]


@pytest.fixture
def stub():
    with StubServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _servers_stopped():
    yield
    assert not [t.name for t in threading.enumerate() if t.name.startswith("StubServer:")]


_CLIENT: list[httpx2.Client] = []


@pytest.fixture(autouse=True, scope="module")
def _client():
    """One HTTP client for the raw requests (a client per request costs ~50 ms)."""
    with httpx2.Client(timeout=5) as client:
        _CLIENT.append(client)
        yield
        _CLIENT.clear()


def endpoint(server: StubServer | str, mode: str = "tools", **overrides: Any) -> Endpoint:
    base_url = server if isinstance(server, str) else server.base_url
    return Endpoint(Settings(base_url=base_url, model="stub-model", mode=mode, retries=0, timeout=5, **overrides))


async def ask(server: StubServer | str, model: type[BaseModel] = Extraction, mode: str = "tools",
              msgs: list[dict[str, str]] | None = None, **overrides: Any) -> Any:  # fmt: skip
    async with endpoint(server, mode, **overrides) as ep:
        return await ep.complete(msgs or messages(), model, Budget(retries=0, reasks=overrides.get("max_reasks", 0)))


def post(server: StubServer, text: str = ABSTRACT, **extra: Any) -> httpx2.Response:
    """One raw chat request, as the product sends it in tools mode."""
    body = {"model": "stub-model", "messages": [{"role": "user", "content": text}], **_tools(Extraction), **extra}
    return _CLIENT[0].post(server.base_url + "/chat/completions", json=body)


def _tools(model: type[BaseModel]) -> dict[str, Any]:
    name = model.__name__
    return {"tools": [{"type": "function", "function": {"name": name, "parameters": model.model_json_schema()}}],
            "tool_choice": {"type": "function", "function": {"name": name}}}  # fmt: skip


def arguments(response: httpx2.Response) -> str:
    return response.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]


# -- what the product sends, and schema-valid answers ------------------------------------------


def test_models_and_base_url(stub: StubServer) -> None:
    assert stub.base_url.startswith("http://127.0.0.1:") and stub.base_url.endswith("/v1") and stub.port > 0
    assert httpx2.get(stub.base_url + "/models").json()["data"][0]["id"] == "stub-model"


@pytest.mark.parametrize("mode", ["tools", "json_schema", "json", "md_json"])
async def test_every_mode_gets_a_valid_paper_specific_answer(stub: StubServer, mode: str) -> None:
    done = await ask(stub, mode=mode)
    assert done.value.summary == summary_of(user())
    assert done.value.task == done.value.method == message_hash(user())
    assert done.value.claimed_gains[0].metric == message_hash(user())  # nested, through $ref
    assert done.value.contribution == "method"
    assert done.tokens_in == sum(len(m["content"]) for m in _sent(mode)) // 4 and done.tokens_out > 0
    assert stub.attempts_for(user()) == 1 and stub.fault_counts == {"ok": 1}


def _sent(mode: str) -> list[dict[str, str]]:
    from extractor.llm.completions import Completer

    s = Settings(base_url="http://127.0.0.1:9/v1")
    return Completer(None, s).request("stub-model", mode, Extraction, messages()).body["messages"]  # type: ignore[arg-type]


async def test_concurrent_answers_come_from_their_own_request(stub: StubServer) -> None:
    papers = [(f"Paper number {i}", f"Abstract {i} " + "x" * i) for i in range(24)]
    async with endpoint(stub) as ep:
        done = await asyncio.gather(*(ep.complete(messages(*p), Extraction, Budget(0, 0)) for p in papers))
    for paper, answer in zip(papers, done, strict=True):
        assert answer.value.summary == summary_of(user(*paper)) and answer.value.task == message_hash(user(*paper))
    assert stub.requests == len(papers) and stub.fault_counts == {"ok": len(papers)}


def _spans_model() -> type[BaseModel]:
    return choice_model(candidates("DeepWalk", "We propose DeepWalk; it improves F1 by 4.5% on BlogCatalog."))


@pytest.mark.parametrize("model", [Extraction, SummaryAnswer, _spans_model(), None], ids=["full", "summary", "spans", "probe"])
def test_the_instances_of_the_products_schemas_are_valid_and_the_failing_ones_fail(model: Any) -> None:
    schema = PROBE_SCHEMA if model is None else model.model_json_schema()
    valid, invalid = schema_instance(schema, summary="A sentence.", tag="abc123"), invalid_instance(schema)
    if model is None:  # the probe checks its answer itself
        assert set(valid) == {"fruit", "count"} and valid["fruit"] in ("kiwi", "fig") and "fruit" not in invalid
        return
    model.model_validate(valid)
    with pytest.raises(ValidationError):
        model.model_validate(invalid)


def test_answers_escape_their_text_and_count_usage(stub: StubServer) -> None:
    tricky = 'He said "hi" \\ café \u2603 \t tab\nsecond line'
    response = post(stub, tricky)
    answer = Extraction.model_validate_json(arguments(response))
    assert answer.summary == summary_of(tricky) == 'This paper is about He said "hi" \\ café \u2603 tab second line.'
    usage = response.json()["usage"]
    assert usage["prompt_tokens"] == len(tricky) // 4 and usage["completion_tokens"] == len(arguments(response)) // 4


def test_a_re_ask_is_the_same_request() -> None:
    with StubServer(faults=by_marker()) as s:
        msgs = messages(abstract=ABSTRACT + " [[fault:schema_failx1]]")
        done = asyncio.run(ask(s, msgs=msgs, max_reasks=1))
        assert done.attempts == 2 and done.value.summary == summary_of(msgs[1]["content"])
        assert s.attempts_for(msgs[1]["content"]) == 2 and s.fault_counts == {"schema_fail": 1, "ok": 1}


# -- faults on the wire -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [("500", 500, None), ("503", 503, None), ("401", 401, "invalid_api_key"), ("404", 404, "model_not_found"),
     ("400_context", 400, "context_length_exceeded")],
)  # fmt: skip
def test_error_faults_in_openai_shape(fault: str, status: int, code: str | None) -> None:
    with StubServer(faults=always(fault)) as s:
        response = post(s)
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_429_says_when_to_retry() -> None:
    with StubServer(faults=always("429"), retry_after=0.25) as s:
        response = post(s)
    assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limit_exceeded"
    assert response.headers["retry-after"] == "1" and response.headers["retry-after-ms"] == "250"  # whole s, rounded up


def test_200_faults(stub: StubServer) -> None:
    stub.set_faults(always("html"))
    response = post(stub)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    stub.set_faults(always("invalid_json"))
    response = post(stub)
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    stub.set_faults(always("schema_fail"))
    json.loads(arguments(post(stub)))  # valid JSON ...
    with pytest.raises(ValidationError):  # ... that fails the schema
        Extraction.model_validate_json(arguments(post(stub)))
    stub.set_faults(always("length"))
    choice = post(stub).json()["choices"][0]
    assert choice["finish_reason"] == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(choice["message"]["tool_calls"][0]["function"]["arguments"])


def test_drop_cuts_the_body(stub: StubServer) -> None:
    stub.set_faults(always("drop"))
    with _CLIENT[0].stream("POST", stub.base_url + "/chat/completions", json={"messages": messages()}) as response:
        assert response.status_code == 200 and int(response.headers["content-length"]) > 0
        with pytest.raises(httpx2.RemoteProtocolError):
            response.read()


def test_slow_holds_up_only_its_own_request() -> None:
    with StubServer(faults=by_marker(), slow_seconds=3.0) as s:
        errors: list[BaseException] = []

        def slow_call() -> None:
            try:
                _CLIENT[0].post(s.base_url + "/chat/completions", json=_body("p [[fault:slow]]"), timeout=0.5)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        started = time.monotonic()
        thread = threading.Thread(target=slow_call)
        thread.start()
        time.sleep(0.1)
        Extraction.model_validate_json(arguments(post(s)))
        assert time.monotonic() - started < 0.5  # answered while the slow one waits
        thread.join(5)
        assert len(errors) == 1 and isinstance(errors[0], httpx2.ReadTimeout)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 2.0  # stop() does not wait for the slow handler


def test_every_fault_is_counted_and_logged(stub: StubServer) -> None:
    stub.slow_seconds = 0.05
    for fault in FAULTS:
        stub.set_faults(always(fault))
        try:
            post(stub)
        except httpx2.TransportError:  # drop
            pass
    assert stub.fault_counts == {f: 1 for f in FAULTS}
    log = stub.log
    assert [e.fault for e in log] == list(FAULTS) and {e.key for e in log} == {message_hash(ABSTRACT)}
    assert stub.attempts_for(ABSTRACT) == len(FAULTS) and [e.time for e in log] == sorted(e.time for e in log)
    stub.reset()
    assert stub.requests == 0 and stub.log == [] and stub.attempts_for(ABSTRACT) == 0 and stub.fault_counts == {}


# -- hooks ------------------------------------------------------------------------------------


def _body(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": text}]}


def test_hook_gets_body_and_attempt(stub: StubServer) -> None:
    seen: list[tuple[str, int]] = []

    def hook(body: dict, attempt: int) -> Optional[str]:
        seen.append((request_text(body), attempt))
        return "503" if attempt == 1 and request_text(body) == ABSTRACT else None

    stub.set_faults(hook)
    assert [post(stub).status_code, post(stub).status_code, post(stub, "other").status_code] == [503, 200, 200]
    assert seen == [(ABSTRACT, 1), (ABSTRACT, 2), ("other", 1)]
    assert [e.fault for e in stub.log] == ["503", None, None]


def test_request_text_is_the_question_not_the_re_ask() -> None:
    body = _body("paper")
    body["messages"] += [{"role": "assistant", "content": "{}"}, {"role": "user", "content": "fix it"}]
    assert request_text(body) == "paper"
    suffix = "\n\nReturn the correct JSON response within a ```json codeblock. not the JSON_SCHEMA"
    assert request_text(_body("paper" + suffix)) == "paper"  # md_json's addition


def test_by_marker() -> None:
    hook = by_marker()
    assert [hook(_body("Paper [[fault:503x2]]"), a) for a in (1, 2, 3)] == ["503", "503", None]
    assert [hook(_body("P [[fault:429x1]][[fault:500x1]]"), a) for a in (1, 2, 3)] == ["429", "500", None]
    assert [hook(_body("P [[fault:401]]"), a) for a in (1, 5)] == ["401", "401"]  # no count: every attempt
    assert hook(_body("a paper without markers"), 1) is None


def test_random_mix_is_deterministic_and_bounded() -> None:
    hook = random_mix(["429", "503"], rate=0.5, seed=7, max_failures_per_request=2)
    same = random_mix(["429", "503"], rate=0.5, seed=7, max_failures_per_request=2)
    bodies = [_body(f"paper {i}") for i in range(200)]
    plans = [[hook(b, a) for a in (1, 2, 3)] for b in bodies]
    assert plans == [[same(b, a) for a in (3, 2, 1)][::-1] for b in bodies]  # order-independent
    assert 60 < len([p for p in plans if p[0] is not None]) < 140
    assert all(p[2] is None for p in plans) and any(p[1] is not None for p in plans)  # at most 2 failures
    assert {f for p in plans for f in p} == {None, "429", "503"}
    assert random_mix(["500"], rate=0.0)(bodies[0], 1) is None
    assert all(random_mix(["500"], rate=1.0)(b, 1) == "500" for b in bodies)
    assert [random_mix("500", 0.5, seed=1)(b, 1) for b in bodies] != [random_mix("500", 0.5, seed=2)(b, 1) for b in bodies]


def test_helpers_validate_and_spec() -> None:
    with pytest.raises(ValueError):
        always("418")
    with pytest.raises(ValueError):
        faults_from_spec("bogus:1")
    hook = faults_from_spec("marker+always:500")
    assert hook(_body("x [[fault:drop]]"), 5) == "drop" and hook(_body("y"), 1) == "500"
    assert faults_from_spec("random:429:1.0:3:2")(_body("z"), 1) == "429"
    assert chain(None, always("404"))(_body("z"), 2) == "404"
    assert faults_from_spec("none") is None


# -- delay, lifecycle, subprocess --------------------------------------------------------------


def test_delay_at_construction_and_runtime_and_concurrent_requests_overlap() -> None:
    with StubServer(delay=0.2) as s:
        started = time.monotonic()
        post(s)
        assert time.monotonic() - started >= 0.2
        threads = [threading.Thread(target=post, args=(s, f"p{i}")) for i in range(16)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
        assert time.monotonic() - started < 1.0  # 16 x 0.2 s in parallel, not in series
        s.set_delay(0.0)
        started = time.monotonic()
        post(s)
        assert time.monotonic() - started < 0.2
        assert s.requests == 18


def test_start_stop_methods_free_the_port() -> None:
    s = StubServer().start()
    port = s.port
    post(s)
    s.stop()
    s.stop()  # idempotent
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)


def test_script_prints_url_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, STUB_PY, "--port", "0", "--faults", "marker"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert line.startswith("http://127.0.0.1:") and line.endswith("/v1")
        assert httpx2.get(line + "/models").json()["data"][0]["id"] == "stub-model"
        response = httpx2.post(line + "/chat/completions", json=_body("p [[fault:429]]"))
        assert response.status_code == 429
        proc.terminate()  # SIGTERM
        assert proc.wait(5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]


def test_stub_process_control_endpoints() -> None:
    with StubProcess(delay=0.0) as p:
        assert asyncio.run(ask(p.base_url)).value.summary == summary_of(user())
        p.configure(delay=0.2, faults="always:503")
        started = time.monotonic()
        assert httpx2.post(p.base_url + "/chat/completions", json=_body("q")).status_code == 503
        assert time.monotonic() - started >= 0.2
        stats = p.stats()
        assert stats["requests"] == 2 and stats["faults"] == {"ok": 1, "503": 1}
        assert stats["attempts"][message_hash(user())] == 1
        p.reset()
        assert p.stats()["requests"] == 0 and p.cpu_seconds() > 0
        proc = p.proc
    assert proc.returncode == 0
