"""The shipped precision table (extractor/evidence/precision.json) is what the documented
command measures from the marked sheets in benchmarks/spotcheck: anyone can re-count it, and a
change to the rules that changes which values they propose shows up here until it is
measured again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from extractor.cli import main

from ..conftest import SEEDS

ROOT = Path(__file__).resolve().parents[2]
SPOTCHECK = ROOT / "benchmarks" / "spotcheck"
LATEST = [SPOTCHECK / f"round{n}" for n in range(35, 21, -1)]
GOLD_PAPERS = [SPOTCHECK / "round23" / "K-records.jsonl", *sorted((SPOTCHECK / "round24").glob("G*-records.jsonl")),
               *sorted((SPOTCHECK / "round27").glob("R*-records-after.jsonl")),
               *sorted((SPOTCHECK / "round28").glob("S*-records-after.jsonl")), SPOTCHECK / "round29" / "T-records-after.jsonl",
               *sorted((SPOTCHECK / "round30").glob("H*-records.jsonl")), SPOTCHECK / "round31" / "U-records-after.jsonl",
               *sorted((SPOTCHECK / "round32").glob("J*-records.jsonl")), SPOTCHECK / "round33" / "V-records-after.jsonl",
               SPOTCHECK / "round34" / "W-records-after.jsonl", *sorted((SPOTCHECK / "round35").glob("L*-records.jsonl"))]
ROUNDS = [ROOT / "benchmarks" / "spotcheck" / f"round{n}" for n in (21, 20, 19, 18, 17, 16, 15, 14, 13, 10, 8, 6, 5, 4, 3)]


def test_the_shipped_table_is_what_the_marked_sheets_measure(tmp_path: Path) -> None:
    current = tmp_path / "rules.jsonl"
    result = CliRunner().invoke(main, ["run", str(SEEDS), "-o", str(current), "--policy", "rules", "--no-cache", "-q"])
    assert result.exit_code == 0, result.output
    for n, papers in enumerate(GOLD_PAPERS):  # papers of the gold file judged in rounds 23-35: the code's records too
        gold = tmp_path / f"gold{n}.jsonl"
        result = CliRunner().invoke(main, ["run", str(papers), "--input-format", "jsonl", "-o", str(gold),
                                           "--policy", "rules", "--no-cache", "-q"])  # fmt: skip
        assert result.exit_code == 0, result.output
        current.write_text(current.read_text() + gold.read_text())
    out = tmp_path / "precision.json"
    sheets = lambda d: sorted(str(p) for p in d.glob("*.md") if p.name != "README.md")  # noqa: E731
    command = [sys.executable, "scripts/measure_precision.py", *[s for d in LATEST for s in sheets(d)],
               "--earlier", *[s for d in ROUNDS for s in sheets(d)], "--skip-files", "records-rules", "records-before",
               "--current", str(current), "--min-current", "1000",
               "--on", "rounds 22-35 (2026-12-07, 21 seed papers and 139 gold-file papers never judged before; follow-ups; "
               "the gains of 43 more gold-file papers)",
               "--earlier-on", "rounds 3-21 (the values the code still proposes)", "--model-name", "smollm2-135m",
               "-o", str(out)]  # fmt: skip
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    shipped = json.loads((ROOT / "extractor" / "evidence" / "precision.json").read_text())["sources"]
    assert json.loads(out.read_text())["sources"] == shipped
