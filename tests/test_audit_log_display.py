"""The audit log reads right: changes as before → after, events as their details, times in the
agency's zone with its abbreviation, and the changes readable on a tablet without scrolling sideways."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest
import time_machine

from esd.admin.audit_entries import lines
from esd.audit import record_event
from esd.extensions import db
from tests.helpers import make_agency, make_dog, make_user

EVENING_IN_LOS_ANGELES = datetime(2026, 12, 1, 3, 30, 5, tzinfo=timezone.utc)  # 19:30:05 PST, 30 November


def entries(page: str) -> dict[str, str]:
    """The text of the page's last entry of each action."""
    found = re.findall(r'<tbody class="audit-entry" data-action="(\w+)">(.*?)</tbody>', page, re.S)
    return {action: html.unescape(" ".join(re.sub(r"<[^>]+>", "", body).split())) for action, body in found}


def test_an_event_reads_as_its_details_and_a_change_as_before_and_after():
    packet = lines("reliability_record", {"as_of": "2026-11-30", "format": "pdf", "digest": "af09"})
    assert [(line.field, line.value, line.is_change) for line in packet] == [
        ("as_of", "2026-11-30", False), ("format", "pdf", False), ("digest", "af09", False)]
    rename = lines("update", {"name": ["Rex", "Rexx"], "breed": [None, "Labrador"]})
    assert [(line.field, line.before, line.value) for line in rename] == [
        ("name", "Rex", "Rexx"), ("breed", "—", "Labrador")]
    revised = lines("revise", {"before": {"notes": "a", "duration_minutes": 30},
                               "after": {"notes": "b", "duration_minutes": 30}})
    assert [(line.field, line.before, line.value) for line in revised] == [("notes", "a", "b")]


def test_audit_log_shows_each_kind_in_its_form_at_the_agencys_time(client, login_as):
    agency = make_agency(timezone="America/Los_Angeles")
    with time_machine.travel(EVENING_IN_LOS_ANGELES, tick=False):
        manager = login_as("manager", agency)
        dog = make_dog(agency, name="Rex")
        db.session.commit()
        dog.name = dog.name + "x"
        db.session.commit()
        record_event("reliability_record", "dog", dog.id, user_id=manager.id, agency_id=agency.id,
                     changes={"as_of": "2026-11-30", "format": "pdf", "digest": "af09"})
        db.session.commit()
        page = client.get("/audit").get_data(as_text=True)
    shown = entries(page)
    assert "as_of: 2026-11-30 format: pdf digest: af09" in shown["reliability_record"]
    assert "→" not in shown["reliability_record"]
    assert "name: Rex → Rexx" in shown["update"]
    assert shown["login"].startswith("2026-11-30 19:30:05 PST")
    assert "Times in Pacific Time (Los Angeles)" in page


def test_audit_date_filter_reads_the_agencys_days(client, login_as):
    agency = make_agency(timezone="America/Los_Angeles")
    manager = login_as("manager", agency)
    with time_machine.travel(EVENING_IN_LOS_ANGELES, tick=False):
        record_event("export", "sessions", user_id=manager.id, agency_id=agency.id, reason="evening export")
        db.session.commit()
    on_the_30th = html.unescape(client.get("/audit?start=2026-11-30&end=2026-11-30").get_data(as_text=True))
    on_the_1st = html.unescape(client.get("/audit?start=2026-12-01&end=2026-12-01").get_data(as_text=True))
    assert "evening export" in on_the_30th and "evening export" not in on_the_1st


@pytest.mark.browser
@pytest.mark.parametrize("width", [820, 390])
def test_changes_are_visible_on_a_tablet_and_phone_without_scrolling_sideways(browser, live_server, browser_login,
                                                                               width):
    agency = make_agency(name="Metro ICAC Task Force")
    manager = make_user("manager", agency, email="lieutenant.morgan.hale.of.the.metro.task.force@example.org")
    dog = make_dog(agency, name="Juno")
    db.session.commit()
    dog.breed = ("Labrador Retriever crossed with an English Springer Spaniel, " * 2)[:80]  # the column's length
    dog.microchip_id = "985141000123456"
    db.session.commit()
    record_event("reliability_record", "dog", dog.id, user_id=manager.id, agency_id=agency.id,
                 changes={"as_of": "2026-11-30", "format": "pdf", "digest": "9f86d081884c7d659a2feaa0c55ad015"
                          "a3bf4f1b2b0b822cd15d6c15b0f00a08"})
    db.session.commit()
    context = browser.new_context(viewport={"width": width, "height": 1000}, has_touch=True)
    page = context.new_page()
    try:
        browser_login(page, manager)
        page.goto(f"{live_server}/audit")
        boxes = [page.locator("[data-kind=change]", has_text="breed").first.bounding_box(),
                 page.locator("[data-kind=detail]", has_text="digest").first.bounding_box()]
        viewport = page.evaluate("({width: window.innerWidth, scroll: document.documentElement.scrollWidth})")
        table = page.evaluate("(() => { const t = document.querySelector('[data-test=audit-list]');"
                              " return {right: t.getBoundingClientRect().right,"
                              " overflow: t.parentElement.scrollWidth - t.parentElement.clientWidth}; })()")
    finally:
        context.close()
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] for box in boxes)
    assert table["right"] <= viewport["width"] and table["overflow"] <= 0
