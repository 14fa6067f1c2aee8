"""Figures of language models with memory and an end token."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..markov import MarkovLM
from ._style import OKABE_ITO


def markov_token_vs_sequence(length: int = 12) -> Figure:
    r"""With an end token, the greedy per-token tilt is not the KL-regularised optimum: reward against KL of both,
    and the length laws they induce at matched KL.

    A chain over {good (reward 1), neutral (0), end (0.5)}: the sequence-level optimum
    :math:`\phi\propto\pi e^{R/\beta}` (:meth:`alignsim.MarkovLM.tilt`) also weighs what stopping forfeits; the greedy
    tilt (:meth:`alignsim.MarkovLM.token_level_tilt`) tilts each next-token law by :math:`e^{r/\beta}` alone, takes
    the end token's immediate 0.5 over a future of good tokens, and earns less at every KL. For a memoryless model
    of fixed length (dashed, grey) the two coincide.

    Parameters
    ----------
    length : int
        Largest number of tokens.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] T. Korbak, E. Perez, C. L. Buckley, "RL with KL penalties is better viewed as Bayesian inference",
       Findings of EMNLP 2022 (the sequence-level optimum).

    Examples
    --------
    >>> from alignsim.figures import markov_token_vs_sequence
    >>> len(markov_token_vs_sequence().axes)
    2
    """
    lm = MarkovLM([0.3, 0.5, 0.2], [[0.4, 0.4, 0.2], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4]], [1.0, 0.0, 0.5], length, eos=2)
    flat = MarkovLM.from_memoryless([0.3, 0.5, 0.2], [1.0, 0.0, 0.5], length)
    betas = np.geomspace(30.0, 0.08, 50)
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    for model, style, label in ((lm, "-", "with an end token"), (flat, "--", "memoryless, fixed length")):
        for tilt, colour, name in ((model.tilt, OKABE_ITO[0], "sequence optimum"),
                                   (model.token_level_tilt, OKABE_ITO[1], "greedy per-token tilt")):
            pts = [(t.kl(model), t.mean_reward()) for t in (tilt(b) for b in betas)]
            if model is lm:
                ax.plot(*zip(*pts), style, color=colour, lw=2, label=f"{name} ({label})")
            else:  # the two tilts of a memoryless fixed-length model are the same policy
                ax.plot(*zip(*pts), style, color="0.55", lw=1.2,
                        label=f"both, identical ({label})" if tilt == model.tilt else None)
    ax.set_xlabel(r"sequence KL$(\phi\,\|\,\pi)$ (nats)")
    ax.set_ylabel(r"expected sequence reward $\mathbb{E}_\phi R$")
    ax.set_xscale("log")
    ax.legend(fontsize=8, frameon=False)
    ax.set_title("Reward at matched KL")
    delta = 0.5
    for model, colour, name in ((lm, "0.3", r"reference $\pi$"), (lm.tilt(lm.beta_for_kl(delta)), OKABE_ITO[0],
                                                                    "sequence optimum"),
                                (lm.token_level_tilt(lm.beta_for_kl(delta, level="token")), OKABE_ITO[1],
                                 "greedy per-token tilt")):
        lengths, probs = model.length_law()
        bx.plot(lengths, probs, "o-", color=colour, ms=4, label=f"{name}, E[length] = {lengths @ probs:.2f}")
    bx.set_xlabel("number of tokens (the end token included)")
    bx.set_ylabel("probability")
    bx.set_title(f"Length laws at KL = {delta} nats")
    bx.legend(fontsize=8, frameon=False)
    return fig
