r"""Distillation as alignment: which loss follows which divergence, exactly.

Conventions
-----------
The first argument is the **student** (the policy being trained), the second the **teacher**, as everywhere in
the package: ``"reverse_kl"`` is :math:`\mathrm{KL}(S\|T)` (on-policy KD: MiniLLM, KDRL, the on-policy
distillation of verl and slime), ``"forward_kl"`` is :math:`\mathrm{KL}(T\|S)` (supervised KD, SFT on teacher
samples). Where a framework's loss is the subject (TRL's generalised JSD, verl's top-k losses) the function
reproduces its code, cited by file and commit, including its behaviour at the ends of its parameters.

=================================  ===============================================================================
function                           what it computes
=================================  ===============================================================================
:func:`divergence`                 forward/reverse KL, TV, JS, TRL's GKD JSD (raw and normalised), DistiLLM's skew
                                   KLs, top-k KLs (renormalised, tail bucket, verl's raw sum), Wasserstein and
                                   Sinkhorn (SinKD) through POT
:func:`sequence_divergence`        the same between whole sequences of memoryless and Markov LMs (KLs by the chain
                                   rule; TV, JS, GKD, skew KLs over every complete sequence)
:func:`expected_gradient`          the exact expected gradient (student logits) of each loss as trained: every
                                   full-vocabulary kind, and the sampled on-policy estimators (k1/k2/k3 as a
                                   REINFORCE reward or in the loss)
:func:`gradient_variance`          the exact per-sample variance of a sampled estimator's gradient
:func:`gradient_table`             which divergence each loss follows (cosines, bias, variance)
:func:`fit`                        the best student of a restricted family (temperature, discretised Gaussian on
                                   ordered tokens, memoryless student of a Markov teacher) under a divergence
:func:`on_policy_fixed_point`      token-level forward-KL distillation on a mixture of student and teacher prefixes
                                   (GKD's lmbda), iterated exactly to its fixed point
:func:`exposure_bias`              what on-policy data changes: sequence KLs, reward and length of each fixed point
:func:`kdrl_optimum`               the closed-form optimum of reward - beta_ref KL(pi||ref) - beta_T KL(pi||T)
:func:`kdrl_frontier`              that optimum along a sweep of beta_T
:func:`grpo_kd_update`             the exact expected GRPO + distillation update on a bandit
=================================  ===============================================================================
"""

from ._divergence import KINDS, divergence
from ._exposure import OnPolicyFixedPoint, exposure_bias, on_policy_fixed_point
from ._fit import FAMILIES, Fit, fit, gaussian_law, token_occupancy
from ._gradients import FULL, SAMPLED, expected_gradient, gradient_table, gradient_variance
from ._kdrl import KDRLOptimum, grpo_kd_update, kdrl_frontier, kdrl_optimum
from ._sequence import sequence_divergence

__all__ = ["KINDS", "FULL", "SAMPLED", "FAMILIES", "divergence", "sequence_divergence", "expected_gradient", "gradient_variance",
           "gradient_table", "Fit", "fit", "gaussian_law", "token_occupancy", "OnPolicyFixedPoint",
           "on_policy_fixed_point", "exposure_bias", "KDRLOptimum", "kdrl_optimum", "kdrl_frontier",
           "grpo_kd_update"]
