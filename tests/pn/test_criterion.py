"""Tests of alignsim.pn: the p-n criterion."""

import math

import numpy as np
import pytest

from alignsim import pn

QUAD = pn.FiniteExpFamily(np.column_stack([np.arange(5), np.arange(5) ** 2]))


def test_tilt_family_is_the_alignment_optimum():
    fam = pn.tilt_family([0.25] * 4, [0, 1, 2, 3])
    assert pn.risk_coefficients(fam, [0.5, 0.1, 0.1, 0.3]) == pytest.approx((0.7401, 1.2259), abs=6e-5)
    import alignsim as a

    lam = float(pn.info_projection(fam, [0.5, 0.1, 0.1, 0.3])[0])
    assert lam < 0  # the projected policy has a lower mean reward (1.2) than the reference (1.5)
    assert a.tilt([0.25] * 4, [0, -1, -2, -3], -1 / lam) == pytest.approx(fam.probs([lam]), abs=1e-14)
    assert fam.probs([lam]) @ np.arange(4) == pytest.approx(1.2, abs=1e-12)


# ----------------------------------------------------------------------------------------------------------------
# Criterion (spec section 3 and case 14)
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p, n, eps, accept, n_min", [
    (1, 100, 0.05, True, 25), (10, 1000, 0.05, True, 250), (10, 1000, 0.02, False, 1563),
    (44, 4177, 0.05, True, 1100), (44, 4177, 0.02, False, 6875), (77, 1599, 0.05, False, 1925),
    (77, 4898, 0.05, True, 1925), (77, 4898, 0.03, False, 5348), (20, 20000, 0.01, True, 12500),
    (100, 100000, 0.005, False, 250000)])
def test_case14_decisions(p, n, eps, accept, n_min):
    out = pn.pn_criterion(n, eps, c1=p / 2)
    assert out["accept"] is accept
    assert out["n_required"] == n_min
    assert out["risk"] == pytest.approx(p / (2 * n))
    assert out["p_max"] == math.floor(16 * eps * eps * n + 1e-9)


def test_second_order_term_raises_the_required_sample_size():
    first = pn.pn_criterion(1599, 0.02, c1=10.48)
    second = pn.pn_criterion(1599, 0.02, c1=10.48, c2=125.0)
    assert second["n_required"] > first["n_required"]
    n = second["n_required"]
    assert pn.risk_expansion(n, 10.48, 125.0) <= 0.0032 < pn.risk_expansion(n - 1, 10.48, 125.0)


@pytest.mark.parametrize("eps, bound, tau", [(0.05, "pinsker", 0.02), (0.05, "bretagnolle_huber", -math.log(0.99)),
                                             (0.1, "pinsker", 0.08)])
def test_thresholds(eps, bound, tau):
    assert pn.kl_threshold(eps, bound) == pytest.approx(tau, rel=1e-12)


def test_gaussian_shift_threshold_is_about_4_pi_eps_squared():
    assert pn.kl_threshold(0.01, "gaussian_shift") == pytest.approx(4 * math.pi * 1e-4, rel=1e-3)


def test_estimated_coefficients_approach_the_population_values():
    rng = np.random.default_rng(5)
    g = np.array([0.3, 0.05, 0.25, 0.1, 0.3])
    x = rng.choice(5, size=200_000, p=g)
    c1, c2 = pn.estimate_coefficients(x, QUAD)
    t1, t2 = pn.risk_coefficients(QUAD, g)
    assert c1 == pytest.approx(t1, rel=0.01) and c2 == pytest.approx(t2, rel=0.05)
