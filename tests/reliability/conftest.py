"""Reliability suite options: ``--reliability-long`` (or ``GRADKIT_LONG=1``) runs the long variants.

The default (CI) variant of every part is sized to keep the whole folder under a minute on
two cores; the long variants reproduce the figures in README's "Reliability" section
(``python tests/reliability/report.py`` runs them and prints the table).
"""
from __future__ import annotations

import json
import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--reliability-long", action="store_true", default=False,
                     help="run the long reliability variants (1,000 kills, 10**6-node chain, 10,000 steps, "
                          "many fuzz programs); same as GRADKIT_LONG=1")


def is_long(config: pytest.Config | None = None) -> bool:
    """True when the long variants were asked for (option or environment)."""
    if os.environ.get("GRADKIT_LONG", "") not in ("", "0"):
        return True
    return bool(config is not None and config.getoption("--reliability-long", default=False))


@pytest.fixture(scope="session")
def long_run(pytestconfig: pytest.Config) -> bool:
    """Whether this session runs the long variants."""
    return is_long(pytestconfig)


@pytest.fixture(scope="session")
def figures() -> dict:
    """Measured figures, printed at the end of the session (and collected by report.py)."""
    return FIGURES


FIGURES: dict = {}


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    out = os.environ.get("GRADKIT_FIGURES_JSON")
    if out:  # report.py collects the figures from here
        with open(out, "w") as f:
            json.dump(FIGURES, f, indent=1)
    if FIGURES:
        terminalreporter.section("gradkit reliability figures")
        for key, value in FIGURES.items():
            terminalreporter.write_line(f"{key}: {value}")
