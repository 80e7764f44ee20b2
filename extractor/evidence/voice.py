"""The paper's own voice: the sentences where it says what it proposes.

"We propose X", "this paper introduces X", "in this work, we present X": such a sentence
is where a paper names its own work (:mod:`~extractor.evidence.names`), says what it
proposes and what for (:mod:`~extractor.evidence.rules`), and what kind of contribution
it makes. One cue finds them, so every reader of the abstract agrees on which they are.

Example:
    >>> proposal_object("In this paper, we introduce Eureka, an open framework.")
    'Eureka, an open framework.'
    >>> proposing_sentences("LLMs are large. We present X, a model. It wins.")
    ['We present X, a model.']
"""

from __future__ import annotations

import re

from .text import Cue, lowered, sentences

__all__ = ["CONTRIBUTION", "OWN_VOICE", "PROPOSE", "is_finding", "proposal_object", "proposing_sentences"]

_VERBS = ("propose", "introduce", "present", "develop", "describe", "design", "devise", "build", "put", "offer",
          "report", "create", "construct", "curate", "unveil")  # fmt: skip
#: "we / this paper / in this work, we [also] propose|introduce|present ... OBJECT".
PROPOSE = Cue(
    r"\b(?:we|this\s+(?:paper|work|article|study|report)|in\s+this\s+(?:paper|work|report),?\s+we|here,?\s+we)\s+"
    r"(?:(?:also|further|first|then|therefore|thus|hence|newly|now)\s+)?"
    r"(?:propose|introduce|present|develop|describe|design|devise|build|put\s+forward|offer|report|create"
    r"|construct|curate|unveil)(?:s|d|ed)?\s+(?:and\s+(?:implement|evaluate|analy[sz]e|release|test|train)(?:s|d|ed)?\s+)?(.+)",
    _VERBS,
    also=("we", "this"),
    flags=re.I,
)


def proposal_object(sentence: str) -> str | None:
    """What follows the proposal verb in ``sentence``, or None when it proposes nothing."""
    m = PROPOSE.search(sentence, lowered(sentence))
    return m.group(1) if m is not None else None


def proposing_sentences(abstract: str) -> list[str]:
    """The abstract's sentences where the paper proposes something, in order."""
    return [s for s in sentences(abstract) if PROPOSE.search(s, lowered(s)) is not None]


#: "we / this paper [...] propose|introduce|present|study|show ...": what the paper does, in its voice.
CONTRIBUTION = Cue(
    r"\b(?:we|this\s+(?:paper|work|article|study))\s+(?:\w+\s+){0,2}?(?:propose|introduce|present|develop|design|"
    r"describe|release|build|study|investigate|show|analy[sz]e|survey|review|report)s?\b",
    ("propose", "introduce", "present", "develop", "design", "describe", "release", "build", "study", "investigate",
     "show", "analy", "survey", "review", "report"),
    also=("we", "this"),
    flags=re.I,
)  # fmt: skip
#: The paper speaking of itself: "we", "our", "this paper / work / study".
OWN_VOICE = re.compile(r"\b(?:we|our|this\s+(?:paper|work|study|report|article))\b", re.I)

# A finding: a number (the cheap test first) or a result word.
_DIGIT = re.compile(r"\d")
_RESULT_WORDS = ("outperform", "improve", "achiev", "surpass", "reduc", "faster", "state-of-the-art")
_RESULT = Cue(rf"\b(?:{'|'.join(_RESULT_WORDS)})", _RESULT_WORDS, flags=re.I)


def is_finding(sentence: str) -> bool:
    """Whether ``sentence`` reports a finding: a number, "outperforms", "improves" ..."""
    return _DIGIT.search(sentence) is not None or _RESULT.search(sentence) is not None
