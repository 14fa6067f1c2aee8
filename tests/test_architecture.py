"""The package's shape: no import circle, arrows point down the three floors, modules stay small, private names
come only from private modules."""

import ast
import pkgutil
from pathlib import Path

import pytest

import alignsim

ROOT = Path(alignsim.__file__).parent
MODULES = {m.name: m.ispkg for m in pkgutil.walk_packages(alignsim.__path__, "alignsim.")}
MODULES["alignsim"] = True

#: Floor 0: foundations (private kernels, divergences and their generators); floor 1: objects of the theory;
#: floor 2: machines that use them (Monte-Carlo, checks, figures, the CLI) and the top-level namespace.
FOUNDATIONS = {"alignsim._validate", "alignsim._levels", "alignsim._tilt", "alignsim._moments", "alignsim._lattice",
               "alignsim._kl", "alignsim._estimator_values", "alignsim._sequence_laws", "alignsim._judge_quad", "alignsim._simpson", "alignsim._progress", "alignsim._version",
               "alignsim.divergences", "alignsim.generators"}
MACHINES = ("alignsim.mc", "alignsim.checks", "alignsim.figures", "alignsim.verify", "alignsim.cli", "alignsim._sweep")


def floor(mod: str) -> int:
    if mod == "alignsim" or mod.startswith(MACHINES):
        return 2
    return 0 if mod in FOUNDATIONS else 1


def _path(mod: str) -> Path:
    rel = Path(*mod.split(".")[1:]) if mod != "alignsim" else Path()
    return ROOT / rel / "__init__.py" if MODULES[mod] else ROOT / rel.with_suffix(".py")


def _resolve(mod: str, node) -> list[tuple[str, list[str]]]:
    """Package modules an import statement of ``mod`` refers to, with the names it takes from each."""
    if isinstance(node, ast.Import):
        return [(a.name, []) for a in node.names if a.name.split(".")[0] == "alignsim"]
    if node.level == 0:
        if not (node.module or "").startswith("alignsim"):
            return []
        base = node.module
    else:
        parts = mod.split(".") if MODULES[mod] else mod.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    out = []
    for a in node.names:
        sub = f"{base}.{a.name}"
        out.append((sub, []) if sub in MODULES else (base, [a.name]))
    return out


def _edges():
    """(importer, imported, names, line) for every import of the package, module-level and function-local."""
    for mod in MODULES:
        tree = ast.parse(_path(mod).read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target, names in _resolve(mod, node):
                    if target in MODULES and target != mod:
                        yield mod, target, names, node.lineno


EDGES = list(_edges())


def test_no_import_circle():
    graph = {}
    for a, b, _, _ in EDGES:
        # a package's __init__ importing its own submodules is how it re-exports them, not a circle
        if b.startswith(a + ".") and MODULES[a]:
            continue
        graph.setdefault(a, set()).add(b)
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_arrows_point_down():
    up = [f"{a}:{line} imports {b}" for a, b, _, line in EDGES
          if floor(b) > floor(a) and not (b.startswith(a + ".") and MODULES[a])]
    assert not up, "imports from a lower floor to a higher one:\n" + "\n".join(up)


def test_private_names_only_from_private_modules():
    def private(m):
        return any(part.startswith("_") and part != "__init__" for part in m.split(".")[1:])

    bad = [f"{a}:{line} takes {names} from {b}" for a, b, names, line in EDGES
           if any(n.startswith("_") for n in names) and not private(b)]
    assert not bad, "\n".join(bad)


#: Modules allowed beyond about 800 lines, each holding one concept.
LONG: dict[str, str] = {}


@pytest.mark.parametrize("mod", sorted(MODULES))
def test_modules_stay_small(mod):
    lines = len(_path(mod).read_text().splitlines())
    assert lines <= 800 or mod in LONG, f"{mod} has {lines} lines"


def test_the_walk_sees_known_edges():
    """The test itself can fail: it finds the arrows that are known to exist."""
    pairs = {(a, b) for a, b, _, _ in EDGES}
    assert ("alignsim.bon._laws", "alignsim._levels") in pairs
    assert ("alignsim.checks.judge", "alignsim.mc") in pairs
    assert floor("alignsim.mc._kernels") == 2 and floor("alignsim._tilt") == 0 and floor("alignsim.infalign._finite") == 1
