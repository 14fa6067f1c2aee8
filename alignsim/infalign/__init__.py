r"""InfAlign: calibrated rewards, calibrate-and-transform (CTRL) policies and inference-time win rates.

A policy :math:`\pi` is judged after an inference-time procedure :math:`\mathcal T` (best-of-N, worst-of-N or plain
sampling) against the reference decoded the same way,

.. math::

    W^{\mathcal T}(\pi) = W\big(\mathcal T(\pi)\succ\mathcal T(\pi_{\rm ref})\big),\qquad
    W(\pi_1\succ\pi_2) = \Pr[r(Y_1)>r(Y_2)] + \tfrac12\Pr[r(Y_1)=r(Y_2)],

and the CTRL policies :math:`\pi_{\Phi,\beta}\propto\pi_{\rm ref}\,e^{\Phi(C(y))/\beta}` tilt the reference by a
transform :math:`\Phi` of the mid-rank calibrated reward :math:`C(y)=\Pr_{\rm ref}[r<r(y)]+\frac12\Pr_{\rm ref}[r=r(y)]`.

Two settings share one interface (``.kl``, ``.win_rate(procedure, N, against=...)``):

* finite laws (bandits, reward levels of a memoryless LM), exact: :func:`ctrl_policy`,
  :func:`inference_time_win_rate`, :func:`transformed_reward`;
* the continuous model in calibrated units (reference :math:`={\rm Unif}[0,1]`), which by calibration invariance (C)
  is the trade-off of *every* reward without atoms: :class:`UniformCTRL`, :func:`optimal_transform`,
  :func:`best_t`. Integrals are composite Simpson on a grid graded at both ends,
  :math:`u = s^3(10-15s+6s^2)`, :math:`2^{14}` intervals in :math:`s` (agreement with the exponential-integral closed
  forms to about :math:`10^{-10}`; the grid resolves spikes of width :math:`10^{-9}` at either end); all tilts are
  formed in log space from :math:`\log\lambda`, so :math:`\lambda=1/\beta` may exceed the float range.

The package rests on four results, referred to by letter in its docstrings:

(A) the main theorem of [1]: the inference-aware optimum is KL-regularised RL (RLHF) with the transformed reward
    :math:`\mathcal R_\pi`, the gradient of the inference-time win rate with respect to the policy;
(B) for best-/worst-of-N that reward is explicit: on reward levels with calibrated values :math:`c_\ell`,
    :math:`\mathcal R` is the derivative of :math:`\sum_\ell\mathcal T(a)_\ell c_\ell` in the level masses :math:`a`
    (:func:`transformed_reward`), and in calibrated units :math:`\mathcal R^{\rm bon}(u)=N^2\int_0^u(sF(s))^{N-1}ds`;
(C) calibration invariance: KL and every win rate depend on the reference only through calibrated levels, so a
    reward without atoms reduces to :math:`{\rm Unif}[0,1]` (the "analytical tool" of [1]);
(D) RLHF with the raw reward is CTRL with the reward's quantile function as the transform (:func:`quantile`).

(B)-(D) are derived for this package and checked numerically (``alignsim verify --only infalign``).

Conventions:

* ties count one half everywhere, and best-/worst-of-N break ties uniformly at random;
* ``against="decoded"`` (default) is the paper's inference-time win rate, the same procedure on both sides;
  ``against="reference"`` compares :math:`\mathcal T(\pi)` with plain reference samples;
* ``exp(t)`` is :math:`\Phi(u)=e^{t(u-1)}`, the paper's :math:`e^{tu}` divided by :math:`e^{t}`: the paper's
  :math:`\beta` is this module's :math:`\beta` times :math:`e^{t}` (``Transform.log_scale``); only the shape of
  :math:`\Phi` matters at matched KL.

References
----------
.. [1] A. Balashankar, Z. Sun, J. Berant, J. Eisenstein, M. Collins, A. Hutter, J. Lee, C. Nagpal, F. Prost,
   A. Sinha, A. T. Suresh, A. Beirami, "InfAlign: Inference-aware language model alignment", ICML 2025,
   arXiv:2412.19792.
.. [2] A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy", arXiv:2401.01879.
"""


from .. import _validate as V
from ..winrate import calibrated_reward
from ._continuous import UniformCTRL, ctrl_beta_for_kl
from ._finite import (CTRLPolicy, calibration_moments, ctrl_policy, estimate_calibrated_reward,
                      inference_time_win_rate, transformed_reward)
from ._optimal import FRONTIER_ROWS, OptimalTransform, best_t, frontier_table, optimal_frontier, optimal_transform, small_kl_t
from ._transforms import Transform, exp_transform, identity, log_transform, negexp, quantile, smoothed, unified

__all__ = [
    "CTRLPolicy",
    "FRONTIER_ROWS",
    "OptimalTransform",
    "Transform",
    "UniformCTRL",
    "best_t",
    "ctrl_beta_for_kl",
    "calibrated_reward",
    "calibration_moments",
    "ctrl_policy",
    "estimate_calibrated_reward",
    "exp_transform",
    "identity",
    "inference_time_win_rate",
    "log_transform",
    "negexp",
    "frontier_table",
    "optimal_frontier",
    "optimal_transform",
    "quantile",
    "small_kl_t",
    "smoothed",
    "transformed_reward",
    "unified",
]

# Former names, kept working with a DeprecationWarning: ``beta_for_kl`` clashed with :func:`alignsim.beta_for_kl`
# (another signature), ``exp`` and ``log`` shadowed numpy's.
beta_for_kl = V.deprecated_alias(ctrl_beta_for_kl, "alignsim.infalign.beta_for_kl")
exp = V.deprecated_alias(exp_transform, "alignsim.infalign.exp")
log = V.deprecated_alias(log_transform, "alignsim.infalign.log")
