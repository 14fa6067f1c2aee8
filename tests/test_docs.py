"""Every public function documents its formula, a reference and a runnable example; the examples are correct."""

import doctest
import importlib
import inspect
import pkgutil

import pytest

import alignsim

#: Every module of the package, private ones included (topic packages keep their code in private modules).
MODULES = sorted(m.name for m in pkgutil.walk_packages(alignsim.__path__, "alignsim."))


def _exported_from(modname):
    """Public functions and classes that some module's ``__all__`` exports and that are defined in ``modname``."""
    out = []
    for name in MODULES + ["alignsim"]:
        mod = importlib.import_module(name)
        for attr in getattr(mod, "__all__", ()):
            obj = getattr(mod, attr)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == modname:
                out.append(obj)
    return out


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if _exported_from(name) and name != "alignsim.figures" and not name.startswith(("alignsim.cli", "alignsim.verify",
                                                                                "alignsim.checks")):
        assert result.attempted > 0, f"{name} defines public callables but runs no example"


def _public():
    seen = set()
    for modname in ["alignsim"] + MODULES:
        mod = importlib.import_module(modname)
        if modname.rsplit(".", 1)[-1].startswith("_") and modname != "alignsim":
            continue
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                yield f"{mod.__name__}.{name}", obj


THEORY = ("alignsim", "alignsim.estimators", "alignsim.dynamics", "alignsim.infalign", "alignsim.pn",
          "alignsim.regularisers", "alignsim.judge", "alignsim.distill", "alignsim.markov", "alignsim.rlvr",
          "alignsim.frameworks", "alignsim.symbolic")


@pytest.mark.parametrize("name, obj", [(n, o) for n, o in _public() if n.rsplit(".", 1)[0] in THEORY])
def test_public_docstrings_have_formula_reference_example(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert "Examples" in doc, f"{name}: no Examples section"
    assert ":math:" in doc or ".. math::" in doc, f"{name}: no formula"
    assert "References" in doc or ".. [1]" in doc, f"{name}: no reference"


def _callables():
    """Every public function, class and public method exported by a public module's ``__all__``."""
    seen = set()
    for modname in ["alignsim"] + MODULES:
        if any(part.startswith("_") for part in modname.split(".")[1:]):
            continue
        mod = importlib.import_module(modname)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            members = [(f"{modname}.{name}", obj)]
            if inspect.isclass(obj):
                members += [(f"{modname}.{name}.{k}", v) for k, v in vars(obj).items()
                            if not k.startswith("_") and (inspect.isfunction(v) or isinstance(v, (classmethod, staticmethod)))]
            for qual, member in members:
                func = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
                if (inspect.isfunction(func) or inspect.isclass(func)) and id(func) not in seen:
                    seen.add(id(func))
                    yield qual, func


@pytest.mark.parametrize("name, obj", list(_callables()))
def test_public_callables_document_parameters_and_returns(name, obj):
    doc = inspect.getdoc(obj) or ""
    sections = {line.strip() for line, under in zip(doc.splitlines(), doc.splitlines()[1:]) if set(under.strip()) == {"-"}}
    params = [p for p in inspect.signature(obj).parameters if p not in ("self", "cls")]
    if inspect.isclass(obj):
        assert not params or sections & {"Parameters", "Attributes"}, f"{name}: no Parameters/Attributes section"
        return
    if params:
        assert "Parameters" in sections, f"{name}: no Parameters section"
        lines = doc.splitlines()
        start = next(i for i, (a, b) in enumerate(zip(lines, lines[1:])) if a.strip() == "Parameters" and set(b.strip()) == {"-"})
        documented = set()
        for i in range(start + 2, len(lines)):
            if i + 1 < len(lines) and lines[i + 1].strip() and set(lines[i + 1].strip()) == {"-"}:
                break  # the next section
            if lines[i] and not lines[i].startswith(" "):
                documented.update(n.strip().lstrip("*") for n in lines[i].split(" : ")[0].split(","))  # numpydoc: **kwargs
        missing = [p for p in params if p not in documented and p.lstrip("*") not in documented]
        assert not missing, f"{name}: parameters not documented: {missing}"
    assert sections & {"Returns", "Yields"}, f"{name}: no Returns section"
