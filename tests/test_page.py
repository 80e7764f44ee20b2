"""The page a reader opens each morning, tested in Chromium: what issue 24 found broken, and
what it asked for (links, people, the day at the top, finding things, an accessible page).

Each bug of the issue has a test here that failed on the page as it was."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from extractor.cli import main

from .test_digest import make_record, write_jsonl


# ---------------------------------------------------------------------------- the command line


def test_digest_refuses_an_extension_it_does_not_write(tmp_path: Path) -> None:
    records = write_jsonl(tmp_path / "r.jsonl", [make_record(0)])
    result = CliRunner().invoke(main, ["digest", str(records), "-o", str(tmp_path / "x.txt")])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "x.txt").exists()
    assert len(result.stderr.strip().splitlines()) == 1 and ".html" in result.stderr and ".md" in result.stderr
    asked = CliRunner().invoke(main, ["digest", str(records), "-o", str(tmp_path / "x.txt"), "--format", "md"])
    assert asked.exit_code == 0 and (tmp_path / "x.txt").read_text().startswith("# Paper digest")
    run = CliRunner().invoke(main, ["run", str(records), "-o", str(tmp_path / "o.jsonl"), "--digest", str(tmp_path / "y.txt")])
    assert run.exit_code == 2 and "y.txt" in run.stderr and not (tmp_path / "o.jsonl").exists()


def test_digest_of_a_csv_file_says_so_in_one_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.csv"
    rules.write_text("rule,field,precision\n" + "".join(f"r{i},task,0.{i}\n" for i in range(20)))
    result = CliRunner().invoke(main, ["digest", str(rules), "-o", str(tmp_path / "d.html")])
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.strip().splitlines()
    assert "rules.csv" in line and "CSV" in line and "JSONL" in line, line
    listing = tmp_path / "listing.txt"  # not a record file either: one line too, not one per line
    listing.write_text("A title\nAn abstract.\n\nAnother title\nAnother abstract.\n")
    result = CliRunner().invoke(main, ["digest", str(listing), "-o", str(tmp_path / "d.html")])
    assert result.exit_code == 3 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "none of its 4 lines is one (line 1: not valid JSON" in result.stderr
