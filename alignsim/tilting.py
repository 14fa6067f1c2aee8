r"""The closed-form KL-constrained optimum: exponential tilting of a finite law.

Notation: reference :math:`p` over outcomes with rewards :math:`r`,
:math:`\lambda = 1/\beta \ge 0`,

.. math::

    \Lambda(\lambda) = \log\sum_{y:\,p(y)>0} p(y)e^{\lambda r(y)},\qquad
    \phi_\lambda(y) = p(y)e^{\lambda r(y)-\Lambda(\lambda)},\qquad
    K(\lambda) = \mathrm{KL}(\phi_\lambda\|p) = \lambda\Lambda'(\lambda) - \Lambda(\lambda).

:math:`\phi_{\lambda_\Delta}` with :math:`K(\lambda_\Delta) = \Delta` maximises :math:`\mathbb E_\phi r` subject to
:math:`\mathrm{KL}(\phi\|p)\le\Delta`, for :math:`0 < \Delta < \Delta_{\max} = -\log p(A^\star)`, where
:math:`A^\star` is the set of reward maximisers on the support of :math:`p`. Equivalently :math:`\phi_{1/\beta}`
maximises :math:`\mathbb E_\phi r - \beta\,\mathrm{KL}(\phi\|p)`, with optimal value :math:`\beta\Lambda(1/\beta)`.

All quantities are computed in log space and stay accurate for :math:`\beta\in[10^{-8}, 10^{8}]` with rewards
spanning :math:`10^3`: :math:`K(\lambda)` is evaluated from reward gaps to the maximum when
:math:`\lambda\,\max|r-\bar r|>1/2` (no cancellation as :math:`\lambda\to\infty`) and from a centred series
otherwise (no cancellation as :math:`\lambda\to0`).

References
----------
.. [1] J. Q. Yang, S. Salamatian, Z. Sun, A. T. Suresh, A. Beirami, "Asymptotics of language model alignment",
   ISIT 2024, arXiv:2404.01730.
.. [2] T. Korbak, E. Perez, C. L. Buckley, "RL with KL penalties is better viewed as Bayesian inference",
   Findings of EMNLP 2022.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp

from . import _tilt as T
from . import _validate as V
from .divergences import kl

__all__ = [
    "log_partition",
    "tilt",
    "tilt_kl",
    "tilt_mean",
    "max_kl",
    "beta_for_kl",
    "lambda_for_kl",
    "optimal_reward",
    "dual_reward",
    "penalised_value",
    "kl_reward_frontier",
    "tradeoff_gap",
]


@V.renamed_keywords(p="ref")
def log_partition(ref, r, lam) -> float | np.ndarray:
    r"""Cumulant generating function (log-partition) of the reward under ``ref``.

    .. math::

        \Lambda(\lambda) = \log\sum_{y:\,p(y)>0} p(y)\, e^{\lambda r(y)},

    evaluated with a max shift, so it is finite for any finite :math:`\lambda` (no overflow at
    :math:`\lambda r > 709`).

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities.
    r : array_like, shape (K,)
        Rewards.
    lam : float or array_like
        Any finite real(s) :math:`\lambda` (the inverse temperature :math:`1/\beta` for :math:`\lambda > 0`).

    Returns
    -------
    float or ndarray
        Same shape as ``lam``.

    References
    ----------
    .. [1] Yang et al. (2024), section 1.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.log_partition([0.5, 0.3, 0.2], [-1, 0, 2], 2.0), 11)
    2.42367799152
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    lam_arr = V.real_array(lam, "lam")
    out = T.log_partition(*T.support(pp, rr), lam_arr)
    return float(out) if out.ndim == 0 else out


@V.renamed_keywords(p="ref")
def tilt(ref, r, beta) -> np.ndarray:
    r"""The KL-regularised optimum :math:`\phi_{1/\beta}(y)\propto p(y)\,e^{r(y)/\beta}`.

    .. math::

        \phi_\lambda(y) = p(y)\exp\big(\lambda r(y) - \Lambda(\lambda)\big),\qquad\lambda = 1/\beta,

    the unique maximiser of :math:`\mathbb E_\phi r - \beta\,\mathrm{KL}(\phi\|p)`. It never creates mass
    (:math:`\phi\ll p`); ``beta = inf`` returns ``ref`` and ``beta = 0`` the limit :math:`\beta\to0`, ``ref``
    conditioned on the reward maximisers of its support (what :func:`beta_for_kl` returns for a slack budget).
    Computed from reward gaps to the maximum, so :math:`r/\beta` may exceed the float range.

    Parameters
    ----------
    ref : array_like, shape (K,)
    r : array_like, shape (K,)
    beta : float
        KL coefficient, :math:`0 \le \beta \le \infty`.

    Returns
    -------
    ndarray, shape (K,)

    References
    ----------
    .. [1] Korbak, Perez, Buckley (2022), eq. (3); Yang et al. (2024), the closed-form KL-constrained optimum.

    Examples
    --------
    >>> import alignsim as a
    >>> a.tilt([0.5, 0.5], [0.0, 1.0], 1.0).round(6)
    array([0.268941, 0.731059])
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    b = V.beta(beta, allow_zero=True)
    return np.exp(T.tilt_log(pp, rr, T.lam_of(b)))


@V.renamed_keywords(p="ref")
def tilt_kl(ref, r, beta) -> float:
    r"""KL divergence of the tilt from the reference, :math:`K(\lambda) = \mathrm{KL}(\phi_\lambda\|p)`.

    .. math::

        K(\lambda) = \lambda\Lambda'(\lambda) - \Lambda(\lambda),\qquad \lambda = 1/\beta,

    increasing from :math:`K(0)=0` to :math:`\Delta_{\max} = -\log p(A^\star)`. Evaluated without
    cancellation at both ends (see the module notes), to about :math:`10^{-15}` relative accuracy.

    Parameters
    ----------
    ref, r : array_like, shape (K,)
    beta : float
        :math:`0 \le \beta \le \infty` (0: the reward-maximising limit).

    Returns
    -------
    float

    References
    ----------
    .. [1] Yang et al. (2024), section 1.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.tilt_kl([0.7, 0.3], [0, 1], 1.10395862356), 9)
    0.1
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    return T.tilt_kl(*T.support(pp, rr), T.lam_of(V.beta(beta, allow_zero=True)))


@V.renamed_keywords(p="ref")
def tilt_mean(ref, r, beta) -> float:
    r"""Expected reward of the tilt, :math:`\Lambda'(\lambda) = \mathbb E_{\phi_\lambda} r`, :math:`\lambda=1/\beta`.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    beta : float
        KL coefficient, 0 <= beta <= inf (inf: the reference; 0: the reward-maximising limit).

    Returns
    -------
    float
        E_phi r under the tilt phi_{1/beta}.

    References
    ----------
    .. [1] Yang et al. (2024), section 1 (:math:`\Lambda'` is the tilted mean).

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.tilt_mean([0.7, 0.3], [0, 1], 1.10395862356), 9)
    0.514629121
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    return T.tilt_mean(*T.support(pp, rr), T.lam_of(V.beta(beta, allow_zero=True)))


@V.renamed_keywords(p="ref")
def max_kl(ref, r) -> float:
    r"""Largest KL the tilt can reach, :math:`\Delta_{\max} = -\log p(A^\star)`.

    :math:`A^\star` is the set of reward maximisers **on the support** of ``ref`` (rewards of zero-probability
    outcomes are ignored); ties at the maximum are one set. A constant reward on the support gives 0.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).

    Returns
    -------
    float
        Delta_max = -log ref(A*) in nats (0 for a reward constant on the support).

    References
    ----------
    .. [1] Yang et al. (2024), the closed-form KL-constrained optimum (boundary case :math:`\Delta\ge\Delta_{\max}`).

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.max_kl([0.5, 0.5, 0.0], [0, 1, 10]), 12)   # log 2, not inf
    0.69314718056
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    return T.max_kl(*T.support(pp, rr))


def _budget(p, r, delta):
    pp, rr = V.policy_and_rewards(p, r)
    return T.support(pp, rr) + (V.real(delta, "delta", low=0.0),)


@V.renamed_keywords(p="ref")
def lambda_for_kl(ref, r, delta) -> float:
    r"""Inverse temperature :math:`\lambda_\Delta` of the KL-constrained optimum with budget :math:`\Delta`.

    Solves :math:`\lambda\Lambda'(\lambda)-\Lambda(\lambda) = \Delta` by bracketing in :math:`\log\lambda` and
    Brent's method (relative tolerance about ``1e-13``). Returns ``0.0`` for ``delta == 0`` and ``inf`` when
    ``delta >= max_kl(p, r)`` (the constraint is slack; the optimum is ``ref`` conditioned on :math:`A^\star`).

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    delta : float
        KL budget in nats, delta >= 0.

    Returns
    -------
    float
        lambda_delta (0 for delta = 0, inf for a slack budget).

    References
    ----------
    .. [1] Yang et al. (2024), the closed-form KL-constrained optimum.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.lambda_for_kl([0.7, 0.3], [0, 1], 0.1), 10)
    0.9058310508
    """
    return T.lambda_on_support(*_budget(ref, r, delta))


@V.renamed_keywords(p="ref")
def beta_for_kl(ref, r, delta, *, strict: bool = False) -> float:
    r"""KL coefficient :math:`\beta_\Delta = 1/\lambda_\Delta` whose tilt has KL exactly :math:`\Delta`.

    .. math::

        \mathrm{KL}(\phi_{1/\beta}\,\|\,p) = \Delta .

    Parameters
    ----------
    ref, r : array_like, shape (K,)
    delta : float
        KL budget in nats, ``delta >= 0``.
    strict : bool, default False
        If False, a budget ``delta >= max_kl(p, r)`` returns ``0.0``: the constraint
        :math:`\mathrm{KL}\le\Delta` is slack and the optimum is the reward-maximising limit
        :math:`p(\cdot\mid A^\star)`. If True, such a budget raises ``ValueError`` (use this when the KL must be
        attained exactly).

    Returns
    -------
    float
        ``inf`` for ``delta == 0``; ``0.0`` for a slack budget (when ``strict`` is False).

    Raises
    ------
    ValueError
        For ``delta < 0``, non-finite ``delta``, or (``strict=True``) ``delta > max_kl``.

    References
    ----------
    .. [1] Yang et al. (2024), the closed-form KL-constrained optimum.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.beta_for_kl([0.7, 0.3], [0, 1], 0.1), 11)
    1.10395862356
    """
    strict = V.flag(strict, "strict")
    ps, rs, d = _budget(ref, r, delta)
    if strict and d > T.max_kl(ps, rs):
        raise ValueError(f"delta must lie in [0, max_kl = {T.max_kl(ps, rs):.12g}] with strict=True, got {d!r}")
    return T.beta_of(T.lambda_on_support(ps, rs, d))


@V.renamed_keywords(p="ref")
def optimal_reward(ref, r, delta) -> float:
    r"""Value of the KL-constrained problem, :math:`R^\star(\Delta) = \max\{\mathbb E_\phi r:
    \mathrm{KL}(\phi\|p)\le\Delta\} = \Lambda'(\lambda_\Delta)`.

    Equals :math:`\max_{A^\star} r` for :math:`\Delta\ge\Delta_{\max}`; concave and increasing in
    :math:`\Delta`, with slope :math:`\beta_\Delta`.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    delta : float
        KL budget in nats, delta >= 0.

    Returns
    -------
    float
        R*(delta), the largest expected reward within the KL budget.

    References
    ----------
    .. [1] Yang et al. (2024), the closed-form KL-constrained optimum.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.optimal_reward([0.7, 0.3], [0, 1], 0.1), 12)
    0.514629121059
    """
    ps, rs, d = _budget(ref, r, delta)
    return T.reward_of(ps, rs, T.lambda_on_support(ps, rs, d))


@V.renamed_keywords(p="ref")
def dual_reward(ref, r, delta) -> float:
    r"""The dual value :math:`\min_{\lambda>0}\,[\Lambda(\lambda)+\Delta]/\lambda`, computed independently.

    By strong duality it equals :func:`optimal_reward`; it is found by a bounded scalar minimisation in
    :math:`\log\lambda` (no root finding), so it serves as an independent check of the primal solve.
    Accuracy is limited by the flat minimum to about ``1e-9`` relative.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    delta : float
        KL budget in nats, delta >= 0.

    Returns
    -------
    float
        The dual value, equal to optimal_reward to about 1e-9 relative.

    References
    ----------
    .. [1] Yang et al. (2024), the closed-form KL-constrained optimum (dual form); S. Boyd and L. Vandenberghe, *Convex Optimization*, sec. 5.2.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.dual_reward([0.7, 0.3], [0, 1], 0.1), 8)
    0.51462912
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    d = V.real(delta, "delta", low=0.0, low_open=True)
    ps, rs = T.support(pp, rr)
    if d >= T.max_kl(ps, rs):
        return float(rs.max())

    def obj(u):
        lam = math.exp(u)
        return (float(T.log_partition(ps, rs, lam)) + d) / lam

    # lambda_delta lies between 1e-12/span and 1e4/(gap between the two highest rewards)
    levels = np.unique(rs)
    span, top_gap = float(levels[-1] - levels[0]), float(levels[-1] - levels[-2])
    # in logs, clipped to the lambdas that floats hold (a subnormal gap would put 1e4 / gap beyond them)
    lo = max(math.log(1e-12) - math.log(span), -T.LOG_LAMBDA_MAX)
    hi = min(math.log(1e4) - math.log(top_gap), T.LOG_LAMBDA_MAX)
    grid = np.linspace(lo, hi, max(400, int(4 * (hi - lo))))
    vals = [obj(u) for u in grid]
    i = int(np.argmin(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    if i == len(grid) - 1 and hi == T.LOG_LAMBDA_MAX:
        raise ValueError(f"delta = {d!r} needs lambda = 1/beta beyond the float range: the gap between the two "
                         f"largest rewards r ({top_gap!r}) is too small; rescale the rewards r or lower delta")
    res = minimize_scalar(obj, bounds=(a, b), method="bounded", options={"xatol": 1e-12})
    return float(min(res.fun, vals[i]))


@V.renamed_keywords(p="ref")
def penalised_value(ref, r, beta) -> float:
    r"""Optimal value of the penalised problem, :math:`\max_\phi\,\mathbb E_\phi r - \beta\,\mathrm{KL}(\phi\|p)
    = \beta\,\Lambda(1/\beta)`.

    ``beta = inf`` gives :math:`\mathbb E_p r`.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    beta : float
        KL coefficient, 0 < beta <= inf (inf is the reference itself).

    Returns
    -------
    float
        max_phi E_phi r - beta KL(phi || ref) = beta Lambda(1/beta).

    References
    ----------
    .. [1] Korbak, Perez, Buckley (2022); Yang et al. (2024), the closed-form KL-constrained optimum (penalised form).

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.penalised_value([0.5, 0.3, 0.2], [-1, 0, 2], 2.0), 12)
    0.274163133793
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    b = V.beta(beta)
    ps, rs = T.support(pp, rr)
    if b == math.inf:
        return float(np.dot(ps, rs))
    lam = 1.0 / b
    if lam < math.inf:
        return float(b * T.log_partition(ps, rs, lam))
    # 1/beta beyond floats (subnormal beta): beta log E exp(r / beta) = max r + beta log E exp((r - max r) / beta),
    # where the sum is p(A*) to rounding
    c = float(rs.max())
    with np.errstate(over="ignore"):
        return float(c + b * logsumexp(np.log(ps) + (rs - c) / b))


@V.renamed_keywords(p="ref")
def kl_reward_frontier(ref, r, deltas) -> pd.DataFrame:
    r"""The KL/reward Pareto frontier of the KL-constrained problem.

    For each budget :math:`\Delta` the row holds :math:`\beta_\Delta`, :math:`R^\star(\Delta)` and the KL actually
    used, :math:`\min(\Delta, \Delta_{\max})` (budgets above :math:`\Delta_{\max}` are slack: ``beta = 0`` and the
    reward is the maximum).

    Parameters
    ----------
    ref, r : array_like, shape (K,)
    deltas : array_like, shape (M,)
        Non-negative budgets in nats.

    Returns
    -------
    pandas.DataFrame
        Columns ``delta``, ``beta``, ``reward``, ``kl``.

    References
    ----------
    .. [1] Yang et al. (2024), the closed-form KL-constrained optimum: the frontier is concave with slope :math:`\beta_\Delta`.

    Examples
    --------
    >>> import alignsim as a
    >>> a.kl_reward_frontier([0.7, 0.3], [0, 1], [0.1, 2.0]).round(6)
       delta      beta    reward        kl
    0    0.1  1.103959  0.514629  0.100000
    1    2.0  0.000000  1.000000  1.203973
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    ds = V.real_array(deltas, "deltas", low=0.0).ravel()
    ps, rs = T.support(pp, rr)
    dmax = T.max_kl(ps, rs)
    lams = [T.lambda_on_support(ps, rs, float(d)) for d in ds]
    return pd.DataFrame({
        "delta": ds,
        "beta": [T.beta_of(lam) for lam in lams],
        "reward": [T.reward_of(ps, rs, lam) for lam in lams],
        "kl": np.minimum(ds, dmax),
    })


@V.renamed_keywords(phi="pi", p="ref")
def tradeoff_gap(pi, ref, r, delta) -> float:
    r"""Right-hand side of the comparable-trade-off identity (Yang et al., the trade-off identity).

    For every :math:`\phi\ll p` and :math:`0<\Delta<\Delta_{\max}`,

    .. math::

        \mathrm{KL}(\phi\,\|\,\phi_\Delta) = \big[\mathrm{KL}(\phi\|p) - \Delta\big]
        + \lambda_\Delta\big[R^\star(\Delta) - \mathbb E_\phi r\big],

    so a policy within :math:`\varepsilon_1` of the budget and :math:`\varepsilon_2` of the optimal reward is
    within :math:`\varepsilon_1+\lambda_\Delta\varepsilon_2` of the optimum in KL. This function returns the
    right-hand side; comparing it with ``kl(phi, tilt(p, r, beta_for_kl(p, r, delta)))`` checks the identity.
    The identity is exact (derived for this package; the paper states it up to constants).

    Parameters
    ----------
    pi : array_like, shape (K,)
        A policy absolutely continuous with respect to ``ref``.
    ref, r : array_like, shape (K,)
    delta : float
        Budget with ``0 < delta < max_kl(p, r)``.

    Returns
    -------
    float
        ``inf`` if ``pi`` charges a zero of ``ref``.

    Raises
    ------
    ValueError
        If ``delta`` is not in :math:`(0, \Delta_{\max})` (the optimum then has no finite :math:`\lambda`).

    References
    ----------
    .. [1] Yang et al. (2024), the trade-off identity (identity derived there).

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.tradeoff_gap([0.4, 0.3, 0.3], [0.5, 0.3, 0.2], [-1, 0, 2], 0.25), 12)
    0.096409983791
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    ph = V.probabilities(pi, "pi")
    V.same_shape(ph, pp, "pi", "ref")
    ps, rs = T.support(pp, rr)
    dmax = T.max_kl(ps, rs)
    if dmax == 0.0:
        raise ValueError("r is constant on the support of ref: there is no KL budget delta to spend")
    d = V.real(delta, "delta", low=0.0, high=dmax, low_open=True, high_open=True)
    lam = T.solve_lambda(ps, rs, d)
    kl_phi = kl(ph, pp)
    if kl_phi == math.inf:
        return math.inf
    return (kl_phi - d) + lam * (T.tilt_mean(ps, rs, lam) - float(np.dot(ph, rr)))
