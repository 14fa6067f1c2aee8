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


# Cheaper settings for figures that take more than a few seconds at their defaults (same code paths).
FAST = {
    "infalign_frontier": {"panels": (("bon", 4, 1.0), ("won", 2, 1.0)), "intervals": 2 ** 10,
                          "table_intervals": None},
    "infalign_best_t": {"ns": (2, 8), "kls": (0.1, 0.5), "intervals": 2 ** 10},
    "infalign_optimal_policies": {"kls": (0.1, 1.0), "intervals": 2 ** 10},
    "infalign_calibration": {"ms": (1, 4, 16), "intervals": 2 ** 10},
    "judge_error_vs_k": {"ns": (200,), "betas": (0.6,), "k_max": 20, "points": 6},
    "judge_error_vs_temperature": {"ks": (4,), "points": 4},
    "judge_compute_vs_data": {"n_steps": 4, "k_steps": 4},
    "judge_decay_exponent": {"ratios": (0.3, 0.8), "ks": (1e2,)},
}


@pytest.mark.parametrize("name", list(figures.FIGURES))
def test_figure_is_reproducible_and_labelled(name):
    make = figures.FIGURES[name]
    kwargs = FAST.get(name, {})
    f1, f2 = make(**kwargs), make(**kwargs)
    assert _png(f1) == _png(f2)
    for ax in f1.axes:
        if hasattr(ax, "_colorbar"):  # a colour bar is labelled along its long side only
            assert ax.get_ylabel() or ax.get_xlabel()
        elif ax.axison:  # the simplex panel draws its own frame and labels
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


def test_infalign_frontier_markers_are_the_published_comparison():
    fig = figures.infalign_frontier(panels=(("bon", 4, 1.0),), intervals=2 ** 10)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    tuned, optimum = lines[r"exp tuned at each KL ($t^\star$)"], lines["optimal transform at the tabulated KLs"]
    # best-of-4 at KL 0.1, 0.25, 0.5, 1, 2: the exponential tuned at each KL and the optimal transform
    assert [f"{y:.4f}" for y in tuned.get_ydata()] == ["0.7059", "0.7967", "0.8727", "0.9399", "0.9822"]
    assert [f"{y:.4f}" for y in optimum.get_ydata()] == ["0.7059", "0.7969", "0.8733", "0.9411", "0.9838"]


def test_pn_acceptance_first_order_line_is_p_over_16_eps_squared():
    fig = figures.pn_acceptance(eps=(0.05,))
    first = fig.axes[0].get_lines()[0]
    p, n = first.get_xdata(), first.get_ydata()
    assert np.array_equal(n, np.ceil(p / (16 * 0.05 ** 2) - 1e-9).astype(int))


def test_figures_are_written_as_png_and_pdf_byte_for_byte(tmp_path):
    from alignsim.figures import write_figures

    first = write_figures(tmp_path / "a", only="pn_acceptance")
    second = write_figures(tmp_path / "b", only="pn_acceptance")
    assert sorted(p.suffix for p in first) == [".pdf", ".png"]
    for p, q in zip(first, second):
        assert p.read_bytes() == q.read_bytes()


def test_gallery_lists_every_figure_with_its_function(tmp_path):
    from alignsim.figures import write_gallery

    text = write_gallery(tmp_path).read_text()
    for name, make in figures.FIGURES.items():
        assert f'<img src="{name}.png"' in text
        assert f"`alignsim.figures.{make.__name__}`" in text
    assert ":math:" not in text


def test_regularisers_frontier_nothing_beats_reverse_kl_on_its_own_axis():
    q, r = [0.4, 0.3, 0.2, 0.1], [0.0, 0.5, 1.0, 1.5]
    fig = figures.regularisers_frontier(q, r)
    for line in fig.axes[1].get_lines():
        for x, y in zip(line.get_xdata(), line.get_ydata()):
            if 0 < x < a.max_kl(q, r):
                assert y <= a.optimal_reward(q, r, x) + 1e-9
