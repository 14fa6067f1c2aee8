r"""Binary verifiable rewards through a noisy verifier: what the trainer observes."""

from __future__ import annotations

import numpy as np

from .. import _validate as V


def _rate(x, name):
    return V.real(x, name, low=0.0, high=1.0)


def observed_success(p, fp: float = 0.0, fn: float = 0.0):
    r"""Probability that a noisy verifier reports success: :math:`q = p(1-f_n) + (1-p)f_p`.

    A correct answer is reported wrong with rate :math:`f_n` (false negative), a wrong one correct with rate
    :math:`f_p` (false positive). The observed reward is Bernoulli(:math:`q`), and
    :math:`\partial q/\partial p = 1-f_n-f_p`: a verifier with :math:`f_n+f_p=1` carries no signal, one with
    :math:`f_n+f_p>1` reverses it.

    Parameters
    ----------
    p : float or array_like
        True success probability, in [0, 1].
    fp, fn : float
        False-positive and false-negative rates, in [0, 1].

    Returns
    -------
    float or ndarray

    References
    ----------
    .. [1] Y. Huang et al., "Pitfalls of rule- and model-based verifiers", arXiv:2505.22203 (noisy verifiers in RLVR).

    Examples
    --------
    >>> from alignsim import rlvr
    >>> rlvr.observed_success(0.3, fp=0.1, fn=0.2)
    0.31
    """
    ps = V.real_array(p, "p", low=0.0, high=1.0)
    q = ps * (1.0 - _rate(fn, "fn")) + (1.0 - ps) * _rate(fp, "fp")
    return float(q) if q.ndim == 0 else q


def zero_advantage_fraction(p, G: int, fp: float = 0.0, fn: float = 0.0):
    r"""Probability that a group of ``G`` answers to one prompt carries no learning signal: every observed reward
    equal, :math:`q^G+(1-q)^G` with :math:`q` = :func:`observed_success`.

    Such a group has zero advantage under GRPO, Dr. GRPO and RLOO alike (DAPO's dynamic sampling filters it). A noisy
    verifier moves :math:`q` away from 0 and 1 on the hardest and easiest prompts, so it *adds* signal there, of the
    wrong kind where it is a false positive.

    Parameters
    ----------
    p : float or array_like
        True success probability, in [0, 1].
    G : int
        Group size, >= 2.
    fp, fn : float
        Verifier error rates, in [0, 1].

    Returns
    -------
    float or ndarray

    References
    ----------
    .. [1] Q. Yu et al., "DAPO", arXiv:2503.14476 (dynamic sampling of groups with zero advantage).

    Examples
    --------
    >>> from alignsim import rlvr
    >>> round(rlvr.zero_advantage_fraction(0.5, 4), 6)   # 2 / 16
    0.125
    """
    g = V.length(G, "G", low=2, high=10 ** 9, why="a group size")
    q = np.asarray(observed_success(p, fp, fn), dtype=float)
    out = np.exp(g * np.log(q, where=q > 0, out=np.full(q.shape, -np.inf))) + \
        np.exp(g * np.log1p(-q, where=q < 1, out=np.full(q.shape, -np.inf)))
    return float(out) if out.ndim == 0 else out
