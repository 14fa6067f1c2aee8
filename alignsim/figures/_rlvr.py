"""Figures of RL with verifiable rewards: where group updates put their weight and their signal."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..rlvr import difficulty_weight, zero_advantage_fraction
from ._style import OKABE_ITO


def rlvr_difficulty_and_signal() -> Figure:
    r"""Which prompts a group update weighs, and how often a group carries no signal: the per-prompt weight
    :math:`w(p)` of GRPO, Dr. GRPO and RLOO, and the zero-advantage fraction against the group size with a noisy
    verifier.

    Left: :math:`\mathbb E\hat g=w(p)\nabla p` (:func:`alignsim.rlvr.difficulty_weight`): RLOO is unbiased
    (:math:`w=1`), Dr. GRPO scales by :math:`(G-1)/G`, GRPO's std normalisation weighs the easiest and hardest prompts
    most (:math:`\to1/\sqrt{p(1-p)}`); a verifier with false-positive rate 0.1 and false-negative rate 0.2 scales the
    signal by 0.7 and flattens it. Right: :math:`q^G+(1-q)^G` (:func:`alignsim.rlvr.zero_advantage_fraction`).

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] Z. Liu et al., arXiv:2503.20783 (Dr. GRPO); Q. Yu et al., arXiv:2503.14476 (DAPO's dynamic sampling).

    Examples
    --------
    >>> from alignsim.figures import rlvr_difficulty_and_signal
    >>> len(rlvr_difficulty_and_signal().axes)
    2
    """
    p = np.linspace(0.01, 0.99, 99)
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    for (est, g, kw), colour, style in zip([("grpo", 8, {}), ("grpo", 64, {}), ("dr_grpo", 8, {}), ("rloo", 8, {}),
                                            ("grpo", 8, {"fp": 0.1, "fn": 0.2})], OKABE_ITO, ("-", "-", "--", ":", "-.")):
        label = f"{est}, G = {g}" + (", noisy verifier" if kw else "")
        ax.plot(p, difficulty_weight(p, g, est, **kw), style, color=colour, lw=2, label=label)
    ax.plot(p, 1 / np.sqrt(p * (1 - p)), color="0.6", lw=1, label=r"$1/\sqrt{p(1-p)}$")
    ax.set_yscale("log")
    ax.set_xlabel("success rate p of the prompt")
    ax.set_ylabel(r"weight $w(p)$ of $\nabla p$")
    ax.set_title("Difficulty bias")
    ax.legend(fontsize=8, frameon=False)
    groups = np.arange(2, 65)
    # p and 1 - p coincide without noise (the symmetry the verifier's unequal error rates break): widths tell apart
    for q, colour, width in zip((0.05, 0.5, 0.95), OKABE_ITO, (4.5, 2.5, 1.8)):
        bx.plot(groups, [zero_advantage_fraction(q, g) for g in groups], "-", color=colour, lw=width, label=f"p = {q}")
        bx.plot(groups, [zero_advantage_fraction(q, g, fp=0.1, fn=0.2) for g in groups], "--", color=colour, lw=1.5,
                label=f"p = {q}, fp 0.1, fn 0.2")
    bx.set_yscale("log")
    bx.set_xlabel("group size G")
    bx.set_ylabel("P(all rewards equal)")
    bx.set_title("Groups without signal")
    bx.legend(fontsize=7, frameon=False, ncol=2)
    return fig
