"""The LLM-as-a-judge model (spec judge.md; verification cases V1-V10, properties of section 10)."""

import math

import numpy as np
import pytest
from hypothesis import example, given, strategies as st

from alignsim import judge as J
from alignsim._judge_quad import log_mean_weight
from alignsim.mc import sample_judge_point, simulate_judge

from .strategies import judge_points

INF = math.inf


class _Law(J.JudgeModel):
    """A model whose test points have a given Gaussian law (the spec's cases state the law directly)."""

    def __init__(self, var_mu, var_rho=0.0, cov=0.0, s2=1.0):
        super().__init__(1, 1, 1.0, 1.0)
        object.__setattr__(self, "_law", {"var_mu": var_mu, "var_rho": var_rho, "cov_mu_rho": cov, "s2": s2,
                                          "var_delta": var_rho - 2 * cov + var_mu, "cov_rho_delta": var_rho - cov})

    def offset_law(self):
        return dict(self._law)


# ---------------------------------------------------------------------------------------------------------------
# known values (spec section 9)
# ---------------------------------------------------------------------------------------------------------------
def test_v1_deterministic_equivalent():
    q = J.deterministic_equivalent(0.5, 0.5, 1.0)
    for got, want in [(q.R, 0.390388203202), (q.a1, 0.280776406404), (q.a2, 0.106339062591),
                      (q.s2, 0.780776406404), (q.var_mu, 0.280776406404)]:
        assert got == pytest.approx(want, abs=1e-12)
    assert J.deterministic_equivalent(0.5, 0.5, 1.0, de="paper").var_mu == pytest.approx(0.0788353903934, abs=1e-12)
    q = J.deterministic_equivalent(2.0, 0.1, 1.0)
    for got, want in [(q.R, 1.34833147735), (q.a1, 0.574165738677), (q.a2, 0.517261241912)]:
        assert got == pytest.approx(want, abs=1e-11)


def test_v1_resolvent_fixed_point_and_derivative():
    alpha, lam, S2 = 0.7, 0.3, 1.6
    q = J.deterministic_equivalent(alpha, lam, 1.0, S2=S2)
    assert q.R == pytest.approx(alpha * lam + alpha * q.R * S2 / (S2 + q.R), rel=1e-14)
    h = 1e-6  # dR/dlambda by central differences of the root
    up = J.deterministic_equivalent(alpha, lam + h, 1.0, S2=S2).R
    down = J.deterministic_equivalent(alpha, lam - h, 1.0, S2=S2).R
    assert q.dR == pytest.approx((up - down) / (2 * h), rel=1e-8)
    assert q.a1 ** 2 <= q.a2 <= q.a1


def test_v2b_best_of_16_corrected_and_naive():
    assert J.JudgeModel(1, 2, 0.5, 1.0).error(16) == pytest.approx(0.013859280342, abs=1e-11)
    assert J.JudgeModel(1, 2, 0.5, 1.0, de="paper").error(16) == pytest.approx(0.009123, abs=5e-7)


@pytest.mark.parametrize("k, want", [(2, 0.460539413461), (10, 0.031675902408), (100, 3.91784853262e-4)])
def test_v3_best_of_k(k, want):
    assert J.point_error(k, 0.0, 0.5, 0.0, 1.0) == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize("k, want", [(1e2, 5.66e-4), (1e3, 6.01e-6), (1e4, 6.05e-8), (1e5, 6.06e-10)])
def test_v4_inverse_square_convergence(k, want):
    C = J.best_of_k_constant(0.5, 0.0, 1.0)
    assert C == pytest.approx(4.03388481609, abs=1e-10)
    assert (k + 1) * (k + 2) * J.point_error(k, 0.0, 0.5, 0.0, 1.0) / C - 1 == pytest.approx(want, rel=5e-3)


@pytest.mark.parametrize("mu, rho, s, C", [(1.5, 0.0, 1.0, 29.8066012027), (0.5, 0.2, 1.0, 3.84994387841),
                                           (0.0, 0.0, 0.3, 0.282743338823)])
def test_v4_constants_and_convergence(mu, rho, s, C):
    assert J.best_of_k_constant(mu, rho, s) == pytest.approx(C, rel=1e-11)
    k = 1e4
    assert (k + 1) * (k + 2) * J.point_error(k, 0.0, mu, rho, s, excess=True) / C == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("V, C, at_1e5", [(0.1, 3.51240736552, 3.51240736764), (0.2, 4.05577867597, 4.05577867597)])
def test_v4b_averaged_constant(V, C, at_1e5):
    model = _Law(V)
    assert model.best_of_k().coefficient == pytest.approx(C, rel=1e-11)
    k = 1e5
    assert (k + 1) * (k + 2) * model.error(k) == pytest.approx(at_1e5, rel=1e-9)


def test_v5_softmax():
    assert J.point_error(2, 0.5, 0.3, 0.2, 1.0) == pytest.approx(0.496248364329, rel=1e-10)
    for k, T, want in [(10, 0.05, 0.184404465601), (100, 0.1, 0.182543030197), (50, 1.0, 0.364045046506)]:
        assert J.point_error(k, T, 0.3, -0.4, 1.0) == pytest.approx(want, rel=1e-10)
    assert J.point_error(INF, 1.0, 0.3, -0.4, 1.0) == pytest.approx(0.361111111111, abs=1e-12)


def test_v6_high_temperature_expansion():
    exact = J.point_error(8, 320.0, -0.5, 0.4, 1.0)
    assert exact == pytest.approx(1.23967864976, rel=1e-10)
    assert exact - J.high_temperature_error(8, 320.0, -0.5, 0.4, 1.0) == pytest.approx(-1.95e-7, rel=1e-2)


def test_v7_finite_optimal_k():
    assert J.best_of_k_constant(-0.5, 0.8, 1.0) == pytest.approx(-18.3878648311, rel=1e-11)
    for k, want in [(3, 0.496971142723), (4, 0.482074020747), (5, 0.490597648643)]:
        assert J.point_error(k, 0.0, -0.5, 0.8, 1.0) == pytest.approx(want, rel=1e-11)
    k, e = J.point_optimal_k(-0.5, 0.8, 1.0)
    assert (k, e) == (4, pytest.approx(0.482074020747, rel=1e-11))
    assert J.point_error(INF, 0.0, -0.5, 0.8, 1.0) == pytest.approx(0.64)


def test_v7b_averaged_finite_optimal_k():
    model = _Law(0.04, 0.16, -0.08)  # mu = -0.2 y, rho = 0.4 y, y ~ N(0, 1)
    assert model.best_of_k().coefficient == pytest.approx(-4.24075147044, rel=1e-11)
    k, e = model.optimal_k(k_max=128)
    assert k == 33
    assert e == pytest.approx(0.159419805162, rel=1e-10)
    assert e < model.best_of_k().floor == pytest.approx(0.16)


def test_v8_optimal_temperature():
    T, e = J.point_optimal_temperature(8, -0.6, 0.6, 1.0)
    assert T == pytest.approx(0.252561386477, rel=1e-6)
    assert e == pytest.approx(0.325044427865, rel=1e-10)
    assert J.point_error(8, 0.0, -0.6, 0.6, 1.0) == pytest.approx(0.333892138987, rel=1e-10)
    assert J.point_optimal_temperature(4, -0.6, 0.6, 1.0)[0] == pytest.approx(0.1341, abs=1e-4)
    assert J.point_optimal_temperature(32, -0.6, 0.6, 1.0)[0] == pytest.approx(0.3437, abs=1e-4)
    T, e = J.point_optimal_temperature(INF, -0.6, 0.6, 1.0)
    assert (T, e) == (pytest.approx(0.360655737705, abs=1e-12), pytest.approx(0.326388888889, abs=1e-12))


@pytest.mark.parametrize("k, want", [(4, 0.1287), (32, 0.1279), (INF, 0.125)])
def test_v8b_optimal_judge(k, want):
    assert J.point_optimal_judge(k, 0.5, -0.5, 1.0)[0] == pytest.approx(want, abs=1e-4)


def test_v9_data_equivalent():
    model = J.JudgeModel(100, 200, 0.1, 1.0)
    for k, want in [(1, 0.268857754045), (2, 0.106355950437), (4, 0.038689300854), (8, 0.0129346087128)]:
        assert model.error(k) == pytest.approx(want, rel=1e-10)
    assert model.data_equivalent(2) == pytest.approx(3236.34, abs=0.01)
    assert model.data_equivalent(4) == INF
    assert model.with_n(model.data_equivalent(2)).error(1) == pytest.approx(model.error(2), rel=1e-10)


@pytest.mark.parametrize("V, slope, exponent", [(0.25, -1.99, 2.0), (0.75, -1.47, 4 / 3), (1.0, -1.14, 1.0)])
def test_v10_decay_exponent(V, slope, exponent):
    model = _Law(V)
    e3, e4 = model.error(1e3), model.error(1e4)
    assert math.log10(e4 / e3) == pytest.approx(slope, abs=0.01)
    law = model.best_of_k()
    assert law.exponent == pytest.approx(exponent)
    assert (law.coefficient == INF) == (2 * V >= 1.0)


# ---------------------------------------------------------------------------------------------------------------
# properties (spec section 10)
# ---------------------------------------------------------------------------------------------------------------
points = judge_points()


@given(points, st.integers(2, 200))
def test_one_sample_and_the_integral_near_one(p, k):
    mu, rho, s = p
    assert J.point_error(1, 0.7, mu, rho, s) == pytest.approx(mu * mu + s * s, rel=1e-15)
    # the order-statistic integral itself at k -> 1+: (1 - G)^(k-1) -> 1
    assert J.point_error(1 + 1e-9, 0.0, mu, rho, s) == pytest.approx(mu * mu + s * s, rel=1e-7)


@given(points, st.integers(1, 60))
def test_teacher_judge_is_monotone_in_k_and_beats_every_temperature(p, k):
    mu, _, s = p
    e_k = J.point_error(k, 0.0, mu, 0.0, s)
    assert J.point_error(k + 1, 0.0, mu, 0.0, s) <= e_k * (1 + 1e-12)
    if k >= 2:
        assert e_k <= J.point_error(k, 0.3 * s * s, mu, 0.0, s) * (1 + 1e-12)


@given(points, st.floats(0.1, 3.0))
@example((0.0, 1.5, 0.375), 1.0)  # stress runs: far targets (k * gap -> -40.3; k E w = 4 at k = 1e5)
@example((1.0, -1.0, 0.375), 1.0)
@example((0.0, 1.0, 1.0), 2.8125)  # a near-zero 1/k coefficient: the 1/k^2 term shows (ratio 10.4)
def test_limits_in_k_and_temperature(p, t):
    mu, rho, s = p
    T = t * s * s
    limit = J.point_error(INF, T, mu, rho, s)
    # O(1/k) approach to the tilted-Gaussian limit once k E[w] >> 1 (E w in closed form: a far judge target
    # makes the rivals' total weight small, and the 1/k coefficient large)
    ew = math.exp(log_mean_weight(T / (s * s), (rho - mu) / s))
    gaps = [J.point_error(k, T, mu, rho, s) - limit for k in (1e3 / ew, 1e4 / ew)]
    assert abs(gaps[1]) <= 0.15 * abs(gaps[0]) + 1e-13  # 0.1 up to the O(1/k^2) term
    k = 6
    assert J.point_error(k, 1e-5 * s * s, mu, rho, s) == pytest.approx(J.point_error(k, 0.0, mu, rho, s), rel=1e-3)


@given(points, st.integers(2, 40), st.sampled_from([0.0, 0.2, 1.5]))
def test_symmetry_and_scaling(p, k, t):
    mu, rho, s = p
    e = J.point_error(k, t * s * s, mu, rho, s)
    assert J.point_error(k, t * s * s, -mu, -rho, s) == pytest.approx(e, rel=1e-10)
    c = 2.5  # units: (mu, rho, s) -> c (mu, rho, s), T -> c^2 T, E -> c^2 E
    assert J.point_error(k, t * (c * s) ** 2, c * mu, c * rho, c * s) == pytest.approx(c * c * e, rel=1e-9)


def test_mean_weight_is_the_gaussian_integral():
    x, w = np.polynomial.hermite_e.hermegauss(80)
    mu, rho, s, T = 0.3, -0.5, 0.8, 0.4
    direct = np.dot(w, np.exp(-((mu + s * x - rho) ** 2) / T)) / math.sqrt(2 * math.pi)
    assert math.exp(log_mean_weight(T / s ** 2, (rho - mu) / s)) == pytest.approx(direct, rel=1e-13)


@given(st.floats(0.05, 4.0), st.floats(0.05, 2.0), st.floats(0.2, 3.0), st.floats(0.3, 3.0))
def test_bayes_calibration(alpha, sigma2, g2, S2):
    q = J.deterministic_equivalent(alpha, sigma2, g2, S2=S2, tau2=g2)
    assert q.var_mu == pytest.approx(q.s2 - sigma2, rel=1e-12)


def test_broadcasting_matches_scalar_calls():
    mu = np.array([[0.1, -0.4], [0.7, 0.0]])
    s = np.array([1.0, 0.5])
    got = J.point_error(5, 0.2, mu, 0.3, s)
    assert got.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            assert got[i, j] == pytest.approx(J.point_error(5, 0.2, mu[i, j], 0.3, s[j]), rel=1e-12)


@pytest.mark.parametrize("T", [0.0, 0.3])
def test_average_reduces_to_one_dimension(T):
    """The Delta-reduction of JudgeModel.error against a brute-force 2-D Gauss-Hermite average of point_error."""
    model = J.JudgeModel(50, 100, 0.5, 1.0, judge=("scale", 0.3), judge_noise=0.05)
    law = model.offset_law()
    x, w = np.polynomial.hermite_e.hermegauss(24)
    w = w / w.sum()
    cov = np.array([[law["var_mu"], law["cov_mu_rho"]], [law["cov_mu_rho"], law["var_rho"]]])
    Lc = np.linalg.cholesky(cov)
    X1, X2 = np.meshgrid(x, x, indexing="ij")
    mu = Lc[0, 0] * X1
    rho = Lc[1, 0] * X1 + Lc[1, 1] * X2
    brute = float(np.sum(np.outer(w, w) * J.point_error(6, T, mu, rho, math.sqrt(law["s2"]))))
    assert model.error(6, T) == pytest.approx(brute, rel=1e-7)


def test_limits_of_the_average():
    model = J.JudgeModel(50, 100, 0.5, 1.0, judge=("model_aware", 1.0))
    law = model.offset_law()
    assert model.error(1) == pytest.approx(law["var_mu"] + law["s2"])
    assert model.error(INF) == pytest.approx(law["var_rho"])
    assert model.error(1e6, 0.5) == pytest.approx(model.error(INF, 0.5), rel=1e-5)
    noisy = J.JudgeModel(50, 100, 0.5, 1.0, judge=("model_aware", 1.0), target="noisy")
    assert noisy.error(4) == pytest.approx(model.error(4) + 0.5, rel=1e-14)


def test_optimal_temperature_and_judge_of_the_model():
    model = J.JudgeModel(10, 10_000, 1e-8, 1e-6, tau2=4.0, judge=("model_aware", 10.0))
    s2 = model.offset_law()["s2"]
    T, e = model.optimal_temperature(INF)
    assert T > 0
    grid = np.geomspace(0.05, 20, 200) * s2
    assert e <= min(model.error(INF, t) for t in grid) * (1 + 1e-12)
    c, e = model.optimal_judge_offset(INF, 20 * s2)
    assert c == pytest.approx(10.0, rel=1e-6)
    assert J.JudgeModel(1, 2, 0.5, 1.0).optimal_temperature(8) == (0.0, pytest.approx(J.JudgeModel(1, 2, 0.5, 1.0)
                                                                                      .error(8)))


def test_exact_predictive_matches_the_definition():
    rng = np.random.default_rng(4)
    X, y, x = rng.normal(size=(12, 4)), rng.normal(size=12), rng.normal(size=(3, 4))
    lam = 0.5 / 2.0
    A = X.T @ X + lam * np.eye(4)
    m, v = J.exact_predictive(X, y, x, 0.5, 2.0)
    assert m == pytest.approx(x @ np.linalg.solve(A, X.T @ y), rel=1e-12)
    assert v == pytest.approx(0.5 + 0.5 * np.einsum("ij,ij->i", x, np.linalg.solve(A, x.T).T), rel=1e-12)
    X0 = X.copy()
    J.exact_predictive(X, y, x, 0.5, 2.0)
    assert np.array_equal(X, X0)


def test_elasticities():
    e_n, e_k = J.JudgeModel(100, 200, 0.1, 1.0).elasticities(1000)
    assert 1.9 < e_k < 2.0
    assert e_n > 0


# ---------------------------------------------------------------------------------------------------------------
# Monte Carlo (fixed seeds, 4.5-sigma intervals)
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k, T, mu, rho, s", [(10, 0.0, 0.5, 0.0, 1.0), (10, 0.05, 0.3, -0.4, 1.0),
                                              (5, 0.0, -0.5, 0.8, 1.0), (8, 0.25, -0.6, 0.6, 1.0)])
def test_selection_sampler_agrees_with_the_exact_error(k, T, mu, rho, s):
    x = sample_judge_point(k, T, mu, rho, s, 200_000, rng=11) ** 2
    assert abs(x.mean() - J.point_error(k, T, mu, rho, s)) <= 4.5 * x.std() / math.sqrt(x.size)


def test_finite_d_simulation_agrees_and_is_reproducible():
    model = J.JudgeModel(60, 120, 0.5, 1.0, judge=("scale", 0.2), judge_noise=0.05)
    out = simulate_judge(model, 4, 0.3, n_test=128, n_trials=60, rng=5)
    again = simulate_judge(model, 4, 0.3, n_test=128, n_trials=60, rng=5)
    assert np.array_equal(out["error"], again["error"])
    err = out["error"]
    # finite d = 60: the O(1/d) bias is well inside 4.5 standard errors of 60 trials
    assert abs(err.mean() - model.error(4, 0.3)) <= 4.5 * err.std(ddof=1) / math.sqrt(err.size)


def test_simulations_do_not_depend_on_the_thread_count():
    import numba

    model = J.JudgeModel(30, 60, 0.5, 1.0, judge=("scale", 0.2), judge_noise=0.05)
    first = simulate_judge(model, 8, 0.3, n_test=64, n_trials=20, rng=3)["error"]
    draws = sample_judge_point(8, 0.3, 0.1, 0.2, 1.0, 100_000, rng=4)
    numba.set_num_threads(1)
    try:
        assert np.array_equal(simulate_judge(model, 8, 0.3, n_test=64, n_trials=20, rng=3)["error"], first)
        assert np.array_equal(sample_judge_point(8, 0.3, 0.1, 0.2, 1.0, 100_000, rng=4), draws)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


# ---------------------------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, name", [
    (lambda: J.point_error(0, 0.0, 0.1, 0.0, 1.0), "k"),
    (lambda: J.point_error(0.5, 0.0, 0.1, 0.0, 1.0), "k"),
    (lambda: J.point_error(float("nan"), 0.0, 0.1, 0.0, 1.0), "k"),
    (lambda: J.point_error(4, -0.1, 0.1, 0.0, 1.0), "T"),
    (lambda: J.point_error(4, 0.0, 0.1, 0.0, 0.0), "s"),
    (lambda: J.point_error(4, 0.0, float("nan"), 0.0, 1.0), "mu"),
    (lambda: J.point_optimal_temperature(1, 0.1, 0.0, 1.0), "k"),
    (lambda: J.deterministic_equivalent(0.0, 0.5, 1.0), "alpha"),
    (lambda: J.deterministic_equivalent(0.5, -0.5, 1.0), "sigma2"),
    (lambda: J.deterministic_equivalent(0.5, 0.5, 0.0), "prior_var"),
    (lambda: J.deterministic_equivalent(0.5, 0.5, 1.0, de="naive"), "de"),
    (lambda: J.JudgeModel(0, 10, 0.5, 1.0), "d"),
    (lambda: J.JudgeModel(10, 0.5, 0.5, 1.0), "n"),
    (lambda: J.JudgeModel(10, 10, 0.0, 1.0), "sigma2"),
    (lambda: J.JudgeModel(10, 10, 0.5, -1.0), "prior_var"),
    (lambda: J.JudgeModel(10, 10, 0.5, 1.0, tau2=0.0), "tau2"),
    (lambda: J.JudgeModel(10, 10, 0.5, 1.0, judge=("teacher", 0.0)), "judge family"),
    (lambda: J.JudgeModel(10, 10, 0.5, 1.0, judge_noise=-1.0), "judge_noise"),
    (lambda: J.JudgeModel(10, 10, 0.5, 1.0).error(0), "k"),
    (lambda: J.JudgeModel(10, 10, 0.5, 1.0).error(4, -1.0), "T"),
    (lambda: J.exact_predictive(np.ones((3, 2)), np.ones(2), np.ones(2), 1.0, 1.0), "X must be"),
    (lambda: sample_judge_point(0, 0.0, 0.0, 0.0, 1.0, 10), "k"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_judge_must_be_a_tuple():
    with pytest.raises(TypeError, match="judge"):
        J.JudgeModel(10, 10, 0.5, 1.0, judge="scale")
