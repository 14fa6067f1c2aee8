r"""The unbiased pass@k estimator of Chen et al. (2021): exact moments."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln
from scipy.stats import binom

from .. import _validate as V


def pass_at_k_estimator_moments(p, n: int, k: int) -> tuple[float, float]:
    r"""Exact mean and variance of the unbiased pass@k estimator from ``n`` samples of a prompt with success
    probability ``p``.

    .. math::

        \widehat{\mathrm{pass@}k} = 1-\frac{\binom{n-c}{k}}{\binom nk},\quad c\sim\mathrm{Binomial}(n,p);\qquad
        \mathbb E = 1-(1-p)^k,\quad \mathrm{Var} = \sum_c \binom nc p^c(1-p)^{n-c}\Big(\frac{\binom{n-c}k}{\binom nk}
        \Big)^2-(1-p)^{2k},

    the sum over the binomial law in log space (:math:`\binom{n-c}{k}/\binom nk` by log-gamma). The mean is returned
    as the closed form; that the sum reproduces it is a test.

    Parameters
    ----------
    p : float
        Success probability, in [0, 1].
    n : int
        Samples, 1 <= n <= 1e7.
    k : int
        1 <= k <= n.

    Returns
    -------
    (mean, variance) : (float, float)

    References
    ----------
    .. [1] M. Chen et al., "Evaluating large language models trained on code", arXiv:2107.03374, eq. (1).

    Examples
    --------
    >>> from alignsim import rlvr
    >>> mean, var = rlvr.pass_at_k_estimator_moments(0.2, 10, 1)   # k = 1: c / n, variance p (1 - p) / n
    >>> round(mean, 12), round(var, 12)
    (0.2, 0.016)
    """
    q = V.real(p, "p", low=0.0, high=1.0)
    nn = V.length(n, "n", high=10 ** 7, why="the variance sums over the n + 1 success counts")
    kk = V.length(k, "k", high=nn, why=f"pass@k needs k <= n = {nn} samples")
    c = np.arange(nn + 1)
    with np.errstate(divide="ignore"):
        log_pmf = binom.logpmf(c, nn, q)
    # C(n - c, k) / C(n, k): zero once n - c < k
    alive = nn - c >= kk
    log_ratio = np.full(c.size, -np.inf)
    m = c[alive]
    log_ratio[alive] = (gammaln(nn - m + 1.0) - gammaln(nn - m - kk + 1.0)) - (gammaln(nn + 1.0) - gammaln(nn - kk + 1.0))
    terms = log_pmf + 2.0 * log_ratio
    top = np.max(terms)
    second = math.exp(top) * float(np.sum(np.exp(terms - top))) if np.isfinite(top) else 0.0
    miss = (1.0 - q) ** kk
    return 1.0 - miss, max(second - miss * miss, 0.0)

