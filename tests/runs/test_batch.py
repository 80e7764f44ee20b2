"""The batch runner and the record file: resume, repair, de-duplication, stdin, exit codes,
concurrency, the rpm limiter and the progress display.

Endpoint traffic goes to the real loopback stub server (tests/stub_server.py) on
127.0.0.1, started and stopped by each test. Its answers are schema-valid with hashed
strings, so grounding is off; the mode and model are given so no probe is sent.
"""

from __future__ import annotations

import asyncio
import io
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.runs.run import BatchOptions, BatchStats, arun_batch, plan, run_batch
from extractor.cli import main
from extractor.http.budget import RateLimiter
from extractor.errors import InputError
from extractor.records.listings import paper_from_text
from extractor.records.output import CSV_COLUMNS, RecordWriter
from extractor.runs.progress import Progress

from ..helpers import _record, check_records, expected_summary, make_papers, read_records, run, settings_for
from ..stub_server import JUNK_SUMMARY, StubServer, by_marker


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_resume_replaces_a_retried_failed_record_and_repairs_a_torn_tail(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"out{suffix}"
    with RecordWriter(out) as w:
        assert w.write(_record("a"))
        assert w.write(_record("b", error="timeout"))
        assert w.write(_record("c"))
        assert not w.write(_record("a")), "an id already written must be refused"
    whole = out.read_bytes()
    with out.open("ab") as fh:  # a SIGKILL in the middle of writing the next record
        fh.write(b'{"id": "d", "title": "Tit' if suffix == ".jsonl" else b'd,"Title d","task\nstill in')
    w = RecordWriter(out)
    assert w.done == {"a", "c"} and w.failed == {"b"}
    assert w.removed_duplicates == 0 and w.repaired_bytes > 0
    w.write(_record("b"))
    w.close()  # the failed record of b goes: its retry replaced it
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n") and len(text) < len(whole) + 2000
    if suffix == ".jsonl":
        ids = [r["id"] for r in read_records(out)]
        assert ids == ["a", "c", "b"]
    else:
        import csv

        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert [r["id"] for r in rows] == ["a", "c", "b"]
        assert rows[0]["method"] == "m\nwith a newline"  # a quoted newline survives resume
        assert list(rows[0]) == CSV_COLUMNS


def test_resume_with_only_a_torn_tail_truncates_in_place(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with RecordWriter(out) as w:
        w.write(_record("a"))
    good = out.read_bytes()
    with out.open("ab") as fh:
        fh.write(b'{"id": "b", "extr')
    w = RecordWriter(out)
    w.close()
    assert out.read_bytes() == good and w.repaired_bytes == len(b'{"id": "b", "extr')


def test_resume_removes_repeated_ids(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    line = _record("a").model_dump_json() + "\n"
    out.write_text(line + line + _record("b").model_dump_json() + "\n")
    w = RecordWriter(out)
    w.close()
    assert w.removed_duplicates == 1
    assert [r["id"] for r in read_records(out)] == ["a", "b"]


@pytest.mark.parametrize(
    "content",
    ['{"id": "x", "title": "T", "abstract": "A"}\n', "not json at all\n", "title,abstract\nT,A\n"],
)
def test_a_file_that_is_not_a_record_file_is_never_touched(tmp_path: Path, content: str) -> None:
    out = tmp_path / ("listing.csv" if content.startswith("title") else "listing.jsonl")
    out.write_text(content)
    with pytest.raises(InputError, match="not a"):
        RecordWriter(out)
    assert out.read_text() == content


def test_writer_creates_missing_folders(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "out.jsonl"
    with RecordWriter(out) as w:
        w.write(_record("a"))
    assert len(read_records(out)) == 1


# -- planning ----------------------------------------------------------------------------


def test_plan_dedupes_by_title_and_by_id_and_skips_done(tmp_path: Path) -> None:
    papers = [
        paper_from_text("Short.", title="Same Title", id="x1"),
        paper_from_text("A much longer abstract.", title="same title!", id="x2"),  # same title, longer
        paper_from_text("Other.", title="Another Title", id="y"),
        paper_from_text("Other but longer.", title="Renamed Title", id="y"),  # same id
        paper_from_text("Done already.", title="Done", id="d"),
        paper_from_text("Last.", title="Last", id="z"),
    ]
    stats = BatchStats()
    pending, total = plan(lambda: iter(papers), {"d"}, stats)
    got = [(p.id, p.title) for p in pending]
    assert got == [("x2", "same title!"), ("y", "Renamed Title"), ("z", "Last")]
    assert total == 3 and stats.read == 6 and stats.unique == 4 and stats.duplicates == 2
    assert stats.already_done == 1
    pending, total = plan(lambda: iter(papers), set(), BatchStats(), limit=2)
    assert [p.id for p in pending] == ["x2", "y"] and total == 2


# -- end to end on the stub ----------------------------------------------------------------


def test_batch_writes_every_paper_once_and_a_second_run_makes_zero_requests(tmp_path: Path) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 120)
    out = tmp_path / "out.jsonl"
    with StubServer() as stub:
        settings = settings_for(stub, tmp_path)
        stats = run([tmp_path / "in.jsonl"], out, settings)
        assert stats.extracted == 120 and stats.failed == 0 and stub.requests == 120
        check_records(read_records(out), rows)
        # Same output: everything is already there; nothing is read from the endpoint.
        before = out.read_bytes()
        started = time.perf_counter()
        again = run([tmp_path / "in.jsonl"], out, settings)
        assert stub.requests == 120 and again.already_done == 120 and again.extracted == 0
        assert out.read_bytes() == before
        assert time.perf_counter() - started < 2.0
        # A new output file: every answer comes from the cache.
        fresh = run([tmp_path / "in.jsonl"], tmp_path / "fresh.jsonl", settings)
        assert stub.requests == 120 and fresh.from_cache == 120
        check_records(read_records(tmp_path / "fresh.jsonl"), rows)


def test_stdin_input_is_read_twice_from_a_spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 12)
    monkeypatch.setattr(sys, "stdin", io.StringIO((tmp_path / "in.jsonl").read_text()))
    with StubServer() as stub:
        stats = run_batch(["-"], tmp_path / "out.jsonl", settings_for(stub, tmp_path),
                          BatchOptions(quiet=True, input_format="jsonl"))  # fmt: skip
    assert stats.extracted == 12
    check_records(read_records(tmp_path / "out.jsonl"), rows)


def test_concurrency_beats_sequential_time(tmp_path: Path) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 100)
    with StubServer(delay=0.2) as stub:
        started = time.perf_counter()
        stats = run([tmp_path / "in.jsonl"], tmp_path / "out.jsonl", settings_for(stub, tmp_path, concurrency=32))
        wall = time.perf_counter() - started
    sequential = 100 * 0.2
    assert stats.extracted == 100
    assert wall < 0.5 * sequential, f"{wall:.1f}s is not well under the sequential {sequential:.0f}s"
    check_records(read_records(tmp_path / "out.jsonl"), rows)


def test_rpm_spaces_request_starts_across_concurrent_calls(tmp_path: Path) -> None:
    make_papers(tmp_path / "in.jsonl", 8)
    with StubServer() as stub:
        started = time.perf_counter()
        stats = run([tmp_path / "in.jsonl"], tmp_path / "out.jsonl",
                    settings_for(stub, tmp_path, concurrency=8, rpm=600))  # fmt: skip
        wall = time.perf_counter() - started
        assert stats.extracted == 8 and stub.requests == 8
    # 600 rpm: one start every 0.1 s whatever the concurrency, so the 8th starts 0.7 s
    # after the first (without the limit, all 8 start at once and end in ~0.1 s).
    assert wall >= 0.7


async def test_rate_limiter_hands_out_slots_in_order_and_returns_cancelled_ones() -> None:
    limiter = RateLimiter(60 / 0.05)  # a start every 50 ms
    started = time.monotonic()
    waits = await asyncio.gather(*(limiter.acquire() for _ in range(4)))
    assert [round(w / 0.05) for w in sorted(waits)] == [0, 1, 2, 3]
    assert time.monotonic() - started >= 0.14
    # A waiter cancelled while it is the last in line gives its slot back.
    await asyncio.sleep(0.06)
    first = await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert first == 0
    assert await limiter.acquire() <= 0.05, "the cancelled slot was not given back"


def test_rerun_retries_only_failed_papers_and_cli_exit_codes(tmp_path: Path) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 20, marker=lambda i: "[[fault:503]]" if i % 5 == 0 else None)
    out = tmp_path / "out.jsonl"
    with StubServer(faults=by_marker()) as stub:
        flags = [
            "run", str(tmp_path / "in.jsonl"), "-o", str(out), "--base-url", stub.base_url, "--model", "stub-model",
            "--mode", "tools", "--grounding", "off", "--retries", "1", "--cache-dir", str(tmp_path / "cache"), "-q",
        ]  # fmt: skip
        first = CliRunner().invoke(main, flags, env={"EXTRACTOR_RETRY_BACKOFF": "0.01"})
        assert first.exit_code == 1, first.output
        assert "failed 4 (server: 4)" in first.stderr
        by_id = check_records(read_records(out), rows)
        assert sorted(r for r, rec in by_id.items() if rec["error"]) == ["p0000", "p0005", "p0010", "p0015"]
        assert all(rec["error"]["attempts"] == 2 for rec in by_id.values() if rec["error"])
        assert stub.requests == 16 + 4 * 2
        stub.set_faults(None)  # the server recovers
        second = CliRunner().invoke(main, flags)
        assert second.exit_code == 0, second.output
        assert stub.requests == 24 + 4, "only the failed papers are asked again"
        by_id = check_records(read_records(out), rows)
        assert all(rec["error"] is None for rec in by_id.values())


def test_verbose_logs_each_request_and_retry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_papers(tmp_path / "in.jsonl", 3, marker=lambda i: "[[fault:429x1]]" if i == 0 else None)
    lines: list[str] = []
    monkeypatch.setattr(Progress, "log", lambda self, message: lines.append(message))
    with StubServer(faults=by_marker(), retry_after=0.01) as stub:
        stats = run_batch([str(tmp_path / "in.jsonl")], tmp_path / "out.jsonl", settings_for(stub, tmp_path),
                          BatchOptions(quiet=True, verbose=True))  # fmt: skip
    assert stats.extracted == 3
    text = "\n".join(lines)
    assert text.count("POST /v1/chat/completions -> HTTP 200") == 3
    assert "HTTP 429 on attempt 1 of 3; retrying" in text
    assert "p0000: ok" in text and "2 attempts" in text


def test_progress_is_quiet_when_stderr_is_not_a_terminal() -> None:
    with Progress(total=2) as progress:
        progress.start()
        assert not progress.enabled and progress._bar is None
        progress.advance(_record("a"))
        progress.advance(_record("b", error="timeout"))
    assert (progress.done, progress.failed) == (2, 1)


def test_progress_bar_shows_counts_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    buffer = io.StringIO()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with Progress(total=3) as progress:
        progress.console = Console(file=buffer, force_terminal=True, width=160)
        progress.start()
        cached = _record("a")
        progress.advance(cached)
        progress.advance(_record("b", error="timeout"))
    assert progress.enabled
    assert "2/3" in buffer.getvalue() and "failed 1" in buffer.getvalue()


def test_summary_lists_failures_and_interruption() -> None:
    stats = BatchStats(read=3, unique=3, extracted=1, failed=2, failures={"timeout": 2}, interrupted=True,
                       stopped_by="bad key", wall_s=2.0)  # fmt: skip
    text = stats.summary()
    assert "failed 2 (timeout: 2)" in text and "resume" in text and "stopped: bad key" in text
    assert stats.to_dict()["papers_per_s"] == 1.5


async def test_arun_batch_graceful_stop_lets_requests_in_flight_finish(tmp_path: Path) -> None:
    make_papers(tmp_path / "in.jsonl", 40)
    stop = asyncio.Event()
    with StubServer(delay=0.3) as stub:
        task = asyncio.create_task(
            arun_batch([str(tmp_path / "in.jsonl")], tmp_path / "out.jsonl", settings_for(stub, tmp_path, concurrency=4),
                       BatchOptions(quiet=True), stop=stop)  # fmt: skip
        )
        while stub.requests < 6:
            await asyncio.sleep(0.02)
        stop.set()
        stats = await asyncio.wait_for(task, 10)
        sent = stub.requests
    assert stats.interrupted
    records = read_records(tmp_path / "out.jsonl")
    assert len(records) == sent == stats.extracted, "every request in flight finished and was written"
    assert 6 <= sent < 40


def test_a_second_writer_on_the_same_file_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with RecordWriter(out) as first:
        first.write(_record("a"))
        with pytest.raises(InputError, match="another run is writing"):
            RecordWriter(out)
        first.write(_record("b"))
    with RecordWriter(out) as again:  # released on close
        assert again.done == {"a", "b"}


def test_a_second_writer_is_refused_also_after_a_resume_rewrote_the_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text(_record("a", error="timeout").model_dump_json() + "\n" + _record("a").model_dump_json() + "\n")
    with RecordWriter(out) as resumed:  # drops the replaced failed record: a new file under the old name
        assert resumed.removed_duplicates == 1 and resumed.done == {"a"}
        with pytest.raises(InputError, match="another run"):
            RecordWriter(out)


def test_csv_with_a_torn_header_gets_a_new_one(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_bytes(b"id,title,ta")
    with RecordWriter(out) as w:
        w.write(_record("a"))
    import csv

    rows = list(csv.DictReader(io.StringIO(out.read_text(), newline="")))
    assert [r["id"] for r in rows] == ["a"] and list(rows[0]) == CSV_COLUMNS


@pytest.mark.parametrize("policy", ["model-first", "rules-first"])
def test_a_junk_summary_is_asked_again_once_then_taken_from_the_abstract(tmp_path: Path, policy: str) -> None:
    """The summary gate over the network: a server answering debris for a third of the
    papers is asked once more with the reason; the records then carry the abstract's own
    sentence (``summary_source: extractive``) and the run counts both sources."""
    rows = make_papers(tmp_path / "in.jsonl", 12, marker=lambda i: JUNK_SUMMARY if i % 3 == 0 else None)
    out = tmp_path / "out.jsonl"
    with StubServer() as stub:
        stats = run([tmp_path / "in.jsonl"], out, settings_for(stub, tmp_path, policy=policy))
        assert stub.requests == 12 + 4  # one re-ask per junk summary, none for the others
    assert stats.extracted == 12 and stats.summaries == {"model": 8, "extractive": 4}
    by_id = {r["id"]: r for r in read_records(out)}
    for i, row in enumerate(rows):
        record = by_id[row["id"]]
        if i % 3 == 0:
            assert record["summary_source"] == "extractive" and record["origin"]["summary"] == "rule"
            assert record["extraction"]["summary"].startswith(f"We study problem {i}. It works.")  # the abstract's
        else:
            assert record["summary_source"] == "model" and record["extraction"]["summary"] == expected_summary(row)
    assert "summaries: model 8, extractive 4" in stats.summary()


def test_rules_first_keeps_a_paper_the_model_cannot_answer_and_a_rerun_sends_nothing(tmp_path: Path) -> None:
    """Under rules-first the model's summary is optional: a paper whose answers never fit
    the schema keeps its rule values and an extractive summary (no error), and that "no
    valid answer" is remembered, so the same batch into a new file sends no request."""
    rows = make_papers(tmp_path / "in.jsonl", 6, marker=lambda i: "[[fault:schema_fail]]" if i < 2 else None)
    with StubServer(faults=by_marker()) as stub:
        settings = settings_for(stub, tmp_path, policy="rules-first")
        stats = run([tmp_path / "in.jsonl"], tmp_path / "a.jsonl", settings)
        assert stats.extracted == 6 and stats.failed == 0
        assert stats.summaries == {"model": 4, "extractive": 2}
        sent = stub.requests
        again = run([tmp_path / "in.jsonl"], tmp_path / "b.jsonl", settings)
        assert stub.requests == sent, "a finished batch re-run from the cache sends nothing"
    assert again.extracted == 6 and again.summaries == stats.summaries
    by_id = {r["id"]: r for r in read_records(tmp_path / "b.jsonl")}
    assert [by_id[row["id"]]["summary_source"] for row in rows[:2]] == ["extractive", "extractive"]
