"""On-policy vs off-policy distillation into a memoryless student: the update against an independent DP of the
student's prefix law, the lambda = 0 closed form, the fixed point's residual, and optimality of the ends."""

import numpy as np
import pytest

from alignsim import distill
from alignsim.distill._exposure import _student_prefix_target
from alignsim.markov import MarkovLM

T = MarkovLM([0.5, 0.3, 0.2], [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]], [1.0, 0.0, 0.0], 6, eos=2)


def test_student_prefix_target_is_the_dp_of_the_students_prefixes():
    """sum over positions t >= 2 of E_S[T(y_(t-1), .)]: the student's expected counts of live tokens among its first
    L - 1 positions (a DP: token_occupancy of the student cut to length L - 1), times T, plus the first position."""
    rng = np.random.default_rng(4)
    for _ in range(5):
        p = rng.dirichlet(np.ones(3))
        short = MarkovLM(p, np.tile(p, (3, 1)), T.rewards, T.length - 1, eos=T.eos)
        counts = distill.token_occupancy(short)
        counts[T.eos] = 0.0
        np.testing.assert_allclose(_student_prefix_target(T, p), T.initial + counts @ T.transition, rtol=1e-13)


def test_supervised_kd_is_the_sequence_forward_kl_student_in_one_step():
    res = distill.on_policy_fixed_point(T, 0.0, start=[0.2, 0.2, 0.6])
    np.testing.assert_allclose(res.p, distill.fit(T, "memoryless", "forward_kl").parameters["p"], rtol=1e-14)
    assert res.converged and res.iterations == 2


@pytest.mark.parametrize("lam", [0.3, 1.0])
def test_the_fixed_point_solves_its_equation(lam):
    res = distill.on_policy_fixed_point(T, lam)
    assert res.converged
    target = lam * _student_prefix_target(T, res.p) + (1 - lam) * distill.token_occupancy(T)
    assert np.max(np.abs(target / target.sum() - res.p)) < 1e-12
    assert res.history.shape == (res.iterations + 1, 3)


def test_each_end_is_best_in_its_own_divergence():
    df = distill.exposure_bias(T, [0.0, 0.5, 1.0])
    assert df["kl_student_teacher"].idxmin() == 3  # the sequence-level reverse-KL student (last row)
    assert df["kl_teacher_student"].idxmin() == 0  # supervised KD: the sequence-level forward-KL student
    assert df["converged"].all()
    assert np.isnan(df["lam"].iloc[-1])


@pytest.mark.parametrize("call, error, match", [
    (lambda: distill.on_policy_fixed_point([0.5, 0.5], 1.0), TypeError, "MarkovLM"),
    (lambda: distill.on_policy_fixed_point(T, 1.5), ValueError, "lam"),
    (lambda: distill.on_policy_fixed_point(T, 1.0, start=[0.5, 0.5]), ValueError, "start"),
    (lambda: distill.on_policy_fixed_point(MarkovLM([0.5, 0.5], np.tile([[0.5, 0.5], [0.5, 0.5]], (2, 1, 1)),
                                                    [0, 1], 3), 1.0), ValueError, "stationary"),
    (lambda: distill.exposure_bias(T, []), ValueError, "lambdas"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
