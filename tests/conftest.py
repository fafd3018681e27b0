"""Suite-wide settings: bounded hypothesis runs, a non-interactive matplotlib backend, and
gradkit's global state (default dtype, generator seed, grad mode) reset around every test."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

settings.register_profile("default", max_examples=25, deadline=None, derandomize=True)
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _fresh_gradkit_state():
    import gradkit.autograd as ag
    from gradkit.autograd import anomaly, grad_mode

    ag.manual_seed(0)
    yield
    ag.set_default_dtype(np.float32)
    grad_mode.set_grad_enabled(True)
    anomaly._enabled = False
