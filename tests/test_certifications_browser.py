"""The status board in a real browser at the tablet viewport; saves the README's screenshot."""
from datetime import timedelta

import pytest

from esd.extensions import db
from esd.models import Notification
from tests.browser import screenshot
from tests.helpers import make_agency, make_certification, make_dog, make_handler, make_team, make_user, term

pytestmark = pytest.mark.browser  # `make screenshots` runs the browser tests by this mark


def test_status_board_at_tablet_size(page, live_server, browser_login):
    agency = make_agency(name="Metro ICAC Task Force")
    manager = make_user("manager", agency, name="Maria Lopez")
    today = agency.today()
    teams = [("Rex", "K9-7", "Sam Ortiz", "NAPWDA", 240), ("Bolt", "K9-3", "Dana Kim", "NNDDA", 24),
             ("Cody", "K9-9", "Lee Park", "USPCA", -6), ("Juno", "K9-12", "Ava Cruz", "In-house", 95),
             ("Maple", "K9-4", "Ben Hall", None, None)]
    for dog_name, call_sign, handler_name, body, days in teams:
        dog = make_dog(agency, name=dog_name, call_sign=call_sign)
        handler = make_handler(agency, name=handler_name)
        make_team(dog, handler)
        if body:
            make_certification(dog, handler, certifying_body_id=term("certifying_body", body).id,
                               issued_on=today + timedelta(days=days - 365), expires_on=today + timedelta(days=days))
    db.session.add(Notification(user_id=manager.id, message="NNDDA ESD certification of Bolt expires in 30 days",
                                link="/certifications"))
    db.session.commit()

    browser_login(page, manager)
    page.goto(f"{live_server}/certifications")
    rows = page.locator("table[data-test=board] tbody tr")
    assert rows.count() == 5
    # Most urgent first, each status in words as well as colour.
    assert [rows.nth(i).get_attribute("data-dog") for i in range(5)] == ["Cody", "Maple", "Bolt", "Juno", "Rex"]
    assert rows.nth(0).locator("[data-status]").inner_text().strip() == "Expired"
    assert rows.nth(1).locator("[data-status]").inner_text().strip() == "No certification"
    assert rows.nth(2).locator("[data-status]").inner_text().strip() == "Expiring soon"
    assert "24 days" in rows.nth(2).inner_text()
    assert page.locator("[data-test=unread-count]").inner_text() == "1"
    screenshot(page, "status-board")

    page.click("[data-filter=expiring]")
    page.wait_for_load_state("networkidle")
    assert page.locator("table[data-test=board] tbody tr").count() == 1
    assert "Bolt" in page.locator("table[data-test=board]").inner_text()

    page.click("text=Upcoming")
    page.wait_for_load_state("networkidle")
    assert "Bolt with Dana Kim" in page.content() and "Juno with Ava Cruz" in page.content()
