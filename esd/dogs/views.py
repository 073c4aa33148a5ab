"""Views of the dogs area."""
from . import bp  # noqa: F401
