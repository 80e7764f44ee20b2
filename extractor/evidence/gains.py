"""Claimed gains read from the abstract: each number this paper claims, what it measures, on what, over what.

A gain a reader sees must be this paper's own result, and say what its number measures.
:func:`gains_of` reads each clause of a results sentence and, for every number with a
unit (``4.5x``, ``+0.8%``, ``12 points``, ``1/3``) or a score next to a metric (``an F1
of 85.0``), finds:

* **the value as written**, with what qualifies it: ``up to 16x``, ``as much as 90%``,
  ``~4x``, a range (``0.4%-4.5%``, ``1/3 to 2/3``: never a minus sign taken from the dash)
  or a change (``from 61.79 to 66.94``);
* **the metric**: what the number measures in its clause, read next to the number ("4.5x
  faster" is speed, "16x compression" compression, "27% fewer parameters" parameters,
  "an accuracy of 96.0" accuracy) or from the verb that governs it ("reduces training
  time by 6.8x", "speeds up fine-tuning by 1.4x");
* **the dataset**: a name after "on / across / in" or before "benchmark / dataset", in
  the same clause only ("respectively" pairs several numbers with several datasets);
* **the baseline**: what the clause compares with ("over", "than", "vs.", "compared
  to", "relative to", "in contrast to", "against", "outperforms X by");
* **the kind**: an ``improvement`` (by N, N x faster, +N, from A to B) or an absolute
  ``score`` (reaches N, an accuracy of N).

A sentence about other work is not read: the abstract's first sentence unless it speaks
of "we" / "our", a sentence citing "recent studies" or "prior work", an example ("e.g.")
or a clause whose subject is another named system. A number glued to a name
(``Llama2-7B``, ``A100``), a version (``GPT 4``, ``Claude 3.5``), a year, or a count
with no unit and no metric is not a gain.

A gain whose metric cannot be read is kept apart (:attr:`Reading.unsure`), with the
reason: it is not shown, since a number without what it measures misleads.

Example:
    >>> r = gains_of("We propose Y. It trains 4.5x faster than SlowFast, and improves accuracy by 0.8% on Kinetics-400.")
    >>> [(g.value, g.metric, g.dataset, g.baseline, g.kind) for g in r.gains]
    [('4.5x', 'speed', None, 'SlowFast', 'improvement'), ('0.8%', 'accuracy', 'Kinetics-400', 'SlowFast', 'improvement')]
    >>> [(g.value, g.metric) for g in gains_of("We show FedSpine improves accuracy by 0.4%-4.5%.").gains]
    [('0.4%-4.5%', 'accuracy')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..schema import MAX_GAINS, ClaimedGain
from .clauses import (
    FINAL_COMPARATOR,
    IMPROVE,
    METRIC_RE,
    NOT_A_METRIC,
    QUALIFIER,
    SCORE,
    TAIL_COMPARATOR,
    baseline_of,
    datasets,
    kind_of,
    metric_after,
    metric_before,
    unit_of,
)
from .text import number_value, sentences

__all__ = ["GAIN_SOURCES", "Reading", "UnsureGain", "gain_source", "gains_of"]

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_UNIT = (
    r"(?:\s?\\?%|\s?percent(?:age\s+points?)?\b|\s?pp\b|\s?(?:points?|pts)\b|\s?[x×X](?![\w])|\s?times\b|[\s-]?fold\b)"
)
_ONE = rf"[+\-−±]?{_NUM}{_UNIT}?"
_FRACTION = r"\d+/\d+"
# A number mention: a change "from A to B", a range "A-B" / "A to B" / "between A and B", a
# fraction, or one number.
_MENTION = re.compile(
    rf"(?<![\w.\-/])(?P<qual>{QUALIFIER})?"
    rf"(?P<value>from\s+{_ONE}\s+to\s+{_ONE}"
    rf"|{_FRACTION}(?:\s*(?:-|–|to)\s*{_FRACTION})?"
    rf"|(?:\+\s?)?{_NUM}{_UNIT}?\s*(?:-|–|—|to)\s*(?:\+\s?)?{_NUM}{_UNIT}"  # "+ 1.8 % to + 4.4 %": signs may be spaced
    rf"|{_NUM}\s*[–—]\s*{_NUM}"  # "4.3–11.2 BLEU": an en dash joins a range, unit or not
    rf"|between\s+{_NUM}{_UNIT}?\s+and\s+{_NUM}{_UNIT}"
    rf"|{_ONE})(?![\w/]|\.\d)",
    re.I,
)
_HAS_UNIT = re.compile(rf"{_UNIT}", re.I)
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"^(?:19|20)\d\d$")

_RESPECTIVELY = re.compile(r"\brespectively\b", re.I)
_CLAUSE_BREAK = re.compile(r";\s+|,\s+(?=(?:while|whereas|and|but|which|achieving|improving|reducing|outperforming|"
                           r"yielding|resulting)\b)|\s+(?=(?:while|whereas)\b)")  # fmt: skip
_OTHER_WORK = re.compile(
    r"\b(?:recent\s+(?:stud(?:y|ies)|work|works|papers?)|prior\s+(?:work|studies|art)|previous\s+(?:work|studies|"
    r"methods|approaches|results)|existing\s+(?:methods|approaches|models|work)|(?:has|have)\s+been\s+shown|"
    r"hypothesi[sz]ed|it\s+is\s+known|e\.g\.|for\s+example,?\s+[A-Z]|(?:for|in|by)\s+comparison\b|"
    r"\b(?:while|whereas)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}baselines?\b)",
    re.I,
)
_OWN = re.compile(r"\b(?:we|our|ours|us|proposed|this\s+(?:method|approach|model|framework|work|paper|technique|system))\b", re.I)
_NAMEY_SUBJECT = re.compile(r"^(?:\W*(?:[A-Z][\w\-.]*[A-Z0-9][\w\-.]*|[A-Z][a-z]+[A-Z]\w*))\b")
_VERSION_BEFORE = re.compile(r"[A-Z][\w\-]*\s$")
_TRAILING_COUNT = re.compile(r"^\s?(?:[kKMBT]\b|billion|million|thousand|trillion|B\b|hours?|days?|GPUs?|devices|"
                             r"languages|tasks|datasets|benchmarks|models|samples|examples|images|layers|steps|"
                             r"epochs|seconds|ms\b|s\b)", re.I)  # fmt: skip


@dataclass(frozen=True)
class UnsureGain:
    """A number that may be a claimed gain but is not shown, and why."""

    value: str
    evidence: str
    reason: str


@dataclass
class Reading:
    """The gains read from an abstract, and the numbers kept apart."""

    gains: list[ClaimedGain] = field(default_factory=list)
    unsure: list[UnsureGain] = field(default_factory=list)


#: What kind of gain a rule read, each measured on its own (extractor/evidence/precision.json): an
#: improvement over a baseline the clause names ("4.5x faster than SlowFast"), an improvement
#: with none ("improves accuracy by 0.8%"), an absolute score with a metric of its own and
#: nothing in its clause it is set against ("reaches 85.0 F1 on CoNLL"), and any other
#: absolute score (one set against a baseline or "the previous best", where readers often
#: found the number was the baseline's or the comparison missing, or one whose metric is
#: only "score" or "rate").
GAIN_SOURCES = ("gains_over", "gains_change", "gains_score_plain", "gains_score")
# A clause that sets its score against something ("outperforming the previous best", "a new
# state of the art"): the score is only half of what it claims.
_COMPARED = re.compile(r"\b(?:outperform\w*|surpass\w*|beat\w*|better|than|compared|relative|versus|vs\.|"
                       r"previous|prior|state\s?-\s?of\s?-\s?the\s?-\s?art|best|improv\w*|exceed\w*|over)\b", re.I)  # fmt: skip
# A metric that does not say what the number measures: "42% score", "88% rate".
_GENERIC_METRIC = frozenset("score scores rate rates performance result results".split())


def gain_source(gain: ClaimedGain) -> str:
    """Which of :data:`GAIN_SOURCES` a rule's gain is (``gains`` for one with no kind,
    as records of older releases have): blind readers find an improvement over a named
    baseline right far more often than a bare change or an absolute score, so each is
    measured and held to the bar on its own.

    Example:
        >>> gain_source(ClaimedGain(metric="speed", value="4.5x", kind="improvement", baseline="SlowFast", evidence="..."))
        'gains_over'
        >>> gain_source(ClaimedGain(metric="F1", value="85.0", kind="score", evidence="..."))
        'gains_score_plain'
        >>> gain_source(ClaimedGain(metric="score", value="42%", kind="score", evidence="..."))
        'gains_score'
    """
    if gain.kind == "improvement":
        return "gains_over" if gain.baseline else "gains_change"
    if gain.kind != "score":
        return "gains"
    named = (gain.metric or "").casefold() not in _GENERIC_METRIC
    compared = gain.baseline or _COMPARED.search(gain.evidence or "")
    return "gains_score_plain" if named and not compared else "gains_score"


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" ,;:")


_OTHER_SUBJECT = re.compile(r"^(?:(?:with|while|whereas|and|but)\s+)?(?P<name>[A-Z][\w\-.]*[A-Z0-9][\w\-.]*|[A-Z][a-z]+[A-Z]\w*)\b")
_A_DESCRIPTOR = re.compile(r"\b(?:a|an|the)\s+$", re.I)


def _own(text: str, own_names: tuple[str, ...]) -> bool:
    return _OWN.search(text) is not None or any(n and n in text for n in own_names)


def _own_sentence(sentence: str, index: int, own_names: tuple[str, ...], strict: bool) -> bool:
    own = _own(sentence, own_names)
    if (index == 0 or strict) and not own:
        return False  # the opening sentence is background; a study's findings are about others
    subject = _NAMEY_SUBJECT.match(sentence)
    if subject is not None and not own and not any(n and n in subject.group() for n in own_names):
        return False  # "GPT-4 reaches 60% ...": another system's score
    return True


def _own_clause(clause: str, own_names: tuple[str, ...]) -> bool:
    if _OTHER_WORK.search(clause) and not _own(clause, own_names):
        return False  # "whereas existing methods fail ...", "a recent study found 80% ..."
    subject = _OTHER_SUBJECT.match(clause)
    return subject is None or _own(clause, own_names) or subject.group("name") in own_names



def _magnitude(value: str) -> float | None:
    """The size of a gain as written: its last number, or its last fraction's value
    (``less than 1/38`` -> 0.0263, ``1/3 to 2/3`` -> 0.6667)."""
    fraction = re.search(r"(\d+)/(\d+)\s*$", value)
    if fraction is not None and int(fraction.group(2)):
        return round(int(fraction.group(1)) / int(fraction.group(2)), 4)
    numbers = re.findall(_NUM, value)
    return number_value(numbers[-1]) if numbers else None

def gains_of(abstract: str, own_names: tuple[str, ...] = (), *, strict: bool = False) -> Reading:
    """The gains the abstract claims for this paper (see the module docstring).
    ``own_names`` are the names the paper gives its work (``method_name``), which mark a
    sentence as being about it. ``strict`` (a study or a survey, whose numbers are mostly
    findings about other systems) keeps only sentences in the paper's own voice.
    """
    reading = Reading()
    seen: set[str] = set()
    if not _DIGIT.search(abstract):
        return reading
    for index, sentence in enumerate(sentences(abstract)):
        if not _DIGIT.search(sentence) or not _own_sentence(sentence, index, own_names, strict):
            continue
        claims = IMPROVE.search(sentence) is not None or SCORE.search(sentence) is not None
        metric: str | None = None  # the last metric named in the sentence, for the clauses that go on from it
        kind: str | None = None  # the kind of the sentence's last number, for a clause that lists on from it
        for clause in _CLAUSE_BREAK.split(sentence):
            text = _clean(clause)
            inherited = metric if _GOES_ON.match(text) else None
            listing = (and_ := re.match(r"and\s+", text)) is not None and _MENTION.match(text, and_.end()) is not None
            read = _DIGIT.search(clause) is not None and _own_clause(text, own_names)
            kind = _read_clause(text, sentence, claims, reading, seen, inherited, kind if listing else None) if read else None
            named = list(METRIC_RE.finditer(text))
            metric = " ".join(named[-1].group().split()) if named else metric
        if len(reading.gains) >= MAX_GAINS:
            break
    reading.gains = reading.gains[:MAX_GAINS]
    return reading


# A clause that goes on from the one before, with its metric: "..., improving over CoT by 11.7%".
_GOES_ON = re.compile(r"^(?:improving|outperforming|surpassing|exceeding|reducing|increasing|boosting|beating|and|achieving|reaching|obtaining|attaining|"
                      r"with|while|yielding|resulting)\b", re.I)  # fmt: skip


# What a number in a clause is not: a count, a size, a resolution, the baseline's score, a cost.
_NOT_A_GAIN = [
    (re.compile(r"^\s*(?:[x×]\s*)?\d"), "after"),  # "64x64": a resolution
    (re.compile(r"\d\s*[x×]\s*$"), "before"),
    (re.compile(r"\b(?:vs\.?|versus)\s*$", re.I), "before"),  # "90% vs. 25%": the second is the baseline's
    (re.compile(r"\b(?:cost|drop|loss|degradation|expense|decline|decrease)\s+of\s+(?:(?:only|just|as\s+little\s+as|"
                r"merely|about|around)\s+)?$|\brobust(?:ness)?\s+to\s+$", re.I), "before"),  # "at a cost of 2.0 BLEU"
]  # fmt: skip


# After this paper's number, a comparator and the baselines' scores: "50.9%, compared to 23.6% by
# GPT-3.5 and 10.8% by Gorilla" (not "by 3% compared to CoT and by 5% on GSM8K": "by" is a gain again).
_BASELINE_SCORE = re.compile(r"\d[^;]*\b(?:vs\.?|versus|compared\s+(?:to|with|against)|relative\s+to)\s+[^;]{0,60}$", re.I)
_BY = re.compile(r"\bby\s+(?:up\s+to\s+|as\s+much\s+as\s+|about\s+|over\s+)?$", re.I)


_SHARE_OF_OTHER = re.compile(r"^\s*of\s+(?:the|its|their)\s+(?:[\w\-]+\s+){0,3}?(?:obtained|achieved|attained|reached|"
                             r"performance)\b", re.I)  # fmt: skip


def _not_a_gain(value: str, before: str, after: str) -> bool:
    if _BASELINE_SCORE.search(before) and not _BY.search(before):
        return True
    has_unit = bool(_HAS_UNIT.search(value)) or "/" in value or value.startswith("from")
    if _YEAR.match(value) or _TRAILING_COUNT.match(after) or (not has_unit and _VERSION_BEFORE.search(before)):
        return True
    if _A_DESCRIPTOR.search(before) and re.match(r"^\s*(?:smaller|larger|bigger|deeper|wider|longer)\b", after):
        return True  # "a 35x smaller model": what it is, not what it gains
    if _SHARE_OF_OTHER.match(after):
        return True  # "91.5% of the mAP obtained by joint training": a share of another's score
    return any(pattern.search(before if where == "before" else after) for pattern, where in _NOT_A_GAIN)


def _mentions(clause: str, inherited: str | None) -> list[tuple[re.Match[str], str | None]]:
    """The numbers of ``clause`` that may be gains, each with what it measures (None when
    the clause does not say)."""
    mentions: list[tuple[re.Match[str], str | None]] = []
    for m in _MENTION.finditer(clause):
        value, before, after = m.group("value"), clause[: m.start()], clause[m.end() :]
        if _not_a_gain(value, before, after):
            continue
        metric = metric_after(after) or metric_before(before)
        if metric is not None and NOT_A_METRIC.fullmatch(metric):
            metric = None
        if metric is None and (ahead := re.match(rf"^\s*(?:,|and|or|to|vs\.?|versus)\s+(?:and\s+)?{_ONE}", after, re.I)):
            metric = metric_after(after[ahead.end() :])  # "up to 1.55x and 2.11x speedup": the shared metric
        if metric is None and mentions and re.search(r"\band\s+(?:\w+\s+){0,2}$", before):
            metric = mentions[-1][1]  # "by 22% after A and 33% after B": the same metric
        if metric is None and re.match(r"^\s*on\s+[A-Z]", after):
            metric = "score"  # "+2.1% on TIFA": its score on that benchmark
        if metric is None and not mentions:
            metric = inherited
        has_unit = bool(_HAS_UNIT.search(value)) or "/" in value or value.startswith("from")
        if not has_unit and (metric is None or "." not in value):
            continue  # a bare number is a count, unless it is a decimal a metric frames ("an F1 of 85.0")
        mentions.append((m, metric))
    return mentions


def _baseline_in(sentence: str, clause: str, m: re.Match[str]) -> tuple[str | None, bool]:
    """What the gain at ``m`` is compared with, and whether it was named outside its own
    clause (then the whole sentence is the evidence): a comparator that ends the sentence
    ("..., compared to the baseline."), or one the clause goes on from ("outperform X,
    achieving 90% ...")."""
    if (baseline := baseline_of(clause, m.start(), m.end())) is not None:
        return baseline, False
    at = sentence.find(clause)
    tail = sentence[at + len(clause) :] if at >= 0 else ""
    head = sentence[:at] if at > 0 else ""
    final = FINAL_COMPARATOR.search(tail)
    if TAIL_COMPARATOR.match(tail) or final:
        found = baseline_of(tail if TAIL_COMPARATOR.match(tail) or final is None else final.group(), 0, 0)
        if found is not None:
            return found, True
    if _GOES_ON.match(clause) and (found := baseline_of(head, len(head), len(head), last=True)) is not None:
        return found, True
    return None, False


# What may stand between the numbers of one list: "by ~2.5% in Recall@1, ~10.0% in CIDEr", "reductions of
# 9.2% for BIWI and 13.7% for Vocaset"; never a comparator or a verb of its own.
_LIST_GLUE = re.compile(r"^(?=[^;]*(?:,|\band\b))(?:(?!\b(?:than|over|vs|versus|compared|relative|while|whereas|but|"
                        r"achiev\w*|reach\w*|obtain\w*|attain\w*|scor\w*|averag\w*)\b)[^;])*$", re.I)  # fmt: skip


def _listed(between: str) -> bool:
    """Whether ``between`` (the text from one number to the next) only lists: then the
    second number is the same kind of claim as the first."""
    return len(between.split()) <= 8 and _LIST_GLUE.match(between) is not None


def _read_clause(
    clause: str,
    sentence: str,
    claims: bool,
    reading: Reading,
    seen: set[str],
    inherited: str | None = None,
    listed_kind: str | None = None,
) -> str | None:
    """Read the gains of one clause into ``reading``. ``inherited`` is the metric of the
    clause this one goes on from; ``listed_kind`` the kind of its last gain when this
    clause lists on from it ("from 35.5% to 44.5% for GSM8K, and 27.6% to 36.2% for MathQA").
    Returns the kind of the clause's last number (None when it has none)."""
    mentions = _mentions(clause, inherited)
    last: tuple[int, str | None] = (0, listed_kind)  # where the last number ended, and its kind
    named = datasets(clause)
    paired = (_RESPECTIVELY.search(sentence) is not None and len(named) > 1
              and len(mentions) % len(named) == 0)  # "96.0 and 94.1 on A and B, respectively"  # fmt: skip
    for i, (m, metric) in enumerate(mentions):
        value = m.group().strip().replace("\\%", "%")  # "91\\%" is LaTeX for "91%"
        before, after = clause[: m.start()], clause[m.end() :]
        kind = kind_of(clause, m.group("value"), before + (m.group("qual") or ""), after, metric or "")
        if kind == "score" and last[1] == "improvement" and _listed(clause[last[0] : m.start()]):
            kind = "improvement"  # "by ~2.5% in Recall@1, ~10.0% in CIDEr": the list goes on
        if not re.search(r"\(\s*$", before):  # "a 37.4% (+15.1%) win rate and a 40.7% ...": an aside lists nothing
            last = (m.end(), kind)
        if value in seen or len(reading.gains) >= MAX_GAINS:
            continue
        seen.add(value)
        evidence = clause[:300]
        if not claims or metric is None:
            why = "its clause claims no result" if not claims else "its clause does not say what the number measures"
            reading.unsure.append(UnsureGain(value, evidence, why))
            continue
        paren = re.match(r"^\s*\(([A-Z][\w\-+.]*(?:\s[\w\-+.]+)?)\)", after)  # "99.22% (FF++)"
        if paren is not None and not _DIGIT.fullmatch(paren.group(1)):
            dataset: str | None = paren.group(1)
        elif paired:
            dataset = named[i % len(named)][1]
        else:
            after_number = [name for at, name in named if at >= m.start()]
            dataset = after_number[0] if after_number else (named[-1][1] if named else None)
        baseline, sentence_wide = _baseline_in(sentence, clause, m)
        magnitude = _magnitude(m.group("value"))
        reading.gains.append(
            ClaimedGain(
                metric=metric,
                value=value,
                magnitude=abs(magnitude) if magnitude is not None else None,
                unit=unit_of(m.group("value")),
                baseline=baseline,
                dataset=dataset,
                evidence=sentence[:300] if sentence_wide else evidence,
                kind=kind,  # type: ignore[arg-type]
            )
        )
    return last[1] if mentions else None
