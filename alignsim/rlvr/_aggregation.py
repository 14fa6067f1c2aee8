r"""How per-token losses are aggregated into one number: verl's ``loss_agg_mode``."""

from __future__ import annotations

import numpy as np

from .. import _validate as V

#: The aggregation names of verl's ``agg_loss`` (verl/trainer/ppo/core_algos.py @ 26b5d6b2).
AGGREGATIONS = ("token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm")


def aggregate(loss_mat, mask, mode: str = "token-mean", *, horizon=None) -> float:
    r"""Aggregate a (sequences x positions) loss matrix into a scalar exactly as verl's ``agg_loss``.

    ===========================  ===================================================================================
    mode                         value
    ===========================  ===================================================================================
    ``token-mean``               :math:`\sum_{i,t}m_{it}\ell_{it}/\sum_{i,t}m_{it}` (every token of the batch alike:
                                 a long answer weighs more)
    ``seq-mean-token-sum``       :math:`\frac1B\sum_i\sum_t m_{it}\ell_{it}`
    ``seq-mean-token-mean``      :math:`\frac1B\sum_i\frac{\sum_t m_{it}\ell_{it}}{\sum_t m_{it}}` (GRPO's original:
                                 a token of a long answer weighs less)
    ``seq-mean-token-sum-norm``  :math:`\sum_{i,t}m_{it}\ell_{it}/H` with :math:`H` the padded width
                                 (``loss_mask.shape[-1]``; Dr. GRPO's constant), or ``horizon``
    ===========================  ===================================================================================

    Parameters
    ----------
    loss_mat : array_like, shape (B, T)
        Per-token losses.
    mask : array_like, shape (B, T)
        1 for a response token, 0 for padding (every sequence needs a token for ``seq-mean-token-mean``).
    mode : str
        One of :data:`AGGREGATIONS`.
    horizon : float, optional
        The constant divisor of ``seq-mean-token-sum-norm`` (default: ``T``, as verl does).

    Returns
    -------
    float

    References
    ----------
    .. [1] verl, ``agg_loss`` in verl/trainer/ppo/core_algos.py, commit 26b5d6b2.
    .. [2] Z. Liu et al., "Understanding R1-Zero-like training: a critical perspective" (Dr. GRPO), arXiv:2503.20783.

    Examples
    --------
    >>> from alignsim import rlvr
    >>> loss, mask = [[1.0, 1.0, 1.0], [4.0, 0.0, 0.0]], [[1, 1, 1], [1, 0, 0]]
    >>> [rlvr.aggregate(loss, mask, m) for m in rlvr.AGGREGATIONS]
    [1.75, 3.5, 2.5, 2.3333333333333335]
    """
    mode = V.choice(mode, "mode", AGGREGATIONS)
    loss = V.real_array(loss_mat, "loss_mat")
    m = V.real_array(mask, "mask", low=0.0, high=1.0)
    if loss.ndim != 2 or m.shape != loss.shape or loss.size == 0:
        raise ValueError(f"loss_mat and mask must be non-empty (sequences x positions) arrays of one shape, got "
                         f"{loss.shape} and {m.shape}")
    masked = loss * m
    if mode == "token-mean":
        total = m.sum()
        if total == 0:
            raise ValueError("mask selects no token: token-mean is undefined")
        return float(masked.sum() / total)
    if mode == "seq-mean-token-sum":
        return float(masked.sum(axis=1).mean())
    if mode == "seq-mean-token-mean":
        per = m.sum(axis=1)
        if np.any(per == 0):
            raise ValueError("mask has a sequence with no token: seq-mean-token-mean divides by its length")
        return float((masked.sum(axis=1) / per).mean())
    h = float(loss.shape[1]) if horizon is None else V.real(horizon, "horizon", low=0.0, low_open=True)
    return float(masked.sum() / h)
