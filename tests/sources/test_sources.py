"""Fetching listings: the Hugging Face Daily Papers and arXiv, against a real loopback HTTP
server that answers with the fixtures of tests/data/daily/ (shaped like the services'
answers; no test reaches huggingface.co or arxiv.org)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

import extractor
from extractor.cli import main
from extractor.errors import SourceError
from extractor.sources.fetch import FetchOptions, Pacer, fetch

from ..fixture_server import DATA, FixtureServer

DAY1 = json.loads((DATA / "hf_daily_papers_2024-10-25.json").read_text())
FAST = {"delay": 0.0, "backoff": 0.01}


@pytest.fixture
def server():
    with FixtureServer() as running:
        yield running


@pytest.fixture(autouse=True)
def no_hf_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sends the developer's token; a token saved on disk is there to be ignored."""
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "token").write_text("hf_saved_on_disk_never_sent")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch_cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["fetch", *args], env=env)


def test_fetch_hf_writes_every_item_as_the_hub_sent_it(server: FixtureServer, tmp_path: Path) -> None:
    out = tmp_path / "listing.jsonl"
    result = fetch_cli("hf", "--date", "2024-10-25", "-o", str(out), "--endpoint", server.url)
    assert result.exit_code == 0, result.output
    assert "fetched 6 papers (hf 2024-10-25)" in result.stderr
    items = [json.loads(line) for line in out.read_text().splitlines()]
    assert items == DAY1, "nothing dropped, nothing changed"
    (request,) = server.paths("/api/daily_papers")
    assert request["query"] == {"p": "0", "limit": "50", "date": "2024-10-25"}
    assert "hf_hub/" in request["user_agent"] and "extractor/" in request["user_agent"]
    assert request["authorization"] is None, "a token saved on disk is never sent"


def test_the_same_request_as_huggingface_hub_list_daily_papers(server: FixtureServer) -> None:
    """huggingface_hub's own call asks the same endpoint, but its PaperInfo keeps only the
    fields it knows (the GitHub repo only since huggingface_hub 2.5; not the listing day):
    why the items are kept as sent."""
    from huggingface_hub import HfApi

    theirs = list(HfApi(endpoint=server.url).list_daily_papers(date="2024-10-25", token=False))
    ours = fetch("hf", date="2024-10-25", options=FetchOptions(endpoint=server.url, **FAST)).papers()
    assert [p.id for p in theirs] == [p.id for p in ours]
    assert ours[1].meta.github_repo == "https://github.com/llm-editing/HalluEditBench"
    assert getattr(theirs[1], "github_repo", None) in (None, ours[1].meta.github_repo)  # None before 2.5
    assert ours[0].meta.extra["paper.ai_summary"].startswith("A tile-based")


def test_hf_token_is_sent_when_set_and_stored_nowhere(server: FixtureServer, tmp_path: Path) -> None:
    out = tmp_path / "listing.jsonl"
    result = fetch_cli("hf", "--date", "2024-10-25", "-o", str(out), "--endpoint", server.url,
                       env={"HF_TOKEN": "hf_secret_test_token"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert server.requests[-1]["authorization"] == "Bearer hf_secret_test_token"
    assert "hf_secret_test_token" not in out.read_text() + result.output


def test_week_and_month_page_and_keep_each_paper_once(server: FixtureServer) -> None:
    options = FetchOptions(endpoint=server.url, **FAST)
    week = fetch("hf", week="2024-W44", options=options)  # 2024-10-28 is in ISO week 44
    assert week.query == {"week": "2024-W44"} and len(week) == 5
    month = fetch("hf", month="2024-10", options=options)
    ids = [p.id for p in month.papers()]
    assert len(ids) == 9 and len(set(ids)) == 9, "two papers are listed on both days: kept once"
    limited = fetch("hf", month="2024-10", limit=3, options=options)
    assert len(limited) == 3
    assert fetch("hf", week="2024-10-25", options=options).query == {"week": "2024-W43"}


def test_pages_are_asked_until_one_is_not_full(server: FixtureServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("extractor.sources.hf.PAGE_SIZE", 4)
    listing = fetch("hf", month="2024-10", options=FetchOptions(endpoint=server.url, **FAST))
    assert len(listing) == 9
    assert [r["query"]["p"] for r in server.paths("/api/daily_papers")] == ["0", "1", "2"]


def test_a_day_without_papers_is_an_empty_listing(server: FixtureServer, tmp_path: Path) -> None:
    out = tmp_path / "empty.jsonl"
    result = fetch_cli("hf", "--date", "2024-10-26", "-o", str(out), "--endpoint", server.url)
    assert result.exit_code == 0 and out.read_text() == ""
    assert "no papers listed for hf 2024-10-26" in result.stderr


def test_network_faults_are_retried(server: FixtureServer) -> None:
    options = FetchOptions(endpoint=server.url, retries=3, **FAST)
    server.fail_next(2, 503)
    assert len(fetch("hf", date="2024-10-25", options=options)) == 6
    server.fail_next(1, 0)  # the connection closed without an answer
    assert len(fetch("hf", date="2024-10-25", options=options)) == 6
    server.fail_next(1, 429)  # Retry-After: 0 (huggingface_hub waits it out, plus 1 s)
    assert len(fetch("hf", date="2024-10-25", options=options)) == 6
    assert len(server.paths("/api/daily_papers")) == 3 + 2 + 2


def test_faults_that_outlast_the_retries_end_in_one_line(server: FixtureServer) -> None:
    server.fail_next(3, 503)
    with pytest.raises(SourceError) as caught:
        fetch("hf", date="2024-10-25", options=FetchOptions(endpoint=server.url, retries=2, **FAST))
    message = str(caught.value)
    assert "\n" not in message and "answered HTTP 503 for date=2024-10-25" in message
    server.fail_next(1, 401)
    with pytest.raises(SourceError, match="HTTP 401 .*check HF_TOKEN"):
        fetch("hf", date="2024-10-25", options=FetchOptions(endpoint=server.url, retries=0, **FAST))


@pytest.mark.parametrize("source", ["hf", "arxiv"])
def test_a_refused_connection_is_one_line_and_a_nonzero_exit(source: str, tmp_path: Path) -> None:
    out = tmp_path / "listing.jsonl"
    args = ["--date", "2024-10-25"] if source == "hf" else ["--category", "cs.CL", "--since", "2024-10-25"]
    result = fetch_cli(source, *args, "-o", str(out), "--endpoint", f"http://127.0.0.1:{closed_port()}", "--retries", "1")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Connection refused" in lines[0] and "after 1 retry" in lines[0], result.stderr
    assert not out.exists(), "a failed fetch writes no listing"


def test_fetch_arxiv_keeps_categories_comments_and_the_pdf_link(server: FixtureServer, tmp_path: Path) -> None:
    out = tmp_path / "arxiv.jsonl"
    result = fetch_cli("arxiv", "--category", "cs.CL", "--since", "2023-12-01", "--until", "2025-07-31",
                       "-o", str(out), "--endpoint", server.url)  # fmt: skip
    assert result.exit_code == 0, result.output
    (request,) = server.paths("/api/query")
    assert request["query"]["search_query"] == "cat:cs.CL AND submittedDate:[202312010000 TO 202507312359]"
    assert request["query"]["sortBy"] == "submittedDate" and request["query"]["sortOrder"] == "descending"
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["2507.10541", "2503.23466", "2410.18533", "2410.16251", "2312.06056"]
    rest = rows[0]
    assert rest["version"] == 2 and rest["pdf_url"] == "https://arxiv.org/pdf/2507.10541v2"
    assert rest["arxiv_comment"].startswith("REST (Reasoning Evaluation") and rest["listing_date"] == "2025-07-14"
    assert rows[1]["categories"] == ["cs.SE", "cs.AI", "cs.CL", "cs.LG"], "the primary category first"
    papers = list(extractor.read_papers([out]))
    meta = papers[1].meta
    assert (meta.arxiv_id, meta.categories[0], meta.pdf_url) == ("2503.23466", "cs.SE", "https://arxiv.org/pdf/2503.23466v1")
    assert meta.authors == ["Max Hort", "Leon Moonen"] and meta.arxiv_comment.startswith("Accepted for publication")


def test_arxiv_errors_are_one_line(server: FixtureServer) -> None:
    options = FetchOptions(endpoint=server.url, retries=1, **FAST)
    with pytest.raises(SourceError, match=r"arxiv: .* answered HTTP 400 for cs\.XX 2024-01-01\.\.2024-01-01 after 1 retry"):
        fetch("arxiv", category="cs.XX", since="2024-01-01", options=options)
    with pytest.raises(SourceError, match="not an arXiv category"):
        fetch("arxiv", category="cs CL; drop", options=options)
    assert len(server.paths("/api/query")) == 2, "a malformed category is refused before any request"


def test_arguments_that_make_no_sense_are_refused_before_any_request(server: FixtureServer) -> None:
    options = FetchOptions(endpoint=server.url, **FAST)
    for source, kwargs, words in [
        ("hf", {"date": "2024-10-25", "week": "2024-W43"}, "give one of date, week or month"),
        ("hf", {"date": "Oct 25"}, "not a day"),
        ("hf", {"month": "October"}, "not a month"),
        ("arxiv", {"since": "2024-10-25"}, "needs a category"),
        ("arxiv", {"category": "cs.CL", "since": "2024-10-25", "until": "2024-10-01"}, "is before since"),
        ("rss", {}, "unknown source"),
    ]:
        with pytest.raises(SourceError, match=words):
            fetch(source, options=options, **kwargs)
    assert server.requests == []


def test_the_pacer_spaces_requests() -> None:
    now, slept = [0.0], []
    pacer = Pacer(3.0, clock=lambda: now[0], sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)))
    pacer.wait()
    now[0] += 1.0
    pacer.wait()
    now[0] += 5.0
    pacer.wait()
    assert slept == [2.0]


def test_the_python_api_and_run_read_a_fetched_listing(server: FixtureServer, tmp_path: Path) -> None:
    listing = extractor.fetch("hf", date="2024-10-28", options=extractor.FetchOptions(endpoint=server.url, **FAST))
    assert listing.name == "hf 2024-10-28" and len(listing) == 5
    path = listing.write(tmp_path / "day2.jsonl")
    records = tmp_path / "records.jsonl"
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(records), "--policy", "rules", "-q"])
    assert result.exit_code == 0, result.output
    by_id = {r["id"]: r for r in map(json.loads, records.read_text().splitlines())}
    again = by_id["2410.16251"]["meta"]  # listed again: the day it was put on Daily Papers stays the first
    assert (again["upvotes"], again["comments"], again["listing_date"]) == (50, 3, "2024-10-25")
    assert by_id["2410.18975"]["meta"]["listing_date"] == "2024-10-28"


def test_import_extractor_loads_no_source_or_library_client() -> None:
    """huggingface_hub, arxiv and sqlite_utils are imported only when a listing is fetched
    or a library made: `import extractor`, the CLI and `extractor.fetch` as a name do not."""
    import subprocess
    import sys

    code = ("import sys, extractor, extractor.cli; extractor.fetch; extractor.Library; "
            "print(sorted(m for m in ('huggingface_hub', 'arxiv', 'sqlite_utils', 'requests', 'lxml') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=DATA.parents[2])
    assert out.stdout.strip() == "[]"
