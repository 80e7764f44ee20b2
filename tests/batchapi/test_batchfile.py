"""The Batch API path: prepare -> submit -> status -> fetch -> ingest against a loopback
server speaking the files and batches protocol (tests/batch_server.py), whose answers are
the stub's own, so they can be compared with ``extractor run`` on the same answers.

Every test starts and stops its own server; the batches "run" in 0.05 s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from extractor.batchapi.files import BatchOutput, batch_settings, ingest_answers, prepare_requests
from extractor.cli import main
from extractor.errors import ConfigError, InputError
from extractor.settings import Settings

from ..batch_server import BatchServer
from ..conftest import ROOT
from ..helpers import make_papers, read_records
from ..stub_server import by_marker

SEEDS = ROOT / "seeds"

#: What differs between a run and an ingest of the same answers: the cost of asking.
TIMING = {"latency_s", "tokens_in", "tokens_out", "attempts"}


def cli(*args: Any, ok: tuple[int, ...] = (0,)) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code in ok, result.output
    return result


def flags(server: BatchServer, cache: Path, *extra: Any) -> list[Any]:
    return ["--base-url", server.base_url, "--model", "stub-model", "--cache-dir", cache, "--retry-backoff", "0.01", *extra]


def comparable(path: Path) -> dict[str, dict[str, Any]]:
    """Records by id, without what depends on timing."""
    records = {}
    for record in read_records(path):
        if record["provenance"] is not None:
            record["provenance"] = {k: v for k, v in record["provenance"].items() if k not in TIMING}
        records[record["id"]] = record
    return records


def first_asks(bodies: list[dict[str, Any]]) -> list[str]:
    """The bodies of first questions (not re-asks: those carry an assistant message), as
    sorted canonical JSON."""
    firsts = [b for b in bodies if not any(m.get("role") == "assistant" for m in b["messages"])]
    return sorted(json.dumps(b, sort_keys=True) for b in firsts)


def through_the_batch_api(
    server: BatchServer, tmp_path: Path, inputs: list[Any], *settings: Any, limit: int | None = None
) -> Path:
    """prepare -> submit -> status --wait -> fetch -> ingest, by the command line; the records' path."""
    requests, answers, records = tmp_path / "requests.jsonl", tmp_path / "output.jsonl", tmp_path / "records.jsonl"
    common = flags(server, tmp_path / "ingest-cache", *settings)
    reading = ["--limit", limit] if limit else []
    cli("batch", "prepare", *inputs, "-o", requests, *reading, *common)
    batch_id = cli("batch", "submit", requests, *common).stdout.strip().splitlines()[-1]
    assert batch_id.startswith("batch_")
    status = cli("batch", "status", batch_id, "--wait", "--poll", "0.05", *common)
    assert "completed" in status.stdout
    cli("batch", "fetch", batch_id, "-o", answers, *common)
    cli("batch", "ingest", answers, *[a for i in inputs for a in ("--input", i)], "-o", records, "--requests", requests, *reading, *common,
        ok=(0, 1))  # fmt: skip
    return records


@pytest.mark.parametrize(
    "settings",
    [
        ("--mode", "json_schema"),  # model-first, grounding check: the run re-asks, the batch cannot
        ("--mode", "json_schema", "--context-budget", "700"),  # long abstracts asked in parts
        ("--mode", "tools", "--policy", "rules-first", "--grounding", "span"),
    ],
    ids=["model-first-reasks", "model-first-split", "rules-first-tools"],
)
def test_the_batch_api_gives_the_records_of_extractor_run(tmp_path: Path, settings: tuple[str, ...]) -> None:
    inputs = [SEEDS, "--limit", 12]
    with BatchServer(batch_seconds=0.05) as server:
        cli("run", *inputs, "-o", tmp_path / "run.jsonl", "-q", *flags(server, tmp_path / "run-cache", *settings), ok=(0, 1))
        sent_by_run, reasks = first_asks(server.bodies), len(server.bodies) - len(first_asks(server.bodies))
        server.bodies.clear()
        records = through_the_batch_api(server, tmp_path, [SEEDS], *settings, limit=12)
        answered_in_batch = first_asks(server.bodies)
    prepared = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert sorted(json.dumps(p["body"], sort_keys=True) for p in prepared) == sent_by_run == answered_in_batch
    assert all(p["method"] == "POST" and p["url"] == "/v1/chat/completions" for p in prepared)
    ids = [p["custom_id"] for p in prepared]
    assert len(ids) == len(set(ids))
    assert (reasks > 0) == (settings == ("--mode", "json_schema"))  # the stub's hashes fail grounding
    if "700" in settings:
        assert any("#2" in i for i in ids), "a long abstract is asked in parts"
    run, batch = comparable(tmp_path / "run.jsonl"), comparable(records)
    assert len(run) == 12 and run == batch
    assert all(r["error"] is None for r in batch.values())


def test_prepare_needs_a_model_skips_papers_without_one_and_reports_bad_lines(tmp_path: Path) -> None:
    papers = tmp_path / "papers.jsonl"
    make_papers(papers, 3)
    with papers.open("a") as fh:
        fh.write("{not json\n")
    out = tmp_path / "requests.jsonl"
    result = CliRunner().invoke(main, ["batch", "prepare", str(papers), "-o", str(out)])
    assert result.exit_code == 2 and "needs --model" in result.output and len(result.output.splitlines()) == 1
    result = cli("batch", "prepare", papers, "-o", out, "--model", "m", ok=(4,))  # 4: a line was lost
    assert f"{papers}:4: not valid JSON" in result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["custom_id"] for line in lines] == ["p0000", "p0001", "p0002"]
    assert lines[0]["body"]["response_format"]["type"] == "json_schema"  # the batch default mode
    cli("batch", "prepare", papers, "-o", out, "--policy", "rules", ok=(4,))
    assert out.read_text() == ""  # no model needed: no line
    with pytest.raises(ConfigError):
        batch_settings(Settings())
    assert batch_settings(Settings(model="m")).mode == "json_schema"


def test_missing_failed_and_invalid_answers_are_error_records_naming_the_paper(tmp_path: Path) -> None:
    papers = tmp_path / "papers.jsonl"
    marks = {1: "[[fault:500]]", 2: "[[fault:schema_fail]]"}
    rows = make_papers(papers, 5, marker=marks.get)
    with BatchServer(batch_seconds=0.05, faults=by_marker()) as server:
        server.drop = {"p0003"}  # the batch never answered it
        records = through_the_batch_api(server, tmp_path, [papers], "--grounding", "off")
        by_id = {r["id"]: r for r in read_records(records)}
        assert sorted(by_id) == [row["id"] for row in rows], "every paper has its record"
        errors = {pid: r["error"] for pid, r in by_id.items() if r["error"]}
        assert {pid: e["kind"] for pid, e in errors.items()} == {"p0001": "server", "p0002": "validation", "p0003": "missing"}
        assert all(e["message"].startswith(pid) for pid, e in errors.items())
        assert "HTTP 500" in errors["p0001"]["message"]

        # Resuming: a second batch of what is left answers what failed; each paper stays once.
        server.drop, server.faults = set(), None
        common = flags(server, tmp_path / "ingest-cache", "--grounding", "off")
        left = tmp_path / "left.jsonl"
        prepared = cli("batch", "prepare", papers, "-o", left, "--skip-done", records, *common)
        assert "already done 2" in prepared.output
        assert sorted(json.loads(line)["custom_id"] for line in left.read_text().splitlines()) == sorted(errors)
        batch_id = cli("batch", "submit", left, *common).stdout.split()[-1]
        cli("batch", "status", batch_id, "--wait", "--poll", "0.05", *common)
        cli("batch", "fetch", batch_id, "-o", tmp_path / "second.jsonl", *common)
        ingest_answers([tmp_path / "second.jsonl"], [str(papers)], records, batch_settings(
            Settings(base_url=server.base_url, model="stub-model", grounding="off", cache_dir=tmp_path / "c")))
    final = read_records(records)
    assert sorted(r["id"] for r in final) == [row["id"] for row in rows]
    assert all(r["error"] is None for r in final)


def three_papers_through_the_batch_api(tmp_path: Path) -> Path:
    """Three papers prepared, submitted, fetched and ingested (``--grounding off``); their input file."""
    papers = tmp_path / "papers.jsonl"
    make_papers(papers, 3)
    with BatchServer(batch_seconds=0.05) as server:
        through_the_batch_api(server, tmp_path, [papers], "--grounding", "off")
    return papers


def test_a_corrupt_output_line_is_one_error_naming_the_line_and_the_rest_goes_on(tmp_path: Path) -> None:
    papers = three_papers_through_the_batch_api(tmp_path)
    output = tmp_path / "output.jsonl"
    lines = output.read_text().splitlines()
    lines[1] = lines[1][:40]  # torn mid-line
    output.write_text("\n".join(lines) + "\n")
    records = tmp_path / "fresh.jsonl"
    result = cli("batch", "ingest", output, "--input", papers, "-o", records, "--model", "stub-model",
                 "--grounding", "off", "--cache-dir", tmp_path / "c2", ok=(1,))  # fmt: skip
    assert f"{output}:2: not valid JSON" in result.output
    by_id = {r["id"]: r for r in read_records(records)}
    assert len(by_id) == 3 and sum(r["error"] is not None for r in by_id.values()) == 1
    lost = next(r for r in by_id.values() if r["error"])
    assert lost["error"]["kind"] == "missing" and lost["id"] in lost["error"]["message"]


def test_ingest_fills_the_cache_so_a_later_run_asks_nothing(tmp_path: Path) -> None:
    papers = tmp_path / "papers.jsonl"
    make_papers(papers, 4)
    with BatchServer(batch_seconds=0.05) as server:
        through_the_batch_api(server, tmp_path, [papers], "--grounding", "off", "--mode", "json_schema")
        before = server.requests
        cli("run", papers, "-o", tmp_path / "run.jsonl", "-q",
            *flags(server, tmp_path / "ingest-cache", "--grounding", "off", "--mode", "json_schema"))  # fmt: skip
        assert server.requests == before
    assert all(r["provenance"]["cached"] for r in read_records(tmp_path / "run.jsonl"))


def test_batch_output_keeps_the_first_good_line_of_a_request(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    good = {"custom_id": "a", "response": {"status_code": 200, "body": {"choices": []}}, "error": None}
    bad = {"custom_id": "a", "response": None, "error": {"code": "batch_expired", "message": "expired"}}
    out.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n" + '{"response": {}}\n')
    errors: list[InputError] = []
    with BatchOutput([out], errors.append) as answers:
        assert answers.completion("a") == {"choices": []} and len(answers) == 1
    assert [str(e) for e in errors] == [
        f"{out}:2: custom_id 'a' answered again (first at {out}:1); the first good answer is used",
        f"{out}:3: a batch output line without a custom_id",
    ]


def test_the_batch_client_sends_the_key_never_shows_it_retries_and_explains_404(tmp_path: Path) -> None:
    papers = tmp_path / "papers.jsonl"
    make_papers(papers, 2)
    requests = tmp_path / "requests.jsonl"
    prepare_requests([str(papers)], requests, Settings(model="stub-model"))
    with BatchServer(batch_seconds=0.05, api_key="sk-secret-123") as server:
        common = ["--base-url", server.base_url, "--retry-backoff", "0.01"]
        refused = CliRunner().invoke(main, ["batch", "submit", str(requests), *common])
        assert refused.exit_code == 2 and "refused the API key" in refused.output
        server.api_faults = [503, 429]  # the upload is retried through both
        submitted = cli("batch", "submit", requests, *common, "--api-key", "sk-secret-123")
        assert "sk-secret" not in submitted.output and not server.api_faults
        batch_id = submitted.stdout.strip().splitlines()[-1]
        unknown = CliRunner().invoke(main, ["batch", "status", "batch_nope", *common, "--api-key", "sk-secret-123"])
        assert unknown.exit_code == 2 and "no such batch" in unknown.output
        cli("batch", "status", batch_id, "--wait", "--poll", "0.05", *common, "--api-key", "sk-secret-123")
        cli("batch", "fetch", batch_id, "-o", tmp_path / "out.jsonl", *common, "--api-key", "sk-secret-123")
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 2


def test_fetch_before_the_batch_is_done_says_so(tmp_path: Path) -> None:
    papers = tmp_path / "papers.jsonl"
    make_papers(papers, 1)
    requests = tmp_path / "requests.jsonl"
    prepare_requests([str(papers)], requests, Settings(model="stub-model"))
    with BatchServer(batch_seconds=5) as server:
        common = ["--base-url", server.base_url]
        batch_id = cli("batch", "submit", requests, *common).stdout.strip().splitlines()[-1]
        result = cli("batch", "fetch", batch_id, "-o", tmp_path / "out.jsonl", *common, ok=(1,))
        assert "fetch it later" in result.output and not (tmp_path / "out.jsonl").exists()
        assert cli("batch", "status", batch_id, *common, ok=(1,)).stdout.startswith(batch_id)


def test_a_batch_that_fails_validation_has_nothing_to_fetch(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text('{"custom_id": "a", "method": "GET", "url": "/v1/models"}\n')
    with BatchServer(batch_seconds=0.05) as server:
        common = ["--base-url", server.base_url]
        batch_id = cli("batch", "submit", requests, *common).stdout.strip().splitlines()[-1]
        status = cli("batch", "status", batch_id, "--wait", "--poll", "0.05", *common)
        assert "failed" in status.stdout and "line 1" in status.stdout
        result = CliRunner().invoke(main, ["batch", "fetch", batch_id, "-o", str(tmp_path / "out.jsonl"), *common])
        assert result.exit_code == 2 and "nothing to fetch: line 1: invalid_request" in result.output


def test_ingest_with_other_settings_than_prepare_is_told_not_misread(tmp_path: Path) -> None:
    papers = three_papers_through_the_batch_api(tmp_path)
    other = tmp_path / "other.jsonl"
    result = cli("batch", "ingest", tmp_path / "output.jsonl", "--input", papers, "-o", other, "--model", "stub-model",
                 "--grounding", "off", "--max-tokens", "300", "--requests", tmp_path / "requests.jsonl",
                 "--cache-dir", tmp_path / "c3", ok=(1,))  # fmt: skip
    assert "mismatch: 3" in result.output and "mismatch, e.g. p0000: the request file holds another" in result.output
    assert all(r["error"]["kind"] == "mismatch" for r in read_records(other))
