from flask import Blueprint

bp = Blueprint("certifications", __name__)

from . import cli, views  # noqa: E402,F401
