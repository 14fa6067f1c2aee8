"""Tests of alignsim.regularisers: reward hacking on exact Goodhart toys."""

import math

import pytest

from alignsim import regularisers as reg

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


def test_v17_tv_jumps_to_the_hack():
    row = reg.gold_path(G1.ref, G1.proxy, G1.gold, "tv", [2.0]).iloc[0]
    assert (row.gold, row.hack_mass) == pytest.approx((-0.93274318, 0.98006), abs=1e-8)


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
