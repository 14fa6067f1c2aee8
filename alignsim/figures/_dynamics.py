"""Figures of exact training dynamics on a softmax bandit."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..dynamics import entropy_change, forward_kl_fixed_point, grpo_expected_update, npg_iterate, pg_gradient
from ..estimators import expected_kl_gradient
from ..tilting import tilt
from ._style import OKABE_ITO


def dynamics_trajectories(r=(1.0, 0.5, 0.0), ref=(0.2, 0.3, 0.5), beta: float = 0.25, steps: int = 3000) -> Figure:
    r"""Exact expected trajectories on the 3-arm simplex (barycentric coordinates) from the reference: policy gradient
    and natural gradient with the correct KL gradient converge to the tilt; policy gradient with :math:`k_3` as a loss
    (GRPO's placement without importance weights) converges to the forward-KL optimum instead; GRPO's advantage
    normalisation with the correct KL term stops elsewhere. Right: entropy along policy gradient
    with the first-order prediction :math:`-\eta\,\mathrm{Cov}_\pi(\log\pi, \delta)` per step overlaid.

    Parameters
    ----------
    r : array_like, shape (3,)
        Rewards of the three arms.
    ref : array_like, shape (3,)
        Reference law (the starting point).
    beta : float
        KL coefficient.
    steps : int
        Iterations of each method.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] S. Kakade, "A natural policy gradient", NeurIPS 2001; Z. Shao et al., arXiv:2402.03300 (GRPO);
       G. Cui et al., arXiv:2505.22617 (entropy mechanism).

    Examples
    --------
    >>> from alignsim.figures import dynamics_trajectories
    >>> len(dynamics_trajectories(steps=50).axes)
    2
    """

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
