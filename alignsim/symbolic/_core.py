"""Shared helpers of :mod:`alignsim.symbolic` (private): symbols, inputs and evaluation."""

from __future__ import annotations

import functools
import numbers

import numpy as np
import sympy as sp

from .. import _validate as V

#: The largest number of outcomes a symbolic law takes (the expressions grow with it; sympy stays under 2 s).
MAX_OUTCOMES = 8


def outcomes(k, name="K", high=MAX_OUTCOMES) -> int:
    return V.length(k, name, low=2, high=high, why="the symbolic expressions grow with it")


def symbols(prefix: str, k: int, **assumptions) -> tuple:
    """``prefix_1 .. prefix_k`` as sympy symbols."""
    return sp.symbols(f"{prefix}_1:{k + 1}", **assumptions)


def entries(values, name: str, k: int | None = None, *, positive: bool = False) -> tuple:
    """A vector of sympy numbers or expressions: a float becomes the exact rational of its shortest decimal
    (0.7 -> 7/10), an int an Integer, sympy expressions pass; ``k`` its required length."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{name} must be a sequence of numbers or sympy expressions, got {values!r}")
    out = []
    for v in values:
        if isinstance(v, sp.Basic):
            out.append(v)
        elif isinstance(v, (numbers.Real, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
            if not np.isfinite(float(v)):
                raise ValueError(f"{name} must be finite, got {v!r}")
            if positive and float(v) < 0:
                raise ValueError(f"{name} must be non-negative, got {v!r}")
            # the float's shortest decimal as an exact rational (0.7 -> 7/10): readable, and within 1e-16 of it
            out.append(sp.Integer(int(v)) if isinstance(v, (numbers.Integral, np.integer))
                       else sp.Rational(repr(float(v))))
        else:
            raise TypeError(f"{name} must hold numbers or sympy expressions, got {v!r}")
    if positive and all(x.is_number for x in out) and abs(float(sp.Add(*out)) - 1.0) > 1e-9:
        raise ValueError(f"{name} must sum to one (within 1e-9), got a sum of {float(sp.Add(*out))!r}")
    if k is not None and len(out) != k:
        raise ValueError(f"{name} must have {k} entries, got {len(out)}")
    if not 2 <= len(out) <= MAX_OUTCOMES:
        raise ValueError(f"{name} must have 2 to {MAX_OUTCOMES} entries (the symbolic expressions grow with them), "
                         f"got {len(out)}")
    return tuple(out)


def law(probs, rewards, k):
    """``(p, r)`` as tuples of sympy entries: the given ones, or the symbols ``p_i`` (positive) and ``r_i``."""
    if probs is None and rewards is None:
        n = outcomes(k)
        return symbols("p", n, positive=True), symbols("r", n, real=True)
    if probs is None or rewards is None:
        raise ValueError("give both probs and rewards, or neither (then K symbolic outcomes)")
    p = entries(probs, "probs", positive=True)
    return p, entries(rewards, "rewards", len(p))


def numeric_rewards(rewards, name="rewards") -> tuple:
    """Rewards that must be numbers (their order decides best-of-N's levels)."""
    r = entries(rewards, name)
    if any(not x.is_number for x in r):
        raise TypeError(f"{name} must be numbers here (best-of-N orders them), got {r}")
    return r


@functools.lru_cache(maxsize=256)
def _lambdified(expr, names):
    return sp.lambdify([sp.Symbol(n, **_assumptions(expr, n)) for n in names], expr, modules="mpmath")


def _assumptions(expr, name):
    for s in expr.free_symbols:
        if s.name == name:
            return s.assumptions0
    return {}


def numeric(expr, values=None, **named) -> float:
    r"""The value of a symbolic result at numbers given by symbol name, through ``sympy.lambdify`` (mpmath, 30
    digits), as a float.

    .. math:: e(v_1,\dots,v_m)

    Parameters
    ----------
    expr : sympy expression
        A result of :mod:`alignsim.symbolic`.
    values : dict, optional
        Numbers by symbol name (``{"lambda": 0.7}``: a name Python reserves can only be given so).
    **named
        More numbers by symbol name (``p=0.3, x=0.5``); every free symbol of ``expr`` needs one.

    Returns
    -------
    float

    References
    ----------
    .. [1] A. Meurer et al., "SymPy: symbolic computing in Python", PeerJ Comput. Sci. 3:e103 (2017).

    Examples
    --------
    >>> from alignsim import symbolic
    >>> round(symbolic.numeric(symbolic.bernoulli_rate_function(), x=0.5, p=0.3), 12)
    0.087176693572
    """
    if not isinstance(expr, sp.Basic):
        raise TypeError(f"expr must be a sympy expression, got {type(expr).__name__}")
    if values is not None and not isinstance(values, dict):
        raise TypeError(f"values must be a dict of numbers by symbol name, got {type(values).__name__}")
    values = {**(values or {}), **named}
    for n, v in values.items():
        V.real(v, f"values[{n!r}]")
    names = sorted(s.name for s in expr.free_symbols)
    missing = sorted(set(names) - set(values))
    if missing:
        raise ValueError(f"give a value for every free symbol: missing {missing} (the symbols are {names})")
    extra = sorted(set(values) - set(names))
    if extra:
        raise ValueError(f"{extra} are not symbols of the expression (its symbols are {names})")
    import mpmath

    with mpmath.workdps(30):
        out = _lambdified(expr, tuple(names))(*[mpmath.mpf(float(values[n])) for n in names])
    if isinstance(out, mpmath.mpc):
        if abs(out.imag) > 1e-25 * max(1.0, abs(out.real)):
            raise ValueError(f"the expression is complex at these values ({out}): outside its domain")
        out = out.real
    return float(out)


def relative_entropy_form(expr, x, p):
    r"""Rewrite an expression in :math:`x, p\in(0,1)` made of logarithms into
    :math:`c\log\frac xp + d\log\frac{1-x}{1-p}` when its expanded logarithms pair up so (the binary relative
    entropy's shape); every logarithm's argument is factored into :math:`x, p, 1-x, 1-p` first. The regrouping is
    checked to leave the value unchanged."""
    one_x, one_p = sp.Dummy("one_x", positive=True), sp.Dummy("one_p", positive=True)
    value = expr.replace(sp.log, lambda a: sp.log(sp.factor(a).subs({1 - x: one_x, 1 - p: one_p, x - 1: -one_x,
                                                                     p - 1: -one_p})))
    value = sp.expand(sp.expand_log(sp.powsimp(value, force=True), force=True))
    atoms = [x, p, one_x, one_p]
    parts = sp.collect(value, [sp.log(a) for a in atoms], evaluate=False)
    coeff = {a: sp.factor(parts.get(sp.log(a), 0)) for a in atoms}
    out = parts.get(sp.S.One, 0)  # what is not a logarithm of an atom
    for a, b in ((x, p), (one_x, one_p)):
        if sp.simplify(coeff[a] + coeff[b]) != 0:
            return expr  # not of that shape: left as derived
        out += coeff[a] * sp.log(a / b)
    if sp.simplify(sp.expand_log(out - value, force=True)) != 0:
        return expr
    return out.subs({one_x: 1 - x, one_p: 1 - p})
