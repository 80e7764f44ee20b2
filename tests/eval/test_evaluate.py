"""Tests for extractor.eval.score: matching rules, counting, aggregation and rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.errors import InputError
from extractor.eval.score import (
    PHRASE_THRESHOLD,
    EvalReport,
    GoldPaper,
    load_gold,
    load_records,
    normalize_url,
    numbers_in,
    phrase_match,
    phrase_tokens,
    score,
    token_f1,
)
from extractor.schema import ClaimedGain, Dropped, ErrorInfo, Link, LinkKind, Extraction, Record, Source

from ..conftest import ROOT

DATA = ROOT / "tests" / "data" / "eval"
MINI = DATA / "mini_gold.jsonl"
VISIBLE = ROOT.parent / "shared" / "eval" / "visible_gold.jsonl"  # ../shared


def gold_by_id() -> dict[str, GoldPaper]:
    return {p.id: p for p in load_gold(MINI)}


def summary(
    task: str = "",
    method: str = "",
    method_name: str | None = None,
    gains: list[str] | None = None,
    code_link: str | None = None,
    magnitudes: list[float | None] | None = None,
) -> Extraction:
    values = gains or []
    mags = magnitudes or [None] * len(values)
    return Extraction(
        task=task,
        method=method,
        method_name=method_name,
        claimed_gains=[
            ClaimedGain(metric="m", value=v, magnitude=m, evidence=v) for v, m in zip(values, mags, strict=True)
        ],
        code_link=code_link,
        contribution="method",
        summary="s",
    )


def record(paper: GoldPaper, extraction: Extraction | None = None, **fields: object) -> Record:
    return Record(
        id=paper.id,
        title=paper.title or "",
        abstract=paper.abstract,
        source=Source(path="gold.jsonl", line=1),
        extraction=extraction,
        **fields,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------ matching rules


@pytest.mark.parametrize(
    ("pred", "gold"),
    [
        ("robust visual tracking", "Robust Visual Tracking"),
        ("visual tracking", "robust visual tracking"),  # F1 0.8
        ("a novel method for visual tracking", "robust visual tracking"),
        ("state-of-the-art parsers", "state - of - the - art parser"),  # tokenised + plural
        ("semantic segmentation of street scenes", "Semantic Segmentation"),  # 2*2/(2+4) = 0.67
        ("question answering", "large - scale question answering"),  # 2*2/(2+4) = 0.67
        ("Neural Networks", "neural network"),
        ("categories", "category"),
    ],
)
def test_phrase_match_yes(pred: str, gold: str) -> None:
    assert phrase_match(pred, gold)


@pytest.mark.parametrize(
    ("pred", "gold"),
    [
        ("machine translation", "semantic segmentation"),
        ("object detection", "semantic segmentation"),
        ("Full-Resolution Residual Networks", "FRRN"),  # an acronym is not expanded
        ("deep reinforcement learning for dialogue policy", "dialogue"),  # 2*1/(5+1) = 0.33
        ("", "semantic segmentation"),
    ],
)
def test_phrase_match_no(pred: str, gold: str) -> None:
    assert not phrase_match(pred, gold)


def test_threshold_is_inclusive_and_documented() -> None:
    assert PHRASE_THRESHOLD == 0.5
    assert token_f1("language model", "translation model") == 0.5
    assert phrase_match("language model", "translation model")


def test_phrase_tokens_stopwords_and_stemming() -> None:
    assert phrase_tokens("The Analysis of Networks for Queries") == ["analysis", "network", "query"]
    assert phrase_tokens("the") == ["the"]  # nothing but stopwords: keep them
    assert phrase_tokens("class losses") == ["class", "loss"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("71.8%", ("71.8",)),
        ("71.8 %", ("71.8",)),
        ("71.80", ("71.8",)),
        ("16.0% error", ("16",)),
        ("+0.8% absolute", ("0.8",)),
        ("-2.3 BLEU", ("2.3",)),
        ("4.5x", ("4.5",)),
        ("×4.5", ("4.5",)),
        ("3:1", ("3", "1")),
        ("1,000 images", ("1000",)),
        ("5, 000", ("5000",)),
        ("0. 447", ("0.447",)),
        (".5", ("0.5",)),
        ("from 73.8% to 82.3%", ("73.8", "82.3")),
        ("-", ()),
    ],
)
def test_numbers_in(value: str, expected: tuple[str, ...]) -> None:
    assert numbers_in(value) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/foo/bar", "github.com/foo/bar"),
        ("http://www.GitHub.com/foo/bar/", "github.com/foo/bar"),
        ("https://github.com/foo/bar.git", "github.com/foo/bar"),
        ("github.com/foo/bar.", "github.com/foo/bar"),
        ("<https://github.com/foo/bar>", "github.com/foo/bar"),
        ("https : //github.com/ foo / bar", "github.com/foo/bar"),
        ("https://yale-lily. github.io/ spider .", "yale-lily.github.io/spider"),
        ("https://github.com/Foo/Bar", "github.com/Foo/Bar"),  # path case kept
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


# ------------------------------------------------------------------- loading


def test_load_gold_keeps_fields() -> None:
    gold = load_gold(MINI)
    assert [p.id for p in gold][:2] == ["scierc/A", "scierc/B"]
    c = gold[2]
    assert c.source == "SciREX" and c.title.startswith("Full-Resolution")
    assert c.fields_annotated == ["task", "method", "claimed_gains"]
    assert c.gold.claimed_gains is not None and c.gold.claimed_gains[0].value == "71.8%"
    assert c.gold.code_link is None
    assert gold[0].scored_fields() == ["task", "method"]


def test_load_gold_malformed_line_names_file_and_line() -> None:
    with pytest.raises(InputError) as info:
        load_gold(DATA / "malformed_gold.jsonl")
    assert info.value.line == 2
    msg = str(info.value)
    assert msg.startswith(f"{DATA / 'malformed_gold.jsonl'}:2: not valid JSON")
    assert "\n" not in msg


def test_load_gold_invalid_record_and_duplicates(tmp_path: Path) -> None:
    ok = {"id": "a", "source": "S", "abstract": "x", "fields_annotated": ["task"], "gold": {"task": []}}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(ok) + "\n\n" + json.dumps({**ok, "id": "b", "fields_annotated": ["colour"]}) + "\n")
    with pytest.raises(InputError, match=r"bad\.jsonl:3: not a gold record: fields_annotated\.0"):
        load_gold(bad)
    dup = tmp_path / "dup.jsonl"
    dup.write_text(json.dumps(ok) + "\n" + json.dumps(ok) + "\n")
    with pytest.raises(InputError, match=r"dup\.jsonl:2: duplicate id 'a' \(first on line 1\)"):
        load_gold(dup)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(InputError, match="no gold records"):
        load_gold(empty)
    with pytest.raises(InputError, match="cannot read gold file"):
        load_gold(tmp_path / "absent.jsonl")


def test_load_records_roundtrip(tmp_path: Path) -> None:
    g = gold_by_id()
    rec = record(g["scierc/A"], summary(task="visual tracking"))
    path = tmp_path / "out.jsonl"
    path.write_text(rec.model_dump_json() + "\n" + '{"id": 3}\n')
    with pytest.raises(InputError, match=r"out\.jsonl:2: not a record"):
        load_records(path)
    path.write_text(rec.model_dump_json() + "\n")
    assert load_records(path)["scierc/A"].extraction.task == "visual tracking"  # type: ignore[union-attr]


# ------------------------------------------------------------------- counting


def tallies(report: EvalReport, paper_id: str) -> dict[str, tuple[int, int, int]]:
    outcome = next(o for o in report.outcomes if o.id == paper_id)
    return {f: (t.tp, t.fp, t.fn) for f, t in outcome.fields.items()}


def test_task_and_method_per_paper() -> None:
    g = gold_by_id()
    recs = {
        # task matches one of two gold phrases -> TP only; method matches via `method`
        "scierc/A": record(g["scierc/A"], summary(task="visual tracking", method="a particle filter tracker")),
        # gold task [] -> any prediction is a FP; method_name matches though method does not
        "scierc/B": record(g["scierc/B"], summary(task="context-freeness proof", method="a proof", method_name="Interchange Lemma")),
        # method neither method nor method_name matches -> one FP and one FN, not two
        "scirex/C": record(g["scirex/C"], summary(task="image classification", method="residual nets", method_name="ResNet")),
    }
    report = score(list(g.values()), recs)
    assert tallies(report, "scierc/A") == {"task": (1, 0, 0), "method": (1, 0, 0)}
    assert tallies(report, "scierc/B") == {"task": (0, 1, 0), "method": (1, 0, 0)}
    assert tallies(report, "scirex/C")["task"] == (0, 1, 1)
    assert tallies(report, "scirex/C")["method"] == (0, 1, 1)


def test_empty_prediction_against_empty_gold_is_nothing() -> None:
    g = gold_by_id()
    report = score([g["scierc/B"]], {"scierc/B": record(g["scierc/B"], summary(task="", method="", method_name=None))})
    assert tallies(report, "scierc/B") == {"task": (0, 0, 0), "method": (0, 0, 1)}
    assert report.overall["task"].precision is None and report.overall["task"].f1 is None


def test_null_fields_are_not_scored() -> None:
    g = gold_by_id()
    # SciERC does not annotate claimed_gains/code_link: a prediction there is not counted
    rec = record(
        g["scierc/A"],
        summary(task="visual tracking", gains=["99%"], code_link="https://github.com/x/y"),
    )
    report = score([g["scierc/A"]], {"scierc/A": rec})
    assert set(tallies(report, "scierc/A")) == {"task", "method"}
    assert report.overall["claimed_gains"].papers == 0
    assert report.overall["code_link"].papers == 0


def test_claimed_gains_numbers() -> None:
    g = gold_by_id()
    paper = g["scirex/C"]  # gold: 71.8% twice (deduplicated), "-" (not scorable)

    def gains(values: list[str], mags: list[float | None] | None = None) -> tuple[int, int, int]:
        rec = record(paper, summary(task="semantic segmentation", gains=values, magnitudes=mags))
        return tallies(score([paper], {paper.id: rec}), paper.id)["claimed_gains"]

    assert gains(["71.8 %"]) == (1, 0, 0)
    assert gains(["71.80"]) == (1, 0, 0)
    assert gains(["71.8%", "71.8"]) == (1, 0, 0)  # same value twice counts once
    assert gains(["from 65.1% to 71.8%"]) == (1, 0, 0)
    assert gains(["+6.7 points"], [71.8]) == (1, 0, 0)  # via magnitude
    assert gains(["4.5x"]) == (0, 1, 1)  # a real claim, but not in the partial gold: FP
    assert gains(["71.8%", "4.5x"]) == (1, 1, 0)
    assert gains(["71"]) == (0, 1, 1)
    assert gains([]) == (0, 0, 1)


def test_code_link_urls_including_tokenised_gold() -> None:
    g = gold_by_id()
    paper = g["ncg/train/x/0"]  # gold https://github.com/bdhingra/ga-reader

    def links(code_link: str | None, extra: list[Link] | None = None) -> tuple[int, int, int]:
        rec = record(paper, summary(task="text comprehension", code_link=code_link), links=extra or [])
        return tallies(score([paper], {paper.id: rec}), paper.id)["code_link"]

    assert links("https://github.com/ bdhingra / ga-reader") == (1, 0, 0)
    assert links("http://www.github.com/bdhingra/ga-reader.git/") == (1, 0, 0)
    assert links("https://github.com/bdhingra") == (0, 1, 1)
    assert links(None) == (0, 0, 1)
    code = Link(url="https://github.com/bdhingra/ga-reader", kind=LinkKind.code)
    assert links(None, [code]) == (1, 0, 0)  # record.links of kind code count
    assert links("https://github.com/bdhingra/ga-reader", [code]) == (1, 0, 0)  # deduplicated
    other = Link(url="https://example.org/data", kind=LinkKind.dataset)
    assert links(None, [other]) == (0, 0, 1)  # other kinds are not code predictions
    # gold [] -> any code link is a FP
    empty = g["ncg/train/x/1"]
    rec = record(empty, summary(task="question answering", code_link="https://github.com/a/b"))
    assert tallies(score([empty], {empty.id: rec}), empty.id)["code_link"] == (0, 1, 0)


def test_missing_and_failed_records_and_per_source_aggregation() -> None:
    g = gold_by_id()
    failed = record(g["scierc/B"], None, error=ErrorInfo(kind="timeout", message="timed out", attempts=3))
    recs = {
        "scierc/A": record(g["scierc/A"], summary(task="visual tracking", method="particle-filter style tracker")),
        "scierc/B": failed,
        # scirex/C missing
        "ncg/train/x/0": record(g["ncg/train/x/0"], summary(task="reading comprehension", code_link="https://github.com/bdhingra/ga-reader")),
        "ncg/train/x/1": record(g["ncg/train/x/1"], summary(task="simple question answering")),
        "not/in/gold": record(g["scierc/A"].model_copy(update={"id": "not/in/gold"}), summary(task="x")),
    }
    report = score(list(g.values()), recs)
    assert report.sources == ["SciERC", "SciREX", "NCG-SemEval2021T11"]
    assert report.papers.model_dump() == {"papers": 5, "missing": 1, "failed": 1, "scored": 3}
    assert report.papers_by_source["SciERC"].failed == 1
    assert report.papers_by_source["SciREX"].missing == 1
    assert report.extra_records == 1
    statuses = {o.id: o.status for o in report.outcomes}
    assert statuses == {"scierc/A": "ok", "scierc/B": "failed", "scirex/C": "missing", "ncg/train/x/0": "ok", "ncg/train/x/1": "ok"}

    task = report.by_source["SciERC"]["task"]
    # A: TP; B failed with gold [] -> nothing
    assert (task.tp, task.fp, task.fn, task.papers) == (1, 0, 0, 2)
    method = report.by_source["SciERC"]["method"]
    # B failed with gold ["Interchange Lemma"] -> FN
    assert (method.tp, method.fp, method.fn) == (1, 0, 1)
    assert method.precision == 1.0 and method.recall == 0.5 and method.f1 == pytest.approx(2 / 3)
    scirex = report.by_source["SciREX"]
    assert (scirex["task"].fn, scirex["method"].fn, scirex["claimed_gains"].fn) == (1, 1, 1)
    ncg = report.by_source["NCG-SemEval2021T11"]
    # "reading comprehension" vs "Text Comprehension": F1 0.5 -> match
    assert (ncg["task"].tp, ncg["task"].fp, ncg["task"].fn) == (2, 0, 0)
    assert (ncg["code_link"].tp, ncg["code_link"].fp, ncg["code_link"].fn, ncg["code_link"].papers) == (1, 0, 0, 2)
    overall = report.overall["task"]
    assert (overall.tp, overall.fp, overall.fn, overall.papers) == (3, 0, 1, 5)
    assert overall.recall == 0.75


def test_grounding_share_and_dropped() -> None:
    g = gold_by_id()
    c, ncg = g["scirex/C"], g["ncg/train/x/0"]
    recs = {
        c.id: record(
            c,
            summary(task="semantic segmentation", gains=["71.8 %", "1000 images", "4.5x", "99.9%"]),
            dropped=[
                Dropped(field="claimed_gains", value="12%", reason="not in abstract"),
                Dropped(field="code_link", value="https://x.org", reason="not in abstract"),
            ],
        ),
        ncg.id: record(
            ncg,
            summary(task="text comprehension", code_link="https://github.com/bdhingra/ga-reader"),
            links=[
                Link(url="https://github.com/ bdhingra / ga-reader", kind=LinkKind.code),  # same URL
                Link(url="https://elsewhere.org/page", kind=LinkKind.other),
            ],
        ),
    }
    report = score([c, ncg], recs)
    gr = report.grounding
    assert (gr.urls, gr.urls_in_abstract) == (2, 1)
    assert gr.url_share == 0.5
    # 71.8, 1000 (abstract has "1,000"), 4.5 grounded; 99.9 not
    assert (gr.numbers, gr.numbers_in_abstract) == (4, 3)
    assert gr.dropped == 2 and gr.dropped_by_field == {"claimed_gains": 1, "code_link": 1}
    assert report.grounding_by_source["SciREX"].numbers == 4
    assert report.grounding_by_source["NCG-SemEval2021T11"].urls == 2


def test_markdown_and_dict() -> None:
    g = gold_by_id()
    recs = {"scierc/A": record(g["scierc/A"], summary(task="visual tracking", method="dynamical model"))}
    report = score(list(g.values()), recs)
    md = report.to_markdown()
    assert "| field | source | P | R | F1 | TP | FP | FN | papers |" in md
    assert "| task | SciERC | 100.0 | 100.0 | 100.0 | 1 | 0 | 0 | 2 |" in md
    assert "| **task** | **overall** |" in md
    assert "| claimed_gains | SciREX | - | 0.0 | 0.0 | 0 | 0 | 1 | 1 |" in md
    assert "| overall | 5 | 1 | 4 | 0 |" in md  # coverage: papers, scored, missing, failed
    assert "lower bound" in md
    assert "URLs found in their abstract: 0/0 (- %)" in md
    d = report.to_dict()
    json.dumps(d)
    assert "outcomes" not in d
    assert d["overall"]["task"]["recall"] == pytest.approx(0.25)  # B has gold [] -> no FN
    assert d["by_source"]["SciERC"]["method"]["f1"] == pytest.approx(2 / 3)
    assert d["phrase_threshold"] == 0.5
    assert len(report.to_dict(include_papers=True)["outcomes"]) == 5


# ----------------------------------------------------------- the whole visible set


def oracle(paper: GoldPaper) -> Record:
    """A 'perfect' record built from gold: first task/method phrase, gold values, link."""
    gold = paper.gold
    values = [x.value for x in gold.claimed_gains or [] if numbers_in(x.value)]  # "-" is not a claim
    return record(
        paper,
        summary(
            task=(gold.task or [""])[0],
            method=(gold.method or [""])[0],
            gains=values,
            code_link=(gold.code_link or [None])[0],
        ),
    )


@pytest.mark.skipif(not VISIBLE.exists(), reason="visible gold not available")
def test_oracle_on_visible_gold() -> None:
    gold = load_gold(VISIBLE)
    assert len(gold) == 918
    report = score(gold, {p.id: oracle(p) for p in gold})
    for field in ("task", "method", "claimed_gains", "code_link"):
        assert report.overall[field].f1 == 1.0, field
    assert report.overall["task"].papers == 918
    assert report.overall["method"].papers == 681
    assert report.overall["claimed_gains"].papers == 281
    assert report.overall["code_link"].tp == 7
    assert report.papers.scored == 918
    # every gold URL is in its (tokenised) abstract; one SciREX gold value ("7" FPS) is
    # only a substring of "2007" in its abstract, so numbers are 40/41 grounded
    assert report.grounding.url_share == 1.0
    assert (report.grounding.numbers, report.grounding.numbers_in_abstract) == (41, 40)
