"""A double-blind session on a tablet (820×1180) in Chromium: the observer records the areas offline, the
outcomes upload once when the tablet is back online, and the trainer closes and reveals the plan."""
import pytest
from sqlalchemy import select

from esd.extensions import db
from esd.models import PlannedArea, PlannedSession
from tests.assessment_builders import area, make_plan
from tests.browser import screenshot
from tests.helpers import make_agency, make_dog, make_handler, make_team, make_user

pytestmark = pytest.mark.browser
SECRETS = ("Aid K-9114", "Cpl. Dale Yates", "microSD card")


@pytest.fixture
def double_blind():
    """A double-blind plan: two hides and a negative area; Kelsey Tran observes, nobody present knows."""
    agency = make_agency(name="Cascade Regional ICAC Task Force")
    trainer = make_user("manager", agency, name="Lt. Sarah Cole")
    observer = make_user("handler", agency, name="Kelsey Tran")
    handler_user = make_user("handler", agency, name="Dana Whitfield")
    handler = make_handler(agency, user_id=handler_user.id, name="Dana Whitfield")
    dog = make_dog(agency, name="Bella", call_sign="K9-CAS-1")
    make_team(dog, handler)
    plan = make_plan(dog, handler, trainer, observer_id=observer.id, placed_by="Cpl. Dale Yates",
                     planned_on=agency.today(), areas=[
                         area("Bedroom 2 (north)", "microSD card", "Book", aid="Aid K-9114"),
                         area("Kitchen"),
                         area("Home office", "USB drive", "Drawer", aid="Aid K-9115")])
    db.session.commit()
    return plan, trainer, observer


def outcomes():
    db.session.commit()  # end the test's read transaction so the server's writes are visible
    return [(a.label, a.outcome) for a in db.session.scalars(select(PlannedArea).order_by(PlannedArea.position))]


def card(page, label):
    return page.locator(".area-card", has_text=label)


def tap(locator):
    """A finger's tap. Playwright scrolls the element into view and waits until it is attached and
    stable, finding it again if the page redrew it (a separate scroll first would not)."""
    locator.tap()


def open_record(page, live_server, plan):
    page.goto(f"{live_server}/planned/{plan.id}/record")
    page.wait_for_selector("#record-app[data-ready='1']")
    page.wait_for_function("navigator.serviceWorker.getRegistration()"
                           ".then(r => !!(r && r.active && r.active.state === 'activated'))",
                           timeout=60000, polling=250)
    if page.evaluate("navigator.serviceWorker.controller === null"):
        page.reload()
        page.wait_for_selector("#record-app[data-ready='1']")
    page.reload()  # now the worker fetches the page and keeps its copy
    page.wait_for_selector("#record-app[data-ready='1']")


def test_a_double_blind_session_recorded_offline_then_revealed(page, live_server, browser_login, double_blind):
    plan, trainer, observer = double_blind
    browser_login(page, observer)
    open_record(page, live_server, plan)
    tap(page.locator("[data-test=start]"))
    page.wait_for_selector("#record-app[data-ready='1']")
    for secret in SECRETS:
        assert secret not in page.content()

    context = page.context
    context.set_offline(True)
    tap(card(page, "Bedroom 2").get_by_role("button", name="Alert", exact=True))
    card(page, "Bedroom 2").locator(".alert-spot").select_option(label="Book")
    card(page, "Bedroom 2").locator(".alert-seconds").fill("48")
    tap(card(page, "Bedroom 2").get_by_role("button", name="Save alert"))
    tap(card(page, "Home office").get_by_role("button", name="No alert"))
    status = page.locator("[data-test=record-status]")
    status.get_by_text("2 outcomes waiting to upload").wait_for()

    page.reload()  # offline: the service worker serves the page it kept; the outcomes wait in the tablet
    page.wait_for_selector("#record-app[data-ready='1']")
    status.get_by_text("2 outcomes waiting to upload").wait_for()
    assert card(page, "Bedroom 2").locator("[data-test=area-state]").inner_text() == "Waiting to upload: alert at Book"
    screenshot(page, "assessment-offline")
    assert [o for _, o in outcomes()] == [None, None, None]

    # The first upload reaches the server but its answer is lost: it stays queued and is sent again.
    dropped = []

    def drop_reply(route):
        route.fetch()
        dropped.append(True)
        route.abort()
    context.route("**/areas/*/outcome", drop_reply)
    context.set_offline(False)
    for _ in range(100):
        if dropped:
            break
        page.wait_for_timeout(100)
    assert dropped, "the page did not upload when the connection returned"
    context.unroute("**/areas/*/outcome")
    assert outcomes()[0] == ("Bedroom 2 (north)", "alert")
    page.reload()  # the retry is answered "already recorded", not stored twice
    status.get_by_text("All recorded outcomes are uploaded.").wait_for()
    assert [o for _, o in outcomes()] == ["alert", None, "no_alert"]

    tap(card(page, "Kitchen").get_by_role("button", name="Alert", exact=True))
    card(page, "Kitchen").locator(".alert-spot").select_option(label="Appliance")
    tap(card(page, "Kitchen").get_by_role("button", name="Save alert"))
    card(page, "Kitchen").get_by_text("Recorded: alert at Appliance").wait_for()
    assert [o for _, o in outcomes()] == ["alert", "alert", "no_alert"]
    for secret in SECRETS:
        assert secret not in page.content()

    # The trainer closes the session: the plan is revealed and compared.
    page.evaluate("() => document.querySelector('[data-test=logout]').closest('form').submit()")
    page.wait_for_url("**/login**")
    browser_login(page, trainer)
    page.goto(f"{live_server}/planned/{plan.id}")
    page.fill("#duration_minutes", "35")
    tap(page.locator("[data-test=close-button]"))
    page.wait_for_selector("[data-test=comparison]")
    counts = {name: page.locator(f"[data-count={name}]").inner_text() for name in ("found", "missed", "false-alerts")}
    assert counts == {"found": "1", "missed": "1", "false-alerts": "1"}
    assert "Aid K-9114" in page.content()
    screenshot(page, "assessment-revealed")
    db.session.commit()
    closed = db.session.get(PlannedSession, plan.id)
    assert closed.training_session.duration_minutes == 35 and closed.training_session.blank_areas == 1
