r"""Paper-style figures, computed exactly. Each function returns a :class:`matplotlib.figure.Figure`;
``alignsim figures`` writes every registered figure as a PNG.

The palette is Okabe-Ito (colour-blind safe); divergences are in nats.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
from matplotlib.figure import Figure

from . import _validate as V
from .bon import (
    bon_kl,
    bon_kl_bound,
    bon_kl_estimator,
    bon_law,
    bon_win_rate_bound,
    rewind_repeat_atomless,
    winrate_tilt,
)
from .asymptotics import _floor_exp, bon_vs_rl, rate_function, tail_probability
from .divergences import kl
from .models import MemorylessLM
from .tilting import beta_for_kl, kl_reward_frontier, max_kl, optimal_reward

__all__ = ["FIGURES", "frontier_vs_bon", "rate_functions", "ldp_convergence", "bon_vs_rl_rates", "bon_kl_vs_formula",
           "winrate_vs_kl", "estimators_std_over_kl", "estimators_gradient_table", "dynamics_trajectories",
           "infalign_frontier", "infalign_best_t", "infalign_optimal_policies", "infalign_calibration",
           "pn_convergence", "pn_acceptance", "pn_synthetic", "regularisers_frontier", "regularisers_policies",
           "regularisers_pass_at_k", "regularisers_overoptimisation", "judge_error_vs_k", "judge_error_vs_temperature",
           "judge_compute_vs_data", "judge_decay_exponent", "write_figures", "write_gallery"]

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def frontier_vs_bon(p=(0.7, 0.3), r=(0.0, 1.0), deltas=(0.05, 0.1, 0.2, 0.5),
                    lengths=(10, 50, 200, 1000)) -> Figure:
    r"""Per-token reward vs per-token KL: the KL-RL frontier and best-of-N with :math:`N=\lfloor e^{n\Delta}\rfloor`.

    Best-of-N points :math:`(\mathrm{KL}(\boldsymbol\pi_N\|\mathbf p)/n,\ \mathbb E R_n/n)` on a memoryless LM of
    length :math:`n` approach the frontier :math:`R^\star(\Delta)` as :math:`n` grows (Yang et al., Theorem Y-T4;
    spec VC18). Everything is exact (no sampling), including :math:`N` up to :math:`e^{500}`.

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
    pp, rr = V.policy_and_rewards(p, r)
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
            N = _floor_exp(n * d)
            xs.append(lm.bon_kl(N) / n)
            ys.append(lm.bon_mean_reward(N) / n)
        ax.plot(xs, ys, ls="none", marker=markers[j % len(markers)], color=OKABE_ITO[j % 8], ms=6,
                label=f"best-of-N, n = {n}")
    for d in deltas:
        ax.axvline(d, color="0.85", lw=0.8, zorder=0)
    ax.set_xlabel("KL per token (nats)")
    ax.set_ylabel("expected reward per token")
    ax.set_title(r"Best-of-$N$ with $N=\lfloor e^{n\Delta}\rfloor$ approaches the KL-RL frontier"
                 f"\nmemoryless LM, p = {tuple(float(x) for x in pp)}, r = {tuple(float(x) for x in rr)}",
                 fontsize=10)
    ax.legend(frameon=False, fontsize=9)
    return fig


def bon_kl_vs_formula(sizes=(10, 100, 1000, 10_000), max_log10_n: float = 6.0, top_mass: float = 1e-4) -> Figure:
    r"""Exact best-of-N KL against :math:`\log N-\frac{N-1}N` and Beirami et al.'s estimator.

    Left: uniform references with distinct rewards; the exact KL saturates at :math:`\log L` once
    :math:`N\gtrsim L`, the folklore formula does not; the estimator :math:`\widehat D_N(1/L)` (dotted) tracks the
    exact value. Right: a "cherry-picked" reference (top outcome of mass ``top_mass``, ten equal lower outcomes):
    the exact KL climbs in a staircase towards :math:`\log(1/\varepsilon)` (spec VC21).

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

    References
    ----------
    .. [1] Yang et al., arXiv:2404.01730, Theorem Y-T2 (spec VC4, VC5).

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
    function :math:`I_0(x)` above the mean (the error is :math:`O(\log n/n)`; spec VC20).

    References
    ----------
    .. [1] Yang et al., arXiv:2404.01730, Theorem Y-T2; Dembo and Zeitouni (1998), Theorem 2.2.3.

    Examples
    --------
    >>> from alignsim.figures import ldp_convergence
    >>> len(ldp_convergence(lengths=(10,)).axes)
    1
    """
    pp, rr = V.policy_and_rewards(p, r)
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
    :math:`\frac{\log n}{2n}` and :math:`\frac{\log n}{2\lambda n}` (spec section 2.2, rates).

    References
    ----------
    .. [1] Yang et al., arXiv:2404.01730, Theorem Y-T4 (spec VC18).

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


def winrate_vs_kl(max_n: int = 1000) -> Figure:
    r"""Win rate against the reference vs KL in the atomless case: best-of-N points
    :math:`(\log N-\frac{N-1}N, \frac N{N+1})`, the win-rate-optimal tilt :math:`\pi_c\propto p\,e^{cF(r)}`, and
    rewind-and-repeat :math:`W = 1-e^{-\mathrm{KL}}/2`; inset-free second panel: the gap
    :math:`W_{\text{opt}} - W_{\text{BoN}}` vs :math:`N`.

    References
    ----------
    .. [1] Gui, Gârbacea, Veitch, "BoNBoN alignment", arXiv:2406.00832, Fig. 2; Beirami et al., arXiv:2401.01879.

    Examples
    --------
    >>> from alignsim.figures import winrate_vs_kl
    >>> len(winrate_vs_kl(max_n=64).axes)
    2
    """
    from .bon import winrate_tilt_for_kl

    fig = Figure(figsize=(9.6, 4.0), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    cs = np.logspace(-2, math.log10(max_n + 1.5), 200)
    tilt = np.array([winrate_tilt(c) for c in cs])
    ax.plot(tilt[:, 0], tilt[:, 1], color="0.2", lw=2, label=r"optimal tilt $p\,e^{cF(r)}$")
    kls = np.linspace(0, tilt[:, 0].max(), 200)
    ax.plot(kls, [rewind_repeat_atomless(math.exp(-k))[1] for k in kls], color=OKABE_ITO[1], lw=1.5, ls="--",
            label="rewind-and-repeat")
    ns = np.unique(np.round(np.logspace(0, math.log10(max_n), 16)).astype(int))
    ax.plot(bon_kl_bound(ns), bon_win_rate_bound(ns), "o", color=OKABE_ITO[0], ms=5, label="best-of-N")
    ax.set_xlabel("KL(policy || reference) (nats)")
    ax.set_ylabel("win rate against the reference")
    ax.set_title("Atomless reward: win rate vs KL", fontsize=10)
    ax.legend(frameon=False, fontsize=9, loc="lower right")
    ns2 = ns[ns >= 2]
    gap = [winrate_tilt(winrate_tilt_for_kl(bon_kl_bound(int(n))))[1] - bon_win_rate_bound(int(n)) for n in ns2]
    ax2.loglog(ns2, gap, "o-", color=OKABE_ITO[0], ms=4)
    ax2.set_xlabel("N")
    ax2.set_ylabel(r"$W_{\mathrm{opt}} - W_{\mathrm{BoN}}$ at equal KL")
    ax2.set_title("Best-of-N is nearly win-rate optimal", fontsize=10)
    return fig


def estimators_std_over_kl(max_mu: float = 2.0) -> Figure:
    r"""Standard deviation over KL of the k1, k2, k3 estimators as the KL grows: Schulman's Gaussian example
    (closed forms) and a finite policy path :math:`\pi_\varepsilon\propto\pi_{\rm ref}e^{\varepsilon d}` (exact finite
    sums). :math:`k_3` wins near the reference (variance :math:`O(D^2)` instead of :math:`O(D)`), and is not always
    best far from it.

    References
    ----------
    .. [1] J. Schulman, "Approximating KL divergence" (2020); spec estimators_dynamics.md, section 2.1.

    Examples
    --------
    >>> from alignsim.figures import estimators_std_over_kl
    >>> len(estimators_std_over_kl().axes)
    2
    """
    from .estimators import estimator_moments, gaussian_estimator_stats

    fig = Figure(figsize=(10.4, 4.2), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    mus = np.linspace(0.05, max_mu, 120)
    stats = [gaussian_estimator_stats(m) for m in mus]
    kls = [st["kl"] for st in stats]
    for j, kind in enumerate(("k1", "k2", "k3")):
        ax.loglog(kls, [st[f"std_over_kl_{kind}"] for st in stats], color=OKABE_ITO[j], lw=2, label=kind)
    ax.set_xlabel("KL(q || p) (nats)")
    ax.set_ylabel("standard deviation / KL")
    ax.set_title(r"Gaussian example: $q=N(0,1)$, $p=N(\mu,1)$", fontsize=10)
    ax.legend(frameon=False)
    ref = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    direction = np.array([0.3, -0.2, 1.1, 0.0, -0.7])
    eps = np.linspace(0.05, 4.0, 120)
    rows = []
    for e in eps:
        pi = ref * np.exp(e * direction)
        pi /= pi.sum()
        rows.append([estimator_moments(pi, ref, k, orders=()) for k in ("k1", "k2", "k3")])
    kl_path = [r[0]["kl"] for r in rows]
    for j, kind in enumerate(("k1", "k2", "k3")):
        ax2.loglog(kl_path, [math.sqrt(r[j]["var"]) / r[j]["kl"] for r in rows], color=OKABE_ITO[j], lw=2,
                   label=kind)
    ax2.set_xlabel(r"KL($\pi$ || ref) (nats)")
    ax2.set_ylabel("standard deviation / KL")
    ax2.set_title(r"Finite example: $\pi\propto$ ref$\cdot e^{\varepsilon d}$, five outcomes", fontsize=10)
    ax2.legend(frameon=False)
    return fig


def estimators_gradient_table(theta=(0.3, -0.2, 1.1, 0.0, -0.7), ref=(0.1, 0.2, 0.3, 0.25, 0.15),
                              theta_old=(0.0, 0.0, 0.5, 0.5, -0.5)) -> Figure:
    r"""The gradient table as a figure: for every (estimator, placement, sampling, IS weight), the cosine of its exact
    expected gradient with :math:`\nabla\mathrm{KL}(\pi\|\pi_{\rm ref})`, coloured by the target it follows.

    References
    ----------
    .. [1] Tang and Munos (2025); spec estimators_dynamics.md, section 3.3 (case G1).

    Examples
    --------
    >>> from alignsim.figures import estimators_gradient_table
    >>> len(estimators_gradient_table().axes)
    1
    """
    from .estimators import gradient_table

    df = gradient_table(theta, ref, theta_old)
    colours = {"reverse": OKABE_ITO[2], "forward": OKABE_ITO[4], "zero": "0.6", "k2_divergence": OKABE_ITO[3],
               "away_from_mu": OKABE_ITO[1], "biased": OKABE_ITO[1]}
    fig = Figure(figsize=(8.0, 6.4), layout="constrained")
    ax = fig.add_subplot()
    labels = [f"{r.k} {r.placement.replace('_', '-')}, {r.policy}-policy, IS {r.is_weight}"
              for r in df.itertuples()]
    y = np.arange(len(df))[::-1]
    ax.barh(y, df["cos_rev"], color=[colours[t] for t in df["target"]])
    for yi, r in zip(y, df.itertuples()):
        ax.text(1.02, yi, r.target, va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(-1.0, 1.4)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel(r"cosine with $\nabla$ KL($\pi$ || ref) (exact expected gradients)")
    ax.set_ylabel("estimator, placement, sampling, importance weight")
    ax.set_title("Which gradient does each KL-penalty placement follow? (text: the exact target)", fontsize=10)
    return fig


def dynamics_trajectories(r=(1.0, 0.5, 0.0), ref=(0.2, 0.3, 0.5), beta: float = 0.25, steps: int = 3000) -> Figure:
    r"""Exact expected trajectories on the 3-arm simplex (barycentric coordinates) from the reference: policy gradient
    and natural gradient with the correct KL gradient converge to the tilt; policy gradient with :math:`k_3` as a loss
    (GRPO's placement without importance weights) converges to the forward-KL optimum instead; GRPO's advantage
    normalisation with the correct KL term stops elsewhere (spec B10, B11). Right: entropy along policy gradient
    with the first-order prediction :math:`-\eta\,\mathrm{Cov}_\pi(\log\pi, \delta)` per step overlaid.

    References
    ----------
    .. [1] spec estimators_dynamics.md, sections 3.6 and 4; Cui et al., arXiv:2505.22617.

    Examples
    --------
    >>> from alignsim.figures import dynamics_trajectories
    >>> len(dynamics_trajectories(steps=50).axes)
    2
    """
    from .dynamics import entropy_change, forward_kl_fixed_point, grpo_expected_update, npg_iterate, pg_gradient
    from .estimators import expected_kl_gradient
    from .tilting import tilt

    rr, pr = np.asarray(r, dtype=float), np.asarray(ref, dtype=float)

    def xy(p):
        p = np.atleast_2d(p)
        return p[:, 1] + 0.5 * p[:, 2], p[:, 2] * math.sqrt(3) / 2

    def run(update, eta):
        th = np.log(pr)
        out = [pr]
        for _ in range(steps):
            th = th + eta * update(th)
            p = np.exp(th - th.max())
            out.append(p / p.sum())
        return np.array(out)

    pg = run(lambda th: pg_gradient(th, rr, pr, beta), 1.0)
    k3 = run(lambda th: pg_gradient(th, rr, pr, 0.0) - beta * expected_kl_gradient(th, pr, "k3", "loss"), 1.0)

    def grpo(th):
        p = np.exp(th - th.max())
        p /= p.sum()
        return grpo_expected_update(p, rr, 4) - beta * expected_kl_gradient(th, pr, "k1", "reward")

    gr = run(grpo, 0.05)
    npg = npg_iterate(pr, rr, pr, beta, 0.5, 60)
    fig = Figure(figsize=(10.4, 4.6), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    ax.plot([0, 1, 0.5, 0], [0, 0, math.sqrt(3) / 2, 0], color="0.5", lw=0.8)
    for name, traj, c in [("policy gradient (correct KL)", pg, OKABE_ITO[0]), ("natural gradient", npg, OKABE_ITO[2]),
                          ("PG with k3 as loss", k3, OKABE_ITO[1]), ("GRPO (G=4) + correct KL", gr, OKABE_ITO[3])]:
        x, y = xy(traj)
        ax.plot(x, y, color=c, lw=1.8, label=name)
    x, y = xy(tilt(pr, rr, beta))
    ax.plot(x, y, "*", color="0.1", ms=14, label=r"tilt $\pi^\star$")
    x, y = xy(forward_kl_fixed_point(rr, pr, beta)[0])
    ax.plot(x, y, "D", color=OKABE_ITO[1], ms=8, label="forward-KL optimum")
    x, y = xy(pr)
    ax.plot(x, y, "o", color="0.4", ms=6, label="reference (start)")
    for (tx, ty), lab in zip([(0, 0), (1, 0), (0.5, math.sqrt(3) / 2)], [f"arm 1 (r={rr[0]:g})", f"arm 2 (r={rr[1]:g})",
                                                                         f"arm 3 (r={rr[2]:g})"]):
        ax.annotate(lab, (tx, ty), fontsize=8, ha="center", va="top" if ty == 0 else "bottom")
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(rf"Exact expected dynamics, $\beta={beta:g}$ (barycentric coordinates)", fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    entropy = [-float(np.dot(p, np.log(p))) for p in pg]
    pred = [entropy[0]]
    for p in pg[:-1]:
        th = np.log(p)
        pred.append(pred[-1] + entropy_change(th, pg_gradient(th, rr, pr, beta)))
    ts = np.arange(len(pg)) + 1
    ax2.plot(ts, entropy, color=OKABE_ITO[0], lw=2, label="entropy along policy gradient (nats)")
    ax2.plot(ts, pred, color="0.2", lw=1, ls="--", label="first-order prediction, accumulated")
    ax2.plot(ts, pg @ rr, color=OKABE_ITO[4], lw=2, label=r"expected reward $\mathbb{E}_\pi r$")
    ax2.set_xscale("log")
    ax2.set_xlabel("step + 1 (eta = 1)")
    ax2.set_ylabel("nats / reward")
    ax2.set_title("Entropy falls as the policy concentrates", fontsize=10)
    ax2.legend(frameon=False, fontsize=8)
    return fig


# --------------------------------------------------------------------------------------------------------------
# InfAlign (spec infalign.md section 4.3): everything in the continuous model, in calibrated units
# --------------------------------------------------------------------------------------------------------------
def _ctrl_curve(transform, procedure, N, kl_max, intervals, points=40):
    """(KL, win rate) of the CTRL policies of one transform over a geometric sweep of KL in [0.005, kl_max]."""
    from . import infalign as ia

    lo = ia.UniformCTRL(transform, kl=0.005, intervals=intervals).log_lambda
    hi = ia.UniformCTRL(transform, kl=kl_max, intervals=intervals).log_lambda
    pols = [ia.UniformCTRL(transform, log_lambda=ll, intervals=intervals) for ll in np.linspace(lo, hi, points)]
    return [0.0] + [p.kl for p in pols], [0.5] + [p.win_rate(procedure, N) for p in pols]


def _optimal_curve(procedure, N, kl_max, intervals, points=30):
    from . import infalign as ia

    b_lo = ia.optimal_transform(procedure, N, kl=kl_max, intervals=intervals).beta
    b_hi = ia.optimal_transform(procedure, N, kl=0.005, intervals=intervals).beta
    df = ia.optimal_frontier(procedure, N, np.geomspace(b_hi, b_lo, points), intervals=intervals)
    return [0.0] + df["kl"].tolist(), [0.5] + df["win_rate"].tolist()


#: Panels of :func:`infalign_frontier`: (procedure, N, largest KL on the axis).
INFALIGN_PANELS = (("bon", 2, 2.0), ("bon", 4, 2.0), ("bon", 8, 2.0), ("bon", 32, 1.0),
                   ("won", 2, 2.0), ("won", 4, 2.0), ("won", 8, 1.0))


def infalign_frontier(panels=INFALIGN_PANELS, intervals: int = 2 ** 12, table_intervals: int = 2 ** 14) -> Figure:
    r"""Inference-time win rate vs KL for best-of-N and worst-of-N decoding: identity, log, the exponential
    transform tuned at KL 0.5, and the optimal transform, in the uniform calibrated model.

    .. math::

        W^{\mathcal T}_N(\pi) = W\big(\mathcal T_N(\pi)\succ\mathcal T_N(\pi_{\rm ref})\big),\qquad
        \pi_{\Phi,\beta}\propto\pi_{\rm ref}e^{\Phi(C)/\beta}.

    Markers are the rows of :func:`alignsim.infalign.frontier_table` at the panel's :math:`N` (the spec's
    section 4.4 table, reproduced to its printed digits): the exponential tuned at each KL (open) and the optimum
    (filled). The last panel is the standard win rate, where the identity transform is optimal and best-of-N of
    the reference (:math:`\log N-\frac{N-1}N`, :math:`\frac N{N+1}`) lies just below it.

    References
    ----------
    .. [1] Balashankar et al., "InfAlign", arXiv:2412.19792 (analytical comparison of transforms); spec
       ``infalign.md`` sections 4.3-4.4.

    Examples
    --------
    >>> from alignsim.figures import infalign_frontier
    >>> len(infalign_frontier(panels=(("bon", 2, 0.5),), intervals=2 ** 10, table_intervals=None).axes)
    2
    """
    from . import infalign as ia

    n_axes = len(panels) + 1
    cols = min(4, n_axes)
    rows = math.ceil(n_axes / cols)
    fig = Figure(figsize=(3.3 * cols, 3.1 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    table_rows = [row for row in ia.FRONTIER_ROWS if any(row[:2] == pn[:2] for pn in panels)]
    table = ia.frontier_table(table_rows, intervals=table_intervals) if table_intervals else None
    for ax, (procedure, N, kl_max) in zip(axes, panels):
        tuned = ia.best_t(procedure, N, 0.5, intervals=intervals)[0]
        family = ia.exp if procedure == "bon" else ia.negexp
        curves = [("identity", "identity", OKABE_ITO[0], "-"), ("log", r"log ($\lambda=N-1$: BoN of ref)",
                                                               OKABE_ITO[4], "-"),
                  (family(tuned), "exp (BoN) / negexp (WoN), t tuned at KL 0.5", OKABE_ITO[2], "-")]
        for tr, label, colour, ls in curves:
            ax.plot(*_ctrl_curve(tr, procedure, N, kl_max, intervals), color=colour, ls=ls, lw=1.6, label=label)
        ax.plot(*_optimal_curve(procedure, N, kl_max, intervals), color="0.1", lw=1.2, ls="--",
                label="optimal transform")
        if table is not None:
            sel = table[(table["procedure"] == procedure) & (table["N"] == N)]
            ax.plot(sel["kl"], sel["tuned"], "o", mfc="white", mec=OKABE_ITO[2], ms=5,
                    label=r"exp tuned at each KL ($t^\star$)")
            ax.plot(sel["kl"], sel["optimum"], "o", color="0.1", ms=3, label="optimum (table 4.4)")
        ax.set_xlim(0, kl_max)
        ax.set_ylim(0.5, 1.0)
        ax.set_xlabel("KL(policy || reference) (nats)")
        ax.set_ylabel(f"{'best' if procedure == 'bon' else 'worst'}-of-{N} win rate")
        ax.set_title(f"{'Best' if procedure == 'bon' else 'Worst'}-of-{N} on both sides "
                     f"({family.__name__} t = {tuned:.3g})", fontsize=9)
    ax = axes[len(panels)]
    kls, wins = _ctrl_curve("identity", "std", 1, 2.5, intervals)
    ax.plot(kls, wins, color=OKABE_ITO[0], lw=1.6, label="identity (optimal)")
    ax.plot(*_ctrl_curve(ia.exp(10.0), "std", 1, 2.5, intervals), color=OKABE_ITO[2], lw=1.6, label="exp(t = 10)")
    ns = np.array([2, 4, 8, 16, 32])
    ax.plot(bon_kl_bound(ns), bon_win_rate_bound(ns), "s", color=OKABE_ITO[4], ms=4, label="best-of-N of reference")
    ax.set_xlim(0, 2.5)
    ax.set_ylim(0.5, 1.0)
    ax.set_xlabel("KL(policy || reference) (nats)")
    ax.set_ylabel("standard win rate")
    ax.set_title("Plain sampling: calibration alone is optimal", fontsize=9)
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    for extra in axes[n_axes:]:
        extra.set_axis_off()
    axes[0].legend(frameon=False, fontsize=6.5, loc="lower right")
    fig.suptitle("InfAlign: inference-time win rate vs KL in the uniform calibrated model", fontsize=11)
    return fig


def infalign_best_t(ns=(2, 4, 8, 16, 32), kls=(0.02, 0.05, 0.1, 0.25, 0.5, 1.0), intervals: int = 2 ** 12) -> Figure:
    r"""Best exponent :math:`t^\star(N, \mathrm{KL})` of the exponential transforms: :math:`e^{t(u-1)}` for
    best-of-N (solid), :math:`-e^{-tu}` for worst-of-N (dashed), with the small-KL limit :math:`t_0(N)\approx2N`
    (:func:`alignsim.infalign.small_kl_t`, diamonds at the left edge).

    .. math::

        t^\star = \arg\max_t W^{\mathcal T}_N(\pi_{\Phi_t,\beta(t)})\quad\text{at fixed KL}.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 ("exponential transforms target different quantiles for different
       t"); spec ``infalign.md``, "How t is chosen".

    Examples
    --------
    >>> from alignsim.figures import infalign_best_t
    >>> len(infalign_best_t(ns=(2,), kls=(0.1, 0.5), intervals=2 ** 10).axes)
    1
    """
    from . import infalign as ia

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for j, n in enumerate(ns):
        colour = OKABE_ITO[j % 8]
        for procedure, ls in (("bon", "-"), ("won", "--")):
            ts = []
            for k in kls:
                try:
                    ts.append(ia.best_t(procedure, n, k, intervals=intervals)[0])
                except ValueError:  # the win rate is 1 to double precision: no maximum to find
                    break
            ax.plot(kls[: len(ts)], ts, ls=ls, marker="o", ms=3, color=colour,
                    label=f"N = {n}" if procedure == "bon" else None)
        ax.plot([kls[0] * 0.6], [ia.small_kl_t(n)], "D", color=colour, ms=5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("KL budget (nats)")
    ax.set_ylabel(r"best exponent $t^\star$")
    ax.set_title("Best exponent grows with N and with the KL budget\n"
                 r"solid: best-of-N, $e^{t(u-1)}$; dashed: worst-of-N, $-e^{-tu}$; diamonds: $t_0(N)$ (KL $\to$ 0)",
                 fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    return fig


def infalign_optimal_policies(N: int = 4, kls=(0.1, 0.5, 1.0, 2.0), intervals: int = 2 ** 14) -> Figure:
    r"""Densities of the optimal inference-aware policies in calibrated units: best-of-N puts a narrow spike of
    mass on the top quantiles, worst-of-N removes mass from the bottom and is nearly flat above a threshold.

    .. math::

        p^\star(u) = \frac{e^{\Phi^\star(u)/\beta}}{Z},\qquad \Phi^\star = \mathcal R_{p^\star}\ \text{(Lemma B)}.

    Dashed: the exponential transform tuned at the same KL.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792; spec ``infalign.md`` section 3.4 (shape of the optimum).

    Examples
    --------
    >>> from alignsim.figures import infalign_optimal_policies
    >>> len(infalign_optimal_policies(kls=(0.5,), intervals=2 ** 10).axes)
    2
    """
    from . import infalign as ia

    fig = Figure(figsize=(9.6, 4.0), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, procedure in zip(axes, ("bon", "won")):
        family = ia.exp if procedure == "bon" else ia.negexp
        for j, k in enumerate(kls):
            opt = ia.optimal_transform(procedure, N, kl=k, intervals=intervals)
            ax.plot(opt.u, opt.policy, color=OKABE_ITO[j % 8], lw=1.6,
                    label=f"KL {k:g}: optimum, W = {opt.win_rate:.4f}")
            t, w = ia.best_t(procedure, N, k, intervals=intervals)
            pol = ia.UniformCTRL(family(t), kl=k, intervals=intervals)
            ax.plot(pol.u, pol.density, color=OKABE_ITO[j % 8], lw=1.0, ls="--",
                    label=f"KL {k:g}: {family.__name__}(t = {t:.3g}), W = {w:.4f}")
        if procedure == "bon":  # a spike of height ~1e2 at the top: log scale
            ax.set_yscale("log")
            ax.set_ylim(0.1, 1e3)
        else:  # mass removed from the bottom, nearly flat above: linear scale
            ax.set_ylim(0.0, None)
        ax.set_xlabel("calibrated reward u (reference quantile)")
        ax.set_ylabel("policy density")
        ax.set_title(f"Optimal policy for {'best' if procedure == 'bon' else 'worst'}-of-{N} decoding", fontsize=10)
        ax.legend(frameon=False, fontsize=6.5, loc="upper left")
    return fig


def infalign_calibration(N: int = 4, ms=(1, 2, 4, 8, 16, 32, 64, 128, 256), t: float = 12.63,
                         intervals: int = 2 ** 14) -> Figure:
    r"""Calibrated vs raw-reward RLHF, and the cost of estimating the calibrated reward from :math:`m` samples.

    Raw-reward RLHF :math:`\pi\propto\pi_{\rm ref}e^{r/\beta}` is CTRL with the reward's quantile function
    (spec Proposition D): its trade-off depends on the reward law (Gaussian: standard win rate
    :math:`\Phi_{\mathcal N}(\sqrt{\mathrm{KL}})`, and :math:`W^{\rm bon}_N=W^{\rm won}_N`), while the calibrated
    identity is the same for every atomless reward and optimal for the standard win rate. Right: best-of-N win rate
    at KL 0.5 of the exponential transform when :math:`C` is estimated from :math:`m` fresh reference samples (the
    smoothed transform :math:`\mathbb E\,\Phi(\hat C_m)`, :func:`alignsim.infalign.smoothed`).

    .. math::

        \Phi_m(C) = \mathbb E\big[\Phi(B/m)\big],\quad B\sim\mathrm{Binomial}(m, C).

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (reward calibration); spec ``infalign.md`` Proposition D, 6.1.

    Examples
    --------
    >>> from alignsim.figures import infalign_calibration
    >>> len(infalign_calibration(ms=(1, 4), intervals=2 ** 10).axes)
    3
    """
    from scipy.stats import expon, norm

    from . import infalign as ia

    fig = Figure(figsize=(12.0, 3.9), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    transforms = [("identity", "calibrated reward (any atomless r)", OKABE_ITO[0], "-"),
                  (ia.quantile(norm.ppf, "gaussian"), "raw Gaussian reward", OKABE_ITO[1], "-"),
                  (ia.quantile(expon.ppf, "exponential"), "raw exponential reward", OKABE_ITO[2], "-")]
    for tr, label, colour, ls in transforms:
        kls, std = _ctrl_curve(tr, "std", 1, 2.0, intervals)
        ax1.plot(kls, std, color=colour, ls=ls, lw=1.6, label=label)
        kls, bon = _ctrl_curve(tr, "bon", N, 2.0, intervals)
        ax2.plot(kls, bon, color=colour, ls="-", lw=1.6, label=f"{label}: best-of-{N}")
        kls, won = _ctrl_curve(tr, "won", N, 2.0, intervals)
        ax2.plot(kls, won, color=colour, ls=":", lw=1.6, label=f"{label}: worst-of-{N}")
    grid = np.linspace(0, 2.0, 100)
    ax1.plot(grid, norm.cdf(np.sqrt(grid)), color="0.2", lw=0.8, ls="--", label=r"Gaussian: $\Phi_{\mathrm{N}}(\sqrt{\mathrm{KL}})$")
    for ax, title in ((ax1, "Standard win rate"), (ax2, f"Inference-time win rate, N = {N}")):
        ax.set_xlabel("KL(policy || reference) (nats)")
        ax.set_ylabel("win rate")
        ax.set_ylim(0.5, 1.0)
        ax.set_title(title, fontsize=10)
        ax.legend(frameon=False, fontsize=6.5, loc="lower right")
    base = ia.UniformCTRL(ia.exp(t), kl=0.5, intervals=intervals).win_rate("bon", N)
    wins = [ia.UniformCTRL(ia.smoothed(ia.exp(t), m), kl=0.5, intervals=intervals).win_rate("bon", N) for m in ms]
    ax3.semilogx(ms, wins, "o-", color=OKABE_ITO[0], ms=4, base=2, label=r"$\Phi_m$ (m reference samples)")
    ax3.axhline(base, color="0.2", lw=0.8, ls="--", label=r"exact calibration ($m=\infty$)")
    ident = ia.UniformCTRL("identity", kl=0.5, intervals=intervals).win_rate("bon", N)
    ax3.axhline(ident, color=OKABE_ITO[1], lw=0.8, ls=":", label="identity transform")
    ax3.set_xlabel("calibration samples m")
    ax3.set_ylabel(f"best-of-{N} win rate at KL 0.5")
    ax3.set_title(f"Estimated calibration smooths exp(t = {t:g})", fontsize=10)
    ax3.legend(frameon=False, fontsize=7, loc="center right")
    return fig


# --------------------------------------------------------------------------------------------------------------
# The p-n criterion (spec pn_criterion.md)
# --------------------------------------------------------------------------------------------------------------
def pn_convergence(ns=(10, 20, 40, 80, 160, 320)) -> Figure:
    r"""The second-order coefficient as a limit: :math:`n^2(R_n-c_1/n)\to c_2` for the exact risk of the MLE
    (conditional on existence) in three finite exponential families, with the Richardson extrapolation
    :math:`2r(2n)-r(n)` that removes the :math:`c_3/n` term.

    .. math::

        R_n = \frac{c_1}{n}+\frac{c_2}{n^2}+O(n^{-3}).

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, section 2; spec ``pn_criterion.md`` section 6 (cases 3, 4, 7).

    Examples
    --------
    >>> from alignsim.figures import pn_convergence
    >>> len(pn_convergence(ns=(10, 20)).axes)
    1
    """
    from . import pn

    cases = [("categorical K = 3, g = (0.2, 0.3, 0.5)", pn.FiniteExpFamily(np.eye(3)[:, :2]), [0.2, 0.3, 0.5]),
             ("tilt family on {0..3}, misspecified (case 7)", pn.tilt_family([0.25] * 4, [0, 1, 2, 3]),
              [0.5, 0.1, 0.1, 0.3]),
             ("Bernoulli q = 0.2 (case 3)", pn.FiniteExpFamily([0, 1]), [0.8, 0.2])]
    fig = Figure(figsize=(6.8, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for j, (label, fam, g) in enumerate(cases):
        c1, c2 = pn.risk_coefficients(fam, g)
        r = np.array([n * n * (pn.exact_risk(fam, g, n).risk - c1 / n) for n in ns])
        colour = OKABE_ITO[j]
        ax.plot(ns, r, "o-", color=colour, ms=4, label=f"{label}: $c_2$ = {c2:.4f}")
        rich = [(n2, 2 * b - a) for n2, a, b, n1 in zip(ns[1:], r[:-1], r[1:], ns[:-1]) if n1 >= 20]
        ax.plot([x for x, _ in rich], [y for _, y in rich], "s", mfc="white", mec=colour, ms=5)
        ax.axhline(c2, color=colour, lw=0.8, ls="--")
    ax.plot([], [], "s", mfc="white", mec="0.3", label=r"Richardson $2r(2n)-r(n)$")
    ax.set_xscale("log")
    ax.set_xlabel("sample size n")
    ax.set_ylabel(r"$r(n) = n^2\,(R_n - c_1/n)$")
    ax.set_title("Exact MLE risk (given existence) approaches the two-term expansion", fontsize=10)
    ax.legend(frameon=False, fontsize=7.5)
    return fig


def pn_acceptance(eps=(0.05, 0.03, 0.02, 0.01), p_max: int = 200) -> Figure:
    r"""The p-n acceptance region: a model of dimension :math:`p` is accepted at sample size :math:`n` when
    :math:`\hat R_n\le8\varepsilon^2`; first order (well-specified, :math:`c_1=p/2`): :math:`n\ge p/(16\varepsilon^2)`
    (solid); with the second-order term of a saturated categorical model with uniform truth,
    :math:`c_2=(K-1)(5K-1)/12`, :math:`K=p+1` (dashed).

    .. math::

        n_{\rm req}=\Big\lceil\frac{c_1+\sqrt{c_1^2+4\tau c_2}}{2\tau}\Big\rceil,\qquad\tau=8\varepsilon^2.

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, section 3; spec ``pn_criterion.md`` section 3.2 (decision rule, reconstructed).

    Examples
    --------
    >>> from alignsim.figures import pn_acceptance
    >>> len(pn_acceptance(eps=(0.05,)).axes)
    1
    """
    from . import pn

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    ps = np.unique(np.round(np.geomspace(1, p_max, 40)).astype(int))
    for j, e in enumerate(eps):
        colour = OKABE_ITO[j % 8]
        first = [pn.pn_criterion(1, e, p / 2)["n_required"] for p in ps]
        second = [pn.pn_criterion(1, e, p / 2, (p * (5 * p + 4)) / 12)["n_required"] for p in ps]
        ax.plot(ps, first, color=colour, lw=1.6, label=rf"$\varepsilon$ = {e:g}: first order, $n = p/(16\varepsilon^2)$")
        ax.plot(ps, second, color=colour, lw=1.2, ls="--", label=rf"$\varepsilon$ = {e:g}: with $c_2$ (saturated)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("model dimension p")
    ax.set_ylabel("required sample size n (accept above the line)")
    ax.set_title(r"p-n criterion: $E\,P_e(f_{\hat\theta}, f_{\theta_*})\geq 1/2-\varepsilon$ when "
                 r"$c_1/n + c_2/n^2 \leq 8\varepsilon^2$", fontsize=10)
    ax.legend(frameon=False, fontsize=7)
    return fig


def _loglinear(d, order):
    """Sufficient statistics of the log-linear model on d binary (+-1) variables with interactions up to ``order``."""
    import itertools

    x = np.array(list(itertools.product([-1.0, 1.0], repeat=d)))
    cols = [np.prod(x[:, list(s)], axis=1) for k in range(1, order + 1) for s in itertools.combinations(range(d), k)]
    return np.column_stack(cols)


def pn_synthetic(seed: int = 1599, sizes=(1599, 4177, 4898)) -> Figure:
    r"""Synthetic stand-in for the paper's practical demonstrations (spec section 4, case 15): log-linear models of
    increasing order on six binary variables fitted to a truth with 2-, 3- and 4-way interactions. Left: the
    estimation risk :math:`c_1/n+c_2/n^2` against the thresholds :math:`8\varepsilon^2`; right: the approximation
    error :math:`D[g|f_{\theta_*}]` falls with :math:`p` while the estimation risk grows (their sum is the total
    risk that AIC/TIC rank by; the p-n criterion bounds only the estimation part).

    .. math::

        E\,D[g|f_{\hat\theta}] = D[g|f_{\theta_*}] + R_n\quad\text{(Pythagoras)}.

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, sections 3-4; spec ``pn_criterion.md`` sections 4-5.

    Examples
    --------
    >>> from alignsim.figures import pn_synthetic
    >>> len(pn_synthetic(sizes=(1599,)).axes)
    2
    """
    from . import pn

    rng = np.random.default_rng(seed)
    full = _loglinear(6, 6)
    weights = np.zeros(full.shape[1])
    orders = np.concatenate([np.full(math.comb(6, k), k) for k in range(1, 7)])
    weights[orders == 1] = rng.normal(0, 0.3, np.sum(orders == 1))
    weights[orders == 2] = rng.normal(0, 0.25, np.sum(orders == 2))
    weights[orders == 3] = rng.normal(0, 0.15, np.sum(orders == 3))
    weights[orders == 4] = rng.normal(0, 0.1, np.sum(orders == 4))
    logits = full @ weights
    g = np.exp(logits - logits.max())
    g /= g.sum()
    models = [("independence", 1), ("pairwise (Ising)", 2), ("pairwise + 3-way", 3), ("saturated", 6)]
    fig = Figure(figsize=(10.4, 4.2), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    ns = np.geomspace(200, 20000, 100)
    dims, approx, coeffs = [], [], []
    for j, (name, order) in enumerate(models):
        fam = pn.FiniteExpFamily(_loglinear(6, order))
        c1, c2 = pn.risk_coefficients(fam, g)
        theta = pn.info_projection(fam, g)
        dims.append(fam.p)
        approx.append(float(np.sum(g * (np.log(g) - fam.logprobs(theta)))))
        coeffs.append((c1, c2))
        ax.plot(ns, pn.risk_expansion(ns, c1, c2), color=OKABE_ITO[j], lw=1.6,
                label=f"{name}, p = {fam.p}: $c_1$ = {c1:.2f}, $c_2$ = {c2:.0f}")
    for e, ls in ((0.05, "--"), (0.02, ":")):
        ax.axhline(pn.kl_threshold(e), color="0.3", lw=0.9, ls=ls, label=rf"$8\varepsilon^2$, $\varepsilon$ = {e:g}")
    for n in sizes:
        ax.axvline(n, color="0.85", lw=0.8, zorder=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sample size n (grey: 1599, 4177, 4898)")
    ax.set_ylabel(r"estimation risk $c_1/n + c_2/n^2$ (nats)")
    ax.set_title("Which model can n samples support?", fontsize=10)
    ax.legend(frameon=False, fontsize=7)
    shown = [k for k, v in enumerate(approx) if v > 1e-12]  # the saturated model has D = 0 exactly
    ax2.plot([dims[k] for k in shown], [approx[k] for k in shown], "o-", color="0.2", lw=1.6,
             label=r"approximation $D[g|f_{\theta_*}]$ (0 for the saturated model)")
    for j, n in enumerate(sizes):
        est = [pn.risk_expansion(n, c1, c2) for c1, c2 in coeffs]
        ax2.plot(dims, est, "s--", color=OKABE_ITO[j], ms=4, label=f"estimation $R_n$, n = {n}")
        ax2.plot(dims, np.add(approx, est), "o-", color=OKABE_ITO[j], ms=4, lw=1.0, label=f"total, n = {n}")
    ax2.set_yscale("log")
    ax2.set_ylim(1e-4, None)
    ax2.set_xlabel("model dimension p")
    ax2.set_ylabel("nats")
    ax2.set_title("Total risk = approximation + estimation", fontsize=10)
    ax2.legend(frameon=False, fontsize=7, loc="lower right")
    return fig


# --------------------------------------------------------------------------------------------------------------
# Regularisers beyond reverse KL (spec regularisers.md section 6)
# --------------------------------------------------------------------------------------------------------------
_REGULARISERS = (("reverse_kl", None, "reverse KL"), ("forward_kl", None, "forward KL"), ("js", None, "Jensen-Shannon"),
                 ("chi2", None, r"$\chi^2$"), ("hellinger", None, "squared Hellinger"), ("tv", None, "total variation"),
                 ("alpha", -1.0, r"$\alpha=-1$"), ("alpha", 3.0, r"$\alpha=3$"))


def regularisers_frontier(q=(0.4, 0.3, 0.2, 0.1), r=(0.0, 0.5, 1.0, 1.5)) -> Figure:
    r"""Reward against divergence for every regulariser's optimum, with three x-axes: each regulariser's own
    divergence, :math:`\mathrm{KL}(\pi\|q)` and :math:`\mathrm{KL}(q\|\pi)`.

    .. math::

        \pi_\beta=\arg\max_\pi\mathbb E_\pi r-\beta D_f(\pi\|q);\qquad \frac{d\,\mathbb E r}{dD_f}=\beta .

    Against :math:`\mathrm{KL}(\pi\|q)` the reverse-KL curve dominates, against :math:`\mathrm{KL}(q\|\pi)` the
    forward-KL curve does (spec section 2.4): comparisons "at matched KL" favour whoever owns the axis.

    References
    ----------
    .. [1] Wang et al., arXiv:2309.16240; spec ``regularisers.md`` sections 2.4 and 6 (R-frontier).

    Examples
    --------
    >>> from alignsim.figures import regularisers_frontier
    >>> len(regularisers_frontier().axes)
    3
    """
    from .regularisers import f_optimum

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

    References
    ----------
    .. [1] Spec ``regularisers.md`` sections 2.1 and 2.6 (the two axes: full support, lifting rare responses).

    Examples
    --------
    >>> from alignsim.figures import regularisers_policies
    >>> len(regularisers_policies().axes)
    1
    """
    from .regularisers import beta_for, f_optimum

    fig = Figure(figsize=(8.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    names = [x for x in _REGULARISERS if x[0] != "tv"]
    width = 0.8 / (len(names) + 1)
    idx = np.arange(len(q))
    ax.bar(idx - 0.4 + width / 2, q, width, color="0.75", label="reference $q$")
    for j, (name, alpha, label) in enumerate(names):
        b = beta_for(q, r, name, kl_budget, on="reverse_kl", alpha=alpha)
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

    References
    ----------
    .. [1] Li et al., "DPH-RL", arXiv:2509.07430; spec ``regularisers.md`` section 3 (V13).

    Examples
    --------
    >>> from alignsim.figures import regularisers_pass_at_k
    >>> len(regularisers_pass_at_k(p0s=(0.05, 0.5)).axes)
    2
    """
    from .dynamics import pass_at_k
    from .regularisers import binary_success, match_pass1, mixture_pass_at_k

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

    References
    ----------
    .. [1] Gao, Schulman, Hilton, ICML 2023; Coste et al., arXiv:2310.02743; Laidlaw et al., arXiv:2403.03185;
       spec ``regularisers.md`` section 4.

    Examples
    --------
    >>> from alignsim.figures import regularisers_overoptimisation
    >>> len(regularisers_overoptimisation().axes)
    3
    """
    from .regularisers import ensemble_reward, gold_path, goodhart_toy

    g1, g2 = goodhart_toy("G1"), goodhart_toy("G2")
    fig = Figure(figsize=(12.5, 4.0), layout="constrained")
    ax, ax2, ax3 = fig.subplots(1, 3)
    betas = np.geomspace(50.0, 0.002, 300)
    for j, (name, alpha, label) in enumerate(_REGULARISERS[:5]):
        df = gold_path(g1.q, g1.proxy, g1.gold, name, betas)
        ax.plot(df.proxy, df.gold, color=OKABE_ITO[j], lw=1.5, label=f"{label} (peak {df.gold.max():.3f})")
        ax3.plot(df.sqrt_kl, df.gold, color=OKABE_ITO[j], lw=1.5, label=label)
    bon = gold_path(g1.q, g1.proxy, g1.gold, "bon")
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
    for j, (label, agg) in enumerate(rules):
        df = gold_path(g2.q, agg, g2.gold, "kl", betas)
        ax2.plot(df.sqrt_kl, df.gold, color=OKABE_ITO[j], lw=1.5, ls="-" if j < 3 else "--", label=label)
    ax2.set_xlabel(r"$\sqrt{\mathrm{KL}(\pi\|q)}$")
    ax2.set_ylabel("gold reward")
    ax2.set_title("G2: KL-RL on ensembles of 3 reward models", fontsize=10)
    ax2.legend(frameon=False, fontsize=7)
    ax3.set_xlabel(r"$\sqrt{\mathrm{KL}(\pi\|q)}$")
    ax3.set_ylabel("gold reward")
    ax3.set_title("G1: overoptimisation against KL", fontsize=10)
    ax3.legend(frameon=False, fontsize=7)
    return fig


#: the judge figures' models: a proportional-regime teacher-judge model (d = 100, lambda = 0.1, Bayes prior) and a
#: misspecified judge that overshoots the teacher (rho = beta y_T; alpha = 0.05, sigma^2 = gamma^2 = 1)
_JUDGE_TEACHER = dict(d=100, n=200, sigma2=0.1, prior_var=1.0)
_JUDGE_MISSPECIFIED = dict(d=5, n=100, sigma2=1.0, prior_var=1.0)


def _k_grid(k_max: int, points: int) -> np.ndarray:
    return np.unique(np.round(np.geomspace(1, k_max, points)).astype(int))


def judge_error_vs_k(ns=(100, 200, 800), betas=(0.45, 0.6, 0.75), k_max: int = 1000, points: int = 40) -> Figure:
    r"""Averaged best-of-k error against ``k`` (log axes): monotone :math:`\Theta(1/k^2)` decay with the teacher as
    judge (left, with the extreme-value asymptote), a finite optimal ``k`` when the judge overshoots (right).

    .. math::

        \bar E_k=\bar\rho^2+\frac{\bar C}{(k+1)(k+2)}+O(k^{-4}),\qquad
        \bar C=\pi s^2(1-2V_\Delta/s^2)^{-3/2}\big(1-2(V_\Delta+\mathrm{Cov}(\rho,\Delta))/s^2\big).

    Left: ``d = 100``, :math:`\sigma^2=0.1`, :math:`\gamma^2=\tau^2=1`, three training-set sizes; the dotted line is
    the data-only floor :math:`\sigma^2` that no ``n`` reaches with one sample. Right: judge
    :math:`w_R=(1+\beta)w_T` (:math:`\alpha=0.05`); dashed lines are the floors :math:`E\rho^2`, which the error
    undershoots when :math:`\bar C<0`, and the markers the optimal ``k``.

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905 (the authors' ``BLR_zero_T.py`` figure); spec ``judge.md``
       sections 4-5 (V4b, V7b).

    Examples
    --------
    >>> from alignsim.figures import judge_error_vs_k
    >>> len(judge_error_vs_k(ns=(200,), betas=(0.6,), k_max=20, points=6).axes)
    2
    """
    from .judge import JudgeModel

    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    ks = _k_grid(k_max, points)
    for j, n in enumerate(ns):
        model = JudgeModel(**{**_JUDGE_TEACHER, "n": n})
        law = model.best_of_k()
        colour = OKABE_ITO[j]
        coef = (fr"$\bar C=\infty$, exponent {law.exponent:.2f}" if math.isinf(law.coefficient)
                else fr"$\bar C$ = {law.coefficient:.3f}")
        ax.plot(ks, [model.error(k) for k in ks], "o-", color=colour, ms=3, lw=1.4,
                label=fr"$n$ = {n} ($\alpha$ = {model.alpha:g}), {coef}")
        big = ks[ks >= 3]
        ax.plot(big, law.coefficient / ((big + 1.0) * (big + 2.0)), color=colour, lw=0.9, ls="--")
    ax.axhline(_JUDGE_TEACHER["sigma2"], color="0.3", lw=0.9, ls=":", label=r"data-only floor $\sigma^2$")
    ax.plot([], [], color="0.3", ls="--", lw=0.9, label=r"$\bar C/((k+1)(k+2))$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples k")
    ax.set_ylabel(r"averaged error $\bar E_k$ (clean target)")
    ax.set_title("Teacher as judge: monotone, $1/k^2$", fontsize=10)
    ax.legend(frameon=False, fontsize=7.5)
    for j, beta in enumerate(betas):
        model = JudgeModel(**_JUDGE_MISSPECIFIED, judge=("scale", beta))
        law = model.best_of_k()
        k_star, e_star = model.optimal_k(k_max=k_max)
        colour = OKABE_ITO[j + 3]
        coef = r"$\infty$" if math.isinf(law.coefficient) else f"{law.coefficient:.2f}"
        ax2.plot(ks, [model.error(k) for k in ks], "o-", color=colour, ms=3, lw=1.4,
                 label=fr"$\beta$ = {beta}: $\bar C$ = {coef}, $k^*$ = {k_star}")
        ax2.axhline(law.floor, color=colour, lw=0.9, ls="--")
        ax2.plot([k_star], [e_star], "*", color=colour, ms=12, mec="black", mew=0.5)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("samples k")
    ax2.set_ylabel(r"averaged error $\bar E_k$")
    ax2.set_title(r"Overshooting judge $w_R=(1+\beta)w_T$: finite optimal $k$ (floors dashed)", fontsize=10)
    ax2.legend(frameon=False, fontsize=7.5)
    return fig


def judge_error_vs_temperature(ks=(2, 8, 32, 128), beta: float = 0.85, points: int = 28) -> Figure:
    r"""Averaged error against the softmax temperature at fixed ``k`` for an overshooting judge: best-of-k
    (``T = 0``, dashed) wins at small ``k``, an interior optimal temperature (stars) beyond, ``k = inf`` dotted.

    .. math::

        \bar E_{k,T}=E_{\mu,\rho}\,k\int_0^\infty E[U^2we^{-tw}]\,(E\,e^{-tw})^{k-1}dt,\qquad w=e^{-(U-\rho)^2/T},

        T^*_\infty=\frac{2s^2\theta^*}{1-\theta^*},\quad \theta^*=\frac{2\mathrm{Cov}(\rho,\Delta)-s^2}{2V_\Delta}.

    The model is :math:`\alpha=0.05`, :math:`\sigma^2=\gamma^2=\tau^2=1`, judge :math:`w_R=(1+\beta)w_T`; the
    temperature is shown in units of :math:`2s^2`.

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905 (claim iv); spec ``judge.md`` section 5 (V8).

    Examples
    --------
    >>> from alignsim.figures import judge_error_vs_temperature
    >>> len(judge_error_vs_temperature(ks=(4,), points=4).axes)
    1
    """
    from .judge import JudgeModel

    model = JudgeModel(**_JUDGE_MISSPECIFIED, judge=("scale", beta))
    s2 = model.offset_law()["s2"]
    temps = np.geomspace(0.02, 4.0, points) * 2.0 * s2
    fig = Figure(figsize=(6.8, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for j, k in enumerate(ks):
        colour = OKABE_ITO[j]
        ax.plot(temps / (2 * s2), [model.error(k, t) for t in temps], color=colour, lw=1.5, label=f"k = {k}")
        ax.axhline(model.error(k), color=colour, lw=0.9, ls="--")
        t_star, e_star = model.optimal_temperature(k)
        if t_star > 0:
            ax.plot([t_star / (2 * s2)], [e_star], "*", color=colour, ms=12, mec="black", mew=0.5)
        else:  # best-of-k is optimal: mark it on the T = 0 line at the axis' left edge
            ax.plot([temps[0] / (2 * s2)], [e_star], "<", color=colour, ms=9, mec="black", mew=0.5)
    t_inf, e_inf = model.optimal_temperature(math.inf)
    ax.plot(temps / (2 * s2), [model.error(math.inf, t) for t in temps], color="0.2", lw=1.0, ls=":",
            label=fr"$k=\infty$ ($T^*/2s^2$ = {t_inf / (2 * s2):.3f})")
    ax.plot([], [], color="0.4", ls="--", lw=0.9, label="best-of-k (T = 0)")
    ax.plot([], [], "*", color="0.4", ms=10, label="optimal temperature")
    ax.plot([], [], "<", color="0.4", ms=8, label="optimum at T = 0 (best-of-k)")
    ax.set_xscale("log")
    ax.set_xlabel(r"temperature $T/(2s^2)$")
    ax.set_ylabel(r"averaged error $\bar E_{k,T}$")
    ax.set_title(fr"Judge overshoots ($\beta$ = {beta}): best-of-k wins at small k, a finite T beyond",
                 fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    return fig


def judge_compute_vs_data(d: int = 100, n_steps: int = 16, k_steps: int = 21) -> Figure:
    r"""Inference compute against training data: the averaged best-of-k error over :math:`(n, k)` (teacher
    judge), with the boundary beyond which doubling ``k`` lowers the error more than doubling ``n``.

    .. math::

        \bar E(n,2k)<\bar E(2n,k)\quad\text{(samples beat data)},\qquad
        \bar E(n_{eq},1)=\bar E(n,k)\ \ (n_{eq}=\infty\ \text{if}\ \bar E(n,k)\le\sigma^2).

    ``d = 100``, :math:`\sigma^2=0.1`, :math:`\gamma^2=\tau^2=1`; ``n`` and ``k`` on grids of ratio
    :math:`\sqrt2`. The white contour is the data-only floor :math:`\sigma^2`: below it no amount of data
    matches ``k`` samples (the data equivalent is infinite).

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905 (claim vi); spec ``judge.md`` section 6 (V9).

    Examples
    --------
    >>> from alignsim.figures import judge_compute_vs_data
    >>> len(judge_compute_vs_data(n_steps=4, k_steps=4).axes)
    2
    """
    from .judge import JudgeModel

    base = JudgeModel(**{**_JUDGE_TEACHER, "d": d})
    ns = d * 0.5 * 2.0 ** (np.arange(n_steps + 2) / 2.0)
    ks = 2.0 ** (np.arange(k_steps + 2) / 2.0)
    err = np.array([[base.with_n(n).error(k) for k in ks] for n in ns])
    log_e = np.log10(err)
    gain_k = log_e[:-2, :-2] - log_e[:-2, 2:]  # doubling k
    gain_n = log_e[:-2, :-2] - log_e[2:, :-2]  # doubling n
    fig = Figure(figsize=(7.2, 5.0), layout="constrained")
    ax = fig.add_subplot()
    K, N = np.meshgrid(ks[:-2], ns[:-2])
    mesh = ax.pcolormesh(K, N, log_e[:-2, :-2], shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label=r"$\log_{10}\bar E(n,k)$")
    levels = np.arange(np.floor(log_e.min()), np.ceil(log_e.max()) + 0.5, 1.0)
    ax.contour(K, N, log_e[:-2, :-2], levels=levels, colors="0.85", linewidths=0.6, linestyles="solid")
    ax.contour(K, N, log_e[:-2, :-2], levels=[math.log10(base.sigma2)], colors="white", linewidths=1.6,
               linestyles="solid")
    ax.contourf(K, N, gain_k - gain_n, levels=[-np.inf, 0.0], colors="none", hatches=["///"])
    ax.contour(K, N, gain_k - gain_n, levels=[0.0], colors=OKABE_ITO[1], linewidths=2.0, linestyles="solid")
    ax.plot([], [], color="white", lw=1.6, label=r"$\bar E=\sigma^2$: data alone never gets below")
    ax.plot([], [], color=OKABE_ITO[1], lw=2.0, label=r"$\bar E(n,2k)=\bar E(2n,k)$; hatched: doubling n helps more")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples at inference k")
    ax.set_ylabel("training-set size n")
    ax.set_title(f"Best-of-k with the teacher as judge (d = {d})", fontsize=10)
    leg = ax.legend(frameon=True, fontsize=8, loc="upper right")
    leg.get_frame().set_alpha(0.8)
    return fig


def judge_decay_exponent(ratios=None, ks=(1e2, 1e4, 1e6)) -> Figure:
    r"""Decay exponent of best-of-k with the teacher as judge as the task gets harder: the local slope
    :math:`-d\log\bar E/d\log k` against :math:`V_\mu/s^2`, with the theory :math:`\min(2, s^2/V_\mu)`.

    .. math::

        \bar E_k\sim\frac{\pi s^2}{\sqrt{1-2V_\mu/s^2}}\,k^{-2}\quad(2V_\mu<s^2),\qquad
        \bar E_k\approx k^{-s^2/V_\mu}\ \text{up to logarithms}\quad(2V_\mu\ge s^2).

    Difficulty is the teacher's power against the prior's (:math:`\tau^2/\gamma^2`, here :math:`\alpha=0.5`,
    :math:`\sigma^2=0.5`, :math:`\gamma^2=1`): the model's offsets grow while its predictive spread does not, so
    best-of-k's samples must reach further; beyond :math:`V_\mu/s^2=1/2` the exponent falls below 2 and
    convergence to it is slow (logarithmic corrections).

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905 (claims v, vii); spec ``judge.md`` section 4 (V10).

    Examples
    --------
    >>> from alignsim.figures import judge_decay_exponent
    >>> len(judge_decay_exponent(ratios=(0.2, 0.8), ks=(1e2,)).axes)
    1
    """
    from .judge import JudgeModel

    if ratios is None:
        ratios = np.linspace(0.05, 1.6, 32)
    probe = JudgeModel(1, 2, 0.5, 1.0)
    law = probe.offset_law()
    q = probe.deterministic_equivalent()
    # V_mu = S^2 [tau^2 a2 + gamma^2 (a1 - a2)] is linear in tau^2: choose tau^2 for each ratio V_mu / s^2
    tau2s = (np.asarray(ratios) * law["s2"] - (q.a1 - q.a2)) / q.a2
    fig = Figure(figsize=(6.8, 4.4), layout="constrained")
    ax = fig.add_subplot()
    x = []
    slopes = {k: [] for k in ks}
    for t2 in tau2s:
        if t2 <= 0:
            continue
        model = JudgeModel(1, 2, 0.5, 1.0, tau2=float(t2))
        x.append(model.offset_law()["var_mu"] / model.offset_law()["s2"])
        for k in ks:
            slopes[k].append(-math.log(model.error(2 * k) / model.error(k / 2)) / math.log(4.0))
    x = np.array(x)
    for j, k in enumerate(ks):
        ax.plot(x, slopes[k], "o-", color=OKABE_ITO[j], ms=3, lw=1.3, label=f"local slope at k = {k:.0e}")
    grid = np.linspace(x.min(), x.max(), 400)
    ax.plot(grid, np.minimum(2.0, 1.0 / grid), color="0.2", lw=1.0, ls="--", label=r"$\min(2,\ s^2/V_\mu)$")
    ax.axvline(0.5, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel(r"task difficulty $V_\mu/s^2$")
    ax.set_ylabel(r"decay exponent $-d\log\bar E_k/d\log k$")
    ax.set_title("Harder tasks gain less from more samples (teacher judge, best-of-k)", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    return fig


#: Registry of figures written by ``alignsim figures``: name -> function (``--only asymptotics`` selects the
#: five figures of the asymptotics paper).
FIGURES: dict[str, Callable[[], Figure]] = {
    "asymptotics_frontier": frontier_vs_bon,
    "asymptotics_rate_functions": rate_functions,
    "asymptotics_ldp": ldp_convergence,
    "asymptotics_bon_vs_rl": bon_vs_rl_rates,
    "asymptotics_bon_kl": bon_kl_vs_formula,
    "bon_winrate_vs_kl": winrate_vs_kl,
    "estimators_std_over_kl": estimators_std_over_kl,
    "estimators_gradient_table": estimators_gradient_table,
    "dynamics_trajectories": dynamics_trajectories,
    "infalign_frontier": infalign_frontier,
    "infalign_best_t": infalign_best_t,
    "infalign_optimal_policies": infalign_optimal_policies,
    "infalign_calibration": infalign_calibration,
    "pn_convergence": pn_convergence,
    "pn_acceptance": pn_acceptance,
    "pn_synthetic": pn_synthetic,
    "regularisers_frontier": regularisers_frontier,
    "regularisers_policies": regularisers_policies,
    "regularisers_pass_at_k": regularisers_pass_at_k,
    "regularisers_overoptimisation": regularisers_overoptimisation,
    "judge_error_vs_k": judge_error_vs_k,
    "judge_error_vs_temperature": judge_error_vs_temperature,
    "judge_compute_vs_data": judge_compute_vs_data,
    "judge_decay_exponent": judge_decay_exponent,
}


def _caption(make) -> str:
    """First sentence of a figure function's docstring, on one line."""
    import re

    text = " ".join((make.__doc__ or "").strip().split("\n\n")[0].split())
    text = re.sub(r":math:`([^`]*)`", r"$\1$", text.split(". ")[0].rstrip(".") + ".")  # GitHub renders $...$
    return re.sub(r":func:`([^`]*)`", r"`\1`", text).replace("|", "\\|")


def write_gallery(outdir="figures") -> Path:
    """Write ``<outdir>/README.md``: a thumbnail, a one-line caption and the drawing function of every registered
    figure (captions are the first sentence of each function's docstring)."""
    out = Path(outdir)
    lines = ["# Figure gallery", "",
             "Every figure is drawn by a function of `alignsim.figures` and regenerated by `alignsim figures` "
             "(PNG and PDF; the same code gives the same picture). Click a thumbnail for the full size.", "",
             "| figure | what it shows | drawn by |", "|---|---|---|"]
    for name, make in FIGURES.items():
        lines.append(f'| <a href="{name}.png"><img src="{name}.png" width="260"></a> | {_caption(make)} | '
                     f"`alignsim.figures.{make.__name__}` ([PDF]({name}.pdf)) |")
    path = out / "README.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_figures(outdir="figures", only: str | None = None, dpi: int = 150,
                  progress: Callable[[int, int, str], None] | None = None,
                  formats=("png", "pdf")) -> list[Path]:
    """Write every registered figure (or those whose name contains ``only``) as ``<outdir>/<name>.<format>``;
    ``progress(i, total, name)`` is called before each (the InfAlign figures take up to a minute). Writing the
    whole set also writes the gallery page (:func:`write_gallery`). Metadata carrying dates are dropped, so the
    files are byte-identical from run to run."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    selected = [name for name in FIGURES if only is None or only in name]
    if not selected:
        raise ValueError(f"no figure matches only={only!r}; known figures: {list(FIGURES)}")
    metadata = {"png": {"Software": None}, "pdf": {"Creator": None, "Producer": None, "CreationDate": None}}
    paths = []
    for i, name in enumerate(selected):
        make = FIGURES[name]
        if progress is not None:
            progress(i, len(selected), name)
        fig = make()
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            fig.savefig(path, dpi=dpi, metadata=metadata.get(fmt))
            paths.append(path)
    if only is None:
        paths.append(write_gallery(out))
    return paths
