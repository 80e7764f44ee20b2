"""``extractor eval``: scores against third-party gold, next to the rules alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..sync import run_sync
from .app import err, main, settings_from, settings_options


@main.command("eval")
@click.argument("gold", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pred", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Score these records instead of extracting.")
@click.option("--sample", type=int, help="Score a reproducible sample of N gold papers.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@click.option("--save", type=click.Path(path_type=Path), help="Also write the extracted records here (JSONL).")
@click.option("--links-only", is_flag=True, help="Score the link finder alone (no model).")
@click.option("--baseline", type=click.Choice(["rules"]),
              help="Also score the rules alone (no model) on the same papers, side by side.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@settings_options("eval")
def evaluate(gold: Path, pred: Path | None, sample: int | None, seed: int, save: Path | None, links_only: bool,
             baseline: str | None, as_json: bool, quiet: bool, **kwargs: Any) -> None:  # fmt: skip
    """Score records against GOLD, a JSON Lines gold file (one paper a line with its
    gold labels): per field precision, recall and F1, per source and overall. Without
    --pred, extracts the gold abstracts first (the cache applies)."""
    from ..eval import score as ev
    from ..eval import run as goldrun

    papers = ev.gold_sample(ev.load_gold(gold), sample, seed)
    settings = settings_from(kwargs)
    if links_only:
        records = goldrun.links_only_records(papers)
    elif pred is not None:
        records = ev.load_records(pred)
    else:
        records = run_sync(goldrun.aextract_gold(papers, settings, announce=err, save=save, quiet=quiet))
    report = ev.score(papers, records)
    if baseline is None:
        click.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.to_markdown())
        return
    rules = settings.model_copy(update={"policy": "rules"})
    base = ev.score(papers, run_sync(goldrun.aextract_gold(papers, rules, quiet=True)))
    if as_json:
        click.echo(json.dumps({"report": report.to_dict(), "baseline_rules": base.to_dict()}, indent=2))
    else:
        click.echo(report.to_markdown() + "\n" + ev.side_by_side(report, base, "rules alone (no model)"))


@main.command("spotcheck")
@click.argument("records", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-n", "--n", "n", type=click.IntRange(min=1), default=30, show_default=True, help="Records to lay out.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random pick.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="The sheet to write (Markdown).")
@click.option("--count", "marked", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Count the marks of this filled-in sheet instead.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def spotcheck(records: tuple[Path, ...], n: int, seed: int, output: Path | None, marked: Path | None,
              as_json: bool) -> None:  # fmt: skip
    """Lay N random records of RECORDS beside their abstracts for a person to mark each
    field right / wrong / cut / empty-but-stated (background, for a summary), then count
    the marks with --count. Several record files: the same papers from each, shuffled
    together, with a key file beside the sheet (compare two runs blind).

    \b
    Example:
      extractor spotcheck results.jsonl --n 30 --seed 7 -o sheet.md
      extractor spotcheck --count sheet.md
    """
    from ..eval.spotcheck import count_sheet, write_sheet

    if marked is not None:
        counts = count_sheet(marked)
        if as_json:
            click.echo(json.dumps({k: c.as_dict() for k, c in counts.items()}, indent=2))
            return
        for name, c in counts.items():
            d = c.as_dict()
            click.echo(f"{name}: {d['records']} records, {d['records_all_shown_right']} with every shown value right; "
                       f"{d['wrong_or_cut_shown']}/{d['shown_values']} shown values wrong or cut "
                       f"({d['wrong_share_of_shown']}); {d['empty_but_stated']}/{d['fields']} fields empty though "
                       f"stated ({d['empty_but_stated_share']}); gains right {d['gains_right']}/{d['gains']}; "
                       f"unmarked rows {d['unmarked_rows']}")  # fmt: skip
            for field_name, marks in d["per_field"].items():  # type: ignore[union-attr]
                click.echo(f"  {field_name}: " + ", ".join(f"{k} {v}" for k, v in sorted(marks.items())))
        return
    if not records or output is None:
        raise click.UsageError("give RECORDS and -o SHEET to write a sheet, or --count SHEET to count one")
    ids = write_sheet(list(records), output, n=n, seed=seed)
    err(f"wrote {output}: {len(ids)} papers" + (f" x {len(records)} record files (key: {output}.key.json)"
                                                 if len(records) > 1 else ""))  # fmt: skip
