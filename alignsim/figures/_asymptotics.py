"""Figures of the asymptotics of alignment (Yang et al. 2024) and of best-of-N KL (Beirami et al. 2024)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from .. import _validate as V
from .._levels import floor_exp
from ..asymptotics import bon_vs_rl, rate_function, tail_probability
from ..bon import bon_kl, bon_kl_bound, bon_kl_estimator, bon_law
from ..models import MemorylessLM
from ..tilting import beta_for_kl, kl_reward_frontier, max_kl, optimal_reward
from ._style import OKABE_ITO


def frontier_vs_bon(p=(0.7, 0.3), r=(0.0, 1.0), deltas=(0.05, 0.1, 0.2, 0.5),
                    lengths=(10, 50, 200, 1000)) -> Figure:
    r"""Per-token reward vs per-token KL: the KL-RL frontier and best-of-N with :math:`N=\lfloor e^{n\Delta}\rfloor`.

    Best-of-N points :math:`(\mathrm{KL}(\boldsymbol\pi_N\|\mathbf p)/n,\ \mathbb E R_n/n)` on a memoryless LM of
    length :math:`n` approach the frontier :math:`R^\star(\Delta)` as :math:`n` grows (Yang et al., best-of-N is
    asymptotically KL-RL). Everything is exact (no sampling), including :math:`N` up to :math:`e^{500}`.

    Parameters
    ----------
    p : array_like
        Token law of the reference memoryless LM.
    r : array_like
        Token rewards.
    deltas : sequence of float
        Per-token KL budgets Delta (N = floor(exp(n Delta))).
    lengths : sequence of int
        Sequence lengths n.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Yang et al., "Asymptotics of language model alignment", arXiv:2404.01730.

    Examples
    --------
    >>> from alignsim.figures import frontier_vs_bon
    >>> fig = frontier_vs_bon(lengths=(10, 50))
    >>> len(fig.axes)
    1
    """
    pp, rr = V.policy_and_rewards(p, r, "p")
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    grid = np.linspace(0.0, max_kl(pp, rr) * 0.999, 200)
    front = kl_reward_frontier(pp, rr, grid)
    ax.plot(front["kl"], front["reward"], color="0.2", lw=2, label=r"KL-RL frontier $R^\star(\Delta)$")
    markers = ["o", "s", "^", "D", "v", "P"]
    for j, n in enumerate(lengths):
        lm = MemorylessLM(pp, rr, n)
        xs, ys = [], []
        for d in deltas:
            N = floor_exp(n * d)
            xs.append(lm.bon_kl(N) / n)
            ys.append(lm.bon_mean_reward(N) / n)
        ax.plot(xs, ys, ls="none", marker=markers[j % len(markers)], color=OKABE_ITO[j % 8], ms=6,
                label=f"best-of-N, n = {n}")
    top = ax.get_ylim()[1]
    for d in deltas:  # the budgets: best-of-N's per-token KL tends to Delta from below as n grows
        ax.axvline(d, color="0.8", lw=0.8, ls=":", zorder=0)
        ax.text(d, top, rf"$\Delta$={d:g}", rotation=90, va="top", ha="right", fontsize=7, color="0.4")
    ax.plot([], [], color="0.8", lw=0.8, ls=":", label=r"budgets $\Delta$ ($N=\lfloor e^{n\Delta}\rfloor$)")
    ax.set_xlabel("KL per token (nats)")
    ax.set_ylabel("expected reward per token")
    ax.set_title(r"Best-of-$N$ with $N=\lfloor e^{n\Delta}\rfloor$ approaches the KL-RL frontier"
                 f"\nmemoryless LM, p = {tuple(float(x) for x in pp)}, r = {tuple(float(x) for x in rr)}",
                 fontsize=10)
    ax.legend(frameon=False, fontsize=9, loc="lower right")
    return fig


def bon_kl_vs_formula(sizes=(10, 100, 1000, 10_000), max_log10_n: float = 6.0, top_mass: float = 1e-4) -> Figure:
    r"""Exact best-of-N KL against :math:`\log N-\frac{N-1}N` and Beirami et al.'s estimator.

    Left: uniform references with distinct rewards; the exact KL saturates at :math:`\log L` once
    :math:`N\gtrsim L`, the folklore formula does not; the estimator :math:`\widehat D_N(1/L)` (dotted) tracks the
    exact value. Right: a "cherry-picked" reference (top outcome of mass ``top_mass``, ten equal lower outcomes):
    the exact KL climbs in a staircase towards :math:`\log(1/\varepsilon)`.

    Parameters
    ----------
    sizes : sequence of int
        Numbers of equally likely outcomes of the references.
    max_log10_n : float
        Largest log10 N plotted.
    top_mass : float
        Mass of the top outcome of the reference with an atom.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Beirami et al., "Theoretical guarantees on the best-of-n alignment policy", arXiv:2401.01879.

    Examples
    --------
    >>> from alignsim.figures import bon_kl_vs_formula
    >>> len(bon_kl_vs_formula(sizes=(10,), max_log10_n=2).axes)
    2
    """
    fig = Figure(figsize=(10.4, 4.4), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    ns = np.unique(np.round(np.logspace(0, max_log10_n, 60)).astype(int))
    for j, L in enumerate(sizes):
        p, r = np.full(L, 1.0 / L), np.arange(float(L))
        exact = [bon_kl(p, r, int(n)) for n in ns]
        est = [bon_kl_estimator(1.0 / L, int(n)) for n in ns]
        c = OKABE_ITO[j % 8]
        ax.plot(ns, exact, color=c, lw=2, label=f"exact, L = {L}")
        ax.plot(ns, est, color=c, lw=1, ls=":")
        ax.axhline(math.log(L), color=c, lw=0.6, ls="--")
    ax.plot(ns, bon_kl_bound(ns), color="0.2", lw=1.5, ls="-.", label=r"$\log N-(N-1)/N$ (upper bound)")
    ax.plot([], [], color="0.4", lw=1, ls=":", label=r"estimator $\widehat D_N(1/L)$")
    ax.set_xscale("log")
    ax.set_xlabel("N (number of samples)")
    ax.set_ylabel("KL(best-of-N || reference) (nats)")
    ax.set_title("Uniform references: exact KL vs the folklore formula", fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    eps = top_mass
    p = np.r_[np.full(10, (1 - eps) / 10), eps]
    r = np.arange(11.0)
    ns2 = np.unique(np.round(np.logspace(0, max_log10_n + 1, 120)).astype(int))
    ax2.plot(ns2, [bon_kl(p, r, int(n)) for n in ns2], color=OKABE_ITO[0], lw=2, label="exact")
    ax2.plot(ns2, bon_kl_bound(ns2), color="0.2", lw=1.5, ls="-.", label=r"$\log N-(N-1)/N$")
    ax2.plot(ns2, [float(np.dot(bon_law(p, r, int(n)), bon_kl_estimator(p, int(n)))) for n in ns2],
             color=OKABE_ITO[1], lw=1, ls=":", label=r"plug-in estimator $\mathbb{E}_{\pi_N}\widehat D_N(p(y))$")
    ax2.axhline(-math.log(eps), color="0.5", lw=0.8, ls="--", label=r"$\log(1/\varepsilon)$")
    ax2.set_xscale("log")
    ax2.set_ylim(0, -math.log(eps) * 1.35)
    ax2.set_xlabel("N (number of samples)")
    ax2.set_ylabel("KL(best-of-N || reference) (nats)")
    ax2.set_title(f"Cherry-picked reference: top mass {eps:g}, ten equal others", fontsize=10)
    ax2.legend(frameon=False, fontsize=8, loc="upper left")
    return fig


def rate_functions(delta_bernoulli: float = 0.1, delta_ternary: float = 0.25) -> Figure:
    r"""Rate functions :math:`I_0` (reference) and :math:`I_\lambda` (tilted optimum) of the per-token reward for a
    Bernoulli token (:math:`p=(0.7,0.3)`, :math:`r=(0,1)`) and a ternary one (:math:`p=(0.5,0.3,0.2)`,
    :math:`r=(-1,0,2)`), with :math:`x_\Delta` marked where :math:`I_0(x_\Delta)=\Delta` and :math:`I_\lambda` vanishes.

    Parameters
    ----------
    delta_bernoulli : float
        KL budget of the Bernoulli panel's tilted optimum.
    delta_ternary : float
        KL budget of the ternary panel's tilted optimum.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Yang et al., arXiv:2404.01730, the large-deviation principle of the RL-optimal reward.

    Examples
    --------
    >>> from alignsim.figures import rate_functions
    >>> len(rate_functions().axes)
    2
    """
    fig = Figure(figsize=(10.4, 4.2), layout="constrained")
    cases = [("Bernoulli token", [0.7, 0.3], [0.0, 1.0], delta_bernoulli),
             ("ternary token", [0.5, 0.3, 0.2], [-1.0, 0.0, 2.0], delta_ternary)]
    for ax, (title, p, r, delta) in zip(fig.subplots(1, 2), cases):
        xs = np.linspace(min(r), max(r), 401)
        beta = beta_for_kl(p, r, delta)
        x_d = optimal_reward(p, r, delta)
        ax.plot(xs, rate_function(p, r, xs), color=OKABE_ITO[0], lw=2, label=r"$I_0$ (reference)")
        ax.plot(xs, rate_function(p, r, xs, beta=beta), color=OKABE_ITO[1], lw=2,
                label=rf"$I_\lambda$ (optimum at $\Delta={delta:g}$)")
        ax.axhline(delta, color="0.6", lw=0.8, ls="--")
        ax.plot([x_d], [delta], "o", color="0.1", ms=6, label=rf"$x_\Delta={x_d:.4f}$: $I_0(x_\Delta)=\Delta$")
        ax.axvline(x_d, color="0.6", lw=0.8, ls=":")
        ax.set_xlabel("per-token reward x")
        ax.set_ylabel("rate (nats per token)")
        ax.set_title(f"{title}: p = {tuple(p)}, r = {tuple(r)}", fontsize=10)
        ax.legend(frameon=False, fontsize=8)
    return fig


def ldp_convergence(p=(0.7, 0.3), r=(0.0, 1.0), lengths=(10, 100, 1000)) -> Figure:
    r""":math:`-\frac1n\log P(\bar R_n\ge x)` from the exact law for several lengths, converging to the rate
    function :math:`I_0(x)` above the mean (the error is :math:`O(\log n/n)`).

    Parameters
    ----------
    p : array_like
        Token law of the reference memoryless LM.
    r : array_like
        Token rewards.
    lengths : sequence of int
        Sequence lengths n of the exact tail curves.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Yang et al., arXiv:2404.01730, the large-deviation principle of the RL-optimal reward; Dembo and Zeitouni (1998), Theorem 2.2.3.

    Examples
    --------
    >>> from alignsim.figures import ldp_convergence
    >>> len(ldp_convergence(lengths=(10,)).axes)
    1
    """
    pp, rr = V.policy_and_rewards(p, r, "p")
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    mean = float(np.dot(pp, rr))
    xs = np.linspace(mean, rr.max(), 201)
    for j, n in enumerate(lengths):
        ax.plot(xs, -tail_probability(pp, rr, n, xs, log=True) / n, color=OKABE_ITO[j % 8], lw=1.5,
                drawstyle="steps-post", label=f"$-\\frac{{1}}{{n}}\\log P(\\bar R_n \\geq x)$, n = {n}")
    ax.plot(xs, rate_function(pp, rr, xs), color="0.1", lw=2, ls="--", label=r"rate function $I_0(x)$")
    ax.set_xlabel("per-token reward threshold x")
    ax.set_ylabel("nats per token")
    ax.set_title(f"Exact tail exponents converge to the rate function (p = {tuple(float(v) for v in pp)})",
                 fontsize=10)
    ax.legend(frameon=False, fontsize=9)
    return fig


def bon_vs_rl_rates(p=(0.7, 0.3), r=(0.0, 1.0), delta: float = 0.1,
                    lengths=(10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000)) -> Figure:
    r"""Best-of-:math:`\lfloor e^{n\Delta}\rfloor` against the KL-RL optimum as the length grows, on log axes:
    :math:`\mathrm{KL}(\text{BoN}\|\text{RL})/n` and the per-token reward gap, with the guides
    :math:`\frac{\log n}{2n}` and :math:`\frac{\log n}{2\lambda n}`.

    Parameters
    ----------
    p : array_like
        Token law of the reference memoryless LM.
    r : array_like
        Token rewards.
    delta : float
        Per-token KL budget.
    lengths : sequence of int
        Sequence lengths n.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Yang et al., arXiv:2404.01730, best-of-N is asymptotically KL-RL.

    Examples
    --------
    >>> from alignsim.figures import bon_vs_rl_rates
    >>> len(bon_vs_rl_rates(lengths=(10, 100)).axes)
    1
    """
    df = bon_vs_rl(p, r, delta, lengths)
    lam = 1.0 / beta_for_kl(p, r, delta)
    n = df["n"].to_numpy(dtype=float)
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    ax.loglog(n, df["kl_bon_rl"], "o-", color=OKABE_ITO[0], label="KL(BoN || RL) / n (nats per token)")
    ax.loglog(n, df["reward_gap"] / n, "s-", color=OKABE_ITO[1], label=r"reward gap per token $x_\Delta - E R_n/n$")
    ax.loglog(n, np.log(n) / (2 * n), color=OKABE_ITO[0], lw=0.8, ls="--", label=r"$\log n/(2n)$")
    ax.loglog(n, np.log(n) / (2 * lam * n), color=OKABE_ITO[1], lw=0.8, ls="--", label=r"$\log n/(2\lambda n)$")
    ax.set_xlabel("sequence length n")
    ax.set_ylabel("per-token gap")
    ax.set_title(rf"Best-of-$\lfloor e^{{n\Delta}}\rfloor$ vs KL-RL, $\Delta={delta:g}$, p = {tuple(p)}", fontsize=10)
    ax.legend(frameon=False, fontsize=9)
    return fig
