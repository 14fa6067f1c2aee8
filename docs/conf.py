"""Sphinx configuration of alignsim's documentation site.

Build: ``pip install ".[docs]" && sphinx-build -W -b html docs docs/_build/html``. Everything generated (the API
stubs, the copied notebooks, the gallery) is written under ``docs`` and ignored by git.
"""

from __future__ import annotations

import os
import shutil
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import alignsim  # noqa: E402
import _api  # noqa: E402

project = "alignsim"
author = "The alignsim developers"
copyright = "2026, The alignsim developers"
version = release = alignsim.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx_copybutton",
    "sphinx_gallery.gen_gallery",
    "myst_nb",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "examples", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5", "**.ipynb_checkpoints"]
# numpydoc's per-docstring citations are listed, not cited in the text; the gallery's configuration holds the scraper
suppress_warnings = ["ref.citation", "config.cache"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# -- the API reference: generated from the package on every build (every public name has a page) ----------------
_api.write(HERE / "api")
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# -- the teaching notebooks: copied next to the sources and executed at build time --------------------------------
_nb_out = HERE / "tutorials" / "notebooks"
if _nb_out.exists():
    shutil.rmtree(_nb_out)
_nb_out.mkdir(parents=True)
for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
    shutil.copy(nb, _nb_out / nb.name)
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
myst_enable_extensions = ["dollarmath", "amsmath"]
nb_merge_streams = True

# -- the gallery: one script per figure topic; the package's figures are plain Figures, so a scraper collects
# every matplotlib Figure a code block leaves in the script's globals --------------------------------------------
def _figure_scraper(block, block_vars, gallery_conf, **kwargs):
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    paths = []
    for value in list(block_vars["example_globals"].values()):
        if isinstance(value, Figure) and not getattr(value, "_alignsim_scraped", False):
            path = next(block_vars["image_path_iterator"])
            value.savefig(path, dpi=90)
            value._alignsim_scraped = True
            paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])


sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "image_scrapers": (_figure_scraper, "matplotlib"),
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}

# -- cross-references to the scientific Python stack: the projects' inventories online, or, offline (CI has no
# network but the package registries), a small local inventory of the names alignsim's docs refer to -------------
_LOCAL = {
    "numpy": ("https://numpy.org/doc/stable/", [("numpy.ndarray", "class", "reference/generated/numpy.ndarray.html"),
                                               ("numpy.random.Generator", "class",
                                                "reference/random/generator.html"),
                                               ("numpy.random.SeedSequence", "class",
                                                "reference/random/bit_generators/generated/"
                                                "numpy.random.SeedSequence.html")]),
    "scipy": ("https://docs.scipy.org/doc/scipy/", [("scipy.stats.entropy", "function",
                                                    "reference/generated/scipy.stats.entropy.html"),
                                                   ("scipy.integrate.cumulative_simpson", "function",
                                                    "reference/generated/scipy.integrate.cumulative_simpson.html")]),
    "pandas": ("https://pandas.pydata.org/docs/", [("pandas.DataFrame", "class",
                                                   "reference/api/pandas.DataFrame.html")]),
    "matplotlib": ("https://matplotlib.org/stable/", [("matplotlib.figure.Figure", "class",
                                                      "api/_as_gen/matplotlib.figure.Figure.html")]),
    "sympy": ("https://docs.sympy.org/latest/", [("sympy.core.expr.Expr", "class", "modules/core.html")]),
}


def _local_inventory(name: str, entries) -> str:
    path = HERE / "_build" / "inventories" / f"{name}.inv"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{obj} py:{role} 1 {uri}#$ -\n" for obj, role, uri in entries)
    head = f"# Sphinx inventory version 2\n# Project: {name}\n# Version: \n# The remainder of this file is compressed using zlib.\n"
    path.write_bytes(head.encode() + zlib.compress(body.encode()))
    return str(path)


intersphinx_mapping = {name: (url, (None, _local_inventory(name, entries))) for name, (url, entries) in _LOCAL.items()}
intersphinx_timeout = 5

# -- MathJax: the local copy when one is given (CI checks the site offline), else its CDN --------------------------
_mathjax = os.environ.get("ALIGNSIM_MATHJAX_DIR")
if _mathjax:
    shutil.copytree(_mathjax, HERE / "_static" / "mathjax", dirs_exist_ok=True)
    mathjax_path = "mathjax/tex-chtml.js"

# -- the page -----------------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "alignsim"
html_static_path = ["_static"]
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "secondary_sidebar_items": ["page-toc"],
    "show_toc_level": 2,
}
html_show_sourcelink = False

_api.write_bibliography(HERE / "_generated_bibliography.rst")
