"""
Markov language models with an end token
========================================

The package's figures of this topic, each drawn by a function of :mod:`alignsim.figures` (also written by
``alignsim figures --only markov``).
"""

from alignsim import figures

# %%
# markov_token_vs_sequence: With an end token, the greedy per-token tilt is not the KL-regularised optimum: reward
# against KL of both, and the length laws they induce at matched KL.
fig_markov_token_vs_sequence = figures.FIGURES["markov_token_vs_sequence"]()

# %%
# markov_rate_functions: Memory changes the large deviations: rate functions of the per-token reward of two-token
# chains with the same marginal, and the exact finite-length tails converging to them.
fig_markov_rate_functions = figures.FIGURES["markov_rate_functions"]()

# %%
# markov_bon_vs_rl: Best-of-:math:`e^{n\Delta}` against KL-RL at budget :math:`n\Delta` on a sticky chain: both per-
# token rewards approach the level :math:`x_\Delta` with :math:`I(x_\Delta)=\Delta` of the Markov rate function, and
# :math:`\mathrm{KL}(\text{BoN}\,\|\,\text{RL})/n` vanishes.
fig_markov_bon_vs_rl = figures.FIGURES["markov_bon_vs_rl"]()
