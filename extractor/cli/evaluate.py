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
    """Score records against GOLD (the format of shared/eval): per field precision,
    recall and F1, per source and overall. Without --pred, extracts the gold abstracts
    first (the cache applies)."""
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
