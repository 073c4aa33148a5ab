"""Every dog side by side: the proficiency matrix, the hides behind a cell, readiness gaps, the next session."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from ..forms import form_status
from ..admin.forms import StandardsForm
from ..admin.services import save_standards
from ..audit import audit_reason
from ..dogs.forms import choices
from ..extensions import db
from ..parsing import parse_id
from ..models import Agency, Dog
from ..reports import cache as report_cache
from ..reports import metrics
from ..roles import MANAGE_ROLES, RECORD_ROLES
from ..scoping import roles_required, scoped_get_or_404
from ..spreadsheets import csv_text
from . import readiness
from .forms import HideListForm, MatrixForm
from .matrix import (ASPECT_LABELS, ASPECT_SINGULAR, FIXED_VALUES, MIN_HIDES, VERDICT_LABELS, build_matrix,
                     column_labels, csv_rows, period)

bp = Blueprint("proficiency", __name__)


def _agency(form: MatrixForm) -> Agency | None:
    """The agency shown: a manager's or handler's own (another one named is 404); an admin's choice or the first."""
    chosen = form.agency.data if isinstance(form.agency.data, int) else None
    if current_user.role != "admin":
        if chosen is not None and chosen != current_user.agency_id:
            abort(404)
        return current_user.agency
    agencies = list(db.session.execute(select(Agency.id, Agency.name).where(Agency.archived_at.is_(None))
                                       .order_by(Agency.name)))
    form.agency.choices = choices((a.id, a.name) for a in agencies)
    if chosen is not None:
        agency = db.session.get(Agency, chosen)
        if agency is None:
            abort(404)
        return agency
    return db.session.get(Agency, agencies[0].id) if agencies else None


def _read_form(form_class=MatrixForm):
    form = form_class(request.args)
    agency = _agency(form)
    if form.agency.data is None and agency is not None:
        form.agency.data = agency.id
    return form, agency, form.validate()


def _filters(form: MatrixForm, agency: Agency, dog_id: int | None = None) -> metrics.Filters:
    start, end = period(agency.today(), form.period_days())
    return metrics.build_filters(current_user, agency_id=agency.id, dog_id=dog_id, start=start, end=end,
                                 blind_only=form.blind.data)


def _args(form: MatrixForm, agency: Agency, **more) -> dict:
    args = {"by": form.by.data, "days": form.period_days()}
    if form.blind.data:
        args["blind"] = "y"
    if current_user.role == "admin":
        args["agency"] = agency.id
    return {**args, **more}


def _matrix(form: MatrixForm, agency: Agency, filters: metrics.Filters, version: tuple):
    what = ("proficiency matrix", form.by.data, agency.proficiency_standard)
    return report_cache.report(what, filters, lambda: build_matrix(
        filters, readiness.working_dogs(agency.id), form.by.data, agency.proficiency_standard,
        ZoneInfo(agency.timezone)), version)


@bp.route("/proficiency")
@roles_required(*RECORD_ROLES)
def matrix():
    """Every working dog's find rate per device type (hiding spot, concealment, height) against the standard."""
    form, agency, valid = _read_form()
    context = {"form": form, "agency": agency, "labels": ASPECT_LABELS, "verdicts": VERDICT_LABELS,
               "min_hides": MIN_HIDES}
    if agency is None or not valid:
        return render_template("proficiency/matrix.html", body=None, **context), 400 if agency else 200
    filters = _filters(form, agency)
    version = report_cache.data_version(filters)
    args = _args(form, agency)

    def make():
        table = _matrix(form, agency, filters, version)
        return str(render_template("proficiency/_matrix_body.html", matrix=table, filters=filters, args=args,
                                   **context))
    body = report_cache.report(("proficiency page", sorted(args.items())), filters, make, version)
    return render_template("proficiency/matrix.html", body=Markup(body), args=args, **context)


@bp.route("/proficiency.csv")
@roles_required(*RECORD_ROLES)
def matrix_csv():
    """The matrix as CSV: one row per dog and column, with counts, interval and verdict."""
    form, agency, valid = _read_form()
    if agency is None:
        abort(404)
    if not valid:
        field, errors = next(iter(form.errors.items()))
        return Response(f"{field}: {errors[0]}\n", status=400, mimetype="text/plain")
    filters = _filters(form, agency)
    rows = csv_rows(_matrix(form, agency, filters, report_cache.data_version(filters)))
    return Response(csv_text(rows[0], rows[1:], bom=True), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="esd-proficiency-{form.by.data}.csv"'})


@bp.route("/proficiency/hides")
@roles_required(*RECORD_ROLES)
def cell_hides():
    """The hides behind one cell of the matrix: one dog, one device type (spot, concealment, height), the period."""
    form = HideListForm(request.args)
    if not isinstance(form.dog.data, int):
        abort(404)
    dog = scoped_get_or_404(Dog, form.dog.data)
    agency = dog.agency
    if isinstance(form.agency.data, int) and form.agency.data != agency.id:
        abort(404)
    form.agency.choices = []
    if not form.validate():
        return render_template("proficiency/hides.html", form=form, dog=dog, rows=None, label=None), 400
    aspect, value = form.by.data, (form.value.data or "").strip()
    if aspect in FIXED_VALUES:
        if value not in FIXED_VALUES[aspect]:
            abort(404)
        key = value
    else:
        if not value.isascii() or not value.isdigit() or len(value) > 12:
            abort(404)
        key = int(value)
    label = column_labels(aspect, {value})[value]
    if label == "?":
        abort(404)
    filters = _filters(form, agency, dog_id=dog.id)
    rows = metrics.cell_hides(filters, aspect, key)
    found = sum(1 for hide, _ in rows if hide.outcome == "found")
    return render_template("proficiency/hides.html", form=form, dog=dog, rows=rows, label=label, found=found,
                           aspect=ASPECT_SINGULAR[aspect], filters=filters, limit=500,
                           back=_args(form, agency))


@bp.route("/readiness")
@roles_required(*RECORD_ROLES)
def gaps():
    """What each working dog of the agency has not trained recently, most gaps first."""
    form, agency, valid = _read_form()
    if agency is None:
        return render_template("proficiency/readiness.html", form=form, agency=None, gaps=[])
    today = agency.today()
    dog_gaps = readiness.cached_agency_gaps(agency, today)
    return render_template("proficiency/readiness.html", form=form, agency=agency, gaps=dog_gaps, today=today,
                           admin_args={"agency": agency.id} if current_user.role == "admin" else {})


@bp.route("/readiness/dogs/<int:dog_id>")
@roles_required(*RECORD_ROLES)
def next_session(dog_id):
    """The suggested next session of one dog: 5–8 hides aimed at its weakest and stalest combinations."""
    dog = scoped_get_or_404(Dog, dog_id)
    if dog.archived_at is not None or dog.status == "retired":
        abort(404)
    plan = readiness.cached_plan(dog)
    return render_template("proficiency/next_session.html", dog=dog, plan=plan, agency=dog.agency)


@bp.route("/proficiency/standards", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def standards():
    """A manager (or an admin, for the agency named) sets the proficiency standard and the readiness window."""
    agency_id = parse_id(request.args.get("agency")) or current_user.agency_id  # a huge or bad id is 404
    if agency_id is None:  # an admin without a choice: the first agency, as on the matrix
        agency_id = db.session.scalar(select(Agency.id).where(Agency.archived_at.is_(None)).order_by(Agency.name))
    agency = scoped_get_or_404(Agency, agency_id or 0)
    form = StandardsForm(obj=agency) if request.method == "GET" else StandardsForm()
    if form.validate_on_submit():
        save_standards(agency, form.data)
        audit_reason("Training standards edited")
        db.session.commit()
        flash(f"{agency.name}: dogs are held to {agency.proficiency_standard}%, gaps after "
              f"{agency.readiness_window_days} days.", "success")
        return redirect(url_for("proficiency.matrix", **({"agency": agency.id} if current_user.role == "admin" else {})))
    return render_template("proficiency/standards.html", form=form, agency=agency), \
        form_status()
