"""Numba kernel of the finite-``d`` judge simulation (private; the checked entry point is
:func:`alignsim.mc.simulate_judge`).

One trial = one teacher, one training set, one judge vector, ``n_test`` test inputs, ``k`` posterior-predictive
samples per input and one selection per input. Trials are independent and each has its own xoshiro256** stream,
so the kernel runs trials in parallel and the result depends on the seed only.

Normals come from a 128-layer ziggurat on the stream's 64-bit outputs (one output per normal in ~98 % of draws).
The posterior is formed from the Cholesky factor of :math:`K+\\lambda I`, so the predictive variance of a test
input is :math:`\\sigma^2(1+\\|L^{-1}x\\|^2)`; the products, the factorisation and the solves are
plain loops (BLAS called from parallel threads starts threads of its own and oversubscribes the cores); the
factorisation and the solves use ``fastmath`` so LLVM vectorises their reductions (results stay reproducible for
a given build, whatever the thread count).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._rng import step, to_double

#: judge families (codes shared with the wrapper)
SCALE, MODEL_AWARE = 0, 1


def _ziggurat_tables(layers: int = 128, r: float = 3.442619855899, v: float = 9.91256303526217e-3):
    """Layer edges ``x`` and ratios ``x[i+1] / x[i]`` of the 128-layer normal ziggurat (Marsaglia and Tsang 2000,
    Doornik's ZIGNOR layout: layer 0 is the base strip with the tail)."""
    x = np.zeros(layers + 1)
    f = math.exp(-0.5 * r * r)
    x[0], x[1] = v / f, r
    for i in range(2, layers):
        x[i] = math.sqrt(-2.0 * math.log(v / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    return x, x[1:] / x[:-1]


_ZIG_X, _ZIG_RATIO = _ziggurat_tables()
_ZIG_TAIL = 3.442619855899


@nb.njit(inline="always")
def _normal(s0, s1, s2, s3):
    """One standard normal by the ziggurat: one 64-bit output gives the layer (low 7 bits) and a signed uniform
    (top 53 bits); about 98 % of draws return from the rectangle test without a transcendental (the Box-Muller
    transform's log/sqrt/sincos made normals the simulation's bottleneck)."""
    while True:
        a, s0, s1, s2, s3 = step(s0, s1, s2, s3)
        i = np.int64(a & np.uint64(127))
        u = 2.0 * to_double(a) - 1.0
        if abs(u) < _ZIG_RATIO[i]:
            return u * _ZIG_X[i], s0, s1, s2, s3
        if i == 0:  # the tail beyond R (Marsaglia 1964)
            while True:
                b, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                c, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                x = math.log(1.0 - to_double(b)) / _ZIG_TAIL
                y = math.log(1.0 - to_double(c))
                if -2.0 * y >= x * x:
                    return (x - _ZIG_TAIL if u < 0 else _ZIG_TAIL - x), s0, s1, s2, s3
        x = u * _ZIG_X[i]
        f0 = math.exp(-0.5 * (_ZIG_X[i] * _ZIG_X[i] - x * x))
        f1 = math.exp(-0.5 * (_ZIG_X[i + 1] * _ZIG_X[i + 1] - x * x))
        b, s0, s1, s2, s3 = step(s0, s1, s2, s3)
        if f1 + to_double(b) * (f0 - f1) < 1.0:
            return x, s0, s1, s2, s3


@nb.njit(inline="always")
def _fill_normal(out, scale, s0, s1, s2, s3):
    for i in range(out.size):
        z, s0, s1, s2, s3 = _normal(s0, s1, s2, s3)
        out[i] = scale * z
    return s0, s1, s2, s3


@nb.njit(cache=True, fastmath=True)
def _cholesky(A):
    """Lower Cholesky factor of a symmetric positive-definite matrix given by its lower triangle (in place)."""
    d = A.shape[0]
    for j in range(d):
        acc = A[j, j]
        for p in range(j):
            acc -= A[j, p] * A[j, p]
        A[j, j] = math.sqrt(acc)
        for i in range(j + 1, d):
            acc = A[i, j]
            for p in range(j):
                acc -= A[i, p] * A[j, p]
            A[i, j] = acc / A[j, j]
    return A


@nb.njit(cache=True, fastmath=True)
def _forward(L, b, out):
    """Solve L out = b for lower-triangular L."""
    d = b.size
    for i in range(d):
        acc = b[i]
        for j in range(i):
            acc -= L[i, j] * out[j]
        out[i] = acc / L[i, i]


@nb.njit(cache=True, fastmath=True)
def _backward(L, b, out):
    """Solve L^T out = b for lower-triangular L."""
    d = b.size
    for i in range(d - 1, -1, -1):
        acc = b[i]
        for j in range(i + 1, d):
            acc -= L[j, i] * out[j]
        out[i] = acc / L[i, i]


@nb.njit(inline="always")
def _select(cand, k, target, T, u, weight):
    """Index selected among ``cand[:k]`` for the judge target: the closest (``T = 0``) or the softmax draw of
    ``exp(-(c - target)^2 / T)`` with uniform ``u`` (inverse CDF, max-shifted; ``weight`` is scratch)."""
    best = 0
    for i in range(1, k):
        if abs(cand[i] - target) < abs(cand[best] - target):
            best = i
    if T == 0.0:
        return best
    lo = (cand[best] - target) ** 2
    total = 0.0
    for i in range(k):
        weight[i] = math.exp(-((cand[i] - target) ** 2 - lo) / T)
        total += weight[i]
    goal = u * total
    run = 0.0
    for i in range(k):
        run += weight[i]
        if run > goal:
            return i
    return k - 1


@nb.njit(cache=True, parallel=True)
def judge_trials(d, n, sigma2, lam, S2, tau2, family, judge_param, judge_noise, k, T, n_test, states):
    """Per trial: mean over test inputs of the selected sample's squared error against the clean teacher output,
    of mu^2 and of s^2; shape ``(trials, 3)``."""
    trials = states.shape[0]
    out = np.empty((trials, 3))
    sx = math.sqrt(S2 / d)
    sigma = math.sqrt(sigma2)
    for t in nb.prange(trials):
        s0, s1, s2, s3 = states[t, 0], states[t, 1], states[t, 2], states[t, 3]
        w_t = np.empty(d)
        s0, s1, s2, s3 = _fill_normal(w_t, math.sqrt(tau2), s0, s1, s2, s3)
        X = np.empty((n, d))
        s0, s1, s2, s3 = _fill_normal(X.reshape(-1), sx, s0, s1, s2, s3)
        eta = np.empty(n)
        s0, s1, s2, s3 = _fill_normal(eta, sigma, s0, s1, s2, s3)
        # no BLAS/LAPACK inside the parallel loop: their own threads would oversubscribe the cores (3x slower)
        A = np.zeros((d, d))
        rhs = np.zeros(d)
        for r in range(n):
            xr = X[r]
            y_r = eta[r]
            for i in range(d):
                y_r += xr[i] * w_t[i]
            for i in range(d):
                rhs[i] += xr[i] * y_r
                xi = xr[i]
                for j in range(i + 1):
                    A[i, j] += xi * xr[j]
        for i in range(d):
            A[i, i] += lam
        L = _cholesky(A)
        tmp = np.empty(d)
        w_post = np.empty(d)
        _forward(L, rhs, tmp)
        _backward(L, tmp, w_post)
        w_r = np.empty(d)
        s0, s1, s2, s3 = _fill_normal(w_r, math.sqrt(judge_noise), s0, s1, s2, s3)
        if family == SCALE:
            for i in range(d):
                w_r[i] += (1.0 + judge_param) * w_t[i]
        x = np.empty(d)
        z = np.empty(d)
        cand = np.empty(k)
        weight = np.empty(k)
        acc_err = 0.0
        acc_mu = 0.0
        acc_s2 = 0.0
        for _ in range(n_test):
            s0, s1, s2, s3 = _fill_normal(x, sx, s0, s1, s2, s3)
            y_t = 0.0
            m = 0.0
            noise_r = 0.0
            for i in range(d):
                y_t += w_t[i] * x[i]
                m += w_post[i] * x[i]
                noise_r += w_r[i] * x[i]
            _forward(L, x, z)
            var = sigma2 * (1.0 + np.dot(z, z))
            if family == SCALE:
                y_r = noise_r
            else:  # rho = -c mu (+ the judge's own noise)
                y_r = y_t - judge_param * (m - y_t) + noise_r
            s0, s1, s2, s3 = _fill_normal(cand, math.sqrt(var), s0, s1, s2, s3)
            for i in range(k):
                cand[i] += m
            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
            pick = _select(cand, k, y_r, T, to_double(u), weight)
            e = cand[pick] - y_t
            acc_err += e * e
            acc_mu += (m - y_t) ** 2
            acc_s2 += var
        out[t, 0] = acc_err / n_test
        out[t, 1] = acc_mu / n_test
        out[t, 2] = acc_s2 / n_test
    return out


@nb.njit(cache=True, parallel=True)
def point_selections(k, T, mu, rho, s, size, states, block):
    """``size`` selected offsets U_sel at one test point: k draws of N(mu, s^2), judge target rho."""
    out = np.empty(size)
    for b in nb.prange(states.shape[0]):
        s0, s1, s2, s3 = states[b, 0], states[b, 1], states[b, 2], states[b, 3]
        cand = np.empty(k)
        weight = np.empty(k)
        for i in range(b * block, min(size, (b + 1) * block)):
            s0, s1, s2, s3 = _fill_normal(cand, s, s0, s1, s2, s3)
            for j in range(k):
                cand[j] += mu
            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
            out[i] = cand[_select(cand, k, rho, T, to_double(u), weight)]
    return out
