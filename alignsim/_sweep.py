r"""Parameter sweeps that run serially, on local processes, or on a Dask cluster, with the same numbers everywhere.

:func:`sweep` evaluates a function at every point of a grid and returns a tidy DataFrame: the parameters, the
outputs (a scalar, or a dict flattened into columns), and provenance (the package version, the point's seed, the
wall time, the error if the point raised). A point's seed is derived from the sweep's ``seed`` and the point's
*parameters*, not its position, so adding points to a grid, reordering it or running it on another backend leaves
every other point's numbers unchanged.

Functions defined interactively (in a notebook, a script's ``__main__``, a lambda) are shipped to worker processes
with cloudpickle, as joblib's loky and Dask do. Dask is an optional extra (``pip install "alignsim[dask]"``).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import inspect
import itertools
import math
import multiprocessing
import numbers
import os
import time

import cloudpickle
import numpy as np
import pandas as pd

from . import _validate as V
from ._progress import track
from ._version import __version__

__all__ = ["sweep", "point_seed", "SWEEP_BACKENDS"]

#: The backends of :func:`sweep`.
SWEEP_BACKENDS = ("serial", "processes", "dask")
#: Largest number of points a sweep takes (each is a row of the result).
MAX_POINTS = 10 ** 6


def _canonical(value):
    """A text for a parameter value that does not depend on how it was spelled (1 and 1.0 and np.float64(1) agree)."""
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (numbers.Integral, np.integer)):
        return repr(int(value))
    if isinstance(value, (numbers.Real, np.floating)):
        v = float(value)
        return repr(int(v)) if v.is_integer() and abs(v) < 2 ** 53 else repr(v)
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ",".join(_canonical(v) for v in np.asarray(value, dtype=object).ravel()) + "]"
    return repr(value)


def point_seed(seed, params: dict) -> int:
    r"""The seed of one sweep point: a 63-bit integer drawn from a ``numpy.random.SeedSequence`` whose entropy is
    the sweep's seed and a SHA-256 digest of the point's parameters (names and canonical values, in sorted order).

    .. math:: s(\text{point}) = \mathrm{SeedSequence}\big(\text{seed},\ \mathrm{sha256}(\text{params})\big)

    Parameters
    ----------
    seed : int
        The sweep's seed, >= 0.
    params : dict
        The point's parameters.

    Returns
    -------
    int

    References
    ----------
    .. [1] NumPy, "Parallel random number generation" (SeedSequence), numpy.org/doc/stable/reference/random/parallel.html.

    Examples
    --------
    >>> from alignsim import point_seed
    >>> point_seed(0, {"N": 4, "beta": 0.5}) == point_seed(0, {"beta": 0.5, "N": 4.0})
    True
    """
    s = V.length(seed, "seed", low=0, high=2 ** 63 - 1, why="a SeedSequence entropy word")
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict, got {type(params).__name__}")
    text = ";".join(f"{k}={_canonical(params[k])}" for k in sorted(params))
    digest = int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "little")
    return int(np.random.SeedSequence([s, digest]).generate_state(2, np.uint32).astype(np.uint64) @
               np.array([1, 2 ** 31], np.uint64)) & (2 ** 63 - 1)


def _points(grid) -> list[dict]:
    if isinstance(grid, pd.DataFrame):
        if grid.empty:
            raise ValueError("grid has no rows")
        return [dict(row) for row in grid.to_dict(orient="records")]
    if not isinstance(grid, dict) or not grid:
        raise TypeError("grid must be a non-empty dict of parameter lists (their Cartesian product) or a DataFrame of "
                        f"points, got {type(grid).__name__}")
    lists = {}
    for name, values in grid.items():
        if not isinstance(name, str):
            raise TypeError(f"grid keys must be parameter names (str), got {name!r}")
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
            raise ValueError(f"grid[{name!r}] must be a non-empty list of values, got {values!r}")
        lists[name] = list(values)
    total = math.prod(len(v) for v in lists.values())
    if total > MAX_POINTS:
        raise ValueError(f"the grid has {total} points, at most {MAX_POINTS}")
    return [dict(zip(lists, combo)) for combo in itertools.product(*lists.values())]


def _flatten(out, prefix="") -> dict:
    """A function's output as columns: a scalar -> ``value``; a dict (nested dicts joined by '.'); a tuple or list
    of scalars -> ``value_0, value_1, ...``; a pandas Series as a dict."""
    if isinstance(out, pd.Series):
        out = out.to_dict()
    if isinstance(out, dict):
        flat = {}
        for k, v in out.items():
            key = f"{prefix}{k}"
            flat.update(_flatten(v, key + ".") if isinstance(v, (dict, pd.Series)) else {key: v})
        return flat
    if isinstance(out, (tuple, list)):
        return {f"{prefix or 'value_'}{i}": v for i, v in enumerate(out)}
    return {prefix.rstrip(".") or "value": out}


def _call(func, params, seed, takes):
    kwargs = dict(params)
    if seed is not None:
        if "seed" in takes:
            kwargs["seed"] = seed
        elif "rng" in takes:
            kwargs["rng"] = np.random.default_rng(seed)
    start = time.perf_counter()
    try:
        out, error = _flatten(func(**kwargs)), None
    except Exception as exc:  # recorded, not raised: one bad point leaves the sweep intact
        out, error = {}, f"{type(exc).__name__}: {exc}"
    return out, error, time.perf_counter() - start


def _run_pickled(payload):
    """Worker side of the process and Dask backends: the function travels as cloudpickle bytes."""
    func_bytes, params, seed, takes = payload
    return _call(cloudpickle.loads(func_bytes), params, seed, takes)


def _accepts(func):
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return set()
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return {"seed"}
    return set(sig.parameters)


def sweep(func, grid, *, backend: str = "serial", client=None, workers: int | None = None, seed=None,
          progress=True, errors: str = "record") -> pd.DataFrame:
    r"""Evaluate ``func(**point)`` at every point of a grid, serially, on local processes or on a Dask cluster.

    .. math:: \text{row}(x) = \big(x,\ f(x),\ s(x),\ \text{error},\ \text{time}\big),\qquad x\in\text{grid},

    with :math:`s(x)` the point's seed (:func:`point_seed`: from ``seed`` and :math:`x`'s parameters, not its
    position). If ``func`` takes a ``seed`` argument it receives :math:`s(x)`; if it takes ``rng`` it receives
    ``numpy.random.default_rng(s(x))``. The rows come back in grid order whatever the backend, so the same grid and
    seed give the same DataFrame (up to the ``wall_time_s`` column) serially, on processes and on any Dask cluster.

    Parameters
    ----------
    func : callable
        Called with the point's parameters as keywords; returns a scalar, a dict (nested dicts are flattened with
        '.'), a tuple of scalars or a pandas Series. A lambda or a function of a notebook works on every backend
        (cloudpickle).
    grid : dict of lists or pandas.DataFrame
        Parameter lists (their Cartesian product, in key order) or one row per point; at most 10^6 points.
    backend : {"serial", "processes", "dask"}
        Where the points run: in this process, on a pool of local processes (spawned, so numba and BLAS threads
        are safe), or on a Dask cluster (``client``, or a new ``LocalCluster`` of ``workers`` processes).
    client : dask.distributed.Client, optional
        The cluster to use with ``backend="dask"`` (e.g. ``Client("tcp://scheduler:8786")``); it is left open.
    workers : int, optional
        Processes for ``"processes"`` or a new local Dask cluster (default: the machine's cores), 1 to 1024.
    seed : int, optional
        The sweep's seed, >= 0 (``None``: points get no seed and ``seed`` is ``None`` in the result).
    progress : bool or callable
        A progress bar (tqdm locally, Dask's progress bar on a cluster); ``False`` for none; a callable is called
        as ``progress(i, total)``.
    errors : {"record", "raise"}
        Record a point's exception in the ``error`` column (its outputs NaN) and go on, or raise it.

    Returns
    -------
    pandas.DataFrame
        One row per point: its parameters, its outputs, ``seed``, ``error``, ``wall_time_s`` and
        ``alignsim_version``.

    References
    ----------
    .. [1] M. Rocklin, "Dask: parallel computation with blocked algorithms and task scheduling", SciPy 2015.
    .. [2] cloudpickle, github.com/cloudpipe/cloudpickle (serialising interactively defined functions).

    Examples
    --------
    >>> import alignsim as a
    >>> df = a.sweep(lambda N, delta: {"kl": a.bon.bon_kl([0.5, 0.5], [0, 1], N)},
    ...              {"N": [1, 4], "delta": [0.1]}, progress=False)
    >>> df[["N", "delta", "kl"]].round(6).values.tolist()
    [[1.0, 0.1, 0.0], [4.0, 0.1, 0.459356]]
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__}")
    V.choice(backend, "backend", SWEEP_BACKENDS)
    V.choice(errors, "errors", ("record", "raise"))
    points = _points(grid)
    n_workers = (os.cpu_count() or 1) if workers is None else V.length(workers, "workers", high=1024,
                                                                         why="processes to start")
    seeds = [None] * len(points) if seed is None else [point_seed(seed, p) for p in points]
    takes = _accepts(func)
    if backend == "serial":
        results = [_call(func, p, s, takes) for p, s in track(list(zip(points, seeds)), progress, "sweep")]
    elif backend == "processes":
        blob = cloudpickle.dumps(func)
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
            futures = [pool.submit(_run_pickled, (blob, p, s, takes)) for p, s in zip(points, seeds)]
            for _ in track(cf.as_completed(futures), progress, "sweep"):
                pass
            results = [f.result() for f in futures]
    else:
        results = _dask(func, points, seeds, takes, client, n_workers, progress)
    rows = []
    for p, s, (out, error, wall) in zip(points, seeds, results):
        if error is not None and errors == "raise":
            raise RuntimeError(f"the sweep point {p} raised {error}")
        rows.append({**p, **out, "seed": s, "error": error, "wall_time_s": wall, "alignsim_version": __version__})
    df = pd.DataFrame(rows)
    front = list(points[0]) + [c for c in df.columns if c not in points[0] and c not in
                               ("seed", "error", "wall_time_s", "alignsim_version")]
    return df[front + ["seed", "error", "wall_time_s", "alignsim_version"]]


def local_cluster(n_workers: int):
    """A ``dask.distributed.LocalCluster`` of single-threaded worker processes for numeric points.

    Its workers keep glibc's own malloc trimming: Dask sets ``MALLOC_TRIM_THRESHOLD_=65536`` before spawning
    workers (to hand memory back to the OS), which also freezes glibc's mmap threshold at 128 KiB, so every array
    above it is mapped and unmapped afresh; points that allocate such arrays in a loop ran 30 % slower (measured:
    an InfAlign frontier, 0.80 s against 0.61 s). On your own cluster, set the Dask config
    ``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null`` for the same effect."""
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0")


def _dask(func, points, seeds, takes, client, n_workers, progress):
    try:
        from dask.distributed import Client, progress as dask_progress
    except ImportError:
        raise ImportError('backend="dask" needs Dask: pip install "alignsim[dask]" (dask[distributed])') from None
    own = client is None
    if own:
        cluster = local_cluster(n_workers)
        client = Client(cluster)
    elif not isinstance(client, Client):
        raise TypeError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
    try:
        blob = cloudpickle.dumps(func)
        futures = client.map(_run_pickled, [(blob, p, s, takes) for p, s in zip(points, seeds)], pure=False)
        if progress is True:
            dask_progress(futures, notebook=False)
        return client.gather(futures)
    finally:
        if own:
            client.close()
            cluster.close()
