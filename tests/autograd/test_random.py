"""gradkit's generator: manual_seed, and fork_rng blocks that stay private to their thread."""
from __future__ import annotations

import threading

import numpy as np

import gradkit.autograd as ag
from gradkit.autograd.random import default_generator, fork_rng, get_rng_state, set_rng_state


def test_fork_rng_leaves_the_default_generator_untouched() -> None:
    ag.manual_seed(3)
    expected = np.random.default_rng(3).standard_normal(4)
    with fork_rng(7) as g:
        assert default_generator() is g
        inner = ag.randn(2, dtype=np.float64).data
        ag.manual_seed(11)  # inside the block: seeds the block's generator only
    np.testing.assert_array_equal(inner, np.random.default_rng(7).standard_normal(2))
    np.testing.assert_array_equal(ag.randn(4, dtype=np.float64).data, expected)


def test_fork_rng_blocks_in_concurrent_threads_do_not_share_draws() -> None:
    """Folds run in threads (joblib threading, in-process Dask) each get exactly their own sequence."""
    barrier = threading.Barrier(4)
    results: dict[int, np.ndarray] = {}

    def fold(seed: int) -> None:
        with fork_rng(seed):
            barrier.wait()  # all four blocks open at once
            results[seed] = np.concatenate([default_generator().standard_normal(50) for _ in range(200)])

    threads = [threading.Thread(target=fold, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in range(4):
        np.testing.assert_array_equal(results[s], np.random.default_rng(s).standard_normal(50 * 200))


def test_rng_state_round_trip() -> None:
    ag.manual_seed(5)
    state = get_rng_state()
    a = ag.rand(3).data
    set_rng_state(state)
    np.testing.assert_array_equal(ag.rand(3).data, a)
