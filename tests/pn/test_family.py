"""Tests of alignsim.pn: finite exponential families, projection, MLE."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alignsim import pn

CAT3 = pn.FiniteExpFamily([[1, 0], [0, 1], [0, 0]])


CAT4 = pn.FiniteExpFamily(np.eye(4)[:, :3])


QUAD = pn.FiniteExpFamily(np.column_stack([np.arange(5), np.arange(5) ** 2]))


def test_pythagoras_and_moment_matching():
    g = np.array([0.3, 0.05, 0.25, 0.1, 0.3])
    th = pn.info_projection(QUAD, g)
    assert QUAD.mean(th) == pytest.approx(g @ QUAD.T, abs=1e-12)
    other = np.array([0.3, -0.2])
    d_g = lambda t: float(np.sum(g * (np.log(g) - QUAD.logprobs(t))))  # noqa: E731
    assert d_g(other) == pytest.approx(d_g(th) + QUAD.kl(th, other), abs=1e-12)


def test_mle_existence_is_decided_exactly():
    with pytest.raises(ValueError, match="does not exist"):
        pn.mle(CAT3, counts=[3, 0, 5])
    with pytest.raises(ValueError, match="does not exist"):
        pn.mle(QUAD, counts=[0, 4, 6, 0, 0])  # two adjacent lattice points: on an edge of the hull of (x, x^2)
    th = pn.mle(QUAD, counts=[0, 4, 0, 6, 0])  # 1 and 3 are not adjacent on the parabola: interior
    assert QUAD.mean(th) == pytest.approx([2.2, 5.8], abs=1e-12)


# ----------------------------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda: pn.pn_criterion(100, 0.5, 1.0), "eps must lie"),
    (lambda: pn.pn_criterion(100, 0.0, 1.0), "eps must lie"),
    (lambda: pn.pn_criterion(0, 0.1, 1.0), "n must be an integer >= 1"),
    (lambda: pn.pn_criterion(10, 0.1, -1.0), "c1 must lie"),
    (lambda: pn.FiniteExpFamily([[0, 0], [1, 2], [2, 4]]), "minimal"),
    (lambda: pn.FiniteExpFamily([[[0]]]), "shape"),
    (lambda: pn.FiniteExpFamily([1.0]), "K >= 2"),
    (lambda: pn.FiniteExpFamily([0, 1], h=[1.0, 0.0]), "h must lie"),
    (lambda: pn.info_projection(CAT3, [0.5, 0.5, 0.0]), "boundary"),
    (lambda: pn.info_projection(CAT3, [0.5, 0.5]), "one probability per support point"),
    (lambda: pn.exact_risk(CAT3, [0.2, 0.3, 0.5], 0), "n must be"),
    (lambda: pn.exact_risk(CAT4, [0.1, 0.2, 0.3, 0.4], 10 ** 4), "compositions"),
    (lambda: pn.risk_coefficients(CAT3, [0.2, 0.3, 0.5], "sideways"), "direction"),
    (lambda: pn.risk_coefficients_1d([0, 1, 1, 1, 1], [1, 1, 1]), "Fisher information"),
    (lambda: pn.kl_threshold(0.1, "chernoff"), "bound"),
    (lambda: pn.mle(CAT3), "exactly one"),
    (lambda: pn.mle(CAT3, samples=[0, 5]), "support indices"),
    (lambda: pn.tilt_family([0.5, 0.5], [1.0, 1.0]), "constant"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_enumeration_matches_brute_force_over_samples():
    g = np.array([0.2, 0.3, 0.5])
    n = 5
    th_star = pn.info_projection(CAT3, g)
    total = mass = 0.0
    for draw in itertools.product(range(3), repeat=n):
        c = np.bincount(draw, minlength=3)
        w = float(np.prod(g[list(draw)]))
        if np.all(c > 0):
            total += w * CAT3.kl(th_star, pn.mle(CAT3, counts=c))
            mass += w
    out = pn.exact_risk(CAT3, g, n)
    assert out.p_exists == pytest.approx(mass, abs=1e-14)
    assert out.risk == pytest.approx(total / mass, abs=1e-13)


@given(seed=st.integers(0, 10 ** 6))
def test_interior_by_linear_programme_agrees_with_the_hull(seed):
    rng = np.random.default_rng(seed)
    T = rng.integers(-3, 4, size=(7, 3)).astype(float)
    if np.linalg.matrix_rank(T - T.mean(axis=0)) < 3:
        return
    fam = pn.FiniteExpFamily(T)
    vertex = T[np.argmax(T @ np.array([1.0, 1e-3, 1e-6]))]  # a generic direction has a unique maximiser
    etas = np.vstack([rng.dirichlet(np.ones(7)) @ T,  # interior
                      T[:3].mean(axis=0),  # often on a face
                      vertex, T.max(axis=0) + 1.0])  # a vertex; outside
    hull = fam.interior(etas)
    lp = np.array([fam._interior_lp(e) for e in etas])
    assert np.array_equal(hull, lp)
    assert hull[0] and not hull[2] and not hull[3]


def test_high_dimensional_family_uses_the_linear_programme():
    import itertools

    x = np.array(list(itertools.product([-1.0, 1.0], repeat=4)))
    T = np.column_stack([np.prod(x[:, list(s)], axis=1) for k in range(1, 5) for s in itertools.combinations(range(4), k)])
    fam = pn.FiniteExpFamily(T)  # saturated log-linear model on 4 binary variables: p = 15 > 8
    g = np.random.default_rng(3).dirichlet(np.full(16, 3.0))
    c1, c2 = pn.risk_coefficients(fam, g)
    assert c1 == pytest.approx(7.5, rel=1e-10)
    assert c2 == pytest.approx((5 * np.sum(1 / g) - 6 * 16 + 1) / 12, rel=1e-9)
    assert not fam.interior(T[0]) and fam.interior(T.mean(axis=0))
