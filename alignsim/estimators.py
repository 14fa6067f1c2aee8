r"""Sampled KL estimators k1, k2, k3 as numbers: stable values and exact moments.

Convention (spec ``estimators_dynamics.md`` section 1; say which argument is sampled): samples :math:`y\sim\pi`
(the policy, the **first** argument of the KL), log-ratio **policy minus reference**
:math:`\ell(y) = \log\pi(y) - \log\pi_{\rm ref}(y)`, ratio :math:`\rho = \pi_{\rm ref}/\pi = e^{-\ell}`, and

.. math::

    k_1 = \ell,\qquad k_2 = \tfrac12\ell^2,\qquad k_3 = \rho - 1 - \log\rho = \mathrm{expm1}(-\ell) + \ell,

estimating :math:`D = \mathrm{KL}(\pi\,\|\,\pi_{\rm ref}) = \mathbb E_\pi\ell` (the RLHF regulariser, "reverse KL"
here; some sources call it forward). :math:`k_1` and :math:`k_3` are unbiased (for :math:`k_3` when
:math:`\pi>0` wherever :math:`\pi_{\rm ref}>0`), :math:`k_2` is biased; :math:`k_3`'s variance is governed by
:math:`\chi^2(\pi_{\rm ref}\|\pi)` and can exceed :math:`k_1`'s.

References
----------
.. [1] J. Schulman, "Approximating KL divergence", blog note, 2020.
.. [2] Y. Tang and R. Munos, "On a few pitfalls in KL divergence gradient estimation for RL", arXiv:2506.09477, 2025.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import _validate as V
from .divergences import kl

__all__ = ["kl_estimator", "estimator_moments", "sequence_estimator_moments", "gaussian_estimator_stats"]

_KINDS = ("k1", "k2", "k3")
#: verl's clamps, reproduced only on request: log-ratio to [-20, 20], k3 to [-10, 10].
VERL_CLAMP = (-20.0, 20.0, -10.0, 10.0)


def _k3(ell: np.ndarray) -> np.ndarray:
    """expm1(-ell) + ell >= 0; a series for |ell| < 1e-3 (relative error < 1e-15), inf (with a warning) on overflow."""
    out = np.empty_like(ell)
    small = np.abs(ell) < 1e-3
    e = ell[small]
    # sum_{j>=2} (-e)^j / j!, through j = 6 (the next term is below 1e-18 relative at |e| = 1e-3)
    out[small] = e * e * (0.5 + e * (-1.0 / 6.0 + e * (1.0 / 24.0 + e * (-1.0 / 120.0 + e / 720.0))))
    big = ~small
    with np.errstate(over="ignore"):
        out[big] = np.expm1(-ell[big]) + ell[big]
    if np.any(np.isinf(out)):
        warnings.warn("k3 overflowed to inf: log-ratio below -709 (rho = pi_ref/pi > 1e308)", RuntimeWarning,
                      stacklevel=3)
    return np.maximum(out, 0.0)


def _values(ell: np.ndarray, kind: str) -> np.ndarray:
    if kind == "k1":
        return ell.copy()
    if kind == "k2":
        return 0.5 * ell * ell
    return _k3(ell)


def kl_estimator(logp, logp_ref, kind: str = "k3", *, clamp=None):
    r"""Per-sample KL estimator from log-probabilities of sampled outcomes.

    .. math::

        \ell = \log\pi(y) - \log\pi_{\rm ref}(y),\qquad k_1=\ell,\quad k_2=\tfrac12\ell^2,\quad
        k_3 = \mathrm{expm1}(-\ell)+\ell \ \ (\ge 0),

    for :math:`y\sim\pi`, estimating :math:`\mathrm{KL}(\pi\|\pi_{\rm ref})`. Never forms :math:`\pi/\pi_{\rm ref}`:
    log-probabilities of ``-1000`` are fine; :math:`k_3` uses a series for :math:`|\ell|<10^{-3}` (so
    :math:`k_3(10^{-6}) = 5\times10^{-13}` to full precision) and returns ``inf`` with a ``RuntimeWarning`` when
    :math:`e^{-\ell}` overflows (:math:`\ell < -709`); nothing is clamped unless asked.

    Parameters
    ----------
    logp, logp_ref : array_like
        Log-probabilities (or log-densities) of the sampled outcomes under the policy and the reference;
        broadcastable, finite.
    kind : {"k1", "k2", "k3"}
    clamp : None, "verl" or (lo, hi) or (lo, hi, k_lo, k_hi)
        Opt-in clipping to reproduce a trainer: the log-ratio to ``[lo, hi]`` and (for ``k3``) the value to
        ``[k_lo, k_hi]``; ``"verl"`` is ``(-20, 20, -10, 10)``. Clamping changes values and gradients.

    Returns
    -------
    ndarray

    References
    ----------
    .. [1] Schulman (2020); Tang and Munos (2025).

    Examples
    --------
    >>> from alignsim.estimators import kl_estimator
    >>> float(kl_estimator(-1000.0, -1000.5, "k3"))   # e^{-0.5} - 1 + 0.5
    0.10653065971263342
    """
    V.choice(kind, "kind", _KINDS)
    lp = V.real_array(logp, "logp")
    lr = V.real_array(logp_ref, "logp_ref")
    ell = np.asarray(lp - lr, dtype=float)
    k_lo = k_hi = None
    if clamp is not None:
        bounds = VERL_CLAMP if isinstance(clamp, str) and clamp == "verl" else clamp
        if isinstance(bounds, str) or len(bounds) not in (2, 4):
            raise ValueError(f"clamp must be None, 'verl', (lo, hi) or (lo, hi, k_lo, k_hi), got {clamp!r}")
        lo, hi = float(bounds[0]), float(bounds[1])
        if not lo < hi:
            raise ValueError(f"clamp bounds must satisfy lo < hi, got {clamp!r}")
        ell = np.clip(ell, lo, hi)
        if len(bounds) == 4:
            k_lo, k_hi = float(bounds[2]), float(bounds[3])
    out = _values(np.atleast_1d(ell), kind).reshape(ell.shape)
    if k_lo is not None:
        out = np.clip(out, k_lo, k_hi)
    return out


def _log_ratio(p, ref, p_name="p", ref_name="ref"):
    pp = V.probabilities(p, p_name)
    rr = V.probabilities(ref, ref_name)
    V.same_shape(pp, rr, p_name, ref_name)
    s = pp > 0
    if np.any(rr[s] == 0):
        raise ValueError(f"{ref_name} must be positive wherever {p_name} is (else KL({p_name} || {ref_name}) = inf)")
    return pp[s], np.log(pp[s]) - np.log(rr[s]), pp, rr


def estimator_moments(p, ref, kind: str = "k3", orders=(1, 2, 3, 4)) -> dict:
    r"""Exact moments of a KL estimator under :math:`y\sim p`, by finite sums.

    .. math::

        \mathbb E_p[k^m] = \sum_{y:\,p(y)>0} p(y)\,k(y)^m,\qquad \mathrm{Var}\,k = \mathbb E k^2 - (\mathbb E k)^2,
        \qquad b = \frac{\mathbb E k - D}{D},

    with :math:`D = \mathrm{KL}(p\|\mathrm{ref})`. :math:`\mathbb E k_1 = \mathbb E k_3 = D` (``ref`` must be positive
    where ``p`` is; for :math:`k_3` unbiasedness also needs ``p > 0`` where ``ref > 0``).

    Parameters
    ----------
    p, ref : array_like, shape (K,)
        Sampling policy and reference.
    kind : {"k1", "k2", "k3"}
    orders : iterable of int
        Raw moments to return.

    Returns
    -------
    dict
        ``kl``, ``mean``, ``var``, ``rel_bias`` and ``moment_m`` for each requested order ``m``.

    References
    ----------
    .. [1] Schulman (2020); spec estimators_dynamics.md, section 2.1 (case A1).

    Examples
    --------
    >>> from alignsim.estimators import estimator_moments
    >>> m = estimator_moments([0.5, 0.3, 0.15, 0.05], [0.25] * 4, "k2")
    >>> round(m["rel_bias"], 10)
    -0.1423037493
    """
    V.choice(kind, "kind", _KINDS)
    w, ell, pp, rr = _log_ratio(p, ref)
    vals = _values(ell, kind)
    d = kl(pp, rr)
    mean = math.fsum(w * vals)
    second = math.fsum(w * vals * vals)
    out = {"kl": d, "mean": mean, "var": max(second - mean * mean, 0.0),
           "rel_bias": (mean - d) / d if d > 0 else 0.0}
    for m in orders:
        m = V.length(m, "orders")
        out[f"moment_{m}"] = math.fsum(w * vals ** m)
    return out


def _cumulants(w, x, order=4):
    mean = math.fsum(w * x)
    dev = x - mean
    m2, m3, m4 = (math.fsum(w * dev ** j) for j in (2, 3, 4))
    return mean, m2, m3, m4 - 3 * m2 * m2


def sequence_estimator_moments(p, q, length: int, kind: str = "k3", level: str = "token") -> dict:
    r"""Mean and variance of a KL estimator of the **sequence** KL :math:`L\,D` of a memoryless LM, in closed form.

    Tokens i.i.d. from ``p`` (policy) with reference tokens ``q``; :math:`S = \sum_t \ell(y_t)`,
    :math:`D = \mathrm{KL}(p\|q)`, :math:`m_j = \mathbb E_p\ell^j`, :math:`c = \sum_v q_v^2/p_v`,
    :math:`D_q = \mathrm{KL}(q\|p)`.

    * ``level="token"``: the sum of per-token estimators, mean :math:`L\,\mathbb E k`, variance
      :math:`L\,\mathrm{Var}\,k`;
    * ``level="sequence"``: the estimator applied to :math:`S`: :math:`k_1`: :math:`(LD,\ L(m_2-D^2))`;
      :math:`k_2 = S^2/2`: mean :math:`\tfrac12\mathbb ES^2`, variance :math:`\tfrac14(\mathbb ES^4-(\mathbb ES^2)^2)`
      from the cumulants :math:`L\kappa_j(\ell)`; :math:`k_3 = e^{-S}-1+S`: mean :math:`LD`, variance
      :math:`(c^L-1) - 2L(D_q + D) + \mathrm{Var}\,S` (exponential in :math:`L`: never exponentiate a summed
      log-ratio);
    * ``level="full"``: the per-token analytic KL :math:`\sum_t\mathrm{KL}(p\|q) = LD` exactly, variance 0.

    References
    ----------
    .. [1] spec estimators_dynamics.md, section 2.2 (cases A4, A5).

    Examples
    --------
    >>> from alignsim.estimators import sequence_estimator_moments
    >>> m = sequence_estimator_moments([0.5, 0.3, 0.2], [0.2, 0.3, 0.5], 4, "k2", "sequence")
    >>> round(m["mean"], 10), round(m["var"], 10)
    (1.6288020883, 3.3433843076)
    """
    V.choice(kind, "kind", _KINDS)
    V.choice(level, "level", ("sequence", "token", "full"))
    n = V.length(length, "length")
    w, ell, pp, qq = _log_ratio(p, q, "p", "q")
    d = kl(pp, qq)
    if level == "full":
        return {"kl": n * d, "mean": n * d, "var": 0.0}
    if level == "token":
        m = estimator_moments(pp, qq, kind, orders=())
        return {"kl": n * d, "mean": n * m["mean"], "var": n * m["var"]}
    k1, k2, k3, k4 = (n * c for c in _cumulants(w, ell))  # cumulants of S
    es2 = k2 + k1 * k1
    if kind == "k1":
        return {"kl": n * d, "mean": k1, "var": k2}
    if kind == "k2":
        es4 = k4 + 4 * k3 * k1 + 3 * k2 * k2 + 6 * k2 * k1 * k1 + k1 ** 4
        return {"kl": n * d, "mean": 0.5 * es2, "var": 0.25 * (es4 - es2 * es2)}
    c = math.fsum(qq[pp > 0] ** 2 / pp[pp > 0])
    d_q = kl(qq, pp)
    with np.errstate(over="ignore"):
        growth = float(np.expm1(n * np.log(c)))  # c^L - 1, inf beyond the float range
    return {"kl": n * d, "mean": n * d, "var": growth - 2.0 * n * (d_q + d) + k2}


def gaussian_estimator_stats(mu) -> dict:
    r"""Schulman's Gaussian example in closed form: :math:`x\sim N(0,1)=q`, :math:`p=N(\mu,1)`,
    :math:`\log\rho = \log p(x) - \log q(x) = \mu x - \mu^2/2`, :math:`\mathrm{KL}(q\|p) = \mu^2/2`.

    Here the sampled law is :math:`q` and the ratio :math:`\rho = p/q`, i.e. :math:`\ell = -\log\rho` in this
    module's convention. Returns the relative bias of :math:`k_2` (:math:`\mu^2/4`) and std/KL of each estimator:
    :math:`k_1`: :math:`2/\mu`; :math:`k_2`: :math:`\sqrt{2\mu^4+\mu^6}/\mu^2`; :math:`k_3`:
    :math:`\sqrt{e^{\mu^2}-1-\mu^2}/(\mu^2/2)`.

    References
    ----------
    .. [1] Schulman (2020); spec known_values.md (KL estimators).

    Examples
    --------
    >>> from alignsim.estimators import gaussian_estimator_stats
    >>> round(gaussian_estimator_stats(1.0)["std_over_kl_k3"], 9)
    1.695030181
    """
    m = V.real(mu, "mu", low=0.0, low_open=True)
    klv = m * m / 2
    return {
        "kl": klv,
        "rel_bias_k2": m * m / 4,
        "std_over_kl_k1": 2.0 / m,
        "std_over_kl_k2": math.sqrt(2 * m ** 4 + m ** 6) / 2 / klv,
        "std_over_kl_k3": math.sqrt(math.expm1(m * m) - m * m) / klv,
    }
