r"""Rate functions by a symbolic Legendre transform, and the cumulants of the per-token reward (private;
re-exported by :mod:`alignsim.symbolic`)."""

from __future__ import annotations

import functools

import sympy as sp

from .. import _validate as V
from ._core import law, relative_entropy_form

LAM = sp.Symbol("lambda", real=True)


@functools.lru_cache(maxsize=1)
def bernoulli_rate_function():
    r"""Cramér's rate function of a Bernoulli(:math:`p`) reward, by the Legendre transform of its log-MGF.

    .. math:: \Lambda(\lambda)=\log(1-p+pe^\lambda),\qquad
              I(x)=\sup_\lambda\,[\lambda x-\Lambda(\lambda)]
              = x\log\frac xp+(1-x)\log\frac{1-x}{1-p}=\mathrm{kl}(x\|p).

    sympy solves the stationarity condition :math:`x=\Lambda'(\lambda)` for :math:`z=e^\lambda`
    (:math:`z=\frac{x(1-p)}{p(1-x)}`), substitutes it, and expands the logarithms (valid for
    :math:`0<x,p<1`).

    Returns
    -------
    sympy expression
        In the symbols ``x`` and ``p``.

    References
    ----------
    .. [1] A. Dembo and O. Zeitouni, *Large Deviations Techniques and Applications* (1998), sec. 2.1.

    Examples
    --------
    >>> from alignsim import symbolic
    >>> symbolic.bernoulli_rate_function()
    x*log(x/p) + (1 - x)*log((1 - x)/(1 - p))
    """
    x, p, z = sp.symbols("x p z", positive=True)
    lam_mgf = sp.log(1 - p + p * z)  # Lambda in z = e^lambda
    stationary = sp.solve(sp.Eq(x, z * sp.diff(lam_mgf, z)), z)[0]  # d/dlambda = z d/dz
    return relative_entropy_form((x * sp.log(z) - lam_mgf).subs(z, stationary), x, p)


def rate_function_parametric(probs=None, rewards=None, *, K: int = 2) -> dict:
    r"""The rate function of a categorical reward, parametrically: the Legendre transform at the slope
    :math:`\lambda`.

    .. math:: x(\lambda)=\Lambda'(\lambda),\qquad I(x(\lambda))=\lambda\Lambda'(\lambda)-\Lambda(\lambda),
              \qquad\Lambda(\lambda)=\log\sum_y p_ye^{\lambda r_y}

    (for more than two levels :math:`x=\Lambda'(\lambda)` is a polynomial equation in :math:`e^\lambda` of degree
    above 4 in general, so the explicit :math:`I(x)` is not elementary; the curve is).

    Parameters
    ----------
    probs, rewards : sequence, optional
        The law and the rewards (both or neither; then the symbols ``p_i``, ``r_i``).
    K : int
        Outcomes when the law is not given, 2 to 8.

    Returns
    -------
    dict
        ``"x"`` and ``"rate"``, expressions in ``lambda``.

    References
    ----------
    .. [1] Dembo and Zeitouni (1998), sec. 2.2.

    Examples
    --------
    >>> from alignsim import symbolic
    >>> c = symbolic.rate_function_parametric([0.2, 0.5, 0.3], [0, 1, 2])
    >>> round(symbolic.numeric(c["rate"], {"lambda": 0.7}), 12)
    0.108442821557
    """
    p, r = law(probs, rewards, K)
    mgf = sp.log(sp.Add(*[pi * sp.exp(LAM * ri) for pi, ri in zip(p, r)]))
    x = sp.diff(mgf, LAM)
    return {"x": x, "rate": LAM * x - mgf}


def reward_cumulants(probs=None, rewards=None, *, K: int = 2, order: int = 4) -> list:
    r"""Cumulants of the per-token reward: the derivatives of the log-MGF at 0, by the recursion that
    :math:`M'=\Lambda'M` gives.

    .. math:: \kappa_n=\frac{d^n}{d\lambda^n}\log M(\lambda)\Big|_{\lambda=0}
              = m_n-\sum_{j=1}^{n-1}\binom{n-1}{j-1}\kappa_j\,m_{n-j},\qquad
              m_k=\frac{\sum_y p_yr_y^k}{\sum_y p_y}

    (for symbolic :math:`p_y` the normalisation :math:`\sum p_y=1` is not imposed: the expressions are the
    cumulants of the normalised law; factored for up to three outcomes).

    Parameters
    ----------
    probs, rewards : sequence, optional
        The law and the rewards (both or neither).
    K : int
        Outcomes when the law is not given, 2 to 8.
    order : int
        Highest cumulant, 1 to 6.

    Returns
    -------
    list of sympy expressions
        :math:`\kappa_1,\dots,\kappa_{\rm order}`.

    References
    ----------
    .. [1] P. McCullagh, *Tensor Methods in Statistics* (1987), ch. 2.

    Examples
    --------
    >>> from alignsim import symbolic
    >>> k = symbolic.reward_cumulants(K=2, order=2)
    >>> import sympy
    >>> sympy.factor(k[1])       # the variance, for weights p_1, p_2 (normalised: p_1 p_2 (r_1 - r_2)^2)
    p_1*p_2*(r_1 - r_2)**2/(p_1 + p_2)**2
    """
    n = V.length(order, "order", high=6, why="the expressions grow factorially")
    p, r = law(probs, rewards, K)
    total = sp.Add(*p)
    # raw moments m_k = M^(k)(0) / M(0) of M(lambda) = sum_y p_y e^{lambda r_y}; Lambda = log M, so M' = Lambda' M
    # and Leibniz's rule gives kappa_n = m_n - sum_{j=1}^{n-1} C(n-1, j-1) kappa_j m_{n-j}
    m = [sp.Add(*[pi * ri ** k for pi, ri in zip(p, r)]) / total for k in range(n + 1)]
    kappa = []
    for j in range(1, n + 1):
        kappa.append(sp.factor(m[j] - sp.Add(*[sp.binomial(j - 1, i - 1) * kappa[i - 1] * m[j - i]
                                               for i in range(1, j)])) if len(p) <= 3 else
                     m[j] - sp.Add(*[sp.binomial(j - 1, i - 1) * kappa[i - 1] * m[j - i] for i in range(1, j)]))
    return kappa
