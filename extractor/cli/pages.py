"""``extractor digest``, ``extractor site`` and ``extractor explain``: pages people read,
made from record files or from the library."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import InputError
from .app import (
    EXIT_INPUT_LOST,
    EXIT_NO_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    err,
    input_error,
    main,
    settings_from,
    settings_options,
)


def write_digest(records: list[Path], output: Path, title: str | None = None, fmt: str | None = None,
                 watch: Any = None) -> int:  # fmt: skip
    """Write the digest, each unreadable record line told on stderr; how many were lost."""
    from ..pages.digest import digest_files

    lost = 0

    def told(error: InputError) -> None:
        nonlocal lost
        lost += 1
        input_error(error)

    summary = digest_files(records, output, title=title, fmt=fmt, on_error=told, watch=watch)
    watched = f", {summary.watched} on the watchlist" if summary.watched else ""
    err(f"wrote {output}: {summary.papers} records, {summary.unique} papers, {summary.failed} failed{watched}")
    return lost


@main.command("digest")
@click.argument("records", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="digest.html (one self-contained page) or digest.md (Markdown).")  # fmt: skip
@click.option("--format", "digest_format", type=click.Choice(["html", "md"]), help="Format (default: by -o extension).")
@click.option("--title", help="Title of the digest (default: Paper digest · DATE).")
@settings_options("digest")
def digest_command(records: tuple[Path, ...], output: Path, digest_format: str | None, title: str | None,
                   **kwargs: Any) -> None:  # fmt: skip
    """Write a digest of RECORDS (JSONL files of `extractor run`) to OUTPUT, to read
    rather than parse: the day summed up (facts, themes, counts and charts), then one
    card per paper with its authors, links, gains and their evidence; search (abstracts
    and authors too), filters, sorting and stars; the watchlist's papers marked and
    ranked first; failed papers apart. The HTML page is one file that needs no network;
    .md gives Markdown for email, Slack or a GitHub issue (another extension needs
    --format). A paper in several files is shown once. Exit 4 when a line of RECORDS
    could not be read (it is told, and left out).

    \b
    Example:
      extractor digest results.jsonl -o digest.html --watch-keywords diffusion
    """
    from ..pages.watch import Watchlist

    watch = Watchlist.of(settings_from(kwargs))
    try:
        lost = write_digest(list(records), output, title, digest_format, watch)
    except InputError as exc:
        input_error(exc)
        sys.exit(EXIT_USAGE if exc.path == str(output) else EXIT_NO_INPUT)  # cannot write there, or nothing to read
    sys.exit(EXIT_INPUT_LOST if lost else EXIT_OK)


@main.command("site")
@click.argument("library_file", metavar="LIBRARY", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="The site's folder (made if missing).")
@click.option("--day", "days", multiple=True, help="Only this day's page (and its neighbours'), YYYY-MM-DD; repeatable.")
@click.option("--site-url", help="Where the site is published (https://you.github.io/papers/): absolute links in the feed.")
@click.option("--feed-days", type=click.IntRange(min=1), default=30, show_default=True,
              help="The feed holds the papers first seen in this many last days.")  # fmt: skip
@settings_options("site")
def site_command(library_file: Path | None, output: Path, days: tuple[str, ...], site_url: str | None, feed_days: int,
                 **kwargs: Any) -> None:  # fmt: skip
    """Write a static site of LIBRARY (default: the library setting) to OUTPUT: one page
    per day (new papers first, then those still listed, with the day each was first seen),
    an index of the days, and an Atom feed of new papers. Every link is relative: open
    OUTPUT/index.html from disk, or publish OUTPUT as it is (GitHub Pages). Files that did
    not change are not rewritten. `extractor daily --site OUTPUT` refreshes it each day.

    \b
    Example:
      extractor site ~/.local/share/extractor/library.db -o site/ && xdg-open site/index.html
    """
    from ..library import Library
    from ..pages.site import write_site
    from ..pages.watch import Watchlist

    settings = settings_from(kwargs)
    with Library(library_file or settings.library_path, create=False) as lib:
        try:
            report = write_site(lib, output, only=days or None, watch=Watchlist.of(settings), base_url=site_url,
                                feed_days=feed_days)  # fmt: skip
        except InputError as exc:
            input_error(exc)
            sys.exit(EXIT_USAGE)
    err(f"site {report.describe()}")
    click.echo(str(output / "index.html"))
    sys.exit(EXIT_OK)


@main.command("explain")
@click.argument("records", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "ids", multiple=True, help="Only the paper with this id (repeat for several).")
@click.option("--held", is_flag=True, help="Only the papers with values held back.")
def explain_command(records: tuple[Path, ...], ids: tuple[str, ...], held: bool) -> None:
    """Show why each record of RECORDS shows what it shows: every field with the rule or
    model that gave it, and the values held back (not shown on any page) with the reason.

    \b
    Example:
      extractor explain results.jsonl --id 2405.04434
    """
    from ..pages.digest import digest_records
    from ..pages.explain import explain

    for record in digest_records(list(records), on_error=input_error):
        if (ids and record.id not in ids) or (held and not record.unsure):
            continue
        click.echo(explain(record) + "\n")
