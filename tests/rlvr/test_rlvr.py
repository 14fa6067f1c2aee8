"""RLVR: noisy verifiers, group-update moments, pass@k estimator moments, verl's aggregations - against full
enumeration, Monte-Carlo, closed forms and the independent GRPO factor of dynamics."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from alignsim import rlvr
from alignsim.dynamics import grpo_binary_factor

RNG = np.random.default_rng(11)


def _advantages(rewards, estimator, ddof=1, eps=0.0):
    r = np.asarray(rewards, float)
    g = r.size
    if estimator == "dr_grpo":
        return r - r.mean()
    if estimator == "rloo":
        return r - (r.sum() - r) / (g - 1)
    s = r.std(ddof=ddof)
    return (r - r.mean()) / (s + eps) if s + eps > 0 else np.zeros(g)


@pytest.mark.parametrize("estimator", rlvr.GROUP_ESTIMATORS)
@pytest.mark.parametrize("fp, fn", [(0.0, 0.0), (0.1, 0.2)])
def test_group_moments_by_full_enumeration(estimator, fp, fn):
    """Every outcome of a group of 3: true correctness and reported reward per answer (4^3 cases)."""
    p, g = 0.35, 3
    probs = {(1, 1): p * (1 - fn), (1, 0): p * fn, (0, 1): (1 - p) * fp, (0, 0): (1 - p) * (1 - fp)}
    m1 = m2 = 0.0
    for case in itertools.product(probs, repeat=g):
        w = math.prod(probs[c] for c in case)
        y = np.array([c[0] for c in case], float)
        r = [c[1] for c in case]
        upd = float(np.mean(_advantages(r, estimator) * (y - p)))
        m1 += w * upd
        m2 += w * upd * upd
    got = rlvr.group_update_moments(p, g, estimator, fp=fp, fn=fn)
    assert got["mean"] == pytest.approx(m1, abs=1e-14)
    assert got["variance"] == pytest.approx(m2 - m1 * m1, abs=1e-14)


def test_noise_free_grpo_is_dynamics_grpo_binary_factor_and_rloo_is_unbiased():
    for p in (0.05, 0.3, 0.5, 0.9):
        for g in (2, 5, 16):
            for ddof in (0, 1):
                m = rlvr.group_update_moments(p, g, "grpo", ddof=ddof)
                assert m["mean"] == pytest.approx(grpo_binary_factor(p, g, ddof=ddof) * p * (1 - p), rel=1e-12)
            assert rlvr.group_update_moments(p, g, "rloo")["weight"] == pytest.approx(1.0, rel=1e-12)
            assert rlvr.group_update_moments(p, g, "dr_grpo")["weight"] == pytest.approx((g - 1) / g, rel=1e-12)
    # a noisy verifier scales RLOO's unbiased gradient by dq/dp = 1 - fn - fp
    assert rlvr.group_update_moments(0.3, 8, "rloo", fp=0.1, fn=0.25)["weight"] == pytest.approx(0.65, rel=1e-12)
    # GRPO's weight tends to 1/sqrt(p(1-p)) for large groups
    assert rlvr.difficulty_weight(0.1, 20_000) == pytest.approx(1 / math.sqrt(0.09), rel=1e-3)


def test_group_moments_against_monte_carlo_with_a_noisy_verifier():
    p, g, fp, fn = 0.2, 8, 0.05, 0.3
    n = 400_000
    y = RNG.random((n, g)) < p
    reported = np.where(y, RNG.random((n, g)) >= fn, RNG.random((n, g)) < fp).astype(float)
    m = reported.mean(1, keepdims=True)
    s = reported.std(1, ddof=1, keepdims=True)
    adv = np.where(s > 0, (reported - m) / np.where(s > 0, s, 1.0), 0.0)
    upd = (adv * (y - p)).mean(1)
    got = rlvr.group_update_moments(p, g, "grpo", fp=fp, fn=fn)
    se = upd.std() / math.sqrt(n)
    assert abs(upd.mean() - got["mean"]) < 5 * se
    assert got["variance"] == pytest.approx(upd.var(), rel=0.02)
    assert rlvr.zero_advantage_fraction(p, g, fp, fn) == pytest.approx(np.mean(s[:, 0] == 0), abs=5 * math.sqrt(
        0.25 / n))


def test_zero_advantage_fraction_closed_forms():
    assert rlvr.zero_advantage_fraction(0.5, 4) == pytest.approx(0.125, rel=1e-15)
    # a verifier with fp + fn = 1 reports every answer correct with the same probability: p no longer matters
    a, b = rlvr.zero_advantage_fraction([0.1, 0.9], 6, fp=0.3, fn=0.7)
    assert a == pytest.approx(b, rel=1e-14)
    assert rlvr.zero_advantage_fraction(0.0, 10) == 1.0 and rlvr.zero_advantage_fraction(1.0, 10) == 1.0


@pytest.mark.parametrize("p, n, k", [(0.2, 10, 1), (0.05, 20, 5), (0.5, 12, 12), (0.3, 30, 7)])
def test_pass_at_k_moments_by_exact_rational_sums(p, n, k):
    pf = Fraction(p).limit_denominator(1000)
    mean = var2 = Fraction(0)
    for c in range(n + 1):
        w = math.comb(n, c) * pf ** c * (1 - pf) ** (n - c)
        est = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
        mean += w * est
        var2 += w * est * est
    got_mean, got_var = rlvr.pass_at_k_estimator_moments(float(pf), n, k)
    assert got_mean == pytest.approx(float(mean), rel=1e-13)
    assert got_mean == pytest.approx(1 - (1 - float(pf)) ** k, rel=1e-13)  # unbiased
    assert got_var == pytest.approx(float(var2 - mean * mean), rel=1e-10, abs=1e-16)


def test_aggregations_are_verls():
    loss = RNG.normal(size=(5, 7))
    lengths = np.array([7, 3, 1, 5, 2])
    mask = (np.arange(7)[None, :] < lengths[:, None]).astype(float)
    assert rlvr.aggregate(loss, mask, "token-mean") == pytest.approx((loss * mask).sum() / lengths.sum())
    assert rlvr.aggregate(loss, mask, "seq-mean-token-sum") == pytest.approx((loss * mask).sum(1).mean())
    assert rlvr.aggregate(loss, mask, "seq-mean-token-mean") == pytest.approx(((loss * mask).sum(1) / lengths).mean())
    assert rlvr.aggregate(loss, mask, "seq-mean-token-sum-norm") == pytest.approx((loss * mask).sum() / 7)
    assert rlvr.aggregate(loss, mask, "seq-mean-token-sum-norm", horizon=10) == pytest.approx((loss * mask).sum() / 10)


@pytest.mark.parametrize("call, match", [
    (lambda: rlvr.zero_advantage_fraction(0.5, 4, fp=1.5), "fp"),
    (lambda: rlvr.zero_advantage_fraction(0.5, 1), "G"),
    (lambda: rlvr.observed_success(-0.1), "p"),
    (lambda: rlvr.pass_at_k_estimator_moments(0.5, 4, 5), "k"),
    (lambda: rlvr.aggregate([[1.0]], [[1.0]], "sum"), "token-mean"),
    (lambda: rlvr.group_update_moments(0.5, 4, "ppo"), "estimator"),
    (lambda: rlvr.group_update_moments(1.0, 4), "p"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("G, k", [(5, 2), (6, 3), (7, 1), (8, 7)])
def test_pass_at_k_advantages_by_enumerating_every_k_subset(G, k):
    """Each answer's advantage = mean reward of the k-subsets holding it minus the mean over all k-subsets, over
    their standard deviation (or not)."""
    for c in range(G + 1):
        correct = np.arange(G) < c
        subsets = list(itertools.combinations(range(G), k))
        reward = {s: float(correct[list(s)].any()) for s in subsets}
        values = np.array(list(reward.values()))
        mean, sd = values.mean(), values.std()
        per = [np.mean([reward[s] for s in subsets if i in s]) - mean for i in range(G)]
        a_plus, a_minus = rlvr.pass_at_k_advantages(c, G, k, std=False)
        s_plus, s_minus = rlvr.pass_at_k_advantages(c, G, k)
        if 0 < c < G:
            assert a_plus == pytest.approx(per[0], abs=1e-13) and a_minus == pytest.approx(per[-1], abs=1e-13)
            if sd > 0:
                assert s_plus == pytest.approx(per[0] / sd, abs=1e-12)
                assert s_minus == pytest.approx(per[-1] / sd, abs=1e-12)
        else:
            assert a_plus == 0.0 and a_minus == 0.0


def test_unnormalised_pass_at_k_training_follows_the_gradient_of_pass_at_k():
    """E g = (G - k)/(G k) grad pass@k = (G - k)/G (1 - p)^(k-1) grad p, for every p, G and k < G."""
    for p in (0.05, 0.3, 0.7):
        for g, k in ((8, 1), (8, 4), (16, 5), (32, 31)):
            m = rlvr.group_update_moments(p, g, "pass_at_k_dr", k=k)
            grad_pass_at_k = k * (1 - p) ** (k - 1) * p * (1 - p)
            assert m["mean"] == pytest.approx((g - k) / (g * k) * grad_pass_at_k, rel=1e-11)
