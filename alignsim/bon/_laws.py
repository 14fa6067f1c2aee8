r"""Exact best-of-N and worst-of-N laws over outcomes or reward levels, their KL, mean reward and win rate."""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from .._kl import kl_logs
from .._levels import bon_log_level_law, calibrated, group

_TIES = ("random", "ordered")


def _prepare(p, r, N, ties="random"):
    """Checked ``(ref, r, counts)``: ``counts`` is ``(N, log N)`` for a scalar ``N`` and a list of them otherwise."""
    pp, rr = V.policy_and_rewards(p, r)
    V.choice(ties, "ties", _TIES)
    return pp, rr, V.sample_counts(N)


def _over_n(N, nn, value):
    """``value(counts)`` for a scalar ``N``; an array of the shape of ``N`` (values stacked along the first axes)
    for an array of sample counts."""
    if np.ndim(N) == 0:
        return value(nn)
    out = [value(c) for c in nn]
    if isinstance(out[0], tuple):  # (levels, probs): one level grid, probabilities stacked
        return out[0][0], np.stack([o[1] for o in out]).reshape(np.shape(N) + out[0][1].shape)
    return np.array(out).reshape(np.shape(N) + np.shape(out[0]))


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
    N : int, float or array_like
        Number of samples, :math:`N\ge1`; floats up to ``1e300`` and arbitrarily large ints are handled through
        :math:`\log N`.
        An array of counts gives one result per count, in the shape of ``N`` (laws stacked along the first axes).
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
    levels = V.flag(levels, "levels")
    pp, rr, nn = _prepare(ref, r, N, ties)
    return _over_n(N, nn, lambda c: _bon_law(pp, rr, c, ties, levels))


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
    N : int, float or array_like
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.
        An array of counts gives one result per count, in the shape of ``N`` (laws stacked along the first axes).
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
    levels = V.flag(levels, "levels")
    pp, rr, nn = _prepare(ref, r, N, ties)

    def law(c):
        if levels:
            lv, g = _bon_law(pp, -rr, c, ties, True)
            return -lv[::-1], g[::-1]
        return _bon_law(pp, -rr, c, ties, False)

    return _over_n(N, nn, law)


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
    N : int, float or array_like
        :math:`N\ge1`.
        An array of counts gives one result per count, in the shape of ``N`` (laws stacked along the first axes).
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
    return _over_n(N, nn, lambda c: _bon_kl(pp, rr, c, ties))


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
    N : int, float or array_like
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.
        An array of counts gives one result per count, in the shape of ``N`` (laws stacked along the first axes).
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
    return _over_n(N, nn, lambda c: _bon_kl(pp, -rr, c, ties))


@V.renamed_keywords(p="ref")
def bon_mean_reward(ref, r, N) -> float:
    r"""Expected reward of the best-of-N policy, :math:`\sum_k g_k s_k` (independent of tie-breaking).

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int, float or array_like
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.
        An array of counts gives one result per count, in the shape of ``N`` (laws stacked along the first axes).

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
    return _over_n(N, nn, lambda c: float(np.dot(np.exp(bon_log_level_law(_log(mass), *c)), lv)))


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
    N : int, float or array_like
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.
        An array of counts gives one result per count, in the shape of ``N`` (laws stacked along the first axes).

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
    return _over_n(N, nn, lambda c: float(np.dot(np.exp(bon_log_level_law(_log(mass), *c)), calibrated(mass, lv))))
