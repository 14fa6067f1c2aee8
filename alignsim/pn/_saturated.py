r"""Exact MLE risk of a saturated family by streaming over count vectors (numba).

A family whose :math:`K` support points have affinely independent statistics (:math:`p = K-1`) contains every
positive law on the support, so the MLE is the empirical law :math:`\hat f = c/n` whenever every cell is seen
and the information projection of a positive truth is the truth itself. The risks are then closed forms,

.. math::

    D[f_*|\hat f] = \mathrm{KL}(g\,\|\,c/n),\qquad D[\hat f|f_*] = \mathrm{KL}(c/n\,\|\,g),

summed over the :math:`\binom{n+K-1}{K-1}` count vectors with multinomial weights in one pass: no array of
count vectors, no moment equation to solve.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .._lattice import next_composition


@nb.njit(inline="always")
def _neumaier(total, comp, x):
    """One step of Neumaier's compensated sum: millions of terms keep a relative error of one rounding."""
    t = total + x
    if abs(total) >= abs(x):
        comp += (total - t) + x
    else:
        comp += (x - t) + total
    return t, comp


@nb.njit(cache=True)
def saturated_risk_sums(n, g):
    """``(P(exists), E[KL(g||c/n); exists], E[KL(c/n||g); exists], count)`` over all count vectors of ``n``
    into ``len(g)`` cells, in the order of :func:`alignsim._lattice.compositions` (``count`` of them)."""
    m = g.size
    log_g = np.log(g)
    log_n = math.log(n)
    base = math.lgamma(n + 1.0)
    p_exists = forward = reverse = total = 0.0
    cp = cf = cr = ct = 0.0  # compensations
    count = 0
    c = np.zeros(m, np.int64)
    c[m - 1] = n
    while True:
        count += 1
        logw = base
        seen_all = True
        for j in range(m):
            logw += c[j] * log_g[j] - math.lgamma(c[j] + 1.0)
            if c[j] == 0:
                seen_all = False
        w = math.exp(logw)
        total, ct = _neumaier(total, ct, w)
        if seen_all:
            fwd = 0.0
            rev = 0.0
            for j in range(m):
                log_hat = math.log(c[j]) - log_n
                fwd += g[j] * (log_g[j] - log_hat)
                rev += (c[j] / n) * (log_hat - log_g[j])
            p_exists, cp = _neumaier(p_exists, cp, w)
            forward, cf = _neumaier(forward, cf, w * max(fwd, 0.0))
            reverse, cr = _neumaier(reverse, cr, w * max(rev, 0.0))
        if not next_composition(c):
            # the weights sum to one exactly; dividing by their computed sum removes the rounding of lgamma(n + 1)
            # that every weight shares (about 1e-12 relative at n = 3000)
            t = total + ct
            return (p_exists + cp) / t, (forward + cf) / t, (reverse + cr) / t, count


def is_saturated(T: np.ndarray) -> bool:
    """Whether the ``K`` rows of ``T`` (shape ``(K, K-1)``) are affinely independent."""
    k = T.shape[0]
    if T.shape[1] != k - 1:
        return False
    aug = np.hstack([T, np.ones((k, 1))])
    return bool(np.linalg.matrix_rank(aug) == k)
