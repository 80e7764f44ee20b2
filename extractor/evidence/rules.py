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
  "this paper presents ...", and the title's method part (``Quaternion Convolutional
  Neural Networks`` in ``... for End-to-End Speech Recognition``);
* **task**: the title's task part (after "for", before "via / using / with / by", after
  "improves"), "the task / problem of X", "we address / tackle / study X", "a method /
  approach / model for X", and a first sentence that opens on its subject ("Relation
  classification is a crucial ingredient ...");
* **contribution**: cue words of surveys, datasets and benchmarks, systems and tools,
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

from ..schema import ClaimedGain, Contribution
from .gains import UnsureGain, gains_of
from .names import own_names, title_head
from .phrases import is_generic, noun_phrase
from .words import ends_whole
from .text import Cue, lowered, sentences
from .voice import proposal_object

__all__ = ["Proposal", "Proposals", "contribution_of", "propose", "title_parts"]


@dataclass(frozen=True)
class Proposal:
    """One value a rule proposes, and the rule's name."""

    value: str
    rule: str


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
_TITLE_IMPROVES = re.compile(r"\s(?:improves|enhances|boosts)\s", re.I)
_TITLE_MEANS = re.compile(r"\s(?:via|using|with|by|through|based\s+on|from)\s", re.I)
_TITLE_TASK_TRIM = re.compile(r"\s(?:via|using|with|by|through|based\s+on|in|on|from|under|without|at)\s.*$", re.I)
_TITLE_LEADING = re.compile(r"^(?:(?:a|an|the|towards?|on)\s+)+", re.I)
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
    return re.sub(r"\s+-\s+", "-", " ".join(text.split())).strip(" .,:;-?!")


def _part(text: str) -> str | None:
    """A part of a title as a phrase: leading articles and "Towards" dropped; None
    unless it ends where a noun phrase ends and says something specific."""
    text = _TITLE_LEADING.sub("", text.strip()).strip(" ,;:-")
    if not text or not ends_whole(text) or is_generic(text):
        return None
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
    rest = _tidy(tail if colon and tail.strip() else title)
    method = task = None
    if (m := _TITLE_IMPROVES.search(rest)) is not None:
        method, task = _part(rest[: m.start()]), _part(rest[m.end() :])
    elif (m := _TITLE_FOR.search(rest)) is not None:
        method, task = _part(rest[: m.start()]), _part(_TITLE_TASK_TRIM.sub("", rest[m.end() :]))
    elif (m := _TITLE_MEANS.search(rest)) is not None:
        left, right = _part(rest[: m.start()]), _part(rest[m.end() :])
        if left is not None and _TASKY_TAIL.search(left):
            return TitleParts(name=name, method=right, task=left, means=True)
        method = left
    elif _TASKY_TAIL.search(rest) and len(rest.split()) <= 6:
        task = _part(rest)
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
_NAME_FIRST = re.compile(r"^[\"“']?(?:the\s+)?([A-Z][\w\-+.]*(?:\s+[A-Z][\w\-+.]*){0,2})[\"”']?\s*(?:\([^)]*\)\s*)?,\s+(.+)")
_FOR_TASK = re.compile(r"\bfor\s+(?!the\s+first|example|instance|each|all|both|this|these|that|which|free)(.+)", re.I)


def _flat(text: str) -> str:
    """``text`` for an occurrence test: whitespace collapsed and trimmed (values are
    stripped, so the ends never matter), hyphens unspaced, casefolded."""
    return " ".join(text.split()).replace(" -", "-").replace("- ", "-").casefold()


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
        described = noun_phrase(m.group(2))
        if described is not None:
            return described, m.group(2)[m.group(2).find(described.split()[-1]) :]
    phrase = noun_phrase(after)
    if phrase is None:
        return None, after
    at = after.find(phrase.split()[-1])
    return phrase, after[at + len(phrase.split()[-1]) :] if at >= 0 else ""


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
    for after in afters:
        if after is None:
            continue
        thing, rest = _object(after)
        _add(p.method, thing, "we_propose", text)
        if thing is not None and (m := re.match(r"^\s*(?:\([^)]*\)\s*)?(?:,\s*)?(?:\w+\s+){0,2}?for\s+(.+)", rest)):
            _add(p.task, noun_phrase(m.group(1), 8), "propose_for", text)
    if parts.means:
        _add(p.method, parts.method, "title_means", text)  # "Data Augmentation via Invariance-Constrained Learning"
    elif parts.name is not None:
        _add(p.method, parts.method, "title_method", text)  # "NoRA: Nested Low-Rank Adaptation for ..."
    for found in p.method:  # "a framework for deepfake detection": the task inside what is proposed
        if (m := re.search(r"\bfor\s+(.+)$", found.value)) is not None:
            _add(p.task, noun_phrase(m.group(1), 8), "method_for", text)

    for s, low in zip(sents, lows):
        if (m := _WE_ADDRESS.search(s, low)) is not None:
            _add(p.task, noun_phrase(m.group(1), 8), "task_of", text)
        elif (m := _WE_ADDRESS_NP.search(s, low)) is not None:
            _add(p.task, noun_phrase(m.group(1), 8), "we_address", text)

    p.contribution = contribution_of(title, abstract, proposing, named=bool(p.method_name))
    study = p.contribution is not None and p.contribution.value in ("analysis", "survey", "dataset_or_benchmark")
    reading = gains_of(abstract, tuple(n.value for n in p.method_name), strict=study)
    p.claimed_gains = reading.gains
    p.unsure_gains = reading.unsure
    return p


# --------------------------------------------------------------------------- contribution

# Each kind's cue words (see text.Cue): "data" stands for dataset and data set, "test"
# for test bed, "tool" for toolkit, "bound" for the upper, lower and regret bounds.
_KIND_CUES: tuple[tuple[Contribution, str, Cue], ...] = (
    (Contribution.survey, "survey_cue", Cue(
        r"\b(?:this|our|we)\s+(?:\w+\s+){0,3}(?:survey|review|overview|tutorial)\b|\b(?:a|comprehensive|systematic)\s+"
        r"(?:survey|review|overview)\s+(?:of|on|for)\b|^(?:a\s+)?(?:survey|review|overview)\b",
        ("survey", "review", "overview", "tutorial"), flags=re.I)),
    (Contribution.dataset_or_benchmark, "dataset_cue", Cue(
        r"\b(?:we|this\s+paper|this\s+work)\s+(?:\w+\s+){0,2}(?:introduce|present|propose|release|construct|build|"
        r"collect|create|curate)s?\s+(?:\w+[\s,-]+){0,6}?(?:dataset|data\s+set|benchmark|corpus|test\s?bed|suite|"
        r"leaderboard|arena)s?\b|\b(?:benchmark|dataset|corpus)\b[^.]{0,40}$",
        ("data", "benchmark", "corpus", "test", "suite", "leaderboard", "arena"), flags=re.I)),
    (Contribution.system_or_tool, "system_cue", Cue(
        r"\b(?:open[- ]source|publicly\s+available)\s+(?:\w+\s+){0,2}(?:toolkit|library|platform|system|tool|"
        r"package|framework|software|engine)\b|\b(?:toolkit|library|platform|software\s+package|python\s+package)\b",
        ("tool", "library", "platform", "system", "package", "framework", "software", "engine"), flags=re.I)),
    (Contribution.theory, "theory_cue", Cue(
        r"\bwe\s+(?:\w+\s+)?(?:prove|derive)\b|\b(?:theorem|upper\s+bound|lower\s+bound|convergence\s+rate|"
        r"sample\s+complexity|regret\s+bound)s?\b",
        ("prove", "derive", "theorem", "bound", "convergence", "complexity"), flags=re.I)),
)  # fmt: skip
_ANALYSIS = Cue(
    r"\b(?:we|this\s+paper|this\s+work)\s+(?:\w+\s+)?(?:study|analy[sz]e|investigate|examine|evaluate|measure|"
    r"characteri[sz]e|explore|probe|ask|find|show\s+that|reveal|revisit|benchmark)s?\b|\bempirical\s+study\b",
    ("study", "analy", "investigate", "examine", "evaluate", "measure", "characteri", "explore", "probe", "ask", "find",
     "show", "reveal", "revisit", "benchmark"),
    flags=re.I,
)  # fmt: skip


# An empirical study says so in its title ("An Empirical Study of ...", "Understanding ...",
# "Do LLMs ...?") or in what it presents ("we present a systematic study of ...").
_STUDY_TITLE = Cue(
    r"^(?:an?\s+)?(?:empirical|systematic|comprehensive|large-scale|preliminary|controlled)\s+(?:study|analysis|"
    r"investigation|evaluation|comparison)|^(?:analy[sz]ing|understanding|characteri[sz]ing|investigating|examining|"
    r"evaluating|revisiting|demystifying|rethinking|probing|measuring|comparing|exploring|quantifying|benchmarking|"
    r"dissecting|unveiling|uncovering|interpreting)\b|^on\s+the\b|^(?:what|how|why|when|do|does|can|is|are|should|"
    r"which)\b.*\?|:\s*an?\s+(?:\w+\s+)?(?:study|analysis|investigation|evaluation)\b",
    ("empirical", "systematic", "comprehensive", "large", "preliminary", "controlled", "analy", "understanding",
     "characteri", "investigat", "examining", "evaluat", "revisiting", "demystifying", "rethinking", "probing",
     "measuring", "comparing", "exploring", "quantifying", "benchmarking", "dissecting", "unveiling", "uncovering",
     "interpreting", "on", "what", "how", "why", "when", "do", "can", "is", "are", "should", "which", "study",
     "investigation"),
    flags=re.I,
)  # fmt: skip
_STUDY_OBJECT = re.compile(
    r"^(?:an?|the|our)?\s*(?:\w+\s+){0,3}?(?:study|analysis|investigation|evaluation|comparison|examination|"
    r"assessment|exploration)\b",
    re.I,
)


def contribution_of(title: str, abstract: str, proposing: list[str], *, named: bool = False) -> Proposal | None:
    """The kind of contribution the cues of title and abstract show, or None.

    The title and the proposal sentences decide first: a survey, a dataset or benchmark,
    a system or tool, a theory paper. A paper that proposes something is a ``method``;
    one that only studies, measures or evaluates is an ``analysis``, and so is one whose
    title or proposal says it is a study ("An Empirical Study of ...", "Understanding ...",
    "we present a systematic analysis of ...") unless it names what it proposes
    (``named``). ``proposing`` holds the abstract's proposal sentences ("we propose /
    introduce / present ...").

    Example:
        >>> text = "We introduce MMLU-Pro, a benchmark ..."
        >>> contribution_of("MMLU-Pro: A Harder Benchmark", text, [text]).value
        'dataset_or_benchmark'
    """
    head = " ".join([title, *proposing[:2]])
    title_low, head_low = lowered(title), lowered(head)
    for kind, rule, cue in _KIND_CUES:
        if cue.search(title, title_low) or (kind is not Contribution.theory and cue.search(head, head_low)):
            return Proposal(kind.value, rule)
    if not proposing and _KIND_CUES[3][2].search(abstract):
        return Proposal(Contribution.theory.value, "theory_cue")
    objects = [o for s in proposing[:2] if (o := proposal_object(s)) is not None]
    if not named and (_STUDY_TITLE.search(title, title_low) or any(_STUDY_OBJECT.match(o) for o in objects)):
        return Proposal(Contribution.analysis.value, "study_cue")  # an empirical study is not a method
    if proposing:
        return Proposal(Contribution.method.value, "proposal_cue")
    if _ANALYSIS.search(abstract):
        return Proposal(Contribution.analysis.value, "analysis_cue")
    return None
