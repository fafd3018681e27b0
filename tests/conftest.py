"""Suite-wide settings: bounded hypothesis runs, a non-interactive matplotlib backend, and
gradkit's global state (default dtype, generator seed, grad mode) reset around every test."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

from tests.hypothesis_budget import PROFILE, examples

os.environ.setdefault("MPLBACKEND", "Agg")

# CI: the same examples every run. HYPOTHESIS_PROFILE=thorough: new random examples, every test's
# budget times THOROUGH_SCALE (tests state theirs through hypothesis_budget.examples).
settings.register_profile("default", max_examples=examples(25), deadline=None, derandomize=True)
settings.register_profile("thorough", max_examples=examples(25), deadline=None)
settings.load_profile(PROFILE)


@pytest.fixture(autouse=True)
def _fresh_gradkit_state():
    import gradkit.autograd as ag
    from gradkit.autograd import anomaly, grad_mode

    ag.manual_seed(0)
    yield
    ag.set_default_dtype(np.float32)
    grad_mode.set_grad_enabled(True)
    anomaly._enabled = False
