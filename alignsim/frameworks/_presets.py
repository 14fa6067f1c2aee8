r"""What each framework's KL setting computes, as data read from its code (private; re-exported by
:mod:`alignsim.frameworks`).

Every preset names the file and commit it was read from. A setting is described by the estimator of
:math:`\mathrm{KL}(\pi\|\pi_{\rm ref})` it evaluates per token, where that value enters the objective (``"loss"``:
differentiated through :math:`\log\pi`; ``"reward"``: subtracted from the reward, detached; ``"straight_through"``:
the value of one estimator with the gradient of :math:`k_2`), the clamps applied (to the log-ratio and to the
value), and an importance weight that multiplies the value and is differentiated (TRL's bias-corrected k3).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The commits the presets were read from.
TRL_COMMIT = "f2cd57710ae345ea6428ae95363267fcf38a3dc8"
VERL_COMMIT = "b178a3cd56f58b2d502255daba591e92833930a7"
OPENRLHF_COMMIT = "3c3be6234e0cb353e76bb8019947db9dfe99fca7"

FRAMEWORKS = ("trl", "verl", "openrlhf")


@dataclass(frozen=True)
class Preset:
    r"""One framework setting as the estimator, placement, clamps and weighting its code applies.

    Attributes
    ----------
    framework : str
        ``"trl"``, ``"verl"`` or ``"openrlhf"``.
    setting : str
        The setting as typed in that framework's config.
    estimator : str
        ``"k1"``, ``"k2"``, ``"k3"`` or ``"abs"`` (:math:`|\ell|`, verl's ``abs``), of the log-ratio
        :math:`\ell=\log\pi-\log\pi_{\rm ref}`.
    placement : str
        ``"loss"``, ``"reward"`` or ``"straight_through"``.
    log_ratio_clamp, value_clamp : tuple of float or None
        Clamps of :math:`\ell` and of the estimator's value (the gradient is zero where a clamp binds).
    is_weight : str
        ``"none"``, or ``"differentiable"``: the value is multiplied by the importance ratio
        :math:`\pi/\pi_{\rm old}` (equal to 1 on-policy, with gradient :math:`\nabla\log\pi`).
    is_level : str
        ``"token"`` or ``"sequence"`` (the ratio's level; the same on a one-step bandit).
    source : str
        File and commit the preset was read from.
    note : str
        What the code does beyond the fields, or where it departs from its documentation.
    credit : str
        With the KL in the reward, which tokens a token's value is credited to: ``"return_to_go"`` (per-token
        rewards and GAE, the default advantage of verl, TRL's PPO and OpenRLHF: the tokens at and before it) or
        ``"sequence"`` (TRL's RLOO: the values are summed into the sequence's reward, credited to every token). The
        expected gradient is the same; the variance is not.

    Notes
    -----
    The per-token term is :math:`v(\ell)`, the estimator of the preset at the clamped log-ratio, clamped in turn.

    References
    ----------
    .. [1] J. Schulman, "Approximating KL divergence", 2020 (k1, k2, k3).

    Examples
    --------
    >>> from alignsim.frameworks import preset
    >>> preset("openrlhf", use_kl_loss=True, kl_estimator="k3").value_clamp
    (-10.0, 10.0)
    """

    framework: str
    setting: str
    estimator: str
    placement: str
    log_ratio_clamp: tuple | None
    value_clamp: tuple | None
    is_weight: str
    is_level: str
    source: str
    note: str = ""
    credit: str = "return_to_go"


_VERL_CORE = f"verl/trainer/ppo/core_algos.py (kl_penalty, kl_penalty_forward) @ {VERL_COMMIT[:8]}"
_VERL_NAMES = {"kl": "k1", "k1": "k1", "abs": "abs", "mse": "k2", "k2": "k2", "low_var_kl": "k3", "k3": "k3"}
_PLUS_NOTE = ("the '+' suffix is documented (docs/algo/ppo.md: straight-through to k2's gradient), but at this "
              "commit kl_penalty passes the suffixed name to kl_penalty_forward, which raises NotImplementedError; "
              "this preset is what kl_penalty's own code computes once the forward value is found")


def _verl(use_kl_loss=False, kl_loss_type="low_var_kl", use_kl_in_reward=False, kl_penalty="kl"):
    """verl: ``actor.use_kl_loss`` + ``actor.kl_loss_type`` (default ``"low_var_kl"``, verl/workers/config/actor.py)
    or ``algorithm.use_kl_in_reward`` + ``algorithm.kl_penalty`` (default ``"kl"``, verl/trainer/config/algorithm.py);
    both flags default to False."""
    if bool(use_kl_loss) == bool(use_kl_in_reward):
        raise ValueError("give exactly one of use_kl_loss=True and use_kl_in_reward=True (verl adds both terms when "
                         "both are on, each with its own coefficient, kl_loss_coef and kl_ctrl.kl_coef: evaluate "
                         "them one at a time and weight them)")
    name, key = (kl_loss_type, "kl_loss_type") if use_kl_loss else (kl_penalty, "kl_penalty")
    known = sorted(_VERL_NAMES) + sorted(n + "+" for n in _VERL_NAMES)
    if not isinstance(name, str) or name not in known:
        raise ValueError(f"{key} must be one of {known} (verl's names; 'full' raises NotImplementedError in verl), "
                         f"got {name!r}")
    plus = name.endswith("+")
    est = _VERL_NAMES[name.rstrip("+")]
    clamps = ((-20.0, 20.0), (-10.0, 10.0)) if est == "k3" else (None, None)
    setting = f"use_kl_loss=True, kl_loss_type={name!r}" if use_kl_loss else \
        f"use_kl_in_reward=True, kl_penalty={name!r}"
    if use_kl_loss:
        placement = "straight_through" if plus and est != "k2" else "loss"
        where = f"verl/workers/actor/dp_actor.py (update_policy) and {_VERL_CORE}"
        note = _PLUS_NOTE if plus else ""
    else:
        placement = "reward"
        where = f"verl/trainer/ppo/ray_trainer.py (apply_kl_penalty: from old_log_probs) and {_VERL_CORE}"
        note = ("in the reward the value is detached, so '+' changes nothing; " + _PLUS_NOTE) if plus else ""
    return Preset("verl", setting, est, placement, *clamps, "none", "token", where, note)


def _trl(trainer=None, use_bias_correction_kl=False, importance_sampling_level="token", kl_estimator="k1"):
    """TRL: GRPOTrainer (k3 in the loss; ``use_bias_correction_kl`` multiplies it by the importance ratio,
    ``importance_sampling_level`` sets that ratio's level), experimental PPOTrainer (``kl_estimator`` in the
    reward, default ``"k1"``), RLOOTrainer (k1 of the old policy, summed over the sequence, in the reward)."""
    trainers = ("grpo", "ppo", "rloo")
    if trainer not in trainers:
        raise ValueError(f"trainer must be one of {list(trainers)} (TRL's GRPOTrainer, PPOTrainer, RLOOTrainer), "
                         f"got {trainer!r}")
    if trainer == "grpo":
        if not isinstance(use_bias_correction_kl, bool):
            raise TypeError(f"use_bias_correction_kl must be a bool, got {use_bias_correction_kl!r}")
        if importance_sampling_level not in ("token", "sequence"):
            raise ValueError("importance_sampling_level must be 'token' or 'sequence' (TRL GRPOConfig), got "
                             f"{importance_sampling_level!r}")
        setting = f"trainer='grpo', use_bias_correction_kl={use_bias_correction_kl}" + (
            f", importance_sampling_level={importance_sampling_level!r}" if use_bias_correction_kl else "")
        return Preset("trl", setting, "k3", "loss", None, None,
                      "differentiable" if use_bias_correction_kl else "none", importance_sampling_level,
                      f"trl/trainer/grpo_trainer.py (_compute_loss: per_token_kl) @ {TRL_COMMIT[:8]}",
                      "beta defaults to 0.0 (no KL term) in GRPOConfig; use_bias_correction_kl defaults to False at "
                      "this commit (PR #6503, merged later, makes it True)")
    if trainer == "ppo":
        if kl_estimator not in ("k1", "k3"):
            raise ValueError(f"kl_estimator must be 'k1' or 'k3' (TRL PPOConfig), got {kl_estimator!r}")
        return Preset("trl", f"trainer='ppo', kl_estimator={kl_estimator!r}", kl_estimator, "reward", None, None,
                      "none", "token", f"trl/experimental/ppo/ppo_trainer.py (train: non_score_reward) @ "
                      f"{TRL_COMMIT[:8]}", "advantages are whitened afterwards (a positive batch rescaling)")
    return Preset("trl", "trainer='rloo'", "k1", "reward", None, None, "none", "token",
                  f"trl/trainer/rloo_trainer.py (_generate_and_score_completions: per_token_kl) @ {TRL_COMMIT[:8]}",
                  "the k1 values of a sequence are summed into its reward, then group-normalised", "sequence")


def _openrlhf(use_kl_loss=False, kl_estimator="k1"):
    """OpenRLHF: ``--algo.kl.use_loss`` (``use_kl_loss`` before the config rename) and ``--algo.kl.estimator``
    (``kl_estimator``; default ``"k1"``, openrlhf/cli/train_ppo_ray.py); compute_approx_kl clamps every estimator's
    value to [-10, 10]."""
    if not isinstance(use_kl_loss, bool):
        raise TypeError(f"use_kl_loss must be a bool, got {use_kl_loss!r}")
    if kl_estimator not in ("k1", "k2", "k3"):
        raise ValueError(f"kl_estimator must be one of ['k1', 'k2', 'k3'] (OpenRLHF), got {kl_estimator!r}")
    where = ("openrlhf/models/utils.py (compute_approx_kl) and "
             + ("openrlhf/trainer/ray/ppo_actor.py (training_step)" if use_kl_loss else
                "openrlhf/trainer/ppo_utils/experience_maker.py and models/utils.py (compute_reward)")
             + f" @ {OPENRLHF_COMMIT[:8]}")
    return Preset("openrlhf", f"use_kl_loss={use_kl_loss}, kl_estimator={kl_estimator!r}", kl_estimator,
                  "loss" if use_kl_loss else "reward", None, (-10.0, 10.0), "none", "token", where)


_BUILDERS = {"trl": _trl, "verl": _verl, "openrlhf": _openrlhf}
_KNOWN = {"trl": ("trainer", "use_bias_correction_kl", "importance_sampling_level", "kl_estimator"),
          "verl": ("use_kl_loss", "kl_loss_type", "use_kl_in_reward", "kl_penalty"),
          "openrlhf": ("use_kl_loss", "kl_estimator")}


def preset(framework: str, **settings) -> Preset:
    r"""The :class:`Preset` of one framework setting: what its code computes per token, read from the file and
    commit it names.

    A preset's KL term per token is :math:`v(\ell)` (its estimator after its clamps, :math:`\ell = \log\pi -
    \log\pi_{\rm ref}`) in the loss, in the reward, or straight-through; see
    :func:`alignsim.frameworks.expected_gradient` for the gradient each placement produces.

    Parameters
    ----------
    framework : {"trl", "verl", "openrlhf"}
        The framework.
    **settings
        As spelled in its config. TRL: ``trainer`` (``"grpo"``, ``"ppo"``, ``"rloo"``; required),
        ``use_bias_correction_kl`` (GRPOConfig, default False), ``importance_sampling_level`` (``"token"``,
        ``"sequence"``), ``kl_estimator`` (PPOConfig, ``"k1"`` default or ``"k3"``). verl: exactly one of
        ``use_kl_loss=True`` (with ``kl_loss_type``, default ``"low_var_kl"``) and ``use_kl_in_reward=True`` (with
        ``kl_penalty``, default ``"kl"``); names ``kl``/``k1``, ``abs``, ``mse``/``k2``, ``low_var_kl``/``k3``, each
        optionally with verl's ``+`` suffix. OpenRLHF: ``use_kl_loss`` (``--algo.kl.use_loss``, default False),
        ``kl_estimator`` (``--algo.kl.estimator``, default ``"k1"``).

    Returns
    -------
    Preset

    References
    ----------
    .. [1] TRL f2cd5771, verl b178a3cd, OpenRLHF 3c3be623 (the files each preset's ``source`` names).

    Examples
    --------
    >>> from alignsim.frameworks import preset
    >>> pr = preset("verl", use_kl_loss=True, kl_loss_type="low_var_kl")
    >>> pr.estimator, pr.placement, pr.log_ratio_clamp, pr.value_clamp
    ('k3', 'loss', (-20.0, 20.0), (-10.0, 10.0))
    """
    if not isinstance(framework, str):
        raise TypeError(f"framework must be a name, one of {list(FRAMEWORKS)}, or a Preset; got {framework!r}")
    if framework not in _BUILDERS:
        raise ValueError(f"framework must be one of {list(FRAMEWORKS)}, got {framework!r}")
    unknown = sorted(set(settings) - set(_KNOWN[framework]))
    if unknown:
        raise ValueError(f"unknown {framework} setting(s) {unknown}; the known ones are {list(_KNOWN[framework])}")
    return _BUILDERS[framework](**settings)


def all_presets() -> list[Preset]:
    r"""Every distinct preset the module knows, in a fixed order (the rows of :func:`alignsim.frameworks.table`).

    Each is a per-token KL term :math:`v(\ell)` placed in the loss, the reward or straight-through, as in
    :func:`preset`.

    Returns
    -------
    list of Preset

    References
    ----------
    .. [1] TRL f2cd5771, verl b178a3cd, OpenRLHF 3c3be623.

    Examples
    --------
    >>> from alignsim.frameworks import all_presets
    >>> sorted({p.framework for p in all_presets()})
    ['openrlhf', 'trl', 'verl']
    """
    out = [_trl("grpo"), _trl("grpo", True, "token"), _trl("grpo", True, "sequence"), _trl("ppo", kl_estimator="k1"),
           _trl("ppo", kl_estimator="k3"), _trl("rloo")]
    for name in ("kl", "abs", "mse", "low_var_kl", "kl+", "low_var_kl+"):
        out.append(_verl(use_kl_loss=True, kl_loss_type=name))
    for name in ("kl", "abs", "mse", "low_var_kl"):
        out.append(_verl(use_kl_in_reward=True, kl_penalty=name))
    for use in (True, False):
        for est in ("k1", "k2", "k3"):
            out.append(_openrlhf(use, est))
    return out
