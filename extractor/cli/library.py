"""``extractor search`` and ``extractor library``: the papers remembered across days."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..schema import Contribution
from .app import EXIT_OK, err, main, settings_from, settings_options


def open_library(kwargs: dict[str, Any], *, create: bool = False) -> Any:
    """The library the settings name (``--library``, ``EXTRACTOR_LIBRARY``, config file,
    else the default), opened for reading unless ``create``."""
    from ..library import Library

    settings = settings_from(kwargs)
    return Library(settings.library_path, create=create)


def _day(value: str | None) -> str | None:
    if value is None:
        return None
    from ..records.dates import parse_day

    try:
        return parse_day(value).isoformat()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None


def _show(hit: Any, bold: bool) -> str:
    """A result as a few lines: id, days, upvotes, title; kind and task; link; the snippet."""
    seen = hit.first_seen if hit.first_seen == hit.last_seen else f"{hit.first_seen}..{hit.last_seen}"
    votes = f" ▲{hit.upvotes}" if hit.upvotes is not None else ""
    title = click.style(hit.title, bold=True) if bold else hit.title
    lines = [f"{hit.id}  {seen}{votes}  {title}"]
    about = [hit.kind or ("failed" if not hit.ok else ""), f"task: {hit.task}" if hit.task else "",
             hit.method_name or ""]  # fmt: skip
    code = hit.code_link or hit.github_repo
    link = f"https://arxiv.org/abs/{hit.arxiv_id}" if hit.arxiv_id else hit.url
    lines.append("    " + " · ".join(part for part in [*about, f"code: {code}" if code else "", link or ""] if part))
    if hit.snippet:
        snippet = hit.snippet
        if bold:
            snippet = snippet.replace("«", "\x1b[1m").replace("»", "\x1b[0m")
        lines.append("    " + snippet)
    return "\n".join(lines)


@main.command("search")
@click.argument("query", required=False, default="")
@click.option("--since", help="Only papers last seen on or after this day (YYYY-MM-DD, today, yesterday).")
@click.option("--code", is_flag=True, help="Only papers with code (a link in the abstract or a GitHub repo on the listing).")
@click.option("--kind", type=click.Choice([c.value for c in Contribution]), help="Only this kind of contribution.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most N papers.")
@click.option("--json", "as_json", is_flag=True, help="Print each paper as a JSON line.")
@settings_options("search")
def search_command(query: str, since: str | None, code: bool, kind: str | None, limit: int, as_json: bool, **kwargs: Any) -> None:
    """Find papers in the library by words of their title, abstract, task, method, summary
    or authors, across every day it holds. All words must match (stemmed: "hallucination"
    finds "hallucinations"); "quoted phrases", prefix* and OR work too. Best matches first.

    \b
    Example:
      extractor search "knowledge editing" --since 2024-10-01 --code
      extractor search --kind dataset_or_benchmark --since yesterday --json
    """
    with open_library(kwargs) as library:
        hits = library.search(query, since=_day(since), code=code, kind=kind, limit=limit)
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit.to_dict(), ensure_ascii=False))
    else:
        bold = sys.stdout.isatty()
        for hit in hits:
            click.echo(_show(hit, bold))
        err(f"{len(hits)} paper{'s' if len(hits) != 1 else ''}" + (" (--limit reached)" if len(hits) == limit else ""))
    sys.exit(EXIT_OK)


@main.group("library")
def library_group() -> None:
    """The library: every paper `extractor daily` (or `extractor run --library`) has seen,
    one SQLite file. Open it with sqlite3 or datasette too: its schema is documented."""


@library_group.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.option("--days", type=click.IntRange(min=0), default=7, show_default=True, help="Recent days to list.")
@settings_options("library")
def library_stats_command(as_json: bool, days: int, **kwargs: Any) -> None:
    """Count what the library holds: papers, extracted and failed, with code, listings,
    days, kinds, and the papers of each recent day (how many were new)."""
    with open_library(kwargs) as library:
        stats = library.stats(recent=days)
    click.echo(json.dumps(stats.to_dict(), indent=2) if as_json else stats.describe())


@library_group.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-", show_default=True,
              help="Record file to write (JSONL); - for stdout.")  # fmt: skip
@click.option("--since", help="Only papers last seen on or after this day.")
@settings_options("library")
def library_export_command(output: str, since: str | None, **kwargs: Any) -> None:
    """Write the latest record of every paper as JSONL: the record file `extractor run`
    writes, so `extractor digest` and `extractor explain` read it.

    \b
    Example:
      extractor library export --since 2024-10-01 -o october.jsonl && extractor digest october.jsonl -o october.html
    """
    with open_library(kwargs) as library:
        if output == "-":
            count = library.export(sys.stdout, since=_day(since))
        else:
            count = library.export(Path(output), since=_day(since))
    err(f"exported {count} papers" + ("" if output == "-" else f" to {output}"))


@library_group.command("path")
@settings_options("library")
def library_path_command(**kwargs: Any) -> None:
    """Print the library's path (for sqlite3, datasette or a backup), whether or not it exists yet.

    \b
    Example:
      datasette "$(extractor library path)"
    """
    click.echo(str(settings_from(kwargs).library_path))
