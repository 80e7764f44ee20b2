"""A run without a model (``--policy rules``) reports what it did and nothing else: no
answer came from the cache (records say ``cached: false``), and the closing summary has
no cache, token, grounding or model counts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.cli import main

from ..helpers import make_papers, read_records


@pytest.mark.parametrize("cache", ["--no-cache", "--cache"])
def test_rules_only_says_nothing_of_cache_tokens_grounding_or_model(tmp_path: Path, cache: str) -> None:
    make_papers(tmp_path / "in.jsonl", 12)
    result = CliRunner().invoke(main, ["run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), "-q",
                                       "--policy", "rules", cache, "--cache-dir", str(tmp_path / "cache")])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = result.stderr.strip().splitlines()
    assert summary[1:] == [
        "extracted 12, failed 0; rules only, no model",
        f"summaries: extractive 12; values from rules {summary[2].rsplit(' ', 1)[-1]}",
        summary[3],
    ]
    assert summary[3].startswith("wall ") and "tokens" not in result.stderr and "cache" not in result.stderr
    assert "grounding" not in result.stderr and "model 0" not in result.stderr
    records = read_records(tmp_path / "out.jsonl")
    assert len(records) == 12 and not any(r["provenance"]["cached"] for r in records)
