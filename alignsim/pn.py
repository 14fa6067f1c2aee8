r"""The p-n criterion: how fast the MLE of an exponential family approaches the information projection.

For a finite exponential family :math:`f_\theta(x) = h(x)\exp\{\theta\cdot T(x)-\psi(\theta)\}` and a truth
:math:`g` (usually outside the family), the information projection :math:`\theta_*` matches moments,
:math:`E_{\theta_*}T = \mu_g`, and the estimation risk of the MLE from :math:`n` draws of :math:`g` is

.. math::

    R_n = E\,D[f_{\theta_*}\,|\,f_{\hat\theta}] = \frac{c_1}{n}+\frac{c_2}{n^2}+O(n^{-3}),\qquad
    c_1 = \tfrac12\mathrm{tr}(G^{-1}\Sigma_g),

with :math:`c_2` from the third and fourth cumulants of :math:`T`. The
criterion accepts :math:`(p, n)` when :math:`\hat R_n\le\tau(\varepsilon)=8\varepsilon^2`, which guarantees an
average Bayes error :math:`\ge\frac12-\varepsilon` between :math:`f_{\hat\theta}` and :math:`f_{\theta_*}` (Pinsker
and Jensen). The expansion and the exact identities are derived for this package and checked by exact enumeration; the
form of the decision rule is this package's reading of the paper; the threshold constant
:math:`8\varepsilon^2` matches the author's companion paper.

Pitfall handled throughout: in discrete settings the MLE fails to exist with positive probability (the sample
mean on the boundary of the convex support), and the unconditional risk is infinite; :func:`exact_risk` reports
the risk conditional on existence together with :math:`P(\text{exists})`.

References
----------
.. [1] Y. Sheena, "MLE convergence speed to information projection of exponential family: criterion for model
   dimension and sample size", Statistical Papers (2023), doi:10.1007/s00362-022-01309-9; arXiv:2105.08947.
.. [2] I. Csiszár, "I-divergence geometry of probability distributions and minimization problems", Ann. Probab. 3
   (1975).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.spatial import ConvexHull
from scipy.special import gammaln, logsumexp
from scipy.stats import norm

from . import _validate as V
from ._lattice import compositions
from ._moments import tensor_cumulants
from .models import MemorylessLM

__all__ = [
    "FiniteExpFamily",
    "info_projection",
    "mle",
    "risk_coefficients",
    "risk_coefficients_1d",
    "risk_expansion",
    "exact_risk",
    "kl_threshold",
    "pn_criterion",
    "estimate_coefficients",
    "tilt_family",
]

_NEWTON_TOL = 1e-13
#: Largest dimension for which the convex support is described by its facets (Qhull); an LP beyond.
_MAX_HULL_DIM = 8


class FiniteExpFamily:
    r"""An exponential family on a finite support, :math:`f_\theta(x)=h(x)\,e^{\theta\cdot T(x)-\psi(\theta)}`.

    .. math::

        \psi(\theta) = \log\sum_x h(x)e^{\theta\cdot T(x)},\quad
        \nabla\psi = E_\theta T,\quad \nabla^2\psi = \mathrm{Cov}_\theta T = G(\theta).

    Parameters
    ----------
    T : array_like, shape (K, p) or (K,)
        Sufficient statistics of the :math:`K` support points; the columns must have no affine relation on the
        support (a minimal family), otherwise the Fisher information is singular and ``ValueError`` is raised.
    h : array_like, shape (K,), optional
        Base measure, positive (default 1).

    Attributes
    ----------
    T : ndarray, shape (K, p)
    log_h : ndarray, shape (K,)
    p : int
        Dimension of the natural parameter.

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, section 2.

    Examples
    --------
    >>> from alignsim import pn
    >>> fam = pn.FiniteExpFamily([0, 1])              # Bernoulli
    >>> round(float(fam.mean(fam.solve(0.3))[0]), 12)
    0.3
    """

    def __init__(self, T, h=None):
        t = np.array(T, dtype=float)
        if t.ndim == 1:
            t = t[:, None]
        if t.ndim != 2 or t.shape[0] < 2 or t.shape[1] < 1:
            raise ValueError(f"T must have shape (K, p) with K >= 2 support points and p >= 1, got {t.shape}")
        if not np.all(np.isfinite(t)):
            raise ValueError("T must be finite")
        if h is None:
            log_h = np.zeros(t.shape[0])
        else:
            hh = V.real_array(h, "h", low=0.0, low_open=True).ravel()
            if hh.size != t.shape[0]:
                raise ValueError(f"h must have one entry per support point ({t.shape[0]}), got {hh.size}")
            log_h = np.log(hh)
        centred = t - t.mean(axis=0)
        if np.linalg.matrix_rank(centred) < t.shape[1]:
            raise ValueError("T must be minimal: its columns have an affine relation on the support, so the Fisher "
                             "information is singular (drop a redundant statistic)")
        self.T, self.log_h, self.p = t, log_h, t.shape[1]
        self._hull = None

    # ---------------------------------------------------------------------------------------------- basic maps
    def _theta(self, theta) -> np.ndarray:
        th = np.array(theta, dtype=float).reshape(-1)
        if th.size != self.p or not np.all(np.isfinite(th)):
            raise ValueError(f"theta must be {self.p} finite numbers, got {theta!r}")
        return th[None, :]

    def log_partition(self, theta) -> float:
        r""":math:`\psi(\theta)=\log\sum_x h(x)e^{\theta\cdot T(x)}` (log-sum-exp).

        Parameters
        ----------
        theta : array_like, shape (p,)
            Natural parameter.

        Returns
        -------
        float
            psi(theta).
        """
        return float(logsumexp(self.log_h + self.T @ self._theta(theta)[0]))

    def logprobs(self, theta) -> np.ndarray:
        """Log-probabilities of the support points under :math:`f_\\theta`.

        Parameters
        ----------
        theta : array_like, shape (p,)
            Natural parameter.

        Returns
        -------
        ndarray, shape (K,)
            log f_theta at the support points.
        """
        a = self.log_h + self.T @ self._theta(theta)[0]
        return a - logsumexp(a)

    def probs(self, theta) -> np.ndarray:
        """Probabilities of the support points under :math:`f_\\theta`.

        Parameters
        ----------
        theta : array_like, shape (p,)
            Natural parameter.

        Returns
        -------
        ndarray, shape (K,)
            f_theta at the support points.
        """
        return np.exp(self.logprobs(theta))

    def mean(self, theta) -> np.ndarray:
        """Expectation parameter :math:`\\eta(\\theta)=E_\\theta T`.

        Parameters
        ----------
        theta : array_like, shape (p,)
            Natural parameter.

        Returns
        -------
        ndarray, shape (p,)
            E_theta T.
        """
        return self.probs(theta) @ self.T

    def cumulants(self, theta, order: int = 4):
        r"""Cumulant tensors of :math:`T` under :math:`f_\theta` of orders 1..``order`` (at most 4): the mean
        :math:`(p,)`, :math:`G` :math:`(p,p)`, :math:`\kappa_3` :math:`(p,p,p)`, :math:`\kappa_4` :math:`(p,p,p,p)`
        (derivatives of :math:`\psi`), by exact summation over the support.

        Parameters
        ----------
        theta : array_like, shape (p,)
            Natural parameter.
        order : int
            Highest order, 1 to 4.

        Returns
        -------
        tuple of ndarray
            The cumulant tensors of orders 1..order.
        """
        return tensor_cumulants(self.probs(theta), self.T, order)

    def kl(self, theta_a, theta_b) -> float:
        r""":math:`D[f_{\theta_a}\,|\,f_{\theta_b}]` in nats (first argument the reference, as in the paper).

        Parameters
        ----------
        theta_a : array_like, shape (p,)
            Natural parameter of the first law.
        theta_b : array_like, shape (p,)
            Natural parameter of the second law.

        Returns
        -------
        float
            D[f_a | f_b] in nats.
        """
        la, lb = self.logprobs(theta_a), self.logprobs(theta_b)
        pa = np.exp(la)
        return float(max(np.sum(pa * (la - lb)), 0.0))

    # ---------------------------------------------------------------------------------------------- geometry
    def _facets(self):
        """Facets of the convex support C: (equations (m, p + 1), membership (m, K) of the support points)."""
        if self._hull is None:
            if self.p == 1:
                lo, hi = self.T[:, 0].min(), self.T[:, 0].max()
                eq = np.array([[-1.0, lo], [1.0, -hi]])
            else:
                eq = ConvexHull(self.T).equations
            scale = 1.0 + np.max(np.abs(self.T))
            member = np.abs(self.T @ eq[:, :-1].T + eq[:, -1]).T <= 1e-12 * scale
            self._hull = (eq, member, scale)
        return self._hull

    def interior(self, eta) -> bool | np.ndarray:
        r"""Whether :math:`\eta` lies in the interior of the convex support :math:`C=\mathrm{conv}\{T(x)\}`:
        the condition for the moment equation :math:`E_\theta T=\eta` to have a solution (MLE existence).

        For :math:`p\le` 8: strict inequality on every facet of the hull (tolerance :math:`10^{-12}` of the scale
        of ``T``). Beyond, where the hull has too many facets to list: the linear programme
        :math:`\max t` s.t. :math:`w\ge t`, :math:`\sum w=1`, :math:`w^\top T=\eta` (interior iff some
        representation has all weights positive, :math:`t>10^{-12}`

        Parameters
        ----------
        eta : array_like, shape (p,) or (m, p)
            Expectation parameter(s).

        Returns
        -------
        bool or ndarray of bool
            Whether each eta is interior to the convex support.
        """
        e = np.atleast_2d(np.asarray(eta, dtype=float))
        if self.p > _MAX_HULL_DIM:
            inside = np.array([self._interior_lp(row) for row in e])
        else:
            eq, _, scale = self._facets()
            inside = np.all(e @ eq[:, :-1].T + eq[:, -1] < -1e-12 * scale, axis=1)
        return bool(inside[0]) if np.ndim(eta) <= 1 else inside

    def _interior_lp(self, eta: np.ndarray) -> bool:

        K = self.T.shape[0]
        # variables (w_1..w_K, t): maximise t with w_k - t >= 0, sum w = 1, T^T w = eta
        cost = np.zeros(K + 1)
        cost[-1] = -1.0
        a_ub = np.hstack([-np.eye(K), np.ones((K, 1))])
        a_eq = np.vstack([np.append(np.ones(K), 0.0), np.hstack([self.T.T, np.zeros((self.p, 1))])])
        res = linprog(cost, A_ub=a_ub, b_ub=np.zeros(K), A_eq=a_eq, b_eq=np.append(1.0, eta),
                      bounds=[(0, None)] * K + [(None, None)], method="highs")
        return bool(res.status == 0 and -res.fun > 1e-12)

    def _interior_support(self, counts: np.ndarray) -> np.ndarray:
        """Exact existence test for empirical laws: the sample mean is interior iff the support points seen are not
        all on one facet of C (no rounding involved; the linear programme beyond 8 dimensions)."""
        seen = counts > 0
        if self.p > _MAX_HULL_DIM:
            return np.array([self._interior_lp(row @ self.T / row.sum()) for row in seen.astype(float)])
        _, member, _ = self._facets()
        on_facet = np.zeros(seen.shape[0], dtype=bool)
        for f in member:
            on_facet |= np.all(~seen | f, axis=1)
        return ~on_facet

    # ---------------------------------------------------------------------------------------------- moment map
    def solve(self, eta) -> np.ndarray:
        r"""Natural parameter with :math:`E_\theta T=\eta` (damped Newton on the concave
        :math:`\theta\cdot\eta-\psi(\theta)`), for one :math:`\eta` of shape :math:`(p,)` or a batch
        :math:`(m, p)`. Raises ``ValueError`` if an :math:`\eta` is not interior (no solution: the sup of the
        likelihood is not attained).

        Parameters
        ----------
        eta : array_like, shape (p,) or (m, p)
            Interior expectation parameter(s).

        Returns
        -------
        ndarray, shape (p,) or (m, p)
            The natural parameter(s) theta with E_theta T = eta.
        """
        e = np.asarray(eta, dtype=float)
        batch = e.reshape(-1, self.p)
        if not np.all(self.interior(batch)):
            raise ValueError("eta must lie in the interior of the convex support of T (otherwise the moment equation "
                             "has no solution and the MLE does not exist)")
        th = self._newton(batch)
        return th[0] if e.ndim <= 1 and batch.shape[0] == 1 else th

    def _newton(self, eta: np.ndarray, max_iter: int = 100) -> np.ndarray:
        """Batch damped Newton; rows leave the active set as they converge (|E_theta T - eta| < tol)."""
        th = np.zeros_like(eta)
        active = np.arange(eta.shape[0])
        tol = _NEWTON_TOL * (1.0 + np.max(np.abs(self.T)))
        for _ in range(max_iter):
            e, t0 = eta[active], th[active]
            a = self.log_h + t0 @ self.T.T
            lz = logsumexp(a, axis=1, keepdims=True)
            pr = np.exp(a - lz)
            mean = pr @ self.T
            grad = e - mean
            done = np.max(np.abs(grad), axis=1) < tol
            if np.all(done):
                return th
            keep = ~done
            active, e, t0, pr, mean, grad, lz = active[keep], e[keep], t0[keep], pr[keep], mean[keep], grad[keep], \
                lz[keep, 0]
            centred = self.T[None, :, :] - mean[:, None, :]
            G = np.einsum("mk,mki,mkj->mij", pr, centred, centred)
            step = np.linalg.solve(G, grad[..., None])[..., 0]
            obj = np.sum(t0 * e, axis=1) - lz
            t = np.ones(e.shape[0])
            for _ in range(60):  # backtracking per row on the concave objective theta . eta - psi(theta)
                cand = t0 + t[:, None] * step
                new = np.sum(cand * e, axis=1) - logsumexp(self.log_h + cand @ self.T.T, axis=1)
                bad = new < obj - 1e-12 * (1.0 + np.abs(obj))
                if not np.any(bad):
                    break
                t = np.where(bad, 0.5 * t, t)
            th[active] = t0 + t[:, None] * step
        raise ValueError("Newton's method did not converge for the moment equation (eta too close to the boundary)")


def _family(family) -> FiniteExpFamily:
    if not isinstance(family, FiniteExpFamily):
        raise TypeError(f"family must be a FiniteExpFamily, got {type(family).__name__}")
    return family


def _truth(family, g) -> np.ndarray:
    gg = V.probabilities(g, "g")
    if gg.size != family.T.shape[0]:
        raise ValueError(f"g must have one probability per support point ({family.T.shape[0]}), got {gg.size}")
    return gg


def info_projection(family, g) -> np.ndarray:
    r"""Information projection of the truth ``g`` onto the family: :math:`\theta_*=\arg\min_\theta D[g|f_\theta]`.

    .. math::

        E_{\theta_*}T = \mu_g = E_gT\qquad\text{(moment matching)},

    unique when :math:`\mu_g` is interior to the convex support (``ValueError`` otherwise: the projection does not
    exist). Pythagoras holds exactly: :math:`D[g|f_\theta]=D[g|f_{\theta_*}]+D[f_{\theta_*}|f_\theta]`.

    Parameters
    ----------
    family : FiniteExpFamily
        The model.
    g : array_like, shape (K,)
        The true law over the family's support points.

    Returns
    -------
    ndarray, shape (p,)
        theta_*.

    References
    ----------
    .. [1] Csiszár (1975); Sheena, arXiv:2105.08947, section 1.

    Examples
    --------
    >>> from alignsim import pn
    >>> fam = pn.FiniteExpFamily([0, 1, 2, 3])        # the tilt family of a uniform law
    >>> th = pn.info_projection(fam, [0.5, 0.1, 0.1, 0.3])
    >>> round(float(fam.mean(th)[0]), 12)
    1.2
    """
    fam = _family(family)
    gg = _truth(fam, g)
    mu = gg @ fam.T
    if not fam.interior(mu):
        raise ValueError("the mean of T under g lies on the boundary of the convex support: the information "
                         "projection does not exist")
    return fam.solve(mu)


def mle(family, samples=None, counts=None) -> np.ndarray:
    r"""Maximum-likelihood natural parameter from samples (support indices) or counts per support point.

    .. math::

        E_{\hat\theta}T = \bar T_n = \frac1n\sum_i T(X_i).

    Raises ``ValueError`` when :math:`\bar T_n` is on the boundary of the convex support (the MLE does not exist:
    e.g. a zero cell of a saturated model, all observations equal), decided exactly from which support points
    were seen.

    Parameters
    ----------
    family : FiniteExpFamily
        The model.
    samples : array_like of int, optional
        Support indices of the observations.
    counts : array_like of int, optional
        Counts per support point (give samples or counts).

    Returns
    -------
    ndarray, shape (p,)
        The maximum-likelihood natural parameter.

    References
    ----------
    .. [1] Barndorff-Nielsen, "Information and exponential families" (1978), Theorem 9.13.

    Examples
    --------
    >>> from alignsim import pn
    >>> fam = pn.FiniteExpFamily([0, 1])
    >>> round(float(pn.mle(fam, counts=[3, 1])[0]), 12)    # log-odds of 1/4
    -1.098612288668
    """
    fam = _family(family)
    if (samples is None) == (counts is None):
        raise ValueError("give exactly one of samples and counts")
    K = fam.T.shape[0]
    if samples is not None:
        idx = np.asarray(samples)
        if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 \
                or idx.max() >= K:
            raise ValueError(f"samples must be a non-empty 1-D array of support indices in [0, {K})")
        c = np.bincount(idx, minlength=K).astype(float)
    else:
        c = V.real_array(counts, "counts", low=0.0).ravel()
        if c.size != K or c.sum() <= 0:
            raise ValueError(f"counts must have {K} non-negative entries with a positive sum")
    if not fam._interior_support(c[None, :])[0]:
        raise ValueError("the MLE does not exist: the sample mean of T is on the boundary of the convex support "
                         "(e.g. a support point the model needs was never observed)")
    return fam.solve(c @ fam.T / c.sum())


# -------------------------------------------------------------------------------------------------- expansion
def _tensor_terms(G, k3, k4, Sigma, k3g):
    """phi_ijk . kappa^g_ijk and phi_ijkl . Sigma_ij Sigma_kl in the lowered (index-contracted) form of :func:`risk_expansion`."""
    A = np.linalg.inv(G)
    B = A @ Sigma @ A
    kg = np.einsum("ai,bj,ck,ijk->abc", A, A, A, k3g, optimize=True)
    p = G.shape[0]
    t3 = -float(np.sum(k3 * kg))
    u = k3.reshape(p, p * p) @ B.ravel()
    KB = k3 @ B  # K_a B for every a
    b = B.ravel()
    t4 = -(b @ k4.reshape(p * p, p * p) @ b) + u @ A @ u + 2.0 * np.einsum("ab,aij,bji->", A, KB, KB, optimize=True)
    return float(t3), float(t4)


_DIRECTIONS = {"forward": (1 / 3, 3 / 8, 0.5), "reverse": (1 / 6, 1 / 8, 0.5), "sym": (0.5, 0.5, 1.0)}


def risk_coefficients(family, g, direction: str = "forward") -> tuple[float, float]:
    r"""First- and second-order coefficients of the MLE risk, :math:`R_n = c_1/n + c_2/n^2 + O(n^{-3})`.

    .. math::

        c_1=\tfrac12\mathrm{tr}(G^{-1}\Sigma_g),\qquad
        c_2=\tfrac13\varphi_{ijk}\kappa^g_{ijk}+\tfrac38\varphi_{ijkl}\Sigma_{ij}\Sigma_{kl},

    :math:`\varphi` the convex conjugate of :math:`\psi` at :math:`\mu_g` (derivatives from the model cumulants at
    :math:`\theta_*`, in lowered form), :math:`\Sigma_g,\kappa^g` the covariance and third
    cumulant of :math:`T` under ``g``. ``direction="reverse"`` is :math:`E\,D[f_{\hat\theta}|f_{\theta_*}]`
    (coefficients 1/6, 1/8), ``"sym"`` their sum (:math:`c_1=\mathrm{tr}(G^{-1}\Sigma_g)`, coefficients 1/2, 1/2:
    the optimism of the maximised log-likelihood). :math:`4c_1` is the TIC penalty; with ``g`` in
    the family :math:`c_1=p/2`. The expansion is that of the risk *conditional on the MLE existing*.

    Parameters
    ----------
    family : FiniteExpFamily
    g : array_like, shape (K,)
        The truth over the support.
    direction : {"forward", "reverse", "sym"}

    Returns
    -------
    (c1, c2) : tuple of float

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, section 2
       enumeration).

    Examples
    --------
    >>> from alignsim import pn
    >>> fam = pn.FiniteExpFamily([[1, 0], [0, 1], [0, 0]])     # categorical, K = 3
    >>> [round(c, 6) for c in pn.risk_coefficients(fam, [0.2, 0.3, 0.5])]
    [1.0, 2.888889]
    """
    fam = _family(family)
    gg = _truth(fam, g)
    V.choice(direction, "direction", tuple(_DIRECTIONS))
    theta = info_projection(fam, gg)
    pr = fam.probs(theta)
    # c1, c2 are invariant under affine maps of T: work in coordinates where G = I, so that a
    # nearly degenerate family (cond G ~ 1e8) does not lose digits to the powers of G^{-1} in the tensor terms
    mean, G = tensor_cumulants(pr, fam.T, 2)
    s, U = np.linalg.eigh(G)
    if s[0] <= 1e-14 * s[-1]:
        raise ValueError(f"the Fisher information at the projection is singular (condition {s[-1] / max(s[0], 1e-300):.3g})")
    white = (fam.T - mean) @ (U / np.sqrt(s))
    _, G, k3, k4 = tensor_cumulants(pr, white, 4)
    _, Sigma, k3g = tensor_cumulants(gg, white, 3)
    a3, a4, a1 = _DIRECTIONS[direction]
    t3, t4 = _tensor_terms(G, k3, k4, Sigma, k3g)
    c1 = a1 * float(np.trace(np.linalg.solve(G, Sigma)))
    return c1, a3 * t3 + a4 * t4


def risk_coefficients_1d(k_model, k_truth) -> tuple[float, float, float]:
    r"""Risk coefficients :math:`c_1, c_2, c_3` of a one-parameter family from cumulants.

    .. math::

        c_1=\frac{g_2}{2k_2},\quad c_2=\frac{27g_2^2k_3^2-9g_2^2k_2k_4-8g_3k_2^2k_3}{24k_2^5},\quad
        c_3=\tfrac18\varphi^{(4)}g_4+\tfrac13\varphi^{(5)}g_2g_3+\tfrac5{48}\varphi^{(6)}g_2^3,

    with :math:`\varphi^{(4..6)}` from series reversion.

    Parameters
    ----------
    k_model : array_like, length 5
        Model cumulants :math:`k_2..k_6` of :math:`T` at :math:`\theta_*`.
    k_truth : array_like, length 3
        Truth cumulants :math:`g_2, g_3, g_4`.

    Returns
    -------
    (c1, c2, c3) : tuple of float
        The coefficients of 1/n, 1/n^2 and 1/n^3.

    References
    ----------
    .. [1] Spec ``pn_criterion.md`` section 2.2 (one parameter, misspecified).

    Examples
    --------
    >>> from alignsim import pn
    >>> [round(c, 12) for c in pn.risk_coefficients_1d([2, 2, 2, 2, 2], [2, 2, 2])]   # Poisson(2), c2 = 5/24
    [0.5, 0.208333333333, 0.1875]
    """
    k = V.real_array(k_model, "k_model").ravel()
    gt = V.real_array(k_truth, "k_truth").ravel()
    if k.size != 5 or gt.size != 3:
        raise ValueError(f"k_model needs k2..k6 (5 values) and k_truth g2..g4 (3 values), got {k.size}, {gt.size}")
    k2, k3, k4, k5, k6 = k
    g2, g3, g4 = gt
    if k2 <= 0:
        raise ValueError(f"the Fisher information k2 must be > 0, got {k2!r}")
    c1 = g2 / (2 * k2)
    c2 = (27 * g2 ** 2 * k3 ** 2 - 9 * g2 ** 2 * k2 * k4 - 8 * g3 * k2 ** 2 * k3) / (24 * k2 ** 5)
    f4 = -(k2 * k4 - 3 * k3 ** 2) / k2 ** 5
    f5 = -(k2 ** 2 * k5 - 10 * k2 * k3 * k4 + 15 * k3 ** 3) / k2 ** 7
    f6 = -(k2 ** 3 * k6 - 15 * k2 ** 2 * k3 * k5 - 10 * k2 ** 2 * k4 ** 2 + 105 * k2 * k3 ** 2 * k4
           - 105 * k3 ** 4) / k2 ** 9
    c3 = f4 * g4 / 8 + f5 * g2 * g3 / 3 + 5 * f6 * g2 ** 3 / 48
    return float(c1), float(c2), float(c3)


def risk_expansion(n, c1, c2=0.0, c3=0.0):
    r"""The truncated expansion :math:`c_1/n+c_2/n^2+c_3/n^3` of the MLE risk (vectorised in ``n``).

    Parameters
    ----------
    n : int, float or array_like
        Sample size(s), > 0.
    c1 : float
        First-order coefficient.
    c2 : float
        Second-order coefficient.
    c3 : float
        Third-order coefficient.

    Returns
    -------
    float or ndarray
        c1/n + c2/n^2 + c3/n^3, same shape as n.

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, section 2.

    Examples
    --------
    >>> from alignsim import pn
    >>> round(pn.risk_expansion(10, 0.5, 0.75), 12)
    0.0575
    """
    nn = V.real_array(n, "n", low=1.0)
    out = (V.real(c1, "c1", low=0.0) + (V.real(c2, "c2") + V.real(c3, "c3") / nn) / nn) / nn
    return float(out) if out.ndim == 0 else out


# -------------------------------------------------------------------------------------------------- exact risk
@dataclass(frozen=True)
class ExactRisk:
    """Exact MLE risk at one sample size (see :func:`exact_risk`)."""

    n: int
    p_exists: float
    risk: float  # E[D | exists], the paper's direction D[f_* | f_hat]
    risk_truncated: float  # E[D ; exists]
    reverse: float  # E[D[f_hat | f_*] | exists]
    outcomes: int  # distinct values of the sample mean of T enumerated


#: Largest number of compositions (or lattice points) enumerated by :func:`exact_risk`.
MAX_OUTCOMES = 5_000_000


def exact_risk(family, g, n) -> ExactRisk:
    r"""Exact MLE risk at sample size ``n``, conditional on the MLE existing, with :math:`P(\text{exists})`.

    .. math::

        R_n = E\big[D[f_{\theta_*}|f_{\hat\theta}]\ \big|\ \bar T_n\in\mathrm{int}\,C\big],\qquad
        D[f_{\theta_*}|f_{\hat\theta}] = \psi(\hat\theta)-\psi(\theta_*)-(\hat\theta-\theta_*)\cdot\mu_g,

    by enumeration: of the exact lattice law of :math:`\sum_iT(X_i)` when :math:`p=1` and :math:`T` is integer
    (the lattice convolution of :class:`alignsim.MemorylessLM`), otherwise of all multinomial count vectors
    (:math:`\binom{n+K-1}{K-1}` of them, at most :data:`MAX_OUTCOMES`), weights in log space. The unconditional
    risk is infinite in discrete settings: it is never reported.

    Parameters
    ----------
    family : FiniteExpFamily
    g : array_like, shape (K,)
    n : int
        Sample size, ``n >= 1``.

    Returns
    -------
    ExactRisk
        ``n, p_exists, risk`` (conditional), ``risk_truncated`` (:math:`E[D;\text{exists}]`), ``reverse``
        (:math:`E[D[f_{\hat\theta}|f_{\theta_*}]\,|\,\text{exists}]`), ``outcomes`` (enumerated).

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947.

    Examples
    --------
    >>> from alignsim import pn
    >>> fam = pn.FiniteExpFamily([[1, 0], [0, 1], [0, 0]])
    >>> round(pn.exact_risk(fam, [0.2, 0.3, 0.5], 100).risk, 7)
    0.01031
    """
    fam = _family(family)
    gg = _truth(fam, g)
    nn = V.length(n, "n")
    theta_star = info_projection(fam, gg)
    mu = gg @ fam.T
    psi_star = fam.log_partition(theta_star)
    K = fam.T.shape[0]
    integer = fam.p == 1 and np.all(fam.T == np.round(fam.T))
    if integer:

        s = gg > 0
        levels, probs = MemorylessLM(gg[s], fam.T[s, 0], nn).reward_law()
        means = levels[:, None] / nn
        inside = fam.interior(means)
    else:
        count = math.comb(nn + K - 1, K - 1)
        if count > MAX_OUTCOMES:
            raise ValueError(f"n={nn} needs {count} compositions of {K} cells (more than {MAX_OUTCOMES}); use a "
                             "smaller n or an integer one-parameter statistic")
        counts = compositions(nn, K)
        with np.errstate(divide="ignore"):
            logw = gammaln(nn + 1) - gammaln(counts + 1).sum(axis=1) + (counts * np.log(gg)).sum(axis=1)
        keep = np.isfinite(logw)
        counts, probs = counts[keep], np.exp(logw[keep])
        inside = fam._interior_support(counts)
        # compositions with the same sum of T share the loss: one moment equation per distinct sum
        sums, inv = np.unique(counts @ fam.T, axis=0, return_inverse=True)
        inv = inv.ravel()
        probs = np.bincount(inv, weights=probs, minlength=sums.shape[0])
        inside = np.bincount(inv, weights=inside, minlength=sums.shape[0]) > 0
        means = sums / nn
    p_exists = float(np.sum(probs[inside]))
    theta = fam._newton(means[inside])
    psi = logsumexp(fam.log_h + theta @ fam.T.T, axis=1)
    d = theta - theta_star
    forward = np.maximum(psi - psi_star - d @ mu, 0.0)
    reverse = np.maximum(psi_star - psi + np.sum(d * means[inside], axis=1), 0.0)
    w = probs[inside]
    trunc = float(np.dot(w, forward))
    return ExactRisk(nn, p_exists, trunc / p_exists, trunc, float(np.dot(w, reverse)) / p_exists, int(probs.size))


# -------------------------------------------------------------------------------------------------- criterion
_BOUNDS = ("pinsker", "bretagnolle_huber", "gaussian_shift")


def kl_threshold(eps, bound: str = "pinsker") -> float:
    r"""Largest risk :math:`\tau(\varepsilon)` that guarantees an average Bayes error :math:`\ge\frac12-\varepsilon`.

    .. math::

        \text{pinsker: }\tau=8\varepsilon^2,\qquad \text{bretagnolle\_huber: }\tau=-\log(1-4\varepsilon^2),\qquad
        \text{gaussian\_shift (heuristic): }\tau=2\,[\Phi^{-1}(\tfrac12-\varepsilon)]^2 .

    Pinsker + Jensen: :math:`E\,\mathrm{TV}\le\sqrt{R_n/2}`, so :math:`R_n\le8\varepsilon^2` gives
    :math:`E\,P_e\ge\frac12-\varepsilon` (the constant of Sheena's companion paper, arXiv:2212.03397).

    Parameters
    ----------
    eps : float
        Tolerance on the excess of the Bayes error over chance, in (0, 1/2).
    bound : {"pinsker", "bretagnolle_huber", "gaussian_shift"}

    Returns
    -------
    float
        tau(eps) in nats.

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947 (Bayes-error calibration).

    Examples
    --------
    >>> from alignsim import pn
    >>> pn.kl_threshold(0.05)
    0.020000000000000004
    """
    e = V.real(eps, "eps", low=0.0, high=0.5, low_open=True, high_open=True)
    V.choice(bound, "bound", _BOUNDS)
    if bound == "pinsker":
        return 8 * e * e
    if bound == "bretagnolle_huber":
        return -math.log1p(-4 * e * e)

    return 2 * norm.ppf(0.5 - e) ** 2


def pn_criterion(n, eps, c1, c2: float = 0.0, *, bound: str = "pinsker") -> dict:
    r"""The p-n criterion: accept the model at sample size ``n`` when the estimated risk is below the threshold.

    .. math::

        \text{accept}\iff\hat R_n=\frac{c_1}{n}+\frac{c_2}{n^2}\le\tau(\varepsilon),\qquad
        n_{\rm req}=\Big\lceil\frac{c_1+\sqrt{c_1^2+4\tau c_2}}{2\tau}\Big\rceil,\qquad p_{\max}=\lfloor16\varepsilon^2n\rfloor.

    The first-order, well-specified form (:math:`c_1=p/2`, :math:`c_2=0`, Pinsker) is the "p-n" rule
    :math:`p\le16\varepsilon^2n`. **Reconstructed**: the paper's exact decision rule could
    not be read; the expansion it rests on is derived and verified, the threshold is Pinsker + Jensen.
    ``p_max`` is the largest dimension accepted to first order in a well-specified model at this ``n`` (with
    the chosen bound's :math:`\tau`: :math:`\lfloor2\tau n\rfloor`).

    Parameters
    ----------
    n : int
        Sample size, ``n >= 1``.
    eps : float
        Tolerance in (0, 1/2).
    c1, c2 : float
        Risk coefficients (:func:`risk_coefficients`, :func:`estimate_coefficients`, or ``p / 2`` and 0).
    bound : str
        Threshold calibration (:func:`kl_threshold`).

    Returns
    -------
    dict
        ``accept`` (bool), ``risk`` (:math:`\hat R_n`), ``threshold`` (:math:`\tau`), ``n_required`` (int, 1 when
        :math:`c_1^2+4\tau c_2<0`, flagged by ``expansion_trustworthy=False``), ``p_max`` (int),
        ``expansion_trustworthy`` (:math:`|c_2|/n\le0.1\,c_1`).

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, section 3.

    Examples
    --------
    >>> from alignsim import pn
    >>> out = pn.pn_criterion(1000, 0.02, c1=10 / 2)
    >>> out["accept"], out["n_required"], out["p_max"]
    (False, 1563, 6)
    """
    nn = V.length(n, "n")
    tau = kl_threshold(eps, bound)
    a = V.real(c1, "c1", low=0.0)
    b = V.real(c2, "c2")
    risk = a / nn + b / nn ** 2
    disc = a * a + 4 * tau * b
    n_req = max(1, math.ceil((a + math.sqrt(disc)) / (2 * tau) - 1e-9)) if disc >= 0 else 1
    return {"accept": bool(risk <= tau), "risk": risk, "threshold": tau, "n_required": n_req,
            "p_max": int(math.floor(2 * tau * nn + 1e-9)),
            "expansion_trustworthy": bool(disc >= 0 and abs(b) / nn <= 0.1 * a)}


def estimate_coefficients(samples, family, direction: str = "forward") -> tuple[float, float]:
    r"""Plug-in estimates :math:`(\hat c_1,\hat c_2)` from data: the empirical law of the samples as the truth
    (its covariance and third cumulant of :math:`T`) and the model cumulants at the MLE.

    .. math::

        \hat c_1=\tfrac12\mathrm{tr}\big(G(\hat\theta)^{-1}\hat\Sigma\big),\qquad \hat c_2 = c_2(\hat G,\hat\kappa_3,
        \hat\kappa_4,\hat\Sigma,\hat\kappa^g_3).

    Sample third cumulants make :math:`\hat c_2` the noisy part; report the decision with
    :math:`\hat c_1` alone as well.

    Parameters
    ----------
    samples : array_like of int
        Support indices of the observations.
    family : FiniteExpFamily
    direction : {"forward", "reverse", "sym"}

    Returns
    -------
    (c1_hat, c2_hat) : tuple of float
        The plug-in estimates.

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, section 3 (algorithm).

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim import pn
    >>> fam = pn.FiniteExpFamily([0, 1])
    >>> x = np.random.default_rng(0).integers(0, 2, 1000)
    >>> c1, c2 = pn.estimate_coefficients(x, fam)
    >>> round(c1, 12)
    0.5
    """
    fam = _family(family)
    idx = np.asarray(samples)
    K = fam.T.shape[0]
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= K:
        raise ValueError(f"samples must be a non-empty 1-D array of support indices in [0, {K})")
    emp = np.bincount(idx, minlength=K) / idx.size
    mle(fam, samples=idx)  # raises a clear error if the MLE does not exist
    return risk_coefficients(fam, emp, direction)


@V.renamed_keywords(p="ref")
def tilt_family(ref, r) -> FiniteExpFamily:
    r"""The KL-regularised alignment optimum as an exponential family:
    :math:`\pi_\lambda(y)\propto p(y)e^{\lambda r(y)}`, base measure :math:`h=p`, statistic :math:`T=r`.

    Fitting :math:`\lambda` by maximum likelihood from :math:`n` samples of a policy :math:`q` targets the tilt with
    the same expected reward (the information projection), with risk :math:`c_1/n+c_2/n^2`,
    :math:`c_1=\mathrm{Var}_q(r)/(2\mathrm{Var}_{\pi_{\lambda_*}}(r))`. Outcomes with
    :math:`p(y)=0` are dropped.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).

    Returns
    -------
    FiniteExpFamily
        The one-parameter family pi_lambda with base measure ref and statistic r.

    References
    ----------
    .. [1] Y. Sheena, arXiv:2105.08947 (the p-n criterion); Korbak, Perez, Buckley (2022) (the tilt).

    Examples
    --------
    >>> from alignsim import pn
    >>> fam = pn.tilt_family([0.25] * 4, [0, 1, 2, 3])
    >>> [round(c, 4) for c in pn.risk_coefficients(fam, [0.5, 0.1, 0.1, 0.3])]
    [0.7401, 1.2259]
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    s = pp > 0
    if np.ptp(rr[s]) == 0:
        raise ValueError("r must not be constant on the support of p (the tilt family would be a single point)")
    return FiniteExpFamily(rr[s], pp[s])
