"""Hypothesis profiles: ``default`` for the normal run, ``stress`` (HYPOTHESIS_PROFILE=stress) for long searches."""

import os

from hypothesis import settings

settings.register_profile("default", deadline=None, max_examples=60)
settings.register_profile("stress", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
