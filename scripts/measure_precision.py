"""Measure each value source's precision from marked spot-check sheets, and write the table
the extractor holds values to (extractor/evidence/precision.json).

    python scripts/measure_precision.py SHEET.md [SHEET.md ...] [--earlier OLD.md ...] [--on "label"]
                                        [--model-name NAME] [--skip-files PART ...] [--min-current N]
                                        [--current RECORDS.jsonl]

Each sheet is one written by ``extractor spotcheck`` and marked by a reader; its key file
(``SHEET.md.key.json`` beside it, or in ``--key-dir``) leads every row back to its record,
and the record's ``found_by`` to the rule or model that made the value. A source's
precision is the share of its shown values marked ``right``.

The SHEETs are the latest round, marked on records of the code as it is. A source they
judged fewer than ``--min-current`` times is measured on those sheets and the ``--earlier``
ones together (older code: more values, less current), and the row says so. Every source
judged at least once is written; the extractor shows a source's values only when it was
judged at least ``MIN_JUDGED`` times with precision at least ``MIN_PRECISION``
(extractor/evidence/precision.py). ``--model-name`` renames the model source the records
name (``model:smollm2`` -> ``model:smollm2-135m``) when they were made with the same model
file served under another name.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from extractor.eval.spotcheck import cell, gain_cell, sheet_rows, source_precision, value_sources
from extractor.evidence.gains import gain_source
from extractor.evidence.rules import propose
from extractor.schema import Record

TABLE = Path(__file__).resolve().parents[1] / "extractor" / "evidence" / "precision.json"
Counts = dict[tuple[str, str], tuple[int, int]]
Now = Callable[[Record, str, str], str | None]


def _renamed(counts: dict[tuple[str, str], tuple[int, int]], model_name: str) -> dict[tuple[str, str], tuple[int, int]]:
    """``counts`` with every model source named ``model:<model_name>`` (summed where records
    name the same model file differently)."""
    if not model_name:
        return counts
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for (field, source), (right, judged) in counts.items():
        key = (field, f"model:{model_name}" if source.startswith("model:") else source)
        before = out.get(key, (0, 0))
        out[key] = (before[0] + right, before[1] + judged)
    return out


def _source_now(path: Path) -> Now:
    """The source that makes a judged value today, read from ``path``: records of the code
    as it is over the same papers. A judged row counts under that source, and only where
    the code still makes that very value, shown or held back; so old rounds measure the
    values the code makes today, each under the rule that makes it now (a gain judged as
    "kind: score" that the code now reads as an improvement over a baseline is no longer
    that judgment's value, and is not counted). A gain is compared whole: value, metric,
    kind, dataset and baseline. A model's value is kept as judged (the model does not
    write the same thing twice)."""
    current = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = Record.model_validate_json(line)
            current[record.id] = record

    read: dict[str, dict[str, str]] = {}

    def gains_now(now: Record) -> dict[str, str]:
        """Each gain the code reads today, as its sheet cell, with its source: the shown
        ones, and the held ones as the rules read them whole (read once per paper)."""
        if now.id in read:
            return read[now.id]
        found = {cell(gain_cell(g)): gain_source(g) for g in (now.extraction.claimed_gains if now.extraction else [])}
        held = {held.value for held in now.unsure if held.field == "claimed_gains"}
        for g in propose(now.title or "", now.abstract).claimed_gains:
            if f"{g.value} ({g.metric or 'no metric'})" in held:
                found.setdefault(cell(gain_cell(g)), gain_source(g))
        read[now.id] = found
        return found

    def source(record: Record, name: str, value: str) -> str | None:
        now = current.get(record.id)
        if now is None:
            return None
        if record.origin.get(name) == "model" or (name == "summary" and record.summary_source == "model"):
            return value_sources(record).get(name, "?")  # a model's value is kept as judged
        if name == "claimed_gains":
            return gains_now(now).get(value)
        if name == "summary":
            return value_sources(now).get(name) if value == cell(now.extraction.summary if now.extraction else "") else None
        shown = [row.value for row in sheet_rows(now) if row.field == name]
        if shown and cell(shown[0]) == value:
            return value_sources(now).get(name, "?")
        return next((held.source for held in now.unsure if held.field == name and cell(held.value) == value), None)

    return source


def _measure(sheets: list[Path], key_dir: Path | None, skip: list[str] = (), now: Now | None = None) -> Counts:
    keys = [key_dir / f"{sheet.name}.key.json" for sheet in sheets] if key_dir else [Path(f"{s}.key.json") for s in sheets]
    if not skip:
        return source_precision(sheets, keys, now)
    with tempfile.TemporaryDirectory() as tmp:  # the same sheets, their keys without the skipped record files
        kept = []
        for n, key in enumerate(keys):
            rows = [row for row in json.loads(key.read_text()) if not any(part in row["file"] for part in skip)]
            kept.append(Path(tmp) / f"{n}.key.json")
            kept[-1].write_text(json.dumps(rows))
        return source_precision(sheets, kept, now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sheets", nargs="+", type=Path, help="The latest round's marked sheets.")
    parser.add_argument("--earlier", nargs="*", type=Path, default=[], help="Earlier rounds' marked sheets.")
    parser.add_argument("--key-dir", type=Path, help="Where the key files are (default: beside each sheet).")
    parser.add_argument("--on", default="", help="What the latest sheets were made from (written into the table).")
    parser.add_argument("--earlier-on", default="earlier rounds", help="The same, for the earlier sheets.")
    parser.add_argument("--min-current", type=int, default=8)
    parser.add_argument("--model-name", default="", help="The name to record the model source under.")
    parser.add_argument("--current", type=Path, help="Records of the code as it is over the same papers: count each "
                        "judged value under the source that makes it today, and only where the code still makes it "
                        "(shown or held back; a gain whole).")
    parser.add_argument("--skip-files", nargs="*", default=[], help="Leave out the items of record files whose path "
                        "holds one of these (one copy of papers judged twice: 'records-rules', 'records-before').")
    parser.add_argument("-o", "--output", type=Path, default=TABLE)
    args = parser.parse_args()
    now = _source_now(args.current) if args.current else None
    current = _renamed(_measure(args.sheets, args.key_dir, args.skip_files, now), args.model_name)
    pooled = (_renamed(_measure(args.sheets + args.earlier, args.key_dir, args.skip_files, now), args.model_name)
              if args.earlier else current)  # fmt: skip
    rows = []
    for field, source in sorted(set(current) | set(pooled)):
        right, judged = current.get((field, source), (0, 0))
        on = args.on
        if judged < args.min_current and (field, source) in pooled and pooled[(field, source)][1] > judged:
            (right, judged), on = pooled[(field, source)], f"{args.on} + {args.earlier_on}"
        if source == "?" or not judged:
            continue
        print(f"{field:14} {source:22} {right:3}/{judged:3}  {right / judged:.2f}  ({on})")
        rows.append({"field": field, "source": source, "precision": round(right / judged, 3), "judged": judged, "on": on})
    table = json.loads(args.output.read_text()) if args.output.is_file() else {}
    table["sources"] = rows
    args.output.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {args.output}: {len(rows)} sources")


if __name__ == "__main__":
    main()
