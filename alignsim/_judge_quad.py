r"""Vectorised quadrature of the judge model's per-point errors (private; :mod:`alignsim.judge` is the interface).

Everything is a function of the reduced variables of one test point, :math:`U=Y-y_T\sim\mathcal N(\mu,s^2)` and the
judge offset :math:`\rho`, through the distance :math:`r=|U-\rho|`, whose law is

.. math:: P(|U-\rho|\le r) = G(r) = \Phi(m+r/s)-\Phi(m-r/s),\qquad m=(\rho-\mu)/s .

Arrays of test points are integrated together on per-point composite Gauss-Legendre grids (no adaptive
quadrature, so a Gauss-Hermite average over test points costs one vectorised pass):

* best-of-k (:func:`best_of_k_excess`): the order-statistic integral in :math:`u=\log r`, where the factor
  :math:`(1-G)^{k-1}` is a double exponential of unit width; panels of width at most 1 in ``u`` merged with
  breakpoints at the Gaussian structure :math:`|\mu-\rho|\pm js`;
* softmax (:func:`softmax_error`): the exponential-race integral in :math:`v=\log t` with inner integrals over
  ``r``; the kernel :math:`\exp(-e^{v-r^2/T})` is a step at :math:`r=\sqrt{Tv}` of unit width in :math:`r^2/T`, so the
  inner panels are cut at :math:`\sqrt{T(v+\delta)}`.

The distance's survival :math:`1-G` is the crux at large ``k``: :math:`(k-1)\log(1-G)` must be accurate in absolute
terms, so for short intervals (:math:`\delta(1+|m|)<1/2`, :math:`\delta=r/s`) ``G`` itself is integrated by a 16-point
Gauss rule (relative accuracy ~1e-15, no cancellation) and ``log1p(-G)`` taken; otherwise
``logaddexp(log_ndtr(-a), log_ndtr(b))`` is already accurate.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import log_ndtr

_SQRT2PI = math.sqrt(2.0 * math.pi)
_LOG_TINY = -800.0  # (1-G)^(k-1) below e^-800 contributes nothing in double precision


@functools.cache
def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1.0) / 2.0, w / 2.0


def composite(breaks: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of an ``n``-point Gauss rule on every panel of sorted breakpoints ``(..., B)``.

    Returns arrays of shape ``(..., (B - 1) * n)``; zero-width panels get zero weight.
    """
    x, w = gauss_legendre(n)
    lo, width = breaks[..., :-1, None], np.diff(breaks, axis=-1)[..., None]
    shape = breaks.shape[:-1] + (-1,)
    return (lo + width * x).reshape(shape), (width * w).reshape(shape)


def _phi(z):
    return np.exp(-0.5 * z * z) / _SQRT2PI


def log_survival(r, m, s):
    r"""Elementwise :math:`\log P(|U-\rho|>r)`, :math:`m=(\rho-\mu)/s` (broadcasting), accurate in absolute terms."""
    delta = r / s
    short = delta * (1.0 + np.abs(m)) < 0.5
    out = np.logaddexp(log_ndtr(-(m + delta)), log_ndtr(m - delta))
    if np.any(short):
        mm, dd = np.broadcast_to(m, out.shape)[short], np.broadcast_to(delta, out.shape)[short]
        x, w = gauss_legendre(16)
        z = mm[:, None] + dd[:, None] * (2.0 * x - 1.0)  # G = integral of phi over [m - delta, m + delta]
        out[short] = np.log1p(-2.0 * dd * (_phi(z) @ w))
    return out


def _radius(level, k1, m, s, lo, hi, iters=40):
    """Per point, the radius where ``k1 * (-log_survival) = level`` (bisection in log r; ~1e-3 relative suffices)."""
    a, b = np.log(lo), np.log(hi)
    for _ in range(iters):
        mid = 0.5 * (a + b)
        below = -k1 * log_survival(np.exp(mid), m, s) < level
        a, b = np.where(below, mid, a), np.where(below, b, mid)
    return np.exp(0.5 * (a + b))


_STRUCTURE = np.array([-12.0, -8.0, -5.0, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0])


def best_of_k_moments(k: float, m):
    r"""Best-of-k moments :math:`(J_1, J_2)` for a 1-D array ``m`` and ``k >= 2``, in units of ``s`` (``s = 1``).

    With ``r`` the selected distance, :math:`J_1=E[\pm r]` (the sign of :math:`U-\rho`) and :math:`J_2=E[r^2]`, so
    :math:`E_k=\rho^2+2\rho sJ_1+s^2J_2` exactly and the floor :math:`\rho^2` is never subtracted:

    .. math:: J_1=k\int_0^\infty r\,[\varphi(m+r)-\varphi(m-r)](1-G)^{k-1}dr,\qquad
              J_2=k\int_0^\infty r^2[\varphi(m+r)+\varphi(m-r)](1-G)^{k-1}dr,

    integrated in :math:`\log r` from where :math:`(k-1)(-\log(1-G))=10^{-17}` (what lies below is at most
    :math:`kG(r_{lo})\,r_{lo}^2`, and :math:`J_2\gtrsim r_{lo}^2`) to where it reaches 800 (or :math:`|m|+40`).
    """
    r_top = np.abs(m) + 40.0
    lo = _radius(1e-17, k - 1.0, m, 1.0, np.full_like(m, 1e-300), r_top)
    hi = _radius(-_LOG_TINY, k - 1.0, m, 1.0, lo, r_top)
    span = np.log(hi / lo)
    n_geo = int(math.ceil(span.max())) + 1
    geo = np.log(lo)[:, None] + span[:, None] * np.linspace(0.0, 1.0, n_geo + 1)[None, :]
    gauss = np.log(np.clip(np.abs(m)[:, None] + _STRUCTURE[None, :], lo[:, None], hi[:, None]))
    u, wu = composite(np.sort(np.concatenate([geo, gauss], axis=1), axis=1), 10)
    r = np.exp(u)
    pa, pb = _phi(m[:, None] + r), _phi(m[:, None] - r)
    w = k * wu * r * r * np.exp((k - 1.0) * log_survival(r, m[:, None], 1.0))
    return np.sum(w * (pa - pb), axis=1), np.sum(w * r * (pa + pb), axis=1)


#: the softmax's inner panels: the kernel's step (offsets in r^2/T) and a coarser Gaussian structure (cost ~ their
#: product; 8 x 10 Gauss points reach ~1e-11 relative against a 20 x 24 reference)
_STEPS = np.array([-6.0, -3.0, -1.5, 0.0, 1.5, 3.0, 6.0, 12.0, 20.0, 30.0, 42.0])
_SOFT = np.array([-8.0, -5.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 5.0, 8.0])


def _inner(v, tau, m):
    r"""For points ``(P,)`` and outer nodes ``v (P, V)`` (``s = 1``, ``tau = T/s^2``): :math:`M=E[1-e^{-e^{v}w}]` and
    :math:`E[r^j(\pm1)^j e^{v}w\,e^{-e^{v}w}]` for ``j = 1, 2``, :math:`w=e^{-r^2/\tau}`, by Gauss rules over
    ``r`` cut at the kernel's step :math:`r=\sqrt{\tau(v+\delta)}` and at the distance law's structure."""
    dist = np.abs(m)[:, None, None]
    r_top = dist + 40.0
    steps = np.sqrt(tau * np.maximum(v[:, :, None] + _STEPS, 0.0))
    breaks = np.clip(np.concatenate([np.zeros_like(steps[..., :1]), steps,
                                     np.broadcast_to(dist + _SOFT, v.shape + _SOFT.shape)], axis=2), 0.0, r_top)
    r, wr = composite(np.sort(breaks, axis=2), 10)
    pa, pb = wr * _phi(m[:, None, None] + r), wr * _phi(m[:, None, None] - r)
    ex = np.exp(np.minimum(v[:, :, None] - r * r / tau, 700.0))
    em = np.expm1(-ex)  # -chi, accurate when e^x is small (large k); 1 + em = e^{-e^x} to 1e-16 absolute
    psi = r * ex * (1.0 + em)
    both = pa + pb
    return -np.sum(both * em, axis=2), np.sum((pa - pb) * psi, axis=2), np.sum(both * r * psi, axis=2)


def softmax_moments(k: float, tau: float, m, chunk: int = 8):
    r"""Softmax moments :math:`(I_1, I_2)` for a 1-D array ``m``, ``k >= 2`` and ``tau = T/s^2 > 0`` (``s = 1``).

    :math:`E_{k,T}=\rho^2+2\rho sI_1+s^2I_2` with, from :math:`1/a=\int_0^\infty e^{-ta}dt` (an exponential race),

    .. math:: I_j=k\int_{-\infty}^{\infty} E\big[(\pm r)^j e^{v}w\,e^{-e^{v}w}\big]\,L(e^{v})^{k-1}dv,\quad
              L(t)=E\,e^{-t\,w},\ w=e^{-r^2/\tau},

    and ``log L = log1p(-M)``. The outer range runs from 38 e-folds below the bulk (:math:`t\approx1/(k\,Ew)`,
    :math:`Ew` in closed form) to :math:`r_{hi}^2/\tau+45`, where :math:`r_{hi}` is the radius beyond which every
    rival is closer with probability :math:`1-e^{-45}/k`; outer panels are unit-width near the origin and follow
    the distance law's structure (spacing 1/4 in ``r``) beyond.
    """
    i1, i2 = np.empty(m.shape), np.empty(m.shape)
    with np.errstate(divide="ignore"):  # log1p(-1) = -inf where every rival surely wins: a zero factor
        for i in range(0, m.size, chunk):
            sl = slice(i, i + chunk)
            i1[sl], i2[sl] = _softmax_chunk(k, tau, m[sl])
    return i1, i2


def log_mean_weight(tau, m):
    r""":math:`\log E\,w` for :math:`w=e^{-(U-\rho)^2/T}` (``s = 1``, ``tau = T``, ``m = (rho - mu)/s``), a Gaussian
    integral: :math:`E\,w=\sqrt{\tau/(\tau+2)}\,e^{-m^2/(\tau+2)}`. The rivals' total weight is about ``k E w``."""
    return 0.5 * np.log(tau / (tau + 2.0)) - np.asarray(m) ** 2 / (tau + 2.0)


def _softmax_chunk(k, tau, m):
    dist = np.abs(m)
    low = -math.log(k) - log_mean_weight(tau, m) - 38.0
    r_hi = _radius(45.0, k, m, 1.0, np.full_like(m, 1e-300), dist + 40.0)
    v_hi = np.maximum(r_hi ** 2 / tau + 45.0, 13.0)
    bulk = low + 38.0  # t = 1 / (k E w): where the rivals' total weight reaches one
    tail = low[:, None] + 30.0 * np.linspace(0.0, 1.0, 11)[None, :]
    unit = np.concatenate([np.broadcast_to(np.arange(-6.0, 14.0), (m.size, 20)),
                           bulk[:, None] + np.arange(-8.0, 9.0)[None, :]], axis=1)
    r0 = math.sqrt(13.0 * tau)
    n_rad = max(int(math.ceil(4.0 * max(float(np.max(r_hi)) - r0, 0.0))), 1)
    radial = (r0 + np.maximum(r_hi - r0, 0.0)[:, None] * np.linspace(0.0, 1.0, n_rad + 1)[None, :]) ** 2 / tau
    # at small tau the selected rival's distance (~1/k) lies far beyond r0 in v ~ r^2/tau: radii doubling from r0
    # to the first spacing keep each panel's nodes spread in r (a Gauss rule in v sees a smooth function of sqrt v)
    n_geo = max(int(math.ceil(math.log2(0.25 / r0))), 0) if r0 < 0.25 else 0
    geometric = np.broadcast_to((r0 * 2.0 ** np.arange(n_geo + 1)) ** 2 / tau, (m.size, n_geo + 1))
    breaks = np.concatenate([tail, unit, radial, geometric, v_hi[:, None]], axis=1)
    breaks = np.sort(np.clip(breaks, low[:, None], v_hi[:, None]), axis=1)
    v, wv = composite(breaks, 8)
    M, N1, N2 = _inner(v, tau, m)
    w = k * wv * np.exp((k - 1.0) * np.log1p(-np.minimum(M, 1.0)))
    return np.sum(w * N1, axis=1), np.sum(w * N2, axis=1)
