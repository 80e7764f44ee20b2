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
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from extractor.eval.spotcheck import cell, sheet_rows, source_precision
from extractor.schema import Record

TABLE = Path(__file__).resolve().parents[1] / "extractor" / "evidence" / "precision.json"
Counts = dict[tuple[str, str], tuple[int, int]]
Keep = Callable[[Record, str, str], bool]


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


def _still_proposed(path: Path) -> Keep:
    """A test that keeps a judged row only where the code of ``path``'s records (a run over
    the same papers) still proposes that value for that field, shown or held back: so old
    rounds measure the values the code makes today, not ones it no longer makes. A model's
    value is kept as judged (the model does not write the same thing twice)."""
    current = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = Record.model_validate_json(line)
            current[record.id] = record

    def proposed(record: Record, name: str) -> set[str]:
        values = set()
        for row in sheet_rows(record):
            if row.field == name or (name == "claimed_gains" and row.field.startswith("gain ")):
                values.add(cell(row.value).split("; ")[0])
        for held in record.unsure:
            if held.field == name:  # a held gain reads "4.5x (speed)"
                values.add(cell(re.sub(r"^(.*) \((.*)\)$", r"\1 \2", held.value) if name == "claimed_gains" else held.value))
        return values

    def keep(record: Record, name: str, value: str) -> bool:
        now = current.get(record.id)
        if now is None:
            return False
        if record.origin.get(name) == "model" or (name == "summary" and record.summary_source == "model"):
            return True  # a model's value is kept as judged: the model does not write it the same way twice
        if name == "summary":
            return value == cell(now.extraction.summary if now.extraction else "")
        return value.split("; ")[0] in proposed(now, name)

    return keep


def _measure(sheets: list[Path], key_dir: Path | None, skip: list[str] = (), keep: Keep | None = None) -> Counts:
    keys = [key_dir / f"{sheet.name}.key.json" for sheet in sheets] if key_dir else [Path(f"{s}.key.json") for s in sheets]
    if not skip:
        return source_precision(sheets, keys, keep)
    with tempfile.TemporaryDirectory() as tmp:  # the same sheets, their keys without the skipped record files
        kept = []
        for n, key in enumerate(keys):
            rows = [row for row in json.loads(key.read_text()) if not any(part in row["file"] for part in skip)]
            kept.append(Path(tmp) / f"{n}.key.json")
            kept[-1].write_text(json.dumps(rows))
        return source_precision(sheets, kept, keep)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sheets", nargs="+", type=Path, help="The latest round's marked sheets.")
    parser.add_argument("--earlier", nargs="*", type=Path, default=[], help="Earlier rounds' marked sheets.")
    parser.add_argument("--key-dir", type=Path, help="Where the key files are (default: beside each sheet).")
    parser.add_argument("--on", default="", help="What the latest sheets were made from (written into the table).")
    parser.add_argument("--earlier-on", default="earlier rounds", help="The same, for the earlier sheets.")
    parser.add_argument("--min-current", type=int, default=8)
    parser.add_argument("--model-name", default="", help="The name to record the model source under.")
    parser.add_argument("--current", type=Path, help="Records of the code as it is over the same papers: count only "
                        "the judged values it still proposes (shown or held back).")
    parser.add_argument("--skip-files", nargs="*", default=[], help="Leave out the items of record files whose path "
                        "holds one of these (one copy of papers judged twice: 'records-rules', 'records-before').")
    parser.add_argument("-o", "--output", type=Path, default=TABLE)
    args = parser.parse_args()
    keep = _still_proposed(args.current) if args.current else None
    current = _renamed(_measure(args.sheets, args.key_dir, args.skip_files, keep), args.model_name)
    pooled = (_renamed(_measure(args.sheets + args.earlier, args.key_dir, args.skip_files, keep), args.model_name)
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
