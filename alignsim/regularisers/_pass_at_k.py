r"""Binary rewards and pass@k: the success probability of an :math:`f`-regularised optimum, the hard-prompt
limit, pass@k over a mixture of prompts and matched pass@1. :func:`pass_at_k` is the package's one pass@k formula."""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as V
from ._optimum import _beta_root, f_optimum


def pass_at_k(p, k):
    r"""pass@k of a prompt with success probability :math:`p`: :math:`1-(1-p)^k`, computed as
    ``-expm1(k * log1p(-p))``. Vectorised.

    Parameters
    ----------
    p : float or array_like
        Success probability of one sample, in [0, 1].
    k : int, float or array_like
        Number of samples, >= 1 (broadcast against p).

    Returns
    -------
    float or ndarray
        1 - (1 - p)^k.

    References
    ----------
    .. [1] M. Chen et al., "Evaluating large language models trained on code", arXiv:2107.03374.

    Examples
    --------
    >>> from alignsim.regularisers import pass_at_k
    >>> round(pass_at_k(0.1, 10), 10)
    0.6513215599
    """
    pp = V.real_array(p, "p", low=0.0, high=1.0)
    kk = V.real_array(k, "k", low=1.0)
    with np.errstate(divide="ignore"):
        out = -np.expm1(kk * np.log1p(-pp))
    return float(out) if np.ndim(out) == 0 else out


# --------------------------------------------------------------------------------------------------------------
# Binary reward and pass@k
# --------------------------------------------------------------------------------------------------------------
def binary_success(p0, beta, divergence: str = "reverse_kl", *, delta: float = 1.0, alpha=None) -> float:
    r"""Success probability :math:`p=\pi(\text{correct})` of the :math:`f`-regularised optimum for a binary reward
    :math:`r\in\{0,\Delta\}` with reference success rate :math:`p_0`.

    .. math::

        \text{reverse KL: } p=\frac{p_0e^{\Delta/\beta}}{p_0e^{\Delta/\beta}+1-p_0},\qquad
        \chi^2:\ p=\min\{1,\,p_0+p_0(1-p_0)\Delta/(2\beta)\},

    and :func:`f_optimum` on the two atoms in general. Within the correct (and the wrong) responses every optimum is
    proportional to the reference, so a single prompt's pass@k depends on the regulariser only through :math:`p`.
    :math:`p_0=0` gives the hard-prompt limit (:func:`hard_prompt_limit`).

    Parameters
    ----------
    p0 : float
        Reference success rate in [0, 1].
    beta : float
    divergence : str
    delta : float
        Reward of a correct response, > 0.
    alpha : float, optional

    Returns
    -------
    float
        The optimum's success probability p in [0, 1].

    References
    ----------
    .. [1] Li et al., "DPH-RL", arXiv:2509.07430 (mass-covering regularisers keep pass@k).

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
    the reference never produces costs infinitely much). Computed as the optimum with :math:`p_0=0`, which equals
    these closed forms.

    Parameters
    ----------
    beta : float
        Regularisation strength, > 0.
    divergence : str
        Regulariser: "reverse_kl" (alias "kl"), "forward_kl", "chi2", "js", "hellinger", "tv" or "alpha".
    delta : float
        Reward of a correct response (wrong ones get 0), > 0.
    alpha : float, optional
        Order of the "alpha" divergence (required for it, ignored otherwise).

    Returns
    -------
    float
        The success probability the optimum reaches on a prompt the reference never solves.

    References
    ----------
    .. [1] Li et al., "DPH-RL", arXiv:2509.07430; Deng et al., "RAPO", arXiv:2510.03865.

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
    regulariser that spreads its gain to hard prompts wins at every :math:`k\ge2`.

    Parameters
    ----------
    p0s : array_like
        Reference success rate of each prompt.
    beta : float
    divergence : str
    ks : int or array_like
    weights : array_like, optional
        Prompt weights (default equal).
    delta : float
        Reward of a correct response (wrong ones get 0), > 0.
    alpha : float, optional
        Order of the ``"alpha"`` divergence (required for it, ignored otherwise).

    Returns
    -------
    float or ndarray

    References
    ----------
    .. [1] M. Chen et al., arXiv:2107.03374 (pass@k); Li et al., "DPH-RL", arXiv:2509.07430.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> round(reg.mixture_pass_at_k([0.1, 0.5], 1.0, "reverse_kl", 1), 6)
    0.481514
    """

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

    Parameters
    ----------
    p0s : array_like
        Reference success rate of each prompt, in [0, 1].
    target : float
        Aggregate pass@1 to reach.
    divergence : str
        Regulariser: "reverse_kl" (alias "kl"), "forward_kl", "chi2", "js", "hellinger", "tv" or "alpha".
    weights : array_like, optional
        Prompt weights (default equal).
    delta : float
        Reward of a correct response (wrong ones get 0), > 0.
    alpha : float, optional
        Order of the "alpha" divergence (required for it, ignored otherwise).

    Returns
    -------
    float
        beta > 0 with aggregate pass@1 equal to target.

    References
    ----------
    .. [1] Li et al., "DPH-RL", arXiv:2509.07430 (regularisers compared at matched pass@1).

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

    return _beta_root(f, 1e-6, 1e6, t, f"target={t!r} is not an aggregate pass@1 of the {divergence} optima of these p0s "
                                     f"with reward gap delta={delta!r}")
