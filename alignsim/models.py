r"""Finite bandits and memoryless language models, with exact reward-level laws.

A **memoryless language model** of length :math:`n` emits tokens i.i.d. from a categorical :math:`p` over a
vocabulary, and the sequence reward is additive, :math:`R_n = \sum_{i=1}^n r(y_i)`. Its reward-level law is
computed exactly:

* **lattice convolution** when the token rewards on the support share a rational step :math:`h` (detected
  exactly from the binary value of each float, or from :class:`fractions.Fraction` rewards): :math:`R_n = n\,r_{\min}
  + h\,\sum_i k(y_i)` with integer :math:`k`, and the law of :math:`\sum k` is the :math:`n`-fold convolution of a
  short integer law, done by binary exponentiation in log space (no FFT, so tail masses of ``1e-300`` or
  ``exp(-20000)`` keep their relative accuracy; see :mod:`alignsim._lattice`);
* **multinomial types** otherwise: every count vector :math:`c` of the :math:`m` distinct token rewards has
  probability :math:`\frac{n!}{\prod_j c_j!}\prod_j P_j^{c_j}` (``lgamma``), and types with equal exact reward sums
  are merged.

The cheaper method is chosen automatically; a clear ``ValueError`` is raised when both would exceed the stated
limits (``max_lattice_levels``, ``max_types``). Float rewards are exact binary fractions: ``0.1 + 0.2`` is not
``0.3``, so pass :class:`fractions.Fraction` rewards (e.g. ``Fraction("0.1")``) for decimal semantics. Levels
whose exact sums round to the same float are merged.

References
----------
.. [1] J. Q. Yang et al., "Asymptotics of language model alignment", arXiv:2404.01730 (memoryless model,
   tensorisation of the optimum, tensorisation).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import reduce

import numpy as np
from scipy.special import gammaln, logsumexp

from . import _validate as V
from ._lattice import compositions, log_convolution_power
from ._sequence_laws import SequenceLaws
from .divergences import kl
from .tilting import tilt

__all__ = ["MemorylessLM", "Bandit"]

#: Default limits of the exact reward-law computation.
MAX_LATTICE_LEVELS = 200_001
MAX_TYPES = 20_000_000


def _exact_rewards(r):
    """Exact rationals of the rewards (floats are exact binary fractions)."""
    out = []
    for x in np.ravel(np.asarray(r, dtype=object)):
        if isinstance(x, (bool, np.bool_)):
            raise TypeError("r must hold numbers, got a bool")
        try:
            out.append(Fraction(x) if not isinstance(x, (np.floating, np.integer)) else Fraction(x.item()))
        except (TypeError, ValueError):
            raise TypeError(f"r must hold real numbers, got {x!r}") from None
    return out


def _lcm(a, b):
    return a * b // math.gcd(a, b)


class MemorylessLM(SequenceLaws):
    r"""A memoryless language model: ``length`` i.i.d. tokens from ``p``, additive token rewards ``r``.

    Parameters
    ----------
    p : array_like, shape (V,)
        Token probabilities.
    r : array_like, shape (V,)
        Token rewards: floats (taken at their exact binary value), ints, or :class:`fractions.Fraction`.
    length : int
        Sequence length :math:`n\ge1`.

    Attributes
    ----------
    p, r : ndarray, shape (V,)
        Read-only float copies.
    length : int

    Notes
    -----
    The sequence law is :math:`\mathbf p(\mathbf y) = \prod_{i=1}^n p(y_i)` and the reward
    :math:`R_n(\mathbf y) = \sum_{i=1}^n r(y_i)`; the KL-regularised optimum is again memoryless.

    References
    ----------
    .. [1] Yang et al., arXiv:2404.01730 (2024), assumptions (M) and (L).

    Examples
    --------
    >>> import alignsim as a
    >>> lm = a.MemorylessLM([0.7, 0.3], [0, 1], 3)
    >>> levels, probs = lm.reward_law()
    >>> levels, probs.round(3)
    (array([0., 1., 2., 3.]), array([0.343, 0.441, 0.189, 0.027]))
    """

    def __init__(self, p, r, length):
        self.p, self.r = V.policy_and_rewards(p, r, "p")
        self._r_exact = _exact_rewards(r)
        self.length = V.length(length)
        self.p.flags.writeable = False
        self.r.flags.writeable = False
        self._law = None

    def __repr__(self):
        return f"{type(self).__name__}(vocab={self.p.size}, length={self.length})"

    # -- exact reward-level law ----------------------------------------------------------------------------------
    def _token_levels(self):
        """Distinct exact token rewards on the support with their masses (increasing)."""
        masses: dict[Fraction, float] = {}
        for pj, rj in zip(self.p, self._r_exact):
            if pj > 0:
                masses[rj] = masses.get(rj, 0.0) + pj
        vals = sorted(masses)
        return vals, np.array([masses[v] for v in vals])

    def _plan(self, vals, max_lattice_levels, max_types):
        n, m = self.length, len(vals)
        rmin = vals[0]
        diffs = [v - rmin for v in vals]
        den = reduce(_lcm, (d.denominator for d in diffs), 1)
        ints = [int(d * den) for d in diffs]
        g = reduce(math.gcd, ints, 0) or 1
        ks = [k // g for k in ints]
        step = Fraction(g, den)
        n_levels = ks[-1] * n + 1
        n_types = math.comb(n + m - 1, m - 1)
        lattice_ok = n_levels <= max_lattice_levels
        types_ok = n_types <= max_types
        if not (lattice_ok or types_ok):
            raise ValueError(
                f"the exact reward law of length={n} needs {n_levels} lattice levels (max_lattice_levels="
                f"{max_lattice_levels}) or {n_types} multinomial types (max_types={max_types}); use fewer "
                f"distinct token rewards, rewards on a coarser common step, or a shorter length"
            )
        # cost model: lattice ~ L^2 / 2 multiply-adds; types ~ 8 m T operations
        lattice_cost = 0.5 * n_levels ** 2
        types_cost = 8.0 * m * n_types
        use_lattice = lattice_ok and (not types_ok or lattice_cost <= types_cost)
        return rmin, step, ks, use_lattice

    def _compute_law(self, method, max_lattice_levels, max_types):
        vals, mass = self._token_levels()
        n = self.length
        rmin, step, ks, use_lattice = self._plan(vals, max_lattice_levels, max_types)
        if method == "lattice" and not use_lattice:
            if ks[-1] * n + 1 > max_lattice_levels:
                raise ValueError(f"method='lattice' needs {ks[-1] * n + 1} levels > max_lattice_levels")
            use_lattice = True
        elif method == "types":
            if math.comb(n + len(vals) - 1, len(vals) - 1) > max_types:
                raise ValueError("method='types' needs more than max_types multinomial types")
            use_lattice = False
        log_mass = np.log(mass)
        if use_lattice:
            kernel = np.full(ks[-1] + 1, -np.inf)
            for k, lm in zip(ks, log_mass):
                kernel[k] = lm
            log_probs = log_convolution_power(kernel, n)
            keys = np.arange(log_probs.size, dtype=np.int64)
            keep = log_probs > -np.inf
            keys, log_probs = keys[keep], log_probs[keep]
        else:
            counts = compositions(n, len(vals))
            log_probs = gammaln(n + 1.0) - gammaln(counts + 1.0).sum(axis=1) + counts @ log_mass
            big = ks[-1] * n >= 2 ** 62
            kvec = np.array(ks, dtype=object if big else np.int64)
            keys = counts.astype(object) @ kvec if big else counts @ kvec
            order = np.argsort(keys, kind="stable")
            keys, log_probs = keys[order], log_probs[order]
            starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
            keys = keys[starts]
            log_probs = np.logaddexp.reduceat(log_probs, starts)
        levels = self._level_values(rmin, step, keys)
        # exact sums that round to the same float are one level
        starts = np.flatnonzero(np.concatenate(([True], levels[1:] != levels[:-1])))
        levels = levels[starts]
        log_probs = np.logaddexp.reduceat(log_probs, starts)
        # removes the uniform (1 + rounding)^n factor of the token law's normalisation
        log_probs = log_probs - logsumexp(log_probs)
        return levels, log_probs

    def _level_values(self, rmin, step, keys):
        n = self.length
        if keys.dtype == object or step.denominator > 2 ** 52 or abs(n * rmin) > 2 ** 52:
            base = n * rmin
            return np.array([float(base + step * int(k)) for k in keys])
        return float(n * rmin) + float(step) * keys.astype(np.float64)

    def reward_law(self, *, log: bool = False, method: str = "auto", max_lattice_levels: int = MAX_LATTICE_LEVELS,
                   max_types: int = MAX_TYPES):
        r"""Exact law of the sequence reward :math:`R_n=\sum_i r(y_i)` under the model.

        .. math::

            P(R_n = s) = \sum_{c:\ \sum_j c_j r_j = s}\frac{n!}{\prod_j c_j!}\prod_j P_j^{c_j}.

        Parameters
        ----------
        log : bool
            Return log-probabilities (needed when masses fall below ``1e-308``).
        method : {"auto", "lattice", "types"}
            ``"auto"`` picks the cheaper exact method. Cost on 2 cores: the lattice (rewards on a common rational
            step) takes 0.1-0.2 s at length 10 000 with 4 token rewards; the multinomial types (irrational
            rewards) grow as :math:`\binom{n+K-1}{K-1}`: 1.5 s for :math:`K=3, n=1000`, about a minute for
            :math:`n=5000`.
        max_lattice_levels, max_types : int
            Size limits; a ``ValueError`` names them when exceeded.

        Returns
        -------
        levels : ndarray, shape (L,)
            Strictly increasing reward levels with positive probability.
        probs : ndarray, shape (L,)
            Their probabilities (or log-probabilities), summing to one.

        Notes
        -----
        Cost: lattice convolution is :math:`O((Kn)^2)` multiply-adds for a token step multiple :math:`K`
        (0.3 s for :math:`n=10^4`, :math:`K=3`); types is :math:`O(m\binom{n+m-1}{m-1})` for :math:`m` distinct
        token rewards. The law is cached on the object.

        Examples
        --------
        >>> import alignsim as a
        >>> levels, probs = a.MemorylessLM([0.5, 0.3, 0.2], [0, 1, 3], 10_000).reward_law()
        >>> levels.size, bool(abs(probs.sum() - 1) < 1e-12)
        (30000, True)
        """
        log = V.flag(log, "log")
        V.choice(method, "method", ("auto", "lattice", "types"))
        key = (method, max_lattice_levels, max_types)
        if self._law is None or self._law[0] != key:
            self._law = (key, self._compute_law(method, max_lattice_levels, max_types))
        levels, log_probs = self._law[1]
        return (levels.copy(), log_probs.copy()) if log else (levels.copy(), np.exp(log_probs))

    # -- alignment objects -----------------------------------------------------------------------------------------
    def tilt(self, beta) -> "MemorylessLM":
        r"""The KL-regularised optimum of the sequence problem, which is again memoryless (tensorisation, tensorisation).

        :math:`\boldsymbol\phi(\mathbf y)\propto\prod_i p(y_i)e^{r(y_i)/\beta} = \prod_i\phi_{1/\beta}(y_i)`, with
        the same :math:`\beta` as the single-token problem; KL and reward scale linearly in the length.

        Parameters
        ----------
        beta : float
            KL coefficient, 0 < beta <= inf (inf is the reference itself).

        Returns
        -------
        MemorylessLM
            The tilted memoryless LM (same rewards and length).

        Examples
        --------
        >>> import alignsim as a
        >>> lm = a.MemorylessLM([0.7, 0.3], [0, 1], 10)
        >>> round(lm.tilt(1.10395862356).kl(lm), 9)
        1.0
        """
        return type(self)._from(tilt(self.p, self.r, beta), self._r_exact, self.length)

    @classmethod
    def _from(cls, p, r_exact, length):
        obj = MemorylessLM.__new__(cls)
        MemorylessLM.__init__(obj, p, r_exact, length)
        return obj

    def kl(self, other: "MemorylessLM") -> float:
        r""":math:`\mathrm{KL}(\text{self}\,\|\,\text{other}) = n\,\mathrm{KL}(p_{\text{self}}\|p_{\text{other}})` over
        whole sequences (models of the same vocabulary size and length).

        Parameters
        ----------
        other : MemorylessLM
            A model with the same vocabulary size and length.

        Returns
        -------
        float
            KL(self || other) over whole sequences, in nats.
        """
        if not isinstance(other, MemorylessLM):
            raise TypeError(f"other must be a MemorylessLM, got {type(other).__name__}")
        if other.length != self.length or other.p.size != self.p.size:
            raise ValueError(
                f"other must have the same vocabulary size and length, got ({other.p.size}, {other.length}) vs "
                f"({self.p.size}, {self.length})"
            )
        return self.length * kl(self.p, other.p)

    def mean_reward(self) -> float:
        r""":math:`\mathbb E R_n = n\,\mathbb E_p r`.

        Returns
        -------
        float
            Expected sequence reward n E_p r.
        """
        return self.length * float(np.dot(self.p, self.r))

    def sample_rewards(self, size, rng=None) -> np.ndarray:
        """Draw ``size`` sequence rewards by sampling token counts (multinomial), never a ``size x length`` array.

        Independent of the exact law, so it can check it. ``rng`` is ``None``, a seed or a Generator.

        Parameters
        ----------
        size : int
            Number of sequences to draw (capped by the Monte-Carlo size limit).
        rng : None, int, SeedSequence or numpy.random.Generator
            Source of randomness (normalised by numpy.random.default_rng).

        Returns
        -------
        ndarray, shape (size,)
            Simulated sequence rewards.
        """
        size = V.mc_size(size, draws_per_item=self.p.size, per="the number of outcomes")
        gen = V.rng(rng)
        counts = gen.multinomial(self.length, self.p, size=size)
        return counts @ self.r


class Bandit(MemorylessLM):
    r"""A finite bandit: one draw (``length = 1``) from ``p`` over arms with rewards ``r``.

    Its reward law groups arms with equal rewards, :math:`P(R = s) = \sum_{y:\,r(y)=s} p(y)`. All functions of
    :mod:`alignsim` that take ``(p, r)`` apply directly to ``bandit.p, bandit.r``.

    Parameters
    ----------
    p : array_like, shape (K,)
        Probabilities of the arms under the reference.
    r : array_like, shape (K,)
        Rewards of the arms.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879 (best-of-N on finite outcome spaces).

    Examples
    --------
    >>> import alignsim as a
    >>> a.Bandit([0.5, 0.3, 0.2], [1, 1, 2]).reward_law()
    (array([1., 2.]), array([0.8, 0.2]))
    """

    def __init__(self, p, r):
        super().__init__(p, r, 1)

    @classmethod
    def _from(cls, p, r_exact, length):
        return cls(p, r_exact)

    def __repr__(self):
        return f"Bandit(arms={self.p.size})"
