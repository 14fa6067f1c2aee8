r"""The best-of-N optimum of the continuous model by shooting on its Euler-Lagrange equation (numba).

With the reference :math:`\mathrm{Unif}[0,1]`, a policy of density :math:`p = F'` and the best-of-N comparator
:math:`G(u) = u^N`, the objective :math:`W - \beta\,\mathrm{KL} = 1 - \int_0^1 F^N\,dG - \beta\int_0^1 p\log p`
is a functional of :math:`F` alone. Its Euler-Lagrange equation is

.. math::

    \beta\,(\log p)'(u) = N F(u)^{N-1}\,g(u),\qquad g(u) = N u^{N-1},\qquad F(0) = 0,\ F(1) = 1,

the derivative of InfAlign's fixed point :math:`\Phi = \mathcal R_{\pi}` (result (B), normalised to 0 at
:math:`u = 0`) with :math:`\log p = \Phi/\beta + \log p(0)`. Given :math:`c = \log p(0)` the system
:math:`F' = e^q,\ q' = N F^{N-1} g/\beta` is an initial-value problem, and :math:`F(1; c)` increases with
:math:`c` (a larger start raises :math:`p`, hence :math:`F`, hence :math:`q'`, everywhere), so the one unknown is
found by bracketing and Brent's method. Unlike the damped fixed-point iteration, whose step :math:`\alpha/\beta` makes it oscillate for
small :math:`\beta` (best-of-128 below :math:`\beta\approx 0.005`, best-of-1024 below 0.05), shooting has no step
to tune; the objective is strictly concave, so the root is the optimum.

The equation is integrated by the classical Runge-Kutta method in the grid's own coordinate :math:`s`
(:math:`u = s^3(10-15s+6s^2)`), two steps per grid interval, which places the nodes where :math:`g` peaks.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from scipy.optimize import brentq

from ._continuous import _Unresolved

#: Runge-Kutta steps per grid interval: with 2 the solution on 2^14 intervals moves by < 1e-11 (relative) when
#: doubled, below the grid's own Simpson error in the residual of the fixed point.
SUBSTEPS = 1


@nb.njit(inline="always")
def _rhs(s, F, q, n, beta):
    t = 1.0 - s
    u = s * s * s * (10.0 - 15.0 * s + 6.0 * s * s)
    du = 30.0 * s * s * t * t
    drive = 0.0
    if F > 0.0 and u > 0.0:
        drive = n * n * math.exp((n - 1.0) * (math.log(F) + math.log(u)))
    elif n == 1.0:
        drive = 1.0
    return math.exp(q) * du, drive * du / beta


@nb.njit(cache=True)
def shoot_bon(c, beta, n, intervals, q_out):
    """Integrate from ``F(0) = 0, log p(0) = c`` to ``u = 1``; return ``F(1)`` (stopping early at ``F > 2``, when
    the start is plainly too high). When ``q_out`` has ``intervals + 1`` entries, ``log p`` at every grid node is
    written into it."""
    steps = intervals * SUBSTEPS
    h = 1.0 / steps
    F, q = 0.0, c
    record = q_out.size == intervals + 1
    if record:
        q_out[0] = c
    for i in range(steps):
        s = i * h
        k1f, k1q = _rhs(s, F, q, n, beta)
        k2f, k2q = _rhs(s + 0.5 * h, F + 0.5 * h * k1f, q + 0.5 * h * k1q, n, beta)
        k3f, k3q = _rhs(s + 0.5 * h, F + 0.5 * h * k2f, q + 0.5 * h * k2q, n, beta)
        k4f, k4q = _rhs(s + h, F + h * k3f, q + h * k3q, n, beta)
        F += h / 6.0 * (k1f + 2.0 * k2f + 2.0 * k3f + k4f)
        q += h / 6.0 * (k1q + 2.0 * k2q + 2.0 * k3q + k4q)
        if not (F <= 2.0 and q <= 700.0):  # plainly too high (also a NaN from an overflowing step)
            return 2.0
        if record and (i + 1) % SUBSTEPS == 0:
            q_out[(i + 1) // SUBSTEPS] = q
    return F


def solve_bon(beta: float, n: float, intervals: int, c0: float | None = None,
              width: float | None = None) -> tuple[np.ndarray, int, float]:
    r"""``(Phi, shots, c)``: the optimum's :math:`\Phi = \beta(\log p - \log p(0))` at the grid nodes, the number
    of initial-value problems integrated, and :math:`c = \log p(0)`. ``c0``, a guess of the root (from nearby
    betas: a KL-target search solves at a sequence of them), narrows the first bracket to ``c0 +- width``
    (default 5 % of ``|c0|``); the bracket doubles until it holds the root. A narrow bracket saves shots because
    :math:`F(1; c)` blows up just above the root (``c`` off by 1e-8 relative sends it to the cap), where Brent's
    interpolation gains little per shot."""
    empty = np.empty(0)
    shots = 0

    def excess(c):
        nonlocal shots
        shots += 1
        return shoot_bon(c, beta, n, intervals, empty) - 1.0

    # p is increasing, so p(0) <= 1: c = 0 overshoots (or hits) F(1) = 1; widen a bracket until it holds the root
    if c0 is None:
        width = 1.0
    elif width is None:
        width = 0.05 * max(abs(c0), 1e-3)
    hi = 0.0 if c0 is None else min(c0 + width, 0.0)
    f_hi = excess(hi)
    while f_hi < 0.0:
        hi, width = min(hi + width, 0.0), 2.0 * width
        f_hi = excess(hi)
    lo = hi - width if c0 is None else max(c0 - width, hi - 2.0 * width)
    f_lo = excess(lo)
    while f_lo > 0.0:
        hi, f_hi = lo, f_lo
        width *= 2.0
        lo -= width
        f_lo = excess(lo)
    if f_lo < 0.0 < f_hi:
        # Brent's method: half the shots of regula falsi here, where F(1; c) is steep and flattened at F = 2
        lo = brentq(excess, lo, hi, xtol=1e-300, rtol=8.9e-16)
    elif f_hi == 0.0:
        lo = hi
    q = np.full(intervals + 1, np.nan)
    end = shoot_bon(lo, beta, n, intervals, q)
    if not (abs(end - 1.0) < 1e-6 and np.all(np.isfinite(q))):
        # the Runge-Kutta steps cannot follow log p where it climbs fastest (small beta on a coarse grid)
        raise _Unresolved(f"the best-of-{n:g} optimum at beta = {beta:.3g} is too steep for a grid of {intervals} "
                          "intervals; raise beta or intervals, or lower N")
    return beta * (q - lo), shots + 1, lo
