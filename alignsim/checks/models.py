"""Checks of exact reward laws of memoryless LMs."""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..bon import bon_law
from ..divergences import kl
from ..mc import naive_bon_rewards, simulate_rewards
from ..models import MemorylessLM
from ._registry import check, mc_check
from ._stats import enumerate_lm, law_deviation, level_draws, mean_test, random_law


@check("lm.law_vs_enumeration", "definition of the memoryless LM (Yang et al. 2024, assumptions M, L)",
       "exact reward law vs brute force over all V^n sequences (V=3, n=7): max relative difference", 1e-13)
def _law_enum(rng):
    p = rng.dirichlet(np.ones(3))
    r = rng.integers(-2, 3, size=3).astype(float)
    levels, probs = MemorylessLM(p, r, 7).reward_law()
    lv, pr = enumerate_lm(p, r, 7)
    if not np.array_equal(lv, levels):
        return 0.0, math.inf
    return 0.0, float(np.max(np.abs(pr - probs) / pr))


@check("lm.lattice_vs_types", "two exact algorithms for the same law",
       "log-space lattice convolution vs multinomial types (n=400): max relative error of log-masses", 1e-12)
def _lattice_types(rng):
    p = rng.dirichlet(np.ones(3))
    lm = MemorylessLM(p, [0.0, 1.0, 3.0], 400)
    _, a = lm.reward_law(log=True, method="lattice")
    _, b = MemorylessLM(p, [0.0, 1.0, 3.0], 400).reward_law(log=True, method="types")
    return 0.0, float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


@check("lm.win_rate_vs_enumeration", "win rate with ties one half (Beirami et al. 2024, section 5)",
       "MemorylessLM.win_rate of two random LMs of length 4 (V = 3 and V = 2, integer rewards in 0..2, so ties "
       "are frequent) vs brute force over all pairs of sequences; also W(a, b) + W(b, a) = 1", 1e-13)
def _win_enum(rng):
    a = MemorylessLM(rng.dirichlet(np.ones(3)), rng.permutation(3).astype(float), 4)
    b = MemorylessLM(rng.dirichlet(np.ones(2)), rng.permutation(3)[:2].astype(float), 4)
    lv_a, pr_a = enumerate_lm(a.p, a.r, 4)
    lv_b, pr_b = enumerate_lm(b.p, b.r, 4)
    brute = math.fsum(pa * pb * (1.0 if x > y else 0.5 if x == y else 0.0)
                      for x, pa in zip(lv_a, pr_a) for y, pb in zip(lv_b, pr_b))
    got = a.win_rate(b)
    return brute, got if abs(got + b.win_rate(a) - 1.0) < 1e-13 else math.inf


@check("lm.bon_sequence_kl", "Beirami et al. 2024 sec. 2 + random tie-breaking",
       "KL of BoN over whole sequences (enumerated, ties split in proportion) vs the level-law KL", 1e-12)
def _bon_seq(rng):
    p = rng.dirichlet(np.ones(3))
    r = np.array([0.0, 1.0, 2.0])
    n, N = 4, 5
    seqs = list(itertools.product(range(3), repeat=n))
    seq_p = np.array([np.prod(p[list(s)]) for s in seqs])
    seq_r = np.array([r[list(s)].sum() for s in seqs])
    return MemorylessLM(p, r, n).bon_kl(N), kl(bon_law(seq_p, seq_r, N), seq_p)


@mc_check("mc.lm_law_vs_tokens", "memoryless LM (Yang et al. 2024, assumptions M, L)",
          "exact reward law vs token-by-token simulation: max standardised deviation over levels (Bonferroni)")
def _mc_lm_law(rng, m):

    p = rng.dirichlet(np.ones(4))
    lm = MemorylessLM(p, [0.0, 1.0, 2.0, 5.0], 12)
    levels, probs = lm.reward_law()
    x = simulate_rewards(lm, m, rng=rng)
    return law_deviation(level_draws(x, levels), probs)


@mc_check("mc.lm_mean_vs_tokens", "memoryless LM", "n E_p r vs the mean of simulated sequence rewards")
def _mc_lm_mean(rng, m):

    p, r = random_law(rng, 5)
    lm = MemorylessLM(p, r, 30)
    return mean_test(simulate_rewards(lm, m, rng=rng), *lm.reward_law())


@mc_check("mc.bon_lm_reward_vs_naive", "Yang et al. 2024 (best-of-N on a memoryless LM)",
          "exact E R_n of BoN over sequences vs drawing N whole sequences token by token")
def _mc_bon_lm(rng, m):

    p = rng.dirichlet(np.ones(3))
    lm = MemorylessLM(p, [0.0, 1.0, 3.0], 10)
    N = int(rng.integers(2, 20))
    exact, est, half = mean_test(naive_bon_rewards(lm, N, max(m // 4, 1000), rng=rng), *lm.bon_reward_law(N))
    return lm.bon_mean_reward(N), est, half


@mc_check("mc.won_lm_law_vs_naive", "worst-of-N on a memoryless LM",
          "exact WoN level law over sequences vs naive simulation: max standardised deviation")
def _mc_won_lm(rng, m):

    p = rng.dirichlet(np.ones(3))
    lm = MemorylessLM(p, [0.0, 1.0, 3.0], 6)
    N = int(rng.integers(2, 8))
    levels, probs = lm.won_reward_law(N)
    return law_deviation(level_draws(naive_bon_rewards(lm, N, m // 2, worst=True, rng=rng), levels), probs)
