"""The scorer's own matching rules: phrases, numbers and URLs compared with gold.

They follow the gold's definition (see :mod:`~extractor.eval.score`, which applies them), not
the extractor's reading of numbers and URLs (:mod:`~extractor.evidence.text`): a change to the code
being scored cannot move the yardstick too. It imports nothing from the package.

* Phrases: :func:`phrase_tokens` (lowercased letter/digit runs, :data:`STOPWORDS`
  dropped, plurals lightly stemmed), :func:`token_f1` and :func:`phrase_match` (token F1
  at least :data:`PHRASE_THRESHOLD`).
* Numbers: :func:`numbers_in` (canonical decimal strings; separators and spaces inside a
  number removed), :func:`abstract_numbers` (an abstract's numbers, read both ways).
* URLs: :func:`normalize_url`.

The rules in full, with examples, are in :mod:`~extractor.eval.score`'s documentation.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal, InvalidOperation

__all__ = [
    "PHRASE_THRESHOLD",
    "STOPWORDS",
    "abstract_numbers",
    "canon",
    "normalize_url",
    "numbers_in",
    "phrase_match",
    "phrase_tokens",
    "token_f1",
]

#: Minimum token F1 for two phrases to match.
PHRASE_THRESHOLD = 0.5

#: Words dropped before comparing phrases (function words and "novel"-style fillers).
STOPWORDS = frozenset(
    """a an the of for in on at to and or with by via from using based into over under
    its their our this that these those we is are new novel proposed""".split()
)

_TOKEN = re.compile(r"[^\W_]+")


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def phrase_tokens(text: str) -> list[str]:
    """Normalised tokens of a phrase: lowercased letter/digit runs, stopwords dropped
    (unless nothing would be left), plurals lightly stemmed."""
    raw = _TOKEN.findall(text.lower())
    kept = [t for t in raw if t not in STOPWORDS] or raw
    return [_stem(t) for t in kept]


def token_f1(a: str, b: str) -> float:
    """Token F1 (Dice over token multisets) of two phrases after :func:`phrase_tokens`."""
    ta, tb = Counter(phrase_tokens(a)), Counter(phrase_tokens(b))
    total = sum(ta.values()) + sum(tb.values())
    if not total:
        return 0.0
    return 2 * sum((ta & tb).values()) / total


def phrase_match(pred: str, gold: str, threshold: float = PHRASE_THRESHOLD) -> bool:
    """True when the two phrases' token F1 is at least ``threshold``."""
    return token_f1(pred, gold) >= threshold


_THOUSANDS = re.compile(r"(?<=\d),\s?(?=\d{3}(?!\d))")
_INNER_SPACE = re.compile(r"(?<=\d)\s*([.,])\s*(?=\d)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")


def canon(num: str) -> str:
    try:
        d = Decimal(num).normalize()
    except InvalidOperation:  # pragma: no cover - the regex only yields decimals
        return num
    return format(d, "f")


def _numbers(text: str) -> tuple[str, ...]:
    return tuple(canon(n) for n in _NUMBER.findall(text))


def numbers_in(text: str) -> tuple[str, ...]:
    """The numbers in a value as canonical decimal strings, in order.

    Spaces inside a number and thousands separators are removed first; signs, ``%``,
    ``x``/``×`` and any other characters are ignored (``"×4.5"`` -> ``("4.5",)``).
    """
    text = _INNER_SPACE.sub(r"\1", text)
    return _numbers(_THOUSANDS.sub("", text))


def abstract_numbers(abstract: str) -> set[str]:
    """Every number of an abstract, read as written and with separators/spaces joined."""
    return set(_numbers(abstract)) | set(numbers_in(abstract))


_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.IGNORECASE)


def normalize_url(url: str) -> str:
    """A URL reduced for comparison: whitespace, scheme, ``www.``, trailing punctuation,
    trailing ``/`` and ``.git`` removed; host lowercased; path case kept."""
    s = re.sub(r"\s+", "", url)
    s = s.strip("<>()[]{}'\"")
    s = s.rstrip(".,;:")
    s = _SCHEME.sub("", s)
    if s.lower().startswith("www."):
        s = s[4:]
    host, sep, rest = s.partition("/")
    rest = rest.rstrip("/")
    if rest.lower().endswith(".git"):
        rest = rest[:-4].rstrip("/")
    return host.lower() + (sep + rest if rest else "")

