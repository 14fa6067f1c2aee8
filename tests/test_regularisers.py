"""f-regularised optima (spec regularisers.md section 2; verification cases V1-V10, V12)."""

import math

import numpy as np
import pytest
from hypothesis import example, given, strategies as st
from scipy.optimize import minimize

import alignsim as a
from alignsim import regularisers as reg

from .strategies import laws, prob_vectors

Q = [0.4, 0.3, 0.2, 0.1]
R = [0.0, 0.5, 1.0, 1.5]
SMOOTH = [("reverse_kl", None), ("forward_kl", None), ("js", None), ("hellinger", None), ("alpha", -1.0),
          ("alpha", 0.5), ("alpha", 3.0), ("chi2", None)]


@pytest.mark.parametrize("name, alpha, pi, div, reward", [
    ("reverse_kl", None, (0.0850729066, 0.1734391021, 0.3143042397, 0.4271837517), 0.535642903, 1.041799418),
    ("forward_kl", None, (0.1259209891, 0.1378299514, 0.1699820066, 0.5662670529), 0.554787894, 1.088297562),
    ("js", None, (0.000900519243, 0.00506331952, 0.0279567559, 0.966079405), 0.468740909, 1.479607524),
    ("chi2", None, (0.2, 0.3, 0.3, 0.2), 0.25, 0.75),
    ("hellinger", None, (0.0355721354, 0.0541700457, 0.109201563, 0.801056256), 0.644843440, 1.337870970),
    ("alpha", -1.0, (0.162847252, 0.149378418, 0.140256515, 0.547517816), None, None),
    ("alpha", 3.0, (0.0, 0.382189019, 0.380682689, 0.237128293), None, None),
    ("tv", None, (0.0, 0.0, 0.2, 0.8), 0.7, 1.4),
])
def test_v1_optima_at_beta_half(name, alpha, pi, div, reward):
    opt = reg.f_optimum(Q, R, 0.5, name, alpha=alpha)
    assert opt.pi == pytest.approx(pi, abs=1e-9)
    if div is not None:
        assert opt.divergence == pytest.approx(div, abs=1e-9)
        assert opt.expected_reward == pytest.approx(reward, abs=1e-9)


@pytest.mark.parametrize("name, alpha, pi", [
    ("reverse_kl", None, (1.207175617e-6, 1.343705602e-4, 0.01329490622, 0.986569516)),
    ("forward_kl", None, (0.02647160403, 0.02967203132, 0.03913487465, 0.90472149)),
    ("js", None, (3.402769e-14, 5.621324e-10, 8.254867e-6, 0.9999917446)),
    ("chi2", None, (0.0, 0.0, 0.5, 0.5)),
    ("hellinger", None, (0.001704713854, 0.002817887946, 0.007071649728, 0.9884057485)),
    ("alpha", 2.0, (0.0, 0.0, 1 / 3, 2 / 3)),
    ("tv", None, (0.0, 0.0, 0.0, 1.0)),
])
def test_v2_optima_at_beta_tenth(name, alpha, pi):
    got = reg.f_optimum(Q, R, 0.1, name, alpha=alpha).pi
    assert got == pytest.approx(pi, rel=1e-6, abs=1e-12)


def test_v3_v4_multipliers():
    assert reg.f_optimum(Q, R, 0.5).nu == pytest.approx(0.7739779667893432771, abs=1e-14)
    opt = reg.f_optimum(Q, R, 0.5, "forward_kl")
    lam = opt.nu + 0.5
    assert lam == pytest.approx(1.58829756163, abs=1e-10)
    assert opt.pi == pytest.approx(0.5 * np.array(Q) / (lam - np.array(R)), abs=1e-14)
    assert reg.f_optimum(Q, R, 0.1, "chi2").nu == pytest.approx(0.7, abs=1e-14)


def test_v5_family_relations():
    same = lambda x, y: np.max(np.abs(x.pi - y.pi))  # noqa: E731
    assert same(reg.f_optimum(Q, R, 0.5, "alpha", alpha=2.0), reg.f_optimum(Q, R, 0.25, "chi2")) < 1e-12
    assert same(reg.f_optimum(Q, R, 0.5, "alpha", alpha=0.5), reg.f_optimum(Q, R, 1.0, "hellinger")) < 1e-12
    assert same(reg.f_optimum(Q, R, 0.5, "alpha", alpha=1e-12), reg.f_optimum(Q, R, 0.5, "forward_kl")) < 1e-12
    assert same(reg.f_optimum(Q, R, 0.5, "alpha", alpha=1 - 1e-12), reg.f_optimum(Q, R, 0.5)) < 1e-11


def test_v6_chi2_thresholds():
    assert np.all(reg.f_optimum(Q, R, 0.2501, "chi2").pi > 0)
    assert reg.f_optimum(Q, R, 0.25, "chi2").pi[0] == 0.0  # exactly at the threshold: zero (spec pitfall 6)
    assert reg.f_optimum(Q, R, 0.2499, "chi2").pi[0] == 0.0
    assert reg.f_optimum(Q, R, 0.025, "chi2").pi == pytest.approx([0, 0, 0, 1], abs=1e-15)
    assert reg.f_optimum(Q, R, 0.0251, "chi2").pi[2] > 0
    assert reg.f_optimum(Q, R, 0.35, "chi2").pi == pytest.approx((0.11428571, 0.3, 0.34285714, 0.24285714), abs=1e-8)


@pytest.mark.parametrize("name, alpha", SMOOTH)
def test_v7_envelope_slope_is_beta(name, alpha):
    h = 1e-5
    lo, hi = reg.f_optimum(Q, R, 0.5 + h, name, alpha=alpha), reg.f_optimum(Q, R, 0.5 - h, name, alpha=alpha)
    slope = (hi.expected_reward - lo.expected_reward) / (hi.divergence - lo.divergence)
    assert slope == pytest.approx(0.5, abs=1e-7)


def test_v8_reverse_kl_dominates_at_matched_kl():
    chi = reg.f_optimum(Q, R, 0.5, "chi2")
    kl_chi = a.kl(chi.pi, Q)
    assert kl_chi == pytest.approx(0.121639532, abs=1e-9)
    b = reg.f_beta_for(Q, R, "reverse_kl", kl_chi)
    assert b == pytest.approx(1.07498676, abs=1e-8)
    assert reg.f_optimum(Q, R, b).expected_reward == pytest.approx(0.755633533, abs=1e-9)
    for name, alpha in SMOOTH[1:]:
        for beta in (0.2, 0.5, 2.0):
            opt = reg.f_optimum(Q, R, beta, name, alpha=alpha)
            kl_rev = a.kl(opt.pi, Q)
            if 1e-6 < kl_rev < a.max_kl(Q, R) - 1e-6:
                assert opt.expected_reward <= a.optimal_reward(Q, R, kl_rev) + 1e-12


@pytest.mark.parametrize("name, alpha, masses", [
    ("reverse_kl", None, (1.86444e-3, 1.20718e-6, 3.74271e-13)), ("forward_kl", None, (0.0524725, 0.0264716, 0.0132868)),
    ("js", None, (1.11225e-7, 3.40277e-14, 3.18419e-27)), ("hellinger", None, (6.53582e-3, 1.70471e-3, 4.35207e-4)),
    ("alpha", -1.0, (0.103212, 0.0730105, 0.0516339)), ("chi2", None, (0, 0, 0)), ("alpha", 3.0, (0, 0, 0)),
])
def test_v9_tail_mass_of_the_worst_response(name, alpha, masses):
    got = [reg.f_optimum(Q, R, b, name, alpha=alpha).pi[0] for b in (0.2, 0.1, 0.05)]
    assert got == pytest.approx(masses, rel=1e-5, abs=1e-300)


@pytest.mark.parametrize("name, pi", [("forward_kl", (0.3, 0.4, 0.3)),
                                      ("js", (0.01119441622, 0.0626070571, 0.9261985267)),
                                      ("hellinger", (0.15, 0.4, 0.45)), ("reverse_kl", (0.3555950174, 0.6444049826, 0)),
                                      ("chi2", (0.48, 0.52, 0))])
def test_v10_responses_the_reference_never_produces(name, pi):
    opt = reg.f_optimum([0.6, 0.4, 0.0], [0.0, 0.5, 1.0], 0.5, name)
    assert opt.pi == pytest.approx(pi, abs=1e-9)
    assert opt.outside_mass == pytest.approx(pi[2], abs=1e-9)


@pytest.mark.parametrize("name, alpha, p", [("forward_kl", None, 0.5), ("js", None, 0.981342639636),
                                            ("hellinger", None, 0.75), ("alpha", -1.0, 0.5),
                                            ("reverse_kl", None, 7.389056098930650e-20), ("chi2", None, 2e-20),
                                            ("alpha", 3.0, 2.236e-20)])
def test_v12_hard_prompt_limit(name, alpha, p):
    got = reg.f_optimum([1 - 1e-20, 1e-20], [0.0, 1.0], 0.5, name, alpha=alpha).pi[1]
    assert got == pytest.approx(p, rel=1e-3 if name == "alpha" and alpha == 3.0 else 1e-9)


@given(law=laws(min_size=2, max_size=6), beta=st.floats(0.05, 5.0))
def test_reverse_kl_row_is_the_core_tilt(law, beta):
    p, r = law
    opt = reg.f_optimum(p, r, beta)
    assert np.array_equal(opt.pi, a.tilt(p, r, beta) / a.tilt(p, r, beta).sum()) or \
        np.max(np.abs(opt.pi - a.tilt(p, r, beta))) < 1e-12
    assert opt.nu == pytest.approx(beta * a.log_partition(p, r, 1 / beta), abs=1e-12)


@pytest.mark.parametrize("name, alpha", SMOOTH + [("tv", None)])
@given(law=laws(min_size=2, max_size=5, zeros=True), beta=st.floats(0.05, 3.0), data=st.data())
def test_optimum_beats_random_policies(name, alpha, law, beta, data):
    p, r = law
    opt = reg.f_optimum(p, r, beta, name, alpha=alpha)
    assert opt.pi.sum() == pytest.approx(1.0, abs=1e-12) and np.all(opt.pi >= 0)
    gen = "alpha" if alpha is not None else name
    for _ in range(4):
        pi = data.draw(prob_vectors(size=p.size, zeros=True))
        d = a.f_divergence(pi, p, gen, alpha=alpha)
        if math.isfinite(d):
            assert pi @ r - beta * d <= opt.objective + 1e-9


@pytest.mark.parametrize("name, alpha", SMOOTH)
def test_agrees_with_brute_force_on_the_simplex(name, alpha):
    rng = np.random.default_rng(11)
    q, r = rng.dirichlet(np.ones(5)), rng.normal(size=5)
    opt = reg.f_optimum(q, r, 0.7, name, alpha=alpha)
    gen = "alpha" if alpha is not None else name

    def neg(x):
        pi = np.clip(x, 0.0, None)
        return -(pi @ r - 0.7 * a.f_divergence(pi / pi.sum(), q, gen, alpha=alpha))

    # second method (spec section 8): SLSQP on the simplex, agreeing to about 1e-7
    res = minimize(neg, q, method="SLSQP", bounds=[(0.0, 1.0)] * 5,
                   constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1.0}], options={"ftol": 1e-15, "maxiter": 1000})
    assert -res.fun <= opt.objective + 1e-12
    assert -res.fun == pytest.approx(opt.objective, abs=1e-6)
    assert res.x == pytest.approx(opt.pi, abs=1e-3)


def test_frontier_and_beta_for():
    df = reg.f_frontier(Q, R, ["reverse_kl", "chi2"], [0.1, 0.5])
    assert list(df.columns) == ["divergence", "beta", "own_divergence", "kl_reverse", "kl_forward", "reward"]
    chi = df[df.divergence == "chi2"].set_index("beta")
    assert np.isinf(chi.loc[0.1, "kl_forward"])  # exact zeros: KL(q || pi) is infinite, reported as inf, not NaN
    assert chi.loc[0.5, "reward"] == pytest.approx(0.75) and np.isfinite(chi.loc[0.5, "kl_forward"])
    assert not df.isna().any().any()
    assert reg.f_beta_for(Q, R, "forward_kl", 1.088297562, on="reward") == pytest.approx(0.5, abs=1e-8)
    with pytest.raises(ValueError, match="not attained"):
        reg.f_beta_for(Q, R, "reverse_kl", 5.0)


@pytest.mark.parametrize("call, match", [
    (lambda: reg.f_optimum(Q, R, 0.0), "beta must lie"),
    (lambda: reg.f_optimum(Q, R, 1.0, "wasserstein"), "unknown divergence"),
    (lambda: reg.f_optimum(Q, R, 1.0, "alpha"), "alpha must be given"),
    (lambda: reg.f_optimum([0.5, 0.6], [0, 1], 1.0), "ref must sum to 1"),
    (lambda: reg.f_optimum(Q, [0, 1], 1.0), "same length"),
    (lambda: reg.f_beta_for(Q, R, "chi2", 0.1, on="entropy"), "on must be"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("name, values", [
    ("reverse_kl", (0.450853060, 0.355460987)), ("forward_kl", (0.585410197, 0.753318649)),
    ("js", (0.984782474, 0.999671072)), ("hellinger", (0.836441486, 0.941194772)), ("chi2", (0.19, 0.0298)),
    ("tv", (1.0, 1.0))])
def test_v11_binary_success(name, values):
    got = (reg.binary_success(0.1, 0.5, name), reg.binary_success(0.01, 0.25, name))
    assert got == pytest.approx(values, abs=1e-9)


def test_v11_forward_kl_quadratic_and_closed_forms():
    for p0, beta in [(0.1, 0.5), (0.01, 0.25), (0.3, 2.0)]:
        lam = 0.5 * ((1 + beta) + math.sqrt((1 + beta) ** 2 - 4 * beta * (1 - p0)))
        assert reg.binary_success(p0, beta, "forward_kl") == pytest.approx(beta * p0 / (lam - 1), abs=1e-13)
        e = math.exp(1 / beta)
        assert reg.binary_success(p0, beta, "reverse_kl") == pytest.approx(p0 * e / (p0 * e + 1 - p0), abs=1e-14)
        assert reg.binary_success(p0, beta, "chi2") == pytest.approx(min(1, p0 + p0 * (1 - p0) / (2 * beta)), abs=1e-14)


@pytest.mark.parametrize("beta", [0.2, 0.5, 0.9])
def test_hard_prompt_limits_match_the_closed_forms(beta):
    assert reg.hard_prompt_limit(beta, "forward_kl") == pytest.approx(1 - beta, abs=1e-12)
    assert reg.hard_prompt_limit(beta, "hellinger") == pytest.approx(1 - beta ** 2, abs=1e-12)
    assert reg.hard_prompt_limit(beta, "js") == pytest.approx(1 - 1 / math.expm1(2 / beta), abs=1e-12)
    assert reg.hard_prompt_limit(beta, "alpha", alpha=-1.0) == pytest.approx(1 - math.sqrt(beta / 2), abs=1e-12)
    assert reg.hard_prompt_limit(beta, "reverse_kl") == 0.0 and reg.hard_prompt_limit(beta, "chi2") == 0.0
    # continuity: p0 = 1e-20 is within 1e-9 of the limit
    assert reg.binary_success(1e-20, beta, "forward_kl") == pytest.approx(1 - beta, abs=1e-9)


@pytest.mark.parametrize("name, beta, passk", [
    ("reverse_kl", 0.31195428, (0.6, 0.77434986, 0.88245304, 0.9650219, 0.99967668)),
    ("forward_kl", 0.59570595, (0.6, 0.94226511, 0.9999243, 1.0, 1.0)),
    ("js", 2.1792467, (0.6, 0.92549199, 0.99966749, 1.0, 1.0)),
    ("hellinger", 0.9280855, (0.6, 0.9037595, 0.99757229, 0.99999999, 1.0)),
    ("chi2", 0.054173469, (0.6, 0.71994208, 0.82845298, 0.91346168, 0.98798548))])
def test_v13_pass_at_k_at_matched_pass1(name, beta, passk):
    p0s = [0.001, 0.01, 0.05, 0.2, 0.5, 0.8]
    b = reg.match_pass1(p0s, 0.6, name)
    assert b == pytest.approx(beta, rel=1e-7)
    assert reg.mixture_pass_at_k(p0s, b, name, [1, 4, 16, 64, 256]) == pytest.approx(passk, abs=1e-8)


def test_v13_reference_pass_at_k():
    from alignsim.dynamics import pass_at_k

    p0s = np.array([0.001, 0.01, 0.05, 0.2, 0.5, 0.8])
    got = [float(np.mean(pass_at_k(p0s, k))) for k in (1, 4, 16, 64, 256)]
    assert got == pytest.approx((0.26016667, 0.45919862, 0.61602223, 0.7498173, 0.85827337), abs=1e-8)


@given(p0=st.floats(0.0, 1.0), beta=st.floats(0.05, 5.0),
       name=st.sampled_from(["reverse_kl", "forward_kl", "js", "hellinger", "chi2", "tv"]))
@example(p0=2.225073858507e-311, beta=0.5, name="hellinger")  # found by hypothesis: q u overflowed
@example(p0=5e-324, beta=0.5, name="forward_kl")
@example(p0=0.10764017704859088, beta=0.5, name="tv")  # found by hypothesis: p = 1 + 2e-16
def test_success_never_falls_below_the_reference(p0, beta, name):
    p = reg.binary_success(p0, beta, name)
    assert p0 - 1e-12 <= p <= 1.0
    if p0 < 1e-30:  # continuity at the hard-prompt limit (rate sqrt(p0) at beta = delta), down to subnormal p0
        assert p == pytest.approx(reg.hard_prompt_limit(beta, name), abs=1e-9)


# ----------------------------------------------------------------------------------------------------------------
# Identities (spec section 5; V19-V23)
# ----------------------------------------------------------------------------------------------------------------
@given(seed=st.integers(0, 10 ** 6), beta=st.floats(0.05, 5.0))
def test_v19_korbak_identity(seed, beta):
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(4))
    lhs, rhs = reg.kl_posterior_gap(pi, Q, R, beta)
    assert lhs == pytest.approx(rhs, abs=1e-12)


def test_v19_collapse_without_kl():
    pi = a.tilt(Q, R, 0.01)
    assert a.entropy(pi) < 1e-18
    assert a.kl(pi, Q) == pytest.approx(-math.log(0.1), abs=1e-12)


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


def _bt(r):
    r = np.asarray(r, dtype=float)
    return 1 / (1 + np.exp(-(r[:, None] - r[None, :])))


RPS = np.array([[0.5, 1.0, 0.0], [0.0, 0.5, 1.0], [1.0, 0.0, 0.5]])


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
    (lambda: reg.implicit_reward([0.5, 0.5], [1.0, 0.0], 1.0), "q is 0"),
    (lambda: reg.single_token_reward(1.0, 1.0, 0.1), "p_token"),
])
def test_identities_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------------------------------------------
# Reward hacking (spec section 4; V14-V18)
# ----------------------------------------------------------------------------------------------------------------
G1 = reg.goodhart_toy("G1")
G2 = reg.goodhart_toy("G2")


def _peak(q, proxy, gold, name="kl", bounds=(-6.0, 4.0)):
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda x: -reg.gold_path(q, proxy, gold, name, [math.exp(x)]).gold.item(), bounds=bounds,
                          method="bounded", options={"xatol": 1e-10})
    return math.exp(res.x), -res.fun


def test_v14_kl_rl_overoptimises_then_collapses_onto_the_hack():
    q, p, g = G1.ref, G1.proxy, G1.gold
    assert (q @ g, q @ p) == pytest.approx((-0.003, 0.002), abs=1e-14)
    beta, peak = _peak(q, p, g, bounds=(-2.0, 1.0))
    assert (beta, peak) == pytest.approx((0.666034, 1.08380776), abs=1e-6)
    row = reg.gold_path(q, p, g, "kl", [0.5, 1e-3]).set_index("param")
    assert (row.loc[0.5, "sqrt_kl"], row.loc[0.5, "proxy"], row.loc[0.5, "gold"]) == pytest.approx(
        (1.631254, 2.445466, 0.842689), abs=1e-6)
    assert row.loc[1e-3, "gold"] == pytest.approx(-1.0, abs=1e-6)


def test_v15_best_of_n_path():
    df = reg.gold_path(G1.ref, G1.proxy, G1.gold, "bon", [2, 64, 81, 1024]).set_index("param")
    assert df.loc[2, ["kl", "gold"]].tolist() == pytest.approx([0.19309013, 0.55701258], abs=1e-8)
    assert df.loc[64, ["kl", "gold"]].tolist() == pytest.approx([3.15870103, 2.06540608], abs=1e-8)
    assert df.loc[1024, ["kl", "gold"]].tolist() == pytest.approx([5.42930721, 0.28361569], abs=1e-8)
    assert df.loc[81, "gold"] == pytest.approx(2.07573052, abs=1e-8)
    around = reg.gold_path(G1.ref, G1.proxy, G1.gold, "bon", range(70, 95)).gold
    assert around.idxmax() == 81 - 70


@pytest.mark.parametrize("rule, lam, peak, limit, hack", [
    ("mean", 0.0, 1.06469298, -1.0, 3.333333333), ("wco", 0.0, 2.57582930, 2.57582930, -1.0),
    ("uwo", 0.01, 1.31061601, -1.0, 2.957777778), ("uwo", 0.1, 2.57582930, 2.57582930, -0.422222222)])
def test_v16_ensembles(rule, lam, peak, limit, hack):
    agg = reg.ensemble_reward(G2.proxies, rule, lam=lam)
    assert agg[-3] == pytest.approx(hack, abs=1e-8)
    _, got = _peak(G2.ref, agg, G2.gold)
    assert got == pytest.approx(peak, abs=1e-7)
    assert reg.gold_path(G2.ref, agg, G2.gold, "kl", [1e-4]).gold.item() == pytest.approx(limit, abs=1e-6)


def test_v16_single_member():
    beta, peak = _peak(G2.ref, G2.proxies[0], G2.gold)
    assert (beta, peak) == pytest.approx((2.819199, 0.26327963), abs=1e-6)


@pytest.mark.parametrize("name, peak, at_proxy_2", [("chi2", 1.9402, 1.7989), ("reverse_kl", 1.0838, 1.0427),
                                                    ("hellinger", 0.4297, -0.0733), ("js", 0.3339, -0.1787),
                                                    ("forward_kl", 0.2411, -0.3095)])
def test_v17_peak_gold_along_each_regulariser(name, peak, at_proxy_2):
    df = reg.gold_path(G1.ref, G1.proxy, G1.gold, name, np.geomspace(50, 0.002, 700))
    assert df.gold.max() == pytest.approx(peak, abs=6e-5)
    beta = reg.f_beta_for(G1.ref, G1.proxy, name, 2.0, on="reward")
    exact = G1.gold @ reg.f_optimum(G1.ref, G1.proxy, beta, name).pi
    # a second method: linear interpolation of the 700-point path at proxy 2.0
    path = df.sort_values("proxy")
    assert exact == pytest.approx(np.interp(2.0, path.proxy, path.gold), abs=1e-4)
    # The spec's matched-proxy column differs from both by up to 3.3e-3 (JS): it was read off its 700-step beta
    # grid (about 0.01 of proxy per step), not solved; the exact values are printed here and agree with it to that.
    assert exact == pytest.approx(at_proxy_2, abs=4e-3)


def test_v17_tv_jumps_to_the_hack():
    row = reg.gold_path(G1.ref, G1.proxy, G1.gold, "tv", [2.0]).iloc[0]
    assert (row.gold, row.hack_mass) == pytest.approx((-0.93274318, 0.98006), abs=1e-8)


def test_v18_bound_and_chi2_linear_gain():
    q, p, g = G1.ref, G1.proxy, G1.gold
    chi = reg.f_optimum(q, p, 2.0, "chi2")
    assert chi.pi @ g - q @ g == pytest.approx(0.245588425931, abs=1e-11)
    cov = float(q @ ((p - q @ p) * (g - q @ g)))
    assert chi.pi @ g - q @ g == pytest.approx(cov / 4.0, abs=1e-13)
    slack = []
    for name in ["reverse_kl", "forward_kl", "js", "chi2", "hellinger"]:
        for beta in np.geomspace(20, 0.01, 40):
            pi = reg.f_optimum(q, p, beta, name).pi
            slack.append((pi @ g - q @ g) - reg.correlated_proxy_bound(pi, q, p, g))
    assert min(slack) >= 0.0


@pytest.mark.parametrize("call, match", [
    (lambda: reg.goodhart_toy("G3"), "kind"),
    (lambda: reg.ensemble_reward([[1.0, 2.0]], "median"), "rule"),
    (lambda: reg.ensemble_reward([[1.0, 2.0]], "uwo", lam=-1.0), "lam must lie"),
    (lambda: reg.ensemble_reward([[1.0, 2.0]], "uwo", ddof=1), "ddof"),
    (lambda: reg.correlated_proxy_bound([0.5, 0.5], [0.5, 0.5], [1.0, 1.0], [0.0, 1.0]), "vary"),
])
def test_hacking_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------------------------------------------
# DPO under partial coverage (spec 5.6; V24)
# ----------------------------------------------------------------------------------------------------------------
DPO_Q, DPO_DATA = [0.45, 0.05, 0.5], [(1, 0, 3), (0, 1, 1)]


def test_v24_dpo_solution_set():
    sol = reg.dpo_solution_set(DPO_Q, DPO_DATA, 1.0)
    assert sol.uncovered.tolist() == [False, False, True]
    assert sol.loss == pytest.approx(2.249340578475, abs=1e-11)
    assert sol.gd_limit == pytest.approx((0.306952389, 0.102317463, 0.590730148), abs=1e-9)
    assert sol.gd_limit[0] / sol.gd_limit[1] == pytest.approx(3.0, rel=1e-12)
    assert sol.min_kl == pytest.approx((0.375, 0.125, 0.5), abs=1e-12)
    assert a.kl(sol.min_kl, DPO_Q) == pytest.approx(0.0461657577, abs=1e-10)
    assert sol.online_rlhf(0.0) == pytest.approx((0.4090909091, 0.1363636364, 0.4545454545), abs=1e-10)
    assert sol.online_rlhf(-2.0) == pytest.approx((0.6739880323, 0.2246626774, 0.1013492903), abs=1e-10)
    r_star = np.array([0.0, math.log(3), -5.0])
    assert sol.gd_limit @ r_star == pytest.approx(-2.8412435, abs=1e-7)
    assert np.dot(DPO_Q, r_star) == pytest.approx(-2.4450694, abs=1e-7)


def test_v24_gradient_descent_reaches_the_predicted_limit():
    q = np.array(DPO_Q)
    theta = np.log(q)
    for _ in range(20_000):  # tabular softmax, plain gradient descent on the DPO loss
        grad = np.zeros(3)
        for w, l, n in DPO_DATA:
            d = (theta[w] - np.log(q[w])) - (theta[l] - np.log(q[l]))
            s = n / (1 + math.exp(d))  # -d/dd n log sigma(d)
            grad[w] -= s
            grad[l] += s
        theta -= 0.05 * grad
    pi = np.exp(theta - theta.max())
    pi /= pi.sum()
    assert pi == pytest.approx(reg.dpo_solution_set(DPO_Q, DPO_DATA, 1.0).gd_limit, abs=1e-9)


def test_every_minimiser_has_the_same_loss():
    sol = reg.dpo_solution_set(DPO_Q, DPO_DATA, 1.0)

    def loss(pi):
        h = np.log(np.asarray(pi) / np.array(DPO_Q))
        return -sum(n * math.log(1 / (1 + math.exp(-(h[w] - h[l])))) for w, l, n in DPO_DATA)

    for pi in (sol.gd_limit, sol.min_kl, sol.online_rlhf(0.0), sol.online_rlhf(-2.0)):
        assert loss(pi) == pytest.approx(sol.loss, abs=1e-10)


def test_separable_data_have_no_dpo_minimiser():
    with pytest.raises(ValueError, match="separable"):
        reg.dpo_solution_set(DPO_Q, [(1, 0, 3)], 1.0)
    with pytest.raises(ValueError, match="triples"):
        reg.dpo_solution_set(DPO_Q, [(1, 0)], 1.0)
    with pytest.raises(ValueError, match="distinct responses"):
        reg.dpo_solution_set(DPO_Q, [(1, 1, 2)], 1.0)
