"""How many examples each hypothesis test draws.

Every test states its CI budget through ``examples(n)``. ``HYPOTHESIS_PROFILE=thorough``
multiplies every budget by ``THOROUGH_SCALE`` and draws new random examples each run
(the default profile is derandomized: CI sees the same examples every time), for a bug hunt:

    HYPOTHESIS_PROFILE=thorough python -m pytest -q tests/autograd
"""
from __future__ import annotations

import os

THOROUGH_SCALE = 10
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")


def examples(n: int) -> int:
    """``n`` examples in the default profile, ``THOROUGH_SCALE * n`` in the thorough one."""
    return n * THOROUGH_SCALE if PROFILE == "thorough" else n
