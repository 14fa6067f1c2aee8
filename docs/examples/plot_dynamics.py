"""
Policy-gradient dynamics
========================

The package's figures of this topic, each drawn by a function of :mod:`alignsim.figures` (also written by
``alignsim figures --only dynamics``).
"""

from alignsim import figures

# %%
# dynamics_trajectories: Exact expected trajectories on the 3-arm simplex (barycentric coordinates) from the
# reference: policy gradient and natural gradient with the correct KL gradient converge to the tilt; policy gradient
# with :math:`k_3` as a loss (GRPO's placement without importance weights) converges to the forward-KL optimum
# instead; GRPO's advantage normalisation with the correct KL term stops elsewhere. Right: entropy along policy
# gradient with the first-order prediction :math:`-\eta\,\mathrm{Cov}_\pi(\log\pi, \delta)` per step overlaid.
fig_dynamics_trajectories = figures.FIGURES["dynamics_trajectories"]()
