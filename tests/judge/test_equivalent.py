"""Tests of alignsim.judge: the deterministic equivalent."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alignsim import judge as J


# ---------------------------------------------------------------------------------------------------------------
# known values (spec section 9)
# ---------------------------------------------------------------------------------------------------------------
def test_v1_deterministic_equivalent():
    q = J.deterministic_equivalent(0.5, 0.5, 1.0)
    for got, want in [(q.R, 0.390388203202), (q.a1, 0.280776406404), (q.a2, 0.106339062591),
                      (q.s2, 0.780776406404), (q.var_mu, 0.280776406404)]:
        assert got == pytest.approx(want, abs=1e-12)
    assert J.deterministic_equivalent(0.5, 0.5, 1.0, de="paper").var_mu == pytest.approx(0.0788353903934, abs=1e-12)
    q = J.deterministic_equivalent(2.0, 0.1, 1.0)
    for got, want in [(q.R, 1.34833147735), (q.a1, 0.574165738677), (q.a2, 0.517261241912)]:
        assert got == pytest.approx(want, abs=1e-11)


def test_v1_resolvent_fixed_point_and_derivative():
    alpha, lam, S2 = 0.7, 0.3, 1.6
    q = J.deterministic_equivalent(alpha, lam, 1.0, S2=S2)
    assert q.R == pytest.approx(alpha * lam + alpha * q.R * S2 / (S2 + q.R), rel=1e-14)
    h = 1e-6  # dR/dlambda by central differences of the root
    up = J.deterministic_equivalent(alpha, lam + h, 1.0, S2=S2).R
    down = J.deterministic_equivalent(alpha, lam - h, 1.0, S2=S2).R
    assert q.dR == pytest.approx((up - down) / (2 * h), rel=1e-8)
    assert q.a1 ** 2 <= q.a2 <= q.a1


@given(st.floats(0.05, 4.0), st.floats(0.05, 2.0), st.floats(0.2, 3.0), st.floats(0.3, 3.0))
def test_bayes_calibration(alpha, sigma2, g2, S2):
    q = J.deterministic_equivalent(alpha, sigma2, g2, S2=S2, tau2=g2)
    assert q.var_mu == pytest.approx(q.s2 - sigma2, rel=1e-12)


def test_exact_predictive_matches_the_definition():
    rng = np.random.default_rng(4)
    X, y, x = rng.normal(size=(12, 4)), rng.normal(size=12), rng.normal(size=(3, 4))
    lam = 0.5 / 2.0
    A = X.T @ X + lam * np.eye(4)
    m, v = J.exact_predictive(X, y, x, 0.5, 2.0)
    assert m == pytest.approx(x @ np.linalg.solve(A, X.T @ y), rel=1e-12)
    assert v == pytest.approx(0.5 + 0.5 * np.einsum("ij,ij->i", x, np.linalg.solve(A, x.T).T), rel=1e-12)
    X0 = X.copy()
    J.exact_predictive(X, y, x, 0.5, 2.0)
    assert np.array_equal(X, X0)
