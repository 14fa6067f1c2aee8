"""Reward-level laws: grouping outcomes by reward, and log-space CDF bookkeeping.

Rewards are grouped by **exact float equality** (two outcomes whose rewards differ in the last bit are two
levels). Outcomes with zero probability belong to no level.
"""

from __future__ import annotations

import math

import numpy as np

_LOG_HALF = -math.log(2.0)


def group(p: np.ndarray, r: np.ndarray):
    """Levels of the reward on the support of ``p``.

    Returns
    -------
    levels : ndarray, shape (L,)
        Strictly increasing distinct rewards of outcomes with ``p > 0``.
    mass : ndarray, shape (L,)
        Total probability of each level.
    index : ndarray of int, shape (K,)
        Level of each outcome, ``-1`` for outcomes with ``p == 0``.
    """
    support = p > 0
    levels, inv = np.unique(r[support], return_inverse=True)
    mass = np.bincount(inv, weights=p[support], minlength=levels.size)
    index = np.full(p.shape, -1, dtype=np.int64)
    index[support] = inv
    return levels, mass, index


def log1mexp(t):
    r""":math:`\\log(1-e^{t})` for :math:`t\\le0`, accurate at both ends (Mächler 2012)."""
    t = np.asarray(t, dtype=float)
    out = np.empty_like(t)
    near = t > _LOG_HALF
    with np.errstate(divide="ignore"):
        out[near] = np.log(-np.expm1(t[near]))
        out[~near] = np.log1p(-np.exp(t[~near]))
    return out


def log_cdfs(log_mass: np.ndarray):
    r"""Log of the CDF quantities of a level law given by log-masses in increasing level order.

    Returns ``(log_F, log_F_minus, log_S)``: :math:`\\log P(R\\le s_k)`, :math:`\\log P(R<s_k)` and
    :math:`\\log P(R>s_k)`. Each CDF value is taken from the lower partial sum when it is at most one half and as
    ``log1p(-survival)`` (survival summed from the top) otherwise, so that both tails keep relative accuracy.
    """
    lower = np.logaddexp.accumulate(log_mass)
    upper_incl = np.logaddexp.accumulate(log_mass[::-1])[::-1]
    log_S = np.append(upper_incl[1:], -np.inf)
    with np.errstate(divide="ignore"):
        log_F = np.where(lower <= _LOG_HALF, lower, log1mexp(np.minimum(log_S, 0.0)))
    log_F = np.minimum(log_F, 0.0)
    log_F[-1] = 0.0
    log_F_minus = np.append(-np.inf, log_F[:-1])
    return log_F, log_F_minus, log_S


def times_n(log_n: float, x):
    """``N * x`` for ``x <= 0`` given ``log N``, without overflow for astronomically large ``N``."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(x == 0.0, 0.0, -np.exp(log_n + np.log(-x)))
