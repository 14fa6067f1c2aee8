r"""Divergences between a student's and a teacher's next-token laws, as distillation losses compute them."""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as V
from ..divergences import f_divergence
from ..divergences import kl as _kl

#: The kinds of :func:`divergence` and the parameters each takes.
KINDS = {
    "forward_kl": (), "reverse_kl": (), "tv": (), "js": (),
    "gkd_jsd": ("beta", "normalised"),
    "skew_forward": ("alpha",), "skew_reverse": ("alpha",),
    "topk_forward": ("k", "over", "tail", "raw"), "topk_reverse": ("k", "over", "tail", "raw"),
    "wasserstein": ("cost",), "sinkhorn": ("cost", "reg"),
}

#: verl clamps top-k log-probabilities below at log(1e-8) (``clamp_log_probs``) before its KL.
VERL_TOPK_FLOOR = 1e-8


def _laws(student, teacher):
    s = V.probabilities(student, "student")
    t = V.probabilities(teacher, "teacher")
    if s.size != t.size:
        raise ValueError(f"student and teacher must be laws over the same vocabulary, got {s.size} and {t.size} "
                         "tokens")
    return s, t


def _mixture_kl(p, s, t, w):
    """KL(p || w t + (1 - w) s) for w in [0, 1] (the mixture in probability space: a sum of non-negative terms)."""
    return float(_kl(p, w * t + (1.0 - w) * s))


def gkd_jsd(s, t, beta: float, normalised: bool = False) -> float:
    r"""The generalised JSD of TRL's GKD trainer, on checked laws (see :func:`divergence`)."""
    if beta == 0.0:
        return float(_kl(t, s))
    if beta == 1.0:
        return float(_kl(s, t))
    value = beta * _mixture_kl(t, s, t, beta) + (1.0 - beta) * _mixture_kl(s, s, t, beta)
    return value / (beta * (1.0 - beta)) if normalised else value


def _top(p, k):
    """Indices of the ``k`` largest entries of ``p`` (ties: the lower index first, a stable sort)."""
    return np.argsort(-p, kind="stable")[:k]


def topk_kl(s, t, direction: str, k: int, over: str, tail: bool, raw: bool) -> float:
    """Truncated KL over a top-k token set (see :func:`divergence`)."""
    first, second = (t, s) if direction == "forward" else (s, t)  # KL(first || second)
    if over == "teacher":
        keep = _top(t, k)
    elif over == "student":
        keep = _top(s, k)
    else:
        keep = np.union1d(_top(t, k), _top(s, k))
    if raw:
        # verl (losses.py, kullback_leibler_divergence + compute_distillation_loss_topk): sub-probabilities on the
        # union, each floored at 1e-8, summed p (log p - log q), then floored at 0 (the sums are not laws)
        a = np.maximum(first[keep], VERL_TOPK_FLOOR)
        b = np.maximum(second[keep], VERL_TOPK_FLOOR)
        return max(float(np.sum(a * (np.log(a) - np.log(b)))), 0.0)
    if tail:
        rest = np.ones(first.size, bool)
        rest[keep] = False
        a = np.append(first[keep], first[rest].sum())
        b = np.append(second[keep], second[rest].sum())
        return float(_kl(a, b))
    za, zb = first[keep].sum(), second[keep].sum()
    if za == 0.0:
        raise ValueError("the top-k tokens carry no mass of the first law: the renormalised KL is undefined")
    if zb == 0.0:
        return math.inf
    return float(_kl(first[keep] / za, second[keep] / zb))


def _cost(cost, v):
    if cost is None:
        return 1.0 - np.eye(v)
    c = V.real_array(cost, "cost", low=0.0)
    if c.shape != (v, v):
        raise ValueError(f"cost must be a (V, V) = ({v}, {v}) matrix of non-negative transport costs, got shape "
                         f"{c.shape}")
    return np.ascontiguousarray(c)


def transport(s, t, cost, reg=None) -> float:
    """Optimal-transport cost between the laws with POT: exact (``ot.emd2``) or entropic (``ot.sinkhorn2``)."""
    import ot  # POT: imported on first use (it pulls in its backends)

    c = _cost(cost, s.size)
    if reg is None:
        return max(float(ot.emd2(s, t, c)), 0.0)
    r = V.real(reg, "reg", low=0.0, low_open=True)
    return float(ot.sinkhorn2(s, t, c, r, method="sinkhorn_log", numItermax=100_000, stopThr=1e-13))


def divergence(student, teacher, kind: str, **params) -> float:
    r"""A distillation divergence between the student's and the teacher's next-token laws.

    The convention of the package: the first argument is the student :math:`S` (the policy being trained), the
    second the teacher :math:`T`.

    =================  ==============================================================================================
    ``kind``           value
    =================  ==============================================================================================
    ``forward_kl``     :math:`\mathrm{KL}(T\|S)` (supervised KD, SFT on teacher samples)
    ``reverse_kl``     :math:`\mathrm{KL}(S\|T)` (on-policy KD: MiniLLM, KDRL)
    ``tv``             :math:`\frac12\sum|S-T|`
    ``js``             :math:`\frac12\mathrm{KL}(S\|M)+\frac12\mathrm{KL}(T\|M)`, :math:`M=\frac{S+T}2`
    ``gkd_jsd``        TRL's generalised JSD, ``beta`` in [0, 1]: :math:`\beta\,\mathrm{KL}(T\|M)+(1-\beta)\,
                       \mathrm{KL}(S\|M)`, :math:`M=\beta T+(1-\beta)S`; **at** ``beta = 0`` TRL returns
                       :math:`\mathrm{KL}(T\|S)` and at ``beta = 1`` :math:`\mathrm{KL}(S\|T)`, although the formula
                       tends to 0 at both ends (a jump). ``normalised=True`` divides by :math:`\beta(1-\beta)`,
                       which tends continuously to those end values.
    ``skew_forward``   :math:`\mathrm{KL}(T\|\alpha T+(1-\alpha)S)` (DistiLLM), ``alpha`` in [0, 1)
    ``skew_reverse``   :math:`\mathrm{KL}(S\|\alpha S+(1-\alpha)T)`, ``alpha`` in [0, 1)
    ``topk_forward``   :math:`\mathrm{KL}(T\|S)` over the top-``k`` tokens of the teacher (``over="teacher"``),
                       of the student or of both (``"union"``): renormalised on them (default), with the rest of
                       each law in one tail bucket (``tail=True``), or as verl computes it (``raw=True``)
    ``topk_reverse``   the same for :math:`\mathrm{KL}(S\|T)`
    ``wasserstein``    optimal transport cost with a (V, V) ``cost`` (default 0-1: then it equals ``tv``), POT's
                       exact ``ot.emd2``
    ``sinkhorn``       entropic OT (SinKD): the transport cost :math:`\langle P_{\rm reg},C\rangle` of POT's
                       ``ot.sinkhorn2`` (log-domain), ``reg > 0``
    =================  ==============================================================================================

    Parameters
    ----------
    student, teacher : array_like, shape (V,)
        Next-token laws over the same vocabulary.
    kind : str
        One of the kinds above.
    **params
        The keyword parameters of ``kind`` (:data:`KINDS` lists them per kind; any other is a TypeError):
    beta : float
        ``gkd_jsd``: the teacher's weight in the mixture, in [0, 1] (TRL's ``GKDConfig.beta``).
    normalised : bool
        ``gkd_jsd``: divide by :math:`\beta(1-\beta)` (default False, as TRL).
    alpha : float
        ``skew_*``: the skew, in [0, 1).
    k : int
        ``topk_*``: the number of tokens, 1 <= k <= V.
    over : {"teacher", "student", "union"}
        ``topk_*``: whose top-k tokens (default "teacher"; "union" is verl's, which gathers both).
    tail : bool
        ``topk_*``: keep the remaining mass of each law as one extra token instead of renormalising.
    raw : bool
        ``topk_*``: verl's computation: the KL sum over the token set of the *unnormalised* sub-probabilities,
        each floored at 1e-8, the result floored at 0 (it is not a divergence of laws).
    cost : array_like, shape (V, V), optional
        ``wasserstein``/``sinkhorn``: non-negative transport costs (default: 0 on the diagonal, 1 elsewhere).
    reg : float
        ``sinkhorn``: the entropic regularisation, > 0.

    Returns
    -------
    float
        ``inf`` where the divergence is infinite (a KL whose first law charges a zero of the second).

    Notes
    -----
    TRL: ``GKDTrainer.generalized_jsd_loss`` in ``trl/trainer/gkd_trainer.py`` at commit ``a9fa292c``
    (``F.kl_div(input, target, log_target=True)`` is :math:`\mathrm{KL}(\text{target}\|\text{input})`, so the
    ``beta == 0`` branch is forward and the ``beta == 1`` branch reverse KL). verl: ``jsd_topk``,
    ``forward_kl_topk``, ``reverse_kl_topk`` in ``verl/trainer/distillation/losses.py`` with the student and
    teacher top-k indices merged (duplicates dropped) in ``verl/trainer/distillation/fsdp/utils.py``, commit
    ``3baac345``. Ties among top-k tokens are broken towards the lower index here (torch.topk leaves them
    unspecified).

    References
    ----------
    .. [1] R. Agarwal et al., "On-policy distillation of language models: learning from self-generated mistakes"
       (GKD), ICLR 2024, arXiv:2306.13649, eq. (1).
    .. [2] J. Ko et al., "DistiLLM: towards streamlined distillation for large language models", ICML 2024,
       arXiv:2402.03898 (skew KL).
    .. [3] H. Cui et al., "SinKD: Sinkhorn distance minimization for knowledge distillation", arXiv:2402.17110.
    .. [4] R. Flamary et al., "POT: Python Optimal Transport", JMLR 22 (2021).

    Examples
    --------
    >>> from alignsim import distill
    >>> s, t = [0.7, 0.2, 0.1], [0.2, 0.5, 0.3]
    >>> round(distill.divergence(s, t, "gkd_jsd", beta=0.0), 6) == round(distill.divergence(s, t, "forward_kl"), 6)
    True
    >>> round(distill.divergence(s, t, "gkd_jsd", beta=1e-9), 6)   # the formula itself tends to 0
    0.0
    >>> round(distill.divergence(s, t, "wasserstein"), 12)          # 0-1 cost: total variation
    0.5
    """
    s, t = _laws(student, teacher)
    V.choice(kind, "kind", tuple(KINDS))
    unknown = sorted(set(params) - set(KINDS[kind]))
    if unknown:
        raise TypeError(f"kind={kind!r} takes {list(KINDS[kind]) or 'no parameters'}, got {unknown}")
    if kind == "forward_kl":
        return float(_kl(t, s))
    if kind == "reverse_kl":
        return float(_kl(s, t))
    if kind == "tv":
        return 0.5 * float(np.sum(np.abs(s - t)))
    if kind == "js":
        return float(f_divergence(s, t, "js"))
    if kind == "gkd_jsd":
        beta = V.real(params.get("beta", 0.5), "beta", low=0.0, high=1.0)
        return gkd_jsd(s, t, beta, V.flag(params.get("normalised", False), "normalised"))
    if kind in ("skew_forward", "skew_reverse"):
        alpha = V.real(params.get("alpha", 0.1), "alpha", low=0.0, high=1.0, high_open=True)
        return _mixture_kl(t, s, t, alpha) if kind == "skew_forward" else _mixture_kl(s, t, s, alpha)
    if kind.startswith("topk"):
        if "k" not in params:
            raise TypeError(f"kind={kind!r} needs k, the number of top tokens (1 <= k <= {s.size})")
        k = V.length(params["k"], "k", high=s.size, why="k counts tokens of the vocabulary")
        over = V.choice(params.get("over", "teacher"), "over", ("teacher", "student", "union"))
        tail = V.flag(params.get("tail", False), "tail")
        raw = V.flag(params.get("raw", False), "raw")
        if tail and raw:
            raise ValueError("tail and raw are two different top-k losses: give at most one")
        return topk_kl(s, t, kind.split("_")[1], k, over, tail, raw)
    if kind == "wasserstein":
        return transport(s, t, params.get("cost"))
    if "reg" not in params:
        raise TypeError("kind='sinkhorn' needs reg, the entropic regularisation (> 0)")
    return transport(s, t, params.get("cost"), params["reg"])
