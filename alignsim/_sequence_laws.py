"""Best-of-N, worst-of-N and win rates over whole sequences, for any model with an exact reward law (private;
inherited by :class:`alignsim.MemorylessLM` and :class:`alignsim.MarkovLM`).

Everything here is a function of the sequence reward law ``reward_law(log=True)`` alone, through the one best-of-N
level-law kernel of the package (:func:`alignsim._levels.bon_log_level_law`), so the memoryless and the Markov
models share one copy.
"""

from __future__ import annotations

import numpy as np

from . import _validate as V
from ._kl import kl_logs
from ._levels import bon_log_level_law, calibrated


class SequenceLaws:
    """Mixin: sequence-level best-of-N laws from ``self.reward_law(log=True)``."""

    def _bon_logs(self, N):
        n, log_n = V.sample_count(N)
        levels, log_p = self.reward_law(log=True)
        return levels, log_p, bon_log_level_law(log_p, n, log_n)

    def bon_reward_law(self, N, *, log: bool = False):
        r"""Reward-level law of best-of-N over whole sequences (random tie-breaking among equal rewards).

        Returns ``(levels, probs)`` (or log-probabilities); ``N`` may be astronomically large (through
        :math:`\log N`), e.g. ``N = floor(exp(n * delta))`` with ``n * delta > 709``.

        Parameters
        ----------
        N : int or float
            Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are
            handled through log N.
        log : bool
            Return log-probabilities (exact far below the float range).

        Returns
        -------
        levels : ndarray
            Distinct sequence rewards, increasing.
        probs : ndarray
            Their probabilities (or log-probabilities) under best-of-N.
        """
        log = V.flag(log, "log")
        levels, _, log_g = self._bon_logs(N)
        return (levels, log_g) if log else (levels, np.exp(log_g))

    def won_reward_law(self, N, *, log: bool = False):
        r"""Reward-level law of worst-of-N over whole sequences: the best-of-N law of :math:`-R_n`.

        Parameters
        ----------
        N : int or float
            Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are
            handled through log N.
        log : bool
            Return log-probabilities.

        Returns
        -------
        levels : ndarray
            Distinct sequence rewards, increasing.
        probs : ndarray
            Their probabilities (or log-probabilities) under worst-of-N.
        """
        log = V.flag(log, "log")
        n, log_n = V.sample_count(N)
        levels, log_p = self.reward_law(log=True)
        log_g = bon_log_level_law(log_p[::-1], n, log_n)[::-1]
        return (levels, log_g) if log else (levels, np.exp(log_g))

    def bon_kl(self, N) -> float:
        r""":math:`\mathrm{KL}(\boldsymbol\pi_N\|\mathbf p)` over sequences; with random ties it equals the KL of the
        reward-level laws, :math:`\sum_s g_s\log(g_s/P_s)`.

        Parameters
        ----------
        N : int or float
            Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are
            handled through log N.

        Returns
        -------
        float
            KL(best-of-N || model) over sequences, in nats.
        """
        _, log_p, log_g = self._bon_logs(N)
        return kl_logs(log_g, log_p)

    def bon_mean_reward(self, N) -> float:
        r""":math:`\mathbb E_{\boldsymbol\pi_N} R_n = \sum_s g_s\,s`.

        Parameters
        ----------
        N : int or float
            Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are
            handled through log N.

        Returns
        -------
        float
            Expected sequence reward under best-of-N.
        """
        levels, _, log_g = self._bon_logs(N)
        return float(np.dot(np.exp(log_g), levels))

    def bon_win_rate(self, N) -> float:
        r"""Win rate of best-of-N sequences against the model's own samples (ties one half).

        Parameters
        ----------
        N : int or float
            Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are
            handled through log N.

        Returns
        -------
        float
            Win rate of best-of-N sequences over the model's samples (ties one half).
        """
        levels, log_p, log_g = self._bon_logs(N)
        return float(np.dot(np.exp(log_g), calibrated(np.exp(log_p), levels)))


    def win_rate(self, other) -> float:
        r"""Win rate of this model's sequences against another model's, ties counting one half.

        .. math::

            W(\text{self}\succ\text{other}) = P(R > R') + \tfrac12 P(R = R'),\qquad R\sim\text{self},\ R'\sim
            \text{other}\ \text{independent},

        from the two exact reward laws (:meth:`reward_law`); the models may differ in vocabulary, rewards and
        length. Rewards tie when their exact values are equal.

        Parameters
        ----------
        other : MemorylessLM or MarkovLM
            The model compared against.

        Returns
        -------
        float
            :math:`W` in [0, 1]; ``self.win_rate(self)`` is 1/2.

        References
        ----------
        .. [1] Beirami et al., arXiv:2401.01879, section 5 (win rate, ties one half).

        Examples
        --------
        >>> import alignsim as a
        >>> ref = a.MemorylessLM([0.5, 0.5], [0, 1], 4)
        >>> round(ref.tilt(1.0).win_rate(ref), 12)
        0.745010463613
        """
        if not isinstance(other, SequenceLaws):
            raise TypeError(f"other must be a MemorylessLM or a MarkovLM, got {type(other).__name__}")
        lv_a, pr_a = self.reward_law()
        lv_b, pr_b = other.reward_law()
        below = np.concatenate(([0.0], np.cumsum(pr_b)))
        lo = np.searchsorted(lv_b, lv_a, side="left")
        hi = np.searchsorted(lv_b, lv_a, side="right")
        # P(R' < s) + P(R' = s) / 2 for each level s of self
        score = below[lo] + 0.5 * (below[hi] - below[lo])
        return float(min(max(np.dot(pr_a, score), 0.0), 1.0))
