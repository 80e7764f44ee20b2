"""How often each source of a value is right, as measured, and the bar a value must clear.

Every value comes from a source: a rule (``title_task``, ``we_propose``, ``called``...),
the model, or an extractive pass. :func:`measured` holds each source's precision per
field: the share of its values that blind readers marked right on random records of the
seeds (never tuned to single records), written by ``python scripts/measure_precision.py``
with how many values it was judged on and on what. :func:`held_back` says why a source's
values are not shown:

* a source measured under :data:`MIN_PRECISION`;
* a rule judged fewer than :data:`MIN_JUDGED` times (or never): too rare to vouch for.

A model's values are measured per model, as ``model:NAME``. A model that was not measured
(a configured model whose quality this project cannot know) has no figure: its values are
shown when they pass the checks of :mod:`~extractor.evidence.checks`, and a held-back one
says the precision is unknown.

Example:
    >>> precision_of("task", "no-such-rule") is None
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

__all__ = ["MIN_JUDGED", "MIN_PRECISION", "Measured", "held_back", "measured", "model_may_show", "precision_of"]

#: The least measured precision a source needs for its values to be shown: a reader should
#: find at most about three values in ten of a shown source wrong, and the records say which.
MIN_PRECISION = 0.70
#: The fewest judged values a rule's precision is taken from: a rule seen less is held back.
MIN_JUDGED = 5


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


def held_back(field: str, source: str, model: str | None = None) -> str | None:
    """Why ``source``'s values for ``field`` are not shown, or None when they are (see the
    module docstring). ``model`` names the model behind the endpoint for a ``model`` source."""
    key = f"model:{model}" if source == "model" and model else source
    found = measured().get((field, key))
    if found is None:
        if source == "model" or not measured():
            return None  # an unmeasured model, or no table at all: the checks alone decide
        return f"its rule ({source}) was never judged: too rare to vouch for"
    if source != "model" and found.judged < MIN_JUDGED:
        return f"its rule ({source}) was judged only {found.judged} times: too rare to vouch for"
    if found.precision < MIN_PRECISION:
        return f"its source is right {found.precision:.0%} of the time, under the {MIN_PRECISION:.0%} shown"
    return None


def model_may_show(model: str | None, kind: bool) -> bool:
    """Whether anything ``model`` writes under ``rules-first`` could be shown: its summary
    (unless measured less often right than the abstract's own sentence) or, when the rules
    found no cue (``kind``), its kind of contribution (unless measured under the bar). A
    model never measured may show both. The bundled SmolLM2-135M's summaries were right 82
    of 110 times and the abstract's sentence 428 of 500, its kinds 2 of 10: it is not asked.

    Example:
        >>> model_may_show("smollm2-135m", kind=True), model_may_show("my-own-model", kind=False)
        (False, True)
    """
    summary, extractive = precision_of("summary", "model", model), precision_of("summary", "extractive")
    if summary is None or extractive is None or summary >= extractive:
        return True
    return kind and held_back("contribution", "model", model) is None
