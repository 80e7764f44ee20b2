"""What ``extractor run`` and ``extractor doctor`` say when something outside the papers is
wrong, each against the real loopback stub server: credentials in the base URL are never
shown; an HTML page instead of JSON, an output path that cannot be written and a base URL
that is not a URL are each one line (exit code 2), before any request where they can be.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from extractor.cli import main

from ..helpers import cli_flags, make_papers
from ..stub_server import StubServer, always


def _doctor_flags(stub: StubServer | str, tmp_path: Path) -> list[str]:
    """:func:`~tests.helpers.cli_flags` for doctor, which extracts nothing: no grounding setting."""
    flags = cli_flags(stub, tmp_path)
    at = flags.index("--grounding")
    return flags[:at] + flags[at + 2 :]


def _one_line_error(result: Any, *words: str) -> str:
    """The command failed with exit code 2 and one line on stderr holding ``words``."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:") or "stopped:" in line]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_credentials_in_the_base_url_reach_no_record_message_or_doctor(tmp_path: Path) -> None:
    make_papers(tmp_path / "in.jsonl", 6, marker=lambda i: "[[fault:503]]" if i % 2 else None)
    out = tmp_path / "out.jsonl"
    with StubServer(faults="marker") as stub:
        url = stub.base_url.replace("http://", "http://user:SECRET@")
        result = CliRunner().invoke(main, ["run", str(tmp_path / "in.jsonl"), "-o", str(out), "-v",
                                           *cli_flags(url, tmp_path, "--mode", "auto")])  # fmt: skip
        assert result.exit_code == 1, result.output  # 3 papers failed: their messages name the host
        doctor = CliRunner().invoke(main, ["doctor", *_doctor_flags(url, tmp_path)])
    assert f"127.0.0.1:{stub.port}" in out.read_text() and f"127.0.0.1:{stub.port}" in doctor.output
    for text in (out.read_text(), result.output, result.stderr, doctor.output):
        assert "SECRET" not in text and "user:" not in text


@pytest.mark.parametrize("mode", ["auto", "tools"], ids=["in the probe", "in a request"])
def test_an_html_page_instead_of_json_is_one_line_saying_what_to_check(tmp_path: Path, mode: str) -> None:
    make_papers(tmp_path / "in.jsonl", 5)
    with StubServer(faults=always("html")) as stub:
        args = ["run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), "-q"]
        result = CliRunner().invoke(main, [*args, *cli_flags(stub, tmp_path, "--mode", mode)])
        doctor = CliRunner().invoke(main, ["doctor", *_doctor_flags(stub, tmp_path)])
    _one_line_error(result, f"127.0.0.1:{stub.port}", "text/html", "502 Bad Gateway", "--base-url")
    assert doctor.exit_code == 2 and "text/html" in doctor.output and "Traceback" not in doctor.output
    assert not (tmp_path / "out.jsonl").exists()  # nothing was written: no empty file left


@pytest.mark.parametrize("where", ["directory", "proc", "dev_full"])
def test_a_bad_output_path_is_one_line_before_any_request(tmp_path: Path, where: str) -> None:
    make_papers(tmp_path / "in.jsonl", 3)
    out = {"directory": str(tmp_path), "proc": "/proc/extractor-out.jsonl", "dev_full": "/dev/full"}[where]
    with StubServer() as stub:
        result = CliRunner().invoke(main, ["run", str(tmp_path / "in.jsonl"), "-o", out, "-q",
                                           *cli_flags(stub, tmp_path, "--mode", "tools")])  # fmt: skip
        assert stub.requests == 0
    _one_line_error(result, out, "give another -o")


@pytest.mark.parametrize("url", ["notaurl", "ftp://host/v1", "http://exa mple.com/v1"])
def test_a_base_url_that_is_not_a_url_is_said_so_exit_2(tmp_path: Path, url: str) -> None:
    make_papers(tmp_path / "in.jsonl", 2)
    result = CliRunner().invoke(main, ["run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "o.jsonl"),
                                       *cli_flags(url, tmp_path)])  # fmt: skip
    _one_line_error(result, "not an http(s) URL")
    assert "cannot reach" not in result.output
    assert not (tmp_path / "o.jsonl").exists()
