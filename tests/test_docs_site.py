"""The documentation site's sources cover the package: every public callable has an API page (a generated
autosummary entry of its module, or its class's page for a method), every answers page quotes a tracker and runs
code, and the gallery has a script for every figure topic. (Building the site and checking it in a browser is
``.ci/run``'s job: ``sphinx-build -W`` and ``docs/check_site.py``.)"""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _api():
    spec = importlib.util.spec_from_file_location("alignsim_docs_api", DOCS / "_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _objects():
    """Every object a public module lists in ``__all__``."""
    import importlib

    out = []
    for mod in _api().MODULES:
        m = importlib.import_module(f"alignsim.{mod}")
        out += [getattr(m, n) for n in getattr(m, "__all__", [])]
    top = importlib.import_module("alignsim")
    return out + [getattr(top, n) for n in top.__all__]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("api")
    return out, set(_api().write(out))


def test_every_public_callable_has_an_api_page(written):
    sys.path.insert(0, str(ROOT / "tests"))
    import contract

    out, names = written
    documented = _api().documented()
    # a method is documented on its class's page (the class template lists its members, inherited ones too)
    owners = {}
    for oid, name in documented.items():
        cls = next((o for o in _objects() if id(o) == oid), None)
        if isinstance(cls, type):
            for base in cls.__mro__[:-1]:
                for member in vars(base).values():
                    owners[id(getattr(member, "__func__", member))] = name
    missing = []
    for key, obj in contract.public_callables().items():
        target = documented.get(id(obj)) or owners.get(id(getattr(obj, "__func__", obj)))
        if target is None or target not in names:
            missing.append(key)
    assert not missing, f"public callables without an API page: {missing}"
    # and the pages list them: each generated name appears in its module's autosummary
    text = "\n".join(p.read_text() for p in out.glob("*.rst"))
    for name in names:
        assert re.search(rf"^   {re.escape(name.rsplit('.', 1)[1])}$", text, re.M), name


def test_a_new_public_name_would_need_a_page(written, monkeypatch):
    """The negative control: a name added to a module's __all__ is written into the reference."""
    import alignsim.rlvr as rlvr

    def brand_new(x):
        """A planted public function."""
        return x

    monkeypatch.setattr(rlvr, "brand_new", brand_new, raising=False)
    monkeypatch.setattr(rlvr, "__all__", [*rlvr.__all__, "brand_new"])
    out, _ = written
    names = _api().write(out / "planted")
    assert "alignsim.rlvr.brand_new" in names


@pytest.mark.parametrize("page", sorted(p.name for p in (DOCS / "answers").glob("*.md") if p.name != "index.md"))
def test_every_answer_quotes_a_tracker_and_computes(page):
    text = (DOCS / "answers" / page).read_text()
    assert re.search(r"\(https://github\.com/[\w.-]+/[\w.-]+/(issues|pull)/\d+\)", text), "no tracker reference"
    assert "```{code-cell}" in text, "no code run at build time"
    assert "**Limits of the toy.**" in text


def test_the_gallery_has_a_script_per_figure_topic():
    from alignsim.figures import FIGURES

    topics = {name.split("_")[0] for name in FIGURES}
    scripts = {p.stem.removeprefix("plot_") for p in (DOCS / "examples").glob("plot_*.py")}
    assert topics <= scripts, f"figure topics without a gallery script: {sorted(topics - scripts)}"
    for p in (DOCS / "examples").glob("plot_*.py"):
        for name in re.findall(r'FIGURES\["(\w+)"\]', p.read_text()):
            assert name in FIGURES, f"{p.name} draws an unknown figure {name}"
