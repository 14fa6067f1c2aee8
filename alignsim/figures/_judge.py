"""Figures of the LLM-as-a-judge model."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..judge import JudgeModel
from ._style import OKABE_ITO

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

    Cost: about 6 s on 2 cores.

    Parameters
    ----------
    ns : sequence of int
        Training-set sizes.
    betas : sequence of float
        Judge scales of the overshooting judges.
    k_max : int
        Largest k.
    points : int
        Points per curve.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905 (the authors' ``BLR_zero_T.py`` figure).

    Examples
    --------
    >>> from alignsim.figures import judge_error_vs_k
    >>> len(judge_error_vs_k(ns=(200,), betas=(0.6,), k_max=20, points=6).axes)
    2
    """

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

    Cost: about 25 s on 2 cores (a 2-D quadrature per point and temperature).

    Parameters
    ----------
    ks : sequence of int
        Numbers of samples.
    beta : float
        Judge scale of the overshooting judge.
    points : int
        Temperatures per curve.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905 (claim iv).

    Examples
    --------
    >>> from alignsim.figures import judge_error_vs_temperature
    >>> len(judge_error_vs_temperature(ks=(4,), points=4).axes)
    1
    """

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

    Parameters
    ----------
    d : int
        Dimension of the model.
    n_steps : int
        Grid points in n.
    k_steps : int
        Grid points in k.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905 (claim vi).

    Examples
    --------
    >>> from alignsim.figures import judge_compute_vs_data
    >>> len(judge_compute_vs_data(n_steps=4, k_steps=4).axes)
    2
    """

    base = JudgeModel(**{**_JUDGE_TEACHER, "d": d})
    ns = d * 0.5 * 2.0 ** (np.arange(n_steps + 2) / 2.0)
    ks = 2.0 ** (np.arange(k_steps + 2) / 2.0)
    err = np.array([[base.with_n(n).error(k) for k in ks] for n in ns])
    log_e = np.log10(err)
    gain_k = log_e[:-2, :-2] - log_e[:-2, 2:]  # doubling k
    gain_n = log_e[:-2, :-2] - log_e[2:, :-2]  # doubling n
    fig = Figure(figsize=(7.2, 5.4), layout="constrained")
    ax = fig.add_subplot()
    K, N = np.meshgrid(ks[:-2], ns[:-2])
    levels_ticks = np.arange(np.floor(log_e.min()), np.ceil(log_e.max()) + 0.5, 1.0)
    shade = ax.contourf(K, N, log_e[:-2, :-2], levels=40, cmap="viridis")  # smooth, not one block per grid point
    fig.colorbar(shade, ax=ax, label=r"$\log_{10}\bar E(n,k)$ (thin lines: labelled contours)", ticks=levels_ticks)
    levels = np.arange(np.floor(log_e.min()), np.ceil(log_e.max()) + 0.5, 1.0)
    lines = ax.contour(K, N, log_e[:-2, :-2], levels=levels, colors="0.9", linewidths=0.6, linestyles="solid")
    ax.clabel(lines, fmt=lambda v: rf"$10^{{{v:.0f}}}$", fontsize=7, inline_spacing=2)
    ax.contour(K, N, log_e[:-2, :-2], levels=[math.log10(base.sigma2)], colors="black", linewidths=1.6,
               linestyles="dashed")
    ax.contourf(K, N, gain_k - gain_n, levels=[-np.inf, 0.0], colors="none", hatches=["///"])
    ax.contour(K, N, gain_k - gain_n, levels=[0.0], colors=OKABE_ITO[1], linewidths=2.0, linestyles="solid")
    ax.plot([], [], color="black", lw=1.6, ls="--", label=r"$\bar E=\sigma^2$: data alone never gets below")
    ax.plot([], [], color=OKABE_ITO[1], lw=2.0, label=r"$\bar E(n,2k)=\bar E(2n,k)$; hatched: doubling n helps more")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples at inference k")
    ax.set_ylabel("training-set size n")
    ax.set_title(f"Best-of-k with the teacher as judge (d = {d})", fontsize=10)
    fig.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=8)  # below the axes, not over data
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

    Parameters
    ----------
    ratios : sequence of float, optional
        Task difficulties V_mu / s^2 (default a grid).
    ks : sequence of float
        Values of k at which the local slope is taken.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905 (claims v, vii).

    Examples
    --------
    >>> from alignsim.figures import judge_decay_exponent
    >>> len(judge_decay_exponent(ratios=(0.2, 0.8), ks=(1e2,)).axes)
    1
    """

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
