"""Monte-Carlo kernels split across a Dask cluster, bit-identical to one process (private).

A kernel draws item ``i`` from the xoshiro256** stream of block ``i // block``, whose state is spawned from the seed
(:mod:`alignsim.mc._rng`); a contiguous run of whole blocks is therefore a self-contained piece of work. Pieces go
to the cluster's workers and come back in order, so the result does not depend on the number of workers.
"""

from __future__ import annotations

import numpy as np


def _states_index(args) -> int:
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray) and a.dtype == np.uint64 and a.ndim == 2 and a.shape[1] == 4:
            return i
    raise AssertionError("the kernel takes no block states")  # a programming error: every MC kernel does


def run(kernel, *args, client=None):
    """``kernel(*args)``, or the same computed on a Dask cluster in runs of whole blocks (``args`` holds
    ``..., n, states, block, ...`` in that order, as every kernel of :mod:`alignsim.mc._kernels`)."""
    if client is None:
        return kernel(*args)
    if not all(hasattr(client, m) for m in ("submit", "gather", "scheduler_info")):
        raise TypeError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
    i = _states_index(args)
    n, states, block = int(args[i - 1]), args[i], int(args[i + 1])
    workers = max(len(client.scheduler_info().get("workers", {})), 1)
    cuts = np.unique(np.linspace(0, states.shape[0], min(states.shape[0], 4 * workers) + 1).round().astype(int))
    futures = []
    for b0, b1 in zip(cuts[:-1], cuts[1:]):
        start = b0 * block
        piece = list(args)
        piece[i - 1], piece[i] = min(b1 * block, n) - start, np.ascontiguousarray(states[b0:b1])
        futures.append(client.submit(kernel, *piece, pure=False))
    parts = client.gather(futures)
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(len(parts[0])))
    return np.concatenate(parts)
