"""Checks of the distillation divergences: framework losses at their ends, optimal transport against closed forms,
coarse-graining bounds and the KDRL optimum's stationarity."""

from __future__ import annotations

import numpy as np

from ..distill import divergence, kdrl_optimum
from ..divergences import kl
from ._registry import check


@check("distill.gkd_jsd_ends", "TRL GKDTrainer.generalized_jsd_loss (trl/trainer/gkd_trainer.py @ a9fa292c)",
       "TRL's generalised JSD returns KL(T || S) at beta = 0 and KL(S || T) at beta = 1 while the formula tends to 0 "
       "there; the normalised form / (beta (1 - beta)) at beta = 1e-7 and 1 - 1e-7 vs those KLs (random V = 6 laws; its "
       "error is O(beta): ~1e-6 here), and the raw form at beta = 1e-9 over KL(T || S): "
       "max relative difference", 1e-5)
def _gkd(rng):
    s, t = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    forward, reverse = kl(t, s), kl(s, t)
    ends = [divergence(s, t, "gkd_jsd", beta=0.0) / forward, divergence(s, t, "gkd_jsd", beta=1.0) / reverse,
            divergence(s, t, "gkd_jsd", beta=1e-7, normalised=True) / forward,
            divergence(s, t, "gkd_jsd", beta=1 - 1e-7, normalised=True) / reverse]
    jump = divergence(s, t, "gkd_jsd", beta=1e-9) / forward  # the raw formula next to beta = 0: ~1e-9
    return 0.0, float(max(np.max(np.abs(np.array(ends) - 1.0)), jump))


@check("distill.wasserstein_on_a_line", "W1 on the line = L1 distance of CDFs (Vallender 1974); POT ot.emd2",
       "POT's exact transport cost with cost |i - j| between random laws on 8 ordered tokens vs sum |F_S - F_T|, and "
       "with the 0-1 cost vs total variation: max absolute difference", 1e-12)
def _w1(rng):
    s, t = rng.dirichlet(np.ones(8)), rng.dirichlet(np.ones(8))
    line = np.abs(np.subtract.outer(np.arange(8), np.arange(8))).astype(float)
    a = abs(divergence(s, t, "wasserstein", cost=line) - np.abs(np.cumsum(s) - np.cumsum(t))[:-1].sum())
    b = abs(divergence(s, t, "wasserstein") - 0.5 * np.abs(s - t).sum())
    return 0.0, float(max(a, b))


@check("distill.topk_tail_below_full_kl", "data-processing inequality (coarse-graining cannot increase a KL)",
       "forward and reverse top-k KLs with the tail bucket (random V = 10 laws, k = 1..9, teacher's, student's and "
       "union top-k) minus the full KL: the largest, must be <= 0", 1e-13, "<=")
def _tail(rng):
    s, t = rng.dirichlet(np.ones(10) * 0.5), rng.dirichlet(np.ones(10) * 0.5)
    worst = -np.inf
    for k in range(1, 10):
        for over in ("teacher", "student", "union"):
            worst = max(worst, divergence(s, t, "topk_forward", k=k, over=over, tail=True) - kl(t, s),
                        divergence(s, t, "topk_reverse", k=k, over=over, tail=True) - kl(s, t))
    return 0.0, float(worst)


@check("distill.kdrl_stationarity", "KKT of max E r - b_ref KL(pi||ref) - b_T KL(pi||T) (KDRL, G-OPD)",
       "kdrl_optimum (geometric mixture of ref and teacher, tilted by r) on random laws (V = 6): spread of "
       "r - b_ref log(pi/ref) - b_T log(pi/T), constant at the optimum", 1e-12)
def _kdrl(rng):
    ref, teacher, r = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6)), rng.normal(size=6)
    b_ref, b_t = rng.uniform(0.05, 2.0, size=2)
    pi = kdrl_optimum(ref, teacher, r, b_ref, b_t).pi
    return 0.0, float(np.ptp(r - b_ref * np.log(pi / ref) - b_t * np.log(pi / teacher)))
