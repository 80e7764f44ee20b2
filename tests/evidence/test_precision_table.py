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
LAST = 55
LATEST = [SPOTCHECK / f"round{n}" for n in range(LAST, 21, -1)]
# The papers of the gold file judged in rounds 23 and after, as each round laid them out (the
# records after a change, not those before it): the code's records of them are measured too.
GOLD_PAPERS = sorted(path for n in range(23, LAST + 1) for path in (SPOTCHECK / f"round{n}").glob("*-records*.jsonl")
                     if path.name.endswith(("-records.jsonl", "-records-after.jsonl")))  # fmt: skip
ON = ("rounds 22-55 (2026-12-07 and 08, 21 seed papers and 444 gold-file papers never judged before; follow-ups; "
      "the gains of 43 more gold-file papers; 30 seed records again)")
ROUNDS = [ROOT / "benchmarks" / "spotcheck" / f"round{n}" for n in (21, 20, 19, 18, 17, 16, 15, 14, 13, 10, 8, 6, 5, 4, 3)]


def test_the_shipped_table_is_what_the_marked_sheets_measure(tmp_path: Path) -> None:
    current = tmp_path / "rules.jsonl"
    result = CliRunner().invoke(main, ["run", str(SEEDS), "-o", str(current), "--policy", "rules", "--no-cache", "-q"])
    assert result.exit_code == 0, result.output
    for n, papers in enumerate(GOLD_PAPERS):  # papers of the gold file judged in rounds 23 on: the code's records too
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
               "--on", ON,
               "--earlier-on", "rounds 3-21 (the values the code still proposes)", "--model-name", "smollm2-135m",
               "-o", str(out)]  # fmt: skip
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    shipped = json.loads((ROOT / "extractor" / "evidence" / "precision.json").read_text())["sources"]
    assert json.loads(out.read_text())["sources"] == shipped
