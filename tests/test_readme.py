"""The README's tour, and the longer tours of the user guide (docs/guide.md), run and print what they say."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide.md"


def test_readme_starts_with_the_two_setup_commands():
    text = README.read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1).strip().splitlines()
    assert block == ['pip install . && alignsim verify', 'pip install ".[test]" && pytest']
    assert text.index("```bash") < text.index("```python")


def test_readme_tour_runs_and_its_numbers_hold():
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)  # noqa: S102 - our own README
    a = ns["a"]
    assert a.beta_for_kl([0.7, 0.3], [0, 1], 0.1) == pytest.approx(1.10395862356, rel=1e-11)
    lm = ns["lm"]
    assert lm.bon_mean_reward(ns["N"]) / 10_000 == pytest.approx(0.5140914190, abs=1e-9)
    assert lm.tilt(a.beta_for_kl([0.7, 0.3], [0, 1], 0.1)).kl(lm) == pytest.approx(1000.0, rel=1e-12)


def test_guide_infalign_tour_numbers_hold():
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) == 4
    ns: dict = {}
    for code in blocks:
        exec(compile(code, "docs/guide.md", "exec"), ns)  # noqa: S102 - our own guide
    assert ns["pol"].win_rate("bon", 4) == pytest.approx(0.8727089, abs=1e-7)
    assert ns["opt"].win_rate == pytest.approx(0.8732505, abs=1e-7)
    ctrl = ns["ctrl"]
    assert (ctrl.kl, ctrl.win_rate("bon", 4), ctrl.win_rate("won", 4)) == pytest.approx(
        (0.6428876, 0.8141743, 0.9100284), abs=1e-7)


def test_guide_pn_tour_numbers_hold():
    ns: dict = {}
    for code in re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S):
        exec(compile(code, "docs/guide.md", "exec"), ns)  # noqa: S102 - our own guide
    assert (ns["c1"], ns["c2"]) == pytest.approx((1.0, 2.888888889), abs=1e-9)
    pn = ns["pn"]
    assert pn.exact_risk(ns["fam"], [0.2, 0.3, 0.5], 100).risk == pytest.approx(0.0103100, abs=1e-7)
    assert pn.pn_criterion(100, 0.05, ns["c1"], ns["c2"])["accept"] is True


def test_guide_judge_tour_numbers_hold():
    ns: dict = {}
    for code in re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S):
        exec(compile(code, "docs/guide.md", "exec"), ns)  # noqa: S102 - our own guide
    J, model = ns["J"], ns["model"]
    assert J.point_error(10, 0.0, 0.5, 0.0, 1.0) == pytest.approx(0.0316759024, abs=1e-10)
    assert J.point_error(8, 0.25, -0.6, 0.6, 1.0) == pytest.approx(0.3250456, abs=1e-7)
    assert J.point_optimal_k(-0.5, 0.8, 1.0) == (4, pytest.approx(0.4820740, abs=1e-7))
    assert model.error(4) == pytest.approx(0.0386893, abs=1e-7)
    assert model.best_of_k().coefficient == pytest.approx(1.9940, abs=1e-4)
    assert model.data_equivalent(2) == pytest.approx(3236.3, abs=0.05)
