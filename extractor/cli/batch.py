"""``extractor batch``: a Batch API's request file prepared, submitted, fetched and ingested."""

from __future__ import annotations

import sys
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..sync import run_sync
from .app import EXIT_OK, EXIT_PARTIAL, err, exit_code, input_error, main, settings_from, settings_options

F = TypeVar("F", bound=Callable[..., Any])


@main.group("batch")
def batch_group() -> None:
    """The Batch API: prepare a request file, submit it, fetch the answers, ingest them.

    \b
    Example (OpenAI's Batch API, half the price, answers within 24 h):
      extractor batch prepare seeds/ -o requests.jsonl --model gpt-4o-mini
      extractor batch submit requests.jsonl            # prints the batch id
      extractor batch status BATCH_ID
      extractor batch fetch BATCH_ID -o output.jsonl
      extractor batch ingest output.jsonl --input seeds/ -o records.jsonl --model gpt-4o-mini
    The same request file runs through `vllm run-batch -i requests.jsonl -o output.jsonl --model ...`.
    """


def _reading_options(func: F) -> F:
    for option in reversed([
        click.option("--input-format", type=click.Choice(["text", "jsonl", "json", "csv"]), help="Input format (default: by extension)."),
        click.option("--title-key", default="title", show_default=True, help="JSONL/CSV title field."),
        click.option("--abstract-key", default="abstract", show_default=True, help="JSONL/CSV abstract field."),
        click.option("--limit", type=int, help="Only the first N distinct papers."),
    ]):  # fmt: skip
        func = option(func)
    return func


def _batch_options(kwargs: dict[str, Any], **extra: Any) -> Any:
    from ..runs.run import BatchOptions

    names = ("input_format", "title_key", "abstract_key", "limit")
    return BatchOptions(**{name: kwargs.pop(name) for name in names}, **extra)


@batch_group.command("prepare")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The request file to write (JSONL).")  # fmt: skip
@click.option("--skip-done", type=click.Path(path_type=Path),
              help="A record file: leave out the papers it holds a success of (submit only what is left).")  # fmt: skip
@_reading_options
@settings_options("batch")
def batch_prepare(inputs: tuple[str, ...], output: Path, skip_done: Path | None, **kwargs: Any) -> None:
    """Write the Batch API request file of INPUTS: one line per request `extractor run`
    would send (custom_id = paper id). Needs --model; --mode is json_schema unless given."""
    from ..batchapi.files import prepare_requests

    options = _batch_options(kwargs)
    stats = prepare_requests(
        list(inputs), output, settings_from(kwargs), options, skip_done=skip_done, on_input_error=input_error
    )
    err(stats.summary())
    err(f"wrote {output}")
    sys.exit(exit_code(read=stats.read, lost=stats.input_lost))


@batch_group.command("ingest")
@click.argument("answers", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--input", "inputs", multiple=True, required=True, help="The inputs the requests were prepared from (repeat for several).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Record file (.jsonl or .csv); resumes.")
@click.option("--format", "output_format", type=click.Choice(["jsonl", "csv"]), help="Output format (default: by -o extension).")
@click.option("--requests", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The request file submitted: check these settings make the same requests.")  # fmt: skip
@_reading_options
@settings_options("batch")
def batch_ingest(answers: tuple[Path, ...], inputs: tuple[str, ...], output: Path, requests: Path | None,
                 **kwargs: Any) -> None:  # fmt: skip
    """Write the records of the papers of --input from the batch output file(s) ANSWERS, as
    `extractor run` would from the same answers. Give the settings prepare had. A paper
    without a good answer is an error record; the answers also fill the cache."""
    from ..batchapi.files import ingest_answers

    options = _batch_options(kwargs, output_format=kwargs.pop("output_format"))
    settings = settings_from(kwargs)
    stats = ingest_answers(
        list(answers), list(inputs), output, settings, options, requests=requests, on_input_error=input_error,
        announce=err,
    )
    err(stats.summary())
    sys.exit(exit_code(read=stats.read, lost=stats.input_lost, failed=stats.failed))


def _batch_client(kwargs: dict[str, Any]) -> Any:
    from ..batchapi.client import BatchClient

    return BatchClient(settings_from(kwargs))


@batch_group.command("submit")
@click.argument("requests", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--completion-window", default="24h", show_default=True, help="How long the server may take.")
@settings_options("batch")
def batch_submit(requests: Path, completion_window: str, **kwargs: Any) -> None:
    """Upload REQUESTS and start a batch on the endpoint's Batch API; prints the batch id."""

    async def go() -> Any:
        async with _batch_client(kwargs) as client:
            return await client.submit(requests, completion_window=completion_window)

    info = run_sync(go())
    err(info.describe())
    click.echo(info.id)


@batch_group.command("status")
@click.argument("batch_id")
@click.option("--wait", is_flag=True, help="Poll until the batch is done.")
@click.option("--poll", type=float, default=30.0, show_default=True, help="Seconds between polls with --wait.")
@settings_options("batch")
def batch_status(batch_id: str, wait: bool, poll: float, **kwargs: Any) -> None:
    """Say where batch BATCH_ID is (exit 0 when done, 1 while it runs)."""

    async def go() -> Any:
        async with _batch_client(kwargs) as client:
            return await (client.wait(batch_id, poll_s=poll) if wait else client.status(batch_id))

    info = run_sync(go())
    click.echo(info.describe())
    sys.exit(EXIT_OK if info.done else EXIT_PARTIAL)


@batch_group.command("fetch")
@click.argument("batch_id")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the answers (the output file's lines, then the error file's).")  # fmt: skip
@settings_options("batch")
def batch_fetch(batch_id: str, output: Path, **kwargs: Any) -> None:
    """Download the answers of batch BATCH_ID (exit 1 while it still runs)."""
    from ..batchapi.client import BatchNotDone

    async def go() -> Any:
        async with _batch_client(kwargs) as client:
            return await client.fetch(batch_id, output)

    try:
        fetched = run_sync(go())
    except BatchNotDone as exc:
        err(f"extractor batch fetch: {exc}")
        sys.exit(EXIT_PARTIAL)
    err(fetched.batch.describe())
    err(f"wrote {output}: {fetched.answers} answer lines, {fetched.errors} error lines")
