r"""Asymptotics of alignment on memoryless LMs: rate functions, scaled cumulants, Rényi cross-entropy, tail
probabilities, and best-of-N against KL-regularised RL as the length grows.

Notation: token law :math:`p`, token reward :math:`r`,
:math:`\Lambda(\lambda)=\log\mathbb E_p e^{\lambda r}`, tilt :math:`\phi_\lambda\propto p\,e^{\lambda r}`,
:math:`\lambda = 1/\beta` (``beta = inf`` is the reference, :math:`\lambda=0`). Under :math:`\phi_\lambda^{\otimes n}`
the per-token reward :math:`\bar R_n` satisfies a large-deviation principle with rate

.. math::

    I_\lambda(x) = \sup_t\{tx - [\Lambda(\lambda+t)-\Lambda(\lambda)]\}
    = \mathrm{KL}(\phi_{s(x)}\,\|\,\phi_\lambda),\qquad \Lambda'(s(x)) = x,

and :math:`I_0(x_\Delta) = \Delta` at the RL-optimal per-token reward :math:`x_\Delta`: the level whose reference
probability decays like :math:`e^{-n\Delta}`, which is why best-of-:math:`e^{n\Delta}` tracks the KL-:math:`n\Delta`
optimum per token.

References
----------
.. [1] J. Q. Yang, S. Salamatian, Z. Sun, A. T. Suresh, A. Beirami, "Asymptotics of language model alignment",
   ISIT 2024, arXiv:2404.01730 (the large-deviation principle, the scaled cumulants and the asymptotic equivalence of best-of-N and KL-RL).
.. [2] A. Dembo and O. Zeitouni, *Large Deviations Techniques and Applications*, 2nd ed., Springer, 1998, sec. 2.2.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable

import numpy as np
import pandas as pd
from scipy.linalg import eig as scipy_eig
from scipy.optimize import brentq
from scipy.special import logsumexp

from . import _tilt as T
from ._kl import kl_logs
from ._levels import bon_log_level_law, floor_exp
from ._moments import cumulants as _moment_cumulants
from . import _validate as V
from .divergences import renyi_cross_entropy
from .models import MemorylessLM

__all__ = ["rate_function", "scgf", "scgf_renyi", "cumulants", "tail_probability", "bon_vs_rl", "markov_scgf",
           "markov_rate_function", "markov_bon_vs_rl"]


def _tilted(ps, rs, lam):
    """Tilted token law on the support (probabilities), lam may be any real."""
    return np.exp(T.tilt_log(ps, rs, lam))


def _gap_mean_log(ps, d, s):
    """log E_{phi_s}[d] for gaps d >= 0 measured from the top (phi_s ∝ p e^{-s d}), stable for large s."""
    a = np.log(ps) - s * d
    pos = d > 0
    if not np.any(pos):
        return -np.inf
    return float(logsumexp(a[pos], b=d[pos]) - logsumexp(a))


def _solve_s(ps, rs, x):
    """s with Lambda'(s) = x for x strictly inside (rmin, rmax): solved on the gap scale of the nearer end."""
    rmin, rmax = float(rs.min()), float(rs.max())
    upper = (rmax - x) <= (x - rmin)
    d = (rmax - rs) if upper else (rs - rmin)
    target = math.log((rmax - x) if upper else (x - rmin))
    span = rmax - rmin
    # E_{phi_u}[d] is decreasing in u (tilting towards the chosen end); u = s or -s
    f = lambda u: _gap_mean_log(ps, d, u) - target  # noqa: E731
    lo, hi = -1.0 / span, 1.0 / span
    while f(lo) < 0:
        lo *= 2.0
    while f(hi) > 0:
        hi *= 2.0
    u = brentq(f, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    return u if upper else -u


@V.renamed_keywords(p="ref")
def rate_function(ref, r, x, beta=math.inf):
    r"""Cramér rate function of the per-token reward under the reference or under the tilted optimum.

    .. math::

        I_\lambda(x) = (s-\lambda)\,x - \Lambda(s) + \Lambda(\lambda) = \mathrm{KL}(\phi_s\,\|\,\phi_\lambda),
        \qquad \Lambda'(s) = x,

    with the endpoint values :math:`I_\lambda(r_{\max}) = -\log\phi_\lambda(A^\star)`,
    :math:`I_\lambda(r_{\min}) = -\log\phi_\lambda(A_\star)` and :math:`+\infty` outside
    :math:`[r_{\min}, r_{\max}]` (extremes over the support of ``ref``). The value is computed as the KL form with the
    cancellation-free tilt-KL evaluation of :func:`alignsim.tilt_kl` (:math:`\phi_s` is the tilt of
    :math:`\phi_\lambda` by :math:`s-\lambda`); the root :math:`s(x)` is found on the gap scale of the nearer
    endpoint, so :math:`x` within ``1e-20`` of :math:`r_{\max}` is resolved. Properties:
    :math:`I_\lambda\ge0`, zero only at :math:`x=\Lambda'(\lambda)`, convex, and
    :math:`I_\lambda(x) = I_0(x) - \lambda x + \Lambda(\lambda)`.

    Parameters
    ----------
    ref, r : array_like, shape (K,)
        Token law and token rewards.
    x : float or array_like
        Per-token reward level(s).
    beta : float
        KL coefficient of the tilt (:math:`\lambda = 1/\beta`); ``inf`` (default) is the reference's rate
        :math:`I_0`.

    Returns
    -------
    float or ndarray
        Same shape as ``x``; ``inf`` outside the reward range, and where the rate exceeds the float range (a
        ``beta`` so small that ``1/beta`` overflows: the tilt is then the reference conditioned on the top reward).

    References
    ----------
    .. [1] Yang et al. (2024), the large-deviation principle of the RL-optimal reward; Dembo and Zeitouni (1998), Theorem 2.2.3.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.rate_function([0.7, 0.3], [0, 1], 0.5), 12)   # binary KL d(0.5 || 0.3)
    0.087176693572
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    xs = V.real_array(x, "x")
    lam = T.lam_of(V.beta(beta))
    ps, rs = T.support(pp, rr)
    rmin, rmax = float(rs.min()), float(rs.max())
    phi = _tilted(ps, rs, lam)
    out = np.empty(xs.shape)
    for i, xi in np.ndenumerate(xs):
        if xi > rmax or xi < rmin:
            out[i] = math.inf
        elif xi == rmax:  # -log phi_lam(A*): the same number as the tilt's maximal KL from phi_lam
            out[i] = T.max_kl(phi, rs)
        elif xi == rmin:
            out[i] = T.max_kl(phi, -rs)
        elif np.all(phi > 0):
            t = _solve_s(ps, rs, float(xi)) - lam
            out[i] = T.tilt_kl(phi, rs if t >= 0 else -rs, abs(t))
        else:  # phi_lam underflows somewhere (huge lam): KL(phi_s || phi_lam) from the two log-laws of p
            s = _solve_s(ps, rs, float(xi))
            log_s, log_lam = T.tilt_log(ps, rs, s), T.tilt_log(ps, rs, lam)
            out[i] = float(np.dot(np.exp(log_s), log_s - log_lam))
    return float(out) if out.ndim == 0 else out


@V.renamed_keywords(p="ref")
def scgf(ref, r, t, beta=math.inf):
    r"""Scaled cumulant generating function of the reward under the tilted (or reference) memoryless LM.

    .. math::

        \frac1n\log\mathbb E_{\phi_\lambda^{\otimes n}} e^{tR_n} = \Lambda(\lambda+t) - \Lambda(\lambda),

    exact for every length :math:`n`. Vectorised over ``t`` (any reals).

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    t : float or array_like
        Any real(s).
    beta : float
        KL coefficient, 0 < beta <= inf (inf is the reference itself).

    Returns
    -------
    float or ndarray
        Lambda(lambda + t) - Lambda(lambda), same shape as t.

    References
    ----------
    .. [1] Yang et al. (2024), scaled cumulants and Rényi cross-entropy.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.scgf([0.5, 0.3, 0.2], [-1, 0, 2], 2.0), 11)   # Lambda_p(2)
    2.42367799152
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    ts = V.real_array(t, "t")
    lam = T.lam_of(V.beta(beta))
    ps, rs = T.support(pp, rr)
    if lam == math.inf:  # 1/beta beyond floats: the tilt is p(. | A*), on which r is constant
        out = ts * float(rs.max())
    else:  # log E_phi exp(t r) over the tilt phi itself: Lambda(lam + t) - Lambda(lam) would lose t next to a huge lam
        out = T.log_partition(np.exp(T.tilt_log(ps, rs, lam)), rs, ts)
    return float(out) if np.ndim(out) == 0 else out


@V.renamed_keywords(p="ref")
def scgf_renyi(ref, r, t, beta=math.inf):
    r"""The SCGF written with a proper Rényi cross-entropy (Yang et al., scaled cumulants and Rényi cross-entropy).

    With the softmax of the reward :math:`q_r = e^{r}/\sum_y e^{r(y)}` and :math:`c_r = \log\sum_y e^{r(y)}`
    (so :math:`r = \log q_r + c_r`),

    .. math::

        \Lambda(\lambda+t) - \Lambda(\lambda) = t\,\big[c_r - H_{1+t}(\phi_\lambda;\,q_r)\big],\qquad
        H_\alpha(\psi; q) = \frac{1}{1-\alpha}\log\sum_y\psi(y)\,q(y)^{\alpha-1}.

    **Convention** (the paper leaves the slots implicit; this is the choice that makes the identity exact): the aligned law
    :math:`\psi=\phi_\lambda` is in the first slot, the reward's softmax in the second, the order is :math:`1+t`, and
    :math:`H_\alpha(q;q)` is the Rényi entropy, which makes the identity exact for every :math:`t\ne0`
    (:math:`t = 0` gives 0). Computed independently of :func:`scgf` (through
    :func:`alignsim.renyi_cross_entropy`), so comparing the two checks the identity.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    t : float or array_like
        Real(s) t != 0 (the order of the cross-entropy is 1 + t).
    beta : float
        KL coefficient, 0 < beta <= inf (inf is the reference itself).

    Returns
    -------
    float or ndarray
        t [c_r - H_{1+t}(phi_lambda; q_r)], equal to scgf.

    References
    ----------
    .. [1] Yang et al. (2024), scaled cumulants and Rényi cross-entropy; F. C. Thierrin, F. Alajaji, T. Linder, "On the Rényi cross-entropy",
       arXiv:2208.06983.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.scgf_renyi([0.5, 0.3, 0.2], [-1, 0, 2], 2.0), 11)
    2.42367799152
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    ts = V.real_array(t, "t")
    lam = T.lam_of(V.beta(beta))
    psi = np.exp(T.tilt_log(pp, rr, lam))
    c_r = float(logsumexp(rr))
    q_r = np.exp(rr - c_r)
    out = np.array([0.0 if ti == 0 else ti * (c_r - renyi_cross_entropy(psi, q_r, 1.0 + ti)) for ti in ts.ravel()])
    out = out.reshape(ts.shape)
    return float(out) if out.ndim == 0 else out


@V.renamed_keywords(p="ref")
def cumulants(ref, r, order: int = 6, beta=math.inf, length: int = 1) -> np.ndarray:
    r"""Exact cumulants :math:`\kappa_1,\dots,\kappa_k` of the sequence reward :math:`R_n` under
    :math:`\phi_\lambda^{\otimes n}`: :math:`\kappa_j(R_n) = n\,\Lambda^{(j)}(\lambda)`.

    Computed from the central moments :math:`m_j` of the tilted token law by the exact recursion
    :math:`\kappa_j = m_j - \sum_{i=2}^{j-2}\binom{j-1}{i-1}\kappa_i m_{j-i}` (:math:`j\ge2`), with no finite
    differences.

    Parameters
    ----------
    ref, r : array_like, shape (K,)
    order : int
        Highest cumulant, :math:`\ge1`.
    beta : float
        KL coefficient of the tilt; ``inf`` for the reference.
    length : int
        Sequence length :math:`n` (cumulants scale linearly in it).

    Returns
    -------
    ndarray, shape (order,)

    References
    ----------
    .. [1] Yang et al. (2024), scaled cumulants and Rényi cross-entropy; P. McCullagh, *Tensor Methods in Statistics*, 1987, sec. 2.3.

    Examples
    --------
    >>> import alignsim as a
    >>> a.cumulants([0.5, 0.5], [0, 1], 4).round(12)   # Bernoulli(1/2): 1/2, 1/4, 0, -1/8
    array([ 0.5  ,  0.25 ,  0.   , -0.125])
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    k = V.length(order, "order", high=64, why="cumulants of higher order overflow in float")
    n = V.length(length, "length")
    lam = T.lam_of(V.beta(beta))
    ps, rs = T.support(pp, rr)
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            out = n * _moment_cumulants(_tilted(ps, rs, lam), rs, k)
        except ValueError:  # math.fsum of inf - inf
            out = np.array([math.nan])
    if not np.all(np.isfinite(out)):
        raise ValueError(f"the cumulants up to order {k} of rewards r spanning {float(np.ptp(rs)):.3g} (times length "
                         f"{n}) exceed the float range; rescale r or lower order")
    return out


@V.renamed_keywords(p="ref")
def tail_probability(ref, r, n, x, beta=math.inf, *, log: bool = False):
    r"""Exact finite-length tail probability :math:`P(\bar R_n\ge x)` of the per-token reward.

    .. math::

        P\Big(\frac1n\sum_{i=1}^n r(y_i) \ge x\Big),\qquad y_i\sim\phi_\lambda\ \text{i.i.d.},

    summed from the exact reward-level law of :class:`alignsim.MemorylessLM` in log space (the comparison of each
    level with :math:`n x` is done in exact rationals). :math:`-\frac1n\log P(\bar R_n\ge x)` converges to the rate
    function :math:`I_\lambda(x)` for :math:`x` above the mean, with error :math:`O(\log n/n)`; :math:`e^{-nI}` is not
    a probability estimate at finite :math:`n`.

    Parameters
    ----------
    ref, r : array_like, shape (K,)
    n : int
        Sequence length.
    x : float or array_like
        Per-token thresholds.
    beta : float
        KL coefficient of the tilted token law (``inf``: the reference).
    log : bool
        Return :math:`\log P` (needed when :math:`P < 10^{-308}`).

    Returns
    -------
    float or ndarray
        P(mean reward >= x) (its log with log=True), same shape as x.

    References
    ----------
    .. [1] Yang et al. (2024), the large-deviation principle of the RL-optimal reward; R. R. Bahadur and R. Ranga Rao, Ann. Math. Stat. 1960.

    Examples
    --------
    >>> import alignsim as a
    >>> round(a.tail_probability([0.5, 0.5], [0, 1], 2, 0.5), 12)
    0.75
    """
    log = V.flag(log, "log")
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    length = V.length(n, "n")
    xs = V.real_array(x, "x")
    b = V.beta(beta)
    phi = pp if b == math.inf else np.exp(T.tilt_log(pp, rr, 1.0 / b))
    try:
        levels, logp = MemorylessLM(phi, rr, length).reward_law(log=True)
    except ValueError as exc:
        raise ValueError(f"n = {length} is too long for the exact law: {exc}") from None
    # a probability: the summed masses round to 1 +- 4e-16, so the whole law's tail is set to one exactly
    upper = np.minimum(np.append(np.logaddexp.accumulate(logp[::-1])[::-1], -np.inf), 0.0)
    upper[0] = 0.0
    out = np.empty(xs.shape)
    for i, xi in np.ndenumerate(xs):
        target = Fraction(float(xi)) * length
        if target > Fraction(float(levels[-1])):  # beyond every total (exact; n x itself may overflow floats)
            out[i] = -np.inf
            continue
        if target <= Fraction(float(levels[0])):  # at or below every total
            out[i] = 0.0
            continue
        j = int(np.searchsorted(levels, float(target), side="left"))
        while j > 0 and Fraction(float(levels[j - 1])) >= target:
            j -= 1
        while j < levels.size and Fraction(float(levels[j])) < target:
            j += 1
        out[i] = upper[j]
    out = out if log else np.exp(out)
    return float(out) if out.ndim == 0 else out


@V.renamed_keywords(p="ref")
def bon_vs_rl(ref, r, delta, lengths, N: Callable[[int], int] | None = None) -> pd.DataFrame:
    r"""Best-of-N against the KL-regularised optimum on memoryless LMs of growing length (Yang et al., best-of-N vs KL-RL).

    For each length :math:`n`, :math:`N = \lfloor e^{n\Delta}\rfloor` (or ``N(n)``) samples of whole sequences,
    computed exactly through :math:`\log N` (so :math:`n = 10^4`, :math:`N\approx e^{1000}` takes a fraction of a
    second). Columns:

    ``n``, ``log_N``; ``bon_reward`` = :math:`\mathbb E_{\text{BoN}}R_n/n`; ``rl_reward`` = :math:`x_\Delta`;
    ``kl_bon_ref`` = :math:`\mathrm{KL}(\boldsymbol\pi_N\|\mathbf p)/n`; ``kl_bon_rl`` =
    :math:`\mathrm{KL}(\boldsymbol\pi_N\|\phi_{\lambda_\Delta}^{\otimes n})/n`; ``reward_gap`` =
    :math:`n x_\Delta - \mathbb E_{\text{BoN}}R_n` (absolute, not per token); ``gap_prediction`` =
    :math:`\log n/(2\lambda_\Delta)` (the Bahadur–Rao prefactor's contribution, found numerically:
    gap :math:`= \log n/(2\lambda) + O(1)`).

    Both per-token gaps vanish as :math:`n` grows; the absolute gap and :math:`\mathrm{KL}(\text{BoN}\|\text{RL})`
    grow like :math:`\tfrac12\log n`. With random tie-breaking among equal-reward sequences, the sequence KLs are
    the KLs of the reward-level laws; the tilted level law is :math:`Q_s = P_s e^{\lambda s - n\Lambda(\lambda)}`.

    Parameters
    ----------
    ref, r : array_like, shape (K,)
    delta : float
        Per-token KL budget, :math:`0<\Delta<\Delta_{\max}`.
    lengths : iterable of int
    N : callable, optional
        ``N(n)`` giving the sample count (default :math:`\lfloor e^{n\Delta}\rfloor`).

    Returns
    -------
    pandas.DataFrame

    References
    ----------
    .. [1] Yang et al. (2024), best-of-N is asymptotically KL-RL; the rates are derived for this package.

    Examples
    --------
    >>> import alignsim as a
    >>> df = a.bon_vs_rl([0.7, 0.3], [0, 1], 0.1, [100, 1000])
    >>> df["bon_reward"].round(10).tolist()
    [0.4928857069, 0.5112583172]
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    if N is not None and not callable(N):
        raise TypeError(f"N must be None or a callable N(n) giving the sample count at length n, got {N!r}")
    ps, rs = T.support(pp, rr)
    dmax = T.max_kl(ps, rs)
    if dmax == 0.0:
        raise ValueError("r is constant on the support of ref: there is no KL budget delta to spend")
    d = V.real(delta, "delta", low=0.0, high=dmax, low_open=True, high_open=True)
    lam = T.lambda_on_support(ps, rs, d)
    big_lambda = float(T.log_partition(ps, rs, lam))
    x_delta = float(np.dot(_tilted(ps, rs, lam), rs))
    rows = []
    if np.ndim(lengths) != 1 or np.size(lengths) == 0:
        raise ValueError(f"lengths must be a non-empty 1-D sequence of lengths, got {lengths!r}")
    for n in lengths:
        n = V.length(n, "lengths", high=10 ** 6, why="the exact reward law of each length is computed")
        count = floor_exp(n * d) if N is None else N(n)
        nn, log_n = V.sample_count(count, "N(n)")
        lm = MemorylessLM(pp, rr, n)
        levels, log_p = lm.reward_law(log=True)
        log_g = bon_log_level_law(log_p, nn, log_n)
        g = np.exp(log_g)
        mean = float(np.dot(g, levels))
        log_q = log_p + lam * levels - n * big_lambda
        rows.append({
            "n": n, "log_N": log_n, "bon_reward": mean / n, "rl_reward": x_delta,
            "kl_bon_ref": kl_logs(log_g, log_p) / n, "kl_bon_rl": kl_logs(log_g, log_q) / n,
            "reward_gap": n * x_delta - mean, "gap_prediction": math.log(n) / (2.0 * lam),
        })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------------------
# Markov rewards: Perron-Frobenius scaled cumulants, their Legendre transform, best-of-N against KL-RL on a chain
# --------------------------------------------------------------------------------------------------------------
def _chain(transition, rewards):
    """A checked irreducible transition matrix and its token rewards."""
    from scipy.sparse.csgraph import connected_components  # 30 ms of scipy.sparse: not at import

    t = V.real_array(transition, "transition")
    if t.ndim != 2 or t.shape[0] != t.shape[1] or t.shape[0] == 0:
        raise ValueError(f"transition must be a square (V, V) matrix of next-token laws, got shape {t.shape}")
    t = V.probabilities(t, "transition", axis=-1)
    r = V.rewards(rewards, "rewards", size=t.shape[0], like="transition's rows")
    if connected_components(t > 0, directed=True, connection="strong")[0] != 1:
        raise ValueError("transition must be irreducible (every token reachable from every token): the scaled "
                         "cumulants of a reducible chain depend on where it starts")
    return t, r


def _max_mean_cycle(t, r):
    r"""Karp's maximum cycle mean of the token rewards, :math:`\max_{\text{cycles}} \frac1k\sum r`, and potentials
    :math:`h` with :math:`r_a - \bar r + h_s - h_a \le 0` on every edge (Bellman-Ford on :math:`r - \bar r`)."""
    v = t.shape[0]
    w = np.where(t > 0, r[None, :], -np.inf)
    d = np.zeros((v + 1, v))  # d[k, a]: the largest reward of a k-step walk ending at a (any start)
    for k in range(1, v + 1):
        d[k] = np.max(d[k - 1][:, None] + w, axis=0)
    with np.errstate(invalid="ignore"):
        ratios = (d[v][None, :] - d[:v]) / (v - np.arange(v))[:, None]
    mean = float(np.max(np.min(ratios, axis=0)))
    h = np.zeros(v)
    reduced = np.where(t > 0, r[None, :] - mean, -np.inf)
    for _ in range(v):
        h = np.maximum(h, np.max(h[:, None] + reduced, axis=0))
    return mean, h


def _reduced(t, r, tt):
    r"""``(x_ref, log M)``: the matrix :math:`T\,\mathrm{diag}(e^{t r})` similar-transformed and shifted so that no
    entry exceeds :math:`T` (reduced rewards :math:`\le 0` along the direction of ``tt``), with
    :math:`\Lambda(t) = t\,x_{\rm ref} + \log\rho(e^{\log M})`."""
    sign = 1.0 if tt >= 0 else -1.0
    mean, h = _max_mean_cycle(t, sign * r)
    # the reduced rewards are <= 0 in exact arithmetic; clipping their rounding (relative 1e-16 of rewards of
    # 1e150 is 1e134) keeps every entry at most T
    reduced = np.minimum(sign * r[None, :] - mean + h[:, None] - h[None, :], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_m = np.log(t) + np.where(reduced < 0.0, abs(tt) * reduced, 0.0)
    return sign * mean, log_m


def _perron(log_m):
    """``(log rho, left, right)`` of the non-negative matrix ``exp(log_m)`` (entries <= 1 by construction)."""
    m = np.exp(log_m)
    vals, left, right = scipy_eig(m, left=True, right=True)
    i = int(np.argmax(vals.real))
    rho = float(vals[i].real)
    return math.log(rho), np.abs(left[:, i].real), np.abs(right[:, i].real), m, rho


def _markov_scgf_one(t, r, tt):
    """``(Lambda(tt), Lambda'(tt))`` of the chain."""
    x_ref, log_m = _reduced(t, r, tt)
    log_rho, u, v, m, rho = _perron(log_m)
    # Lambda' = u^T M diag(r) v / (rho u^T v): the potentials of the similarity telescope out
    slope = float(u @ (m * r[None, :]) @ v / (rho * (u @ v)))
    return tt * x_ref + log_rho, slope


def markov_scgf(transition, rewards, t):
    r"""Scaled cumulant generating function of the reward of a stationary Markov chain.

    .. math::

        \Lambda(t) = \lim_{n\to\infty}\frac1n\log\mathbb E\,e^{t\sum_{k=1}^n r(y_k)}
        = \log\rho\big(T\,\mathrm{diag}(e^{t r})\big),

    the log Perron-Frobenius root of the tilted matrix, whatever the initial law (irreducible chains). It is
    computed in log space on a similar matrix whose entries never exceed :math:`T` (the rewards reduced by the
    maximum (``t > 0``) or minimum (``t < 0``) cycle mean of Karp's algorithm, with Bellman-Ford potentials), so
    no entry overflows for any ``t``. For identical rows :math:`p` it is :func:`scgf` of :math:`(p, r)`.

    Parameters
    ----------
    transition : array_like, shape (V, V)
        Irreducible next-token laws (row ``s``: the law after token ``s``).
    rewards : array_like, shape (V,)
        Reward of each emitted token.
    t : float or array_like

    Returns
    -------
    float or ndarray
        Same shape as ``t``.

    References
    ----------
    .. [1] A. Dembo and O. Zeitouni, *Large Deviations Techniques and Applications*, 2nd ed., Springer, 1998,
       Theorem 3.1.1 (Markov additive functionals; the limit and the Gärtner-Ellis LDP are proved there).
    .. [2] R. M. Karp, "A characterization of the minimum cycle mean in a digraph", Discrete Math. 23 (1978).

    Examples
    --------
    >>> from alignsim.asymptotics import markov_scgf
    >>> T = [[0.9, 0.1], [0.2, 0.8]]
    >>> round(markov_scgf(T, [0.0, 1.0], 0.0), 12), round(markov_scgf(T, [0.0, 1.0], 1.0), 6)
    (0.0, 0.795676)
    """
    tr, r = _chain(transition, rewards)
    ts = V.real_array(t, "t")
    out = np.empty(ts.shape)
    for i, ti in np.ndenumerate(ts):
        out[i] = _markov_scgf_one(tr, r, float(ti))[0]
    return float(out) if out.ndim == 0 else out


def _critical_rate(t, r, sign):
    r""":math:`I` at the largest (``sign = 1``) or smallest cycle mean: :math:`-\log\rho` of :math:`T` kept on the
    edges whose reduced reward is zero (the cycles attaining the mean), the :math:`t\to\pm\infty` limit."""
    mean, h = _max_mean_cycle(t, sign * r)
    reduced = sign * r[None, :] - mean + h[:, None] - h[None, :]
    scale = max(1.0, float(np.max(np.abs(r))))
    keep = (t > 0) & (reduced > -1e-12 * scale)
    rho = float(np.max(np.linalg.eigvals(np.where(keep, t, 0.0)).real))
    return -math.log(rho)


def markov_rate_function(transition, rewards, x):
    r"""Rate function of the per-token reward of a stationary Markov chain: the Legendre transform of
    :func:`markov_scgf`.

    .. math::

        I(x) = \sup_t\{t x - \Lambda(t)\} = t^\star x - \Lambda(t^\star),\qquad \Lambda'(t^\star) = x,

    on the open range between the smallest and largest cycle means of the rewards (Karp), with
    :math:`\Lambda'(t) = u^\top T\,\mathrm{diag}(e^{tr}r)\,v/(\rho\,u^\top v)` from the Perron vectors. At the
    largest cycle mean :math:`I = -\log\rho(T_{\rm crit})` (the chain kept on the cycles attaining it; for a
    memoryless LM :math:`-\log p(A^\star)`), likewise at the smallest; ``inf`` outside. Gärtner-Ellis gives the
    LDP :math:`P(\frac1n\sum r(y_k)\approx x)\approx e^{-nI(x)}` (proved, [1]); that best-of-:math:`e^{n\Delta}`
    and KL-RL at budget :math:`n\Delta` both reach the :math:`x_\Delta` with :math:`I(x_\Delta)=\Delta` on a chain
    is checked numerically here (:func:`markov_bon_vs_rl`), not proved.

    Parameters
    ----------
    transition : array_like, shape (V, V)
        Irreducible next-token laws.
    rewards : array_like, shape (V,)
    x : float or array_like
        Per-token reward level(s).

    Returns
    -------
    float or ndarray

    References
    ----------
    .. [1] Dembo and Zeitouni (1998), Theorem 3.1.2 (LDP for Markov additive functionals).

    Examples
    --------
    >>> from alignsim.asymptotics import markov_rate_function
    >>> T = [[0.9, 0.1], [0.2, 0.8]]
    >>> [round(float(v), 6) for v in markov_rate_function(T, [0.0, 1.0], [1 / 3, 1.0])]   # the stationary mean; -log 0.8
    [0.0, 0.223144]
    """
    tr, r = _chain(transition, rewards)
    xs = V.real_array(x, "x")
    # I is invariant under (r, x) -> (r, x) / c: solve in units of the largest |reward| (rewards of 1e150 made
    # Lambda'(s) = x a root at s ~ 1e-150 that brentq's absolute tolerance could not find)
    scale = float(np.max(np.abs(r)))
    if scale > 0.0:
        with np.errstate(over="ignore"):  # x / (subnormal scale) -> +-inf: outside the range, as it is
            r, xs = r / scale, xs / scale
    hi, lo = _max_mean_cycle(tr, r)[0], -_max_mean_cycle(tr, -r)[0]
    out = np.empty(xs.shape)
    for i, xi in np.ndenumerate(xs):
        xi = float(xi)
        if xi > hi or xi < lo or hi == lo and xi != hi:
            out[i] = math.inf
        elif hi == lo:  # a constant reward on every cycle: the per-token reward is degenerate
            out[i] = 0.0
        elif xi == hi or xi == lo:
            out[i] = _critical_rate(tr, r, 1.0 if xi == hi else -1.0)
        else:
            g = lambda s: _markov_scgf_one(tr, r, s)[1] - xi  # noqa: E731  increasing in s
            a, b = -1.0, 1.0
            while g(a) > 0:
                a *= 2.0
            while g(b) < 0:
                b *= 2.0
            s = brentq(g, a, b, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
            out[i] = max(s * xi - _markov_scgf_one(tr, r, s)[0], 0.0)
    return float(out) if out.ndim == 0 else out


def markov_bon_vs_rl(initial, transition, rewards, delta, lengths) -> pd.DataFrame:
    r"""Best-of-:math:`e^{n\Delta}` against the KL-regularised optimum at budget :math:`n\Delta` on a stationary
    Markov chain of growing length: :func:`bon_vs_rl` with memory.

    For each length :math:`n` the exact reward law of :class:`alignsim.markov.MarkovLM` gives: the best-of-N level
    law with :math:`N=\lfloor e^{n\Delta}\rfloor` (through :math:`\log N`), and the sequence-level KL-RL optimum
    :math:`\phi\propto\pi e^{\lambda_n R}` whose KL is :math:`n\Delta` (an exponential tilt of the level law, since
    the reward is a function of the sequence). Both per-token rewards approach :math:`x_\Delta` with
    :math:`I(x_\Delta)=\Delta` (:func:`markov_rate_function`). Columns: ``n``, ``log_N``, ``bon_reward`` and
    ``rl_reward`` (per token), ``limit`` (:math:`x_\Delta`), ``kl_bon_ref`` and ``kl_bon_rl`` (sequence KLs per
    token, BoN against the reference and against the RL optimum), ``lambda_n``.

    Parameters
    ----------
    initial : array_like, shape (V,)
    transition : array_like, shape (V, V)
        Irreducible next-token laws.
    rewards : array_like, shape (V,)
        Token rewards (integers or rationals: the exact reward law is a lattice DP).
    delta : float
        Per-token KL budget, :math:`0<\Delta<I(x_{\max})`.
    lengths : iterable of int
        At most 5000 each.

    Returns
    -------
    pandas.DataFrame

    References
    ----------
    .. [1] Yang et al. (2024), arXiv:2404.01730 (the memoryless statement); the chain version is checked
       numerically here.

    Examples
    --------
    >>> from alignsim.asymptotics import markov_bon_vs_rl
    >>> df = markov_bon_vs_rl([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [0, 1], 0.05, [100, 1000])
    >>> df[["bon_reward", "rl_reward"]].round(4).values.tolist(), round(float(df["limit"][0]), 4)
    ([[0.6507, 0.7094], [0.6996, 0.7091]], 0.7091)
    """
    from .markov import MarkovLM

    tr, r = _chain(transition, rewards)
    mu = V.probabilities(initial, "initial")
    if mu.size != tr.shape[0]:
        raise ValueError(f"initial must have one entry per token ({tr.shape[0]}), got {mu.size}")
    x_max = _max_mean_cycle(tr, r)[0]
    top = float(markov_rate_function(tr, r, x_max))
    if not top > 0.0:
        raise ValueError("the rewards have the same mean on every cycle of transition: there is no KL budget delta "
                         "to spend")
    d = V.real(delta, "delta", low=0.0, low_open=True)
    if d >= top:
        raise ValueError(f"delta must lie in (0, {top:.6g}): the largest per-token KL of transition with these "
                         f"rewards, I(x_max) = -log rho(T on the best cycles); got {delta!r}")
    mean = _markov_scgf_one(tr, r, 0.0)[1]
    gap = lambda x: float(markov_rate_function(tr, r, x)) - d  # noqa: E731  increasing on [mean, x_max]
    # a budget below the rounding of I near the mean (delta = 1e-320) leaves x_delta at the mean
    x_delta = mean if gap(mean) >= 0.0 else brentq(gap, mean, x_max, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    if np.ndim(lengths) != 1 or np.size(lengths) == 0:
        raise ValueError(f"lengths must be a non-empty 1-D sequence of lengths, got {lengths!r}")
    rows = []
    for n in lengths:
        n = V.length(n, "lengths", high=5000, why="the exact reward law of each length is a DP over every step")
        nn, log_n = V.sample_count(floor_exp(n * d), "N")
        levels, log_p = MarkovLM(mu, tr, r, n).reward_law(log=True)
        keep = np.isfinite(log_p)
        levels, log_p = levels[keep], log_p[keep]
        log_g = bon_log_level_law(log_p, nn, log_n)
        lam = T.lambda_on_support(np.exp(log_p), levels, n * d)
        # the tilted level law from the log-masses: a level whose mass underflows as a float keeps its weight
        log_q = log_p + lam * levels
        log_q -= logsumexp(log_q)
        rows.append({
            "n": n, "log_N": log_n, "bon_reward": float(np.dot(np.exp(log_g), levels)) / n,
            "rl_reward": float(np.dot(np.exp(log_q), levels)) / n, "limit": x_delta,
            "kl_bon_ref": kl_logs(log_g, log_p) / n, "kl_bon_rl": kl_logs(log_g, log_q) / n, "lambda_n": lam,
        })
    return pd.DataFrame(rows)
