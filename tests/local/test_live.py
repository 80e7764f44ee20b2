"""The offline default, for real: no endpoint configured, so ``extractor`` starts the
bundled llama.cpp server (xllamacpp's; the model fetched on first use), extracts and stops
it. Run with ``pytest -m live`` (after ``pip install -e '.[local]'``); CI does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractor.schema import Record

from ..conftest import SEEDS

pytestmark = pytest.mark.live

xllamacpp = pytest.importorskip("xllamacpp")


def _llama_servers() -> set[int]:
    """PIDs of the bundled server's processes running now (read from /proc)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"extractor.local.xlc_child" in cmdline:
                pids.add(int(entry.name))
    return pids


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTOR_", "OPENAI_"))}
    env["EXTRACTOR_ENGINE"] = "xllamacpp"  # tests/local/test_server_live.py covers your own llama-server too
    env["EXTRACTOR_CACHE_DIR"] = str(tmp_path / "cache")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return env


def _wait_gone(pids: set[int], timeout: float = 15.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pids & _llama_servers():
        time.sleep(0.2)
    return pids & _llama_servers()


def test_run_with_no_endpoint_uses_bundled_model(tmp_path: Path) -> None:
    before = _llama_servers()
    out = tmp_path / "out.jsonl"
    seed = SEEDS / "000_468ba2306a2dd0b7.txt"
    # The bundled default (rules-first): nothing the bundled model writes could be shown
    # (docs/trust.md), so it is not asked and no server starts.
    rules_first = subprocess.run(
        [sys.executable, "-m", "extractor", "run", str(seed), "--limit", "3", "-o", str(tmp_path / "default.jsonl")],
        env=_env(tmp_path), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert rules_first.returncode == 0, rules_first.stderr
    assert "is not asked" in rules_first.stderr and "bundled server ready" not in rules_first.stderr
    assert not (_llama_servers() - before)
    # Asked for every field (model-first), the bundled model runs behind its own server.
    result = subprocess.run(
        [sys.executable, "-m", "extractor", "run", str(seed), "--limit", "3", "-o", str(out), "--policy", "model-first"],
        env=_env(tmp_path), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    assert "bundled local model" in result.stderr and "small model" in result.stderr
    records = [Record.model_validate_json(line) for line in out.read_text().splitlines()]
    assert len(records) == 3
    assert all(r.provenance is not None and r.provenance.mode == "json_schema" for r in records)
    assert sum(r.ok for r in records) >= 2, [r.error for r in records]
    assert "bundled server ready at http://127.0.0.1:" in result.stderr
    assert not (_llama_servers() - before), "a llama server was left running"

    # The same papers again, into a new file: every answer is in the cache, so the
    # bundled server is never started (a re-run is limited by file I/O only).
    again = subprocess.run(
        [sys.executable, "-m", "extractor", "run", str(seed), "--limit", "3", "-o", str(tmp_path / "again.jsonl"),
         "--policy", "model-first"],
        env=_env(tmp_path), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == result.returncode, again.stderr
    if all(r.ok for r in records):  # a failed paper is not cached: it is asked again
        assert "bundled server ready" not in again.stderr
    cached = [Record.model_validate_json(line) for line in (tmp_path / "again.jsonl").read_text().splitlines()]
    ok_ids = {r.id for r in records if r.ok}
    assert {r.id for r in cached if r.ok} == ok_ids
    assert all(r.provenance is not None and r.provenance.cached for r in cached if r.ok)


def test_ctrl_c_mid_run_leaves_no_server_and_a_valid_file(tmp_path: Path) -> None:
    before = _llama_servers()
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "extractor", "run", str(SEEDS / "001_ba3e186e68981bdf.txt"), "-o", str(out),
         "--policy", "model-first"],
        env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (out.exists() and out.read_text().count("\n") >= 1):
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.5)
    started = _llama_servers() - before
    assert started, "the bundled server did not start"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert not _wait_gone(started), "the bundled server outlived Ctrl-C"
    lines = out.read_text().splitlines()
    assert lines and all(json.loads(line)["id"] for line in lines)
