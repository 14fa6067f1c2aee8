"""The teaching notebooks run top to bottom in a fresh kernel (nbclient, Agg backend) and are stored clean."""

import os
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _run(book):
    os.environ["MPLBACKEND"] = "Agg"  # inherited by the kernel
    nbclient.NotebookClient(book, timeout=60, kernel_name="python3").execute()


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
    book.cells.insert(2, nbformat.v4.new_code_cell("a.tilt([0.5, 0.5], [0, 1], beta=-1.0)  # invalid: beta <= 0"))
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="beta must lie"):
        _run(book)
