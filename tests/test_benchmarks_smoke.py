"""Smoke test of ``benchmarks/run.py --quick``: it runs end to end and prints its tables.

Never asserts on timings (the machine is shared); only that the script finishes, prints the
side-by-side table and the prompt-token table, and writes the report where it is told to.
langextract and the llama_cpp tokenizer are used when installed and left out otherwise.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "run.py"

pytest.importorskip("aiohttp")  # the stub server


def test_quick_benchmark_prints_the_tables(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    result = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--papers", "4", "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,  # a hang, not a slow machine
    )
    assert result.returncode == 0, result.stderr[-3000:]
    stdout = result.stdout
    assert "## 1. Side by side on the stub server" in stdout
    assert "| client | conc. | papers | wall s | papers/s |" in stdout
    assert "| `extractor run` |" in stdout
    assert "| instructor + asyncio.Semaphore |" in stdout
    assert "## 5. Prompt tokens per paper besides the abstract" in stdout
    assert "## Targets" in stdout
    # every client extracted every paper
    rows = [line for line in stdout.splitlines() if line.startswith("| ") and " | 4/4 | " in line]
    assert len(rows) >= 2, stdout
    assert out.read_text(encoding="utf-8").startswith("# Benchmarks side by side")


def test_replicas_benchmark_prints_its_table() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "replicas.py"), "--papers", "6", "--delay", "0.02", "--concurrency", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "## Several replicas vs one endpoint" in result.stdout
    assert "| one endpoint | 4 | 6/6 |" in result.stdout and "| two replicas | 4 | 6/6 |" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("| two replicas |"))
    split = [int(n) for n in row.split(" | ")[7].split(" / ")]
    assert sum(split) == 6 and min(split) > 0, row  # both replicas used
