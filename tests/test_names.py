"""Renamed public names keep working: the former name calls the new function and warns."""

import pytest

import alignsim as a
from alignsim import infalign as ia
from alignsim import regularisers as reg


@pytest.mark.parametrize("old, new, args", [
    (ia.beta_for_kl, ia.ctrl_beta_for_kl, ("identity", 0.5)),
    (ia.exp, ia.exp_transform, (2.0,)),
    (ia.log, ia.log_transform, ()),
    (reg.beta_for, reg.f_beta_for, ([0.4, 0.3, 0.3], [0.0, 1.0, 2.0], "chi2", 0.1)),
])
def test_former_names_warn_and_agree(old, new, args):
    with pytest.warns(DeprecationWarning, match=new.__name__):
        got = old(*args)
    want = new(*args)
    assert got == want or repr(got) == repr(want)


def test_former_frontier_name():
    with pytest.warns(DeprecationWarning, match="f_frontier"):
        df = reg.frontier([0.5, 0.5], [0.0, 1.0], ["chi2"], [0.5])
    assert df.equals(reg.f_frontier([0.5, 0.5], [0.0, 1.0], ["chi2"], [0.5]))


def test_former_names_stay_out_of_all():
    for mod, names in ((ia, ("beta_for_kl", "exp", "log")), (reg, ("beta_for", "frontier"))):
        assert not set(names) & set(mod.__all__)
    assert a.beta_for_kl.__module__ == "alignsim.tilting"   # the tilt's beta_for_kl is the top-level one


def test_former_keyword_of_the_reference_warns():
    with pytest.warns(DeprecationWarning, match="'p' is deprecated; use 'ref'"):
        old = a.tilt(p=[0.5, 0.5], r=[0.0, 1.0], beta=1.0)
    assert (old == a.tilt(ref=[0.5, 0.5], r=[0.0, 1.0], beta=1.0)).all()
    with pytest.warns(DeprecationWarning, match="'q' is deprecated"):
        reg.f_optimum(q=[0.5, 0.5], r=[0.0, 1.0], beta=1.0)
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="multiple values"):
        a.bon_law([0.5, 0.5], [0.0, 1.0], 2, p=[0.5, 0.5])
    with pytest.raises(TypeError, match="both 'p'"):
        a.bon_kl(p=[0.5, 0.5], ref=[0.5, 0.5], r=[0.0, 1.0], N=2)


#: Functions whose ``p`` is not a reference law: generic divergences, success probabilities, class constructors.
NOT_A_REFERENCE = {"kl", "entropy", "cross_entropy", "renyi_divergence", "renyi_entropy", "f_divergence",
                   "pass_at_k", "grpo_binary_factor", "MemorylessLM", "Bandit"}


def test_the_reference_law_is_called_ref_everywhere():
    import importlib
    import inspect

    bad = []
    for m in ("tilting", "winrate", "bon", "asymptotics", "estimators", "dynamics", "infalign", "pn", "regularisers",
              "mc"):
        mod = importlib.import_module(f"alignsim.{m}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if not callable(obj) or name in NOT_A_REFERENCE:
                continue
            try:
                params = inspect.signature(obj).parameters
            except (TypeError, ValueError):
                continue
            if {"p", "q"} & set(params):
                bad.append(f"{m}.{name}{tuple(params)}")
    assert not bad, bad


def test_former_attribute_of_the_reference_warns():
    toy = reg.goodhart_toy("G1")
    with pytest.warns(DeprecationWarning, match="use .ref"):
        assert toy.q is toy.ref
