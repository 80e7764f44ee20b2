"""Measure each value source's precision from marked spot-check sheets, and write the table
the extractor holds values to (extractor/evidence/precision.json).

    python scripts/measure_precision.py SHEET.md [SHEET.md ...] [--keys KEY.json ...] [--on "label"]

Each sheet is one written by ``extractor spotcheck`` and marked by a reader; its key file
(``SHEET.md.key.json``, or ``--keys``) leads every row back to its record, and the record's
``found_by`` to the rule or model that made the value. A source's precision is the share of
its shown values marked ``right``. Sources judged fewer than --min-judged times are left out
(their values are then shown unmeasured, held only by the checks).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from extractor.eval.spotcheck import source_precision

TABLE = Path(__file__).resolve().parents[1] / "extractor" / "evidence" / "precision.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sheets", nargs="+", type=Path)
    parser.add_argument("--keys", nargs="*", type=Path)
    parser.add_argument("--on", default="", help="What the sheets were made from (written into the table).")
    parser.add_argument("--min-judged", type=int, default=8)
    parser.add_argument("-o", "--output", type=Path, default=TABLE)
    args = parser.parse_args()
    measured = source_precision(args.sheets, args.keys)
    rows = []
    for (field, source), (right, judged) in sorted(measured.items()):
        print(f"{field:14} {source:20} {right:3}/{judged:3}  {right / judged:.2f}")
        if judged >= args.min_judged:
            rows.append({"field": field, "source": source, "precision": round(right / judged, 3),
                         "judged": judged, "on": args.on})  # fmt: skip
    table = json.loads(args.output.read_text()) if args.output.is_file() else {}
    table["sources"] = rows
    args.output.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {args.output}: {len(rows)} sources")


if __name__ == "__main__":
    main()
