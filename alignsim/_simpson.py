"""Cumulative Simpson integration on a uniform grid, compiled.

The same arithmetic, in the same order, as :func:`scipy.integrate.cumulative_simpson` with a scalar ``dx`` and
``initial=0`` (so the results are identical to the last bit), in one pass without temporaries: it is the inner
loop of InfAlign's continuous model, called thousands of times per frontier.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def cumulative_simpson_uniform(y, h):
    """``out[k]`` = the integral of the data ``y`` (spacing ``h``) from the first node to node ``k``; ``out[0] = 0``.

    Interval ``[x_i, x_{i+1}]`` gets Simpson's sub-interval weight from the triple starting at ``i`` for even
    ``i`` and from the triple ending at ``i + 1`` for odd ``i`` and for the last interval, as scipy does."""
    n = y.size
    out = np.empty(n)
    out[0] = 0.0
    d3 = h / 3
    for i in range(n - 1):
        if i % 2 == 0 and i < n - 2:
            sub = d3 * (5 * y[i] / 4 + 2 * y[i + 1] - y[i + 2] / 4)
        else:
            sub = d3 * (5 * y[i + 1] / 4 + 2 * y[i] - y[i - 1] / 4)
        out[i + 1] = out[i] + sub
    return out
