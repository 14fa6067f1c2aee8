r"""Bounds on best-of-N's KL, Rényi divergence and win rate; BoNBoN's KL coefficient; Beirami et al.'s KL
estimator."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma

from .. import _validate as V
from .._levels import group, log1mexp, times_n
from ._laws import _prepare


def _vectorised_log_n(N):
    if np.ndim(N) == 0:
        return V.log_sample_count(N), True
    arr = np.asarray(N)
    return np.array([V.log_sample_count(x.item() if hasattr(x, "item") else x) for x in arr.ravel()]).reshape(
        arr.shape), False


def bon_kl_bound(N):
    r"""The folklore value :math:`\log N - (N-1)/N`, an **upper bound** on the best-of-N KL.

    Equal to :math:`\mathrm{KL}(\mathrm{Beta}(N,1)\|U(0,1))`: the KL of best-of-N exactly when the reward law has
    no atoms; strictly larger on any finite space for :math:`N\ge2`. Computed as
    :math:`\log N - 1 + e^{-\log N}` (valid for huge ``N``). Vectorised over ``N``.

    Parameters
    ----------
    N : int, float or array_like
        Number(s) of samples, N >= 1; vectorised, huge values handled through log N.

    Returns
    -------
    float or ndarray
        log N - (N-1)/N, same shape as N.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Theorem 3.1; Stiennon et al. (2020) for the folklore formula.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bon_kl_bound(4), 11)
    0.63629436112
    """
    log_n, scalar = _vectorised_log_n(N)
    out = log_n - 1.0 + np.exp(-np.asarray(log_n))
    return float(out) if scalar else out


def bon_win_rate_bound(N):
    r"""The atomless best-of-N win rate :math:`N/(N+1)`, an upper bound for any reference (ties one half).

    Parameters
    ----------
    N : int, float or array_like
        Number(s) of samples, N >= 1; vectorised, huge values handled through log N.

    Returns
    -------
    float or ndarray
        N/(N+1), same shape as N.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Theorem 5.3.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bon_win_rate_bound(4), 12)
    0.8
    """
    log_n, scalar = _vectorised_log_n(N)
    out = 1.0 / (1.0 + np.exp(-np.asarray(log_n)))
    return float(out) if scalar else out


@V.renamed_keywords(p="ref")
def bon_kl_top_bound(ref, r, N) -> float:
    r"""Upper bound :math:`\log\frac{1-(1-\varepsilon_\infty)^N}{\varepsilon_\infty}\le\log\frac1{\varepsilon_\infty}`
    on the best-of-N KL, with :math:`\varepsilon_\infty` the reference mass of the top reward level.

    The density ratio :math:`\pi_N/p` is largest on the top level, where it equals this expression.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int or float
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.

    Returns
    -------
    float
        The upper bound in nats.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Theorem 3.6 (exact form derived).

    Examples
    --------
    >>> import alignsim as a, math
    >>> round(a.bon_kl_top_bound([0.5, 0.5], [0, 1], 2), 12) == round(math.log(1.5), 12)
    True
    """
    pp, rr, nn = _prepare(ref, r, N)
    eps = group(pp, rr)[1][-1]
    return float(log1mexp(times_n(*nn, math.log1p(-eps)) if eps < 1 else -np.inf) - math.log(eps))


def _collision(pp, rr):
    mass = group(pp, rr)[1]
    return float(np.dot(mass, mass))


@V.renamed_keywords(p="ref")
def bon_kl_gap_bound(ref, r, N) -> float:
    r"""Upper bound :math:`2N(N-1)\sum_k P_k^2` on the gap :math:`\log N - \frac{N-1}N - \mathrm{KL}(\pi_N\|p)`.

    :math:`\sum_k P_k^2 = e^{-H_2}` is the collision probability of the **reward levels** (for distinct rewards,
    of the outcomes), since BoN with random ties has the KL of the level law.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int or float
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.

    Returns
    -------
    float
        The upper bound on the gap, in nats; ``inf`` where :math:`N^2` exceeds the float range (the bound is
        vacuous long before).

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Theorem 3.4.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bon_kl_gap_bound([0.25] * 4, [0, 1, 2, 3], 2), 12)
    1.0
    """
    pp, rr, nn = _prepare(ref, r, N)
    n = nn[0]
    return 2.0 * n * (n - 1.0) * _collision(pp, rr)


@V.renamed_keywords(p="ref")
def bon_win_rate_gap_bound(ref, r, N) -> float:
    r"""Upper bound :math:`\frac{N-1}{2}\sum_k P_k^2` on :math:`\frac N{N+1} - W(\pi_N)`.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int or float
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.

    Returns
    -------
    float
        The upper bound on N/(N+1) - W; ``inf`` for ``N`` beyond the float range (the bound exceeds 1, and is
        vacuous, long before).

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Theorem 5.4.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bon_win_rate_gap_bound([0.25] * 4, [0, 1, 2, 3], 3), 12)
    0.25
    """
    pp, rr, nn = _prepare(ref, r, N)
    return 0.5 * (nn[0] - 1.0) * _collision(pp, rr)


def bon_renyi_bound(N, alpha):
    r"""Upper bound on the Rényi divergence of order :math:`\alpha` of best-of-N from the reference.

    .. math::

        D_\alpha(\pi_N\|p) \le D_\alpha(\mathrm{Beta}(N,1)\|U(0,1))
        = \frac{1}{\alpha-1}\log\frac{N^\alpha}{\alpha(N-1)+1},

    by data processing (best-of-N is the cell average of the maximum of :math:`N` uniforms); the limit
    :math:`\alpha\to1` is :func:`bon_kl_bound`. Valid for :math:`\alpha > 0`.

    Parameters
    ----------
    N : int, float or array_like
        Number(s) of samples, N >= 1; vectorised, huge values handled through log N.
    alpha : float
        Order of the Rényi divergence, alpha > 0 (alpha = 1 gives bon_kl_bound).

    Returns
    -------
    float or ndarray
        The upper bound in nats, same shape as N.

    References
    ----------
    .. [1] Y. Mroueh, "Information theoretic guarantees for policy alignment in large language models",
       arXiv:2406.05883, 2024.

    Examples
    --------
    >>> import alignsim as a, math
    >>> round(a.bon_renyi_bound(8, 2.0), 11) == round(math.log(64 / 15), 11)
    True
    """
    log_n = V.log_sample_count(N)
    a = V.real(alpha, "alpha", low=0.0, low_open=True)
    if a == 1.0:
        return bon_kl_bound(N)
    if log_n == 0.0:
        return 0.0
    # log(N - 1) and log(1 + a (N - 1)) without forming N or a (N - 1), which overflow for huge N or alpha
    log_n1 = log_n + math.log1p(-math.exp(-log_n)) if log_n > 1e-3 else math.log(math.expm1(log_n))
    log_a_n1 = math.log(a) + log_n1
    if log_a_n1 < 700.0 and a < 1e300:
        return float((a * log_n - math.log1p(math.exp(log_a_n1))) / (a - 1.0))
    # a (N - 1) beyond the float range: log(1 + a (N - 1)) = log a + log(N - 1) + log1p(1 / (a (N - 1))), and
    # (a log N - that) / (a - 1) = log N + (log N - that) / (a - 1) keeps a out of the numerator
    log_term = log_a_n1 + math.log1p(math.exp(-log_a_n1))
    return float(log_n + (log_n - log_term) / (a - 1.0))


def bonbon_beta(N):
    r"""BoNBoN's KL coefficient :math:`\beta^\star = \frac{1}{2(N-1)H_{N-1}}` for the IPO-type target.

    :math:`H_{N-1}` is the harmonic number, from :math:`\mathbb E[\log F(r_{\text{best}}) - \log F(r_{\text{worst}})]
    = H_{N-1}` for the best and worst of :math:`N` atomless draws (reconstruction; the
    derivation is exact).

    Parameters
    ----------
    N : int, float or array_like
        Number(s) of samples, N >= 1; vectorised, huge values handled through log N.

    Returns
    -------
    float or ndarray
        beta* = 1 / (2 (N-1) H_{N-1}), same shape as N (inf for N = 1).

    References
    ----------
    .. [1] Gui, Gârbacea, Veitch, arXiv:2406.00832, section 4.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bonbon_beta(4), 12)
    0.090909090909
    """

    n, log_n = V.sample_count(N)
    if n < 2:
        raise ValueError(f"N must be >= 2 for BoNBoN's beta (best and worst differ), got {N!r}")
    if math.isinf(n):  # H_{N-1} = log N + gamma to rounding; the value underflows to 0 (it is below 1e-308)
        return math.exp(-math.log(2.0) - log_n - math.log(log_n + np.euler_gamma))
    harmonic = float(digamma(n) + np.euler_gamma)  # H_{N-1}
    return 1.0 / (2.0 * (n - 1.0) * harmonic)


def bon_kl_estimator(eps, N):
    r"""Beirami et al.'s KL estimator :math:`\widehat D_N(\varepsilon)`.

    .. math::

        \widehat D_N(\varepsilon) = (1-\varepsilon)^N\Big(\log N + (N-1)\log(1-\varepsilon) - \frac{N-1}{N}\Big)
        + \big(1-(1-\varepsilon)^N\big)\log\frac{1-(1-\varepsilon)^N}{\varepsilon},

    the exact best-of-N KL for a reference whose top outcome has mass :math:`\varepsilon` and whose remaining
    mass is atomless. :math:`\widehat D_N(0^+) = \log N-\frac{N-1}N`, :math:`\widehat D_N(1) = 0`. Plugging in
    :math:`\varepsilon = p(y)` for :math:`y\sim\pi_N` and averaging is the paper's estimator; that its mean bounds
    the true KL from above is their Conjecture 4.4, not a theorem.

    Parameters
    ----------
    eps : float or array_like
        :math:`0 < \varepsilon \le 1`.
    N : int or float
        :math:`N\ge1`.

    Returns
    -------
    float or ndarray
        The estimate in nats, same shape as the broadcast of eps and N.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, section 4.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.bon_kl_estimator(0.5, 2), 12)
    0.179098831081
    """
    e = V.real_array(eps, "eps", low=0.0, high=1.0, low_open=True)
    n, log_n = V.sample_count(N)
    with np.errstate(divide="ignore"):
        l1 = np.log1p(-e)                           # log(1 - eps), -inf at eps = 1
    n_l1 = times_n(n, log_n, l1)                    # N log(1 - eps)
    a = np.exp(n_l1)                                # (1 - eps)^N
    one_minus_a = -np.expm1(n_l1)
    frac = 1.0 - math.exp(-log_n)                   # (N - 1) / N
    with np.errstate(invalid="ignore"):
        first = np.where(a > 0, a * (log_n + (n_l1 - np.where(e == 1.0, 0.0, l1)) - frac), 0.0)
    out = first + one_minus_a * (np.log(one_minus_a) - np.log(e))
    return float(out) if out.ndim == 0 else out
