"""CSV and ZIP exports of the records in the user's scope, and the dog's reliability record."""
from datetime import date

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_login import current_user
from werkzeug.utils import secure_filename

from ..audit import record_event
from ..extensions import db
from ..models import Deployment, Dog, utcnow
from ..parsing import EARLIEST_DAY, parse_day
from ..roles import MANAGE_ROLES
from ..scoping import record_agency_ids, roles_required, scoped_get_or_404
from ..verification.services import issue
from ..verification.signing import sign_pdf
from .forms import ExportForm
from .packet import build_packet, data_uri, document
from .pdf import render_pdf
from .services import EXPORTS, DateRange, csv_chunks, zip_bytes

bp = Blueprint("exports", __name__)


def _validated_range():
    """The date range from the query string, or None with the form holding the errors."""
    form = ExportForm(request.args)
    if not form.validate():
        return form, None
    return form, DateRange(form.start.data, form.end.data)


def _log_export(what: str, dates: DateRange) -> None:
    """Exports carry case data: who took what is audited."""
    record_event("export", what, user_id=current_user.id, agency_id=current_user.agency_id,
                 changes={"start": str(dates.start or ""), "end": str(dates.end or "")})
    db.session.commit()


def _filename(stem: str, dates: DateRange, ext: str) -> str:
    span = f"_{dates.start or 'start'}_{dates.end or 'today'}" if (dates.start or dates.end) else ""
    return f"esd-{stem}{span}.{ext}"


@bp.route("/exports")
@roles_required(*MANAGE_ROLES)
def index():
    """Choose a date range and download one record kind as CSV, or all as a ZIP."""
    form, _ = _validated_range()
    return render_template("exports/index.html", form=form, kinds=list(EXPORTS),
                           query=request.query_string.decode())


@bp.route("/exports/<kind>.csv")
@roles_required(*MANAGE_ROLES)
def download(kind):
    """One record kind as CSV."""
    if kind not in EXPORTS:
        abort(404)
    form, dates = _validated_range()
    if dates is None:
        return render_template("exports/index.html", form=form, kinds=list(EXPORTS),
                               query=request.query_string.decode()), 400
    _log_export(kind, dates)
    agency_ids = record_agency_ids()
    body = stream_with_context(csv_chunks(kind, agency_ids, dates))
    return Response(body, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{_filename(kind, dates, "csv")}"'})


@bp.route("/exports/all.zip")
@roles_required(*MANAGE_ROLES)
def download_zip():
    """Every record kind, one CSV each, in a ZIP."""
    form, dates = _validated_range()
    if dates is None:
        return render_template("exports/index.html", form=form, kinds=list(EXPORTS),
                               query=request.query_string.decode()), 400
    _log_export("all", dates)
    return Response(zip_bytes(record_agency_ids(), dates), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{_filename("records", dates, "zip")}"'})


# --------------------------------------------------------------------------- reliability record


def dog_section(dog, today, user) -> dict | None:
    """The dog page's reliability-record form, for those who may build the packet (None otherwise)."""
    return {"as_of": today} if user.role in MANAGE_ROLES else None


def _as_of(default: date) -> date:
    """The as-of date from the query string; 400 with a message when it is not a date."""
    raw = request.args.get("as_of")
    if not raw:
        return default
    try:
        return parse_day(raw, latest=date.max)  # a future day is refused below, with its own message
    except ValueError:
        abort(400, description=f"as_of must be a date like 2026-03-31, from {EARLIEST_DAY} on.")


def _packet_response(dog, as_of: date, fmt: str, deployment=None):
    if as_of > dog.agency.today():
        abort(400, description="The as-of date is in the future.")
    packet = build_packet(dog, as_of, current_user._get_current_object(), utcnow())
    issue(packet, current_user._get_current_object(), deployment)
    record_event("reliability_record", "dog", dog.id, user_id=current_user.id, agency_id=dog.agency_id,
                 changes={"as_of": as_of.isoformat(), "format": fmt, "digest": packet.digest,
                          "code": packet.code})
    db.session.commit()
    doc = document(packet)
    if fmt == "pdf":
        filename = f"reliability-{secure_filename(dog.name) or dog.id}-{as_of}.pdf"
        pdf = sign_pdf(render_pdf(doc), reason=f"Reliability record of {dog.name} as of {as_of}, "
                                              f"verification code {packet.code}")
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename}"'})
    return render_template("exports/packet.html", packet=packet, doc=doc, data_uri=data_uri,
                           deployment=deployment)


@bp.route("/dogs/<int:dog_id>/reliability-record")
@bp.route("/dogs/<int:dog_id>/reliability-record.<any(pdf):fmt>")
@roles_required(*MANAGE_ROLES)
def reliability_record(dog_id, fmt="html"):
    """The dog's training, certification and field record as of a date: printable page or PDF."""
    dog = scoped_get_or_404(Dog, dog_id)
    return _packet_response(dog, _as_of(dog.agency.today()), fmt)


@bp.route("/deployments/<int:deployment_id>/packet")
@bp.route("/deployments/<int:deployment_id>/packet.<any(pdf):fmt>")
@roles_required(*MANAGE_ROLES)
def deployment_packet(deployment_id, fmt="html"):
    """The reliability record of the deployment's dog as of the deployment date."""
    deployment = scoped_get_or_404(Deployment, deployment_id)
    as_of = deployment.dog.agency.local(deployment.started_at).date()
    return _packet_response(deployment.dog, as_of, fmt, deployment)
