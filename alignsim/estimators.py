r"""Sampled KL estimators k1, k2, k3 as numbers: stable values and exact moments.

Convention: samples :math:`y\sim\pi`
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

import numpy as np
import pandas as pd
from scipy.special import gammaln, log_softmax

from . import _validate as V
from ._estimator_values import coefficient, log_values, values, weighted_coefficient, weighted_moment
from ._lattice import checked_compositions
from ._moments import cumulants
from .divergences import kl

__all__ = [
    "kl_estimator",
    "estimator_moments",
    "sequence_estimator_moments",
    "gaussian_estimator_stats",
    "expected_kl_gradient",
    "sample_gradient_coefficient",
    "kl_gradient_targets",
    "gradient_table",
    "two_step_partial_gradient",
    "sequence_kl_gradient",
]

_KINDS = ("k1", "k2", "k3")
#: verl's clamps of its low_var_kl (k3) penalty, reproduced only on request: log-ratio to [-20, 20], value to
#: [-10, 10] (``kl_penalty`` in verl/trainer/ppo/core_algos.py @ 26b5d6b2; its k1 and k2 are not clamped).
VERL_CLAMP = (-20.0, 20.0, -10.0, 10.0)


def kl_estimator(logp, logp_ref, kind: str = "k3", *, clamp=None):
    r"""Per-sample KL estimator from log-probabilities of sampled outcomes.

    .. math::

        \ell = \log\pi(y) - \log\pi_{\rm ref}(y),\qquad k_1=\ell,\quad k_2=\tfrac12\ell^2,\quad
        k_3 = \mathrm{expm1}(-\ell)+\ell \ \ (\ge 0),

    for :math:`y\sim\pi`, estimating :math:`\mathrm{KL}(\pi\|\pi_{\rm ref})`. Never forms :math:`\pi/\pi_{\rm ref}`:
    log-probabilities of ``-1000`` are fine; :math:`k_3` uses its series for :math:`|\ell|<0.1` (so
    :math:`k_3(10^{-6}) = 5\times10^{-13}` to full precision) and returns ``inf`` with a ``RuntimeWarning`` when
    :math:`e^{-\ell}` overflows (:math:`\ell < -709`); nothing is clamped unless asked.

    Parameters
    ----------
    logp, logp_ref : array_like
        Log-probabilities (or log-densities) of the sampled outcomes under the policy and the reference; the
        same shape (a scalar ``logp_ref`` is allowed: one reference value for every sample), finite.
    kind : {"k1", "k2", "k3"}
    clamp : None, "verl" or (lo, hi) or (lo, hi, k_lo, k_hi)
        Opt-in clipping to reproduce a trainer: the log-ratio to ``[lo, hi]`` and the value to ``[k_lo, k_hi]``.
        ``"verl"`` is exactly what verl does: ``(-20, 20, -10, 10)`` for ``k3`` (its ``low_var_kl``) and nothing for
        ``k1`` and ``k2`` (verl/trainer/ppo/core_algos.py ``kl_penalty`` @ 26b5d6b2: a log-ratio of 10.4 gives
        k1 = 10.4 and k2 = 54.08 there). Clamping changes values and gradients.

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
    if lr.ndim and lp.shape != lr.shape:  # (3, 1) against (4,) would silently broadcast to (3, 4)
        raise ValueError(f"logp and logp_ref must have the same shape (or logp_ref be a scalar), got {lp.shape} "
                         f"and {lr.shape}")
    ell = np.asarray(lp - lr, dtype=float)
    k_lo = k_hi = None
    if isinstance(clamp, str) and clamp == "verl" and kind != "k3":
        clamp = None  # verl clamps only its low_var_kl (k3)
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
    out = values(np.atleast_1d(ell), kind).reshape(ell.shape)
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


@V.renamed_keywords(p="pi")
def estimator_moments(pi, ref, kind: str = "k3", orders=(1, 2, 3, 4)) -> dict:
    r"""Exact moments of a KL estimator under :math:`y\sim p`, by finite sums.

    .. math::

        \mathbb E_p[k^m] = \sum_{y:\,p(y)>0} p(y)\,k(y)^m,\qquad \mathrm{Var}\,k = \mathbb E k^2 - (\mathbb E k)^2,
        \qquad b = \frac{\mathbb E k - D}{D},

    with :math:`D = \mathrm{KL}(p\|\mathrm{ref})`. :math:`\mathbb E k_1 = \mathbb E k_3 = D` (``ref`` must be positive
    where ``pi`` is; for :math:`k_3` unbiasedness also needs ``p > 0`` where ``ref > 0``).

    Parameters
    ----------
    pi, ref : array_like, shape (K,)
        Sampling policy and reference.
    kind : {"k1", "k2", "k3"}
    orders : iterable of int
        Raw moments to return.

    Returns
    -------
    dict
        ``kl``, ``mean``, ``var``, ``rel_bias`` and ``moment_m`` for each requested order ``m``. A moment (or the
        variance) whose true value exceeds the float range is ``inf``: where ``pi`` has a mass far below ``ref``'s,
        ``k2`` and ``k3`` grow like ``ref/pi`` (each term is formed in log space, so nothing overflows early).

    References
    ----------
    .. [1] Schulman (2020).

    Examples
    --------
    >>> from alignsim.estimators import estimator_moments
    >>> m = estimator_moments([0.5, 0.3, 0.15, 0.05], [0.25] * 4, "k2")
    >>> round(m["rel_bias"], 10)
    -0.1423037493
    """
    V.choice(kind, "kind", _KINDS)
    w, ell, pp, rr = _log_ratio(pi, ref, "pi", "ref")
    log_abs, negative = log_values(ell, kind)
    d = kl(pp, rr)
    mean = weighted_moment(w, log_abs, negative, 1)
    second = weighted_moment(w, log_abs, negative, 2)
    out = {"kl": d, "mean": mean, "var": max(second - mean * mean, 0.0),
           "rel_bias": (mean - d) / d if d > 0 else 0.0}
    for m in orders:
        m = V.length(m, "orders", high=64, why="higher moments overflow")
        out[f"moment_{m}"] = weighted_moment(w, log_abs, negative, m)
    return out


@V.renamed_keywords(p="pi", q="ref")
def sequence_estimator_moments(pi, ref, length: int, kind: str = "k3", level: str = "token") -> dict:
    r"""Mean and variance of a KL estimator of the **sequence** KL :math:`L\,D` of a memoryless LM, in closed form.

    Tokens i.i.d. from ``pi`` (policy) with reference tokens ``ref``; :math:`S = \sum_t \ell(y_t)`,
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

    Parameters
    ----------
    pi : array_like, shape (V,)
        Token law of the policy (tokens are drawn from it).
    ref : array_like, shape (V,)
        Token law of the reference, full support where pi is positive.
    length : int
        Sequence length L >= 1.
    kind : {"k1", "k2", "k3"}
        KL estimator: k1 = log(pi/ref), k2 = (log(pi/ref))^2/2, k3 = ref/pi - 1 - log(ref/pi).
    level : {"token", "sequence"}
        Sum of per-token estimators, or the estimator applied to the summed log-ratio.

    Returns
    -------
    dict
        mean, var (of the estimator), kl (the sequence KL L D) and rel_bias; ``var`` is ``inf`` where it exceeds
        the float range (k3's sequence variance grows like :math:`c^L`, :math:`c=\sum q^2/\pi`).

    References
    ----------
    .. [1] J. Schulman, "Approximating KL divergence" (2020), http://joschu.net/blog/kl-approx.html.

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
    w, ell, pp, qq = _log_ratio(pi, ref, "pi", "ref")
    d = kl(pp, qq)
    if level == "full":
        return {"kl": n * d, "mean": n * d, "var": 0.0}
    if level == "token":
        m = estimator_moments(pp, qq, kind, orders=())
        return {"kl": n * d, "mean": n * m["mean"], "var": n * m["var"]}
    k1, k2, k3, k4 = (float(c) for c in n * cumulants(w, ell, 4))  # cumulants of S
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

    Parameters
    ----------
    mu : float or array_like
        Mean shift of the Gaussian, ``1.2e-308 <= |mu| <= 1.3e154`` (so that :math:`2/|\mu|` and
        :math:`\mu^2/2` are floats).

    Returns
    -------
    dict
        kl, the relative bias of k2 and std/KL of k1, k2 and k3 (arrays if mu is). k3's ratio grows like
        :math:`e^{\mu^2/2}/\mu^2` and is ``inf`` once that exceeds the float range (:math:`|\mu|>37.7`).

    References
    ----------
    .. [1] Schulman (2020).

    Examples
    --------
    >>> from alignsim.estimators import gaussian_estimator_stats
    >>> round(gaussian_estimator_stats(1.0)["std_over_kl_k3"], 9)
    1.695030181
    """
    mu_a = V.real_array(mu, "mu")
    m = np.abs(mu_a)
    if np.any(m < 2.0 / np.finfo(float).max) or np.any(m > 1.3e154):
        raise ValueError(f"mu must satisfy 1.2e-308 <= |mu| <= 1.3e154 (2/|mu| and mu^2/2 must be floats), got "
                         f"{mu_a.ravel()[np.argmax((m < 1.2e-308) | (m > 1.3e154))]!r}")
    x = m * m
    # sqrt(e^x - 1 - x) / (x/2) = 2 sqrt(t), t = sum_j x^j / (j + 2)!, summed for x < 1/2 (no cancellation);
    # expm1(x) - x up to x = 700; in logs beyond (inf once e^(x/2) / x leaves the float range)
    xs = np.minimum(x, 0.5)
    t, term = np.zeros_like(xs), np.full_like(xs, 0.5)
    for j in range(1, 26):  # x^j / (j + 2)! < 1e-35 at x = 1/2 and j = 25
        t, term = t + term, term * xs / (j + 2)
    xm = np.clip(x, 0.5, 700.0)
    mid = np.sqrt(np.expm1(xm) - xm) / (xm / 2.0)
    xl = np.maximum(x, 700.0)
    with np.errstate(over="ignore", invalid="ignore"):
        # e^(x/2) (2/x) is exact to rounding while e^(x/2) is a float; past that only the log form is finite
        root = np.sqrt(-np.expm1(np.log1p(xl) - xl))
        large = np.exp(0.5 * xl) * (2.0 / xl) * root
        large = np.where(np.isfinite(large), large, np.exp(0.5 * xl - np.log(xl / 2.0)) * root)
    out = {
        "kl": x / 2,
        "rel_bias_k2": x / 4,
        "std_over_kl_k1": 2.0 / m,
        "std_over_kl_k2": np.sqrt(2.0 + x),  # sqrt(2 mu^4 + mu^6) / (mu^2 / 2) / 2, simplified
        "std_over_kl_k3": np.where(x < 0.5, 2.0 * np.sqrt(t), np.where(x <= 700.0, mid, large)),
    }
    return {k: float(v) for k, v in out.items()} if np.ndim(mu_a) == 0 else out


# -----------------------------------------------------------------------------------------------------------------
# The estimators as gradients: exact expected gradients on a softmax over a finite set
# -----------------------------------------------------------------------------------------------------------------
_PLACEMENTS = ("reward", "loss", "straight_through")
_IS = ("none", "detached", "differentiable")


def _master(mu, pi, f):
    r""":math:`\mathbb E_{y\sim\mu}[f(y)\,s_y]` with the softmax score :math:`s_y = e_y - \pi`:
    :math:`\mu_a f_a - \pi_a\,\mathbb E_\mu f` (the master identity; never forms the Fisher matrix)."""
    return mu * f - pi * math.fsum(mu * f)


def expected_kl_gradient(theta, ref, kind: str = "k3", placement: str = "loss", behaviour=None,
                         is_weight: str = "none") -> np.ndarray:
    r"""Exact expected (loss-side) gradient of a sampled KL penalty on a softmax policy, by a finite sum.

    Policy :math:`\pi = \mathrm{softmax}(\theta)`, samples :math:`y\sim\mu` (``behaviour`` logits; ``None``: on-policy,
    :math:`\mu = \pi`), importance weight :math:`w = \pi/\mu`. Each placement's per-sample gradient is
    :math:`f(y)\,s_y` with :math:`s_y = \nabla\log\pi(y)` and

    ========================  =====================  ==========================================================
    placement                 surrogate              :math:`f`
    ========================  =====================  ==========================================================
    ``"reward"``              sg[k] log pi           :math:`c\,k`   (``is_weight`` detached or differentiable:
                                                     :math:`c = w`, else 1)
    ``"loss"``                k (through log pi)     :math:`k'` (none), :math:`w\,k'` (detached),
                                                     :math:`w\,(k + k')` (differentiable)
    ``"straight_through"``    k2 - sg[k2] + sg[k]    :math:`c\,\ell` (verl's ``k3+``/``k1+``)
    ========================  =====================  ==========================================================

    with :math:`k' = dk/d\ell` (:math:`1,\ \ell,\ 1-\rho` for :math:`k_1,k_2,k_3`), and the expectation is the master
    identity :math:`\mathbb E_\mu[f s]_a = \mu_a f_a - \pi_a\mathbb E_\mu f`. The resulting table (which rows follow
    :math:`\nabla\mathrm{KL}(\pi\|\pi_{\rm ref})`, the forward KL, nothing, or a bias) is :func:`gradient_table`.

    Parameters
    ----------
    theta : array_like, shape (K,)
        Policy logits.
    ref : array_like, shape (K,)
        Reference probabilities (full support).
    kind : {"k1", "k2", "k3"}
    placement : {"reward", "loss", "straight_through"}
    behaviour : array_like, shape (K,), optional
        Behaviour (sampling) logits for off-policy samples.
    is_weight : {"none", "detached", "differentiable"}

    Returns
    -------
    ndarray, shape (K,)
        Gradient with respect to ``theta`` of the expected surrogate (to be minimised; sums to zero).

    References
    ----------
    .. [1] Tang and Munos (2025).

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim.estimators import expected_kl_gradient
    >>> pi = np.exp([0.3, -0.2, 1.1, 0.0, -0.7]); pi /= pi.sum()
    >>> ref = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    >>> bool(np.allclose(expected_kl_gradient(np.log(pi), ref, "k3", "loss"), pi - ref))   # forward KL!
    True
    """
    log_pi, log_mu, ell, rr = _sample_gradient(theta, ref, kind, placement, behaviour, is_weight)
    # mu w rho: ref itself with the importance weight pi/mu, else mu ref / pi
    log_m_rho = np.log(rr) if is_weight != "none" else (log_mu - log_pi) + np.log(rr)
    mf = weighted_coefficient(log_mu, log_m_rho, kind, placement, is_weight, ell, log_pi - log_mu)
    return mf - np.exp(log_pi) * math.fsum(mf)  # the master identity E_mu[f s] = mu f - pi E_mu f


def _sample_gradient(theta, ref, kind, placement, behaviour, is_weight):
    """Validated ``(log pi, log mu, ell, ref)`` of :func:`expected_kl_gradient` and
    :func:`sample_gradient_coefficient`."""
    V.choice(kind, "kind", _KINDS)
    V.choice(placement, "placement", _PLACEMENTS)
    V.choice(is_weight, "is_weight", _IS)
    th = V.logits(theta)
    rr = V.probabilities(ref, "ref")
    V.same_shape(th, rr, "theta", "ref")
    if np.any(rr == 0):
        raise ValueError("ref must have full support (a softmax policy always has)")
    log_pi = log_softmax(th)
    if behaviour is None:
        log_mu = log_pi
    else:
        b = V.logits(behaviour, "behaviour")
        V.same_shape(th, b, "theta", "behaviour")
        log_mu = log_softmax(b)
    return log_pi, log_mu, log_pi - np.log(rr), rr


def sample_gradient_coefficient(theta, ref, kind: str = "k3", placement: str = "loss", behaviour=None,
                                is_weight: str = "none") -> np.ndarray:
    r"""Per-outcome coefficient :math:`f(y)` of the per-sample KL-penalty gradient
    :math:`f(y)\,\nabla\log\pi(y)`.

    .. math::

        \hat g = f(y)\,s_y,\qquad s_y = \nabla_\theta\log\pi(y) = e_y - \pi,\qquad y\sim\mu,

    with :math:`f` from the table of :func:`expected_kl_gradient`; averaging :math:`f(y)s_y` over samples from the
    behaviour policy estimates that function's exact expectation (the Monte-Carlo check of every row does this).

    Parameters
    ----------
    theta : array_like, shape (K,)
        Policy logits.
    ref : array_like, shape (K,)
        Reference probabilities (full support).
    kind : {"k1", "k2", "k3"}
        KL estimator.
    placement : {"reward", "loss", "straight_through"}
        Where the estimator enters the surrogate.
    behaviour : array_like, shape (K,), optional
        Behaviour (sampling) logits for off-policy samples; ``None`` samples on-policy.
    is_weight : {"none", "detached", "differentiable"}
        Importance weight :math:`\pi/\mu` applied to the sample.

    Returns
    -------
    ndarray, shape (K,)
        :math:`f(y)` for every outcome :math:`y`; ``inf`` where it exceeds the float range (k3's ratio
        :math:`\pi_{\rm ref}/\pi` beyond 1e308 when the logits span more than ~709).

    References
    ----------
    .. [1] Y. Tang, R. Munos, "On a few pitfalls in KL divergence gradient estimation for RL", arXiv:2506.09477.

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim.estimators import sample_gradient_coefficient
    >>> f = sample_gradient_coefficient([0.0, 1.0], [0.5, 0.5], "k1", "loss")   # k1 as a loss: f = 1
    >>> f.tolist()
    [1.0, 1.0]
    """
    log_pi, log_mu, ell, _ = _sample_gradient(theta, ref, kind, placement, behaviour, is_weight)
    with np.errstate(over="ignore"):
        return coefficient(kind, placement, is_weight, ell, np.exp(log_pi - log_mu))


def kl_gradient_targets(theta, ref, behaviour=None) -> dict:
    r"""The gradients a KL penalty may follow, in closed form (loss side, with respect to the logits).

    ``reverse`` :math:`\nabla\mathrm{KL}(\pi\|\pi_{\rm ref}) = F\ell`; ``forward``
    :math:`\nabla\mathrm{KL}(\pi_{\rm ref}\|\pi) = \pi - \pi_{\rm ref}`; ``k2_divergence``
    :math:`\nabla\mathbb E_\pi k_2 = F(\ell^2/2) + F\ell`; ``zero``; and with a behaviour policy ``away_from_mu``
    :math:`-\nabla\mathrm{KL}(\mu\|\pi) = \mu - \pi`. :math:`F = \mathrm{diag}(\pi) - \pi\pi^\top`.

    Parameters
    ----------
    theta : array_like, shape (K,)
        Policy logits.
    ref : array_like, shape (K,)
        Reference probabilities, full support.
    behaviour : array_like, shape (K,), optional
        Behaviour logits; adds the away_from_mu target.

    Returns
    -------
    dict of str to ndarray
        Each target gradient (shape (K,)) by name: reverse, forward, k2_divergence, zero and, with a behaviour
        policy, away_from_mu.

    References
    ----------
    .. [1] Y. Tang, R. Munos, arXiv:2506.09477 (the gradients a KL penalty may follow).

    Examples
    --------
    >>> from alignsim.estimators import kl_gradient_targets
    >>> sorted(kl_gradient_targets([0.0, 1.0], [0.5, 0.5]))
    ['forward', 'k2_divergence', 'reverse', 'zero']
    """
    th = V.logits(theta)
    rr = V.probabilities(ref, "ref")
    V.same_shape(th, rr, "theta", "ref")
    if np.any(rr == 0):
        raise ValueError("ref must have full support (a softmax policy always has)")
    log_pi = log_softmax(th)
    pi = np.exp(log_pi)
    ell = log_pi - np.log(rr)
    out = {"reverse": _master(pi, pi, ell), "forward": pi - rr,
           "k2_divergence": _master(pi, pi, 0.5 * ell * ell + ell), "zero": np.zeros_like(pi)}
    if behaviour is not None:
        mu = np.exp(log_softmax(V.logits(behaviour, "behaviour")))
        out["away_from_mu"] = mu - pi
    return out


#: The rows of the gradient table: (estimator, placement, sampling, IS weight).
GRADIENT_ROWS = [
    ("k1", "reward", "on", "none"), ("k1", "reward", "off", "detached"), ("k1", "reward", "off", "none"),
    ("k2", "reward", "on", "none"), ("k3", "reward", "on", "none"),
    ("k1", "loss", "on", "none"), ("k1", "loss", "off", "none"),
    ("k2", "loss", "on", "none"), ("k2", "loss", "off", "none"), ("k2", "loss", "off", "detached"),
    ("k2", "loss", "off", "differentiable"),
    ("k3", "loss", "on", "none"), ("k3", "loss", "off", "none"), ("k3", "loss", "off", "detached"),
    ("k3", "loss", "on", "differentiable"), ("k3", "loss", "off", "differentiable"),
    ("k1", "loss", "off", "differentiable"),
    ("k3", "straight_through", "on", "none"), ("k3", "straight_through", "off", "none"),
]


def gradient_table(theta, ref, theta_old, rtol: float = 1e-9, *, with_gradients: bool = False) -> pd.DataFrame:
    r"""Every row of the gradient table of Tang and Munos (2025), evaluated exactly, with the target each row follows.

    Columns ``k`` (estimator), ``placement``, ``policy`` (``"on"``, or ``"off"``: samples from
    ``softmax(theta_old)``), ``is_weight``, ``target``, ``cos_rev``, ``err_rev``. For each row the expected gradient of :func:`expected_kl_gradient` is
    compared with the closed-form targets of :func:`kl_gradient_targets`; ``target`` names the one it equals
    (relative error below ``rtol``), or ``"biased"``. ``cos_rev`` and ``err_rev`` (relative error) compare every
    row with the correct gradient :math:`\nabla\mathrm{KL}(\pi\|\pi_{\rm ref})`. Off-policy rows sample from
    ``softmax(theta_old)``. ``with_gradients=True`` adds the gradient vectors (column ``gradient``).

    Parameters
    ----------
    theta : array_like, shape (K,)
        Policy logits.
    ref : array_like, shape (K,)
        Reference probabilities, full support.
    theta_old : array_like, shape (K,)
        Logits of the behaviour policy of the off-policy rows.
    rtol : float
        Relative tolerance for naming the target a row follows, > 0.
    with_gradients : bool
        Add a column with each row's expected gradient.

    Returns
    -------
    pandas.DataFrame
        One row per (estimator, placement, sampling, importance weight), at full precision.

    References
    ----------
    .. [1] Tang and Munos (2025).

    Examples
    --------
    >>> from alignsim.estimators import gradient_table
    >>> df = gradient_table([0.3, -0.2, 1.1, 0, -0.7], [0.1, 0.2, 0.3, 0.25, 0.15], [0, 0, 0.5, 0.5, -0.5])
    >>> df.loc[(df.k == "k3") & (df.placement == "loss") & (df.policy == "on") & (df.is_weight == "none"),
    ...        "target"].item()
    'forward'
    """
    with_gradients = V.flag(with_gradients, "with_gradients")
    rtol = V.real(rtol, "rtol", low=0.0, low_open=True)
    V.same_shape(V.logits(theta), V.logits(theta_old, "theta_old"), "theta", "theta_old")
    targets = kl_gradient_targets(theta, ref, theta_old)
    rev = targets["reverse"]
    rows = []
    for kind, placement, sampling, isw in GRADIENT_ROWS:
        g = expected_kl_gradient(theta, ref, kind, placement, theta_old if sampling == "off" else None, isw)
        scale = max(float(np.linalg.norm(g)), float(np.linalg.norm(rev)))
        name = next((t for t, v in targets.items() if np.linalg.norm(g - v) <= rtol * scale), "biased")
        norm_g, norm_r = float(np.linalg.norm(g)), float(np.linalg.norm(rev))
        row = {
            "k": kind, "placement": placement, "policy": sampling, "is_weight": isw, "target": name,
            "cos_rev": float(np.dot(g, rev) / (norm_g * norm_r)) if norm_g > 0 and norm_r > 0 else 0.0,
            "err_rev": float(np.linalg.norm(g - rev) / norm_r) if norm_r > 0 else math.inf,
        }
        if with_gradients:
            row["gradient"] = g
        rows.append(row)
    return pd.DataFrame(rows)


def two_step_partial_gradient(theta1=(0.5, -0.5), theta2=((1.0, 0.0), (-1.0, 0.5)), ref1=(0.5, 0.5),
                              ref2=((0.5, 0.5), (0.9, 0.1))) -> dict:
    r"""The autoregressive counter-example where per-token KL losses follow the wrong gradient.

    First token :math:`a\in\{0,1\}` from :math:`\pi_1=\mathrm{softmax}(\theta_1)`, second from
    :math:`\pi_2(\cdot|a)=\mathrm{softmax}(\theta_2[a])`; :math:`D_{\rm seq} = \mathrm{KL}(\pi_1\|r_1) +
    \sum_a\pi_1(a)\,\mathrm{KL}(\pi_2(\cdot|a)\|r_2(\cdot|a))`. Then

    .. math::

        \nabla_{\theta_1}D_{\rm seq} = F_1\ell_1 + F_1\,\mathrm{KL}_2(\cdot),

    while per-token losses give only the partial term :math:`F_1\ell_1` (Tang and Munos); the missing term is
    :math:`F_1\mathrm{KL}_2`. The memoryless model cannot show this (its cross terms vanish). Returns the full,
    partial and missing gradients with respect to :math:`\theta_1`.

    Parameters
    ----------
    theta1 : array_like, shape (2,)
        Logits of the first token.
    theta2 : array_like, shape (2, 2)
        Logits of the second token given the first.
    ref1 : array_like, shape (2,)
        Reference law of the first token.
    ref2 : array_like, shape (2, 2)
        Reference law of the second token given the first.

    Returns
    -------
    dict
        full, partial and missing gradients with respect to theta1, each of shape (2,).

    References
    ----------
    .. [1] Tang and Munos (2025).

    Examples
    --------
    >>> from alignsim.estimators import two_step_partial_gradient
    >>> g = two_step_partial_gradient()
    >>> [round(float(x), 10) for x in g["full"]], [round(float(x), 10) for x in g["partial"]]
    ([-0.062082108, 0.062082108], [0.1966119332, -0.1966119332])
    """
    th1 = V.logits(theta1, "theta1")
    r1 = V.probabilities(ref1, "ref1")
    V.same_shape(th1, r1, "theta1", "ref1")
    th2 = [V.logits(t, "theta2") for t in theta2]
    r2 = [V.probabilities(r, "ref2") for r in ref2]
    if len(th2) != th1.size or len(r2) != th1.size:
        raise ValueError("theta2 and ref2 must give one second-step law per first token")
    pi1 = np.exp(log_softmax(th1))
    kl2 = np.array([kl(np.exp(log_softmax(t)), r) for t, r in zip(th2, r2)])
    partial = _master(pi1, pi1, np.log(pi1) - np.log(r1))
    missing = _master(pi1, pi1, kl2)
    return {"full": partial + missing, "partial": partial, "missing": missing}


@V.renamed_keywords(q="ref")
def sequence_kl_gradient(theta, ref, length: int, kind: str = "k3", placement: str = "loss",
                         level: str = "sequence") -> np.ndarray:
    r"""Exact expected gradient of a KL penalty on whole sequences of a memoryless LM (shared token logits).

    Tokens i.i.d. from :math:`p = \mathrm{softmax}(\theta)`, reference tokens ``ref``, length :math:`L`, on-policy.
    ``level="token"`` sums per-token estimators, each using its own token's log-ratio: :math:`L` times the bandit
    gradient of :func:`expected_kl_gradient`. ``level="sequence"`` applies the estimator to
    :math:`S=\sum_t\ell(y_t)`; since :math:`\sum_t s_{y_t} = n - Lp` (``n`` the token counts),

    .. math::

        \mathbb E\big[f(S)\textstyle\sum_t s_{y_t}\big] = \sum_n \tbinom{L}{n}\prod_v p_v^{n_v}\, f(n\cdot\ell)\,(n - Lp),

    an exact sum over the :math:`\binom{L+V-1}{V-1}` token-count vectors, with :math:`f = k` (in reward),
    :math:`f = dk/d\ell` (as loss) or :math:`f = S` (straight-through). In the memoryless model per-token and
    sequence placements have the same expectation except :math:`k_2` in reward (Tang and Munos's partial-gradient
    pitfall needs memory: see :func:`two_step_partial_gradient`).

    Parameters
    ----------
    theta : array_like, shape (V,)
        Shared token logits of the memoryless policy.
    ref : array_like, shape (V,)
        Reference token law, full support.
    length : int
        Sequence length L >= 1 (the exact sum has C(L+V-1, V-1) terms, capped).
    kind : {"k1", "k2", "k3"}
        KL estimator: k1 = log(pi/ref), k2 = (log(pi/ref))^2/2, k3 = ref/pi - 1 - log(ref/pi).
    placement : {"reward", "loss", "straight_through"}
        Where the estimator enters the surrogate (see expected_kl_gradient).
    level : {"sequence", "token"}
        Estimator of the whole sequence, or sum of per-token estimators.

    Returns
    -------
    ndarray, shape (V,)
        Expected gradient with respect to theta of the surrogate (to be minimised).

    References
    ----------
    .. [1] Y. Tang, R. Munos, arXiv:2506.09477 (sequence-level KL gradients).

    Examples
    --------
    >>> from alignsim.estimators import sequence_kl_gradient
    >>> [round(float(x), 7) for x in sequence_kl_gradient([0.4, -0.3, 0.1], [0.2, 0.3, 0.5], 3, "k3", "loss")]
    [0.7408399, -0.2341586, -0.5066813]
    """

    V.choice(kind, "kind", _KINDS)
    V.choice(placement, "placement", _PLACEMENTS)
    V.choice(level, "level", ("sequence", "token"))
    n = V.length(length, "length")
    th = V.logits(theta)
    qq = V.probabilities(ref, "ref")
    V.same_shape(th, qq, "theta", "ref")
    if level == "token":
        return n * expected_kl_gradient(th, qq, kind, placement)
    if np.any(qq == 0):
        raise ValueError("ref must have full support")
    log_p = log_softmax(th)
    p = np.exp(log_p)
    ell = log_p - np.log(qq)
    counts = checked_compositions(n, th.size, "length").astype(float)
    log_weights = gammaln(n + 1.0) - gammaln(counts + 1.0).sum(axis=1) + counts @ log_p
    S = counts @ ell
    log_weights_rho = gammaln(n + 1.0) - gammaln(counts + 1.0).sum(axis=1) + counts @ np.log(qq)  # weight e^-S
    return weighted_coefficient(log_weights, log_weights_rho, kind, placement, "none", S, 0.0) @ (
        counts - n * p[None, :])
