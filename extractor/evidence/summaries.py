"""The one-line summary: a gate and a faithfulness check for the model's sentence.

A summary is half of what a reader takes from a record, and a small model often writes
debris ("A123486789", "{{#1}}", "1.0") instead of a sentence, or a fluent one that says
what the abstract does not. :func:`summary_problem` says why a summary is not usable;
:func:`unfaithful` says what in it cannot be traced to the abstract. The extractor asks
the model once more with the reason, then falls back to the abstract's own sentence
(:mod:`~extractor.evidence.extractive`), so no record carries a junk or invented summary.
:func:`summary_context` picks the sentences the model is shown.

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
"""

from __future__ import annotations

import re
from functools import lru_cache

from .text import CLOSERS, Cue, sentences
from .voice import CONTRIBUTION, OWN_VOICE, is_finding
from .words import word_classes

__all__ = [
    "CONTEXT_WORDS",
    "MAX_WORDS",
    "MIN_WORDS",
    "REPEATS_TITLE",
    "first_sentence",
    "has_link",
    "summary_context",
    "summary_problem",
    "unfaithful",
]

MIN_WORDS = 8
MAX_WORDS = 60
#: Why a summary that says no more than its title is refused (an extractive summary takes it
#: still over a finding or background: it says what the paper is).
REPEATS_TITLE = "it only repeats the title; say what the paper does and finds"
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



@lru_cache(maxsize=256)  # an abstract is read once however often its summaries are checked
def _content_words(text: str) -> frozenset[str]:
    return frozenset(map(str.casefold, _CONTENT.findall(text))) - _STOP


# A token that is only punctuation, as tokenised text spaces it out: "-", "(", ")", ",".
_PUNCTUATION_ONLY = re.compile(r"[-–—()\[\],;:.!?'\"“”‘’/]+")


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
    spelled = [w for w in words if not _PUNCTUATION_ONLY.fullmatch(w)]  # "self - attention ( LISA )": tokenised text
    if sum(1 for w in spelled if _WORDISH.search(w)) < 0.8 * len(spelled):
        return "it is mostly numbers or symbols; write plain English words"
    if len(_content_words(text) & _content_words(abstract)) < 2:
        return "it does not talk about this abstract; say what this paper does, in its own terms"
    title_words, own = _content_words(title), _content_words(text)
    if title_words and len(own - title_words) < 2:
        return REPEATS_TITLE
    return None


# Words a summary may use that an abstract need not hold: its framing ("This paper
# proposes a new method ...") and the commonest verbs of saying what a paper does.
_FRAMING = frozenset(
    """paper papers proposes propose proposed proposing presents present presented introduces introduce introduced
    describes describe described studies study studied shows show showed demonstrates demonstrate demonstrated
    explores explore investigates investigate examines examine analyzes analyses analyse analyze evaluates evaluate
    develops develop developed uses using used based novel approach approaches method methods technique techniques
    framework frameworks model models work results result authors their which that this these those about also
    called named improves improve improved improving achieves achieve achieving better performance new""".split()
)
_NAME_TOKEN = re.compile(r"\b(?:[A-Z][a-z]*[A-Z0-9][\w\-]*|[A-Z]{2,}[\w\-]*|\w*\d[\w.\-]*)\b")
_FRAMING_STEMS = frozenset(w[:5] if len(w) > 6 else w.rstrip("s") for w in _FRAMING | _STOP)
_NEGATION = re.compile(r"\b(?:not|no|never|without|fail\w*|cannot|unable|neither|nor|worse|harm\w*|hurt\w*)\b", re.I)
_NEW_METHOD = re.compile(
    r"\b(?:propos|introduc|present|develop)\w*\s+(?:a|an)\s+(?:new|novel)?\s*(?:\w+\s+)?"
    r"(?:method|approach|model|framework|technique|algorithm|architecture|system)\b",
    re.I,
)
_NOT_METHODS = ("analysis", "survey", "dataset_or_benchmark", "theory")
# What a small model writes when it does not follow: "a new method to improve the performance of X".
_VAGUE_TEMPLATE = re.compile(r"\b(?:improv\w*|enhanc\w*|boost\w*)\s+(?:the\s+)?(?:overall\s+)?(?:performance|"
                             r"efficiency|effectiveness|capabilit(?:y|ies))\s+of\b", re.I)  # fmt: skip
#: The least share of a model summary's own words (beyond its framing) that one sentence of
#: the abstract must hold: a small model that blends sentences invents links between them
#: (seen in blind checks: every wrong model summary was under 0.7, most right ones over 0.8).
MIN_COVER = 0.75
_URLISH = re.compile(r"://|\bwww\.|\b[\w-]+\.(?:com|org|net|io|ai|dev|app|example|edu|gov|co|me|ly)\b", re.I)


def has_link(text: str) -> bool:
    """Whether ``text`` holds a URL or a bare domain: never part of a summary."""
    return _URLISH.search(text) is not None


def _stem(word: str) -> str:
    word = word.casefold()
    return word[:5] if len(word) > 6 else word.rstrip("s")


@lru_cache(maxsize=1024)
def _stems(text: str) -> frozenset[str]:
    words = _CONTENT.findall(text)
    return frozenset(_stem(part) for w in words for part in (w, *w.split("-")) if part)


def _adjective_swap(summary: str, source: str) -> tuple[str, str] | None:
    """An adjective of ``summary`` that shares only its stem with an adjective of ``source``
    ("continuous learning" for "continual learning"): another word, not the same one."""
    words: dict[str, set[str]] = {}
    for w in _CONTENT.findall(source):
        words.setdefault(_stem(w), set()).add(w.casefold())
    for w in _CONTENT.findall(summary):
        low = w.casefold()
        near = words.get(_stem(w), set())
        if not near or low in near or low.rstrip("s") in {n.rstrip("s") for n in near}:
            continue
        if word_classes(low) == {"ADJ"} and all(word_classes(n) and word_classes(n) <= {"ADJ", "ADV"} for n in near):
            return w, sorted(near)[0]  # "continuous" where the abstract has "continual" and "continually"
    return None


def unfaithful(summary: str, title: str, abstract: str, kind: str | None = None) -> str | None:
    """Why a model's summary says something the abstract does not, or None when every
    name, number and content word of it can be traced to the title or abstract and it
    tells the kind of claim right.

    Example:
        >>> abstract = "We study mixture-of-experts models and find that routing is stable."
        >>> unfaithful("This paper studies mixture-of-experts models and finds routing stable.", "", abstract)
        >>> unfaithful("This paper proposes mixed-effects models (MEMS) for routing.", "", abstract)
        'it names MEMS, which the abstract does not'
        >>> unfaithful("This paper proposes a new method for routing experts.", "", abstract, "analysis")
        'it calls a study a new method'
        >>> unfaithful("We study continuous learning.", "", "We study continual learning.")
        'it says continuous where the abstract says continual'
    """
    if _URLISH.search(summary):
        return "it holds a URL: a summary says what the paper does, links come from the link finder"
    source = f"{title}\n{abstract}"
    low = source.casefold()
    for token in _NAME_TOKEN.findall(summary):
        if token.casefold() not in low:
            return f"it names {token}, which the abstract does not"
    known = _stems(source)
    untraced = [w for w in _CONTENT.findall(summary) if w.casefold() not in _FRAMING and w.casefold() not in _STOP
                and _stem(w) not in known and not all(_stem(p) in known for p in w.split("-") if p)]  # fmt: skip
    if untraced:
        return f"it says {', '.join(dict.fromkeys(untraced))}, which the abstract does not"
    if (swap := _adjective_swap(summary, source)) is not None:
        return f"it says {swap[0]} where the abstract says {swap[1]}"
    if kind in _NOT_METHODS and _NEW_METHOD.search(summary):
        return "it calls a study a new method"
    if _VAGUE_TEMPLATE.search(summary):
        return "it says what any paper says (\"improve the performance of\"); say what this one does"
    own = _stems(summary) - _FRAMING_STEMS
    if own:
        sents = sentences(abstract) or [abstract]
        cover = [len(own & _stems(s)) / len(own) for s in sents]
        best = max(range(len(sents)), key=cover.__getitem__)
        if cover[best] < MIN_COVER:
            return "it blends or rewords what the abstract says; stay close to one sentence of it"
        if best == 0 and len(sents) > 1 and not OWN_VOICE.search(sents[0]):
            return "it restates the background; say what this paper does"
    negations = {m.casefold() for m in _NEGATION.findall(summary)}
    if negations and not any(re.search(rf"\b{re.escape(n)}", low) for n in negations):
        return "it negates what the abstract says"
    return None


def first_sentence(summary: str) -> str:
    """The model's summary up to the end of its first sentence: asked for one sentence, a
    small model often runs on into a second one cut off at the length bound.

    Example:
        >>> first_sentence("This paper trains video models faster. It uses a multigrid sched")
        'This paper trains video models faster.'
    """
    text = " ".join(summary.split())
    return (sentences(text) or [text])[0]


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
        [i for i, s in enumerate(sents) if CONTRIBUTION.search(s)]
        + [0]
        + [i for i, s in enumerate(sents) if is_finding(s)]
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
