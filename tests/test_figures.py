"""Figures: reproducible, labelled, and plotting the exact quantities they claim to."""

import io

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import alignsim as a  # noqa: E402
from alignsim import figures  # noqa: E402
from alignsim.cli import main  # noqa: E402


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60, metadata={"Software": None})
    return buf.getvalue()


@pytest.mark.parametrize("name", list(figures.FIGURES))
def test_figure_is_reproducible_and_labelled(name):
    make = figures.FIGURES[name]
    f1, f2 = make(), make()
    assert _png(f1) == _png(f2)
    for ax in f1.axes:
        if ax.axison:  # the simplex panel draws its own frame and labels
            assert ax.get_xlabel() and ax.get_ylabel()


def test_frontier_figure_points_lie_below_the_frontier():
    fig = figures.frontier_vs_bon(lengths=(10, 200))
    ax = fig.axes[0]
    p, r = [0.7, 0.3], [0.0, 1.0]
    for line in ax.get_lines()[1:]:
        if line.get_linestyle() != "None":
            continue
        for x, y in zip(line.get_xdata(), line.get_ydata()):
            assert y <= a.optimal_reward(p, r, x) + 1e-12  # Y-T1: nothing beats the frontier at its KL


def test_bon_figure_exact_curves_saturate_at_log_l():
    fig = figures.bon_kl_vs_formula(sizes=(10,), max_log10_n=3)
    exact = fig.axes[0].get_lines()[0]
    assert exact.get_ydata()[-1] == pytest.approx(np.log(10), rel=1e-12)


def test_cli_writes_pngs(tmp_path, capsys):
    assert main(["figures", "--outdir", str(tmp_path), "--only", "winrate"]) == 0
    assert (tmp_path / "bon_winrate_vs_kl.png").stat().st_size > 10_000
    assert main(["figures", "--outdir", str(tmp_path), "--only", "nope"]) == 2
