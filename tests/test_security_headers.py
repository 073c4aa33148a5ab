"""Security headers on every answer, and the app working under its Content-Security-Policy in Chromium."""
import re
from pathlib import Path

import pytest

from esd import create_app
from esd.extensions import db
from tests.helpers import make_agency, make_certification, make_deployment, make_dog, make_handler, make_team, make_user

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_every_page_sends_a_strict_csp_and_a_permissions_policy(client, login_as):
    login_as("manager")
    for url in ("/login", "/dogs", "/reports/dashboard", "/training/new", "/sw.js"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src and "'nonce-" in script_src
        assert "camera=()" in headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would be ignored and misleading


def test_each_answer_has_its_own_nonce_and_the_page_uses_it(client, login_as):
    agency = make_agency()
    login_as("manager", agency)
    dog = make_dog(agency)
    db.session.commit()
    first, second = client.get(f"/deployments/new?dog_id={dog.id}"), client.get(f"/deployments/new?dog_id={dog.id}")
    nonces = [re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1) for r in (first, second)]
    assert nonces[0] != nonces[1]
    assert f'<script nonce="{nonces[0]}">' in first.get_data(as_text=True)


def test_https_adds_strict_transport_security(monkeypatch, tmp_path):
    monkeypatch.setenv("ESD_HTTPS", "1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "x"})
    response = app.test_client().get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_no_template_has_inline_handlers_or_scripts_without_the_nonce():
    problems = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        problems += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"\son[a-z]+=\"", text)]
        problems += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"<(script|style)(?![^>]*(nonce=|src=|type=\"application/json\"))[^>]*>", text)]
        problems += [f"{path.name}: javascript: URL" for _ in re.finditer(r"javascript:", text)]
    assert not problems, problems


@pytest.fixture
def records():
    agency = make_agency(name="CSP Task Force", timezone="UTC")
    manager = make_user("manager", agency)
    handler = make_handler(agency)
    dog = make_dog(agency, name="Nonce")
    make_team(dog, handler)
    make_deployment(dog, handler, finds=[{"missed_by_human_search": True}])
    make_certification(dog, handler)
    db.session.commit()
    return manager, dog


def test_pages_scripts_and_the_service_worker_work_under_the_policy_in_chromium(page, live_server, browser_login,
                                                                                 records):
    manager, dog = records
    errors, missing = [], []
    # A resource that fails is checked by its response below (the favicon is another engineer's work).
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    browser_login(page, manager)
    page.evaluate("""() => document.addEventListener('securitypolicyviolation',
                     e => console.error('CSP violation ' + e.violatedDirective + ' ' + e.blockedURI))""")

    # A nonce'd inline script: the deployment form's "Add a find" adds a row.
    page.goto(f"{live_server}/deployments/new?dog_id={dog.id}")
    rows = page.locator("#finds [data-find-row]").count()
    page.click("#add-find")
    assert page.locator("#finds [data-find-row]").count() == rows + 1
    # Another: the certification form proposes an expiry one year after issue.
    page.goto(f"{live_server}/certifications/new?dog_id={dog.id}")
    page.fill("#issued_on", "2026-02-01")
    page.dispatch_event("#issued_on", "change")
    assert page.input_value("#expires_on") == "2027-02-01"
    # A confirmation declared in the markup (no inline handler): dismissing it keeps the dog.
    page.goto(f"{live_server}/dogs/{dog.id}")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("form[data-confirm] button[type=submit]")
    assert asked and "Archive Nonce?" in asked[0] and page.url.endswith(f"/dogs/{dog.id}")
    # Charts load as images; the dashboard's own script runs.
    page.goto(f"{live_server}/reports/dashboard")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    # The tablet form is built by its script and the service worker takes control.
    page.goto(f"{live_server}/training/new")
    page.wait_for_function("navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready")
    page.wait_for_selector("#dog_id option", state="attached")
    assert page.evaluate("navigator.serviceWorker.getRegistration().then(r => !!r)")
    assert not errors, errors
    assert not missing, missing
