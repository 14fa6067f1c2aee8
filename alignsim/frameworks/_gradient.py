r"""The expected gradient, its variance and the comparison table of each framework preset on a softmax bandit
(private; re-exported by :mod:`alignsim.frameworks`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import _validate as V
from ..estimators import kl_gradient_targets
from ._presets import Preset, all_presets, preset


def _laws(policy, ref):
    pi = V.probabilities(policy, "policy")
    rr = V.probabilities(ref, "ref")
    V.same_shape(pi, rr, "policy", "ref")
    if pi.size < 2:
        raise ValueError(f"policy must have at least two outcomes, got {pi.size}")
    if np.any(pi == 0) or np.any(rr == 0):
        raise ValueError("policy and ref must have full support (a softmax policy has, and every estimator needs "
                         "log pi - log ref finite)")
    return pi, rr


def _value_and_slope(pr: Preset, ell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The estimator's value and its derivative in :math:`\ell`, with the preset's clamps applied as torch applies
    them (the gradient of ``clamp`` is 1 inside the closed interval, 0 outside)."""
    lc, live = ell, np.ones(ell.shape, bool)
    if pr.log_ratio_clamp is not None:
        lo, hi = pr.log_ratio_clamp
        lc = np.clip(ell, lo, hi)
        live &= (ell >= lo) & (ell <= hi)
    if pr.estimator == "k1":
        v, dv = lc.copy(), np.ones_like(lc)
    elif pr.estimator == "k2":
        v, dv = 0.5 * lc * lc, lc.copy()
    elif pr.estimator == "abs":
        v, dv = np.abs(lc), np.sign(lc)
    else:
        with np.errstate(over="ignore"):
            v, dv = np.expm1(-lc) + lc, -np.expm1(-lc)
    if pr.value_clamp is not None:
        lo, hi = pr.value_clamp
        live &= (v >= lo) & (v <= hi)
        v = np.clip(v, lo, hi)
    return v, np.where(live, dv, 0.0)


def _weighted_coefficient(pr: Preset, pi: np.ndarray, rr: np.ndarray) -> np.ndarray:
    r""":math:`\pi_y f(y)`, the per-outcome coefficient of the per-sample gradient :math:`f(y)(e_y-\pi)` times its
    probability, formed so that it stays finite where :math:`\pi_y\ll\pi_{\rm ref}(y)`: unclamped k3 enters only as
    :math:`\pi\rho = \pi_{\rm ref}` (:math:`\pi(1-\rho) = \pi-\pi_{\rm ref}`, :math:`\pi k_3 =
    \pi_{\rm ref}-\pi+\pi\ell`)."""
    ell = np.log(pi) - np.log(rr)
    if pr.placement == "straight_through":  # verl: 0.5 (logp - ref)^2 - sg[...] + sg[value]: k2's gradient, unclamped
        return pi * ell
    if pr.estimator == "k3" and pr.log_ratio_clamp is None and pr.value_clamp is None:
        if pr.placement == "reward":
            return rr - pi + pi * ell
        if pr.is_weight == "differentiable":  # k3 + dk3/dell = ell
            return pi * ell
        return pi - rr
    v, dv = _value_and_slope(pr, ell)
    if pr.placement == "reward":
        return pi * v
    return pi * (dv + v) if pr.is_weight == "differentiable" else pi * dv


def _resolve(framework, settings) -> Preset:
    return framework if isinstance(framework, Preset) else preset(framework, **settings)


def expected_gradient(policy, ref, framework, *, length: int = 1, **settings) -> np.ndarray:
    r"""The expected gradient of a framework's KL term, per unit KL coefficient, with respect to the policy's logits.

    On a softmax bandit :math:`\pi = \mathrm{softmax}(\theta)` sampled on-policy, each setting's per-sample gradient
    is :math:`f(y)\,s_y` with :math:`s_y = \nabla_\theta\log\pi(y) = e_y - \pi` and, for the value :math:`v(\ell)` of
    its estimator at :math:`\ell = \log\pi(y)-\log\pi_{\rm ref}(y)` after its clamps,

    .. math::

        f = \begin{cases} v & \text{KL in the reward (detached; the loss is } -A\log\pi,\ A = -v)\\
        v' & \text{KL in the loss}\\ v + v' & \text{in the loss times the importance ratio (TRL
        \texttt{use\_bias\_correction\_kl})}\\ \ell & \text{straight-through (verl's ``+'': } k_2
        \text{'s gradient)}\end{cases}

    (:math:`v' = 0` where a clamp binds), and the expectation is the master identity
    :math:`\mathbb E_\pi[f s]_a = \pi_a f_a - \pi_a\sum_y\pi_y f_y`.

    With ``length`` :math:`T>1` the policy is a memoryless LM of :math:`T` tokens drawn from ``policy`` (shared
    logits), the per-token terms averaged over the sequence (TRL's ``loss_type="grpo"``), and the result is the
    expected gradient of that average. Every preset then gives its bandit gradient (cross-token terms vanish because
    :math:`\mathbb E\,s_t = 0` for independent tokens) except TRL's ``use_bias_correction_kl`` with
    ``importance_sampling_level="sequence"``, whose weight :math:`\exp(\frac1T\sum_t(\log\pi_t-\log\pi_{{\rm
    old},t}))` multiplies each token's k3 (TRL issue #6586):

    .. math::

        \mathbb E\Big[\frac1T\sum_t\big(k_3'(\ell_t)s_t + k_3(\ell_t)\tfrac1T\textstyle\sum_u s_u\big)\Big]
        = \big(1-\tfrac1T\big)(\pi-\pi_{\rm ref}) + \tfrac1T\,F\ell,

    the forward-KL gradient with weight :math:`1-1/T` and the reverse-KL gradient with weight :math:`1/T`.

    Parameters
    ----------
    policy, ref : array_like, shape (K,)
        The policy and the reference as probability vectors with full support.
    framework : {"trl", "verl", "openrlhf"} or Preset
        The framework (or a preset from :func:`alignsim.frameworks.preset`).
    length : int
        Tokens per sequence of a memoryless LM (1: the bandit), at most 10^6.
    **settings
        The settings as spelled in that framework's config: TRL ``trainer`` (``"grpo"``, ``"ppo"``, ``"rloo"``),
        ``use_bias_correction_kl``, ``importance_sampling_level``, ``kl_estimator``; verl ``use_kl_loss``,
        ``kl_loss_type``, ``use_kl_in_reward``, ``kl_penalty``; OpenRLHF ``use_kl_loss``, ``kl_estimator``.
        Unknown names or values raise a ValueError listing the known ones.

    Returns
    -------
    ndarray, shape (K,)
        The gradient of the expected loss (to be minimised), summing to zero.

    Notes
    -----
    With the KL in the reward, the gradient is the one of REINFORCE with the penalty as the only reward and no
    baseline: a baseline independent of the sample leaves the expectation unchanged, and a positive rescaling
    (TRL PPO's whitening) only scales it; group normalisation (GRPO) is nonlinear and is :mod:`alignsim.rlvr`'s
    subject. On a one-step bandit the importance ratio's level (token or sequence) and the loss aggregation
    do not matter.

    References
    ----------
    .. [1] Y. Tang and R. Munos, "On a few pitfalls in KL divergence gradient estimation for RL", arXiv:2506.09477,
       2025.
    .. [2] The framework code named by each preset's ``source`` (TRL f2cd5771, verl b178a3cd, OpenRLHF 3c3be623).

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim import frameworks
    >>> pi, ref = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    >>> g = frameworks.expected_gradient(pi, ref, "trl", trainer="grpo")
    >>> bool(np.allclose(g, pi - ref))       # TRL's GRPO k3 loss follows the forward KL
    True
    """
    pr = _resolve(framework, settings)
    t = V.length(length, "length", high=10 ** 6, why="the sequence-level weight is 1/length")
    pi, rr = _laws(policy, ref)
    mf = _weighted_coefficient(pr, pi, rr)
    g = mf - pi * math.fsum(mf)
    if t > 1 and pr.is_weight == "differentiable" and pr.is_level == "sequence":
        # the sequence-mean log-ratio puts weight 1/T on k3's own score term: E[k3 s] = F ell - (pi - ref)
        return (1.0 - 1.0 / t) * (pi - rr) + g / t
    return g


def gradient_variance(policy, ref, framework, **settings) -> float:
    r"""Variance per sample of a framework's KL-gradient estimate: the trace of the covariance of
    :math:`f(y)\,s_y`, :math:`y\sim\pi`.

    .. math::

        \mathbb E\|f s\|^2 - \|\mathbb E f s\|^2,\qquad
        \mathbb E\|f s\|^2 = \sum_y \frac{(\pi_y f_y)^2}{\pi_y}\big(1-2\pi_y+\|\pi\|^2\big),

    with :math:`f` as in :func:`expected_gradient`. An average of :math:`n` samples has this variance over :math:`n`.

    Parameters
    ----------
    policy, ref : array_like, shape (K,)
        The policy and the reference, full support.
    framework : {"trl", "verl", "openrlhf"} or Preset
        As in :func:`expected_gradient`.
    **settings
        As in :func:`expected_gradient`.

    Returns
    -------
    float
        The variance; ``inf`` when it exceeds the float range (unclamped k3 where :math:`\pi_{\rm ref}^2/\pi`
        overflows).

    References
    ----------
    .. [1] Tang and Munos (2025), arXiv:2506.09477.

    Examples
    --------
    >>> from alignsim import frameworks
    >>> v = frameworks.gradient_variance([0.5, 0.3, 0.2], [0.2, 0.3, 0.5], "verl", use_kl_loss=True,
    ...                                  kl_loss_type="low_var_kl")
    >>> round(v, 6)
    0.3294
    """
    pr = _resolve(framework, settings)
    pi, rr = _laws(policy, ref)
    mf = _weighted_coefficient(pr, pi, rr)
    mean = mf - pi * math.fsum(mf)
    with np.errstate(over="ignore"):
        second = math.fsum((mf * mf / pi) * (1.0 - 2.0 * pi + float(np.dot(pi, pi))))
    return max(second - float(np.dot(mean, mean)), 0.0) if math.isfinite(second) else math.inf


def _binds(pr: Preset, ell: np.ndarray) -> bool:
    """Whether a clamp of the preset is active at some outcome (the log-ratio outside its interval, or the value
    of the clamped log-ratio outside its own)."""
    if pr.log_ratio_clamp is not None and np.any((ell < pr.log_ratio_clamp[0]) | (ell > pr.log_ratio_clamp[1])):
        return True
    if pr.value_clamp is None:
        return False
    v = _value_and_slope(Preset(**{**pr.__dict__, "value_clamp": None}), ell)[0]
    return bool(np.any((v < pr.value_clamp[0]) | (v > pr.value_clamp[1])))


def _follows(g, targets, rtol):
    scale = max(float(np.linalg.norm(g)), float(np.linalg.norm(targets["reverse"])))
    names = {"reverse": "KL(pi || ref)", "forward": "KL(ref || pi)", "k2_divergence": "E_pi[k2]", "zero": "nothing"}
    return next((names[t] for t, v in targets.items() if np.linalg.norm(g - v) <= rtol * scale), "biased")


def table(policy, ref, *, rtol: float = 1e-9) -> pd.DataFrame:
    r"""Every preset the module knows, side by side: which KL its expected gradient follows, how far it is from
    :math:`\nabla\mathrm{KL}(\pi\|\pi_{\rm ref})`, and its variance per sample.

    Columns: ``framework``, ``setting``, ``estimator``, ``placement``, ``follows`` (``"KL(pi || ref)"``,
    ``"KL(ref || pi)"``, ``"E_pi[k2]"``, ``"nothing"`` or ``"biased"``: the closed-form target the expected gradient
    equals to ``rtol``), ``cosine`` (with :math:`\nabla\mathrm{KL}(\pi\|\pi_{\rm ref}) = F\ell`), ``relative_bias``
    (:math:`\|g-F\ell\|/\|F\ell\|`), ``variance`` (:func:`gradient_variance`; ``inf`` when it exceeds the float
    range), ``clamp_binds`` (whether a clamp of
    the preset is active at some outcome), ``source``. A last row, framework ``"reference"``, is the
    Rao-Blackwellised estimator (the full KL at the visited state: on a bandit exactly :math:`F\ell`, variance 0;
    verl's ``kl_loss_type="full"`` raises NotImplementedError at b178a3cd).

    Parameters
    ----------
    policy, ref : array_like, shape (K,)
        The policy and the reference, full support.
    rtol : float
        Relative tolerance for naming the target a row follows, > 0.

    Returns
    -------
    pandas.DataFrame
        One row per preset.

    References
    ----------
    .. [1] Tang and Munos (2025), arXiv:2506.09477.

    Examples
    --------
    >>> from alignsim import frameworks
    >>> df = frameworks.table([0.5, 0.3, 0.2], [0.2, 0.3, 0.5])
    >>> df.loc[df.setting == "use_kl_loss=True, kl_loss_type='low_var_kl'", "follows"].item()
    'KL(ref || pi)'
    """
    rtol = V.real(rtol, "rtol", low=0.0, low_open=True)
    pi, rr = _laws(policy, ref)
    targets = kl_gradient_targets(np.log(pi), rr)
    rev = targets["reverse"]
    norm_r = float(np.linalg.norm(rev))
    ell = np.log(pi) - np.log(rr)
    rows = []
    for pr in all_presets():
        g = expected_gradient(pi, rr, pr)
        norm_g = float(np.linalg.norm(g))
        binds = pr.placement != "straight_through" and _binds(pr, ell)
        rows.append({"framework": pr.framework, "setting": pr.setting, "estimator": pr.estimator,
                     "placement": pr.placement, "follows": _follows(g, targets, rtol),
                     "cosine": float(np.dot(g, rev) / (norm_g * norm_r)) if norm_g > 0 and norm_r > 0 else 0.0,
                     "relative_bias": float(np.linalg.norm(g - rev) / norm_r) if norm_r > 0 else math.inf,
                     "variance": gradient_variance(pi, rr, pr), "clamp_binds": binds, "source": pr.source})
    rows.append({"framework": "reference", "setting": "full next-token KL (Rao-Blackwellised)", "estimator": "exact",
                 "placement": "loss", "follows": "KL(pi || ref)", "cosine": 1.0 if norm_r > 0 else 0.0,
                 "relative_bias": 0.0 if norm_r > 0 else math.inf, "variance": 0.0, "clamp_binds": False,
                 "source": "kl_gradient_targets (exact)"})
    return pd.DataFrame(rows)
