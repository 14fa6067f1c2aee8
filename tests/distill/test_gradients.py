"""Distillation gradients against finite differences of the losses (full vocabulary) and Monte-Carlo of the
sampled estimators (mean and variance), with a negative control."""

import math

import numpy as np
import pytest

from alignsim import distill

RNG = np.random.default_rng(5)
THETA = np.array([0.9, -0.3, 0.4, -1.2, 0.1, 0.6])
TEACHER = np.array([0.05, 0.3, 0.1, 0.25, 0.2, 0.1])

FULL_CASES = [("forward_kl", {}), ("reverse_kl", {}), ("js", {}), ("gkd_jsd", {"beta": 0.0}),
              ("gkd_jsd", {"beta": 0.3}), ("gkd_jsd", {"beta": 0.3, "normalised": True}), ("gkd_jsd", {"beta": 1.0}),
              ("skew_forward", {"alpha": 0.2}), ("skew_reverse", {"alpha": 0.2}), ("topk_forward", {"k": 3}),
              ("topk_reverse", {"k": 3}), ("topk_forward", {"k": 3, "tail": True}),
              ("topk_reverse", {"k": 2, "tail": True, "over": "student"}),
              ("topk_forward", {"k": 2, "over": "union", "raw": True}),
              ("topk_reverse", {"k": 4, "over": "union", "raw": True}), ("tv", {}),
              ("wasserstein", {"cost": np.abs(np.subtract.outer(np.arange(6), np.arange(6))).astype(float)})]


def _loss(theta, kind, params):
    s = np.exp(theta - theta.max())
    return distill.divergence(s / s.sum(), TEACHER, kind, **params)


@pytest.mark.parametrize("kind, params", FULL_CASES)
def test_full_vocabulary_gradients_are_the_finite_differences_of_the_losses(kind, params):
    """Central differences of step 1e-6 (the top-k sets, signs and transport plans do not change within it)."""
    g = distill.expected_gradient(THETA, TEACHER, kind, **params)
    h = 1e-6
    fd = np.array([(_loss(THETA + h * e, kind, params) - _loss(THETA - h * e, kind, params)) / (2 * h)
                   for e in np.eye(THETA.size)])
    assert np.max(np.abs(g - fd)) < 1e-8 * max(1.0, np.abs(fd).max())
    assert abs(g.sum()) < 1e-12


@pytest.mark.parametrize("reg", [0.05, 0.3, 1.0])
def test_the_sinkhorn_gradient_is_the_finite_differences_of_the_entropic_transport_cost(reg):
    """Implicit differentiation of the entropic plan against central differences of POT's sinkhorn2 cost: step
    1e-5, since Sinkhorn stops at a marginal error of 1e-13 (1e-8 noise at step 1e-6); agreement to 1e-8 (3e-10
    measured). The negative control: at reg 0.3 and 1 the exact Wasserstein subgradient differs by more than 1e-3;
    at reg 0.05 the entropic plan is the exact one to 1e-13 and so are the gradients (the small-reg limit)."""
    cost = np.abs(np.subtract.outer(np.arange(6), np.arange(6))).astype(float)
    g = distill.expected_gradient(THETA, TEACHER, "sinkhorn", cost=cost, reg=reg)
    h = 1e-5
    fd = np.array([(_loss(THETA + h * e, "sinkhorn", {"cost": cost, "reg": reg})
                    - _loss(THETA - h * e, "sinkhorn", {"cost": cost, "reg": reg})) / (2 * h) for e in np.eye(6)])
    assert np.max(np.abs(g - fd)) < 1e-8
    gap = np.max(np.abs(g - distill.expected_gradient(THETA, TEACHER, "wasserstein", cost=cost)))
    assert gap > 1e-3 if reg >= 0.3 else gap < 1e-9


@pytest.mark.parametrize("loss", list(distill.SAMPLED))
def test_sampled_estimators_mean_and_variance_against_monte_carlo(loss):
    """2e6 on-policy draws: the mean within 5 standard errors per coordinate; the variance within 5 % (its own
    sampling error is ~0.3 % here)."""
    from alignsim.estimators import sample_gradient_coefficient

    s = np.exp(THETA - THETA.max())
    s /= s.sum()
    kind, placement = distill.SAMPLED[loss]
    f = sample_gradient_coefficient(THETA, TEACHER, kind, placement)
    y = RNG.choice(s.size, size=2_000_000, p=s)
    samples = f[y][:, None] * (np.eye(s.size)[y] - s)
    mean, se = samples.mean(0), samples.std(0) / math.sqrt(y.size)
    exact = distill.expected_gradient(THETA, TEACHER, loss)
    assert np.all(np.abs(mean - exact) < 5 * se + 1e-12)
    var = float(np.sum(samples.var(0)))
    assert distill.gradient_variance(THETA, TEACHER, loss) == pytest.approx(var, rel=0.05)
    # negative control: the same draws against the gradient of the other KL direction must be rejected
    other = distill.expected_gradient(THETA, TEACHER, "forward_kl" if loss != "k3_loss" else "reverse_kl")
    if loss != "k1_loss":
        assert np.any(np.abs(mean - other) > 20 * se)


def test_the_gradient_table_names_what_each_loss_follows():
    df = distill.gradient_table(THETA, TEACHER, beta=0.3, k=3).set_index("loss")
    assert df.loc["reverse_kl", "follows"] == "reverse_kl" and df.loc["forward_kl", "follows"] == "forward_kl"
    assert df.loc["gkd_jsd beta=0.3", "follows"] == "none"
    assert df.loc["k1_reward", "follows"] == "reverse_kl" and df.loc["k2_loss", "follows"] == "reverse_kl"
    assert df.loc["k3_loss", "follows"] == "forward_kl"
    assert df.loc["k1_loss", "follows"] == "none" and df.loc["k1_loss", "cos_reverse"] != df.loc["k1_loss",
                                                                                                 "cos_reverse"]
    assert (df.loc[df["kind"] == "full", "variance"] == 0).all()
    assert (df.loc[df["kind"] == "sampled", "variance"] > 0).all()
    # GKD's gradient lies between the two KLs: positively aligned with both
    assert df.loc["gkd_jsd beta=0.3", "cos_reverse"] > 0 and df.loc["gkd_jsd beta=0.3", "cos_forward"] > 0


def test_k1_in_the_loss_has_zero_expected_gradient():
    assert np.max(np.abs(distill.expected_gradient(THETA, TEACHER, "k1_loss"))) < 1e-15


@pytest.mark.parametrize("call, error, match", [
    (lambda: distill.expected_gradient(THETA, TEACHER[:5] / TEACHER[:5].sum(), "reverse_kl"), ValueError,
     "same vocabulary"),
    (lambda: distill.expected_gradient(THETA, TEACHER, "sinkhorn"), TypeError, "needs reg"),
    (lambda: distill.expected_gradient(THETA, TEACHER, "sinkhorn", reg=0.0), ValueError, "reg"),
    (lambda: distill.expected_gradient(THETA, TEACHER, "k3_loss", beta=0.5), TypeError, "no parameters"),
    (lambda: distill.expected_gradient(THETA, TEACHER, "gkd_jsd", beta=2.0), ValueError, "beta"),
    (lambda: distill.expected_gradient([[0.0, 1.0]], [0.5, 0.5], "reverse_kl"), ValueError, "student_logits"),
    (lambda: distill.gradient_table(THETA, np.r_[0.0, TEACHER[1:] / TEACHER[1:].sum()]), ValueError, "full support"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
