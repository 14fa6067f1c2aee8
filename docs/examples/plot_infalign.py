"""
Inference-aware alignment (InfAlign)
====================================

The package's figures of this topic, each drawn by a function of :mod:`alignsim.figures` (also written by
``alignsim figures --only infalign``).
"""

from alignsim import figures

# %%
# infalign_frontier: Inference-time win rate vs KL for best-of-N and worst-of-N decoding: identity, log, the
# exponential transform tuned at KL 0.5, and the optimal transform, in the uniform calibrated model.
fig_infalign_frontier = figures.FIGURES["infalign_frontier"]()

# %%
# infalign_best_t: Best exponent :math:`t^\star(N, \mathrm{KL})` of the exponential transforms: :math:`e^{t(u-1)}`
# for best-of-N (solid), :math:`-e^{-tu}` for worst-of-N (dashed), with the small-KL limit :math:`t_0(N)\approx2N`
# (:func:`alignsim.infalign.small_kl_t`, diamonds at the left edge).
fig_infalign_best_t = figures.FIGURES["infalign_best_t"]()

# %%
# infalign_optimal_policies: Densities of the optimal inference-aware policies in calibrated units: best-of-N puts a
# narrow spike of mass on the top quantiles, worst-of-N removes mass from the bottom and is nearly flat above a
# threshold.
fig_infalign_optimal_policies = figures.FIGURES["infalign_optimal_policies"]()

# %%
# infalign_calibration: Calibrated vs raw-reward RLHF, and the cost of estimating the calibrated reward from
# :math:`m` samples.
fig_infalign_calibration = figures.FIGURES["infalign_calibration"]()
