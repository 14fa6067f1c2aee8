r"""InfAlign: calibrated rewards, calibrate-and-transform (CTRL) policies and inference-time win rates.

A policy :math:`\pi` is judged after an inference-time procedure :math:`\mathcal T` (best-of-N, worst-of-N or plain
sampling) against the reference decoded the same way,

.. math::

    W^{\mathcal T}(\pi) = W\big(\mathcal T(\pi)\succ\mathcal T(\pi_{\rm ref})\big),\qquad
    W(\pi_1\succ\pi_2) = \Pr[r(Y_1)>r(Y_2)] + \tfrac12\Pr[r(Y_1)=r(Y_2)],

and the CTRL policies :math:`\pi_{\Phi,\beta}\propto\pi_{\rm ref}\,e^{\Phi(C(y))/\beta}` tilt the reference by a
transform :math:`\Phi` of the mid-rank calibrated reward :math:`C(y)=\Pr_{\rm ref}[r<r(y)]+\frac12\Pr_{\rm ref}[r=r(y)]`.

Two settings share one interface (``.kl``, ``.win_rate(procedure, N, against=...)``):

* finite laws (bandits, reward levels of a memoryless LM), exact: :func:`ctrl_policy`,
  :func:`inference_time_win_rate`, :func:`transformed_reward`;
* the continuous model in calibrated units (reference :math:`={\rm Unif}[0,1]`), which by calibration invariance
  (spec Theorem C) is the trade-off of *every* reward without atoms: :class:`UniformCTRL`, :func:`optimal_transform`,
  :func:`best_t`. Integrals are composite Simpson on a grid graded at both ends,
  :math:`u = s^3(10-15s+6s^2)`, :math:`2^{14}` intervals in :math:`s` (agreement with the exponential-integral closed
  forms to about :math:`10^{-10}`; the grid resolves spikes of width :math:`10^{-9}` at either end); all tilts are
  formed in log space from :math:`\log\lambda`, so :math:`\lambda=1/\beta` may exceed the float range.

Conventions (the paper's body could not be read; spec ``infalign.md`` marks these as reconstructions):

* ties count one half everywhere, and best-/worst-of-N break ties uniformly at random;
* ``against="decoded"`` (default) is the paper's inference-time win rate, the same procedure on both sides;
  ``against="reference"`` compares :math:`\mathcal T(\pi)` with plain reference samples;
* ``exp(t)`` is :math:`\Phi(u)=e^{t(u-1)}`, the paper's :math:`e^{tu}` divided by :math:`e^{t}`: the paper's
  :math:`\beta` is this module's :math:`\beta` times :math:`e^{t}` (``Transform.log_scale``); only the shape of
  :math:`\Phi` matters at matched KL.

References
----------
.. [1] A. Balashankar, Z. Sun, J. Berant, J. Eisenstein, M. Collins, A. Hutter, J. Lee, C. Nagpal, F. Prost,
   A. Sinha, A. T. Suresh, A. Beirami, "InfAlign: Inference-aware language model alignment", ICML 2025,
   arXiv:2412.19792.
.. [2] A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy", arXiv:2401.01879.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import cumulative_simpson
from scipy.optimize import brentq, minimize_scalar
from scipy.stats import binom

from . import _validate as V
from ._levels import calibrated
from .bon import bon_law, won_law
from .divergences import kl as _kl
from .tilting import beta_for_kl as _tilt_beta_for_kl
from .tilting import max_kl, tilt
from .winrate import calibrated_reward

__all__ = [
    "CTRLPolicy",
    "OptimalTransform",
    "Transform",
    "UniformCTRL",
    "best_t",
    "beta_for_kl",
    "calibrated_reward",
    "calibration_moments",
    "ctrl_policy",
    "estimate_calibrated_reward",
    "exp",
    "identity",
    "inference_time_win_rate",
    "log",
    "negexp",
    "frontier_table",
    "optimal_frontier",
    "optimal_transform",
    "quantile",
    "small_kl_t",
    "smoothed",
    "transformed_reward",
    "unified",
]

_PROCEDURES = ("std", "bon", "won")
_AGAINST = ("decoded", "reference")
#: Largest log(lambda) tried by the KL solvers (the tilts are formed from log lambda, so this is no overflow).
_LOG_LAMBDA_MAX = 2000.0


# --------------------------------------------------------------------------------------------------------------
# Transforms
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Transform:
    r"""A reward transform :math:`\Phi:[0,1]\to\mathbb R` applied to the calibrated reward.

    Built by :func:`identity`, :func:`log`, :func:`exp`, :func:`negexp`, :func:`unified`, :func:`quantile`,
    :func:`smoothed`, or from any vectorised callable; every function of this module that takes a transform also
    accepts the names ``"identity"`` and ``"log"`` and plain callables.

    .. math::

        \pi_{\Phi,\beta}(y)\propto\pi_{\rm ref}(y)\,e^{\lambda\Phi(C(y))},\qquad\lambda = 1/\beta .

    Attributes
    ----------
    name : str
    t : float or None
        The parameter, if any.
    phi : callable
        ``phi(u)`` for an array ``u`` in [0, 1]; may be ``-inf`` where the policy vanishes (``log`` at 0).
    log_scale : float
        :math:`\log a` where the paper's parametrisation of the same transform is :math:`a\Phi+b`: multiply this
        module's :math:`\beta` by :math:`e^{\text{log\_scale}}` to get the paper's.
    log_abs : callable or None
        ``log_abs(u)`` with :math:`\Phi = \pm e^{\text{log\_abs}(u)}` (sign ``sign``), so that
        :math:`\lambda\Phi` is formed as :math:`\pm e^{\log\lambda+\text{log\_abs}}` without overflow.
    sign : float

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, section 4 (CTRL); spec ``infalign.md``, transformation catalogue.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.exp(2.0)(1.0), ia.negexp(2.0)(0.0)
    (1.0, -1.0)
    """

    name: str
    t: float | None
    phi: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    log_scale: float = 0.0
    log_abs: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    sign: float = 1.0

    def __call__(self, u):
        arr = np.asarray(u, dtype=float)
        out = np.asarray(self.phi(arr), dtype=float)
        return float(out) if out.ndim == 0 else out

    def scaled(self, u: np.ndarray, log_lam: float) -> np.ndarray:
        r""":math:`\lambda(\Phi(u)-\max\Phi)` from :math:`\log\lambda`, without overflow for any :math:`\lambda`."""
        return self.on(u)(log_lam)

    def on(self, u: np.ndarray) -> Callable[[float], np.ndarray]:
        r"""Evaluate the transform once at the nodes ``u``; return :math:`\log\lambda\mapsto\lambda(\Phi-\max\Phi)`.

        With ``log_abs``: :math:`\pm(e^{a}-e^{a^*})=-e^{\max(a,a^*)}\,(1-e^{-|a-a^*|})`, :math:`a^*` the value at
        the maximiser of :math:`\Phi`. Otherwise :math:`\lambda` is capped at ``1e308`` (the policy has long
        reached its limit on the grid by then).
        """
        if self.log_abs is not None:
            la = np.asarray(self.log_abs(u), dtype=float)
            top = np.max(la) if self.sign > 0 else np.min(la)
            hi, lo = np.maximum(la, top), np.minimum(la, top)
            with np.errstate(divide="ignore"):
                base = hi + np.log(-np.expm1(lo - hi))
            return lambda log_lam: -np.exp(log_lam + base)
        phi = np.asarray(self.phi(u), dtype=float)
        if np.any(np.isnan(phi)) or np.any(phi == np.inf):
            raise ValueError(f"transform {self.name} must be finite (or -inf) on [0, 1]; got NaN or +inf")
        if np.all(phi == -np.inf):
            raise ValueError(f"transform {self.name} is -inf everywhere on [0, 1]")
        gap = phi - np.max(phi)
        return lambda log_lam: math.exp(min(log_lam, 709.0)) * gap


def identity() -> Transform:
    r"""The identity transform :math:`\Phi(u)=u`: optimal for the standard win rate (spec Theorem A with
    :math:`\mathcal T=\mathrm{id}`).

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (calibrated reward as the standard-win-rate baseline).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.identity()(0.25)
    0.25
    """
    return Transform("identity", None, lambda u: u.copy())


def log() -> Transform:
    r"""The log transform :math:`\Phi(u)=\log u`: :math:`\pi\propto u^{\lambda}`, a Beta(:math:`\lambda+1`, 1)
    law; :math:`\lambda=N-1` is exactly best-of-N of the reference (BoN distillation).

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792; spec ``infalign.md`` section 3.2.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.log()(1.0)
    0.0
    """
    def phi(u):
        with np.errstate(divide="ignore"):
            return np.log(u)

    return Transform("log", None, phi)


def exp(t) -> Transform:
    r"""The best-of-N transform ("positive exponent"), :math:`\Phi(u)=e^{t(u-1)}`, :math:`t>0`.

    The paper writes :math:`e^{tu}`; the two differ by the factor :math:`e^{t}`, absorbed by
    :math:`\beta_{\text{paper}} = \beta\,e^{t}` (``log_scale = t``). The stable form keeps :math:`\beta` in range for
    :math:`t` in the thousands.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (exponential transforms for best-of-N); spec section 3.2.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> round(ia.exp(3.0)(0.5), 12)
    0.223130160148
    """
    tt = V.real(t, "t", low=0.0, low_open=True)
    return Transform("exp", tt, lambda u: np.exp(tt * (u - 1.0)), log_scale=tt, log_abs=lambda u: tt * (u - 1.0))


def negexp(t) -> Transform:
    r"""The worst-of-N (jailbreaking) transform ("negative exponent"), :math:`\Phi(u)=-e^{-tu}`, :math:`t>0`.

    Increasing in :math:`u` (plain :math:`e^{-tu}` would reward low quantiles; spec pitfall 8).

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (negative-exponent transform for worst-of-N); spec section 6.2.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.negexp(1.0)(0.0)
    -1.0
    """
    tt = V.real(t, "t", low=0.0, low_open=True)
    return Transform("negexp", tt, lambda u: -np.exp(-tt * u), log_abs=lambda u: -tt * u, sign=-1.0)


def unified(t) -> Transform:
    r"""The unified exponential family :math:`\Phi(u)=(e^{tu}-1)/t` (:math:`t\to0`: identity).

    :math:`t>0` gives the policies of :func:`exp`, :math:`t<0` those of :func:`negexp` (up to scale and shift);
    :math:`|t|\le700` (use :func:`exp` beyond).

    References
    ----------
    .. [1] Spec ``infalign.md``, transformation catalogue.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.unified(0.0)(0.5), round(ia.unified(1e-9)(0.5), 9)
    (0.5, 0.5)
    """
    tt = V.real(t, "t", low=-700.0, high=700.0)
    if tt == 0:
        return Transform("unified", 0.0, lambda u: u.copy())
    return Transform("unified", tt, lambda u: np.expm1(tt * u) / tt)


def quantile(ppf, name: str = "quantile") -> Transform:
    r"""The transform :math:`\Phi=Q_r`, the quantile function of the raw reward under the reference.

    Standard RLHF on raw rewards, :math:`\pi\propto\pi_{\rm ref}e^{r/\beta}`, is the CTRL policy with this
    transform (spec Proposition D); e.g. ``quantile(scipy.stats.norm.ppf)`` for a Gaussian reward. Infinite end
    values are clamped to the nearest float inside (0, 1); the quadrature gives the end points zero weight.

    Parameters
    ----------
    ppf : callable
        Vectorised quantile function on [0, 1].
    name : str

    References
    ----------
    .. [1] Spec ``infalign.md``, Proposition D.

    Examples
    --------
    >>> from scipy.stats import norm
    >>> from alignsim import infalign as ia
    >>> ia.quantile(norm.ppf)(0.5)
    0.0
    """
    if not callable(ppf):
        raise TypeError(f"ppf must be callable, got {type(ppf).__name__}")
    lo, hi = np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0)
    return Transform(name, None, lambda u: np.asarray(ppf(np.clip(u, lo, hi)), dtype=float))


def smoothed(transform, m) -> Transform:
    r"""The effective transform of finite-sample calibration, :math:`\Phi_m(C)=\mathbb E[\Phi(\hat C_m)]`,
    :math:`m\hat C_m\sim\mathrm{Binomial}(m, C)`.

    KL-regularised RL with a calibrated reward estimated from :math:`m` fresh reference samples per evaluation
    optimises :math:`\Phi_m` instead of :math:`\Phi` (spec section 6.1; continuous reward, no ties). For
    :math:`\Phi=e^{tu}`: :math:`\Phi_m(C)=(1-C+Ce^{t/m})^m\ge e^{tC}`.

    Parameters
    ----------
    transform : Transform, str or callable
    m : int
        Number of reference samples, :math:`m\ge1`.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (reward calibration); spec ``infalign.md`` section 6.1.

    Examples
    --------
    >>> import math
    >>> from alignsim import infalign as ia
    >>> round(ia.smoothed(ia.exp(10.0), 100)(0.5) * math.exp(10.0), 7)   # paper scale e^{tu}
    168.1653886
    """
    tr = _transform(transform)
    mm = V.length(m, "m")
    k = np.arange(mm + 1)
    values = tr(k / mm)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"transform {tr.name} is not finite on the calibration grid k/m (m={mm}); "
                         "the smoothed transform E[Phi(C_m)] is infinite")

    def phi(u):
        return binom.pmf(k, mm, np.asarray(u, dtype=float)[..., None]) @ values

    return Transform(f"{tr.name}_m{mm}", tr.t, phi, log_scale=tr.log_scale)


_NAMED = {"identity": identity, "log": log}


def _transform(x, name: str = "transform") -> Transform:
    if isinstance(x, Transform):
        return x
    if isinstance(x, str):
        if x not in _NAMED:
            raise ValueError(f"{name} must be a Transform, a callable or one of {sorted(_NAMED)}, got {x!r}; "
                             "parametrised transforms are built by exp(t), negexp(t), unified(t)")
        return _NAMED[x]()
    if callable(x):
        return Transform(getattr(x, "__name__", "callable"), None, x)
    raise TypeError(f"{name} must be a Transform, a callable or a name, got {type(x).__name__}")


def _procedure(procedure, N):
    V.choice(procedure, "procedure", _PROCEDURES)
    n, log_n = V.sample_count(N)
    if procedure == "std" and n != 1:
        raise ValueError(f"N must be 1 for procedure='std' (plain sampling), got {N!r}")
    return ("bon", (1.0, 0.0)) if procedure == "std" else (procedure, (n, log_n))


# --------------------------------------------------------------------------------------------------------------
# Calibration from samples
# --------------------------------------------------------------------------------------------------------------
def estimate_calibrated_reward(reference_rewards, rewards) -> np.ndarray:
    r"""Empirical mid-rank calibrated reward from :math:`m` reference samples.

    .. math::

        \hat C_m(y) = \frac1m\sum_{j=1}^m\Big[\mathbb 1\{r(y)>r(z_j)\}+\tfrac12\mathbb 1\{r(y)=r(z_j)\}\Big],
        \qquad z_j\sim\pi_{\rm ref}.

    Unbiased for :math:`C(y)`, with :math:`\mathrm{Var}\,\hat C_m = (P_< + \frac14P_= - C^2)/m\le 1/(4m)`
    (:math:`P_<, P_=` the reference probabilities of a smaller / equal reward); a non-linear transform of it is
    biased (:func:`calibration_moments`, :func:`smoothed`). Cost :math:`O((m+n)\log m)`.

    Parameters
    ----------
    reference_rewards : array_like, shape (m,)
        Rewards of reference samples.
    rewards : array_like, shape (n,)
        Rewards to calibrate.

    Returns
    -------
    ndarray, shape (n,)

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (reward calibration); spec section 6.1.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.estimate_calibrated_reward([0.0, 1.0, 1.0, 2.0], [1.0, 3.0])
    array([0.5, 1. ])
    """
    z = np.sort(V.rewards(reference_rewards, "reference_rewards"))
    y = V.rewards(np.atleast_1d(rewards), "rewards")
    below = np.searchsorted(z, y, side="left")
    upto = np.searchsorted(z, y, side="right")
    return (below + upto) / (2.0 * z.size)


def _trinomial_mean(values_of, m, lo, eq):
    """E[values_of((B + E/2)/m)] for (B, E, .) ~ Multinomial(m; lo, eq, 1 - lo - eq), by exact summation."""
    b = np.arange(m + 1)
    total = 0.0
    for e in range(m + 1):
        # B | E = e is Binomial(m - e, lo / (1 - eq)); E is Binomial(m, eq).
        pe = binom.pmf(e, m, eq)
        if pe == 0:
            continue
        q = min(lo / (1.0 - eq), 1.0) if eq < 1 else 0.0  # lo + eq = 1 at the top level, up to rounding
        pb = binom.pmf(b[: m - e + 1], m - e, q)
        total += pe * float(pb @ values_of((b[: m - e + 1] + 0.5 * e) / m))
    return total


def calibration_moments(p, r, m, transform=None):
    r"""Exact moments of the estimated calibrated reward :math:`\hat C_m` of each reward level.

    .. math::

        \mathbb E\hat C_m = C,\qquad \mathrm{Var}\,\hat C_m=\frac{P_<+\tfrac14P_=-C^2}{m},\qquad
        \mathbb E\,\Phi(\hat C_m)=\sum_{b+e\le m}\binom{m}{b,\,e}P_<^bP_=^eP_>^{m-b-e}\,\Phi\Big(\frac{b+e/2}{m}\Big),

    since :math:`m\hat C_m = B + E/2` with :math:`(B, E)` the numbers of reference samples below / tied. The bias
    :math:`\mathbb E\Phi(\hat C_m)-\Phi(C)` is positive for convex :math:`\Phi` (spec pitfall 10).

    Parameters
    ----------
    p, r : array_like, shape (K,)
        Reference law and rewards.
    m : int
        Number of reference samples, ``m >= 1``.
    transform : Transform, str, callable or None
        If given, add the exact mean and bias of :math:`\Phi(\hat C_m)` (cost :math:`O(m^2)` per level).

    Returns
    -------
    pandas.DataFrame
        One row per reward level: ``level``, ``C``, ``var``; with a transform also ``phi_of_C``, ``phi_mean``,
        ``bias``.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (reward calibration); spec section 6.1.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.calibration_moments([0.5, 0.5], [0, 1], 4)[["C", "var"]].to_numpy().round(6)
    array([[0.25    , 0.015625],
           [0.75    , 0.015625]])
    """
    import pandas as pd

    pp, rr = V.policy_and_rewards(p, r)
    mm = V.length(m, "m")
    levels, inv = np.unique(rr, return_inverse=True)
    eq = np.bincount(inv, weights=pp, minlength=levels.size)
    lo = np.concatenate(([0.0], np.cumsum(eq)[:-1]))
    c = lo + 0.5 * eq
    out = {"level": levels, "C": c, "var": np.maximum(lo + 0.25 * eq - c * c, 0.0) / mm}
    if transform is not None:
        tr = _transform(transform)
        phi_c = tr(c)
        mean = np.array([_trinomial_mean(tr, mm, a, b) for a, b in zip(np.minimum(lo, 1.0), eq)])
        out.update(phi_of_C=phi_c, phi_mean=mean, bias=mean - phi_c)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------------------------
# Finite laws: exact inference-time win rates, Lemma B, CTRL policies
# --------------------------------------------------------------------------------------------------------------
def _decode(law, r, kind, nn):
    if kind == "won":
        return won_law(law, r, nn[0] if nn[0] < math.inf else math.exp(nn[1]))
    return bon_law(law, r, nn[0] if nn[0] < math.inf else math.exp(nn[1]))


def _finite_win_rate(pi, ref, r, kind, nn, against):
    ref_side = _decode(ref, r, kind, nn) if against == "decoded" else ref
    return float(np.dot(_decode(pi, r, kind, nn), calibrated(ref_side, r)))


def inference_time_win_rate(pi, ref, r, procedure: str = "bon", N=1, *, against: str = "decoded") -> float:
    r"""Exact inference-time win rate of ``pi`` over ``ref`` on a finite law, ties counting one half.

    .. math::

        W^{\mathcal T}(\pi) = \sum_\ell q_\pi(\ell)\Big[Q(\ell^-)+\tfrac12 q(\ell)\Big],

    with :math:`q_\pi` the reward-level law of :math:`\mathcal T(\pi)` and :math:`q, Q` the law and CDF of the
    comparator: :math:`\mathcal T(\pi_{\rm ref})` (``against="decoded"``, the paper's definition) or
    :math:`\pi_{\rm ref}` (``against="reference"``). Best-of-N: level law :math:`F^N_\ell-F^N_{\ell^-}`; worst-of-N:
    :math:`S^N_\ell-S^N_{\ell^+}` with :math:`S` the survival function.

    Parameters
    ----------
    pi, ref : array_like, shape (K,)
        Aligned and reference policies.
    r : array_like, shape (K,)
        Rewards (equal rewards tie).
    procedure : {"std", "bon", "won"}
        Plain sampling, best-of-N, worst-of-N.
    N : int or float
        Samples per decoding, :math:`N\ge1` (1 for ``"std"``).
    against : {"decoded", "reference"}

    Returns
    -------
    float in [0, 1]

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, section 2 (inference-time win rate); spec section 3.6.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.inference_time_win_rate([0.5, 0.5], [0.5, 0.5], [0, 1], "bon", 4)
    0.5
    >>> ia.inference_time_win_rate([0.5, 0.5], [0.5, 0.5], [0, 1], "bon", 4, against="reference")
    0.71875
    """
    ppi = V.probabilities(pi, "pi")
    pref, rr = V.policy_and_rewards(ref, r, "ref", "r")
    V.same_shape(ppi, pref, "pi", "ref")
    kind, nn = _procedure(procedure, N)
    V.choice(against, "against", _AGAINST)
    return _finite_win_rate(ppi, pref, rr, kind, nn, against)


def _lemma_b(a, c, kind, n):
    """Lemma B on levels: gradient of W = sum_l T(a)_l c_l w.r.t. the level masses a (up to a constant)."""
    if kind == "bon":
        F = np.minimum(np.cumsum(a), 1.0)
        dc = c - np.concatenate((c[1:], [0.0]))
        terms = n * np.power(F, n - 1.0) * dc
        return np.cumsum(terms[::-1])[::-1]
    S = np.concatenate((np.cumsum(a[::-1])[::-1][1:], [0.0]))
    dc = np.concatenate((c[1:], [c[-1]])) - c
    terms = n * np.power(S, n - 1.0) * dc
    return -np.cumsum(terms[::-1])[::-1]


def transformed_reward(pi, ref, r, procedure: str = "bon", N=1, *, against: str = "decoded") -> np.ndarray:
    r"""Theorem A's transformed reward: the gradient of the inference-time win rate, on a finite law.

    .. math::

        \text{BoN: }\ \mathcal R(y\in\ell_j)=\sum_{i\ge j}N F_i^{N-1}(c_i-c_{i+1}),\qquad
        \text{WoN: }\ \mathcal R(y\in\ell_j)=-\sum_{i=j}^{L-1}N S_i^{N-1}(c_{i+1}-c_i),

    with :math:`F_i, S_i` the CDF and survival of ``pi`` at the reward levels :math:`\ell_1<\dots<\ell_L` of ``r``,
    :math:`c_i` the calibrated reward of level :math:`i` under the comparator (:math:`\mathcal T(\pi_{\rm ref})` or
    :math:`\pi_{\rm ref}`) and :math:`c_{L+1}=0` (spec Lemma B). The optimum of
    :math:`W^{\mathcal T}-\beta\,\mathrm{KL}` satisfies :math:`\pi^\star\propto\pi_{\rm ref}e^{\mathcal R_{\pi^\star}/\beta}`.
    Defined up to an additive constant; normalised to 0 at the lowest reward level. ``"std"`` gives the
    calibrated reward (shifted).

    Parameters
    ----------
    pi, ref, r, procedure, N, against
        As in :func:`inference_time_win_rate`.

    Returns
    -------
    ndarray, shape (K,)
        :math:`\partial W^{\mathcal T}/\partial\pi(y)` for every outcome, including those ``pi`` never produces.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, main theorem (RL with a transformed reward); spec Lemma B.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.transformed_reward([0.5, 0.5], [0.5, 0.5], [0, 1], "bon", 2)
    array([0. , 0.5])
    """
    ppi = V.probabilities(pi, "pi")
    pref, rr = V.policy_and_rewards(ref, r, "ref", "r")
    V.same_shape(ppi, pref, "pi", "ref")
    kind, nn = _procedure(procedure, N)
    V.choice(against, "against", _AGAINST)
    levels, inv = np.unique(rr, return_inverse=True)
    a = np.bincount(inv, weights=ppi, minlength=levels.size)
    comp = _decode(pref, rr, kind, nn) if against == "decoded" else pref
    c = calibrated(np.bincount(inv, weights=comp, minlength=levels.size), levels)
    g = _lemma_b(a, c, kind, nn[0])
    return (g - g[0])[inv]


@dataclass(frozen=True)
class CTRLPolicy:
    r"""A calibrate-and-transform policy on a finite law, :math:`\pi\propto\pi_{\rm ref}e^{\Phi(C)/\beta}`.

    Made by :func:`ctrl_policy`. ``policy`` is the law over outcomes; ``kl`` is
    :math:`\mathrm{KL}(\pi\|\pi_{\rm ref})` in nats (of the *trained* policy); :meth:`win_rate` gives the
    standard (``"std"``), best-of-N and worst-of-N inference-time win rates.

    .. math::

        \pi_{\Phi,\beta}(y)=\frac{\pi_{\rm ref}(y)\,e^{\Phi(C(y))/\beta}}{Z}.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, section 4 (CTRL).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> pol = ia.ctrl_policy([0.25] * 4, [0, 1, 2, 3], "identity", 0.2)
    >>> round(pol.kl, 9), round(pol.win_rate("won", 4), 9)
    (0.587454922, 0.90195147)
    """

    ref: np.ndarray = field(repr=False)
    r: np.ndarray = field(repr=False)
    transform: Transform
    beta: float
    policy: np.ndarray = field(repr=False)

    @property
    def kl(self) -> float:
        """KL(policy || ref) in nats."""
        return float(_kl(self.policy, self.ref))

    def win_rate(self, procedure: str = "std", N=1, *, against: str = "decoded") -> float:
        """Inference-time win rate (:func:`inference_time_win_rate`) of the policy over the reference."""
        return inference_time_win_rate(self.policy, self.ref, self.r, procedure, N, against=against)

    def transformed_reward(self, procedure: str = "bon", N=1, *, against: str = "decoded") -> np.ndarray:
        """Lemma B's reward at this policy (:func:`transformed_reward`)."""
        return transformed_reward(self.policy, self.ref, self.r, procedure, N, against=against)


def _finite_phi(tr, pp, rr):
    values = tr(calibrated(pp, rr))
    bad = (pp > 0) & ~np.isfinite(values)
    if np.any(bad) or np.any(np.isnan(values)):
        raise ValueError(f"transform {tr.name} must be finite at the calibrated rewards of the support of p")
    return np.where(np.isfinite(values), values, 0.0)


def ctrl_policy(p, r, transform, beta) -> CTRLPolicy:
    r"""The CTRL policy of a finite law: the KL-regularised optimum for the reward :math:`\Phi(C(y))`.

    .. math::

        \pi_{\Phi,\beta}(y)\propto p(y)\,e^{\Phi(C(y))/\beta},\qquad C = \text{calibrated\_reward}(p, r),

    computed by :func:`alignsim.tilt` (log space). For a memoryless LM pass its reward-level law:
    ``levels, probs = lm.reward_law(); ctrl_policy(probs, levels, ...)`` (CTRL depends on sequences only through
    their reward level).

    Parameters
    ----------
    p, r : array_like, shape (K,)
        Reference law and rewards.
    transform : Transform, str or callable
    beta : float
        :math:`0<\beta\le\infty`, in the scale of ``transform`` (see :func:`exp`).

    Returns
    -------
    CTRLPolicy

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, section 4; spec section 3.6.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> pol = ia.ctrl_policy([0.5, 0.5], [0, 1], "identity", 1.0)
    >>> pol.policy.round(6)
    array([0.377541, 0.622459])
    """
    pp, rr = V.policy_and_rewards(p, r)
    tr = _transform(transform)
    b = V.beta(beta)
    return CTRLPolicy(pp, rr, tr, b, tilt(pp, _finite_phi(tr, pp, rr), b))


# --------------------------------------------------------------------------------------------------------------
# The continuous model in calibrated units
# --------------------------------------------------------------------------------------------------------------
_GRID_INTERVALS = 2 ** 14


@dataclass(frozen=True)
class _Grid:
    """Nodes u(s) = s^3 (10 - 15 s + 6 s^2) (graded at both ends), with Simpson weights of du."""

    s_step: float
    u: np.ndarray
    v: np.ndarray  # 1 - u, computed without cancellation near u = 1
    du: np.ndarray  # du/ds
    w: np.ndarray  # Simpson weights times du/ds: sum(w * f(u)) = int_0^1 f(u) du

    def integral(self, f: np.ndarray) -> float:
        return float(np.dot(self.w, f))

    def cumulative(self, f: np.ndarray) -> np.ndarray:
        return cumulative_simpson(f * self.du, dx=self.s_step, initial=0.0)


_GRIDS: dict[int, _Grid] = {}


def _intervals(intervals) -> int:
    n = V.length(intervals, "intervals")
    if n % 2 or n < 16:
        raise ValueError(f"intervals must be an even integer >= 16, got {intervals}")
    return n


def _grid(intervals: int = _GRID_INTERVALS) -> _Grid:
    if intervals not in _GRIDS:
        s = np.linspace(0.0, 1.0, intervals + 1)
        t = 1.0 - s
        u = s ** 3 * (10.0 - 15.0 * s + 6.0 * s * s)
        v = t ** 3 * (10.0 - 15.0 * t + 6.0 * t * t)
        du = 30.0 * s * s * t * t
        h = 1.0 / intervals
        simpson = np.ones(intervals + 1)
        simpson[1:-1:2], simpson[2:-1:2] = 4.0, 2.0
        _GRIDS[intervals] = _Grid(h, u, v, du, simpson * h / 3.0 * du)
    return _GRIDS[intervals]


class _Unresolved(ValueError):
    """A density narrower than the grid resolves."""


@dataclass(frozen=True)
class _Density:
    """A density on the grid from its unnormalised log, with CDF and KL from the uniform reference."""

    grid: _Grid
    log_p: np.ndarray
    p: np.ndarray
    F: np.ndarray
    kl: float

    @classmethod
    def from_log(cls, grid: _Grid, log_w: np.ndarray) -> _Density:
        shifted = log_w - np.max(log_w)
        y = np.exp(shifted)
        cum = grid.cumulative(y)
        z = cum[-1]
        if not z > 0:
            raise _Unresolved("the tilt is too concentrated for the grid: all its weight is on an end point; "
                              "lower the KL target or raise beta")
        p = y / z
        log_p = shifted - math.log(z)
        with np.errstate(invalid="ignore"):
            plogp = np.where(p > 0, p * log_p, 0.0)
        return cls(grid, log_p, p, np.clip(cum / z, 0.0, 1.0), max(grid.integral(plogp), 0.0))

    def comparator(self, kind, n, against):
        """Density of the comparator: T(Unif) (N u^{N-1} or N (1-u)^{N-1}) or Unif itself."""
        g = self.grid
        if against == "reference" or n == 1:
            return np.ones_like(g.u)
        return n * np.power(g.u if kind == "bon" else g.v, n - 1.0)

    def win_rate(self, kind, n, against) -> float:
        # W = 1 - int F_T(pi) dG  = int (1-F)^N dG for worst-of-N (integration by parts; spec table 3.1)
        cmp = self.comparator(kind, n, against)
        if kind == "bon":
            return 1.0 - self.grid.integral(np.power(self.F, n) * cmp)
        return self.grid.integral(np.power(1.0 - self.F, n) * cmp)

    def gradient(self, kind, n, against) -> np.ndarray:
        """Lemma B in calibrated units, normalised to 0 at u = 0."""
        # dW/dp(v) = -int_v^1 N F^{N-1} dG (BoN) or -int_v^1 N (1-F)^{N-1} dG (WoN); minus its value at v = 0
        cmp = self.comparator(kind, n, against)
        return self.grid.cumulative(n * np.power(self.F if kind == "bon" else 1.0 - self.F, n - 1.0) * cmp)


def _uniform_kind(procedure, N, against):
    kind, nn = _procedure(procedure, N)
    V.choice(against, "against", _AGAINST)
    return kind, nn[0]


class UniformCTRL:
    r"""A CTRL policy in the continuous model: reference :math:`\mathrm{Unif}[0,1]` in calibrated units.

    .. math::

        p_{\Phi,\beta}(u)=\frac{e^{\Phi(u)/\beta}}{Z},\quad
        \mathrm{KL}=\int_0^1p\log p,\quad
        W^{\rm bon}_N=1-\int_0^1Nu^{N-1}F(u)^N du,\quad W^{\rm won}_N=\int_0^1N(1-u)^{N-1}(1-F(u))^Ndu,

    with :math:`F` the policy CDF (spec section 3.1); against plain reference samples the weights
    :math:`Nu^{N-1}`, :math:`N(1-u)^{N-1}` become 1. By calibration invariance (spec Theorem C) these are the KL
    and win rates of :math:`\pi_{\Phi,\beta}` for every prompt, reference and reward without atoms.

    Parameters
    ----------
    transform : Transform, str or callable
    beta : float, optional
        :math:`0<\beta<\infty`, in the scale of ``transform``. Give exactly one of ``beta``, ``kl``,
        ``log_lambda``.
    kl : float, optional
        Target KL in nats; :math:`\beta` is found by Brent's method in :math:`\log\lambda` (:func:`beta_for_kl`).
    log_lambda : float, optional
        :math:`\log(1/\beta)`, for tilts whose :math:`\beta` is below the float range.
    intervals : int
        Grid intervals (even), default :math:`2^{14}`.

    Attributes
    ----------
    transform, log_lambda, beta, kl, u (grid), density (on the grid), cdf (on the grid)

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (the analytical tool); spec ``infalign.md`` sections 2-3.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> pol = ia.UniformCTRL("identity", beta=1.0)
    >>> round(pol.kl, 9), round(pol.win_rate("bon", 4), 9), round(pol.win_rate("won", 4), 9)
    (0.040651852, 0.603559328, 0.614065101)
    """

    def __init__(self, transform, beta=None, *, kl=None, log_lambda=None, intervals: int = _GRID_INTERVALS):
        self.transform = _transform(transform)
        given = [x is not None for x in (beta, kl, log_lambda)]
        if sum(given) != 1:
            raise ValueError("give exactly one of beta, kl and log_lambda")
        grid = _grid(_intervals(intervals))
        if beta is not None:
            ll = -math.log(V.real(beta, "beta", low=0.0, low_open=True))
        elif kl is not None:
            ll = _solve_log_lambda(self.transform, grid, V.real(kl, "kl", low=0.0, low_open=True))
        else:
            ll = V.real(log_lambda, "log_lambda")
        self.log_lambda = ll
        self._d = _Density.from_log(grid, self.transform.scaled(grid.u, ll))

    @property
    def beta(self) -> float:
        """:math:`\\beta = e^{-\\log\\lambda}` (0.0 if below the float range; see ``log_lambda``)."""
        return math.exp(-self.log_lambda)

    @property
    def kl(self) -> float:
        """KL(policy || Unif[0, 1]) in nats."""
        return self._d.kl

    @property
    def u(self) -> np.ndarray:
        return self._d.grid.u.copy()

    @property
    def density(self) -> np.ndarray:
        return self._d.p.copy()

    @property
    def cdf(self) -> np.ndarray:
        return self._d.F.copy()

    def win_rate(self, procedure: str = "std", N=1, *, against: str = "decoded") -> float:
        """Standard (``"std"``), best-of-N or worst-of-N inference-time win rate over the reference."""
        kind, n = _uniform_kind(procedure, N, against)
        return self._d.win_rate(kind, n, against)

    def transformed_reward(self, procedure: str = "bon", N=1, *, against: str = "decoded") -> np.ndarray:
        r"""Lemma B on the grid: :math:`\mathcal R^{\rm bon}(u)=N^2\int_0^u(sF(s))^{N-1}ds`,
        :math:`\mathcal R^{\rm won}(u)=-N^2\int_u^1((1-s)(1-F(s)))^{N-1}ds`, shifted to 0 at :math:`u=0`."""
        kind, n = _uniform_kind(procedure, N, against)
        return self._d.gradient(kind, n, against)

    def __repr__(self):
        return f"UniformCTRL({self.transform!r}, log_lambda={self.log_lambda:.6g}, kl={self.kl:.6g})"


def _solve_log_lambda(tr: Transform, grid: _Grid, target: float) -> float:
    """Brent in log(lambda) for KL = target, the bracket expanded adaptively (spec section 3.3).

    A step that overshoots into tilts too concentrated for the grid (all weight on a zero-width end node) is
    halved back until the KL is resolved again.
    """
    lam_phi = tr.on(grid.u)

    def f(ll):
        try:
            return _Density.from_log(grid, lam_phi(ll)).kl - target
        except _Unresolved:
            return math.inf

    lo, hi = -2.0, 2.0
    while f(lo) > 0:
        lo -= 4.0
        if lo < -200:
            raise ValueError(f"kl={target!r} is too small to resolve for transform {tr.name}")
    step, prev = 4.0, f(lo)
    cur = f(hi)
    while cur < 0:
        if cur <= prev or hi > _LOG_LAMBDA_MAX:
            raise ValueError(f"kl={target!r} is unattainable for transform {tr.name}: the KL saturates at "
                             f"{cur + target:.6g} (the arg-max set of the transform has positive measure, or the "
                             "grid cannot resolve the limit)")
        lo, prev, hi = hi, cur, hi + step
        cur, step = f(hi), step * 2.0
        while cur == math.inf:
            hi = 0.5 * (lo + hi)
            cur, step = f(hi), 4.0
    return brentq(f, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps)


def beta_for_kl(transform, kl, p=None, r=None) -> float:
    r"""KL coefficient :math:`\beta` at which the CTRL policy of ``transform`` has the target KL.

    .. math::

        \mathrm{KL}(\pi_{\Phi,\beta}\|\pi_{\rm ref}) = \kappa,\qquad
        \frac{d\,\mathrm{KL}}{d\lambda}=\lambda\,\mathrm{Var}_{\pi}(\Phi)>0,

    so the root is unique; Brent's method in :math:`\log\lambda` with an adaptively expanded bracket (spec
    section 3.3). A target at or above :math:`\mathrm{KL}_{\max}=-\log\pi_{\rm ref}(\arg\max\Phi)` is unattainable
    and raises ``ValueError``.

    Parameters
    ----------
    transform : Transform, str or callable
    kl : float
        Target KL in nats, > 0.
    p, r : array_like, optional
        A finite law; without them, the continuous model (:class:`UniformCTRL`).

    Returns
    -------
    float
        :math:`\beta` in the scale of ``transform`` (may underflow to 0 for extreme ``negexp``; use
        ``UniformCTRL(transform, kl=...)``, which keeps :math:`\log\lambda`).

    References
    ----------
    .. [1] Spec ``infalign.md`` section 3.3 (root finding for beta).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> round(ia.beta_for_kl("identity", 0.5), 9)
    0.242807959
    """
    target = V.real(kl, "kl", low=0.0, low_open=True)
    tr = _transform(transform)
    if p is None and r is None:
        return math.exp(-_solve_log_lambda(tr, _grid(), target))
    pp, rr = V.policy_and_rewards(p, r)
    values = _finite_phi(tr, pp, rr)
    top = max_kl(pp, values)
    if target >= top:
        raise ValueError(f"kl={target!r} is unattainable: the largest KL of transform {tr.name} on this law is "
                         f"-log p(argmax) = {top:.12g}")
    return _tilt_beta_for_kl(pp, values, target, strict=True)


# --------------------------------------------------------------------------------------------------------------
# Choosing the transform
# --------------------------------------------------------------------------------------------------------------
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(400)


def small_kl_t(N) -> float:
    r"""Best exponent :math:`t_0(N)` of :func:`exp` (and of :func:`negexp`) as the KL budget tends to 0.

    At small KL the optimal policy is :math:`1+\varepsilon(\mathcal R_0-\bar{\mathcal R}_0)` with
    :math:`\mathcal R_0\propto u^{2N-1}` (BoN) or :math:`-(1-u)^{2N-1}` (WoN), and a transform with correlation
    :math:`\rho` to it gains :math:`\rho N\sqrt{\kappa/(2(4N-1))}`; so

    .. math::

        t_0(N)=\arg\max_t\ \mathrm{Corr}_{U\sim\mathrm{Unif}}\big(e^{tU},\,U^{2N-1}\big)\approx 2N,

    the same for BoN and WoN (Gauss-Legendre quadrature, 400 nodes; Brent on the derivative).

    Parameters
    ----------
    N : float
        :math:`N\ge2` (for :math:`N=1` the identity, :math:`t\to0`, is optimal).

    References
    ----------
    .. [1] Spec ``infalign.md``, "How t is chosen" (small-KL rule).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> round(ia.small_kl_t(4), 4)
    7.8246
    """
    n = V.real(N, "N", low=2.0)
    u = 0.5 * (_GL_NODES + 1.0)
    w = 0.5 * _GL_WEIGHTS
    target = u ** (2.0 * n - 1.0)
    tc = target - w @ target

    def slope(log_t):
        # d/dt Corr(x, y) has the sign of Cov(x', y) Var(x) - Cov(x, y) Cov(x, x'), x = e^{t(u-1)}, x' = (u-1) x;
        # a root of the derivative is found to ~1e-12, where maximising the flat correlation gives only ~1e-7
        x = np.exp(math.exp(log_t) * (u - 1.0))
        xc = x - w @ x
        dx = (u - 1.0) * x
        dxc = dx - w @ dx
        return (w @ (dxc * tc)) * (w @ (xc * xc)) - (w @ (xc * tc)) * (w @ (xc * dxc))

    return math.exp(brentq(slope, math.log(0.1), math.log(8.0 * n + 10.0), xtol=1e-14))


def _family(kind):
    return exp if kind == "bon" else negexp


def best_t(procedure: str, N, kl, *, intervals: int = _GRID_INTERVALS) -> tuple[float, float]:
    r"""Best exponent of the exponential transform for best-of-N (:func:`exp`) or worst-of-N (:func:`negexp`)
    at a KL budget, in the continuous model.

    .. math::

        t^\star = \arg\max_t\ W^{\mathcal T}_N\big(\pi_{\Phi_t,\beta(t)}\big),\qquad
        \mathrm{KL}(\pi_{\Phi_t,\beta(t)}) = \kappa,

    by a scan in :math:`\log t` from :math:`t_0(N)/2` (:func:`small_kl_t`) until the win rate falls, then
    Brent's bounded method. The win rate is flat near :math:`t^\star`: report :math:`t^\star` to two or three
    significant figures (spec pitfall 9).

    Parameters
    ----------
    procedure : {"bon", "won"}
    N : float
        :math:`N\ge2`.
    kl : float
        KL budget in nats.
    intervals : int

    Returns
    -------
    (t_star, win_rate) : tuple of float

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (exponential transforms close to optimal); spec section 4.4.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> t, w = ia.best_t("bon", 4, 0.5, intervals=2 ** 12)
    >>> round(t, 1), round(w, 4)
    (12.6, 0.8727)
    """
    V.choice(procedure, "procedure", ("bon", "won"))
    n = V.real(N, "N", low=2.0)
    target = V.real(kl, "kl", low=0.0, low_open=True)
    family = _family(procedure)

    def win(log_t):
        return UniformCTRL(family(math.exp(log_t)), kl=target, intervals=intervals).win_rate(procedure, n)

    step = math.log(1.25)
    xs = [math.log(small_kl_t(n) / 2.0)]
    ws = [win(xs[0])]
    while int(np.argmax(ws)) == 0 and xs[0] > math.log(0.05):
        xs.insert(0, xs[0] - step)
        ws.insert(0, win(xs[0]))
    while int(np.argmax(ws)) >= len(ws) - 2:
        if len(xs) > 80:
            raise ValueError(f"no maximum of the win rate found for t up to {math.exp(xs[-1]):.4g}")
        xs.append(xs[-1] + step)
        ws.append(win(xs[-1]))
    i = int(np.argmax(ws))
    lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, len(xs) - 1)]
    res = minimize_scalar(lambda x: -win(x), bounds=(lo, hi), method="bounded", options={"xatol": 1e-7})
    return math.exp(res.x), -float(res.fun)


@dataclass(frozen=True)
class OptimalTransform:
    r"""The inference-aware optimum found by :func:`optimal_transform`.

    .. math::

        \Phi^\star = \mathcal R_{\pi^\star},\qquad \pi^\star\propto\pi_{\rm ref}e^{\Phi^\star/\beta}.

    Attributes
    ----------
    procedure : str
    N : float
    beta : float
    kl : float
        KL of the optimal policy (nats).
    win_rate : float
        Its inference-time win rate (decoded on both sides).
    phi : ndarray
        :math:`\Phi^\star` on the grid (continuous model) or on the outcomes (finite law), 0 at the bottom.
    policy : ndarray
        Density on the grid, or law over outcomes.
    u : ndarray or None
        Grid (continuous model only).
    residual : float
        :math:`\sup|\mathcal R_{\pi^\star}-\Phi^\star|` at the returned point.
    certificate : float
        Continuous model: :math:`|W^\star-\frac\beta N(p^\star(1)-1)|` (BoN) or
        :math:`|W^\star-1+\frac\beta N(1-p^\star(0))|` (WoN); finite law: the KKT residual of the simplex problem.
    iterations : int
        Fixed-point steps in total (over all values of beta tried when a KL target was given).

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, main theorem; spec sections 2 and 3.4.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> opt = ia.optimal_transform("bon", 4, beta=0.1, intervals=2 ** 12)
    >>> round(opt.win_rate, 6), opt.certificate < 1e-8
    (0.93117, True)
    """

    procedure: str
    N: float
    beta: float
    kl: float
    win_rate: float
    phi: np.ndarray = field(repr=False)
    policy: np.ndarray = field(repr=False)
    u: np.ndarray | None = field(repr=False)
    residual: float
    certificate: float
    iterations: int


def _fixed_point(step, phi0, alpha, tol, max_iter, memory=3, patience=300):
    """Damped iteration x <- G(x) = (1 - alpha) x + alpha step(x) (mirror ascent) until sup |G(x) - x| < tol.

    The first ``patience`` steps use Anderson mixing over the last ``memory`` differences, which cuts the
    450-750 damped steps of spec section 3.4 to 10-100; if that has not converged, or a mixed step makes the
    residual grow a hundredfold, the plain damped iteration continues from the best point seen (it converges in
    every case of the spec, only slower).
    """
    x, d_f, d_g, prev = phi0, [], [], None
    best, best_x = math.inf, phi0
    for k in range(1, max_iter + 1):
        g = (1.0 - alpha) * x + alpha * step(x)
        f = g - x
        size = float(np.max(np.abs(f)))
        if size < tol:
            return g, k
        mixing = k <= patience and size <= 100.0 * best
        if size < best:
            best, best_x = size, g
        if not mixing:
            x = g if k > patience + 1 or size <= 100.0 * best else best_x
            patience = 0
            continue
        if prev is not None:
            d_f.append(f - prev[0])
            d_g.append(g - prev[1])
            del d_f[:-memory], d_g[:-memory]
        prev = (f, g)
        x = g - np.array(d_g).T @ np.linalg.lstsq(np.array(d_f).T, f, rcond=None)[0] if d_f else g
    raise ValueError(f"the fixed-point iteration did not converge in {max_iter} steps (last change {size:.3g}); "
                     "lower alpha or raise max_iter (or the grid cannot resolve the optimum's spike)")


def optimal_transform(procedure: str, N, *, beta=None, kl=None, p=None, r=None, alpha: float = 0.05,
                      tol: float = 1e-12, max_iter: int = 20_000, intervals: int = _GRID_INTERVALS,
                      ) -> OptimalTransform:
    r"""The optimal inference-aware policy: maximiser of :math:`W^{\mathcal T}_N(\pi)-\beta\,\mathrm{KL}(\pi\|\pi_{\rm ref})`.

    By Theorem A the optimum is the RLHF solution for the transformed reward :math:`\mathcal R_{\pi^\star}`
    (Lemma B), a fixed point found by damped iteration (mirror ascent with step :math:`\alpha/\beta`, spec
    section 3.4):

    .. math::

        \Phi_{k+1} = (1-\alpha)\Phi_k + \alpha\big(\mathcal R_{\pi_k}-\mathcal R_{\pi_k}(0)\big),\qquad
        \pi_k\propto\pi_{\rm ref}e^{\Phi_k/\beta},\qquad \Phi_0(u) = u,

    stopped when :math:`\alpha\sup|\mathcal R-\Phi|<` ``tol``. For BoN the objective is strictly concave, so the
    fixed point is the global optimum; for WoN it is a stationary point (spec Theorem A, concavity). On a finite
    law WoN can have several (a large tie at the bottom makes the reference a local maximum), so with ``beta``
    given the iteration also starts from the reference and from policies piled on the top level, and the best
    objective is kept; with a ``kl`` target the branch continued from the reference is followed. With
    ``kl`` given, :math:`\beta` is found by Brent's method in :math:`\log\beta`, each solve warm-started from the
    previous one. Certificates: :math:`W^\star=\frac\beta N(p^\star(1)-1)` (BoN),
    :math:`W^\star=1-\frac\beta N(1-p^\star(0))` (WoN).

    Parameters
    ----------
    procedure : {"bon", "won"}
    N : float
        :math:`N\ge1`.
    beta, kl : float
        Exactly one: the KL coefficient, or a KL target in nats.
    p, r : array_like, optional
        A finite law (exact, on reward levels); without them the continuous model.
    alpha : float
        Damping in (0, 1]; 0.05 converges in every case of the spec (larger values oscillate at small beta).
    tol : float
    max_iter : int
    intervals : int
        Grid intervals (continuous model).

    Returns
    -------
    OptimalTransform

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, main theorem; spec sections 2 (Lemma B) and 3.4.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> opt = ia.optimal_transform("won", 4, beta=0.1, intervals=2 ** 12)
    >>> round(opt.win_rate, 9)
    0.975
    """
    kind, nn = _procedure(procedure, N)
    if procedure == "std":
        raise ValueError("procedure must be 'bon' or 'won' (the standard win rate's optimum is the identity "
                         "transform)")
    n = nn[0]
    a = V.real(alpha, "alpha", low=0.0, high=1.0, low_open=True)
    tl = V.real(tol, "tol", low=0.0, low_open=True)
    iters = V.length(max_iter, "max_iter")
    if (beta is None) == (kl is None):
        raise ValueError("give exactly one of beta and kl")
    if (p is None) != (r is None):
        raise ValueError("give both p and r (a finite law) or neither (the continuous model)")
    if p is None:
        problem = _ContinuousProblem(_grid(_intervals(intervals)), kind, n)
    else:
        problem = _FiniteProblem(*V.policy_and_rewards(p, r), kind, nn)
    warm, count = [problem.start()], [0]

    def solve(b):
        try:
            phi, k = _fixed_point(lambda x: problem.step(x, b), warm[0], a, tl, iters)
        except ValueError:  # a warm start from a distant beta can stall; the cold start is the spec's
            phi, k = _fixed_point(lambda x: problem.step(x, b), problem.start(), a, tl, iters)
        warm[0] = phi
        count[0] += k
        return phi, k

    if beta is not None:
        b = V.real(beta, "beta", low=0.0, low_open=True)
    else:
        target = V.real(kl, "kl", low=0.0, low_open=True)
        top = problem.max_kl()
        if target >= top:
            raise ValueError(f"kl={target!r} is unattainable: the largest KL is {top:.6g}")

        def f(log_b):
            return problem.kl(solve(math.exp(log_b))[0], math.exp(log_b)) - target

        lo, hi = -1.0, 0.0
        while f(hi) > 0:
            lo, hi = hi, hi + 1.0
        while f(lo) < 0:
            lo, hi = lo - 1.0, lo
            if lo < -60:
                raise ValueError(f"kl={target!r} needs beta below 1e-26; not supported")
        b = math.exp(brentq(f, lo, hi, xtol=1e-12))
    phi, _ = solve(b)
    if p is not None and procedure == "won" and beta is not None:
        # On a finite law WoN's objective can have several stationary points (a large tie at the bottom makes the
        # reference a local maximum and leaves a local minimum between it and the top: found by hypothesis), so
        # also start from the reference and from policies piled on the top level, and keep the best objective.
        candidates = [phi]
        for scale in (0.0, 10.0, 100.0):
            try:
                other, k = _fixed_point(lambda x: problem.step(x, b), scale * problem.start(), a, tl, iters)
            except ValueError:  # a start that stalls is simply not a candidate
                continue
            candidates.append(other)
            count[0] += k
        phi = max(candidates, key=lambda x: problem.objective(x, b))
    return problem.result(procedure, b, phi, count[0])


class _ContinuousProblem:
    def __init__(self, grid, kind, n):
        self.grid, self.kind, self.n = grid, kind, n

    def start(self):
        return self.grid.u.copy()

    def density(self, phi, b):
        return _Density.from_log(self.grid, phi / b)

    def step(self, phi, b):
        return self.density(phi, b).gradient(self.kind, self.n, "decoded")

    def kl(self, phi, b):
        return self.density(phi, b).kl

    def max_kl(self):
        return math.inf

    def result(self, procedure, b, phi, k):
        d = self.density(phi, b)
        w = d.win_rate(self.kind, self.n, "decoded")
        residual = float(np.max(np.abs(d.gradient(self.kind, self.n, "decoded") - phi)))
        if self.kind == "bon":
            cert = abs(w - b / self.n * (d.p[-1] - 1.0))
        else:
            cert = abs(w - 1.0 + b / self.n * (1.0 - d.p[0]))
        return OptimalTransform(procedure, self.n, b, d.kl, w, phi, d.p.copy(), self.grid.u.copy(), residual,
                                float(cert), k)


class _FiniteProblem:
    def __init__(self, pp, rr, kind, nn):
        self.pp, self.rr, self.kind, self.nn = pp, rr, kind, nn
        self.levels, self.inv = np.unique(rr, return_inverse=True)
        self.mass = np.bincount(self.inv, weights=pp, minlength=self.levels.size)
        comp = _decode(pp, rr, kind, nn)
        self.c = calibrated(np.bincount(self.inv, weights=comp, minlength=self.levels.size), self.levels)

    def start(self):
        return self.c - self.c[0]

    def level_law(self, phi, b):
        return tilt(self.mass, phi, b)

    def step(self, phi, b):
        g = _lemma_b(self.level_law(phi, b), self.c, self.kind, self.nn[0])
        return g - g[0]

    def kl(self, phi, b):
        return float(_kl(self.level_law(phi, b), self.mass))

    def objective(self, phi, b):
        res = self.result(self.kind, b, phi, 0)
        return res.win_rate - b * res.kl

    def max_kl(self):
        # Lemma B's reward increases with the level for BoN and WoN alike: beta -> 0 keeps the top level
        return -math.log(self.mass[self.mass > 0][-1])

    def result(self, procedure, b, phi, k):
        a = self.level_law(phi, b)
        policy = self.pp * np.where(self.mass > 0, a / np.where(self.mass > 0, self.mass, 1.0), 0.0)[self.inv]
        w = _finite_win_rate(policy, self.pp, self.rr, self.kind, self.nn, "decoded")
        g = self.step(phi, b)
        residual = float(np.max(np.abs(g - phi)))
        # KKT of max W - beta KL on the simplex: R - beta (log(a/mass) + 1) is constant on the support.
        s = self.mass > 0
        stationarity = g[s] - b * np.log(a[s] / self.mass[s])
        return OptimalTransform(procedure, self.nn[0], b, float(_kl(a, self.mass)), w, phi[self.inv], policy, None,
                                residual, float(np.ptp(stationarity)), k)


def optimal_frontier(procedure: str, N, betas, *, intervals: int = _GRID_INTERVALS, alpha: float = 0.05,
                     tol: float = 1e-12):
    r"""The optimal inference-aware trade-off curve in the continuous model: :func:`optimal_transform` over a
    sweep of :math:`\beta`, each solve warm-started from the previous one.

    .. math::

        \beta\ \mapsto\ \big(\mathrm{KL}(\pi^\star_\beta),\ W^{\mathcal T}_N(\pi^\star_\beta)\big),\qquad
        \pi^\star_\beta = \arg\max_\pi W^{\mathcal T}_N(\pi)-\beta\,\mathrm{KL}(\pi\|\pi_{\rm ref}).

    Parameters
    ----------
    procedure : {"bon", "won"}
    N : float
    betas : array_like
        Positive KL coefficients (solved in the given order; decreasing order warm-starts best).
    intervals, alpha, tol
        As in :func:`optimal_transform`.

    Returns
    -------
    pandas.DataFrame
        Columns ``beta``, ``kl``, ``win_rate``, ``certificate``.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792; spec section 3.4.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> df = ia.optimal_frontier("bon", 4, [1.0, 0.1], intervals=2 ** 12)
    >>> df["win_rate"].round(6).tolist()
    [0.689661, 0.93117]
    """
    import pandas as pd

    kind, nn = _procedure(procedure, N)
    if procedure == "std":
        raise ValueError("procedure must be 'bon' or 'won'")
    bs = V.real_array(betas, "betas", low=0.0, low_open=True).ravel()
    n_int = _intervals(intervals)
    a = V.real(alpha, "alpha", low=0.0, high=1.0, low_open=True)
    problem = _ContinuousProblem(_grid(n_int), kind, nn[0])
    phi, rows = problem.start(), []
    for b in bs:
        phi = _fixed_point(lambda x, b=b: problem.step(x, b), phi, a, tol, 20_000)[0]
        res = problem.result(procedure, float(b), phi, 0)
        rows.append((float(b), res.kl, res.win_rate, res.certificate))
    return pd.DataFrame(rows, columns=["beta", "kl", "win_rate", "certificate"])


#: The rows (procedure, N, KL) of spec ``infalign.md`` section 4.4.
FRONTIER_ROWS = tuple(
    [("bon", n, k) for n in (2, 4, 8) for k in (0.1, 0.25, 0.5, 1.0, 2.0)]
    + [("bon", 16, k) for k in (0.05, 0.25, 0.5, 1.0)]
    + [("bon", 32, k) for k in (0.05, 0.1, 0.25, 0.5, 1.0)]
    + [("won", n, k) for n in (2, 4) for k in (0.1, 0.25, 0.5, 1.0, 2.0)]
    + [("won", 8, k) for k in (0.1, 0.25, 0.5, 1.0)]
    + [("won", 16, k) for k in (0.05, 0.1, 0.25)]
    + [("won", 32, k) for k in (0.05, 0.1, 0.25)]
)


def frontier_table(rows=FRONTIER_ROWS, *, intervals: int = _GRID_INTERVALS, progress=None):
    r"""Inference-time win rates at matched KL of the identity, log, tuned exponential and optimal transforms.

    For each ``(procedure, N, kl)``: the win rate :math:`W^{\mathcal T}_N` of the identity and log CTRL policies
    at that KL, the best exponent :math:`t^\star` of :func:`exp` (BoN) or :func:`negexp` (WoN) and its win rate
    (:func:`best_t`), and the optimum with its :math:`\beta` (:func:`optimal_transform`), all in the continuous
    model (spec section 4.4, whose table the defaults reproduce).

    .. math::

        W^{\mathcal T}_N(\pi_{\Phi,\beta(\Phi,\kappa)})\quad\text{for }\Phi\in\{u,\ \log u,\ e^{t^\star(u-1)}
        \text{ or } -e^{-t^\star u},\ \Phi^\star\}.

    Parameters
    ----------
    rows : iterable of (procedure, N, kl)
    intervals : int
    progress : callable, optional
        ``progress(i, total)`` after each row.

    Returns
    -------
    pandas.DataFrame
        Columns ``procedure, N, kl, identity, log, t_star, tuned, optimum, beta_opt``.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (exponential transforms close to optimal); spec section 4.4.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> row = ia.frontier_table([("bon", 4, 0.5)], intervals=2 ** 12).iloc[0]
    >>> [round(float(row[k]), 4) for k in ("identity", "log", "t_star", "tuned", "optimum", "beta_opt")]
    [0.7998, 0.7682, 12.6338, 0.8727, 0.8733, 0.2166]
    """
    import pandas as pd

    rows = list(rows)
    out = []
    for i, (procedure, N, kl) in enumerate(rows):
        V.choice(procedure, "procedure", ("bon", "won"))
        ident = UniformCTRL("identity", kl=kl, intervals=intervals).win_rate(procedure, N)
        lg = UniformCTRL("log", kl=kl, intervals=intervals).win_rate(procedure, N)
        t_star, tuned = best_t(procedure, N, kl, intervals=intervals)
        opt = optimal_transform(procedure, N, kl=kl, intervals=intervals)
        out.append((procedure, N, kl, ident, lg, t_star, tuned, opt.win_rate, opt.beta))
        if progress is not None:
            progress(i, len(rows))
    return pd.DataFrame(out, columns=["procedure", "N", "kl", "identity", "log", "t_star", "tuned", "optimum",
                                      "beta_opt"])
