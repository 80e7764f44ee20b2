"""Reading a Batch API's answers safely: a ``custom_id`` answered on several lines takes
the first good answer (a later bad line never replaces it) and the repetition is said;
``batch prepare --skip-done`` naming a file that is not there is an error, not a silent
re-prepare of every paper.

Answers come from the loopback Batch API server (tests/batch_server.py); the files are real.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from extractor.cli import main

from ..batch_server import BatchServer
from ..helpers import make_papers, read_records


def _cli(*args: Any) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


def _answers(tmp_path: Path, server: BatchServer, papers: Path) -> list[dict[str, Any]]:
    """The answer lines of a batch of ``papers`` (prepared, submitted, fetched)."""
    common = ["--base-url", server.base_url, "--model", "stub-model", "--grounding", "off", "--retry-backoff", "0.01"]
    assert _cli("batch", "prepare", papers, "-o", tmp_path / "requests.jsonl", *common).exit_code == 0
    batch_id = _cli("batch", "submit", tmp_path / "requests.jsonl", *common).stdout.split()[-1]
    assert _cli("batch", "status", batch_id, "--wait", "--poll", "0.05", *common).exit_code == 0
    assert _cli("batch", "fetch", batch_id, "-o", tmp_path / "fetched.jsonl", *common).exit_code == 0
    return [json.loads(line) for line in (tmp_path / "fetched.jsonl").read_text().splitlines()]


def _bad(line: dict[str, Any], how: str) -> dict[str, Any]:
    """The same answer line, broken: a 200 whose content fails the schema, or a failed request."""
    bad = json.loads(json.dumps(line))
    if how == "invalid":
        bad["response"]["body"]["choices"][0]["message"]["content"] = "no JSON here"
    else:
        bad["response"] = {"status_code": 500, "body": {"error": {"message": "server fell over"}}}
    return bad


def _ingest(tmp_path: Path, answers: list[dict[str, Any]], papers: Path, name: str) -> Any:
    path = tmp_path / f"{name}.answers.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in answers))
    return _cli("batch", "ingest", path, "--input", papers, "-o", tmp_path / f"{name}.jsonl", "--model", "stub-model",
                "--grounding", "off", "--cache-dir", tmp_path / f"{name}-cache")  # fmt: skip


@pytest.mark.parametrize("how", ["invalid", "failed"])
def test_the_first_good_answer_wins_and_the_repetition_is_said(tmp_path: Path, how: str) -> None:
    papers = tmp_path / "papers.jsonl"
    make_papers(papers, 3)
    with BatchServer(batch_seconds=0.05) as server:
        good = _answers(tmp_path, server, papers)
    expected = _ingest(tmp_path, good, papers, "once")
    assert expected.exit_code == 0, expected.output
    later_bad = _ingest(tmp_path, good + [_bad(line, how) for line in good], papers, "later-bad")
    earlier_bad = _ingest(tmp_path, [_bad(line, how) for line in good] + good, papers, "earlier-bad")
    for name, result in (("later-bad", later_bad), ("earlier-bad", earlier_bad)):
        assert result.exit_code == 0, result.output
        said = [line for line in result.stderr.splitlines() if "answered again" in line]
        assert len(said) == 3 and all(line.startswith("warning: ") for line in said), result.stderr
        assert "first good answer is used" in said[0]
        records = {r["id"]: r["extraction"] for r in read_records(tmp_path / f"{name}.jsonl")}
        assert records == {r["id"]: r["extraction"] for r in read_records(tmp_path / "once.jsonl")}


def test_skip_done_naming_a_missing_file_is_an_error_not_a_full_prepare(tmp_path: Path) -> None:
    papers = tmp_path / "papers.jsonl"
    make_papers(papers, 3)
    out = tmp_path / "requests.jsonl"
    for wrong in (tmp_path / "recrods.jsonl", tmp_path):
        result = _cli("batch", "prepare", papers, "-o", out, "--model", "m", "--skip-done", wrong)
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines() == [result.output.strip()] and str(wrong) in result.output
        assert "--skip-done" in result.output and not out.exists()
