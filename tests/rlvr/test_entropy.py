"""Clip-Cov and KL-Cov: the large-batch expected updates against verl's procedure transcribed into numpy and run on
a large batch of samples (verl/trainer/ppo/core_algos.py compute_policy_loss_clip_cov / _kl_cov @ b178a3cd)."""

import numpy as np
import pytest
from scipy.special import log_softmax

from alignsim import rlvr

THETA = np.array([0.8, 0.1, -0.4, 0.3])
A = np.array([1.0, -0.5, 2.0, -1.5])


def _scores(pi, y):
    s = -np.tile(pi, (y.size, 1))
    s[np.arange(y.size), y] += 1.0
    return s


def _verl_clip_cov(theta, adv, m, ratio, lb, ub, rng):
    """One batch of m on-policy tokens: verl's Clip-Cov selection, then the token-mean loss's gradient (ratio = 1,
    so PPO's clip never binds: pg_losses2 > pg_losses1 is false)."""
    lp = log_softmax(theta)
    pi = np.exp(lp)
    y = rng.choice(pi.size, size=m, p=pi)
    a, logp = adv[y], lp[y]
    cov_all = (a - a.mean()) * (logp - logp.mean())
    clip_num = max(int(ratio * m), 1)
    idx = np.nonzero((cov_all < ub) & (cov_all > lb))[0]
    corr = np.ones(m)
    if idx.size:
        corr[idx[rng.permutation(idx.size)[: min(clip_num, idx.size)]]] = 0.0
    # d/dtheta of mean(-a * ratio * corr): -a corr s_y per token
    return (-(a * corr)[:, None] * _scores(pi, y)).mean(axis=0)


def _verl_kl_cov(theta, old, adv, m, ratio, coef, rng):
    lp, lo = log_softmax(theta), log_softmax(old)
    pi, po = np.exp(lp), np.exp(lo)
    y = rng.choice(pi.size, size=m, p=po)
    a, logp, logo = adv[y], lp[y], lo[y]
    r = np.exp(logp - logo)
    cov = (a - a.mean()) * (logp - logp.mean())
    k = max(1, int(m * ratio))
    top = np.argpartition(-cov, k - 1)[:k]
    f = -a * r  # d(-A ratio)/d logp
    f[top] += coef * np.sign(logp - logo)[top]  # d(coef |logp - logo|)/d logp
    return (f[:, None] * _scores(pi, y)).mean(axis=0)


def test_clip_cov_matches_the_batch_procedure():
    rng = np.random.default_rng(3)
    sims = np.array([_verl_clip_cov(THETA, A, 200_000, 0.05, 0.3, 5.0, rng) for _ in range(8)])
    mean, se = sims.mean(axis=0), sims.std(axis=0, ddof=1) / np.sqrt(len(sims))
    exact = rlvr.clip_cov_update(THETA, A, clip_cov_ratio=0.05, clip_cov_lb=0.3)
    assert np.all(np.abs(mean - exact) <= 5 * se + 2e-4)  # 2e-4: the batch means' O(1/m) effect on the selection
    plain = rlvr.clip_cov_update(THETA, A, clip_cov_ratio=1e-12, clip_cov_lb=0.3)  # ~nothing detached: plain PG
    assert np.max(np.abs(mean - plain)) > 20 * se.max()  # the negative control


def test_kl_cov_matches_the_batch_procedure():
    rng = np.random.default_rng(4)
    old = THETA + np.array([0.2, -0.1, 0.0, -0.3])
    sims = np.array([_verl_kl_cov(THETA, old, A, 200_000, 0.1, 1.0, rng) for _ in range(8)])
    mean, se = sims.mean(axis=0), sims.std(axis=0, ddof=1) / np.sqrt(len(sims))
    exact = rlvr.kl_cov_update(THETA, old, A, kl_cov_ratio=0.1)
    assert np.all(np.abs(mean - exact) <= 5 * se + 2e-4)
    assert np.max(np.abs(mean - rlvr.kl_cov_update(THETA, old, A, kl_cov_ratio=0.1, ppo_kl_coef=0.0))) > 20 * se.max()


def test_on_policy_kl_cov_is_policy_gradient_and_clip_cov_lowers_the_entropy_drop():
    from alignsim.dynamics import entropy_change

    pi = np.exp(log_softmax(THETA))
    pg = -(pi * A - pi * np.dot(pi, A))  # the loss gradient of plain policy gradient
    np.testing.assert_allclose(rlvr.kl_cov_update(THETA, THETA, A), pg, atol=1e-15)
    # a gradient step -eta g changes the entropy at rate -Cov(log pi, -g): detaching the high-covariance tokens
    # (those that drive the entropy down) makes it fall more slowly
    d_pg = entropy_change(THETA, -pg)
    d_clip = entropy_change(THETA, -rlvr.clip_cov_update(THETA, A, clip_cov_ratio=0.2, clip_cov_lb=0.0))
    assert d_pg < d_clip


@pytest.mark.parametrize("call,words", [
    (lambda: rlvr.clip_cov_update(THETA, A, clip_cov_ratio=0.0), "clip_cov_ratio must lie"),
    (lambda: rlvr.clip_cov_update(THETA, A, clip_cov_lb=5.0, clip_cov_ub=1.0), "clip_cov_lb must be below"),
    (lambda: rlvr.kl_cov_update(THETA, THETA[:3], A), "logits and old_logits"),
    (lambda: rlvr.kl_cov_update(THETA, THETA, A[:3]), "logits and advantages must have the same shape"),
    (lambda: rlvr.kl_cov_update(THETA, THETA, A, ppo_kl_coef=-1.0), "ppo_kl_coef must"),
])
def test_bad_input(call, words):
    with pytest.raises(ValueError) as err:
        call()
    assert words in str(err.value)
