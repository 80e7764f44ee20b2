"""The scores of ``extractor eval`` and their report.

Tallies (TP/FP/FN) and per-field precision, recall and F1, paper coverage, the grounding
check and the per-paper outcomes, gathered in :class:`EvalReport` by
:func:`~extractor.eval.score.score`; the report as JSON (:meth:`EvalReport.to_dict`) or
Markdown (:meth:`EvalReport.to_markdown`), and two reports on the same papers side by side
(:func:`side_by_side`). A ratio with a zero denominator is ``None``, shown as ``-``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

from .gold import FIELDS
from .matching import PHRASE_THRESHOLD

__all__ = [
    "OVERALL",
    "EvalReport",
    "FieldScore",
    "Grounding",
    "PaperCounts",
    "PaperOutcome",
    "Tally",
    "side_by_side",
]

OVERALL = "overall"


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


class GainDetail(BaseModel):
    """Of the claimed gains matched to a gold value, how many also name the gold's metric
    and dataset (where the gold gives them)."""

    matched: int = 0
    metric_gold: int = 0
    metric_right: int = 0
    dataset_gold: int = 0
    dataset_right: int = 0

    def add(self, other: GainDetail) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


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
    gains: GainDetail = Field(default_factory=GainDetail)
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
        gd = self.gains
        if gd.matched:
            out += [
                "",
                f"Claimed gains matched to a gold value: {gd.matched}; the metric agrees with the gold's in "
                f"{gd.metric_right} of {gd.metric_gold} ({_pct(gd.metric_right / gd.metric_gold if gd.metric_gold else None)} %), "
                f"the dataset in {gd.dataset_right} of {gd.dataset_gold} "
                f"({_pct(gd.dataset_right / gd.dataset_gold if gd.dataset_gold else None)} %) where the gold names them.",
            ]
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

