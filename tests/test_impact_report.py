"""The funders' impact report: plain words, period against period, case outcomes suppressed, PDF, CSV, no leaks."""
import csv
import io
import re
from datetime import date, datetime, timezone

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import select

from esd.extensions import db
from esd.models import AuditEntry, CaseOutcome
from esd.periods import Period
from esd.reports import impact, metrics
from tests.helpers import (make_agency, make_certification, make_deployment, make_dog, make_handler, make_session,
                           make_user)

Q1 = "start=2026-01-01&end=2026-03-31"
SECRETS = ["CASE-SECRET", "Zebulon", "Quist", "Pixel", "Byte", "Secret Probation Dept", "suspect", "Hidden Task Force",
           "Hollow book", "Officer Hidden"]
A4_POINTS, LETTER_POINTS = (595, 842), (612, 792)


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def search(dog, handler, when, finds=(), outcome=None, **overrides):
    """A deployment with its finds ("missed": found after the human search missed it) and case outcome."""
    deployment = make_deployment(dog, handler, started_at=when, case_number="CASE-SECRET-1",
                                 requesting_agency=overrides.pop("requesting", "Secret Probation Dept"),
                                 notes="Note about the suspect", finds=[
                                     {"missed_by_human_search": kind == "missed", "evidence": "yes" if kind == "evidence" else "pending",
                                      "notes": "Hollow book"} for kind in finds], **overrides)
    if outcome:
        db.session.add(CaseOutcome(deployment_id=deployment.id, agency_id=deployment.agency_id, **outcome))
        db.session.flush()
    return deployment


@pytest.fixture
def program():
    """Three granted task forces in two regions with searches in Q1 2026, Q4 2025 and Q1 2025, and a hidden one."""
    north = make_agency(name="North Task Force", timezone="America/Los_Angeles", region="West")
    south = make_agency(name="South Task Force", timezone="America/Los_Angeles", region="West")
    east = make_agency(name="East Task Force", timezone="America/New_York", region="East")
    hidden = make_agency(name="Hidden Task Force", timezone="UTC", region="East")
    teams = {}
    for agency, dog_name, handler_name in ((north, "Pixel", "Officer Zebulon Quist"), (south, "Rex", "Officer Ann Lee"),
                                           (east, "Luna", "Officer Bo Park"), (hidden, "Byte", "Officer Hidden Person")):
        teams[agency.name] = (make_dog(agency, name=dog_name), make_handler(agency, name=handler_name))
    dog, handler = teams["North Task Force"]
    # Q1 2026: three searches of North; the last at 22:00 on 31 March in Los Angeles (05:00 UTC on 1 April).
    search(dog, handler, utc(2026, 1, 10, 18), ["missed", "plain"], {"arrests": 4, "charges": 2, "devices_examined": 2,
                                                                    "devices_with_evidence": 1, "children_safeguarded": 2})
    search(dog, handler, utc(2026, 2, 20, 18), ["missed"], {"arrests": 2, "charges": 6})
    search(dog, handler, utc(2026, 4, 1, 5), ["evidence"], requesting="Other Requesting PD")
    # Q4 2025 (the previous quarter): one search. Q1 2025 (a year earlier): two.
    search(dog, handler, utc(2025, 11, 5, 18), ["plain"], {"arrests": 7})
    search(dog, handler, utc(2025, 1, 15, 18), [])
    search(dog, handler, utc(2025, 3, 15, 18), ["missed"])
    dog, handler = teams["South Task Force"]
    search(dog, handler, utc(2026, 3, 3, 18), ["plain"], {"arrests": 3, "charges": 5})
    dog, handler = teams["East Task Force"]
    search(dog, handler, utc(2026, 2, 2, 15), ["plain", "plain"], {"arrests": 12, "charges": 20})
    make_session(dog, handler, started_at=utc(2026, 2, 2, 15), hides=[{"outcome": "found"}] * 17 + [{"outcome": "missed"}] * 3)
    make_certification(dog, handler, issued_on=date(2026, 1, 5))
    dog, handler = teams["Hidden Task Force"]
    search(dog, handler, utc(2026, 2, 2, 15), ["missed"] * 9, {"arrests": 40})
    db.session.commit()
    return north, south, east, hidden


def funder_of(login_as, *agencies, **overrides):
    return login_as("funder", granted_agencies=list(agencies), **overrides)


def report_of(agencies, period=Period(date(2026, 1, 1), date(2026, 3, 31)), today=date(2026, 11, 20)):
    filters = metrics.Filters(agency_ids=tuple(sorted(a.id for a in agencies)))
    return impact.build(filters, period, today)


def by_key(report):
    return {f.key: f for f in report.figures}


# --------------------------------------------------------------------------- plain words

def test_every_figure_has_a_plain_sentence_and_a_definition(program):
    north, south, east, _ = program
    figures = by_key(report_of([north, south, east]))
    assert figures["searches"].sentence == "The dogs were called to 5 real searches."
    assert figures["devices_found"].sentence == ("They found 7 electronic devices: phones, drives, memory cards "
                                                 "and the like.")
    # The two figures a donor confused: searches (of all searches) and devices (in all), in one sentence and apart.
    assert figures["searches_with_missed_find"].sentence == (
        "In 2 of 5 searches the dog found a device the officers had already missed — 2 devices in all.")
    assert figures["searches_with_missed_find"].label == "Searches where the dog found what officers missed"
    assert figures["found_after_human_missed"].label == "Devices officers had missed"
    assert figures["found_after_human_missed"].sentence.startswith("2 of the 7 devices found would have stayed hidden")
    assert "Searches (not devices)" in figures["searches_with_missed_find"].definition
    assert "Devices (not searches)" in figures["found_after_human_missed"].definition
    assert figures["finds_with_evidence"].sentence == ("1 of the devices found held evidence when examined "
                                                       "(6 still await the forensic exam).")
    assert figures["agencies_served"].sentence.startswith("The dogs searched at the request of 2 agencies")
    assert figures["dogs_certified"].sentence == "1 dog held a valid certification at the end of the period."
    assert figures["find_rate"].sentence == ("In training the dogs found 85% of the 20 devices hidden for them "
                                             "(likely between 64% and 95%).")
    assert "95 times in 100" in figures["find_rate"].note
    assert figures["training_hours"].sentence == "The teams trained for 1 hour."
    assert figures["arrests"].sentence == "21 arrests followed."
    assert figures["charges"].sentence == "33 charges were filed."
    assert figures["children_safeguarded"].sentence == "Fewer than 5 children were identified or safeguarded."
    assert figures["devices_examined"].sentence == "Fewer than 5 devices were sent for forensic examination."
    assert figures["devices_with_evidence"].sentence == "Fewer than 5 examined devices held evidence."
    # No two figures read alike: every label is its own.
    assert len({f.label for f in figures.values()}) == len(figures)
    for figure in figures.values():
        assert figure.definition and figure.label
        for jargon in ("CI", "Wilson", "n=", "deployment_", "None"):
            assert jargon not in figure.sentence, (figure.key, jargon)


def test_the_page_gives_each_figure_its_definition_one_tap_away_and_no_jargon(client, login_as, program):
    north, south, east, _ = program
    funder_of(login_as, north, south, east)
    page = client.get(f"/reports/impact?{Q1}").get_data(as_text=True)
    cards = re.findall(r'data-figure="(\w+)".*?<details class="definition"><summary>What this counts</summary>', page,
                       flags=re.S)
    assert len(cards) == len(impact.OUTCOMES) + 10  # 7 about the searches, training, hours, field accuracy
    assert "likely between 64% and 95%" in page
    # The words on screen before the small print (definitions one tap away are in <details>).
    screen = re.sub(r"<details.*?</details>", "", page.split('class="impact-section impact-definitions')[0], flags=re.S)
    words = re.sub(r"<[^>]+>", " ", screen.split("<main")[1])
    for jargon in ("95% CI", "n=", "Wilson"):
        assert jargon not in words, jargon


# --------------------------------------------------------------------------- period against period

def test_the_quarter_is_compared_with_the_quarter_before_and_a_year_earlier(program):
    north, *_ = program
    report = report_of([north])
    assert (report.previous.start, report.previous.end) == (date(2025, 10, 1), date(2025, 12, 31))
    assert (report.year_earlier.start, report.year_earlier.end) == (date(2025, 1, 1), date(2025, 3, 31))
    searches = by_key(report)["searches"]
    # 22:00 on 31 March in Los Angeles is in the quarter, though it was 1 April in UTC.
    assert (searches.now, searches.previous, searches.year_ago) == ("3", "1", "2")
    assert searches.vs_previous == "up 2 from the previous period"
    assert searches.vs_year == "up 1 from a year earlier"
    missed = by_key(report)["found_after_human_missed"]
    assert (missed.now, missed.previous, missed.year_ago, missed.vs_year) == ("2", "0", "1", "up 1 from a year earlier")


def test_a_leap_february_and_a_period_across_the_new_year(app):
    agency = make_agency(timezone="UTC")
    dog, handler = make_dog(agency), make_handler(agency)
    for when in (utc(2024, 2, 29, 12), utc(2024, 2, 1, 0), utc(2024, 1, 31, 23), utc(2023, 2, 28, 12),
                 utc(2023, 3, 1, 0), utc(2025, 12, 20, 12), utc(2026, 1, 14, 23), utc(2025, 12, 1, 12),
                 utc(2025, 11, 14, 0), utc(2024, 12, 15, 0)):
        make_deployment(dog, handler, started_at=when)
    db.session.commit()
    february = by_key(report_of([agency], Period(date(2024, 2, 1), date(2024, 2, 29))))["searches"]
    # February 2024: 29 Feb and 1 Feb; January 2024: 31 Jan; February 2023 (1-28): 28 Feb, not 1 March.
    assert (february.now, february.previous, february.year_ago) == ("2", "1", "1")
    winter = report_of([agency], Period(date(2025, 12, 15), date(2026, 1, 14)))
    assert (winter.previous.start, winter.previous.end) == (date(2025, 11, 14), date(2025, 12, 14))
    searches = by_key(winter)["searches"]
    # 20 Dec and 14 Jan; before: 1 Dec and 14 Nov; a year earlier (15 Dec 2024 - 14 Jan 2025): 15 Dec 2024.
    assert (searches.now, searches.previous, searches.year_ago) == ("2", "2", "1")
    assert searches.vs_previous == "the same as the previous period"


@pytest.mark.parametrize("query, label", [
    ("preset=last_quarter", "1 Jul 2026 – 30 Sep 2026"),
    ("preset=this_year", "1 Jan 2026 – 20 Nov 2026"),
    ("preset=last_year&year=fiscal", "1 Jul 2025 – 30 Jun 2026"),
    ("preset=this_quarter&year=fiscal", "1 Oct 2026 – 20 Nov 2026"),
    ("preset=last_quarter&year=fiscal", "1 Jul 2026 – 30 Sep 2026"),
])
def test_quarterly_and_yearly_presets_with_the_funders_fiscal_year(client, login_as, program, query, label):
    north, *_ = program
    with time_machine.travel(utc(2026, 11, 20, 20), tick=False):
        funder_of(login_as, north, fiscal_year_start=7)
        page = client.get(f"/reports/impact?{query}").get_data(as_text=True)
    assert f"<strong>{label}</strong>" in page
    assert "Fiscal (from July)" in page


@pytest.mark.parametrize("query, message", [
    ("start=2026-03-01&end=2026-02-01", "The end date is before the start date."),
    ("preset=next_decade", "Choose a period from the list."),
    ("year=lunar", "Choose calendar or fiscal years."),
])
def test_bad_periods_get_a_clear_message_never_a_500(client, login_as, program, query, message):
    funder_of(login_as, program[0])
    response = client.get(f"/reports/impact?{query}")
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    for url in ("/reports/impact.csv", "/reports/impact.pdf", "/reports/impact/trend.png"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400 and message in response.get_data(as_text=True), url


def test_a_period_to_9999_and_an_unknown_paper_are_handled(client, login_as, program):
    funder_of(login_as, program[0])
    assert client.get("/reports/impact?start=2026-01-01&end=9999-12-31").status_code == 200
    assert client.get("/reports/impact?start=2030-01-01").status_code == 200
    response = client.get(f"/reports/impact.pdf?paper=a5&{Q1}")
    assert response.status_code == 400 and "choose a4 or letter" in response.get_data(as_text=True)


def test_an_agency_not_granted_is_404_on_every_surface(client, login_as, program):
    north, *_, hidden = program
    funder_of(login_as, north)
    for url in ("/reports/impact", "/reports/impact.csv", "/reports/impact.pdf", "/reports/impact/trend.png"):
        assert client.get(f"{url}?agency={hidden.id}").status_code == 404, url
        assert client.get(f"{url}?agency={north.id}").status_code == 200, url


# --------------------------------------------------------------------------- case outcomes and suppression

def test_outcomes_are_suppressed_so_that_no_small_count_can_be_worked_out(program):
    north, south, east, _ = program
    report = report_of([north, south, east])
    arrests = {a.name: a.outcomes["arrests"] for a in report.agencies}
    # North 6, South 3, East 12; West = North + South = 9, all = 21. Beside West's 9, North's 6 would
    # give South's 3 away, so North is withheld too.
    assert arrests == {"North Task Force": "not shown", "South Task Force": "fewer than 5", "East Task Force": "12"}
    regions = {r.region: r.outcomes["arrests"] for r in report.regions}
    assert regions == {"East": "12", "West": "9"}
    assert by_key(report)["arrests"].now == "21"
    children = {a.name: a.outcomes["children_safeguarded"] for a in report.agencies}
    assert children["North Task Force"] == "fewer than 5" and by_key(report)["children_safeguarded"].now == "fewer than 5"
    # Previous period: North's 7 arrests; a change against a suppressed count is not given in words.
    assert by_key(report)["arrests"].previous == "7"
    assert by_key(report)["children_safeguarded"].vs_previous.startswith("not compared with the previous period")
    assert report.outcome_coverage == "Case outcomes are recorded for 4 of 5 searches so far; the rest follow as cases progress."


def test_a_single_agency_shows_a_small_total_as_fewer_than_5(program):
    south = program[1]
    report = report_of([south])
    assert by_key(report)["arrests"].now == "fewer than 5"
    assert by_key(report)["arrests"].sentence == "Fewer than 5 arrests followed."
    assert report.regions == []  # no national view for one agency


def test_per_agency_figures_add_up_to_the_metrics_totals(program):
    north, south, east, _ = program
    report = report_of([north, south, east])
    totals = by_key(report)
    assert sum(a.searches for a in report.agencies) == int(totals["searches"].now)
    assert sum(a.devices_found for a in report.agencies) == int(totals["devices_found"].now)
    assert sum(a.found_after_missed for a in report.agencies) == int(totals["found_after_human_missed"].now)
    assert sum(r.agencies for r in report.regions) == 3
    assert report.certified_share == "1 of 3 agencies (33%) have a dog with a valid certification today"


def test_a_managers_new_outcome_shows_in_the_funders_report_at_once(client, login_as, program):
    north, south, east, _ = program
    funder_of(login_as, north, south, east)
    assert "33 charges were filed." in client.get(f"/reports/impact?{Q1}").get_data(as_text=True)
    outcome = db.session.scalars(select(CaseOutcome).where(CaseOutcome.agency_id == east.id)).one()
    outcome.charges = 30
    db.session.commit()
    assert "43 charges were filed." in client.get(f"/reports/impact?{Q1}").get_data(as_text=True)


# --------------------------------------------------------------------------- CSV, PDF, print: no leaks

def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("paper, size", [("a4", A4_POINTS), ("letter", LETTER_POINTS)])
def test_the_pdf_is_one_page_for_one_agency_and_two_with_the_agency_table(client, login_as, program, paper, size):
    north, south, east, _ = program
    funder = funder_of(login_as, north)
    response = client.get(f"/reports/impact.pdf?paper={paper}&{Q1}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader, text = pdf_text(response.data)
    assert len(reader.pages) == 1
    assert tuple(round(float(v)) for v in reader.pages[0].mediabox.upper_right) == size
    flat = " ".join(text.split())
    assert "The dogs were called to 3 real searches." in flat
    assert "up 2 from the previous period" in flat and "likely between" not in flat  # North has no training hides
    assert f"by {funder.name}" in flat and "SHA-256" in flat
    assert [word for word in SECRETS if word in flat] == []
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "impact_report")).one()
    assert entry.user_id == funder.id and entry.changes["paper"] == [None, paper]

    funder.granted_agencies = [north, south, east]
    db.session.commit()
    reader, text = pdf_text(client.get(f"/reports/impact.pdf?paper={paper}&{Q1}").data)
    assert len(reader.pages) == 2
    flat = " ".join(" ".join(reader.pages[1].extract_text().split()).split())
    assert "By agency" in flat and "South Task Force" in flat and "fewer than 5" in flat
    assert "Hidden Task Force" not in flat


def test_funders_never_see_case_data_on_any_new_surface(client, login_as, program):
    north, south, east, hidden = program
    funder_of(login_as, north, south, east)
    surfaces = {
        "page": client.get(f"/reports/impact?{Q1}").get_data(as_text=True),
        "print view": client.get(f"/reports/impact?{Q1}&preset=").get_data(as_text=True),
        "csv": client.get(f"/reports/impact.csv?{Q1}").get_data(as_text=True),
        "pdf": pdf_text(client.get(f"/reports/impact.pdf?{Q1}").data)[1],
        "chart": client.get(f"/reports/impact/trend.png?{Q1}").data.decode("latin-1"),
    }
    for name, text in surfaces.items():
        flat = " ".join(text.split())
        assert [word for word in SECRETS if word in flat] == [], name
        assert "Other Requesting PD" not in flat, name
    # The hidden agency's 40 arrests and 9 missed devices count nowhere.
    assert "21 arrests followed." in surfaces["page"]
    # The CSV holds the suppressed texts, never South's 3 arrests.
    rows = list(csv.reader(io.StringIO(surfaces["csv"].lstrip("\ufeff"))))
    south_row = next(r for r in rows if r[1] == "South Task Force")
    assert "Arrests: fewer than 5" in south_row[-1]
    north_row = next(r for r in rows if r[1] == "North Task Force")
    assert "Arrests: not shown" in north_row[-1]
    assert next(r for r in rows if r[1] == "Arrests")[2:5] == ["21", "7", "none recorded"]


def test_managers_and_handlers_reach_none_of_the_funder_surfaces(client, login_as, program):
    north = program[0]
    login_as("manager", north)
    for url in ("/reports/impact", "/reports/impact.csv", "/reports/impact.pdf", "/reports/impact/trend.png"):
        assert client.get(url).status_code == 404, url
