"""Views of the admin area."""
from . import bp  # noqa: F401
