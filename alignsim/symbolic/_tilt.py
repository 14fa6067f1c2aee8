r"""The exponential tilt, symbolically (private; re-exported by :mod:`alignsim.symbolic`).

Convention of :mod:`alignsim.tilting`: :math:`\phi_\beta(y)\propto p(y)e^{r(y)/\beta}`, :math:`\beta>0` the KL
coefficient, :math:`A(\beta)=\log\sum_y p(y)e^{r(y)/\beta}`.
"""

from __future__ import annotations

import functools

import sympy as sp

from ._core import law, relative_entropy_form

BETA = sp.Symbol("beta", positive=True)
DELTA = sp.Symbol("delta", positive=True)


@functools.lru_cache(maxsize=64)
def _log_partition(p, r):
    return sp.log(sp.Add(*[pi * sp.exp(ri / BETA) for pi, ri in zip(p, r)]))


def log_partition(probs=None, rewards=None, *, K: int = 2):
    r"""The log-partition function of the tilt, from its definition.

    .. math:: A(\beta) = \log\sum_{y=1}^{K} p_y\,e^{r_y/\beta}

    Parameters
    ----------
    probs, rewards : sequence of numbers or sympy expressions, optional
        The reference law and the rewards (both or neither); without them the symbols ``p_1..p_K``, ``r_1..r_K``.
    K : int
        Number of outcomes when ``probs`` and ``rewards`` are not given, 2 to 8.

    Returns
    -------
    sympy expression
        In ``beta`` (and the law's symbols).

    References
    ----------
    .. [1] J. Q. Yang et al., "Asymptotics of language model alignment", ISIT 2024 (the tilt as the KL-RL optimum).

    Examples
    --------
    >>> from alignsim import symbolic
    >>> symbolic.log_partition([0.5, 0.5], [0, 1])
    log(exp(1/beta)/2 + 1/2)
    """
    return _log_partition(*law(probs, rewards, K))


def tilt(probs=None, rewards=None, *, K: int = 2) -> list:
    r"""The tilted law, outcome by outcome.

    .. math:: \phi_\beta(y) = p_y\,e^{r_y/\beta - A(\beta)}

    Parameters
    ----------
    probs, rewards : sequence, optional
        As in :func:`log_partition`.
    K : int
        As in :func:`log_partition`.

    Returns
    -------
    list of sympy expressions
        One per outcome, in ``beta``.

    References
    ----------
    .. [1] Yang et al. (ISIT 2024).

    Examples
    --------
    >>> from alignsim import symbolic
    >>> symbolic.tilt([0.5, 0.5], [0, 1])[1]
    exp(1/beta)/(2*(exp(1/beta)/2 + 1/2))
    """
    p, r = law(probs, rewards, K)
    z = sp.exp(_log_partition(p, r))
    return [pi * sp.exp(ri / BETA) / z for pi, ri in zip(p, r)]


def tilt_mean(probs=None, rewards=None, *, K: int = 2):
    r"""The tilted mean reward, derived from the log-partition function.

    .. math:: \mathbb E_{\phi_\beta}r = -\beta^2\,\frac{dA}{d\beta}

    Parameters
    ----------
    probs, rewards : sequence, optional
        As in :func:`log_partition`.
    K : int
        As in :func:`log_partition`.

    Returns
    -------
    sympy expression

    References
    ----------
    .. [1] Yang et al. (ISIT 2024).

    Examples
    --------
    >>> from alignsim import symbolic
    >>> symbolic.tilt_mean([0.5, 0.5], [0, 1])
    exp(1/beta)/(exp(1/beta) + 1)
    """
    p, r = law(probs, rewards, K)
    # expand and one fraction only: sympy's simplify can run for minutes on rational rewards (exp(r/beta) with
    # r = 109/250 becomes a polynomial in beta**(-1/250) for its gcd)
    return sp.together(sp.expand(-BETA ** 2 * sp.diff(_log_partition(p, r), BETA)))


def tilt_kl(probs=None, rewards=None, *, K: int = 2):
    r""":math:`\mathrm{KL}(\phi_\beta\|p)` from its definition, simplified by the tilt's log-ratio.

    .. math:: \sum_y\phi_\beta(y)\log\frac{\phi_\beta(y)}{p_y} = \sum_y\phi_\beta(y)\Big(\frac{r_y}\beta-A(\beta)\Big)
              = \frac{\mathbb E_{\phi_\beta}r}{\beta} - A(\beta)

    Parameters
    ----------
    probs, rewards : sequence, optional
        As in :func:`log_partition`.
    K : int
        As in :func:`log_partition`.

    Returns
    -------
    sympy expression

    References
    ----------
    .. [1] Yang et al. (ISIT 2024).

    Examples
    --------
    >>> from alignsim import symbolic
    >>> round(symbolic.numeric(symbolic.tilt_kl([0.7, 0.3], [0, 1]), beta=1.0), 12)
    0.122366304381
    """
    p, r = law(probs, rewards, K)
    a = _log_partition(p, r)
    z = a.args[0]  # the partition function itself: exp(-A) = 1 / Z
    mean_part, a_coeff = [], []
    for pi, ri in zip(p, r):
        phi = pi * sp.exp(ri / BETA) / z
        # log(phi / p) = log(exp(r/beta - A)) = r/beta - A: sympy reduces it for real arguments
        log_ratio = sp.expand_log(sp.log(sp.exp(ri / BETA - a)), force=True)
        for piece in sp.Add.make_args(log_ratio):
            (a_coeff if piece.has(a) else mean_part).append(phi * piece)
    coeff = _unit(sp.Add(*[t / a for t in a_coeff]))  # -sum(phi) = -1
    # the rest is the tilted mean over beta: its terms share the denominator beta Z
    return sp.Add(*[t * BETA * z for t in mean_part]) / (BETA * z) + coeff * a


def _unit(expr):
    """``expr`` as one fraction, or +-1 when its numerator is +- its denominator term by term (expanding sums of
    exponentials is cheap where cancelling them as polynomials is not)."""
    num, den = sp.fraction(sp.together(expr))
    for sign in (1, -1):
        if sp.expand(num - sign * den) == 0:
            return sp.Integer(sign)
    return num / den


def dual(probs=None, rewards=None, *, K: int = 2) -> dict:
    r"""The dual of the KL-constrained reward maximisation and its stationarity condition.

    .. math:: g(\beta) = \beta\,\delta + \beta A(\beta),\qquad
              \frac{dg}{d\beta} = \delta - \mathrm{KL}(\phi_\beta\|p)

    (:math:`\max_\pi\mathbb E_\pi r` subject to :math:`\mathrm{KL}(\pi\|p)\le\delta` equals :math:`\min_{\beta>0}g`;
    the minimiser spends exactly the budget).

    Parameters
    ----------
    probs, rewards : sequence, optional
        As in :func:`log_partition`.
    K : int
        As in :func:`log_partition`.

    Returns
    -------
    dict
        ``"objective"``: :math:`g` in ``beta`` and ``delta``; ``"stationarity"``: :math:`dg/d\beta` as one fraction.

    References
    ----------
    .. [1] S. Boyd and L. Vandenberghe, *Convex Optimization* (2004), sec. 5.2; Yang et al. (ISIT 2024).

    Examples
    --------
    >>> import sympy
    >>> from alignsim import symbolic
    >>> d = symbolic.dual([0.7, 0.3], [0, 1])
    >>> sympy.simplify(d["stationarity"] - (symbolic.DELTA - symbolic.tilt_kl([0.7, 0.3], [0, 1]))) == 0
    True
    """
    p, r = law(probs, rewards, K)
    g = BETA * DELTA + BETA * _log_partition(p, r)
    return {"objective": g, "stationarity": sp.together(sp.expand(sp.diff(g, BETA)))}


@functools.lru_cache(maxsize=1)
def two_outcome_tilt() -> dict:
    r"""The two-outcome tilt in full: success probability, KL, and beta as a function of the tilted success.

    With reference :math:`(1-q, q)` and rewards :math:`(0, 1)`:

    .. math:: s(\beta) = \frac{q e^{1/\beta}}{1-q+q e^{1/\beta}},\qquad
              \mathrm{KL}(\beta) = s\log\frac sq+(1-s)\log\frac{1-s}{1-q},\qquad
              \beta(s) = \Big(\log\frac{s}{1-s}-\log\frac{q}{1-q}\Big)^{-1}.

    ``beta_of_success`` is solved by sympy from :math:`s(\beta)=s`; a KL budget :math:`\delta` has no elementary
    inverse (:math:`\mathrm{kl}(s\|q)=\delta` is transcendental in :math:`s`), so beta for a budget is
    :math:`\beta(s_\delta)` with :math:`s_\delta` the root of ``kl_of_success`` :math:`=\delta` above :math:`q`: a
    closed form in :math:`s`, one scalar root in :math:`\delta`.

    Returns
    -------
    dict
        ``"success"`` :math:`s(\beta)`, ``"kl"`` :math:`\mathrm{KL}(\beta)`, ``"beta_of_success"`` :math:`\beta(s)`,
        ``"kl_of_success"`` :math:`\mathrm{kl}(s\|q)`, in the symbols ``beta``, ``q``, ``s``.

    References
    ----------
    .. [1] Yang et al. (ISIT 2024).

    Examples
    --------
    >>> from alignsim import symbolic
    >>> symbolic.two_outcome_tilt()["beta_of_success"]
    1/log(s*(q - 1)/(q*(s - 1)))
    >>> symbolic.two_outcome_tilt()["kl_of_success"]
    s*log(s/q) + (1 - s)*log((1 - s)/(1 - q))
    """
    q, s = sp.symbols("q s", positive=True)
    p, r = (1 - q, q), (sp.Integer(0), sp.Integer(1))
    success = sp.simplify(tilt(p, r)[1])
    # solve s(beta) = s through the odds: s / (1 - s) = q e^{1/beta} / (1 - q)
    u = sp.Symbol("u", positive=True)  # u = 1 / beta
    root = sp.solve(sp.Eq(s / (1 - s), q * sp.exp(u) / (1 - q)), u)[0]
    beta_of_s = 1 / root
    kl_beta = tilt_kl(p, r)
    # the KL as a function of the tilted success: KL(beta(s)), its logs expanded and regrouped
    kl_s = relative_entropy_form(sp.simplify(kl_beta.subs(BETA, beta_of_s)), s, q)
    return {"success": success, "kl": kl_beta, "beta_of_success": beta_of_s, "kl_of_success": kl_s}
