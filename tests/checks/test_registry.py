"""The check registry and the CLI: every check passes, a wrong prediction is reported as failing."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from alignsim import verify
from alignsim.checks import _registry, _stats
from alignsim.cli import main


@pytest.fixture(scope="module")
def full_run():
    """The whole registry at seed 0, run once and shared (other seeds and thread counts: the slow test below)."""
    return verify.run_checks(seed=0)


def test_all_registered_checks_pass(full_run):
    assert len(full_run) >= 93
    assert (full_run["status"] == "pass").all(), full_run[full_run["status"] != "pass"][["check", "status", "error"]]


def test_negative_control_is_reported_as_failing(monkeypatch):
    """A deliberately wrong prediction (BoN KL = the folklore formula) must fail: the machine can fail."""
    from alignsim import bon_kl, bon_kl_bound

    checks = list(verify.CHECKS)

    def wrong(rng):
        p = rng.dirichlet(np.ones(5))
        return bon_kl_bound(8), bon_kl(p, np.arange(5.0), 8)

    checks.append(verify.Check("negative.folklore_bon_kl", "deliberately wrong", "exact BoN KL", wrong, 1e-6))
    monkeypatch.setattr(_registry, "CHECKS", checks)
    df = verify.run_checks(only="negative")
    assert list(df["status"]) == ["FAIL"]
    assert main(["verify", "--only", "negative"]) == 1


def test_monte_carlo_negative_control_fails(monkeypatch):
    """Simulated best-of-N with random ties against the law of the ordered tie rule: must be reported FAIL."""
    from alignsim import bon_law
    from alignsim.mc import naive_bon

    def wrong(rng, m):
        p, r = np.array([0.3, 0.2, 0.25, 0.25]), np.array([1.0, 2.0, 2.0, 0.0])
        return _stats.law_deviation(naive_bon(p, r, 6, m, rng=rng), bon_law(p, r, 6, ties="ordered"))

    monkeypatch.setattr(_registry, "CHECKS", list(verify.CHECKS) + [
        verify.Check("negative.ordered_ties", "deliberately wrong", "-", wrong, 0.0, monte_carlo=True)])
    df = verify.run_checks(only="negative", quick=True)
    assert list(df["status"]) == ["FAIL"]


def test_monte_carlo_checks_report_intervals(full_run):
    mcs = full_run[full_run["kind"] == "monte-carlo"]
    assert len(mcs) >= 30 and (mcs["ci"] > 0).all() and (mcs["allowed"] == mcs["ci"]).all()
    exact = full_run[full_run["kind"] == "exact"]
    assert (exact["allowed"] >= exact["tolerance"]).all()


def test_quick_run_of_one_topic():
    df = verify.run_checks(only="mc.bon", quick=True)
    assert len(df) >= 5 and (df["status"] == "pass").all()


def test_crashing_check_is_an_error_not_a_pass(monkeypatch):
    def boom(rng):
        raise ZeroDivisionError("x")

    monkeypatch.setattr(_registry, "CHECKS", [verify.Check("negative.crash", "-", "-", boom, 1.0)])
    df = verify.run_checks()
    assert df["status"].iloc[0].startswith("ERROR")


def test_same_seed_same_table():
    a = verify.run_checks(only="bon", seed=5)
    b = verify.run_checks(only="bon", seed=5)
    np.testing.assert_array_equal(a["estimate"].to_numpy(), b["estimate"].to_numpy())


def test_cli_json_and_exit_codes(capsys):
    assert main(["verify", "--only", "bon", "--format", "json", "--quick"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["check"].startswith("bon.") for r in rows)
    assert main(["verify", "--only", "mc.bon_kl_vs_naive", "--samples", "20000", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["ci"] > 0
    assert main(["verify", "--only", "no-such-check"]) == 2
    assert main(["verify", "--format", "markdown", "--only", "tilt.jeffreys"]) == 0
    assert "| check |" in capsys.readouterr().out


def test_console_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "alignsim.cli", "verify", "--only", "div"], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "passed, 0 failed" in out.stdout


def test_a_checks_instance_does_not_depend_on_the_other_checks(monkeypatch):
    """Seeding by name: adding a check in front of the registry, or removing all but one, leaves each check's
    random instance (and so its numbers) unchanged."""
    names = ["tilt.budget_roundtrip", "bon.kl_bound", "mc.bon_kl_vs_naive"]

    def table():
        return pd.concat([verify.run_checks(only=n, seed=3, samples=20_000) for n in names]).set_index("check")

    before = table()

    def dummy(rng):
        rng.random(1000)
        return 0.0, 0.0

    monkeypatch.setattr(_registry, "CHECKS", [verify.Check("aaa.dummy", "-", "-", dummy, 1.0)] + list(verify.CHECKS))
    after = table()
    np.testing.assert_array_equal(before[["exact", "estimate"]].to_numpy(), after[["exact", "estimate"]].to_numpy())
    monkeypatch.setattr(_registry, "CHECKS", [c for c in verify.CHECKS if c.name == "bon.kl_bound"])
    alone = verify.run_checks(seed=3)
    assert alone["estimate"].iloc[0] == before.loc["bon.kl_bound", "estimate"]


def test_check_seed_is_by_name():
    a = verify.check_seed(0, "bon.kl_bound").generate_state(4)
    assert np.array_equal(a, verify.check_seed(0, "bon.kl_bound").generate_state(4))
    assert not np.array_equal(a, verify.check_seed(0, "bon.kl_top_bound").generate_state(4))
    assert not np.array_equal(a, verify.check_seed(1, "bon.kl_bound").generate_state(4))
    with pytest.raises(ValueError, match="seed"):
        verify.run_checks(seed=-1, only="div")


@pytest.mark.slow
@pytest.mark.parametrize("threads", ["1", None])
def test_verify_passes_for_seeds_0_to_19_at_any_thread_count(threads):
    """No check's verdict depends on the seed or on the BLAS/OpenMP/numba thread count (about 6 minutes each)."""
    import os

    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        if threads is None:
            env.pop(var, None)
        else:
            env[var] = threads
    code = ("from alignsim.checks import run_checks\n"
            "bad = []\n"
            "for s in range(20):\n"
            "    df = run_checks(seed=s)\n"
            "    bad += [(s, c) for c, st in zip(df.check, df.status) if st != 'pass']\n"
            "print(bad)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout
