"""Tests of alignsim.infalign: the continuous model in calibrated units."""

import math

import numpy as np
import pytest
from scipy.stats import norm

import alignsim as a
from alignsim import infalign as ia

SMALL = 2 ** 12  # a coarser grid where the test only needs 1e-7


# ----------------------------------------------------------------------------------------------------------------
# Spec section 5 verification cases
# ----------------------------------------------------------------------------------------------------------------
def _rates(pol, N=4):
    return pol.kl, pol.win_rate(), pol.win_rate("bon", N), pol.win_rate("won", N)


def test_vc1_uniform_policy_is_the_reference():
    pol = ia.UniformCTRL(lambda u: np.zeros_like(u), beta=1.0)
    assert _rates(pol) == pytest.approx((0.0, 0.5, 0.5, 0.5), abs=1e-13)


@pytest.mark.parametrize("N, kl, wr", [(2, 0.193147181, 2 / 3), (4, 0.636294361, 0.8), (8, 1.204441542, 8 / 9),
                                       (32, 2.496985903, 32 / 33)])
def test_vc2_log_transform_is_bon_of_the_reference(N, kl, wr):
    pol = ia.UniformCTRL("log", beta=1.0 / (N - 1))
    assert pol.kl == pytest.approx(kl, abs=1e-9)
    assert pol.win_rate() == pytest.approx(wr, abs=1e-12)
    assert pol.kl == pytest.approx(a.bon_kl_bound(N), abs=1e-12)


@pytest.mark.parametrize("M, N", [(2, 4), (4, 4), (4, 32), (3, 7)])
def test_vc3_bon_win_rate_of_beta_m_1_is_independent_of_n(M, N):
    assert ia.UniformCTRL("log", beta=1.0 / (M - 1)).win_rate("bon", N) == pytest.approx(M / (M + 1), abs=1e-12)


@pytest.mark.parametrize("M, N, value", [(2, 4, 397 / 495), (4, 4, 1540613 / 1616615), (2, 2, 11 / 15)])
def test_vc4_won_win_rate_of_beta_laws_is_rational(M, N, value):
    assert ia.UniformCTRL("log", beta=1.0 / (M - 1)).win_rate("won", N) == pytest.approx(value, abs=1e-12)


def test_vc11_matched_kl_identity_and_log():
    ident = ia.UniformCTRL("identity", kl=0.5)
    assert ident.beta == pytest.approx(0.242807959, abs=1e-9)
    assert _rates(ident)[1:] == pytest.approx((0.773730312, 0.799826874, 0.885988782), abs=1e-9)
    lg = ia.UniformCTRL("log", kl=0.5)
    assert lg.beta == pytest.approx(0.432068874, abs=1e-9)
    assert 1 / lg.beta + 1 == pytest.approx(3.314445824, abs=1e-8)
    assert _rates(lg)[1:] == pytest.approx((0.768220522, 0.768220522, 0.927046334), abs=1e-9)


@pytest.mark.parametrize("t, paper_beta, stable_beta, bon4", [(10.0, 7011.907, 0.318340, 0.871512817),
                                                              (12.63, 94850.45, 0.310385, 0.872708886)])
def test_vc12_exp_transform_at_matched_kl(t, paper_beta, stable_beta, bon4):
    pol = ia.UniformCTRL(ia.exp_transform(t), kl=0.5)
    assert pol.beta == pytest.approx(stable_beta, abs=1e-6)
    assert pol.beta * math.exp(pol.transform.log_scale) == pytest.approx(paper_beta, rel=1e-7)
    assert pol.win_rate("bon", 4) == pytest.approx(bon4, abs=1e-9)
    assert ia.ctrl_beta_for_kl(ia.exp_transform(t), 0.5) == pytest.approx(pol.beta, rel=1e-12)


@pytest.mark.parametrize("N, lam, wr", [(2, 2.288640586, 0.6759068193), (4, 4.916907932, 0.8039958879),
                                        (32, 33.01578904, 0.9697114614)])
def test_vc17_identity_tilt_at_the_bon_kl(N, lam, wr):
    pol = ia.UniformCTRL("identity", kl=a.bon_kl_bound(N))
    assert 1 / pol.beta == pytest.approx(lam, rel=1e-9)
    assert pol.win_rate() == pytest.approx(wr, abs=1e-10)
    assert pol.win_rate() > N / (N + 1)


def test_vc19_first_iterate_from_the_reference():
    pol = ia.UniformCTRL(lambda u: np.zeros_like(u), beta=1.0)
    u = pol.u
    assert np.max(np.abs(pol.transformed_reward("bon", 4) - 16 * u ** 7 / 7)) < 1e-13
    assert np.max(np.abs(pol.transformed_reward("won", 4) - 16 / 7 * (1 - (1 - u) ** 7))) < 1e-13


def test_vc21_raw_gaussian_reward_is_the_quantile_transform():
    pol = ia.UniformCTRL(ia.quantile(norm.ppf), kl=0.5)
    assert pol.beta == pytest.approx(1.0, abs=1e-7)  # mean shift delta = 1/beta with KL delta^2 / 2
    assert pol.win_rate() == pytest.approx(norm.cdf(math.sqrt(0.5)), abs=1e-9)
    assert pol.win_rate() == pytest.approx(0.760249939, abs=1e-9)
    assert pol.win_rate("bon", 4) == pytest.approx(0.845046244, abs=1e-8)
    assert pol.win_rate("won", 4) == pytest.approx(0.845046244, abs=1e-8)


def test_vc22_reflection():
    p = ia.UniformCTRL(ia.exp_transform(1.0), beta=math.exp(-1.0))
    # the reflected density p(1 - u) is the tilt by Phi(1 - u) = e^{-u} (a decreasing transform) at the same beta
    q = ia.UniformCTRL(lambda u: np.exp(-u), beta=math.exp(-1.0))
    assert p.win_rate("won", 4) == pytest.approx(0.682812469, abs=1e-9)
    assert p.win_rate("won", 4) == pytest.approx(1 - q.win_rate("bon", 4), abs=1e-12)
    assert q.kl == pytest.approx(p.kl, abs=1e-13)
    assert p.kl == pytest.approx(0.125613479, abs=1e-9)


def test_kl_is_monotone_in_beta_in_the_continuous_model():
    kls = [ia.UniformCTRL(ia.exp_transform(5.0), beta=b, intervals=SMALL).kl for b in np.geomspace(1e-3, 10, 25)]
    assert np.all(np.diff(kls) < 0)


def test_one_calibration_sample_gives_the_identity_transform():
    one = ia.UniformCTRL(ia.smoothed(ia.exp_transform(12.63), 1), kl=0.5, intervals=SMALL)
    assert one.win_rate("bon", 4) == pytest.approx(ia.UniformCTRL("identity", kl=0.5, intervals=SMALL).win_rate(
        "bon", 4), abs=1e-12)


@pytest.mark.parametrize("n", [3, 4, 11, 12, 1025, 16385])
def test_compiled_cumulative_simpson_is_scipys_to_the_last_bit(n):
    from scipy.integrate import cumulative_simpson

    from alignsim._simpson import cumulative_simpson_uniform

    y = np.random.default_rng(n).normal(size=n)
    h = 1.0 / (n - 1)
    assert np.array_equal(cumulative_simpson_uniform(y, h), cumulative_simpson(y, dx=h, initial=0.0))
