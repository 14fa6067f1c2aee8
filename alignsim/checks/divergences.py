"""Checks of divergences and entropies."""

from __future__ import annotations

import math

import numpy as np

from ..divergences import kl, renyi_divergence, renyi_entropy
from ..tilting import tilt, tilt_kl
from ._registry import check
from ._stats import random_law


@check("div.renyi_uniform", "van Erven & Harremoes 2014", "H_a(p) vs log K - D_a(p || uniform)", 1e-12)
def _renyi_uniform(rng):
    p = rng.dirichlet(np.ones(9))
    a = rng.uniform(0.1, 4.0)
    return renyi_entropy(p, a), math.log(9) - renyi_divergence(p, np.full(9, 1 / 9), a)


@check("div.tilt_kl_vs_kl", "two formulas for KL(phi_lambda || p)",
       "K(lambda) = lambda Lambda' - Lambda (stable forms) vs the divergence of the tilted vector", 1e-12)
def _tilt_kl(rng):
    p, r = random_law(rng, 6)
    beta = 10 ** rng.uniform(-1, 1)
    return tilt_kl(p, r, beta), kl(tilt(p, r, beta), p)
