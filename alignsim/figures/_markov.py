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


def _sticky_chain(stay: float):
    """Two tokens (rewards 0 and 1) that repeat with probability ``stay``: stationary marginal (1/2, 1/2)."""
    return np.array([[stay, 1.0 - stay], [1.0 - stay, stay]])


def markov_rate_functions(stays=(0.9, 0.5, 0.2), lengths=(25, 100, 400)) -> Figure:
    r"""Memory changes the large deviations: rate functions of the per-token reward of two-token chains with the
    same marginal, and the exact finite-length tails converging to them.

    Tokens with rewards 0 and 1 repeat with probability ``stay`` (marginal 1/2 each; ``stay = 0.5`` is the
    memoryless LM). The rate :math:`I(x)` (:func:`alignsim.asymptotics.markov_rate_function`, the Legendre
    transform of :math:`\Lambda(t)=\log\rho(T\,\mathrm{diag}(e^{tr}))`) is flatter for a sticky chain (long runs
    make extreme averages cheap; at :math:`x = 1` it is :math:`-\log` stay) and steeper for an alternating one.
    Right: :math:`-\frac1n\log P(R_n = nx)` from the exact reward law of :class:`alignsim.MarkovLM` approaches
    :math:`I(x)` as :math:`n` grows (the gap is the :math:`O(\log n/n)` prefactor).

    Parameters
    ----------
    stays : sequence of float
        Repeat probabilities in (0, 1), one curve each.
    lengths : sequence of int
        Sequence lengths of the exact tails (right panel, the stickiest chain).

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] A. Dembo and O. Zeitouni, *Large Deviations Techniques and Applications*, 2nd ed., Springer, 1998,
       sec. 3.1 (LDP for Markov additive functionals).

    Examples
    --------
    >>> from alignsim.figures import markov_rate_functions
    >>> len(markov_rate_functions(lengths=(25,)).axes)
    2
    """
    from ..asymptotics import markov_rate_function

    x = np.linspace(0.0, 1.0, 201)
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    for stay, colour in zip(stays, OKABE_ITO):
        label = "memoryless" if stay == 0.5 else ("sticky" if stay > 0.5 else "alternating")
        ax.plot(x, markov_rate_function(_sticky_chain(stay), [0.0, 1.0], x), color=colour, lw=2,
                label=f"stay = {stay:g} ({label})")
    ax.set_xlabel(r"per-token reward $x$")
    ax.set_ylabel(r"rate $I(x)$ (nats per token)")
    ax.set_title("Same marginal, different memory")
    ax.legend(fontsize=8, frameon=False)
    stay = stays[0]
    t = _sticky_chain(stay)
    bx.plot(x, markov_rate_function(t, [0.0, 1.0], x), color=OKABE_ITO[0], lw=2, label=r"$I(x)$")
    for n, shade in zip(lengths, np.linspace(0.75, 0.2, len(lengths))):
        levels, log_p = MarkovLM([0.5, 0.5], t, [0.0, 1.0], n).reward_law(log=True)
        bx.plot(levels / n, -log_p / n, "o", color=str(shade), ms=2.5, label=f"$-\\log P(R_n = nx)/n$, n = {n}")
    bx.set_xlabel(r"per-token reward $x$")
    bx.set_ylabel("nats per token")
    bx.set_title(f"Exact tails of the sticky chain (stay = {stay:g})")
    bx.legend(fontsize=8, frameon=False)
    return fig


def markov_bon_vs_rl(delta: float = 0.05, lengths=(10, 20, 50, 100, 200, 500, 1000), stay: float = 0.9) -> Figure:
    r"""Best-of-:math:`e^{n\Delta}` against KL-RL at budget :math:`n\Delta` on a sticky chain: both per-token rewards
    approach the level :math:`x_\Delta` with :math:`I(x_\Delta)=\Delta` of the Markov rate function, and
    :math:`\mathrm{KL}(\text{BoN}\,\|\,\text{RL})/n` vanishes.

    The memoryless statement is Yang et al.'s; on a chain it is checked here numerically, exactly to
    :math:`n = 1000` (:func:`alignsim.asymptotics.markov_bon_vs_rl`). The memoryless LM with the same marginal
    (dashed) reaches a lower level at the same budget: its rate function is steeper.

    Parameters
    ----------
    delta : float
        Per-token KL budget (nats).
    lengths : sequence of int
    stay : float
        Repeat probability of the two-token chain (rewards 0 and 1).

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] J. Q. Yang, S. Salamatian, Z. Sun, A. T. Suresh, A. Beirami, "Asymptotics of language model alignment",
       ISIT 2024, arXiv:2404.01730.

    Examples
    --------
    >>> from alignsim.figures import markov_bon_vs_rl
    >>> len(markov_bon_vs_rl(lengths=(10, 20)).axes)
    2
    """
    from ..asymptotics import markov_bon_vs_rl as table

    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    for s, style, name in ((stay, "-", f"chain, stay = {stay:g}"), (0.5, "--", "memoryless, same marginal")):
        df = table([0.5, 0.5], _sticky_chain(s), [0.0, 1.0], delta, list(lengths))
        ax.plot(df["n"], df["bon_reward"], "o" + style, color=OKABE_ITO[0], ms=4, label=f"best-of-N ({name})")
        ax.plot(df["n"], df["rl_reward"], "s" + style, color=OKABE_ITO[1], ms=4, label=f"KL-RL ({name})")
        ax.axhline(df["limit"][0], color="0.4", lw=1, ls=style)
        bx.plot(df["n"], df["kl_bon_rl"], "o" + style, color=OKABE_ITO[2], ms=4, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("sequence length $n$")
    ax.set_ylabel("expected reward per token")
    ax.set_title(rf"$N = e^{{n\Delta}}$ vs KL budget $n\Delta$, $\Delta$ = {delta:g} (grey: $x_\Delta$)")
    ax.legend(fontsize=7, frameon=False)
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_xlabel("sequence length $n$")
    bx.set_ylabel(r"KL(BoN $\|$ RL) / $n$ (nats per token)")
    bx.set_title("The two policies merge per token")
    bx.legend(fontsize=8, frameon=False)
    return fig
