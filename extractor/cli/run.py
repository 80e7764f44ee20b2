"""``extractor run``, ``ray``, ``summarize`` and ``papers``: extracting listings and single abstracts."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import click

from ..sync import run_sync
from .app import (
    EXIT_NO_INPUT, EXIT_OK, EXIT_PARTIAL, err, exit_code, input_error, main, run_stoppable, settings_from, settings_options,
)  # fmt: skip
from ..errors import ExtractorError
from .pages import write_digest


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Record file (.jsonl or .csv).")
@click.option("--format", "output_format", type=click.Choice(["jsonl", "csv"]), help="Output format (default: by -o extension).")
@click.option("--input-format", type=click.Choice(["text", "jsonl", "json", "csv"]),
              help="Input format (default: by extension; JSON is also told by its first line).")  # fmt: skip
@click.option("--title-key", default="title", show_default=True,
              help="JSON/CSV title field; a dotted path reaches into nested objects (paper.title).")  # fmt: skip
@click.option("--abstract-key", default="abstract", show_default=True,
              help="JSON/CSV abstract field, e.g. paper.summary (the Hub's Daily Papers JSON needs none).")  # fmt: skip
@click.option("--limit", type=int, help="Only the first N distinct papers (try a few first).")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@click.option("-v", "--verbose", is_flag=True, help="Log each paper's request.")
@click.option("--stats-json", type=click.Path(path_type=Path), help="Also write the closing summary as JSON.")
@click.option("--digest", "digest_path", type=click.Path(path_type=Path),
              help="At the end, also write a digest of OUTPUT: a page (.html) or Markdown (.md).")  # fmt: skip
@settings_options("run")
def run(inputs: tuple[str, ...], output: Path, **kwargs: Any) -> None:
    """Extract every paper in INPUTS (files, folders or - for stdin) into OUTPUT.

    Re-running with the same OUTPUT resumes: papers already there are skipped and
    failed ones retried.

    \b
    Example:
      extractor run seeds/ -o results.jsonl --limit 5
    """
    from ..records.files import atomic_write, check_target
    from ..records.output import output_format_for
    from ..runs.run import BatchOptions, arun_batch

    options = BatchOptions(
        input_format=kwargs.pop("input_format"),
        title_key=kwargs.pop("title_key"),
        abstract_key=kwargs.pop("abstract_key"),
        output_format=kwargs.pop("output_format"),
        limit=kwargs.pop("limit"),
        quiet=kwargs.pop("quiet"),
        verbose=kwargs.pop("verbose"),
    )
    stats_json = kwargs.pop("stats_json")
    digest_path = kwargs.pop("digest_path")
    if digest_path and output_format_for(output, options.output_format) != "jsonl":
        raise click.UsageError("--digest reads the records back: write them as JSONL (-o results.jsonl)")
    if digest_path is not None:
        from ..pages.digest import digest_format_for

        digest_format_for(digest_path)  # digest -o x.txt: said before any paper is extracted
    for path, what in ((stats_json, "the stats"), (digest_path, "the digest")):
        if path is not None:
            check_target(path, what)  # a bad path is said before any paper is extracted
    settings = settings_from(kwargs)
    batch = partial(arun_batch, list(inputs), output, settings, options, on_input_error=input_error, announce=err)
    stats = run_stoppable(batch, options.stop_grace_s)
    err(stats.summary())
    if stats_json:
        atomic_write(stats_json, json.dumps(stats.to_dict(), indent=2), "the stats")
    if digest_path and output.exists():
        from ..pages.watch import Watchlist

        write_digest([output], digest_path, watch=Watchlist.of(settings))
    sys.exit(exit_code(read=stats.read, lost=stats.input_lost, failed=stats.failed, interrupted=stats.interrupted,
                       stopped=stats.stopped_by is not None))  # fmt: skip


@main.command("ray")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="Output directory (local or an object storage URI).")
@click.option("--format", "output_format", type=click.Choice(["jsonl", "parquet"]), default="jsonl", show_default=True,
              help="Record files to write.")  # fmt: skip
@click.option("--input-format", type=click.Choice(["jsonl", "parquet", "csv", "text"]), help="Input format (default: by extension).")
@click.option("--title-key", default="title", show_default=True, help="Title column.")
@click.option("--abstract-key", default="abstract", show_default=True, help="Abstract column.")
@click.option("--actors", type=click.IntRange(min=1), default=2, show_default=True,
              help="Actors, each with its own extractor and --concurrency requests in flight.")  # fmt: skip
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True, help="Papers per actor call.")
@click.option("--num-cpus", type=click.FloatRange(min=0), default=0.5, show_default=True, help="CPUs per actor.")
@click.option("--limit", type=int, help="Only the first N papers.")
@click.option("--address", help="Ray cluster to join [default: $RAY_ADDRESS, else a local cluster on this machine].")
@settings_options("ray")
def ray_command(inputs: tuple[str, ...], output: str, address: str | None, **kwargs: Any) -> None:
    """Extract INPUTS with Ray Data into the directory OUTPUT (pip install 'extractor[ray]').

    INPUTS: JSONL, Parquet or CSV with title and abstract columns (local paths, folders or
    URIs such as s3://bucket/papers/), or local text listings. Records are what `extractor
    run` writes. Re-running resumes: papers already in OUTPUT are skipped, failed ones
    retried. --concurrency is per actor.

    \b
    Example:
      extractor ray papers.jsonl -o records/ --base-url http://10.0.0.5:8000/v1 --actors 4 --concurrency 16
    """
    from ..ray.data import RayOptions, require_ray, run_ray

    ray = require_ray()
    options = RayOptions(**{name: kwargs.pop(name) for name in (
        "output_format", "input_format", "title_key", "abstract_key", "actors", "batch_size", "num_cpus", "limit")})  # fmt: skip
    settings = settings_from(kwargs)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report leaves the machine unless asked
    started = not ray.is_initialized()  # a caller (a notebook, a test) may have joined a cluster already
    with _ray_output_kept_off_the_terminal() as ray_output:
        try:
            if started:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            stats = run_ray(list(inputs), output, settings, options)
        except ExtractorError:
            raise  # said in one line; Ray's tracebacks of it stay off the terminal
        except BaseException:
            ray_output.failed = True  # not ours: Ray's own account of it is shown
            raise
        finally:
            if started:
                ray.shutdown()  # the actors and the local cluster this command started stop with it
    err(stats.summary())
    sys.exit(EXIT_PARTIAL if stats.failed else EXIT_OK)


class _RayOutput:
    failed = False


@contextlib.contextmanager
def _ray_output_kept_off_the_terminal() -> Iterator[_RayOutput]:
    """What Ray writes to this process's stderr (its start-up and progress logs, the
    tracebacks of failed tasks, its retry advice, its C++ core's log lines) goes to a
    temporary file instead of the terminal, so the command speaks in its own lines. When
    the ``with`` block marks a failure that is not an :class:`ExtractorError`, the end of
    Ray's output is shown, to say what went wrong. Ray's full logs stay in its session
    directory (``/tmp/ray/session_latest/logs``)."""
    state = _RayOutput()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield state
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if state.failed:
                captured.seek(max(0, captured.seek(0, os.SEEK_END) - 4000))
                err(captured.read().decode("utf-8", "replace"))



@main.command()
@click.argument("text")
@click.option("--title", help="The paper's title, if known.")
@settings_options("summarize")
def summarize(text: str, title: str | None, **kwargs: Any) -> None:
    """Extract one abstract (TEXT, or - to read it from stdin) and print its record as JSON."""
    from ..extraction.extractor import open_extractor
    from ..records.listings import is_blank, paper_from_text

    if text == "-":
        text = sys.stdin.read()
    if is_blank(text):
        raise click.UsageError("the abstract is empty")
    settings = settings_from(kwargs)

    async def go() -> Any:
        async with open_extractor(settings, announce=err) as ex:
            return await ex.aextract(paper_from_text(text, title=title))

    record = run_sync(go())
    click.echo(record.model_dump_json(indent=2))
    sys.exit(EXIT_PARTIAL if record.error else EXIT_OK)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--input-format", type=click.Choice(["text", "jsonl", "json", "csv"]), help="Input format (default: by extension).")
@click.option("--title-key", default="title", show_default=True, help="JSON/CSV title field (dotted for nested).")
@click.option("--abstract-key", default="abstract", show_default=True, help="JSON/CSV abstract field (dotted for nested).")
@click.option("--json", "as_json", is_flag=True, help="Print the unique papers as JSONL instead of counts.")
def papers(inputs: tuple[str, ...], input_format: str | None, title_key: str, abstract_key: str, as_json: bool) -> None:
    """Show what the listing reader finds in INPUTS, without calling any model (exit 4
    when some input could not be read, 3 when none could)."""
    from ..errors import InputWarning
    from ..records.listings import survey

    report = survey(
        list(inputs), fmt=input_format, title_key=title_key, abstract_key=abstract_key, on_error=input_error
    )
    if as_json:
        for paper in report.papers:
            click.echo(paper.model_dump_json())
    else:
        click.echo(report.describe())
    lost = sum(not isinstance(e, InputWarning) for e in report.errors)
    sys.exit(EXIT_NO_INPUT if report.read == 0 else exit_code(read=report.read, lost=lost))
