"""Tests of alignsim.bon: bounds and estimators."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alignsim as a

from ..strategies import laws, prob_vectors

RTOL12 = 1e-11


@pytest.mark.parametrize("eps, N, value", [
    (0.5, 2, 0.179098831081), (0.1, 4, 0.634870280907), (0.01, 16, 1.83494815321), (1e-4, 100, 3.61517014535),
])
def test_vc13_estimator(eps, N, value):
    assert a.bon_kl_estimator(eps, N) == pytest.approx(value, rel=RTOL12)


def test_estimator_limits_and_vectorised():
    assert a.bon_kl_estimator(1.0, 7) == 0.0
    assert a.bon_kl_estimator(1e-300, 50) == pytest.approx(a.bon_kl_bound(50), rel=1e-14)
    vals = a.bon_kl_estimator(np.array([0.5, 0.1]), 4)
    assert vals.shape == (2,) and vals[1] == pytest.approx(0.634870280907, rel=RTOL12)


@pytest.mark.parametrize("N, kl, c, w_opt, w_rr", [
    (2, 0.1931471806, 2.288640586, 0.6759068193, 0.5878196823),
    (4, 0.6362943611, 4.916907932, 0.8039958879, 0.7353749979),
    (8, 1.204441542, 9.054541421, 0.8896750565, 0.8500702941),
    (16, 1.835088722, 17.03189903, 0.9412866812, 0.9202003294),
    (64, 3.174508083, 65.00785335, 0.9846172432, 0.9790926658),
    (1000, 5.908755279, 1001.0005, 0.9990009995, 0.9986422175),
])
def test_vc15_atomless_benchmarks(N, kl, c, w_opt, w_rr):
    assert a.bon_kl_bound(N) == pytest.approx(kl, abs=5e-10)
    assert a.bon_win_rate_bound(N) == pytest.approx(N / (N + 1), rel=1e-15)
    cc = a.winrate_tilt_for_kl(a.bon_kl_bound(N))
    assert cc == pytest.approx(c, abs=5e-9 * max(1, c))
    d, w = a.winrate_tilt(cc)
    assert d == pytest.approx(a.bon_kl_bound(N), rel=1e-13)
    assert w == pytest.approx(w_opt, abs=5e-11)
    assert a.rewind_repeat_atomless(math.exp(-kl))[1] == pytest.approx(w_rr, abs=5e-10)


# ----------------------------------------------------------------------------------------- spec section 6 props
@settings(deadline=None)
@given(laws(max_size=8, zeros=True), st.integers(1, 10 ** 6))
def test_bon_properties(law, N):
    p, r = law
    g = a.bon_law(p, r, N)
    assert g.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(g[p == 0] == 0)
    d = a.bon_kl(p, r, N)
    assert d <= a.bon_kl_bound(N) + 1e-12
    assert d <= a.bon_kl_top_bound(p, r, N) + 1e-12
    assert d <= a.bon_kl(p, r, N, ties="ordered") + 1e-12
    assert a.bon_kl_bound(N) - d <= a.bon_kl_gap_bound(p, r, N) + 1e-12
    w = a.bon_win_rate(p, r, N)
    assert w <= a.bon_win_rate_bound(N) + 1e-12
    assert a.bon_win_rate_bound(N) - w <= a.bon_win_rate_gap_bound(p, r, N) + 1e-12
    # the frontier dominates best-of-N at the same KL (Y-T1 consequence)
    if 0 < d < a.max_kl(p, r):
        assert a.bon_mean_reward(p, r, N) <= a.optimal_reward(p, r, d) + 1e-9


@settings(deadline=None)
@given(prob_vectors(max_size=6), st.floats(1e-3, 0.999))
def test_estimator_bounded_by_formula(p, eps):
    for N in [2, 10, 1000]:
        v = a.bon_kl_estimator(eps, N)
        assert -1e-15 <= v <= a.bon_kl_bound(N) + 1e-12
