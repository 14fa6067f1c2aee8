"""Tests of alignsim.bon: rewind-and-repeat and the win-rate tilt."""

import math

import pytest

import alignsim as a


def test_winrate_tilt_small_c_series_matches_mpmath():
    import mpmath as mp
    for c in [1e-8, 1e-4, 5e-3, 0.02, 0.5, 40.0, 800.0]:
        cm = mp.mpf(c)
        w = 1 / (1 - mp.exp(-cm)) - 1 / cm
        d = mp.log(cm / (mp.exp(cm) - 1)) + cm * w
        got_d, got_w = a.winrate_tilt(c)
        assert got_w == pytest.approx(float(w), rel=1e-14)
        assert got_d == pytest.approx(float(d), rel=1e-10)


def test_rewind_repeat_discrete():
    kl, w = a.rewind_repeat([0.4, 0.3, 0.2, 0.1], [0, 1, 1, 3], 1)
    assert kl == pytest.approx(-math.log(0.6), rel=1e-14)
    # accepted law (0, .5, 1/3, 1/6): wins vs p: levels 1 -> 0.4 + 0.25, level 3 -> 0.95
    assert w == pytest.approx((0.5 + 1 / 3) * 0.65 + 1 / 6 * 0.95, rel=1e-14)
