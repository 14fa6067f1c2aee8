"""
What a framework's KL setting optimises
=======================================

The package's figures of this topic, each drawn by a function of :mod:`alignsim.figures` (also written by
``alignsim figures --only frameworks``).
"""

from alignsim import figures

# %%
# frameworks_bias_vs_kl: Which KL each framework setting's expected gradient follows, along a path of policies
# moving away from the reference: cosine with :math:`\nabla\mathrm{KL}(\pi\|\pi_{\rm ref})` and relative bias,
# against the KL.
fig_frameworks_bias_vs_kl = figures.FIGURES["frameworks_bias_vs_kl"]()

# %%
# frameworks_clamps_and_tail: Where the clamps bind and why they exist: the per-sample gradient coefficient of k3 in
# the loss against the log-ratio, and the variance per sample as one outcome's policy mass falls below the
# reference's.
fig_frameworks_clamps_and_tail = figures.FIGURES["frameworks_clamps_and_tail"]()
