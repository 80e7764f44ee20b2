"""``extractor fetch`` and ``extractor daily``: listings fetched from where papers are listed,
and the daily loop (fetch, run, library, digest)."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Any

import click

from .app import EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, err, input_error, main, run_stoppable, settings_from, settings_options

_ENDPOINT_HELP = "Base URL of the service instead of the real one (a mirror, or a test server)."


def _fetch_options(func: Any) -> Any:
    for option in reversed([
        click.option("-o", "--output", default="-", show_default=True, type=click.Path(dir_okay=False, allow_dash=True),
                     help="Listing file to write (JSON Lines, what `extractor run` reads); - for stdout."),
        click.option("--limit", type=click.IntRange(min=1), help="At most N papers."),
        click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True,
                     help="Retries of a refused or dropped connection, a timeout, HTTP 429 or 5xx."),
        click.option("--endpoint", help=_ENDPOINT_HELP),
    ]):  # fmt: skip
        func = option(func)
    return func


def _write(listing: Any, output: str) -> None:
    if output == "-":
        sys.stdout.writelines(listing.lines())
        sys.stdout.flush()
    else:
        listing.write(output)
    where = "" if output == "-" else f" to {output}"
    if len(listing):
        err(f"fetched {len(listing)} papers ({listing.name}){where}")
    else:
        err(f"no papers listed for {listing.name}{where and ' (wrote an empty ' + output + ')'}")


@main.group("fetch")
def fetch_group() -> None:
    """Fetch a listing from where papers are listed, as the JSONL `extractor run` reads.

    Every field the source gives is kept. Network faults are retried; then the command
    stops with one line and exit code 2. HF_TOKEN is sent to Hugging Face when set, and
    stored nowhere.

    \b
    Example:
      extractor fetch hf --date 2024-10-25 -o listing.jsonl && extractor run listing.jsonl -o records.jsonl
    """


@fetch_group.command("hf")
@click.option("--date", help="A day: YYYY-MM-DD, today or yesterday (UTC) [default: today].")
@click.option("--week", help="An ISO week, 2024-W43, or a day in it.")
@click.option("--month", help="A month, 2024-10.")
@click.option("--sort", type=click.Choice(["published", "trending"]), help="Order of the Hub's answer [default: published].")
@_fetch_options
def fetch_hf_command(date: str | None, week: str | None, month: str | None, sort: str | None, output: str,
                     limit: int | None, retries: int, endpoint: str | None) -> None:  # fmt: skip
    """The Hugging Face Daily Papers of a day, a week or a month.

    \b
    Example:
      extractor fetch hf --date yesterday -o listing.jsonl
    """
    from ..sources.fetch import FetchOptions, fetch

    options = FetchOptions(endpoint=endpoint, retries=retries)
    listing = fetch("hf", date=date, week=week, month=month, sort=sort, limit=limit, options=options)
    _write(listing, output)
    sys.exit(EXIT_OK)


@fetch_group.command("arxiv")
@click.option("--category", required=True, help="An arXiv category, e.g. cs.CL, cs.LG, stat.ML.")
@click.option("--since", help="First submission day: YYYY-MM-DD, today or yesterday (UTC) [default: today].")
@click.option("--until", help="Last submission day [default: --since].")
@_fetch_options
def fetch_arxiv_command(category: str, since: str | None, until: str | None, output: str, limit: int | None,
                        retries: int, endpoint: str | None) -> None:  # fmt: skip
    """The papers of an arXiv category submitted from --since to --until, newest first,
    with authors, categories, comments and the PDF link. arXiv is asked 3 s apart.

    \b
    Example:
      extractor fetch arxiv --category cs.CL --since yesterday -o listing.jsonl
    """
    from ..sources.fetch import FetchOptions, fetch

    options = FetchOptions(endpoint=endpoint, retries=retries)
    listing = fetch("arxiv", category=category, since=since, until=until, limit=limit, options=options)
    _write(listing, output)
    sys.exit(EXIT_OK)


@main.command("daily")
@click.option("--source", type=click.Choice(["hf", "arxiv"]), default="hf", show_default=True,
              help="hf: the Hugging Face Daily Papers; arxiv: an arXiv category (--category).")  # fmt: skip
@click.option("--date", default="today", show_default=True, help="The day: YYYY-MM-DD, today or yesterday (UTC).")
@click.option("--category", help="The arXiv category, e.g. cs.CL (with --source arxiv).")
@click.option("--limit", type=click.IntRange(min=1), help="At most N papers of the day.")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), envvar="EXTRACTOR_DAILY_DIR",
              help="Where each day's listing, records and digest go "
                   "[env EXTRACTOR_DAILY_DIR; default: <user data dir>/extractor/daily].")  # fmt: skip
@click.option("--digest-format", type=click.Choice(["html", "md"]), default="html", show_default=True, help="The digest: a page or Markdown.")
@click.option("--refresh", is_flag=True, help="Fetch the listing again even if a finished day's is saved.")
@click.option("--fetch-retries", type=click.IntRange(min=0), default=3, show_default=True,
              help="Retries of the listing's source (--retries is the model's).")  # fmt: skip
@click.option("--endpoint", help=_ENDPOINT_HELP)
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@settings_options("daily")
def daily_command(source: str, date: str, category: str | None, limit: int | None, folder: Path | None,
                  digest_format: str, refresh: bool, fetch_retries: int, endpoint: str | None, quiet: bool,
                  **kwargs: Any) -> None:  # fmt: skip
    """The daily loop: fetch a day's papers, extract them, remember them in the library, and
    write the day's digest, each paper marked new today or seen before (with the day it was
    first seen). Prints the digest's path.

    A finished day's listing is fetched once; running again the same day sends no request
    to the model (papers already extracted are skipped, the rest come from the cache).
    Exit codes as for `extractor run`.

    \b
    Example:
      extractor daily --date yesterday && extractor search "diffusion" --since yesterday
      extractor daily --source arxiv --category cs.CL --date yesterday --policy rules
    """
    from ..runs.daily import DailyOptions, arun_daily
    from ..sources.fetch import FetchOptions

    if (source == "arxiv") != bool(category):
        raise click.UsageError("--category goes with --source arxiv (and --source arxiv needs one)")
    settings = settings_from(kwargs)
    options = DailyOptions(source=source, date=date, category=category, limit=limit, folder=folder,  # type: ignore[arg-type]
                           digest_format=digest_format, refresh=refresh, quiet=quiet,  # type: ignore[arg-type]
                           fetch=FetchOptions(endpoint=endpoint, retries=fetch_retries))  # fmt: skip
    report = run_stoppable(partial(arun_daily, options, settings, announce=err, on_input_error=input_error), 5.0)
    err(report.summary())
    if report.digest is not None:
        click.echo(str(report.digest))
    stats = report.batch
    if stats.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if stats.stopped_by:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_PARTIAL if stats.failed else EXIT_OK)
