"""The symbolic closed forms: identities proved by sympy, closed forms from the literature (typed here, derived in
the package), the checks failing on a wrong formula, and the size caps."""

import numpy as np
import pytest
import sympy as sp

from alignsim import symbolic as S
from alignsim.checks import CHECKS


def _zero(e):
    return sp.simplify(sp.expand_log(e, force=True)) == 0


def test_bernoulli_rate_function_is_the_binary_relative_entropy():
    x, p = sp.symbols("x p", positive=True)
    expr = S.bernoulli_rate_function()
    assert expr.free_symbols == {x, p}
    assert _zero(expr - (x * sp.log(x / p) + (1 - x) * sp.log((1 - x) / (1 - p))))
    assert sp.latex(expr) and float(expr.subs({x: 0.5, p: 0.3})) == pytest.approx(0.0871766935723889, rel=1e-14)


def test_tilt_kl_is_mean_over_beta_minus_log_partition():
    for k in (2, 3):
        assert _zero(S.tilt_kl(K=k) - (S.tilt_mean(K=k) / S.BETA - S.log_partition(K=k)))
    d = S.dual(K=2)
    assert _zero(d["stationarity"] - (S.DELTA - S.tilt_kl(K=2)))


def test_two_outcome_tilt_inverts():
    d = S.two_outcome_tilt()
    s, q = sp.symbols("s q", positive=True)
    assert sp.simplify(d["success"].subs(S.BETA, d["beta_of_success"]) - s) == 0
    assert _zero(d["kl_of_success"] - (s * sp.log(s / q) + (1 - s) * sp.log((1 - s) / (1 - q))))


def test_bon_closed_forms():
    assert sp.simplify(S.bon_kl_uniform_limit() - (sp.log(S.N) - (S.N - 1) / S.N)) == 0
    law = S.bon_law([0.2, 0.3, 0.5], [0, 1, 1])
    assert sp.simplify(sp.Add(*law) - 1) == 0 and sp.simplify(sp.Add(*S.won_law([0.2, 0.3, 0.5], [0, 1, 1])) - 1) == 0
    assert sp.simplify(law[1] / law[2] - sp.Rational(3, 5)) == 0  # a tie split in proportion to the reference
    assert S.bon_kl([0.5, 0.5], [0, 1]).subs(S.N, 1) == 0  # best-of-1 is the reference
    # symbolic probabilities with numeric rewards
    a, b = sp.symbols("a b", positive=True)
    assert sp.simplify(S.bon_law([a, b], [0, 1])[0] - a ** S.N) == 0


def test_pn_closed_forms_from_the_digest():
    q, lam, mu, g2, g3 = sp.symbols("q lam mu g_2 g_3", positive=True)
    c1, c2 = S.pn_coefficients("bernoulli")
    assert c1 == sp.Rational(1, 2) and sp.simplify(c2 - (5 - 11 * q * (1 - q)) / (12 * q * (1 - q))) == 0
    c1, c2 = S.pn_coefficients("poisson")
    assert c1 == sp.Rational(1, 2) and sp.simplify(c2 - 5 / (12 * lam)) == 0
    c1, c2 = S.pn_coefficients("poisson", well_specified=False)
    assert sp.simplify(c1 - g2 / (2 * mu)) == 0 and sp.simplify(c2 - (9 * g2 ** 2 - 4 * mu * g3) / (12 * mu ** 3)) == 0


def test_grpo_factor_closed_values():
    assert S.grpo_binary_factor(2, ddof=0) == 1
    assert S.grpo_binary_factor(3) == 2 * sp.sqrt(3) / 3  # G = 3, ddof = 1: the same factor for every p
    p = sp.Symbol("p", positive=True)
    assert S.grpo_binary_factor(5).free_symbols == {p}


def test_gradient_rows_follow_the_table():
    t = sp.symbols("theta_1:4", real=True)
    r = sp.symbols("ref_1:4", positive=True)
    pi = [sp.exp(x) / sp.Add(*[sp.exp(y) for y in t]) for x in t]
    g = S.gradient_row("k3", "loss", K=3)  # on-policy k3 in the loss: pi - ref once ref sums to one
    assert all(sp.simplify((gi - (p_ - r_)).subs(r[2], 1 - r[0] - r[1])) == 0 for gi, p_, r_ in zip(g, pi, r))
    g = S.gradient_row("k1", "loss", K=3)  # k1 in the loss: zero in expectation
    assert all(sp.simplify(gi) == 0 for gi in g)


def _run(name, seed=0):
    chk = next(c for c in CHECKS if c.name == name)
    exact, got = chk.compute(np.random.default_rng(seed))
    return abs(got - exact)


def test_a_wrong_formula_fails_its_check(monkeypatch):
    assert _run("symbolic.rate_functions") < 1e-11
    x, p = sp.symbols("x p", positive=True)
    monkeypatch.setattr(S, "bernoulli_rate_function", lambda: x * sp.log(x / p) + (1 - x) * sp.log((1 - x) / (1 - p))
                        + x * (1 - x) * 1e-9)
    assert _run("symbolic.rate_functions") > 1e-11
    monkeypatch.setattr(S, "grpo_binary_factor", lambda G, ddof=1, eps=0: sp.Integer(1))
    assert _run("symbolic.grpo_binary_factor", seed=3) > 1e-3


@pytest.mark.parametrize("call,words", [
    (lambda: S.tilt(K=9), "K must be at most 8"),
    (lambda: S.gradient_row("k3", "loss", K=5), "K must be at most 4"),
    (lambda: S.grpo_binary_factor(65), "G must be at most 64"),
    (lambda: S.reward_cumulants(order=7), "order must be at most 6"),
    (lambda: S.bon_law([0.5, 0.6], [0, 1]), "probs must sum to one"),
    (lambda: S.bon_law([0.5, 0.5], sp.symbols("r_1 r_2")), "rewards must be numbers here"),
    (lambda: S.numeric(S.bernoulli_rate_function(), x=0.5), "missing ['p']"),
    (lambda: S.numeric(S.bernoulli_rate_function(), x=0.5, p=0.3, q=1), "['q'] are not symbols"),
    (lambda: S.numeric(S.bernoulli_rate_function(), x=2.0, p=0.3), "complex"),
    (lambda: S.pn_coefficients("gaussian"), "family must be one of"),
])
def test_bad_input(call, words):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    assert words in str(err.value)
