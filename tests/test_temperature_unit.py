"""Temperatures in °F or °C as the agency chooses: stored in °C, shown and entered in the agency's unit."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from esd.extensions import db
from esd.models import Agency, TrainingSession
from esd.units import format_temperature, from_celsius, to_celsius
from tests.helpers import make_agency, make_dog, make_handler, make_session, make_team, make_user


@pytest.mark.parametrize("celsius, unit, shown", [
    (12.5, "F", "54.5 °F"), (12.5, "C", "12.5 °C"), (-40, "F", "-40 °F"), (0, "F", "32 °F"), (None, "F", ""),
])
def test_a_stored_temperature_is_shown_in_the_agencys_unit(celsius, unit, shown):
    assert format_temperature(celsius, unit) == shown


def test_fahrenheit_round_trips_through_the_stored_celsius():
    assert from_celsius(to_celsius(70, "F"), "F") == 70
    assert to_celsius(21.5, "C") == 21.5


def test_admin_sets_the_unit_and_the_session_page_shows_it(client, login_as):
    login_as("admin")
    response = client.post("/admin/agencies/new", data={
        "name": "Alpine Task Force", "timezone": "America/Denver", "warning_window_days": "60",
        "reminder_thresholds": "90,30,0", "monthly_training_target_hours": "16", "temperature_unit": "C"})
    assert response.status_code == 302
    agency = db.session.scalar(select(Agency).where(Agency.name == "Alpine Task Force"))
    assert agency.temperature_unit == "C"
    assert make_agency().temperature_unit == "F"  # the default for a new agency

    handler = make_handler(agency)
    dog = make_dog(agency)
    make_team(dog, handler)
    session = make_session(dog, handler, temperature_c=12.5)
    db.session.commit()
    assert "12.5 °C" in html.unescape(client.get(f"/training/sessions/{session.id}").get_data(as_text=True))
    client.post(f"/admin/agencies/{agency.id}/edit", data={
        "name": "Alpine Task Force", "timezone": "America/Denver", "warning_window_days": "60",
        "reminder_thresholds": "90,30,0", "monthly_training_target_hours": "16", "temperature_unit": "F"})
    page = html.unescape(client.get(f"/training/sessions/{session.id}").get_data(as_text=True))
    assert "54.5 °F" in page and "12.5 °C" not in page


def test_an_unknown_unit_is_refused_beside_the_field(client, login_as):
    login_as("admin")
    response = client.post("/admin/agencies/new", data={
        "name": "Kelvin Task Force", "timezone": "UTC", "warning_window_days": "60",
        "reminder_thresholds": "90", "monthly_training_target_hours": "16", "temperature_unit": "K"})
    assert response.status_code == 400
    assert db.session.scalar(select(Agency).where(Agency.name == "Kelvin Task Force")) is None


@pytest.mark.browser
def test_the_tablet_takes_fahrenheit_for_a_fahrenheit_agency_and_stores_celsius(page, live_server, browser_login):
    agency = make_agency(name="Desert Task Force", timezone="America/Phoenix", temperature_unit="F")
    user = make_user("handler", agency)
    handler = make_handler(agency, user_id=user.id)
    make_team(make_dog(agency, name="Sunny"), handler)
    db.session.commit()
    browser_login(page, user)
    page.goto(f"{live_server}/training/new")
    page.wait_for_selector("#training-app[data-ready='1']")
    assert page.locator("label[for=temperature_c]").inner_text() == "Temperature (°F)"
    page.get_by_role("button", name="60", exact=True).tap()
    page.get_by_role("button", name="Proficiency", exact=True).tap()
    page.fill("#temperature_c", "95")
    page.locator("[data-test=save]").tap()
    page.wait_for_url("**/training/sessions/**")
    assert "95 °F" in page.content()
    db.session.commit()
    stored = db.session.scalar(select(TrainingSession.temperature_c))
    assert stored == pytest.approx(35.0)
