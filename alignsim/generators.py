r"""The catalogue of normalised :math:`f`-divergence generators.

One table, used by :func:`alignsim.f_divergence` and by the :math:`f`-regularised optima. Every generator is
normalised so that :math:`f(1) = 0` and :math:`f'(1) = 0` (adding :math:`c(u-1)` to :math:`f` does not change
:math:`D_f` on the simplex), and

.. math::

    D_f(\pi \,\|\, q) = \sum_{i:\,q_i>0} q_i\, f\!\left(\frac{\pi_i}{q_i}\right) + f'(\infty)\,\pi(\{i : q_i = 0\}),
    \qquad f'(\infty) = \lim_{u\to\infty} f(u)/u .

Names follow the RL convention (TRL's ``f_divergence_type``, the f-DPO paper): the first argument is the policy,
the second the reference, so ``"reverse_kl"`` (alias ``"kl"``) is :math:`\mathrm{KL}(\pi\|q)` and
``"forward_kl"`` is :math:`\mathrm{KL}(q\|\pi)`.

==============  ===========================================================  =================  ======================
name            :math:`f(u)`                                                 :math:`f'(0^+)`    :math:`f'(\infty)`
==============  ===========================================================  =================  ======================
``reverse_kl``  :math:`u\log u - u + 1`                                      :math:`-\infty`    :math:`\infty`
``forward_kl``  :math:`-\log u + u - 1`                                      :math:`-\infty`    :math:`1`
``js``          :math:`\tfrac12[u\log u - (u+1)\log\tfrac{u+1}{2}]`          :math:`-\infty`    :math:`\tfrac12\log 2`
``chi2``        :math:`(u-1)^2`                                              :math:`-2`         :math:`\infty`
``hellinger``   :math:`(\sqrt u - 1)^2`                                      :math:`-\infty`    :math:`1`
``tv``          :math:`\tfrac12|u-1|`                                        :math:`-\tfrac12`  :math:`\tfrac12`
``alpha``       :math:`\frac{u^\alpha - 1 - \alpha(u-1)}{\alpha(\alpha-1)}`  see below          see below
==============  ===========================================================  =================  ======================

For the :math:`\alpha` family (Amari's convention): :math:`f'(0^+) = -\infty` if :math:`\alpha<1` else
:math:`-1/(\alpha-1)`; :math:`f'(\infty) = 1/(1-\alpha)` if :math:`\alpha<1` else :math:`\infty`;
:math:`\alpha\to1` is reverse KL, :math:`\alpha\to0` forward KL, :math:`D_2 = \tfrac12\chi^2` and
:math:`D_{1/2} = 2\,\mathrm{Hellinger}`. Hellinger here has no factor :math:`\tfrac12` and JS has the factors
:math:`\tfrac12` (so :math:`\mathrm{JS}\le\log 2`); papers differ on both.

References
----------
.. [1] I. Csiszár, "Information-type measures of difference of probability distributions", 1967.
.. [2] C. Wang et al., "Beyond reverse KL: generalizing direct preference optimization with diverse divergence
   constraints", arXiv:2309.16240, 2023.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _validate as V

__all__ = ["Generator", "generator", "GENERATOR_NAMES"]


@dataclass(frozen=True)
class Generator:
    """A normalised convex generator :math:`f` with its derivative, inverse derivative and end slopes.

    Attributes
    ----------
    name : str
    f : callable
        :math:`f(u)` for ``u >= 0`` (vectorised).
    fprime : callable or None
        :math:`f'(u)` for ``u > 0``.
    fprime_inv : callable or None
        :math:`g = (f')^{-1}`, extended by ``0`` below :math:`f'(0^+)` and ``inf`` above :math:`f'(\\infty)`.
    slope_at_zero : float
        :math:`f'(0^+)`, possibly ``-inf``.
    slope_at_infinity : float
        :math:`f'(\\infty) = \\lim f(u)/u`, possibly ``inf``: the cost of a unit of mass outside the reference's
        support.
    alpha : float or None
        The order, for the ``alpha`` family.
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    fprime: Callable[[np.ndarray], np.ndarray] | None
    fprime_inv: Callable[[np.ndarray], np.ndarray] | None
    slope_at_zero: float
    slope_at_infinity: float
    alpha: float | None = None


def _clip_inverse(g, lo, hi):
    """Extend an inverse derivative by 0 below ``lo`` and +inf above ``hi`` (KKT convention)."""

    def inv(t):
        t = np.asarray(t, dtype=float)
        out = np.empty_like(t)
        below, above = t <= lo, t >= hi
        mid = ~(below | above)
        out[below], out[above] = 0.0, np.inf
        out[mid] = g(t[mid])
        return out

    return inv


def _xlogx(u):
    u = np.asarray(u, dtype=float)
    return np.where(u > 0, u * np.log(np.where(u > 0, u, 1.0)), 0.0)


def _expm1_ratio(c: float, u: np.ndarray) -> np.ndarray:
    """``(u^c - 1) / c`` without the cancellation of tiny ``c`` (``u^c`` rounds to 1 at ``c = 1e-300``): its series
    ``L (1 + cL/2 + (cL)^2/6 + (cL)^3/24)``, ``L = log u``, where ``|c L| < 1e-4``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ell = np.log(u)
        x = c * ell
        series = ell * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x / 24.0)))
        return np.where(np.abs(x) < 1e-4, series, np.expm1(x) / c)


def _alpha_generator(alpha: float) -> Generator:
    a = float(alpha)
    if a == 1.0:
        return _TABLE["reverse_kl"]
    if a == 0.0:
        return _TABLE["forward_kl"]

    def f(u):
        u = np.asarray(u, dtype=float)
        return (_expm1_ratio(a, u) - (u - 1.0)) / (a - 1.0)

    def fprime(u):
        return _expm1_ratio(a - 1.0, np.asarray(u, dtype=float))

    lo = -math.inf if a < 1 else -1.0 / (a - 1.0)
    hi = 1.0 / (1.0 - a) if a < 1 else math.inf
    inv = _clip_inverse(lambda t: np.power(1.0 + (a - 1.0) * t, 1.0 / (a - 1.0)), lo, hi)
    return Generator("alpha", f, fprime, inv, lo, hi, alpha=a)


_LOG2 = math.log(2.0)
_TABLE: dict[str, Generator] = {
    "reverse_kl": Generator(
        "reverse_kl",
        lambda u: _xlogx(u) - np.asarray(u, dtype=float) + 1.0,
        lambda u: np.log(u),
        _clip_inverse(np.exp, -math.inf, math.inf),
        -math.inf,
        math.inf,
    ),
    "forward_kl": Generator(
        "forward_kl",
        lambda u: -np.log(u) + np.asarray(u, dtype=float) - 1.0,
        lambda u: 1.0 - 1.0 / np.asarray(u, dtype=float),
        _clip_inverse(lambda t: 1.0 / (1.0 - t), -math.inf, 1.0),
        -math.inf,
        1.0,
    ),
    "js": Generator(
        "js",
        lambda u: 0.5 * (_xlogx(u) - (np.asarray(u, dtype=float) + 1.0) * np.log((np.asarray(u, dtype=float) + 1.0) / 2.0)),
        lambda u: 0.5 * np.log(2.0 * np.asarray(u, dtype=float) / (np.asarray(u, dtype=float) + 1.0)),
        _clip_inverse(lambda t: np.exp(2 * t) / (2.0 - np.exp(2 * t)), -math.inf, 0.5 * _LOG2),
        -math.inf,
        0.5 * _LOG2,
    ),
    "chi2": Generator(
        "chi2",
        lambda u: (np.asarray(u, dtype=float) - 1.0) ** 2,
        lambda u: 2.0 * (np.asarray(u, dtype=float) - 1.0),
        _clip_inverse(lambda t: 1.0 + t / 2.0, -2.0, math.inf),
        -2.0,
        math.inf,
    ),
    "hellinger": Generator(
        "hellinger",
        lambda u: (np.sqrt(u) - 1.0) ** 2,
        lambda u: 1.0 - 1.0 / np.sqrt(u),
        _clip_inverse(lambda t: (1.0 - t) ** -2.0, -math.inf, 1.0),
        -math.inf,
        1.0,
    ),
    "tv": Generator(
        "tv",
        lambda u: 0.5 * np.abs(np.asarray(u, dtype=float) - 1.0),
        None,
        None,
        -0.5,
        0.5,
    ),
}
_ALIASES = {"kl": "reverse_kl"}

#: The names :func:`generator` accepts (``"kl"`` is an alias of ``"reverse_kl"``).
GENERATOR_NAMES = tuple(sorted(set(_TABLE) | set(_ALIASES) | {"alpha"}))


def generator(name: str, *, alpha: float | None = None) -> Generator:
    r"""Look up a normalised generator by name.

    Parameters
    ----------
    name : str
        One of :data:`GENERATOR_NAMES`.
    alpha : float, optional
        The order, required for ``name="alpha"`` (any real; 0 and 1 give forward and reverse KL).

    Returns
    -------
    Generator
        Its ``slope_at_infinity`` :math:`f'(\infty)` is ``inf`` for generators that grow superlinearly (reverse
        KL, chi2).

    Examples
    --------
    >>> from alignsim.generators import generator
    >>> g = generator("chi2")
    >>> float(g.f(3.0)), g.slope_at_zero
    (4.0, -2.0)
    """
    if not isinstance(name, str):
        raise TypeError(f"divergence name must be a string, got {type(name).__name__}")
    key = _ALIASES.get(name, name)
    if key == "alpha":
        if alpha is None:
            raise ValueError("alpha must be given for the 'alpha' divergence (any real number)")
        return _alpha_generator(V.real(alpha, "alpha"))
    if alpha is not None:
        raise ValueError(f"alpha is only used with the 'alpha' divergence, not {name!r}")
    if key not in _TABLE:
        raise ValueError(f"unknown divergence {name!r}; choose one of {list(GENERATOR_NAMES)} or pass a callable")
    return _TABLE[key]
