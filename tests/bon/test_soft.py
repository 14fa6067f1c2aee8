"""Tests of alignsim.bon: soft best-of-N."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alignsim as a

from ..strategies import laws


# ------------------------------------------------------------------------------------------------ soft best-of-N
@settings(deadline=None, max_examples=30)
@given(laws(min_size=2, max_size=4, zeros=True), st.integers(1, 4), st.floats(0.1, 5.0))
def test_soft_bon_matches_enumeration(law, N, beta):
    p, r = law
    ref = np.zeros(p.size)
    for seq in itertools.product(range(p.size), repeat=N):
        pr = np.prod(p[list(seq)])
        if pr == 0:
            continue
        w = np.exp((r[list(seq)] - r.max()) / beta)
        for i, y in enumerate(seq):
            ref[y] += pr * w[i] / w.sum()
    np.testing.assert_allclose(a.soft_bon_law(p, r, N, beta), ref, rtol=1e-10, atol=1e-14)


def test_soft_bon_limits():
    p, r = np.array([0.5, 0.3, 0.2]), np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(a.soft_bon_law(p, r, 7, math.inf), p)
    np.testing.assert_allclose(a.soft_bon_law(p, r, 7, 1e-4), a.bon_law(p, r, 7), rtol=1e-14)
    big = a.soft_bon_law(p, r, 10 ** 6, 1.0)
    assert big.sum() == pytest.approx(1.0, abs=1e-12)
    # as N grows soft BoN approaches the tilt phi_{1/beta} (Verdun et al.)
    gaps = [a.kl(a.soft_bon_law(p, r, N, 1.0), a.tilt(p, r, 1.0)) for N in [10, 100, 1000]]
    assert gaps[0] > gaps[1] > gaps[2]
    with pytest.raises(ValueError, match="beta"):
        a.soft_bon_law(np.full(100, 0.01), np.linspace(0, 1, 100), 1000, 1e-3)
