"""Listings in the shapes users have: the Hugging Face API's own JSON (array or JSONL, current
and 2024 shape), dotted keys, extra fields kept, pasted pages with card metadata.

The Hub fixtures are in tests/data/daily/ (see its README: which values are real and which
are synthetic); the pasted page with cards is synthetic, built from the real titles and
abstracts of 2024-10-25, as no stored public paste shows a card's rendered text.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.cli import main
from extractor.errors import InputError
from extractor.records.listings import read_papers, survey
from extractor.schema import Paper, PaperMeta, Record

from ..conftest import ROOT

DATA = ROOT / "tests" / "data" / "daily"
DAY1 = DATA / "hf_daily_papers_2024-10-25.json"
DAY2_JSONL = DATA / "hf_daily_papers_2024-10-28.jsonl"
LEGACY = DATA / "hf_daily_papers_2024-10-25.legacy.json"
REAL_2026 = DATA / "hf_daily_papers_2026-03-06.real-element.json"
PASTE = DATA / "hf_page_with_cards.txt"


def read_all(inputs, **kwargs) -> tuple[list[Paper], list[InputError]]:
    errors: list[InputError] = []
    return list(read_papers(inputs, on_error=errors.append, **kwargs)), errors


def test_the_hub_json_array_is_read_as_it_is_with_every_field_kept() -> None:
    papers, errors = read_all([DAY1])
    assert errors == []
    assert [p.id for p in papers] == ["2410.17243", "2410.16251", "2410.18533", "2410.18693", "2410.18978", "2410.18745"]
    first = papers[0]
    assert first.title == "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss"
    assert first.abstract.startswith("Contrastive loss is a powerful approach") and "\n" not in first.abstract
    assert first.source.line == 2  # where the item starts in the pretty-printed array
    meta = first.meta
    assert meta is not None
    assert (meta.arxiv_id, meta.upvotes, meta.comments, meta.submitted_by) == ("2410.17243", 64, 3, "ClownRat")
    assert meta.authors[:3] == ["Zesen Cheng", "Hang Zhang", "Kehan Li"] and len(meta.authors) == 9
    assert meta.listing_date == "2024-10-25" and meta.published == "2024-10-22T17:59:30.000Z"
    assert meta.url == "https://huggingface.co/papers/2410.17243" and meta.pdf_url == "https://arxiv.org/pdf/2410.17243"
    assert meta.thumbnail.endswith("/2410.17243.png")
    assert meta.extra["paper.ai_summary"].startswith("A tile-based")
    assert meta.extra["paper.discussionId"] == "671b005126d87414f5a615f4"
    assert "paper.mediaUrls" in meta.extra and "mediaUrls" not in meta.extra  # the Hub repeats it: kept once
    hallu = papers[1].meta
    assert hallu.github_repo == "https://github.com/llm-editing/HalluEditBench" and hallu.github_stars is not None


def test_the_hub_jsonl_and_the_2024_shape_and_a_real_2026_item() -> None:
    day2, errors = read_all([DAY2_JSONL])
    assert errors == [] and len(day2) == 5 and all(p.meta.listing_date for p in day2)
    assert [p.source.line for p in day2] == [1, 2, 3, 4, 5]
    legacy, errors = read_all([LEGACY])
    assert errors == [] and len(legacy) == 6
    # 2024: no submittedOnDailyAt; the top-level publishedAt was the day it was listed
    assert {p.meta.listing_date for p in legacy} == {"2024-10-25"}
    assert legacy[0].meta.upvotes == 64 and legacy[0].meta.submitted_by == "ClownRat"
    (real,), errors = read_all([REAL_2026])
    assert errors == []
    meta = real.meta
    assert (meta.organization, meta.github_repo, meta.github_stars) == (
        "Multimedia and Human Understanding Group", "https://github.com/marco-garosi/CIRCLE", 9)  # fmt: skip
    assert meta.project_page == "https://circle-lmm.github.io/" and meta.listing_date == "2026-03-06"


def test_json_is_told_by_its_first_line_also_on_stdin_and_in_a_txt_file(tmp_path: Path) -> None:
    """What the issue saw: the Hub's array piped in was read as a page ("has no title before it")."""
    text = DAY1.read_text()
    papers, errors = read_all(["-"], stdin=io.BytesIO(text.encode()))
    assert errors == [] and len(papers) == 6 and papers[0].meta.upvotes == 64
    saved = tmp_path / "hub.txt"
    saved.write_text(json.dumps(json.loads(text)))  # one line, no extension that says JSON
    papers, errors = read_all([saved])
    assert errors == [] and len(papers) == 6
    forced, errors = read_all([saved], fmt="text")  # asked for a page: read as one
    assert forced == [] and errors


def test_dotted_keys_reach_into_nested_objects(tmp_path: Path) -> None:
    rows = [{"paper": {"name": "A Title", "text": {"body": "It works well."}}, "meta2": {"n": 1}}]
    path = tmp_path / "nested.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    papers, errors = read_all([path], title_key="paper.name", abstract_key="paper.text.body")
    assert errors == []
    assert (papers[0].title, papers[0].abstract) == ("A Title", "It works well.")
    assert papers[0].meta.extra == {"meta2.n": 1}
    _, errors = read_all([path], abstract_key="paper.summary")
    assert "JSON object lacks 'title' and 'paper.summary' (has: 'paper', 'meta2')" in str(errors[0])
    # the Hub's items with the keys a user would try
    papers, errors = read_all([DAY1], title_key="paper.title", abstract_key="paper.summary")
    assert errors == [] and papers[0].id == "2410.17243" and papers[0].meta.upvotes == 64


def test_extra_fields_of_jsonl_and_csv_reach_the_paper(tmp_path: Path) -> None:
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps({
        "title": "A Title", "abstract": "It works.", "arxiv_id": "https://arxiv.org/abs/2401.01234v3",
        "authors": ["Ada", "Alan"], "upvotes": 12, "url": "https://example.org/p", "venue": "ICLR",
        "listing_date": "2024-03-14T09:00:00Z", "github_stars": "1.2k",
    }) + "\n")  # fmt: skip
    (paper,), errors = read_all([jsonl])
    assert errors == []
    assert paper.id == "2401.01234", "an arXiv id is the paper's id when no id is given"
    meta = paper.meta
    assert (meta.arxiv_id, meta.authors, meta.upvotes, meta.url, meta.listing_date) == (
        "2401.01234", ["Ada", "Alan"], 12, "https://example.org/p", "2024-03-14")  # fmt: skip
    assert meta.extra == {"venue": "ICLR", "github_stars": "1.2k"}, "a value that does not fit is kept, not refused"
    csv = tmp_path / "in.csv"
    csv.write_text("id,title,abstract,authors,upvotes,comment\np1,T,It works.,Ada; Alan,7,\n")
    (paper,), errors = read_all([csv])
    assert errors == [] and paper.id == "p1"
    assert (paper.meta.authors, paper.meta.upvotes, paper.meta.extra) == (["Ada", "Alan"], 7, {})
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps({"title": "T", "abstract": "It works."}) + "\n")
    (paper,), _ = read_all([plain])
    assert paper.meta is None, "a listing that says nothing more gives no metadata"


def test_papers_json_round_trips_its_metadata(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["papers", str(DAY1), "--json"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "papers.jsonl"
    out.write_text(result.output)
    again, errors = read_all([out])
    assert errors == []
    before, _ = read_all([DAY1])
    assert [(p.id, p.meta) for p in again] == [(p.id, p.meta) for p in before]


def test_the_pasted_page_keeps_date_upvotes_submitter_and_arxiv_ids() -> None:
    """Card lines ("Submitted by", upvote counts, "· 5 authors", "GitHub 1.2k") are never
    titles; no paper is skipped; an arXiv id shown anywhere on the card is the paper's id."""
    papers, errors = read_all([PASTE])
    assert errors == []
    hub, _ = read_all([DAY1])
    assert [p.title for p in papers] == [p.title for p in hub[:5]]
    assert [p.abstract for p in papers] == [p.abstract for p in hub[:5]]
    assert [p.meta.submitted_by for p in papers] == [p.meta.submitted_by for p in hub[:5]]
    assert [p.meta.upvotes for p in papers] == [64, 41, 37, 35, 27]
    assert {p.meta.listing_date[5:] for p in papers} == {"10-25"}  # "Oct 25": the latest Oct 25 until today
    assert papers[1].meta.github_stars == 1200
    assert [p.id for p in papers][2:4] == ["2410.18533", "2410.18693"]  # "arXiv:..." and an hf.co/papers link
    assert papers[2].meta.url == "https://huggingface.co/papers/2410.18533"
    assert papers[0].meta.extra == {"authors_shown": 9}


def test_card_lines_in_the_issue_never_become_titles(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(
        "Mar 14, 2024\nSubmitted by user0\n42\nFirst Real Title\n· 5 authors\nGitHub 1.2k\n"
        "Its abstract says we propose a thing.\nSubmitted by user1\n7\nSecond Real Title\n"
        "Another abstract that is long enough.\n[Third Title](https://huggingface.co/papers/2403.01234)\n"
        "A third abstract, from a Markdown list.\n"
    )
    papers, errors = read_all([page])
    assert errors == []
    assert [p.title for p in papers] == ["First Real Title", "Second Real Title", "Third Title"]
    assert [(p.meta.submitted_by, p.meta.upvotes) for p in papers[:2]] == [("user0", 42), ("user1", 7)]
    assert {p.meta.listing_date for p in papers} == {"2024-03-14"}
    assert papers[2].id == "2403.01234"


def test_an_arxiv_link_in_an_abstract_gives_the_id_and_metadata() -> None:
    (paper,) = read_papers(["-"], stdin=io.StringIO("A Title\nCode at arxiv.org/abs/2401.01234v2 soon.\n"))
    assert paper.id == "2401.01234" and paper.meta.arxiv_id == "2401.01234"
    assert paper.meta.pdf_url == "https://arxiv.org/pdf/2401.01234"


def test_old_record_files_still_load_and_new_ones_carry_meta() -> None:
    old = {"id": "p1", "title": "T", "abstract": "A", "source": {"path": "-", "line": 1}}
    assert Record.model_validate(old).meta is None
    (paper,) = read_papers([REAL_2026])
    record = Record.for_paper(paper)
    assert Record.model_validate_json(record.model_dump_json()).meta == paper.meta
    assert PaperMeta().is_empty() and not paper.meta.is_empty()


def test_run_keeps_arxiv_ids_authors_and_upvotes_into_records_and_digest(tmp_path: Path) -> None:
    out, page = tmp_path / "out.jsonl", tmp_path / "digest.html"
    result = CliRunner().invoke(main, ["run", str(DAY1), "-o", str(out), "--policy", "rules", "-q", "--digest", str(page)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    by_id = {r["id"]: r for r in records}
    assert set(by_id) == {"2410.17243", "2410.16251", "2410.18533", "2410.18693", "2410.18978", "2410.18745"}
    meta = by_id["2410.17243"]["meta"]
    assert (meta["arxiv_id"], meta["upvotes"], meta["authors"][0]) == ("2410.17243", 64, "Zesen Cheng")
    html = page.read_text()
    assert "Zesen Cheng" in html and '"upvotes":64' in html and "https://arxiv.org/pdf/2410.17243" in html
    md = tmp_path / "digest.md"
    assert CliRunner().invoke(main, ["digest", str(out), "-o", str(md)]).exit_code == 0
    text = md.read_text()
    assert "Zesen Cheng" in text and "▲ 64" in text and "(https://arxiv.org/abs/2410.17243)" in text


@pytest.mark.parametrize("shape", ["array", "jsonl"])
def test_survey_counts_the_hub_listing(shape: str) -> None:
    path = DAY1 if shape == "array" else DAY2_JSONL
    report = survey([path])
    assert report.errors == [] and len(report.papers) == (6 if shape == "array" else 5)
