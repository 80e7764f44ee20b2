"""Why a record shows what it shows: each field with the rule or model that gave it, and
every value held back with the reason (the debug view of "right or silent").

A reader who misses a value on the page ("the abstract names its method, why is the name
empty?") finds the answer here: the value was found, and the correctness pass or its
source's measured precision held it back.

Example:
    >>> from extractor.schema import Extraction, Record, Source, Unsure
    >>> r = Record(id="p1", title="T", abstract="A", source=Source(path="-", line=1),
    ...            extraction=Extraction(task=None, method="X", contribution="method", summary="S."),
    ...            found_by={"method": "we_propose", "contribution": "proposal_cue", "summary": "extractive"},
    ...            origin={"method": "rule", "contribution": "rule", "summary": "rule"},
    ...            unsure=[Unsure(field="task", value="their", source="for_x", reason="a function word, not a task")])
    >>> print(explain(r))
    p1  T
      task          -
      method        X  [we_propose]
      method_name   -
      contribution  method  [proposal_cue]
      summary       S.  [extractive]
      held back:
        task          'their'  (for_x) a function word, not a task
"""

from __future__ import annotations

from ..schema import Record

__all__ = ["explain"]

_FIELDS = ("task", "method", "method_name", "contribution", "code_link", "summary")


def _short(value: object, width: int = 100) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def explain(record: Record) -> str:
    """The record's fields with where each came from, its gains, and what was held back."""
    lines = [f"{record.id}  {_short(record.title)}"]
    ex = record.extraction
    if ex is None:
        kind = record.error.kind if record.error else "no extraction"
        return "\n".join([*lines, f"  failed: {kind}: {record.error.message if record.error else ''}"])
    for name in _FIELDS:
        value = getattr(ex, name)
        if name == "contribution":
            value = record.kind.value if record.kind else None
        if name == "code_link" and not value:
            continue
        source = record.found_by.get(name)
        lines.append(f"  {name:<13} {_short(value) if value else '-'}" + (f"  [{source}]" if source and value else ""))
    for gain in ex.claimed_gains:
        parts = [f"{gain.value} {gain.metric}", gain.kind or "", f"on {gain.dataset}" if gain.dataset else "",
                 f"over {gain.baseline}" if gain.baseline else ""]  # fmt: skip
        lines.append(f"  {'gain':<13} " + " · ".join(p for p in parts if p))
    if record.unsure:
        lines.append("  held back:")
        for held in record.unsure:
            measured = f", measured {held.precision:.0%}" if held.precision is not None else ""
            lines.append(f"    {held.field:<13} {_short(held.value, 60)!r}  ({held.source}{measured}) {held.reason}")
    return "\n".join(lines)
