"""Every page of every role on a phone (390×844) and a tablet (820×1180), in Chromium.

Each page must fit the width (no sideways scrolling), give every visible tap target at least
44×44 CSS px, log no console error (a missing favicon is one), and pass axe-core's WCAG 2.1 A/AA
rules with no serious or critical violation. The pages are every GET route of the access matrix
that the role may open and that answers HTML — so the navigation's links, the detail pages (a dog,
a session, a deployment, a certification) and the forms — and a new route is checked as soon
as it has an access case.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from flask import url_for

from esd.extensions import db
from esd.models import Notification
from tests import helpers as h
from tests.access import build_world, user_for
from tests.browser import ROOT
from tests.helpers import PASSWORD
from tests.test_access_matrix import CASES

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
VIEWPORTS = {"phone": PHONE, "tablet": TABLET}
ROLES = ("admin", "manager", "handler", "funder")
MIN_TARGET = 44
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_path() -> Path:
    """axe.min.js as `make axe` installs it (the Makefile exports AXE_JS; direct pytest runs find it)."""
    if os.environ.get("AXE_JS"):
        path = Path(os.environ["AXE_JS"])
    else:
        found = sorted(ROOT.glob(".cache/axe-*/node_modules/axe-core/axe.min.js"))
        path = found[-1] if found else ROOT / ".cache" / "axe-missing"
    if not path.exists():
        pytest.fail(f"axe-core not found at {path}: run `make axe` (make test does).")
    return path


# Tap targets: what a finger presses. A checkbox or radio counts with its label (pressing the
# label toggles it); elements of 1 px or less are visually hidden (skip links, .btn-check inputs'
# clip) and not pressable.
TAP_TARGETS_JS = """(min) => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], label.btn';
  const small = [];
  for (const el of document.querySelectorAll(sel)) {
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    const r = el.getBoundingClientRect();
    let w = r.width, h = r.height;
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      for (const label of el.labels || []) {
        const lr = label.getBoundingClientRect();
        w = Math.max(w, lr.width); h = Math.max(h, lr.height);
      }
    }
    if (w <= 1 || h <= 1) continue;
    if (w < min - 0.5 || h < min - 0.5) {
      const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 30);
      small.push(`<${el.tagName.toLowerCase()}> "${text}" ${Math.round(w)}×${Math.round(h)}`);
    }
  }
  return small;
}"""

# A table in a scrolling box is a horizontal scroll bar too, however small the page. The one
# exception keeps its key column in view: a named region reachable by keyboard whose first
# column stays put (position: sticky) while the rest scrolls.
INNER_SCROLL_JS = """() => Array.from(document.querySelectorAll('main *')).filter(el => {
  const overflow = getComputedStyle(el).overflowX;
  if (!((overflow === 'auto' || overflow === 'scroll') && el.scrollWidth > el.clientWidth + 1
        && el.checkVisibility())) return false;
  const named = el.tabIndex >= 0 && (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby'));
  const key = el.querySelector('tbody tr > :first-child');
  return !(named && key && getComputedStyle(key).position === 'sticky');
}).map(el => `<${el.tagName.toLowerCase()} class="${el.className}"> ${el.scrollWidth} px in ${el.clientWidth} px`)"""

AXE_JS = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
}"""


def build_program():
    """The access matrix's two agencies, plus certifications in every state and an unread notification."""
    world = build_world()
    own = world.own
    today = own.agency.today()
    for days, name in ((-6, "Cody"), (24, "Bolt"), (240, "Juno")):
        dog = h.make_dog(own.agency, name=name)
        handler = h.make_handler(own.agency)
        h.make_team(dog, handler)
        h.make_certification(dog, handler, issued_on=today + timedelta(days=days - 365),
                             expires_on=today + timedelta(days=days))
    h.make_dog(own.agency, name="Maple")  # needs a first certification
    for user in (world.admin, own.manager, own.handler_user, world.funder):
        db.session.add(Notification(user_id=user.id, message="A certification expires in 24 days",
                                    link="/certifications"))
    db.session.commit()
    return world


def html_pages(app, world, role: str) -> tuple[list[str], dict[str, str]]:
    """The URLs of every GET route `role` may open on its own agency's records that answer an HTML
    page, and where the others redirect to (a funder's home is the impact dashboard)."""
    user = user_for(world, role)
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    urls, redirects = [], {}
    for case in CASES:
        if case.method != "GET" or case.expectation(role, "own") != "ok":
            continue
        with app.test_request_context():
            url = url_for(case.endpoint, **(case.params(world.own) if case.params else {})) + case.query
        if url in urls:
            continue
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            urls.append(url)
        elif response.status_code in (301, 302, 303):
            redirects[url] = response.headers["Location"]
        response.close()
    return urls, redirects


def check_page(page, url: str, errors: list[str]) -> list[str]:
    """Open `url` and list what is wrong with it at the current viewport."""
    errors.clear()
    response = page.goto(url, wait_until="load")
    problems = []
    if response is None or response.status != 200:
        problems.append(f"answered {response.status if response else 'nothing'}")
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        problems.append(f"scrolls sideways: {width[0]} px wide in {width[1]} px")
    problems += [f"scrolls sideways inside {box}" for box in page.evaluate(INNER_SCROLL_JS)]
    icons = page.eval_on_selector_all("link[rel~=icon]", "links => links.map(l => l.href)")
    if not icons:
        problems.append("no favicon")
    problems += [f"tap target under {MIN_TARGET} px: {t}" for t in page.evaluate(TAP_TARGETS_JS, MIN_TARGET)]
    problems += [f"axe {v}" for v in page.evaluate(AXE_JS, AXE_TAGS)]
    problems += [f"console: {e}" for e in errors]
    return problems


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_fits_small_screens_and_passes_axe(app, browser, live_server, role, viewport):
    world = build_program()
    urls, redirects = html_pages(app, world, role)
    assert len(urls) > (3 if role == "funder" else 8), urls

    context = browser.new_context(viewport=VIEWPORTS[viewport], device_scale_factor=1, has_touch=True,
                                  base_url=live_server)
    # An init script is injected by the browser itself, so the page's Content-Security-Policy allows it.
    context.add_init_script(path=str(axe_path()))
    page = context.new_page()
    page.set_default_timeout(20000)
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(f"{msg.text} ({msg.location.get('url')})"))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("/login")
        page.fill("input[name=email]", user_for(world, role).email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_load_state("networkidle")

        # Every link of the navigation is among the pages checked.
        nav = page.eval_on_selector_all("nav.navbar a[href]", "links => links.map(a => a.getAttribute('href'))")
        checked = {u.split("?")[0] for u in urls}
        missing = [href for href in nav if href != "#"
                   and redirects.get(href, href).split("?")[0] not in checked]
        assert not missing, f"navigation links not checked: {missing}"

        report = {}
        for url in urls:
            problems = check_page(page, url, errors)
            if problems:
                report[url] = problems
        # The opened menu is a page of its own on a small screen.
        page.goto("/", wait_until="load")
        page.click(".navbar-toggler")
        page.wait_for_selector("#mainnav.show")
        small = page.evaluate(TAP_TARGETS_JS, MIN_TARGET)
        if small:
            report["/ (menu open)"] = [f"tap target under {MIN_TARGET} px: {t}" for t in small]
    finally:
        context.close()
    print(f"{role} at {viewport}: {len(urls)} pages checked")
    assert not report, f"{role} at {viewport}:\n" + "\n".join(
        f"  {url}\n" + "\n".join(f"    - {p}" for p in problems) for url, problems in report.items())
