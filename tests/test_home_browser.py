"""A manager's morning in Chromium on a tablet (820×1180): the home page, the sign-off queue, a bulk
sign-off; a handler's home with a session still waiting on the tablet. Takes the README's screenshots."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from esd.extensions import db
from esd.models import Notification, Reminder, TrainingSession
from tests.browser import screenshot
from tests.helpers import (make_agency, make_certification, make_dog, make_handler, make_session, make_team,
                           make_user)
from tests.test_training_browser import add_found_hide, fill_session_basics, open_form, tap

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture
def great_plains():
    """Great Plains (Chicago): Maverick's certification lapses in 13 days, Bolt's lapsed 5 days ago,
    three sessions wait for sign-off, one reminder e-mail failed."""
    agency = make_agency(name="Great Plains ICAC", timezone="America/Chicago")
    today = agency.today()
    manager = make_user("manager", agency, name="Sgt. Carla Ortiz")
    handler_user = make_user("handler", agency, name="Officer Dana Reyes")
    dana = make_handler(agency, name="Officer Dana Reyes", user_id=handler_user.id)
    lee = make_handler(agency, name="Officer Lee Park")
    maverick, bolt, juno = (make_dog(agency, name=n) for n in ("Maverick", "Bolt", "Juno"))
    make_team(maverick, lee)
    make_team(bolt, lee)
    make_team(juno, dana)
    expiring = make_certification(maverick, lee, issued_on=today - timedelta(days=352),
                                  expires_on=today + timedelta(days=13))
    make_certification(bolt, lee, issued_on=today - timedelta(days=370), expires_on=today - timedelta(days=5))
    make_certification(juno, dana, issued_on=today - timedelta(days=30))
    noon = datetime.combine(today, time(18), tzinfo=timezone.utc)
    sessions = [make_session(dog, handler, started_at=noon - timedelta(days=days), duration_minutes=90,
                             hides=[{"outcome": "found", "device": "microSD card", "seconds_to_find": 40},
                                    {"outcome": "missed", "device": "USB drive", "blind": True}],
                             notes="Outlet hides at mid height", created_by_id=handler_user.id)
                for dog, handler, days in ((juno, dana, 6), (maverick, lee, 4), (bolt, lee, 2))]
    db.session.add(Reminder(certification_id=expiring.id, threshold_days=14, recipient_id=manager.id,
                            channel="email", status="failed", attempts=1,
                            last_error="SMTP server refused the connection"))
    db.session.add(Notification(user_id=manager.id, message="Maverick's certification expires in 13 days",
                                link="/certifications"))
    db.session.commit()
    return {"agency": agency, "manager": manager, "handler_user": handler_user, "sessions": sessions}


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_manager_sees_the_morning_and_signs_off_two_sessions_at_once(page, live_server, browser_login,
                                                                       great_plains):
    browser_login(page, great_plains["manager"])
    page.goto(f"{live_server}/")
    certs = page.locator("[data-test=home-certification]")
    assert certs.count() == 2
    assert "Bolt" in certs.nth(0).inner_text() and "expired 5 days ago" in certs.nth(0).inner_text()
    assert "Maverick" in certs.nth(1).inner_text() and "expires in 13 days" in certs.nth(1).inner_text()
    assert page.locator("[data-test=sign-off-count]").inner_text() == "3"
    assert "SMTP server refused" in page.locator("[data-test=home-failed-reminders]").inner_text()
    screenshot(page, "home-manager")
    for viewport in (TABLET, PHONE):  # the bell is outside the collapsed menu, the page fits
        page.set_viewport_size(viewport)
        assert not page.locator("#mainnav").is_visible()
        assert page.get_by_role("link", name="Notifications, 1 unread", exact=True).is_visible()
        assert fits(page)
    page.set_viewport_size(TABLET)

    page.get_by_role("link", name="Open the sign-off queue").click()
    page.wait_for_url(f"{live_server}/training/queue")
    rows = page.locator("[data-test=queue-row]")
    assert rows.count() == 3 and "Juno" in rows.nth(0).inner_text()  # oldest first
    panel = rows.nth(0).locator("details")
    panel.locator("summary").click()
    assert panel.locator("table").is_visible() and "microSD card" in panel.inner_text()
    assert "Outlet hides at mid height" in panel.inner_text()
    juno, maverick, bolt = great_plains["sessions"]
    tap(page.locator(f"label[for=pick-{juno.id}]"))
    tap(page.locator(f"label[for=pick-{bolt.id}]"))
    assert page.locator("[data-test=sign-off-chosen]").inner_text().strip().endswith("(2)")
    screenshot(page, "sign-off-queue")
    with page.expect_navigation():
        page.locator("[data-test=sign-off-chosen]").click()
    assert "2 sessions signed off." in page.locator(".alert-success").first.inner_text()
    assert page.locator("[data-test=queue-row]").count() == 1
    assert page.locator(f"[data-test=queue-row][data-session='{maverick.id}']").count() == 1
    db.session.commit()  # see the server's writes
    signed = set(db.session.scalars(select(TrainingSession.id).where(TrainingSession.signed_off_at.is_not(None))))
    assert signed == {juno.id, bolt.id}
    tick_all = page.locator("[data-tick-all]")
    assert tick_all.inner_text() == "Tick all listed"
    tick_all.click()
    assert page.locator(f"#pick-{maverick.id}").is_checked() and tick_all.inner_text() == "Untick all"
    page.set_viewport_size(PHONE)
    assert fits(page)

    page.goto(f"{live_server}/")
    assert page.locator("[data-test=sign-off-count]").inner_text() == "1"


def test_a_handler_sees_a_session_still_waiting_on_the_tablet(page, live_server, browser_login, great_plains):
    browser_login(page, great_plains["handler_user"])
    page.goto(f"{live_server}/")
    assert page.locator("[data-test=home-my-dog]").count() == 1 and "Juno" in page.locator("[data-test=home-my-dog]").inner_text()
    assert page.locator("#home-outbox").is_hidden()  # nothing waits on this tablet yet

    open_form(page, live_server)
    page.context.set_offline(True)
    fill_session_basics(page)
    add_found_hide(page, "SIM card", "Book", 20)
    tap(page.locator("[data-test=save]"))
    page.locator("[data-test=queue-status]").get_by_text("1 session waiting to upload").wait_for()
    # Back online with the server unreachable for uploads: the session stays on the tablet.
    page.context.route("**/api/sessions", lambda route: route.abort())
    page.context.set_offline(False)
    page.goto(f"{live_server}/")
    waiting = page.locator("[data-test=outbox-item]")
    waiting.first.wait_for()
    assert waiting.count() == 1 and "Juno" in waiting.inner_text() and "waiting" in waiting.inner_text()
    screenshot(page, "home-handler")

    page.context.unroute("**/api/sessions")
    open_form(page, live_server)  # the training log uploads what waits
    page.locator("[data-test=queue-status]").wait_for(state="hidden")
    page.goto(f"{live_server}/")
    page.wait_for_load_state("networkidle")
    assert page.locator("#home-outbox").is_hidden()
    assert page.locator("[data-test=home-last-session]").count() == 2
