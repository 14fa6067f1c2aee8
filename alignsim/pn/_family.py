r"""Finite exponential families: log-partition, moments, cumulants, the convex support, information projection
and maximum likelihood."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog
from scipy.spatial import ConvexHull
from scipy.special import logsumexp

from .. import _validate as V
from .._moments import tensor_cumulants

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
        t = V.real_array(T, "T")
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
    def _theta(self, theta, name: str = "theta") -> np.ndarray:
        th = V.real_array(theta, name).reshape(-1)
        if th.size != self.p:
            raise ValueError(f"{name} must be {self.p} finite numbers, got {theta!r}")
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
        return tensor_cumulants(self.probs(theta), self.T, V.choice(order, "order", (1, 2, 3, 4)))

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
        self._theta(theta_a, "theta_a"), self._theta(theta_b, "theta_b")
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
        e = np.atleast_2d(V.real_array(eta, "eta"))
        if e.ndim > 2 or e.shape[-1] != self.p:
            raise ValueError(f"eta must have shape ({self.p},) or (m, {self.p}), got {np.shape(eta)}")
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
        e = V.real_array(eta, "eta")
        if e.size % self.p or e.ndim > 2:
            raise ValueError(f"eta must have shape ({self.p},) or (m, {self.p}), got {e.shape}")
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
        if not np.all(c == np.floor(c)):
            raise ValueError(f"counts must be whole numbers (counts of samples), got {counts!r}")
    if not fam._interior_support(c[None, :])[0]:
        raise ValueError("the MLE does not exist: the sample mean of T is on the boundary of the convex support "
                         "(e.g. a support point the model needs was never observed)")
    return fam.solve(c @ fam.T / c.sum())
