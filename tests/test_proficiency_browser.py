"""Every dog side by side on a tablet: the matrix, a cell's hides, the readiness gaps, and the suggested
next session opened in the tablet form as a plan. Takes the README's screenshots."""
import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from esd.extensions import db
from tests.browser import screenshot
from tests.helpers import make_agency, make_dog, make_handler, make_session, make_team, make_user

pytestmark = pytest.mark.browser

TZ = "America/Chicago"
DEVICES = ["microSD card", "USB drive", "SIM card", "Phone", "SD card", "Hard drive"]
SPOTS = ["Book", "Electrical outlet", "Ceiling tile", "Clothing", "Drawer", "Vehicle"]
HEIGHTS = ["floor", "low", "mid", "high", "overhead"]
CONCEALMENTS = ["open", "concealed", "buried", "layered"]


@pytest.fixture
def program():
    """Great Plains: five dogs, 120 days of training (fixed seed); Maverick weak on microSD cards, worst in outlets."""
    rng = random.Random(15)
    agency = make_agency(name="Great Plains Task Force", timezone=TZ)
    manager = make_user("manager", agency)
    user = make_user("handler", agency)
    today = agency.today()
    dogs = {}
    for name in ("Maverick", "Bolt", "Juno", "Rook", "Kira"):
        handler = make_handler(agency, user_id=user.id) if name == "Maverick" else make_handler(agency)
        dogs[name] = dog = make_dog(agency, name=name)
        make_team(dog, handler)
        for days_ago in range(3, 120, 4):
            hides = []
            for _ in range(rng.randint(4, 7)):
                device, spot = rng.choice(DEVICES[1:] if name != "Maverick" else DEVICES), rng.choice(SPOTS[:5])
                weak = name == "Maverick" and device == "microSD card"
                chance = (0.3 if spot == "Electrical outlet" else 0.5) if weak else (0.75 if name == "Bolt" and device == "SIM card" else 0.96)
                hides.append({"device": device, "spot": spot, "height": rng.choice(HEIGHTS[:4]),
                              "concealment": rng.choice(CONCEALMENTS[:3]), "blind": rng.random() < 0.15,
                              "outcome": "found" if rng.random() < chance else "missed"})
            if name == "Maverick" and days_ago < 62:  # microSD cards stopped 62 days ago
                hides = [h for h in hides if h["device"] != "microSD card"] or hides[:1]
            elif name == "Maverick":  # before that, three microSD cards in outlets every session
                hides += [{"device": "microSD card", "spot": "Electrical outlet", "height": "low",
                           "concealment": "concealed", "blind": False,
                           "outcome": "found" if rng.random() < 0.35 else "missed"} for _ in range(3)]
            make_session(dog, handler, hides=hides, blank_areas=1 if name != "Maverick" and days_ago % 3 == 0 else 0,
                         started_at=datetime.combine(today - timedelta(days=days_ago), time(9), ZoneInfo(TZ)))
    db.session.commit()
    return agency, manager, user, dogs


def fits(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_a_manager_and_a_handler_on_tablets_see_every_dog_and_open_the_next_session(
        page, live_server, browser_login, program, browser):
    agency, manager, user, dogs = program
    browser_login(page, manager)
    page.goto(f"{live_server}/proficiency")
    matrix = page.locator("[data-test=matrix]")
    matrix.wait_for()
    assert "Below standard" in page.locator("[data-test=weakest]").inner_text()
    row = page.locator("tr[data-dog=Maverick]")
    assert row.locator("[data-verdict=below]").count() >= 1
    assert fits(page)
    screenshot(page, "proficiency-matrix")

    # The weakest cell opens the hides behind it.
    page.locator("[data-test=weakest] a").first.tap()
    page.wait_for_selector("[data-test=hides-summary]")
    assert page.locator("[data-test=hides] li").count() > 0

    page.goto(f"{live_server}/readiness")
    page.wait_for_selector("[data-test=dog-gaps]")
    assert "No blank search in 60 days" in page.locator("[data-dog=Maverick]").inner_text()
    screenshot(page, "readiness-gaps")

    # On a phone the matrix scrolls inside its own region, never the page.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    phone_page = phone.new_page()
    browser_login(phone_page, manager)
    phone_page.goto(f"{live_server}/proficiency?by=hiding_spot")
    phone_page.wait_for_selector("[data-test=matrix]")
    assert fits(phone_page)
    phone.close()

    # The handler opens Maverick's suggested session and the tablet form as a plan, with one tap.
    page.context.clear_cookies()
    browser_login(page, user)
    page.goto(f"{live_server}/readiness/dogs/{dogs['Maverick'].id}")
    plan = page.locator("[data-test=plan-hide]")
    planned = plan.count()
    assert 5 <= planned <= 8
    assert plan.first.inner_text().startswith("microSD card in Electrical outlet")
    assert "days ago" in plan.first.locator("[data-test=why]").inner_text()
    screenshot(page, "suggested-session")
    page.locator("[data-test=open-plan]").tap()
    page.wait_for_selector("#training-app[data-ready='1']")
    cards = page.locator("[data-test=hide-card]")
    assert cards.count() == planned
    assert "microSD card · Electrical outlet" in cards.first.inner_text()
    assert "No outcome" in cards.first.inner_text()
    assert page.locator("#blank_areas").input_value() in ("1", "2")
    assert page.evaluate("() => location.search") == ""  # a reload restores the draft, not the plan again
    screenshot(page, "suggested-session-tablet-form")
    # The outcome is recorded as it happens.
    cards.first.locator("[data-action=open-hide]").tap()
    page.locator("[data-test=hide-card][data-index='0'] [data-test=found]").tap()
    assert "Found" in page.locator("[data-test=hide-card][data-index='0']").inner_text()
