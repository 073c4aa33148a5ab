"""The home page: where each role starts."""
from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required

bp = Blueprint("main", __name__)



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
