r"""DPO under partial coverage: the solution set on the comparison graph and its extensions by online RLHF."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.special import logsumexp

from .. import _validate as V
from ..tilting import tilt


# --------------------------------------------------------------------------------------------------------------
# DPO under partial coverage
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DPOSolutionSet:
    r"""The minimisers of the DPO loss on a comparison graph (see :func:`dpo_solution_set`).

    .. math::

        \{\pi\propto q\,e^{h/\beta}:\ h=\hat h+c_k\ \text{on component }k,\ h\ \text{free on uncovered responses}\}.

    Attributes
    ----------
    bt_mle : ndarray
        Bradley-Terry MLE :math:`\hat h` (0 at the lowest-index response of each component, 0 on uncovered ones).
    components : list of ndarray
        Connected components of the comparison graph (responses compared at least once).
    uncovered : ndarray of bool
        Responses never compared: their mass is not identified by the data.
    loss : float
        The DPO loss at every minimiser.
    gd_limit : ndarray
        Limit of tabular-softmax gradient descent from logits :math:`\log q` (logit sum of each component
        conserved, uncovered logits unchanged).
    min_kl : ndarray
        The minimiser closest to :math:`q` in KL (each component and the uncovered set keep their reference mass).
    beta : float
    ref : ndarray

    References
    ----------
    .. [1] Y. Song et al., "The importance of online data: understanding preference fine-tuning via coverage",
       NeurIPS 2024, arXiv:2406.01462.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> sol = reg.dpo_solution_set([0.45, 0.05, 0.5], [(1, 0, 3), (0, 1, 1)], 1.0)
    >>> sol.min_kl.round(6)
    array([0.375, 0.125, 0.5  ])
    """

    bt_mle: np.ndarray
    components: list
    uncovered: np.ndarray
    loss: float
    gd_limit: np.ndarray
    min_kl: np.ndarray
    beta: float
    ref: np.ndarray

    def online_rlhf(self, extension) -> np.ndarray:
        r"""Online RLHF with a reward model equal to :math:`\hat h` on covered responses and ``extension`` (a
        scalar or one value per uncovered response) elsewhere: :math:`\pi\propto q\,e^{\hat r/\beta}`.

        Parameters
        ----------
        extension : float or array_like
            Reward given to the uncovered responses: one value, or one per uncovered response.

        Returns
        -------
        ndarray, shape (K,)
            The online-RLHF policy.
        """
        ext = V.real_array(extension, "extension").ravel()
        r_hat = self.bt_mle.copy()
        n_unc = int(self.uncovered.sum())
        if ext.size not in (1, n_unc):
            raise ValueError(f"extension must be a scalar or have {n_unc} values (one per uncovered response)")
        r_hat[self.uncovered] = ext
        return tilt(self.ref, r_hat, self.beta)

    @property
    def q(self) -> np.ndarray:
        """Former name of :attr:`ref` (warns)."""
        warnings.warn(f"{type(self).__name__}.q is deprecated; use .ref", DeprecationWarning, stacklevel=2)
        return self.ref


@V.renamed_keywords(q="ref")
def dpo_solution_set(ref, comparisons, beta) -> DPOSolutionSet:
    r"""The set of DPO minimisers on a comparison graph, and which of them training picks.

    .. math::

        L(\pi) = -\sum_{(w,l)}n_{wl}\log\sigma(h_w-h_l),\qquad h_y=\beta\log\frac{\pi_y}{q_y},

    depends on :math:`h` only through differences along compared pairs: the mass of never-compared responses and
    the split between components are not identified (global coverage is what DPO needs). The
    Bradley-Terry MLE exists on a component iff its directed win graph is strongly connected (else the data are
    separable and ``ValueError`` is raised).

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference, positive.
    comparisons : iterable of (winner, loser, count)
    beta : float

    Returns
    -------
    DPOSolutionSet

    References
    ----------
    .. [1] Song et al., arXiv:2406.01462; R. Rafailov et al., "Direct preference optimization", NeurIPS 2023.

    Examples
    --------
    >>> from alignsim import regularisers as reg
    >>> round(reg.dpo_solution_set([0.45, 0.05, 0.5], [(1, 0, 3), (0, 1, 1)], 1.0).loss, 12)
    2.249340578475
    """

    pp = V.probabilities(ref, "ref")
    if np.any(pp == 0):
        raise ValueError("ref must be positive")
    b = V.real(beta, "beta", low=0.0, low_open=True)
    K = pp.size
    wins = np.zeros((K, K))
    for item in comparisons:
        if len(item) != 3:
            raise ValueError(f"comparisons must be (winner, loser, count) triples, got {item!r}")
        w, l, n = item
        if not (0 <= int(w) < K and 0 <= int(l) < K) or int(w) == int(l):
            raise ValueError(f"comparison indices must be distinct responses in [0, {K}), got {item!r}")
        wins[int(w), int(l)] += V.real(n, "count", low=0.0)
    covered = (wins.sum(axis=0) + wins.sum(axis=1)) > 0
    if not np.any(covered):
        raise ValueError("comparisons must contain at least one comparison with a positive count")
    _, label = connected_components(coo_matrix(wins + wins.T), directed=False)
    _, strong = connected_components(coo_matrix(wins), directed=True, connection="strong")
    h = np.zeros(K)
    components, loss = [], 0.0
    for lab in np.unique(label[covered]):
        idx = np.flatnonzero((label == lab) & covered)
        if np.unique(strong[idx]).size > 1:
            raise ValueError(f"the comparisons on responses {idx.tolist()} are separable (some subset never loses to "
                             "the rest): the Bradley-Terry MLE, and so the DPO minimiser, does not exist")
        W = wins[np.ix_(idx, idx)]

        def nll(x, W=W):
            z = np.concatenate(([0.0], x))
            d = z[:, None] - z[None, :]
            val = float(np.sum(W * np.logaddexp(0.0, -d)))
            g = W * (1.0 / (1.0 + np.exp(d)))  # d/dd of log(1 + e^{-d}) is -sigma(-d)
            grad = -(g.sum(axis=1) - g.sum(axis=0))
            return val, grad[1:]

        res = minimize(nll, np.zeros(idx.size - 1), jac=True, method="BFGS", options={"gtol": 1e-13})
        h[idx] = np.concatenate(([0.0], res.x))
        loss += float(res.fun)
        components.append(idx)
    uncovered = ~covered
    theta = np.log(pp)
    with np.errstate(over="ignore"):
        for idx in components:  # logit sums of a component are conserved by gradient descent
            theta[idx] += (h[idx] - h[idx].mean()) / b
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"beta = {b!r} is so small that the DPO logits h / beta leave the float range")
    gd = np.exp(theta - logsumexp(theta))
    min_kl = pp.copy()
    for idx in components:
        shape = pp[idx] * np.exp((h[idx] - h[idx].max()) / b)
        min_kl[idx] = pp[idx].sum() * shape / shape.sum()
    return DPOSolutionSet(h, components, uncovered, loss, gd, min_kl, b, pp)
