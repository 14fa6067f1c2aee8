r"""A registry of theorem checks: each pairs an exact prediction with an independent computation.

A :class:`Check` names the statement and its source, computes the exact prediction, computes the same quantity
a second, independent way (brute-force enumeration, a dual problem, a second exact algorithm, or later
Monte-Carlo with a confidence interval), and compares them within a stated tolerance, either as an equality or
as an inequality (for bounds). :func:`run_checks` runs a selection and returns a :class:`pandas.DataFrame`;
``alignsim verify`` prints it and exits with status 1 if any check fails.

Add a check with the :func:`check` decorator; the function receives a :class:`numpy.random.Generator` (so
random instances are reproducible by seed) and returns ``(exact, independent)``.
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

from . import _validate as V
from .bon import (
    bon_kl,
    bon_kl_bound,
    bon_kl_gap_bound,
    bon_kl_top_bound,
    bon_law,
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
    dual_reward,
    lambda_for_kl,
    max_kl,
    optimal_reward,
    tilt,
    tilt_kl,
    tradeoff_gap,
)

__all__ = ["Check", "CHECKS", "check", "run_checks"]


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
        ``compute(rng) -> (exact, independent)``.
    tol : float
        Tolerance, relative to ``max(1, |exact|)``.
    relation : {"==", "<="}
        ``"=="``: ``|independent - exact| <= tol * max(1, |exact|)``; ``"<="``: ``independent <= exact + tol``.
    """

    name: str
    source: str
    method: str
    compute: Callable[[np.random.Generator], tuple[float, float]]
    tol: float
    relation: str = "=="


CHECKS: list[Check] = []


def check(name: str, source: str, method: str, tol: float, relation: str = "=="):
    """Decorator registering a check function ``f(rng) -> (exact, independent)``."""
    V.choice(relation, "relation", ("==", "<="))

    def deco(f):
        CHECKS.append(Check(name, source, method, f, tol, relation))
        return f

    return deco


def _random_law(rng, k, ties=False):
    p = rng.dirichlet(np.ones(k))
    r = rng.integers(0, max(2, k // 2), size=k).astype(float) if ties else rng.normal(size=k)
    return p, r


def _enumerate_lm(p, r, n):
    """Brute force over all V^n sequences: the reward law by exact float sums of the tokens."""
    law: dict[float, float] = {}
    for seq in itertools.product(range(len(p)), repeat=n):
        s = float(sum(r[i] for i in seq))
        law[s] = law.get(s, 0.0) + float(np.prod([p[i] for i in seq]))
    keys = sorted(law)
    return np.array(keys), np.array([law[k] for k in keys])


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
    return tradeoff_gap(phi, p, r, delta), kl(phi, tilt(p, r, beta_for_kl(p, r, delta)))


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
       "exact reward law vs brute force over all V^n sequences (V=3, n=7): max |difference|", 1e-14)
def _law_enum(rng):
    p = rng.dirichlet(np.ones(3))
    r = rng.integers(-2, 3, size=3).astype(float)
    levels, probs = MemorylessLM(p, r, 7).reward_law()
    lv, pr = _enumerate_lm(p, r, 7)
    if not np.array_equal(lv, levels):
        return 0.0, math.inf
    return 0.0, float(np.max(np.abs(pr - probs)))


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
       "KL(BoN || tilt at the BoN's own KL) on a two-arm bandit", 1e-12)
def _binary_tilt(rng):
    q = rng.uniform(0.1, 0.9)
    p, r = np.array([1 - q, q]), np.array([0.0, rng.uniform(0.5, 2.0)])
    N = int(rng.integers(2, 30))
    b = bon_law(p, r, N)
    return 0.0, kl(b, tilt(p, r, beta_for_kl(p, r, kl(b, p))))


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


def run_checks(only: str | None = None, seed: int = 0, progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Run the registered checks whose name matches ``only`` (a glob or substring) and tabulate them.

    Parameters
    ----------
    only : str, optional
        A glob pattern on check names (``"*kl*"``) or a name prefix (``"bon"`` selects every ``bon.*`` check).
    seed : int
        Seed of the random instances (each check gets its own child stream of ``SeedSequence(seed)``).
    progress : callable, optional
        Called with each check's name before it runs.

    Returns
    -------
    pandas.DataFrame
        Columns ``check, source, method, exact, estimate, error, tolerance, relation, status, seconds``.
    """
    selected = [c for c in CHECKS if only is None or fnmatch.fnmatch(c.name, only) or c.name.startswith(only)]
    if not selected:
        raise ValueError(f"no check matches only={only!r}; known checks: {[c.name for c in CHECKS]}")
    children = np.random.SeedSequence(seed).spawn(len(CHECKS))
    rows = []
    for c in selected:
        if progress is not None:
            progress(c.name)
        rng = np.random.default_rng(children[CHECKS.index(c)])
        t0 = time.perf_counter()
        try:
            exact, est = (float(x) for x in c.compute(rng))
            err = est - exact
            if c.relation == "==":
                ok = abs(err) <= c.tol * max(1.0, abs(exact))
            else:
                ok = est <= exact + c.tol
            status = "pass" if ok else "FAIL"
        except Exception as exc:  # a check that crashes is a failure, reported with its error
            exact, est, err, status = math.nan, math.nan, math.nan, f"ERROR: {type(exc).__name__}: {exc}"
        rows.append((c.name, c.source, c.method, exact, est, err, c.tol, c.relation, status,
                     time.perf_counter() - t0))
    return pd.DataFrame(rows, columns=["check", "source", "method", "exact", "estimate", "error", "tolerance",
                                       "relation", "status", "seconds"])
