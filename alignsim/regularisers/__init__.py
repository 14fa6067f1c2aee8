r"""Optima of reward maximisation regularised by an :math:`f`-divergence other than reverse KL.

.. math::

    \max_\pi\ \mathbb E_\pi r - \beta\, D_f(\pi\,\|\,q),\qquad
    \pi_i = q_i\, g\!\Big(\frac{r_i-\nu}{\beta}\Big),\quad g = (f')^{-1}\ \text{clipped},\quad
    \sum_i q_i\, g\big((r_i-\nu)/\beta\big) = 1,

for the normalised generators of :mod:`alignsim.generators` (Wang et al. 2023, Theorem 1). The
reverse-KL row is the core's :func:`alignsim.tilt` (no second implementation); :math:`\chi^2` and total variation
have exact closed forms (active set, exchange argument); the other generators are solved for the multiplier in
log coordinates next to their pole, so that tiny reference masses (:math:`10^{-20}`) are resolved. Responses the
reference never produces receive mass when :math:`f'(\infty)<\infty` (forward KL, JS, Hellinger,
:math:`\alpha<1`, TV).

The package has five parts: the :math:`f`-regularised optima, their divergences and frontier
(``_optimum``); binary rewards and pass@k, the one home of the pass@k formula (``_pass_at_k``); identities of
KL-regularised alignment (posterior gap, geometric mixtures, implicit rewards, KL-regularised Nash equilibria;
``_identities``); reward hacking on exact toys with ensembles and the correlated-proxy bound (``_hacking``); and
DPO under partial coverage (``_dpo``).

References
----------
.. [1] C. Wang, Y. Jiang, C. Yang, H. Liu, Y. Chen, "Beyond reverse KL: generalizing direct preference optimization
   with diverse divergence constraints", arXiv:2309.16240 (KKT form).
.. [2] Li et al., "DPH-RL", arXiv:2509.07430; Deng et al., "RAPO", arXiv:2510.03865 (mass-covering regularisers).
"""


from .. import _validate as V
from ._dpo import DPOSolutionSet, dpo_solution_set
from ._hacking import GoodhartToy, correlated_proxy_bound, ensemble_reward, gold_path, goodhart_toy
from ._identities import geometric_mixture, implicit_reward, kl_posterior_gap, nash_gap, nash_kl, single_token_reward
from ._optimum import FOptimum, f_beta_for, f_optimum, f_frontier
from ._pass_at_k import binary_success, hard_prompt_limit, match_pass1, mixture_pass_at_k, pass_at_k

__all__ = ["FOptimum", "f_optimum", "f_beta_for", "f_frontier", "binary_success", "hard_prompt_limit", "mixture_pass_at_k", "pass_at_k",
           "match_pass1", "kl_posterior_gap", "geometric_mixture", "implicit_reward", "single_token_reward",
           "nash_kl", "nash_gap", "GoodhartToy", "goodhart_toy", "ensemble_reward", "gold_path",
           "correlated_proxy_bound", "DPOSolutionSet", "dpo_solution_set"]

# Former names, kept working with a DeprecationWarning (too generic beside tilting's beta_for_kl and frontiers).
beta_for = V.deprecated_alias(f_beta_for, "alignsim.regularisers.beta_for")
frontier = V.deprecated_alias(f_frontier, "alignsim.regularisers.frontier")
