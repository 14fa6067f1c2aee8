"""``alignsim.verify``: the theorem checks behind ``alignsim verify`` (kept for scripts that import it).

The registry lives in :mod:`alignsim.checks`; this module re-exports its public names.
"""

from .checks import (CHECKS, DEFAULT_SAMPLES, MIN_SAMPLES, QUICK_SAMPLES, Z, Check, check, check_seed, mc_check,
                     run_checks)

__all__ = ["Check", "CHECKS", "check", "mc_check", "check_seed", "run_checks", "Z", "DEFAULT_SAMPLES", "QUICK_SAMPLES",
           "MIN_SAMPLES"]
