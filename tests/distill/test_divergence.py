"""distill.divergence against independent computations: TRL's and verl's loss code transcribed to numpy, the
closed forms of optimal transport on a line and with a 0-1 cost, limits and data-processing bounds."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignsim import distill
from alignsim.divergences import kl

from ..strategies import prob_vectors

RNG = np.random.default_rng(0)


def _log_softmax(x):
    m = np.max(x)
    return x - m - math.log(np.sum(np.exp(x - m)))


def _kl_div(inp, target):
    """torch.nn.functional.kl_div(input, target, reduction="none", log_target=True), summed over the vocabulary:
    sum exp(target) * (target - input) = KL(target || exp(input))."""
    return float(np.sum(np.exp(target) * (target - inp)))


def trl_generalized_jsd(student_logits, teacher_logits, beta):
    """GKDTrainer.generalized_jsd_loss (trl/trainer/gkd_trainer.py @ a9fa292c), one token, temperature 1,
    transcribed line by line to numpy."""
    s, t = _log_softmax(student_logits), _log_softmax(teacher_logits)
    if beta == 0:
        return _kl_div(s, t)
    if beta == 1:
        return _kl_div(t, s)
    mixture = np.logaddexp(s + math.log(1 - beta), t + math.log(beta))
    return beta * _kl_div(mixture, t) + (1 - beta) * _kl_div(mixture, s)


def verl_topk_kl(student, teacher, k, mode):
    """verl's forward_kl_topk / reverse_kl_topk (verl/trainer/distillation/losses.py and fsdp/utils.py @ 3baac345)
    for one token: the student's and the teacher's top-k indices merged, duplicates set to -inf, log-probs clamped
    at log(1e-8), the KL sum, clamped below at 0."""
    with np.errstate(divide="ignore"):  # Dirichlet(0.02) draws exact zeros; a model's log_softmax would not
        ls, lt = np.log(student), np.log(teacher)
    idx = np.concatenate([np.argsort(-student, kind="stable")[:k], np.argsort(-teacher, kind="stable")[:k]])
    order = np.argsort(idx, kind="stable")
    idx = idx[order]
    dupe = np.append(np.diff(idx) == 0, False)
    gs, gt = ls[idx].copy(), lt[idx].copy()
    gs[dupe], gt[dupe] = -np.inf, -np.inf
    gs, gt = np.maximum(gs, math.log(1e-8)), np.maximum(gt, math.log(1e-8))
    value = _kl_div(gs, gt) if mode == "forward" else _kl_div(gt, gs)
    return max(value, 0.0)


@pytest.mark.parametrize("beta", [0.0, 1e-6, 0.1, 0.5, 0.9, 1 - 1e-6, 1.0])
def test_gkd_jsd_is_trls_loss_including_its_ends(beta):
    for _ in range(20):
        sl, tl = RNG.normal(size=6) * 2, RNG.normal(size=6) * 2
        s, t = np.exp(_log_softmax(sl)), np.exp(_log_softmax(tl))
        ours = distill.divergence(s, t, "gkd_jsd", beta=beta)
        assert ours == pytest.approx(trl_generalized_jsd(sl, tl, beta), rel=1e-12, abs=1e-15)


def test_gkd_jsd_jumps_at_both_ends_and_the_normalised_form_does_not():
    s, t = np.array([0.7, 0.2, 0.1]), np.array([0.2, 0.5, 0.3])
    forward, reverse = kl(t, s), kl(s, t)
    assert distill.divergence(s, t, "gkd_jsd", beta=0.0) == pytest.approx(forward, rel=1e-15)
    assert distill.divergence(s, t, "gkd_jsd", beta=1.0) == pytest.approx(reverse, rel=1e-15)
    assert distill.divergence(s, t, "gkd_jsd", beta=1e-8) < 1e-7
    assert distill.divergence(s, t, "gkd_jsd", beta=1 - 1e-8) < 1e-7
    # normalised: continuous at both ends, error O(beta)
    for eps in (1e-4, 1e-6):
        assert distill.divergence(s, t, "gkd_jsd", beta=eps, normalised=True) == pytest.approx(forward, rel=10 * eps)
        assert distill.divergence(s, t, "gkd_jsd", beta=1 - eps, normalised=True) == pytest.approx(reverse,
                                                                                                   rel=10 * eps)
    assert distill.divergence(s, t, "gkd_jsd", beta=0.5) == pytest.approx(distill.divergence(s, t, "js"), rel=1e-14)


@settings(max_examples=60, deadline=None)
@given(prob_vectors(min_size=2, max_size=6), st.floats(0.0, 0.99), st.data())
def test_skew_kls_interpolate_and_are_bounded(p, alpha, data):
    q = data.draw(prob_vectors(size=len(p)))
    s, t = np.array(p), np.array(q)
    fwd = distill.divergence(s, t, "skew_forward", alpha=alpha)
    rev = distill.divergence(s, t, "skew_reverse", alpha=alpha)
    if alpha > 0:  # alpha T + (1 - alpha) S >= alpha T: the skew KL is at most log(1 / alpha)
        assert fwd <= -math.log(alpha) + 1e-12 and rev <= -math.log(alpha) + 1e-12
    assert distill.divergence(s, t, "skew_forward", alpha=0.0) == pytest.approx(kl(t, s), rel=1e-14)
    assert distill.divergence(s, t, "skew_reverse", alpha=0.0) == pytest.approx(kl(s, t), rel=1e-14)


@settings(max_examples=60, deadline=None)
@given(prob_vectors(min_size=3, max_size=7), st.data())
def test_topk_kls_against_full_and_data_processing(p, data):
    q = data.draw(prob_vectors(size=len(p)))
    s, t = np.array(p), np.array(q)
    v = s.size
    k = data.draw(st.integers(1, v))
    for direction, full in (("forward", kl(t, s)), ("reverse", kl(s, t))):
        kind = f"topk_{direction}"
        # all tokens: renormalised and tail forms are the full KL
        assert distill.divergence(s, t, kind, k=v) == pytest.approx(full, rel=1e-12, abs=1e-15)
        assert distill.divergence(s, t, kind, k=v, tail=True) == pytest.approx(full, rel=1e-12, abs=1e-15)
        # coarse-graining cannot increase a KL (data processing)
        assert distill.divergence(s, t, kind, k=k, tail=True) <= full * (1 + 1e-12) + 1e-15


def test_topk_raw_is_verls_loss():
    """Random laws, half of them with entries far below verl's 1e-8 floor (Dirichlet(0.02)), where the floor
    decides the value."""
    tiny = (np.array([0.9, 0.1 - 1e-12, 1e-12]), np.array([1e-12, 0.5, 0.5 - 1e-12]))
    assert distill.divergence(*tiny, "topk_forward", k=2, over="union", raw=True) == pytest.approx(
        verl_topk_kl(*tiny, 2, "forward"), rel=1e-12)
    for i in range(100):
        v = int(RNG.integers(3, 12))
        shape = 0.5 if i % 2 else 0.02
        s, t = RNG.dirichlet(np.ones(v) * shape), RNG.dirichlet(np.ones(v) * shape)
        k = int(RNG.integers(1, v + 1))
        for direction in ("forward", "reverse"):
            ours = distill.divergence(s, t, f"topk_{direction}", k=k, over="union", raw=True)
            assert ours == pytest.approx(verl_topk_kl(s, t, k, direction), rel=1e-12, abs=1e-15)


def test_topk_renormalised_is_the_kl_of_the_conditional_laws():
    s, t = np.array([0.5, 0.3, 0.15, 0.05]), np.array([0.1, 0.2, 0.3, 0.4])
    top_t = [3, 2]  # the teacher's two largest
    cs, ct = s[top_t] / s[top_t].sum(), t[top_t] / t[top_t].sum()
    assert distill.divergence(s, t, "topk_forward", k=2) == pytest.approx(kl(ct, cs), rel=1e-14)
    assert distill.divergence(s, t, "topk_reverse", k=2, over="student") == pytest.approx(
        kl(s[[0, 1]] / 0.8, t[[0, 1]] / 0.3), rel=1e-14)


@settings(max_examples=40, deadline=None)
@given(prob_vectors(min_size=2, max_size=8), st.data())
def test_wasserstein_closed_forms(p, data):
    q = data.draw(prob_vectors(size=len(p)))
    s, t = np.array(p), np.array(q)
    # 0-1 cost: total variation; |i - j| cost on a line: the L1 distance of the CDFs
    assert distill.divergence(s, t, "wasserstein") == pytest.approx(0.5 * np.abs(s - t).sum(), abs=1e-12)
    line = np.abs(np.subtract.outer(np.arange(s.size), np.arange(s.size))).astype(float)
    w1 = float(np.abs(np.cumsum(s) - np.cumsum(t))[:-1].sum())
    assert distill.divergence(s, t, "wasserstein", cost=line) == pytest.approx(w1, abs=1e-11)


def test_sinkhorn_tends_to_the_exact_transport_cost_from_above():
    s, t = np.array([0.6, 0.3, 0.1]), np.array([0.1, 0.3, 0.6])
    line = np.abs(np.subtract.outer(np.arange(3), np.arange(3))).astype(float)
    exact = distill.divergence(s, t, "wasserstein", cost=line)
    values = [distill.divergence(s, t, "sinkhorn", cost=line, reg=reg) for reg in (1.0, 0.1, 0.01, 0.001)]
    assert exact == pytest.approx(1.0, abs=1e-12)
    assert all(v >= exact - 1e-9 for v in values) and np.all(np.diff(values) <= 1e-12)
    assert values[-1] == pytest.approx(exact, abs=1e-3)


def test_infinite_where_the_support_fails():
    s, t = np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.5, 0.5])
    assert distill.divergence(s, t, "forward_kl") == math.inf
    assert distill.divergence(s, t, "reverse_kl") == math.inf
    assert math.isfinite(distill.divergence(s, t, "gkd_jsd", beta=0.3))
    assert distill.divergence(s, t, "topk_forward", k=2) == math.inf  # teacher's top-2 {1, 2}: student has 0 at 2


@pytest.mark.parametrize("call, error, match", [
    (lambda: distill.divergence([0.5, 0.5], [0.2, 0.3, 0.5], "reverse_kl"), ValueError, "same vocabulary"),
    (lambda: distill.divergence([0.5, 0.5], [0.5, 0.5], "gkd_jsd", beta=1.5), ValueError, "beta"),
    (lambda: distill.divergence([0.5, 0.5], [0.5, 0.5], "skew_forward", alpha=1.0), ValueError, "alpha"),
    (lambda: distill.divergence([0.5, 0.5], [0.5, 0.5], "topk_forward", k=3), ValueError, "k"),
    (lambda: distill.divergence([0.5, 0.5], [0.5, 0.5], "topk_forward", k=0), ValueError, "k"),
    (lambda: distill.divergence([0.5, 0.5], [0.5, 0.5], "topk_forward"), TypeError, "needs k"),
    (lambda: distill.divergence([0.5, 0.5], [0.5, 0.5], "wasserstein", cost=np.ones((3, 3))), ValueError, "cost"),
    (lambda: distill.divergence([0.5, 0.5], [0.5, 0.5], "wasserstein", cost=-np.ones((2, 2))), ValueError, "cost"),
    (lambda: distill.divergence([0.5, 0.5], [0.5, 0.5], "sinkhorn", reg=0.0), ValueError, "reg"),
    (lambda: distill.divergence([0.5, 0.5], [0.5, 0.5], "forward_kl", beta=0.5), TypeError, "takes"),
    (lambda: distill.divergence([0.5, 0.5], [0.5, 0.5], "kl"), ValueError, "kind"),
])
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
