r"""Expected RLVR training over a set of prompts that share one policy: pass@1 up, pass@k at large k down."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import _validate as V
from ..dynamics import shared_policy_pass_at_k
from ._signal import group_update_moments


def _correct_masks(correct_sets, k):
    if len(correct_sets) == 0:
        raise ValueError("correct_sets must list at least one prompt")
    masks = np.zeros((len(correct_sets), k))
    for j, c in enumerate(correct_sets):
        idx = np.asarray(list(c), dtype=int)
        if idx.size and (idx.min() < 0 or idx.max() >= k):
            raise ValueError(f"correct_sets must hold answer indices in [0, {k - 1}], got {list(c)}")
        masks[j, idx] = 1.0
    return masks


def prompt_set_trajectory(logits, correct_sets, G: int = 8, steps: int = 200, eta: float = 0.5, *,
                          estimator: str = "grpo", kl_coef: float = 0.0, ks=(1, 4, 16, 64), fp: float = 0.0,
                          fn: float = 0.0, every: int = 1, k: int = 1) -> pd.DataFrame:
    r"""Exact expected RLVR dynamics of one policy shared by a set of prompts, with pass@k along the way.

    A policy :math:`\pi=\mathrm{softmax}(\theta)` over :math:`K` answers (strategies) is used on every prompt; prompt
    :math:`j` is solved by the answers :math:`C_j`, with success probability :math:`p_j=\pi(C_j)`. One step moves
    :math:`\theta` by :math:`\eta` times the expected group update averaged over the prompts, minus a KL penalty:

    .. math::

        \Delta\theta = \eta\Big[\frac1J\sum_j w(p_j)\,\pi\odot(\mathbf 1_{C_j}-p_j)
        -\beta\,\pi\odot(\ell-\langle\pi,\ell\rangle)\Big],\qquad \ell=\log\pi-\log\pi_{\rm ref},

    with :math:`w` the per-prompt weight of :func:`group_update_moments` (the group update of a binary reward is
    exactly :math:`w(p)\nabla p` for any policy over answers: the answers within each correctness class are drawn in
    proportion to :math:`\pi`) and :math:`\beta` = ``kl_coef``, the reference being the start. Mean pass@k over the
    prompts (:func:`alignsim.dynamics.shared_policy_pass_at_k`) rises at :math:`k=1` while at large :math:`k` it can
    fall below the reference's: the policy concentrates on the answers that solve most prompts.

    Parameters
    ----------
    logits : array_like, shape (K,)
        The reference (starting) policy's logits.
    correct_sets : sequence of sequences of int
        The answers that solve each prompt.
    G : int
        Group size.
    steps : int
        At most 100 000.
    eta : float
        Step size, > 0.
    estimator : str
        One of :data:`ESTIMATORS` (pass@k training with ``k``).
    kl_coef : float
        KL(pi || reference) penalty coefficient, >= 0.
    ks : sequence of int
        The k of the pass@k columns.
    fp, fn : float
        Verifier error rates.
    every : int
        Record every ``every``-th step (and the last).
    k : int
        The k of the pass@k-training estimators.

    Returns
    -------
    pandas.DataFrame
        Columns ``step``, ``pass@k`` for each k, ``entropy`` (nats), ``kl_ref``.

    References
    ----------
    .. [1] Y. Yue et al., "Does reinforcement learning really incentivize reasoning capacity in LLMs beyond the base
       model?", arXiv:2504.13837 (pass@k at large k below the base model).

    Examples
    --------
    >>> from alignsim import rlvr
    >>> df = rlvr.prompt_set_trajectory([0.0] * 4, [[0], [0], [0], [1], [2], [3]], steps=100, ks=(1, 16))
    >>> bool(df["pass@1"].iloc[-1] > df["pass@1"].iloc[0] and df["pass@16"].iloc[-1] < df["pass@16"].iloc[0])
    True
    """
    theta0 = V.real_array(logits, "logits")
    if theta0.ndim != 1 or theta0.size < 2:
        raise ValueError(f"logits must be a 1-D array of at least 2 logits, got shape {theta0.shape}")
    masks = _correct_masks(correct_sets, theta0.size)
    n_steps = V.length(steps, "steps", low=0, high=100_000, why="each step sums the group updates of every prompt")
    step_size = V.real(eta, "eta", low=0.0, low_open=True)
    beta = V.real(kl_coef, "kl_coef", low=0.0)
    stride = V.length(every, "every")
    kk = [V.length(a, "ks", high=10 ** 9, why="a number of attempts") for a in np.atleast_1d(ks)]
    group_update_moments(0.5, G, estimator, fp=fp, fn=fn, k=k)  # validates G, estimator, the rates and k at once

    def law(theta):
        z = theta - theta.max()
        log_pi = z - math.log(np.sum(np.exp(z)))
        return np.exp(log_pi), log_pi

    _, log_ref = law(theta0)
    theta, rows = theta0.copy(), []
    for step in range(n_steps + 1):
        pi, log_pi = law(theta)
        if step % stride == 0 or step == n_steps:
            row = {"step": step}
            for attempts in kk:
                row[f"pass@{attempts}"] = float(shared_policy_pass_at_k(pi, correct_sets, attempts))
            row["entropy"] = float(-np.dot(pi, log_pi))
            row["kl_ref"] = float(np.dot(pi, log_pi - log_ref))
            rows.append(row)
        if step == n_steps:
            break
        p = masks @ pi
        update = np.zeros(pi.size)
        for j in range(masks.shape[0]):
            if 0.0 < p[j] < 1.0:
                w = group_update_moments(float(p[j]), G, estimator, fp=fp, fn=fn, k=k)["weight"]
                update += w * pi * (masks[j] - p[j])
        update /= masks.shape[0]
        if beta:
            ell = log_pi - log_ref
            update -= beta * pi * (ell - np.dot(pi, ell))
        theta = theta + step_size * update
    return pd.DataFrame(rows)
