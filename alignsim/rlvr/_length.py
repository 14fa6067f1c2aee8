r"""Length bias: how the group advantage and the loss aggregation together move the expected response length."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln

from .. import _validate as V
from .._lattice import checked_compositions
from ._aggregation import AGGREGATIONS
from ._signal import GROUP_ESTIMATORS


def _group_advantages(counts, rewards, estimator, ddof, eps):
    """Advantage of each response type in a group with the given counts (rows: groups, columns: types)."""
    g = counts.sum(axis=1, keepdims=True)
    mean = counts @ rewards / g[:, 0]
    centred = rewards[None, :] - mean[:, None]
    if estimator == "dr_grpo":
        return centred
    if estimator == "rloo":
        others = (counts @ rewards)[:, None] - rewards[None, :]  # sum of the other G - 1 rewards
        return rewards[None, :] - others / (g - 1)
    var = (counts @ rewards ** 2 / g[:, 0] - mean ** 2) * g[:, 0] / (g[:, 0] - ddof)
    s = np.sqrt(np.maximum(var, 0.0))
    mixed = (s > 1e-12 * (1.0 + np.abs(mean)))[:, None]  # equal rewards: zero advantage whatever eps is
    return np.where(mixed, centred / np.where(mixed, s[:, None] + eps, 1.0), 0.0)


def aggregated_update(logits, rewards, lengths, G: int, estimator: str = "grpo", aggregation: str = "token-mean", *,
                      ddof: int = 1, eps: float = 0.0, horizon=None) -> np.ndarray:
    r"""Exact expected policy-gradient update of one group under a loss aggregation, for a policy over whole
    responses of given lengths.

    The policy :math:`\pi=\mathrm{softmax}(\theta)` picks one of :math:`K` responses; response :math:`a` has reward
    :math:`r_a` and :math:`L_a` tokens, and the sum of its token log-probabilities is :math:`\log\pi_a` (so each of
    its tokens carries the response's advantage). A group of :math:`G` i.i.d. responses contributes

    .. math::

        \hat g = \sum_{i=1}^G A_i\,w_i\,(e_{y_i}-\pi),\qquad w_i = \begin{cases}
        1/\sum_j L_{y_j} & \text{token-mean}\\ 1/G & \text{seq-mean-token-sum}\\ 1/(G L_{y_i}) &
        \text{seq-mean-token-mean}\\ 1/H & \text{seq-mean-token-sum-norm}\end{cases}

    (:func:`aggregate` of the per-token losses :math:`-A_i\log\pi(\text{token}_t)`, differentiated: each token of
    response :math:`i` weighs :math:`w_i`, and its tokens' log-probabilities sum to :math:`\log\pi_{y_i}`).
    The expectation is a finite sum over the :math:`\binom{G+K-1}{K-1}` compositions of the group (multinomial weights
    in log space): exact. ``token-mean`` couples the responses of a group through :math:`\sum_j L_{y_j}`, which is why
    it is not a per-response weight.

    Parameters
    ----------
    logits : array_like, shape (K,)
    rewards, lengths : array_like, shape (K,)
        Reward and number of tokens (>= 1) of each response.
    G : int
        Group size, >= 2.
    estimator : {"grpo", "dr_grpo", "rloo"}
        :data:`GROUP_ESTIMATORS` (the pass@k-training ones need binary rewards: :func:`group_update_moments`).
    aggregation : str
        One of :data:`AGGREGATIONS`.
    ddof, eps : int, float
        GRPO's standard deviation.
    horizon : float, optional
        :math:`H` of ``seq-mean-token-sum-norm`` (default: the longest response).

    Returns
    -------
    ndarray, shape (K,)
        The expected update (ascent direction) with respect to the logits.

    References
    ----------
    .. [1] Z. Liu et al., "Understanding R1-Zero-like training: a critical perspective" (Dr. GRPO), arXiv:2503.20783
       (the length bias of per-response length normalisation); verl ``agg_loss`` (core_algos.py @ 26b5d6b2).

    Examples
    --------
    >>> from alignsim import rlvr
    >>> u = rlvr.aggregated_update([0.0, 0.0], [1.0, 0.0], [5, 5], 4, "rloo", "seq-mean-token-sum")
    >>> [round(float(x), 12) for x in u]     # RLOO, one weight per response: the unbiased gradient of p
    [0.25, -0.25]
    """
    theta = V.real_array(logits, "logits")
    if theta.ndim != 1 or theta.size < 2:
        raise ValueError(f"logits must be a 1-D array of at least 2 logits, got shape {theta.shape}")
    k = theta.size
    r = V.rewards(rewards, "rewards", size=k, like="logits")
    if np.max(np.abs(r)) > 1e150:
        raise ValueError(f"rewards must lie within +-1e150 (the group standard deviation squares them), got a "
                         f"largest magnitude of {np.max(np.abs(r)):.3g}")
    lens = V.real_array(lengths, "lengths", low=1.0)
    if lens.shape != (k,):
        raise ValueError(f"lengths must have one entry per response ({k}), got shape {lens.shape}")
    g = V.length(G, "G", low=2, high=10 ** 6, why="the update sums over the compositions of the group")
    est = V.choice(estimator, "estimator", GROUP_ESTIMATORS)
    agg = V.choice(aggregation, "aggregation", AGGREGATIONS)
    d = V.choice(ddof, "ddof", (0, 1))
    e = V.real(eps, "eps", low=0.0)
    h = float(lens.max()) if horizon is None else V.real(horizon, "horizon", low=0.0, low_open=True)
    z = theta - theta.max()
    log_pi = z - math.log(np.sum(np.exp(z)))
    pi = np.exp(log_pi)
    counts = checked_compositions(g, k, "G").astype(float)
    with np.errstate(invalid="ignore"):
        log_w = gammaln(g + 1.0) - gammaln(counts + 1.0).sum(axis=1) + np.where(counts > 0, counts * log_pi, 0.0).sum(1)
    weight = np.exp(log_w)
    adv = _group_advantages(counts, r, est, d, e)  # (groups, K)
    # the weight of each token of a response; its tokens' log-probabilities sum to log pi(y), so this is also the
    # weight of the response's score e_y - pi
    if agg == "token-mean":
        per = np.broadcast_to(1.0 / (counts @ lens)[:, None], adv.shape)
    elif agg == "seq-mean-token-sum":
        per = np.full(adv.shape, 1.0 / g)
    elif agg == "seq-mean-token-mean":
        per = np.broadcast_to(1.0 / (g * lens), adv.shape)
    else:
        per = np.full(adv.shape, 1.0 / h)
    # per-type coefficient of (e_a - pi): n_a A_a w_a, averaged over groups
    coef = weight @ (counts * adv * per)
    return coef - pi * coef.sum()


def length_drift(logits, rewards, lengths, G: int, estimator: str = "grpo", aggregation: str = "token-mean", *,
                 among: str = "all", **params) -> float:
    r"""Rate of change of the expected response length along the expected update :math:`u` of
    :func:`aggregated_update`, overall or among the correct or the incorrect responses.

    .. math::

        \frac{d}{d\eta}\mathbb E_{\pi_{\theta+\eta u}}[L\mid S]\Big|_{\eta=0}
        = \frac{\sum_{a\in S}L_a\pi_a(u_a-\bar u_S)}{\pi(S)},\qquad \bar u_S=\frac{\sum_{a\in S}\pi_au_a}{\pi(S)},

    with :math:`S` all responses, those of the largest reward (``"correct"``) or of the smallest (``"incorrect"``).
    Overall, length follows reward (probability moves to the better answers, whatever their length); among the
    incorrect answers a positive drift is the length bias proper: ``seq-mean-token-mean`` divides each response by
    its length, so a long wrong answer is penalised less per token and grows at the expense of a short one;
    ``token-mean`` does so more weakly (a group holding long answers has a larger normaliser, so its long wrong
    answers are penalised less on average: 0.018 against 0.113 tokens per unit step in the example below); the
    two token sums leave the wrong answers' length unchanged.

    Parameters
    ----------
    logits, rewards, lengths, G, estimator, aggregation
        As in :func:`aggregated_update`.
    among : {"all", "correct", "incorrect"}
    **params
        ``ddof``, ``eps``, ``horizon``.

    Returns
    -------
    float

    References
    ----------
    .. [1] Z. Liu et al., arXiv:2503.20783 (the length bias of GRPO's per-response normalisation).

    Examples
    --------
    >>> from alignsim import rlvr
    >>> args = ([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [10, 10, 40], 8)   # right-short, wrong-short, wrong-long
    >>> rlvr.length_drift(*args, "grpo", "seq-mean-token-mean", among="incorrect") > 0
    True
    >>> abs(rlvr.length_drift(*args, "grpo", "seq-mean-token-sum", among="incorrect")) < 1e-15
    True
    """
    which = V.choice(among, "among", ("all", "correct", "incorrect"))
    u = aggregated_update(logits, rewards, lengths, G, estimator, aggregation, **params)
    theta = V.real_array(logits, "logits")
    z = theta - theta.max()
    pi = np.exp(z) / np.sum(np.exp(z))
    lens = V.real_array(lengths, "lengths", low=1.0)
    r = V.rewards(rewards, "rewards", size=theta.size, like="logits")
    keep = np.ones(r.size, bool) if which == "all" else (r == (r.max() if which == "correct" else r.min()))
    mass = float(pi[keep].sum())
    u_bar = float(np.dot(pi[keep], u[keep])) / mass
    return float(np.sum(lens[keep] * pi[keep] * (u[keep] - u_bar))) / mass
