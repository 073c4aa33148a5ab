"""CSV and ZIP exports of the records in the user's scope."""
from flask import Response, abort, render_template, request, stream_with_context
from flask_login import current_user

from ..audit import record_event
from ..extensions import db
from ..scoping import record_agency_ids, roles_required
from . import bp
from .forms import ExportForm
from .services import EXPORTS, DateRange, csv_chunks, zip_bytes

EXPORT_ROLES = ("admin", "manager")


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
@roles_required(*EXPORT_ROLES)
def index():
    """Choose a date range and download one record kind as CSV, or all as a ZIP."""
    form, _ = _validated_range()
    return render_template("exports/index.html", form=form, kinds=list(EXPORTS),
                           query=request.query_string.decode())


@bp.route("/exports/<kind>.csv")
@roles_required(*EXPORT_ROLES)
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
@roles_required(*EXPORT_ROLES)
def download_zip():
    """Every record kind, one CSV each, in a ZIP."""
    form, dates = _validated_range()
    if dates is None:
        return render_template("exports/index.html", form=form, kinds=list(EXPORTS),
                               query=request.query_string.decode()), 400
    _log_export("all", dates)
    return Response(zip_bytes(record_agency_ids(), dates), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{_filename("records", dates, "zip")}"'})
