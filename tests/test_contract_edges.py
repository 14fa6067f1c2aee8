"""Contract edges that a refactor could silently move: the sum rule's tolerance and the alias table's guard."""

import numpy as np
import pytest

import alignsim as a
from alignsim import _validate as V
from alignsim.mc import _kernels as K


@pytest.mark.parametrize("excess", [1e-7, -1e-7, 2e-9, -2e-9])
def test_a_probability_vector_off_by_more_than_the_tolerance_raises(excess):
    p = [0.5, 0.5 + excess]
    with pytest.raises(ValueError, match=r"ref must sum to 1 within 1e-09"):
        a.tilt(p, [0.0, 1.0], 1.0)
    with pytest.raises(ValueError, match="must sum to 1"):
        a.kl(p, [0.5, 0.5])


@pytest.mark.parametrize("excess", [5e-10, -5e-10, 1e-12])
def test_a_probability_vector_within_the_tolerance_is_accepted_and_renormalised(excess):
    p = V.probabilities([0.5, 0.5 + excess], "p")
    assert abs(p.sum() - 1.0) <= 2e-16
    assert V.PROB_SUM_ATOL == 1e-9


def test_alias_guard_never_returns_a_zero_probability_column():
    """A pairing left short by rounding strands columns, which are then kept with probability one. Feed the
    pairing a deficit large enough to strand the zero-probability column 0: the guard must point it elsewhere
    (without it, column 0 would be returned every time it is chosen)."""
    padded = np.array([0.0, 0.25, 0.25, 0.5])
    scaled = np.array([0.0, 0.5, 0.5, 1.0])  # sums to 2, not 4: two columns' worth of rounding deficit
    t = K.alias_from_scaled(padded, scaled)
    assert t.threshold[0] == 0 and t.alias[0] != 0 and padded[t.alias[0]] > 0
    # draw with the table: column 0 never comes out
    coin = int(t.mask) + 1
    for j in range(4):
        for u in (0, coin // 2, coin - 1):
            got = j if u < int(t.threshold[j]) else int(t.alias[j])
            assert padded[got] > 0, (j, u, got)


def test_alias_table_of_a_law_with_a_zero_outcome_never_draws_it():
    from alignsim.mc import sample_law

    p = np.array([0.0, 0.3, 0.0, 0.7, 0.0])
    draws = sample_law(p, 200_000, rng=1)
    assert not np.isin(draws, [0, 2, 4]).any()
