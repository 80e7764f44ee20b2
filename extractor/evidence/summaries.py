"""The one-line summary: a gate for the model's sentence, and an extractive fallback.

A summary is half of what a reader takes from a record, and a small model often writes
debris ("A123486789", "{{#1}}", "1.0") instead of a sentence. :func:`summary_problem`
says why a summary is not usable; :func:`extractive_summary` builds one from the
abstract itself. The extractor asks the model once more with the reason, then falls
back to the extractive summary, so no record carries a junk summary.

A usable summary (:func:`summary_problem` returns None) has

* between :data:`MIN_WORDS` and :data:`MAX_WORDS` words, ending as a sentence ends (a
  period, "!", "?" or the "…" of a cut);
* mostly words: at least 80% of its tokens hold a letter, and no template or markup
  debris (``{{``, ``<|``, ``[[``, ``\\``` ``, ``</``, ``{"``);
* at least two content words (4+ letters, not stopwords) that also occur in the
  abstract, so it is about this paper;
* more than the title: at least two content words that the title does not have.

Example:
    >>> summary_problem("1.0", "A Title", "We propose a method.")
    'it has 1 words; write one sentence of 8 to 60 words'
    >>> extractive_summary("Video models are slow. We propose a multigrid method that trains them 4.5x faster.")
    'We propose a multigrid method that trains them 4.5x faster.'
"""

from __future__ import annotations

import re
from functools import lru_cache

from .text import CLOSERS, Cue, sentences

__all__ = [
    "CONTEXT_WORDS",
    "MAX_EXTRACTIVE_WORDS",
    "MAX_WORDS",
    "MIN_WORDS",
    "extractive_summary",
    "first_sentence",
    "summary_context",
    "summary_problem",
]

MIN_WORDS = 8
MAX_WORDS = 60
#: An extractive summary is cut at a clause boundary to at most this many words.
MAX_EXTRACTIVE_WORDS = 40
#: The words of the abstract the summary request shows the model (see :func:`summary_context`).
CONTEXT_WORDS = 110

# The cues (see text.Cue) hold the words every match of their pattern holds.
_DEBRIS = Cue(
    r"\{\{|\}\}|<\||\|>|\[\[|\]\]|```|</|\{\"|\\n|<s>|</s>|\bnull\b|\bNone\b",
    ("{{", "}}", "<|", "|>", "[[", "]]", "```", "</", '{"', "\\n", "<s>", "null", "none"),
)
_WORDISH = re.compile(r"[A-Za-z]")
_CONTENT = re.compile(r"[A-Za-z][A-Za-z\-]{3,}")
_STOP = frozenset(
    """this that these those with from into over under than then their there they them which where when
    what while paper work study propose proposes proposed present presents introduce introduces method
    approach model models results show shows also such more most very many some each both have been being
    were will would could should using used based""".split()
)
_CONTRIBUTION = Cue(
    r"\b(?:we|this\s+(?:paper|work|article|study))\s+(?:\w+\s+){0,2}?(?:propose|introduce|present|develop|design|"
    r"describe|release|build|study|investigate|show|analy[sz]e|survey|review)s?\b",
    ("propose", "introduce", "present", "develop", "design", "describe", "release", "build", "study", "investigate",
     "show", "analy", "survey", "review"),
    also=("we", "this"),
    flags=re.I,
)  # fmt: skip
_CONNECTIVE = re.compile(
    r"^(?:furthermore|moreover|additionally|in\s+addition|besides|specifically|therefore|thus|hence|finally|"
    r"to\s+this\s+end|to\s+address\s+(?:this|these)(?:\s+\w+)?|in\s+this\s+(?:paper|work|study)|here|first|then)"
    r",?\s+(?=[a-z])",
    re.I,
)
# A finding: a number (the cheap test first) or a result word.
_DIGIT = re.compile(r"\d")
_RESULT_WORDS = ("outperform", "improve", "achiev", "surpass", "reduc", "faster", "state-of-the-art")
_RESULT = Cue(rf"\b(?:{'|'.join(_RESULT_WORDS)})", _RESULT_WORDS, flags=re.I)
_CLAUSE_BREAK = re.compile(r"[,;:](?=\s)|\s[-–—]\s|\s(?=(?:which|while|where|whereas|and\s+(?:we|it|show))\b)")


@lru_cache(maxsize=256)  # an abstract is read once however often its summaries are checked
def _content_words(text: str) -> frozenset[str]:
    return frozenset(map(str.casefold, _CONTENT.findall(text))) - _STOP


def summary_problem(summary: str | None, title: str, abstract: str) -> str | None:
    """Why ``summary`` is not a usable one-line summary of this paper, or None when it is.

    The reason is phrased for the model, which is asked again with it.
    """
    text = " ".join((summary or "").split())
    words = text.split()
    if not (MIN_WORDS <= len(words) <= MAX_WORDS):
        return f"it has {len(words)} words; write one sentence of {MIN_WORDS} to {MAX_WORDS} words"
    if not text.rstrip(CLOSERS).endswith((".", "!", "?", "…")):
        return "it stops mid-sentence; write one whole sentence ending with a period"
    if _DEBRIS.search(text):
        return "it holds template or markup debris; write plain English words"
    if sum(1 for w in words if _WORDISH.search(w)) < 0.8 * len(words):
        return "it is mostly numbers or symbols; write plain English words"
    if len(_content_words(text) & _content_words(abstract)) < 2:
        return "it does not talk about this abstract; say what this paper does, in its own terms"
    title_words, own = _content_words(title), _content_words(text)
    if title_words and len(own - title_words) < 2:
        return "it only repeats the title; say what the paper does and finds"
    return None


def _finding(sentence: str) -> bool:
    """Whether ``sentence`` reports a finding: a number, "outperforms", "improves" ..."""
    return _DIGIT.search(sentence) is not None or _RESULT.search(sentence) is not None


def first_sentence(summary: str) -> str:
    """The model's summary up to the end of its first sentence: asked for one sentence, a
    small model often runs on into a second one cut off at the length bound.

    Example:
        >>> first_sentence("This paper trains video models faster. It uses a multigrid sched")
        'This paper trains video models faster.'
    """
    text = " ".join(summary.split())
    return (sentences(text) or [text])[0]


def _cut(sentence: str, limit: int = MAX_EXTRACTIVE_WORDS) -> str:
    """``sentence`` whole when short enough, else cut at the last clause boundary that
    keeps at most ``limit`` words (at ``limit`` words when there is none)."""
    words = sentence.split()
    if len(words) <= limit:
        return sentence
    head = " ".join(words[:limit])
    cuts = [m.start() for m in _CLAUSE_BREAK.finditer(head) if len(head[: m.start()].split()) >= MIN_WORDS]
    head = head[: cuts[-1]] if cuts else head
    return head.rstrip(" ,;:-–—") + " …"


def _without_connective(sentence: str) -> str:
    """``sentence`` without a leading discourse connective ("Furthermore, we ..." ->
    "We ..."), which reads badly out of its paragraph."""
    match = _CONNECTIVE.match(sentence)
    if match is None or len(sentence) == match.end():
        return sentence
    rest = sentence[match.end() :]
    return rest[0].upper() + rest[1:]


def extractive_summary(abstract: str, title: str = "") -> str:
    """A summary taken from the abstract: its contribution sentence ("we propose /
    introduce / present ...", "this paper studies ..."), else its first sentence, cut at
    a clause boundary to at most :data:`MAX_EXTRACTIVE_WORDS` words. The first of these
    that passes :func:`summary_problem` wins (so it is not the title again, nor a
    fragment); when none does, the opening sentences, up to :data:`MIN_WORDS` words."""
    sents = [" ".join(s.split()) for s in sentences(abstract)] or [" ".join(abstract.split())]
    sents = [_without_connective(s) for s in sents]
    ranked = dict.fromkeys([s for s in sents if _CONTRIBUTION.search(s)] + sents)
    for sentence in ranked:
        cut = _cut(sentence)
        if summary_problem(cut, title, abstract) is None:
            return cut
    opening: list[str] = []  # no sentence will do alone: the opening ones, enough words
    for sentence in sents:
        opening.append(sentence)
        if len(" ".join(opening).split()) >= MIN_WORDS:
            break
    return _cut(" ".join(opening))


def summary_context(abstract: str, limit: int = CONTEXT_WORDS) -> str:
    """The part of ``abstract`` a one-line summary needs, at most about ``limit`` words:
    the whole abstract when it is that short, else its sentences in their own order, chosen
    first among the contribution sentences ("we propose ..."), then the first sentence (the
    problem), then the findings (a number, "outperforms", "improves" ...), then the rest,
    while they fit.

    The summary request of ``rules-first`` sends this instead of the whole abstract: the
    prompt is most of a small model's time on a CPU (prefill), and the summary says what the
    paper does and finds, which these sentences hold. The summary is still checked against
    the whole abstract.

    Example:
        >>> summary_context("Video is slow. Prior work fails. Prior work is old. We propose X, 4x faster.", 10)
        'Video is slow. We propose X, 4x faster.'
    """
    if len(abstract.split()) <= limit:
        return abstract
    sents = [" ".join(s.split()) for s in sentences(abstract)]
    if len(sents) < 2:
        return abstract
    order = dict.fromkeys(
        [i for i, s in enumerate(sents) if _CONTRIBUTION.search(s)]
        + [0]
        + [i for i, s in enumerate(sents) if _finding(s)]
        + list(range(len(sents)))
    )
    chosen: set[int] = set()
    words = 0
    for i in order:
        n = len(sents[i].split())
        if chosen and words + n > limit:
            continue
        chosen.add(i)
        words += n
    return " ".join(sents[i] for i in sorted(chosen))
