"""Memoryless LMs and bandits: exact reward laws against enumeration and a second algorithm, the lattice kernel
against a numpy reference, VC18/VC19 long-sequence best-of-N, tensorisation, sampling, validation."""

import itertools
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alignsim as a
from alignsim._lattice import compositions, log_convolve

from .strategies import prob_vectors


def enumerate_law(p, r, n):
    """Brute force over all V^n sequences; levels are the floats nearest the exact sums (the package's rule)."""
    law = {}
    exact = [Fraction(x) for x in r]
    for seq in itertools.product(range(len(p)), repeat=n):
        pr = float(np.prod([p[i] for i in seq]))
        if pr == 0:
            continue
        s = float(sum(exact[i] for i in seq))
        law[s] = law.get(s, 0.0) + pr
    keys = sorted(law)
    return np.array(keys), np.array([law[k] for k in keys])


# ---------------------------------------------------------------------------------------------- exact reward law
@settings(deadline=None)
@given(prob_vectors(max_size=4, zeros=True), st.integers(1, 6),
       st.sampled_from([[0, 1, 3, 4], [-2, 0.5, 1.5, 7], [0, 0.1, 0.3, 0.7], [1, 1, 2, 5], [0, 1e-9, 1, 2]]))
def test_reward_law_matches_enumeration(p, n, rewards):
    r = np.array(rewards[: p.size], dtype=float)
    levels, probs = a.MemorylessLM(p, r, n).reward_law()
    lv, pr = enumerate_law(p, r, n)
    np.testing.assert_array_equal(levels, lv)
    np.testing.assert_allclose(probs, pr, rtol=1e-12, atol=1e-300)


@settings(deadline=None, max_examples=25)
@given(prob_vectors(min_size=3, max_size=3), st.integers(1, 300))
def test_lattice_and_types_agree(p, n):
    lm = a.MemorylessLM(p, [0, 1, 3], n)
    l1, a1 = lm.reward_law(log=True, method="lattice")
    l2, a2 = a.MemorylessLM(p, [0, 1, 3], n).reward_law(log=True, method="types")
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_allclose(a1, a2, rtol=1e-13, atol=1e-12)


def test_acceptance_length_10000():
    levels, probs = a.MemorylessLM([0.5, 0.3, 0.2], [0, 1, 3], 10_000).reward_law()
    assert abs(probs.sum() - 1) < 1e-12
    assert np.all(np.diff(levels) > 0)
    assert levels[0] == 0 and levels[-1] == 30_000 and 29_999 not in levels  # 3n - 1 is unreachable


def test_tails_far_below_float_range_are_exact():
    p = np.array([0.4, 0.3, 0.2, 0.1])
    lm = a.MemorylessLM(p, [0, 1, 2, 3], 10_000)
    levels, logp = lm.reward_law(log=True)
    assert levels.size == 30_001
    # the two ends are single sequences, the next ones are n sequences
    assert logp[0] == pytest.approx(10_000 * math.log(0.4), rel=1e-14)
    assert logp[-1] == pytest.approx(10_000 * math.log(0.1), rel=1e-14)
    assert logp[-2] == pytest.approx(math.log(10_000) + 9_999 * math.log(0.1) + math.log(0.2), rel=1e-14)


def _int_poly_power(coeffs, n):
    result = [1]
    for bit in bin(n)[2:]:
        result = _int_poly_mul(result, result)
        if bit == "1":
            result = _int_poly_mul(result, coeffs)
    return result


def _int_poly_mul(x, y):
    out = [0] * (len(x) + len(y) - 1)
    for i, xi in enumerate(x):
        if xi:
            for j, yj in enumerate(y):
                out[i + j] += xi * yj
    return out


def test_every_mass_down_to_1e_200_against_integer_arithmetic():
    """p = (4, 3, 2, 1)/10: the law of the length-200 sum is (4 + 3x + 2x^2 + x^3)^200 / 10^200 exactly."""
    n = 200
    exact = _int_poly_power([4, 3, 2, 1], n)
    _, logp = a.MemorylessLM([0.4, 0.3, 0.2, 0.1], [0, 1, 2, 3], n).reward_law(log=True)
    ref = np.array([float(mpmath.log(c) - n * mpmath.log(10)) for c in exact])
    assert ref.min() == pytest.approx(-200 * math.log(10))  # the top level has mass exactly 1e-200
    np.testing.assert_allclose(logp, ref, rtol=0, atol=5e-13)  # relative error of every mass below 5e-13


def test_rational_rewards_and_float_merging():
    p = [0.5, 0.3, 0.2]
    exact = a.MemorylessLM(p, [Fraction(0), Fraction("0.1"), Fraction("0.3")], 4).reward_law()
    floaty = a.MemorylessLM(p, [0.0, 0.1, 0.3], 4).reward_law()
    assert exact[0].size == 12  # sums of {0, .1, .3} over 4 tokens: multiples of 0.1 from 0 to 1.2, minus 1.1
    np.testing.assert_allclose(exact[0], np.delete(np.arange(13) / 10, 11), rtol=1e-15)
    assert abs(exact[1].sum() - 1) < 1e-14 and abs(floaty[1].sum() - 1) < 1e-14


def test_size_limits_give_a_clear_error():
    lm = a.MemorylessLM([0.25] * 4, [0, 0.1, 0.37, 0.9], 3000)
    with pytest.raises(ValueError, match="max_lattice_levels"):
        lm.reward_law()


def test_compositions_kernel():
    c = compositions(5, 3)
    ref = sorted(t for t in itertools.product(range(6), repeat=3) if sum(t) == 5)
    assert sorted(map(tuple, c)) == ref and c.shape == (21, 3)


@settings(deadline=None, max_examples=30)
@given(st.lists(st.floats(1e-3, 1.0), min_size=1, max_size=300), st.lists(st.floats(1e-3, 1.0), min_size=1,
                                                                           max_size=300))
def test_log_convolve_matches_numpy_reference(x, y):
    x, y = np.array(x), np.array(y)
    ref = np.log(np.convolve(x, y))
    np.testing.assert_allclose(log_convolve(np.log(x), np.log(y)), ref, rtol=1e-13, atol=1e-13)


def test_log_convolve_wide_dynamic_range_and_zeros():
    # entries spanning exp(-5000)..1 with exact zeros; compare with mpmath on a short case
    la = np.array([0.0, -5000.0, -np.inf, -20.0])
    lb = np.array([-1.0, -np.inf, -3000.0])
    got = log_convolve(la, lb)
    xa = [mpmath.exp(v) if v > -np.inf else 0 for v in la]
    xb = [mpmath.exp(v) if v > -np.inf else 0 for v in lb]
    for k in range(got.size):
        s = mpmath.fsum(xa[i] * xb[k - i] for i in range(len(xa)) if 0 <= k - i < len(xb))
        if s == 0:
            assert got[k] == -np.inf
        else:
            assert got[k] == pytest.approx(float(mpmath.log(s)), rel=1e-15, abs=1e-12)


# ------------------------------------------------------------------------------------------ BoN over sequences
@pytest.mark.parametrize("n, e, d", [
    (10, 0.3803353859, 0.18308412), (50, 0.4775623296, 3.9616137), (100, 0.4928857069, 8.9482615),
    (200, 0.5020268482, 18.942204), (500, 0.5086300943, 48.937787), (1000, 0.5112583172, 98.936032),
    (3000, 0.51330664035, 300 - 1.0650956), (10_000, 0.51416640757, 1000 - 1.0655361),
])
def test_vc18_bernoulli_bon_with_n_exp_n_delta(n, e, d):
    N = int(mpmath.floor(mpmath.exp(mpmath.mpf(n) / 10)))
    lm = a.MemorylessLM([0.7, 0.3], [0, 1], n)
    assert lm.bon_mean_reward(N) / n == pytest.approx(e, abs=5e-11)
    assert lm.bon_kl(N) == pytest.approx(d, abs=5e-7)
    assert lm.bon_reward_law(N)[1].sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("n, e, d", [(25, 1.125816996, 3.9738758), (100, 1.182332566, 18.957889),
                                     (200, 1.194767267, 38.955017)])
def test_vc19_ternary(n, e, d):
    N = int(mpmath.floor(mpmath.exp(mpmath.mpf(n) / 5)))
    lm = a.MemorylessLM([0.5, 0.3, 0.2], [0, 1, 2], n)
    assert lm.bon_mean_reward(N) / n == pytest.approx(e, abs=5e-10)
    assert lm.bon_kl(N) == pytest.approx(d, abs=5e-7)


def test_bandit_bon_methods_match_array_functions():
    p, r = [0.4, 0.3, 0.2, 0.1], [0, 1, 1, 3]
    b = a.Bandit(p, r)
    assert b.bon_kl(8) == pytest.approx(a.bon_kl(p, r, 8), rel=1e-13)
    assert b.bon_win_rate(8) == pytest.approx(a.bon_win_rate(p, r, 8), rel=1e-13)
    assert b.bon_mean_reward(8) == pytest.approx(a.bon_mean_reward(p, r, 8), rel=1e-13)
    # VC14 row N = 8
    assert b.bon_kl(8) == pytest.approx(0.9215684618, abs=5e-11)
    assert b.bon_mean_reward(8) == pytest.approx(2.13841022, abs=5e-9)


# ------------------------------------------------------------------------------------------ tilt, KL, sampling
def test_tensorisation_y_p1():
    p, r, n, delta = [0.7, 0.3], [0, 1], 50, 0.1
    lm = a.MemorylessLM(p, r, n)
    opt = lm.tilt(a.beta_for_kl(p, r, delta))
    assert isinstance(opt, a.MemorylessLM) and opt.length == n
    assert opt.kl(lm) == pytest.approx(n * delta, rel=1e-12)
    assert opt.mean_reward() == pytest.approx(n * 0.514629121059, rel=1e-11)
    # reweighting the reference level law by e^{lam s - n Lambda} gives the tilted law
    lam = a.lambda_for_kl(p, r, delta)
    lv, P = lm.reward_law()
    lv2, Q = opt.reward_law()
    np.testing.assert_allclose(Q, P * np.exp(lam * lv - n * a.log_partition(p, r, lam)), rtol=1e-12)
    assert isinstance(a.Bandit(p, r).tilt(1.0), a.Bandit)


def test_sample_rewards_agree_with_exact_law():
    lm = a.MemorylessLM([0.5, 0.3, 0.2], [0, 1, 3], 20)
    levels, probs = lm.reward_law()
    draws = lm.sample_rewards(200_000, rng=12345)
    # mean within a 5-sigma confidence interval of the exact mean
    mean, var = np.dot(probs, levels), np.dot(probs, (levels - np.dot(probs, levels)) ** 2)
    assert abs(draws.mean() - mean) < 5 * math.sqrt(var / draws.size)
    # chi-square-free check: every level's frequency within 5 sigma of its exact probability
    freq = np.array([(draws == s).mean() for s in levels])
    assert np.all(np.abs(freq - probs) <= 5 * np.sqrt(probs * (1 - probs) / draws.size) + 1e-12)
    # same seed, same draws
    np.testing.assert_array_equal(draws[:100], lm.sample_rewards(200_000, rng=12345)[:100])


def test_sampling_negative_control_detects_a_wrong_law():
    lm = a.MemorylessLM([0.5, 0.3, 0.2], [0, 1, 3], 20)
    wrong = a.MemorylessLM([0.45, 0.35, 0.2], [0, 1, 3], 20)
    levels, probs = wrong.reward_law()
    draws = lm.sample_rewards(200_000, rng=1)
    mean = np.dot(probs, levels)
    sd = math.sqrt(np.dot(probs, (levels - mean) ** 2) / draws.size)
    assert abs(draws.mean() - mean) > 5 * sd


def test_model_validation():
    with pytest.raises(ValueError, match="length"):
        a.MemorylessLM([0.5, 0.5], [0, 1], 0)
    with pytest.raises(TypeError, match="length"):
        a.MemorylessLM([0.5, 0.5], [0, 1], 2.5)
    with pytest.raises(ValueError, match="p must sum to 1"):
        a.MemorylessLM([0.5, 0.6], [0, 1], 3)
    with pytest.raises(ValueError, match="same length"):
        a.MemorylessLM([0.5, 0.5], [0, 1, 2], 3)
    with pytest.raises(ValueError, match="method"):
        a.MemorylessLM([0.5, 0.5], [0, 1], 3).reward_law(method="fft")
    with pytest.raises(ValueError, match="same vocabulary size and length"):
        a.MemorylessLM([0.5, 0.5], [0, 1], 3).kl(a.MemorylessLM([0.5, 0.5], [0, 1], 4))
    with pytest.raises(ValueError, match="N"):
        a.MemorylessLM([0.5, 0.5], [0, 1], 3).bon_kl(0)
    lm = a.MemorylessLM([0.5, 0.5], [0, 1], 3)
    with pytest.raises(ValueError):
        lm.p[0] = 1.0  # read-only


def test_win_rate_between_models_matches_enumeration():
    import itertools

    ref = a.MemorylessLM([0.5, 0.3, 0.2], [0.0, 1.0, 1.0], 3)
    other = a.MemorylessLM([0.2, 0.8], [0.5, 1.0], 2)
    brute = 0.0
    for x in itertools.product(range(3), repeat=3):
        for y in itertools.product(range(2), repeat=2):
            rx, ry = sum(ref.r[i] for i in x), sum(other.r[j] for j in y)
            w = np.prod(ref.p[list(x)]) * np.prod(other.p[list(y)])
            brute += w * (1.0 if rx > ry else 0.5 if rx == ry else 0.0)
    assert ref.win_rate(other) == pytest.approx(brute, abs=1e-15)
    assert ref.win_rate(other) + other.win_rate(ref) == pytest.approx(1.0, abs=1e-15)
    assert ref.win_rate(ref) == pytest.approx(0.5, abs=1e-15)
    with pytest.raises(TypeError, match="other"):
        ref.win_rate([0.5, 0.5])


@pytest.mark.parametrize("p", [0.3, 0.01])
def test_every_log_mass_at_length_10000_against_log_gamma(p):
    """The README's bound at length 10 000 (issue 17: its 5e-13 held at 200, not here): binomial laws against
    30-digit log-gamma, log-masses down to -46 000."""
    n = 10_000
    _, logp = a.MemorylessLM([1 - p, p], [0, 1], n).reward_law(log=True)
    with mpmath.workdps(30):
        ref = np.array([float(mpmath.loggamma(n + 1) - mpmath.loggamma(k + 1) - mpmath.loggamma(n - k + 1)
                              + k * mpmath.log(p) + (n - k) * mpmath.log(1 - p)) for k in range(n + 1)])
    np.testing.assert_allclose(logp, ref, rtol=0, atol=4e-11)
