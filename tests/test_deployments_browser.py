"""Logging a deployment on the tablet in headless Chromium: finds added inline, evidence set later."""
import pytest
from sqlalchemy import select

from esd.extensions import db
from esd.models import Deployment
from tests.browser import screenshot
from tests.helpers import make_agency, make_deployment, make_handler_with_dog

pytestmark = pytest.mark.browser


def test_log_a_search_with_two_finds_then_set_the_evidence(page, live_server, browser_login):
    agency = make_agency(name="Metro ICAC Task Force", timezone="America/New_York")
    user, handler, dog = make_handler_with_dog(agency, "Officer Reyes", name="Juno")
    make_deployment(dog, handler, requesting_agency="County Probation")
    db.session.commit()
    browser_login(page, user)

    page.goto(f"{live_server}/deployments/new?dog_id={dog.id}")
    assert page.locator("#dog").input_value() == str(dog.id)
    assert page.locator("#handler").input_value() == str(handler.id)
    assert page.locator("#requesting-agencies option[value='County Probation']").count() == 1
    page.fill("#day", "2026-04-02")
    page.fill("#time", "06:15")
    page.fill("#requesting_agency", "County Probation")
    page.fill("#case_number", "26-PR-0777")
    page.select_option("#legal_authority", "probation_parole")
    page.select_option("#location_type", label="Residence")
    page.fill("#duration_minutes", "80")
    page.select_option("#finds-0-device_type", label="microSD card")
    page.select_option("#finds-0-hiding_spot", label="Electrical outlet")
    page.check("#finds-0-missed_by_human_search")
    page.click("#add-find")
    page.select_option("#finds-1-device_type", label="Phone")
    page.select_option("#finds-1-hiding_spot", label="Furniture")
    screenshot(page, "deployment-form")
    page.click("button[type=submit]:has-text('Save deployment')")
    page.wait_for_selector("text=Deployment saved with 2 finds and 0 alerts.")
    assert "Deployment on 2026-04-02 06:15" in page.inner_text("h1")

    page.locator("tr", has_text="microSD card").locator("select[name=evidence]").select_option("yes")
    page.locator("tr", has_text="microSD card").get_by_role("button", name="Set").click()
    page.wait_for_selector("text=set to “yes”")
    db.session.commit()
    deployment = db.session.scalars(select(Deployment).where(Deployment.case_number == "26-PR-0777")).one()
    assert [(f.device_type.name, f.missed_by_human_search, f.evidence) for f in deployment.finds] == [
        ("microSD card", True, "yes"), ("Phone", False, "pending")]
