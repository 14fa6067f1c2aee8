r"""Identities of KL-regularised alignment: the posterior gap, geometric mixtures, implicit and single-token
rewards, and KL-regularised Nash equilibria of a preference game."""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import root
from scipy.special import logsumexp

from .. import _tilt as T
from .. import _validate as V
from ..divergences import kl
from ..tilting import penalised_value


# --------------------------------------------------------------------------------------------------------------
# Identities
# --------------------------------------------------------------------------------------------------------------
@V.renamed_keywords(q="ref")
def kl_posterior_gap(pi, ref, r, beta) -> tuple[float, float]:
    r"""Both sides of the variational identity of KL-regularised RL (Korbak et al.):

    .. math::

        \mathbb E_\pi r-\beta\,\mathrm{KL}(\pi\|q) = \beta\log Z-\beta\,\mathrm{KL}(\pi\|\pi^\star),\qquad
        \pi^\star = q\,e^{r/\beta}/Z,

    so the objective gap of any policy is :math:`\beta\,\mathrm{KL}(\pi\|\pi^\star)` and :math:`\max J=\beta\log Z`.

    Parameters
    ----------
    pi : array_like, shape (K,)
        Policy probabilities.
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    beta : float
        KL coefficient, > 0.

    Returns
    -------
    (objective, right_hand_side) : tuple of float
        Computed independently (the left from :func:`alignsim.kl` to ``ref``, the right from the partition function
        and :func:`alignsim.kl` to the tilt); ``inf`` / ``-inf`` when ``pi`` leaves the support of ``ref``, and the
        right side ``-inf`` when it leaves the tilt's (a ``beta`` so small that ``1/beta`` overflows leaves only the
        top reward).

    References
    ----------
    .. [1] T. Korbak, E. Perez, C. L. Buckley, "RL with KL penalties is better viewed as Bayesian inference",
       Findings of EMNLP 2022.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> lhs, rhs = reg.kl_posterior_gap([0.25] * 4, [0.4, 0.3, 0.2, 0.1], [0, 0.5, 1, 1.5], 0.5)
    >>> abs(lhs - rhs) < 1e-14
    True
    """
    ppi = V.probabilities(pi, "pi")
    pp, rr = V.policy_and_rewards(ref, r, "ref", "r")
    V.same_shape(ppi, pp, "pi", "ref")
    b = V.real(beta, "beta", low=0.0, low_open=True)
    lhs = float(np.dot(ppi, rr)) - b * float(kl(ppi, pp))
    # KL(pi || pi*) from log pi* itself: pi* = tilt may underflow where pi does not (huge r / beta)
    log_star = T.tilt_log(pp, rr, T.lam_of(b))
    on = ppi > 0
    kl_star = float(np.dot(ppi[on], np.log(ppi[on]) - log_star[on])) if np.all(log_star[on] > -np.inf) else math.inf
    rhs = penalised_value(pp, rr, b) - b * max(kl_star, 0.0)
    return lhs, rhs


@V.renamed_keywords(p_ref="ref", p_other="other")
def geometric_mixture(ref, other, w) -> tuple[np.ndarray, float]:
    r"""Normalised geometric mixture :math:`\pi_w\propto p_{\rm ref}^{1-w}\,p_{\rm other}^{w}` and its
    :math:`\log Z_w`, for any real :math:`w`.

    .. math::

        \pi_w = \frac{p_{\rm ref}^{1-w}p_{\rm other}^w}{Z_w},\qquad
        p_{\rm other}=\pi^\star_\beta\ \Rightarrow\ \pi_w=\pi^\star_{\beta/w}.

    The optimum of on-policy distillation with reward scale :math:`w` (G-OPD: :math:`w=1` is the teacher,
    :math:`w>1` extrapolates) and RL guidance (RLG: guidance weight :math:`w` is the KL coefficient
    :math:`\beta/w`). Supports are validated: :math:`w>1` needs :math:`\mathrm{supp}\,p_{\rm other}\subseteq
    \mathrm{supp}\,p_{\rm ref}`, :math:`w<0` the reverse (otherwise a power of 0 is infinite). For a memoryless
    LM the per-token mixture is the sequence-level optimum; for general autoregressive models it is not.

    Parameters
    ----------
    ref : array_like, shape (K,)
        The reference law (exponent 1 - w).
    other : array_like, shape (K,)
        The other law (exponent w), e.g. a teacher or the RL optimum.
    w : float
        Mixture weight, any real (w > 1 extrapolates).

    Returns
    -------
    (pi, log_z) : (ndarray, float)

    References
    ----------
    .. [1] Yang et al., "G-OPD/ExOPD", arXiv:2602.12125; Jin et al., "RL guidance", arXiv:2508.21016.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> pi, log_z = reg.geometric_mixture([0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4], 0.5)
    >>> [round(float(x), 10) for x in pi]
    [0.2247448714, 0.2752551286, 0.2752551286, 0.2247448714]
    """
    a_ = V.probabilities(ref, "ref")
    b_ = V.probabilities(other, "other")
    V.same_shape(a_, b_, "ref", "other")
    ww = V.real(w, "w")
    if ww > 1 and np.any((b_ > 0) & (a_ == 0)):
        raise ValueError("w > 1 needs the support of other inside the support of ref (ref^(1-w) is infinite "
                         "where ref = 0)")
    if ww < 0 and np.any((a_ > 0) & (b_ == 0)):
        raise ValueError("w < 0 needs the support of ref inside the support of other")
    if 0 < ww < 1 and not np.any((a_ > 0) & (b_ > 0)):
        raise ValueError("ref and other have disjoint supports: their geometric mixture (0 < w < 1) is zero "
                         "everywhere and cannot be normalised")
    with np.errstate(divide="ignore"):
        la, lb = np.log(a_), np.log(b_)
    if ww == 0:
        logw = la
    elif ww == 1:
        logw = lb
    else:
        logw = np.where((a_ > 0) & (b_ > 0), (1 - ww) * la + ww * lb, -np.inf)
    log_z = float(logsumexp(logw))
    return np.exp(logw - log_z), log_z


@V.renamed_keywords(q="ref")
def implicit_reward(pi, ref, beta) -> np.ndarray:
    r"""The implicit reward :math:`\beta\log(\pi_i/q_i)` (DPO); at the KL optimum it equals
    :math:`r_i-\beta\log Z`, the reward up to one constant.

    .. math::

        \beta\log\frac{\pi^\star_i}{q_i} = r_i-\beta\log Z .

    ``-inf`` where ``pi`` is 0 and ``ref`` is not; ``ValueError`` where ``ref`` is 0 and ``pi`` is not.

    Parameters
    ----------
    pi : array_like, shape (K,)
        Policy probabilities.
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    beta : float
        KL coefficient, > 0.

    Returns
    -------
    ndarray, shape (K,)
        beta log(pi / ref) per response; ``-inf`` where ``pi`` is 0 and ``ref`` is not.

    References
    ----------
    .. [1] R. Rafailov et al., "Direct preference optimization", NeurIPS 2023.

    Examples
    --------
    >>> import alignsim as a
    >>> from alignsim import regularisers as reg
    >>> q, r = [0.4, 0.3, 0.2, 0.1], [0, 0.5, 1, 1.5]
    >>> [round(float(x), 12) for x in r - reg.implicit_reward(a.tilt(q, r, 0.5), q, 0.5)]
    [0.773977966789, 0.773977966789, 0.773977966789, 0.773977966789]
    """
    ppi = V.probabilities(pi, "pi")
    pp = V.probabilities(ref, "ref")
    V.same_shape(ppi, pp, "pi", "ref")
    b = V.real(beta, "beta", low=0.0, low_open=True)
    if np.any((pp == 0) & (ppi > 0)):
        raise ValueError("pi puts mass where ref is 0: the implicit reward is +inf there")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = b * (np.log(ppi) - np.log(pp))
    out[pp == 0] = -np.inf
    return out


def single_token_reward(p_token, r, beta) -> dict:
    r"""LaSeR-style "last-token" reward: one verification token :math:`z_c` rewarded with :math:`r`, every other
    token with 0; the optimum's log-ratio on :math:`z_c` recovers :math:`r` only up to :math:`\beta\log Z_y`.

    .. math::

        \pi^\star(z_c)=\frac{p\,e^{r/\beta}}{Z_y},\quad Z_y = 1+p\,(e^{r/\beta}-1),\qquad
        r=\beta\log\frac{\pi^\star(z_c)}{p}+\beta\log Z_y .

    The approximation "reward = :math:`\beta` times the log-ratio" errs by :math:`\beta\log Z_y`, small only when
    :math:`p\,e^{r/\beta}\ll1`. The setup is a reconstruction; the identity is exact.

    Parameters
    ----------
    p_token : float
        Reference probability of :math:`z_c`, in (0, 1).
    r : float
    beta : float

    Returns
    -------
    dict
        ``pi_token``, ``log_ratio_reward`` (:math:`\beta\log(\pi^\star/p)`), ``correction``
        (:math:`\beta\log Z_y`), ``reward`` (their sum, equal to ``r``).

    References
    ----------
    .. [1] Yang et al., "LaSeR", arXiv:2510.14943.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> out = reg.single_token_reward(1e-4, 1.0, 0.1)
    >>> round(out["pi_token"], 10), round(out["log_ratio_reward"], 10)
    (0.6877797168, 0.8836053701)
    """
    p = V.real(p_token, "p_token", low=0.0, high=1.0, low_open=True, high_open=True)
    rr = V.real(r, "r")
    b = V.real(beta, "beta", low=0.0, low_open=True)
    with np.errstate(over="ignore"):
        x = float(np.float64(rr) / b)  # +-inf when 1/beta overflows: then pi* puts all mass on the better side
    # log Z = log(1 + p (e^x - 1)): log1p while e^x is a float, else x + log p + log1p((1 - p) e^-x / p)
    log_z = math.log1p(p * math.expm1(x)) if x <= 700.0 else x + math.log(p) + math.log1p((1.0 - p) * math.exp(-x) / p)
    # beta log Z, and beta log(pi*/p) = r - beta log Z, without forming r / beta where it overflows
    correction = b * log_z if math.isfinite(log_z) else rr + b * math.log(p)
    log_pi = math.log(p) + x - log_z if math.isfinite(x) else (0.0 if x > 0 else -math.inf)
    return {"pi_token": math.exp(log_pi), "log_ratio_reward": rr - correction, "correction": correction,
            "reward": (rr - correction) + correction}


def _preferences(P, k):
    PP = np.array(P, dtype=float)
    if PP.shape != (k, k):
        raise ValueError(f"P must be a ({k}, {k}) preference matrix (one row and column per response of ref), got "
                         f"shape {PP.shape}")
    if not np.all(np.isfinite(PP)) or np.any(PP < 0) or np.any(PP > 1):
        raise ValueError("P must have entries in [0, 1]")
    if np.max(np.abs(PP + PP.T - 1.0)) > 1e-12:
        raise ValueError("P must satisfy P + P^T = 1 (P[i, j] = Pr(y_i beats y_j), ties one half on the diagonal)")
    return PP


@V.renamed_keywords(q="ref")
def nash_gap(P, ref, tau, pi) -> float:
    r"""Duality gap of a policy in the KL-regularised preference game (zero exactly at the Nash equilibrium).

    .. math::

        \mathrm{gap}(\pi)=\tau\log\sum_yq_ye^{P(y\succ\pi)/\tau}-\tfrac12+\tau\,\mathrm{KL}(\pi\|q)\ \ge0,
        \qquad P(y\succ\pi)=\sum_jP_{yj}\pi_j .

    Parameters
    ----------
    P : array_like, shape (K, K)
        Preference matrix: P[i, j] the probability that response i beats j (P + P.T = 1).
    ref : array_like, shape (K,)
        Reference law, positive everywhere.
    tau : float
        KL coefficient of the game, > 0.
    pi : array_like, shape (K,)
        Policy probabilities.

    Returns
    -------
    float
        The duality gap, >= 0; ``inf`` if ``pi`` charges a zero of ``ref``.

    References
    ----------
    .. [1] Zhang et al., "Iterative Nash policy optimization (INPO)", arXiv:2407.00617.

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim import regularisers as reg
    >>> rps = np.array([[0.5, 1, 0], [0, 0.5, 1], [1, 0, 0.5]])
    >>> reg.nash_gap(rps, [1/3] * 3, 0.5, [1/3] * 3) < 1e-15
    True
    """
    pp = V.probabilities(ref, "ref")
    PP = _preferences(P, pp.size)
    t = V.real(tau, "tau", low=0.0, low_open=True)
    ppi = V.probabilities(pi, "pi")
    V.same_shape(ppi, pp, "pi", "ref")
    return float(penalised_value(pp, PP @ ppi, t) - 0.5 + t * float(kl(ppi, pp)))


@V.renamed_keywords(q="ref")
def nash_kl(P, ref, tau, *, steps: int = 20_000, eta: float = 0.5, tol: float = 1e-15) -> np.ndarray:
    r"""Nash equilibrium of the KL-regularised two-player preference game (symmetric, unique).

    .. math::

        \max_\pi\min_{\pi'}\ \pi^\top P\pi'-\tau\mathrm{KL}(\pi\|q)+\tau\mathrm{KL}(\pi'\|q),\qquad
        \pi_\tau(y)\propto q(y)\,e^{P(y\succ\pi_\tau)/\tau}.

    Online mirror descent (INPO-type), :math:`\log\pi_{t+1}=(1-\eta\tau)\log\pi_t+\eta\tau\log q+\eta P\pi_t`
    (normalised), then Newton on the fixed-point equation in the logits to machine precision; the plain fixed point
    oscillates for small :math:`\tau` and is not used. ``ValueError`` unless :func:`nash_gap` falls below
    ``1e-12``. With Bradley-Terry preferences the equilibrium is **not** the RLHF tilt :math:`qe^{r/\tau}`.

    Parameters
    ----------
    P : array_like, shape (K, K)
        :math:`P_{ij}=\Pr(y_i\succ y_j)`, with :math:`P+P^\top=1`.
    ref : array_like, shape (K,)
        Reference, positive.
    tau : float
        KL coefficient, ``>= 1e-8`` (below, the equilibrium's logits :math:`P\pi/\tau` are beyond what the root
        solver resolves).
    steps, eta, tol
        Mirror-descent budget, step (``eta * tau < 1``) and stopping change (``tol > 0``).

    Returns
    -------
    ndarray, shape (K,)
        The equilibrium policy.

    References
    ----------
    .. [1] Zhang et al., INPO, arXiv:2407.00617; Munos et al., "Nash learning from human feedback", ICML 2024.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> P = [[0.5, 0.3775406688, 0.2689414214], [0.6224593312, 0.5, 0.3775406688],
    ...      [0.7310585786, 0.6224593312, 0.5]]
    >>> reg.nash_kl(P, [0.5, 0.3, 0.2], 0.5).round(6)
    array([0.416417, 0.316837, 0.266746])
    """

    pp = V.probabilities(ref, "ref")
    if np.any(pp == 0):
        raise ValueError("ref must be positive (the equilibrium has the support of ref; drop responses with ref = 0)")
    PP = _preferences(P, pp.size)
    t = V.real(tau, "tau", low=1e-8)  # below, the logits P pi / tau are beyond what the root solver resolves
    e = V.real(eta, "eta", low=0.0, low_open=True)
    tl = V.real(tol, "tol", low=0.0, low_open=True)
    if e * t >= 1:
        raise ValueError(f"eta * tau must be < 1 for mirror descent, got {e * t!r}")
    log_q = np.log(pp)
    logits = log_q.copy()
    for _ in range(V.length(steps, "steps", high=V.MAX_STEPS, why="one pass over the game per step")):
        new = (1 - e * t) * logits + e * t * log_q + e * (PP @ np.exp(logits))
        new -= logsumexp(new)
        done = np.max(np.abs(new - logits)) < tl
        logits = new
        if done:
            break

    def residual(z):
        lg = np.append(z, 0.0)
        pi = np.exp(lg - logsumexp(lg))
        target = log_q + PP @ pi / t
        return (lg - target)[:-1] - (lg - target)[-1]

    sol = root(residual, logits[:-1] - logits[-1], method="hybr", options={"xtol": 1e-15})
    z = np.append(sol.x, 0.0)
    pi = np.exp(z - logsumexp(z))
    if nash_gap(PP, pp, t, pi) > 1e-12:
        raise ValueError("the Nash solver did not reach a duality gap below 1e-12; raise steps or lower eta")
    return pi
