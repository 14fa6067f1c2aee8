r"""Transforms :math:`\Phi` of the calibrated reward used by CTRL policies, and the shared argument checks of
the InfAlign modules (procedures, comparison sides)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import binom

from .. import _validate as V


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

    Built by :func:`identity`, :func:`log_transform`, :func:`exp_transform`, :func:`negexp`, :func:`unified`, :func:`quantile`,
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
    .. [1] Balashankar et al., arXiv:2412.19792, section 4 (CTRL).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.exp_transform(2.0)(1.0), ia.negexp(2.0)(0.0)
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
        r""":math:`\lambda(\Phi(u)-\max\Phi)` from :math:`\log\lambda`, without overflow for any :math:`\lambda`.

        Parameters
        ----------
        u : ndarray
            Calibrated rewards in [0, 1].
        log_lam : float
            log of lambda = 1/beta (any real).

        Returns
        -------
        ndarray
            lambda (Phi(u) - max Phi), <= 0, same shape as u.
        """
        return self.on(u)(log_lam)

    def on(self, u: np.ndarray) -> Callable[[float], np.ndarray]:
        r"""Evaluate the transform once at the nodes ``u``; return :math:`\log\lambda\mapsto\lambda(\Phi-\max\Phi)`.

        With ``log_abs``: :math:`\pm(e^{a}-e^{a^*})=-e^{\max(a,a^*)}\,(1-e^{-|a-a^*|})`, :math:`a^*` the value at
        the maximiser of :math:`\Phi`. Otherwise :math:`\lambda` is capped at ``1e308`` (the policy has long
        reached its limit on the grid by then).

        Parameters
        ----------
        u : ndarray
            Nodes in [0, 1] at which the transform is evaluated once.

        Returns
        -------
        callable
            log_lam -> lambda (Phi(u) - max Phi) at the nodes.
        """
        if self.log_abs is not None:
            la = np.asarray(self.log_abs(u), dtype=float)
            top = np.max(la) if self.sign > 0 else np.min(la)
            hi, lo = np.maximum(la, top), np.minimum(la, top)
            with np.errstate(divide="ignore"):
                base = hi + np.log(-np.expm1(lo - hi))
            def scaled(log_lam):
                with np.errstate(over="ignore"):  # -inf: a node whose weight e^(lambda (Phi - max)) is 0
                    return -np.exp(log_lam + base)
            return scaled
        phi = np.asarray(self.phi(u), dtype=float)
        if np.any(np.isnan(phi)) or np.any(phi == np.inf):
            raise ValueError(f"transform {self.name} must be finite (or -inf) on [0, 1]; got NaN or +inf")
        if np.all(phi == -np.inf):
            raise ValueError(f"transform {self.name} is -inf everywhere on [0, 1]")
        gap = phi - np.max(phi)
        return lambda log_lam: math.exp(min(log_lam, 709.0)) * gap


def identity() -> Transform:
    r"""The identity transform :math:`\Phi(u)=u`: optimal for the standard win rate (result (A) of
    :mod:`alignsim.infalign` with :math:`\mathcal T=\mathrm{id}`).

    Returns
    -------
    Transform
        Phi(u) = u.

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


def log_transform() -> Transform:
    r"""The log transform :math:`\Phi(u)=\log u`: :math:`\pi\propto u^{\lambda}`, a Beta(:math:`\lambda+1`, 1)
    law; :math:`\lambda=N-1` is exactly best-of-N of the reference (BoN distillation).

    Returns
    -------
    Transform
        Phi(u) = log u.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.log_transform()(1.0)
    0.0
    """
    def phi(u):
        with np.errstate(divide="ignore"):
            return np.log(u)

    return Transform("log", None, phi)


def exp_transform(t) -> Transform:
    r"""The best-of-N transform ("positive exponent"), :math:`\Phi(u)=e^{t(u-1)}`, :math:`t>0`.

    The paper writes :math:`e^{tu}`; the two differ by the factor :math:`e^{t}`, absorbed by
    :math:`\beta_{\text{paper}} = \beta\,e^{t}` (``log_scale = t``). The stable form keeps :math:`\beta` in range for
    :math:`t` in the thousands.

    Parameters
    ----------
    t : float
        Exponent of the transform, t > 0.

    Returns
    -------
    Transform
        Phi(u) = exp(t (u - 1)).

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (exponential transforms for best-of-N).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> round(ia.exp_transform(3.0)(0.5), 12)
    0.223130160148
    """
    tt = V.real(t, "t", low=0.0, low_open=True)
    return Transform("exp", tt, lambda u: np.exp(tt * (u - 1.0)), log_scale=tt, log_abs=lambda u: tt * (u - 1.0))


def negexp(t) -> Transform:
    r"""The worst-of-N (jailbreaking) transform ("negative exponent"), :math:`\Phi(u)=-e^{-tu}`, :math:`t>0`.

    Increasing in :math:`u` (plain :math:`e^{-tu}` would reward low quantiles).

    Parameters
    ----------
    t : float
        Exponent of the transform, t > 0.

    Returns
    -------
    Transform
        Phi(u) = -exp(-t u).

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (negative-exponent transform for worst-of-N).

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

    :math:`t>0` gives the policies of :func:`exp_transform`, :math:`t<0` those of :func:`negexp` (up to scale and shift);
    :math:`|t|\le700` (use :func:`exp_transform` beyond).

    Parameters
    ----------
    t : float
        Exponent, :math:`|t|\le700` (t = 0 is the identity).

    Returns
    -------
    Transform
        Phi(u) = (exp(t u) - 1) / t.

    References
    ----------
    .. [1] A. Balashankar et al., "InfAlign: Inference-aware language model alignment", arXiv:2412.19792, section 4 (transforms).

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
    transform; e.g. ``quantile(scipy.stats.norm.ppf)`` for a Gaussian reward. Infinite end
    values are clamped to the nearest float inside (0, 1); the quadrature gives the end points zero weight.

    Parameters
    ----------
    ppf : callable
        Vectorised quantile function on [0, 1].
    name : str

    Returns
    -------
    Transform
        Phi = ppf.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (reward calibration); result (D) of :mod:`alignsim.infalign`.

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
    optimises :math:`\Phi_m` instead of :math:`\Phi`. For
    :math:`\Phi=e^{tu}`: :math:`\Phi_m(C)=(1-C+Ce^{t/m})^m\ge e^{tC}`.

    Parameters
    ----------
    transform : Transform, str or callable
    m : int
        Number of reference samples, :math:`m\ge1`.

    Returns
    -------
    Transform
        Phi_m, the expectation of Phi at the m-sample calibration estimate.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (reward calibration).

    Examples
    --------
    >>> import math
    >>> from alignsim import infalign as ia
    >>> round(ia.smoothed(ia.exp_transform(10.0), 100)(0.5) * math.exp(10.0), 7)   # paper scale e^{tu}
    168.1653886
    """
    tr = _transform(transform)
    mm = V.length(m, "m", high=10 ** 7, why="the transform is evaluated at the m + 1 points k/m")
    k = np.arange(mm + 1)
    values = tr(k / mm)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"transform {tr.name} is not finite on the calibration grid k/m (m={mm}); "
                         "the smoothed transform E[Phi(C_m)] is infinite")

    def phi(u):
        return binom.pmf(k, mm, np.asarray(u, dtype=float)[..., None]) @ values

    return Transform(f"{tr.name}_m{mm}", tr.t, phi, log_scale=tr.log_scale)


_NAMED = {"identity": identity, "log": log_transform}


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
    # (N as float, log N, N as given): the exact laws take N itself, which may be an integer beyond floats
    return ("bon", (1.0, 0.0, 1)) if procedure == "std" else (procedure, (n, log_n, N))
