"""Checks of the distillation divergences: framework losses at their ends, optimal transport against closed forms,
coarse-graining bounds and the KDRL optimum's stationarity."""

from __future__ import annotations

import numpy as np

from ..distill import FULL, SAMPLED, divergence, expected_gradient, kdrl_optimum
from ..divergences import kl
from ..markov import MarkovLM
from ..estimators import sample_gradient_coefficient
from ..mc import sample_law
from ._registry import check, mc_check
from ._stats import mean_test


@check("distill.gkd_jsd_ends", "TRL GKDTrainer.generalized_jsd_loss (trl/trainer/gkd_trainer.py @ a9fa292c)",
       "TRL's generalised JSD returns KL(T || S) at beta = 0 and KL(S || T) at beta = 1 while the formula tends to 0 "
       "there; the normalised form / (beta (1 - beta)) at beta = 1e-7 and 1 - 1e-7 vs those KLs (random V = 6 laws; its "
       "error is O(beta): ~1e-6 here), and the raw form at beta = 1e-9 over KL(T || S): "
       "max relative difference", 1e-5)
def _gkd(rng):
    s, t = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    forward, reverse = kl(t, s), kl(s, t)
    ends = [divergence(s, t, "gkd_jsd", beta=0.0) / forward, divergence(s, t, "gkd_jsd", beta=1.0) / reverse,
            divergence(s, t, "gkd_jsd", beta=1e-7, normalised=True) / forward,
            divergence(s, t, "gkd_jsd", beta=1 - 1e-7, normalised=True) / reverse]
    jump = divergence(s, t, "gkd_jsd", beta=1e-9) / forward  # the raw formula next to beta = 0: ~1e-9
    return 0.0, float(max(np.max(np.abs(np.array(ends) - 1.0)), jump))


@check("distill.wasserstein_on_a_line", "W1 on the line = L1 distance of CDFs (Vallender 1974); POT ot.emd2",
       "POT's exact transport cost with cost |i - j| between random laws on 8 ordered tokens vs sum |F_S - F_T|, and "
       "with the 0-1 cost vs total variation: max absolute difference", 1e-12)
def _w1(rng):
    s, t = rng.dirichlet(np.ones(8)), rng.dirichlet(np.ones(8))
    line = np.abs(np.subtract.outer(np.arange(8), np.arange(8))).astype(float)
    a = abs(divergence(s, t, "wasserstein", cost=line) - np.abs(np.cumsum(s) - np.cumsum(t))[:-1].sum())
    b = abs(divergence(s, t, "wasserstein") - 0.5 * np.abs(s - t).sum())
    return 0.0, float(max(a, b))


@check("distill.topk_tail_below_full_kl", "data-processing inequality (coarse-graining cannot increase a KL)",
       "forward and reverse top-k KLs with the tail bucket (random V = 10 laws, k = 1..9, teacher's, student's and "
       "union top-k) minus the full KL: the largest, must be <= 0", 1e-13, "<=")
def _tail(rng):
    s, t = rng.dirichlet(np.ones(10) * 0.5), rng.dirichlet(np.ones(10) * 0.5)
    worst = -np.inf
    for k in range(1, 10):
        for over in ("teacher", "student", "union"):
            worst = max(worst, divergence(s, t, "topk_forward", k=k, over=over, tail=True) - kl(t, s),
                        divergence(s, t, "topk_reverse", k=k, over=over, tail=True) - kl(s, t))
    return 0.0, float(worst)


@check("distill.kdrl_stationarity", "KKT of max E r - b_ref KL(pi||ref) - b_T KL(pi||T) (KDRL, G-OPD)",
       "kdrl_optimum (geometric mixture of ref and teacher, tilted by r) on random laws (V = 6): spread of "
       "r - b_ref log(pi/ref) - b_T log(pi/T), constant at the optimum", 1e-12)
def _kdrl(rng):
    ref, teacher, r = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6)), rng.normal(size=6)
    b_ref, b_t = rng.uniform(0.05, 2.0, size=2)
    pi = kdrl_optimum(ref, teacher, r, b_ref, b_t).pi
    return 0.0, float(np.ptp(r - b_ref * np.log(pi / ref) - b_t * np.log(pi / teacher)))


@check("distill.gradients_vs_finite_differences", "closed-form derivatives of each loss (this package)",
       "expected_gradient of every full-vocabulary loss (GKD at a random beta, skew at a random alpha, top-k k = 3 in "
       "its three forms) on random student logits and teacher (V = 7) vs central differences of divergence with step "
       "1e-6: max error / max(1, |gradient|)", 1e-7)
def _fd(rng):
    theta, t = rng.normal(size=7), rng.dirichlet(np.ones(7))
    beta, alpha = float(rng.uniform(0.05, 0.95)), float(rng.uniform(0.0, 0.9))
    cases = [(kind, {}) for kind in ("forward_kl", "reverse_kl", "js")] + [
        ("gkd_jsd", {"beta": beta}), ("gkd_jsd", {"beta": beta, "normalised": True}),
        ("skew_forward", {"alpha": alpha}), ("skew_reverse", {"alpha": alpha}), ("topk_forward", {"k": 3}),
        ("topk_reverse", {"k": 3, "tail": True}), ("topk_forward", {"k": 3, "over": "union", "raw": True})]
    worst = 0.0
    for kind, params in cases:
        def loss(x):
            s = np.exp(x - x.max())
            return divergence(s / s.sum(), t, kind, **params)
        g = expected_gradient(theta, t, kind, **params)
        fd = np.array([(loss(theta + 1e-6 * e) - loss(theta - 1e-6 * e)) / 2e-6 for e in np.eye(7)])
        worst = max(worst, float(np.max(np.abs(g - fd))) / max(1.0, float(np.max(np.abs(g)))))
    assert set(name for name, _ in cases) <= set(FULL)
    return 0.0, worst


def _projected(rng, m, loss):
    """(values over tokens, student law, draws) of u . g(y) for a sampled loss, u a random unit direction."""
    theta, t = rng.normal(size=6), rng.dirichlet(np.ones(6) * 2.0)
    s = np.exp(theta - theta.max())
    s /= s.sum()
    u = rng.normal(size=6)
    u /= np.linalg.norm(u)
    f = sample_gradient_coefficient(theta, t, *SAMPLED[loss])
    values = f * (u - np.dot(u, s))  # u . f(y) (e_y - S)
    return values, s, sample_law(s, m, values=values, rng=rng), (theta, t, u)


@mc_check("mc.distill_k1_reward_follows_reverse_kl", "on-policy distillation: log-ratio as REINFORCE penalty "
          "(Tang and Munos 2025; verl/slime on-policy distillation)",
          "the projection u . grad of KL(S || T) (exact) vs the mean of u . (log S(y) - log T(y)) grad log S(y) over "
          "y ~ S (random V = 6 student and teacher, Bernstein interval)")
def _mc_k1(rng, m):
    values, s, x, (theta, t, u) = _projected(rng, m, "k1_reward")
    exact = float(np.dot(u, expected_gradient(theta, t, "reverse_kl")))
    return exact, mean_test(x, values, s)[1], mean_test(x, values, s)[2]


@mc_check("mc.distill_k1_reward_is_not_forward_kl", "negative control",
          "the same samples must EXCLUDE the projection of the forward-KL gradient S - T", "!=")
def _mc_k1_negative(rng, m):
    values, s, x, (theta, t, u) = _projected(rng, m, "k1_reward")
    _, est, half = mean_test(x, values, s)
    return float(np.dot(u, s - t)), est, half


@mc_check("mc.distill_k3_loss_follows_forward_kl", "k3 in the loss follows the forward KL (Tang and Munos 2025)",
          "the projection u . (S - T) of grad KL(T || S) vs the mean of u . (1 - T(y)/S(y)) grad log S(y) over y ~ S")
def _mc_k3(rng, m):
    values, s, x, (theta, t, u) = _projected(rng, m, "k3_loss")
    _, est, half = mean_test(x, values, s)
    return float(np.dot(u, s - t)), est, half


def _register_sampled(loss: str) -> None:
    """A Monte-Carlo check of the exact expected gradient of one sampled estimator (the finite sum of
    :mod:`alignsim.estimators`, with the teacher as the reference)."""
    @mc_check(f"mc.distill_{loss}_expected_gradient", "Tang and Munos 2025 (sampled KL estimators' gradients)",
              f"u . expected_gradient(theta, T, {loss!r}) (exact finite sum) vs the mean of u . f(y) grad log S(y) over "
              "y ~ S (random V = 6 student and teacher, random unit u, Bernstein interval)")
    def _mc(rng, m):
        values, s, x, (theta, t, u) = _projected(rng, m, loss)
        _, est, half = mean_test(x, values, s)
        return float(np.dot(u, expected_gradient(theta, t, loss))), est, half


for _loss in ("k2_reward", "k3_reward", "k1_loss", "k2_loss"):  # k1_reward and k3_loss: checked against the KLs
    _register_sampled(_loss)


@check("distill.forward_fit_matches_moments", "M-projection onto an exponential family matches its statistics",
       "distill.fit(teacher, 'gaussian', 'forward_kl') on a random law over 20 ordered tokens (family statistics i, "
       "i^2 with a non-positive i^2 coefficient, log-linear laws included as its limit): the KKT conditions of the "
       "M-projection, E_S i = E_T i, and E_S i^2 = E_T i^2 when the fit is interior (curvature < 0) or "
       "E_S i^2 <= E_T i^2 when it is the log-linear limit (a random teacher often needs a positive curvature): "
       "max relative violation", 1e-6)
def _fit(rng):
    from ..distill import fit

    t = rng.dirichlet(np.ones(20))
    res = fit(t, "gaussian", "forward_kl")
    i = np.arange(20.0)
    first, second = (np.dot(res.student, i ** k) / np.dot(t, i ** k) - 1.0 for k in (1, 2))
    interior = res.parameters["curvature"] < -1e-6
    return 0.0, float(max(abs(first), abs(second) if interior else max(second, 0.0)))


@check("distill.sequence_types_vs_sequences", "f-divergences are unchanged by merging atoms of equal likelihood ratio",
       "distill.sequence_divergence between two memoryless LMs (V = 3, n = 6) over token-count types vs the same "
       "models as Markov chains over every complete sequence, JS and GKD at a random beta: max relative difference",
       1e-12)
def _types(rng):
    from ..distill import sequence_divergence
    from ..models import MemorylessLM

    a = MemorylessLM(rng.dirichlet(np.ones(3)), [0, 1, 2], 6)
    b = MemorylessLM(rng.dirichlet(np.ones(3)), [0, 1, 2], 6)
    ca, cb = MarkovLM.from_memoryless(a.p, a.r, 6), MarkovLM.from_memoryless(b.p, b.r, 6)
    beta = float(rng.uniform(0.05, 0.95))
    errs = [abs(sequence_divergence(a, b, kind, **kw) / sequence_divergence(ca, cb, kind, **kw) - 1.0)
            for kind, kw in (("js", {}), ("gkd_jsd", {"beta": beta}))]
    return 0.0, float(max(errs))


@check("distill.supervised_kd_fixed_point", "token-level forward KL on teacher prefixes = sequence forward KL "
       "(memoryless student)", "on_policy_fixed_point(teacher, lambda = 0) vs fit(teacher, 'memoryless', "
       "'forward_kl') (the teacher's token occupancy), and the lambda = 1 fixed point's residual, random chain with an "
       "end token: max absolute difference", 1e-12)
def _fixed(rng):
    from ..distill import on_policy_fixed_point, token_occupancy
    from ..distill._exposure import _student_prefix_target

    teacher = MarkovLM(rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3), size=3), [1.0, 0.0, 0.0], 6, eos=2)
    zero = on_policy_fixed_point(teacher, 0.0).p
    occ = token_occupancy(teacher)
    one = on_policy_fixed_point(teacher, 1.0)
    target = _student_prefix_target(teacher, one.p)
    return 0.0, float(max(np.max(np.abs(zero - occ / occ.sum())), np.max(np.abs(target / target.sum() - one.p))))
