"""KL estimators as numbers: spec cases A1-A5, known values (Schulman), mpmath oracle, properties, validation."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

import alignsim as a
from alignsim import estimators as E
from alignsim.estimators import (
    estimator_moments,
    gaussian_estimator_stats,
    kl_estimator,
    sequence_estimator_moments,
)

from .strategies import prob_vectors

RTOL12 = 1e-11


def test_a3_k3_stability():
    ells = [1e-6, 1e-4, -1.0, 30.0, -30.0]
    want = [4.99999833333375e-13, 4.99983333749992e-9, 0.718281828459045, 29.0000000000001, 10686474581493.5]
    np.testing.assert_allclose(kl_estimator(ells, 0.0, "k3"), want, rtol=RTOL12)
    assert float(kl_estimator(-1000.0, -1000.5, "k3")) == pytest.approx(0.106530659712633, rel=RTOL12)
    # known values: k3 at log-ratio 1e-6 ~ 5e-13 and >= 0; at 1e-4 ~ 5e-9; at log r = 1 (ell = -1): e - 2
    assert float(kl_estimator(1e-6, 0.0, "k3")) >= 0
    assert float(kl_estimator(-1.0, 0.0, "k3")) == pytest.approx(math.e - 2, rel=1e-14)
    # against mpmath across the series / expm1 switch
    for ell in [1e-8, 9.99e-4, 1.001e-3, 0.0999, 0.1001, -0.1001, 0.3, -0.3]:
        with mpmath.workdps(40):  # at the default 15 digits the reference itself cancels (ell = 1e-8)
            exact = float(mpmath.expm1(-mpmath.mpf(ell)) + mpmath.mpf(ell))
        assert float(kl_estimator(ell, 0.0, "k3")) == pytest.approx(exact, rel=2e-15, abs=0)


def test_overflow_warns_and_clamp_is_opt_in():
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert float(kl_estimator(-800.0, 0.0, "k3")) == math.inf
    assert float(kl_estimator(-800.0, 0.0, "k3", clamp="verl")) == 10.0
    assert float(kl_estimator(50.0, 0.0, "k1", clamp=(-20, 20))) == 20.0
    with pytest.raises(ValueError, match="clamp"):
        kl_estimator(0.1, 0.0, "k3", clamp=(1, -1))


def test_a1_finite_moments():
    p, u = [0.5, 0.3, 0.15, 0.05], [0.25] * 4
    m1, m2, m3 = (estimator_moments(p, u, k) for k in ("k1", "k2", "k3"))
    assert m1["kl"] == pytest.approx(0.244174318131555, rel=RTOL12)
    assert m2["mean"] == pytest.approx(0.209427397182015, rel=RTOL12)
    assert m2["rel_bias"] == pytest.approx(-0.142303749286, rel=RTOL12)
    np.testing.assert_allclose([m1["var"], m2["var"], m3["var"]],
                               [0.359233696729021, 0.0715008980340671, 0.248487661042814], rtol=RTOL12)
    np.testing.assert_allclose([m1["moment_3"], m2["moment_3"], m3["moment_3"]],
                               [-0.0601095204084, 0.115890011849, 0.687249300989], rtol=RTOL12)
    np.testing.assert_allclose([m1["moment_4"], m2["moment_4"], m3["moment_4"]],
                               [0.461442930898, 0.142392359903, 1.633723932], rtol=RTOL12)


def test_a2_gaussian_closed_forms_and_quadrature():
    s01, s1 = gaussian_estimator_stats(0.1), gaussian_estimator_stats(1.0)
    assert (s01["rel_bias_k2"], s1["rel_bias_k2"]) == pytest.approx((0.0025, 0.25), rel=1e-14)
    assert (s01["std_over_kl_k1"], s1["std_over_kl_k1"]) == pytest.approx((20.0, 2.0), rel=1e-14)
    assert (s01["std_over_kl_k2"], s1["std_over_kl_k2"]) == pytest.approx((1.417744688, 1.732050808), abs=5e-10)
    assert (s01["std_over_kl_k3"], s1["std_over_kl_k3"]) == pytest.approx((1.416574519, 1.695030181), abs=5e-10)
    # independent: moments of each estimator by quadrature over x ~ N(0, 1), ell = -(mu x - mu^2/2)
    mu = 1.0
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    for kind in ("k1", "k2", "k3"):
        f = lambda x, j: phi(x) * float(kl_estimator(-(mu * x - mu * mu / 2), 0.0, kind)) ** j  # noqa: E731
        m1 = quad(f, -30, 30, args=(1,), epsabs=0, epsrel=1e-12)[0]
        m2 = quad(f, -30, 30, args=(2,), epsabs=0, epsrel=1e-12)[0]
        assert math.sqrt(m2 - m1 * m1) / 0.5 == pytest.approx(s1[f"std_over_kl_{kind}"], rel=1e-9)
        if kind != "k2":
            assert m1 == pytest.approx(0.5, rel=1e-10)  # unbiased
        else:
            assert (m1 - 0.5) / 0.5 == pytest.approx(0.25, rel=1e-9)


@pytest.mark.parametrize("level, kind, mean, var", [
    ("sequence", "k1", 1.099548878249, 2.048596440977), ("sequence", "k2", 1.628802088318, 3.343384307608),
    ("sequence", "k3", 1.099548878249, 3.709518537981), ("token", "k2", 1.175424187446, 0.1480309307607),
    ("token", "k3", 1.099548878249, 0.1704009279811), ("full", "k3", 1.099548878249, 0.0),
])
def test_a4_memoryless_sequences(level, kind, mean, var):
    m = sequence_estimator_moments([0.5, 0.3, 0.2], [0.2, 0.3, 0.5], 4, kind, level)
    assert m["mean"] == pytest.approx(mean, rel=RTOL12)
    assert m["var"] == pytest.approx(var, rel=RTOL12, abs=1e-300)


@pytest.mark.parametrize("kind", ["k1", "k2", "k3"])
def test_sequence_moments_match_enumeration(kind):
    p, q, L = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5]), 4
    lp, lq = np.log(p), np.log(q)
    import itertools

    vals, probs = [], []
    for seq in itertools.product(range(3), repeat=L):
        ell = sum(lp[i] - lq[i] for i in seq)
        vals.append(float(kl_estimator(ell, 0.0, kind)))
        probs.append(math.prod(p[i] for i in seq))
    vals, probs = np.array(vals), np.array(probs)
    m = sequence_estimator_moments(p, q, L, kind, "sequence")
    mean = math.fsum(probs * vals)
    assert m["mean"] == pytest.approx(mean, rel=1e-12)
    assert m["var"] == pytest.approx(math.fsum(probs * (vals - mean) ** 2), rel=1e-11)


def test_a5_bias_and_variance_growth():
    p, q = [0.5, 0.3, 0.2], [0.2, 0.3, 0.5]
    for L, bias, ratio in [(1, 0.0690059, 1.0), (4, 0.481337, 21.769356), (16, 2.13066, 3627.8327),
                           (64, 8.72795, 1.3944879e13)]:
        m = sequence_estimator_moments(p, q, L, "k2", "sequence")
        assert (m["mean"] - m["kl"]) / m["kl"] == pytest.approx(bias, rel=1e-5)
        tok = sequence_estimator_moments(p, q, L, "k2", "token")
        assert (tok["mean"] - tok["kl"]) / tok["kl"] == pytest.approx(0.0690059, rel=1e-5)
        r = sequence_estimator_moments(p, q, L, "k3", "sequence")["var"] / \
            sequence_estimator_moments(p, q, L, "k3", "token")["var"]
        assert r == pytest.approx(ratio, rel=1e-7)


@settings(deadline=None)
@given(prob_vectors(max_size=6), prob_vectors(max_size=6), st.sampled_from(["k1", "k2", "k3"]))
def test_unbiasedness_and_nonnegativity(p, ref, kind):
    if p.size != ref.size:
        ref = np.full(p.size, 1 / p.size)
    m = estimator_moments(p, ref, kind)
    d = a.kl(p, ref)
    if kind in ("k1", "k3"):
        assert m["mean"] == pytest.approx(d, rel=1e-10, abs=1e-13)
    else:
        assert m["mean"] >= 0
    if kind != "k1":
        assert np.all(kl_estimator(np.log(p), np.log(ref), kind) >= 0)
    assert m["var"] >= 0


def test_validation():
    with pytest.raises(ValueError, match="kind"):
        kl_estimator(0.1, 0.0, "k4")
    with pytest.raises(ValueError, match="logp"):
        kl_estimator(float("nan"), 0.0)
    with pytest.raises(ValueError, match="ref must be positive"):
        estimator_moments([0.5, 0.5], [1.0, 0.0], "k1")
    with pytest.raises(ValueError, match="level"):
        sequence_estimator_moments([0.5, 0.5], [0.5, 0.5], 3, "k1", "prefix")
    with pytest.raises(ValueError, match="length"):
        sequence_estimator_moments([0.5, 0.5], [0.5, 0.5], 0, "k1")
    with pytest.raises(ValueError, match="same shape"):
        estimator_moments([0.5, 0.5], [0.2, 0.3, 0.5], "k1")
    with pytest.raises(ValueError, match="mu"):
        gaussian_estimator_stats(0.0)


# ------------------------------------------------------------------------------------------------- gradients
from alignsim.estimators import (  # noqa: E402
    expected_kl_gradient,
    gradient_table,
    kl_gradient_targets,
    two_step_partial_gradient,
)

G1 = ([0.3, -0.2, 1.1, 0.0, -0.7], [0.1, 0.2, 0.3, 0.25, 0.15], [0.0, 0.0, 0.5, 0.5, -0.5])


def test_g1_targets_and_table():
    t = kl_gradient_targets(*G1)
    np.testing.assert_allclose(t["reverse"], [0.11496142, -0.076743564, 0.12134316, -0.097204941, -0.062356077],
                               atol=5e-9)
    np.testing.assert_allclose(t["forward"], [0.10239763, -0.07723963, 0.15044422, -0.10006015, -0.075542072],
                               atol=5e-9)
    df = gradient_table(*G1)
    want = {("k1", "reward", "on", "none"): "reverse", ("k1", "reward", "off", "detached"): "reverse",
            ("k1", "reward", "off", "none"): "biased", ("k2", "reward", "on", "none"): "biased",
            ("k3", "reward", "on", "none"): "biased", ("k1", "loss", "on", "none"): "zero",
            ("k1", "loss", "off", "none"): "away_from_mu", ("k2", "loss", "on", "none"): "reverse",
            ("k2", "loss", "off", "none"): "biased", ("k2", "loss", "off", "detached"): "reverse",
            ("k2", "loss", "off", "differentiable"): "k2_divergence", ("k3", "loss", "on", "none"): "forward",
            ("k3", "loss", "off", "none"): "biased", ("k3", "loss", "off", "detached"): "forward",
            ("k3", "loss", "on", "differentiable"): "reverse", ("k3", "loss", "off", "differentiable"): "reverse",
            ("k1", "loss", "off", "differentiable"): "reverse", ("k3", "straight_through", "on", "none"): "reverse",
            ("k3", "straight_through", "off", "none"): "biased"}
    got = {(r.k, r.placement, r.policy, r.is_weight): r.target for r in df.itertuples()}
    assert got == want
    k2_reward = df[(df.k == "k2") & (df.placement == "reward")].cos_rev.item()
    assert k2_reward == pytest.approx(-0.10, abs=0.005)  # wrong direction on this instance (spec G1)


def _kl(theta, ref):
    pi = np.exp(theta - np.max(theta))
    pi /= pi.sum()
    return a.kl(pi, ref), a.kl(ref, pi), 0.5 * float(np.dot(pi, (np.log(pi) - np.log(ref)) ** 2))


def test_targets_against_finite_differences():
    theta, ref, _ = G1
    theta, ref = np.array(theta), np.array(ref)
    h = 1e-6
    fd = np.array([[(_kl(theta + h * e, ref)[j] - _kl(theta - h * e, ref)[j]) / (2 * h) for e in np.eye(5)]
                   for j in range(3)])
    t = kl_gradient_targets(theta, ref)
    np.testing.assert_allclose(t["reverse"], fd[0], atol=1e-9)
    np.testing.assert_allclose(t["forward"], fd[1], atol=1e-9)
    np.testing.assert_allclose(t["k2_divergence"], fd[2], atol=1e-9)


def test_g4_partial_gradient_has_the_wrong_sign():
    g = two_step_partial_gradient()
    np.testing.assert_allclose(g["full"], [-0.06208210799, 0.06208210799], atol=5e-12)
    np.testing.assert_allclose(g["partial"], [0.1966119332, -0.1966119332], atol=5e-11)
    np.testing.assert_allclose(g["missing"], [-0.2586940412, 0.2586940412], atol=5e-11)


def test_g5_in_reward_rows_vanish_to_second_order():
    ref = np.array(G1[1])
    d = np.array(G1[0])
    for eps, want2, want3 in [(0.1, 0.025408429, 0.024944407), (0.01, 0.0026808929, 0.0026758384),
                              (0.001, 0.00026946055, 0.00026940961)]:
        theta = np.log(ref) + eps * d
        rev = np.linalg.norm(kl_gradient_targets(theta, ref)["reverse"])
        for kind, want in [("k2", want2), ("k3", want3)]:
            ratio = np.linalg.norm(expected_kl_gradient(theta, ref, kind, "reward")) / rev
            assert ratio == pytest.approx(want, rel=1e-7)


def test_monte_carlo_k3_as_loss_follows_forward_kl_with_negative_control():
    from alignsim.mc import sample_law

    theta, ref, old = (np.array(x) for x in G1)
    pi = np.exp(theta - theta.max())
    pi /= pi.sum()
    y = sample_law(pi, 1_000_000, rng=3)
    ell = np.log(pi) - np.log(ref)
    per_sample = (-np.expm1(-ell))[y, None] * (np.eye(5)[y] - pi)  # (1 - rho) s_y
    mean = per_sample.mean(axis=0)
    se = per_sample.std(axis=0, ddof=1) / np.sqrt(y.size)
    assert np.max(np.abs(mean - (pi - ref)) / se) < 4.5
    # negative control: the same samples against the reverse-KL gradient must be rejected
    assert np.max(np.abs(mean - kl_gradient_targets(theta, ref)["reverse"]) / se) > 20


@settings(deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=3, max_size=6), st.floats(-5, 5), st.sampled_from(["k1", "k2", "k3"]),
       st.sampled_from(["reward", "loss", "straight_through"]))
def test_gradient_properties(theta, shift, kind, placement):
    theta = np.array(theta)
    ref = np.linspace(1, 2, theta.size)
    ref /= ref.sum()
    g = expected_kl_gradient(theta, ref, kind, placement)
    assert abs(g.sum()) < 1e-12  # gradients of softmax losses sum to zero
    np.testing.assert_allclose(expected_kl_gradient(theta + shift, ref, kind, placement), g, atol=1e-12)
    # in reward + as loss = gradient of the expected estimator (differentiable weight on-policy)
    both = expected_kl_gradient(theta, ref, kind, "reward") + expected_kl_gradient(theta, ref, kind, "loss")
    np.testing.assert_allclose(both, expected_kl_gradient(theta, ref, kind, "loss", is_weight="differentiable"),
                               atol=1e-12)


def test_gradient_validation():
    with pytest.raises(ValueError, match="placement"):
        expected_kl_gradient([0.0, 1.0], [0.5, 0.5], "k3", "penalty")
    with pytest.raises(ValueError, match="is_weight"):
        expected_kl_gradient([0.0, 1.0], [0.5, 0.5], "k3", "loss", is_weight="clipped")
    with pytest.raises(ValueError, match="same shape"):
        expected_kl_gradient([0.0, 1.0], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="full support"):
        expected_kl_gradient([0.0, 1.0], [1.0, 0.0])


def test_g3_memoryless_sequence_gradients():
    from alignsim.estimators import sequence_kl_gradient

    th, q, L = [0.4, -0.3, 0.1], [0.2, 0.3, 0.5], 3
    rev = [0.8689665, -0.30454845, -0.56441806]
    fwd = [0.74083994, -0.23415859, -0.50668134]
    for level, kind, placement in [("token", "k1", "reward"), ("sequence", "k1", "reward"), ("sequence", "k2", "loss")]:
        np.testing.assert_allclose(sequence_kl_gradient(th, q, L, kind, placement, level), rev, atol=5e-9)
    for level in ("token", "sequence"):
        np.testing.assert_allclose(sequence_kl_gradient(th, q, L, "k3", "loss", level), fwd, atol=5e-9)
    np.testing.assert_allclose(sequence_kl_gradient(th, q, L, "k2", "reward", "sequence"),
                               [0.45972363, -0.18646599, -0.27325764], atol=5e-9)
    # closed forms: sequence k2 in reward = (L/2) F ell^2 + L(L-1) D grad D_tok; sequence KL gradient = L grad D
    p = np.exp(th) / np.exp(th).sum()
    ell = np.log(p) - np.log(q)
    F = lambda f: p * (f - p @ f)  # noqa: E731
    np.testing.assert_allclose(sequence_kl_gradient(th, q, L, "k2", "reward"),
                               L / 2 * F(ell ** 2) + L * (L - 1) * (p @ ell) * F(ell), rtol=1e-12)
    np.testing.assert_allclose(rev, L * kl_gradient_targets(th, q)["reverse"], atol=5e-9)


def _mp_expected_gradient(theta, ref, kind, placement, behaviour, is_weight):
    """E_mu[f(y) (e_y - pi)] at 60 digits, straight from the definitions (no log-space tricks)."""
    import mpmath as mp

    mp.mp.dps = 60
    def softmax(t):
        z = [mp.exp(mp.mpf(x)) for x in t]
        s = mp.fsum(z)
        return [x / s for x in z]
    pi, mu = softmax(theta), softmax(behaviour)
    out = [mp.mpf(0)] * len(theta)
    for y in range(len(theta)):
        ell = mp.log(pi[y] / ref[y])
        rho = mp.exp(-ell)
        val = {"k1": ell, "k2": ell * ell / 2, "k3": rho - 1 + ell}[kind]
        der = {"k1": mp.mpf(1), "k2": ell, "k3": 1 - rho}[kind]
        w = pi[y] / mu[y] if is_weight != "none" else mp.mpf(1)
        f = {"reward": val, "straight_through": ell}.get(placement, val + der if is_weight == "differentiable" else der)
        for a in range(len(theta)):
            out[a] += mu[y] * w * f * ((1 if a == y else 0) - pi[a])
    return np.array([float(x) for x in out])


@pytest.mark.parametrize("kind", ["k1", "k2", "k3"])
@pytest.mark.parametrize("placement", ["reward", "loss", "straight_through"])
@pytest.mark.parametrize("is_weight", ["none", "detached", "differentiable"])
def test_expected_gradients_stay_finite_and_exact_when_logits_span_800(kind, placement, is_weight):
    """Issue 17: with logits spanning more than ~745 the gradients were all NaN (1 - ref/pi overflowed and was
    multiplied by pi = 0, though the product is finite). Against a 60-digit evaluation of the definition."""
    theta, ref, behaviour = [800.0, 0.0, -800.0], [0.2, 0.3, 0.5], [750.0, 0.0, -750.0]
    got = E.expected_kl_gradient(theta, ref, kind, placement, behaviour, is_weight)
    want = _mp_expected_gradient(theta, ref, kind, placement, behaviour, is_weight)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_k3_loss_on_policy_follows_the_forward_kl_gradient_at_any_logit_span():
    theta, ref = np.array([800.0, 0.0, -800.0]), np.array([0.2, 0.3, 0.5])
    pi = np.exp(theta - np.logaddexp.reduce(theta))
    np.testing.assert_allclose(E.expected_kl_gradient(theta, ref, "k3", "loss"), pi - ref, rtol=0, atol=1e-16)
    np.testing.assert_allclose(E.sequence_kl_gradient(theta, ref, 3, "k3", "loss"), 3 * (pi - ref), atol=1e-15)
    targets = E.kl_gradient_targets(theta, ref)
    assert all(np.all(np.isfinite(v)) for v in targets.values())


def test_an_off_policy_gradient_beyond_the_float_range_is_an_error_naming_theta():
    with pytest.raises(ValueError, match="theta"):
        E.expected_kl_gradient([800.0, 0.0, -800.0], [0.2, 0.3, 0.5], "k3", "loss", [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="theta must span"):
        E.expected_kl_gradient([1e308, 0.0, -1e308], [0.2, 0.3, 0.5])


@pytest.mark.parametrize("mu", [1e-300, 1e-10, 0.01, 0.1, 0.7, 1.0, -2.0, 5.0, 26.4, 26.5, 30.0, 37.0])
def test_gaussian_estimator_stats_against_800_digits(mu):
    """Issue 17: ZeroDivisionError at subnormal mu and OverflowError at huge mu; the k3 ratio lost digits near
    mu = 0.1 (1e-14) through expm1(x) - x."""
    got = gaussian_estimator_stats(mu)
    with mpmath.workdps(800):
        x = mpmath.mpf(mu) ** 2
        want_k3 = mpmath.sqrt(mpmath.expm1(x) - x) / (x / 2)
        want_k2 = mpmath.sqrt(2 * x * x + x ** 3) / 2 / (x / 2)
    assert got["std_over_kl_k3"] == pytest.approx(float(want_k3), rel=2e-15, abs=0)
    assert got["std_over_kl_k2"] == pytest.approx(float(want_k2), rel=2e-16, abs=0)
    assert got["std_over_kl_k1"] == 2.0 / abs(mu)


def test_gaussian_estimator_stats_range():
    assert gaussian_estimator_stats(40.0)["std_over_kl_k3"] == math.inf  # e^800 / 800: beyond floats, documented
    for bad in (1e-320, 0.0, 1e300):
        with pytest.raises(ValueError, match="mu must satisfy"):
            gaussian_estimator_stats(bad)


def _verl_kl_penalty(logprob, ref_logprob, kind):
    """verl's kl_penalty (verl/trainer/ppo/core_algos.py @ 26b5d6b2) transcribed to numpy: only low_var_kl/k3 is
    clamped (its log-ratio to [-20, 20], its value to [-10, 10])."""
    if kind in ("kl", "k1"):
        return logprob - ref_logprob
    if kind in ("mse", "k2"):
        return 0.5 * (logprob - ref_logprob) ** 2
    kl = np.clip(ref_logprob - logprob, -20, 20)
    return np.clip(np.exp(kl) - kl - 1, -10, 10)


@pytest.mark.parametrize("kind", ["k1", "k2", "k3"])
def test_verl_clamp_is_verls_kl_penalty_for_every_kind(kind):
    """A log-ratio of 10.4 gives k1 = 10.4 and k2 = 54.08 in verl (they are not clamped), k3 is clamped at 10; the
    previous 'verl' clamp clipped every kind."""
    ell = np.array([-30.0, -12.0, -1.0, 0.0, 0.3, 10.4, 25.0])
    got = kl_estimator(ell, np.zeros_like(ell), kind, clamp="verl")
    np.testing.assert_allclose(got, _verl_kl_penalty(ell, np.zeros_like(ell), kind), rtol=1e-12, atol=1e-15)
    if kind == "k2":
        assert got[5] == pytest.approx(54.08)
