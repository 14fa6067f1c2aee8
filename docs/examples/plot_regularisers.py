"""
f-divergence regularisers
=========================

The package's figures of this topic, each drawn by a function of :mod:`alignsim.figures` (also written by
``alignsim figures --only regularisers``).
"""

from alignsim import figures

# %%
# regularisers_frontier: Reward against divergence for every regulariser's optimum, with three x-axes: each
# regulariser's own divergence, :math:`\mathrm{KL}(\pi\|q)` and :math:`\mathrm{KL}(q\|\pi)`.
fig_regularisers_frontier = figures.FIGURES["regularisers_frontier"]()

# %%
# regularisers_policies: Optimal policies of each regulariser at the same :math:`\mathrm{KL}(\pi\|q)`, as bar
# charts: mode-seeking (exact zeros for :math:`\chi^2`, :math:`\alpha>1`, TV) against mass-covering shapes.
fig_regularisers_policies = figures.FIGURES["regularisers_policies"]()

# %%
# regularisers_pass_at_k: Aggregate pass@k over a mixture of prompts sharing one :math:`\beta`, every regulariser at
# the same aggregate pass@1: mass-covering regularisers lift the hard prompts and win at every :math:`k\ge2`.
fig_regularisers_pass_at_k = figures.FIGURES["regularisers_pass_at_k"]()

# %%
# regularisers_overoptimisation: Gold reward against proxy reward (left) and against :math:`\sqrt{\mathrm{KL}}`
# (right) along every optimisation path on the Goodhart toy G1, and for reward-model ensembles on G2 (middle).
fig_regularisers_overoptimisation = figures.FIGURES["regularisers_overoptimisation"]()
