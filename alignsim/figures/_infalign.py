"""Figures of InfAlign in the continuous model, in calibrated units."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from scipy.stats import expon, norm

from .. import infalign as ia
from ..bon import bon_kl_bound, bon_win_rate_bound
from ._style import OKABE_ITO


def _ctrl_curve(transform, procedure, N, kl_max, intervals, points=40):
    """(KL, win rate) of the CTRL policies of one transform over a geometric sweep of KL in [0.005, kl_max]."""

    lo = ia.UniformCTRL(transform, kl=0.005, intervals=intervals).log_lambda
    hi = ia.UniformCTRL(transform, kl=kl_max, intervals=intervals).log_lambda
    pols = [ia.UniformCTRL(transform, log_lambda=ll, intervals=intervals) for ll in np.linspace(lo, hi, points)]
    return [0.0] + [p.kl for p in pols], [0.5] + [p.win_rate(procedure, N) for p in pols]


def _optimal_curve(procedure, N, kl_max, intervals, points=30):

    b_lo = ia.optimal_transform(procedure, N, kl=kl_max, intervals=intervals).beta
    b_hi = ia.optimal_transform(procedure, N, kl=0.005, intervals=intervals).beta
    df = ia.optimal_frontier(procedure, N, np.geomspace(b_hi, b_lo, points), intervals=intervals, progress=False)
    return [0.0] + df["kl"].tolist(), [0.5] + df["win_rate"].tolist()


#: Panels of :func:`infalign_frontier`: (procedure, N, largest KL of the optimal transform's curve; its fixed point
#: is not resolved by the default grid beyond it for best-of-32 and worst-of-8). Every panel shares one KL axis.
INFALIGN_PANELS = (("bon", 2, 2.0), ("bon", 4, 2.0), ("bon", 8, 2.0), ("bon", 32, 1.0),
                   ("won", 2, 2.0), ("won", 4, 2.0), ("won", 8, 1.0))


def infalign_frontier(panels=INFALIGN_PANELS, intervals: int = 2 ** 12, table_intervals: int = 2 ** 14) -> Figure:
    r"""Inference-time win rate vs KL for best-of-N and worst-of-N decoding: identity, log, the exponential
    transform tuned at KL 0.5, and the optimal transform, in the uniform calibrated model.

    .. math::

        W^{\mathcal T}_N(\pi) = W\big(\mathcal T_N(\pi)\succ\mathcal T_N(\pi_{\rm ref})\big),\qquad
        \pi_{\Phi,\beta}\propto\pi_{\rm ref}e^{\Phi(C)/\beta}.

    Markers are the rows of :func:`alignsim.infalign.frontier_table` at the panel's :math:`N` (the comparison of
    transforms of [1]): the exponential tuned at each KL (open) and the optimum
    (filled). The last panel is the standard win rate, where the identity transform is optimal and best-of-N of
    the reference (:math:`\log N-\frac{N-1}N`, :math:`\frac N{N+1}`) lies just below it.

    Cost: about 25 s on 2 cores (one optimal-transform sweep per panel).

    Parameters
    ----------
    panels : sequence of (str, int, float)
        (procedure, N, largest KL of the optimal curve) of each panel; all panels share the largest KL as axis.
    intervals : int
        Simpson intervals of the continuous model's grid (more is slower and more accurate).
    table_intervals : int
        Grid of the tabulated optimal rows (markers).

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Balashankar et al., "InfAlign", arXiv:2412.19792 (analytical comparison of transforms).

    Examples
    --------
    >>> from alignsim.figures import infalign_frontier
    >>> len(infalign_frontier(panels=(("bon", 2, 0.5),), intervals=2 ** 10, table_intervals=None).axes)
    2
    """

    n_axes = len(panels) + 1
    cols = min(4, n_axes)
    rows = math.ceil(n_axes / cols)
    fig = Figure(figsize=(3.3 * cols, 3.1 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    table_rows = [row for row in ia.FRONTIER_ROWS if any(row[:2] == pn[:2] for pn in panels)]
    table = ia.frontier_table(table_rows, intervals=table_intervals, progress=False) if table_intervals else None
    kl_axis = max(kl_max for _, _, kl_max in panels)  # every panel on the same KL axis
    for ax, (procedure, N, kl_max) in zip(axes, panels):
        tuned = ia.best_t(procedure, N, 0.5, intervals=intervals)[0]
        family = ia.exp_transform if procedure == "bon" else ia.negexp
        curves = [("identity", "identity", OKABE_ITO[0], "-"), ("log", r"log ($\lambda=N-1$: BoN of ref)",
                                                               OKABE_ITO[4], "-"),
                  (family(tuned), "exp (BoN) / negexp (WoN), t tuned at KL 0.5", OKABE_ITO[2], "-")]
        for tr, label, colour, ls in curves:
            ax.plot(*_ctrl_curve(tr, procedure, N, kl_axis, intervals), color=colour, ls=ls, lw=1.6, label=label)
        ax.plot(*_optimal_curve(procedure, N, kl_max, intervals), color="0.1", lw=1.2, ls="--",
                label="optimal transform")
        if table is not None:
            sel = table[(table["procedure"] == procedure) & (table["N"] == N)]
            ax.plot(sel["kl"], sel["tuned"], "o", mfc="white", mec=OKABE_ITO[2], ms=5,
                    label=r"exp tuned at each KL ($t^\star$)")
            ax.plot(sel["kl"], sel["optimum"], "o", color="0.1", ms=3, label="optimal transform at the tabulated KLs")
        ax.set_xlim(0, kl_axis)
        ax.set_ylim(0.5, 1.0)
        ax.set_xlabel("KL(policy || reference) (nats)")
        ax.set_ylabel(f"{'best' if procedure == 'bon' else 'worst'}-of-{N} win rate")
        ax.set_title(f"{'Best' if procedure == 'bon' else 'Worst'}-of-{N} on both sides "
                     f"({'exp' if procedure == 'bon' else 'negexp'} t = {tuned:.3g})", fontsize=9)
    ax = axes[len(panels)]
    kls, wins = _ctrl_curve("identity", "std", 1, kl_axis, intervals)
    ax.plot(kls, wins, color=OKABE_ITO[0], lw=1.6, label="identity (optimal)")
    ax.plot(*_ctrl_curve(ia.exp_transform(10.0), "std", 1, kl_axis, intervals), color=OKABE_ITO[2], lw=1.6,
            label="exp(t = 10)")
    ns = np.array([2, 4, 8, 16])
    ax.plot(bon_kl_bound(ns), bon_win_rate_bound(ns), "s", color=OKABE_ITO[4], ms=4, label="best-of-N of reference")
    ax.set_xlim(0, kl_axis)
    ax.set_ylim(0.5, 1.0)
    ax.set_xlabel("KL(policy || reference) (nats)")
    ax.set_ylabel("standard win rate")
    ax.set_title("Plain sampling: calibration alone is optimal", fontsize=9)
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    for extra in axes[n_axes:]:
        extra.set_axis_off()
    handles, labels = axes[0].get_legend_handles_labels()  # one legend for the panels, below them, not on a curve
    fig.legend(handles, labels, loc="outside lower center", ncols=3, frameon=False, fontsize=8)
    fig.suptitle("InfAlign: inference-time win rate vs KL in the uniform calibrated model", fontsize=11)
    return fig


def infalign_best_t(ns=(2, 4, 8, 16, 32), kls=(0.02, 0.05, 0.1, 0.25, 0.5, 1.0), intervals: int = 2 ** 12) -> Figure:
    r"""Best exponent :math:`t^\star(N, \mathrm{KL})` of the exponential transforms: :math:`e^{t(u-1)}` for
    best-of-N (solid), :math:`-e^{-tu}` for worst-of-N (dashed), with the small-KL limit :math:`t_0(N)\approx2N`
    (:func:`alignsim.infalign.small_kl_t`, diamonds at the left edge).

    .. math::

        t^\star = \arg\max_t W^{\mathcal T}_N(\pi_{\Phi_t,\beta(t)})\quad\text{at fixed KL}.

    Parameters
    ----------
    ns : sequence of int
        Values of N.
    kls : sequence of float
        KL budgets in nats.
    intervals : int
        Simpson intervals of the continuous model's grid (more is slower and more accurate).

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 ("exponential transforms target different quantiles for different
       t")"How t is chosen".

    Examples
    --------
    >>> from alignsim.figures import infalign_best_t
    >>> len(infalign_best_t(ns=(2,), kls=(0.1, 0.5), intervals=2 ** 10).axes)
    1
    """

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

        p^\star(u) = \frac{e^{\Phi^\star(u)/\beta}}{Z},\qquad \Phi^\star = \mathcal R_{p^\star}\ \text{(result (B) of alignsim.infalign)}.

    Dashed: the exponential transform tuned at the same KL.

    Parameters
    ----------
    N : int
        Number of samples of best-/worst-of-N.
    kls : sequence of float
        KL budgets in nats.
    intervals : int
        Simpson intervals of the continuous model's grid (more is slower and more accurate).

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792.

    Examples
    --------
    >>> from alignsim.figures import infalign_optimal_policies
    >>> len(infalign_optimal_policies(kls=(0.5,), intervals=2 ** 10).axes)
    2
    """

    fig = Figure(figsize=(9.6, 4.0), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, procedure in zip(axes, ("bon", "won")):
        family = ia.exp_transform if procedure == "bon" else ia.negexp
        for j, k in enumerate(kls):
            opt = ia.optimal_transform(procedure, N, kl=k, intervals=intervals)
            ax.plot(opt.u, opt.policy, color=OKABE_ITO[j % 8], lw=1.6,
                    label=f"KL {k:g}: optimum, W = {opt.win_rate:.4f}")
            t, w = ia.best_t(procedure, N, k, intervals=intervals)
            pol = ia.UniformCTRL(family(t), kl=k, intervals=intervals)
            ax.plot(pol.u, pol.density, color=OKABE_ITO[j % 8], lw=1.0, ls="--",
                    label=f"KL {k:g}: {'exp' if procedure == 'bon' else 'negexp'}(t = {t:.3g}), W = {w:.4f}")
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
    (result (D) of :mod:`alignsim.infalign`): its trade-off depends on the reward law (Gaussian: standard win rate
    :math:`\Phi_{\mathcal N}(\sqrt{\mathrm{KL}})`, and :math:`W^{\rm bon}_N=W^{\rm won}_N`), while the calibrated
    identity is the same for every atomless reward and optimal for the standard win rate. Right: best-of-N win rate
    at KL 0.5 of the exponential transform when :math:`C` is estimated from :math:`m` fresh reference samples (the
    smoothed transform :math:`\mathbb E\,\Phi(\hat C_m)`, :func:`alignsim.infalign.smoothed`).

    .. math::

        \Phi_m(C) = \mathbb E\big[\Phi(B/m)\big],\quad B\sim\mathrm{Binomial}(m, C).

    Parameters
    ----------
    N : int
        Number of samples of best-of-N.
    ms : sequence of int
        Reference samples per calibration estimate.
    t : float
        Exponent of the exponential transform.
    intervals : int
        Simpson intervals of the continuous model's grid (more is slower and more accurate).

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (reward calibration).

    Examples
    --------
    >>> from alignsim.figures import infalign_calibration
    >>> len(infalign_calibration(ms=(1, 4), intervals=2 ** 10).axes)
    3
    """


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
    base = ia.UniformCTRL(ia.exp_transform(t), kl=0.5, intervals=intervals).win_rate("bon", N)
    wins = [ia.UniformCTRL(ia.smoothed(ia.exp_transform(t), m), kl=0.5, intervals=intervals).win_rate("bon", N) for m in ms]
    ax3.semilogx(ms, wins, "o-", color=OKABE_ITO[0], ms=4, base=2, label=r"$\Phi_m$ (m reference samples)")
    ax3.axhline(base, color="0.2", lw=0.8, ls="--", label=r"exact calibration ($m=\infty$)")
    ident = ia.UniformCTRL("identity", kl=0.5, intervals=intervals).win_rate("bon", N)
    ax3.axhline(ident, color=OKABE_ITO[1], lw=0.8, ls=":", label="identity transform")
    ax3.set_xlabel("calibration samples m")
    ax3.set_ylabel(f"best-of-{N} win rate at KL 0.5")
    ax3.set_title(f"Estimated calibration smooths exp(t = {t:g})", fontsize=10)
    ax3.legend(frameon=False, fontsize=7, loc="center right")
    return fig
