r"""The framework presets on whole sequences of a Markov LM: exact expected gradients by a backward recursion, their
variance by enumeration, and the table against the sequence-level KL (private; re-exported by
:mod:`alignsim.frameworks`).

Parametrisation: the policy's logits of the first token and of every row of every step's transition, each step its
own parameters (the gradient for logits shared across steps is the sum over steps). Samples are whole sequences of
the policy; each token's term is averaged over the sequence's :math:`T` tokens (TRL's ``loss_type="grpo"``, verl's
``seq-mean-token-mean``; the length is fixed, so the other aggregations differ by a constant).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from .. import _validate as V
from ..markov import MarkovLM
from ._gradient import _value_and_slope, _weighted_coefficient
from ._presets import Preset, all_presets, preset

#: Largest number of sequences the variance enumerates.
MAX_SEQUENCES = 200_000


def _rows(policy, ref):
    """Per position u: the policy's and the reference's next-token laws, one row per state (position 0: the first
    token's law as a single row), and the occupancy of the states (the law of the previous token)."""
    if not isinstance(policy, MarkovLM):
        raise TypeError(f"policy must be a MarkovLM, got {type(policy).__name__}")
    if not isinstance(ref, MarkovLM):
        raise TypeError(f"ref must be a MarkovLM, got {type(ref).__name__}")
    if (policy.initial.size, policy.length) != (ref.initial.size, ref.length) or policy.eos != ref.eos:
        raise ValueError("policy and ref must have the same vocabulary size, length and end token")
    if policy.eos is not None:
        raise ValueError("policy has an end token: with random lengths the loss aggregation decides the weights "
                         "(see alignsim.rlvr.aggregated_update); the sequence presets need a fixed length (eos=None)")
    p_rows, r_rows, occ = [policy.initial[None, :]], [ref.initial[None, :]], [np.ones(1)]
    law = policy.initial
    for t in range(1, policy.length):
        mine = policy.transition if policy._steps is None else policy.transition[t - 1]
        theirs = ref.transition if ref._steps is None else ref.transition[t - 1]
        p_rows.append(mine)
        r_rows.append(theirs)
        occ.append(law)
        law = law @ mine
    for u, (pp, rr, oc) in enumerate(zip(p_rows, r_rows, occ)):
        live = oc > 0
        if np.any(pp[live] == 0) or np.any(rr[live] == 0):
            raise ValueError("policy and ref must give every token a positive probability in every reachable state "
                             f"(position {u}): a softmax policy does, and every estimator needs log pi - log ref")
    return p_rows, r_rows, occ


def _master_rows(mf, pp):
    """Row-wise master identity: E[f s] = pi f - pi sum(pi f), from pi f."""
    return mf - pp * mf.sum(axis=1, keepdims=True)


def _mf_rows(pr, pp, rr, oc):
    """pi f of every reachable row (rows the policy never reaches stay 0: their laws may have zeros)."""
    mf = np.zeros_like(pp)
    for s in np.flatnonzero(oc > 0):
        mf[s] = _weighted_coefficient(pr, pp[s], rr[s])
    return mf


def _local(pr, p_rows, r_rows, occ, t):
    """Per-token terms that involve only their own token: (1/T) occupancy x the bandit gradient of each row."""
    return [oc[:, None] * _master_rows(_mf_rows(pr, pp, rr, oc), pp) / t for pp, rr, oc in zip(p_rows, r_rows, occ)]


def _return_to_go(values_pr, p_rows, r_rows, occ, t):
    r"""REINFORCE with the preset's per-token values as rewards and the return to go as every token's advantage:
    :math:`\frac1T\mathbb E\sum_u s_u\sum_{w\ge u}v_w`, by the backward recursion
    :math:`W_u(s)=\sum_y\pi_u(y|s)\,(v_u(s,y)+W_{u+1}(y))` (the past rewards drop out: the score has mean 0 given
    the past)."""
    out = [None] * len(p_rows)
    w_next = np.zeros(p_rows[-1].shape[1])
    for u in range(len(p_rows) - 1, -1, -1):
        pp, rr = p_rows[u], r_rows[u]
        mf = _mf_rows(values_pr, pp, rr, occ[u]) + np.where(occ[u][:, None] > 0, pp * w_next, 0.0)
        out[u] = occ[u][:, None] * _master_rows(mf, pp) / t
        w_next = mf.sum(axis=1)
    return out


def _as_reward(pr: Preset) -> Preset:
    return Preset(**{**pr.__dict__, "placement": "reward", "is_weight": "none"})


def _blocks(pr, p_rows, r_rows, occ):
    t = len(p_rows)
    if pr.placement == "reward":
        return _return_to_go(pr, p_rows, r_rows, occ, t)
    if pr.is_weight == "differentiable" and pr.is_level == "sequence" and t > 1:
        # k3 times exp(mean_u log-ratio_u): k3' at its own token plus (1/T) sum_t k3_t on every token's score,
        # whose expectation keeps the tokens at and after each score (the return to go of the k3 values)
        local = _local(Preset(**{**pr.__dict__, "is_weight": "none"}), p_rows, r_rows, occ, t)
        rtg = _return_to_go(_as_reward(pr), p_rows, r_rows, occ, t)
        return [a + b / t for a, b in zip(local, rtg)]
    return _local(pr, p_rows, r_rows, occ, t)


def _result(blocks):
    return {"initial": blocks[0][0], "transition": np.stack(blocks[1:]) if len(blocks) > 1 else
            np.zeros((0,) + (blocks[0].shape[1],) * 2)}


def sequence_gradient(policy, ref, framework, **settings) -> dict:
    r"""Exact expected gradient of a framework's KL term on whole sequences of a Markov LM, per unit KL coefficient,
    in the logits of each step's next-token laws.

    Each token's term is averaged over the :math:`T` tokens of the sequence. Terms local to a token (KL in the loss,
    with a token-level importance ratio, straight-through) contribute
    :math:`\frac1T d_u(s)\,\mathbb E_{y\sim\pi_u(\cdot|s)}[f(y)s_y]` to the row of state :math:`s` at position
    :math:`u` (:math:`d_u` the law of the previous token, :math:`f` as in
    :func:`alignsim.frameworks.expected_gradient`); a KL in the reward is REINFORCE with every token's advantage its
    return to go :math:`\sum_{w\ge u}v_w` (the same expectation as the whole return), found by the backward recursion
    :math:`W_u(s)=\sum_y\pi_u(y|s)(v_u(s,y)+W_{u+1}(y))`; TRL's sequence-level ratio
    :math:`\exp(\frac1T\sum_u(\log\pi_u-\log\pi_{{\rm old},u}))` on k3 adds :math:`\frac1T` times the return-to-go
    gradient of the k3 values to the loss term. The gradient of :math:`\frac1T\mathrm{KL}(\pi\|\pi_{\rm ref})` over
    sequences is the k1-in-the-reward row: per-token placements that ignore the effect of a token on later states
    (k2 in the loss, the full next-token KL) follow the per-token KL with the state law held fixed instead.

    Parameters
    ----------
    policy, ref : MarkovLM
        Same vocabulary and length, no end token; every token positive in every reachable state.
    framework : {"trl", "verl", "openrlhf"} or Preset
        As in :func:`alignsim.frameworks.expected_gradient`.
    **settings
        As in :func:`alignsim.frameworks.expected_gradient`.

    Returns
    -------
    dict
        ``"initial"``: shape (V,), the first token's logits; ``"transition"``: shape (T - 1, V, V), row ``s`` of step
        ``t`` the logits of the token after ``s`` at position ``t``. Each row sums to zero.

    References
    ----------
    .. [1] Y. Tang and R. Munos, arXiv:2506.09477 (2025), section on sequences; TRL issue #6586 (the sequence-level
       ratio).

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim import MarkovLM, frameworks
    >>> pi = MarkovLM([0.6, 0.4], [[0.7, 0.3], [0.4, 0.6]], [0.0, 1.0], 3)
    >>> ref = MarkovLM([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]], [0.0, 1.0], 3)
    >>> g = frameworks.sequence_gradient(pi, ref, "verl", use_kl_in_reward=True, kl_penalty="kl")
    >>> g["transition"].shape, bool(np.allclose(g["transition"].sum(axis=-1), 0))
    ((2, 2, 2), True)
    """
    pr = framework if isinstance(framework, Preset) else preset(framework, **settings)
    return _result(_blocks(pr, *_rows(policy, ref)))


def _reverse_target(p_rows, r_rows, occ):
    return _return_to_go(preset("verl", use_kl_in_reward=True, kl_penalty="kl"), p_rows, r_rows, occ, len(p_rows))


def _rao_blackwell(p_rows, r_rows, occ):
    """The full next-token KL at each visited state, in the loss: (1/T) d_u(s) F_s ell_s per row."""
    t = len(p_rows)
    out = []
    for pp, rr, oc in zip(p_rows, r_rows, occ):
        mf = np.zeros_like(pp)
        live = oc > 0
        mf[live] = pp[live] * (np.log(pp[live]) - np.log(rr[live]))
        out.append(oc[:, None] * _master_rows(mf, pp) / t)
    return out


def _per_sample(pr, p_rows, r_rows, seq):
    """The per-sample gradient of one sequence as a list of (position, row, vector) blocks."""
    t = len(seq)
    states = [0] + list(seq[:-1])
    ell = [math.log(p_rows[u][states[u], seq[u]]) - math.log(r_rows[u][states[u], seq[u]]) for u in range(t)]
    if pr is None:  # Rao-Blackwellised: deterministic given the states
        out = []
        for u in range(t):
            pp, rr = p_rows[u][states[u]], r_rows[u][states[u]]
            mf = pp * (np.log(pp) - np.log(rr))
            out.append((u, states[u], (mf - pp * mf.sum()) / t))
        return out
    raw = Preset(**{**pr.__dict__, "placement": "reward", "is_weight": "none"})
    v, dv = _value_and_slope(raw, np.array(ell))
    if pr.placement == "reward":
        f = np.cumsum(v[::-1])[::-1] if pr.credit == "return_to_go" else np.full(t, v.sum())
    elif pr.placement == "straight_through":
        f = np.array(ell)
    elif pr.is_weight == "differentiable":
        f = dv + (v if pr.is_level == "token" or t == 1 else v.sum() / t)
    else:
        f = dv
    out = []
    for u in range(t):
        pp = p_rows[u][states[u]]
        s = -pp.copy()
        s[seq[u]] += 1.0
        out.append((u, states[u], f[u] * s / t))
    return out


def _variance(pr, p_rows, r_rows, mean_blocks):
    v, t = p_rows[0].shape[1], len(p_rows)
    if v ** t > MAX_SEQUENCES:
        raise ValueError(f"the variance enumerates all V^length = {v}^{t} sequences, at most {MAX_SEQUENCES}; lower "
                         "length or the vocabulary")
    second = 0.0
    for seq in itertools.product(range(v), repeat=t):
        states = [0] + list(seq[:-1])
        prob = math.prod(p_rows[u][states[u], seq[u]] for u in range(t))
        acc = {}
        for u, s, vec in _per_sample(pr, p_rows, r_rows, seq):
            acc[(u, s)] = acc.get((u, s), 0.0) + vec
        second += prob * sum(float(vec @ vec) for vec in acc.values())
    mean_sq = sum(float(np.sum(b * b)) for b in mean_blocks)
    return float(max(second - mean_sq, 0.0))


def sequence_gradient_variance(policy, ref, framework, **settings) -> float:
    r"""Variance per sampled sequence of a framework's KL-gradient estimate on a Markov LM, by enumeration.

    The trace of the covariance of the per-sequence gradient :math:`\frac1T\sum_u f_u\,s_u` over all
    :math:`V^T` sequences (at most 200 000), with :math:`f_u` the coefficient the framework's code produces for
    token :math:`u`: the slope of its estimator in the loss, its log-ratio straight-through, in the reward the sum of
    its values credited to the token (REINFORCE without a baseline; the return to go or the whole sequence, as the
    preset's ``credit`` says), and for TRL's sequence-level ratio on k3
    :math:`k_3'(\ell_u)+\frac1T\sum_w k_3(\ell_w)`.

    Parameters
    ----------
    policy, ref : MarkovLM
        As in :func:`sequence_gradient`.
    framework : {"trl", "verl", "openrlhf"} or Preset
        As in :func:`alignsim.frameworks.expected_gradient`.
    **settings
        As in :func:`alignsim.frameworks.expected_gradient`.

    Returns
    -------
    float

    References
    ----------
    .. [1] Tang and Munos (2025), arXiv:2506.09477.

    Examples
    --------
    >>> from alignsim import MarkovLM, frameworks
    >>> pi = MarkovLM([0.6, 0.4], [[0.7, 0.3], [0.4, 0.6]], [0.0, 1.0], 3)
    >>> ref = MarkovLM([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]], [0.0, 1.0], 3)
    >>> round(frameworks.sequence_gradient_variance(pi, ref, "trl", trainer="grpo"), 6)
    0.014039
    """
    pr = framework if isinstance(framework, Preset) else preset(framework, **settings)
    rows = _rows(policy, ref)
    return _variance(pr, rows[0], rows[1], _blocks(pr, *rows))


def sequence_table(policy, ref, *, rtol: float = 1e-9) -> pd.DataFrame:
    r"""Every preset on whole sequences of a Markov LM against the gradient of
    :math:`\frac1T\mathrm{KL}(\pi\|\pi_{\rm ref})` over sequences.

    Columns ``framework``, ``setting``, ``follows`` (``"KL(pi || ref) over sequences"`` when the expected gradient
    equals that target to ``rtol``, ``"per-token KL(pi || ref)"`` or ``"per-token KL(ref || pi)"`` when it equals
    the gradient of the per-token KL with the law of the states held fixed, which misses the effect of a token on
    the later states, ``"nothing"`` for a zero gradient, else ``"other"``), ``cosine``,
    ``relative_bias``, ``variance`` (:func:`sequence_gradient_variance`). The last row, framework ``"reference"``, is
    the Rao-Blackwellised estimator (the full next-token KL at each visited state, in the loss), with its exact
    variance: the per-token KL, unbiased for it, and random only through the visited states.

    Parameters
    ----------
    policy, ref : MarkovLM
        As in :func:`sequence_gradient` (at most 200 000 sequences, for the variances).
    rtol : float
        Relative tolerance for ``follows``, > 0.

    Returns
    -------
    pandas.DataFrame

    References
    ----------
    .. [1] Tang and Munos (2025), arXiv:2506.09477; TRL issue #3556 (per-token vs sequence KL).

    Examples
    --------
    >>> from alignsim import MarkovLM, frameworks
    >>> pi = MarkovLM([0.6, 0.4], [[0.7, 0.3], [0.4, 0.6]], [0.0, 1.0], 3)
    >>> ref = MarkovLM([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]], [0.0, 1.0], 3)
    >>> df = frameworks.sequence_table(pi, ref)
    >>> df.loc[df.setting == "use_kl_loss=True, kl_loss_type='mse'", "follows"].item()
    'per-token KL(pi || ref)'
    """
    rtol = V.real(rtol, "rtol", low=0.0, low_open=True)
    p_rows, r_rows, occ = _rows(policy, ref)
    v, t = p_rows[0].shape[1], len(p_rows)
    if v ** t > MAX_SEQUENCES:
        raise ValueError(f"the variances enumerate all V^length = {v}^{t} sequences, at most {MAX_SEQUENCES}; lower "
                         "length or the vocabulary")
    flat = lambda blocks: np.concatenate([b.ravel() for b in blocks])  # noqa: E731
    target = flat(_reverse_target(p_rows, r_rows, occ))
    per_token = flat(_rao_blackwell(p_rows, r_rows, occ))
    per_token_forward = flat(_local(preset("trl", trainer="grpo"), p_rows, r_rows, occ, t))  # d_u(s) (pi - ref)/T
    nt = float(np.linalg.norm(target))
    rows = []

    def row(framework, setting, blocks, variance):
        g = flat(blocks)
        scale = max(float(np.linalg.norm(g)), nt)
        follows = ("nothing" if np.linalg.norm(g) <= rtol * nt else "KL(pi || ref) over sequences" if np.linalg.norm(g - target) <= rtol * scale else
                   "per-token KL(pi || ref)" if np.linalg.norm(g - per_token) <= rtol * scale else
                   "per-token KL(ref || pi)" if np.linalg.norm(g - per_token_forward) <= rtol * scale else "other")
        ng = float(np.linalg.norm(g))
        rows.append({"framework": framework, "setting": setting, "follows": follows,
                     "cosine": float(g @ target / (ng * nt)) if ng > 0 and nt > 0 else 0.0,
                     "relative_bias": float(np.linalg.norm(g - target) / nt) if nt > 0 else math.inf,
                     "variance": variance})

    for pr in all_presets():
        blocks = _blocks(pr, p_rows, r_rows, occ)
        row(pr.framework, pr.setting, blocks, _variance(pr, p_rows, r_rows, blocks))
    rb = _rao_blackwell(p_rows, r_rows, occ)
    row("reference", "full next-token KL at each visited state (Rao-Blackwellised)", rb,
        _variance(None, p_rows, r_rows, rb))
    return pd.DataFrame(rows)
