"""The home page: where each role starts."""
from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..assessments import home as assessments
from ..certifications import home as certifications
from ..dates import format_local
from ..extensions import db
from ..models import Agency
from ..proficiency import home as proficiency
from ..training import home as training
from ..units import format_temperature

bp = Blueprint("main", __name__)

# The home page's sections, most urgent first. Each is `fn(user, agency, today) -> dict | None`:
# None when it has nothing for this user's role; else a dict with "template" (the partial that
# renders it, given `section`), "title" (a few words; the admin's column heading) and "count"
# (items needing a manager, 0 when none: then a manager's page leaves it out; None for a
# handler's sections, always shown). Managers and admins get the manager's version.
HOME_SECTIONS = (
    ("certifications", certifications.home_section),
    ("sign_off", training.sign_off_section),
    ("hours", training.hours_section),
    ("readiness", proficiency.readiness_section),
    ("failed_reminders", certifications.failed_reminders_section),
    ("trainer", assessments.trainer_section),
    ("last_sessions", training.last_sessions_section),
)


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
    if current_user.role == "admin":
        return render_template("home_admin.html", **admin_overview(current_user))
    if current_user.agency is None:
        return render_template("home.html", sections=[], agency=None, today=None)
    agency = current_user.agency
    today = agency.today()
    sections = home_sections(current_user, agency, today)
    return render_template("home.html", sections=sections, agency=agency, today=today,
                           nothing_to_do=current_user.role == "manager" and not sections)


def home_sections(user, agency: Agency, today) -> list[dict]:
    """The sections this user's home page shows, in page order (a manager's only where something waits)."""
    shown = []
    for name, section in HOME_SECTIONS:
        found = section(user, agency, today)
        if found is not None and found["count"] != 0:
            shown.append({"name": name, **found})
    return shown


def admin_overview(user) -> dict:
    """Every active agency with its count of each manager item, for the admin's home page."""
    agencies = list(db.session.scalars(select(Agency).where(Agency.archived_at.is_(None)).order_by(Agency.name)))
    titles, rows = {}, []
    for agency in agencies:
        counts = {}
        for name, section in HOME_SECTIONS:
            found = section(user, agency, agency.today())
            if found is not None and found["count"] is not None:
                titles.setdefault(name, found["title"])
                counts[name] = found["count"]
        rows.append({"agency": agency, "counts": counts, "total": sum(counts.values())})
    return {"titles": titles, "rows": rows}


@bp.route("/healthz")
def healthz():
    """Liveness check for load balancers."""
    return {"status": "ok"}
