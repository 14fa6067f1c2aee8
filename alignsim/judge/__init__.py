r"""Inference-time scaling with an LLM judge: Bayesian linear regression with reward-weighted selection.

The analytically tractable model of Halder and Pehlevan: a Bayesian linear regression (prior
:math:`w\sim\mathcal N(0,\gamma^2I_d)`, noise :math:`\sigma^2`) is trained on ``n`` labels of a linear teacher
:math:`y_T=w_T\cdot x` (inputs :math:`x=g/\sqrt d`, :math:`g\sim\mathcal N(0,S^2I_d)`); at inference ``k`` samples
are drawn from the posterior predictive and one is selected by a softmax at temperature ``T`` over the judge reward
:math:`-(Y-y_R)^2` (``T = 0``: best-of-k). The error is measured against the **clean** teacher output.

Per test point everything depends on three numbers: the offset :math:`\mu=m(x)-y_T(x)`, the judge offset
:math:`\rho=y_R(x)-y_T(x)` and the predictive standard deviation ``s``; with :math:`U=Y-y_T\sim\mathcal N(\mu,s^2)`
the error is :math:`E_{k,T}=E[U_{\rm sel}^2]`. This module computes it exactly (:func:`point_error`: closed forms at
``k = 1`` and ``k = inf``, one-dimensional integrals otherwise, 1e-10 relative up to ``k = 1e6``), averages it over
test points in the proportional limit ``d, n -> inf`` with :math:`\alpha=d/n` fixed (:class:`JudgeModel`), and
answers the paper's questions: the :math:`1/k^2` law of best-of-k and where it breaks (:meth:`JudgeModel.best_of_k`),
the optimal number of samples, temperature and judge, and what inference compute is worth in training data.

Conventions:

* :math:`\alpha=d/n` is parameters per sample, as in the paper (not ``n/d``);
* the softmax weight is :math:`e^{-(Y-y_R)^2/T}` with ``T`` in absolute units (the authors' code quotes
  :math:`T/(2\sigma^2)`; the natural dimensionless temperature is :math:`T/(2s^2)`);
* the offset variance over test points is the **corrected** deterministic equivalent (derived for this package,
  see :meth:`JudgeModel.offset_law`): the authors' code uses :math:`\mu=-a_1y_T`, which drops the estimation noise
  and is right only for :math:`\alpha\to0`; ``de="paper"`` reproduces it.

The corrected deterministic equivalent, the exact per-point errors, the best-of-k asymptotics and the optimal k,
T and judge are derived for this package and checked in ``alignsim verify --only judge``.

References
----------
.. [1] I. Halder, C. Pehlevan, "Demystifying LLM-as-a-Judge: Analytically Tractable Model for Inference-Time
   Scaling", arXiv:2512.19905 (2025).
"""

from ._equivalent import DeterministicEquivalent, deterministic_equivalent, exact_predictive
from ._point import best_of_k_constant, high_temperature_error, point_error, point_optimal_judge, point_optimal_k, point_optimal_temperature
from ._model import BestOfK, JudgeModel

__all__ = [
    "DeterministicEquivalent",
    "deterministic_equivalent",
    "exact_predictive",
    "point_error",
    "high_temperature_error",
    "best_of_k_constant",
    "point_optimal_k",
    "point_optimal_temperature",
    "point_optimal_judge",
    "BestOfK",
    "JudgeModel",
]
