"""The registry behind ``alignsim verify``: one module of checks per theory topic, named as the module it checks.

Importing this package registers every check into :data:`CHECKS`; :func:`run_checks` runs a selection and
tabulates it. Each check is seeded by its name (:func:`check_seed`), so its random instance is the same whichever
other checks exist.
"""

# importing the topic modules registers their checks
from . import (asymptotics, bon, distill, divergences, dynamics, estimators, frameworks, infalign, judge, markov, models, pn,  # noqa: F401
               regularisers, rlvr, symbolic, tilting)
from ._registry import (CHECKS, DEFAULT_SAMPLES, MIN_SAMPLES, QUICK_SAMPLES, Z, Check, check, check_seed, mc_check,
                        run_checks)

__all__ = ["Check", "CHECKS", "check", "mc_check", "check_seed", "run_checks", "Z", "DEFAULT_SAMPLES", "QUICK_SAMPLES",
           "MIN_SAMPLES"]
