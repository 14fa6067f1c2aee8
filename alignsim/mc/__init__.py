r"""Monte-Carlo simulation, to verify the exact code (never to replace it).

Checked wrappers around the numba kernels of :mod:`alignsim.mc._kernels`. Every function takes
``rng = None | int | SeedSequence | Generator``; the work is cut into blocks of a fixed size (independent of the
thread count), each with its own xoshiro256** stream from ``SeedSequence(seed).spawn``, so a seed gives the same
result for 1 or 2 threads (see :mod:`alignsim.mc._rng` for why this generator).

=================================  ========================================================================
function                           what it draws
=================================  ========================================================================
:func:`sample_law`                 i.i.d. draws from a finite law (alias table, O(1) per draw)
:func:`simulate_rewards`           sequence rewards of a memoryless LM, token by token
:func:`simulate_markov`            (reward, length) of sequences of a Markov LM with an end token, token by token
:func:`naive_bon`                  best-/worst-of-N on a bandit by drawing N outcomes (O(1) memory in N)
:func:`naive_bon_rewards`          best-/worst-of-N over whole sequences by drawing N sequences
:func:`naive_soft_bon`             soft best-of-N on a bandit by simulation
:func:`sample_bon`                 best-/worst-of-N outcomes from the exact law (cost independent of N)
:func:`sample_bon_rewards`         best-/worst-of-N sequence rewards from the exact level law
:func:`grpo_update_mean`           the one-step GRPO update averaged over sampled groups
:func:`simulate_grpo`              stochastic GRPO training on a bandit, parallel over independent runs
:func:`simulate_pg`                stochastic REINFORCE (RLOO or group-mean baseline) with a sampled KL term
:func:`simulate_judge`             Bayesian linear regression + LLM judge at finite d (teachers to selections)
:func:`sample_judge_point`         selected offsets at one test point of the judge model (k draws, one pick)
=================================  ========================================================================
"""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as V
from .._levels import unit_rewards
from ..bon import bon_law, won_law
from ..judge import JudgeModel
from ..markov import MarkovLM
from ..models import MemorylessLM
from . import _judge as JK
from . import _kernels as K
from ._distributed import run as _run
from ._rng import block_states as _spawn

__all__ = [
    "sample_law",
    "simulate_rewards",
    "simulate_markov",
    "naive_bon",
    "naive_bon_rewards",
    "naive_soft_bon",
    "sample_bon",
    "sample_bon_rewards",
    "grpo_update_mean",
    "simulate_grpo",
    "simulate_pg",
    "simulate_judge",
    "sample_judge_point",
]

_DRAWS_PER_BLOCK = 1 << 16


def _block(draws_per_item: int) -> int:
    """Items per block: about 2^16 uniform draws per block (amortises seeding), between 64 and 2^16 items."""
    return int(min(max(_DRAWS_PER_BLOCK // max(draws_per_item, 1), 64), _DRAWS_PER_BLOCK))


def _reward_tables(table, r):
    """Per-column rewards of the kept column and of its alias (padding columns get 0; they are never kept)."""
    r_keep = np.zeros(table.threshold.size)
    r_keep[: r.size] = r
    return r_keep, r_keep[table.alias]


def _integer_n(N, name="N"):
    """A number of draws to simulate: an integer >= 1 (huge values are caught by the work cap, not converted)."""
    if isinstance(N, (int, np.integer)) and not isinstance(N, (bool, np.bool_)):
        return V.length(N, name)
    if isinstance(N, (float, np.floating)) and math.isfinite(N) and float(N).is_integer():
        return V.length(int(N), name)
    raise ValueError(f"{name} must be an integer >= 1 for simulation, got {N!r}")


def sample_law(probs, size, *, values=None, rng=None, client=None):
    r"""Draw ``size`` i.i.d. samples from a finite law with an alias table (O(1) per draw).

    Parameters
    ----------
    probs : array_like, shape (K,)
        Probabilities (validated: non-negative, summing to one within ``1e-9``).
    size : int
    values : array_like, shape (K,), optional
        If given, return ``values[index]`` instead of indices.
    rng : None, int, SeedSequence or Generator
    client : dask.distributed.Client, optional
        Run the kernel's blocks on this Dask cluster; each block's stream is spawned from the seed, so the result
        is bit-identical to one process for any number of workers.

    Returns
    -------
    ndarray, shape (size,)

    Notes
    -----
    Vose's alias method on :math:`2^b\ge K` columns: the top :math:`b` bits of one 64-bit output give the column,
    the other :math:`64-b` bits the coin (probabilities are resolved to :math:`2^{-(64-b)}`).

    References
    ----------
    .. [1] M. D. Vose, "A linear algorithm for generating random numbers with a given distribution", IEEE TSE 1991.

    Examples
    --------
    >>> from alignsim.mc import sample_law
    >>> x = sample_law([0.2, 0.8], 100_000, rng=0)
    >>> bool(abs(x.mean() - 0.8) < 0.01)
    True
    """
    pp = V.probabilities(probs, "probs")
    n = V.mc_size(size)
    vals = None if values is None else V.rewards(values, "values", size=pp.size, like="probs")
    t = K.alias_table(pp)
    block = _block(1)
    idx = _run(K.alias_sample, t.threshold, t.alias, t.shift, t.mask, n, _spawn(rng, n, block), block, client=client)
    return idx if vals is None else vals[idx]


def simulate_rewards(lm: MemorylessLM, size, *, rng=None, counts: bool = False, client=None):
    r"""Simulate ``size`` sequences of a memoryless LM token by token and return their summed rewards.

    :math:`R = \sum_{t=1}^{n} r(y_t)`, :math:`y_t\sim p` i.i.d.; no ``size x length`` array is formed.

    Parameters
    ----------
    lm : MemorylessLM
    size : int
    rng : None, int, SeedSequence or Generator
    counts : bool
        Return the token counts (``size x V`` integers) instead; the same draws as the rewards.
    client : dask.distributed.Client, optional
        Run the kernel's blocks on this Dask cluster; each block's stream is spawned from the seed, so the result
        is bit-identical to one process for any number of workers.

    Returns
    -------
    ndarray, shape (size,) or (size, V)

    References
    ----------
    .. [1] Yang et al., arXiv:2404.01730 (memoryless LM, additive reward).

    Examples
    --------
    >>> import alignsim as a
    >>> from alignsim.mc import simulate_rewards
    >>> x = simulate_rewards(a.MemorylessLM([0.5, 0.5], [0, 1], 10), 50_000, rng=1)
    >>> bool(abs(x.mean() - 5) < 0.05)
    True
    """
    counts = V.flag(counts, "counts")
    if not isinstance(lm, MemorylessLM):
        raise TypeError(f"lm must be a MemorylessLM, got {type(lm).__name__}")
    n = V.mc_size(size, draws_per_item=lm.length, per="the length of lm")
    t = K.alias_table(lm.p)
    block = _block(lm.length)
    states = _spawn(rng, n, block)
    if counts:
        return _run(K.token_counts, t.threshold, t.alias, t.shift, t.mask, lm.length, n, states, block,
                    client=client)[:, : lm.p.size]
    return _run(K.token_rewards, t.threshold, *_reward_tables(t, lm.r), t.shift, t.mask, lm.length, n, states, block,
                client=client)


def _inverse_cdfs(probs: np.ndarray) -> np.ndarray:
    """Row CDFs for inverse-CDF draws: 1.0 exactly from each row's last positive entry on, so that rounding of
    the cumulative sum can never hand the draws above it to a zero-probability token."""
    cdf = np.cumsum(probs, axis=-1)
    last = probs.shape[-1] - 1 - np.argmax(probs[..., ::-1] > 0, axis=-1)
    cdf[np.arange(probs.shape[-1]) >= last[..., None]] = 1.0
    return cdf


def simulate_markov(lm: MarkovLM, size, *, rng=None, client=None) -> tuple[np.ndarray, np.ndarray]:
    r"""Simulate ``size`` sequences of a Markov LM token by token: their rewards and lengths.

    :math:`y_1\sim\mu`, :math:`y_t\sim T_{t-1}(y_{t-1},\cdot)`, stopping at the end token (emitted, its reward
    counted) or at ``lm.length`` tokens; :math:`R=\sum_t r(y_t)`. Inverse-CDF draws by binary search
    (:math:`O(\log V)` per token), no ``size x length`` array; the same numbers on 1 and 2 threads.

    Parameters
    ----------
    lm : alignsim.markov.MarkovLM
    size : int
    rng : None, int, SeedSequence or Generator
    client : dask.distributed.Client, optional
        Run the kernel's blocks on this Dask cluster; each block's stream is spawned from the seed, so the result
        is bit-identical to one process for any number of workers.

    Returns
    -------
    rewards : ndarray, shape (size,)
    lengths : ndarray of int, shape (size,)

    References
    ----------
    The model of :class:`alignsim.markov.MarkovLM`; compare with its exact ``reward_law``, ``length_law`` and
    ``joint_law``.

    Examples
    --------
    >>> import alignsim as a
    >>> from alignsim.mc import simulate_markov
    >>> lm = a.MarkovLM([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [0.0, 1.0], 50, eos=0)
    >>> rewards, lengths = simulate_markov(lm, 100_000, rng=1)
    >>> bool(abs(lengths.mean() - lm.length_law()[0] @ lm.length_law()[1]) < 0.05)
    True
    """
    if not isinstance(lm, MarkovLM):
        raise TypeError(f"lm must be a MarkovLM, got {type(lm).__name__}")
    n = V.mc_size(size, draws_per_item=lm.length, per="the length of lm")
    transition = lm.transition if lm.transition.ndim == 3 else lm.transition[None]
    if transition.shape[0] == 0:  # length 1: no transition is ever drawn
        transition = np.ones((1, lm.initial.size, lm.initial.size)) / lm.initial.size
    block = _block(lm.length)
    states = _spawn(rng, n, block)
    eos = -1 if lm.eos is None else lm.eos
    return _run(K.markov_sequences, _inverse_cdfs(lm.initial), _inverse_cdfs(transition), lm.rewards, eos, lm.length,
                n, states, block, client=client)


@V.renamed_keywords(p="ref")
def naive_bon(ref, r, N, size, *, worst: bool = False, rng=None, client=None):
    r"""Best-of-N (or worst-of-N) on a bandit by simulation: draw ``N`` outcomes, keep one with the largest
    (smallest) reward, ties broken uniformly at random (reservoir sampling; memory independent of ``N``).

    This is the definition, simulated; compare with :func:`alignsim.bon_law`.

    Parameters
    ----------
    ref, r : array_like, shape (K,)
    N : int
        Sample count, an integer :math:`\ge1`; the cost is ``size * N`` draws.
    size : int
    worst : bool
    rng : None, int, SeedSequence or Generator
    client : dask.distributed.Client, optional
        Run the kernel's blocks on this Dask cluster; each block's stream is spawned from the seed, so the result
        is bit-identical to one process for any number of workers.

    Returns
    -------
    ndarray of int, shape (size,)
        Selected outcome indices.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, section 2.

    Examples
    --------
    >>> from alignsim.mc import naive_bon
    >>> x = naive_bon([0.5, 0.5], [0, 1], 2, 100_000, rng=0)
    >>> bool(abs(x.mean() - 0.75) < 0.01)
    True
    """
    worst = V.flag(worst, "worst")
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    n_samples = _integer_n(N)
    n = V.mc_size(size, draws_per_item=n_samples, per="N")
    t = K.alias_table(pp)
    block = _block(n_samples)
    return _run(K.naive_best_of_n, t.threshold, t.alias, t.shift, t.mask, _reward_tables(t, rr)[0], n_samples, n,
                _spawn(rng, n, block), block, bool(worst), client=client)


def naive_bon_rewards(lm: MemorylessLM, N, size, *, worst: bool = False, rng=None, client=None):
    r"""Best-of-N (or worst-of-N) over whole sequences of a memoryless LM by simulation; returns the selected
    sequence rewards. Cost ``size * N * length`` token draws, memory independent of ``N`` and the length.

    Parameters
    ----------
    lm : MemorylessLM
        The model whose whole sequences are sampled.
    N : int or float
        Number of draws per selection, an integer >= 1 (simulated: ``size * N`` draws are capped at
        ``alignsim._validate.MAX_MC_DRAWS``; the exact-law samplers take any N).
    size : int
        Number of draws (capped before any work).
    worst : bool
        Worst-of-N instead of best-of-N.
    rng : None, int, SeedSequence or numpy.random.Generator
        Source of randomness (normalised by numpy.random.default_rng).
    client : dask.distributed.Client, optional
        Run the kernel's blocks on this Dask cluster; each block's stream is spawned from the seed, so the result
        is bit-identical to one process for any number of workers.

    Returns
    -------
    ndarray, shape (size,)
        Rewards of the selected sequences.

    References
    ----------
    .. [1] Yang et al., arXiv:2404.01730 (best-of-N on memoryless LMs).

    Examples
    --------
    >>> import alignsim as a
    >>> from alignsim.mc import naive_bon_rewards
    >>> x = naive_bon_rewards(a.MemorylessLM([0.5, 0.5], [0, 1], 1), 2, 100_000, rng=0)
    >>> bool(abs(x.mean() - 0.75) < 0.01)
    True
    """
    worst = V.flag(worst, "worst")
    if not isinstance(lm, MemorylessLM):
        raise TypeError(f"lm must be a MemorylessLM, got {type(lm).__name__}")
    n_samples = _integer_n(N)
    n = V.mc_size(size, draws_per_item=n_samples * lm.length, per="N")
    t = K.alias_table(lm.p)
    block = _block(n_samples * lm.length)
    return _run(K.naive_best_of_n_sequences, t.threshold, *_reward_tables(t, lm.r), t.shift, t.mask, lm.length,
                n_samples, n, _spawn(rng, n, block), block, bool(worst), client=client)


@V.renamed_keywords(p="ref")
def naive_soft_bon(ref, r, N, beta, size, *, rng=None, client=None):
    r"""Soft best-of-N on a bandit by simulation: draw ``N`` outcomes, select draw :math:`i` with probability
    :math:`\propto e^{r_i/\beta}` (one pass, weighted reservoir). Compare with :func:`alignsim.soft_bon_law`.

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int or float
        Number of draws per selection, an integer >= 1 (simulated: ``size * N`` draws are capped at
        ``alignsim._validate.MAX_MC_DRAWS``; the exact-law samplers take any N).
    beta : float
        Selection temperature, > 0.
    size : int
        Number of draws (capped before any work).
    rng : None, int, SeedSequence or numpy.random.Generator
        Source of randomness (normalised by numpy.random.default_rng).
    client : dask.distributed.Client, optional
        Run the kernel's blocks on this Dask cluster; each block's stream is spawned from the seed, so the result
        is bit-identical to one process for any number of workers.

    Returns
    -------
    ndarray of int, shape (size,)
        Indices of the selected outcomes.

    References
    ----------
    .. [1] Verdun et al., arXiv:2505.03156 (2025).

    Examples
    --------
    >>> from alignsim.mc import naive_soft_bon
    >>> x = naive_soft_bon([0.5, 0.5], [0, 1], 2, 1.0, 200_000, rng=0)
    >>> bool(abs(x.mean() - 0.615529) < 0.005)
    True
    """
    pp, rr = V.policy_and_rewards(ref, r, "ref")
    n_samples = _integer_n(N)
    b = V.real(beta, "beta", low=0.0, low_open=True)
    n = V.mc_size(size, draws_per_item=n_samples, per="N")
    t = K.alias_table(pp)
    block = _block(2 * n_samples)
    return _run(K.soft_best_of_n, t.threshold, t.alias, t.shift, t.mask, _reward_tables(t, rr)[0], n_samples, b, n,
                _spawn(rng, n, block), block, client=client)


@V.renamed_keywords(p="ref")
def sample_bon(ref, r, N, size, *, worst: bool = False, ties: str = "random", rng=None, client=None):
    r"""Draw best-of-N (or worst-of-N) outcomes of a bandit directly from the exact law.

    The law :math:`\pi_N` (:func:`alignsim.bon_law` / :func:`alignsim.won_law`) is computed once and sampled with an
    alias table, so the cost per draw does not depend on ``N`` (which may be huge, e.g. ``1e300``).

    Parameters
    ----------
    ref : array_like, shape (K,)
        Reference probabilities (finite, non-negative, summing to one within 1e-9).
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    N : int or float
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.
    size : int
        Number of draws (capped before any work).
    worst : bool
        Worst-of-N instead of best-of-N.
    ties : {"random", "ordered"}
        Tie-breaking among equal rewards: uniformly at random (default) or by index.
    rng : None, int, SeedSequence or numpy.random.Generator
        Source of randomness (normalised by numpy.random.default_rng).
    client : dask.distributed.Client, optional
        Run the kernel's blocks on this Dask cluster; each block's stream is spawned from the seed, so the result
        is bit-identical to one process for any number of workers.

    Returns
    -------
    ndarray of int, shape (size,)
        Indices of the drawn outcomes.

    References
    ----------
    .. [1] Beirami et al., arXiv:2401.01879, Lemma 2.

    Examples
    --------
    >>> from alignsim.mc import sample_bon
    >>> x = sample_bon([0.5, 0.5], [0, 1], 10 ** 6, 1000, rng=0)
    >>> int(x.min())
    1
    """
    worst = V.flag(worst, "worst")
    law = (won_law if worst else bon_law)(ref, r, N, ties=ties)
    return sample_law(law, size, rng=rng, client=client)


def sample_bon_rewards(lm: MemorylessLM, N, size, *, worst: bool = False, rng=None, client=None):
    r"""Draw best-of-N (or worst-of-N) sequence rewards of a memoryless LM from the exact level law (cost per draw
    independent of ``N``; ``N`` may be astronomically large).

    Parameters
    ----------
    lm : MemorylessLM
        The model whose whole sequences are sampled.
    N : int or float
        Number of samples, N >= 1; huge values (up to 1e300 or an int beyond the float range) are handled
        through log N.
    size : int
        Number of draws (capped before any work).
    worst : bool
        Worst-of-N instead of best-of-N.
    rng : None, int, SeedSequence or numpy.random.Generator
        Source of randomness (normalised by numpy.random.default_rng).
    client : dask.distributed.Client, optional
        Run the kernel's blocks on this Dask cluster; each block's stream is spawned from the seed, so the result
        is bit-identical to one process for any number of workers.

    Returns
    -------
    ndarray, shape (size,)
        Sequence rewards drawn from the exact best-of-N (worst-of-N) law.

    References
    ----------
    .. [1] Yang et al., arXiv:2404.01730; Beirami et al., arXiv:2401.01879.

    Examples
    --------
    >>> import alignsim as a
    >>> from alignsim.mc import sample_bon_rewards
    >>> x = sample_bon_rewards(a.MemorylessLM([0.7, 0.3], [0, 1], 100), 10 ** 40, 1000, rng=0)
    >>> bool(x.min() > 40)
    True
    """
    worst = V.flag(worst, "worst")
    if not isinstance(lm, MemorylessLM):
        raise TypeError(f"lm must be a MemorylessLM, got {type(lm).__name__}")
    levels, probs = (lm.won_reward_law(N) if worst else lm.bon_reward_law(N))
    return sample_law(probs / probs.sum(), size, values=levels, rng=rng, client=client)


def grpo_update_mean(pi, r, G, size, *, ddof: int = 1, eps: float = 0.0, rng=None, client=None):
    r"""Average of the one-step GRPO update :math:`\frac1G\sum_i A_i\,s_{y_i}` over ``size`` sampled groups.

    Returns ``(mean, standard_error)`` (arrays of shape ``(K,)``); the mean must match the exact
    :func:`alignsim.dynamics.grpo_expected_update` within its error (only the one-step expectation is exact).

    Parameters
    ----------
    pi : array_like, shape (K,)
        Policy probabilities.
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    G : int
        Group size, >= 2.
    size : int
        Number of simulated groups (capped).
    ddof : int
        Degrees of freedom of the group standard deviation, 0 or 1.
    eps : float
        Added to the group standard deviation, >= 0.
    rng : None, int, SeedSequence or numpy.random.Generator
        Source of randomness (normalised by numpy.random.default_rng).
    client : dask.distributed.Client, optional
        Run the kernel's blocks on this Dask cluster; each block's stream is spawned from the seed, so the result
        is bit-identical to one process for any number of workers.

    Returns
    -------
    mean : ndarray, shape (K,)
        Average sampled update.
    standard_error : ndarray, shape (K,)
        Its standard error.

    References
    ----------
    .. [1] Shao et al., arXiv:2402.03300.

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim.mc import grpo_update_mean
    >>> from alignsim.dynamics import grpo_expected_update
    >>> m, se = grpo_update_mean([0.2, 0.3, 0.5], [1, 0.5, 0], 4, 200_000, rng=0)
    >>> bool(np.all(np.abs(m - grpo_expected_update([0.2, 0.3, 0.5], [1, 0.5, 0], 4)) < 5 * se))
    True
    """
    pp = V.probabilities(pi, "pi")
    rr = V.rewards(r, "r", size=pp.size, like="pi")
    g = V.group_size(G, "G")
    d = V.choice(ddof, "ddof", (0, 1))
    e = V.real(eps, "eps", low=0.0)
    n = V.mc_size(size, draws_per_item=g, per="G")
    rr, e = unit_rewards(rr, e)  # the advantages are invariant to an affine map of r with eps scaled alike
    t = K.alias_table(pp)
    block = _block(g)
    sums, sq = _run(K.grpo_update_sums, t.threshold, t.alias, t.shift, t.mask, _reward_tables(t, rr)[0], pp, g, d,
                    e, n, _spawn(rng, n, block), block, client=client)
    mean = sums.sum(axis=0) / n
    var = np.maximum(sq.sum(axis=0) / n - mean ** 2, 0.0) * n / max(n - 1, 1)
    return mean, np.sqrt(var / n)


def _training_args(theta0, r, ref, beta, eta, steps, n_runs, per_step, per_name):
    """Validated (theta0, r, ref, beta, eta, steps, n_runs) of the training simulators; ``per_step`` samples a
    step, so the work ``n_runs * steps * per_step`` is capped before the run starts."""
    th, rr, pr, b = V.softmax_bandit(theta0, r, ref, beta, "theta0")
    e = V.real(eta, "eta", low=0.0, low_open=True)
    n_steps = V.length(steps, "steps")
    runs = V.mc_size(n_runs, "n_runs", draws_per_item=n_steps * per_step, per=f"steps and {per_name}")
    return th, rr, pr, b, e, n_steps, runs


def simulate_grpo(theta0, r, ref, beta, eta, steps, G, n_runs, *, ddof: int = 1, eps: float = 0.0, rng=None):
    r"""Stochastic GRPO training on a softmax bandit, ``n_runs`` independent runs in parallel.

    Each step samples a group of ``G`` arms from :math:`\pi_\theta`, forms GRPO's normalised advantages and the
    sampled :math:`k_3`-as-loss KL gradient (GRPO's placement: it follows the forward KL, see
    :func:`alignsim.estimators.gradient_table`), and updates
    :math:`\theta \leftarrow \theta + \eta\,[\frac1G\sum_i A_i s_i - \beta\frac1G\sum_i(1-\rho_i)s_i]`. Every run has its
    own stream, so results do not depend on the thread count. Returns the final policies, shape ``(n_runs, K)``.
    The mean trajectory is not the exact-update trajectory (the update is nonlinear); they agree as
    :math:`\eta\to0`.

    Parameters
    ----------
    theta0 : array_like, shape (K,)
        Initial logits.
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    ref : array_like, shape (K,)
        Reference law, full support.
    beta : float
        KL coefficient, >= 0.
    eta : float
        Step size, > 0.
    steps : int
        Training steps, >= 1.
    G : int
        Group size, >= 2.
    n_runs : int
        Independent runs, >= 1 (steps x G x n_runs is capped).
    ddof : int
        Degrees of freedom of the group standard deviation, 0 or 1.
    eps : float
        Added to the group standard deviation, >= 0.
    rng : None, int, SeedSequence or numpy.random.Generator
        Source of randomness (normalised by numpy.random.default_rng).

    Returns
    -------
    ndarray, shape (n_runs, K)
        Final policies of the runs.

    References
    ----------
    .. [1] Shao et al., arXiv:2402.03300.

    Examples
    --------
    >>> from alignsim.mc import simulate_grpo
    >>> simulate_grpo([0.0, 0.0, 0.0], [1, 0.5, 0], [0.2, 0.3, 0.5], 0.25, 0.1, 50, 4, 8, rng=0).shape
    (8, 3)
    """
    g = V.group_size(G, "G")
    th, rr, pr, b, e, n_steps, runs = _training_args(theta0, r, ref, beta, eta, steps, n_runs, g, "G")
    d = V.choice(ddof, "ddof", (0, 1))
    ep = V.real(eps, "eps", low=0.0)
    rr, ep = unit_rewards(rr, ep)  # r enters only through the normalised advantages
    thetas = _finite_runs(K.grpo_train(np.tile(th, (runs, 1)), rr, pr, b, e, n_steps, g, d, ep, _spawn(rng, runs, 1)))
    z = np.exp(thetas - thetas.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _finite_runs(thetas):
    """The final logits of the training simulators, or a ValueError when a run left the float range."""
    if not np.all(np.isfinite(thetas)):
        raise ValueError("the logits left the float range during training: the step eta times the update (set by "
                         "the rewards r and beta) is too large; lower eta, or rescale r or beta")
    return thetas


_KIND_CODES = {"k1": 1, "k2": 2, "k3": 3}
_PLACEMENT_CODES = {"reward": 0, "loss": 1, "straight_through": 2}


def simulate_pg(theta0, r, ref, beta, eta, steps, N, n_runs, *, baseline: str = "rloo", kl_kind: str = "k1",
                kl_placement: str = "reward", rng=None, return_logits: bool = False):
    r"""Stochastic REINFORCE training on a softmax bandit, ``n_runs`` independent runs in parallel.

    Each step draws ``N`` arms from :math:`\pi_\theta`, uses the leave-one-out (``"rloo"``, unbiased) or group-mean
    baseline, adds the sampled on-policy KL term of ``kl_kind``/``kl_placement`` (per-sample coefficient as in
    :func:`alignsim.estimators.expected_kl_gradient`) and updates
    :math:`\theta\leftarrow\theta+\frac{\eta}{N}\sum_i[(R_i-b_i)-\beta f(y_i)]\,s_{y_i}`. With ``steps=1`` and
    ``return_logits=True``, ``(theta_1 - theta_0)/eta`` is the sampled update, whose mean is the exact
    :math:`(1-\frac1N)^{[\text{group mean}]}Fr - \beta\,g_{\rm KL}`. Every run has its own stream.

    Parameters
    ----------
    theta0 : array_like, shape (K,)
        Initial logits.
    r : array_like, shape (K,)
        Rewards of the outcomes (finite).
    ref : array_like, shape (K,)
        Reference law, full support.
    beta : float
        KL coefficient, >= 0.
    eta : float
        Step size, > 0.
    steps : int
        Training steps, >= 1.
    N : int
        Samples per step, >= 2.
    n_runs : int
        Independent runs, >= 1.
    baseline : {"rloo", "group_mean"}
        Baseline of the REINFORCE estimate.
    kl_kind : {"k1", "k2", "k3"}
        KL estimator of the penalty.
    kl_placement : {"reward", "loss", "straight_through"}
        Where the penalty enters the surrogate.
    rng : None, int, SeedSequence or numpy.random.Generator
        Source of randomness (normalised by numpy.random.default_rng).
    return_logits : bool
        Return final logits instead of policies.

    Returns
    -------
    ndarray, shape (n_runs, K)
        Final policies (or logits with return_logits=True).

    References
    ----------
    .. [1] Williams (1992); Kool et al. (2019).

    Examples
    --------
    >>> from alignsim.mc import simulate_pg
    >>> simulate_pg([0.0, 0.0, 0.0], [1, 0.5, 0], [0.2, 0.3, 0.5], 0.25, 0.5, 20, 4, 8, rng=0).shape
    (8, 3)
    """
    return_logits = V.flag(return_logits, "return_logits")
    n = V.group_size(N, "N")
    th, rr, pr, b, e, n_steps, runs = _training_args(theta0, r, ref, beta, eta, steps, n_runs, n, "N")
    V.choice(baseline, "baseline", ("rloo", "group_mean"))
    V.choice(kl_kind, "kl_kind", tuple(_KIND_CODES))
    V.choice(kl_placement, "kl_placement", tuple(_PLACEMENT_CODES))
    thetas = _finite_runs(K.pg_train(np.tile(th, (runs, 1)), rr, pr, b, e, n_steps, n, baseline == "rloo",
                                     _KIND_CODES[kl_kind], _PLACEMENT_CODES[kl_placement], _spawn(rng, runs, 1)))
    if return_logits:
        return thetas
    z = np.exp(thetas - thetas.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def simulate_judge(model, k, T=0.0, *, n_test: int = 256, n_trials: int = 64, rng=None):
    r"""Brute-force simulation of the LLM-as-a-judge model at finite dimension, ``n_trials`` independent trials.

    Each trial draws a teacher :math:`w_T\sim\mathcal N(0,\tau^2I_d)`, ``n`` training inputs
    :math:`x=g/\sqrt d` (:math:`g\sim\mathcal N(0,S^2I_d)`) with labels :math:`w_T\cdot x+\eta`, the exact
    posterior (Cholesky of :math:`X^\top X+\lambda I`), the judge vector of the model's family
    (:math:`w_R=(1+\beta)w_T+\delta`, or :math:`y_R=y_T-c(m-y_T)` plus :math:`\delta\cdot x`), then ``n_test``
    fresh test inputs, ``k`` posterior-predictive samples each and one selection (the closest to :math:`y_R` when
    ``T = 0``, else a draw from the softmax). Trials run in parallel, each with its own stream.

    Parameters
    ----------
    model : alignsim.judge.JudgeModel
        Supplies ``d, n`` (integers), variances and the judge; ``("paper_cR", c)`` uses :math:`\beta=cR` with the
        deterministic-equivalent ``R``.
    k : int
        Samples per test input (>= 1).
    T : float, optional
        Temperature (>= 0).
    n_test, n_trials : int, optional
        Test inputs per trial and trials (>= 1 and >= 2).
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    dict of ndarray
        Per-trial means over test inputs: ``error`` (plus :math:`\sigma^2` for a noisy target), ``mu2``
        (:math:`\mu^2`) and ``s2`` (predictive variance); shape ``(n_trials,)`` each.

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905.

    Examples
    --------
    >>> from alignsim.judge import JudgeModel
    >>> from alignsim.mc import simulate_judge
    >>> out = simulate_judge(JudgeModel(10, 20, 0.5, 1.0), 4, n_test=32, n_trials=8, rng=0)
    >>> sorted(out), out["error"].shape
    (['error', 'mu2', 's2'], (8,))
    """
    if not isinstance(model, JudgeModel):
        raise TypeError(f"model must be an alignsim.judge.JudgeModel, got {type(model).__name__}")
    d = V.length(model.d, "model.d")
    n = V.length(model.n, "model.n")
    kk = V.length(k, "k")
    TT = V.real(T, "T", low=0.0)
    tests = V.length(n_test, "n_test")
    trials = V.group_size(n_trials, "n_trials")
    # each trial draws a teacher, n training points and n_test tests of k candidates
    V.mc_size(trials, "n_trials", draws_per_item=d * (n + 1) + tests * kk * 2, per="k, n_test and the model's d and n")
    family, param = model.judge[0], float(model.judge[1])
    if family == "paper_cR":
        family, param = "scale", param * model.deterministic_equivalent().R
    code = JK.MODEL_AWARE if family == "model_aware" else JK.SCALE
    res = JK.judge_trials(d, n, float(model.sigma2), float(model.sigma2) / float(model.prior_var), float(model.S2),
                          float(model.tau2), code, param, float(model.judge_noise), kk, TT, tests,
                          _spawn(rng, trials, 1))
    noise = float(model.sigma2) if model.target == "noisy" else 0.0
    return {"error": res[:, 0] + noise, "mu2": res[:, 1], "s2": res[:, 2]}


def sample_judge_point(k, T, mu, rho, s, size, *, rng=None, client=None):
    r"""Selected offsets :math:`U_{\rm sel}` at one test point of the judge model, ``size`` independent draws.

    Each draw samples ``k`` candidates :math:`U_i\sim\mathcal N(\mu,s^2)` and keeps the closest to :math:`\rho`
    (``T = 0``) or one drawn with probability :math:`\propto e^{-(U_i-\rho)^2/T}`; the mean of
    :math:`U_{\rm sel}^2` estimates :func:`alignsim.judge.point_error`.

    Parameters
    ----------
    k : int
        Candidates per draw (>= 1).
    T : float
        Temperature (>= 0).
    mu, rho : float
        Offsets of the predictive mean and of the judge target.
    s : float
        Predictive standard deviation (> 0).
    size : int
        Number of draws.
    rng : None, int, SeedSequence or Generator
    client : dask.distributed.Client, optional
        Run the kernel's blocks on this Dask cluster; each block's stream is spawned from the seed, so the result
        is bit-identical to one process for any number of workers.

    Returns
    -------
    ndarray, shape (size,)

    References
    ----------
    .. [1] I. Halder, C. Pehlevan, "Demystifying LLM-as-a-Judge", arXiv:2512.19905 (the per-point variables).

    Examples
    --------
    >>> from alignsim.mc import sample_judge_point
    >>> sample_judge_point(4, 0.0, 0.5, 0.0, 1.0, 5, rng=0).shape
    (5,)
    """
    kk = V.length(k, "k")
    TT = V.real(T, "T", low=0.0)
    m, r = V.real(mu, "mu"), V.real(rho, "rho")
    sd = V.real(s, "s", low=0.0, low_open=True)
    n = V.mc_size(size, draws_per_item=kk, per="k")
    block = _block(kk + 1)
    out = _run(JK.point_selections, kk, TT, m, r, sd, n, _spawn(rng, n, block), block, client=client)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"the samples mu + s Z left the float range (mu = {m!r}, s = {sd!r}); rescale mu, rho and s")
    return out
