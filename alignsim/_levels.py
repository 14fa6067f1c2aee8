"""Reward-level laws: grouping outcomes by reward, log-space CDF bookkeeping, the best-of-N level law and the
calibrated (mid-rank) reward.

Rewards are grouped by **exact float equality** (two outcomes whose rewards differ in the last bit are two
levels). Outcomes with zero probability belong to no level.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

_LOG_HALF = -math.log(2.0)


def group(p: np.ndarray, r: np.ndarray, *, support_only: bool = True):
    """Levels of the reward on the support of ``p`` (on every outcome with ``support_only=False``).

    Returns
    -------
    levels : ndarray, shape (L,)
        Strictly increasing distinct rewards of outcomes with ``p > 0``.
    mass : ndarray, shape (L,)
        Total probability of each level.
    index : ndarray of int, shape (K,)
        Level of each outcome, ``-1`` for outcomes with ``p == 0``.
    """
    support = p > 0 if support_only else np.ones(p.shape, dtype=bool)
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


def log_neg_log1m(log_x):
    r""":math:`\log(-\log(1-x))` from :math:`\log x` (``log_x <= 0``), exact also when :math:`x` underflows.

    For :math:`x < e^{-20}`, :math:`-\log(1-x) = x(1 + x/2 + O(x^2))`, so the result is
    :math:`\log x + x/2` to rounding; this is what lets :math:`N\log(1-x)` be formed for
    :math:`x\approx e^{-1000}` and :math:`N\approx e^{1000}`.
    """
    log_x = np.asarray(log_x, dtype=float)
    tiny = log_x < -20.0
    out = np.empty_like(log_x)
    out[tiny] = log_x[tiny] + 0.5 * np.exp(log_x[tiny])
    with np.errstate(divide="ignore"):
        out[~tiny] = np.log(-log1mexp(log_x[~tiny]))
    return out


def log_cdfs(log_mass: np.ndarray):
    r"""CDF bookkeeping of a level law given by log-masses in increasing level order.

    Returns ``(log_F, log_F_minus, log_neg_log_F)``: :math:`\log P(R\le s_k)`, :math:`\log P(R<s_k)` and
    :math:`\log(-\log P(R\le s_k))`. Each CDF value comes from the lower partial sum when it is at most one half
    and from the survival :math:`S_k = P(R>s_k)`, summed from the top, otherwise, so both tails keep relative
    accuracy; :math:`\log(-\log F_k)` is formed from :math:`\log S_k` directly, so that it stays exact when
    :math:`S_k` is far below the float range.
    """
    lower = np.logaddexp.accumulate(log_mass)
    upper_incl = np.logaddexp.accumulate(log_mass[::-1])[::-1]
    log_S = np.minimum(np.append(upper_incl[1:], -np.inf), 0.0)
    use_lower = lower <= _LOG_HALF
    use_lower[-1] = False
    log_F = np.where(use_lower, lower, log1mexp(log_S))
    log_F = np.minimum(log_F, 0.0)
    log_F[-1] = 0.0
    with np.errstate(divide="ignore"):
        lnl = np.where(use_lower, np.log(-np.minimum(lower, _LOG_HALF)), log_neg_log1m(log_S))
    log_F_minus = np.append(-np.inf, log_F[:-1])
    return log_F, log_F_minus, lnl


def times_n(n: float, log_n: float, x, log_neg_x=None):
    """``N * x`` for ``x <= 0``, given ``N`` (``inf`` if beyond float range) and ``log N``.

    Where ``N`` is finite and ``x`` a normal float the plain product is used (relative error one rounding);
    elsewhere ``-exp(log N + log(-x))``, with ``log(-x)`` taken from ``log_neg_x`` when given (so that ``x`` may
    underflow, as for a survival of ``exp(-1000)`` against ``N = exp(1000)``).
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        lnx = np.log(-x) if log_neg_x is None else np.asarray(log_neg_x, dtype=float)
        via_logs = -np.exp(log_n + lnx)
        direct = np.isfinite(n) & (np.abs(x) > 1e-290)
        out = np.where(direct, n * x, via_logs)
    return np.where(x == 0.0, 0.0, out) if log_neg_x is None else out



# --------------------------------------------------------------------------------------------------------------
# The one formula: the BoN law of a level law, in log space.
# --------------------------------------------------------------------------------------------------------------
def bon_log_level_law(log_mass: np.ndarray, n: float, log_n: float) -> np.ndarray:
    r"""Log-masses :math:`\log g_k` of the best-of-N level law from level log-masses in increasing order.

    .. math::

        \log g_k = N\log F_k + \log\big(1 - e^{N\log(F_{k-1}/F_k)}\big),
        \qquad \log\frac{F_{k-1}}{F_k} = \log\Big(1-\frac{P_k}{F_k}\Big).

    ``n`` is :math:`N` as a float (``inf`` beyond the float range) and ``log_n`` its log. Each product
    :math:`N\log(1-x)` is formed directly when possible and otherwise as :math:`-\exp(\log N + \log(-\log(1-x)))`
    from :math:`\log x` (see :func:`log_neg_log1m`), so that :math:`N = e^{1000}` acting on tail
    masses :math:`e^{-1000}` is exact. When :math:`P_k/F_k>\tfrac12` the ratio is taken as
    :math:`\log F_{k-1}-\log F_k`. Public callers use :func:`alignsim.bon_law` or the model methods.
    """
    log_F, log_Fm, lnl_F = log_cdfs(log_mass)
    d = np.minimum(log_mass - log_F, 0.0)
    far = d > -math.log(2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(far, log_Fm - log_F, log1mexp(np.where(far, -1.0, d)))
        lnl_ratio = np.where(far, np.log(-ratio), log_neg_log1m(np.where(far, -1.0, d)))
    n_log_f = times_n(n, log_n, log_F, lnl_F)
    n_log_ratio = times_n(n, log_n, ratio, lnl_ratio)
    return n_log_f + log1mexp(n_log_ratio)


def calibrated(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    r"""Mid-rank calibrated reward of every outcome, :math:`P(R<r_i) + \tfrac12 P(R=r_i)` under ``p``.

    Outcomes with zero probability get the value of their reward's position in the law (so a policy that moves
    mass onto them is scored consistently).
    """
    _, mass, index = group(p, r, support_only=False)
    below = np.concatenate(([0.0], np.cumsum(mass)[:-1]))
    return (below + 0.5 * mass)[index]



def floor_exp(x: float) -> int:
    """floor(e^x) as an exact integer (also far beyond the float range)."""
    with mpmath.workdps(max(30, int(x / 2.3) + 20)):  # local precision: never change the caller's mpmath state
        return max(1, int(mpmath.floor(mpmath.exp(mpmath.mpf(x)))))


def unit_rewards(rr: np.ndarray, eps: float):
    """``(r', eps')``: rewards mapped affinely onto ``[0, 1]`` and ``eps`` scaled alike, for statistics invariant to
    such a map (GRPO's normalised advantages ``(r - mean) / (std + eps)``). Rewards near 1e300 then do not overflow
    when squared and subnormal gaps do not vanish; a constant reward is returned as it is."""
    top = float(np.max(np.abs(rr)))
    if top == 0.0:
        return rr, eps
    r1 = rr / top
    span = float(r1.max() - r1.min())
    if span == 0.0:
        return rr, eps
    with np.errstate(over="ignore"):
        return (r1 - r1.min()) / span, eps / top / span
