"""Matplotlib figures for nn's plots (History, GradientHealth), made without pyplot's global state."""
from __future__ import annotations

from typing import Any


def new_figure(what: str) -> Any:
    """A new matplotlib Figure (no pyplot state, so no GUI and no figure leak).

    Raises:
        ImportError: matplotlib is missing (names the ``plot`` extra).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(f"{what} needs matplotlib: pip install 'gradkit[plot]'") from e
    return Figure(figsize=(10, 4), layout="constrained")
