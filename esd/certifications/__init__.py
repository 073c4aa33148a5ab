from flask import Blueprint

bp = Blueprint("certifications", __name__)

from . import views  # noqa: E402,F401
