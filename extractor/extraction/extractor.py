"""Extraction: one :class:`~extractor.schema.Paper` in, one :class:`~extractor.schema.Record` out.

The :class:`Extractor` holds what a run shares: its settings, the policy and prompt, the
answer cache, and the :class:`~extractor.llm.connect.Connection` to the endpoint. Each paper
goes through :func:`~extractor.extraction.pipeline.extract_paper`; the extractor answers its
questions from the cache, else from the endpoint with the paper's one retry budget, and
runs papers concurrently (:mod:`extractor.extraction.pool`). For a Batch API
(:mod:`extractor.batchapi.files`), :meth:`Extractor.request_body` gives the body a question is
sent with, and :meth:`Extractor.answer_from` reads an answer obtained elsewhere.

A failed paper is a record with ``error`` set. When the server stops accepting connections
mid-run, a restartable one (the bundled server) is restarted and the paper tried once
more; otherwise, after :data:`GONE_LIMIT` such papers in a row, the batch is stopped
(:class:`~extractor.errors.FatalEndpointError`) instead of failing every remaining paper.

Example:
    >>> from extractor import Extractor, Settings
    >>> ex = Extractor(Settings(base_url="http://127.0.0.1:8080/v1", model="m", mode="tools", cache=False))
    >>> ex.settings.mode, ex.policy
    ('tools', 'model-first')
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .answers import Ask
from ..llm.connect import Connection, connect
from ..llm.endpoint import Endpoint
from ..errors import EndpointError, FatalEndpointError, ServerGoneError
from ..records.listings import as_paper, too_long_record
from .pipeline import NO_ANSWER, Answered, Job, extract_paper, merge_parts
from .policy import resolve_policy
from .pool import imap_unordered
from .prompts import Prompt, load_prompt
from ..schema import Paper, Provenance, Record
from ..settings import Settings
from ..http.budget import Budget

if TYPE_CHECKING:
    from ..llm.cache import ResultCache

__all__ = ["GONE_LIMIT", "Extractor", "merge_parts", "open_extractor"]

#: Papers in a row whose server refused connections before a batch is stopped.
GONE_LIMIT = 3


class Extractor:
    """Reusable extractor over one endpoint. Use as ``async with Extractor(settings) as ex``
    or call :meth:`aclose` when done. ``connection`` (see :func:`~extractor.llm.connect.connect`)
    gives the bundled server; by default the settings' endpoint is used. ``announce`` is
    told, in one line, when the answer cache cannot be used (the run goes on without it;
    without ``announce`` it is a ``RuntimeWarning``)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        prompt: Prompt | None = None,
        connection: Connection | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = connection.settings if connection is not None else settings or Settings()
        self.cache: ResultCache | None = None
        if self.settings.cache:  # the cache module (and diskcache) only when there is a cache
            from ..llm.cache import ResultCache

            # A cache that cannot be used is said once (to announce, else a warning) and left off.
            self.cache = ResultCache(self.settings.cache_dir, on_broken=announce)
        self.connection = connection or Connection(self.settings)
        self.connection.cache = self.cache
        #: Which source each field trusts first (:mod:`extractor.extraction.policy`); ``auto`` is
        #: ``rules-first`` for the bundled model.
        self.policy = resolve_policy(self.settings.policy, bundled=self.connection.bundled)
        # rules-first asks the model only for the summary and contribution: its own prompt.
        self.prompt = prompt or load_prompt("summarize" if self.policy == "rules-first" else "extract")
        self._job: Job | None = None
        self._gone_in_a_row = 0

    async def __aenter__(self) -> Extractor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self.cache is not None:
            self.cache.record_run()
            self.cache.close()
        await self.connection.aclose()

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint client (built on first use; nothing is started or sent)."""
        return self.connection.endpoint

    def _follow_endpoint(self) -> None:
        """Later papers use what the endpoint is now: a remembered discovery that the first
        request's check found changed (:attr:`Connection.discovery <extractor.llm.connect.Connection.discovery>`)."""
        found = self.connection.discovery
        if self._job is not None and found is not None:
            self._job.base.model, self._job.base.mode = found.model, found.mode

    async def prepare(self) -> Provenance:
        """Resolve the model and mode (:meth:`~extractor.llm.connect.Connection.discover`);
        return the provenance template every record of this run shares."""
        if self.policy == "rules":  # no model at all
            model, mode = "none", "none"
        else:
            found = await self.connection.discover()
            model, mode = found.model, found.mode
        base = Provenance(
            model=model,
            endpoint="none" if self.policy == "rules" else self.connection.settings.endpoint_host,
            mode=mode,
            prompt_version=self.prompt.version,
            prompt_hash=self.prompt.hash,
        )
        self._job = Job(self.settings, self.policy, self.prompt, base)
        return base

    @property
    def job(self) -> Job:
        """What every paper of this run shares: settings, policy, prompt, provenance
        (set by :meth:`prepare`)."""
        if self._job is None:
            raise RuntimeError("Extractor.prepare() has not run")
        return self._job

    def _request(self, ask: Ask) -> Any:
        base = self.job.base
        return self.endpoint.completer.request(base.model, base.mode, ask.make_model(), ask.messages)

    def request_body(self, ask: Ask) -> dict[str, Any]:
        """The chat-completions body this extractor sends for ``ask`` (after
        :meth:`prepare`): messages, schema or tools, model, temperature, max_tokens.
        Nothing is sent."""
        return self._request(ask).body  # type: ignore[no-any-return]

    def answer_from(self, ask: Ask, completion: Any) -> Answered:
        """The answer to ``ask`` in a chat completion obtained elsewhere (a line of a Batch
        API output file), read and validated as an answer of the endpoint is; kept in the
        cache, so a later run asks nothing for it. Nothing can be re-asked: an answer that
        fails the schema raises :class:`~extractor.errors.EndpointError` ``validation``."""
        done = self.endpoint.completer.read_answer(self._request(ask), completion)
        data: dict[str, Any] = done.value.model_dump(mode="json")
        if self.cache is not None:
            self.cache.set(self._cache_key(self.job.base, ask.messages, ask.schema_key), {"summary": data})
        return Answered(data, ask.read(data), (done.tokens_in, done.tokens_out, done.attempts, done.latency_s))

    def _cache_key(self, base: Provenance, messages: list[dict[str, str]], schema_key: str) -> str:
        from ..llm.cache import ResultCache

        s = self.settings
        return ResultCache.key(
            {
                "model": base.model, "temperature": s.temperature, "max_tokens": s.max_tokens,
                "max_reasks": s.max_reasks, "mode": base.mode, "prompt": self.prompt.hash,
                "schema": schema_key, "messages": messages,
            }
        )  # fmt: skip

    def _cached(self, key: str, ask: Ask) -> Answered | None:
        """The cached answer, or None; a remembered "no valid answer" is raised again."""
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is None:
            return None
        if hit.get("no_answer"):
            kind, message, attempts = hit["no_answer"]
            raise EndpointError(kind, f"{message} (remembered from an earlier run)", attempts)
        return Answered(hit["summary"], ask.read(hit["summary"]), None)

    async def _ask(self, base: Provenance, ask: Ask, optional: bool, budget: Budget) -> Answered:
        """The answer to one question, from the cache when it has it. For an ``optional``
        question (a re-ask, the summary of ``rules-first``), a model that gave no valid
        answer is remembered too (at temperature 0 it would give none again): a re-run of a
        finished batch sends nothing. A paper that failed is never answered from the cache."""
        cached = self.cache is not None  # without a cache the key is never used: not computed (~50 us)
        key = self._cache_key(base, ask.messages, ask.schema_key) if cached else ""
        if (hit := self._cached(key, ask)) is not None:
            return hit
        asked_as = (base.model, base.mode)
        endpoint = await self.connection.get()  # a remembered discovery is checked: base may change
        self._follow_endpoint()
        if cached and (base.model, base.mode) != asked_as:
            key = self._cache_key(base, ask.messages, ask.schema_key)
            if (hit := self._cached(key, ask)) is not None:
                return hit
        try:
            done = await endpoint.complete(ask.messages, ask.make_model(), budget)
        except EndpointError as exc:
            if optional and self.cache is not None and exc.kind in NO_ANSWER and self.settings.temperature == 0:
                self.cache.set(key, {"summary": None, "no_answer": [exc.kind, str(exc), exc.attempts]})
            raise
        data: dict[str, Any] = done.value.model_dump(mode="json")
        if self.cache is not None:
            self.cache.set(key, {"summary": data})
        cost = (done.tokens_in, done.tokens_out, done.attempts, done.latency_s)
        answered_by = None if self.connection.bundled else done.endpoint  # the bundled server's port changes per run
        return Answered(data, ask.read(data), cost, answered_by)

    async def _once(self, paper: Paper, job: Job) -> tuple[Record, EndpointError | None]:
        budget = Budget.for_settings(self.settings)
        return await extract_paper(paper, job, lambda ask, optional: self._ask(job.base, ask, optional, budget))

    async def aextract(self, paper: Paper | Mapping[str, Any]) -> Record:
        """Extract one paper (see the module docstring for failures): a :class:`Paper`, or a
        mapping with ``title`` and ``abstract`` (and ``id``), read as ``extractor run``
        reads a JSONL line (:func:`~extractor.records.listings.as_paper`)."""
        paper = as_paper(paper)
        if (too_long := too_long_record(paper)) is not None:
            return too_long
        if self._job is None:
            await self.prepare()
        assert self._job is not None
        generation = self.connection.generation
        record, error = await self._once(paper, self._job)
        if isinstance(error, ServerGoneError) and await self.connection.revive(generation):
            record, error = await self._once(paper, self._job)
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

    async def aextract_many(self, papers: Iterable[Paper], *, concurrency: int | None = None) -> AsyncIterator[Record]:
        """Extract papers concurrently (``settings.concurrency`` at a time), yielding records
        as they complete: the output order follows completion, not input. The input is
        consumed lazily, so memory stays flat on long inputs."""
        await self.prepare()
        async for record in imap_unordered(papers, self.aextract, concurrency or self.settings.concurrency):
            yield record


@contextlib.asynccontextmanager
async def open_extractor(
    settings: Settings, *, announce: Callable[[str], None] | None = None
) -> AsyncIterator[Extractor]:
    """An :class:`Extractor` for these settings: the configured endpoint, else the bundled
    llama.cpp server, started on the first cache miss (a run answered from the cache never
    starts it) and stopped on the way out (see :func:`~extractor.llm.connect.connect`)."""
    async with connect(settings, announce=announce) as connection, Extractor(connection=connection, announce=announce) as ex:
        yield ex
