"""
The p-n criterion
=================

The package's figures of this topic, each drawn by a function of :mod:`alignsim.figures` (also written by
``alignsim figures --only pn``).
"""

from alignsim import figures

# %%
# pn_convergence: The second-order coefficient as a limit: :math:`n^2(R_n-c_1/n)\to c_2` for the exact risk of the
# MLE (conditional on existence) in three finite exponential families, with the Richardson extrapolation
# :math:`2r(2n)-r(n)` that removes the :math:`c_3/n` term.
fig_pn_convergence = figures.FIGURES["pn_convergence"]()

# %%
# pn_acceptance: The p-n acceptance region: a model of dimension :math:`p` is accepted at sample size :math:`n` when
# :math:`\hat R_n\le8\varepsilon^2`; first order (well-specified, :math:`c_1=p/2`): :math:`n\ge p/(16\varepsilon^2)`
# (solid); with the second-order term of a saturated categorical model with uniform truth,
# :math:`c_2=(K-1)(5K-1)/12`, :math:`K=p+1` (dashed).
fig_pn_acceptance = figures.FIGURES["pn_acceptance"]()

# %%
# pn_synthetic: Synthetic stand-in for the paper's practical demonstrations: log-linear models of increasing order
# on six binary variables fitted to a truth with 2-, 3- and 4-way interactions. Left: the estimation risk
# :math:`c_1/n+c_2/n^2` against the thresholds :math:`8\varepsilon^2`; right: the approximation error
# :math:`D[g|f_{\theta_*}]` falls with :math:`p` while the estimation risk grows (their sum is the total risk that
# AIC/TIC rank by; the p-n criterion bounds only the estimation part).
fig_pn_synthetic = figures.FIGURES["pn_synthetic"]()
