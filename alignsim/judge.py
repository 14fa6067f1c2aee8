r"""Inference-time scaling with an LLM judge: Bayesian linear regression with reward-weighted selection.

The analytically tractable model of Halder and Pehlevan: a Bayesian linear regression (prior
:math:`w\sim\mathcal N(0,\gamma^2I_d)`, noise :math:`\sigma^2`) is trained on ``n`` labels of a linear teacher
:math:`y_T=w_T\cdot x` (inputs :math:`x=g/\sqrt d`, :math:`g\sim\mathcal N(0,S^2I_d)`); at inference ``k`` samples
are drawn from the posterior predictive and one is selected by a softmax at temperature ``T`` over the judge reward
:math:`-(Y-y_R)^2` (``T = 0``: best-of-k). The error is measured against the **clean** teacher output.

Per test point everything depends on three numbers: the offset :math:`\mu=m(x)-y_T(x)`, the judge offset
:math:`\rho=y_R(x)-y_T(x)` and the predictive standard deviation ``s``; with :math:`U=Y-y_T\sim\mathcal N(\mu,s^2)`
the error is :math:`E_{k,T}=E[U_{\rm sel}^2]`. This module computes it exactly (:func:`point_error`: closed forms at
``k = 1`` and ``k = inf``, one-dimensional integrals otherwise, 1e-10 relative up to ``k = 1e6``), averages it over
test points in the proportional limit ``d, n -> inf`` with :math:`\alpha=d/n` fixed (:class:`JudgeModel`), and
answers the paper's questions: the :math:`1/k^2` law of best-of-k and where it breaks (:meth:`JudgeModel.best_of_k`),
the optimal number of samples, temperature and judge, and what inference compute is worth in training data.

Conventions:

* :math:`\alpha=d/n` is parameters per sample, as in the paper (not ``n/d``);
* the softmax weight is :math:`e^{-(Y-y_R)^2/T}` with ``T`` in absolute units (the authors' code quotes
  :math:`T/(2\sigma^2)`; the natural dimensionless temperature is :math:`T/(2s^2)`);
* the offset variance over test points is the **corrected** deterministic equivalent (derived for this package,
  see :meth:`JudgeModel.offset_law`): the authors' code uses :math:`\mu=-a_1y_T`, which drops the estimation noise
  and is right only for :math:`\alpha\to0`; ``de="paper"`` reproduces it.

The corrected deterministic equivalent, the exact per-point errors, the best-of-k asymptotics and the optimal k,
T and judge are derived for this package and checked in ``alignsim verify --only judge``.

References
----------
.. [1] I. Halder, C. Pehlevan, "Demystifying LLM-as-a-Judge: Analytically Tractable Model for Inference-Time
   Scaling", arXiv:2512.19905 (2025).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from . import _validate as V
from ._judge_quad import best_of_k_moments, composite, softmax_moments

__all__ = [
    "DeterministicEquivalent",
    "deterministic_equivalent",
    "exact_predictive",
    "point_error",
    "high_temperature_error",
    "best_of_k_constant",
    "point_optimal_k",
    "point_optimal_temperature",
    "point_optimal_judge",
    "BestOfK",
    "JudgeModel",
]

#: Averages over test points (by symmetry only Delta > 0 is evaluated). Best-of-k: composite Gauss-Legendre in
#: x = Delta / sd(Delta) on [0, 12], 8 points per panel, panels no wider than 1 in x nor than 1/2 in m = Delta / s
#: (the per-point error changes shape over |m| ~ 1: its transition from C/k^2 to (|m| - sqrt(2 log k))^2 is that
#: sharp, and Gauss-Hermite converges slowly once sd(m) > 1). Softmax (3 ms a point): Gauss-Hermite with
#: _GH_SOFTMAX nodes while sd(m) <= 1, where its error is <= 1e-8 relative; the composite rule with panels of 1
#: in m beyond (1e-10).
_X_MAX = 12.0
_GH_SOFTMAX = 32


def _delta_nodes(var_delta: float, s: float, softmax: bool):
    """Nodes ``Delta > 0`` and weights (the N(0, var_delta) density included, doubled for the mirror half)."""
    sd = math.sqrt(var_delta)
    if softmax and sd <= s:
        x, w = np.polynomial.hermite_e.hermegauss(_GH_SOFTMAX)
        pos = x > 0
        return sd * x[pos], 2.0 * w[pos] / math.sqrt(2.0 * math.pi)
    n_panels = int(math.ceil(_X_MAX / min(1.0, (1.0 if softmax else 0.5) * s / sd)))
    x, w = composite(np.linspace(0.0, _X_MAX, n_panels + 1), 8)
    return sd * x, 2.0 * w * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------------------------
def _temperature(T, name: str = "T") -> float:
    return V.real(T, name, low=0.0)


def _positive(x, name: str) -> float:
    return V.real(x, name, low=0.0, low_open=True)


def _count(x, name: str) -> float:
    """A dimension or sample size: a real >= 1 (integers in practice; the deterministic equivalent takes reals)."""
    return V.real(x, name, low=1.0)


# ---------------------------------------------------------------------------------------------------------------
# deterministic equivalent
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeterministicEquivalent:
    r"""Deterministic equivalents of the posterior predictive (:math:`d,n\to\infty`, :math:`\alpha=d/n`).

    Attributes
    ----------
    R, dR : float
        Renormalised ridge (positive root of :math:`R^2+bR-c=0`) and :math:`dR/d\lambda`.
    a1, a2 : float
        :math:`\lim\frac1d\mathrm{tr}\,\lambda(K+\lambda)^{-1}` and :math:`\lim\frac1d\mathrm{tr}\,\lambda^2
        (K+\lambda)^{-2}`; :math:`a_1^2\le a_2\le a_1`.
    s2 : float
        Predictive variance :math:`\sigma^2+\gamma^2S^2a_1` (includes the label noise).
    var_mu : float
        Variance of the offset :math:`\mu` over test points (corrected, or naive when ``de="paper"``).
    cov_mu_teacher, var_teacher : float
        :math:`\mathrm{Cov}(\mu,y_T)=-a_1S^2\tau^2` and :math:`\mathrm{Var}\,y_T=S^2\tau^2`.
    mean_gain : float
        :math:`1-a_1=S^2/(R+S^2)`: the predictive mean is :math:`(1-a_1)\,y_T` to leading order.

    References
    ----------
    .. [1] I. Halder, C. Pehlevan, "Demystifying LLM-as-a-Judge", arXiv:2512.19905 (the deterministic equivalent; the
       corrected offset variance is derived for this package).

    Examples
    --------
    >>> from alignsim.judge import deterministic_equivalent
    >>> q = deterministic_equivalent(2.0, 0.1, 1.0)
    >>> [round(q.R, 10), round(q.a1, 10), round(q.a2, 10)]
    [1.3483314774, 0.5741657387, 0.5172612419]
    """

    R: float
    dR: float
    a1: float
    a2: float
    s2: float
    var_mu: float
    cov_mu_teacher: float
    var_teacher: float
    mean_gain: float


def deterministic_equivalent(alpha, sigma2, prior_var, *, S2=1.0, tau2=1.0, de: str = "corrected"):
    r"""Deterministic equivalents of Bayesian ridge regression at :math:`\alpha=d/n`.

    With :math:`\lambda=\sigma^2/\gamma^2`, :math:`b=S^2(1-\alpha)-\alpha\lambda`, :math:`c=\alpha\lambda S^2`:

    .. math::

        R = \frac{2c}{b+\sqrt{b^2+4c}},\quad \frac{dR}{d\lambda}=\frac{\alpha(R+S^2)}{\sqrt{b^2+4c}},\quad
        a_1=\frac{R}{R+S^2},\quad a_2=a_1-\frac{\lambda S^2}{(R+S^2)^2}\frac{dR}{d\lambda},

        s^2=\sigma^2+\gamma^2S^2a_1,\qquad V_\mu=S^2\big[\tau^2a_2+\gamma^2(a_1-a_2)\big].

    ``de="corrected"`` (default) is the offset variance derived for this package: :math:`\mu=-a_1y_T+\xi` with
    :math:`\xi` the estimation noise of variance :math:`S^2[\tau^2(a_2-a_1^2)+\gamma^2(a_1-a_2)]`; it satisfies the
    Bayes identity :math:`V_\mu=s^2-\sigma^2` when :math:`\tau^2=\gamma^2` and matches finite-``d`` simulation.
    ``de="paper"`` is the authors' code, :math:`V_\mu=S^2\tau^2a_1^2` (no :math:`\xi`): right only as
    :math:`\alpha\to0` (at :math:`\alpha=0.5,\lambda=0.5` it is 0.079 against the true 0.281).

    Parameters
    ----------
    alpha : float
        Parameters per sample, ``d / n`` (> 0).
    sigma2, prior_var : float
        Label-noise variance :math:`\sigma^2` and prior variance :math:`\gamma^2` (> 0).
    S2, tau2 : float, optional
        Input variance per coordinate before the :math:`1/\sqrt d` scaling and teacher power
        :math:`\|w_T\|^2/d` (> 0).
    de : {"corrected", "paper"}

    Returns
    -------
    DeterministicEquivalent

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905.

    Examples
    --------
    >>> from alignsim.judge import deterministic_equivalent
    >>> q = deterministic_equivalent(0.5, 0.5, 1.0)
    >>> [round(q.R, 10), round(q.a1, 10), round(q.a2, 10), round(q.var_mu, 10)]
    [0.3903882032, 0.2807764064, 0.1063390626, 0.2807764064]
    """
    a = _positive(alpha, "alpha")
    sig2 = _positive(sigma2, "sigma2")
    g2 = _positive(prior_var, "prior_var")
    s2_in = _positive(S2, "S2")
    t2 = _positive(tau2, "tau2")
    V.choice(de, "de", ("corrected", "paper"))
    lam = sig2 / g2
    b = s2_in * (1.0 - a) - a * lam
    c = a * lam * s2_in
    root = math.sqrt(b * b + 4.0 * c)
    R = 2.0 * c / (b + root) if b > 0 else (root - b) / 2.0  # no cancellation on either side
    dR = a * (R + s2_in) / root
    a1 = R / (R + s2_in)
    a2 = a1 - lam * s2_in / (R + s2_in) ** 2 * dR
    if de == "corrected":
        var_mu = s2_in * (t2 * a2 + g2 * (a1 - a2))
    else:
        var_mu = s2_in * t2 * a1 * a1
    return DeterministicEquivalent(R, dR, a1, a2, sig2 + g2 * s2_in * a1, var_mu, -a1 * s2_in * t2, s2_in * t2,
                                   1.0 - a1)


def exact_predictive(X, y, x, sigma2, prior_var):
    r"""Exact posterior predictive mean and variance of Bayesian ridge regression at test inputs ``x``.

    .. math:: m(x)=x^\top(K+\lambda I)^{-1}X^\top y,\qquad s^2(x)=\sigma^2+\sigma^2x^\top(K+\lambda I)^{-1}x,
              \qquad K=X^\top X,\ \lambda=\sigma^2/\gamma^2 .

    Parameters
    ----------
    X : array_like, shape (n, d)
        Training inputs (rows).
    y : array_like, shape (n,)
        Training labels.
    x : array_like, shape (d,) or (m, d)
        Test inputs.
    sigma2, prior_var : float
        Noise and prior variances (> 0).

    Returns
    -------
    mean, var : ndarray
        Shapes ``()`` or ``(m,)``; ``var`` includes :math:`\sigma^2`.

    References
    ----------
    .. [1] C. M. Bishop, *Pattern Recognition and Machine Learning* (2006), section 3.3.2.

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim.judge import exact_predictive
    >>> m, v = exact_predictive(np.eye(2), [1.0, 2.0], [1.0, 1.0], 1.0, 1.0)
    >>> [round(float(m), 12), round(float(v), 12)]
    [1.5, 2.0]
    """
    Xa = V.real_array(X, "X")
    ya = V.real_array(y, "y")
    xa = V.real_array(x, "x")
    if Xa.ndim != 2 or ya.shape != (Xa.shape[0],) or xa.shape[-1:] != (Xa.shape[1],) or xa.ndim > 2:
        raise ValueError(f"X must be (n, d), y (n,) and x (d,) or (m, d); got X {Xa.shape}, y {ya.shape}, "
                         f"x {xa.shape}")
    sig2, g2 = _positive(sigma2, "sigma2"), _positive(prior_var, "prior_var")
    A = Xa.T @ Xa + (sig2 / g2) * np.eye(Xa.shape[1])
    chol = np.linalg.cholesky(A)
    w = np.linalg.solve(chol.T, np.linalg.solve(chol, Xa.T @ ya))
    z = np.linalg.solve(chol, np.atleast_2d(xa).T)
    mean, var = np.atleast_2d(xa) @ w, sig2 * (1.0 + np.sum(z * z, axis=0))
    return (mean[0], var[0]) if xa.ndim == 1 else (mean, var)


# ---------------------------------------------------------------------------------------------------------------
# per-point exact errors
# ---------------------------------------------------------------------------------------------------------------
def _moments(k: float, T: float, m: np.ndarray, s: float):
    """(E[sign r], E[r^2]) of the selected distance in units of s, finite k >= 2."""
    if T == 0.0:
        return best_of_k_moments(k, m)
    return softmax_moments(k, T / (s * s), m)


def _limit(T: float, mu, rho, s2):
    """k = inf: the selected sample follows the tilted Gaussian (T > 0) or sits on the judge target (T = 0)."""
    if T == 0.0:
        return rho * rho
    theta = T / (T + 2.0 * s2)
    return (theta * mu + (1.0 - theta) * rho) ** 2 + theta * s2


def _limit_temperature(cov_rho_delta: float, var_delta: float, s2: float) -> float:
    """k = inf optimum of E[(theta mu + (1 - theta) rho)^2] + theta s^2 over theta = T / (T + 2 s^2): with
    Delta = rho - mu, theta* = (2 Cov(rho, Delta) - s^2) / (2 Var Delta) clipped to [0, 1) (a point is the case of
    Cov = rho Delta, Var = Delta^2), T* = 2 s^2 theta* / (1 - theta*)."""
    theta = 0.0 if var_delta == 0.0 else min(max((2.0 * cov_rho_delta - s2) / (2.0 * var_delta), 0.0), 1.0 - 1e-16)
    return 2.0 * s2 * theta / (1.0 - theta)


def point_error(k, T, mu, rho, s, *, excess: bool = False):
    r"""Exact error :math:`E_{k,T}=E[U_{\rm sel}^2]` of the selected sample at one test point (broadcasting).

    ``k`` samples :math:`U_i\sim\mathcal N(\mu,s^2)` (offsets from the clean target); the judge prefers samples
    close to :math:`\rho` and selects one with probability :math:`\propto e^{-(U_i-\rho)^2/T}` (``T = 0``: the
    closest). With the distance :math:`r=|U-\rho|`, :math:`G(r)=P(r'\le r)` and
    :math:`E_{k,T}=\rho^2+2\rho s J_1+s^2J_2`:

    * ``k = 1``: :math:`\mu^2+s^2`; ``k = inf``: :math:`\rho^2` (``T = 0``) or, with :math:`\theta=T/(T+2s^2)`,
      :math:`(\theta\mu+(1-\theta)\rho)^2+\theta s^2` (the tilted Gaussian);
    * best-of-k (order statistic): :math:`E_k=k\int_0^\infty E[U^2\mid r]\,g(r)(1-G(r))^{k-1}dr`, computed for
      the excess over :math:`\rho^2` so that :math:`E_k-\rho^2\sim C/k^2` keeps full relative accuracy;
    * softmax (exponential race, :math:`1/a=\int_0^\infty e^{-ta}dt`):
      :math:`E_{k,T}=k\int_0^\infty E[U^2we^{-tw}]\,(E\,e^{-tw})^{k-1}dt`, :math:`w=e^{-(U-\rho)^2/T}`.

    The integrals are composite Gauss rules on grids adapted to each point (see :mod:`alignsim._judge_quad`);
    relative accuracy about 1e-11 (best-of-k 1e-12), checked against independent adaptive quadratures (``alignsim verify --only judge``).

    Parameters
    ----------
    k : int or float
        Number of samples, ``>= 1`` or ``inf`` (non-integers interpolate the Beta(1, k) order statistic).
    T : float
        Temperature, ``>= 0`` (absolute units; ``0`` is best-of-k).
    mu, rho : array_like
        Offset of the predictive mean and of the judge target from the teacher output.
    s : array_like
        Predictive standard deviation (> 0).
    excess : bool, optional
        Return :math:`E_{k,T}-\rho^2` computed directly (:math:`2\rho sJ_1+s^2J_2`), without the cancellation of
        subtracting :math:`\rho^2` afterwards: at large ``k`` best-of-k's excess is :math:`C/k^2`.

    Returns
    -------
    float or ndarray
        The broadcast shape of ``mu, rho, s`` (a float for scalars).

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905.

    Examples
    --------
    >>> from alignsim.judge import point_error
    >>> round(point_error(10, 0.0, 0.5, 0.0, 1.0), 12)
    0.031675902408
    >>> round(point_error(2, 0.5, 0.3, 0.2, 1.0), 10)
    0.4962483643
    """
    kk = V.samples_or_inf(k)
    TT = _temperature(T)
    mu_a = V.real_array(mu, "mu")
    rho_a = V.real_array(rho, "rho")
    s_a = V.real_array(s, "s", low=0.0, low_open=True)
    mu_b, rho_b, s_b = np.broadcast_arrays(mu_a, rho_a, s_a)
    floor = rho_b ** 2
    if kk == 1.0:
        out = mu_b ** 2 + s_b ** 2 - (floor if excess else 0.0)
    elif math.isinf(kk):
        out = _limit(TT, mu_b, rho_b, s_b ** 2) - (floor if excess else 0.0)
    else:
        out = np.empty(mu_b.shape)
        flat_s = s_b.ravel()
        for sv in np.unique(flat_s):  # the moments are per standard deviation; T / s^2 fixes the grid
            sel = (flat_s == sv).reshape(s_b.shape)
            j1, j2 = _moments(kk, TT, (rho_b[sel] - mu_b[sel]) / sv, float(sv))
            out[sel] = (0.0 if excess else floor[sel]) + 2.0 * rho_b[sel] * sv * j1 + sv * sv * j2
    return float(out) if out.ndim == 0 else out


def high_temperature_error(k, T, mu, rho, s):
    r"""The authors' high-temperature expansion of :math:`E_{k,T}`, truncated after its exact terms.

    With :math:`x=2s^2/T`, :math:`m_T=\mu`, :math:`m_R=\mu-\rho`:

    .. math:: E\approx A_0+B_0(1-\tfrac1k)+C_0(1-\tfrac1k)(1-\tfrac2k),\quad A_0=\mu^2+s^2,\
              B_0=-x(2m_Rm_T+s^2),\ C_0=x^2(m_R(2m_T+m_R)+s^2).

    The code's third-order term :math:`D_0` is **not** the exact :math:`O(T^{-3})` term (the residual
    after it still scales as :math:`T^{-3}`), so it is left out; the residual here is :math:`O(T^{-3})`.

    Parameters
    ----------
    k : float
        Number of samples (>= 1).
    T : float
        Temperature (> 0).
    mu, rho, s : float
        Point variables as in :func:`point_error`.

    Returns
    -------
    float

    References
    ----------
    .. [1] Halder and Pehlevan, authors' code ``BLR_non_zero_T.py``.

    Examples
    --------
    >>> from alignsim.judge import high_temperature_error, point_error
    >>> exact = point_error(8, 320.0, -0.5, 0.4, 1.0)
    >>> abs(high_temperature_error(8, 320.0, -0.5, 0.4, 1.0) - exact) < 3e-7
    True
    """
    kk = V.samples_or_inf(k)
    x = 2.0 * _positive(s, "s") ** 2 / _positive(T, "T")
    m_t = V.real(mu, "mu")
    m_r = m_t - V.real(rho, "rho")
    s2 = float(s) ** 2
    f1, f2 = 1.0 - 1.0 / kk, (1.0 - 1.0 / kk) * (1.0 - 2.0 / kk)
    return (m_t * m_t + s2 - x * (2.0 * m_r * m_t + s2) * f1 + x * x * (m_r * (2.0 * m_t + m_r) + s2) * f2)


def best_of_k_constant(mu, rho, s):
    r"""Constant of the best-of-k law :math:`E_k=\rho^2+C/((k+1)(k+2))+O(k^{-4})` at one test point.

    With :math:`f` the predictive density at the judge target (the selected distance is the minimum of ``k``
    distances with density :math:`2f(\rho)` at 0, a Weibull-type extreme):

    .. math:: C=\frac{1+2\rho f'(\rho)/f(\rho)}{2f(\rho)^2}
              =\pi s^2e^{(\rho-\mu)^2/s^2}\Big(1-\frac{2\rho(\rho-\mu)}{s^2}\Big).

    ``C < 0`` means the error approaches its floor :math:`\rho^2` from below: a finite optimal ``k``.

    Parameters
    ----------
    mu, rho : array_like
        Point offsets.
    s : array_like
        Predictive standard deviation (> 0).

    Returns
    -------
    float or ndarray

    References
    ----------
    .. [1] Halder and Pehlevan (the :math:`\rho=0` case, :math:`\pi s^2e^{\mu^2/s^2}`).

    Examples
    --------
    >>> from alignsim.judge import best_of_k_constant
    >>> round(best_of_k_constant(0.5, 0.0, 1.0), 10)
    4.0338848161
    """
    m = V.real_array(mu, "mu")
    r = V.real_array(rho, "rho")
    sd = V.real_array(s, "s", low=0.0, low_open=True)
    d = r - m
    out = math.pi * sd ** 2 * np.exp(d * d / sd ** 2) * (1.0 - 2.0 * r * d / sd ** 2)
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------------------------------
# optimisers (shared by the point functions and the model)
# ---------------------------------------------------------------------------------------------------------------
def _argmin_k(err, k_max: int, limit: float):
    """Integer argmin of ``err(k)`` on 1..k_max: all integers up to 64, then a geometric scan whose best bracket
    is searched integer by integer (the error need not be convex in k). ``(inf, limit)`` when the scan's minimum
    is at ``k_max`` and the ``k = inf`` limit is no worse."""
    ks = list(range(1, min(64, k_max) + 1))
    g = 64
    while g < k_max:
        g = min(int(math.ceil(g * 1.25)), k_max)
        ks.append(g)
    vals = [err(k) for k in ks]
    i = int(np.argmin(vals))
    if ks[i] == ks[-1] and limit <= vals[i]:
        return math.inf, float(limit)
    if ks[i] > 64:  # refine between the scan's neighbours
        lo, hi = ks[i - 1], ks[min(i + 1, len(ks) - 1)]
        for k in range(lo + 1, hi):
            if k != ks[i]:
                e = err(k)
                if e < vals[i]:
                    vals[i], ks[i] = e, k
    return int(ks[i]), float(vals[i])


def _argmin_temperature(err, scale: float, best_of_k: float):
    """Minimise ``err(T)`` over ``T > 0`` on a log grid around ``scale`` then by Brent in log T; ``(0, E_k)`` if
    the grid minimum is at its low edge and best-of-k is no worse."""
    grid = scale * np.geomspace(1e-3, 30.0, 29)
    vals = np.array([err(t) for t in grid])
    i = int(np.argmin(vals))
    if i == 0 and best_of_k <= vals[0]:
        return 0.0, float(best_of_k)
    if i == grid.size - 1:
        return float(grid[-1]), float(vals[-1])
    res = minimize_scalar(lambda lt: err(math.exp(lt)), bracket=(math.log(grid[i - 1]), math.log(grid[i]),
                                                                  math.log(grid[i + 1])),
                          method="brent", options={"xtol": 1e-10})
    return float(math.exp(res.x)), float(res.fun)


def _argmin_scalar(err, centre: float, scale: float):
    """Minimise a smooth ``err(x)`` over the real line: a grid of +-8 scales around ``centre``, then Brent."""
    grid = centre + scale * np.linspace(-8.0, 8.0, 33)
    vals = np.array([err(x) for x in grid])
    i = int(np.clip(np.argmin(vals), 1, grid.size - 2))
    res = minimize_scalar(err, bracket=(grid[i - 1], grid[i], grid[i + 1]), method="brent",
                          options={"xtol": 1e-10})
    return float(res.x), float(res.fun)


def point_optimal_k(mu, rho, s, T=0.0, k_max: int = 1 << 16):
    r"""Optimal number of samples at one test point: the integer minimiser of :math:`E_{k,T}` over ``1..k_max``.

    With best-of-k the error approaches its floor :math:`\rho^2` from below (a finite optimum) exactly when
    :math:`C<0\Leftrightarrow 2\rho(\rho-\mu)>s^2` (:func:`best_of_k_constant`). The search evaluates every
    integer up to 64, then a geometric scan refined integer by integer (the error need not be convex in ``k``).

    Parameters
    ----------
    mu, rho, s : float
        Point variables as in :func:`point_error`.
    T : float, optional
        Temperature (>= 0).
    k_max : int, optional
        Largest ``k`` searched.

    Returns
    -------
    k : int or float
        The minimiser, ``inf`` when the error still decreases at ``k_max`` and its ``k = inf`` limit is lower.
    error : float

    References
    ----------
    .. [1] I. Halder, C. Pehlevan, "Demystifying LLM-as-a-Judge", arXiv:2512.19905 (a finite optimal k;
       ``k* = 4`` at :math:`(\mu,\rho,s)=(-0.5,0.8,1)`).

    Examples
    --------
    >>> from alignsim.judge import point_optimal_k
    >>> k, e = point_optimal_k(-0.5, 0.8, 1.0)
    >>> k, round(e, 12)
    (4, 0.482074020747)
    """
    m, r, sd = V.real(mu, "mu"), V.real(rho, "rho"), _positive(s, "s")
    TT = _temperature(T)
    kmax = V.length(k_max, "k_max")
    return _argmin_k(lambda k: point_error(k, TT, m, r, sd), kmax, _limit(TT, m, r, sd * sd))


def point_optimal_temperature(k, mu, rho, s):
    r"""Optimal softmax temperature at fixed ``k`` for one test point: :math:`\arg\min_{T\ge0}E_{k,T}`.

    A log grid over :math:`T\in[10^{-3},30]\,s^2` locates the minimum, Brent in :math:`\log T` refines it;
    ``T* = 0`` (best-of-k) when the grid minimum is at its low edge and best-of-k is no worse, which is always the
    case for :math:`\rho=0`. At ``k = inf`` the closed form is used: with
    :math:`\theta^*=(2\rho(\rho-\mu)-s^2)/(2(\rho-\mu)^2)` clipped to :math:`[0,1)`,
    :math:`T^*=2s^2\theta^*/(1-\theta^*)`.

    Parameters
    ----------
    k : int or float
        Number of samples (>= 2, or ``inf``).
    mu, rho, s : float
        Point variables.

    Returns
    -------
    T : float
    error : float

    References
    ----------
    .. [1] I. Halder, C. Pehlevan, "Demystifying LLM-as-a-Judge", arXiv:2512.19905 (an interior optimal
       temperature; :math:`T^*=0.252561386477` at ``k = 8``, :math:`(\mu,\rho,s)=(-0.6, 0.6, 1)`).

    Examples
    --------
    >>> from alignsim.judge import point_optimal_temperature
    >>> [round(x, 6) for x in point_optimal_temperature(8, -0.6, 0.6, 1.0)]
    [0.252561, 0.325044]
    >>> [round(x, 12) for x in point_optimal_temperature(float("inf"), -0.6, 0.6, 1.0)]
    [0.360655737705, 0.326388888889]
    """
    kk = V.samples_or_inf(k)
    if kk < 2:
        raise ValueError(f"k must be >= 2 (one sample leaves nothing to select), got {k!r}")
    m, r, sd = V.real(mu, "mu"), V.real(rho, "rho"), _positive(s, "s")
    s2 = sd * sd
    if math.isinf(kk):
        T = _limit_temperature(r * (r - m), (r - m) ** 2, s2)
        return T, float(_limit(T, m, r, s2))
    return _argmin_temperature(lambda t: point_error(kk, t, m, r, sd), s2, point_error(kk, 0.0, m, r, sd))


def point_optimal_judge(k, T, mu, s):
    r"""Judge target that minimises :math:`E_{k,T}` at one test point: :math:`\arg\min_\rho E_{k,T}(\mu,\rho,s)`.

    At ``k = inf`` and ``T > 0`` it is :math:`\rho^*=-\mu T/(2s^2)`: the best judge overshoots the teacher away
    from the model's mean (the paper's "the best reward is not the teacher"); at ``T = 0`` it is the teacher
    (:math:`\rho^*=0`). Finite ``k``: Brent on a bracket from a grid around the ``k = inf`` answer.

    Parameters
    ----------
    k : int or float
        Number of samples (>= 2, or ``inf``).
    T : float
        Temperature (>= 0).
    mu, s : float
        Offset of the predictive mean and predictive standard deviation.

    Returns
    -------
    rho : float
    error : float

    References
    ----------
    .. [1] I. Halder, C. Pehlevan, "Demystifying LLM-as-a-Judge", arXiv:2512.19905 (the best judge is not the teacher:
       0.1287 at ``k = 4``, 0.1279 at 32, 0.125 at infinity for
       :math:`\mu=-0.5, s=1, T=0.5`).

    Examples
    --------
    >>> from alignsim.judge import point_optimal_judge
    >>> round(point_optimal_judge(4, 0.5, -0.5, 1.0)[0], 4)
    0.1287
    """
    kk = V.samples_or_inf(k)
    if kk < 2:
        raise ValueError(f"k must be >= 2 (one sample leaves nothing to select), got {k!r}")
    TT = _temperature(T)
    m, sd = V.real(mu, "mu"), _positive(s, "s")
    centre = -m * TT / (2.0 * sd * sd)
    if math.isinf(kk):
        return centre, float(_limit(TT, m, centre, sd * sd))
    if TT == 0.0:
        centre = 0.0
    return _argmin_scalar(lambda r: point_error(kk, TT, m, r, sd), centre, 0.05 * sd)


# ---------------------------------------------------------------------------------------------------------------
# the model: averages over test points in the deterministic-equivalent limit
# ---------------------------------------------------------------------------------------------------------------
class BestOfK(NamedTuple):
    r"""Large-``k`` law of the averaged best-of-k error, :math:`\bar E_k=\bar\rho^2+\bar C/((k+1)(k+2))+\dots`.

    ``coefficient`` is :math:`\bar C` (``inf`` beyond the threshold :math:`2V_\Delta\ge s^2`), ``exponent`` the
    decay exponent of :math:`\bar E_k-\bar\rho^2` (2, or :math:`s^2/V_\Delta` up to logarithms beyond the
    threshold), ``floor`` the limit :math:`E\rho^2`.

    Parameters
    ----------
    coefficient : float
        The constant C-bar of the 1/k^2 law (inf beyond the threshold).
    exponent : float
        Decay exponent of the excess error.
    floor : float
        Limit of the error as k grows.

    References
    ----------
    .. [1] I. Halder, C. Pehlevan, "Demystifying LLM-as-a-Judge", arXiv:2512.19905 (the 1/k^2 law and its
       exponent against task difficulty).

    Examples
    --------
    >>> from alignsim.judge import JudgeModel
    >>> law = JudgeModel(100, 200, 0.1, 1.0).best_of_k()
    >>> round(law.coefficient, 6), law.exponent, law.floor
    (1.994037, 2.0, 0.0)
    """

    coefficient: float
    exponent: float
    floor: float


_JUDGES = ("scale", "paper_cR", "model_aware")


@dataclass(frozen=True)
class JudgeModel:
    r"""Bayesian linear regression with an LLM-as-a-judge selector, in the deterministic-equivalent limit.

    Test points are Gaussian in the reduced variables: :math:`(\mu,\rho)` jointly centred normal with the
    covariance of :meth:`offset_law` and a common predictive variance :math:`s^2`. The judge families:

    * ``("scale", beta)`` with ``judge_noise`` :math:`\varepsilon^2`:
      :math:`w_R=(1+\beta)w_T+\delta`, :math:`\|\delta\|^2/d=\varepsilon^2`, so :math:`\rho=\beta y_T+\zeta`,
      :math:`\zeta\sim\mathcal N(0,S^2\varepsilon^2)`; ``beta = 0, judge_noise = 0`` is the teacher;
    * ``("paper_cR", c)``: the authors' best-of-k script, :math:`\beta=cR`;
    * ``("model_aware", c)``: the authors' softmax script, :math:`\rho=-c\mu` (plus :math:`\zeta`); the
      :math:`k=\infty` optimum is :math:`c^*=T/(2s^2)`.

    Parameters
    ----------
    d, n : float
        Dimension and training-set size (>= 1; only :math:`\alpha=d/n` enters the limit).
    sigma2, prior_var : float
        Label-noise and prior variances (> 0).
    S2, tau2 : float, optional
        Input variance per coordinate and teacher power :math:`\|w_T\|^2/d` (> 0).
    judge : tuple, optional
        ``(family, parameter)`` as above.
    judge_noise : float, optional
        :math:`\varepsilon^2\ge0`.
    target : {"clean", "noisy"}, optional
        Error against the clean teacher output (default, as the authors) or a noisy label (adds :math:`\sigma^2`).
    de : {"corrected", "paper"}, optional
        Offset variance of :func:`deterministic_equivalent`.

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905.

    Examples
    --------
    >>> from alignsim.judge import JudgeModel
    >>> model = JudgeModel(100, 200, 0.1, 1.0)
    >>> [round(model.error(k), 10) for k in (1, 2, 4)]
    [0.268857754, 0.1063559504, 0.0386893009]
    >>> round(model.data_equivalent(2), 2), model.data_equivalent(4)
    (3236.34, inf)
    """

    d: float
    n: float
    sigma2: float
    prior_var: float
    S2: float = 1.0
    tau2: float = 1.0
    judge: tuple = ("scale", 0.0)
    judge_noise: float = 0.0
    target: str = "clean"
    de: str = "corrected"

    def __post_init__(self):
        _count(self.d, "d")
        _count(self.n, "n")
        _positive(self.sigma2, "sigma2")
        _positive(self.prior_var, "prior_var")
        _positive(self.S2, "S2")
        _positive(self.tau2, "tau2")
        if not (isinstance(self.judge, tuple) and len(self.judge) == 2):
            raise TypeError(f"judge must be a (family, parameter) tuple with family in {list(_JUDGES)}, "
                            f"got {self.judge!r}")
        V.choice(self.judge[0], "judge family", _JUDGES)
        V.real(self.judge[1], "judge parameter")
        V.real(self.judge_noise, "judge_noise", low=0.0)
        V.choice(self.target, "target", ("clean", "noisy"))
        V.choice(self.de, "de", ("corrected", "paper"))

    # -- the deterministic equivalent and the law of test points -------------------------------------------------
    @property
    def alpha(self) -> float:
        """Parameters per sample, ``d / n``."""
        return float(self.d) / float(self.n)

    def deterministic_equivalent(self) -> DeterministicEquivalent:
        """The :class:`DeterministicEquivalent` at this model's :math:`\\alpha` (see
        :func:`deterministic_equivalent`).

        Returns
        -------
        DeterministicEquivalent
            The deterministic-equivalent constants at this alpha.
        """
        return deterministic_equivalent(self.alpha, self.sigma2, self.prior_var, S2=self.S2, tau2=self.tau2,
                                        de=self.de)

    def offset_law(self) -> dict:
        r"""Gaussian law of the point variables over test inputs.

        Returns
        -------
        dict
            ``var_mu, var_rho, cov_mu_rho, s2`` and the derived ``var_delta`` (:math:`\Delta=\rho-\mu`) and
            ``cov_rho_delta``.
        """
        q = self.deterministic_equivalent()
        family, c = self.judge[0], float(self.judge[1])
        noise = self.S2 * float(self.judge_noise)
        if family == "model_aware":
            var_rho, cov = c * c * q.var_mu + noise, -c * q.var_mu
        else:
            beta = c * q.R if family == "paper_cR" else c
            var_rho, cov = beta * beta * q.var_teacher + noise, beta * q.cov_mu_teacher
        var_delta = max(var_rho - 2.0 * cov + q.var_mu, 0.0)
        return {"var_mu": q.var_mu, "var_rho": var_rho, "cov_mu_rho": cov, "s2": q.s2, "var_delta": var_delta,
                "cov_rho_delta": var_rho - cov}

    def predictive(self) -> tuple[float, float]:
        r"""Deterministic-equivalent predictive: ``(mean_gain, s2)``, :math:`m(x)\approx(1-a_1)y_T(x)` and
        :math:`s^2=\sigma^2+\gamma^2S^2a_1`. For a given training set use :func:`exact_predictive`.

        Returns
        -------
        (mean_gain, s2) : tuple of float
            The gain 1 - a_1 of the predictive mean and the predictive variance.
        """
        q = self.deterministic_equivalent()
        return q.mean_gain, q.s2

    # -- averaged errors ---------------------------------------------------------------------------------------
    def _average(self, kk: float, TT: float) -> float:
        law = self.offset_law()
        s2, vd = law["s2"], law["var_delta"]
        floor = law["var_rho"]
        if kk == 1.0:
            return law["var_mu"] + s2
        if math.isinf(kk):
            if TT == 0.0:
                return floor
            th = TT / (TT + 2.0 * s2)  # E[(th mu + (1-th) rho)^2] + th s2
            return (th * th * law["var_mu"] + (1 - th) ** 2 * floor + 2 * th * (1 - th) * law["cov_mu_rho"]
                    + th * s2)
        s = math.sqrt(s2)
        if vd == 0.0:
            j1, j2 = _moments(kk, TT, np.zeros(1), s)
            return floor + s2 * float(j2[0])
        delta, w = _delta_nodes(vd, s, TT > 0.0)
        j1, j2 = _moments(kk, TT, delta / s, s)
        slope = law["cov_rho_delta"] / vd  # E[rho | Delta] = slope * Delta
        return float(floor + 2.0 * slope * s * np.dot(w, delta * j1) + s2 * np.dot(w, j2))

    def _noise(self) -> float:
        return float(self.sigma2) if self.target == "noisy" else 0.0

    def error(self, k, T=0.0) -> float:
        r"""Generalisation error averaged over test points, :math:`\bar E_{k,T}=E_{\mu,\rho}E_{k,T}(\mu,\rho,s)`.

        By the per-point decomposition :math:`E_{k,T}=\rho^2+2\rho sJ_1(\Delta)+s^2J_2(\Delta)` with
        :math:`\Delta=\rho-\mu`, the average is one-dimensional:
        :math:`\bar E=E\rho^2+2s\,E[E(\rho\mid\Delta)J_1]+s^2E[J_2]`, by composite Gauss-Legendre quadrature in
        :math:`\Delta/\mathrm{sd}(\Delta)\in[0,12]` (symmetry gives the negative half), panels no wider than
        1 in that variable nor than :math:`s/2` in :math:`\Delta` (Gauss-Hermite converges slowly when
        :math:`V_\Delta\gg s^2`: the best-of-k error turns from :math:`C/k^2` to :math:`(|\Delta|-s\sqrt{2\log k})^2`
        over a width of order ``s``). The softmax (a 2-D quadrature per point) uses 32-node Gauss-Hermite while
        :math:`\mathrm{sd}(\Delta)\le s` (error <= 1e-8 relative) and the composite rule, with panels of ``s``,
        beyond. ``k = 1`` and ``k = inf`` are closed forms.

        Parameters
        ----------
        k : int or float
            Number of samples (>= 1 or ``inf``).
        T : float, optional
            Temperature (>= 0; 0 is best-of-k).

        Returns
        -------
        float
            Plus :math:`\sigma^2` when ``target="noisy"``.

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> round(JudgeModel(1, 2, 0.5, 1.0).error(16), 10)
        0.0138592803
        """
        return self._average(V.samples_or_inf(k), _temperature(T)) + self._noise()

    def best_of_k(self) -> BestOfK:
        r"""The :math:`1/k^2` law of best-of-k averaged over test points.

        With :math:`\Delta=\rho-\mu`, :math:`V_\Delta=\mathrm{Var}\,\Delta`, :math:`c=\mathrm{Cov}(\rho,\Delta)`:

        .. math:: \bar C=\pi s^2(1-2V_\Delta/s^2)^{-3/2}\big(1-2(V_\Delta+c)/s^2\big)\quad(2V_\Delta<s^2),

        the teacher judge giving :math:`\pi s^2/\sqrt{1-2V_\mu/s^2}` (the authors' curve). Beyond the threshold the
        average is dominated by points far from their target and decays like :math:`k^{-s^2/V_\Delta}` up to
        logarithms: ``coefficient = inf`` and that exponent ("harder tasks benefit less").

        Returns
        -------
        BestOfK

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> JudgeModel(1, 2, 0.5, 1.0).best_of_k().exponent
        2.0
        """
        law = self.offset_law()
        s2, vd = law["s2"], law["var_delta"]
        if 2.0 * vd >= s2:
            return BestOfK(math.inf, s2 / vd, law["var_rho"])
        x = 1.0 - 2.0 * vd / s2
        return BestOfK(math.pi * s2 * x ** -1.5 * (1.0 - 2.0 * (vd + law["cov_rho_delta"]) / s2), 2.0,
                       law["var_rho"])

    def optimal_k(self, T=0.0, k_max: int = 1 << 16):
        r"""Optimal number of samples for the averaged error (see :func:`point_optimal_k` for the search).

        With best-of-k it is finite when :math:`\bar C<0`, i.e. :math:`2(V_\Delta+\mathrm{Cov}(\rho,\Delta))>s^2`.

        Parameters
        ----------
        T : float
            Softmax temperature, >= 0 (0 is best-of-k).
        k_max : int
            Largest k searched (capped).

        Returns
        -------
        k : int or float
            ``inf`` when more samples always help up to ``k_max`` and the limit is lower.
        error : float

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> JudgeModel(1, 2, 0.5, 1.0).optimal_k(k_max=256)[0]
        inf
        """
        TT = _temperature(T)
        return _argmin_k(lambda k: self.error(k, TT), V.length(k_max, "k_max"),
                         self._average(math.inf, TT) + self._noise())

    def optimal_temperature(self, k):
        r"""Optimal temperature at fixed ``k`` for the averaged error (``T* = 0``: best-of-k wins).

        At ``k = inf`` the closed form :math:`\theta^*=(2\mathrm{Cov}(\rho,\Delta)-s^2)/(2V_\Delta)`,
        :math:`T^*=2s^2\theta^*/(1-\theta^*)` (clipped at 0).

        Parameters
        ----------
        k : int or float
            Number of samples of best-of-k (or softmax selection), k >= 1; inf for the limit.

        Returns
        -------
        T : float
        error : float

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> JudgeModel(1, 2, 0.5, 1.0).optimal_temperature(4)[0]
        0.0
        """
        kk = V.samples_or_inf(k)
        if kk < 2:
            raise ValueError(f"k must be >= 2 (one sample leaves nothing to select), got {k!r}")
        law = self.offset_law()
        s2 = law["s2"]
        if math.isinf(kk):
            T = _limit_temperature(law["cov_rho_delta"], law["var_delta"], s2)
            return T, self.error(kk, T)
        return _argmin_temperature(lambda t: self.error(kk, t), s2, self.error(kk, 0.0))

    def with_judge(self, parameter) -> "JudgeModel":
        """The same model with another judge parameter (same family).

        Parameters
        ----------
        parameter : float
            The new judge parameter of the model's judge family.

        Returns
        -------
        JudgeModel
            A copy with that judge.
        """
        return replace(self, judge=(self.judge[0], parameter))

    def optimal_judge_offset(self, k, T=0.0):
        r"""Judge parameter of this model's family that minimises the averaged error at ``(k, T)``.

        For ``"scale"`` it is :math:`\beta^*`; at ``k = inf`` and teacher-like judges the per-point optimum
        :math:`\rho^*=-\mu T/(2s^2)` translates to :math:`\beta^*=a_1T/(2s^2)` (naive DE), for ``"model_aware"`` to
        :math:`c^*=T/(2s^2)` (the centre of the authors' grid).

        Parameters
        ----------
        k : int or float
            Number of samples of best-of-k (or softmax selection), k >= 1; inf for the limit.
        T : float
            Softmax temperature, >= 0 (0 is best-of-k).

        Returns
        -------
        parameter : float
        error : float

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> m = JudgeModel(10, 10_000, 1e-8, 1e-6, tau2=4.0, judge=("model_aware", 0.0))
        >>> c, e = m.optimal_judge_offset(float("inf"), 2e-7)
        >>> round(c, 6) == round(2e-7 / (2 * m.offset_law()["s2"]), 6)
        True
        """
        kk = V.samples_or_inf(k)
        TT = _temperature(T)
        law = self.offset_law()
        centre = TT / (2.0 * law["s2"])
        if self.judge[0] != "model_aware":
            centre *= self.deterministic_equivalent().a1 / (self.deterministic_equivalent().R
                                                            if self.judge[0] == "paper_cR" else 1.0)
        return _argmin_scalar(lambda c: self.with_judge(c).error(kk, TT), centre, max(abs(centre), 0.05) / 4.0)

    # -- inference compute versus data ----------------------------------------------------------------------------
    def with_n(self, n) -> "JudgeModel":
        """The same model trained on ``n`` samples.

        Parameters
        ----------
        n : int or float
            Training-set size, > 0.

        Returns
        -------
        JudgeModel
            A copy trained on n samples.
        """
        return replace(self, n=_count(n, "n"))

    def error_vs_data(self, n_grid, k=1, T=0.0) -> np.ndarray:
        r"""Averaged error as the training set grows: :math:`\bar E(n,k)` for each ``n`` in ``n_grid``.

        Parameters
        ----------
        n_grid : array_like
            Training-set sizes, > 0.
        k : int or float
            Number of samples of best-of-k (or softmax selection), k >= 1; inf for the limit.
        T : float
            Softmax temperature, >= 0 (0 is best-of-k).

        Returns
        -------
        ndarray
            The averaged error at each n, same shape as n_grid.

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> [round(float(e), 6) for e in JudgeModel(100, 200, 0.1, 1.0).error_vs_data([200, 400], k=2)]
        [0.106356, 0.061542]
        """
        ns = V.real_array(n_grid, "n_grid", low=1.0)
        return np.array([self.with_n(float(n)).error(k, T) for n in ns.ravel()]).reshape(ns.shape)

    def data_equivalent(self, k, T=0.0) -> float:
        r"""Training-set size :math:`n_{eq}` at which one sample is as good as ``k`` samples now:
        :math:`\bar E(n_{eq},1)=\bar E(n,k)`.

        :math:`\bar E(n,1)=V_\mu+s^2` decreases to the data-only floor :math:`\sigma^2` (clean target), so when
        :math:`\bar E(n,k)\le\sigma^2` no amount of data matches ``k`` samples: ``inf``. Solved by Brent in
        :math:`\log n` after a geometric scan for the first crossing.

        Parameters
        ----------
        k : int or float
            Number of samples of best-of-k (or softmax selection), k >= 1; inf for the limit.
        T : float
            Softmax temperature, >= 0 (0 is best-of-k).

        Returns
        -------
        float
            ``n_eq`` (``inf`` if unreachable).

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> round(JudgeModel(100, 200, 0.1, 1.0).data_equivalent(2), 2)
        3236.34
        """
        goal = self.error(k, T)
        if goal <= float(self.sigma2) + self._noise():
            return math.inf

        def gap(log_n):
            return self.with_n(math.exp(log_n)).error(1) - goal

        grid = np.linspace(0.0, math.log(1e16), 161)
        vals = np.array([gap(x) for x in grid])
        below = np.nonzero(vals <= 0)[0]
        if below.size == 0:
            return math.inf
        j = int(below[0])
        if j == 0:
            return 1.0
        return float(math.exp(brentq(gap, grid[j - 1], grid[j], xtol=1e-13, rtol=1e-13)))

    def elasticities(self, k, T=0.0, rel_step: float = 1e-3) -> tuple[float, float]:
        r"""Returns of data and of samples: :math:`(-\partial\log\bar E/\partial\log n,\,
        -\partial\log\bar E/\partial\log k)` by central differences (``k`` treated as continuous).

        More inference compute pays per unit of relative cost when
        :math:`\text{elasticity}_k/\text{cost}_k>\text{elasticity}_n/\text{cost}_n`; with the teacher judge the
        ``k`` elasticity tends to 2 below the threshold :math:`2V<s^2`.

        Parameters
        ----------
        k : int or float
            Number of samples of best-of-k (or softmax selection), k >= 1; inf for the limit.
        T : float
            Softmax temperature, >= 0 (0 is best-of-k).
        rel_step : float
            Relative step of the central differences, in (0, 0.5).

        Returns
        -------
        (elasticity_n, elasticity_k) : tuple of float
            -d log E / d log n and -d log E / d log k.

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> e_n, e_k = JudgeModel(100, 200, 0.1, 1.0).elasticities(1000)
        >>> round(e_k, 2)
        1.95
        """
        kk = V.samples_or_inf(k)
        h = V.real(rel_step, "rel_step", low=0.0, high=0.1, low_open=True)
        n = float(self.n)
        e_n = -(math.log(self.with_n(n * (1 + h)).error(kk, T)) - math.log(self.with_n(n / (1 + h)).error(kk, T)))
        e_k = 0.0 if math.isinf(kk) else -(math.log(self.error(max(kk * (1 + h), 1.0), T))
                                           - math.log(self.error(max(kk / (1 + h), 1.0), T)))
        return e_n / (2 * math.log1p(h)), e_k / (2 * math.log1p(h))

