"""What a clause says around a number: what it measures, on what, over what, and how.

:mod:`~extractor.evidence.gains` finds the numbers an abstract claims; this module reads the
words around each one:

* **the metric** (:func:`metric_after`, :func:`metric_before`): the words right after the
  number ("4.5x faster" is speed, "27% fewer parameters" keeps its "fewer", "65.03% verified error"), else the
  object of the verb that governs it ("reduces training time by 6.8x"), else a metric named
  a few words before it, else the verb's own ("speeds up ... by" is speed);
* **the datasets** (:func:`datasets`): names after "on / across / in", lists included ("on
  BIWI and Vocaset"), never a model ("Llama2-7B") or a plain English word;
* **the baseline** (:func:`baseline_of`): what the clause compares with ("over", "than",
  "vs.", "compared to", "outperforms X"), whole;
* **the kind** (:func:`kind_of`): an improvement (by N, N x faster, +N, from A to B, N% less
  data) or an absolute score (reaches N, an accuracy of N);
* **the unit** (:func:`unit_of`) of a value as written.

Example:
    >>> metric_after(" faster than SlowFast"), metric_after(" fewer parameters"), metric_before("reduces training time by ")
    ('speed', 'fewer parameters', 'training time')
    >>> baseline_of("It is 4.5x faster than vanilla PoT.", 0, 0), [n for _, n in datasets("84% on BIWI and Vocaset")]
    ('vanilla PoT', ['BIWI', 'Vocaset'])
"""

from __future__ import annotations

import re

from .phrases import noun_phrase
from .words import is_function_word, word_classes

__all__ = [
    "FINAL_COMPARATOR", "IMPROVE", "METRIC", "METRIC_RE", "NOT_A_METRIC", "SCORE", "TAIL_COMPARATOR",
    "baseline_of", "datasets", "kind_of", "metric_after", "metric_before", "unit_of",
]  # fmt: skip

_DIGIT = re.compile(r"\d")
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"

# What a number measures, by the words right after it ("4.5x faster", "27% fewer parameters").
_AFTER = [
    (re.compile(r"^(?:\w+\s+)?(?:faster|speed-?ups?|acceleration|quicker)\b", re.I), "speed"),
    (re.compile(r"^(?:\w+\s+)?cheaper\b", re.I), "cost"),
    (re.compile(r"^(?:\w+\s+)?(?:smaller|compression)\b(?!\s+(?:than|in|of)\b)", re.I), "compression"),
    (re.compile(r"^(?:tokens?|tok)\s*(?:/\s*s(?:ec)?\b|per\s+second\b)", re.I), "tokens per second"),
]
# "N% higher task accuracy", "N% fewer parameters", "N% lower RMSE": the comparative's noun.
_COMPARATIVE = re.compile(
    r"^(?:\w+\s+)?(?:higher|lower|more|fewer|less|better|greater|larger|smaller|reduced|increased|decreased|improved|"
    r"relative|absolute)\s+(?:(?:relative|absolute)\s+)?(?P<what>(?:[A-Za-z][\w\-@]*\s+){0,2}[A-Za-z][\w\-@]*)",
    re.I,
)
# A comparative that turns what follows into a saving: "33% less data", "2x fewer tokens", "5% lower error".
_LESS = re.compile(r"^(?:\w+\s+)?(fewer|less|lower|reduced|decreased)\s", re.I)
METRIC = (
    r"top-?[15]\s+accurac(?:y|ies)|accurac(?:y|ies)|F1(?:[- ]scores?)?|F-scores?|BLEU(?:\s+scores?)?|chrF|ROUGE(?:-[12L])?|"
    r"METEOR|CIDEr|SPICE|BERTScore|MMLU\s+score|mAP|AP(?:50|75|_\{?\w+\}?)?|mIoU|IoU|AUC|AUROC|perplexit(?:y|ies)|PSNR|SSIM|LPIPS|FID(?:\s+scores?)?|"
    r"EM|exact\s+match|recall(?:@\d+)?|precision|error\s+rates?|errors?|WER|CER|latenc(?:y|ies)|throughputs?|speed-?ups?|speed|"
    r"memory(?:\s+usage|\s+footprint)?|success\s+rates?|win\s+rates?|pass@\d+|BPC|NDCG(?:@\d+)?|MRR|hit\s+rates?|"
    r"parameters|FLOPs|compute|costs?|(?:training|inference|wall-clock|computation(?:al)?|run)\s+time|compression(?:\s+ratio)?|"
    r"rewards?|scores?|energy|token\s+budget|tokens|(?:data|sample|parameter|compute|memory|training|inference)\s+"
    r"efficiency"
)
# Words after a comparative that are not what it measures ("2x higher than", "5% better on").
_NOT_METRIC = frozenset(
    "than on in at for across over with while compared and or models model baselines methods prior previous".split()
)
# What a number's neighbours may say that is no metric: a comparative, a unit, a word of change.
NOT_A_METRIC = re.compile(
    r"(?:higher|lower|better|worse|more|less|fewer|larger|smaller|improvements?|gains?|increases?|reductions?|"
    r"(?:absolute\s+|relative\s+)?(?:percentage\s+)?points?(?:\s+\w+)?|times|respectively|performance\s+gains?|"
    r"results?|margins?|scores?)",
    re.I,
)
METRIC_RE = re.compile(rf"(?<![\w])(?:{METRIC})(?:\s+(?:gap|drop|degradation))?(?![\w}}])", re.I)
# Verbs that say what a number measures: "speeds up fine-tuning by 1.4x", "compresses ... by 16x".
_VERB_METRIC = [
    (re.compile(r"\b(?:speeds?\s+up|accelerat\w*|faster)\b", re.I), "speed"),
    (re.compile(r"\bcompress\w*\b", re.I), "compression"),
]
IMPROVE = re.compile(
    r"\b(?:improv\w*|outperform\w*|surpass\w*|exceed\w*|beat\w*|boost\w*|increas\w*|reduc\w*|decreas\w*|lower\w*|"
    r"cut\w*|sav\w*|gain\w*|speed\w*|accelerat\w*|faster|higher|better|fewer|less|more|relative|absolute|"
    r"compress\w*|halv\w*)\b",
    re.I,
)
SCORE = re.compile(r"\b(?:achiev\w*|reach\w*|attain\w*|obtain\w*|scor\w*|set\w*|record\w*|yield\w*|get\w*|hit\w*)\b", re.I)
_BASELINE = re.compile(
    r"\b(?:over|than|vs\.?|versus|compared\s+(?:to|with|against)|relative\s+to|in\s+contrast\s+to|outperform\w*|"
    r"surpass\w*|beat\w*|match(?:es|ing)?)\s+"
    # a word may be written with spaced hyphens, as tokenised text has it: "state - of - the - art"
    r"(?:the\s+)?(?P<what>(?:[\w\-.+/@]+(?:\s-\s[\w.+/@]+)*)(?:\s+(?!by\b|on\b|in\b|and\b|while\b|with\b|across\b|"
    r"at\b|for\b|using\b|under\b|despite\b|both\b|either\b|but\b|yet\b|whereas\b|which\b)"
    r"[\w\-.+/@]+(?:\s-\s[\w.+/@]+)*){0,4})",
    re.I,
)
_DATASET = re.compile(
    r"\b(?:on|across|in)\s+(?:the\s+)?(?:challenging\s+|popular\s+|standard\s+)?"
    r"(?P<name>(?:[A-Z]|[a-z]+[A-Z])[\w\-.]*[A-Za-z0-9](?:\s?[-0-9][\w\-]*(?:\.\d+)?)?(?:\s+(?:[A-Z][\w\-–]*\w|\d+[\w\-]*))?)"
    r"|(?P<before>[A-Z][\w\-.]*[A-Za-z0-9])\s+(?:benchmark|dataset|test\s+set|leaderboard)",
)
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


def metric_after(rest: str) -> str | None:
    """What the words right after a number say it measures ("faster": speed; "fewer
    parameters"; "verified error"; "in accuracy")."""
    rest = re.sub(r"^\s*\([^()]*\)", "", rest).lstrip(" )")  # "37.4% (+15.1%) win rate"
    found = _metric_after(rest)
    if found is None and (bare := re.sub(r"^(?:absolute|relative)\s+(?=[A-Za-z])", "", rest, flags=re.I)) != rest:
        found = _metric_after(bare)  # "13.3% absolute F1 increase": F1
    return found


def _metric_after(rest: str) -> str | None:
    for pattern, name in _AFTER:
        if pattern.match(rest) is not None:
            return name
    if (c := _COMPARATIVE.match(rest)) is not None:
        if re.match(r"model\s+sizes?\b", c.group("what"), re.I):
            what = "model size"  # "98% less model size": this paper's saving, not another model
        elif re.search(r"\b(?:models?|networks?|LLMs?|baselines?)\b", " ".join(c.group("what").split()[:3]), re.I):
            return None  # "26x larger embedding models": the size of other models, not a gain
        else:
            what = _noun_run(c.group("what"))
        if what is not None and (less := _LESS.match(rest)) is not None:
            return f"{less.group(1).casefold()} {what}"  # "4x less GPUs" is fewer GPUs, never "4x GPUs"
        return what
    if (c := re.match(r"^of\s+(?:the|its|their|all)?\s*(?P<what>(?:[\w\-]+\s+){0,2}(?:tokens|data|compute|computation|"
                      r"parameters|FLOPs|memory|cost|(?:training|inference|GPU)\s+time|samples|examples|labels))\b", rest,
                      re.I)) is not None:
        return " ".join(c.group("what").split())  # "less than 0.4% of the pretraining tokens"
    if (c := re.match(r"^(?:\w+\s+)?(?:improvements?|gains?|increases?|reductions?|drops?|boosts?|decreases?)\s+(?:in|of)\s+"
                      r"(?:the\s+)?(?P<what>.+)", rest, re.I)) is not None:
        return _noun_run(c.group("what"))  # "a 2.36% improvement in accuracy"
    m = re.match(rf"^(?:in\s+)?(?P<pre>(?:[a-z][\w\-]*\s+){{0,2}}?)(?P<m>{METRIC})(?![\w}}])", rest, re.I)
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


def metric_before(head: str) -> str | None:
    """The metric named before the number, within the clause (``head`` ends at it): the
    object of the verb that governs it ("reduces training time by"), else the metric named
    last within a few words, else the verb's own ("speeds up ... by": speed). An aside
    between dashes ("negative flips -- instances where ... -- by") is skipped."""
    head = re.sub(r"\s(?:--|—|–)\s.*?\s(?:--|—|–)\s", " ", head)
    head = re.sub(r"\bby\s+[^()]{1,40}\(\s*$", "by ", head)  # "by an order of magnitude (50 times)": the number restates it
    if (m := _VERB_OBJECT.search(head)) is not None:
        np = m.group("np").split()
        if "of" in np:  # "the accuracy of the extracted models": what is measured is the accuracy
            np = np[: np.index("of")]
        if np and len(np) <= 4 and not _DIGIT.search(" ".join(np)) and not any(is_function_word(w) for w in np):
            return " ".join(np)
    found = list(METRIC_RE.finditer(head))
    for m in reversed(found):
        between = head[m.end() :]
        if len(between.split()) <= 8 and not re.search(r"[;]", between):
            return " ".join(m.group().split())
    for pattern, name in _VERB_METRIC:
        if pattern.search(head):
            return name
    return None


# Where "over X" names a baseline: after a word of comparison ("an improvement over X",
# "2x faster over", "improvements of 4.3-11.2 BLEU over", "a 1.4% WER improvement (10.6% relative) over"), not
# "averaged over the tasks".
_OVER_OK = re.compile(r"\b(?:improv\w*|gains?|speed-?ups?|advantages?|margins?|boosts?|better|faster|superior|"
                      r"outperform\w*|increases?|reductions?|\d[\d.]*\s?(?:%|x|×|times|points?))\s+(?:[^\s,;]+\s+){0,4}$",
                      re.I)  # fmt: skip


# "over the previous state of the art", "over strong baselines": a baseline whatever precedes "over".
_KNOWN_BASELINE = re.compile(r"(?:the\s+)?(?:previous|prior|current|existing|recent|strong|competitive|standard|vanilla)\s+|"
                             r"(?:the\s+)?(?:state\s?[- ]\s?of\s?[- ]\s?the\s?[- ]\s?art|SOTA|baselines?)\b", re.I)  # fmt: skip


# Where a baseline's phrase stops: its dataset, its conditions ("under the same metric").
_NOT_THE_BASELINE = re.compile(r"\s+(?:on|in|across|at|under|despite|while|with|using|by|for|among|but|yet|whereas|"
                               r"which)\b")
# The other system's score and whose it is: "138.66 with DDIM", "71.2% by GPT-4".
_WHOSE_SCORE = re.compile(r"\d[\d.,]*\s?(?:%|x|×|points?)?\s+(?:with|of|by|for|from)\s+(?:the\s+)?"
                          r"(?P<name>(?:[A-Z]|[a-z]+[A-Z])[\w\-.+]*[\w+])")  # fmt: skip


# What a comparator names when it names a measure of something: "the performance of X" is X.
_MEASURE_OF = re.compile(r"^(?:[\w\-]+\s+){0,2}?(?:performance|accuracy|quality|results?|scores?)\s+of\s+(?:the\s+)?(.+)$",
                         re.I)  # fmt: skip


def baseline_of(clause: str, start: int, end: int, *, last: bool = False) -> str | None:
    """What the number at ``clause[start:end]`` is compared with, as the clause names it:
    the comparator that follows the number within a few words first ("an improvement of
    20% over the latest Transformers", though "our method over the state-of-the-art"
    came before), else the clause's first (its ``last``, for the clause a number's own
    clause goes on from: the comparator nearest to it)."""
    found = list(_BASELINE.finditer(clause))
    if last:
        found.reverse()
    found.sort(key=lambda m: not (m.start() >= end and len(clause[end : m.start()].split()) <= 4))
    for m in found:
        if (m.group().casefold().startswith("over") and _OVER_OK.search(clause[: m.start()]) is None
                and not _KNOWN_BASELINE.match(m.group("what"))):  # fmt: skip
            continue
        what = m.group("what").rstrip(".,;:")
        if _DIGIT.match(what):  # "compared to 138.66 with DDIM": the other system's score, and whose it is
            whose = _WHOSE_SCORE.match(clause, m.start("what"))
            if whose is not None:
                return whose.group("name")
            continue
        if what.casefold() in ("the", "a", "an"):
            continue
        words = what.split()
        while words and (is_function_word(words[-1]) and words[-1].casefold() not in ("ones", "one")
                         or words[-1].casefold() in ("up", "such")):  # fmt: skip
            words.pop()
        if len(words) == 1 and words[0].islower() and clause[m.end("what") : m.end("what") + 2].startswith(","):
            # "outperforms complex, state of the art methods" (but "Compared to SPPnet, Fast R-CNN ...": a name)
            after = clause[m.end("what") + 1 :]
            rest = None if re.match(r"\s*\w+ing\b", after) else noun_phrase(after, 8)  # not ", increasing X"
            if rest is not None:
                return rest
        if words:
            phrase = noun_phrase(clause[m.start("what") :], 8)  # whole: "policies trained on digital twins"
            if phrase is not None and " ".join(words).casefold() in phrase.casefold() and not _DIGIT.search(phrase[:1]):
                head = " ".join(words)
                if phrase.startswith(head) and not head.endswith("ed") and (
                        cut := _NOT_THE_BASELINE.search(phrase, len(head))) is not None:  # fmt: skip
                    phrase = phrase[: cut.start()]  # "E2E baseline", not "E2E baseline on ImageNet-1K" (but "policies trained on X")
                if ")" in phrase and "(" not in phrase.partition(")")[0]:
                    phrase = phrase.partition(")")[0]  # "than Transformers) and linear scaling": the aside ends
                if (whose := _MEASURE_OF.match(phrase)) is not None:
                    return whose.group(1)  # "matches the downstream performance of standard pre-training"
                return re.sub(r"\s+(?:both|either)$", "", phrase)  # "all previous methods both in accuracy and speed"
            return " ".join(words)
    return None


# A model, not a dataset: "Llama2-7B", "GPT-4", "Mistral 7B".
_MODEL_NAME = re.compile(r"(?:^|[-\s])\d+(?:\.\d+)?\s?[BM]\b|^(?:Llama|LLaMA|GPT|Mistral|Mixtral|Qwen|Gemma|Phi|Claude|PaLM|BERT|RoBERTa|"
                         r"T5|ViT|ResNet|OPT|Pythia|Falcon|Vicuna|Alpaca|DeepSeek|OLMo|BLOOM)", re.I)  # fmt: skip


# Hardware, not a dataset: "in GPU utilization", "on A100".
_HARDWARE = re.compile(r"^(?:[GCTN]PUs?|(?:NVIDIA\s+)?(?:[AHVLT]\d{1,3}|RTX\s?\d+)|VRAM|FPGAs?|ASICs?)\b")


_MORE_NAMES = re.compile(r"(?:\s*,\s*(?:and\s+)?|\s+and\s+)(?:the\s+)?(?P<name>(?:[A-Z]|[a-z]+[A-Z])[\w\-.]*[A-Za-z0-9]"
                         r"(?:\s?[-0-9][\w\-]*(?:\.\d+)?)?(?:\s+(?:[A-Z][\w\-–]*\w|\d+[\w\-]*))?)")  # fmt: skip


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


def datasets(clause: str) -> list[tuple[int, str]]:
    found = []
    for at, name in _named(clause):
        name = name.rstrip(".-")
        if not name or METRIC_RE.fullmatch(name) or name.casefold() in ("we", "our", "it", "this", "average"):
            continue
        if _MODEL_NAME.search(name) or _HARDWARE.match(name) or (" " not in name and name[1:].islower() and word_classes(name)):
            continue  # a model ("Llama2-7B"), or a plain English word ("Answering"), is no dataset
        found.append((at, name))
    return found


#: What may qualify a number just before it: "up to 16x", "as much as 90%", "~4x".
QUALIFIER = (
    r"(?:(?:up\s+to|as\s+much\s+as|as\s+high\s+as|as\s+many\s+as|more\s+than|over|nearly|almost|about|around"
    r"|approximately|roughly|at\s+least|at\s+most|less\s+than)\s+|[~≈]\s?)"
)
_QUALIFIED = re.compile(rf"{QUALIFIER}$", re.I)
# A change named just before its number: "an average improvement of 28.34%".
_CHANGE_OF = re.compile(r"\b(?:improvements?|gains?|reductions?|increases?)\s+(?:of\s+)?$", re.I)


# A number followed by the change it measures: "1.6% increase in ...", "20% error reduction",
# "2.0 BLEU behind the teacher".
_NAMED_CHANGE = re.compile(r"^\s*(?:[\w-]+\s+){0,2}?(?:relative\s+)?(?:improvements?|gains?|reductions?|increases?|"
                           r"decreases?|drops?|boosts?|speed-?ups?|behind)\b", re.I)  # fmt: skip


def kind_of(clause: str, value: str, before: str, after: str, metric: str) -> str:
    """Whether the number ``value`` of ``clause`` (``before`` it, with its qualifier, and
    ``after`` it) is an ``improvement`` over something ("by 2%", "3x faster", "+2.1%", "an
    improvement of almost 20%", "from A to B") or an absolute ``score`` ("reaches 85%
    accuracy", "averages 87.6%")."""
    if value.startswith("from") and re.search(r"\branging\s+$", before, re.I):
        return "score"  # "accuracies ranging from 76.5% to 80.9%"
    if re.search(r"(?:[x×X]|times|fold)\s*$", value) or re.match(r"^(?:speed|compression|memory|cost)", metric, re.I):
        return "improvement"  # "4.96x speedup", "9x cheaper": relative by nature
    if re.match(r"^\s*(?:higher|lower|fewer|less|better|greater|more)\s", after, re.I) and not re.match(
            r"^\s*\w+\s+than\b", after, re.I):  # fmt: skip
        return "improvement"  # "obtains 12.1% higher mIoU and 11.5% lower RMSE over X": a difference
    if re.search(r"\b(?:less\s+than|fewer\s+than|only|just|under)\s*$", before, re.I) and re.search(
        r"\b(?:data|tokens|compute|computation|parameters|memory|cost|time|examples|samples|labels)\b", metric, re.I
    ):
        return "improvement"  # "4.96x speedup", "9x cheaper": relative by nature
    bare = _QUALIFIED.sub("", before)  # "by ~2.5%", "an improvement of almost 20%": read without the qualifier
    if value.startswith("+") or _CHANGE_OF.search(bare):
        return "improvement"  # "+2.1% mAP", "an average improvement of 28.34%": a change, whatever verb is near
    if _NAMED_CHANGE.match(after):
        return "improvement"  # "achieves a 1.6% increase in watch-time", "a greater than 20% error reduction"
    near = " ".join(before.split()[-5:])
    by = re.search(r"\bby\s+(?:(?:an\s+)?(?:average\s+of|[\w.%+]+)\s+){0,3}$", bare, re.I)
    if re.search(r"\b(?:averag\w*|achiev\w*|reach\w*|attain\w*|obtain\w*|scor\w*)\b", near, re.I) and not by:
        return "score"  # "averages 87.6% accuracy", "achieves 96.0"
    if IMPROVE.search(near) is not None:
        return "improvement"  # "improving mean end-to-end latency up to 6.1%"
    if value.startswith(("+", "from")) or by:
        return "improvement"
    if metric_after(after) in ("speed", "memory", "compression") or re.match(
        r"^\s*(?:\w+\s+)?(?:faster|fewer|less|more|higher|lower|smaller|larger|better|cheaper|relative|absolute|"
        r"improvements?|gains?|reductions?|increases?|speed-?ups?)\b",
        after,
        re.I,
    ):
        return "improvement"
    return "score"


# A sentence that ends on what all its clauses compare with: "..., and +8.3% on Lyft compared to X."
TAIL_COMPARATOR = re.compile(r"^[\s,;]*(?:compared\s+(?:to|with|against)|relative\s+to|over|than|vs\.?|versus)\b", re.I)
FINAL_COMPARATOR = re.compile(r"\b(?:compared\s+(?:to|with|against)|relative\s+to)\s+[^,;]+?[.!]?$", re.I)
def unit_of(value: str) -> str | None:
    m = re.search(r"(%|percentage\s+points?|percent|pp|points?|pts|[x×X]|times|fold)\s*$", value, re.I)
    if m is None:
        return "fraction" if "/" in value else None
    unit = m.group(1).casefold()
    return {"×": "x", "times": "x", "fold": "x", "percent": "%", "pts": "points", "point": "points"}.get(unit, unit)
