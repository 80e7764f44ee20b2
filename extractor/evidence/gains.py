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
  to", "relative to", "against", "outperforms X by");
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
    [('4.5x', 'speed', None, 'SlowFast', 'improvement'), ('0.8%', 'accuracy', 'Kinetics-400', None, 'improvement')]
    >>> [(g.value, g.metric) for g in gains_of("We show FedSpine improves accuracy by 0.4%-4.5%.").gains]
    [('0.4%-4.5%', 'accuracy')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..schema import MAX_GAINS, ClaimedGain
from .phrases import noun_phrase
from .text import number_value, sentences
from .words import is_function_word, word_classes

__all__ = ["Reading", "UnsureGain", "gains_of"]

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_UNIT = (
    r"(?:\s?\\?%|\s?percent(?:age\s+points?)?\b|\s?pp\b|\s?(?:points?|pts)\b|\s?[x×X](?![\w])|\s?times\b|[\s-]?fold\b)"
)
_QUAL = (
    r"(?:(?:up\s+to|as\s+much\s+as|as\s+high\s+as|as\s+many\s+as|more\s+than|over|nearly|almost|about|around"
    r"|approximately|roughly|at\s+least|at\s+most|less\s+than)\s+|[~≈]\s?)"
)
_ONE = rf"[+\-−±]?{_NUM}{_UNIT}?"
_FRACTION = r"\d+/\d+"
# A number mention: a change "from A to B", a range "A-B" / "A to B", a fraction, or one number.
_MENTION = re.compile(
    rf"(?<![\w.\-/])(?P<qual>{_QUAL})?"
    rf"(?P<value>from\s+{_ONE}\s+to\s+{_ONE}"
    rf"|{_FRACTION}(?:\s*(?:-|–|to)\s*{_FRACTION})?"
    rf"|{_NUM}{_UNIT}?\s*(?:-|–|—|to)\s*{_NUM}{_UNIT}"
    rf"|{_ONE})(?![\w/]|\.\d)",
    re.I,
)
_HAS_UNIT = re.compile(rf"{_UNIT}", re.I)
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"^(?:19|20)\d\d$")

# What a number measures, by the words right after it ("4.5x faster", "27% fewer parameters").
_AFTER = [
    (re.compile(r"^(?:\w+\s+)?(?:faster|speed-?ups?|acceleration|quicker)\b", re.I), "speed"),
    (re.compile(r"^(?:\w+\s+)?cheaper\b", re.I), "cost"),
    (re.compile(r"^(?:\w+\s+)?(?:smaller|compression)\b(?!\s+(?:than|in|of)\b)", re.I), "compression"),
]
# "N% higher task accuracy", "N% fewer parameters", "N% lower RMSE": the comparative's noun.
_COMPARATIVE = re.compile(
    r"^(?:\w+\s+)?(?:higher|lower|more|fewer|less|better|greater|larger|smaller|reduced|increased|decreased|improved|"
    r"relative|absolute)\s+(?:(?:relative|absolute)\s+)?(?P<what>(?:[A-Za-z][\w\-@]*\s+){0,2}[A-Za-z][\w\-@]*)",
    re.I,
)
_METRIC = (
    r"top-?[15]\s+accurac(?:y|ies)|accurac(?:y|ies)|F1(?:[- ]scores?)?|F-scores?|BLEU(?:\s+scores?)?|chrF|ROUGE(?:-[12L])?|"
    r"METEOR|CIDEr|SPICE|BERTScore|MMLU\s+score|mAP|AP(?:50|75|_\{?\w+\}?)?|mIoU|IoU|AUC|AUROC|perplexit(?:y|ies)|PSNR|SSIM|LPIPS|FID(?:\s+scores?)?|"
    r"EM|exact\s+match|recall(?:@\d+)?|precision|error\s+rates?|errors?|WER|CER|latency|throughput|speed-?ups?|speed|"
    r"memory(?:\s+usage|\s+footprint)?|success\s+rates?|win\s+rates?|pass@\d+|BPC|NDCG(?:@\d+)?|MRR|hit\s+rates?|"
    r"parameters|FLOPs|compute|costs?|training\s+time|inference\s+time|wall-clock\s+time|compression(?:\s+ratio)?|"
    r"rewards?|scores?|energy|token\s+budget|tokens|(?:data|sample|parameter|compute|memory|training|inference)\s+"
    r"efficiency"
)
# Words after a comparative that are not what it measures ("2x higher than", "5% better on").
_NOT_METRIC = frozenset(
    "than on in at for across over with while compared and or models model baselines methods prior previous".split()
)
# What a number's neighbours may say that is no metric: a comparative, a unit, a word of change.
_NOT_A_METRIC = re.compile(
    r"(?:higher|lower|better|worse|more|less|fewer|larger|smaller|improvements?|gains?|increases?|reductions?|"
    r"(?:absolute\s+|relative\s+)?(?:percentage\s+)?points?(?:\s+\w+)?|times|respectively|performance\s+gains?|"
    r"results?|margins?|scores?)",
    re.I,
)
_METRIC_RE = re.compile(rf"(?<![\w])(?:{_METRIC})(?:\s+(?:gap|drop|degradation))?(?![\w}}])", re.I)
# Verbs that say what a number measures: "speeds up fine-tuning by 1.4x", "compresses ... by 16x".
_VERB_METRIC = [
    (re.compile(r"\b(?:speeds?\s+up|accelerat\w*|faster)\b", re.I), "speed"),
    (re.compile(r"\bcompress\w*\b", re.I), "compression"),
]
_IMPROVE = re.compile(
    r"\b(?:improv\w*|outperform\w*|surpass\w*|exceed\w*|beat\w*|boost\w*|increas\w*|reduc\w*|decreas\w*|lower\w*|"
    r"cut\w*|sav\w*|gain\w*|speed\w*|accelerat\w*|faster|higher|better|fewer|less|more|relative|absolute|"
    r"compress\w*|halv\w*)\b",
    re.I,
)
_SCORE = re.compile(r"\b(?:achiev\w*|reach\w*|attain\w*|obtain\w*|scor\w*|set\w*|record\w*|yield\w*|get\w*|hit\w*)\b", re.I)
_BASELINE = re.compile(
    r"\b(?:over|than|vs\.?|versus|compared\s+(?:to|with|against)|relative\s+to|outperform\w*|surpass\w*|beat\w*|"
    r"match(?:es|ing)?)\s+"
    r"(?:the\s+)?(?P<what>(?:[\w\-.+/@]+)(?:\s+(?!by\b|on\b|in\b|and\b|while\b|with\b|across\b|at\b|for\b|using\b)"
    r"[\w\-.+/@]+){0,4})",
    re.I,
)
_DATASET = re.compile(
    r"\b(?:on|across|in)\s+(?:the\s+)?(?:challenging\s+|popular\s+|standard\s+)?"
    r"(?P<name>(?:[A-Z]|[a-z]+[A-Z])[\w\-.]*[A-Za-z0-9](?:\s?[-0-9][\w\-]*)?(?:\s+(?:[A-Z][\w\-]*|\d+[\w\-]*))?)"
    r"|(?P<before>[A-Z][\w\-.]*[A-Za-z0-9])\s+(?:benchmark|dataset|test\s+set|leaderboard)",
)
_RESPECTIVELY = re.compile(r"\brespectively\b", re.I)
_CLAUSE_BREAK = re.compile(r";\s+|,\s+(?=(?:while|whereas|and|but|which|achieving|improving|reducing|outperforming|"
                           r"yielding|resulting)\b)|\s+(?=(?:while|whereas)\b)")  # fmt: skip
_OTHER_WORK = re.compile(
    r"\b(?:recent\s+(?:stud(?:y|ies)|work|works|papers?)|prior\s+(?:work|studies|art)|previous\s+(?:work|studies|"
    r"methods|approaches|results)|existing\s+(?:methods|approaches|models|work)|(?:has|have)\s+been\s+shown|"
    r"hypothesi[sz]ed|it\s+is\s+known|e\.g\.|for\s+example,?\s+[A-Z])",
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


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" ,;:")


def _noun_run(text: str, limit: int = 3) -> str | None:
    """The words that open ``text`` up to the first function word or punctuation (at most
    ``limit``): "throughput at sequence length" -> "throughput"."""
    words = []
    for token in text.split():
        word = token.strip(".,;:()")
        if not word or is_function_word(word) or word.casefold() in _NOT_METRIC or _DIGIT.search(word):
            break
        words.append(word)
        if token[-1:] in ".,;:)" or len(words) == limit:
            break
    return " ".join(words) or None


def _metric_after(rest: str) -> str | None:
    """What the words right after a number say it measures ("faster": speed; "fewer
    parameters"; "verified error"; "in accuracy")."""
    rest = re.sub(r"^\s*\([^()]*\)", "", rest).lstrip(" )")  # "37.4% (+15.1%) win rate"
    for pattern, name in _AFTER:
        if pattern.match(rest) is not None:
            return name
    if (c := _COMPARATIVE.match(rest)) is not None:
        if re.search(r"\b(?:models?|networks?|LLMs?|baselines?)\b", " ".join(c.group("what").split()[:3]), re.I):
            return None  # "26x larger embedding models": the size of other models, not a gain
        return _noun_run(c.group("what"))
    if (c := re.match(r"^of\s+(?:the|its|their|all)?\s*(?P<what>(?:[\w\-]+\s+){0,2}(?:tokens|data|compute|computation|"
                      r"parameters|FLOPs|memory|cost|(?:training|inference|GPU)\s+time|samples|examples|labels))\b", rest,
                      re.I)) is not None:
        return " ".join(c.group("what").split())  # "less than 0.4% of the pretraining tokens"
    if (c := re.match(r"^(?:\w+\s+)?(?:improvements?|gains?|increases?|reductions?|drops?|boosts?|decreases?)\s+(?:in|of)\s+"
                      r"(?:the\s+)?(?P<what>.+)", rest, re.I)) is not None:
        return _noun_run(c.group("what"))  # "a 2.36% improvement in accuracy"
    m = re.match(rf"^(?:in\s+)?(?P<pre>(?:[a-z][\w\-]*\s+){{0,2}}?)(?P<m>{_METRIC})(?![\w}}])", rest, re.I)
    if m is not None and not any(is_function_word(w) for w in m.group("pre").split()):
        return " ".join(f"{m.group('pre')}{m.group('m')}".split())
    return None


# "reduces the required training examples by up to 5.3x", "saves 46% token budget": what the
# verb acts on is what the number measures.
_VERB_OBJECT = re.compile(
    r"\b(?:improv|increas|reduc|decreas|lower|cut|sav|boost|rais|shrink|accelerat|enhanc)\w*\s+"
    r"(?:down\s+|up\s+|off\s+)?(?:the\s+|its\s+|their\s+|our\s+|\S+'s\s+)?(?P<np>(?:[\w\-]+\s+){0,5}?[\w\-]+)\s+"
    r"(?:by\s+|to\s+)?$",
    re.I,
)
_SAVES = re.compile(r"\b(?:sav|reduc|cut|lower)\w*\s+$", re.I)


def _metric_before(head: str) -> str | None:
    """The metric named before the number, within the clause (``head`` ends at it): the
    object of the verb that governs it ("reduces training time by"), else the metric named
    last within a few words, else the verb's own ("speeds up ... by": speed). An aside
    between dashes ("negative flips -- instances where ... -- by") is skipped."""
    head = re.sub(r"\s(?:--|—|–)\s.*?\s(?:--|—|–)\s", " ", head)
    if (m := _VERB_OBJECT.search(head)) is not None:
        np = m.group("np").split()
        if "of" in np:  # "the accuracy of the extracted models": what is measured is the accuracy
            np = np[: np.index("of")]
        if np and len(np) <= 4 and not _DIGIT.search(" ".join(np)) and not any(is_function_word(w) for w in np):
            return " ".join(np)
    found = list(_METRIC_RE.finditer(head))
    for m in reversed(found):
        between = head[m.end() :]
        if len(between.split()) <= 8 and not re.search(r"[;]", between):
            return " ".join(m.group().split())
    for pattern, name in _VERB_METRIC:
        if pattern.search(head):
            return name
    return None


# Where "over X" names a baseline: after a word of comparison ("an improvement over X",
# "2x faster over"), not "averaged over the tasks".
_OVER_OK = re.compile(r"\b(?:improv\w*|gains?|speed-?ups?|advantages?|margins?|boosts?|better|faster|superior|"
                      r"outperform\w*|increases?|reductions?|\d[\d.]*\s?(?:%|x|×|times|points?))\s+(?:\w+\s+){0,4}$", re.I)  # fmt: skip


# "over the previous state of the art", "over strong baselines": a baseline whatever precedes "over".
_KNOWN_BASELINE = re.compile(r"(?:the\s+)?(?:previous|prior|current|existing|strong|competitive|standard|vanilla)\s+|"
                             r"(?:the\s+)?(?:state[- ]of[- ]the[- ]art|SOTA|baselines?)\b", re.I)  # fmt: skip


def _baseline(clause: str, start: int, end: int) -> str | None:
    for m in _BASELINE.finditer(clause):
        if (m.group().casefold().startswith("over") and _OVER_OK.search(clause[: m.start()]) is None
                and not _KNOWN_BASELINE.match(m.group("what"))):  # fmt: skip
            continue
        what = m.group("what").rstrip(".,;:")
        if _DIGIT.search(what.split()[0]) or what.casefold() in ("the", "a", "an"):
            continue
        words = what.split()
        while words and (is_function_word(words[-1]) and words[-1].casefold() not in ("ones", "one")
                         or words[-1].casefold() in ("up", "such")):  # fmt: skip
            words.pop()
        if len(words) == 1 and clause[m.end("what") : m.end("what") + 2].startswith(","):
            rest = noun_phrase(clause[m.end("what") + 1 :], 8)  # "outperforms complex, state of the art methods"
            if rest is not None:
                return rest
            continue
        if words:
            phrase = noun_phrase(clause[m.start("what") :], 8)  # whole: "policies trained on digital twins"
            if phrase is not None and " ".join(words).casefold() in phrase.casefold() and not _DIGIT.search(phrase[:1]):
                return phrase
            return " ".join(words)
    return None


# A model, not a dataset: "Llama2-7B", "GPT-4", "Mistral 7B".
_MODEL_NAME = re.compile(r"(?:^|[-\s])\d+(?:\.\d+)?\s?[BM]\b|^(?:Llama|LLaMA|GPT|Mistral|Mixtral|Qwen|Gemma|Phi|Claude|PaLM|BERT|RoBERTa|"
                         r"T5|ViT|ResNet|OPT|Pythia|Falcon|Vicuna|Alpaca|DeepSeek|OLMo|BLOOM)", re.I)  # fmt: skip


_MORE_NAMES = re.compile(r"(?:\s*,\s*(?:and\s+)?|\s+and\s+)(?:the\s+)?(?P<name>(?:[A-Z]|[a-z]+[A-Z])[\w\-.]*[A-Za-z0-9]"
                         r"(?:\s?[-0-9][\w\-]*)?(?:\s+(?:[A-Z][\w\-]*|\d+[\w\-]*))?)")  # fmt: skip


def _named(clause: str) -> list[tuple[int, str]]:
    """Every dataset-like name after "on / across / in", and the names listed after it
    ("on BIWI and Vocaset", "on CIFAR-10, ImageNet and COCO")."""
    found = []
    for m in _DATASET.finditer(clause):
        found.append((m.start(), m.group("name") or m.group("before") or ""))
        end = m.end()
        while m.group("name") and (more := _MORE_NAMES.match(clause, end)) is not None:
            found.append((more.start("name"), more.group("name")))
            end = more.end()
    return found


def _datasets(clause: str) -> list[tuple[int, str]]:
    found = []
    for at, name in _named(clause):
        name = name.rstrip(".-")
        if not name or _METRIC_RE.fullmatch(name) or name.casefold() in ("we", "our", "it", "this", "average"):
            continue
        if _MODEL_NAME.search(name) or (" " not in name and name[1:].islower() and word_classes(name)):
            continue  # a model ("Llama2-7B"), or a plain English word ("Answering"), is no dataset
        found.append((at, name))
    return found


def _kind(clause: str, value: str, before: str, after: str, metric: str) -> str:
    if value.startswith("from") and re.search(r"\branging\s+$", before, re.I):
        return "score"  # "accuracies ranging from 76.5% to 80.9%"
    if re.search(r"(?:[x×X]|times|fold)\s*$", value) or re.match(r"^(?:speed|compression|memory|cost)", metric, re.I):
        return "improvement"  # "4.96x speedup", "9x cheaper": relative by nature
    if re.search(r"\b(?:less\s+than|fewer\s+than|only|just|under)\s*$", before, re.I) and re.search(
        r"\b(?:data|tokens|compute|computation|parameters|memory|cost|time|examples|samples|labels)\b", metric, re.I
    ):
        return "improvement"  # "4.96x speedup", "9x cheaper": relative by nature
    near = " ".join(before.split()[-5:])
    if re.search(r"\b(?:averag\w*|achiev\w*|reach\w*|attain\w*|obtain\w*|scor\w*)\b", near, re.I) and not re.search(
        r"\bby\s+(?:[\w.%+]+\s+){0,3}$", before, re.I
    ):
        return "score"  # "averages 87.6% accuracy", "achieves 96.0"
    if _IMPROVE.search(near) is not None:
        return "improvement"  # "improving mean end-to-end latency up to 6.1%"
    if value.startswith(("+", "from")) or re.search(r"\bby\s+(?:(?:an\s+)?(?:average\s+of|[\w.%+]+)\s+){0,3}$", before, re.I):
        return "improvement"
    if _metric_after(after) in ("speed", "memory", "compression") or re.match(
        r"^\s*(?:\w+\s+)?(?:faster|fewer|less|more|higher|lower|smaller|larger|better|cheaper|relative|absolute|"
        r"improvements?|gains?|reductions?|increases?|speed-?ups?)\b",
        after,
        re.I,
    ):
        return "improvement"
    if re.search(r"\b(?:improvements?|gains?|reductions?|increases?)\s+(?:of\s+)?(?:up\s+to\s+)?$", before, re.I):
        return "improvement"
    return "score"


# A sentence that ends on what all its clauses compare with: "..., and +8.3% on Lyft compared to X."
_TAIL_COMPARATOR = re.compile(r"^[\s,;]*(?:compared\s+(?:to|with|against)|relative\s+to|over|than|vs\.?|versus)\b", re.I)
_FINAL_COMPARATOR = re.compile(r"\b(?:compared\s+(?:to|with|against)|relative\s+to)\s+[^,;]+?[.!]?$", re.I)
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
        claims = _IMPROVE.search(sentence) is not None or _SCORE.search(sentence) is not None
        metric: str | None = None  # the last metric named in the sentence, for the clauses that go on from it
        for clause in _CLAUSE_BREAK.split(sentence):
            text = _clean(clause)
            inherited = metric if _GOES_ON.match(text) else None
            if _DIGIT.search(clause) and _own_clause(text, own_names):
                _read_clause(text, sentence, claims, reading, seen, inherited)
            named = list(_METRIC_RE.finditer(text))
            metric = " ".join(named[-1].group().split()) if named else metric
        if len(reading.gains) >= MAX_GAINS:
            break
    reading.gains = reading.gains[:MAX_GAINS]
    return reading


# A clause that goes on from the one before, with its metric: "..., improving over CoT by 11.7%".
_GOES_ON = re.compile(r"^(?:improving|outperforming|surpassing|exceeding|reducing|increasing|boosting|beating|and|achieving|reaching|obtaining|attaining|"
                      r"with|while|yielding|resulting)\b", re.I)  # fmt: skip


def _read_clause(
    clause: str, sentence: str, claims: bool, reading: Reading, seen: set[str], inherited: str | None = None
) -> None:
    mentions = []
    for m in _MENTION.finditer(clause):
        value = m.group("value")
        before, after = clause[: m.start()], clause[m.end() :]
        has_unit = bool(_HAS_UNIT.search(value)) or "/" in value or value.startswith("from")
        if _YEAR.match(value) or _TRAILING_COUNT.match(after) or (not has_unit and _VERSION_BEFORE.search(before)):
            continue
        if _A_DESCRIPTOR.search(before) and re.match(r"^\s*(?:smaller|larger|bigger|deeper|wider|longer)\b", after):
            continue  # "a 35x smaller model": what it is, not what it gains
        if re.match(r"^\s*(?:[x×]\s*)?\d", after) or re.search(r"\d\s*[x×]\s*$", before):
            continue  # "64x64", "ImageNet 64times 64": a resolution, not a gain
        if re.search(r"\b(?:vs\.?|versus)\s*$", before, re.I):
            continue  # "90% vs. 25%": the second number is the baseline's, not a gain
        if re.search(r"\b(?:cost|drop|loss|degradation|expense|decline|decrease)\s+of\s+(?:(?:only|just|as\s+little\s+as|"
                     r"merely|about|around)\s+)?$|\brobust(?:ness)?\s+to\s+$", before, re.I):
            continue  # "at a cost of 2.0 BLEU", "robustness to 90% reductions": not a gain
        metric = _metric_after(after) or _metric_before(before)
        if metric is not None and _NOT_A_METRIC.fullmatch(metric):
            metric = None
        if metric is None and (ahead := re.match(rf"^\s*(?:,|and|or|to|vs\.?|versus)\s+(?:and\s+)?{_ONE}", after, re.I)):
            metric = _metric_after(after[ahead.end() :])  # "up to 1.55x and 2.11x speedup": the shared metric
        if metric is None and mentions and re.search(r"\band\s+(?:\w+\s+){0,2}$", before):
            metric = mentions[-1][1]  # "by 22% after A and 33% after B": the same metric
        if metric is None and re.match(r"^\s*on\s+[A-Z]", after):
            metric = "score"  # "+2.1% on TIFA": its score on that benchmark
        if metric is None and not mentions:
            metric = inherited
        if not has_unit and (metric is None or "." not in value):
            continue  # a bare number is a count, unless it is a decimal a metric frames ("an F1 of 85.0")
        mentions.append((m, metric))
    if not mentions:
        return
    datasets = _datasets(clause)
    paired = (_RESPECTIVELY.search(sentence) is not None and len(datasets) > 1
              and len(mentions) % len(datasets) == 0)  # "96.0 and 94.1 on A and B, respectively"  # fmt: skip
    claim = claims
    for i, (m, metric) in enumerate(mentions):
        value = m.group().strip().replace("\\%", "%")  # "91\\%" is LaTeX for "91%"
        if value in seen or len(reading.gains) >= MAX_GAINS:
            continue
        seen.add(value)
        evidence = clause[:300]
        if not claim:
            reading.unsure.append(UnsureGain(value, evidence, "its clause claims no result"))
            continue
        if metric is None:
            reading.unsure.append(UnsureGain(value, evidence, "its clause does not say what the number measures"))
            continue
        before, after = clause[: m.start()], clause[m.end() :]
        paren = re.match(r"^\s*\(([A-Z][\w\-+.]*(?:\s[\w\-+.]+)?)\)", after)
        if paren is not None and not _DIGIT.fullmatch(paren.group(1)):
            dataset: str | None = paren.group(1)
        elif paired:
            dataset = datasets[i % len(datasets)][1]
        else:
            after_number = [name for at, name in datasets if at >= m.start()]
            dataset = after_number[0] if after_number else (datasets[-1][1] if datasets else None)
        baseline = _baseline(clause, m.start(), m.end())
        tail = sentence[sentence.find(clause) + len(clause) :] if sentence.find(clause) >= 0 else ""
        final = _FINAL_COMPARATOR.search(tail)  # "..., while improving accuracy on K-400 compared to the baseline."
        head = sentence[: sentence.find(clause)] if sentence.find(clause) > 0 else ""
        if baseline is None and (_TAIL_COMPARATOR.match(tail) or final) and (
            tail_base := _baseline(final.group() if final and not _TAIL_COMPARATOR.match(tail) else tail, 0, 0)
        ):
            baseline, evidence = tail_base, sentence[:300]  # "..., and +8.3% on Lyft compared to existing techniques"
        elif baseline is None and _GOES_ON.match(clause) and (head_base := _baseline(head, 0, 0)):
            baseline, evidence = head_base, sentence[:300]  # "outperform X, achieving 90% ..."
        numbers = re.findall(_NUM, m.group("value"))
        magnitude = number_value(numbers[-1]) if numbers else None
        unit = _unit(m.group("value"))
        reading.gains.append(
            ClaimedGain(
                metric=metric,
                value=value,
                magnitude=abs(magnitude) if magnitude is not None else None,
                unit=unit,
                baseline=baseline,
                dataset=dataset,
                evidence=evidence,
                kind=_kind(clause, m.group("value"), before + (m.group("qual") or ""), after, metric),  # type: ignore[arg-type]
            )
        )


def _unit(value: str) -> str | None:
    m = re.search(r"(%|percentage\s+points?|percent|pp|points?|pts|[x×X]|times|fold)\s*$", value, re.I)
    if m is None:
        return "/" if "/" in value else None
    unit = m.group(1).casefold()
    return {"×": "x", "times": "x", "fold": "x", "percent": "%", "pts": "points", "point": "points"}.get(unit, unit)
