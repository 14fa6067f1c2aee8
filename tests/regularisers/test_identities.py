"""Tests of alignsim.regularisers: identities of KL-regularised alignment and Nash equilibria."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alignsim as a
from alignsim import regularisers as reg

Q = [0.4, 0.3, 0.2, 0.1]


R = [0.0, 0.5, 1.0, 1.5]


def _bt(r):
    r = np.asarray(r, dtype=float)
    return 1 / (1 + np.exp(-(r[:, None] - r[None, :])))


RPS = np.array([[0.5, 1.0, 0.0], [0.0, 0.5, 1.0], [1.0, 0.0, 0.5]])


# ----------------------------------------------------------------------------------------------------------------
# Identities (spec section 5; V19-V23)
# ----------------------------------------------------------------------------------------------------------------
@given(seed=st.integers(0, 10 ** 6), beta=st.floats(0.05, 5.0))
def test_v19_korbak_identity(seed, beta):
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(4))
    lhs, rhs = reg.kl_posterior_gap(pi, Q, R, beta)
    assert lhs == pytest.approx(rhs, abs=1e-12)


def test_v20_on_policy_distillation():
    teacher = [0.1, 0.2, 0.3, 0.4]
    assert reg.geometric_mixture(Q, teacher, 1.0)[0] == pytest.approx(teacher, abs=1e-15)
    pi, log_z = reg.geometric_mixture(Q, teacher, 1.5)
    assert pi == pytest.approx((0.03621291747, 0.1182708932, 0.2661095097, 0.5794066796), abs=1e-10)
    assert log_z == pytest.approx(0.322607113945, abs=1e-11)
    assert reg.geometric_mixture(Q, teacher, 0.5)[0] == pytest.approx(
        (0.2247448714, 0.2752551286, 0.2752551286, 0.2247448714), abs=1e-10)


def test_v20_memoryless_per_token_mixture_is_the_sequence_optimum():
    import itertools

    ref, teacher = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    token, _ = reg.geometric_mixture(ref, teacher, 2.0)
    assert token == pytest.approx((0.0490797546, 0.1840490798, 0.7668711656), abs=1e-10)
    seqs = list(itertools.product(range(3), repeat=2))
    seq_ref = np.array([ref[i] * ref[j] for i, j in seqs])
    seq_teacher = np.array([teacher[i] * teacher[j] for i, j in seqs])
    seq_opt, _ = reg.geometric_mixture(seq_ref, seq_teacher, 2.0)
    assert seq_opt == pytest.approx([token[i] * token[j] for i, j in seqs], abs=1e-15)


@pytest.mark.parametrize("w, reward", [(2.0, 1.34638732924), (0.5, 0.775649707371), (-1.0, 0.165404583118)])
def test_v21_guidance_weight_is_a_kl_coefficient(w, reward):
    pi, _ = reg.geometric_mixture(Q, a.tilt(Q, R, 0.5), w)
    assert pi @ np.array(R) == pytest.approx(reward, abs=1e-11)
    assert pi == pytest.approx(a.tilt(Q, np.array(R) * np.sign(w), 0.5 / abs(w)), abs=1e-14)


def test_v22_implicit_reward_and_single_token():
    ir = reg.implicit_reward(a.tilt(Q, R, 0.5), Q, 0.5)
    assert np.array(R) - ir == pytest.approx([0.773977966789] * 4, abs=1e-11)
    for p, b, pi_t, lr in [(1e-4, 0.1, 0.6877797168, 0.8836053701), (1e-2, 0.1, 0.9955255179, 0.4600685663),
                           (1e-4, 0.2, 0.01462571365, 0.9970732562)]:
        out = reg.single_token_reward(p, 1.0, b)
        assert (out["pi_token"], out["log_ratio_reward"]) == pytest.approx((pi_t, lr), abs=1e-10)
        assert out["reward"] == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("P, tau, pi", [
    (_bt([0, 0.5, 1]), 0.5, (0.4164172566, 0.3168367232, 0.2667460202)),
    (_bt([0, 0.5, 1]), 0.1, (0.1415533552, 0.2662305758, 0.592216069)),
    (RPS, 0.5, (0.4968535117, 0.2408758323, 0.262270656)), (RPS, 0.1, (0.3753269575, 0.2774326283, 0.3472404143))])
def test_v23_nash_equilibria(P, tau, pi):
    got = reg.nash_kl(P, [0.5, 0.3, 0.2], tau)
    assert got == pytest.approx(pi, abs=1e-10)
    assert reg.nash_gap(P, [0.5, 0.3, 0.2], tau, got) < 1e-14
    assert reg.nash_gap(P, [0.5, 0.3, 0.2], tau, [0.2, 0.3, 0.5]) > 1e-3


def test_v23_bt_nash_is_not_the_rlhf_tilt_and_rps_uniform():
    tilt = a.tilt([0.5, 0.3, 0.2], [0, 0.5, 1], 0.1)
    assert tilt == pytest.approx((0.0001123515, 0.0100046686, 0.9898829799), abs=1e-10)
    assert np.max(np.abs(reg.nash_kl(_bt([0, 0.5, 1]), [0.5, 0.3, 0.2], 0.1) - tilt)) > 0.3
    assert reg.nash_kl(RPS, [1 / 3] * 3, 0.05) == pytest.approx([1 / 3] * 3, abs=1e-13)


@pytest.mark.parametrize("call, match", [
    (lambda: reg.nash_kl([[0.5, 0.9], [0.9, 0.5]], [0.5, 0.5], 0.5), "P \\+ P\\^T = 1"),
    (lambda: reg.nash_kl(RPS, [0.5, 0.5, 0.0], 0.5), "ref must be positive"),
    (lambda: reg.nash_kl(RPS[:2], [0.5, 0.3, 0.2], 0.5), "shape"),
    (lambda: reg.geometric_mixture([0.5, 0.5, 0.0], [0.2, 0.3, 0.5], 2.0), "w > 1"),
    (lambda: reg.geometric_mixture([0.5, 0.5], [1.0, 0.0], -1.0), "w < 0"),
    (lambda: reg.implicit_reward([0.5, 0.5], [1.0, 0.0], 1.0), "ref is 0"),
    (lambda: reg.single_token_reward(1.0, 1.0, 0.1), "p_token"),
])
def test_identities_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
