"""A reader's check: a sheet of random records laid beside their abstracts, marked, counted,
and traced back to the rule or model that made each value."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from extractor.cli import main
from extractor.eval.spotcheck import count_sheet, source_precision

from ..conftest import SEEDS


def _run_rules(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    result = CliRunner().invoke(main, ["run", str(SEEDS), "-o", str(out), "--policy", "rules", "--no-cache", "-q",
                                       "--limit", "40"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _mark(sheet: Path, mark: str) -> None:
    text = re.sub(r"^(\| (?:task|method|method_name|contribution|claimed_gains|gain \d+|code_link|summary) \|.*\|)  \|  \|$",
                  rf"\1 {mark} | |", sheet.read_text(), flags=re.M)  # fmt: skip
    sheet.write_text(text)


def test_a_sheet_hides_its_sources_and_its_marks_are_counted(tmp_path: Path) -> None:
    records = _run_rules(tmp_path, "a.jsonl")
    sheet = tmp_path / "sheet.md"
    result = CliRunner().invoke(main, ["spotcheck", str(records), "--n", "5", "--seed", "3", "-o", str(sheet)])
    assert result.exit_code == 0, result.output
    text = sheet.read_text()
    assert text.count("\n## ") == 5 and "found_by" not in text and "rule" not in text.split("\n", 3)[-1].casefold()
    key = json.loads(Path(f"{sheet}.key.json").read_text())
    assert [k["item"] for k in key] == [1, 2, 3, 4, 5]
    _mark(sheet, "right")
    counts = count_sheet(sheet)["all"].as_dict()
    assert counts["records"] == 5 and counts["records_all_shown_right"] == 5 and counts["unmarked_rows"] == 0
    assert counts["wrong_share_of_shown"] == 0.0
    measured = source_precision([sheet])
    assert measured and all(right == judged for right, judged in measured.values())
    assert ("summary", "extractive") in measured


def test_two_runs_are_compared_blind_and_counted_apart(tmp_path: Path) -> None:
    a, b = _run_rules(tmp_path, "a.jsonl"), _run_rules(tmp_path, "b.jsonl")
    sheet = tmp_path / "sheet.md"
    result = CliRunner().invoke(main, ["spotcheck", str(a), str(b), "--n", "4", "-o", str(sheet)])
    assert result.exit_code == 0, result.output
    _mark(sheet, "wrong")
    result = CliRunner().invoke(main, ["spotcheck", "--count", str(sheet), "--json"])
    counts = json.loads(result.output)
    assert set(counts) == {"all", str(a), str(b)} and counts["all"]["records"] == 8
    assert counts[str(a)]["records_all_shown_right"] == 0


def test_an_unknown_mark_is_refused_in_one_line(tmp_path: Path) -> None:
    records = _run_rules(tmp_path, "a.jsonl")
    sheet = tmp_path / "sheet.md"
    CliRunner().invoke(main, ["spotcheck", str(records), "--n", "1", "-o", str(sheet)])
    _mark(sheet, "maybe")
    result = CliRunner().invoke(main, ["spotcheck", "--count", str(sheet)])
    assert result.exit_code != 0 and "unknown mark 'maybe'" in str(result.exception or result.output)


def test_a_key_filtered_to_one_record_file_counts_only_its_items(tmp_path: Path) -> None:
    a, b = _run_rules(tmp_path, "a.jsonl"), _run_rules(tmp_path, "b.jsonl")
    sheet = tmp_path / "sheet.md"
    assert CliRunner().invoke(main, ["spotcheck", str(a), str(b), "--n", "4", "-o", str(sheet)]).exit_code == 0
    _mark(sheet, "right")
    both = source_precision([sheet])
    key = tmp_path / "only_a.key.json"
    key.write_text(json.dumps([row for row in json.loads(Path(f"{sheet}.key.json").read_text()) if row["file"] == str(a)]))
    one = source_precision([sheet], [key])
    assert {k: (r * 2, j * 2) for k, (r, j) in one.items()} == both  # the same records twice: each counted once
