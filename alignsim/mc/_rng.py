"""xoshiro256** streams for numba kernels, seeded from :class:`numpy.random.SeedSequence`.

Why not numpy's PCG64 inside the kernels: numba can consume one ``np.random.Generator`` per call, but not one per
parallel block, and results must not depend on the thread count. Each block of work therefore gets its own
xoshiro256** state (four ``uint64`` words) from ``SeedSequence(seed).spawn(n_blocks)``; a block always draws the
same numbers whichever thread runs it. xoshiro256** (Blackman and Vigna, 2018) passes BigCrush, has period
``2^256 - 1`` and costs about a nanosecond per draw when its state lives in four local variables (see
:func:`step`). Doubles are the top 53 bits times ``2^-53``.

References
----------
.. [1] D. Blackman and S. Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 47(4), 2021.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import _validate as V

#: Default items per parallel block; each kernel's block size is fixed by its arguments, never by the thread
#: count, so the work decomposition (and hence every result) is independent of the number of threads.
BLOCK = 1 << 16

_U5 = np.uint64(5)
_U9 = np.uint64(9)
_U17 = np.uint64(17)
_U11 = np.uint64(11)
_TO_DOUBLE = 1.0 / 9007199254740992.0  # 2^-53


@nb.njit(inline="always")
def rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@nb.njit(inline="always")
def step(s0, s1, s2, s3):
    """One xoshiro256** step on a state held in four local variables (kept in registers by LLVM).

    Returns ``(output, s0, s1, s2, s3)``.
    """
    result = rotl(s1 * _U5, 7) * _U9
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 45)
    return result, s0, s1, s2, s3


@nb.njit(inline="always")
def to_double(x):
    """Uniform double in [0, 1) from the top 53 bits of a 64-bit output."""
    return np.float64(x >> _U11) * _TO_DOUBLE


@nb.njit(cache=True)
def raw_outputs(states, counts):
    """The first ``counts[b]`` 64-bit outputs of each block's stream (for tests and references)."""
    out = np.zeros((states.shape[0], counts.max()), np.uint64)
    for b in range(states.shape[0]):
        s0, s1, s2, s3 = states[b, 0], states[b, 1], states[b, 2], states[b, 3]
        for i in range(counts[b]):
            out[b, i], s0, s1, s2, s3 = step(s0, s1, s2, s3)
    return out


@nb.njit(cache=True, parallel=True)
def fill_uniforms(states, out):
    """Fill ``out`` with doubles, block b taking its own stream (the generator's raw rate, for benchmarks)."""
    n = out.size
    nblocks = states.shape[0]
    block = -(-n // nblocks)
    for b in nb.prange(nblocks):
        s0, s1, s2, s3 = states[b, 0], states[b, 1], states[b, 2], states[b, 3]
        for i in range(b * block, min(n, (b + 1) * block)):
            x, s0, s1, s2, s3 = step(s0, s1, s2, s3)
            out[i] = to_double(x)


def seed_sequence(rng) -> np.random.SeedSequence:
    """A :class:`~numpy.random.SeedSequence` from ``None | int | SeedSequence | Generator``.

    A Generator is advanced by one draw of four 64-bit words (so the result is reproducible from its state).
    """
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_))):
        if rng is not None and rng < 0:
            raise ValueError(f"rng must be a non-negative integer seed, got {rng}")
        return np.random.SeedSequence(rng)
    gen = V.rng(rng)
    return np.random.SeedSequence(gen.integers(0, 2 ** 63, size=4, dtype=np.int64).tolist())


def block_states(rng, n_items: int, block: int = BLOCK) -> np.ndarray:
    """One xoshiro256** state per block of ``block`` items: shape ``(ceil(n_items / block), 4)``, ``uint64``."""
    n_blocks = max(1, -(-int(n_items) // int(block)))
    children = seed_sequence(rng).spawn(n_blocks)
    states = np.array([c.generate_state(4, dtype=np.uint64) for c in children], dtype=np.uint64)
    states[np.all(states == 0, axis=1), 0] = 1  # the all-zero state is the one fixed point
    return states
