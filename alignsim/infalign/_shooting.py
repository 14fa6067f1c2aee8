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
found by a safeguarded Newton method (the derivative from the variational equation). Unlike the damped fixed-point iteration, whose step :math:`\alpha/\beta` makes it oscillate for
small :math:`\beta` (best-of-128 below :math:`\beta\approx 0.005`, best-of-1024 below 0.05), shooting has no step
to tune; the objective is strictly concave, so the root is the optimum.

The equation is integrated by the classical Runge-Kutta method in the grid's own coordinate :math:`s`
(:math:`u = s^3(10-15s+6s^2)`), two steps per grid interval, which places the nodes where :math:`g` peaks.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._continuous import _Unresolved

#: Runge-Kutta steps per grid interval: with 2 the solution on 2^14 intervals moves by < 1e-11 (relative) when
#: doubled, below the grid's own Simpson error in the residual of the fixed point.
SUBSTEPS = 1


@nb.njit(inline="always")
def _rhs(s, F, q, a, b, n, beta):
    """The right-hand side in the grid coordinate ``s`` of the shot ``(F, q)`` and of its sensitivities
    ``(a, b) = d(F, q)/dc`` (the variational equation: ``a' = e^q b``, ``b' = (n-1) drive a / F``)."""
    t = 1.0 - s
    u = s * s * s * (10.0 - 15.0 * s + 6.0 * s * s)
    du = 30.0 * s * s * t * t
    drive, pull = 0.0, 0.0
    if F > 0.0 and u > 0.0:
        drive = n * n * math.exp((n - 1.0) * (math.log(F) + math.log(u)))
        pull = (n - 1.0) * drive * a / F  # d(drive)/dc; a ~ F near u = 0, so this stays finite for 1 < n < 2
    elif n == 1.0:
        drive = 1.0
    e = math.exp(q) * du
    return e, drive * du / beta, e * b, pull * du / beta


@nb.njit(cache=True)
def shoot_bon(c, beta, n, intervals, q_out):
    """Integrate from ``F(0) = 0, log p(0) = c`` to ``u = 1``; return ``(F(1), dF(1)/dc)`` (stopping early with
    ``(2, nan)`` at ``F > 2``, when the start is plainly too high). When ``q_out`` has ``intervals + 1`` entries,
    ``log p`` at every grid node is written into it."""
    steps = intervals * SUBSTEPS
    h = 1.0 / steps
    F, q, a, b = 0.0, c, 0.0, 1.0
    record = q_out.size == intervals + 1
    if record:
        q_out[0] = c
    for i in range(steps):
        s = i * h
        k1f, k1q, k1a, k1b = _rhs(s, F, q, a, b, n, beta)
        k2f, k2q, k2a, k2b = _rhs(s + 0.5 * h, F + 0.5 * h * k1f, q + 0.5 * h * k1q, a + 0.5 * h * k1a,
                                  b + 0.5 * h * k1b, n, beta)
        k3f, k3q, k3a, k3b = _rhs(s + 0.5 * h, F + 0.5 * h * k2f, q + 0.5 * h * k2q, a + 0.5 * h * k2a,
                                  b + 0.5 * h * k2b, n, beta)
        k4f, k4q, k4a, k4b = _rhs(s + h, F + h * k3f, q + h * k3q, a + h * k3a, b + h * k3b, n, beta)
        F += h / 6.0 * (k1f + 2.0 * k2f + 2.0 * k3f + k4f)
        q += h / 6.0 * (k1q + 2.0 * k2q + 2.0 * k3q + k4q)
        a += h / 6.0 * (k1a + 2.0 * k2a + 2.0 * k3a + k4a)
        b += h / 6.0 * (k1b + 2.0 * k2b + 2.0 * k3b + k4b)
        if not (F <= 2.0 and q <= 700.0 and abs(a) < 1e300):  # plainly too high (or an overflowing step)
            return 2.0, math.nan
        if record and (i + 1) % SUBSTEPS == 0:
            q_out[(i + 1) // SUBSTEPS] = q
    return F, a


def solve_bon(beta: float, n: float, intervals: int, c0: float | None = None,
              width: float | None = None) -> tuple[np.ndarray, int, float]:
    r"""``(Phi, shots, c)``: the optimum's :math:`\Phi = \beta(\log p - \log p(0))` at the grid nodes, the number
    of initial-value problems integrated, and :math:`c = \log p(0)`. ``c0``, a guess of the root (from nearby
    betas: a KL-target search solves at a sequence of them), with ``width`` (default 5 % of ``|c0|``), the
    largest first step from it.

    The root is found by Newton's method on :math:`\log F(1; c)`, its derivative from the variational equation
    integrated with the shot, safeguarded by what is known of the bracket. :math:`F(1; c)` blows up just above the
    root (``c`` off by 1e-8 relative sends it to the cap), where Brent's interpolation gained little per shot
    (15-45 shots); Newton from a guess on the line through neighbouring roots takes 2-6."""
    empty = np.empty(0)
    shots = 0

    def shot(c):
        nonlocal shots
        shots += 1
        return shoot_bon(c, beta, n, intervals, empty)

    # p is increasing, so p(0) <= 1: c = 0 overshoots (or hits) F(1) = 1. Newton on log F(1; c) from the guess,
    # kept inside what is known of the bracket: below the root a Newton step overshoots (F(1; c) is flat there
    # and blows up just above the root), so a step past the known upper end bisects, and with one end unknown the
    # step is capped at a width that doubles each time it binds.
    if c0 is None:
        c, width = 0.0, 1.0
    else:
        c = min(c0, 0.0)
        width = 0.05 * max(abs(c0), 1e-3) if width is None else width
    lo, hi = -math.inf, 0.0
    best = (math.inf, c)
    while True:
        f, d = shot(c)
        if f < 1.0:
            lo = c
        else:
            hi = c
        best = min(best, (abs(f - 1.0), c))
        # F(1) to 1e-10 is the Runge-Kutta rounding floor (neighbouring c differ by that much at 2^12-2^14 steps)
        if abs(f - 1.0) <= 1e-10 or hi - lo <= 4.0 * np.spacing(abs(lo)):
            break
        step = -math.log(f) * f / d if f < 2.0 and d > 0.0 else math.nan
        nxt = c + step
        if not nxt < hi:  # past the upper end (or no Newton step): bisect, or step down by the width
            nxt = 0.5 * (lo + hi) if lo > -math.inf else hi - width
            width = 2.0 * width if lo == -math.inf else width
        elif not nxt > lo:
            nxt = 0.5 * (lo + hi)
        elif hi == 0.0 and c0 is not None and nxt > c + width:  # the upper end unknown: a bounded step up
            nxt, width = c + width, 2.0 * width
        if nxt == c or shots > 200:
            break
        c = nxt
    c = best[1]
    q = np.full(intervals + 1, np.nan)
    end, _ = shoot_bon(c, beta, n, intervals, q)
    if not (abs(end - 1.0) < 1e-6 and np.all(np.isfinite(q))):
        # the Runge-Kutta steps cannot follow log p where it climbs fastest (small beta on a coarse grid)
        raise _Unresolved(f"the best-of-{n:g} optimum at beta = {beta:.3g} is too steep for a grid of {intervals} "
                          "intervals; raise beta or intervals, or lower N")
    return beta * (q - c), shots + 1, c
