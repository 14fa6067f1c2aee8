r"""GRPO's binary advantage factor as a finite sum in p (private; re-exported by :mod:`alignsim.symbolic`)."""

from __future__ import annotations

import functools

import sympy as sp

from .. import _validate as V

P = sp.Symbol("p", positive=True)

#: The largest group the symbolic sum takes (G - 1 terms; sympy simplifies them in under 2 s).
MAX_GROUP = 64


@functools.lru_cache(maxsize=128)
def _factor(g, ddof, eps):
    total = 0
    for c in range(1, g):
        # a group with c successes (y = 1) and G - c failures (y = 0): each sum over the group is c f(1) + (G - c) f(0)
        mean = sp.Rational(c, g)
        std = sp.sqrt((c * (1 - mean) ** 2 + (g - c) * mean ** 2) / sp.Integer(g - ddof))
        # GRPO's advantage A_i = (y_i - mean) / (std + eps) times the score y_i - p of a Bernoulli logit, averaged
        # (the numerator does not depend on p once expanded: sum_i (y_i - mean)(y_i - p) = sum_i (y_i - mean) y_i)
        update = sp.expand(c * (1 - mean) * (1 - P) + (g - c) * (0 - mean) * (0 - P)) / (std + eps) / g
        # E[update] = kappa d(theta) and dp = p (1 - p) d(theta): the factor on grad p is kappa / (p (1 - p))
        weight = sp.cancel(sp.binomial(g, c) * P ** c * (1 - P) ** (g - c) / (P * (1 - P)))
        total += weight * update
    return sp.simplify(total) if g <= 8 else total


def grpo_binary_factor(G: int, ddof: int = 1, eps=0):
    r"""GRPO's amplification of :math:`\nabla p` for binary rewards, as a finite sum in :math:`p`, derived from the
    group-normalised advantage.

    For a group of :math:`G` Bernoulli(:math:`p`) answers with :math:`c` successes, the update on the logit is
    :math:`\frac1G\sum_i A_i(y_i-p)` with :math:`A_i=(y_i-\bar y)/(s+\epsilon)`; sympy sums it over the group for
    each :math:`c` (it does not depend on :math:`p`: :math:`c(1-c/G)/(s_c+\epsilon)`) and weights by
    :math:`\binom Gc p^c(1-p)^{G-c}`:

    .. math:: \frac{1}{p(1-p)}\,\frac1G\sum_{c=1}^{G-1}\binom Gc p^c(1-p)^{G-c}\frac{c(1-c/G)}{s_c+\epsilon}.

    (simplified by sympy up to :math:`G=8`; larger groups are returned as the sum, one term per :math:`c`.)

    Parameters
    ----------
    G : int
        Group size, 2 to 64.
    ddof : int
        Degrees of freedom of the group's standard deviation, 0 or 1 (the default of
        :func:`alignsim.dynamics.grpo_binary_factor`).
    eps : number or sympy expression
        Added to the standard deviation, >= 0 (default 0).

    Returns
    -------
    sympy expression
        In ``p``.

    References
    ----------
    .. [1] Z. Shao et al., "DeepSeekMath", arXiv:2402.03300 (GRPO).

    Examples
    --------
    >>> from alignsim import symbolic
    >>> symbolic.grpo_binary_factor(2, ddof=0)
    1
    """
    g = V.length(G, "G", low=2, high=MAX_GROUP, why="the symbolic sum has G - 1 terms")
    d = V.choice(ddof, "ddof", (0, 1))
    if isinstance(eps, sp.Basic):
        e = eps
    else:
        e = sp.nsimplify(V.real(eps, "eps", low=0.0))
    return _factor(g, d, e)
