r"""The p-n criterion: how fast the MLE of an exponential family approaches the information projection.

For a finite exponential family :math:`f_\theta(x) = h(x)\exp\{\theta\cdot T(x)-\psi(\theta)\}` and a truth
:math:`g` (usually outside the family), the information projection :math:`\theta_*` matches moments,
:math:`E_{\theta_*}T = \mu_g`, and the estimation risk of the MLE from :math:`n` draws of :math:`g` is

.. math::

    R_n = E\,D[f_{\theta_*}\,|\,f_{\hat\theta}] = \frac{c_1}{n}+\frac{c_2}{n^2}+O(n^{-3}),\qquad
    c_1 = \tfrac12\mathrm{tr}(G^{-1}\Sigma_g),

with :math:`c_2` from the third and fourth cumulants of :math:`T`. The
criterion accepts :math:`(p, n)` when :math:`\hat R_n\le\tau(\varepsilon)=8\varepsilon^2`, which guarantees an
average Bayes error :math:`\ge\frac12-\varepsilon` between :math:`f_{\hat\theta}` and :math:`f_{\theta_*}` (Pinsker
and Jensen). The expansion and the exact identities are derived for this package and checked by exact enumeration; the
form of the decision rule is this package's reading of the paper; the threshold constant
:math:`8\varepsilon^2` matches the author's companion paper.

Pitfall handled throughout: in discrete settings the MLE fails to exist with positive probability (the sample
mean on the boundary of the convex support), and the unconditional risk is infinite; :func:`exact_risk` reports
the risk conditional on existence together with :math:`P(\text{exists})`.

References
----------
.. [1] Y. Sheena, "MLE convergence speed to information projection of exponential family: criterion for model
   dimension and sample size", Statistical Papers (2023), doi:10.1007/s00362-022-01309-9; arXiv:2105.08947.
.. [2] I. Csiszár, "I-divergence geometry of probability distributions and minimization problems", Ann. Probab. 3
   (1975).
"""

from ._family import FiniteExpFamily, info_projection, mle
from ._risk import MAX_OUTCOMES, ExactRisk, exact_risk, risk_coefficients, risk_coefficients_1d, risk_expansion
from ._criterion import estimate_coefficients, kl_threshold, pn_criterion, tilt_family

__all__ = [
    "FiniteExpFamily",
    "info_projection",
    "mle",
    "risk_coefficients",
    "risk_coefficients_1d",
    "risk_expansion",
    "exact_risk",
    "kl_threshold",
    "pn_criterion",
    "estimate_coefficients",
    "tilt_family",
]
