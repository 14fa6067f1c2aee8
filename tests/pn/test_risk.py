"""Tests of alignsim.pn: the MLE risk expansion and exact risk."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import digamma

from alignsim import pn

from ..strategies import prob_vectors

CAT3 = pn.FiniteExpFamily([[1, 0], [0, 1], [0, 0]])


CAT4 = pn.FiniteExpFamily(np.eye(4)[:, :3])


TILT = pn.FiniteExpFamily([0, 1, 2, 3])


QUAD = pn.FiniteExpFamily(np.column_stack([np.arange(5), np.arange(5) ** 2]))


INDEP = pn.FiniteExpFamily([[1, 1], [1, 0], [0, 1], [0, 0]])


BERN = pn.FiniteExpFamily([0, 1])


def _richardson(fam, g, n, c1):
    r = [m * m * (pn.exact_risk(fam, g, m).risk - c1 / m) for m in (n, 2 * n)]
    return 2 * r[1] - r[0]


# ----------------------------------------------------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------------------------------------------------
def _random_family(rng, K, p):
    return pn.FiniteExpFamily(rng.normal(size=(K, p)))


# ----------------------------------------------------------------------------------------------------------------
# Closed forms (spec section 2.3)
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("q", [0.5, 0.2, 0.05])
def test_bernoulli_closed_form(q):
    c1, c2 = pn.risk_coefficients(BERN, [1 - q, q])
    assert c1 == pytest.approx(0.5, abs=1e-12)
    assert c2 == pytest.approx((5 - 11 * q * (1 - q)) / (12 * q * (1 - q)), rel=1e-10)


@pytest.mark.parametrize("g", [[0.2, 0.3, 0.5], [0.1, 0.2, 0.3, 0.4], [0.05, 0.15, 0.3, 0.2, 0.3]])
def test_categorical_closed_forms_both_directions(g):
    K = len(g)
    fam = pn.FiniteExpFamily(np.eye(K)[:, : K - 1])
    s = sum(1 / x for x in g)
    assert pn.risk_coefficients(fam, g) == pytest.approx(((K - 1) / 2, (5 * s - 6 * K + 1) / 12), rel=1e-10)
    assert pn.risk_coefficients(fam, g, "reverse") == pytest.approx(((K - 1) / 2, (s - 1) / 12), rel=1e-10)


@pytest.mark.parametrize("lam", [0.5, 2.0, 7.0])
def test_poisson_one_parameter_formulas(lam):
    c1, c2, c3 = pn.risk_coefficients_1d([lam] * 5, [lam] * 3)
    assert (c1, c2, c3) == pytest.approx((0.5, 5 / (12 * lam), 3 / (4 * lam ** 2)), rel=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 3.0])
def test_exponential_model_gamma_truth_against_the_exact_risk(alpha):
    # model Exp(rate theta): k_r = (r-1)! / theta^r at theta* = beta / alpha; truth Gamma(alpha, beta): g_r = alpha (r-1)! / beta^r
    beta = 1.7
    theta = beta / alpha
    k = [math.factorial(r - 1) / theta ** r for r in range(2, 7)]
    gt = [alpha * math.factorial(r - 1) / beta ** r for r in range(2, 5)]
    c1, c2, c3 = pn.risk_coefficients_1d(k, gt)
    assert (c1, c2, c3) == pytest.approx((1 / (2 * alpha), 11 / (12 * alpha ** 2), 1 / alpha ** 3), rel=1e-12)
    n = 100
    exact = digamma(n * alpha) - math.log(n * alpha) + 1 / (n * alpha - 1)
    assert exact - pn.risk_expansion(n, c1, c2, c3) == pytest.approx(0.0, abs=3e-8 / alpha ** 4)


# ----------------------------------------------------------------------------------------------------------------
# Spec section 6: exact enumeration, selected rows and Richardson extrapolation
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fam, g, c1, c2", [
    (CAT3, [0.2, 0.3, 0.5], 1.0, 2.8889),
    (CAT4, [0.1, 0.2, 0.3, 0.4], 1.5, 6.7639),
    (TILT, [0.5, 0.1, 0.1, 0.3], 0.7401, 1.2259),
    (QUAD, [0.3, 0.05, 0.25, 0.1, 0.3], 1.0891, 2.3451),
    (INDEP, [0.4, 0.1, 0.1, 0.4], 1.0, 1.5),
])
def test_coefficients_of_the_spec_cases(fam, g, c1, c2):
    assert pn.risk_coefficients(fam, g) == pytest.approx((c1, c2), abs=6e-5)


def test_case8_truth_inside_the_family():
    g = TILT.probs([0.4])
    c1, c2 = pn.risk_coefficients(TILT, g)
    assert c1 == pytest.approx(0.5, abs=1e-12)
    assert c2 == pytest.approx(0.6288, abs=6e-5)


def test_case10b_independence_product_truth():
    rows, cols = np.array([0.3, 0.7]), np.array([0.2, 0.8])
    g = [rows[0] * cols[0], rows[0] * cols[1], rows[1] * cols[0], rows[1] * cols[1]]
    bern = lambda q: (5 - 11 * q * (1 - q)) / (12 * q * (1 - q))  # noqa: E731
    assert pn.risk_coefficients(INDEP, g) == pytest.approx((1.0, bern(0.3) + bern(0.2)), rel=1e-10)


@pytest.mark.parametrize("fam, g, n, risk, p_exists", [
    (BERN, [0.8, 0.2], 50, 0.0108142, 0.999986),
    (CAT3, [0.2, 0.3, 0.5], 100, 0.0103100, 1.0),
    (CAT4, [0.1, 0.2, 0.3, 0.4], 50, 0.0326210, 0.994832),
    (TILT, [0.5, 0.1, 0.1, 0.3], 100, 0.0075271, 1.0),
    (QUAD, [0.3, 0.05, 0.25, 0.1, 0.3], 50, 0.0227984, 1.0),
    (INDEP, [0.4, 0.1, 0.1, 0.4], 50, 0.0206349, 1.0),
])
def test_exact_risk_rows_of_the_spec(fam, g, n, risk, p_exists):
    out = pn.exact_risk(fam, g, n)
    assert out.risk == pytest.approx(risk, abs=6e-8)
    assert out.p_exists == pytest.approx(p_exists, abs=6e-7)
    assert out.risk_truncated == pytest.approx(out.risk * out.p_exists, rel=1e-12)


@pytest.mark.parametrize("fam, g, n", [(TILT, [0.5, 0.1, 0.1, 0.3], 500), (BERN, [0.8, 0.2], 1000),
                                       (CAT3, [0.2, 0.3, 0.5], 200)])
def test_richardson_extrapolation_reaches_c2(fam, g, n):
    c1, c2 = pn.risk_coefficients(fam, g)
    assert _richardson(fam, g, n, c1) == pytest.approx(c2, rel=0.01)


def test_reverse_direction_against_enumeration():
    c1, c2 = pn.risk_coefficients(TILT, [0.5, 0.1, 0.1, 0.3], "reverse")
    r = [m * m * (pn.exact_risk(TILT, [0.5, 0.1, 0.1, 0.3], m).reverse - c1 / m) for m in (500, 1000)]
    assert 2 * r[1] - r[0] == pytest.approx(c2, rel=0.01)


def test_small_samples_can_fall_below_the_first_order_term():
    # spec section 2.4: conditioning on existence removes the worst samples (Bernoulli q = 0.2, n = 10)
    out = pn.exact_risk(BERN, [0.8, 0.2], 10)
    assert out.risk == pytest.approx(0.0365, abs=1e-4)
    assert out.risk < 0.5 / 10 and out.p_exists < 0.9


@given(seed=st.integers(0, 10 ** 6), K=st.integers(3, 6))
def test_affine_reparametrisation_leaves_risk_unchanged(seed, K):
    rng = np.random.default_rng(seed)
    p = int(rng.integers(1, K))
    T = rng.integers(-2, 3, size=(K, p)).astype(float)
    if np.linalg.matrix_rank(T - T.mean(axis=0)) < p:
        return
    g = rng.dirichlet(np.ones(K) * 2)
    L = rng.normal(size=(p, p)) + 3 * np.eye(p)
    fam, fam2 = pn.FiniteExpFamily(T), pn.FiniteExpFamily(T @ L + rng.normal(size=p))
    assert pn.risk_coefficients(fam2, g) == pytest.approx(pn.risk_coefficients(fam, g), rel=1e-7, abs=1e-9)
    assert pn.exact_risk(fam2, g, 12).risk == pytest.approx(pn.exact_risk(fam, g, 12).risk, rel=1e-8)


@given(seed=st.integers(0, 10 ** 6), K=st.integers(3, 7))
def test_c1_is_half_the_dimension_when_the_truth_is_in_the_model(seed, K):
    rng = np.random.default_rng(seed)
    p = int(rng.integers(1, K))
    fam = _random_family(rng, K, p)
    g = fam.probs(rng.normal(size=p) * 0.5)
    c1, _ = pn.risk_coefficients(fam, g)
    assert c1 == pytest.approx(p / 2, rel=1e-8)


@given(seed=st.integers(0, 10 ** 6), K=st.integers(3, 7), g=st.data())
def test_permutation_invariance_and_directions(seed, K, g):
    rng = np.random.default_rng(seed)
    p = int(rng.integers(1, K))
    fam = _random_family(rng, K, p)
    gg = g.draw(prob_vectors(size=K))
    perm = rng.permutation(K)
    c = pn.risk_coefficients(fam, gg)
    assert c[0] >= 0
    assert pn.risk_coefficients(pn.FiniteExpFamily(fam.T[perm]), gg[perm]) == pytest.approx(c, rel=1e-8, abs=1e-9)
    fwd, rev, sym = (pn.risk_coefficients(fam, gg, d) for d in ("forward", "reverse", "sym"))
    assert sym == pytest.approx((fwd[0] + rev[0], fwd[1] + rev[1]), rel=1e-8, abs=1e-9)


def test_wrong_family_type_is_a_type_error():
    with pytest.raises(TypeError, match="FiniteExpFamily"):
        pn.risk_coefficients(np.eye(3), [0.2, 0.3, 0.5])


def test_exact_risk_when_no_sample_has_an_mle():
    """Three cells and n < 3: every sample misses a cell, so the MLE never exists; the conditional risk is
    undefined (NaN, documented) and the truncated risk is 0, instead of a ZeroDivisionError."""
    import math

    fam = pn.FiniteExpFamily([[1, 0], [0, 1], [0, 0]])
    for n in (1, 2):
        res = pn.exact_risk(fam, [0.2, 0.3, 0.5], n)
        assert res.p_exists == 0.0 and res.risk_truncated == 0.0
        assert math.isnan(res.risk) and math.isnan(res.reverse)
    assert pn.exact_risk(fam, [0.2, 0.3, 0.5], 3).p_exists == pytest.approx(6 * 0.2 * 0.3 * 0.5, rel=1e-14)


@pytest.mark.parametrize("T", [[[1, 0], [0, 1], [0, 0]], [[2.0, -1.0], [0.5, 3.0], [-1.0, 0.0]],
                               [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]]])
def test_saturated_families_stream_the_same_exact_risk(monkeypatch, T):
    """A saturated family (affinely independent statistics) is summed in one streaming pass with the empirical
    law as MLE; the general path (count-vector array, moment equations by Newton) gives the same numbers."""
    from alignsim.pn import _risk

    fam = pn.FiniteExpFamily(T)
    g = np.linspace(1.0, 2.0, len(T))
    g /= g.sum()
    for n in (len(T), 7, 40):
        fast = pn.exact_risk(fam, g, n)
        with monkeypatch.context() as m:
            m.setattr(_risk, "is_saturated", lambda T: False)
            slow = pn.exact_risk(fam, g, n)
        assert fast.outcomes == slow.outcomes
        assert fast.p_exists == pytest.approx(slow.p_exists, rel=1e-13, abs=0.0)
        assert fast.risk == pytest.approx(slow.risk, rel=1e-11, abs=0.0)
        assert fast.reverse == pytest.approx(slow.reverse, rel=1e-11, abs=0.0)


def test_saturated_exact_risk_at_large_n_approaches_the_first_order_term():
    """K = 4, n = 300 (4.6 million count vectors) and K = 3, n = 3000 stream in constant memory; n R_n -> c1 =
    (K - 1) / 2 for a truth inside the family, and P(exists) is one to rounding."""
    fam4 = pn.FiniteExpFamily([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])
    r4 = pn.exact_risk(fam4, [0.1, 0.2, 0.3, 0.4], 300)
    assert r4.outcomes == 4_590_551
    assert 300 * r4.risk == pytest.approx(1.5, rel=0.03)
    fam3 = pn.FiniteExpFamily([[1, 0], [0, 1], [0, 0]])
    r3 = pn.exact_risk(fam3, [0.2, 0.3, 0.5], 3000)
    assert 3000 * r3.risk == pytest.approx(1.0, rel=2e-3)
    assert abs(1.0 - r3.p_exists) < 1e-13
