"""Sync calls over async code (extractor/sync.py): the whole public API works inside a
running event loop, as in a Jupyter cell, and a run that stops on an error leaves no
asyncio noise ("Task was destroyed", "Event loop is closed") on the terminal.

Endpoint traffic goes to the real loopback stub server.
"""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import extractor
from extractor.batchapi.files import ingest_answers, prepare_requests
from extractor.pages.digest import digest_records
from extractor.runs.doctor import diagnose
from extractor.settings import Settings
from extractor.sync import SyncLoop, run_sync

from .conftest import ROOT
from .helpers import make_papers, read_records, settings_for
from .stub_server import StubServer


def _in_a_notebook_cell(call: Any) -> Any:
    """``call()`` from inside a coroutine that a running event loop runs."""

    async def cell() -> Any:
        asyncio.get_running_loop()
        return call()

    return asyncio.run(cell())


def test_the_public_api_works_inside_a_running_event_loop(tmp_path: Path) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 4)
    with StubServer() as stub:
        s = settings_for(stub, tmp_path)
        flags = {k: v for k, v in s.model_dump().items() if k in ("base_url", "model", "mode", "grounding", "cache_dir")}
        one = _in_a_notebook_cell(lambda: extractor.summarize(rows[0]["abstract"], title=rows[0]["title"], **flags))
        assert one.summary
        papers = list(extractor.read_papers([tmp_path / "in.jsonl"]))
        many = _in_a_notebook_cell(lambda: list(extractor.extract_many(papers, **flags)))
        assert sorted(r.id for r in many) == [row["id"] for row in rows] and all(r.ok for r in many)
        stats = _in_a_notebook_cell(lambda: extractor.run_batch([str(tmp_path / "in.jsonl")], tmp_path / "out.jsonl", s))
        assert stats.extracted == 4 and len(read_records(tmp_path / "out.jsonl")) == 4
        lines = _in_a_notebook_cell(lambda: list(diagnose(s)))
        assert all(ok for _, ok in lines), lines
    shown = _in_a_notebook_cell(
        lambda: extractor.digest(digest_records([tmp_path / "out.jsonl"]), tmp_path / "d.html")
    )
    assert shown.unique == 4
    requests = tmp_path / "requests.jsonl"
    prepared = _in_a_notebook_cell(lambda: prepare_requests([str(tmp_path / "in.jsonl")], requests, Settings(model="m")))
    assert prepared.requests == 4
    answers = tmp_path / "answers.jsonl"
    answers.write_text("")
    ingested = _in_a_notebook_cell(
        lambda: ingest_answers([answers], [str(tmp_path / "in.jsonl")], tmp_path / "r.jsonl",
                               Settings(model="m", cache_dir=tmp_path / "c"))  # fmt: skip
    )
    assert ingested.failed == 4  # no answers: every paper an error record, none lost


def test_a_sync_loop_inside_a_running_loop_is_interrupted_with_its_caller() -> None:
    cancelled = []

    async def forever() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def cell() -> None:
        with SyncLoop() as loop:
            future = asyncio.run_coroutine_threadsafe(forever(), loop.loop)
            await asyncio.sleep(0.05)
            future.cancel()  # what an interrupt of the waiting caller does (SyncLoop.run)
        assert cancelled == [True] and loop.loop.is_closed()

    asyncio.run(cell())
    assert run_sync(asyncio.sleep(0, "same thread")) == "same thread"


def _disk_fills_at(limit: int) -> Any:
    def preexec() -> None:  # a file may not grow past `limit` bytes: a full disk, for this process only
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


def test_a_disk_full_stop_is_one_line_without_asyncio_noise(tmp_path: Path) -> None:
    with (tmp_path / "in.jsonl").open("w") as fh:
        for i in range(200):
            fh.write(json.dumps({"id": f"p{i}", "title": f"Paper {i} on things", "abstract": f"We study {i}. It works."}) + "\n")
    with StubServer() as stub:
        stub.set_delay(0.01)
        for attempt in range(2):
            out = tmp_path / f"out{attempt}.jsonl"
            cmd = [sys.executable, "-m", "extractor", "run", str(tmp_path / "in.jsonl"), "-o", str(out), "-q",
                   "--base-url", stub.base_url, "--model", "stub-model", "--mode", "tools", "--grounding", "off",
                   "--no-cache", "--concurrency", "16"]  # fmt: skip
            result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120,
                                    preexec_fn=_disk_fills_at(30_000))  # fmt: skip
            assert result.returncode == 2, result.stderr
            assert result.stderr.strip().splitlines() == [
                f"error: {out}: writing a record failed (File too large); finished records are kept"
            ], result.stderr
