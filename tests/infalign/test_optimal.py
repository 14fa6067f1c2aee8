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


def test_a_cycling_fixed_point_iteration_fails_fast_with_a_clear_error():
    """A damped iteration whose best change stalls for 2000 steps stops at once with an error that says what to
    change (best-of-128 at KL 0.5 on the damped iteration ran all 20 000 steps, 25 s, before)."""
    from alignsim.infalign._optimal import _fixed_point

    with pytest.raises(ValueError, match="lower alpha or raise max_iter") as err:
        # a bang-bang step has no fixed point: the damped iteration chatters around its switch at x = pi / 7
        _fixed_point(lambda x: 5.0 * np.sign(np.sin(7.0 * x)), np.ones(3), 0.05, 1e-12, 20_000)
    assert int(str(err.value).split(" in ")[1].split()[0]) < 2100


@pytest.mark.parametrize("N, beta", [(4, 0.1), (32, 0.05), (128, 0.01), (1024, 0.1)])
def test_best_of_n_by_shooting_is_the_damped_fixed_point_where_that_converges(N, beta):
    """The continuous best-of-N optimum is shot on its Euler-Lagrange equation and polished by Newton; the
    damped mirror-ascent iteration of the paper, run to its own tolerance, is an independent route to the same
    grid solution."""
    from alignsim.infalign._continuous import _grid
    from alignsim.infalign._optimal import _ContinuousProblem, _fixed_point

    opt = ia.optimal_transform("bon", N, beta=beta)
    problem = _ContinuousProblem(_grid(2 ** 14), "bon", float(N))
    phi, _ = _fixed_point(lambda x: problem.step(x, beta), problem.start(), 0.05, 1e-13, 20_000)
    assert np.max(np.abs(opt.phi - phi)) < 1e-11
    assert opt.residual < 1e-12
    assert opt.win_rate == pytest.approx(problem.result("bon", beta, phi, 0).win_rate, abs=1e-13)


@pytest.mark.parametrize("N, kl", [(128, 0.5), (256, 0.3), (1024, 0.1)])
def test_best_of_n_kl_targets_the_damped_iteration_could_not_reach(N, kl):
    """Best-of-128 at KL 0.5 (beta 5e-4) and best-of-1024 at KL 0.1 (beta 2.2e-4) cycled in the damped iteration.
    Shooting meets the target; a grid four times finer (an independent discretisation) agrees on the win rate
    and beta, and the certificate W = beta/N (p(1) - 1) holds to the grid's accuracy at u = 1."""
    opt = ia.optimal_transform("bon", N, kl=kl)
    fine = ia.optimal_transform("bon", N, kl=kl, intervals=2 ** 16)
    assert opt.kl == pytest.approx(kl, rel=1e-10)
    assert opt.residual < 1e-12
    assert opt.win_rate == pytest.approx(fine.win_rate, abs=1e-10)
    # beta is ill-conditioned in the KL at large N (0.01 nats per e-fold at N = 1024), so the grids' KL
    # difference of ~2e-8 nats moves it by ~2e-6 relative
    assert opt.beta == pytest.approx(fine.beta, rel=1e-5)
    assert opt.certificate < 1e-6


def test_a_best_of_n_optimum_too_steep_for_the_grid_is_an_error():
    """Best-of-1024 at KL 0.15 and 0.2 need beta ~ 9e-6 and 6e-7, where the optimum's log-density climbs by 1 and
    2 per grid cell: the grid equations are still solved (residual 1e-13) but beta and 1 - W are off by 5e-4 and
    1e-2 against a grid four times finer. A clear error naming what to change, not a silent answer."""
    for kl in (0.15, 0.2):
        with pytest.raises(ValueError, match=r"climbs by .* in one cell \(at most 0.5\); raise intervals"):
            ia.optimal_transform("bon", 1024, kl=kl)


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


@pytest.mark.parametrize("N, beta", [(1, 0.5), (4, 0.1), (128, 0.003), (1024, 1e-3)])
def test_the_shot_alone_is_the_optimum_to_the_runge_kutta_accuracy(N, beta):
    """The Euler-Lagrange shot, before any Newton step, is within 1e-6 of the grid optimum (2e-7 measured at
    N = 1024, beta = 1e-3: the difference of a Runge-Kutta and a Simpson discretisation); for N = 1 its log
    density is the exact tilt u / beta - log Z (beta (log p)' = 1)."""
    from alignsim.infalign._shooting import solve_bon

    phi, shots, c = solve_bon(beta, float(N), 2 ** 14)
    opt = ia.optimal_transform("bon", N, beta=beta)
    assert np.max(np.abs(phi - opt.phi)) < 1e-6 * max(1.0, np.max(opt.phi))
    assert shots < 120
    if N == 1:
        assert c == pytest.approx(-math.log(beta * math.expm1(1 / beta)), abs=1e-12)


@pytest.mark.parametrize("N, beta", [(1, 0.5), (4, 0.1), (256, 1e-3), (1.5, 0.2)])
def test_the_shot_sensitivity_is_the_derivative_of_the_shot(N, beta):
    """The variational equation integrated with the shot gives dF(1)/dc: central differences agree to 1e-6
    (relative; worst measured 3.6e-7 with h = 1e-3 of the distance to the root, where F(1; c) is steep). N = 1.5 exercises a drive
    F^{N-2} that is singular at u = 0 (the sensitivity a ~ F keeps it finite)."""
    from alignsim.infalign._shooting import shoot_bon, solve_bon

    empty = np.empty(0)
    root = solve_bon(beta, float(N), 2 ** 12)[2]
    for c in (root - 0.1 * abs(root), root - 1e-3 * abs(root)):
        F, dF = shoot_bon(c, beta, float(N), 2 ** 12, empty)
        h = 1e-3 * abs(root - c)
        fd = shoot_bon(c + h, beta, float(N), 2 ** 12, empty)[0] - shoot_bon(c - h, beta, float(N), 2 ** 12, empty)[0]
        assert 0 < F < 1
        assert dF == pytest.approx(fd / (2 * h), rel=1e-6)


def test_a_shooting_solve_guided_by_neighbouring_roots_takes_a_few_shots():
    """Newton on log F(1; c) from the line through the roots at two neighbouring betas (what a KL-target search
    does): at most 6 shots where Brent's method took 15-45."""
    from alignsim.infalign import _continuous as IC
    from alignsim.infalign import _optimal as IO

    problem = IO._ContinuousProblem(IC._grid(2 ** 12), "bon", 256.0)
    for log_b in (-7.9, -7.95):
        problem.solve(math.exp(log_b), 1e-8)
    _, shots = problem.solve(math.exp(-7.94), 1e-8)
    assert shots <= 6


def test_an_optimum_concentrated_beyond_the_grid_is_an_error_without_overflow_warnings():
    """Best-of-512 at KL 0.5 puts its mass on the grid's end node (the normaliser falls below 1e-290): the search
    says the optimum is too steep instead of letting numpy overflow (found by a sweep over N and KL)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="too steep for a grid"):
            ia.optimal_transform("bon", 512, kl=0.5)
