"""The home page: where each role starts."""
from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..dates import format_local
from ..units import format_temperature

bp = Blueprint("main", __name__)


@bp.app_template_filter("local_time")
def local_time(moment, where=None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored instant as a person reads it: in the zone of `where` (an agency or a zone name; UTC
    when None), with the zone's abbreviation ("2026-11-30 19:30 PST")."""
    tz = getattr(where, "timezone", where)
    return format_local(moment, tz or "UTC", fmt)


@bp.app_template_filter("temperature")
def temperature(celsius, agency) -> str:
    """A stored temperature (°C) in the agency's unit: "54.5 °F"."""
    return format_temperature(celsius, agency.temperature_unit)


@bp.route("/")
@login_required
def home():
    """Send each role to the page it works from."""
    if current_user.role == "funder" and "reports.funder_dashboard" in current_app.view_functions:
        return redirect(url_for("reports.funder_dashboard"))
    return render_template("home.html")


@bp.route("/healthz")
def healthz():
    """Liveness check for load balancers."""
    return {"status": "ok"}
