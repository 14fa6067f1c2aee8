"""The command line: version, listing, a table that fits 100 columns, explained columns, underpowered runs,
plain progress lines off a terminal, a closed pipe, bad options named."""

import subprocess
import sys

import pytest

import alignsim
from alignsim.cli import main


def _run(*args):
    return subprocess.run([sys.executable, "-m", "alignsim.cli", *args], capture_output=True, text=True, check=False)


def test_version_is_single_sourced(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"alignsim {alignsim.__version__}"
    assert alignsim.__version__ == version("alignsim")


def test_list_names_every_check(capsys):
    from alignsim.checks import CHECKS

    assert main(["verify", "--list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [c.name for c in CHECKS]


def test_default_table_fits_100_columns_and_wide_shows_sources(capsys):
    assert main(["verify", "--only", "bon", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "allowed" in out and "source" not in out
    assert main(["verify", "--only", "tilt.jeffreys", "--wide", "--quiet"]) == 0
    assert "Theoretical limits" in capsys.readouterr().out


def test_help_explains_every_column():
    out = _run("verify", "--help").stdout
    for column in ("check", "relation", "exact", "estimate", "error", "allowed", "status", "underpowered"):
        assert f"\n  {column}" in out or column in out.split("columns of the table:")[1]


def test_too_few_samples_is_underpowered_not_passed(capsys):
    assert main(["verify", "--only", "mc.bon_kl_vs_naive", "--samples", "100", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "underpowered" in out and "0 passed" in out


def test_progress_off_a_terminal_is_plain_lines():
    out = _run("verify", "--only", "div")
    assert out.returncode == 0
    assert out.stderr.splitlines() == ["[  1/2] div.renyi_uniform", "[  2/2] div.tilt_kl_vs_kl"]


def test_a_closed_pipe_gives_no_traceback(monkeypatch):
    """``alignsim verify ... | head`` closes the pipe early: main returns without a BrokenPipeError."""
    import os

    r, w = os.pipe()
    os.close(r)  # the reader is gone: the next write raises BrokenPipeError
    stream = os.fdopen(w, "w", buffering=1)
    monkeypatch.setattr(sys, "stdout", stream)
    try:
        assert main(["verify", "--only", "div", "--format", "markdown", "--quiet"]) == 1
    finally:
        monkeypatch.undo()
        try:
            stream.close()
        except BrokenPipeError:
            pass


@pytest.mark.parametrize("args, option", [(["--seed", "-1"], "--seed"), (["--samples", "0"], "--samples"),
                                          (["--seed", "x"], "--seed")])
def test_bad_options_are_named(args, option):
    out = _run("verify", *args)
    assert out.returncode == 2
    assert f"argument {option}" in out.stderr and "Traceback" not in out.stderr
