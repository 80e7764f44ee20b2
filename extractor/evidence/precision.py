"""How often each source of a value is right, as measured, and the bar a value must clear.

Every value comes from a source: a rule (``title_task``, ``we_propose``, ``called``...),
the model, or an extractive pass. :data:`MEASURED` holds each source's precision per
field, measured on whole files (never tuned to single records) and written by
``python scripts/measure_precision.py``, with how many values it was measured on and
where. A value whose source's precision is under :data:`MIN_PRECISION` is not shown: it
goes to the record's ``unsure`` list with that figure.

A model's values are measured per model, as ``model:NAME``. A source that was not
measured (a configured model whose quality this project cannot know) has no precision: its values are shown when they pass the checks of
:mod:`~extractor.evidence.checks`, and the record says the precision is unknown.

Example:
    >>> precision_of("task", "no-such-rule") is None
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

__all__ = ["MIN_PRECISION", "Measured", "measured", "precision_of"]

#: The least measured precision a source needs for its values to be shown.
MIN_PRECISION = 0.80


@dataclass(frozen=True)
class Measured:
    """A source's measured precision for one field: right / judged, and on what."""

    precision: float
    judged: int
    on: str


@cache
def measured() -> dict[tuple[str, str], Measured]:
    """The measurements shipped with the package (``precision.json`` beside this module)."""
    data = json.loads(files(__package__).joinpath("precision.json").read_text(encoding="utf-8"))
    return {
        (row["field"], row["source"]): Measured(row["precision"], row["judged"], row["on"]) for row in data["sources"]
    }


def precision_of(field: str, source: str, model: str | None = None) -> float | None:
    """The measured precision of ``source``'s values for ``field``, or None when it was
    not measured. A model's values are measured per model (``model:smollm2``): another
    model behind the endpoint has none."""
    if source == "model":
        source = f"model:{model}" if model else source
    found = measured().get((field, source))
    return found.precision if found is not None else None
