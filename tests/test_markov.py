"""Markov LMs (issue 19, first part): every exact law against brute-force enumeration of all sequences, the
memoryless special case against MemorylessLM, and bad input."""

import itertools
import math

import numpy as np
import pytest

import alignsim as a
from alignsim.markov import MarkovLM


def _sequences(lm):
    """Every complete sequence with its probability and reward, by enumeration (V^length candidates)."""
    v, out = lm.initial.size, []
    for n in range(1, lm.length + 1):
        for seq in itertools.product(range(v), repeat=n):
            if lm.eos is not None and lm.eos in seq[:-1]:
                continue
            if n < lm.length and (lm.eos is None or seq[-1] != lm.eos):
                continue
            p = lm.initial[seq[0]]
            for t in range(1, n):
                m = lm.transition if lm.transition.ndim == 2 else lm.transition[t - 1]
                p *= m[seq[t - 1], seq[t]]
            out.append((seq, p, float(sum(lm.rewards[list(seq)]))))
    return out


def _chain(rng, v, length, eos=None, steps=False, rewards=None):
    init = rng.dirichlet(np.ones(v))
    shape = (length - 1, v, v) if steps else (v, v)
    trans = rng.dirichlet(np.ones(v), size=shape[:-1])
    r = rng.integers(-2, 3, v).astype(float) / 2 if rewards is None else rewards
    return MarkovLM(init, trans, r, length, eos=eos)


CASES = [dict(v=3, length=4), dict(v=3, length=4, eos=2), dict(v=2, length=5, eos=0, steps=True),
         dict(v=4, length=3, steps=True), dict(v=3, length=1, eos=1)]


@pytest.mark.parametrize("case", CASES)
def test_laws_match_enumeration(case):
    lm = _chain(np.random.default_rng(len(str(case))), **case)
    seqs = _sequences(lm)
    assert math.fsum(p for _, p, _ in seqs) == pytest.approx(1.0, abs=1e-14)
    for seq, p, _ in seqs:
        assert lm.log_prob(list(seq)) == pytest.approx(math.log(p), rel=1e-13, abs=1e-13)
    want = {}
    for _, p, r in seqs:
        want[r] = want.get(r, 0.0) + p
    levels, probs = lm.reward_law()
    keys = sorted(k for k, q in want.items() if q > 0)
    assert levels.tolist() == pytest.approx(keys, abs=1e-12)
    np.testing.assert_allclose(probs, [want[k] for k in keys], rtol=1e-12, atol=0)
    lengths = {}
    for seq, p, _ in seqs:
        lengths[len(seq)] = lengths.get(len(seq), 0.0) + p
    ls, lp = lm.length_law()
    assert ls.tolist() == sorted(k for k, q in lengths.items() if q > 0)
    np.testing.assert_allclose(lp, [lengths[k] for k in ls], rtol=1e-12, atol=0)


@pytest.mark.parametrize("case", CASES)
def test_kl_matches_enumeration(case):
    rng = np.random.default_rng(7)
    lm, other = _chain(rng, **case), _chain(rng, **case)
    other = MarkovLM(other.initial, other.transition, lm.rewards, lm.length, eos=lm.eos)
    want = math.fsum(p * (math.log(p) - other.log_prob(list(s))) for s, p, _ in _sequences(lm) if p > 0)
    assert lm.kl(other) == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert lm.kl(lm) == 0.0


def test_memoryless_special_case_matches_memoryless_lm():
    """The issue's acceptance: the same reward law as MemorylessLM to 1e-13 (here in every log-mass, length 50)."""
    p, r = [0.2, 0.3, 0.5], [0.0, 1.0, 3.0]
    lv, lp = MarkovLM.from_memoryless(p, r, 50).reward_law(log=True)
    mv, mp = a.MemorylessLM(p, r, 50).reward_law(log=True)
    np.testing.assert_array_equal(lv, mv)
    np.testing.assert_allclose(lp, mp, rtol=0, atol=1e-13)
    q = [0.25, 0.25, 0.5]
    assert MarkovLM.from_memoryless(p, r, 50).kl(MarkovLM.from_memoryless(q, r, 50)) == pytest.approx(
        50 * a.kl(p, q), rel=1e-13)


def test_a_wrong_chain_is_caught_by_enumeration():
    """Negative control: transposing the transition (columns as next-token laws) changes the laws."""
    lm = _chain(np.random.default_rng(3), v=3, length=4, eos=2)
    swapped = MarkovLM(lm.initial, lm.transition.T / lm.transition.T.sum(axis=1, keepdims=True), lm.rewards, 4, eos=2)
    assert not np.allclose(swapped.reward_law()[1], lm.reward_law()[1], rtol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    (dict(transition=[[0.5, 0.6], [0.5, 0.5]]), "transition must sum to 1"),
    (dict(transition=[[1.2, -0.2], [0.5, 0.5]]), "transition must be non-negative"),
    (dict(eos=2), "eos must be a token index in"),
    (dict(eos=True), "eos must be None or a token index"),
    (dict(transition=np.full((2, 2, 2), 0.5)), "length - 1, V, V"),
    (dict(length=0), "length must be an integer >= 1"),
    (dict(rewards=[0.0, 1.0, 2.0]), "rewards and initial must have the same length"),
    (dict(initial=[0.5, 0.6]), "initial must sum to 1"),
])
def test_bad_input_names_the_argument(kwargs, match):
    args = dict(initial=[0.5, 0.5], transition=[[0.9, 0.1], [0.2, 0.8]], rewards=[0.0, 1.0], length=4)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        MarkovLM(args.pop("initial"), args.pop("transition"), args.pop("rewards"), args.pop("length"), **args)


def test_reward_law_refuses_sizes_over_its_cap():
    with pytest.raises(ValueError, match="lattice levels"):
        MarkovLM.from_memoryless([0.5, 0.5], [0.0, 1e-3 + 1e-12], 100_000).reward_law()


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("beta", [0.3, 2.0])
def test_tilt_is_the_sequence_level_optimum(case, beta):
    """phi(y) = pi(y) e^{R(y)/beta} / Z for every sequence (enumeration), and it beats the greedy per-token tilt
    on the penalised objective."""
    lm = _chain(np.random.default_rng(11), **case)
    phi = lm.tilt(beta)
    seqs = _sequences(lm)
    log_z = math.log(math.fsum(p * math.exp(r / beta) for _, p, r in seqs))
    for seq, p, r in seqs:
        if p > 0:
            assert phi.log_prob(list(seq)) == pytest.approx(math.log(p) + r / beta - log_z, abs=1e-12)
    assert lm.tilt(math.inf).kl(lm) == pytest.approx(0.0, abs=1e-15)
    # the optimum's value is beta log Z (the variational identity)
    value = math.fsum(math.exp(phi.log_prob(list(s))) * r for s, _, r in seqs) - beta * phi.kl(lm)
    assert value == pytest.approx(beta * log_z, rel=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_mean_reward_and_greedy_tilt_against_enumeration(case):
    lm = _chain(np.random.default_rng(5), **case)
    seqs = _sequences(lm)
    assert lm.mean_reward() == pytest.approx(math.fsum(p * r for _, p, r in seqs), rel=1e-13, abs=1e-15)
    greedy = lm.token_level_tilt(0.7)
    for seq, p, _ in seqs:  # every step's law tilted by e^{r/beta}, no look-ahead
        want = 0.0
        law = lm.initial * np.exp(lm.rewards / 0.7)
        want += math.log(law[seq[0]] / law.sum())
        for t in range(1, len(seq)):
            m = lm.transition if lm.transition.ndim == 2 else lm.transition[t - 1]
            row = m[seq[t - 1]] * np.exp(lm.rewards / 0.7)
            want += math.log(row[seq[t]] / row.sum())
        if p > 0:
            assert greedy.log_prob(list(seq)) == pytest.approx(want, abs=1e-12)


def test_the_sequence_optimum_beats_the_greedy_tilt_at_matched_kl():
    """With an end token the greedy tilt ignores that stopping forfeits future reward: at the same KL it earns
    less (gap > 0); for a memoryless model of fixed length the two coincide (gap 0)."""
    lm = MarkovLM([0.4, 0.3, 0.3], [[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]], [1.0, 0.0, 0.5], 6, eos=2)
    df = lm.kl_reward_frontier([0.05, 0.2, 0.5])
    assert np.all(df.gap > 1e-4)
    np.testing.assert_allclose([lm.tilt(b).kl(lm) for b in df.beta], df.delta, rtol=1e-9)
    flat = MarkovLM.from_memoryless([0.4, 0.3, 0.3], [1.0, 0.0, 0.5], 6)
    np.testing.assert_allclose(flat.kl_reward_frontier([0.05, 0.2]).gap, 0.0, atol=1e-12)


@pytest.mark.parametrize("case", CASES[:3])
def test_best_of_n_over_sequences_against_enumeration(case):
    """Best-of-N over whole sequences (random ties) from the one level-law kernel: for N = 3 the law of the
    maximum reward of three independent sequences, by enumeration of every triple."""
    lm = _chain(np.random.default_rng(9), **case)
    levels, probs = lm.reward_law()
    cdf = np.cumsum(probs)
    want = cdf ** 3 - np.concatenate(([0.0], cdf[:-1])) ** 3
    lv, g = lm.bon_reward_law(3)
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-15)
    assert lm.bon_mean_reward(3) == pytest.approx(float(want @ levels), rel=1e-13)
    assert lm.bon_kl(3) == pytest.approx(float(np.sum(want * np.log(want / probs))), rel=1e-12, abs=1e-15)
    assert lm.win_rate(lm) == pytest.approx(0.5, abs=1e-15)
    assert lm.bon_kl(10 ** 400) == pytest.approx(-math.log(probs[-1]), rel=1e-12)  # all mass on the top level
    flat = MarkovLM.from_memoryless([0.2, 0.3, 0.5], [0.0, 1.0, 3.0], 20)
    mem = a.MemorylessLM([0.2, 0.3, 0.5], [0.0, 1.0, 3.0], 20)
    assert flat.bon_kl(64) == pytest.approx(mem.bon_kl(64), rel=1e-12)
    assert flat.win_rate(mem) == pytest.approx(0.5, abs=1e-13)


@pytest.mark.parametrize("case", CASES)
def test_joint_law_and_renyi_against_enumeration(case):
    rng = np.random.default_rng(13)
    lm, other = _chain(rng, **case), _chain(rng, **case)
    other = MarkovLM(other.initial, other.transition, lm.rewards, lm.length, eos=lm.eos)
    seqs = _sequences(lm)
    want = {}
    for s, p, r in seqs:
        want[(r, len(s))] = want.get((r, len(s)), 0.0) + p
    df = lm.joint_law()
    got = {(row.reward, row.length): row.prob for row in df.itertuples()}
    assert set(got) == {k for k, v in want.items() if v > 0}
    for k, v in got.items():
        assert v == pytest.approx(want[k], rel=1e-12)
    for alpha in (0.5, 2.0, 0.999):
        total = math.fsum(p ** alpha * math.exp(other.log_prob(list(s))) ** (1 - alpha) for s, p, _ in seqs if p > 0)
        assert lm.renyi_divergence(other, alpha) == pytest.approx(math.log(total) / (alpha - 1), rel=1e-10, abs=1e-15)
    assert lm.renyi_divergence(other, 1.0) == lm.kl(other)


def test_renyi_is_infinite_where_the_support_fails():
    lm = MarkovLM([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]], [0.0, 1.0], 3)
    other = MarkovLM([0.5, 0.5], [[1.0, 0.0], [0.5, 0.5]], [0.0, 1.0], 3)
    assert lm.renyi_divergence(other, 2.0) == math.inf
    assert lm.kl(other) == math.inf
    assert math.isfinite(lm.renyi_divergence(other, 0.5))


def test_one_dp_step_is_the_exact_log_sum_exp_even_across_1e_308_within_a_level():
    """The forward step multiplies column-scaled masses by T^T; a cell whose mass is below 1e-308 of its level's
    largest (here 1e-900 and 1e-2000 from the largest) underflows in that product and must be recomputed, not
    dropped; empty levels stay empty."""
    from scipy.special import logsumexp

    from alignsim.markov import _advance

    rng = np.random.default_rng(3)
    log_state = rng.uniform(-5.0, 0.0, size=(4, 6))
    log_state[1:, 2] -= 2000.0  # level 2: token 0 dominates tokens 1-3 by e^2000
    log_state[:, 4] = -np.inf  # an empty level
    log_state[0, 5] = -np.inf
    t = rng.dirichlet(np.ones(4), size=4)
    t[0, :] = [1.0, 0.0, 0.0, 0.0]  # token 0 only feeds token 0: tokens 1-3 at level 2 get only the tiny masses
    with np.errstate(divide="ignore"):
        log_t = np.log(t)
    brute = np.array([[logsumexp(log_state[:, k] + log_t[:, a]) for k in range(6)] for a in range(4)])
    got = _advance(log_state, log_t)
    assert np.array_equal(np.isinf(got), np.isinf(brute))
    finite = np.isfinite(brute)
    assert np.max(np.abs(got[finite] - brute[finite]) / np.maximum(1.0, np.abs(brute[finite]))) < 1e-14
    assert got[1, 2] < -1990.0


def _softmax_rows(x):
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("eos", [None, 1])
@pytest.mark.parametrize("steps", [False, True])
def test_expected_gradient_is_the_finite_differences_of_the_expectation(eos, steps):
    """d E[h(R, L)] / d logits by the forward-backward pass against central differences of the exact joint law
    (4e-10 measured; 1e-8 allowed), with a negative reward (levels shift down) and an end token."""
    rng = np.random.default_rng(3)
    n, v = 4, 3
    eta = rng.normal(size=v)
    theta = rng.normal(size=(n - 1, v, v) if steps else (v, v))
    rewards = [0.0, 1.0, -0.5]

    def build(e, t):
        return MarkovLM(_softmax_rows(e), _softmax_rows(t), rewards, n, eos=eos)

    def h(r, length):
        return np.sin(3 * r) + 0.1 * length ** 2

    def mean_h(lm):
        j = lm.joint_law()
        return float(np.sum(j["prob"] * h(j["reward"].to_numpy(), j["length"].to_numpy())))

    d0, dT = build(eta, theta).expected_gradient(h)
    e = 1e-6
    for i in range(v):
        step = e * np.eye(v)[i]
        fd = (mean_h(build(eta + step, theta)) - mean_h(build(eta - step, theta))) / (2 * e)
        assert d0[i] == pytest.approx(fd, abs=1e-8)
    for idx in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[idx] = e
        fd = (mean_h(build(eta, theta + step)) - mean_h(build(eta, theta - step))) / (2 * e)
        assert dT[idx] == pytest.approx(fd, abs=1e-8)
    assert dT.shape == theta.shape


def test_expected_gradient_bad_input():
    lm = MarkovLM([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [0.0, 1.0], 3)
    with pytest.raises(TypeError, match="h must be a callable"):
        lm.expected_gradient(3.0)
    with pytest.raises(ValueError, match="finite values"):
        lm.expected_gradient(lambda r, n: np.log(r + 0 * n))
    with pytest.raises(ValueError, match="broadcastable"):
        lm.expected_gradient(lambda r, n: np.ones(5))
