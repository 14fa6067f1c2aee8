r"""Optimal transforms of InfAlign (the fixed point of result (A)), the best exponential transform and the
win-rate/KL frontiers."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import NoConvergence, brentq, minimize_scalar, newton_krylov

from .. import _validate as V
from .._progress import track
from .._levels import calibrated
from ..divergences import kl as _kl
from ..tilting import tilt
from ._continuous import _GRID_INTERVALS, UniformCTRL, _Density, _grid, _intervals, _Unresolved, resolvable
from ._finite import _decode, _finite_win_rate, _lemma_b
from ._shooting import solve_bon
from ._transforms import _procedure, exp_transform, negexp


@functools.cache
def _gauss_legendre():
    """The 400-node Gauss-Legendre rule of :func:`small_kl_t`, built on first use (not at import)."""
    return np.polynomial.legendre.leggauss(400)


def small_kl_t(N) -> float:
    r"""Best exponent :math:`t_0(N)` of :func:`exp_transform` (and of :func:`negexp`) as the KL budget tends to 0.

    At small KL the optimal policy is :math:`1+\varepsilon(\mathcal R_0-\bar{\mathcal R}_0)` with
    :math:`\mathcal R_0\propto u^{2N-1}` (BoN) or :math:`-(1-u)^{2N-1}` (WoN), and a transform with correlation
    :math:`\rho` to it gains :math:`\rho N\sqrt{\kappa/(2(4N-1))}`; so

    .. math::

        t_0(N)=\arg\max_t\ \mathrm{Corr}_{U\sim\mathrm{Unif}}\big(e^{tU},\,U^{2N-1}\big)\approx 2N,

    the same for BoN and WoN (Gauss-Legendre quadrature, 400 nodes; Brent on the derivative).

    Parameters
    ----------
    N : float
        :math:`N\ge2` (for :math:`N=1` the identity, :math:`t\to0`, is optimal).

    Returns
    -------
    float
        t_0(N), about 2N.

    References
    ----------
    .. [1] A. Balashankar et al., "InfAlign: Inference-aware language model alignment", arXiv:2412.19792 (exponential transforms;
       the small-KL choice of t is derived for this package).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> round(ia.small_kl_t(4), 4)
    7.8246
    """
    n = V.real(N, "N", low=2.0)
    nodes, weights = _gauss_legendre()
    u = 0.5 * (nodes + 1.0)
    w = 0.5 * weights
    target = u ** (2.0 * n - 1.0)
    tc = target - w @ target

    def slope(log_t):
        # d/dt Corr(x, y) has the sign of Cov(x', y) Var(x) - Cov(x, y) Cov(x, x'), x = e^{t(u-1)}, x' = (u-1) x;
        # a root of the derivative is found to ~1e-12, where maximising the flat correlation gives only ~1e-7
        x = np.exp(math.exp(log_t) * (u - 1.0))
        xc = x - w @ x
        dx = (u - 1.0) * x
        dxc = dx - w @ dx
        return (w @ (dxc * tc)) * (w @ (xc * xc)) - (w @ (xc * tc)) * (w @ (xc * dxc))

    return math.exp(brentq(slope, math.log(0.1), math.log(8.0 * n + 10.0), xtol=1e-14))


def _family(kind):
    return exp_transform if kind == "bon" else negexp


def best_t(procedure: str, N, kl, *, intervals: int = _GRID_INTERVALS) -> tuple[float, float]:
    r"""Best exponent of the exponential transform for best-of-N (:func:`exp_transform`) or worst-of-N (:func:`negexp`)
    at a KL budget, in the continuous model.

    .. math::

        t^\star = \arg\max_t\ W^{\mathcal T}_N\big(\pi_{\Phi_t,\beta(t)}\big),\qquad
        \mathrm{KL}(\pi_{\Phi_t,\beta(t)}) = \kappa,

    by a scan in :math:`\log t` from :math:`t_0(N)/2` (:func:`small_kl_t`) until the win rate falls, then
    Brent's bounded method. The win rate is flat near :math:`t^\star`: report :math:`t^\star` to two or three
    significant figures.

    Parameters
    ----------
    procedure : {"bon", "won"}
    N : float
        :math:`N\ge2`.
    kl : float
        KL budget in nats.
    intervals : int

    Returns
    -------
    (t_star, win_rate) : tuple of float

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (exponential transforms close to optimal).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> t, w = ia.best_t("bon", 4, 0.5, intervals=2 ** 12)
    >>> round(t, 1), round(w, 4)
    (12.6, 0.8727)
    """
    V.choice(procedure, "procedure", ("bon", "won"))
    n = V.real(N, "N", low=2.0)
    target = V.real(kl, "kl", low=0.0, low_open=True)
    family = _family(procedure)

    def win(log_t):
        return UniformCTRL(family(math.exp(log_t)), kl=target, intervals=intervals).win_rate(procedure, n)

    step = math.log(1.25)
    xs = [math.log(small_kl_t(n) / 2.0)]
    ws = [win(xs[0])]
    while int(np.argmax(ws)) == 0 and xs[0] > math.log(0.05):
        xs.insert(0, xs[0] - step)
        ws.insert(0, win(xs[0]))
    while int(np.argmax(ws)) >= len(ws) - 2:
        if len(xs) > 80:
            raise ValueError(f"no maximum of the win rate found for t up to {math.exp(xs[-1]):.4g}")
        xs.append(xs[-1] + step)
        ws.append(win(xs[-1]))
    i = int(np.argmax(ws))
    lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, len(xs) - 1)]
    res = minimize_scalar(lambda x: -win(x), bounds=(lo, hi), method="bounded", options={"xatol": 1e-7})
    return math.exp(res.x), -float(res.fun)


@dataclass(frozen=True)
class OptimalTransform:
    r"""The inference-aware optimum found by :func:`optimal_transform`.

    .. math::

        \Phi^\star = \mathcal R_{\pi^\star},\qquad \pi^\star\propto\pi_{\rm ref}e^{\Phi^\star/\beta}.

    Attributes
    ----------
    procedure : str
    N : float
    beta : float
    kl : float
        KL of the optimal policy (nats).
    win_rate : float
        Its inference-time win rate (decoded on both sides).
    phi : ndarray
        :math:`\Phi^\star` on the grid (continuous model) or on the outcomes (finite law), 0 at the bottom.
    policy : ndarray
        Density on the grid, or law over outcomes.
    u : ndarray or None
        Grid (continuous model only).
    residual : float
        :math:`\sup|\mathcal R_{\pi^\star}-\Phi^\star|` at the returned point.
    certificate : float
        Continuous model: :math:`|W^\star-\frac\beta N(p^\star(1)-1)|` (BoN) or
        :math:`|W^\star-1+\frac\beta N(1-p^\star(0))|` (WoN); finite law: the KKT residual of the simplex problem.
    iterations : int
        Fixed-point steps in total (over all values of beta tried when a KL target was given).

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, main theorem.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> opt = ia.optimal_transform("bon", 4, beta=0.1, intervals=2 ** 12)
    >>> round(opt.win_rate, 6), opt.certificate < 1e-8
    (0.93117, True)
    """

    procedure: str
    N: float
    beta: float
    kl: float
    win_rate: float
    phi: np.ndarray = field(repr=False)
    policy: np.ndarray = field(repr=False)
    u: np.ndarray | None = field(repr=False)
    residual: float
    certificate: float
    iterations: int


def _fixed_point(step, phi0, alpha, tol, max_iter, memory=3, patience=300):
    """Damped iteration x <- G(x) = (1 - alpha) x + alpha step(x) (mirror ascent) until sup |G(x) - x| < tol.

    The first ``patience`` steps use Anderson mixing over the last ``memory`` differences, which cuts the
    450-750 plain damped steps to 10-100; if that has not converged, or a mixed step makes the
    residual grow a hundredfold, the plain damped iteration continues from the best point seen. A damped
    iteration that converges shrinks its change steadily; one whose best change has not fallen by 0.1 % in
    ``stall`` steps is caught in a cycle (its step alpha/beta is too long: best-of-128 below beta = 0.005, which
    is why the continuous best-of-N optimum is found by shooting instead) and stops with the error at once
    instead of after ``max_iter`` steps (25-65 s).
    """
    stall = 2000
    x, d_f, d_g, prev = phi0, [], [], None
    best, best_x, k_best = math.inf, phi0, 0
    for k in range(1, max_iter + 1):
        g = (1.0 - alpha) * x + alpha * step(x)
        f = g - x
        size = float(np.max(np.abs(f)))
        if size < tol:
            return g, k
        mixing = k <= patience and size <= 100.0 * best
        if size < 0.999 * best:
            k_best = k
        elif k - k_best > stall:
            break
        if size < best:
            best, best_x = size, g
        if not mixing:
            x = g if k > patience + 1 or size <= 100.0 * best else best_x
            patience = 0
            continue
        if prev is not None:
            d_f.append(f - prev[0])
            d_g.append(g - prev[1])
            del d_f[:-memory], d_g[:-memory]
        prev = (f, g)
        x = g - np.array(d_g).T @ np.linalg.lstsq(np.array(d_f).T, f, rcond=None)[0] if d_f else g
    raise ValueError(f"the fixed-point iteration did not converge in {k} steps (last change {size:.3g}, best "
                     f"{best:.3g}) to tol; lower alpha or raise max_iter (or the grid cannot resolve the optimum's "
                     "spike: lower N, raise beta or lower the KL target)")


def _illinois(g, a, fa, b, fb, xtol, ftol=0.0, max_iter=200):
    """A root of ``g`` in ``[a, b]`` with ``fa = g(a) >= 0 >= fb = g(b)`` (or the reverse) known: the Illinois
    variant of regula falsi. The end values are never re-evaluated: a warm-started fixed-point solve need not
    reproduce them to the last digit, which made scipy's brentq report that the bracket's signs are equal."""
    side = 0
    c = a
    for _ in range(max_iter):
        c = (a * fb - b * fa) / (fb - fa) if fb != fa else 0.5 * (a + b)
        fc = g(c)
        if abs(fc) <= ftol or abs(b - a) <= xtol:
            return c
        if (fc > 0) == (fb > 0):
            b, fb = c, fc
            if side == -1:
                fa *= 0.5
            side = -1
        else:
            a, fa = c, fc
            if side == 1:
                fb *= 0.5
            side = 1
    return c


@V.renamed_keywords(p="ref")
def _locate(g, x0, x1, xtol, ftol, target):
    """A root of ``g``, decreasing in ``x`` = log beta (the KL of the optimum falls with beta, close to linearly:
    0.02-0.04 nats per e-fold at N = 4-1024): bracket by secant steps from ``x0, x1`` (at most 10 e-folds each, not
    unit steps: 30 solves at N = 1024), then Illinois to ``xtol``. Returns ``(root, (lo, g(lo), hi, g(hi)))``."""
    f0, f1 = g(x0), g(x1)
    while (f0 > 0) == (f1 > 0):
        slope = (f1 - f0) / (x1 - x0)
        step = -f1 / slope if slope < 0 else -8.0 if f1 < 0 else 8.0
        x0, f0, x1 = x1, f1, x1 + min(max(step, -8.0), 8.0) * 1.25
        if x1 < -60:
            raise ValueError(f"kl={target!r} needs beta below 1e-26; not supported")
        while True:
            try:
                f1 = g(x1)
                break
            except _Unresolved:  # an extrapolation past what the grid resolves: step back halfway
                if abs(x1 - x0) < 1e-3:
                    raise
                x1 = 0.5 * (x0 + x1)
    (lo, f_lo), (hi, f_hi) = sorted([(x0, f0), (x1, f1)])
    return _illinois(g, lo, f_lo, hi, f_hi, xtol, ftol), (lo, f_lo, hi, f_hi)


def optimal_transform(procedure: str, N, *, beta=None, kl=None, ref=None, r=None, alpha: float = 0.05,
                      tol: float = 1e-12, max_iter: int = 20_000, intervals: int = _GRID_INTERVALS,
                      ) -> OptimalTransform:
    r"""The optimal inference-aware policy: maximiser of :math:`W^{\mathcal T}_N(\pi)-\beta\,\mathrm{KL}(\pi\|\pi_{\rm ref})`.

    By result (A) of :mod:`alignsim.infalign` the optimum is the RLHF solution for the transformed reward
    :math:`\mathcal R_{\pi^\star}` (result (B)), a fixed point found by damped iteration (mirror ascent with step
    :math:`\alpha/\beta`):

    .. math::

        \Phi_{k+1} = (1-\alpha)\Phi_k + \alpha\big(\mathcal R_{\pi_k}-\mathcal R_{\pi_k}(0)\big),\qquad
        \pi_k\propto\pi_{\rm ref}e^{\Phi_k/\beta},\qquad \Phi_0(u) = u,

    stopped when :math:`\alpha\sup|\mathcal R-\Phi|<` ``tol``. For BoN the objective is strictly concave, so the
    fixed point is the global optimum; for WoN it is a stationary point. In the continuous model the BoN optimum is
    found without the damped iteration, whose step :math:`\alpha/\beta` makes it oscillate at small
    :math:`\beta` (best-of-128 below :math:`\beta\approx0.005`): by shooting on the Euler-Lagrange equation
    :math:`\beta(\log p)' = N F^{N-1}\,N u^{N-1}` (one unknown, :math:`\log p(0)`), then Newton-Krylov on the
    grid's fixed-point equation until :math:`\sup|\mathcal R-\Phi|<` ``tol`` (``alpha`` and ``max_iter`` are
    not used there; ``iterations`` counts shots and residual evaluations). On a finite
    law WoN can have several (a large tie at the bottom makes the reference a local maximum), so with ``beta``
    given the iteration also starts from the reference and from policies piled on the top level, and the best
    objective is kept; with a ``kl`` target the branch continued from the reference is followed. With
    ``kl`` given, :math:`\beta` is found in :math:`\log\beta` (secant steps to a bracket, Illinois regula falsi
    with loose solves, secant steps at full tolerance), each solve warm-started from the previous one. Certificates: :math:`W^\star=\frac\beta N(p^\star(1)-1)` (BoN),
    :math:`W^\star=1-\frac\beta N(1-p^\star(0))` (WoN).

    Parameters
    ----------
    procedure : {"bon", "won"}
    N : float
        :math:`N\ge1`.
    beta, kl : float
        Exactly one: the KL coefficient, or a KL target in nats.
    ref, r : array_like, optional
        A finite law (exact, on reward levels); without them the continuous model.
    alpha : float
        Damping in (0, 1]; 0.05 converges in every case tried (larger values oscillate at small beta).
    tol : float
    max_iter : int
    intervals : int
        Grid intervals (continuous model).

    Returns
    -------
    OptimalTransform

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, main theorem.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> opt = ia.optimal_transform("won", 4, beta=0.1, intervals=2 ** 12)
    >>> round(opt.win_rate, 9)
    0.975
    """
    kind, nn = _procedure(procedure, N)
    if procedure == "std":
        raise ValueError("procedure must be 'bon' or 'won' (the standard win rate's optimum is the identity "
                         "transform)")
    n = nn[0]
    _float_n(n, N)
    a = V.real(alpha, "alpha", low=0.0, high=1.0, low_open=True)
    tl = V.real(tol, "tol", low=0.0, low_open=True)
    iters = V.length(max_iter, "max_iter", high=10 ** 7, why="each iteration is a pass over the grid")
    if (beta is None) == (kl is None):
        raise ValueError("give exactly one of beta and kl")
    if (ref is None) != (r is None):
        raise ValueError("give both p and r (a finite law) or neither (the continuous model)")
    n_int = _intervals(intervals)  # checked also for a finite law, where it is not used
    if ref is None:
        resolvable(_grid(n_int), n)
        problem = _ContinuousProblem(_grid(n_int), kind, n)
    else:
        problem = _FiniteProblem(*V.policy_and_rewards(ref, r, "ref"), kind, nn)
    warm, count = [problem.start()], [0]
    shooting = ref is None and kind == "bon"

    def solve(b, tol_in=tl):
        if shooting:
            phi, k = problem.solve(b, tol_in)
            count[0] += k
            return phi, k
        try:
            phi, k = _fixed_point(lambda x: problem.step(x, b), warm[0], a, tol_in, iters)
        except ValueError:  # a warm start from a distant beta can stall; the cold start is the reference
            phi, k = _fixed_point(lambda x: problem.step(x, b), problem.start(), a, tol_in, iters)
        warm[0] = phi
        count[0] += k
        return phi, k

    if beta is not None:
        b = V.real(beta, "beta", low=0.0, low_open=True)
    else:
        target = V.real(kl, "kl", low=0.0, low_open=True)
        top = problem.max_kl()
        if target >= top:
            raise ValueError(f"kl={target!r} is unattainable: the largest KL is {top:.6g}")

        solved = {}  # log beta -> the full-tolerance solution, so the answer is not solved twice

        def f(log_b, tol_in):
            phi_b = solve(math.exp(log_b), tol_in)[0]
            if tol_in == tl:
                solved[log_b] = phi_b
            return problem.kl(phi_b, math.exp(log_b)) - target

        # Locate beta with cheap solves, then polish the root by secant steps at the full tolerance. Cheap: for the
        # continuous best-of-N a grid 8x coarser at N <= 64 and 4x above (measured: 2^11 intervals give the KL to
        # 2e-6 at N <= 64 but only to 1e-2 at N = 128-1024), first with shots alone, then polished by Newton-Krylov
        # to 1e-9; otherwise loose inner solves on the same grid (warm-started fixed points to 1e-8).
        coarse = (n_int // 8 if n <= 64 else n_int // 4) if shooting and n_int // 8 >= 1024 else None
        scouted = {}  # log beta -> cheap KL - target (the slope below reuses the root's value)
        start = (0.0, -1.0)
        if coarse is not None:
            scouts = [_ContinuousProblem(_grid(m), kind, n) for m in (coarse, n_int // 2)]
            problem.hint = scouts[0]

            def scout_kl(log_b, tol_in):
                for scout in scouts:
                    try:
                        phi_b, k = scout.solve(math.exp(log_b), tol_in, strict=False)
                        count[0] += k
                        return scout.kl(phi_b, math.exp(log_b)) - target
                    except ValueError:  # too steep for this grid (the shot or the climb per cell): a finer one
                        continue
                return f(log_b, 1e-8)

            # The shots alone (no Newton-Krylov polish: 3-8 shots a solve) bracket beta first; their root is
            # 0.06-0.16 off the grid's in log beta at N = 1024, so the polished search starts from it
            try:
                shot_root = _locate(lambda x: scout_kl(x, 1e-8), *start, 1e-3, 0.0, target)[0]
                start = (shot_root, shot_root - 0.05)
            except ValueError:  # no shot reaches the target (too steep for the grids): the polished search says why
                pass

            def cheap(log_b):
                return scout_kl(log_b, 1e-9)
            xtol, ftol = 1e-4, 0.0  # the coarse root is off the fine one by 1e-5 to 5e-3 in log beta
        else:
            def cheap(log_b):
                return f(log_b, max(tl, 1e-8))
            xtol, ftol = 1e-4, 1e-6 * target

        def f_scout(log_b):
            if log_b not in scouted:
                scouted[log_b] = cheap(log_b)
            return scouted[log_b]
        x0, (lo, f_lo, hi, f_hi) = _locate(f_scout, *start, xtol, ftol, target)
        slope = (f_scout(x0 + 1e-4) - f_scout(x0)) / 1e-4  # dKL/dlog beta, for the first polishing step
        f0 = f(x0, tl)
        x1 = x0 - f0 / slope if slope < 0 else x0 + 1e-5
        f1 = f(x1, tl)
        for _ in range(8):
            if f1 == f0 or abs(f1) <= 1e-12 * max(1.0, target):
                break
            x0, f0, x1 = x1, f1, x1 - f1 * (x1 - x0) / (f1 - f0)
            f1 = f(x1, tl)
        if abs(f1) > 1e-10 * max(1.0, target):  # the secant did not settle: a full-tolerance bracketed search
            x1 = _illinois(lambda u: f(u, tl), lo, f_lo, hi, f_hi, 1e-12)
            f1 = f(x1, tl)
        if abs(f1) > 1e-8 * max(1.0, target):  # a jump of the KL in beta: no beta attains the target
            raise ValueError(f"kl={target!r} is not attained: near beta = {math.exp(x1):.3g} the KL of the optimum "
                             f"jumps (it is {f1 + target:.6g} there), which the grid cannot resolve; lower N or the "
                             "KL target")
        b = math.exp(x1)
    phi = solved[x1] if beta is None else solve(b)[0]
    if ref is not None and procedure == "won" and beta is not None:
        # On a finite law WoN's objective can have several stationary points (a large tie at the bottom makes the
        # reference a local maximum and leaves a local minimum between it and the top: found by hypothesis), so
        # also start from the reference and from policies piled on the top level, and keep the best objective.
        candidates = [phi]
        for scale in (0.0, 10.0, 100.0):
            try:
                other, k = _fixed_point(lambda x: problem.step(x, b), scale * problem.start(), a, tl, iters)
            except ValueError:  # a start that stalls is simply not a candidate
                continue
            candidates.append(other)
            count[0] += k
        phi = max(candidates, key=lambda x: problem.objective(x, b))
    return problem.result(procedure, b, phi, count[0])


class _ContinuousProblem:
    def __init__(self, grid, kind, n):
        self.grid, self.kind, self.n = grid, kind, n
        self.hint = None  # a coarser grid's problem whose roots guide the first solves here
        self.roots = {}  # log beta -> log p(0) of the best-of-N shots so far: the next solve's first guess
        self.correction = None  # the last Newton-Krylov solution minus its shot: the next solve's first correction

    def start(self):
        return self.grid.u.copy()

    def density(self, phi, b):
        return _Density.from_log(self.grid, phi / b)

    def step(self, phi, b):
        return self.density(phi, b).gradient(self.kind, self.n, "decoded")

    def kl(self, phi, b):
        return self.density(phi, b).kl

    def max_kl(self):
        return math.inf

    def guess(self, log_b):
        """``(c0, width)`` for :func:`solve_bon`: nothing without a previous root; else the nearest root, or the line
        through the two nearest ones, with the bracket's half-width twice the line's step from the nearest root
        (a KL-target search polishes beta by steps of 1e-4 to 1e-8 in log beta, where the line is good to 1e-10)."""
        if len(self.roots) < 2 and self.hint is not None and self.hint.roots:
            # the coarse grid's roots: its log p(0) differs from this grid's by ~1e-8 relative (2^11 vs 2^14)
            c0, w = self.hint.guess(log_b)
            return c0, max(w or 0.0, 1e-6 * max(abs(c0), 1e-3))
        if not self.roots:
            return None, None
        near = sorted(self.roots, key=lambda x: abs(x - log_b))[:2]
        if len(near) == 1 or near[0] == near[1]:
            return self.roots[near[0]], None
        (x0, x1), (c0, c1) = near, (self.roots[near[0]], self.roots[near[1]])
        line = c0 + (c1 - c0) * (log_b - x0) / (x1 - x0)
        return line, max(2.0 * abs(line - c0), 1e-14 * max(abs(c0), 1e-3))

    def solve(self, b, tol, strict=True):
        r"""Best-of-N: ``(Phi, work)`` by shooting on the Euler-Lagrange equation, then Newton-Krylov on the grid's
        own fixed-point equation :math:`\mathcal R_\pi = \Phi` (two to six Newton steps from the shot) until
        :math:`\sup|\mathcal R_\pi-\Phi| <` ``tol`` (the shot alone for ``tol >= 1e-8``, which only locates a beta);
        ``work`` counts the shots and the residual evaluations. ``strict=False`` skips the check of the climb per
        cell (a coarse grid that only locates beta: its KL stays within 1e-4 in log beta of the fine grid's)."""
        loose = tol >= 1e-8  # locating beta for a KL target: the shot alone is within 1e-9 of the polished KL
        # (Brent to the last digits of c even here: F(1; c) is so steep that c to 1e-12 leaves F(1) off by 1e-6)
        phi, shots, self.roots[math.log(b)] = solve_bon(b, self.n, self.grid.u.size - 1, *self.guess(math.log(b)))
        if loose:
            return phi, shots
        evals = [0]

        def residual(x):
            evals[0] += 1
            return self.step(x, b) - x

        shot = phi
        if self.correction is not None:  # the grid's correction to the shot varies slowly with beta
            phi = phi + self.correction
        try:
            if float(np.max(np.abs(residual(phi)))) >= tol:
                # scipy's convergence test divides by x_rtol = inf (0/0 when a step is 0): its warning says nothing
                with np.errstate(invalid="ignore", divide="ignore"):
                    phi = newton_krylov(residual, phi, f_tol=tol, maxiter=50, method="lgmres")
        except (NoConvergence, _Unresolved):
            raise ValueError(f"the best-of-{self.n:g} optimum at beta = {b:.3g} is too steep for the grid of "
                             f"{self.grid.u.size - 1} intervals (Newton's method on its fixed-point equation did not "
                             "converge from the shooting solution); raise beta or intervals, or lower N") from None
        # A grid solution is only as good as its cells: where log p climbs by more than 1/2 per cell (best-of-1024
        # below beta ~ 1e-4 on 2^14 intervals) the residual still vanishes but beta and 1 - W are off by 1e-3 to
        # 1e-2 against a grid four times finer (measured: 0.35 per cell -> 2e-6, 0.97 -> 5e-4, 2.2 -> 1e-2)
        self.correction = phi - shot
        climb = float(np.max(np.abs(np.diff(phi)))) / b
        if strict and climb > 0.5:
            raise ValueError(f"the best-of-{self.n:g} optimum at beta = {b:.3g} is too steep for the grid of "
                             f"{self.grid.u.size - 1} intervals: its log-density climbs by {climb:.2g} in one cell "
                             "(at most 0.5); raise intervals or beta, or lower N")
        return phi, shots + evals[0]

    def result(self, procedure, b, phi, k):
        d = self.density(phi, b)
        w = d.win_rate(self.kind, self.n, "decoded")
        residual = float(np.max(np.abs(d.gradient(self.kind, self.n, "decoded") - phi)))
        if self.kind == "bon":
            cert = abs(w - b / self.n * (d.p[-1] - 1.0))
        else:
            cert = abs(w - 1.0 + b / self.n * (1.0 - d.p[0]))
        return OptimalTransform(procedure, self.n, b, d.kl, w, phi, d.p.copy(), self.grid.u.copy(), residual,
                                float(cert), k)


class _FiniteProblem:
    def __init__(self, pp, rr, kind, nn):
        self.pp, self.rr, self.kind, self.nn = pp, rr, kind, nn
        self.levels, self.inv = np.unique(rr, return_inverse=True)
        self.mass = np.bincount(self.inv, weights=pp, minlength=self.levels.size)
        comp = _decode(pp, rr, kind, nn)
        self.c = calibrated(np.bincount(self.inv, weights=comp, minlength=self.levels.size), self.levels)

    def start(self):
        return self.c - self.c[0]

    def level_law(self, phi, b):
        return tilt(self.mass, phi, b)

    def step(self, phi, b):
        g = _lemma_b(self.level_law(phi, b), self.c, self.kind, self.nn[0])
        return g - g[0]

    def kl(self, phi, b):
        return float(_kl(self.level_law(phi, b), self.mass))

    def objective(self, phi, b):
        res = self.result(self.kind, b, phi, 0)
        return res.win_rate - b * res.kl

    def max_kl(self):
        # result (B)'s reward increases with the level for BoN and WoN alike: beta -> 0 keeps the top level
        return -math.log(self.mass[self.mass > 0][-1])

    def result(self, procedure, b, phi, k):
        a = self.level_law(phi, b)
        policy = self.pp * np.where(self.mass > 0, a / np.where(self.mass > 0, self.mass, 1.0), 0.0)[self.inv]
        w = _finite_win_rate(policy, self.pp, self.rr, self.kind, self.nn, "decoded")
        g = self.step(phi, b)
        residual = float(np.max(np.abs(g - phi)))
        # KKT of max W - beta KL on the simplex: R - beta (log(a/mass) + 1) is constant on the support (of the
        # optimum as floats hold it: at tiny beta a level's mass underflows to 0)
        s = (self.mass > 0) & (a > 0)
        stationarity = g[s] - b * np.log(a[s] / self.mass[s])
        return OptimalTransform(procedure, self.nn[0], b, float(_kl(a, self.mass)), w, phi[self.inv], policy, None,
                                residual, float(np.ptp(stationarity)), k)


def _float_n(n: float, N) -> None:
    """The solvers' transformed rewards are of order N: N itself must be a float."""
    if math.isinf(n):
        raise ValueError("N must be at most 1.8e308 for the optimal-transform solvers (their transformed rewards are "
                         f"of order N), got an integer of {len(str(int(N)))} digits")


def optimal_frontier(procedure: str, N, betas, *, intervals: int = _GRID_INTERVALS, alpha: float = 0.05,
                     tol: float = 1e-12, progress=True):
    r"""The optimal inference-aware trade-off curve in the continuous model: :func:`optimal_transform` over a
    sweep of :math:`\beta`, each solve warm-started from the previous one.

    .. math::

        \beta\ \mapsto\ \big(\mathrm{KL}(\pi^\star_\beta),\ W^{\mathcal T}_N(\pi^\star_\beta)\big),\qquad
        \pi^\star_\beta = \arg\max_\pi W^{\mathcal T}_N(\pi)-\beta\,\mathrm{KL}(\pi\|\pi_{\rm ref}).

    Parameters
    ----------
    procedure : {"bon", "won"}
    N : float
    betas : array_like
        Positive KL coefficients (solved in the given order; decreasing order warm-starts best).
    intervals, alpha, tol
        As in :func:`optimal_transform`.
    progress : bool or callable
        A progress bar on stderr (default; each solve takes 0.05-1 s), ``False`` for none, or a callable
        ``progress(i, total)`` called after each value of beta.

    Returns
    -------
    pandas.DataFrame
        Columns ``beta``, ``kl``, ``win_rate``, ``certificate``.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> df = ia.optimal_frontier("bon", 4, [1.0, 0.1], intervals=2 ** 12)
    >>> df["win_rate"].round(6).tolist()
    [0.689661, 0.93117]
    """

    kind, nn = _procedure(procedure, N)
    if procedure == "std":
        raise ValueError("procedure must be 'bon' or 'won'")
    _float_n(nn[0], N)
    bs = V.real_array(betas, "betas", low=0.0, low_open=True).ravel()
    n_int = _intervals(intervals)
    a = V.real(alpha, "alpha", low=0.0, high=1.0, low_open=True)
    tol = V.real(tol, "tol", low=0.0, low_open=True)
    resolvable(_grid(n_int), nn[0])
    problem = _ContinuousProblem(_grid(n_int), kind, nn[0])
    phi, rows = problem.start(), []
    for b in track(bs, progress, "optimal_frontier"):
        if kind == "bon":
            phi = problem.solve(float(b), tol)[0]
        else:
            phi = _fixed_point(lambda x, b=b: problem.step(x, b), phi, a, tol, 20_000)[0]
        res = problem.result(procedure, float(b), phi, 0)
        rows.append((float(b), res.kl, res.win_rate, res.certificate))
    return pd.DataFrame(rows, columns=["beta", "kl", "win_rate", "certificate"])


#: The rows (procedure, N, KL) of the comparison of transforms tabulated by :func:`frontier_table`.
FRONTIER_ROWS = tuple(
    [("bon", n, k) for n in (2, 4, 8) for k in (0.1, 0.25, 0.5, 1.0, 2.0)]
    + [("bon", 16, k) for k in (0.05, 0.25, 0.5, 1.0)]
    + [("bon", 32, k) for k in (0.05, 0.1, 0.25, 0.5, 1.0)]
    + [("won", n, k) for n in (2, 4) for k in (0.1, 0.25, 0.5, 1.0, 2.0)]
    + [("won", 8, k) for k in (0.1, 0.25, 0.5, 1.0)]
    + [("won", 16, k) for k in (0.05, 0.1, 0.25)]
    + [("won", 32, k) for k in (0.05, 0.1, 0.25)]
)


def frontier_table(rows=FRONTIER_ROWS, *, intervals: int = _GRID_INTERVALS, progress=True):
    r"""Inference-time win rates at matched KL of the identity, log, tuned exponential and optimal transforms.

    For each ``(procedure, N, kl)``: the win rate :math:`W^{\mathcal T}_N` of the identity and log CTRL policies
    at that KL, the best exponent :math:`t^\star` of :func:`exp_transform` (BoN) or :func:`negexp` (WoN) and its win rate
    (:func:`best_t`), and the optimum with its :math:`\beta` (:func:`optimal_transform`), all in the continuous
    model.

    .. math::

        W^{\mathcal T}_N(\pi_{\Phi,\beta(\Phi,\kappa)})\quad\text{for }\Phi\in\{u,\ \log u,\ e^{t^\star(u-1)}
        \text{ or } -e^{-t^\star u},\ \Phi^\star\}.

    Parameters
    ----------
    rows : iterable of (procedure, N, kl)
    intervals : int
    progress : bool or callable
        A progress bar on stderr (default; the whole table takes about 25 s on 2 cores), ``False`` for none, or a
        callable ``progress(i, total)`` called after each row.

    Returns
    -------
    pandas.DataFrame
        Columns ``procedure, N, kl, identity, log, t_star, tuned, optimum, beta_opt``.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (exponential transforms close to optimal).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> row = ia.frontier_table([("bon", 4, 0.5)], intervals=2 ** 12).iloc[0]
    >>> [round(float(row[k]), 4) for k in ("identity", "log", "t_star", "tuned", "optimum", "beta_opt")]
    [0.7998, 0.7682, 12.6338, 0.8727, 0.8733, 0.2166]
    """

    rows = list(rows)
    out = []
    for procedure, N, kl in track(rows, progress, "frontier_table"):
        V.choice(procedure, "procedure", ("bon", "won"))
        ident = UniformCTRL("identity", kl=kl, intervals=intervals).win_rate(procedure, N)
        lg = UniformCTRL("log", kl=kl, intervals=intervals).win_rate(procedure, N)
        t_star, tuned = best_t(procedure, N, kl, intervals=intervals)
        opt = optimal_transform(procedure, N, kl=kl, intervals=intervals)
        out.append((procedure, N, kl, ident, lg, t_star, tuned, opt.win_rate, opt.beta))
    return pd.DataFrame(out, columns=["procedure", "N", "kl", "identity", "log", "t_star", "tuned", "optimum",
                                      "beta_opt"])
