r"""A registry of theorem checks: each pairs an exact prediction with an independent computation.

A :class:`Check` names the statement and its source, computes the exact prediction, computes the same quantity
a second, independent way, and compares them:

* **exact** checks (:func:`check`) use brute-force enumeration, a dual problem or a second exact algorithm and
  pass within a stated tolerance (relative to ``max(1, |exact|)``);
* **Monte-Carlo** checks (:func:`mc_check`) simulate with :mod:`alignsim.mc` and pass when the estimate lies in a
  confidence interval of level :math:`1-\delta`, :math:`\delta = 2\,\Phi(-Z)\approx 6.8\times10^{-6}`, computed
  under the prediction: for means, Bernstein's inequality with the exact variance and range of the predicted law
  (non-asymptotic: the sample mean of a law with rare outcomes is far from normal); for laws, exact binomial tails
  of every outcome's count, Bonferroni-corrected (reported on the z scale); for self-normalised importance
  sampling, batch means with a t quantile.

Either kind may be an equality or an inequality (a bound: the estimate must not exceed it, beyond the
tolerance or the interval); a Monte-Carlo check may also be a negative control (``"!="``: the interval must
exclude a value known to be wrong). :func:`run_checks` runs a selection and returns a :class:`pandas.DataFrame`;
``alignsim verify`` prints it and exits with status 1 if any check fails.

A check function receives a :class:`numpy.random.Generator` (random instances are reproducible by seed) and, for
Monte-Carlo checks, the sample size; it returns ``(exact, independent)`` or ``(exact, estimate, half_width)``.
"""


from __future__ import annotations

import fnmatch
import math
import time
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from .. import _validate as V

__all__ = ["Check", "CHECKS", "check", "mc_check", "check_seed", "run_checks", "Z", "DEFAULT_SAMPLES", "QUICK_SAMPLES",
           "MIN_SAMPLES"]

#: Two-sided z of a single Monte-Carlo confidence interval (false-alarm probability 7e-6).
Z = 4.5


#: Smallest default sample size of a Monte-Carlo check: below it Bernstein's range term
#: ``b log(2/delta) / (3 m)`` exceeds a thousandth of the range, and the interval no longer resolves the errors the
#: checks target.
MIN_SAMPLES = 10_000
#: Default and ``--quick`` Monte-Carlo sample sizes.
DEFAULT_SAMPLES = 400_000


QUICK_SAMPLES = 100_000


#: The registry: every check, in the order the topic modules register them.
CHECKS: list["Check"] = []


@dataclass(frozen=True)
class Check:
    """One theorem check.

    Attributes
    ----------
    name : str
        Short identifier, ``topic.statement`` (matched by ``--only``).
    source : str
        Paper and statement the prediction comes from.
    method : str
        How the independent value is obtained.
    compute : callable
        ``compute(rng) -> (exact, independent)`` for exact checks, ``compute(rng, samples) -> (exact, estimate,
        half_width)`` for Monte-Carlo checks.
    tol : float
        Tolerance of an exact check, relative to ``max(1, |exact|)`` (unused by Monte-Carlo checks).
    relation : {"==", "<=", "!="}
        ``"=="``: the two values agree; ``"<="``: the independent value does not exceed the exact bound; ``"!="``
        (Monte-Carlo only): the interval **excludes** the value, a negative control showing the check can fail.
    monte_carlo : bool
    min_samples : int
        Smallest Monte-Carlo sample size at which the check's interval can resolve the errors it is meant to
        catch; a run with fewer samples reports the check as ``"underpowered"`` instead of passing it.
    """

    name: str
    source: str
    method: str
    compute: Callable[[np.random.Generator], tuple[float, float]]
    tol: float
    relation: str = "=="
    monte_carlo: bool = False
    min_samples: int = 0


def check(name: str, source: str, method: str, tol: float, relation: str = "=="):
    """Decorator registering a check function ``f(rng) -> (exact, independent)``.

    Parameters
    ----------
    name : str
        Check name, topic.statement (matched by --only).
    source : str
        Paper and statement the prediction comes from.
    method : str
        How the independent value is computed.
    tol : float
        Tolerance relative to ``max(1, |exact|)``.
    relation : {"==", "<="}
        Equality, or an upper bound that the independent value must not exceed.

    Returns
    -------
    callable
        The decorator; it registers f(rng) -> (exact, independent) and returns f unchanged.
    """
    V.choice(relation, "relation", ("==", "<="))

    def deco(f):
        CHECKS.append(Check(name, source, method, f, tol, relation))
        return f

    return deco


def mc_check(name: str, source: str, method: str, relation: str = "==", min_samples: int = MIN_SAMPLES):
    """Decorator registering a Monte-Carlo check ``f(rng, samples) -> (exact, estimate, half_width)``.

    Parameters
    ----------
    name : str
        Check name, topic.statement.
    source : str
        Paper and statement the prediction comes from.
    method : str
        How the simulation is done.
    relation : {"==", "<=", "!="}
        Equality within the interval, an upper bound, or a negative control ("!=": the interval must exclude the
        value).
    min_samples : int
        Smallest sample size at which the check is meaningful (see :class:`Check`).

    Returns
    -------
    callable
        The decorator; it registers f(rng, samples) -> (exact, estimate, half_width) and returns f unchanged.
    """
    V.choice(relation, "relation", ("==", "<=", "!="))

    def deco(f):
        CHECKS.append(Check(name, source, method, f, 0.0, relation, monte_carlo=True, min_samples=min_samples))
        return f

    return deco


def check_seed(seed: int, name: str) -> np.random.SeedSequence:
    """The seed sequence of the check called ``name`` in a run with ``seed``: ``SeedSequence([seed, crc32(name)])``.

    Seeding by name rather than by position in the registry means that adding, removing or reordering checks
    leaves every other check's random instance unchanged.

    Parameters
    ----------
    seed : int
        Seed of the run, >= 0.
    name : str
        The check's name.

    Returns
    -------
    numpy.random.SeedSequence
        The check's seed sequence.
    """
    return np.random.SeedSequence([V.seed(seed), zlib.crc32(name.encode())])


def _status(c: Check, exact: float, est: float, half: float) -> bool:
    if c.monte_carlo:
        if c.relation == "!=":
            return abs(est - exact) > half
        return abs(est - exact) <= half if c.relation == "==" else est - half <= exact
    if c.relation == "==":
        return abs(est - exact) <= c.tol * max(1.0, abs(exact))
    return est <= exact + c.tol


def _run_one(name: str, seed: int, m: int) -> tuple:
    """One check's row, found by name (so a worker process, whose registry is filled when it imports
    :mod:`alignsim.checks`, runs the same check with the same seed)."""
    import alignsim.checks  # noqa: F401 - fills the registry in a fresh worker process

    c = next(c for c in CHECKS if c.name == name)
    rng = np.random.default_rng(check_seed(seed, c.name))
    t0 = time.perf_counter()
    try:
        out = c.compute(rng, m) if c.monte_carlo else c.compute(rng)
        exact, est = float(out[0]), float(out[1])
        half = float(out[2]) if c.monte_carlo else math.nan
        if not _status(c, exact, est, half):
            status = "FAIL"
        else:
            status = "underpowered" if c.monte_carlo and m < c.min_samples else "pass"
    except Exception as exc:  # a check that crashes is a failure, reported with its error
        exact = est = half = math.nan
        status = f"ERROR: {type(exc).__name__}: {exc}"
    allowed = half if c.monte_carlo else c.tol * max(1.0, abs(exact))
    return (c.name, c.source, c.method, "monte-carlo" if c.monte_carlo else "exact", c.relation, exact, est,
            est - exact, allowed, half, math.nan if c.monte_carlo else c.tol, status, time.perf_counter() - t0)


def run_checks(only: str | None = None, seed: int = 0, samples: int | None = None, quick: bool = False,
               progress: Callable[[int, int, str], None] | None = None, client=None) -> pd.DataFrame:
    """Run the registered checks whose name matches ``only`` and tabulate them.

    Parameters
    ----------
    only : str, optional
        A glob pattern on check names (``"*kl*"``) or a name prefix (``"bon"`` selects every ``bon.*`` check).
    seed : int
        Seed of the random instances and simulations; each check's generator is seeded by ``seed`` and its own
        name (:func:`check_seed`), so its instance does not depend on which other checks exist or run.
    samples : int, optional
        Monte-Carlo sample size (default :data:`DEFAULT_SAMPLES`, or :data:`QUICK_SAMPLES` with ``quick``).
    quick : bool
        Smaller Monte-Carlo samples (the whole registry in well under a minute on two cores).
    progress : callable, optional
        Called as ``progress(i, total, name)`` before each check runs (on a cluster: as each one finishes).
    client : dask.distributed.Client, optional
        Run the checks on this Dask cluster, one task per check; each check is seeded by its name, so the table is
        the same as in one process (up to ``seconds``).

    Returns
    -------
    pandas.DataFrame
        One row per check: ``check, source, method, kind, relation, exact, estimate, error, allowed, ci,
        tolerance, status, seconds``. ``exact`` is the prediction (a value or a bound), ``estimate`` the independent
        value (a second computation or a Monte-Carlo mean; for checks that test many components at once, the
        largest deviation in units of its own half-width against the bound 1), ``error = estimate - exact``,
        ``allowed`` what ``|error|`` may reach (``tolerance * max(1, |exact|)`` for exact checks, the interval's
        half-width ``ci`` for Monte-Carlo ones; NaN where the check does not apply). ``status`` is ``"pass"``,
        ``"FAIL"``, ``"underpowered"`` (a Monte-Carlo check run with fewer than its ``min_samples`` samples) or
        ``"ERROR: ..."`` (the check crashed).
    """
    m = V.length(samples, "samples") if samples is not None else (QUICK_SAMPLES if quick else DEFAULT_SAMPLES)
    selected = [c for c in CHECKS if only is None or fnmatch.fnmatch(c.name, only) or c.name.startswith(only)]
    if not selected:
        raise ValueError(f"no check matches only={only!r}; known checks: {[c.name for c in CHECKS]}")
    if client is None:
        rows = []
        for i, c in enumerate(selected):
            if progress is not None:
                progress(i, len(selected), c.name)
            rows.append(_run_one(c.name, seed, m))
    else:
        if not all(hasattr(client, a) for a in ("map", "gather")):
            raise TypeError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
        from dask.distributed import as_completed  # only with a cluster: Dask is an optional extra

        names = [c.name for c in selected]
        futures = client.map(_run_one, names, [seed] * len(names), [m] * len(names), pure=False)
        for i, (name, _) in enumerate(zip(names, as_completed(futures))):
            if progress is not None:
                progress(i, len(names), "(on the cluster)")
        rows = client.gather(futures)  # in the registry's order, whichever worker ran which check
    return pd.DataFrame(rows, columns=["check", "source", "method", "kind", "relation", "exact", "estimate", "error",
                                       "allowed", "ci", "tolerance", "status", "seconds"])
