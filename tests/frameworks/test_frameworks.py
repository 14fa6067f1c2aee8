"""Each framework preset against the framework's own surrogate, transcribed line by line into mpmath (50 digits)
and differentiated by central differences; Monte-Carlo of the per-sample gradient; errors that list the known
settings.

Transcribed from (the lines named in each function):
TRL f2cd57710ae345ea6428ae95363267fcf38a3dc8, verl b178a3cd56f58b2d502255daba591e92833930a7,
OpenRLHF 3c3be6234e0cb353e76bb8019947db9dfe99fca7.
"""

import mpmath as mp
import numpy as np
import pytest

from alignsim import frameworks
from alignsim.estimators import kl_gradient_targets

mp.mp.dps = 50


def _clamp(x, lo, hi):
    return min(max(x, mp.mpf(lo)), mp.mpf(hi))


# --- the surrogates, per sampled outcome: logp is log pi_theta(y) (differentiated), old is log pi_theta_old(y) and
# --- ref is log pi_ref(y) (constants). Each returns the loss per unit KL coefficient.

def _trl(settings, logp, old, ref):
    trainer = settings["trainer"]
    if trainer == "grpo":
        # trl/trainer/grpo_trainer.py _compute_loss: per_token_kl = exp(ref - logp) - (ref - logp) - 1;
        # if use_bias_correction_kl: per_token_kl * coef_1, coef_1 = exp(log_importance_weights) with
        # log_ratio = per_token_logps - old_per_token_logps (token level; the sequence level averages log_ratio over
        # the completion's tokens: one token here); per_token_loss += beta * per_token_kl
        kl = mp.exp(ref - logp) - (ref - logp) - 1
        if settings.get("use_bias_correction_kl", False):
            kl = kl * mp.exp(logp - old)
        return kl
    if trainer == "ppo":
        # trl/experimental/ppo/ppo_trainer.py: logr = ref_logprobs - logprobs (rollout, no grad);
        # kl = -logr if k1 else (logr.exp() - 1) - logr; non_score_reward = -kl_coef * kl; policy loss -A log pi
        logr = ref - old
        kl = -logr if settings.get("kl_estimator", "k1") == "k1" else (mp.exp(logr) - 1) - logr
        return -(-kl) * logp
    # trl/trainer/rloo_trainer.py: per_token_kl = old_per_token_logps - ref_per_token_logps;
    # rewards = rewards - beta * kl (summed over the completion: one token here)
    kl = old - ref
    return -(-kl) * logp


def _verl_forward(name, logprob, ref_logprob):
    # verl/trainer/ppo/core_algos.py kl_penalty_forward
    if name in ("kl", "k1"):
        return logprob - ref_logprob
    if name == "abs":
        return abs(logprob - ref_logprob)
    if name in ("mse", "k2"):
        return mp.mpf(0.5) * (logprob - ref_logprob) ** 2
    kl = ref_logprob - logprob
    kl = _clamp(kl, -20, 20)
    ratio = mp.exp(kl)
    kld = ratio - kl - 1
    return _clamp(kld, -10, 10)


def _verl(settings, logp, old, ref):
    if settings.get("use_kl_loss"):
        # verl/workers/actor/dp_actor.py: kld = kl_penalty(logprob=log_prob, ref_logprob=ref_log_prob, ...);
        # core_algos.kl_penalty: forward_score, and with a '+' suffix (not k2)
        # backward_score - backward_score.detach() + forward_score.detach(), backward_score = 0.5 (logp - ref)^2.
        # (At this commit kl_penalty_forward receives the suffixed name and raises; the forward value is the
        # unsuffixed one, which is what the straight-through line needs.)
        name = settings["kl_loss_type"]
        base = name.rstrip("+")
        if not name.endswith("+") or base in ("mse", "k2"):
            return _verl_forward(base, logp, ref)
        backward = mp.mpf(0.5) * (logp - ref) ** 2
        return backward - mp.mpf(0.5) * (old - ref) ** 2 + _verl_forward(base, old, ref)
    # verl/trainer/ppo/ray_trainer.py apply_kl_penalty: kld = kl_penalty(old_log_probs, ref_log_prob);
    # token_level_rewards = token_level_scores - beta * kld; then the policy loss -A log pi
    return _verl_forward(settings["kl_penalty"].rstrip("+"), old, ref) * logp


def _openrlhf(settings, logp, old, ref):
    # openrlhf/models/utils.py compute_approx_kl: log_ratio = log_probs - log_probs_base; k2: log_ratio**2 / 2;
    # k3: (-log_ratio).exp() - 1 + log_ratio; return log_ratio.clamp(min=-10, max=10)
    def approx(lp):
        lr = lp - ref
        est = settings.get("kl_estimator", "k1")
        if est == "k2":
            lr = lr ** 2 / 2
        elif est == "k3":
            lr = mp.exp(-lr) - 1 + lr
        return _clamp(lr, -10, 10)
    if settings.get("use_kl_loss"):  # ppo_actor.py: loss = actor_loss + kl_loss * kl_ctl
        return approx(logp)
    return approx(old) * logp  # experience_maker.py + compute_reward: reward = -kl_coef * kl, loss -A log pi


SURROGATES = {"trl": _trl, "verl": _verl, "openrlhf": _openrlhf}

SETTINGS = [
    ("trl", {"trainer": "grpo"}), ("trl", {"trainer": "grpo", "use_bias_correction_kl": True}),
    ("trl", {"trainer": "grpo", "use_bias_correction_kl": True, "importance_sampling_level": "sequence"}),
    ("trl", {"trainer": "ppo", "kl_estimator": "k1"}), ("trl", {"trainer": "ppo", "kl_estimator": "k3"}),
    ("trl", {"trainer": "rloo"}),
] + [("verl", {"use_kl_loss": True, "kl_loss_type": n})
     for n in ("kl", "k1", "abs", "mse", "k2", "low_var_kl", "k3", "kl+", "k1+", "abs+", "mse+", "low_var_kl+", "k3+")
     ] + [("verl", {"use_kl_in_reward": True, "kl_penalty": n}) for n in ("kl", "abs", "mse", "low_var_kl", "k3+")
          ] + [("openrlhf", {"use_kl_loss": u, "kl_estimator": e}) for u in (True, False) for e in ("k1", "k2", "k3")]


def _per_outcome_gradients(framework, settings, pi):
    """The gradient in theta of the surrogate for each sampled outcome y, at theta = theta_old = log pi, by central
    differences at 50 digits (h = 1e-20: the truncation error is ~1e-40)."""
    theta0 = [mp.log(mp.mpf(float(p))) for p in pi]
    ref_logs = None
    h = mp.mpf("1e-20")

    def logp(theta, y):
        return theta[y] - mp.log(mp.fsum(mp.exp(t) for t in theta))

    def grads(ref):
        out = np.empty((pi.size, pi.size))
        for y in range(pi.size):
            old = logp(theta0, y)
            for a in range(pi.size):
                up = list(theta0)
                dn = list(theta0)
                up[a] += h
                dn[a] -= h
                f = SURROGATES[framework]
                out[y, a] = float((f(settings, logp(up, y), old, ref[y]) - f(settings, logp(dn, y), old, ref[y]))
                                  / (2 * h))
        return out
    return theta0, ref_logs, grads


def _laws(seed, binding=False):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 7))
    pi, ref = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k))
    if binding:  # a log-ratio beyond -20 (verl's clamp) and a k3 value beyond 10 (both clamps) and k1 beyond 10
        pi[0], ref[0] = 1e-12, 0.3
        pi[1], ref[1] = 0.01, 0.2
        pi, ref = pi / pi.sum(), ref / ref.sum()
    return pi, ref


@pytest.mark.parametrize("framework,settings", SETTINGS, ids=lambda x: str(x))
@pytest.mark.parametrize("seed,binding", [(0, False), (1, False), (2, True)])
def test_expected_gradient_is_the_surrogates_gradient(framework, settings, seed, binding):
    pi, ref = _laws(seed, binding)
    _, _, grads = _per_outcome_gradients(framework, settings, pi)
    per_y = grads([mp.log(mp.mpf(float(r))) for r in ref])
    brute = pi @ per_y  # E_{y ~ pi_old} of the surrogate's gradient
    got = frameworks.expected_gradient(pi, ref, framework, **settings)
    assert np.max(np.abs(got - brute)) <= 1e-10 * max(1.0, float(np.abs(brute).max()))
    # the variance per sample: the trace of the covariance of the per-outcome gradients
    var = float(pi @ np.sum((per_y - brute) ** 2, axis=1))
    assert frameworks.gradient_variance(pi, ref, framework, **settings) == pytest.approx(var, rel=1e-9, abs=1e-15)


def test_known_answers():
    pi, ref = _laws(3)
    t = kl_gradient_targets(np.log(pi), ref)
    same = np.testing.assert_allclose
    same(frameworks.expected_gradient(pi, ref, "trl", trainer="grpo"), t["forward"], atol=1e-15)
    same(frameworks.expected_gradient(pi, ref, "trl", trainer="grpo", use_bias_correction_kl=True), t["reverse"],
         atol=1e-15)
    same(frameworks.expected_gradient(pi, ref, "verl", use_kl_loss=True, kl_loss_type="low_var_kl+"), t["reverse"],
         atol=1e-15)
    same(frameworks.expected_gradient(pi, ref, "verl", use_kl_loss=True, kl_loss_type="kl"), 0.0, atol=1e-15)
    df = frameworks.table(pi, ref)
    assert df.loc[df.setting == "use_kl_in_reward=True, kl_penalty='kl'", "follows"].item() == "KL(pi || ref)"
    assert df.loc[df.framework == "reference", "variance"].item() == 0.0


def test_clamps_bind_where_the_code_clamps():
    pi, ref = _laws(2, binding=True)
    df = frameworks.table(pi, ref).set_index("setting")
    assert df.loc["use_kl_loss=True, kl_loss_type='low_var_kl'", "clamp_binds"]
    assert not df.loc["trainer='grpo', use_bias_correction_kl=False", "clamp_binds"]  # TRL clamps nothing
    # verl's clamped k3 loss no longer follows the forward KL: the clamped outcomes contribute no gradient
    assert df.loc["use_kl_loss=True, kl_loss_type='low_var_kl'", "follows"] == "biased"


def _mc_mean(pi, per_y, rng, m=200_000):
    ys = rng.choice(pi.size, size=m, p=pi)
    g = per_y[ys]
    return g.mean(0), g.std(0, ddof=1) / np.sqrt(m)


@pytest.mark.parametrize("framework,settings", [("trl", {"trainer": "grpo"}),
                                                ("verl", {"use_kl_loss": True, "kl_loss_type": "low_var_kl"}),
                                                ("openrlhf", {"use_kl_loss": False, "kl_estimator": "k3"})])
def test_monte_carlo_of_the_per_sample_gradient(framework, settings):
    """The sampled per-sample gradients average to the exact expectation within 5 standard errors (seed 11); the
    negative control, the same samples against the reverse-KL gradient, is far outside."""
    pi, ref = _laws(4)
    per_y = _per_outcome_gradients(framework, settings, pi)[2]([mp.log(mp.mpf(float(r))) for r in ref])
    mean, se = _mc_mean(pi, per_y, np.random.default_rng(11))
    exact = frameworks.expected_gradient(pi, ref, framework, **settings)
    assert np.all(np.abs(mean - exact) <= 5 * se)
    rev = kl_gradient_targets(np.log(pi), ref)["reverse"]
    assert np.any(np.abs(mean - rev) > 20 * se)


@pytest.mark.parametrize("framework,settings,words", [
    ("trl", {"trainer": "dpo"}, "['grpo', 'ppo', 'rloo']"),
    ("trl", {"trainer": "grpo", "beta": 0.1}, "known ones are ['trainer'"),
    ("verl", {"use_kl_loss": True, "kl_loss_type": "full"}, "'full' raises NotImplementedError"),
    ("verl", {"use_kl_loss": True, "use_kl_in_reward": True}, "exactly one"),
    ("verl", {}, "exactly one"),
    ("openrlhf", {"kl_estimator": "k4"}, "['k1', 'k2', 'k3']"),
    ("nemo", {}, "['trl', 'verl', 'openrlhf']"),
])
def test_unknown_settings_list_the_known_ones(framework, settings, words):
    with pytest.raises(ValueError, match=None) as err:
        frameworks.expected_gradient([0.5, 0.5], [0.4, 0.6], framework, **settings)
    assert words in str(err.value)


def test_bad_laws():
    with pytest.raises(ValueError, match="full support"):
        frameworks.expected_gradient([1.0, 0.0], [0.5, 0.5], "trl", trainer="grpo")
    with pytest.raises(ValueError, match="policy"):
        frameworks.expected_gradient([0.5, 0.6], [0.5, 0.5], "trl", trainer="grpo")


@pytest.mark.parametrize("level", ["token", "sequence"])
@pytest.mark.parametrize("length", [1, 2, 3])
def test_sequence_level_ratio_on_a_memoryless_lm(level, length):
    """TRL GRPO with use_bias_correction_kl on every sequence of a memoryless LM (3 tokens, length 1-3): the loss
    (1/T) sum_t per_token_kl_t * coef_1 with coef_1 = exp(log_ratio_t) (token) or exp(mean_t log_ratio_t)
    (sequence; trl/trainer/grpo_trainer.py _compute_loss @ f2cd5771, loss_type "grpo"), its expectation over all
    3^T sequences differentiated at 50 digits."""
    import itertools
    pi, ref = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    theta0 = [mp.log(mp.mpf(float(p))) for p in pi]
    lref = [mp.log(mp.mpf(float(r))) for r in ref]
    h = mp.mpf("1e-20")

    def expected_loss(theta):
        lz = mp.log(mp.fsum(mp.exp(t) for t in theta))
        total = mp.mpf(0)
        for seq in itertools.product(range(3), repeat=length):
            old = [theta0[y] - mp.log(mp.fsum(mp.exp(t) for t in theta0)) for y in seq]
            logp = [theta[y] - lz for y in seq]
            kl = [mp.exp(lref[y] - lp) - (lref[y] - lp) - 1 for y, lp in zip(seq, logp)]
            if level == "token":
                coef = [mp.exp(lp - o) for lp, o in zip(logp, old)]
            else:
                coef = [mp.exp(mp.fsum(lp - o for lp, o in zip(logp, old)) / length)] * length
            weight = mp.exp(mp.fsum(old))  # the sequence's probability under the sampling policy
            total += weight * mp.fsum(k * c for k, c in zip(kl, coef)) / length
        return total

    brute = np.array([float((expected_loss([t + (h if i == a else 0) for i, t in enumerate(theta0)])
                             - expected_loss([t - (h if i == a else 0) for i, t in enumerate(theta0)])) / (2 * h))
                      for a in range(3)])
    got = frameworks.expected_gradient(pi, ref, "trl", length=length, trainer="grpo", use_bias_correction_kl=True,
                                       importance_sampling_level=level)
    assert np.max(np.abs(got - brute)) <= 1e-12
    rev = kl_gradient_targets(np.log(pi), ref)["reverse"]
    if level == "sequence" and length > 1:  # not the reverse-KL gradient (TRL #6586): the forward KL's weighs 1 - 1/T
        assert np.max(np.abs(got - rev)) > 1e-3
        np.testing.assert_allclose(got, (1 - 1 / length) * (pi - ref) + rev / length, atol=1e-15)
