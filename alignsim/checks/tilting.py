"""Checks of the exponential tilt (KL-constrained optimum)."""

from __future__ import annotations

import math

import numpy as np

from ..divergences import kl
from ..mc import sample_law
from ..models import MemorylessLM
from ..tilting import (
    beta_for_kl,
    dual_reward,
    lambda_for_kl,
    log_partition,
    max_kl,
    optimal_reward,
    tilt,
    tilt_kl,
    tilt_mean,
    tradeoff_gap,
)
from ._registry import check, mc_check
from ._stats import batch_ci, random_law


@check("tilt.primal_dual", "Yang et al. 2024, the closed-form KL-constrained optimum (strong duality)",
       "R*(delta) = Lambda'(lambda_delta) vs min_lambda (Lambda + delta)/lambda by scalar minimisation", 1e-8)
def _primal_dual(rng):
    p, r = random_law(rng, 6)
    delta = 0.5 * max_kl(p, r) * rng.uniform(0.05, 0.95)
    return optimal_reward(p, r, delta), dual_reward(p, r, delta)


@check("tilt.budget_roundtrip", "Yang et al. 2024, the closed-form KL-constrained optimum", "KL(tilt(beta_for_kl(delta)) || p) vs delta", 1e-12)
def _roundtrip(rng):
    p, r = random_law(rng, 8)
    delta = max_kl(p, r) * rng.uniform(0.01, 0.99)
    return delta, kl(tilt(p, r, beta_for_kl(p, r, delta)), p)


@check("tilt.tradeoff_identity", "Yang et al. 2024, the trade-off identity (exact identity)",
       "KL(phi || phi_delta) by the divergence vs the identity's right-hand side, random phi", 1e-11)
def _tradeoff(rng):
    p, r = random_law(rng, 7)
    delta = max_kl(p, r) * rng.uniform(0.05, 0.95)
    phi = rng.dirichlet(np.ones(7))
    # KL(phi || phi_delta) from log phi_delta = log p + lam r - Lambda(lam): the tilt's masses may underflow
    lam = lambda_for_kl(p, r, delta)
    log_tilt = np.log(p) + lam * r - log_partition(p, r, lam)
    return tradeoff_gap(phi, p, r, delta), float(np.sum(phi * (np.log(phi) - log_tilt)))


@check("tilt.optimality", "Yang et al. 2024, the closed-form KL-constrained optimum",
       "E_phi r of 200 random policies with KL(phi||p) <= delta never exceeds R*(delta)", 1e-12, "<=")
def _optimality(rng):
    p, r = random_law(rng, 5)
    best = -math.inf
    for _ in range(200):
        phi = rng.dirichlet(np.ones(5) * 0.5)
        d = kl(phi, p)
        if d < max_kl(p, r):
            best = max(best, float(np.dot(phi, r)) - optimal_reward(p, r, d))
    return 0.0, best


@check("tilt.jeffreys", "Theoretical limits of LM alignment (arXiv 2605.07105)",
       "E_phi r - E_p r vs [KL(phi||p) + KL(p||phi)] / lambda", 1e-12)
def _jeffreys(rng):
    p, r = random_law(rng, 6)
    lam = rng.uniform(0.1, 3.0)
    phi = tilt(p, r, 1.0 / lam)
    return float(np.dot(phi - p, r)), (kl(phi, p) + kl(p, phi)) / lam


@check("tilt.tensorisation", "Yang et al. 2024, tensorisation (the optimum is memoryless)",
       "KL of the tilted length-n LM from the LM vs n * delta", 1e-12)
def _tensor(rng):
    p, r = random_law(rng, 4)
    n = int(rng.integers(2, 50))
    delta = max_kl(p, r) * rng.uniform(0.1, 0.9)
    lm = MemorylessLM(p, r, n)
    return n * delta, lm.tilt(beta_for_kl(p, r, delta)).kl(lm)


@mc_check("mc.tilt_reward_is", "Korbak et al. 2022; Yang et al. 2024, the closed-form KL-constrained optimum",
          "E_phi r vs self-normalised importance weights exp(r/beta) on draws from p (batch-means CI)")
def _mc_tilt_reward(rng, m):

    p, r = random_law(rng, 6)
    beta = rng.uniform(0.5, 2.0)
    y = sample_law(p, m, rng=rng)
    w = np.exp((r[y] - r.max()) / beta)
    est, half = batch_ci(lambda idx: float(np.dot(w[idx], r[y[idx]]) / w[idx].sum()), np.arange(m))
    return tilt_mean(p, r, beta), est, half


@mc_check("mc.tilt_kl_is", "Yang et al. 2024, section 1 (K = lambda Lambda' - Lambda)",
          "KL(phi || p) vs lambda E_phi r - log E_p e^{lambda r}, both by importance sampling (batch means)")
def _mc_tilt_kl(rng, m):

    p, r = random_law(rng, 6)
    beta = rng.uniform(0.5, 2.0)
    lam = 1.0 / beta
    y = sample_law(p, m, rng=rng)
    w = np.exp(lam * (r[y] - r.max()))

    def kl_hat(idx):
        ww = w[idx]
        return float(lam * np.dot(ww, r[y[idx]]) / ww.sum() - (lam * r.max() + math.log(ww.mean())))

    est, half = batch_ci(kl_hat, np.arange(m))
    return tilt_kl(p, r, beta), est, half
