"""The package version, in one place (read by pyproject.toml and alignsim.__version__)."""

__version__ = "0.1.0"
