"""
KL estimators and their gradients
=================================

The package's figures of this topic, each drawn by a function of :mod:`alignsim.figures` (also written by
``alignsim figures --only estimators``).
"""

from alignsim import figures

# %%
# estimators_std_over_kl: Standard deviation over KL of the k1, k2, k3 estimators as the KL grows: Schulman's
# Gaussian example (closed forms) and a finite policy path :math:`\pi_\varepsilon\propto\pi_{\rm ref}e^{\varepsilon
# d}` (exact finite sums). :math:`k_3` wins near the reference (variance :math:`O(D^2)` instead of :math:`O(D)`),
# and is not always best far from it.
fig_estimators_std_over_kl = figures.FIGURES["estimators_std_over_kl"]()

# %%
# estimators_gradient_table: The gradient table as a figure: for every (estimator, placement, sampling, IS weight),
# the cosine of its exact expected gradient with :math:`\nabla\mathrm{KL}(\pi\|\pi_{\rm ref})`, coloured by the
# target it follows.
fig_estimators_gradient_table = figures.FIGURES["estimators_gradient_table"]()
