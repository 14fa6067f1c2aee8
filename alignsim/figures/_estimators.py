"""Figures of KL estimators and their gradients."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..estimators import estimator_moments, gaussian_estimator_stats, gradient_table
from ._style import OKABE_ITO


def estimators_std_over_kl(max_mu: float = 2.0) -> Figure:
    r"""Standard deviation over KL of the k1, k2, k3 estimators as the KL grows: Schulman's Gaussian example
    (closed forms) and a finite policy path :math:`\pi_\varepsilon\propto\pi_{\rm ref}e^{\varepsilon d}` (exact finite
    sums). :math:`k_3` wins near the reference (variance :math:`O(D^2)` instead of :math:`O(D)`), and is not always
    best far from it.

    Parameters
    ----------
    max_mu : float
        Largest mean shift of Schulman's Gaussian example.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] J. Schulman, "Approximating KL divergence" (2020).

    Examples
    --------
    >>> from alignsim.figures import estimators_std_over_kl
    >>> len(estimators_std_over_kl().axes)
    2
    """

    fig = Figure(figsize=(10.4, 4.2), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    mus = np.linspace(0.05, max_mu, 120)
    stats = [gaussian_estimator_stats(m) for m in mus]
    kls = [st["kl"] for st in stats]
    for j, kind in enumerate(("k1", "k2", "k3")):
        ax.loglog(kls, [st[f"std_over_kl_{kind}"] for st in stats], color=OKABE_ITO[j], lw=2, label=kind)
    ax.set_xlabel("KL(q || p) (nats)")
    ax.set_ylabel("standard deviation / KL")
    ax.set_title(r"Gaussian example: $q=N(0,1)$, $p=N(\mu,1)$", fontsize=10)
    ax.legend(frameon=False)
    ref = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    direction = np.array([0.3, -0.2, 1.1, 0.0, -0.7])
    eps = np.linspace(0.05, 4.0, 120)
    rows = []
    for e in eps:
        pi = ref * np.exp(e * direction)
        pi /= pi.sum()
        rows.append([estimator_moments(pi, ref, k, orders=()) for k in ("k1", "k2", "k3")])
    kl_path = [r[0]["kl"] for r in rows]
    for j, kind in enumerate(("k1", "k2", "k3")):
        ax2.loglog(kl_path, [math.sqrt(r[j]["var"]) / r[j]["kl"] for r in rows], color=OKABE_ITO[j], lw=2,
                   label=kind)
    ax2.set_xlabel(r"KL($\pi$ || ref) (nats)")
    ax2.set_ylabel("standard deviation / KL")
    ax2.set_title(r"Finite example: $\pi\propto$ ref$\cdot e^{\varepsilon d}$, five outcomes", fontsize=10)
    ax2.legend(frameon=False)
    return fig


def estimators_gradient_table(theta=(0.3, -0.2, 1.1, 0.0, -0.7), ref=(0.1, 0.2, 0.3, 0.25, 0.15),
                              theta_old=(0.0, 0.0, 0.5, 0.5, -0.5)) -> Figure:
    r"""The gradient table as a figure: for every (estimator, placement, sampling, IS weight), the cosine of its exact
    expected gradient with :math:`\nabla\mathrm{KL}(\pi\|\pi_{\rm ref})`, coloured by the target it follows.

    Parameters
    ----------
    theta : array_like
        Policy logits.
    ref : array_like
        Reference law.
    theta_old : array_like
        Logits of the behaviour policy of the off-policy rows.

    Returns
    -------
    Figure : matplotlib.figure.Figure
        The figure (not shown; save it with savefig).

    References
    ----------
    .. [1] Tang and Munos (2025).

    Examples
    --------
    >>> from alignsim.figures import estimators_gradient_table
    >>> len(estimators_gradient_table().axes)
    1
    """

    df = gradient_table(theta, ref, theta_old)
    # what each row's expected gradient equals exactly, in words, with one colour per target
    targets = {"reverse": (r"$\nabla$KL($\pi$||ref): correct", OKABE_ITO[2]),
               "forward": (r"$\nabla$KL(ref||$\pi$): forward KL", OKABE_ITO[4]),
               "k2_divergence": (r"$\nabla\mathbb{E}_\pi k_2$: not a KL", OKABE_ITO[3]),
               "away_from_mu": (r"$-\nabla$KL($\mu$||$\pi$): away from the sampler", OKABE_ITO[5]),
               "zero": ("zero (no regularisation)", "0.55"),
               "biased": ("biased: none of these", OKABE_ITO[1])}
    fig = Figure(figsize=(8.4, 6.6), layout="constrained")
    ax = fig.add_subplot()
    labels = [f"{r.k} {r.placement.replace('_', '-')}, {r.policy}-policy, IS {r.is_weight}"
              for r in df.itertuples()]
    y = np.arange(len(df))[::-1]
    ax.barh(y, df["cos_rev"], color=[targets[t][1] for t in df["target"]])
    ax.plot(np.zeros(int((df["target"] == "zero").sum())), y[(df["target"] == "zero").to_numpy()], "|",
            color=targets["zero"][1], ms=12, mew=3)  # a zero gradient has no bar: mark it on the axis
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(-1.05, 1.05)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel(r"cosine with the correct gradient $\nabla$KL($\pi$ || ref) (exact expected gradients)")
    ax.set_ylabel("estimator, placement, sampling, importance weight")
    ax.set_title("Which gradient does each KL-penalty placement follow?", fontsize=10)
    present = [t for t in targets if (df["target"] == t).any()]
    handles = [Patch(color=targets[t][1], label=targets[t][0]) for t in present]
    ax.legend(handles=handles, title="the row's exact expected gradient", fontsize=7.5, title_fontsize=8,
              loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig
