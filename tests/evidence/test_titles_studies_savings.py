"""What blind readers asked of round 13 and 14 (benchmarks/spotcheck/README.md): the task a
title states in more of its shapes, study titles that outweigh a proposal, savings that
keep their "less", baselines that name the system, and a model summary that does not swap
one adjective for another.
"""

from __future__ import annotations

import pytest

from extractor.evidence.checks import method_problem, task_problem
from extractor.evidence.gains import gains_of
from extractor.evidence.kinds import contribution_of
from extractor.evidence.rules import title_parts
from extractor.evidence.summaries import unfaithful


@pytest.mark.parametrize(
    ("title", "task"),
    [("Debate Helps Weak-to-Strong Generalization", "Weak-to-Strong Generalization"),
     ("Metadata Conditioning Accelerates Language Model Pre-training", "Language Model Pre-training"),
     ("Dynamic Y-KD: A Hybrid Approach to Continual Instance Segmentation", "Continual Instance Segmentation"),
     ("Theoretical Guarantees of Learning Ensembling Strategies with Applications to Time Series Forecasting",
      "Time Series Forecasting"),
     ("AWARE-NET: Adaptive Weighted Averaging for Robust Ensemble Network in Deepfake Detection", "Deepfake Detection"),
     ("Model Ratatouille: Recycling Diverse Models for Out-of-Distribution Generalization",
      "Out-of-Distribution Generalization"),
     ("Timo: Towards Better Temporal Reasoning for Language Models", "Temporal Reasoning for Language Models"),
     ("SMPLer-X: Scaling Up Expressive Human Pose and Shape Estimation", "Expressive Human Pose and Shape Estimation"),
     ("Bidirectional Learning for Offline Model-based Biological Sequence Design",
      "Offline Model-based Biological Sequence Design"),
     # no task where the title names none of the field
     ("Contrastive Learning and Mixture of Experts Enables Precise Vector Embeddings", None),
     ("Current Limitations of Language Models: What You Need is Retrieval", None),
     ("The RefinedWeb Dataset for Falcon LLM: Outperforming Curated Corpora with Web Data", None)],
)  # fmt: skip
def test_the_task_a_title_states(title: str, task: str | None) -> None:
    assert title_parts(title).task == task


def test_a_question_is_no_task() -> None:
    title = "Does your graph need a confidence boost? Convergent boosted smoothing on graphs"
    assert task_problem(title, title + " with tabular node features", "") is not None


@pytest.mark.parametrize(
    ("title", "kind"),
    [("Can LLMs Learn by Teaching? A Preliminary Study", "analysis"),
     ("LLaVADI: What Matters For Multimodal Large Language Models Distillation", "analysis"),
     ("Deep Learning Scaling is Predictable, Empirically", "analysis"),
     ("PAC Generalization via Invariant Representations", "theory")],
)  # fmt: skip
def test_a_study_title_outweighs_a_proposal(title: str, kind: str) -> None:
    proposing = ["We propose three methods that mimic how people learn by teaching."]
    found = contribution_of(title, proposing[0], proposing, named=True)
    assert found is not None and found.value == kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [("It matches standard pre-training while using 33% less data.", ("33%", "less data", "standard pre-training")),
     ("This allows us to train an equivalent model using 4x less GPUs in the same wall time.", ("4x", "less GPUs", None)),
     ("It obtains 12.1% higher mIoU and 11.5% lower RMSE over MAE.", ("12.1%", "mIoU", "MAE")),
     ("M2 matches BERT-base and BERT-large in downstream GLUE quality with up to 27% fewer parameters.",
      ("up to 27%", "fewer parameters", "BERT-base and BERT-large")),
     ("Mamba enjoys fast inference (5x higher throughput than Transformers) and linear scaling.",
      ("5x", "throughput", "Transformers"))],
)  # fmt: skip
def test_a_saving_keeps_its_word_and_a_baseline_names_the_system(text: str, expected: tuple) -> None:
    gains = gains_of(f"We propose X. {text}").gains
    assert (gains[0].value, gains[0].metric, gains[0].baseline) == expected


def test_higher_or_lower_is_an_improvement_and_hardware_no_dataset() -> None:
    gains = gains_of("We propose X. It obtains 12.1% higher mIoU and 11.5% lower RMSE over MAE.").gains
    assert [g.kind for g in gains] == ["improvement", "improvement"]
    batch = gains_of("We propose X. We show gains in GPU utilization leading up to 5x increase in average batch sizes.")
    assert all(g.dataset != "GPU" for g in batch.gains)


def test_a_share_of_another_systems_score_is_no_gain() -> None:
    text = "We propose X. Our method reaches 91.5% of the mAP obtained by joint-training on all classes."
    assert [g.value for g in gains_of(text).gains] == []


def test_a_vague_method_that_only_counts_its_parts_is_held() -> None:
    assert method_problem("method that encompasses two principal stages", "T", "") is not None
    assert method_problem("NER cascade approach comprising three steps", "T", "") is None
    assert method_problem("three improvements based on IBP training", "T", "") is None


def test_a_model_summary_may_not_swap_an_adjective() -> None:
    abstract = "This paper argues that continual learning methods can benefit from splitting capacity across models."
    why = unfaithful("This paper argues that continuous learning methods can benefit from splitting capacity.",
                     "Model Zoo: A Growing Brain That Learns Continually", abstract)  # fmt: skip
    assert why == "it says continuous where the abstract says continual"
    assert unfaithful("This paper argues that continual learning methods benefit from splitting capacity.", "",
                      abstract) is None  # fmt: skip


def test_a_main_title_a_subtitle_calls_a_method_is_no_task() -> None:
    assert title_parts("Experts Weights Averaging: A New General Training Scheme for Vision Transformers").task is None
    assert title_parts("Knowledge Graph Embedding: An Overview").task == "Knowledge Graph Embedding"


def test_a_benchmark_suite_title_says_benchmark_through_its_parentheses() -> None:
    title = "XRBench: An Extended Reality (XR) Machine Learning Benchmark Suite for the Metaverse"
    found = contribution_of(title, "We propose XRBench.", ["We propose XRBench."], named=True)
    assert found is not None and found.value == "dataset_or_benchmark"
