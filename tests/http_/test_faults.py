"""Fault injection against the real loopback stub server, for what only a socket shows:
a body cut half-way and a slow body, random mixes over hundreds of papers, fatal endpoint
errors, a server that goes away, and batches killed (SIGKILL), stopped (SIGTERM, SIGINT) and
resumed. The request policy alone (each fault's kind and attempts, Retry-After, backoff, the
probe under faults, the worst case of requests per paper) is tested without a socket in
test_transport.py.

Each test starts its own server on 127.0.0.1 (a thread, or for the subprocess tests a
thread serving a child ``python -m extractor run``) and stops it. Timeouts, backoff,
``Retry-After`` and the ``slow`` fault are scaled down so the file runs in seconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from extractor.cli import main

from ..conftest import ROOT
from ..helpers import check_records, make_papers, read_records, run, settings_for, user_text
from ..stub_server import StubProcess, StubServer, by_marker, message_hash, random_mix, request_text

TRANSIENT = {  # fault -> error kind once retries are used up
    "429": "rate_limit",
    "500": "server",
    "503": "server",
    "slow": "timeout",
    "drop": "connection",
    "invalid_json": "bad_response",
}
PERMANENT = {"length": "length", "400_context": "context_length"}  # not retried at all
KINDS = {**TRANSIENT, "schema_fail": "validation", **PERMANENT}

RETRIES = 2
REASKS = 1


def _fast(stub: StubServer | str, tmp_path: Path, **overrides: Any) -> Any:
    values: dict[str, Any] = {"timeout": 1.0, "retries": RETRIES, "max_reasks": REASKS, "retry_backoff": 0.01}
    values.update(overrides)
    return settings_for(stub, tmp_path, **values)


# -- a cut body and a slow one ---------------------------------------------------------------


@pytest.mark.parametrize("fault", ["drop", "slow"])
def test_a_cut_or_slow_body(tmp_path: Path, fault: str) -> None:
    """A third of the papers meet the fault once, a third on every attempt, a third never:
    httpx2 reads a body cut short as a dropped connection and a slow one as a timeout, both
    retried."""

    def marker(i: int) -> str | None:
        return [f"[[fault:{fault}x1]]", f"[[fault:{fault}]]", None][i % 3]

    rows = make_papers(tmp_path / "in.jsonl", 15, marker=marker)
    with StubServer(faults=by_marker(), slow_seconds=2.0, retry_after=0.05) as stub:
        stats = run([tmp_path / "in.jsonl"], tmp_path / "out.jsonl", _fast(stub, tmp_path))
        by_id = check_records(read_records(tmp_path / "out.jsonl"), rows)
        attempts = {row["id"]: stub.attempts_for(user_text(row)) for row in rows}

    for i, row in enumerate(rows):
        rec, seen = by_id[row["id"]], attempts[row["id"]]
        if i % 3 == 2:  # no fault
            assert rec["error"] is None and seen == 1 and rec["provenance"]["attempts"] == 1
        elif i % 3 == 0:  # one fault, then success
            assert rec["error"] is None, rec["error"]
            assert seen == 2 and rec["provenance"]["attempts"] == 2
        else:
            assert rec["error"] is not None and rec["extraction"] is None
            assert rec["error"]["kind"] == KINDS[fault], rec["error"]
            assert seen == RETRIES + 1 and rec["error"]["attempts"] == RETRIES + 1
    assert stats.failed == 5 and stats.failures == {KINDS[fault]: 5} and stats.extracted == 10


# -- random mixes over hundreds of papers ------------------------------------------------


def test_random_mix_over_300_papers_then_rerun_retries_only_failures(tmp_path: Path) -> None:
    """Every non-fatal fault, mixed: 40% of the papers meet 1-2 faults. The stub runs in
    its own process (its CPU is not the client's); its log gives each paper's faults."""
    rows = make_papers(tmp_path / "in.jsonl", 300)
    out = tmp_path / "out.jsonl"
    spec = "random:" + ",".join(sorted(KINDS)) + ":0.4:11:2"
    with StubProcess(faults=spec, slow_seconds=2.5, retry_after=0.02) as stub:
        settings = _fast(stub.base_url, tmp_path, timeout=2.0, retries=3, max_reasks=2, concurrency=16)
        stats = run([tmp_path / "in.jsonl"], out, settings)
        log = stub.stats()["log"]
        seqs: dict[str, list[str | None]] = defaultdict(list)
        for _, key, fault in log:
            seqs[key].append(fault)
        by_id = check_records(read_records(out), rows)
        counts = Counter(fault for _, _, fault in log if fault)
        assert set(counts) == set(KINDS), counts  # every fault was met
        failures = {}
        for row in rows:
            seq = seqs[message_hash(user_text(row))]
            rec = by_id[row["id"]]
            permanent = [f for f in seq if f in PERMANENT]
            if permanent:  # the first permanent fault ends the paper, unretried
                assert seq[-1] == permanent[0] and seq.count(permanent[0]) == 1
                assert rec["error"]["kind"] == PERMANENT[permanent[0]], (seq, rec["error"])
                assert rec["error"]["attempts"] == len(seq)
                failures[row["id"]] = rec["error"]["kind"]
            else:  # transient faults and schema failures: retried or re-asked, then fine
                assert seq[-1] is None and None not in seq[:-1], seq
                assert rec["error"] is None, (seq, rec["error"])
                assert rec["provenance"]["attempts"] == len(seq)
        assert len(log) == 300 + sum(counts.values()) - len(failures)  # each fault cost one more request
        assert failures and stats.failed == len(failures) and stats.extracted == 300 - len(failures)
        assert stats.failures == dict(Counter(failures.values()))
        # The server is fixed: a re-run asks again for the failed papers only.
        stub.configure(faults="")
        stub.reset()
        again = run([tmp_path / "in.jsonl"], out, settings)
        assert stub.stats()["requests"] == len(failures)
        assert again.already_done == 300 - len(failures) and again.extracted == len(failures)
    by_id = check_records(read_records(out), rows)
    assert all(rec["error"] is None for rec in by_id.values())


# -- fatal endpoint errors ----------------------------------------------------------------


def _cli(stub_url: str, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), "--base-url", stub_url,
        "--model", "stub-model", "--mode", "tools", "--grounding", "off", "--timeout", "1",
        "--cache-dir", str(tmp_path / "cache"), "-q", "--concurrency", "4", *extra,
    ]  # fmt: skip


@pytest.mark.parametrize(("fault", "kind", "hint"), [("401", "auth", "--api-key"), ("404", "not_found", "--model")])
def test_fatal_error_stops_the_batch_at_once(tmp_path: Path, fault: str, kind: str, hint: str) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 60, marker=lambda i: f"[[fault:{fault}]]" if i >= 12 else None)
    with StubServer(faults=by_marker()) as stub:
        result = CliRunner().invoke(main, [*_cli(stub.base_url, tmp_path), "--stats-json", str(tmp_path / "s.json")])
        assert result.exit_code == 2, result.output
        assert hint in result.stderr and "stopped:" in result.stderr
        assert stub.requests <= 12 + 4, "the batch went on after the endpoint refused it"
        assert stub.fault_counts.get(fault, 0) <= 4
        stats = json.loads((tmp_path / "s.json").read_text())
        assert stats["stopped_kind"] == kind
        records = read_records(tmp_path / "out.jsonl")  # a valid file with what finished
        assert all(r["error"] is None for r in records) and len(records) == stats["extracted"]
        stub.set_faults(None)  # the key is fixed
        again = CliRunner().invoke(main, _cli(stub.base_url, tmp_path))
        assert again.exit_code == 0, again.output
    check_records(read_records(tmp_path / "out.jsonl"), rows)


def test_unreachable_endpoint_stops_the_batch(tmp_path: Path) -> None:
    make_papers(tmp_path / "in.jsonl", 50)
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(main, [*_cli(f"http://127.0.0.1:{port}/v1", tmp_path), "--retries", "1"],
                                env={"EXTRACTOR_RETRY_BACKOFF": "0.01"})  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "cannot reach" in result.stderr and "--base-url" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()  # nothing was written: no empty file left


# -- killed, stopped and resumed ------------------------------------------------------------


def _spawn(
    stub: StubServer, tmp_path: Path, out: Path, *extra: str, source: Path | None = None
) -> subprocess.Popen[bytes]:
    """``extractor run`` in a child process, on ``source`` (default tmp_path/in.jsonl)."""
    env = {**os.environ, "EXTRACTOR_RETRY_BACKOFF": "0.01"}
    cmd = [sys.executable, "-m", "extractor", *_cli(stub.base_url, tmp_path, *extra)]
    cmd[cmd.index("-o") + 1] = str(out)
    if source is not None:
        cmd[cmd.index("run") + 1] = str(source)
    return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_lines(path: Path, n: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"the batch ended (rc {proc.returncode}) before writing {n} records")
        time.sleep(0.02)
    pytest.fail(f"no {n} records within {timeout}s")


def _finish(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the batch did not stop")
    return proc.returncode, err.decode("utf-8", "replace")


def _extractions(path: Path) -> dict[str, Any]:
    return {r["id"]: r["extraction"] for r in read_records(path)}


def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 50)
    hook = random_mix(["429", "503", "drop", "schema_fail"], rate=0.2, seed=5)
    killed, reference = tmp_path / "killed.jsonl", tmp_path / "reference.jsonl"
    with StubServer(delay=0.05, faults=hook, retry_after=0.01) as stub:
        proc = _spawn(stub, tmp_path, killed)
        try:
            _wait_for_lines(killed, 10, proc)
        finally:
            proc.kill()  # SIGKILL: no handler runs
            proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        partial = read_records(killed)
        assert 10 <= len(partial) < 50
        with killed.open("ab") as fh:  # the worst case: killed in the middle of a line
            fh.write(b'{"id": "p0079", "title": "Synthetic pa')
        resumed = run([tmp_path / "in.jsonl"], killed, settings_for(stub, tmp_path))
        assert resumed.already_done == len(partial) and resumed.extracted == 50 - len(partial)
        uninterrupted = run([tmp_path / "in.jsonl"], reference, settings_for(stub, tmp_path, cache=False))
        assert uninterrupted.extracted == 50
    check_records(read_records(killed), rows)
    assert _extractions(killed) == _extractions(reference)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly_and_resume_completes(tmp_path: Path, sig: signal.Signals) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 40)
    out = tmp_path / "out.jsonl"
    with StubServer(delay=0.2) as stub:
        proc = _spawn(stub, tmp_path, out)
        _wait_for_lines(out, 4, proc)
        proc.send_signal(sig)
        rc, err = _finish(proc)
        assert rc == 130, err
        assert "stopping" in err and "interrupted" in err
        records = read_records(out)  # valid: whole lines only
        assert 4 <= len(records) < 40
        assert len(records) == stub.requests, "requests in flight finished and were written"
        stub.set_delay(0.0)
        resumed = run([tmp_path / "in.jsonl"], out, settings_for(stub, tmp_path))
        assert resumed.extracted == 40 - len(records)
        assert stub.requests == 40, "no paper was asked twice"
    check_records(read_records(out), rows)


def test_second_ctrl_c_stops_at_once(tmp_path: Path) -> None:
    # Papers from 8 on hang (the stub's "slow" fault) until the client's timeout, again
    # and again: a graceful stop would wait for them; the second Ctrl-C does not.
    rows = make_papers(tmp_path / "in.jsonl", 20, marker=lambda i: "[[fault:slow]]" if i >= 8 else None)
    out = tmp_path / "out.jsonl"
    with StubServer(faults=by_marker(), slow_seconds=5.0) as stub:
        proc = _spawn(stub, tmp_path, out, "--timeout", "3")
        _wait_for_lines(out, 8, proc)
        deadline = time.monotonic() + 10
        while stub.requests < 12 and time.monotonic() < deadline:  # 4 hanging in flight
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        assert proc.poll() is None, "the first Ctrl-C waits for the requests in flight"
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        rc, err = _finish(proc)
        assert time.monotonic() - started < 2.0
        assert rc == 130, err
        assert len(read_records(out)) == 8
        stub.set_faults(None)
        run([tmp_path / "in.jsonl"], out, settings_for(stub, tmp_path))
    check_records(read_records(out), rows)


def test_a_server_that_goes_away_mid_run_stops_the_batch_and_the_rerun_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from extractor.runs import run as batch
    from extractor.extraction.extractor import GONE_LIMIT

    make_papers(tmp_path / "in.jsonl", 40)
    out = tmp_path / "out.jsonl"
    stub = StubServer(delay=0.05).start()
    port = stub.port
    settings = settings_for(stub, tmp_path, concurrency=1, retries=1)
    real_count = batch.BatchStats.count

    def count(stats: Any, record: Any) -> None:
        real_count(stats, record)
        if stats.extracted == 5:
            stub.stop()  # the server goes away: connections are refused from now on

    monkeypatch.setattr(batch.BatchStats, "count", count)
    try:
        stats = run([tmp_path / "in.jsonl"], out, settings)
    finally:
        stub.stop()
    assert stats.stopped_by and "stopped accepting connections" in stats.stopped_by
    records = read_records(out)
    gone = [r for r in records if r["error"]]
    assert len(records) - len(gone) == 5 and len(gone) == GONE_LIMIT - 1  # not 35 error records
    assert all(r["error"]["kind"] == "connection" for r in gone)

    monkeypatch.setattr(batch.BatchStats, "count", real_count)
    with StubServer(port=port) as back:  # the server is back: the re-run finishes the job
        again = run([tmp_path / "in.jsonl"], out, settings)
        assert again.stopped_by is None and back.requests == 35
    records = read_records(out)
    assert len(records) == 40 and all(r["error"] is None for r in records)


# -- the mode probe under faults, through the CLI ----------------------------------------------------------

_PROBE_TEXT = "Name a fruit you like"


def _probe_fault(fault: str, times: int | None) -> Any:
    """``fault`` on the probe's first ``times`` requests (all of them when None)."""

    def hook(body: dict[str, Any], attempt: int) -> str | None:
        if request_text(body).startswith(_PROBE_TEXT) and (times is None or attempt <= times):
            return fault
        return None

    return hook


def test_doctor_gives_one_answer_for_a_flaky_server(tmp_path: Path) -> None:
    with StubServer(faults=_probe_fault("429", 2), retry_after=0.01) as stub:
        answers = set()
        for _ in range(3):
            stub.reset()  # the probe meets two 429s every time
            result = CliRunner().invoke(main, ["doctor", "--base-url", stub.base_url, "--retries", "2",
                                               "--retry-backoff", "0.01", "--cache-dir", str(tmp_path / "c")])  # fmt: skip
            answers.add(next(line for line in result.output.splitlines() if line.startswith("structured output")))
    assert len(answers) == 1 and "json_schema (enforced)" in answers.pop()


# -- the 544 seed papers: mixed faults, kill -9, resumes with different limits ----------------


def test_seeds_under_mixed_faults_killed_and_resumed_with_limits_end_with_544_records(tmp_path: Path) -> None:
    """Some papers fail for good (their faults outlast the retries); the first run and a
    resume are killed (SIGKILL); the resumes use --limit 100, 400 and none. No record is
    ever lost (a failed record outside a limit stays), and the end is 544 records, one
    per paper."""
    from extractor.runs.run import BatchStats, plan
    from extractor.eval.score import load_records
    from extractor.records.listings import read_papers

    seeds = ROOT / "seeds"
    stats = BatchStats()
    plan(lambda: read_papers([seeds]), set(), stats)
    out = tmp_path / "out.jsonl"

    def ids() -> list[str]:
        return [r["id"] for r in read_records(out)]

    hook = random_mix(["429", "503", "drop", "schema_fail", "500"], rate=0.3, seed=3, max_failures_per_request=3)
    with StubServer(delay=0.01, faults=hook, retry_after=0.01) as stub:
        seen: set[str] = set()
        for limit, kill_at in [(None, 300), (100, None), (400, 40), (None, None)]:
            extra = ("--retries", "1", "--max-reasks", "1", *(("--limit", str(limit)) if limit else ()))
            proc = _spawn(stub, tmp_path, out, *extra, source=seeds)
            if kill_at is None:
                rc, err = _finish(proc, timeout=60)
                assert rc in (0, 1), err
                assert len(ids()) == len(set(ids())), "a closed file holds each paper once"
            else:
                written = len(ids()) if out.exists() else 0
                _wait_for_lines(out, written + kill_at, proc)
                proc.kill()
                proc.communicate()
            now = set(ids())
            assert seen <= now, f"records lost: {sorted(seen - now)[:5]}"
            if not seen:
                assert any(r["error"] for r in read_records(out)), "some papers failed for good"
            seen = now
    records = read_records(out)
    assert len(records) == len({r["id"] for r in records}) == stats.unique == 544
    assert len(load_records(out)) == 544
