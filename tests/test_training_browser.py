"""The tablet log in headless Chromium at 820×1180: logging with taps, offline saving, upload on
reconnection exactly once, and a rejected upload that stays on the tablet with its reason."""
import pytest
from sqlalchemy import select

from esd.extensions import db
from esd.models import TrainingSession
from tests.browser import screenshot
from tests.helpers import make_agency, make_handler_with_dog, make_user, term

pytestmark = pytest.mark.browser


@pytest.fixture
def handler_team():
    """A handler account with a dog on its current team."""
    agency = make_agency(name="Metro ICAC Task Force")
    user, handler, dog = make_handler_with_dog(agency, "Officer Reyes", name="Juno", call_sign="K9-7")
    db.session.commit()
    return user, dog


def stored_sessions():
    db.session.commit()  # end the test's read transaction so the server's writes are visible
    return list(db.session.scalars(select(TrainingSession)))


def open_form(page, live_server, wait_for_worker=False):
    page.goto(f"{live_server}/training/new")
    page.wait_for_selector("#training-app[data-ready='1']")
    if wait_for_worker:
        # Installing caches the whole app shell first; then the worker takes over this page.
        page.wait_for_function("navigator.serviceWorker.getRegistration()"
                               ".then(r => !!(r && r.active && r.active.state === 'activated'))",
                               timeout=60000, polling=250)
        if page.evaluate("navigator.serviceWorker.controller === null"):
            page.reload()
            page.wait_for_selector("#training-app[data-ready='1']")
        assert page.evaluate("navigator.serviceWorker.controller !== null")


def tap(locator):
    """A finger's tap. Playwright scrolls the element into view and waits until it is attached and
    stable, finding it again if the page redrew it (a separate scroll first would not)."""
    locator.tap()


def hide(page, index):
    return page.locator(".hide-card").nth(index)


def choose(card, name, field="hiding_spot_id"):
    """Tap a term button; a term outside the most used is a tap away behind "More…"."""
    section = card.locator(f'[data-field$="{field}"]')
    button = section.get_by_role("button", name=name, exact=True)
    if button.count() == 0:
        tap(section.get_by_role("button", name="More…", exact=False))
        button = section.get_by_role("button", name=name, exact=True)
    tap(button)


def fill_session_basics(page):
    tap(page.get_by_role("button", name="60", exact=True))
    tap(page.get_by_role("button", name="Proficiency", exact=True))
    page.fill("#location", "Old county school, 2nd floor")
    page.select_option("#environment_id", label="School")
    page.fill("#temperature_c", "14")
    tap(page.get_by_role("button", name="Light", exact=True))


def offline_form_with_basics(page, live_server, browser_login, user):
    """The form opened online (so the worker keeps it), then offline with the session's basics tapped."""
    browser_login(page, user)
    open_form(page, live_server, wait_for_worker=True)
    page.context.set_offline(True)
    fill_session_basics(page)


def add_found_hide(page, device, spot, seconds):
    tap(page.get_by_role("button", name="Add hide"))
    card = hide(page, page.locator(".hide-card").count() - 1)
    choose(card, device, "device_type_id")
    choose(card, spot)
    tap(card.locator("[data-test=found]"))
    card.locator("[data-hide-input=seconds_to_find]").fill(str(seconds))


def test_log_a_session_of_five_hides_and_a_false_alert_with_taps(page, live_server, browser_login, handler_team):
    user, dog = handler_team
    browser_login(page, user)
    open_form(page, live_server)
    assert page.locator("#dog_id").input_value() == str(dog.id)
    assert page.locator("#handler-fixed").inner_text() == "Officer Reyes"
    assert page.locator("#start_date").input_value() and page.locator("#start_time").input_value()
    fill_session_basics(page)

    add_found_hide(page, "microSD card", "Book", 45)
    card = hide(page, 0)
    tap(card.get_by_role("button", name="Low", exact=True))
    tap(card.get_by_role("button", name="Concealed", exact=True))
    tap(card.get_by_role("button", name="Blind", exact=True))
    card.locator("[data-hide-input=aid_set_minutes]").fill("30")

    tap(page.get_by_role("button", name="Copy previous hide"))  # hide 2: same set-up, another spot
    choose(hide(page, 1), "Toy")
    tap(hide(page, 1).locator("[data-test=missed]"))

    add_found_hide(page, "USB drive", "Furniture", 120)
    tap(page.get_by_role("button", name="Copy previous hide"))  # hide 4: one field changed
    tap(hide(page, 3).locator("[data-test=found]"))
    hide(page, 3).locator("[data-hide-input=seconds_to_find]").fill("30")

    tap(page.get_by_role("button", name="Add hide"))  # hide 5: terms behind "More…"
    choose(hide(page, 4), "Laptop", "device_type_id")
    choose(hide(page, 4), "Ceiling tile")
    tap(hide(page, 4).locator("[data-test=missed]"))

    tap(page.get_by_role("button", name="Add false alert"))
    alert = page.locator(".alert-card").first
    choose(alert, "Drawer")
    alert.locator("[data-alert-input=location_note]").fill("Kitchen, left of the sink")
    tap(page.get_by_role("button", name="One more"))
    tap(page.get_by_role("button", name="One more"))
    page.fill("#notes", "Strong indications; worked the blank rooms well.")

    summary = page.locator("#live-summary")
    assert summary.locator("[data-summary=hides]").inner_text() == "5"
    assert summary.locator("[data-summary=found]").inner_text() == "3"
    assert summary.locator("[data-summary=false-alerts]").inner_text() == "1"
    assert summary.locator("[data-summary=find-rate]").count() == 0  # the rate is the server's (below)
    screenshot(page, "tablet-log")

    tap(page.locator("[data-test=save]"))
    page.wait_for_url("**/training/sessions/*?saved=1")
    assert page.locator("[data-summary=hides]").inner_text() == "5"
    assert page.locator("[data-summary=found]").inner_text() == "3"
    assert page.locator("[data-summary=missed]").inner_text() == "2"
    assert page.locator("[data-summary=false-alerts]").inner_text() == "1"
    assert "60% (3 of 5" in page.locator("[data-summary=find-rate]").inner_text()

    (session,) = stored_sessions()
    assert [h.outcome for h in session.hides] == ["found", "missed", "found", "found", "missed"]
    assert [h.device_type.name for h in session.hides] == ["microSD card"] * 2 + ["USB drive"] * 2 + ["Laptop"]
    assert session.hides[1].hiding_spot.name == "Toy" and session.hides[1].blind  # copied set-up
    assert session.hides[0].aid_set_minutes == 30 and session.hides[0].height == "low"
    assert session.false_alerts[0].hiding_spot.name == "Drawer" and session.blank_areas == 2
    assert session.duration_minutes == 60 and session.purpose == "proficiency" and session.wind == "light"


def test_bad_input_is_marked_beside_the_field_and_nothing_typed_is_lost(page, live_server, browser_login,
                                                                      handler_team):
    user, _ = handler_team
    browser_login(page, user)
    open_form(page, live_server)
    page.fill("#location", "Warehouse 4")
    tap(page.get_by_role("button", name="Add hide"))
    choose(hide(page, 0), "Phone", "device_type_id")
    tap(page.locator("[data-test=save]"))
    assert "Choose the outcome" in page.locator('[data-field="hides[0].outcome"]').inner_text()
    assert "duration" in page.locator('[data-field="duration_minutes"]').inner_text()
    page.reload()
    page.wait_for_selector("#training-app[data-ready='1']")
    assert page.locator("#location").input_value() == "Warehouse 4"  # the draft survives a reload
    assert page.locator(".hide-card").count() == 1
    assert stored_sessions() == []


def test_offline_session_waits_then_uploads_exactly_once(page, live_server, browser_login, handler_team):
    user, _ = handler_team
    browser_login(page, user)
    open_form(page, live_server, wait_for_worker=True)
    context = page.context
    context.set_offline(True)
    fill_session_basics(page)
    add_found_hide(page, "SIM card", "Book", 20)
    tap(page.locator("[data-test=save]"))
    status = page.locator("[data-test=queue-status]")
    status.get_by_text("1 session waiting to upload").wait_for()

    page.reload()  # offline: the service worker serves the form, IndexedDB still holds the session
    page.wait_for_selector("#training-app[data-ready='1']")
    status.get_by_text("1 session waiting to upload").wait_for()
    assert page.locator("#net-status").inner_text() == "Offline"
    screenshot(page, "offline-waiting")
    assert stored_sessions() == []

    # The first upload reaches the server but its reply is lost: the session must stay queued.
    dropped = []

    def drop_reply(route):
        route.fetch()
        dropped.append(True)
        route.abort()
    context.route("**/api/sessions", drop_reply)
    context.set_offline(False)
    page.wait_for_function("() => document.querySelector('#net-status').textContent === 'Online'")
    page.wait_for_function("() => window.__dropped === undefined", timeout=1000)
    for _ in range(50):
        if dropped:
            break
        page.wait_for_timeout(100)
    assert dropped, "the page did not upload when the connection returned"
    context.unroute("**/api/sessions")
    assert len(stored_sessions()) == 1
    assert page.locator("[data-test=queue-status]").get_attribute("data-count") == "1"

    tap(page.get_by_role("button", name="Upload now"))  # the retry is deduplicated by its UUID
    page.wait_for_function("() => document.querySelector('[data-test=queue-status]').dataset.count === '0'")
    page.reload()
    page.wait_for_selector("#training-app[data-ready='1']")
    assert page.locator("[data-test=queue-status]").get_attribute("data-count") == "0"
    (session,) = stored_sessions()
    assert session.hides[0].device_type.name == "SIM card" and session.client_uuid


def test_a_rejected_upload_stays_on_the_tablet_with_the_servers_reason(page, live_server, browser_login,
                                                                      handler_team):
    offline_form_with_basics(page, live_server, browser_login, handler_team[0])
    add_found_hide(page, "USB drive", "Book", 60)
    tap(page.locator("[data-test=save]"))
    page.locator("[data-test=queue-status]").get_by_text("1 session waiting to upload").wait_for()

    term("device_type", "USB drive").active = False  # retired on the server while the tablet was offline
    db.session.commit()
    page.context.set_offline(False)
    rejected = page.locator("[data-test=rejected-item]")
    rejected.wait_for()
    assert "Unknown device type." in rejected.locator("[data-test=rejected-reason]").inner_text()
    assert stored_sessions() == []

    page.reload()
    page.wait_for_selector("#training-app[data-ready='1']")
    assert "Unknown device type." in page.locator("[data-test=rejected-item]").inner_text()

    tap(page.get_by_role("button", name="Open in the form to fix"))
    assert "Unknown device type." in page.locator('[data-field="hides[0].device_type_id"]').inner_text()
    choose(hide(page, 0), "SD card", "device_type_id")
    tap(page.locator("[data-test=save]"))
    page.wait_for_url("**/training/sessions/*?saved=1")
    (session,) = stored_sessions()
    assert session.hides[0].device_type.name == "SD card"
    page.goto(f"{live_server}/training/new")
    page.wait_for_selector("#training-app[data-ready='1']")
    assert page.locator("[data-test=rejected-item]").count() == 0


def test_a_note_too_long_is_refused_on_the_tablet_offline_before_it_is_queued(page, live_server, browser_login,
                                                                              handler_team):
    offline_form_with_basics(page, live_server, browser_login, handler_team[0])
    add_found_hide(page, "SIM card", "Book", 20)
    page.fill("#notes", "Strong focus. " * 400)  # 5,600 characters: the server takes 5,000
    tap(page.locator("[data-test=save]"))
    assert "At most 5000 characters." in page.locator('[data-field="notes"]').inner_text()
    page.wait_for_timeout(300)  # a queued session would show within a moment
    assert page.locator("[data-test=queue-status]").get_attribute("data-count") == "0"

    page.fill("#notes", "Strong focus.")
    tap(page.locator("[data-test=save]"))
    page.locator("[data-test=queue-status]").get_by_text("1 session waiting to upload").wait_for()
    assert stored_sessions() == []


BAD_BODIES = [
    {"notes": "x" * 5001}, {"location": "x" * 201}, {"duration_minutes": 601}, {"duration_minutes": None},
    {"temperature_c": 61}, {"blank_areas": -1}, {"purpose": "fun"}, {"wind": "hurricane"},
    {"hides": [{"outcome": "found", "seconds_to_find": 7201, "aid_set_minutes": 10081, "height": "roof"}]},
    {"false_alerts": [{"note": "n" * 2001, "location_note": "l" * 201}]},
]


def test_the_tablet_refuses_what_the_server_refuses_with_the_same_message(page, live_server, browser_login,
                                                                         handler_team):
    user, dog = handler_team
    browser_login(page, user)
    open_form(page, live_server)
    good = {"dog_id": dog.id, "started_at": "2026-01-15T09:30", "duration_minutes": 45, "purpose": "imprint",
            "hides": [], "false_alerts": []}
    for change in BAD_BODIES:
        body = {**good, **change}
        tablet = page.evaluate("body => ESDSessionLimits.check(body)", body)
        server = page.evaluate("""async (body) => {
            const token = (await (await fetch('/api/csrf-token')).json()).csrf_token;
            const r = await fetch('/api/sessions', {method: 'POST', body: JSON.stringify(body),
              headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}});
            return (await r.json()).errors; }""", body)
        def by_field(errors):
            return sorted(errors, key=lambda e: e["field"])
        assert tablet and by_field(tablet) == by_field(server), change
    assert stored_sessions() == []


def test_editing_a_signed_off_session_asks_for_a_reason_and_clears_the_sign_off(page, live_server, browser_login,
                                                                               handler_team):
    user, dog = handler_team
    from tests.helpers import make_session
    session = make_session(dog, user.handler, hides=[{"outcome": "found", "seconds_to_find": 40}],
                           created_by_id=user.id)
    manager = make_user("manager", dog.agency)
    session.signed_off_at, session.signed_off_by_id = session.created_at, manager.id
    db.session.commit()
    browser_login(page, user)
    page.goto(f"{live_server}/training/sessions/{session.id}/edit")
    page.wait_for_selector("#training-app[data-ready='1']")
    tap(page.locator("[data-action=open-hide]").first)
    hide(page, 0).locator("[data-hide-input=seconds_to_find]").fill("55")
    tap(page.locator("[data-test=save]"))
    assert "Give a reason" in page.locator('[data-field="reason"]').inner_text()
    assert hide(page, 0).locator("[data-hide-input=seconds_to_find]").input_value() == "55"  # kept
    page.fill("#reason", "Stopwatch read wrong")
    tap(page.locator("[data-test=save]"))
    page.wait_for_url("**/training/sessions/*?saved=1")
    assert "Not signed off" in page.locator("[data-test=sign-off-state]").inner_text()
    assert "Stopwatch read wrong" in page.locator("[data-test=revisions]").inner_text()
    (stored,) = stored_sessions()
    assert stored.hides[0].seconds_to_find == 55 and stored.signed_off_at is None


def test_logging_out_removes_the_offline_copy_of_the_form(page, live_server, browser_login, handler_team):
    """A shared tablet: after logout, the next person offline must not get the last user's form
    (its agency's dogs and handlers); sessions waiting to upload are not touched."""
    user, dog = handler_team
    browser_login(page, user)
    open_form(page, live_server, wait_for_worker=True)
    form_url = page.url
    assert page.evaluate("async (url) => !!(await caches.match(url))", form_url)  # kept for offline use
    assert page.evaluate("() => localStorage.getItem('esd-training-vocab') !== null")

    page.evaluate("() => document.querySelector('[data-test=logout]').closest('form').submit()")
    page.wait_for_url("**/login**")
    # The login page deletes the caches as it loads (the worker may cache its styles again at once:
    # they hold nothing of anyone's). What must be gone are the form and the vocabularies.
    kept = "async (urls) => (await Promise.all(urls.map(u => caches.match(u)))).filter(Boolean).length"
    records = [form_url, f"{live_server}/api/vocabularies"]
    for _ in range(50):
        if page.evaluate(kept, records) == 0:
            break
        page.wait_for_timeout(100)
    assert page.evaluate(kept, records) == 0
    assert page.evaluate("() => localStorage.getItem('esd-training-vocab')") is None

    page.context.set_offline(True)
    try:
        page.goto(form_url)
        shown = page.content()
    except Exception:  # noqa: BLE001 - the browser's own "no connection" error is what we want
        shown = ""
    assert dog.name not in shown and "K9-7" not in shown


def tab_to(page, selector, limit=30):
    """Press Tab until the focus is on `selector`; return how many Tabs it took."""
    for count in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return count
    raise AssertionError(f"{selector} not reached in {limit} Tabs")


def focused(page, selector):
    return page.evaluate("s => document.activeElement.matches(s)", selector)


# Measured from the top of the page to a saved session of one found hide, each choice group one
# Tab stop (the arrows move inside it): 1 Tab to "Skip to main content", then the dog, the date's
# and start time's 4 parts each (Chromium's own fields), duration, purpose, …, and Enter in
# "Seconds to find" saves. Before, the focus fell to <body> after every choice (38 Tabs and
# 24 Shift+Tabs).
KEYBOARD_TABS_FOR_ONE_HIDE = 28


def test_one_hide_saved_by_keyboard_alone_in_a_few_tabs(page, live_server, browser_login, handler_team):
    user, dog = handler_team
    browser_login(page, user)
    open_form(page, live_server)
    tabs = tab_to(page, "a[href='#main']")
    page.keyboard.press("Enter")
    tabs += tab_to(page, "#duration_minutes")
    page.keyboard.type("45")
    tabs += tab_to(page, "[data-choice=purpose]")
    page.keyboard.press("Enter")
    assert focused(page, "[data-choice=purpose][aria-pressed=true]")  # the focus stayed on the pressed button

    tabs += tab_to(page, "[data-action=add-hide]")
    page.keyboard.press("Enter")
    assert focused(page, "[data-key=device_type_id]")  # into the new hide's first choice
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    chosen = page.evaluate("document.activeElement.textContent")
    assert focused(page, "[data-key=device_type_id][aria-pressed=true]")
    tabs += tab_to(page, "[data-key=hiding_spot_id]")
    page.keyboard.press("Enter")
    tabs += tab_to(page, "[data-test=found]")
    page.keyboard.press("Enter")
    assert focused(page, "[data-test=found][aria-pressed=true]")
    assert page.locator("[data-test=missed]").get_attribute("aria-pressed") == "false"
    tabs += tab_to(page, "[data-hide-input=seconds_to_find]")
    page.keyboard.type("40")
    page.keyboard.press("Enter")
    page.wait_for_url("**/training/sessions/*?saved=1")

    assert tabs <= KEYBOARD_TABS_FOR_ONE_HIDE, f"{tabs} Tabs"
    (session,) = stored_sessions()
    assert session.duration_minutes == 45 and session.dog_id == dog.id
    assert [(h.device_type.name, h.outcome, h.seconds_to_find) for h in session.hides] == [(chosen.strip(), "found", 40)]


def test_errors_are_announced_focused_and_gone_once_corrected(page, live_server, browser_login, handler_team):
    user, _ = handler_team
    browser_login(page, user)
    open_form(page, live_server)
    tap(page.get_by_role("button", name="Add hide"))
    # Every choice group is named by its hide and its field.
    assert page.get_by_role("group", name="Hide 1 Device type", exact=True).is_visible()
    assert page.get_by_role("group", name="Hide 1 Outcome", exact=True).is_visible()
    assert page.get_by_role("group", name="Purpose", exact=True).is_visible()
    blind = page.locator("[data-key=blind]")
    assert [blind.nth(i).get_attribute("aria-pressed") for i in range(2)] == ["false", "true"]

    tap(page.locator("[data-test=save]"))
    # The focus is on the first marked field, which names its message.
    assert focused(page, "#duration_minutes[aria-invalid=true]")
    message = page.evaluate("document.getElementById(document.activeElement.getAttribute('aria-describedby')).textContent")
    assert "duration" in message
    outcome = page.get_by_role("group", name="Hide 1 Outcome", exact=True)
    assert outcome.get_attribute("aria-invalid") == "true"

    page.fill("#duration_minutes", "30")  # corrected: its mark goes at once, the others stay
    duration = page.locator('[data-field="duration_minutes"]')
    assert duration.locator(".field-error").count() == 0
    assert page.locator("#duration_minutes").get_attribute("aria-invalid") is None
    assert "Choose the outcome" in page.locator('[data-field="hides[0].outcome"]').inner_text()

    tap(page.locator("[data-test=found]"))
    assert page.locator('[data-field="hides[0].outcome"] .field-error').count() == 0
    assert outcome.get_attribute("aria-invalid") is None
    # Marks on fields not yet corrected survive the redraw a choice causes.
    assert "Choose the purpose" in page.locator('[data-field="purpose"]').inner_text()
    assert page.get_by_role("group", name="Purpose", exact=True).get_attribute("aria-invalid") == "true"


def test_keyboard_focus_looks_unlike_a_selected_choice(page, live_server, browser_login, handler_team):
    user, _ = handler_team
    browser_login(page, user)
    open_form(page, live_server)
    tab_to(page, "[data-choice=wind]")
    page.keyboard.press("Enter")  # the first wind is selected and keeps the focus
    page.keyboard.press("ArrowRight")  # the focus moves to the next, unselected one
    look = """el => { const s = getComputedStyle(el);
      return {bg: s.backgroundColor, color: s.color, outline: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"""
    focused_look = page.evaluate(f"({look})(document.activeElement)")
    selected = page.locator("[data-choice=wind][aria-pressed=true]")
    selected_look = selected.evaluate(look)
    unselected_look = page.locator("[data-choice=wind][aria-pressed=false]").last.evaluate(look)
    assert page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "false"
    # Focus adds a thick outline and does not fill the button as a selection does.
    assert focused_look["outline"] != "none" and focused_look["width"] >= 3
    assert focused_look["bg"] == unselected_look["bg"] != selected_look["bg"]
    assert selected_look["outline"] == "none"
