r"""Statistics shared by the checks: random finite laws, brute-force enumeration, and the confidence intervals of
the Monte-Carlo checks (Bernstein's inequality with the exact variance, batch means, exact binomial tails)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.stats import binom, norm, t

from ._registry import Z


def random_law(rng, k, ties=False):
    p = rng.dirichlet(np.ones(k))
    r = rng.integers(0, max(2, k // 2), size=k).astype(float) if ties else rng.normal(size=k)
    return p, r


def enumerate_lm(p, r, n):
    """Brute force over all V^n sequences: each sequence's probability (a product, a few ulps), summed per level
    with ``math.fsum`` (exactly rounded), so the reference is accurate to about ``n`` ulps relative."""
    law: dict[float, list[float]] = {}
    for seq in itertools.product(range(len(p)), repeat=n):
        s = float(sum(r[i] for i in seq))
        law.setdefault(s, []).append(math.prod(float(p[i]) for i in seq))
    keys = sorted(law)
    return np.array(keys), np.array([math.fsum(law[k]) for k in keys])


def mean_test(x, values, probs):
    r"""(exact mean, sample mean, Bernstein half-width) for ``m`` draws ``x`` of a law on ``values``.

    Bernstein: :math:`P(|\bar X-\mu|\ge t)\le 2\exp(-m t^2 / (2\sigma^2 + 2bt/3))` with :math:`\sigma^2` and
    :math:`b = \max|X-\mu|` taken from the **predicted** law, so rare outcomes that the sample happens to miss
    (best-of-N may put ``1 - 3e-7`` on one level) or to hit twice cannot fake a failure or a pass.
    """
    x = np.asarray(x, dtype=float)
    s = probs > 0
    mean = float(np.dot(probs, values))
    var = float(np.dot(probs, (values - mean) ** 2))
    return mean, float(x.mean()), bernstein(var, float(np.max(np.abs(values[s] - mean))), x.size)


def bernstein(var, b, m, delta=None):
    """Half-width t with 2 exp(-m t^2 / (2 var + 2 b t / 3)) = delta (default 2 sf(Z)), for m draws with
    |X - mu| <= b."""
    L = math.log(2.0 / (2.0 * norm.sf(Z) if delta is None else delta))
    return b * L / (3 * m) + math.sqrt((b * L / (3 * m)) ** 2 + 2.0 * L * var / m)


def batch_ci(estimator, x, batches=20):
    """Batch-means interval for a non-linear estimator (e.g. a self-normalised ratio)."""
    vals = np.array([estimator(part) for part in np.array_split(x, batches)])

    return float(vals.mean()), float(t.isf(norm.sf(Z), batches - 1) * vals.std(ddof=1) / math.sqrt(batches))


def law_deviation(draws, probs):
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


def win_interval(wins, law, p, r):
    """:func:`_mean_test` for win indicators (ties 1/2) of draws from ``law`` against fresh draws from ``p``."""
    diff = r[:, None] - r[None, :]
    score = (diff > 0) + 0.5 * (diff == 0)
    joint = law[:, None] * p[None, :]
    return mean_test(wins, score.ravel(), joint.ravel())


def level_draws(values, levels):
    return np.searchsorted(levels, values)
