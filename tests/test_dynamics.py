"""Exact training dynamics: spec cases B1-B5, B7, B9-B11 as known values, properties, validation."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alignsim as a
from alignsim import dynamics as d

R, REF, BETA = np.array([1.0, 0.5, 0.0]), np.array([0.2, 0.3, 0.5]), 0.25
RTOL12 = 1e-11


def test_b1_gradient_and_optimum():
    g = d.pg_gradient([0.2, -0.4, 0.1], R, REF, BETA)
    np.testing.assert_allclose(g, [0.134774579686, 0.0183535522831, -0.153128131969], rtol=RTOL12)
    star = a.tilt(REF, R, BETA)
    np.testing.assert_allclose(star, [0.800773853709, 0.16255943445, 0.0366667118402], rtol=RTOL12)
    assert a.penalised_value(REF, R, BETA) == pytest.approx(0.653184697323262, rel=RTOL12)
    assert a.kl(star, REF) == pytest.approx(0.915475494445, rel=RTOL12)
    np.testing.assert_allclose(d.pg_gradient(np.log(star), R, REF, BETA), 0.0, atol=1e-15)  # the tilt is stationary


def test_gradient_vs_finite_differences():
    theta = np.array([0.2, -0.4, 0.1])

    def J(th):
        pi = np.exp(th - th.max())
        pi /= pi.sum()
        return float(np.dot(pi, R)) - BETA * a.kl(pi, REF)

    h = 1e-6
    fd = [(J(theta + h * e) - J(theta - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(d.pg_gradient(theta, R, REF, BETA), fd, atol=1e-9)


def test_b2_local_rate_and_flow():
    assert d.pg_local_rate(R, REF, BETA) == pytest.approx(0.01279319, abs=5e-9)
    pi = d.pg_flow(np.log(REF), R, REF, BETA, [0.0, 100.0])[-1]
    np.testing.assert_allclose(pi, [0.798403, 0.157762, 0.043835], atol=5e-7)


def test_b3_npg_closed_form_equals_iterates():
    for eta, want in [(1.2, [0.773333855894, 0.182668346146, 0.0439977979596]),
                      (4.0, [0.800773853709, 0.16255943445, 0.0366667118402]),
                      (6.0, [0.805579958632, 0.158992845707, 0.0354271956603])]:
        closed = d.npg_iterate([0.6, 0.3, 0.1], R, REF, BETA, eta, 5)
        np.testing.assert_allclose(closed[-1], want, rtol=RTOL12)
        theta = np.log([0.6, 0.3, 0.1])
        for _ in range(5):  # the NPG step itself
            pi = np.exp(theta - theta.max())
            pi /= pi.sum()
            theta = theta + eta * (R - BETA * (np.log(pi) - np.log(REF)))
        pi = np.exp(theta - theta.max())
        np.testing.assert_allclose(closed[-1], pi / pi.sum(), rtol=1e-12)


def _grpo_brute(pi, r, G, ddof=1, eps=0.0):
    out = np.zeros(pi.size)
    for group in itertools.product(range(pi.size), repeat=G):
        w = math.prod(pi[i] for i in group)
        rew = r[list(group)]
        sd = rew.std(ddof=ddof)
        if sd == 0:
            continue
        adv = (rew - rew.mean()) / (sd + eps)
        for i, y in enumerate(group):
            out += w * adv[i] * ((np.arange(pi.size) == y) - pi) / G
    return out


@pytest.mark.parametrize("ddof, eps, want", [
    (1, 0.0, [0.210553737152, 0.120953785461, -0.331507522613]),
    (0, 0.0, [0.243126513647, 0.139665401191, -0.382791914838]),
    (1, 1e-6, [0.210553263317, 0.120953341435, -0.331506604752]),
])
def test_b4_grpo_compositions(ddof, eps, want):
    g = d.grpo_expected_update(REF, R, 4, ddof=ddof, eps=eps)
    np.testing.assert_allclose(g, want, rtol=RTOL12)
    np.testing.assert_allclose(g, _grpo_brute(REF, R, 4, ddof, eps), rtol=1e-12)


def test_b5_binary_factor_and_fast_path():
    np.testing.assert_allclose([d.grpo_binary_factor(0.3, G, ddof=0) for G in (2, 4, 8, 16, 400)],
                               [1.0, 1.63458946839, 1.96272159025, 2.0924922647, 2.17892274393], rtol=RTOL12)
    assert 1 / math.sqrt(0.21) == pytest.approx(2.18217890236, rel=RTOL12)
    pi, r = np.array([0.1, 0.2, 0.3, 0.4]), np.array([1.0, 1.0, 0.0, 0.0])
    for G in (2, 4, 6):
        np.testing.assert_allclose(d.grpo_expected_update(pi, r, G, ddof=1), _grpo_brute(pi, r, G, 1), rtol=1e-12)


def test_b7_entropy_change_vs_finite_differences():
    theta = np.array([0.9, 0.1, -0.3, -1.2])
    r = np.array([1.0, 0.0, 0.3, 0.8])
    pi = np.exp(theta) / np.exp(theta).sum()
    A = r - pi @ r
    for delta, d1, d2 in [([0.37, -1.1, 0.52, 0.08], -0.111536161079049, -0.329138658476),
                          (pi * A, -0.0693029594911484, -0.0232648868804),
                          (A, -0.163576852099182, -0.183097644303)]:
        assert d.entropy_change(theta, delta) == pytest.approx(d1, rel=RTOL12)
        assert d.entropy_change(theta, delta, order=2) == pytest.approx(d2, rel=RTOL12)
        H = lambda e: a.entropy(np.exp(theta + e * np.asarray(delta)) / np.exp(theta + e * np.asarray(delta)).sum())  # noqa: E731
        assert (H(1e-4) - H(-1e-4)) / 2e-4 == pytest.approx(d1, abs=1e-8)


def test_b10_forward_kl_fixed_point():
    pi, lam = d.forward_kl_fixed_point(R, REF, BETA)
    np.testing.assert_allclose(pi, [0.750445952568, 0.132362194852, 0.117191852579], rtol=RTOL12)
    assert lam == pytest.approx(1.06662704999, rel=RTOL12)
    assert lam == pytest.approx(BETA + pi @ R, rel=1e-12)
    assert a.kl(pi, REF) == pytest.approx(0.7140268684, abs=5e-11)
    # the k3-as-loss update (forward-KL gradient) vanishes there
    from alignsim.estimators import expected_kl_gradient

    theta = np.log(pi)
    step = d.pg_gradient(theta, R, REF, 0.0) - BETA * expected_kl_gradient(theta, REF, "k3", "loss")
    np.testing.assert_allclose(step, 0.0, atol=1e-15)


def test_b11_pg_iterates():
    P = d.pg_iterate(np.log(REF), R, REF, BETA, 1.0, 100)
    np.testing.assert_allclose(P[-1], [0.7984950918, 0.1579536699, 0.04355123832], atol=5e-11)
    assert a.entropy(P[-1]) == pytest.approx(0.6076602952, abs=5e-11)


def test_b9_unregularised_gap_decays_like_one_over_t():
    P = d.pg_iterate(np.zeros(3), R, REF, 0.0, 0.5, 1000)
    assert 1000 * (1.0 - P[-1] @ R) == pytest.approx(1.368681, abs=5e-6)


def test_pass_at_k():
    assert d.pass_at_k(0.3, 8) == pytest.approx(1 - 0.7 ** 8, rel=1e-14)
    assert d.pass_at_k(1e-20, 10) == pytest.approx(1e-19, rel=1e-12)
    np.testing.assert_allclose(d.pass_at_k([0.0, 1.0], 5), [0.0, 1.0])


@settings(deadline=None)
@given(st.lists(st.floats(0.05, 1.0), min_size=3, max_size=4), st.lists(st.integers(-4, 4), min_size=4, max_size=4),
       st.integers(2, 6), st.floats(0.1, 3.0), st.floats(-2.0, 2.0))
def test_grpo_properties(w, r, G, scale, shift):
    pi = np.array(w) / np.sum(w)
    rr = np.array(r[: pi.size]) / 4.0  # rewards on a grid, so that the affine map keeps their differences in floats
    g = d.grpo_expected_update(pi, rr, G)
    assert abs(g.sum()) < 1e-12
    np.testing.assert_allclose(d.grpo_expected_update(pi, scale * rr + shift, G), g, atol=1e-12)  # affine invariant


def test_validation():
    with pytest.raises(ValueError, match="G must be"):
        d.grpo_expected_update(REF, R, 1)
    with pytest.raises(ValueError, match="eta"):
        d.pg_iterate(np.zeros(3), R, REF, BETA, 0.0, 3)
    with pytest.raises(ValueError, match="ddof"):
        d.grpo_expected_update(REF, R, 4, ddof=2)
    with pytest.raises(ValueError, match="same length"):
        d.pg_gradient([0.0, 0.0], R, REF, BETA)
    with pytest.raises(ValueError, match="order"):
        d.entropy_change([0.0, 1.0], [1.0, 0.0], order=3)
    with pytest.raises(ValueError, match="beta"):
        d.forward_kl_fixed_point(R, REF, 0.0)


def test_b6_shared_policy_pass_at_k_trade_off():
    r = np.array([2 / 3, 1 / 3, 0.0])  # mean pass@1 reward of each arm over the problems {0}, {1}, {0}
    sets = [[0], [1], [0]]
    traj = d.pg_iterate(np.zeros(3), r, [1 / 3] * 3, 0.0, 1.0, 2000)
    for t, p1, p8 in [(0, 0.333333, 0.960982), (50, 0.649461, 0.729749), (200, 0.663057, 0.680895),
                      (2000, 0.666330, 0.668015)]:
        assert d.shared_policy_pass_at_k(traj[t], sets, 1) == pytest.approx(p1, abs=5e-7)
        assert d.shared_policy_pass_at_k(traj[t], sets, 8) == pytest.approx(p8, abs=5e-7)


def test_b8_baselines():
    pg = d.pg_gradient(np.log(REF), R, REF, 0.0)
    np.testing.assert_allclose(pg, [0.13, 0.045, -0.175], rtol=1e-14)
    np.testing.assert_allclose(d.reinforce_expected_update(REF, R, 4, "rloo"), pg, rtol=1e-14)
    np.testing.assert_allclose(d.reinforce_expected_update(REF, R, 4, "group_mean"), 0.75 * pg, rtol=1e-14)


def test_b11_npg_and_grpo_iterates():
    npg = d.npg_iterate(REF, R, REF, BETA, 1.0, 100)[-1]
    # alpha_100 = (1 - eta beta)^100 = 0.75^100 = 3.2e-13 of the start remains: the tilt up to ~1e-12 relative
    np.testing.assert_allclose(npg, a.tilt(REF, R, BETA), rtol=1e-11)
    assert not np.array_equal(npg, a.tilt(REF, R, BETA))
    assert a.entropy(npg) == pytest.approx(0.5944528711, abs=5e-11)
    gr = d.grpo_iterate(np.log(REF), R, REF, BETA, 1.0, 100, 4)[-1]
    np.testing.assert_allclose(gr, [0.9789155025, 0.01089038649, 0.01019411102], atol=5e-11)
    assert a.kl(gr, REF) == pytest.approx(1.478848013, abs=5e-10)


def test_entropy_reward_fit_is_a_fit():
    H = np.linspace(0.2, 1.2, 9)
    fit = d.fit_entropy_reward_law(H, -0.5 * np.exp(H) + 2.0)
    assert (fit["a"], fit["b"]) == pytest.approx((0.5, 2.0), rel=1e-12) and fit["rms"] < 1e-12
    noisy = d.fit_entropy_reward_law(H, np.sin(H))
    assert noisy["rms"] > 1e-4  # a law that does not hold leaves residuals
    with pytest.raises(ValueError, match="same length"):
        d.fit_entropy_reward_law([0.1, 0.2], [1.0])
