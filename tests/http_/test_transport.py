"""The request policy without a socket: :class:`~extractor.http.transport.Transport`,
:class:`~extractor.llm.completions.Completer`, the probe and the :class:`~extractor.extraction.extractor.Extractor`
driven through ``httpx2.MockTransport``.

A :class:`Script` answers each request with its next step: a fault named like the stub
server's (:data:`FAULTS`), or a chat completion. What only a socket shows (a body cut
half-way, a slow body, a server killed or gone, signals) stays in ``test_faults.py``.

Waits are zero (``retry_backoff=0``, ``retry-after-ms: 0``) or recorded instead of slept
(:func:`sleeps`), so the file runs in a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest

from extractor.llm import connect
from extractor.runs.run import BatchOptions, run_batch
from extractor.llm.endpoint import Endpoint
from extractor.errors import EndpointError, FatalEndpointError, ServerGoneError
from extractor.extraction.extractor import Extractor
from extractor.records.listings import paper_from_text
from extractor.settings import Settings
from extractor.evidence.summaries import summary_problem
from extractor.http.budget import Budget, RateLimiter
from extractor.http.transport import Transport

from ..helpers import FAULTS, GAIN, Gain, Step, _error, completion, junk, ok, reply, too_many, valid_for

BASE_URL = "http://llm.test/v1"


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "base_url": BASE_URL, "model": "m", "mode": "tools", "grounding": "off", "cache": False,
        "retries": 2, "max_reasks": 1, "retry_backoff": 0.0, "timeout": 1.0,
    }  # fmt: skip
    values.update(overrides)
    return Settings(**values)


#: Faults retried by the transport -> the error kind once the retries are spent.
TRANSIENT = {"429": "rate_limit", "500": "server", "503": "server", "timeout": "timeout", "drop": "connection",
             "invalid_json": "bad_response"}  # fmt: skip


def _step(step: str | Step) -> Step:
    """A step, or the step a name stands for: a fault of :data:`FAULTS`, ``ok`` or ``junk``."""
    if not isinstance(step, str):
        return step
    return ok() if step == "ok" else junk if step == "junk" else FAULTS[step]


class Script:
    """An endpoint for ``httpx2.MockTransport``: request *n* gets ``steps[n]`` (a step
    or its name, see :func:`_step`), and every request after the last step gets ``then``."""

    def __init__(self, *steps: str | Step, then: str | Step | None = None) -> None:
        self.steps = [_step(s) for s in steps]
        self.then = None if then is None else _step(then)
        self.requests: list[httpx2.Request] = []
        self.times: list[float] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        self.times.append(time.monotonic())
        step = self.steps[len(self.requests) - 1] if len(self.requests) <= len(self.steps) else self.then
        assert step is not None, f"request {len(self.requests)} was not expected"
        return step(request)

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


async def post(script: Script, budget: Budget | None = None, **overrides: Any) -> Any:
    s = settings(**overrides)
    transport = Transport(s, transport=script.transport)
    try:
        return await transport.post("/chat/completions", {"messages": []}, budget or Budget.for_settings(s))
    finally:
        await transport.aclose()


async def complete(script: Script, budget: Budget | None = None, **overrides: Any) -> Any:
    s = settings(**overrides)
    async with Endpoint(s, transport=script.transport) as endpoint:
        return await endpoint.complete([{"role": "user", "content": "Paper: it gains 4.5 accuracy."}], Gain, budget)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry waits, recorded instead of slept."""
    waits: list[float] = []
    real = asyncio.sleep

    async def sleep(seconds: float, *args: Any) -> None:
        waits.append(seconds)
        await real(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return waits


# -- the transport: each fault alone -----------------------------------------------------------


@pytest.mark.parametrize("fault", sorted(TRANSIENT))
async def test_a_transient_fault_is_retried_until_the_budget_is_spent(fault: str) -> None:
    assert await post(Script(fault, reply({"fine": True}))) == {"fine": True}
    budget = Budget(retries=2, reasks=1)
    script = Script(then=fault)
    with pytest.raises(EndpointError) as info:
        await post(script, budget)
    assert not isinstance(info.value, FatalEndpointError)
    assert info.value.kind == TRANSIENT[fault] and info.value.attempts == 3 == len(script.requests)
    assert (budget.retries, budget.reasks, budget.requests) == (0, 1, 3)


@pytest.mark.parametrize(
    ("fault", "kind", "fatal", "hint"),
    [
        ("400_context", "context_length", False, "--context-budget"),
        ("400", "bad_request", False, "temperature"),
        ("422", "http", False, "422"),
        ("401", "auth", True, "--api-key"),
        ("403", "auth", True, "--api-key"),
        ("404", "not_found", True, "--model"),
    ],
)
async def test_a_fault_retrying_cannot_fix_fails_at_once(fault: str, kind: str, fatal: bool, hint: str) -> None:
    budget = Budget(retries=2, reasks=1)
    script = Script(then=fault)
    with pytest.raises(EndpointError) as info:
        await post(script, budget)
    assert info.value.kind == kind and isinstance(info.value, FatalEndpointError) is fatal
    assert info.value.attempts == 1 == len(script.requests) and budget.retries == 2
    assert hint in str(info.value)


async def test_an_html_page_is_fatal_and_broken_json_is_not() -> None:
    script = Script(then="html")
    with pytest.raises(FatalEndpointError) as info:
        await post(script)
    assert info.value.kind == "bad_response" and "text/html" in str(info.value) and "--base-url" in str(info.value)
    assert len(script.requests) == 3  # retried like any unreadable body first
    with pytest.raises(EndpointError) as info:
        await post(Script(then="invalid_json"))
    assert info.value.kind == "bad_response" and not isinstance(info.value, FatalEndpointError)


async def test_refused_connections_are_fatal_before_any_answer_and_mean_gone_after_one() -> None:
    script = Script(then="refused")
    with pytest.raises(FatalEndpointError) as info:
        await post(script)
    assert info.value.kind == "connection" and "cannot reach" in str(info.value) and len(script.requests) == 3
    script = Script(reply({}), then="refused")
    transport = Transport(settings(), transport=script.transport)
    assert await transport.post("/chat/completions", {}, Budget(2, 0)) == {}
    with pytest.raises(ServerGoneError) as gone:
        await transport.post("/chat/completions", {}, Budget(2, 0))
    assert gone.value.attempts == 3 and "stopped accepting connections" in str(gone.value)


async def test_error_messages_say_what_to_change() -> None:
    with pytest.raises(EndpointError) as info:
        await complete(Script(then="length"))
    assert "--max-tokens" in str(info.value)
    with pytest.raises(EndpointError) as info:
        await complete(Script(then="429"))
    assert "429" in str(info.value) and "3 attempts" in str(info.value)


async def test_zero_retries_means_one_attempt() -> None:
    script = Script("503", "ok")
    with pytest.raises(EndpointError) as info:
        await post(script, retries=0)
    assert info.value.kind == "server" and info.value.attempts == 1 == len(script.requests)


async def test_the_log_says_which_attempt_of_how_many(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="extractor"):
        await post(Script("503", "drop", reply({})), retries=3)
    lines = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(lines) == 2
    assert "HTTP 503 on attempt 1 of 4" in lines[0] and "connection broken (peer closed connection without sending complete message body) on attempt 2 of 4" in lines[1]


# -- waits: Retry-After, backoff, the time limit -------------------------------------------


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after-ms": "250", "retry-after": "1"}, 0.25),  # the finer one wins
        ({"retry-after": "HTTP date in 30 s"}, 30.0),
    ],
    ids=["seconds", "milliseconds", "http-date"],
)
@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(sleeps: list[float], status: int, headers: dict[str, str], wait: float) -> None:
    if headers["retry-after"].startswith("HTTP date"):
        headers = {"retry-after": format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)}
    script = Script(_error(status, "later", headers=headers), reply({}))
    assert await post(script, retry_backoff=0.0) == {}
    assert len(sleeps) == 1 and wait - 1.5 <= sleeps[0] <= wait  # (an HTTP date has whole seconds)


async def test_retry_after_gets_a_little_jitter_so_callers_do_not_return_together(sleeps: list[float]) -> None:
    await post(Script(*[too_many("100")] * 4, reply({})), retries=4, retry_backoff=0.05)
    assert all(0.1 <= s <= 0.15 for s in sleeps) and len(set(sleeps)) > 1, sleeps


async def test_backoff_grows_exponentially_with_jitter(sleeps: list[float]) -> None:
    with pytest.raises(EndpointError):
        await post(Script(then="500"), retries=4, retry_backoff=0.05)
    assert len(sleeps) == 4
    for n, wait in enumerate(sleeps):  # 0.05 * 2**n plus up to 0.05 of jitter
        assert 0.05 * 2**n <= wait <= 0.05 * 2**n + 0.05, sleeps
    assert Transport(settings(retry_backoff=0.5)).backoff(40) <= 30.0


async def test_no_wait_starts_that_would_end_past_retry_max_seconds() -> None:
    script = Script(then=too_many("300"))
    started = time.monotonic()
    budget = Budget(retries=20, reasks=0)
    with pytest.raises(EndpointError) as info:
        await post(script, budget, retry_max_seconds=0.5)
    assert time.monotonic() - started < 0.5 + 0.3
    assert info.value.kind == "rate_limit" and len(script.requests) == 2


async def test_a_retry_stopped_by_the_time_limit_is_not_taken_from_the_budget() -> None:
    budget = Budget(retries=20, reasks=0)
    with pytest.raises(EndpointError):
        await post(Script(then=too_many("300")), budget, retry_max_seconds=0.5)
    assert budget.requests == 2 and budget.retries == 20 - 1


async def test_a_malformed_retry_after_falls_back_to_the_backoff() -> None:
    script = Script(too_many(retry_after_ms="soon", **{"retry-after": "soon"}), reply({"fine": True}))
    assert await post(script) == {"fine": True}


# -- the rate limiter ----------------------------------------------------------------------


async def test_the_rate_limit_spaces_every_start_retries_included() -> None:
    script = Script("503", then=reply({}))
    transport = Transport(settings(rpm=1200), transport=script.transport)  # one start every 50 ms
    started = time.monotonic()
    try:
        await asyncio.gather(*(transport.get("/models") for _ in range(4)))
    finally:
        await transport.aclose()
    assert len(script.times) == 5
    for n, at in enumerate(sorted(script.times)):  # request n starts no sooner than n slots in
        assert at - started >= n * 0.05 - 0.002, [t - started for t in script.times]


async def test_a_cancelled_waiter_gives_its_start_back() -> None:
    limiter = RateLimiter(600)  # 100 ms
    assert await limiter.acquire() == 0.0
    waiter = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    started = time.monotonic()
    await limiter.acquire()  # takes the slot the cancelled waiter had (~90 ms), not the next (~190 ms)
    assert time.monotonic() - started < 0.15


# -- completions: re-asks, length, what is not a completion -----------------------------------


async def test_an_answer_failing_the_schema_is_re_asked_with_instructors_message() -> None:
    script = Script("schema_fail", "ok")
    budget = Budget(retries=2, reasks=1)
    done = await complete(script, budget)
    assert done.value.model_dump() == GAIN and done.attempts == 2 and (budget.retries, budget.reasks) == (2, 0)
    first, again = script.bodies()
    assert again["messages"][: len(first["messages"])] == first["messages"]
    assistant, tool = again["messages"][len(first["messages"]) :]
    assert assistant["tool_calls"][0]["function"]["arguments"] == json.dumps({"metric": ["not", "a", "string"]})
    assert tool["role"] == "tool" and tool["content"].startswith("Validation Error found")
    assert "Recall the function correctly, fix the errors" in tool["content"]
    assert {k: v for k, v in again.items() if k != "messages"} == {k: v for k, v in first.items() if k != "messages"}


@pytest.mark.parametrize("mode", ["json_schema", "json", "md_json"])
async def test_other_modes_send_their_form_and_re_ask_in_it(mode: str) -> None:
    script = Script("schema_fail", "ok")
    done = await complete(script, mode=mode)
    assert done.value.model_dump() == GAIN
    first, again = script.bodies()
    assert "tools" not in first
    if mode == "json_schema":
        assert first["response_format"]["json_schema"]["schema"]["required"] == ["metric", "value"]
    else:  # the schema is in the system prompt
        assert '"metric"' in first["messages"][0]["content"]
    assert [m["role"] for m in again["messages"][-2:]] == ["assistant", "user"]


async def test_schema_failures_are_re_asked_never_retried() -> None:
    script = Script(then="schema_fail")
    budget = Budget(retries=2, reasks=1)
    with pytest.raises(EndpointError) as info:
        await complete(script, budget)
    assert info.value.kind == "validation" and info.value.attempts == 2 == len(script.requests)
    assert budget.retries == 2


async def test_a_cut_answer_is_neither_retried_nor_re_asked() -> None:
    script = Script(then="length")
    with pytest.raises(EndpointError) as info:
        await complete(script)
    assert info.value.kind == "length" and info.value.attempts == 1 == len(script.requests)


async def test_json_that_is_not_a_chat_completion_is_a_bad_response() -> None:
    script = Script(then=reply({"object": "list", "data": []}))
    with pytest.raises(EndpointError) as info:
        await complete(script)
    assert info.value.kind == "bad_response" and len(script.requests) == 1


def _no_choices(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json={**completion(request, "{}").json(), "choices": []})


def _refusal(request: httpx2.Request) -> httpx2.Response:
    data = completion(request, "{}").json()
    data["choices"][0]["message"] = {"role": "assistant", "content": None, "refusal": "I cannot help."}
    return httpx2.Response(200, json=data)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(_no_choices, id="no choices"),
        pytest.param(_refusal, id="refusal"),
    ],
)  # fmt: skip
async def test_a_completion_without_an_answer_is_an_endpoint_error(answer: Step) -> None:
    with pytest.raises(EndpointError):
        await complete(Script(then=answer))


async def test_retries_and_re_asks_never_multiply() -> None:
    # Every request fails, alternately at the transport and the schema: one exchange's
    # retries and the re-ask loop draw on one budget, so 1 + 3 + 2 requests, not (1+3)*(1+2).
    alternate = iter(["503", "schema_fail"] * 50)
    script = Script(then=lambda request: FAULTS[next(alternate)](request))
    with pytest.raises(EndpointError) as info:
        await complete(script, Budget(retries=3, reasks=2))
    assert len(script.requests) == 1 + 3 + 2 and info.value.attempts == 6
    assert info.value.kind == "validation"


async def test_one_budget_serves_all_of_a_papers_requests() -> None:
    budget = Budget(retries=3, reasks=1)
    script = Script("503", "503", "ok", "schema_fail", "503", "ok", then="503")
    assert (await complete(script, budget)).attempts == 3
    assert (await complete(script, budget)).attempts == 3
    with pytest.raises(EndpointError) as info:
        await complete(script, budget)  # no retry left: the first fault fails it
    assert info.value.attempts == 1 and (budget.retries, budget.reasks, budget.requests) == (0, 0, 7)


# -- the endpoint: model and the mode probe ---------------------------------------------------


def _probe_answer(fruit: str = "kiwi") -> Step:
    return ok({"fruit": fruit, "count": 2})


def prose(request: httpx2.Request) -> httpx2.Response:
    return completion(request, "I like kiwis, they are sweet.")


def by_form(json_schema: str | Step, tools: str | Step) -> Step:
    """Answers a probe request by its form."""
    steps = {"json_schema": _step(json_schema), "tools": _step(tools)}
    return lambda request: steps["tools" if b'"tools"' in request.content else "json_schema"](request)


async def probe(script: Script, **overrides: Any) -> Endpoint:
    endpoint = Endpoint(settings(**{"mode": "auto", "model": None, **overrides}), transport=script.transport)
    try:
        await endpoint.resolve_mode()
    finally:
        await endpoint.aclose()
    return endpoint


async def test_the_model_is_the_endpoints_first_and_the_mode_the_first_enforced_form() -> None:
    models = reply({"data": [{"id": "first"}, {"id": "second"}]})
    script = Script(models, then=by_form("500", _probe_answer()))
    endpoint = await probe(script)
    assert endpoint.model == "first" and endpoint.mode == "tools" and endpoint.probe_result.enforced
    assert endpoint.probe_result.tried == {"json_schema": "HTTP 500", "tools": "valid"}
    assert len(script.requests) == 1 + 3 + 1  # models; json_schema retried, then refused; tools
    script = Script(models, then=prose)
    endpoint = await probe(script)
    assert endpoint.mode == "md_json" and not endpoint.probe_result.enforced


@pytest.mark.parametrize("fault", ["429x2", "dropx1", "503x1", "timeoutx1", "invalid_jsonx2"])
@pytest.mark.parametrize(("server", "mode"), [(_probe_answer(), "json_schema"), ("500", "tools")],
                         ids=["enforces json_schema", "500 to json_schema"])  # fmt: skip
async def test_a_flaky_probe_finds_the_same_mode_as_a_steady_one(fault: str, server: Any, mode: str) -> None:
    name, times = fault.split("x")
    script = Script(*[name] * int(times), then=by_form(server, _probe_answer()))
    assert (await probe(script, model="m")).mode == mode


@pytest.mark.parametrize("fault", ["429", "drop", "503", "timeout"])
async def test_a_probe_that_meets_only_faults_stops_instead_of_guessing(fault: str) -> None:
    script = Script(then=fault)
    with pytest.raises(FatalEndpointError) as info:
        await probe(script, model="m")
    assert "probe" in str(info.value) and "--mode" in str(info.value)
    assert len(script.requests) == 3, "the probe is retried, then stops: no md_json fallback"


@pytest.mark.parametrize(("fault", "kind"), [("401", "auth"), ("404", "not_found"), ("html", "bad_response")])
async def test_a_probe_refused_for_good_says_why(fault: str, kind: str) -> None:
    with pytest.raises(FatalEndpointError) as info:
        await probe(Script(then=fault), model="m")
    assert info.value.kind == kind


# -- whole papers: requests against the documented worst case -------------------------------

SENTENCE = ("We study problem {i} part {k} with graph neural networks on citation data, and we show "
            "that the proposed method improves node classification accuracy.")  # fmt: skip


def make_paper(i: int, parts: int) -> Any:
    """A paper whose abstract is ``parts`` sentences: with ``context_budget=201`` each is
    asked on its own."""
    abstract = " ".join(SENTENCE.format(i=i, k=k) for k in range(parts))
    return paper_from_text(abstract, title=f"Synthetic paper {i}", id=f"p{i:04d}")


def make_papers(rng: random.Random, n: int) -> tuple[list[Any], dict[str, int]]:
    """``n`` papers of 1 to 3 parts (half of them one part), and their parts by title."""
    papers = [make_paper(i, rng.choice([1, 1, 2, 3])) for i in range(n)]
    return papers, {p.title: p.abstract.count(" part ") for p in papers}


def planned_asks(parts: int, policy: str = "model-first") -> int:
    """The questions a paper may ask: its parts (only the first under ``rules-first``),
    plus the one re-ask when that is one part."""
    asked = 1 if policy == "rules-first" else parts
    return asked + (1 if asked == 1 else 0)


def question(request: httpx2.Request) -> tuple[str, str, bool]:
    """(paper title, the part asked about, whether it is the summary re-ask)."""
    messages = json.loads(request.content)["messages"]
    user = next(m["content"] for m in messages if m["role"] == "user")
    title = re.match(r"Title: (.*)", user).group(1)  # type: ignore[union-attr]
    again = any(m["role"] == "user" and m["content"].startswith("Some values") for m in messages)
    return title, user.split("Abstract:", 1)[1].strip(), again


class PerPaper:
    """An endpoint that hands each request to its paper's ``decide(paper_state, request)``
    and counts the requests per paper."""

    def __init__(self, decide: Callable[[dict[str, Any], httpx2.Request], Step]) -> None:
        self.decide = decide
        self.state: dict[str, dict[str, Any]] = defaultdict(dict)
        self.requests: Counter[str] = Counter()

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        title = question(request)[0]
        self.requests[title] += 1
        return self.decide(self.state[title], request)(request)


def extract_all(endpoint: PerPaper, papers: list[Any], monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> list[Any]:
    s = settings(context_budget=201, **overrides)
    monkeypatch.setattr(connect, "Endpoint", lambda st: Endpoint(st, transport=httpx2.MockTransport(endpoint)))

    async def run() -> list[Any]:
        async with Extractor(s) as ex:
            return list(await asyncio.gather(*(ex.aextract(p) for p in papers)))

    return asyncio.run(run())


def test_the_helpers_answers_pass_the_summary_gate_and_junk_fails_it() -> None:
    paper = make_paper(3, 1)
    messages = [{"role": "user", "content": f"Title: {paper.title}\n\nAbstract: {paper.abstract}"}]
    request = httpx2.Request("POST", BASE_URL, json={"messages": messages})
    assert summary_problem(valid_for(request)["summary"], paper.title, paper.abstract) is None
    assert summary_problem("{{#1}}", paper.title, paper.abstract) is not None


@pytest.mark.parametrize(("retries", "reasks"), [(5, 2), (2, 1), (0, 0), (1, 3)])
def test_every_attempt_failing_while_the_budget_allows_reaches_the_worst_case_exactly(
    monkeypatch: pytest.MonkeyPatch, retries: int, reasks: int
) -> None:
    """Per paper, ``retries`` transient faults and ``reasks`` schema failures, placed at
    random among its questions (all left ones before the last question's answer): every
    retry and re-ask is spent and the paper still ends with an answer, so it sends exactly
    ``asks + retries + reasks`` requests, whatever the placement."""
    rng = random.Random(f"worst:{retries}:{reasks}")
    papers, parts = make_papers(rng, 30)

    def decide(state: dict[str, Any], request: httpx2.Request) -> Step:
        if "faults" not in state:
            state["faults"] = rng.sample([*rng.choices(sorted(TRANSIENT), k=retries), *["schema_fail"] * reasks],
                                         retries + reasks)  # fmt: skip
        title, part, again = question(request)
        last = again or (parts[title] > 1 and f" part {parts[title] - 1} " in part)
        if state["faults"] and (last or rng.random() < 0.5):
            return FAULTS[state["faults"].pop()]
        return junk if parts[title] == 1 and not again else ok()

    endpoint = PerPaper(decide)
    records = extract_all(endpoint, papers, monkeypatch, retries=retries, max_reasks=reasks)
    assert all(r.error is None for r in records), [r.error for r in records if r.error][:3]
    for paper, record in zip(papers, records, strict=True):
        assert record.provenance.parts == parts[paper.title]
        assert endpoint.requests[paper.title] == planned_asks(parts[paper.title]) + retries + reasks
    one_part = max(endpoint.requests[p.title] for p in papers if parts[p.title] == 1)
    assert one_part == 2 + retries + reasks  # the documented example: 2 + 5 + 2 = 9 with the defaults


@pytest.mark.parametrize(("seed", "policy"), [(0, "model-first"), (1, "model-first"), (2, "rules-first")])
def test_random_faults_never_exceed_the_worst_case(monkeypatch: pytest.MonkeyPatch, seed: int, policy: str) -> None:
    """Random outcomes per request (transient faults, schema failures, cut answers, refused
    prompts, junk summaries, good answers) over many papers of 1-3 parts: no paper sends
    more than ``asks + retries + reasks`` requests."""
    rng = random.Random(seed)
    retries, reasks = rng.choice([(5, 2), (2, 1), (1, 3), (0, 1)])
    outcomes = [*TRANSIENT, "schema_fail", "schema_fail", "length", "400_context", "junk", "ok", "ok", "ok"]
    papers, parts = make_papers(rng, 40)
    bad_paper = {p.title: rng.random() < 0.3 for p in papers}  # these fail whenever they can

    def decide(state: dict[str, Any], request: httpx2.Request) -> Step:
        return _step(rng.choice(outcomes[:7]) if bad_paper[question(request)[0]] else rng.choice(outcomes))

    endpoint = PerPaper(decide)
    records = extract_all(endpoint, papers, monkeypatch, retries=retries, max_reasks=reasks, policy=policy)
    worst = {p.title: planned_asks(parts[p.title], policy) + retries + reasks for p in papers}
    over = {t: (n, worst[t]) for t, n in endpoint.requests.items() if n > worst[t]}
    assert not over, over
    kinds = Counter(r.error.kind if r.error else "ok" for r in records)
    assert kinds["ok"] and len(kinds) > 2, kinds  # some papers succeed, some fail in several ways


# -- the batch, each fault alone ----------------------------------------------------------------

KINDS = {**TRANSIENT, "schema_fail": "validation", "length": "length", "400_context": "context_length"}


@pytest.mark.parametrize("fault", sorted(KINDS))
def test_each_fault_in_a_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    """A third of the papers meet the fault once, a third on every attempt, a third never."""
    from ..helpers import check_records, make_papers, read_records, settings_for

    rows = make_papers(tmp_path / "in.jsonl", 9)
    plan = {row["title"]: i % 3 for i, row in enumerate(rows)}

    def decide(state: dict[str, Any], request: httpx2.Request) -> Step:
        seen = state["n"] = state.get("n", 0) + 1
        kind = plan[question(request)[0]]
        stub_like = lambda r: completion(r, json.dumps({**valid_for(r), "summary": _stub_summary(r)}))  # noqa: E731
        return FAULTS[fault] if kind == 1 or (kind == 0 and seen == 1) else stub_like

    endpoint = PerPaper(decide)
    monkeypatch.setattr(connect, "Endpoint", lambda st: Endpoint(st, transport=httpx2.MockTransport(endpoint)))
    s = settings_for(BASE_URL, tmp_path, retries=2, max_reasks=1, retry_backoff=0.0)
    stats = run_batch([str(tmp_path / "in.jsonl")], tmp_path / "out.jsonl", s, BatchOptions(quiet=True))
    by_id = check_records(read_records(tmp_path / "out.jsonl"), rows)

    once_ok = fault in TRANSIENT or fault == "schema_fail"
    always_attempts = 3 if fault in TRANSIENT else 2 if fault == "schema_fail" else 1
    for row in rows:
        rec, seen, kind = by_id[row["id"]], endpoint.requests[row["title"]], plan[row["title"]]
        if kind == 2:
            assert rec["error"] is None and seen == 1 and rec["provenance"]["attempts"] == 1
        elif kind == 0 and once_ok:
            assert rec["error"] is None and seen == 2 and rec["provenance"]["attempts"] == 2, rec["error"]
        else:
            expected = always_attempts if kind == 1 else 1
            assert rec["error"]["kind"] == KINDS[fault] and rec["extraction"] is None
            assert seen == expected and rec["error"]["attempts"] == expected
    failed = 3 if once_ok else 6
    assert stats.failed == failed and stats.failures == {KINDS[fault]: failed} and stats.extracted == 9 - failed


def _stub_summary(request: httpx2.Request) -> str:
    """The summary the stub server gives (what ``check_records`` expects)."""
    from ..stub_server import summary_of

    messages = json.loads(request.content)["messages"]
    return summary_of(next(m["content"] for m in messages if m["role"] == "user"))
