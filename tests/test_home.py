"""The home page of each role: a manager's list of what needs them (and nothing else), a handler's own
dogs, an admin's agencies with their counts, a funder's impact dashboard."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import time_machine

from esd.certifications import home as cert_home
from esd.extensions import db
from esd.models import Reminder
from esd.training import home as training_home
from tests.helpers import (make_agency, make_certification, make_dog, make_handler, make_session, make_team,
                           make_user)

TODAY = date(2026, 3, 16)  # in Chicago; 15 of March's 31 days are over: 16 h × 15/31 = 7.7 h expected by now
NOW = datetime(2026, 3, 16, 15, 0, tzinfo=timezone.utc)  # 10:00 in Chicago


def at(day: date, hour: int = 15) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def build_agency(name: str) -> SimpleNamespace:
    """An agency with one dog of each kind a manager must hear about, and one they need not."""
    agency = make_agency(name=name, timezone="America/Chicago", warning_window_days=60,
                         monthly_training_target_hours=16)
    manager = make_user("manager", agency)
    handler_user = make_user("handler", agency)
    dana = make_handler(agency, name=f"Dana of {name}", user_id=handler_user.id)
    lee = make_handler(agency, name=f"Lee of {name}")
    maverick = make_dog(agency, name="Maverick")  # certification expires in 13 days
    bolt = make_dog(agency, name="Bolt")  # certification expired 5 days ago
    juno = make_dog(agency, name="Juno")  # valid certification, behind on hours
    old = make_dog(agency, name="Old Timer", status="retired")  # retired: its lapse needs nobody
    make_team(maverick, lee)
    make_team(bolt, lee)
    make_team(juno, dana)
    expiring = make_certification(maverick, lee, issued_on=TODAY - timedelta(days=352),
                                  expires_on=TODAY + timedelta(days=13))
    make_certification(bolt, lee, issued_on=TODAY - timedelta(days=370), expires_on=TODAY - timedelta(days=5))
    make_certification(juno, dana, issued_on=TODAY - timedelta(days=100), expires_on=TODAY + timedelta(days=265))
    make_certification(old, lee, issued_on=TODAY - timedelta(days=400), expires_on=TODAY - timedelta(days=30))
    # Maverick and Bolt have trained 10 h this month and are signed off; Juno 2 h, not signed off yet.
    for dog in (maverick, bolt):
        make_session(dog, lee, started_at=at(TODAY - timedelta(days=3)), duration_minutes=600,
                     signed_off_at=at(TODAY - timedelta(days=2)), signed_off_by_id=manager.id)
    unsigned = make_session(juno, dana, started_at=at(TODAY - timedelta(days=4)), duration_minutes=120,
                            hides=[{"outcome": "found"}, {"outcome": "missed"}], created_by_id=handler_user.id)
    # Last month's hours do not count for this month.
    make_session(juno, dana, started_at=at(date(2026, 2, 27)), duration_minutes=600,
                 signed_off_at=at(date(2026, 2, 28)), signed_off_by_id=manager.id)
    failed = Reminder(certification_id=expiring.id, threshold_days=14, recipient_id=manager.id, channel="email",
                      status="failed", attempts=2, last_error="Connection refused")
    sent = Reminder(certification_id=expiring.id, threshold_days=14, recipient_id=handler_user.id,
                    channel="email", status="sent", attempts=1)
    db.session.add_all([failed, sent])
    db.session.flush()
    return SimpleNamespace(agency=agency, manager=manager, handler_user=handler_user, dana=dana, maverick=maverick,
                           bolt=bolt, juno=juno, unsigned=unsigned, expiring=expiring, failed=failed)


@pytest.fixture
def world():
    own, other = build_agency("Great Plains"), build_agency("Lakeshore")
    db.session.commit()
    return SimpleNamespace(own=own, other=other)


# ---------------------------------------------------------------- the figures, without a request

def test_certifications_to_renew_are_the_expired_and_the_expiring_most_urgent_first(world):
    rows = cert_home.needing_renewal(world.own.agency, TODAY)
    assert [(r.dog.name, r.status, r.days_left) for r in rows] == [("Bolt", "expired", -5), ("Maverick", "expiring", 13)]
    assert rows[1].handler_name == "Lee of Great Plains" and rows[1].phrase == "expires in 13 days"


def test_a_certification_outside_the_warning_window_is_not_listed(world):
    world.own.agency.warning_window_days = 12
    assert [r.dog.name for r in cert_home.needing_renewal(world.own.agency, TODAY)] == ["Bolt"]


def test_dogs_behind_on_hours_against_the_pro_rata_target(world):
    rows = training_home.behind_on_hours(world.own.agency, TODAY)
    assert [(r.dog.name, r.hours, r.expected) for r in rows] == [("Juno", 2.0, 7.7)]
    assert rows[0].shortfall == 5.7


def test_on_the_first_day_of_the_month_no_dog_is_behind_yet(world):
    assert training_home.behind_on_hours(world.own.agency, date(2026, 4, 1)) == []


def test_the_month_is_the_agencys_own(world):
    """A session at 02:00 UTC on 1 March is 20:00 on 28 February in Chicago: February's hours."""
    make_session(world.own.juno, world.own.dana, started_at=datetime(2026, 3, 1, 2, tzinfo=timezone.utc),
                 duration_minutes=300)
    rows = training_home.month_hours(world.own.agency, [world.own.juno], TODAY)
    assert rows[0].hours == 2.0


def test_failed_reminders_are_counted_per_agency(world):
    count, rows = cert_home.failed_reminders(world.own.agency)
    assert count == 1 and rows[0].id == world.own.failed.id


# ---------------------------------------------------------------- the pages

def page_of(client, path: str = "/") -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def login(client, user):
    from tests.helpers import PASSWORD
    with time_machine.travel(NOW, tick=False):
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def tagged(html: str, test: str) -> list[str]:
    """The data-dog (or data-session) of every element marked data-test=`test`."""
    return re.findall(rf'data-test="{test}" data-(?:dog|session)="([^"]+)"', html)


def test_a_manager_sees_exactly_what_needs_them_most_urgent_first(client, world):
    login(client, world.own.manager)
    html = page_of(client)
    assert tagged(html, "home-certification") == ["Bolt", "Maverick"]
    assert "expired 5 days ago" in html and "expires in 13 days" in html
    assert f"/certifications/{world.own.expiring.id}/renew" in html
    assert tagged(html, "home-behind-dog") == ["Juno"]
    assert tagged(html, "home-unsigned") == [str(world.own.unsigned.id)]
    assert 'data-test="sign-off-count">1<' in html and "/training/queue" in html
    assert html.count('data-test="home-failed-reminder"') == 1 and "Connection refused" in html
    assert "Old Timer" not in html and "Lakeshore" not in html and 'data-test="nothing-to-do"' not in html
    # Most urgent first: certifications, then sign-off, hours, failed reminders.
    order = [html.index(f'data-test="{t}"') for t in ("home-certifications", "home-sign-off", "home-behind",
                                                      "home-failed-reminders")]
    assert order == sorted(order)


def test_a_manager_with_nothing_to_do_is_told_so_plainly(client, login_as):
    with time_machine.travel(NOW, tick=False):
        manager = login_as("manager", make_agency(name="Quiet County", timezone="America/Chicago"))
    dog = make_dog(manager.agency, name="Ace")
    handler = make_handler(manager.agency)
    make_certification(dog, handler, issued_on=TODAY - timedelta(days=10))
    # A blind hide found and a blank area searched yesterday: no readiness gap either.
    make_session(dog, handler, started_at=at(TODAY - timedelta(days=1)), duration_minutes=480,
                 signed_off_at=at(TODAY), signed_off_by_id=manager.id, blank_areas=1,
                 hides=[{"outcome": "found", "blind": True}])
    db.session.commit()
    html = page_of(client)
    assert 'data-test="nothing-to-do"' in html and "Nothing needs you today" in html
    for section in ("home-certifications", "home-behind", "home-sign-off", "home-failed-reminders", "home-gaps"):
        assert f'data-test="{section}"' not in html


def test_a_handler_sees_their_own_dog_its_certification_and_last_sessions(client, world):
    login(client, world.own.handler_user)
    html = page_of(client)
    assert tagged(html, "home-my-dog") == ["Juno"]
    assert "2.0 of 16 hours" in html and "5.7 h behind" in html
    assert tagged(html, "home-my-certification") == ["Juno"] and 'data-status="valid"' in html
    assert html.count('data-test="home-last-session"') == 2
    assert 'id="home-outbox"' in html and "training/outbox.js" in html
    # A handler is not asked to sign off or renew: those are the manager's.
    for section in ("home-certifications", "home-sign-off", "home-behind", "home-failed-reminders"):
        assert f'data-test="{section}"' not in html
    assert "Maverick" not in html and "Bolt" not in html


def test_a_handler_without_a_dog_is_told_so(client, login_as):
    with time_machine.travel(NOW, tick=False):
        login_as("handler")
    assert 'data-test="no-dog"' in page_of(client)


def test_an_admin_sees_each_agency_with_its_counts(client, world):
    login(client, make_user("admin"))
    db.session.commit()
    html = page_of(client)
    rows = re.findall(r'data-agency="([^"]+)">(.*?)</tr>', html, re.S)
    assert [name for name, _ in rows] == ["Great Plains", "Lakeshore"]
    for _, cells in rows:
        counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', cells))
        mine = {"certifications": "2", "sign_off": "1", "hours": "1", "failed_reminders": "1"}
        assert {name: counts.get(name) for name in mine} == mine
        # Readiness: each agency's three working dogs have gaps (no blank search in the window, for one).
        assert counts.get("readiness") == "3"


def test_a_funder_lands_on_the_impact_dashboard(client, login_as):
    login_as("funder")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports/impact")
