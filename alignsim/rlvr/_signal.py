r"""Where the learning signal lives: exact moments of a group update on one prompt with a binary verifier."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import gammaln
from scipy.stats import binom

from .. import _validate as V
from ._verifier import _rate, observed_success

#: Group advantage estimators for one scalar reward per answer (any rewards; :func:`aggregated_update`).
GROUP_ESTIMATORS = ("grpo", "dr_grpo", "rloo")
#: Those and the pass@k-training estimators (binary rewards only; they take ``k``).
ESTIMATORS = GROUP_ESTIMATORS + ("pass_at_k", "pass_at_k_dr")


def _log_comb(n, r):
    """log C(n, r) for arrays, -inf where r > n or n < 0."""
    n, r = np.asarray(n, float), np.asarray(r, float)
    ok = (r >= 0) & (n >= r)
    out = np.full(np.broadcast(n, r).shape, -np.inf)
    nn, rr = np.broadcast_arrays(n, r)
    out[ok] = gammaln(nn[ok] + 1.0) - gammaln(rr[ok] + 1.0) - gammaln(nn[ok] - rr[ok] + 1.0)
    return out


def pass_at_k_advantages(c, G: int, k: int, *, std: bool = True, eps: float = 0.0):
    r"""Group advantages for a pass@k objective, analytically over every k-subset of the group.

    With :math:`c` correct answers among :math:`G`, a k-subset's reward is 1 unless all its answers are wrong; its
    mean is :math:`\bar R = 1-\binom{G-c}k/\binom Gk`. A correct answer's subsets all score 1; a wrong answer's
    subsets score 0 only when its :math:`k-1` companions are wrong too:

    .. math::

        A_+ = \frac{1-\bar R}{\sigma},\qquad A_- = \frac{1-\binom{G-c-1}{k-1}/\binom{G-1}{k-1}-\bar R}{\sigma},
        \qquad \sigma=\sqrt{\bar R(1-\bar R)}+\epsilon

    (``std=False``: :math:`\sigma=1`). Without the std the expected update is exactly
    :math:`\frac{G-k}{Gk}\nabla\,\mathrm{pass@}k` (a test), so pass@k training follows the gradient of pass@k.

    Parameters
    ----------
    c : int or array_like
        Number of correct answers, 0..G.
    G : int
        Group size, >= 2.
    k : int
        1 <= k <= G - 1.
    std : bool
        Divide by the subset rewards' standard deviation (Chen et al.'s form), or not.
    eps : float
        Added to that standard deviation, >= 0.

    Returns
    -------
    (A_plus, A_minus) : (ndarray, ndarray)
        Zero where every answer agrees (c = 0 or c = G) or :math:`\bar R\in\{0,1\}`.

    References
    ----------
    .. [1] Z. Chen et al., "Pass@k training for adaptively balancing exploration and exploitation of large reasoning
       models", arXiv:2508.10751 (the analytic pass@k advantage); M. Chen et al., arXiv:2107.03374.

    Examples
    --------
    >>> from alignsim import rlvr
    >>> a_plus, a_minus = rlvr.pass_at_k_advantages([1, 2], 4, 2, std=False)
    >>> a_plus.round(4).tolist(), a_minus.round(4).tolist()
    ([0.5, 0.1667], [-0.1667, -0.1667])
    """
    g = V.length(G, "G", low=2, high=10 ** 7, why="a group size")
    kk = V.length(k, "k", high=g - 1, why=f"a pass@k group needs k < G = {g} answers to compare")
    cc = V.real_array(c, "c", low=0.0, high=float(g))
    if np.any(cc != np.round(cc)):
        raise ValueError(f"c must hold whole counts of correct answers in 0..{g}, got {c!r}")
    r_bar = 1.0 - np.exp(_log_comb(g - cc, kk) - _log_comb(g, kk))
    wrong_companions = np.exp(_log_comb(g - cc - 1, kk - 1) - _log_comb(g - 1, kk - 1))
    a_plus = 1.0 - r_bar
    a_minus = 1.0 - wrong_companions - r_bar
    if std:
        sigma = np.sqrt(np.maximum(r_bar * (1.0 - r_bar), 0.0))
        live = sigma > 0
        denom = np.where(live, sigma + V.real(eps, "eps", low=0.0), 1.0)
        a_plus, a_minus = np.where(live, a_plus / denom, 0.0), np.where(live, a_minus / denom, 0.0)
    mixed = (cc > 0) & (cc < g)
    return np.where(mixed, a_plus, 0.0), np.where(mixed, a_minus, 0.0)


def _advantages(c, G, estimator, ddof, eps, k=1):
    """(A of an observed success, A of an observed failure) in a group with ``c`` observed successes."""
    if estimator in ("pass_at_k", "pass_at_k_dr"):
        return pass_at_k_advantages(c, G, k, std=estimator == "pass_at_k", eps=eps)
    m = c / G
    if estimator == "dr_grpo":
        return 1.0 - m, -m
    if estimator == "rloo":
        return 1.0 - (c - 1) / (G - 1), -c / (G - 1)
    s = np.sqrt(G / (G - ddof) * m * (1.0 - m))
    # a group of equal rewards has r - mean = 0 for every member: zero advantage whatever eps is
    mixed = s > 0
    denom = np.where(mixed, s + eps, 1.0)
    return np.where(mixed, (1.0 - m) / denom, 0.0), np.where(mixed, -m / denom, 0.0)


def group_update_moments(p, G: int, estimator: str = "grpo", *, ddof: int = 1, eps: float = 0.0, fp: float = 0.0,
                         fn: float = 0.0, k: int = 1) -> dict:
    r"""Exact mean and variance of one group's policy-gradient update on a prompt answered correctly with
    probability :math:`p=\sigma(\theta)`, the gradient taken with respect to the logit :math:`\theta` of success.

    .. math::

        \hat g = \frac1G\sum_{i=1}^G A_i\,(y_i-p),

    with :math:`y_i` the true correctness (the score :math:`\partial_\theta\log\pi(y)=y-p`) and :math:`A_i` computed
    from the rewards the verifier reports (:func:`observed_success`). Given :math:`\tilde c` reported successes the
    correctness of the reported successes is Bernoulli(:math:`a=p(1-f_n)/q`) and of the reported failures
    Bernoulli(:math:`b=pf_n/(1-q)`), independently, so the moments are sums over :math:`\tilde c\sim
    \mathrm{Binomial}(G,q)`: :math:`O(G)`.

    Parameters
    ----------
    p : float
        True success probability, in (0, 1).
    G : int
        Group size, >= 2.
    estimator : {"grpo", "dr_grpo", "rloo", "pass_at_k", "pass_at_k_dr"}
        GRPO (std-normalised), Dr. GRPO (no std), RLOO (leave-one-out baseline), pass@k training
        (:func:`pass_at_k_advantages`, with or without its std).
    ddof, eps : int, float
        GRPO's standard deviation (ddof 0 or 1) and its additive epsilon.
    fp, fn : float
        Verifier error rates.
    k : int
        The k of the pass@k estimators, 1 <= k <= G - 1 (checked for every estimator, used by those).

    Returns
    -------
    dict
        ``mean``, ``variance``, ``snr`` (mean / standard deviation; 0 when both vanish), ``weight`` (mean /
        (p (1 - p)): the multiplier of :math:`\nabla p`, the per-prompt difficulty weight), ``zero_fraction``.

    References
    ----------
    .. [1] Z. Shao et al., arXiv:2402.03300 (GRPO); Z. Liu et al., arXiv:2503.20783 (Dr. GRPO);
       A. Ahmadian et al., arXiv:2402.14740 (RLOO).

    Examples
    --------
    >>> from alignsim import rlvr
    >>> m = rlvr.group_update_moments(0.3, 8, "rloo")   # RLOO is unbiased: weight 1
    >>> round(m["weight"], 12)
    1.0
    """
    q0 = V.real(p, "p", low=0.0, high=1.0, low_open=True, high_open=True)
    g = V.length(G, "G", low=2, high=10 ** 7, why="the moments sum over the G + 1 counts of reported successes")
    est = V.choice(estimator, "estimator", ESTIMATORS)
    d = V.choice(ddof, "ddof", (0, 1))
    e = V.real(eps, "eps", low=0.0)
    f_p, f_n = _rate(fp, "fp"), _rate(fn, "fn")
    q = observed_success(q0, f_p, f_n)
    c = np.arange(g + 1, dtype=float)
    pmf = binom.pmf(c, g, q)
    a = q0 * (1.0 - f_n) / q if q > 0 else 0.0  # P(correct | reported success)
    b = q0 * f_n / (1.0 - q) if q < 1 else 0.0  # P(correct | reported failure)
    kk = V.length(k, "k", high=g - 1, why=f"pass@k training compares k-subsets of the G = {g} answers")
    a_plus, a_minus = _advantages(c, g, est, d, e, kk)
    cond_mean = (a_plus * c * (a - q0) + a_minus * (g - c) * (b - q0)) / g
    cond_var = (a_plus ** 2 * c * a * (1.0 - a) + a_minus ** 2 * (g - c) * b * (1.0 - b)) / g ** 2
    mean = float(np.dot(pmf, cond_mean))
    var = max(float(np.dot(pmf, cond_var + cond_mean ** 2)) - mean ** 2, 0.0)
    snr = mean / math.sqrt(var) if var > 0 else 0.0
    return {"mean": mean, "variance": var, "snr": snr, "weight": mean / (q0 * (1.0 - q0)),
            "zero_fraction": float(pmf[0] + pmf[-1])}


def difficulty_weight(p, G: int, estimator: str = "grpo", **params):
    r"""The per-prompt weight of a group update as a function of the success rate: :math:`\mathbb E\hat g=w(p)\,\nabla
    p`.

    RLOO: :math:`w=1` (unbiased); Dr. GRPO: :math:`w=(G-1)/G`; GRPO: :math:`w=\kappa/(p(1-p))`
    (:func:`alignsim.dynamics.grpo_binary_factor`), :math:`\to1/\sqrt{p(1-p)}` as :math:`G\to\infty`: the easiest
    and hardest prompts weigh most. A noisy verifier multiplies by :math:`1-f_n-f_p` and evaluates the estimator at
    the reported rate :math:`q`.

    Parameters
    ----------
    p : float or array_like
        Success probabilities in (0, 1).
    G : int
    estimator : {"grpo", "dr_grpo", "rloo"}
    **params
        ``ddof``, ``eps``, ``fp``, ``fn`` of :func:`group_update_moments`.

    Returns
    -------
    float or ndarray

    References
    ----------
    .. [1] Z. Liu et al., arXiv:2503.20783 (the difficulty bias of std normalisation).

    Examples
    --------
    >>> from alignsim import rlvr
    >>> round(rlvr.difficulty_weight(0.5, 2, "dr_grpo"), 12)
    0.5
    """
    ps = V.real_array(p, "p", low=0.0, high=1.0, low_open=True, high_open=True)
    out = np.array([group_update_moments(float(x), G, estimator, **params)["weight"] for x in ps.ravel()])
    out = out.reshape(ps.shape)
    return float(out) if out.ndim == 0 else out


def optimal_group_size(p, budget: int, estimator: str = "grpo", **params) -> pd.DataFrame:
    r"""Group size that maximises the signal-to-noise ratio of the averaged update at a fixed sample budget.

    With ``budget`` samples split into :math:`B/G` groups of :math:`G`, the averaged update has mean
    :math:`\mu_G` and variance :math:`G\sigma^2_G/B`, so its squared SNR is :math:`B\,\mu_G^2/(G\,\sigma_G^2)`
    (:func:`group_update_moments`; :math:`B/G` taken as a real number of groups). Returns the table over every
    :math:`G` from 2 to ``budget``;
    the row of the best :math:`G` is flagged ``best``.

    Parameters
    ----------
    p : float
        Success probability in (0, 1).
    budget : int
        Samples per step, 2 <= budget <= 100 000.
    estimator : {"grpo", "dr_grpo", "rloo"}
    **params
        ``ddof``, ``eps``, ``fp``, ``fn`` of :func:`group_update_moments`.

    Returns
    -------
    pandas.DataFrame
        Columns ``G, mean, variance, snr_total, zero_fraction, best``.

    References
    ----------
    .. [1] The PACED "frontier of competence" argument; Z. Shao et al., arXiv:2402.03300.

    Examples
    --------
    >>> from alignsim import rlvr
    >>> df = rlvr.optimal_group_size(0.05, 64, "rloo")
    >>> int(df.loc[df["best"], "G"].iloc[0]) > 2    # a hard prompt needs groups large enough to see a success
    True
    """
    b = V.length(budget, "budget", low=2, high=100_000, why="one moment computation per group size")
    rows = []
    for g in range(2, b + 1):
        mom = group_update_moments(p, g, estimator, **params)
        snr2 = b * mom["mean"] ** 2 / (g * mom["variance"]) if mom["variance"] > 0 else 0.0
        rows.append({"G": g, "mean": mom["mean"], "variance": mom["variance"], "snr_total": math.sqrt(snr2),
                     "zero_fraction": mom["zero_fraction"]})
    df = pd.DataFrame(rows)
    df["best"] = df["snr_total"] == df["snr_total"].max()
    return df
