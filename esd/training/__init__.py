from flask import Blueprint

bp = Blueprint("training", __name__)

from . import views  # noqa: E402,F401
