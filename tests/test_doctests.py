"""Run the ``Example:`` blocks of every gradkit module's docstrings (doctests), so the docs cannot rot."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import gradkit


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(gradkit.__path__, prefix="gradkit."):
        names.append(info.name)
    for sub in ("autograd", "nn", "optim", "data"):
        pkg = importlib.import_module(f"gradkit.{sub}")
        names.append(pkg.__name__)
        names += [i.name for i in pkgutil.walk_packages(pkg.__path__, prefix=f"gradkit.{sub}.")]
    return sorted(set(names) - {"gradkit.__main__"})


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {name}"
