"""Views of the api area."""
from . import bp  # noqa: F401
