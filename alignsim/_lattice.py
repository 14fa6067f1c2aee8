"""Exact log-space convolution powers of lattice laws and multinomial-type enumeration (numba).

These kernels are deterministic and exact up to floating-point rounding of sums of positive terms (no FFT, no
sampling): they compute the reward-level law of a memoryless language model. They live outside :mod:`alignsim.mc`
because they produce exact answers, not Monte-Carlo estimates.

Log-space convolution: each operand is split into blocks whose log-values span at most ``_RANGE`` nats (and at
most ``_BLOCK`` entries); a block is shifted by its maximum and exponentiated, so its floats neither overflow nor
underflow, and products of two blocks stay above ``exp(-2 * _RANGE)``. Block pairs are convolved directly in
float and accumulated per output entry as a (log-scale, value) pair. Every mass of the result, down to
``exp(-1e5)`` and beyond, keeps the relative accuracy of its log (about ``1e-16 * |log mass|``).
"""

from __future__ import annotations

import numba as nb
import numpy as np

_RANGE = 340.0
_BLOCK = 256


@nb.njit(cache=True)
def _blocks(lx, max_range, max_len):
    n = lx.size
    starts = np.empty(n + 1, np.int64)
    scales = np.empty(n, np.float64)
    nblk = 0
    i = 0
    while i < n:
        j = i
        hi = -np.inf
        lo = np.inf
        while j < n and j - i < max_len:
            v = lx[j]
            if v > -np.inf:
                nhi = max(hi, v)
                nlo = min(lo, v)
                if nhi - nlo > max_range and j > i:
                    break
                hi = nhi
                lo = nlo
            j += 1
        starts[nblk] = i
        scales[nblk] = hi
        nblk += 1
        i = j
    starts[nblk] = n
    return starts[: nblk + 1], scales[:nblk]


@nb.njit(cache=True)
def _to_blocks(lx):
    starts, scales = _blocks(lx, _RANGE, _BLOCK)
    vals = np.zeros(lx.size)
    for i in range(scales.size):
        if scales[i] > -np.inf:
            for u in range(starts[i], starts[i + 1]):
                vals[u] = np.exp(lx[u] - scales[i])
    return starts, scales, vals


@nb.njit(cache=True)
def _log_convolve(la, lb, square):
    """Blocked log-space convolution; with ``square`` (``lb is la``) only block pairs i <= j are formed and the
    off-diagonal ones counted twice."""
    sa, ca, va = _to_blocks(la)
    if square:
        sb, cb, vb = sa, ca, va
    else:
        sb, cb, vb = _to_blocks(lb)
    nout = la.size + lb.size - 1
    out_scale = np.full(nout, -np.inf)
    out_val = np.zeros(nout)
    tmp = np.zeros(2 * _BLOCK)
    log2 = np.log(2.0)
    for i in range(ca.size):
        if ca[i] == -np.inf:
            continue
        a0, a1 = sa[i], sa[i + 1]
        for j in range(i if square else 0, cb.size):
            if cb[j] == -np.inf:
                continue
            b0, b1 = sb[j], sb[j + 1]
            s = ca[i] + cb[j]
            if square and j > i:
                s += log2
            width = (a1 - a0) + (b1 - b0) - 1
            for w in range(width):
                tmp[w] = 0.0
            for u in range(a0, a1):
                x = va[u]
                if x == 0.0:
                    continue
                off = u - a0 - b0
                for v in range(b0, b1):
                    tmp[off + v] += x * vb[v]
            base = a0 + b0
            for w in range(width):
                t = tmp[w]
                if t == 0.0:
                    continue
                k = base + w
                if out_val[k] == 0.0:
                    out_scale[k] = s
                    out_val[k] = t
                elif s <= out_scale[k]:
                    d = s - out_scale[k]
                    if d > -745.0:
                        out_val[k] += t * np.exp(d)
                else:
                    out_val[k] = out_val[k] * np.exp(out_scale[k] - s) + t
                    out_scale[k] = s
    res = np.full(nout, -np.inf)
    for k in range(nout):
        if out_val[k] > 0.0:
            res[k] = out_scale[k] + np.log(out_val[k])
    return res


def log_convolve(la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """Log of the linear convolution of two non-negative sequences given by their logs (``-inf`` for 0)."""
    return _log_convolve(la, lb, la is lb)


def log_convolution_power(log_kernel: np.ndarray, n: int) -> np.ndarray:
    """Log-masses of the ``n``-fold convolution of a lattice law (binary exponentiation, top bit first)."""
    result = np.zeros(1)
    for bit in bin(n)[2:]:
        result = log_convolve(result, result)
        if bit == "1":
            result = log_convolve(result, log_kernel)
    return result


#: Most entries ``count * m`` that :func:`checked_compositions` enumerates (int64: 400 MB).
MAX_COMPOSITION_ENTRIES = 50_000_000


def checked_compositions(n: int, m: int, name: str):
    """:func:`compositions`, after checking that the ``C(n + m - 1, m - 1)`` rows fit in memory; ``name`` is the
    argument that set ``n`` (named in the error)."""
    import math

    count = math.comb(n + m - 1, m - 1)
    if count * m > MAX_COMPOSITION_ENTRIES:
        digits = len(str(count))
        shown = f"{count:,}" if digits <= 12 else f"about 1e{digits - 1}"
        raise ValueError(f"{name} = {n} with {m} outcomes needs {shown} multinomial types, more than the "
                         f"{MAX_COMPOSITION_ENTRIES // m:,} that fit in memory; lower {name}")
    return compositions(n, m)


@nb.njit(cache=True)
def next_composition(c):
    """Advance ``c`` (non-negative integers with a fixed sum) in place to the next composition in lexicographic
    order: one unit moves from the tail to the rightmost position that can take it. ``False`` after the last."""
    m = c.size
    tail = c[m - 1]
    c[m - 1] = 0
    i = m - 2
    while i >= 0:
        if tail > 0:
            c[i] += 1
            c[m - 1] = tail - 1
            return True
        tail = c[i]
        c[i] = 0
        i -= 1
    return False


@nb.njit(cache=True)
def compositions(n, m):
    """All vectors of ``m`` non-negative integers summing to ``n``, in lexicographic order (one per row)."""
    # count = C(n + m - 1, m - 1)
    count = 1
    for i in range(1, m):
        count = count * (n + i) // i
    out = np.empty((count, m), np.int64)
    c = np.zeros(m, np.int64)
    c[m - 1] = n
    row = 0
    while True:
        for j in range(m):
            out[row, j] = c[j]
        row += 1
        if row == count:
            break
        next_composition(c)
    return out
