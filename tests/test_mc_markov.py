"""The Markov LM sampler against the exact joint law of (reward, length), with a negative control."""

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from scipy.stats import chisquare

import alignsim as a
from alignsim import mc

rng0 = np.random.default_rng(7)
CHAIN = a.MarkovLM([0.2, 0.5, 0.3], rng0.dirichlet(np.ones(3), size=(5, 3)), [0.0, 1.0, 2.0], 6, eos=2)


def _joint_pvalue(lm, rewards, lengths):
    law = lm.joint_law()
    keys = {(r, n): i for i, (r, n) in enumerate(zip(law["reward"], law["length"]))}
    idx = np.array([keys.get((r, n), -1) for r, n in zip(rewards.tolist(), lengths.tolist())])
    assert np.all(idx >= 0), "a (reward, length) pair of probability zero was drawn"
    counts = np.bincount(idx, minlength=len(law))
    return chisquare(counts, law["prob"].to_numpy() * idx.size).pvalue


def test_sampled_reward_and_length_follow_the_exact_joint_law():
    r, n = mc.simulate_markov(CHAIN, 400_000, rng=1)
    assert _joint_pvalue(CHAIN, r, n) > 1e-4
    # negative control: the same draws against a chain with one transition row changed must be rejected
    t = CHAIN.transition.copy()
    t[2, 0] = [0.6, 0.2, 0.2]
    other = a.MarkovLM(CHAIN.initial, t, CHAIN.rewards, 6, eos=2)
    law = other.joint_law()
    keys = {(x, m): i for i, (x, m) in enumerate(zip(law["reward"], law["length"]))}
    idx = np.array([keys[(x, m)] for x, m in zip(r.tolist(), n.tolist())])
    counts = np.bincount(idx, minlength=len(law))
    assert chisquare(counts, law["prob"].to_numpy() * idx.size).pvalue < 1e-10


def test_stationary_chain_without_end_token_matches_the_memoryless_sampler_law():
    lm = a.MarkovLM.from_memoryless([0.3, 0.7], [0.0, 1.0], 20)
    r, n = mc.simulate_markov(lm, 200_000, rng=2)
    assert np.all(n == 20)
    levels, probs = lm.reward_law()
    counts = np.bincount(np.searchsorted(levels, r), minlength=levels.size)
    keep = probs * r.size > 5
    assert chisquare(counts[keep], probs[keep] * r.size * counts[keep].sum() / (probs[keep] * r.size).sum()).pvalue > 1e-4


def test_zero_probability_tokens_are_never_drawn_even_at_the_end_of_a_row():
    """Ten tokens of 0.1 sum to 1 - 1.1e-16 in floats: with the CDF's last entry merely set to 1, the largest
    uniform draw (1 - 2^-53) would go to the eleventh token, of probability 0. The CDF is 1 from the last positive
    token on, so no draw below 1 can reach it (checked at the largest double below 1, deterministically)."""
    from alignsim.mc import _inverse_cdfs
    from alignsim.mc._kernels import _search

    row = np.array([0.1] * 10 + [0.0])
    assert np.cumsum(row)[-1] < 1.0
    cdf = _inverse_cdfs(row)
    assert _search(cdf, np.nextafter(1.0, 0.0)) == 9
    assert _search(cdf, 0.0) == 0 and _search(cdf, 0.1) == 1
    lm = a.MarkovLM(row, [row] * 11, np.r_[np.zeros(10), 100.0], 30)
    r, _ = mc.simulate_markov(lm, 10_000, rng=3)
    assert r.max() == 0.0


def test_same_numbers_on_one_and_two_threads_and_under_the_environment_setting():
    outs = []
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        outs.append(mc.simulate_markov(CHAIN, 100_000, rng=4))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for x, y in zip(*outs):
        np.testing.assert_array_equal(x, y)
    code = ("import numpy as np, alignsim as a; from alignsim import mc; "
            "lm = a.MarkovLM([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [0.0, 1.0], 40, eos=0); "
            "r, n = mc.simulate_markov(lm, 50_000, rng=11); print(r.sum(), n.sum())")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env=dict(os.environ, NUMBA_NUM_THREADS=t)).stdout for t in ("1", "2")]
    assert runs[0] == runs[1]


def test_bad_input():
    with pytest.raises(TypeError, match="lm must be a MarkovLM"):
        mc.simulate_markov(a.MemorylessLM([0.5, 0.5], [0, 1], 3), 10)
    with pytest.raises(ValueError, match="size"):
        mc.simulate_markov(CHAIN, 10 ** 12)


def test_the_numpy_reference_sampler_follows_the_same_exact_joint_law():
    """mc._reference.markov_sequences_numpy (the benchmarks' baseline) on the step-dependent chain with an end token."""
    from alignsim.mc import _reference as ref

    r, n = ref.markov_sequences_numpy(CHAIN, 200_000, np.random.default_rng(5))
    assert _joint_pvalue(CHAIN, r, n) > 1e-4
