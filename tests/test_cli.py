"""The ``gradkit demo`` command: a quick end-to-end run in a subprocess, and argument errors."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from gradkit import cli
from gradkit.demo import FILES

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, str]:
    out = str(tmp_path_factory.mktemp("demo") / "tmp")
    proc = subprocess.run([sys.executable, "-m", "gradkit", "demo", "--quick", "--out", out, "--no-progress"],
                          capture_output=True, text=True, check=False, timeout=300)  # hang guard; it takes seconds
    return proc, out


def test_quick_demo_exits_cleanly(quick_run) -> None:
    proc, _ = quick_run
    assert proc.returncode == 0, proc.stderr


def test_quick_demo_writes_every_file(quick_run) -> None:
    _, out = quick_run
    graph = FILES["graph"] if os.path.exists(os.path.join(out, FILES["graph"])) else FILES["graph_dot"]
    for name in (graph, FILES["learning_curves"], FILES["confusion_matrix"], FILES["validation_curve"],
                 FILES["weights"], FILES["report"]):
        path = os.path.join(out, name)
        assert os.path.getsize(path) > 0, f"{name} missing or empty"
    for png in (FILES["learning_curves"], FILES["confusion_matrix"], FILES["validation_curve"]):
        with open(os.path.join(out, png), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_quick_demo_graph_shows_modules(quick_run) -> None:
    _, out = quick_run
    svg = os.path.join(out, FILES["graph"])
    if not os.path.exists(svg):
        pytest.skip("Graphviz `dot` missing: the demo wrote DOT source instead")
    with open(svg, encoding="utf-8") as f:
        text = f.read()
    assert "<svg" in text and "Linear" in text and "cluster" in text


def test_quick_demo_report_text(quick_run) -> None:
    proc, out = quick_run
    report = proc.stdout
    for words in ("cross-validated grid search", "±", "precision", "recall", "f1-score",
                  "confusion matrix", "files written", "wall time"):
        assert words in report, f"{words!r} missing from the report"
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", report).group(1))
    assert accuracy >= 0.9  # quick settings; the default run reaches >= 0.97
    with open(os.path.join(out, FILES["report"]), encoding="utf-8") as f:
        assert f.read().strip() == report.strip()


def test_saved_weights_reload_into_the_best_model(quick_run) -> None:
    from gradkit import nn
    from gradkit.demo import build_mlp

    proc, out = quick_run
    hidden = int(re.search(r"best: \{'hidden': (\d+)", proc.stdout).group(1))
    model = build_mlp(64, 10, hidden=hidden)
    model.load_state_dict(nn.load(os.path.join(out, FILES["weights"])))  # strict: every key and shape matches


@pytest.mark.parametrize("argv, words", [
    (["demo", "--jobs", "0"], ["--jobs", "non-zero integer", "got 0"]),
    (["demo", "--jobs", "two"], ["--jobs", "non-zero integer", "'two'"]),
    (["demo", "--seed", "x"], ["--seed", "invalid int value"]),
    (["demo", "--unknown"], ["unrecognized arguments", "--unknown"]),
    (["train"], ["invalid choice", "'train'", "demo"]),
    ([], ["required", "COMMAND"]),
])
def test_argument_errors_exit_2_with_a_message(argv, words, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err


def test_help_lists_the_demo_options(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--out", "--quick", "--jobs", "--seed", "gradkit-demo"):
        assert option in out


def test_out_that_is_a_file_exits_1_naming_it(tmp_path, capsys) -> None:
    not_a_folder = tmp_path / "report.txt"
    not_a_folder.write_text("x")
    assert cli.main(["demo", "--quick", "--out", str(not_a_folder)]) == 1
    err = capsys.readouterr().err
    assert "--out" in err and str(not_a_folder) in err


def test_graph_falls_back_to_dot_source_without_graphviz(tmp_path, monkeypatch) -> None:
    import numpy as np

    from gradkit.autograd import draw
    from gradkit.demo import build_mlp, save_compute_graph

    def missing(*args, **kwargs):
        raise draw.GraphvizNotFoundError("the Graphviz program `dot` was not found on PATH")

    monkeypatch.setattr(draw, "draw_graph", missing)
    model = build_mlp(64, 10, hidden=8)
    rng = np.random.default_rng(0)
    path, note = save_compute_graph(model, rng.standard_normal((4, 64)).astype(np.float32), np.arange(4), str(tmp_path))
    assert path == str(tmp_path / FILES["graph_dot"])
    with open(path, encoding="utf-8") as f:
        source = f.read()
    assert source.startswith("digraph") and "Linear" in source
    assert "no SVG" in note and "dot" in note and "dot -Tsvg" in note
    assert all(p.grad is None for p in model.parameters())  # the drawing pass leaves no gradients behind
