r"""Entropy control by covariance: the exact expected Clip-Cov and KL-Cov updates on a softmax bandit, in the
large-batch limit (private; re-exported by :mod:`alignsim.rlvr`).

Both methods (Cui et al., "The entropy mechanism of reinforcement learning for reasoning language models",
arXiv:2505.22617, section 4) score each sampled token by the centred covariance
:math:`c(y)=(A(y)-\bar A)(\log\pi(y)-\overline{\log\pi})` over the batch and treat the tokens of largest covariance
differently: Clip-Cov detaches the gradient of a random ``clip_cov_ratio`` of all tokens among those with
:math:`c\in(\mathrm{lb},\mathrm{ub})`; KL-Cov adds ``ppo_kl_coef`` :math:`\cdot|\log\pi-\log\pi_{\rm old}|` to the
loss of the top ``kl_cov_ratio`` of tokens by :math:`c`. As verl implements them (``compute_policy_loss_clip_cov``,
``compute_policy_loss_kl_cov`` in verl/trainer/ppo/core_algos.py @ b178a3cd), with ``loss_agg_mode="token-mean"``.
In the large-batch limit the batch means become expectations under the sampling policy and "a fraction of the
tokens" becomes a fraction of its mass: the outcomes are ranked by :math:`c`, and an outcome at the boundary of the
selected mass is selected in part.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import log_softmax

from .. import _validate as V


def _policy(logits, name="logits"):
    th = V.logits(logits, name)
    return th, log_softmax(th)


def _advantages(advantages, k):
    a = V.real_array(advantages, "advantages")
    if a.shape != (k,):
        raise ValueError(f"logits and advantages must have the same shape (one advantage per outcome), got ({k},) "
                         f"and {a.shape}")
    return a


def covariance_scores(logits, advantages) -> np.ndarray:
    r"""The large-batch limit of the per-token covariance score of Clip-Cov and KL-Cov.

    .. math:: c(y)=\big(A(y)-\mathbb E_\pi A\big)\big(\log\pi(y)-\mathbb E_\pi\log\pi\big)

    Parameters
    ----------
    logits : array_like, shape (K,)
        The policy's logits.
    advantages : array_like, shape (K,)
        The advantage of each outcome.

    Returns
    -------
    ndarray, shape (K,)

    References
    ----------
    .. [1] G. Cui et al., arXiv:2505.22617, eq. (7) (the centred covariance of a token).

    Examples
    --------
    >>> from alignsim import rlvr
    >>> rlvr.covariance_scores([1.0, 0.0], [1.0, -1.0]).round(6).tolist()
    [0.144659, 1.068893]
    """
    th, lp = _policy(logits)
    return _centred_covariance(np.exp(lp), lp, _advantages(advantages, th.size))


def _centred_covariance(weights, lp, a):
    """(A - E_w A)(log pi - E_w log pi): the batch means of Clip-Cov and KL-Cov are under the sampling law ``w``."""
    return (a - math.fsum(weights * a)) * (lp - math.fsum(weights * lp))


def _top_mass(pi, score, fraction):
    """The share of each outcome's mass that the top ``fraction`` of tokens by ``score`` takes: outcomes in
    decreasing order of score fill the fraction, the last one in part."""
    share = np.zeros_like(pi)
    left = fraction
    for y in np.argsort(-score, kind="stable"):
        if left <= 0:
            break
        take = min(pi[y], left)
        share[y] = take / pi[y] if pi[y] > 0 else 0.0
        left -= take
    return share


def clip_cov_update(logits, advantages, *, clip_cov_ratio: float = 0.0002, clip_cov_lb: float = 1.0,
                    clip_cov_ub: float = 5.0) -> np.ndarray:
    r"""The exact expected gradient of verl's Clip-Cov policy loss on a softmax bandit, on-policy, in the
    large-batch limit.

    On-policy the ratio is 1 and PPO's clip is inactive, so each token contributes :math:`-A(y)\,s_y` unless its
    gradient is detached. The candidates are the outcomes with :math:`\mathrm{lb}<c(y)<\mathrm{ub}`
    (:func:`covariance_scores`); a uniformly random ``clip_cov_ratio`` of all tokens among them is detached, so each
    candidate keeps its gradient with probability :math:`1-q`, :math:`q=\min(1, \text{ratio}/\pi(C))`:

    .. math:: g = -\sum_y \pi_y A_y\big(1-q\,\mathbb 1[y\in C]\big)(e_y-\pi).

    Parameters
    ----------
    logits : array_like, shape (K,)
        The policy's logits.
    advantages : array_like, shape (K,)
        The advantage of each outcome.
    clip_cov_ratio : float
        The fraction of tokens detached, in (0, 1] (verl's default 0.0002).
    clip_cov_lb, clip_cov_ub : float
        The covariance window of the candidates, lb < ub (verl's defaults 1 and 5).

    Returns
    -------
    ndarray, shape (K,)
        The expected gradient of the loss with respect to the logits (sums to zero).

    References
    ----------
    .. [1] G. Cui et al., arXiv:2505.22617, section 4.2 (Clip-Cov); verl core_algos.py @ b178a3cd.

    Examples
    --------
    >>> from alignsim import rlvr
    >>> rlvr.clip_cov_update([1.0, 0.0], [1.0, -1.0], clip_cov_ratio=0.1, clip_cov_lb=0.5).round(6).tolist()
    [-0.320118, 0.320118]
    """
    th, lp = _policy(logits)
    a = _advantages(advantages, th.size)
    r = V.real(clip_cov_ratio, "clip_cov_ratio", low=0.0, high=1.0, low_open=True)
    lb, ub = V.real(clip_cov_lb, "clip_cov_lb"), V.real(clip_cov_ub, "clip_cov_ub")
    if not lb < ub:
        raise ValueError(f"clip_cov_lb must be below clip_cov_ub, got {lb!r} and {ub!r}")
    pi = np.exp(lp)
    c = _centred_covariance(pi, lp, a)
    cand = (c > lb) & (c < ub)
    mass = math.fsum(pi[cand])
    q = min(1.0, r / mass) if mass > 0 else 0.0
    mf = pi * a * (1.0 - q * cand)
    return -(mf - pi * math.fsum(mf))


def kl_cov_update(logits, old_logits, advantages, *, kl_cov_ratio: float = 0.0002,
                  ppo_kl_coef: float = 1.0) -> np.ndarray:
    r"""The exact expected gradient of verl's KL-Cov policy loss on a softmax bandit, for samples of the old policy
    (a later mini-batch of a PPO step), in the large-batch limit.

    Every token contributes :math:`-A(y)\,\rho(y)\,s_y` with :math:`\rho=\pi/\pi_{\rm old}`; the top
    ``kl_cov_ratio`` of tokens by :math:`c(y)` (computed with the current log-probabilities, detached, and the
    advantages) add :math:`\kappa\,|\log\pi(y)-\log\pi_{\rm old}(y)|`, whose gradient is
    :math:`\kappa\,\mathrm{sign}(\ell(y))\,s_y` (0 where :math:`\pi=\pi_{\rm old}`: on the first, on-policy
    mini-batch KL-Cov is plain policy gradient). With :math:`w_y` the selected share of outcome :math:`y`'s mass:

    .. math:: g = \sum_y \pi_{{\rm old},y}\big(-A_y\rho_y + \kappa\,w_y\,\mathrm{sign}(\ell_y)\big)(e_y-\pi).

    Parameters
    ----------
    logits : array_like, shape (K,)
        The current policy's logits.
    old_logits : array_like, shape (K,)
        The logits of the policy that sampled the batch.
    advantages : array_like, shape (K,)
        The advantage of each outcome.
    kl_cov_ratio : float
        The fraction of tokens penalised, in (0, 1] (verl's default 0.0002).
    ppo_kl_coef : float
        The penalty's coefficient, >= 0 (verl's default 1).

    Returns
    -------
    ndarray, shape (K,)
        The expected gradient of the loss with respect to the current logits.

    References
    ----------
    .. [1] G. Cui et al., arXiv:2505.22617, section 4.2 (KL-Cov); verl core_algos.py @ b178a3cd.

    Examples
    --------
    >>> from alignsim import rlvr
    >>> rlvr.kl_cov_update([1.0, 0.0], [1.0, 0.0], [1.0, -1.0]).round(6).tolist()   # on-policy: plain PG
    [-0.393224, 0.393224]
    """
    th, lp = _policy(logits)
    _, lo = _policy(old_logits, "old_logits")
    V.same_shape(th, lo, "logits", "old_logits")
    a = _advantages(advantages, th.size)
    r = V.real(kl_cov_ratio, "kl_cov_ratio", low=0.0, high=1.0, low_open=True)
    coef = V.real(ppo_kl_coef, "ppo_kl_coef", low=0.0)
    pi, old = np.exp(lp), np.exp(lo)
    # the batch's means are under the sampling (old) policy; the scores use the current log-probabilities
    c = _centred_covariance(old, lp, a)
    share = _top_mass(old, c, r)
    # pi_old (-A rho) = -A pi: formed without the ratio, which overflows where the old policy is tiny
    mf = -a * pi + coef * share * np.sign(lp - lo) * old
    return mf - pi * math.fsum(mf)
