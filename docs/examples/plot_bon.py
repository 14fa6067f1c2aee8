"""
Best-of-N laws
==============

The package's figures of this topic, each drawn by a function of :mod:`alignsim.figures` (also written by
``alignsim figures --only bon``).
"""

from alignsim import figures

# %%
# bon_winrate_vs_kl: Win rate against the reference vs KL in the atomless case: best-of-N points :math:`(\log
# N-\frac{N-1}N, \frac N{N+1})`, the win-rate-optimal tilt :math:`\pi_c\propto p\,e^{cF(r)}`, and rewind-and-repeat
# :math:`W = 1-e^{-\mathrm{KL}}/2`; inset-free second panel: the gap :math:`W_{\text{opt}} - W_{\text{BoN}}` vs
# :math:`N`.
fig_bon_winrate_vs_kl = figures.FIGURES["bon_winrate_vs_kl"]()
