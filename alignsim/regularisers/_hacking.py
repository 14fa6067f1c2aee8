r"""Reward hacking on exact toys: Goodhart toys, ensemble rewards, gold-reward paths of each optimiser and the
correlated-proxy bound."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from .. import _validate as V
from ..bon import bon_kl, bon_law
from ..divergences import kl
from ..generators import GENERATOR_NAMES
from ._optimum import f_optimum


# --------------------------------------------------------------------------------------------------------------
# Reward hacking
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GoodhartToy:
    r"""A bandit with a gold reward and proxy rewards that agree except on rare "hack" responses.

    .. math::

        \tilde r = r^\star\ \text{on honest responses},\qquad \tilde r_{\rm hack}\gg r^\star_{\rm hack} = -1 .

    Attributes
    ----------
    ref : ndarray
        Reference law.
    gold : ndarray
    proxies : ndarray, shape (M, K)
        One row per reward model (``M = 1`` for G1).

    References
    ----------
    .. [1] L. Gao, J. Schulman, J. Hilton, "Scaling laws for reward model overoptimization", ICML 2023.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> toy = reg.goodhart_toy("G1")
    >>> round(float(toy.ref @ toy.gold), 6), toy.proxies.shape
    (-0.003, (1, 103))
    """

    ref: np.ndarray
    gold: np.ndarray
    proxies: np.ndarray

    @property
    def proxy(self) -> np.ndarray:
        """The single proxy (first reward model)."""
        return self.proxies[0]

    @property
    def q(self) -> np.ndarray:
        """Former name of :attr:`ref` (warns)."""
        warnings.warn(f"{type(self).__name__}.q is deprecated; use .ref", DeprecationWarning, stacklevel=2)
        return self.ref


def goodhart_toy(kind: str = "G1", *, eps: float = 0.003, hack_reward: float | None = None,
                 n_honest: int = 100) -> GoodhartToy:
    r"""Exact Goodhart toys: ``n_honest`` honest responses with
    :math:`r^\star=\tilde r=\Phi^{-1}((i-\frac12)/n)` and mass :math:`(1-\varepsilon)/n`, and three hack responses of
    mass :math:`\varepsilon/3` and gold :math:`-1`.

    .. math::

        \text{G1: } \tilde r_{\rm hack}=(c,-1,-1),\ c=4;\qquad
        \text{G2: member } m \text{ gives hack } m \text{ the proxy } 12 \text{ and the others } -1 .

    Under the reference G1's proxy has correlation 0.987 with the gold reward and is still hacked.

    Parameters
    ----------
    kind : {"G1", "G2"}
    eps : float
        Total mass of the hacks, in (0, 1).
    hack_reward : float, optional
        The hack's proxy reward (default 4 for G1, 12 for G2).
    n_honest : int

    Returns
    -------
    GoodhartToy
        The toy's reference law, gold reward and proxy reward(s).

    References
    ----------
    .. [1] Laidlaw, Singhal, Dragan, arXiv:2403.03185; Coste et al.,
       arXiv:2310.02743.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> reg.goodhart_toy("G2").proxies.shape
    (3, 103)
    """

    V.choice(kind, "kind", ("G1", "G2"))
    e = V.real(eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True)
    n = V.length(n_honest, "n_honest", high=10 ** 7, why="the toy has n_honest + 3 responses")
    honest = norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    q = np.concatenate((np.full(n, (1 - e) / n), np.full(3, e / 3)))
    gold = np.concatenate((honest, [-1.0, -1.0, -1.0]))
    c = V.real(hack_reward if hack_reward is not None else (4.0 if kind == "G1" else 12.0), "hack_reward")
    if kind == "G1":
        proxies = np.concatenate((honest, [c, -1.0, -1.0]))[None, :]
    else:
        proxies = np.array([np.concatenate((honest, np.where(np.arange(3) == m, c, -1.0))) for m in range(3)])
    return GoodhartToy(q, gold, proxies)


_RULES = ("mean", "wco", "uwo")


def ensemble_reward(members, rule: str = "mean", *, lam: float = 0.0, ddof: int = 0) -> np.ndarray:
    r"""Aggregate an ensemble of reward models per response (Coste et al.).

    .. math::

        \text{mean: }\bar r,\qquad \text{wco: }\min_m\tilde r^{(m)},\qquad
        \text{uwo: }\bar r-\lambda\,\frac{1}{M-\mathrm{ddof}}\sum_m(\tilde r^{(m)}-\bar r)^2 .

    The variance normalisation of UWO (``ddof`` 0 or 1) is unconfirmed in the source: it is a
    parameter.

    Parameters
    ----------
    members : array_like, shape (M, K)
    rule : {"mean", "wco", "uwo"}
    lam : float
        UWO's weight, >= 0.
    ddof : int

    Returns
    -------
    ndarray, shape (K,)
        The aggregated reward of each response.

    References
    ----------
    .. [1] T. Coste, U. Anwar, R. Kirk, D. Krueger, "Reward model ensembles help mitigate overoptimization",
       ICLR 2024, arXiv:2310.02743.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> reg.ensemble_reward([[1.0, 0.0], [3.0, 0.0]], "uwo", lam=0.5)
    array([1.5, 0. ])
    """
    M = V.real_array(members, "members")
    if M.ndim != 2 or M.shape[0] < 1:
        raise ValueError(f"members must be a finite (M, K) array, got shape {M.shape}")
    V.choice(rule, "rule", _RULES)
    # lam and ddof are checked whatever the rule, so a wrong one is never silently ignored
    lm = V.real(lam, "lam", low=0.0)
    V.choice(ddof, "ddof", (0, 1))
    if M.shape[0] - ddof < 1:
        raise ValueError(f"ddof must be less than the number of members ({M.shape[0]}), got {ddof!r}")
    if rule == "mean":
        return M.mean(axis=0)
    if rule == "wco":
        return M.min(axis=0)
    return M.mean(axis=0) - lm * M.var(axis=0, ddof=ddof)


@V.renamed_keywords(q="ref")
def gold_path(ref, proxy, gold, method: str = "kl", grid=None, *, alpha=None):
    r"""Gold and proxy rewards along an optimisation path on the proxy: a :math:`\beta` sweep of an
    :math:`f`-regularised optimum (``method`` a divergence name, ``"kl"`` for reverse KL) or best-of-N under the
    proxy (``"bon"``, ties broken at random), all exact.

    .. math::

        \big(\mathrm{KL}(\pi\|q),\ \mathbb E_\pi\tilde r,\ \mathbb E_\pi r^\star,\ \pi(\tilde r>r^\star)\big)
        \quad\text{along}\quad \pi_\beta\propto\dots\ \text{or}\ \pi_N .

    Parameters
    ----------
    ref, proxy, gold : array_like, shape (K,)
    method : str
        ``"kl"``/``"reverse_kl"``, another divergence of :func:`f_optimum`, or ``"bon"``.
    grid : array_like, optional
        Values of :math:`\beta` (default 200 from 50 down to 0.002) or of :math:`N` (default 1..4096).
    alpha : float, optional
        Order of the ``"alpha"`` divergence (required for it, ignored otherwise).

    Returns
    -------
    pandas.DataFrame
        ``param, kl, sqrt_kl, own_divergence, proxy, gold, hack_mass`` (hack mass: on responses whose proxy exceeds
        their gold reward).

    References
    ----------
    .. [1] Gao, Schulman, Hilton, "Scaling laws for reward model overoptimization", ICML 2023.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> toy = reg.goodhart_toy("G1")
    >>> df = reg.gold_path(toy.ref, toy.proxy, toy.gold, "bon", [2, 81])
    >>> df["gold"].round(6).tolist()
    [0.557013, 2.075731]
    """


    pp = V.probabilities(ref, "ref")
    pr = V.rewards(proxy, "proxy", size=pp.size, like="ref")
    gd = V.rewards(gold, "gold", size=pp.size, like="ref")
    V.choice(method, "method", ("bon", "kl") + tuple(GENERATOR_NAMES))
    hack = pr > gd
    rows = []
    if method == "bon":
        ns = np.unique(np.round(np.geomspace(1, 4096, 120)).astype(int)) if grid is None else grid
        for N in ns:
            law = bon_law(pp, pr, N)
            k = bon_kl(pp, pr, N)
            rows.append((N, k, math.sqrt(max(k, 0.0)), k, float(law @ pr), float(law @ gd), float(law[hack].sum())))
    else:
        name = "reverse_kl" if method == "kl" else method
        bs = np.geomspace(50.0, 0.002, 200) if grid is None else grid
        for b in bs:
            opt = f_optimum(pp, pr, b, name, alpha=alpha)
            k = float(kl(opt.pi, pp))
            rows.append((float(b), k, math.sqrt(k) if math.isfinite(k) else math.inf, opt.divergence,
                         opt.expected_reward, float(opt.pi @ gd), float(opt.pi[hack].sum())))
    return pd.DataFrame(rows, columns=["param", "kl", "sqrt_kl", "own_divergence", "proxy", "gold", "hack_mass"])


@V.renamed_keywords(q="ref")
def correlated_proxy_bound(pi, ref, proxy, gold) -> float:
    r"""Lower bound on the gold gain of any policy from its proxy gain and its :math:`\chi^2` divergence.

    .. math::

        \mathbb E_\pi r^\star-\mathbb E_qr^\star\ \ge\ \frac{\sigma_{r^\star}}{\sigma_{\tilde r}}
        \Big[\rho\,(\mathbb E_\pi\tilde r-\mathbb E_q\tilde r)-\sigma_{\tilde r}\sqrt{1-\rho^2}\sqrt{\chi^2(\pi\|q)}\Big],

    :math:`\rho,\sigma` the correlation and standard deviations under :math:`q` (Cauchy-Schwarz).
    Maximising the right side is a :math:`\sqrt{\chi^2}`-penalised objective with weight
    :math:`\lambda=\sigma_{\tilde r}\sqrt{1-\rho^2}/\rho`; the summary of Laidlaw et al. quotes
    :math:`\sigma_{\tilde R}\sqrt{1-r^2}` without the :math:`1/\rho` — the constant is an open question (we implement
    our derivation). ``-inf`` when ``pi`` leaves the support of ``ref``.

    Parameters
    ----------
    pi : array_like, shape (K,)
        Policy probabilities.
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    proxy : array_like, shape (K,)
        Proxy reward of each response.
    gold : array_like, shape (K,)
        Gold reward of each response.

    Returns
    -------
    float
        The lower bound on E_pi gold - E_ref gold.

    References
    ----------
    .. [1] C. Laidlaw, S. Singhal, A. Dragan, "Correlated proxies: a new definition and improved mitigation for
       reward hacking", ICLR 2025, arXiv:2403.03185.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> reg.correlated_proxy_bound([0.5, 0.5], [0.5, 0.5], [0.0, 1.0], [0.0, 2.0])
    0.0
    """
    ppi = V.probabilities(pi, "pi")
    pp = V.probabilities(ref, "ref")
    V.same_shape(ppi, pp, "pi", "ref")
    pr = V.rewards(proxy, "proxy", size=pp.size, like="ref")
    gd = V.rewards(gold, "gold", size=pp.size, like="ref")
    if np.any(ppi[pp == 0] > 0):
        return -math.inf
    # sqrt(chi2) as a scaled norm of |pi - ref| / sqrt(ref): chi2 itself overflows for a subnormal ref mass
    on = pp > 0
    a = np.abs(ppi[on] - pp[on]) / np.sqrt(pp[on])
    top = float(a.max())
    root_chi2 = top * math.sqrt(float(np.sum((a / top) ** 2))) if top > 0 else 0.0
    # the bound is invariant to the proxy's scale and proportional to the gold's: compute on unit scales
    ps, gs = float(np.max(np.abs(pr))), float(np.max(np.abs(gd)))
    if ps == 0 or gs == 0:
        raise ValueError("proxy and gold must both vary under ref")
    pr, gd = pr / ps, gd / gs
    mp, mg = pp @ pr, pp @ gd
    sp, sg = math.sqrt(pp @ (pr - mp) ** 2), math.sqrt(pp @ (gd - mg) ** 2)
    if sp == 0 or sg == 0:
        raise ValueError("proxy and gold must both vary under ref")
    rho = float(pp @ ((pr - mp) * (gd - mg))) / (sp * sg)
    unit = sg / sp * (rho * float(ppi @ pr - mp) - sp * math.sqrt(max(1 - rho * rho, 0.0)) * root_chi2)
    return gs * unit
