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
