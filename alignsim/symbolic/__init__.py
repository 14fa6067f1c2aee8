r"""Closed forms you can read: the package's formulas derived from their definitions with sympy.

Each function builds its quantity from the definition (sums over outcomes, derivatives of a log-partition function,
a Legendre transform, an integral, a stop-gradient as a second set of symbols) and returns a sympy expression
(``sympy.latex`` prints it; :func:`numeric` or ``float(expr.subs(...))`` evaluates it). ``alignsim verify --only
symbolic`` checks every expression against the package's numeric function at random points.

====================================  ================================================================================
function                              what it derives
====================================  ================================================================================
:func:`log_partition`, :func:`tilt`   the exponential tilt and its log-partition, symbolic or numeric law
:func:`tilt_mean`, :func:`tilt_kl`    its mean reward (:math:`-\beta^2A'`) and KL to the reference
:func:`dual`                          the dual of the KL-constrained problem and its stationarity condition
:func:`two_outcome_tilt`              the two-outcome case in full, beta as a function of the tilted success
:func:`bon_law`, :func:`won_law`      best- and worst-of-N laws with ties for a symbolic N
:func:`bon_kl`, :func:`bon_win_rate`  their KL and win rate
:func:`bon_kl_uniform_limit`          log N - (N - 1)/N as the number of distinct outcomes grows
:func:`bernoulli_rate_function`       Cramér's rate function by a symbolic Legendre transform
:func:`rate_function_parametric`      the categorical rate function as a curve in the slope
:func:`reward_cumulants`              cumulants of the per-token reward
:func:`estimator_moments`             means and variances of k1, k2, k3
:func:`gradient_row`                  a row of the estimators' gradient table in the logits
:func:`grpo_binary_factor`            GRPO's binary advantage factor as a finite sum in p
:func:`pn_coefficients`               the p-n risk coefficients c1, c2 of Bernoulli and Poisson models
:func:`numeric`                       an expression's value at numbers, by lambdify
====================================  ================================================================================

Sizes: laws of 2 to 8 outcomes, gradient rows of 2 to 4, groups up to 64, cumulants to order 6; beyond them a
ValueError says so (sympy would take long).
"""

from ._bon import N, bon_kl, bon_kl_uniform_limit, bon_law, bon_win_rate, won_law
from ._core import numeric
from ._estimators import estimator_moments, gradient_row
from ._grpo import grpo_binary_factor
from ._pn import pn_coefficients
from ._rate import LAM, bernoulli_rate_function, rate_function_parametric, reward_cumulants
from ._tilt import BETA, DELTA, dual, log_partition, tilt, tilt_kl, tilt_mean, two_outcome_tilt

__all__ = ["BETA", "DELTA", "N", "LAM", "log_partition", "tilt", "tilt_mean", "tilt_kl", "dual", "two_outcome_tilt",
           "bon_law", "won_law", "bon_kl", "bon_win_rate", "bon_kl_uniform_limit", "bernoulli_rate_function",
           "rate_function_parametric", "reward_cumulants", "estimator_moments", "gradient_row", "grpo_binary_factor",
           "pn_coefficients", "numeric"]
