from flask import Blueprint

bp = Blueprint("dogs", __name__)

from . import views  # noqa: E402,F401
