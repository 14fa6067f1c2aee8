"""Figures of the framework presets: which KL each setting's gradient follows, where the clamps bind, and the
variance tail of k3 when the policy leaves the reference."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..divergences import kl
from ..estimators import kl_gradient_targets
from ..frameworks import expected_gradient, gradient_variance, preset
from ..frameworks._gradient import _value_and_slope  # the one implementation of the clamps
from ._style import OKABE_ITO

#: The presets drawn (label, framework, settings): one per distinct behaviour on a bandit.
_DRAWN = [
    ("k3 in the loss (TRL GRPO)", "trl", {"trainer": "grpo"}),
    ("k3 loss, ratio-weighted (TRL use_bias_correction_kl)", "trl", {"trainer": "grpo",
                                                                     "use_bias_correction_kl": True}),
    ("k3 loss, clamped (verl low_var_kl)", "verl", {"use_kl_loss": True, "kl_loss_type": "low_var_kl"}),
    ("k1 in the reward (verl kl, TRL PPO k1)", "verl", {"use_kl_in_reward": True, "kl_penalty": "kl"}),
    ("k3 in the reward (TRL PPO k3)", "trl", {"trainer": "ppo", "kl_estimator": "k3"}),
    ("k2 in the reward (verl mse)", "verl", {"use_kl_in_reward": True, "kl_penalty": "mse"}),
    ("k1 in the loss (verl kl; OpenRLHF k1 loss)", "verl", {"use_kl_loss": True, "kl_loss_type": "kl"}),
]


def _path(ts, k=6):
    """Policies on the tilt path pi_t ∝ ref e^{t r} of a fixed law (ref uniform-ish, r = 0..1): KL grows both ways."""
    ref = np.array([0.3, 0.25, 0.2, 0.12, 0.08, 0.05])[:k]
    r = np.linspace(0.0, 1.0, k)
    out = []
    for t in ts:
        logw = np.log(ref) + t * r
        pi = np.exp(logw - logw.max())
        out.append(pi / pi.sum())
    return ref, out


def frameworks_bias_vs_kl() -> Figure:
    r"""Which KL each framework setting's expected gradient follows, along a path of policies moving away from the
    reference: cosine with :math:`\nabla\mathrm{KL}(\pi\|\pi_{\rm ref})` and relative bias, against the KL.

    Policies :math:`\pi_t\propto\pi_{\rm ref}e^{t r}` for six outcomes (:math:`t` from -12 to 12; both directions
    drawn, the KL on the x axis is signed by :math:`t`). Settings that follow :math:`\mathrm{KL}(\pi\|\pi_{\rm ref})`
    have cosine 1 and bias 0 (TRL's ratio-weighted k3, k1 in the reward, k2 in the loss, verl's ``+``); k3 in the
    loss follows :math:`\mathrm{KL}(\pi_{\rm ref}\|\pi)`, close near the reference and far from it; k1 in the loss
    has zero expected gradient; k2 and k3 in the reward point elsewhere; verl's clamps change k3's loss once the
    policy is far (:func:`alignsim.frameworks.expected_gradient`).

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] Y. Tang and R. Munos, arXiv:2506.09477 (2025); the framework code cited by each preset.

    Examples
    --------
    >>> from alignsim.figures import frameworks_bias_vs_kl
    >>> len(frameworks_bias_vs_kl().axes)
    2
    """
    ts = np.concatenate([np.linspace(-12, -0.05, 60), np.linspace(0.05, 12, 60)])
    ref, pis = _path(ts)
    signed = np.array([np.sign(t) * kl(pi, ref) for t, pi in zip(ts, pis)])
    fig = Figure(figsize=(12.0, 5.2), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    styles = ("-", "--", "-", "-", ":", "-.", "--")
    for (label, fw, settings), colour, style in zip(_DRAWN, OKABE_ITO, styles):
        cos, bias = [], []
        for pi in pis:
            g = expected_gradient(pi, ref, fw, **settings)
            rev = kl_gradient_targets(np.log(pi), ref)["reverse"]
            ng, nr = np.linalg.norm(g), np.linalg.norm(rev)
            # k1 in the loss has expected gradient 0: its rounding residue (1e-17) has no direction
            cos.append(float(g @ rev / (ng * nr)) if ng > 1e-12 * nr else 0.0)
            bias.append(float(np.linalg.norm(g - rev) / nr))
        width = 4.0 if "ratio-weighted" in label else 2.0  # it coincides with k1 in the reward: drawn under it
        ax.plot(signed, cos, style, color=colour, lw=width, label=label)
        bx.plot(signed, np.maximum(bias, 1e-17), style, color=colour, lw=width, label=label)
    ax.set_xlabel(r"signed KL($\pi_t\,\|\,\pi_{\rm ref}$) (negative: $t<0$)")
    ax.set_ylabel(r"cosine with $\nabla$KL($\pi\|\pi_{\rm ref}$)")
    ax.set_title("Direction of the expected gradient")
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8, frameon=False, loc="outside lower center", ncol=4)
    bx.set_yscale("log")
    bx.set_ylim(1e-17, 1e3)
    bx.set_xlabel(r"signed KL($\pi_t\,\|\,\pi_{\rm ref}$) (negative: $t<0$)")
    bx.set_ylabel(r"relative bias $\|g-\nabla{\rm KL}\|/\|\nabla{\rm KL}\|$")
    bx.set_title("Bias (1e-17: exact to rounding)")
    return fig


def frameworks_clamps_and_tail() -> Figure:
    r"""Where the clamps bind and why they exist: the per-sample gradient coefficient of k3 in the loss against the
    log-ratio, and the variance per sample as one outcome's policy mass falls below the reference's.

    Left: :math:`f(\ell) = dv/d\ell` of the per-sample gradient :math:`f\,\nabla\log\pi(y)`: TRL's unclamped k3
    (:math:`1-e^{-\ell}`, which reaches :math:`-e^{20}` at :math:`\ell=-20`), verl's ``low_var_kl`` (zero once
    :math:`k_3>10`, i.e. :math:`\ell<-2.53`, and beyond :math:`|\ell|>20`), OpenRLHF's k3 (value clamped to 10),
    k2 (:math:`\ell`). Right: :func:`alignsim.frameworks.gradient_variance` when the policy's mass on one outcome
    shrinks (reference 0.3 there): unclamped k3 grows like :math:`\pi_{\rm ref}^2/\pi`; the clamps cap it, at the
    price of the bias the left panel shows.

    Returns
    -------
    Figure : matplotlib.figure.Figure

    References
    ----------
    .. [1] J. Schulman, "Approximating KL divergence" (2020); rlhf-book issue #489 (k3 spikes when
       :math:`\pi\ll\pi_{\rm ref}`).

    Examples
    --------
    >>> from alignsim.figures import frameworks_clamps_and_tail
    >>> len(frameworks_clamps_and_tail().axes)
    2
    """
    fig = Figure(figsize=(12.0, 4.4), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    ell = np.linspace(-25.0, 5.0, 3001)
    for (label, fw, settings), colour, style in zip(
            [("TRL GRPO k3 (no clamp)", "trl", {"trainer": "grpo"}),
             ("verl low_var_kl (log-ratio and value clamps)", "verl", {"use_kl_loss": True,
                                                                       "kl_loss_type": "low_var_kl"}),
             ("OpenRLHF k3 loss (value clamp)", "openrlhf", {"use_kl_loss": True, "kl_estimator": "k3"}),
             ("k2 / verl mse / low_var_kl+", "verl", {"use_kl_loss": True, "kl_loss_type": "mse"})],
            OKABE_ITO, ("-", "--", ":", "-.")):
        pr = preset(fw, **settings)
        f = _coefficient(pr, ell)
        ax.plot(ell, f, style, color=colour, lw=2, label=label)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel(r"log-ratio $\ell=\log\pi(y)-\log\pi_{\rm ref}(y)$")
    ax.set_ylabel(r"gradient coefficient $f(\ell)$ of $\nabla\log\pi(y)$")
    ax.set_title("k3 in the loss: where the clamps bind")
    ax.legend(fontsize=8, frameon=False)
    masses = np.logspace(-12, -1, 80)  # up to a third of the reference's 0.3 (at 0.3 the laws coincide)
    ref = np.array([0.3, 0.3, 0.4])
    for (label, fw, settings), colour, style in zip(_DRAWN[:3] + [_DRAWN[5]], OKABE_ITO, ("-", "--", "-", "-.")):
        var = []
        for m in masses:
            pi = np.array([m, 0.3, 0.7 - m])
            var.append(gradient_variance(pi, ref, fw, **settings))
        bx.plot(masses / 0.3, var, style, color=colour, lw=2, label=label)
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_xlabel(r"$\pi(y)/\pi_{\rm ref}(y)$ of the shrinking outcome")
    bx.set_ylabel("gradient variance per sample")
    bx.set_title(r"The tail when $\pi\ll\pi_{\rm ref}$")
    bx.legend(fontsize=7, frameon=False)
    return fig


def _coefficient(pr, ell):
    """The loss-side coefficient dv/d(ell) of a preset on a grid of log-ratios (a two-outcome law is not needed:
    the coefficient depends on the log-ratio alone)."""
    return _value_and_slope(pr, ell)[1]
