r"""Exact errors of best-of-k and softmax selection at one test point, their limits and optimisers."""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad
from scipy.optimize import minimize_scalar
from scipy.special import log_ndtr

from .. import _validate as V
from .._judge_quad import _radius, best_of_k_moments, softmax_moments
from ._equivalent import SCALE_LIMIT, _offset, _positive, _temperature


def _moments(k: float, T: float, m: np.ndarray, s: float):
    """(E[sign r], E[r^2]) of the selected distance in units of s, finite k >= 2."""
    if T == 0.0:
        return best_of_k_moments(k, m)
    tau = T / (s * s)
    if tau > 1e16:  # the selection is uniform to relative 2 s^2 / T < 2e-16: the k = 1 moments (E = mu^2 + s^2)
        return -m, m * m + 1.0
    # The softmax integral runs in v = log t, which reaches r*^2 / tau at the selected distance r* (where k G(r*)
    # = 1); its kernel exp(v - r^2/tau) then cancels to ~ulp(v) relative. Beyond v = 1e7 the softmax differs from
    # the argmax by less than ~1e-11 relative (the gap falls like (tau / r*^2)^2), so best-of-k is the answer.
    cold = _radius(1.0, k, m, 1.0, np.full(m.shape, 1e-300), np.abs(m) + 40.0) ** 2 > _COLD * tau
    if not np.any(cold):
        return softmax_moments(k, tau, m)
    j1, j2 = best_of_k_moments(k, m)
    if not np.all(cold):
        j1[~cold], j2[~cold] = softmax_moments(k, tau, m[~cold])
    return j1, j2


#: r*^2 / tau above which the softmax is evaluated as its T = 0 limit (see :func:`_moments`).
_COLD = 1e7


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
    relative accuracy about 1e-11 (best-of-k 1e-12), checked against independent adaptive quadratures (``alignsim
    verify --only judge``), for :math:`|\rho-\mu|` up to about ``50 s``; further out the fixed panel structure
    loses digits (about 1e-9 at ``400 s``, 1e-7 at ``1600 s``). As ``T -> 0`` the softmax integral loses digits (its kernel cancels to about
    ``1e-16 r*^2 / T`` relative, ``r*`` the distance within which a rival is found with probability about
    ``1/k``): about 1e-10 relative down to ``T = 1e-7 r*^2``; below, the best-of-k value is returned, which the
    softmax then matches to about 1e-11 (the gap falls like ``(T / r*^2)^2``).

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
    excess = V.flag(excess, "excess")
    kk = V.samples_or_inf(k)
    TT = _temperature(T)
    mu_a = _offset(mu, "mu")
    rho_a = _offset(rho, "rho")
    s_a = V.real_array(s, "s", low=1.0 / SCALE_LIMIT, high=SCALE_LIMIT)
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
    m_t = float(_offset(mu, "mu"))
    m_r = m_t - float(_offset(rho, "rho"))
    s2 = float(s) ** 2
    f1, f2 = 1.0 - 1.0 / kk, (1.0 - 1.0 / kk) * (1.0 - 2.0 / kk)
    with np.errstate(over="ignore", invalid="ignore"):
        out = m_t * m_t + s2 - x * (2.0 * m_r * m_t + s2) * f1 + x * x * (m_r * (2.0 * m_t + m_r) + s2) * f2
    if not math.isfinite(out):
        raise ValueError(f"the expansion in x = 2 s^2 / T = {x:.3g} leaves the float range: T is far too small for a "
                         "high-temperature expansion")
    return float(out)


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
    m = _offset(mu, "mu")
    r = _offset(rho, "rho")
    sd = V.real_array(s, "s", low=1.0 / SCALE_LIMIT, high=SCALE_LIMIT)
    d = r - m
    out = math.pi * sd ** 2 * np.exp(d * d / sd ** 2) * (1.0 - 2.0 * r * d / sd ** 2)
    return float(out) if out.ndim == 0 else out


def _argmin_k(err, k_max: int, limit: float):
    """Integer argmin of ``err(k)`` on 1..k_max: all integers up to 64, then a geometric scan (ratio 1.25) whose
    best bracket is searched integer by integer when it is short (the error need not be convex in k) and by an
    integer ternary search when it is long (beyond k ~ 500, where the error is smooth and unimodal on a bracket of
    ratio 1.56). ``(inf, limit)`` when the scan's minimum is at ``k_max`` and the ``k = inf`` limit is no worse."""
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
        if hi - lo <= 128:
            for k in range(lo + 1, hi):
                if k != ks[i]:
                    e = err(k)
                    if e < vals[i]:
                        vals[i], ks[i] = e, k
        else:  # a wide bracket (k in the thousands and beyond, where E is smooth in k): integer ternary search
            a, b = lo, hi
            while b - a > 2:
                m1, m2 = a + (b - a) // 3, b - (b - a) // 3
                if err(m1) <= err(m2):
                    b = m2
                else:
                    a = m1
            for k in range(a, b + 1):
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


def _argmin_scalar(err, centre: float, scale: float, limit=None, name: str = "the judge offset"):
    """Minimise a smooth ``err(x)`` over the real line: a grid of +-8 scales around ``centre``; if its minimum sits
    on an edge, steps doubling outwards (to 2048 scales: 100 standard deviations for the point optimum, within
    which :func:`point_error` keeps 1e-10) until the error rises again; then a bounded Brent search between the
    best point's neighbours. If the error still decreases at the last step, ``limit(direction)`` (the value at
    ``x = direction * inf``) decides: ``(direction * inf, limit)`` when it is no higher; otherwise (or without
    ``limit``) a ValueError."""
    grid = centre + scale * np.linspace(-8.0, 8.0, 33)
    vals = np.array([err(x) for x in grid])
    i = int(np.argmin(vals))
    if i in (0, grid.size - 1):
        direction = -1.0 if i == 0 else 1.0
        inner = 1 if i == 0 else grid.size - 2  # the edge's neighbour inside the grid
        xs, ys = [grid[inner], grid[i]], [vals[inner], vals[i]]
        step = 8.0 * scale
        while ys[-1] <= ys[-2]:
            if step > 2048.0 * scale:
                if limit is not None and limit(direction) <= ys[-1]:
                    return direction * math.inf, float(limit(direction))
                raise ValueError(f"the error keeps decreasing as {name} goes to {direction * math.inf}: no finite "
                                 "minimiser was found")
            xs.append(xs[-1] + direction * step)
            ys.append(err(xs[-1]))
            step *= 2.0
        grid, vals, i = np.array(xs), np.array(ys), len(xs) - 2  # the best point and its two neighbours
    lo, hi = sorted((grid[i - 1], grid[i + 1]))
    if vals[i] < vals[i - 1] and vals[i] < vals[i + 1]:  # a strict bracket: Brent's parabolic steps
        res = minimize_scalar(err, bracket=(lo, grid[i], hi), method="brent", options={"xtol": 1e-10})
    else:  # ties at the rounding level: bounded search between the neighbours
        res = minimize_scalar(err, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    return (float(res.x), float(res.fun)) if res.fun <= vals[i] else (float(grid[i]), float(vals[i]))


def _extreme_sample_error(k: float, mu: float, s: float, direction: float) -> float:
    """E[U^2] for the smallest (``direction = -1``) or largest of ``k`` draws of N(mu, s^2): where a judge target
    at -inf or +inf selects (any T), since the weights' ratios exp(2 (U_i - U_j) rho / T) leave no choice."""
    def density(z):  # of the extreme in standard units, (1 - Phi)^(k-1) in logs
        return k * math.exp(-0.5 * z * z + (k - 1.0) * float(log_ndtr(-z))) / math.sqrt(2.0 * math.pi)
    m = -direction * mu / s  # the largest of N(mu, s^2) is minus the smallest of N(-mu, s^2)
    second, _ = quad(lambda z: (m + z) ** 2 * density(z), -math.inf, math.inf, epsabs=0.0, epsrel=1e-13,
                     limit=200)
    return s * s * second


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
    m, r, sd = float(_offset(mu, "mu")), float(_offset(rho, "rho")), _positive(s, "s")
    TT = _temperature(T)
    kmax = V.length(k_max, "k_max", high=2 ** 53, why="sample counts beyond 2^53 are not distinct floats")
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
    m, r, sd = float(_offset(mu, "mu")), float(_offset(rho, "rho")), _positive(s, "s")
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
        The optimal judge target; ``-inf`` (``+inf``) when the error decreases all the way as the target moves
        away, i.e. selecting the smallest (largest) of the ``k`` samples is best (e.g. ``mu = 1.5``, ``k = 4``,
        ``T = 0.5``).
    error : float
        The error there (at ``-inf``: :math:`E[U_{(1)}^2]`, the smallest sample's second moment).

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
    m, sd = float(_offset(mu, "mu")), _positive(s, "s")
    centre = -m * TT / (2.0 * sd * sd)
    if math.isinf(kk):
        return centre, float(_limit(TT, m, centre, sd * sd))
    if TT == 0.0:
        centre = 0.0
    return _argmin_scalar(lambda r: point_error(kk, TT, m, r, sd), centre, 0.05 * sd,
                          limit=lambda direction: _extreme_sample_error(kk, m, sd, direction), name="rho")
