"""Importing a spreadsheet from another system in a real browser at the tablet viewport:
upload → mapping (the sheet's kind, its headers, its values) → preview → confirm; saves the README's screenshots."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from esd.extensions import db
from esd.models import AuditEntry, TrainingSession, VocabularyTerm
from tests.browser import screenshot
from tests.helpers import make_agency, make_dog, make_handler, make_team, make_user

pytestmark = pytest.mark.browser  # `make screenshots` runs the browser tests by this mark

# A training log kept in a spreadsheet: no header is ours, and neither are some of its values.
LOG = ("Canine,Date,Minutes,Type,Where,Remarks\n"
       "Rex,03/10/2024 9:30 AM,45,Maint,House,Two finds in the bedroom\n"
       "Rex,03/17/2024 10:00 AM,30,Maint,Parking garage,\n"
       "Rex,03/24/2024 2:15 PM,50,Cert prep,House,Blind hides\n"
       "Ghost,03/25/2024 9:00 AM,40,Maint,House,\n")


def test_upload_map_preview_and_confirm_on_a_tablet(page, live_server, browser_login, tmp_path):
    agency = make_agency(name="Metro ICAC Task Force", timezone="America/Chicago")
    manager = make_user("manager", agency, name="Maria Lopez")
    handler = make_handler(agency, name="Sam Ortiz", badge_number="B-12")
    make_team(make_dog(agency, name="Rex", call_sign="K9-7"), handler, starts_on=date(2023, 1, 1))
    db.session.commit()
    log = tmp_path / "training-log.csv"
    log.write_text(LOG, encoding="utf-8")

    browser_login(page, manager)
    page.click(".navbar-toggler")  # the menu is folded at tablet width
    page.click("#mainnav >> text=Import")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-test=workbook]").is_visible()
    page.set_input_files("input[name=file]", str(log))
    page.click("[data-test=upload]")
    page.wait_for_load_state("networkidle")

    # The sheet's name and headers say nothing we know: first, what it holds.
    assert page.url.endswith("/mapping")
    page.select_option("select[name=kind_0]", "sessions")
    page.click("[data-test=apply-mapping]")
    page.wait_for_load_state("networkidle")

    # Then its headers: the similar names come proposed, the others are chosen.
    assert page.url.endswith("/mapping")
    assert page.locator('[data-header="Canine"] select').input_value() == "dog"
    assert page.locator('[data-header="Date"] select').input_value() == "started_at"
    assert page.locator('[data-header="Minutes"] select').input_value() == "duration_minutes"
    page.select_option('[data-header="Type"] select', "purpose")
    page.select_option('[data-header="Where"] select', "environment")
    page.select_option('[data-header="Remarks"] select', "notes")
    page.click("[data-test=apply-mapping]")
    page.wait_for_load_state("networkidle")

    # Then the values those columns hold that are not ours.
    assert page.url.endswith("/mapping")
    assert "more choices came up" in page.content()
    page.select_option('[data-value="Maint"] select', "maintenance")
    page.select_option('[data-value="Cert prep"] select', "certification_prep")
    page.select_option('[data-value="House"] select', "Residence")
    page.select_option('[data-value="Parking garage"] select', "+")
    screenshot(page, "import-mapping")
    page.click("[data-test=apply-mapping]")
    page.wait_for_load_state("networkidle")

    # The dry run: what would be created, and the row that cannot be, with its reason.
    counts = page.locator('[data-test=counts] tr[data-kind="sessions"]')
    assert counts.locator('[data-count="create"]').inner_text() == "3"
    assert counts.locator('[data-count="refused"]').inner_text() == "1"
    problems = page.locator("[data-test=problems] tbody tr")
    assert problems.count() == 1
    assert "unknown dog 'Ghost'" in problems.first.inner_text() and "5" in problems.first.inner_text()
    assert "Parking garage (environment)" in page.locator("[data-test=new-terms]").inner_text()
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 0  # nothing written yet
    screenshot(page, "import-preview")

    page.click("[data-test=confirm]")
    page.wait_for_load_state("networkidle")
    flash = page.locator(".alert-success").inner_text()
    assert "Imported training-log.csv into Metro ICAC Task Force: 3 records created" in flash
    assert "1 rows refused" in flash
    db.session.rollback()
    sessions = list(db.session.scalars(select(TrainingSession).order_by(TrainingSession.started_at)))
    assert [s.started_at for s in sessions][0] == datetime(2024, 3, 10, 14, 30, tzinfo=timezone.utc)  # 9:30 CDT
    assert [s.purpose for s in sessions] == ["maintenance", "maintenance", "certification_prep"]
    assert [s.environment.name for s in sessions] == ["Residence", "Parking garage", "Residence"]
    assert sessions[0].notes == "Two finds in the bedroom" and sessions[0].handler.name == "Sam Ortiz"
    assert db.session.scalar(select(VocabularyTerm.kind).where(VocabularyTerm.name == "Parking garage")) == "environment"
    event = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert event.user_id == manager.id and event.changes["counts"]["sessions"]["create"] == 3
