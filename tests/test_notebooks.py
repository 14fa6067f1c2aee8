"""The teaching notebooks run top to bottom in a fresh kernel (nbclient, Agg backend) and are stored clean."""

import os
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


#: Per-cell timeout in seconds. The slowest cell takes about 40 s on an idle 2-core machine with a warm numba cache;
#: a busy machine compiling the kernels from cold has taken 73 s, so the limit leaves a wide margin.
CELL_TIMEOUT = 900


def _run(book, cwd=None):
    os.environ["MPLBACKEND"] = "Agg"  # inherited by the kernel
    nbclient.NotebookClient(book, timeout=CELL_TIMEOUT, startup_timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd or NOTEBOOKS[0].parent)}}).execute()


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_run_top_to_bottom(path):
    book = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code"), "store notebooks with outputs cleared"
    text = "\n".join(c.source for c in book.cells)
    assert "Learning goal" in text and "## Exercises" in text and "## Solutions" in text
    _run(book)


def test_notebooks_a_broken_cell_fails():
    book = nbformat.read(NOTEBOOKS[0], as_version=4)
    # the import cell and the broken one (the cells after it never run)
    book.cells = book.cells[:2] + [nbformat.v4.new_code_cell("a.tilt([0.5, 0.5], [0, 1], beta=-1.0)  # beta <= 0")]
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="beta must lie"):
        _run(book)


def _import_cell():
    book = nbformat.read(NOTEBOOKS[0], as_version=4)
    return next(c.source for c in book.cells if c.cell_type == "code" and "alignsim is not on PyPI" in c.source)


def _exec_without_installed_alignsim(source, cwd, monkeypatch):
    """Run a cell as if alignsim were not installed: its first import fails, later ones (after the cell has put
    the checkout on sys.path) succeed."""
    import builtins
    import sys

    real_import = builtins.__import__
    state = {"failed": False}

    def fake_import(name, *args, **kwargs):
        if name == "alignsim" and not state["failed"]:
            state["failed"] = True
            raise ModuleNotFoundError("No module named 'alignsim'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(cwd)
    ns: dict = {}
    exec(compile(source, "cell", "exec"), ns)  # noqa: S102 - our own notebook
    return ns


def test_first_cell_imports_the_checkout_when_alignsim_is_not_installed(monkeypatch):
    ns = _exec_without_installed_alignsim(_import_cell(), NOTEBOOKS[0].parent, monkeypatch)
    assert ns["a"].__name__ == "alignsim"
    assert str(NOTEBOOKS[0].parents[1]) in ns["sys"].path


def test_first_cell_says_how_to_install_outside_a_checkout(monkeypatch, tmp_path):
    (tmp_path / "nb").mkdir()
    with pytest.raises(ModuleNotFoundError, match="pip install"):
        _exec_without_installed_alignsim(_import_cell(), tmp_path / "nb", monkeypatch)
