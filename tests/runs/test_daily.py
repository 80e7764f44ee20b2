"""``extractor daily``: fetch (a real loopback server with the Hub's and arXiv's fixtures),
run (a real loopback model server), library (a real SQLite file), digest (a real page)."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor import Library
from extractor.cli import main

from ..fixture_server import FixtureServer
from ..helpers import DAY1, DAY2, RECURRING, daily
from ..stub_server import StubServer


@pytest.fixture
def listings():
    with FixtureServer() as server:
        yield server


def cards(page: Path) -> list[dict]:
    blob = re.search(r'<script type="application/json" id="digest-data">(.*?)</script>', page.read_text(), re.S)
    assert blob is not None
    return json.loads(blob.group(1).replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&"))["cards"]


def test_two_days_mark_the_recurring_papers_as_seen_before(listings: FixtureServer, tmp_path: Path) -> None:
    first = daily(listings, tmp_path, "--date", DAY1)
    assert first.exit_code == 0, first.output
    page1 = Path(first.stdout.strip())
    assert page1 == tmp_path / "days" / f"{DAY1}-hf" / "digest.html"
    assert "hf 2024-10-25: 6 papers (fetched): 6 new, 0 seen before" in first.stderr
    assert all(c["seen"] == {"first": DAY1, "new": True} for c in cards(page1))
    second = daily(listings, tmp_path, "--date", DAY2, "--digest-format", "md")
    assert second.exit_code == 0, second.output
    assert "5 papers (fetched): 3 new, 2 seen before" in second.stderr
    page2 = tmp_path / "days" / f"{DAY2}-hf" / "digest.md"
    assert second.stdout.strip() == str(page2)
    text = page2.read_text()
    assert "5 papers (5 unique, 0 failed) · 3 new today, 2 still listed" in text
    assert text.count("Still listed: first seen 2024-10-25") == 2 and text.count("**New** today") == 3
    html = daily(listings, tmp_path, "--date", DAY2)  # the page too: the same marks in its data
    marks = {c["href"].rsplit("/", 1)[-1]: c["seen"] for c in cards(Path(html.stdout.strip()))}
    assert {pid for pid, seen in marks.items() if not seen["new"]} == RECURRING
    assert all(seen["first"] == (DAY1 if pid in RECURRING else DAY2) for pid, seen in marks.items())
    with Library(tmp_path / "library.db", create=False) as library:
        assert len(library) == 9
        hallu = library.get("2410.16251")
        assert hallu.meta.upvotes == 50, "what the later listing says"
        (hit,) = [h for h in library.search("hallucinations") if h.id == "2410.16251"]
        assert (hit.first_seen, hit.last_seen, hit.listings) == (DAY1, DAY2, 2)


def test_search_finds_a_paper_by_a_word_of_its_abstract_across_both_days(listings: FixtureServer, tmp_path: Path) -> None:
    for day in (DAY1, DAY2):
        assert daily(listings, tmp_path, "--date", day).exit_code == 0
    env = {"EXTRACTOR_LIBRARY": str(tmp_path / "library.db")}
    day1_word = CliRunner().invoke(main, ["search", "materialization", "--json"], env=env)  # 2410.17243, day 1 only
    assert [json.loads(line)["id"] for line in day1_word.stdout.splitlines()] == ["2410.17243"]
    day2_word = CliRunner().invoke(main, ["search", "chart", "--json"], env=env)  # 2410.18798, day 2 only
    assert [json.loads(line)["id"] for line in day2_word.stdout.splitlines()] == ["2410.18798"]
    both = CliRunner().invoke(main, ["search", "preference optimization", "--since", DAY2, "--json"], env=env)
    assert "2410.18533" in [json.loads(line)["id"] for line in both.stdout.splitlines()]


def test_running_again_the_same_day_sends_no_request(listings: FixtureServer, tmp_path: Path) -> None:
    with StubServer() as model:
        first = daily(listings, tmp_path, "--date", DAY1, model=model)
        assert first.exit_code == 0, first.output
        asked, fetched = model.requests, len(listings.requests)
        assert asked >= 6 and fetched == 1
        again = daily(listings, tmp_path, "--date", DAY1, model=model)
        assert again.exit_code == 0, again.output
        assert model.requests == asked, "no request to the model"
        assert len(listings.requests) == fetched, "a finished day's listing is read from its file"
        assert "read from the saved listing" in again.stderr and "already in output 6" in again.stderr
        refreshed = daily(listings, tmp_path, "--date", DAY1, "--refresh", model=model)
        assert refreshed.exit_code == 0 and len(listings.requests) == fetched + 1 and model.requests == asked


def test_an_arxiv_day(listings: FixtureServer, tmp_path: Path) -> None:
    result = daily(listings, tmp_path, "--source", "arxiv", "--category", "cs.CL", "--date", "2024-10-24")
    assert result.exit_code == 0, result.output
    (request,) = listings.paths("/api/query")
    assert request["query"]["search_query"] == "cat:cs.CL AND submittedDate:[202410240000 TO 202410242359]"
    page = Path(result.stdout.strip())
    assert page.parent.name == "2024-10-24-arxiv-cs.CL"
    assert any(c["meta"]["categories"][:1] == ["cs.SE"] for c in cards(page))
    assert CliRunner().invoke(main, ["daily", "--source", "arxiv"]).exit_code == 2, "arxiv needs --category"


def test_a_day_without_papers(listings: FixtureServer, tmp_path: Path) -> None:
    result = daily(listings, tmp_path, "--date", "2024-10-26")
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "0 papers" in result.stderr


def test_no_network_and_a_bad_library_end_in_one_line(listings: FixtureServer, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    offline = CliRunner().invoke(main, ["daily", "--endpoint", closed, "--fetch-retries", "0", "--dir", str(tmp_path / "d"),
                                        "--library", str(tmp_path / "lib.db"), "--policy", "rules", "--date", DAY1])  # fmt: skip
    assert offline.exit_code == 2 and len(offline.stderr.strip().splitlines()) == 1
    assert "Connection refused" in offline.stderr
    bad = tmp_path / "notes.db"
    bad.write_text("my notes\n")
    refused = CliRunner().invoke(main, ["daily", "--endpoint", listings.url, "--library", str(bad), "--dir", str(tmp_path / "d"),
                                        "--policy", "rules", "--date", DAY1])  # fmt: skip
    assert refused.exit_code == 2 and "not an SQLite database" in refused.stderr
    assert listings.requests == [] and bad.read_text() == "my notes\n"
