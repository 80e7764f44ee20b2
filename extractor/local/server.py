"""The bundled llama.cpp server: run a small packaged model when no endpoint is configured.

``extractor run`` / ``extractor summarize`` without ``--base-url`` start one as a child
process, talk to it like any OpenAI-compatible endpoint and stop it on every exit path;
``extractor serve`` runs one in the foreground. Which engine serves it (xllamacpp or your
own ``llama-server``) and the command line that starts it: :mod:`extractor.local.engines`.

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

Nothing here imports ``xllamacpp`` itself: the server runs in the child process.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from ..errors import LocalServerError
from .engines import (  # noqa: F401 - the engines' names are re-exported from here as before
    DEFAULT_N_CTX,
    ENGINE_ENV,
    ENGINE_MODES,
    ENGINE_SLOTS,
    ENGINES,
    LLAMA_SERVER,
    LLAMA_SERVER_ENV,
    XLLAMACPP,
    Launch,
    Tuning,
    _xllamacpp_installed,
    engine_command,
    find_llama_server,
    local_available,
    resolve_engine,
)
from .models import (
    BUNDLED_MODELS,
    DEFAULT_MODEL,
    INSTALL_HINT,
    MODELS_DIR,
    BundledModel,
    bundled_for,
    find_model,
)
from .process import (  # noqa: F401 - _sweep_stale_log_dirs: re-exported for tests
    _LOG_TAIL_LINES,
    _STOP_GRACE,
    ChildProcess,
    _connect_host,
    _sweep_stale_log_dirs,
    _track,
    _untrack,
    _url_host,
    free_port,
    running_servers,
    stop_all,
)
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

DEFAULT_STARTUP_TIMEOUT = 120.0

# The child's line once it listens: the address the OS gave it (port 0).
_LISTENING = re.compile(re.escape(LISTENING) + r"(https?://\S+)")
# What llama-server logs when its port is taken.
_PORT_IN_USE = ("address already in use", "couldn't bind http server socket")


def notice(model_name: str, asked: bool = True) -> str:
    """One line saying that the bundled model is in use, and what it is for; or, when
    nothing it would write could be shown (``asked`` false), that it is not asked."""
    if not asked:
        return (
            f"extractor: no endpoint configured; the bundled model {model_name} is not asked: its summaries "
            "were measured less often right than the abstract's own sentence, so the records are the rules' "
            "(docs/trust.md); for a model that writes, point --base-url at a bigger one."
        )
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
        launch = Launch(
            self.model, self.host, self._port, self.slots, self.n_ctx, self.n_threads,
            self.batch, self.ubatch, self.model_alias, self.extra_args,
        )  # fmt: skip
        return engine_command(self.engine, launch)

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
