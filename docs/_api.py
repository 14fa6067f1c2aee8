"""Writes the API reference's sources (``docs/api``) from the package itself, so that every public name has a
page: one page per public module, one generated page per name of its ``__all__`` (classes with their methods),
and a table of the names the top-level package re-exports. Run by ``conf.py`` on every build."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

#: The public modules, in the order of the reference (the floors of the package: foundations first).
MODULES = ("divergences", "tilting", "winrate", "bon", "models", "markov", "asymptotics", "generators",
           "estimators", "dynamics", "regularisers", "infalign", "judge", "pn", "distill", "rlvr", "frameworks",
           "symbolic", "mc", "figures", "verify")


def documented() -> dict[str, str]:
    """Every public object's documented name (``alignsim.<module>.<name>``), keyed by ``id``, plus the top-level
    names that no submodule lists (documented as ``alignsim.<name>``)."""
    names: dict[int, str] = {}
    for mod in MODULES:
        m = importlib.import_module(f"alignsim.{mod}")
        for name in getattr(m, "__all__", []):
            names.setdefault(id(getattr(m, name)), f"alignsim.{mod}.{name}")
    top = importlib.import_module("alignsim")
    for name in top.__all__:
        names.setdefault(id(getattr(top, name)), f"alignsim.{name}")
    return names


def _first_line(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n")[0].replace("\n", " ")


def write(out: Path) -> list[str]:
    """Write ``index.rst`` and one page per module into ``out``; return every documented name."""
    out.mkdir(parents=True, exist_ok=True)
    names = documented()
    pages, everything = [], []
    for mod in MODULES:
        m = importlib.import_module(f"alignsim.{mod}")
        own = [n for n in getattr(m, "__all__", []) if names[id(getattr(m, n))] == f"alignsim.{mod}.{n}"]
        title = f"``alignsim.{mod}``"
        lines = [title, "=" * len(title), "", f".. automodule:: alignsim.{mod}", "   :no-members:", "",
                 f".. currentmodule:: alignsim.{mod}", ""]
        if own:
            lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
            for n in own:
                lines.append(f"   {n}")
                everything.append(f"alignsim.{mod}.{n}")
            lines.append("")
        (out / f"{mod}.rst").write_text("\n".join(lines))
        pages.append(mod)
    # the names only the top level exports
    top = importlib.import_module("alignsim")
    rest = [n for n in top.__all__ if names[id(getattr(top, n))] == f"alignsim.{n}"]
    lines = ["``alignsim`` (top level)", "=" * 24, "", ".. currentmodule:: alignsim", "",
             "The top-level package re-exports the most used names of its modules (``import alignsim as a``;",
             "``a.tilt`` is :func:`alignsim.tilting.tilt`), and holds the sweep helpers:", ""]
    if rest:
        lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
        lines += [f"   {n}" for n in rest] + [""]
        everything += [f"alignsim.{n}" for n in rest]
    lines += ["Re-exported names", "-----------------", "", ".. list-table::", "   :header-rows: 1", "",
              "   * - ``alignsim.``\\ name", "     - documented as"]
    for n in top.__all__:
        target = names[id(getattr(top, n))]
        if target != f"alignsim.{n}":
            role = "class" if inspect.isclass(getattr(top, n)) else "func" if callable(getattr(top, n)) else "data"
            lines += [f"   * - ``{n}``", f"     - :{role}:`{target}`"]
    (out / "alignsim.rst").write_text("\n".join(lines) + "\n")
    index = ["API reference", "=============", "",
             "One page per module; each function and class has its own page with its formula, parameters,",
             "references and a runnable example. The modules sit on three floors (foundations, theory objects,",
             "machines that run or draw them); arrows point down only.", "", ".. toctree::", "   :maxdepth: 1", "",
             "   alignsim"] + [f"   {p}" for p in pages]
    (out / "index.rst").write_text("\n".join(index) + "\n")
    return everything


def write_bibliography(path: Path) -> int:
    """Gather the ``.. [n]`` references of every documented object's docstring into one list (the citing names
    beside each), written as reStructuredText to ``path``; return the number of distinct references."""
    import re

    refs: dict[str, set[str]] = {}
    seen = set()
    for mod in MODULES:
        m = importlib.import_module(f"alignsim.{mod}")
        objs = [(f"alignsim.{mod}.{n}", getattr(m, n)) for n in getattr(m, "__all__", [])]
        for name, obj in list(objs):
            if inspect.isclass(obj):
                objs += [(f"{name}.{k}", v) for k, v in vars(obj).items() if not k.startswith("_") and callable(v)]
        for name, obj in objs:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            doc = inspect.getdoc(obj) or ""
            if "References" not in doc:
                continue
            block = doc.split("References", 1)[1].split("Examples", 1)[0]
            for entry in re.split(r"\n\.\. \[\w+\] ", "\n" + block.split("\n", 2)[-1]):
                text = " ".join(entry.split())
                if len(text) > 15:
                    refs.setdefault(text, set()).add(name)
    lines = []
    for text in sorted(refs, key=str.lower):
        cited = ", ".join(f":obj:`~{n}`" for n in sorted(refs[text])[:6])
        more = f" and {len(refs[text]) - 6} more" if len(refs[text]) > 6 else ""
        lines += [f"- {text}", "", f"  *Cited by* {cited}{more}.", ""]
    path.write_text("\n".join(lines) + "\n")
    return len(refs)
