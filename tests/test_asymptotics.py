"""Asymptotics: spec VC4-VC8, VC14, VC16, VC17, VC20 and the rates table as known values; properties; validation."""

import math
import time

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import alignsim as a

from .strategies import laws, nonconstant

BERN = ([0.7, 0.3], [0.0, 1.0])
TERN = ([0.5, 0.3, 0.2], [-1.0, 0.0, 2.0])
RTOL12 = 1e-11


@pytest.mark.parametrize("x, i0, il", [
    (0, 0.356674943939, 0.722841981431), (0.1, 0.116321756586, 0.391905689), (0.3, 0.0, 0.0944177222579),
    (0.5, 0.0871766935724, 0.000428205673711), (0.514629121059, 0.1, 0.0), (0.7, 0.338919144155, 0.0710044460997),
    (0.9, 0.794160044896, 0.345079136684), (1, 1.20397280433, 0.664308791036),
])
def test_vc4_bernoulli_rate_functions(x, i0, il):
    beta = a.beta_for_kl(*BERN, 0.1)
    assert a.rate_function(*BERN, x) == pytest.approx(i0, rel=RTOL12, abs=1e-12)
    # 0.391905689 is printed to 9 digits in the spec
    assert a.rate_function(*BERN, x, beta=beta) == pytest.approx(il, rel=RTOL12, abs=5e-10 if x == 0.1 else 1e-12)
    q = a.tilt(*BERN, beta)[1]
    assert a.rate_function(*BERN, x, beta=beta) == pytest.approx(a.binary_kl(x, q), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("x, i0, il", [
    (-1, 0.69314718056, 1.41855934475), (-0.5, 0.0726835591518, 0.522518934883), (0, 0.00376876785035, 0.17802735512),
    (0.5, 0.122846977627, 0.0215287764342), (1, 0.39304258811, 0.0161475984547), (1.5, 0.829720337824, 0.177248559708),
    (2, 1.60943791243, 0.681389345855),
])
def test_vc5_ternary_rate_functions(x, i0, il):
    beta = a.beta_for_kl(*TERN, 0.25)
    assert a.rate_function(*TERN, x) == pytest.approx(i0, rel=RTOL12)
    assert a.rate_function(*TERN, x, beta=beta) == pytest.approx(il, rel=RTOL12)


def test_vc5_key_identity():
    assert a.rate_function(*TERN, 0.769764735334) == pytest.approx(0.25, rel=1e-11)
    assert a.rate_function(*TERN, a.optimal_reward(*TERN, 0.25)) == pytest.approx(0.25, rel=1e-13)


def test_vc6_scgf_and_renyi_cross_entropy():
    beta = a.beta_for_kl(*TERN, 0.25)
    ts = [-0.5, 0.5, 1.0, 2.0]
    want = [-0.177653239944, 0.57326957852, 1.40592486268, 3.32886791191]
    np.testing.assert_allclose(a.scgf(*TERN, ts, beta=beta), want, rtol=RTOL12)
    np.testing.assert_allclose(a.scgf_renyi(*TERN, ts, beta=beta), want, rtol=RTOL12)
    phi = a.tilt(*TERN, beta)
    qr = np.exp(TERN[1]) / np.exp(TERN[1]).sum()
    np.testing.assert_allclose([a.renyi_cross_entropy(phi, qr, 1 + t) for t in ts],
                               [1.81453953967, 1.02330686252, 0.763921156879, 0.505412063601], rtol=RTOL12)
    assert a.renyi_cross_entropy(phi, qr, 1.0) == pytest.approx(1.40008128422, rel=RTOL12)


def test_vc7_renyi_divergence_form():
    beta = a.beta_for_kl(*TERN, 0.25)
    lam = 1 / beta
    phi = a.tilt(*TERN, beta)
    for t, d_alpha in [(0.5, 0.457660570217), (1.0, 0.600621929682), (-0.25, 0.133545225585)]:
        alpha = 1 + t / lam
        assert a.renyi_divergence(phi, TERN[0], alpha) == pytest.approx(d_alpha, rel=RTOL12)
        rhs = t / lam * (a.log_partition(*TERN, lam) + a.renyi_divergence(phi, TERN[0], alpha))
        assert a.scgf(*TERN, t, beta=beta) == pytest.approx(rhs, rel=1e-12)


@pytest.mark.parametrize("N, d, e, rstar, lam", [
    (2, 0.1458824932, 1.22, 1.319999444, 0.5188903707), (3, 0.342531863, 1.478, 1.62801831, 0.7543695235),
    (8, 0.9215684618, 2.13841022, 2.221216758, 1.209873048), (20, 1.736860189, 2.75684668, 2.764351544, 1.897434158),
    (50, 2.261999719, 2.98969245, 2.989729788, 3.45657682),
])
def test_vc14_bandit_bon_vs_rl_at_matched_kl(N, d, e, rstar, lam):
    p, r = [0.4, 0.3, 0.2, 0.1], [0, 1, 1, 3]
    dd = a.bon_kl(p, r, N)
    assert dd == pytest.approx(d, rel=1e-9)
    assert a.bon_mean_reward(p, r, N) == pytest.approx(e, rel=1e-9)
    assert a.optimal_reward(p, r, dd) == pytest.approx(rstar, rel=1e-9)
    assert a.lambda_for_kl(p, r, dd) == pytest.approx(lam, rel=1e-9)


def test_vc16_vc17_bonbon_and_renyi_bounds():
    np.testing.assert_allclose([a.bonbon_beta(N) for N in (2, 4, 8, 16)],
                               [0.5, 0.0909090909091, 0.0275482093664, 0.0100455192819], rtol=RTOL12)
    assert a.bon_renyi_bound(8, 2.0) == pytest.approx(math.log(64 / 15), rel=1e-14)
    assert a.bon_renyi_bound(8, 0.5) == pytest.approx(0.928713251873, rel=RTOL12)
    assert a.bon_renyi_bound(2, 2.0) == pytest.approx(math.log(4 / 3), rel=1e-14)
    assert a.bon_renyi_bound(16, 3.0) == pytest.approx(2.24456238512, rel=RTOL12)
    assert a.bon_renyi_bound(8, 1.0) == a.bon_kl_bound(8)
    # the bound holds for the exact law
    p, r = np.full(10, 0.1), np.arange(10.0)
    for alpha in [0.5, 2.0, 3.0]:
        assert a.renyi_divergence(a.bon_law(p, r, 8), p, alpha) <= a.bon_renyi_bound(8, alpha) + 1e-12


@pytest.mark.parametrize("n, v", [(10, 0.08832448496), (100, 0.02928053009), (1000, 0.01716892864),
                                  (10_000, 0.01506902961)])
def test_vc20_finite_n_ldp(n, v):
    beta = a.beta_for_kl(*BERN, 0.1)
    assert -a.tail_probability(*BERN, n, 0.6, beta=beta, log=True) / n == pytest.approx(v, abs=5e-11)
    assert a.rate_function(*BERN, 0.6, beta=beta) == pytest.approx(0.01471040018, abs=5e-11)


def test_tail_probability_exact_threshold_comparison():
    # x = 0.6, n = 10: the level 6 must count (10 * 0.6 is 6 up to rounding of 0.6)
    assert a.tail_probability([0.5, 0.5], [0, 1], 10, 0.6) == pytest.approx(386 / 1024, rel=1e-14)
    assert a.tail_probability([0.5, 0.5], [0, 1], 10, 1.1) == 0.0
    assert a.tail_probability([0.5, 0.5], [0, 1], 10, -1.0) == pytest.approx(1.0, rel=1e-15)


def test_bon_vs_rl_acceptance_rates_table():
    t0 = time.perf_counter()
    df = a.bon_vs_rl(*BERN, 0.1, [10, 100, 1000, 10_000])
    assert time.perf_counter() - t0 < 60  # generous guard; the measured time is about 0.3 s
    want_e = [0.3803353859, 0.4928857069, 0.5112583172, 0.51416640757]
    np.testing.assert_allclose(df["bon_reward"], want_e, atol=5e-11)
    np.testing.assert_allclose(df["kl_bon_ref"] * df["n"], [0.18308412, 8.9482615, 98.936032, 1000 - 1.0655361],
                               atol=5e-7)
    np.testing.assert_allclose((df["kl_bon_rl"] * df["n"])[:3], [0.39955847, 0.91784748, 1.9894108], atol=5e-8)
    np.testing.assert_allclose(df["reward_gap"][:3], [1.3429374, 2.1743414, 3.3708038], atol=5e-7)
    # spec: gap - log n / (2 lambda) -> about -0.457; D(BoN||RL) - log(n)/2 -> about -1.479 at n = 1e4
    assert (df["reward_gap"] - df["gap_prediction"]).iloc[-1] == pytest.approx(-0.4568, abs=5e-4)
    assert (df["kl_bon_rl"] * df["n"] - 0.5 * np.log(df["n"])).iloc[-1] == pytest.approx(-1.4793038, abs=5e-7)


def test_vc19_ternary_bon_vs_rl():
    df = a.bon_vs_rl([0.5, 0.3, 0.2], [0, 1, 2], 0.2, [25, 100, 200])
    np.testing.assert_allclose(df["bon_reward"], [1.125816996, 1.182332566, 1.194767267], atol=5e-10)
    np.testing.assert_allclose(df["kl_bon_rl"] * df["n"], [0.63213923, 1.2099995, 1.5314242], atol=5e-8)
    assert df["rl_reward"].iloc[0] == pytest.approx(1.211385505, abs=5e-10)


def test_cumulants_known_and_scaling():
    np.testing.assert_allclose(a.cumulants([0.5, 0.5], [0, 1], 6), [0.5, 0.25, 0, -0.125, 0, 0.25], atol=1e-15)
    # Poisson-like check: kappa_k of Bernoulli(q) from the recursion kappa_{k+1} = q(1-q) d kappa_k / dq
    q = 0.3
    k = a.cumulants([1 - q, q], [0, 1], 4, length=7)
    np.testing.assert_allclose(k / 7, [q, q * (1 - q), q * (1 - q) * (1 - 2 * q), q * (1 - q) * (1 - 6 * q + 6 * q * q)],
                               rtol=1e-13)
    # derivatives of the log-partition by finite differences
    beta = 1.3
    h = 1e-3
    lam = 1 / beta
    L = lambda x: a.log_partition(*TERN, x)  # noqa: E731
    d2 = (L(lam + h) - 2 * L(lam) + L(lam - h)) / h ** 2
    assert a.cumulants(*TERN, 2, beta=beta)[1] == pytest.approx(d2, rel=1e-5)


# ----------------------------------------------------------------------------------------------- properties
@settings(deadline=None)
@given(laws(max_size=5), st.floats(0.1, 5.0), st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3))
def test_rate_function_properties(law, beta, us):
    p, r = law
    assume(nonconstant(p, r))
    rs = r[p > 0]
    lo, hi = rs.min(), rs.max()
    xs = np.sort(lo + np.array(us) * (hi - lo))
    il = a.rate_function(p, r, xs, beta=beta)
    i0 = a.rate_function(p, r, xs)
    assert np.all(il >= 0) and np.all(i0 >= 0)
    lam = 1 / beta
    np.testing.assert_allclose(il, i0 - lam * xs + a.log_partition(p, r, lam), rtol=1e-8, atol=1e-10)
    mean = a.tilt_mean(p, r, beta)
    assert a.rate_function(p, r, mean, beta=beta) == pytest.approx(0.0, abs=1e-12)
    # convexity on the sorted triple
    if xs[2] - xs[0] > 1e-6 * (hi - lo):
        w = (xs[1] - xs[0]) / (xs[2] - xs[0])
        assert il[1] <= (1 - w) * il[0] + w * il[2] + 1e-9
    assert a.rate_function(p, r, hi + 1.0) == math.inf and a.rate_function(p, r, lo - 1.0) == math.inf


@settings(deadline=None)
@given(st.floats(0.05, 0.95), st.floats(0.0, 1.0), st.floats(0.1, 4.0))
def test_binary_closed_form(q, x, beta):
    p, r = [1 - q, q], [0.0, 1.0]
    qq = a.tilt(p, r, beta)[1]
    assert a.rate_function(p, r, x, beta=beta) == pytest.approx(a.binary_kl(x, qq), rel=1e-10, abs=1e-14)


def test_rate_function_near_endpoints_is_continuous():
    p, r = BERN
    for eps in [1e-6, 1e-10, 1e-14]:
        assert a.rate_function(p, r, 1 - eps) == pytest.approx(a.binary_kl(1 - eps, 0.3), rel=1e-9)


def test_validation():
    with pytest.raises(ValueError, match="x"):
        a.rate_function(*BERN, float("nan"))
    with pytest.raises(ValueError, match="beta"):
        a.scgf(*BERN, 1.0, beta=0.0)
    with pytest.raises(ValueError, match="delta"):
        a.bon_vs_rl(*BERN, 2.0, [10])
    with pytest.raises(ValueError, match="order"):
        a.cumulants(*BERN, 0)
    with pytest.raises(ValueError, match="n"):
        a.tail_probability(*BERN, 0, 0.5)
    with pytest.raises(ValueError, match="alpha"):
        a.bon_renyi_bound(4, 0.0)
    with pytest.raises(ValueError, match="N must be >= 2"):
        a.bonbon_beta(1)


def test_tail_probability_below_the_support_is_exactly_one():
    """The summed level masses can round to 1 + 2e-16; a probability must not."""
    for seed in range(50):
        p = np.random.default_rng(seed).dirichlet(np.ones(3))
        assert a.tail_probability(p, [0.0, 1.0, 3.0], 50, -1.0) == 1.0
        assert a.tail_probability(p, [0.0, 1.0, 3.0], 50, [-1.0, 0.5], log=True)[0] == 0.0


def test_tilted_mean_stays_inside_the_reward_range():
    """Found by hypothesis: rounded tilted masses put the mean an ulp above the largest reward (2.0000000000000004),
    and the rate function called that point outside the range (inf instead of ~1e-17)."""
    p = np.array([0.33277869022007794] * 3 + [0.0016639293397662448])
    r = np.array([2.0, -2.0, -2.0, 2.0])
    m = a.tilt_mean(p, r, 0.1015625)
    assert m <= 2.0 and a.rate_function(p, r, m, beta=0.1015625) == pytest.approx(0.0, abs=1e-12)
