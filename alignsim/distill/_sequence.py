r"""Distillation divergences between whole sequences of memoryless and Markov language models."""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as V
from .._lattice import checked_compositions
from ..markov import MarkovLM
from ..models import MemorylessLM
from ._divergence import divergence

#: Kinds that follow the chain rule (computed exactly for any length) and kinds that do not (computed over groups
#: of sequences with one likelihood ratio, or over every complete sequence).
CHAIN_RULE = ("forward_kl", "reverse_kl")
ENUMERATED = ("tv", "js", "gkd_jsd", "skew_forward", "skew_reverse")
#: Most groups of sequences, or complete sequences, the kinds that do not follow the chain rule may visit.
MAX_SEQUENCES = 200_000


def _as_markov(lm, name):
    if isinstance(lm, MarkovLM):
        return lm
    if isinstance(lm, MemorylessLM):
        return MarkovLM.from_memoryless(lm.p, lm.r, lm.length)
    raise TypeError(f"{name} must be a MarkovLM or a MemorylessLM, got {type(lm).__name__}")


def _sequence_laws(a: MarkovLM, b: MarkovLM):
    """Probabilities of every complete sequence under both models (the same order), expanded prefix by prefix."""
    v = a.initial.size
    live_a, live_b = a.initial.copy(), b.initial.copy()
    last = np.arange(v)
    done_a, done_b = [], []
    for step in range(1, a.length + 1):
        ends = (last == a.eos) if a.eos is not None else np.zeros(last.size, bool)
        if step == a.length:
            ends[:] = True
        done_a.append(live_a[ends])
        done_b.append(live_b[ends])
        keep = ~ends
        live_a, live_b, last = live_a[keep], live_b[keep], last[keep]
        if last.size == 0:
            break
        if sum(x.size for x in done_a) + last.size * v > MAX_SEQUENCES:
            raise ValueError(f"the models have more than {MAX_SEQUENCES} groups of sequences with equal counts of "
                             f"each likelihood ratio, and more than {MAX_SEQUENCES} complete sequences: the "
                             f"sequence-level kinds {list(ENUMERATED)} are computed exactly over one or the other; use "
                             f"a shorter length or fewer tokens, or a chain-rule kind {list(CHAIN_RULE)}")
        ta = a.transition if a.transition.ndim == 2 else a.transition[step - 1]
        tb = b.transition if b.transition.ndim == 2 else b.transition[step - 1]
        live_a = (live_a[:, None] * ta[last]).ravel()
        live_b = (live_b[:, None] * tb[last]).ravel()
        last = np.tile(np.arange(v), last.size)
    return np.concatenate(done_a), np.concatenate(done_b)


def _type_laws(a: MemorylessLM, b: MemorylessLM):
    """The two sequence laws grouped by token counts (multinomial types): the mass of each type under both models.

    Every f-divergence is unchanged when atoms with the same likelihood ratio are merged, and two memoryless LMs
    give every sequence of one type the same ratio, so the grouped laws have the divergence of the sequence laws:
    C(n + V - 1, V - 1) types instead of V^n sequences."""
    from scipy.special import gammaln

    n, v = a.length, a.p.size
    counts = checked_compositions(n, v, "length").astype(float)
    log_mult = gammaln(n + 1.0) - gammaln(counts + 1.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms_a = np.where(counts > 0, counts * np.log(a.p), 0.0).sum(axis=1)
        terms_b = np.where(counts > 0, counts * np.log(b.p), 0.0).sum(axis=1)
    return np.exp(log_mult + terms_a), np.exp(log_mult + terms_b)


def _ratio_type_laws(a: MarkovLM, b: MarkovLM):
    """The two sequence laws of Markov LMs grouped by how often each distinct likelihood ratio occurs.

    A sequence's ratio :math:`a(y)/b(y)` is the product of its initial and transition ratios, so it is fixed by the
    number of times each distinct ratio value (exact float equality of the log-ratio; 0 and inf are values too)
    occurs along it. A forward pass over (current token, those counts) carries each group's mass under both models:
    polynomial in the length (at most :math:`\binom{n+r-1}{r-1}` groups for :math:`r` distinct values) where the
    sequences are exponential. Returns ``None`` when the counts cannot be keyed in an int64 or the groups exceed
    :data:`MAX_SEQUENCES` (then every sequence is enumerated, within the same cap)."""
    v, n = a.initial.size, a.length
    mats_a = [a.initial] + [a.transition if a.transition.ndim == 2 else a.transition[t] for t in range(n - 1)]
    mats_b = [b.initial] + [b.transition if b.transition.ndim == 2 else b.transition[t] for t in range(n - 1)]
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = [np.log(x) - np.log(y) for x, y in zip(mats_a, mats_b)]
    per_step = [np.unique(x[~np.isnan(x) & (x != 0)]) for x in logs]
    values = np.unique(np.concatenate(per_step))
    # a sequence meets each value at most once a step: the count of a value is below 1 + the steps that hold it
    radices = 1 + sum(np.isin(values, u).astype(np.int64) for u in per_step)
    if math.prod(int(r) for r in radices) >= 2 ** 62:
        return None
    strides = np.concatenate([[1], np.cumprod(radices)[:-1]]).astype(np.int64)

    def stride(logr):  # the key increment of each entry: 0 where the ratio is 1 or the entry is impossible
        out = np.zeros(logr.shape, dtype=np.int64)
        live = ~np.isnan(logr) & (logr != 0)
        out[live] = strides[np.searchsorted(values, logr[live])]
        return out

    def merge(keys, ma, mb):
        uniq, inv = np.unique(keys, return_inverse=True)
        return uniq, np.bincount(inv, weights=ma, minlength=uniq.size), np.bincount(inv, weights=mb, minlength=uniq.size)

    first = stride(logs[0])
    live = [(np.array([first[x]]), np.array([a.initial[x]]), np.array([b.initial[x]]))
            if a.initial[x] > 0 or b.initial[x] > 0 else None for x in range(v)]
    ended = []
    for t in range(1, n + 1):
        for x in range(v):
            if live[x] is not None and (t == n or x == a.eos):
                ended.append(live[x])
                live[x] = None
        if t == n:
            break
        step, ta, tb = stride(logs[t]), mats_a[t], mats_b[t]
        new = [[] for _ in range(v)]
        for x in range(v):
            if live[x] is None:
                continue
            keys, ma, mb = live[x]
            for y in range(v):
                if ta[x, y] > 0 or tb[x, y] > 0:
                    new[y].append((keys + step[x, y], ma * ta[x, y], mb * tb[x, y]))
        live = [merge(*(np.concatenate(z) for z in zip(*parts))) if parts else None for parts in new]
        if sum(k[0].size for k in live if k is not None) + sum(e[0].size for e in ended) > MAX_SEQUENCES:
            return None
    _, ma, mb = merge(*(np.concatenate(z) for z in zip(*ended)))
    return ma, mb


def sequence_divergence(student, teacher, kind: str, **params) -> float:
    r"""A distillation divergence between the laws of whole sequences of two language models.

    ``forward_kl`` :math:`\mathrm{KL}(T\|S)` and ``reverse_kl`` :math:`\mathrm{KL}(S\|T)` follow the chain rule
    (:meth:`alignsim.markov.MarkovLM.kl`: the expected next-token KL under the first model's occupancy), exact for
    any length. The other kinds do not decompose over tokens (TV, JS, GKD's JSD, the skew KLs: the mixture of two
    sequence laws is not a product of next-token mixtures). They are all f-divergences, which do not change when
    sequences with the same likelihood ratio are merged: for two memoryless LMs they are computed exactly over the
    :math:`\binom{n+V-1}{V-1}` token-count types (V = 3, n = 1000: 5e5 types for :math:`3^{1000}` sequences);
    for Markov LMs over the groups of sequences that share the counts of each distinct initial and transition
    likelihood ratio (a forward pass over (token, counts): two tokens and length 200 in a second, for
    :math:`2^{200}` sequences), or, when those groups are too many, over every complete sequence; each up to
    :data:`MAX_SEQUENCES` groups or sequences. Beyond: a clear error, not an approximation. Masses are carried in
    linear space: a group whose mass underflows (below 1e-308) moves the bounded kinds by less than that.

    Parameters
    ----------
    student, teacher : MarkovLM or MemorylessLM
        The same vocabulary, length and end token (a memoryless LM is a chain with identical rows and no end token).
    kind : str
        ``forward_kl``, ``reverse_kl``, or one of ``tv``, ``js``, ``gkd_jsd``, ``skew_forward``, ``skew_reverse``.
    **params
        The parameters of ``kind``, as in :func:`divergence`.

    Returns
    -------
    float
        ``inf`` where a KL's first law charges a sequence the second does not.

    References
    ----------
    .. [1] T. M. Cover, J. A. Thomas, *Elements of Information Theory*, 2nd ed., Wiley, 2006, Theorem 2.5.3 (chain
       rule); R. Agarwal et al., arXiv:2306.13649 (sequence-level GKD).

    Examples
    --------
    >>> import alignsim as a
    >>> from alignsim import distill
    >>> s, t = a.MemorylessLM([0.6, 0.4], [0, 1], 3), a.MemorylessLM([0.3, 0.7], [0, 1], 3)
    >>> per_token = distill.divergence([0.6, 0.4], [0.3, 0.7], "reverse_kl")
    >>> round(distill.sequence_divergence(s, t, "reverse_kl") - 3 * per_token, 12)   # n KL for i.i.d. tokens
    0.0
    """
    a, b = _as_markov(student, "student"), _as_markov(teacher, "teacher")
    if (a.initial.size, a.length, a.eos) != (b.initial.size, b.length, b.eos):
        raise ValueError("student and teacher must have the same vocabulary size, length and end token, got "
                         f"{(a.initial.size, a.length, a.eos)} and {(b.initial.size, b.length, b.eos)}")
    V.choice(kind, "kind", CHAIN_RULE + ENUMERATED)
    if kind in CHAIN_RULE:
        if params:
            raise TypeError(f"kind={kind!r} takes no parameters, got {sorted(params)}")
        return float(b.kl(a) if kind == "forward_kl" else a.kl(b))
    if isinstance(student, MemorylessLM) and isinstance(teacher, MemorylessLM):
        ps, pt = _type_laws(student, teacher)
    else:
        grouped = _ratio_type_laws(a, b)
        ps, pt = grouped if grouped is not None else _sequence_laws(a, b)
    return divergence(ps / ps.sum(), pt / pt.sum(), kind, **params)
