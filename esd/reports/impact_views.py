"""The funders' impact report: the dashboard, its print view, the one-page PDF, its CSV and trend chart.

Thin views over `impact.build` (cached per scope, period and data version: a funder's entries
move only when one of the granted agencies' data changes). Every route answers funders and
administrators only; an agency not granted is 404 (`metrics.build_filters`).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Response, abort, render_template, request
from flask_login import current_user
from markupsafe import Markup

from ..agency_day import viewer_today, zone_note
from ..audit import record_event
from ..dates import format_local, twelve_months_to, utcnow
from ..extensions import db
from ..periods import Period, preset
from ..roles import AGGREGATE_ROLES
from ..scoping import roles_required
from ..spreadsheets import csv_text
from . import cache as report_cache
from . import impact, impact_chart, impact_pdf, metrics
from .charts import data_version, impact_tables, training_tables
from .impact_forms import PAPERS, ImpactFilterForm
from .views import _ChoiceScope, _chosen_agency, bp


@dataclass
class ImpactRequest:
    form: ImpactFilterForm
    filters: metrics.Filters | None  # None: the form has errors
    period: Period | None = None
    fiscal_start: int = 1
    version: tuple = ()

    def key(self) -> tuple:
        return (self.period.start, self.period.end, self.fiscal_start, viewer_today())


def _read() -> ImpactRequest:
    """The filters and period of the query string; a 404 for an agency not granted."""
    form = ImpactFilterForm(request.args)
    fiscal = current_user.fiscal_year_start or 1
    form.offer_fiscal(fiscal)
    if not form.validate():
        return ImpactRequest(form, None)
    fiscal_start = fiscal if form.year.data == "fiscal" else 1
    today = viewer_today()
    if form.preset.data:
        period = preset(form.preset.data, today, fiscal_start)
    elif form.start.data or form.end.data:  # the form has checked that the end is not before the start
        end = form.end.data or max(today, form.start.data)
        period = Period(form.start.data or twelve_months_to(end)[0], end)
    else:
        period = Period(*twelve_months_to(today))
    form.start.data, form.end.data = period.start, period.end
    filters = metrics.build_filters(current_user, agency_id=form.agency.data, start=period.start, end=period.end,
                                    blind_only=form.blind.data)
    return ImpactRequest(form, filters, period, fiscal_start, data_version(filters))


def report_for(req: ImpactRequest) -> impact.ImpactReport:
    """The impact report, computed once per scope, period, day and data version."""
    return report_cache.report(("impact",) + req.key(), req.filters,
                               lambda: impact.build(req.filters, req.period, viewer_today()), req.version)


@bp.route("/reports/impact")
@roles_required(*AGGREGATE_ROLES)
def funder_dashboard():
    """What the granted agencies' dogs achieved, in plain words, against the period before and a year earlier."""
    req = _read()
    if req.filters is None:
        _ChoiceScope(False, _chosen_agency(req.form)).fill(req.form)
        body = render_template("reports/_funder_body.html", form=req.form, report=None)
        return render_template("reports/funder_dashboard.html", body=Markup(body)), 400
    choices = _ChoiceScope(False, _chosen_agency(req.form), req.filters, req.version)

    def make():
        choices.fill(req.form)
        report = report_for(req)
        # The tables from the report's own impact (and its months when the trend covers just the
        # period), the three hide charts from one read: not cached one by one (see views._report).
        same_months = impact.trend_months(req.period) == req.period
        tables = (impact_tables(req.filters, report.impact, report.monthly if same_months else None)
                  + training_tables(req.filters))
        args = _args(req)
        return str(render_template(
            "reports/_funder_body.html", form=req.form, report=report, args=args, trend_alt=impact_chart.alt_text(report),
            chart_args=req.filters.query_args(), zone_note=zone_note(req.filters.agency_ids),
            chart_grid=Markup(render_template("reports/_chart_grid.html", tables=tables,
                                              args=req.filters.query_args()))))
    what = ("impact body", current_user.role, sorted(request.args.items(multi=True)),
            current_user.fiscal_year_start, choices.key()) + req.key()
    body = report_cache.report(what, req.filters, make, req.version)
    return render_template("reports/funder_dashboard.html", body=Markup(body))


def _args(req: ImpactRequest) -> dict:
    """The query string of the report's PDF, CSV and chart links: the same scope and period."""
    args = dict(req.filters.query_args())
    if req.fiscal_start != 1:
        args["year"] = "fiscal"
    return args


def _read_or_400() -> ImpactRequest:
    """`_read()` for a download (PDF, CSV, chart): bad filters answer 400 naming the first field at fault."""
    req = _read()
    if req.filters is None:
        field, errors = next(iter(req.form.errors.items()))
        abort(Response(f"{req.form[field].label.text}: {errors[0]}\n", status=400, mimetype="text/plain"))
    return req


@bp.route("/reports/impact/trend.png")
@roles_required(*AGGREGATE_ROLES)
def impact_trend():
    """The report's one trend chart: searches and devices found per month."""
    req = _read_or_400()
    png = report_cache.report(("impact trend",) + req.key(), req.filters,
                              lambda: impact_chart.png(report_for(req)), req.version)
    return Response(png, mimetype="image/png")


@bp.route("/reports/impact.csv")
@roles_required(*AGGREGATE_ROLES)
def impact_csv():
    """The report's numbers as CSV: every figure in three periods, the regions and the agencies."""
    req = _read_or_400()
    report = report_for(req)
    return Response(csv_text(*impact_rows(report), bom=True), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="esd-impact-{req.period.start}-'
                                                    f'{req.period.end}.csv"'})


def impact_rows(report: impact.ImpactReport) -> tuple[list, list]:
    """The CSV's header and rows (counts of people as shown: "fewer than 5", never the number)."""
    header = ["Section", "Figure", f"This period ({report.period.label()})",
              f"Previous period ({report.previous.label()})", f"A year earlier ({report.year_earlier.label()})",
              "Against the previous period", "Against a year earlier", "What it counts"]
    rows = []
    for section, figures in (("Searches", report.headline), ("Case outcomes", report.outcomes),
                             ("Training", report.training)):
        rows += [[section, f.label, f.now, f.previous, f.year_ago, f.vs_previous, f.vs_year, f.definition]
                 for f in figures]
    for region in report.regions:
        rows.append(["Region", region.region, f"{region.agencies} agencies, {region.with_certified_dog} with a "
                     f"certified dog, {region.searches} searches, {region.devices_found} devices found",
                     "", "", "", "", "; ".join(f"{impact.OUTCOMES[k][0]}: {v}" for k, v in region.outcomes.items())])
    for agency in report.agencies:
        rows.append(["Agency", agency.name, f"{agency.searches} searches, {agency.devices_found} devices found, "
                     f"{agency.found_after_missed} missed by officers, {agency.held_evidence} held evidence",
                     "", "", "", "", "; ".join(f"{impact.OUTCOMES[k][0]}: {v}" for k, v in agency.outcomes.items())])
    return header, rows


@bp.route("/reports/impact.pdf")
@roles_required(*AGGREGATE_ROLES)
def impact_report_pdf():
    """The one-page impact report (a second page only for the per-agency table), on A4 or US Letter."""
    req = _read_or_400()
    paper = request.args.get("paper", "letter")
    if paper not in PAPERS:
        return Response("Paper: choose a4 or letter.\n", status=400, mimetype="text/plain")
    report = report_for(req)
    generated = format_local(utcnow(), current_user.agency.timezone if current_user.agency else "UTC")
    chart = report_cache.report(("impact trend",) + req.key(), req.filters,
                                lambda: impact_chart.png(report), req.version)
    pdf = impact_pdf.render(report, chart, paper=paper, generated_on=generated, generated_by=current_user.name,
                            zone=zone_note(req.filters.agency_ids))
    record_event("impact_report", "user", current_user.id, user_id=current_user.id,
                 changes={"period": [None, f"{req.period.start}..{req.period.end}"], "paper": [None, paper],
                          "digest": [None, report.digest()]},
                 reason="Impact report PDF generated")
    db.session.commit()
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="esd-impact-{req.period.start}-'
                                                    f'{req.period.end}.pdf"'})
