"""Batch API files: the requests of a run written out, and records made from the answers.

A cloud provider's Batch API (OpenAI's answers within 24 hours at half the price) and
vLLM's ``vllm run-batch`` take a JSONL file of requests and give back a JSONL file of
answers. This module writes the first and reads the second, so a batch goes through the
same pipeline as ``extractor run``, with no endpoint asked on the way:

* :func:`prepare_requests` writes one line per question ``extractor run`` asks first,
  ``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``. The body is
  the one the run sends (the same code path: :meth:`~extractor.extraction.extractor.Extractor.request_body`):
  messages, schema or tools, model, temperature, max_tokens. ``custom_id`` is the paper
  id; an abstract split into parts gives ``ID#1``, ``ID#2``... Papers that need no model
  (``--policy rules``, an abstract over the size limit) get no line.
* :func:`ingest_answers` reads the output file(s) and writes, for each paper of the
  inputs, the record ``extractor run`` writes from the same answers: validated, grounded,
  the summary gated, rules combined per policy (:func:`~extractor.extraction.pipeline.extract_paper`
  with the file as the model). Nothing can be re-asked offline: a re-ask is "no answer",
  so the first answer stands, as in a run whose re-ask found nothing better. A paper
  whose line is missing, failed (``error`` set, or a status other than 200) or does not
  validate is an error record naming its request's ``custom_id``: never a lost paper.
  A ``custom_id`` answered on several lines takes the first good answer, and the
  repetition is reported (:class:`~extractor.batchapi.output.BatchOutput`, in
  :mod:`~extractor.batchapi.output`, importable from here too). The
  record file resumes like ``extractor run``'s (papers already there are skipped, failed
  ones tried again, e.g. from a second batch's output), and every valid answer goes into
  the answer cache, so ``extractor run`` on the same inputs and settings asks nothing for
  it afterwards (its own re-asks excepted).

No probe is possible offline: the model must be given, and the mode is ``json_schema``
unless another is (what vLLM and OpenAI's batch endpoint take). Give ``ingest`` the
settings ``prepare`` had (model, mode, policy, grounding, context budget, max tokens,
temperature): they decide the questions the answers are matched to. Given the request
file too, ingest checks that these settings make the same requests: a paper whose request
differs is a ``mismatch`` error record, never read as the answer to another question.

Example:
    >>> from extractor.settings import Settings
    >>> s = Settings(model="gpt-4o-mini")
    >>> prepare_requests(["seeds/"], "requests.jsonl", s).requests  # doctest: +SKIP
    544
    >>> ingest_answers(["output.jsonl"], ["seeds/"], "records.jsonl", s).extracted  # doctest: +SKIP
    544
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..extraction.answers import Ask
from .output import BatchOutput
from ..runs.inputs import open_inputs, plan
from ..runs.stats import BatchOptions, BatchStats
from ..errors import ConfigError, EndpointError, InputError
from ..extraction.extractor import Extractor
from ..records.files import check_target, replacing
from ..records.jsonl import read_jsonl
from ..records.papers import too_long_record
from ..records.output import CSV_COLUMNS, RecordWriter, output_format_for
from ..extraction.pipeline import Answered, AskFn, extract_paper, paper_asks
from ..records.resume import OutputScan, latest
from ..schema import Paper, Record
from ..settings import Settings
from ..sync import run_sync

__all__ = [
    "CHAT_URL", "BatchOutput", "IngestStats", "PrepareStats", "aingest_answers", "aprepare_requests",
    "batch_settings", "done_ids", "ingest_answers", "paper_requests", "prepare_requests",
]  # fmt: skip

#: The ``url`` of every request line (OpenAI's batch endpoint and ``vllm run-batch`` take it).
CHAT_URL = "/v1/chat/completions"


def batch_settings(settings: Settings) -> Settings:
    """``settings`` for a batch: the model is required (nothing can be asked which one an
    endpoint serves) and mode ``auto`` becomes ``json_schema`` (no probe offline)."""
    if not settings.model and settings.uses_model:
        raise ConfigError("a batch needs --model: the model the batch endpoint runs (no endpoint is asked offline)")
    if settings.mode != "auto":
        return settings
    chosen = settings.model_copy(update={"mode": "json_schema"})
    chosen.origin = {**settings.origin, "mode": "batch default"}
    return chosen


def paper_requests(paper: Paper, ex: Extractor) -> list[tuple[str, Ask]]:
    """``(custom_id, question)`` for each question the paper asks first (after
    ``ex.prepare()``): the paper id, or ``ID#1``, ``ID#2``... for an abstract in parts."""
    asks = paper_asks(paper, ex.job)
    if len(asks) == 1:
        return [(paper.id, asks[0])]
    return [(f"{paper.id}#{n}", ask) for n, ask in enumerate(asks, 1)]


@dataclass
class PrepareStats(BatchStats):
    """What :func:`prepare_requests` did: the reading counts of :class:`BatchStats`, and
    the lines written."""

    requests: int = 0  # lines written
    papers: int = 0  # papers with at least one line
    without_model: int = 0  # papers that ask the model nothing (policy rules, too long)

    def summary(self) -> str:
        lines = [
            f"papers read {self.read}, unique {self.unique} ({self.duplicates} duplicates dropped), "
            f"already done {self.already_done}",
            f"requests {self.requests} for {self.papers} papers; {self.without_model} papers need no model",
        ]
        if self.input_errors:
            lines.append(f"input errors {len(self.input_errors)} (shown above; input lost: {self.input_lost})")
        return "\n".join(lines)


def done_ids(records: str | Path, fmt: str | None = None) -> set[str]:
    """The ids of the papers a record file holds a successful record of (read only).
    :class:`~extractor.errors.InputError` when there is no such file, or it is not a
    record file: a typo must not cost a whole batch of papers already done."""
    path = Path(records)
    if not path.is_file():
        why = "no such record file" if not path.exists() else "not a record file"
        raise InputError(str(path), f"{why}; --skip-done names the records of an earlier run (extractor run -o)")
    rows, _ = OutputScan(path, output_format_for(path, fmt), CSV_COLUMNS).rows()
    return {row.id for row in latest(rows) if row.id is not None and not row.failed}


async def aprepare_requests(
    inputs: list[str],
    output: str | Path,
    settings: Settings,
    options: BatchOptions | None = None,
    *,
    skip_done: str | Path | None = None,
    on_input_error: Callable[[InputError], None] | None = None,
) -> PrepareStats:
    """Write the batch request file of ``inputs`` to ``output`` (replaced whole, only once
    complete: :func:`~extractor.records.files.replacing`). Duplicates and ``options.limit`` are handled as by ``extractor run``; the
    papers that the record file ``skip_done`` already holds a success of are left out (to
    submit again only what a batch did not answer)."""
    opts = options or BatchOptions()
    stats = PrepareStats()
    settings = batch_settings(settings).model_copy(update={"cache": False})  # nothing is answered
    check_target(output, "the request file")
    done = done_ids(skip_done, opts.output_format) if skip_done is not None else set()
    with open_inputs(inputs, opts, stats, on_input_error) as read:
        pending, _ = plan(read, done, stats, opts.limit)
        async with Extractor(settings) as ex:
            await ex.prepare()
            with replacing(output, "the request file") as fh:
                for paper in pending:
                    lines = [] if too_long_record(paper) is not None else paper_requests(paper, ex)
                    for custom_id, ask in lines:
                        line = {"custom_id": custom_id, "method": "POST", "url": CHAT_URL, "body": ex.request_body(ask)}
                        fh.write((json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))
                    stats.requests += len(lines)
                    stats.papers += bool(lines)
                    stats.without_model += not lines
    return stats


def prepare_requests(
    inputs: list[str], output: str | Path, settings: Settings, options: BatchOptions | None = None, **kwargs: Any
) -> PrepareStats:
    """Synchronous :func:`aprepare_requests` (also inside a running event loop)."""
    return run_sync(aprepare_requests(inputs, output, settings, options, **kwargs))


# -- reading the answers ------------------------------------------------------------------


def _digest(body: Any) -> bytes:
    return hashlib.blake2b(json.dumps(body, sort_keys=True, ensure_ascii=False).encode(), digest_size=16).digest()


def _prepared(path: str | Path, report: Callable[[InputError], None]) -> dict[str, bytes]:
    """A digest of each request body of a request file, by ``custom_id``."""
    return {
        line["custom_id"]: _digest(line.get("body"))
        for _, line in read_jsonl(path, "request", report)
        if isinstance(line.get("custom_id"), str)
    }


def _asker(ex: Extractor, paper: Paper, answers: BatchOutput, prepared: dict[str, bytes] | None) -> AskFn:
    """The model, for one paper, as the batch output answered it."""
    ids = {json.dumps(ask.messages): custom_id for custom_id, ask in paper_requests(paper, ex)}

    async def ask(question: Ask, optional: bool) -> Answered:
        custom_id = ids.get(json.dumps(question.messages))
        if custom_id is None:  # only a re-ask (always optional): the first answer stands
            raise EndpointError("validation", f"{paper.id}: a re-ask has no answer in a batch output file")
        sent = prepared.get(custom_id) if prepared is not None else None
        if sent is not None and sent != _digest(ex.request_body(question)):
            raise EndpointError(
                "mismatch",
                f"{custom_id}: the request file holds another request for this paper: give ingest the settings "
                "prepare had (model, mode, policy, grounding, context budget, max tokens, temperature) and the same input",
            )
        failures: list[EndpointError] = []
        for completion in answers.completions(custom_id):  # the first good answer wins
            if isinstance(completion, EndpointError):
                failures.append(completion)
                continue
            try:
                return ex.answer_from(question, completion)
            except EndpointError as exc:
                failures.append(EndpointError(exc.kind, f"{custom_id}: {exc}", exc.attempts))
        raise failures[0]

    return ask


@dataclass
class IngestStats(BatchStats):
    """What :func:`ingest_answers` did: the counts of :class:`BatchStats`, and the first
    error message of each kind."""

    examples: dict[str, str] = field(default_factory=dict)  # error kind -> its first message

    def count(self, record: Record) -> None:
        super().count(record)
        if record.error is not None:
            self.examples.setdefault(record.error.kind, record.error.message)

    def summary(self) -> str:
        return "\n".join([super().summary(), *(f"  {kind}, e.g. {message}" for kind, message in self.examples.items())])


async def aingest_answers(
    outputs: list[str | Path],
    inputs: list[str],
    records: str | Path,
    settings: Settings,
    options: BatchOptions | None = None,
    *,
    requests: str | Path | None = None,
    on_input_error: Callable[[InputError], None] | None = None,
    announce: Callable[[str], None] | None = None,
) -> IngestStats:
    """Write the record of every paper of ``inputs`` to ``records`` from the answers in
    the batch output files ``outputs`` (see the module docstring). With ``requests`` (the
    request file that was submitted), a paper whose request these settings would not
    make is a ``mismatch`` error record instead of being read with the wrong question.
    ``announce`` is told when the answer cache cannot be used. Returns the counts."""
    opts = options or BatchOptions()
    stats = IngestStats.for_settings(settings)
    started = time.perf_counter()
    settings = batch_settings(settings)

    def report(err: InputError) -> None:  # a bad output line: told, and its paper has no answer
        stats.input_errors.append(str(err))
        if on_input_error is not None:
            on_input_error(err)

    with contextlib.ExitStack() as resources:
        read = resources.enter_context(open_inputs(inputs, opts, stats, on_input_error))
        answers = resources.enter_context(BatchOutput(outputs, report))
        prepared = _prepared(requests, report) if requests is not None else None
        writer = resources.enter_context(RecordWriter(records, opts.output_format))
        pending, _ = plan(read, writer.done, stats, opts.limit)
        async with Extractor(settings, announce=announce) as ex:
            await ex.prepare()
            where = settings.endpoint_host if settings.base_url else "batch"
            job = replace(ex.job, base=ex.job.base.model_copy(update={"endpoint": where}))
            for paper in pending:
                record = too_long_record(paper)
                if record is None:
                    record, _ = await extract_paper(paper, job, _asker(ex, paper, answers, prepared))
                if writer.write(record):
                    stats.count(record)
    stats.wall_s = time.perf_counter() - started
    return stats


def ingest_answers(
    outputs: list[str | Path],
    inputs: list[str],
    records: str | Path,
    settings: Settings,
    options: BatchOptions | None = None,
    **kwargs: Any,
) -> IngestStats:
    """Synchronous :func:`aingest_answers` (also inside a running event loop)."""
    return run_sync(aingest_answers(outputs, inputs, records, settings, options, **kwargs))
