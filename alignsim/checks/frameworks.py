"""Checks of the framework presets: the closed forms their expected gradients follow, the clamped verl k3 loss
against its surrogate differentiated at 50 digits, and simulated per-sample gradients."""

from __future__ import annotations

import mpmath as mp
import numpy as np

from ..estimators import kl_gradient_targets
from ..frameworks import expected_gradient, gradient_variance, sequence_gradient
from ..markov import MarkovLM
from ._registry import check, mc_check
from ._stats import batch_ci


def _laws(rng, k=5):
    return rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k))


@check("frameworks.trl_grpo_follows_forward_kl", "TRL GRPOTrainer's per_token_kl (grpo_trainer.py @ f2cd5771)",
       "expected gradient of TRL GRPO's k3 loss vs the closed form pi - ref of grad KL(ref || pi), random laws: "
       "max absolute difference", 1e-14)
def _trl_forward(rng):
    pi, ref = _laws(rng)
    return 0.0, float(np.max(np.abs(expected_gradient(pi, ref, "trl", trainer="grpo") - (pi - ref))))


@check("frameworks.bias_corrected_k3_follows_reverse_kl", "TRL use_bias_correction_kl (DeepSeek-V3.2, eq. 7)",
       "expected gradient of the ratio-weighted k3 (TRL) and of verl's straight-through 'low_var_kl+' vs "
       "F (log pi - log ref) = grad KL(pi || ref), random laws: max absolute difference", 1e-14)
def _reverse(rng):
    pi, ref = _laws(rng)
    rev = kl_gradient_targets(np.log(pi), ref)["reverse"]
    worst = max(np.max(np.abs(expected_gradient(pi, ref, "trl", trainer="grpo", use_bias_correction_kl=True) - rev)),
                np.max(np.abs(expected_gradient(pi, ref, "verl", use_kl_loss=True, kl_loss_type="low_var_kl+")
                              - rev)))
    return 0.0, float(worst)


def _verl_k3_loss_gradients(pi, ref):
    """Per-outcome gradients in the logits of verl's low_var_kl loss (kl_penalty_forward @ b178a3cd: log-ratio
    clamped to [-20, 20], value to [-10, 10]) by central differences at 50 digits."""
    with mp.workdps(50):
        theta = [mp.log(mp.mpf(float(p))) for p in pi]
        h = mp.mpf("1e-20")

        def loss(th, y):
            logp = th[y] - mp.log(mp.fsum(mp.exp(t) for t in th))
            kl = min(max(mp.log(mp.mpf(float(ref[y]))) - logp, -20), 20)
            return min(max(mp.exp(kl) - kl - 1, -10), 10)
        out = np.empty((pi.size, pi.size))
        for y in range(pi.size):
            for a in range(pi.size):
                up, dn = list(theta), list(theta)
                up[a] += h
                dn[a] -= h
                out[y, a] = float((loss(up, y) - loss(dn, y)) / (2 * h))
    return out


@check("frameworks.verl_clamped_k3_vs_surrogate", "verl kl_penalty_forward (core_algos.py @ b178a3cd)",
       "expected gradient and variance per sample of verl's clamped low_var_kl loss vs its surrogate transcribed "
       "into mpmath and differentiated at 50 digits, on laws where both clamps bind: max relative difference", 1e-10)
def _verl_clamps(rng):
    pi, ref = _laws(rng)
    pi[0], ref[0] = 1e-12, 0.3  # log-ratio below -20
    pi[1], ref[1] = 0.01, 0.3   # k3 above 10
    pi, ref = pi / pi.sum(), ref / ref.sum()
    per_y = _verl_k3_loss_gradients(pi, ref)
    brute = pi @ per_y
    got = expected_gradient(pi, ref, "verl", use_kl_loss=True, kl_loss_type="low_var_kl")
    var = float(pi @ np.sum((per_y - brute) ** 2, axis=1))
    got_var = gradient_variance(pi, ref, "verl", use_kl_loss=True, kl_loss_type="low_var_kl")
    return 0.0, max(float(np.max(np.abs(got - brute)) / np.max(np.abs(brute))), abs(got_var / var - 1.0))


@mc_check("mc.frameworks_verl_k3_loss", "verl low_var_kl loss (this package)",
          "first logit's expected gradient of verl's clamped k3 loss vs the mean of simulated per-sample gradients "
          "(20 batches, t interval)")
def _mc_verl(rng, m):
    pi, ref = np.array([0.5, 0.3, 0.15, 0.05]), np.array([0.1, 0.2, 0.3, 0.4])
    per_y = _verl_k3_loss_gradients(pi, ref)
    ys = rng.choice(pi.size, size=max(m // 4, 4000), p=pi)
    est, half = batch_ci(np.mean, per_y[ys, 0])
    return float(expected_gradient(pi, ref, "verl", use_kl_loss=True, kl_loss_type="low_var_kl")[0]), est, half


def _step_logits(lm):
    return np.concatenate([np.log(lm.initial), np.log(lm.transition).ravel()])


def _markov_from_logits(theta, v, length):
    rows = theta.reshape(-1, v)
    laws = np.exp(rows - rows.max(axis=1, keepdims=True))
    laws /= laws.sum(axis=1, keepdims=True)
    return MarkovLM(laws[0], laws[1:].reshape(length - 1, v, v), np.zeros(v), length)


@check("frameworks.k1_reward_follows_sequence_kl", "the chain rule (MarkovLM.kl) and REINFORCE",
       "sequence gradient of verl's k1 in the reward (return-to-go recursion) vs central differences (h = 1e-5) of "
       "KL(pi_theta || ref) / T by MarkovLM.kl in every step's logits, random 3-token chains of length 4: max "
       "absolute difference (the differences' truncation error is ~1e-10)", 1e-8)
def _sequence_kl(rng):
    v, length = 3, 4
    pol = MarkovLM(rng.dirichlet(np.ones(v)), rng.dirichlet(np.ones(v), size=(length - 1, v)), np.zeros(v), length)
    ref = MarkovLM(rng.dirichlet(np.ones(v)), rng.dirichlet(np.ones(v), size=(length - 1, v)), np.zeros(v), length)
    g = sequence_gradient(pol, ref, "verl", use_kl_in_reward=True, kl_penalty="kl")
    got = np.concatenate([g["initial"], g["transition"].ravel()])
    theta, h = _step_logits(pol), 1e-5
    fd = np.empty_like(theta)
    for a in range(theta.size):
        up, dn = theta.copy(), theta.copy()
        up[a] += h
        dn[a] -= h
        fd[a] = (_markov_from_logits(up, v, length).kl(ref) - _markov_from_logits(dn, v, length).kl(ref)) / (2 * h)
    return 0.0, float(np.max(np.abs(got - fd / length)))
