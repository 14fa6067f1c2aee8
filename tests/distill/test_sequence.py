"""Sequence-level divergences against brute force over every sequence (itertools), and the chain rule."""

import itertools
import math

import numpy as np
import pytest

import alignsim as a
from alignsim import distill
from alignsim.markov import MarkovLM

RNG = np.random.default_rng(8)


def _chain(length=4, eos=2):
    return MarkovLM(RNG.dirichlet(np.ones(3)), RNG.dirichlet(np.ones(3), size=(length - 1, 3)), [0.0, 1.0, 2.0],
                    length, eos=eos)


def _brute(lm):
    """{sequence: probability} of every complete sequence."""
    out = {}
    for n in range(1, lm.length + 1):
        for seq in itertools.product(range(3), repeat=n):
            if (lm.eos is not None and lm.eos in seq[:-1]) or (n < lm.length and seq[-1] != lm.eos):
                continue
            out[seq] = lm.initial[seq[0]] * math.prod(lm.transition[t - 1][seq[t - 1], seq[t]] for t in range(1, n))
    return out


@pytest.mark.parametrize("kind, params", [("tv", {}), ("js", {}), ("gkd_jsd", {"beta": 0.3}),
                                          ("skew_forward", {"alpha": 0.2}), ("skew_reverse", {"alpha": 0.2})])
def test_enumerated_kinds_match_brute_force(kind, params):
    s, t = _chain(), _chain()
    bs, bt = _brute(s), _brute(t)
    keys = sorted(bs)
    want = distill.divergence(np.array([bs[k] for k in keys]), np.array([bt[k] for k in keys]), kind, **params)
    assert distill.sequence_divergence(s, t, kind, **params) == pytest.approx(want, rel=1e-12)


def test_chain_rule_kinds_match_brute_force_and_memoryless_scaling():
    s, t = _chain(), _chain()
    bs, bt = _brute(s), _brute(t)
    rev = math.fsum(p * math.log(p / bt[k]) for k, p in bs.items() if p > 0)
    fwd = math.fsum(p * math.log(p / bs[k]) for k, p in bt.items() if p > 0)
    assert distill.sequence_divergence(s, t, "reverse_kl") == pytest.approx(rev, rel=1e-12)
    assert distill.sequence_divergence(s, t, "forward_kl") == pytest.approx(fwd, rel=1e-12)
    m1, m2 = a.MemorylessLM([0.5, 0.3, 0.2], [0, 1, 2], 30), a.MemorylessLM([0.2, 0.3, 0.5], [0, 1, 2], 30)
    assert distill.sequence_divergence(m1, m2, "forward_kl") == pytest.approx(
        30 * distill.divergence([0.5, 0.3, 0.2], [0.2, 0.3, 0.5], "forward_kl"), rel=1e-13)


def test_bad_input():
    dense = [MarkovLM(RNG.dirichlet(np.ones(4)), RNG.dirichlet(np.ones(4), size=4), [0, 1, 2, 3], 40)
             for _ in range(2)]  # 20 distinct ratios: too many groups, and 4^40 sequences
    with pytest.raises(ValueError, match="groups of sequences .* and more than 200000 complete sequences"):
        distill.sequence_divergence(*dense, "tv")
    with pytest.raises(ValueError, match="multinomial types"):
        distill.sequence_divergence(a.MemorylessLM(np.full(50, 0.02), np.arange(50), 10 ** 5),
                                    a.MemorylessLM(np.full(50, 0.02), np.arange(50), 10 ** 5), "tv")
    with pytest.raises(ValueError, match="same vocabulary size, length and end token"):
        distill.sequence_divergence(_chain(4, 2), _chain(4, 1), "reverse_kl")
    with pytest.raises(TypeError, match="MarkovLM or a MemorylessLM"):
        distill.sequence_divergence([0.5, 0.5], _chain(), "reverse_kl")
    with pytest.raises(ValueError, match="kind"):
        distill.sequence_divergence(_chain(), _chain(), "wasserstein")
    with pytest.raises(TypeError, match="no parameters"):
        distill.sequence_divergence(_chain(), _chain(), "reverse_kl", beta=0.5)


@pytest.mark.parametrize("kind, params", [("tv", {}), ("js", {}), ("gkd_jsd", {"beta": 0.7}),
                                          ("skew_reverse", {"alpha": 0.3})])
def test_memoryless_pairs_by_types_equal_every_sequence(kind, params):
    """Grouping sequences by token counts leaves an f-divergence unchanged: the types path against the sequence
    path (memoryless LMs as Markov chains with identical rows), V = 3, n = 7."""
    m1, m2 = a.MemorylessLM([0.5, 0.3, 0.2], [0, 1, 2], 7), a.MemorylessLM([0.2, 0.3, 0.5], [0, 1, 2], 7)
    by_types = distill.sequence_divergence(m1, m2, kind, **params)
    chains = (MarkovLM.from_memoryless(m1.p, m1.r, 7), MarkovLM.from_memoryless(m2.p, m2.r, 7))
    assert by_types == pytest.approx(distill.sequence_divergence(*chains, kind, **params), rel=1e-12)


def test_long_memoryless_sequences_by_types():
    """n = 300 (3^300 sequences): TV between sequence laws tends to 1 as n grows; JS to log 2."""
    m1, m2 = a.MemorylessLM([0.5, 0.3, 0.2], [0, 1, 2], 300), a.MemorylessLM([0.4, 0.35, 0.25], [0, 1, 2], 300)
    tv = distill.sequence_divergence(m1, m2, "tv")
    short = distill.sequence_divergence(a.MemorylessLM([0.5, 0.3, 0.2], [0, 1, 2], 30),
                                        a.MemorylessLM([0.4, 0.35, 0.25], [0, 1, 2], 30), "tv")
    assert short < tv < 1.0 and tv > 0.9
    assert distill.sequence_divergence(m1, m2, "js") < math.log(2)


@pytest.mark.parametrize("eos", [None, 0])
def test_grouping_by_likelihood_ratio_counts_is_exact_with_zeros_and_no_end_token(eos):
    """Transitions one model cannot take (ratio 0 or inf) are groups of their own; every kind equals brute force
    over the sequences (1e-12)."""
    def chain(first_row=None):
        T = RNG.dirichlet(np.ones(3), size=3)
        T[1, 2] = 0.0  # neither model follows token 1 by token 2
        if first_row is not None:
            T[0] = first_row
        T /= T.sum(axis=1, keepdims=True)
        return MarkovLM(RNG.dirichlet(np.ones(3)), T, [0.0, 1.0, 2.0], 5, eos=eos)

    s, t = chain(), chain([0.0, 0.5, 0.5])  # the teacher never follows 0 by 0: there the student's ratio is inf
    bs, bt = _brute(MarkovLM(s.initial, np.broadcast_to(s.transition, (4, 3, 3)), s.rewards, 5, eos=eos)), \
        _brute(MarkovLM(t.initial, np.broadcast_to(t.transition, (4, 3, 3)), t.rewards, 5, eos=eos))
    keys = sorted(set(bs) | set(bt))
    for kind, params in [("tv", {}), ("js", {}), ("gkd_jsd", {"beta": 0.7}), ("skew_reverse", {"alpha": 0.3})]:
        want = distill.divergence(np.array([bs.get(k, 0.0) for k in keys]), np.array([bt.get(k, 0.0) for k in keys]),
                                  kind, **params)
        assert distill.sequence_divergence(s, t, kind, **params) == pytest.approx(want, rel=1e-12)


def test_a_long_chain_is_grouped_not_enumerated():
    """Two memoryless LMs written as chains, length 300 (2^300 sequences): the Markov grouping equals the
    memoryless token-count types (independent code) to 1e-12."""
    p, q = [0.7, 0.3], [0.4, 0.6]
    as_chains = distill.sequence_divergence(MarkovLM.from_memoryless(p, [0, 1], 300),
                                            MarkovLM.from_memoryless(q, [0, 1], 300), "js")
    as_types = distill.sequence_divergence(a.MemorylessLM(p, [0, 1], 300), a.MemorylessLM(q, [0, 1], 300), "js")
    assert as_chains == pytest.approx(as_types, rel=1e-12)
    assert 0.5 < as_types < math.log(2)
