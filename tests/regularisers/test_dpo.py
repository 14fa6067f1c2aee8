"""Tests of alignsim.regularisers: DPO under partial coverage."""

import math

import numpy as np
import pytest

import alignsim as a
from alignsim import regularisers as reg

# ----------------------------------------------------------------------------------------------------------------
# DPO under partial coverage (spec 5.6; V24)
# ----------------------------------------------------------------------------------------------------------------
DPO_Q, DPO_DATA = [0.45, 0.05, 0.5], [(1, 0, 3), (0, 1, 1)]


def test_v24_dpo_solution_set():
    sol = reg.dpo_solution_set(DPO_Q, DPO_DATA, 1.0)
    assert sol.uncovered.tolist() == [False, False, True]
    assert sol.loss == pytest.approx(2.249340578475, abs=1e-11)
    assert sol.gd_limit == pytest.approx((0.306952389, 0.102317463, 0.590730148), abs=1e-9)
    assert sol.gd_limit[0] / sol.gd_limit[1] == pytest.approx(3.0, rel=1e-12)
    assert sol.min_kl == pytest.approx((0.375, 0.125, 0.5), abs=1e-12)
    assert a.kl(sol.min_kl, DPO_Q) == pytest.approx(0.0461657577, abs=1e-10)
    assert sol.online_rlhf(0.0) == pytest.approx((0.4090909091, 0.1363636364, 0.4545454545), abs=1e-10)
    assert sol.online_rlhf(-2.0) == pytest.approx((0.6739880323, 0.2246626774, 0.1013492903), abs=1e-10)
    r_star = np.array([0.0, math.log(3), -5.0])
    assert sol.gd_limit @ r_star == pytest.approx(-2.8412435, abs=1e-7)
    assert np.dot(DPO_Q, r_star) == pytest.approx(-2.4450694, abs=1e-7)


def test_v24_gradient_descent_reaches_the_predicted_limit():
    q = np.array(DPO_Q)
    theta = np.log(q)
    for _ in range(20_000):  # tabular softmax, plain gradient descent on the DPO loss
        grad = np.zeros(3)
        for w, l, n in DPO_DATA:
            d = (theta[w] - np.log(q[w])) - (theta[l] - np.log(q[l]))
            s = n / (1 + math.exp(d))  # -d/dd n log sigma(d)
            grad[w] -= s
            grad[l] += s
        theta -= 0.05 * grad
    pi = np.exp(theta - theta.max())
    pi /= pi.sum()
    assert pi == pytest.approx(reg.dpo_solution_set(DPO_Q, DPO_DATA, 1.0).gd_limit, abs=1e-9)


def test_every_minimiser_has_the_same_loss():
    sol = reg.dpo_solution_set(DPO_Q, DPO_DATA, 1.0)

    def loss(pi):
        h = np.log(np.asarray(pi) / np.array(DPO_Q))
        return -sum(n * math.log(1 / (1 + math.exp(-(h[w] - h[l])))) for w, l, n in DPO_DATA)

    for pi in (sol.gd_limit, sol.min_kl, sol.online_rlhf(0.0), sol.online_rlhf(-2.0)):
        assert loss(pi) == pytest.approx(sol.loss, abs=1e-10)


def test_separable_data_have_no_dpo_minimiser():
    with pytest.raises(ValueError, match="separable"):
        reg.dpo_solution_set(DPO_Q, [(1, 0, 3)], 1.0)
    with pytest.raises(ValueError, match="triples"):
        reg.dpo_solution_set(DPO_Q, [(1, 0)], 1.0)
    with pytest.raises(ValueError, match="distinct responses"):
        reg.dpo_solution_set(DPO_Q, [(1, 1, 2)], 1.0)
