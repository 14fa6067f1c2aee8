"""Tests of alignsim.judge: the averaged judge model."""

import math

import numpy as np
import pytest

from alignsim import judge as J
from alignsim.mc import sample_judge_point, simulate_judge

INF = math.inf


def test_v2b_best_of_16_corrected_and_naive():
    assert J.JudgeModel(1, 2, 0.5, 1.0).error(16) == pytest.approx(0.013859280342, abs=1e-11)
    assert J.JudgeModel(1, 2, 0.5, 1.0, de="paper").error(16) == pytest.approx(0.009123, abs=5e-7)


def test_v9_data_equivalent():
    model = J.JudgeModel(100, 200, 0.1, 1.0)
    for k, want in [(1, 0.268857754045), (2, 0.106355950437), (4, 0.038689300854), (8, 0.0129346087128)]:
        assert model.error(k) == pytest.approx(want, rel=1e-10)
    assert model.data_equivalent(2) == pytest.approx(3236.34, abs=0.01)
    assert model.data_equivalent(4) == INF
    assert model.with_n(model.data_equivalent(2)).error(1) == pytest.approx(model.error(2), rel=1e-10)


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


def test_elasticities():
    e_n, e_k = J.JudgeModel(100, 200, 0.1, 1.0).elasticities(1000)
    assert 1.9 < e_k < 2.0
    assert e_n > 0


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
