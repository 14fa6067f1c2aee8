"""Tilting: spec VC1-VC3, VC6, VC8, VC9 as known values; mpmath oracle; hypothesis properties; validation."""

import math

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import alignsim as a

from . import oracle
from .strategies import laws, nonconstant

BERN = ([0.7, 0.3], [0.0, 1.0])
TERN = ([0.5, 0.3, 0.2], [-1.0, 0.0, 2.0])
RTOL12 = 1e-11  # the spec prints 12 significant digits


# ------------------------------------------------------------------------------------------------ known values
@pytest.mark.parametrize("delta, lam, beta, x", [
    (0.01, 0.297975985518, 3.35597514095, 0.366021753509),
    (0.1, 0.905831050783, 1.10395862356, 0.514629121059),
    (0.5, 2.1387560656, 0.467561502727, 0.784393903271),
    (1.0, 4.01159193143, 0.249277597795, 0.959468268041),
    (1.2, 8.64123986729, 0.115724133962, 0.999587945175),
])
def test_vc1_bernoulli(delta, lam, beta, x):
    assert a.lambda_for_kl(*BERN, delta) == pytest.approx(lam, rel=RTOL12)
    assert a.beta_for_kl(*BERN, delta) == pytest.approx(beta, rel=RTOL12)
    assert a.optimal_reward(*BERN, delta) == pytest.approx(x, rel=RTOL12)
    assert a.tilt(*BERN, beta)[1] == pytest.approx(x, rel=1e-10)


def test_vc1_slack_budget_and_dual():
    assert a.max_kl(*BERN) == pytest.approx(1.20397280433, rel=RTOL12)
    assert a.beta_for_kl(*BERN, 1.21) == 0.0
    assert a.lambda_for_kl(*BERN, 1.21) == math.inf
    assert a.optimal_reward(*BERN, 5.0) == 1.0
    lam = a.lambda_for_kl(*BERN, 0.1)
    assert (a.log_partition(*BERN, lam) + 0.1) / lam == pytest.approx(0.514629121059, rel=RTOL12)
    assert a.dual_reward(*BERN, 0.1) == pytest.approx(0.514629121059, rel=1e-9)


def test_acceptance_beta_for_kl_value():
    assert a.beta_for_kl([0.7, 0.3], [0, 1], 0.1) == pytest.approx(1.10395862356, rel=RTOL12)


@pytest.mark.parametrize("delta, lam, phi, mean, var", [
    (0.05, 0.256648586273, (0.3788719581, 0.2938358473, 0.3272921946), 0.275712431167, 1.61202339181),
    (0.25, 0.551153576924, (0.2420624944, 0.2520238907, 0.5059136149), 0.769764735334, 1.67317920617),
    (1.0, 1.25510277804, (0.04907800573, 0.1033052441, 0.8476167502), 1.64615549471, 0.729717093835),
])
def test_vc2_ternary(delta, lam, phi, mean, var):
    assert a.lambda_for_kl(*TERN, delta) == pytest.approx(lam, rel=RTOL12)
    t = a.tilt(*TERN, 1 / lam)
    np.testing.assert_allclose(t, phi, rtol=1e-9)
    assert a.optimal_reward(*TERN, delta) == pytest.approx(mean, rel=RTOL12)
    assert np.dot(t, (np.array(TERN[1]) - mean) ** 2) == pytest.approx(var, rel=1e-10)
    assert a.tilt_kl(*TERN, 1 / lam) == pytest.approx(delta, rel=1e-11)


def test_vc3_zero_probability_and_argmax_ties():
    assert a.max_kl([0.5, 0.5, 0.0], [0, 1, 10]) == pytest.approx(math.log(2), rel=1e-15)
    assert a.max_kl([0.5, 0.3, 0.2], [0, 1, 1]) == pytest.approx(math.log(2), rel=1e-15)
    np.testing.assert_allclose(a.tilt([0.5, 0.3, 0.2], [0, 1, 1], 1e-4), [0.0, 0.6, 0.4], atol=1e-300)
    assert a.tilt([0.5, 0.5, 0.0], [0, 1, 10], 0.01)[2] == 0.0  # never creates mass


def test_vc6_log_partition_and_penalised_value():
    assert a.log_partition(*TERN, 0.5) == pytest.approx(0.137081566896, rel=RTOL12)
    assert a.log_partition(*TERN, 2.0) == pytest.approx(2.42367799152, rel=RTOL12)
    assert a.penalised_value(*TERN, 2.0) == pytest.approx(0.274163133793, rel=RTOL12)
    lam = a.lambda_for_kl(*TERN, 0.25)
    scgf = a.log_partition(*TERN, lam + np.array([-0.5, 0.5, 1.0, 2.0])) - a.log_partition(*TERN, lam)
    np.testing.assert_allclose(scgf, [-0.177653239944, 0.57326957852, 1.40592486268, 3.32886791191], rtol=RTOL12)


@pytest.mark.parametrize("phi, d_phi_p, mean, gap", [
    ((0.4, 0.3, 0.3), 0.0323821119068, 0.2, 0.0964099837912),
    ((0.3, 0.3, 0.4), 0.124011185094, 0.5, 0.0226929839014),
    ((0.5, 0.2, 0.3), 0.0405465108108, 0.1, 0.159689740388),
])
def test_vc8_tradeoff_identity(phi, d_phi_p, mean, gap):
    assert a.kl(phi, TERN[0]) == pytest.approx(d_phi_p, rel=RTOL12)
    assert a.tradeoff_gap(phi, *TERN, 0.25) == pytest.approx(gap, rel=RTOL12)
    opt = a.tilt(*TERN, a.beta_for_kl(*TERN, 0.25))
    assert a.kl(phi, opt) == pytest.approx(gap, rel=RTOL12)


def test_vc9_jeffreys():
    beta = a.beta_for_kl(*TERN, 0.25)
    phi = a.tilt(*TERN, beta)
    gain = np.dot(phi - TERN[0], TERN[1])
    assert gain == pytest.approx(0.869764735334, rel=RTOL12)
    assert gain == pytest.approx((a.kl(phi, TERN[0]) + a.kl(TERN[0], phi)) * beta, rel=1e-12)


def test_frontier_dataframe():
    df = a.kl_reward_frontier(*BERN, [0.0, 0.1, 0.5, 2.0])
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["delta", "beta", "reward", "kl"]
    assert df["beta"].iloc[0] == math.inf and df["reward"].iloc[0] == pytest.approx(0.3)
    assert df["reward"].iloc[1] == pytest.approx(0.514629121059, rel=RTOL12)
    assert df["beta"].iloc[3] == 0.0 and df["kl"].iloc[3] == pytest.approx(a.max_kl(*BERN))


# ------------------------------------------------------------------------------------------ stability & oracle
@pytest.mark.parametrize("beta", [1e-8, 1e-6, 1e-3, 0.1, 1.0, 10.0, 1e3, 1e5, 1e8])
def test_tilt_kl_stable_over_beta_range_with_wide_rewards(beta):
    rng = np.random.default_rng(7)
    for _ in range(5):
        p = rng.dirichlet(np.ones(5))
        r = rng.uniform(-500, 500, 5)  # rewards spanning 1e3
        exact = float(oracle.tilt_kl(p, r, 1 / beta))
        assert a.tilt_kl(p, r, beta) == pytest.approx(exact, rel=1e-13)


def test_tilt_kl_near_one_top_mass():
    p = np.array([1e-6, 1 - 1e-6])
    r = np.array([0.0, 1.0])
    for beta in [1e-3, 1.0, 1e3]:
        assert a.tilt_kl(p, r, beta) == pytest.approx(float(oracle.tilt_kl(p, r, 1 / beta)), rel=1e-13)


def test_tiny_budget_matches_small_lambda_asymptote():
    p, r = np.array(BERN[0]), np.array(BERN[1])
    var = 0.21
    for delta in [1e-10, 1e-14, 1e-18]:
        assert a.lambda_for_kl(p, r, delta) == pytest.approx(math.sqrt(2 * delta / var), rel=1e-3)
        assert a.tilt_kl(p, r, a.beta_for_kl(p, r, delta)) == pytest.approx(delta, rel=1e-12)


@settings(deadline=None)
@given(laws(max_size=6, zeros=True), st.floats(0.02, 0.98))
def test_lambda_matches_mpmath(law, frac):
    p, r = law
    assume(nonconstant(p, r))
    delta = frac * a.max_kl(p, r)
    assume(delta > 1e-6)
    lam = a.lambda_for_kl(p, r, delta)
    assert lam == pytest.approx(float(oracle.lambda_for_kl(p, r, delta)), rel=1e-9)
    assert a.tilt_kl(p, r, 1 / lam) == pytest.approx(delta, rel=1e-11)


# ----------------------------------------------------------------------------------------- spec section 6 props
@settings(deadline=None)
@given(laws(max_size=7, zeros=True), st.lists(st.floats(0.01, 0.99), min_size=3, max_size=3, unique=True))
@example(law=(np.array([0.3, 0.3, 0.1, 0.3]), np.array([0.0, 0.0, 0.0, 1.0])),
         fracs=[0.5, 0.02, 0.01])
def test_frontier_concave_increasing_and_equals_dual(law, fracs):
    p, r = law
    assume(nonconstant(p, r))
    # budgets one ulp apart are ordered by the solvers' rounding (lambda_for_kl is accurate to ~1e-13 relative),
    # not by the frontier: compare budgets that the solvers can tell apart
    assume(np.min(np.diff(np.sort(fracs))) > 1e-9)
    dmax = a.max_kl(p, r)
    d = np.sort(np.array(fracs)) * dmax
    R = [a.optimal_reward(p, r, x) for x in d]
    lams = [a.lambda_for_kl(p, r, x) for x in d]
    assert R[0] <= R[1] <= R[2] <= r[p > 0].max() + 1e-12
    assert lams[0] <= lams[1] <= lams[2]
    # concavity: the chord lies below the curve
    w = (d[1] - d[0]) / (d[2] - d[0])
    assert R[1] >= (1 - w) * R[0] + w * R[2] - 1e-10 * (1 + abs(R[1]))
    assert a.dual_reward(p, r, d[1]) == pytest.approx(R[1], rel=1e-7, abs=1e-9)


@settings(deadline=None)
@given(laws(max_size=6), st.floats(0.05, 0.95), st.data())
def test_y_t1_identity_on_random_policies(law, frac, data):
    p, r = law
    assume(nonconstant(p, r))
    delta = frac * a.max_kl(p, r)
    w = np.array(data.draw(st.lists(st.floats(1e-3, 1), min_size=p.size, max_size=p.size)))
    phi = w / w.sum()
    opt = a.tilt(p, r, a.beta_for_kl(p, r, delta))
    # the identity's right-hand side stays finite where tilt masses underflow below 1e-308 (KL would be inf)
    assume(np.all(opt[p > 0] > 1e-300))
    assert a.tradeoff_gap(phi, p, r, delta) == pytest.approx(a.kl(phi, opt), rel=1e-9, abs=1e-12)
    # consequence: no policy beats the frontier at its own KL
    d_phi = a.kl(phi, p)
    if d_phi < a.max_kl(p, r):
        assert np.dot(phi, r) <= a.optimal_reward(p, r, d_phi) + 1e-10


@settings(deadline=None)
@given(laws(max_size=6), st.floats(0.05, 20.0))
def test_tilt_maximises_penalised_objective(law, beta):
    p, r = law
    phi = a.tilt(p, r, beta)
    best = np.dot(phi, r) - beta * a.kl(phi, p)
    assert best == pytest.approx(a.penalised_value(p, r, beta), rel=1e-11, abs=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.dirichlet(np.ones(p.size))
        assert np.dot(q, r) - beta * a.kl(q, p) <= best + 1e-12


# --------------------------------------------------------------------------------------------------- validation
def test_validation_errors_name_the_argument():
    with pytest.raises(ValueError, match="beta"):
        a.tilt(*BERN, -1.0)
    with pytest.raises(ValueError, match="beta"):
        a.tilt(*BERN, float("nan"))
    with pytest.raises(ValueError, match="delta"):
        a.beta_for_kl(*BERN, -0.1)
    with pytest.raises(ValueError, match="delta must lie in"):
        a.beta_for_kl(*BERN, 2.0, strict=True)
    with pytest.raises(ValueError, match="delta"):
        a.tradeoff_gap([0.5, 0.5], *BERN, 2.0)
    with pytest.raises(ValueError, match="r must be finite"):
        a.tilt([0.5, 0.5], [0.0, np.inf], 1.0)
    with pytest.raises(ValueError, match="same length"):
        a.tilt([0.5, 0.5], [0.0, 1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="ref must sum to 1"):
        a.tilt([0.5, 0.6], [0.0, 1.0], 1.0)
    with pytest.raises(TypeError, match="beta"):
        a.tilt(*BERN, "1")


def test_beta_inf_is_reference_and_inputs_unchanged():
    p, r = np.array([0.2, 0.8]), np.array([1.0, -1.0])
    p0, r0 = p.copy(), r.copy()
    np.testing.assert_allclose(a.tilt(p, r, math.inf), p, rtol=1e-15)
    a.kl_reward_frontier(p, r, [0.1])
    np.testing.assert_array_equal(p, p0)
    np.testing.assert_array_equal(r, r0)


def test_lambda_beyond_float_range_is_a_clear_error():
    with pytest.raises(ValueError, match="beyond the float range"):
        a.beta_for_kl([0.5, 0.25, 0.25], [0.0, 5e-324, -1.0], 0.5)
    # a top gap of 1e-250 is still solvable (lambda ~ 1e250)
    assert a.tilt_kl([0.5, 0.25, 0.25], [0.0, 1e-250, -1.0], a.beta_for_kl([0.5, 0.25, 0.25], [0.0, 1e-250, -1.0],
                                                                           0.5)) == pytest.approx(0.5, rel=1e-12)


def test_constant_reward_is_slack():
    assert a.max_kl([0.5, 0.5], [1.0, 1.0]) == 0.0
    assert a.beta_for_kl([0.5, 0.5], [1.0, 1.0], 0.1) == 0.0
    assert a.tilt_kl([0.5, 0.5], [1.0, 1.0], 0.3) == 0.0


def test_beta_zero_is_the_reward_maximising_limit_and_the_budget_round_trip_works():
    """beta_for_kl returns 0.0 for a slack budget; tilt, tilt_kl and tilt_mean accept it as the limit beta -> 0."""
    ref, r = [0.5, 0.3, 0.2], [0.0, 1.0, 1.0]
    beta = a.beta_for_kl(ref, r, 5.0)
    assert beta == 0.0
    np.testing.assert_allclose(a.tilt(ref, r, beta), [0.0, 0.6, 0.4], rtol=4e-16, atol=0)
    assert a.tilt_kl(ref, r, beta) == a.max_kl(ref, r) == pytest.approx(np.log(2.0), rel=1e-15)
    assert a.tilt_mean(ref, r, beta) == 1.0
    # the limit is approached continuously, also where r / beta overflows
    np.testing.assert_allclose(a.tilt(ref, r, 1e-300), [0.0, 0.6, 0.4], rtol=1e-15)
    np.testing.assert_allclose(a.tilt([0.5, 0.5], [0.0, 1e150], 1e-300), [0.0, 1.0])
    with pytest.raises(ValueError, match="beta"):
        a.tilt(ref, r, -1.0)


@pytest.mark.parametrize("beta", [1e-3, 0.1, 1.0, 10.0, 1e5, 1e10, 1e30])
def test_penalised_value_keeps_its_digits_from_tiny_to_huge_beta(beta):
    """beta * Lambda(1/beta) against 80 digits: at beta = 1e10 the log of the rounded partition sum lost 1e-6
    relative, and at beta >= 1e16 the value was max r instead of the mean."""
    p, r = [0.2, 0.3, 0.5], [0.0, 0.5, 1.0]
    with mpmath.workdps(80):
        b = mpmath.mpf(beta)
        want = float(b * mpmath.log(mpmath.fsum(mpmath.mpf(pi) * mpmath.exp(mpmath.mpf(ri) / b)
                                                 for pi, ri in zip(p, r))))
    assert a.penalised_value(p, r, beta) == pytest.approx(want, rel=2e-15, abs=0)


def test_penalised_value_and_scgf_at_a_beta_whose_inverse_overflows():
    p, r = [0.2, 0.3, 0.5], [0.0, 0.5, 1.0]
    for beta in (1e-300, 1e-320, 5e-324):
        assert a.penalised_value(p, r, beta) == pytest.approx(1.0 + beta * math.log(0.5), rel=1e-15, abs=0)
        assert a.scgf(p, r, 0.5, beta) == pytest.approx(0.5, rel=1e-15, abs=0)  # the tilt is p(. | A*)
