"""Numba Monte-Carlo kernels. Private: the checked entry points are in :mod:`alignsim.mc`.

Every kernel takes the per-block xoshiro256** states of :mod:`alignsim.mc._rng` and a block size; block ``b``
writes outputs ``[b * block, (b + 1) * block)`` with its own stream, so results depend on the seed only, never on
the thread count. Categorical draws use Walker/Vose alias tables: one uniform ``u`` gives the column
``j = floor(u K)`` and the coin ``u K - j`` (resolution ``K * 2^-53``).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._rng import next_double


def alias_table(probs: np.ndarray):
    """Vose's alias table for a probability vector: ``(prob, alias)`` with ``prob`` in [0, 1].

    Column ``j`` is kept with probability ``prob[j]`` and otherwise replaced by ``alias[j]``; the last
    column of each pairing absorbs rounding, and columns of zero-probability outcomes are never kept.
    """
    k = probs.size
    scaled = probs * (k / probs.sum())
    prob = np.zeros(k)
    alias = np.arange(k, dtype=np.int64)
    small = [i for i in range(k) if scaled[i] < 1.0]
    large = [i for i in range(k) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    for i in large + small:  # leftovers are 1 up to rounding
        prob[i] = 1.0
        alias[i] = i
    # a leftover column of a zero-probability outcome must never be returned
    zero = probs == 0
    if np.any(zero & (prob > 0) & (alias == np.arange(k))):
        target = int(np.argmax(probs))
        fix = zero & (alias == np.arange(k))
        prob[fix], alias[fix] = 0.0, target
    return prob, alias


@nb.njit(inline="always")
def _draw(prob, alias, s):
    x = next_double(s) * prob.size
    j = int(x)
    if x - j < prob[j]:
        return j
    return alias[j]


@nb.njit(cache=True, parallel=True)
def alias_sample(prob, alias, size, states, block):
    """``size`` i.i.d. indices from the alias table."""
    out = np.empty(size, np.int64)
    for b in nb.prange(states.shape[0]):
        s = states[b].copy()
        for i in range(b * block, min(size, (b + 1) * block)):
            out[i] = _draw(prob, alias, s)
    return out


@nb.njit(cache=True, parallel=True)
def token_rewards(prob, alias, r, length, size, states, block):
    """Summed rewards of ``size`` sequences of ``length`` i.i.d. tokens (no ``size x length`` array)."""
    out = np.empty(size)
    for b in nb.prange(states.shape[0]):
        s = states[b].copy()
        for i in range(b * block, min(size, (b + 1) * block)):
            acc = 0.0
            for _ in range(length):
                acc += r[_draw(prob, alias, s)]
            out[i] = acc
    return out


@nb.njit(cache=True, parallel=True)
def token_counts(prob, alias, length, size, states, block):
    """Token counts (``size x V``) of ``size`` sequences; the same stream as :func:`token_rewards`."""
    out = np.zeros((size, prob.size), np.int64)
    for b in nb.prange(states.shape[0]):
        s = states[b].copy()
        for i in range(b * block, min(size, (b + 1) * block)):
            for _ in range(length):
                out[i, _draw(prob, alias, s)] += 1
    return out


@nb.njit(cache=True, parallel=True)
def naive_best_of_n(prob, alias, r, n, size, states, block, worst):
    """Best-of-``n`` (or worst-of-``n``) by simulation on a bandit: ``n`` draws, keep the best, ties broken
    uniformly at random by reservoir sampling (the k-th tied candidate replaces the choice with probability
    1/k). Returns outcome indices; memory is independent of ``n``."""
    out = np.empty(size, np.int64)
    sign = -1.0 if worst else 1.0
    for b in nb.prange(states.shape[0]):
        s = states[b].copy()
        for i in range(b * block, min(size, (b + 1) * block)):
            choice = _draw(prob, alias, s)
            best = sign * r[choice]
            ties = 1
            for _ in range(n - 1):
                j = _draw(prob, alias, s)
                v = sign * r[j]
                if v > best:
                    best, choice, ties = v, j, 1
                elif v == best:
                    ties += 1
                    if next_double(s) * ties < 1.0:
                        choice = j
            out[i] = choice
    return out


@nb.njit(cache=True, parallel=True)
def naive_best_of_n_sequences(prob, alias, r, length, n, size, states, block, worst):
    """Best-of-``n`` (or worst) over whole sequences of a memoryless LM: returns the selected sequence reward.
    Memory is independent of ``n`` and ``length`` (ties among sequences do not change the reward)."""
    out = np.empty(size)
    sign = -1.0 if worst else 1.0
    for b in nb.prange(states.shape[0]):
        s = states[b].copy()
        for i in range(b * block, min(size, (b + 1) * block)):
            best = -np.inf
            for _ in range(n):
                acc = 0.0
                for _t in range(length):
                    acc += r[_draw(prob, alias, s)]
                if sign * acc > best:
                    best = sign * acc
            out[i] = sign * best
    return out


@nb.njit(cache=True, parallel=True)
def soft_best_of_n(prob, alias, r, n, beta, size, states, block):
    """Soft best-of-``n`` by simulation on a bandit: select draw ``i`` with probability ``∝ exp(r_i / beta)``
    (single pass: a running weighted reservoir, weights shifted by the running maximum)."""
    out = np.empty(size, np.int64)
    for b in nb.prange(states.shape[0]):
        s = states[b].copy()
        for i in range(b * block, min(size, (b + 1) * block)):
            choice = _draw(prob, alias, s)
            top = r[choice] / beta
            total = 1.0
            for _ in range(n - 1):
                j = _draw(prob, alias, s)
                v = r[j] / beta
                if v > top:
                    total = total * np.exp(top - v)
                    top = v
                w = np.exp(v - top)
                total += w
                if next_double(s) * total < w:
                    choice = j
            out[i] = choice
    return out
