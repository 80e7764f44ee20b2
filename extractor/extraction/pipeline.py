"""One paper through the stages: links and rules, the model's answer, grounding, the record.

Plain functions over a paper and an ``ask`` function (the model's answer to one
:class:`~extractor.extraction.answers.Ask`, from the cache or the endpoint: see
:class:`~extractor.extraction.extractor.Extractor`):

1. the abstract's links are found deterministically (:mod:`extractor.evidence.links`) and values
   proposed by rules (:mod:`extractor.evidence.rules`);
2. the model is asked what the policy wants of it (:mod:`extractor.extraction.policy`): only the
   summary and the kind of contribution under ``rules-first``, every field under
   ``model-first``/``model``, nothing under ``rules``. An abstract longer than
   ``settings.context_budget`` characters is split on sentence boundaries, each part asked
   and the parts merged;
3. every value of the model is checked against the abstract (:mod:`extractor.evidence.grounding`),
   and the summary against the gate (:mod:`extractor.evidence.summaries`); one re-ask with the
   reasons when something failed; what still fails is dropped and listed under
   ``dropped``; a summary that still fails is replaced by an extractive one;
4. rules and model are combined per field (``origin`` says which gave each value).

A paper asks at most ``parts + 1`` questions (the ``+ 1`` is the one re-ask, only for a
one-part abstract); each question's retries and schema re-asks come out of the paper's
one :class:`~extractor.http.budget.Budget`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..errors import EndpointError, FatalEndpointError, LocalServerError
from ..evidence.extractive import extractive_summary
from ..evidence.links import best_code_link, code_status, find_links
from ..evidence.precision import model_may_show, precision_of
from ..evidence.rules import Proposals, propose
from ..evidence.summaries import summary_problem, unfaithful
from ..evidence.text import split_text
from ..schema import (
    ClaimedGain,
    Dropped,
    ErrorInfo,
    Extraction,
    Link,
    Paper,
    Provenance,
    Record,
)
from ..settings import Settings
from .answers import Ask, ModelAnswer, plan, reask_message
from .policy import Decision, asks_for_fields, decide
from .prompts import Prompt

if TYPE_CHECKING:
    from ..evidence.grounding import Grounded

__all__ = ["NO_ANSWER", "AskFn", "Answered", "Job", "extract_paper", "merge_parts", "paper_asks"]

#: Error kinds meaning the model gave no valid answer (as opposed to a transport or server
#: failure): an optional request that ends so (a re-ask, or the summary request of
#: ``rules-first``) leaves what the paper already has instead of failing it.
NO_ANSWER = frozenset({"validation", "length", "refusal"})


@dataclass(frozen=True)
class Answered:
    """The model's answer to one ask: its JSON data, what it says, and what it cost
    (``tokens``: in, out, requests, seconds; None when it came from the cache), and the
    host:port of the replica that answered (None from the cache)."""

    data: dict[str, Any]
    answer: ModelAnswer
    cost: tuple[int, int, int, float] | None
    endpoint: str | None = None


#: ``ask(question, optional)``: the answer, or EndpointError. An ``optional`` question's
#: "no valid answer" may be remembered (see Extractor).
AskFn = Callable[[Ask, bool], Awaitable[Answered]]


@dataclass(frozen=True)
class Job:
    """What every paper of a run shares."""

    settings: Settings
    policy: str
    prompt: Prompt
    base: Provenance


def merge_parts(parts: list[Extraction]) -> Extraction:
    """Merge the extractions of an abstract's parts: the first part frames the paper
    (task, method, contribution, summary); names and links come from the first part that
    has one; gains are pooled without repeats."""
    if len(parts) == 1:
        return parts[0]
    gains: list[ClaimedGain] = []
    seen: set[tuple[str, str]] = set()
    for part in parts:
        for gain in part.claimed_gains:
            key = (gain.metric.casefold(), gain.value)
            if key not in seen:
                seen.add(key)
                gains.append(gain)
    return parts[0].model_copy(
        update={
            "method_name": next((p.method_name for p in parts if p.method_name), None),
            "code_link": next((p.code_link for p in parts if p.code_link), None),
            "claimed_gains": gains,
        }
    )


def _merge(answers: list[Answered]) -> ModelAnswer:
    first = answers[0].answer
    if len(answers) == 1 or first.fields is None:
        return first
    return replace(first, fields=merge_parts([a.answer.fields for a in answers if a.answer.fields is not None]))


def _account(prov: Provenance, base: Provenance, done: Answered) -> None:
    if done.cost is not None:
        tokens_in, tokens_out, attempts, seconds = done.cost
        prov.cached = False
        prov.model, prov.mode = base.model, base.mode  # as asked (the endpoint may have changed)
        prov.endpoint = done.endpoint or prov.endpoint  # the replica that answered, the last ask's
        prov.tokens_in += tokens_in
        prov.tokens_out += tokens_out
        prov.attempts += attempts
        prov.latency_s += seconds


async def extract_paper(paper: Paper, job: Job, ask: AskFn) -> tuple[Record, EndpointError | None]:
    """The record of one paper, and the endpoint error that failed it (None if none).
    :class:`~extractor.errors.FatalEndpointError` is raised; any other error becomes the
    record's ``error``."""
    links = find_links(paper.abstract)
    prov = job.base.model_copy()
    prov.cached = job.policy != "rules"  # from the cache until an answer costs something; rules ask nothing
    record = Record.for_paper(paper, links=links, code_status=code_status(paper.abstract, links))
    proposals = propose(paper.title, paper.abstract) if job.policy != "model" else Proposals()
    try:
        answer, grounding, dropped = await _model_part(paper, job, links, prov, ask, proposals)
    except (FatalEndpointError, LocalServerError):
        raise
    except EndpointError as exc:
        prov.cached = False
        record.provenance = prov
        record.error = ErrorInfo(kind=exc.kind, message=str(exc), attempts=exc.attempts or prov.attempts)
        return record, exc
    except Exception as exc:  # noqa: BLE001 - one paper's bug must not stop the batch
        record.provenance = prov
        record.error = ErrorInfo(kind="internal", message=f"{type(exc).__name__}: {exc}", attempts=prov.attempts)
        return record, None
    fields = answer.fields if answer else None
    decision = decide(job.policy, fields, proposals, paper.title, paper.abstract,
                      answer.contribution if answer else None, model_name=prov.model)  # fmt: skip
    values, origin, found_by = decision.values, decision.origin, decision.found_by
    code_link = best_code_link(links)  # always the link finder's: never a URL the model wrote
    if code_link is not None:
        origin["code_link"], found_by["code_link"] = "rule", "links"
    if fields is not None and fields.code_link and fields.code_link != code_link:
        decision.hold("code_link", fields.code_link, "model", "not the code link the link finder found")
    summary = _summary(answer, paper, values["contribution"], decision)
    record.summary_source = "model" if summary is not None else "extractive"
    if summary is None:
        summary = extractive_summary(paper.abstract, paper.title, values["method_name"])
    origin["summary"] = "model" if record.summary_source == "model" else "rule"
    found_by["summary"] = record.summary_source
    record.extraction = Extraction(**values, code_link=code_link, summary=summary)
    record.origin, record.found_by, record.unsure = origin, found_by, decision.unsure
    record.grounding, record.dropped, record.provenance = grounding, dropped, prov
    return record, None


def _summary(answer: ModelAnswer | None, paper: Paper, kind: str, decision: Decision) -> str | None:
    """The model's summary when it passes the gate and the faithfulness check, and the
    model's summaries were measured no less right than the abstract's own sentence; else
    None (the model's sentence, if any, is held back with the reason)."""
    if answer is None or not answer.summary:
        return None
    problem = summary_problem(answer.summary, paper.title, paper.abstract) or unfaithful(
        answer.summary, paper.title, paper.abstract, kind
    )
    model, extractive = precision_of("summary", "model", decision.model), precision_of("summary", "extractive")
    if problem is None and model is not None and extractive is not None and model < extractive:
        problem = f"the model's summaries were right {model:.0%} of the time, the abstract's own sentence {extractive:.0%}"
    if problem is None:
        return answer.summary
    decision.hold("summary", answer.summary, "model", problem)
    return None


async def _model_part(
    paper: Paper, job: Job, links: list[Link], prov: Provenance, ask: AskFn, proposals: Proposals
) -> tuple[ModelAnswer | None, dict[str, str], list[Dropped]]:
    """The model's answer, grounded, with at most one re-ask. None under ``rules``, and
    under ``rules-first`` when the model gave no valid answer (the rules stand)."""
    s, policy = job.settings, job.policy
    if policy == "rules":
        return None, {}, []
    asks = paper_asks(paper, job, proposals)
    prov.parts = len(asks)
    if not asks:
        prov.cached = False  # nothing asked, nothing from the cache
        return None, {}, []
    answers = []
    for question in asks:
        try:
            done = await ask(question, policy == "rules-first")
        except EndpointError as exc:
            if policy != "rules-first" or exc.kind not in NO_ANSWER:
                raise
            return None, {}, []  # the rules stand; the summary will be extractive
        _account(prov, job.base, done)
        answers.append(done)
    answer = _merge(answers)
    checked = _ground(answer, s, paper.abstract, links)
    problem = summary_problem(answer.summary, paper.title, paper.abstract)
    wrong = checked.dropped if checked is not None and s.grounding == "check" else []
    if (wrong or problem) and len(asks) == 1:
        try:
            done = await ask(asks[0].again(answers[0].data, reask_message(wrong, problem)), True)
            answer = done.answer
            _account(prov, job.base, done)
        except EndpointError as exc:
            if exc.kind not in NO_ANSWER:
                raise  # else the re-ask found no valid answer: the first one stands
        checked = _ground(answer, s, paper.abstract, links)
    if checked is None:
        return answer, {}, []
    return replace(answer, fields=checked.summary), checked.grounding, checked.dropped


def paper_asks(paper: Paper, job: Job, proposals: Proposals | None = None) -> list[Ask]:
    """The questions a paper puts to the model first, in order: one per part of its
    abstract (the opening part only when the model is asked for the summary alone), none
    under ``rules``. The one re-ask, if any, follows from their answers. ``proposals``
    (the rules' values; found here when not given) decide whether the kind of
    contribution is asked for."""
    s, policy = job.settings, job.policy
    if policy == "rules":
        return []
    if proposals is None:
        proposals = propose(paper.title, paper.abstract) if policy != "model" else Proposals()
    texts = split_text(paper.abstract, s.context_budget) if len(paper.abstract) > s.context_budget else [paper.abstract]
    if not asks_for_fields(policy):
        texts = texts[:1]  # the summary of the opening part; the rules read the whole abstract
    kind = proposals.contribution is None  # else the rules' cue decides it (rules-first)
    if policy == "rules-first" and not model_may_show(job.base.model, kind):
        return []  # nothing the model would write could be shown: it is not asked
    return [plan(policy, s.grounding, job.prompt, paper.title, text, kind=kind) for text in texts]



def _ground(answer: ModelAnswer, s: Settings, abstract: str, links: list[Link]) -> Grounded | None:
    if answer.fields is None or s.grounding == "off":
        return None
    from ..evidence.grounding import (
        ground,  # imported on first use: --grounding off does without it (and rapidfuzz)
    )

    return ground(answer.fields, abstract, links)
