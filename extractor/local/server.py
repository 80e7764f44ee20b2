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
    (True, 'json_schema', 2)

Nothing here imports ``llama_cpp`` itself: the server runs in the child process, and
:func:`local_available` only looks the modules and the binary up.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from .models import (
    BUNDLED_MODELS,
    DEFAULT_MODEL,
    INSTALL_HINT,
    MODELS_DIR,
    BundledModel,
    bundled_for,
    find_model,
    model_installed,
)
from ..errors import LocalServerError
from .process import _LOG_TAIL_LINES, _STOP_GRACE, ChildProcess, _sweep_stale_log_dirs  # noqa: F401 - re-exported for tests

T = TypeVar("T")

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
# per paper (medians) with 1 / 2 / 4 slots, the same within noise. 2 keeps the server busy
# while the client reads an answer, with half the wait per request of 4 (4 long answers
# at once outlasted the 120 s timeout on a busy machine) and half its KV cache.
ENGINE_SLOTS = {LLAMA_SERVER: 2, LLAMA_CPP_PYTHON: 1}
# The llama-cpp-python release whose vendored llama.cpp scripts/build-llama-server builds
# when llama-cpp-python itself is not installed (keep in step with the script).
LLAMA_SERVER_BUILD_DEFAULT = "0.3.36"

# Modules `python -m llama_cpp.server` needs (llama-cpp-python[server]).
_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
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
    """A llama.cpp server for ``model`` as a child process (:class:`~extractor.local.process.ChildProcess`),
    ready when started. Use it as a context manager, or call :meth:`start` and :meth:`stop`.

    ``engine``: ``auto`` (:func:`resolve_engine`), ``llama-server`` or ``llama-cpp-python``;
    :attr:`mode` is what it enforces and :attr:`slots` how many requests it serves at once
    (``slots=None``: what suits the engine). ``port=None``: a free port. ``n_ctx``: the
    context of each request. ``model_alias``: the model id it lists (default: the bundled
    model's name). ``extra_args`` follow the bundled model's own arguments. The output goes
    to ``log_file`` (kept), else to a temporary file. ``startup_seconds``: spawn to ready.
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
        self.slots = _slots(self.engine, slots)
        bundled = bundled_for(self.model)
        self.extra_args = _with_model_args(bundled, self.engine, extra_args)
        self.model_alias = model_alias or (bundled.name if bundled else self.model.name.removesuffix(".gguf"))
        self._requested_port = port
        self._port: int | None = port
        self._child = ChildProcess(log_file)
        self._model_name: str | None = None
        self.startup_seconds: float | None = None  # spawn to ready, for the last start

    @classmethod
    def bundled(cls, name: str | None = None, *, engine: str = "auto", **kwargs: Any) -> LocalServer:
        """A server for bundled model ``name`` (default :data:`DEFAULT_MODEL`), listed under
        that name (e.g. ``smollm2-135m``), on ``engine`` (``auto``: ``$EXTRACTOR_ENGINE``,
        else llama-server when found, else llama-cpp-python)."""
        return cls(find_model(name), engine=engine, **kwargs)

    @property
    def mode(self) -> str:
        """The structured-output mode the engine enforces: ``json_schema`` or ``tools``."""
        return ENGINE_MODES[self.engine]

    @property
    def running(self) -> bool:
        return self._child.running

    @property
    def pid(self) -> int:
        return self._child.pid

    @property
    def port(self) -> int:
        return _started(self._port)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return f"http://{_url_host(_connect_host(self.host))}:{self.port}/v1"

    @property
    def model_name(self) -> str:
        """The model id the server lists in ``GET /v1/models``."""
        return _started(self._model_name)

    @property
    def log_path(self) -> Path | None:
        return self._child.log_path

    def describe(self) -> str:
        """E.g. ``llama-server, json_schema, 2 slots``."""
        return f"{self.engine}, {self.mode}, {self.slots} slot{'s' if self.slots != 1 else ''}"

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _command(self) -> list[str]:
        build = _native_command if self.engine == LLAMA_SERVER else _llama_cpp_python_command
        return build(self)

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
        _track(self)
        self._child.spawn(command)

    def _wait_ready(self) -> None:
        self._model_name = _wait_ready(self)
        self.startup_seconds = time.monotonic() - self._child.started_at

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the server process to exit; its exit code."""
        return self._child.wait(timeout)

    def stop(self, grace: float = _STOP_GRACE) -> int | None:
        """Stop the server: SIGTERM, up to ``grace`` seconds, then SIGKILL of its process
        group. Safe to call twice, or on a server that never started. Its exit code."""
        code = self._child.stop(grace)
        _untrack(self)
        return code

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> list[str]:
        """The last ``lines`` non-blank lines of the server's output."""
        return self._child.log_tail(lines)

    def __repr__(self) -> str:
        state = f"pid={self.pid}, {self.base_url}" if self.running else "stopped"
        return f"LocalServer({self.model.name!r}, {self.engine}, {state})"


def _llama_cpp_python_command(server: LocalServer) -> list[str]:
    """``python -m llama_cpp.server`` for this server."""
    missing = _missing_server_modules()
    if missing:
        raise LocalServerError(
            f"local server: llama-cpp-python[server] is not installed (no {', '.join(missing)}): "
            f"install it with {INSTALL_HINT}"
        )
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(server.model),
        "--host", server.host,
        "--port", str(server._port),
        "--n_ctx", str(server.n_ctx),
        "--n_threads", str(server.n_threads),
        # By default a new request interrupts the one being answered: several clients at
        # once (concurrency > 1) would then cancel each other until they time out.
        "--interrupt_requests", "False",
    ]  # fmt: skip
    if "--model_alias" not in server.extra_args:
        cmd += ["--model_alias", server.model_alias]
    return cmd + server.extra_args


def _native_command(server: LocalServer) -> list[str]:
    """llama.cpp's ``llama-server`` for this server."""
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
        "-m", str(server.model),
        "--host", server.host,
        "--port", str(server._port),
        "-c", str(server.n_ctx * server.slots),  # split evenly: n_ctx per slot
        "-t", str(server.n_threads),
        "--parallel", str(server.slots),
        "--no-webui",
    ]  # fmt: skip
    if not {"-a", "--alias"} & set(server.extra_args):
        cmd += ["--alias", server.model_alias]
    return cmd + server.extra_args


def _wait_ready(server: LocalServer) -> str:
    """Wait until the server answers ``GET /v1/models``; the model id it lists."""
    # Both engines answer GET /v1/models once the model is loaded (llama-server: 503
    # while loading).
    url = server.base_url + "/models"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    deadline = server._child.started_at + server.startup_timeout
    delay = 0.05
    while True:
        code = server._child.poll()
        if code is not None:
            raise LocalServerError(
                f"local server ({server.engine}) for {server.model.name} exited with code {code} before it "
                f"was ready; last log lines:\n{_indented(server.log_tail())}"
            )
        try:
            with opener.open(url, timeout=2.0) as resp:
                if resp.status == 200:
                    data = json.loads(resp.read().decode("utf-8"))
                    ids = [m.get("id") for m in data.get("data", []) if isinstance(m, dict)]
                    return next((i for i in ids if i), server.model_alias)
        except (urllib.error.URLError, OSError, ValueError):
            pass
        if time.monotonic() >= deadline:
            raise LocalServerError(
                f"local server ({server.engine}) for {server.model.name} did not answer GET {url} within "
                f"{server.startup_timeout:g} s; last log lines:\n{_indented(server.log_tail())}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def _slots(engine: str, slots: int | None) -> int:
    if slots is not None and slots < 1:
        raise LocalServerError(f"local server: slots must be at least 1, not {slots}")
    return 1 if engine == LLAMA_CPP_PYTHON else slots or ENGINE_SLOTS[engine]


def _with_model_args(bundled: BundledModel | None, engine: str, extra_args: Sequence[str]) -> list[str]:
    """The bundled model's own arguments for ``engine``, unless the caller gave some of
    them, then ``extra_args``."""
    args = list(extra_args)
    own = bundled.args_for(engine) if bundled is not None else ()
    if own and not {a for a in own if a.startswith("-")} & set(args):
        args[:0] = own
    return args


def _indented(lines: list[str]) -> str:
    return "\n".join("    " + line for line in lines) or "    (no output)"


def _started(value: T | None) -> T:
    """``value``, which only a started server has."""
    if value is None:
        raise LocalServerError("local server: not started")
    return value
