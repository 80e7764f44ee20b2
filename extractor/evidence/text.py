"""Small text helpers every stage shares: sentences, cues, numbers and URLs.

One implementation each, so the readers, the rules, the link finder and grounding cannot
drift apart. It sits at the bottom of the import graph: it imports nothing from the
package but :mod:`~extractor.schema`. (JSONL lines are read by :mod:`~extractor.records.jsonl`;
the scorer, :mod:`~extractor.eval.score`, keeps its own matching on purpose.)

* **Sentences** (:func:`sentences`, :func:`split_text`, :func:`is_truncated`): a boundary
  is end punctuation, closers and whitespace before a word that is not lowercase; never
  after an abbreviation ("e.g.", "et al.", "Fig."), an initial, inside a number ("4.5")
  or a URL. :func:`clauses` cuts finer, for the evidence of a gain. The rules, the link
  finder and the summaries each read an abstract's sentences: the split is remembered
  for the last few hundred texts, so it is made once per paper.
* **Cues** (:class:`Cue`, :func:`lowered`): a case-insensitive pattern with the words its
  every match holds, so that a sentence without any of them is not searched.
* **Numbers** (:func:`~extractor.evidence.numbers.numbers_in`,
  :func:`~extractor.evidence.numbers.prose_numbers`, :func:`~extractor.evidence.numbers.canon_number`):
  read as canonical decimals (``1,000.50`` -> ``1000.5``, ``72.0`` -> ``72``), never
  rescaled; in :mod:`~extractor.evidence.numbers`, importable from here too.
* **URLs** (:func:`~extractor.evidence.urls.normalise_url`, :func:`~extractor.evidence.urls.url_key`):
  one form for comparison; in :mod:`~extractor.evidence.urls`, importable from here too.

Example:
    >>> sentences("We use e.g. BERT. It works. 4.5x faster.")
    ['We use e.g. BERT.', 'It works.', '4.5x faster.']
    >>> numbers_in("+0.8% absolute"), url_key("http://www.GitHub.com/Org/Repo.git")
    (('0.8',), 'github.com/org/repo')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

from .numbers import canon_magnitude, canon_number, number_value, numbers_in, prose_numbers
from .urls import normalise_url, url_key

__all__ = [
    "CLOSERS",
    "QUOTES",
    "Cue",
    "Proposal",
    "canon_magnitude",
    "canon_number",
    "clauses",
    "is_truncated",
    "lowered",
    "normalise_url",
    "number_value",
    "numbers_in",
    "prose_numbers",
    "sentences",
    "split_text",
    "url_key",
]

# --------------------------------------------------------------------------- sentences

CLOSERS = "\"')]}»”’"
"""Closing quotes and brackets that may follow a sentence's end punctuation."""
QUOTES = "\"'“”‘’"
"""Quote marks, straight and curly: one standing alone, as tokenised text has it ("autoencoder ’ ’
( AAE )"), is no part of a value."""

_URL = r"(?:[a-z][a-z0-9+.-]*:\s?)?//\S+|www\.\S+|[\w-]+(?:\.[\w-]+)+/\S*"


@cache
def _url(*, at_end: bool = False) -> re.Pattern[str]:
    """A URL anywhere, or ending the string: compiled on first use (not at import), as
    only an abstract that does not end as a sentence does needs it."""
    return re.compile(rf"(?:{_URL})$" if at_end else _URL, re.IGNORECASE)


# Abbreviations after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    "e.g. i.e. cf. vs. v. al. fig. figs. eq. eqs. sec. secs. tab. no. nos. approx. ca. resp. viz. "
    "dr. mr. mrs. ms. prof. st. jr. inc. ltd. co. vol. pp. p. ref. refs. ch. w.r.t. a.k.a.".split()
)
# Those that cannot end an abstract either ("et al." can, unless inside an open bracket).
_NON_FINAL = _ABBREVIATIONS - {"al.", "resp.", "inc.", "ltd.", "co.", "jr.", "st."}
# A run of end punctuation is matched from its start only (the punctuation before it is
# looked at after the first mark: a pattern that opens on a character class is searched for
# that class at C speed), so a long run costs its length once.
_BOUNDARY = re.compile(rf"[.!?…](?<![.!?…][.!?…])[.!?…]*[{re.escape(CLOSERS)}]*(\s+)")
# Initials: "J." or "U.S." (already lowercased by _abbreviation).
_INITIALS = re.compile(r"[a-z]\.|(?:[a-z]\.){2,}")
# Clauses: after a sentence's or a clause's end, or before a comma and a connective.
_CLAUSE = re.compile(r"(?<=[.;!?])\s+|,\s+(?=(?:while|and|but|which|achieving|improving|reducing|outperforming)\b)")


def _abbreviation(word: str) -> str:
    """``word`` lowercased without leading brackets/quotes, or "" for an acronym ("DR.")."""
    word = word.lstrip("([{\"'“")
    stem = word[:-1]
    return "" if len(stem) > 1 and stem.isalnum() and stem.isupper() else word.lower()


# The number of a list's item, after a colon, a comma or "and", or at the start of a sentence:
# "strategies: 1. ... and 2. ...".
_ENUMERATOR = re.compile(r"(?:^|[:;,]|\b(?:and|or))\s*\(?(?:\d{1,2}|[ivx]{1,4})[.)]$")


# A name written lower-case first with a capital inside: "xLSTM", "mBERT", "iPhone".
_LOWER_NAME = re.compile(r"[a-z]{1,3}[A-Z][\w\-]*\s")


def _sentence_ends(text: str) -> Iterator[int]:
    """Offsets where sentences end (just after their punctuation and closers). Linear in
    the text: the word before each boundary is looked for only back to the previous one."""
    previous = 0  # end of the previous boundary's whitespace: no word reaches back past it
    for m in _BOUNDARY.finditer(text):
        since, previous = previous, m.end()
        nxt = text[m.end() : m.end() + 1]
        if not nxt or (nxt.islower() and _LOWER_NAME.match(text, m.end()) is None):
            continue  # "... a word. xLSTM is ...": a name that opens lower-case still opens a sentence
        if _ENUMERATOR.search(text[since : m.start(1)]):
            continue  # "two strategies: 1. Fine-tune ...": the list goes on
        word = _abbreviation(text[since : m.start(1)].rsplit(None, 1)[-1])
        if word in _ABBREVIATIONS or _INITIALS.fullmatch(word):
            continue
        if text.count("(", since, m.start(1)) > text.count(")", since, m.start(1)):
            continue  # inside brackets: "(CS. Drafting)" does not end a sentence
        yield m.start(1)


# A sentence glued to the next by a missing space ("... of experts.Our method ..."): a word
# of lowercase letters, its end punctuation, then a capitalised word. Not inside a URL or a
# file name ("github.com/a/Repo", "model.Forward"), which hold a slash or a dot before.
_GLUED = re.compile(r"(?<=[a-z]{3}[.!?])(?=[A-Z][a-z]{2,}\b)")


def _glued_ends(text: str) -> Iterator[int]:
    for m in _GLUED.finditer(text):
        word = text[max(0, text.rfind(" ", 0, m.start()) + 1) : m.start()]
        if "/" not in word and "." not in word[:-1] and "@" not in word:
            yield m.start()


def _sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, without surrounding whitespace."""
    begin = 0
    ends = list(_sentence_ends(text))
    if "." in text and _GLUED.search(text):  # rare: most abstracts have no glued sentence
        ends = sorted({*ends, *_glued_ends(text)})
    for end in [*ends, len(text)]:
        chunk = text[begin:end]
        if chunk.strip():
            start = begin + len(chunk) - len(chunk.lstrip())
            yield start, start + len(chunk.strip())
        begin = end


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped (see the module docstring for the boundaries).

    Example:
        >>> sentences("As in Smith et al. (2020), we win. Code: github.com/a/b. Done")
        ['As in Smith et al. (2020), we win.', 'Code: github.com/a/b.', 'Done']
        >>> sentences("It uses experts.Our method wins.")
        ['It uses experts.', 'Our method wins.']
    """
    return list(_sentences(text))


# One paper's abstract is split by the link finder, the rules and the summaries, at
# moments apart when many papers are in flight: a few hundred texts cover a run's
# concurrency (a tuple, so no caller can change what the next one gets).
@lru_cache(maxsize=256)
def _sentences(text: str) -> tuple[str, ...]:
    return tuple(text[s:e] for s, e in _sentence_spans(text))


def _pack(spans: Iterable[tuple[int, int]], max_chars: int) -> Iterator[tuple[int, int]]:
    """Merge consecutive ``(start, end)`` spans greedily while they fit in ``max_chars``."""
    cur: tuple[int, int] | None = None
    for s, e in spans:
        if cur is not None and e - cur[0] <= max_chars:
            cur = (cur[0], e)
            continue
        if cur is not None:
            yield cur
        cur = (s, e)
    if cur is not None:
        yield cur


def split_text(text: str, max_chars: int) -> list[str]:
    """Split ``text`` on sentence boundaries into parts of at most ``max_chars`` (an
    abstract too long for the model's context, sent in parts).

    Sentences are packed greedily; a sentence longer than ``max_chars`` is split on
    whitespace (a single word longer than that stays whole). Parts are slices of
    ``text``, so ``" ".join(parts).split() == text.split()``.

    Example:
        >>> split_text("One. Two. Three is longer.", 10)
        ['One. Two.', 'Three is', 'longer.']
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    parts: list[str] = []
    for s, e in _pack(_sentence_spans(text), max_chars):
        if e - s <= max_chars:
            parts.append(text[s:e])
        else:
            words = ((s + m.start(), s + m.end()) for m in re.finditer(r"\S+", text[s:e]))
            parts.extend(text[a:b] for a, b in _pack(words, max_chars))
    return parts


def clauses(text: str) -> list[str]:
    """``text`` cut after each ``.``, ``;``, ``!`` or ``?`` that whitespace follows, and
    before ``, while`` / ``, and`` / ``, achieving`` ...: the clause around a claimed
    number is its evidence.

    Example:
        >>> clauses("It runs 2x faster, while using 30% less memory; accuracy is the same.")
        ['It runs 2x faster', 'while using 30% less memory;', 'accuracy is the same.']
    """
    return _CLAUSE.split(text)


def is_truncated(abstract: str) -> bool:
    """True when the abstract looks cut off: it does not end with ``.``, ``!`` or ``?``
    (optionally followed by a closing quote or bracket) nor with a URL, or it ends with
    an ellipsis or an abbreviation that cannot end a sentence ("e.g.", "Fig.").

    Example:
        >>> is_truncated("It works."), is_truncated("As shown in Fig."), is_truncated("We use")
        (False, True, True)
    """
    text = abstract.rstrip()
    core = text.rstrip(CLOSERS)
    if not core or core.endswith(("...", "…")):
        return True
    if core.endswith(("!", "?")):
        return False
    if core.endswith("."):
        last = _abbreviation(core.rsplit(None, 1)[-1])
        if last in _NON_FINAL:
            return True
        return last == "al." and text.rfind("(") > text.rfind(")")
    tokens = text.rsplit(None, 2)[-2:]
    if _url(at_end=True).search(tokens[-1].rstrip(CLOSERS + ".,;:>")):
        return False
    # a URL broken by a space after a hyphen: "github.com/x/efficient- NLP-training"
    return not (len(tokens) > 1 and tokens[-2].endswith("-") and _url().search(tokens[-2]) is not None)


# --------------------------------------------------------------------------- cues


def lowered(text: str) -> str:
    """``text`` lowercased for the word tests of :class:`Cue`: every ASCII word that a
    case-insensitive pattern finds in ``text`` is a substring of it.

    ``str.lower`` gives that for every letter but three that ``re.IGNORECASE`` also reads
    as ASCII ones: the dotless ``ı`` and the long ``ſ`` (made ``i`` and ``s`` here) and
    ``İ``, which lowers to ``i`` and a combining dot (the dot is dropped). Other
    characters may change too: the result only serves substring tests.

    Example:
        >>> lowered("We PROPOSE"), lowered("claſſ")
        ('we propose', 'class')
    """
    low = text.lower()
    if low.isascii():
        return low
    return low.replace("\u0307", "").replace("ı", "i").replace("ſ", "s")


@dataclass(frozen=True)
class Proposal:
    """One value a rule proposes, and the rule's name."""

    value: str
    rule: str


class Cue:
    """A pattern, and the words every match of it holds: a text without them is not
    searched.

    A case-insensitive alternation (``\\b(?:method|approach|...)``) is tried at every
    position of a text; testing a handful of substrings of the :func:`lowered` text costs a
    few percent of that, and most sentences hold none of a rule's words. ``words`` are
    lowercase, and a match holds at least one of them; when ``also`` is given, at least
    one of those too. They must be implied by the pattern (the tests check every cue on
    the seed and gold abstracts): a cue only skips searches, it never finds more or less.

    The pattern is compiled when a text first holds the words, not at import: a run pays
    only for the cues its papers need, and a command that reads no paper for none.

    Example:
        >>> called = Cue(r"\\b(?:called|named)\\s+(\\w+)", ("called", "named"), flags=re.I)
        >>> called.search("A model called EVE.").group(1), called.search("A model.")
        ('EVE', None)
    """

    def __init__(self, pattern: str, words: tuple[str, ...], *, also: tuple[str, ...] = (), flags: int = 0) -> None:
        self.source, self.flags, self.words, self.also = pattern, flags, words, also

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The compiled pattern (compiled on first use, then kept)."""
        return re.compile(self.source, self.flags)

    def could_match(self, low: str) -> bool:
        """False when the :func:`lowered` text ``low`` cannot hold a match."""
        return _holds_any(low, self.words) and (not self.also or _holds_any(low, self.also))

    def search(self, text: str, low: str | None = None) -> re.Match[str] | None:
        """``pattern.search(text)``, skipped when :meth:`could_match` says no; ``low`` is
        ``lowered(text)`` when the caller has it already."""
        if not self.could_match(lowered(text) if low is None else low):
            return None
        return self.pattern.search(text)


def _holds_any(low: str, words: tuple[str, ...]) -> bool:
    for word in words:  # a plain loop: any() over a generator costs more than the tests
        if word in low:
            return True
    return False
