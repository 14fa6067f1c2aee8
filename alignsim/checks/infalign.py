"""InfAlign checks of ``alignsim verify`` (registered into :data:`alignsim.checks.CHECKS` on import).

Each pairs a prediction of :mod:`alignsim.infalign` with an independent computation: the exponential-integral
closed forms with adaptive quadrature, the optimality certificates, finite differences, integration in the raw
reward variable of two different reward laws, and simulation of best-/worst-of-N decoding.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.integrate import quad, solve_ivp
from scipy.special import exp1, expi
from scipy.stats import norm

from .. import infalign as ia
from ..bon import bon_law, won_law
from ..mc import naive_bon, sample_law
from ..models import MemorylessLM
from ._registry import check, mc_check
from ._stats import bernstein, random_law, win_interval

_QUAD = {"epsabs": 1e-14, "epsrel": 1e-13, "limit": 400}


def _closed_form_rates(F, N):
    """(BoN_N, WoN_N) win rates from a closed-form CDF by adaptive quadrature."""
    bon = 1.0 - quad(lambda u: N * u ** (N - 1) * F(u) ** N, 0.0, 1.0, **_QUAD)[0]
    won = quad(lambda u: N * (1.0 - u) ** (N - 1) * (1.0 - F(u)) ** N, 0.0, 1.0, **_QUAD)[0]
    return bon, won


def _grid_rates(pol, N):
    return pol.kl, pol.win_rate("bon", N), pol.win_rate("won", N)


@check("infalign.closed_form_exp", "Balashankar et al. 2025 (exponential transform; closed form through Ei)",
       "exp transform: KL, BoN_N and WoN_N win rates from Ei closed forms + adaptive quadrature vs the graded "
       "grid: max abs difference", 1e-10)
def _closed_exp(rng):
    t, c, N = rng.uniform(0.5, 5.0), rng.uniform(0.1, 2.0), int(rng.integers(2, 9))
    e0, e1 = expi(c), expi(c * math.exp(t))
    Z = (e1 - e0) / t
    kl = c * (math.exp(c * math.exp(t)) - math.exp(c)) / (t * c * Z) - math.log(Z)
    exact = (kl,) + _closed_form_rates(lambda u: (expi(c * math.exp(t * u)) - e0) / (e1 - e0), N)
    got = _grid_rates(ia.UniformCTRL(ia.exp_transform(t), log_lambda=math.log(c) + t), N)  # paper beta = e^t beta
    return 0.0, float(np.max(np.abs(np.subtract(exact, got))))


@check("infalign.closed_form_negexp", "Balashankar et al. 2025 (negative exponential transform; closed form through E1)",
       "negexp transform: KL, BoN_N and WoN_N win rates from E1 closed forms + adaptive quadrature vs the graded "
       "grid: max abs difference", 1e-10)
def _closed_negexp(rng):
    t, c, N = rng.uniform(0.5, 6.0), rng.uniform(0.1, 20.0), int(rng.integers(2, 9))
    e0, e1 = exp1(c), exp1(c * math.exp(-t))
    Z = (e1 - e0) / t
    kl = -c * (math.exp(-c * math.exp(-t)) - math.exp(-c)) / (t * c * Z) - math.log(Z)
    exact = (kl,) + _closed_form_rates(lambda u: (exp1(c * math.exp(-t * u)) - e0) / (e1 - e0), N)
    got = _grid_rates(ia.UniformCTRL(ia.negexp(t), beta=1.0 / c), N)
    return 0.0, float(np.max(np.abs(np.subtract(exact, got))))


@check("infalign.certificate_bon", "Balashankar et al. 2025, main theorem (optimality certificate, by parts)",
       "W* of the optimal BoN_N policy vs (beta / N)(p*(1) - 1), random N and beta", 1e-8)
def _cert_bon(rng):
    N, beta = int(rng.integers(2, 17)), rng.uniform(0.05, 1.0)
    opt = ia.optimal_transform("bon", N, beta=beta)
    return beta / N * (opt.policy[-1] - 1.0), opt.win_rate


@check("infalign.certificate_won", "Balashankar et al. 2025, main theorem (optimality certificate, by parts)",
       "W* of the optimal WoN_N policy vs 1 - (beta / N)(1 - p*(0)), random N and beta", 1e-8)
def _cert_won(rng):
    N, beta = int(rng.integers(2, 17)), rng.uniform(0.05, 1.0)
    opt = ia.optimal_transform("won", N, beta=beta)
    return 1.0 - beta / N * (1.0 - opt.policy[0]), opt.win_rate


@check("infalign.lemma_b_vs_differences", "InfAlign main theorem",
       "transformed reward R_i - R_j vs central differences of the exact win rate along e_i - e_j (7 arms, ties, "
       "BoN and WoN, both comparators): max abs difference", 1e-8)
def _lemma_b(rng):
    p, r = random_law(rng, 7, ties=True)
    pi = rng.dirichlet(np.ones(7))
    N, eps, worst = int(rng.integers(2, 7)), 1e-6, 0.0
    for proc, against in itertools.product(("bon", "won"), ("decoded", "reference")):
        g = ia.transformed_reward(pi, p, r, proc, N, against=against)
        for i, j in itertools.combinations(range(7), 2):
            d = np.zeros(7)
            d[i], d[j] = eps, -eps
            fd = (ia.inference_time_win_rate(pi + d, p, r, proc, N, against=against)
                  - ia.inference_time_win_rate(pi - d, p, r, proc, N, against=against)) / (2 * eps)
            worst = max(worst, abs(g[i] - g[j] - fd))
    return 0.0, worst


def _raw_reward_rates(pdf, cdf, lo, hi, phi, beta, N):
    """KL and BoN_N win rate of pi ~ f(y) exp(Phi(G(y)) / beta) integrated in the raw reward y (an ODE for the
    policy CDF), independent of the calibrated-units grid."""
    w = lambda y: pdf(y) * math.exp((phi(cdf(y)) - phi(1.0)) / beta)  # noqa: E731
    Z = quad(w, lo, hi, **_QUAD)[0]
    mean_phi = quad(lambda y: w(y) * (phi(cdf(y)) - phi(1.0)), lo, hi, **_QUAD)[0] / Z
    kl = mean_phi / beta - math.log(Z)

    def rhs(y, s):
        q = w(y) / Z
        return [q, N * cdf(y) ** (N - 1) * pdf(y) * s[0] ** N]

    sol = solve_ivp(rhs, (lo, hi), [0.0, 0.0], method="DOP853", rtol=1e-12, atol=1e-15)
    return kl, 1.0 - sol.y[1, -1]


@check("infalign.calibration_invariance", "InfAlign (calibration)",
       "KL and BoN_N win rate of the CTRL policy for a Gaussian and an exponential raw reward, integrated in the "
       "reward variable, vs the uniform calibrated model: max abs difference over both laws", 1e-9)
def _invariance(rng):
    t, beta, N = rng.uniform(1.0, 6.0), rng.uniform(0.1, 1.0), int(rng.integers(2, 9))
    tr = ia.exp_transform(t)
    phi = lambda u: float(tr(u))  # noqa: E731
    uniform = ia.UniformCTRL(tr, beta=beta)
    target = (uniform.kl, uniform.win_rate("bon", N))
    gauss = _raw_reward_rates(norm.pdf, norm.cdf, -12.0, 12.0, phi, beta, N)
    expo = _raw_reward_rates(lambda y: math.exp(-y), lambda y: -math.expm1(-y), 0.0, 45.0, phi, beta, N)
    return 0.0, float(np.max(np.abs(np.subtract([gauss, expo], [target, target]))))


@mc_check("infalign.bon_decoding_vs_mc", "InfAlign inference-time win rate",
          "exact BoN_N win rate of a CTRL policy on a memoryless LM's reward levels vs simulated BoN decoding of the "
          "policy against simulated BoN decoding of the reference (ties one half)")
def _mc_bon(rng, m):

    levels, probs = MemorylessLM([0.5, 0.3, 0.2], [0, 1, 2], 4).reward_law()
    N, beta = int(rng.integers(2, 7)), rng.uniform(0.1, 1.0)
    pol = ia.ctrl_policy(probs, levels, ia.exp_transform(rng.uniform(1.0, 8.0)), beta)
    y, y0 = naive_bon(pol.policy, levels, N, m, rng=rng), naive_bon(probs, levels, N, m, rng=rng)
    wins = (levels[y] > levels[y0]) + 0.5 * (levels[y] == levels[y0])
    return (pol.win_rate("bon", N),) + win_interval(wins, bon_law(pol.policy, levels, N),
                                                     bon_law(probs, levels, N), levels)[1:]


@mc_check("infalign.won_decoding_vs_mc", "InfAlign best-of-N jailbreaking (worst-of-N)",
          "exact WoN_N win rate of a negexp CTRL policy on a bandit with ties vs simulated WoN decoding on both "
          "sides")
def _mc_won(rng, m):

    p, r = random_law(rng, 8, ties=True)
    N, beta = int(rng.integers(2, 7)), rng.uniform(0.05, 0.5)
    pol = ia.ctrl_policy(p, r, ia.negexp(rng.uniform(1.0, 8.0)), beta)
    y = naive_bon(pol.policy, r, N, m, worst=True, rng=rng)
    y0 = naive_bon(p, r, N, m, worst=True, rng=rng)
    wins = (r[y] > r[y0]) + 0.5 * (r[y] == r[y0])
    return (pol.win_rate("won", N),) + win_interval(wins, won_law(pol.policy, r, N), won_law(p, r, N), r)[1:]


@mc_check("infalign.uniform_bon_vs_mc", "Balashankar et al. 2025 (continuous model; Monte-Carlo overlay)",
          "BoN_N win rate of an exp CTRL policy in the continuous model vs N inverse-CDF draws per side, maximum "
          "compared (no ties)")
def _mc_uniform(rng, m):
    N = int(rng.integers(2, 9))
    pol = ia.UniformCTRL(ia.exp_transform(rng.uniform(2.0, 10.0)), kl=rng.uniform(0.1, 1.0))
    u, F = pol.u, pol.cdf
    keep = np.concatenate(([True], np.diff(F) > 0))  # a strictly increasing CDF for interpolation
    best = np.interp(rng.random((m, N)), F[keep], u[keep]).max(axis=1)
    best_ref = rng.random((m, N)).max(axis=1)
    exact = pol.win_rate("bon", N)
    est = float(np.mean(best > best_ref))
    return exact, est, bernstein(exact * (1.0 - exact), max(exact, 1.0 - exact), m)


@mc_check("infalign.calibration_bias_vs_mc", "InfAlign reward calibration",
          "exact E exp(t(C_m - 1)) of the m-sample calibrated reward (ties, trinomial sum) vs simulated reference "
          "sets")
def _mc_calibration(rng, m):

    p, r = random_law(rng, 6, ties=True)
    k, t = int(rng.integers(2, 9)), rng.uniform(1.0, 6.0)
    level = float(rng.choice(np.unique(r)))
    tr = ia.exp_transform(t)
    mom = ia.calibration_moments(p, r, k, transform=tr).set_index("level").loc[level]
    second = ia.calibration_moments(p, r, k, transform=lambda u: tr(u) ** 2).set_index("level").loc[level, "phi_mean"]
    z = r[sample_law(p, m * k, rng=rng)].reshape(m, k)
    c_hat = ((z < level).sum(axis=1) + 0.5 * (z == level).sum(axis=1)) / k
    est = float(np.mean(tr(c_hat)))
    var = max(second - mom.phi_mean ** 2, 0.0)
    return float(mom.phi_mean), est, bernstein(var, 1.0, m)
