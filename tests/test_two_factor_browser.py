"""Two-factor enrolment and sign-in on a 390-px phone in headless Chromium: no sideways scrolling, big targets."""
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from esd.extensions import db
from esd.models import TwoFactorRule, utcnow
from tests.helpers import PASSWORD, make_agency, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def fits_and_targets(page) -> list[str]:
    """Problems at this width: sideways scrolling, or a visible control shorter or narrower than 44 px."""
    return page.evaluate("""() => {
      const problems = [];
      const controls = document.querySelectorAll(
        'main button, main input:not([type=hidden]):not(.btn-check), main a.btn, main label.btn');
      if (!controls.length) problems.push('no controls found');
      if (document.documentElement.scrollWidth > document.documentElement.clientWidth)
        problems.push('scrolls sideways: ' + document.documentElement.scrollWidth);
      for (const el of controls) {
        const r = el.getBoundingClientRect();
        if (r.width && (r.height < 44 || r.width < 44)) problems.push(el.outerHTML.slice(0, 80) + ' ' + r.height);
      }
      return problems;
    }""")


def test_forced_enrolment_then_sign_in_with_a_code_on_a_phone(browser, live_server):
    agency = make_agency()
    db.session.add(TwoFactorRule(agency_id=agency.id))
    handler = make_user("handler", agency)
    db.session.commit()
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", handler.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server}/account/two-factor")
        assert page.locator("[data-test=qr] svg").is_visible()
        assert fits_and_targets(page) == []
        secret = page.locator("[data-test=secret]").inner_text().replace(" ", "")
        totp = pyotp.TOTP(secret)

        page.goto(f"{live_server}/dogs")  # anything else sends them back
        page.wait_for_url(f"{live_server}/account/two-factor")
        page.fill("input[name=code]", totp.now())
        page.click("input[type=submit]")
        page.locator("[data-test=recovery-codes] li").first.wait_for()
        assert page.locator("[data-test=recovery-codes] li").count() == 10
        assert fits_and_targets(page) == []
        page.click("[data-test=continue]")
        page.wait_for_url(f"{live_server}/")

        page.evaluate("document.querySelector('[data-test=logout]').form.submit()")
        page.wait_for_url(f"{live_server}/login")
        page.fill("input[name=email]", handler.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server}/login/code")
        assert fits_and_targets(page) == []
        page.fill("input[name=code]", totp.at(utcnow() + timedelta(seconds=30)))  # the enrolment took this step's
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server}/")
    finally:
        context.close()


def test_an_administrator_requires_two_factor_for_a_role_on_a_phone(browser, live_server):
    for name in ("Metro ICAC Task Force", "Chesapeake Regional ICAC Task Force", "Great Plains ICAC Task Force"):
        make_agency(name=name)
    admin = make_user("admin")
    db.session.commit()
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", admin.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server}/")
        page.goto(f"{live_server}/admin/users")
        page.click("text=Two-factor rules")
        page.wait_for_url(f"{live_server}/admin/two-factor")
        assert fits_and_targets(page) == []
        assert page.locator("main label.btn").count() == 4 + 3  # the roles and the agencies, each a 44-px toggle
        page.click("label:has-text('Program manager')")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server}/admin/two-factor")
        assert page.locator("input[name=roles][value=manager]").is_checked()
        assert not page.locator("input[name=roles][value=handler]").is_checked()
    finally:
        context.close()
    assert [rule.role for rule in db.session.scalars(select(TwoFactorRule))] == ["manager"]
