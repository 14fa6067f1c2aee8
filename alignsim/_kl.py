r"""The Kullback-Leibler integrand, written with non-negative terms so that nearly equal laws keep their digits.

:math:`\mathrm{KL}(a\|b) = \sum_i b_i\,h(a_i/b_i - 1)` with :math:`h(x) = (1+x)\log(1+x) - x \ge 0` when both
laws sum to one: no cancellation between terms of opposite sign. :func:`kl_terms` works on probabilities (used
by :mod:`alignsim.divergences`), :func:`kl_logs` on log-masses (used by the level laws of best-of-N, the
memoryless LM and the asymptotics, whose masses may lie far below the float range).
"""

from __future__ import annotations

import math

import numpy as np



# Coefficients (-1)^k / (k (k-1)) of the series of h(x) = (1+x) log1p(x) - x, k = 2..19.
_H_SERIES = np.array([(-1.0) ** k / (k * (k - 1)) for k in range(2, 20)])


def h(x: np.ndarray) -> np.ndarray:
    """:math:`h(x) = (1+x)\\log(1+x) - x \\ge 0` for ``x >= -1``, accurate to rounding near ``x = 0``."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    small = np.abs(x) < 0.1
    xs = x[small]
    # Horner on the series sum_k c_k x^k, k >= 2.
    acc = np.zeros_like(xs)
    for c in _H_SERIES[::-1]:
        acc = acc * xs + c
    out[small] = acc * xs * xs
    xb = x[~small]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out[~small] = np.where(xb > -1.0, (1.0 + xb) * np.log1p(np.maximum(xb, -1.0 + 1e-300)) - xb, 1.0)
    return out


def kl_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    r"""Elementwise :math:`p\log(p/q) - p + q = q\,h(p/q-1) \ge 0`; ``inf`` where ``p > 0 = q``.

    The terms sum to :math:`\mathrm{KL}(p\|q)` when both arguments sum to one, with no cancellation between
    terms of opposite sign.
    """
    out = np.empty(np.broadcast(p, q).shape)
    pos_q = q > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = np.where(pos_q, (p - q) / np.where(pos_q, q, 1.0), 0.0)
    out[pos_q] = q[pos_q] * h(x[pos_q])
    # for p >> q the direct form has no cancellation, and p/q may overflow
    far = pos_q & (x > 1e6)
    out[far] = p[far] * (np.log(p[far]) - np.log(q[far])) - p[far] + q[far]
    out[~pos_q] = np.where(p[~pos_q] > 0, np.inf, 0.0)
    return out


def kl_logs(log_a: np.ndarray, log_b: np.ndarray) -> float:
    r""":math:`\mathrm{KL}(a\|b)` for two laws on the same points given by their log-masses.

    Uses the non-negative terms :math:`b\,h(a/b-1)` with :math:`a/b-1 = \mathrm{expm1}(\log a-\log b)`, so
    the result keeps relative accuracy when :math:`a\approx b`; points with :math:`b` below the float range
    contribute :math:`a\log(a/b) - a + b` from the logs (:math:`a` there need not be small: best-of-N with
    :math:`N = e^{1000}` puts its mass on levels of reference mass :math:`e^{-1000}`).
    """
    pos_a = log_a > -np.inf
    if np.any(pos_a & (log_b == -np.inf)):
        return math.inf
    s = log_b > -np.inf
    la, lb = log_a[s], log_b[s]
    with np.errstate(over="ignore"):
        x = np.expm1(la - lb)
    big = (lb < -700.0) | ~np.isfinite(x)
    total = float(np.sum(np.exp(lb[~big]) * h(x[~big])))
    abig = np.exp(la[big])
    keep = abig > 0
    lab, lbb = la[big][keep], lb[big][keep]
    total += float(np.sum(abig[keep] * (lab - lbb) - abig[keep] + np.exp(lbb)))
    return max(total, 0.0)
