r"""Best-of-N and worst-of-N laws for a symbolic N (private; re-exported by :mod:`alignsim.symbolic`).

Ties: outcomes with equal rewards form a level; a level's best-of-N mass :math:`F_j^N-F_{j-1}^N` is split in
proportion to the reference (uniformly random tie-breaking), as in :func:`alignsim.bon.bon_law`.
"""

from __future__ import annotations

import functools

import sympy as sp

from ._core import entries, numeric_rewards

N = sp.Symbol("N", positive=True)


def _levels(probs, rewards):
    p = entries(probs, "probs", positive=True)
    r = numeric_rewards(rewards)
    if len(p) != len(r):
        raise ValueError(f"probs and rewards must have the same length, got {len(p)} and {len(r)}")
    values = sorted(set(r), key=float)
    groups = [[i for i, x in enumerate(r) if x == v] for v in values]
    mass = [sp.Add(*[p[i] for i in g]) for g in groups]
    cdf = [sp.Add(*mass[: j + 1]) for j in range(len(mass))]
    return p, groups, mass, cdf


def _split(p, groups, mass, level_law):
    out = [None] * len(p)
    for g, m, w in zip(groups, mass, level_law):
        for i in g:
            out[i] = p[i] / m * w
    return out


@functools.lru_cache(maxsize=128)
def _bon(p, r, worst):
    p, groups, mass, cdf = _levels(p, r)
    below = [sp.Integer(0)] + cdf[:-1]
    if worst:  # the worst of N lands in level j when all N are >= level j but not all > level j
        law = [(1 - b) ** N - (1 - c) ** N for b, c in zip(below, cdf)]
    else:
        law = [c ** N - b ** N for b, c in zip(below, cdf)]
    return p, groups, mass, below, law


def bon_law(probs, rewards) -> list:
    r"""The best-of-N law of each outcome for a symbolic :math:`N`.

    .. math:: \pi_N(y) = p_y\,\frac{F_j^N - F_{j-1}^N}{P_j},\qquad j = \text{level of } r_y,

    with :math:`F_j` the reference CDF at level :math:`j` and :math:`P_j` its mass (ties split in proportion to
    :math:`p`).

    Parameters
    ----------
    probs : sequence of numbers or sympy expressions
        The reference law, 2 to 8 outcomes.
    rewards : sequence of numbers
        The rewards (numbers: their order makes the levels); equal rewards tie.

    Returns
    -------
    list of sympy expressions
        One per outcome, in ``N``.

    References
    ----------
    .. [1] A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy", arXiv:2401.01879, Lemma 2.

    Examples
    --------
    >>> from alignsim import symbolic
    >>> symbolic.bon_law([0.5, 0.5], [0, 1])
    [(1/2)**N, 1 - (1/2)**N]
    """
    p, groups, mass, _, law = _bon(tuple(entries(probs, "probs", positive=True)), tuple(numeric_rewards(rewards)),
                                   False)
    return _split(p, groups, mass, law)


def won_law(probs, rewards) -> list:
    r"""The worst-of-N law of each outcome for a symbolic :math:`N`.

    .. math:: \pi^{\min}_N(y) = p_y\,\frac{(1-F_{j-1})^N-(1-F_j)^N}{P_j}

    Parameters
    ----------
    probs : sequence of numbers or sympy expressions
        The reference law, 2 to 8 outcomes.
    rewards : sequence of numbers
        The rewards; equal rewards tie.

    Returns
    -------
    list of sympy expressions

    References
    ----------
    .. [1] A. Balashankar et al., "InfAlign", arXiv:2412.19792 (worst-of-N).

    Examples
    --------
    >>> from alignsim import symbolic
    >>> symbolic.won_law([0.5, 0.5], [0, 1])
    [1 - (1/2)**N, (1/2)**N]
    """
    p, groups, mass, _, law = _bon(tuple(entries(probs, "probs", positive=True)), tuple(numeric_rewards(rewards)),
                                   True)
    return _split(p, groups, mass, law)


def bon_kl(probs, rewards):
    r""":math:`\mathrm{KL}(\pi_N\|p)` of best-of-N for a symbolic :math:`N`, from the law's definition.

    .. math:: \sum_y\pi_N(y)\log\frac{\pi_N(y)}{p_y} = \sum_j (F_j^N-F_{j-1}^N)\log\frac{F_j^N-F_{j-1}^N}{P_j}

    (within a level the ratio :math:`\pi_N/p` is constant).

    Parameters
    ----------
    probs : sequence of numbers or sympy expressions
        The reference law, 2 to 8 outcomes.
    rewards : sequence of numbers
        The rewards; equal rewards tie.

    Returns
    -------
    sympy expression
        In ``N``.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879.

    Examples
    --------
    >>> from alignsim import symbolic
    >>> round(symbolic.numeric(symbolic.bon_kl([0.2, 0.3, 0.5], [0, 1, 1]), N=4), 12)
    0.213462500336
    """
    p = entries(probs, "probs", positive=True)
    law = bon_law(p, rewards)
    # sum over outcomes of the definition, each log-ratio reduced to its level's (F_j^N - F_{j-1}^N) / P_j
    return sp.Add(*[q * sp.log(sp.cancel(q / pi)) for q, pi in zip(law, p)])


def bon_win_rate(probs, rewards):
    r"""Win rate of best-of-N against a reference sample, ties counting one half, for a symbolic :math:`N`.

    .. math:: W = \sum_j (F_j^N-F_{j-1}^N)\Big(F_{j-1}+\tfrac12P_j\Big)

    Parameters
    ----------
    probs : sequence of numbers or sympy expressions
        The reference law, 2 to 8 outcomes.
    rewards : sequence of numbers
        The rewards; equal rewards tie.

    Returns
    -------
    sympy expression

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879; :func:`alignsim.bon.bon_win_rate`.

    Examples
    --------
    >>> from alignsim import symbolic
    >>> symbolic.bon_win_rate([0.5, 0.5], [0, 1])
    3/4 - 1/(2*2**N)
    """
    p, _, mass, below, law = _bon(tuple(entries(probs, "probs", positive=True)), tuple(numeric_rewards(rewards)),
                                  False)
    return sp.simplify(sp.Add(*[w * (b + m / 2) for w, b, m in zip(law, below, mass)]))


@functools.lru_cache(maxsize=1)
def bon_kl_uniform_limit():
    r"""The best-of-N KL for :math:`K` distinct, equally likely outcomes as :math:`K\to\infty`:
    :math:`\log N-(N-1)/N`.

    The finite-:math:`K` KL is :math:`\sum_{j=1}^K\Delta_j\log(K\Delta_j)` with
    :math:`\Delta_j=(j/K)^N-((j-1)/K)^N=\int_{(j-1)/K}^{j/K}g(u)\,du`, :math:`g(u)=Nu^{N-1}`. Since
    :math:`K\Delta_j\to g(u)` uniformly on compacts of :math:`(0,1]` and the sum is a Riemann sum of
    :math:`g\log g` (integrable at 0 for :math:`N\ge1`), the limit is :math:`\int_0^1 g\log g\,du`, which sympy
    integrates here.

    Returns
    -------
    sympy expression
        In ``N``: ``log(N) - 1 + 1/N``.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879 (the bound log N - (N - 1)/N and its tightness).

    Examples
    --------
    >>> from alignsim import symbolic
    >>> symbolic.bon_kl_uniform_limit()
    log(N) - 1 + 1/N
    """
    u = sp.Symbol("u", positive=True)
    g = N * u ** (N - 1)
    integrand = sp.expand(g * sp.expand_log(sp.log(g), force=True))  # N u^(N-1) log N + N (N-1) u^(N-1) log u
    # term by term: sympy integrates the two pieces four times faster than their sum
    return sp.simplify(sp.Add(*[sp.integrate(t, (u, 0, 1), conds="none") for t in sp.Add.make_args(integrand)]))
