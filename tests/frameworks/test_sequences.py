"""The presets on whole sequences of a Markov LM against each framework's surrogate over every sequence, transcribed
into mpmath and differentiated at 50 digits in every step's logits; the variance against the per-sequence
gradients; the memoryless case against the bandit formula."""

import itertools

import mpmath as mp
import numpy as np
import pytest

from alignsim import MarkovLM, frameworks
from tests.frameworks.test_frameworks import SETTINGS, _openrlhf, _trl, _verl, _verl_forward

mp.mp.dps = 50
V, T = 3, 3


def _laws(seed):
    rng = np.random.default_rng(seed)
    pol = MarkovLM(rng.dirichlet(np.ones(V)), rng.dirichlet(np.ones(V), size=(T - 1, V)), np.zeros(V), T)
    ref = MarkovLM(rng.dirichlet(np.ones(V)), rng.dirichlet(np.ones(V), size=(T - 1, V)), np.zeros(V), T)
    return pol, ref


def _logits(lm):
    """The policy's parameters as one list: the first token's log-law, then every step's rows."""
    out = [mp.log(mp.mpf(float(x))) for x in lm.initial]
    for t in range(T - 1):
        out += [mp.log(mp.mpf(float(x))) for x in lm.transition[t].ravel()]
    return out


def _seq_logps(theta, seq):
    """log pi_theta of each token of a sequence, the softmax taken per row."""
    rows = [theta[:V]] + [theta[V + (t * V + s) * V: V + (t * V + s + 1) * V] for t, s in
                          zip(range(T - 1), seq[:-1])]
    return [row[y] - mp.log(mp.fsum(mp.exp(x) for x in row)) for row, y in zip(rows, seq)]


def _token_values(framework, settings, old, ref):
    """The per-token values a framework puts in the reward (detached, from the sampling policy's log-probs)."""
    if framework == "trl":
        if settings["trainer"] == "ppo":
            logr = ref - old
            return -logr if settings.get("kl_estimator", "k1") == "k1" else (mp.exp(logr) - 1) - logr
        return old - ref  # RLOO
    if framework == "verl":
        return _verl_forward(settings["kl_penalty"].rstrip("+"), old, ref)
    return _openrlhf({**settings, "use_kl_loss": True}, old, None, ref)  # compute_approx_kl at the old log-probs


def _in_reward(framework, settings):
    return (framework == "trl" and settings["trainer"] in ("ppo", "rloo")) or \
        (framework == "verl" and settings.get("use_kl_in_reward")) or \
        (framework == "openrlhf" and not settings.get("use_kl_loss"))


def _sequence_loss(framework, settings, logp, old, ref):
    """The framework's loss for one sequence per unit KL coefficient, averaged over its tokens (loss_type 'grpo' /
    seq-mean-token-mean). In the reward: verl apply_kl_penalty + GAE (gamma = lam = 1, no critic) and TRL PPO and
    OpenRLHF credit each token with the values at and after it; TRL RLOO sums them into the sequence's reward."""
    if _in_reward(framework, settings):
        vals = [_token_values(framework, settings, o, r) for o, r in zip(old, ref)]
        whole = framework == "trl" and settings["trainer"] == "rloo"
        adv = [-(mp.fsum(vals) if whole else mp.fsum(vals[u:])) for u in range(T)]
        return mp.fsum(-a * lp for a, lp in zip(adv, logp)) / T
    if framework == "trl" and settings.get("use_bias_correction_kl") and \
            settings.get("importance_sampling_level") == "sequence":
        coef = mp.exp(mp.fsum(lp - o for lp, o in zip(logp, old)) / T)
        return mp.fsum((mp.exp(r - lp) - (r - lp) - 1) * coef for lp, r in zip(logp, ref)) / T
    f = {"trl": _trl, "verl": _verl, "openrlhf": _openrlhf}[framework]
    return mp.fsum(f(settings, lp, o, r) for lp, o, r in zip(logp, old, ref)) / T


def _brute(framework, settings, pol, ref):
    """Per-sequence gradients of the surrogate at theta_old = the policy, and the sequence probabilities."""
    theta0, lref = _logits(pol), _logits(ref)
    h = mp.mpf("1e-20")
    seqs = list(itertools.product(range(V), repeat=T))
    probs, grads = [], []
    for seq in seqs:
        old = _seq_logps(theta0, seq)
        rlog = _seq_logps(lref, seq)
        probs.append(float(mp.exp(mp.fsum(old))))
        g = []
        for a in range(len(theta0)):
            up, dn = list(theta0), list(theta0)
            up[a] += h
            dn[a] -= h
            g.append(float((_sequence_loss(framework, settings, _seq_logps(up, seq), old, rlog)
                            - _sequence_loss(framework, settings, _seq_logps(dn, seq), old, rlog)) / (2 * h)))
        grads.append(g)
    return np.array(probs), np.array(grads)


CASES = [s for s in SETTINGS if not (s[0] == "verl" and s[1].get("kl_loss_type", "").rstrip("+") in ("k1", "k3"))]


@pytest.mark.parametrize("framework,settings", CASES, ids=lambda x: str(x))
def test_sequence_gradient_is_the_surrogates_gradient(framework, settings):
    pol, ref = _laws(5)
    probs, grads = _brute(framework, settings, pol, ref)
    brute = probs @ grads
    g = frameworks.sequence_gradient(pol, ref, framework, **settings)
    got = np.concatenate([g["initial"], g["transition"].ravel()])
    assert np.max(np.abs(got - brute)) <= 1e-10 * max(1.0, float(np.abs(brute).max()))
    var = float(probs @ np.sum((grads - brute) ** 2, axis=1))
    assert frameworks.sequence_gradient_variance(pol, ref, framework, **settings) == pytest.approx(var, rel=1e-9)


def test_memoryless_sequences_reduce_to_the_bandit_with_length():
    p, r = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    lm, lr = MarkovLM.from_memoryless(p, [0, 1, 2], 4), MarkovLM.from_memoryless(r, [0, 1, 2], 4)
    for framework, settings in SETTINGS:
        g = frameworks.sequence_gradient(lm, lr, framework, **settings)
        shared = g["initial"] + g["transition"].sum(axis=(0, 1))  # logits shared by every step and row
        np.testing.assert_allclose(shared, frameworks.expected_gradient(p, r, framework, length=4, **settings),
                                   atol=1e-15)


def test_table_names_what_each_row_follows():
    pol, ref = _laws(6)
    df = frameworks.sequence_table(pol, ref).set_index("setting")
    assert df.loc["use_kl_in_reward=True, kl_penalty='kl'", "follows"] == "KL(pi || ref) over sequences"
    assert df.loc["use_kl_loss=True, kl_loss_type='mse'", "follows"] == "per-token KL(pi || ref)"
    assert df.loc["trainer='grpo', use_bias_correction_kl=False", "follows"] == "per-token KL(ref || pi)"
    assert df.loc["use_kl_loss=True, kl_loss_type='kl'", "follows"] == "nothing"
    rb = df.loc["full next-token KL at each visited state (Rao-Blackwellised)"]
    assert rb["follows"] == "per-token KL(pi || ref)" and 0 < rb["variance"] < df.loc[
        "use_kl_loss=True, kl_loss_type='mse'", "variance"]


def test_bad_sequences():
    pol, ref = _laws(7)
    with pytest.raises(TypeError, match="policy must be a MarkovLM"):
        frameworks.sequence_gradient([0.5, 0.5], ref, "trl", trainer="grpo")
    eos = MarkovLM([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]], [0, 1], 3, eos=1)
    with pytest.raises(ValueError, match="fixed length"):
        frameworks.sequence_gradient(eos, eos, "trl", trainer="grpo")
    big = MarkovLM.from_memoryless([0.5, 0.5], [0, 1], 20)
    with pytest.raises(ValueError, match="at most 200000"):
        frameworks.sequence_gradient_variance(big, big, "trl", trainer="grpo")
