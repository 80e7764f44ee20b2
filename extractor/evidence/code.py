"""Whether a paper links, promises or omits its code: :func:`code_status`.

``linked`` when a link found by :mod:`~extractor.evidence.links` points at code;
``promised`` when no code link is there but a sentence says the paper's code, data or models
are or will be available, released, open-sourced or shared; ``none`` otherwise. Regex-based
and offline; the slow promise patterns are compiled on first use and tried only on a
sentence that holds one of their cue words.

Example:
    >>> code_status("Code will be released upon acceptance.", [])
    'promised'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from ..schema import CodeStatus, Link, LinkKind
from .text import Cue, lowered, sentences

__all__ = ["code_status"]

_STRONG = (
    r"(?:source\s+codes?|codes?|code\s*bases?|implementations?|checkpoints?|(?:model\s+)?weights)"
)
_WEAK = (
    r"(?:models?|data|datasets?|data\s+sets?|benchmarks?|resources|materials|tool(?:kit)?s?"
    r"|librar(?:y|ies)|software|frameworks?|pipelines?|scripts|corpus|corpora|repositor(?:y|ies))"
)
# A weak artefact word ("models", "data") only counts as the paper's own when a
# determiner stands just before it ("our newly collected datasets", "The models") or it
# opens the sentence; "code", "implementation", "checkpoints", "weights" always count.
_ARTIFACT = (
    rf"(?:\b{_STRONG}\b|(?:^\W*|\b(?:our|the|all|this|these|its|their)\s+(?:[\w-]+,?\s+){{0,3}})"
    rf"{_WEAK}\b)"
)
_ANY_ARTIFACT = rf"\b(?:{_STRONG}|{_WEAK})\b"
# The gap between an artefact and its verb does not cross into another clause.
_GAP = r"(?:(?!\b(?:where|when|while|if|whereas|but|because|although|since|unless)\b).)"
_BE = r"(?:is|are|was|were|be|being|will\s+be|shall\s+be|has\s+been|have\s+been|can\s+be|to\s+be)"
_ADVERBS = r"(?:(?:made|now|also|freely|publicly|fully|all|soon|then|being|openly)\s+){0,3}"
_AVAILABLE = r"(?:available|released|open[- ]?sourced?|public(?:ly)?\s+(?:available|released)|accessible|public)"
_WE = r"\bwe\s+(?:(?:will|shall|also|further|additionally|\w+ly|plan\s+to|\w+\s+and)\s+)*"
_PROMISE_PATTERNS = (
    # "Code is available online", "Our code and models will be made publicly
    # available", "Code and models will be released upon acceptance"
    rf"{_ARTIFACT}{_GAP}{{0,90}}?\b{_BE}\s+{_ADVERBS}{_AVAILABLE}\b",
    rf"{_ARTIFACT}{_GAP}{{0,90}}?\b(?:will|shall)\s+be\s+{_ADVERBS}(?:shared|published)\b",
    # "resulting in a new, publicly available dataset"
    rf"\b(?:a|an|our)\s+(?:new,?\s+)?(?:publicly|freely|openly)\s+(?:available|released)\s+{_ANY_ARTIFACT}",
    # "we release our code", "we publicly release ... models", "we will
    # open-source ...", "we make our code and models publicly available"
    rf"{_WE}(?:release|share|publish)\b.{{0,80}}?{_ANY_ARTIFACT}",
    rf"\bto\s+(?:\w+ly\s+)?release\b.{{0,60}}?{_ANY_ARTIFACT}",
    # "we present Eureka, an open-source framework"
    r"\bwe\s+(?:present|introduce|propose|develop|build|release)\s+[^,.;]{1,40},\s+an?\s+"
    r"(?:fully\s+)?open[- ]?source",
    rf"{_WE}open[- ]?source\b",
    rf"{_WE}make\b.{{0,60}}?{_ARTIFACT}.{{0,40}}?\b(?:available|public|open[- ]?source)",
    rf"{_WE}provide\s+(?:(?:the|our|all)\s+)?(?:source\s+)?(?:code|implementation)\b",
    # "Use our open-sourced GitHub", "code ... see our project page"
    r"\bour\s+open[- ]?sourced?\s+(?:github|code|repositor)",
    rf"{_ARTIFACT}.{{0,60}}?\bsee\s+(?:our|the)\s+(?:project\s+page|website|homepage)",
)


@cache
def _promises() -> tuple[re.Pattern[str], ...]:
    """The promise patterns, compiled on first use: they are most of this module's compile
    time at import, and only a sentence with a :data:`_CUE` needs them."""
    return tuple(re.compile(pattern, re.IGNORECASE) for pattern in _PROMISE_PATTERNS)


# Only a sentence that holds one of these words is tried with the slow promise patterns
# (nearly every promise holds one; "we share our code" does not count). Its cue words
# ("sourc" for open-source, "see" for "see our/the") skip the pattern itself in most.
_CUE = Cue(
    r"availab|releas|open[- ]?sourc|public|accessible|shared|published|see\s+(?:our|the)|\bprovide\b|\bmake\b",
    ("availab", "releas", "sourc", "public", "accessible", "shared", "published", "see", "provide", "make"),
    flags=re.IGNORECASE,
)


def code_status(text: str, links: Sequence[Link]) -> CodeStatus:
    """``linked``, ``promised`` or ``none`` for the paper whose abstract is *text*.

    ``linked``: *links* hold a :attr:`LinkKind.code` link. ``promised``: no code link,
    but a sentence says the paper's code, data or models are or will be available,
    released, open-sourced or shared ("Code is available online", "we release our
    code", "Code and models will be released upon acceptance"). ``none`` otherwise.

    Example:
        >>> code_status("We make our code and models publicly available.", [])
        'promised'
        >>> code_status("We evaluate on MATH.", [])
        'none'
    """
    if any(link.kind == LinkKind.code for link in links):
        return "linked"
    if not _CUE.could_match(lowered(text)):
        return "none"
    for sentence in sentences(text):
        if _CUE.search(sentence) and any(p.search(sentence) for p in _promises()):
            return "promised"
    return "none"
