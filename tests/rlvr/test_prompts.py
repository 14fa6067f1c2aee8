"""Prompts with verifiers and prompt sets: success probabilities by enumerating every sequence, the set's sums
against direct loops and simulation."""

import itertools
import math

import numpy as np
import pytest

import alignsim as a
from alignsim import rlvr

LM = a.MarkovLM([0.3, 0.5, 0.2], [[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]], [0.0, 1.0, 2.0], 4, eos=0)


def _enumerate(lm, predicate):
    """Sum of the probabilities of every complete sequence (stopping at the end token) the predicate accepts."""
    total = 0.0
    for n in range(1, lm.length + 1):
        for seq in itertools.product(range(lm.initial.size), repeat=n):
            if (lm.eos is not None) and (lm.eos in seq[:-1] or (n < lm.length and seq[-1] != lm.eos)):
                continue
            reward = sum(lm.rewards[t] for t in seq)
            if predicate(reward, n):
                total += math.exp(lm.log_prob(list(seq)))
    return total


@pytest.mark.parametrize("predicate", [lambda r, n: r >= 3, lambda r, n: n == 4 and r <= 4, lambda r, n: n <= 2])
def test_success_probability_by_enumeration(predicate):
    assert rlvr.success_probability(LM, predicate) == pytest.approx(_enumerate(LM, predicate), abs=1e-14)


def test_reward_levels_and_memoryless():
    assert rlvr.success_probability(LM, [3.0, 4.0]) == pytest.approx(
        _enumerate(LM, lambda r, n: r in (3.0, 4.0)), abs=1e-14)
    lm = a.MemorylessLM([0.7, 0.3], [0, 1], 5)
    assert rlvr.success_probability(lm, [4, 5]) == pytest.approx(5 * 0.3 ** 4 * 0.7 + 0.3 ** 5, abs=1e-15)


def test_prompt_set_sums():
    s = rlvr.PromptSet.from_beta(0.5, 2.0, 200)
    w, p = s.weights, s.p
    assert s.pass_at_k(5) == pytest.approx(sum(wi * (1 - (1 - pi) ** 5) for wi, pi in zip(w, p)), rel=1e-13)
    assert s.zero_advantage_fraction(8, fp=0.1) == pytest.approx(
        sum(wi * rlvr.zero_advantage_fraction(pi, 8, fp=0.1) for wi, pi in zip(w, p)), rel=1e-13)
    assert s.pass_at_k(1) == pytest.approx(0.5 / 2.5, abs=2e-4)  # the Beta mean, up to the discretisation
    t = s.update_table(8)
    assert t["share"].sum() == pytest.approx(1.0, abs=1e-12)
    # simulated groups: the zero-advantage fraction over the set
    rng = np.random.default_rng(2)
    idx = rng.choice(p.size, size=200_000, p=w)
    succ = rng.random((200_000, 8)) < p[idx, None]
    zero = np.mean(succ.all(axis=1) | (~succ).all(axis=1))
    assert abs(zero - s.zero_advantage_fraction(8)) < 5 * math.sqrt(zero * (1 - zero) / 200_000)


def test_from_lms_shared_and_per_prompt_verifiers():
    lms = [a.MemorylessLM([0.5, 0.5], [0, 1], n) for n in (2, 4)]
    np.testing.assert_allclose(rlvr.PromptSet.from_lms(lms, lambda r, n: r == n).p, [0.25, 0.0625], atol=1e-15)
    np.testing.assert_allclose(rlvr.PromptSet.from_lms(lms, [[2.0], [0.0]]).p, [0.25, 0.0625], atol=1e-15)
    np.testing.assert_allclose(rlvr.PromptSet.from_lms(lms, [1.0]).p, [0.5, 0.25], atol=1e-15)  # shared levels


@pytest.mark.parametrize("call,words", [
    (lambda: rlvr.success_probability([0.5, 0.5], [1]), "lm must be a MemorylessLM or a MarkovLM"),
    (lambda: rlvr.success_probability(LM, []), "correct must name at least one"),
    (lambda: rlvr.success_probability(LM, "abc"), "correct must be a collection"),
    (lambda: rlvr.PromptSet([0.2, 1.2]), "p must"),
    (lambda: rlvr.PromptSet([0.2, 0.3], [0.5, 0.6]), "weights"),
    (lambda: rlvr.PromptSet.from_beta(0.0, 1.0), "a must"),
    (lambda: rlvr.PromptSet([0.2]).update_table(1), "G must"),
])
def test_bad_input(call, words):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    assert words in str(err.value)
