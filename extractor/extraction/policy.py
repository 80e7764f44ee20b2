"""Combining the rules and the model, field by field, and holding back what is not sure.

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
any configured endpoint. The code link always comes from the link finder.

:func:`decide` takes each field's candidates in the policy's order and shows the first
that the correctness pass (:mod:`~extractor.evidence.checks`) finds nothing wrong with
and whose source's measured precision (:mod:`~extractor.evidence.precision`) clears the
bar. A candidate held back on the way goes to ``unsure`` with its reason: right or
silent. ``origin`` says whether the rules or the model gave each value, ``found_by``
which rule (or ``model``).

Example:
    >>> from extractor.evidence.rules import propose
    >>> p = propose("DeepWalk: Online Learning of Social Representations", "We present DeepWalk, a method.")
    >>> d = decide("rules-first", None, p, "DeepWalk: Online Learning of Social Representations", "We present DeepWalk, a method.")
    >>> d.values["method_name"], d.origin["method_name"], d.found_by["method_name"]
    ('DeepWalk', 'rule', 'title_name')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..evidence.checks import gain_problem, method_problem, name_problem, task_problem
from ..evidence.gains import gain_source
from ..evidence.names import is_namey
from ..evidence.precision import held_back, precision_of
from ..evidence.rules import Proposals
from ..schema import Contribution, Extraction, Origin, Unsure
from ..settings import Policy, resolve_policy

__all__ = ["FIELDS", "Decision", "Policy", "asks_for_fields", "decide", "resolve_policy"]


#: The fields a policy decides (code_link and summary have rules of their own).
FIELDS = ("task", "method", "method_name", "claimed_gains", "contribution")


def asks_for_fields(policy: Policy) -> bool:
    """Whether the model is asked for task, method, name and gains (else only for the
    summary and contribution, or nothing at all under ``rules``)."""
    return policy in ("model-first", "model")


#: A checker per scalar field: the reason a value is wrong for it, or None.
Check = Callable[[str, str, str, list[str]], "str | None"]
_CHECKS: dict[str, Check] = {
    "task": lambda v, title, abstract, proposing: task_problem(v, title, abstract, proposing),
    "method": lambda v, title, abstract, proposing: method_problem(v, title, abstract),
    "method_name": lambda v, title, abstract, proposing: name_problem(v, title, proposing, abstract),
}


@dataclass
class Decision:
    """The value shown for each of :data:`FIELDS`, where it came from (``origin``: rule
    or model; ``found_by``: which rule, or ``model``), and what was held back."""

    values: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, Origin] = field(default_factory=dict)
    found_by: dict[str, str] = field(default_factory=dict)
    unsure: list[Unsure] = field(default_factory=list)

    model: str | None = None

    def hold(self, name: str, value: str, source: str, reason: str) -> None:
        """Hold back ``value`` (see :class:`~extractor.schema.Unsure`)."""
        self.unsure.append(Unsure(field=name, value=value, source=source, reason=reason,
                                  precision=precision_of(name, source, self.model)))  # fmt: skip


def _only_the_name(method: str, name: str | None) -> bool:
    """True when ``method`` says no more than the method's name ("SELMA" for SELMA)."""
    core = lambda text: " ".join(re.sub(r"\([^)]*\)", " ", text).casefold().split())  # noqa: E731
    if name is not None and core(method) in (core(name), *re.findall(r"\(([^)]*)\)", name.casefold())):
        return len(core(method).split()) <= 2  # a long name says what it is: "soft prompt tuning for augmenting DR"
    return len(method.split()) == 1 and is_namey(method)


def _order(policy: Policy, name: str) -> tuple[Origin, ...]:
    if policy == "rules":
        return ("rule",)
    if policy == "model":
        return ("model",)
    if policy == "model-first":
        return ("model", "rule")
    return ("rule", "model") if name == "contribution" else ("rule",)  # rules-first


def _candidates(source: Origin, name: str, model: Extraction | None, p: Proposals) -> list[tuple[str, str]]:
    if source == "model":
        value = getattr(model, name, None) if model is not None else None
        return [(value, "model")] if value else []
    return [(proposal.value, proposal.rule) for proposal in getattr(p, name)]


def _gains(policy: Policy, model: Extraction | None, p: Proposals, abstract: str, d: Decision) -> None:
    for source in _order(policy, "claimed_gains"):
        gains = list(model.claimed_gains) if source == "model" and model is not None else []
        label = "model" if source == "model" else "gains"
        if source == "rule":
            gains = list(p.claimed_gains)
            for held in p.unsure_gains:
                d.hold("claimed_gains", held.value, "gains", held.reason)
        kept, labels = [], set()
        for gain in gains:
            # a rule's gain is measured by its kind: over a named baseline, a bare change, a score
            which = gain_source(gain) if source == "rule" else label
            reason = gain_problem(gain, abstract) or held_back("claimed_gains", which, d.model)
            if reason is None:
                kept.append(gain)
                labels.add(which)
            else:
                d.hold("claimed_gains", f"{gain.value} ({gain.metric or 'no metric'})", which, reason)
        if kept:
            found = labels.pop() if len(labels) == 1 else label
            d.values["claimed_gains"], d.origin["claimed_gains"], d.found_by["claimed_gains"] = kept, source, found
            return
    d.values["claimed_gains"] = []


def decide(
    policy: Policy,
    model: Extraction | None,
    proposals: Proposals,
    title: str,
    abstract: str,
    contribution: str | None = None,
    proposing: list[str] | None = None,
    model_name: str | None = None,
) -> Decision:
    """The value of each of :data:`FIELDS` under ``policy`` (see the module docstring).

    ``model`` is the model's grounded answer (None when the model was not asked for
    these fields); ``contribution`` the kind it picked when it was asked only for the
    summary; ``proposing`` the abstract's sentences where the paper proposes something
    (found here when not given); ``model_name`` the model behind the endpoint, whose
    measured precision (if any) holds its values. A field nobody filled is None (an empty
    list for gains; ``other`` for the contribution) and has no origin: :attr:`Record.kind
    <extractor.schema.Record.kind>` is then None.
    """
    if proposing is None:
        from ..evidence.voice import proposing_sentences

        proposing = proposing_sentences(abstract)
    d = Decision(model=model_name)
    for name in ("method_name", "task", "method"):
        d.values[name] = None
        for source in _order(policy, name):
            for value, label in _candidates(source, name, model, proposals):
                reason = _CHECKS[name](value, title, abstract, proposing) or held_back(name, label, d.model)
                if reason is None and name == "method" and _only_the_name(value, d.values["method_name"]):
                    reason = "only the name: it does not say what the method is"
                if reason is not None:
                    d.hold(name, value, label, reason)
                    continue
                d.values[name], d.origin[name], d.found_by[name] = value, source, label
                break
            if d.values[name] is not None:
                break
    _gains(policy, model, proposals, abstract, d)
    theirs = model.contribution.value if model is not None else contribution
    for source in _order(policy, "contribution"):
        kind, label = (proposals.contribution.value, proposals.contribution.rule) if (
            source == "rule" and proposals.contribution is not None) else (theirs, "model") if source == "model" else (
            None, "")  # fmt: skip
        if not kind:
            continue
        reason = held_back("contribution", label, d.model)
        if reason is not None:
            d.hold("contribution", kind, label, reason)
            continue
        d.values["contribution"], d.origin["contribution"], d.found_by["contribution"] = kind, source, label
        break
    else:
        d.values["contribution"] = Contribution.other.value  # no origin: the kind is not shown (Record.kind)
    return d
