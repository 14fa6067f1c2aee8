r"""InfAlign on finite laws, exactly: calibration estimates and their moments, inference-time win rates, result (B)'s
transformed reward and CTRL policies."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binom

from .. import _validate as V
from .._levels import calibrated
from ..bon import bon_law, won_law
from ..divergences import kl as _kl
from ..tilting import tilt
from ._transforms import _AGAINST, Transform, _procedure, _transform


# --------------------------------------------------------------------------------------------------------------
# Calibration from samples
# --------------------------------------------------------------------------------------------------------------
def estimate_calibrated_reward(reference_rewards, rewards) -> np.ndarray:
    r"""Empirical mid-rank calibrated reward from :math:`m` reference samples.

    .. math::

        \hat C_m(y) = \frac1m\sum_{j=1}^m\Big[\mathbb 1\{r(y)>r(z_j)\}+\tfrac12\mathbb 1\{r(y)=r(z_j)\}\Big],
        \qquad z_j\sim\pi_{\rm ref}.

    Unbiased for :math:`C(y)`, with :math:`\mathrm{Var}\,\hat C_m = (P_< + \frac14P_= - C^2)/m\le 1/(4m)`
    (:math:`P_<, P_=` the reference probabilities of a smaller / equal reward); a non-linear transform of it is
    biased (:func:`calibration_moments`, :func:`smoothed`). Cost :math:`O((m+n)\log m)`.

    Parameters
    ----------
    reference_rewards : array_like, shape (m,)
        Rewards of reference samples.
    rewards : array_like, shape (n,)
        Rewards to calibrate.

    Returns
    -------
    ndarray, shape (n,)

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (reward calibration).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.estimate_calibrated_reward([0.0, 1.0, 1.0, 2.0], [1.0, 3.0])
    array([0.5, 1. ])
    """
    z = np.sort(V.rewards(reference_rewards, "reference_rewards"))
    y = V.rewards(np.atleast_1d(rewards), "rewards")
    below = np.searchsorted(z, y, side="left")
    upto = np.searchsorted(z, y, side="right")
    return (below + upto) / (2.0 * z.size)


def _trinomial_mean(values_of, m, lo, eq):
    """E[values_of((B + E/2)/m)] for (B, E, .) ~ Multinomial(m; lo, eq, 1 - lo - eq), by exact summation."""
    b = np.arange(m + 1)
    total = 0.0
    for e in range(m + 1):
        # B | E = e is Binomial(m - e, lo / (1 - eq)); E is Binomial(m, eq).
        pe = binom.pmf(e, m, eq)
        if pe == 0:
            continue
        q = min(lo / (1.0 - eq), 1.0) if eq < 1 else 0.0  # lo + eq = 1 at the top level, up to rounding
        pb = binom.pmf(b[: m - e + 1], m - e, q)
        keep = pb > 0  # an impossible count contributes nothing, even where Phi is infinite (log at 0)
        total += pe * float(pb[keep] @ values_of((b[: m - e + 1][keep] + 0.5 * e) / m))
    return total


@V.renamed_keywords(p="ref")
def calibration_moments(ref, r, m, transform=None):
    r"""Exact moments of the estimated calibrated reward :math:`\hat C_m` of each reward level.

    .. math::

        \mathbb E\hat C_m = C,\qquad \mathrm{Var}\,\hat C_m=\frac{P_<+\tfrac14P_=-C^2}{m},\qquad
        \mathbb E\,\Phi(\hat C_m)=\sum_{b+e\le m}\binom{m}{b,\,e}P_<^bP_=^eP_>^{m-b-e}\,\Phi\Big(\frac{b+e/2}{m}\Big),

    since :math:`m\hat C_m = B + E/2` with :math:`(B, E)` the numbers of reference samples below / tied. The bias
    :math:`\mathbb E\Phi(\hat C_m)-\Phi(C)` is positive for convex :math:`\Phi`.

    Parameters
    ----------
    ref, r : array_like, shape (K,)
        Reference law and rewards.
    m : int
        Number of reference samples, ``m >= 1``.
    transform : Transform, str, callable or None
        If given, add the exact mean and bias of :math:`\Phi(\hat C_m)` (cost :math:`O(m^2)` per level).

    Returns
    -------
    pandas.DataFrame
        One row per reward level: ``level``, ``C``, ``var``; with a transform also ``phi_of_C``, ``phi_mean``,
        ``bias``. ``phi_mean`` and ``bias`` are ``-inf`` where the transform is infinite at 0 (``"log"``) and
        :math:`\hat C_m = 0` has positive probability (every sample above the level).

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792 (reward calibration).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.calibration_moments([0.5, 0.5], [0, 1], 4)[["C", "var"]].to_numpy().round(6)
    array([[0.25    , 0.015625],
           [0.75    , 0.015625]])
    """

    pp, rr = V.policy_and_rewards(ref, r, "ref")
    mm = V.length(m, "m")
    levels, inv = np.unique(rr, return_inverse=True)
    eq = np.bincount(inv, weights=pp, minlength=levels.size)
    lo = np.concatenate(([0.0], np.cumsum(eq)[:-1]))
    c = lo + 0.5 * eq
    out = {"level": levels, "C": c, "var": np.maximum(lo + 0.25 * eq - c * c, 0.0) / mm}
    if transform is not None:
        tr = _transform(transform)
        phi_c = tr(c)
        # a level's tied mass may round to 1 + ulp (one level holding the whole law): binom needs it in [0, 1]
        mean = np.array([_trinomial_mean(tr, mm, a, b) for a, b in zip(np.minimum(lo, 1.0), np.minimum(eq, 1.0))])
        out.update(phi_of_C=phi_c, phi_mean=mean, bias=mean - phi_c)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------------------------
# Finite laws: exact inference-time win rates, result (B), CTRL policies
# --------------------------------------------------------------------------------------------------------------
def _decode(law, r, kind, nn):
    return (won_law if kind == "won" else bon_law)(law, r, nn[2])


def _finite_win_rate(pi, ref, r, kind, nn, against):
    ref_side = _decode(ref, r, kind, nn) if against == "decoded" else ref
    return float(np.dot(_decode(pi, r, kind, nn), calibrated(ref_side, r)))


def inference_time_win_rate(pi, ref, r, procedure: str = "bon", N=1, *, against: str = "decoded") -> float:
    r"""Exact inference-time win rate of ``pi`` over ``ref`` on a finite law, ties counting one half.

    .. math::

        W^{\mathcal T}(\pi) = \sum_\ell q_\pi(\ell)\Big[Q(\ell^-)+\tfrac12 q(\ell)\Big],

    with :math:`q_\pi` the reward-level law of :math:`\mathcal T(\pi)` and :math:`q, Q` the law and CDF of the
    comparator: :math:`\mathcal T(\pi_{\rm ref})` (``against="decoded"``, the paper's definition) or
    :math:`\pi_{\rm ref}` (``against="reference"``). Best-of-N: level law :math:`F^N_\ell-F^N_{\ell^-}`; worst-of-N:
    :math:`S^N_\ell-S^N_{\ell^+}` with :math:`S` the survival function.

    Parameters
    ----------
    pi, ref : array_like, shape (K,)
        Aligned and reference policies.
    r : array_like, shape (K,)
        Rewards (equal rewards tie).
    procedure : {"std", "bon", "won"}
        Plain sampling, best-of-N, worst-of-N.
    N : int or float
        Samples per decoding, :math:`N\ge1` (1 for ``"std"``).
    against : {"decoded", "reference"}

    Returns
    -------
    float in [0, 1]

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, section 2 (inference-time win rate).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.inference_time_win_rate([0.5, 0.5], [0.5, 0.5], [0, 1], "bon", 4)
    0.5
    >>> ia.inference_time_win_rate([0.5, 0.5], [0.5, 0.5], [0, 1], "bon", 4, against="reference")
    0.71875
    """
    ppi = V.probabilities(pi, "pi")
    pref, rr = V.policy_and_rewards(ref, r, "ref", "r")
    V.same_shape(ppi, pref, "pi", "ref")
    kind, nn = _procedure(procedure, N)
    V.choice(against, "against", _AGAINST)
    return _finite_win_rate(ppi, pref, rr, kind, nn, against)


def _lemma_b(a, c, kind, n):
    """Result (B) on levels: gradient of W = sum_l T(a)_l c_l w.r.t. the level masses a (up to a constant)."""
    if kind == "bon":
        F = np.minimum(np.cumsum(a), 1.0)
        dc = c - np.concatenate((c[1:], [0.0]))
        terms = n * np.power(F, n - 1.0) * dc
        return np.cumsum(terms[::-1])[::-1]
    S = np.concatenate((np.cumsum(a[::-1])[::-1][1:], [0.0]))
    dc = np.concatenate((c[1:], [c[-1]])) - c
    terms = n * np.power(S, n - 1.0) * dc
    return -np.cumsum(terms[::-1])[::-1]


def transformed_reward(pi, ref, r, procedure: str = "bon", N=1, *, against: str = "decoded") -> np.ndarray:
    r"""The transformed reward of result (A): the gradient of the inference-time win rate, on a finite law.

    .. math::

        \text{BoN: }\ \mathcal R(y\in\ell_j)=\sum_{i\ge j}N F_i^{N-1}(c_i-c_{i+1}),\qquad
        \text{WoN: }\ \mathcal R(y\in\ell_j)=-\sum_{i=j}^{L-1}N S_i^{N-1}(c_{i+1}-c_i),

    with :math:`F_i, S_i` the CDF and survival of ``pi`` at the reward levels :math:`\ell_1<\dots<\ell_L` of ``r``,
    :math:`c_i` the calibrated reward of level :math:`i` under the comparator (:math:`\mathcal T(\pi_{\rm ref})` or
    :math:`\pi_{\rm ref}`) and :math:`c_{L+1}=0`. The optimum of
    :math:`W^{\mathcal T}-\beta\,\mathrm{KL}` satisfies :math:`\pi^\star\propto\pi_{\rm ref}e^{\mathcal R_{\pi^\star}/\beta}`.
    Defined up to an additive constant; normalised to 0 at the lowest reward level. ``"std"`` gives the
    calibrated reward (shifted).

    Parameters
    ----------
    pi, ref, r, procedure, N, against
        As in :func:`inference_time_win_rate`.

    Returns
    -------
    ndarray, shape (K,)
        :math:`\partial W^{\mathcal T}/\partial\pi(y)` for every outcome, including those ``pi`` never produces.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, main theorem (RL with a transformed reward).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> ia.transformed_reward([0.5, 0.5], [0.5, 0.5], [0, 1], "bon", 2)
    array([0. , 0.5])
    """
    ppi = V.probabilities(pi, "pi")
    pref, rr = V.policy_and_rewards(ref, r, "ref", "r")
    V.same_shape(ppi, pref, "pi", "ref")
    kind, nn = _procedure(procedure, N)
    V.choice(against, "against", _AGAINST)
    levels, inv = np.unique(rr, return_inverse=True)
    a = np.bincount(inv, weights=ppi, minlength=levels.size)
    comp = _decode(pref, rr, kind, nn) if against == "decoded" else pref
    c = calibrated(np.bincount(inv, weights=comp, minlength=levels.size), levels)
    with np.errstate(invalid="ignore", over="ignore"):
        g = _lemma_b(a, c, kind, nn[0])
        out = (g - g[0])[inv]
    if not np.all(np.isfinite(out)):
        raise ValueError(f"N = about 1e{nn[1] / math.log(10.0):.0f}: the transformed reward, of order N (c_i - c_(i+1)) at the top level, is beyond "
                         "the float range")
    return out


@dataclass(frozen=True)
class CTRLPolicy:
    r"""A calibrate-and-transform policy on a finite law, :math:`\pi\propto\pi_{\rm ref}e^{\Phi(C)/\beta}`.

    Made by :func:`ctrl_policy`. ``policy`` is the law over outcomes; ``kl`` is
    :math:`\mathrm{KL}(\pi\|\pi_{\rm ref})` in nats (of the *trained* policy); :meth:`win_rate` gives the
    standard (``"std"``), best-of-N and worst-of-N inference-time win rates.

    .. math::

        \pi_{\Phi,\beta}(y)=\frac{\pi_{\rm ref}(y)\,e^{\Phi(C(y))/\beta}}{Z}.

    Parameters
    ----------
    ref : ndarray
        Reference law over outcomes.
    r : ndarray
        Rewards.
    transform : Transform
        The transform Phi of the calibrated reward.
    beta : float
        KL coefficient.
    policy : ndarray
        The CTRL policy over outcomes.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, section 4 (CTRL).

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> pol = ia.ctrl_policy([0.25] * 4, [0, 1, 2, 3], "identity", 0.2)
    >>> round(pol.kl, 9), round(pol.win_rate("won", 4), 9)
    (0.587454922, 0.90195147)
    """

    ref: np.ndarray = field(repr=False)
    r: np.ndarray = field(repr=False)
    transform: Transform
    beta: float
    policy: np.ndarray = field(repr=False)

    @property
    def kl(self) -> float:
        """KL(policy || ref) in nats."""
        return float(_kl(self.policy, self.ref))

    def win_rate(self, procedure: str = "std", N=1, *, against: str = "decoded") -> float:
        """Inference-time win rate (:func:`inference_time_win_rate`) of the policy over the reference.

        Parameters
        ----------
        procedure : {"std", "bon", "won"}
            Inference-time procedure: plain sampling, best-of-N or worst-of-N.
        N : int or float
            Number of samples of the procedure, N >= 1 (ignored for "std").
        against : {"decoded", "reference"}
            Compare with the reference decoded by the same procedure (default) or with plain reference
            samples.

        Returns
        -------
        float
            The inference-time win rate, ties one half.
        """
        return inference_time_win_rate(self.policy, self.ref, self.r, procedure, N, against=against)

    def transformed_reward(self, procedure: str = "bon", N=1, *, against: str = "decoded") -> np.ndarray:
        """Result (B)'s reward at this policy (:func:`transformed_reward`).

        Parameters
        ----------
        procedure : {"std", "bon", "won"}
            Inference-time procedure: plain sampling, best-of-N or worst-of-N.
        N : int or float
            Number of samples of the procedure, N >= 1 (ignored for "std").
        against : {"decoded", "reference"}
            Compare with the reference decoded by the same procedure (default) or with plain reference
            samples.

        Returns
        -------
        ndarray, shape (K,)
            The transformed reward of every outcome (defined up to a constant).
        """
        return transformed_reward(self.policy, self.ref, self.r, procedure, N, against=against)


def _finite_phi(tr, pp, rr):
    values = tr(calibrated(pp, rr))
    bad = (pp > 0) & ~np.isfinite(values)
    if np.any(bad) or np.any(np.isnan(values)):
        raise ValueError(f"transform {tr.name} must be finite at the calibrated rewards of the support of p")
    return np.where(np.isfinite(values), values, 0.0)


@V.renamed_keywords(p="ref")
def ctrl_policy(ref, r, transform, beta) -> CTRLPolicy:
    r"""The CTRL policy of a finite law: the KL-regularised optimum for the reward :math:`\Phi(C(y))`.

    .. math::

        \pi_{\Phi,\beta}(y)\propto p(y)\,e^{\Phi(C(y))/\beta},\qquad C = \text{calibrated\_reward}(p, r),

    computed by :func:`alignsim.tilt` (log space). For a memoryless LM pass its reward-level law:
    ``levels, probs = lm.reward_law(); ctrl_policy(probs, levels, ...)`` (CTRL depends on sequences only through
    their reward level).

    Parameters
    ----------
    ref, r : array_like, shape (K,)
        Reference law and rewards.
    transform : Transform, str or callable
    beta : float
        :math:`0<\beta\le\infty`, in the scale of ``transform`` (see :func:`exp_transform`).

    Returns
    -------
    CTRLPolicy
        With ``beta = inf`` (the reference itself) its ``beta`` field is ``inf``.

    References
    ----------
    .. [1] Balashankar et al., arXiv:2412.19792, section 4.

    Examples
    --------
    >>> from alignsim import infalign as ia
    >>> pol = ia.ctrl_policy([0.5, 0.5], [0, 1], "identity", 1.0)
    >>> pol.policy.round(6)
    array([0.377541, 0.622459])
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    tr = _transform(transform)
    b = V.beta(beta)
    return CTRLPolicy(pp, rr, tr, b, tilt(pp, _finite_phi(tr, pp, rr), b))
