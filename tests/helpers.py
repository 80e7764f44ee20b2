"""Helpers shared by several test modules: papers and record files for batch runs, a
scripted endpoint for ``httpx2.MockTransport``, the bundled server's processes, ``extractor
daily`` on the loopback fixtures, records for the digest and the page, and axe-core.

Fixtures live in ``conftest.py``; the loopback servers in ``stub_server.py``,
``batch_server.py`` and ``fixture_server.py``; Chromium in ``browser.py``. Test modules import
from here, never from each other.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from extractor.cli import main
from extractor.extraction.prompts import load_prompt
from extractor.local import server as local
from extractor.records.listings import paper_from_text
from extractor.runs.run import BatchOptions, BatchStats, run_batch
from extractor.schema import ClaimedGain, ErrorInfo, Extraction, Link, Provenance, Record, Source
from extractor.settings import Settings

from .conftest import ROOT
from .fixture_server import FixtureServer
from .stub_server import StubServer, summary_of


# -- batch runs: input papers, settings against a stub, the record file (test_batch.py and others) ----


def make_papers(
    path: Path, n: int, *, start: int = 0, marker: Any = None, abstract: str = "We study problem {i}. It works."
) -> list[dict[str, str]]:
    """Write ``n`` synthetic papers as JSONL (ids p0000...); ``marker(i)`` may return a
    stub fault marker appended to paper i's abstract. Returns the rows."""
    rows = []
    for i in range(start, start + n):
        text = abstract.format(i=i)
        extra = marker(i) if marker is not None else None
        if extra:
            text += f" {extra}"
        rows.append({"id": f"p{i:04d}", "title": f"Synthetic paper number {i} on batch extraction", "abstract": text})
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    return rows


def settings_for(stub: StubServer | str, tmp_path: Path, **overrides: Any) -> Settings:
    """Fast test settings against ``stub``: no probe, grounding off, small timeouts and
    backoff, a private cache."""
    base_url = stub if isinstance(stub, str) else stub.base_url
    values: dict[str, Any] = {
        "base_url": base_url,
        "model": "stub-model",
        "mode": "tools",
        "grounding": "off",
        "timeout": 2.0,
        "retries": 2,
        "max_reasks": 1,
        "retry_backoff": 0.01,
        "retry_max_seconds": 10.0,
        "concurrency": 8,
        "cache_dir": tmp_path / "cache",
    }
    values.update(overrides)
    return Settings(**values)


def user_text(row: dict[str, str]) -> str:
    """The user message sent for a paper (what the stub keys its attempt counter on)."""
    return load_prompt("extract").messages(title=row["title"], abstract=row["abstract"])[1]["content"]


def expected_summary(row: dict[str, str]) -> str:
    """What the stub puts in ``summary``: the first line of the user message."""
    return summary_of(user_text(row))


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSONL record file, parsed (fails on a torn or invalid line)."""
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), "the file ends in a torn line"
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def check_records(records: list[dict[str, Any]], rows: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    """Every input paper exactly once; every success carries its own paper's summary.
    Returns the records by id."""
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "a paper was written twice"
    assert sorted(ids) == sorted(row["id"] for row in rows)
    by_id = {r["id"]: r for r in records}
    for row in rows:
        rec = by_id[row["id"]]
        if rec["error"] is None:
            assert rec["extraction"]["summary"] == expected_summary(row), rec["id"]
            assert rec["title"] == row["title"]
    return by_id


def run(inputs: list[Path], output: Path, settings: Settings, **options: Any) -> BatchStats:
    return run_batch([str(p) for p in inputs], output, settings, BatchOptions(quiet=True, **options))


def _record(pid: str, *, error: str | None = None, summary: str = "s") -> Record:
    paper = paper_from_text(f"Abstract of {pid}.", title=f"Title {pid}", id=pid)
    rec = Record.for_paper(paper)
    if error:
        rec.error = ErrorInfo(kind=error, message="boom", attempts=3)
    else:
        rec.extraction = Extraction(task="t", method="m\nwith a newline", contribution="method", summary=summary)
    return rec


def cli_flags(stub: StubServer | str, tmp_path: Path, *extra: str) -> list[str]:
    """Flags of ``extractor run`` against ``stub`` (a stub server or a base URL): fast
    timeouts and retries, grounding off, a private cache; ``extra`` appended."""
    url = stub if isinstance(stub, str) else stub.base_url
    return [
        "--base-url", url, "--model", "stub-model", "--grounding", "off", "--timeout", "2", "--retries", "1",
        "--retry-backoff", "0.01", "--cache-dir", str(tmp_path / "cache"), *extra,
    ]  # fmt: skip


# -- a scripted endpoint: httpx2.MockTransport steps (test_transport.py, test_replicas.py) ----


Step = Callable[[httpx2.Request], httpx2.Response]

class Gain(BaseModel):
    metric: str
    value: float


GAIN = {"metric": "accuracy", "value": 4.5}


def _error(status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None) -> Step:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return lambda request: httpx2.Response(status, json=body, headers=headers)


def _raise(cls: type[httpx2.TransportError], message: str) -> Step:
    def step(request: httpx2.Request) -> httpx2.Response:
        raise cls(message, request=request)

    return step


def completion(request: httpx2.Request, text: str, finish: str = "stop") -> httpx2.Response:
    """A chat completion whose answer is ``text``: the forced tool call's arguments when
    the request has ``tools``, else the content."""
    body = json.loads(request.content)
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if body.get("tools"):
        name = body["tool_choice"]["function"]["name"]
        call = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": text}}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
    data = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body.get("model", "m"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(text) // 4, "total_tokens": 10 + len(text) // 4},
    }  # fmt: skip
    return httpx2.Response(200, json=data)


def reply(data: Any) -> Step:
    """A 200 with ``data`` as its JSON body."""
    return lambda request: httpx2.Response(200, json=data)


def ok(data: Any = None) -> Step:
    """A valid answer: ``data``, else a valid answer for the request (:func:`valid_for`)."""
    return lambda request: completion(request, json.dumps(valid_for(request) if data is None else data))


def valid_for(request: httpx2.Request) -> dict[str, Any]:
    """A schema-valid answer to a request for a ``Gain`` or a ``Extraction``; the
    summary is the start of the paper's text (so it passes the summary gate)."""
    body = json.loads(request.content)
    if body.get("tools"):
        name = body["tool_choice"]["function"]["name"]
    elif body.get("response_format", {}).get("type") == "json_schema":
        name = body["response_format"]["json_schema"]["name"]
    else:  # json, md_json: the schema is in the system prompt
        name = "Gain" if '"title": "Gain"' in body["messages"][0]["content"] else "Extraction"
    if name == "Gain":
        return GAIN
    return {"task": None, "method": None, "contribution": "method", "summary": _sentence(body)}


def _sentence(body: dict[str, Any]) -> str:
    text = next(m["content"] for m in body["messages"] if m["role"] == "user").split("Abstract:", 1)[-1]
    return " ".join(text.split()[:20]).rstrip(".,") + "."


def junk(request: httpx2.Request) -> httpx2.Response:
    """A schema-valid answer whose summary fails the gate: the paper asks once more."""
    return completion(request, json.dumps({**valid_for(request), "summary": "{{#1}}"}))


def schema_fail(request: httpx2.Request) -> httpx2.Response:
    return completion(request, json.dumps({"metric": ["not", "a", "string"]}))


def length(request: httpx2.Request) -> httpx2.Response:
    text = json.dumps(valid_for(request))
    return completion(request, text[: len(text) // 2], finish="length")


def too_many(retry_after_ms: str = "0", **headers: str) -> Step:
    return _error(429, "Rate limit reached", "rate_limit_exceeded", {"retry-after-ms": retry_after_ms, **headers})


#: The stub server's faults (tests/stub_server.py), as MockTransport steps; ``drop`` and
#: ``timeout`` are what httpx2 raises for a cut body and a slow one.
FAULTS: dict[str, Step] = {
    "429": too_many(),
    "500": _error(500, "The server had an error while processing your request."),
    "503": _error(503, "The engine is currently overloaded, please try again later."),
    "timeout": _raise(httpx2.ReadTimeout, "timed out"),
    "drop": _raise(httpx2.RemoteProtocolError, "peer closed connection without sending complete message body"),
    "refused": _raise(httpx2.ConnectError, "[Errno 111] Connection refused"),
    "invalid_json": lambda request: httpx2.Response(
        200, content=b'{"id": "chatcmpl-1", "choices": [<html>Bad Gateway', headers={"content-type": "application/json"}
    ),
    "html": lambda request: httpx2.Response(
        200, content=b"<!DOCTYPE html><html><title>502 Bad Gateway</title></html>", headers={"content-type": "text/html"}
    ),
    "schema_fail": schema_fail,
    "length": length,
    "400_context": _error(400, "This model's maximum context length is 8192 tokens.", "context_length_exceeded"),
    "400": _error(400, "Invalid value for 'temperature'."),
    "401": _error(401, "Incorrect API key provided.", "invalid_api_key"),
    "403": _error(403, "Forbidden."),
    "404": _error(404, "The model `m` does not exist.", "model_not_found"),
    "422": _error(422, "Unprocessable entity."),
}


# -- the bundled server's processes (test_local.py, test_server_live.py) -------------------


def _gone(pid: int) -> bool:
    """The process no longer runs (absent, or a zombie nobody has reaped yet)."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
        except (OSError, IndexError):
            return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _port_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        pytest.fail(f"no output from the child script within {timeout} s")
    return proc.stdout.readline()


# Run the way the CLI runs (its exit wiring installed), on the engine named in argv[1].
CHILD_SCRIPT = textwrap.dedent(
    """
    import json, signal, sys, time
    from extractor.cli.app import _stop_servers_on_exit
    from extractor.local.server import LocalServer
    # As in a terminal: a harness that runs us in a background job has SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _stop_servers_on_exit()
    try:
        with LocalServer.bundled(engine=sys.argv[1]) as server:
            print(json.dumps({"pid": server.pid, "port": server.port}), flush=True)
            time.sleep(120)
    finally:
        print("finally ran", flush=True)
    """
)


def check_server_dies_with_its_parent(sig: signal.Signals, engine: str) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_SCRIPT, engine],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    info: dict[str, int] = {}
    try:
        info = json.loads(_read_line(proc, timeout=90))
        assert not _gone(info["pid"])
        proc.send_signal(sig)
        proc.wait(timeout=10)
        assert _eventually(lambda: _gone(info["pid"]), timeout=5), f"llama server {info['pid']} outlived {sig.name}"
        assert _eventually(lambda: _port_closed(info["port"]), timeout=2)
        if sig != signal.SIGKILL:  # a clean exit: finally blocks ran
            assert "finally ran" in proc.stdout.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if info and not _gone(info["pid"]):  # the test failed: do not leave it running
            os.kill(info["pid"], signal.SIGKILL)
        local._sweep_stale_log_dirs()  # the log dir a SIGKILLed parent could not remove


# -- extractor daily on the loopback fixtures (test_daily.py, test_site.py) ----------------


DAY1, DAY2 = "2024-10-25", "2024-10-28"
RECURRING = {"2410.16251", "2410.18533"}  # listed on both days


def daily(server: FixtureServer, tmp_path: Path, *args: str, model: StubServer | None = None):
    flags = ["daily", "--endpoint", server.url, "--dir", str(tmp_path / "days"), "--library", str(tmp_path / "library.db"),
             "--fetch-retries", "1", "-q"]  # fmt: skip
    if model is None:
        flags += ["--policy", "rules"]
    else:
        flags += ["--base-url", model.base_url, "--model", "stub-model", "--mode", "tools", "--grounding", "off",
                  "--policy", "model", "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    return CliRunner().invoke(main, [*flags, *args])


# -- records for the digest and the page (test_digest.py, test_page.py) --------------------


ABSTRACT = (
    "Training deep video models is slow. We propose Multigrid, a schedule of mini-batch shapes. "
    "It trains a ResNet-50 SlowFast network 4.5x faster on Kinetics-400 while improving accuracy by 0.8% "
    "over the baseline. Code is at https://github.com/example/multigrid and the project page is "
    "https://example.github.io/multigrid."
)
KINDS = ["method", "dataset_or_benchmark", "survey", "analysis"]
TASKS = ["video model training", "image segmentation", "speech recognition", "protein folding"]


def make_record(i: int, **overrides: Any) -> Record:
    """A successful record: kinds, tasks and code status vary with ``i``; gains on even ``i``."""
    gains = [
        ClaimedGain(metric="training speed", value="4.5x", magnitude=4.5, unit="x", baseline="the baseline",
                    dataset="Kinetics-400", evidence="trains a ResNet-50 SlowFast network 4.5x faster"),
        ClaimedGain(metric="accuracy", value="0.8%", magnitude=0.8, unit="%", evidence="improving accuracy by 0.8%"),
    ] if i % 2 == 0 else []  # fmt: skip
    linked = i % 3 == 0
    extraction = Extraction(
        task=TASKS[i % 4], method="a schedule of mini-batch shapes", method_name=f"Multigrid{i}",
        claimed_gains=gains, code_link="https://github.com/example/multigrid" if linked else None,
        contribution=KINDS[i % 4], summary=f"Paper {i} trains video models faster with a multigrid schedule.",
    )  # fmt: skip
    fields: dict[str, Any] = {
        "id": f"2401.{i:05d}", "title": f"Paper {i}: {TASKS[i % 4].title()} Made Fast", "abstract": ABSTRACT,
        "source": Source(path="seeds/x.txt", line=i + 1), "extraction": extraction,
        "links": [Link(url="https://github.com/example/multigrid", kind="code"),
                  Link(url="https://example.github.io/multigrid", kind="project_page")] if linked else [],
        "code_status": "linked" if linked else ("promised" if i % 3 == 1 else "none"),
        "provenance": Provenance(model="smollm2-135m", endpoint="127.0.0.1", mode="tools", prompt_version="1",
                                 prompt_hash="abc"),
    }  # fmt: skip
    fields.update(overrides)
    return Record(**fields)


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    lines = [r.model_dump_json() if isinstance(r, Record) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- accessibility: axe-core in Chromium (test_page.py, test_site.py) ----------------------


def axe_source() -> str:
    """axe-core's script: $AXE_CORE_JS, node_modules/ of the repository, or installed with
    npm into tests/artifacts/axe/ (once); skips with the reason when it cannot be had."""
    import os
    import shutil
    import subprocess

    from .browser import ROOT, artifacts

    prefix = artifacts() / "axe"
    candidates = [os.environ.get("AXE_CORE_JS"), ROOT / "node_modules" / "axe-core" / "axe.min.js",
                  prefix / "node_modules" / "axe-core" / "axe.min.js"]  # fmt: skip
    found = next((Path(c) for c in candidates if c and Path(c).is_file()), None)
    if found is None:
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("axe-core is not installed and npm is missing: `npm install axe-core`, or set AXE_CORE_JS")
        done = subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "axe-core@4"], check=False,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        found = candidates[-1]  # type: ignore[assignment]
        if done.returncode or not Path(found).is_file():
            pytest.skip(f"axe-core could not be installed with npm ({done.stderr.strip()[-200:]}): accessibility not checked")
    return Path(found).read_text(encoding="utf-8")


def serious_violations(browser: Any, path: Path, axe: str, **context: Any) -> list[str]:
    """axe-core's serious and critical violations of the page at ``path`` (every details
    open), run in Chromium; the page's CSP is bypassed only to inject axe itself."""
    ctx = browser.new_context(bypass_csp=True, **context)
    try:
        page = ctx.new_page()
        ctx.route("http*://**", lambda route: route.abort())
        page.goto(path.resolve().as_uri())
        page.wait_for_load_state()
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        page.add_script_tag(content=axe)
        result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                               ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))")  # fmt: skip
        return [f"{v['id']} ({v['impact']}): {v['nodes']}" for v in result if v["impact"] in ("serious", "critical")]
    finally:
        ctx.close()
