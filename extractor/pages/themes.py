"""The themes of a day: its papers grouped by topic, without a model.

A theme is a phrase of one to three words that several of the day's papers share and few
others do, and the papers that hold it. Each paper's phrases are the word n-grams of its
title, task, method, method name and abstract, never crossing punctuation, never starting or
ending on a function word or a filler ("a novel", "of the"), and never made only of the words
every abstract uses ("model", "results", "propose"). Phrases are compared by a key (lower
case, a plural's last word made singular), so "Knowledge Editing" and "knowledge editing"
are one phrase.

The themes are chosen greedily, like TF-IDF keywords that must also cover papers: each round
takes the phrase with the highest ``papers not yet in a theme that hold it x log(1 + N / df) x
length bonus`` (``df``: the day's papers that hold it; a phrase of two words counts 1.6 times,
of three 1.9 times; one found in a title or task 1.3 times), makes those papers a theme, and
goes on while a phrase still covers :func:`min_size` papers, up to ``limit`` themes. A phrase
held by more than 60% of the day's papers names nothing in particular and is never a theme. A
paper is in at most one theme; the rest are in none.

Each theme is named by the phrase as it is most often written in its papers: the name
occurs in every paper of the theme. Days of more than :data:`ABSTRACT_LIMIT` papers use
titles, tasks, methods and names only (a 10,000-paper page is written in seconds).

Example:
    >>> docs = [ThemeDoc("a", "Long-context alignment", "We align long context models."),
    ...         ThemeDoc("b", "Why long context fails", "Long context windows fall short."),
    ...         ThemeDoc("c", "Frame interpolation", "We interpolate video frames."),
    ...         ThemeDoc("d", "Batch sizes for contrastive loss", "We scale the batch.")]
    >>> [(t.name, t.ids) for t in themes(docs)]
    [('long context', ['a', 'b'])]
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..evidence.words import FILLERS, FUNCTION_WORDS, is_nounish, word_classes

__all__ = ["ABSTRACT_LIMIT", "Theme", "ThemeDoc", "count_background", "min_size", "themes"]

ABSTRACT_LIMIT = 1000
MAX_SHARE = 0.6
MAX_KEYNESS = 10.0
MIN_KEYNESS = 2.0
_LENGTH_BONUS = {1: 1.0, 2: 1.6, 3: 1.9}
_TITLE_BONUS = 1.3

# Words of every abstract: part of a phrase, never a phrase alone or at its edges.
_GENERIC = frozenset(
    """model models method methods approach approaches framework frameworks result results performance paper papers work
    works study studies task tasks data dataset datasets problem problems technique techniques system systems experiment
    experiments evaluation analysis benchmark benchmarks baseline baselines art state-of-the-art sota setting settings
    way ways use using used based show shows shown demonstrate demonstrates demonstrated propose proposes introduce
    introduces present presents achieve achieves achieved improve improves improved outperform outperforms significantly
    significant extensive code available github https http www com org recent recently existing prior previous
    large small high low good better best strong key important challenging challenge challenges issue issues ability
    abilities capability capabilities number numbers amount level levels range form forms type types set sets part parts
    case cases example examples term terms paradigm paradigms process processes stage stages step steps aim aims goal
    goals effect effects impact insight insights finding findings source open""".split()
)
_SAME_PLURAL = frozenset("series species".split())
_STOP = FUNCTION_WORDS | FILLERS | _GENERIC
# What a phrase of several words never ends on: a generic noun may ("diffusion models").
_EDGE_STOP = FUNCTION_WORDS | FILLERS | (_GENERIC - frozenset(
    "model models system systems data dataset datasets benchmark benchmarks framework frameworks".split()))
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['’][A-Za-z0-9]+)*")
_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”/]|\s[-–—]+\s|--|-\s|\s-")


@dataclass(frozen=True)
class ThemeDoc:
    """A paper as the theme finder reads it: its id, its title (and task, method and name:
    the ``named`` text, where a phrase counts more) and its abstract."""

    id: str
    named: str
    abstract: str = ""


@dataclass
class Theme:
    """A theme: its name (a phrase of its papers), the key it was matched by, and its papers' ids."""

    name: str
    key: str
    ids: list[str] = field(default_factory=list)


def min_size(papers: int) -> int:
    """The fewest papers a theme has: 2, or 2% of the day's papers when that is more."""
    return max(2, round(papers * 0.02))


def _key(word: str) -> str:
    """A word's key: lower case, a plural made singular."""
    low = word.lower().replace("’", "'")
    low = low.removesuffix("'s")
    if low in _SAME_PLURAL:
        return low
    if len(low) > 4 and low.endswith("ies"):
        return low[:-3] + "y"
    if len(low) > 3 and low.endswith("s") and not low.endswith(("ss", "us", "is", "ics")):
        return low[:-1]
    return low


@functools.lru_cache(maxsize=65536)
def _word(word: str) -> tuple[str, bool, bool, bool, bool, bool]:
    """What the phrase finder needs of a word, computed once: ``(key, never at an edge,
    never at the end of a longer phrase, may start a phrase, may be a phrase alone, may
    end a phrase)``."""
    key, low = _key(word), word.lower()
    stop = low in _STOP or key in _STOP or len(key) < 2
    weak = low in _EDGE_STOP or len(key) < 2
    # A title's capital is no name: "Made" in "Image Segmentation Made Fast" is a verb.
    plain = low if word.istitle() and word_classes(low) else word
    ends = low not in FILLERS and is_nounish(plain)
    return key, stop, weak, not stop and not _verb_only(plain), not stop and _alone(word), ends


def _phrases(text: str) -> Iterable[tuple[str, str]]:
    """``(key, as written)`` of every occurrence of a candidate phrase in ``text``. The
    parts of a hyphenated word are words ("long-context window" holds "long context"), and
    a phrase is shown as written ("long-context"). A phrase ends as a noun phrase can
    (:func:`~extractor.evidence.words.ends_whole`: "graph mining", not "tools for ensuring")."""
    for clause in _BREAK.split(text):
        found = list(_WORD.finditer(clause))
        info = [_word(m.group(0)) for m in found]
        for i, first in enumerate(info):
            if not first[3]:
                continue
            if first[4] and first[5]:
                yield first[0], found[i].group(0)
            for j in (i + 1, i + 2):
                if j >= len(info):
                    break
                last = info[j]
                if j == i + 2 and (mid := found[i + 1].group(0).lower()) in FUNCTION_WORDS and mid != "of":
                    break
                if last[2]:
                    continue
                prev = found[j - 1].group(0).lower()
                ing = found[j].group(0).lower().endswith("ing") and prev not in FUNCTION_WORDS
                if last[5] or ing:
                    shown = clause[found[i].start() : found[j].end()]
                    yield " ".join(k[0] for k in info[i : j + 1]), " ".join(shown.split())


def _verb_only(word: str) -> bool:
    """A verb form that is nothing else ("enables", "allows"): no phrase starts on one."""
    classes = word_classes(word) if word.islower() else frozenset()
    return "VERB" in classes and not classes & {"NOUN", "ADJ"}


def _alone(word: str) -> bool:
    """Whether one word may be a theme: an acronym or a name with capitals or digits
    ("RLHF", "LLMs", "GPT-4", "MoE"), or a word that can only be a noun, of six letters
    or more ("hallucination", "diffusion"); not a word of several parts of speech
    ("training", "language", "learning")."""
    if sum(c.isupper() for c in word) >= 2 or any(c.isdigit() for c in word):
        return not word.isdigit()
    return len(word) >= 6 and word_classes(word.lower()) == frozenset({"NOUN"})


def themes(docs: Sequence[ThemeDoc], limit: int = 8) -> list[Theme]:
    """The themes of ``docs`` (see the module docstring), largest first."""
    total = len(docs)
    smallest = min_size(total)
    if total < smallest * 2:
        return []
    holders: dict[str, set[int]] = defaultdict(set)
    in_named: dict[str, int] = Counter()
    said: Counter[str] = Counter()  # occurrences, over all the papers
    written: dict[str, Counter[str]] = defaultdict(Counter)
    use_abstracts = total <= ABSTRACT_LIMIT
    for index, doc in enumerate(docs):
        named = list(_phrases(doc.named))
        found = list(_phrases(doc.abstract)) if use_abstracts else []
        for key, text in found:
            written[key][text] += 1
        in_abstract = {key for key, _ in found}
        for key, text in named:
            written[key][text] += 0 if key in in_abstract else 1  # a title's Title Case only when nothing else says it
        for key in {key for key, _ in named}:
            in_named[key] += 1
        for key, _ in named + found:
            said[key] += 1
            holders[key].add(index)
    most = max(smallest, int(total * MAX_SHARE))
    background, seen_in = _background()
    weight: dict[str, float] = {}
    for key, ids in holders.items():
        keyness = len(ids) / total / ((background.get(key, 0) + 0.5) / seen_in)
        if smallest <= len(ids) <= most and in_named[key] and keyness >= MIN_KEYNESS:
            weight[key] = (math.log(1 + min(keyness, MAX_KEYNESS)) * _LENGTH_BONUS[key.count(" ") + 1]
                           * (_TITLE_BONUS if in_named[key] * 2 >= len(ids) else 1.0)
                           * (1 + 0.25 * math.log(said[key] / len(ids))))  # fmt: skip
    candidates = {key: holders[key] for key in weight}
    taken: set[int] = set()
    chosen: list[Theme] = []
    while candidates and len(chosen) < limit:
        best, best_score = None, 0.0
        for key, ids in candidates.items():
            free = len(ids - taken)
            if free < smallest:
                continue
            score = free * weight[key]
            if score > best_score or (score == best_score and best is not None and key < best):
                best, best_score = key, score
        if best is None:
            break
        members = sorted(candidates.pop(best) - taken)
        taken.update(members)
        chosen.append(Theme(name=_name(written[best]), key=best, ids=[docs[i].id for i in members]))
    chosen.sort(key=lambda t: (-len(t.ids), t.name.lower()))
    return chosen


def count_background(texts: Iterable[str]) -> dict[str, Any]:
    """The background table of ``texts`` (one per paper: title and abstract): how many hold
    each phrase, for the phrases held by 3 or more. ``background.json`` is this table of the
    544 papers of ``seeds/``::

        python -c "import json; from extractor.records.listings import survey; from extractor.pages.themes import count_background; \\
        print(json.dumps(count_background(p.title + '. ' + p.abstract for p in survey(['seeds']).papers), sort_keys=True))" \\
        > extractor/pages/background.json
    """
    held: Counter[str] = Counter()
    papers = 0
    for text in texts:
        papers += 1
        held.update({key for key, _ in _phrases(text)})
    return {"papers": papers, "df": {key: n for key, n in held.items() if n >= 3}}


@functools.cache
def _background() -> tuple[dict[str, int], int]:
    """How many of the seed abstracts hold each phrase (those held by 3 or more), and how
    many abstracts there are: what every abstract says, against which a day's phrases stand out."""
    from importlib.resources import files

    data = json.loads(files(__package__).joinpath("background.json").read_text(encoding="utf-8"))
    return data["df"], data["papers"]


def _name(forms: Counter[str]) -> str:
    """The phrase as most often written; on a tie, the form with fewer capitals (so
    "knowledge editing" over a title's "Knowledge Editing")."""
    return min(forms.items(), key=lambda kv: (-kv[1], sum(c.isupper() for c in kv[0]), kv[0]))[0]
