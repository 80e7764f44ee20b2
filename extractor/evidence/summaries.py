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
from .words import ends_whole, word_classes

__all__ = [
    "CONTEXT_WORDS",
    "unfaithful",
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


def _stem(word: str) -> str:
    word = word.casefold()
    return word[:5] if len(word) > 6 else word.rstrip("s")


@lru_cache(maxsize=1024)
def _stems(text: str) -> frozenset[str]:
    words = _CONTENT.findall(text)
    return frozenset(_stem(part) for w in words for part in (w, *w.split("-")) if part)


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
        if best == 0 and len(sents) > 1 and not _OWN_VOICE.search(sents[0]):
            return "it restates the background; say what this paper does"
    negations = {m.casefold() for m in _NEGATION.findall(summary)}
    if negations and not any(re.search(rf"\b{re.escape(n)}", low) for n in negations):
        return "it negates what the abstract says"
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


# A leading clause that points back or frames ("To mitigate this issue, we propose ...",
# "Motivated by these findings, we ...", "In this paper, we ..."): dropped when the paper's
# own "we" / "our" / "this paper" follows, so the sentence reads alone.
_LEAD_IN = re.compile(
    r"^(?:(?:to\s+(?:address|mitigate|tackle|overcome|solve|alleviate|resolve|handle|bridge|fill|close|remedy|"
    r"this\s+end|that\s+end|fix)|motivated\s+by|inspired\s+by|building\s+(?:on|upon)|based\s+on|given|guided\s+by|"
    r"in\s+response|towards?\s+this|with\s+this|for\s+this|in\s+this\s+(?:paper|work|study|report|article)|"
    r"here|specifically|therefore|thus|hence|furthermore|moreover|additionally|in\s+addition|besides|finally|"
    r"first|then|however|instead|accordingly|consequently|concretely|in\s+particular|as\s+such|to\s+\w+|aiming)"
    r"(?:[^,;:]{0,80},\s+){1,2})(?=(?:we|our|this\s+(?:paper|work|study|report))\b)",
    re.I,
)
# A purpose that points back: "... to address this issue", "to mitigate these challenges".
_BACK_PURPOSE = re.compile(
    r",?\s+(?:in\s+order\s+)?to\s+(?:address|mitigate|tackle|overcome|solve|alleviate|resolve|handle|bridge|fill|"
    r"close|remedy|fix)\s+(?:this|these|those|such|the\s+(?:above|aforementioned))(?:\s+[\w-]+){1,2}(?=[,.;]|\s)",
    re.I,
)
# What may close a sentence early and leave it whole: a trailing relative or participial
# clause ("..., which ...", "..., enabling ...") or a list after a colon.
_TRAILING = re.compile(
    r",\s+(?:which|where|while|whereas|enabling|allowing|achieving|thereby|thus|leading|resulting|making|yielding|"
    r"and\s+(?:we|it|show|demonstrate|achieve)|including|such\s+as|e\.g\.|i\.e\.)\b|:\s|\s+\(",
    re.I,
)
_DANGLING = re.compile(r"^(?:this|these|those|it|its|they|their|such|both|the\s+(?:above|latter|former))\b(?!\s+(?:paper|work|study|report|article)\b)", re.I)
# Release notes and pointers are not what a paper does.
_RELEASE = re.compile(r"\b(?:code|data|models?|weights|checkpoints|dataset|benchmark|demo)\b[^.]{0,60}\b(?:available|released?|"
                      r"open[- ]sourced?|publicly|github|https?://)|https?://|github\.com", re.I)  # fmt: skip
_OWN_VOICE = re.compile(r"\b(?:we|our|this\s+(?:paper|work|study|report|article))\b", re.I)
MAX_WHOLE_WORDS = 45


# Any short lead-in before the paper's own "we" ("In light of this, we ...", "Second, we ...").
_ANY_LEAD_IN = re.compile(r"^(?![^,]*\bwe\b)[^,;:]{2,90},\s+(?:here,?\s+)?(?=we\b)", re.I)
# "We further propose", "We then show": the adverb points back to a sentence not shown.
_WE_ADVERB = re.compile(r"^(we)\s+(?:also|further|then|additionally|finally|first|next|instead|now|subsequently|"
                        r"moreover|thus|therefore|hence)\s+", re.I)  # fmt: skip
# A sentence that leans on another: "this challenge", "these findings", "the above".
_BACK_REFERENCE = re.compile(
    r"\b(?:this|these|those|such|the\s+above|the\s+aforementioned)\s+(?:\w+\s+)?(?:challenges?|issues?|problems?|"
    r"questions?|limitations?|gaps?|constraints?|observations?|findings?|insights?|shortcomings?|drawbacks?|"
    r"difficult(?:y|ies)|needs?|results?|phenomen(?:on|a)|goals?|ideas?)\b",
    re.I,
)
# Hopes, visions and calls are not what a paper does.
_HOPE = re.compile(r"\bwe\s+(?:\w+\s+)?(?:hope|believe|envision|anticipate|expect|call\s+for|encourage|invite|"
                   r"discuss\s+(?:future|open)|outline\s+future|conclude)\b", re.I)  # fmt: skip


# "We do not propose a new model ...": what the paper does not do.
_NEGATED = re.compile(r"\b(?:we|this\s+(?:paper|work))\s+(?:do|does|did)\s+not\b|\bwe\s+don't\b", re.I)
_FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|can|could|will|would|may|might|must|should|do|does|did)\b", re.I)


def _has_verb(sentence: str) -> bool:
    """Whether ``sentence`` has a finite verb ("Given any pairing of models." has none)."""
    if _FINITE.search(sentence):
        return True
    for word in re.findall(r"[a-z]+(?:s|ed)\b", sentence):
        if "VERB" in word_classes(word):
            return True
    return False


def _whole(sentence: str, limit: int = MAX_WHOLE_WORDS) -> str | None:
    """``sentence`` as a whole sentence of at most ``limit`` words: a pointing lead-in and
    a pointing purpose dropped, a trailing clause or list closed off with a full stop;
    None when it cannot be made short enough without cutting it mid-clause."""
    text = _LEAD_IN.sub("", sentence, count=1)
    text = _ANY_LEAD_IN.sub("", text, count=1)
    text = _WE_ADVERB.sub(r"\1 ", text, count=1)
    text = _BACK_PURPOSE.sub("", text)
    text = text[0].upper() + text[1:] if text else text
    if len(text.split()) <= limit:
        return text
    for m in _TRAILING.finditer(text):
        head = text[: m.start()].rstrip(" ,;:")
        complement = head.rsplit(" that ", 1)[-1] if " that " in head else head
        if MIN_WORDS <= len(head.split()) <= limit and ends_whole(head.split()[-1]) and _has_verb(complement):
            return head + "."  # not "We show that in the infinite width limit.": its clause has no verb
    return None


def _candidates(sents: list[str]) -> list[str]:
    """The abstract's sentences in the order a summary would take them: what the paper
    proposes or studies first, then what it says in its own voice, then its findings."""
    usable = [s for s in sents if not _RELEASE.search(s) and not _HOPE.search(s) and not _NEGATED.search(s)
              and not s.rstrip(CLOSERS).endswith("?") and _has_verb(s)]  # fmt: skip
    contribution = [s for s in usable if _CONTRIBUTION.search(s)]
    own = [s for s in usable if _OWN_VOICE.search(s)]
    findings = [s for s in usable if _finding(s)]
    ranked = list(dict.fromkeys(contribution + own + findings))

    def leans(s: str) -> int:  # a sentence that leans on another goes last (stable sort)
        opening = _ANY_LEAD_IN.sub("", _LEAD_IN.sub("", s, count=1), count=1)
        return (_DANGLING.match(opening) is not None) + (_BACK_REFERENCE.search(opening) is not None)

    return sorted(ranked, key=leans)


def extractive_summary(abstract: str, title: str = "", name: str | None = None) -> str:
    """A summary taken from the abstract: its contribution sentence ("we propose /
    introduce / present ...", "this paper studies ..."), else a sentence in the paper's own
    voice, else a finding; never background, motivation or a release note when one of
    those is there. With the paper's own ``name``, the contribution sentence that
    introduces it comes first. The sentence is whole (see :func:`_whole`): no cut, no lead-in that
    points back. The first candidate that passes :func:`summary_problem` wins; when none
    does, the first sentence that does, whole or cut at a clause boundary."""
    sents = [" ".join(s.split()) for s in sentences(abstract)] or [" ".join(abstract.split())]
    candidates = _candidates(sents)
    if name:  # the sentence that introduces the paper's own name says what the paper is about
        core = re.sub(r"\s*\([^)]*\)$", "", name)
        candidates.sort(key=lambda s: not (core in s and _CONTRIBUTION.search(s)))
    for limit in (MAX_WHOLE_WORDS, MAX_WORDS):  # a whole sentence, longer if need be, before any cut one
        for sentence in candidates:
            whole = _whole(sentence, limit)
            if whole is not None and summary_problem(whole, title, abstract) is None:
                return whole
    plain = [s for s in sents if not _URLISH.search(s)] or sents  # never a link in a summary
    for sentence in plain:
        whole = _whole(sentence, MAX_WORDS) or _cut(_without_connective(sentence))
        if summary_problem(whole, title, abstract) is None:
            return whole
    return _cut(" ".join(plain[:2]))


def _cut(sentence: str, limit: int = MAX_EXTRACTIVE_WORDS) -> str:
    """``sentence`` whole when short enough, else cut at the last clause boundary that
    keeps at most ``limit`` words (at ``limit`` words when there is none): the last resort
    of :func:`extractive_summary`."""
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
