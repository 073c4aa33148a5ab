"""The dashboards in headless Chromium at the tablet viewport: every chart image loads."""
import random
from datetime import date, datetime, timedelta, timezone

import pytest

from esd.extensions import db
from tests.browser import screenshot
from tests.helpers import make_agency, make_certification, make_deployment, make_dog, make_handler, make_session, make_user

pytestmark = pytest.mark.browser

DEVICES = ["microSD card", "USB drive", "SIM card", "Phone", "Hard drive", "Smartwatch"]
SPOTS = ["Book", "Electrical outlet", "Ceiling tile", "Clothing", "Furniture", "Drawer"]
# How hard each device is for the dog: the charts should show microSD cards in outlets as the weakness.
DIFFICULTY = {"microSD card": 0.35, "SIM card": 0.25, "Smartwatch": 0.15}


@pytest.fixture
def program():
    """Six months of a realistic program in one agency (fixed seed), and a second agency never to be shown."""
    rng = random.Random(7)
    agency = make_agency(name="Metro ICAC Task Force", timezone="America/New_York")
    other = make_agency(name="Elsewhere County")
    handlers = [make_handler(agency, name=n) for n in ("Officer Dana Reyes", "Det. Sam Okafor")]
    dogs = [make_dog(agency, name=n) for n in ("Juno", "Rook")]
    start = datetime(2026, 5, 4, 14, tzinfo=timezone.utc)
    for week in range(26):
        for dog, handler in zip(dogs, handlers):
            hides = []
            for _ in range(rng.randint(5, 8)):
                device, spot = rng.choice(DEVICES), rng.choice(SPOTS)
                miss = DIFFICULTY.get(device, 0.05) + (0.25 if spot == "Electrical outlet" else 0)
                hides.append({"device": device, "spot": spot, "blind": rng.random() < 0.4,
                              "outcome": "missed" if rng.random() < miss else "found"})
            make_session(dog, handler, started_at=start + timedelta(days=7 * week + rng.randint(0, 3)),
                         duration_minutes=rng.choice([45, 60, 90]), hides=hides, false_alerts=rng.randint(0, 2))
    for n in range(14):
        dog = dogs[n % 2]
        finds = [{"device": rng.choice(DEVICES), "spot": rng.choice(SPOTS),
                  "missed_by_human_search": rng.random() < 0.35,
                  "evidence": rng.choice(["yes", "yes", "no", "pending"])} for _ in range(rng.randint(0, 3))]
        make_deployment(dog, handlers[n % 2], started_at=start + timedelta(days=12 * n + 3),
                        requesting_agency=rng.choice(["County Probation", "State Police", "US Marshals"]),
                        case_number=f"26-CR-{1000 + n}", finds=finds,
                        alerts=[{"outcome": "unverified"}] if not finds and n % 3 == 0 else [])
    for dog, handler in zip(dogs, handlers):
        make_certification(dog, handler, issued_on=date(2026, 3, 1))
    make_deployment(make_dog(other, name="Hidden"), make_handler(other, name="Hidden Handler"),
                    case_number="NEVER-SHOWN", finds=[{"device": "Laptop"}])
    db.session.commit()
    return agency, dogs


def images_loaded(page):
    return page.evaluate("""() => Array.from(document.querySelectorAll('img.chart-img'))
        .map(img => ({src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0}))""")


def test_funder_dashboard_at_tablet_size(page, live_server, browser_login, program):
    agency, _ = program
    funder = make_user("funder", name="Community Foundation")
    funder.granted_agencies.append(agency)
    db.session.commit()
    browser_login(page, funder)
    page.goto(f"{live_server}/reports/impact?start=2026-05-01&end=2026-11-20")
    page.wait_for_load_state("networkidle")
    loaded = images_loaded(page)
    assert len(loaded) == 5 and all(i["ok"] for i in loaded), loaded  # the heatmap is a table
    text = page.inner_text("body")
    assert "Impact of the detection dogs" in text and "Devices officers had missed" in text
    for secret in ("26-CR-", "Reyes", "Okafor", "Juno", "Rook", "NEVER-SHOWN", "Elsewhere", "County Probation"):
        assert secret not in page.content(), secret


def test_a_dogs_find_rate_charts(page, live_server, browser_login, program):
    agency, dogs = program
    manager = make_user("manager", agency, name="Lt. Morgan")
    db.session.commit()
    browser_login(page, manager)
    page.goto(f"{live_server}/reports/dashboard?agency={agency.id}&dog={dogs[0].id}&start=2026-05-01&end=2026-11-20")
    page.wait_for_load_state("networkidle")
    loaded = images_loaded(page)
    assert len(loaded) == 5 and all(i["ok"] for i in loaded), loaded
    assert page.locator("#chart-device_type img").evaluate("img => img.naturalWidth") > 0
    page.set_viewport_size({"width": 1366, "height": 1000})
    page.wait_for_load_state("networkidle")
    charts = page.locator("#charts")
    charts.scroll_into_view_if_needed()
    screenshot(page, "find-rate-charts", element=charts)


@pytest.mark.parametrize("width", [390, 820])
def test_the_heatmap_is_a_table_that_scrolls_inside_its_own_region(page, live_server, browser_login, program, width):
    """On a phone and a tablet the page never scrolls sideways; the heatmap does, keeping its device column."""
    agency, _ = program
    manager = make_user("manager", agency)
    db.session.commit()
    browser_login(page, manager)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server}/reports/dashboard?start=2026-05-01&end=2026-11-20")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    region = page.locator("#chart-heatmap .heatmap-scroll")
    cells = page.locator("#chart-heatmap table.heatmap td")
    assert cells.count() == len(DEVICES) * len(SPOTS)
    # Colours come from the server's classes: low find rates red-ish, high green-ish, never unstyled.
    colours = cells.evaluate_all("tds => tds.map(td => getComputedStyle(td).backgroundColor)")
    assert "rgba(0, 0, 0, 0)" not in colours and len(set(colours)) > 2
    # 13 px text: legible, unlike the drawn labels that were 5 px tall at 820 px.
    assert cells.first.evaluate("td => parseFloat(getComputedStyle(td).fontSize)") >= 12
    region.focus()
    assert page.evaluate("document.activeElement.classList.contains('heatmap-scroll')")
    scrolls = region.evaluate("r => r.scrollWidth > r.clientWidth")
    assert scrolls or width == 820  # at 390 px six hiding spots do not fit: the region scrolls, not the page
    if scrolls:
        region.evaluate("r => r.scrollLeft = r.scrollWidth")
        first = page.locator("#chart-heatmap table.heatmap tbody th").first
        assert abs(first.bounding_box()["x"] - region.bounding_box()["x"]) < 2  # the device column stays
