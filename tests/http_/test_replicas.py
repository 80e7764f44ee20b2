"""Several replicas of one deployment (``--base-url`` repeated): the chooser alone, the
transport's routing of retries without a socket, and real loopback stub servers for the
rest: the work is shared, a replica killed mid-run is drained and the batch finishes on the
other, a replica that comes back is used again, one that refuses the key is dropped, records
name the replica that answered, the cache does not care which, and doctor probes each.

Every server is started and stopped by its test; cool-downs and backoff are scaled down.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import click
import httpx2
import pytest
from click.testing import CliRunner

from extractor.http import replicas as replicas_module
from extractor.cli import main
from extractor.cli.app import settings_options
from extractor.cli.app import settings_from as _settings
from extractor.errors import FatalEndpointError
from extractor.http.replicas import FAULTS_TO_DRAIN, Replicas
from extractor.settings import Settings, load_settings
from extractor.http.budget import Budget
from extractor.http.transport import Transport

from ..conftest import ROOT
from ..helpers import FAULTS, check_records, make_papers, read_records, run, settings_for
from ..stub_server import StubProcess, StubServer, always

A, B, C = "http://10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1", "http://10.0.0.3:8000/v1"
SEEDS = ROOT / "seeds"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- the chooser alone ------------------------------------------------------------------------


def test_the_chooser_takes_the_fewest_in_flight_ties_round_robin() -> None:
    pool = Replicas(Settings(base_url=[A, B, C]))
    first = [pool.pick() for _ in range(3)]
    assert [r.host for r in first] == ["10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000"]
    pool.done(first[1], "ok")
    assert pool.pick() is first[1], "the only one with nothing in flight"
    for r in first:
        pool.done(r, "ok")
    # all idle now: round robin goes on after the last one chosen (the second)
    seen = []
    for _ in range(6):
        r = pool.pick()
        seen.append(r.index)
        pool.done(r, "ok")
    assert seen == [2, 0, 1, 2, 0, 1]
    assert [r.in_flight for r in pool.members] == [0, 0, 0]


def test_a_drained_replica_rests_then_gets_one_trial_request() -> None:
    clock = Clock()
    pool = Replicas(Settings(base_url=[A, B]), cooldown=5.0, clock=clock)
    a, b = pool.members
    pool.done(pool.pick(), "down", "connection refused")  # a refused: drained at once
    assert a.state == "drained" and a.until == 105.0
    assert all(pool.pick() is b for _ in range(4)), "no new request for the cool-down"
    clock.now = 105.0
    trial = pool.pick()
    assert trial is a and pool.pick() is b, "half-open: one request at a time"
    pool.done(trial, "down", "connection refused")  # the trial failed: twice as long
    assert a.state == "drained" and a.cooldown == 10.0 and a.until == 115.0
    clock.now = 115.0
    trial = pool.pick()
    assert trial is a
    pool.done(trial, "ok")
    assert a.state == "up" and a.cooldown == 0.0
    # faults other than a refusal drain only when they come in a row
    for _ in range(FAULTS_TO_DRAIN - 1):
        b.in_flight += 1
        pool.done(b, "fault", "HTTP 503")
    assert b.state == "up"
    b.in_flight += 1
    pool.done(b, "ok")
    b.in_flight += 1
    pool.done(b, "fault", "HTTP 503")
    assert b.state == "up" and b.faults == 1, "an answer in between starts the count again"


def test_all_drained_still_sends_and_a_fatal_answer_drops_one_of_several() -> None:
    clock = Clock()
    pool = Replicas(Settings(base_url=[A, B]), clock=clock)
    a, b = pool.members
    for r in (a, b):
        r.in_flight += 1
        pool.done(r, "down", "connection refused")
    assert pool.pick() in (a, b), "every replica drained: the request still goes out"
    solo = Replicas(Settings(base_url=A))
    r = solo.pick()
    solo.done(r, "fatal", "HTTP 401")
    assert r.state == "up", "the only replica is never dropped: its error stops the batch as before"
    pool = Replicas(Settings(base_url=[A, B]))
    a, b = pool.members
    pool.done(pool.pick(), "fatal", "HTTP 401")
    assert a.state == "dead" and all(pool.pick() is b for _ in range(3))
    pool.members[1].in_flight = 0
    pool.done(pool.pick(), "fatal", "HTTP 401")
    assert b.state == "up", "the last one left stays: the normal fatal error applies"


# -- settings and flags ---------------------------------------------------------------------


def test_several_urls_from_flags_env_and_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Settings] = []

    @click.command()
    @settings_options("run")
    def probe(**kwargs: Any) -> None:
        seen.append(_settings(kwargs))

    for name in ("EXTRACTOR_BASE_URL", "OPENAI_BASE_URL", "EXTRACTOR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(probe, ["--base-url", A, "--base-url", B, "--base-url", A])
    assert result.exit_code == 0, result.output
    assert seen[-1].base_urls == (A, B) and seen[-1].origin["base_url"] == "flag"
    assert CliRunner().invoke(probe, ["--base-url", A]).exit_code == 0 and seen[-1].base_url == A
    assert CliRunner().invoke(probe, []).exit_code == 0 and seen[-1].base_url is None
    assert load_settings(env={"EXTRACTOR_BASE_URL": f"{A}, {B}"}).base_urls == (A, B)
    assert load_settings(env={"OPENAI_BASE_URL": f"{A},{C}"}).endpoint_host == "10.0.0.1:8000,10.0.0.3:8000"
    config = tmp_path / "c.toml"
    config.write_text(f'base_url = ["{A}", "{B}"]\n')
    s = load_settings(env={}, config=config)
    assert s.base_urls == (A, B) and s.endpoint_display == f"{A}, {B}"
    one = Settings(base_url=A)  # the Python API as before: a string in, the same string out
    assert one.base_url == A and one.base_urls == (A,) and one.endpoint_host == "10.0.0.1:8000"
    bad = CliRunner().invoke(main, ["summarize", "x", "--base-url", A, "--base-url", "ftp://u:SECRET@h/v1"])
    assert bad.exit_code == 2 and "is not an http(s) URL" in bad.stderr and "SECRET" not in bad.stderr


# -- the transport: a retry may go to another replica ----------------------------------------------


def _by_host(answers: dict[str, str]) -> tuple[httpx2.MockTransport, list[str]]:
    """A mock network where each host answers with its step (a fault name or ``ok``)."""
    hosts: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        hosts.append(request.url.host)
        step = answers[request.url.host]
        return httpx2.Response(200, json={"served": request.url.host}) if step == "ok" else FAULTS[step](request)

    return httpx2.MockTransport(handler), hosts


def _settings_for(*urls: str, **overrides: Any) -> Settings:
    values = {"base_url": list(urls), "model": "m", "mode": "tools", "cache": False, "retries": 2,
              "retry_backoff": 0.0, "timeout": 1.0, **overrides}  # fmt: skip
    return Settings(**values)


@pytest.mark.parametrize("fault", ["503", "refused", "drop", "401", "html"])
async def test_a_retry_of_a_request_that_failed_on_one_replica_goes_to_the_other(fault: str) -> None:
    mock, hosts = _by_host({"10.0.0.1": fault, "10.0.0.2": "ok"})
    transport = Transport(_settings_for(A, B), transport=mock)
    budget = Budget(retries=2, reasks=0)
    try:
        data, host = await transport.exchange("POST", "/chat/completions", {"messages": []}, budget)
    finally:
        await transport.aclose()
    assert host == "10.0.0.2:8000" and data == {"served": "10.0.0.2"}
    assert hosts == ["10.0.0.1", "10.0.0.2"] and (budget.retries, budget.requests) == (1, 2), "one retry, as always"


async def test_when_every_replica_refuses_the_key_the_batch_error_is_fatal() -> None:
    mock, hosts = _by_host({"10.0.0.1": "401", "10.0.0.2": "401"})
    transport = Transport(_settings_for(A, B), transport=mock)
    try:
        with pytest.raises(FatalEndpointError) as info:
            await transport.post("/chat/completions", {"messages": []}, Budget(retries=2, reasks=0))
    finally:
        await transport.aclose()
    assert info.value.kind == "auth" and sorted(hosts) == ["10.0.0.1", "10.0.0.2"]


# -- real loopback servers ------------------------------------------------------------------


def _hosts(*stubs: StubServer) -> list[str]:
    return [f"127.0.0.1:{s.port}" for s in stubs]


def test_two_replicas_share_the_work_records_name_them_and_the_cache_ignores_which(tmp_path: Path) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 60)
    with StubServer(delay=0.03) as one, StubServer(delay=0.03) as two:
        settings = settings_for(one, tmp_path, base_url=[one.base_url, two.base_url], concurrency=8)
        stats = run([tmp_path / "in.jsonl"], tmp_path / "out.jsonl", settings)
        assert stats.extracted == 60 and one.requests + two.requests == 60
        assert 20 <= one.requests <= 40 and 20 <= two.requests <= 40, (one.requests, two.requests)
        records = check_records(read_records(tmp_path / "out.jsonl"), rows)
        answered = Counter(r["provenance"]["endpoint"] for r in records.values())
        assert answered == dict(zip(_hosts(one, two), [one.requests, two.requests]))
        # Another set of replicas (here: the second alone) is served from the cache.
        with StubServer() as three:
            again = run([tmp_path / "in.jsonl"], tmp_path / "again.jsonl",
                        settings.model_copy(update={"base_url": f"{three.base_url},{two.base_url}"}))  # fmt: skip
            assert again.from_cache == 60 and three.requests == 0 and two.requests == answered[_hosts(two)[0]]


def test_a_replica_that_comes_back_is_used_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from extractor.runs import run as batch

    monkeypatch.setattr(replicas_module, "COOLDOWN_S", 0.2)
    monkeypatch.setattr(replicas_module, "MAX_COOLDOWN_S", 0.2)  # a trial every 0.2 s
    rows = make_papers(tmp_path / "in.jsonl", 120)
    out = tmp_path / "out.jsonl"
    steady, leaving = StubServer(delay=0.02).start(), StubServer(delay=0.02).start()
    port = leaving.port
    back: list[StubServer] = []
    real_count = batch.BatchStats.count

    def count(stats: Any, record: Any) -> None:
        real_count(stats, record)
        if stats.extracted == 20:
            leaving.stop()  # connections to it are refused from now on
        elif stats.extracted == 50:
            back.append(StubServer(port=port, delay=0.02).start())

    monkeypatch.setattr(batch.BatchStats, "count", count)
    caplog.set_level(logging.WARNING, logger="extractor")
    try:
        settings = settings_for(steady, tmp_path, base_url=[steady.base_url, leaving.base_url],
                                concurrency=4, retries=3)  # fmt: skip
        stats = run([tmp_path / "in.jsonl"], out, settings)
    finally:
        for stub in (steady, leaving, *back):
            stub.stop()
    assert stats.extracted == 120 and stats.failed == 0
    by_id = check_records(read_records(out), rows)
    assert back and back[0].requests >= 10, "the replica that came back took its share again"
    host = f"127.0.0.1:{port}"
    assert sum(r["provenance"]["endpoint"] == host for r in by_id.values()) >= back[0].requests
    said = [r.getMessage() for r in caplog.records]
    assert any(f"replica {host} drained" in m for m in said), said
    assert any(f"replica {host} answers again" in m for m in said), said


def test_a_replica_that_refuses_the_key_is_dropped_once_and_the_batch_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 30)
    caplog.set_level(logging.WARNING, logger="extractor")
    with StubServer(faults=always("401")) as wrong, StubServer() as right:
        settings = settings_for(right, tmp_path, base_url=[wrong.base_url, right.base_url], concurrency=4)
        stats = run([tmp_path / "in.jsonl"], tmp_path / "out.jsonl", settings)
        assert stats.extracted == 30 and stats.stopped_by is None
        assert wrong.requests <= 4, "dropped after the requests already in flight"
    check_records(read_records(tmp_path / "out.jsonl"), rows)
    dropped = [r.getMessage() for r in caplog.records if "not used again" in r.getMessage()]
    assert len(dropped) == 1 and f"127.0.0.1:{wrong.port}" in dropped[0] and "HTTP 401" in dropped[0]


def test_doctor_lists_each_replica_and_its_probe(tmp_path: Path) -> None:
    with StubServer() as one, StubServer() as two:
        result = CliRunner().invoke(main, ["doctor", "--base-url", one.base_url, "--base-url", two.base_url,
                                           "--cache-dir", str(tmp_path / "c")])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"replica 1 of 2: {one.base_url}" in lines and f"replica 2 of 2: {two.base_url}" in lines
    assert sum(line.startswith("  structured output: json_schema (enforced)") for line in lines) == 2
    assert sum(line.startswith("  answers: yes") for line in lines) == 2


def test_a_replica_killed_mid_run_over_the_seed_papers(tmp_path: Path) -> None:
    """``extractor run seeds/`` over two stub processes at 10 ms; one is killed (SIGKILL)
    after 100 records: the batch finishes on the other, one record per paper, all extracted."""
    out = tmp_path / "out.jsonl"
    with StubProcess(delay=0.01) as one, StubProcess(delay=0.01) as two:
        cmd = [sys.executable, "-m", "extractor", "run", str(SEEDS), "-o", str(out), "--base-url", one.base_url,
               "--base-url", two.base_url, "--model", "stub-model", "--mode", "tools", "--grounding", "off",
               "--timeout", "2", "--retries", "3", "--concurrency", "8", "-q", "--cache-dir", str(tmp_path / "c")]  # fmt: skip
        env = {**os.environ, "EXTRACTOR_RETRY_BACKOFF": "0.01"}
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while not (out.exists() and out.read_bytes().count(b"\n") >= 100):
                assert proc.poll() is None and time.monotonic() < deadline, "the batch ended or hung before 100 records"
                time.sleep(0.01)
            assert one.proc is not None
            one.proc.kill()
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        served_by_two = two.stats()["requests"]
    stderr = err.decode("utf-8", "replace")
    assert proc.returncode == 0, stderr
    records = read_records(out)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 544 and all(r["error"] is None for r in records)
    host_one, host_two = (url.split("/")[2] for url in (one.base_url, two.base_url))
    assert f"replica {host_one} drained" in stderr, stderr
    answered = Counter(r["provenance"]["endpoint"] for r in records)
    assert set(answered) == {host_one, host_two} and answered[host_two] > 544 - 100
    assert answered[host_two] <= served_by_two
    assert json.loads(json.dumps(answered))  # the hosts are plain host:port strings
