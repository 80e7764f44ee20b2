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

from ..schema import MAX_GAINS, ClaimedGain, Contribution
from .spans import NumberSpan
from .text import Cue, clauses, lowered, sentences

__all__ = ["Proposal", "Proposals", "contribution_of", "gains_of", "propose", "title_parts"]


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

    def first(self, name: str) -> str | None:
        """The best value of a list field, or None."""
        values: list[Proposal] = getattr(self, name)
        return values[0].value if values else None


# --------------------------------------------------------------------------- phrases

# Words that end a noun phrase taken after a cue: a new clause, a means or a purpose.
_STOP_AFTER = (
    r"that|which|where|who|whose|while|when|whereas|because|since|although|and\s+(?:we|it|then|show|demonstrate)"
    r"|by|using|via|through|with|without|based|so|thus|to\s+(?:improve|address|solve|tackle|enable|learn)"
    r"|in\s+order|as\s+well|such\s+as|is|are|was|were|has|have|can|could|will|would|should|may|might|does|do"
)
_PHRASE_END = re.compile(rf"[,.;:!?()\[\]\"“”]|\s-\s|\s–\s|\s(?:{_STOP_AFTER})\b", re.I)
_LEADING = re.compile(
    r"^(?:(?:a|an|the|our|this|these|its|their|two|three|several|new|novel|simple|general|unified|"
    r"generic|principled|effective|efficient|alternative|first|different|various|both|some|more)\s+)+",
    re.I,
)
_MAX_PHRASE_WORDS = 8
_MIN_PHRASE_CHARS = 4
_GENERIC = frozenset(
    """method methods approach approaches model models framework frameworks technique techniques algorithm
    algorithms system systems paper work study problem problems task tasks way ways solution solutions
    architecture architectures network networks strategy mechanism scheme idea results analysis""".split()
)


def _phrase(text: str, max_words: int = _MAX_PHRASE_WORDS) -> str | None:
    """The noun phrase that opens ``text``: cut at a clause boundary, leading articles
    and fillers dropped, at most ``max_words`` words; None when nothing specific is left."""
    cut = _PHRASE_END.search(text)
    phrase = text[: cut.start()] if cut else text
    phrase = _LEADING.sub("", phrase.strip())
    words = phrase.split()
    if len(words) > max_words:
        return None  # a long run without a boundary is a clause, not a name of a thing
    phrase = " ".join(words).strip(" -–'")
    if len(phrase) < _MIN_PHRASE_CHARS or all(w.casefold() in _GENERIC for w in phrase.split()):
        return None
    return phrase


# --------------------------------------------------------------------------- titles

# A token that looks like a name: inner capitals or digits ("DeepWalk", "GPT-4", "EVE").
_NAMEY = re.compile(r"^[A-Z][\w\-+]*[A-Z0-9]|^[A-Z][a-z]+[A-Z]|\d")
_TITLE_FOR = re.compile(r"\s(?:for|towards|toward)\s", re.I)
_TITLE_IMPROVES = re.compile(r"\s(?:improves|enhances|boosts)\s", re.I)
_TITLE_MEANS = re.compile(r"\s(?:via|using|with|by|through|based\s+on|from)\s", re.I)
_TITLE_TASK_TRIM = re.compile(r"\s(?:via|using|with|by|through|based\s+on|in|on|from|under|without)\s.*$", re.I)
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


def _tidy(text: str) -> str:
    # NLPContributionGraph titles are tokenised: "Self - Attention" -> "Self-Attention".
    return re.sub(r"\s+-\s+", "-", " ".join(text.split())).strip(" .,:;-")


def title_parts(title: str) -> TitleParts:
    """Read a title's shape: ``Name: rest``, ``Method for Task``, ``Task via Method``.

    Example:
        >>> title_parts("NegBERT : A Transfer Learning Approach for Negation Detection and Scope Resolution")
        TitleParts(name='NegBERT', method='Transfer Learning Approach', task='Negation Detection and Scope Resolution')
        >>> title_parts("Relation Classification via Multi - Level Attention CNNs")
        TitleParts(name=None, method='Multi-Level Attention CNNs', task='Relation Classification')
    """
    title = " ".join(title.split())
    if not title:
        return TitleParts()
    name: str | None = None
    rest = title
    head, colon, tail = title.partition(":")
    if colon and tail.strip():
        head_words = head.split()
        if len(head_words) == 1 or (len(head_words) <= 3 and any(_NAMEY.search(w) for w in head_words)):
            name = _tidy(head)
        rest = tail
    rest = _tidy(rest)
    method = task = None
    if (m := _TITLE_IMPROVES.search(rest)) is not None:
        method = _LEADING.sub("", rest[: m.start()]).strip() or None
        task = _LEADING.sub("", rest[m.end() :]).strip() or None
    elif (m := _TITLE_FOR.search(rest)) is not None:
        method = _LEADING.sub("", rest[: m.start()]).strip() or None
        task = _TITLE_TASK_TRIM.sub("", rest[m.end() :]).strip() or None
    elif (m := _TITLE_MEANS.search(rest)) is not None:
        left = _LEADING.sub("", rest[: m.start()]).strip()
        right = _LEADING.sub("", rest[m.end() :]).strip()
        if _TASKY_TAIL.search(left):
            task, method = left or None, right or None
        else:
            method = left or None
    elif _TASKY_TAIL.search(rest) and len(rest.split()) <= 6:
        task = _LEADING.sub("", rest).strip() or None
    return TitleParts(name=name, method=method, task=task)


# --------------------------------------------------------------------------- abstracts

# The sentence-level patterns are cues (see text.Cue): each with the words its every
# match holds, so a sentence without them is not searched.
_PROPOSE_VERB = r"(?:propose|introduce|present|develop|describe|design|devise|build|put\s+forward|offer|report)"
_WE_PROPOSE = Cue(
    rf"\b(?:we|this\s+(?:paper|work|article|study)|in\s+this\s+(?:paper|work),?\s+we|here,?\s+we)\s+"
    rf"(?:(?:also|further|first|then|therefore|thus|hence)\s+)?{_PROPOSE_VERB}s?\s+(.+)",
    ("propose", "introduce", "present", "develop", "describe", "design", "devise", "build", "put", "offer", "report"),
    also=("we", "this"),
    flags=re.I,
)
_CALLED = Cue(
    r"\b(?:called|named|dubbed|termed|coined)\s+[\"“']?([A-Z][\w\-+.]*[\w+](?:\s[A-Z][\w\-+]*[A-Z0-9][\w\-+]*)?)",
    ("called", "named", "dubbed", "termed", "coined"),
    flags=re.I,
)
_NAME_FIRST = re.compile(r"^([A-Z][\w\-+]*[A-Z0-9][\w\-+]*|[A-Z][a-z]+[A-Z][\w\-+]*)\s*(?:,|\(|:|which|that)")
_ACRONYM = re.compile(r"\(\s*([A-Z][A-Za-z0-9\-+]*[A-Z0-9][A-Za-z0-9\-+]*)\s*\)")
_TASK_OF = Cue(r"\b(?:the\s+)?(?:task|problem|challenge)s?\s+of\s+(.+)", ("task", "problem", "challenge"), flags=re.I)
_MEANS = ("method", "approach", "model", "framework", "algorithm", "system", "technique", "architecture", "network",
          "scheme", "strategy", "pipeline", "procedure")  # fmt: skip
_MEANS_FOR = Cue(
    rf"\b(?:{'|'.join(_MEANS)})s?\s+(?:for|to\s+the\s+problem\s+of)\s+(.+)", _MEANS, also=("for", "problem"), flags=re.I
)
_FOR_X = Cue(r"\bfor\s+(?!the\s+first|example|instance|each|all|both|this|these|that|which)(.+)", ("for",), flags=re.I)
_SUBJECT = re.compile(r"^([A-Z][\w\-]*(?:\s+[\w\-]+){0,5}?)\s+(?:is|are|has|have|remains|plays|aims)\s")
_SUBJECT_NOT = re.compile(
    r"^(?:we|this|these|that|it|there|in|recent|recently|many|most|some|although|while|however|the|a|an|our|"
    r"existing|previous|current|one|such|despite|with|for|as|to|given)\b",
    re.I,
)


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


def propose(title: str, abstract: str) -> Proposals:
    """Rule values for one paper (see the module docstring)."""
    title = title or ""
    text = _flat(f"{title}\n{abstract}")  # prepared once: every value is tested against it
    p = Proposals()
    parts = title_parts(title)
    sents = sentences(abstract)
    lows = [lowered(s) for s in sents]  # for the cues' word tests, once per sentence
    # Per sentence, what follows "we propose" and the name after "called" (or None).
    afters = [_WE_PROPOSE.search(s, low) for s, low in zip(sents, lows)]
    called = [_CALLED.search(s, low) for s, low in zip(sents, lows)]
    proposing = [s for s, after in zip(sents, afters) if after is not None]

    # method_name
    _add(p.method_name, parts.name, "title_name", text)
    for after, name in zip(afters, called):
        if after is None:
            continue
        if name is not None:
            _add(p.method_name, name.group(1).rstrip(".-"), "called", text)
        if (m := _NAME_FIRST.match(after.group(1))) is not None:
            _add(p.method_name, m.group(1), "proposed_name", text)
        if (m := _ACRONYM.search(after.group(1))) is not None:
            _add(p.method_name, m.group(1), "proposed_acronym", text)
    for name in called:
        if name is not None:
            _add(p.method_name, name.group(1).rstrip(".-"), "called", text)

    # method
    for after in afters:
        if after is not None:
            _add(p.method, _phrase(after.group(1)), "we_propose", text)
    _add(p.method, parts.method, "title_method", text)

    # task
    _add(p.task, parts.task, "title_task", text)
    for rule, cue in (("task_of", _TASK_OF), ("means_for", _MEANS_FOR)):
        for s, low in zip(sents, lows):
            if (m := cue.search(s, low)) is not None:
                _add(p.task, _phrase(m.group(1)), rule, text)
    if sents and (m := _SUBJECT.match(sents[0])) is not None and not _SUBJECT_NOT.match(m.group(1)):
        _add(p.task, _phrase(m.group(1), 6), "first_subject", text)

    for s, low in zip(sents, lows):
        if (m := _FOR_X.search(s, low)) is not None:
            _add(p.task, _phrase(m.group(1), 5), "for_x", text)
            break
    for s in sents:
        if (m := _ACRONYM.search(s)) is not None:
            _add(p.method_name, m.group(1), "first_acronym", text)
            break

    p.contribution = contribution_of(title, abstract, proposing)
    p.claimed_gains = gains_of(abstract)
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


def contribution_of(title: str, abstract: str, proposing: list[str]) -> Proposal | None:
    """The kind of contribution the cues of title and abstract show, or None.

    The title and the proposal sentences decide first: a survey, a dataset or benchmark,
    a system or tool, a theory paper. A paper that proposes something is a ``method``;
    one that only studies, measures or evaluates is an ``analysis``. ``proposing`` holds
    the abstract's proposal sentences ("we propose / introduce / present ...").

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
    if proposing:
        return Proposal(Contribution.method.value, "proposal_cue")
    if _ANALYSIS.search(abstract):
        return Proposal(Contribution.analysis.value, "analysis_cue")
    return None


# --------------------------------------------------------------------------- gains

_UNIT_NUMBER = re.compile(
    r"(?<![\w.\-])[+\-−]?\d+(?:[.,]\d+)?\s?(?:%|×|x\b|times\b|percent\b|points?\b|pp\b|fold\b)"
    r"|(?<![\w.\-])[+\-−]?\d+\.\d+(?![\w.])"
)
_CLAIM = re.compile(
    r"\b(?:improv|outperform|surpass|exceed|beat|boost|increas|reduc|decreas|lower|higher|better|faster|speed|"
    r"gain|achiev|reach|obtain|attain|set|state[- ]of[- ]the[- ]art|SOTA|up\s+to|relative|absolute)", re.I
)
_METRICS = re.compile(
    r"\b(?:top-?[15]\s+accuracy|accuracy|F1(?:[- ]score)?|F-score|BLEU|ROUGE(?:-[12L])?|METEOR|CIDEr|mAP|AP(?:50|75)?|"
    r"mIoU|IoU|AUC|AUROC|perplexity|PSNR|SSIM|FID|EM|exact\s+match|recall|precision|error\s+rate|WER|CER|"
    r"latency|throughput|speed(?:up)?|memory|success\s+rate|win\s+rate|pass@1|BPC|NDCG|MRR|hit\s+rate|"
    r"parameters|FLOPs|compute|cost|training\s+time|inference\s+time)\b",
    re.I,
)
_DATASET = re.compile(
    r"\b(?:on|over|across)\s+(?:the\s+)?([A-Z][\w\-.]*(?:\s?[-0-9][\w\-]*)?)(?=[\s,.;)]|$)"
)
# Every number above has a digit; most clauses have none, and this test is cheap.
_DIGIT = re.compile(r"\d")


def gains_of(abstract: str) -> list[ClaimedGain]:
    """Quantitative gains: numbers with a unit, or decimals, in a clause that claims an
    improvement; the metric and dataset named in the same clause; the clause as evidence.

    Example:
        >>> [(g.value, g.metric, g.dataset) for g in gains_of("It improves accuracy by 4.5% on ImageNet.")]
        [('4.5%', 'accuracy', 'ImageNet')]
    """
    gains: list[ClaimedGain] = []
    seen: set[str] = set()
    if not _DIGIT.search(abstract):
        return gains
    for clause in clauses(abstract):
        if len(gains) >= MAX_GAINS:
            break
        # The numbers first: the claim words and the metrics are slower to look for.
        values = [m.group().strip() for m in _UNIT_NUMBER.finditer(clause)] if _DIGIT.search(clause) else []
        if not values or not _CLAIM.search(clause):
            continue
        metric = _METRICS.search(clause)
        dataset = _DATASET.search(clause)
        for value in values:
            if value in seen or len(gains) >= MAX_GAINS:
                continue
            seen.add(value)
            span = NumberSpan(text=value, clause=clause.strip()[:300])
            gains.append(
                ClaimedGain(
                    metric=metric.group() if metric else "",
                    value=value,
                    magnitude=span.magnitude,
                    unit=span.unit,
                    dataset=dataset.group(1).rstrip(".-") if dataset else None,
                    evidence=span.clause,
                )
            )
    return gains
