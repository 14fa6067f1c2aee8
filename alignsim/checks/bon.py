"""Checks of best-of-N, worst-of-N and soft best-of-N laws."""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..bon import (
    bon_kl,
    bon_kl_bound,
    bon_kl_gap_bound,
    bon_kl_top_bound,
    bon_law,
    bon_mean_reward,
    bon_win_rate,
    bon_win_rate_bound,
    soft_bon_law,
    winrate_tilt,
    winrate_tilt_for_kl,
    won_law,
)
from ..mc import naive_bon, naive_soft_bon, sample_bon, sample_law
from ..tilting import tilt
from ._registry import check, mc_check
from ._stats import law_deviation, mean_test, random_law, win_interval


@check("bon.law_sums_to_one", "Beirami et al. 2024, Lemma 2", "sum of the BoN law, N = 1e6, tied rewards", 1e-13)
def _bon_sum(rng):
    p, r = random_law(rng, 1000, ties=True)
    return 1.0, float(bon_law(p, r, 10 ** 6).sum())


@check("bon.kl_bound", "Beirami et al. 2024, Theorem 3.1",
       "exact KL(BoN || p) <= log N - (N-1)/N, random law, N in [2, 1000]", 1e-12, "<=")
def _bon_bound(rng):
    p, r = random_law(rng, 20, ties=True)
    N = int(rng.integers(2, 1000))
    return bon_kl_bound(N), bon_kl(p, r, N)


@check("bon.kl_top_bound", "Beirami et al. 2024, Theorem 3.6 (exact form)",
       "KL(BoN || p) <= log((1-(1-eps)^N)/eps)", 1e-12, "<=")
def _bon_top(rng):
    p, r = random_law(rng, 12, ties=True)
    N = int(rng.integers(2, 500))
    return bon_kl_top_bound(p, r, N), bon_kl(p, r, N)


@check("bon.kl_gap_bound", "Beirami et al. 2024, Theorem 3.4",
       "log N - (N-1)/N - KL(BoN || p) <= 2N(N-1) sum P_k^2", 1e-12, "<=")
def _bon_gap(rng):
    p, r = random_law(rng, 400)
    N = int(rng.integers(2, 20))
    return bon_kl_gap_bound(p, r, N), bon_kl_bound(N) - bon_kl(p, r, N)


@check("bon.win_rate_bound", "Beirami et al. 2024, Theorem 5.3", "W(BoN) <= N/(N+1), ties one half", 1e-12, "<=")
def _bon_win(rng):
    p, r = random_law(rng, 10, ties=True)
    N = int(rng.integers(2, 100))
    return bon_win_rate_bound(N), bon_win_rate(p, r, N)


@check("bon.ties_coarsen", "data processing: random tie-breaking coarsens the ordered law",
       "KL(BoN random ties) <= KL(BoN ordered ties)", 1e-12, "<=")
def _bon_ties(rng):
    p, r = random_law(rng, 10, ties=True)
    N = int(rng.integers(2, 50))
    return bon_kl(p, r, N, ties="ordered"), bon_kl(p, r, N)


@check("bon.binary_is_tilt", "Yang et al. 2024, open question on when best-of-N equals KL-RL (binary case)",
       "two-arm BoN law vs the tilt at lambda_N = log((1 - a^N) a / (a^N b)) / (r_b - r_a): max |log ratio|", 1e-12)
def _binary_tilt(rng):
    q = rng.uniform(0.1, 0.9)
    p, r = np.array([1 - q, q]), np.array([0.0, rng.uniform(0.5, 2.0)])
    N = int(rng.integers(2, 30))
    a_n = p[0] ** N
    lam = math.log(-math.expm1(N * math.log1p(-q)) * p[0] / (a_n * p[1])) / (r[1] - r[0])
    return 0.0, float(np.max(np.abs(np.log(bon_law(p, r, N)) - np.log(tilt(p, r, 1.0 / lam)))))


@check("bon.won_direct", "Gui et al. 2024 (worst-of-N law)",
       "worst-of-N level law vs the direct formula S(s)^N - S(s+)^N in plain floats: max |difference|", 1e-13)
def _won(rng):
    p, r = random_law(rng, 8, ties=True)
    N = int(rng.integers(2, 20))
    levels, g = won_law(p, r, N, levels=True)
    mass = np.array([p[r == s].sum() for s in levels])
    surv = np.cumsum(mass[::-1])[::-1]
    direct = surv ** N - np.append(surv[1:], 0.0) ** N
    return 0.0, float(np.max(np.abs(direct - g)))


@check("bon.soft_vs_enumeration", "Verdun et al. 2025 (soft best-of-N)",
       "1-D integral law vs enumeration of all K^N draws (K=4, N=5): max |difference|", 1e-13)
def _soft(rng):
    p, r = random_law(rng, 4, ties=True)
    beta = rng.uniform(0.2, 2.0)
    N = 5
    ref = np.zeros(4)
    for seq in itertools.product(range(4), repeat=N):
        pr = np.prod(p[list(seq)])
        w = np.exp(r[list(seq)] / beta)
        for i, y in enumerate(seq):
            ref[y] += pr * w[i] / w.sum()
    return 0.0, float(np.max(np.abs(ref - soft_bon_law(p, r, N, beta))))


@check("bon.near_optimal_winrate", "Gui et al. 2024 (BoNBoN), sec. 4",
       "atomless BoN win rate N/(N+1) <= optimal tilt's win rate at the same KL", 1e-12, "<=")
def _bonbon(rng):
    N = int(rng.integers(2, 2000))
    return winrate_tilt(winrate_tilt_for_kl(bon_kl_bound(N)))[1], bon_win_rate_bound(N)


@mc_check("mc.bon_law_vs_naive", "Beirami et al. 2024, Lemma 2 (with random tie-breaking)",
          "exact BoN law vs naive simulation (N draws, reservoir tie-break): max standardised deviation")
def _mc_bon_law(rng, m):

    p, r = random_law(rng, 8, ties=True)
    N = int(rng.integers(2, 12))
    return law_deviation(naive_bon(p, r, N, m, rng=rng), bon_law(p, r, N))


@mc_check("mc.won_law_vs_naive", "Gui et al. 2024 (worst-of-N)", "exact WoN law vs naive simulation")
def _mc_won_law(rng, m):

    p, r = random_law(rng, 8, ties=True)
    N = int(rng.integers(2, 12))
    return law_deviation(naive_bon(p, r, N, m, worst=True, rng=rng), won_law(p, r, N))


@mc_check("mc.bon_kl_vs_naive", "Beirami et al. 2024, section 3",
          "exact KL(BoN || p) vs the mean of log(pi_N / p) over naively simulated BoN draws")
def _mc_bon_kl(rng, m):

    p, r = random_law(rng, 10, ties=True)
    N = int(rng.integers(2, 20))
    law = bon_law(p, r, N)
    s = law > 0
    log_ratio = np.zeros_like(p)
    log_ratio[s] = np.log(law[s] / p[s])
    exact, est, half = mean_test(log_ratio[naive_bon(p, r, N, m, rng=rng)], log_ratio, law)
    return bon_kl(p, r, N), est, half


@mc_check("mc.bon_win_rate_vs_naive", "Beirami et al. 2024, Theorem 5.3 (ties one half)",
          "exact win rate vs simulated BoN draws against fresh reference draws")
def _mc_bon_win(rng, m):

    p, r = random_law(rng, 8, ties=True)
    N = int(rng.integers(2, 10))
    y, y0 = naive_bon(p, r, N, m, rng=rng), sample_law(p, m, rng=rng)
    wins = (r[y] > r[y0]) + 0.5 * (r[y] == r[y0])
    return (bon_win_rate(p, r, N),) + win_interval(wins, bon_law(p, r, N), p, r)[1:]


@mc_check("mc.bon_kl_bound", "Beirami et al. 2024, Theorem 3.1",
          "simulated KL(BoN || p) (distinct rewards) does not exceed log N - (N-1)/N", "<=")
def _mc_bon_bound(rng, m):

    p, r = random_law(rng, 50)
    N = int(rng.integers(2, 30))
    law = bon_law(p, r, N)
    log_ratio = np.log(law / p)
    _, est, half = mean_test(log_ratio[naive_bon(p, r, N, m, rng=rng)], log_ratio, law)
    return bon_kl_bound(N), est, half


@mc_check("mc.bon_win_rate_bound", "Beirami et al. 2024, Theorem 5.3", "simulated W(BoN) <= N/(N+1)", "<=")
def _mc_win_bound(rng, m):

    p, r = random_law(rng, 6, ties=True)
    N = int(rng.integers(2, 10))
    y, y0 = naive_bon(p, r, N, m, rng=rng), sample_law(p, m, rng=rng)
    wins = (r[y] > r[y0]) + 0.5 * (r[y] == r[y0])
    return (bon_win_rate_bound(N),) + win_interval(wins, bon_law(p, r, N), p, r)[1:]


@mc_check("mc.soft_bon_vs_naive", "Verdun et al. 2025 (soft best-of-N)",
          "exact soft BoN law (Laplace integral) vs simulation with a weighted reservoir")
def _mc_soft(rng, m):

    p, r = random_law(rng, 6, ties=True)
    N, beta = int(rng.integers(2, 12)), rng.uniform(0.2, 2.0)
    return law_deviation(naive_soft_bon(p, r, N, beta, m, rng=rng), soft_bon_law(p, r, N, beta))


@mc_check("mc.exact_sampler", "alias sampling of the exact BoN law",
          "frequencies of sample_bon (cost independent of N) vs the exact law, N = 1e6")
def _mc_exact_sampler(rng, m):

    p, r = random_law(rng, 30, ties=True)
    return law_deviation(sample_bon(p, r, 10 ** 6, m, rng=rng), bon_law(p, r, 10 ** 6))


@mc_check("mc.bon_mean_vs_exact_sampler", "Beirami et al. 2024", "E r under BoN vs the mean of exact-law samples")
def _mc_bon_mean(rng, m):

    p, r = random_law(rng, 12)
    N = int(rng.integers(2, 100))
    _, est, half = mean_test(r[sample_bon(p, r, N, m, rng=rng)], r, bon_law(p, r, N))
    return bon_mean_reward(p, r, N), est, half
