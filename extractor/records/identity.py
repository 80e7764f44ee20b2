"""Which papers are the same: the duplicate keys of listings, runs and the library.

* :data:`ARXIV_ID`: an arXiv id without its version, the pattern every reader of ids shares;
* :func:`normalise_title`: the title key (case, punctuation and spacing do not count);
* :func:`paper_id`: a paper's id, its arXiv id when the text holds exactly one, else a
  hash of its normalised title;
* :func:`unique_copies`: the duplicate rule of ``extractor papers`` and ``extractor run``
  (which *record* of a paper counts is :mod:`extractor.records.latest`'s).

Example:
    >>> paper_id("T", "See arxiv.org/abs/2401.12345v2."), normalise_title("  Weak-to-Strong:  Reasoning! ")
    ('2401.12345', 'weak to strong reasoning')
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from functools import cache

from ..schema import Paper

__all__ = ["ARXIV_ID", "normalise_title", "paper_id", "unique_copies"]

ARXIV_ID = r"(?:\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})"
"""An arXiv id without its version: ``2401.01234`` or ``hep-th/9901001`` (match ignoring case)."""


@cache
def _arxiv() -> re.Pattern[str]:
    """An arXiv link or reference, its id in group 1: compiled on first use, as only a
    text that mentions arXiv needs it."""
    return re.compile(
        r"(?:\barxiv(?:\.org)?\s*[:/]\s*(?:abs/|pdf/|html/)?|\b(?:huggingface|hf)\.co/papers/)"
        rf"({ARXIV_ID})(?:v\d+)?",
        re.IGNORECASE,
    )


def normalise_title(title: str) -> str:
    """NFKC-normalised, casefolded title with punctuation and symbols removed and
    whitespace collapsed: the key for ids and de-duplication.

    Example:
        >>> normalise_title("  Weak-to-Strong:  Reasoning! ")
        'weak to strong reasoning'
    """
    text = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def paper_id(title: str, abstract: str = "") -> str:
    """The arXiv id the text holds (when it holds exactly one), else the first 12 hex of
    the sha1 of the normalised title (of the abstract when the title is empty).

    Example:
        >>> paper_id("T", "See arxiv.org/abs/2401.12345v2."), paper_id("The Title!") == paper_id("the title")
        ('2401.12345', True)
    """
    texts = [t for t in (title, abstract) if "arxiv" in t.lower() or "co/papers/" in t]  # fast path
    found = {m.group(1) for text in texts for m in _arxiv().finditer(text)}
    if len(found) == 1:
        return found.pop()
    key = normalise_title(title) or normalise_title(abstract)
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def unique_copies(papers: Iterable[Paper]) -> tuple[list[tuple[int, str]], int]:
    """The duplicate rule of ``extractor papers`` and ``extractor run``.

    Papers are the same when their normalised titles are equal (the id stands in for an
    empty title), or when the copies kept per title carry the same id (an arXiv id, or an
    ``id`` column). Of each group the copy with the longest abstract is kept (the first on
    a tie), at the place of the group's first copy. Returns the kept copies as
    ``(position, id)`` (1-based positions in ``papers``) in that order, and the number of
    papers read. Only a few numbers per distinct title are held, not the papers.
    """
    by_title: dict[str, tuple[int, int, str, int]] = {}  # title -> (length, position, id, first position)
    read = 0
    for read, paper in enumerate(papers, 1):
        key = normalise_title(paper.title) or paper.id
        length = len(paper.abstract)
        seen = by_title.get(key)
        if seen is None:
            by_title[key] = (length, read, paper.id, read)
        elif length > seen[0]:
            by_title[key] = (length, read, paper.id, seen[3])
    by_id: dict[str, tuple[int, int, int]] = {}  # id -> (length, position, first position)
    for length, position, pid, first in by_title.values():
        seen_id = by_id.get(pid)
        if seen_id is None:
            by_id[pid] = (length, position, first)
        else:
            best = max((length, -position), (seen_id[0], -seen_id[1]))
            by_id[pid] = (best[0], -best[1], min(first, seen_id[2]))
    kept = sorted((first, position, pid) for pid, (_, position, first) in by_id.items())
    return [(position, pid) for _, position, pid in kept], read
