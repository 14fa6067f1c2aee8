"""Group updates per state of a Markov LM with an end token: against every group of a tiny chain, differentiating
verl's aggregated loss by finite differences; RLOO with token sums against the gradient of the success
probability; the length drift against finite differences of the expected length."""

import itertools
import math

import numpy as np
import pytest

from alignsim import rlvr
from alignsim.markov import MarkovLM


def _softmax(x):
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _chain(eta, theta, rewards, length, eos):
    return MarkovLM(_softmax(eta), _softmax(theta), rewards, length, eos=eos)


def _sequences(lm):
    """Every complete sequence with its probability."""
    out = []

    def grow(seq, logp):
        if (lm.eos is not None and seq[-1] == lm.eos) or len(seq) == lm.length:
            out.append((tuple(seq), math.exp(logp)))
            return
        row = lm.transition[seq[-1]]
        for b in range(row.size):
            if row[b] > 0:
                grow(seq + [b], logp + math.log(row[b]))
    for a in range(lm.initial.size):
        if lm.initial[a] > 0:
            grow([a], math.log(lm.initial[a]))
    return out


def _advantages(reported, estimator, ddof, eps):
    r = np.asarray(reported, float)
    G = r.size
    if estimator == "rloo":
        return r - (r.sum() - r) / (G - 1)
    centred = r - r.mean()
    if estimator == "dr_grpo":
        return centred
    s = r.std(ddof=ddof)
    return centred / (s + eps) if s > 1e-12 else np.zeros(G)


def _token_scores(eta, theta, seq):
    """d log pi(token_t | previous) / d (eta, theta) for each token of a sequence (softmax: e_a - pi)."""
    mu, T = _softmax(eta), _softmax(theta)
    out = []
    for t, tok in enumerate(seq):
        ge, gt = np.zeros_like(eta), np.zeros_like(theta)
        if t == 0:
            ge = np.eye(eta.size)[tok] - mu
        else:
            gt[seq[t - 1]] = np.eye(eta.size)[tok] - T[seq[t - 1]]
        out.append((ge, gt))
    return out


def _enumerated(eta, theta, rewards, length, eos, correct, G, estimator, aggregation, ddof=1, eps=0.0, fp=0.0,
                fn=0.0, horizon=None):
    """E over every group and every verdict pattern of the ascent direction of verl's aggregated loss
    sum -A_i log pi(token) (advantages held fixed): each token's weight is read off ``rlvr.aggregate`` applied to a
    one-hot loss matrix of the group's padded shape, its score is e_a - pi; no closed-form weight is used."""
    lm = _chain(eta, theta, rewards, length, eos)
    seqs = _sequences(lm)
    scores = [_token_scores(eta, theta, s) for s, _ in seqs]
    H = float(length) if horizon is None else horizon
    weights = {}

    def token_weights(lengths):
        if lengths not in weights:
            width = max(lengths)
            mask = np.array([[1.0 if t < n else 0.0 for t in range(width)] for n in lengths])
            w = np.zeros(mask.shape)
            for i, t in zip(*np.nonzero(mask)):
                one = np.zeros(mask.shape)
                one[i, t] = 1.0
                w[i, t] = rlvr.aggregate(one, mask, aggregation, horizon=H)
            weights[lengths] = w
        return weights[lengths]

    total_eta, total_theta = np.zeros_like(eta), np.zeros_like(theta)
    for combo in itertools.product(range(len(seqs)), repeat=G):
        group = [seqs[i][0] for i in combo]
        p_group = math.prod(seqs[i][1] for i in combo)
        ok = [bool(correct(sum(rewards[t] for t in s), len(s))) for s in group]
        w_tok = token_weights(tuple(len(s) for s in group))
        for flips in itertools.product((0, 1), repeat=G):
            p_flip = 1.0
            reported = []
            for c, f in zip(ok, flips):
                rate = fn if c else fp
                p_flip *= rate if f else 1.0 - rate
                reported.append(float(c != bool(f)))
            if p_flip == 0.0:
                continue
            adv = _advantages(reported, estimator, ddof, eps)
            for i, k in enumerate(combo):
                for t, (ge, gt) in enumerate(scores[k]):
                    c = p_group * p_flip * adv[i] * w_tok[i, t]
                    total_eta += c * ge
                    total_theta += c * gt
    return total_eta, total_theta


RNG = np.random.default_rng(7)
ETA, THETA = RNG.normal(size=3), RNG.normal(size=(3, 3))
REWARDS = [0.0, 1.0, 0.5]


def _right(r, n):
    return r >= 1.0


@pytest.mark.parametrize("estimator", ["grpo", "dr_grpo", "rloo"])
@pytest.mark.parametrize("aggregation", rlvr.AGGREGATIONS)
def test_the_update_is_the_mean_of_verls_loss_gradient_over_every_group(estimator, aggregation):
    """A 3-token chain with an end token, length 3 (9 complete sequences), groups of 3 (729 groups): every group's
    aggregated loss is differentiated by central differences; the mean equals the exact update to 1e-8."""
    lm = _chain(ETA, THETA, REWARDS, 3, 0)
    d0, dT = rlvr.sequence_update(lm, _right, 3, estimator, aggregation)
    e0, eT = _enumerated(ETA, THETA, REWARDS, 3, 0, _right, 3, estimator, aggregation)
    assert np.max(np.abs(d0 - e0)) < 1e-8
    assert np.max(np.abs(dT - eT)) < 1e-8
    assert np.max(np.abs(dT)) > 1e-3  # not vacuous


@pytest.mark.parametrize("estimator, aggregation, ddof, eps", [("grpo", "token-mean", 0, 0.1),
                                                                ("grpo", "seq-mean-token-mean", 1, 0.0),
                                                                ("rloo", "seq-mean-token-sum-norm", 1, 0.0)])
def test_a_noisy_verifier_and_grpos_std_options_agree_with_enumeration(estimator, aggregation, ddof, eps):
    lm = _chain(ETA, THETA, REWARDS, 3, 0)
    kw = dict(ddof=ddof, eps=eps, fp=0.1, fn=0.25)
    d0, dT = rlvr.sequence_update(lm, _right, 3, estimator, aggregation, **kw)
    e0, eT = _enumerated(ETA, THETA, REWARDS, 3, 0, _right, 3, estimator, aggregation, **kw)
    assert np.max(np.abs(d0 - e0)) < 1e-8
    assert np.max(np.abs(dT - eT)) < 1e-8


def test_the_enumeration_can_tell_aggregations_apart():
    """The negative control: token-mean's exact update is not seq-mean-token-mean's enumerated one."""
    lm = _chain(ETA, THETA, REWARDS, 3, 0)
    _, dT = rlvr.sequence_update(lm, _right, 3, "grpo", "token-mean")
    _, eT = _enumerated(ETA, THETA, REWARDS, 3, 0, _right, 3, "grpo", "seq-mean-token-mean")
    assert np.max(np.abs(dT - eT)) > 1e-3


def _success(eta, theta, length, eos, correct):
    return rlvr.success_probability(_chain(eta, theta, REWARDS, length, eos), correct)


@pytest.mark.parametrize("eos, length", [(0, 6), (None, 4)])
def test_rloo_with_token_sums_is_the_gradient_of_the_success_probability(eos, length):
    """RLOO's leave-one-out baseline and a 1/G weight per sequence: an unbiased estimate of grad P(correct), checked
    by central differences of the exact success probability (1e-8), with and without an end token."""
    lm = _chain(ETA, THETA, REWARDS, length, eos)
    d0, dT = rlvr.sequence_update(lm, _right, 5, "rloo", "seq-mean-token-sum")
    h = 1e-6
    for idx in np.ndindex(THETA.shape):
        d = np.zeros_like(THETA)
        d[idx] = h
        fd = (_success(ETA, THETA + d, length, eos, _right) - _success(ETA, THETA - d, length, eos, _right)) / (2 * h)
        assert dT[idx] == pytest.approx(fd, abs=1e-8)
    for i in range(3):
        d = np.zeros(3)
        d[i] = h
        fd = (_success(ETA + d, THETA, length, eos, _right) - _success(ETA - d, THETA, length, eos, _right)) / (2 * h)
        assert d0[i] == pytest.approx(fd, abs=1e-8)


@pytest.mark.parametrize("among", ["all", "correct", "incorrect"])
def test_the_length_drift_is_the_derivative_of_the_conditional_mean_length(among):
    lm = _chain(ETA, THETA, REWARDS, 6, 0)
    u0, uT = rlvr.sequence_update(lm, _right, 4, "grpo", "seq-mean-token-mean")

    def mean_length(step):
        j = _chain(ETA + step * u0, THETA + step * uT, REWARDS, 6, 0).joint_law()
        ok = (j["reward"] >= 1.0).to_numpy()
        keep = np.ones(ok.size, bool) if among == "all" else ok if among == "correct" else ~ok
        return float(np.dot(j["prob"][keep], j["length"][keep]) / j["prob"][keep].sum())

    h = 1e-5
    fd = (mean_length(h) - mean_length(-h)) / (2 * h)
    drift = rlvr.sequence_length_drift(lm, _right, 4, "grpo", "seq-mean-token-mean", among=among)
    assert drift == pytest.approx(fd, abs=1e-8)
    assert abs(drift) > 1e-4


def test_the_per_sequence_token_mean_lengthens_wrong_answers_and_token_sums_do_not():
    """Correctness set by the first token, lengths by separate branches: seq-mean-token-mean divides a wrong
    answer's penalty by its length (long wrong answers grow: Liu et al.'s length bias), token-mean does so more
    weakly, the two token sums not at all (exactly 0)."""
    T = np.zeros((5, 5))
    T[0, 0] = 1
    T[1, [0, 3]] = T[3, [0, 3]] = T[2, [0, 4]] = T[4, [0, 4]] = 0.5
    lm = MarkovLM([0, 0.3, 0.7, 0, 0], T, [0, 1, 0, 0, 0], 8, eos=0)
    drift = {a: rlvr.sequence_length_drift(lm, [1.0], 8, "grpo", a, among="incorrect") for a in rlvr.AGGREGATIONS}
    assert drift["seq-mean-token-mean"] > drift["token-mean"] > 1e-3
    assert abs(drift["seq-mean-token-sum"]) < 1e-15 and abs(drift["seq-mean-token-sum-norm"]) < 1e-15
    right = rlvr.sequence_length_drift(lm, [1.0], 8, "grpo", "seq-mean-token-mean", among="correct")
    assert right < -1e-3  # and right answers shorten


def test_a_long_chain_is_fast_enough_to_be_exact():
    """Length 300 with an end token and groups of 16 (the others' law: 16 x 4486 cells)."""
    lm = _chain(ETA, THETA, REWARDS, 300, 0)
    d0, dT = rlvr.sequence_update(lm, lambda r, n: r >= 3.0, 16, "grpo", "token-mean")
    assert np.all(np.isfinite(dT)) and np.max(np.abs(dT)) > 0


@pytest.mark.parametrize("kwargs, words", [
    (dict(G=1), "G must"),
    (dict(estimator="ppo"), "estimator must"),
    (dict(aggregation="mean"), "aggregation must"),
    (dict(fp=1.5), "fp must"),
    (dict(fn=-0.1), "fn must"),
    (dict(ddof=2), "ddof must"),
    (dict(horizon=0.0), "horizon must"),
])
def test_bad_input(kwargs, words):
    lm = _chain(ETA, THETA, REWARDS, 3, 0)
    args = {"G": 4, **kwargs}
    with pytest.raises(ValueError, match=words):
        rlvr.sequence_update(lm, _right, **args)


def test_a_memoryless_lm_must_be_converted():
    import alignsim as a

    with pytest.raises(TypeError, match="MarkovLM.from_memoryless"):
        rlvr.sequence_update(a.MemorylessLM([0.5, 0.5], [0, 1], 3), [1.0], 4)


def _simulated_updates(lm, groups, G, aggregation, rng):
    """Sampled GRPO updates of ``groups`` groups: sequences drawn token by token, each sequence's score
    sum_t (e_{y_t} - pi(.|y_{t-1})) on the transition logits, verl's per-token weight, GRPO advantages."""
    V, n = lm.initial.size, lm.length
    m = groups * G
    tok = rng.choice(V, size=m, p=lm.initial)
    alive = np.ones(m, bool)
    score = np.zeros((m, V, V))
    reward = np.array(lm.rewards)[tok]
    length = np.ones(m)
    for _ in range(1, n):
        alive &= tok != lm.eos
        u = rng.random(m)
        nxt = (np.cumsum(lm.transition[tok], axis=1) < u[:, None]).sum(axis=1).clip(max=V - 1)
        idx = np.flatnonzero(alive)
        score[idx, tok[idx]] -= lm.transition[tok[idx]]
        score[idx, tok[idx], nxt[idx]] += 1.0
        reward[idx] += np.array(lm.rewards)[nxt[idx]]
        length[idx] += 1
        tok = np.where(alive, nxt, tok)
    ok = (reward >= 1.0).reshape(groups, G)
    mean = ok.mean(axis=1, keepdims=True)
    sd = ok.std(axis=1, ddof=1, keepdims=True)
    adv = np.where(sd > 0, (ok - mean) / np.where(sd > 0, sd, 1.0), 0.0)
    L = length.reshape(groups, G)
    w = 1.0 / L.sum(axis=1, keepdims=True) if aggregation == "token-mean" else 1.0 / (G * L)
    return np.einsum("gi,givw->gvw", adv * w, score.reshape(groups, G, V, V))


@pytest.mark.parametrize("aggregation", ["token-mean", "seq-mean-token-mean"])
def test_the_update_is_the_mean_of_simulated_group_updates(aggregation):
    """200 000 simulated groups of 4 on a length-6 chain with an end token: every entry within 5 standard errors
    of the exact update; the other aggregation's exact update (the negative control) is at least 8 away."""
    lm = _chain(ETA, THETA, REWARDS, 6, 0)
    u = _simulated_updates(lm, 200_000, 4, aggregation, np.random.default_rng(3))
    est, se = u.mean(axis=0), u.std(axis=0, ddof=1) / math.sqrt(u.shape[0])
    _, exact = rlvr.sequence_update(lm, _right, 4, "grpo", aggregation)
    live = se > 0
    assert np.all(np.abs(est - exact)[live] < 5 * se[live])
    other = "seq-mean-token-mean" if aggregation == "token-mean" else "token-mean"
    _, wrong = rlvr.sequence_update(lm, _right, 4, "grpo", other)
    assert np.max(np.abs(est - wrong)[live] / se[live]) > 8
