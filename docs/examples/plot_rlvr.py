"""
RL with verifiable rewards
==========================

The package's figures of this topic, each drawn by a function of :mod:`alignsim.figures` (also written by
``alignsim figures --only rlvr``).
"""

from alignsim import figures

# %%
# rlvr_difficulty_and_signal: Which prompts a group update weighs, and how often a group carries no signal: the per-
# prompt weight :math:`w(p)` of GRPO, Dr. GRPO and RLOO, and the zero-advantage fraction against the group size with
# a noisy verifier.
fig_rlvr_difficulty_and_signal = figures.FIGURES["rlvr_difficulty_and_signal"]()

# %%
# rlvr_length_bias: The length bias of loss aggregation: how one expected group update changes the length of the
# answers, overall and among the wrong answers, for each advantage estimator and each of verl's aggregations.
fig_rlvr_length_bias = figures.FIGURES["rlvr_length_bias"]()

# %%
# rlvr_sequence_length_bias: The length bias of loss aggregation on sequences with an end token: how one expected
# GRPO group update changes the mean length of the wrong and of the right answers, against how long answers are.
fig_rlvr_sequence_length_bias = figures.FIGURES["rlvr_sequence_length_bias"]()

# %%
# rlvr_pass_at_k_collapse: RLVR raises pass@1 and lowers pass@k at large k below the reference, when prompts share
# one policy; a KL penalty to the reference slows the collapse, training on pass@k advantages avoids it.
fig_rlvr_pass_at_k_collapse = figures.FIGURES["rlvr_pass_at_k_collapse"]()
