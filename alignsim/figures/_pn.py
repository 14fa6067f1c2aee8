"""Figures of the p-n criterion."""

from __future__ import annotations

import itertools
import math

import numpy as np
from matplotlib.figure import Figure

from .. import pn
from ._style import OKABE_ITO


def pn_convergence(ns=(10, 20, 40, 80, 160, 320)) -> Figure:
    r"""The second-order coefficient as a limit: :math:`n^2(R_n-c_1/n)\to c_2` for the exact risk of the MLE
    (conditional on existence) in three finite exponential families, with the Richardson extrapolation
    :math:`2r(2n)-r(n)` that removes the :math:`c_3/n` term.

    .. math::

        R_n = \frac{c_1}{n}+\frac{c_2}{n^2}+O(n^{-3}).

    Parameters
    ----------
    ns : sequence of int
        Sample sizes of the exact risks.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, section 2.

    Examples
    --------
    >>> from alignsim.figures import pn_convergence
    >>> len(pn_convergence(ns=(10, 20)).axes)
    1
    """

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

    Parameters
    ----------
    eps : sequence of float
        Tolerances on the Bayes error.
    p_max : int
        Largest model dimension.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, section 3.

    Examples
    --------
    >>> from alignsim.figures import pn_acceptance
    >>> len(pn_acceptance(eps=(0.05,)).axes)
    1
    """

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

    x = np.array(list(itertools.product([-1.0, 1.0], repeat=d)))
    cols = [np.prod(x[:, list(s)], axis=1) for k in range(1, order + 1) for s in itertools.combinations(range(d), k)]
    return np.column_stack(cols)


def pn_synthetic(seed: int = 1599, sizes=(1599, 4177, 4898)) -> Figure:
    r"""Synthetic stand-in for the paper's practical demonstrations: log-linear models of
    increasing order on six binary variables fitted to a truth with 2-, 3- and 4-way interactions. Left: the
    estimation risk :math:`c_1/n+c_2/n^2` against the thresholds :math:`8\varepsilon^2`; right: the approximation
    error :math:`D[g|f_{\theta_*}]` falls with :math:`p` while the estimation risk grows (their sum is the total
    risk that AIC/TIC rank by; the p-n criterion bounds only the estimation part).

    .. math::

        E\,D[g|f_{\hat\theta}] = D[g|f_{\theta_*}] + R_n\quad\text{(Pythagoras)}.

    Parameters
    ----------
    seed : int
        Seed of the synthetic data.
    sizes : sequence of int
        Sample sizes of the three data sets.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, sections 3-4.

    Examples
    --------
    >>> from alignsim.figures import pn_synthetic
    >>> len(pn_synthetic(sizes=(1599,)).axes)
    2
    """

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
