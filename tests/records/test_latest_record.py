"""Which record of a paper counts is one rule (extractor/records/latest.py): the latest
success, else the latest record. The record file's resume, the digest and a Ray output
directory keep the same record of the same history.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from extractor.pages.digest import digest_records, digest
from extractor.records.latest import latest_copies
from extractor.records.output import RecordWriter
from extractor.schema import Record

from ..helpers import _record, read_records

# p1: a failure, then two successes; p2: two failures; p3: a success then a failure.
HISTORY = [("p1", None, "first"), ("p2", "timeout", ""), ("p1", None, "second"), ("p3", None, "kept"),
           ("p2", "server", ""), ("p3", "timeout", ""), ("p1", "timeout", "")]  # fmt: skip
EXPECTED = {"p1": "second", "p2": "server", "p3": "kept"}


def _history() -> list[Record]:
    return [_record(pid, error=error, summary=summary or "s") for pid, error, summary in HISTORY]


def _kept(records: list[dict]) -> dict[str, str]:  # type: ignore[type-arg]
    return {r["id"]: r["error"]["kind"] if r["error"] else r["extraction"]["summary"] for r in records}


def test_the_latest_success_else_the_latest_record() -> None:
    copies = [(None, True), ("a", False), ("b", True), ("a", True), ("a", False), ("b", True), ("c", False)]
    assert latest_copies(copies) == {"a": 3, "b": 5, "c": 6}
    assert latest_copies((pid, error is None) for pid, error, _ in HISTORY) == {"p1": 2, "p2": 4, "p3": 3}


def test_the_record_file_and_the_digest_keep_the_same_record(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("".join(r.model_dump_json() + "\n" for r in _history()))  # left by killed runs
    shown = digest(digest_records([out]), tmp_path / "d.md")
    page = (tmp_path / "d.md").read_text()
    assert shown.unique == 3 and shown.failed == 1  # p2 only: p3's success counts, not its later failure
    assert "second" in page and "first" not in page and "kept" in page
    with RecordWriter(out) as w:
        assert w.removed_duplicates == 4
    assert _kept(read_records(out)) == EXPECTED


def test_a_ray_output_directory_keeps_the_same_record(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow comes with ray[data]: pip install -e '.[ray,test]'")
    from extractor.ray import recorddir

    out = tmp_path / "records"
    out.mkdir()
    history = _history()
    for n, chunk in enumerate((history[:2], history[2:4], history[4:])):  # three runs, oldest first
        (out / f"run{n}.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in chunk))
        time.sleep(0.02)
    assert recorddir.tidy_output(str(out)) == 4
    kept = [rec for path in sorted(out.glob("*.jsonl")) for rec in read_records(path)]
    assert _kept(kept) == EXPECTED
