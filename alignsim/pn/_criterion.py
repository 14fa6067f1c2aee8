r"""The p-n criterion: the Bayes-error threshold, the decision rule, plug-in coefficients and the alignment tilt
family."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from .. import _validate as V
from ._family import FiniteExpFamily, _family, mle
from ._risk import risk_coefficients

# -------------------------------------------------------------------------------------------------- criterion
_BOUNDS = ("pinsker", "bretagnolle_huber", "gaussian_shift")


def kl_threshold(eps, bound: str = "pinsker") -> float:
    r"""Largest risk :math:`\tau(\varepsilon)` that guarantees an average Bayes error :math:`\ge\frac12-\varepsilon`.

    .. math::

        \text{pinsker: }\tau=8\varepsilon^2,\qquad \text{bretagnolle\_huber: }\tau=-\log(1-4\varepsilon^2),\qquad
        \text{gaussian\_shift (heuristic): }\tau=2\,[\Phi^{-1}(\tfrac12-\varepsilon)]^2 .

    Pinsker + Jensen: :math:`E\,\mathrm{TV}\le\sqrt{R_n/2}`, so :math:`R_n\le8\varepsilon^2` gives
    :math:`E\,P_e\ge\frac12-\varepsilon` (the constant of Sheena's companion paper, arXiv:2212.03397).

    Parameters
    ----------
    eps : float
        Tolerance on the excess of the Bayes error over chance, in (0, 1/2).
    bound : {"pinsker", "bretagnolle_huber", "gaussian_shift"}

    Returns
    -------
    float
        tau(eps) in nats.

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947 (Bayes-error calibration).

    Examples
    --------
    >>> from alignsim import pn
    >>> pn.kl_threshold(0.05)
    0.020000000000000004
    """
    e = V.real(eps, "eps", low=0.0, high=0.5, low_open=True, high_open=True)
    V.choice(bound, "bound", _BOUNDS)
    if bound == "pinsker":
        return 8 * e * e
    if bound == "bretagnolle_huber":
        return -math.log1p(-4 * e * e)

    return 2 * norm.ppf(0.5 - e) ** 2


def pn_criterion(n, eps, c1, c2: float = 0.0, *, bound: str = "pinsker") -> dict:
    r"""The p-n criterion: accept the model at sample size ``n`` when the estimated risk is below the threshold.

    .. math::

        \text{accept}\iff\hat R_n=\frac{c_1}{n}+\frac{c_2}{n^2}\le\tau(\varepsilon),\qquad
        n_{\rm req}=\Big\lceil\frac{c_1+\sqrt{c_1^2+4\tau c_2}}{2\tau}\Big\rceil,\qquad p_{\max}=\lfloor16\varepsilon^2n\rfloor.

    The first-order, well-specified form (:math:`c_1=p/2`, :math:`c_2=0`, Pinsker) is the "p-n" rule
    :math:`p\le16\varepsilon^2n`. **Reconstructed**: the paper's exact decision rule could
    not be read; the expansion it rests on is derived and verified, the threshold is Pinsker + Jensen.
    ``p_max`` is the largest dimension accepted to first order in a well-specified model at this ``n`` (with
    the chosen bound's :math:`\tau`: :math:`\lfloor2\tau n\rfloor`).

    Parameters
    ----------
    n : int
        Sample size, ``n >= 1``.
    eps : float
        Tolerance in (0, 1/2).
    c1, c2 : float
        Risk coefficients (:func:`risk_coefficients`, :func:`estimate_coefficients`, or ``p / 2`` and 0).
    bound : str
        Threshold calibration (:func:`kl_threshold`).

    Returns
    -------
    dict
        ``accept`` (bool), ``risk`` (:math:`\hat R_n`), ``threshold`` (:math:`\tau`), ``n_required`` (int, 1 when
        :math:`c_1^2+4\tau c_2<0`, flagged by ``expansion_trustworthy=False``), ``p_max`` (int),
        ``expansion_trustworthy`` (:math:`|c_2|/n\le0.1\,c_1`).

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, section 3.

    Examples
    --------
    >>> from alignsim import pn
    >>> out = pn.pn_criterion(1000, 0.02, c1=10 / 2)
    >>> out["accept"], out["n_required"], out["p_max"]
    (False, 1563, 6)
    """
    nn = V.length(n, "n")
    tau = kl_threshold(eps, bound)
    if tau == 0.0:
        raise ValueError(f"eps = {eps!r} is so small that the KL threshold underflows to 0: no sample size reaches it")
    a = V.real(c1, "c1", low=0.0)
    b = V.real(c2, "c2")
    risk = a / nn + b / nn / nn  # as floats: nn ** 2 of a huge integer n would not convert
    disc = a * a + 4 * tau * b
    n_req = max(1, math.ceil((a + math.sqrt(disc)) / (2 * tau) - 1e-9)) if disc >= 0 else 1
    return {"accept": bool(risk <= tau), "risk": risk, "threshold": tau, "n_required": n_req,
            "p_max": int(math.floor(2 * tau * nn + 1e-9)),
            "expansion_trustworthy": bool(disc >= 0 and abs(b) / nn <= 0.1 * a)}


def estimate_coefficients(samples, family, direction: str = "forward") -> tuple[float, float]:
    r"""Plug-in estimates :math:`(\hat c_1,\hat c_2)` from data: the empirical law of the samples as the truth
    (its covariance and third cumulant of :math:`T`) and the model cumulants at the MLE.

    .. math::

        \hat c_1=\tfrac12\mathrm{tr}\big(G(\hat\theta)^{-1}\hat\Sigma\big),\qquad \hat c_2 = c_2(\hat G,\hat\kappa_3,
        \hat\kappa_4,\hat\Sigma,\hat\kappa^g_3).

    Sample third cumulants make :math:`\hat c_2` the noisy part; report the decision with
    :math:`\hat c_1` alone as well.

    Parameters
    ----------
    samples : array_like of int
        Support indices of the observations.
    family : FiniteExpFamily
    direction : {"forward", "reverse", "sym"}

    Returns
    -------
    (c1_hat, c2_hat) : tuple of float
        The plug-in estimates.

    References
    ----------
    .. [1] Sheena, arXiv:2105.08947, section 3 (algorithm).

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim import pn
    >>> fam = pn.FiniteExpFamily([0, 1])
    >>> x = np.random.default_rng(0).integers(0, 2, 1000)
    >>> c1, c2 = pn.estimate_coefficients(x, fam)
    >>> round(c1, 12)
    0.5
    """
    fam = _family(family)
    idx = np.asarray(samples)
    K = fam.T.shape[0]
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= K:
        raise ValueError(f"samples must be a non-empty 1-D array of support indices in [0, {K})")
    emp = np.bincount(idx, minlength=K) / idx.size
    mle(fam, samples=idx)  # raises a clear error if the MLE does not exist
    return risk_coefficients(fam, emp, direction)


@V.renamed_keywords(p="ref")
def tilt_family(ref, r) -> FiniteExpFamily:
    r"""The KL-regularised alignment optimum as an exponential family:
    :math:`\pi_\lambda(y)\propto p(y)e^{\lambda r(y)}`, base measure :math:`h=p`, statistic :math:`T=r`.

    Fitting :math:`\lambda` by maximum likelihood from :math:`n` samples of a policy :math:`q` targets the tilt with
    the same expected reward (the information projection), with risk :math:`c_1/n+c_2/n^2`,
    :math:`c_1=\mathrm{Var}_q(r)/(2\mathrm{Var}_{\pi_{\lambda_*}}(r))`. Outcomes with
    :math:`p(y)=0` are dropped.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).

    Returns
    -------
    FiniteExpFamily
        The one-parameter family pi_lambda with base measure ref and statistic r.

    References
    ----------
    .. [1] Y. Sheena, arXiv:2105.08947 (the p-n criterion); Korbak, Perez, Buckley (2022) (the tilt).

    Examples
    --------
    >>> from alignsim import pn
    >>> fam = pn.tilt_family([0.25] * 4, [0, 1, 2, 3])
    >>> [round(c, 4) for c in pn.risk_coefficients(fam, [0.5, 0.1, 0.1, 0.3])]
    [0.7401, 1.2259]
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    s = pp > 0
    if np.ptp(rr[s]) == 0:
        raise ValueError("r must not be constant on the support of ref (the tilt family would be a single point)")
    return FiniteExpFamily(rr[s], pp[s])
