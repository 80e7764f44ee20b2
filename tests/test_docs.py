"""The documentation site: its generated pages cover the code, and it builds with --strict.

The Architecture page is generated from the code (``docs/gen_architecture.py``): every
module of the package must appear on it, with a purpose read from its docstring. The build
itself needs the ``docs`` extra (mkdocs and its plugins); without it that test skips, and
``.ci/run`` builds the site after installing it.
"""

from __future__ import annotations

import importlib.util
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import extractor
from extractor.settings import Settings, flag_of

ROOT = Path(__file__).resolve().parent.parent
DOCS_TOOLS = ("mkdocs", "material", "mkdocs_click", "mkdocs_gen_files")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_architecture", ROOT / "docs" / "gen_architecture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _modules() -> list[str]:
    """Every module of the package, found by Python's own walk (not by the generator's)."""
    names = ["extractor"]
    for info in pkgutil.walk_packages(extractor.__path__, "extractor."):
        names.append(info.name)
    return sorted(names)


def test_architecture_page_covers_every_module() -> None:
    page = _generator().render(ROOT)
    missing = [name for name in _modules() if f"`{name}`" not in page]
    assert not missing, f"modules missing from the Architecture page: {missing}"
    for unit in ("cli", "extraction", "evidence", "http", "llm"):
        assert f"### `extractor.{unit}`" in page  # one section per subpackage


def test_every_module_states_its_purpose() -> None:
    """The page shows each module's purpose from the first paragraph of its docstring."""
    modules = _generator().read_modules(ROOT)
    assert sorted(modules) == _modules()
    without = [name for name, module in modules.items() if not module.purpose]
    assert not without, f"modules without a docstring (the Architecture page needs one): {without}"


def test_architecture_imports_are_read_from_the_code() -> None:
    modules = _generator().read_modules(ROOT)
    assert "extractor.cli.app" in modules["extractor.cli.run"].imports  # from .app import ...
    assert "extractor.evidence.text" in modules["extractor.records.papers"].imports  # from ..evidence.text
    assert "extractor.local.server" in modules["extractor.llm.connect"].imports  # a lazy import counts
    assert modules["extractor.errors"].imports == set()


@pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in DOCS_TOOLS),
    reason="mkdocs and its plugins are not installed (pip install -e '.[docs]'); .ci/run builds the site",
)
def test_site_builds_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    architecture = (site / "architecture" / "index.html").read_text(encoding="utf-8")
    missing = [name for name in _modules() if f"<code>{name}</code>" not in architecture]
    assert not missing, f"modules missing from the built Architecture page: {missing}"
    reference = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for command in extractor.cli.main.commands:  # type: ignore[attr-defined]
        assert f"extractor {command}" in reference
    configuration = (site / "configuration" / "index.html").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        if flag_of(name).commands:
            assert f"<code>{name}</code>" in configuration
    assert (site / "benchmarks" / "results" / "index.html").is_file()
    assert not (site / "_pending").exists()
