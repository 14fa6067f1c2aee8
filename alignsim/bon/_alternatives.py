r"""Alternatives to best-of-N at matched KL: rewind-and-repeat and the win-rate-optimal tilt of the calibrated
reward."""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from .. import _validate as V
from .._levels import calibrated
from ..tilting import tilt


@V.renamed_keywords(p="ref")
def rewind_repeat(ref, r, threshold):
    r"""Rewind-and-repeat: resample from ``ref`` until the reward is at least ``threshold``.

    The output law is :math:`p(\cdot\mid A)`, :math:`A = \{y: r(y)\ge\tau\}`, so

    .. math::

        \mathrm{KL} = \log\frac1{p(A)},\qquad W = \sum_{y\in A} p(y\mid A)\big[F^-(y) + \tfrac12 P(r = r(y))\big].

    Parameters
    ----------
    ref, r : array_like, shape (K,)
    threshold : float
        Acceptance threshold :math:`\tau`; the accepted set must have positive mass.

    Returns
    -------
    (kl, win_rate) : tuple of float

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, section 6.

    Examples
    --------
    >>> import alignsim as a
    >>> kl, w = a.rewind_repeat([0.25] * 4, [0, 1, 2, 3], 2)
    >>> round(kl, 12), w
    (0.69314718056, 0.75)
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    tau = V.real(threshold, "threshold")
    accept = rr >= tau
    mass = pp[accept].sum()
    if mass <= 0:
        raise ValueError(f"threshold must leave positive reference mass; ref(r >= {tau!r}) = 0")
    pol = np.where(accept, pp, 0.0) / mass
    return float(-math.log(mass)), float(np.dot(pol, calibrated(pp, rr)))


def rewind_repeat_atomless(eps):
    r"""Rewind-and-repeat on an atomless reward accepting the top-:math:`\varepsilon` quantile:
    :math:`(\mathrm{KL}, W) = (\log(1/\varepsilon),\ 1-\varepsilon/2)`.

    Parameters
    ----------
    eps : float or array_like
        Accepted top quantile, in (0, 1].

    Returns
    -------
    kl : float or ndarray
        KL of the accepted law in nats, log(1/eps).
    win_rate : float or ndarray
        Win rate over the reference, 1 - eps/2.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, section 6.

    Examples
    --------
    >>> import alignsim as a
    >>> a.rewind_repeat_atomless(0.5)[1]
    0.75
    """
    e = V.real(eps, "eps", low=0.0, high=1.0, low_open=True)
    return -math.log(e), 1.0 - 0.5 * e


def _winrate_tilt(c: float):
    if c < 1e-2:
        w = 0.5 + c / 12 - c ** 3 / 720 + c ** 5 / 30240
        d = c * c / 24 - c ** 4 / 960 + c ** 6 / 45360
        return d, w
    w = -1.0 / math.expm1(-c) - 1.0 / c
    log_ratio = math.log(c / math.expm1(c)) if c < 30 else math.log(c) - c - math.log1p(-math.exp(-c))
    return log_ratio + c * w, w


def winrate_tilt(c):
    r"""The win-rate-optimal policy at fixed KL in the atomless case: :math:`\pi_c\propto p\,e^{cF(r)}`.

    .. math::

        W(c) = \frac{1}{1-e^{-c}} - \frac1c,\qquad \mathrm{KL}(c) = \log\frac{c}{e^c-1} + c\,W(c),

    the KL-regularised optimum for the calibrated reward :math:`F(r)`; best-of-N's point
    :math:`(\log N-\frac{N-1}N, \frac N{N+1})` lies just below this curve. Series are used for small ``c``.

    Parameters
    ----------
    c : float
        Tilt strength, :math:`c\ge0`.

    Returns
    -------
    (kl, win_rate) : tuple of float

    References
    ----------
    .. [1] Gui, Gârbacea, Veitch, arXiv:2406.00832, section 4; Beirami et al., arXiv:2401.01879, section 7.

    Examples
    --------
    >>> import alignsim as a
    >>> [round(v, 10) for v in a.winrate_tilt(2.288640586)]
    [0.1931471806, 0.6759068193]
    """
    cc = V.real(c, "c", low=0.0)
    return _winrate_tilt(cc)


def winrate_tilt_for_kl(kl):
    r"""Tilt strength :math:`c` with :math:`\mathrm{KL}(c) =` ``kl`` for :func:`winrate_tilt` (Brent in
    :math:`\log c`).

    Parameters
    ----------
    kl : float
        Target KL in nats, >= 0.

    Returns
    -------
    float
        The tilt strength c (0 for kl = 0).

    References
    ----------
    .. [1] Gui, Gârbacea, Veitch, arXiv:2406.00832, section 4.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.winrate_tilt_for_kl(a.bon_kl_bound(2)), 8)
    2.28864059
    """
    target = V.real(kl, "kl", low=0.0)
    if target == 0:
        return 0.0
    f = lambda u: _winrate_tilt(math.exp(u))[0] - target  # noqa: E731
    lo, hi = -1.0, 1.0
    while f(lo) > 0:
        lo -= 2.0
    while f(hi) < 0:
        hi += 2.0
        if hi > 709.0:
            raise ValueError(f"kl = {target!r} needs a tilt strength c beyond the float range (about exp({hi:g})); "
                             "the win-rate tilt's KL grows only like log c")
    return math.exp(brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps))


@V.renamed_keywords(p="ref")
def winrate_tilt_policy(ref, r, c) -> np.ndarray:
    r"""Win-rate-optimal policy at fixed KL on a finite law: the tilt of ``ref`` by the calibrated reward.

    .. math::

        \pi_c(y)\propto p(y)\,e^{c\,c_p(y)},\qquad c_p = \text{calibrated\_reward}(p, r),

    since :math:`W(\pi;p) = \mathbb E_\pi c_p` is linear in :math:`\pi`, this maximises the win rate among all
    policies with the same :math:`\mathrm{KL}(\pi\|p)`.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    c : float
        Tilt strength, c >= 0 (0 gives ref).

    Returns
    -------
    ndarray, shape (K,)
        The win-rate-optimal policy at its own KL.

    References
    ----------
    .. [1] Gui, Gârbacea, Veitch, arXiv:2406.00832, section 4; Beirami et al., arXiv:2401.01879, section 7.

    Examples
    --------
    >>> import alignsim as a
    >>> a.winrate_tilt_policy([0.5, 0.5], [0, 1], 0.0)
    array([0.5, 0.5])
    """

    pp, rr = V.policy_and_rewards(ref, r, "ref")
    cc = V.real(c, "c", low=0.0)
    return pp.copy() if cc == 0 else tilt(pp, calibrated(pp, rr), 1.0 / cc)
