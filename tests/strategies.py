"""Hypothesis strategies for alignsim: probability vectors, reward vectors, laws, KL coefficients."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


@st.composite
def prob_vectors(draw, min_size=2, max_size=8, zeros=False, size=None):
    """Probability vectors; with ``zeros`` some entries are exactly 0 (at least one stays positive)."""
    k = size if size is not None else draw(st.integers(min_size, max_size))
    w = np.array(draw(st.lists(st.floats(1e-3, 1.0), min_size=k, max_size=k)))
    if zeros:
        mask = np.array(draw(st.lists(st.booleans(), min_size=k, max_size=k)))
        if mask.all():
            mask[draw(st.integers(0, k - 1))] = False
        w[mask] = 0.0
    return w / w.sum()


@st.composite
def reward_vectors(draw, size, ties=False, low=-5.0, high=5.0):
    """Reward vectors of a given size; with ``ties`` rewards are small integers (many ties)."""
    if ties:
        return np.array(draw(st.lists(st.integers(-2, 2), min_size=size, max_size=size)), dtype=float)
    return np.array(draw(st.lists(st.floats(low, high), min_size=size, max_size=size)))


def _gaps_representable(law):
    """Distinct rewards closer than 1e-250 need lambda = 1/beta beyond the float range for large budgets; that
    limitation has its own test (test_lambda_beyond_float_range_is_a_clear_error)."""
    p, r = law
    levels = np.unique(r[p > 0])
    return levels.size < 2 or np.min(np.diff(levels)) > 1e-250


@st.composite
def _laws(draw, min_size, max_size, ties, zeros):
    p = draw(prob_vectors(min_size, max_size, zeros=zeros))
    t = draw(st.booleans()) if ties is None else ties
    return p, draw(reward_vectors(p.size, ties=t))


def laws(min_size=2, max_size=8, ties=None, zeros=False):
    """A pair ``(p, r)`` of a reference law and rewards (ties drawn at random unless fixed)."""
    return _laws(min_size, max_size, ties, zeros).filter(_gaps_representable)


def nonconstant(p, r):
    """True when the reward is not constant on the support of p."""
    s = p > 0
    return np.ptp(r[s]) > 1e-6


betas = st.floats(0.05, 20.0)
sample_counts = st.integers(1, 200)


def judge_points(max_offset=1.5, s_range=(0.3, 2.0)):
    """Test points ``(mu, rho, s)`` of the LLM-as-a-judge model: offsets of the predictive mean and of the judge
    target from the teacher, and the predictive standard deviation."""
    return st.tuples(st.floats(-max_offset, max_offset), st.floats(-max_offset, max_offset), st.floats(*s_range))
