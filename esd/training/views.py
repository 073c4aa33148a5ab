"""Views of the training area."""
from . import bp  # noqa: F401
