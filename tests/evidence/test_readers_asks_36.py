"""What blind readers asked in rounds 36-39 (benchmarks/spotcheck/README.md): a title's
task without the approach glued before it ("Deep Semantic Role Labeling") and with the
models it is for ("Efficient Training for MoE Models"), never the title with "Towards" in
front; no method that restates the task, reports a result, stops a clause or a list after a
word, or spells out a term of the field with its acronym; "Compared to SPPnet, ..." names
SPPnet; "a review sentence" is no survey; a quote mark standing alone is no part of a
value; and a summary is not a twofold contribution cut after its first part, a sentence that
leans on "this line of research", or only the problem the paper states; a proposal sentence
that restates the title is still a better summary than a closing remark or background."""

from __future__ import annotations

import pytest

from extractor.evidence.checks import method_problem, name_problem, task_problem
from extractor.evidence.clauses import baseline_of
from extractor.evidence.extractive import extractive_summary
from extractor.evidence.grounding import normalise_text, phrase_occurs
from extractor.evidence.kinds import contribution_of
from extractor.evidence.rules import proposal_rule, propose, title_parts


@pytest.mark.parametrize(
    ("title", "task"),
    [("Deep Semantic Role Labeling with Self - Attention", "Semantic Role Labeling"),
     ("Neural Paraphrase Identification of Questions with Noisy Pretraining", "Paraphrase Identification of Questions"),
     ("Learning Natural Language Inference with LSTM", "Natural Language Inference"),
     ("Meta-Learning Dynamics Forecasting Using Task Inference", "Dynamics Forecasting"),
     ("Coarse - to - Fine Decoding for Neural Semantic Parsing", "Semantic Parsing"),
     # a term of art keeps its first word
     ("BigNAS: Scaling Up Neural Architecture Search with Big Single-Stage Models", "Neural Architecture Search"),
     # what it is for, when that is a kind of model, stays with the task
     ("AquilaMoE: Efficient Training for MoE Models with Scale-Up and Scale-Out Strategies",
      "Efficient Training for MoE Models"),
     ("Timo: Towards Better Temporal Reasoning for Language Models", "Temporal Reasoning for Language Models"),
     # the approach and nothing else: no task
     ("Deep Model Assembling", None)],
)  # fmt: skip
def test_a_title_task_without_the_approach_and_with_the_models_it_is_for(title: str, task: str | None) -> None:
    assert title_parts(title).task == task


def test_the_title_with_towards_in_front_is_still_the_title() -> None:
    title = "Towards Characterizing Domain Counterfactuals For Invertible Latent Causal Models"
    assert task_problem(title[len("Towards ") :], title, "") is not None


@pytest.mark.parametrize(
    ("method", "reason"),
    [("solution to the problem of paraphrase identification of questions", "restates the task"),
     ("task of generation-based extraction and in-context classification (GEIC)", "restates the task"),
     ("state-of-the-art results for different vision tasks including image classification", "a result"),
     ("LSTM approach to deletion - based sentence compression where the task", "its clause stops"),
     ("tools for ensuring that quantiles", "its clause stops"),
     ("alternative network that outperforms FlowNet2 on the challenging Sintel final pass", "a result glued"),
     ("two new neural architectures — one based on bidirectional LSTMs and conditional random fields", "a list")],
)  # fmt: skip
def test_a_method_that_does_not_say_what_the_paper_does_is_held(method: str, reason: str) -> None:
    assert reason in (method_problem(method, "A Title", "An abstract.") or "")


@pytest.mark.parametrize(
    "method",
    ["learning-based hypergraph reconstruction method based on an important statistic of hyperedge distributions "
     "that we find",
     "series of open-source language models that set a new state-of-the-art in automated theorem proving",
     "model that learns to reason"],
)  # fmt: skip
def test_a_whole_clause_or_a_claim_of_its_kind_stays(method: str) -> None:
    assert method_problem(method, "A Title", "An abstract.") is None


def test_a_term_of_the_field_spelt_out_with_its_acronym_is_a_short_proposal() -> None:
    assert proposal_rule("image super-resolution method (SR)", []) == "we_propose_short"
    assert proposal_rule("semi-supervised learning (SSL)", []) == "we_propose_short"
    # a name in Title Case for a kind of model is the paper's own
    assert proposal_rule("Sparsely-Gated Mixture-of-Experts layer (MoE)", []) == "we_propose"
    assert proposal_rule("deeply-recursive convolutional network (DRCN)", []) == "we_propose"


def test_compared_to_a_name_then_a_comma_names_it() -> None:
    clause = "Compared to SPPnet, Fast R-CNN trains VGG16 3× faster, tests 10× faster"
    at = clause.find("3×")
    assert baseline_of(clause, at, at + 2) == "SPPnet"


def test_a_review_sentence_is_no_survey() -> None:
    abstract = ("Aspect-level sentiment classification aims to determine the sentiment polarity of a review sentence "
                "towards an opinion target. First, we propose a method for target representation.")  # fmt: skip
    found = contribution_of("Effective Attention Modeling for Aspect-Level Sentiment Classification", abstract,
                            ["First, we propose a method for target representation."])  # fmt: skip
    assert found is not None and found.value == "method"
    assert contribution_of("Towards Graph Foundation Models: A Survey and Beyond", "We review GFMs.", []).value == "survey"


def test_a_quote_mark_alone_is_no_part_of_a_value() -> None:
    text = "we propose the “ adversarial autoencoder ’ ’ ( AAE ) , which is a probabilistic autoencoder"
    assert normalise_text(text).endswith("adversarial autoencoder (aae), which is a probabilistic autoencoder")
    assert phrase_occurs("adversarial autoencoder (AAE)", text)
    names = propose("Adversarial Autoencoders", "In this paper , " + text + " .").method_name
    assert [n.value for n in names] == ["adversarial autoencoder (AAE)"]


def test_a_summary_is_no_twofold_contribution_cut_after_its_first_part() -> None:
    abstract = ("A field note. The contribution of this work is two-fold: First, we analyze the role played by the reset "
                "gate, showing that a significant redundancy with the update gate occurs. Then we propose to replace "
                "hyperbolic tangent with ReLU activations in the state update equations.")  # fmt: skip
    assert "two-fold" not in extractive_summary(abstract, "Light Gated Recurrent Units for Speech Recognition")


def test_a_summary_leans_on_no_line_of_research_and_states_more_than_the_problem() -> None:
    abstract = ("Attention mechanisms help. We build upon this line of research and propose two novel approaches for "
                "improving the effectiveness of attention. First, we propose a method for target representation that "
                "better captures the semantic meaning of the opinion target.")  # fmt: skip
    assert extractive_summary(abstract, "Effective Attention Modeling").startswith("We propose a method for target")
    abstract = ("In this paper we study the problem of answering cloze-style questions over documents. Our model, the "
                "Gated-Attention (GA) Reader, integrates a multi-hop architecture with a novel attention mechanism.")  # fmt: skip
    assert extractive_summary(abstract, "Gated-Attention Readers for Text Comprehension").startswith("Our model")


# Round 39's follow-ups (benchmarks/spotcheck/README.md, round 40).


def test_a_signal_is_no_name_and_a_method_restating_its_task_is_held() -> None:
    assert "term of the field" in (name_problem("EEG", "EEG-Based Emotion Recognition", []) or "")
    method = "deep learning architecture to address the natural language inference (NLI) task"
    assert "restates the task" in (method_problem(method, "DR-BiLSTM", "An abstract.") or "")


def test_a_baseline_stops_before_but_and_a_participle_is_no_baseline() -> None:
    clause = "FlowNet 2.0 is only marginally slower than the original FlowNet but decreases the estimation error by more than 50%"
    assert baseline_of(clause, clause.find("more than"), len(clause)) == "original FlowNet"
    clause = ("We show that this approach achieves significant improvements over the state-of-the-art, increasing "
              "accuracy from 71.2% to 74.4% on the benchmark")  # fmt: skip
    at = clause.find("from 71.2%")
    assert baseline_of(clause, at, at + len("from 71.2% to 74.4%")) == "state-of-the-art"


def test_constructing_datasets_is_a_dataset_title() -> None:
    found = contribution_of("Constructing Datasets for Multi-hop Reading Comprehension Across Documents",
                            "We propose a novel task.", ["We propose a novel task."])  # fmt: skip
    assert found is not None and found.value == "dataset_or_benchmark"


@pytest.mark.parametrize(
    ("title", "task"),
    [("Learning to Stop Reading in Machine Comprehension", None),  # the whole title: no task
     ("Learning Generalized Emotion Representation with Deep Nets", "Learning Generalized Emotion Representation")],
)  # fmt: skip
def test_learning_stays_before_to_and_before_a_representation(title: str, task: str | None) -> None:
    assert title_parts(title).task == task


def test_a_summary_that_restates_the_title_beats_a_closing_remark_or_background() -> None:
    abstract = ("We present simple BERT - based models for relation extraction and semantic role labeling . In recent "
                "years , state - of - the - art performance has been achieved using neural models by incorporating "
                "lexical and syntactic features . To our knowledge , we are the first to apply BERT in this manner . "
                "Our models provide strong baselines for future research .")  # fmt: skip
    title = "Simple BERT Models for Relation Extraction and Semantic Role Labeling"
    assert extractive_summary(abstract, title).startswith("We present simple BERT")


# Round 41's notes (benchmarks/spotcheck/README.md, rounds 42 and 43).


def test_what_a_paper_proposes_beside_its_main_work_is_not_its_method_nor_a_baseline_its_summary() -> None:
    abstract = ("Estimating the 6D pose of known objects is important. In this work, we introduce PoseCNN, a new "
                "Convolutional Neural Network for 6D object pose estimation. We also introduce a novel loss function "
                "that enables PoseCNN to handle symmetric objects.")  # fmt: skip
    methods = [m.value for m in propose("PoseCNN: A Convolutional Neural Network for 6D Object Pose Estimation",
                                        abstract).method]  # fmt: skip
    assert not any("loss function" in m for m in methods)
    abstract = ("Most works focus on extractive QA. We first present a strong generative baseline that uses a "
                "multi-attention mechanism to perform multiple hops of reasoning. We next introduce a novel system for "
                "selecting grounded multi-hop relational commonsense information from ConceptNet.")  # fmt: skip
    assert extractive_summary(abstract, "Commonsense for Generative Multi-Hop QA").startswith("We introduce a novel system")


def test_a_release_is_no_summary_and_simple_and_effective_no_task() -> None:
    abstract = ("We present an integrated framework for using Convolutional Networks for classification, localization "
                "and detection. We show that different tasks can be learned simultaneously using a single shared "
                "network. Finally, we release a feature extractor from our best model called OverFeat.")  # fmt: skip
    title = "OverFeat: Integrated Recognition, Localization and Detection using Convolutional Networks"
    assert "release" not in extractive_summary(abstract, title)
    assert title_parts("Simple and Effective Text Matching with Richer Alignment Features").task == "Text Matching"


# Round 44's notes (benchmarks/spotcheck/README.md, round 45).


def test_a_long_form_gives_each_letter_its_word_mil_is_the_field_and_then_no_lead() -> None:
    from extractor.evidence.names import acronym_long_form

    words = "we introduce the substochastic successor representation".split()
    assert acronym_long_form(words, "SSR") == "substochastic successor representation"
    assert "term of the field" in (name_problem("Multiple Instance Learning (MIL)", "A Title", []) or "")
    abstract = ("We first propose a position-aware neural sequence model. Then we build TACRED , a large ( 119,474 "
                "examples ) supervised relation extraction dataset , obtained via crowdsourcing .")  # fmt: skip
    assert not extractive_summary(abstract, "Position-aware Attention and Supervised Data").startswith("Then")
