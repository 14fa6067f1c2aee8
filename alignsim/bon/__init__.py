r"""Best-of-N, worst-of-N and soft best-of-N: exact laws, KL, win rates, bounds and estimators.

Best-of-N (BoN) draws :math:`N` i.i.d. outcomes from the reference :math:`p` and returns one with the largest
reward. With reward levels :math:`s_1<\dots<s_L` of masses :math:`P_k` and CDF :math:`F_k = P(R\le s_k)`, the
law of the selected level is

.. math::

    g_k = F_k^N - F_{k-1}^N = F_k^N\left[1 - \left(1 - P_k/F_k\right)^N\right],

computed in log space (``log1p``/``expm1``, survival summed from the top, ``N`` through :math:`\log N`), so
:math:`N` may be up to ``1e300`` (or any Python integer) and level masses far below the float range can be
passed as log-masses. Within a level, ties are broken **uniformly at random** by default: an outcome :math:`y` of
level :math:`k` gets :math:`p(y)\,g_k/P_k`, the level's mass split in proportion to :math:`p`. Then the KL over
outcomes equals the KL over levels. ``ties="ordered"`` instead ranks tied outcomes by index (a larger index wins)
and applies the distinct-reward formula on that refined order; this changes the law and its KL but not the
reward or the win rate.

References
----------
.. [1] A. Beirami, A. Agarwal, J. Berant, A. D'Amour, J. Eisenstein, C. Nagpal, A. T. Suresh, "Theoretical
   guarantees on the best-of-n alignment policy", arXiv:2401.01879 (v3, ICML 2025).
.. [2] L. Gui, C. Gârbacea, V. Veitch, "BoNBoN alignment for large language models and the sweetness of
   best-of-n sampling", NeurIPS 2024, arXiv:2406.00832.
.. [3] C. Verdun et al., "Soft best-of-n sampling for model alignment", arXiv:2505.03156, 2025.
"""

from ._alternatives import rewind_repeat, rewind_repeat_atomless, winrate_tilt, winrate_tilt_for_kl, winrate_tilt_policy
from ._bounds import (
    bon_kl_bound,
    bon_kl_estimator,
    bon_kl_gap_bound,
    bon_kl_top_bound,
    bon_renyi_bound,
    bon_win_rate_bound,
    bon_win_rate_gap_bound,
    bonbon_beta,
)
from ._laws import bon_kl, bon_law, bon_mean_reward, bon_win_rate, won_kl, won_law
from ._soft import soft_bon_law

__all__ = [
    "bon_law",
    "won_law",
    "soft_bon_law",
    "bon_kl",
    "won_kl",
    "bon_mean_reward",
    "bon_win_rate",
    "bon_kl_bound",
    "bon_win_rate_bound",
    "bon_kl_top_bound",
    "bon_kl_gap_bound",
    "bon_win_rate_gap_bound",
    "bon_kl_estimator",
    "bon_renyi_bound",
    "bonbon_beta",
    "rewind_repeat",
    "rewind_repeat_atomless",
    "winrate_tilt",
    "winrate_tilt_for_kl",
    "winrate_tilt_policy",
]
