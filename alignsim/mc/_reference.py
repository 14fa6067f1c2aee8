"""Plain numpy implementations of the Monte-Carlo kernels: references for the tests and baselines for the
benchmarks.

The ``*_from_raw`` functions consume given raw 64-bit generator outputs in the kernels' order, so they reproduce
the kernels bit for bit; the others are what a user would write with numpy alone (``Generator.choice`` and ``(M, N)`` arrays),
equal to the kernels in distribution.
"""

from __future__ import annotations

import numpy as np


def alias_from_raw(table, u):
    """Alias-table draws from raw 64-bit outputs ``u`` (any shape): column ``u >> shift``, coin ``u & mask``."""
    j = (u >> table.shift).astype(np.int64)
    return np.where((u & table.mask) < table.threshold[j], j, table.alias[j])


def token_rewards_from_raw(table, r, u):
    """Sequence rewards from raw outputs of shape ``(size, length)``, summed token by token (the kernel's order)."""
    tokens = alias_from_raw(table, u)
    acc = np.zeros(u.shape[0])
    for t in range(u.shape[1]):
        acc = acc + r[tokens[:, t]]
    return acc


def token_rewards_numpy(p, r, length, size, rng, chunk=16_384):
    """Baseline: ``rng.choice`` of a ``(chunk, length)`` token array, reward lookup, sum; chunked."""
    out = np.empty(size)
    for start in range(0, size, chunk):
        m = min(chunk, size - start)
        out[start:start + m] = r[rng.choice(p.size, size=(m, length), p=p)].sum(axis=1)
    return out


def naive_bon_numpy(p, r, n, size, rng, worst=False):
    """Baseline: an ``(size, n)`` array of draws; best (worst) reward per row, ties broken by a uniform key."""
    idx = rng.choice(p.size, size=(size, n), p=p)
    vals = (-1.0 if worst else 1.0) * r[idx]
    best = vals.max(axis=1, keepdims=True)
    keys = np.where(vals == best, rng.random((size, n)), -1.0)
    return idx[np.arange(size), keys.argmax(axis=1)]


def soft_bon_numpy(p, r, n, beta, size, rng):
    """Baseline soft best-of-N: ``(size, n)`` draws, selection by Gumbel-max on ``r / beta``."""
    idx = rng.choice(p.size, size=(size, n), p=p)
    scores = r[idx] / beta + rng.gumbel(size=(size, n))
    return idx[np.arange(size), scores.argmax(axis=1)]


def grpo_train_numpy(theta0, r, ref, beta, eta, steps, G, n_runs, rng, ddof=1, eps=0.0):
    """Baseline: the same stochastic GRPO training, vectorised over runs with numpy (one group per run and step)."""
    th = np.tile(np.asarray(theta0, dtype=float), (n_runs, 1))
    k = th.shape[1]
    rows = np.arange(n_runs)[:, None]
    for _ in range(steps):
        z = np.exp(th - th.max(axis=1, keepdims=True))
        pi = z / z.sum(axis=1, keepdims=True)
        cdf = np.cumsum(pi, axis=1)
        cdf[:, -1] = 1.0
        u = rng.random((n_runs, G))
        idx = (u[:, :, None] >= cdf[:, None, :]).sum(axis=2)
        rew = r[idx]
        spread = rew.max(axis=1) > rew.min(axis=1)
        sd = rew.std(axis=1, ddof=ddof)
        adv = np.where(spread[:, None], (rew - rew.mean(axis=1, keepdims=True)) / (np.where(spread, sd, 1.0)[:, None]
                                                                                     + eps), 0.0)
        c = 1.0 - ref[idx] / pi[rows, idx]
        coef = adv - beta * c
        grad = np.zeros((n_runs, k))
        np.add.at(grad, (np.repeat(np.arange(n_runs), G), idx.ravel()), coef.ravel())
        th = th + eta * (grad - pi * coef.sum(axis=1, keepdims=True)) / G
    z = np.exp(th - th.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def judge_trials_numpy(d, n, sigma2, lam, S2, tau2, model_aware, judge_param, judge_noise, k, T, n_test, trials,
                       rng):
    """Baseline of :func:`alignsim.mc._judge.judge_trials`: the same simulation vectorised over trials with numpy
    (batched ``matmul``/``cholesky``/``solve``); returns per-trial means of the error, mu^2 and s^2."""
    sx = np.sqrt(S2 / d)
    w_t = rng.normal(scale=np.sqrt(tau2), size=(trials, d))
    X = rng.normal(scale=sx, size=(trials, n, d))
    y = np.einsum("tnd,td->tn", X, w_t) + rng.normal(scale=np.sqrt(sigma2), size=(trials, n))
    A = np.swapaxes(X, 1, 2) @ X + lam * np.eye(d)
    L = np.linalg.cholesky(A)
    w_post = np.linalg.solve(A, np.einsum("tnd,tn->td", X, y)[..., None])[..., 0]
    w_r = rng.normal(scale=np.sqrt(judge_noise), size=(trials, d))
    if not model_aware:
        w_r = w_r + (1.0 + judge_param) * w_t
    x = rng.normal(scale=sx, size=(trials, n_test, d))
    y_t = np.einsum("tmd,td->tm", x, w_t)
    m = np.einsum("tmd,td->tm", x, w_post)
    z = np.linalg.solve(L, np.swapaxes(x, 1, 2))
    var = sigma2 * (1.0 + np.sum(z * z, axis=1))
    y_r = np.einsum("tmd,td->tm", x, w_r)
    if model_aware:
        y_r = y_r + y_t - judge_param * (m - y_t)
    cand = m[..., None] + np.sqrt(var)[..., None] * rng.normal(size=(trials, n_test, k))
    dist2 = (cand - y_r[..., None]) ** 2
    if T == 0.0:
        pick = np.argmin(dist2, axis=2)
    else:
        w = np.exp(-(dist2 - dist2.min(axis=2, keepdims=True)) / T)
        cdf = np.cumsum(w, axis=2)
        u = rng.random(size=(trials, n_test, 1)) * cdf[..., -1:]
        pick = np.minimum((cdf <= u).sum(axis=2), k - 1)
    sel = np.take_along_axis(cand, pick[..., None], axis=2)[..., 0]
    return np.stack([((sel - y_t) ** 2).mean(axis=1), ((m - y_t) ** 2).mean(axis=1), var.mean(axis=1)], axis=1)


def markov_sequences_numpy(lm, size, rng):
    """(rewards, lengths) of ``size`` sequences of a Markov LM: one vectorised inverse-CDF draw per step for every
    sequence still running (stationary or step-dependent chain, optional end token)."""
    v = lm.initial.size
    y = np.minimum(np.searchsorted(np.cumsum(lm.initial), rng.random(size), side="right"), v - 1)
    reward, length = lm.rewards[y].copy(), np.ones(size, np.int64)
    live = y != lm.eos if lm.eos is not None else np.ones(size, bool)
    for t in range(1, lm.length):
        idx = np.flatnonzero(live)
        if idx.size == 0:
            break
        cdf = np.cumsum(lm.transition if lm.transition.ndim == 2 else lm.transition[t - 1], axis=1)
        nxt = np.minimum((cdf[y[idx]] <= rng.random(idx.size)[:, None]).sum(axis=1), v - 1)
        y[idx] = nxt
        reward[idx] += lm.rewards[nxt]
        length[idx] += 1
        if lm.eos is not None:
            live[idx] = nxt != lm.eos
    return reward, length
