"""Per-sample values of the KL estimators k1, k2, k3 and their gradient coefficients (private kernels of
:mod:`alignsim.estimators`), each in the form that keeps its digits: k3 by a series near 0, logs of the values
where they overflow, and mass-times-ratio products formed in logs."""

from __future__ import annotations

import math
import warnings

import numpy as np


def k3(ell: np.ndarray) -> np.ndarray:
    """expm1(-ell) + ell >= 0; its series for |ell| < 0.1 (where the two terms cancel: at ell = 1.001e-3 the direct
    form lost 7e-14 relative), inf (with a warning) on overflow; relative error about 1e-15 or below throughout."""
    out = np.empty_like(ell)
    small = np.abs(ell) < 0.1
    e = ell[small]
    # sum_{j>=2} (-e)^j / j! by Horner through j = 18 (the next term is below 1e-19 relative at |e| = 0.1)
    acc = np.zeros_like(e)
    for j in range(18, 1, -1):  # acc = 1/2! + x (1/3! + x (1/4! + ...)), x = -e
        acc = (-e) * acc + 1.0 / math.factorial(j)
    out[small] = e * e * acc
    big = ~small
    with np.errstate(over="ignore"):
        out[big] = np.expm1(-ell[big]) + ell[big]
    if np.any(np.isinf(out)):
        warnings.warn("k3 overflowed to inf: log-ratio below -709 (rho = pi_ref/pi > 1e308)", RuntimeWarning,
                      stacklevel=3)
    return np.maximum(out, 0.0)


def log_values(ell: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``(log|k|, k < 0)`` of the estimator values, finite where ``k`` itself overflows (``k3`` at ``ell < -709``:
    ``log k3 = -ell + log1p((ell - 1) e^ell)``)."""
    with np.errstate(divide="ignore"):
        if kind == "k1":
            return np.log(np.abs(ell)), ell < 0
        if kind == "k2":
            return math.log(0.5) + 2.0 * np.log(np.abs(ell)), np.zeros(ell.shape, bool)
        far = ell < -700.0
        out = np.empty_like(ell)
        out[far] = -ell[far] + np.log1p((ell[far] - 1.0) * np.exp(ell[far]))
        out[~far] = np.log(k3(ell[~far]))
    return out, np.zeros(ell.shape, bool)


def values(ell: np.ndarray, kind: str) -> np.ndarray:
    if kind == "k1":
        return ell.copy()
    if kind == "k2":
        return 0.5 * ell * ell
    return k3(ell)


def weighted_moment(w, log_abs, negative, m: int) -> float:
    """``sum(w * k**m)`` with each term formed as ``exp(log w + m log|k|)``: a tiny mass times a huge value stays
    finite where ``k**m`` alone would overflow."""
    with np.errstate(over="ignore"):
        terms = np.exp(np.log(w) + m * log_abs) * np.where(negative, (-1.0) ** m, 1.0)
    return math.fsum(terms)


def derivative(kind, ell):
    """dk/d(ell): k1 -> 1, k2 -> ell, k3 -> 1 - rho."""
    if kind == "k1":
        return np.ones_like(ell)
    if kind == "k2":
        return ell.copy()
    return -np.expm1(-ell)


def weighted_coefficient(log_m, log_m_rho, kind, placement, is_weight, ell, log_is):
    """``m * f(y)`` for masses ``m = exp(log_m)`` and the coefficient ``f`` of :func:`coefficient`, finite wherever
    the product is: k3's ratio ``rho = e^-ell`` enters only as ``exp(log_m_rho)``, the caller's stable log of
    ``m * w * rho`` (``w`` the importance weight), so a mass that underflows times a ratio that overflows (logits
    spanning more than ~745) is their finite product."""
    lw = log_m + (log_is if is_weight != "none" else 0.0)
    mw = np.exp(lw)
    far = ell < -700.0
    if kind != "k3" or placement == "straight_through" or not np.any(far):
        return mw * coefficient(kind, placement, is_weight, ell, None)
    out = mw * coefficient(kind, placement, is_weight, np.where(far, 0.0, ell), None)
    with np.errstate(over="ignore"):
        m_rho = np.exp(log_m_rho[far])
    if not np.all(np.isfinite(m_rho)):
        raise ValueError("the expected gradient exceeds the float range: the sampling policy puts mass where "
                         "ref/pi > 1e308 (theta spans more than ~700 and the behaviour policy does not follow it), "
                         "so k3's ratio times that mass overflows")
    e, mwf = ell[far], mw[far]
    if placement == "reward":  # k3 = rho - 1 + ell
        out[far] = m_rho - mwf + mwf * e
    elif is_weight == "differentiable":  # k3 + (1 - rho) = ell
        out[far] = mwf * e
    else:  # 1 - rho
        out[far] = mwf - m_rho
    return out


def coefficient(kind, placement, is_weight, ell, w):
    """Per-outcome coefficient f(y) of the per-sample gradient f(y) s_y of a placement (table in
    :func:`expected_kl_gradient`); ``w`` is the importance weight pi / mu (``None``: applied by the caller)."""
    w = w if is_weight != "none" and w is not None else np.ones_like(ell)
    if placement == "reward":
        return w * values(ell, kind)
    if placement == "straight_through":
        return w * ell
    if is_weight == "differentiable":
        return w * (values(ell, kind) + derivative(kind, ell))
    return w * derivative(kind, ell)
