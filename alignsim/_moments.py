r"""Cumulants of a finite law from its central moments: the one place where moments become cumulants.

For a scalar :math:`X` with mean :math:`\kappa_1` and central moments :math:`m_j = \mathbb E(X-\kappa_1)^j`,

.. math::

    \kappa_j = m_j - \sum_{i=2}^{j-2}\binom{j-1}{i-1}\kappa_i\,m_{j-i}\qquad (j\ge2),

(P. McCullagh, *Tensor Methods in Statistics*, 1987, sec. 2.3); for a vector statistic the same relation up to
order four gives the covariance, the third central moment tensor and the fourth cumulant tensor
:math:`m_4 - [3]\,G\otimes G`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import comb


def cumulants(w: np.ndarray, x: np.ndarray, order: int) -> np.ndarray:
    r"""Cumulants :math:`\kappa_1..\kappa_{\mathrm{order}}` of the law putting weight ``w`` on the values ``x``.

    The central moments are exactly rounded sums (``math.fsum``), so a nearly degenerate law keeps its digits.
    """
    mean = math.fsum(w * x)
    dev = x - mean
    m = [1.0, 0.0] + [math.fsum(w * dev ** j) for j in range(2, order + 1)]
    kappa = [0.0, mean]
    for j in range(2, order + 1):
        kappa.append(m[j] - sum(comb(j - 1, i - 1, exact=True) * kappa[i] * m[j - i] for i in range(2, j - 1)))
    return np.array(kappa[1:order + 1])



def tensor_cumulants(pr: np.ndarray, T: np.ndarray, order: int):
    """Mean, covariance, third central moment and fourth cumulant tensors (up to ``order``) of the rows of ``T``
    (shape (K, p)) under the law ``pr``; returned as a tuple of arrays of growing rank."""
    if order not in (1, 2, 3, 4):
        raise ValueError(f"order must be 1, 2, 3 or 4, got {order}")
    mean = pr @ T
    d = T - mean
    out = [mean]
    if order >= 2:
        G = np.einsum("k,ki,kj->ij", pr, d, d)
        out.append(G)
    p = T.shape[1]
    outer = (d[:, :, None] * d[:, None, :]).reshape(-1, p * p)  # rows d_k (x) d_k, so moments are matrix products
    if order >= 3:
        out.append(((outer * pr[:, None]).T @ d).reshape(p, p, p))
    if order >= 4:
        m4 = ((outer * pr[:, None]).T @ outer).reshape(p, p, p, p)
        out.append(m4 - G[:, :, None, None] * G[None, None, :, :] - G[:, None, :, None] * G[None, :, None, :]
                   - G[:, None, None, :] * G[None, :, :, None])
    return tuple(out)
