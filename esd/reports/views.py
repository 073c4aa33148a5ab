"""Dashboards and chart images: thin views over `metrics` and `charts`."""
from __future__ import annotations


from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import false, select

from ..agency_day import viewer_today, zone_note
from ..dates import twelve_months_to
from ..extensions import db
from ..models import Agency, Dog, Handler
from ..roles import RECORD_ROLES, ROLES
from ..scoping import aggregate_agency_ids, record_agency_ids, roles_required, scope_clause
from . import charts, metrics
from . import cache as report_cache
from .charts import CHARTS, FORMATS, cached_table, chart_bytes, data_version
from .forms import ReportFilterForm

bp = Blueprint("reports", __name__)


def _form(default_period: bool) -> ReportFilterForm:
    """The filter form read from the query string (its choices are filled in by `_fill_choices`)."""
    form = ReportFilterForm(request.args)
    if default_period and not request.args.get("start") and not request.args.get("end"):
        # The viewer's day, not the server's: at 19:30 in Los Angeles the server's clock (UTC) is
        # already in tomorrow, and the charts would end in an empty month.
        form.start.data, form.end.data = twelve_months_to(viewer_today())
    return form


class _ChoiceScope:
    """Whose agencies, dogs and handlers a filter form may offer, and the version they are cached under."""

    def __init__(self, with_people: bool, chosen: int | None, filters: metrics.Filters | None = None,
                 version: tuple | None = None):
        agency_scope = aggregate_agency_ids()
        people_scope = record_agency_ids() if with_people else []
        self.agencies = None if agency_scope is None else tuple(sorted(agency_scope))
        self.people = None if people_scope is None else tuple(sorted(people_scope))
        self.with_people, self.chosen = with_people, (chosen if with_people else None)
        listed = None if self.agencies is None or self.people is None \
            else tuple(sorted(set(self.agencies) | set(self.people)))
        # A change to any agency, dog or handler listed moves its agency's version. The filters'
        # version serves when it covers the same agencies (a manager's or funder's default view).
        same = version is not None and filters is not None and filters.agency_ids == listed
        self.version = version if same else data_version(metrics.Filters(agency_ids=listed))

    def key(self) -> tuple:
        return (self.agencies, self.people, self.with_people, self.chosen, self.version)

    def fill(self, form: ReportFilterForm) -> None:
        """Set the form's choices, from the shared cache while nothing listed has changed."""
        agencies, dogs, handlers = report_cache.remember(("choices",) + self.key(), lambda: _read_choices(
            self.agencies, self.people, self.chosen, self.with_people))
        form.agency.choices = [("", "All agencies in scope")] + agencies
        if self.with_people:
            form.dog.choices = [("", "All dogs")] + dogs
            form.handler.choices = [("", "All handlers")] + handlers


def _chosen_agency(form: ReportFilterForm) -> int | None:
    return form.agency.data if isinstance(form.agency.data, int) else None


def _read_choices(agency_scope, people_scope, chosen, with_people) -> tuple[list, list, list]:
    """(id, name) pairs of the agencies, dogs and handlers a filter may offer."""
    def pairs(stmt, model):
        return [(row.id, row.name) for row in db.session.execute(
            stmt.with_only_columns(model.id, model.name).order_by(model.name))]
    agencies = pairs(_agencies(agency_scope), Agency)
    if not with_people:
        return agencies, [], []
    return (agencies, pairs(_people(Dog, people_scope, chosen), Dog),
            pairs(_people(Handler, people_scope, chosen), Handler))


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


def _report(filters: metrics.Filters) -> dict:
    """A dashboard's numbers and its charts' HTML (cached only as part of the dashboard's body).

    The tables are not cached one by one: the three hide charts come from one read of the groups
    and the finds' table from the dashboard's own impact, cheaper than a cache entry each (a chart
    picture requested by the page caches its own table).
    """
    today = viewer_today()
    on = min(filters.end or today, today)  # "dogs certified" is counted on this day
    impact = metrics.deployment_impact(filters)
    tables = charts.training_tables(filters) + charts.impact_tables(filters, impact)
    numbers = {"totals": metrics.training_totals(filters), "impact": impact,
               "certified": metrics.dogs_certified(filters, on=on)}
    grid = render_template("reports/_chart_grid.html", tables=tables, args=filters.query_args())
    return dict(numbers, chart_grid=Markup(grid), zone_note=zone_note(filters.agency_ids))


def _dashboard(name: str, with_people: bool, context=lambda filters: {}):
    """Render a dashboard: the filter form, and the report when the filters are valid (else 400).

    Everything below the navigation (templates/reports/_<name>_body.html) is the same for every
    viewer with this role, scope and query string while the data are unchanged, so its HTML is
    cached: a warm dashboard renders only the page around it (the viewer's name, bell and CSRF
    token, never cached). `context(filters)` adds what only that dashboard shows.
    """
    form = _form(default_period=True)
    filters = _filters(form, with_people=with_people)
    body = f"reports/_{name}_body.html"
    if filters is None:
        _ChoiceScope(with_people, _chosen_agency(form)).fill(form)
        return render_template(f"reports/{name}_dashboard.html", body=Markup(render_template(
            body, form=form, filters=None))), 400
    version = data_version(filters)
    choices = _ChoiceScope(with_people, _chosen_agency(form), filters, version)

    def make():
        choices.fill(form)
        return str(render_template(body, form=form, filters=filters, args=filters.query_args(),
                                   **context(filters), **_report(filters)))
    what = ("body", name, current_user.role, sorted(request.args.items(multi=True)), viewer_today(),
            choices.key())
    return render_template(f"reports/{name}_dashboard.html", body=Markup(report_cache.report(what, filters, make, version)))


def _first_error(form) -> tuple[str, str]:
    for name, errors in form.errors.items():
        return name, errors[0]
    return "", "Invalid filter."


@bp.route("/reports/dashboard")
@roles_required(*RECORD_ROLES)
def program_dashboard():
    """An agency's training and deployment numbers for a period, with every chart."""
    return _dashboard("program", True)


def _chart_filters(name: str):
    """The chart's filters, or a 400 JSON answer naming the bad field."""
    if name not in CHARTS:
        abort(404)
    form = _form(default_period=False)  # no choices: a chart never renders the form
    filters = _filters(form, with_people=True)
    if filters is None:
        field, message = _first_error(form)
        return jsonify(error=message, field=field), 400
    return filters


@bp.route("/reports/heatmap.css")
@roles_required(*ROLES)
def heatmap_css():
    """The HTML heatmap's layout and colours, from the drawing's own colour map."""
    return Response(charts.heatmap_css(), mimetype="text/css", headers={"Cache-Control": "private, max-age=86400"})


@bp.route("/reports/charts/<name>.<any(png, svg):fmt>")
@roles_required(*ROLES)
def chart(name, fmt):
    """One chart as PNG or SVG for the filters in the query string, drawn again only when its data changed."""
    filters = _chart_filters(name)
    if not isinstance(filters, metrics.Filters):
        return filters  # the 400 answer
    return Response(chart_bytes(name, fmt, filters), mimetype=FORMATS[fmt])


@bp.route("/reports/charts/<name>.csv")
@roles_required(*ROLES)
def chart_csv(name):
    """The numbers of one chart as CSV: the same table the page shows under it."""
    filters = _chart_filters(name)
    if not isinstance(filters, metrics.Filters):
        return filters  # the 400 answer
    table = cached_table(name, filters)
    return Response(table.csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="esd-{name}.csv"'})


def dog_section(dog, today, user) -> dict:
    """The dog page's find-rate section: all its training's find rates, heatmap and trend (cached)."""
    filters = metrics.Filters(agency_ids=(dog.agency_id,), dog_id=dog.id, tz=dog.agency.timezone)
    version = data_version(filters)

    def make():
        # The charts' HTML, cached like a dashboard's: its tables grow with the dog's years of
        # training, and escaping every cell was a third of the page. The tables are not cached one
        # by one here: from the dog's rollups each costs a millisecond or two, less than storing it
        # (a file write, and another for the store's count); a chart picture stores its own.
        tables = charts.training_tables(filters)
        return {"totals": metrics.training_totals(filters), "grid": str(render_template(
            "reports/_chart_grid.html", tables=tables, args=filters.query_args()))}
    report = report_cache.report(("dog report",), filters, make, version)
    return {"filters": filters, "args": filters.query_args(), "totals": report["totals"],
            "chart_grid": Markup(report["grid"])}
