"""Figures of distillation losses: TRL's GKD JSD across beta, and the bias of top-k losses."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..distill import divergence
from ..divergences import kl
from ._style import OKABE_ITO


def distill_gkd_beta(student=(0.6, 0.25, 0.1, 0.05), teacher=(0.1, 0.2, 0.3, 0.4)) -> Figure:
    r"""TRL's generalised JSD jumps at both ends of beta: the loss tends to 0 as beta -> 0 or 1 but is forward KL at
    beta = 0 and reverse KL at beta = 1; divided by beta(1 - beta) it is continuous.

    :math:`\mathrm{JSD}_\beta=\beta\,\mathrm{KL}(T\|M)+(1-\beta)\,\mathrm{KL}(S\|M)`, :math:`M=\beta T+(1-\beta)S`, as
    ``GKDTrainer.generalized_jsd_loss`` computes it (trl/trainer/gkd_trainer.py @ a9fa292c); the filled markers are
    what the code returns at exactly 0 and 1. A user sweeping ``beta`` towards 0 to approach supervised KD sees the
    loss (and its gradient) vanish instead. Right: the gradient scale, the loss divided by its end value.

    Parameters
    ----------
    student, teacher : sequence of float
        Next-token laws.

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] R. Agarwal et al., arXiv:2306.13649, eq. (1) (GKD).

    Examples
    --------
    >>> from alignsim.figures import distill_gkd_beta
    >>> len(distill_gkd_beta().axes)
    2
    """
    s, t = np.asarray(student, float), np.asarray(teacher, float)
    betas = np.linspace(0.0, 1.0, 401)[1:-1]
    raw = np.array([divergence(s, t, "gkd_jsd", beta=b) for b in betas])
    norm = np.array([divergence(s, t, "gkd_jsd", beta=b, normalised=True) for b in betas])
    forward, reverse = kl(t, s), kl(s, t)
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    ax.plot(betas, raw, color=OKABE_ITO[0], lw=2, label=r"TRL's loss, $0<\beta<1$")
    ax.plot(betas, norm, color=OKABE_ITO[1], lw=2, ls="--", label=r"normalised: $/\,\beta(1-\beta)$")
    ax.plot([0.0], [forward], "o", color=OKABE_ITO[0], ms=8, label=r"TRL at $\beta=0$: KL$(T\|S)$")
    ax.plot([1.0], [reverse], "s", color=OKABE_ITO[0], ms=8, label=r"TRL at $\beta=1$: KL$(S\|T)$")
    ax.plot([0.0, 1.0], [0.0, 0.0], "o", color="white", mec=OKABE_ITO[0], ms=8, label="limits of the formula")
    ax.set_xlabel(r"$\beta$ (GKDConfig.beta)")
    ax.set_ylabel("loss per token (nats)")
    ax.set_title("Generalised JSD: a jump at both ends")
    ax.legend(fontsize=8, frameon=False)
    bx.plot(betas, raw / forward, color=OKABE_ITO[0], lw=2, label="raw / KL(T||S)")
    bx.plot(betas, raw / reverse, color=OKABE_ITO[2], lw=2, label="raw / KL(S||T)")
    bx.set_xscale("logit")
    bx.set_yscale("log")
    bx.set_xlabel(r"$\beta$ (logit scale)")
    bx.set_ylabel("fraction of the end value")
    bx.set_title(r"Near the ends the raw loss is $O(\beta)$ or $O(1-\beta)$")
    bx.legend(fontsize=8, frameon=False)
    return fig


def distill_topk_bias(vocab: int = 200, zipf: float = 1.1, ks=(1, 2, 5, 10, 20, 50, 100, 200)) -> Figure:
    r"""Top-k distillation losses against the full KL as k grows: renormalised, with a tail bucket, and verl's raw
    sub-probability sum, for a Zipf teacher and a flatter student.

    The tail-bucket KL is a coarse-graining, so it never exceeds the full KL (data processing); the renormalised
    KL compares conditional laws and can be far below or above it; verl's form (``forward_kl_topk`` /
    ``reverse_kl_topk``, verl/trainer/distillation/losses.py @ 3baac345: the union of both top-k sets, no
    renormalisation, probabilities floored at 1e-8, the sum floored at 0) is not a divergence of laws at all.

    Parameters
    ----------
    vocab : int
        Vocabulary size.
    zipf : float
        Teacher :math:`T_i\propto i^{-s}`; the student is :math:`\propto i^{-s/2}` with its first two tokens swapped.
    ks : sequence of int

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] volcengine/verl, on-policy distillation losses (commit 3baac345).

    Examples
    --------
    >>> from alignsim.figures import distill_topk_bias
    >>> len(distill_topk_bias(ks=(1, 200)).axes)
    2
    """
    rank = np.arange(1, vocab + 1, dtype=float)
    t = rank ** -zipf
    t /= t.sum()
    s = rank ** (-zipf / 2)
    s[[0, 1]] = s[[1, 0]]
    s /= s.sum()
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, direction, full in zip(axes, ("forward", "reverse"), (kl(t, s), kl(s, t))):
        kind = f"topk_{direction}"
        for style, colour, label, kw in (("o-", OKABE_ITO[0], "renormalised (teacher's top-k)", {}),
                                         ("s-", OKABE_ITO[1], "tail bucket (teacher's top-k)", {"tail": True}),
                                         ("^-", OKABE_ITO[2], "verl raw (union of top-k)",
                                          {"raw": True, "over": "union"})):
            ax.plot(ks, [divergence(s, t, kind, k=k, **kw) for k in ks], style, color=colour, ms=4, label=label)
        ax.axhline(full, color="0.3", lw=1, ls="--", label="full KL")
        ax.set_xscale("log")
        ax.set_xlabel("k")
        ax.set_ylabel("nats per token")
        ax.set_title(("forward KL(T||S)" if direction == "forward" else "reverse KL(S||T)") + f", V = {vocab}")
        # (below the full-KL line on the right, where the curves start low)
        ax.legend(fontsize=8, frameon=False, loc="lower right" if direction == "forward" else "upper left",
                  bbox_to_anchor=None if direction == "forward" else (0.0, 0.93))
    return fig


def distill_mode_seeking(separation: float = 15.0, vocab: int = 30) -> Figure:
    r"""A unimodal student of a bimodal teacher: reverse KL seeks one mode, forward KL covers both; JS and the skew
    reverse KL (alpha = 0.1) cover too, GKD's JSD at beta = 0.9 seeks like reverse KL.

    Teacher: two equal discretised Gaussians (scale 2) ``separation`` tokens apart on ``vocab`` ordered tokens;
    student: the discretised Gaussian family, fitted by :func:`alignsim.distill.fit` (global optimum over the modes).
    Right: the divergence each fitted student reaches, relative to the best the family can do for that divergence
    (1 on the diagonal).

    Parameters
    ----------
    separation : float
        Distance between the two modes (tokens).
    vocab : int

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] T. Minka, "Divergence measures and message passing", MSR-TR-2005-173.
    .. [2] Y. Gu et al., MiniLLM, ICLR 2024; J. Ko et al., DistiLLM, ICML 2024; R. Agarwal et al., GKD, ICLR 2024.

    Examples
    --------
    >>> from alignsim.figures import distill_mode_seeking
    >>> len(distill_mode_seeking().axes)   # the laws, the cross-table and its colour bar
    3
    """
    from ..distill import fit

    i = np.arange(vocab)
    centre = (vocab - 1) / 2
    t = np.exp(-0.5 * ((i - centre + separation / 2) / 2) ** 2) + np.exp(-0.5 * ((i - centre - separation / 2) / 2) ** 2)
    t /= t.sum()
    losses = [("forward_kl", {}, "forward KL (supervised KD)"), ("reverse_kl", {}, "reverse KL (on-policy KD)"),
              ("js", {}, "JS"), ("gkd_jsd", {"beta": 0.9}, "GKD JSD, beta = 0.9"),
              ("skew_reverse", {"alpha": 0.1}, "skew reverse KL, alpha = 0.1")]
    fits = [fit(t, "gaussian", kind, **params) for kind, params, _ in losses]
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    ax.bar(i, t, color="0.8", label="teacher")
    # coinciding optima are drawn on top of each other: widths and dashes keep each visible
    for res, (_, _, label), colour, style, width in zip(fits, losses, OKABE_ITO, ("-", "--", "-", "--", ":"),
                                                        (5, 5, 3, 2, 2)):
        ax.plot(i, res.student, style, color=colour, lw=width, label=f"{label}: mean {res.parameters['mean']:.1f}")
    ax.set_xlabel("token (ordered)")
    ax.set_ylabel("probability")
    ax.set_title("Best unimodal student under each loss")
    ax.legend(fontsize=7, frameon=False)
    table = np.array([[divergence(res.student, t, kind, **params) / best.divergence for res in fits]
                      for (kind, params, _), best in zip(losses, fits)])
    im = bx.imshow(np.log10(table), cmap="viridis", vmin=0.0)
    bx.set_xticks(range(len(losses)), [f"fit {k}" for k, _, _ in losses], rotation=30, ha="right", fontsize=7)
    bx.set_yticks(range(len(losses)), [k for k, _, _ in losses], fontsize=7)
    for r in range(len(losses)):
        for c in range(len(losses)):
            bx.text(c, r, f"{table[r, c]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if np.log10(table[r, c]) < 0.5 * np.log10(table).max() else "black")
    bx.set_xlabel("student fitted under")
    bx.set_ylabel("divergence measured")
    bx.set_title("divergence reached / family's best", fontsize=9)
    fig.colorbar(im, ax=bx, label="log10 ratio", shrink=0.8)
    return fig


def distill_gradient_table(student_logits=(1.2, 0.6, 0.0, -0.3, -1.0, -1.5),
                           teacher=(0.05, 0.1, 0.15, 0.2, 0.25, 0.25)) -> Figure:
    r"""Which KL each distillation loss follows: cosines of the exact expected gradients with those of
    :math:`\mathrm{KL}(S\|T)` and :math:`\mathrm{KL}(T\|S)`, and the per-sample variance of the sampled estimators.

    From :func:`alignsim.distill.gradient_table` on a student that favours the tokens its teacher disfavours: k1 as
    a REINFORCE penalty and k2 in the loss follow the reverse KL exactly, k3 in the loss the forward KL, k1 in the
    loss nothing (zero expected gradient: no bar).

    Parameters
    ----------
    student_logits, teacher : sequence of float

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] Y. Tang, R. Munos, arXiv:2506.09477.

    Examples
    --------
    >>> from alignsim.figures import distill_gradient_table
    >>> len(distill_gradient_table().axes)
    2
    """
    from ..distill import gradient_table

    df = gradient_table(list(student_logits), list(teacher), beta=0.5, k=2)
    y = np.arange(len(df))
    fig = Figure(figsize=(11.0, 5.5), layout="constrained")
    ax, bx = fig.subplots(1, 2, sharey=True)
    ax.barh(y - 0.2, df["cos_reverse"].fillna(0.0), height=0.4, color=OKABE_ITO[0], label="cos to grad KL(S||T)")
    ax.barh(y + 0.2, df["cos_forward"].fillna(0.0), height=0.4, color=OKABE_ITO[1], label="cos to grad KL(T||S)")
    ax.set_yticks(y, df["loss"], fontsize=7)
    ax.set_ylabel("loss as trained")
    ax.invert_yaxis()
    ax.axvline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("cosine of the expected gradient")
    ax.legend(fontsize=8, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    sampled = df["kind"] == "sampled"
    bx.barh(y[sampled], df.loc[sampled, "variance"], color=OKABE_ITO[2])
    bx.set_xscale("log")
    bx.set_xlabel("per-sample gradient variance (full-vocabulary losses: 0)")
    bx.set_ylabel("(same losses)")
    bx.set_title("Noise of the sampled estimators")
    return fig


def distill_exposure_bias(length: int = 20) -> Figure:
    r"""Distilling a Markov teacher into a memoryless student: token-level forward KL on a fraction lambda of the
    student's own prefixes (GKD's ``lmbda``), iterated to its fixed point, against the sequence-level reverse KL.

    Teacher: tokens good (reward 1), bad (-1) and the end token, good and bad each sticky (an error persists).
    Supervised KD (:math:`\lambda=0`) is the sequence-level forward-KL student; more on-policy data moves the
    fixed point (:func:`alignsim.distill.on_policy_fixed_point`) towards the tokens the student itself visits,
    here lowering the reward; the sequence-level reverse-KL student seeks the good mode instead (dashed).

    Parameters
    ----------
    length : int
        Largest sequence length of the teacher.

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] R. Agarwal et al., ICLR 2024 (GKD); Y. Gu et al., ICLR 2024 (MiniLLM).

    Examples
    --------
    >>> from alignsim.figures import distill_exposure_bias
    >>> len(distill_exposure_bias(length=8).axes)
    2
    """
    from ..distill import exposure_bias
    from ..markov import MarkovLM

    teacher = MarkovLM([0.9, 0.05, 0.05], [[0.85, 0.05, 0.1], [0.05, 0.9, 0.05], [0.3, 0.3, 0.4]], [1.0, -1.0, 0.0],
                       length, eos=2)
    lams = np.linspace(0.0, 1.0, 11)
    df = exposure_bias(teacher, lams)
    sweep, rev = df.iloc[:-1], df.iloc[-1]
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    ax.plot(sweep["lam"], sweep["kl_student_teacher"], "o-", color=OKABE_ITO[0], ms=4, label="KL(S||T)")
    ax.plot(sweep["lam"], sweep["kl_teacher_student"], "s-", color=OKABE_ITO[1], ms=4, label="KL(T||S)")
    ax.axhline(rev["kl_student_teacher"], color=OKABE_ITO[0], ls="--", lw=1, label="KL(S||T), reverse-KL student")
    ax.set_xlabel(r"on-policy fraction $\lambda$")
    ax.set_ylabel("sequence KL (nats)")
    ax.set_title("Divergences of the fixed point")
    ax.legend(fontsize=8, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 0.1))
    bx.plot(sweep["lam"], sweep["reward"], "o-", color=OKABE_ITO[2], ms=4, label="student")
    bx.axhline(rev["reward"], color=OKABE_ITO[2], ls="--", lw=1, label="reverse-KL student")
    bx.axhline(rev["reward_teacher"], color="0.4", lw=1, label="teacher")
    bx.set_xlabel(r"on-policy fraction $\lambda$")
    bx.set_ylabel("expected sequence reward")
    bx.set_title("Reward")
    bx.legend(fontsize=8, frameon=False)
    return fig
