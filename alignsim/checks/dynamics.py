"""Checks of exact policy-gradient, natural-gradient and GRPO updates."""

from __future__ import annotations

import itertools

import numpy as np

from ..divergences import entropy
from ..dynamics import entropy_change, grpo_expected_update, npg_iterate, pg_gradient
from ..mc import sample_law
from ..tilting import tilt
from ._registry import check, mc_check
from ._stats import batch_ci


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


@check("dynamics.grpo_compositions", "Shao et al. 2024 (GRPO)",
       "expected GRPO update by compositions vs brute force over all K^G ordered groups (K=3, G=5)", 1e-12)
def _grpo_exact(rng):


    pi, r = rng.dirichlet(np.ones(3)), rng.normal(size=3)
    groups = np.array(list(itertools.product(range(3), repeat=5)))
    weights = np.prod(pi[groups], axis=1)
    brute = (weights[:, None] * _grpo_groups(pi, r, groups)).sum(axis=0)
    return 0.0, float(np.max(np.abs(grpo_expected_update(pi, r, 5) - brute)))


@check("dynamics.npg_closed_form", "Kakade 2001",
       "pi_t from pi_0^alpha_t pi*^(1-alpha_t) vs iterating the NPG step 7 times (random eta beta in (0, 1.9))", 1e-12)
def _npg(rng):

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


@check("dynamics.pg_fixed_point_is_tilt", "Korbak et al. 2022 (the KL-regularised optimum is the tilt)",
       "max |grad J| at the tilt pi* = ref e^{r/beta}/Z (the exact PG flow's fixed point)", 1e-13)
def _pg_fixed(rng):

    ref, r = rng.dirichlet(np.ones(5)), rng.normal(size=5)
    beta = rng.uniform(0.2, 3.0)
    return 0.0, float(np.max(np.abs(pg_gradient(np.log(tilt(ref, r, beta)), r, ref, beta))))


@check("dynamics.entropy_change", "Cui et al. 2025",
       "dH/d eps = -Cov(log pi, delta) vs a central difference with h = 1e-5", 1e-9)
def _entropy(rng):

    theta, delta = rng.normal(size=5), rng.normal(size=5)

    def H(e):
        x = theta + e * delta
        pi = np.exp(x - x.max())
        return entropy(pi / pi.sum())

    return entropy_change(theta, delta), (H(1e-5) - H(-1e-5)) / 2e-5


@mc_check("dynamics.grpo_vs_mc", "Shao et al. 2024 (GRPO)",
          "first component of the exact expected GRPO update (K=4, G=8) vs the mean over simulated groups "
          "(batch means)")
def _mc_grpo(rng, m):

    pi, r = rng.dirichlet(np.ones(4)), rng.normal(size=4)
    n_groups = max(m // 8, 2000)
    groups = sample_law(pi, n_groups * 8, rng=rng).reshape(n_groups, 8)
    upd = _grpo_groups(pi, r, groups)[:, 0]
    est, half = batch_ci(lambda idx: float(upd[idx].mean()), np.arange(n_groups))
    return float(grpo_expected_update(pi, r, 8)[0]), est, half
