"""Real-browser fixtures: the app served on a free localhost port and headless Debian Chromium.

Browsers cannot be downloaded here, so Playwright drives /usr/bin/chromium
(`apt-get install -y chromium`; `make test` and `.ci/run` install it).
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
# `make test` must leave tracked files alone, so screenshots go to a git-ignored folder;
# `make screenshots` points this at docs/screenshots/ to refresh the README's pictures.
def screenshot_dir(environ=os.environ) -> Path:
    """Where screenshots go: ESD_SCREENSHOTS_DIR when set (by `make screenshots`), else .cache/screenshots."""
    return Path(environ.get("ESD_SCREENSHOTS_DIR") or ROOT / ".cache" / "screenshots")


SCREENSHOTS = screenshot_dir()
TABLET = {"width": 820, "height": 1180}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(app):
    """The test app served by a real HTTP server in a thread; yields its base URL."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (the Debian package), launched once per run."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `apt-get install -y chromium` (make test does).")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context at the tablet viewport (820×1180 portrait)."""
    context = browser.new_context(viewport=TABLET, device_scale_factor=1, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def browser_login(live_server):
    """Log a page in through the real login form."""
    from tests.helpers import PASSWORD

    def login(page, user, password: str = PASSWORD):
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", user.email)
        page.fill("input[name=password]", password)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "/login" not in page.url, "browser login failed"
    return login


def screenshot(page, name: str, element=None) -> Path:
    """Save a screenshot of the whole page (or of one element's locator) for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if element is not None:
        element.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=True)
    return path
