r"""The p-n risk coefficients of one-parameter exponential families, derived symbolically (private; re-exported
by :mod:`alignsim.symbolic`)."""

from __future__ import annotations

import functools

import sympy as sp

from .. import _validate as V

_FAMILIES = ("bernoulli", "poisson")


@functools.lru_cache(maxsize=8)
def _coefficients(family, well_specified):
    theta = sp.Symbol("theta", real=True)
    eta = sp.Symbol("eta", positive=True)
    psi = sp.log(1 + sp.exp(theta)) if family == "bernoulli" else sp.exp(theta)
    # the convex conjugate phi(eta) = sup_theta [theta eta - psi(theta)]: solve psi'(theta) = eta
    root = sp.solve(sp.Eq(sp.diff(psi, theta), eta), theta)[0]
    phi = sp.simplify(theta * eta - psi).subs(theta, root)
    d2, d3, d4 = (sp.simplify(sp.diff(phi, eta, k)) for k in (2, 3, 4))
    if well_specified:
        param = sp.Symbol("q" if family == "bernoulli" else "lam", positive=True)
        # the truth is the model at mean eta = param: its cumulants of T are psi's derivatives there
        at = sp.solve(sp.Eq(sp.diff(psi, theta), param), theta)[0]
        g2 = sp.simplify(sp.diff(psi, theta, 2).subs(theta, at))
        g3 = sp.simplify(sp.diff(psi, theta, 3).subs(theta, at))
        mu = param
    else:
        mu, g2, g3 = sp.symbols("mu g_2 g_3", positive=True)
    # D[f_* | f_hat] = sum_m (m - 1)/m! phi^(m)(mu) Delta^m with E Delta^2 = g2/n, E Delta^3 = g3/n^2,
    # E Delta^4 = 3 g2^2/n^2 + O(n^-3): c1 = phi'' g2 / 2, c2 = phi''' g3 / 3 + 3 phi'''' g2^2 / 8
    c1 = sp.simplify((d2 * g2 / 2).subs(eta, mu))
    c2 = sp.simplify((d3 * g3 / 3 + sp.Rational(3, 8) * d4 * g2 ** 2).subs(eta, mu))
    return c1, c2


def pn_coefficients(family: str = "bernoulli", *, well_specified: bool = True) -> tuple:
    r"""The coefficients :math:`c_1, c_2` of the risk :math:`\mathbb E\,D[f_{\theta_*}\|f_{\hat\theta}] =
    c_1/n + c_2/n^2 + O(n^{-3})` of the maximum-likelihood fit of a one-parameter exponential family, derived from
    the family's log-partition function.

    sympy forms the convex conjugate :math:`\varphi(\eta)=\sup_\theta[\theta\eta-\psi(\theta)]`, its derivatives, and
    the moments of :math:`\Delta=\bar T_n-\mu` in the expansion
    :math:`D=\sum_m\frac{m-1}{m!}\varphi^{(m)}(\mu)\Delta^m`:

    .. math:: c_1=\tfrac12\varphi''(\mu)g_2,\qquad c_2=\tfrac13\varphi'''(\mu)g_3+\tfrac38\varphi''''(\mu)g_2^2,

    with :math:`g_2, g_3` the truth's cumulants of :math:`T`. Well-specified, the truth is the model at
    :math:`\mu` (Bernoulli: :math:`c_2=\frac{5-11q(1-q)}{12q(1-q)}`; Poisson: :math:`c_2=\frac5{12\lambda}`).

    Parameters
    ----------
    family : {"bernoulli", "poisson"}
        The model.
    well_specified : bool
        True: in the model's mean ``q`` (Bernoulli) or ``lam`` (Poisson); False: in the truth's mean ``mu`` and
        cumulants ``g_2``, ``g_3``.

    Returns
    -------
    (c1, c2) : tuple of sympy expressions

    References
    ----------
    .. [1] Y. Sheena, arXiv:2105.08947, section 2 (the risk expansion).

    Examples
    --------
    >>> from alignsim import symbolic
    >>> symbolic.pn_coefficients("poisson")
    (1/2, 5/(12*lam))
    """
    V.choice(family, "family", _FAMILIES)
    return _coefficients(family, V.flag(well_specified, "well_specified"))
