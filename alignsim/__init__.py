"""alignsim: exact theory and toy simulations of KL-regularised alignment."""
from .divergences import *  # noqa: F401,F403
from .tilting import *  # noqa: F401,F403
from .winrate import *  # noqa: F401,F403
from .bon import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
