"""Charts, their tables and CSV, the cache, the dashboards, and what a funder may never see."""
import csv
import io
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from datetime import date, datetime, timezone

import pytest

from esd.extensions import db
from esd.reports import charts
from esd.reports.cache import report
from esd.reports.charts import CHARTS, chart_bytes, render
from esd.reports.metrics import Filters
from tests.helpers import (make_agency, make_certification, make_deployment, make_dog, make_handler,
                           make_session, make_user)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PERIOD = "start=2026-01-01&end=2026-03-31"


def at(month, day):
    return datetime(2026, month, day, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def program():
    """Two agencies with training and deployments; agency A's handler and case numbers are recognisable."""
    a = make_agency(name="Granted Task Force", timezone="UTC")
    b = make_agency(name="Hidden Task Force", timezone="UTC")
    ha = make_handler(a, name="Officer Zebulon Quist")
    hb = make_handler(b, name="Officer Hidden Person")
    da, db_ = make_dog(a, name="Pixel"), make_dog(b, name="Byte")
    hides = [{"outcome": "found", "device": "USB drive", "spot": "Book"}] * 6 + \
            [{"outcome": "missed", "device": "Phone", "spot": "Drawer"}] * 2 + \
            [{"outcome": "found", "device": "Phone", "spot": "Drawer", "blind": True}] * 2
    make_session(da, ha, started_at=at(1, 10), hides=hides, false_alerts=1)
    make_session(da, ha, started_at=at(2, 10), hides=hides[:3], false_alerts=0)
    make_session(db_, hb, started_at=at(1, 11), hides=[{"outcome": "missed", "device": "Laptop", "spot": "Toy"}] * 9)
    make_deployment(da, ha, started_at=at(2, 1), case_number="CASE-SECRET-A1", requesting_agency="Probation Dept",
                    notes="Note about the suspect", finds=[{"device": "Phone", "missed_by_human_search": True,
                                                            "evidence": "yes"}],
                    alerts=[{"outcome": "confirmed", "find": 0},
                            {"outcome": "explained", "location_note": "Garage loft",
                             "explanation": "Taken away by the suspect's brother"}])
    make_deployment(db_, hb, started_at=at(2, 2), case_number="CASE-SECRET-B1", requesting_agency="Other PD",
                    finds=[{"device": "Laptop", "missed_by_human_search": True}] * 4)
    make_certification(da, ha, issued_on=date(2026, 1, 5))
    db.session.commit()
    return a, b, da, db_, ha, hb


def test_every_chart_renders_valid_png_and_svg(program):
    a = program[0]
    f = Filters(agency_ids=(a.id,))
    for name, chart in CHARTS.items():
        table = chart.table(f)
        assert not table.empty, name
        png = render(table, "png")
        assert png.startswith(PNG_MAGIC), name
        svg = render(table, "svg")
        assert ET.fromstring(svg).tag.endswith("svg"), name
        assert table.alt and table.title in table.alt


def test_empty_data_draws_a_no_data_chart(program):
    empty = make_agency()
    db.session.commit()
    for name, chart in CHARTS.items():
        table = chart.table(Filters(agency_ids=(empty.id,)))
        assert table.empty and "no " in table.alt.lower()
        assert render(table, "png").startswith(PNG_MAGIC)
        assert b"No data for these filters" in render(table, "svg")


def test_an_svg_chart_keeps_its_words_as_text(program):
    """The downloaded SVG can be searched and read aloud: its title, category labels and values are text."""
    table = CHARTS["device_type"].table(Filters(agency_ids=(program[0].id,)))
    words = " ".join(t.text or "" for t in ET.fromstring(render(table, "svg")).iter() if t.tag.endswith("text"))
    for row in table.rows:
        assert row[0] in words and f"n={row[1]}" in words
    assert table.title in words and "Find rate %" in words


def test_labels_with_dollar_signs_are_drawn_as_written(program):
    """A vocabulary term is plain text: dollar signs or TeX in it never turn into (broken) mathematics."""
    term = r"Bill clip $\frac{1}{$ x"
    rows = [[term, 10, 9, "90.0", "59.6", "98.2"], ["Phone", 8, 4, "50.0", "21.5", "78.5"]]
    table = charts.ChartTable("device_type", "Find rate per device type", ["Device type"] + charts.RATE_COLUMNS, rows)
    assert render(table, "png").startswith(PNG_MAGIC)
    words = [t.text for t in ET.fromstring(render(table, "svg")).iter() if t.tag.endswith("text")]
    assert term in words


def test_rate_table_puts_the_weakest_first_with_wilson_bounds(program):
    table = CHARTS["device_type"].table(Filters(agency_ids=(program[0].id,)))
    # Phone: 2 missed + 2 found (x1) + 1 found blind... first session 4 phone hides (2/4), second 0 → 2 of 4.
    assert table.rows[0][:4] == ["Phone", 4, 2, "50.0"]
    assert table.rows[1][:4] == ["USB drive", 9, 9, "100.0"]
    assert table.rows[0][4:] == ["15.0", "85.0"]


def test_csv_matches_the_table_on_the_page(client, login_as, program):
    a = program[0]
    login_as("manager", a)
    for name in CHARTS:
        response = client.get(f"/reports/charts/{name}.csv?{PERIOD}")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        table = CHARTS[name].table(Filters(agency_ids=(a.id,), start=date(2026, 1, 1), end=date(2026, 3, 31)))
        assert rows[0] == table.columns
        assert rows[1:] == [[str(c) for c in row] for row in table.rows]
    page = client.get(f"/reports/dashboard?{PERIOD}").get_data(as_text=True)
    assert "<td>Phone</td><td>4</td><td>2</td><td>50.0</td>" in page


def test_chart_endpoints_answer_png_and_svg(client, login_as, program):
    login_as("manager", program[0])
    png = client.get(f"/reports/charts/heatmap.png?{PERIOD}")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(PNG_MAGIC)
    svg = client.get(f"/reports/charts/trend.svg?{PERIOD}")
    assert svg.mimetype == "image/svg+xml" and ET.fromstring(svg.data).tag.endswith("svg")
    assert client.get("/reports/charts/nonsense.png").status_code == 404


def test_an_unchanged_chart_is_served_unchanged_and_a_change_shows_next_time(client, login_as, program):
    a, _, dog, _, handler, _ = program
    login_as("manager", a)
    charts.clear_cache()
    url = "/reports/charts/device_type.csv"
    first = client.get("/reports/charts/device_type.png").data
    assert client.get("/reports/charts/device_type.png").data == first
    make_session(dog, handler, started_at=at(3, 1), hides=[{"outcome": "missed", "device": "SIM card", "spot": "Toy"}])
    db.session.commit()
    second = client.get("/reports/charts/device_type.png").data
    assert second != first
    assert "SIM card" in client.get(url).get_data(as_text=True)
    # A change to an existing row (no new id) also counts: its agency's report version moves.
    hide = dog_hide(dog, "SIM card")
    hide.outcome = "found"
    db.session.commit()
    third = client.get("/reports/charts/device_type.png").data
    assert third != second


def dog_hide(dog, device):
    from sqlalchemy import select
    from esd.models import Hide, TrainingSession, VocabularyTerm
    return db.session.scalars(select(Hide).join(TrainingSession).join(VocabularyTerm, VocabularyTerm.id == Hide.device_type_id)
                              .where(TrainingSession.dog_id == dog.id, VocabularyTerm.name == device)).first()


def test_evidence_update_shows_in_the_impact_chart_next_view(client, login_as, program):
    a = program[0]
    login_as("manager", a)
    charts.clear_cache()
    before = client.get("/reports/charts/impact_finds.png").data
    from sqlalchemy import select
    from esd.models import Deployment
    deployment = db.session.scalars(select(Deployment).where(Deployment.agency_id == a.id)).one()
    deployment.finds[0].evidence = "no"
    db.session.commit()
    assert client.get("/reports/charts/impact_finds.png").data != before
    rows = list(csv.reader(io.StringIO(client.get("/reports/charts/impact_finds.csv").get_data(as_text=True))))
    assert ["Finds with no evidence", "1", "1", "100.0"] in rows


def test_cache_keys_differ_by_what_and_filters(program):
    a = program[0]
    charts.clear_cache()
    computed = []

    def ask(what, filters):
        return report(what, filters, lambda: computed.append((what, filters.blind_only)) or len(computed))
    assert ask(("png",), Filters(agency_ids=(a.id,))) == 1
    assert ask(("png",), Filters(agency_ids=(a.id,), blind_only=True)) == 2
    assert ask(("svg",), Filters(agency_ids=(a.id,))) == 3
    assert ask(("png",), Filters(agency_ids=(a.id,))) == 1  # the first answer, from the cache
    assert len(computed) == 3


@pytest.mark.parametrize("query, status", [
    ("start=2026-03-01&end=2026-01-01", 400),
    ("start=yesterday", 400),
])
def test_bad_filters_are_explained_not_500(client, login_as, program, query, status):
    login_as("manager", program[0])
    response = client.get(f"/reports/charts/trend.png?{query}")
    assert response.status_code == status and response.is_json and response.json["field"]
    page = client.get(f"/reports/dashboard?{query}")
    assert page.status_code == status
    if "end=" in query:
        assert "The end date is before the start date." in page.get_data(as_text=True)


def test_out_of_scope_filters_are_404(client, login_as, program):
    a, b, da, db_, ha, hb = program
    login_as("manager", a)
    assert client.get(f"/reports/charts/trend.png?dog={db_.id}").status_code == 404
    assert client.get(f"/reports/charts/trend.png?handler={hb.id}").status_code == 404
    assert client.get(f"/reports/charts/trend.png?agency={b.id}").status_code == 404
    assert client.get(f"/reports/dashboard?dog={db_.id}").status_code == 404
    assert client.get("/reports/charts/trend.png?dog=999999").status_code == 404


def test_program_dashboard_shows_the_agency_numbers(client, login_as, program):
    a = program[0]
    login_as("handler", a)
    page = client.get(f"/reports/dashboard?{PERIOD}").get_data(as_text=True)
    assert "Program dashboard" in page
    assert "85% <span" in page  # 11 of 13 hides found
    assert "(11 of 13;" in page
    for name in CHARTS:
        assert f'/reports/charts/{name}.png?' in page and f"/reports/charts/{name}.csv?" in page
    assert 'alt="Find rate per device type, weakest first: Phone 50.0% of 4' in page


def test_a_funder_sees_only_granted_aggregates_and_nothing_sensitive(client, login_as, program):
    a, b, da, db_, ha, hb = program
    funder = login_as("funder")
    funder.granted_agencies.append(a)
    db.session.commit()
    page = client.get(f"/reports/impact?{PERIOD}").get_data(as_text=True)
    forbidden = ["CASE-SECRET", "Zebulon", "Quist", "Hidden Person", "Pixel", "Byte", "Probation Dept",
                 "Other PD", "suspect", "Hidden Task Force", "Laptop", "Garage loft", "brother"]
    assert [word for word in forbidden if word in page] == []
    # Field accuracy as an aggregate of the granted agency: 1 confirmed of its 2 alerts (B's 4 confirmed not counted).
    assert ('data-figure="field_accuracy"><div class="card-body py-2">\n    <div class="small text-muted">Field accuracy'
            '</div>\n    <div class="value" data-value>50%</div>') in page
    assert "the dogs alerted 2 times; 50% of those alerts led officers to a device (likely between 9% and 91%)" in page
    assert "Granted Task Force" in page  # the filter names the agency granted
    assert 'data-figure="searches"><div class="card-body py-2">\n    <div class="small text-muted">Searches</div>\n    <div class="value" data-value>1</div>' in page  # one deployment
    bodies = []
    for name in CHARTS:
        for ext in ("png.", "svg.", "csv"):
            url = f"/reports/charts/{name}.{ext.rstrip('.')}?{PERIOD}"
            response = client.get(url)
            assert response.status_code == 200, url
            bodies.append(response.data)
    blob = b"\n".join(bodies).decode("latin-1")
    assert [word for word in forbidden if word in blob] == []
    # Aggregates cover the granted agency only: agency B's 4 laptops and 9 misses never count.
    rows = list(csv.reader(io.StringIO(client.get(f"/reports/charts/impact_finds.csv?{PERIOD}").get_data(as_text=True))))
    assert rows[2][:3] == ["Finds the human search had missed", "1", "1"]


class _ChartTables(HTMLParser):
    """{chart name: its table's body rows} and {chart name: its CSV link} of a dashboard page."""

    def __init__(self):
        super().__init__()
        self.rows, self.csv, self._chart, self._row, self._cell = {}, {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-chart-table" in attrs:
            self._chart = attrs["data-chart-table"]
            self.rows[self._chart] = []
        elif tag == "a" and "/reports/charts/" in attrs.get("href", "") and ".csv" in attrs["href"]:
            name = attrs["href"].split("/reports/charts/")[1].split(".csv")[0]
            self.csv[name] = attrs["href"].replace("&amp;", "&")
        elif self._chart and tag == "tr":
            self._row = []
        elif self._row is not None and tag == "td":
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:  # the header row has no td
                self.rows[self._chart].append(self._row)
            self._row = None
        elif tag == "table":
            self._chart = None


@pytest.mark.parametrize("who, page", [
    ("manager", f"/reports/dashboard?{PERIOD}"),
    ("funder", f"/reports/impact?{PERIOD}"),  # three months: the report's trend covers twelve
    ("funder", "/reports/impact?start=2025-04-01&end=2026-03-31"),  # twelve: the trend is the period
])
def test_the_numbers_under_each_dashboard_chart_are_the_charts_own(client, login_as, program, who, page):
    """A dashboard builds its charts' tables from what it read for its own figures: each must equal
    the chart's CSV (what its picture and download show) for the same filters."""
    a = program[0]
    user = login_as(who, a)
    if who == "funder":
        user.granted_agencies.append(a)
        db.session.commit()
    parsed = _ChartTables()
    parsed.feed(client.get(page).get_data(as_text=True))
    assert set(parsed.rows) == set(CHARTS)  # every chart, the heatmap too
    for name, rows in parsed.rows.items():
        response = client.get(parsed.csv[name])
        assert response.status_code == 200, name
        expected = list(csv.reader(io.StringIO(response.get_data(as_text=True))))[1:]
        assert rows == expected, name
    assert any(rows for rows in parsed.rows.values())


def test_a_funder_naming_a_non_granted_agency_or_a_dog_gets_404(client, login_as, program):
    a, b, da, *_ = program
    funder = login_as("funder")
    funder.granted_agencies.append(a)
    db.session.commit()
    assert client.get(f"/reports/impact?agency={b.id}").status_code == 404
    assert client.get(f"/reports/charts/device_type.png?agency={b.id}").status_code == 404
    assert client.get(f"/reports/charts/device_type.csv?agency={b.id}").status_code == 404
    assert client.get(f"/reports/charts/device_type.png?dog={da.id}").status_code == 404
    assert client.get(f"/reports/impact?agency={a.id}").status_code == 200
    assert client.get("/reports/dashboard").status_code == 404


def test_a_funder_granted_nothing_sees_empty_charts(client, login_as, program):
    login_as("funder")
    page = client.get("/reports/impact").get_data(as_text=True)
    assert "No data for these filters." in page
    assert client.get("/reports/charts/heatmap.png").data.startswith(PNG_MAGIC)


def test_the_admin_sees_the_funder_dashboard_for_all_agencies(client, login_as, program):
    login_as("admin")
    page = client.get(f"/reports/impact?{PERIOD}").get_data(as_text=True)
    assert "2 agencies" in page and "CASE-SECRET" not in page


def test_the_dog_partial_shows_its_find_rates_and_charts(app, program):
    a, b, da, *_ = program
    user = make_user("manager", a)
    db.session.commit()
    from flask import render_template_string
    from flask_login import login_user

    from esd.reports.views import dog_section
    with app.test_request_context():
        login_user(user)
        section = dog_section(da, date(2026, 3, 31), user)
        html = render_template_string('{% include "reports/_dog_section.html" %}', dog=da,
                                      sections={"find_rates": section})
        assert "Find rates" in html and f"dog={da.id}" in html
        for name in ("device_type", "hiding_spot", "heatmap", "trend"):
            assert f"/reports/charts/{name}.png?" in html


def test_the_dog_page_shows_its_find_rates_and_deployments(client, login_as, program):
    a, b, da, *_ = program
    login_as("manager", a)
    page = client.get(f"/dogs/{da.id}").get_data(as_text=True)
    assert 'id="dog-find-rates"' in page and f"/reports/charts/heatmap.png?agency={a.id}&amp;dog={da.id}" in page
    assert 'id="dog-deployments"' in page and "CASE-SECRET-A1" in page


def test_pages_show_the_heatmap_as_a_table_coloured_by_find_rate(client, login_as, program):
    a = program[0]
    login_as("manager", a)
    page = client.get(f"/reports/dashboard?{PERIOD}").get_data(as_text=True)
    # Phone in the drawer: 2 of 4 found, too few to rate (grey); USB drive in the book: 9 of 9 (green).
    assert '<td class="heat-thin" title="Phone in Drawer: 2 of 4 found, too few hides to rate">n=4</td>' in page
    assert '<td class="heat-10" title="USB drive in Book: 100.0% of 9 found">100%<br>n=9</td>' in page
    assert '<img' not in page.split('id="chart-heatmap"')[1].split("</figure>")[0]  # no picture on the page
    assert "/reports/charts/heatmap.png?" in page and "/reports/charts/heatmap.svg?" in page  # still downloadable
    css = client.get("/reports/heatmap.css")
    assert css.mimetype == "text/css"
    assert ".heat-0{background-color:#dc3545}" in css.get_data(as_text=True)  # red for 0%
    assert ".heat-10{background-color:#198754}" in css.get_data(as_text=True)  # green for 100%
