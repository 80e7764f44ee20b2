"""A child process of ours: its own session, its output in a log file, stopped with its group.

:class:`ChildProcess` is what :class:`~extractor.local.server.LocalServer` runs its engine in. The
child asks Linux to kill it when we die (``PR_SET_PDEATHSIG``), so not even a ``kill -9`` of
ours leaves a server behind; :meth:`ChildProcess.stop` sends SIGTERM, then SIGKILL to the
whole group after a grace period. Without a log file of the caller's, the output goes to a
temporary directory, removed on stop (and swept when a dead process left one).

Beside it: a free port for a server to listen on (:func:`free_port`), and the servers this
process started and has not stopped yet (:func:`running_servers`, :func:`stop_all`).

Example:
    >>> child = ChildProcess()
    >>> child.spawn(["sh", "-c", "echo hello"])
    >>> child.wait(5), child.log_tail()
    (0, ['hello'])
    >>> child.stop()
    0
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from ..errors import LocalServerError

__all__ = ["ChildProcess", "Stoppable", "free_port", "running_servers", "stop_all"]

_LOG_TAIL_LINES = 15
_STOP_GRACE = 3.0  # SIGTERM -> SIGKILL; a busy server finishes its reply first

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


class ChildProcess:
    """One command at a time, in its own session, with its output in ``log_file`` (kept)
    or in a temporary file (removed on :meth:`stop`)."""

    def __init__(self, log_file: str | os.PathLike[str] | None = None) -> None:
        self._log_file = Path(log_file) if log_file is not None else None
        self.log_path: Path | None = None
        self._tmpdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self._log_start = 0  # where this start's output begins in the log

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise LocalServerError("local server: not started")
        return self._proc.pid

    def poll(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    def spawn(self, command: Sequence[str], env: dict[str, str] | None = None) -> None:
        """Start ``command``, with ``env`` added to our environment; raise
        :class:`LocalServerError` if it cannot be started."""
        if self._log_file is not None:
            self._log_file.parent.mkdir(parents=True, exist_ok=True)
            self.log_path = self._log_file
        else:
            _sweep_stale_log_dirs()
            self._tmpdir = Path(tempfile.mkdtemp(prefix=f"{_LOG_DIR_PREFIX}{os.getpid()}-"))
            self.log_path = self._tmpdir / "server.log"
        kwargs: dict[str, Any] = {}
        if os.name == "posix":
            kwargs["start_new_session"] = True
            kwargs["preexec_fn"] = _parent_death_preexec()
        else:  # pragma: no cover - Windows
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        try:
            with open(self.log_path, "ab") as log:
                self._log_start = log.tell()
                self.started_at = time.monotonic()
                self._proc = subprocess.Popen(
                    list(command), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})), **kwargs,
                )  # fmt: skip
        except OSError as exc:
            raise LocalServerError(f"local server: cannot start {command[0]} ({exc})") from exc

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the process to exit; its exit code."""
        if self._proc is None:
            raise LocalServerError("local server: not started")
        return self._proc.wait(timeout)

    def stop(self, grace: float = _STOP_GRACE) -> int | None:
        """SIGTERM, up to ``grace`` seconds, then SIGKILL of its process group. Safe to call
        twice, or before :meth:`spawn`. Its exit code."""
        proc, code = self._proc, None
        if proc is not None:
            code = proc.poll()
            if code is None:
                self._signal_group(signal.SIGTERM)
                try:
                    code = proc.wait(grace)
                except subprocess.TimeoutExpired:
                    self._signal_group(getattr(signal, "SIGKILL", signal.SIGTERM))
                    code = proc.wait()
            # Anything the child left in its group (a server spawns nothing today).
            self._signal_group(getattr(signal, "SIGKILL", signal.SIGTERM))
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            self.log_path = None
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

    def log_since_start(self, limit: int = 64 * 1024) -> list[str]:
        """The first ``limit`` bytes of this start's output, as lines."""
        if self.log_path is None:
            return []
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(self._log_start)
                return fh.read(limit).decode("utf-8", "replace").splitlines()
        except OSError:
            return []

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> list[str]:
        """The last ``lines`` non-blank lines of the output."""
        if self.log_path is None:
            return []
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 64 * 1024))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return []
        return [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]


class Stoppable(Protocol):
    """A server that this process started: stopped by :func:`stop_all`."""

    def stop(self) -> int | None: ...


# --------------------------------------------------------------------------- where a server listens, and which run


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
_RUNNING: list[Stoppable] = []
_RUNNING_LOCK = threading.Lock()


def running_servers() -> list[Stoppable]:
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


def _track(server: Stoppable) -> None:
    with _RUNNING_LOCK:
        if server not in _RUNNING:
            _RUNNING.append(server)


def _untrack(server: Stoppable) -> None:
    with _RUNNING_LOCK:
        if server in _RUNNING:
            _RUNNING.remove(server)
