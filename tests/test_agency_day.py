"""The agency's day: at 19:30 on 30 November in Los Angeles the server's clock (UTC) already says
1 December, and every page of a Pacific agency must still work on 30 November."""
from __future__ import annotations

import html as html_text
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine

from esd import dates
from esd.agency_day import today_of
from esd.extensions import db
from esd.models import Notification
from tests.helpers import (make_agency, make_certification, make_deployment, make_dog, make_handler, make_session,
                           make_team)

PACIFIC, EASTERN = "America/Los_Angeles", "America/New_York"
EVENING_IN_LOS_ANGELES = datetime(2026, 12, 1, 3, 30, tzinfo=timezone.utc)  # 19:30 PST on 30 November
ESD = Path(__file__).resolve().parent.parent / "esd"
# The server's clock standing for a person's day: naive now, the server's date, the deprecated utcnow.
SERVER_CLOCK = re.compile(r"\bdate\.today\(\)|\bdatetime\.(?:now\(\s*\)|utcnow\(|today\()")


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def test_no_server_clock_in_esd():
    found = [f"{path.relative_to(ESD.parent)}:{number}: {line.strip()}"
             for path in sorted(ESD.rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if SERVER_CLOCK.search(line)]
    assert found == [], "use the agency's day (Agency.today(now), esd.dates) instead of:\n" + "\n".join(found)


@pytest.mark.parametrize("tz, moment, expected", [
    (PACIFIC, EVENING_IN_LOS_ANGELES, date(2026, 11, 30)),
    (EASTERN, datetime(2026, 12, 1, 4, 30, tzinfo=timezone.utc), date(2026, 11, 30)),  # 23:30 EST
    (EASTERN, datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc), date(2026, 12, 1)),   # 03:30 EST
])
def test_today_is_the_agencys_day(tz, moment, expected):
    agency = make_agency(timezone=tz)
    assert agency.today(moment) == expected
    with at(moment):
        assert agency.today() == expected


def test_local_times_carry_the_zones_abbreviation():
    agency = make_agency(timezone=PACIFIC)
    assert agency.local(EVENING_IN_LOS_ANGELES).strftime("%Y-%m-%d %H:%M") == "2026-11-30 19:30"
    assert agency.format_time(EVENING_IN_LOS_ANGELES) == "2026-11-30 19:30 PST"
    assert agency.format_time(datetime(2026, 7, 1, 2, 30, tzinfo=timezone.utc)) == "2026-06-30 19:30 PDT"


@pytest.mark.parametrize("tz, label", [
    (PACIFIC, "Pacific Time (Los Angeles)"), (EASTERN, "Eastern Time (New York)"),
    ("America/Chicago", "Central Time (Chicago)"), ("America/Phoenix", "Mountain Time (Phoenix)"),
    ("UTC", "Coordinated Universal Time (UTC)"),
])
def test_zones_are_named_as_people_say_them(tz, label):
    assert make_agency(timezone=tz).zone_label == label


@pytest.mark.parametrize("day, months, expected", [
    (date(2026, 12, 31), 1, date(2027, 1, 1)), (date(2026, 1, 31), 1, date(2026, 2, 1)),
    (date(2026, 11, 30), -11, date(2025, 12, 1)), (date(2026, 3, 15), -3, date(2025, 12, 1)),
    (date(2026, 12, 1), 0, date(2026, 12, 1)),
])
def test_month_arithmetic(day, months, expected):
    assert dates.add_months(day, months) == expected


def test_twelve_months_end_on_the_day_given():
    assert dates.twelve_months_to(date(2026, 11, 30)) == (date(2025, 12, 1), date(2026, 11, 30))
    assert dates.months_between(date(2026, 11, 5), date(2027, 1, 2)) == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]


def test_across_agencies_today_is_the_day_begun_in_all_of_them():
    pacific, eastern = make_agency(timezone=PACIFIC), make_agency(timezone=EASTERN)
    morning_in_new_york = datetime(2026, 12, 1, 7, 30, tzinfo=timezone.utc)  # 23:30 in Los Angeles
    assert today_of([eastern.id], morning_in_new_york) == date(2026, 12, 1)
    assert today_of([pacific.id, eastern.id], morning_in_new_york) == date(2026, 11, 30)


# --------------------------------------------------------------------------- pages at 19:30 PST

@pytest.fixture
def pacific_team():
    """A Pacific agency's dog trained two hours on 28 November, local evening."""
    agency = make_agency(timezone=PACIFIC)
    dog, handler = make_dog(agency, name="Ruger"), make_handler(agency)
    make_team(dog, handler)
    make_session(dog, handler, hides=[{"outcome": "found"}], duration_minutes=120,
                 started_at=datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc))  # 18:00 PST on the 28th
    db.session.commit()
    return agency, dog, handler


def period_of(html: str) -> str:
    match = re.search(r'data-test="period">(.*?)</p>', html, re.S)
    assert match, "the dashboard states its period"
    return " ".join(html_text.unescape(match.group(1)).split())


def test_program_dashboard_ends_on_the_agencys_day(client, login_as, pacific_team):
    agency, *_ = pacific_team
    with at(EVENING_IN_LOS_ANGELES):
        login_as("manager", agency)
        html = client.get("/reports/dashboard").get_data(as_text=True)
    period = period_of(html)
    assert period.startswith("2025-12-01 to 2026-11-30")
    assert "Pacific Time (Los Angeles)" in period


def test_funder_dashboard_ends_on_the_agencys_day_and_names_the_zones(client, login_as, pacific_team):
    pacific, *_ = pacific_team
    eastern = make_agency(timezone=EASTERN)
    db.session.commit()
    morning_in_new_york = datetime(2026, 12, 1, 7, 30, tzinfo=timezone.utc)  # 23:30 in Los Angeles
    with at(morning_in_new_york):
        login_as("funder", granted_agencies=[pacific, eastern])
        period = period_of(client.get("/reports/impact").get_data(as_text=True))
    # New York is in 1 December, Los Angeles still in 30 November: the period ends on the day both reached.
    assert "1 Dec 2025 – 30 Nov 2026" in period
    assert "each agency's own time zone" in period
    assert "Eastern Time (New York)" in period and "Pacific Time (Los Angeles)" in period


@pytest.mark.parametrize("moment, end", [
    (datetime(2026, 12, 1, 4, 30, tzinfo=timezone.utc), "2026-11-30"),  # 23:30 in New York
    (datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc), "2026-12-01"),  # 03:30 in New York
])
def test_eastern_dashboard_turns_the_day_at_its_own_midnight(client, login_as, moment, end):
    agency = make_agency(timezone=EASTERN)
    db.session.commit()
    with at(moment):
        login_as("manager", agency)
        period = period_of(client.get("/reports/dashboard").get_data(as_text=True))
    assert f"to {end}" in period


def test_reliability_record_is_as_of_the_agencys_day(client, login_as, pacific_team):
    agency, dog, _ = pacific_team
    with at(EVENING_IN_LOS_ANGELES):
        login_as("manager", agency)
        html = client.get(f"/dogs/{dog.id}/reliability-record").get_data(as_text=True)
        tomorrow = client.get(f"/dogs/{dog.id}/reliability-record?as_of=2026-12-01")
    assert "as of 2026-11-30" in html
    assert "2026-11-30 19:30 PST (Pacific Time (Los Angeles))" in html  # the Generated line
    assert "2026-11" in html and "2026-12" not in html  # no empty December "0.0 h, 16.0 h short" row
    assert tomorrow.status_code == 400  # 1 December has not begun in Los Angeles


def test_training_overview_counts_the_agencys_month(client, login_as, pacific_team):
    agency, dog, _ = pacific_team
    with at(EVENING_IN_LOS_ANGELES):
        login_as("manager", agency)
        html = client.get("/training").get_data(as_text=True)
    assert "today is Monday 30 November 2026 there" in html
    row = re.search(rf'data-dog="{dog.id}".*?</tr>', html, re.S).group(0)
    assert "2.0 / 16 h" in row  # November's hours, not an empty December


def test_status_board_counts_days_from_the_agencys_day(client, login_as, pacific_team):
    agency, dog, handler = pacific_team
    make_certification(dog, handler, issued_on=date(2025, 11, 30), expires_on=date(2026, 11, 30))
    db.session.commit()
    with at(EVENING_IN_LOS_ANGELES):
        login_as("manager", agency)
        html = client.get("/certifications").get_data(as_text=True)
    row = re.search(r'<tr class="status-\w+" data-dog="Ruger".*?</tr>', html, re.S).group(0)
    assert 'data-status="expiring"' in row and "expires today" in row


def test_dog_page_defaults_team_end_to_the_agencys_day(client, login_as, pacific_team):
    agency, dog, _ = pacific_team
    with at(EVENING_IN_LOS_ANGELES):
        login_as("manager", agency)
        html = client.get(f"/dogs/{dog.id}").get_data(as_text=True)
    assert 'id="ends_on" name="ends_on" value="2026-11-30"' in html


def test_handler_sees_the_zone_by_its_name(client, login_as, pacific_team):
    agency, dog, _ = pacific_team
    login_as("manager", agency)
    html = client.get(f"/dogs/{dog.id}/sessions").get_data(as_text=True)
    assert "Pacific Time (Los Angeles)" in html and "America/Los_Angeles" not in html



def test_an_admin_reads_each_agencys_deployments_on_its_own_days_with_the_zone(client, login_as, pacific_team):
    agency, dog, handler = pacific_team
    eastern = make_agency(timezone=EASTERN)
    eastern_dog, eastern_handler = make_dog(eastern, name="Blue"), make_handler(eastern)
    evening = datetime(2026, 12, 1, 3, 30, tzinfo=timezone.utc)  # 19:30 PST on the 30th, 22:30 EST on the 30th
    make_deployment(dog, handler, started_at=evening, case_number="PAC-1")
    make_deployment(eastern_dog, eastern_handler, started_at=evening + timedelta(hours=2), case_number="EST-1")
    db.session.commit()
    login_as("admin")
    page = html_text.unescape(client.get("/deployments?start=2026-11-30&end=2026-11-30").get_data(as_text=True))
    # 05:30 UTC on 1 December is 00:30 in New York: the Eastern deployment is on its 1 December.
    assert "2026-11-30 19:30 PST" in page and "2026-12-01 00:30 EST" not in page


def test_notifications_are_timed_in_the_agencys_zone(client, login_as, pacific_team):
    agency, *_ = pacific_team
    manager = login_as("manager", agency)
    db.session.add(Notification(user_id=manager.id, message="Rex expires soon", link="/certifications",
                                created_at=EVENING_IN_LOS_ANGELES))
    db.session.commit()
    assert "2026-11-30 19:30 PST" in client.get("/notifications").get_data(as_text=True)


@pytest.mark.parametrize("acquired_on, accepted", [("2026-12-01", True), ("2026-12-02", False)])
def test_a_dogs_dates_end_at_its_agencys_tomorrow(client, login_as, acquired_on, accepted):
    """At 19:30 on 30 November in Los Angeles, 1 December is the agency's tomorrow and 2 December is not
    (the furthest zone ahead, UTC+14, is already in 1 December: its tomorrow was the bound before)."""
    agency = make_agency(timezone=PACIFIC)
    db.session.commit()
    with at(EVENING_IN_LOS_ANGELES):
        login_as("manager", agency)
        response = client.post("/dogs/new", data={"name": "Juno", "status": "active", "acquired_on": acquired_on})
        if accepted:
            assert response.status_code == 302
        else:
            assert response.status_code == 400
            assert "Enter a day that has passed, from 1990-01-01 to 2026-12-01." in response.get_data(as_text=True)


def test_an_agencys_new_time_zone_counts_from_the_next_request(client, login_as):
    """The agencies' zones are read once per request: a zone changed meanwhile counts on the next one."""
    agency = make_agency(timezone=PACIFIC)
    dog, handler = make_dog(agency), make_handler(agency)
    make_team(dog, handler)
    # 22:00 on 30 November in Los Angeles; 15:00 on 1 December in Tokyo.
    make_session(dog, handler, hides=[{"outcome": "found"}],
                 started_at=datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc))
    db.session.commit()
    login_as("manager", agency)
    # Half a month: read from the raw rows in the agency's zone, not from the monthly rollups.
    url = f"/reports/charts/trend.csv?agency={agency.id}&start=2026-11-15&end=2026-11-30"

    def november_hides() -> int:
        rows = client.get(url).get_data(as_text=True).splitlines()
        return sum(int(row.split(",")[1]) for row in rows[1:] if row.startswith("2026-11"))
    assert november_hides() == 1
    agency.timezone = "Asia/Tokyo"
    db.session.commit()
    assert november_hides() == 0
