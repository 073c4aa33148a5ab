"""The funders' impact report in Chromium on a tablet (820×1180): the agency picker, definitions, print in ≤ 2 pages."""
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from esd.extensions import db
from esd.models import CaseOutcome
from tests.browser import screenshot
from tests.helpers import make_agency, make_certification, make_deployment, make_dog, make_handler, make_session, make_user

pytestmark = pytest.mark.browser

LONG_NAME = "Internet Crimes Against Children Task Force of the Greater Rocky Mountain Region"
SECRETS = ("26-CR-", "Officer Dana Reyes", "Juno", "County Probation", "NEVER-SHOWN")


@pytest.fixture
def funder():
    """A funder granted four task forces in two regions, one with a long name, with a year of searches."""
    start = datetime(2025, 11, 3, 16, tzinfo=timezone.utc)
    agencies = [make_agency(name=name, timezone=tz, region=region) for name, tz, region in (
        (LONG_NAME, "America/Denver", "Mountain"), ("Metro ICAC Task Force", "America/New_York", "East"),
        ("Coastal ICAC Task Force", "America/Los_Angeles", "West"), ("Valley ICAC Task Force", "America/Los_Angeles", "West"))]
    for index, agency in enumerate(agencies):
        handler = make_handler(agency, name="Officer Dana Reyes" if index == 0 else f"Officer {index}")
        dog = make_dog(agency, name="Juno" if index == 0 else f"Dog {index}")
        make_certification(dog, handler, issued_on=date(2026, 2, 1)) if index % 2 == 0 else None
        for week in range(0, 52, 2):
            make_session(dog, handler, started_at=start + timedelta(days=7 * week),
                         hides=[{"outcome": "found"}] * 5 + [{"outcome": "missed"}] * (week % 3))
        for n in range(12 + 3 * index):
            finds = [{"missed_by_human_search": (n + i) % 3 == 0, "evidence": "yes" if n % 2 else "pending"}
                     for i in range(n % 4)]
            deployment = make_deployment(dog, handler, started_at=start + timedelta(days=29 * n + index),
                                         case_number=f"26-CR-{index}{n:03d}", requesting_agency="County Probation",
                                         finds=finds)
            if n % 2 and finds:
                db.session.add(CaseOutcome(deployment_id=deployment.id, agency_id=agency.id,
                                           devices_examined=len(finds), devices_with_evidence=len(finds) // 2,
                                           arrests=n % 3, charges=n % 5, children_safeguarded=n % 2))
    other = make_agency(name="Elsewhere County")
    make_deployment(make_dog(other), make_handler(other), case_number="NEVER-SHOWN", finds=[{"device": "Laptop"}])
    user = make_user("funder", name="Community Foundation", fiscal_year_start=7)
    user.granted_agencies = agencies
    db.session.commit()
    return user


def test_the_impact_report_on_a_tablet_and_printed_in_two_pages(page, live_server, browser_login, funder):
    browser_login(page, funder)
    page.goto(f"{live_server}/reports/impact?start=2025-12-01&end=2026-11-30")
    page.wait_for_load_state("networkidle")
    text = page.inner_text("main")
    assert "Searches where the dog found what officers missed" in text and "Devices officers had missed" in text
    assert "Previous period: " in text and "A year earlier: " in text
    assert "What the searches led to" in text and "Across the country" in text
    for secret in SECRETS:
        assert secret not in page.content(), secret
    assert page.locator("img[data-test=impact-trend]").evaluate("img => img.complete && img.naturalWidth > 0")

    # The agency picker shows the longest agency name whole, inside the screen.
    page.select_option("#agency", label=LONG_NAME)
    fits = page.locator("#agency").evaluate("""select => {
        const style = getComputedStyle(select);
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const text = ctx.measureText(select.options[select.selectedIndex].text).width;
        const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        const box = select.getBoundingClientRect();
        return {text, room, right: box.right, width: window.innerWidth};
    }""")
    assert fits["text"] <= fits["room"] and fits["right"] <= fits["width"], fits
    assert page.evaluate("document.documentElement.scrollWidth") <= 820

    # A definition is one tap away.
    card = page.locator("[data-figure=found_after_human_missed]")
    assert not card.locator("details.definition p").first.is_visible()
    card.locator("summary").tap()
    assert "Devices (not searches)" in card.locator("details.definition").inner_text()
    page.select_option("#agency", value="")
    screenshot(page, "funder-dashboard")

    # Printed: the filters, buttons and extra charts go; the plain words and definitions come; ≤ 2 pages.
    page.emulate_media(media="print")
    assert not page.locator("form.impact-filters").is_visible()
    assert not page.locator("details.impact-more").is_visible()
    assert page.locator(".impact-definitions").is_visible()
    assert page.locator(".impact-plain").is_visible()
    screenshot(page, "impact-print")
    for paper in ("A4", "Letter"):
        data = page.pdf(format=paper, print_background=True)
        pdf = PdfReader(io.BytesIO(data))
        assert len(pdf.pages) <= 2, (paper, len(pdf.pages))
        first = " ".join(pdf.pages[0].extract_text().replace("\ufb03", "ffi").replace("\ufb01", "fi").split())
        assert "Impact of the detection dogs" in first and "Devices officers had missed" in first
        assert "By agency" in " ".join(pdf.pages[-1].extract_text().split())
