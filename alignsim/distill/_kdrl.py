r"""KL-regularised distillation (KDRL, G-OPD): reward, a reference and a teacher at once, in closed form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _validate as V
from ..divergences import kl as _kl
from ..regularisers import geometric_mixture
from ..tilting import tilt


@dataclass(frozen=True)
class KDRLOptimum:
    r"""The optimum of :func:`kdrl_optimum` and what it reaches:
    :math:`\pi^\star\propto\mathrm{ref}^{1-w}T^{w}e^{r/(\beta_{\rm ref}+\beta_T)}`.

    Attributes
    ----------
    pi : ndarray
        The optimal policy.
    weight : float
        The teacher's exponent :math:`w=\beta_T/(\beta_{\rm ref}+\beta_T)` in the geometric mixture.
    temperature : float
        :math:`\beta_{\rm ref}+\beta_T`, the KL coefficient of the reward tilt.
    reward, kl_ref, kl_teacher, objective : float
        :math:`\mathbb E_\pi r`, :math:`\mathrm{KL}(\pi\|\mathrm{ref})`, :math:`\mathrm{KL}(\pi\|T)` and the
        objective at the optimum.

    References
    ----------
    .. [1] H. Xu et al., arXiv:2506.02208 (KDRL).

    Examples
    --------
    >>> from alignsim import distill
    >>> opt = distill.kdrl_optimum([0.5, 0.5], [0.9, 0.1], [0.0, 1.0], 0.5, 0.5)
    >>> round(opt.objective, 6) == round(opt.reward - 0.5 * opt.kl_ref - 0.5 * opt.kl_teacher, 6)
    True
    """

    pi: np.ndarray
    weight: float
    temperature: float
    reward: float
    kl_ref: float
    kl_teacher: float
    objective: float


def kdrl_optimum(ref, teacher, r, beta_ref, beta_teacher) -> KDRLOptimum:
    r"""The maximiser of :math:`\mathbb E_\pi r-\beta_{\rm ref}\mathrm{KL}(\pi\|\mathrm{ref})-\beta_T\mathrm{KL}(\pi\|T)`.

    .. math::

        \pi^\star\propto \mathrm{ref}^{\,1-w}\,T^{\,w}\,e^{r/(\beta_{\rm ref}+\beta_T)},\qquad
        w=\frac{\beta_T}{\beta_{\rm ref}+\beta_T},

    since the objective equals :math:`\mathbb E_\pi r-(\beta_{\rm ref}+\beta_T)\,\mathrm{KL}(\pi\|g_w)` up to a
    constant, with :math:`g_w` the normalised geometric mixture of :func:`alignsim.regularisers.geometric_mixture`
    (reused here); the optimum is the exponential tilt of :math:`g_w` by :math:`r` at coefficient
    :math:`\beta_{\rm ref}+\beta_T`. Its support is the common support of ref and the teacher.

    Parameters
    ----------
    ref, teacher : array_like, shape (K,)
        Reference and teacher laws over the same outcomes.
    r : array_like, shape (K,)
        Rewards.
    beta_ref, beta_teacher : float
        Non-negative KL coefficients, not both zero.

    Returns
    -------
    KDRLOptimum

    References
    ----------
    .. [1] H. Xu et al., "KDRL: post-training reasoning LLMs via unified knowledge distillation and reinforcement
       learning", arXiv:2506.02208 (the joint objective).
    .. [2] Yang et al., "G-OPD", arXiv:2602.12125 (on-policy distillation as a geometric mixture).

    Examples
    --------
    >>> from alignsim import distill
    >>> opt = distill.kdrl_optimum([0.5, 0.5], [0.9, 0.1], [0.0, 1.0], 0.5, 0.5)
    >>> opt.weight, [round(float(x), 6) for x in opt.pi]   # ref^(1/2) teacher^(1/2) = (0.75, 0.25), tilted by e^r
    (0.5, [0.524633, 0.475367])
    """
    p_ref = V.probabilities(ref, "ref")
    p_t = V.probabilities(teacher, "teacher")
    if p_t.size != p_ref.size:
        raise ValueError(f"teacher must be a law over the same {p_ref.size} outcomes as ref, got {p_t.size}")
    rr = V.rewards(r, "r", size=p_ref.size, like="ref")
    b_ref = V.real(beta_ref, "beta_ref", low=0.0)
    b_t = V.real(beta_teacher, "beta_teacher", low=0.0)
    total = b_ref + b_t
    if total == 0.0:
        raise ValueError("beta_ref and beta_teacher are both 0: the objective is then E r alone, maximised by any law "
                         "on the best outcomes (no unique optimum); give a positive coefficient")
    if not np.isfinite(total):
        raise ValueError(f"beta_ref + beta_teacher must be finite, got {total}")
    w = b_t / total
    mix, _ = geometric_mixture(p_ref, p_t, w)
    pi = tilt(mix, rr, total)
    reward = float(np.dot(pi, rr))
    kl_ref, kl_t = float(_kl(pi, p_ref)), float(_kl(pi, p_t))
    return KDRLOptimum(pi, w, total, reward, kl_ref, kl_t, reward - b_ref * kl_ref - b_t * kl_t)


def kdrl_frontier(ref, teacher, r, beta_ref, beta_teachers) -> pd.DataFrame:
    r"""The KDRL optimum along a sweep of the teacher's coefficient: reward against both KLs.

    One :func:`kdrl_optimum` per :math:`\beta_T` (at fixed :math:`\beta_{\rm ref}`): as :math:`\beta_T` grows the
    optimum moves from the reward tilt of the reference towards the teacher (the teacher's exponent
    :math:`w=\beta_T/(\beta_{\rm ref}+\beta_T)` grows and the tilt's temperature :math:`\beta_{\rm ref}+\beta_T`
    too).

    Parameters
    ----------
    ref, teacher : array_like, shape (K,)
    r : array_like, shape (K,)
    beta_ref : float
        Non-negative.
    beta_teachers : array_like
        Non-negative coefficients of KL(pi || teacher), at most 10 000.

    Returns
    -------
    pandas.DataFrame
        Columns ``beta_teacher, weight, reward, kl_ref, kl_teacher, objective``.

    References
    ----------
    .. [1] H. Xu et al., arXiv:2506.02208 (KDRL).

    Examples
    --------
    >>> from alignsim import distill
    >>> df = distill.kdrl_frontier([0.5, 0.5], [0.9, 0.1], [0.0, 1.0], 0.5, [0.0, 0.5, 5.0])
    >>> df["weight"].round(3).tolist()
    [0.0, 0.5, 0.909]
    """
    bts = V.real_array(beta_teachers, "beta_teachers", low=0.0).ravel()
    if bts.size == 0 or bts.size > 10_000:
        raise ValueError(f"beta_teachers must hold 1 to 10 000 coefficients, got {bts.size}")
    rows = []
    for b_t in bts:
        opt = kdrl_optimum(ref, teacher, r, beta_ref, float(b_t))
        rows.append({"beta_teacher": float(b_t), "weight": opt.weight, "reward": opt.reward, "kl_ref": opt.kl_ref,
                     "kl_teacher": opt.kl_teacher, "objective": opt.objective})
    return pd.DataFrame(rows)


def grpo_kd_update(student_logits, r, teacher, G: int, kd_coef: float, *, kd_loss: str = "k1_reward",
                   ddof: int = 1, eps: float = 0.0, **params) -> np.ndarray:
    r"""The exact expected update of GRPO plus a distillation loss on a bandit, with respect to the logits.

    .. math::

        \mathbb E\,\Delta\theta = \mathbb E\,\hat g_{\rm GRPO}(\pi, r, G) - c\,\nabla_\theta\,\mathbb E\,L_{\rm KD}(\pi, T),

    the group-normalised policy-gradient step of :func:`alignsim.dynamics.grpo_expected_update` (ascent) and the
    expected gradient of the distillation loss of :func:`expected_gradient` (descent) with weight :math:`c` =
    ``kd_coef`` (KDRL's joint update; on-policy distillation as an additive penalty, as slime's ``--opd-kl-coef``).

    Parameters
    ----------
    student_logits : array_like, shape (K,)
    r : array_like, shape (K,)
        Rewards.
    teacher : array_like, shape (K,)
        The teacher's law (full support for the sampled losses).
    G : int
        Group size, >= 2.
    kd_coef : float
        Weight of the distillation loss, >= 0.
    kd_loss : str
        A loss of :func:`expected_gradient` (default ``"k1_reward"``: the log-ratio as a REINFORCE penalty).
    ddof, eps
        As in :func:`alignsim.dynamics.grpo_expected_update`.
    **params
        The parameters of a full-vocabulary ``kd_loss``.

    Returns
    -------
    ndarray, shape (K,)
        The expected update (ascent direction).

    References
    ----------
    .. [1] Z. Shao et al., arXiv:2402.03300 (GRPO); H. Xu et al., arXiv:2506.02208 (KDRL).

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim import distill
    >>> from alignsim.dynamics import grpo_expected_update
    >>> theta, r, t = np.zeros(3), [1.0, 0.5, 0.0], [0.2, 0.3, 0.5]
    >>> bool(np.allclose(distill.grpo_kd_update(theta, r, t, 4, 0.0), grpo_expected_update(np.full(3, 1 / 3), r, 4)))
    True
    """
    from ..dynamics import grpo_expected_update
    from ._gradients import _student, expected_gradient

    _, pi = _student(student_logits)
    c = V.real(kd_coef, "kd_coef", low=0.0)
    grpo = grpo_expected_update(pi, r, G, ddof=ddof, eps=eps)
    kd = expected_gradient(student_logits, teacher, kd_loss, **params)  # validated even when its weight is 0
    return grpo - c * kd if c else grpo
