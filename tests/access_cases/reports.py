"""Access cases of the reports area: dashboards per role; charts scoped by agency, dog and grant."""
from tests.access import EVERYONE, RECORD_READERS, Route, ok_for

AGGREGATE_READERS = ok_for("admin", "funder")
# A funder may name a granted agency but never a dog (no dog-level figures for funders).
DOG_CHART = RECORD_READERS

CASES = [
    Route("reports.program_dashboard", RECORD_READERS),
    Route("reports.program_dashboard", RECORD_READERS, params=lambda side: {"dog": side.dog.id}),
    Route("reports.funder_dashboard", AGGREGATE_READERS),
    # The funder is granted the own agency only: the other agency is 404 for everyone but the admin.
    Route("reports.funder_dashboard", AGGREGATE_READERS, params=lambda side: {"agency": side.agency.id}),
    # The impact report's PDF, CSV and trend chart: funders and admins, granted agencies only.
    Route("reports.impact_report_pdf", AGGREGATE_READERS, params=lambda side: {"agency": side.agency.id}),
    Route("reports.impact_csv", AGGREGATE_READERS, params=lambda side: {"agency": side.agency.id}),
    Route("reports.impact_trend", AGGREGATE_READERS, params=lambda side: {"agency": side.agency.id}),
    Route("reports.funder_dashboard", AGGREGATE_READERS, params=lambda side: {"preset": "last_quarter"}, other=AGGREGATE_READERS),
    Route("reports.heatmap_css", EVERYONE),
    Route("reports.chart", EVERYONE, params=lambda side: {"name": "device_type", "fmt": "png"}, other=EVERYONE),
    Route("reports.chart", EVERYONE, params=lambda side: {"name": "heatmap", "fmt": "svg",
                                                          "agency": side.agency.id}),
    Route("reports.chart", DOG_CHART, params=lambda side: {"name": "trend", "fmt": "png", "dog": side.dog.id}),
    Route("reports.chart_csv", EVERYONE, params=lambda side: {"name": "impact_finds", "agency": side.agency.id}),
    Route("reports.chart_csv", DOG_CHART, params=lambda side: {"name": "hiding_spot", "handler": side.handler.id}),
]
