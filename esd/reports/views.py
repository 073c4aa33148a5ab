"""Dashboards and chart images: thin views over `metrics` and `charts`."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from flask import Response, abort, jsonify, render_template, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import false, func, select

from ..extensions import db
from ..models import Agency, Dog, Handler
from ..scoping import aggregate_agency_ids, record_agency_ids, roles_required, scope_clause
from . import bp, metrics
from . import cache as report_cache
from .charts import CHARTS, FORMATS, IMPACT_CHARTS, TRAINING_CHARTS, cached_table, chart_bytes, data_version
from .forms import ReportFilterForm

RECORD_ROLES = ("admin", "manager", "handler")
ALL_ROLES = ("admin", "manager", "handler", "funder")


def _default_period(today: date) -> tuple[date, date]:
    """The last twelve months, this one included."""
    year, month = today.year, today.month - 11
    if month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1), today


def _form(with_people: bool, default_period: bool) -> ReportFilterForm:
    """The filter form read from the query string, its choices limited to the user's scope."""
    form = ReportFilterForm(request.args)
    agency_ids = aggregate_agency_ids()
    # (id, name) rows, not ORM objects: every dashboard and chart request builds these choices.
    agencies = db.session.execute(_agencies(agency_ids).with_only_columns(Agency.id, Agency.name)
                                  .order_by(Agency.name)).all()
    form.agency.choices = [("", "All agencies in scope")] + [(a.id, a.name) for a in agencies]
    if with_people:
        ids = record_agency_ids()
        chosen = form.agency.data if isinstance(form.agency.data, int) else None
        dogs = db.session.execute(_people(Dog, ids, chosen).with_only_columns(Dog.id, Dog.name)
                                  .order_by(Dog.name)).all()
        handlers = db.session.execute(_people(Handler, ids, chosen).with_only_columns(Handler.id, Handler.name)
                                      .order_by(Handler.name)).all()
        form.dog.choices = [("", "All dogs")] + [(d.id, d.name) for d in dogs]
        form.handler.choices = [("", "All handlers")] + [(h.id, h.name) for h in handlers]
    if default_period and not request.args.get("start") and not request.args.get("end"):
        form.start.data, form.end.data = _default_period(date.today())
    return form


def _agencies(agency_ids):
    """Agencies in scope (an agency is its own scope), not archived."""
    stmt = select(Agency).where(Agency.archived_at.is_(None))
    if agency_ids is not None:
        stmt = stmt.where(Agency.id.in_(agency_ids) if agency_ids else false())
    return stmt


def _people(model, agency_ids, chosen):
    stmt = select(model).where(model.archived_at.is_(None))
    clause = scope_clause(model, agency_ids)
    if clause is not None:
        stmt = stmt.where(clause)
    if chosen:
        stmt = stmt.where(model.agency_id == chosen)
    return stmt


def _filters(form: ReportFilterForm, with_people: bool) -> metrics.Filters | None:
    """Filters from a valid form (404 for anything out of scope); None when the form has errors."""
    if not form.validate():
        return None
    return metrics.build_filters(current_user, agency_id=form.agency.data,
                                 dog_id=form.dog.data if with_people else None,
                                 handler_id=form.handler.data if with_people else None,
                                 start=form.start.data, end=form.end.data, blind_only=form.blind.data)


def _report(filters: metrics.Filters, charts: tuple[str, ...]) -> dict:
    """A dashboard's numbers and tables, from the shared cache while the data are unchanged.

    Only the numbers are cached, never the page: it carries the user's own CSRF token and name.
    """
    version = data_version(filters)
    today = date.today()
    on = min(filters.end or today, today)  # "dogs certified" is counted on this day
    numbers = report_cache.remember(("numbers", filters.key(), on, version), lambda: {
        "totals": metrics.training_totals(filters), "impact": metrics.deployment_impact(filters),
        "certified": metrics.dogs_certified(filters, on=on)})
    tables = [cached_table(name, filters, version) for name in charts]
    # The charts' HTML (tables of numbers, image links) holds nothing of the viewer's: rendering
    # it was most of a warm dashboard's time, so it is cached like the numbers.
    grid = report_cache.remember(("grid", charts, filters.key(), version), lambda: str(render_template(
        "reports/_chart_grid.html", tables=tables, args=filters.query_args())))
    return dict(numbers, tables=tables, chart_grid=Markup(grid))


def _first_error(form) -> tuple[str, str]:
    for name, errors in form.errors.items():
        return name, errors[0]
    return "", "Invalid filter."


@bp.route("/reports/dashboard")
@roles_required(*RECORD_ROLES)
def program_dashboard():
    """An agency's training and deployment numbers for a period, with every chart."""
    form = _form(with_people=True, default_period=True)
    filters = _filters(form, with_people=True)
    if filters is None:
        return render_template("reports/program_dashboard.html", form=form, filters=None), 400
    return render_template("reports/program_dashboard.html", form=form, filters=filters,
                           args=filters.query_args(), **_report(filters, TRAINING_CHARTS + IMPACT_CHARTS))


@bp.route("/reports/impact")
@roles_required("admin", "funder")
def funder_dashboard():
    """What the granted agencies' dogs achieved, in aggregate only: no names, no case data."""
    form = _form(with_people=False, default_period=True)
    filters = _filters(form, with_people=False)
    if filters is None:
        return render_template("reports/funder_dashboard.html", form=form, filters=None), 400
    agency_count = len(filters.agency_ids) if filters.agency_ids is not None \
        else db.session.scalar(select(func.count()).select_from(_agencies(None).subquery()))
    return render_template("reports/funder_dashboard.html", form=form, filters=filters,
                           args=filters.query_args(), agency_count=agency_count,
                           **_report(filters, IMPACT_CHARTS + TRAINING_CHARTS))


def _chart_filters(name: str):
    """The chart's filters, or a 400 JSON answer naming the bad field."""
    if name not in CHARTS:
        abort(404)
    form = _form(with_people=True, default_period=False)
    filters = _filters(form, with_people=True)
    if filters is None:
        field, message = _first_error(form)
        return jsonify(error=message, field=field), 400
    return filters


@bp.route("/reports/charts/<name>.<any(png, svg):fmt>")
@roles_required(*ALL_ROLES)
def chart(name, fmt):
    """One chart as PNG or SVG for the filters in the query string, drawn again only when its data changed."""
    filters = _chart_filters(name)
    if not isinstance(filters, metrics.Filters):
        return filters  # the 400 answer
    return Response(chart_bytes(name, fmt, filters), mimetype=FORMATS[fmt])


def _csv_safe(value):
    """Keep a spreadsheet from running a cell as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@bp.route("/reports/charts/<name>.csv")
@roles_required(*ALL_ROLES)
def chart_csv(name):
    """The numbers of one chart as CSV: the same table the page shows under it."""
    filters = _chart_filters(name)
    if not isinstance(filters, metrics.Filters):
        return filters  # the 400 answer
    table = cached_table(name, filters)
    table = replace(table, rows=[[_csv_safe(v) for v in row] for row in table.rows])
    return Response(table.csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="esd-{name}.csv"'})


@bp.app_template_global()
def dog_find_report(dog):
    """A dog's find rates, heatmap and trend for its page; None for anyone who may not read its records."""
    if not current_user.is_authenticated or current_user.role not in RECORD_ROLES:
        return None
    ids = record_agency_ids()
    if ids is not None and dog.agency_id not in ids:
        return None
    filters = metrics.Filters(agency_ids=(dog.agency_id,), dog_id=dog.id, tz=dog.agency.timezone)
    version = data_version(filters)
    totals = report_cache.remember(("totals", filters.key(), version), lambda: metrics.training_totals(filters))
    return {"filters": filters, "args": filters.query_args(), "totals": totals,
            "tables": [cached_table(name, filters, version) for name in TRAINING_CHARTS]}
