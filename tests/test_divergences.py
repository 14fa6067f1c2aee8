"""Divergences: known values from dit/scipy/pyitlib suites, identities under hypothesis, validation."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alignsim as a
from alignsim.generators import GENERATOR_NAMES, generator

from . import oracle
from .strategies import prob_vectors

LN2 = math.log(2.0)


# ----------------------------------------------------------------------------------------------- known values
def test_kl_extended_by_zero():
    assert a.kl([0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]) == pytest.approx(math.log(3) - math.log(2), rel=1e-14)
    assert a.kl([0.5, 0.5, 0.0], [1 / 3] * 3) / LN2 == pytest.approx(0.5849625007, rel=1e-10)


def test_kl_bits_known_values():
    assert a.kl([0.5, 0.5], [0.4, 0.6]) / LN2 == pytest.approx(0.0294468445, abs=5e-11)
    assert a.kl([0.4, 0.6], [0.5, 0.5]) / LN2 == pytest.approx(0.0290494055, abs=5e-11)


def test_kl_infinite_and_zero():
    assert a.kl([0.5, 0.5], [1.0, 0.0]) == math.inf
    d = [0.2, 0.3, 0.5]
    assert a.kl(d, d) == 0.0


def test_cross_entropy_and_entropy_bits():
    assert a.cross_entropy([0.5, 0.5], [0.6, 0.4]) / LN2 == pytest.approx(1.0294468445, rel=1e-10)
    assert a.entropy([0.6, 0.4]) / LN2 == pytest.approx(0.9709505945, rel=1e-10)
    assert a.cross_entropy([0.5, 0.5], [1.0, 0.0]) == math.inf


def test_renyi_half_known_values():
    assert a.renyi_divergence([0, 1], [0.5, 0.5], 0.5) == pytest.approx(LN2, rel=1e-14)
    assert a.renyi_divergence([0.5, 0.5], [1, 0], 0.5) == pytest.approx(LN2, rel=1e-14)
    assert a.renyi_divergence([1, 0], [0, 1], 0.5) == math.inf


def test_columnwise_kl_scipy_values():
    pk = np.array([[0.1, 0.2], [0.6, 0.3], [0.3, 0.5]])
    qk = np.array([[0.2, 0.1], [0.3, 0.6], [0.5, 0.3]])
    np.testing.assert_allclose(a.kl(pk, qk, axis=0), [0.1933259, 0.18609809], rtol=1e-7)


def test_rowwise_kl_requires_normalised_rows():
    pk = np.array([[0.1, 0.2], [0.6, 0.3], [0.3, 0.5]])
    qk = np.array([[0.2, 0.1], [0.3, 0.6], [0.5, 0.3]])
    with pytest.raises(ValueError, match="sum to 1"):
        a.kl(pk, qk, axis=1)  # scipy silently normalises; we refuse
    pn, qn = pk / pk.sum(1, keepdims=True), qk / qk.sum(1, keepdims=True)
    np.testing.assert_allclose(a.kl(pn, qn, axis=1), [0.23104906, 0.23104906, 0.12770641], rtol=1e-7)


def test_uniform_entropy_doubling_is_one_bit():
    h1 = a.entropy(np.full(10 ** 6, 1e-6))
    h2 = a.entropy(np.full(2 * 10 ** 6, 5e-7))
    assert (h2 - h1) / LN2 == pytest.approx(1.0, rel=1e-9)


def test_discretised_gaussians_kl():
    x = np.linspace(-5, 5, 10 ** 4)
    p = np.exp(-x ** 2 / 2)
    q = np.exp(-(x - 0.5) ** 2 / 2)
    assert a.kl(p / p.sum(), q / q.sum()) == pytest.approx(0.125, abs=1e-3)


def test_f_divergence_kl_generator_callable_matches_kl():
    p, q = np.array([0.1, 0.6, 0.3]), np.array([0.3, 0.3, 0.4])
    f = lambda u: np.where(u > 0, u * np.log(np.where(u > 0, u, 1)), 0.0)  # noqa: E731
    assert a.f_divergence(p, q, f) == pytest.approx(a.kl(p, q), rel=1e-12)


def test_f_divergence_named_closed_forms():
    p, q = np.array([0.2, 0.5, 0.3]), np.array([0.4, 0.4, 0.2])
    m = (p + q) / 2
    assert a.f_divergence(p, q, "kl") == a.kl(p, q)
    assert a.f_divergence(p, q, "forward_kl") == a.kl(q, p)
    assert a.f_divergence(p, q, "chi2") == pytest.approx(np.sum((p - q) ** 2 / q), rel=1e-14)
    assert a.f_divergence(p, q, "hellinger") == pytest.approx(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2), rel=1e-14)
    assert a.f_divergence(p, q, "tv") == pytest.approx(0.5 * np.abs(p - q).sum(), rel=1e-14)
    assert a.f_divergence(p, q, "js") == pytest.approx(0.5 * a.kl(p, m) + 0.5 * a.kl(q, m), rel=1e-13)
    # the alpha family hits chi2 / 2 at 2 and 2 * hellinger at 1/2
    assert a.f_divergence(p, q, "alpha", alpha=2.0) == pytest.approx(a.f_divergence(p, q, "chi2") / 2, rel=1e-13)
    assert a.f_divergence(p, q, "alpha", alpha=0.5) == pytest.approx(2 * a.f_divergence(p, q, "hellinger"),
                                                                       rel=1e-13)


def test_f_divergence_outside_support_uses_slope_at_infinity():
    p, q = np.array([0.3, 0.4, 0.3]), np.array([0.6, 0.4, 0.0])
    # forward KL: f'(inf) = 1 -> finite; matches the spec's generic formula
    for name in ["forward_kl", "js", "hellinger", "tv"]:
        g = generator(name)
        pos = q > 0
        direct = np.sum(q[pos] * g.f(p[pos] / q[pos])) + g.slope_at_infinity * p[~pos].sum()
        assert a.f_divergence(p, q, name) == pytest.approx(direct, rel=1e-12), name
    for name in ["reverse_kl", "chi2"]:
        assert a.f_divergence(p, q, name) == math.inf


# --------------------------------------------------------------------------------------------- oracle and limits
@settings(deadline=None)
@given(prob_vectors(zeros=True, size=5), prob_vectors(size=5))
def test_kl_matches_mpmath(p, q):
    # inputs are renormalised (each entry moves by up to one ulp), which changes KL by O(ulp^2 / q) ~ 1e-32
    assert a.kl(p, q) == pytest.approx(float(oracle.kl(p, q)), rel=1e-13, abs=1e-30)


def test_kl_keeps_relative_accuracy_for_close_laws():
    p = np.array([0.3, 0.7])
    q = p + np.array([1e-9, -1e-9])
    exact = float(oracle.kl(p, q))
    assert a.kl(p, q) == pytest.approx(exact, rel=1e-7)  # the naive sum has relative error ~1e-1 here
    assert abs(np.sum(p * np.log(p / q)) - exact) / exact > 1e-6


@settings(deadline=None)
@given(prob_vectors(size=4), prob_vectors(size=4), st.floats(0.05, 5.0))
def test_renyi_skew_symmetry(p, q, alpha_frac):
    alpha = alpha_frac / (1 + alpha_frac)  # in (0, 1)
    lhs = (1 - alpha) * a.renyi_divergence(p, q, alpha)
    rhs = alpha * a.renyi_divergence(q, p, 1 - alpha)
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-15)


@settings(deadline=None)
@given(prob_vectors(size=6), st.floats(0.0, 6.0))
def test_renyi_entropy_is_log_k_minus_divergence_to_uniform(p, alpha):
    u = np.full(6, 1 / 6)
    assert a.renyi_entropy(p, alpha) == pytest.approx(math.log(6) - a.renyi_divergence(p, u, alpha),
                                                      rel=1e-11, abs=1e-13)


@settings(deadline=None)
@given(prob_vectors(size=5), prob_vectors(size=5))
def test_renyi_continuous_at_one(p, q):
    d1 = a.kl(p, q)
    for eps in [1e-4, 1e-7, 1e-10]:
        assert a.renyi_divergence(p, q, 1 + eps) == pytest.approx(d1, rel=1e-3 * eps / 1e-4 + 1e-12, abs=1e-14)
        assert a.renyi_divergence(p, q, 1 - eps) == pytest.approx(d1, rel=1e-3 * eps / 1e-4 + 1e-12, abs=1e-14)
    h1 = a.cross_entropy(p, q)
    assert a.renyi_cross_entropy(p, q, 1 + 1e-9) == pytest.approx(h1, rel=1e-7)


def test_renyi_monotone_in_order():
    p, q = [0.1, 0.2, 0.7], [0.4, 0.4, 0.2]
    vals = [a.renyi_divergence(p, q, al) for al in [0, 0.25, 0.5, 1, 2, 5, math.inf]]
    assert all(x <= y + 1e-15 for x, y in zip(vals, vals[1:]))


@settings(deadline=None)
@given(prob_vectors(size=5), prob_vectors(size=5))
def test_alpha_family_limits(p, q):
    assert a.f_divergence(p, q, "alpha", alpha=1 + 1e-9) == pytest.approx(a.kl(p, q), rel=1e-6, abs=1e-12)
    assert a.f_divergence(p, q, "alpha", alpha=1e-9) == pytest.approx(a.kl(q, p), rel=1e-6, abs=1e-12)


@settings(deadline=None)
@given(prob_vectors(size=4, zeros=True), prob_vectors(size=4, zeros=True), st.sampled_from(GENERATOR_NAMES))
def test_every_generator_matches_its_perspective_sum(p, q, name):
    g = generator(name, alpha=0.3 if name == "alpha" else None)
    pos = q > 0
    out = p[~pos].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        base = float(np.sum(q[pos] * g.f(p[pos] / q[pos])))
    direct = base + (0.0 if out == 0 else (math.inf if g.slope_at_infinity == math.inf else g.slope_at_infinity * out))
    got = a.f_divergence(p, q, name, alpha=0.3 if name == "alpha" else None)
    if math.isinf(direct):
        assert got == math.inf
    else:
        assert got == pytest.approx(direct, rel=1e-9, abs=1e-12)
        assert got >= 0


@settings(deadline=None)
@given(st.floats(0, 1), st.floats(0, 1))
def test_binary_kl_is_kl(x, y):
    assert a.binary_kl(x, y) == pytest.approx(a.kl([x, 1 - x], [y, 1 - y]), rel=1e-12, abs=1e-300)


def test_renyi_cross_entropy_spec_vc6():
    p = [0.5, 0.3, 0.2]
    qr = np.exp([-1.0, 0.0, 2.0])
    qr /= qr.sum()
    assert a.renyi_cross_entropy(p, qr, 2.0) == pytest.approx(1.49600860818, rel=1e-11)
    assert a.renyi_cross_entropy(p, qr, 0.5) == pytest.approx(2.53104704549, rel=1e-11)
    cr = math.log(np.exp([-1.0, 0.0, 2.0]).sum())
    assert 0.5 * (cr - a.renyi_cross_entropy(p, qr, 1.5)) == pytest.approx(0.137081566896, rel=1e-11)


# --------------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("bad, msg", [
    ([-0.1, 1.1], "non-negative"),
    ([np.nan, 1.0], "finite"),
    ([0.5, 0.6], "sum to 1"),
    ([], "empty"),
    ([[0.5, 0.5]], "1-D"),
])
def test_bad_probabilities_raise_naming_the_argument(bad, msg):
    with pytest.raises(ValueError, match=msg) as info:
        a.kl(bad, [0.5, 0.5])
    assert "p" in str(info.value)


def test_mismatched_shapes_and_types():
    with pytest.raises(ValueError, match="same shape"):
        a.kl([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(TypeError, match="p"):
        a.kl("ab", [0.5, 0.5])
    with pytest.raises(ValueError, match="alpha"):
        a.renyi_divergence([0.5, 0.5], [0.5, 0.5], -1)
    with pytest.raises(ValueError, match="unknown divergence"):
        a.f_divergence([0.5, 0.5], [0.5, 0.5], "nope")
    with pytest.raises(ValueError, match="f\\(1\\) = 0"):
        a.f_divergence([0.5, 0.5], [0.5, 0.5], lambda u: u)
    with pytest.raises(ValueError, match="slope_at_infinity"):
        a.f_divergence([0.5, 0.5], [1.0, 0.0], lambda u: (u - 1) ** 2)


def test_inputs_are_not_mutated():
    p = np.array([0.2, 0.8])
    q = np.array([0.5, 0.5])
    p0, q0 = p.copy(), q.copy()
    a.kl(p, q), a.f_divergence(p, q, "js"), a.renyi_divergence(p, q, 2.0)
    np.testing.assert_array_equal(p, p0)
    np.testing.assert_array_equal(q, q0)


@pytest.mark.parametrize("a_, b_", [(0.3, 0.3000001), (0.2, 0.2 + 1e-9), (1e-3, 1.0001e-3), (0.7, 0.69),
                                    (0.4907128404560061, 0.49071284045652913),  # the old form: 2e-4 off
                                    (0.45, 0.45 * (1 + 1e-11)), (0.999, 0.9990001)])
def test_binary_kl_keeps_relative_accuracy_for_nearly_equal_laws(a_, b_):
    """scipy gh-20710: forming 1 - a first loses digits when a ~ b; the exact value of the float inputs (50-digit
    mpmath) is matched to a few ulps."""
    import mpmath as mp

    with mp.workdps(50):
        x, y = mp.mpf(a_), mp.mpf(b_)
        exact = float(x * mp.log(x / y) + (1 - x) * mp.log((1 - x) / (1 - y)))
    assert a.binary_kl(a_, b_) == pytest.approx(exact, rel=1e-14, abs=0.0)


@pytest.mark.parametrize("d", [1e-7, 1e-4, 1e-2, 0.3])
@pytest.mark.parametrize("alpha", [0.01, 0.5, 0.999, 1 + 1e-10, 2.0, 5.0])
def test_renyi_divergence_keeps_its_digits_for_nearly_equal_laws(d, alpha):
    """Issue 17: 6e-3 relative error at D ~ 1e-13 (log of a sum that is 1 + O(d^2)); against 60 digits on the
    normalised laws. The inputs themselves fix D only to about 1e-16 / d relative (rounding the laws to floats
    moves p - q ~ d by 1e-16), so that is added to the tolerance; the old evaluation failed it by 1e6 at d = 1e-7
    and 1e3 at d = 1e-4."""
    rng = np.random.default_rng(int(d * 1e9) % 1000)
    p = rng.dirichlet([1.0] * 5)
    q = p * np.exp(d * rng.normal(size=5))
    q /= q.sum()
    with mpmath.workdps(60):
        P, Q = [mpmath.mpf(x) for x in p], [mpmath.mpf(x) for x in q]
        P, Q = [x / mpmath.fsum(P) for x in P], [x / mpmath.fsum(Q) for x in Q]
        al = mpmath.mpf(alpha)
        want = float(mpmath.log(mpmath.fsum(x ** al * y ** (1 - al) for x, y in zip(P, Q))) / (al - 1))
    assert a.renyi_divergence(p, q, alpha) == pytest.approx(want, rel=1e-13 + 1e-15 / d, abs=0)
