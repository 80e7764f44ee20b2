"""A cache that cannot be used never stops a run (extractor/llm/cache.py): a damaged or
truncated cache.db, a directory that cannot be written, a full disk, a cache path that is
a file. The run goes on without the cache and says so in one line; ``extractor cache
info`` and ``cache clear`` never crash, and ``cache clear`` repairs a damaged cache.

Real SQLite files through diskcache, the real loopback stub; a full disk is a file-size
limit on a child process (RLIMIT_FSIZE), a read-only directory an immutable one when the
tests run as root (root ignores permission bits).
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from extractor.cli import main
from extractor.llm.cache import ResultCache

from ..conftest import ROOT
from ..helpers import make_papers, read_records
from ..stub_server import StubServer

BROKEN = ["damaged", "truncated", "read-only", "a file"]


def _filled_cache(directory: Path) -> None:
    cache = ResultCache(directory)
    for i in range(300):
        cache.set(cache.key({"i": i}), {"summary": {"text": "x" * 2000}})
    cache.close()


@contextlib.contextmanager
def _broken(kind: str, directory: Path) -> Iterator[Path]:
    """A cache directory broken in the way ``kind`` says, for the ``with`` block."""
    if kind == "a file":
        directory.write_text("not a cache")
        yield directory
        return
    _filled_cache(directory)
    db = directory / "cache.db"
    if kind == "damaged":
        db.write_bytes(b"this is no SQLite file" * 100)
    elif kind == "truncated":
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    if kind != "read-only":
        yield directory
        return
    for path in directory.iterdir():  # nothing in it can change, and nothing can be added
        path.chmod(0o444) if path.is_file() else None
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield directory
        finally:
            directory.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(directory), str(db)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    try:
        yield directory
    finally:
        subprocess.run(["chattr", "-i", str(directory), str(db)], check=True)


def _run(stub: StubServer, tmp_path: Path, cache: Path, out: str = "out.jsonl") -> Result:
    return CliRunner().invoke(main, [
        "run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / out), "-q", "--base-url", stub.base_url,
        "--model", "stub-model", "--mode", "tools", "--grounding", "off", "--retry-backoff", "0.01",
        "--cache-dir", str(cache),
    ])  # fmt: skip


def _said_once(result: Result, cache: Path) -> None:
    said = [line for line in result.stderr.splitlines() if "cannot be used" in line]
    assert len(said) == 1 and str(cache) in said[0] and "going on without it" in said[0], result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("kind", BROKEN)
def test_a_run_goes_on_without_a_broken_cache_and_says_so_once(tmp_path: Path, kind: str) -> None:
    make_papers(tmp_path / "in.jsonl", 6)
    with StubServer() as stub, _broken(kind, tmp_path / "cache") as cache:
        result = _run(stub, tmp_path, cache)
        assert result.exit_code == 0, result.output
        _said_once(result, cache)
        assert stub.requests == 6
    records = read_records(tmp_path / "out.jsonl")
    assert len(records) == 6 and all(r["error"] is None for r in records)


@pytest.mark.parametrize("kind", BROKEN)
def test_cache_info_says_what_is_wrong_instead_of_crashing(tmp_path: Path, kind: str) -> None:
    with _broken(kind, tmp_path / "cache") as cache:
        result = CliRunner().invoke(main, ["cache", "info", "--cache-dir", str(cache)])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["directory"] == str(cache) and "cache clear" in lines["problem"], result.output


@pytest.mark.parametrize("kind", ["damaged", "truncated"])
def test_cache_clear_repairs_a_damaged_cache(tmp_path: Path, kind: str) -> None:
    make_papers(tmp_path / "in.jsonl", 3)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "notes.txt").write_text("the user's own file")
    with _broken(kind, tmp_path / "cache") as cache:
        cleared = CliRunner().invoke(main, ["cache", "clear", "--cache-dir", str(cache)])
        assert cleared.exit_code == 0 and "repaired" in cleared.stdout, cleared.output
        info = CliRunner().invoke(main, ["cache", "info", "--cache-dir", str(cache)])
        assert info.exit_code == 0 and "entries: 0" in info.stdout, info.output
        with StubServer() as stub:
            assert _run(stub, tmp_path, cache).exit_code == 0
            assert _run(stub, tmp_path, cache, "again.jsonl").exit_code == 0
            assert stub.requests == 3, "the repaired cache answers the second run"
    assert (tmp_path / "cache" / "notes.txt").read_text() == "the user's own file"


@pytest.mark.parametrize("kind", ["read-only", "a file"])
def test_cache_clear_that_cannot_repair_says_why_in_one_line(tmp_path: Path, kind: str) -> None:
    with _broken(kind, tmp_path / "cache") as cache:
        result = CliRunner().invoke(main, ["cache", "clear", "--cache-dir", str(cache)])
    if kind == "read-only" and result.exit_code == 0:  # nothing needed repairing: the entries were readable
        return
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert [line for line in result.output.splitlines() if line] == [result.output.strip()]
    assert result.output.startswith(f"error: {cache}")


def test_a_disk_that_fills_up_turns_the_cache_off_and_the_run_goes_on(tmp_path: Path) -> None:
    make_papers(tmp_path / "in.jsonl", 15)

    def full_disk() -> None:  # no file may grow past 36 kB: the cache (32 kB empty) fills it, 15 records (28 kB) do not
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (36_000, 36_000))

    with StubServer() as stub:
        cmd = [sys.executable, "-m", "extractor", "run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"),
               "-q", "--base-url", stub.base_url, "--model", "stub-model", "--mode", "tools", "--grounding", "off",
               "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120, preexec_fn=full_disk)
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "cannot be used" in line]
    assert len(said) == 1 and "Traceback" not in result.stderr, result.stderr
    assert len(read_records(tmp_path / "out.jsonl")) == 15
