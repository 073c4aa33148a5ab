"""Recording a search's alerts on the tablet in headless Chromium: a find added, a confirmed alert
naming it, an explained alert refused until its explanation is written."""
import pytest
from sqlalchemy import select

from esd.extensions import db
from esd.models import Deployment
from tests.browser import screenshot
from tests.helpers import make_agency, make_handler_with_dog

pytestmark = pytest.mark.browser


def test_a_handler_adds_a_confirmed_and_an_explained_alert_on_a_tablet(page, live_server, browser_login):
    agency = make_agency(name="Harbor ICAC Task Force", timezone="America/Los_Angeles")
    user, handler, dog = make_handler_with_dog(agency, "Officer Lane", name="Piper")
    db.session.commit()
    browser_login(page, user)

    page.goto(f"{live_server}/deployments/new?dog_id={dog.id}")
    page.fill("#day", "2026-04-02")
    page.fill("#time", "07:40")
    page.fill("#case_number", "26-SW-0402")
    page.select_option("#legal_authority", "search_warrant")
    page.select_option("#finds-0-device_type", label="USB drive")
    page.select_option("#finds-0-hiding_spot", label="Book")
    page.click("#add-find")  # a second find row: every alert's find list offers it at once
    assert page.locator("#alerts-0-find option[value='new-1']").count() == 1
    page.select_option("#alerts-0-outcome", "confirmed")
    page.select_option("#alerts-0-find", "new-0")
    page.fill("#alerts-0-location_note", "Bookshelf, living room")
    page.click("#add-alert")
    page.select_option("#alerts-1-outcome", "explained")
    page.fill("#alerts-1-location_note", "Bedroom dresser")
    page.click("button[type=submit]:has-text('Save deployment')")
    # Explained without an explanation: the form comes back with the message beside the field.
    page.wait_for_selector("text=Say why nothing was recovered")
    assert page.locator("#alerts-1-location_note").input_value() == "Bedroom dresser"
    page.fill("#alerts-1-explanation", "Laptop taken to work by the occupant before the search")
    screenshot(page, "deployment-alerts")
    page.click("button[type=submit]:has-text('Save deployment')")
    page.wait_for_selector("text=Deployment saved with 1 find and 2 alerts.")
    assert page.locator("[data-test=alerts] a[href^='#find-']").inner_text().startswith("USB drive")
    assert page.evaluate("document.documentElement.scrollWidth") <= 820

    db.session.commit()
    deployment = db.session.scalars(select(Deployment).where(Deployment.case_number == "26-SW-0402")).one()
    assert [(a.outcome, a.find.device_type.name if a.find else None, a.explanation) for a in deployment.alerts] == [
        ("confirmed", "USB drive", None),
        ("explained", None, "Laptop taken to work by the occupant before the search")]

    # On a phone (390 px) the edit form's alerts fit the width and every control is a 44 px target.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/deployments/{deployment.id}/edit")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for selector in ("#alerts-0-outcome", "#alerts-0-find", "#alerts-1-explanation", "#add-alert",
                     "label[for=alerts-1-remove]"):
        box = page.locator(selector).bounding_box()
        assert box["height"] >= 44 and box["x"] + box["width"] <= 390, selector
