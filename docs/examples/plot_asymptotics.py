"""
Asymptotics of alignment: best-of-N against KL-RL
=================================================

The package's figures of this topic, each drawn by a function of :mod:`alignsim.figures` (also written by
``alignsim figures --only asymptotics``).
"""

from alignsim import figures

# %%
# asymptotics_frontier: Per-token reward vs per-token KL: the KL-RL frontier and best-of-N with :math:`N=\lfloor
# e^{n\Delta}\rfloor`.
fig_asymptotics_frontier = figures.FIGURES["asymptotics_frontier"]()

# %%
# asymptotics_rate_functions: Rate functions :math:`I_0` (reference) and :math:`I_\lambda` (tilted optimum) of the
# per-token reward for a Bernoulli token (:math:`p=(0.7,0.3)`, :math:`r=(0,1)`) and a ternary one
# (:math:`p=(0.5,0.3,0.2)`, :math:`r=(-1,0,2)`), with :math:`x_\Delta` marked where :math:`I_0(x_\Delta)=\Delta` and
# :math:`I_\lambda` vanishes.
fig_asymptotics_rate_functions = figures.FIGURES["asymptotics_rate_functions"]()

# %%
# asymptotics_ldp: :math:`-\frac1n\log P(\bar R_n\ge x)` from the exact law for several lengths, converging to the
# rate function :math:`I_0(x)` above the mean (the error is :math:`O(\log n/n)`).
fig_asymptotics_ldp = figures.FIGURES["asymptotics_ldp"]()

# %%
# asymptotics_bon_vs_rl: Best-of-:math:`\lfloor e^{n\Delta}\rfloor` against the KL-RL optimum as the length grows,
# on log axes: :math:`\mathrm{KL}(\text{BoN}\|\text{RL})/n` and the per-token reward gap, with the guides
# :math:`\frac{\log n}{2n}` and :math:`\frac{\log n}{2\lambda n}`.
fig_asymptotics_bon_vs_rl = figures.FIGURES["asymptotics_bon_vs_rl"]()

# %%
# asymptotics_bon_kl: Exact best-of-N KL against :math:`\log N-\frac{N-1}N` and Beirami et al.'s estimator.
fig_asymptotics_bon_kl = figures.FIGURES["asymptotics_bon_kl"]()
