r"""Win rates against a reference, with ties counting one half.

.. math::

    W(\pi\,;\,p) = \Pr[r(Y) > r(Y')] + \tfrac12\Pr[r(Y) = r(Y')],\qquad Y\sim\pi,\ Y'\sim p,

which equals :math:`\mathbb E_\pi\, c_p(Y)` with the mid-rank **calibrated reward**
:math:`c_p(y) = \Pr_{Y'\sim p}[r(Y') < r(y)] + \tfrac12\Pr_{Y'\sim p}[r(Y') = r(y)]`.
The tie-splitting convention matters: counting ties as wins breaks the :math:`N/(N+1)` bound of best-of-N.

References
----------
.. [1] A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy", arXiv:2401.01879, sec. 5.
.. [2] A. Balashankar et al., "InfAlign: inference-aware language model alignment", arXiv:2412.19792 (calibration).
"""

from __future__ import annotations

import numpy as np

from . import _validate as V
from ._levels import calibrated

__all__ = ["calibrated_reward", "win_rate"]


@V.renamed_keywords(p="ref")
def calibrated_reward(ref, r) -> np.ndarray:
    r"""Mid-rank calibrated reward of every outcome under the reference ``ref``.

    .. math::

        c_p(y) = \Pr_{Y'\sim p}[r(Y') < r(y)] + \tfrac12\Pr_{Y'\sim p}[r(Y') = r(y)] \in [0, 1],

    the win rate of the point mass at :math:`y` against :math:`p`. Defined for every outcome, including those
    with :math:`p(y) = 0`. Invariant under strictly increasing maps of ``r``.

    Parameters
    ----------
    ref, r : array_like, shape (K,)

    Returns
    -------
    ndarray, shape (K,)

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (calibrated reward); Beirami et al., arXiv:2401.01879, sec. 5.

    Examples
    --------
    >>> import alignsim as a
    >>> a.calibrated_reward([0.5, 0.3, 0.2], [1, 1, 2])
    array([0.4, 0.4, 0.9])
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    return calibrated(pp, rr)


def win_rate(pi, ref, r) -> float:
    r"""Win rate of ``pi`` against ``ref`` under reward ``r``, ties counting one half.

    .. math::

        W(\pi;\,p) = \sum_y \pi(y)\Big[\Pr_{p}(r < r(y)) + \tfrac12\Pr_p(r = r(y))\Big].

    :math:`W(p; p) = 1/2` and :math:`W(\pi; p) + W(p; \pi) = 1`.

    Parameters
    ----------
    pi : array_like, shape (K,)
        The policy.
    ref : array_like, shape (K,)
        The reference.
    r : array_like, shape (K,)
        Rewards.

    Returns
    -------
    float in [0, 1]

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, section 5.

    Examples
    --------
    >>> import alignsim as a
    >>> a.win_rate([0.0, 1.0], [0.5, 0.5], [0, 1])
    0.75
    """
    ppi = V.probabilities(pi, "pi")
    pref, rr = V.policy_and_rewards(ref, r, "ref", "r")
    V.same_shape(ppi, pref, "pi", "ref")
    return float(np.dot(ppi, calibrated(pref, rr)))
