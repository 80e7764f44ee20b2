"""The gold file of ``extractor eval`` and the records scored against it.

The gold file is JSON Lines, one paper a line (the format of ``../shared/eval`` next to
the checkout; see the README next to it): ``id``, ``source``, ``title``, ``abstract``,
``fields_annotated`` and ``gold`` with ``task``, ``method``, ``claimed_gains`` and
``code_link`` (``null`` = not annotated, ``[]`` = annotated and empty). Here are its
models, :func:`load_gold` and :func:`load_records` (a bad line raises
:class:`~extractor.errors.InputError` naming file and line) and :func:`gold_sample`, the
reproducible sample two runs are compared on. How records are scored against it is
:mod:`~extractor.eval.score`. It imports nothing from the package but
:mod:`~extractor.errors`, :mod:`~extractor.records.jsonl` and :mod:`~extractor.schema`, so the
scorer does not load the code it scores.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import InputError
from ..records.jsonl import first_error, read_jsonl
from ..schema import Record

__all__ = [
    "FIELDS",
    "FieldName",
    "GoldFields",
    "GoldGain",
    "GoldPaper",
    "gold_sample",
    "load_gold",
    "load_records",
]


FieldName = Literal["task", "method", "claimed_gains", "code_link"]

#: The scored fields, in report order.
FIELDS: tuple[FieldName, ...] = ("task", "method", "claimed_gains", "code_link")


class GoldGain(BaseModel):
    """One gold result value (SciREX). Only ``value`` is scored."""

    model_config = ConfigDict(extra="ignore")

    metric: str | None = None
    value: str
    baseline: str | None = None
    dataset: str | None = None
    method: str | None = None
    task: str | None = None


class GoldFields(BaseModel):
    """Gold labels of one paper: ``None`` = not annotated, ``[]`` = annotated, nothing."""

    model_config = ConfigDict(extra="ignore")

    task: list[str] | None = None
    method: list[str] | None = None
    claimed_gains: list[GoldGain] | None = None
    code_link: list[str] | None = None


class GoldPaper(BaseModel):
    """One line of the gold file (``source_split``, ``aux`` and ``notes`` are not kept)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    source: str
    title: str | None = None
    abstract: str
    fields_annotated: list[FieldName]
    gold: GoldFields

    def scored_fields(self) -> list[FieldName]:
        """The fields to score for this paper: annotated and not ``null`` in gold."""
        return [f for f in FIELDS if f in self.fields_annotated and getattr(self.gold, f) is not None]


M = TypeVar("M", bound=BaseModel)


def _read_models(path: str | Path, model: type[M], what: str, noun: str) -> Iterator[tuple[int, M]]:
    """``(line number, model)`` for each line of a ``what`` JSONL file; the first line that
    is not JSON or not a ``noun`` raises :class:`InputError` naming the file and line."""
    for lineno, obj in read_jsonl(path, what):
        try:
            yield lineno, model.model_validate(obj)
        except ValidationError as exc:
            raise InputError(str(path), f"not a {noun}: {first_error(exc)}", lineno) from exc


def load_gold(path: str | Path) -> list[GoldPaper]:
    """Read a gold JSONL file. Raises :class:`InputError` naming the file and line on a
    malformed line, a duplicate id, or a file without any paper."""
    papers: list[GoldPaper] = []
    seen: dict[str, int] = {}
    for lineno, paper in _read_models(path, GoldPaper, "gold", "gold record"):
        if paper.id in seen:
            raise InputError(str(path), f"duplicate id {paper.id!r} (first on line {seen[paper.id]})", lineno)
        seen[paper.id] = lineno
        papers.append(paper)
    if not papers:
        raise InputError(str(path), "no gold records in file")
    return papers


def load_records(path: str | Path) -> dict[str, Record]:
    """Read an output JSONL file of :class:`Record` lines into ``{id: record}``.
    A later line with the same id replaces an earlier one."""
    return {rec.id: rec for _, rec in _read_models(path, Record, "record", "record")}


def gold_sample(gold: list[GoldPaper], sample: int | None = None, seed: int = 0) -> list[GoldPaper]:
    """A reproducible sample of ``sample`` gold papers (all of them when ``None``), in
    file order, so two models can be compared on the same papers."""
    if sample is None or sample >= len(gold):
        return gold
    chosen = set(random.Random(seed).sample(range(len(gold)), sample))
    return [paper for i, paper in enumerate(gold) if i in chosen]
