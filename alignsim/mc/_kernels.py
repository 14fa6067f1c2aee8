"""Numba Monte-Carlo kernels. Private: the checked entry points are in :mod:`alignsim.mc`.

Every kernel takes the per-block xoshiro256** states of :mod:`alignsim.mc._rng` and a block size; block ``b``
writes outputs ``[b * block, (b + 1) * block)`` with its own stream, so results depend on the seed only, never on
the thread count.

Categorical draws use an **integer alias table** (Walker/Vose) padded to ``2^bits`` columns: one 64-bit output
``u`` gives the column ``u >> (64 - bits)`` and the coin ``u & (2^(64 - bits) - 1)``, compared with an integer
threshold. No float conversion is needed (a uint64-to-double conversion costs several instructions on x86), and
the coin resolution is ``2^-(64 - bits)``, finer than a 53-bit double would give. For sequence rewards the kernels
look up the reward of the kept column and of its alias directly, which removes a dependent load per token.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ._rng import step, to_double


class AliasTable(NamedTuple):
    """Integer alias table over ``2^bits`` columns (``bits >= 1``); see the module notes."""

    threshold: np.ndarray  # uint64[2^bits]: keep column j when the coin is below threshold[j]
    alias: np.ndarray  # int64[2^bits]
    shift: np.uint64  # 64 - bits
    mask: np.uint64  # 2^(64 - bits) - 1


def alias_table(probs: np.ndarray) -> AliasTable:
    """Vose's alias table for a probability vector, padded with zero-probability columns to a power of two.

    Column ``j`` is kept with probability ``threshold[j] / 2^(64 - bits)`` and otherwise replaced by
    ``alias[j]``; a column whose outcome has zero probability is never kept (and padding columns are outcomes of
    probability zero).
    """
    k = probs.size
    bits = max(1, int(np.ceil(np.log2(k))))
    cols = 1 << bits
    padded = np.zeros(cols)
    padded[:k] = probs / probs.sum()
    return alias_from_scaled(padded, padded * cols)


def alias_from_scaled(padded: np.ndarray, scaled: np.ndarray) -> AliasTable:
    """Vose's pairing of the scaled masses ``scaled = padded * cols`` into an :class:`AliasTable`.

    In exact arithmetic every column is paired before the large list empties; rounding can leave columns over,
    which are kept with probability one. A zero-probability column must never be one of them (it would be
    sampled), so any left over is pointed at the largest column instead.
    """
    cols = scaled.size
    bits = cols.bit_length() - 1
    scaled = scaled.copy()
    prob = np.zeros(cols)
    alias = np.arange(cols, dtype=np.int64)
    small = [i for i in range(cols) if scaled[i] < 1.0]
    large = [i for i in range(cols) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    for i in large + small:  # leftovers are 1 up to rounding
        prob[i] = 1.0
        alias[i] = i
    zero = padded == 0
    fix = zero & (alias == np.arange(cols))  # a leftover zero-probability column must never be returned
    prob[fix], alias[fix] = 0.0, int(np.argmax(padded))
    coin_bits = 64 - bits
    threshold = np.array([min(int(round(x * 2.0 ** coin_bits)), 1 << coin_bits) for x in prob], dtype=np.uint64)
    return AliasTable(threshold, alias, np.uint64(coin_bits), np.uint64((1 << coin_bits) - 1))


@nb.njit(inline="always")
def _draw(thr, alias, shift, mask, s0, s1, s2, s3):
    """One alias-table draw; returns ``(index, s0, s1, s2, s3)``."""
    u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
    j = u >> shift
    return (np.int64(j) if (u & mask) < thr[j] else alias[j]), s0, s1, s2, s3


@nb.njit(inline="always")
def _draw_reward(thr, r_keep, r_alt, shift, mask, s0, s1, s2, s3):
    """The reward of one alias-table draw (``r_keep[j]`` or ``r_alt[j] = r[alias[j]]``)."""
    u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
    j = u >> shift
    return (r_keep[j] if (u & mask) < thr[j] else r_alt[j]), s0, s1, s2, s3


@nb.njit(inline="always")
def _uniform(s0, s1, s2, s3):
    u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
    return to_double(u), s0, s1, s2, s3


@nb.njit(cache=True, parallel=True)
def alias_sample(thr, alias, shift, mask, size, states, block):
    """``size`` i.i.d. indices from the alias table."""
    out = np.empty(size, np.int64)
    for b in nb.prange(states.shape[0]):
        s0, s1, s2, s3 = states[b, 0], states[b, 1], states[b, 2], states[b, 3]
        for i in range(b * block, min(size, (b + 1) * block)):
            out[i], s0, s1, s2, s3 = _draw(thr, alias, shift, mask, s0, s1, s2, s3)
    return out


@nb.njit(cache=True, parallel=True)
def token_rewards(thr, r_keep, r_alt, shift, mask, length, size, states, block):
    """Summed rewards of ``size`` sequences of ``length`` i.i.d. tokens (no ``size x length`` array)."""
    out = np.empty(size)
    for b in nb.prange(states.shape[0]):
        s0, s1, s2, s3 = states[b, 0], states[b, 1], states[b, 2], states[b, 3]
        for i in range(b * block, min(size, (b + 1) * block)):
            acc = 0.0
            for _ in range(length):
                v, s0, s1, s2, s3 = _draw_reward(thr, r_keep, r_alt, shift, mask, s0, s1, s2, s3)
                acc += v
            out[i] = acc
    return out


@nb.njit(cache=True, parallel=True)
def token_counts(thr, alias, shift, mask, length, size, states, block):
    """Token counts (``size x columns``) of ``size`` sequences; the same draws as :func:`token_rewards`."""
    out = np.zeros((size, thr.size), np.int64)
    for b in nb.prange(states.shape[0]):
        s0, s1, s2, s3 = states[b, 0], states[b, 1], states[b, 2], states[b, 3]
        for i in range(b * block, min(size, (b + 1) * block)):
            for _ in range(length):
                j, s0, s1, s2, s3 = _draw(thr, alias, shift, mask, s0, s1, s2, s3)
                out[i, j] += 1
    return out


@nb.njit(cache=True, parallel=True)
def naive_best_of_n(thr, alias, shift, mask, r, n, size, states, block, worst):
    """Best-of-``n`` (or worst-of-``n``) by simulation on a bandit: ``n`` draws, keep the best, ties broken
    uniformly at random by reservoir sampling (the k-th tied candidate replaces the choice with probability
    1/k). Returns outcome indices; memory is independent of ``n``."""
    out = np.empty(size, np.int64)
    sign = -1.0 if worst else 1.0
    for b in nb.prange(states.shape[0]):
        s0, s1, s2, s3 = states[b, 0], states[b, 1], states[b, 2], states[b, 3]
        for i in range(b * block, min(size, (b + 1) * block)):
            choice, s0, s1, s2, s3 = _draw(thr, alias, shift, mask, s0, s1, s2, s3)
            best = sign * r[choice]
            ties = 1
            for _ in range(n - 1):
                j, s0, s1, s2, s3 = _draw(thr, alias, shift, mask, s0, s1, s2, s3)
                v = sign * r[j]
                if v > best:
                    best, choice, ties = v, j, 1
                elif v == best:
                    ties += 1
                    u, s0, s1, s2, s3 = _uniform(s0, s1, s2, s3)
                    if u * ties < 1.0:
                        choice = j
            out[i] = choice
    return out


@nb.njit(cache=True, parallel=True)
def naive_best_of_n_sequences(thr, r_keep, r_alt, shift, mask, length, n, size, states, block, worst):
    """Best-of-``n`` (or worst) over whole sequences of a memoryless LM: returns the selected sequence reward.
    Memory is independent of ``n`` and ``length`` (ties among sequences do not change the reward)."""
    out = np.empty(size)
    sign = -1.0 if worst else 1.0
    for b in nb.prange(states.shape[0]):
        s0, s1, s2, s3 = states[b, 0], states[b, 1], states[b, 2], states[b, 3]
        for i in range(b * block, min(size, (b + 1) * block)):
            best = -np.inf
            for _ in range(n):
                acc = 0.0
                for _t in range(length):
                    v, s0, s1, s2, s3 = _draw_reward(thr, r_keep, r_alt, shift, mask, s0, s1, s2, s3)
                    acc += v
                if sign * acc > best:
                    best = sign * acc
            out[i] = sign * best
    return out


@nb.njit(cache=True, parallel=True)
def soft_best_of_n(thr, alias, shift, mask, r, n, beta, size, states, block):
    """Soft best-of-``n`` by simulation on a bandit: select draw ``i`` with probability ``∝ exp(r_i / beta)``
    (single pass: a running weighted reservoir, weights shifted by the running maximum)."""
    out = np.empty(size, np.int64)
    for b in nb.prange(states.shape[0]):
        s0, s1, s2, s3 = states[b, 0], states[b, 1], states[b, 2], states[b, 3]
        for i in range(b * block, min(size, (b + 1) * block)):
            choice, s0, s1, s2, s3 = _draw(thr, alias, shift, mask, s0, s1, s2, s3)
            top = r[choice] / beta
            total = 1.0
            for _ in range(n - 1):
                j, s0, s1, s2, s3 = _draw(thr, alias, shift, mask, s0, s1, s2, s3)
                v = r[j] / beta
                if v > top:
                    total = total * np.exp(top - v)
                    top = v
                w = np.exp(v - top)
                total += w
                u, s0, s1, s2, s3 = _uniform(s0, s1, s2, s3)
                if u * total < w:
                    choice = j
            out[i] = choice
    return out


# -----------------------------------------------------------------------------------------------------------------
# GRPO on a softmax bandit
# -----------------------------------------------------------------------------------------------------------------
@nb.njit(inline="always")
def _grpo_advantages(rew, ddof, eps, adv):
    """Group-normalised advantages into ``adv``; returns False for a zero-variance group (no update)."""
    g = rew.size
    lo, hi, mean = rew[0], rew[0], 0.0
    for i in range(g):
        lo = min(lo, rew[i])
        hi = max(hi, rew[i])
        mean += rew[i]
    if hi == lo:
        return False
    mean /= g
    var = 0.0
    for i in range(g):
        var += (rew[i] - mean) ** 2
    sd = np.sqrt(var / (g - ddof))
    for i in range(g):
        adv[i] = (rew[i] - mean) / (sd + eps)
    return True


@nb.njit(cache=True, parallel=True)
def grpo_update_sums(thr, alias, shift, mask, r, pi, group, ddof, eps, size, states, block):
    """Per-block sums (and sums of squares) of the one-step GRPO update (1/G) sum_i A_i (e_{y_i} - pi) over
    ``size`` sampled groups."""
    k = pi.size
    nblocks = states.shape[0]
    sums = np.zeros((nblocks, k))
    sq = np.zeros((nblocks, k))
    for b in nb.prange(nblocks):
        s0, s1, s2, s3 = states[b, 0], states[b, 1], states[b, 2], states[b, 3]
        idx = np.empty(group, np.int64)
        rew = np.empty(group)
        adv = np.empty(group)
        upd = np.empty(k)
        for _ in range(b * block, min(size, (b + 1) * block)):
            for i in range(group):
                idx[i], s0, s1, s2, s3 = _draw(thr, alias, shift, mask, s0, s1, s2, s3)
                rew[i] = r[idx[i]]
            upd[:] = 0.0
            if _grpo_advantages(rew, ddof, eps, adv):
                total = 0.0
                for i in range(group):
                    upd[idx[i]] += adv[i] / group
                    total += adv[i]
                for a in range(k):
                    upd[a] -= pi[a] * total / group
            for a in range(k):
                sums[b, a] += upd[a]
                sq[b, a] += upd[a] * upd[a]
    return sums, sq


@nb.njit(inline="always")
def _softmax_cdf(th, pi, cdf):
    """pi = softmax(th) and its CDF, in place; the last CDF entry is exactly 1 (inverse-CDF guard)."""
    k = th.size
    m = th.max()
    z = 0.0
    for a in range(k):
        pi[a] = np.exp(th[a] - m)
        z += pi[a]
    acc = 0.0
    for a in range(k):
        pi[a] /= z
        acc += pi[a]
        cdf[a] = acc
    cdf[k - 1] = 1.0


@nb.njit(inline="always")
def _draw_cdf(cdf, s0, s1, s2, s3):
    """Inverse-CDF draw (linear search; the training kernels have few arms)."""
    u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
    x = to_double(u)
    j = 0
    while cdf[j] <= x:
        j += 1
    return j, s0, s1, s2, s3


@nb.njit(cache=True, parallel=True)
def grpo_train(theta0, r, ref, beta, eta, steps, group, ddof, eps, states):
    """Stochastic GRPO training, one independent run per row of ``theta0`` (its own stream): each step samples a
    group by inverse CDF, applies theta += eta * [(1/G) sum_i A_i s_i - beta (1/G) sum_i (1 - rho_i) s_i]
    (k3 as a loss, GRPO's placement) and returns the final logits."""
    runs, k = theta0.shape
    out = np.empty((runs, k))
    for run in nb.prange(runs):
        s0, s1, s2, s3 = states[run, 0], states[run, 1], states[run, 2], states[run, 3]
        th = theta0[run].copy()
        pi = np.empty(k)
        cdf = np.empty(k)
        idx = np.empty(group, np.int64)
        rew = np.empty(group)
        adv = np.empty(group)
        grad = np.empty(k)
        for _ in range(steps):
            _softmax_cdf(th, pi, cdf)
            for i in range(group):
                idx[i], s0, s1, s2, s3 = _draw_cdf(cdf, s0, s1, s2, s3)
                rew[i] = r[idx[i]]
            grad[:] = 0.0
            total = 0.0
            if _grpo_advantages(rew, ddof, eps, adv):
                for i in range(group):
                    grad[idx[i]] += adv[i]
                    total += adv[i]
            kl_total = 0.0
            for i in range(group):
                c = 1.0 - ref[idx[i]] / pi[idx[i]]  # d k3 / d ell = 1 - rho
                grad[idx[i]] -= beta * c
                kl_total -= beta * c
            for a in range(k):
                th[a] += eta * (grad[a] - pi[a] * (total + kl_total)) / group
        out[run] = th
    return out


@nb.njit(inline="always")
def _kl_coefficient(kind, placement, ell):
    """Per-sample coefficient f of f(y) s_y for an on-policy KL placement (kind 1..3 = k1..k3; placement 0 reward,
    1 loss, 2 straight-through); the same table as alignsim._estimator_values.coefficient."""
    if placement == 2:
        return ell
    if kind == 1:
        k, dk = ell, 1.0
    elif kind == 2:
        k, dk = 0.5 * ell * ell, ell
    else:
        k, dk = np.expm1(-ell) + ell, -np.expm1(-ell)
    return k if placement == 0 else dk


@nb.njit(cache=True, parallel=True)
def pg_train(theta0, r, ref, beta, eta, steps, n_samples, rloo, kind, placement, states):
    """Stochastic REINFORCE training on a softmax bandit, one independent run per row of ``theta0``: each step draws
    ``n_samples`` arms, uses the leave-one-out (``rloo``) or group-mean baseline, adds the sampled KL term of the given
    on-policy placement, and applies theta += eta * (1/N) sum_i [(R_i - b_i) - beta f(y_i)] s_{y_i}. Returns the
    final logits."""
    runs, k = theta0.shape
    out = np.empty((runs, k))
    for run in nb.prange(runs):
        s0, s1, s2, s3 = states[run, 0], states[run, 1], states[run, 2], states[run, 3]
        th = theta0[run].copy()
        pi = np.empty(k)
        cdf = np.empty(k)
        idx = np.empty(n_samples, np.int64)
        grad = np.empty(k)
        for _ in range(steps):
            _softmax_cdf(th, pi, cdf)
            total_r = 0.0
            for i in range(n_samples):
                idx[i], s0, s1, s2, s3 = _draw_cdf(cdf, s0, s1, s2, s3)
                total_r += r[idx[i]]
            grad[:] = 0.0
            total = 0.0
            for i in range(n_samples):
                j = idx[i]
                base = (total_r - r[j]) / (n_samples - 1) if rloo else total_r / n_samples
                ell = np.log(pi[j]) - np.log(ref[j])
                c = (r[j] - base) - beta * _kl_coefficient(kind, placement, ell)
                grad[j] += c
                total += c
            for a in range(k):
                th[a] += eta * (grad[a] - pi[a] * total) / n_samples
        out[run] = th
    return out


@nb.njit(inline="always")
def _search(cdf_row, x):
    """The first index with ``cdf_row[j] > x`` (binary search; a zero-probability token repeats its left
    neighbour's CDF value and is never returned)."""
    lo, hi = 0, cdf_row.size - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if cdf_row[mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo


@nb.njit(cache=True, parallel=True)
def markov_sequences(cdf0, cdf, r, eos, length, size, states, block):
    """``(rewards, lengths)`` of ``size`` sequences of a Markov LM: first token from ``cdf0``, then row ``y`` of
    ``cdf[t - 1]`` (or of ``cdf[0]`` for a stationary chain), stopping at ``eos`` (``-1``: none) or ``length``."""
    rewards = np.empty(size)
    lengths = np.empty(size, np.int64)
    stationary = cdf.shape[0] == 1
    for b in nb.prange(states.shape[0]):
        s0, s1, s2, s3 = states[b, 0], states[b, 1], states[b, 2], states[b, 3]
        for i in range(b * block, min(size, (b + 1) * block)):
            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
            y = _search(cdf0, to_double(u))
            acc = r[y]
            t = 1
            while t < length and y != eos:
                u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                y = _search(cdf[0 if stationary else t - 1, y], to_double(u))
                acc += r[y]
                t += 1
            rewards[i] = acc
            lengths[i] = t
    return rewards, lengths
