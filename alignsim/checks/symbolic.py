"""Checks of the symbolic closed forms: every expression, evaluated through lambdify at random points, against the
package's numeric function (an independent implementation), plus a negative control."""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad

from .. import symbolic as S
from ..asymptotics import cumulants, rate_function
from ..bon import bon_kl, bon_law, bon_win_rate, won_law
from ..dynamics import grpo_binary_factor
from ..estimators import GRADIENT_ROWS, estimator_moments, expected_kl_gradient
from ..pn import risk_coefficients_1d
from ..tilting import log_partition, tilt, tilt_kl, tilt_mean
from ._registry import check


def _rel(a, b):
    a, b = np.atleast_1d(np.asarray(a, float)), np.atleast_1d(np.asarray(b, float))
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def _law(rng, k):
    return rng.dirichlet(np.ones(k)), np.round(rng.uniform(-1, 2, k), 3)


@check("symbolic.tilt", "the exponential tilt (alignsim.tilting)",
       "log-partition, tilted law, tilted mean (-beta^2 A'), KL(phi || p) and the dual's stationarity (delta - KL), "
       "lambdified at a random law of 2-5 outcomes and beta in (0.2, 5), vs tilting's functions: max relative "
       "difference", 1e-12)
def _tilt(rng):
    k = int(rng.integers(2, 6))
    p, r = _law(rng, k)
    b, d = float(rng.uniform(0.2, 5)), float(rng.uniform(0.01, 0.5))
    pl, rl = list(p), list(r)
    err = max(_rel(S.numeric(S.log_partition(pl, rl), beta=b), log_partition(p, r, 1 / b)),
              _rel([S.numeric(e, beta=b) for e in S.tilt(pl, rl)], tilt(p, r, b)),
              _rel(S.numeric(S.tilt_mean(pl, rl), beta=b), tilt_mean(p, r, b)),
              _rel(S.numeric(S.tilt_kl(pl, rl), beta=b), tilt_kl(p, r, b)),
              _rel(S.numeric(S.dual(pl, rl)["stationarity"], beta=b, delta=d), d - tilt_kl(p, r, b)))
    return 0.0, err


@check("symbolic.two_outcome_tilt", "the two-outcome tilt in closed form",
       "success s(beta) and KL(beta) vs tilting at q ~ U(0.05, 0.95), beta ~ U(0.2, 5); beta(s(beta)) = beta and "
       "kl_of_success(s(beta)) = KL(beta): max relative difference", 1e-12)
def _two(rng):
    q, b = float(rng.uniform(0.05, 0.95)), float(rng.uniform(0.2, 5))
    d = S.two_outcome_tilt()
    s = S.numeric(d["success"], beta=b, q=q)
    return 0.0, max(_rel(s, tilt([1 - q, q], [0, 1], b)[1]), _rel(S.numeric(d["kl"], beta=b, q=q),
                                                                    tilt_kl([1 - q, q], [0, 1], b)),
                    _rel(S.numeric(d["beta_of_success"], s=s, q=q), b),
                    _rel(S.numeric(d["kl_of_success"], s=s, q=q), tilt_kl([1 - q, q], [0, 1], b)))


@check("symbolic.best_of_n", "best-of-N and worst-of-N with ties (alignsim.bon)",
       "BoN and WoN laws, BoN KL and win rate for a symbolic N, lambdified at N in {1, 2.5, 7, 1000} on a random law "
       "of 3-6 outcomes with a tie, vs alignsim.bon: max relative difference", 1e-12)
def _bon(rng):
    k = int(rng.integers(3, 7))
    p, r = _law(rng, k)
    r[1] = r[0]  # a tie
    pl, rl = list(p), list(r)
    law, won, kl_, win = S.bon_law(pl, rl), S.won_law(pl, rl), S.bon_kl(pl, rl), S.bon_win_rate(pl, rl)
    err = 0.0
    for n in (1, 2.5, 7, 1000):
        err = max(err, _rel([S.numeric(e, N=n) for e in law], bon_law(p, r, n)),
                  _rel([S.numeric(e, N=n) for e in won], won_law(p, r, n)),
                  _rel(S.numeric(kl_, N=n), bon_kl(p, r, n)), _rel(S.numeric(win, N=n), bon_win_rate(p, r, n)))
    return 0.0, err


@check("symbolic.bon_kl_uniform_limit", "Beirami et al. (2024): the BoN KL tends to log N - (N - 1)/N",
       "sympy's integral of g log g, g = N u^(N-1), vs scipy quad of the same integrand at N ~ U(1, 200): relative "
       "difference", 1e-10)
def _limit(rng):
    n = float(rng.uniform(1, 200))
    val, _ = quad(lambda u: n * u ** (n - 1) * (math.log(n) + (n - 1) * math.log(u)) if u > 0 else 0.0, 0, 1,
                  epsabs=1e-14, epsrel=1e-13, limit=200)
    return 0.0, _rel(S.numeric(S.bon_kl_uniform_limit(), N=n), val)


@check("symbolic.rate_functions", "Cramer's theorem (alignsim.asymptotics.rate_function)",
       "the Bernoulli rate function of the symbolic Legendre transform at random (x, p), and the categorical rate "
       "along its parametric curve at a random slope on a random 3-5 outcome law, vs rate_function: max relative "
       "difference", 1e-11)
def _rate(rng):
    x, p = float(rng.uniform(0.02, 0.98)), float(rng.uniform(0.02, 0.98))
    err = _rel(S.numeric(S.bernoulli_rate_function(), x=x, p=p), rate_function([1 - p, p], [0, 1], x))
    k = int(rng.integers(3, 6))
    q, r = _law(rng, k)
    curve = S.rate_function_parametric(list(q), list(r))
    lam = float(rng.uniform(-2, 2))
    xv = S.numeric(curve["x"], **{"lambda": lam})
    return 0.0, max(err, _rel(S.numeric(curve["rate"], **{"lambda": lam}), rate_function(q, r, xv)))


@check("symbolic.cumulants", "cumulants of the per-token reward (alignsim.asymptotics.cumulants)",
       "kappa_1..kappa_4 from the moment recursion of the log-MGF, symbolic law of 3 outcomes evaluated at a random "
       "law, vs asymptotics.cumulants: max relative difference", 1e-12)
def _cum(rng):
    p, r = _law(rng, 3)
    exprs = S.reward_cumulants(K=3, order=4)
    vals = {f"p_{i + 1}": p[i] for i in range(3)} | {f"r_{i + 1}": r[i] for i in range(3)}
    return 0.0, _rel([S.numeric(e, **vals) for e in exprs], cumulants(p, r, order=4))


@check("symbolic.kl_estimators", "Schulman (2020); Tang and Munos (2025) (alignsim.estimators)",
       "k1/k2/k3 means and variances for 3 outcomes, and every row of gradient_table as expressions in the logits "
       "(stop-gradient as a second set of symbols), at random logits, reference and behaviour, vs "
       "estimator_moments and expected_kl_gradient: max relative difference", 1e-12)
def _est(rng):
    k = 3
    pi, ref = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k))
    theta, beh = np.log(pi), rng.normal(size=k)
    law = {f"pi_{i + 1}": pi[i] for i in range(k)} | {f"ref_{i + 1}": ref[i] for i in range(k)}
    err = 0.0
    for kind in ("k1", "k2", "k3"):
        m = S.estimator_moments(kind, K=k)
        num = estimator_moments(pi, ref, kind)
        err = max(err, _rel(S.numeric(m["mean"], **law), num["mean"]), _rel(S.numeric(m["var"], **law), num["var"]))
    vals = {f"theta_{i + 1}": theta[i] for i in range(k)} | {f"ref_{i + 1}": ref[i] for i in range(k)}
    for kind, placement, sampling, isw in GRADIENT_ROWS:
        g = S.gradient_row(kind, placement, K=k, sampling=sampling, is_weight=isw)
        extra = {f"b_{i + 1}": beh[i] for i in range(k)} if sampling == "off" else {}
        got = [S.numeric(e, **{n: v for n, v in (vals | extra).items() if n in {s.name for s in e.free_symbols}})
               for e in g]
        err = max(err, _rel(got, expected_kl_gradient(theta, ref, kind, placement,
                                                      beh if sampling == "off" else None, isw)))
    return 0.0, err


@check("symbolic.grpo_binary_factor", "GRPO's binary amplification (alignsim.dynamics.grpo_binary_factor)",
       "the factor summed by sympy over the groups for random G in 2..40, ddof 0/1 and eps in {0, 0.1}, at random p, "
       "vs dynamics.grpo_binary_factor: relative difference (the float sum carries ~1e-14)", 1e-12)
def _grpo(rng):
    g, d, e, p = int(rng.integers(2, 41)), int(rng.integers(0, 2)), float(rng.choice([0.0, 0.1])), \
        float(rng.uniform(0.02, 0.98))
    expr = S.grpo_binary_factor(g, ddof=d, eps=e)
    got = S.numeric(expr, p=p) if expr.free_symbols else float(expr)
    return 0.0, _rel(got, grpo_binary_factor(p, g, ddof=d, eps=e))


def _bernoulli_cumulants(q):
    """Cumulants k2..k6 of a Bernoulli(q) statistic, by the recursion kappa_{n+1} = q(1-q) dkappa_n/dq."""
    return [q * (1 - q), q * (1 - q) * (1 - 2 * q), q * (1 - q) * (1 - 6 * q + 6 * q * q),
            q * (1 - q) * (1 - 2 * q) * (1 - 12 * q + 12 * q * q),
            q * (1 - q) * (1 - 30 * q + 150 * q ** 2 - 240 * q ** 3 + 120 * q ** 4)]


@check("symbolic.pn_coefficients", "Sheena, arXiv:2105.08947 (alignsim.pn.risk_coefficients_1d)",
       "c1, c2 derived from the conjugate of the log-partition (Bernoulli, Poisson; well-specified and with random "
       "truth cumulants) vs risk_coefficients_1d from the cumulants: max relative difference", 1e-12)
def _pn(rng):
    q, lam = float(rng.uniform(0.05, 0.95)), float(rng.uniform(0.2, 8))
    g2, g3 = float(rng.uniform(0.1, 2)), float(rng.uniform(-1, 1))
    kb, kp = _bernoulli_cumulants(q), [lam] * 5
    err = max(_rel([S.numeric(c, q=q) if c.free_symbols else float(c) for c in S.pn_coefficients("bernoulli")],
                   risk_coefficients_1d(kb, kb[:3])[:2]),
              _rel([S.numeric(c, lam=lam) if c.free_symbols else float(c) for c in S.pn_coefficients("poisson")],
                   risk_coefficients_1d(kp, kp[:3])[:2]))
    for family, k, mu in (("bernoulli", kb, q), ("poisson", kp, lam)):
        c = S.pn_coefficients(family, well_specified=False)
        vals = {"mu": mu, "g_2": g2, "g_3": g3}
        err = max(err, _rel([S.numeric(x, **{s.name: vals[s.name] for s in x.free_symbols}) for x in c],
                            risk_coefficients_1d(k, [g2, g3, 0.0])[:2]))
    return 0.0, err


@check("symbolic.negative_control", "a check that must see a wrong formula",
       "the Bernoulli rate function with p moved by 1e-3 vs rate_function at random (x, p): minus the difference, "
       "which must stay below -1e-6 (a symbolic layer that ignored its arguments would pass the checks above only "
       "if this failed)", 0.0, relation="<=")
def _negative(rng):
    x, p = float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.1, 0.9))
    x = x if abs(x - p) > 0.05 else min(x + 0.1, 0.95)  # away from the minimum, where a shift in p is first order
    wrong = S.numeric(S.bernoulli_rate_function(), x=x, p=p + 1e-3)
    return -1e-6, -abs(wrong - rate_function([1 - p, p], [0, 1], x))
