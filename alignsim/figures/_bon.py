"""Figures of best-of-N win rates."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..bon import bon_kl_bound, bon_win_rate_bound, rewind_repeat_atomless, winrate_tilt, winrate_tilt_for_kl
from ._style import OKABE_ITO


def winrate_vs_kl(max_n: int = 1000) -> Figure:
    r"""Win rate against the reference vs KL in the atomless case: best-of-N points
    :math:`(\log N-\frac{N-1}N, \frac N{N+1})`, the win-rate-optimal tilt :math:`\pi_c\propto p\,e^{cF(r)}`, and
    rewind-and-repeat :math:`W = 1-e^{-\mathrm{KL}}/2`; inset-free second panel: the gap
    :math:`W_{\text{opt}} - W_{\text{BoN}}` vs :math:`N`.

    Parameters
    ----------
    max_n : int
        Largest N of the best-of-N points.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Gui, Gârbacea, Veitch, "BoNBoN alignment", arXiv:2406.00832, Fig. 2; Beirami et al., arXiv:2401.01879.

    Examples
    --------
    >>> from alignsim.figures import winrate_vs_kl
    >>> len(winrate_vs_kl(max_n=64).axes)
    2
    """

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
