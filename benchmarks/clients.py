"""The client programs the benchmark compares, each run as its own process by ``run.py``.

Usage (what ``run.py`` does)::

    python benchmarks/clients.py CLIENT --base-url URL --model M --input FILE_OR_DIR \
        --output OUT.jsonl [--concurrency N] [--title-key title] [--stats STATS.json]

``CLIENT`` is one of:

* ``sync`` -- the script a user writes first: ``instructor.from_openai(OpenAI())`` and a
  ``for`` loop, one paper at a time.
* ``async`` -- the same with ``AsyncOpenAI``, ``asyncio.gather`` and an
  ``asyncio.Semaphore(N)``.
* ``lean`` -- a prototype of the client path proposed for ``extractor/client.py`` (see
  ``benchmarks/README.md``): the request body (messages + tools + tool_choice) is built
  once per run, sent with ``AsyncOpenAI.post`` (no per-call params transform, no
  per-call pydantic model or JSON schema), the answer validated with
  ``Extraction.model_validate_json`` and re-asked by hand on a validation error.
* ``lean_aiohttp`` -- the same over ``aiohttp`` instead of the openai SDK (the floor of a
  Python client: what is left when the SDK's httpx transport and response models are gone).
* ``langextract`` -- google/langextract 1.7 with its OpenAI provider pointed at
  ``--base-url``; ``max_workers = batch_length = N``; a prompt and one worked example for
  the same fields (task, method, method_name, claimed_gain, code_link, contribution,
  summary), as a user would write them. Its extractions are mapped to our ``Record``
  shape minimally (see :func:`langextract_record`).

Every client reads the same input with ``extractor.records.listings.read_papers`` + ``dedupe``
(so reading is in every client's CPU, as it is in ``extractor run``'s), uses our
``Extraction`` schema and prompt (except langextract, which has its own prompt format),
and writes one JSON record per paper to ``--output`` in the shape ``extractor eval --pred``
reads. ``--stats`` receives ``{"papers", "ok", "failed", "loop_cpu_s", "loop_wall_s",
"import_cpu_s", "tokens_in", "tokens_out"}``: the CPU of the extraction loop alone, after
the imports.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

_T0_CPU = time.process_time()

SYSTEM_FALLBACK = (
    "You read one research paper abstract and fill the given schema.\n"
    "Use only what the abstract states. Copy names, numbers, datasets and URLs exactly as written; "
    "never invent them.\nUse null or an empty list when the abstract does not say."
)


def _papers(args: argparse.Namespace) -> list[Any]:
    from extractor.records.listings import dedupe, read_papers

    papers, _ = dedupe(read_papers([args.input], title_key=args.title_key, abstract_key=args.abstract_key))
    return papers


def _messages(paper: Any) -> list[dict[str, str]]:
    from extractor.extraction.prompts import load_prompt

    return load_prompt("extract").messages(title=paper.title, abstract=paper.abstract)


def _record(paper: Any, summary: Any = None, error: str | None = None, usage: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    """A line that ``extractor.eval.score.load_records`` accepts (a ``Record``)."""
    rec: dict[str, Any] = {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        "source": {"path": paper.source.path, "line": paper.source.line},
        "extraction": summary,
    }
    if error is not None:
        rec["error"] = {"kind": "error", "message": error[:300], "attempts": 1}
    rec["provenance"] = {
        "model": "", "endpoint": "", "mode": "", "prompt_version": "", "prompt_hash": "",
        "tokens_in": usage[0], "tokens_out": usage[1],
    }  # fmt: skip
    return rec


# --------------------------------------------------------------------------- sync


def run_sync(args: argparse.Namespace) -> dict[str, Any]:
    import instructor
    import openai

    from extractor.schema import Extraction

    papers = _papers(args)
    import_cpu = time.process_time() - _T0_CPU
    client = instructor.from_openai(
        openai.OpenAI(base_url=args.base_url, api_key="x", timeout=args.timeout), mode=instructor.Mode.TOOLS
    )
    c0, w0 = time.process_time(), time.perf_counter()
    ok = failed = tin = tout = 0
    with open(args.output, "w", encoding="utf-8") as out:
        for paper in papers:
            try:
                summary, raw = client.chat.completions.create_with_completion(
                    model=args.model,
                    response_model=Extraction,
                    messages=_messages(paper),
                    max_retries=2,
                    temperature=0,
                    max_tokens=1024,
                )
                usage = (raw.usage.prompt_tokens, raw.usage.completion_tokens) if raw.usage else (0, 0)
                tin, tout = tin + usage[0], tout + usage[1]
                out.write(json.dumps(_record(paper, summary.model_dump(mode="json"), usage=usage)) + "\n")
                ok += 1
            except Exception as exc:  # noqa: BLE001 - a failed paper is a record
                out.write(json.dumps(_record(paper, error=f"{type(exc).__name__}: {exc}")) + "\n")
                failed += 1
    return _stats(papers, ok, failed, c0, w0, import_cpu, tin, tout)


# --------------------------------------------------------------------------- async


def run_async(args: argparse.Namespace) -> dict[str, Any]:
    import asyncio

    import instructor
    import openai

    from extractor.schema import Extraction

    papers = _papers(args)
    import_cpu = time.process_time() - _T0_CPU

    async def main() -> dict[str, Any]:
        client = instructor.from_openai(
            openai.AsyncOpenAI(base_url=args.base_url, api_key="x", timeout=args.timeout), mode=instructor.Mode.TOOLS
        )
        sem = asyncio.Semaphore(args.concurrency)
        counts = {"ok": 0, "failed": 0, "tin": 0, "tout": 0}
        out = open(args.output, "w", encoding="utf-8")

        async def one(paper: Any) -> None:
            async with sem:
                try:
                    summary, raw = await client.chat.completions.create_with_completion(
                        model=args.model,
                        response_model=Extraction,
                        messages=_messages(paper),
                        max_retries=2,
                        temperature=0,
                        max_tokens=1024,
                    )
                    usage = (raw.usage.prompt_tokens, raw.usage.completion_tokens) if raw.usage else (0, 0)
                    counts["tin"] += usage[0]
                    counts["tout"] += usage[1]
                    out.write(json.dumps(_record(paper, summary.model_dump(mode="json"), usage=usage)) + "\n")
                    counts["ok"] += 1
                except Exception as exc:  # noqa: BLE001
                    out.write(json.dumps(_record(paper, error=f"{type(exc).__name__}: {exc}")) + "\n")
                    counts["failed"] += 1

        c0, w0 = time.process_time(), time.perf_counter()
        try:
            await asyncio.gather(*(one(p) for p in papers))
        finally:
            out.close()
        return _stats(papers, counts["ok"], counts["failed"], c0, w0, import_cpu, counts["tin"], counts["tout"])

    return asyncio.run(main())


# --------------------------------------------------------------------------- lean


def run_lean(args: argparse.Namespace) -> dict[str, Any]:
    """The proposed client path (see the module docstring)."""
    import asyncio

    import openai
    from openai.types.chat import ChatCompletion
    from pydantic import ValidationError

    from extractor.schema import Extraction

    papers = _papers(args)
    import_cpu = time.process_time() - _T0_CPU

    constant = _lean_constant(args)  # built once per run

    async def main() -> dict[str, Any]:
        http = {"http_client": openai.DefaultAioHttpClient()} if args.aiohttp_transport else {}
        client = openai.AsyncOpenAI(base_url=args.base_url, api_key="x", timeout=args.timeout, max_retries=2, **http)
        sem = asyncio.Semaphore(args.concurrency)
        counts = {"ok": 0, "failed": 0, "tin": 0, "tout": 0}
        out = open(args.output, "w", encoding="utf-8")

        async def one(paper: Any) -> None:
            messages: list[dict[str, Any]] = _messages(paper)
            async with sem:
                try:
                    for attempt in range(3):  # 1 + 2 re-asks, as instructor's max_retries=2
                        resp = await client.post(
                            "/chat/completions", body={**constant, "messages": messages}, cast_to=ChatCompletion
                        )
                        if resp.usage:
                            counts["tin"] += resp.usage.prompt_tokens
                            counts["tout"] += resp.usage.completion_tokens
                        message = resp.choices[0].message
                        text = message.tool_calls[0].function.arguments if message.tool_calls else (message.content or "")
                        try:
                            summary = Extraction.model_validate_json(text)
                            break
                        except ValidationError as exc:
                            if attempt == 2:
                                raise
                            messages = _reask(messages, text, exc)
                    out.write(json.dumps(_record(paper, summary.model_dump(mode="json"))) + "\n")
                    counts["ok"] += 1
                except Exception as exc:  # noqa: BLE001
                    out.write(json.dumps(_record(paper, error=f"{type(exc).__name__}: {exc}")) + "\n")
                    counts["failed"] += 1

        c0, w0 = time.process_time(), time.perf_counter()
        try:
            await asyncio.gather(*(one(p) for p in papers))
        finally:
            out.close()
            await client.close()
        return _stats(papers, counts["ok"], counts["failed"], c0, w0, import_cpu, counts["tin"], counts["tout"])

    return asyncio.run(main())


def _lean_constant(args: argparse.Namespace) -> dict[str, Any]:
    """The lean path's request body without the messages: a forced ``Extraction`` tool."""
    from extractor.schema import Extraction

    schema = Extraction.model_json_schema()
    tool = {
        "type": "function",
        "function": {
            "name": "Extraction",
            "description": schema.get("description", ""),
            "parameters": {k: v for k, v in schema.items() if k not in ("title", "description")},
        },
    }
    return {
        "model": args.model,
        "temperature": 0,
        "max_tokens": 1024,
        "tools": [tool],
        "tool_choice": {"type": "function", "function": {"name": "Extraction"}},
    }


def _reask(messages: list[dict[str, Any]], text: str, exc: Exception) -> list[dict[str, Any]]:
    """The messages of a re-ask after an answer that failed validation (instructor's wording)."""
    return [
        *messages,
        {"role": "assistant", "content": text},
        {"role": "user", "content": f"Recall the function correctly, fix the errors:\n{exc}"},
    ]


def run_lean_aiohttp(args: argparse.Namespace) -> dict[str, Any]:
    """The lean path over aiohttp instead of the openai SDK's httpx transport: the floor of a
    Python client (same body, same validation and re-ask as ``lean``)."""
    import asyncio

    import aiohttp
    from pydantic import ValidationError

    from extractor.schema import Extraction

    papers = _papers(args)
    import_cpu = time.process_time() - _T0_CPU
    constant = _lean_constant(args)
    url = args.base_url.rstrip("/") + "/chat/completions"

    async def main() -> dict[str, Any]:
        counts = {"ok": 0, "failed": 0, "tin": 0, "tout": 0}
        out = open(args.output, "w", encoding="utf-8")
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        timeout = aiohttp.ClientTimeout(total=args.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            sem = asyncio.Semaphore(args.concurrency)

            async def one(paper: Any) -> None:
                messages: list[dict[str, Any]] = _messages(paper)
                async with sem:
                    try:
                        for attempt in range(3):
                            async with session.post(url, json={**constant, "messages": messages}) as resp:
                                resp.raise_for_status()
                                data = json.loads(await resp.read())
                            usage = data.get("usage") or {}
                            counts["tin"] += usage.get("prompt_tokens", 0)
                            counts["tout"] += usage.get("completion_tokens", 0)
                            message = data["choices"][0]["message"]
                            calls = message.get("tool_calls")
                            text = calls[0]["function"]["arguments"] if calls else (message.get("content") or "")
                            try:
                                summary = Extraction.model_validate_json(text)
                                break
                            except ValidationError as exc:
                                if attempt == 2:
                                    raise
                                messages = _reask(messages, text, exc)
                        out.write(json.dumps(_record(paper, summary.model_dump(mode="json"))) + "\n")
                        counts["ok"] += 1
                    except Exception as exc:  # noqa: BLE001
                        out.write(json.dumps(_record(paper, error=f"{type(exc).__name__}: {exc}")) + "\n")
                        counts["failed"] += 1

            c0, w0 = time.process_time(), time.perf_counter()
            try:
                await asyncio.gather(*(one(p) for p in papers))
            finally:
                out.close()
        return _stats(papers, counts["ok"], counts["failed"], c0, w0, import_cpu, counts["tin"], counts["tout"])

    return asyncio.run(main())


# --------------------------------------------------------------------------- langextract

LX_PROMPT = """\
Extract from this research paper abstract, in order of appearance and using exact text from the abstract:
- task: the problem the paper addresses (a short noun phrase);
- method: what the paper proposes, with attribute method_name (its name or acronym as written, if any);
- claimed_gain: each quantitative improvement the paper claims; the extraction text is the number exactly \
as written, with attributes metric (what is measured), baseline (what it is compared against) and dataset \
(the dataset or benchmark named for it);
- code_link: a URL to the paper's code, if the abstract gives one;
- contribution: the main kind of contribution, one of method, dataset_or_benchmark, survey, analysis, \
system_or_tool, theory, other (extraction text: the phrase that shows it);
- summary: the sentence that best says what the paper does.
Do not paraphrase and do not invent values; leave out what the abstract does not state."""

LX_EXAMPLE_TEXT = (
    "We present SlowFast networks for video recognition. Our model involves a Slow pathway, operating at low "
    "frame rate, to capture spatial semantics, and a Fast pathway, operating at high frame rate, to capture "
    "motion at fine temporal resolution. Without any pre-training, SlowFast reaches 79.0% accuracy on "
    "Kinetics-400, 5.1% better than the previous best. Code is available at "
    "https://github.com/facebookresearch/SlowFast."
)


def _lx_examples() -> list[Any]:
    import langextract as lx

    E = lx.data.Extraction
    return [
        lx.data.ExampleData(
            text=LX_EXAMPLE_TEXT,
            extractions=[
                E(extraction_class="summary", extraction_text="We present SlowFast networks for video recognition."),
                E(extraction_class="task", extraction_text="video recognition"),
                E(
                    extraction_class="method",
                    extraction_text="SlowFast networks",
                    attributes={"method_name": "SlowFast"},
                ),
                E(extraction_class="contribution", extraction_text="We present SlowFast networks", attributes={"kind": "method"}),
                E(
                    extraction_class="claimed_gain",
                    extraction_text="5.1%",
                    attributes={"metric": "accuracy", "baseline": "the previous best", "dataset": "Kinetics-400"},
                ),
                E(extraction_class="code_link", extraction_text="https://github.com/facebookresearch/SlowFast"),
            ],
        )
    ]


_CONTRIBUTIONS = {"method", "dataset_or_benchmark", "survey", "analysis", "system_or_tool", "theory", "other"}


def langextract_record(paper: Any, extractions: list[Any], usage: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    """Map langextract's extractions to our Record shape, minimally: the first ``task``,
    ``method`` (+ its ``method_name`` attribute), ``code_link``, ``contribution`` (its
    ``kind`` attribute when valid, else ``other``) and ``summary``; every ``claimed_gain``
    becomes a ``ClaimedGain`` whose value and evidence are the extraction text."""
    first: dict[str, Any] = {}
    gains = []
    for ex in extractions or []:
        cls = (ex.extraction_class or "").strip()
        text = (ex.extraction_text or "").strip() if isinstance(ex.extraction_text, str) else str(ex.extraction_text or "")
        attrs = ex.attributes or {}
        if cls == "claimed_gain" and text:
            gains.append(
                {
                    "metric": str(attrs.get("metric") or ""),
                    "value": text,
                    "magnitude": None,
                    "unit": None,
                    "baseline": attrs.get("baseline") if isinstance(attrs.get("baseline"), str) else None,
                    "dataset": attrs.get("dataset") if isinstance(attrs.get("dataset"), str) else None,
                    "evidence": text,
                }
            )
        elif cls and cls not in first:
            first[cls] = (text, attrs)
    method = first.get("method", ("", {}))
    kind = first.get("contribution", ("", {}))[1].get("kind")
    summary = {
        "task": first.get("task", ("", {}))[0],
        "method": method[0],
        "method_name": method[1].get("method_name") if isinstance(method[1].get("method_name"), str) else None,
        "claimed_gains": gains,
        "code_link": first.get("code_link", (None, {}))[0] or None,
        "contribution": kind if kind in _CONTRIBUTIONS else "other",
        "summary": first.get("summary", ("", {}))[0],
    }
    return _record(paper, summary, usage=usage)


def run_langextract(args: argparse.Namespace) -> dict[str, Any]:
    import logging
    import threading
    import warnings

    import langextract as lx
    from langextract.providers import openai as lx_openai

    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    papers = _papers(args)
    import_cpu = time.process_time() - _T0_CPU

    # Count tokens from the responses (langextract does not report them).
    lock = threading.Lock()
    usage = {"in": 0, "out": 0, "requests": 0}
    original = lx_openai.OpenAILanguageModel._response_to_scored_output

    def counting(response: Any) -> Any:
        with lock:
            usage["requests"] += 1
            if getattr(response, "usage", None) is not None:
                usage["in"] += response.usage.prompt_tokens or 0
                usage["out"] += response.usage.completion_tokens or 0
        return original(response)

    lx_openai.OpenAILanguageModel._response_to_scored_output = staticmethod(counting)  # type: ignore[method-assign]

    c0, w0 = time.process_time(), time.perf_counter()
    by_id = {p.id: p for p in papers}
    docs = [lx.data.Document(text=p.abstract, document_id=p.id) for p in papers]
    config = lx.factory.ModelConfig(
        model_id=args.model,
        provider="OpenAILanguageModel",
        provider_kwargs={
            "base_url": args.base_url,
            "api_key": "x",
            "max_workers": args.concurrency,
            "temperature": 0.0,
            "max_output_tokens": 1024,  # as extractor's default --max-tokens
        },
    )
    ok = failed = 0
    with open(args.output, "w", encoding="utf-8") as out:
        try:
            results = lx.extract(
                text_or_documents=docs,
                prompt_description=LX_PROMPT,
                examples=_lx_examples(),
                config=config,
                max_workers=args.concurrency,
                batch_length=args.concurrency,
                show_progress=False,
                prompt_validation_level=lx.prompt_validation.PromptValidationLevel.OFF,
                use_schema_constraints=args.lx_schema == "on",
            )
            for doc in results:
                paper = by_id[doc.document_id]
                out.write(json.dumps(langextract_record(paper, doc.extractions or [])) + "\n")
                ok += 1
        except Exception as exc:  # noqa: BLE001 - langextract fails the whole batch
            for paper in papers:
                out.write(json.dumps(_record(paper, error=f"{type(exc).__name__}: {exc}")) + "\n")
            failed = len(papers)
            print(f"langextract failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    stats = _stats(papers, ok, failed, c0, w0, import_cpu, usage["in"], usage["out"])
    stats["requests"] = usage["requests"]
    return stats


# --------------------------------------------------------------------------- main


def _stats(papers: list[Any], ok: int, failed: int, c0: float, w0: float, import_cpu: float, tin: int, tout: int) -> dict[str, Any]:
    return {
        "papers": len(papers),
        "ok": ok,
        "failed": failed,
        "loop_cpu_s": time.process_time() - c0,
        "loop_wall_s": time.perf_counter() - w0,
        "import_cpu_s": import_cpu,
        "tokens_in": tin,
        "tokens_out": tout,
    }


RUNNERS = {
    "sync": run_sync,
    "async": run_async,
    "lean": run_lean,
    "lean_aiohttp": run_lean_aiohttp,
    "langextract": run_langextract,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("client", choices=sorted(RUNNERS))
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default="stub-model")
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--title-key", default="title")
    parser.add_argument("--abstract-key", default="abstract")
    parser.add_argument("--stats", help="write the run's counters here (JSON)")
    parser.add_argument(
        "--aiohttp-transport", action="store_true",
        help="lean: give the openai SDK its aiohttp transport (openai.DefaultAioHttpClient, the openai[aiohttp] extra)",
    )  # fmt: skip
    parser.add_argument(
        "--lx-schema", choices=["on", "off"], default="on",
        help="langextract: send its JSON schema (response_format json_schema; the default) or not "
        "(json_object: for servers that reject json_schema, such as llama-cpp-python's)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    stats = RUNNERS[args.client](args)
    if args.stats:
        Path(args.stats).write_text(json.dumps(stats))
    print(json.dumps(stats), file=sys.stderr)
    return 0 if stats["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
