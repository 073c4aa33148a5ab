"""One schema for a training session: the API's refusals by field path, the bounds it publishes to the
tablet, and the serializer and audit snapshot that follow its fields."""
import pytest
from sqlalchemy import func, select

from esd.extensions import db
from esd.models import AuditEntry, TrainingSession
from esd.training import forms, services
from tests.helpers import make_agency, make_dog, make_handler, make_session, make_user
from tests.test_api_sessions import body_for, handler_setup  # noqa: F401  (the fixture)


def post(client, body):
    response = client.post("/api/sessions", json=body)
    stored = db.session.scalar(select(func.count()).select_from(TrainingSession))
    return response, stored


@pytest.mark.parametrize("change, field, message", [
    (lambda b: b.update(notes="x" * 5001), "notes", "At most 5000 characters."),
    (lambda b: b.update(location="x" * 201), "location", "At most 200 characters."),
    (lambda b: b["false_alerts"][0].update(location_note="x" * 201), "false_alerts[0].location_note",
     "At most 200 characters."),
    (lambda b: b["false_alerts"][0].update(note="x" * 2001), "false_alerts[0].note", "At most 2000 characters."),
    (lambda b: b.update(notes="before\x00after"), "notes", "Remove the invisible control character (NUL)."),
    (lambda b: b.update(duration_minutes="\u0661\u0662"), "duration_minutes", "Must be a whole number."),
    (lambda b: b.update(duration_minutes="4\u00b2"), "duration_minutes", "Must be a whole number."),
    (lambda b: b.update(duration_minutes=True), "duration_minutes", "Must be a whole number."),
    (lambda b: b.update(duration_minutes=45.5), "duration_minutes", "Must be a whole number."),
    (lambda b: b.update(temperature_c="NaN"), "temperature_c", "Must be a number."),
    (lambda b: b.update(temperature_c=1e300), "temperature_c", "Must be a number."),
    (lambda b: b.update(blank_areas=1001), "blank_areas", "Blank areas must be from 0 to 1000."),
    (lambda b: b["hides"][0].update(aid_set_minutes=10081), "hides[0].aid_set_minutes",
     "Aid set time must be from 0 to 10080 minutes (a week)."),
    (lambda b: b["hides"][1].update(device_type_id=2 ** 40), "hides[1].device_type_id", None),
    (lambda b: b["hides"][1].update(device_type_id=[1, 2]), "hides[1].device_type_id",
     "Must be a single value, not a list or an object."),
    (lambda b: b.update(surprise=1), "surprise", "Unknown field: surprise."),
    (lambda b: b["hides"][0].update(colour="red"), "hides[0].colour", "Unknown field: colour."),
    (lambda b: b["hides"].append("a hide"), "hides[2]", "Each hide must be an object."),
    (lambda b: b.update(false_alerts=[{}] * 101), "false_alerts", "False alerts must be a list of at most 100."),
    (lambda b: b.update(started_at="9999-12-31T23:59-14:00"), "started_at", None),
], ids=lambda v: v if isinstance(v, str) else "")
def test_the_api_refuses_by_field_path_with_the_schemas_message(client, handler_setup, change, field, message):
    _, _, dog = handler_setup
    body = body_for(dog)
    change(body)
    response, stored = post(client, body)
    assert response.status_code == 422 and stored == 0
    errors = {e["field"]: e["error"] for e in response.get_json()["errors"]}
    assert field in errors
    if message:
        assert errors[field] == message


def test_every_error_of_a_body_is_answered_at_once_one_per_field(client, handler_setup):
    _, _, dog = handler_setup
    body = body_for(dog, duration_minutes="soon", notes="x" * 5001)
    body["hides"][0].update(outcome=None, seconds_to_find=-1)
    errors = client.post("/api/sessions", json=body).get_json()["errors"]
    fields = [e["field"] for e in errors]
    assert fields == ["duration_minutes", "notes", "hides[0].outcome", "hides[0].seconds_to_find"]


def test_a_hide_sent_empty_keeps_its_position_in_the_errors(client, handler_setup):
    _, _, dog = handler_setup
    body = body_for(dog)
    body["hides"].insert(0, {})
    errors = {e["field"] for e in client.post("/api/sessions", json=body).get_json()["errors"]}
    assert errors == {"hides[0].device_type_id", "hides[0].hiding_spot_id", "hides[0].outcome"}


def test_numbers_may_come_as_text_or_whole_floats(client, handler_setup):
    _, _, dog = handler_setup
    body = body_for(dog, duration_minutes="45", blank_areas=3.0, temperature_c="-2.5")
    response = client.post("/api/sessions", json=body)
    assert response.status_code == 201
    data = response.get_json()
    assert (data["duration_minutes"], data["blank_areas"], data["temperature_c"]) == (45, 3, -2.5)


def test_the_limits_published_to_the_tablet_are_the_ones_the_server_enforces():
    limits = forms.limits()
    session, hides, alerts = limits["session"], limits["hides"], limits["false_alerts"]
    # Lengths come from the model's columns, so a migration that widens one widens the form too.
    assert session["location"]["max_length"] == TrainingSession.__table__.c.location.type.length == 200
    assert session["duration_minutes"].items() >= {
        "required": "Enter a duration from 1 to 600 minutes (10 hours).", "min": 1, "max": 600,
        "type": "integer"}.items()
    assert session["purpose"]["choices"] == ["imprint", "maintenance", "proficiency", "certification_prep"]
    assert "required" not in session["location"]
    assert hides["max_items"] == 200 and alerts["max_items"] == 100
    assert hides["fields"]["outcome"]["required"] == "Choose the outcome (found or missed)."
    assert hides["fields"]["seconds_to_find"]["max"] == 7200
    assert alerts["fields"]["note"]["max_length"] == 2000


def test_the_serializer_and_the_audit_snapshot_carry_every_field_of_the_schema():
    agency = make_agency()
    dog, handler = make_dog(agency), make_handler(agency)
    session = make_session(dog, handler, hides=[{"outcome": "found", "seconds_to_find": 30}], false_alerts=1,
                           location="Depot", notes="Good")
    body = services.session_json(session)
    snapshot = services.snapshot(session)
    for name, cls in forms.fields_of(forms.SessionForm):
        if name not in forms.LISTS:
            assert name in body
            audit_name = name.removesuffix("_id") if cls is forms.TermField else name
            assert audit_name in snapshot or name == "client_uuid"  # the upload's id is not part of the record
    for list_name in forms.LISTS:
        names = [name for name, _ in forms.row_columns(list_name)]
        assert list(body[list_name][0]) == names
        assert len(snapshot[list_name][0]) == len(names)
    assert snapshot["hides"][0]["device_type"] == session.hides[0].device_type.name


def test_a_body_read_back_from_the_api_is_accepted_as_an_unchanged_edit(client, handler_setup):
    _, _, dog = handler_setup
    created = client.post("/api/sessions", json=body_for(dog)).get_json()
    again = client.put(f"/api/sessions/{created['id']}", json=client.get(f"/api/sessions/{created['id']}").get_json())
    assert again.status_code == 200 and again.get_json()["changed"] is False
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "revise")) == 0


def test_a_manager_may_not_name_a_handler_id_beyond_the_database_range(client, login_as):
    manager = login_as("manager")
    dog = make_dog(manager.agency)
    db.session.commit()
    response = client.post("/api/sessions", json=body_for(dog, handler_id=2 ** 40))
    assert response.status_code == 422 and response.get_json()["field"] == "handler_id"


def test_a_dog_id_beyond_the_database_range_is_not_found(client, login_as):
    login_as("manager")
    make_user("manager")
    response = client.post("/api/sessions", json={"dog_id": 2 ** 40})
    assert response.status_code == 404


def test_the_tablet_form_carries_the_limits_and_the_script_that_checks_them(client, handler_setup):
    html = client.get("/training/new").get_data(as_text=True)
    assert 'id="session-limits"' in html and '"max_length": 5000' in html
    assert "/static/training/limits.js" in html and 'maxlength="200"' in html
    worker = client.get("/sw.js").get_data(as_text=True)
    assert "/static/training/limits.js" in worker  # cached with the form, for offline use
