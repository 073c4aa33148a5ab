"""The dog pages in headless Chromium at the tablet viewport, with Bootstrap served by the app itself."""
from datetime import date
from urllib.parse import urlsplit

import pytest

from esd.extensions import db
from tests.browser import screenshot
from tests.helpers import make_agency, make_certification, make_dog, make_handler, make_session, make_team, make_user

pytestmark = pytest.mark.browser


def test_tablet_dog_list_dog_page_and_collapsed_navigation(page, live_server, browser_login):
    agency = make_agency(name="Metro ICAC Task Force")
    manager = make_user("manager", agency, name="Lt. Morgan Hale")
    reyes, okafor = make_handler(agency, name="Officer Dana Reyes"), make_handler(agency, name="Det. Sam Okafor")
    juno = make_dog(agency, name="Juno", call_sign="K9-12", breed="Labrador Retriever", status="active",
                    date_of_birth=date(2021, 3, 14), acquired_on=date(2022, 5, 1))
    make_dog(agency, name="Rook", call_sign="K9-14", breed="English Springer Spaniel", status="in_training")
    make_team(juno, okafor, starts_on=date(2022, 5, 1), ends_on=date(2024, 8, 31))
    make_team(juno, reyes, starts_on=date(2024, 9, 1))
    make_session(juno, reyes, hides=[{"outcome": "found", "device": "microSD card", "spot": "Book"},
                                     {"outcome": "found", "device": "USB drive", "spot": "Electrical outlet"},
                                     {"outcome": "missed", "device": "SIM card", "spot": "Clothing"}])
    make_certification(juno, reyes)
    db.session.commit()

    requests = []
    page.on("request", lambda request: requests.append(request.url))
    browser_login(page, manager)

    page.goto(f"{live_server}/dogs")
    rows = page.locator("[data-test=dog-list] tbody tr")
    assert rows.count() == 2
    assert "Okafor" not in rows.first.inner_text() + rows.nth(1).inner_text()

    # At 820 px the navigation is collapsed behind the toggler.
    nav_link = page.locator("#mainnav a.nav-link", has_text="Handlers")
    assert not nav_link.is_visible()
    page.click(".navbar-toggler")
    nav_link.wait_for(state="visible")
    page.wait_for_selector("#mainnav.collapse.show")  # the opening animation has finished
    page.click(".navbar-toggler")
    nav_link.wait_for(state="hidden")

    page.click("text=Juno")
    page.wait_for_url(f"{live_server}/dogs/{juno.id}")
    assert "Officer Dana Reyes" in page.locator("[data-test=current-team]").inner_text()
    history = page.locator("[data-test=team-history]").inner_text()
    assert "Det. Sam Okafor" in history and "2024-08-31" in history
    # Bootstrap's styles apply: the toggler is a styled button, the container has its padding.
    assert page.evaluate("getComputedStyle(document.querySelector('.navbar-toggler')).borderRadius") != "0px"
    page.wait_for_load_state("networkidle")
    screenshot(page, "dog-page")

    css = [url for url in requests if url.endswith(".css") or "bootstrap" in url]
    assert any("bootstrap" in url and url.endswith(".css") for url in css)
    hosts = {urlsplit(url).hostname for url in requests if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, f"requests left the app: {hosts}"
