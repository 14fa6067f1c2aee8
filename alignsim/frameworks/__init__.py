r"""What your RL framework's KL setting really optimises: presets for TRL, verl and OpenRLHF, read from their code.

Practitioners set flags (verl ``use_kl_loss`` + ``kl_loss_type``, ``use_kl_in_reward`` + ``kl_penalty``; TRL
GRPO's ``beta`` and ``use_bias_correction_kl``, PPO's ``kl_estimator``; OpenRLHF ``use_kl_loss`` +
``kl_estimator``). Each setting is a :class:`Preset`: the estimator of :math:`\mathrm{KL}(\pi\|\pi_{\rm ref})` it
evaluates per token, where it enters (loss, reward, straight-through), the clamps and the importance weighting its
code applies, and the file and commit it was read from. On a softmax bandit the exact expected gradient of each
preset, per unit KL coefficient, tells which divergence the setting follows.

Convention: :math:`\ell = \log\pi - \log\pi_{\rm ref}` (policy minus reference), samples from the policy, gradients
of the loss (to be minimised) with respect to the policy's logits, as in :mod:`alignsim.estimators`.

==================================  ==================================================================================
name                                what it gives
==================================  ==================================================================================
:func:`preset`                      the :class:`Preset` of a setting (unknown settings: a ValueError listing the known)
:func:`all_presets`                 every preset the module knows
:func:`expected_gradient`           the exact expected gradient of a setting's KL term
:func:`gradient_variance`           its variance per sample
:func:`table`                       all presets side by side: the KL followed, cosine, bias, variance, clamps
:func:`sequence_gradient`           the same on whole sequences of a Markov LM (exact, per step and state)
:func:`sequence_gradient_variance`  its variance per sampled sequence (by enumeration)
:func:`sequence_table`              every preset on sequences against the sequence-level KL, with the
                                    Rao-Blackwellised estimator and its exact variance
==================================  ==================================================================================

Read from: TRL ``f2cd5771`` (trl/trainer/grpo_trainer.py, trl/experimental/ppo/ppo_trainer.py,
trl/trainer/rloo_trainer.py), verl ``b178a3cd`` (verl/trainer/ppo/core_algos.py ``kl_penalty``,
verl/workers/actor/dp_actor.py, verl/trainer/ppo/ray_trainer.py ``apply_kl_penalty``), OpenRLHF ``3c3be623``
(openrlhf/models/utils.py ``compute_approx_kl``, openrlhf/trainer/ray/ppo_actor.py).
"""

from ._gradient import expected_gradient, gradient_variance, table
from ._sequence import sequence_gradient, sequence_gradient_variance, sequence_table
from ._presets import FRAMEWORKS, OPENRLHF_COMMIT, TRL_COMMIT, VERL_COMMIT, Preset, all_presets, preset

__all__ = ["FRAMEWORKS", "TRL_COMMIT", "VERL_COMMIT", "OPENRLHF_COMMIT", "Preset", "preset", "all_presets",
           "expected_gradient", "gradient_variance", "table", "sequence_gradient", "sequence_gradient_variance",
           "sequence_table"]
