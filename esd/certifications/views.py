"""Views of the certifications area."""
from . import bp  # noqa: F401
