r"""Exact expected training dynamics on a softmax bandit: policy gradient, natural gradient (mirror descent), GRPO.

Instance: :math:`K` arms with rewards :math:`r`, reference :math:`\pi_{\rm ref}` (full support), KL coefficient
:math:`\beta\ge0`, policy :math:`\pi=\mathrm{softmax}(\theta)`, objective (maximised)

.. math::

    J(\theta) = \mathbb E_\pi r - \beta\,\mathrm{KL}(\pi\|\pi_{\rm ref}),\qquad
    \nabla J = F(\pi)\,v,\quad v = r - \beta\ell,\quad \ell = \log\pi - \log\pi_{\rm ref},

with :math:`F = \mathrm{diag}(\pi) - \pi\pi^\top` (never formed: :math:`(Fv)_a = \pi_a(v_a - \mathbb E_\pi v)`). The
unique fixed point is the tilt :math:`\pi^\star\propto\pi_{\rm ref}e^{r/\beta}` (:func:`alignsim.tilt`).
Only exact expected updates live here; stochastic trainers agree with them for one step, not along trajectories.

References
----------
.. [1] R. J. Williams (1992), REINFORCE; S. Kakade (2001), natural policy gradient.
.. [2] Z. Shao et al., "DeepSeekMath", arXiv:2402.03300 (GRPO).
.. [3] G. Cui et al., "The entropy mechanism of reinforcement learning for reasoning language models",
   arXiv:2505.22617 (entropy change).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq
from scipy.special import gammaln, log_softmax

from . import _validate as V
from ._lattice import checked_compositions
from ._levels import unit_rewards
from .regularisers import pass_at_k
from .tilting import tilt

__all__ = [
    "pg_gradient",
    "pg_iterate",
    "pg_flow",
    "pg_local_rate",
    "npg_iterate",
    "grpo_expected_update",
    "grpo_binary_factor",
    "forward_kl_fixed_point",
    "entropy_change",
    "pass_at_k",
    "reinforce_expected_update",
    "grpo_iterate",
    "shared_policy_pass_at_k",
    "fit_entropy_reward_law",
]


def _fisher(pi, v):
    return pi * (v - math.fsum(pi * v))


def _grad(th, rr, pr, b):
    log_pi = log_softmax(th)
    return _fisher(np.exp(log_pi), rr - b * (log_pi - np.log(pr)))


def pg_gradient(theta, r, ref, beta) -> np.ndarray:
    r"""Exact gradient of :math:`J = \mathbb E_\pi r - \beta\,\mathrm{KL}(\pi\|\pi_{\rm ref})` in the logits.

    .. math::

        \nabla J_a = \pi_a\big(v_a - \mathbb E_\pi v\big),\qquad v = r - \beta(\log\pi - \log\pi_{\rm ref}).

    Parameters
    ----------
    theta : array_like, shape (K,)
        Policy logits.
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    ref : array_like, shape (K,)
        Reference probabilities, full support.
    beta : float
        KL coefficient, >= 0.

    Returns
    -------
    ndarray, shape (K,)
        The gradient of J with respect to theta (sums to zero).

    References
    ----------
    .. [1] J. Mei, C. Xiao, C. Szepesvári, D. Schuurmans, "On the global convergence rates of softmax policy gradient
       methods", ICML 2020, arXiv:2005.06392.

    Examples
    --------
    >>> from alignsim.dynamics import pg_gradient
    >>> [round(float(x), 9) for x in pg_gradient([0.2, -0.4, 0.1], [1, 0.5, 0], [0.2, 0.3, 0.5], 0.25)]
    [0.13477458, 0.018353552, -0.153128132]
    """
    return _grad(*V.softmax_bandit(theta, r, ref, beta))


def pg_iterate(theta0, r, ref, beta, eta, steps: int) -> np.ndarray:
    r"""Exact expected policy-gradient iterates :math:`\theta_{t+1} = \theta_t + \eta\nabla J(\theta_t)`.

    Returns the policies :math:`\pi_0,\dots,\pi_T` as an array of shape ``(steps + 1, K)``.

    Parameters
    ----------
    theta0 : array_like, shape (K,)
        Initial logits.
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    ref : array_like, shape (K,)
        Reference probabilities, full support.
    beta : float
        KL coefficient, >= 0.
    eta : float
        Step size, > 0.
    steps : int
        Number of steps, >= 1 (capped).

    Returns
    -------
    ndarray, shape (steps + 1, K)
        The policies pi_0, ..., pi_T.

    References
    ----------
    .. [1] J. Mei, C. Xiao, C. Szepesvári, D. Schuurmans, "On the global convergence rates of softmax policy gradient
       methods", ICML 2020, arXiv:2005.06392.

    Examples
    --------
    >>> from alignsim.dynamics import pg_iterate
    >>> pg_iterate([0.0, 0.0], [1.0, 0.0], [0.5, 0.5], 1.0, 0.5, 2).shape
    (3, 2)
    """
    th, rr, pr, b = V.softmax_bandit(theta0, r, ref, beta, "theta0")
    e = V.real(eta, "eta", low=0.0, low_open=True)
    n = V.length(steps, "steps", low=0, high=V.MAX_STEPS, why="every step is stored")
    out = np.empty((n + 1, th.size))
    out[0] = np.exp(log_softmax(th))
    for t in range(n):
        with np.errstate(over="ignore", invalid="ignore"):
            step = th + e * _grad(th, rr, pr, b)
        th = _finite_step(step, t)
        out[t + 1] = np.exp(log_softmax(th))
    return out


def _finite_step(th, t):
    """The logits after step ``t``, or a ValueError when the step left the float range (never NaN iterates)."""
    if not np.all(np.isfinite(th)) or not math.isfinite(float(th.max()) - float(th.min())):
        raise ValueError(f"the logits left the float range at step {t + 1}: the step eta times the gradient (set by "
                         "the rewards r and beta) is too large; lower eta, or rescale r or beta")
    return th


def pg_flow(theta0, r, ref, beta, t_eval) -> np.ndarray:
    r"""The policy-gradient flow :math:`\dot\theta = \nabla J(\theta)`, integrated with DOP853 (rtol 1e-12).

    Returns the policies at the times ``t_eval`` (shape ``(len(t_eval), K)``).

    Parameters
    ----------
    theta0 : array_like, shape (K,)
        Initial logits.
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    ref : array_like, shape (K,)
        Reference probabilities, full support.
    beta : float
        KL coefficient, >= 0.
    t_eval : array_like
        Increasing times >= 0 at which to report the policy.

    Returns
    -------
    ndarray, shape (len(t_eval), K)
        The policies at the times t_eval.

    References
    ----------
    .. [1] J. Mei, C. Xiao, C. Szepesvári, D. Schuurmans, "On the global convergence rates of softmax policy gradient
       methods", ICML 2020, arXiv:2005.06392.

    Examples
    --------
    >>> from alignsim.dynamics import pg_flow
    >>> pg_flow([0.0, 0.0], [1.0, 0.0], [0.5, 0.5], 1.0, [0.0, 50.0])[-1].round(6)
    array([0.731059, 0.268941])
    """
    th, rr, pr, b = V.softmax_bandit(theta0, r, ref, beta, "theta0")
    ts = V.real_array(t_eval, "t_eval", low=0.0).ravel()
    # the flow's speed is at most ~ span(r) + beta (span(theta0) + span(log ref)): an adaptive integrator needs a
    # number of steps proportional to that times the horizon, so an unreachable horizon is refused up front
    speed = float(np.ptp(rr)) + b * (1.0 + float(np.ptp(th)) + float(np.ptp(np.log(pr))))
    if ts.size and float(ts.max()) * speed > 1e7:
        raise ValueError(f"max(t_eval) = {float(ts.max()):.3g} times the flow's speed ~ span(r) + beta (span(theta0) "
                         f"+ span(log ref)) = {speed:.3g} needs more than 1e7 integration steps; rescale r or beta, "
                         "or shorten t_eval")
    with np.errstate(over="ignore", invalid="ignore"):
        sol = solve_ivp(lambda _t, y: _grad(y, rr, pr, b), (0.0, float(ts.max())), th, method="DOP853", t_eval=ts,
                        rtol=1e-12, atol=1e-12)
    if not sol.success or not np.all(np.isfinite(sol.y)):
        raise ValueError("the flow could not be integrated to max(t_eval) (its speed, set by the rewards r and beta, "
                         f"leaves the float range or is too stiff: {sol.message}); rescale r or beta, or shorten t_eval")
    return np.exp(log_softmax(sol.y.T, axis=1))


def pg_local_rate(r, ref, beta) -> float:
    r"""Local exponential rate of the policy-gradient flow at the optimum: :math:`\beta\,\lambda_2(F(\pi^\star))`,
    the smallest non-zero eigenvalue of the Fisher matrix at the tilt times :math:`\beta`.

    Parameters
    ----------
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    ref : array_like, shape (K,)
        Reference probabilities, full support.
    beta : float
        KL coefficient, > 0.

    Returns
    -------
    float
        beta times the smallest non-zero eigenvalue of the Fisher matrix at the tilt.

    References
    ----------
    .. [1] J. Mei, C. Xiao, C. Szepesvári, D. Schuurmans, "On the global convergence rates of softmax policy gradient
       methods", ICML 2020, arXiv:2005.06392.

    Examples
    --------
    >>> from alignsim.dynamics import pg_local_rate
    >>> round(pg_local_rate([1, 0.5, 0], [0.2, 0.3, 0.5], 0.25), 8)
    0.01279319
    """
    rr = V.rewards(r, "r")
    pr = V.probabilities(ref, "ref")
    b = V.real(beta, "beta", low=0.0, low_open=True)
    star = tilt(pr, rr, b)
    eig = np.linalg.eigvalsh(np.diag(star) - np.outer(star, star))
    return float(b * np.sort(eig)[1])


def npg_iterate(pi0, r, ref, beta, eta, steps: int) -> np.ndarray:
    r"""Natural policy gradient / KL-proximal mirror ascent in closed form, for any step size.

    The step :math:`\theta_{t+1} = \theta_t + \eta(r - \beta\ell_t)` gives

    .. math::

        \pi_t\propto\pi_0^{\alpha_t}(\pi^\star)^{1-\alpha_t},\qquad \alpha_t = (1-\eta\beta)^t,

    (geometric interpolation towards the tilt; :math:`\eta\beta = 1` reaches it in one step, :math:`\eta\beta\in(1,2)`
    overshoots with alternating :math:`\alpha_t`, :math:`\eta\beta\ge2` diverges). With :math:`\beta = 0`:
    :math:`\pi_t\propto\pi_0e^{\eta t r}`. Returns ``(steps + 1, K)`` policies.

    Parameters
    ----------
    pi0 : array_like, shape (K,)
        Initial policy (full support).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    ref : array_like, shape (K,)
        Reference probabilities, full support.
    beta : float
        KL coefficient, >= 0.
    eta : float
        Step size, > 0.
    steps : int
        Number of steps, >= 1 (capped).

    Returns
    -------
    ndarray, shape (steps + 1, K)
        The policies pi_0, ..., pi_T.

    References
    ----------
    .. [1] Kakade (2001).

    Examples
    --------
    >>> from alignsim.dynamics import npg_iterate
    >>> [round(float(x), 9) for x in npg_iterate([0.6, 0.3, 0.1], [1, 0.5, 0], [0.2, 0.3, 0.5], 0.25, 1.2, 5)[-1]]
    [0.773333856, 0.182668346, 0.043997798]
    """
    p0 = V.probabilities(pi0, "pi0")
    rr = V.rewards(r, "r", size=p0.size, like="pi0")
    pr = V.probabilities(ref, "ref")
    V.same_shape(p0, pr, "pi0", "ref")
    b = V.real(beta, "beta", low=0.0)
    e = V.real(eta, "eta", low=0.0, low_open=True)
    n = V.length(steps, "steps", low=0, high=V.MAX_STEPS, why="every step is stored")
    if np.any(p0 == 0):
        raise ValueError("pi0 must have full support (a softmax policy)")
    if np.any(pr == 0):
        raise ValueError("ref must have full support (the KL penalty's log ref)")
    ts = np.arange(n + 1)
    eb = e * b
    with np.errstate(over="ignore", invalid="ignore"):
        if eb < 1.0:  # alpha_t = (1 - eta beta)^t; (1 - alpha_t)/beta = -expm1(t log1p(-eta beta))/beta -> eta t
            log_alpha = ts * math.log1p(-eb)
            alpha = np.exp(log_alpha)
            reward_weight = e * ts if b == 0 else -np.expm1(log_alpha) / b
        else:
            alpha = (1.0 - eb) ** ts
            reward_weight = (1.0 - alpha) / b
        logits = (alpha[:, None] * np.log(p0)[None, :] + (1 - alpha)[:, None] * np.log(pr)[None, :]
                  + reward_weight[:, None] * rr[None, :])
    bad = ~np.all(np.isfinite(logits), axis=1)
    if np.any(bad):
        raise ValueError(f"the logits left the float range at step {int(np.argmax(bad))}: eta * beta = {eb:g} "
                         + ("> 2 makes the iteration diverge" if eb > 2 else "with these rewards r overflows")
                         + "; lower eta, or rescale r or beta")
    return np.exp(log_softmax(logits, axis=1))


def grpo_expected_update(pi, r, G: int, ddof: int = 1, eps: float = 0.0) -> np.ndarray:
    r"""Exact expected GRPO update on a bandit (first inner step: ratio 1, no clipping), by a sum over group
    compositions.

    A group :math:`y_1..y_G\sim\pi` i.i.d. with advantages :math:`A_i = (R_i - \bar R)/(s + \epsilon)` (group std with
    ``ddof``; zero-variance groups give 0) and the update :math:`\hat g = \frac1G\sum_i A_i\,s_{y_i}`; since
    :math:`\sum_i A_i = 0`,

    .. math::

        \mathbb E\hat g_a = \frac1G\sum_{n}\binom{G}{n}\prod_k\pi_k^{n_k}\; n_a\,\frac{r_a - \bar R(n)}{s(n)+\epsilon},

    over the :math:`\binom{G+K-1}{K-1}` compositions :math:`n` of :math:`G` (multinomial weights in log space).
    Two-valued rewards use the :math:`O(G)` form :math:`\frac{\kappa}{p(1-p)}F r` (:func:`grpo_binary_factor`).
    Defaults: ``ddof = 1`` (``torch.std`` in TRL and verl), :math:`\epsilon = 0` (verl uses 1e-6, TRL 1e-4).

    Parameters
    ----------
    pi : array_like, shape (K,)
        Policy probabilities.
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    G : int
        Group size, >= 2 (the number of compositions is capped).
    ddof : int
        Degrees of freedom of the group standard deviation, 0 or 1.
    eps : float
        Added to the group standard deviation, >= 0.

    Returns
    -------
    ndarray, shape (K,)
        The expected update with respect to the logits.

    References
    ----------
    .. [1] Shao et al., arXiv:2402.03300.

    Examples
    --------
    >>> from alignsim.dynamics import grpo_expected_update
    >>> [round(float(x), 9) for x in grpo_expected_update([0.2, 0.3, 0.5], [1, 0.5, 0], 4)]
    [0.210553737, 0.120953785, -0.331507523]
    """
    pp = V.probabilities(pi, "pi")
    rr = V.rewards(r, "r", size=pp.size, like="pi")
    g = V.group_size(G, "G")
    d = V.choice(ddof, "ddof", (0, 1))
    e = V.real(eps, "eps", low=0.0)
    levels = np.unique(rr)
    if levels.size == 1:
        return np.zeros_like(pp)
    if levels.size == 2:
        hi = rr == levels[1]
        p = float(pp[hi].sum())
        if 0 < p < 1:
            scale = levels[1] - levels[0]
            factor = grpo_binary_factor(p, g, d, e / scale)
            return factor * _fisher(pp, hi.astype(float))
        return np.zeros_like(pp)
    rr, e = unit_rewards(rr, e)  # the advantages are invariant to an affine map of r with eps scaled alike
    comps = checked_compositions(g, pp.size, "G").astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 * log 0 is taken as 0 (an arm never drawn)
        terms = np.where(comps > 0, comps * np.log(pp), 0.0)
    log_w = gammaln(g + 1.0) - gammaln(comps + 1.0).sum(axis=1) + terms.sum(axis=1)
    weights = np.exp(log_w)
    mean = comps @ rr / g
    var = (comps * (rr[None, :] - mean[:, None]) ** 2).sum(axis=1) / (g - d)
    sd = np.sqrt(np.maximum(var, 0.0))
    # zero-variance groups are those whose drawn arms share one reward; decided exactly, not from a rounded variance
    present = comps > 0
    spread = np.where(present, rr, -np.inf).max(axis=1) > np.where(present, rr, np.inf).min(axis=1)
    live = spread & (weights > 0)
    adv = (rr[None, :] - mean[live, None]) / (sd[live, None] + e)
    return (weights[live, None] * comps[live] * adv).sum(axis=0) / g


def grpo_binary_factor(p, G: int, ddof: int = 1, eps: float = 0.0) -> float:
    r"""GRPO's amplification for binary rewards: :math:`\mathbb E\hat g = \frac{\kappa}{p(1-p)}\nabla p`, with

    .. math::

        \kappa = \frac1G\sum_{c=1}^{G-1}\binom Gc p^c(1-p)^{G-c}\frac{c(1-c/G)}{s_c+\epsilon},\qquad
        s_c = \sqrt{\tfrac{G}{G-\mathrm{ddof}}\tfrac cG(1-\tfrac cG)};

    with ``ddof = 0`` and :math:`G = 2` the factor is exactly 1, and as :math:`G\to\infty` it tends to
    :math:`1/\sqrt{p(1-p)}` (GRPO ascends :math:`2\arcsin\sqrt p`). ``eps`` is in units of the reward gap.

    Parameters
    ----------
    p : float
        Success probability of the policy, in [0, 1].
    G : int
        Group size, >= 2.
    ddof : int
        Degrees of freedom of the group standard deviation, 0 or 1.
    eps : float
        Added to the group standard deviation, in units of the reward gap, >= 0.

    Returns
    -------
    float
        The factor kappa / (p (1 - p)) multiplying the policy gradient of p.

    References
    ----------
    .. [1] Z. Shao et al., "DeepSeekMath", arXiv:2402.03300 (GRPO's group-normalised advantage).

    Examples
    --------
    >>> from alignsim.dynamics import grpo_binary_factor
    >>> round(grpo_binary_factor(0.3, 4, ddof=0), 10)
    1.6345894684
    """
    q = V.real(p, "p", low=0.0, high=1.0, low_open=True, high_open=True)
    g = V.length(G, "G", low=2, high=10 ** 8, why="the factor sums over the G - 1 mixed groups")
    d = V.choice(ddof, "ddof", (0, 1))
    e = V.real(eps, "eps", low=0.0)
    c = np.arange(1, g)
    log_b = gammaln(g + 1.0) - gammaln(c + 1.0) - gammaln(g - c + 1.0) + c * math.log(q) + (g - c) * math.log1p(-q)
    frac = c / g
    s = np.sqrt(g / (g - d) * frac * (1 - frac))
    kappa = float(np.sum(np.exp(log_b) * c * (1 - frac) / (s + e))) / g
    return kappa / (q * (1 - q))


def forward_kl_fixed_point(r, ref, beta):
    r"""Fixed point of training with :math:`k_3` as a loss (GRPO without importance weights): the
    forward-KL-regularised optimum of :math:`\mathbb E_\pi r - \beta\,\mathrm{KL}(\pi_{\rm ref}\|\pi)`,

    .. math::

        \pi_a = \frac{\beta\,\pi_{{\rm ref},a}}{\lambda - r_a},\qquad \lambda > \max r \text{ the root of }
        \sum_a\frac{\beta\,\pi_{{\rm ref},a}}{\lambda - r_a} = 1,

    on the bracket :math:`[\max(r_{\max} + \beta q_{\rm top},\ \bar r + \beta),\ r_{\max} + \beta]`; then
    :math:`\lambda = \beta + \mathbb E_\pi r`. Mass-covering: no arm goes to zero. Returns ``(pi, lam)``.

    Parameters
    ----------
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    ref : array_like, shape (K,)
        Reference probabilities, full support.
    beta : float
        KL coefficient, > 0.

    Returns
    -------
    pi : ndarray, shape (K,)
        The forward-KL-regularised optimum.
    lam : float
        Its multiplier, beta + E_pi r.

    References
    ----------
    .. [1] Y. Tang, R. Munos, arXiv:2506.09477 (the k3 loss follows the forward KL).

    Examples
    --------
    >>> from alignsim.dynamics import forward_kl_fixed_point
    >>> pi, lam = forward_kl_fixed_point([1, 0.5, 0], [0.2, 0.3, 0.5], 0.25)
    >>> [round(float(x), 9) for x in pi], round(lam, 9)
    ([0.750445953, 0.132362195, 0.117191853], 1.06662705)
    """
    pr = V.probabilities(ref, "ref")
    rr = V.rewards(r, "r", size=pr.size, like="ref")
    b = V.real(beta, "beta", low=0.0, low_open=True)
    if np.any(pr == 0):
        raise ValueError("ref must have full support")
    rmax = float(rr.max())
    q_top = float(pr[rr == rmax].sum())
    # solve for v = (lam - max r) / beta in [max(q_top, 1 - E[d] / beta), 1] with the gaps d = max r - r: lam - r_a
    # = beta (v + d_a / beta) has no cancellation, also when beta is tiny next to r or r is huge
    with np.errstate(over="ignore"):
        gap = (rmax - rr) / b
    f = lambda v: math.fsum(pr / (v + gap)) - 1.0  # noqa: E731
    lo = max(q_top, 1.0 - math.fsum(pr * gap)) if np.all(np.isfinite(gap)) else q_top
    v = lo if f(lo) <= 0 else brentq(f, lo, 1.0, xtol=1e-16, rtol=4 * np.finfo(float).eps)
    lam = rmax + b * v
    pi = pr / (v + gap)
    return pi / pi.sum(), float(lam)


def entropy_change(theta, delta, order: int = 1) -> float:
    r"""Derivative of the entropy of :math:`\mathrm{softmax}(\theta + \varepsilon\delta)` at :math:`\varepsilon=0`.

    .. math::

        \frac{dH}{d\varepsilon} = -\mathrm{Cov}_\pi(\log\pi, \delta),\qquad
        \frac{d^2H}{d\varepsilon^2} = -\mathrm{Var}_\pi(\delta)
        - \mathbb E_\pi\big[(\log\pi - \mathbb E_\pi\log\pi)(\delta - \mathbb E_\pi\delta)^2\big].

    A policy-gradient step has :math:`\delta = \eta\,\pi\odot A`, a natural-gradient step :math:`\delta = \eta A`: a likely
    high-advantage arm lowers the entropy, a rare one raises it.

    Parameters
    ----------
    theta, delta : array_like, shape (K,)
    order : {1, 2}

    Returns
    -------
    float
        dH/d eps (order 1) or d^2H/d eps^2 (order 2) at eps = 0.

    References
    ----------
    .. [1] Cui et al., arXiv:2505.22617.

    Examples
    --------
    >>> from alignsim.dynamics import entropy_change
    >>> round(entropy_change([0.9, 0.1, -0.3, -1.2], [0.37, -1.1, 0.52, 0.08]), 12)
    -0.111536161079
    """
    th = V.real_array(theta, "theta")
    dl = V.real_array(delta, "delta")
    V.same_shape(th, dl, "theta", "delta")
    o = V.choice(order, "order", (1, 2))
    if not math.isfinite(float(th.max()) - float(th.min())):
        raise ValueError("theta must span less than 1.8e308 (its log-softmax would overflow)")
    log_pi = log_softmax(th)
    pi = np.exp(log_pi)
    lc = log_pi - math.fsum(pi * log_pi)
    dc = dl - math.fsum(pi * dl)
    if o == 1:
        return -math.fsum(pi * lc * dc)
    return -math.fsum(pi * dc * dc) - math.fsum(pi * lc * dc * dc)


def reinforce_expected_update(pi, r, N: int, baseline: str = "rloo") -> np.ndarray:
    r"""Exact expected REINFORCE update from ``N`` samples, :math:`\frac1N\sum_i(R_i - b_i)\,s_{y_i}`, for two
    baselines.

    ``"rloo"`` (leave-one-out mean of the other samples) is unbiased: :math:`F r` (the policy gradient);
    ``"group_mean"`` (the mean including the sample itself) shrinks it: :math:`(1 - \frac1N)F r` — the same factor
    as Dr. GRPO's mean-only advantage.

    Parameters
    ----------
    pi : array_like, shape (K,)
        Policy probabilities.
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int
        Samples per update, >= 2.
    baseline : {"rloo", "group_mean"}
        Leave-one-out mean of the other samples, or the mean including the sample itself.

    Returns
    -------
    ndarray, shape (K,)
        The expected update with respect to the logits.

    References
    ----------
    .. [1] W. Kool, H. van Hoof, M. Welling, "Buy 4 REINFORCE samples, get a baseline for free!", 2019.

    Examples
    --------
    >>> from alignsim.dynamics import reinforce_expected_update
    >>> [round(float(x), 12) for x in reinforce_expected_update([0.2, 0.3, 0.5], [1, 0.5, 0], 4, "group_mean")]
    [0.0975, 0.03375, -0.13125]
    """
    pp = V.probabilities(pi, "pi")
    rr = V.rewards(r, "r", size=pp.size, like="pi")
    n = V.group_size(N, "N")
    V.choice(baseline, "baseline", ("rloo", "group_mean"))
    g = _fisher(pp, rr)
    return g if baseline == "rloo" else (1.0 - 1.0 / n) * g


def grpo_iterate(theta0, r, ref, beta, eta, steps: int, G: int, ddof: int = 1, eps: float = 0.0) -> np.ndarray:
    r"""Exact expected GRPO iterates with the correct KL gradient:
    :math:`\theta_{t+1} = \theta_t + \eta\,(\mathbb E\hat g_{\rm GRPO} - \beta\nabla\mathrm{KL}(\pi\|\pi_{\rm ref}))`.

    GRPO's normalised advantages rescale the reward, so the iterates do **not** approach the tilt.
    Returns ``(steps + 1, K)`` policies.

    Parameters
    ----------
    theta0 : array_like, shape (K,)
        Initial logits.
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    ref : array_like, shape (K,)
        Reference probabilities, full support.
    beta : float
        KL coefficient, >= 0.
    eta : float
        Step size, > 0.
    steps : int
        Number of steps, >= 1 (capped).
    G : int
        Group size, >= 2.
    ddof : int
        Degrees of freedom of the group standard deviation, 0 or 1.
    eps : float
        Added to the group standard deviation, >= 0.

    Returns
    -------
    ndarray, shape (steps + 1, K)
        The policies pi_0, ..., pi_T.

    References
    ----------
    .. [1] Z. Shao et al., "DeepSeekMath", arXiv:2402.03300 (GRPO).

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim.dynamics import grpo_iterate
    >>> grpo_iterate(np.log([0.2, 0.3, 0.5]), [1, 0.5, 0], [0.2, 0.3, 0.5], 0.25, 1.0, 3, 4).shape
    (4, 3)
    """
    th, rr, pr, b = V.softmax_bandit(theta0, r, ref, beta, "theta0")
    e = V.real(eta, "eta", low=0.0, low_open=True)
    n = V.length(steps, "steps", low=0, high=V.MAX_STEPS, why="every step is stored")
    out = np.empty((n + 1, th.size))
    out[0] = np.exp(log_softmax(th))
    for t in range(n):
        log_pi = log_softmax(th)  # not log(out[t]): a probability that underflows to 0 keeps its finite log
        pi = out[t]
        with np.errstate(over="ignore", invalid="ignore"):
            step = th + e * (grpo_expected_update(pi, rr, G, ddof, eps) - b * _fisher(pi, log_pi - np.log(pr)))
        th = _finite_step(step, t)
        out[t + 1] = np.exp(log_softmax(th))
    return out


def shared_policy_pass_at_k(pi, correct_sets, k):
    r"""Mean pass@k over problems that share one policy: :math:`\frac1J\sum_j\big[1-(1-\pi(C_j))^k\big]`.

    With a single problem pass@k increases with pass@1; with a shared policy, maximising mean pass@1 can
    concentrate on the arms that solve most problems and lower pass@k.

    Parameters
    ----------
    pi : array_like, shape (K,)
    correct_sets : sequence of sequences of int
        The arms that solve each problem.
    k : int or array_like

    Returns
    -------
    float or ndarray
        Mean pass@k over the problems, same shape as k.

    References
    ----------
    .. [1] M. Chen et al., "Evaluating large language models trained on code", arXiv:2107.03374 (pass@k).

    Examples
    --------
    >>> from alignsim.dynamics import shared_policy_pass_at_k
    >>> round(shared_policy_pass_at_k([1/3, 1/3, 1/3], [[0], [1], [0]], 8), 6)
    0.960982
    """
    pp = V.probabilities(pi, "pi")
    if len(correct_sets) == 0:
        raise ValueError("correct_sets must list at least one problem")
    masses = []
    for c in correct_sets:
        idx = np.asarray(list(c), dtype=int)
        if idx.size and (idx.min() < 0 or idx.max() >= pp.size):
            raise ValueError(f"correct_sets must hold arm indices of pi, in [0, {pp.size - 1}], got {list(c)}")
        masses.append(float(pp[idx].sum()) if idx.size else 0.0)
    vals = [pass_at_k(min(m, 1.0), k) for m in masses]
    return float(np.mean(vals)) if np.ndim(vals[0]) == 0 else np.mean(vals, axis=0)


def fit_entropy_reward_law(H, R) -> dict:
    r"""Least-squares fit of the **empirical** entropy-performance law :math:`R = -a\,e^{H} + b` (Cui et al.).

    Nothing in the exact dynamics implies this law; it is offered as a curve fit with its residuals, never as a
    prediction. Returns ``a``, ``b``, the residuals and their root mean square.

    Parameters
    ----------
    H : array_like
        Entropies along a training run.
    R : array_like
        Rewards at the same points, same length as H.

    Returns
    -------
    dict
        a, b, the residuals and their root mean square (rms).

    References
    ----------
    .. [1] Cui et al., arXiv:2505.22617 (empirical law).

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim.dynamics import fit_entropy_reward_law
    >>> H = np.linspace(0.1, 1.0, 5)
    >>> fit = fit_entropy_reward_law(H, -2.0 * np.exp(H) + 3.0)
    >>> round(fit["a"], 10), round(fit["b"], 10)
    (2.0, 3.0)
    """
    h = V.real_array(H, "H").ravel()
    rr = V.real_array(R, "R").ravel()
    if h.size != rr.size or h.size < 2:
        raise ValueError(f"H and R must have the same length >= 2, got {h.size} and {rr.size}")
    design = np.column_stack([-np.exp(h), np.ones_like(h)])
    (a, b), *_ = np.linalg.lstsq(design, rr, rcond=None)
    resid = rr - design @ np.array([a, b])
    return {"a": float(a), "b": float(b), "residuals": resid, "rms": float(np.sqrt(np.mean(resid ** 2)))}
