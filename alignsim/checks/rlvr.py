"""Checks of RL with verifiable rewards: group-update moments by enumeration and simulation, GRPO's weight against
the dynamics module, the pass@k estimator's unbiasedness."""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..dynamics import grpo_binary_factor
from ..rlvr import GROUP_ESTIMATORS, clip_cov_update, group_update_moments, pass_at_k_estimator_moments
from ._registry import check, mc_check
from ._stats import batch_ci


def _advantages(rewards, estimator):
    r = np.asarray(rewards, float)
    if estimator == "dr_grpo":
        return r - r.mean()
    if estimator == "rloo":
        return r - (r.sum() - r) / (r.size - 1)
    s = r.std(ddof=1)
    return (r - r.mean()) / s if s > 0 else np.zeros(r.size)


@check("rlvr.group_moments_vs_enumeration", "GRPO, Dr. GRPO, RLOO group advantages with a noisy binary verifier",
       "mean and variance of one group's update (G = 3, random p, false-positive and false-negative rates) by the "
       "O(G) conditional sums vs all 4^3 outcomes of (correctness, reported reward): max absolute difference", 1e-13)
def _enum(rng):
    p, fp, fn = rng.uniform(0.05, 0.95), rng.uniform(0, 0.3), rng.uniform(0, 0.3)
    probs = {(1, 1): p * (1 - fn), (1, 0): p * fn, (0, 1): (1 - p) * fp, (0, 0): (1 - p) * (1 - fp)}
    worst = 0.0
    for est in GROUP_ESTIMATORS:
        m1 = m2 = 0.0
        for case in itertools.product(probs, repeat=3):
            w = math.prod(probs[c] for c in case)
            upd = float(np.mean(_advantages([c[1] for c in case], est) * (np.array([c[0] for c in case]) - p)))
            m1, m2 = m1 + w * upd, m2 + w * upd * upd
        got = group_update_moments(p, 3, est, fp=fp, fn=fn)
        worst = max(worst, abs(got["mean"] - m1), abs(got["variance"] - (m2 - m1 * m1)))
    return 0.0, worst


@check("rlvr.grpo_weight_vs_dynamics", "GRPO's binary amplification (dynamics.grpo_binary_factor)",
       "noise-free GRPO group update mean / (p (1 - p)) by the rlvr conditional sums vs dynamics.grpo_binary_factor "
       "(an independent implementation), random p, G in 2..64, ddof 0 and 1: max relative difference", 1e-12)
def _weight(rng):
    p, g = float(rng.uniform(0.02, 0.98)), int(rng.integers(2, 65))
    return 0.0, max(abs(group_update_moments(p, g, "grpo", ddof=d)["weight"] / grpo_binary_factor(p, g, ddof=d) - 1.0)
                    for d in (0, 1))


@check("rlvr.pass_at_k_unbiased", "Chen et al. 2021, eq. (1): the pass@k estimator is unbiased",
       "E[1 - C(n-c, k)/C(n, k)] over c ~ Binomial(n, p) summed term by term (exact integer binomials) vs "
       "1 - (1 - p)^k, random p, n in 5..60, k in 1..n", 1e-12)
def _passk(rng):
    p, n = float(rng.uniform(0.01, 0.99)), int(rng.integers(5, 61))
    k = int(rng.integers(1, n + 1))
    total = math.fsum(math.comb(n, c) * p ** c * (1 - p) ** (n - c) * math.comb(n - c, k) / math.comb(n, k)
                      for c in range(n - k + 1))
    return pass_at_k_estimator_moments(p, n, k)[0], 1.0 - total


def _simulated_updates(rng, m, p, g, fp, fn):
    y = rng.random((m, g)) < p
    reported = np.where(y, rng.random((m, g)) >= fn, rng.random((m, g)) < fp).astype(float)
    mean = reported.mean(1, keepdims=True)
    s = reported.std(1, ddof=1, keepdims=True)
    adv = np.where(s > 0, (reported - mean) / np.where(s > 0, s, 1.0), 0.0)
    return (adv * (y - p)).mean(1)


@mc_check("mc.rlvr_noisy_grpo_update", "GRPO with a noisy verifier (this package)",
          "exact mean of one GRPO group update (G = 8, p = 0.2, fp = 0.05, fn = 0.3) vs simulated groups (20 batches, "
          "t interval)")
def _mc_grpo(rng, m):
    est, half = batch_ci(np.mean, _simulated_updates(rng, max(m // 8, 2000), 0.2, 8, 0.05, 0.3))
    return group_update_moments(0.2, 8, "grpo", fp=0.05, fn=0.3)["mean"], est, half


@mc_check("mc.rlvr_noise_matters", "negative control: the verifier's noise changes the update",
          "the same simulation must EXCLUDE the noise-free GRPO mean", "!=")
def _mc_negative(rng, m):
    est, half = batch_ci(np.mean, _simulated_updates(rng, max(m // 8, 2000), 0.2, 8, 0.05, 0.3))
    return group_update_moments(0.2, 8, "grpo")["mean"], est, half


@check("rlvr.aggregated_update_vs_verl_loss", "verl agg_loss (core_algos.py @ 26b5d6b2) differentiated",
       "aggregated_update (a sum over group compositions) vs central differences of the expected aggregated loss "
       "-A_i log pi over all 27 ordered groups of 3 (rlvr.aggregate, each response's log-probability spread over its "
       "tokens; advantages and sampling law held fixed), random logits and lengths, every aggregation, GRPO: max "
       "absolute difference", 1e-8)
def _agg(rng):
    from ..rlvr import AGGREGATIONS, aggregate, aggregated_update

    theta, rewards = rng.normal(size=3), np.array([1.0, 0.0, 0.0])
    lengths = rng.integers(1, 6, size=3)
    pi0 = np.exp(theta - theta.max())
    pi0 /= pi0.sum()
    width = int(lengths.max())
    worst = 0.0
    for agg in AGGREGATIONS:
        def surrogate(t, agg=agg):
            log_pi = t - t.max() - math.log(np.sum(np.exp(t - t.max())))
            total = 0.0
            for group in itertools.product(range(3), repeat=3):
                adv = _advantages(rewards[list(group)], "grpo")
                loss, mask = np.zeros((3, width)), np.zeros((3, width))
                for i, y in enumerate(group):
                    loss[i, : lengths[y]] = -adv[i] * log_pi[y] / lengths[y]
                    mask[i, : lengths[y]] = 1.0
                total += math.prod(pi0[list(group)]) * aggregate(loss, mask, agg)
            return total
        fd = -np.array([(surrogate(theta + 1e-6 * e) - surrogate(theta - 1e-6 * e)) / 2e-6 for e in np.eye(3)])
        worst = max(worst, float(np.max(np.abs(aggregated_update(theta, rewards, lengths, 3, "grpo", agg) - fd))))
    return 0.0, worst


@check("rlvr.pass_at_k_advantages_vs_subsets", "Chen et al. 2025, pass@k training (analytic advantage)",
       "pass_at_k_advantages (closed form in binomials) vs every k-subset of a group: each answer's mean subset "
       "reward minus the mean over all subsets, over their standard deviation; random G in 3..8, k < G, every c: "
       "max absolute difference", 1e-12)
def _passk_adv(rng):
    from ..rlvr import pass_at_k_advantages

    g = int(rng.integers(3, 9))
    k = int(rng.integers(1, g))
    worst = 0.0
    for c in range(1, g):
        correct = np.arange(g) < c
        subsets = list(itertools.combinations(range(g), k))
        reward = {s: float(correct[list(s)].any()) for s in subsets}
        values = np.array(list(reward.values()))
        per = [np.mean([reward[s] for s in subsets if i in s]) - values.mean() for i in (0, g - 1)]
        sd = values.std()
        a_plus, a_minus = pass_at_k_advantages(c, g, k)
        if sd > 0:
            worst = max(worst, abs(float(a_plus) - per[0] / sd), abs(float(a_minus) - per[1] / sd))
    return 0.0, worst


@check("rlvr.trajectory_step_vs_dynamics", "GRPO's expected update (dynamics.grpo_expected_update, independent code)",
       "one step of prompt_set_trajectory (a policy over 4 answers shared by 6 prompts, G = 8) vs theta + eta times "
       "the mean over prompts of dynamics.grpo_expected_update: absolute difference of the mean pass@1 after the step",
       1e-13)
def _trajectory(rng):
    from ..dynamics import grpo_expected_update
    from ..rlvr import prompt_set_trajectory

    theta = rng.normal(size=4)
    sets = [[0], [0], [0, 1], [1], [2], [3]]
    pi = np.exp(theta - theta.max())
    pi /= pi.sum()
    upd = np.mean([grpo_expected_update(pi, np.isin(np.arange(4), c).astype(float), 8) for c in sets], axis=0)
    new = np.exp(theta + 0.4 * upd - (theta + 0.4 * upd).max())
    new /= new.sum()
    want = float(np.mean([new[c].sum() for c in sets]))
    got = prompt_set_trajectory(theta, sets, G=8, steps=1, eta=0.4, ks=(1,))["pass@1"].iloc[1]
    return want, float(got)


@mc_check("mc.rlvr_clip_cov_update", "Clip-Cov (Cui et al. 2025; verl compute_policy_loss_clip_cov @ b178a3cd)",
          "first logit of the large-batch expected Clip-Cov update vs verl's batch procedure (covariance window, "
          "random detachment of a fraction of tokens, token-mean) run on 20 batches (t interval)")
def _mc_clip_cov(rng, m):
    from scipy.special import log_softmax

    theta, adv = np.array([0.8, 0.1, -0.4, 0.3]), np.array([1.0, -0.5, 2.0, -1.5])
    pi = np.exp(log_softmax(theta))
    size = max(m // 20, 20_000)
    vals = []
    for _ in range(20):
        y = rng.choice(pi.size, size=size, p=pi)
        a, logp = adv[y], np.log(pi[y])
        cov = (a - a.mean()) * (logp - logp.mean())
        idx = np.nonzero((cov < 5.0) & (cov > 0.3))[0]
        corr = np.ones(size)
        corr[idx[rng.permutation(idx.size)[: min(max(int(0.05 * size), 1), idx.size)]]] = 0.0
        vals.append(float(np.mean(-(a * corr) * ((y == 0) - pi[0]))))
    est, half = batch_ci(np.mean, np.array(vals))
    return float(clip_cov_update(theta, adv, clip_cov_ratio=0.05, clip_cov_lb=0.3)[0]), est, half


@check("rlvr.success_probability_vs_enumeration", "a prompt as an LM with a verifier on (reward, length)",
       "success probability of a random 3-token Markov LM with an end token (length 4) under a verifier on reward "
       "and length, from the joint law vs the sum over every complete sequence of exp(log_prob): absolute difference",
       1e-13)
def _success(rng):
    from ..markov import MarkovLM
    from ..rlvr import success_probability

    lm = MarkovLM(rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3), size=3), [0.0, 1.0, 2.0], 4, eos=0)
    threshold = float(rng.integers(1, 6))

    def correct(reward, n):
        return reward >= threshold and n >= 3

    total = 0.0
    for n in range(1, 5):
        for seq in itertools.product(range(3), repeat=n):
            if 0 in seq[:-1] or (n < 4 and seq[-1] != 0):
                continue  # the end token stops a sequence; a short one must end with it
            if correct(float(sum(seq)), n):
                total += math.exp(lm.log_prob(list(seq)))
    return success_probability(lm, correct), total


@check("rlvr.sequence_update_vs_enumeration", "a group update per state of a Markov LM with an end token",
       "sequence_update (exchangeability, a convolution of the other G - 1 sequences, a forward-backward score pass) "
       "vs the mean over all 729 groups of 3 of a random 3-token chain with an end token (length 3) of "
       "sum_{i,t} A_i w_it (e_a - pi), each token's weight w_it read off rlvr.aggregate on a one-hot loss matrix; "
       "GRPO, every aggregation: max absolute difference", 1e-11)
def _sequence_update(rng):
    from ..markov import MarkovLM
    from ..rlvr import AGGREGATIONS, aggregate, sequence_update

    mu, T = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3), size=3)
    lm = MarkovLM(mu, T, [0.0, 1.0, 0.5], 3, eos=0)
    seqs = []
    for n in range(1, 4):
        for seq in itertools.product(range(3), repeat=n):
            if 0 in seq[:-1] or (n < 3 and seq[-1] != 0):
                continue
            seqs.append((seq, math.exp(lm.log_prob(list(seq))), float(sum((0.0, 1.0, 0.5)[t] for t in seq) >= 1.0)))

    def scores(seq):  # d log pi(token) / d (initial logits, transition logits), token by token
        out = []
        for t, tok in enumerate(seq):
            g0, gt = np.zeros(3), np.zeros((3, 3))
            if t == 0:
                g0 = np.eye(3)[tok] - mu
            else:
                gt[seq[t - 1]] = np.eye(3)[tok] - T[seq[t - 1]]
            out.append((g0, gt))
        return out

    cache = {}  # (lengths, aggregation) -> each token's weight

    def token_weights(lengths, agg):
        if (lengths, agg) not in cache:
            mask = np.array([[1.0 if t < n else 0.0 for t in range(max(lengths))] for n in lengths])
            w = np.zeros(mask.shape)
            for i, t in zip(*np.nonzero(mask)):
                one = np.zeros(mask.shape)
                one[i, t] = 1.0
                w[i, t] = aggregate(one, mask, agg, horizon=3.0)
            cache[lengths, agg] = w
        return cache[lengths, agg]

    worst = 0.0
    for agg in AGGREGATIONS:
        e0, eT = np.zeros(3), np.zeros((3, 3))
        for group in itertools.product(seqs, repeat=3):
            adv = _advantages([c for _, _, c in group], "grpo")
            w = token_weights(tuple(len(s) for s, _, _ in group), agg)
            weight = math.prod(p for _, p, _ in group)
            for i, (seq, _, _) in enumerate(group):
                for t, (g0, gt) in enumerate(scores(seq)):
                    c = weight * adv[i] * w[i, t]
                    e0 += c * g0
                    eT += c * gt
        d0, dT = sequence_update(lm, lambda r, n: r >= 1.0, 3, "grpo", agg)
        worst = max(worst, float(np.max(np.abs(d0 - e0))), float(np.max(np.abs(dT - eT))))
    return 0.0, worst


@check("rlvr.length_drift_vs_finite_differences", "MarkovLM.expected_gradient and the length drift of a group update",
       "sequence_length_drift (the expected update paired with MarkovLM.expected_gradient of E[L 1_S] and P(S)) vs "
       "central differences (step 1e-5) of the exact mean length of the right answers of a random 3-token chain with "
       "an end token (length 6), moved along the update; GRPO with a random aggregation: absolute difference", 1e-8)
def _drift(rng):
    from ..markov import MarkovLM
    from ..rlvr import AGGREGATIONS, sequence_length_drift, sequence_update

    def softmax(x):
        z = np.exp(x - x.max(axis=-1, keepdims=True))
        return z / z.sum(axis=-1, keepdims=True)

    eta, theta = rng.normal(size=3), rng.normal(size=(3, 3))
    agg = AGGREGATIONS[int(rng.integers(len(AGGREGATIONS)))]
    lm = MarkovLM(softmax(eta), softmax(theta), [0.0, 1.0, 0.5], 6, eos=0)

    def right(r, n):
        return r >= 1.0

    u0, ut = sequence_update(lm, right, 4, "grpo", agg)

    def mean_length(step):
        j = MarkovLM(softmax(eta + step * u0), softmax(theta + step * ut), [0.0, 1.0, 0.5], 6, eos=0).joint_law()
        keep = (j["reward"] >= 1.0).to_numpy()
        return float(np.dot(j["prob"][keep], j["length"][keep]) / j["prob"][keep].sum())

    fd = (mean_length(1e-5) - mean_length(-1e-5)) / 2e-5
    return sequence_length_drift(lm, right, 4, "grpo", agg, among="correct"), fd
