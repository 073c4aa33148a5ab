from flask import Blueprint

bp = Blueprint("deployments", __name__)

from . import views  # noqa: E402,F401
