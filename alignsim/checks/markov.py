"""Checks of the exact Markov LM (memory and an end token) against enumeration of every sequence, and of the
token-by-token sampler against the exact laws (with a negative control: memory must show)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.special import logsumexp

from ..asymptotics import markov_scgf
from ..markov import MarkovLM
from ..mc import simulate_markov
from ..models import MemorylessLM
from ._registry import check, mc_check
from ._stats import batch_ci, law_deviation, level_draws, mean_test


def _random_chain(rng, v=3, length=5):
    """A step-dependent chain with an end token and integer rewards (ties frequent)."""
    return MarkovLM(rng.dirichlet(np.ones(v)), rng.dirichlet(np.ones(v), size=(length - 1, v)),
                    rng.integers(-2, 3, v).astype(float), length, eos=int(rng.integers(v)))


def _sequences(lm):
    """(sequence, probability, reward) of every complete sequence, by brute force over all prefixes."""
    v, out = lm.initial.size, []
    for n in range(1, lm.length + 1):
        for seq in itertools.product(range(v), repeat=n):
            if lm.eos in seq[:-1] or (n < lm.length and seq[-1] != lm.eos):
                continue
            p = lm.initial[seq[0]] * math.prod(lm.transition[t - 1][seq[t - 1], seq[t]] for t in range(1, n))
            out.append((seq, p, float(sum(lm.rewards[list(seq)]))))
    return out


@check("markov.law_vs_enumeration", "definition of the Markov LM with an end token (this package)",
       "exact reward and length laws of a random step-dependent chain with an end token (V = 3, length 5) vs brute "
       "force over every complete sequence: max relative difference", 1e-12)
def _law(rng):
    lm = _random_chain(rng)
    seqs = _sequences(lm)
    by_reward, by_length = {}, {}
    for s, p, r in seqs:
        by_reward[r] = by_reward.get(r, 0.0) + p
        by_length[len(s)] = by_length.get(len(s), 0.0) + p
    levels, probs = lm.reward_law()
    lengths, lprobs = lm.length_law()
    want_r = {k: q for k, q in by_reward.items() if q > 0}
    want_l = {k: q for k, q in by_length.items() if q > 0}
    if levels.tolist() != sorted(want_r) or lengths.tolist() != sorted(want_l):
        return 0.0, math.inf
    err_r = np.abs(probs - [want_r[k] for k in sorted(want_r)]) / np.array([want_r[k] for k in sorted(want_r)])
    err_l = np.abs(lprobs - [want_l[k] for k in sorted(want_l)]) / np.array([want_l[k] for k in sorted(want_l)])
    return 0.0, float(max(err_r.max(), err_l.max()))


@check("markov.tilt_vs_enumeration", "KL-regularised optimum pi e^{R/beta}/Z (Korbak et al. 2022; backward recursion)",
       "MarkovLM.tilt(beta) by the backward soft-value recursion vs pi(y) e^{R(y)/beta} / Z on every complete "
       "sequence (random chain with an end token, beta in [0.2, 5]): max |log-probability difference|", 1e-11)
def _tilt(rng):
    lm = _random_chain(rng)
    beta = float(rng.uniform(0.2, 5.0))
    seqs = [(s, p, r) for s, p, r in _sequences(lm) if p > 0]
    log_z = math.log(math.fsum(p * math.exp(r / beta) for _, p, r in seqs))
    phi = lm.tilt(beta)
    return 0.0, max(abs(phi.log_prob(list(s)) - (math.log(p) + r / beta - log_z)) for s, p, r in seqs)


@check("markov.kl_chain_rule", "chain rule of the KL divergence",
       "sequence-level KL(pi || pi') of two random chains with the same end token by the chain rule vs the sum over "
       "every complete sequence", 1e-11)
def _kl(rng):
    a = _random_chain(rng)
    b = MarkovLM(rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3), size=(4, 3)), a.rewards, 5, eos=a.eos)
    brute = math.fsum(p * (math.log(p) - b.log_prob(list(s))) for s, p, _ in _sequences(a) if p > 0)
    return brute, a.kl(b)


@check("markov.memoryless_special_case", "a memoryless LM is a chain with identical rows",
       "MarkovLM.from_memoryless(p, r, 50).reward_law vs MemorylessLM(p, r, 50).reward_law (V = 3, rewards "
       "0, 1, 3): max |log-mass difference| / max(1, |log-mass|), the relative accuracy of each log (masses down "
       "to e^-150 here; a mass near 1 agrees to 1e-14 absolute)", 1e-14)
def _memoryless(rng):
    p = rng.dirichlet(np.ones(3))
    _, a = MarkovLM.from_memoryless(p, [0.0, 1.0, 3.0], 50).reward_law(log=True)
    _, b = MemorylessLM(p, [0.0, 1.0, 3.0], 50).reward_law(log=True)
    return 0.0, float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) if a.size == b.size else math.inf


def _joint_cells(lm, rewards, lengths):
    """Indices of the sampled (reward, length) pairs among the rows of the exact joint law (-1: not a row)."""
    law = lm.joint_law()
    cells = {(x, n): i for i, (x, n) in enumerate(zip(law["reward"], law["length"]))}
    return np.array([cells.get(key, -1) for key in zip(rewards.tolist(), lengths.tolist())]), law["prob"].to_numpy()


@mc_check("mc.markov_joint_vs_tokens", "definition of the Markov LM with an end token (this package)",
          "exact joint law of (reward, length) of a random step-dependent chain with an end token (V = 3, length 8) "
          "vs token-by-token simulation: max standardised deviation over cells (Bonferroni)")
def _mc_joint(rng, m):
    lm = MarkovLM(rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3), size=(7, 3)), [0.0, 1.0, 2.0], 8,
                  eos=int(rng.integers(3)))
    idx, probs = _joint_cells(lm, *simulate_markov(lm, m, rng=rng))
    if np.any(idx < 0):  # a pair of probability zero was drawn
        return 0.0, math.inf, 0.0
    return law_deviation(idx, probs)


@mc_check("mc.markov_tilt_vs_tokens", "KL-regularised optimum pi e^{R/beta}/Z (Korbak et al. 2022)",
          "reward law of the sequence-level tilt: exact pi's reward law reweighted by e^{R/beta}/Z (V = 3, length "
          "12, end token, beta in [0.5, 3]) vs simulating the MarkovLM that tilt() returns, token by token")
def _mc_tilt(rng, m):
    lm = MarkovLM(rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3), size=(3,)), [0.0, 1.0, 2.0], 12, eos=0)
    beta = float(rng.uniform(0.5, 3.0))
    levels, log_p = lm.reward_law(log=True)
    log_q = log_p + levels / beta
    q = np.exp(log_q - np.max(log_q))
    rewards, _ = simulate_markov(lm.tilt(beta), m, rng=rng)
    return law_deviation(level_draws(rewards, levels), q / q.sum())


def _sticky(rng):
    """A sticky two-token chain (stay with probability 0.9-0.95) of length 40 and the memoryless LM with its
    stationary marginal: same mean reward, very different variance."""
    stay = rng.uniform(0.9, 0.95, size=2)
    t = np.array([[stay[0], 1 - stay[0]], [1 - stay[1], stay[1]]])
    pi = np.array([t[1, 0], t[0, 1]]) / (t[1, 0] + t[0, 1])
    return MarkovLM(pi, t, [0.0, 1.0], 40), MemorylessLM(pi, [0.0, 1.0], 40)


def _variance(levels, probs):
    mean = float(np.dot(probs, levels))
    return float(np.dot(probs, (levels - mean) ** 2))


@mc_check("mc.markov_variance_vs_tokens", "definition of the Markov LM (this package)",
          "variance of the reward of a sticky stationary chain (length 40) from its exact reward law vs the sample "
          "variance of simulated sequences (20 batches, t interval)")
def _mc_var(rng, m):
    chain, _ = _sticky(rng)
    est, half = batch_ci(np.var, simulate_markov(chain, m, rng=rng)[0])
    return _variance(*chain.reward_law()), est, half


@mc_check("mc.markov_memory_excluded", "negative control: memory changes the reward law",
          "the same simulated variance must EXCLUDE the variance of the memoryless LM with the chain's stationary "
          "marginal (same mean reward, an order of magnitude smaller variance)", "!=")
def _mc_memory(rng, m):
    chain, memoryless = _sticky(rng)
    est, half = batch_ci(np.var, simulate_markov(chain, m, rng=rng)[0])
    return _variance(*memoryless.reward_law()), est, half


@mc_check("mc.markov_mean_length", "definition of the end token (this package)",
          "exact mean length from length_law vs the mean of simulated lengths (V = 4, length 60, end token, "
          "Bernstein interval)")
def _mc_length(rng, m):
    lm = MarkovLM(rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4), size=(4,)), [0.0, 1.0, 2.0, 3.0], 60, eos=3)
    lengths, probs = lm.length_law()
    return mean_test(simulate_markov(lm, m, rng=rng)[1].astype(float), lengths.astype(float), probs)


@check("markov.scgf_vs_exact_mgf", "Perron-Frobenius SCGF of Markov additive functionals (Dembo-Zeitouni Thm 3.1.1)",
       "asymptotics.markov_scgf(T, r, t) = log rho(T diag(e^{tr})) of a random irreducible chain (V = 3, t in "
       "[-2, 2]) vs log E e^{t R_1001} - log E e^{t R_1000} from the exact reward laws: absolute difference", 1e-10)
def _scgf(rng):
    t_mat = rng.dirichlet(np.ones(3), size=3)
    r = np.array([0.0, 1.0, 2.0])
    t = float(rng.uniform(-2.0, 2.0))
    mu = rng.dirichlet(np.ones(3))
    log_mgf = []
    for n in (1000, 1001):
        levels, log_p = MarkovLM(mu, t_mat, r, n).reward_law(log=True)
        log_mgf.append(float(logsumexp(log_p + t * levels)))
    return markov_scgf(t_mat, r, t), log_mgf[1] - log_mgf[0]


@check("markov.rate_function_vs_legendre", "Gärtner-Ellis: I is the Legendre transform of the Perron SCGF",
       "asymptotics.markov_rate_function (root of Lambda'(t) = x from Perron vectors) vs a bounded numerical "
       "maximisation of t x - Lambda(t) over t, random irreducible chain (V = 3), x inside the cycle-mean range", 1e-8)
def _rate(rng):
    from scipy.optimize import minimize_scalar

    from ..asymptotics import markov_rate_function

    t_mat, r = rng.dirichlet(np.ones(3), size=3), np.array([0.0, 1.0, 2.0])
    x = float(rng.uniform(0.3, 1.7))
    res = minimize_scalar(lambda s: -(s * x - markov_scgf(t_mat, r, s)), bounds=(-80, 80), method="bounded",
                          options={"xatol": 1e-12})
    return markov_rate_function(t_mat, r, x), -float(res.fun)


@check("markov.bon_vs_rl_memoryless", "Yang et al. 2024 (best-of-N vs KL-RL), memoryless special case",
       "asymptotics.markov_bon_vs_rl on a chain with identical rows vs asymptotics.bon_vs_rl (lengths 20 and 200): "
       "max relative difference of the best-of-N reward, KL(BoN || ref) and the limit level", 1e-9)
def _bon_vs_rl(rng):
    from ..asymptotics import bon_vs_rl, markov_bon_vs_rl

    p = rng.dirichlet(np.ones(2) * 2)
    ours = markov_bon_vs_rl(p, np.tile(p, (2, 1)), [0, 1], 0.05, [20, 200])
    theirs = bon_vs_rl(p, [0, 1], 0.05, [20, 200])
    pairs = [(ours["bon_reward"], theirs["bon_reward"]), (ours["kl_bon_ref"], theirs["kl_bon_ref"]),
             (ours["limit"], theirs["rl_reward"])]
    return 0.0, float(max(np.max(np.abs(a.to_numpy() / b.to_numpy() - 1.0)) for a, b in pairs))
