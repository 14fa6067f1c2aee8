"""p-n criterion checks of ``alignsim verify`` (registered into :data:`alignsim.checks.CHECKS` on import).

The expansion :math:`R_n=c_1/n+c_2/n^2` is checked against the exact risk (enumeration of the sample's sufficient
statistic, conditional on the MLE existing) by Richardson extrapolation :math:`2r(2n)-r(n)`,
:math:`r(n)=n^2(R_n-c_1/n)`, which removes the :math:`c_3/n` term; tolerance 1 % of :math:`c_2` as the issue asks.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import poisson

from .. import pn
from ._registry import check

_SOURCE = "Sheena, arXiv:2105.08947, section 2"


def _richardson(fam, g, n):
    """(1, Richardson / c2): the check's tolerance is then relative to c2."""
    c1, c2 = pn.risk_coefficients(fam, g)
    r = [m * m * (pn.exact_risk(fam, g, m).risk - c1 / m) for m in (n, 2 * n)]
    return 1.0, (2 * r[1] - r[0]) / c2


@check("pn.categorical_expansion", _SOURCE,
       "c2 of the saturated categorical family (K = 3, random truth) vs Richardson of the exact conditional risk "
       "(grouped compositions, n = 300 and 600): ratio Richardson / c2", 1e-2)
def _categorical(rng):
    g = rng.dirichlet(np.full(3, 4.0))
    return _richardson(pn.FiniteExpFamily(np.eye(3)[:, :2]), g, 300)


@check("pn.bernoulli_expansion", _SOURCE,
       "closed-form c2 = (5 - 11 q(1-q)) / (12 q(1-q)) vs Richardson of the exact conditional risk (lattice, "
       "n = 1000, 2000): ratio", 1e-2)
def _bernoulli(rng):
    q = rng.uniform(0.15, 0.85)
    closed = (5 - 11 * q * (1 - q)) / (12 * q * (1 - q))
    c2 = pn.risk_coefficients(pn.FiniteExpFamily([0, 1]), [1 - q, q])[1]
    return 1.0, _richardson(pn.FiniteExpFamily([0, 1]), [1 - q, q], 1000)[1] * c2 / closed


@check("pn.tilt_expansion", "Sheena, arXiv:2105.08947 (risk expansion) on the alignment tilt family",
       "c2 of the tilt family p e^{lambda r} (r = 0..3, misspecified random truth) vs Richardson of the exact "
       "conditional risk (lattice, n = 500, 1000): ratio Richardson / c2", 1e-2)
def _tilt(rng):
    fam = pn.tilt_family(rng.dirichlet(np.full(4, 5.0)), [0, 1, 2, 3])
    return _richardson(fam, rng.dirichlet(np.full(4, 3.0)), 500)


@check("pn.poisson_expansion", "Sheena, arXiv:2105.08947 (risk expansion; Poisson model, Poisson truth)",
       "c2 = 5/(12 lambda) from the one-parameter cumulant formula vs Richardson of the exact conditional risk, "
       "sum over k of Poisson(k; n lambda) D(lambda | k/n) (n = 500, 1000): ratio Richardson / c2", 1e-2)
def _poisson(rng):
    lam = rng.uniform(0.5, 4.0)
    c1, c2, _ = pn.risk_coefficients_1d([lam] * 5, [lam] * 3)

    def risk(n):
        k = np.arange(1, int(n * lam + 40 * math.sqrt(n * lam) + 50))
        w = poisson.pmf(k, n * lam)
        hat = k / n
        loss = hat - lam + lam * np.log(lam / hat)  # D[Poi(lam) | Poi(hat)]
        return float(np.dot(w, loss) / (1.0 - poisson.pmf(0, n * lam)))

    r = [n * n * (risk(n) - c1 / n) for n in (500, 1000)]
    return 1.0, (2 * r[1] - r[0]) / c2


@check("pn.c1_is_tic_over_4n", "Takeuchi 1976 (TIC): first-order risk = TIC penalty / 4n",
       "c1 vs tr(J^-1 K) / 2 with J the Hessian of E_g log f by central differences and K = E_g[s s^T] of the "
       "score, random 2-parameter family on 6 points", 1e-7)
def _tic(rng):
    fam = pn.FiniteExpFamily(rng.normal(size=(6, 2)))
    g = rng.dirichlet(np.full(6, 2.0))
    theta = pn.info_projection(fam, g)
    score = fam.T - fam.mean(theta)
    K = score.T @ (g[:, None] * score)
    h = 1e-5
    J = np.empty((2, 2))
    for i in range(2):
        e = np.zeros(2)
        e[i] = h
        # gradient of E_g log f(X; theta) is mu_g - E_theta T; J = minus its derivative
        J[:, i] = (fam.mean(theta + e) - fam.mean(theta - e)) / (2 * h)
    tic_penalty = 2.0 * np.trace(np.linalg.solve(J, K))
    return pn.risk_coefficients(fam, g)[0], tic_penalty / 4.0
