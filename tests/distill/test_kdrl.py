"""kdrl_optimum against direct numerical maximisation of the objective and its stationarity condition."""

import numpy as np
import pytest
from scipy.optimize import minimize

from alignsim import distill
from alignsim.divergences import kl

RNG = np.random.default_rng(1)


def _objective(pi, ref, teacher, r, b_ref, b_t):
    return float(pi @ r - b_ref * kl(pi, ref) - b_t * kl(pi, teacher))


@pytest.mark.parametrize("b_ref, b_t", [(0.5, 0.5), (0.1, 1.0), (1.0, 0.05), (0.0, 0.3), (0.4, 0.0)])
def test_closed_form_is_the_maximiser(b_ref, b_t):
    ref, teacher = RNG.dirichlet(np.ones(5)), RNG.dirichlet(np.ones(5))
    r = RNG.normal(size=5)
    opt = distill.kdrl_optimum(ref, teacher, r, b_ref, b_t)

    def neg(theta):
        pi = np.exp(theta - theta.max())
        return -_objective(pi / pi.sum(), ref, teacher, r, b_ref, b_t)

    best = minimize(neg, np.zeros(5), method="BFGS", options={"gtol": 1e-11})
    assert opt.objective == pytest.approx(-best.fun, abs=1e-9)
    assert opt.objective >= -best.fun - 1e-12
    assert opt.objective == pytest.approx(_objective(opt.pi, ref, teacher, r, b_ref, b_t), abs=1e-13)
    # stationarity: r - b_ref log(pi/ref) - b_t log(pi/T) is constant on the support
    g = r - b_ref * np.log(opt.pi / ref) - b_t * np.log(opt.pi / teacher)
    assert np.ptp(g) < 1e-12


def test_ends_are_the_tilts_of_ref_and_of_the_teacher():
    from alignsim.tilting import tilt

    ref, teacher, r = np.array([0.5, 0.3, 0.2]), np.array([0.1, 0.1, 0.8]), np.array([1.0, 0.0, 0.5])
    np.testing.assert_allclose(distill.kdrl_optimum(ref, teacher, r, 0.7, 0.0).pi, tilt(ref, r, 0.7), rtol=1e-14)
    np.testing.assert_allclose(distill.kdrl_optimum(ref, teacher, r, 0.0, 0.7).pi, tilt(teacher, r, 0.7), rtol=1e-14)


@pytest.mark.parametrize("call, match", [
    (lambda: distill.kdrl_optimum([0.5, 0.5], [0.5, 0.5], [0, 1], 0.0, 0.0), "both 0"),
    (lambda: distill.kdrl_optimum([0.5, 0.5], [0.2, 0.3, 0.5], [0, 1], 1.0, 1.0), "teacher"),
    (lambda: distill.kdrl_optimum([0.5, 0.5], [0.5, 0.5], [0, 1], -1.0, 1.0), "beta_ref"),
    (lambda: distill.kdrl_optimum([0.5, 0.5], [0.5, 0.5], [0, 1, 2], 1.0, 1.0), "r"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_frontier_rows_are_the_optima_and_move_towards_the_teacher():
    ref, teacher, r = np.array([0.5, 0.3, 0.2]), np.array([0.1, 0.1, 0.8]), np.array([1.0, 0.0, 0.5])
    df = distill.kdrl_frontier(ref, teacher, r, 0.4, [0.0, 0.1, 1.0, 10.0, 100.0])
    for b_t, row in zip(df["beta_teacher"], df.itertuples()):
        opt = distill.kdrl_optimum(ref, teacher, r, 0.4, b_t)
        assert row.objective == opt.objective and row.kl_teacher == opt.kl_teacher
    assert np.all(np.diff(df["kl_teacher"]) < 0) and np.all(np.diff(df["weight"]) > 0)
    assert df["kl_teacher"].iloc[-1] < 1e-2


def test_grpo_kd_update_is_grpo_minus_the_weighted_kd_gradient():
    from alignsim.dynamics import grpo_expected_update

    theta, r, t = np.array([0.3, -0.2, 0.1, 0.0]), np.array([1.0, 0.0, 0.5, 0.2]), np.array([0.1, 0.2, 0.3, 0.4])
    pi = np.exp(theta) / np.exp(theta).sum()
    base = grpo_expected_update(pi, r, 6)
    for loss, params in (("k1_reward", {}), ("k3_loss", {}), ("gkd_jsd", {"beta": 0.5})):
        kd = distill.expected_gradient(theta, t, loss, **params)
        for c in (0.0, 0.3, 2.0):
            got = distill.grpo_kd_update(theta, r, t, 6, c, kd_loss=loss, **params)
            np.testing.assert_allclose(got, base - c * kd, rtol=1e-13, atol=1e-15)
    with pytest.raises(ValueError, match="kd_coef"):
        distill.grpo_kd_update(theta, r, t, 6, -1.0)
