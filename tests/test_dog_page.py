"""The dog page, composed in its view from each area's `dog_section(dog, today, user)`: every
section's figures, and what each role may see of it."""
import html
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from esd.certifications import services as certifications
from esd.deployments import services as deployments
from esd.extensions import db
from esd.training import services as training
from tests.helpers import (make_agency, make_certification, make_deployment, make_dog, make_handler, make_session,
                           make_team, make_user)


@pytest.fixture
def juno():
    """A dog with a team, three hides (two found), a valid certification and a deployment with a find."""
    agency = make_agency(name="Metro ICAC", monthly_training_target_hours=16)
    handler = make_handler(agency, name="Officer Reyes")
    dog = make_dog(agency, name="Juno")
    make_team(dog, handler)
    make_session(dog, handler, started_at=datetime(2026, 3, 10, 14, tzinfo=timezone.utc), duration_minutes=90,
                 hides=[{"outcome": "found"}, {"outcome": "found"}, {"outcome": "missed"}])
    today = agency.today()
    make_certification(dog, handler, issued_on=today - timedelta(days=30))
    make_deployment(dog, handler, case_number="2026-CR-0042", requesting_agency="Riverside PD",
                    finds=[{"device": "Phone", "missed_by_human_search": True}])
    db.session.commit()
    return dog


def page_of(client, dog):
    response = client.get(f"/dogs/{dog.id}")
    return response.status_code, html.unescape(response.get_data(as_text=True))


def test_each_area_gives_its_section_for_a_given_day(juno):
    manager = make_user("manager", juno.agency)
    section = training.dog_section(juno, date(2026, 3, 31), manager)
    assert (section["hours"], section["target"], section["percent"]) == (1.5, 16, 9)
    assert training.dog_section(juno, date(2026, 4, 1), manager)["hours"] == 0  # the agency's next month
    assert [row["found"] for row in section["recent"]] == [2]
    certs = certifications.dog_section(juno, juno.agency.today(), manager)
    assert certs["status"] == "valid" and certs["can_manage"]
    report = deployments.dog_section(juno, date(2026, 3, 31), manager)
    assert report["total"] == 1 and report["counts"][report["rows"][0].id] == (1, 1)


def test_a_manager_sees_every_sections_figures_and_its_actions(client, login_as, juno):
    login_as("manager", juno.agency)
    status, page = page_of(client, juno)
    assert status == 200
    assert "of 16 hours" in page and "All sessions" in page and "2 of 3" in page          # training
    assert "Valid" in page and "Record certification" in page                              # certifications
    assert "2026-CR-0042" in page and "Riverside PD" in page and "Log a deployment" in page  # deployments
    assert re.search(r"67%.{0,80}\(2 of 3; 95% CI", page, re.S)                           # find rates
    today = juno.agency.today()
    assert "Reliability record" in page and f'value="{today.isoformat()}"' in page        # the packet


def test_a_handler_reads_the_page_without_the_managers_actions(client, login_as, juno):
    login_as("handler", juno.agency)
    status, page = page_of(client, juno)
    assert status == 200
    assert "of 16 hours" in page and "Valid" in page and "2026-CR-0042" in page and re.search(r"67%.{0,80}\(2 of 3", page, re.S)
    assert "Record certification" not in page and "Renew" not in page
    assert "Reliability record" not in page and f"/dogs/{juno.id}/edit" not in page


def test_an_admin_sees_every_section(client, login_as, juno):
    login_as("admin")
    status, page = page_of(client, juno)
    assert status == 200 and "2026-CR-0042" in page and "Record certification" in page and "Reliability record" in page


@pytest.mark.parametrize("role", ["funder", "manager of another agency", "handler of another agency"])
def test_a_dog_out_of_scope_is_not_found_and_shows_nothing(client, login_as, juno, role):
    if role == "funder":
        login_as("funder")
    else:
        login_as(role.split()[0], make_agency())
    status, page = page_of(client, juno)
    assert status == 404
    assert "Juno" not in page and "2026-CR-0042" not in page and "Officer Reyes" not in page


def test_the_pages_chart_numbers_are_each_charts_own(client, login_as, juno):
    """The page reads its three hide charts from one read of the dog's device × spot pairs: the numbers
    it shows are those of each chart's own table (its CSV), weakest first, blind hides or not."""
    from esd.reports import charts, metrics
    make_session(juno, make_handler(juno.agency), started_at=datetime(2026, 4, 2, 14, tzinfo=timezone.utc), duration_minutes=60,
                 hides=[{"outcome": "missed", "device": "USB drive", "spot": "Book"},
                        {"outcome": "found", "device": "USB drive", "spot": "Ceiling tile", "blind": True},
                        {"outcome": "found", "device": "microSD card", "spot": "Book"},
                        {"outcome": "missed", "device": "microSD card", "spot": "Book", "blind": True}])
    db.session.commit()
    for blind in (False, True):
        f = metrics.Filters(agency_ids=(juno.agency_id,), dog_id=juno.id, blind_only=blind)
        together = charts.training_tables(f)
        assert [t.name for t in together] == list(charts.TRAINING_CHARTS)
        assert together == [charts.CHARTS[name].table(f) for name in charts.TRAINING_CHARTS]
    device_rows = together[0].rows
    assert [row[:3] for row in device_rows] == [["microSD card", 1, 0], ["USB drive", 1, 1]]
    login_as("manager", juno.agency)
    _, page = page_of(client, juno)
    assert "USB drive" in page and "Ceiling tile" in page
