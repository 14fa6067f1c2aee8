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


def rlvr_length_bias(G: int = 8) -> Figure:
    r"""The length bias of loss aggregation: how one expected group update changes the length of the answers,
    overall and among the wrong answers, for each advantage estimator and each of verl's aggregations.

    Three answers with equal probability: right and short (10 tokens), wrong and short (10), wrong and long (40)
    (:func:`alignsim.rlvr.length_drift`). Overall every combination shortens answers (probability moves to the right
    one). Among the wrong answers ``seq-mean-token-mean`` (GRPO's original per-response length normalisation)
    penalises the long one least, so wrong answers grow; ``token-mean`` does so weakly through the group's total
    length; the token sums (Dr. GRPO's ``seq-mean-token-sum-norm``) do not. (The scales differ with the
    normaliser: ``seq-mean-token-sum`` weighs each response 1/G, the token means about 1/(G x mean length).)

    Parameters
    ----------
    G : int
        Group size.

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] Z. Liu et al., arXiv:2503.20783 (Dr. GRPO); verl ``agg_loss`` (core_algos.py @ 26b5d6b2).

    Examples
    --------
    >>> from alignsim.figures import rlvr_length_bias
    >>> len(rlvr_length_bias(G=4).axes)
    2
    """
    from ..rlvr import AGGREGATIONS, GROUP_ESTIMATORS, length_drift

    args = ([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [10, 10, 40], G)
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    axes = fig.subplots(1, 2)
    x = np.arange(len(AGGREGATIONS))
    for ax, among, title in zip(axes, ("all", "incorrect"), ("all answers", "among the wrong answers")):
        for j, (est, colour) in enumerate(zip(GROUP_ESTIMATORS, OKABE_ITO)):
            values = [length_drift(*args, est, agg, among=among) for agg in AGGREGATIONS]
            ax.bar(x + (j - 1) * 0.27, values, width=0.27, color=colour, label=est)
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.set_xticks(x, AGGREGATIONS, rotation=15, fontsize=8)
        ax.set_xlabel("loss_agg_mode")
        ax.set_ylabel("d E[length] / d step (tokens)")
        ax.set_title(f"Length drift, {title} (G = {G})")
        ax.legend(fontsize=8, frameon=False)
    return fig


def rlvr_sequence_length_bias(G: int = 8, length: int = 60) -> Figure:
    r"""The length bias of loss aggregation on sequences with an end token: how one expected GRPO group update
    changes the mean length of the wrong and of the right answers, against how long answers are.

    A Markov LM whose first token decides correctness (right with probability 0.3) and whose answer then continues
    with probability ``stay`` per token until its end token (separate branches for right and wrong answers, so
    lengths do not decide correctness); :func:`alignsim.rlvr.sequence_length_drift`, exact. ``seq-mean-token-mean``
    (GRPO's original per-response mean) lengthens wrong answers and shortens right ones, more the longer the
    answers; ``token-mean`` does so weakly (through the group's total length); the token sums
    (``seq-mean-token-sum``, Dr. GRPO's ``seq-mean-token-sum-norm``) leave both lengths unchanged.

    Parameters
    ----------
    G : int
        Group size.
    length : int
        Largest answer length (the end token usually comes first).

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] Z. Liu et al., arXiv:2503.20783 (Dr. GRPO); verl ``agg_loss`` (core_algos.py @ 26b5d6b2).

    Examples
    --------
    >>> from alignsim.figures import rlvr_sequence_length_bias
    >>> len(rlvr_sequence_length_bias(G=4, length=20).axes)
    2
    """
    from ..markov import MarkovLM
    from ..rlvr import AGGREGATIONS, sequence_length_drift

    stays = np.linspace(0.3, 0.95, 14)
    mean_lengths, drift = [], {(a, w): [] for a in AGGREGATIONS for w in ("incorrect", "correct")}
    for stay in stays:
        T = np.zeros((5, 5))
        T[0, 0] = 1.0  # token 0 ends; 1/2 start a right/wrong answer; 3/4 continue it
        for a, b in ((1, 3), (3, 3), (2, 4), (4, 4)):
            T[a, [0, b]] = [1.0 - stay, stay]
        lm = MarkovLM([0.0, 0.3, 0.7, 0.0, 0.0], T, [0.0, 1.0, 0.0, 0.0, 0.0], length, eos=0)
        lengths, probs = lm.length_law()
        mean_lengths.append(float(np.dot(lengths, probs)))
        for (agg, among), values in drift.items():
            values.append(sequence_length_drift(lm, [1.0], G, "grpo", agg, among=among) + 0.0)
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    axes = fig.subplots(1, 2)
    styles = dict(zip(AGGREGATIONS, ("-", "--", "-", ":")))
    for ax, among, title in zip(axes, ("incorrect", "correct"), ("wrong", "right")):
        for agg, colour in zip(AGGREGATIONS, OKABE_ITO):
            ax.plot(mean_lengths, drift[agg, among], styles[agg], color=colour, lw=1.8, label=agg)
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.set_xlabel("mean answer length (tokens)")
        ax.set_ylabel(f"d E[length | {title}] / d step (tokens)")
        ax.set_title(f"Length drift of the {title} answers (GRPO, G = {G})")
        ax.legend(fontsize=8, frameon=False, title="loss_agg_mode", title_fontsize=8)
    return fig


def rlvr_pass_at_k_collapse(steps: int = 300) -> Figure:
    r"""RLVR raises pass@1 and lowers pass@k at large k below the reference, when prompts share one policy; a KL
    penalty to the reference slows the collapse, training on pass@k advantages avoids it.

    Four answers, six prompts: answer 0 solves three prompts, answers 1, 2, 3 one each
    (:func:`alignsim.rlvr.prompt_set_trajectory`, GRPO, G = 8, exact expected dynamics). The policy concentrates on
    answer 0: mean pass@1 goes from 0.25 towards 0.5 while pass@16 falls from 0.99 to about 0.5.

    Parameters
    ----------
    steps : int
        Training steps.

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] Y. Yue et al., arXiv:2504.13837 (pass@k of RLVR models at large k).

    Examples
    --------
    >>> from alignsim.figures import rlvr_pass_at_k_collapse
    >>> len(rlvr_pass_at_k_collapse(steps=20).axes)
    2
    """
    from ..rlvr import prompt_set_trajectory

    sets = [[0], [0], [0], [1], [2], [3]]
    ks = (1, 2, 4, 8, 16, 32, 64)
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    df = prompt_set_trajectory([0.0] * 4, sets, steps=steps, ks=ks, every=max(steps // 6, 1))
    for (_, row), shade in zip(df.iterrows(), np.linspace(0.85, 0.0, len(df))):
        ax.plot(ks, [row[f"pass@{k}"] for k in ks], "o-", color=str(shade), ms=3, label=f"step {int(row['step'])}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k")
    ax.set_ylabel("mean pass@k over the prompts")
    ax.set_title("pass@k during RLVR (no KL)")
    ax.legend(fontsize=7, frameon=False)
    for (beta, est, label), colour in zip(((0.0, "grpo", "GRPO"), (0.2, "grpo", "GRPO + KL 0.2"),
                                          (0.0, "pass_at_k", "pass@4 training")), OKABE_ITO):
        run = prompt_set_trajectory([0.0] * 4, sets, steps=steps, ks=(1, 16), kl_coef=beta, estimator=est, k=4)
        bx.plot(run["step"], run["pass@1"], "-", color=colour, lw=2, label=f"pass@1, {label}")
        bx.plot(run["step"], run["pass@16"], "--", color=colour, lw=2, label=f"pass@16, {label}")
    bx.set_xlabel("training step")
    bx.set_ylabel("mean pass@k")
    bx.set_title("A KL penalty slows it; pass@k training avoids it")
    bx.legend(fontsize=7, frameon=False, ncol=2, loc="upper right", bbox_to_anchor=(1.0, 0.94))
    return fig
