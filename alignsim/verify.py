r"""A registry of theorem checks: each pairs an exact prediction with an independent computation.

A :class:`Check` names the statement and its source, computes the exact prediction, computes the same quantity
a second, independent way, and compares them:

* **exact** checks (:func:`check`) use brute-force enumeration, a dual problem or a second exact algorithm and
  pass within a stated tolerance (relative to ``max(1, |exact|)``);
* **Monte-Carlo** checks (:func:`mc_check`) simulate with :mod:`alignsim.mc` and pass when the estimate lies in a
  confidence interval of level :math:`1-\delta`, :math:`\delta = 2\,\Phi(-Z)\approx 6.8\times10^{-6}`, computed
  under the prediction: for means, Bernstein's inequality with the exact variance and range of the predicted law
  (non-asymptotic: the sample mean of a law with rare outcomes is far from normal); for laws, exact binomial tails
  of every outcome's count, Bonferroni-corrected (reported on the z scale); for self-normalised importance
  sampling, batch means with a t quantile.

Either kind may be an equality or an inequality (a bound: the estimate must not exceed it, beyond the
tolerance or the interval); a Monte-Carlo check may also be a negative control (``"!="``: the interval must
exclude a value known to be wrong). :func:`run_checks` runs a selection and returns a :class:`pandas.DataFrame`;
``alignsim verify`` prints it and exits with status 1 if any check fails.

A check function receives a :class:`numpy.random.Generator` (random instances are reproducible by seed) and, for
Monte-Carlo checks, the sample size; it returns ``(exact, independent)`` or ``(exact, estimate, half_width)``.
"""

from __future__ import annotations

import fnmatch
import itertools
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy.stats import binom, norm

from . import _validate as V
from .bon import (
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
from .divergences import kl, renyi_divergence, renyi_entropy
from .models import MemorylessLM
from .tilting import (
    beta_for_kl,
    log_partition,
    dual_reward,
    lambda_for_kl,
    max_kl,
    optimal_reward,
    tilt,
    tilt_kl,
    tradeoff_gap,
)

__all__ = ["Check", "CHECKS", "check", "mc_check", "run_checks", "Z", "DEFAULT_SAMPLES", "QUICK_SAMPLES"]

#: Two-sided z of a single Monte-Carlo confidence interval (false-alarm probability 7e-6).
Z = 4.5
#: Default and ``--quick`` Monte-Carlo sample sizes.
DEFAULT_SAMPLES = 400_000
QUICK_SAMPLES = 100_000


@dataclass(frozen=True)
class Check:
    """One theorem check.

    Attributes
    ----------
    name : str
        Short identifier, ``topic.statement`` (matched by ``--only``).
    source : str
        Paper and statement the prediction comes from.
    method : str
        How the independent value is obtained.
    compute : callable
        ``compute(rng) -> (exact, independent)`` for exact checks, ``compute(rng, samples) -> (exact, estimate,
        half_width)`` for Monte-Carlo checks.
    tol : float
        Tolerance of an exact check, relative to ``max(1, |exact|)`` (unused by Monte-Carlo checks).
    relation : {"==", "<=", "!="}
        ``"=="``: the two values agree; ``"<="``: the independent value does not exceed the exact bound; ``"!="``
        (Monte-Carlo only): the interval **excludes** the value, a negative control showing the check can fail.
    monte_carlo : bool
    """

    name: str
    source: str
    method: str
    compute: Callable[[np.random.Generator], tuple[float, float]]
    tol: float
    relation: str = "=="
    monte_carlo: bool = False


CHECKS: list[Check] = []


def check(name: str, source: str, method: str, tol: float, relation: str = "=="):
    """Decorator registering a check function ``f(rng) -> (exact, independent)``."""
    V.choice(relation, "relation", ("==", "<="))

    def deco(f):
        CHECKS.append(Check(name, source, method, f, tol, relation))
        return f

    return deco


def mc_check(name: str, source: str, method: str, relation: str = "=="):
    """Decorator registering a Monte-Carlo check ``f(rng, samples) -> (exact, estimate, half_width)``."""
    V.choice(relation, "relation", ("==", "<=", "!="))

    def deco(f):
        CHECKS.append(Check(name, source, method, f, 0.0, relation, monte_carlo=True))
        return f

    return deco


def _random_law(rng, k, ties=False):
    p = rng.dirichlet(np.ones(k))
    r = rng.integers(0, max(2, k // 2), size=k).astype(float) if ties else rng.normal(size=k)
    return p, r


def _enumerate_lm(p, r, n):
    """Brute force over all V^n sequences: each sequence's probability (a product, a few ulps), summed per level
    with ``math.fsum`` (exactly rounded), so the reference is accurate to about ``n`` ulps relative."""
    law: dict[float, list[float]] = {}
    for seq in itertools.product(range(len(p)), repeat=n):
        s = float(sum(r[i] for i in seq))
        law.setdefault(s, []).append(math.prod(float(p[i]) for i in seq))
    keys = sorted(law)
    return np.array(keys), np.array([math.fsum(law[k]) for k in keys])


# ---------------------------------------------------------------------------------------------------------------
# Tilting
# ---------------------------------------------------------------------------------------------------------------
@check("tilt.primal_dual", "Yang et al. 2024, Lemma Y-L1 (strong duality)",
       "R*(delta) = Lambda'(lambda_delta) vs min_lambda (Lambda + delta)/lambda by scalar minimisation", 1e-8)
def _primal_dual(rng):
    p, r = _random_law(rng, 6)
    delta = 0.5 * max_kl(p, r) * rng.uniform(0.05, 0.95)
    return optimal_reward(p, r, delta), dual_reward(p, r, delta)


@check("tilt.budget_roundtrip", "Yang et al. 2024, Lemma Y-L1", "KL(tilt(beta_for_kl(delta)) || p) vs delta", 1e-12)
def _roundtrip(rng):
    p, r = _random_law(rng, 8)
    delta = max_kl(p, r) * rng.uniform(0.01, 0.99)
    return delta, kl(tilt(p, r, beta_for_kl(p, r, delta)), p)


@check("tilt.tradeoff_identity", "Yang et al. 2024, Theorem Y-T1 (exact identity)",
       "KL(phi || phi_delta) by the divergence vs the identity's right-hand side, random phi", 1e-11)
def _tradeoff(rng):
    p, r = _random_law(rng, 7)
    delta = max_kl(p, r) * rng.uniform(0.05, 0.95)
    phi = rng.dirichlet(np.ones(7))
    # KL(phi || phi_delta) from log phi_delta = log p + lam r - Lambda(lam): the tilt's masses may underflow
    lam = lambda_for_kl(p, r, delta)
    log_tilt = np.log(p) + lam * r - log_partition(p, r, lam)
    return tradeoff_gap(phi, p, r, delta), float(np.sum(phi * (np.log(phi) - log_tilt)))


@check("tilt.optimality", "Yang et al. 2024, Lemma Y-L1",
       "E_phi r of 200 random policies with KL(phi||p) <= delta never exceeds R*(delta)", 1e-12, "<=")
def _optimality(rng):
    p, r = _random_law(rng, 5)
    best = -math.inf
    for _ in range(200):
        phi = rng.dirichlet(np.ones(5) * 0.5)
        d = kl(phi, p)
        if d < max_kl(p, r):
            best = max(best, float(np.dot(phi, r)) - optimal_reward(p, r, d))
    return 0.0, best


@check("tilt.jeffreys", "Theoretical limits of LM alignment (arXiv 2605.07105); spec VC9",
       "E_phi r - E_p r vs [KL(phi||p) + KL(p||phi)] / lambda", 1e-12)
def _jeffreys(rng):
    p, r = _random_law(rng, 6)
    lam = rng.uniform(0.1, 3.0)
    phi = tilt(p, r, 1.0 / lam)
    return float(np.dot(phi - p, r)), (kl(phi, p) + kl(p, phi)) / lam


@check("tilt.tensorisation", "Yang et al. 2024, Y-P1 (the optimum is memoryless)",
       "KL of the tilted length-n LM from the LM vs n * delta", 1e-12)
def _tensor(rng):
    p, r = _random_law(rng, 4)
    n = int(rng.integers(2, 50))
    delta = max_kl(p, r) * rng.uniform(0.1, 0.9)
    lm = MemorylessLM(p, r, n)
    return n * delta, lm.tilt(beta_for_kl(p, r, delta)).kl(lm)


# ---------------------------------------------------------------------------------------------------------------
# Memoryless LM reward laws
# ---------------------------------------------------------------------------------------------------------------
@check("lm.law_vs_enumeration", "definition of the memoryless LM (Yang et al. 2024, assumptions M, L)",
       "exact reward law vs brute force over all V^n sequences (V=3, n=7): max relative difference", 1e-13)
def _law_enum(rng):
    p = rng.dirichlet(np.ones(3))
    r = rng.integers(-2, 3, size=3).astype(float)
    levels, probs = MemorylessLM(p, r, 7).reward_law()
    lv, pr = _enumerate_lm(p, r, 7)
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


# ---------------------------------------------------------------------------------------------------------------
# Best-of-N
# ---------------------------------------------------------------------------------------------------------------
@check("bon.law_sums_to_one", "Beirami et al. 2024, Lemma 2", "sum of the BoN law, N = 1e6, tied rewards", 1e-13)
def _bon_sum(rng):
    p, r = _random_law(rng, 1000, ties=True)
    return 1.0, float(bon_law(p, r, 10 ** 6).sum())


@check("bon.kl_bound", "Beirami et al. 2024, Theorem 3.1",
       "exact KL(BoN || p) <= log N - (N-1)/N, random law, N in [2, 1000]", 1e-12, "<=")
def _bon_bound(rng):
    p, r = _random_law(rng, 20, ties=True)
    N = int(rng.integers(2, 1000))
    return bon_kl_bound(N), bon_kl(p, r, N)


@check("bon.kl_top_bound", "Beirami et al. 2024, Theorem 3.6 (exact form)",
       "KL(BoN || p) <= log((1-(1-eps)^N)/eps)", 1e-12, "<=")
def _bon_top(rng):
    p, r = _random_law(rng, 12, ties=True)
    N = int(rng.integers(2, 500))
    return bon_kl_top_bound(p, r, N), bon_kl(p, r, N)


@check("bon.kl_gap_bound", "Beirami et al. 2024, Theorem 3.4",
       "log N - (N-1)/N - KL(BoN || p) <= 2N(N-1) sum P_k^2", 1e-12, "<=")
def _bon_gap(rng):
    p, r = _random_law(rng, 400)
    N = int(rng.integers(2, 20))
    return bon_kl_gap_bound(p, r, N), bon_kl_bound(N) - bon_kl(p, r, N)


@check("bon.win_rate_bound", "Beirami et al. 2024, Theorem 5.3", "W(BoN) <= N/(N+1), ties one half", 1e-12, "<=")
def _bon_win(rng):
    p, r = _random_law(rng, 10, ties=True)
    N = int(rng.integers(2, 100))
    return bon_win_rate_bound(N), bon_win_rate(p, r, N)


@check("bon.ties_coarsen", "data processing: random tie-breaking coarsens the ordered law",
       "KL(BoN random ties) <= KL(BoN ordered ties)", 1e-12, "<=")
def _bon_ties(rng):
    p, r = _random_law(rng, 10, ties=True)
    N = int(rng.integers(2, 50))
    return bon_kl(p, r, N, ties="ordered"), bon_kl(p, r, N)


@check("bon.binary_is_tilt", "Yang et al. 2024, open question Y-O1 (binary case)",
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
    p, r = _random_law(rng, 8, ties=True)
    N = int(rng.integers(2, 20))
    levels, g = won_law(p, r, N, levels=True)
    mass = np.array([p[r == s].sum() for s in levels])
    surv = np.cumsum(mass[::-1])[::-1]
    direct = surv ** N - np.append(surv[1:], 0.0) ** N
    return 0.0, float(np.max(np.abs(direct - g)))


@check("bon.soft_vs_enumeration", "Verdun et al. 2025 (soft best-of-N)",
       "1-D integral law vs enumeration of all K^N draws (K=4, N=5): max |difference|", 1e-13)
def _soft(rng):
    p, r = _random_law(rng, 4, ties=True)
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


# ---------------------------------------------------------------------------------------------------------------
# Divergences
# ---------------------------------------------------------------------------------------------------------------
@check("div.renyi_uniform", "van Erven & Harremoes 2014", "H_a(p) vs log K - D_a(p || uniform)", 1e-12)
def _renyi_uniform(rng):
    p = rng.dirichlet(np.ones(9))
    a = rng.uniform(0.1, 4.0)
    return renyi_entropy(p, a), math.log(9) - renyi_divergence(p, np.full(9, 1 / 9), a)


@check("div.tilt_kl_vs_kl", "two formulas for KL(phi_lambda || p)",
       "K(lambda) = lambda Lambda' - Lambda (stable forms) vs the divergence of the tilted vector", 1e-12)
def _tilt_kl(rng):
    p, r = _random_law(rng, 6)
    beta = 10 ** rng.uniform(-1, 1)
    return tilt_kl(p, r, beta), kl(tilt(p, r, beta), p)


# ---------------------------------------------------------------------------------------------------------------
# Asymptotics (Yang et al. 2024)
# ---------------------------------------------------------------------------------------------------------------
@check("asymptotics.key_identity", "Yang et al. 2024, Theorem Y-T2 (key identity)",
       "I_0(x_delta) vs delta, with x_delta = E_phi r at the budget's optimum", 1e-11)
def _key_identity(rng):
    from .asymptotics import rate_function

    p, r = _random_law(rng, 5)
    delta = max_kl(p, r) * rng.uniform(0.05, 0.9)
    return delta, rate_function(p, r, optimal_reward(p, r, delta))


@check("asymptotics.rate_closed_form", "Yang et al. 2024, Theorem Y-T2",
       "KL(phi_s || phi_lam) (the implementation) vs (s - lam) x - Lambda(s) + Lambda(lam), s from a separate root", 1e-10)
def _rate_closed(rng):
    from .asymptotics import rate_function
    from .tilting import tilt_mean

    p, r = _random_law(rng, 5)
    lam = rng.uniform(0.1, 2.0)
    s = lam + rng.uniform(-1.5, 1.5)
    x = tilt_mean(p, r, 1.0 / s) if s > 0 else -tilt_mean(p, -r, -1.0 / s)
    closed = (s - lam) * x - log_partition(p, r, s) + log_partition(p, r, lam)
    return closed, rate_function(p, r, x, beta=1.0 / lam)


@check("asymptotics.rate_tilt_relation", "Yang et al. 2024, Theorem Y-T2",
       "I_lam(x) vs I_0(x) - lam x + Lambda(lam) at a random interior x", 1e-10)
def _rate_relation(rng):
    from .asymptotics import rate_function

    p, r = _random_law(rng, 6)
    lam = rng.uniform(0.1, 3.0)
    x = rng.uniform(r.min(), r.max())
    return rate_function(p, r, x) - lam * x + log_partition(p, r, lam), rate_function(p, r, x, beta=1.0 / lam)


@check("asymptotics.scgf_renyi", "Yang et al. 2024, Theorem Y-T3 (convention in scgf_renyi)",
       "Lambda(lam + t) - Lambda(lam) vs t (c_r - H_{1+t}(phi_lam; softmax r))", 1e-10)
def _scgf_renyi(rng):
    from .asymptotics import scgf, scgf_renyi

    p, r = _random_law(rng, 5)
    beta, t = rng.uniform(0.3, 3.0), rng.uniform(-2.0, 3.0)
    return scgf(p, r, t, beta=beta), scgf_renyi(p, r, t, beta=beta)


@check("asymptotics.ldp_log_n_over_n", "Yang et al. 2024, Theorem Y-T2; Bahadur-Rao (lattice case)",
       "slope of n(-log P(mean >= x)/n - I(x)) in log n between n = 1e3 and 1e4 vs 1/2, x on the lattice "
       "(asymptotic; tol 0.05)", 0.05)
def _ldp(rng):
    from .asymptotics import rate_function, tail_probability

    q = rng.uniform(0.2, 0.6)
    p, r = np.array([1 - q, q]), np.array([0.0, 1.0])
    # n x must be a lattice point for both n (else the tail carries an O(1/n) sawtooth in frac(n x)), and x must be
    # interior (at x = r_max the probability is q^n exactly and the log(n)/2 term is absent)
    x = min(0.9, math.ceil((q + 0.05) * 10) / 10)
    err = [-tail_probability(p, r, n, x, log=True) - n * rate_function(p, r, x) for n in (1000, 10_000)]
    return 0.5, (err[1] - err[0]) / math.log(10.0)


@check("asymptotics.bon_rl_gaps_shrink", "Yang et al. 2024, Theorem Y-T4",
       "per-token reward gap and KL(BoN || RL)/n along N = floor(e^{n delta}), n = 50, 200, 1000: largest increase",
       0.0, "<=")
def _gaps(rng):
    from .asymptotics import bon_vs_rl

    q = rng.uniform(0.2, 0.5)
    p, r = np.array([1 - q, q]), np.array([0.0, 1.0])
    df = bon_vs_rl(p, r, max_kl(p, r) * rng.uniform(0.1, 0.5), [50, 200, 1000])
    per_token_gap = (df["reward_gap"] / df["n"]).to_numpy()
    kl_rl = df["kl_bon_rl"].to_numpy()
    return 0.0, float(max(np.max(np.diff(per_token_gap)), np.max(np.diff(kl_rl))))


@check("asymptotics.bon_below_frontier", "Yang et al. 2024, Theorem Y-T1 (consequence)",
       "E_BoN R_n/n - R*(KL(BoN || p)/n) on memoryless LMs, N = floor(e^{n delta}) (must be <= 0)", 1e-12, "<=")
def _below_frontier(rng):
    from .asymptotics import bon_vs_rl

    p = rng.dirichlet(np.ones(3))
    r = np.array([0.0, 1.0, 2.0])
    df = bon_vs_rl(p, r, max_kl(p, r) * rng.uniform(0.05, 0.5), [20, 100, 400])
    return 0.0, float(max(row.bon_reward - optimal_reward(p, r, row.kl_bon_ref) for row in df.itertuples()))


# ---------------------------------------------------------------------------------------------------------------
# KL estimators (Schulman 2020; spec estimators_dynamics.md)
# ---------------------------------------------------------------------------------------------------------------
@check("estimators.sequence_closed_forms", "spec estimators_dynamics.md, section 2.2",
       "closed-form variance of sequence-level k2 and k3 vs the exact law of S = sum of log-ratios (the core's "
       "memoryless reward law with the token log-ratios as rewards, L = 6): max relative difference", 1e-11)
def _seq_closed(rng):
    from .estimators import kl_estimator, sequence_estimator_moments

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


@check("estimators.gradient_rows_vs_fd", "Tang & Munos 2025; spec estimators_dynamics.md section 3.3",
       "every table row labelled reverse / forward / k2-divergence vs central finite differences of KL(pi||ref), "
       "KL(ref||pi), E_pi k2 in the logits (random instance): max abs difference", 1e-8)
def _grad_rows(rng):
    from .estimators import gradient_table

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


# ---------------------------------------------------------------------------------------------------------------
# Training dynamics on a softmax bandit
# ---------------------------------------------------------------------------------------------------------------
def _grpo_groups(pi, r, groups, ddof=1):
    """Per-group GRPO updates (1/G) sum_i A_i s_{y_i} for an array of groups (rows of arm indices)."""
    g = groups.shape[1]
    rew = r[groups]
    sd = rew.std(axis=1, ddof=ddof)
    spread = rew.max(axis=1) > rew.min(axis=1)
    adv = np.where(spread[:, None], (rew - rew.mean(axis=1, keepdims=True)) / np.where(spread, sd, 1.0)[:, None], 0)
    onehot = np.zeros((groups.shape[0], pi.size))
    for i in range(g):
        np.add.at(onehot, (np.arange(groups.shape[0]), groups[:, i]), adv[:, i])
    return (onehot - adv.sum(axis=1, keepdims=True) * pi[None, :]) / g


@check("dynamics.grpo_compositions", "Shao et al. 2024 (GRPO); spec estimators_dynamics.md section 4.3",
       "expected GRPO update by compositions vs brute force over all K^G ordered groups (K=3, G=5)", 1e-12)
def _grpo_exact(rng):
    import itertools

    from .dynamics import grpo_expected_update

    pi, r = rng.dirichlet(np.ones(3)), rng.normal(size=3)
    groups = np.array(list(itertools.product(range(3), repeat=5)))
    weights = np.prod(pi[groups], axis=1)
    brute = (weights[:, None] * _grpo_groups(pi, r, groups)).sum(axis=0)
    return 0.0, float(np.max(np.abs(grpo_expected_update(pi, r, 5) - brute)))


@check("dynamics.npg_closed_form", "Kakade 2001; spec estimators_dynamics.md section 4.2",
       "pi_t from pi_0^alpha_t pi*^(1-alpha_t) vs iterating the NPG step 7 times (random eta beta in (0, 1.9))", 1e-12)
def _npg(rng):
    from .dynamics import npg_iterate

    pi0, ref, r = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4)), rng.normal(size=4)
    beta = rng.uniform(0.2, 2.0)
    eta = rng.uniform(0.05, 1.9) / beta
    theta = np.log(pi0)
    for _ in range(7):
        pi = np.exp(theta - theta.max())
        pi /= pi.sum()
        theta = theta + eta * (r - beta * (np.log(pi) - np.log(ref)))
    pi = np.exp(theta - theta.max())
    return 0.0, float(np.max(np.abs(npg_iterate(pi0, r, ref, beta, eta, 7)[-1] - pi / pi.sum())))


@check("dynamics.pg_fixed_point_is_tilt", "spec estimators_dynamics.md section 4.1",
       "max |grad J| at the tilt pi* = ref e^{r/beta}/Z (the exact PG flow's fixed point)", 1e-13)
def _pg_fixed(rng):
    from .dynamics import pg_gradient

    ref, r = rng.dirichlet(np.ones(5)), rng.normal(size=5)
    beta = rng.uniform(0.2, 3.0)
    return 0.0, float(np.max(np.abs(pg_gradient(np.log(tilt(ref, r, beta)), r, ref, beta))))


@check("dynamics.entropy_change", "Cui et al. 2025; spec estimators_dynamics.md section 4.4",
       "dH/d eps = -Cov(log pi, delta) vs a central difference with h = 1e-5", 1e-9)
def _entropy(rng):
    from .divergences import entropy
    from .dynamics import entropy_change

    theta, delta = rng.normal(size=5), rng.normal(size=5)

    def H(e):
        x = theta + e * delta
        pi = np.exp(x - x.max())
        return entropy(pi / pi.sum())

    return entropy_change(theta, delta), (H(1e-5) - H(-1e-5)) / 2e-5


# ---------------------------------------------------------------------------------------------------------------
# Monte-Carlo checks
# ---------------------------------------------------------------------------------------------------------------
def _mean_test(x, values, probs):
    r"""(exact mean, sample mean, Bernstein half-width) for ``m`` draws ``x`` of a law on ``values``.

    Bernstein: :math:`P(|\bar X-\mu|\ge t)\le 2\exp(-m t^2 / (2\sigma^2 + 2bt/3))` with :math:`\sigma^2` and
    :math:`b = \max|X-\mu|` taken from the **predicted** law, so rare outcomes that the sample happens to miss
    (best-of-N may put ``1 - 3e-7`` on one level) or to hit twice cannot fake a failure or a pass.
    """
    x = np.asarray(x, dtype=float)
    s = probs > 0
    mean = float(np.dot(probs, values))
    var = float(np.dot(probs, (values - mean) ** 2))
    return mean, float(x.mean()), _bernstein(var, float(np.max(np.abs(values[s] - mean))), x.size)


def _bernstein(var, b, m, delta=None):
    """Half-width t with 2 exp(-m t^2 / (2 var + 2 b t / 3)) = delta (default 2 sf(Z)), for m draws with
    |X - mu| <= b."""
    L = math.log(2.0 / (2.0 * norm.sf(Z) if delta is None else delta))
    return b * L / (3 * m) + math.sqrt((b * L / (3 * m)) ** 2 + 2.0 * L * var / m)


def _batch_ci(estimator, x, batches=20):
    """Batch-means interval for a non-linear estimator (e.g. a self-normalised ratio)."""
    vals = np.array([estimator(part) for part in np.array_split(x, batches)])
    from scipy.stats import t

    return float(vals.mean()), float(t.isf(norm.sf(Z), batches - 1) * vals.std(ddof=1) / math.sqrt(batches))


def _law_deviation(draws, probs):
    """Exact binomial test of every outcome's count, Bonferroni-corrected, reported on the z scale.

    Returns ``(0, z_obs, z_crit)``: ``z_obs`` is the two-sided normal quantile of the smallest exact binomial
    p-value over the outcomes, ``z_crit`` that of the family-wise level ``2 * sf(Z)`` split over the outcomes.
    Exact tails matter: an outcome expected 0.02 times and seen once is no evidence of a wrong law.
    """
    m = draws.size
    counts = np.bincount(draws, minlength=probs.size)
    if np.any((probs == 0) & (counts > 0)):
        return 0.0, math.inf, 0.0
    s = probs > 0
    k, q = counts[s], np.minimum(probs[s], 1.0)
    p_two = np.minimum(1.0, 2.0 * np.minimum(binom.cdf(k, m, q), binom.sf(k - 1, m, q)))
    z_obs = float(norm.isf(max(p_two.min(), 1e-300) / 2))
    z_crit = float(norm.isf(norm.sf(Z) / s.sum()))
    return 0.0, z_obs, z_crit


def _win_interval(wins, law, p, r):
    """:func:`_mean_test` for win indicators (ties 1/2) of draws from ``law`` against fresh draws from ``p``."""
    diff = r[:, None] - r[None, :]
    score = (diff > 0) + 0.5 * (diff == 0)
    joint = law[:, None] * p[None, :]
    return _mean_test(wins, score.ravel(), joint.ravel())


def _level_draws(values, levels):
    return np.searchsorted(levels, values)


@mc_check("mc.tilt_reward_is", "Korbak et al. 2022; Yang et al. 2024, Lemma Y-L1",
          "E_phi r vs self-normalised importance weights exp(r/beta) on draws from p (batch-means CI)")
def _mc_tilt_reward(rng, m):
    from .mc import sample_law
    from .tilting import tilt_mean

    p, r = _random_law(rng, 6)
    beta = rng.uniform(0.5, 2.0)
    y = sample_law(p, m, rng=rng)
    w = np.exp((r[y] - r.max()) / beta)
    est, half = _batch_ci(lambda idx: float(np.dot(w[idx], r[y[idx]]) / w[idx].sum()), np.arange(m))
    return tilt_mean(p, r, beta), est, half


@mc_check("mc.tilt_kl_is", "Yang et al. 2024, section 1 (K = lambda Lambda' - Lambda)",
          "KL(phi || p) vs lambda E_phi r - log E_p e^{lambda r}, both by importance sampling (batch means)")
def _mc_tilt_kl(rng, m):
    from .mc import sample_law
    from .tilting import tilt_kl

    p, r = _random_law(rng, 6)
    beta = rng.uniform(0.5, 2.0)
    lam = 1.0 / beta
    y = sample_law(p, m, rng=rng)
    w = np.exp(lam * (r[y] - r.max()))

    def kl_hat(idx):
        ww = w[idx]
        return float(lam * np.dot(ww, r[y[idx]]) / ww.sum() - (lam * r.max() + math.log(ww.mean())))

    est, half = _batch_ci(kl_hat, np.arange(m))
    return tilt_kl(p, r, beta), est, half


@mc_check("mc.lm_law_vs_tokens", "memoryless LM (Yang et al. 2024, assumptions M, L)",
          "exact reward law vs token-by-token simulation: max standardised deviation over levels (Bonferroni)")
def _mc_lm_law(rng, m):
    from .mc import simulate_rewards

    p = rng.dirichlet(np.ones(4))
    lm = MemorylessLM(p, [0.0, 1.0, 2.0, 5.0], 12)
    levels, probs = lm.reward_law()
    x = simulate_rewards(lm, m, rng=rng)
    return _law_deviation(_level_draws(x, levels), probs)


@mc_check("mc.lm_mean_vs_tokens", "memoryless LM", "n E_p r vs the mean of simulated sequence rewards")
def _mc_lm_mean(rng, m):
    from .mc import simulate_rewards

    p, r = _random_law(rng, 5)
    lm = MemorylessLM(p, r, 30)
    return _mean_test(simulate_rewards(lm, m, rng=rng), *lm.reward_law())


@mc_check("mc.bon_law_vs_naive", "Beirami et al. 2024, Lemma 2 (with random tie-breaking)",
          "exact BoN law vs naive simulation (N draws, reservoir tie-break): max standardised deviation")
def _mc_bon_law(rng, m):
    from .mc import naive_bon

    p, r = _random_law(rng, 8, ties=True)
    N = int(rng.integers(2, 12))
    return _law_deviation(naive_bon(p, r, N, m, rng=rng), bon_law(p, r, N))


@mc_check("mc.won_law_vs_naive", "Gui et al. 2024 (worst-of-N)", "exact WoN law vs naive simulation")
def _mc_won_law(rng, m):
    from .mc import naive_bon

    p, r = _random_law(rng, 8, ties=True)
    N = int(rng.integers(2, 12))
    return _law_deviation(naive_bon(p, r, N, m, worst=True, rng=rng), won_law(p, r, N))


@mc_check("mc.bon_kl_vs_naive", "Beirami et al. 2024, section 3",
          "exact KL(BoN || p) vs the mean of log(pi_N / p) over naively simulated BoN draws")
def _mc_bon_kl(rng, m):
    from .mc import naive_bon

    p, r = _random_law(rng, 10, ties=True)
    N = int(rng.integers(2, 20))
    law = bon_law(p, r, N)
    s = law > 0
    log_ratio = np.zeros_like(p)
    log_ratio[s] = np.log(law[s] / p[s])
    exact, est, half = _mean_test(log_ratio[naive_bon(p, r, N, m, rng=rng)], log_ratio, law)
    return bon_kl(p, r, N), est, half


@mc_check("mc.bon_win_rate_vs_naive", "Beirami et al. 2024, Theorem 5.3 (ties one half)",
          "exact win rate vs simulated BoN draws against fresh reference draws")
def _mc_bon_win(rng, m):
    from .mc import naive_bon, sample_law

    p, r = _random_law(rng, 8, ties=True)
    N = int(rng.integers(2, 10))
    y, y0 = naive_bon(p, r, N, m, rng=rng), sample_law(p, m, rng=rng)
    wins = (r[y] > r[y0]) + 0.5 * (r[y] == r[y0])
    return (bon_win_rate(p, r, N),) + _win_interval(wins, bon_law(p, r, N), p, r)[1:]


@mc_check("mc.bon_kl_bound", "Beirami et al. 2024, Theorem 3.1",
          "simulated KL(BoN || p) (distinct rewards) does not exceed log N - (N-1)/N", "<=")
def _mc_bon_bound(rng, m):
    from .mc import naive_bon

    p, r = _random_law(rng, 50)
    N = int(rng.integers(2, 30))
    law = bon_law(p, r, N)
    log_ratio = np.log(law / p)
    _, est, half = _mean_test(log_ratio[naive_bon(p, r, N, m, rng=rng)], log_ratio, law)
    return bon_kl_bound(N), est, half


@mc_check("mc.bon_win_rate_bound", "Beirami et al. 2024, Theorem 5.3", "simulated W(BoN) <= N/(N+1)", "<=")
def _mc_win_bound(rng, m):
    from .mc import naive_bon, sample_law

    p, r = _random_law(rng, 6, ties=True)
    N = int(rng.integers(2, 10))
    y, y0 = naive_bon(p, r, N, m, rng=rng), sample_law(p, m, rng=rng)
    wins = (r[y] > r[y0]) + 0.5 * (r[y] == r[y0])
    return (bon_win_rate_bound(N),) + _win_interval(wins, bon_law(p, r, N), p, r)[1:]


@mc_check("mc.bon_lm_reward_vs_naive", "Yang et al. 2024 (best-of-N on a memoryless LM)",
          "exact E R_n of BoN over sequences vs drawing N whole sequences token by token")
def _mc_bon_lm(rng, m):
    from .mc import naive_bon_rewards

    p = rng.dirichlet(np.ones(3))
    lm = MemorylessLM(p, [0.0, 1.0, 3.0], 10)
    N = int(rng.integers(2, 20))
    exact, est, half = _mean_test(naive_bon_rewards(lm, N, max(m // 4, 1000), rng=rng), *lm.bon_reward_law(N))
    return lm.bon_mean_reward(N), est, half


@mc_check("mc.won_lm_law_vs_naive", "worst-of-N on a memoryless LM",
          "exact WoN level law over sequences vs naive simulation: max standardised deviation")
def _mc_won_lm(rng, m):
    from .mc import naive_bon_rewards

    p = rng.dirichlet(np.ones(3))
    lm = MemorylessLM(p, [0.0, 1.0, 3.0], 6)
    N = int(rng.integers(2, 8))
    levels, probs = lm.won_reward_law(N)
    return _law_deviation(_level_draws(naive_bon_rewards(lm, N, m // 2, worst=True, rng=rng), levels), probs)


@mc_check("mc.soft_bon_vs_naive", "Verdun et al. 2025 (soft best-of-N)",
          "exact soft BoN law (Laplace integral) vs simulation with a weighted reservoir")
def _mc_soft(rng, m):
    from .mc import naive_soft_bon

    p, r = _random_law(rng, 6, ties=True)
    N, beta = int(rng.integers(2, 12)), rng.uniform(0.2, 2.0)
    return _law_deviation(naive_soft_bon(p, r, N, beta, m, rng=rng), soft_bon_law(p, r, N, beta))


@mc_check("mc.exact_sampler", "alias sampling of the exact BoN law",
          "frequencies of sample_bon (cost independent of N) vs the exact law, N = 1e6")
def _mc_exact_sampler(rng, m):
    from .mc import sample_bon

    p, r = _random_law(rng, 30, ties=True)
    return _law_deviation(sample_bon(p, r, 10 ** 6, m, rng=rng), bon_law(p, r, 10 ** 6))


@mc_check("mc.bon_mean_vs_exact_sampler", "Beirami et al. 2024", "E r under BoN vs the mean of exact-law samples")
def _mc_bon_mean(rng, m):
    from .mc import sample_bon

    p, r = _random_law(rng, 12)
    N = int(rng.integers(2, 100))
    _, est, half = _mean_test(r[sample_bon(p, r, N, m, rng=rng)], r, bon_law(p, r, N))
    return bon_mean_reward(p, r, N), est, half


@mc_check("asymptotics.scgf_vs_mc", "Yang et al. 2024, Theorem Y-T3",
          "SCGF (1/n) log E e^{t R_n} vs the log-mean-exp of simulated sequences (n = 8, batch means)")
def _mc_scgf(rng, m):
    from .asymptotics import scgf
    from .mc import simulate_rewards

    p, r = _random_law(rng, 4)
    n, t = 8, rng.uniform(-0.3, 0.3)
    x = simulate_rewards(MemorylessLM(p, r, n), m, rng=rng)
    shift = t * x.max()
    est, half = _batch_ci(lambda idx: float((math.log(np.mean(np.exp(t * x[idx] - shift))) + shift) / n),
                          np.arange(m))
    return scgf(p, r, t), est, half


@mc_check("asymptotics.cumulants_vs_mc", "Yang et al. 2024, Theorem Y-T3 (kappa_k(R_n) = n Lambda^(k))",
          "third cumulant of R_n (n = 6) vs the sample third central moment of simulated sequences (batch means)")
def _mc_cumulants(rng, m):
    from .asymptotics import cumulants
    from .mc import simulate_rewards

    p, r = _random_law(rng, 4)
    lm = MemorylessLM(p, r, 6)
    x = simulate_rewards(lm, m, rng=rng)
    est, half = _batch_ci(lambda idx: float(np.mean((x[idx] - x[idx].mean()) ** 3)), np.arange(m))
    return float(cumulants(p, r, 3, length=6)[2]), est, half


@mc_check("estimators.k3_mean_vs_mc", "Schulman 2020 (k3 unbiased)",
          "E_p k3 = KL(p || ref) vs the mean of k3 over draws from p")
def _mc_k3(rng, m):
    from .estimators import kl_estimator
    from .mc import sample_law

    p, ref = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    vals = kl_estimator(np.log(p), np.log(ref), "k3")
    _, est, half = _mean_test(vals[sample_law(p, m, rng=rng)], vals, p)
    return kl(p, ref), est, half


@mc_check("estimators.k2_bias_vs_mc", "Schulman 2020 (k2 biased)",
          "E_p k2 (exact finite sum, != KL) vs the mean of k2 over draws from p")
def _mc_k2(rng, m):
    from .estimators import estimator_moments, kl_estimator
    from .mc import sample_law

    p, ref = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    vals = kl_estimator(np.log(p), np.log(ref), "k2")
    _, est, half = _mean_test(vals[sample_law(p, m, rng=rng)], vals, p)
    return estimator_moments(p, ref, "k2")["mean"], est, half


@mc_check("estimators.token_sum_k3_vs_mc", "spec estimators_dynamics.md, section 2.2",
          "mean of the per-token sum of k3 over simulated sequences (L = 16) vs L * KL")
def _mc_tok(rng, m):
    from .estimators import kl_estimator, sequence_estimator_moments
    from .mc import simulate_rewards

    p, q = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
    lm = MemorylessLM(p, kl_estimator(np.log(p), np.log(q), "k3"), 16)
    x = simulate_rewards(lm, m, rng=rng)
    mom = sequence_estimator_moments(p, q, 16, "k3", "token")
    # the per-token sum lies in [0, 16 max k3], so |X - mean| <= 16 max k3 + mean
    half = _bernstein(mom["var"], float(lm.r.max()) * 16 + mom["mean"], m)
    return mom["mean"], float(x.mean()), half


@mc_check("estimators.k3_loss_gradient_vs_mc", "Tang & Munos 2025 (GRPO's k3 as loss follows the forward KL)",
          "mean per-sample gradient (1 - rho) s_y of k3-as-loss vs pi - ref: largest component deviation in units "
          "of its Bernstein half-width (exact variance, Bonferroni over components)")
def _mc_k3_grad(rng, m):
    from .estimators import kl_gradient_targets
    from .mc import sample_law

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
        half = _bernstein(float(np.dot(pi, (values - mean) ** 2)), float(np.max(np.abs(values - mean))), m,
                          delta=2.0 * norm.sf(Z) / k)  # Bonferroni over the k components
        worst = max(worst, abs(float(values[y].mean()) - target[a]) / half)
    return 0.0, worst, 1.0


@mc_check("dynamics.grpo_vs_mc", "Shao et al. 2024 (GRPO); spec estimators_dynamics.md section 4.3",
          "first component of the exact expected GRPO update (K=4, G=8) vs the mean over simulated groups "
          "(batch means)")
def _mc_grpo(rng, m):
    from .dynamics import grpo_expected_update
    from .mc import sample_law

    pi, r = rng.dirichlet(np.ones(4)), rng.normal(size=4)
    n_groups = max(m // 8, 2000)
    groups = sample_law(pi, n_groups * 8, rng=rng).reshape(n_groups, 8)
    upd = _grpo_groups(pi, r, groups)[:, 0]
    est, half = _batch_ci(lambda idx: float(upd[idx].mean()), np.arange(n_groups))
    return float(grpo_expected_update(pi, r, 8)[0]), est, half


@mc_check("estimators.gradient_rows_vs_mc", "Tang & Munos 2025; spec estimators_dynamics.md section 3.3 (G2)",
          "every row of the gradient table: mean per-sample gradient f(y) s_y over draws from the sampling policy vs "
          "the exact expected gradient; largest deviation in units of its Bernstein half-width (Bonferroni over "
          "rows and components)")
def _mc_rows(rng, m):
    from scipy.special import log_softmax

    from .estimators import GRADIENT_ROWS, _coefficient, expected_kl_gradient
    from .mc import sample_law

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
        w = np.exp(log_pi - (log_pi if sampling == "on" else log_mu))
        f = _coefficient(kind, placement, isw, log_pi - np.log(ref), w)
        exact = expected_kl_gradient(theta, ref, kind, placement, old if sampling == "off" else None, isw)
        y = draws[sampling]
        for a in range(k):
            values = f * ((np.arange(k) == a) - pi[a])  # component a of f(y) s_y, per outcome
            mean = float(np.dot(samp, values))
            half = _bernstein(float(np.dot(samp, (values - mean) ** 2)), float(np.max(np.abs(values - mean))), m,
                              delta=delta)
            worst = max(worst, abs(float(values[y].mean()) - exact[a]) / half)
    return 0.0, worst, 1.0


def _status(c: Check, exact: float, est: float, half: float) -> bool:
    if c.monte_carlo:
        if c.relation == "!=":
            return abs(est - exact) > half
        return abs(est - exact) <= half if c.relation == "==" else est - half <= exact
    if c.relation == "==":
        return abs(est - exact) <= c.tol * max(1.0, abs(exact))
    return est <= exact + c.tol


def run_checks(only: str | None = None, seed: int = 0, samples: int | None = None, quick: bool = False,
               progress: Callable[[int, int, str], None] | None = None) -> pd.DataFrame:
    """Run the registered checks whose name matches ``only`` and tabulate them.

    Parameters
    ----------
    only : str, optional
        A glob pattern on check names (``"*kl*"``) or a name prefix (``"bon"`` selects every ``bon.*`` check).
    seed : int
        Seed of the random instances and simulations (each check gets its own child of ``SeedSequence(seed)``).
    samples : int, optional
        Monte-Carlo sample size (default :data:`DEFAULT_SAMPLES`, or :data:`QUICK_SAMPLES` with ``quick``).
    quick : bool
        Smaller Monte-Carlo samples (the whole registry in well under a minute on two cores).
    progress : callable, optional
        Called as ``progress(i, total, name)`` before each check runs.

    Returns
    -------
    pandas.DataFrame
        Columns ``check, source, method, kind, exact, estimate, error, ci, tolerance, relation, status, seconds``
        (``ci`` is the Monte-Carlo half-width, NaN for exact checks).
    """
    m = V.length(samples, "samples") if samples is not None else (QUICK_SAMPLES if quick else DEFAULT_SAMPLES)
    selected = [c for c in CHECKS if only is None or fnmatch.fnmatch(c.name, only) or c.name.startswith(only)]
    if not selected:
        raise ValueError(f"no check matches only={only!r}; known checks: {[c.name for c in CHECKS]}")
    children = np.random.SeedSequence(seed).spawn(len(CHECKS))
    rows = []
    for i, c in enumerate(selected):
        if progress is not None:
            progress(i, len(selected), c.name)
        rng = np.random.default_rng(children[CHECKS.index(c)])
        t0 = time.perf_counter()
        try:
            out = c.compute(rng, m) if c.monte_carlo else c.compute(rng)
            exact, est = float(out[0]), float(out[1])
            half = float(out[2]) if c.monte_carlo else math.nan
            status = "pass" if _status(c, exact, est, half) else "FAIL"
        except Exception as exc:  # a check that crashes is a failure, reported with its error
            exact = est = half = math.nan
            status = f"ERROR: {type(exc).__name__}: {exc}"
        rows.append((c.name, c.source, c.method, "monte-carlo" if c.monte_carlo else "exact", exact, est,
                     est - exact, half, math.nan if c.monte_carlo else c.tol, c.relation, status,
                     time.perf_counter() - t0))
    return pd.DataFrame(rows, columns=["check", "source", "method", "kind", "exact", "estimate", "error", "ci",
                                       "tolerance", "relation", "status", "seconds"])


# Topic modules register their checks here (after the registry and its helpers exist); appending keeps the seeds
# of the checks above unchanged.
from . import _verify_infalign, _verify_judge, _verify_pn, _verify_regularisers  # noqa: E402, F401
