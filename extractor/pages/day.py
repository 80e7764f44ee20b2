"""The day at the top of a page: a short summary built from facts, and its themes with their papers.

Nothing here is written by a model. Each sentence of the summary is a fact of the day's
cards, and every paper it names is cited by id (a link to its card):

* how many papers, how many new today and how many still listed from earlier days, and how
  many could not be read;
* the themes (:mod:`~extractor.pages.themes`) and their sizes;
* the most upvoted papers;
* how many link their code, and the most upvoted of those;
* the largest claimed gains: the largest "N x" and the largest "N %" (or points) among the
  gains that say they improve on something, as shown on the cards;
* the papers on the reader's watchlist.

A sentence is a list of parts: ``{"text": ...}`` or ``{"ref": id, "title": ..., "href": ...}``;
the HTML and Markdown templates escape each.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date as date_
from typing import Any

from ..schema import Record
from .cards import shorten
from .themes import Theme, ThemeDoc, themes

__all__ = ["day_facts", "day_label", "day_themes"]

Part = dict[str, Any]


def day_label(day: str) -> str:
    """``2024-10-28`` as "Monday 28 October 2024" (the text itself when it is no day)."""
    try:
        when = date_.fromisoformat(day)
    except ValueError:
        return day
    return f"{when:%A} {when.day} {when:%B %Y}"


def day_themes(records: Sequence[Record]) -> list[Theme]:
    """The themes of the day's successful records (title, task, method and name count more
    than the abstract)."""
    docs = []
    for rec in records:
        ex = rec.extraction
        named = " . ".join(t for t in (rec.title, *((ex.task, ex.method, ex.method_name) if ex else ())) if t)
        docs.append(ThemeDoc(rec.id, named, rec.abstract))
    return themes(docs)


def _ref(card: Mapping[str, Any]) -> Part:
    return {"ref": card["id"], "title": shorten(" ".join(card["title"].split()), 90), "href": card["href"]}


def _listing(cards: Sequence[Mapping[str, Any]], most: int = 3) -> list[Part]:
    """``<a>, <b> and <c>`` (and "N more" past ``most``)."""
    parts: list[Part] = []
    shown = list(cards[:most])
    for i, card in enumerate(shown):
        if i:
            parts.append({"text": " and " if i == len(shown) - 1 and len(cards) <= most else ", "})
        parts.append(_ref(card))
    if len(cards) > most:
        parts.append({"text": f" and {len(cards) - most} more"})
    return parts


def _upvotes(card: Mapping[str, Any]) -> int:
    meta = card.get("meta") or {}
    return meta.get("upvotes") or 0


_TIMES = re.compile(r"(\d+(?:\.\d+)?)\s*(?:x|×|times)\b", re.IGNORECASE)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(%|percent|points?|pp)\b", re.IGNORECASE)


def _largest_gains(cards: Sequence[Mapping[str, Any]], records: Mapping[str, Record]) -> list[Part]:
    """The largest "N x" and "N %" gains claimed as improvements, among those shown."""
    best: dict[str, tuple[float, Mapping[str, Any], Mapping[str, Any]]] = {}
    for card in cards:
        rec = records.get(card["id"])
        kinds = {g.value: g.kind for g in rec.extraction.claimed_gains} if rec and rec.extraction else {}
        for gain in card["gains"]:
            if kinds.get(gain["value"]) == "score":
                continue  # an absolute result, not a gain over something
            for unit, pattern in (("x", _TIMES), ("%", _PERCENT)):
                found = pattern.search(gain["value"])
                if found and (unit not in best or float(found.group(1)) > best[unit][0]):
                    best[unit] = (float(found.group(1)), gain, card)
    parts: list[Part] = []
    for unit in ("x", "%"):
        if unit in best:
            _, gain, card = best[unit]
            parts += [{"text": "; " if parts else ""}, {"text": f"{gain['value']} {gain['metric']}".strip() + " ("},
                      _ref(card), {"text": ")"}]  # fmt: skip
    return parts


def day_facts(
    cards: Sequence[Mapping[str, Any]],
    records: Mapping[str, Record],
    found: Sequence[Theme],
    *,
    day: str,
    failed: int = 0,
) -> list[list[Part]]:
    """The summary of the day: sentences of facts, each a list of parts (see the module
    docstring). ``cards`` are the shown cards, ``records`` the records by id."""
    facts: list[list[Part]] = []
    seen = [c["seen"] for c in cards if c.get("seen")]
    count = f"{len(cards)} paper{'s' if len(cards) != 1 else ''}"
    if seen:
        new = sum(1 for s in seen if s["new"]) + len(cards) - len(seen)
        still = len(cards) - new
        text = f"{count} on {day_label(day)}: {new} new today, {still} still listed from earlier days"
    else:
        text = f"{count} on {day_label(day)}"
    facts.append([{"text": text + (f"; {failed} could not be read." if failed else ".")}])
    if found:
        names = ", ".join(f"{t.name} ({len(t.ids)})" for t in found[:5])
        facts.append([{"text": f"Theme{'s' if len(found) > 1 else ''}: {names}" + (", …" if len(found) > 5 else "") + "."}])
    voted = sorted((c for c in cards if _upvotes(c) > 0), key=lambda c: (-_upvotes(c), c["n"]))
    if voted:
        parts: list[Part] = [{"text": "Most upvoted: "}]
        for i, card in enumerate(voted[:3]):
            if i:
                parts.append({"text": ", then " if i == 1 else " and "})
            parts += [_ref(card), {"text": f" (▲ {_upvotes(card)})"}]
        facts.append(parts + [{"text": "."}])
    coded = [c for c in cards if c["status"] == "linked" or any(l["kind"] == "GitHub" for l in (c.get("meta") or {}).get("links", []))]
    if cards:
        coded.sort(key=lambda c: (-_upvotes(c), c["n"]))
        parts = [{"text": f"{len(coded)} of {len(cards)} link their code" + (": " if coded else ".")}]
        if coded:
            facts.append(parts + _listing(coded) + [{"text": "."}])
        else:
            facts.append(parts)
    gains = _largest_gains(cards, records)
    if gains:
        facts.append([{"text": "Largest claimed gains: "}, *gains, {"text": "."}])
    watched = [c for c in cards if c.get("watch")]
    if watched:
        facts.append([{"text": f"On your watchlist ({len(watched)}): "}, *_listing(watched, 5), {"text": "."}])
    return facts
