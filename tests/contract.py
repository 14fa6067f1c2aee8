"""The contract every public callable keeps, and the catalogue of inputs that tries it.

:func:`public_callables` walks the public modules' ``__all__`` (and the public methods of the classes they export),
so a new function is covered as soon as it is exported. Each callable gets a valid *baseline* call, built from its
parameter names (:data:`BASE`) with a few per-callable :data:`OVERRIDES`; :func:`probe` then replaces one argument
at a time by each input of that argument's kind (:data:`CASES`) and judges the outcome with :func:`judge`:

* an *invalid* input must raise ``ValueError`` or ``TypeError`` whose message names the argument;
* an *extreme* but valid input must return a finite result, or raise ``ValueError``/``TypeError`` naming the
  argument (a value outside the representable range, a size over the stated cap);
* a NaN or inf in a result is a failure unless :data:`NONFINITE` lists it with the docstring that documents it;
* no argument may be mutated, and no call may take longer than its time budget.
"""

from __future__ import annotations

import copy
import dataclasses
import faulthandler
import importlib
import inspect
import math
import re
import signal
import threading
import time
import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd

#: The public modules whose ``__all__`` the contract covers: the theory floor and the Monte-Carlo machine. The
#: figure and check machines are called with their own arguments by ``tests/test_figures.py`` and
#: ``tests/checks``; ``cli`` is covered by ``tests/test_cli.py``.
MODULES = ("alignsim", "alignsim.divergences", "alignsim.tilting", "alignsim.winrate", "alignsim.bon",
           "alignsim.models", "alignsim.markov", "alignsim.asymptotics", "alignsim.generators", "alignsim.estimators",
           "alignsim.dynamics", "alignsim.infalign", "alignsim.judge", "alignsim.pn", "alignsim.regularisers",
           "alignsim.distill", "alignsim.rlvr", "alignsim.frameworks", "alignsim.symbolic", "alignsim.mc")
#: Public modules the contract does not probe: machines that run or draw the theory objects above.
NOT_PROBED = ("alignsim.checks", "alignsim.figures", "alignsim.verify", "alignsim.cli")

#: Result containers: returned by the library, not built by users; their methods are covered through
#: :data:`INSTANCES`.
RESULT_TYPES = {"BestOfK", "DeterministicEquivalent", "OptimalTransform", "CTRLPolicy", "FOptimum", "GoodhartToy",
                "DPOSolutionSet", "Transform", "Generator", "KDRLOptimum", "Fit", "OnPolicyFixedPoint",
                "Preset"}

#: Seconds a call may take (after a warm-up call has compiled its kernels); the heavy solvers get more.
BUDGET = 10.0
HEAVY = {"infalign.frontier_table": 120.0, "infalign.optimal_frontier": 60.0, "infalign.best_t": 30.0,
         "infalign.optimal_transform": 30.0, "infalign.UniformCTRL": 30.0, "mc.simulate_judge": 30.0}
#: A hang is reported (and the run stopped with a traceback) after this many seconds.
WATCHDOG = 600.0

P3 = [0.2, 0.3, 0.5]
R3 = [0.0, 0.5, 1.0]

#: Valid baseline value of a parameter, by name.
BASE: dict[str, Any] = {
    "ref": P3, "pi": [0.3, 0.3, 0.4], "p": P3, "q": [0.3, 0.3, 0.4], "psi": [0.3, 0.3, 0.4], "probs": P3,
    "pi0": [0.3, 0.3, 0.4], "other": [0.3, 0.3, 0.4], "behaviour": None, "p_token": 0.3,
    "r": R3, "rewards": R3, "reference_rewards": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], "proxy": R3, "gold": R3,
    "theta": [0.1, -0.2, 0.3], "theta0": [0.1, -0.2, 0.3], "theta_old": [0.0, 0.0, 0.0],
    "beta": 1.0, "eta": 0.1, "delta": 0.1, "deltas": [0.05, 0.1], "kl": 0.2, "alpha": 0.5, "eps": 0.1,
    "N": 4, "k": 4, "G": 4, "steps": 3, "n_runs": 4, "size": 64, "length": 3, "order": 4, "n": 8,
    "T": 0.5, "mu": 0.5, "rho": 0.5, "s": 1.0, "lam": 0.5, "t": 0.5, "x": 0.7, "c": 0.5, "w": 0.5,
    "threshold": 0.5, "tau": 0.5, "sigma2": 1.0, "prior_var": 1.0, "S2": 1.0, "tau2": 1.0, "d": 2.0,
    "a": 0.3, "b": 0.4, "m": 2, "lengths": [2, 4], "ddof": 1,
    "tol": 1e-10, "rtol": 1e-9, "max_iter": 2000, "intervals": 1024, "k_max": 64, "n_test": 8, "n_trials": 4,
    "n_honest": 10, "rng": 1, "progress": False, "levels": False, "worst": False, "log": False,
    "strict": False, "excess": False, "return_logits": False, "with_gradients": False,
}

#: Kind of a parameter, by name; parameters without a kind keep their baseline only.
KIND: dict[str, str] = {}
for _names, _kind in [
    ("ref pi p q psi probs pi0 other initial", "prob"),
    ("r rewards reference_rewards proxy gold", "reward"),
    ("theta theta0 theta_old", "logits"),
    ("beta eta s sigma2 prior_var S2 tau2 tau", "positive"),
    ("delta kl T eps", "nonnegative"),
    ("alpha", "positive"),
    ("mu lam t x c threshold", "real"),
    ("N k", "count"),
    ("G steps n_runs length order n m n_test n_trials max_iter intervals k_max n_honest ddof", "integer"),
    ("size", "size"),
    ("tol rtol", "tolerance"),
    ("kind placement divergence ties procedure against baseline level is_weight bound direction rule method de "
     "on kl_kind kl_placement", "choice"),
    ("levels worst log strict excess return_logits with_gradients", "flag"),
    ("rng", "rng"),
]:
    for _n in _names.split():
        KIND[_n] = _kind

def _square(x):
    """A sweep's baseline function (module-level: the process backend pickles it)."""
    return x * x


class Lazy:
    """A baseline value built when the call is made (an instance, a transform)."""

    def __init__(self, make: Callable[[], Any]):
        self.make = make

    def __call__(self):
        return self.make()


#: Per-callable baseline overrides (keyword -> value) and kind overrides (keyword -> kind or None).
def _lm():
    import alignsim as a

    return a.MemorylessLM([0.3, 0.3, 0.4], R3, 3)


def _exp1():
    from alignsim import infalign

    return infalign.exp_transform(1.0)


def _family():
    from alignsim import pn

    return pn.FiniteExpFamily([[0.0], [0.5], [1.0]])


def _reward_plus_length(r, n):
    """A function of a sequence's reward and length, for MarkovLM.expected_gradient."""
    return r + n


def _g():
    return [0.25, 0.35, 0.4]


_P2 = [[0.5, 0.7, 0.4], [0.3, 0.5, 0.6], [0.6, 0.4, 0.5]]
_T3 = [[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]]
OVERRIDES: dict[str, dict[str, Any]] = {
    "models.MemorylessLM.kl": {"other": Lazy(_lm)}, "models.MemorylessLM.win_rate": {"other": Lazy(_lm)},
    "judge.JudgeModel.with_judge": {"parameter": 0.5}, "judge.JudgeModel.error_vs_data": {"n_grid": [4.0, 8.0]},
    "infalign.ctrl_policy": {"transform": Lazy(_exp1)}, "infalign.UniformCTRL": {"transform": Lazy(_exp1), "beta": 1.0, "intervals": 1024},
    "infalign.ctrl_beta_for_kl": {"transform": Lazy(_exp1), "ref": P3, "r": R3}, "infalign.smoothed": {"transform": Lazy(_exp1)},
    "infalign.calibration_moments": {"transform": None},
    "infalign.Transform.scaled": {"u": np.array([0.25, 0.5, 0.75]), "log_lam": 0.0},
    "infalign.Transform.on": {"u": np.array([0.25, 0.5, 0.75])},
    "infalign.best_t": {"procedure": "bon", "intervals": 1024},
    "infalign.optimal_frontier": {"procedure": "bon", "betas": [1.0], "intervals": 1024},
    "infalign.optimal_transform": {"procedure": "bon", "beta": 1.0, "intervals": 1024, "ref": P3, "r": R3},
    "infalign.frontier_table": {"rows": (("bon", 2, 0.1), ("won", 2, 0.1)), "intervals": 1024},
    "infalign.quantile": {"ppf": Lazy(lambda: __import__("scipy.stats").stats.norm.ppf)},
    "generators.generator": {"name": "reverse_kl"},
    "estimators.kl_estimator": {"logp": [-1.0, -0.5], "logp_ref": [-0.8, -0.9]},
    "dynamics.pg_flow": {"t_eval": [0.0, 0.5, 1.0]},
    "dynamics.grpo_binary_factor": {"p": 0.3}, "dynamics.entropy_change": {"delta": [0.1, 0.0, -0.1]},
    "dynamics.shared_policy_pass_at_k": {"correct_sets": [[0], [1, 2]]},
    "dynamics.fit_entropy_reward_law": {"H": [1.0, 0.8, 0.6, 0.4], "R": [0.1, 0.3, 0.45, 0.6]},
    "judge.exact_predictive": {"X": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "y": [0.5, -0.2, 0.4],
                               "x": [1.0, 0.5]},
    "pn.FiniteExpFamily": {"T": [[0.0], [0.5], [1.0]]},
    "pn.FiniteExpFamily.log_partition": {"theta": [0.3]}, "pn.FiniteExpFamily.logprobs": {"theta": [0.3]},
    "pn.FiniteExpFamily.probs": {"theta": [0.3]}, "pn.FiniteExpFamily.mean": {"theta": [0.3]},
    "pn.FiniteExpFamily.cumulants": {"theta": [0.3]},
    "pn.FiniteExpFamily.kl": {"theta_a": [0.3], "theta_b": [-0.2]},
    "pn.FiniteExpFamily.interior": {"eta": [0.4]}, "pn.FiniteExpFamily.solve": {"eta": [0.4]},
    "pn.info_projection": {"family": Lazy(_family), "g": _g()},
    "pn.mle": {"family": Lazy(_family), "counts": [3, 2, 4]},
    "pn.risk_coefficients": {"family": Lazy(_family), "g": _g()},
    "pn.risk_coefficients_1d": {"k_model": [2.0, 2.0, 2.0, 2.0, 2.0], "k_truth": [2.0, 2.0, 2.0]},
    "pn.risk_expansion": {"n": 10, "c1": 0.5}, "pn.exact_risk": {"family": Lazy(_family), "g": _g(), "n": 8},
    "pn.pn_criterion": {"n": 100, "eps": 0.1, "c1": 0.5},
    "pn.estimate_coefficients": {"samples": [0, 1, 2, 2, 1, 0, 2, 2], "family": Lazy(_family)},
    "regularisers.f_beta_for": {"divergence": "reverse_kl", "target": 0.1},
    "regularisers.binary_success": {"p0": 0.3}, "regularisers.hard_prompt_limit": {},
    "regularisers.mixture_pass_at_k": {"p0s": [0.1, 0.5], "divergence": "reverse_kl", "ks": [1, 4]},
    "regularisers.match_pass1": {"p0s": [0.1, 0.5], "target": 0.5, "divergence": "reverse_kl"},
    "regularisers.single_token_reward": {"p_token": 0.3, "r": 1.0},
    "regularisers.nash_kl": {"P": _P2, "steps": 200}, "regularisers.nash_gap": {"P": _P2, "pi": [0.3, 0.3, 0.4]},
    "regularisers.ensemble_reward": {"members": [R3, [0.1, 0.4, 0.9]]},
    "regularisers.geometric_mixture": {"other": [0.3, 0.3, 0.4]},
    "regularisers.dpo_solution_set": {"comparisons": [(0, 1, 3), (1, 0, 1)]},
    "regularisers.DPOSolutionSet.online_rlhf": {"extension": 0.5},
    "regularisers.gold_path": {"grid": [0.5, 1.0, 2.0]},
    "mc.simulate_rewards": {"lm": Lazy(_lm)}, "mc.naive_bon_rewards": {"lm": Lazy(_lm)},
    "mc.sample_bon_rewards": {"lm": Lazy(_lm)},
    "mc.simulate_markov": {"lm": Lazy(lambda: __import__("alignsim").MarkovLM(P3, _T3, R3, 5, eos=2))},
    "mc.simulate_judge": {"model": Lazy(lambda: __import__("alignsim").JudgeModel(2.0, 8.0, 1.0, 1.0)),
                          "n_test": 8, "n_trials": 4},
    "mc.simulate_pg": {"N": 2},
    "markov.MarkovLM": {"initial": P3, "transition": _T3},
    "markov.MarkovLM.kl": {"other": Lazy(lambda: __import__("alignsim").MarkovLM([0.3, 0.3, 0.4], _T3, R3, 3, eos=2))},
    "markov.MarkovLM.log_prob": {"sequence": [0, 1, 2]},
    "markov.MarkovLM.win_rate": {"other": Lazy(_lm)},
    "markov.MarkovLM.renyi_divergence": {"other": Lazy(lambda: __import__("alignsim").MarkovLM(
        [0.3, 0.3, 0.4], _T3, R3, 3, eos=2))}, "models.Bandit.win_rate": {"other": Lazy(_lm)},
    "markov.MarkovLM.from_memoryless": {"length": 3},
    "asymptotics.markov_scgf": {"transition": _T3}, "asymptotics.markov_rate_function": {"transition": _T3},
    "asymptotics.markov_bon_vs_rl": {"initial": P3, "transition": _T3},
    "distill.divergence": {"student": P3, "teacher": [0.3, 0.3, 0.4], "kind": "gkd_jsd"},
    "distill.kdrl_optimum": {"teacher": [0.3, 0.3, 0.4], "beta_ref": 0.5, "beta_teacher": 0.5},
    "rlvr.observed_success": {"p": 0.3}, "rlvr.zero_advantage_fraction": {"p": 0.3, "G": 4},
    "rlvr.group_update_moments": {"p": 0.3, "G": 4}, "rlvr.difficulty_weight": {"p": 0.3, "G": 4},
    "rlvr.optimal_group_size": {"p": 0.3, "budget": 16},
    "rlvr.pass_at_k_estimator_moments": {"p": 0.3, "n": 10, "k": 3},
    "rlvr.aggregate": {"loss_mat": [[1.0, 2.0], [3.0, 0.0]], "mask": [[1, 1], [1, 0]]},
    "rlvr.pass_at_k_advantages": {"c": 2, "G": 5, "k": 2},
    "rlvr.prompt_set_trajectory": {"logits": [0.5, 0.0, -0.5], "correct_sets": [[0], [1]], "steps": 5},
    "rlvr.aggregated_update": {"logits": [0.5, 0.0, -0.5], "rewards": [1.0, 0.0, 0.0], "lengths": [2, 3, 5], "G": 4},
    "rlvr.success_probability": {"lm": Lazy(lambda: __import__("alignsim").MarkovLM(P3, _T3, R3, 3, eos=2)),
                                 "correct": [1.0, 1.5]},
    "rlvr.sequence_update": {"lm": Lazy(lambda: __import__("alignsim").MarkovLM(P3, _T3, R3, 3, eos=2)),
                             "correct": [1.0, 1.5], "G": 4},
    "rlvr.sequence_length_drift": {"lm": Lazy(lambda: __import__("alignsim").MarkovLM(P3, _T3, R3, 3, eos=2)),
                                   "correct": [1.0, 1.5], "G": 4},
    "markov.MarkovLM.expected_gradient": {"h": _reward_plus_length},
    "rlvr.PromptSet": {"p": [0.1, 0.5, 0.9], "weights": None},
    "rlvr.PromptSet.from_beta": {"a": 2.0, "b": 3.0, "n": 8},
    "rlvr.PromptSet.from_lms": {"lms": Lazy(lambda: [__import__("alignsim").MemorylessLM(P3, R3, 3)]),
                                "correct": [1.0]},
    "rlvr.covariance_scores": {"logits": [0.5, 0.0, -0.5], "advantages": [1.0, 0.0, -1.0]},
    "rlvr.clip_cov_update": {"logits": [0.5, 0.0, -0.5], "advantages": [1.0, 0.0, -1.0], "clip_cov_lb": 0.0},
    "rlvr.kl_cov_update": {"logits": [0.5, 0.0, -0.5], "old_logits": [0.4, 0.1, -0.5],
                           "advantages": [1.0, 0.0, -1.0], "kl_cov_ratio": 0.2},
    "rlvr.length_drift": {"logits": [0.5, 0.0, -0.5], "rewards": [1.0, 0.0, 0.0], "lengths": [2, 3, 5], "G": 4},
    "distill.kdrl_frontier": {"teacher": [0.3, 0.3, 0.4], "beta_ref": 0.5, "beta_teachers": [0.1, 1.0]},
    "distill.grpo_kd_update": {"student_logits": [0.5, 0.0, -0.5], "teacher": [0.3, 0.3, 0.4], "G": 4,
                               "kd_coef": 0.5},
    "distill.expected_gradient": {"student_logits": [0.5, 0.0, -0.5], "teacher": [0.3, 0.3, 0.4], "loss": "gkd_jsd"},
    "distill.gradient_variance": {"student_logits": [0.5, 0.0, -0.5], "teacher": [0.3, 0.3, 0.4], "loss": "k3_loss"},
    "distill.gradient_table": {"student_logits": [0.5, 0.0, -0.5], "teacher": [0.3, 0.3, 0.4]},
    "distill.fit": {"teacher": [0.3, 0.3, 0.4], "family": "gaussian", "kind": "reverse_kl"},
    "distill.gaussian_law": {"v": 5, "mean": 2.0, "scale": 1.0},
    "distill.sequence_divergence": {"student": Lazy(lambda: __import__("alignsim").MarkovLM(P3, _T3, R3, 4, eos=2)),
                                    "teacher": Lazy(lambda: __import__("alignsim").MarkovLM(
                                        [0.3, 0.3, 0.4], _T3, R3, 4, eos=2)), "kind": "js"},
    "distill.on_policy_fixed_point": {"teacher": Lazy(lambda: __import__("alignsim").MarkovLM(P3, _T3, R3, 5, eos=2)),
                                      "lam": 0.5},
    "distill.exposure_bias": {"teacher": Lazy(lambda: __import__("alignsim").MarkovLM(P3, _T3, R3, 5, eos=2)),
                              "lambdas": [0.0, 1.0]},
    "frameworks.expected_gradient": {"policy": [0.3, 0.3, 0.4], "framework": "openrlhf"},
    "frameworks.gradient_variance": {"policy": [0.3, 0.3, 0.4], "framework": "openrlhf"},
    "_sweep.sweep": {"func": Lazy(lambda: _square), "grid": {"x": [1.0, 2.0]}, "progress": False},
    "_sweep.point_seed": {"seed": 3, "params": {"x": 1.0}},
    "symbolic.gradient_row": {"kind": "k3", "placement": "loss"},
    "symbolic.numeric": {"expr": Lazy(lambda: __import__("alignsim.symbolic").symbolic.bernoulli_rate_function()),
                         "values": {"x": 0.5, "p": 0.3}},
    "frameworks.table": {"policy": [0.3, 0.3, 0.4]}, "frameworks.preset": {"framework": "openrlhf"},
    **{f"frameworks.{name}": {"policy": Lazy(lambda: __import__("alignsim").MarkovLM(P3, _T3, R3, 3)),
                              "ref": Lazy(lambda: __import__("alignsim").MarkovLM([0.3, 0.3, 0.4], _T3, R3, 3))}
       | ({"framework": "openrlhf"} if name != "sequence_table" else {})
       for name in ("sequence_gradient", "sequence_gradient_variance", "sequence_table")},
    "distill.token_occupancy": {"lm": Lazy(lambda: __import__("alignsim").MarkovLM(P3, _T3, R3, 5, eos=2))},
}
KIND_OVERRIDES: dict[str, dict[str, str | None]] = {
    "rlvr.observed_success": {"p": "unit"}, "rlvr.zero_advantage_fraction": {"p": "unit"},
    "rlvr.group_update_moments": {"p": "unit"}, "rlvr.difficulty_weight": {"p": "unit"},
    "rlvr.optimal_group_size": {"p": "unit"}, "rlvr.pass_at_k_estimator_moments": {"p": "unit"},
    "asymptotics.bon_vs_rl": {"N": "callable"}, "dynamics.grpo_binary_factor": {"p": "unit"},
    "regularisers.pass_at_k": {"p": "unit"}, "regularisers.binary_success": {"p0": None},
    "regularisers.single_token_reward": {"p_token": "unit", "r": "real"},
    "models.MemorylessLM.kl": {"other": None}, "models.MemorylessLM.win_rate": {"other": None},
    "judge.JudgeModel": {"n": "positive"}, "judge.JudgeModel.with_n": {"n": "positive"},
    "pn.risk_expansion": {"n": "positive"}, "pn.pn_criterion": {"n": "positive"},
    "estimators.gradient_table": {"theta_old": "logits"},
    "dynamics.entropy_change": {"order": "integer"}, "dynamics.pg_flow": {"t_eval": None},
    "pn.FiniteExpFamily.interior": {"eta": "logits"}, "pn.FiniteExpFamily.solve": {"eta": None},
    "markov.MarkovLM.kl": {"other": None}, "markov.MarkovLM.win_rate": {"other": None},
    "markov.MarkovLM.renyi_divergence": {"other": None},
    "models.Bandit.win_rate": {"other": None},
    "infalign.estimate_calibrated_reward": {"reference_rewards": "samples", "rewards": "samples"},
    "divergences.renyi_cross_entropy": {"alpha": "real"},
    "rlvr.PromptSet": {"p": "unit"}, "rlvr.success_probability": {"lm": None, "correct": None},
    "rlvr.PromptSet.from_lms": {"lms": None, "correct": None},
    "rlvr.sequence_update": {"lm": None, "correct": None},
    "rlvr.sequence_length_drift": {"lm": None, "correct": None},
    "markov.MarkovLM.expected_gradient": {"h": None},
    "rlvr.covariance_scores": {"logits": "logits", "advantages": "reward"},
    "rlvr.clip_cov_update": {"logits": "logits", "advantages": "reward"},
    "rlvr.kl_cov_update": {"logits": "logits", "old_logits": "logits", "advantages": "reward"},
    "frameworks.expected_gradient": {"policy": "prob", "framework": "choice"},
    "frameworks.gradient_variance": {"policy": "prob", "framework": "choice"},
    "frameworks.table": {"policy": "prob"}, "frameworks.preset": {"framework": "choice"},
    "frameworks.sequence_gradient": {"policy": None, "ref": None, "framework": "choice"},
    "frameworks.sequence_gradient_variance": {"policy": None, "ref": None, "framework": "choice"},
    "frameworks.sequence_table": {"policy": None, "ref": None},
}

#: Non-finite results that are documented: callable -> {"argument=case" (or "baseline", or "*" for a result that may
#: be infinite for any input): words of its docstring that say so}. ``test_contract.py`` checks that each docstring contains its words.
NONFINITE: dict[str, dict[str, str]] = {
    "divergences.kl": {"q=zero": "``inf`` if ``p`` is not absolutely continuous",
                       "q=point": "``inf`` if ``p`` is not absolutely continuous"},
    "divergences.cross_entropy": {"q=zero": "inf where p charges a zero of q", "q=point": "inf where p charges"},
    "divergences.f_divergence": {"q=zero": "``inf`` where ``p`` charges a zero of ``q``",
                                 "q=point": "``inf`` where ``p`` charges a zero of ``q``"},
    "divergences.renyi_cross_entropy": {"q=zero": "inf where psi charges a zero of q",
                                        "q=point": "inf where psi charges a zero of q"},
    "tilting.beta_for_kl": {"delta=zero": "``inf`` for ``delta == 0``"},
    "tilting.lambda_for_kl": {"delta=huge": "inf for a slack budget", "r=constant": "inf for a slack budget",
                              "ref=point": "inf for a slack budget"},
    "tilting.tradeoff_gap": {"ref=zero": "``inf`` if ``pi`` charges a zero of ``ref``"},
    "distill.exposure_bias": {"*": "whose ``lam`` is ``nan``"},
    "distill.gradient_table": {"*": "``nan`` where a gradient is zero"},
    "asymptotics.markov_rate_function": {"*": "``inf`` outside"},
    "frameworks.gradient_variance": {"*": "``inf`` when it exceeds the float range"},
    "frameworks.table": {"*": "``inf`` when it exceeds the float"},
    "asymptotics.rate_function": {"x=huge": "``inf`` outside the reward range",
                                  "x=minus_huge": "``inf`` outside the reward range",
                                  "r=subnormal": "``inf`` outside the reward range",
                                  "r=constant": "``inf`` outside the reward range",
                                  "ref=point": "``inf`` outside the reward range",
                                  "beta=subnormal": "where the rate exceeds the float range"},
    "bon.bon_kl_gap_bound": {"N=beyond_float": "exceeds the float range (the bound is",
                             "N=huge_float": "exceeds the float range (the bound is"},
    "bon.bon_win_rate_gap_bound": {"N=beyond_float": "``inf`` for ``N`` beyond the float range"},
    "estimators.estimator_moments": {"pi=tiny": "whose true value exceeds the float range",
                                     "pi=subnormal": "whose true value exceeds the float range"},
    "estimators.sequence_estimator_moments": {"pi=subnormal": "``var`` is ``inf`` where it exceeds"},
    "estimators.sample_gradient_coefficient": {"theta=span800": "``inf`` where it exceeds the float range"},
    "generators.generator": {"baseline": "slope_at_infinity"},
    "judge.JudgeModel.optimal_k": {"*": "``inf`` when more samples always help"},
    "judge.point_optimal_k": {"*": "``inf`` when the error still decreases at ``k_max``"},
    "judge.JudgeModel.data_equivalent": {"*": "``inf`` if unreachable"},
    "judge.point_optimal_judge": {"*": "``-inf`` (``+inf``) when the error decreases all the way"},
    "regularisers.f_frontier": {"*": "``inf`` where a KL is infinite"},
    "infalign.ctrl_policy": {"beta=inf": "its ``beta`` field is ``inf``"},
    "regularisers.kl_posterior_gap": {"ref=zero": "when ``pi`` leaves the support of ``ref``",
                                      "ref=point": "when ``pi`` leaves the support of ``ref``",
                                      "beta=subnormal": "right side ``-inf`` when it leaves the tilt's"},
    "regularisers.implicit_reward": {"pi=zero": "``-inf`` where ``pi`` is 0", "pi=point": "``-inf`` where ``pi`` is 0"},
    "regularisers.nash_gap": {"ref=zero": "``inf`` if ``pi`` charges a zero of ``ref``",
                              "ref=point": "``inf`` if ``pi`` charges a zero of ``ref``"},
    "regularisers.correlated_proxy_bound": {"ref=zero": "``-inf`` when ``pi`` leaves the support of ``ref``",
                                            "ref=point": "``-inf`` when ``pi`` leaves the support of ``ref``"},
}


class Hang(Exception):
    """Raised into a call that overran its time budget several times over (Python code only; compiled loops are
    caught by the :data:`WATCHDOG`)."""


def _interrupt(signum, frame):
    raise Hang


@dataclasses.dataclass(frozen=True)
class Case:
    label: str
    value: Any
    invalid: bool  # True: must raise; False: extreme but valid


_NAN, _INF = math.nan, math.inf


def _vec(base, how):
    return how(list(base))


CASES: dict[str, list[Case]] = {
    "prob": [
        Case("nan", [_NAN, 0.5, 0.5], True), Case("inf", [_INF, 0.5, 0.5], True),
        Case("negative", [-0.1, 0.6, 0.5], True), Case("unnormalised", [0.2, 0.2, 0.2], True),
        Case("complex", [0.2 + 0j, 0.3, 0.5], True), Case("bools", [True, False, False], True),
        Case("string", "abc", True), Case("none", None, True), Case("short", [0.5, 0.5], True),
        Case("empty", [], True), Case("matrix", [[0.2, 0.3, 0.5]], True),
        Case("zero", [0.0, 0.5, 0.5], False), Case("point", [1.0, 0.0, 0.0], False),
        Case("tiny", [1e-300, 0.5, 0.5 - 1e-300], False), Case("subnormal", [5e-324, 0.5, 0.5], False),
    ],
    "reward": [
        Case("nan", [_NAN, 0.5, 1.0], True), Case("inf", [0.0, _INF, 1.0], True),
        Case("complex", [0.0 + 1j, 0.5, 1.0], True), Case("bools", [True, False, True], True),
        Case("string", "abc", True), Case("none", None, True), Case("short", [0.0, 1.0], True),
        Case("empty", [], True),
        Case("constant", [1.0, 1.0, 1.0], False), Case("huge", [0.0, 1e300, -1e300], False),
        Case("large", [0.0, 1e150, 2e150], False), Case("subnormal", [0.0, 1e-320, 2e-320], False),
    ],
    "samples": [  # a sample of rewards: any length, independent of the other arguments
        Case("nan", [_NAN, 0.5, 1.0], True), Case("inf", [0.0, _INF, 1.0], True),
        Case("complex", [0.0 + 1j, 0.5, 1.0], True), Case("string", "abc", True), Case("none", None, True),
        Case("empty", [], True), Case("short", [0.0, 1.0], False), Case("huge", [0.0, 1e300, -1e300], False),
    ],
    "logits": [
        Case("nan", [_NAN, 0.5, 1.0], True), Case("inf", [0.0, _INF, 1.0], True),
        Case("complex", [0.0 + 1j, 0.5, 1.0], True), Case("string", "abc", True), Case("none", None, True),
        Case("short", [0.0, 1.0], True),
        Case("span800", [800.0, 0.0, -800.0], False), Case("span1e308", [1e308, 0.0, -1e308], False),
    ],
    "positive": [
        Case("negative", -1.0, True), Case("nan", _NAN, True), Case("complex", 1 + 1j, True),
        Case("string", "1", True), Case("bool", True, True), Case("none", None, True),
        Case("zero", 0.0, False), Case("inf", _INF, False), Case("subnormal", 1e-320, False),
        Case("tiny", 1e-300, False), Case("huge", 1e308, False), Case("integer", 2, False),
    ],
    "nonnegative": [
        Case("negative", -1.0, True), Case("nan", _NAN, True), Case("complex", 1 + 1j, True),
        Case("string", "1", True), Case("bool", True, True), Case("none", None, True),
        Case("zero", 0.0, False), Case("inf", _INF, False), Case("subnormal", 1e-320, False),
        Case("huge", 1e308, False),
    ],
    "real": [
        Case("nan", _NAN, True), Case("complex", 1 + 1j, True), Case("string", "1", True),
        Case("bool", True, True), Case("none", None, True),
        Case("inf", _INF, False), Case("minus_inf", -_INF, False), Case("huge", 1e308, False),
        Case("minus_huge", -1e308, False), Case("subnormal", 1e-320, False),
    ],
    "count": [
        Case("zero", 0, True), Case("negative", -1, True), Case("nan", _NAN, True), Case("string", "4", True),
        Case("bool", True, True), Case("none", None, True), Case("complex", 4 + 0j, True),
        Case("fraction", 2.5, False), Case("float", 4.0, False), Case("inf", _INF, False),
        Case("huge_float", 1e300, False), Case("beyond_float", 10 ** 400, False), Case("int64", 2 ** 63, False),
    ],
    "integer": [
        Case("negative", -1, True), Case("nan", _NAN, True), Case("fraction", 2.5, True),
        Case("string", "4", True), Case("bool", True, True), Case("none", None, True),
        Case("zero", 0, False), Case("float", 4.0, False), Case("inf", _INF, False),
        Case("huge", 10 ** 12, False), Case("int64", 2 ** 63, False), Case("huge_float", 1e300, False),
    ],
    "size": [
        Case("zero", 0, True), Case("negative", -1, True), Case("nan", _NAN, True), Case("fraction", 2.5, True),
        Case("string", "4", True), Case("bool", True, True), Case("none", None, True),
        Case("float", 64.0, False), Case("huge", 10 ** 12, False), Case("int64", 2 ** 63, False),
        Case("huge_float", 1e300, False),
    ],
    "tolerance": [
        Case("nan", _NAN, True), Case("negative", -1.0, True), Case("string", "1e-9", True),
        Case("none", None, True), Case("bool", True, True), Case("zero", 0.0, False),
    ],
    "choice": [
        Case("unknown", "no-such-choice", True), Case("number", 3, True), Case("list", ["k1"], True),
    ],
    "flag": [
        Case("string", "no", True), Case("number", 2, True),
    ],
    "unit": [
        Case("nan", _NAN, True), Case("negative", -0.1, True), Case("above", 1.5, True),
        Case("string", "0.5", True), Case("complex", 0.5 + 0j, True), Case("none", None, True),
        Case("zero", 0.0, False), Case("one", 1.0, False), Case("subnormal", 1e-320, False),
    ],
    "callable": [
        Case("number", 3, True), Case("string", "x", True),
    ],
    "rng": [
        Case("string", "seed", True), Case("negative", -1, True), Case("fraction", 1.5, True),
        Case("bool", True, True),
    ],
}

#: The cases the default run tries (all others run under ``-m slow``): one of each way a value can be wrong.
QUICK = {"nan", "negative", "above", "number", "complex", "string", "short", "unnormalised", "zero", "huge", "span800", "tiny",
         "beyond_float", "int64", "unknown", "fraction", "subnormal"}


def _defining_name(obj, module: str) -> str:
    mod = getattr(obj, "__module__", module) or module
    mod = mod.replace("alignsim.", "").replace("alignsim", "")
    top = mod.split(".")[0] if mod else ""
    return f"{top}.{obj.__name__}" if top else obj.__name__


def public_callables() -> dict[str, Callable]:
    """Every public function and class constructor of :data:`MODULES`, and the public methods of the exported
    classes (as ``Class.method`` bound to a baseline instance later), keyed by ``topic.name``."""
    found: dict[str, Callable] = {}
    seen: set[int] = set()
    for modname in MODULES:
        mod = importlib.import_module(modname)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if not callable(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            key = _defining_name(obj, modname)
            if inspect.isclass(obj):
                if obj.__name__ not in RESULT_TYPES:
                    found[key] = obj
                own = dict(vars(obj))
                for base in obj.__mro__[1:]:  # methods inherited from the package's private mixins
                    if base.__module__.startswith("alignsim._"):
                        own = {**vars(base), **own}
                for mname, member in own.items():
                    if mname.startswith("_"):
                        continue
                    if isinstance(member, (classmethod, staticmethod)):  # alternative constructors
                        found[f"{key}.{mname}"] = getattr(obj, mname)
                    elif inspect.isfunction(member):
                        found[f"{key}.{mname}"] = member
            else:
                found[key] = obj
    return found


def _instances() -> dict[str, Callable[[], Any]]:
    """A baseline instance of each class whose methods are probed."""
    import alignsim as a
    from alignsim import infalign, judge, pn, regularisers, rlvr

    return {
        "models.Bandit": lambda: a.Bandit(P3, R3),
        "models.MemorylessLM": lambda: a.MemorylessLM(P3, R3, 3),
        "markov.MarkovLM": lambda: a.MarkovLM(P3, _T3, R3, 3, eos=2),
        "judge.JudgeModel": lambda: a.JudgeModel(d=2.0, n=8.0, sigma2=1.0, prior_var=1.0),
        "pn.FiniteExpFamily": lambda: pn.FiniteExpFamily([[0.0], [0.5], [1.0]]),
        "infalign.UniformCTRL": lambda: infalign.UniformCTRL(infalign.exp_transform(1.0), 1.0, intervals=1024),
        "infalign.CTRLPolicy": lambda: a.ctrl_policy(P3, R3, infalign.exp_transform(1.0), 1.0),
        "infalign.Transform": lambda: infalign.exp_transform(1.0),
        "regularisers.DPOSolutionSet": lambda: regularisers.dpo_solution_set(P3, [(0, 1, 3), (1, 0, 1)], 0.5),
        "judge.BestOfK": lambda: judge.best_of_k_constant(0.5, 0.5, 1.0),
        "rlvr.PromptSet": lambda: rlvr.PromptSet([0.1, 0.5, 0.9], [0.25, 0.5, 0.25]),
    }


def _class_key(key: str) -> str:
    return key.rsplit(".", 1)[0]


def baseline(key: str, func: Callable) -> tuple[Callable, dict[str, Any], dict[str, inspect.Parameter]]:
    """The callable to call (a bound method for ``Class.method``), its valid baseline keywords and the parameters
    that may be probed."""
    target = func
    params = list(inspect.signature(func).parameters.values())
    if params and params[0].name == "self":
        instance = _instances()[_class_key(key)]()
        target = getattr(instance, func.__name__)
        params = params[1:]
    over = OVERRIDES.get(key, {})
    kwargs: dict[str, Any] = {}
    probed: dict[str, inspect.Parameter] = {}
    for prm in params:
        if prm.kind in (prm.VAR_POSITIONAL, prm.VAR_KEYWORD):
            continue
        if prm.name in over:
            value = over[prm.name]
            kwargs[prm.name] = value() if isinstance(value, Lazy) else value
        elif prm.default is inspect.Parameter.empty:
            if prm.name not in BASE:
                raise KeyError(f"{key}: no baseline value for required parameter {prm.name!r}; add it to "
                               f"tests/contract.py BASE or OVERRIDES")
            kwargs[prm.name] = BASE[prm.name]
        probed[prm.name] = prm
    return target, kwargs, probed


def kind_of(key: str, name: str) -> str | None:
    return KIND_OVERRIDES.get(key, {}).get(name, KIND.get(name))


def _copy(value):
    return copy.deepcopy(value) if isinstance(value, (list, np.ndarray)) else value


def _same(before, after) -> bool:
    if isinstance(after, np.ndarray):
        return before.dtype == after.dtype and before.shape == after.shape and bool(
            np.array_equal(before, after, equal_nan=after.dtype.kind in "fc"))
    return repr(before) == repr(after)  # lists: NaN == NaN in a repr


def _nonfinite(result, depth: int = 0) -> str | None:
    """'nan' or 'inf' if a number inside ``result`` is not finite."""
    if depth > 4 or result is None or isinstance(result, (str, bytes, bool, type)) or callable(result) and not (
            dataclasses.is_dataclass(result) or isinstance(result, np.ndarray)):
        return None
    if isinstance(result, pd.DataFrame):
        vals = result.select_dtypes(include=[np.number]).to_numpy(dtype=float)
        return _nonfinite(vals, depth + 1)
    if isinstance(result, (float, int, np.number)):
        v = complex(result)
        if math.isnan(v.real) or math.isnan(v.imag):
            return "nan"
        if math.isinf(v.real) or math.isinf(v.imag):
            return "inf"
        return None
    if isinstance(result, np.ndarray):
        if result.dtype.kind in "fc":
            if np.isnan(result).any():
                return "nan"
            if np.isinf(result).any():
                return "inf"
            return None
        if result.dtype.kind == "O":
            return next((x for x in (_nonfinite(v, depth + 1) for v in result.ravel()[:1000]) if x), None)
        return None
    if isinstance(result, dict):
        return next((x for x in (_nonfinite(v, depth + 1) for v in result.values()) if x), None)
    if isinstance(result, (list, tuple)):
        return next((x for x in (_nonfinite(v, depth + 1) for v in result) if x), None)
    if dataclasses.is_dataclass(result):
        return next((x for x in (_nonfinite(getattr(result, f.name), depth + 1)
                                 for f in dataclasses.fields(result)) if x), None)
    return None


def names_argument(message: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def call(target: Callable, kwargs: dict[str, Any], budget: float):
    """Run ``target(**kwargs)`` under a watchdog and return its :class:`Outcome`. The callable gets copies of the
    arguments (a defect that mutates one cannot corrupt the catalogue)."""
    before = {n: _copy(v) for n, v in kwargs.items()}
    kwargs = {n: _copy(v) for n, v in kwargs.items()}
    alarm = threading.current_thread() is threading.main_thread() and math.isfinite(budget)
    if alarm:
        previous = signal.signal(signal.SIGALRM, _interrupt)
        signal.setitimer(signal.ITIMER_REAL, 3 * budget)
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    start = time.perf_counter()
    result = exc = None
    caught = warnings.catch_warnings(record=True)
    try:
        log = caught.__enter__()
        warnings.simplefilter("always")
        result = target(**kwargs)
    except BaseException as e:  # noqa: BLE001 - every exception is judged
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        exc = e
    finally:
        caught.__exit__(None, None, None)
        faulthandler.cancel_dump_traceback_later()
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    seconds = time.perf_counter() - start
    mutated = [n for n, v in kwargs.items() if isinstance(v, (list, np.ndarray)) and not _same(before[n], v)]
    leaked = [str(w.message) for w in log if "encountered in" in str(w.message)]
    return Outcome(result, exc, seconds, mutated, leaked)


@dataclasses.dataclass
class Outcome:
    result: Any
    exc: BaseException | None
    seconds: float
    mutated: list
    leaked: list  # numpy floating-point warnings (overflow/invalid/divide "encountered in"): a sign of sloppy numerics


def judge(key: str, name: str | None, case: Case | None, outcome, budget: float) -> str | None:
    """The contract's verdict on one call: ``None`` if kept, otherwise what was broken."""
    result, exc, seconds, mutated = outcome.result, outcome.exc, outcome.seconds, outcome.mutated
    where = f"{key}({name}={case.label})" if case else f"{key}(baseline)"
    if mutated:
        return f"{where}: mutated {mutated}"
    if outcome.leaked:
        return f"{where}: leaked numpy's RuntimeWarning '{outcome.leaked[0]}'"
    if isinstance(exc, Hang) or seconds > budget:
        return f"{where}: took {seconds:.1f} s (budget {budget:g} s)"
    if exc is not None:
        kind = type(exc).__name__
        if type(exc) not in (ValueError, TypeError) and not (
                isinstance(exc, (ValueError, TypeError)) and type(exc).__module__.startswith("alignsim")):
            return f"{where}: raised {kind}: {exc}"
        if case is None:
            return f"{where}: the baseline call raised {kind}: {exc}"
        if not names_argument(str(exc), name):
            return f"{where}: {kind} does not name {name!r}: {exc}"
        return None
    if case is not None and case.invalid:
        return f"{where}: accepted an invalid value {case.value!r}"
    bad = _nonfinite(result)
    allowed = NONFINITE.get(key, {})
    if bad and "*" not in allowed and (f"{name}={case.label}" if case else "baseline") not in allowed:
        return f"{where}: returned {bad} (not documented for this input)"
    return None


def probe(key: str, func: Callable, *, quick: bool = True) -> list[str]:
    """All contract failures of one callable: its baseline, then each probed argument with each case of its
    kind (the :data:`QUICK` cases only when ``quick``)."""
    budget = HEAVY.get(key, BUDGET)
    target, kwargs, probed = baseline(key, func)
    call(target, dict(kwargs), 10 * budget)  # warm-up: compile kernels, fill caches
    failures = []
    verdict = judge(key, None, None, call(target, dict(kwargs), budget), budget)
    if verdict:
        return [verdict]
    vectors = sum(kind_of(key, n) in ("prob", "reward", "logits") for n in probed)
    for name, prm in probed.items():
        kind = kind_of(key, name)
        if kind is None:
            continue
        for case in CASES[kind]:
            if quick and case.label not in QUICK:
                continue
            if case.value is None and prm.default is None:
                continue
            if case.label == "short" and vectors < 2:  # a shorter vector is wrong only next to another one
                case = dataclasses.replace(case, invalid=False)
            trial = dict(kwargs)
            trial[name] = case.value
            verdict = judge(key, name, case, call(target, trial, budget), budget)
            if verdict:
                failures.append(verdict)
    return failures
