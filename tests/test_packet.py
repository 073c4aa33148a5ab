"""The reliability record (discovery packet): figures, digest, PDF and scoping."""
import io
from datetime import date, datetime, timezone

import pypdf
import pytest

from esd.exports.packet import build_packet, digest, source_rows
from esd.extensions import db
from esd.models import Hide
from tests.helpers import (make_agency, make_certification, make_deployment, make_dog, make_handler,
                           make_session, make_team, make_user)

AS_OF = date(2026, 3, 15)
NOW = datetime(2026, 3, 16, 12, 0, tzinfo=timezone.utc)


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def rex(db_session):
    """A dog whose handler and certification both change shortly before the as-of date."""
    agency = make_agency(name="Metro ICAC", timezone="America/New_York")
    first, second = make_handler(agency, name="Alice Ames"), make_handler(agency, name="Bruno Baker")
    dog = make_dog(agency, name="Rex")
    make_team(dog, first, starts_on=date(2025, 1, 1), ends_on=date(2026, 2, 28))
    make_team(dog, second, starts_on=date(2026, 3, 1))
    make_certification(dog, first, issued_on=date(2025, 3, 1), expires_on=date(2026, 3, 1))
    make_certification(dog, second, issued_on=date(2026, 2, 20), expires_on=date(2027, 2, 20),
                       score_finds=4, score_hides=4, score_false_alerts=0)
    make_session(dog, second, started_at=utc(2026, 3, 10, 14), duration_minutes=60, blank_areas=2,
                 false_alerts=1, hides=[
                     {"outcome": "found", "device": "USB drive", "spot": "Book", "blind": True},
                     {"outcome": "missed", "device": "microSD card", "spot": "Electrical outlet", "blind": True},
                     {"outcome": "found", "device": "Phone", "spot": "Drawer"}])
    make_session(dog, first, started_at=utc(2026, 2, 20, 15), duration_minutes=30, hides=[
        {"outcome": "found", "device": "USB drive", "spot": "Book"},
        {"outcome": "found", "device": "USB drive", "spot": "Book"}])
    make_session(dog, first, started_at=utc(2026, 1, 5, 15), duration_minutes=90, false_alerts=2, hides=[
        {"outcome": "missed", "device": "SIM card", "spot": "Book"}])
    make_session(dog, first, started_at=utc(2025, 6, 15, 15), duration_minutes=30, hides=[
        {"outcome": "found", "device": "Phone", "spot": "Drawer"}])
    make_session(dog, first, started_at=utc(2025, 1, 10, 15), duration_minutes=45, hides=[
        {"outcome": "missed", "device": "Phone", "spot": "Drawer"}])          # older than 12 months
    make_session(dog, second, started_at=utc(2026, 3, 20, 15), duration_minutes=60, hides=[
        {"outcome": "found", "device": "Phone", "spot": "Drawer"}])           # after the as-of date
    make_deployment(dog, second, started_at=utc(2026, 3, 12, 13), case_number="26-CR-0312", finds=[
        {"device": "Phone", "missed_by_human_search": True, "evidence": "yes"},
        {"device": "USB drive", "missed_by_human_search": False, "evidence": "pending"}])
    make_deployment(dog, first, started_at=utc(2025, 11, 1, 13), alerts=[{"outcome": "unverified"}])
    make_deployment(dog, second, started_at=utc(2026, 3, 18, 13), finds=[{"device": "Phone"}])  # after
    manager = make_user("manager", agency, name="Maria Manager")
    db_session.commit()
    return dog, manager


def test_team_and_certifications_on_the_as_of_date(rex):
    dog, manager = rex
    packet = build_packet(dog, AS_OF, manager, NOW, with_charts=False)
    assert packet.team_on_date.handler.name == "Bruno Baker"
    assert [t.handler.name for t in packet.teams] == ["Alice Ames", "Bruno Baker"]
    assert [c.issued_on for c in packet.valid_certifications] == [date(2026, 2, 20)]
    assert len(packet.certifications) == 2


@pytest.mark.parametrize("label, sessions, hours, hides, found, blind, blind_found, alerts, per100", [
    ("30 days", 2, 1.5, 5, 4, 2, 1, 1, 20.0),
    ("90 days", 3, 3.0, 6, 4, 2, 1, 3, 50.0),
    ("12 months", 4, 3.5, 7, 5, 2, 1, 3, 300 / 7),
])
def test_training_windows_against_hand_computed_figures(rex, label, sessions, hours, hides, found, blind,
                                                        blind_found, alerts, per100):
    dog, manager = rex
    window = {w.label: w for w in build_packet(dog, AS_OF, manager, NOW, with_charts=False).windows}[label]
    assert window.totals.sessions == sessions
    assert window.totals.hours == pytest.approx(hours)
    assert (window.totals.hides, window.totals.found) == (hides, found)
    assert (window.blind.n, window.blind.found) == (blind, blind_found)
    assert (window.known.n, window.known.found) == (hides - blind, found - blind_found)
    assert window.totals.false_alerts == alerts
    assert window.totals.false_alerts_per_100_hides == pytest.approx(per100)
    assert window.blanks == 2


def test_field_record_stops_at_the_as_of_date(rex):
    dog, manager = rex
    impact = build_packet(dog, AS_OF, manager, NOW, with_charts=False).impact
    assert (impact.deployments, impact.devices_found, impact.found_after_human_missed,
            impact.finds_with_evidence, impact.unverified_alerts) == (2, 2, 1, 1, 1)


def test_device_type_rates_cover_twelve_months(rex):
    dog, manager = rex
    rates = {r.label: (r.found, r.n) for r in build_packet(dog, AS_OF, manager, NOW, with_charts=False).device_rates}
    assert rates == {"USB drive": (3, 3), "microSD card": (0, 1), "Phone": (2, 2), "SIM card": (0, 1)}


def test_digest_is_stable_for_unchanged_records(rex):
    dog, _ = rex
    assert digest(source_rows(dog, AS_OF)) == digest(source_rows(dog, AS_OF))


def test_digest_ignores_records_after_the_as_of_date(rex, db_session):
    dog, _ = rex
    before = digest(source_rows(dog, AS_OF))
    make_session(dog, dog.teams[0].handler, started_at=utc(2026, 4, 2, 15), hides=[{"outcome": "found"}])
    db_session.commit()
    assert digest(source_rows(dog, AS_OF)) == before


def test_digest_changes_when_one_hide_changes(rex, db_session):
    dog, _ = rex
    before = digest(source_rows(dog, AS_OF))
    rows = source_rows(dog, AS_OF)
    from esd.models import Hide
    hide = db.session.get(Hide, rows["hide"][0]["id"])
    hide.outcome = "missed" if hide.outcome == "found" else "found"
    db_session.commit()
    assert digest(source_rows(dog, AS_OF)) != before


def test_a_second_packet_has_the_same_charts_until_a_record_changes(client, rex, db_session):
    dog, manager = rex
    client.post("/login", data={"email": manager.email, "password": "correct horse battery staple"})
    assert client.get(f"/dogs/{dog.id}/reliability-record.pdf?as_of=2026-03-15").status_code == 200
    # Building a packet writes an audit entry; the unchanged records still give the same charts.
    first = build_packet(dog, AS_OF, manager, NOW).charts
    assert build_packet(dog, AS_OF, manager, NOW).charts == first

    old = build_packet(dog, AS_OF, manager, NOW).charts["device_type"]
    hide = db.session.get(Hide, source_rows(dog, AS_OF)["hide"][0]["id"])
    hide.outcome = "missed" if hide.outcome == "found" else "found"
    db_session.commit()
    new = build_packet(dog, AS_OF, manager, NOW).charts["device_type"]
    assert new != old


def test_pdf_is_valid_and_holds_the_figures(client, rex):
    dog, manager = rex
    client.post("/login", data={"email": manager.email, "password": "correct horse battery staple"})
    response = client.get(f"/dogs/{dog.id}/reliability-record.pdf?as_of=2026-03-15")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Reliability record: Rex" in text
    assert "80.0% (4 of 5" in text          # 30-day find rate
    assert "26-CR-0312" in text             # the deployment before the as-of date
    assert "Bruno Baker" in text
    packet_digest = digest(source_rows(dog, AS_OF))
    assert packet_digest in text.replace("\n", "")


def test_printable_page_shows_the_record_and_a_pdf_link(client, rex):
    dog, manager = rex
    client.post("/login", data={"email": manager.email, "password": "correct horse battery staple"})
    page = client.get(f"/dogs/{dog.id}/reliability-record?as_of=2026-03-15").get_data(as_text=True)
    assert "Reliability record: Rex" in page
    assert digest(source_rows(dog, AS_OF)) in page
    assert f"/dogs/{dog.id}/reliability-record.pdf?as_of=2026-03-15" in page
    assert 'src="data:image/png;base64,' in page


def test_deployment_packet_is_as_of_the_deployment_date(client, rex):
    dog, manager = rex
    from esd.models import Deployment
    deployment = db.session.query(Deployment).filter_by(case_number="26-CR-0312").one()
    client.post("/login", data={"email": manager.email, "password": "correct horse battery staple"})
    page = client.get(f"/deployments/{deployment.id}/packet").get_data(as_text=True)
    assert "as of 2026-03-12" in page


@pytest.mark.parametrize("as_of, message", [("yesterday", "as_of must be a date"),
                                            ("0001-01-01", "as_of must be a date"),
                                            ("\u0662\u0660\u0662\u0666-01-01", "as_of must be a date"),
                                            ("2999-01-01", "The as-of date is in the future")])
def test_bad_as_of_dates_are_refused_with_a_message(client, rex, as_of, message):
    dog, manager = rex
    client.post("/login", data={"email": manager.email, "password": "correct horse battery staple"})
    response = client.get(f"/dogs/{dog.id}/reliability-record?as_of={as_of}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_no_packet_for_another_agencys_dog(client, login_as, rex):
    dog, _ = rex
    login_as("manager", make_agency())
    assert client.get(f"/dogs/{dog.id}/reliability-record").status_code == 404
    assert client.get(f"/dogs/{dog.id}/reliability-record.pdf").status_code == 404


def test_funders_get_no_packet(client, login_as, rex):
    dog, _ = rex
    funder = login_as("funder")
    funder.granted_agencies.append(dog.agency)
    db.session.commit()
    assert client.get(f"/dogs/{dog.id}/reliability-record").status_code == 404
