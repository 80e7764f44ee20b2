"""Which engine serves the bundled model, and the command line that starts it.

Two engines can serve the model (``engine``, or ``EXTRACTOR_ENGINE``), both llama.cpp's own
HTTP server, which enforces ``response_format: json_schema``, serves :attr:`Tuning.slots`
requests at once (continuous batching) and caches prompts:

- ``xllamacpp`` (the default, ``pip install -e '.[local]'``): the server inside the prebuilt
  ``xllamacpp`` wheel (nothing compiled), run by :mod:`extractor.local.xlc_child`.
- ``llama-server``: your own build of llama.cpp's ``llama-server`` binary, the file named by
  ``EXTRACTOR_LLAMA_SERVER``, else ``llama-server`` on ``PATH``.

``engine="auto"`` (the default) takes ``EXTRACTOR_ENGINE`` if set, else ``llama-server`` when
``EXTRACTOR_LLAMA_SERVER`` names one, else xllamacpp when installed, else a ``llama-server``
on ``PATH``. Nothing here imports ``xllamacpp`` itself: :func:`local_available` only looks the
module and the binary up.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import LocalServerError
from .models import INSTALL_HINT, model_installed

__all__ = [
    "DEFAULT_N_CTX",
    "ENGINES",
    "ENGINE_MODES",
    "ENGINE_SLOTS",
    "LLAMA_SERVER",
    "XLLAMACPP",
    "Launch",
    "Tuning",
    "engine_command",
    "find_llama_server",
    "local_available",
    "resolve_engine",
]

DEFAULT_N_CTX = 4096  # per slot: an abstract, the schema and the instructions fit with room to spare

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



def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_llama_server() -> Path | None:
    """Your own ``llama-server`` binary: ``$EXTRACTOR_LLAMA_SERVER`` (returned even when it
    is not there: :meth:`~extractor.local.server.LocalServer.start` then says so), else ``llama-server`` on
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

@dataclass(frozen=True)
class Launch:
    """What the command line of one start of the server says: the model file, where it
    listens (``port`` 0: the OS picks, xllamacpp only), its slots and tuning, the model id it
    lists and the caller's extra arguments."""

    model: Path
    host: str
    port: int | None
    slots: int
    n_ctx: int
    threads: int
    batch: int
    ubatch: int
    alias: str
    extra_args: list[str]


def engine_command(engine: str, launch: Launch) -> list[str]:
    """The command line that starts ``engine`` (``xllamacpp`` or ``llama-server``) for ``launch``."""
    build = _native_command if engine == LLAMA_SERVER else _xllamacpp_command
    return build(launch)


def _xllamacpp_command(launch: Launch) -> list[str]:
    """:mod:`extractor.local.xlc_child` for ``launch``."""
    if not _xllamacpp_installed():
        raise LocalServerError(
            f"local server: xllamacpp is not installed: install it with {INSTALL_HINT}, "
            f"or name your own llama-server with {LLAMA_SERVER_ENV}=/path/to/llama-server"
        )
    cmd = [
        sys.executable, "-m", "extractor.local.xlc_child",
        "--model", str(launch.model),
        "--host", launch.host,
        "--port", str(launch.port),
        "--slots", str(launch.slots),
        "--ctx-per-slot", str(launch.n_ctx),
        "--threads", str(launch.threads),
        "--batch", str(launch.batch),
        "--ubatch", str(launch.ubatch),
    ]  # fmt: skip
    if launch.host not in ("127.0.0.1", "::1", "localhost"):
        cmd.append("--allow-remote")  # asked for by name (extractor serve --host); never by a run
    if "--alias" not in launch.extra_args:
        cmd += ["--alias", launch.alias]
    return cmd + launch.extra_args


def _native_command(launch: Launch) -> list[str]:
    """Your own llama.cpp ``llama-server`` for ``launch``."""
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
        "-m", str(launch.model),
        "--host", launch.host,
        "--port", str(launch.port),
        "-c", str(launch.n_ctx * launch.slots),  # split evenly: n_ctx per slot
        "-t", str(launch.threads),
        "-tb", str(launch.threads),
        "-b", str(launch.batch),
        "-ub", str(min(launch.ubatch, launch.batch)),
        "--parallel", str(launch.slots),
        "--no-webui",
    ]  # fmt: skip
    if not {"-a", "--alias"} & set(launch.extra_args):
        cmd += ["--alias", launch.alias]
    return cmd + launch.extra_args

