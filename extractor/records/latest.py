"""Which record of a paper counts: the one rule of every place that holds records.

A paper may have several records where records are kept: a failed record and its retry in
an output file left by a killed run, the same paper in two files given to the digest, a
paper written by two runs into a Ray output directory. Of them, **the latest success
counts, else the latest record**. "Latest" is file order: for a directory of record files,
oldest file first, then line order. The record file's resume
(:mod:`~extractor.records.resume`), the digest (:mod:`~extractor.pages.digest`) and the Ray
output directories (:mod:`~extractor.ray.recorddir`) all keep what :func:`latest_copies`
picks, so they keep the same record of a paper.

Example:
    >>> latest_copies([("a", True), ("b", False), ("a", False), ("b", False), ("a", True)])
    {'a': 4, 'b': 3}
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["latest_copies"]


def latest_copies(copies: Iterable[tuple[str | None, bool]]) -> dict[str, int]:
    """Of the records of each paper, the latest that succeeded, else the latest.
    ``copies`` are ``(id, succeeded)`` in order, oldest first (an id of None, a CSV
    header or a torn line, is passed over); returns ``{id: index of the copy kept}``
    (0-based), in the order the ids first appear."""
    chosen: dict[str, tuple[int, bool]] = {}
    for index, (key, ok) in enumerate(copies):
        if key is None:
            continue
        previous = chosen.get(key)
        if previous is None or ok or not previous[1]:
            chosen[key] = (index, ok)
    return {key: index for key, (index, _) in chosen.items()}
