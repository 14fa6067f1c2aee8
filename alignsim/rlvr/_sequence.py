r"""Group updates on a Markov LM with an end token, per state: the length bias of the loss aggregations, exactly
(private; re-exported by :mod:`alignsim.rlvr`).

A prompt is a :class:`alignsim.markov.MarkovLM` (random lengths through its end token) and a binary verifier on
(reward, length). A group of :math:`G` sequences is scored by a group advantage and its per-token losses are
aggregated as verl does; the expected update with respect to every logit of the chain follows from exchangeability
and the score-function gradient of :meth:`alignsim.markov.MarkovLM.expected_gradient`.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from .. import _validate as V
from ..markov import MarkovLM
from ._aggregation import AGGREGATIONS
from ._length import _group_advantages
from ._prompts import accepted
from ._signal import GROUP_ESTIMATORS
from ._verifier import _rate

#: Most cells of the law of the other G - 1 sequences' (successes, total length) (token-mean only).
MAX_GROUP_CELLS = 20_000_000


def _single_law(lm, correct, fp, fn):
    """``(ok, P)``: the verifier on the joint law's grid and the law of (reported success, length), shape (2, n)."""
    j = lm.joint_law()
    r, n, prob = j["reward"].to_numpy(float), j["length"].to_numpy(int), j["prob"].to_numpy(float)
    ok = accepted(correct, r, n)
    law = np.zeros((2, lm.length + 1))
    np.add.at(law[1], n, prob * np.where(ok, 1.0 - fn, fp))
    np.add.at(law[0], n, prob * np.where(ok, fn, 1.0 - fp))
    return law


def _others(law, G):
    """Law of (reported successes, total length) of G - 1 independent sequences, by one FFT power (absolute error
    ~1e-16 per cell, negatives clipped; the update is a mean of bounded terms over it)."""
    rows, cols = G, (G - 1) * (law.shape[1] - 1) + 1
    size = (rows, int(2 ** np.ceil(np.log2(cols))))
    f = np.fft.rfft2(law, s=size) ** (G - 1)
    return np.maximum(np.fft.irfft2(f, s=size)[:rows, :cols], 0.0)


def _advantage_table(G, estimator, ddof, eps):
    """``A[c, m]``: the advantage of a response reported ``c`` when ``m`` of the other G - 1 are reported correct."""
    m = np.arange(G)
    table = np.zeros((2, G))
    for c in (0, 1):
        succ = m + c
        counts = np.column_stack([G - succ, succ]).astype(float)
        table[c] = _group_advantages(counts, np.array([0.0, 1.0]), estimator, ddof, eps)[:, c]
    return table


def _group_value(lm, correct, G, estimator, aggregation, ddof, eps, horizon, fp, fn):
    """``h(R, L)`` with ``E[update] = grad E[h]`` (the score of one sequence times G times its expected weighted
    advantage given its own (reward, length), over its report and the other G - 1 sequences)."""
    law = _single_law(lm, correct, fp, fn)
    n = lm.length
    lengths = np.arange(n + 1, dtype=float)
    adv = _advantage_table(G, estimator, ddof, eps)
    if aggregation == "token-mean":
        others = _others(law, G)  # (m, S)
        if others.size > MAX_GROUP_CELLS:
            raise ValueError(f"G={G} and length={n} need {others.size:.3g} cells for the others' total length (at "
                             f"most {MAX_GROUP_CELLS:.0e}); lower G or the length")
        # h_rep[c, L] = sum_{m, S} P(m, S) A(c, m) / (L + S)
        inv = 1.0 / (lengths[1:, None] + np.arange(others.shape[1])[None, :])  # (L, S)
        h_rep = adv @ (others @ inv.T)  # (2, L)
    else:
        q = float(law[1].sum())
        per_m = adv @ binom.pmf(np.arange(G), G - 1, q)  # (2,)
        if aggregation == "seq-mean-token-sum":
            w = np.full(n, 1.0 / G)
        elif aggregation == "seq-mean-token-mean":
            w = 1.0 / (G * lengths[1:])
        else:
            w = np.full(n, 1.0 / horizon)
        h_rep = per_m[:, None] * w[None, :]
    # the sequence's own report given its true correctness
    h_true = np.stack([(1.0 - fp) * h_rep[0] + fp * h_rep[1], fn * h_rep[0] + (1.0 - fn) * h_rep[1]])

    def h(reward, length):
        ok = accepted(correct, reward, length)
        idx = np.broadcast_to(length, ok.shape).astype(int) - 1
        return G * np.where(ok, h_true[1][idx], h_true[0][idx])
    return h


def _check(lm, G, estimator, aggregation, ddof, eps, horizon, fp, fn):
    if not isinstance(lm, MarkovLM):
        raise TypeError(f"lm must be a MarkovLM (a memoryless LM is MarkovLM.from_memoryless), got "
                        f"{type(lm).__name__}")
    g = V.length(G, "G", low=2, high=10 ** 4, why="the others' law has G rows")
    est = V.choice(estimator, "estimator", GROUP_ESTIMATORS)
    agg = V.choice(aggregation, "aggregation", AGGREGATIONS)
    d = V.choice(ddof, "ddof", (0, 1))
    e = V.real(eps, "eps", low=0.0)
    h = float(lm.length) if horizon is None else V.real(horizon, "horizon", low=0.0, low_open=True)
    return g, est, agg, d, e, h, _rate(fp, "fp"), _rate(fn, "fn")


def sequence_update(lm, correct, G: int, estimator: str = "grpo", aggregation: str = "token-mean", *,
                    ddof: int = 1, eps: float = 0.0, horizon=None, fp: float = 0.0, fn: float = 0.0
                    ) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact expected update of one group of sequences of a Markov LM with respect to every logit of the chain,
    under a group advantage estimator and a loss aggregation, with an optional noisy verifier.

    A group of :math:`G` sequences :math:`y_i\sim\pi`, verdicts :math:`\hat c_i` (the verifier on
    :math:`(R_i, L_i)`, flipped with rates ``fn``/``fp``), advantages :math:`A_i` from the verdicts (GRPO with its
    standard deviation, Dr. GRPO, RLOO), per-token loss :math:`-A_i\log\pi(y_{i,t}\mid y_{i,t-1})` aggregated by
    verl's ``agg_loss`` (:func:`aggregate`): each token of sequence :math:`i` weighs :math:`w_i` = :math:`1/\sum_j
    L_j` (``token-mean``), :math:`1/G` (``seq-mean-token-sum``), :math:`1/(GL_i)` (``seq-mean-token-mean``),
    :math:`1/H` (``seq-mean-token-sum-norm``). The update (ascent direction) :math:`\sum_iA_iw_i\nabla\log\pi(y_i)`
    has, by exchangeability of the group,

    .. math::

        \mathbb E\Big[\sum_iA_iw_i\nabla\log\pi(y_i)\Big] = \nabla_\theta\,\mathbb E_{y\sim\pi_\theta}[h(R,L)]
        \Big|_{h\ \text{fixed}},\qquad h(R,L) = G\,\mathbb E\big[A_1w_1\mid R_1=R, L_1=L\big],

    where the inner mean runs over the first sequence's verdict and the other :math:`G-1` sequences (their law of
    verdict count and total length: a :math:`(G-1)`-fold convolution, needed by ``token-mean`` only); the gradient
    is :meth:`alignsim.markov.MarkovLM.expected_gradient`. Exact up to rounding (the convolution by FFT: absolute
    error ~1e-16).

    Parameters
    ----------
    lm : MarkovLM
        The policy (an end token makes lengths random; a memoryless LM is ``MarkovLM.from_memoryless``).
    correct : collection of numbers, or callable
        The verifier: rewarded reward levels, or ``correct(reward, length) -> bool`` (as :func:`success_probability`).
    G : int
        Group size, ``2 <= G <= 10000``.
    estimator : {"grpo", "dr_grpo", "rloo"}
    aggregation : str
        One of :data:`AGGREGATIONS`.
    ddof, eps : int, float
        GRPO's standard deviation (ddof 0 or 1; eps added to it).
    horizon : float, optional
        :math:`H` of ``seq-mean-token-sum-norm``; default ``lm.length`` (verl divides by the padded width, the
        longest response the rollout allows).
    fp, fn : float
        The verifier's false-positive and false-negative rates.

    Returns
    -------
    d_initial : ndarray, shape (V,)
    d_transition : ndarray, the shape of ``lm.transition``
        The expected update with respect to the logits of the initial law and of each transition row.

    References
    ----------
    .. [1] Z. Shao et al., "DeepSeekMath" (GRPO), arXiv:2402.03300; Z. Liu et al., "Understanding R1-Zero-like
       training: a critical perspective" (Dr. GRPO, the length bias), arXiv:2503.20783.
    .. [2] verl ``agg_loss``, verl/trainer/ppo/core_algos.py @ 26b5d6b2.

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim import rlvr
    >>> from alignsim.markov import MarkovLM
    >>> lm = MarkovLM([0.5, 0.5], [[0.5, 0.5], [0.3, 0.7]], [0.0, 1.0], 4, eos=0)   # token 0 ends, token 1 scores
    >>> right = lambda r, n: r >= 2                                                  # two good tokens or more
    >>> d0, dT = rlvr.sequence_update(lm, right, 8, "rloo", "seq-mean-token-sum")  # unbiased: the gradient of p
    >>> round(float(dT[1, 1]), 12)    # = d P(correct) / d logit of staying on the good token
    0.105
    """
    args = _check(lm, G, estimator, aggregation, ddof, eps, horizon, fp, fn)
    return lm.expected_gradient(_group_value(lm, correct, *args))


def sequence_length_drift(lm, correct, G: int, estimator: str = "grpo", aggregation: str = "token-mean", *,
                          among: str = "all", **params) -> float:
    r"""Rate of change of the expected length of a Markov LM's sequences along the expected group update
    :math:`u` of :func:`sequence_update`, overall or among the correct or the incorrect ones.

    .. math::

        \frac{d}{d\eta}\mathbb E_{\theta+\eta u}[L\mid S]\Big|_{\eta=0}
        = \frac{\langle\nabla\mathbb E[L\,\mathbb 1_S],u\rangle-\mathbb E[L\mid S]\,\langle\nabla P(S),u\rangle}{P(S)},

    with :math:`S` every sequence, those the verifier accepts (``"correct"``) or those it rejects
    (``"incorrect"``), judged by the true verdict; both gradients from
    :meth:`alignsim.markov.MarkovLM.expected_gradient`. A positive drift among the incorrect sequences is the
    length bias of an aggregation.

    Parameters
    ----------
    lm, correct, G, estimator, aggregation
        As in :func:`sequence_update`.
    among : {"all", "correct", "incorrect"}
    **params
        ``ddof``, ``eps``, ``horizon``, ``fp``, ``fn`` of :func:`sequence_update`.

    Returns
    -------
    float
        Tokens per unit step.

    References
    ----------
    .. [1] Z. Liu et al., arXiv:2503.20783 (the length bias of GRPO's per-response normalisation).

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim import rlvr
    >>> from alignsim.markov import MarkovLM
    >>> T = np.zeros((5, 5)); T[0, 0] = 1   # 0 ends; 1/2 start a right/wrong answer; 3/4 pad it out
    >>> T[1, [0, 3]] = T[3, [0, 3]] = T[2, [0, 4]] = T[4, [0, 4]] = 0.5
    >>> lm = MarkovLM([0, 0.3, 0.7, 0, 0], T, [0, 1, 0, 0, 0], 8, eos=0)
    >>> {a: round(rlvr.sequence_length_drift(lm, [1.0], 8, "grpo", a, among="incorrect"), 4) + 0.0  # no -0.0
    ...  for a in rlvr.AGGREGATIONS}   # wrong answers grow under the token means, most under the per-sequence one
    {'token-mean': 0.0047, 'seq-mean-token-sum': 0.0, 'seq-mean-token-mean': 0.0291, 'seq-mean-token-sum-norm': 0.0}
    """
    which = V.choice(among, "among", ("all", "correct", "incorrect"))
    u0, ut = sequence_update(lm, correct, G, estimator, aggregation, **params)

    def inner(h):
        g0, gt = lm.expected_gradient(h)
        return float(np.dot(g0, u0) + np.sum(gt * ut))

    def member(reward, length):
        ok = accepted(correct, reward, length)
        return np.ones(ok.shape) if which == "all" else (ok if which == "correct" else ~ok).astype(float)

    j = lm.joint_law()
    inside = member(j["reward"].to_numpy(float), j["length"].to_numpy(int)).astype(bool)
    mass = float(j["prob"].to_numpy()[inside].sum())
    if mass == 0.0:
        raise ValueError(f"no sequence is {which}: the drift among them is undefined")
    mean_len = float(np.dot(j["prob"].to_numpy()[inside], j["length"].to_numpy(float)[inside])) / mass
    return (inner(lambda r, n: n * member(r, n)) - mean_len * inner(member)) / mass
