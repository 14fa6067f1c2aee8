"""Tests of alignsim.bon: best-/worst-of-N laws, KL, mean reward, win rate."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alignsim as a

from .. import oracle
from ..strategies import laws

RTOL12 = 1e-11


# ------------------------------------------------------------------------------------------------ known values
def test_vc10_ties():
    p, r = [0.5, 0.3, 0.2], [1, 1, 2]
    assert a.bon_kl(p, r, 4) == pytest.approx(0.364899112283, rel=RTOL12)
    assert a.bon_mean_reward(p, r, 4) == pytest.approx(1.5904, rel=1e-14)
    assert a.bon_win_rate(p, r, 4) == pytest.approx(0.6952, rel=1e-14)
    assert a.bon_kl(p, r, 4, ties="ordered") == pytest.approx(0.559750560357, rel=RTOL12)
    assert a.bon_kl_bound(4) == pytest.approx(0.63629436112, rel=RTOL12)
    # the tie rule changes the law but not reward or win rate
    ordered = a.bon_law(p, r, 4, ties="ordered")
    assert np.dot(ordered, r) == pytest.approx(1.5904, rel=1e-14)
    assert a.win_rate(ordered, p, r) == pytest.approx(0.6952, rel=1e-14)


@pytest.mark.parametrize("N, d, w", [
    (2, 0.130812035941, 0.625), (4, 0.459355521853, 0.71875), (8, 0.667587720516, 0.748046875),
    (16, 0.692962696501, 0.749992370605), (64, 0.69314718056, 0.75),
])
def test_vc11_two_equiprobable(N, d, w):
    p, r = [0.5, 0.5], [0, 1]
    np.testing.assert_allclose(a.bon_law(p, r, N), [2.0 ** -N, 1 - 2.0 ** -N], rtol=1e-14)
    assert a.bon_kl(p, r, N) == pytest.approx(d, rel=RTOL12)
    assert a.bon_win_rate(p, r, N) == pytest.approx(w, rel=RTOL12)


@pytest.mark.parametrize("N, d, formula, est, w", [
    (2, 0.189318194856, 0.19314718056, 0.193059436943, 0.665),
    (4, 0.628825136378, 0.63629436112, 0.634870280907, 0.79667),
    (8, 1.17748620551, 1.20444154168, 1.19177839751, 0.882268667),
    (16, 1.73306322935, 1.83508872224, 1.75614190789, 0.92829293868),
    (32, 2.14924886886, 2.4969859028, 2.1633695824, 0.946485975608),
    (64, 2.29345120186, 3.17450808336, 2.29460879761, 0.949882035371),
    (128, 2.30256495602, 3.85984276392, 2.30256726721, 0.949999860992),
])
def test_vc12_uniform_ten(N, d, formula, est, w):
    p, r = np.full(10, 0.1), np.arange(10.0)
    assert a.bon_kl(p, r, N) == pytest.approx(d, rel=RTOL12)
    assert a.bon_kl_bound(N) == pytest.approx(formula, rel=RTOL12)
    assert a.bon_kl_estimator(0.1, N) == pytest.approx(est, rel=RTOL12)
    # VC12 prints W to at most 12 significant digits (0.79667 is the exact 0.796670)
    assert a.bon_win_rate(p, r, N) == pytest.approx(w, rel=RTOL12)


@pytest.mark.parametrize("N, d", [
    (10, 1.361138646), (100, 2.315342775), (1000, 2.645734307), (10 ** 4, 6.011475602), (10 ** 5, 9.20952775),
    (10 ** 6, 9.210340372),
])
def test_vc21_cherry_picked(N, d):
    eps = 1e-4
    p = np.r_[np.full(10, (1 - eps) / 10), eps]
    r = np.arange(11.0)
    assert a.bon_kl(p, r, N) == pytest.approx(d, abs=5e-9)
    assert a.bon_kl(p, r, N) <= a.bon_kl_top_bound(p, r, N) <= -math.log(eps) + 1e-12


@pytest.mark.parametrize("N, lam, d", [(2, 0.887303195001, 0.0958496855117), (4, 1.99942920284, 0.449341419419),
                                      (16, 6.55076813595, 1.1788738546)])
def test_vc23_binary_bon_is_tilt(N, lam, d):
    p, r = [0.7, 0.3], [0, 1]
    assert a.bon_kl(p, r, N) == pytest.approx(d, rel=RTOL12)
    assert a.lambda_for_kl(p, r, d) == pytest.approx(lam, rel=1e-10)
    np.testing.assert_allclose(a.bon_law(p, r, N), a.tilt(p, r, 1 / lam), rtol=1e-10)
    if N == 4:
        np.testing.assert_allclose(a.bon_law(p, r, 4), [0.2401, 0.7599], rtol=1e-14)


def test_vc24_float64_stability_uniform_1e4():
    p, r = np.full(10 ** 4, 1e-4), np.arange(1e4)
    assert a.bon_kl(p, r, 10 ** 6) == pytest.approx(9.21034037197618, rel=1e-14)
    assert a.bon_law(p, r, 10 ** 6).sum() == pytest.approx(1.0, abs=1e-14)


def test_known_values_public_toy_scripts():
    np.testing.assert_allclose(a.bon_law([1 / 2, 1 / 3, 1 / 6], [0, 1, 2], 2), [0.25, 0.4444444444, 0.3055555556],
                               atol=5e-11)
    assert a.bon_kl([1 / 2, 1 / 3, 1 / 6], [0, 1, 2], 2) == pytest.approx(0.1397800659, abs=5e-11)
    np.testing.assert_allclose(a.bon_law([0.2, 0.3, 0.5], [0, 1, 1], 4), [0.0016, 0.3744, 0.624], rtol=1e-13)
    assert a.bon_kl([0.2, 0.3, 0.5], [0, 1, 1], 4) == pytest.approx(0.2134625003, abs=5e-11)
    for K, d2, d16 in [(10, 0.189318, 1.733063), (100, 0.193090, 1.834018), (1000, 0.193146, 1.835078)]:
        p, r = np.full(K, 1 / K), np.arange(float(K))
        assert a.bon_kl(p, r, 2) == pytest.approx(d2, abs=5e-7)
        assert a.bon_kl(p, r, 16) == pytest.approx(d16, abs=5e-7)


def test_worst_of_n_and_huge_n():
    np.testing.assert_allclose(a.won_law([0.5, 0.5], [0, 1], 3), [7 / 8, 1 / 8], rtol=1e-14)
    lv, g = a.won_law([0.2, 0.3, 0.5], [2, 0, 2], 2, levels=True)
    np.testing.assert_allclose(lv, [0, 2])
    np.testing.assert_allclose(g, [1 - 0.7 ** 2, 0.7 ** 2], rtol=1e-14)
    # N far beyond float range, as an int, and as a float near 1e300
    assert a.bon_kl([0.7, 0.3], [0, 1], 10 ** 1000) == pytest.approx(-math.log(0.3), rel=1e-15)
    assert a.bon_kl_bound(10 ** 1000) == pytest.approx(1000 * math.log(10) - 1, rel=1e-15)
    np.testing.assert_allclose(a.bon_law([0.7, 0.3], [0, 1], 1e300), [0.0, 1.0])


# --------------------------------------------------------------------------------------------- mpmath oracle
@settings(deadline=None)
@given(laws(max_size=7, zeros=True), st.integers(1, 300))
def test_bon_kl_matches_mpmath(law, N):
    p, r = law
    assert a.bon_kl(p, r, N) == pytest.approx(float(oracle.bon_kl(p, r, N)), rel=1e-11, abs=1e-14)


@settings(deadline=None)
@given(laws(max_size=5, zeros=True), st.integers(1, 6))
def test_bon_law_matches_enumeration_of_draws(law, N):
    p, r = law
    # brute force: all N-tuples of outcomes, uniform tie-break among maximisers
    ref = np.zeros(p.size)
    for seq in itertools.product(range(p.size), repeat=N):
        pr = np.prod(p[list(seq)])
        if pr == 0:
            continue
        best = max(r[i] for i in seq)
        winners = [i for i in seq if r[i] == best]
        for i in winners:
            ref[i] += pr / len(winners)
    np.testing.assert_allclose(a.bon_law(p, r, N), ref, rtol=1e-11, atol=1e-15)


@settings(deadline=None)
@given(laws(max_size=8, zeros=True), st.integers(1, 500))
def test_bon_kl_nondecreasing_in_n(law, N):
    p, r = law
    assert a.bon_kl(p, r, N) <= a.bon_kl(p, r, N + 1) + 1e-12
    assert a.bon_mean_reward(p, r, N) <= a.bon_mean_reward(p, r, N + 1) + 1e-12


@settings(deadline=None)
@given(laws(max_size=8, zeros=True), st.integers(1, 100))
def test_won_is_bon_of_negated_reward(law, N):
    p, r = law
    np.testing.assert_array_equal(a.won_law(p, r, N), a.bon_law(p, -r, N))
    assert a.won_kl(p, r, N) == a.bon_kl(p, -r, N)
    # reflection of win rates: W_r(WoN) = 1 - W_{-r}(BoN of -r)
    assert a.win_rate(a.won_law(p, r, N), p, r) == pytest.approx(1 - a.bon_win_rate(p, -r, N), abs=1e-13)


@settings(deadline=None)
@given(laws(max_size=6), st.data())
def test_win_rate_identities(law, data):
    p, r = law
    w = np.array(data.draw(st.lists(st.floats(1e-3, 1), min_size=p.size, max_size=p.size)))
    pi = w / w.sum()
    assert a.win_rate(p, p, r) == pytest.approx(0.5, abs=1e-14)
    assert a.win_rate(pi, p, r) + a.win_rate(p, pi, r) == pytest.approx(1.0, abs=1e-14)
    c = a.calibrated_reward(p, r)
    assert np.all((c >= 0) & (c <= 1))
    # invariance under maps of r that are strictly increasing on floats (exp would merge nearby floats)
    np.testing.assert_allclose(a.calibrated_reward(p, 2.0 * r), c, rtol=1e-15)
    squashed = np.arctan(r)
    if np.unique(squashed).size == np.unique(r).size:  # arctan may merge rewards that differ in the last bits
        np.testing.assert_allclose(a.calibrated_reward(p, squashed), c, rtol=1e-15)


@pytest.mark.parametrize("N", [2, 8, 32, 1000])
def test_conjecture_4_4_estimator_mean_upper_bounds_kl_empirically(N):
    """Beirami et al.'s Conjecture 4.4 (not a theorem): checked on the spec's VC22 cases and random laws."""
    rng = np.random.default_rng(N)
    cases = [(np.r_[np.full(10, (1 - 1e-4) / 10), 1e-4], np.arange(11.0)),
             (np.array([0.4, 0.3, 0.2, 0.1]), np.arange(4.0)), (np.array([0.1, 0.2, 0.3, 0.4]), np.arange(4.0))]
    cases += [(rng.dirichlet(np.ones(6)), rng.normal(size=6)) for _ in range(20)]
    for p, r in cases:
        g = a.bon_law(p, r, N)
        est = float(np.dot(g, a.bon_kl_estimator(p, N)))
        assert est >= a.bon_kl(p, r, N) - 1e-12


def test_vc22_plug_in_estimator_values():
    p = np.r_[np.full(10, (1 - 1e-4) / 10), 1e-4]
    r = np.arange(11.0)
    est = lambda p, r, N: float(np.dot(a.bon_law(p, r, N), a.bon_kl_estimator(p, N)))  # noqa: E731
    assert est(p, r, 32) == pytest.approx(2.164494421, abs=5e-9)
    assert a.bon_kl(p, r, 32) == pytest.approx(2.150359903, abs=5e-9)
    assert est(np.array([0.4, 0.3, 0.2, 0.1]), np.arange(4.0), 8) == pytest.approx(1.156552596, abs=5e-9)
    assert a.bon_kl([0.4, 0.3, 0.2, 0.1], np.arange(4.0), 8) == pytest.approx(1.124108145, abs=5e-9)


# --------------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("N", [0, 0.5, -3, float("nan"), float("inf")])
def test_bad_n_raises(N):
    with pytest.raises(ValueError, match="N"):
        a.bon_law([0.5, 0.5], [0, 1], N)


def test_validation():
    with pytest.raises(TypeError, match="N"):
        a.bon_kl([0.5, 0.5], [0, 1], "4")
    with pytest.raises(ValueError, match="ties"):
        a.bon_law([0.5, 0.5], [0, 1], 4, ties="first")
    with pytest.raises(ValueError, match="eps"):
        a.bon_kl_estimator(0.0, 4)
    with pytest.raises(ValueError, match="threshold"):
        a.rewind_repeat([0.5, 0.5], [0, 1], 2)
    with pytest.raises(ValueError, match="r must be finite"):
        a.bon_law([0.5, 0.5], [0, np.nan], 2)
    with pytest.raises(ValueError, match="same shape"):
        a.win_rate([0.5, 0.5], [0.2, 0.3, 0.5], [0, 1, 2])
    with pytest.raises(ValueError, match="beta"):
        a.soft_bon_law([0.5, 0.5], [0, 1], 3, 0.0)


def test_the_laws_and_their_summaries_are_vectorised_over_N():
    ref, r = [0.5, 0.3, 0.2], [1.0, 1.0, 2.0]
    Ns = [1, 4, 10 ** 400]
    for f in (a.bon_kl, a.won_kl, a.bon_mean_reward, a.bon_win_rate):
        got = f(ref, r, Ns)
        assert got.shape == (3,)
        np.testing.assert_array_equal(got, [f(ref, r, n) for n in Ns])
    laws = a.bon_law(ref, r, np.array([[2, 3], [4, 5]]))
    assert laws.shape == (2, 2, 3)
    np.testing.assert_array_equal(laws[1, 0], a.bon_law(ref, r, 4))
    lv, probs = a.won_law(ref, r, [2, 4], levels=True)
    np.testing.assert_array_equal(probs[1], a.won_law(ref, r, 4, levels=True)[1])
    with pytest.raises(ValueError, match="N must be >= 1"):
        a.bon_kl(ref, r, [2, 0])
    with pytest.raises(ValueError, match="N must not be empty"):
        a.bon_kl(ref, r, [])
