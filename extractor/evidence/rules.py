"""Rules: values proposed from the title and abstract without any model.

A small local model names and copies badly; a few precise rules do better on the fields
whose wording follows habits of the genre. :func:`propose` reads one paper and returns
:class:`Proposals`, each value a span of the title or abstract with the rule that found
it, best first:

* **method_name**: the head of a ``Name: description`` title (``DeepWalk: Online
  Learning ...``), a name after "called / named / dubbed / termed", a name right after
  "we propose / introduce / present" (``we present DeepWalk, a novel approach``), and the
  acronym defined in parentheses next to the proposal (``... network (DRCN)``);
* **method**: the noun phrase after "we propose / introduce / present / develop ..." or
  "this paper presents ..." (with the name it opens on when its description is short:
  ``PoseCNN, a new Convolutional Neural Network for 6D object pose estimation``), and the
  title's method part (``Quaternion Convolutional Neural Networks`` in ``... for End-to-End
  Speech Recognition``);
* **task**: the title's task part (after "for", before "via / using / with / by", after
  "improves"), "the task / problem of X", "we address / tackle / study X", "a method /
  approach / model for X", and a first sentence that opens on its subject ("Relation
  classification is a crucial ingredient ..."); what the paper's own work is for, named
  the way the field names tasks ("a framework for 3D human pose estimation"), is its own
  source (``task_named``), measured apart;
* **contribution** (:mod:`~extractor.evidence.kinds`): cue words of surveys, datasets and benchmarks, systems and tools,
  theory and analyses, else a method when the paper proposes one;
* **claimed gains**: numbers with a unit (``4.5x``, ``+0.8%``, ``12 points``) in a clause
  that claims an improvement, with the metric and dataset named in that clause and the
  clause as evidence.

Every rule was kept only if its precision on the visible gold earned it (``extractor eval
--baseline rules`` scores this module alone). Values are spans of the text, so they pass
grounding by construction.

The rules run for every paper on the event loop's one core, so they are kept cheap: a
case-insensitive pattern is searched only in sentences that hold one of its words
(:class:`~extractor.evidence.text.Cue`), and gains are looked for only in clauses with a digit.

Example:
    >>> p = propose("DeepWalk: Online Learning of Social Representations",
    ...             "We present DeepWalk, a novel approach for learning latent representations of vertices.")
    >>> p.method_name[0].value, p.task[0].value
    ('DeepWalk', 'Online Learning of Social Representations')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..schema import ClaimedGain
from .checks import method_problem, names_a_task, names_a_task_done_in, task_like
from .gains import UnsureGain, gains_of
from .kinds import contribution_of
from .names import is_namey, own_names, title_head
from .phrases import is_generic, noun_phrase
from .text import QUOTES, Cue, Proposal, lowered, sentences
from .voice import proposal_object
from .words import ends_whole, is_field_term

__all__ = ["Proposal", "Proposals", "contribution_of", "proposal_rule", "propose", "title_parts"]


@dataclass
class Proposals:
    """Rule values for one paper, by field, best first."""

    task: list[Proposal] = field(default_factory=list)
    method: list[Proposal] = field(default_factory=list)
    method_name: list[Proposal] = field(default_factory=list)
    contribution: Proposal | None = None
    claimed_gains: list[ClaimedGain] = field(default_factory=list)
    unsure_gains: list[UnsureGain] = field(default_factory=list)

    def first(self, name: str) -> str | None:
        """The best value of a list field, or None."""
        values: list[Proposal] = getattr(self, name)
        return values[0].value if values else None


# --------------------------------------------------------------------------- titles

_TITLE_FOR = re.compile(r"\s(?:for|towards|toward)\s", re.I)
# "Debate Helps Weak-to-Strong Generalization": what the title's subject helps is the task.
_TITLE_IMPROVES = re.compile(r"\s(?:improves|enhances|boosts|helps|accelerates|enables|unlocks?)\s", re.I)
_IMPROVES = frozenset({"improves", "enhances", "boosts"})
# "A Hybrid Approach to Continual Instance Segmentation", "... with Applications to Time Series Forecasting".
_TITLE_APPROACH_TO = re.compile(r"^(?:(?:an?|the)\s+)?(?:[\w-]+\s+){0,3}?(?:approach|applications?|solution)\s+to\s+(.+)$",
                                re.I)  # fmt: skip
# "Robust Ensemble Network in Deepfake Detection": the task after the last "in".
_TITLE_IN = re.compile(r"\s(?:in|on)\s(?!.*\s(?:in|on)\s)", re.I)
_TITLE_MEANS = re.compile(r"\s(?:via|using|with|by|through|based\s+on)\s", re.I)
# "Learning to Stop Reading": how the paper goes about a task, not the task.
_LEARNING_TO = re.compile(r"^learning\s+to\s", re.I)
_TITLE_TASK_TRIM = re.compile(r"\s(?:via|using|with|by|through|based\s+on|without)\s.*$|"
                              r"\s+in\s+(?:CNN|DNN|RNN|GNN|LSTM|neural\s+network)s?$|"
                              r"\s+in\s+(?:one|a\s+single)[\s-]+pass$", re.I)  # fmt: skip
# A name's description in its title: "MciteBench: A Benchmark for Multimodal Citation Text Generation".
_DESCRIPTION = re.compile(r"^(?:an?|the)\s+(?P<what>.+)$", re.I)
# A subtitle that says its main title is a method: "A New General Training Scheme for ...".
_METHOD_DESCRIPTION = re.compile(r"^(?:an?|the)\s+(?:[\w-]+\s+){0,4}?(?:method|approach|scheme|framework|algorithm|"
                                 r"technique|recipe|architecture|paradigm)\b", re.I)  # fmt: skip
# A title part that is a goal: "Better Temporal Reasoning", "Improving Code Generation".
_BETTER = re.compile(r"^(?:better|improved|improving|enhanced|enhancing|efficient|faster|robust|scalable|stronger|"
                     r"boosting|advancing|accelerating)\b", re.I)  # fmt: skip
# A subtitle that opens on what is improved: "Enhancing Dataset Distillation through ...".
_GOAL_LEAD = re.compile(r"^(?:enhancing|improving|boosting|advancing|accelerating)\s", re.I)
# The words that make a goal of a task: "Better Temporal Reasoning" is about temporal reasoning.
_GOAL_WORDS = re.compile(r"^(?:even\s+)?(?:better|improved|improving|enhanced|enhancing|stronger|boosting|advancing|"
                         r"scaling\s+up|democratizing|empowering|simple\s+(?:and|but|yet)\s+effective)\s+|"
                         r"^(?:even\s+)?faster\s+(?=\S+\s)",
                         re.I)  # fmt: skip
# What a title may be for that is no task: the kind of model it serves ("... for Language Models").
_MODELS_TAIL = re.compile(r"\b(?:models?|networks?|LLMs?|MLLMs?|VLMs?|transformers?|agents?|systems?|learners?)$", re.I)
# A title's "for" part that names a model, never a task: "for Falcon LLM", "for Vision Transformers".
_A_MODEL = re.compile(r"\b(?:models?|LLMs?|MLLMs?|VLMs?|transformers?|networks?)$", re.I)
# A word of the approach glued before a task in a title: "Neural Paraphrase Identification", "Learning
# Natural Language Inference"; never in a term of art ("Neural Architecture Search", "Deep Learning").
_APPROACH_LEAD = re.compile(r"^(?:deep|neural|learning|meta-learning|[\w]+-(?:guided|enhanced|augmented)|"
                            r"(?:(?:CNN|RNN|DNN|GNN|LSTM|LLM)s?\s*/\s*)?(?:CNN|RNN|DNN|GNN|LSTM|LLM|Transformer)s?[\s-]+"
                            r"(?:based|free))\s+(?!(?:architecture|networks?|learning|"
                            r"reinforcement|to)\b)(?!.*\brepresentations?$)"
                            r"(?=(?:[\w'-]+\s+){1,5}?[\w'-]*(?:tion|sion|ing|sis|ence|ance)\b(?:\s+of\s+[\w\s'-]+)?$)",
                            re.I)  # fmt: skip
_TITLE_LEADING = re.compile(r"^(?:(?:a|an|the|towards?|on)\s+)+", re.I)
_TASK_WORD = re.compile(
    r"(?:detection|recognition|segmentation|translation|parsing|retrieval|answering|generation|classification|"
    r"estimation|tracking|labeling|labelling|inference|reasoning|comprehension|summarization|prediction|forecasting|"
    r"captioning|grounding|alignment|planning|navigation|editing|ranking|matching|pruning|quantization|distillation|"
    r"design|discovery|generalization|synthesis|optimization|adaptation|compression|transfer|pre-?training|"
    r"fine-?tuning|tuning|evaluation)$",
    re.I,
)
_TASKY_TAIL = re.compile(
    r"(?:tion|sion|ing|ment|sis|ance|ence|ity|ation|ization)s?$|"
    r"(?:detection|recognition|segmentation|translation|parsing|retrieval|answering|generation|classification"
    r"|estimation|tracking|labeling|labelling|inference|reasoning|comprehension|summarization|prediction)$",
    re.I,
)


@dataclass(frozen=True)
class TitleParts:
    """What a title's shape says: a method name, a method phrase and a task phrase."""

    name: str | None = None
    method: str | None = None
    task: str | None = None
    #: "Task via Method": the method is the title's means, a surer reading than "Method for Task".
    means: bool = False


def _tidy(text: str) -> str:
    # NLPContributionGraph titles are tokenised: "Self - Attention" -> "Self-Attention".
    # A footnote mark ends no title: "... for Machine Reading Comprehension *".
    return re.sub(r"\s+-\s+", "-", " ".join(text.split())).strip(" .,:;-?!*†‡")


def _part(text: str) -> str | None:
    """A part of a title as a phrase: leading articles and "Towards" dropped; None
    unless it ends where a noun phrase ends and says something specific."""
    text = _TITLE_LEADING.sub("", text.strip()).strip(" ,;:-")
    if not text or not ends_whole(text) or is_generic(text):
        return None
    if " " not in text and not (is_namey(text) or _TASK_WORD.search(text)):
        return None  # "Striving for Simplicity": one plain word says nothing
    return text


def title_parts(title: str) -> TitleParts:
    """Read a title's shape: ``Name: rest``, ``Method for Task``, ``Task via Method``.

    Example:
        >>> title_parts("NegBERT : A Transfer Learning Approach for Negation Detection and Scope Resolution")
        TitleParts(name='NegBERT', method='Transfer Learning Approach', task='Negation Detection and Scope Resolution', means=False)
        >>> title_parts("Relation Classification via Multi - Level Attention CNNs")
        TitleParts(name=None, method='Multi-Level Attention CNNs', task='Relation Classification', means=True)
        >>> title_parts("Faster R-CNN: Towards Real-Time Object Detection with Region Proposal Networks").task
        'Real-Time Object Detection'
    """
    title = " ".join(title.split())
    if not title:
        return TitleParts()
    name = title_head(title)
    head, colon, tail = title.partition(":")
    # "NAME: what it is" reads its rest; "Main title: subtitle" its main title, or its
    # subtitle when the main title has no shape ("Model Ratatouille: Recycling ... for X")
    rest = _tidy(tail if colon and tail.strip() and name is not None else head)
    parts = _shape(rest, name)
    if colon and parts.task is not None and rest == _tidy(head) and _METHOD_DESCRIPTION.match(_tidy(tail)):
        # "Experts Weights Averaging: A New General Training Scheme for ...": the main title names a method
        parts = TitleParts(name=parts.name, method=parts.method, means=parts.means)
    if colon and name is None and _GOAL_LEAD.match(_tidy(tail)):
        # "Diversity-Driven Synthesis: Enhancing Dataset Distillation through ...": the main
        # title names the method, the subtitle what it improves
        goal = _task_part(_TITLE_TASK_TRIM.sub("", _tidy(tail)))
        if goal is not None and _TASK_WORD.search(goal):
            return TitleParts(method=_part(_tidy(head)), task=goal)
    if parts.task is not None and parts.task == _APPROACH_LEAD.sub("", _tidy(title)):
        parts = TitleParts(name=parts.name, method=parts.method, means=parts.means)  # "Deep Model Assembling"
    if colon and tail.strip() and name is None and parts.method is None and parts.task is None:
        sub = _shape(_tidy(tail), None)
        # only a subtitle that names a task of the field, never one that says something ("What You Need is X")
        if sub.task is not None and _TASK_WORD.search(sub.task) and not re.search(r"\s(?:is|are)\s", sub.task):
            parts = TitleParts(task=sub.task)
    return parts


def _task_part(text: str) -> str | None:
    """The task a title part names: the part itself, or what comes after "approach to"
    or after a last "in" when the part before it names a thing ("Robust Ensemble Network
    in Deepfake Detection")."""
    if (m := _TITLE_APPROACH_TO.match(text.strip())) is not None:
        task = _part(_TITLE_TASK_TRIM.sub("", m.group(1)))
        return task if task is not None and _TASK_WORD.search(task) else None
    if (m := _TITLE_IN.search(text)) is not None:
        before, after = _part(text[: m.start()]), _part(text[m.end() :])
        if (before is not None and after is not None and _TASK_WORD.search(after)
                and (not task_like(before) or _LEARNING_TO.match(before))):  # fmt: skip
            return after  # "Robust Ensemble Network in Deepfake Detection", "Learning to Stop Reading in Machine Comprehension"
    text = _APPROACH_LEAD.sub("", _APPROACH_LEAD.sub("", text.strip()))  # "Deep Semantic Role Labeling": semantic
    # role labeling; "Soft Template Based Neural Summarization": summarization
    return _part(_GOAL_WORDS.sub("", text)) or _part(text)  # "for Improved Pruning": pruning


def _shape(rest: str, name: str | None) -> TitleParts:
    """:func:`title_parts` of a title's main part ``rest``."""
    method = task = None
    if (m := _TITLE_IMPROVES.search(rest)) is not None:
        method, task = _part(rest[: m.start()]), _task_part(_TITLE_TASK_TRIM.sub("", rest[m.end() :]))
        if task is not None and m.group().strip().casefold() not in _IMPROVES and not _TASK_WORD.search(task):
            task = None  # "X Enables Precise Vector Embeddings": only a task of the field after the newer verbs
    elif (m := _TITLE_FOR.search(rest)) is not None:
        method, task = _part(rest[: m.start()]), _task_part(_TITLE_TASK_TRIM.sub("", rest[m.end() :]))
        if (method is not None and task is not None and _MODELS_TAIL.search(task) and not task_like(task)
                and (_BETTER.match(method) or task_like(method))):  # fmt: skip
            # "Better Temporal Reasoning for Language Models": the task is before "for", without its
            # "better", and keeps the models it is for ("Efficient Training for MoE Models")
            whole = _part(_GOAL_WORDS.sub("", _TITLE_LEADING.sub("", _TITLE_TASK_TRIM.sub("", rest))))
            method, task = None, whole or _part(_GOAL_WORDS.sub("", method)) or method
    elif (m := _TITLE_MEANS.search(rest)) is not None:
        left, right = _part(_TITLE_TASK_TRIM.sub("", rest[: m.start()])), _part(rest[m.end() :])
        if left is not None and (_TASKY_TAIL.search(left) or task_like(left)):
            # "Improved Sentence Modeling using ...": the task, without the claim on it
            task = _APPROACH_LEAD.sub("", _GOAL_WORDS.sub("", left))
            return TitleParts(name=name, method=right, task=_part(task) or left, means=True)
        method = left
        if (to := _TITLE_APPROACH_TO.match(rest[m.end() :].strip())) is not None:
            task = _part(to.group(1))  # "... Strategies with Applications to Time Series Forecasting"
            task = task if task is not None and _TASK_WORD.search(task) else None
    elif (m := _TITLE_APPROACH_TO.match(rest)) is not None:
        task = _task_part(rest)  # "A Hybrid Approach to Continual Instance Segmentation"
    elif name is not None and (_TASK_WORD.search(rest) or names_a_task_done_in(rest)) and len(rest.split()) <= 8:
        # "Aardvark weather: end-to-end data-driven weather forecasting", "DensePose: Dense Human Pose
        # Estimation In The Wild": the task, with the setting it is done in
        task = _task_part(rest)
    elif _TASKY_TAIL.search(rest) and len(rest.split()) <= 6:
        task = _task_part(rest)
    if task is not None and _A_MODEL.search(task) and len(task.split()) <= 3 and not any(
            _TASKY_TAIL.search(w) for w in task.split()):  # fmt: skip
        task = None  # "The RefinedWeb Dataset for Falcon LLM": what it serves is a model, not a task
    return TitleParts(name=name, method=method, task=task)


# --------------------------------------------------------------------------- abstracts

# The sentence-level patterns are cues (see text.Cue): each with the words its every
# match holds, so a sentence without them is not searched.
# What the paper says it addresses, in its own voice: "we address / tackle / study the problem of X".
_WE_ADDRESS = Cue(
    r"\b(?:we|this\s+(?:paper|work|study))\s+(?:\w+\s+)?(?:address|tackle|solve|consider|focus\s+on|target|"
    r"investigate|study|explore)(?:es|s|d)?\s+(?:the\s+)?(?:(?:challenging|important|open|fundamental)\s+)?"
    r"(?:task|problem|challenge|question)s?\s+of\s+(.+)",
    ("address", "tackle", "solve", "consider", "focus", "target", "investigate", "study", "explore"),
    also=("task", "problem", "challenge", "question"),
    flags=re.I,
)
_WE_ADDRESS_NP = Cue(
    r"\b(?:we|this\s+(?:paper|work))\s+(?:\w+\s+)?(?:address|tackle)(?:es|s|d)?\s+(.+)",
    ("address", "tackle"),
    also=("we", "this"),
    flags=re.I,
)
# What a study studies: "we study / investigate / analyze / examine / explore X".
_WE_STUDY = Cue(
    r"\b(?:we|this\s+(?:paper|work|study|survey|article))\s+(?:\w+\s+)?(?:study|studies|investigates?|analy[sz]es?|"
    r"examines?|explores?|characteri[sz]es?|surveys?|reviews?|revisits?|benchmarks?|evaluates?)\s+(?!how\b|whether\b|"
    r"what\b|why\b|when\b|if\b|the\s+(?:question|problem)\b)(.+)",
    ("study", "studies", "investigat", "analy", "examin", "explor", "characteri", "survey", "review", "revisit",
     "benchmark", "evaluat"),
    also=("we", "this"),
    flags=re.I,
)  # fmt: skip
# A survey's topic: "A Survey on Mixture of Experts", "Autoregressive Models in Vision: A Survey".
_SURVEY_TOPIC = re.compile(r"\b(?:survey|review|overview)\s+(?:of|on)\s+(.+?)(?:[:?]|$)|^(.+?):\s*an?\s+(?:\w+\s+)?survey\b",
                           re.I)  # fmt: skip
# The problem as the abstract states it: "the problem / task / challenge of X".
_PROBLEM_OF = Cue(r"\bthe\s+(?:\w+\s+)?(?:task|problem|challenge)s?\s+of\s+(.+)", ("task", "problem", "challenge"),
                  flags=re.I)  # fmt: skip
# A first sentence that opens on the task: "Modeling multivariate time series is a well-established problem".
_SUBJECT = re.compile(r"^((?:[A-Z][\w\-]*)(?:\s+[\w\-]+){0,6}?)\s+(?:is|are|has\s+been|have\s+been|remains|plays)\s")
_NAME_FIRST = re.compile(r"^[\"“']?(?:the\s+)?([A-Z][\w\-+.]*(?:\s+[A-Z][\w\-+.]*){0,2})[\"”']?\s*(?:\([^)]*\)\s*)?,\s+(.+)")
_FOR_TASK = re.compile(r"\bfor\s+(?!the\s+first|example|instance|each|all|both|this|these|that|which|free)(.+)", re.I)


# A proposal beside the main one: "We also introduce ...", "Besides, we construct ...".
_SIDE = re.compile(r"^(?:besides|in\s+addition|additionally|moreover|furthermore|finally)?,?\s*we\s+(?:also|further|"
                   r"additionally)\b|^(?:besides|in\s+addition|additionally|moreover|furthermore)\b")  # fmt: skip


def _flat(text: str) -> str:
    """``text`` for an occurrence test: whitespace collapsed and trimmed (values are
    stripped, so the ends never matter), hyphens and brackets unspaced ("( AEN )", as
    tokenised text has it), casefolded."""
    flat = " ".join(w for w in text.split() if w.strip(QUOTES)).replace(" -", "-").replace("- ", "-")
    return flat.replace("( ", "(").replace(" )", ")").casefold()


def _add(bucket: list[Proposal], value: str | None, rule: str, flat: str) -> None:
    """Keep ``value`` when it is new and occurs in the text (``flat``, see :func:`_flat`):
    spans only, never invented."""
    if not value:
        return
    value = value.strip()
    if value.casefold() in {p.value.casefold() for p in bucket}:
        return
    if _flat(value) in flat:
        bucket.append(Proposal(value, rule))


def _object(after: str) -> tuple[str | None, str]:
    """What a proposal sentence proposes (the noun phrase after the verb), and the text
    that follows it. A bare name ("we present Eureka, an open-source framework for X")
    gives way to its description."""
    if (m := _NAME_FIRST.match(after)) is not None:
        described = noun_phrase(m.group(2), describe=True)
        if described is not None:
            return described, m.group(2)[m.group(2).find(described.split()[-1]) :]
    phrase = noun_phrase(after, describe=True)
    if phrase is None:
        return None, after
    at = after.find(phrase.split()[-1])
    return phrase, after[at + len(phrase.split()[-1]) :] if at >= 0 else ""


# Where a description ends whole: the sentence or a clause ends, or a relative, a purpose or a
# means begins ("..., which", "that", "to", "for", "by", "using").
_DESCRIPTION_ENDS = re.compile(r"\s*(?:$|[.;:)]|,\s*(?:which|that|where|while|whose|and\s+(?:we|it|show|achieve)\w*)\b|"
                               r"(?:which|that|where|whose|to|with|in|for|by|on|using|based|achieving|trained|"
                               r"and\s+(?:we|it))\b)", re.I)  # fmt: skip


def _named_description(after: str, described: str, names: list[str]) -> str | None:
    """The name a proposal opens on with the short description set after it ("PoseCNN, a
    new Convolutional Neural Network for 6D object pose estimation"), as one span, when the
    proposal is written that way and the name is one (it looks like one, or is the paper's
    own): the description alone says too little to be shown."""
    if (m := _NAME_FIRST.match(after)) is None or is_field_term(m.group(1)):
        return None
    if not (is_namey(m.group(1).split()[0]) or m.group(1) in names):
        return None
    end = after.find(described, m.start(2))
    if end < 0 or not re.match(r"(?:an?|the)\s", after[m.start(2) :], re.I):
        return None  # "FrameBridge, taking the given static image": no description of what it is
    if not _DESCRIPTION_ENDS.match(after[end + len(described) :]):
        return None  # "Sundial, a family of native, flexible, and scalable ...": the description was cut
    span = after[: end + len(described)].strip(" \"“”'")
    return re.sub(r"^the\s+", "", span, flags=re.I)


def proposal_rule(method: str, names: list[str]) -> str:
    """The rule a "we propose X" method is measured as: ``we_propose`` when it carries the
    paper's own name or acronym or describes the thing whole (more than eight words),
    ``we_propose_short`` when it is a short plain phrase ("learning rate scheduler", "method
    for teaching a pretrained LM"), which blind readers found cut or vague half the time; so
    is a term of the field spelt out with its acronym ("image super-resolution method (SR)").

    Example:
        >>> proposal_rule("Big Little Decoder (BiLD)", []), proposal_rule("learning rate scheduler", [])
        ('we_propose', 'we_propose_short')
        >>> proposal_rule("image super-resolution method (SR)", [])
        'we_propose_short'
    """
    plain = [re.sub(r"\s*\([^)]*\)$", "", n).casefold() for n in names if n]
    # its own acronym, or a term's given a name in Title Case ("Stratified Mixture of Experts (SMoE)"),
    # not a term of the field spelt out ("image super-resolution method (SR)")
    acronyms = re.findall(r"\(([A-Za-z][\w\-]*)\)", method)
    if any(n and n in method.casefold() for n in plain) or any(
            not is_field_term(a) or method[:1].isupper() for a in acronyms):  # fmt: skip
        return "we_propose"
    return "we_propose" if len(method.split()) > 8 else "we_propose_short"


# The rules that find in the abstract what the paper's own work is for: "we propose X for Y",
# "a framework for Y", "we address Y". Not "the problem of Y" or the first sentence's subject,
# which as often name background, an example application or a part of the problem (round 46).
_PURPOSE_RULES = frozenset({"propose_for", "method_for", "task_of", "we_address"})


def propose(title: str, abstract: str) -> Proposals:
    """Rule values for one paper (see the module docstring)."""
    title = title or ""
    text = _flat(f"{title}\n{abstract}")  # prepared once: every value is tested against it
    p = Proposals()
    parts = title_parts(title)
    sents = sentences(abstract)
    lows = [lowered(s) for s in sents]  # for the cues' word tests, once per sentence
    afters = [proposal_object(s) for s in sents]
    proposing = [s for s, after in zip(sents, afters) if after is not None]

    # method_name: the name the paper gives its own work, whole, never a term of the field
    for found in own_names(title, abstract, proposing):
        _add(p.method_name, found.value, found.rule, text)

    # method and task: what a proposal sentence proposes, and what for (the title's task first)
    _add(p.task, parts.task, "title_task", text)
    names = [re.sub(r"\s*\([^)]*\)$", "", n.value) for n in p.method_name]

    def introduces_name(after: str | None) -> bool:  # the sentence that introduces the name tells what it is
        return after is not None and any(n and n in after for n in names)

    # what it proposes beside its main work ("We also introduce a novel loss function ...") is no method
    # while another sentence proposes
    side = [_SIDE.match(low) is not None for low in lows]
    main = [a for a, aside in zip(afters, side) if a is not None and not aside]
    for after in sorted(main or afters, key=lambda a: not introduces_name(a)):
        if after is None:
            continue
        thing, rest = _object(after)
        rule = proposal_rule(thing, names) if thing else "we_propose"
        if (thing is not None and rule == "we_propose_short" and method_problem(thing, title, abstract) is None
                and (named := _named_description(after, thing, names))):  # fmt: skip
            thing, rule = named, "name_described"  # "PoseCNN, a new Convolutional Neural Network for 6D pose estimation"
        _add(p.method, thing, rule, text)
        if thing is not None and (m := re.match(r"^\s*(?:\([^)]*\)\s*)?(?:,\s*)?(?:\w+\s+){0,2}?for\s+(.+)", rest)):
            _add(p.task, noun_phrase(m.group(1), 8), "propose_for", text)
    if parts.means:
        _add(p.method, parts.method, "title_means", text)  # "Data Augmentation via Invariance-Constrained Learning"
    elif parts.name is not None:
        _add(p.method, parts.method, "title_method", text)  # "NoRA: Nested Low-Rank Adaptation for ..."
    if parts.name is not None and (m := _DESCRIPTION.match(_tidy(title.partition(":")[2]))) is not None:
        _add(p.method, _part(m.group("what")), "title_description", text)  # "A Benchmark for Multimodal ..."
    for found in p.method:  # "the Structured State Space sequence model (S4)": a name defined with what it names
        if (m := re.search(r"\(([^()]+)\)$", found.value)) is not None and is_namey(m.group(1)):
            if not is_field_term(m.group(1)) and len(found.value) <= 60:
                _add(p.method_name, found.value, "method_acronym", text)
    for found in p.method:  # "a framework for deepfake detection": the task inside what is proposed
        if (m := re.search(r"\bfor\s+(.+)$", found.value)) is not None:
            _add(p.task, noun_phrase(m.group(1), 8), "method_for", text)

    for s, low in zip(sents, lows):
        if (m := _WE_ADDRESS.search(s, low)) is not None:
            _add(p.task, noun_phrase(m.group(1), 8), "task_of", text)
        elif (m := _WE_ADDRESS_NP.search(s, low)) is not None:
            _add(p.task, noun_phrase(m.group(1), 8), "we_address", text)

    # what a study studies, a survey surveys: its task and what it does
    for s, low in zip(sents, lows):
        if (m := _WE_STUDY.search(s, low)) is not None:
            _add(p.method, noun_phrase(m.group(1), 10), "we_study", text)
            _add(p.task, noun_phrase(m.group(1), 8), "study_topic", text)
    if (m := _SURVEY_TOPIC.search(title)) is not None:
        topic = (m.group(1) or m.group(2) or "").strip(" .?")
        _add(p.task, _part(topic) or topic, "survey_topic", text)
    # what the abstract says is the problem: "the problem of X", "X is a challenging task"
    for s, low in zip(sents, lows):
        if (m := _PROBLEM_OF.search(s, low)) is not None:
            _add(p.task, noun_phrase(m.group(1), 8), "problem_of", text)
    if sents and (m := _SUBJECT.match(sents[0])) is not None:
        _add(p.task, noun_phrase(m.group(1), 8), "first_subject", text)

    # what the paper's own work is for, in the words the field names tasks with ("a framework
    # for 3D human pose estimation"), is measured on its own: the rules that found it are right
    # less often on anything else
    for i, found in enumerate(p.task):
        if found.rule in _PURPOSE_RULES and names_a_task(found.value):
            p.task[i] = Proposal(found.value, "task_named")

    p.contribution = contribution_of(title, abstract, proposing, named=bool(p.method_name))
    study = p.contribution is not None and p.contribution.value in ("analysis", "survey", "dataset_or_benchmark")
    reading = gains_of(abstract, tuple(n.value for n in p.method_name), strict=study)
    p.claimed_gains = reading.gains
    p.unsure_gains = reading.unsure
    return p
