r"""Soft best-of-N: the exact law of softmax selection among N draws."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from .. import _validate as V
from .._levels import bon_log_level_law, group
from ._laws import _prepare

_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
#: Largest reward range over beta for which soft best-of-N is integrated directly (weights stay above e^-700).
_SOFT_MAX_SPREAD = 700.0


def _soft_bon_level_law(lv, mass, log_n, beta):
    n = math.exp(log_n)
    logw = (lv - lv.max()) / beta
    w = np.exp(logw)
    u_lo = -log_n - 45.0
    u_hi = math.log(60.0) - log_n - float(logw.min())
    panels = max(int(math.ceil((u_hi - u_lo) / 0.5)), 1)
    edges = np.linspace(u_lo, u_hi, panels + 1)
    half = 0.5 * (edges[1:] - edges[:-1])
    u = ((edges[:-1] + half)[:, None] + half[:, None] * _GL_X[None, :]).ravel()
    wts = (half[:, None] * _GL_W[None, :]).ravel()
    t = np.exp(u)
    # log M(t), M(t) = E exp(-t w): multiplied by N - 1, so near t = 0 it needs relative accuracy: there
    # log M = log1p(-E[-expm1(-t w)]) (positive terms, no cancellation); elsewhere log-sum-exp of the masses
    lost = (-np.expm1(-t[:, None] * w[None, :])) @ mass
    with np.errstate(divide="ignore"):
        log_m = np.where(lost < 0.5, np.log1p(-np.minimum(lost, 0.5)),
                         logsumexp(np.log(mass)[None, :] - t[:, None] * w[None, :], axis=1))
    base = u + (n - 1.0) * log_m + np.log(wts)
    out = np.empty_like(mass)
    for start in range(0, lv.size, 256):
        sl = slice(start, start + 256)
        integral = np.exp(logsumexp(base[:, None] - t[:, None] * w[None, sl], axis=0))
        out[sl] = n * mass[sl] * w[sl] * integral
    return out


@V.renamed_keywords(p="ref")
def soft_bon_law(ref, r, N, beta, *, levels: bool = False):
    r"""Exact law of soft best-of-N: draw :math:`N` outcomes from ``ref``, select :math:`y_i` with probability
    :math:`\propto e^{r(y_i)/\beta}`.

    With :math:`w(y) = e^{(r(y) - r_{\max})/\beta}` and :math:`M(t) = \mathbb E_p e^{-t\,w(Y)}`,

    .. math::

        \pi(y) = N p(y) w(y)\,\mathbb E\Big[\frac{1}{w(y) + \sum_{j=2}^N w(Y_j)}\Big]
        = N p(y) w(y)\int_0^\infty e^{-t\,w(y)}\,M(t)^{N-1}\,dt,

    a one-dimensional integral (from :math:`1/x=\int_0^\infty e^{-tx}dt`) evaluated in log space with composite
    16-point Gauss-Legendre in :math:`\log t`; the selection probabilities sum to one exactly in theory, and the
    quadrature keeps :math:`|\sum\pi - 1|` below ``1e-12``. :math:`\beta\to\infty` gives ``ref``,
    :math:`\beta\to0` gives :func:`bon_law` (random ties). When :math:`N\,\mathbb E[w] > e^{40}` the law is the
    tilt :math:`p\,w/\mathbb E[w]` to rounding (the selection's correction is :math:`O(1/(N\,\mathbb E[w]))`), which
    also holds for ``N`` beyond the float range. When the reward range exceeds
    :math:`700\beta` the weights leave the float range: if then
    :math:`N e^{-\mathrm{gap}_{\min}/\beta} < 10^{-16}` the result is :func:`bon_law` (the two laws differ by at
    most that much in total variation), otherwise a ``ValueError`` is raised.

    Parameters
    ----------
    ref, r : array_like, shape (K,)
    N : int or float
        :math:`N\ge1` (finite float).
    beta : float
        Selection temperature, :math:`0<\beta\le\infty`.
    levels : bool
        If True, return ``(levels, probs)`` over reward levels.

    Returns
    -------
    ndarray, shape (K,), or (levels, probs)
        The soft best-of-N law over outcomes, or with levels=True the distinct reward levels and their
        probabilities.

    References
    ----------
    .. [1] Verdun et al., arXiv:2505.03156 (2025), soft best-of-n.

    Examples
    --------
    >>> import alignsim as a
    >>> a.soft_bon_law([0.5, 0.5], [0, 1], 2, 1.0).round(6)
    array([0.384471, 0.615529])
    """
    levels = V.flag(levels, "levels")
    pp, rr, nn = _prepare(ref, r, N)
    b = V.beta(beta)
    lv, mass, idx = group(pp, rr)
    with np.errstate(over="ignore"):  # (r - max r) / beta may be -inf for a subnormal beta: weight 0
        log_tilted = np.log(mass) + (lv - lv[-1]) / b if b < math.inf else None
    if b == math.inf or lv.size == 1:
        g = mass.copy()
    elif nn[1] + logsumexp(log_tilted) > 40.0:
        # N E[w] > e^40 (w <= 1): the rivals' total weight is N E[w] to relative 1e-17, so the law is the tilt
        # p w / E[w] (its O(1 / (N E[w])) correction is below rounding)
        g = np.exp(log_tilted - logsumexp(log_tilted))
    elif float(lv[-1] - lv[0]) <= _SOFT_MAX_SPREAD * b:
        g = _soft_bon_level_law(lv, mass, nn[1], b)
        total = g.sum()
        if abs(total - 1.0) > 1e-10:  # pragma: no cover - quadrature guard
            raise RuntimeError(f"soft best-of-N quadrature lost accuracy (sum {total!r}); please report")
        g = g / total
    elif nn[1] - float(np.min(np.diff(lv))) / b < math.log(1e-16):
        g = np.exp(bon_log_level_law(np.log(mass), *nn))
    else:
        raise ValueError(
            f"beta = {b!r} is too small for exact soft best-of-N on rewards spanning {lv[-1] - lv[0]!r} "
            f"(weights underflow); use beta >= range/{_SOFT_MAX_SPREAD:g}, or bon_law for the beta -> 0 limit"
        )
    if levels:
        return lv, g
    out = np.zeros_like(pp)
    s = idx >= 0
    out[s] = pp[s] * g[idx[s]] / mass[idx[s]]
    return out
