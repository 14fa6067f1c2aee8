r"""RL with verifiable rewards, exactly: noisy verifiers, group advantages, where the signal lives, pass@k, and how
per-token losses are aggregated.

A prompt is answered correctly with probability :math:`p`; a verifier reports success with probability
:math:`q=p(1-f_n)+(1-p)f_p`. Group estimators: GRPO (std-normalised advantages), Dr. GRPO (no std), RLOO
(leave-one-out). Gradients are with respect to the logit of success of the prompt's policy.

===================================  ===============================================================================
function                             what it computes
===================================  ===============================================================================
:func:`success_probability`          a prompt (an LM and a verifier on reward and length): its exact success rate
:class:`PromptSet`                   a law over prompts' difficulties: pass@k, groups without signal, where the signal is
:func:`observed_success`             the success rate the verifier reports
:func:`zero_advantage_fraction`      the probability that a group carries no signal, with a noisy verifier
:func:`group_update_moments`         exact mean, variance and SNR of one group's update; the difficulty weight
:func:`difficulty_weight`            the per-prompt weight w(p) of each estimator (GRPO: ~ 1/sqrt(p(1-p)))
:func:`optimal_group_size`           the group size that maximises the SNR at a fixed sample budget
:func:`pass_at_k_advantages`         the analytic group advantages of pass@k training
:func:`pass_at_k_estimator_moments`  exact mean and variance of the unbiased pass@k estimator (Chen et al.)
:func:`aggregate`                    verl's loss aggregations (:data:`AGGREGATIONS`), reproduced
:func:`aggregated_update`            the exact expected group update under an advantage estimator and an aggregation,
                                     for a policy over responses of given lengths
:func:`length_drift`                 the rate at which that update changes the expected response length
:func:`sequence_update`              the same per state of a Markov LM with an end token (random lengths), exactly
:func:`sequence_length_drift`        the rate at which that update changes the expected length, among the wrong ones
:func:`prompt_set_trajectory`        exact expected RLVR training of a policy shared by prompts, with pass@k
:func:`clip_cov_update`              the exact expected Clip-Cov update (entropy control; large-batch limit)
:func:`kl_cov_update`                the exact expected KL-Cov update, with the covariance scores
                                     (:func:`covariance_scores`) both rank tokens by
===================================  ===============================================================================
"""

from ._aggregation import AGGREGATIONS, aggregate
from ._entropy import clip_cov_update, covariance_scores, kl_cov_update
from ._prompts import PromptSet, success_probability
from ._length import aggregated_update, length_drift
from ._passk import pass_at_k_estimator_moments
from ._sequence import sequence_length_drift, sequence_update
from ._trajectory import prompt_set_trajectory
from ._signal import ESTIMATORS, GROUP_ESTIMATORS, difficulty_weight, group_update_moments, optimal_group_size, pass_at_k_advantages
from ._verifier import observed_success, zero_advantage_fraction

__all__ = ["AGGREGATIONS", "ESTIMATORS", "GROUP_ESTIMATORS", "aggregate", "observed_success", "zero_advantage_fraction",
           "group_update_moments", "difficulty_weight", "optimal_group_size", "pass_at_k_estimator_moments",
           "aggregated_update", "length_drift", "prompt_set_trajectory", "pass_at_k_advantages", "covariance_scores",
           "clip_cov_update", "kl_cov_update", "success_probability", "PromptSet", "sequence_update",
           "sequence_length_drift"]
