"""The bundled llama.cpp server: run a small packaged model when no endpoint is configured.

``extractor run`` / ``extractor summarize`` without ``--base-url`` start one as a child
process, talk to it like any OpenAI-compatible endpoint and stop it on every exit path;
``extractor serve`` runs one in the foreground.

Two engines can serve the model (``engine``, or ``EXTRACTOR_ENGINE``):

- ``llama-server``, llama.cpp's native server, when its binary is found: the file named by
  ``EXTRACTOR_LLAMA_SERVER``, else the one ``scripts/build-llama-server`` builds into the
  cache (:func:`llama_server_cache_path`), else ``llama-server`` on ``PATH``. It enforces
  ``response_format: json_schema`` and serves :attr:`LocalServer.slots` requests at once
  (continuous batching), with a prompt cache.
- ``llama-cpp-python``: ``python -m llama_cpp.server`` (``llama-cpp-python[server]``),
  otherwise. It enforces schemas only in tool calls and answers one request at a time.

``engine="auto"`` (the default) takes ``EXTRACTOR_ENGINE`` if set, else the native server
when its binary is found, else llama-cpp-python. :attr:`LocalServer.mode` and
:attr:`LocalServer.slots` say what the chosen engine enforces and how many requests to keep
in flight.

The child runs in its own session (a Ctrl-C on the terminal reaches only us), with its
output captured to a log file. It is stopped (SIGTERM, then SIGKILL of its whole process
group after a grace period) when the ``with`` block ends for any reason, by
:meth:`LocalServer.stop` or :func:`stop_all`, and, on Linux, when we die abruptly: the child
asks the kernel to be killed when its parent dies (``PR_SET_PDEATHSIG``). Signal handlers
and ``atexit`` hooks are the application's business (the CLI installs them); this module
installs none.

Example:
    >>> with LocalServer.bundled() as server:                          # doctest: +SKIP
    ...     client = openai.OpenAI(base_url=server.base_url, api_key="x")
    ...     client.models.list().data[0].id == server.model_name, server.mode, server.slots
    (True, 'json_schema', 4)

Nothing here imports ``llama_cpp`` itself: the server runs in the child process, and
:func:`local_available` only looks the modules and the binary up.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import platformdirs

from .bundled import (
    BUNDLED_MODELS,
    DEFAULT_MODEL,
    INSTALL_HINT,
    MODELS_DIR,
    BundledModel,
    bundled_for,
    find_model,
    model_installed,
)
from .errors import LocalServerError

__all__ = [
    "BUNDLED_MODELS",
    "DEFAULT_MODEL",
    "DEFAULT_N_CTX",
    "ENGINES",
    "INSTALL_HINT",
    "MODELS_DIR",
    "BundledModel",
    "LocalServer",
    "client_snippet",
    "find_llama_server",
    "find_model",
    "free_port",
    "llama_server_cache_path",
    "local_available",
    "notice",
    "resolve_engine",
    "running_servers",
    "stop_all",
]

DEFAULT_N_CTX = 4096  # per request: an abstract, the schema and the instructions fit with room to spare
DEFAULT_STARTUP_TIMEOUT = 120.0

LLAMA_SERVER = "llama-server"
LLAMA_CPP_PYTHON = "llama-cpp-python"
ENGINES = (LLAMA_SERVER, LLAMA_CPP_PYTHON)
ENGINE_ENV = "EXTRACTOR_ENGINE"
LLAMA_SERVER_ENV = "EXTRACTOR_LLAMA_SERVER"
# The structured-output mode each engine enforces: llama-cpp-python's server answers HTTP
# 500 to response_format json_schema and constrains only tool calls.
ENGINE_MODES = {LLAMA_SERVER: "json_schema", LLAMA_CPP_PYTHON: "tools"}
# Requests each engine serves well at once. llama-server, SmolLM2-135M on 2 shared cores,
# the bundled run's summary request for 10 seed abstracts, 3 rounds: 4.17 / 4.20 / 3.99 s
# per paper (medians) with 1 / 2 / 4 slots; 4 was fastest in 2 rounds of 3, and more
# cores gain more from batching. llama-cpp-python's server answers one at a time.
ENGINE_SLOTS = {LLAMA_SERVER: 4, LLAMA_CPP_PYTHON: 1}
# The llama-cpp-python release whose vendored llama.cpp scripts/build-llama-server builds
# when llama-cpp-python itself is not installed (keep in step with the script).
LLAMA_SERVER_BUILD_DEFAULT = "0.3.36"

# Modules `python -m llama_cpp.server` needs (llama-cpp-python[server]).
_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
_LOG_TAIL_LINES = 15
_STOP_GRACE = 3.0  # SIGTERM -> SIGKILL; a busy server finishes its reply first
# What each engine logs when its port is taken (uvicorn; llama-server).
_PORT_IN_USE = ("address already in use", "couldn't bind http server socket")


# --------------------------------------------------------------------------- engines


def _llama_cpp_python_version() -> str | None:
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        return None


def llama_server_cache_path(version: str | None = None) -> Path:
    """Where ``scripts/build-llama-server`` puts ``llama-server`` for llama-cpp-python
    ``version`` (default: the installed one, else :data:`LLAMA_SERVER_BUILD_DEFAULT`)."""
    version = version or _llama_cpp_python_version() or LLAMA_SERVER_BUILD_DEFAULT
    name = "llama-server.exe" if os.name == "nt" else "llama-server"
    return Path(platformdirs.user_cache_dir("extractor")) / "llama-server" / version / "bin" / name


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_llama_server() -> Path | None:
    """The native ``llama-server`` binary: ``$EXTRACTOR_LLAMA_SERVER`` (returned even when
    it is not there: :meth:`LocalServer.start` then says so), else the cached build, else
    ``llama-server`` on ``PATH``; ``None`` when there is none."""
    named = os.environ.get(LLAMA_SERVER_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    cached = llama_server_cache_path()
    if _executable(cached):
        return cached
    found = shutil.which("llama-server")
    return Path(found) if found else None


def resolve_engine(engine: str = "auto") -> str:
    """``llama-server`` or ``llama-cpp-python``. ``auto``: ``$EXTRACTOR_ENGINE`` if set,
    else the native server when its binary is found, else llama-cpp-python."""
    choice = engine
    if choice == "auto":
        choice = os.environ.get(ENGINE_ENV, "").strip() or "auto"
    if choice == "auto":
        return LLAMA_SERVER if find_llama_server() is not None else LLAMA_CPP_PYTHON
    if choice not in ENGINES:
        source = f"{ENGINE_ENV}={choice}" if engine == "auto" else repr(choice)
        raise LocalServerError(f"unknown server engine {source}: use auto, {' or '.join(ENGINES)}")
    return choice


def _missing_server_modules() -> list[str]:
    missing = []
    for module in _SERVER_MODULES:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(module)
    return missing


def local_available(name: str | None = None) -> bool:
    """Whether a bundled server can start: the model is installed, and so is the engine
    (llama-server's binary, or llama-cpp-python[server]). Imports nothing heavy and writes
    nothing. An unknown ``EXTRACTOR_ENGINE`` counts as available, so that starting the
    server reports it."""
    if not model_installed(name):
        return False
    try:
        engine = resolve_engine()
    except LocalServerError:
        return True
    if engine == LLAMA_SERVER:
        binary = find_llama_server()
        return binary is not None and _executable(binary)
    return not _missing_server_modules()


def notice(model_name: str) -> str:
    """One line saying that the bundled model is in use, and what it is for."""
    return (
        f"extractor: no endpoint configured, using the bundled local model {model_name}: a small model "
        "for trying the tool offline; for quality, point --base-url at a bigger model."
    )


def client_snippet(base_url: str, model_name: str) -> str:
    """Python code that talks to a server at ``base_url`` with the ``openai`` client."""
    return (
        "from openai import OpenAI\n"
        f'client = OpenAI(base_url="{base_url}", api_key="not-needed")\n'
        "reply = client.chat.completions.create(\n"
        f'    model="{model_name}", messages=[{{"role": "user", "content": "Hello!"}}]\n'
        ")\n"
        "print(reply.choices[0].message.content)"
    )


# --------------------------------------------------------------------------- processes


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the OS picks it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _connect_host(host: str) -> str:
    """Where to reach a server bound to ``host``; wildcard addresses mean loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


_PR_SET_PDEATHSIG = 1
# The signal the child gets from the kernel when we die without stopping it. Not SIGTERM:
# uvicorn's graceful shutdown lets in-flight completions run to max_tokens first (measured:
# 9 s for one 800-token reply), and requests queued behind it too, with nobody waiting for
# them. The server keeps no state, so nothing is lost by killing it outright.
_PARENT_DEATH_SIGNAL = int(getattr(signal, "SIGKILL", signal.SIGTERM))


def _parent_death_preexec() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to signal the child when we die, or None elsewhere.

    libc is loaded here, in the parent: only the prctl call runs between fork and exec.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    sig = _PARENT_DEATH_SIGNAL

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # we died before prctl took effect
            os._exit(1)

    return preexec


_LOG_DIR_PREFIX = "extractor-llama-"


def _sweep_stale_log_dirs() -> None:
    """Remove log dirs left by processes that died without stopping (SIGKILL)."""
    for path in Path(tempfile.gettempdir()).glob(f"{_LOG_DIR_PREFIX}*-*"):
        owner = path.name[len(_LOG_DIR_PREFIX) :].split("-", 1)[0]
        if not owner.isdigit() or int(owner) == os.getpid():
            continue
        try:
            os.kill(int(owner), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


# Servers started and not yet stopped, for stop_all().
_RUNNING: list[LocalServer] = []
_RUNNING_LOCK = threading.Lock()


def running_servers() -> list[LocalServer]:
    """The servers started in this process and not stopped yet."""
    with _RUNNING_LOCK:
        return list(_RUNNING)


def stop_all() -> None:
    """Stop every server started in this process (for an ``atexit`` hook or a signal
    handler); never raises."""
    for server in running_servers():
        try:
            server.stop()
        except Exception:  # noqa: BLE001 - best effort, at exit
            pass


def _track(server: LocalServer) -> None:
    with _RUNNING_LOCK:
        if server not in _RUNNING:
            _RUNNING.append(server)


def _untrack(server: LocalServer) -> None:
    with _RUNNING_LOCK:
        if server in _RUNNING:
            _RUNNING.remove(server)


class LocalServer:
    """A llama.cpp server for ``model`` as a child process, ready when started.

    ``engine`` is ``auto`` (see :func:`resolve_engine`), ``llama-server`` or
    ``llama-cpp-python``; :attr:`engine` holds the one chosen, :attr:`mode` the
    structured-output mode it enforces, :attr:`slots` how many requests it serves at once
    (``slots=None``: what suits the engine on a small CPU). ``port=None`` picks a free
    port. ``n_ctx`` is the context of each request (llama-server gets ``n_ctx * slots``
    for its slots). ``n_threads=None`` uses every CPU. ``model_alias`` is the model id the
    server lists (default: the bundled model's name, e.g. ``smollm2-135m``, else the file
    name without ``.gguf``). ``extra_args`` are appended to the server's command line,
    after the bundled model's own (``--chat_format``...). The output goes to ``log_file``
    if given (kept), else to a temporary file removed on :meth:`stop`.
    ``startup_seconds`` is set when ready (spawn to ready).

    Use it as a context manager, or call :meth:`start` and :meth:`stop` (idempotent).
    """

    def __init__(
        self,
        model: str | os.PathLike[str],
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        extra_args: Sequence[str] = (),
        model_alias: str | None = None,
        log_file: str | os.PathLike[str] | None = None,
        engine: str = "auto",
        slots: int | None = None,
    ) -> None:
        self.model = Path(model)
        self.host = host
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.startup_timeout = startup_timeout
        self.engine = resolve_engine(engine)
        if slots is not None and slots < 1:
            raise LocalServerError(f"local server: slots must be at least 1, not {slots}")
        self.slots = 1 if self.engine == LLAMA_CPP_PYTHON else slots or ENGINE_SLOTS[self.engine]
        bundled = bundled_for(self.model)
        self.extra_args = list(extra_args)
        own = bundled.args_for(self.engine) if bundled is not None else ()
        if own and not {a for a in own if a.startswith("-")} & set(self.extra_args):
            self.extra_args[:0] = own
        self.model_alias = model_alias or (bundled.name if bundled else self.model.name.removesuffix(".gguf"))
        self._requested_port = port
        self._port: int | None = port
        self._log_file = Path(log_file) if log_file is not None else None
        self._log_path: Path | None = None
        self._tmpdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._model_name: str | None = None
        self.startup_seconds: float | None = None  # spawn to ready, for the last start

    @classmethod
    def bundled(cls, name: str | None = None, *, engine: str = "auto", **kwargs: Any) -> LocalServer:
        """A server for bundled model ``name`` (default :data:`DEFAULT_MODEL`), listed under
        that name (e.g. ``smollm2-135m``), on ``engine`` (``auto``: ``$EXTRACTOR_ENGINE``,
        else llama-server when found, else llama-cpp-python)."""
        return cls(find_model(name), engine=engine, **kwargs)

    # -- properties

    @property
    def mode(self) -> str:
        """The structured-output mode the engine enforces: ``json_schema`` or ``tools``."""
        return ENGINE_MODES[self.engine]

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise LocalServerError("local server: not started")
        return self._proc.pid

    @property
    def port(self) -> int:
        if self._port is None:
            raise LocalServerError("local server: not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return f"http://{_url_host(_connect_host(self.host))}:{self.port}/v1"

    @property
    def model_name(self) -> str:
        """The model id the server lists in ``GET /v1/models``."""
        if self._model_name is None:
            raise LocalServerError("local server: not started")
        return self._model_name

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    def describe(self) -> str:
        """E.g. ``llama-server, json_schema, 2 slots``."""
        return f"{self.engine}, {self.mode}, {self.slots} slot{'s' if self.slots != 1 else ''}"

    # -- lifecycle

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _command(self) -> list[str]:
        if self.engine == LLAMA_SERVER:
            return self._native_command()
        missing = _missing_server_modules()
        if missing:
            raise LocalServerError(
                f"local server: llama-cpp-python[server] is not installed (no {', '.join(missing)}): "
                f"install it with {INSTALL_HINT}"
            )
        cmd = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model),
            "--host", self.host,
            "--port", str(self._port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.n_threads),
        ]  # fmt: skip
        if "--model_alias" not in self.extra_args:
            cmd += ["--model_alias", self.model_alias]
        return cmd + self.extra_args

    def _native_command(self) -> list[str]:
        binary = find_llama_server()
        if binary is None or not _executable(binary):
            where = (
                f"{LLAMA_SERVER_ENV}={binary} is not an executable file"
                if os.environ.get(LLAMA_SERVER_ENV, "").strip()
                else f"no llama-server binary ({llama_server_cache_path()} or on PATH)"
            )
            raise LocalServerError(
                f"local server: {where}: build it with scripts/build-llama-server, "
                f"or use EXTRACTOR_ENGINE={LLAMA_CPP_PYTHON}"
            )
        cmd = [
            str(binary),
            "-m", str(self.model),
            "--host", self.host,
            "--port", str(self._port),
            "-c", str(self.n_ctx * self.slots),  # split evenly: n_ctx per slot
            "-t", str(self.n_threads),
            "--parallel", str(self.slots),
            "--no-webui",
        ]  # fmt: skip
        if not {"-a", "--alias"} & set(self.extra_args):
            cmd += ["--alias", self.model_alias]
        return cmd + self.extra_args

    def start(self) -> LocalServer:
        """Spawn the server and wait until ``GET /v1/models`` answers; raise
        :class:`LocalServerError` with the end of its log if it dies or times out."""
        if self.running:
            return self
        if not self.model.is_file():
            raise LocalServerError(f"local server: model file {self.model} not found")
        attempts = 1 if self._requested_port is not None else 3
        for attempt in range(attempts):
            try:
                self._spawn()
                self._wait_ready()
                return self
            except LocalServerError as exc:
                in_use = any(words in str(exc).lower() for words in _PORT_IN_USE)
                self.stop()
                if not in_use or attempt == attempts - 1:
                    raise
            except BaseException:  # Ctrl-C, SIGTERM, anything: leave nothing behind
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _spawn(self) -> None:
        if self._requested_port is None:
            self._port = free_port(_connect_host(self.host))
        command = self._command()
        if self._log_file is not None:
            self._log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log_path = self._log_file
        else:
            _sweep_stale_log_dirs()
            self._tmpdir = Path(tempfile.mkdtemp(prefix=f"{_LOG_DIR_PREFIX}{os.getpid()}-"))
            self._log_path = self._tmpdir / "server.log"
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        kwargs: dict[str, Any] = {}
        if os.name == "posix":
            kwargs["start_new_session"] = True
            kwargs["preexec_fn"] = _parent_death_preexec()
        else:  # pragma: no cover - Windows
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        _track(self)
        try:
            with open(self._log_path, "ab") as log:
                self._started_at = time.monotonic()
                self._proc = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, **kwargs
                )
        except OSError as exc:
            raise LocalServerError(f"local server: cannot start {command[0]} ({exc})") from exc

    def _wait_ready(self) -> None:
        # Both engines answer GET /v1/models once the model is loaded (llama-server: 503
        # while loading).
        assert self._proc is not None
        url = self.base_url + "/models"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        deadline = self._started_at + self.startup_timeout
        delay = 0.05
        while True:
            code = self._proc.poll()
            if code is not None:
                raise LocalServerError(
                    f"local server ({self.engine}) for {self.model.name} exited with code {code} before it "
                    f"was ready; last log lines:\n{self._indented_tail()}"
                )
            try:
                with opener.open(url, timeout=2.0) as resp:
                    if resp.status == 200:
                        data = json.loads(resp.read().decode("utf-8"))
                        ids = [m.get("id") for m in data.get("data", []) if isinstance(m, dict)]
                        self._model_name = next((i for i in ids if i), self.model_alias)
                        self.startup_seconds = time.monotonic() - self._started_at
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if time.monotonic() >= deadline:
                raise LocalServerError(
                    f"local server ({self.engine}) for {self.model.name} did not answer GET {url} within "
                    f"{self.startup_timeout:g} s; last log lines:\n{self._indented_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the server process to exit; its exit code."""
        if self._proc is None:
            raise LocalServerError("local server: not started")
        return self._proc.wait(timeout)

    def stop(self, grace: float = _STOP_GRACE) -> int | None:
        """Stop the server: SIGTERM, up to ``grace`` seconds, then SIGKILL of its process
        group. Safe to call twice, or on a server that never started. Its exit code."""
        proc = self._proc
        code = None
        if proc is not None:
            code = proc.poll()
            if code is None:
                self._signal_group(signal.SIGTERM)
                try:
                    code = proc.wait(grace)
                except subprocess.TimeoutExpired:
                    self._signal_group(getattr(signal, "SIGKILL", signal.SIGTERM))
                    code = proc.wait()
            # Anything the server left in its group (it spawns nothing today).
            self._signal_group(getattr(signal, "SIGKILL", signal.SIGTERM))
        _untrack(self)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            self._log_path = None
        return code

    def _signal_group(self, sig: int) -> None:
        assert self._proc is not None
        try:
            if os.name == "posix":
                os.killpg(self._proc.pid, sig)  # its own session: group id == its pid
            elif self._proc.poll() is None:  # pragma: no cover - Windows
                self._proc.kill() if sig != signal.SIGTERM else self._proc.terminate()
        except (ProcessLookupError, PermissionError):
            pass

    # -- log

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> list[str]:
        """The last ``lines`` non-blank lines of the server's output."""
        if self._log_path is None:
            return []
        try:
            with open(self._log_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 64 * 1024))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return []
        return [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]

    def _indented_tail(self) -> str:
        return "\n".join("    " + line for line in self.log_tail()) or "    (no output)"

    def __repr__(self) -> str:
        state = f"pid={self._proc.pid}, {self.base_url}" if self.running else "stopped"
        return f"LocalServer({self.model.name!r}, {self.engine}, {state})"
