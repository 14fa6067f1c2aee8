r"""KL-regularised distillation (KDRL, G-OPD): reward, a reference and a teacher at once, in closed form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
