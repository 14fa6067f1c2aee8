"""LLM-as-a-judge checks of ``alignsim verify`` (registered into :data:`alignsim.checks.CHECKS` on import).

Exact checks pair the module's quadratures with independent computations (a 2-D Gauss-Hermite rule for the
softmax at k = 2, brute-force scans for the optimisers, finite-d traces for the deterministic equivalent); the
Monte-Carlo checks draw the selection itself (:func:`alignsim.mc.sample_judge_point`) or the whole finite-d model
(:func:`alignsim.mc.simulate_judge`) and include the naive offset variance of the authors' code as a negative
control: the simulation must exclude it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad

from .. import judge as J
from .._judge_quad import log_mean_weight
from ..mc import sample_judge_point, simulate_judge
from ._registry import Z, check, mc_check
from ._stats import batch_ci

_SOURCE = "Halder and Pehlevan, arXiv:2512.19905"


def _point(rng):
    return rng.uniform(-0.8, 0.8), rng.uniform(-0.6, 0.6), rng.uniform(0.5, 1.5)


@check("judge.de_bayes_identity", f"{_SOURCE} (Bayes calibration of the corrected offset variance)",
       "V_mu vs s^2 - sigma^2 when the teacher is drawn from the prior (tau^2 = gamma^2), random alpha, sigma^2, "
       "gamma^2, S^2", 1e-12)
def _bayes(rng):
    g2, sigma2 = rng.uniform(0.2, 3.0), rng.uniform(0.05, 2.0)
    q = J.deterministic_equivalent(rng.uniform(0.05, 4.0), sigma2, g2, S2=rng.uniform(0.5, 2.0), tau2=g2)
    return q.s2 - sigma2, q.var_mu


@check("judge.de_traces_vs_finite_d", f"{_SOURCE}",
       "a1 = tr lambda (K + lambda)^-1 / d against the same trace of sampled X (d = 400, n = 400 / alpha, "
       "3 draws); the O(1/d) finite-size fluctuation stays below 1e-3 (seeds 0-39), a tenth of the tolerance", 1e-2)
def _traces(rng):
    alpha, lam = rng.uniform(0.3, 2.0), rng.uniform(0.1, 1.0)
    d = 400  # d = 1000 cost 6 s per eigendecomposition on a busy machine for a margin the tolerance does not need
    n = int(round(d / alpha))
    q = J.deterministic_equivalent(d / n, lam, 1.0)
    vals = []
    for _ in range(3):
        X = rng.normal(size=(n, d)) / math.sqrt(d)
        eig = np.linalg.eigvalsh(X.T @ X)
        vals.append(float(np.mean(lam / (eig + lam))))
    return q.a1, float(np.mean(vals))


@check("judge.softmax_vs_2d_quadrature", f"{_SOURCE} (exponential-race integral)",
       "E_{2,T} from the 1-D exponential-race integral vs nested adaptive quadrature (scipy quad, breakpoints at "
       "u2 = u1 and u2 = 2 rho - u1) of 2 E[U1^2 w1 / (w1 + w2)], random point and T in [0.2, 2] s^2", 1e-10)
def _softmax_2d(rng):
    mu, rho, s = _point(rng)
    T = rng.uniform(0.2, 2.0) * s * s
    lo, hi = mu - 12.0 * s, mu + 12.0 * s

    def phi(u):
        return math.exp(-0.5 * ((u - mu) / s) ** 2) / (s * math.sqrt(2.0 * math.pi))

    def p_first(u1):  # P(the first of two candidates is selected | U1 = u1)
        d1 = (u1 - rho) ** 2
        pts = sorted(p for p in (u1, 2.0 * rho - u1, mu) if lo < p < hi)
        return quad(lambda u2: phi(u2) / (1.0 + math.exp(min((d1 - (u2 - rho) ** 2) / T, 700.0))), lo, hi,
                    points=pts, epsabs=1e-15, epsrel=1e-13, limit=200)[0]

    val = quad(lambda u1: 2.0 * u1 * u1 * phi(u1) * p_first(u1), lo, hi, points=[mu, rho], epsabs=1e-15,
               epsrel=1e-13, limit=200)[0]
    return J.point_error(2, T, mu, rho, s), val


@check("judge.inverse_square_law", f"{_SOURCE} (extreme-value constant)",
       "(k+1)(k+2) E_k / C at k = 1e5 (teacher judge, random point) vs 1, where C = pi s^2 exp(mu^2/s^2) and the "
       "correction is O(k^-2) (6e-10 at k = 1e5)", 1e-8)
def _inverse_square(rng):
    mu, _, s = _point(rng)
    k = 1e5
    return 1.0, (k + 1) * (k + 2) * J.point_error(k, 0.0, mu, 0.0, s) / J.best_of_k_constant(mu, 0.0, s)


@check("judge.inverse_square_rate", f"{_SOURCE}",
       "k^2 ((k+1)(k+2) E_k / C - 1) at k = 1e2, 1e3, 1e4, 1e5 settles (a wrong constant or a 1/k^2 law with "
       "the wrong shift would diverge): the value at 1e5 vs at 1e4, relative; needs E_k to ~1e-12", 1e-2)
def _inverse_square_rate(rng):
    mu, rho, s = _point(rng)
    c = J.best_of_k_constant(mu, rho, s)
    q = [k * k * ((k + 1) * (k + 2) * J.point_error(k, 0.0, mu, rho, s, excess=True) / c - 1.0)
         for k in (1e4, 1e5)]
    return q[0], q[1]


@check("judge.large_k_limit", f"{_SOURCE} (tilted-Gaussian limit)",
       "|gap| E_{k,T} - E_inf at k = 1e4 / Ew over |gap| at k = 1e3 / Ew (Ew the rivals' mean weight), E_inf the "
       "closed form (theta mu + (1-theta) rho)^2 + theta s^2: at most 0.15 (0.1 for an O(1/k) approach, plus "
       "the 1/k^2 term) when the limit is right", 0.0, "<=")
def _limit(rng):
    mu, rho, s = _point(rng)
    T = rng.uniform(0.1, 2.0) * s * s
    limit = J.point_error(math.inf, T, mu, rho, s)
    ew = math.exp(log_mean_weight(T / (s * s), (rho - mu) / s))  # the rivals' mean weight: k E w >> 1
    gaps = [J.point_error(k, T, mu, rho, s) - limit for k in (1e3 / ew, 1e4 / ew)]
    return 0.15, abs(gaps[1]) / max(abs(gaps[0]), 1e-14)


@check("judge.zero_temperature_limit", f"{_SOURCE}",
       "softmax E_{k,T} at T = 1e-4 s^2 vs best-of-k E_k (same k in [2, 50]): the gap is O(T)", 1e-3)
def _zero_T(rng):
    mu, rho, s = _point(rng)
    k = int(rng.integers(2, 51))
    return J.point_error(k, 0.0, mu, rho, s), J.point_error(k, 1e-4 * s * s, mu, rho, s)


@check("judge.high_temperature_order", f"{_SOURCE} (authors' expansion)",
       "residual r(T) of the expansion truncated after C0 at T = 40, 80, 160, 320 s^2: the ratio r(T)/r(2T), "
       "Richardson-extrapolated to T -> inf, is 8 for an O(T^-3) remainder (16 if that term vanishes) and 4 for a "
       "wrong C0; reported as 8 / ratio <= 1 (seeds 0-299 give 0.96-0.9998)", 0.02, "<=")
def _hte(rng):
    mu, rho, s = _point(rng)
    k = int(rng.integers(2, 20))
    res = [J.high_temperature_error(k, T * s * s, mu, rho, s) - J.point_error(k, T * s * s, mu, rho, s)
           for T in (40.0, 80.0, 160.0, 320.0)]
    # the ratios carry a 1/T correction from the next term: 2 rho(2T) - rho(T) removes it
    ratio = 2.0 * res[2] / res[3] - res[1] / res[2]
    return 1.0, 8.0 / ratio


@check("judge.optimal_k_vs_scan", f"{_SOURCE} (finite optimal k when C-bar < 0)",
       "optimal_k of a misspecified judge (rho = 0.6 y_T, alpha = 0.05) vs the argmin of the averaged error over "
       "every k = 1..40: the minimal errors (equal iff the same k)", 1e-13)
def _optimal_k(rng):
    model = J.JudgeModel(5, 100, 1.0, 1.0, judge=("scale", 0.6))
    k_star, e_star = model.optimal_k(k_max=256)
    scan = [model.error(k) for k in range(1, 41)]
    if int(np.argmin(scan)) + 1 != k_star:
        return e_star, math.inf
    return e_star, min(scan)


@check("judge.optimal_temperature_vs_grid", f"{_SOURCE}",
       "E at the optimal T (k = 8, random point with 2 rho (rho - mu) > s^2) minus the minimum over a 400-point "
       "log grid of T in [1e-3, 10] s^2: must not be positive", 1e-12, "<=")
def _optimal_T(rng):
    s = 1.0
    mu = rng.uniform(-0.8, -0.4)
    rho = rng.uniform(0.5, 0.8)
    T_star, e_star = J.point_optimal_temperature(8, mu, rho, s)
    grid = np.geomspace(1e-3, 10.0, 400)
    return float(min(J.point_error(8, t, mu, rho, s) for t in grid)), e_star


def _mc_point(rng, m, softmax):
    """(exact, sample mean, batch-means half-width) of U_sel^2 at a random point, k in [2, 32]."""
    mu, rho, s = _point(rng)
    k = int(rng.integers(2, 33))
    T = rng.uniform(0.05, 2.0) * s * s if softmax else 0.0
    u = sample_judge_point(k, T, mu, rho, s, m // 4, rng=rng)
    est, half = batch_ci(lambda idx: float(np.mean(u[idx] ** 2)), np.arange(u.size))
    return J.point_error(k, T, mu, rho, s), est, half


@mc_check("judge.point_best_of_k_vs_mc", f"{_SOURCE}",
          "mean of U_sel^2 over sampled best-of-k selections (k in [2, 32], random point) vs the exact "
          "order-statistic error; batch-means interval")
def _mc_bok(rng, m):
    return _mc_point(rng, m, softmax=False)


@mc_check("judge.point_softmax_vs_mc", f"{_SOURCE}",
          "mean of U_sel^2 over sampled softmax selections (k in [2, 32], T in [0.05, 2] s^2) vs the exact "
          "exponential-race error; batch-means interval")
def _mc_softmax(rng, m):
    return _mc_point(rng, m, softmax=True)


_PROPORTIONAL = J.JudgeModel(400, 800, 0.5, 1.0)  # V1/V2: alpha = 0.5, lambda = 0.5, tau^2 = gamma^2 = 1


def _finite_d(rng, m, key, k=1):
    trials = max(m // 2000, 20)
    out = simulate_judge(_PROPORTIONAL, k, 0.0, n_test=256, n_trials=trials, rng=rng)[key]
    return float(out.mean()), Z * float(out.std(ddof=1)) / math.sqrt(trials)


@mc_check("judge.offset_variance_finite_d", f"{_SOURCE} (offset variance)",
          "E mu^2 over test points of finite-d simulations (d = 400, n = 800) vs the corrected deterministic "
          "equivalent V_mu = 0.2808; interval from independent trials (finite-d bias O(1/d) is far below it)")
def _mc_vmu(rng, m):
    est, half = _finite_d(rng, m, "mu2")
    return _PROPORTIONAL.offset_law()["var_mu"], est, half


@mc_check("judge.naive_offset_excluded", f"{_SOURCE} (negative control)",
          "the same simulation must EXCLUDE the authors' naive V_mu = S^2 tau^2 a1^2 = 0.0788", "!=")
def _mc_naive(rng, m):
    est, half = _finite_d(rng, m, "mu2")
    return J.deterministic_equivalent(0.5, 0.5, 1.0, de="paper").var_mu, est, half


@mc_check("judge.best_of_16_finite_d", f"{_SOURCE} (best-of-16)",
          "best-of-16 error of finite-d simulations (d = 400, n = 800, teacher judge) vs the averaged exact error "
          "of the deterministic equivalent, 0.013859")
def _mc_bo16(rng, m):
    est, half = _finite_d(rng, m, "error", k=16)
    return _PROPORTIONAL.error(16), est, half


@mc_check("judge.best_of_16_naive_excluded", f"{_SOURCE} (negative control)",
          "the same simulation must EXCLUDE the naive-DE best-of-16 error 0.009123", "!=")
def _mc_bo16_naive(rng, m):
    est, half = _finite_d(rng, m, "error", k=16)
    return J.JudgeModel(400, 800, 0.5, 1.0, de="paper").error(16), est, half
