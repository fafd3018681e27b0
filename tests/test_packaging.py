"""Packaging: one import package `gradkit` assembled from the top-level folders (API.md, Packaging)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_subpackages_are_importable_as_gradkit_modules() -> None:
    import gradkit
    from gradkit import autograd, data, nn, optim

    assert {m.__name__ for m in (autograd, nn, optim, data)} == {"gradkit.autograd", "gradkit.nn", "gradkit.optim",
                                                                  "gradkit.data"}
    for name in ("__version__", "Tensor", "tensor", "no_grad", "manual_seed"):
        assert hasattr(gradkit, name)


def test_import_gradkit_does_not_import_optional_dependencies() -> None:
    code = ("import sys, gradkit; bad = [m for m in ('matplotlib', 'tqdm', 'sklearn', 'joblib', 'hypothesis', "
            "'torch', 'graphviz') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_nn_optim_data_are_imported_on_first_use() -> None:
    code = ("import sys, gradkit as gk; assert not {'gradkit.nn', 'gradkit.optim', 'gradkit.data'} & set(sys.modules); "
            "assert {'nn', 'optim', 'data'} <= set(dir(gk)); layer = gk.nn.Linear(2, 1); "
            "from gradkit import optim; optim.SGD(layer.parameters(), lr=0.1); import gradkit.data; "
            "assert gk.data is sys.modules['gradkit.data']")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT.parent)
    assert out.returncode == 0, out.stdout + out.stderr
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        import gradkit
        gradkit.nope  # noqa: B018


@pytest.mark.skipif(not (ROOT / "pyproject.toml").exists(), reason="needs the source tree")
def test_built_wheel_adds_no_top_level_name_but_gradkit(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                          str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    wheel = next(tmp_path.glob("gradkit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"gradkit"}, top
    for sub in ("autograd", "autograd/ops", "nn", "optim", "data"):
        assert f"gradkit/{sub}/__init__.py" in names
