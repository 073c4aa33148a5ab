"""The tablet's JSON API: create, dedupe by client UUID, bad input as 400/422 with the field, edits
under the record-integrity rules, and scoping."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from esd.extensions import db
from esd.models import AuditEntry, TrainingSession, utcnow
from tests.helpers import make_agency, make_dog, make_handler, make_session, make_team, make_user, term


@pytest.fixture
def handler_setup(login_as):
    """A handler logged in, with a dog on their current team."""
    user = login_as("handler")
    handler = make_handler(user.agency, user_id=user.id)
    dog = make_dog(user.agency, name="Rex")
    make_team(dog, handler)
    db.session.commit()
    return user, handler, dog


def body_for(dog, **overrides):
    local = utcnow().astimezone(timezone(timedelta(hours=-5))) - timedelta(hours=1)
    body = {
        "client_uuid": str(uuid.uuid4()), "dog_id": dog.id,
        "started_at": local.strftime("%Y-%m-%dT%H:%M") + "-05:00", "duration_minutes": 45,
        "location": "Old school", "environment_id": term("environment", "Warehouse").id, "purpose": "proficiency",
        "temperature_c": 12.5, "wind": "light", "precipitation": "none", "blank_areas": 2, "notes": "Good focus",
        "hides": [
            {"device_type_id": term("device_type", "microSD card").id, "hiding_spot_id": term("hiding_spot", "Book").id,
             "height": "low", "concealment": "concealed", "aid_set_minutes": 30, "blind": True, "outcome": "found",
             "seconds_to_find": 75},
            {"device_type_id": term("device_type", "USB drive").id, "hiding_spot_id": term("hiding_spot", "Toy").id,
             "outcome": "missed"},
        ],
        "false_alerts": [{"hiding_spot_id": term("hiding_spot", "Drawer").id, "location_note": "Kitchen",
                          "note": "Residual odor?"}],
    }
    body.update(overrides)
    return body


def count_sessions():
    return db.session.scalar(select(func.count()).select_from(TrainingSession))


def test_a_handler_creates_a_session_credited_to_them(client, handler_setup):
    user, handler, dog = handler_setup
    response = client.post("/api/sessions", json=body_for(dog))
    assert response.status_code == 201
    data = response.get_json()
    assert data["summary"]["hides"] == 2 and data["summary"]["found"] == 1 and data["summary"]["false_alerts"] == 1
    session = db.session.get(TrainingSession, data["id"])
    assert session.handler_id == handler.id and session.created_by_id == user.id
    assert session.hides[0].blind and session.hides[0].seconds_to_find == 75 and session.hides[1].outcome == "missed"
    assert session.false_alerts[0].location_note == "Kitchen"
    assert session.started_at.tzinfo is not None


def test_the_upload_answer_is_the_stored_session(client, handler_setup):
    _, _, dog = handler_setup
    body = body_for(dog)
    body["hides"][1]["device_type_id"] = str(body["hides"][1]["device_type_id"])  # ids as text work too
    created = client.post("/api/sessions", json=body).get_json()
    stored = client.get(f"/api/sessions/{created['id']}").get_json()
    assert created.pop("created") is True
    assert created == stored


def test_a_start_without_offset_is_the_agencys_local_time(client, handler_setup):
    _, _, dog = handler_setup  # agency in America/New_York
    response = client.post("/api/sessions", json=body_for(dog, started_at="2026-01-15T09:30"))
    assert response.status_code == 201
    session = db.session.get(TrainingSession, response.get_json()["id"])
    assert session.started_at == datetime(2026, 1, 15, 14, 30, tzinfo=timezone.utc)
    assert response.get_json()["started_at"] == "2026-01-15T09:30"


def test_a_retried_upload_returns_the_first_session_not_a_duplicate(client, handler_setup):
    _, _, dog = handler_setup
    body = body_for(dog)
    first = client.post("/api/sessions", json=body)
    again = client.post("/api/sessions", json=body)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["created"] is False
    assert count_sessions() == 1


def test_a_uuid_of_another_agencys_session_is_refused_without_its_data(client, handler_setup):
    _, _, dog = handler_setup
    other = make_agency()
    foreign = make_session(make_dog(other), make_handler(other), client_uuid=str(uuid.uuid4()))
    db.session.commit()
    response = client.post("/api/sessions", json=body_for(dog, client_uuid=foreign.client_uuid))
    assert response.status_code == 409
    assert "id" not in response.get_json()


@pytest.mark.parametrize("change, field", [
    (lambda b: b["hides"][0].pop("outcome"), "hides[0].outcome"),
    (lambda b: b["hides"][0].update(outcome="maybe"), "hides[0].outcome"),
    (lambda b: b["hides"][0].update(seconds_to_find=-1), "hides[0].seconds_to_find"),
    (lambda b: b["hides"][0].update(seconds_to_find=7201), "hides[0].seconds_to_find"),
    (lambda b: b["hides"][0].update(seconds_to_find="soon"), "hides[0].seconds_to_find"),
    (lambda b: b.update(duration_minutes=0), "duration_minutes"),
    (lambda b: b.update(duration_minutes=601), "duration_minutes"),
    (lambda b: b.pop("duration_minutes"), "duration_minutes"),
    (lambda b: b.update(started_at=(utcnow() + timedelta(hours=2)).isoformat()), "started_at"),
    (lambda b: b.update(started_at="yesterday"), "started_at"),
    (lambda b: b["hides"][1].update(device_type_id=999999), "hides[1].device_type_id"),
    (lambda b: b["hides"][1].update(device_type_id=term("hiding_spot", "Book").id), "hides[1].device_type_id"),
    (lambda b: b["hides"][1].pop("hiding_spot_id"), "hides[1].hiding_spot_id"),
    (lambda b: b.update(purpose="fun"), "purpose"),
    (lambda b: b.update(wind="hurricane"), "wind"),
    (lambda b: b.update(temperature_c=300), "temperature_c"),
    (lambda b: b.update(client_uuid="not-a-uuid"), "client_uuid"),
    (lambda b: b.update(hides="five"), "hides"),
    (lambda b: b.update(dog_id=None), "dog_id"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_input_is_422_with_the_field_and_nothing_is_stored(client, handler_setup, change, field):
    _, _, dog = handler_setup
    body = body_for(dog)
    change(body)
    response = client.post("/api/sessions", json=body)
    assert response.status_code == 422
    data = response.get_json()
    assert field in [e["field"] for e in data["errors"]]
    assert data["error"] and "field" in data
    assert count_sessions() == 0


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_a_malformed_body_is_400_not_500(client, handler_setup, raw):
    response = client.post("/api/sessions", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_a_retired_device_type_is_refused_with_its_name_in_the_message(client, handler_setup):
    _, _, dog = handler_setup
    term("device_type", "USB drive").active = False
    db.session.commit()
    response = client.post("/api/sessions", json=body_for(dog))
    assert response.status_code == 422
    assert response.get_json()["field"] == "hides[1].device_type_id"
    assert response.get_json()["error"] == "Unknown device type."


def test_a_dog_of_another_agency_is_404(client, handler_setup):
    other = make_agency()
    foreign_dog = make_dog(other)
    db.session.commit()
    response = client.post("/api/sessions", json=body_for(foreign_dog))
    assert response.status_code == 404
    assert count_sessions() == 0


def test_a_manager_gets_the_dogs_team_of_that_day_or_must_choose(client, login_as):
    manager = login_as("manager")
    dog = make_dog(manager.agency)
    lonely = make_dog(manager.agency)
    handler = make_handler(manager.agency)
    make_team(dog, handler)
    db.session.commit()
    ok = client.post("/api/sessions", json=body_for(dog))
    assert ok.status_code == 201 and ok.get_json()["handler_id"] == handler.id
    missing = client.post("/api/sessions", json=body_for(lonely))
    assert missing.status_code == 422 and missing.get_json()["field"] == "handler_id"
    chosen = client.post("/api/sessions", json=body_for(lonely, handler_id=handler.id))
    assert chosen.status_code == 201


def test_a_handler_account_without_a_handler_record_is_told_so(client, login_as):
    user = login_as("handler")
    dog = make_dog(user.agency)
    db.session.commit()
    response = client.post("/api/sessions", json=body_for(dog))
    assert response.status_code == 422 and response.get_json()["field"] == "handler_id"


def test_anonymous_callers_get_401_json(client):
    response = client.post("/api/sessions", json={})
    assert response.status_code == 401 and response.get_json()["error"]


def test_funders_see_no_session_api(client, login_as):
    login_as("funder")
    assert client.get("/api/vocabularies").status_code == 404
    assert client.post("/api/sessions", json={}).status_code == 404


def test_the_api_needs_the_csrf_header_when_csrf_is_on(app, client, handler_setup, monkeypatch):
    _, _, dog = handler_setup
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    refused = client.post("/api/sessions", json=body_for(dog))
    assert refused.status_code == 400 and "Reload" in refused.get_json()["error"]
    token = client.get("/api/csrf-token").get_json()["csrf_token"]
    accepted = client.post("/api/sessions", json=body_for(dog), headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_vocabularies_for_the_form(client, handler_setup):
    data = client.get("/api/vocabularies").get_json()
    assert {"device_types", "hiding_spots", "environments", "purposes", "heights", "concealments"} <= set(data)
    assert data["heights"] == ["floor", "low", "mid", "high", "overhead"]


# ------------------------------------------------------------------ edits

def created_session(client, dog, **overrides):
    response = client.post("/api/sessions", json=body_for(dog, **overrides))
    assert response.status_code == 201
    return db.session.get(TrainingSession, response.get_json()["id"])


def test_a_handler_edits_their_own_fresh_session_without_a_reason(client, handler_setup):
    _, _, dog = handler_setup
    session = created_session(client, dog)
    body = client.get(f"/api/sessions/{session.id}").get_json()
    body["hides"][1]["outcome"] = "found"
    response = client.put(f"/api/sessions/{session.id}", json=body)
    assert response.status_code == 200 and response.get_json()["changed"] is True
    db.session.expire_all()
    assert session.hides[1].outcome == "found"


def test_an_edit_after_24_hours_needs_a_reason_and_keeps_the_earlier_values(client, handler_setup):
    _, _, dog = handler_setup
    session = created_session(client, dog)
    session.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    body = client.get(f"/api/sessions/{session.id}").get_json()
    body["duration_minutes"] = 50
    refused = client.put(f"/api/sessions/{session.id}", json=body)
    assert refused.status_code == 422 and refused.get_json()["field"] == "reason"
    db.session.expire_all()
    assert session.duration_minutes == 45
    body["reason"] = "Timer was stopped late"
    assert client.put(f"/api/sessions/{session.id}", json=body).status_code == 200
    updates = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "training_session",
                                                          AuditEntry.action == "update"))
    update = [u for u in updates if "duration_minutes" in u.changes][0]
    assert update.changes["duration_minutes"] == [45, 50] and update.reason == "Timer was stopped late"


def test_a_signed_session_is_locked_until_a_reasoned_change_clears_the_sign_off(client, app, handler_setup):
    user, _, dog = handler_setup
    session = created_session(client, dog)
    manager = make_user("manager", user.agency)
    db.session.commit()
    manager_client = app.test_client()
    from tests.helpers import PASSWORD
    manager_client.post("/login", data={"email": manager.email, "password": PASSWORD})
    assert manager_client.post(f"/training/sessions/{session.id}/sign-off").status_code == 302
    db.session.expire_all()
    assert session.is_signed_off and session.signed_off_by_id == manager.id
    body = client.get(f"/api/sessions/{session.id}").get_json()
    body["hides"][0]["seconds_to_find"] = 80
    refused = client.put(f"/api/sessions/{session.id}", json=body)
    assert refused.status_code == 422 and "signed off" in refused.get_json()["error"]
    body["reason"] = "Typo in seconds"
    assert client.put(f"/api/sessions/{session.id}", json=body).status_code == 200
    db.session.expire_all()
    assert not session.is_signed_off and session.hides[0].seconds_to_find == 80
    revise = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "revise")).one()
    assert revise.changes["before"]["hides"][0]["seconds_to_find"] == 75
    assert revise.changes["before"]["signed_off_by_id"] == manager.id
    page = manager_client.get(f"/training/sessions/{session.id}").get_data(as_text=True)
    assert "Earlier versions" in page and "Typo in seconds" in page and "Not signed off" in page


def test_a_handler_cannot_edit_a_colleagues_session(client, login_as):
    user = login_as("handler")
    colleague = make_handler(user.agency)
    make_handler(user.agency, user_id=user.id)
    session = make_session(make_dog(user.agency), colleague)
    db.session.commit()
    assert client.put(f"/api/sessions/{session.id}", json={}).status_code == 404
    assert client.get(f"/training/sessions/{session.id}/edit").status_code == 404
    assert client.get(f"/api/sessions/{session.id}").status_code == 200  # reading is allowed


def test_a_manager_cannot_touch_another_agencys_session(client, login_as):
    login_as("manager")
    other = make_agency()
    session = make_session(make_dog(other), make_handler(other))
    db.session.commit()
    assert client.get(f"/api/sessions/{session.id}").status_code == 404
    assert client.put(f"/api/sessions/{session.id}", json={}).status_code == 404
    assert client.post(f"/training/sessions/{session.id}/sign-off").status_code == 404
