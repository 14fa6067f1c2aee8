"""The shared-policy RLVR trajectory against dynamics.grpo_expected_update (independent code) and finite
differences of the KL penalty; pass@1 rises while pass@16 falls below the reference."""

import numpy as np
import pytest

from alignsim import rlvr
from alignsim.divergences import kl
from alignsim.dynamics import grpo_expected_update

SETS = [[0], [0], [0], [1], [2], [3]]
THETA = np.array([0.2, -0.1, 0.0, 0.3])


def _softmax(t):
    z = np.exp(t - t.max())
    return z / z.sum()


def test_one_step_is_the_mean_of_dynamics_grpo_updates_minus_the_kl_gradient():
    eta, beta = 0.3, 0.1
    pi = _softmax(THETA)
    expected = np.mean([grpo_expected_update(pi, np.isin(np.arange(4), c).astype(float), 8) for c in SETS], axis=0)
    # the KL term is zero at the reference: take a second step and compare its KL part by finite differences
    df = rlvr.prompt_set_trajectory(THETA, SETS, G=8, steps=1, eta=eta, ks=(1,), kl_coef=beta)
    theta1 = THETA + eta * expected
    assert df["pass@1"].iloc[1] == pytest.approx(np.mean([_softmax(theta1)[c].sum() for c in SETS]), rel=1e-12)

    ref = _softmax(THETA)
    h = 1e-6
    grad = np.array([(kl(_softmax(theta1 + h * e), ref) - kl(_softmax(theta1 - h * e), ref)) / (2 * h)
                     for e in np.eye(4)])
    pi1 = _softmax(theta1)
    expected2 = np.mean([grpo_expected_update(pi1, np.isin(np.arange(4), c).astype(float), 8) for c in SETS], axis=0)
    theta2 = theta1 + eta * (expected2 - beta * grad)
    df2 = rlvr.prompt_set_trajectory(THETA, SETS, G=8, steps=2, eta=eta, ks=(1,), kl_coef=beta)
    assert df2["kl_ref"].iloc[2] == pytest.approx(kl(_softmax(theta2), ref), rel=1e-8)


def test_pass_at_1_rises_while_pass_at_16_falls_below_the_reference_and_kl_slows_it():
    free = rlvr.prompt_set_trajectory([0.0] * 4, SETS, steps=300, ks=(1, 16), every=50)
    held = rlvr.prompt_set_trajectory([0.0] * 4, SETS, steps=300, ks=(1, 16), every=50, kl_coef=0.2)
    assert np.all(np.diff(free["pass@1"]) > 0)
    assert free["pass@16"].iloc[-1] < 0.6 < free["pass@16"].iloc[0]
    assert held["pass@16"].iloc[-1] > free["pass@16"].iloc[-1] and held["kl_ref"].iloc[-1] < free["kl_ref"].iloc[-1]
    assert free.loc[0, "pass@1"] == pytest.approx(0.25) and free.loc[0, "kl_ref"] == 0.0


@pytest.mark.parametrize("call, match", [
    (lambda: rlvr.prompt_set_trajectory([0.0, 0.0], [[2]]), "correct_sets"),
    (lambda: rlvr.prompt_set_trajectory([0.0, 0.0], []), "correct_sets"),
    (lambda: rlvr.prompt_set_trajectory([0.0, 0.0], [[0]], eta=0.0), "eta"),
    (lambda: rlvr.prompt_set_trajectory([0.0, 0.0], [[0]], G=1), "G"),
    (lambda: rlvr.prompt_set_trajectory([0.0, 0.0], [[0]], kl_coef=-1.0), "kl_coef"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_pass_at_k_training_keeps_pass_at_16():
    """Training on pass@4 advantages (the analytic subset advantage) raises pass@1 without the collapse."""
    df = rlvr.prompt_set_trajectory([0.0] * 4, SETS, steps=300, ks=(1, 16), estimator="pass_at_k", k=4, every=300)
    assert df["pass@1"].iloc[-1] > 0.3 and df["pass@16"].iloc[-1] > 0.95
