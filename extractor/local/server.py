"""The bundled llama.cpp server: run a small packaged model when no endpoint is configured.

``extractor run`` / ``extractor summarize`` without ``--base-url`` start one as a child
process, talk to it like any OpenAI-compatible endpoint and stop it on every exit path;
``extractor serve`` runs one in the foreground.

Two engines can serve the model (``engine``, or ``EXTRACTOR_ENGINE``), both llama.cpp's own
HTTP server, which enforces ``response_format: json_schema``, serves :attr:`LocalServer.slots`
requests at once (continuous batching) and caches prompts:

- ``xllamacpp`` (the default, ``pip install -e '.[local]'``): the server inside the prebuilt
  ``xllamacpp`` wheel (nothing compiled), run by :mod:`extractor.local.xlc_child`.
- ``llama-server``: your own build of llama.cpp's ``llama-server`` binary, the file named by
  ``EXTRACTOR_LLAMA_SERVER``, else ``llama-server`` on ``PATH``.

``engine="auto"`` (the default) takes ``EXTRACTOR_ENGINE`` if set, else ``llama-server`` when
``EXTRACTOR_LLAMA_SERVER`` names one, else xllamacpp when installed, else a ``llama-server``
on ``PATH``.

Every start is locked to its run: the server listens on 127.0.0.1 only, requires a random API
key made for that start (:attr:`LocalServer.api_key`: given to the client, never printed nor
logged; a request without it gets HTTP 401), and allows no cross-origin request (xllamacpp;
with your own ``llama-server``, the key alone keeps web pages out).

The child runs in its own session (a Ctrl-C on the terminal reaches only us), with its
output captured to a log file. It is stopped (SIGTERM, then SIGKILL of its whole process
group after a grace period) when the ``with`` block ends for any reason, by
:meth:`LocalServer.stop` or :func:`stop_all`, and, on Linux, when we die abruptly: the child
asks the kernel to be killed when its parent dies (``PR_SET_PDEATHSIG``). Signal handlers
and ``atexit`` hooks are the application's business (the CLI installs them); this module
installs none.

Example:
    >>> with LocalServer.bundled() as server:                          # doctest: +SKIP
    ...     client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key)
    ...     client.models.list().data[0].id == server.model_name, server.mode, server.slots
    (True, 'json_schema', 2)

Nothing here imports ``xllamacpp`` itself: the server runs in the child process, and
:func:`local_available` only looks the module and the binary up.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

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
from .xlc_child import KEY_ENV, LISTENING

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
    "Tuning",
    "client_snippet",
    "find_llama_server",
    "find_model",
    "free_port",
    "local_available",
    "notice",
    "resolve_engine",
    "running_servers",
    "stop_all",
]

DEFAULT_N_CTX = 4096  # per slot: an abstract, the schema and the instructions fit with room to spare
DEFAULT_STARTUP_TIMEOUT = 120.0

XLLAMACPP = "xllamacpp"
LLAMA_SERVER = "llama-server"
ENGINES = (XLLAMACPP, LLAMA_SERVER)
ENGINE_ENV = "EXTRACTOR_ENGINE"
LLAMA_SERVER_ENV = "EXTRACTOR_LLAMA_SERVER"
# The structured-output mode each engine enforces (llama.cpp's server, either way).
ENGINE_MODES = {XLLAMACPP: "json_schema", LLAMA_SERVER: "json_schema"}


class Tuning:
    """How the bundled server uses 2 shared cores (measured: benchmarks/results.md, "Tuning
    the bundled server"). ``slots``: requests served at once; ``threads``: threads for
    generation and prompts; ``batch`` / ``ubatch``: llama.cpp's n_batch / n_ubatch;
    ``n_ctx``: the context of each slot, in tokens."""

    slots = 2
    threads = 2
    batch = 512
    ubatch = 512
    n_ctx = DEFAULT_N_CTX


ENGINE_SLOTS = {XLLAMACPP: Tuning.slots, LLAMA_SERVER: Tuning.slots}

# The child's line once it listens: the address the OS gave it (port 0).
_LISTENING = re.compile(re.escape(LISTENING) + r"(https?://\S+)")
# What llama-server logs when its port is taken.
_PORT_IN_USE = ("address already in use", "couldn't bind http server socket")


# --------------------------------------------------------------------------- engines


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_llama_server() -> Path | None:
    """Your own ``llama-server`` binary: ``$EXTRACTOR_LLAMA_SERVER`` (returned even when it
    is not there: :meth:`LocalServer.start` then says so), else ``llama-server`` on
    ``PATH``; ``None`` when there is none."""
    named = os.environ.get(LLAMA_SERVER_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    found = shutil.which("llama-server")
    return Path(found) if found else None


def _xllamacpp_installed() -> bool:
    try:
        return importlib.util.find_spec("xllamacpp") is not None
    except (ImportError, ValueError):
        return False


def resolve_engine(engine: str = "auto") -> str:
    """``xllamacpp`` or ``llama-server``. ``auto``: ``$EXTRACTOR_ENGINE`` if set, else
    llama-server when ``$EXTRACTOR_LLAMA_SERVER`` names one, else xllamacpp when installed,
    else llama-server when one is on ``PATH``, else xllamacpp (starting it says what to install)."""
    choice = engine
    if choice == "auto":
        choice = os.environ.get(ENGINE_ENV, "").strip() or "auto"
    if choice == "auto":
        if os.environ.get(LLAMA_SERVER_ENV, "").strip():
            return LLAMA_SERVER
        if _xllamacpp_installed():
            return XLLAMACPP
        return LLAMA_SERVER if find_llama_server() is not None else XLLAMACPP
    if choice not in ENGINES:
        source = f"{ENGINE_ENV}={choice}" if engine == "auto" else repr(choice)
        raise LocalServerError(f"unknown server engine {source}: use auto, {' or '.join(ENGINES)}")
    return choice


def local_available(name: str | None = None) -> bool:
    """Whether a bundled server can start: the model is there or can be fetched, and the
    engine is installed (xllamacpp, or llama-server's binary). Imports nothing heavy and
    writes nothing. An unknown ``EXTRACTOR_ENGINE`` counts as available, so that starting
    the server reports it."""
    if not model_installed(name):
        return False
    try:
        engine = resolve_engine()
    except LocalServerError:
        return True
    if engine == LLAMA_SERVER:
        binary = find_llama_server()
        return binary is not None and _executable(binary)
    return _xllamacpp_installed()


def notice(model_name: str) -> str:
    """One line saying that the bundled model is in use, and what it is for."""
    return (
        f"extractor: no endpoint configured, using the bundled local model {model_name}: a small model "
        "for trying the tool offline; for quality, point --base-url at a bigger model."
    )


def client_snippet(base_url: str, model_name: str, api_key: str = "not-needed") -> str:
    """Python code that talks to a server at ``base_url`` with the ``openai`` client."""
    return (
        "from openai import OpenAI\n"
        f'client = OpenAI(base_url="{base_url}", api_key="{api_key}")\n'
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

    ``engine``: ``auto`` (:func:`resolve_engine`), ``xllamacpp`` or ``llama-server``;
    :attr:`mode` is what it enforces and :attr:`slots` how many requests it serves at once.
    ``port=None``: a free port. ``n_ctx``: the context of each slot. ``n_threads``,
    ``batch``, ``ubatch``: see :class:`Tuning` (its values by default). ``api_key``: the key
    the server requires (default: a new random one at every start; ``""``: none).
    ``model_alias``: the model id it lists (default: the bundled model's name).
    ``extra_args`` follow the bundled model's own arguments. The output goes to ``log_file``
    (kept), else to a temporary file. ``startup_seconds``: spawn to ready.
    """

    def __init__(
        self,
        model: str | os.PathLike[str],
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
        batch: int | None = None,
        ubatch: int | None = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        extra_args: Sequence[str] = (),
        model_alias: str | None = None,
        log_file: str | os.PathLike[str] | None = None,
        engine: str = "auto",
        slots: int | None = None,
        api_key: str | None = None,
    ) -> None:
        self.model = Path(model)
        self.host = host
        self.n_ctx = n_ctx
        self.n_threads = n_threads or Tuning.threads
        self.batch = batch or Tuning.batch
        self.ubatch = ubatch or Tuning.ubatch
        self.startup_timeout = startup_timeout
        self.engine = resolve_engine(engine)
        if slots is not None and slots < 1:
            raise LocalServerError(f"local server: slots must be at least 1, not {slots}")
        self.slots = slots or ENGINE_SLOTS[self.engine]
        bundled = bundled_for(self.model)
        self.extra_args = _with_model_args(bundled, extra_args)
        self.model_alias = model_alias or (bundled.name if bundled else self.model.name.removesuffix(".gguf"))
        self._fixed_key = api_key
        self._api_key = ""
        self._requested_port = port
        self._port: int | None = port
        self._child = ChildProcess(log_file)
        self._model_name: str | None = None
        self.startup_seconds: float | None = None  # spawn to ready, for the last start

    @classmethod
    def bundled(cls, name: str | None = None, *, engine: str = "auto", **kwargs: Any) -> LocalServer:
        """A server for bundled model ``name`` (default :data:`DEFAULT_MODEL`), listed under
        that name (e.g. ``smollm2-135m``), on ``engine`` (``auto``: see :func:`resolve_engine`).
        A model fetched on first use is fetched by :meth:`start`, not here."""
        model = BUNDLED_MODELS.get(name or DEFAULT_MODEL)
        if model is None:
            return cls(find_model(name), engine=engine, **kwargs)
        path = model.locate(MODELS_DIR, False)
        if path is None:
            find_model(name)  # raises, naming the package to install
        assert path is not None
        server = cls(path, engine=engine, **kwargs)
        server._bundled_name = model.name
        return server

    _bundled_name: str | None = None

    @property
    def mode(self) -> str:
        """The structured-output mode the engine enforces: ``json_schema``."""
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
    def api_key(self) -> str:
        """The key this start of the server requires (``""``: none). Never printed by extractor."""
        return self._api_key

    @property
    def model_name(self) -> str:
        """The model id the server lists in ``GET /v1/models``."""
        return _started(self._model_name)

    @property
    def log_path(self) -> Path | None:
        return self._child.log_path

    def describe(self) -> str:
        """E.g. ``xllamacpp, json_schema, 2 slots x 4096 tokens, 1 thread``."""
        slots = f"{self.slots} slot{'s' if self.slots != 1 else ''} x {self.n_ctx} tokens"
        return f"{self.engine}, {self.mode}, {slots}, {self.n_threads} thread{'s' if self.n_threads != 1 else ''}"

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _command(self) -> list[str]:
        build = _native_command if self.engine == LLAMA_SERVER else _xllamacpp_command
        return build(self)

    def _env(self) -> dict[str, str]:
        """What the child gets in its environment beyond ours: the API key (not on the
        command line, which ``ps`` shows)."""
        if not self._api_key:
            return {}
        return {KEY_ENV if self.engine == XLLAMACPP else "LLAMA_API_KEY": self._api_key}

    def start(self) -> LocalServer:
        """Spawn the server and wait until ``GET /v1/models`` answers; raise
        :class:`LocalServerError` with the end of its log if it dies or times out. A bundled
        model fetched on first use is fetched first (see :mod:`extractor.local.models`)."""
        if self.running:
            return self
        if not self.model.is_file() and self._bundled_name is not None:
            self.model = find_model(self._bundled_name)
        if not self.model.is_file():
            raise LocalServerError(f"local server: model file {self.model} not found")
        attempts = 1 if self._requested_port is not None or self.engine == XLLAMACPP else 3
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
            # xllamacpp: port 0, the OS picks and the child says which (no race).
            self._port = 0 if self.engine == XLLAMACPP else free_port(_connect_host(self.host))
        self._api_key = secrets.token_urlsafe(24) if self._fixed_key is None else self._fixed_key
        command = self._command()
        _track(self)
        self._child.spawn(command, env=self._env())

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


def _xllamacpp_command(server: LocalServer) -> list[str]:
    """:mod:`extractor.local.xlc_child` for this server."""
    if not _xllamacpp_installed():
        raise LocalServerError(
            f"local server: xllamacpp is not installed: install it with {INSTALL_HINT}, "
            f"or name your own llama-server with {LLAMA_SERVER_ENV}=/path/to/llama-server"
        )
    cmd = [
        sys.executable, "-m", "extractor.local.xlc_child",
        "--model", str(server.model),
        "--host", server.host,
        "--port", str(server._port),
        "--slots", str(server.slots),
        "--ctx-per-slot", str(server.n_ctx),
        "--threads", str(server.n_threads),
        "--batch", str(server.batch),
        "--ubatch", str(server.ubatch),
    ]  # fmt: skip
    if server.host not in ("127.0.0.1", "::1", "localhost"):
        cmd.append("--allow-remote")  # asked for by name (extractor serve --host); never by a run
    if "--alias" not in server.extra_args:
        cmd += ["--alias", server.model_alias]
    return cmd + server.extra_args


def _native_command(server: LocalServer) -> list[str]:
    """Your own llama.cpp ``llama-server`` for this server."""
    binary = find_llama_server()
    if binary is None or not _executable(binary):
        where = (
            f"{LLAMA_SERVER_ENV}={binary} is not an executable file"
            if os.environ.get(LLAMA_SERVER_ENV, "").strip()
            else "no llama-server binary on PATH"
        )
        raise LocalServerError(
            f"local server: {where}: set {LLAMA_SERVER_ENV} to your llama.cpp build's llama-server, "
            f"or use EXTRACTOR_ENGINE={XLLAMACPP} ({INSTALL_HINT})"
        )
    cmd = [
        str(binary),
        "-m", str(server.model),
        "--host", server.host,
        "--port", str(server._port),
        "-c", str(server.n_ctx * server.slots),  # split evenly: n_ctx per slot
        "-t", str(server.n_threads),
        "-tb", str(server.n_threads),
        "-b", str(server.batch),
        "-ub", str(min(server.ubatch, server.batch)),
        "--parallel", str(server.slots),
        "--no-webui",
    ]  # fmt: skip
    if not {"-a", "--alias"} & set(server.extra_args):
        cmd += ["--alias", server.model_alias]
    return cmd + server.extra_args


def _listening_port(server: LocalServer) -> int | None:
    """The port the xllamacpp child says it listens on (its log since this start)."""
    for line in reversed(server._child.log_since_start()):
        found = _LISTENING.search(line)
        if found:
            return int(found.group(1).rsplit(":", 1)[1].strip("/"))
    return None


def _wait_ready(server: LocalServer) -> str:
    """Wait until the server answers ``GET /v1/models``; the model id it lists."""
    # Both engines answer GET /v1/models once the model is loaded (llama-server: 503
    # while loading); with the key only.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    deadline = server._child.started_at + server.startup_timeout
    delay = 0.05
    url = ""
    while True:
        code = server._child.poll()
        if code is not None:
            raise LocalServerError(
                f"local server ({server.engine}) for {server.model.name} exited with code {code} before it "
                f"was ready; last log lines:\n{_indented(server.log_tail())}"
            )
        if server._port == 0:
            server._port = _listening_port(server) or 0
        if server._port:
            url = server.base_url + "/models"
            request = urllib.request.Request(url)
            if server.api_key:
                request.add_header("Authorization", f"Bearer {server.api_key}")
            try:
                with opener.open(request, timeout=2.0) as resp:
                    if resp.status == 200:
                        data = json.loads(resp.read().decode("utf-8"))
                        ids = [m.get("id") for m in data.get("data", []) if isinstance(m, dict)]
                        return next((i for i in ids if i), server.model_alias)
            except (urllib.error.URLError, OSError, ValueError):
                pass
        if time.monotonic() >= deadline:
            what = f"answer GET {url}" if url else "say where it listens"
            raise LocalServerError(
                f"local server ({server.engine}) for {server.model.name} did not {what} within "
                f"{server.startup_timeout:g} s; last log lines:\n{_indented(server.log_tail())}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def _with_model_args(bundled: BundledModel | None, extra_args: Sequence[str]) -> list[str]:
    """The bundled model's own arguments, unless the caller gave some of them, then ``extra_args``."""
    args = list(extra_args)
    own = bundled.server_args if bundled is not None else ()
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
