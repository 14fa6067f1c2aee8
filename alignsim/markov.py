r"""Language models with memory and an end token: exact Markov LMs.

A :class:`MarkovLM` emits tokens :math:`y_1, y_2, \dots` from a (possibly step-dependent) Markov chain over a
vocabulary of ``V`` tokens and stops at the first end token or at ``length`` tokens. Its laws (of the sequence
reward, of the length) and its sequence-level KL are computed exactly by dynamic programming over (token, reward
level) in log space: no sampling.

This first part of the Markov layer (issue 19) holds the model, its exact length and reward laws, the
sequence-level KL, the sequence-level tilt and the greedy token-level tilt with their KL-reward frontiers, and
best-of-N over whole sequences; the large deviations of Markov rewards and the Monte-Carlo sampler build on it.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from functools import reduce

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import logsumexp

from . import _validate as V
from ._sequence_laws import SequenceLaws

__all__ = ["MarkovLM"]

#: Most reward levels of one sequence reward law (the DP stores V of them per step).
MAX_LEVELS = 200_001
#: Most (token, level, step) cells one reward law may visit: about a minute of numpy at 1e10.
MAX_CELLS = 5_000_000_000


def _advance(log_state: np.ndarray, log_t: np.ndarray) -> np.ndarray:
    r"""``moved[a, k] = log sum_s exp(log_state[s, k] + log_t[s, a])``: one step of the chain at every reward level.

    Each level's column is scaled by its largest entry and multiplied by :math:`T^\top` (one matrix product, 10x
    the per-token log-sum-exp); a cell the scaled product loses to underflow (its mass below 1e-308 of the column's
    largest, though some token leads to it) is recomputed by an exact log-sum-exp, so no reachable cell is dropped.
    """
    top = np.max(log_state, axis=0)
    live = top > -np.inf
    shift = np.where(live, top, 0.0)
    t = np.exp(log_t)
    with np.errstate(divide="ignore", under="ignore"):
        moved = np.log(t.T @ np.exp(log_state - shift)) + shift
        reachable = (t.T > 0).astype(float) @ (log_state > -np.inf).astype(float) > 0
        a, k = np.nonzero(reachable & (moved == -np.inf))
        if a.size:
            moved[a, k] = logsumexp(log_state[:, k] + log_t[:, a], axis=0)
    moved[:, ~live] = -np.inf
    return moved


def _emit(mass: np.ndarray, ks: np.ndarray, empty: float) -> np.ndarray:
    """``out[a, k + ks[a]] = mass[a, k]``: token ``a``'s reward moves each level up by ``ks[a]`` lattice steps
    (down for a negative reward); levels shifted off the lattice are dropped and vacated ones hold ``empty`` (0 for
    masses, -inf for log-masses). With ``-ks`` it is the backward lookup ``out[a, k] = mass[a, k + ks[a]]``."""
    n = mass.shape[1]
    out = np.full(mass.shape, empty)
    for a, k in enumerate(int(x) for x in ks):
        if k >= 0:
            out[a, k:] = mass[a, : n - k]
        else:
            out[a, :k] = mass[a, -k:]
    return out


class MarkovLM(SequenceLaws):
    r"""An exact Markov language model with an optional end token.

    .. math::

        \pi(y_1,\dots,y_L) = \mu(y_1)\prod_{t=2}^{L}T_{t-1}(y_{t-1}, y_t),\qquad R(y)=\sum_{t=1}^{L}r(y_t),

    where the sequence stops at the first :math:`t` with :math:`y_t` equal to the end token ``eos`` (which is emitted
    and whose reward counts) or at :math:`t=` ``length``, whichever comes first; without ``eos`` every sequence has
    exactly ``length`` tokens. A memoryless LM is the chain with identical rows (:meth:`from_memoryless`).

    Best-of-N, worst-of-N and win rates over whole sequences (``bon_reward_law``, ``won_reward_law``, ``bon_kl``,
    ``bon_mean_reward``, ``bon_win_rate``, ``win_rate``) come from the exact reward law through the package's one
    best-of-N level-law kernel, exactly as for :class:`alignsim.MemorylessLM`; ``N`` may be up to 1e300 or beyond.

    Parameters
    ----------
    initial : array_like, shape (V,)
        Law of the first token.
    transition : array_like, shape (V, V) or (length - 1, V, V)
        Next-token laws: row ``s`` is the law of the next token after token ``s`` (the same at every step, or one
        matrix per step ``t = 1 .. length - 1`` for a step-dependent chain). Each row sums to one.
    rewards : array_like, shape (V,)
        Reward of each emitted token (finite).
    length : int
        Largest number of tokens, ``1 <= length <= 100000``.
    eos : int, optional
        Index of the end token, ``0 <= eos < V``.

    References
    ----------
    .. [1] J. Q. Yang, S. Salamatian, Z. Sun, A. T. Suresh, A. Beirami, "Asymptotics of language model alignment",
       ISIT 2024 (the memoryless case this generalises).

    Examples
    --------
    >>> from alignsim.markov import MarkovLM
    >>> lm = MarkovLM([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [0.0, 1.0], 3)
    >>> levels, probs = lm.reward_law()
    >>> levels.tolist(), probs.round(4).tolist()
    ([0.0, 1.0, 2.0, 3.0], [0.405, 0.145, 0.13, 0.32])
    """

    def __init__(self, initial, transition, rewards, length, *, eos=None):
        self.initial = V.probabilities(initial, "initial")
        v = self.initial.size
        self.rewards = V.rewards(rewards, "rewards", size=v, like="initial")
        self.length = V.length(length, "length", high=100_000, why="the exact laws run a DP over every step")
        t = V.real_array(transition, "transition")
        if t.ndim == 2:
            steps = None
        elif t.ndim == 3:
            steps = t.shape[0]
            if steps != self.length - 1:
                raise ValueError(f"a step-dependent transition must have shape (length - 1, V, V) = "
                                 f"({self.length - 1}, {v}, {v}), got {t.shape}")
        else:
            raise ValueError(f"transition must have shape (V, V) or (length - 1, V, V), got {t.shape}")
        if t.shape[-2:] != (v, v):
            raise ValueError(f"transition must have shape (V, V) = ({v}, {v}) like initial, got {t.shape}")
        self.transition = V.probabilities(t, "transition", axis=-1) if t.size else t
        if eos is not None:
            if isinstance(eos, (bool, np.bool_)) or not isinstance(eos, (numbers.Integral, np.integer)):
                raise TypeError(f"eos must be None or a token index, got {eos!r}")
            if not 0 <= int(eos) < v:
                raise ValueError(f"eos must be a token index in [0, {v - 1}], got {eos}")
            eos = int(eos)
        self.eos = eos
        self._steps = steps

    def __repr__(self):
        kind = "step-dependent" if self._steps is not None else "stationary"
        return f"MarkovLM(V={self.initial.size}, length={self.length}, eos={self.eos}, {kind})"

    @classmethod
    def from_memoryless(cls, p, r, length) -> "MarkovLM":
        """The memoryless LM of :class:`alignsim.MemorylessLM` as a chain with identical rows.

        Parameters
        ----------
        p : array_like, shape (V,)
            Token law.
        r : array_like, shape (V,)
            Token rewards.
        length : int
            Sequence length.

        Returns
        -------
        MarkovLM

        Examples
        --------
        >>> from alignsim.markov import MarkovLM
        >>> MarkovLM.from_memoryless([0.5, 0.5], [0, 1], 4).reward_law()[1].round(4).tolist()   # Binomial(4, 1/2)
        [0.0625, 0.25, 0.375, 0.25, 0.0625]
        """
        pp, rr = V.policy_and_rewards(p, r, "p", "r")
        return cls(pp, np.tile(pp, (pp.size, 1)), rr, length)

    # -- helpers ----------------------------------------------------------------------------------------------
    def _log_transition(self, t: int) -> np.ndarray:
        """log T_t (rows: current token), for the step from token t to token t + 1 (t = 1 .. length - 1)."""
        m = self.transition if self._steps is None else self.transition[t - 1]
        with np.errstate(divide="ignore"):
            return np.log(m)

    def _live(self, log_state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split a log-law over the current token into the part that continues and the part that just ended."""
        if self.eos is None:
            return log_state, None
        ended = log_state[self.eos].copy()
        live = log_state.copy()
        live[self.eos] = -np.inf
        return live, ended

    # -- exact laws -------------------------------------------------------------------------------------------
    def log_prob(self, sequence) -> float:
        """Log-probability of one complete token sequence.

        Parameters
        ----------
        sequence : sequence of int
            Token indices; complete: it ends at its first ``eos`` or has ``length`` tokens.

        Returns
        -------
        float
            log pi(sequence) (``-inf`` for a sequence the model never emits).
        """
        seq = np.asarray(sequence)
        if seq.ndim != 1 or seq.size == 0 or seq.dtype.kind not in "iu":
            raise TypeError(f"sequence must be a non-empty 1-D sequence of token indices, got {sequence!r}")
        v = self.initial.size
        if seq.min() < 0 or seq.max() >= v:
            raise ValueError(f"sequence must hold token indices in [0, {v - 1}]")
        if seq.size > self.length:
            raise ValueError(f"sequence has {seq.size} tokens, more than length = {self.length}")
        stops = np.flatnonzero(seq == self.eos) if self.eos is not None else np.array([], int)
        complete = (stops.size and stops[0] == seq.size - 1) or (seq.size == self.length and not stops.size)
        if not complete:
            raise ValueError("sequence must be complete: it ends at its first eos, or has length tokens")
        with np.errstate(divide="ignore"):
            out = math.log(self.initial[seq[0]]) if self.initial[seq[0]] > 0 else -math.inf
        for t in range(1, seq.size):
            out += float(self._log_transition(t)[seq[t - 1], seq[t]])
        return float(out)

    def length_law(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact law of the number of emitted tokens.

        Returns
        -------
        lengths : ndarray of int
            1 .. length (the lengths with positive probability).
        probs : ndarray
            Their probabilities.
        """
        with np.errstate(divide="ignore"):
            state = np.log(self.initial)
        log_p = np.full(self.length, -np.inf)
        for t in range(1, self.length + 1):
            live, ended = self._live(state)
            if ended is not None:
                log_p[t - 1] = ended
            if t == self.length:
                log_p[t - 1] = np.logaddexp(log_p[t - 1], logsumexp(live))
                break
            state = logsumexp(live[:, None] + self._log_transition(t), axis=0)
        keep = log_p > -np.inf
        return np.arange(1, self.length + 1)[keep], np.exp(log_p[keep] - logsumexp(log_p[keep]))

    def _lattice(self):
        """The sequence reward on the lattice of the token rewards' common rational step (0 included, since the
        number of tokens varies with an end token): ``(step, integer multiple k_a of each token, lowest total
        index, number of levels)``."""
        vals = [Fraction(float(x)) for x in self.rewards]
        den = reduce(lambda a, b: a * b // math.gcd(a, b), (x.denominator for x in vals), 1)
        ints = [int(x * den) for x in vals]
        g = reduce(math.gcd, ints, 0) or 1
        ks = np.array([k // g for k in ints], dtype=np.int64)
        lo = min(int(ks.min()), 0) * self.length
        n_levels = max(int(ks.max()), 0) * self.length - lo + 1
        cells = n_levels * self.initial.size * self.length
        if n_levels > MAX_LEVELS or cells > MAX_CELLS:
            raise ValueError(f"the exact reward law of length={self.length} needs {n_levels} lattice levels (at most "
                             f"{MAX_LEVELS}) and {cells:.3g} DP cells (at most {MAX_CELLS:.0e}); use rewards on a "
                             "coarser common step, fewer tokens or a shorter length")
        return Fraction(g, den), ks, lo, n_levels

    def reward_law(self, *, log: bool = False) -> tuple[np.ndarray, np.ndarray]:
        r"""Exact law of the sequence reward :math:`R(y)=\sum_t r(y_t)`.

        Forward DP over (current token, reward level) in log space: the token rewards are put on their common
        lattice (exact rational steps of the float values, as in :class:`alignsim.MemorylessLM`), so the law is
        exact up to floating-point rounding of sums of positive terms. Cost ``O(length V^2 levels)``.

        Parameters
        ----------
        log : bool
            Return log-probabilities (masses below the float range survive).

        Returns
        -------
        levels : ndarray
            Distinct reward values with positive probability, increasing.
        probs : ndarray
            Their probabilities (their logs with ``log=True``).
        """
        log = V.flag(log, "log")
        step, lo, ended = self._forward()
        done = logsumexp(ended, axis=0) if ended.shape[0] > 1 else ended[0]
        keep = done > -np.inf
        levels = np.array([float(step * (int(i) + lo)) for i in np.flatnonzero(keep)])
        log_p = done[keep] - logsumexp(done[keep])
        return levels, (log_p if log else np.exp(log_p))

    def joint_law(self) -> pd.DataFrame:
        """Exact joint law of the sequence reward and the number of emitted tokens.

        Returns
        -------
        pandas.DataFrame
            Columns ``reward, length, prob`` (one row per pair with positive probability, by length then
            reward); summed over lengths it is :meth:`reward_law`, over rewards :meth:`length_law`.
        """
        step, lo, ended = self._forward(keep_steps=True)
        rows = []
        total = logsumexp(ended)
        for t in range(ended.shape[0]):
            for i in np.flatnonzero(ended[t] > -np.inf):
                rows.append((float(step * (int(i) + lo)), t + 1, float(np.exp(ended[t, i] - total))))
        return pd.DataFrame(rows, columns=["reward", "length", "prob"])

    def _forward(self, keep_steps: bool = False):
        """Forward DP over (token, reward level) in log space: ``(step, lowest index, ended)`` with ``ended[t]`` the
        log-law over levels of the sequences that end at token ``t + 1`` (one row summing them all unless
        ``keep_steps``)."""
        step, ks, lo, n_levels = self._lattice()
        if keep_steps and self.length * n_levels > 50_000_000:
            raise ValueError(f"the joint law of length={self.length} has {self.length * n_levels:.3g} cells (at most "
                             "5e7); use reward_law and length_law")
        v = self.initial.size
        with np.errstate(divide="ignore"):
            state = np.full((v, n_levels), -np.inf)  # column i: total reward (i + lo) * step
            state[np.arange(v), ks - lo] = np.log(self.initial)
        ended = np.full((self.length if keep_steps else 1, n_levels), -np.inf)
        for t in range(1, self.length + 1):
            row = t - 1 if keep_steps else 0
            if self.eos is not None:
                ended[row] = np.logaddexp(ended[row], state[self.eos])
                state[self.eos] = -np.inf
            if t == self.length:
                ended[row] = np.logaddexp(ended[row], logsumexp(state, axis=0))
                break
            state = _emit(_advance(state, self._log_transition(t)), ks, -np.inf)
        return step, lo, ended

    def tilt(self, beta) -> "MarkovLM":
        r"""The sequence-level KL-regularised optimum :math:`\phi(y)\propto\pi(y)e^{R(y)/\beta}` as a Markov LM.

        For an additive reward the optimum is again a (step-dependent) chain, by the backward soft-value recursion

        .. math:: W_L(s)=0,\quad W_t(\text{eos})=0,\quad
                  W_t(s)=\log\sum_a T_t(s,a)\,e^{r(a)/\beta+W_{t+1}(a)},

        :math:`\mu'(a)\propto\mu(a)e^{r(a)/\beta+W_1(a)}` and
        :math:`T'_t(s,a)=T_t(s,a)\,e^{r(a)/\beta+W_{t+1}(a)-W_t(s)}`, all in log space. It maximises
        :math:`\mathbb E_\phi R-\beta\,\mathrm{KL}(\phi\|\pi)` over all sequence laws; the greedy per-token tilt
        (no look-ahead :math:`W`) does not.

        Parameters
        ----------
        beta : float
            KL coefficient, ``0 < beta <= inf`` (``inf`` returns the model itself).

        Returns
        -------
        MarkovLM
            Step-dependent (transition of shape ``(length - 1, V, V)``), same rewards, length and end token.

        References
        ----------
        .. [1] T. Korbak, E. Perez, C. L. Buckley, "RL with KL penalties is better viewed as Bayesian inference",
           Findings of EMNLP 2022.

        Examples
        --------
        >>> from alignsim.markov import MarkovLM
        >>> lm = MarkovLM([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [0.0, 1.0], 3, eos=0)
        >>> phi = lm.tilt(1.0)
        >>> round(lm.mean_reward(), 6), round(phi.mean_reward(), 6), round(phi.kl(lm), 6)
        (1.22, 2.661788, 0.608906)
        """
        b = V.beta(beta)
        v, n = self.initial.size, self.length
        steps = np.stack([self.transition if self._steps is None else self.transition[t - 1]
                          for t in range(1, n)]) if n > 1 else np.zeros((0, v, v))
        if b == math.inf:
            return MarkovLM(self.initial, steps if n > 1 else self.transition, self.rewards, n, eos=self.eos)
        with np.errstate(over="ignore"):
            gain = self.rewards / b
        if not np.all(np.isfinite(gain)):
            raise ValueError(f"beta = {b!r} is so small that the rewards / beta leave the float range")
        w_next = np.zeros(v)  # W_{t+1}
        new_steps = np.empty_like(steps)
        with np.errstate(divide="ignore"):
            for t in range(n - 1, 0, -1):
                logits = np.log(steps[t - 1]) + (gain + w_next)[None, :]
                w_t = logsumexp(logits, axis=1)
                if self.eos is not None:
                    w_t[self.eos] = 0.0  # an ended sequence earns nothing more
                # each row normalised by its own maximum: logits - W_t would lose everything at |r/beta| ~ 1e300
                new_steps[t - 1] = np.exp(logits - logits.max(axis=1, keepdims=True))
                new_steps[t - 1] /= new_steps[t - 1].sum(axis=1, keepdims=True)
                if self.eos is not None:
                    new_steps[t - 1][self.eos] = steps[t - 1][self.eos]  # never used: the sequence has ended
                w_next = w_t
            first = np.log(self.initial) + gain + w_next
        initial = np.exp(first - logsumexp(first))
        return MarkovLM(initial, new_steps if n > 1 else self.transition, self.rewards, n, eos=self.eos)

    def token_level_tilt(self, beta) -> "MarkovLM":
        r"""The greedy per-token tilt: every next-token law tilted by :math:`e^{r/\beta}` with no look-ahead,

        .. math:: \mu'(a)\propto\mu(a)e^{r(a)/\beta},\qquad T'_t(s,a)\propto T_t(s,a)\,e^{r(a)/\beta},

        what per-token "reward minus KL" training reaches when the value of the future is ignored. It equals
        :meth:`tilt` for a memoryless model of fixed length and differs from it otherwise (an end token, memory).

        Parameters
        ----------
        beta : float
            KL coefficient, ``0 < beta <= inf``.

        Returns
        -------
        MarkovLM
        """
        b = V.beta(beta)
        if b == math.inf:
            return MarkovLM(self.initial, self.transition, self.rewards, self.length, eos=self.eos)
        with np.errstate(over="ignore"):
            gain = self.rewards / b
        if not np.all(np.isfinite(gain)):
            raise ValueError(f"beta = {b!r} is so small that the rewards / beta leave the float range")
        with np.errstate(divide="ignore"):
            first = np.log(self.initial) + gain
            logits = np.log(self.transition) + gain
        initial = np.exp(first - first.max())
        rows = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return MarkovLM(initial / initial.sum(), rows / rows.sum(axis=-1, keepdims=True), self.rewards, self.length,
                        eos=self.eos)

    def expected_gradient(self, h) -> tuple[np.ndarray, np.ndarray]:
        r"""Exact gradient of :math:`\mathbb E_\pi[h(R, L)]` with respect to the logits of the initial law and of
        every transition row (softmax parametrisation: :math:`\mu=\mathrm{softmax}(\eta)`,
        :math:`T_t(x,\cdot)=\mathrm{softmax}(\theta^{(t)}_x)`), for any function of the sequence reward and length.

        By the score-function identity :math:`\nabla\mathbb E[h]=\mathbb E[h(R,L)\,\nabla\log\pi(y)]`, summed
        over the steps by a forward pass (:math:`\alpha_t(x,k)`: the mass of live prefixes ending in token
        :math:`x` at step :math:`t` with reward level :math:`k`) and a backward pass (:math:`\beta_t(x,k)`: the
        expected :math:`h` given such a prefix):

        .. math::

            \frac{\partial\,\mathbb E[h]}{\partial\theta^{(t)}_{xa}} = \sum_k\alpha_t(x,k)\,T_t(x,a)
            \Big[\beta_{t+1}(a,k+k_a)-\sum_bT_t(x,b)\,\beta_{t+1}(b,k+k_b)\Big],\qquad
            \beta_t(x,k) = h(k,t)\ \text{if }x=\text{eos or }t=\text{length}.

        The passes run in linear space: :math:`\beta` is a conditional mean (bounded by :math:`\max|h|`) and a
        prefix mass lost to underflow (below 1e-308) changes the gradient by less than that. The end token's row
        and any step after ``length`` get 0. The forward masses are stored: ``length x V x levels`` cells, at most
        2e7 (160 MB; V = 8 and length 1000 with 0/1 rewards: 8e6 cells, 1.4 s with a group update on top).

        Parameters
        ----------
        h : callable
            ``h(reward, length)`` on arrays: called once with the reward levels, shape ``(levels, 1)``, and the
            lengths ``1 .. length``, shape ``(1, length)``; returns finite values broadcastable to
            ``(levels, length)``.

        Returns
        -------
        d_initial : ndarray, shape (V,)
            With respect to the logits of ``initial``.
        d_transition : ndarray, the shape of ``transition``
            With respect to the logits of each row (summed over the steps for a chain that is the same at every
            step; one matrix per step otherwise).

        References
        ----------
        .. [1] R. J. Williams, "Simple statistical gradient-following algorithms for connectionist reinforcement
           learning", Machine Learning 8 (1992) (the score-function identity).

        Examples
        --------
        >>> from alignsim.markov import MarkovLM
        >>> lm = MarkovLM([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [0.0, 1.0], 3, eos=0)
        >>> d0, dT = lm.expected_gradient(lambda r, n: n + 0.0 * r)   # how the logits move the mean length
        >>> [round(float(x), 6) for x in d0], [round(float(x), 6) for x in dT[1]]
        ([-0.45, 0.45], [-0.08, 0.08])
        """
        if not callable(h):
            raise TypeError(f"h must be a callable h(reward, length), got {type(h).__name__}")
        step, ks, lo, n_levels = self._lattice()
        v, n = self.initial.size, self.length
        if n * v * n_levels > 20_000_000:
            raise ValueError(f"the gradient of length={n} stores {n * v * n_levels:.3g} forward cells (at most 2e7); "
                             "use a shorter length or rewards on a coarser lattice")
        levels = (np.arange(n_levels) + lo) * float(step)
        with np.errstate(all="ignore"):
            grid = np.asarray(h(levels[:, None], np.arange(1, n + 1)[None, :]), dtype=float)
        try:
            grid = np.broadcast_to(grid, (n_levels, n))
        except ValueError:
            raise ValueError(f"h must return values broadcastable to (levels, length) = ({n_levels}, {n}), got shape "
                             f"{grid.shape}") from None
        if not np.all(np.isfinite(grid)):
            raise ValueError("h must return finite values on every reward level and length")
        eos = self.eos

        def matrix(t):
            return self.transition if self._steps is None else self.transition[t - 1]

        alphas = []  # the live prefix masses at steps 1 .. length - 1
        alpha = np.zeros((v, n_levels))
        alpha[np.arange(v), ks - lo] = self.initial
        for t in range(1, n):
            if eos is not None:
                alpha[eos] = 0.0
            alphas.append(alpha)
            alpha = _emit(matrix(t).T @ alpha, ks, 0.0)
        d_trans = np.zeros((max(n - 1, 0), v, v))
        beta = np.broadcast_to(grid[:, n - 1], (v, n_levels)).copy()
        for t in range(n - 1, 0, -1):
            m = matrix(t)
            s_next = _emit(beta, -ks, 0.0)  # S[b, k] = beta[b, k + k_b]: the value after emitting b from k
            q = m * (alphas[t - 1] @ s_next.T)  # q[x, a] = sum_k alpha_t(x, k) T(x, a) beta_{t+1}(a, k + k_a)
            d_trans[t - 1] = q - m * q.sum(axis=1, keepdims=True)
            beta = m @ s_next
            if eos is not None:
                beta[eos] = grid[:, t - 1]
        first = beta[np.arange(v), ks - lo]  # beta_1(a, k_a)
        d_init = self.initial * (first - np.dot(self.initial, first))
        if self._steps is None:
            return d_init, d_trans.sum(axis=0) if n > 1 else np.zeros((v, v))
        return d_init, d_trans

    def mean_reward(self) -> float:
        """Exact expected sequence reward, from the law of the token emitted at each step.

        Returns
        -------
        float
            E[R(y)].
        """
        occ, total = self.initial.copy(), 0.0
        for t in range(1, self.length + 1):
            total += float(np.dot(occ, self.rewards))
            if t == self.length:
                break
            if self.eos is not None:
                occ[self.eos] = 0.0
            occ = occ @ (self.transition if self._steps is None else self.transition[t - 1])
        return total

    def beta_for_kl(self, delta, *, level: str = "sequence") -> float:
        r"""The KL coefficient whose tilt has :math:`\mathrm{KL}(\phi_\beta\|\pi)=\delta`.

        The KL of the sequence-level tilt increases with :math:`1/\beta` (an exponential family in
        :math:`1/\beta`); the greedy tilt's is found on the same bracket. Brent's method in :math:`\log\beta`.

        Parameters
        ----------
        delta : float
            KL budget in nats, ``> 0`` and below the largest KL the tilt reaches.
        level : {"sequence", "token"}
            The sequence-level optimum (:meth:`tilt`) or the greedy per-token tilt (:meth:`token_level_tilt`).

        Returns
        -------
        float
            beta.
        """
        d = V.real(delta, "delta", low=0.0, low_open=True)
        V.choice(level, "level", ("sequence", "token"))
        tilt = self.tilt if level == "sequence" else self.token_level_tilt

        def f(u):
            return tilt(math.exp(u)).kl(self) - d

        lo, hi = -30.0, 30.0  # beta from 1e-13 to 1e13 times the reward scale
        scale = float(np.ptp(self.rewards)) or 1.0
        lo, hi = lo + math.log(scale), hi + math.log(scale)
        f_lo, f_hi = f(lo), f(hi)
        if not f_hi < 0.0 < f_lo:
            raise ValueError(f"delta = {d!r} is not reached by the {level}-level tilt for beta in "
                             f"[{math.exp(lo):.3g}, {math.exp(hi):.3g}]: its KL spans [{f_hi + d:.6g}, {f_lo + d:.6g}]")
        return math.exp(brentq(f, lo, hi, xtol=1e-12, rtol=4 * np.finfo(float).eps))

    def kl_reward_frontier(self, deltas) -> pd.DataFrame:
        """Reward at matched KL of the sequence-level optimum and of the greedy per-token tilt.

        Parameters
        ----------
        deltas : array_like
            KL budgets in nats (each > 0 and reachable).

        Returns
        -------
        pandas.DataFrame
            Columns ``delta, beta, reward, beta_token, reward_token, gap`` (``gap = reward - reward_token >= 0``: the
            price of ignoring the future).

        Examples
        --------
        >>> from alignsim.markov import MarkovLM
        >>> lm = MarkovLM([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [0.0, 1.0], 3, eos=0)
        >>> round(float(lm.kl_reward_frontier([0.1]).gap[0]), 4)
        0.0208
        """
        ds = V.real_array(deltas, "deltas", low=0.0, low_open=True).ravel()
        rows = []
        for d in ds:
            b = self.beta_for_kl(float(d))
            bt = self.beta_for_kl(float(d), level="token")
            rs, rt = self.tilt(b).mean_reward(), self.token_level_tilt(bt).mean_reward()
            rows.append({"delta": float(d), "beta": b, "reward": rs, "beta_token": bt, "reward_token": rt,
                         "gap": rs - rt})
        return pd.DataFrame(rows)

    def renyi_divergence(self, other: "MarkovLM", alpha) -> float:
        r"""Exact sequence-level Rényi divergence :math:`D_\alpha(\pi\|\pi')` of order :math:`\alpha`.

        .. math:: D_\alpha=\frac1{\alpha-1}\log\sum_y\pi(y)^\alpha\pi'(y)^{1-\alpha},

        the sum over complete sequences by a forward recursion with the elementwise products
        :math:`\mu^\alpha\mu'^{1-\alpha}` and :math:`T_t^\alpha T_t'^{1-\alpha}` (in log space); :math:`\alpha=1` is
        :meth:`kl`.

        Parameters
        ----------
        other : MarkovLM
            Same vocabulary, length and end token.
        alpha : float
            Order, ``0 < alpha <= 1e15`` (beyond, ``alpha log pi`` leaves the float range; the divergence is then
            within rounding of its ``alpha -> inf`` limit).

        Returns
        -------
        float
            The divergence in nats (``inf`` where ``alpha >= 1`` and self charges a sequence other never emits).
        """
        self._same_shape(other)
        al = V.real(alpha, "alpha", low=0.0, high=1e15, low_open=True)
        if al == 1.0:
            return self.kl(other)
        with np.errstate(divide="ignore", invalid="ignore"):
            def mix(x, y):  # log(x^alpha y^(1-alpha)); 0 where either is 0 (alpha > 1 with y = 0 is caught apart)
                ly = np.log(y)
                return np.where((x > 0) & (y > 0), al * (np.log(x) - ly) + ly, -np.inf)
            state = mix(self.initial, other.initial)
            if al > 1 and np.any((self.initial > 0) & (other.initial == 0)):
                return math.inf
            total = -np.inf
            for t in range(1, self.length + 1):
                if self.eos is not None:
                    total = np.logaddexp(total, state[self.eos])
                    state = state.copy()
                    state[self.eos] = -np.inf
                if t == self.length:
                    total = np.logaddexp(total, logsumexp(state))
                    break
                mine = self.transition if self._steps is None else self.transition[t - 1]
                theirs = other.transition if other._steps is None else other.transition[t - 1]
                # a sequence self emits and other never does leaves their common support at some step from a
                # prefix both emit: there the mixed state is finite
                reach = state > -np.inf
                if al > 1 and np.any((mine[reach] > 0) & (theirs[reach] == 0)):
                    return math.inf
                state = logsumexp(state[:, None] + mix(mine, theirs), axis=0)
        return max(float(total) / (al - 1.0), 0.0)

    def _same_shape(self, other) -> None:
        if not isinstance(other, MarkovLM):
            raise TypeError(f"other must be a MarkovLM, got {type(other).__name__}")
        if (other.initial.size, other.length, other.eos) != (self.initial.size, self.length, self.eos):
            raise ValueError("other must have the same vocabulary size, length and eos")

    def kl(self, other: "MarkovLM") -> float:
        r"""Exact sequence-level :math:`\mathrm{KL}(\pi\|\pi')` by the chain rule.

        .. math:: \mathrm{KL} = \mathrm{KL}(\mu\|\mu') + \sum_{t\ge1}\sum_s P(\text{token } t = s,\ \text{not ended})
                  \,\mathrm{KL}(T_t(s,\cdot)\,\|\,T'_t(s,\cdot)),

        the occupancy being that of ``self`` (the end token, once emitted, emits nothing more). ``inf`` when
        ``self`` charges a sequence ``other`` never emits.

        Parameters
        ----------
        other : MarkovLM
            Same vocabulary, length and end token.

        Returns
        -------
        float
            The KL in nats (``inf`` where the support fails).
        """
        self._same_shape(other)
        from .divergences import kl as _kl_rows

        total = float(_kl_rows(self.initial, other.initial))
        occ = self.initial.copy()
        for t in range(1, self.length):
            if self.eos is not None:
                occ[self.eos] = 0.0
            mine = self.transition if self._steps is None else self.transition[t - 1]
            theirs = other.transition if other._steps is None else other.transition[t - 1]
            on = occ > 0
            if np.any(on):
                rows = _kl_rows(mine[on], theirs[on], axis=1)
                total += float(np.dot(occ[on], rows))
            occ = occ @ mine
        return total
