"""What blind readers asked of the gains (benchmarks/spotcheck/README.md, rounds 27-31): the
numbers of one list are one kind of claim, a change qualified by "almost" is still a change,
the baseline is the one the clause names next to the number, and a number that restates
"an order of magnitude" measures what the verb acts on. And the precision table counts each
judged gain under the rule that reads it today, or not at all when the code reads it
otherwise now. A title's task before its means ("Improved Sentence Modeling using ...") is
the task without the claim on it, and a task or technique of the field defined as an acronym
("super-resolution (SR)", "Batch Normalization (BN)") is no name of the paper's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.cli import main
from extractor.eval.spotcheck import source_precision
from extractor.evidence.gains import gains_of
from extractor.evidence.checks import method_problem, name_problem
from extractor.evidence.names import own_names
from extractor.evidence.phrases import noun_phrase
from extractor.evidence.rules import title_parts
from extractor.evidence.text import sentences
from extractor.schema import Record

from ..conftest import SEEDS


def _read(abstract: str, names: tuple[str, ...] = ()) -> list[tuple[str, str | None, str | None, str | None]]:
    return [(g.value, g.metric, g.kind, g.baseline) for g in gains_of(abstract, names).gains]


def test_every_number_of_a_list_of_changes_is_a_change() -> None:
    gains = _read("We propose X. Our models still outperform the full-size-dataset counterpart on retrieval by ~2.5% "
                  "in Recall@1, ~10.0% in CIDEr and ~2.7% in SPICE.")  # fmt: skip
    assert [(v, k) for v, _, k, _ in gains] == [("~2.5%", "improvement"), ("~10.0%", "improvement"),
                                                 ("~2.7%", "improvement")]  # fmt: skip
    gains = _read("We propose X. With X we achieve lip vertex error reductions of 9.2% for BIWI and 13.7% for Vocaset.")
    assert [k for _, _, k, _ in gains] == ["improvement", "improvement"]


def test_a_list_that_goes_on_in_its_own_clause_is_the_same_kind() -> None:
    gains = _read("We propose X. Experiments show that we improve PASS@100 from 35.5% to 44.5% for GSM8K, and 27.6% to "
                  "36.2% PASS@80 for MathQA.")  # fmt: skip
    assert [(v, k) for v, _, k, _ in gains] == [("from 35.5% to 44.5%", "improvement"), ("27.6% to 36.2%", "improvement")]


def test_a_list_of_scores_stays_scores() -> None:
    gains = _read("We propose X. X achieves 85.00% F1 score on Task 1 and 83.90% F1 score on Task 2.")
    assert [k for _, _, k, _ in gains] == ["score", "score"]


def test_a_qualified_change_its_nearest_baseline_and_a_restated_order_of_magnitude() -> None:
    gains = _read("We propose N-HiTS. Experiments demonstrate the advantages of our method over the state-of-the-art "
                  "methods, where N-HiTS provides an average accuracy improvement of almost 20% over the latest "
                  "Transformer architectures while reducing the computation time by an order of magnitude (50 times).",
                  ("N-HiTS",))  # fmt: skip
    assert gains[0] == ("almost 20%", "accuracy", "improvement", "latest Transformer architectures")
    assert gains[1][:3] == ("50 times", "computation time", "improvement")


def test_a_judged_value_counts_under_the_source_that_makes_it_now(tmp_path: Path) -> None:
    records = tmp_path / "r.jsonl"
    result = CliRunner().invoke(main, ["run", str(SEEDS), "-o", str(records), "--policy", "rules", "--no-cache", "-q",
                                       "--limit", "20"])  # fmt: skip
    assert result.exit_code == 0, result.output
    sheet = tmp_path / "sheet.md"
    assert CliRunner().invoke(main, ["spotcheck", str(records), "--n", "4", "--seed", "1", "-o", str(sheet)]).exit_code == 0
    sheet.write_text(sheet.read_text().replace("|  |  |\n", "| right | |\n"))
    ids = [row["id"] for row in json.loads(Path(f"{sheet}.key.json").read_text())]

    def now(record: Record, field: str, value: str) -> str | None:
        assert record.id in ids
        return None if field == "summary" else f"today:{field}"

    measured = source_precision([sheet], now=now)
    assert measured and all(source == f"today:{field}" for field, source in measured)
    assert all(right == judged for right, judged in measured.values())


def test_a_change_in_brackets_does_not_make_the_next_score_a_change() -> None:
    gains = _read("We propose X. Our approach pushes Llama-3-8B to achieve a 37.4% (+15.1%) win rate on ArenaHard and a "
                  "40.7% (+17.8%) win rate on AlpacaEval.")  # fmt: skip
    assert [(v, k) for v, _, k, _ in gains] == [("37.4%", "score"), ("+15.1%", "improvement"), ("40.7%", "score"),
                                                 ("+17.8%", "improvement")]  # fmt: skip


def test_a_title_task_before_its_means_drops_the_claim_on_it() -> None:
    assert title_parts("Improved Sentence Modeling using Suffix Bidirectional LSTM").task == "Sentence Modeling"
    assert title_parts("Improving sentence compression by learning to predict gaze").task == "sentence compression"


def test_a_task_or_technique_of_the_field_defined_as_an_acronym_is_no_name() -> None:
    abstract = ("We propose an image super-resolution method (SR) using a deeply-recursive convolutional network "
                "(DRCN). Our network has a very deep recursive layer.")  # fmt: skip
    proposing = [sentences(abstract)[0]]
    assert name_problem("super-resolution method (SR)", "Deeply-Recursive Convolutional Network", proposing, abstract)
    assert name_problem("Batch Normalization (BN)", "Fast Training", proposing, abstract)
    assert own_names("Deeply-Recursive Convolutional Network for Image Super-Resolution", abstract)[0].value == (
        "deeply-recursive convolutional network (DRCN)")


def test_a_range_with_signs_spaced_out_stays_a_range() -> None:
    gains = _read("We propose FLOWQA. FLOWQA outperforms the best models on all three domains in SCONE , with + 1.8 % to "
                  "+ 4.4 % improvement in accuracy .", ("FLOWQA",))  # fmt: skip
    assert gains == [("+ 1.8 % to + 4.4 %", "accuracy", "improvement", "best models")]


def test_a_method_that_is_a_result_or_leans_on_the_task_before_it_is_not_shown() -> None:
    assert method_problem("results on image super-resolution with a large magnification ratio", "T", "")
    assert method_problem("end - to - end neural architecture for the task", "T", "")
    assert method_problem("neural architecture for the task of reading comprehension", "T", "") is None


def test_a_plural_acronym_the_paper_defines_for_its_own_models_is_a_name_but_a_family_is_not() -> None:
    abstract = "In this work , we propose Attention Guided Graph Convolutional Networks ( AGGCNs ) , a novel model ."
    found = own_names("Attention Guided Graph Convolutional Networks for Relation Extraction", abstract)
    assert found[0].value == "Attention Guided Graph Convolutional Networks (AGGCNs)"
    assert found[0].rule == "proposed_plural"
    family = "We propose deep neural networks (DNNs) and Conditional Random Fields (CRFs) for it."
    assert not own_names("A Title", family)


@pytest.mark.parametrize(
    ("abstract", "name", "rule"),
    [("In this paper, we present 3DMatch, a data-driven model that learns a local descriptor.", "3DMatch",
      "proposed_name"),
     ("We explore it and propose a novel approach that we call Fully Attention Based Information Retriever ( FABIR ) .",
      "Fully Attention Based Information Retriever ( FABIR )", "called"),
     ("We call our model Suffix Bidirectional LSTM or SuBiLSTM .", "Suffix Bidirectional LSTM", "called"),
     ("To tackle the problem , we present Ruminating Reader .", "Ruminating Reader", "proposed_titled"),
     ("In this paper, we introduce Random Erasing, a new data augmentation method for training CNNs.", "Random Erasing",
      "proposed_titled"),
     ("We propose Big Little Decoder (BiLD), a framework that can improve inference efficiency.",
      "Big Little Decoder (BiLD)", "proposed_acronym")],
)  # fmt: skip
def test_names_given_other_ways(abstract: str, name: str, rule: str) -> None:
    found = own_names("A Title", abstract)
    assert (found[0].value, found[0].rule) == (name, rule)


def test_praise_joined_by_but_is_dropped_whole() -> None:
    phrase = noun_phrase("a simple but novel deep learning architecture for fast question - answer ranking", describe=True)
    assert phrase == "deep learning architecture for fast question - answer ranking"
