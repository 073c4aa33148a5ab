"""The shared layout in Chromium: the bell and account menu on a tablet, confirmations before what
cannot be undone, tables as cards on a phone, and forms that lead a screen reader to their errors."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from esd.extensions import db
from esd.models import Notification, TeamAssignment
from tests.browser import ROOT, screenshot
from tests.helpers import make_agency, make_certification, make_dog, make_handler, make_team, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_bell_and_account_menu_need_no_collapsed_menu_on_a_tablet(page, live_server, browser_login):
    manager = make_user("manager", make_agency())
    db.session.add(Notification(user_id=manager.id, message="Bolt's certification expires in 24 days",
                                link="/certifications"))
    db.session.commit()
    browser_login(page, manager)
    for viewport in ({"width": 820, "height": 1180}, PHONE):
        page.set_viewport_size(viewport)
        page.goto(f"{live_server}/dogs")
        assert not page.locator("#mainnav").is_visible()  # the page links are behind the toggler
        # The bell's accessible name says what it is, not only the badge's number.
        assert page.get_by_role("link", name="Notifications, 1 unread", exact=True).is_visible()
        page.click(".navbar-tools .dropdown-toggle")
        logout = page.locator("[data-test=logout]")
        logout.wait_for(state="visible")
        box = logout.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        assert not page.locator("#mainnav").is_visible()
        page.keyboard.press("Escape")
    page.click("[data-test=bell]")
    page.wait_for_url(f"{live_server}/notifications")


def test_every_page_names_an_icon_that_is_served(page, live_server, browser_login):
    handler = make_user("handler", make_agency())
    db.session.commit()
    browser_login(page, handler)
    page.goto(f"{live_server}/dogs")
    icons = page.eval_on_selector_all("link[rel~=icon], link[rel=apple-touch-icon]", "ls => ls.map(l => l.href)")
    assert len(icons) >= 2
    for href in icons:
        response = page.request.get(href)
        assert response.status == 200 and response.headers["content-type"].startswith("image/"), href


def test_ending_a_team_asks_first_and_a_no_changes_nothing(page, live_server, browser_login):
    agency = make_agency()
    manager = make_user("manager", agency)
    dog, handler = make_dog(agency, name="Juno"), make_handler(agency, name="Dana Reyes")
    team = make_team(dog, handler)
    db.session.commit()
    browser_login(page, manager)
    page.goto(f"{live_server}/dogs/{dog.id}")

    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("button:has-text('End team')")
    page.wait_for_timeout(300)
    assert questions and "Juno" in questions[0] and "Dana Reyes" in questions[0]
    assert page.url == f"{live_server}/dogs/{dog.id}"
    db.session.expire_all()
    assert db.session.get(TeamAssignment, team.id).ends_on is None

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("button:has-text('End team')")
    db.session.expire_all()
    assert db.session.get(TeamAssignment, team.id).ends_on is not None


def test_every_form_that_archives_or_ends_asks_for_confirmation():
    """A new archive/end form without data-confirm fails here (the templates are the source)."""
    unconfirmed = []
    for path in Path(ROOT, "templates").rglob("*.html"):
        for form in re.findall(r"<form\b[^>]*>", path.read_text(), flags=re.S):
            if re.search(r"url_for\('[\w.]*(archive|end_team)", form) and "data-confirm" not in form:
                unconfirmed.append(f"{path.relative_to(ROOT)}: {form[:80]}")
    assert not unconfirmed, unconfirmed


def test_status_board_on_a_phone_is_cards_keeping_dog_expiry_days_and_status(browser, live_server, browser_login):
    agency = make_agency()
    manager = make_user("manager", agency)
    today = agency.today()
    for name, days in (("Cody", -6), ("Bolt", 24), ("Juno", 240)):
        dog = make_dog(agency, name=name)
        handler = make_handler(agency)
        make_team(dog, handler)
        make_certification(dog, handler, issued_on=today + timedelta(days=days - 365),
                           expires_on=today + timedelta(days=days))
    db.session.commit()
    context = browser.new_context(viewport=PHONE, has_touch=True)
    page = context.new_page()
    try:
        browser_login(page, manager)
        page.goto(f"{live_server}/certifications")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        row = page.locator("table[data-test=board] tbody tr[data-dog=Bolt]")
        for label in ("Dog", "Expires", "Days left", "Status"):
            cell = row.locator(f"td[data-label='{label}']")
            assert cell.is_visible(), label
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], label
        assert "24 days" in row.locator("td[data-label='Days left']").inner_text()
        screenshot(page, "status-board-phone")
        # Sorting still works on a phone: the header is a row of links, and says which sorts.
        with page.expect_navigation():
            page.click("thead a:has-text('Dog')")
        sorted_by = page.locator("th[aria-sort]")
        assert sorted_by.count() == 1 and sorted_by.inner_text().strip() == "Dog"
        assert sorted_by.get_attribute("aria-sort") == "ascending"
    finally:
        context.close()


def test_a_form_sent_back_puts_the_focus_on_its_first_error(page, live_server, browser_login):
    manager = make_user("manager", make_agency())
    db.session.commit()
    browser_login(page, manager)
    page.goto(f"{live_server}/certifications/new")
    page.click("[data-test=certification-form] button[type=submit]")
    page.wait_for_selector("[data-test=form-errors]")
    focused = page.evaluate("""() => {
      const el = document.activeElement;
      const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
      return {invalid: el.getAttribute('aria-invalid'), name: el.name,
              messages: ids.map(id => document.getElementById(id)?.textContent.trim())};
    }""")
    assert focused["invalid"] == "true" and focused["name"] == "dog_id", focused
    assert any(m for m in focused["messages"]), focused
    marked = page.locator(".is-invalid")
    assert marked.count() >= 2 and page.locator(".is-invalid[aria-invalid=true][aria-describedby]").count() == marked.count()
