r"""Prompts as language models with a verifier, and prompt sets with a difficulty distribution (private;
re-exported by :mod:`alignsim.rlvr`).

A prompt is an LM (memoryless or Markov, with or without an end token) and a binary verifier: a set of rewarded
reward levels, or a predicate on (reward, length). Its success probability is exact, from the LM's joint law of
reward and length. A prompt set is a finite law over prompts, each summarised by its success probability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import beta as beta_law

from .. import _validate as V
from ..markov import MarkovLM
from ..models import MemorylessLM
from ._signal import ESTIMATORS, group_update_moments
from ._verifier import zero_advantage_fraction

#: Largest number of prompts a set holds (each method sums over them).
MAX_PROMPTS = 10 ** 6


def _joint(lm):
    if isinstance(lm, MarkovLM):
        j = lm.joint_law()
        return j["reward"].to_numpy(float), j["length"].to_numpy(float), j["prob"].to_numpy(float)
    if isinstance(lm, MemorylessLM):
        levels, probs = lm.reward_law()
        return levels, np.full(levels.size, float(lm.length)), probs
    raise TypeError(f"lm must be a MemorylessLM or a MarkovLM, got {type(lm).__name__}")


def success_probability(lm, correct) -> float:
    r"""The exact probability that a prompt's answer is correct: the mass of the LM's (reward, length) law where
    the verifier accepts.

    .. math:: p = \sum_{(R, L)} P(R, L)\,\mathbb 1[\text{correct}(R, L)]

    Parameters
    ----------
    lm : MemorylessLM or MarkovLM
        The policy answering the prompt (a Markov LM may have an end token: random lengths).
    correct : collection of numbers, or callable
        The rewarded reward levels (matched to 1e-9 relative), or a predicate ``correct(reward, length) -> bool``
        called on each (reward, length) pair of the joint law.

    Returns
    -------
    float
        In [0, 1].

    References
    ----------
    .. [1] DeepSeek-AI, "DeepSeek-R1", arXiv:2501.12948 (rule-based verifiable rewards).

    Examples
    --------
    >>> import alignsim as a
    >>> from alignsim import rlvr
    >>> lm = a.MarkovLM([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [0.0, 1.0], 3, eos=0)
    >>> round(rlvr.success_probability(lm, lambda r, n: r >= 2 and n == 3), 12)   # two or more good tokens
    0.4
    """
    rewards, lengths, probs = _joint(lm)
    ok = accepted(correct, rewards, lengths)
    return float(min(max(math.fsum(probs[ok]), 0.0), 1.0))


def accepted(correct, rewards, lengths) -> np.ndarray:
    """Whether the verifier ``correct`` (rewarded levels, or a predicate on (reward, length)) accepts each of the
    broadcast (reward, length) pairs."""
    rewards, lengths = np.broadcast_arrays(np.asarray(rewards, float), np.asarray(lengths))
    if callable(correct):
        flat = [bool(correct(float(r), int(n))) for r, n in zip(rewards.ravel(), lengths.ravel())]
        return np.array(flat, dtype=bool).reshape(rewards.shape)
    if isinstance(correct, (str, bytes)) or not hasattr(correct, "__iter__"):
        raise TypeError(f"correct must be a collection of reward levels or a callable (reward, length) -> bool, "
                        f"got {correct!r}")
    levels = V.real_array(list(correct), "correct").ravel()
    if levels.size == 0:
        raise ValueError("correct must name at least one rewarded reward level")
    return np.any(np.isclose(rewards[..., None], levels, rtol=1e-9, atol=1e-12), axis=-1)


@dataclass(frozen=True)
class PromptSet:
    r"""A finite law over prompts, each summarised by its success probability (its difficulty).

    Parameters
    ----------
    p : array_like, shape (M,)
        The prompts' success probabilities, in [0, 1].
    weights : array_like, shape (M,), optional
        Their probabilities (uniform if omitted), summing to one within 1e-9.

    Notes
    -----
    Every method is an exact finite sum over the prompts: :math:`\mathbb E_{\rm prompts} f = \sum_i w_i f(p_i)`.
    :meth:`from_beta` discretises a Beta difficulty law at its quantile midpoints; :meth:`from_lms` builds the set from
    LMs and verifiers (:func:`success_probability`).

    References
    ----------
    .. [1] Z. Liu et al., arXiv:2503.20783 (difficulty and group normalisation); the PACED "frontier of competence".

    Examples
    --------
    >>> from alignsim import rlvr
    >>> s = rlvr.PromptSet([0.1, 0.5, 0.9], [0.25, 0.5, 0.25])
    >>> round(s.pass_at_k(1), 12), round(s.zero_advantage_fraction(8), 6)
    (0.5, 0.21914)
    """

    p: np.ndarray
    weights: np.ndarray | None = None

    def __post_init__(self):
        p = V.real_array(self.p, "p", low=0.0, high=1.0).ravel()
        if not 1 <= p.size <= MAX_PROMPTS:
            raise ValueError(f"p must hold 1 to {MAX_PROMPTS} prompts, got {p.size}")
        w = np.full(p.size, 1.0 / p.size) if self.weights is None else V.probabilities(self.weights, "weights")
        if w.shape != p.shape:
            raise ValueError(f"p and weights must have the same shape, got {p.shape} and {w.shape}")
        object.__setattr__(self, "p", p)
        object.__setattr__(self, "weights", w)

    @classmethod
    def from_beta(cls, a: float, b: float, n: int = 64) -> "PromptSet":
        r"""Difficulties from a Beta(:math:`a, b`) law, discretised at the :math:`n` quantile midpoints
        :math:`F^{-1}((i+\frac12)/n)` with weights :math:`1/n`.

        .. math:: p_i = F^{-1}_{\mathrm{Beta}(a,b)}\big((i+\tfrac12)/n\big),\qquad w_i = 1/n

        Parameters
        ----------
        a, b : float
            The Beta parameters, > 0.
        n : int
            Number of prompts, 1 to 10^6.

        Returns
        -------
        PromptSet

        References
        ----------
        .. [1] Any text on quantile discretisation; the Beta law of difficulties is this package's toy.

        Examples
        --------
        >>> from alignsim import rlvr
        >>> round(rlvr.PromptSet.from_beta(2, 2, 1000).pass_at_k(1), 6)   # the mean a / (a + b)
        0.5
        """
        aa = V.real(a, "a", low=0.0, low_open=True)
        bb = V.real(b, "b", low=0.0, low_open=True)
        m = V.length(n, "n", high=MAX_PROMPTS, why="each method sums over the prompts")
        return cls(beta_law.ppf((np.arange(m) + 0.5) / m, aa, bb))

    @classmethod
    def from_lms(cls, lms, correct, weights=None) -> "PromptSet":
        r"""A prompt set from LMs with verifiers: prompt :math:`i`'s success probability is
        :func:`success_probability` of ``lms[i]`` under ``correct`` (one verifier for all, or one per prompt).

        .. math:: p_i = P_{\pi_i}(\text{correct}_i)

        Parameters
        ----------
        lms : sequence of MemorylessLM or MarkovLM
            One LM per prompt.
        correct : collection of numbers, callable, or a list of those
            The verifier (see :func:`success_probability`), shared or one per prompt.
        weights : array_like, optional
            The prompts' probabilities (uniform if omitted).

        Returns
        -------
        PromptSet

        References
        ----------
        .. [1] DeepSeek-AI, arXiv:2501.12948.

        Examples
        --------
        >>> import alignsim as a
        >>> from alignsim import rlvr
        >>> lms = [a.MemorylessLM([0.5, 0.5], [0, 1], n) for n in (2, 4)]
        >>> rlvr.PromptSet.from_lms(lms, lambda r, n: r == n).p.tolist()    # every token right
        [0.25, 0.0625]
        """
        lms = list(lms)
        if not lms:
            raise ValueError("lms must hold at least one LM")
        # one verifier per prompt when given a list of verifiers (callables or level collections), else shared
        per_prompt = isinstance(correct, (list, tuple)) and len(correct) == len(lms) and all(
            callable(c) or (hasattr(c, "__iter__") and not isinstance(c, (str, bytes))) for c in correct)
        verifiers = list(correct) if per_prompt else [correct] * len(lms)
        return cls(np.array([success_probability(lm, c) for lm, c in zip(lms, verifiers)]), weights)

    def pass_at_k(self, k: int = 1) -> float:
        r"""The prompt set's pass@k: :math:`\sum_i w_i\,(1-(1-p_i)^k)`.

        Parameters
        ----------
        k : int
            Attempts per prompt, >= 1.

        Returns
        -------
        float

        References
        ----------
        .. [1] M. Chen et al., arXiv:2107.03374 (pass@k).

        Examples
        --------
        >>> from alignsim import rlvr
        >>> round(rlvr.PromptSet([0.1, 0.5]).pass_at_k(2), 6)
        0.47
        """
        kk = V.length(k, "k", high=10 ** 9, why="an exponent")
        with np.errstate(divide="ignore"):  # p = 1: log1p(-1) = -inf, and 1 - e^-inf = 1
            return float(math.fsum(self.weights * -np.expm1(kk * np.log1p(-self.p))))

    def zero_advantage_fraction(self, G: int, fp: float = 0.0, fn: float = 0.0) -> float:
        r"""The expected fraction of groups with no signal over the prompt set:
        :math:`\sum_i w_i\,(q_i^G+(1-q_i)^G)` with :math:`q_i` the reported success rate
        (:func:`alignsim.rlvr.zero_advantage_fraction`).

        Parameters
        ----------
        G : int
            Group size, >= 2.
        fp, fn : float
            The verifier's false-positive and false-negative rates, in [0, 1].

        Returns
        -------
        float

        References
        ----------
        .. [1] Q. Yu et al., arXiv:2503.14476 (DAPO's dynamic sampling).

        Examples
        --------
        >>> from alignsim import rlvr
        >>> round(rlvr.PromptSet([0.0, 0.5]).zero_advantage_fraction(2), 6)
        0.75
        """
        return float(math.fsum(w * zero_advantage_fraction(p, G, fp=fp, fn=fn) for p, w in zip(self.p, self.weights)))

    def update_table(self, G: int, estimator: str = "grpo", **params) -> pd.DataFrame:
        r"""Each prompt's exact group update (:func:`alignsim.rlvr.group_update_moments`) and its share of the
        set's expected signal: where the learning signal lives.

        .. math:: \text{share}_i = \frac{w_i\,\mathbb E\hat g_i}{\sum_j w_j\,\mathbb E\hat g_j}

        (prompts with :math:`p\in\{0,1\}` carry no signal and get a zero row).

        Parameters
        ----------
        G : int
            Group size, >= 2.
        estimator : str
            One of :data:`alignsim.rlvr.ESTIMATORS`.
        **params
            ``ddof``, ``eps``, ``fp``, ``fn``, ``k`` of :func:`alignsim.rlvr.group_update_moments`.

        Returns
        -------
        pandas.DataFrame
            Columns ``p``, ``weight``, ``mean``, ``variance``, ``snr``, ``zero_fraction``, ``share``.

        References
        ----------
        .. [1] Z. Shao et al., arXiv:2402.03300; Z. Liu et al., arXiv:2503.20783.

        Examples
        --------
        >>> from alignsim import rlvr
        >>> t = rlvr.PromptSet([0.05, 0.5, 0.95]).update_table(8)
        >>> t["share"].round(3).tolist()
        [0.168, 0.664, 0.168]
        """
        V.choice(estimator, "estimator", ESTIMATORS)
        rows = []
        for p, w in zip(self.p, self.weights):
            if 0.0 < p < 1.0:
                m = group_update_moments(p, G, estimator, **params)
                rows.append({"p": p, "weight": w, "mean": m["mean"], "variance": m["variance"], "snr": m["snr"],
                             "zero_fraction": m["zero_fraction"]})
            else:
                group_update_moments(0.5, G, estimator, **params)  # validates G and the parameters all the same
                rows.append({"p": p, "weight": w, "mean": 0.0, "variance": 0.0, "snr": 0.0, "zero_fraction": 1.0})
        df = pd.DataFrame(rows)
        total = math.fsum(df["weight"] * df["mean"])
        df["share"] = df["weight"] * df["mean"] / total if total != 0 else 0.0
        return df
