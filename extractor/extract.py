"""Extraction: one :class:`~extractor.schema.Paper` in, one :class:`~extractor.schema.Record` out.

For each paper the :class:`Extractor`

1. finds the abstract's links deterministically (:mod:`extractor.links`) and proposes
   values by rules (:mod:`extractor.rules`);
2. asks the endpoint (or the cache) what the policy wants of the model
   (:mod:`extractor.policy`, :mod:`extractor.answers`): only the summary and the kind of
   contribution under ``rules-first`` (the bundled model's default), every field under
   ``model-first``/``model``, nothing under ``rules``. An abstract longer than
   ``settings.context_budget`` characters is split on sentence boundaries, each part
   extracted and the parts merged;
3. checks every value of the model against the abstract (:mod:`extractor.grounding`),
   and the summary against the gate (:mod:`extractor.summaries`); re-asks once with the
   reasons when something failed, and drops what still fails, listing it under
   ``dropped``; a summary that still fails is replaced by an extractive one;
4. combines rules and model per field (``origin`` says which gave each value);
5. returns a record with provenance (model, host, mode, prompt version and hash, tokens,
   latency, attempts) — or with ``error`` set when the endpoint failed for this paper.

Work that does not depend on the paper (the schema, its hash, the prompt) is done once
per :class:`Extractor`, not per paper.

Example:
    >>> from extractor import Extractor, Settings
    >>> ex = Extractor(Settings(base_url="http://127.0.0.1:8080/v1", model="m", mode="tools", cache=False))
    >>> ex.settings.mode
    'tools'
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .answers import Ask, ModelAnswer, plan, reask_message
from .cache import ResultCache
from .errors import EndpointError, FatalEndpointError, LocalServerError, ServerGoneError
from .grounding import Grounded, ground
from .links import best_code_link, code_status, find_links
from .listings import split_text
from .policy import asks_for_fields, combine, resolve_policy
from .prompts import Prompt, load_prompt
from .rules import Proposals, propose
from .schema import ClaimedGain, Dropped, ErrorInfo, Link, Paper, PaperSummary, Provenance, Record
from .settings import Settings
from .summaries import extractive_summary, summary_problem

if TYPE_CHECKING:  # the endpoint (openai, instructor) is imported on the first cache miss
    from .client import Completion, Endpoint

__all__ = ["Extractor", "merge_parts"]

#: Error kinds meaning the model gave no valid answer (as opposed to a transport or
#: server failure): an optional request that ends so (a re-ask, or the summary request
#: of ``rules-first``) leaves what the paper already has instead of failing it.
_NO_ANSWER = frozenset({"validation", "length"})

#: Papers in a row whose server refused connections before a batch is stopped.
GONE_LIMIT = 3


def merge_parts(parts: list[PaperSummary]) -> PaperSummary:
    """Merge the extractions of an abstract's parts: the first part frames the paper
    (task, method, contribution, summary); names and links come from the first part that
    has one; gains are pooled without repeats."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    gains: list[ClaimedGain] = []
    seen: set[tuple[str, str]] = set()
    for part in parts:
        for gain in part.claimed_gains:
            key = (gain.metric.casefold(), gain.value)
            if key not in seen:
                seen.add(key)
                gains.append(gain)
    return first.model_copy(
        update={
            "method_name": next((p.method_name for p in parts if p.method_name), None),
            "code_link": next((p.code_link for p in parts if p.code_link), None),
            "claimed_gains": gains,
        }
    )


def _cached(hit: dict[str, Any]) -> dict[str, Any]:
    """A cached answer's JSON data; a remembered "no valid answer" is raised again."""
    if hit.get("no_answer"):
        kind, message, attempts = hit["no_answer"]
        raise EndpointError(kind, f"{message} (remembered from an earlier run)", attempts)
    return hit["summary"]  # type: ignore[no-any-return]


def _merge(answers: list[tuple[dict[str, Any], ModelAnswer]]) -> ModelAnswer:
    """One answer from the answers for an abstract's parts (see :func:`merge_parts`)."""
    first = answers[0][1]
    if len(answers) == 1 or first.fields is None:
        return first
    return replace(first, fields=merge_parts([a.fields for _, a in answers if a.fields is not None]))


class Extractor:
    """Reusable extractor over one endpoint. Use as ``async with Extractor(settings) as ex``
    or call :meth:`aclose` when done.

    ``start_endpoint``, when given, is awaited once, on the first cache miss, and returns the
    base URL to use from then on: the bundled server is started that way, so a run answered
    wholly from the cache never starts it. ``restart_endpoint`` is awaited when the server
    stopped accepting connections mid-run; it returns the new base URL, or None if it could
    not restart it. ``endpoint_id`` names the endpoint for remembering
    its probe (default: the base URL; the bundled server's port changes every run).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        endpoint: Endpoint | None = None,
        prompt: Prompt | None = None,
        start_endpoint: Callable[[], Awaitable[str]] | None = None,
        restart_endpoint: Callable[[], Awaitable[str | None]] | None = None,
        endpoint_id: str | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._endpoint = endpoint
        self._start_endpoint = start_endpoint
        self._start_lock = asyncio.Lock()
        self._verify_discovery = False  # model/mode came from an earlier run: check on first miss
        self._endpoint_id = endpoint_id or self.settings.base_url or ""
        self._restart_endpoint = restart_endpoint
        self._generation = 0  # endpoints restarted so far
        self._gone_in_a_row = 0  # papers in a row whose server refused connections
        self._base: Provenance | None = None
        #: Which source each field trusts first (:mod:`extractor.policy`); ``auto`` is
        #: ``rules-first`` for the bundled model.
        self.policy = resolve_policy(self.settings.policy, bundled=self._endpoint_id.startswith("bundled:"))
        # rules-first asks the model only for the summary and contribution: its own prompt.
        self.prompt = prompt or load_prompt("summarize" if self.policy == "rules-first" else "extract")
        self.cache = ResultCache(self.settings.cache_dir) if self.settings.cache else None

    async def __aenter__(self) -> Extractor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self.cache is not None:
            self.cache.record_run()
            self.cache.close()
        if self._endpoint is not None:
            await self._endpoint.aclose()

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint client, built on first use: a run answered wholly from the cache
        never loads the openai SDK. (With ``start_endpoint``, use :meth:`aendpoint`.)"""
        if self._endpoint is None:
            from .client import Endpoint

            self._endpoint = Endpoint(self.settings)
        return self._endpoint

    async def aendpoint(self) -> Endpoint:
        """The endpoint client, starting the endpoint first if this extractor was given
        ``start_endpoint`` (once, however many papers ask at the same time). If the model
        and mode of this run came from an earlier run's discovery, they are checked now,
        on the first real request (see :meth:`prepare`)."""
        if self._endpoint is None and self._start_endpoint is not None:
            async with self._start_lock:
                if self._start_endpoint is not None:
                    base_url = await self._start_endpoint()
                    origin = self.settings.origin
                    self.settings = self.settings.model_copy(update={"base_url": base_url})
                    self.settings.origin = origin
                    self._start_endpoint = None
        endpoint = self.endpoint
        if self._verify_discovery:
            async with self._start_lock:
                if self._verify_discovery:
                    model, mode = await endpoint.resolve_model(), await endpoint.resolve_mode()
                    self._remember_discovery(model, mode)
                    if self._base is not None:  # the endpoint changed since: later papers use what it is now
                        self._base.model, self._base.mode = model, mode
                    self._verify_discovery = False
        return endpoint

    def _discovery_key(self) -> str:
        s = self.settings
        return ResultCache.key({"discovery": self._endpoint_id, "model": s.model or "", "mode": s.mode})

    def _remember_discovery(self, model: str, mode: str) -> None:
        if self.cache is not None:
            self.cache.set_meta(self._discovery_key(), {"model": model, "mode": mode})

    async def prepare(self) -> Provenance:
        """Resolve the model and mode; return the provenance template every record of this
        run shares.

        With ``mode="auto"`` (or no model) the endpoint is asked once — the probe — and the
        answer is remembered in the cache directory for this endpoint. A later run starts
        from the remembered answer, so a run served wholly from the cache sends no request
        at all; on its first cache miss the endpoint is probed again, and if the answer
        changed, the rest of the run uses the new one.
        """
        s = self.settings
        if self.policy == "rules":  # no model at all
            model, mode = "none", "none"
        elif s.model and s.mode != "auto":  # nothing to ask the endpoint
            model, mode = s.model, s.mode
        else:
            remembered = self.cache.get_meta(self._discovery_key()) if self.cache is not None else None
            if remembered is not None:
                model, mode = remembered["model"], remembered["mode"]
                self._verify_discovery = True
            else:
                endpoint = await self.aendpoint()
                model = await endpoint.resolve_model()
                mode = await endpoint.resolve_mode()
                self._remember_discovery(model, mode)
        self._base = Provenance(
            model=model,
            endpoint="none" if self.policy == "rules" else s.endpoint_host,
            mode=mode,
            prompt_version=self.prompt.version,
            prompt_hash=self.prompt.hash,
        )
        return self._base

    def _cache_key(self, base: Provenance, messages: list[dict[str, str]], schema_key: str) -> str:
        s = self.settings
        return ResultCache.key(
            {
                "model": base.model,
                "temperature": s.temperature,
                "max_tokens": s.max_tokens,
                "max_reasks": s.max_reasks,
                "mode": base.mode,
                "prompt": self.prompt.hash,
                "schema": schema_key,
                "messages": messages,
            }
        )

    async def _ask_raw(
        self,
        base: Provenance,
        messages: list[dict[str, str]],
        make_model: Callable[[], type[BaseModel]],
        schema_key: str,
        optional: bool = False,
    ) -> tuple[dict[str, Any], Completion | None]:
        """One answer for these messages as JSON data, from the cache when it has it. The
        response model is built (``make_model``) only when a request is sent.

        For an ``optional`` request (one whose failure leaves the paper as it is: a re-ask,
        the summary of ``rules-first``), a model that gave no valid answer
        (:data:`_NO_ANSWER`; at temperature 0 it would give none again) is remembered too,
        and the same error is raised again from the cache: a re-run of a finished batch
        sends nothing. A paper that failed is never answered from the cache."""
        key = self._cache_key(base, messages, schema_key) if self.cache is not None else ""
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return _cached(hit), None
        asked_as = (base.model, base.mode)
        endpoint = await self.aendpoint()
        if (base.model, base.mode) != asked_as and self.cache is not None:  # the endpoint changed
            key = self._cache_key(base, messages, schema_key)
            if (hit := self.cache.get(key)) is not None:
                return _cached(hit), None
        try:
            done = await endpoint.complete(messages, make_model())
        except EndpointError as exc:
            if optional and self.cache is not None and exc.kind in _NO_ANSWER and self.settings.temperature == 0:
                self.cache.set(key, {"summary": None, "no_answer": [exc.kind, str(exc), exc.attempts]})
            raise
        data = done.value.model_dump(mode="json")
        if self.cache is not None:
            self.cache.set(key, {"summary": data})
        return data, done

    async def _answer(
        self, base: Provenance, ask: Ask, optional: bool = False
    ) -> tuple[dict[str, Any], ModelAnswer, Completion | None]:
        """The model's answer to one :class:`~extractor.answers.Ask` (from the cache when it
        has it): its JSON data and what it says."""
        data, done = await self._ask_raw(base, ask.messages, ask.make_model, ask.schema_key, optional)
        return data, ask.read(data), done

    async def aextract(self, paper: Paper, base: Provenance | None = None) -> Record:
        """Extract one paper. Endpoint failures become a record with ``error`` set;
        :class:`~extractor.errors.FatalEndpointError` (bad key, unknown model) is raised.

        When the server stops accepting connections mid-run, a restartable endpoint (the
        bundled server) is restarted and the paper tried once more; otherwise, after
        ``GONE_LIMIT`` such papers in a row, the batch is stopped (FatalEndpointError)
        instead of failing every remaining paper: a re-run resumes.
        """
        from .listings import too_long_record  # an abstract over the cap is an error record, unsent

        if (too_long := too_long_record(paper)) is not None:
            return too_long
        base = base or await self.prepare()
        generation = self._generation
        record, error = await self._aextract_once(paper, base)
        if isinstance(error, ServerGoneError) and await self._revive(generation):
            record, error = await self._aextract_once(paper, base)
        if not isinstance(error, ServerGoneError):
            self._gone_in_a_row = 0
            return record
        self._gone_in_a_row += 1
        if self._gone_in_a_row >= GONE_LIMIT:
            raise FatalEndpointError(
                "connection",
                f"{error}; stopped after {self._gone_in_a_row} papers in a row (finished records are kept: "
                "re-run to resume once the server is back)",
                error.attempts,
            ) from error
        return record

    async def _revive(self, generation: int) -> bool:
        """Restart the endpoint if this extractor can (``restart_endpoint``); True when a
        new endpoint is up since ``generation`` (this call's restart or another paper's)."""
        if self._restart_endpoint is None:
            return False
        async with self._start_lock:
            if self._generation != generation:
                return True
            base_url = await self._restart_endpoint()
            if base_url is None:
                return False
            old, self._endpoint = self._endpoint, None
            origin = self.settings.origin
            self.settings = self.settings.model_copy(update={"base_url": base_url})
            self.settings.origin = origin
            self._generation += 1
        if old is not None:
            await old.aclose()
        return True

    async def _aextract_once(self, paper: Paper, base: Provenance) -> tuple[Record, EndpointError | None]:
        links = find_links(paper.abstract)
        prov = base.model_copy()
        prov.cached = True
        record = Record.for_paper(paper, links=links, code_status=code_status(paper.abstract, links))
        proposals = propose(paper.title, paper.abstract) if self.policy != "model" else Proposals()

        def account(done: Completion | None) -> None:
            if done is not None:
                prov.cached = False
                prov.model, prov.mode = base.model, base.mode  # as asked (the endpoint may have changed)
                prov.tokens_in += done.tokens_in
                prov.tokens_out += done.tokens_out
                prov.attempts += done.attempts
                prov.latency_s += done.latency_s

        try:
            answer, grounding, dropped = await self._model_part(base, paper, links, prov, account)
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
        values, origin = combine(
            self.policy, answer.fields if answer else None, proposals, answer.contribution if answer else None
        )
        code_link = answer.fields.code_link if answer and answer.fields else None
        if code_link is None and (code_link := best_code_link(links)) is not None:
            origin["code_link"] = "rule"
        elif code_link is not None:
            origin["code_link"] = "rule" if grounding.get("code_link") in ("filled", "replaced") else "model"
        if answer is not None and summary_problem(answer.summary, paper.title, paper.abstract) is None:
            summary, record.summary_source = answer.summary, "model"
        else:
            summary, record.summary_source = extractive_summary(paper.abstract, paper.title), "extractive"
        origin["summary"] = "model" if record.summary_source == "model" else "rule"
        record.extraction = PaperSummary(**values, code_link=code_link, summary=summary)
        record.origin = origin
        record.grounding = grounding
        record.dropped = dropped
        record.provenance = prov
        return record, None

    async def _model_part(
        self, base: Provenance, paper: Paper, links: list[Link], prov: Provenance, account: Callable[[Completion | None], None]
    ) -> tuple[ModelAnswer | None, dict[str, str], list[Dropped]]:
        """Ask the model what the policy wants of it: its answer, grounded (check and span
        modes), with one re-ask when grounding dropped values (check mode) or the summary
        failed the gate. None under the ``rules`` policy, and under ``rules-first`` when
        the model gave no valid answer (the rules' values and an extractive summary
        stand). Worst case: (parts or 1 re-ask) + 1 answers, each within the request
        policy's own retries and schema re-asks."""
        policy, mode = self.policy, self.settings.grounding
        if policy == "rules":
            return None, {}, []
        texts = (
            split_text(paper.abstract, self.settings.context_budget)
            if len(paper.abstract) > self.settings.context_budget
            else [paper.abstract]
        )
        if not asks_for_fields(policy):
            texts = texts[:1]  # the summary of the opening part; the rules read the whole abstract
        prov.parts = len(texts)
        asks = [plan(policy, mode, self.prompt, paper.title, text) for text in texts]
        answers = []
        for ask in asks:
            try:
                data, answer, done = await self._answer(base, ask, optional=policy == "rules-first")
            except EndpointError as exc:
                if policy != "rules-first" or exc.kind not in _NO_ANSWER:
                    raise
                return None, {}, []  # the rules stand; the summary will be extractive
            account(done)
            answers.append((data, answer))
        answer = _merge(answers)
        checked = self._ground(answer, paper.abstract, links)
        problem = summary_problem(answer.summary, paper.title, paper.abstract)
        wrong = checked.dropped if checked is not None and mode == "check" else []
        if (wrong or problem) and len(asks) == 1:
            try:
                again = asks[0].again(answers[0][0], reask_message(wrong, problem))
                _, answer, done = await self._answer(base, again, optional=True)
            except EndpointError as exc:
                if exc.kind not in _NO_ANSWER:
                    raise
                done = None  # the re-ask found no valid answer: the first one stands
            account(done)
            checked = self._ground(answer, paper.abstract, links)
        if checked is None:
            return answer, {}, []
        return replace(answer, fields=checked.summary), checked.grounding, checked.dropped

    def _ground(self, answer: ModelAnswer, abstract: str, links: list[Link]) -> Grounded | None:
        if answer.fields is None or self.settings.grounding == "off":
            return None
        return ground(answer.fields, abstract, links)

    async def aextract_many(self, papers: Iterable[Paper], *, concurrency: int | None = None) -> AsyncIterator[Record]:
        """Extract papers concurrently (``settings.concurrency`` at a time), yielding records
        as they complete: the output order follows completion, not input. The input is
        consumed lazily, so memory stays flat on long inputs."""
        base = await self.prepare()
        width = concurrency or self.settings.concurrency
        results: asyncio.Queue[Record | BaseException | None] = asyncio.Queue(maxsize=width * 2)
        source = iter(papers)

        async def worker() -> None:
            try:
                for paper in source:  # shared iterator: each paper goes to one worker
                    await results.put(await self.aextract(paper, base))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                await results.put(exc)
            finally:
                await results.put(None)

        tasks = [asyncio.create_task(worker()) for _ in range(width)]
        running = len(tasks)
        try:
            while running:
                item = await results.get()
                if item is None:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

