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
