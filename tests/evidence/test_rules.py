"""The rules layer, the summary gate and the combination policy: offline, no model.

The rules are checked on the shapes they read (titles, proposal sentences, gains), on
every seed paper (values are spans of the text, summaries pass the gate), and through
the CLI with ``--policy rules``, which needs no endpoint and sends no request.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor import evidence
from extractor.cli import main
from extractor.evidence.extractive import extractive_summary
from extractor.evidence.rules import propose, title_parts
from extractor.evidence.summaries import MAX_WORDS, summary_problem
from extractor.evidence.text import Cue, lowered, sentences
from extractor.extraction.policy import decide, resolve_policy
from extractor.records.listings import dedupe, read_papers
from extractor.schema import Extraction

from ..conftest import ROOT, SEEDS

GOLD = ROOT.parent / "shared" / "eval" / "visible_gold.jsonl"


@pytest.fixture(scope="module")
def seed_papers() -> list:
    papers, _ = dedupe(read_papers([SEEDS]))
    return papers


# -- titles and abstracts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "name", "method", "task"),
    [
        ("DeepWalk: Online Learning of Social Representations", "DeepWalk", None,
         "Online Learning of Social Representations"),
        ("Quaternion Convolutional Neural Networks for End-to-End Automatic Speech Recognition", None,
         "Quaternion Convolutional Neural Networks", "End-to-End Automatic Speech Recognition"),
        ("Relation Classification via Multi - Level Attention CNNs", None, "Multi-Level Attention CNNs",
         "Relation Classification"),
        ("Dynamic Entity Representation with Max - pooling Improves Machine Reading", None,
         "Dynamic Entity Representation with Max-pooling", "Machine Reading"),
        ("Striving for Simplicity: The All Convolutional Net", None, None, None),
        ("", None, None, None),
    ],
)  # fmt: skip
def test_title_shapes(title: str, name: str | None, method: str | None, task: str | None) -> None:
    parts = title_parts(title)
    assert (parts.name, parts.method, parts.task) == (name, method, task)


def test_proposal_sentences_give_names_and_methods() -> None:
    p = propose(
        "",
        "Existing detectors are slow. In this report, we propose a region-based face detector, named Face R-FCN. "
        "We address the problem of face detection in crowded scenes.",
    )
    assert p.first("method") == "region-based face detector"
    assert p.first("method_name") == "Face R-FCN"
    assert p.first("task") == "face detection in crowded scenes"
    assert p.contribution is not None and p.contribution.value == "method"


def test_defined_acronym_and_called_name() -> None:
    p = propose("", "We present a deeply-recursive convolutional network (DRCN) for image super-resolution.")
    assert p.first("method_name") == "deeply-recursive convolutional network (DRCN)"  # whole, with its acronym
    assert p.first("task") == "image super-resolution"
    p = propose("", "We introduce a new training scheme, called Mixup, that regularises networks.")
    assert p.first("method_name") == "Mixup"


def test_gains_carry_their_clause() -> None:
    p = propose("", "Our model improves accuracy by 4.5% on ImageNet while running 2x faster. It was built in 2019.")
    values = [(g.value, g.metric, g.dataset) for g in p.claimed_gains]
    assert values[0] == ("4.5%", "accuracy", "ImageNet")
    assert all(g.evidence in "Our model improves accuracy by 4.5% on ImageNet while running 2x faster." for g in p.claimed_gains)
    assert "2019" not in [g.value for g in p.claimed_gains]


@pytest.mark.parametrize(
    ("title", "abstract", "kind"),
    [
        ("A Survey on Mixture of Experts", "We review the literature on experts.", "survey"),
        ("GraphFM: A Comprehensive Benchmark for Graph Foundation Model", "We evaluate models.", "dataset_or_benchmark"),
        ("X", "In this work, we introduce a new dataset of 10k annotated images for counting.", "dataset_or_benchmark"),
        ("X", "We propose a method that trains faster.", "method"),
        ("X", "We study how models fail on long inputs and find three causes.", "analysis"),
        ("X", "We prove a lower bound on the sample complexity of learning halfspaces.", "theory"),
    ],
)  # fmt: skip
def test_contribution_cues(title: str, abstract: str, kind: str) -> None:
    p = propose(title, abstract)
    assert p.contribution is not None and p.contribution.value == kind


def test_every_seed_value_is_a_span_and_kinds_are_spread(seed_papers: list) -> None:
    kinds: Counter[str] = Counter()
    flat = lambda t: " ".join(t.replace(" - ", "-").split()).casefold()  # noqa: E731
    for paper in seed_papers:
        p = propose(paper.title, paper.abstract)
        text = flat(f"{paper.title} {paper.abstract}")
        for name in ("task", "method", "method_name"):
            for proposal in getattr(p, name):
                assert flat(proposal.value).replace(" - ", "-") in text.replace(" - ", "-"), (paper.id, proposal)
        for gain in p.claimed_gains:
            assert gain.value in paper.abstract.replace("\\%", "%") and gain.evidence in paper.abstract
        kinds[p.contribution.value if p.contribution else "none"] += 1
    # Most seed papers propose a method; analyses, datasets, surveys and theory show up too.
    assert kinds["method"] > len(seed_papers) / 2
    assert all(kinds[k] > 0 for k in ("analysis", "dataset_or_benchmark", "survey", "theory", "system_or_tool"))


def _cues() -> dict[str, Cue]:
    """Every cue of every evidence module."""
    modules = [importlib.import_module(f"extractor.evidence.{m.name}") for m in pkgutil.iter_modules(evidence.__path__)]
    return {f"{m.__name__}.{k}": v for m in modules for k, v in vars(m).items() if isinstance(v, Cue)}


def test_cue_words_hold_in_every_match(seed_papers: list) -> None:
    # A cue skips the texts without its words: that must never skip a match. Checked on every
    # title, abstract and sentence of the seeds (and of the visible gold when it is there),
    # as written, lowercased and uppercased.
    texts = [t for paper in seed_papers for t in (paper.title, paper.abstract, *sentences(paper.abstract))]
    if GOLD.is_file():
        for line in GOLD.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            texts += [record["title"] or "", record["abstract"], *sentences(record["abstract"])]
    texts += ["The model {{summary}} wins.", "It is null.", "None of it.</s>", 'A {"task": 1}', "<|im_end|> ok"]
    texts += [t.lower() for t in texts] + [t.upper() for t in texts]
    cues = _cues()
    assert len(cues) >= 12
    for name, cue in cues.items():
        matched = 0
        for text in texts:
            if cue.pattern.search(text):
                matched += 1
                assert cue.could_match(lowered(text)), (name, text)
        assert matched, name  # every cue is exercised


# -- the summary gate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "junk", ["A123486789", "1.0", "{{#1}}", "1", "", None,
             "The model {{summary}} improves the results of the experiments in this paper a lot",
             "12 34 56 78 90 11 12 13 14 15 16 17"],
)  # fmt: skip
def test_gate_refuses_debris(junk: str | None) -> None:
    abstract = "We propose a multigrid method that trains video models 4.5x faster on Kinetics."
    assert summary_problem(junk, "Multigrid Training", abstract) is not None


def test_gate_refuses_title_and_off_topic_sentences() -> None:
    title = "A Multigrid Method for Efficiently Training Video Models"
    abstract = "We propose a multigrid method that trains video models 4.5x faster on Kinetics."
    assert "title" in summary_problem("A multigrid method for efficiently training video models quickly.", title, abstract)
    assert "abstract" in summary_problem("The weather in Paris is pleasant during the spring months.", title, abstract)
    assert summary_problem("The paper trains video models faster with a multigrid method of changing shapes.",
                           title, abstract) is None  # fmt: skip
    assert "mid-sentence" in summary_problem("The paper trains video models faster with a multigrid sched",
                                             title, abstract)  # fmt: skip


def test_extractive_summary_of_every_seed_passes_the_gate(seed_papers: list) -> None:
    for paper in seed_papers:
        summary = extractive_summary(paper.abstract, paper.title)
        assert summary_problem(summary, paper.title, paper.abstract) is None, (paper.id, summary)
        assert len(summary.split()) <= MAX_WORDS, (paper.id, summary)
        assert summary.endswith((".", "!", "?")) and "…" not in summary, (paper.id, summary)  # whole, never cut
        assert not re.match(r"(?i)(?:to (?:address|mitigate|tackle) th|this issue|these challenges)", summary)
        text = " ".join(paper.abstract.split()).casefold()
        assert all(w.casefold().strip(".,;:") in text for w in summary.split()), (paper.id, summary)  # the abstract's words


# -- the policy -----------------------------------------------------------------------------


def test_policies_pick_sources_per_field() -> None:
    title, abstract = "DeepWalk: Online Learning of Social Representations", "We present DeepWalk, a method for graph mining."
    p = propose(title, abstract)
    model = Extraction(task="graph mining", method=None, method_name="Walk", contribution="analysis", summary="s")
    d = decide("rules-first", None, p, title, abstract)
    assert d.values["method_name"] == "DeepWalk" and d.origin["method_name"] == "rule"
    assert d.found_by["method_name"] == "title_name"
    assert d.values["contribution"] == "method" and d.origin["contribution"] == "rule"
    d = decide("model-first", model, p, title, abstract)
    assert (d.values["task"], d.origin["task"]) == ("graph mining", "model")
    assert d.values["method_name"] == "DeepWalk"  # the model's "Walk" is not named where the paper names its work
    assert [(u.field, u.value, u.source) for u in d.unsure] == [("method_name", "Walk", "model")]
    # a short plain phrase is under the bar; with the name it describes, it says which method
    assert (d.values["method"], d.found_by["method"]) == ("DeepWalk, a method for graph mining", "name_described")
    d = decide("model", model, p, title, abstract)
    assert d.values["method"] is None and "method" not in d.origin
    d = decide("rules-first", None, propose("", "Nothing to see."), "", "Nothing to see.", "survey")
    assert (d.values["contribution"], d.origin["contribution"]) == ("survey", "model")  # no cue: the model's pick
    d = decide("rules", None, propose("", "Nothing to see."), "", "Nothing to see.")
    assert d.values["contribution"] == "other" and d.origin == {}
    assert resolve_policy("auto", bundled=True) == "rules-first"
    assert resolve_policy("auto", bundled=False) == "model-first"


# -- the CLI without a model -----------------------------------------------------------------


def test_run_with_policy_rules_needs_no_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EXTRACTOR_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY", "EXTRACTOR_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "rules.jsonl"
    result = CliRunner().invoke(
        main, ["run", str(SEEDS), "-o", str(out), "--policy", "rules", "--cache-dir", str(tmp_path / "c"), "-q"]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 544
    assert all(r["summary_source"] == "extractive" and r["error"] is None for r in records)
    assert all(r["provenance"]["model"] == "none" for r in records)
    assert "summaries: extractive 544" in result.output and "model 0" not in result.output


@pytest.mark.skipif(not GOLD.is_file(), reason="../shared/eval/visible_gold.jsonl is not next to the checkout")
def test_eval_baseline_rules_side_by_side(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["eval", str(GOLD), "--sample", "60", "--policy", "rules", "--baseline", "rules",
               "--cache-dir", str(tmp_path / "c"), "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "This run vs rules alone (no model)" in result.output
    assert "| **task** | overall |" in result.output
    assert "+0.0" in result.output  # the same rules on both sides


def test_doctor_says_which_policy_is_in_force() -> None:
    from extractor.runs.doctor import _policy_line
    from extractor.settings import Settings

    assert _policy_line(Settings(base_url="http://127.0.0.1:9/v1")).startswith("policy: model-first")
    assert _policy_line(Settings()).startswith("policy: rules-first")  # no endpoint: the bundled model
    assert _policy_line(Settings(policy="rules")).startswith("policy: rules (the rules only")
