"""Figures of regularisers beyond reverse KL."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..divergences import kl
from ..dynamics import pass_at_k
from ..regularisers import (
    f_beta_for,
    binary_success,
    ensemble_reward,
    f_optimum,
    gold_path,
    goodhart_toy,
    match_pass1,
    mixture_pass_at_k,
)
from ._style import OKABE_ITO

_REGULARISERS = (("reverse_kl", None, "reverse KL"), ("forward_kl", None, "forward KL"), ("js", None, "Jensen-Shannon"),
                 ("chi2", None, r"$\chi^2$"), ("hellinger", None, "squared Hellinger"), ("tv", None, "total variation"),
                 ("alpha", -1.0, r"$\alpha=-1$"), ("alpha", 3.0, r"$\alpha=3$"))


def regularisers_frontier(q=(0.4, 0.3, 0.2, 0.1), r=(0.0, 0.5, 1.0, 1.5)) -> Figure:
    r"""Reward against divergence for every regulariser's optimum, with three x-axes: each regulariser's own
    divergence, :math:`\mathrm{KL}(\pi\|q)` and :math:`\mathrm{KL}(q\|\pi)`.

    .. math::

        \pi_\beta=\arg\max_\pi\mathbb E_\pi r-\beta D_f(\pi\|q);\qquad \frac{d\,\mathbb E r}{dD_f}=\beta .

    Against :math:`\mathrm{KL}(\pi\|q)` the reverse-KL curve dominates, against :math:`\mathrm{KL}(q\|\pi)` the
    forward-KL curve does: comparisons "at matched KL" favour whoever owns the axis.

    Parameters
    ----------
    q : array_like
        Reference law of the bandit.
    r : array_like
        Rewards of the bandit's responses.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Wang et al., arXiv:2309.16240.

    Examples
    --------
    >>> from alignsim.figures import regularisers_frontier
    >>> len(regularisers_frontier().axes)
    3
    """

    fig = Figure(figsize=(12.0, 3.9), layout="constrained")
    axes = fig.subplots(1, 3)
    betas = np.geomspace(20.0, 0.01, 120)
    for j, (name, alpha, label) in enumerate(_REGULARISERS):
        opts = [f_optimum(q, r, b, name, alpha=alpha) for b in betas]
        reward = [o.expected_reward for o in opts]
        xs = ([o.divergence for o in opts], [float(kl(o.pi, q)) for o in opts], [float(kl(q, o.pi)) for o in opts])
        for ax, x in zip(axes, xs):
            x = np.array(x)
            keep = np.isfinite(x) & (x > 0)  # infinite KL (zeros of pi) is left out, never drawn as NaN
            style = {"ls": "none", "marker": "o", "ms": 3} if name == "tv" else \
                {"ls": "-" if j < 6 else "--", "lw": 1.6 if j < 2 else 1.1}
            ax.plot(x[keep], np.array(reward)[keep], color=OKABE_ITO[j % 8], label=label, **style)
    titles = ("own divergence $D_f(\\pi\\|q)$", "KL($\\pi\\|q$) (reverse)", "KL($q\\|\\pi$) (forward)")
    for ax, title in zip(axes, titles):
        ax.set_xlabel(title + " (nats)")
        ax.set_ylabel(r"expected reward $\mathbb{E}_\pi r$")
    axes[0].set_xscale("log")
    axes[1].set_xlim(0, 1.05 * -math.log(q[int(np.argmax(r))]))
    axes[2].set_xlim(0, 3.0)
    axes[0].set_title("Each regulariser in its own currency", fontsize=10)
    axes[1].set_title("Against reverse KL: reverse KL dominates", fontsize=10)
    axes[2].set_title("Against forward KL: forward KL dominates", fontsize=10)
    axes[0].legend(frameon=False, fontsize=7)
    return fig


def regularisers_policies(q=(0.4, 0.3, 0.2, 0.1), r=(0.0, 0.5, 1.0, 1.5), kl_budget: float = 0.3) -> Figure:
    r"""Optimal policies of each regulariser at the same :math:`\mathrm{KL}(\pi\|q)`, as bar charts: mode-seeking
    (exact zeros for :math:`\chi^2`, :math:`\alpha>1`, TV) against mass-covering shapes.

    .. math::

        \pi_i=q_i\,g\big((r_i-\nu)/\beta\big),\qquad \mathrm{KL}(\pi_\beta\|q)=\text{budget}.

    Parameters
    ----------
    q : array_like
        Reference law of the bandit.
    r : array_like
        Rewards of the bandit's responses.
    kl_budget : float
        The common KL(pi || q) of the compared optima, in nats.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] C. Wang et al., "Beyond reverse KL: generalizing direct preference optimization with diverse divergence
       constraints", arXiv:2309.16240.

    Examples
    --------
    >>> from alignsim.figures import regularisers_policies
    >>> len(regularisers_policies().axes)
    1
    """

    fig = Figure(figsize=(8.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    names = [x for x in _REGULARISERS if x[0] != "tv"]
    width = 0.8 / (len(names) + 1)
    idx = np.arange(len(q))
    ax.bar(idx - 0.4 + width / 2, q, width, color="0.75", label="reference $q$")
    for j, (name, alpha, label) in enumerate(names):
        b = f_beta_for(q, r, name, kl_budget, on="reverse_kl", alpha=alpha)
        pi = f_optimum(q, r, b, name, alpha=alpha).pi
        ax.bar(idx - 0.4 + width * (j + 1.5), pi, width, color=OKABE_ITO[j % 8], label=f"{label} ($\\beta$ = {b:.3g})")
    ax.set_xticks(idx, [f"r = {v:g}" for v in r])
    ax.set_xlabel("response")
    ax.set_ylabel("probability")
    ax.set_title(f"Optimal policies at the same KL($\\pi\\|q$) = {kl_budget:g}", fontsize=10)
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    return fig


def regularisers_pass_at_k(p0s=(0.001, 0.01, 0.05, 0.2, 0.5, 0.8), pass1: float = 0.6) -> Figure:
    r"""Aggregate pass@k over a mixture of prompts sharing one :math:`\beta`, every regulariser at the same
    aggregate pass@1: mass-covering regularisers lift the hard prompts and win at every :math:`k\ge2`.

    .. math::

        \mathrm{pass@}k=\frac1X\sum_x\big[1-(1-p_x(\beta))^k\big],\qquad \frac1X\sum_xp_x(\beta)=0.6 .

    Parameters
    ----------
    p0s : sequence of float
        Reference success rates of the prompts.
    pass1 : float
        Aggregate pass@1 at which the regularisers are compared.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Li et al., "DPH-RL", arXiv:2509.07430.

    Examples
    --------
    >>> from alignsim.figures import regularisers_pass_at_k
    >>> len(regularisers_pass_at_k(p0s=(0.05, 0.5)).axes)
    2
    """

    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    ks = np.unique(np.round(np.geomspace(1, 1024, 40)).astype(int))
    p0 = np.array(p0s)
    ax.semilogx(ks, [float(np.mean(pass_at_k(p0, k))) for k in ks], color="0.5", lw=1.2, ls=":", label="reference")
    for j, (name, alpha, label) in enumerate(_REGULARISERS[:5]):
        b = match_pass1(p0, pass1, name, alpha=alpha)
        ax.semilogx(ks, mixture_pass_at_k(p0, b, name, ks, alpha=alpha), color=OKABE_ITO[j], lw=1.6,
                    label=f"{label} ($\\beta$ = {b:.3g})")
        ax2.semilogx(p0, [binary_success(x, b, name, alpha=alpha) for x in p0], "o-", color=OKABE_ITO[j], ms=4,
                     label=label)
    ax2.semilogx(p0, p0, color="0.5", ls=":", label="reference")
    ax.set_xlabel("k")
    ax.set_ylabel("aggregate pass@k")
    ax.set_title(f"Matched aggregate pass@1 = {pass1:g}", fontsize=10)
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    ax2.set_xlabel("reference success rate $p_0$ of the prompt")
    ax2.set_ylabel("success rate of the optimum")
    ax2.set_title("Who lifts the hard prompts", fontsize=10)
    ax2.legend(frameon=False, fontsize=7)
    return fig


def regularisers_overoptimisation() -> Figure:
    r"""Gold reward against proxy reward (left) and against :math:`\sqrt{\mathrm{KL}}` (right) along every
    optimisation path on the Goodhart toy G1, and for reward-model ensembles on G2 (middle).

    .. math::

        \big(\mathbb E_\pi\tilde r,\ \mathbb E_\pi r^\star\big)\ \text{along}\ \beta\mapsto\pi_\beta\ \text{and}\ N\mapsto\pi_N .

    Rare responses on which proxy and gold disagree make gold rise then fall; :math:`\chi^2` (quadratic cost of
    up-weighting rare responses) resists longest, mass-covering regularisers are the most exposed, and the
    worst-case ensemble never falls.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Gao, Schulman, Hilton, ICML 2023; Coste et al., arXiv:2310.02743; Laidlaw et al., arXiv:2403.03185.

    Examples
    --------
    >>> from alignsim.figures import regularisers_overoptimisation
    >>> len(regularisers_overoptimisation().axes)
    3
    """

    g1, g2 = goodhart_toy("G1"), goodhart_toy("G2")
    fig = Figure(figsize=(12.5, 4.0), layout="constrained")
    ax, ax3, ax2 = fig.subplots(1, 3)  # the two G1 panels side by side, then G2
    betas = np.geomspace(50.0, 0.002, 300)
    for j, (name, alpha, label) in enumerate(_REGULARISERS[:5]):
        df = gold_path(g1.ref, g1.proxy, g1.gold, name, betas)
        ax.plot(df.proxy, df.gold, color=OKABE_ITO[j], lw=1.5, label=f"{label} (peak {df.gold.max():.3f})")
        ax3.plot(df.sqrt_kl, df.gold, color=OKABE_ITO[j], lw=1.5, label=label)
    bon = gold_path(g1.ref, g1.proxy, g1.gold, "bon")
    ax.plot(bon.proxy, bon.gold, color="0.1", lw=1.2, ls="--", label=f"best-of-N (peak {bon.gold.max():.3f})")
    ax3.plot(bon.sqrt_kl, bon.gold, color="0.1", lw=1.2, ls="--", label="best-of-N")
    ax.set_xlabel(r"proxy reward $\mathbb{E}_\pi\tilde r$")
    ax.set_ylabel(r"gold reward $\mathbb{E}_\pi r^\star$")
    ax.set_title("G1: gold vs proxy along each path", fontsize=10)
    ax.legend(frameon=False, fontsize=6.5, loc="lower left")
    rules = [("single member", g2.proxies[0]), ("mean", ensemble_reward(g2.proxies, "mean")),
             ("worst case (WCO)", ensemble_reward(g2.proxies, "wco")),
             (r"UWO $\lambda$ = 0.01", ensemble_reward(g2.proxies, "uwo", lam=0.01)),
             (r"UWO $\lambda$ = 0.1", ensemble_reward(g2.proxies, "uwo", lam=0.1))]
    paths = [gold_path(g2.ref, agg, g2.gold, "kl", betas) for _, agg in rules]
    for j, ((label, _), df) in enumerate(zip(rules, paths)):
        # a curve that coincides with an earlier one is drawn dashed on top of it and says so
        twin = next((rules[i][0] for i in range(j) if len(paths[i]) == len(df)
                     and np.max(np.abs(paths[i].gold.to_numpy() - df.gold.to_numpy())) < 1e-3), None)
        ax2.plot(df.sqrt_kl, df.gold, color=OKABE_ITO[j], lw=1.5 if twin else 3.0 if j == 2 else 1.5,
                 ls="--" if twin or j >= 3 else "-", label=label + (f" (on {twin})" if twin else ""))
    ax2.set_xlabel(r"$\sqrt{\mathrm{KL}(\pi\|q)}$")
    ax2.set_ylabel("gold reward")
    ax2.set_title("G2: KL-RL on ensembles of 3 reward models", fontsize=10)
    ax2.legend(frameon=False, fontsize=7)
    ax3.set_xlabel(r"$\sqrt{\mathrm{KL}(\pi\|q)}$")
    ax3.set_ylabel("gold reward")
    ax3.set_title("G1: overoptimisation against KL", fontsize=10)
    ax3.legend(frameon=False, fontsize=7)
    return fig
