r"""On-policy against off-policy distillation of a Markov teacher into a memoryless student: exposure bias, exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _validate as V
from ..markov import MarkovLM
from ._fit import _memoryless, token_occupancy


@dataclass(frozen=True)
class OnPolicyFixedPoint:
    r"""The result of :func:`on_policy_fixed_point`.

    Attributes
    ----------
    p : ndarray
        The student's token law at the last iterate.
    iterations : int
    converged : bool
        Whether successive iterates agreed to ``tol`` (sup norm) within ``max_iter`` steps.
    history : ndarray, shape (iterations + 1, V)
        Every iterate, the start first: :math:`p_0, p_1,\dots` of the update of :func:`on_policy_fixed_point`.

    References
    ----------
    .. [1] R. Agarwal et al., ICLR 2024 (GKD).

    Examples
    --------
    >>> from alignsim import distill
    >>> from alignsim.markov import MarkovLM
    >>> T = MarkovLM([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [1.0, 0.0], 4)
    >>> distill.on_policy_fixed_point(T, 1.0).converged
    True
    """

    p: np.ndarray
    iterations: int
    converged: bool
    history: np.ndarray


def _student(teacher: MarkovLM, p: np.ndarray) -> MarkovLM:
    v = teacher.initial.size
    return MarkovLM(p, np.tile(p, (v, 1)), teacher.rewards, teacher.length, eos=teacher.eos)


def _teacher_rows(teacher: MarkovLM) -> np.ndarray:
    if teacher.transition.ndim == 3:
        raise ValueError("the teacher must be a stationary chain (one (V, V) transition): the memoryless student's "
                         "prefix law is summed over steps in closed form")
    return teacher.transition


def _student_prefix_target(teacher: MarkovLM, p: np.ndarray) -> np.ndarray:
    r"""Sum over positions of the teacher's next-token law at the student's prefixes:
    :math:`\mu_T+\sum_{t=2}^{L}P_S(\text{alive at }t)\,\mathbb E_S[T(y_{t-1},\cdot)\mid\text{alive}]`."""
    rows = _teacher_rows(teacher)
    live = p.copy()
    stop = 0.0
    if teacher.eos is not None:
        stop = live[teacher.eos]
        live[teacher.eos] = 0.0
    # a memoryless student is alive at position t >= 2 with probability (1 - p_eos)^(t - 1) and its previous token
    # is then p restricted to the other tokens: sum_{t=2}^{L} (1 - p_eos)^(t-2) (p_live @ T)
    n = teacher.length - 1
    survive = 1.0 - stop
    weight = float(n if survive == 1.0 else -np.expm1(n * np.log1p(-stop)) / stop) if n > 0 else 0.0
    return teacher.initial + weight * (live @ rows)


def on_policy_fixed_point(teacher, lam: float = 1.0, *, start=None, max_iter: int = 10_000,
                          tol: float = 1e-13) -> OnPolicyFixedPoint:
    r"""Iterate token-level forward-KL distillation of a Markov teacher into a memoryless student on a mixture of
    the student's and the teacher's prefixes (GKD's ``lmbda``) to its fixed point, exactly.

    Token-level forward KL summed over the positions of a prefix law :math:`Q` is minimised over memoryless
    students by :math:`p\propto\sum_t\mathbb E_Q[T(\cdot\mid y_{t-1})]` (the expected teacher next-token law). With
    :math:`Q=\lambda\,S_p+(1-\lambda)\,T` (GKD with ``lmbda`` :math:`=\lambda`: a fraction :math:`\lambda` of
    on-policy data) the update is

    .. math::

        p_{k+1}\propto\lambda\Big(\mu_T+c(p_k)\,p_k^{\rm live}T\Big)+(1-\lambda)\,N^T,\qquad
        c(p)=\sum_{t=2}^{L}(1-p_{\rm eos})^{t-2},

    with :math:`N^T` the teacher's token occupancy (:func:`token_occupancy`): :math:`\lambda=0` is supervised KD
    (one step, the sequence-level forward-KL optimum); :math:`\lambda=1` is fully on-policy distillation.

    Parameters
    ----------
    teacher : MarkovLM
        A stationary chain (its transition of shape (V, V)).
    lam : float
        The on-policy fraction :math:`\lambda\in[0,1]`.
    start : array_like, shape (V,), optional
        The first student (default: the teacher's first-token law).
    max_iter : int
    tol : float
        Stop when successive iterates agree to ``tol`` in sup norm.

    Returns
    -------
    OnPolicyFixedPoint

    References
    ----------
    .. [1] R. Agarwal et al., "On-policy distillation of language models", ICLR 2024 (GKD, ``lmbda``).
    .. [2] S. Ross, G. Gordon, D. Bagnell, "A reduction of imitation learning and structured prediction to no-regret
       online learning" (DAgger), AISTATS 2011 (the fixed point of training on one's own prefixes).

    Examples
    --------
    >>> from alignsim import distill
    >>> from alignsim.markov import MarkovLM
    >>> T = MarkovLM([0.5, 0.3, 0.2], [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]], [1.0, 0.0, 0.0], 6, eos=2)
    >>> res = distill.on_policy_fixed_point(T, 1.0)
    >>> res.converged, [round(float(x), 4) for x in res.p]
    (True, [0.4977, 0.3797, 0.1225])
    """
    if not isinstance(teacher, MarkovLM):
        raise TypeError(f"teacher must be a MarkovLM, got {type(teacher).__name__}")
    _teacher_rows(teacher)
    lam_ = V.real(lam, "lam", low=0.0, high=1.0)
    iters = V.length(max_iter, "max_iter", high=10 ** 6, why="each iteration is a pass over the vocabulary")
    tol_ = V.real(tol, "tol", low=0.0, low_open=True)
    p = teacher.initial.copy() if start is None else V.probabilities(start, "start")
    if p.size != teacher.initial.size:
        raise ValueError(f"start must be a law over the teacher's {teacher.initial.size} tokens, got {p.size}")
    occupancy = token_occupancy(teacher)
    history = [p]
    for k in range(1, iters + 1):
        target = lam_ * _student_prefix_target(teacher, p) + (1.0 - lam_) * occupancy
        new = target / target.sum()
        history.append(new)
        if np.max(np.abs(new - p)) < tol_:
            return OnPolicyFixedPoint(new, k, True, np.array(history))
        p = new
    return OnPolicyFixedPoint(p, iters, False, np.array(history))


def exposure_bias(teacher, lambdas=(0.0, 0.25, 0.5, 0.75, 1.0)) -> pd.DataFrame:
    r"""What on-policy data changes: the memoryless student reached by token-level forward-KL distillation of a
    Markov teacher on a mixture of prefixes, for each on-policy fraction :math:`\lambda`, against the
    sequence-level reverse-KL optimum.

    For each :math:`\lambda` (:func:`on_policy_fixed_point`) and for the sequence-level reverse-KL student
    (:func:`fit`, ``lam`` reported as NaN): the sequence-level ``kl_student_teacher`` :math:`\mathrm{KL}(S\|T)`
    and ``kl_teacher_student`` :math:`\mathrm{KL}(T\|S)`, the student's expected reward and mean length, against
    the teacher's (``reward_teacher``, ``length_teacher``), and whether the iteration converged.

    Parameters
    ----------
    teacher : MarkovLM
        A stationary chain.
    lambdas : sequence of float
        On-policy fractions in [0, 1].

    Returns
    -------
    pandas.DataFrame
        One row per :math:`\lambda`, then the reverse-KL student's row, whose ``lam`` is ``nan`` (it is not a
        mixture of prefixes).

    References
    ----------
    .. [1] R. Agarwal et al., ICLR 2024 (GKD); Y. Gu et al., ICLR 2024 (MiniLLM: sequence-level reverse KL).

    Examples
    --------
    >>> from alignsim import distill
    >>> from alignsim.markov import MarkovLM
    >>> T = MarkovLM([0.5, 0.3, 0.2], [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]], [1.0, 0.0, 0.0], 6, eos=2)
    >>> df = distill.exposure_bias(T, [0.0, 1.0])
    >>> df["kl_student_teacher"].round(4).tolist()   # supervised KD, on-policy KD, sequence-level reverse KL
    [1.3895, 1.4069, 0.6037]
    """
    if not isinstance(teacher, MarkovLM):
        raise TypeError(f"teacher must be a MarkovLM, got {type(teacher).__name__}")
    lams = V.real_array(lambdas, "lambdas", low=0.0, high=1.0).ravel()
    if lams.size == 0:
        raise ValueError("lambdas must hold at least one on-policy fraction")
    lengths, probs = teacher.length_law()
    reward_t, length_t = teacher.mean_reward(), float(lengths @ probs)

    def row(lam, student, converged, iterations):
        ls, ps = student.length_law()
        return {"lam": lam, "kl_student_teacher": student.kl(teacher), "kl_teacher_student": teacher.kl(student),
                "reward": student.mean_reward(), "length": float(ls @ ps), "reward_teacher": reward_t,
                "length_teacher": length_t, "converged": converged, "iterations": iterations}

    rows = []
    for lam in lams:
        res = on_policy_fixed_point(teacher, float(lam))
        rows.append(row(float(lam), _student(teacher, res.p), res.converged, res.iterations))
    rev = _memoryless(teacher, "reverse_kl")
    rows.append(row(float("nan"), rev.student, True, 0))
    return pd.DataFrame(rows)
