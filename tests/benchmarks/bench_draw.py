"""Benchmark: drawing a 5,000-node graph (a script that prints times; not a timed test).

Run:  python tests/benchmarks/bench_draw.py [n_nodes] [--render-all]

Prints the time to build the Digraph (walk + DOT text) with no node limit, the
time for the default limit (the '… N more nodes' summary), and, when the
Graphviz `dot` program is installed, the time to render the limited drawing to
SVG. ``--render-all`` also lays out all nodes with `dot` (tens of seconds for
5,000 nodes: the layout, not gradkit, is what max_nodes protects against).
"""
from __future__ import annotations

import shutil
import sys
import time

import numpy as np

import gradkit.autograd as ag
from gradkit.autograd.draw import draw_graph, graph_text


def build(n_nodes: int, seed: int = 0) -> ag.Tensor:
    """A branching graph of about ``n_nodes`` drawn nodes: h = tanh(h * w_i + 0.1), a leaf w_i per step."""
    rng = np.random.default_rng(seed)
    h = ag.tensor(rng.normal(size=4), requires_grad=True, name="x")
    for i in range(n_nodes // 5):  # each step draws Mul, Add, Tanh, the leaf w_i and the constant 0.1
        w = ag.tensor(rng.normal(size=4), requires_grad=True, name=f"w{i}")
        h = (h * w + 0.1).tanh()
    return h.sum()


def timed(label: str, fn):
    start = time.perf_counter()
    out = fn()
    print(f"{label:<48s} {time.perf_counter() - start:8.3f} s")
    return out


def main(n_nodes: int = 5000, render_all: bool = False) -> None:
    out = build(n_nodes)
    n = len([line for line in graph_text(out, max_nodes=None, format="dot").splitlines() if " [label=" in line])
    print(f"graph with {n} drawn nodes")
    full = timed("draw_graph(max_nodes=None): walk + DOT", lambda: draw_graph(out, max_nodes=None, show_data=True))
    small = timed("draw_graph() (default max_nodes): walk + DOT", lambda: draw_graph(out, show_data=True))
    timed("graph_text(max_nodes=None)", lambda: graph_text(out, max_nodes=None))
    if shutil.which("dot") is None:
        print("Graphviz `dot` not installed: rendering skipped")
        return
    timed("render default-limit drawing to SVG (dot)", lambda: small.pipe(format="svg"))
    if render_all:
        timed(f"render all {n} nodes to SVG (dot)", lambda: full.pipe(format="svg"))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--render-all"]
    main(int(args[0]) if args else 5000, render_all="--render-all" in sys.argv[1:])
