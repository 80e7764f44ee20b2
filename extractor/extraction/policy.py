"""Combining the rules and the model, field by field.

Which source a field trusts depends on the model behind the endpoint. A 135M model
names and copies badly, so measured on the visible gold the rules beat it on task,
method and name; a 7B+ model writes better phrases than any rule. A **policy** says, per
field, which source comes first:

===============  ==================================================================  =============
policy           task, method, method_name, claimed_gains                             contribution
===============  ==================================================================  =============
``rules-first``  the rule's value; the model is not asked for these fields            rule cue, else model
``model-first``  the model's grounded value; the rule's when the model gave none      model
``model``        the model's grounded value only                                      model
``rules``        the rule's value; no model at all (the summary is extractive)        rule cue
===============  ==================================================================  =============

``auto`` (the default) is ``rules-first`` for the bundled model and ``model-first`` for
any configured endpoint. The code link always comes from the link finder (the model's
link is kept only when it is one of the abstract's links). Whatever the policy, the
summary is the model's only when it passes the gate of :mod:`extractor.evidence.summaries`.

Every value says where it came from in ``Record.origin`` (``rule`` or ``model``).

Example:
    >>> from extractor.evidence.rules import propose
    >>> p = propose("DeepWalk: Online Learning of Social Representations", "We present DeepWalk, a method.")
    >>> values, origin = combine("rules-first", None, p)
    >>> values["method_name"], origin["method_name"]
    ('DeepWalk', 'rule')
"""

from __future__ import annotations

from typing import Any, Literal

from ..evidence.rules import Proposals
from ..schema import Contribution, Origin, Extraction

__all__ = ["FIELDS", "POLICIES", "Policy", "asks_for_fields", "combine", "resolve_policy"]

Policy = Literal["rules-first", "model-first", "model", "rules"]
POLICIES: tuple[str, ...] = ("auto", "rules-first", "model-first", "model", "rules")

#: The fields a policy decides (code_link and summary have rules of their own).
FIELDS = ("task", "method", "method_name", "claimed_gains", "contribution")


def resolve_policy(setting: str, *, bundled: bool) -> Policy:
    """The policy in force: ``auto`` is ``rules-first`` for the bundled model, else
    ``model-first``."""
    if setting == "auto":
        return "rules-first" if bundled else "model-first"
    return setting  # type: ignore[return-value]


def asks_for_fields(policy: Policy) -> bool:
    """Whether the model is asked for task, method, name and gains (else only for the
    summary and contribution, or nothing at all under ``rules``)."""
    return policy in ("model-first", "model")


def _rule_values(p: Proposals) -> dict[str, Any]:
    return {
        "task": p.first("task"),
        "method": p.first("method"),
        "method_name": p.first("method_name"),
        "claimed_gains": list(p.claimed_gains),
        "contribution": p.contribution.value if p.contribution else None,
    }


def combine(
    policy: Policy, model: Extraction | None, proposals: Proposals, contribution: str | None = None
) -> tuple[dict[str, Any], dict[str, Origin]]:
    """The value of each of :data:`FIELDS` under ``policy``, and where it came from.

    ``model`` is the model's grounded answer (None when the model was not asked for
    these fields); ``contribution`` the kind it picked when it was asked only for the
    summary. A field nobody filled is None (an empty list for gains; ``other`` for the
    contribution) and has no origin.
    """
    rules = _rule_values(proposals)
    theirs: dict[str, Any] = model.model_dump(mode="json", include=set(FIELDS)) if model is not None else {}
    if model is not None:
        theirs["claimed_gains"] = list(model.claimed_gains)
    if contribution is not None:
        theirs["contribution"] = contribution
    order: tuple[Origin, ...]
    values: dict[str, Any] = {}
    origin: dict[str, Origin] = {}
    for name in FIELDS:
        if policy == "rules":
            order = ("rule",)
        elif policy == "model":
            order = ("model",)
        elif policy == "model-first":
            order = ("model", "rule")
        else:  # rules-first: the model only for the contribution, when no cue decides it
            order = ("rule", "model") if name == "contribution" else ("rule",)
        for source in order:
            value = (rules if source == "rule" else theirs).get(name)
            if value:
                values[name], origin[name] = value, source
                break
        else:
            values[name] = [] if name == "claimed_gains" else None
    if values["contribution"] is None:
        values["contribution"] = Contribution.other.value
    return values, origin
