"""What the model is asked for one paper, and how its answer becomes a summary.

Three shapes of request, by policy and grounding mode (see :mod:`extractor.extraction.policy`):

* **summary only** (``rules-first``): the rules give task, method, name and gains, so the
  model is asked for the one-line summary alone (:class:`~extractor.schema.SentenceAnswer`),
  with the kind of contribution when no cue of the rules decides it
  (:class:`~extractor.schema.SummaryAnswer`), and is shown the abstract's summary context
  (:func:`~extractor.evidence.summaries.summary_context`): a small schema, few tokens;
* **free fields** (``model-first`` / ``model`` with ``--grounding check`` or ``off``):
  the whole :class:`~extractor.schema.Extraction`, checked against the abstract after;
* **span choices** (``model-first`` / ``model`` with ``--grounding span``): a per-paper
  schema whose names, phrases and numbers are enums of the abstract's spans
  (:mod:`extractor.evidence.spans`).

The model's summary is read up to the end of its first sentence (it is asked for one).
An :class:`Ask` holds the messages and how to build and key the response model, so the
one re-ask (:meth:`Ask.again`) repeats the same request with the reasons appended.

Example:
    >>> from extractor.extraction.prompts import load_prompt
    >>> ask = plan("rules-first", "span", load_prompt(), "T", "We propose X.")
    >>> ask.make_model().__name__, len(ask.messages)
    ('SummaryAnswer', 2)
    >>> plan("rules-first", "span", load_prompt(), "T", "We propose X.", kind=False).make_model().__name__
    'SentenceAnswer'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from .prompts import Prompt
from ..schema import Contribution, Dropped, Extraction, SentenceAnswer, SummaryAnswer
from ..evidence.spans import candidates, choice_model, schema_hash, spans_schema_key, to_summary
from ..evidence.summaries import first_sentence, summary_context

__all__ = ["Ask", "ModelAnswer", "plan", "reask_message"]

_SUMMARY_HASH = schema_hash(Extraction)
_SUMMARY_ONLY_HASH = schema_hash(SummaryAnswer)
_SENTENCE_HASH = schema_hash(SentenceAnswer)


@dataclass(frozen=True)
class ModelAnswer:
    """The model's answer, whatever the request's shape: every field for a full request
    (``fields``; None for a summary-only one), its contribution and its summary."""

    fields: Extraction | None
    contribution: str | None
    summary: str


@dataclass(frozen=True)
class Ask:
    """One request: the messages, the response model (built only when a request is
    sent), the key of its schema for the cache, and how its JSON answer is read."""

    messages: list[dict[str, str]]
    make_model: Callable[[], type[BaseModel]]
    schema_key: str
    read: Callable[[dict[str, Any]], ModelAnswer]

    def again(self, previous: dict[str, Any], reasons: str) -> Ask:
        """The same request once more, after the previous answer and the reasons it was
        not kept."""
        messages = [
            *self.messages,
            {"role": "assistant", "content": json.dumps(previous, ensure_ascii=False)},
            {"role": "user", "content": reasons},
        ]
        return replace(self, messages=messages)


def _read_summary_only(data: dict[str, Any]) -> ModelAnswer:
    answer = SummaryAnswer.model_validate(data)
    summary = first_sentence(answer.summary)
    return ModelAnswer(fields=None, contribution=Contribution(answer.contribution).value, summary=summary)


def _read_sentence(data: dict[str, Any]) -> ModelAnswer:
    return ModelAnswer(fields=None, contribution=None, summary=first_sentence(SentenceAnswer.model_validate(data).summary))


def _read_full(summary: Extraction) -> ModelAnswer:
    text = first_sentence(summary.summary)
    fields = summary.model_copy(update={"summary": text})
    return ModelAnswer(fields=fields, contribution=Contribution(summary.contribution).value, summary=text)


def plan(policy: str, grounding: str, prompt: Prompt, title: str, text: str, *, kind: bool = True) -> Ask:
    """The request for one part of an abstract under this policy and grounding mode;
    ``kind=False`` when the rules decided the kind of contribution (``rules-first`` then
    asks for the summary alone)."""
    if policy == "rules-first":
        # The summary needs the contribution, problem and findings, not every sentence.
        messages = prompt.messages(title=title, abstract=summary_context(text))
        if not kind:
            return Ask(messages, lambda: SentenceAnswer, _SENTENCE_HASH, _read_sentence)
        return Ask(messages, lambda: SummaryAnswer, _SUMMARY_ONLY_HASH, _read_summary_only)
    messages = prompt.messages(title=title, abstract=text)
    if grounding == "span":
        spans = candidates(title, text)
        # The per-paper schema is a function of the spans: its key is computed from them,
        # so a cached answer needs no pydantic model built (most of a cached run's time).
        return Ask(
            messages,
            lambda: choice_model(spans),
            spans_schema_key(spans),
            lambda data: _read_full(to_summary(data, spans)),
        )
    return Ask(messages, lambda: Extraction, _SUMMARY_HASH, lambda data: _read_full(Extraction.model_validate(data)))


def reask_message(dropped: Sequence[Dropped], summary_problem: str | None) -> str:
    """Why the previous answer was not kept, for the one re-ask."""
    lines = [f"- {d.field} = {d.value!r}: {d.reason}" for d in dropped]
    if summary_problem:
        lines.append(f"- summary: {summary_problem}")
    return (
        "Some values of your answer cannot be used:\n"
        + "\n".join(lines)
        + "\nAnswer again. Copy every name, number, dataset and URL exactly from the abstract, or leave it "
        "out; the summary is one plain sentence about this paper."
    )
