"""The code passes the project's lint rules (pyproject.toml, [tool.ruff]: pyflakes, pycodestyle, bugbear).

An unused import, an undefined name, a loop variable captured late by a closure: ruff finds them
before a reader or a user does. Skipped where ruff is not installed (it comes with the ``dev`` extra).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    pytest.importorskip("ruff", reason="ruff not installed (pip install -e '.[dev]')")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
