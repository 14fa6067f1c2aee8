"""alignsim: exact theory and toy simulations of KL-regularised alignment."""
from .divergences import *  # noqa: F401,F403
from .tilting import *  # noqa: F401,F403
