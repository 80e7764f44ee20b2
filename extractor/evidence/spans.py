"""Grounded by construction: the model chooses among spans of the abstract.

Checking values after the fact throws answers away; with ``--grounding span`` the model
never writes a name, task, dataset or number at all. For each paper this module builds
candidate spans deterministically and offers them as ``enum`` choices in a per-paper
schema, so every such value is in the abstract by construction and the server's grammar
makes the choice cheap (a few tokens instead of free text):

* **names** (``method_name``, datasets): tokens with inner capitals or digits
  (``DeepSeekMoE``, ``EVE``, ``FinMTEB``, ``Kinetics-400``), acronyms defined in
  parentheses, and the part of the title before a colon;
* **phrases** (``task``, ``method``): what follows "we propose/introduce/present ...",
  "for/on/address ...", and noun-phrase chunks — runs of words between stopwords and
  punctuation — title chunks first;
* **numbers** (gain values): numbers with their unit (``4.5x``, ``+0.8%``, ``72
  percent``), never years or digits glued to a name (``ResNet-50``), each with the clause
  around it, which becomes the gain's ``evidence``.

Each list is capped (:data:`MAX_CHOICES`) so large enums cannot break cloud endpoints;
``"none"`` is always a choice where a value may be absent. Summary, contribution and the
metric stay free text, bounded in length; a metric is then grounded like every value
(:func:`extractor.evidence.grounding.ground` clears one that is not in the abstract).

Example:
    >>> c = candidates("EVE: Encoder-Free Vision-Language Models",
    ...                "We present EVE, which improves accuracy by 4.5% on VQAv2.")
    >>> c.names[:2], [n.text for n in c.numbers]
    (['EVE', 'VQAv2'], ['4.5%'])
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from ..schema import MAX_GAINS, ClaimedGain, Contribution, Extraction, Name, Summary
from .text import clauses, number_value

__all__ = ["MAX_CHOICES", "Candidates", "NumberSpan", "candidates", "choice_model", "grammar_safe", "spans_schema_key", "to_summary"]

#: Most choices offered per field. Keeps per-paper schemas small for every server.
MAX_CHOICES = 24
NONE = "none"

_STOP = frozenset(
    """a an the of for to in on with and or by from as at via into over under than then this that these those
    we our us it its their they them is are was were be been being has have had do does did can could may might
    will would should shall not no nor but also both either each such which who whom whose what when where while
    how why here there more most less least very much many few some any all other another same new novel
    propose proposes proposed present presents presented introduce introduces introduced show shows shown
    demonstrate demonstrates achieve achieves achieved outperform outperforms using use used based paper work
    approach method methods model models results experiments extensive significantly significant state art
    existing however moreover furthermore specifically first second finally i.e e.g et al without within across
    between among through about up out only even well further make makes made enable enables allow allows""".split()
)
_WORD = re.compile(r"[A-Za-z][\w\-]*[\w]|[A-Za-z]")
_CHUNK_BREAK = re.compile(r"[,.;:!?()\[\]{}\"“”]|\s-\s|\s–\s")
_NAME = re.compile(r"\b(?:[A-Z][a-z0-9]*[A-Z0-9][\w\-]*|[A-Z]{2,}[\w\-]*|[A-Za-z]+-\d[\w.\-]*)")
_DEFINED = re.compile(r"\(([A-Z][\w\-]*[A-Z0-9][\w\-]*)\)")
_PROPOSE = re.compile(
    r"\b(?:we|this paper|this work)\s+(?:propose|introduce|present|develop|design|build|release|study)s?\s+(.+?)(?=[,.;:(]|\s(?:that|which|to|for|by|with)\s|$)",
    re.I,
)
_TASK_CUE = re.compile(r"\b(?:for|on|address(?:es|ing)?|tackl(?:e|es|ing)|improv(?:e|es|ing))\s+(.+?)(?=[,.;:(]|\s(?:by|with|using|that|which|and)\s|$)", re.I)
_NUMBER = re.compile(
    r"(?<![\w.\-])[+\-−±]?\d+(?:[.,]\d+)*(?:\s?(?:%|×|x\b|times\b|percent\b|points?\b|pp\b|fold\b|[kKMB]\b))?"
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_DIGIT = re.compile(r"\d")
# What grammar_safe refuses: a quote, a backslash, a control character.
_UNSAFE = re.compile(r'["\\\x00-\x1f]')


@dataclass(frozen=True)
class NumberSpan:
    """A number as written, with the clause around it (its evidence)."""

    text: str
    clause: str

    @property
    def magnitude(self) -> float | None:
        return number_value(self.text)

    @property
    def unit(self) -> str | None:
        unit = re.sub(r"[\d.,+\-−±\s]", "", self.text)
        return unit or None


@dataclass
class Candidates:
    """The spans one paper offers, by field."""

    names: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    numbers: list[NumberSpan] = field(default_factory=list)


def grammar_safe(text: str) -> bool:
    """Whether ``text`` can be an enum value for every server's grammar. Not a quote, a
    backslash or a control character: llama.cpp's JSON-schema-to-grammar conversion in
    llama-cpp-python 0.3 escapes them wrongly, the grammar fails to parse and the server
    crashes (seen here on a seed abstract quoting "closed-loop")."""
    return _UNSAFE.search(text) is None


def _add(bucket: list[str], seen: set[str], text: str, limit: int = MAX_CHOICES) -> None:
    text = " ".join(text.split()).strip(" -–")
    key = text.casefold()
    if (
        text
        and key not in seen
        and key != NONE
        and len(bucket) < limit
        and len(text) <= 80
        and grammar_safe(text)
    ):
        seen.add(key)
        bucket.append(text)


def _chunks(text: str) -> Iterator[str]:
    """Noun-phrase-like chunks: runs of 1-5 content words between stopwords/punctuation
    (made as they are taken: the phrases are full long before the abstract's end)."""
    for piece in _CHUNK_BREAK.split(text):
        run: list[str] = []
        for word in _WORD.findall(piece) + [""]:
            if word and word.casefold() not in _STOP and not word.isdigit():
                run.append(word)
                continue
            if run and (len(run) > 1 or len(run[0]) > 3):
                yield " ".join(run[:5])
            run = []


def _phrase_cue(match: str) -> str:
    words = match.split()
    while words and words[0].casefold() in {"a", "an", "the", "our", "new", "novel", "this"}:
        words = words[1:]
    return " ".join(words[:10])


def candidates(title: str, abstract: str) -> Candidates:
    """Build the candidate spans of one paper (see the module docstring). Each list stops
    being read once it is full (a full list takes nothing more)."""
    c = Candidates()
    seen_names: set[str] = set()
    head = title.split(":", 1)[0].strip() if ":" in title else ""
    if head and len(head.split()) <= 4 and head in abstract:
        _add(c.names, seen_names, head)
    for match in _DEFINED.finditer(abstract):
        _add(c.names, seen_names, match.group(1))
    for match in _NAME.finditer(abstract):
        if len(c.names) >= MAX_CHOICES:
            break
        name = match.group(0).rstrip("-.")
        if not _YEAR.match(name):
            _add(c.names, seen_names, name)

    seen_phrases: set[str] = set()
    for cue in (_PROPOSE, _TASK_CUE):
        for match in cue.finditer(abstract):
            _add(c.phrases, seen_phrases, _phrase_cue(match.group(1)))
    for chunk in chain(_chunks(title), _chunks(abstract)):
        if len(c.phrases) >= MAX_CHOICES * 2:
            break
        if chunk in abstract:  # title chunks count only when the abstract has them too
            _add(c.phrases, seen_phrases, chunk, limit=MAX_CHOICES * 2)
    c.phrases = c.phrases[: MAX_CHOICES * 2]

    seen_numbers: set[str] = set()
    for clause in clauses(abstract) if _DIGIT.search(abstract) else ():  # every number has a digit
        for match in _NUMBER.finditer(clause):
            if len(c.numbers) >= MAX_CHOICES:
                return c
            text = match.group(0).strip()
            if _YEAR.match(text) or text in seen_numbers:
                continue
            seen_numbers.add(text)
            c.numbers.append(NumberSpan(text=text, clause=clause.strip()[:300]))
    return c


def _choice(values: list[str], *, optional: bool) -> Any:
    options = tuple(values) + ((NONE,) if optional or not values else ())
    return Literal[options]  # type: ignore[valid-type]


def choice_model(c: Candidates) -> type[BaseModel]:
    """A per-paper response model whose name, phrase and number fields are enums of
    this paper's spans."""
    gain = create_model(
        "GainChoice",
        metric=(Name, Field(description="What is measured, e.g. 'accuracy', 'speed'.")),
        value=(_choice([n.text for n in c.numbers], optional=False), Field(description="The number, as written.")),
        dataset=(_choice(c.names, optional=True), Field(description="Dataset or benchmark; 'none' if not named.")),
    )
    return create_model(
        "PaperChoices",
        __doc__="Choose, among the spans of this abstract, what the paper addresses and proposes.",
        task=(_choice(c.phrases, optional=True), Field(description="The problem addressed.")),
        method=(_choice(c.phrases, optional=True), Field(description="What the paper proposes.")),
        method_name=(_choice(c.names, optional=True), Field(description="Name of the proposed method; 'none' if unnamed.")),
        claimed_gains=(list[gain] if c.numbers else list[None], Field(default_factory=list,  # type: ignore[valid-type]
                       description="Quantitative gains claimed; empty if none.",
                       # one gain per number of the abstract at most: a small model that loops
                       # on gains ("Eu ia ia ...", SmolLM2) stops at the abstract's numbers
                       json_schema_extra={"maxItems": min(MAX_GAINS, len(c.numbers))})),
        contribution=(Contribution, Field(description="The main kind of contribution.")),
        summary=(Summary, ...),
    )


def schema_hash(model: type[BaseModel]) -> str:
    """Short hash of a model's JSON Schema (part of the cache key)."""
    blob = json.dumps(model.model_json_schema(), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


_REFERENCE = Candidates(names=["N"], phrases=["p"], numbers=[NumberSpan(text="1", clause="1")])
_reference_hash: str | None = None


def spans_schema_key(c: Candidates) -> str:
    """Cache-key part standing for ``schema_hash(choice_model(c))`` without building the
    model: the schema is a function of the candidate texts and of :func:`choice_model`'s
    code, whose shape is captured by the schema of a fixed reference paper."""
    global _reference_hash
    if _reference_hash is None:
        _reference_hash = schema_hash(choice_model(_REFERENCE))
    blob = json.dumps(
        [_reference_hash, c.names, c.phrases, [n.text for n in c.numbers]], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def to_summary(choice: BaseModel | dict[str, Any], c: Candidates) -> Extraction:
    """Turn the model's choices (the model, or its JSON data as cached) into a
    :class:`Extraction` (``none`` becomes null; a gain's evidence is the clause its
    number came from)."""
    data = choice if isinstance(choice, dict) else choice.model_dump()
    clause = {n.text: n for n in c.numbers}

    def pick(key: str) -> str | None:
        value = data.get(key)
        return None if value in (None, NONE) else str(value)

    gains = []
    for g in data.get("claimed_gains") or []:
        if not g or g.get("value") not in clause:
            continue
        span = clause[g["value"]]
        gains.append(
            ClaimedGain(
                metric=g.get("metric") or "",
                value=span.text,
                magnitude=span.magnitude,
                unit=span.unit,
                dataset=None if g.get("dataset") in (None, NONE) else g["dataset"],
                evidence=span.clause,
            )
        )
    return Extraction(
        task=pick("task"),
        method=pick("method"),
        method_name=pick("method_name"),
        claimed_gains=gains,
        code_link=None,
        contribution=data["contribution"],
        summary=data["summary"],
    )
