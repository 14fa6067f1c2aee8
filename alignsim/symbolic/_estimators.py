r"""KL estimators and the rows of the gradient table, symbolically (private; re-exported by
:mod:`alignsim.symbolic`).

Convention of :mod:`alignsim.estimators`: :math:`\ell=\log\pi-\log\pi_{\rm ref}`, :math:`k_1=\ell`,
:math:`k_2=\ell^2/2`, :math:`k_3=e^{-\ell}-1+\ell`, samples from the policy (or a behaviour policy).
"""

from __future__ import annotations

import functools

import sympy as sp

from .. import _validate as V
from ._core import outcomes, symbols

_KINDS = ("k1", "k2", "k3")


def _value(kind, ell):
    return {"k1": ell, "k2": ell ** 2 / 2, "k3": sp.exp(-ell) - 1 + ell}[kind]


@functools.lru_cache(maxsize=32)
def _moments(kind, k):
    pi, ref = symbols("pi", k, positive=True), symbols("ref", k, positive=True)
    vals = [_value(kind, sp.log(a) - sp.log(b)) for a, b in zip(pi, ref)]
    mean = sp.Add(*[a * v for a, v in zip(pi, vals)])
    second = sp.Add(*[a * v ** 2 for a, v in zip(pi, vals)])
    return {"mean": mean, "var": second - mean ** 2}


def estimator_moments(kind: str = "k3", *, K: int = 2) -> dict:
    r"""Mean and variance of a KL estimator under the policy, for a finite law of :math:`K` outcomes.

    .. math:: \mathbb E_\pi k=\sum_y\pi_y k(\ell_y),\qquad \mathrm{Var}\,k=\sum_y\pi_y k(\ell_y)^2-(\mathbb E_\pi k)^2

    in the symbols ``pi_1..pi_K`` and ``ref_1..ref_K`` (the normalisation :math:`\sum\pi=\sum\pi_{\rm ref}=1` is the
    caller's to substitute; with it :math:`\mathbb E k_1=\mathbb E k_3=\mathrm{KL}(\pi\|\pi_{\rm ref})`).

    Parameters
    ----------
    kind : {"k1", "k2", "k3"}
        The estimator.
    K : int
        Number of outcomes, 2 to 8.

    Returns
    -------
    dict
        ``"mean"`` and ``"var"``, sympy expressions.

    References
    ----------
    .. [1] J. Schulman, "Approximating KL divergence" (2020).

    Examples
    --------
    >>> from alignsim import symbolic
    >>> m = symbolic.estimator_moments("k3", K=2)
    >>> law = dict(pi_1=0.3, pi_2=0.7, ref_1=0.5, ref_2=0.5)
    >>> round(symbolic.numeric(m["mean"], **law), 12), round(symbolic.numeric(m["var"], **law), 12)
    (0.082282878505, 0.002318915807)
    """
    V.choice(kind, "kind", _KINDS)
    return dict(_moments(kind, outcomes(K)))


_PLACEMENTS = ("reward", "loss", "straight_through")
_IS = ("none", "detached", "differentiable")


@functools.lru_cache(maxsize=64)
def _gradient(kind, placement, k, sampling, is_weight):
    theta = symbols("theta", k, real=True)
    old = symbols("theta_old", k, real=True)  # detached copies (the stop-gradient), set equal to theta at the end
    beh = symbols("b", k, real=True)
    ref = symbols("ref", k, positive=True)

    def logsoftmax(v):
        z = sp.log(sp.Add(*[sp.exp(t) for t in v]))
        return [t - z for t in v]

    log_pi, log_old = logsoftmax(theta), logsoftmax(old)
    log_mu = logsoftmax(beh) if sampling == "off" else log_old
    total = 0
    for y in range(k):
        ell = log_pi[y] - sp.log(ref[y])
        ell_sg = log_old[y] - sp.log(ref[y])
        w = sp.exp(log_pi[y] - log_mu[y]) if is_weight == "differentiable" else \
            sp.exp(log_old[y] - log_mu[y]) if is_weight == "detached" else 1
        if placement == "reward":  # the penalty as a negative reward, REINFORCE: loss sg[c k] log pi
            term = w * _value(kind, ell_sg) * log_pi[y]
        elif placement == "loss":
            term = w * _value(kind, ell)
        else:  # straight-through: k2 - sg[k2] + sg[k], weighted
            term = w * (_value("k2", ell) - _value("k2", ell_sg) + _value(kind, ell_sg))
        total += sp.exp(log_mu[y]) * term
    grad = [sp.diff(total, t) for t in theta]
    back = {o: t for o, t in zip(old, theta)}
    return tuple(g.subs(back) for g in grad)


def gradient_row(kind: str, placement: str, *, K: int = 2, sampling: str = "on", is_weight: str = "none") -> list:
    r"""One row of :func:`alignsim.estimators.gradient_table` as expressions in the logits, derived by
    differentiating the row's surrogate loss.

    The surrogate is :math:`J(\theta)=\sum_y\mu(y)\,L_y(\theta)` with :math:`\mu` the (detached) sampling law
    (the policy itself on-policy, ``softmax(b)`` off-policy) and :math:`L_y` the row's per-sample loss:
    :math:`c\,\mathrm{sg}[k]\log\pi_\theta(y)` (reward), :math:`c\,k(\ell_\theta(y))` (loss),
    :math:`c\,(k_2-\mathrm{sg}[k_2]+\mathrm{sg}[k])` (straight-through), :math:`c` the importance weight
    :math:`\pi_\theta/\mu` (``"differentiable"``), its detached value (``"detached"``) or 1. The stop-gradient is a
    second set of symbols ``theta_old`` replaced by ``theta`` after differentiation.

    Parameters
    ----------
    kind : {"k1", "k2", "k3"}
        The estimator.
    placement : {"reward", "loss", "straight_through"}
        Where it enters.
    K : int
        Number of outcomes, 2 to 4.
    sampling : {"on", "off"}
        Samples from the policy or from ``softmax(b_1..b_K)``.
    is_weight : {"none", "detached", "differentiable"}
        The importance weight.

    Returns
    -------
    list of sympy expressions
        :math:`\partial J/\partial\theta_a`, in ``theta_i``, ``ref_i`` (and ``b_i``).

    References
    ----------
    .. [1] Y. Tang and R. Munos, arXiv:2506.09477 (2025).

    Examples
    --------
    >>> from alignsim import symbolic
    >>> g = symbolic.gradient_row("k3", "loss", K=2)   # on-policy k3 in the loss: pi - ref
    >>> round(symbolic.numeric(g[0], theta_1=0.0, theta_2=0.0, ref_1=0.2, ref_2=0.8), 12)
    0.3
    """
    V.choice(kind, "kind", _KINDS)
    V.choice(placement, "placement", _PLACEMENTS)
    V.choice(sampling, "sampling", ("on", "off"))
    V.choice(is_weight, "is_weight", _IS)
    return list(_gradient(kind, placement, outcomes(K, high=4), sampling, is_weight))
