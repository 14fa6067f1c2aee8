"""Tests of alignsim.infalign: the transforms of the calibrated reward."""

import math

import numpy as np
import pytest

from alignsim import infalign as ia

SMALL = 2 ** 12  # a coarser grid where the test only needs 1e-7


# ----------------------------------------------------------------------------------------------------------------
# Spec section 5 verification cases
# ----------------------------------------------------------------------------------------------------------------
def _rates(pol, N=4):
    return pol.kl, pol.win_rate(), pol.win_rate("bon", N), pol.win_rate("won", N)


@pytest.mark.parametrize("transform, beta, expected", [
    (ia.identity(), 1.0, (0.0406518523, 0.581976707, 0.603559328, 0.614065101)),  # VC5
    (ia.identity(), 0.2, (0.650116936, 0.806783655, 0.828419135, 0.924273424)),  # VC6
    (ia.exp_transform(1.0), math.exp(-1.0), (0.125613479, 0.641793776, 0.686374298, 0.682812469)),  # VC7, paper beta 1
    (ia.exp_transform(3.0), 0.5 * math.exp(-3.0), (3.738875832, 0.991248074, 0.991483083, 0.999999372)),  # VC8
    (ia.negexp(1.0), 1.0, (0.0155677828, 0.550444621, 0.559148786, 0.576452814)),  # VC9
    (ia.negexp(3.0), 0.5, (0.0901519243, 0.613966556, 0.609009622, 0.711041155)),  # VC10
])
def test_vc5_to_vc10_transforms_at_fixed_beta(transform, beta, expected):
    assert _rates(ia.UniformCTRL(transform, beta=beta)) == pytest.approx(expected, abs=6e-10)


@pytest.mark.parametrize("t, m, C, value, plain", [(10, 100, 0.5, 168.1653886, 148.4131591),
                                                   (10, 10, 0.5, 493.3136, None),
                                                   (20, 100, 0.95, 1.951973e8, 1.784823e8)])
def test_vc23_finite_sample_calibration_bias(t, m, C, value, plain):
    got = ia.smoothed(ia.exp_transform(t), m)(C) * math.exp(t)
    assert got == pytest.approx(value, rel=1e-6)
    assert got == pytest.approx((1 - C + C * math.exp(t / m)) ** m, rel=1e-12)
    if plain is not None:
        assert math.exp(t * C) == pytest.approx(plain, rel=1e-6)


def test_transform_catalogue():
    u = np.linspace(0, 1, 11)
    assert np.allclose(ia.unified(2.0)(u), np.expm1(2 * u) / 2)
    assert np.allclose(ia.unified(-2.0)(u), np.expm1(-2 * u) / -2)
    assert np.all(np.diff(ia.negexp(3.0)(u)) > 0)
    # unified(t > 0) gives exp(t)'s policies at matched KL
    one = ia.UniformCTRL(ia.unified(4.0), kl=0.3, intervals=SMALL)
    two = ia.UniformCTRL(ia.exp_transform(4.0), kl=0.3, intervals=SMALL)
    assert one.win_rate("bon", 4) == pytest.approx(two.win_rate("bon", 4), abs=1e-11)
    assert repr(ia.exp_transform(2.0)) == "Transform(name='exp', t=2.0, log_scale=2.0, sign=1.0)"


@pytest.mark.parametrize("m, value", [(4, 0.848672), (16, 0.870074), (64, 0.872497)])
def test_finite_sample_calibration_smooths_the_transform(m, value):
    # spec section 6.1: BoN4 win rate at KL 0.5 of exp(12.63) with C estimated from m fresh reference samples
    pol = ia.UniformCTRL(ia.smoothed(ia.exp_transform(12.63), m), kl=0.5)
    assert pol.win_rate("bon", 4) == pytest.approx(value, abs=1e-6)
