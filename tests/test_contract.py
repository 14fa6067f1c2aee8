"""The contract of every public callable (see ``tests/contract.py``): clear errors for bad input, finite results
for extreme valid input, no mutation, no hang.

The default run tries the quick catalogue (one input of each way a value can be wrong, about 25 s); ``-m slow``
runs every case of every argument kind. A planted defect shows that the contract test can fail.
"""

import inspect
import math

import numpy as np
import pytest

import alignsim
from alignsim import divergences

from . import contract as C

CALLABLES = C.public_callables()


def test_the_catalogue_covers_every_public_callable():
    """Every callable of the modules' ``__all__`` (and every public method of an exported class) is enumerated,
    and has a valid baseline call: a new function without one fails here, naming the parameter to add."""
    assert len(CALLABLES) >= 180
    for key, func in CALLABLES.items():
        C.baseline(key, func)  # raises KeyError naming the missing parameter
    for name in ("divergences.kl", "bon.bon_law", "models.MemorylessLM.reward_law", "judge.point_error",
                 "mc.sample_bon", "infalign.UniformCTRL.win_rate", "pn.FiniteExpFamily.solve"):
        assert name in CALLABLES, name


def test_every_public_module_is_probed_or_named_as_a_machine():
    """The probed modules are a list; a new public module (``alignsim.distill`` was one) must join it or be named
    as a machine that is not probed, or this fails."""
    import pkgutil

    import alignsim

    public = {m.name for m in pkgutil.iter_modules(alignsim.__path__, "alignsim.") if not m.name.split(".")[-1]
              .startswith("_")}
    missing = public - set(C.MODULES) - set(C.NOT_PROBED)
    assert not missing, f"add {sorted(missing)} to tests/contract.py MODULES (or NOT_PROBED)"


def test_every_documented_infinity_is_in_the_docstring():
    for key, allowed in C.NONFINITE.items():
        doc = " ".join(inspect.getdoc(CALLABLES[key]).split())
        for where, words in allowed.items():
            assert " ".join(words.split()) in doc, (key, where, words)


def test_overrides_name_real_callables_and_parameters():
    for table in (C.OVERRIDES, C.KIND_OVERRIDES):
        for key, params in table.items():
            assert key in CALLABLES, key
            names = set(inspect.signature(CALLABLES[key]).parameters)
            assert set(params) <= names, (key, set(params) - names)


@pytest.mark.parametrize("key", sorted(CALLABLES))
def test_contract_quick(key):
    failures = C.probe(key, CALLABLES[key], quick=True)
    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(CALLABLES))
def test_contract_full_catalogue(key):
    failures = C.probe(key, CALLABLES[key], quick=False)
    assert not failures, "\n".join(failures)


# -- the contract test can fail ------------------------------------------------------------------------------------
def _planted(kind):
    def kl(p, q, *, axis=None):
        """A planted defect."""
        if kind == "nan":
            return math.nan
        if kind == "zero_division":
            return 1.0 / 0.0
        if kind == "mutation":
            p[0] = 0.5
            return 0.0
        if kind == "silent":
            return 0.0  # accepts everything, even NaN
        if not np.all(np.isfinite(np.asarray(p, dtype=float))):
            raise ValueError("something went wrong")  # does not name the argument
        return 0.0
    return kl


@pytest.mark.parametrize("kind, symptom", [("nan", "returned nan"), ("zero_division", "raised ZeroDivisionError"),
                                           ("mutation", "mutated"), ("silent", "accepted an invalid value"),
                                           ("unnamed", "does not name")])
def test_a_planted_defect_is_caught(kind, symptom, monkeypatch):
    planted = _planted(kind)
    monkeypatch.setattr(divergences, "kl", planted)
    failures = C.probe("divergences.kl", planted, quick=True)
    assert failures and any(symptom in f for f in failures), failures


def test_a_planted_hang_is_caught():
    """A call over its budget is a failure (interrupted at three budgets, so the suite does not hang)."""
    def slow_kl(p, q, *, axis=None):
        """A planted defect."""
        while True:
            np.linspace(0.0, 1.0, 1000).sum()
    outcome = C.call(slow_kl, {"p": C.P3, "q": C.P3}, 0.2)
    assert C.judge("divergences.kl", None, None, outcome, 0.2).endswith("(budget 0.2 s)")


def test_the_real_kl_keeps_the_contract():
    """The negative control's positive twin: the unpatched function passes the same probe."""
    assert C.probe("divergences.kl", alignsim.kl, quick=True) == []
