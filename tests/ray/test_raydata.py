"""Ray Data (extractor.ray.data, ``extractor ray``): rows and records, the map_batches class,
the output directory's resume and tidy-up, and a local Ray cluster (``num_cpus=2``) extracting
the 544 seed papers against the loopback stub server: the same records as ``extractor run``,
the same again with an actor killed mid-run, and a re-run that writes nothing new.

Skipped when Ray is not installed (``pip install -e '.[ray,test]'``), except with
``EXTRACTOR_REQUIRE_RAY=1`` (``.ci/run`` sets it), where a missing Ray fails. The cluster tests
are marked ``slow`` (about a minute and a half together here, Ray's start-up included);
each is bounded by a time limit and stops what it started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from extractor.runs.run import BatchOptions, run_batch
from extractor.cli import main
from extractor.records.listings import read_papers
from extractor.schema import Record
from extractor.settings import Settings

from ..conftest import ROOT, SEEDS
from ..helpers import make_papers, settings_for
from ..stub_server import StubServer, always

if os.environ.get("EXTRACTOR_REQUIRE_RAY") == "1":
    import pyarrow  # noqa: F401
    import ray
else:
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[ray,test]'")
    pytest.importorskip("pyarrow", reason="pyarrow comes with ray[data]: pip install -e '.[ray,test]'")

from extractor.ray import data as raydata, recorddir  # noqa: E402
from extractor.ray.data import ExtractBatch, RayOptions  # noqa: E402
from extractor.ray.recorddir import output_ids, record_json, record_row, row_record  # noqa: E402

CLUSTER_TIMEOUT_S = 300


def _records(out: Path) -> list[dict[str, Any]]:
    """Every record in an output directory (JSONL files), parsed; fails on a torn line."""
    found = []
    for path in sorted(out.glob("*.jsonl")):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n"), path
        found += [json.loads(line) for line in text.splitlines()]
    return found


def _without_timing(record: dict[str, Any]) -> dict[str, Any]:
    prov = record.get("provenance")
    if prov is not None:
        record = {**record, "provenance": {k: v for k, v in prov.items() if k != "latency_s"}}
    return record


# -- no cluster ------------------------------------------------------------------------------


def test_a_row_holds_the_record_and_gives_back_the_line_extractor_run_writes(tmp_path: Path) -> None:
    make_papers(tmp_path / "in.jsonl", 3)
    with StubServer() as stub:
        run_batch([str(tmp_path / "in.jsonl")], tmp_path / "out.jsonl", settings_for(stub, tmp_path), BatchOptions(quiet=True))
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    for line in lines:
        record = Record.model_validate_json(line)
        row = record_row(record)
        assert list(row) == list(recorddir.RECORD_COLUMNS)
        assert isinstance(row["extraction"], str) and isinstance(row["title"], str) and row["error"] is None
        assert record_json(row) == line
        assert row_record(row) == record


def test_the_class_extracts_a_frame_without_ray_and_bad_rows_become_error_records(tmp_path: Path) -> None:
    import pandas as pd

    rows = make_papers(tmp_path / "in.jsonl", 6)
    rows[2] = {**rows[2], "abstract": rows[2]["abstract"] + " [[fault:503]]"}  # fails every attempt
    frame = pd.DataFrame(rows + [{"id": "bad", "title": "No abstract here", "abstract": None}])
    with StubServer(faults="marker") as stub:
        stage = ExtractBatch(settings_for(stub, tmp_path).model_dump(), concurrency=4)
        try:
            table = stage(frame)
        finally:
            stage.close()
    out = [row_record(row) for row in table.to_pylist()]
    assert [r.id for r in out] == [row["id"] for row in rows] + ["bad"], "one row per input row, in order"
    assert [r.error.kind if r.error else None for r in out] == [None, None, "server", None, None, None, "input"]
    assert "'abstract' is missing" in out[-1].error.message
    # the same ids and text as extractor run reads from the same JSONL
    read = {p.id: p for p in read_papers([str(tmp_path / "in.jsonl")])}
    assert all(read[r.id].abstract == r.abstract for r in out[:2])


def _write_jsonl(path: Path, records: list[Record]) -> None:
    path.write_text("".join(r.model_dump_json() + "\n" for r in records))


def test_tidy_output_keeps_one_record_per_paper_the_latest_success(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from extractor.records.listings import paper_from_text
    from extractor.schema import ErrorInfo, Extraction

    def rec(pid: str, ok: bool) -> Record:
        paper = paper_from_text("We study a thing. It works.", f"Paper {pid}", id=pid)
        if ok:
            summary = Extraction(task=None, method=None, contribution="method", summary="This paper works.")
            return Record.for_paper(paper, extraction=summary)
        return Record.for_paper(paper, error=ErrorInfo(kind="server", message="503"))

    out = tmp_path / "out"
    out.mkdir()
    _write_jsonl(out / "a.jsonl", [rec("p1", False), rec("p2", True), rec("p3", False)])
    time.sleep(0.01)
    _write_jsonl(out / "b.jsonl", [rec("p1", True), rec("p3", False), rec("p4", True)])
    (out / "b.jsonl").write_text((out / "b.jsonl").read_text() + '{"id": "p5", "tit')  # a torn last line
    pq.write_table(recorddir.record_table([rec("p2", True), rec("p6", False)]), out / "c.parquet")
    (out / "notes.txt").write_text("not ours")
    assert output_ids(str(out)) == ({"p1", "p2", "p4"}, {"p3", "p6"})
    removed = recorddir.tidy_output(str(out))
    assert removed == 4  # p1's failure, a's p3 (b's is newer), the torn line, a's p2 (c's is newer)
    ids = [r["id"] for r in _records(out)] + pq.read_table(out / "c.parquet").column("id").to_pylist()
    assert sorted(ids) == ["p1", "p2", "p3", "p4", "p6"]
    assert pq.read_table(out / "c.parquet").column("id").to_pylist() == ["p2", "p6"]
    assert (out / "notes.txt").read_text() == "not ours"
    assert recorddir.tidy_output(str(out)) == 0


def test_without_ray_the_command_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setitem(sys.modules, "ray.data", None)
    result = CliRunner().invoke(main, ["ray", "x.jsonl", "-o", str(tmp_path / "out"), "--base-url", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 2
    assert result.stderr == "error: Ray is not installed: pip install 'extractor[ray]'\n"


def test_the_ray_path_refuses_to_start_the_bundled_model_per_actor(tmp_path: Path) -> None:
    with pytest.raises(raydata.ConfigError, match="--base-url"):
        raydata.run_ray(["x.jsonl"], tmp_path / "out", Settings(), RayOptions())


# -- a local Ray cluster ---------------------------------------------------------------------


def _marked(marker: str) -> list[int]:
    """The processes whose environment carries ``marker`` (``EXTRACTOR_TEST_CLUSTER=<id>``):
    this cluster's workers, wherever they were re-parented."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue  # gone, or not ours to read
    return found


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A local Ray cluster of 2 CPUs; its workers import this checkout's ``extractor``.
    Every worker carries a marker in its environment, so that one Ray leaves behind at
    shutdown (an actor restarted after a kill was seen to outlive ``ray.shutdown()``) is
    found and stopped: the tests stop what they started."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    marker = f"EXTRACTOR_TEST_CLUSTER={os.getpid()}-{time.monotonic_ns()}"
    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": path, "RAY_USAGE_STATS_ENABLED": "0",
                                  marker.partition("=")[0]: marker.partition("=")[2]}},
    )  # fmt: skip
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()
        deadline = time.monotonic() + 10
        while (left := _marked(marker)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fails the test (instead of hanging the suite) after CLUSTER_TIMEOUT_S."""
    timer = threading.Timer(CLUSTER_TIMEOUT_S, lambda: os._exit(f"Ray test over {CLUSTER_TIMEOUT_S}s"))  # type: ignore[arg-type]
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


class CrashOnce(ExtractBatch):
    """Dies (the whole actor process) in its second batch, once per test: the marker file
    ``crashed`` next to the cache directory says it happened. Ray restarts the actor and runs
    the batch again."""

    def __init__(self, settings: Any = None, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        self.calls = 0

    def __call__(self, batch: Any) -> Any:
        self.calls += 1
        table = super().__call__(batch)  # its requests were sent: the retry sends them again
        if self.calls == 2:
            try:
                fd = os.open(self.settings.cache_dir.parent / "crashed", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return table
            os.close(fd)
            os._exit(1)
        return table


@pytest.mark.slow
def test_ray_gives_the_records_of_extractor_run_even_with_an_actor_killed(
    cluster: None, deadline: None, tmp_path: Path
) -> None:
    with StubServer() as stub:
        settings = settings_for(stub, tmp_path, cache=False)
        run_batch([str(SEEDS)], tmp_path / "run.jsonl", settings, BatchOptions(quiet=True))
        expected = {r["id"]: _without_timing(r) for r in (json.loads(x) for x in (tmp_path / "run.jsonl").read_text().splitlines())}
        assert len(expected) == 544

        # the same papers through Ray: the same ids, the same records but for the timing
        stats = raydata.run_ray([str(SEEDS)], tmp_path / "ray", settings, RayOptions(actors=2, batch_size=64))
        got = _records(tmp_path / "ray")
        assert len(got) == 544 and {r["id"] for r in got} == set(expected)
        assert all(_without_timing(r) == expected[r["id"]] for r in got)
        assert stats.extracted == 544 and stats.failed == 0 and stats.removed_duplicates == 0

        # an actor dies in the middle (os._exit in its second batch): still 544, none doubled
        requests = stub.requests
        ds = raydata.read_dataset([str(SEEDS)])
        records = raydata.extract_dataset(ds, settings, actors=2, batch_size=32, stage=CrashOnce)
        raydata.write_records(records, str(tmp_path / "crash"))
        assert (tmp_path / "crashed").exists(), "no actor was killed"
        assert stub.requests > requests + 544, "the killed actor's batch was not sent again"
        got = _records(tmp_path / "crash")
        ids = [r["id"] for r in got]
        assert len(ids) == 544 and set(ids) == set(expected), "a paper was lost or doubled"
        assert all(_without_timing(r) == expected[r["id"]] for r in got)


@pytest.mark.slow
def test_ray_resumes_from_its_output_and_the_command_writes_parquet(
    cluster: None, deadline: None, tmp_path: Path
) -> None:
    rows = make_papers(tmp_path / "in.jsonl", 150)
    out = tmp_path / "out"
    with StubServer() as stub:
        settings = settings_for(stub, tmp_path)
        first = raydata.run_ray([str(tmp_path / "in.jsonl")], out, settings, RayOptions(limit=100))
        assert first.extracted == 100 and stub.requests == 100
        # a re-run skips the 100 and extracts the other 50 only
        second = raydata.run_ray([str(tmp_path / "in.jsonl")], out, settings)
        assert second.already_done == 100 and second.extracted == 50 and stub.requests == 150
        files = {p.name: p.read_bytes() for p in out.iterdir()}
        # a third run writes nothing new and sends nothing
        third = raydata.run_ray([str(tmp_path / "in.jsonl")], out, settings)
        assert third.already_done == 150 and third.extracted == 0 and stub.requests == 150
        assert {p.name: p.read_bytes() for p in out.iterdir()} == files
        got = _records(out)
        assert sorted(r["id"] for r in got) == sorted(r["id"] for r in rows)
        assert (tmp_path / "in.jsonl").read_text().count("\n") == 150

        # the command: Parquet input (written by Ray from the JSONL), Parquet records out
        ray.data.read_json(str(tmp_path / "in.jsonl")).write_parquet(str(tmp_path / "pq"))
        flags = ["--base-url", stub.base_url, "--model", "stub-model", "--mode", "tools", "--grounding", "off",
                 "--cache-dir", str(tmp_path / "cache"), "--max-reasks", "1", "--concurrency", "4", "--actors", "2"]  # fmt: skip
        result = CliRunner().invoke(main, ["ray", str(tmp_path / "pq"), "-o", str(tmp_path / "rec"), "--format", "parquet", *flags])
        assert result.exit_code == 0, result.output
        assert "extracted 150" in result.stderr
        assert stub.requests == 150, "every answer came from the cache"
    table = ray.data.read_parquet(str(tmp_path / "rec")).to_pandas()
    assert sorted(table["id"]) == sorted(r["id"] for r in rows)
    assert set(table.columns) == set(recorddir.RECORD_COLUMNS)
    assert all(json.loads(x)["summary"] for x in table["extraction"])


@pytest.mark.slow
def test_a_bad_key_stops_the_ray_job_with_one_line(
    cluster: None, deadline: None, tmp_path: Path
) -> None:
    make_papers(tmp_path / "in.jsonl", 8, marker=lambda i: "[[fault:401]]" if i == 5 else None)
    with StubServer(faults="marker") as stub:
        flags = ["--base-url", stub.base_url, "--model", "stub-model", "--mode", "tools", "--grounding", "off",
                 "--cache-dir", str(tmp_path / "cache"), "--actors", "1", "--batch-size", "4"]  # fmt: skip
        result = CliRunner().invoke(main, ["ray", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"), *flags])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and "key" in result.stderr.lower(), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def _processes_with(marker: str) -> list[int]:
    """The processes whose environment holds ``marker`` (a run's own, inherited by Ray's
    raylet, GCS and workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_the_ray_command_with_a_refused_key_says_one_line_and_leaves_no_process(tmp_path: Path) -> None:
    """Run as a user runs it (its own process and local cluster): Ray's start-up logs, the
    task tracebacks and its retry advice stay off the terminal, and no actor outlives it."""
    import uuid

    make_papers(tmp_path / "in.jsonl", 8)
    marker = f"EXTRACTOR_RAY_TEST={uuid.uuid4().hex}"
    ray_tmp = Path("/tmp") / f"xr-{uuid.uuid4().hex[:8]}"  # short: Ray's socket paths live under it
    env = {**os.environ, "RAY_TMPDIR": str(ray_tmp), "PYTHONPATH": str(ROOT), marker.split("=")[0]: marker.split("=")[1]}
    with StubServer(faults=always("401")) as stub:
        cmd = [sys.executable, "-m", "extractor", "ray", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"),
               "--base-url", stub.base_url, "--model", "stub-model", "--mode", "tools", "--no-cache", "--actors", "1"]  # fmt: skip
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=CLUSTER_TIMEOUT_S)
        finally:
            left = _processes_with(marker)
            for _ in range(150):  # Ray's processes stop within seconds of the shutdown (up to 30 s on a busy machine)
                if not left:
                    break
                time.sleep(0.2)
                left = _processes_with(marker)
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            shutil.rmtree(ray_tmp, ignore_errors=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"error: 127.0.0.1:{stub.port} refused the API key (HTTP 401); set --api-key or EXTRACTOR_API_KEY"
    ], result.stderr
    assert result.stdout == ""
    assert left == [], "a process of the failed run outlived it"
