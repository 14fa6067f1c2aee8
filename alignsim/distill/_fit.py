r"""Students that cannot represent their teacher: the best member of a family under each divergence."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from .. import _validate as V
from ..markov import MarkovLM
from ._divergence import KINDS, divergence

FAMILIES = ("temperature", "gaussian", "memoryless")


@dataclass(frozen=True)
class Fit:
    r"""The best student of a family, from :func:`fit`.

    Attributes
    ----------
    student : ndarray or MarkovLM
        The fitted student: a next-token law (``temperature``, ``gaussian``) or a memoryless
        :class:`alignsim.markov.MarkovLM` (``memoryless``).
    parameters : dict
        The family's parameters at the optimum (``tau``; ``mean`` and ``scale``; ``p``).
    divergence : float
        The divergence the student reaches (the minimum over the family), :math:`\min_{S\in\mathcal F}D(S,T)`.

    References
    ----------
    .. [1] T. Minka, MSR-TR-2005-173 (mode seeking and covering).

    Examples
    --------
    >>> from alignsim import distill
    >>> res = distill.fit([0.1, 0.2, 0.4, 0.2, 0.1], "gaussian", "forward_kl")
    >>> round(res.parameters["mean"], 6)
    2.0
    """

    student: object
    parameters: dict = field(default_factory=dict)
    divergence: float = math.nan


def gaussian_law(v: int, mean: float, scale: float) -> np.ndarray:
    r"""The discretised Gaussian on the tokens :math:`0,\dots,v-1`:
    :math:`S_i\propto e^{-(i-\mu)^2/(2\sigma^2)}` (log space).

    Parameters
    ----------
    v : int
        Number of tokens, at least 1.
    mean : float
        :math:`\mu` (any real; the law is that of the nearest tokens when it lies outside ``0 .. v-1``).
    scale : float
        :math:`\sigma > 0`.

    Returns
    -------
    ndarray, shape (v,)

    References
    ----------
    .. [1] The unimodal student family of the mode-seeking/mode-covering picture (Minka, MSR-TR-2005-173).

    Examples
    --------
    >>> from alignsim import distill
    >>> distill.gaussian_law(3, 1.0, 1.0).round(4).tolist()
    [0.2741, 0.4519, 0.2741]
    """
    v = V.length(v, "v", high=10 ** 7, why="one probability per token")
    mean = V.real(mean, "mean")
    scale = V.real(scale, "scale", low=0.0, low_open=True)
    i = np.arange(v)
    with np.errstate(over="ignore"):  # a tiny scale: -inf log-weights away from the nearest token
        logw = -0.5 * ((i - mean) / scale) ** 2
    w = np.exp(logw - logw.max())
    return w / w.sum()


def _temperature(t, kind, params, logits):
    base = V.real_array(logits, "logits")
    if base.shape != t.shape:
        raise ValueError(f"logits must have one entry per token ({t.size}), got shape {base.shape}")

    def law(log_tau):
        z = base / math.exp(log_tau)
        w = np.exp(z - z.max())
        return w / w.sum()

    # the divergence is smooth and unimodal in practice; bracket log tau in [-7, 7] (tau from 1e-3 to 1e3)
    res = minimize_scalar(lambda x: divergence(law(x), t, kind, **params), bounds=(-7.0, 7.0), method="bounded",
                          options={"xatol": 1e-10})
    return Fit(law(res.x), {"tau": math.exp(res.x)}, float(res.fun))


def _gaussian(t, kind, params):
    v = t.size
    # Natural parameters on centred, scaled tokens j = (i - c)/s: log S = a j - x^2 j^2 + const. The family's
    # closure is then reached at finite values: as the scale grows with the mean beyond the tokens the law tends to
    # a log-linear tilt (x = 0), the infimum for a near-uniform teacher, which (mean, log scale) approach only by
    # running off to infinity (Nelder-Mead then used all its 4000 iterations a start, 4 s a fit at V = 3).
    c, s = 0.5 * (v - 1), max(0.5 * (v - 1), 1.0)
    j = (np.arange(v) - c) / s

    def law(z):
        logw = z[0] * j - z[1] * z[1] * j * j
        w = np.exp(logw - logw.max())
        return w / w.sum()

    def objective(z):
        return divergence(law(z), t, kind, **params)

    def natural(mean, sd):
        x = s / (math.sqrt(2.0) * sd)
        return (2.0 * x * x * (mean - c) / s, x)

    # mode-seeking divergences have one local optimum per mode and a covering one besides: start from a grid of
    # means and scales and polish the eight best starts (Nelder-Mead: the top-k and TV kinds are not smooth).
    # Polishing only the best start missed GKD's one-mode optimum at beta = 0.9 (the covering start was lower).
    scales = np.geomspace(0.5, max(v / 2, 1.0), 8)
    starts = sorted((natural(m, sd) for m in np.linspace(0, v - 1, min(v, 25)) for sd in scales), key=objective)
    z, value = np.array(starts[0]), objective(starts[0])
    for start in starts[:8]:
        res = minimize(objective, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14,
                                                                         "maxiter": 4000})
        if res.fun < value:
            z, value = res.x, float(res.fun)
    curvature = -(z[1] / s) ** 2  # theta_2 of log S = theta_1 i + theta_2 i^2 + const, in token units
    slope = z[0] / s - 2.0 * curvature * c
    mean, scale = (-slope / (2.0 * curvature), math.sqrt(-0.5 / curvature)) if curvature < 0 else (
        math.copysign(math.inf, slope), math.inf)
    return Fit(law(z), {"mean": float(mean), "scale": float(scale), "slope": float(slope),
                        "curvature": float(curvature)},
               float(objective(z)))


def token_occupancy(lm: MarkovLM) -> np.ndarray:
    r"""Expected number of times each token is emitted by a Markov LM, :math:`N_a=\sum_t P(y_t = a)` (an ended
    sequence emits nothing more); it sums to the mean length.

    Parameters
    ----------
    lm : MarkovLM

    Returns
    -------
    ndarray, shape (V,)

    References
    ----------
    The forward recursion of :class:`alignsim.markov.MarkovLM` (its live token law at each step, summed).

    Examples
    --------
    >>> from alignsim import distill
    >>> from alignsim.markov import MarkovLM
    >>> distill.token_occupancy(MarkovLM([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [0.0, 1.0], 2)).tolist()
    [1.05, 0.95]
    """
    if not isinstance(lm, MarkovLM):
        raise TypeError(f"lm must be a MarkovLM, got {type(lm).__name__}")
    x = lm.initial.copy()
    counts = x.copy()
    for step in range(1, lm.length):
        if lm.eos is not None:
            x[lm.eos] = 0.0
        x = x @ (lm.transition if lm.transition.ndim == 2 else lm.transition[step - 1])
        counts += x
    return counts


def _memoryless(teacher: MarkovLM, kind):
    if kind not in ("forward_kl", "reverse_kl"):
        raise ValueError(f"the memoryless family is fitted under the sequence-level forward_kl or reverse_kl, got "
                         f"kind={kind!r}")
    v = teacher.initial.size

    def student(p):
        return MarkovLM(p, np.tile(p, (v, 1)), teacher.rewards, teacher.length, eos=teacher.eos)

    if kind == "forward_kl":
        # KL(T || S) = const - sum_a N_a log p_a with N the teacher's expected token counts: p = N / sum N
        occ = token_occupancy(teacher)
        p = occ / occ.sum()
        return Fit(student(p), {"p": p}, teacher.kl(student(p)))

    def objective(z):
        w = np.exp(z - z.max())
        return student(w / w.sum()).kl(teacher)

    occ = token_occupancy(teacher)
    start = np.log(np.maximum(occ / occ.sum(), 1e-12))
    res = minimize(objective, start, method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
    w = np.exp(res.x - res.x.max())
    p = w / w.sum()
    return Fit(student(p), {"p": p}, float(student(p).kl(teacher)))


def fit(teacher, family: str, kind: str = "reverse_kl", *, logits=None, **params) -> Fit:
    r"""The best student of a restricted family for a distillation divergence:
    :math:`\min_{S\in\mathcal F} D(S, T)`.

    Families:

    * ``"temperature"``: :math:`S=\mathrm{softmax}(z/\tau)` for given ``logits`` :math:`z` (the student can only
      sharpen or flatten), :math:`\tau\in[10^{-3},10^3]`;
    * ``"gaussian"``: the discretised Gaussian on ordered tokens :func:`gaussian_law` with a mean and a scale (the
      classic picture: on a bimodal teacher reverse KL seeks one mode, forward KL covers both, JSD and skew KLs in
      between); a grid of starts, then Nelder-Mead in the natural parameters
      :math:`\log S_i=\theta_1 i+\theta_2 i^2+c`, :math:`\theta_2\le0`, so the global optimum among the modes is
      found, also where it is the family's limit :math:`\theta_2=0` (a log-linear tilt, reached as mean and scale
      run off to infinity; ``parameters`` holds ``mean``, ``scale`` (``inf`` there), ``slope`` :math:`\theta_1`
      and ``curvature`` :math:`\theta_2`);
    * ``"memoryless"``: a memoryless student (identical rows, the teacher's length and end token) of a
      :class:`alignsim.markov.MarkovLM` teacher under the sequence-level ``forward_kl`` (closed form: the teacher's
      token occupancy, normalised) or ``reverse_kl`` (L-BFGS over the logits of the token law).

    Parameters
    ----------
    teacher : array_like, shape (V,), or MarkovLM
        The teacher's next-token law (``temperature``, ``gaussian``) or a Markov LM (``memoryless``).
    family : {"temperature", "gaussian", "memoryless"}
    kind : str
        A kind of :func:`divergence` (``temperature``, ``gaussian``), or ``forward_kl``/``reverse_kl``
        (``memoryless``, at the sequence level).
    logits : array_like, shape (V,), optional
        The student's base logits (``temperature`` only).
    **params
        The parameters of ``kind`` (``beta``, ``alpha``, ``k`` ...).

    Returns
    -------
    Fit

    References
    ----------
    .. [1] T. Minka, "Divergence measures and message passing", MSR-TR-2005-173 (mode seeking and covering).
    .. [2] Y. Gu et al., "MiniLLM: knowledge distillation of large language models", ICLR 2024 (reverse KL).

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim import distill
    >>> i = np.arange(30)
    >>> t = np.exp(-0.5 * ((i - 7) / 2) ** 2) + np.exp(-0.5 * ((i - 22) / 2) ** 2); t /= t.sum()
    >>> cover = distill.fit(t, "gaussian", "forward_kl").parameters["mean"]
    >>> seek = distill.fit(t, "gaussian", "reverse_kl").parameters["mean"]
    >>> round(cover, 1), round(abs(seek - 14.5), 1)   # between the modes; on one of them (7 or 22)
    (14.5, 7.5)
    """
    V.choice(family, "family", FAMILIES)
    V.choice(kind, "kind", tuple(KINDS))
    unknown = sorted(set(params) - set(KINDS[kind]))
    if unknown:
        raise TypeError(f"kind={kind!r} takes {list(KINDS[kind]) or 'no parameters'}, got {unknown}")
    if family == "memoryless":
        if not isinstance(teacher, MarkovLM):
            raise TypeError(f"teacher must be a MarkovLM for the memoryless family, got {type(teacher).__name__}")
        if logits is not None or params:
            raise TypeError("the memoryless family takes no logits or divergence parameters")
        return _memoryless(teacher, kind)
    t = V.probabilities(teacher, "teacher")
    if family == "temperature":
        if logits is None:
            raise TypeError("the temperature family needs logits, the student's base logits")
        return _temperature(t, kind, params, logits)
    if logits is not None:
        raise TypeError("logits are used by the temperature family only")
    return _gaussian(t, kind, params)
