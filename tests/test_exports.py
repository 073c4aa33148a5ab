"""CSV and ZIP exports: what a manager downloads is what the database holds, and nothing more."""
import csv
import io
import zipfile
from datetime import date, datetime, timezone

import pytest

from esd.exports.services import EXPORTS, cell
from esd.spreadsheets import safe_cell
from esd.models import AuditEntry
from tests.helpers import make_agency, make_deployment, make_dog, make_handler, make_session, make_team


def read_csv(response):
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff"), "UTF-8 BOM so spreadsheets read accents right"
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.fixture
def two_agencies(db_session):
    own, other = make_agency(name="Own TF"), make_agency(name="Other TF")
    records = {}
    for agency in (own, other):
        handler = make_handler(agency, name=f"Handler of {agency.name}")
        dog = make_dog(agency, name=f"Dog of {agency.name}")
        make_team(dog, handler)
        make_session(dog, handler, hides=[{"outcome": "found", "device": "USB drive", "spot": "Book"},
                                          {"outcome": "missed", "device": "microSD card"}],
                     false_alerts=1, notes="=HYPERLINK(\"http://evil\")",
                     started_at=datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc))
        make_deployment(dog, handler, finds=[{"device": "Phone", "missed_by_human_search": True}],
                        case_number=f"CASE-{agency.name}")
        records[agency.name] = (agency, dog, handler)
    db_session.commit()
    return own, other


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+44 20", "'+44 20"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("plain", "plain"), (-2, -2), (True, "yes"), (None, ""),
    (date(2026, 3, 1), "2026-03-01"),
    (datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc), "2026-03-01 12:30:00"),
])
def test_cells_are_neutralised_for_spreadsheets(value, expected):
    assert safe_cell(cell(value)) == expected  # as the export writes it


def test_sessions_csv_round_trips_and_neutralises_formulas(client, login_as, two_agencies):
    own, _ = two_agencies
    login_as("manager", own)
    rows = read_csv(client.get("/exports/sessions.csv"))
    assert len(rows) == 1
    assert rows[0]["dog"] == "Dog of Own TF"
    assert rows[0]["started_at_utc"] == "2026-03-10 14:00:00"
    assert rows[0]["notes"] == "'=HYPERLINK(\"http://evil\")"


def test_hides_csv_matches_database(client, login_as, two_agencies):
    own, _ = two_agencies
    login_as("manager", own)
    rows = read_csv(client.get("/exports/hides.csv"))
    assert [(r["device_type"], r["hiding_spot"], r["outcome"]) for r in rows] == [
        ("USB drive", "Book", "found"), ("microSD card", "Book", "missed")]


def test_export_never_contains_another_agencys_records(client, login_as, two_agencies):
    own, _ = two_agencies
    login_as("manager", own)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/exports/all.zip").data))
    assert sorted(archive.namelist()) == sorted(f"{kind}.csv" for kind in EXPORTS)
    everything = "".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    assert "Other TF" not in everything and "CASE-Other TF" not in everything
    assert "CASE-Own TF" in everything


def test_admin_exports_every_agency(client, login_as, two_agencies):
    login_as("admin")
    rows = read_csv(client.get("/exports/deployments.csv"))
    assert sorted(r["case_number"] for r in rows) == ["CASE-Other TF", "CASE-Own TF"]


def test_date_range_limits_rows(client, login_as, two_agencies):
    own, _ = two_agencies
    login_as("manager", own)
    assert len(read_csv(client.get("/exports/sessions.csv?start=2026-03-10&end=2026-03-10"))) == 1
    assert read_csv(client.get("/exports/sessions.csv?start=2026-03-11")) == []


def test_end_before_start_is_refused_with_a_message(client, login_as, two_agencies):
    own, _ = two_agencies
    login_as("manager", own)
    response = client.get("/exports/sessions.csv?start=2026-03-10&end=2026-03-01")
    assert response.status_code == 400
    assert b"The end date is before the start date." in response.data


@pytest.mark.parametrize("role", ["handler", "funder"])
def test_handlers_and_funders_get_no_export(client, login_as, two_agencies, role):
    own, _ = two_agencies
    login_as(role, own if role == "handler" else None)
    assert client.get("/exports/all.zip").status_code == 404
    assert client.get("/exports/dogs.csv").status_code == 404


def test_each_export_is_audited(client, login_as, two_agencies, db_session):
    own, _ = two_agencies
    user = login_as("manager", own)
    client.get("/exports/finds.csv")
    entry = db_session.query(AuditEntry).filter_by(action="export").one()
    assert (entry.entity, entry.user_id) == ("finds", user.id)


def test_csv_times_are_local_with_the_zone_beside_utc_and_ranges_are_the_agencys_days(client, login_as):
    """19:30 PST on 30 November is 03:30 UTC on 1 December: a Pacific export of 30 November holds it."""
    agency = make_agency(name="Pacific TF", timezone="America/Los_Angeles")
    handler = make_handler(agency)
    dog = make_dog(agency)
    make_team(dog, handler)
    make_session(dog, handler, started_at=datetime(2026, 12, 1, 3, 30, tzinfo=timezone.utc))
    make_session(dog, handler, started_at=datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc))  # 1 December
    make_session(dog, handler, started_at=datetime(2026, 7, 1, 2, 0, tzinfo=timezone.utc))  # summer: PDT
    login_as("manager", agency)
    rows = read_csv(client.get("/exports/sessions.csv?start=2026-11-30&end=2026-11-30"))
    assert [(r["started_at_local"], r["started_at_utc"], r["time_zone"]) for r in rows] == [
        ("2026-11-30 19:30:00 PST", "2026-12-01 03:30:00", "America/Los_Angeles")]
    every = read_csv(client.get("/exports/sessions.csv"))
    assert [r["started_at_local"] for r in every] == [
        "2026-06-30 19:00:00 PDT", "2026-11-30 19:30:00 PST", "2026-12-01 00:30:00 PST"]
    header = list(every[0])
    assert header.index("started_at_local") + 1 == header.index("started_at_utc")
