"""Tests for :mod:`extractor.records.listings`: seeds, formats, ids, flags, splitting, bad input."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from extractor.errors import InputError, InputWarning
from extractor.records.listings import dedupe, paper_from_text, read_papers, survey
from extractor.schema import Paper
from extractor.evidence.text import is_truncated, split_text
from extractor.records.identity import normalise_title, paper_id

from ..conftest import ROOT

SEEDS = ROOT / "seeds"
SEED_COUNTS = {"000": 99, "001": 250, "002": 88, "003": 90, "004": 81}
CHROME = ("get trending papers", "subscribe", "daily papers", "byak", "research community")
DATE = re.compile(r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{1,2}", re.I)


def seed(prefix: str) -> Path:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path


def read_all(inputs, **kwargs) -> tuple[list[Paper], list[InputError]]:
    errors: list[InputError] = []
    return list(read_papers(inputs, on_error=errors.append, **kwargs)), errors


@pytest.fixture(scope="module")
def seed_papers() -> list[Paper]:
    papers, errors = read_all([SEEDS])
    assert errors == []
    return papers


# --------------------------------------------------------------------------- seeds


def test_seed_totals(seed_papers: list[Paper]) -> None:
    assert len(seed_papers) == 608
    unique, dropped = dedupe(seed_papers)
    assert (len(unique), dropped) == (544, 64)


@pytest.mark.parametrize(("prefix", "count"), SEED_COUNTS.items())
def test_seed_per_file_counts(prefix: str, count: int) -> None:
    papers, errors = read_all([seed(prefix)])
    assert errors == []
    assert len(papers) == count
    assert {p.source.path for p in papers} == {str(seed(prefix))}


def test_survey_of_seed_directory() -> None:
    report = survey([SEEDS])
    assert (report.read, len(report.papers), report.duplicates) == (608, 544, 64)
    assert report.truncated == 4 and report.errors == []
    lines = report.describe().splitlines()
    assert lines[0].split() == ["papers", "read:", "608"] and lines[2].split()[-1] == "64"


def test_chrome_is_dropped(seed_papers: list[Paper]) -> None:
    for p in seed_papers:
        low = p.title.lower()
        assert not any(c in low for c in CHROME), p.title
        assert low != "new" and not DATE.fullmatch(p.title), p.title
        assert not any(c in p.abstract.lower() for c in CHROME[:1])


def test_glued_title_is_repaired() -> None:
    papers, _ = read_all([seed("001")])
    assert (papers[0].title, papers[0].source.line) == ("Language Model Cascades", 3)
    assert papers[0].abstract.startswith("Prompted models have demonstrated")
    assert not any(p.title.startswith("Subscribe") for p in papers)


def test_both_layouts(seed_papers: list[Paper]) -> None:
    consecutive, _ = read_all([seed("001")])  # no blank lines
    assert [p.source.line for p in consecutive[:3]] == [3, 5, 7]
    blank, _ = read_all([seed("000")])  # blank line between title and abstract
    assert (blank[0].title, blank[0].source.line) == ("A Multigrid Method for Efficiently Training Video Models", 11)
    assert blank[1].source.line == 15
    assert all(len(p.abstract) > 400 and len(p.title) < 200 for p in seed_papers)


def test_same_papers_in_either_layout(tmp_path: Path) -> None:
    papers, _ = read_all([seed("003")])
    spaced = tmp_path / "spaced.txt"
    spaced.write_text("\n\n".join(f"{p.title}\n\n{p.abstract}" for p in papers))
    tight = tmp_path / "tight.md"
    tight.write_text("Daily Papers\n" + "\n".join(f"{p.title}\n{p.abstract}" for p in papers) + "\n")
    for path in (spaced, tight):
        again, errors = read_all([path])
        assert errors == []
        assert [(p.id, p.title, p.abstract, p.truncated) for p in again] == [
            (p.id, p.title, p.abstract, p.truncated) for p in papers
        ]


# --------------------------------------------------------------------------- ids


def test_ids_survive_reordering_and_repasting(tmp_path: Path) -> None:
    papers, _ = read_all([seed("002")])
    shuffled = tmp_path / "shuffled.txt"
    shuffled.write_text("\n".join(f"  {p.title.upper()}  \n{p.abstract}" for p in reversed(papers)))
    again, _ = read_all([shuffled])
    assert {normalise_title(p.title): p.id for p in again} == {normalise_title(p.title): p.id for p in papers}
    assert all(re.fullmatch(r"[0-9a-f]{12}", p.id) for p in papers)


def test_arxiv_ids() -> None:
    assert paper_id("T", "See arxiv.org/abs/2401.12345v2 for details.") == "2401.12345"
    assert paper_id("Foo (arXiv:2312.00001)", "An abstract.") == "2312.00001"
    assert paper_id("T", "https://arxiv.org/pdf/2401.01234.pdf and huggingface.co/papers/2401.01234") == "2401.01234"
    assert paper_id("T", "Old style arXiv:hep-th/9901001.") == "hep-th/9901001"
    two = paper_id("T", "We extend arXiv:2301.00001 and arXiv:2302.00002.")
    assert re.fullmatch(r"[0-9a-f]{12}", two)  # ambiguous: falls back to the title hash
    assert paper_id("The Title!", "x") == paper_id("  the   title ", "y")


def test_normalise_title() -> None:
    assert normalise_title("  Ｗeak-to-Strong:  Reasoning! ") == "weak to strong reasoning"
    assert normalise_title("PixArt-Σ") == "pixart σ"


def test_dedupe_keeps_longest_abstract_in_first_place() -> None:
    a1 = paper_from_text("Short.", "Same Title", line=1)
    b = paper_from_text("Other.", "Another", line=2)
    a2 = paper_from_text("A much longer abstract.", "same title!", line=3)
    kept, dropped = dedupe([a1, b, a2])
    assert dropped == 1
    assert [(p.title, p.source.line) for p in kept] == [("same title!", 3), ("Another", 2)]


# --------------------------------------------------------------------------- formats


def test_jsonl_csv_and_keys(tmp_path: Path) -> None:
    jl = tmp_path / "a.jsonl"
    jl.write_text(
        json.dumps({"id": "x1", "title": "J One", "abstract": "First."}) + "\n\n"
        + json.dumps({"title": "J Two", "abstract": "See arXiv:2401.00002."}) + "\n"
    )
    papers, errors = read_all([jl])
    assert errors == []
    assert [(p.id, p.title, p.source.line) for p in papers] == [("x1", "J One", 1), ("2401.00002", "J Two", 3)]

    nd = tmp_path / "b.ndjson"
    nd.write_text(json.dumps({"name": "N", "summary": "Cut off mid"}) + "\n")
    papers, _ = read_all([nd], title_key="name", abstract_key="summary")
    assert (papers[0].title, papers[0].truncated) == ("N", True)

    cs = tmp_path / "c.csv"
    cs.write_text('id,title,abstract\n,C One,"Multi\nline, quoted."\n7,C Two,Second.\n')
    papers, errors = read_all([cs])
    assert errors == []
    assert [(p.title, p.abstract, p.source.line) for p in papers] == [
        ("C One", "Multi line, quoted.", 2),
        ("C Two", "Second.", 4),
    ]
    assert papers[0].id == paper_id("C One") and papers[1].id == "7"


def test_stdin_and_format_override(tmp_path: Path) -> None:
    text = "Subscribe\nA Title\nAn abstract.\n"
    papers, _ = read_all(["-"], stdin=io.StringIO(text))
    assert [(p.title, p.source.path, p.source.line) for p in papers] == [("A Title", "-", 2)]

    line = json.dumps({"title": "T", "abstract": "A."}) + "\n"
    papers, _ = read_all(["-"], stdin=io.StringIO(line), fmt="jsonl")
    assert [p.title for p in papers] == ["T"]

    disguised = tmp_path / "listing.txt"
    disguised.write_text(line)
    assert [p.title for p in read_all([disguised], fmt="jsonl")[0]] == ["T"]
    unknown = tmp_path / "listing.data"  # unknown extension: read as text
    unknown.write_text(text)
    assert [p.title for p in read_all([unknown])[0]] == ["A Title"]
    with pytest.raises(ValueError, match="unknown format"):
        read_papers([unknown], fmt="xml")


def test_directory_expansion(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("B Title\nB abstract.\n")
    (tmp_path / "a.jsonl").write_text(json.dumps({"title": "A Title", "abstract": "A."}) + "\n")
    (tmp_path / "c.csv").write_text("title,abstract\nC Title,C.\n")
    (tmp_path / "notes.log").write_text("ignored\n")
    (tmp_path / "sub.txt").mkdir()
    papers, errors = read_all([tmp_path])
    assert errors == []
    assert [p.title for p in papers] == ["A Title", "B Title", "C Title"]


def test_reading_is_streaming() -> None:
    def lines():
        yield from ["Title One\n", "Abstract one.\n", "Title Two\n", "Abstract two.\n"]
        raise AssertionError("read past the second paper's title")

    papers = read_papers(["-"], stdin=lines())  # type: ignore[arg-type]
    assert next(papers).title == "Title One"


def test_paper_from_text() -> None:
    p = paper_from_text("An abstract about things", title=None)
    assert p.title == "" and p.truncated and p.id == paper_id("", "An abstract about things")


# --------------------------------------------------------------------------- truncated


def test_truncated_seed_examples(seed_papers: list[Paper]) -> None:
    by_title = {p.title: p for p in seed_papers}
    assert by_title["Speculative Decoding with Big Little Decoder"].truncated
    assert by_title["AI Chains: Transparent and Controllable Human-AI Interaction by Chaining Large Language Model Prompts"].truncated
    for title in (
        "CARD: Channel Aligned Robust Blend Transformer for Time Series Forecasting",  # "repository:https://..."
        "MADation: Face Morphing Attack Detection with Foundation Models",  # "https: //github.com/..."
        "Efficient NLP Model Finetuning via Multistage Data Filtering",  # ".../efficient- NLP-multistage-training"
        "Soft Prompt Tuning for Augmenting Dense Retrieval with Large Language Models",  # "... for DR."
        "A Multigrid Method for Efficiently Training Video Models",
    ):
        assert not by_title[title].truncated, title
    assert sum(p.truncated for p in seed_papers) == 5


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("We propose a method.", False),
        ("Does it work? Yes!", False),
        ('He said "it works."', False),
        ("It works (see below.)", False),
        ("Code: https://github.com/a/b", False),
        ("Code at github.com/a/b.", False),
        ("Code at bit.ly/3VA5DoT", False),
        ("Following Smith et al.", False),
        ("We improve accuracy by 4.5", True),
        ("We compare with prior work, e.g.", True),
        ("as shown in Fig.", True),
        ("Results (following Wortsman et al.", True),
        ("The model is then...", True),
        ("The model is then …", True),
        ("Our contributions are:", True),
        ("", True),
    ],
)
def test_truncated_synthetic(text: str, cut: bool) -> None:
    assert is_truncated(text) is cut


# --------------------------------------------------------------------------- split_text

LONG = (
    "Deep models (e.g. ResNets) dominate vision. Our method is 4.5 times faster than Smith et al. and "
    "uses the data of Fig. 3 as a probe. Code is at https://github.com/a/b.c and docs at www.x.org/y. "
    "We study three settings! Does it scale? Yes. "
    + "This sentence is long because it keeps going with many words " * 6
    + "until it ends. Finally, i.e. in short, we win."
)


@pytest.mark.parametrize("max_chars", [60, 120, 250, 10_000])
def test_split_text(max_chars: int) -> None:
    parts = split_text(LONG, max_chars)
    assert " ".join(parts).split() == LONG.split()
    assert all(len(p) <= max_chars for p in parts)
    for p in parts:
        assert p == p.strip() and p in LONG
        assert not p.endswith(("e.g.", "4.", "et al.", "Fig.", "i.e.", "b.")), p
    if max_chars == 10_000:
        assert parts == [LONG]


def test_split_text_boundaries() -> None:
    parts = split_text(LONG, 120)
    assert parts[0] == "Deep models (e.g. ResNets) dominate vision."
    assert "4.5 times faster than Smith et al. and uses the data of Fig. 3 as a probe." in parts[1]
    assert split_text("", 10) == [] and split_text("One. Two.", 4) == ["One.", "Two."]
    assert split_text("supercalifragilistic word", 5) == ["supercalifragilistic", "word"]
    with pytest.raises(ValueError):
        split_text("x", 0)


# --------------------------------------------------------------------------- bad input


def check_error(err: InputError, path: Path | str, line: int, words: str) -> None:
    message = str(err)
    assert "\n" not in message
    assert err.path == str(path) and err.line == line
    assert message.startswith(f"{path}:{line}: " if line else f"{path}: ")
    assert words in message, message


def test_bad_inputs_are_reported_and_skipped(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Good Title\nA good abstract.\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n  \n")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"T One\nCaf\xe9 abstract.\nT Two\nFine abstract.\n")
    jl = tmp_path / "bad.jsonl"
    jl.write_text(
        '{"title": "J1", "abstract": "ok."}\n{"title": "J2", "abstract": \n'
        '{"title": "J3"}\n[1, 2]\n{"title": "J5", "abstract": 5}\n{"title": "J6", "abstract": "ok."}\n'
    )
    cs = tmp_path / "bad.csv"
    cs.write_text("name,text\nX,Y\n")
    missing = tmp_path / "missing.txt"
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    (nothing / "readme.rst").write_text("not a listing\n")
    chrome_only = tmp_path / "chrome.txt"
    chrome_only.write_text("new\nSubscribe\nMar 14\n")

    inputs = [good, empty, blank, binary, latin, jl, cs, missing, nothing, chrome_only, good]
    papers, errors = read_all(inputs)
    assert [p.title for p in papers] == ["Good Title", "T One", "T Two", "J1", "J6", "Good Title"]
    assert papers[1].abstract == "Café abstract."  # read as cp1252, with a warning
    assert len(errors) == 12
    it = iter(errors)
    check_error(next(it), empty, 0, "empty file")
    check_error(next(it), blank, 0, "empty file")
    check_error(next(it), binary, 0, "binary file")
    check_error(next(it), latin, 2, "not valid UTF-8 (byte 0xe9 at offset 3); read as cp1252: 'Caf")
    check_error(next(it), jl, 2, "not valid JSON (Expecting value, column 1); line skipped")
    check_error(next(it), jl, 3, "JSON object lacks 'abstract'")
    check_error(next(it), jl, 4, "expected a JSON object, got list")
    check_error(next(it), jl, 5, "'abstract' is int, expected text")
    check_error(next(it), cs, 1, "CSV header lacks column 'title' and 'abstract' (has: 'name', 'text')")
    check_error(next(it), missing, 0, "no such file")
    check_error(next(it), nothing, 0, "directory holds no .txt/.md/.jsonl/.ndjson/.json/.csv files")
    check_error(next(it), chrome_only, 0, "no papers found")  # one error, not one per chrome line
    assert list(it) == []
    assert papers[-1].source.path == str(good)


def test_text_structure_problems(tmp_path: Path) -> None:
    path = tmp_path / "odd.txt"
    path.write_text(
        "Stray abstract text with no title before it.\nMore of it.\n"
        "Orphan Title\nReal Title\nIts abstract.\nLast Title\n"
    )
    papers, errors = read_all([path])
    assert [p.title for p in papers] == ["Real Title"]
    assert [(e.line, e.reason.split(" ")[0]) for e in errors] == [(1, "text"), (3, "title"), (6, "title")]
    assert "has no abstract" in str(errors[1])


def test_short_unfinished_abstracts_by_look_ahead(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_text("T1\r\n\r\nShort abstract one\r\nT2\r\nShort abstract two\r\n")
    papers, errors = read_all([path])
    assert errors == []
    assert [(p.title, p.abstract, p.truncated, p.source.line) for p in papers] == [
        ("T1", "Short abstract one", True, 1),
        ("T2", "Short abstract two", True, 4),
    ]


def test_without_on_error_the_first_problem_is_raised(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing.txt: no such file"):
        list(read_papers([tmp_path / "missing.txt"]))
    seen: list[InputError] = []
    report = survey([tmp_path / "missing.txt", seed("004")], on_error=seen.append)
    assert len(report.papers) == 81 and report.errors == seen and len(seen) == 1


# --------------------------------------------------------------------------- bad bytes, long text, counts


def test_a_latin1_title_and_abstract_line_lose_no_paper(tmp_path: Path) -> None:
    """99 papers, one title line and one abstract line written in latin-1: 99 papers
    read (none dropped with its neighbour), each changed line named in a warning."""
    lines = seed("000").read_text(encoding="utf-8").splitlines()
    clean, errors = read_all([seed("000")])
    assert len(clean) == 99 and errors == []
    title_at = next(p.source.line for p in clean[10:] if p.title.isascii()) - 1
    abstract_at = next(i for i in range(title_at + 20, len(lines)) if len(lines[i]) > 300 and lines[i].isascii())
    lines[title_at] = "Café " + lines[title_at]
    lines[abstract_at] = lines[abstract_at] + " Voilà."
    path = tmp_path / "latin.txt"
    path.write_bytes(b"".join(line.encode("latin-1") + b"\n" for line in lines))
    papers, problems = read_all([path])
    assert len(papers) == 99
    assert [p.id for p in papers if not p.title.startswith("Café")] == [
        p.id for p in clean if p.source.line != title_at + 1
    ]
    assert any(p.title.startswith("Café ") for p in papers) and any("Voilà." in p.abstract for p in papers)
    assert [(type(e), e.line) for e in problems] == [(InputWarning, title_at + 1), (InputWarning, abstract_at + 1)]
    for err in problems:
        check_error(err, path, err.line, "not valid UTF-8 (byte 0x")
    with pytest.warns(UserWarning, match="read as cp1252"):  # without on_error: warned, not raised
        assert len(list(read_papers([path]))) == 99


def test_split_text_is_linear() -> None:
    """The splitter was quadratic (4 MB took 6 s, 8 MB 33 s); 6 MB now takes about a second."""
    import time

    text = "We study e.g. the method of Smith et al. in Fig. 3. It improves 4.5x. " * 85_000
    started = time.perf_counter()
    parts = split_text(text, 6000)
    assert time.perf_counter() - started < 6.0  # a loaded 2-core machine; the quadratic one took 15 s
    assert " ".join(parts).split() == text.split()


def test_a_huge_abstract_is_an_error_record_naming_paper_and_size() -> None:
    from extractor.records.listings import MAX_ABSTRACT_CHARS, too_long_record

    paper = paper_from_text("word " * (MAX_ABSTRACT_CHARS // 4), "Huge", path="big.txt", line=3)
    record = too_long_record(paper)
    assert record is not None and record.error is not None and record.error.kind == "too_long"
    assert paper.id in record.error.message and f"{len(paper.abstract):,}" in record.error.message
    assert "big.txt:3" in record.error.message and len(record.abstract) == 1000
    assert too_long_record(paper_from_text("Short.", "Fine")) is None


def test_papers_and_run_count_the_same_unique_papers() -> None:
    """`extractor papers` (survey) and `extractor run` (plan) use one duplicate rule."""
    from extractor.runs.run import BatchStats, plan

    same_id = [
        paper_from_text("Short.", "A Title", id="2401.00001"),
        paper_from_text("Longer abstract.", "A Renamed Title", id="2401.00001"),  # same arXiv id
        paper_from_text("Other.", "Other", id="x"),
    ]
    for inputs in ([SEEDS], same_id):
        stats = BatchStats()
        read = (lambda: read_papers(inputs)) if inputs == [SEEDS] else (lambda: iter(same_id))
        plan(read, set(), stats)
        unique, dropped = dedupe(read())
        assert (len(unique), dropped) == (stats.unique, stats.duplicates)
    assert [p.title for p in unique] == ["A Renamed Title", "Other"]
    report = survey([SEEDS])
    assert len(report.papers) == 544 and report.duplicates == 64
