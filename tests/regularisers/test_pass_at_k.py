"""Tests of alignsim.regularisers: binary rewards and pass@k."""

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from alignsim import regularisers as reg


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
