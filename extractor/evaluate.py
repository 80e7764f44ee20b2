"""Score extracted records against third-party gold (the format of ``../shared/eval`` next to the checkout).

The gold file is JSON Lines, one paper a line (see the README next to it): ``id``,
``source``, ``title``, ``abstract``, ``fields_annotated`` and ``gold`` with ``task``,
``method``, ``claimed_gains`` and ``code_link``. Records are matched to gold by ``id``
(the tool uses the gold ``id`` as the paper id when it runs on gold abstracts).

What is scored
--------------
Only the fields listed in ``fields_annotated`` are scored, and of those only the ones
whose gold value is not ``null`` (``null`` = not annotated, skipped; ``[]`` = annotated
and empty, so any prediction is a false positive).

* ``task`` -- ``extraction.task`` (one phrase) against the list of gold phrases.
* ``method`` -- ``extraction.method_name`` and ``extraction.method`` against the gold
  phrases; the paper matches if either of the two matches any gold phrase.

  Both are counted **per paper**: TP = 1 when the prediction matches any gold phrase;
  FP = 1 when there is a prediction and it matches none (also when gold is ``[]``);
  FN = 1 when gold is non-empty and nothing matched. Recall is therefore "share of
  papers with gold phrases where some gold phrase was found": a single predicted phrase
  cannot be expected to recall every phrase SciERC lists (it lists every method
  mentioned, not only the proposed one). An empty string is no prediction.

  **Lenient phrase match.** Both phrases are lowercased and split into runs of letters
  and digits (so punctuation and hyphens separate tokens: ``state - of - the - art`` ==
  ``state-of-the-art``); the stopwords in :data:`STOPWORDS` are dropped (unless that
  leaves nothing) and plurals are lightly stemmed (``-ies`` -> ``-y``, ``-sses`` ->
  ``-ss``, a final ``-s`` dropped unless the word ends in ``ss``/``us``/``is`` or has at
  most 3 letters). Two phrases match when the **token F1** (Dice coefficient of the token
  multisets, ``2|A∩B| / (|A|+|B|)``) is at least :data:`PHRASE_THRESHOLD` = 0.5.

* ``claimed_gains`` -- predicted gain values against gold ``value`` strings, counted
  **per value** with a one-to-one matching inside each paper. A value is reduced to its
  numbers (:func:`numbers_in`): ``%``, ``x``/``×``, ``+``/``-`` signs, units and words are
  ignored, thousands separators and spaces inside a number are removed, and numbers
  are compared as decimals (``71.8%`` == ``71.8 %`` == ``71.80`` == ``71.8``;
  ``16.0`` == ``16``; ``4.5x`` == ``×4.5`` == ``4.5``; a ratio ``3:1`` is ``(3, 1)``).
  Gold values are deduplicated per paper; gold values without a digit (SciREX has
  ``"-"``) cannot be matched and are skipped. A predicted gain matches a gold value when
  every number of the gold value occurs among the numbers of the predicted value (so
  ``from 73.8% to 82.3%`` can match gold ``82.3``) or, for a one-number gold value,
  equals the predicted ``magnitude``. Predicted gains are deduplicated by (numbers,
  magnitude); an unmatched predicted gain, including one without any number, is a FP.
  The gold is partial (other claims in an abstract may be unannotated), so **precision
  on this field is a lower bound**.

* ``code_link`` -- predicted URLs against gold URLs, per URL, exact after
  :func:`normalize_url`: all whitespace removed (NLPContributionGraph text is tokenised:
  ``https : //github.com/ foo / bar``), surrounding brackets/quotes and trailing
  ``.,;:`` removed, scheme and ``www.`` removed, host lowercased, trailing ``/`` and
  ``.git`` removed (path case is kept). The predicted URLs are ``extraction.code_link``
  plus every ``record.links`` entry of kind ``code``, deduplicated after normalisation.

A gold paper with no record counts as no prediction (FN wherever gold is non-empty) and
is counted as ``missing``; a record with an ``error`` (or without an extraction) likewise,
counted as ``failed``. Records whose id is not in the gold are counted as
``extra_records`` and otherwise ignored.

Scores are precision, recall and F1 with their TP/FP/FN counts, per field, per source
and overall (micro-averaged: counts summed over sources). A ratio with a zero
denominator is ``None`` (shown as ``-``); F1 is ``2TP / (2TP+FP+FN)``.

Grounding check
---------------
Independently of the gold, the report gives the share of emitted URLs
(``extraction.code_link`` and all ``record.links``) and of emitted numbers (every number
in every ``claimed_gains`` value) that occur in the record's own abstract -- it should
be 100 %. A URL is grounded when its normalised form, lowercased, is a substring of the
lowercased abstract with all whitespace removed. A number is grounded when it is among
the abstract's numbers, read both as written and with thousands separators (``5, 000``)
and spaces inside numbers (``0. 447``) removed. The number of values grounding dropped
(``len(record.dropped)``, summed, and per field) is reported too.

The thresholds are fixed constants, chosen once from the definition above and not tuned
to individual records.

The matching rules here (phrase tokens, numbers, URLs) are independent of the code it
scores, on purpose: they follow the gold's definition above, so a change to how the
extractor reads numbers or URLs (:mod:`extractor.text`) cannot move the yardstick too.
Only the reading of JSON Lines is shared (:mod:`extractor.jsonl`).

Example:
    >>> phrase_match("state - of - the - art parsers", "state-of-the-art parser")
    True
    >>> numbers_in("+0.8 % absolute"), numbers_in("4.5x"), numbers_in("1,000 images")
    (('0.8',), ('4.5',), ('1000',))
    >>> normalize_url("https : //github.com/ Foo / bar.git")
    'github.com/Foo/bar'
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from .errors import InputError
from .extract import open_extractor
from .jsonl import first_error, read_jsonl
from .links import best_code_link, code_status, find_links
from .output import RecordWriter
from .progress import Progress
from .schema import LinkKind, Paper, PaperSummary, Record, Source
from .settings import Settings

__all__ = [
    "FIELDS",
    "aextract_gold",
    "gold_sample",
    "links_only_records",
    "PHRASE_THRESHOLD",
    "STOPWORDS",
    "EvalReport",
    "FieldScore",
    "GoldFields",
    "GoldGain",
    "GoldPaper",
    "Grounding",
    "PaperCounts",
    "PaperOutcome",
    "Tally",
    "load_gold",
    "load_records",
    "normalize_url",
    "numbers_in",
    "phrase_match",
    "phrase_tokens",
    "score",
    "side_by_side",
    "token_f1",
]

FieldName = Literal["task", "method", "claimed_gains", "code_link"]

#: The scored fields, in report order.
FIELDS: tuple[FieldName, ...] = ("task", "method", "claimed_gains", "code_link")

#: Minimum token F1 for two phrases to match.
PHRASE_THRESHOLD = 0.5

#: Words dropped before comparing phrases (function words and "novel"-style fillers).
STOPWORDS = frozenset(
    """a an the of for in on at to and or with by via from using based into over under
    its their our this that these those we is are new novel proposed""".split()
)

OVERALL = "overall"


# --------------------------------------------------------------------------- gold


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


# ---------------------------------------------------------------- matching rules

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


def _canon(num: str) -> str:
    try:
        d = Decimal(num).normalize()
    except InvalidOperation:  # pragma: no cover - the regex only yields decimals
        return num
    return format(d, "f")


def _numbers(text: str) -> tuple[str, ...]:
    return tuple(_canon(n) for n in _NUMBER.findall(text))


def numbers_in(text: str) -> tuple[str, ...]:
    """The numbers in a value as canonical decimal strings, in order.

    Spaces inside a number and thousands separators are removed first; signs, ``%``,
    ``x``/``×`` and any other characters are ignored (``"×4.5"`` -> ``("4.5",)``).
    """
    text = _INNER_SPACE.sub(r"\1", text)
    return _numbers(_THOUSANDS.sub("", text))


def _abstract_numbers(abstract: str) -> set[str]:
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


# ------------------------------------------------------------------- the report


class Tally(BaseModel):
    """True positives, false positives and false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn


class FieldScore(Tally):
    """Counts for one field over a set of papers, with P/R/F1 (``None`` when undefined)."""

    papers: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def f1(self) -> float | None:
        denom = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denom if denom else None


class PaperCounts(BaseModel):
    """How many gold papers there were, and how many had no record or a failed one."""

    papers: int = 0
    missing: int = 0
    failed: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def scored(self) -> int:
        return self.papers - self.missing - self.failed


class Grounding(BaseModel):
    """Share of emitted URLs and numbers found in their abstract; values grounding dropped."""

    urls: int = 0
    urls_in_abstract: int = 0
    numbers: int = 0
    numbers_in_abstract: int = 0
    dropped: int = 0
    dropped_by_field: dict[str, int] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url_share(self) -> float | None:
        return self.urls_in_abstract / self.urls if self.urls else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def number_share(self) -> float | None:
        return self.numbers_in_abstract / self.numbers if self.numbers else None

    def add(self, other: Grounding) -> None:
        """Add another grounding count to this one."""
        self.urls += other.urls
        self.urls_in_abstract += other.urls_in_abstract
        self.numbers += other.numbers
        self.numbers_in_abstract += other.numbers_in_abstract
        self.dropped += other.dropped
        for k, v in other.dropped_by_field.items():
            self.dropped_by_field[k] = self.dropped_by_field.get(k, 0) + v


class PaperOutcome(BaseModel):
    """How one gold paper was scored, for error analysis."""

    id: str
    source: str
    status: Literal["ok", "missing", "failed"]
    fields: dict[str, Tally] = Field(default_factory=dict)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


class EvalReport(BaseModel):
    """Scores per field x source and overall, coverage, and the grounding check."""

    sources: list[str]
    by_source: dict[str, dict[str, FieldScore]]
    overall: dict[str, FieldScore]
    papers_by_source: dict[str, PaperCounts]
    papers: PaperCounts
    grounding_by_source: dict[str, Grounding]
    grounding: Grounding
    extra_records: int = 0
    phrase_threshold: float = PHRASE_THRESHOLD
    outcomes: list[PaperOutcome] = Field(default_factory=list)

    def to_dict(self, include_papers: bool = False) -> dict[str, object]:
        """A JSON-ready dict (for ``--json``); per-paper outcomes only when asked."""
        return self.model_dump(mode="json", exclude=None if include_papers else {"outcomes"})

    def to_markdown(self) -> str:
        """A readable report: a field x source table (P, R, F1 in %), coverage, grounding."""
        out = [
            "## Scores against gold",
            "",
            "| field | source | P | R | F1 | TP | FP | FN | papers |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]

        def row(field: str, source: str, s: FieldScore) -> str:
            return (
                f"| {field} | {source} | {_pct(s.precision)} | {_pct(s.recall)} | {_pct(s.f1)} "
                f"| {s.tp} | {s.fp} | {s.fn} | {s.papers} |"
            )

        for field in FIELDS:
            rows = [
                row(field, src, self.by_source[src][field])
                for src in self.sources
                if field in self.by_source.get(src, {}) and self.by_source[src][field].papers
            ]
            if not rows:
                continue
            out += rows
            total = self.overall[field]
            out.append(
                f"| **{field}** | **{OVERALL}** | **{_pct(total.precision)}** | **{_pct(total.recall)}** "
                f"| **{_pct(total.f1)}** | {total.tp} | {total.fp} | {total.fn} | {total.papers} |"
            )
        out += [
            "",
            f"Phrases (task, method) match at token F1 >= {self.phrase_threshold}; task and method are "
            "counted per paper, claimed_gains and code_link per value. claimed_gains gold is partial, "
            "so its precision is a lower bound.",
            "",
            "## Coverage",
            "",
            "| source | gold papers | scored | missing | failed |",
            "|---|---:|---:|---:|---:|",
        ]
        for src in [*self.sources, OVERALL]:
            c = self.papers if src == OVERALL else self.papers_by_source[src]
            out.append(f"| {src} | {c.papers} | {c.scored} | {c.missing} | {c.failed} |")
        if self.extra_records:
            out += ["", f"{self.extra_records} record(s) had an id not in the gold and were ignored."]
        g = self.grounding
        dropped = ", ".join(f"{k}: {v}" for k, v in sorted(g.dropped_by_field.items()))
        out += [
            "",
            "## Grounding",
            "",
            f"- URLs found in their abstract: {g.urls_in_abstract}/{g.urls} ({_pct(g.url_share)} %)",
            f"- numbers found in their abstract: {g.numbers_in_abstract}/{g.numbers} ({_pct(g.number_share)} %)",
            f"- values dropped by grounding: {g.dropped}" + (f" ({dropped})" if dropped else ""),
        ]
        return "\n".join(out) + "\n"


def side_by_side(report: EvalReport, baseline: EvalReport, label: str) -> str:
    """Markdown table of two reports on the same papers: per field and source, P / R / F1
    of this run next to the baseline's (e.g. the rules alone), and the F1 difference."""

    def prf(s: FieldScore) -> str:
        return f"{_pct(s.precision)} / {_pct(s.recall)} / {_pct(s.f1)}"

    out = [
        f"## This run vs {label}",
        "",
        f"| field | source | this run P / R / F1 | {label} P / R / F1 | F1 difference |",
        "|---|---|---:|---:|---:|",
    ]
    for field in FIELDS:
        for src in [*report.sources, OVERALL]:
            mine = report.overall[field] if src == OVERALL else report.by_source[src][field]
            theirs = baseline.overall[field] if src == OVERALL else baseline.by_source[src][field]
            if not mine.papers:
                continue
            diff = "-" if mine.f1 is None or theirs.f1 is None else f"{100 * (mine.f1 - theirs.f1):+.1f}"
            name = f"**{field}**" if src == OVERALL else field
            out.append(f"| {name} | {src} | {prf(mine)} | {prf(theirs)} | {diff} |")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------- scoring


def _score_phrases(preds: list[str], gold: list[str]) -> Tally:
    preds = [p for p in preds if p.strip()]
    hit = any(phrase_match(p, g) for p in preds for g in gold)
    return Tally(tp=int(hit), fp=int(bool(preds) and not hit), fn=int(bool(gold) and not hit))


def _bipartite(n_left: int, n_right: int, edge: dict[int, list[int]]) -> int:
    """Size of a maximum matching (augmenting paths; sizes here are tiny)."""
    owner: dict[int, int] = {}

    def augment(u: int, seen: set[int]) -> bool:
        for v in edge.get(u, []):
            if v in seen:
                continue
            seen.add(v)
            if v not in owner or augment(owner[v], seen):
                owner[v] = u
                return True
        return False

    return sum(augment(u, set()) for u in range(n_left))


def _score_gains(record: Record | None, gold: list[GoldGain]) -> Tally:
    gold_keys = list(dict.fromkeys(k for k in (numbers_in(g.value) for g in gold) if k))
    preds: list[tuple[tuple[str, ...], str | None]] = []
    if record is not None and record.extraction is not None:
        for gain in record.extraction.claimed_gains:
            mag = _canon(repr(abs(gain.magnitude))) if gain.magnitude is not None else None
            preds.append((numbers_in(gain.value), mag))
    preds = list(dict.fromkeys(preds))

    def fits(pred: tuple[tuple[str, ...], str | None], gk: tuple[str, ...]) -> bool:
        nums, mag = pred
        return all(n in nums for n in gk) or (len(gk) == 1 and mag == gk[0])

    edges = {i: [j for j, gk in enumerate(gold_keys) if fits(p, gk)] for i, p in enumerate(preds)}
    tp = _bipartite(len(preds), len(gold_keys), edges)
    return Tally(tp=tp, fp=len(preds) - tp, fn=len(gold_keys) - tp)


def _predicted_code_links(record: Record) -> list[str]:
    urls = [record.extraction.code_link] if record.extraction and record.extraction.code_link else []
    urls += [link.url for link in record.links if link.kind == LinkKind.code]
    return list(dict.fromkeys(u for u in (normalize_url(u) for u in urls) if u))


def _score_links(record: Record | None, gold: list[str]) -> Tally:
    gold_set = set(u for u in (normalize_url(g) for g in gold) if u)
    pred_set = set(_predicted_code_links(record)) if record is not None else set()
    tp = len(pred_set & gold_set)
    return Tally(tp=tp, fp=len(pred_set) - tp, fn=len(gold_set) - tp)


def _score_field(field: FieldName, record: Record | None, paper: GoldPaper) -> Tally:
    ext = record.extraction if record is not None else None
    if field == "task":
        return _score_phrases([ext.task or ""] if ext else [], paper.gold.task or [])
    if field == "method":
        preds = [ext.method_name or "", ext.method or ""] if ext else []
        return _score_phrases(preds, paper.gold.method or [])
    if field == "claimed_gains":
        return _score_gains(record, paper.gold.claimed_gains or [])
    return _score_links(record, paper.gold.code_link or [])


def _grounding(record: Record) -> Grounding:
    g = Grounding(dropped=len(record.dropped), dropped_by_field=dict(Counter(d.field for d in record.dropped)))
    ext = record.extraction
    if ext is None:
        return g
    flat = re.sub(r"\s+", "", record.abstract).lower()
    urls = [ext.code_link] if ext.code_link else []
    urls += [link.url for link in record.links]
    for url in dict.fromkeys(u for u in (normalize_url(u) for u in urls) if u):
        g.urls += 1
        g.urls_in_abstract += url.lower() in flat
    known = _abstract_numbers(record.abstract)
    for gain in ext.claimed_gains:
        for num in numbers_in(gain.value):
            g.numbers += 1
            g.numbers_in_abstract += num in known
    return g


def score(gold: list[GoldPaper], records: Mapping[str, Record]) -> EvalReport:
    """Score ``records`` (``{paper id: record}``) against ``gold``; see the module doc."""
    sources = list(dict.fromkeys(p.source for p in gold))
    by_source = {s: {f: FieldScore() for f in FIELDS} for s in sources}
    overall = {f: FieldScore() for f in FIELDS}
    papers_by_source = {s: PaperCounts() for s in sources}
    papers = PaperCounts()
    grounding_by_source = {s: Grounding() for s in sources}
    grounding = Grounding()
    outcomes: list[PaperOutcome] = []
    gold_ids = set()

    for paper in gold:
        gold_ids.add(paper.id)
        record = records.get(paper.id)
        status: Literal["ok", "missing", "failed"] = "ok"
        if record is None:
            status = "missing"
        elif not record.ok:
            status = "failed"
        for counts in (papers_by_source[paper.source], papers):
            counts.papers += 1
            counts.missing += status == "missing"
            counts.failed += status == "failed"
        if record is not None:
            g = _grounding(record)
            grounding_by_source[paper.source].add(g)
            grounding.add(g)
        usable = record if status == "ok" else None
        outcome = PaperOutcome(id=paper.id, source=paper.source, status=status)
        for field in paper.scored_fields():
            tally = _score_field(field, usable, paper)
            outcome.fields[field] = tally
            for target in (by_source[paper.source][field], overall[field]):
                target.add(tally)
                target.papers += 1
        outcomes.append(outcome)

    return EvalReport(
        sources=sources,
        by_source=by_source,
        overall=overall,
        papers_by_source=papers_by_source,
        papers=papers,
        grounding_by_source=grounding_by_source,
        grounding=grounding,
        extra_records=sum(1 for rid in records if rid not in gold_ids),
        outcomes=outcomes,
    )


# ---------------------------------------------------------------- running on gold


def links_only_records(gold: list[GoldPaper]) -> dict[str, Record]:
    """Records holding only what is found without any model: the abstract's links, its
    best code link and code status. Scores the link finder alone."""
    records: dict[str, Record] = {}
    for i, g in enumerate(gold, 1):
        links = find_links(g.abstract)
        records[g.id] = Record(
            id=g.id, title=g.title or "", abstract=g.abstract, source=Source(path="gold", line=i),
            links=links, code_status=code_status(g.abstract, links),
            extraction=PaperSummary(task=None, method=None, code_link=best_code_link(links),
                                    contribution="other", summary=""),
        )  # fmt: skip
    return records


def gold_sample(gold: list[GoldPaper], sample: int | None = None, seed: int = 0) -> list[GoldPaper]:
    """A reproducible sample of ``sample`` gold papers (all of them when ``None``), in
    file order, so two models can be compared on the same papers."""
    if sample is None or sample >= len(gold):
        return gold
    chosen = set(random.Random(seed).sample(range(len(gold)), sample))
    return [paper for i, paper in enumerate(gold) if i in chosen]


async def aextract_gold(
    gold: list[GoldPaper],
    settings: Settings,
    *,
    announce: Callable[[str], None] | None = None,
    save: str | Path | None = None,
    quiet: bool = False,
) -> dict[str, Record]:
    """Extract every gold abstract (the cache applies), the gold ``id`` as paper id.
    With ``save``, the records are also written there (JSONL)."""
    papers = [
        Paper(id=g.id, title=g.title or "", abstract=g.abstract, source=Source(path="gold", line=i))
        for i, g in enumerate(gold, 1)
    ]
    records: dict[str, Record] = {}
    writer = RecordWriter(save) if save is not None else None
    try:
        async with open_extractor(settings, announce=announce) as ex:
            with Progress(total=len(papers), enabled=not quiet) as progress:
                progress.start()
                async for record in ex.aextract_many(p for p in papers if p.id not in records):
                    records[record.id] = record
                    progress.advance(record)
                    if writer is not None:
                        writer.write(record)
    finally:
        if writer is not None:
            writer.close()
    return records
