r"""Log-space kernels of the exponential tilt on the support of a finite law.

Every function here takes the support arrays ``(ps, rs)`` (``ps > 0``, already validated) and the inverse
temperature ``lam`` (:math:`\lambda = 1/\beta`). They are shared by :mod:`alignsim.tilting` (the public tilt
functions) and :mod:`alignsim.asymptotics` (rate functions and cumulants), so that the log-partition function
:math:`\Lambda(\lambda) = \log\sum_y p(y)e^{\lambda r(y)}` is computed in exactly one place.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

#: Largest log(lambda) the solver tries (lambda = 1/beta must stay a finite float).
LOG_LAMBDA_MAX = 709.0


def support(p, r):
    """The outcomes with ``p > 0``: ``(p[s], r[s])``."""
    s = p > 0
    return p[s], r[s]


def lam_of(beta: float) -> float:
    """:math:`\\lambda = 1/\\beta`: ``beta = inf`` (the reference) gives 0, ``beta = 0`` (the reward-maximising
    limit) gives ``inf``."""
    return 0.0 if beta == math.inf else (math.inf if beta == 0.0 else 1.0 / beta)


def beta_of(lam):
    """:math:`\\beta = 1/\\lambda`: 0 for ``lam = inf`` (reward maximiser), ``inf`` for ``lam = 0``."""
    return 0.0 if lam == math.inf else (math.inf if lam == 0.0 else 1.0 / lam)


def _shifted(ps, rs, lam):
    """``log ps + lam (rs - c)`` with ``c`` the largest reward for ``lam >= 0`` and the smallest otherwise, so the
    exponent never overflows (``r / beta`` may exceed the float range; its gaps to ``c`` enter with the right sign).
    Returns the shifted exponents (rows: values of ``lam``) and ``c``."""
    lam = np.asarray(lam, dtype=float).reshape(-1, 1)
    c = np.where(lam >= 0, rs.max(), rs.min())
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a = np.log(ps)[None, :] + lam * (rs[None, :] - c)
    return np.where(np.isnan(a), -np.inf, a), c.ravel()


def log_partition(ps, rs, lam):
    r""":math:`\Lambda(\lambda)` on the support by a shifted log-sum-exp; ``lam`` a float or an array.

    :math:`\Lambda(\lambda) = \lambda c + \log\sum_y p(y)e^{\lambda(r(y)-c)}`: finite whenever the true value is;
    ``+inf`` only when :math:`\lambda c` itself exceeds the float range.
    """
    lam_arr = np.asarray(lam, dtype=float)
    a, c = _shifted(ps, rs, lam_arr)
    m = a.max(axis=1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        log_sum = (m + np.log(np.exp(a - m).sum(axis=1, keepdims=True))).ravel()
        # near lam = 0 the sum is 1 - s with s tiny: log1p of the sum of p expm1(x) keeps its relative digits
        # (log of the rounded sum loses them: beta * Lambda(1/beta) at beta = 1e10 was off by 1e-6)
        x = lam_arr.reshape(-1, 1) * (rs[None, :] - c[:, None])
        s = np.where(np.isnan(x), -1.0, np.expm1(x)) @ ps
        near = s > -0.5
        log_sum[near] = np.log1p(s[near])
        out = lam_arr.ravel() * c + log_sum
    return out.reshape(lam_arr.shape)


def tilt_log(pp, rr, lam):
    r""":math:`\log\phi_\lambda` over all outcomes (``-inf`` off the support of ``pp``); ``lam = inf`` is ``pp``
    conditioned on the reward maximisers of its support. Normalised directly from the shifted exponents, so it
    stays exact when :math:`\lambda r` overflows."""
    on = pp > 0
    if lam == math.inf:
        top = on & (rr == rr[on].max())
        with np.errstate(divide="ignore"):
            return np.where(top, np.log(np.where(top, pp, 1.0)) - math.log(pp[top].sum()), -np.inf)
    out = np.full(pp.shape, -np.inf)
    a = _shifted(pp[on], rr[on], lam)[0][0]
    m = a.max()
    out[on] = a - (m + math.log(float(np.exp(a - m).sum())))
    return out


def tilt_mean(ps, rs, lam):
    r""":math:`\Lambda'(\lambda) = \mathbb E_{\phi_\lambda} r` on the support (the largest reward at ``lam = inf``),
    kept inside :math:`[\min r, \max r]`: a convex combination, which the rounded tilted masses can push an ulp past
    an end (found by hypothesis: 2.0000000000000004 for rewards in [-2, 2], which the rate function then calls
    outside the reward range)."""
    if lam == math.inf:
        return float(rs.max())
    return float(np.clip(np.dot(np.exp(tilt_log(ps, rs, lam)), rs), rs.min(), rs.max()))



# Series coefficients for |x| <= 1/2: e^x - 1 - x = sum_{k>=2} x^k / k!, and
# k(x) = 1 + (x-1) e^x = sum_{k>=2} (k-1) x^k / k!  (k = 2..22, truncation below 1e-22).
_E_SERIES = np.array([1.0 / math.factorial(k) for k in range(2, 23)])


_K_SERIES = np.array([(k - 1) / math.factorial(k) for k in range(2, 23)])


def _series_or(x, coeffs, direct):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    small = np.abs(x) <= 0.5
    xs = x[small]
    acc = np.zeros_like(xs)
    for c in coeffs[::-1]:
        acc = acc * xs + c
    out[small] = acc * xs * xs
    out[~small] = direct(x[~small])
    return out


def tilt_kl(ps, rs, lam):
    r"""K(lam) = KL(phi_lam || p) on the support, for lam >= 0.

    Two exact forms, each free of cancellation in its own regime; the one whose largest term is smaller
    relative to the result is returned.

    * Centred at :math:`\mu = \mathbb E_p r`, :math:`x = \lambda(r-\mu)`: the linear term of
      :math:`Z = \mathbb E_p e^x = 1 + A` vanishes exactly, :math:`A = \mathbb E_p[e^x-1-x]\ge0`, and
      :math:`K = \{\mathbb E_p k(x) - [(1+A)\log(1+A) - A]\}/Z` with :math:`k(x) = 1+(x-1)e^x\ge0`
      (good as :math:`\lambda\to0`).
    * Gaps :math:`d = r_{\max}-r\ge0`: :math:`Z' = \mathbb E_p e^{-\lambda d}`,
      :math:`K = -\log Z' - \lambda\,\mathbb E_\phi d` (good as :math:`\lambda\to\infty`), with
      :math:`\log Z' = \log1p(-\mathbb E_p[-\mathrm{expm1}(-\lambda d)])` when :math:`Z'` is near one.
    """
    if lam == 0.0:
        return 0.0
    if lam == math.inf:
        return max_kl(ps, rs)
    candidates = []
    with np.errstate(over="ignore"):
        x = lam * (rs - float(np.dot(ps, rs)))
    if x.max() < 700.0:
        A = float(np.dot(ps, _series_or(x, _E_SERIES, lambda v: np.expm1(v) - v)))
        kk = float(np.dot(ps, _series_or(x, _K_SERIES, lambda v: 1.0 + (v - 1.0) * np.exp(v))))
        k_c = (kk - ((1.0 + A) * math.log1p(A) - A)) / (1.0 + A)
        if k_c > 0:
            candidates.append((kk / (1.0 + A) / k_c, k_c))
    with np.errstate(over="ignore"):
        y = lam * (rs.max() - rs)  # may overflow to inf for huge lam: those outcomes have weight 0
    w = ps * np.exp(-y)
    Z = float(w.sum())
    deficit = float(np.dot(ps, -np.expm1(-y)))  # 1 - Z without cancellation
    log_z = math.log1p(-deficit) if deficit < 0.5 else math.log(Z)
    live = w > 0  # 0 * inf would be NaN
    mean_gap = float(np.dot(w[live], y[live])) / Z
    k_t = -log_z - mean_gap
    if k_t > 0:
        candidates.append((max(-log_z, mean_gap) / k_t, k_t))
    return min(candidates)[1] if candidates else 0.0


def max_kl(ps, rs):
    top = rs == rs.max()
    rest = ps[~top].sum()
    # -log p(A*) = -log1p(-p(not A*)) keeps digits when p(A*) is close to one.
    return float(-math.log1p(-rest)) if rest < 0.5 else float(-math.log(ps[top].sum()))


def solve_lambda(ps, rs, delta):
    """lam >= 0 with K(lam) = delta, for 0 < delta < max_kl (callers handle the ends)."""
    centred = rs - np.dot(ps, rs)
    scale = float(np.max(np.abs(centred)))
    z2 = float(np.dot(ps, (centred / scale) ** 2))  # var / scale^2: neither over- nor underflows
    levels = np.unique(rs)
    # small-budget asymptote lam ~ sqrt(2 delta / var); if var underflows, the top reward gap sets the scale
    if scale * math.sqrt(z2) > 1e-145:
        lam0 = math.sqrt(2.0 * delta / z2) / scale
    else:
        lam0 = 1.0 / float(levels[-1] - levels[-2])
    lam0 = min(lam0, math.exp(LOG_LAMBDA_MAX))

    def f(u):
        k = tilt_kl(ps, rs, math.exp(u))
        return (math.log(k) if k > 0 else -math.inf) - math.log(delta)

    lo = hi = math.log(lam0)
    step = 1.0
    while f(lo) > 0:
        lo -= step
        step *= 2.0
    step = 1.0
    while f(hi) < 0:
        if hi >= LOG_LAMBDA_MAX:
            gap = float(levels[-1] - levels[-2])
            raise ValueError(
                f"delta = {delta!r} needs lambda = 1/beta beyond the float range: the gap between the two largest "
                f"rewards r ({gap!r}) is too small; rescale the rewards r or lower delta"
            )
        hi = min(hi + step, LOG_LAMBDA_MAX)
        step *= 2.0
    if lo == hi:
        return lam0
    u = brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)
    return math.exp(u)


def lambda_on_support(ps, rs, delta):
    """lam_delta for a checked budget: 0 at delta = 0, inf for a slack budget (delta >= max_kl)."""
    if delta >= max_kl(ps, rs):
        return math.inf
    return 0.0 if delta == 0.0 else solve_lambda(ps, rs, delta)


def reward_of(ps, rs, lam):
    return float(rs.max()) if lam == math.inf else tilt_mean(ps, rs, lam)
