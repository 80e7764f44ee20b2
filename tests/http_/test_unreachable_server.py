"""A server that is not there is known at once: a refused connection, before anything
ever answered, is retried twice within a second and the one-line error says so; the run
leaves no empty output file. Timeouts and 5xx keep the full retry policy (tests of the
transport). Real sockets: a loopback port that nothing listens on.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.cli import main

from ..helpers import make_papers


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("given", [(), ("--model", "m", "--mode", "tools")], ids=["probe", "first-request"])
def test_run_against_a_closed_port_stops_at_once_and_leaves_no_file(tmp_path: Path, given: tuple[str, ...]) -> None:
    make_papers(tmp_path / "in.jsonl", 5)
    port = _closed_port()
    started = time.monotonic()
    result = CliRunner().invoke(main, ["run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), "--limit", "5",
                                       "--base-url", f"http://127.0.0.1:{port}/v1", "--cache-dir", str(tmp_path / "c"),
                                       *given])  # fmt: skip
    took = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert took < 4, f"{took:.1f} s to say nothing listens"
    stopped = [line for line in result.stderr.splitlines() if line.startswith("stopped:")]
    assert len(stopped) == 1 and f"cannot reach 127.0.0.1:{port}: 3 attempts in" in stopped[0], result.stderr
    assert "check --base-url" in stopped[0] and "Traceback" not in result.output
    assert not (tmp_path / "out.jsonl").exists(), "no empty output file when nothing was written"


def test_doctor_reports_a_closed_port_at_once(tmp_path: Path) -> None:
    port = _closed_port()
    started = time.monotonic()
    result = CliRunner().invoke(main, ["doctor", "--base-url", f"http://127.0.0.1:{port}/v1", "--no-cache"])
    took = time.monotonic() - started
    assert result.exit_code == 2 and took < 4, (took, result.output)
    assert f"answers: NO (cannot reach 127.0.0.1:{port}: 3 attempts in" in result.output


def test_an_output_file_that_existed_is_kept_when_nothing_is_written(tmp_path: Path) -> None:
    make_papers(tmp_path / "in.jsonl", 2)
    out = tmp_path / "out.jsonl"
    out.write_text("")
    result = CliRunner().invoke(main, ["run", str(tmp_path / "in.jsonl"), "-o", str(out), "--model", "m", "--mode", "tools",
                                       "--base-url", f"http://127.0.0.1:{_closed_port()}/v1", "--no-cache"])  # fmt: skip
    assert result.exit_code == 2 and out.exists()
