"""Large deviations of Markov rewards, against independent routes: the memoryless formulas, ratios of exact
finite-n moment generating functions and tail probabilities (Markov LM DP), finite differences and a brute-force
Legendre transform."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from alignsim import asymptotics as A
from alignsim.markov import MarkovLM

T2 = np.array([[0.9, 0.1], [0.2, 0.8]])
R2 = np.array([0.0, 1.0])
# Three tokens whose best cycle is the 2-cycle 1 -> 2 -> 1 (mean 1.5; token 1 cannot repeat)
T3 = np.array([[0.5, 0.3, 0.2], [0.3, 0.0, 0.7], [0.1, 0.6, 0.3]])
R3 = np.array([0.0, 2.0, 1.0])
T4 = np.array([[0.5, 0.3, 0.2], [0.3, 0.0, 0.7], [0.4, 0.6, 0.0]])


def _log_mgf(lm, t):
    levels, log_p = lm.reward_law(log=True)
    keep = np.isfinite(log_p)
    a = log_p[keep] + t * levels[keep]
    return float(np.max(a) + math.log(np.sum(np.exp(a - np.max(a)))))


@pytest.mark.parametrize("transition, rewards", [(T2, R2), (T3, R3)])
@pytest.mark.parametrize("t", [-3.0, -0.4, 0.0, 0.7, 4.0])
def test_scgf_is_the_growth_rate_of_the_exact_moment_generating_function(transition, rewards, t):
    """log E e^{t S_(n+1)} - log E e^{t S_n} -> Lambda(t) like |lambda_2 / lambda_1|^n: 0.94 for T3 at t = 4,
    where the 2-cycle dominates and the tilted chain is nearly periodic, hence n = 1000."""
    mu = np.full(len(rewards), 1 / len(rewards))
    a = _log_mgf(MarkovLM(mu, transition, rewards, 1001), t)
    b = _log_mgf(MarkovLM(mu, transition, rewards, 1000), t)
    assert A.markov_scgf(transition, rewards, t) == pytest.approx(a - b, abs=1e-10)


@pytest.mark.parametrize("t", [-50.0, -1.0, 0.3, 2.0, 60.0])
def test_identical_rows_give_the_memoryless_scgf_and_rate(t):
    p, r = np.array([0.6, 0.25, 0.15]), np.array([0.0, 1.0, 3.0])
    chain = np.tile(p, (3, 1))
    assert A.markov_scgf(chain, r, t) == pytest.approx(A.scgf(p, r, t), rel=1e-13, abs=1e-14)
    xs = [0.0, 0.2, 0.75, 2.5, 3.0]
    np.testing.assert_allclose(A.markov_rate_function(chain, r, xs), A.rate_function(p, r, xs), rtol=1e-10)


def test_scgf_slope_matches_finite_differences_and_the_stationary_mean():
    h = 1e-5
    for t in (-2.0, 0.0, 1.5):
        fd = (A.markov_scgf(T3, R3, t + h) - A.markov_scgf(T3, R3, t - h)) / (2 * h)
        assert A._markov_scgf_one(T3, R3, t)[1] == pytest.approx(fd, abs=1e-8)
    w, v = np.linalg.eig(T3.T)
    pi = np.abs(v[:, np.argmax(w.real)].real)
    assert A._markov_scgf_one(T3, R3, 0.0)[1] == pytest.approx(pi @ R3 / pi.sum(), abs=1e-13)


@pytest.mark.parametrize("x", [0.2, 0.6, 1.0, 1.3, 1.49])
def test_rate_function_is_the_legendre_transform_found_by_brute_maximisation(x):
    res = minimize_scalar(lambda s: -(s * x - A.markov_scgf(T3, R3, s)), bounds=(-60, 60), method="bounded",
                          options={"xatol": 1e-12})
    assert A.markov_rate_function(T3, R3, x) == pytest.approx(-res.fun, abs=1e-9)


def test_rate_function_at_the_largest_cycle_mean_is_the_decay_of_the_exact_tail():
    """x_max = 1.5, attained only by alternating 1, 2, 1, 2 (T4 forbids 1 -> 1 and 2 -> 2): P(S_n = 1.5 n) for even
    n is a constant times (T[1,2] T[2,1])^(n/2), so the two-step ratio of exact probabilities is the rate exactly.
    (On T3, where 2 -> 2 is allowed, the n/2 + 1 placements of one repeat add log(n)/n to the ratio.)"""
    mu = np.full(3, 1 / 3)
    expected = -0.5 * math.log(0.7 * 0.6)
    lp = {n: MarkovLM(mu, T4, R3, n).reward_law(log=True) for n in (200, 202)}
    tail = [float(lp[n][1][np.isclose(lp[n][0], 1.5 * n)][0]) for n in (200, 202)]
    assert -(tail[1] - tail[0]) / 2 == pytest.approx(expected, rel=1e-12)
    assert A.markov_rate_function(T4, R3, 1.5) == pytest.approx(expected, rel=1e-13)
    assert A.markov_rate_function(T3, R3, 1.5) == pytest.approx(expected, rel=1e-13)  # same critical 2-cycle
    assert A.markov_rate_function(T3, R3, [1.5000001, -0.1]).tolist() == [math.inf, math.inf]
    assert A.markov_rate_function(T3, R3, 0.0) == pytest.approx(-math.log(0.5), rel=1e-12)  # self-loop at 0


def test_bon_and_rl_approach_the_rate_function_level():
    df = A.markov_bon_vs_rl([0.5, 0.5], T2, R2, 0.05, [100, 300, 1000])
    x = df["limit"][0]
    assert A.markov_rate_function(T2, R2, x) == pytest.approx(0.05, abs=1e-13)
    gaps = (x - df["bon_reward"]).to_numpy()
    assert np.all(gaps > 0) and np.all(np.diff(gaps) < 0) and gaps[-1] < 0.01
    assert np.all(np.abs(df["rl_reward"] - x) < 0.001)
    assert np.all(np.diff(df["kl_bon_rl"].to_numpy()) < 0)  # KL(BoN || RL) per token -> 0


def test_markov_bon_vs_rl_on_identical_rows_is_the_memoryless_table():
    p, r = np.array([0.7, 0.3]), np.array([0, 1])
    ours = A.markov_bon_vs_rl(p, np.tile(p, (2, 1)), r, 0.1, [50, 400])
    theirs = A.bon_vs_rl(p, r, 0.1, [50, 400])
    for col in ("bon_reward", "kl_bon_ref", "kl_bon_rl"):
        np.testing.assert_allclose(ours[col], theirs[col], rtol=1e-9)
    np.testing.assert_allclose(ours["limit"], theirs["rl_reward"], rtol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: A.markov_scgf([[1.0, 0.0], [0.0, 1.0]], [0, 1], 1.0), "irreducible"),
    (lambda: A.markov_scgf([[0.5, 0.5]], [0, 1], 1.0), "square"),
    (lambda: A.markov_scgf([[0.5, 0.6], [0.5, 0.5]], [0, 1], 1.0), "transition"),
    (lambda: A.markov_rate_function(T2, [0, 1, 2], 0.5), "rewards"),
    (lambda: A.markov_bon_vs_rl([0.5, 0.5], T2, R2, 0.3, [10]), "delta"),
    (lambda: A.markov_bon_vs_rl([1.0], T2, R2, 0.05, [10]), "initial"),
    (lambda: A.markov_bon_vs_rl([0.5, 0.5], T2, R2, 0.05, [10 ** 5]), "lengths"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("t", [1e3, 1e6, 1e12])
def test_scgf_at_huge_t_neither_overflows_nor_loses_the_critical_cycle(t):
    """Lambda(t) = t x_max - I(x_max) + o(1): entries e^{t r} overflow at t = 1e3 without the reduction by the
    maximum cycle mean and Bellman-Ford potentials."""
    assert A.markov_scgf(T3, R3, t) - t * 1.5 == pytest.approx(0.5 * math.log(0.42), abs=1e-12 * t)
    assert A.markov_scgf(T3, R3, -t) == pytest.approx(math.log(0.5), abs=1e-12 * t)
