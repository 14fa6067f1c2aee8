r"""Exact divergences and entropies of finite distributions, in nats.

All functions validate their inputs (probability vectors must be finite, non-negative and sum to one within
``1e-9``), never mutate them, and return ``+inf`` where the first argument puts mass outside the support of the
second. Sums that would cancel are written with non-negative terms or with ``expm1``/``log1p`` so that nearly
equal distributions keep their digits.

References
----------
.. [1] T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd ed., Wiley, 2006.
.. [2] T. van Erven and P. Harremoës, "Rényi divergence and Kullback-Leibler divergence",
   IEEE Trans. Inf. Theory 60(7), 2014.
.. [3] J. Q. Yang, S. Salamatian, Z. Sun, A. T. Suresh, A. Beirami, "Asymptotics of language model alignment",
   arXiv:2404.01730, 2024 (Rényi cross-entropy of scaled cumulants and Rényi cross-entropy).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from . import _kl as K
from . import _validate as V
from .generators import Generator, generator

__all__ = [
    "kl",
    "binary_kl",
    "entropy",
    "cross_entropy",
    "renyi_divergence",
    "renyi_entropy",
    "renyi_cross_entropy",
    "f_divergence",
]


def _pair(p, q, p_name, q_name, axis):
    pp = V.probabilities(p, p_name, axis=axis)
    qq = V.probabilities(q, q_name, axis=axis)
    V.same_shape(pp, qq, p_name, q_name)
    return pp, qq


def kl(p, q, *, axis: int | None = None) -> float | np.ndarray:
    r"""Kullback-Leibler divergence :math:`\mathrm{KL}(p\,\|\,q)` in nats.

    .. math::

        \mathrm{KL}(p\|q) = \sum_i p_i \log\frac{p_i}{q_i}
        = \sum_i q_i\, h\!\left(\frac{p_i - q_i}{q_i}\right),\qquad h(x) = (1+x)\log(1+x) - x \ge 0,

    with :math:`0\log 0 = 0` and :math:`+\infty` when some :math:`p_i > 0 = q_i`. The second form has only
    non-negative terms, so the relative accuracy stays near machine precision even when :math:`p\approx q`.

    Parameters
    ----------
    p, q : array_like, shape (K,) or (..., K, ...)
        Probability vectors (``p`` is the policy, ``q`` the reference).
    axis : int, optional
        For arrays of distributions, the axis that indexes outcomes (as in :func:`scipy.stats.entropy`).
        ``None`` (default) requires 1-D inputs.

    Returns
    -------
    float or ndarray
        Non-negative; ``inf`` if ``p`` is not absolutely continuous with respect to ``q``.

    References
    ----------
    .. [1] Cover and Thomas, *Elements of Information Theory*, eq. (2.26).

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.kl([0.5, 0.5, 0.0], [1/3, 1/3, 1/3]), 10)   # log 3 - log 2
    0.4054651081
    """
    pp, qq = _pair(p, q, "p", "q", axis)
    total = K.kl_terms(pp, qq).sum(axis=0 if axis is None else axis)
    return float(total) if np.ndim(total) == 0 else total


def binary_kl(a, b) -> float | np.ndarray:
    r"""Binary relative entropy :math:`d(a\|b) = a\log\frac ab + (1-a)\log\frac{1-a}{1-b}` in nats.

    Vectorised over broadcastable ``a`` and ``b`` in :math:`[0, 1]`; computed with the non-negative terms of
    :func:`kl`.

    Parameters
    ----------
    a : float or array_like
        Success probability of the first law, in [0, 1].
    b : float or array_like
        Success probability of the second law, in [0, 1]; broadcast against a.

    Returns
    -------
    float or ndarray
        d(a || b) in nats, inf where b charges 0 or 1 but a does not.

    References
    ----------
    .. [1] Cover and Thomas, *Elements of Information Theory*, section 11.1 (relative entropy of Bernoulli laws).

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.binary_kl(0.0, 0.3), 12)   # -log 0.7
    0.356674943939
    """
    aa = V.real_array(a, "a", low=0.0, high=1.0)
    bb = V.real_array(b, "b", low=0.0, high=1.0)
    aa, bb = np.broadcast_arrays(aa, bb)
    # the failure side's ratio minus one is (b - a) / (1 - b): formed from b - a, not from the rounded 1 - a, so
    # nearly equal a, b keep their digits (scipy gh-20710's input lost three)
    qb = 1.0 - bb
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(qb > 0, (bb - aa) / np.where(qb > 0, qb, 1.0), 0.0)
    fail = np.where(qb > 0, qb * K.h(x), np.where(aa < 1.0, np.inf, 0.0))
    out = K.kl_terms(aa, bb) + fail
    return float(out) if out.ndim == 0 else out


def entropy(p, *, axis: int | None = None) -> float | np.ndarray:
    r"""Shannon entropy :math:`H(p) = -\sum_i p_i\log p_i` in nats.

    Parameters
    ----------
    p : array_like
        Probability vector (or an array of them along axis).
    axis : int, optional
        Axis along which p sums to one; None for a 1-D vector.

    Returns
    -------
    float or ndarray
        H(p) in nats.

    References
    ----------
    .. [1] Cover and Thomas, *Elements of Information Theory*, eq. (2.1).

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.entropy([0.6, 0.4]) / __import__("math").log(2), 10)
    0.9709505945
    """
    pp = V.probabilities(p, "p", axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(pp > 0, -pp * np.log(np.where(pp > 0, pp, 1.0)), 0.0)
    total = terms.sum(axis=0 if axis is None else axis)
    return float(total) if np.ndim(total) == 0 else total


def cross_entropy(p, q, *, axis: int | None = None) -> float | np.ndarray:
    r"""Cross-entropy :math:`H(p, q) = -\sum_i p_i \log q_i` in nats (``inf`` if ``p`` charges a zero of ``q``).

    Parameters
    ----------
    p : array_like
        Probability vector of the law the expectation is taken under.
    q : array_like
        Probability vector whose log is averaged, same shape as p.
    axis : int, optional
        Axis along which the vectors sum to one; None for 1-D vectors.

    Returns
    -------
    float or ndarray
        H(p, q) in nats; inf where p charges a zero of q.

    References
    ----------
    .. [1] Cover and Thomas, *Elements of Information Theory*, section 5.4.

    Examples
    --------
    >>> import alignsim as a, math
    >>> round(a.cross_entropy([0.5, 0.5], [0.6, 0.4]) / math.log(2), 10)
    1.0294468445
    """
    pp, qq = _pair(p, q, "p", "q", axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(pp > 0, -pp * np.log(qq), 0.0)
    total = terms.sum(axis=0 if axis is None else axis)
    return float(total) if np.ndim(total) == 0 else total


def _log_mean_exp(w: np.ndarray, ell: np.ndarray, eps: float) -> float:
    r""":math:`\log\sum_i w_i e^{\varepsilon\ell_i}` for weights ``w > 0`` summing to one.

    When every :math:`|\varepsilon\ell_i|\le 1/2` the sum is written as
    :math:`\log1p(\sum_i w_i\,\mathrm{expm1}(\varepsilon\ell_i))`, which keeps relative accuracy as
    :math:`\varepsilon\to0` (the result is then :math:`\approx\varepsilon\,\mathbb E_w\ell`); otherwise a
    max-shifted log-sum-exp. ``ell`` may hold ``+-inf``.
    """
    with np.errstate(invalid="ignore"):
        x = eps * ell
    if np.any(x == np.inf):
        return math.inf
    if np.all(np.isfinite(x)) and np.max(np.abs(x)) <= 0.5:
        return float(np.log1p(np.sum(w * np.expm1(x))))
    return float(logsumexp(x, b=w))


def renyi_divergence(p, q, alpha: float) -> float:
    r"""Rényi divergence of order :math:`\alpha` in nats.

    .. math::

        D_\alpha(p\|q) = \frac{1}{\alpha-1}\log\sum_i p_i^\alpha q_i^{1-\alpha}
        = \frac{1}{\alpha-1}\log \mathbb E_p\!\left[e^{(\alpha-1)\log(p/q)}\right],

    with the limits :math:`D_1 = \mathrm{KL}(p\|q)`, :math:`D_0 = -\log q(\operatorname{supp}p)` and
    :math:`D_\infty = \log\max_i p_i/q_i`. The map :math:`\alpha\mapsto D_\alpha` is continuous at 1: near it
    the sum is evaluated as ``log1p(sum(p * expm1((alpha-1) * log(p/q))))``.

    Parameters
    ----------
    p, q : array_like, shape (K,)
    alpha : float
        Order, :math:`0 \le \alpha \le \infty`.

    Returns
    -------
    float
        Non-negative; ``inf`` if :math:`\alpha\ge1` and ``p`` charges a zero of ``q``, or if the supports are
        disjoint.

    References
    ----------
    .. [1] van Erven and Harremoës (2014), Definition 2 and Theorem 5.

    Examples
    --------
    >>> import alignsim as a, math
    >>> round(a.renyi_divergence([0, 1], [0.5, 0.5], 0.5) / math.log(2), 12)   # 1 bit
    1.0
    """
    alpha = V.real(alpha, "alpha", low=0.0, allow_inf=True)
    pp, qq = _pair(p, q, "p", "q", None)
    if alpha == 1.0:
        return kl(pp, qq)
    s = pp > 0
    if alpha == 0.0:
        mass = qq[s].sum()
        return math.inf if mass == 0 else float(-np.log(mass))
    with np.errstate(divide="ignore"):
        ell = np.log(pp[s]) - np.log(qq[s])
    if alpha == math.inf:
        return float(np.max(ell))
    eps = alpha - 1.0
    excess = -1.0
    if np.array_equal(s, qq > 0) and np.max(np.abs(ell)) * max(alpha, 1.0) < 700.0:
        # sum p^a q^(1-a) - 1 = sum_q q (x^a - 1 - a (x - 1)), x = p/q, each term O((x - 1)^2) and formed from
        # u = log1p((p - q)/q): no cancellation near p = q (6e-3 relative error before at D ~ 1e-13)
        excess = _renyi_excess(pp, qq, alpha)
    if excess > -0.5:
        val = math.log1p(excess) / eps
    else:  # nearly disjoint laws (the sum far below 1) or differing supports: a max-shifted log-sum-exp
        val = _log_mean_exp(pp[s], ell, eps) / eps
    return max(val, 0.0) if not math.isnan(val) else math.inf


def _renyi_excess(pp: np.ndarray, qq: np.ndarray, alpha: float) -> float:
    """``sum p^alpha q^(1-alpha) - 1`` for laws with the same support, as ``sum q (x^alpha - 1 - alpha (x - 1))``
    (the linear terms sum to zero), ``u = log x``: the bracket is the series sum_{j>=2} c_j u^j / j! with
    ``c_j = alpha^j - alpha = alpha expm1((j - 1) log alpha)`` where ``|u| < 0.1``, else
    ``e^u expm1((alpha - 1) u) - (alpha - 1) expm1(u)``; both keep their digits as alpha -> 1."""
    on = qq > 0
    p, q = pp[on], qq[on]
    near = np.abs(p - q) < 0.5 * q  # log1p of the relative difference near p = q, a difference of logs elsewhere
    u = np.where(near, np.log1p(np.where(near, (p - q) / q, 0.0)), np.log(p) - np.log(q))
    small = np.abs(u) < 0.1
    bracket = np.empty_like(u)
    us = u[small]
    term, total = np.ones_like(us), np.zeros_like(us)
    log_alpha, eps = math.log(alpha), alpha - 1.0
    for j in range(1, 19):  # |u|^18 / 18! < 1e-34 at |u| = 0.1
        term = term * us / j
        if j >= 2:
            total = total + alpha * math.expm1((j - 1) * log_alpha) * term
    bracket[small] = total
    ub = u[~small]
    bracket[~small] = np.exp(ub) * np.expm1(eps * ub) - eps * np.expm1(ub)
    return math.fsum(q * bracket)


def renyi_cross_entropy(psi, q, alpha: float) -> float:
    r"""Rényi cross-entropy of order :math:`\alpha` (the "proper" form of Yang et al., scaled cumulants and Rényi cross-entropy), in nats.

    .. math::

        H_\alpha(\psi; q) = \frac{1}{1-\alpha}\log\sum_y \psi(y)\, q(y)^{\alpha-1}\quad(\alpha\ne1),\qquad
        H_1(\psi; q) = -\sum_y\psi(y)\log q(y) .

    :math:`H_1` is the limit :math:`\alpha\to1`, and the evaluation is continuous there. With
    :math:`q = \psi` this is the Rényi entropy. With :math:`q_r = \mathrm{softmax}(r)` and
    :math:`c_r = \log\sum_y e^{r(y)}` the scaled cumulant generating function of the reward under
    :math:`\psi` is :math:`t\,(c_r - H_{1+t}(\psi; q_r))`.

    Parameters
    ----------
    psi, q : array_like, shape (K,)
        Probability vectors.
    alpha : float
        Any real order (negative orders appear in the SCGF for :math:`t < -1`).

    Returns
    -------
    float
        H_alpha(psi; q) in nats; inf where psi charges a zero of q and alpha <= 1.

    References
    ----------
    .. [1] Yang et al., arXiv:2404.01730 (2024), scaled cumulants and Rényi cross-entropy.
    .. [2] F. C. Thierrin et al., "On the Rényi cross-entropy", 2022.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.renyi_cross_entropy([0.5, 0.3, 0.2], [0.04201006613, 0.1141951994, 0.8437947345], 2.0), 9)
    1.496008608
    """
    alpha = V.real(alpha, "alpha")
    pp, qq = _pair(psi, q, "psi", "q", None)
    s = pp > 0
    with np.errstate(divide="ignore"):
        ell = np.log(qq[s])
    if alpha == 1.0:
        return float(-np.sum(pp[s] * ell)) if np.all(np.isfinite(ell)) else math.inf
    eps = alpha - 1.0
    return -_log_mean_exp(pp[s], ell, eps) / eps


def renyi_entropy(p, alpha: float) -> float:
    r"""Rényi entropy :math:`H_\alpha(p) = \frac1{1-\alpha}\log\sum_i p_i^\alpha` in nats.

    Computed as :func:`renyi_cross_entropy` ``(p, p, alpha)``; :math:`H_1` is the Shannon entropy,
    :math:`H_0 = \log|\operatorname{supp}p|`, :math:`H_\infty = -\log\max_i p_i`. Satisfies
    :math:`H_\alpha(p) = \log K - D_\alpha(p\,\|\,\mathrm{uniform}_K)`.

    Parameters
    ----------
    p : array_like, shape (K,)
    alpha : float
        :math:`0\le\alpha\le\infty`.

    Returns
    -------
    float
        H_alpha(p) in nats.

    References
    ----------
    .. [1] A. Rényi, "On measures of entropy and information", Proc. 4th Berkeley Symp., 1961.

    Examples
    --------
    >>> import alignsim as a, math
    >>> round(a.renyi_entropy([0.25] * 4, 2.0) - math.log(4), 14)
    0.0
    """
    alpha = V.real(alpha, "alpha", low=0.0, allow_inf=True)
    pp = V.probabilities(p, "p")
    if alpha == math.inf:
        return float(-np.log(pp.max()))
    return renyi_cross_entropy(pp, pp, alpha)


def f_divergence(p, q, f="reverse_kl", *, alpha: float | None = None,
                 slope_at_infinity: float | None = None) -> float:
    r""":math:`f`-divergence :math:`D_f(p\,\|\,q)` in nats, with ``p`` the policy and ``q`` the reference.

    .. math::

        D_f(p\|q) = \sum_{i:\,q_i>0} q_i\, f(p_i/q_i) + f'(\infty)\, p(\{i: q_i = 0\}).

    Named generators (:mod:`alignsim.generators`) use stable closed forms that equal this sum:
    ``"reverse_kl"``/``"kl"`` is :func:`kl` ``(p, q)``; ``"forward_kl"`` is :func:`kl` ``(q, p)``;
    ``"chi2"`` is :math:`\sum (p-q)^2/q`; ``"hellinger"`` is :math:`\sum(\sqrt p-\sqrt q)^2`; ``"tv"`` is
    :math:`\tfrac12\sum|p-q|`; ``"js"`` is :math:`\tfrac12\mathrm{KL}(p\|m)+\tfrac12\mathrm{KL}(q\|m)`,
    :math:`m=(p+q)/2`; ``"alpha"`` (Amari's :math:`\alpha`-divergence) is
    :math:`\mathrm{expm1}((\alpha-1)D^{\mathrm R}_\alpha(p\|q))/(\alpha(\alpha-1))` through the Rényi divergence
    (and :math:`D_{1-\alpha}(q\|p)` for :math:`\alpha<\tfrac12`, which is the same number), continuous at
    :math:`\alpha\in\{0, 1\}`.

    Parameters
    ----------
    p, q : array_like, shape (K,)
    f : str or callable
        A name from :data:`alignsim.generators.GENERATOR_NAMES`, or a convex callable ``f(u)`` with
        ``f(1) = 0`` (vectorised over ``u >= 0``).
    alpha : float, optional
        Order for ``f="alpha"``.
    slope_at_infinity : float, optional
        :math:`f'(\infty)` for a callable generator; needed only when ``p`` charges a zero of ``q``.

    Returns
    -------
    float
        :math:`D_f(p\|q)`; ``inf`` where ``p`` charges a zero of ``q`` and :math:`f'(\infty)` is infinite (e.g.
        reverse KL).

    References
    ----------
    .. [1] Csiszár (1967); Wang et al., arXiv:2309.16240 (2023); Amari, *Information Geometry and Its
       Applications* (2016), section 3.5.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.f_divergence([0.2, 0.8], [0.5, 0.5], "chi2"), 12)
    0.36
    """
    pp, qq = _pair(p, q, "p", "q", None)
    if callable(f) and not isinstance(f, Generator):
        return _callable_divergence(pp, qq, f, slope_at_infinity)
    gen = f if isinstance(f, Generator) else generator(f, alpha=alpha)
    name = gen.name
    if name == "reverse_kl":
        return kl(pp, qq)
    if name == "forward_kl":
        return kl(qq, pp)
    if name == "alpha":
        a = gen.alpha
        if a < 0.5:
            # Amari duality D_a(p||q) = D_{1-a}(q||p) keeps the a -> 0 limit free of cancellation.
            d, b = renyi_divergence(qq, pp, 1.0 - a), 1.0 - a
        else:
            d, b = renyi_divergence(pp, qq, a), a
        if b > 1 and d == math.inf:
            return math.inf
        if b == 1.0:  # |alpha| below 1e-16: D_alpha = KL(q || p) + O(alpha), the correction below rounding
            return d
        return float(np.expm1((b - 1.0) * d) / (b * (b - 1.0)))
    pos = qq > 0
    out_mass = pp[~pos].sum()
    if name == "chi2":
        return math.inf if out_mass > 0 else float(np.sum((pp[pos] - qq[pos]) ** 2 / qq[pos]))
    if name == "hellinger":
        return float(np.sum((np.sqrt(pp) - np.sqrt(qq)) ** 2))
    if name == "tv":
        return float(0.5 * np.sum(np.abs(pp - qq)))
    if name == "js":
        m = 0.5 * (pp + qq)
        return float(0.5 * np.sum(K.kl_terms(pp, m)) + 0.5 * np.sum(K.kl_terms(qq, m)))
    raise AssertionError(f"unhandled generator {name}")  # pragma: no cover


def _callable_divergence(pp, qq, f, slope_at_infinity):
    f1 = float(np.asarray(f(np.array([1.0])), dtype=float).ravel()[0])
    if not math.isfinite(f1) or abs(f1) > 1e-12:
        raise ValueError(f"f must satisfy f(1) = 0 for an f-divergence, got f(1) = {f1!r}")
    pos = qq > 0
    vals = np.asarray(f(pp[pos] / qq[pos]), dtype=float)
    if vals.shape != pp[pos].shape:
        raise ValueError("f must be vectorised: f(u) must return an array of the same shape as u")
    if np.any(np.isnan(vals)):
        raise ValueError("f returned NaN on the likelihood ratios p/q; it must be defined on [0, inf)")
    total = float(np.sum(qq[pos] * vals))
    out_mass = pp[~pos].sum()
    if out_mass > 0:
        if slope_at_infinity is None:
            raise ValueError("p puts mass where q = 0; pass slope_at_infinity = lim f(u)/u for a callable f")
        slope = V.real(slope_at_infinity, "slope_at_infinity", allow_inf=True)
        total += math.inf if slope == math.inf else slope * out_mass
    return total
