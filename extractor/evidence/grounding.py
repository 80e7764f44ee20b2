"""Check the model's values against the abstract and drop what is not there.

Users trust a printed value only when it can be found in the abstract, so every value
the model gives is checked here, deterministically and offline:

* **Numbers** (:func:`number_occurs`, :func:`magnitude_occurs`): every number of a gain's
  ``value`` must be one of the abstract's numbers. Both sides are read as canonical
  decimals (:func:`~extractor.evidence.text.numbers_in`, :func:`~extractor.evidence.text.prose_numbers`), so units, signs and spacing do not matter: ``4.5x`` = ``4.5×`` = ``4.5
  times``; ``0.8%`` = ``0.8 %``; ``+0.8`` = ``0.8``; ``1,000`` = ``1000``; ``72
  percent`` = ``72%``; ``72.0`` = ``72``. Numbers are never rescaled: ``0.9`` does not
  match ``90%``. In the abstract, digits glued to a preceding letter (``A100``, ``I3D``,
  ``C4``) are not numbers; tokenised numbers (``0. 447``, ``5, 000``) are read both as
  written and joined. A value without any digit (``"significant"``) fails.
* **Spans** (:func:`span_occurs`): evidence must be a verbatim or near-verbatim span of
  the abstract: rapidfuzz ``partial_ratio`` >= :data:`SPAN_THRESHOLD` (90) on normalised
  text, and every number in the span must occur in the abstract. Spans shorter than
  :data:`MIN_FUZZY_CHARS` (24) normalised characters must occur exactly. ``...``/``…``
  splits a span into pieces that must each occur.
* **Phrases** (:func:`phrase_occurs`): verbatim after normalisation, on word boundaries
  (used for ``method_name`` and ``dataset``).

Normalisation (:func:`normalise_text`): NFKC, unicode quotes/dashes/minus to ASCII,
casefold, whitespace collapsed, and the spaces a tokeniser puts around punctuation
removed (``state - of - the - art`` = ``state-of-the-art``, ``( SlowFast )`` =
``(slowfast)``). The abstract is prepared once per :func:`ground` call
(:class:`PreparedText`); every function also accepts a prepared text.

:func:`ground` returns a :class:`Grounded`: the cleaned summary, a status per field and
the dropped values. The status vocabulary (``Grounded.grounding``):

=============  ==========================================================================
``ok``         the value was found in the abstract (code_link: it is one of the links)
``empty``      the model gave nothing (None or no gains) and nothing was filled in
``dropped``    the value was removed (claimed_gains: every gain was removed)
``partial``    claimed_gains only: some gains, or a gain's ``dataset`` or ``metric``, were removed
``replaced``   code_link only: not among the links, replaced by the best code link
``filled``     code_link only: the model gave none; the best code link was filled in
``unchecked``  contribution/summary: the model's own words, not checked
=============  ==========================================================================

Example:
    >>> from extractor.schema import ClaimedGain, Extraction
    >>> abstract = "SlowFast trains 4.5x faster while improving accuracy (+0.8% absolute) on Kinetics-400."
    >>> s = Extraction(task="video training", method="multigrid training", method_name="Multigrid",
    ...     contribution="method", summary="Trains video models faster.", claimed_gains=[
    ...     ClaimedGain(metric="speed", value="4.5×", magnitude=4.5, evidence="trains 4.5x faster"),
    ...     ClaimedGain(metric="accuracy", value="+1.8%", magnitude=1.8, evidence="improving accuracy")])
    >>> g = ground(s, abstract, [])
    >>> [x.value for x in g.summary.claimed_gains], g.summary.method_name, g.grounding["claimed_gains"]
    (['4.5×'], None, 'partial')
    >>> [d.field for d in g.dropped]
    ['task', 'method', 'method_name', 'claimed_gains[0].metric', 'claimed_gains[1].value', 'claimed_gains[1].magnitude']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from ..schema import ClaimedGain, Dropped, Extraction, Link
from .links import best_code_link
from .text import canon_magnitude, numbers_in, prose_numbers, url_key

__all__ = [
    "MIN_FUZZY_CHARS",
    "SPAN_THRESHOLD",
    "Grounded",
    "PreparedText",
    "ground",
    "magnitude_occurs",
    "normalise_text",
    "number_occurs",
    "phrase_occurs",
    "prepare",
    "span_occurs",
]

#: Minimum rapidfuzz ``partial_ratio`` (0-100) for a span to count as near-verbatim.
#: 90 allows about one edit per 20 characters (a dropped article, "4.5 x" for "4.5x",
#: changed punctuation) and rejects paraphrase; numbers are checked separately.
SPAN_THRESHOLD = 90.0

#: Spans shorter than this (normalised) must occur exactly: on short strings one edit
#: already costs less than the threshold allows, so fuzzy matching means nothing.
MIN_FUZZY_CHARS = 24

# --------------------------------------------------------------------------- text

_CHAR_MAP = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4`", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        "\u00d7": "x",
        "\u00a0": " ",
    }
)
_SPACES = re.compile(r"\s+")
# A quote mark standing alone between spaces, as tokenised text has it ("autoencoder ’ ’ ( AAE )"):
# it quotes nothing a value could hold.
_LONE_QUOTES = re.compile(r"(?:^|(?<=\s))[\"']+(?:\s+[\"']+)*(?=\s|$)")
_SPACE_AROUND = re.compile(r" ?([-/]) ?")
_SPACE_BEFORE = re.compile(r" ([,.;:!?)\]}%])")
_SPACE_AFTER = re.compile(r"([(\[{]) ")


def normalise_text(text: str) -> str:
    """*text* normalised for matching (see the module docstring).

    Example:
        >>> normalise_text("“State – of – the – art”  ( SlowFast ) ,  4.5×")
        '"state-of-the-art" (slowfast), 4.5x'
    """
    text = unicodedata.normalize("NFKC", text).translate(_CHAR_MAP)
    text = text.replace("``", '"').replace("''", '"').casefold()
    text = _SPACES.sub(" ", _LONE_QUOTES.sub("", text)).strip()
    text = _SPACE_AROUND.sub(r"\1", text)
    text = _SPACE_BEFORE.sub(r"\1", text)
    return _SPACE_AFTER.sub(r"\1", text)


@dataclass(frozen=True, slots=True)
class PreparedText:
    """An abstract prepared once for many checks: its normalised form and its numbers."""

    text: str
    norm: str
    numbers: frozenset[str]


@lru_cache(maxsize=256)
def _prepare(text: str) -> PreparedText:
    norm = normalise_text(text)
    return PreparedText(text=text, norm=norm, numbers=prose_numbers(text))


def prepare(text: str | PreparedText) -> PreparedText:
    """*text* normalised and its numbers read, once (cached for the last few texts).

    Example:
        >>> sorted(prepare("Kinetics-400 at 1,000 fps on A100 GPUs, 4.5x faster").numbers)
        ['1000', '4.5', '400']
    """
    return text if isinstance(text, PreparedText) else _prepare(text)


# --------------------------------------------------------------------------- checks


def number_occurs(value: str, text: str | PreparedText) -> bool:
    """True when *value* has a number and every number of it occurs in *text*.

    Example:
        >>> t = "trains 4.5x faster while also improving accuracy (+0.8% absolute)"
        >>> number_occurs("4.5 times", t), number_occurs("0.8 %", t), number_occurs("0.9%", t)
        (True, True, False)
        >>> number_occurs("significant", t)
        False
    """
    numbers = numbers_in(value)
    if not numbers:
        return False
    known = prepare(text).numbers
    return all(n in known for n in numbers)


def magnitude_occurs(magnitude: float, text: str | PreparedText) -> bool:
    """True when the number *magnitude* (its absolute value) occurs in *text*, exactly.

    Example:
        >>> magnitude_occurs(4.5, "4.5x faster"), magnitude_occurs(72.0, "72 percent")
        (True, True)
        >>> magnitude_occurs(0.9, "90% of cases")
        False
    """
    canon = canon_magnitude(magnitude)
    return canon is not None and canon in prepare(text).numbers


def phrase_occurs(phrase: str, text: str | PreparedText) -> bool:
    """True when *phrase* occurs in *text* after normalisation, on word boundaries.

    Example:
        >>> phrase_occurs("Kinetics-400", "on Kinetics - 400 compared"), phrase_occurs("Slow", "SlowFast")
        (True, False)
    """
    needle = normalise_text(phrase)
    if not needle:
        return False
    return _phrase_in(needle, prepare(text).norm)


def _phrase_in(needle: str, hay: str) -> bool:
    start = hay.find(needle)
    while start != -1:
        end = start + len(needle)
        before_ok = start == 0 or not (hay[start - 1].isalnum() and needle[0].isalnum())
        after_ok = end == len(hay) or not (hay[end].isalnum() and needle[-1].isalnum())
        if before_ok and after_ok:
            return True
        start = hay.find(needle, start + 1)
    return False


_ELLIPSIS = re.compile(r"\s*(?:\.\.\.+|\u2026|\[\.\.\.\])\s*")


def span_occurs(span: str, text: str | PreparedText, threshold: float = SPAN_THRESHOLD) -> bool:
    """True when *span* is a verbatim or near-verbatim span of *text*.

    After normalisation the span must be a substring, or (when at least
    :data:`MIN_FUZZY_CHARS` long) reach *threshold* with rapidfuzz ``partial_ratio`` with
    all of its numbers among the text's numbers. An ellipsis splits the span into
    pieces that must each occur. An empty span fails.

    Example:
        >>> t = "the proposed multigrid method trains a ResNet-50 SlowFast network 4.5x faster"
        >>> span_occurs("trains a ResNet-50 SlowFast network 4.5× faster", t)
        True
        >>> span_occurs("the multigrid method trains a ResNet-50 SlowFast net 4.5x faster", t)
        True
        >>> span_occurs("trains a ResNet-50 SlowFast network 4.7x faster", t)
        False
        >>> span_occurs("the method is much faster to train", t)
        False
    """
    prepared = prepare(text)
    pieces = [p for p in _ELLIPSIS.split(normalise_text(span)) if p.strip(" .,;:")]
    if not pieces:
        return False
    return all(_piece_occurs(p, prepared, threshold) for p in pieces)


def _piece_occurs(piece: str, prepared: PreparedText, threshold: float) -> bool:
    if piece in prepared.norm:
        return True
    if len(piece) < MIN_FUZZY_CHARS:
        return False
    if not prose_numbers(piece, tokenised=False) <= prepared.numbers:
        return False
    return fuzz.partial_ratio(piece, prepared.norm, score_cutoff=threshold) >= threshold


# --------------------------------------------------------------------------- ground


class Grounded(BaseModel):
    """The result of :func:`ground`: the cleaned summary, a status per field and what was
    dropped (with reasons to re-ask the model with)."""

    summary: Extraction
    grounding: dict[str, str] = Field(default_factory=dict)
    dropped: list[Dropped] = Field(default_factory=list)


def _clip(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class _Checked:
    """What the checker of one field found: the field's status, the values to change, and
    what was dropped (with the reasons the model is re-asked with)."""

    status: dict[str, str]
    update: dict[str, object]
    dropped: list[Dropped]


def _check_phrases(summary: Extraction, text: PreparedText) -> _Checked:
    """``task`` and ``method``: (near-)verbatim phrases of the abstract, else None."""
    out = _Checked({}, {}, [])
    for name in ("task", "method"):
        value: str | None = getattr(summary, name)
        if value is None or not value.strip():
            out.status[name] = "empty"
        elif phrase_occurs(value, text) or span_occurs(value, text):
            out.status[name] = "ok"
        else:
            out.status[name], out.update[name] = "dropped", None
            out.dropped.append(
                Dropped(field=name, value=_clip(value),
                        reason="this is not a phrase of the abstract; copy a short phrase from it, or null")
            )  # fmt: skip
    return out


def _check_name(summary: Extraction, text: PreparedText) -> _Checked:
    """``method_name``: verbatim in the abstract, else None."""
    name = summary.method_name
    if name is None or not name.strip():
        return _Checked({"method_name": "empty"}, {}, [])
    if phrase_occurs(name, text):
        return _Checked({"method_name": "ok"}, {}, [])
    reason = "this name does not occur in the abstract; copy the name exactly as written, or null"
    return _Checked({"method_name": "dropped"}, {"method_name": None}, [Dropped(field="method_name", value=name, reason=reason)])


def _gain_problems(gain: ClaimedGain, field: str, text: PreparedText) -> list[Dropped]:
    """Why a gain cannot stand at all: its number or magnitude is not the abstract's, or
    its evidence is not a span of it."""
    problems: list[Dropped] = []
    if not numbers_in(gain.value):
        problems.append(Dropped(field=f"{field}.value", value=gain.value,
                                reason="the value has no number; give the number exactly as written, or leave the gain out"))  # fmt: skip
    elif not number_occurs(gain.value, text):
        missing = [n for n in numbers_in(gain.value) if n not in text.numbers]
        problems.append(Dropped(field=f"{field}.value", value=gain.value,
                                reason=f"the number {', '.join(missing)} does not occur in the abstract; copy numbers exactly"))  # fmt: skip
    if gain.magnitude is not None and not magnitude_occurs(gain.magnitude, text):
        problems.append(Dropped(field=f"{field}.magnitude", value=repr(gain.magnitude),
                                reason="this number does not occur in the abstract; give the number of the value as written"))  # fmt: skip
    if not span_occurs(gain.evidence, text):
        problems.append(Dropped(field=f"{field}.evidence", value=_clip(gain.evidence),
                                reason="the evidence is not a span of the abstract; copy the clause verbatim"))  # fmt: skip
    return problems


def _check_gains(summary: Extraction, text: PreparedText) -> _Checked:
    """Each gain: removed when it cannot stand (:func:`_gain_problems`); its metric and
    dataset cleared when they are not in the abstract."""
    out = _Checked({}, {}, [])
    gains, changed = [], False
    for i, gain in enumerate(summary.claimed_gains):
        field = f"claimed_gains[{i}]"
        if problems := _gain_problems(gain, field, text):
            out.dropped.extend(problems)
            changed = True
            continue
        if gain.metric.strip() and not span_occurs(gain.metric, text):
            out.dropped.append(Dropped(field=f"{field}.metric", value=_clip(gain.metric),
                                       reason="this metric is not named in the abstract; copy its name exactly, or leave it empty"))  # fmt: skip
            gain, changed = gain.model_copy(update={"metric": ""}), True
        if gain.dataset is not None and not phrase_occurs(gain.dataset, text):
            out.dropped.append(Dropped(field=f"{field}.dataset", value=gain.dataset,
                                       reason="this dataset does not occur in the abstract; copy its name exactly, or null"))  # fmt: skip
            gain, changed = gain.model_copy(update={"dataset": None}), True
        gains.append(gain)
    if not summary.claimed_gains:
        out.status["claimed_gains"] = "empty"
    else:
        out.status["claimed_gains"] = "dropped" if not gains else "partial" if changed else "ok"
    if changed:
        out.update["claimed_gains"] = gains
    return out


def _check_code_link(summary: Extraction, links: Sequence[Link]) -> _Checked:
    """``code_link``: one of the links found in the abstract, else the link finder's best
    code link (filled in when the model gave none)."""
    link, best = summary.code_link, best_code_link(links)
    found: dict[str, str] = {}
    for found_link in links:
        found.setdefault(url_key(found_link.url), found_link.url)
    if link is None or not link.strip():
        update: dict[str, object] = {"code_link": best} if best or link is not None else {}
        return _Checked({"code_link": "filled" if best else "empty"}, update, [])
    if (match := found.get(url_key(link))) is not None:
        return _Checked({"code_link": "ok"}, {"code_link": match} if match != link else {}, [])
    choice = f"use {best}" if best else "use null"
    reason = f"this URL does not occur in the abstract; {choice} (only the abstract's URLs count)"
    status = "replaced" if best else "dropped"
    return _Checked({"code_link": status}, {"code_link": best}, [Dropped(field="code_link", value=link, reason=reason)])


def ground(summary: Extraction, abstract: str, links: Sequence[Link]) -> Grounded:
    """Check *summary* against *abstract* and the *links* found in it (see the module):
    one checker per field. ``contribution`` and ``summary`` are ``unchecked`` here (the
    correctness pass and the summary gate see to them)."""
    text = prepare(abstract)
    checked = [_check_phrases(summary, text), _check_name(summary, text), _check_gains(summary, text),
               _check_code_link(summary, links)]  # fmt: skip
    status = {k: v for c in checked for k, v in c.status.items()}
    update = {k: v for c in checked for k, v in c.update.items()}
    status["contribution"] = "unchecked"
    status["summary"] = "unchecked"
    cleaned = summary.model_copy(update=update) if update else summary
    return Grounded(summary=cleaned, grounding=status, dropped=[d for c in checked for d in c.dropped])
