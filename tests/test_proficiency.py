"""Every dog side by side: the agency's proficiency standard, and the proficiency matrix."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from esd.models import Agency, AuditEntry
from tests.helpers import make_agency


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def agency_form(**overrides):
    data = {"name": "Metro ICAC Task Force", "timezone": "America/Chicago", "warning_window_days": "45",
            "reminder_thresholds": "90,30,0", "monthly_training_target_hours": "16", "temperature_unit": "F"}
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- the agency's settings

def test_a_new_agency_holds_dogs_to_90_percent_and_a_60_day_window(db_session):
    agency = make_agency()
    db_session.commit()
    assert (agency.proficiency_standard, agency.readiness_window_days) == (90, 60)


def test_admin_sets_the_standard_and_the_window_and_the_change_is_audited(client, login_as, db_session):
    agency = make_agency(name="Metro ICAC Task Force")
    db_session.commit()
    login_as("admin")
    assert 'value="90"' in text(client.get(f"/admin/agencies/{agency.id}/edit"))
    response = client.post(f"/admin/agencies/{agency.id}/edit",
                           data=agency_form(proficiency_standard="85", readiness_window_days="30"))
    assert response.status_code == 302
    db_session.refresh(agency)
    assert (agency.proficiency_standard, agency.readiness_window_days) == (85, 30)
    update = db_session.scalar(select(AuditEntry).where(AuditEntry.entity == "agency", AuditEntry.action == "update"))
    assert "proficiency_standard" in update.changes and "readiness_window_days" in update.changes


def test_left_blank_the_settings_keep_their_defaults(client, login_as, db_session):
    login_as("admin")
    assert client.post("/admin/agencies/new", data=agency_form(proficiency_standard="",
                                                               readiness_window_days="")).status_code == 302
    agency = db_session.scalar(select(Agency).where(Agency.name == "Metro ICAC Task Force"))
    assert (agency.proficiency_standard, agency.readiness_window_days) == (90, 60)


@pytest.mark.parametrize("overrides, message", [
    ({"proficiency_standard": "150"}, "A find rate is a percentage: use 1 to 100 (e.g. 90)."),
    ({"proficiency_standard": "0"}, "A find rate is a percentage: use 1 to 100 (e.g. 90)."),
    ({"proficiency_standard": "ninety"}, "Not a valid integer value."),
    ({"proficiency_standard": "99999999999999999999"}, "Use a number from"),
    ({"readiness_window_days": "-3"}, "Use 1 to 365 days (e.g. 60)."),
    ({"readiness_window_days": "400"}, "Use 1 to 365 days (e.g. 60)."),
])
def test_a_bad_standard_or_window_is_explained_beside_the_field(client, login_as, db_session, overrides, message):
    agency = make_agency(name="Metro ICAC Task Force")
    db_session.commit()
    login_as("admin")
    response = client.post(f"/admin/agencies/{agency.id}/edit", data=agency_form(**overrides))
    assert response.status_code == 400
    assert message in text(response)
    db_session.refresh(agency)
    assert (agency.proficiency_standard, agency.readiness_window_days) == (90, 60)
