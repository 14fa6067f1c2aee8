"""Independent high-precision (mpmath, 50 digits) implementations used as test oracles.

These follow the textbook formulas directly (no stable rewrites), so they are independent of the package code.
"""

from __future__ import annotations

import mpmath as mp

mp.mp.dps = 50


def _mp(xs):
    return [mp.mpf(float(x)) for x in xs]


def normalised(p):
    ps = _mp(p)
    s = mp.fsum(ps)
    return [x / s for x in ps]


def log_partition(p, r, lam):
    ps, rs = normalised(p), _mp(r)
    return mp.log(mp.fsum(pi * mp.exp(mp.mpf(lam) * ri) for pi, ri in zip(ps, rs) if pi > 0))


def tilt_kl(p, r, lam):
    ps, rs, lam = normalised(p), _mp(r), mp.mpf(lam)
    Z = mp.fsum(pi * mp.exp(lam * ri) for pi, ri in zip(ps, rs) if pi > 0)
    m = mp.fsum(pi * ri * mp.exp(lam * ri) for pi, ri in zip(ps, rs) if pi > 0) / Z
    return lam * m - mp.log(Z)


def lambda_for_kl(p, r, delta):
    f = lambda u: tilt_kl(p, r, mp.exp(u)) - mp.mpf(delta)  # noqa: E731
    lo, hi = mp.mpf(-60), mp.mpf(1)
    while f(hi) < 0:
        hi += 5
    return mp.exp(mp.findroot(f, (lo, hi), solver="bisect", tol=mp.mpf(10) ** -40, maxsteps=400))


def kl(p, q):
    ps, qs = normalised(p), normalised(q)
    return mp.fsum(a * mp.log(a / b) for a, b in zip(ps, qs) if a > 0)


def bon_level_law(p, r, N):
    """F_k^N - F_{k-1}^N over sorted distinct levels (random ties), exact in mpmath."""
    ps = normalised(p)
    levels = sorted({float(x) for x, w in zip(r, ps) if w > 0})
    mass = [mp.fsum(w for x, w in zip(r, ps) if w > 0 and float(x) == s) for s in levels]
    out, F_prev = [], mp.mpf(0)
    for m in mass:
        F = F_prev + m
        out.append(F ** N - F_prev ** N)
        F_prev = F
    return levels, mass, out


def bon_kl(p, r, N):
    _, mass, g = bon_level_law(p, r, N)
    return mp.fsum(gi * mp.log(gi / m) for gi, m in zip(g, mass) if gi > 0)
