"""Views of the deployments area."""
from . import bp  # noqa: F401
