r"""The judge model averaged over test points: :class:`JudgeModel`."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
from scipy.optimize import brentq

from .. import _validate as V
from ._equivalent import (
    DeterministicEquivalent,
    _count,
    _delta_nodes,
    _positive,
    _temperature,
    deterministic_equivalent,
)
from ._point import _argmin_k, _argmin_scalar, _argmin_temperature, _limit_temperature, _moments


class BestOfK(NamedTuple):
    r"""Large-``k`` law of the averaged best-of-k error, :math:`\bar E_k=\bar\rho^2+\bar C/((k+1)(k+2))+\dots`.

    ``coefficient`` is :math:`\bar C` (``inf`` beyond the threshold :math:`2V_\Delta\ge s^2`), ``exponent`` the
    decay exponent of :math:`\bar E_k-\bar\rho^2` (2, or :math:`s^2/V_\Delta` up to logarithms beyond the
    threshold), ``floor`` the limit :math:`E\rho^2`.

    Parameters
    ----------
    coefficient : float
        The constant C-bar of the 1/k^2 law (inf beyond the threshold).
    exponent : float
        Decay exponent of the excess error.
    floor : float
        Limit of the error as k grows.

    References
    ----------
    .. [1] I. Halder, C. Pehlevan, "Demystifying LLM-as-a-Judge", arXiv:2512.19905 (the 1/k^2 law and its
       exponent against task difficulty).

    Examples
    --------
    >>> from alignsim.judge import JudgeModel
    >>> law = JudgeModel(100, 200, 0.1, 1.0).best_of_k()
    >>> round(law.coefficient, 6), law.exponent, law.floor
    (1.994037, 2.0, 0.0)
    """

    coefficient: float
    exponent: float
    floor: float


_JUDGES = ("scale", "paper_cR", "model_aware")


@dataclass(frozen=True)
class JudgeModel:
    r"""Bayesian linear regression with an LLM-as-a-judge selector, in the deterministic-equivalent limit.

    Test points are Gaussian in the reduced variables: :math:`(\mu,\rho)` jointly centred normal with the
    covariance of :meth:`offset_law` and a common predictive variance :math:`s^2`. The judge families:

    * ``("scale", beta)`` with ``judge_noise`` :math:`\varepsilon^2`:
      :math:`w_R=(1+\beta)w_T+\delta`, :math:`\|\delta\|^2/d=\varepsilon^2`, so :math:`\rho=\beta y_T+\zeta`,
      :math:`\zeta\sim\mathcal N(0,S^2\varepsilon^2)`; ``beta = 0, judge_noise = 0`` is the teacher;
    * ``("paper_cR", c)``: the authors' best-of-k script, :math:`\beta=cR`;
    * ``("model_aware", c)``: the authors' softmax script, :math:`\rho=-c\mu` (plus :math:`\zeta`); the
      :math:`k=\infty` optimum is :math:`c^*=T/(2s^2)`.

    Parameters
    ----------
    d, n : float
        Dimension and training-set size (>= 1; only :math:`\alpha=d/n` enters the limit).
    sigma2, prior_var : float
        Label-noise and prior variances (> 0).
    S2, tau2 : float, optional
        Input variance per coordinate and teacher power :math:`\|w_T\|^2/d` (> 0).
    judge : tuple, optional
        ``(family, parameter)`` as above.
    judge_noise : float, optional
        :math:`\varepsilon^2\ge0`.
    target : {"clean", "noisy"}, optional
        Error against the clean teacher output (default, as the authors) or a noisy label (adds :math:`\sigma^2`).
    de : {"corrected", "paper"}, optional
        Offset variance of :func:`deterministic_equivalent`.

    References
    ----------
    .. [1] Halder and Pehlevan, arXiv:2512.19905.

    Examples
    --------
    >>> from alignsim.judge import JudgeModel
    >>> model = JudgeModel(100, 200, 0.1, 1.0)
    >>> [round(model.error(k), 10) for k in (1, 2, 4)]
    [0.268857754, 0.1063559504, 0.0386893009]
    >>> round(model.data_equivalent(2), 2), model.data_equivalent(4)
    (3236.34, inf)
    """

    d: float
    n: float
    sigma2: float
    prior_var: float
    S2: float = 1.0
    tau2: float = 1.0
    judge: tuple = ("scale", 0.0)
    judge_noise: float = 0.0
    target: str = "clean"
    de: str = "corrected"

    def __post_init__(self):
        _count(self.d, "d")
        _count(self.n, "n")
        _positive(self.sigma2, "sigma2")
        _positive(self.prior_var, "prior_var")
        _positive(self.S2, "S2")
        _positive(self.tau2, "tau2")
        if not (isinstance(self.judge, tuple) and len(self.judge) == 2):
            raise TypeError(f"judge must be a (family, parameter) tuple with family in {list(_JUDGES)}, "
                            f"got {self.judge!r}")
        V.choice(self.judge[0], "judge family", _JUDGES)
        V.real(self.judge[1], "judge parameter")
        V.real(self.judge_noise, "judge_noise", low=0.0)
        V.choice(self.target, "target", ("clean", "noisy"))
        V.choice(self.de, "de", ("corrected", "paper"))

    # -- the deterministic equivalent and the law of test points -------------------------------------------------
    @property
    def alpha(self) -> float:
        """Parameters per sample, ``d / n``."""
        return float(self.d) / float(self.n)

    def deterministic_equivalent(self) -> DeterministicEquivalent:
        """The :class:`DeterministicEquivalent` at this model's :math:`\\alpha` (see
        :func:`deterministic_equivalent`).

        Returns
        -------
        DeterministicEquivalent
            The deterministic-equivalent constants at this alpha.
        """
        return deterministic_equivalent(self.alpha, self.sigma2, self.prior_var, S2=self.S2, tau2=self.tau2,
                                        de=self.de)

    def offset_law(self) -> dict:
        r"""Gaussian law of the point variables over test inputs.

        Returns
        -------
        dict
            ``var_mu, var_rho, cov_mu_rho, s2`` and the derived ``var_delta`` (:math:`\Delta=\rho-\mu`) and
            ``cov_rho_delta``.
        """
        q = self.deterministic_equivalent()
        family, c = self.judge[0], float(self.judge[1])
        noise = self.S2 * float(self.judge_noise)
        if family == "model_aware":
            var_rho, cov = c * c * q.var_mu + noise, -c * q.var_mu
        else:
            beta = c * q.R if family == "paper_cR" else c
            var_rho, cov = beta * beta * q.var_teacher + noise, beta * q.cov_mu_teacher
        var_delta = max(var_rho - 2.0 * cov + q.var_mu, 0.0)
        return {"var_mu": q.var_mu, "var_rho": var_rho, "cov_mu_rho": cov, "s2": q.s2, "var_delta": var_delta,
                "cov_rho_delta": var_rho - cov}

    def predictive(self) -> tuple[float, float]:
        r"""Deterministic-equivalent predictive: ``(mean_gain, s2)``, :math:`m(x)\approx(1-a_1)y_T(x)` and
        :math:`s^2=\sigma^2+\gamma^2S^2a_1`. For a given training set use :func:`exact_predictive`.

        Returns
        -------
        (mean_gain, s2) : tuple of float
            The gain 1 - a_1 of the predictive mean and the predictive variance.
        """
        q = self.deterministic_equivalent()
        return q.mean_gain, q.s2

    # -- averaged errors ---------------------------------------------------------------------------------------
    def _average(self, kk: float, TT: float) -> float:
        law = self.offset_law()
        s2, vd = law["s2"], law["var_delta"]
        floor = law["var_rho"]
        if kk == 1.0:
            return law["var_mu"] + s2
        if math.isinf(kk):
            if TT == 0.0:
                return floor
            th = TT / (TT + 2.0 * s2)  # E[(th mu + (1-th) rho)^2] + th s2
            return (th * th * law["var_mu"] + (1 - th) ** 2 * floor + 2 * th * (1 - th) * law["cov_mu_rho"]
                    + th * s2)
        s = math.sqrt(s2)
        if vd == 0.0:
            j1, j2 = _moments(kk, TT, np.zeros(1), s)
            return floor + s2 * float(j2[0])
        delta, w = _delta_nodes(vd, s, TT > 0.0)
        j1, j2 = _moments(kk, TT, delta / s, s)
        slope = law["cov_rho_delta"] / vd  # E[rho | Delta] = slope * Delta
        return float(floor + 2.0 * slope * s * np.dot(w, delta * j1) + s2 * np.dot(w, j2))

    def _noise(self) -> float:
        return float(self.sigma2) if self.target == "noisy" else 0.0

    def error(self, k, T=0.0) -> float:
        r"""Generalisation error averaged over test points, :math:`\bar E_{k,T}=E_{\mu,\rho}E_{k,T}(\mu,\rho,s)`.

        By the per-point decomposition :math:`E_{k,T}=\rho^2+2\rho sJ_1(\Delta)+s^2J_2(\Delta)` with
        :math:`\Delta=\rho-\mu`, the average is one-dimensional:
        :math:`\bar E=E\rho^2+2s\,E[E(\rho\mid\Delta)J_1]+s^2E[J_2]`, by composite Gauss-Legendre quadrature in
        :math:`\Delta/\mathrm{sd}(\Delta)\in[0,12]` (symmetry gives the negative half), panels no wider than
        1 in that variable nor than :math:`s/2` in :math:`\Delta` (Gauss-Hermite converges slowly when
        :math:`V_\Delta\gg s^2`: the best-of-k error turns from :math:`C/k^2` to :math:`(|\Delta|-s\sqrt{2\log k})^2`
        over a width of order ``s``). The softmax (a 2-D quadrature per point) uses 32-node Gauss-Hermite while
        :math:`\mathrm{sd}(\Delta)\le s` (error <= 1e-8 relative) and the composite rule, with panels of ``s``,
        beyond. ``k = 1`` and ``k = inf`` are closed forms.

        Parameters
        ----------
        k : int or float
            Number of samples (>= 1 or ``inf``).
        T : float, optional
            Temperature (>= 0; 0 is best-of-k).

        Returns
        -------
        float
            Plus :math:`\sigma^2` when ``target="noisy"``.

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> round(JudgeModel(1, 2, 0.5, 1.0).error(16), 10)
        0.0138592803
        """
        return self._average(V.samples_or_inf(k), _temperature(T)) + self._noise()

    def best_of_k(self) -> BestOfK:
        r"""The :math:`1/k^2` law of best-of-k averaged over test points.

        With :math:`\Delta=\rho-\mu`, :math:`V_\Delta=\mathrm{Var}\,\Delta`, :math:`c=\mathrm{Cov}(\rho,\Delta)`:

        .. math:: \bar C=\pi s^2(1-2V_\Delta/s^2)^{-3/2}\big(1-2(V_\Delta+c)/s^2\big)\quad(2V_\Delta<s^2),

        the teacher judge giving :math:`\pi s^2/\sqrt{1-2V_\mu/s^2}` (the authors' curve). Beyond the threshold the
        average is dominated by points far from their target and decays like :math:`k^{-s^2/V_\Delta}` up to
        logarithms: ``coefficient = inf`` and that exponent ("harder tasks benefit less").

        Returns
        -------
        BestOfK

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> JudgeModel(1, 2, 0.5, 1.0).best_of_k().exponent
        2.0
        """
        law = self.offset_law()
        s2, vd = law["s2"], law["var_delta"]
        if 2.0 * vd >= s2:
            return BestOfK(math.inf, s2 / vd, law["var_rho"])
        x = 1.0 - 2.0 * vd / s2
        return BestOfK(math.pi * s2 * x ** -1.5 * (1.0 - 2.0 * (vd + law["cov_rho_delta"]) / s2), 2.0,
                       law["var_rho"])

    def optimal_k(self, T=0.0, k_max: int = 1 << 16):
        r"""Optimal number of samples for the averaged error (see :func:`point_optimal_k` for the search).

        With best-of-k it is finite when :math:`\bar C<0`, i.e. :math:`2(V_\Delta+\mathrm{Cov}(\rho,\Delta))>s^2`.

        Parameters
        ----------
        T : float
            Softmax temperature, >= 0 (0 is best-of-k).
        k_max : int
            Largest k searched (capped).

        Returns
        -------
        k : int or float
            ``inf`` when more samples always help up to ``k_max`` and the limit is lower.
        error : float

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> JudgeModel(1, 2, 0.5, 1.0).optimal_k(k_max=256)[0]
        inf
        """
        TT = _temperature(T)
        return _argmin_k(lambda k: self.error(k, TT), V.length(k_max, "k_max", high=2 ** 53, why="sample counts beyond 2^53 are not distinct floats"),
                         self._average(math.inf, TT) + self._noise())

    def optimal_temperature(self, k):
        r"""Optimal temperature at fixed ``k`` for the averaged error (``T* = 0``: best-of-k wins).

        At ``k = inf`` the closed form :math:`\theta^*=(2\mathrm{Cov}(\rho,\Delta)-s^2)/(2V_\Delta)`,
        :math:`T^*=2s^2\theta^*/(1-\theta^*)` (clipped at 0).

        Parameters
        ----------
        k : int or float
            Number of samples of best-of-k (or softmax selection), k >= 1; inf for the limit.

        Returns
        -------
        T : float
        error : float

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> JudgeModel(1, 2, 0.5, 1.0).optimal_temperature(4)[0]
        0.0
        """
        kk = V.samples_or_inf(k)
        if kk < 2:
            raise ValueError(f"k must be >= 2 (one sample leaves nothing to select), got {k!r}")
        law = self.offset_law()
        s2 = law["s2"]
        if math.isinf(kk):
            T = _limit_temperature(law["cov_rho_delta"], law["var_delta"], s2)
            return T, self.error(kk, T)
        return _argmin_temperature(lambda t: self.error(kk, t), s2, self.error(kk, 0.0))

    def with_judge(self, parameter) -> "JudgeModel":
        """The same model with another judge parameter (same family).

        Parameters
        ----------
        parameter : float
            The new judge parameter of the model's judge family.

        Returns
        -------
        JudgeModel
            A copy with that judge.
        """
        return replace(self, judge=(self.judge[0], parameter))

    def optimal_judge_offset(self, k, T=0.0):
        r"""Judge parameter of this model's family that minimises the averaged error at ``(k, T)``.

        For ``"scale"`` it is :math:`\beta^*`; at ``k = inf`` and teacher-like judges the per-point optimum
        :math:`\rho^*=-\mu T/(2s^2)` translates to :math:`\beta^*=a_1T/(2s^2)` (naive DE), for ``"model_aware"`` to
        :math:`c^*=T/(2s^2)` (the centre of the authors' grid).

        Parameters
        ----------
        k : int or float
            Number of samples of best-of-k (or softmax selection), k >= 1; inf for the limit.
        T : float
            Softmax temperature, >= 0 (0 is best-of-k).

        Returns
        -------
        parameter : float
        error : float

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> m = JudgeModel(10, 10_000, 1e-8, 1e-6, tau2=4.0, judge=("model_aware", 0.0))
        >>> c, e = m.optimal_judge_offset(float("inf"), 2e-7)
        >>> round(c, 6) == round(2e-7 / (2 * m.offset_law()["s2"]), 6)
        True
        """
        kk = V.samples_or_inf(k)
        TT = _temperature(T)
        law = self.offset_law()
        centre = TT / (2.0 * law["s2"])
        if self.judge[0] != "model_aware":
            centre *= self.deterministic_equivalent().a1 / (self.deterministic_equivalent().R
                                                            if self.judge[0] == "paper_cR" else 1.0)
        return _argmin_scalar(lambda c: self.with_judge(c).error(kk, TT), centre, max(abs(centre), 0.05) / 4.0,
                              name="the judge parameter")

    # -- inference compute versus data ----------------------------------------------------------------------------
    def with_n(self, n) -> "JudgeModel":
        """The same model trained on ``n`` samples.

        Parameters
        ----------
        n : int or float
            Training-set size, > 0.

        Returns
        -------
        JudgeModel
            A copy trained on n samples.
        """
        return replace(self, n=_count(n, "n"))

    def error_vs_data(self, n_grid, k=1, T=0.0) -> np.ndarray:
        r"""Averaged error as the training set grows: :math:`\bar E(n,k)` for each ``n`` in ``n_grid``.

        Parameters
        ----------
        n_grid : array_like
            Training-set sizes, > 0.
        k : int or float
            Number of samples of best-of-k (or softmax selection), k >= 1; inf for the limit.
        T : float
            Softmax temperature, >= 0 (0 is best-of-k).

        Returns
        -------
        ndarray
            The averaged error at each n, same shape as n_grid.

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> [round(float(e), 6) for e in JudgeModel(100, 200, 0.1, 1.0).error_vs_data([200, 400], k=2)]
        [0.106356, 0.061542]
        """
        ns = V.real_array(n_grid, "n_grid", low=1.0)
        return np.array([self.with_n(float(n)).error(k, T) for n in ns.ravel()]).reshape(ns.shape)

    def data_equivalent(self, k, T=0.0) -> float:
        r"""Training-set size :math:`n_{eq}` at which one sample is as good as ``k`` samples now:
        :math:`\bar E(n_{eq},1)=\bar E(n,k)`.

        :math:`\bar E(n,1)=V_\mu+s^2` decreases to the data-only floor :math:`\sigma^2` (clean target), so when
        :math:`\bar E(n,k)\le\sigma^2` no amount of data matches ``k`` samples: ``inf``. Solved by Brent in
        :math:`\log n` after a geometric scan for the first crossing.

        Parameters
        ----------
        k : int or float
            Number of samples of best-of-k (or softmax selection), k >= 1; inf for the limit.
        T : float
            Softmax temperature, >= 0 (0 is best-of-k).

        Returns
        -------
        float
            ``n_eq`` (``inf`` if unreachable).

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> round(JudgeModel(100, 200, 0.1, 1.0).data_equivalent(2), 2)
        3236.34
        """
        goal = self.error(k, T)
        if goal <= float(self.sigma2) + self._noise():
            return math.inf

        def gap(log_n):
            return self.with_n(math.exp(log_n)).error(1) - goal

        grid = np.linspace(0.0, math.log(1e16), 161)
        vals = np.array([gap(x) for x in grid])
        below = np.nonzero(vals <= 0)[0]
        if below.size == 0:
            return math.inf
        j = int(below[0])
        if j == 0:
            return 1.0
        return float(math.exp(brentq(gap, grid[j - 1], grid[j], xtol=1e-13, rtol=1e-13)))

    def elasticities(self, k, T=0.0, rel_step: float = 1e-3) -> tuple[float, float]:
        r"""Returns of data and of samples: :math:`(-\partial\log\bar E/\partial\log n,\,
        -\partial\log\bar E/\partial\log k)` by central differences (``k`` treated as continuous).

        More inference compute pays per unit of relative cost when
        :math:`\text{elasticity}_k/\text{cost}_k>\text{elasticity}_n/\text{cost}_n`; with the teacher judge the
        ``k`` elasticity tends to 2 below the threshold :math:`2V<s^2`.

        Parameters
        ----------
        k : int or float
            Number of samples of best-of-k (or softmax selection), k >= 1; inf for the limit.
        T : float
            Softmax temperature, >= 0 (0 is best-of-k).
        rel_step : float
            Relative step of the central differences, in (0, 0.5).

        Returns
        -------
        (elasticity_n, elasticity_k) : tuple of float
            -d log E / d log n and -d log E / d log k.

        Examples
        --------
        >>> from alignsim.judge import JudgeModel
        >>> e_n, e_k = JudgeModel(100, 200, 0.1, 1.0).elasticities(1000)
        >>> round(e_k, 2)
        1.95
        """
        kk = V.samples_or_inf(k)
        h = V.real(rel_step, "rel_step", low=0.0, high=0.1, low_open=True)
        n = float(self.n)
        errors = [self.with_n(n * (1 + h)).error(kk, T), self.with_n(n / (1 + h)).error(kk, T)]
        if not math.isinf(kk):
            errors += [self.error(max(kk * (1 + h), 1.0), T), self.error(max(kk / (1 + h), 1.0), T)]
        if min(errors) <= 0.0:
            raise ValueError(f"the error is 0 at k = {kk!r}, T = {T!r} (a noiseless judge on the teacher's target): "
                             "its log-elasticities are undefined")
        e_n = -(math.log(errors[0]) - math.log(errors[1]))
        e_k = 0.0 if math.isinf(kk) else -(math.log(errors[2]) - math.log(errors[3]))
        return e_n / (2 * math.log1p(h)), e_k / (2 * math.log1p(h))
