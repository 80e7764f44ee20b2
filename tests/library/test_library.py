"""The library: one SQLite file across days, written and read for real (files, subprocesses,
the sqlite3 module), refusing what is not a library, safe with two writers and a kill -9."""

from __future__ import annotations

import hashlib
import re
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor import Library, LibraryError
from extractor.cli import main
from extractor.records.latest import latest_copies
from extractor.library.schema import APPLICATION_ID, FTS_COLUMNS, PAPER_COLUMNS, SCHEMA_VERSION
from extractor.library.writes import CHUNK
from extractor.schema import Contribution, ErrorInfo, Extraction, PaperMeta, Record, Source

from ..conftest import ROOT

DATA = ROOT / "tests" / "data" / "daily"


def record(i: int, *, ok: bool = True, day: str | None = None, word: str = "", version: str = "") -> Record:
    """A synthetic record of paper i; ``version`` shows in its task, to tell records apart."""
    extraction = Extraction(
        task=f"task {i}{version}", method=f"method {i}", method_name=f"M{i}", claimed_gains=[], code_link=None,
        contribution=list(Contribution)[i % 7], summary=f"This paper studies problem {i}.",
    ) if ok else None  # fmt: skip
    return Record(
        id=f"p{i:05d}", title=f"Synthetic paper {i} on {word or 'retrieval'}",
        abstract=f"We study problem {i} with {word or 'retrieval'} models. It works well.",
        source=Source(path="synthetic.jsonl", line=i + 1), extraction=extraction,
        error=None if ok else ErrorInfo(kind="server", message="HTTP 503"),
        meta=PaperMeta(authors=[f"Author {i}"], listing_date=day, upvotes=i) if day else None,
    )  # fmt: skip


def write_records(path: Path, records: list[Record]) -> Path:
    path.write_text("".join(r.model_dump_json() + "\n" for r in records))
    return path


@pytest.fixture
def two_days(tmp_path: Path) -> Path:
    """The two fixture days run with --policy rules into one library; returns its path."""
    library = tmp_path / "library.db"
    for day in ("2024-10-25", "2024-10-28"):
        out = tmp_path / f"{day}.jsonl"
        args = ["run", str(DATA / f"hf_daily_papers_{day}.json"), "-o", str(out), "--policy", "rules", "-q", "--library", str(library)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert "library: " in result.stderr
    return library


def test_one_row_per_paper_across_days_with_first_and_last_seen(two_days: Path) -> None:
    with Library(two_days, create=False) as library:
        assert len(library) == 9  # 6 + 5, two listed on both days
        hallu = library.get("2410.16251")
        assert hallu is not None and hallu.meta.upvotes == 50, "the later record, with the later upvotes"
        (hit,) = library.search("hallucinations knowledge editing")
        assert (hit.id, hit.first_seen, hit.last_seen, hit.listings) == ("2410.16251", "2024-10-25", "2024-10-25", 2)
        assert library.first_seen(["2410.18975", "2410.16251", "unknown"]) == {"2410.18975": "2024-10-28", "2410.16251": "2024-10-25"}
        stats = library.stats()
    assert (stats.papers, stats.extracted, stats.listings, stats.sightings, stats.seen_more_than_once) == (9, 9, 2, 11, 0)


def test_the_sqlite3_module_opens_it_as_documented(two_days: Path) -> None:
    conn = sqlite3.connect(two_days)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(papers)")]
    assert columns == list(PAPER_COLUMNS)
    rows = conn.execute(
        "SELECT p.id FROM papers_fts JOIN papers p ON p.rowid = papers_fts.rowid WHERE papers_fts MATCH 'contrastive' ORDER BY rank"
    ).fetchall()
    assert rows == [("2410.17243",)]
    seen = conn.execute("SELECT listing, seen FROM listings WHERE paper_id = '2410.18533' ORDER BY seen").fetchall()
    assert [day for _, day in seen] == ["2024-10-25", "2024-10-25"]  # the run's day is the listing's own (put on Daily Papers)
    record = json.loads(conn.execute("SELECT record FROM papers WHERE id = '2410.17243'").fetchone()[0])
    assert record["meta"]["authors"][0] == "Zesen Cheng"
    conn.close()
    doc = (ROOT / "docs" / "library.md").read_text()
    missing = [c for c in [*PAPER_COLUMNS, *FTS_COLUMNS, "listings", "papers_fts", "library_info"] if f"`{c}`" not in doc]
    assert not missing, f"docs/library.md does not describe {missing}"


def test_the_latest_record_rule_is_the_record_files_rule(tmp_path: Path) -> None:
    sequence = [record(1, version="a"), record(1, ok=False), record(2, ok=False), record(2, version="b"),
                record(3, ok=False, version="c"), record(3, ok=False, version="d"), record(1, version="e")]  # fmt: skip
    with Library(tmp_path / "lib.db") as library:
        stats = library.add(sequence[:3])
        stats2 = library.add(sequence[3:])
        kept = latest_copies((r.id, r.ok) for r in sequence)
        for pid, index in kept.items():
            assert library.get(pid) == sequence[index], pid
    assert (stats.new, stats.kept) == (2, 1) and (stats2.new, stats2.updated) == (1, 3)


def test_search_filters_and_queries_that_are_not_syntax(tmp_path: Path) -> None:
    records = [record(i, day=f"2024-10-{10 + i % 5:02d}", word="diffusion" if i % 2 else "retrieval") for i in range(40)]
    records[3] = records[3].model_copy(update={"code_status": "linked"})
    with Library(tmp_path / "lib.db") as library:
        library.add(records)
        assert {h.id for h in library.search("diffusion", limit=100)} == {r.id for r in records if "diffusion" in r.title}
        assert all(h.last_seen >= "2024-10-13" for h in library.search("models", since="2024-10-13", limit=100))
        assert [h.id for h in library.search("", code=True)] == ["p00003"]
        kinds = {h.kind for h in library.search("models", kind="survey", limit=100)}
        assert kinds == {"survey"}
        for odd in ['GPT-4', 'C++', '"unclosed', 'a OR', 'NOT', '*', 'paper"s', "col:umn", "(x"]:
            library.search(odd)  # no FTS5 syntax error reaches the user
        assert library.search('"problem 7 with"')[0].id == "p00007"
        assert library.search("diffus*", limit=1)[0].snippet.count("«") >= 1


def test_search_and_library_commands(two_days: Path, tmp_path: Path) -> None:
    env = {"EXTRACTOR_LIBRARY": str(two_days)}
    result = CliRunner().invoke(main, ["search", "hallucinations", "--json"], env=env)
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert [h["id"] for h in hits] == ["2410.16251", "2410.18533"], "the title's word ranks first"
    assert hits[0]["first_seen"] == "2024-10-25" and "«hallucinations»" in hits[0]["snippet"]
    text = CliRunner().invoke(main, ["search", "memory", "--since", "2024-10-01", "--library", str(two_days)])
    assert text.exit_code == 0 and text.stdout.startswith("2410.17243  2024-10-25 ▲64  Breaking the Memory Barrier") and "3 papers" in text.stderr
    assert CliRunner().invoke(main, ["search", "memory", "--since", "Oct 1"], env=env).exit_code == 2
    stats = CliRunner().invoke(main, ["library", "stats", "--json"], env=env)
    assert json.loads(stats.stdout)["papers"] == 9
    out = tmp_path / "export.jsonl"
    exported = CliRunner().invoke(main, ["library", "export", "-o", str(out), "--since", "2024-10-28"], env=env)
    assert exported.exit_code == 0 and "exported 3 papers" in exported.stderr  # run takes each item's own day
    page = tmp_path / "export.html"
    assert CliRunner().invoke(main, ["digest", str(out), "-o", str(page)]).exit_code == 0
    assert CliRunner().invoke(main, ["library", "path"], env=env).stdout.strip() == str(two_days)


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_what_is_not_a_library_is_refused_in_one_line_and_never_written(tmp_path: Path) -> None:
    listing = tmp_path / "listing.jsonl"
    listing.write_text('{"title": "T", "abstract": "A."}\n')
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    newer = tmp_path / "newer.db"
    Library(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    cases = [(listing, "not an SQLite database"), (other, "another program"), (newer, "newer extractor (schema 99")]
    for path, words in cases:
        before = digest_of(path)
        with pytest.raises(LibraryError, match=re.escape(words)) as caught:
            Library(path)
        assert "\n" not in str(caught.value) and "not touched" in str(caught.value)
        result = CliRunner().invoke(main, ["run", str(listing), "-o", str(tmp_path / "r.jsonl"), "--policy", "rules",
                                           "-q", "--library", str(path)])  # fmt: skip
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1 and words in result.stderr
        assert digest_of(path) == before
    assert not (tmp_path / "r.jsonl").exists(), "refused before anything was run"
    missing = CliRunner().invoke(main, ["search", "x", "--library", str(tmp_path / "none.db")])
    assert missing.exit_code == 2 and "no library here yet" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    with Library(empty) as library:  # an empty file is an empty database: made into a library
        assert len(library) == 0
    csv = CliRunner().invoke(main, ["run", str(listing), "-o", str(tmp_path / "r.csv"), "--library", str(empty), "--policy", "rules"])
    assert csv.exit_code == 2 and "write them as JSONL" in csv.stderr


WRITER = """
import sys
from extractor import Library
with Library(sys.argv[1]) as library:
    stats = library.add_file(sys.argv[2], listing=sys.argv[3], seen=sys.argv[4])
print(stats.records, stats.new, stats.updated)
"""


def python(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_two_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    library = tmp_path / "library.db"
    a = write_records(tmp_path / "a.jsonl", [record(i, day="2024-10-25") for i in range(0, 3000)])
    b = write_records(tmp_path / "b.jsonl", [record(i, day="2024-10-26") for i in range(2500, 5500)])
    writers = [python(str(library), str(a), "listing a", "2024-10-25"), python(str(library), str(b), "listing b", "2024-10-26")]
    results = [w.communicate(timeout=240) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], results
    conn = sqlite3.connect(library)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT count(*) FROM papers").fetchone() == (5500,)
    assert conn.execute("SELECT count(*) FROM listings").fetchone() == (6000,)
    both = conn.execute("SELECT count(*) FROM papers WHERE first_seen = '2024-10-25' AND last_seen = '2024-10-26'").fetchone()
    assert both == (500,)
    assert conn.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'retrieval'").fetchone() == (5500,)
    conn.close()


def test_kill_9_mid_write_corrupts_nothing_and_a_rerun_completes(tmp_path: Path) -> None:
    library = tmp_path / "library.db"
    n = 30 * CHUNK
    records = write_records(tmp_path / "big.jsonl", [record(i, day="2024-10-25") for i in range(n)])
    writer = python(str(library), str(records), "big", "2024-10-25")
    count = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and writer.poll() is None:
        if library.exists():
            try:
                with sqlite3.connect(library, timeout=5) as conn:
                    count = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
            except sqlite3.OperationalError:  # the schema is being made
                count = 0
            if count >= 2 * CHUNK:
                break
        time.sleep(0.01)
    assert writer.poll() is None, "the writer ended before it could be killed"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert writer.returncode == -signal.SIGKILL
    conn = sqlite3.connect(library)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    assert 2 * CHUNK <= papers < n and papers % CHUNK == 0, "whole chunks, committed or not at all"
    assert conn.execute("SELECT count(*) FROM listings").fetchone()[0] == papers
    assert conn.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'retrieval'").fetchone()[0] == papers
    conn.close()
    again = python(str(library), str(records), "big", "2024-10-25")
    out, errors = again.communicate(timeout=240)
    assert again.returncode == 0, errors
    with Library(library) as opened:
        assert len(opened) == n and opened.stats().sightings == n


def test_the_benchmark_prints_its_tables(tmp_path: Path) -> None:
    """benchmarks/library.py end to end on a few papers; timings are never asserted."""
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "library.py"), "--papers", "120", "--queries", "5"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| add (Library.add_file, new library) | 120 |" in result.stdout
    assert "| search answers | < 100 ms |" in result.stdout
