r"""Optima of reward maximisation regularised by an :math:`f`-divergence, by the KKT form solved next to the
generator's pole, with closed forms for :math:`\chi^2` and total variation; the multiplier of a budget; frontiers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import logsumexp

from .. import _validate as V
from ..divergences import f_divergence, kl
from ..generators import generator
from ..tilting import penalised_value, tilt


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
    .. [1] C. Wang et al., "Beyond reverse KL: generalizing direct preference optimization with diverse divergence
       constraints", arXiv:2309.16240.

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
        Q = 1.0 if S.all() else float(qs[S].sum())  # the whole support has mass one (not 1 - ulp)
        mean = float(np.dot(qs[S], rs[S])) / Q
        # w = 1 + (r - nu) / (2 beta) with nu = mean_S - 2 beta (1 - Q) / Q, formed without nu: at beta = 1e-300
        # nu - 2 beta rounds to nu, at beta = 1e308 2 beta (1 - Q) overflows
        with np.errstate(over="ignore", divide="ignore"):
            w = (rs - mean) / (2.0 * b) + 1.0 / Q
        if np.all(w[S] > 0) and np.all(w[~S] <= 0):
            with np.errstate(over="ignore"):
                nu = mean if Q == 1.0 else mean - 2.0 * b * ((1.0 - Q) / Q)
            return np.maximum(w, 0.0), nu
    # the full support always qualifies in exact arithmetic; beyond rounding, the reward maximisers take it all
    top = rs == rs.max()
    return np.where(top, 1.0 / qs[top].sum(), 0.0), float(rs.max())


def _tv(pp, rr, b):
    """Exchange argument: donors below r_dest - beta give all their mass to the best response."""
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


@V.renamed_keywords(q="ref")
def f_optimum(ref, r, beta, divergence: str = "reverse_kl", *, alpha=None) -> FOptimum:
    r"""The :math:`f`-divergence-regularised optimum on a finite law.

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
    ref : array_like, shape (K,)
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
    .. [1] Wang et al., arXiv:2309.16240 (KKT form).

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> reg.f_optimum([0.4, 0.3, 0.2, 0.1], [0, 0.5, 1, 1.5], 0.5, "chi2").pi
    array([0.2, 0.3, 0.3, 0.2])
    """
    pp = V.probabilities(ref, "ref")
    rr = V.rewards(r, "r", size=pp.size, like="ref")
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
            mass_in, nu = None, penalised_value(pp, rr, b)  # beta Lambda(1/beta), also where 1/beta overflows
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


@V.renamed_keywords(q="ref")
def f_beta_for(ref, r, divergence: str, target, *, on: str = "own", alpha=None) -> float:
    r""":math:`\beta` at which the :math:`f`-regularised optimum reaches a target divergence, KL or reward.

    .. math::

        m(\pi_\beta) = \text{target},\qquad m\in\{D_f,\ \mathbb E r,\ \mathrm{KL}(\pi\|q),\ \mathrm{KL}(q\|\pi)\},

    each decreasing in :math:`\beta` along the path; Brent's method in :math:`\log\beta` after bracketing.
    ``ValueError`` if the target is not attained for :math:`\beta\in[10^{-8}, 10^{8}]` (e.g. above
    :math:`D_f^{\max}` or above :math:`r_{\max}`).

    Parameters
    ----------
    ref, r : array_like
    divergence : str
    target : float
    on : {"own", "reward", "reverse_kl", "forward_kl"}
        What the target measures (``"own"``: the regulariser's divergence).
    alpha : float, optional

    Returns
    -------
    float
        beta > 0 reaching the target.

    References
    ----------
    .. [1] C. Wang et al., "Beyond reverse KL: generalizing direct preference optimization with diverse divergence
       constraints", arXiv:2309.16240.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> b = reg.f_beta_for([0.4, 0.3, 0.2, 0.1], [0, 0.5, 1, 1.5], "chi2", 0.75, on="reward")
    >>> round(b, 10)
    0.5
    """
    pp = V.probabilities(ref, "ref")
    V.choice(on, "on", _ON)
    t = V.real(target, "target")

    def f(x):
        return _measure(f_optimum(pp, r, math.exp(x), divergence, alpha=alpha), pp, on) - t

    return _beta_root(f, 1e-8, 1e8, t, f"target={t!r} ({on}) is not attained by the {divergence} optimum of this ref and r")


@V.renamed_keywords(q="ref")
def f_frontier(ref, r, divergences=("reverse_kl", "forward_kl", "js", "chi2", "hellinger"), betas=None):
    r"""The reward/divergence trade-off of several regularisers over a sweep of :math:`\beta`, as a table.

    .. math::

        \beta\mapsto\big(D_f(\pi_\beta\|q),\ \mathrm{KL}(\pi_\beta\|q),\ \mathrm{KL}(q\|\pi_\beta),\ \mathbb E_{\pi_\beta}r\big),
        \qquad \frac{d\,\mathbb E r}{dD_f}=\beta .

    Plotted against :math:`\mathrm{KL}(\pi\|q)` the reverse-KL curve dominates every other; against
    :math:`\mathrm{KL}(q\|\pi)` the forward-KL curve does: always say which axis.

    Parameters
    ----------
    ref, r : array_like
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
    .. [1] C. Wang et al., "Beyond reverse KL: generalizing direct preference optimization with diverse divergence
       constraints", arXiv:2309.16240.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> df = reg.f_frontier([0.4, 0.3, 0.2, 0.1], [0, 0.5, 1, 1.5], ["chi2"], [0.5])
    >>> df[["own_divergence", "reward"]].round(6).values.tolist()
    [[0.25, 0.75]]
    """

    pp = V.probabilities(ref, "ref")
    rr = V.rewards(r, "r", size=pp.size, like="ref")
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
