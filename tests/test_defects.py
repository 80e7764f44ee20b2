"""Regression tests of issue 11, each against the real loopback stub server or real files:
resume keeps the failed records it does not retry, a huge abstract is an error record and
does not hold up the batch or its signals, credentials in the base URL are never shown,
a 200 that is not JSON, a bad output path and a base URL that is not a URL are each one
line, and the Python API refuses what is not an abstract before any request.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import extractor
from extractor.cli import main
from extractor.errors import ExtractorError, InputError
from extractor.eval.score import load_records
from extractor.records.listings import MAX_ABSTRACT_CHARS
from extractor.records.output import RecordWriter

from .helpers import _record, check_records, make_papers, read_records, run, settings_for
from .stub_server import StubServer, always


def _flags(stub: StubServer | str, tmp_path: Path, *extra: str) -> list[str]:
    url = stub if isinstance(stub, str) else stub.base_url
    return [
        "--base-url", url, "--model", "stub-model", "--grounding", "off", "--timeout", "2", "--retries", "1",
        "--retry-backoff", "0.01", "--cache-dir", str(tmp_path / "cache"), *extra,
    ]  # fmt: skip


def _doctor_flags(stub: StubServer | str, tmp_path: Path) -> list[str]:
    """:func:`_flags` for doctor, which extracts nothing: no grounding setting."""
    flags = _flags(stub, tmp_path)
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


# -- 1. resume keeps the failed records it does not retry ---------------------------------


def test_resume_with_a_limit_keeps_every_failed_record_it_does_not_retry(tmp_path: Path) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 20)
    out = tmp_path / "out.jsonl"
    with StubServer(faults=always("503")) as stub:
        first = run([tmp_path / "in.jsonl"], out, settings_for(stub, tmp_path, retries=0))
        assert first.failed == 20
        stub.set_faults(None)  # the server recovers; the re-run retries only 5 papers
        again = run([tmp_path / "in.jsonl"], out, settings_for(stub, tmp_path), limit=5)
        assert again.extracted == 5
    by_id = check_records(read_records(out), rows)  # all 20 papers, none twice
    assert sum(rec["error"] is None for rec in by_id.values()) == 5
    assert len(load_records(out)) == 20  # `extractor eval --pred` reads the same


def test_a_file_left_by_a_kill_after_a_retry_keeps_the_last_record_of_each_paper(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    lines = [_record("a", error="timeout"), _record("b", error="timeout"), _record("a"), _record("b", error="server")]
    out.write_text("".join(r.model_dump_json() + "\n" for r in lines))
    with RecordWriter(out) as w:
        assert w.done == {"a"} and w.failed == {"b"} and w.removed_duplicates == 2
    records = read_records(out)
    assert [(r["id"], r["error"] and r["error"]["kind"]) for r in records] == [("a", None), ("b", "server")]


# -- 3. a huge abstract -----------------------------------------------------------------


def test_a_50_mb_abstract_is_an_error_record_and_the_batch_goes_on(tmp_path: Path) -> None:
    huge = tmp_path / "huge.jsonl"
    sentence = "We propose a method and it works well. "
    with huge.open("w") as fh:
        abstract = sentence * (50_000_000 // len(sentence))
        fh.write(json.dumps({"id": "huge1", "title": "A huge abstract", "abstract": abstract}) + "\n")
        del abstract
    rows = make_papers(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    with StubServer() as stub:
        started = time.perf_counter()
        stats = run([huge, tmp_path / "in.jsonl"], out, settings_for(stub, tmp_path))
        assert time.perf_counter() - started < 20
        assert stub.requests == 10, "the huge paper is never sent"
    assert stats.extracted == 10 and stats.failures == {"too_long": 1}
    records = {r["id"]: r for r in read_records(out)}
    error = records.pop("huge1")["error"]
    assert error["kind"] == "too_long" and "huge1" in error["message"] and f"{MAX_ABSTRACT_CHARS:,}" in error["message"]
    assert out.stat().st_size < 100_000, "the record does not carry the 50 MB"
    check_records(list(records.values()), rows)


def test_sigterm_while_a_huge_input_is_read_ends_the_run_at_once(tmp_path: Path) -> None:
    """Reading a big listing's first pass runs off the event loop: SIGTERM acts at once."""
    big = tmp_path / "big.jsonl"
    with big.open("w") as fh:
        for i in range(600_000):
            fh.write(f'{{"id": "b{i}", "title": "Paper {i} on things", "abstract": "We study {i}. It works."}}\n')
    out = tmp_path / "out.jsonl"
    with StubServer() as stub:
        cmd = [sys.executable, "-m", "extractor", "run", str(big), "-o", str(out), "-q", *_flags(stub, tmp_path)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not out.exists() and time.monotonic() < deadline:  # the writer opens before reading
            time.sleep(0.05)
        time.sleep(1.0)  # well into the first pass (several seconds for 600,000 papers)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            _, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
        waited = time.monotonic() - started
    assert proc.returncode == 130, err
    assert waited < 3.0, f"the run took {waited:.1f}s to stop"
    assert stub.requests == 0


# -- 5. credentials in the base URL --------------------------------------------------------


def test_credentials_in_the_base_url_reach_no_record_message_or_doctor(tmp_path: Path) -> None:
    make_papers(tmp_path / "in.jsonl", 6, marker=lambda i: "[[fault:503]]" if i % 2 else None)
    out = tmp_path / "out.jsonl"
    with StubServer(faults="marker") as stub:
        url = stub.base_url.replace("http://", "http://user:SECRET@")
        result = CliRunner().invoke(main, ["run", str(tmp_path / "in.jsonl"), "-o", str(out), "-v",
                                           *_flags(url, tmp_path, "--mode", "auto")])  # fmt: skip
        assert result.exit_code == 1, result.output  # 3 papers failed: their messages name the host
        doctor = CliRunner().invoke(main, ["doctor", *_doctor_flags(url, tmp_path)])
    assert f"127.0.0.1:{stub.port}" in out.read_text() and f"127.0.0.1:{stub.port}" in doctor.output
    for text in (out.read_text(), result.output, result.stderr, doctor.output):
        assert "SECRET" not in text and "user:" not in text


# -- 6. a 200 that is not JSON --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "tools"], ids=["in the probe", "in a request"])
def test_an_html_page_instead_of_json_is_one_line_saying_what_to_check(tmp_path: Path, mode: str) -> None:
    make_papers(tmp_path / "in.jsonl", 5)
    with StubServer(faults=always("html")) as stub:
        args = ["run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), "-q"]
        result = CliRunner().invoke(main, [*args, *_flags(stub, tmp_path, "--mode", mode)])
        doctor = CliRunner().invoke(main, ["doctor", *_doctor_flags(stub, tmp_path)])
    _one_line_error(result, f"127.0.0.1:{stub.port}", "text/html", "502 Bad Gateway", "--base-url")
    assert doctor.exit_code == 2 and "text/html" in doctor.output and "Traceback" not in doctor.output
    assert not (tmp_path / "out.jsonl").exists()  # nothing was written: no empty file left


# -- 7. a bad output path ----------------------------------------------------------------------


@pytest.mark.parametrize("where", ["directory", "proc", "dev_full"])
def test_a_bad_output_path_is_one_line_before_any_request(tmp_path: Path, where: str) -> None:
    make_papers(tmp_path / "in.jsonl", 3)
    out = {"directory": str(tmp_path), "proc": "/proc/extractor-out.jsonl", "dev_full": "/dev/full"}[where]
    with StubServer() as stub:
        result = CliRunner().invoke(main, ["run", str(tmp_path / "in.jsonl"), "-o", out, "-q",
                                           *_flags(stub, tmp_path, "--mode", "tools")])  # fmt: skip
        assert stub.requests == 0
    _one_line_error(result, out, "give another -o")


# -- 8. the Python API --------------------------------------------------------------------------


@pytest.mark.parametrize("abstract", [None, 42, b"We propose X.", "", "   \n"])
def test_summarize_refuses_what_is_not_an_abstract_before_any_request(abstract: Any, tmp_path: Path) -> None:
    with StubServer() as stub:
        with pytest.raises(InputError, match="^abstract: is ") as caught:
            extractor.summarize(abstract, base_url=stub.base_url, model="stub-model", cache_dir=tmp_path / "c")
        assert stub.requests == 0
    assert isinstance(caught.value, ExtractorError) and "\n" not in str(caught.value)
    with pytest.raises(InputError, match="^title: is int"):
        extractor.summarize("We propose X.", title=3, base_url=stub.base_url)  # type: ignore[arg-type]


def test_every_error_class_is_exported() -> None:
    import inspect

    from extractor import errors

    for name, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, Exception):
            assert getattr(extractor, name) is cls and name in extractor.__all__, name


# -- 9. a base URL that is not a URL ------------------------------------------------------------


@pytest.mark.parametrize("url", ["notaurl", "ftp://host/v1", "http://exa mple.com/v1"])
def test_a_base_url_that_is_not_a_url_is_said_so_exit_2(tmp_path: Path, url: str) -> None:
    make_papers(tmp_path / "in.jsonl", 2)
    result = CliRunner().invoke(main, ["run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "o.jsonl"),
                                       *_flags(url, tmp_path)])  # fmt: skip
    _one_line_error(result, "not an http(s) URL")
    assert "cannot reach" not in result.output
    assert not (tmp_path / "o.jsonl").exists()
