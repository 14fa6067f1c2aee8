"""alignsim: exact theory and toy simulations of KL-regularised alignment."""
from ._version import __version__  # noqa: F401
from .divergences import *  # noqa: F401,F403
from .tilting import *  # noqa: F401,F403
from .winrate import *  # noqa: F401,F403
from .bon import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .asymptotics import *  # noqa: F401,F403
from .markov import *  # noqa: F401,F403
from .infalign import ctrl_policy, inference_time_win_rate, transformed_reward  # noqa: F401
from .judge import JudgeModel  # noqa: F401
from . import dynamics, estimators, generators, infalign, judge, pn, regularisers  # noqa: F401
from ._sweep import SWEEP_BACKENDS, point_seed, sweep  # noqa: F401

_MODULES = {"divergences", "tilting", "winrate", "bon", "asymptotics", "models", "markov", "generators", "estimators",
            "dynamics", "infalign", "judge", "pn", "regularisers"}
__all__ = [n for n in dir() if not n.startswith("_") and n not in _MODULES]
