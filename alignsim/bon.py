r"""Best-of-N, worst-of-N and soft best-of-N: exact laws, KL, win rates, bounds and estimators.

Best-of-N (BoN) draws :math:`N` i.i.d. outcomes from the reference :math:`p` and returns one with the largest
reward. With reward levels :math:`s_1<\dots<s_L` of masses :math:`P_k` and CDF :math:`F_k = P(R\le s_k)`, the
law of the selected level is

.. math::

    g_k = F_k^N - F_{k-1}^N = F_k^N\left[1 - \left(1 - P_k/F_k\right)^N\right],

computed in log space (``log1p``/``expm1``, survival summed from the top, ``N`` through :math:`\log N`), so
:math:`N` may be up to ``1e300`` (or any Python integer) and level masses far below the float range can be
passed as log-masses. Within a level, ties are broken **uniformly at random** by default: an outcome :math:`y` of
level :math:`k` gets :math:`p(y)\,g_k/P_k`, the level's mass split in proportion to :math:`p`. Then the KL over
outcomes equals the KL over levels. ``ties="ordered"`` instead ranks tied outcomes by index (a larger index wins)
and applies the distinct-reward formula on that refined order; this changes the law and its KL but not the
reward or the win rate.

References
----------
.. [1] A. Beirami, A. Agarwal, J. Berant, A. D'Amour, J. Eisenstein, C. Nagpal, A. T. Suresh, "Theoretical
   guarantees on the best-of-n alignment policy", arXiv:2401.01879 (v3, ICML 2025).
.. [2] L. Gui, C. Gârbacea, V. Veitch, "BoNBoN alignment for large language models and the sweetness of
   best-of-n sampling", NeurIPS 2024, arXiv:2406.00832.
.. [3] C. Verdun et al., "Soft best-of-n sampling for model alignment", arXiv:2505.03156, 2025.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import digamma, logsumexp

from . import _validate as V
from ._kl import kl_logs
from ._levels import bon_log_level_law, calibrated, group, log1mexp, times_n
from .tilting import tilt

__all__ = [
    "bon_law",
    "won_law",
    "soft_bon_law",
    "bon_kl",
    "won_kl",
    "bon_mean_reward",
    "bon_win_rate",
    "bon_kl_bound",
    "bon_win_rate_bound",
    "bon_kl_top_bound",
    "bon_kl_gap_bound",
    "bon_win_rate_gap_bound",
    "bon_kl_estimator",
    "bon_renyi_bound",
    "bonbon_beta",
    "rewind_repeat",
    "rewind_repeat_atomless",
    "winrate_tilt",
    "winrate_tilt_for_kl",
    "winrate_tilt_policy",
]

_TIES = ("random", "ordered")


def _prepare(p, r, N, ties="random"):
    pp, rr = V.policy_and_rewards(p, r)
    n, log_n = V.sample_count(N)
    V.choice(ties, "ties", _TIES)
    return pp, rr, (n, log_n)


def _ordered(pp, rr):
    """Support outcomes in increasing (reward, index) order: a larger index wins a tie."""
    support = np.flatnonzero(pp > 0)
    return support[np.lexsort((support, rr[support]))]


def _log(x):
    with np.errstate(divide="ignore"):
        return np.log(x)


@V.renamed_keywords(p="ref")
def bon_law(ref, r, N, *, ties: str = "random", levels: bool = False):
    r"""Exact law of the best-of-N policy.

    .. math::

        \pi_N(y) = p(y)\,\frac{F(s)^N - F(s^-)^N}{P(r = s)},\qquad s = r(y),

    where :math:`F` is the reward CDF under ``ref``: the mass :math:`F_{\text{hi}}^N - F_{\text{lo}}^N` of a tie
    group is split in proportion to ``ref`` (uniformly random tie-breaking). For distinct rewards this is
    :math:`F(y)^N - F^-(y)^N` (Beirami et al., Lemma 2).

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities.
    r : array_like, shape (K,)
        Rewards (outcomes with equal rewards tie exactly).
    N : int or float
        Number of samples, :math:`N\ge1`; floats up to ``1e300`` and arbitrarily large ints are handled through
        :math:`\log N`.
    ties : {"random", "ordered"}
        Tie-breaking: uniformly at random (default) or by index, a larger index winning.
    levels : bool
        If True, return the law over reward levels instead.

    Returns
    -------
    ndarray, shape (K,)
        The law over outcomes; or, with ``levels=True``, a tuple ``(levels, probs)`` with strictly increasing
        reward levels of the support of ``ref``.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, section 2.

    Examples
    --------
    >>> import alignsim as a
    >>> a.bon_law([0.2, 0.3, 0.5], [0, 1, 1], 4).round(6)
    array([0.0016, 0.3744, 0.624 ])
    """
    pp, rr, nn = _prepare(ref, r, N, ties)
    return _bon_law(pp, rr, nn, ties, levels)


def _bon_law(pp, rr, nn, ties, levels):
    lv, mass, idx = group(pp, rr)
    if levels:
        return lv, np.exp(bon_log_level_law(_log(mass), *nn))
    out = np.zeros_like(pp)
    if ties == "ordered":
        order = _ordered(pp, rr)
        out[order] = np.exp(bon_log_level_law(_log(pp[order]), *nn))
        return out
    log_g = bon_log_level_law(_log(mass), *nn)
    s = idx >= 0
    out[s] = pp[s] * np.exp(log_g[idx[s]] - _log(mass[idx[s]]))
    return out


@V.renamed_keywords(p="ref")
def won_law(ref, r, N, *, ties: str = "random", levels: bool = False):
    r"""Exact law of the worst-of-N policy (the best-of-N policy for the reward :math:`-r`).

    .. math::

        \pi^{\min}_N(y) = p(y)\,\frac{S(s)^N - S(s^+)^N}{P(r = s)},\qquad S(s) = P(r\ge s),

    with tie groups split in proportion to ``ref``. Parameters and returns as in :func:`bon_law`; with
    ``ties="ordered"`` a larger index is preferred (loses the minimum) among tied outcomes as for :math:`-r`.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int or float
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.
    ties : {"random", "ordered"}
        Tie-breaking among equal rewards: uniformly at random (default) or by index.
    levels : bool
        Return (levels, probs) over distinct reward levels instead of a law over outcomes.

    Returns
    -------
    ndarray, shape (K,), or (levels, probs)
        The worst-of-N law over outcomes, or with levels=True the distinct reward levels (increasing) and their
        probabilities.

    References
    ----------
    .. [1] Gui, Gârbacea, Veitch, arXiv:2406.00832 (best- and worst-of-N); Beirami et al., arXiv:2401.01879.

    Examples
    --------
    >>> import alignsim as a
    >>> a.won_law([0.5, 0.5], [0, 1], 2)
    array([0.75, 0.25])
    """
    pp, rr, nn = _prepare(ref, r, N, ties)
    if levels:
        lv, g = _bon_law(pp, -rr, nn, ties, True)
        return -lv[::-1], g[::-1]
    return _bon_law(pp, -rr, nn, ties, False)


@V.renamed_keywords(p="ref")
def bon_kl(ref, r, N, *, ties: str = "random") -> float:
    r"""Exact KL divergence of the best-of-N policy from the reference, :math:`\mathrm{KL}(\pi_N\|p)` in nats.

    With random tie-breaking the within-level conditionals of :math:`\pi_N` and :math:`p` coincide, so

    .. math::

        \mathrm{KL}(\pi_N\|p) = \sum_k g_k\log\frac{g_k}{P_k},

    a sum over reward levels (cost linear in the number of outcomes after one sort). Always at most
    :func:`bon_kl_bound` :math:`=\log N - (N-1)/N`, strictly for :math:`N\ge2` on a finite space.

    Parameters
    ----------
    ref, r : array_like, shape (K,)
    N : int or float
        :math:`N\ge1`.
    ties : {"random", "ordered"}

    Returns
    -------
    float

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Theorem 3.1 (the bound) and section 3.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bon_kl([0.5, 0.3, 0.2], [1, 1, 2], 4), 12)
    0.364899112283
    """
    pp, rr, nn = _prepare(ref, r, N, ties)
    return _bon_kl(pp, rr, nn, ties)


def _bon_kl(pp, rr, nn, ties):
    lp = _log(pp[_ordered(pp, rr)]) if ties == "ordered" else _log(group(pp, rr)[1])
    return kl_logs(bon_log_level_law(lp, *nn), lp)


@V.renamed_keywords(p="ref")
def won_kl(ref, r, N, *, ties: str = "random") -> float:
    r"""Exact :math:`\mathrm{KL}(\pi^{\min}_N\|p)` of the worst-of-N policy (:func:`bon_kl` for :math:`-r`).

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int or float
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.
    ties : {"random", "ordered"}
        Tie-breaking among equal rewards: uniformly at random (default) or by index.

    Returns
    -------
    float
        KL(worst-of-N || ref) in nats.

    References
    ----------
    .. [1] Gui, Gârbacea, Veitch, arXiv:2406.00832 (worst-of-N); Beirami et al., arXiv:2401.01879.

    Examples
    --------
    >>> import alignsim as a
    >>> a.won_kl([0.5, 0.5], [0, 1], 3) == a.bon_kl([0.5, 0.5], [1, 0], 3)
    True
    """
    pp, rr, nn = _prepare(ref, r, N, ties)
    return _bon_kl(pp, -rr, nn, ties)


@V.renamed_keywords(p="ref")
def bon_mean_reward(ref, r, N) -> float:
    r"""Expected reward of the best-of-N policy, :math:`\sum_k g_k s_k` (independent of tie-breaking).

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int or float
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.

    Returns
    -------
    float
        Expected reward of the best-of-N policy.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, section 2 (the BoN law).

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bon_mean_reward([0.5, 0.3, 0.2], [1, 1, 2], 4), 12)
    1.5904
    """
    pp, rr, nn = _prepare(ref, r, N)
    lv, mass, _ = group(pp, rr)
    return float(np.dot(np.exp(bon_log_level_law(_log(mass), *nn)), lv))


@V.renamed_keywords(p="ref")
def bon_win_rate(ref, r, N) -> float:
    r"""Win rate of best-of-N against the reference, ties counting one half.

    .. math::

        W(\pi_N) = \sum_k g_k\,\big[F_{k-1} + \tfrac12 P_k\big] \le \frac{N}{N+1},

    with equality only without atoms (independent of tie-breaking).

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int or float
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.

    Returns
    -------
    float
        W(best-of-N over ref), ties one half, in [1/2, N/(N+1)].

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Theorem 5.3.

    Examples
    --------
    >>> import alignsim as a
    >>> a.bon_win_rate([0.5, 0.5], [0, 1], 4)
    0.71875
    """
    pp, rr, nn = _prepare(ref, r, N)
    lv, mass, _ = group(pp, rr)
    return float(np.dot(np.exp(bon_log_level_law(_log(mass), *nn)), calibrated(mass, lv)))


def _vectorised_log_n(N):
    if np.ndim(N) == 0:
        return V.log_sample_count(N), True
    arr = np.asarray(N)
    return np.array([V.log_sample_count(x.item() if hasattr(x, "item") else x) for x in arr.ravel()]).reshape(
        arr.shape), False


def bon_kl_bound(N):
    r"""The folklore value :math:`\log N - (N-1)/N`, an **upper bound** on the best-of-N KL.

    Equal to :math:`\mathrm{KL}(\mathrm{Beta}(N,1)\|U(0,1))`: the KL of best-of-N exactly when the reward law has
    no atoms; strictly larger on any finite space for :math:`N\ge2`. Computed as
    :math:`\log N - 1 + e^{-\log N}` (valid for huge ``N``). Vectorised over ``N``.

    Parameters
    ----------
    N : int, float or array_like
        Number(s) of samples, N >= 1; vectorised, huge values handled through log N.

    Returns
    -------
    float or ndarray
        log N - (N-1)/N, same shape as N.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Theorem 3.1; Stiennon et al. (2020) for the folklore formula.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bon_kl_bound(4), 11)
    0.63629436112
    """
    log_n, scalar = _vectorised_log_n(N)
    out = log_n - 1.0 + np.exp(-np.asarray(log_n))
    return float(out) if scalar else out


def bon_win_rate_bound(N):
    r"""The atomless best-of-N win rate :math:`N/(N+1)`, an upper bound for any reference (ties one half).

    Parameters
    ----------
    N : int, float or array_like
        Number(s) of samples, N >= 1; vectorised, huge values handled through log N.

    Returns
    -------
    float or ndarray
        N/(N+1), same shape as N.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Theorem 5.3.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bon_win_rate_bound(4), 12)
    0.8
    """
    log_n, scalar = _vectorised_log_n(N)
    out = 1.0 / (1.0 + np.exp(-np.asarray(log_n)))
    return float(out) if scalar else out


@V.renamed_keywords(p="ref")
def bon_kl_top_bound(ref, r, N) -> float:
    r"""Upper bound :math:`\log\frac{1-(1-\varepsilon_\infty)^N}{\varepsilon_\infty}\le\log\frac1{\varepsilon_\infty}`
    on the best-of-N KL, with :math:`\varepsilon_\infty` the reference mass of the top reward level.

    The density ratio :math:`\pi_N/p` is largest on the top level, where it equals this expression.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int or float
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.

    Returns
    -------
    float
        The upper bound in nats.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Theorem 3.6 (exact form derived).

    Examples
    --------
    >>> import alignsim as a, math
    >>> round(a.bon_kl_top_bound([0.5, 0.5], [0, 1], 2), 12) == round(math.log(1.5), 12)
    True
    """
    pp, rr, nn = _prepare(ref, r, N)
    eps = group(pp, rr)[1][-1]
    return float(log1mexp(times_n(*nn, math.log1p(-eps)) if eps < 1 else -np.inf) - math.log(eps))


def _collision(pp, rr):
    mass = group(pp, rr)[1]
    return float(np.dot(mass, mass))


@V.renamed_keywords(p="ref")
def bon_kl_gap_bound(ref, r, N) -> float:
    r"""Upper bound :math:`2N(N-1)\sum_k P_k^2` on the gap :math:`\log N - \frac{N-1}N - \mathrm{KL}(\pi_N\|p)`.

    :math:`\sum_k P_k^2 = e^{-H_2}` is the collision probability of the **reward levels** (for distinct rewards,
    of the outcomes), since BoN with random ties has the KL of the level law.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int or float
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.

    Returns
    -------
    float
        The upper bound on the gap, in nats.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Theorem 3.4.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bon_kl_gap_bound([0.25] * 4, [0, 1, 2, 3], 2), 12)
    1.0
    """
    pp, rr, nn = _prepare(ref, r, N)
    n = nn[0]
    return 2.0 * n * (n - 1.0) * _collision(pp, rr)


@V.renamed_keywords(p="ref")
def bon_win_rate_gap_bound(ref, r, N) -> float:
    r"""Upper bound :math:`\frac{N-1}{2}\sum_k P_k^2` on :math:`\frac N{N+1} - W(\pi_N)`.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int or float
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.

    Returns
    -------
    float
        The upper bound on N/(N+1) - W.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Theorem 5.4.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bon_win_rate_gap_bound([0.25] * 4, [0, 1, 2, 3], 3), 12)
    0.25
    """
    pp, rr, nn = _prepare(ref, r, N)
    return 0.5 * (nn[0] - 1.0) * _collision(pp, rr)


def bon_renyi_bound(N, alpha):
    r"""Upper bound on the Rényi divergence of order :math:`\alpha` of best-of-N from the reference.

    .. math::

        D_\alpha(\pi_N\|p) \le D_\alpha(\mathrm{Beta}(N,1)\|U(0,1))
        = \frac{1}{\alpha-1}\log\frac{N^\alpha}{\alpha(N-1)+1},

    by data processing (best-of-N is the cell average of the maximum of :math:`N` uniforms); the limit
    :math:`\alpha\to1` is :func:`bon_kl_bound`. Valid for :math:`\alpha > 0`.

    Parameters
    ----------
    N : int, float or array_like
        Number(s) of samples, N >= 1; vectorised, huge values handled through log N.
    alpha : float
        Order of the Rényi divergence, alpha > 0 (alpha = 1 gives bon_kl_bound).

    Returns
    -------
    float or ndarray
        The upper bound in nats, same shape as N.

    References
    ----------
    .. [1] Y. Mroueh, "Information theoretic guarantees for policy alignment in large language models",
       arXiv:2406.05883, 2024.

    Examples
    --------
    >>> import alignsim as a, math
    >>> round(a.bon_renyi_bound(8, 2.0), 11) == round(math.log(64 / 15), 11)
    True
    """
    log_n = V.log_sample_count(N)
    a = V.real(alpha, "alpha", low=0.0, low_open=True)
    if a == 1.0:
        return bon_kl_bound(N)
    n = math.exp(log_n)
    return float((a * log_n - math.log1p(a * (n - 1.0))) / (a - 1.0))


def bonbon_beta(N):
    r"""BoNBoN's KL coefficient :math:`\beta^\star = \frac{1}{2(N-1)H_{N-1}}` for the IPO-type target.

    :math:`H_{N-1}` is the harmonic number, from :math:`\mathbb E[\log F(r_{\text{best}}) - \log F(r_{\text{worst}})]
    = H_{N-1}` for the best and worst of :math:`N` atomless draws (reconstruction; the
    derivation is exact).

    Parameters
    ----------
    N : int, float or array_like
        Number(s) of samples, N >= 1; vectorised, huge values handled through log N.

    Returns
    -------
    float or ndarray
        beta* = 1 / (2 (N-1) H_{N-1}), same shape as N (inf for N = 1).

    References
    ----------
    .. [1] Gui, Gârbacea, Veitch, arXiv:2406.00832, section 4.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bonbon_beta(4), 12)
    0.090909090909
    """

    log_n = V.log_sample_count(N)
    n = math.exp(log_n)
    if n < 2:
        raise ValueError(f"N must be >= 2 for BoNBoN's beta (best and worst differ), got {N!r}")
    harmonic = float(digamma(n) + np.euler_gamma)  # H_{N-1}
    return 1.0 / (2.0 * (n - 1.0) * harmonic)


def bon_kl_estimator(eps, N):
    r"""Beirami et al.'s KL estimator :math:`\widehat D_N(\varepsilon)`.

    .. math::

        \widehat D_N(\varepsilon) = (1-\varepsilon)^N\Big(\log N + (N-1)\log(1-\varepsilon) - \frac{N-1}{N}\Big)
        + \big(1-(1-\varepsilon)^N\big)\log\frac{1-(1-\varepsilon)^N}{\varepsilon},

    the exact best-of-N KL for a reference whose top outcome has mass :math:`\varepsilon` and whose remaining
    mass is atomless. :math:`\widehat D_N(0^+) = \log N-\frac{N-1}N`, :math:`\widehat D_N(1) = 0`. Plugging in
    :math:`\varepsilon = p(y)` for :math:`y\sim\pi_N` and averaging is the paper's estimator; that its mean bounds
    the true KL from above is their Conjecture 4.4, not a theorem.

    Parameters
    ----------
    eps : float or array_like
        :math:`0 < \varepsilon \le 1`.
    N : int or float
        :math:`N\ge1`.

    Returns
    -------
    float or ndarray
        The estimate in nats, same shape as the broadcast of eps and N.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, section 4.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bon_kl_estimator(0.5, 2), 12)
    0.179098831081
    """
    e = V.real_array(eps, "eps", low=0.0, high=1.0, low_open=True)
    n, log_n = V.sample_count(N)
    with np.errstate(divide="ignore"):
        l1 = np.log1p(-e)                           # log(1 - eps), -inf at eps = 1
    n_l1 = times_n(n, log_n, l1)                    # N log(1 - eps)
    a = np.exp(n_l1)                                # (1 - eps)^N
    one_minus_a = -np.expm1(n_l1)
    frac = 1.0 - math.exp(-log_n)                   # (N - 1) / N
    with np.errstate(invalid="ignore"):
        first = np.where(a > 0, a * (log_n + (n_l1 - np.where(e == 1.0, 0.0, l1)) - frac), 0.0)
    out = first + one_minus_a * (np.log(one_minus_a) - np.log(e))
    return float(out) if out.ndim == 0 else out


@V.renamed_keywords(p="ref")
def rewind_repeat(ref, r, threshold):
    r"""Rewind-and-repeat: resample from ``ref`` until the reward is at least ``threshold``.

    The output law is :math:`p(\cdot\mid A)`, :math:`A = \{y: r(y)\ge\tau\}`, so

    .. math::

        \mathrm{KL} = \log\frac1{p(A)},\qquad W = \sum_{y\in A} p(y\mid A)\big[F^-(y) + \tfrac12 P(r = r(y))\big].

    Parameters
    ----------
    ref, r : array_like, shape (K,)
    threshold : float
        Acceptance threshold :math:`\tau`; the accepted set must have positive mass.

    Returns
    -------
    (kl, win_rate) : tuple of float

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, section 6.

    Examples
    --------
    >>> import alignsim as a
    >>> kl, w = a.rewind_repeat([0.25] * 4, [0, 1, 2, 3], 2)
    >>> round(kl, 12), w
    (0.69314718056, 0.75)
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    tau = V.real(threshold, "threshold")
    accept = rr >= tau
    mass = pp[accept].sum()
    if mass <= 0:
        raise ValueError(f"threshold must leave positive reference mass; p(r >= {tau!r}) = 0")
    pol = np.where(accept, pp, 0.0) / mass
    return float(-math.log(mass)), float(np.dot(pol, calibrated(pp, rr)))


def rewind_repeat_atomless(eps):
    r"""Rewind-and-repeat on an atomless reward accepting the top-:math:`\varepsilon` quantile:
    :math:`(\mathrm{KL}, W) = (\log(1/\varepsilon),\ 1-\varepsilon/2)`.

    Parameters
    ----------
    eps : float or array_like
        Accepted top quantile, in (0, 1].

    Returns
    -------
    kl : float or ndarray
        KL of the accepted law in nats, log(1/eps).
    win_rate : float or ndarray
        Win rate over the reference, 1 - eps/2.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, section 6.

    Examples
    --------
    >>> import alignsim as a
    >>> a.rewind_repeat_atomless(0.5)[1]
    0.75
    """
    e = V.real(eps, "eps", low=0.0, high=1.0, low_open=True)
    return -math.log(e), 1.0 - 0.5 * e


def _winrate_tilt(c: float):
    if c < 1e-2:
        w = 0.5 + c / 12 - c ** 3 / 720 + c ** 5 / 30240
        d = c * c / 24 - c ** 4 / 960 + c ** 6 / 45360
        return d, w
    w = -1.0 / math.expm1(-c) - 1.0 / c
    log_ratio = math.log(c / math.expm1(c)) if c < 30 else math.log(c) - c - math.log1p(-math.exp(-c))
    return log_ratio + c * w, w


def winrate_tilt(c):
    r"""The win-rate-optimal policy at fixed KL in the atomless case: :math:`\pi_c\propto p\,e^{cF(r)}`.

    .. math::

        W(c) = \frac{1}{1-e^{-c}} - \frac1c,\qquad \mathrm{KL}(c) = \log\frac{c}{e^c-1} + c\,W(c),

    the KL-regularised optimum for the calibrated reward :math:`F(r)`; best-of-N's point
    :math:`(\log N-\frac{N-1}N, \frac N{N+1})` lies just below this curve. Series are used for small ``c``.

    Parameters
    ----------
    c : float
        Tilt strength, :math:`c\ge0`.

    Returns
    -------
    (kl, win_rate) : tuple of float

    References
    ----------
    .. [1] Gui, Gârbacea, Veitch, arXiv:2406.00832, section 4; Beirami et al., arXiv:2401.01879, section 7.

    Examples
    --------
    >>> import alignsim as a
    >>> [round(v, 10) for v in a.winrate_tilt(2.288640586)]
    [0.1931471806, 0.6759068193]
    """
    cc = V.real(c, "c", low=0.0)
    return _winrate_tilt(cc)


def winrate_tilt_for_kl(kl):
    r"""Tilt strength :math:`c` with :math:`\mathrm{KL}(c) =` ``kl`` for :func:`winrate_tilt` (Brent in
    :math:`\log c`).

    Parameters
    ----------
    kl : float
        Target KL in nats, >= 0.

    Returns
    -------
    float
        The tilt strength c (0 for kl = 0).

    References
    ----------
    .. [1] Gui, Gârbacea, Veitch, arXiv:2406.00832, section 4.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.winrate_tilt_for_kl(a.bon_kl_bound(2)), 8)
    2.28864059
    """
    target = V.real(kl, "kl", low=0.0)
    if target == 0:
        return 0.0
    f = lambda u: _winrate_tilt(math.exp(u))[0] - target  # noqa: E731
    lo, hi = -1.0, 1.0
    while f(lo) > 0:
        lo -= 2.0
    while f(hi) < 0:
        hi += 2.0
    return math.exp(brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps))


@V.renamed_keywords(p="ref")
def winrate_tilt_policy(ref, r, c) -> np.ndarray:
    r"""Win-rate-optimal policy at fixed KL on a finite law: the tilt of ``ref`` by the calibrated reward.

    .. math::

        \pi_c(y)\propto p(y)\,e^{c\,c_p(y)},\qquad c_p = \text{calibrated\_reward}(p, r),

    since :math:`W(\pi;p) = \mathbb E_\pi c_p` is linear in :math:`\pi`, this maximises the win rate among all
    policies with the same :math:`\mathrm{KL}(\pi\|p)`.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    c : float
        Tilt strength, c >= 0 (0 gives ref).

    Returns
    -------
    ndarray, shape (K,)
        The win-rate-optimal policy at its own KL.

    References
    ----------
    .. [1] Gui, Gârbacea, Veitch, arXiv:2406.00832, section 4; Beirami et al., arXiv:2401.01879, section 7.

    Examples
    --------
    >>> import alignsim as a
    >>> a.winrate_tilt_policy([0.5, 0.5], [0, 1], 0.0)
    array([0.5, 0.5])
    """

    pp, rr = V.policy_and_rewards(ref, r, "ref")
    cc = V.real(c, "c", low=0.0)
    return pp.copy() if cc == 0 else tilt(pp, calibrated(pp, rr), 1.0 / cc)


# --------------------------------------------------------------------------------------------------------------
# Soft best-of-N
# --------------------------------------------------------------------------------------------------------------
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
#: Largest reward range over beta for which soft best-of-N is integrated directly (weights stay above e^-700).
_SOFT_MAX_SPREAD = 700.0


def _soft_bon_level_law(lv, mass, log_n, beta):
    n = math.exp(log_n)
    logw = (lv - lv.max()) / beta
    w = np.exp(logw)
    w_min = float(w.min())
    u_lo = -log_n - 45.0
    u_hi = math.log(60.0 / (n * w_min))
    panels = max(int(math.ceil((u_hi - u_lo) / 0.5)), 1)
    edges = np.linspace(u_lo, u_hi, panels + 1)
    half = 0.5 * (edges[1:] - edges[:-1])
    u = ((edges[:-1] + half)[:, None] + half[:, None] * _GL_X[None, :]).ravel()
    wts = (half[:, None] * _GL_W[None, :]).ravel()
    t = np.exp(u)
    log_m = logsumexp(np.log(mass)[None, :] - t[:, None] * w[None, :], axis=1)
    base = u + (n - 1.0) * log_m + np.log(wts)
    out = np.empty_like(mass)
    for start in range(0, lv.size, 256):
        sl = slice(start, start + 256)
        integral = np.exp(logsumexp(base[:, None] - t[:, None] * w[None, sl], axis=0))
        out[sl] = n * mass[sl] * w[sl] * integral
    return out


@V.renamed_keywords(p="ref")
def soft_bon_law(ref, r, N, beta, *, levels: bool = False):
    r"""Exact law of soft best-of-N: draw :math:`N` outcomes from ``ref``, select :math:`y_i` with probability
    :math:`\propto e^{r(y_i)/\beta}`.

    With :math:`w(y) = e^{(r(y) - r_{\max})/\beta}` and :math:`M(t) = \mathbb E_p e^{-t\,w(Y)}`,

    .. math::

        \pi(y) = N p(y) w(y)\,\mathbb E\Big[\frac{1}{w(y) + \sum_{j=2}^N w(Y_j)}\Big]
        = N p(y) w(y)\int_0^\infty e^{-t\,w(y)}\,M(t)^{N-1}\,dt,

    a one-dimensional integral (from :math:`1/x=\int_0^\infty e^{-tx}dt`) evaluated in log space with composite
    16-point Gauss-Legendre in :math:`\log t`; the selection probabilities sum to one exactly in theory, and the
    quadrature keeps :math:`|\sum\pi - 1|` below ``1e-12``. :math:`\beta\to\infty` gives ``ref``,
    :math:`\beta\to0` gives :func:`bon_law` (random ties). When the reward range exceeds
    :math:`700\beta` the weights leave the float range: if then
    :math:`N e^{-\mathrm{gap}_{\min}/\beta} < 10^{-16}` the result is :func:`bon_law` (the two laws differ by at
    most that much in total variation), otherwise a ``ValueError`` is raised.

    Parameters
    ----------
    ref, r : array_like, shape (K,)
    N : int or float
        :math:`N\ge1` (finite float).
    beta : float
        Selection temperature, :math:`0<\beta\le\infty`.
    levels : bool
        If True, return ``(levels, probs)`` over reward levels.

    Returns
    -------
    ndarray, shape (K,), or (levels, probs)
        The soft best-of-N law over outcomes, or with levels=True the distinct reward levels and their
        probabilities.

    References
    ----------
    .. [1] Verdun et al., arXiv:2505.03156 (2025), soft best-of-n.

    Examples
    --------
    >>> import alignsim as a
    >>> a.soft_bon_law([0.5, 0.5], [0, 1], 2, 1.0).round(6)
    array([0.384471, 0.615529])
    """
    pp, rr, nn = _prepare(ref, r, N)
    b = V.beta(beta)
    lv, mass, idx = group(pp, rr)
    if b == math.inf or lv.size == 1:
        g = mass.copy()
    elif (lv[-1] - lv[0]) / b <= _SOFT_MAX_SPREAD:
        g = _soft_bon_level_law(lv, mass, nn[1], b)
        total = g.sum()
        if abs(total - 1.0) > 1e-10:  # pragma: no cover - quadrature guard
            raise RuntimeError(f"soft best-of-N quadrature lost accuracy (sum {total!r}); please report")
        g = g / total
    elif nn[1] - float(np.min(np.diff(lv))) / b < math.log(1e-16):
        g = np.exp(bon_log_level_law(np.log(mass), *nn))
    else:
        raise ValueError(
            f"beta = {b!r} is too small for exact soft best-of-N on rewards spanning {lv[-1] - lv[0]!r} "
            f"(weights underflow); use beta >= range/{_SOFT_MAX_SPREAD:g}, or bon_law for the beta -> 0 limit"
        )
    if levels:
        return lv, g
    out = np.zeros_like(pp)
    s = idx >= 0
    out[s] = pp[s] * g[idx[s]] / mass[idx[s]]
    return out
