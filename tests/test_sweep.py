"""alignsim.sweep on every backend (a real two-worker LocalCluster), the Monte-Carlo kernels split across a
cluster (bit-identical for 1 and 2 workers), and verify on a cluster."""

import sys

import numpy as np
import pandas as pd
import pytest

import alignsim as a
from alignsim import mc

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cl, \
            distributed.Client(cl) as client:
        yield client


def _point(N, beta, seed):
    """A point that uses its seed, and one point that raises."""
    if N == 3 and beta == 0.5:
        raise ValueError("bad point")
    rng = np.random.default_rng(seed)
    return {"kl": a.bon.bon_kl([0.2, 0.3, 0.5], [0, 1, 2], N), "draw": {"u": float(rng.random())}}


GRID = {"N": [1, 2, 3, 4], "beta": [0.5, 1.0]}
SAME = ["N", "beta", "kl", "draw.u", "seed", "error", "alignsim_version"]


def test_every_backend_gives_the_same_frame(cluster):
    serial = a.sweep(_point, GRID, seed=7, progress=False)
    procs = a.sweep(_point, GRID, seed=7, backend="processes", workers=2, progress=False)
    dask = a.sweep(_point, GRID, seed=7, backend="dask", client=cluster, progress=False)
    assert list(serial.columns) == SAME[:5] + ["error", "wall_time_s", "alignsim_version"]
    pd.testing.assert_frame_equal(serial[SAME], procs[SAME])
    pd.testing.assert_frame_equal(serial[SAME], dask[SAME])
    bad = serial[serial.error.notna()]
    assert len(bad) == 1 and bad.error.item() == "ValueError: bad point" and np.isnan(bad.kl.item())
    assert serial.error.isna().sum() == 7  # the other points are intact


def test_interactive_functions_travel(cluster):
    square = lambda x: x * x  # noqa: E731 - a lambda, as typed in a notebook
    for backend, kw in (("processes", {"workers": 2}), ("dask", {"client": cluster})):
        df = a.sweep(square, {"x": [1, 2, 3]}, backend=backend, progress=False, **kw)
        assert df.value.tolist() == [1, 4, 9]


def test_seeds_follow_parameters_not_positions():
    df = a.sweep(lambda N, seed: seed, {"N": [1, 2, 3]}, seed=11, progress=False)
    rev = a.sweep(lambda N, seed: seed, pd.DataFrame({"N": [3, 1]}), seed=11, progress=False)
    assert dict(zip(rev.N, rev.seed)) == {n: s for n, s in zip(df.N, df.seed) if n in (1, 3)}
    assert df.seed.tolist() == [a.point_seed(11, {"N": n}) for n in (1, 2, 3)]
    assert a.point_seed(11, {"N": 1}) == a.point_seed(11, {"N": 1.0}) != a.point_seed(12, {"N": 1})
    rngs = a.sweep(lambda N, rng: rng.random(), {"N": [1, 2]}, seed=11, progress=False)
    assert rngs.value.tolist() == [np.random.default_rng(s).random() for s in df.seed[:2]]


def test_outputs_flatten_and_errors_raise_on_request():
    df = a.sweep(lambda x: (x, 2 * x), {"x": [1]}, progress=False)
    assert df[["value_0", "value_1"]].values.tolist() == [[1, 2]]
    with pytest.raises(RuntimeError, match="raised ValueError: bad point"):
        a.sweep(_point, GRID, seed=1, errors="raise", progress=False)
    calls = []
    a.sweep(lambda x: x, {"x": [1, 2]}, progress=lambda i, n: calls.append((i, n)))
    assert calls == [(0, 2), (1, 2)]


@pytest.mark.parametrize("kwargs,words", [
    ({"grid": {"x": []}}, "grid['x'] must be a non-empty list"),
    ({"grid": [1, 2]}, "grid must be a non-empty dict"),
    ({"backend": "ray"}, "backend must be one of"),
    ({"errors": "ignore"}, "errors must be one of"),
    ({"workers": 0, "backend": "processes"}, "workers must be an integer >= 1"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"grid": {"x": list(range(2000)), "y": list(range(1000))}}, "at most 1000000"),
])
def test_bad_input(kwargs, words):
    args = {"grid": {"x": [1]}, **kwargs}
    with pytest.raises((ValueError, TypeError)) as err:
        a.sweep(lambda x: x, progress=False, **args)
    assert words in str(err.value)


def test_dask_missing_says_which_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ImportError, match=r'pip install "alignsim\[dask\]"'):
        a.sweep(lambda x: x, {"x": [1]}, backend="dask", progress=False)


def test_monte_carlo_on_a_cluster_is_bit_identical(cluster):
    """Blocks go to two workers in whatever order they finish; each block's stream comes from its index, so the
    numbers equal the local run's (which is the one-worker case: the partition does not depend on the workers)."""
    lm = a.MemorylessLM([0.5, 0.3, 0.2], [0, 1, 2], 50)
    mk = a.MarkovLM([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [0.0, 1.0], 40, eos=0)
    client = cluster
    assert np.array_equal(mc.simulate_rewards(lm, 300_000, rng=3, client=client),
                          mc.simulate_rewards(lm, 300_000, rng=3))
    assert np.array_equal(mc.simulate_rewards(lm, 70_000, rng=3, counts=True, client=client),
                          mc.simulate_rewards(lm, 70_000, rng=3, counts=True))
    for x, y in zip(mc.simulate_markov(mk, 200_000, rng=4, client=client), mc.simulate_markov(mk, 200_000, rng=4)):
        assert np.array_equal(x, y)
    assert np.array_equal(mc.sample_bon_rewards(lm, 10 ** 6, 250_000, rng=5, client=client),
                          mc.sample_bon_rewards(lm, 10 ** 6, 250_000, rng=5))
    assert np.array_equal(mc.naive_bon([0.2, 0.3, 0.5], [0, 1, 1], 5, 100_000, rng=8, client=client),
                          mc.naive_bon([0.2, 0.3, 0.5], [0, 1, 1], 5, 100_000, rng=8))
    assert np.array_equal(mc.naive_soft_bon([0.2, 0.8], [0, 1], 4, 0.5, 100_000, rng=9, client=client),
                          mc.naive_soft_bon([0.2, 0.8], [0, 1], 4, 0.5, 100_000, rng=9))
    for x, y in zip(mc.grpo_update_mean([0.2, 0.3, 0.5], [1, 0.5, 0], 4, 100_000, rng=10, client=client),
                    mc.grpo_update_mean([0.2, 0.3, 0.5], [1, 0.5, 0], 4, 100_000, rng=10)):
        assert np.array_equal(x, y)
    assert np.array_equal(mc.sample_judge_point(5, 0.5, 0.2, 0.3, 1.0, 50_000, rng=11, client=client),
                          mc.sample_judge_point(5, 0.5, 0.2, 0.3, 1.0, 50_000, rng=11))
    # the negative control: another seed differs
    assert not np.array_equal(mc.sample_law([0.3, 0.7], 100_000, rng=6, client=client),
                              mc.sample_law([0.3, 0.7], 100_000, rng=7))


def test_verify_on_a_cluster_gives_the_same_table(cluster):
    from alignsim.checks import run_checks

    here = run_checks(only="symbolic", seed=2)
    there = run_checks(only="symbolic", seed=2, client=cluster)
    cols = ["check", "exact", "estimate", "status"]
    pd.testing.assert_frame_equal(here[cols], there[cols])


def test_verify_cli_on_a_local_cluster(capsys, monkeypatch):
    from alignsim.cli import main

    assert main(["verify", "--only", "symbolic.two_outcome_tilt", "--workers", "1", "--quiet"]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().out
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    assert main(["verify", "--only", "symbolic", "--workers", "2"]) == 2
    assert 'pip install "alignsim[dask]"' in capsys.readouterr().err
