r"""The Bayesian linear-regression judge's deterministic equivalent and exact predictive, and the shared argument
checks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _validate as V
from .._judge_quad import composite

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


#: The judge model's scales (variances, standard deviations, temperatures, offsets) are accepted up to this size
#: (and down to its inverse for the positive ones): its formulas square and multiply them, which stays in floats.
SCALE_LIMIT = 1e100


def _temperature(T, name: str = "T") -> float:
    return V.real(T, name, low=0.0, high=SCALE_LIMIT)


def _positive(x, name: str) -> float:
    return V.real(x, name, low=1.0 / SCALE_LIMIT, high=SCALE_LIMIT)


def _offset(x, name: str):
    """A point offset (``mu``, ``rho``): any real of size at most :data:`SCALE_LIMIT` (an array)."""
    return V.real_array(x, name, low=-SCALE_LIMIT, high=SCALE_LIMIT)


def _count(x, name: str) -> float:
    """A dimension or sample size: a real >= 1 (integers in practice; the deterministic equivalent takes reals)."""
    return V.real(x, name, low=1.0)


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
