"""The examples in the package's docstrings run as written: a reader who copies one gets
what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import extractor


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(extractor.__path__, "extractor.") if ".ray" not in m.name and not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} fail"
