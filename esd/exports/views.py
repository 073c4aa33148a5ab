"""Views of the exports area."""
from . import bp  # noqa: F401
