r"""Exact expected gradients of distillation losses as trained, with respect to the student's logits."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import _validate as V
from ..estimators import expected_kl_gradient, sample_gradient_coefficient
from ._divergence import KINDS, VERL_TOPK_FLOOR, _cost, _top, divergence

#: Sampled on-policy losses: name -> (KL estimator, placement) of :func:`alignsim.estimators.expected_kl_gradient`,
#: with the teacher in the role of the reference (the log-ratio log S(y) - log T(y) of a sampled token y ~ S).
#: ``k1_reward`` is slime's on-policy distillation (``--opd-kl-coef``: the advantage minus the coefficient times
#: that log-ratio, docs/en/advanced/on-policy-distillation.md @ 12487ceb) and verl's ``kl``/``k1`` estimator losses
#: placed in the reward; verl's estimator losses in the loss (verl/trainer/distillation/losses.py @ 3baac345,
#: ``compute_distillation_loss_reverse_kl_estimator``) are the ``*_loss`` rows.
SAMPLED = {"k1_reward": ("k1", "reward"), "k2_reward": ("k2", "reward"), "k3_reward": ("k3", "reward"),
           "k1_loss": ("k1", "loss"), "k2_loss": ("k2", "loss"), "k3_loss": ("k3", "loss")}

#: Full-vocabulary losses with an analytic gradient: every kind of :func:`divergence`.
FULL = tuple(KINDS)


def _student(student_logits):
    theta = V.real_array(student_logits, "student_logits")
    if theta.ndim != 1 or theta.size < 2:
        raise ValueError(f"student_logits must be a 1-D array of at least 2 logits, got shape {theta.shape}")
    z = theta - theta.max()
    log_s = z - math.log(np.sum(np.exp(z)))
    return theta, np.exp(log_s)


def _student_and_teacher(student_logits, teacher):
    """Checked ``(logits, student law, teacher law)`` over one vocabulary."""
    theta, s = _student(student_logits)
    t = V.probabilities(teacher, "teacher")
    if t.size != s.size:
        raise ValueError(f"student_logits and teacher must cover the same vocabulary, got {s.size} and {t.size} "
                         "tokens")
    return theta, s, t


def _d_kl_mixture(first_is_student: bool, s, t, w_student: float):
    r""":math:`\partial/\partial S` of :math:`\mathrm{KL}(P\|M)`, :math:`M = w S + (1-w) T`, :math:`P` = S or T."""
    m = w_student * s + (1.0 - w_student) * t
    with np.errstate(divide="ignore", invalid="ignore"):
        if first_is_student:
            return np.log(s / m) + 1.0 - w_student * s / m
        return np.where(t > 0, -t * w_student / m, 0.0)


def _d_topk(s, t, direction, k, over, tail, raw):
    """:math:`\\partial/\\partial S` of a top-k KL, with the token set held fixed (it is locally constant)."""
    keep = _top(t, k) if over == "teacher" else _top(s, k) if over == "student" else np.union1d(_top(t, k), _top(s, k))
    g = np.zeros(s.size)
    forward = direction == "forward"
    if raw:
        if divergence(s, t, f"topk_{direction}", k=k, over=over, raw=True) == 0.0:
            return g  # verl floors the loss at 0: no gradient there
        a_s, a_t = np.maximum(s[keep], VERL_TOPK_FLOOR), np.maximum(t[keep], VERL_TOPK_FLOOR)
        live = s[keep] > VERL_TOPK_FLOOR  # below the floor the student's value is a constant
        g[keep] = np.where(live, -a_t / a_s if forward else np.log(a_s / a_t) + 1.0, 0.0)
        return g
    if tail:
        rest = np.ones(s.size, bool)
        rest[keep] = False
        cells_s = np.append(s[keep], s[rest].sum())
        cells_t = np.append(t[keep], t[rest].sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(cells_t > 0, -cells_t / cells_s, 0.0) if forward else np.log(cells_s / cells_t) + 1.0
        g[keep] = d[:-1]
        g[rest] = d[-1]
        return g
    zs = s[keep].sum()
    cs, ct = s[keep] / zs, t[keep] / t[keep].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        if forward:
            g[keep] = np.where(ct > 0, -ct / s[keep], 0.0) + 1.0 / zs
        else:
            log_ratio = np.log(cs / ct)
            g[keep] = (log_ratio - np.dot(cs, log_ratio)) / zs
    return g


def _d_sinkhorn(s, t, params):
    r""":math:`\partial\langle P_\varepsilon,C\rangle/\partial S` for the entropic plan
    :math:`P_{ij}=e^{(f_i+g_j-C_{ij})/\varepsilon}` (POT's log-domain Sinkhorn), by implicit differentiation of its
    marginal constraints: a change :math:`(df, dg)=\varepsilon(x, y)` moves :math:`P_{ij}` by
    :math:`P_{ij}(x_i+y_j)`, so

    .. math::

        \begin{pmatrix}\mathrm{diag}(S) & P\\ P^\top & \mathrm{diag}(T)\end{pmatrix}
        \begin{pmatrix}x\\y\end{pmatrix}=\begin{pmatrix}dS\\0\end{pmatrix},\qquad
        d\langle P,C\rangle = a\cdot x+b\cdot y,\quad a_i=\sum_jC_{ij}P_{ij},\ b_j=\sum_iC_{ij}P_{ij},

    and the gradient is the first block of the solution of the (symmetric) system with right-hand side
    :math:`(a, b)`. The system is singular along :math:`(1,-1)` (the potentials' shared constant), which the
    right-hand side is orthogonal to (:math:`\sum a=\sum b`): the least-squares solution is exact, and the
    gradient is defined up to a constant, which the softmax pull-back removes."""
    import ot

    if "reg" not in params:
        raise TypeError("kind='sinkhorn' needs reg, the entropic regularisation (> 0)")
    c = _cost(params.get("cost"), s.size)
    reg = V.real(params["reg"], "reg", low=0.0, low_open=True)
    plan = ot.sinkhorn(s, t, c, reg, method="sinkhorn_log", numItermax=100_000, stopThr=1e-13)
    v = s.size
    m = np.block([[np.diag(s), plan], [plan.T, np.diag(t)]])
    rhs = np.concatenate([(c * plan).sum(axis=1), (c * plan).sum(axis=0)])
    return np.linalg.lstsq(m, rhs, rcond=None)[0][:v]


def _d_divergence(s, t, kind, params):
    r""":math:`\partial D/\partial S` with :math:`S` a free positive vector (the teacher fixed)."""
    if kind == "forward_kl":
        return _d_kl_mixture(False, s, t, 1.0)
    if kind == "reverse_kl":
        return _d_kl_mixture(True, s, t, 0.0)
    if kind == "tv":
        return 0.5 * np.sign(s - t)  # a subgradient (0 where the laws agree)
    if kind == "js":
        return 0.5 * (_d_kl_mixture(True, s, t, 0.5) + _d_kl_mixture(False, s, t, 0.5))
    if kind == "gkd_jsd":
        beta = V.real(params.get("beta", 0.5), "beta", low=0.0, high=1.0)
        if beta == 0.0:
            return _d_kl_mixture(False, s, t, 1.0)
        if beta == 1.0:
            return _d_kl_mixture(True, s, t, 0.0)
        g = beta * _d_kl_mixture(False, s, t, 1.0 - beta) + (1.0 - beta) * _d_kl_mixture(True, s, t, 1.0 - beta)
        return g / (beta * (1.0 - beta)) if V.flag(params.get("normalised", False), "normalised") else g
    if kind in ("skew_forward", "skew_reverse"):
        alpha = V.real(params.get("alpha", 0.1), "alpha", low=0.0, high=1.0, high_open=True)
        return (_d_kl_mixture(False, s, t, 1.0 - alpha) if kind == "skew_forward"
                else _d_kl_mixture(True, s, t, alpha))
    if kind.startswith("topk"):
        divergence(s, t, kind, **params)  # the same validation and errors as the loss itself
        return _d_topk(s, t, kind.split("_")[1], int(params["k"]), params.get("over", "teacher"),
                       bool(params.get("tail", False)), bool(params.get("raw", False)))
    if kind == "sinkhorn":
        return _d_sinkhorn(s, t, params)
    # wasserstein: the exact transport cost is convex and piecewise linear in S; POT's dual potential u is a
    # subgradient
    import ot

    _, log = ot.emd2(s, t, _cost(params.get("cost"), s.size), log=True)
    return np.asarray(log["u"], float)


def expected_gradient(student_logits, teacher, loss: str, **params) -> np.ndarray:
    r"""The exact expected gradient, with respect to the student's logits, of a distillation loss as it is trained.

    Student :math:`S=\mathrm{softmax}(\theta)`, teacher :math:`T`. Two families of ``loss``:

    * a full-vocabulary loss, any kind of :func:`divergence` (with its parameters):
      :math:`\nabla_\theta D(S,T) = S\odot(g-\langle S,g\rangle)` with :math:`g=\partial D/\partial S` in closed form
      (top-k losses with their token set held fixed, as autograd does; TV and Wasserstein: a subgradient, POT's dual
      potential for the latter; Sinkhorn: implicit differentiation of the entropic plan's marginal constraints);
    * an on-policy sampled estimator with the teacher in the role of the reference, :math:`y\sim S`,
      :math:`\ell=\log S(y)-\log T(y)`: ``"k1_reward"`` (the log-ratio as a REINFORCE penalty, the on-policy
      distillation of verl, slime and Thinking Machines), ``"k2_reward"``, ``"k3_reward"``, and ``"k1_loss"``,
      ``"k2_loss"``, ``"k3_loss"`` (differentiated through :math:`\log S(y)`), by the finite sums of
      :func:`alignsim.estimators.expected_kl_gradient` (reused, not re-derived).

    Parameters
    ----------
    student_logits : array_like, shape (V,)
    teacher : array_like, shape (V,)
        The teacher's next-token law (full support for the sampled losses).
    loss : str
        A full-vocabulary kind (:data:`FULL`) or a sampled estimator (:data:`SAMPLED`).
    **params
        The parameters of a full-vocabulary kind (``beta``, ``alpha``, ``k`` ...), as in :func:`divergence`.

    Returns
    -------
    ndarray, shape (V,)
        The expected gradient of the loss (to be minimised); its entries sum to zero. All ``inf`` where the loss is
        infinite (a zero of the teacher that the student charges, for the KL kinds).

    References
    ----------
    .. [1] Y. Tang, R. Munos, "On a few pitfalls in KL divergence gradient estimation for RL", arXiv:2506.09477.
    .. [2] R. Agarwal et al., arXiv:2306.13649 (GKD).

    Examples
    --------
    >>> import numpy as np
    >>> from alignsim import distill
    >>> theta, t = np.array([0.5, 0.0, -0.5]), np.array([0.2, 0.3, 0.5])
    >>> s = np.exp(theta) / np.exp(theta).sum()
    >>> bool(np.allclose(distill.expected_gradient(theta, t, "forward_kl"), s - t))    # KL(T||S): S - T
    True
    >>> bool(np.allclose(distill.expected_gradient(theta, t, "k3_loss"), s - t))       # k3 in the loss: the same
    True
    """
    theta, s, t = _student_and_teacher(student_logits, teacher)
    V.choice(loss, "loss", FULL + tuple(SAMPLED))
    if loss in SAMPLED:
        if params:
            raise TypeError(f"the sampled loss {loss!r} takes no parameters, got {sorted(params)}")
        return expected_kl_gradient(theta, t, *SAMPLED[loss])
    unknown = sorted(set(params) - set(KINDS[loss]))
    if unknown:
        raise TypeError(f"loss={loss!r} takes {list(KINDS[loss]) or 'no parameters'}, got {unknown}")
    g = _d_divergence(s, t, loss, params)
    if not np.all(np.isfinite(g[s > 0])):
        return np.full(s.size, math.inf)  # the loss is infinite (the teacher has a zero the student charges)
    return s * (g - np.dot(s, g))


def gradient_variance(student_logits, teacher, loss: str) -> float:
    r"""Per-sample variance (trace of the covariance) of a sampled estimator's gradient, exactly.

    .. math::

        \mathbb E_{y\sim S}\|f(y)(e_y-S)\|^2-\|\mathbb E_{y\sim S} f(y)(e_y-S)\|^2,

    with :math:`f` from :func:`alignsim.estimators.sample_gradient_coefficient`; a full-vocabulary loss has variance 0.

    Parameters
    ----------
    student_logits : array_like, shape (V,)
    teacher : array_like, shape (V,)
    loss : str
        A sampled estimator of :data:`SAMPLED` (or a full-vocabulary kind: 0).

    Returns
    -------
    float

    References
    ----------
    .. [1] Y. Tang, R. Munos, arXiv:2506.09477.

    Examples
    --------
    >>> from alignsim import distill
    >>> round(distill.gradient_variance([0.0, 0.0], [0.5, 0.5], "k1_loss"), 12)   # f = 1: the score's variance
    0.5
    """
    theta, s, t = _student_and_teacher(student_logits, teacher)
    V.choice(loss, "loss", FULL + tuple(SAMPLED))
    if loss not in SAMPLED:
        return 0.0
    f = sample_gradient_coefficient(theta, t, *SAMPLED[loss])
    score_sq = 1.0 - 2.0 * s + np.dot(s, s)  # ||e_y - S||^2
    mean = expected_kl_gradient(theta, t, *SAMPLED[loss])
    return max(float(np.dot(s, f * f * score_sq)) - float(np.dot(mean, mean)), 0.0)


def _cosine(a, b):
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(np.dot(a, b) / (na * nb)) if na > 0 and nb > 0 else math.nan


def gradient_table(student_logits, teacher, *, beta: float = 0.5, alpha: float = 0.1, k: int | None = None,
                   rtol: float = 1e-9) -> pd.DataFrame:
    r"""Which divergence each distillation loss follows: its exact expected gradient against the gradients of the
    reverse and forward KL, with the per-sample variance of the sampled ones.

    For each loss (the full-vocabulary kinds at the given ``beta``, ``alpha`` and ``k``, and the sampled
    estimators of :data:`SAMPLED`): ``follows`` names the KL whose gradient it equals (``rtol``), or "none";
    ``cos_reverse`` and ``cos_forward`` are the cosines to :math:`\nabla\mathrm{KL}(S\|T)` and
    :math:`\nabla\mathrm{KL}(T\|S)`; ``bias_reverse`` is :math:`\|g-\nabla\mathrm{KL}(S\|T)\|/\|\nabla\mathrm{KL}(S\|T)\|`;
    ``variance`` is :func:`gradient_variance`.

    Parameters
    ----------
    student_logits : array_like, shape (V,)
    teacher : array_like, shape (V,)
        Full support (the sampled estimators divide by it).
    beta, alpha : float
        GKD's beta and the skew's alpha for their rows.
    k : int, optional
        Top-k size for the top-k rows (default: half the vocabulary, at least 1).
    rtol : float
        Relative tolerance of ``follows``.

    Returns
    -------
    pandas.DataFrame
        One row per loss; a cosine is ``nan`` where a gradient is zero (k1 in the loss, or a top-k loss floored at
        0): its direction is undefined.

    References
    ----------
    .. [1] Y. Tang, R. Munos, arXiv:2506.09477; R. Agarwal et al., arXiv:2306.13649.

    Examples
    --------
    >>> from alignsim import distill
    >>> df = distill.gradient_table([0.5, 0.0, -0.5], [0.2, 0.3, 0.5])
    >>> df.set_index("loss").loc[["k1_reward", "k3_loss", "k1_loss"], "follows"].tolist()
    ['reverse_kl', 'forward_kl', 'none']
    """
    theta, s, t = _student_and_teacher(student_logits, teacher)
    if np.any(t == 0):
        raise ValueError("teacher must have full support for the gradient table (the sampled estimators divide by it)")
    kk = max(1, s.size // 2) if k is None else V.length(k, "k", high=s.size, why="k counts tokens")
    tol = V.real(rtol, "rtol", low=0.0, low_open=True)
    rev = expected_gradient(theta, t, "reverse_kl")
    fwd = expected_gradient(theta, t, "forward_kl")
    rows = [("forward_kl", {}), ("reverse_kl", {}), ("tv", {}), ("js", {}), ("gkd_jsd", {"beta": beta}),
            ("gkd_jsd", {"beta": beta, "normalised": True}), ("skew_forward", {"alpha": alpha}),
            ("skew_reverse", {"alpha": alpha}), ("topk_forward", {"k": kk}), ("topk_forward", {"k": kk, "tail": True}),
            ("topk_reverse", {"k": kk}), ("topk_reverse", {"k": kk, "tail": True}),
            ("topk_forward", {"k": kk, "over": "union", "raw": True}),
            ("topk_reverse", {"k": kk, "over": "union", "raw": True}), ("wasserstein", {})]
    rows += [(name, {}) for name in SAMPLED]
    out = []
    for name, params in rows:
        g = expected_gradient(theta, t, name, **params)
        follows = ("reverse_kl" if np.allclose(g, rev, rtol=tol, atol=tol * np.abs(rev).max())
                   else "forward_kl" if np.allclose(g, fwd, rtol=tol, atol=tol * np.abs(fwd).max()) else "none")
        label = name + "".join(f" {p}={v}" for p, v in params.items())
        out.append({"loss": label, "kind": "sampled" if name in SAMPLED else "full", "follows": follows,
                    "cos_reverse": _cosine(g, rev), "cos_forward": _cosine(g, fwd),
                    "bias_reverse": float(np.linalg.norm(g - rev) / np.linalg.norm(rev)),
                    "variance": gradient_variance(theta, t, name)})
    return pd.DataFrame(out)
