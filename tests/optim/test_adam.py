"""Adam / AdamW: the paper's form, and AdamW as Adam with decoupled weight decay."""
from __future__ import annotations

import numpy as np

from gradkit.autograd.tensor import Tensor
from gradkit.optim import Adam, AdamW

GRADS = [np.random.default_rng(k).normal(size=4) for k in range(20)]
THETA0 = np.array([0.5, -1.0, 2.0, 0.0])


def _run(opt_cls, **kwargs) -> tuple[list[np.ndarray], object, Tensor]:
    w = Tensor(THETA0.copy(), requires_grad=True)
    opt = opt_cls([w], **kwargs)
    out = []
    for g in GRADS:
        w.grad = Tensor(g)
        opt.step()
        out.append(w.data.copy())
    return out, opt, w


def test_matches_the_papers_bias_corrected_form() -> None:
    lr, b1, b2, eps = 0.01, 0.9, 0.99, 1e-8
    theta, m, v, expected = THETA0.copy(), np.zeros(4), np.zeros(4), []
    for t, g in enumerate(GRADS, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        expected.append(theta)
    ours, _, _ = _run(Adam, lr=lr, betas=(b1, b2), eps=eps)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_amsgrad_keeps_the_running_max_of_raw_v() -> None:
    _, opt, w = _run(Adam, lr=0.01, amsgrad=True)
    v_max = np.zeros(4)
    v = np.zeros(4)
    for g in GRADS:
        v = 0.999 * v + (1 - 0.999) * g * g
        v_max = np.maximum(v_max, v)
    np.testing.assert_allclose(opt.state[w]["max_exp_avg_sq"], v_max, rtol=1e-12)


def test_adamw_is_adam_with_decoupled_decay() -> None:
    adamw, opt, _ = _run(AdamW, lr=0.05, weight_decay=0.2)
    decoupled, _, _ = _run(Adam, lr=0.05, weight_decay=0.2, decoupled_weight_decay=True)
    l2, _, _ = _run(Adam, lr=0.05, weight_decay=0.2)
    np.testing.assert_array_equal(adamw, decoupled)
    assert not np.allclose(adamw[-1], l2[-1])
    saved = opt.state_dict()
    saved["param_groups"][0]["decoupled_weight_decay"] = False
    fresh = AdamW([Tensor(THETA0.copy(), requires_grad=True)])
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["decoupled_weight_decay"] is True
    assert fresh.param_groups[0]["weight_decay"] == 0.2
