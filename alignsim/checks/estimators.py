"""Checks of KL estimators and their gradients."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import log_softmax
from scipy.stats import norm

from ..divergences import kl
from ..estimators import (
    GRADIENT_ROWS,
    estimator_moments,
    expected_kl_gradient,
    sample_gradient_coefficient,
    gradient_table,
    kl_estimator,
    kl_gradient_targets,
    sequence_estimator_moments,
)
from ..mc import sample_law, simulate_rewards
from ..models import MemorylessLM
from ._registry import Z, check, mc_check
from ._stats import bernstein, mean_test


@check("estimators.sequence_closed_forms", "Schulman 2020 (k1, k2, k3 of a sequence: sums of token estimators)",
       "closed-form variance of sequence-level k2 and k3 vs the exact law of S = sum of log-ratios (the core's "
       "memoryless reward law with the token log-ratios as rewards, L = 6): max relative difference", 1e-11)
def _seq_closed(rng):

    p, q = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3))
    ell = np.log(p) - np.log(q)
    levels, probs = MemorylessLM(p, ell, 6).reward_law()
    worst = 0.0
    for kind in ("k2", "k3"):
        vals = kl_estimator(levels, 0.0, kind)
        mean = math.fsum(probs * vals)
        var = math.fsum(probs * (vals - mean) ** 2)
        m = sequence_estimator_moments(p, q, 6, kind, "sequence")
        worst = max(worst, abs(m["mean"] - mean) / mean, abs(m["var"] - var) / var)
    return 0.0, worst


@check("estimators.gradient_rows_vs_fd", "Tang & Munos 2025",
       "every table row labelled reverse / forward / k2-divergence vs central finite differences of KL(pi||ref), "
       "KL(ref||pi), E_pi k2 in the logits (random instance): max abs difference", 1e-8)
def _grad_rows(rng):

    k = 5
    theta, old = rng.normal(size=k), rng.normal(size=k)
    ref = rng.dirichlet(np.ones(k) * 2)

    def objectives(th):
        pi = np.exp(th - th.max())
        pi /= pi.sum()
        ell = np.log(pi) - np.log(ref)
        return {"reverse": kl(pi, ref), "forward": kl(ref, pi), "k2_divergence": 0.5 * float(np.dot(pi, ell * ell))}

    h = 1e-6
    fd = {name: np.array([(objectives(theta + h * e)[name] - objectives(theta - h * e)[name]) / (2 * h)
                          for e in np.eye(k)]) for name in ("reverse", "forward", "k2_divergence")}
    df = gradient_table(theta, ref, old, with_gradients=True)
    labelled = df[df["target"].isin(list(fd))]
    if len(labelled) < 10:  # the table must keep labelling the correct rows
        return 0.0, math.inf
    return 0.0, float(max(np.max(np.abs(row.gradient - fd[row.target])) for row in labelled.itertuples()))


@mc_check("estimators.k3_mean_vs_mc", "Schulman 2020 (k3 unbiased)",
          "E_p k3 = KL(p || ref) vs the mean of k3 over draws from p")
def _mc_k3(rng, m):

    p, ref = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    vals = kl_estimator(np.log(p), np.log(ref), "k3")
    _, est, half = mean_test(vals[sample_law(p, m, rng=rng)], vals, p)
    return kl(p, ref), est, half


@mc_check("estimators.k2_bias_vs_mc", "Schulman 2020 (k2 biased)",
          "E_p k2 (exact finite sum, != KL) vs the mean of k2 over draws from p")
def _mc_k2(rng, m):

    p, ref = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    vals = kl_estimator(np.log(p), np.log(ref), "k2")
    _, est, half = mean_test(vals[sample_law(p, m, rng=rng)], vals, p)
    return estimator_moments(p, ref, "k2")["mean"], est, half


@mc_check("estimators.token_sum_k3_vs_mc", "Schulman 2020 (k1, k2, k3 of a sequence: sums of token estimators)",
          "mean of the per-token sum of k3 over simulated sequences (L = 16) vs L * KL")
def _mc_tok(rng, m):

    p, q = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
    lm = MemorylessLM(p, kl_estimator(np.log(p), np.log(q), "k3"), 16)
    x = simulate_rewards(lm, m, rng=rng)
    mom = sequence_estimator_moments(p, q, 16, "k3", "token")
    # the per-token sum lies in [0, 16 max k3], so |X - mean| <= 16 max k3 + mean
    half = bernstein(mom["var"], float(lm.r.max()) * 16 + mom["mean"], m)
    return mom["mean"], float(x.mean()), half


@mc_check("estimators.k3_loss_gradient_vs_mc", "Tang & Munos 2025 (GRPO's k3 as loss follows the forward KL)",
          "mean per-sample gradient (1 - rho) s_y of k3-as-loss vs pi - ref: largest component deviation in units "
          "of its Bernstein half-width (exact variance, Bonferroni over components)")
def _mc_k3_grad(rng, m):

    k = 5
    theta, ref = rng.normal(size=k), rng.dirichlet(np.ones(k) * 2)
    pi = np.exp(theta - theta.max())
    pi /= pi.sum()
    coeff = -np.expm1(-(np.log(pi) - np.log(ref)))
    y = sample_law(pi, m, rng=rng)
    target = kl_gradient_targets(theta, ref)["forward"]
    worst = 0.0
    for a in range(k):
        values = coeff * ((np.arange(k) == a) - pi[a])  # component a of the per-sample gradient, per outcome
        mean = float(np.dot(pi, values))
        half = bernstein(float(np.dot(pi, (values - mean) ** 2)), float(np.max(np.abs(values - mean))), m,
                          delta=2.0 * norm.sf(Z) / k)  # Bonferroni over the k components
        worst = max(worst, abs(float(values[y].mean()) - target[a]) / half)
    return 0.0, worst, 1.0


@mc_check("estimators.gradient_rows_vs_mc", "Tang & Munos 2025",
          "every row of the gradient table: mean per-sample gradient f(y) s_y over draws from the sampling policy vs "
          "the exact expected gradient; largest deviation in units of its Bernstein half-width (Bonferroni over "
          "rows and components)")
def _mc_rows(rng, m):


    k = 5
    theta, old = rng.normal(size=k), rng.normal(size=k)
    ref = rng.dirichlet(np.ones(k) * 2)
    log_pi, log_mu = log_softmax(theta), log_softmax(old)
    pi, mu = np.exp(log_pi), np.exp(log_mu)
    draws = {"on": sample_law(pi, m, rng=rng), "off": sample_law(mu, m, rng=rng)}
    delta = 2.0 * norm.sf(Z) / (len(GRADIENT_ROWS) * k)
    worst = 0.0
    for kind, placement, sampling, isw in GRADIENT_ROWS:
        samp = pi if sampling == "on" else mu
        f = sample_gradient_coefficient(theta, ref, kind, placement, old if sampling == "off" else None, isw)
        exact = expected_kl_gradient(theta, ref, kind, placement, old if sampling == "off" else None, isw)
        y = draws[sampling]
        for a in range(k):
            values = f * ((np.arange(k) == a) - pi[a])  # component a of f(y) s_y, per outcome
            mean = float(np.dot(samp, values))
            half = bernstein(float(np.dot(samp, (values - mean) ** 2)), float(np.max(np.abs(values - mean))), m,
                              delta=delta)
            worst = max(worst, abs(float(values[y].mean()) - exact[a]) / half)
    return 0.0, worst, 1.0
