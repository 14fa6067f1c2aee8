r"""Optima of reward maximisation regularised by an :math:`f`-divergence other than reverse KL.

.. math::

    \max_\pi\ \mathbb E_\pi r - \beta\, D_f(\pi\,\|\,q),\qquad
    \pi_i = q_i\, g\!\Big(\frac{r_i-\nu}{\beta}\Big),\quad g = (f')^{-1}\ \text{clipped},\quad
    \sum_i q_i\, g\big((r_i-\nu)/\beta\big) = 1,

for the normalised generators of :mod:`alignsim.generators` (spec ``regularisers.md`` section 2, Theorem 1). The
reverse-KL row is the core's :func:`alignsim.tilt` (no second implementation); :math:`\chi^2` and total variation
have exact closed forms (active set, exchange argument); the other generators are solved for the multiplier in
log coordinates next to their pole, so that tiny reference masses (:math:`10^{-20}`) are resolved. Responses the
reference never produces receive mass when :math:`f'(\infty)<\infty` (forward KL, JS, Hellinger,
:math:`\alpha<1`, TV; spec section 2.2).

This module holds the first parts of issue 8: the :math:`f`-regularised optima, their divergence and frontier
(spec section 2), binary rewards with pass@k (section 3), and the identities of sections 5.1-5.5 (posterior gap,
geometric mixtures, implicit rewards, KL-regularised Nash equilibria), and reward hacking on exact toys with
ensembles and the correlated-proxy bound (section 4), and DPO under partial coverage (5.6).

References
----------
.. [1] C. Wang, Y. Jiang, C. Yang, H. Liu, Y. Chen, "Beyond reverse KL: generalizing direct preference optimization
   with diverse divergence constraints", arXiv:2309.16240 (KKT form).
.. [2] Li et al., "DPH-RL", arXiv:2509.07430; Deng et al., "RAPO", arXiv:2510.03865 (mass-covering regularisers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import logsumexp

from . import _validate as V
from .divergences import f_divergence, kl
from .generators import generator
from .tilting import log_partition, tilt

__all__ = ["FOptimum", "f_optimum", "beta_for", "frontier", "binary_success", "hard_prompt_limit", "mixture_pass_at_k",
           "match_pass1", "kl_posterior_gap", "geometric_mixture", "implicit_reward", "single_token_reward",
           "nash_kl", "nash_gap", "GoodhartToy", "goodhart_toy", "ensemble_reward", "gold_path",
           "correlated_proxy_bound", "DPOSolutionSet", "dpo_solution_set"]


@dataclass(frozen=True)
class FOptimum:
    r"""The maximiser of :math:`\mathbb E_\pi r-\beta D_f(\pi\|q)` found by :func:`f_optimum`.

    .. math::

        \pi_i = q_i\,g\big((r_i-\nu)/\beta\big)\ \ (q_i>0),\qquad \pi(O) = 1-\sum_{q_i>0}\pi_i .

    Attributes
    ----------
    pi : ndarray
        The optimal policy.
    nu : float
        The multiplier of :math:`\sum\pi=1` (normalised generator; reverse KL: :math:`\beta\log Z`; NaN-free: for
        total variation the threshold :math:`r_{\rm dest}-\beta`).
    divergence : float
        :math:`D_f(\pi\|q)` in nats.
    expected_reward : float
    objective : float
        :math:`\mathbb E_\pi r-\beta D_f(\pi\|q)`.
    outside_mass : float
        Mass on responses with :math:`q_i=0`.
    unique : bool
        False when the optimum is not unique (total variation with ties or donors at the threshold, tied rewards
        outside the support); the canonical choice is documented in :func:`f_optimum`.

    References
    ----------
    .. [1] Spec ``regularisers.md`` section 2.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> reg.f_optimum([0.6, 0.4, 0.0], [0.0, 0.5, 1.0], 0.5, "forward_kl").pi.round(12)
    array([0.3, 0.4, 0.3])
    """

    pi: np.ndarray
    nu: float
    divergence: float
    expected_reward: float
    objective: float
    outside_mass: float
    unique: bool


def _root(fun, lo, hi, xtol):
    """Root of a non-increasing function on [lo, hi]; an end point when the sign change is below rounding (rewards
    that differ by less than the float resolution of the normaliser)."""
    if fun(lo) <= 0.0:
        return lo
    if fun(hi) >= 0.0:
        return hi
    return brentq(fun, lo, hi, xtol=xtol, rtol=4 * np.finfo(float).eps)


def _log_u(name, alpha, t=None, log_e=None):
    """log g for a generator with finite slope at infinity b_f: from t = (r - nu) / beta (far from the pole), or
    from log e, e = b_f - t > 0 the distance to the pole (next to it; e may be far below the float range)."""
    if t is not None:  # alpha < 1 only: the pole is below every reward
        return np.log1p((alpha - 1.0) * t) / (alpha - 1.0)
    if name == "forward_kl":
        return -log_e
    if name == "hellinger":
        return -2.0 * log_e
    if name == "js":  # -log(expm1(2e)), with the series log(2e) + e below 1e-8
        e = np.exp(log_e)
        with np.errstate(divide="ignore"):
            far = -(2.0 * e + np.log(-np.expm1(-2.0 * np.maximum(e, 1e-300))))
        return np.where(e < 1e-8, -(math.log(2.0) + log_e + e), far)
    return (math.log(1.0 - alpha) + log_e) / (alpha - 1.0)


def _solve_finite_slope(gen, qs, rs, b):
    """Support-restricted optimum for b_f < inf, returned as the masses q_i g(.) and nu. If the pole
    nu_pole = r_max - beta b_f lies below r_min, Brent on nu in [r_min, r_max]; otherwise nu = nu_pole + delta and
    Brent on log(delta), everything in logs, so that a top response of reference mass 1e-311 is resolved."""
    r_max, r_min = rs.max(), rs.min()
    bf = gen.slope_at_infinity
    log_q = np.log(qs)
    pole = r_max - b * bf
    if gen.alpha is not None and pole < r_min:
        def log_s_nu(nu):
            return float(logsumexp(log_q + _log_u(gen.name, gen.alpha, t=(rs - nu) / b)))

        nu = _root(log_s_nu, r_min, r_max, 1e-15)
        return np.exp(log_q + _log_u(gen.name, gen.alpha, t=(rs - nu) / b)), nu
    with np.errstate(divide="ignore"):
        log_gap = np.log(r_max - rs)

    def log_mass(x):  # log(q_i g), e_i = (delta + gap_i) / beta with delta = e^x
        return log_q + _log_u(gen.name, gen.alpha, log_e=np.logaddexp(x, log_gap) - math.log(b))

    hi = math.log(b * bf)
    x = _root(lambda x: float(logsumexp(log_mass(x))), hi - 2000.0, hi, 1e-14)
    return np.exp(log_mass(x)), pole + math.exp(x)


def _solve_infinite_slope(gen, qs, rs, b):
    """Support-restricted optimum for b_f = inf (alpha > 1): Brent on nu in [r_min, r_max]."""
    def s(nu):
        return float(np.dot(qs, gen.fprime_inv((rs - nu) / b))) - 1.0

    nu = _root(s, rs.min(), rs.max(), 1e-15)
    return gen.fprime_inv((rs - nu) / b), nu


def _chi2(qs, rs, b):
    """Active-set closed form: the support is a top set S, nu = mean_S(r) - 2 beta (1 - Q_S) / Q_S."""
    levels = np.unique(rs)[::-1]
    for top in levels:
        S = rs >= top
        Q = qs[S].sum()
        with np.errstate(over="ignore"):  # a subnormal top mass: nu = -inf, and the next level is tried
            nu = float(np.dot(qs[S], rs[S]) / Q - 2.0 * b * (1.0 - Q) / Q)
        cut = nu - 2.0 * b
        if np.all(rs[S] > cut) and np.all(rs[~S] <= cut):
            return np.maximum(1.0 + (rs - nu) / (2.0 * b), 0.0) * (rs > cut), nu
    raise AssertionError("the chi2 active set always exists")  # the full support satisfies both conditions


def _tv(pp, rr, b):
    """Exchange argument (spec 2.5): donors below r_dest - beta give all their mass to the best response."""
    s = pp > 0
    dest_r = rr.max()
    in_dest = s & (rr == dest_r)
    if not np.any(in_dest):  # the best response is one the reference never produces
        in_dest = (~s) & (rr == dest_r)
    donors = s & (rr < dest_r - b)
    pi = np.where(s & ~donors, pp, 0.0)
    moved = pp[donors].sum()
    if np.any(in_dest & s):
        pi[in_dest] += moved * pp[in_dest] / pp[in_dest].sum()
    else:
        pi[in_dest] += moved / in_dest.sum()
    unique = bool(np.count_nonzero(in_dest) == 1 or moved == 0) and not np.any(s & (rr == dest_r - b))
    return pi, dest_r - b, unique


def f_optimum(q, r, beta, divergence: str = "reverse_kl", *, alpha=None) -> FOptimum:
    r"""The :math:`f`-divergence-regularised optimum on a finite law (spec Theorem 1 and section 2.1-2.5).

    .. math::

        \pi = \arg\max_\pi\ \mathbb E_\pi r-\beta D_f(\pi\|q),\qquad
        \pi_i=q_i\,g\!\Big(\frac{r_i-\nu}{\beta}\Big),\quad \sum_i\pi_i = 1 .

    * ``"reverse_kl"``: :func:`alignsim.tilt`, :math:`\nu=\beta\log Z` (:func:`alignsim.log_partition`);
    * ``"chi2"``: active-set closed form :math:`\pi_i=q_i[1+(r_i-\nu)/(2\beta)]_+` with exact zeros (a response exactly
      at the threshold gets 0);
    * ``"tv"``: exchange closed form; added mass split over the arg-max set in proportion to :math:`q` (uniformly
      outside the support), ``unique=False`` when that or a donor at the threshold makes the optimum non-unique;
    * ``"forward_kl"``, ``"js"``, ``"hellinger"``, ``"alpha"`` with :math:`\alpha<1`: Brent on
      :math:`\log(\nu-\nu_{\rm pole})`, :math:`\nu_{\rm pole}=r_{\max}-\beta f'(\infty)`, with :math:`g` written in the
      distance to the pole (stable for reference masses down to :math:`10^{-300}`);
    * ``"alpha"`` with :math:`\alpha>1`: Brent on :math:`\nu\in[r_{\min},r_{\max}]`.

    When :math:`f'(\infty)<\infty`, responses with :math:`q_i=0` receive the mass left over at
    :math:`\nu=\max(\nu_{\rm in},\,r_O-\beta f'(\infty))` (all of it on the best of them, split uniformly among ties).

    Parameters
    ----------
    q : array_like, shape (K,)
        Reference law (zeros allowed).
    r : array_like, shape (K,)
    beta : float
        :math:`\beta>0`.
    divergence : str
        A name of :data:`alignsim.generators.GENERATOR_NAMES` (JS with the factors 1/2, Hellinger without, the
        :math:`\alpha` family in Amari's convention: :math:`\alpha\to1` reverse KL, :math:`\alpha\to0` forward KL).
    alpha : float, optional
        The order for ``divergence="alpha"``.

    Returns
    -------
    FOptimum

    References
    ----------
    .. [1] Wang et al., arXiv:2309.16240 (KKT form); spec ``regularisers.md`` section 2.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> reg.f_optimum([0.4, 0.3, 0.2, 0.1], [0, 0.5, 1, 1.5], 0.5, "chi2").pi
    array([0.2, 0.3, 0.3, 0.2])
    """
    pp = V.probabilities(q, "q")
    rr = V.rewards(r, "r", size=pp.size)
    b = V.real(beta, "beta", low=0.0, low_open=True)
    gen = generator(divergence, alpha=alpha)
    name = gen.name if gen.alpha is None else ("alpha_lt1" if gen.alpha < 1 else "alpha_gt1")
    s = pp > 0
    unique = True
    if name == "tv":
        pi, nu, unique = _tv(pp, rr, b)
    else:
        qs, rs = pp[s], rr[s]
        if np.ptp(rs) == 0:
            mass_in, nu = qs.copy(), float(rs[0])
        elif name == "reverse_kl":
            mass_in, nu = None, b * log_partition(pp, rr, 1.0 / b)
        elif name == "chi2":
            u, nu = _chi2(qs, rs, b)
            mass_in = qs * u
        elif name == "alpha_gt1":
            u, nu = _solve_infinite_slope(gen, qs, rs, b)
            mass_in = qs * u
        else:
            mass_in, nu = _solve_finite_slope(gen, qs, rs, b)
        pi = tilt(pp, rr, b) if mass_in is None else np.zeros_like(pp)
        if mass_in is not None:
            pi[s] = mass_in
        bf = gen.slope_at_infinity
        outside = ~s
        if math.isfinite(bf) and np.any(outside):
            r_o = rr[outside].max()
            if r_o - b * bf > nu:  # a unit of mass outside costs beta b_f: cheaper than the marginal inside
                nu = r_o - b * bf
                pi[s] = qs * gen.fprime_inv((rs - nu) / b)
                best = outside & (rr == r_o)
                pi[best] = max(1.0 - pi[s].sum(), 0.0) / best.sum()
                unique = bool(best.sum() == 1)
    pi = pi / pi.sum()  # removes the root's and the exchange's rounding (p = 1 + 2e-16 otherwise)
    div = f_divergence(pi, pp, gen.name if gen.alpha is None else "alpha", alpha=gen.alpha)
    reward = float(np.dot(pi, rr))
    return FOptimum(pi, float(nu), float(div), reward, reward - b * float(div), float(pi[~s].sum()), unique)


_ON = ("own", "reward", "reverse_kl", "forward_kl")


def _beta_root(f, lo, hi, target, what):
    """Root in log(beta) of a quantity that decreases with beta (f = quantity - target), with a clear error when
    [lo, hi] does not bracket it."""
    x_lo, x_hi = math.log(lo), math.log(hi)
    f_lo, f_hi = f(x_lo), f(x_hi)
    if not (f_hi <= 0.0 <= f_lo):
        raise ValueError(f"{what} for beta in [{lo:g}, {hi:g}]: the path spans [{f_hi + target:.6g}, "
                         f"{f_lo + target:.6g}]")
    return math.exp(brentq(f, x_lo, x_hi, xtol=1e-13, rtol=4 * np.finfo(float).eps))


def _measure(opt, pp, on):
    if on == "own":
        return opt.divergence
    if on == "reward":
        return opt.expected_reward
    return float(kl(opt.pi, pp)) if on == "reverse_kl" else float(kl(pp, opt.pi))


def beta_for(q, r, divergence: str, target, *, on: str = "own", alpha=None) -> float:
    r""":math:`\beta` at which the :math:`f`-regularised optimum reaches a target divergence, KL or reward.

    .. math::

        m(\pi_\beta) = \text{target},\qquad m\in\{D_f,\ \mathbb E r,\ \mathrm{KL}(\pi\|q),\ \mathrm{KL}(q\|\pi)\},

    each decreasing in :math:`\beta` along the path; Brent's method in :math:`\log\beta` after bracketing.
    ``ValueError`` if the target is not attained for :math:`\beta\in[10^{-8}, 10^{8}]` (e.g. above
    :math:`D_f^{\max}` or above :math:`r_{\max}`).

    Parameters
    ----------
    q, r : array_like
    divergence : str
    target : float
    on : {"own", "reward", "reverse_kl", "forward_kl"}
        What the target measures (``"own"``: the regulariser's divergence).
    alpha : float, optional

    References
    ----------
    .. [1] Spec ``regularisers.md`` section 2.4 (compare regularisers at matched reward or matched divergence).

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> b = reg.beta_for([0.4, 0.3, 0.2, 0.1], [0, 0.5, 1, 1.5], "chi2", 0.75, on="reward")
    >>> round(b, 10)
    0.5
    """
    pp = V.probabilities(q, "q")
    V.choice(on, "on", _ON)
    t = V.real(target, "target")

    def f(x):
        return _measure(f_optimum(pp, r, math.exp(x), divergence, alpha=alpha), pp, on) - t

    return _beta_root(f, 1e-8, 1e8, t, f"target={t!r} ({on}) is not attained by the {divergence} optimum")


def frontier(q, r, divergences=("reverse_kl", "forward_kl", "js", "chi2", "hellinger"), betas=None):
    r"""The reward/divergence trade-off of several regularisers over a sweep of :math:`\beta`, as a table.

    .. math::

        \beta\mapsto\big(D_f(\pi_\beta\|q),\ \mathrm{KL}(\pi_\beta\|q),\ \mathrm{KL}(q\|\pi_\beta),\ \mathbb E_{\pi_\beta}r\big),
        \qquad \frac{d\,\mathbb E r}{dD_f}=\beta .

    Plotted against :math:`\mathrm{KL}(\pi\|q)` the reverse-KL curve dominates every other; against
    :math:`\mathrm{KL}(q\|\pi)` the forward-KL curve does (spec section 2.4): always say which axis.

    Parameters
    ----------
    q, r : array_like
    divergences : iterable of str
    betas : array_like, optional
        Default: 60 values from 1e-2 to 1e2 times the reward range.

    Returns
    -------
    pandas.DataFrame
        Columns ``divergence, beta, own_divergence, kl_reverse, kl_forward, reward`` (``inf`` where a KL is
        infinite, never NaN).

    References
    ----------
    .. [1] Spec ``regularisers.md`` section 2.4.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> df = reg.frontier([0.4, 0.3, 0.2, 0.1], [0, 0.5, 1, 1.5], ["chi2"], [0.5])
    >>> df[["own_divergence", "reward"]].round(6).values.tolist()
    [[0.25, 0.75]]
    """
    import pandas as pd

    pp = V.probabilities(q, "q")
    rr = V.rewards(r, "r", size=pp.size)
    if betas is None:
        spread = max(float(np.ptp(rr[pp > 0])), 1e-12)
        betas = spread * np.geomspace(1e-2, 1e2, 60)
    bs = V.real_array(betas, "betas", low=0.0, low_open=True).ravel()
    rows = []
    for d in divergences:
        for b in bs:
            opt = f_optimum(pp, rr, b, d)
            rows.append((d, float(b), opt.divergence, float(kl(opt.pi, pp)), float(kl(pp, opt.pi)),
                         opt.expected_reward))
    return pd.DataFrame(rows, columns=["divergence", "beta", "own_divergence", "kl_reverse", "kl_forward", "reward"])


# --------------------------------------------------------------------------------------------------------------
# Binary reward and pass@k (spec section 3)
# --------------------------------------------------------------------------------------------------------------
def binary_success(p0, beta, divergence: str = "reverse_kl", *, delta: float = 1.0, alpha=None) -> float:
    r"""Success probability :math:`p=\pi(\text{correct})` of the :math:`f`-regularised optimum for a binary reward
    :math:`r\in\{0,\Delta\}` with reference success rate :math:`p_0`.

    .. math::

        \text{reverse KL: } p=\frac{p_0e^{\Delta/\beta}}{p_0e^{\Delta/\beta}+1-p_0},\qquad
        \chi^2:\ p=\min\{1,\,p_0+p_0(1-p_0)\Delta/(2\beta)\},

    and :func:`f_optimum` on the two atoms in general. Within the correct (and the wrong) responses every optimum is
    proportional to the reference, so a single prompt's pass@k depends on the regulariser only through :math:`p`
    (spec section 3). :math:`p_0=0` gives the hard-prompt limit (:func:`hard_prompt_limit`).

    Parameters
    ----------
    p0 : float
        Reference success rate in [0, 1].
    beta : float
    divergence : str
    delta : float
        Reward of a correct response, > 0.
    alpha : float, optional

    References
    ----------
    .. [1] Spec ``regularisers.md`` section 3; Li et al., "DPH-RL", arXiv:2509.07430.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> round(reg.binary_success(0.1, 0.5, "forward_kl"), 9)
    0.585410197
    """
    p = V.real(p0, "p0", low=0.0, high=1.0)
    d = V.real(delta, "delta", low=0.0, low_open=True)
    return float(f_optimum([1.0 - p, p], [0.0, d], beta, divergence, alpha=alpha).pi[1])


def hard_prompt_limit(beta, divergence: str = "reverse_kl", *, delta: float = 1.0, alpha=None) -> float:
    r"""Limit of :func:`binary_success` as the reference success rate :math:`p_0\to0` at fixed :math:`\beta`.

    .. math::

        1-\frac\beta\Delta\ (\text{forward KL}),\quad 1-\frac{\beta^2}{\Delta^2}\ (\text{Hellinger}),\quad
        1-\frac1{e^{2\Delta/\beta}-1}\ (\text{JS}),\quad
        1-\Big(\frac{\beta}{(1-\alpha)\Delta}\Big)^{\frac1{1-\alpha}}\ (\alpha<1),

    floored at 0; 0 for reverse KL, :math:`\chi^2` and :math:`\alpha>1` (their :math:`f'(\infty)=\infty`: a response
    the reference never produces costs infinitely much). Computed as the optimum with :math:`p_0=0` (spec
    section 2.2), which equals these closed forms.

    References
    ----------
    .. [1] Spec ``regularisers.md`` section 3 (hard-prompt limit).

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> round(reg.hard_prompt_limit(0.5, "hellinger"), 12)
    0.75
    """
    return binary_success(0.0, beta, divergence, delta=delta, alpha=alpha)


def _mixture(p0s, weights):
    ps = V.real_array(p0s, "p0s", low=0.0, high=1.0).ravel()
    if ps.size == 0:
        raise ValueError("p0s must list at least one prompt")
    w = np.full(ps.size, 1.0 / ps.size) if weights is None else V.probabilities(weights, "weights")
    if w.size != ps.size:
        raise ValueError(f"weights must have one entry per prompt ({ps.size}), got {w.size}")
    return ps, w


def mixture_pass_at_k(p0s, beta, divergence: str, ks, *, weights=None, delta: float = 1.0, alpha=None):
    r"""Aggregate pass@k over prompts that share one :math:`\beta`: :math:`\sum_xw_x[1-(1-p_x)^k]`, with
    :math:`p_x` = :func:`binary_success` of prompt :math:`x`.

    .. math::

        \mathrm{pass@}k=\sum_x w_x\big[1-(1-p_x(\beta))^k\big].

    Because :math:`1-(1-p)^k` is concave in :math:`p`, at matched aggregate pass@1 (:func:`match_pass1`) a
    regulariser that spreads its gain to hard prompts wins at every :math:`k\ge2` (spec V13).

    Parameters
    ----------
    p0s : array_like
        Reference success rate of each prompt.
    beta : float
    divergence : str
    ks : int or array_like
    weights : array_like, optional
        Prompt weights (default equal).

    Returns
    -------
    float or ndarray

    References
    ----------
    .. [1] Spec ``regularisers.md`` section 3; Chen et al., arXiv:2107.03374 (pass@k).

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> round(reg.mixture_pass_at_k([0.1, 0.5], 1.0, "reverse_kl", 1), 6)
    0.481514
    """
    from .dynamics import pass_at_k

    ps, w = _mixture(p0s, weights)
    succ = np.array([binary_success(p, beta, divergence, delta=delta, alpha=alpha) for p in ps])
    kk = np.atleast_1d(V.real_array(ks, "ks", low=1.0))
    out = np.array([float(np.dot(w, pass_at_k(succ, k))) for k in kk.ravel()])
    return float(out[0]) if np.ndim(ks) == 0 else out


def match_pass1(p0s, target, divergence: str, *, weights=None, delta: float = 1.0, alpha=None) -> float:
    r""":math:`\beta` at which the aggregate pass@1 of :func:`mixture_pass_at_k` equals ``target`` (Brent in
    :math:`\log\beta`; pass@1 decreases in :math:`\beta`).

    .. math::

        \sum_xw_x\,p_x(\beta)=\text{target}.

    ``ValueError`` when the target is outside the range reached for :math:`\beta\in[10^{-6},10^{6}]`.

    References
    ----------
    .. [1] Spec ``regularisers.md`` section 3 (compare regularisers at matched pass@1).

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> round(reg.match_pass1([0.001, 0.01, 0.05, 0.2, 0.5, 0.8], 0.6, "chi2"), 8)
    0.05417347
    """
    ps, w = _mixture(p0s, weights)
    t = V.real(target, "target", low=0.0, high=1.0)

    def f(x):
        return float(np.dot(w, [binary_success(p, math.exp(x), divergence, delta=delta, alpha=alpha)
                                for p in ps])) - t

    return _beta_root(f, 1e-6, 1e6, t, f"target={t!r} is not an aggregate pass@1 of the {divergence} optima")


# --------------------------------------------------------------------------------------------------------------
# Identities (spec section 5)
# --------------------------------------------------------------------------------------------------------------
def kl_posterior_gap(pi, q, r, beta) -> tuple[float, float]:
    r"""Both sides of the variational identity of KL-regularised RL (Korbak et al.):

    .. math::

        \mathbb E_\pi r-\beta\,\mathrm{KL}(\pi\|q) = \beta\log Z-\beta\,\mathrm{KL}(\pi\|\pi^\star),\qquad
        \pi^\star = q\,e^{r/\beta}/Z,

    so the objective gap of any policy is :math:`\beta\,\mathrm{KL}(\pi\|\pi^\star)` and :math:`\max J=\beta\log Z`.

    Returns
    -------
    (objective, right_hand_side) : tuple of float
        Computed independently (the left from :func:`alignsim.kl` to ``q``, the right from the partition function
        and :func:`alignsim.kl` to the tilt); ``inf`` / ``-inf`` when ``pi`` leaves the support of ``q``.

    References
    ----------
    .. [1] T. Korbak, E. Perez, C. L. Buckley, "RL with KL penalties is better viewed as Bayesian inference",
       Findings of EMNLP 2022.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> lhs, rhs = reg.kl_posterior_gap([0.25] * 4, [0.4, 0.3, 0.2, 0.1], [0, 0.5, 1, 1.5], 0.5)
    >>> abs(lhs - rhs) < 1e-14
    True
    """
    ppi = V.probabilities(pi, "pi")
    pp, rr = V.policy_and_rewards(q, r, "q", "r")
    V.same_shape(ppi, pp, "pi", "q")
    b = V.real(beta, "beta", low=0.0, low_open=True)
    lhs = float(np.dot(ppi, rr)) - b * float(kl(ppi, pp))
    rhs = b * float(log_partition(pp, rr, 1.0 / b)) - b * float(kl(ppi, tilt(pp, rr, b)))
    return lhs, rhs


def geometric_mixture(p_ref, p_other, w) -> tuple[np.ndarray, float]:
    r"""Normalised geometric mixture :math:`\pi_w\propto p_{\rm ref}^{1-w}\,p_{\rm other}^{w}` and its
    :math:`\log Z_w`, for any real :math:`w`.

    .. math::

        \pi_w = \frac{p_{\rm ref}^{1-w}p_{\rm other}^w}{Z_w},\qquad
        p_{\rm other}=\pi^\star_\beta\ \Rightarrow\ \pi_w=\pi^\star_{\beta/w}.

    The optimum of on-policy distillation with reward scale :math:`w` (G-OPD: :math:`w=1` is the teacher,
    :math:`w>1` extrapolates) and RL guidance (RLG: guidance weight :math:`w` is the KL coefficient
    :math:`\beta/w`). Supports are validated: :math:`w>1` needs :math:`\mathrm{supp}\,p_{\rm other}\subseteq
    \mathrm{supp}\,p_{\rm ref}`, :math:`w<0` the reverse (otherwise a power of 0 is infinite). For a memoryless
    LM the per-token mixture is the sequence-level optimum; for general autoregressive models it is not.

    Returns
    -------
    (pi, log_z) : (ndarray, float)

    References
    ----------
    .. [1] Yang et al., "G-OPD/ExOPD", arXiv:2602.12125; Jin et al., "RL guidance", arXiv:2508.21016; spec
       ``regularisers.md`` sections 5.2-5.3.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> pi, log_z = reg.geometric_mixture([0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4], 0.5)
    >>> [round(float(x), 10) for x in pi]
    [0.2247448714, 0.2752551286, 0.2752551286, 0.2247448714]
    """
    a_ = V.probabilities(p_ref, "p_ref")
    b_ = V.probabilities(p_other, "p_other")
    V.same_shape(a_, b_, "p_ref", "p_other")
    ww = V.real(w, "w")
    if ww > 1 and np.any((b_ > 0) & (a_ == 0)):
        raise ValueError("w > 1 needs the support of p_other inside the support of p_ref (p_ref^(1-w) is infinite "
                         "where p_ref = 0)")
    if ww < 0 and np.any((a_ > 0) & (b_ == 0)):
        raise ValueError("w < 0 needs the support of p_ref inside the support of p_other")
    with np.errstate(divide="ignore"):
        la, lb = np.log(a_), np.log(b_)
    if ww == 0:
        logw = la
    elif ww == 1:
        logw = lb
    else:
        logw = np.where((a_ > 0) & (b_ > 0), (1 - ww) * la + ww * lb, -np.inf)
    log_z = float(logsumexp(logw))
    return np.exp(logw - log_z), log_z


def implicit_reward(pi, q, beta) -> np.ndarray:
    r"""The implicit reward :math:`\beta\log(\pi_i/q_i)` (DPO); at the KL optimum it equals
    :math:`r_i-\beta\log Z`, the reward up to one constant.

    .. math::

        \beta\log\frac{\pi^\star_i}{q_i} = r_i-\beta\log Z .

    ``-inf`` where ``pi`` is 0 and ``q`` is not; ``ValueError`` where ``q`` is 0 and ``pi`` is not.

    References
    ----------
    .. [1] R. Rafailov et al., "Direct preference optimization", NeurIPS 2023; spec ``regularisers.md`` 5.4.

    Examples
    --------
    >>> import alignsim as a
    >>> from alignsim import regularisers as reg
    >>> q, r = [0.4, 0.3, 0.2, 0.1], [0, 0.5, 1, 1.5]
    >>> [round(float(x), 12) for x in r - reg.implicit_reward(a.tilt(q, r, 0.5), q, 0.5)]
    [0.773977966789, 0.773977966789, 0.773977966789, 0.773977966789]
    """
    ppi = V.probabilities(pi, "pi")
    pp = V.probabilities(q, "q")
    V.same_shape(ppi, pp, "pi", "q")
    b = V.real(beta, "beta", low=0.0, low_open=True)
    if np.any((pp == 0) & (ppi > 0)):
        raise ValueError("pi puts mass where q is 0: the implicit reward is +inf there")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = b * (np.log(ppi) - np.log(pp))
    out[pp == 0] = -np.inf
    return out


def single_token_reward(p_token, r, beta) -> dict:
    r"""LaSeR-style "last-token" reward: one verification token :math:`z_c` rewarded with :math:`r`, every other
    token with 0; the optimum's log-ratio on :math:`z_c` recovers :math:`r` only up to :math:`\beta\log Z_y`.

    .. math::

        \pi^\star(z_c)=\frac{p\,e^{r/\beta}}{Z_y},\quad Z_y = 1+p\,(e^{r/\beta}-1),\qquad
        r=\beta\log\frac{\pi^\star(z_c)}{p}+\beta\log Z_y .

    The approximation "reward = :math:`\beta` times the log-ratio" errs by :math:`\beta\log Z_y`, small only when
    :math:`p\,e^{r/\beta}\ll1`. The setup is a reconstruction (spec 5.4 [R]); the identity is exact.

    Parameters
    ----------
    p_token : float
        Reference probability of :math:`z_c`, in (0, 1).
    r : float
    beta : float

    Returns
    -------
    dict
        ``pi_token``, ``log_ratio_reward`` (:math:`\beta\log(\pi^\star/p)`), ``correction``
        (:math:`\beta\log Z_y`), ``reward`` (their sum, equal to ``r``).

    References
    ----------
    .. [1] Yang et al., "LaSeR", arXiv:2510.14943; spec ``regularisers.md`` section 5.4.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> out = reg.single_token_reward(1e-4, 1.0, 0.1)
    >>> round(out["pi_token"], 10), round(out["log_ratio_reward"], 10)
    (0.6877797168, 0.8836053701)
    """
    p = V.real(p_token, "p_token", low=0.0, high=1.0, low_open=True, high_open=True)
    rr = V.real(r, "r")
    b = V.real(beta, "beta", low=0.0, low_open=True)
    x = rr / b
    # log Z = log(1 + p (e^x - 1)), stable for large x
    log_z = (x + math.log(p) + math.log1p((1.0 - p) * math.exp(-x) / p)) if x > 0 else math.log1p(p * math.expm1(x))
    log_pi = math.log(p) + x - log_z
    return {"pi_token": math.exp(log_pi), "log_ratio_reward": b * (log_pi - math.log(p)), "correction": b * log_z,
            "reward": b * (log_pi - math.log(p)) + b * log_z}


def _preferences(P, k):
    PP = np.array(P, dtype=float)
    if PP.shape != (k, k):
        raise ValueError(f"P must be a ({k}, {k}) preference matrix, got shape {PP.shape}")
    if not np.all(np.isfinite(PP)) or np.any(PP < 0) or np.any(PP > 1):
        raise ValueError("P must have entries in [0, 1]")
    if np.max(np.abs(PP + PP.T - 1.0)) > 1e-12:
        raise ValueError("P must satisfy P + P^T = 1 (P[i, j] = Pr(y_i beats y_j), ties one half on the diagonal)")
    return PP


def nash_gap(P, q, tau, pi) -> float:
    r"""Duality gap of a policy in the KL-regularised preference game (zero exactly at the Nash equilibrium).

    .. math::

        \mathrm{gap}(\pi)=\tau\log\sum_yq_ye^{P(y\succ\pi)/\tau}-\tfrac12+\tau\,\mathrm{KL}(\pi\|q)\ \ge0,
        \qquad P(y\succ\pi)=\sum_jP_{yj}\pi_j .

    References
    ----------
    .. [1] Zhang et al., "Iterative Nash policy optimization (INPO)", arXiv:2407.00617; spec ``regularisers.md`` 5.5.

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim import regularisers as reg
    >>> rps = np.array([[0.5, 1, 0], [0, 0.5, 1], [1, 0, 0.5]])
    >>> reg.nash_gap(rps, [1/3] * 3, 0.5, [1/3] * 3) < 1e-15
    True
    """
    pp = V.probabilities(q, "q")
    PP = _preferences(P, pp.size)
    t = V.real(tau, "tau", low=0.0, low_open=True)
    ppi = V.probabilities(pi, "pi")
    V.same_shape(ppi, pp, "pi", "q")
    return float(t * log_partition(pp, PP @ ppi, 1.0 / t) - 0.5 + t * float(kl(ppi, pp)))


def nash_kl(P, q, tau, *, steps: int = 20_000, eta: float = 0.5, tol: float = 1e-15) -> np.ndarray:
    r"""Nash equilibrium of the KL-regularised two-player preference game (symmetric, unique).

    .. math::

        \max_\pi\min_{\pi'}\ \pi^\top P\pi'-\tau\mathrm{KL}(\pi\|q)+\tau\mathrm{KL}(\pi'\|q),\qquad
        \pi_\tau(y)\propto q(y)\,e^{P(y\succ\pi_\tau)/\tau}.

    Online mirror descent (INPO-type), :math:`\log\pi_{t+1}=(1-\eta\tau)\log\pi_t+\eta\tau\log q+\eta P\pi_t`
    (normalised), then Newton on the fixed-point equation in the logits to machine precision; the plain fixed point
    oscillates for small :math:`\tau` and is not used. ``ValueError`` unless :func:`nash_gap` falls below
    ``1e-12``. With Bradley-Terry preferences the equilibrium is **not** the RLHF tilt :math:`qe^{r/\tau}`.

    Parameters
    ----------
    P : array_like, shape (K, K)
        :math:`P_{ij}=\Pr(y_i\succ y_j)`, with :math:`P+P^\top=1`.
    q : array_like, shape (K,)
        Reference, positive.
    tau : float
    steps, eta, tol
        Mirror-descent budget, step and stopping change.

    References
    ----------
    .. [1] Zhang et al., INPO, arXiv:2407.00617; Munos et al., "Nash learning from human feedback", ICML 2024.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> P = [[0.5, 0.3775406688, 0.2689414214], [0.6224593312, 0.5, 0.3775406688],
    ...      [0.7310585786, 0.6224593312, 0.5]]
    >>> reg.nash_kl(P, [0.5, 0.3, 0.2], 0.5).round(6)
    array([0.416417, 0.316837, 0.266746])
    """
    from scipy.optimize import root

    pp = V.probabilities(q, "q")
    if np.any(pp == 0):
        raise ValueError("q must be positive (the equilibrium has the support of q; drop responses with q = 0)")
    PP = _preferences(P, pp.size)
    t = V.real(tau, "tau", low=0.0, low_open=True)
    e = V.real(eta, "eta", low=0.0, low_open=True)
    if e * t >= 1:
        raise ValueError(f"eta * tau must be < 1 for mirror descent, got {e * t!r}")
    log_q = np.log(pp)
    logits = log_q.copy()
    for _ in range(V.length(steps, "steps")):
        new = (1 - e * t) * logits + e * t * log_q + e * (PP @ np.exp(logits))
        new -= logsumexp(new)
        done = np.max(np.abs(new - logits)) < tol
        logits = new
        if done:
            break

    def residual(z):
        lg = np.append(z, 0.0)
        pi = np.exp(lg - logsumexp(lg))
        target = log_q + PP @ pi / t
        return (lg - target)[:-1] - (lg - target)[-1]

    sol = root(residual, logits[:-1] - logits[-1], method="hybr", options={"xtol": 1e-15})
    z = np.append(sol.x, 0.0)
    pi = np.exp(z - logsumexp(z))
    if nash_gap(PP, pp, t, pi) > 1e-12:
        raise ValueError("the Nash solver did not reach a duality gap below 1e-12; raise steps or lower eta")
    return pi


# --------------------------------------------------------------------------------------------------------------
# Reward hacking (spec section 4)
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GoodhartToy:
    r"""A bandit with a gold reward and proxy rewards that agree except on rare "hack" responses.

    .. math::

        \tilde r = r^\star\ \text{on honest responses},\qquad \tilde r_{\rm hack}\gg r^\star_{\rm hack} = -1 .

    Attributes
    ----------
    q : ndarray
        Reference law.
    gold : ndarray
    proxies : ndarray, shape (M, K)
        One row per reward model (``M = 1`` for G1).

    References
    ----------
    .. [1] Spec ``regularisers.md`` sections 4.2-4.3 (toys G1, G2); Gao, Schulman, Hilton, ICML 2023.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> toy = reg.goodhart_toy("G1")
    >>> round(float(toy.q @ toy.gold), 6), toy.proxies.shape
    (-0.003, (1, 103))
    """

    q: np.ndarray
    gold: np.ndarray
    proxies: np.ndarray

    @property
    def proxy(self) -> np.ndarray:
        """The single proxy (first reward model)."""
        return self.proxies[0]


def goodhart_toy(kind: str = "G1", *, eps: float = 0.003, hack_reward: float | None = None,
                 n_honest: int = 100) -> GoodhartToy:
    r"""The exact Goodhart toys of spec section 4: ``n_honest`` honest responses with
    :math:`r^\star=\tilde r=\Phi^{-1}((i-\frac12)/n)` and mass :math:`(1-\varepsilon)/n`, and three hack responses of
    mass :math:`\varepsilon/3` and gold :math:`-1`.

    .. math::

        \text{G1: } \tilde r_{\rm hack}=(c,-1,-1),\ c=4;\qquad
        \text{G2: member } m \text{ gives hack } m \text{ the proxy } 12 \text{ and the others } -1 .

    Under the reference G1's proxy has correlation 0.987 with the gold reward and is still hacked.

    Parameters
    ----------
    kind : {"G1", "G2"}
    eps : float
        Total mass of the hacks, in (0, 1).
    hack_reward : float, optional
        The hack's proxy reward (default 4 for G1, 12 for G2).
    n_honest : int

    References
    ----------
    .. [1] Spec ``regularisers.md`` sections 4.2-4.3; Laidlaw, Singhal, Dragan, arXiv:2403.03185; Coste et al.,
       arXiv:2310.02743.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> reg.goodhart_toy("G2").proxies.shape
    (3, 103)
    """
    from scipy.stats import norm

    V.choice(kind, "kind", ("G1", "G2"))
    e = V.real(eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True)
    n = V.length(n_honest, "n_honest")
    honest = norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    q = np.concatenate((np.full(n, (1 - e) / n), np.full(3, e / 3)))
    gold = np.concatenate((honest, [-1.0, -1.0, -1.0]))
    c = V.real(hack_reward if hack_reward is not None else (4.0 if kind == "G1" else 12.0), "hack_reward")
    if kind == "G1":
        proxies = np.concatenate((honest, [c, -1.0, -1.0]))[None, :]
    else:
        proxies = np.array([np.concatenate((honest, np.where(np.arange(3) == m, c, -1.0))) for m in range(3)])
    return GoodhartToy(q, gold, proxies)


_RULES = ("mean", "wco", "uwo")


def ensemble_reward(members, rule: str = "mean", *, lam: float = 0.0, ddof: int = 0) -> np.ndarray:
    r"""Aggregate an ensemble of reward models per response (Coste et al.).

    .. math::

        \text{mean: }\bar r,\qquad \text{wco: }\min_m\tilde r^{(m)},\qquad
        \text{uwo: }\bar r-\lambda\,\frac{1}{M-\mathrm{ddof}}\sum_m(\tilde r^{(m)}-\bar r)^2 .

    The variance normalisation of UWO (``ddof`` 0 or 1) is unconfirmed in the source (spec pitfall 12): it is a
    parameter.

    Parameters
    ----------
    members : array_like, shape (M, K)
    rule : {"mean", "wco", "uwo"}
    lam : float
        UWO's weight, >= 0.
    ddof : int

    References
    ----------
    .. [1] T. Coste, U. Anwar, R. Kirk, D. Krueger, "Reward model ensembles help mitigate overoptimization",
       ICLR 2024, arXiv:2310.02743.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> reg.ensemble_reward([[1.0, 0.0], [3.0, 0.0]], "uwo", lam=0.5)
    array([1.5, 0. ])
    """
    M = np.array(members, dtype=float)
    if M.ndim != 2 or M.shape[0] < 1 or not np.all(np.isfinite(M)):
        raise ValueError(f"members must be a finite (M, K) array, got shape {M.shape}")
    V.choice(rule, "rule", _RULES)
    if rule == "mean":
        return M.mean(axis=0)
    if rule == "wco":
        return M.min(axis=0)
    lm = V.real(lam, "lam", low=0.0)
    if ddof not in (0, 1) or M.shape[0] - ddof < 1:
        raise ValueError(f"ddof must be 0 or 1 (and less than the number of members), got {ddof!r}")
    return M.mean(axis=0) - lm * M.var(axis=0, ddof=ddof)


def gold_path(q, proxy, gold, method: str = "kl", grid=None, *, alpha=None):
    r"""Gold and proxy rewards along an optimisation path on the proxy: a :math:`\beta` sweep of an
    :math:`f`-regularised optimum (``method`` a divergence name, ``"kl"`` for reverse KL) or best-of-N under the
    proxy (``"bon"``, ties broken at random), all exact.

    .. math::

        \big(\mathrm{KL}(\pi\|q),\ \mathbb E_\pi\tilde r,\ \mathbb E_\pi r^\star,\ \pi(\tilde r>r^\star)\big)
        \quad\text{along}\quad \pi_\beta\propto\dots\ \text{or}\ \pi_N .

    Parameters
    ----------
    q, proxy, gold : array_like, shape (K,)
    method : str
        ``"kl"``/``"reverse_kl"``, another divergence of :func:`f_optimum`, or ``"bon"``.
    grid : array_like, optional
        Values of :math:`\beta` (default 200 from 50 down to 0.002) or of :math:`N` (default 1..4096).

    Returns
    -------
    pandas.DataFrame
        ``param, kl, sqrt_kl, own_divergence, proxy, gold, hack_mass`` (hack mass: on responses whose proxy exceeds
        their gold reward).

    References
    ----------
    .. [1] Gao, Schulman, Hilton, "Scaling laws for reward model overoptimization", ICML 2023; spec section 4.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> toy = reg.goodhart_toy("G1")
    >>> df = reg.gold_path(toy.q, toy.proxy, toy.gold, "bon", [2, 81])
    >>> df["gold"].round(6).tolist()
    [0.557013, 2.075731]
    """
    import pandas as pd

    from .bon import bon_kl, bon_law

    pp = V.probabilities(q, "q")
    pr = V.rewards(proxy, "proxy", size=pp.size)
    gd = V.rewards(gold, "gold", size=pp.size)
    hack = pr > gd
    rows = []
    if method == "bon":
        ns = np.unique(np.round(np.geomspace(1, 4096, 120)).astype(int)) if grid is None else grid
        for N in ns:
            law = bon_law(pp, pr, N)
            k = bon_kl(pp, pr, N)
            rows.append((N, k, math.sqrt(max(k, 0.0)), k, float(law @ pr), float(law @ gd), float(law[hack].sum())))
    else:
        name = "reverse_kl" if method == "kl" else method
        bs = np.geomspace(50.0, 0.002, 200) if grid is None else grid
        for b in bs:
            opt = f_optimum(pp, pr, b, name, alpha=alpha)
            k = float(kl(opt.pi, pp))
            rows.append((float(b), k, math.sqrt(k) if math.isfinite(k) else math.inf, opt.divergence,
                         opt.expected_reward, float(opt.pi @ gd), float(opt.pi[hack].sum())))
    return pd.DataFrame(rows, columns=["param", "kl", "sqrt_kl", "own_divergence", "proxy", "gold", "hack_mass"])


def correlated_proxy_bound(pi, q, proxy, gold) -> float:
    r"""Lower bound on the gold gain of any policy from its proxy gain and its :math:`\chi^2` divergence.

    .. math::

        \mathbb E_\pi r^\star-\mathbb E_qr^\star\ \ge\ \frac{\sigma_{r^\star}}{\sigma_{\tilde r}}
        \Big[\rho\,(\mathbb E_\pi\tilde r-\mathbb E_q\tilde r)-\sigma_{\tilde r}\sqrt{1-\rho^2}\sqrt{\chi^2(\pi\|q)}\Big],

    :math:`\rho,\sigma` the correlation and standard deviations under :math:`q` (Cauchy-Schwarz; spec 4.4, derived).
    Maximising the right side is a :math:`\sqrt{\chi^2}`-penalised objective with weight
    :math:`\lambda=\sigma_{\tilde r}\sqrt{1-\rho^2}/\rho`; the summary of Laidlaw et al. quotes
    :math:`\sigma_{\tilde R}\sqrt{1-r^2}` without the :math:`1/\rho` — the constant is an open question (we implement
    our derivation). ``-inf`` when ``pi`` leaves the support of ``q``.

    References
    ----------
    .. [1] C. Laidlaw, S. Singhal, A. Dragan, "Correlated proxies: a new definition and improved mitigation for
       reward hacking", ICLR 2025, arXiv:2403.03185; spec ``regularisers.md`` section 4.4.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> reg.correlated_proxy_bound([0.5, 0.5], [0.5, 0.5], [0.0, 1.0], [0.0, 2.0])
    0.0
    """
    ppi = V.probabilities(pi, "pi")
    pp = V.probabilities(q, "q")
    V.same_shape(ppi, pp, "pi", "q")
    pr = V.rewards(proxy, "proxy", size=pp.size)
    gd = V.rewards(gold, "gold", size=pp.size)
    chi2 = f_divergence(ppi, pp, "chi2")
    if not math.isfinite(chi2):
        return -math.inf
    mp, mg = pp @ pr, pp @ gd
    sp, sg = math.sqrt(pp @ (pr - mp) ** 2), math.sqrt(pp @ (gd - mg) ** 2)
    if sp == 0 or sg == 0:
        raise ValueError("proxy and gold must both vary under q")
    rho = float(pp @ ((pr - mp) * (gd - mg))) / (sp * sg)
    return sg / sp * (rho * float(ppi @ pr - mp) - sp * math.sqrt(max(1 - rho * rho, 0.0)) * math.sqrt(chi2))


# --------------------------------------------------------------------------------------------------------------
# DPO under partial coverage (spec section 5.6)
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DPOSolutionSet:
    r"""The minimisers of the DPO loss on a comparison graph (see :func:`dpo_solution_set`).

    .. math::

        \{\pi\propto q\,e^{h/\beta}:\ h=\hat h+c_k\ \text{on component }k,\ h\ \text{free on uncovered responses}\}.

    Attributes
    ----------
    bt_mle : ndarray
        Bradley-Terry MLE :math:`\hat h` (0 at the lowest-index response of each component, 0 on uncovered ones).
    components : list of ndarray
        Connected components of the comparison graph (responses compared at least once).
    uncovered : ndarray of bool
        Responses never compared: their mass is not identified by the data.
    loss : float
        The DPO loss at every minimiser.
    gd_limit : ndarray
        Limit of tabular-softmax gradient descent from logits :math:`\log q` (logit sum of each component
        conserved, uncovered logits unchanged).
    min_kl : ndarray
        The minimiser closest to :math:`q` in KL (each component and the uncovered set keep their reference mass).
    beta : float
    q : ndarray

    References
    ----------
    .. [1] Y. Song et al., "The importance of online data: understanding preference fine-tuning via coverage",
       NeurIPS 2024, arXiv:2406.01462; spec ``regularisers.md`` section 5.6.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> sol = reg.dpo_solution_set([0.45, 0.05, 0.5], [(1, 0, 3), (0, 1, 1)], 1.0)
    >>> sol.min_kl.round(6)
    array([0.375, 0.125, 0.5  ])
    """

    bt_mle: np.ndarray
    components: list
    uncovered: np.ndarray
    loss: float
    gd_limit: np.ndarray
    min_kl: np.ndarray
    beta: float
    q: np.ndarray

    def online_rlhf(self, extension) -> np.ndarray:
        r"""Online RLHF with a reward model equal to :math:`\hat h` on covered responses and ``extension`` (a
        scalar or one value per uncovered response) elsewhere: :math:`\pi\propto q\,e^{\hat r/\beta}`."""
        ext = V.real_array(extension, "extension").ravel()
        r_hat = self.bt_mle.copy()
        n_unc = int(self.uncovered.sum())
        if ext.size not in (1, n_unc):
            raise ValueError(f"extension must be a scalar or have {n_unc} values (one per uncovered response)")
        r_hat[self.uncovered] = ext
        return tilt(self.q, r_hat, self.beta)


def dpo_solution_set(q, comparisons, beta) -> DPOSolutionSet:
    r"""The set of DPO minimisers on a comparison graph, and which of them training picks.

    .. math::

        L(\pi) = -\sum_{(w,l)}n_{wl}\log\sigma(h_w-h_l),\qquad h_y=\beta\log\frac{\pi_y}{q_y},

    depends on :math:`h` only through differences along compared pairs: the mass of never-compared responses and
    the split between components are not identified (global coverage is what DPO needs; spec 5.6). The
    Bradley-Terry MLE exists on a component iff its directed win graph is strongly connected (else the data are
    separable and ``ValueError`` is raised).

    Parameters
    ----------
    q : array_like, shape (K,)
        Reference, positive.
    comparisons : iterable of (winner, loser, count)
    beta : float

    Returns
    -------
    DPOSolutionSet

    References
    ----------
    .. [1] Song et al., arXiv:2406.01462; R. Rafailov et al., "Direct preference optimization", NeurIPS 2023.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> round(reg.dpo_solution_set([0.45, 0.05, 0.5], [(1, 0, 3), (0, 1, 1)], 1.0).loss, 12)
    2.249340578475
    """
    from scipy.optimize import minimize
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    pp = V.probabilities(q, "q")
    if np.any(pp == 0):
        raise ValueError("q must be positive")
    b = V.real(beta, "beta", low=0.0, low_open=True)
    K = pp.size
    wins = np.zeros((K, K))
    for item in comparisons:
        if len(item) != 3:
            raise ValueError(f"comparisons must be (winner, loser, count) triples, got {item!r}")
        w, l, n = item
        if not (0 <= int(w) < K and 0 <= int(l) < K) or int(w) == int(l):
            raise ValueError(f"comparison indices must be distinct responses in [0, {K}), got {item!r}")
        wins[int(w), int(l)] += V.real(n, "count", low=0.0)
    covered = (wins.sum(axis=0) + wins.sum(axis=1)) > 0
    if not np.any(covered):
        raise ValueError("comparisons must contain at least one comparison with a positive count")
    _, label = connected_components(coo_matrix(wins + wins.T), directed=False)
    _, strong = connected_components(coo_matrix(wins), directed=True, connection="strong")
    h = np.zeros(K)
    components, loss = [], 0.0
    for lab in np.unique(label[covered]):
        idx = np.flatnonzero((label == lab) & covered)
        if np.unique(strong[idx]).size > 1:
            raise ValueError(f"the comparisons on responses {idx.tolist()} are separable (some subset never loses to "
                             "the rest): the Bradley-Terry MLE, and so the DPO minimiser, does not exist")
        W = wins[np.ix_(idx, idx)]

        def nll(x, W=W):
            z = np.concatenate(([0.0], x))
            d = z[:, None] - z[None, :]
            val = float(np.sum(W * np.logaddexp(0.0, -d)))
            g = W * (1.0 / (1.0 + np.exp(d)))  # d/dd of log(1 + e^{-d}) is -sigma(-d)
            grad = -(g.sum(axis=1) - g.sum(axis=0))
            return val, grad[1:]

        res = minimize(nll, np.zeros(idx.size - 1), jac=True, method="BFGS", options={"gtol": 1e-13})
        h[idx] = np.concatenate(([0.0], res.x))
        loss += float(res.fun)
        components.append(idx)
    uncovered = ~covered
    theta = np.log(pp) + h / b
    for idx in components:
        theta[idx] -= (h[idx] / b).mean()  # logit sums of a component are conserved by gradient descent
    gd = np.exp(theta - logsumexp(theta))
    min_kl = pp.copy()
    for idx in components:
        shape = pp[idx] * np.exp((h[idx] - h[idx].max()) / b)
        min_kl[idx] = pp[idx].sum() * shape / shape.sum()
    return DPOSolutionSet(h, components, uncovered, loss, gd, min_kl, b, pp)
