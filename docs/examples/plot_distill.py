"""
Distillation losses
===================

The package's figures of this topic, each drawn by a function of :mod:`alignsim.figures` (also written by
``alignsim figures --only distill``).
"""

from alignsim import figures

# %%
# distill_gkd_beta: TRL's generalised JSD jumps at both ends of beta: the loss tends to 0 as beta -> 0 or 1 but is
# forward KL at beta = 0 and reverse KL at beta = 1; divided by beta(1 - beta) it is continuous.
fig_distill_gkd_beta = figures.FIGURES["distill_gkd_beta"]()

# %%
# distill_topk_bias: Top-k distillation losses against the full KL as k grows: renormalised, with a tail bucket, and
# verl's raw sub-probability sum, for a Zipf teacher and a flatter student.
fig_distill_topk_bias = figures.FIGURES["distill_topk_bias"]()

# %%
# distill_mode_seeking: A unimodal student of a bimodal teacher: reverse KL seeks one mode, forward KL covers both;
# JS and the skew reverse KL (alpha = 0.1) cover too, GKD's JSD at beta = 0.9 seeks like reverse KL.
fig_distill_mode_seeking = figures.FIGURES["distill_mode_seeking"]()

# %%
# distill_gradient_table: Which KL each distillation loss follows: cosines of the exact expected gradients with
# those of :math:`\mathrm{KL}(S\|T)` and :math:`\mathrm{KL}(T\|S)`, and the per-sample variance of the sampled
# estimators.
fig_distill_gradient_table = figures.FIGURES["distill_gradient_table"]()

# %%
# distill_exposure_bias: Distilling a Markov teacher into a memoryless student: token-level forward KL on a fraction
# lambda of the student's own prefixes (GKD's ``lmbda``), iterated to its fixed point, against the sequence-level
# reverse KL.
fig_distill_exposure_bias = figures.FIGURES["distill_exposure_bias"]()
