"""Tests of alignsim.infalign: optimal transforms, the best exponent, frontiers."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alignsim as a
from alignsim import infalign as ia

from ..strategies import laws, prob_vectors

SMALL = 2 ** 12  # a coarser grid where the test only needs 1e-7


def test_vc13_best_t_bon4():
    t, w = ia.best_t("bon", 4, 0.5)
    assert t == pytest.approx(12.63, rel=2e-3)
    assert w == pytest.approx(0.8727089, abs=1e-7)


def test_vc14_optimum_bon4_at_kl_half():
    opt = ia.optimal_transform("bon", 4, kl=0.5)
    assert opt.beta == pytest.approx(0.216613, abs=1e-6)
    assert opt.win_rate == pytest.approx(0.87325048, abs=1e-8)
    assert opt.kl == pytest.approx(0.5, abs=1e-10)
    assert opt.win_rate == pytest.approx(opt.beta / 4 * (opt.policy[-1] - 1), abs=1e-9)


def test_vc15_won4_identity_best_negexp_and_optimum():
    assert ia.UniformCTRL("identity", kl=0.5).win_rate("won", 4) == pytest.approx(0.885988782, abs=1e-9)
    t, w = ia.best_t("won", 4, 0.5)
    assert t == pytest.approx(9.68, rel=5e-3)
    assert w == pytest.approx(0.947629063, abs=1e-8)
    opt = ia.optimal_transform("won", 4, kl=0.5)
    assert opt.beta == pytest.approx(0.208424, abs=1e-6)
    assert opt.win_rate == pytest.approx(0.947894003, abs=1e-8)
    assert opt.win_rate == pytest.approx(1 - opt.beta / 4 * (1 - opt.policy[0]), abs=1e-10)


@pytest.mark.parametrize("kind, N, kl, w, edge", [("bon", 2, 1.0969898, 0.9072475382, 19.145),
                                                  ("bon", 4, 0.8908590, 0.9311699775, 38.247),
                                                  ("bon", 32, 0.3437611, 0.9830916230, 315.589),
                                                  ("won", 4, 0.6836011, 0.9750000000, 0.0)])
def test_vc16_optimum_at_fixed_beta(kind, N, kl, w, edge):
    opt = ia.optimal_transform(kind, N, beta=0.1)
    assert opt.kl == pytest.approx(kl, abs=1e-7)
    assert opt.win_rate == pytest.approx(w, abs=1e-10)
    assert (opt.policy[-1] if kind == "bon" else opt.policy[0]) == pytest.approx(edge, abs=1e-3)
    assert opt.certificate < 1e-9 and opt.residual < 1e-9


def test_vc18_small_kl():
    opt = ia.optimal_transform("bon", 4, kl=1e-4, intervals=SMALL)
    assert opt.win_rate == pytest.approx(0.507284, abs=1e-6)
    assert ia.UniformCTRL("identity", kl=1e-4).win_rate("bon", 4) == pytest.approx(0.505430, abs=1e-6)
    # first-order predictions of the spec: 1/2 + rho N sqrt(kappa / (2 (4N - 1)))
    first = 0.5 + 4 * math.sqrt(1e-4 / 30)
    assert opt.win_rate == pytest.approx(first, abs=3e-5)


@pytest.mark.parametrize("N, t0", [(2, 3.3615), (4, 7.8246), (8, 15.9386), (32, 63.9876)])
def test_vc20_small_kl_exponent(N, t0):
    assert round(ia.small_kl_t(N), 4) == t0


def test_finite_won_keeps_the_best_stationary_point():
    """A bottom tie gives worst-of-4 three stationary points (found by hypothesis in a clean-clone run): a local
    maximum near the reference (0.50055), a local minimum (0.49281, where the plain iteration stopped) and the
    global maximum with the mass piled on the top level. By symmetry the optimum is (x, (1-x)/3, (1-x)/3,
    (1-x)/3); a bounded scalar search over x is the independent answer."""
    from scipy.optimize import minimize_scalar

    p, r, beta = np.full(4, 0.25), np.array([0.0, -1.0, -1.0, -1.0]), 0.25
    opt = ia.optimal_transform("won", 4, beta=beta, ref=p, r=r)

    def objective(x):
        q = np.array([x] + [(1 - x) / 3] * 3)
        return ia.inference_time_win_rate(q, p, r, "won", 4) - beta * a.kl(q, p)

    best = minimize_scalar(lambda x: -objective(x), bounds=(0.9, 1 - 1e-12), method="bounded",
                           options={"xatol": 1e-12})
    assert opt.win_rate - beta * a.kl(opt.policy, p) == pytest.approx(-best.fun, abs=1e-10)
    assert opt.certificate < 1e-9


@given(law=laws(min_size=3, max_size=7, ties=True), kind=st.sampled_from(["bon", "won"]), N=st.integers(2, 5),
       beta=st.floats(0.05, 2.0), data=st.data())
def test_finite_optimum_beats_random_policies(law, kind, N, beta, data):
    p, r = law
    opt = ia.optimal_transform(kind, N, beta=beta, ref=p, r=r)
    assert opt.certificate < 1e-9  # KKT: R - beta log(pi / p) constant on the support
    best = opt.win_rate - beta * a.kl(opt.policy, p)
    for _ in range(5):
        q = data.draw(prob_vectors(size=p.size)) * (p > 0)
        q = q / q.sum()
        assert ia.inference_time_win_rate(q, p, r, kind, N) - beta * a.kl(q, p) <= best + 1e-10


def test_finite_optimum_approaches_the_continuous_one():
    K = 512
    opt = ia.optimal_transform("bon", 4, beta=0.1, ref=np.full(K, 1 / K), r=np.arange(K))
    assert opt.win_rate == pytest.approx(0.9311699775, abs=2e-3)
    assert opt.residual < 1e-10


def test_long_calls_report_progress(capsys):
    """frontier_table and optimal_frontier take seconds: a callable sees every step, False keeps quiet."""
    seen = []
    ia.frontier_table([("bon", 2, 0.5), ("won", 2, 0.5)], intervals=2 ** 10, progress=lambda i, n: seen.append((i, n)))
    assert seen == [(0, 2), (1, 2)]
    seen.clear()
    ia.optimal_frontier("bon", 2, [1.0, 0.5, 0.25], intervals=2 ** 10, progress=lambda i, n: seen.append(i))
    assert seen == [0, 1, 2]
    ia.optimal_frontier("bon", 2, [1.0], intervals=2 ** 10, progress=False)
    assert capsys.readouterr().err == ""


def test_a_fixed_point_the_grid_cannot_resolve_fails_fast_with_a_clear_error():
    """Best-of-128 at KL 0.5 on the default grid cycles instead of converging: stopped as soon as its best change
    stalls for 2000 steps (it ran all 20 000 steps, 25 s, before), with an error that says what to change."""
    with pytest.raises(ValueError, match="lower N, raise beta or lower the KL target"):
        ia.optimal_transform("bon", 128, kl=0.5)


@pytest.mark.parametrize("procedure, N, kl", [("won", 64, 0.5), ("won", 256, 0.1)])
def test_a_kl_target_the_optimum_jumps_over_is_an_error_not_a_nearby_answer(procedure, N, kl):
    """Worst-of-64 at KL 0.5 returned an optimum with KL 0.5014 (beta 1.7e-13) as if it met the target, and
    worst-of-256 at KL 0.1 leaked scipy's 'f(a) and f(b) must have different signs': the KL jumps across the
    target at a beta the grid cannot resolve."""
    with pytest.raises(ValueError, match="is not attained"):
        ia.optimal_transform(procedure, N, kl=kl)


@pytest.mark.parametrize("procedure, N, kl", [("bon", 64, 0.5), ("bon", 256, 0.1), ("won", 32, 0.25)])
def test_kl_targets_are_met(procedure, N, kl):
    assert ia.optimal_transform(procedure, N, kl=kl).kl == pytest.approx(kl, rel=1e-8)
