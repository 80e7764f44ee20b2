"""Tests of :mod:`extractor.evidence.grounding`: numbers, spans, phrases and :func:`ground`.

Offline and fast; examples come from the seed abstracts in ``seeds/*.txt``.
"""

from __future__ import annotations

import time

import pytest

import extractor.evidence.grounding as grounding
from extractor.evidence.grounding import (
    MIN_FUZZY_CHARS,
    SPAN_THRESHOLD,
    Grounded,
    ground,
    magnitude_occurs,
    normalise_text,
    number_occurs,
    phrase_occurs,
    prepare,
    span_occurs,
)
from extractor.evidence.links import find_links
from extractor.schema import ClaimedGain, Extraction
from extractor.evidence.text import numbers_in

from ..conftest import ROOT

SEEDS = ROOT / "seeds"


def seed_abstracts() -> list[str]:
    return list(
        dict.fromkeys(
            line
            for path in sorted(SEEDS.glob("*.txt"))
            for line in path.read_text(encoding="utf-8").splitlines()
            if len(line) > 200
        )
    )


def seed(containing: str) -> str:
    return next(text for text in seed_abstracts() if containing in text)


MULTIGRID = seed("multigrid method trains a ResNet-50 SlowFast network")
MULTIGRID_GAIN = (
    "trains a ResNet-50 SlowFast network 4.5x faster (wall-clock time, same hardware) while also "
    "improving accuracy (+0.8% absolute) on Kinetics-400"
)
PRM = seed("less than 1/38 of the training data")


def test_seed_examples_are_in_the_seeds() -> None:
    assert MULTIGRID_GAIN in MULTIGRID
    assert "less than 1/38 of the training data" in PRM


# --------------------------------------------------------------------------- numbers

NUMBER_TRUE = [
    ("4.5x", MULTIGRID),
    ("4.5×", MULTIGRID),
    ("4.5 times", MULTIGRID),
    ("4.5 x faster", MULTIGRID),
    ("x4.5", MULTIGRID),
    ("+0.8% absolute", MULTIGRID),
    ("0.8 %", MULTIGRID),
    ("0.8", MULTIGRID),
    ("+0.8", MULTIGRID),
    ("−0.8", MULTIGRID),
    ("0.80%", MULTIGRID),
    ("128 GPUs", MULTIGRID),
    ("1/38", PRM),
    ("1,000", "on 1000 images"),
    ("1000", "on 1,000 images"),
    ("72 percent", "reaches 72% accuracy"),
    ("72%", "reaches 72 percent accuracy"),
    ("72", "reaches 72.0 accuracy"),
    ("from 45.2 to 50.1", "improves from 45.2 to 50.1 F1"),
    ("0.447", "an F1 of 0. 447"),  # tokenised number
    ("5000", "on 5, 000 documents"),  # tokenised thousands separator
    ("3x", "speeds up by x3"),
    ("4.5x", "runs 4.5× faster"),
]

NUMBER_FALSE = [
    ("significant", MULTIGRID),  # no digit
    ("", MULTIGRID),
    ("4.7x", MULTIGRID),
    ("0.9%", MULTIGRID),
    ("8%", MULTIGRID),  # "8" is only part of 0.8
    ("45x", MULTIGRID),  # "45" is only part of 4.5
    ("1.8% absolute", MULTIGRID),
    ("from 45.2 to 51.1", "improves from 45.2 to 50.1 F1"),  # every number must occur
    ("0.9", "90% of cases"),  # no rescaling
    ("90", "0.9 of cases"),
    ("100x", "trained on A100 GPUs"),  # digits glued to letters are not numbers
    ("3 points", "models (I3D, SlowFast)"),
    ("1,000", "on 1, 2, 3 and 100 images"),
]


@pytest.mark.parametrize(("value", "text"), NUMBER_TRUE)
def test_number_occurs(value: str, text: str) -> None:
    assert number_occurs(value, text)


@pytest.mark.parametrize(("value", "text"), NUMBER_FALSE)
def test_number_does_not_occur(value: str, text: str) -> None:
    assert not number_occurs(value, text)


def test_numbers_in() -> None:
    assert numbers_in("+0.8% absolute") == ("0.8",)
    assert numbers_in("4.5×") == ("4.5",)
    assert numbers_in("1,000 images") == ("1000",)
    assert numbers_in("72.0 %") == ("72",)
    assert numbers_in(".5") == ("0.5",)
    assert numbers_in("from 45.2 to 50.1") == ("45.2", "50.1")
    assert numbers_in("significant") == ()


@pytest.mark.parametrize(
    ("magnitude", "text", "expected"),
    [
        (4.5, "4.5x faster", True),
        (4.5, "4.5 times faster", True),
        (72.0, "reaches 72 on MATH", True),
        (72, "reaches 72% on MATH", True),
        (0.8, "(+0.8% absolute)", True),
        (-0.8, "drops by 0.8 points", True),
        (1000.0, "on 1,000 images", True),
        (0.9, "90% of cases", False),
        (90.0, "0.9 of cases", False),
        (4.7, "4.5x faster", False),
        (45.0, "4.5x faster", False),
        (float("nan"), "nan", False),
        (float("inf"), "inf", False),
    ],
)
def test_magnitude_occurs(magnitude: float, text: str, expected: bool) -> None:
    assert magnitude_occurs(magnitude, text) is expected


# --------------------------------------------------------------------------- text


def test_normalise_text() -> None:
    assert normalise_text("“State – of – the – art”  ( SlowFast ) ,  4.5×") == '"state-of-the-art" (slowfast), 4.5x'
    assert normalise_text("it’s a ‘test’ — ok") == "it's a 'test'-ok"
    assert normalise_text("a\u00a0b\n\tc") == "a b c"
    assert normalise_text("``quoted''") == '"quoted"'
    assert normalise_text("ＡＢＣ") == "abc"  # NFKC


def test_phrase_occurs() -> None:
    assert phrase_occurs("SlowFast", MULTIGRID)
    assert phrase_occurs("slowfast", MULTIGRID)  # casefolded
    assert phrase_occurs("Kinetics-400", MULTIGRID)
    assert phrase_occurs("Kinetics-400", "on Kinetics - 400 compared")  # tokenised
    assert phrase_occurs("Something-Something", MULTIGRID)
    assert phrase_occurs("I3D", MULTIGRID)
    assert phrase_occurs("Math-Shepherd", PRM)
    assert not phrase_occurs("Kinetic", MULTIGRID)  # word boundaries
    assert not phrase_occurs("Fast", MULTIGRID)  # only inside "SlowFast" and "faster"
    assert not phrase_occurs("Kinetics-600", MULTIGRID)
    assert not phrase_occurs("Kinetics-400 dataset", MULTIGRID)
    assert not phrase_occurs("MultiGrid-Net", MULTIGRID)
    assert not phrase_occurs("", MULTIGRID)
    assert not phrase_occurs("   ", MULTIGRID)


# --------------------------------------------------------------------------- spans


def test_span_threshold_is_documented() -> None:
    assert SPAN_THRESHOLD == 90.0 and MIN_FUZZY_CHARS == 24
    assert str(int(SPAN_THRESHOLD)) in grounding.__doc__


SPAN_TRUE = [
    MULTIGRID_GAIN,  # verbatim
    MULTIGRID_GAIN.upper(),  # case
    "  trains a ResNet-50   SlowFast network\n4.5x faster ",  # whitespace
    "trains a ResNet–50 SlowFast network 4.5× faster",  # unicode dash and times sign
    "trains a ResNet - 50 SlowFast network 4.5x faster ( wall-clock time , same hardware )",  # tokenised
    "the proposed multigrid method trains a ResNet-50 SlowFast net 4.5x faster",  # one word shortened
    "while also improving accuracy (+0.8% absolute) on Kinetics-400",
    "trains a ResNet-50 SlowFast network 4.5x faster ... improving accuracy (+0.8% absolute)",  # ellipsis
    "trains a ResNet-50 SlowFast network 4.5x faster … on Kinetics-400",
    "Code is available online",  # short but exact
]

SPAN_FALSE = [
    "",  # empty
    "   ",
    "...",
    "trains a ResNet-50 SlowFast network 4.7x faster",  # a changed number is never "near"
    "trains a ResNet-50 SlowFast network 45x faster",
    "the multigrid method is much faster to train than the baseline",  # paraphrase
    "accuracy improves by 0.8% on Kinetics-400 while training is 4.5x faster",  # reordered
    "Code is available at GitHub",  # short and not exact
    "trains 4.5x faster ... on ImageNet",  # one piece of an ellipsis missing
    "We show that our implicit PRM outperforms a strong MCTS-based baseline",  # another abstract
]


@pytest.mark.parametrize("span", SPAN_TRUE)
def test_span_occurs(span: str) -> None:
    assert span_occurs(span, MULTIGRID)


@pytest.mark.parametrize("span", SPAN_FALSE)
def test_span_does_not_occur(span: str) -> None:
    assert not span_occurs(span, MULTIGRID)


def test_span_threshold_parameter() -> None:
    shortened = "the proposed multigrid method trains a ResNet-50 SlowFast net 4.5x faster"
    assert span_occurs(shortened, MULTIGRID, threshold=90)
    assert not span_occurs(shortened, MULTIGRID, threshold=99.5)
    assert span_occurs(MULTIGRID_GAIN, MULTIGRID, threshold=100)


def test_prepared_text_is_accepted_everywhere() -> None:
    prepared = prepare(MULTIGRID)
    assert prepare(prepared) is prepared
    assert number_occurs("4.5x", prepared) and magnitude_occurs(4.5, prepared)
    assert span_occurs(MULTIGRID_GAIN, prepared) and phrase_occurs("SlowFast", prepared)


# --------------------------------------------------------------------------- ground


def summary(**fields: object) -> Extraction:
    base: dict[str, object] = {
        "task": "video model training",
        "method": "variable mini-batch shapes with different spatial-temporal resolutions",
        "method_name": None,
        "claimed_gains": [],
        "code_link": None,
        "contribution": "method",
        "summary": "Trains video models faster with a multigrid schedule of mini-batch shapes.",
    }
    base.update(fields)
    return Extraction.model_validate(base)


SPEED = ClaimedGain(
    metric="training speed",
    value="4.5x",
    magnitude=4.5,
    unit="x",
    baseline="the baseline training method",
    dataset="Kinetics-400",
    evidence="trains a ResNet-50 SlowFast network 4.5x faster (wall-clock time, same hardware)",
)
ACCURACY = ClaimedGain(
    metric="accuracy",
    value="+0.8% absolute",
    magnitude=0.8,
    unit="%",
    dataset="Kinetics-400",
    evidence="while also improving accuracy (+0.8% absolute) on Kinetics-400",
)


def test_ground_all_ok() -> None:
    s = summary(method_name="SlowFast", claimed_gains=[SPEED, ACCURACY])
    g = ground(s, MULTIGRID, find_links(MULTIGRID))
    assert isinstance(g, Grounded)
    assert g.summary == s
    assert g.dropped == []
    assert g.grounding == {
        "task": "ok",
        "method": "ok",
        "method_name": "ok",
        "claimed_gains": "ok",
        "code_link": "empty",
        "contribution": "unchecked",
        "summary": "unchecked",
    }


def test_ground_drops_bad_gains() -> None:
    wrong_number = SPEED.model_copy(update={"value": "4.7x", "magnitude": 4.7})
    wrong_magnitude = ACCURACY.model_copy(update={"magnitude": 0.008})
    no_number = ClaimedGain(metric="speed", value="significant", evidence="a significant out-of-the-box training speedup")
    paraphrased = ACCURACY.model_copy(update={"evidence": "accuracy goes up by 0.8% on Kinetics-400 too"})
    s = summary(claimed_gains=[SPEED, wrong_number, wrong_magnitude, no_number, paraphrased])
    g = ground(s, MULTIGRID, [])
    assert g.summary.claimed_gains == [SPEED]
    assert g.grounding["claimed_gains"] == "partial"
    # indices are those of the model's list, so the re-ask can name them
    assert [(d.field, d.value) for d in g.dropped] == [
        ("claimed_gains[1].value", "4.7x"),
        ("claimed_gains[1].magnitude", "4.7"),
        ("claimed_gains[2].magnitude", "0.008"),
        ("claimed_gains[3].value", "significant"),
        ("claimed_gains[4].evidence", paraphrased.evidence),
    ]
    assert "4.7" in g.dropped[0].reason
    assert all(d.reason and "\n" not in d.reason for d in g.dropped)
    assert g.dropped


def test_ground_drops_every_gain() -> None:
    bad = SPEED.model_copy(update={"value": "10x", "magnitude": 10.0})
    g = ground(summary(claimed_gains=[bad]), MULTIGRID, [])
    assert g.summary.claimed_gains == [] and g.grounding["claimed_gains"] == "dropped"


def test_ground_drops_dataset_but_keeps_gain() -> None:
    gain = SPEED.model_copy(update={"dataset": "Kinetics-600"})
    g = ground(summary(claimed_gains=[gain]), MULTIGRID, [])
    assert g.summary.claimed_gains == [SPEED.model_copy(update={"dataset": None})]
    assert g.grounding["claimed_gains"] == "partial"
    assert [(d.field, d.value) for d in g.dropped] == [("claimed_gains[0].dataset", "Kinetics-600")]


def test_ground_method_name() -> None:
    g = ground(summary(method_name="MultiGrid-Net"), MULTIGRID, [])
    assert g.summary.method_name is None and g.grounding["method_name"] == "dropped"
    assert [(d.field, d.value) for d in g.dropped] == [("method_name", "MultiGrid-Net")]
    g = ground(summary(method_name="multigrid"), MULTIGRID, [])
    assert g.summary.method_name == "multigrid" and g.grounding["method_name"] == "ok"


def test_ground_task_and_method_not_in_the_abstract_are_dropped() -> None:
    s = summary(task="protein folding", method="a diffusion model over residues")
    g = ground(s, MULTIGRID, [])
    assert (g.summary.task, g.summary.method) == (None, None)
    assert g.grounding["task"] == g.grounding["method"] == "dropped"
    assert [d.field for d in g.dropped] == ["task", "method"]


CODE_ABSTRACT = (
    "We propose X. Code is available at https://github.com/org/repo and the project page at "
    "https://org.github.io/x/. Our organisation: https://github.com/org."
)


def test_ground_code_link() -> None:
    links = find_links(CODE_ABSTRACT)
    # one of the links, written slightly differently: ok, and the found form is kept
    g = ground(summary(task=None, method=None, code_link="http://www.github.com/org/repo.git/"), CODE_ABSTRACT, links)
    assert (g.summary.code_link, g.grounding["code_link"], g.dropped) == ("https://github.com/org/repo", "ok", [])
    # the model may choose any found link, even the project page
    g = ground(summary(task=None, method=None, code_link="https://org.github.io/x/"), CODE_ABSTRACT, links)
    assert (g.summary.code_link, g.grounding["code_link"]) == ("https://org.github.io/x/", "ok")
    # an invented link is replaced by the best code link (a repository over the org page)
    g = ground(summary(task=None, method=None, code_link="https://github.com/org/other"), CODE_ABSTRACT, links)
    assert (g.summary.code_link, g.grounding["code_link"]) == ("https://github.com/org/repo", "replaced")
    assert [(d.field, d.value) for d in g.dropped] == [("code_link", "https://github.com/org/other")]
    assert g.dropped
    # none given: filled from the links
    g = ground(summary(task=None, method=None, code_link=None), CODE_ABSTRACT, links)
    assert (g.summary.code_link, g.grounding["code_link"], g.dropped) == ("https://github.com/org/repo", "filled", [])
    # an invented link and no code link in the abstract: dropped
    g = ground(summary(task=None, method=None, code_link="https://github.com/a/b"), MULTIGRID, find_links(MULTIGRID))
    assert (g.summary.code_link, g.grounding["code_link"]) == (None, "dropped")
    assert g.dropped[0].field == "code_link"


def test_ground_tokenised_code_link() -> None:
    abstract = "We study text comprehension . Code is available at : https://github.com/ bdhingra / ga-reader ."
    links = find_links(abstract)
    g = ground(summary(task=None, method=None, code_link="https://github.com/ bdhingra / ga-reader"), abstract, links)
    assert (g.summary.code_link, g.grounding["code_link"]) == ("https://github.com/bdhingra/ga-reader", "ok")


def test_ground_normalises_the_abstract_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = grounding.normalise_text

    def counting(text: str) -> str:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(grounding, "normalise_text", counting)
    abstract = MULTIGRID + " (a fresh copy)"
    ground(summary(method_name="SlowFast", claimed_gains=[SPEED, ACCURACY]), abstract, [])
    assert calls.count(abstract) == 1


def test_ground_is_fast() -> None:
    abstracts = seed_abstracts()
    s = summary(method_name="SlowFast", claimed_gains=[SPEED, ACCURACY], code_link="https://github.com/x/y")
    links = [find_links(a) for a in abstracts]
    start = time.perf_counter()
    for abstract, found in zip(abstracts, links):
        ground(s, abstract, found)
    per_paper = (time.perf_counter() - start) / len(abstracts)
    assert per_paper < 0.01  # about 0.5 ms here; 100,000 papers in about a minute
