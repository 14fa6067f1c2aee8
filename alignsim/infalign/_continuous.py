r"""InfAlign's continuous model in calibrated units (reference Unif[0, 1]): graded Simpson grids, CTRL
densities, :class:`UniformCTRL` and the beta of a KL budget."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .. import _validate as V
from .._simpson import cumulative_simpson_uniform
from ..tilting import beta_for_kl as _tilt_beta_for_kl
from ..tilting import max_kl
from ._finite import _finite_phi
from ._transforms import _AGAINST, _LOG_LAMBDA_MAX, Transform, _procedure, _transform


# --------------------------------------------------------------------------------------------------------------
# The continuous model in calibrated units
# --------------------------------------------------------------------------------------------------------------
_GRID_INTERVALS = 2 ** 14


@dataclass(frozen=True)
class _Grid:
    """Nodes u(s) = s^3 (10 - 15 s + 6 s^2) (graded at both ends), with Simpson weights of du."""

    s_step: float
    u: np.ndarray
    v: np.ndarray  # 1 - u, computed without cancellation near u = 1
    du: np.ndarray  # du/ds
    w: np.ndarray  # Simpson weights times du/ds: sum(w * f(u)) = int_0^1 f(u) du

    def integral(self, f: np.ndarray) -> float:
        # einsum, not np.dot: a BLAS dot of 16 385 floats goes multi-threaded, and on a busy machine its threads
        # wait for each other (1.9 ms a call instead of 4 us); einsum's own loop never starts threads
        return float(np.einsum("i,i->", self.w, f))

    def cumulative(self, f: np.ndarray) -> np.ndarray:
        # scipy's cumulative_simpson, compiled: identical to the last bit, 4-5x faster on 16 385 nodes
        return cumulative_simpson_uniform(f * self.du, self.s_step)


_GRIDS: dict[int, _Grid] = {}


def _intervals(intervals) -> int:
    n = V.length(intervals, "intervals", high=2 ** 24, why="the grid and its solves must fit in memory and time")
    if n % 2 or n < 16:
        raise ValueError(f"intervals must be an even integer >= 16, got {intervals}")
    return n


def _grid(intervals: int = _GRID_INTERVALS) -> _Grid:
    if intervals not in _GRIDS:
        s = np.linspace(0.0, 1.0, intervals + 1)
        t = 1.0 - s
        u = s ** 3 * (10.0 - 15.0 * s + 6.0 * s * s)
        v = t ** 3 * (10.0 - 15.0 * t + 6.0 * t * t)
        du = 30.0 * s * s * t * t
        h = 1.0 / intervals
        simpson = np.ones(intervals + 1)
        simpson[1:-1:2], simpson[2:-1:2] = 4.0, 2.0
        _GRIDS[intervals] = _Grid(h, u, v, du, simpson * h / 3.0 * du)
    return _GRIDS[intervals]


class _Unresolved(ValueError):
    """A density narrower than the grid resolves."""


@dataclass(frozen=True)
class _Density:
    """A density on the grid from its unnormalised log, with CDF and KL from the uniform reference."""

    grid: _Grid
    log_p: np.ndarray
    p: np.ndarray
    F: np.ndarray
    kl: float

    @classmethod
    def from_log(cls, grid: _Grid, log_w: np.ndarray) -> _Density:
        shifted = log_w - np.max(log_w)
        y = np.exp(shifted)
        cum = grid.cumulative(y)
        z = cum[-1]
        if not z > 1e-290:  # z is at least 1e-290 away from 0 or the normalised density (<= 1/z) overflows
            raise _Unresolved("the tilt is too concentrated for the grid: all its weight is on an end point; "
                              "lower the KL target, raise beta or lower N (or raise intervals)")
        p = y / z
        log_p = shifted - math.log(z)
        with np.errstate(invalid="ignore"):
            plogp = np.where(p > 0, p * log_p, 0.0)
        return cls(grid, log_p, p, np.clip(cum / z, 0.0, 1.0), max(grid.integral(plogp), 0.0))

    def comparator(self, kind, n, against):
        """Density of the comparator: T(Unif) (N u^{N-1} or N (1-u)^{N-1}) or Unif itself."""
        g = self.grid
        if against == "reference" or n == 1:
            return np.ones_like(g.u)
        return n * np.power(g.u if kind == "bon" else g.v, n - 1.0)

    def win_rate(self, kind, n, against) -> float:
        # W = 1 - int F_T(pi) dG  = int (1-F)^N dG for worst-of-N (integration by parts)
        cmp = self.comparator(kind, n, against)
        if kind == "bon":
            return 1.0 - self.grid.integral(np.power(self.F, n) * cmp)
        return self.grid.integral(np.power(1.0 - self.F, n) * cmp)

    def gradient(self, kind, n, against) -> np.ndarray:
        """Result (B) in calibrated units, normalised to 0 at u = 0."""
        # dW/dp(v) = -int_v^1 N F^{N-1} dG (BoN) or -int_v^1 N (1-F)^{N-1} dG (WoN); minus its value at v = 0
        cmp = self.comparator(kind, n, against)
        return self.grid.cumulative(n * np.power(self.F if kind == "bon" else 1.0 - self.F, n - 1.0) * cmp)


def _uniform_kind(procedure, N, against, grid):
    kind, nn = _procedure(procedure, N)
    V.choice(against, "against", _AGAINST)
    resolvable(grid, nn[0])
    return kind, nn[0]


#: Largest N v_1 (v_1 = 1 - u at the grid's last interior node, ~10 / intervals^3) for which the comparator's
#: spike N u^(N-1), of width 1/N, still spans grid cells: win rates then keep about 1e-9 (measured against a grid
#: of 2^20 intervals; at 10x this N the error is 1e-6, at 100x the result is meaningless).
_RESOLVED = 1e-4


def resolvable(grid: _Grid, n: float) -> None:
    """A ValueError naming N when the grid cannot resolve best/worst-of-N's spike at u = 1 (or 0)."""
    limit = _RESOLVED / float(grid.v[-2])
    if n > limit:
        raise ValueError(f"N = {n:.3g} is beyond what the continuous model's grid of {grid.u.size - 1} intervals "
                         f"resolves (N u^(N-1) is narrower than its last cell): N <= {limit:.3g}; raise intervals")


class UniformCTRL:
    r"""A CTRL policy in the continuous model: reference :math:`\mathrm{Unif}[0,1]` in calibrated units.

    .. math::

        p_{\Phi,\beta}(u)=\frac{e^{\Phi(u)/\beta}}{Z},\quad
        \mathrm{KL}=\int_0^1p\log p,\quad
        W^{\rm bon}_N=1-\int_0^1Nu^{N-1}F(u)^N du,\quad W^{\rm won}_N=\int_0^1N(1-u)^{N-1}(1-F(u))^Ndu,

    with :math:`F` the policy CDF; against plain reference samples the weights
    :math:`Nu^{N-1}`, :math:`N(1-u)^{N-1}` become 1. By calibration invariance these are the KL
    and win rates of :math:`\pi_{\Phi,\beta}` for every prompt, reference and reward without atoms.

    The grid (graded towards both ends) resolves the spike :math:`Nu^{N-1}` of width :math:`1/N` for
    :math:`N\le 10^{-4}/(1-u_{\rm last})\approx 10^{-5}\,\text{intervals}^3` (4.4e7 on the default 16 384
    intervals), where win rates keep about 1e-9; a larger ``N`` raises ``ValueError`` (raise ``intervals``).

    Parameters
    ----------
    transform : Transform, str or callable
    beta : float, optional
        :math:`0<\beta<\infty`, in the scale of ``transform``. Give exactly one of ``beta``, ``kl``,
        ``log_lambda``.
    kl : float, optional
        Target KL in nats; :math:`\beta` is found by Brent's method in :math:`\log\lambda` (:func:`ctrl_beta_for_kl`).
    log_lambda : float, optional
        :math:`\log(1/\beta)`, for tilts whose :math:`\beta` is below the float range.
    intervals : int
        Grid intervals (even), default :math:`2^{14}`.

    Attributes
    ----------
    transform, log_lambda, beta, kl, u (grid), density (on the grid), cdf (on the grid)

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (the analytical tool).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> pol = ia.UniformCTRL("identity", beta=1.0)
    >>> round(pol.kl, 9), round(pol.win_rate("bon", 4), 9), round(pol.win_rate("won", 4), 9)
    (0.040651852, 0.603559328, 0.614065101)
    """

    def __init__(self, transform, beta=None, *, kl=None, log_lambda=None, intervals: int = _GRID_INTERVALS):
        self.transform = _transform(transform)
        given = [x is not None for x in (beta, kl, log_lambda)]
        if sum(given) != 1:
            raise ValueError("give exactly one of beta, kl and log_lambda")
        grid = _grid(_intervals(intervals))
        if beta is not None:
            ll = -math.log(V.real(beta, "beta", low=0.0, low_open=True))
        elif kl is not None:
            ll = _solve_log_lambda(self.transform, grid, V.real(kl, "kl", low=0.0, low_open=True))
        else:
            ll = V.real(log_lambda, "log_lambda")
        self.log_lambda = ll
        self._d = _Density.from_log(grid, self.transform.scaled(grid.u, ll))

    @property
    def beta(self) -> float:
        """:math:`\\beta = e^{-\\log\\lambda}` (0.0 if below the float range; see ``log_lambda``)."""
        return math.exp(-self.log_lambda)

    @property
    def kl(self) -> float:
        """KL(policy || Unif[0, 1]) in nats."""
        return self._d.kl

    @property
    def u(self) -> np.ndarray:
        return self._d.grid.u.copy()

    @property
    def density(self) -> np.ndarray:
        return self._d.p.copy()

    @property
    def cdf(self) -> np.ndarray:
        return self._d.F.copy()

    def win_rate(self, procedure: str = "std", N=1, *, against: str = "decoded") -> float:
        """Standard (``"std"``), best-of-N or worst-of-N inference-time win rate over the reference.

        Parameters
        ----------
        procedure : {"std", "bon", "won"}
            Inference-time procedure: plain sampling, best-of-N or worst-of-N.
        N : int or float
            Number of samples of the procedure, N >= 1 (ignored for "std").
        against : {"decoded", "reference"}
            Compare with the reference decoded by the same procedure (default) or with plain reference
            samples.

        Returns
        -------
        float
            The inference-time win rate over the reference, ties one half.
        """
        kind, n = _uniform_kind(procedure, N, against, self._d.grid)
        return self._d.win_rate(kind, n, against)

    def transformed_reward(self, procedure: str = "bon", N=1, *, against: str = "decoded") -> np.ndarray:
        r"""Result (B) on the grid: :math:`\mathcal R^{\rm bon}(u)=N^2\int_0^u(sF(s))^{N-1}ds`,
        :math:`\mathcal R^{\rm won}(u)=-N^2\int_u^1((1-s)(1-F(s)))^{N-1}ds`, shifted to 0 at :math:`u=0`.

        Parameters
        ----------
        procedure : {"std", "bon", "won"}
            Inference-time procedure: plain sampling, best-of-N or worst-of-N.
        N : int or float
            Number of samples of the procedure, N >= 1 (ignored for "std").
        against : {"decoded", "reference"}
            Compare with the reference decoded by the same procedure (default) or with plain reference
            samples.

        Returns
        -------
        ndarray
            The transformed reward on the model's grid of calibrated rewards, 0 at u = 0.
        """
        kind, n = _uniform_kind(procedure, N, against, self._d.grid)
        if math.isinf(n):
            raise ValueError("N must be at most 1.8e308 here: the transformed reward is of order N^2")
        with np.errstate(over="ignore", invalid="ignore"):
            out = self._d.gradient(kind, n, against)
        if not np.all(np.isfinite(out)):
            raise ValueError(f"N = {n:.3g}: the transformed reward, of order N^2, is beyond the float range")
        return out

    def __repr__(self):
        return f"UniformCTRL({self.transform!r}, log_lambda={self.log_lambda:.6g}, kl={self.kl:.6g})"


def _solve_log_lambda(tr: Transform, grid: _Grid, target: float) -> float:
    """Brent in log(lambda) for KL = target, the bracket expanded adaptively.

    A step that overshoots into tilts too concentrated for the grid (all weight on a zero-width end node) is
    halved back until the KL is resolved again.
    """
    lam_phi = tr.on(grid.u)

    def f(ll):
        try:
            return _Density.from_log(grid, lam_phi(ll)).kl - target
        except _Unresolved:
            return math.inf

    lo, hi = -2.0, 2.0
    while f(lo) > 0:
        lo -= 4.0
        if lo < -200:
            raise ValueError(f"kl={target!r} is too small to resolve for transform {tr.name}")
    step, prev = 4.0, f(lo)
    cur = f(hi)
    while cur < 0:
        if cur <= prev or hi > _LOG_LAMBDA_MAX:
            raise ValueError(f"kl={target!r} is unattainable for transform {tr.name}: the KL saturates at "
                             f"{cur + target:.6g} (the arg-max set of the transform has positive measure, or the "
                             "grid cannot resolve the limit)")
        lo, prev, hi = hi, cur, hi + step
        cur, step = f(hi), step * 2.0
        while cur == math.inf:
            hi = 0.5 * (lo + hi)
            cur, step = f(hi), 4.0
    return brentq(f, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps)


@V.renamed_keywords(p="ref")
def ctrl_beta_for_kl(transform, kl, ref=None, r=None) -> float:
    r"""KL coefficient :math:`\beta` at which the CTRL policy of ``transform`` has the target KL.

    .. math::

        \mathrm{KL}(\pi_{\Phi,\beta}\|\pi_{\rm ref}) = \kappa,\qquad
        \frac{d\,\mathrm{KL}}{d\lambda}=\lambda\,\mathrm{Var}_{\pi}(\Phi)>0,

    so the root is unique; Brent's method in :math:`\log\lambda` with an adaptively expanded bracket. A target at or above :math:`\mathrm{KL}_{\max}=-\log\pi_{\rm ref}(\arg\max\Phi)` is unattainable
    and raises ``ValueError``.

    Parameters
    ----------
    transform : Transform, str or callable
    kl : float
        Target KL in nats, > 0.
    ref, r : array_like, optional
        A finite law; without them, the continuous model (:class:`UniformCTRL`).

    Returns
    -------
    float
        :math:`\beta` in the scale of ``transform`` (may underflow to 0 for extreme ``negexp``; use
        ``UniformCTRL(transform, kl=...)``, which keeps :math:`\log\lambda`).

    References
    ----------
    .. [1] A. Balashankar et al., "InfAlign: Inference-aware language model alignment", arXiv:2412.19792.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> round(ia.ctrl_beta_for_kl("identity", 0.5), 9)
    0.242807959
    """
    target = V.real(kl, "kl", low=0.0, low_open=True)
    tr = _transform(transform)
    if ref is None and r is None:
        return math.exp(-_solve_log_lambda(tr, _grid(), target))
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    values = _finite_phi(tr, pp, rr)
    top = max_kl(pp, values)
    if target >= top:
        raise ValueError(f"kl={target!r} is unattainable: the largest KL of transform {tr.name} on this law (ref, "
                         f"r) is -log p(argmax) = {top:.12g}")
    return _tilt_beta_for_kl(pp, values, target, strict=True)
