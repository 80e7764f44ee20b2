"""A huge input never holds a run up: a 50 MB abstract is an error record (``too_long``) and
the batch goes on without sending it; SIGTERM while a huge listing is read ends the run at
once.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from extractor.records.listings import MAX_ABSTRACT_CHARS

from ..helpers import check_records, cli_flags, make_papers, read_records, run, settings_for
from ..stub_server import StubServer


def test_a_50_mb_abstract_is_an_error_record_and_the_batch_goes_on(tmp_path: Path) -> None:
    huge = tmp_path / "huge.jsonl"
    sentence = "We propose a method and it works well. "
    with huge.open("w") as fh:
        abstract = sentence * (50_000_000 // len(sentence))
        fh.write(json.dumps({"id": "huge1", "title": "A huge abstract", "abstract": abstract}) + "\n")
        del abstract
    rows = make_papers(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    with StubServer() as stub:
        started = time.perf_counter()
        stats = run([huge, tmp_path / "in.jsonl"], out, settings_for(stub, tmp_path))
        assert time.perf_counter() - started < 20
        assert stub.requests == 10, "the huge paper is never sent"
    assert stats.extracted == 10 and stats.failures == {"too_long": 1}
    records = {r["id"]: r for r in read_records(out)}
    error = records.pop("huge1")["error"]
    assert error["kind"] == "too_long" and "huge1" in error["message"] and f"{MAX_ABSTRACT_CHARS:,}" in error["message"]
    assert out.stat().st_size < 100_000, "the record does not carry the 50 MB"
    check_records(list(records.values()), rows)


def test_sigterm_while_a_huge_input_is_read_ends_the_run_at_once(tmp_path: Path) -> None:
    """Reading a big listing's first pass runs off the event loop: SIGTERM acts at once."""
    big = tmp_path / "big.jsonl"
    with big.open("w") as fh:
        for i in range(600_000):
            fh.write(f'{{"id": "b{i}", "title": "Paper {i} on things", "abstract": "We study {i}. It works."}}\n')
    out = tmp_path / "out.jsonl"
    with StubServer() as stub:
        cmd = [sys.executable, "-m", "extractor", "run", str(big), "-o", str(out), "-q", *cli_flags(stub, tmp_path)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not out.exists() and time.monotonic() < deadline:  # the writer opens before reading
            time.sleep(0.05)
        time.sleep(1.0)  # well into the first pass (several seconds for 600,000 papers)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            _, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
        waited = time.monotonic() - started
    assert proc.returncode == 130, err
    assert waited < 3.0, f"the run took {waited:.1f}s to stop"
    assert stub.requests == 0
