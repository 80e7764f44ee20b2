"""``extractor fetch`` and ``extractor daily``: listings fetched from where papers are listed,
and the daily loop (fetch, run, library, digest)."""

from __future__ import annotations

import sys
from typing import Any

import click

from .app import EXIT_OK, err, main

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
