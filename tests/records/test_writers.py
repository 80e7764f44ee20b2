"""Every writer of extractor treats its target the same way (extractor/records/files.py):
a symlink is followed (the link stays a link), a character device or a FIFO is written
through (never replaced), a directory is refused in one line, and nothing but the named
file changes. The writers: records (JSONL and CSV, and their resume rewrites),
``--stats-json``, the digest, ``batch prepare -o`` and ``batch fetch -o``.

Devices are made with ``mknod`` inside ``tmp_path`` (the numbers of /dev/null and
/dev/full): the machine's own devices are never pointed at.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from extractor.cli import main
from extractor.errors import InputError
from extractor.records.files import atomic_write, check_target, replacing
from extractor.records.output import RecordWriter

from ..batch_server import BatchServer
from ..helpers import _record, make_papers, read_records
from ..stub_server import StubServer

NULL, FULL = os.makedev(1, 3), os.makedev(1, 7)


def _device(path: Path, numbers: int) -> Path:
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, numbers)
    except PermissionError:
        pytest.skip("mknod needs root")
    return path


def _listing(directory: Path) -> dict[str, str]:
    """Every entry under ``directory`` and its kind: what a writer may not change."""
    kinds = {}
    for entry in sorted(directory.rglob("*")):
        mode = entry.lstat().st_mode
        kinds[str(entry.relative_to(directory))] = "link" if stat.S_ISLNK(mode) else stat.filemode(mode)[0]
    return kinds


def _one_line(result: Result, *words: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# -- the rule itself ---------------------------------------------------------------------------


def test_atomic_write_follows_a_symlink_and_keeps_the_link_and_the_mode(tmp_path: Path) -> None:
    real = tmp_path / "data" / "stats.json"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "stats.json"
    link.symlink_to(Path("data") / "stats.json")
    atomic_write(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert _listing(tmp_path) == {"data": "d", "data/stats.json": "-", "stats.json": "link"}


def test_a_dangling_symlink_names_the_file_to_make(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to("made-later.json")
    atomic_write(link, "x")
    assert link.is_symlink() and (tmp_path / "made-later.json").read_text() == "x"


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "requests.jsonl"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), replacing(target) as fh:
        fh.write(b"half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n" and _listing(tmp_path) == {"requests.jsonl": "-"}


@pytest.mark.parametrize("kind", ["directory", "missing directory", "socket"])
def test_what_cannot_hold_a_file_is_refused_in_one_line(tmp_path: Path, kind: str) -> None:
    target = {"directory": tmp_path, "missing directory": tmp_path / "nope" / "x.json", "socket": tmp_path / "s"}[kind]
    if kind == "socket":
        import socket

        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
    with pytest.raises(InputError, match="cannot write the stats here") as caught:
        atomic_write(target, "{}", "the stats")
    assert "\n" not in str(caught.value)
    with pytest.raises(InputError):
        check_target(target, "the stats")


def test_a_device_is_written_through_and_stays_a_device(tmp_path: Path) -> None:
    null = _device(tmp_path / "null", NULL)
    atomic_write(null, "anything")
    full = _device(tmp_path / "full", FULL)
    with pytest.raises(InputError, match=r"full: cannot write the digest here \(No space left on device\)"):
        atomic_write(full, "x" * 10_000, "the digest")
    assert stat.S_ISCHR(null.stat().st_mode) and stat.S_ISCHR(full.stat().st_mode)
    assert _listing(tmp_path) == {"full": "c", "null": "c"}


def test_a_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    atomic_write(fifo, "through the pipe")
    reader.join(10)
    assert got == [b"through the pipe"] and stat.S_ISFIFO(fifo.stat().st_mode)


# -- the record file ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_resume_through_a_symlinked_output_rewrites_the_real_file_and_keeps_the_link(
    tmp_path: Path, suffix: str
) -> None:
    real = tmp_path / "data" / f"results{suffix}"
    real.parent.mkdir()
    with RecordWriter(real) as w:
        for i in range(10):
            w.write(_record(f"p{i}", error="timeout"))
    # A run killed before it closed the file: each failed record followed by its retry.
    with RecordWriter(real) as w:
        for i in range(10):
            w.write(_record(f"p{i}"))
        w._replaced = 0  # the kill: close() never removed the failed ones
    link = tmp_path / f"results{suffix}"
    link.symlink_to(real.relative_to(tmp_path))
    with RecordWriter(link) as w:
        assert w.removed_duplicates == 10 and w.done == {f"p{i}" for i in range(10)}
    assert link.is_symlink() and os.readlink(link) == str(real.relative_to(tmp_path))
    if suffix == ".jsonl":
        ids = [r["id"] for r in read_records(real)]
    else:
        ids = [row["id"] for row in csv.DictReader(io.StringIO(real.read_text()))]
    assert sorted(ids) == sorted(f"p{i}" for i in range(10))
    assert _listing(tmp_path) == {"data": "d", f"data/results{suffix}": "-", f"results{suffix}": "link"}


@pytest.mark.parametrize("numbers", [NULL, FULL], ids=["null", "full"])
def test_records_are_never_written_to_a_device(tmp_path: Path, numbers: int) -> None:
    device = _device(tmp_path / "dev", numbers)
    with pytest.raises(InputError, match="a character device, not a regular file.*give another -o"):
        RecordWriter(device)
    assert stat.S_ISCHR(device.stat().st_mode)


# -- the commands ---------------------------------------------------------------------------


def _run_flags(stub: StubServer, tmp_path: Path) -> list[str]:
    return ["--base-url", stub.base_url, "--model", "stub-model", "--mode", "tools", "--grounding", "off",
            "--retry-backoff", "0.01", "--cache-dir", str(tmp_path / "cache"), "-q"]  # fmt: skip


@pytest.mark.parametrize("option", ["--stats-json", "--digest"])
def test_run_refuses_a_directory_for_stats_or_digest_before_any_request(tmp_path: Path, option: str) -> None:
    make_papers(tmp_path / "in.jsonl", 3)
    (tmp_path / "taken").mkdir()
    with StubServer() as stub:
        result = CliRunner().invoke(main, ["run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"),
                                           option, str(tmp_path / "taken"), *_run_flags(stub, tmp_path)])  # fmt: skip
        assert stub.requests == 0
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output


@pytest.mark.parametrize("option", ["--stats-json", "--digest"])
def test_run_writes_stats_and_digest_through_a_device_and_a_symlink(tmp_path: Path, option: str) -> None:
    make_papers(tmp_path / "in.jsonl", 3)
    suffix = ".json" if option == "--stats-json" else ".html"
    full = _device(tmp_path / f"full{suffix}", FULL)
    with StubServer() as stub:
        args = ["run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), *_run_flags(stub, tmp_path)]
        result = CliRunner().invoke(main, [*args, option, str(full)])
        _one_line(result, str(full), "No space left on device")
        assert len(read_records(tmp_path / "out.jsonl")) == 3  # the records came first, and stay
        real = tmp_path / "kept" / f"report{suffix}"
        real.parent.mkdir()
        real.write_text("old")
        link = tmp_path / f"report{suffix}"
        link.symlink_to(real)
        assert CliRunner().invoke(main, [*args, option, str(link)]).exit_code == 0
    assert link.is_symlink() and real.read_text() != "old" and stat.S_ISCHR(full.stat().st_mode)


@pytest.mark.parametrize("target", ["full", "proc"])
def test_digest_to_a_full_device_or_proc_is_one_line(tmp_path: Path, target: str) -> None:
    records = tmp_path / "r.jsonl"
    with RecordWriter(records) as w:
        w.write(_record("a"))
    out = str(_device(tmp_path / "full.html", FULL)) if target == "full" else "/proc/extractor-digest.html"
    result = CliRunner().invoke(main, ["digest", str(records), "-o", out])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert out in result.output and len(result.output.strip().splitlines()) == 1, result.output


def _prepare(tmp_path: Path, out: Path | str) -> Result:
    make_papers(tmp_path / "papers.jsonl", 3)
    return CliRunner().invoke(main, ["batch", "prepare", str(tmp_path / "papers.jsonl"), "-o", str(out),
                                     "--model", "m", "--no-cache"])  # fmt: skip


def test_batch_prepare_writes_through_a_device_never_replacing_it(tmp_path: Path) -> None:
    full = _device(tmp_path / "full", FULL)
    _one_line(_prepare(tmp_path, full), "No space left on device")
    null = _device(tmp_path / "null", NULL)
    assert _prepare(tmp_path, null).exit_code == 0
    assert stat.S_ISCHR(full.stat().st_mode) and stat.S_ISCHR(null.stat().st_mode)
    assert _listing(tmp_path) == {"full": "c", "null": "c", "papers.jsonl": "-"}


def test_batch_prepare_follows_a_symlink_and_refuses_a_directory(tmp_path: Path) -> None:
    real = tmp_path / "store" / "requests.jsonl"
    real.parent.mkdir()
    link = tmp_path / "requests.jsonl"
    link.symlink_to(real)
    assert _prepare(tmp_path, link).exit_code == 0
    assert link.is_symlink() and len(real.read_text().splitlines()) == 3
    _one_line(_prepare(tmp_path, tmp_path / "store"), "a directory")


def _fetch_flags(server: BatchServer) -> list[str]:
    return ["--base-url", server.base_url, "--retry-backoff", "0.01"]


def _fetched_batch(server: BatchServer, tmp_path: Path) -> str:
    requests = tmp_path / "requests.jsonl"
    assert _prepare(tmp_path, requests).exit_code == 0
    invoke: Callable[..., Any] = CliRunner().invoke
    batch_id = invoke(main, ["batch", "submit", str(requests), *_fetch_flags(server)]).stdout.strip().splitlines()[-1]
    assert invoke(main, ["batch", "status", batch_id, "--wait", "--poll", "0.05", *_fetch_flags(server)]).exit_code == 0
    return str(batch_id)


def test_batch_fetch_follows_a_symlink_writes_through_a_device_refuses_a_directory(tmp_path: Path) -> None:
    with BatchServer(batch_seconds=0.05) as server:
        batch_id = _fetched_batch(server, tmp_path)
        real = tmp_path / "store" / "answers.jsonl"
        real.parent.mkdir()
        link = tmp_path / "answers.jsonl"
        link.symlink_to(real)
        fetch = ["batch", "fetch", batch_id, *_fetch_flags(server), "-o"]
        assert CliRunner().invoke(main, [*fetch, str(link)]).exit_code == 0
        assert link.is_symlink() and all(json.loads(line)["custom_id"] for line in real.read_text().splitlines())
        full = _device(tmp_path / "full", FULL)
        _one_line(CliRunner().invoke(main, [*fetch, str(full)]), "No space left on device")
        _one_line(CliRunner().invoke(main, [*fetch, str(tmp_path / "store")]), "a directory")
    assert stat.S_ISCHR(full.stat().st_mode)
    assert set(_listing(tmp_path)) == {"answers.jsonl", "full", "papers.jsonl", "requests.jsonl", "store",
                                       "store/answers.jsonl"}  # fmt: skip
