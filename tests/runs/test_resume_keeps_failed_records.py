"""A resume keeps every failed record it does not retry: a re-run with ``--limit`` retries
only some of the failed papers and the rest keep their records; a file left by a kill after a
retry keeps the last record of each paper.
"""

from __future__ import annotations

from pathlib import Path

from extractor.eval.score import load_records
from extractor.records.output import RecordWriter

from ..helpers import _record, check_records, make_papers, read_records, run, settings_for
from ..stub_server import StubServer, always


def test_resume_with_a_limit_keeps_every_failed_record_it_does_not_retry(tmp_path: Path) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 20)
    out = tmp_path / "out.jsonl"
    with StubServer(faults=always("503")) as stub:
        first = run([tmp_path / "in.jsonl"], out, settings_for(stub, tmp_path, retries=0))
        assert first.failed == 20
        stub.set_faults(None)  # the server recovers; the re-run retries only 5 papers
        again = run([tmp_path / "in.jsonl"], out, settings_for(stub, tmp_path), limit=5)
        assert again.extracted == 5
    by_id = check_records(read_records(out), rows)  # all 20 papers, none twice
    assert sum(rec["error"] is None for rec in by_id.values()) == 5
    assert len(load_records(out)) == 20  # `extractor eval --pred` reads the same


def test_a_file_left_by_a_kill_after_a_retry_keeps_the_last_record_of_each_paper(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    lines = [_record("a", error="timeout"), _record("b", error="timeout"), _record("a"), _record("b", error="server")]
    out.write_text("".join(r.model_dump_json() + "\n" for r in lines))
    with RecordWriter(out) as w:
        assert w.done == {"a"} and w.failed == {"b"} and w.removed_duplicates == 2
    records = read_records(out)
    assert [(r["id"], r["error"] and r["error"]["kind"]) for r in records] == [("a", None), ("b", "server")]
