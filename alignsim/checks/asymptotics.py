"""Checks of rate functions, scaled cumulants and best-of-N vs KL-RL asymptotics."""

from __future__ import annotations

import math

import numpy as np

from ..asymptotics import bon_vs_rl, cumulants, rate_function, scgf, scgf_renyi, tail_probability
from ..mc import simulate_rewards
from ..models import MemorylessLM
from ..tilting import log_partition, max_kl, optimal_reward, tilt_mean
from ._registry import check, mc_check
from ._stats import batch_ci, random_law


@check("asymptotics.key_identity", "Yang et al. 2024, the large-deviation principle of the RL-optimal reward (key identity)",
       "I_0(x_delta) vs delta, with x_delta = E_phi r at the budget's optimum", 1e-11)
def _key_identity(rng):

    p, r = random_law(rng, 5)
    delta = max_kl(p, r) * rng.uniform(0.05, 0.9)
    return delta, rate_function(p, r, optimal_reward(p, r, delta))


@check("asymptotics.rate_closed_form", "Yang et al. 2024, the large-deviation principle of the RL-optimal reward",
       "KL(phi_s || phi_lam) (the implementation) vs (s - lam) x - Lambda(s) + Lambda(lam), s from a separate root", 1e-10)
def _rate_closed(rng):

    p, r = random_law(rng, 5)
    lam = rng.uniform(0.1, 2.0)
    s = lam + rng.uniform(-1.5, 1.5)
    x = tilt_mean(p, r, 1.0 / s) if s > 0 else -tilt_mean(p, -r, -1.0 / s)
    closed = (s - lam) * x - log_partition(p, r, s) + log_partition(p, r, lam)
    return closed, rate_function(p, r, x, beta=1.0 / lam)


@check("asymptotics.rate_tilt_relation", "Yang et al. 2024, the large-deviation principle of the RL-optimal reward",
       "I_lam(x) vs I_0(x) - lam x + Lambda(lam) at a random interior x", 1e-10)
def _rate_relation(rng):

    p, r = random_law(rng, 6)
    lam = rng.uniform(0.1, 3.0)
    x = rng.uniform(r.min(), r.max())
    return rate_function(p, r, x) - lam * x + log_partition(p, r, lam), rate_function(p, r, x, beta=1.0 / lam)


@check("asymptotics.scgf_renyi", "Yang et al. 2024, scaled cumulants and Rényi cross-entropy (convention in scgf_renyi)",
       "Lambda(lam + t) - Lambda(lam) vs t (c_r - H_{1+t}(phi_lam; softmax r))", 1e-10)
def _scgf_renyi(rng):

    p, r = random_law(rng, 5)
    beta, t = rng.uniform(0.3, 3.0), rng.uniform(-2.0, 3.0)
    return scgf(p, r, t, beta=beta), scgf_renyi(p, r, t, beta=beta)


@check("asymptotics.ldp_log_n_over_n", "Yang et al. 2024, the large-deviation principle of the RL-optimal reward; Bahadur-Rao (lattice case)",
       "slope of n(-log P(mean >= x)/n - I(x)) in log n between n = 1e3 and 1e4 vs 1/2, x on the lattice "
       "(asymptotic; tol 0.05)", 0.05)
def _ldp(rng):

    q = rng.uniform(0.2, 0.6)
    p, r = np.array([1 - q, q]), np.array([0.0, 1.0])
    # n x must be a lattice point for both n (else the tail carries an O(1/n) sawtooth in frac(n x)), and x must be
    # interior (at x = r_max the probability is q^n exactly and the log(n)/2 term is absent)
    x = min(0.9, math.ceil((q + 0.05) * 10) / 10)
    err = [-tail_probability(p, r, n, x, log=True) - n * rate_function(p, r, x) for n in (1000, 10_000)]
    return 0.5, (err[1] - err[0]) / math.log(10.0)


@check("asymptotics.bon_rl_gaps_shrink", "Yang et al. 2024, best-of-N is asymptotically KL-RL",
       "per-token reward gap and KL(BoN || RL)/n along N = floor(e^{n delta}), n = 50, 200, 1000: largest increase",
       0.0, "<=")
def _gaps(rng):

    q = rng.uniform(0.2, 0.5)
    p, r = np.array([1 - q, q]), np.array([0.0, 1.0])
    df = bon_vs_rl(p, r, max_kl(p, r) * rng.uniform(0.1, 0.5), [50, 200, 1000])
    per_token_gap = (df["reward_gap"] / df["n"]).to_numpy()
    kl_rl = df["kl_bon_rl"].to_numpy()
    return 0.0, float(max(np.max(np.diff(per_token_gap)), np.max(np.diff(kl_rl))))


@check("asymptotics.bon_below_frontier", "Yang et al. 2024, the trade-off identity (consequence)",
       "E_BoN R_n/n - R*(KL(BoN || p)/n) on memoryless LMs, N = floor(e^{n delta}) (must be <= 0)", 1e-12, "<=")
def _below_frontier(rng):

    p = rng.dirichlet(np.ones(3))
    r = np.array([0.0, 1.0, 2.0])
    df = bon_vs_rl(p, r, max_kl(p, r) * rng.uniform(0.05, 0.5), [20, 100, 400])
    return 0.0, float(max(row.bon_reward - optimal_reward(p, r, row.kl_bon_ref) for row in df.itertuples()))


@mc_check("asymptotics.scgf_vs_mc", "Yang et al. 2024, scaled cumulants and Rényi cross-entropy",
          "SCGF (1/n) log E e^{t R_n} vs the log-mean-exp of simulated sequences (n = 8, batch means)")
def _mc_scgf(rng, m):

    p, r = random_law(rng, 4)
    n, t = 8, rng.uniform(-0.3, 0.3)
    x = simulate_rewards(MemorylessLM(p, r, n), m, rng=rng)
    shift = t * x.max()
    est, half = batch_ci(lambda idx: float((math.log(np.mean(np.exp(t * x[idx] - shift))) + shift) / n),
                          np.arange(m))
    return scgf(p, r, t), est, half


@mc_check("asymptotics.cumulants_vs_mc", "Yang et al. 2024, scaled cumulants and Rényi cross-entropy (kappa_k(R_n) = n Lambda^(k))",
          "third cumulant of R_n (n = 6) vs the sample third central moment of simulated sequences (batch means)")
def _mc_cumulants(rng, m):

    p, r = random_law(rng, 4)
    lm = MemorylessLM(p, r, 6)
    x = simulate_rewards(lm, m, rng=rng)
    est, half = batch_ci(lambda idx: float(np.mean((x[idx] - x[idx].mean()) ** 3)), np.arange(m))
    return float(cumulants(p, r, 3, length=6)[2]), est, half
