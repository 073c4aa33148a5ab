"""The sign-off queue: a manager lists the agency's unsigned sessions (filtered), signs off exactly the
ticked ones, all or none, each audited; a session changed after sign-off comes back."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from esd.extensions import db
from esd.models import AuditEntry, TrainingSession, utcnow
from esd.training import queue
from tests.helpers import PASSWORD, make_agency, make_dog, make_handler, make_session, make_team, make_user


def at(day: int, hour: int = 15) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=timezone.utc)


@pytest.fixture
def world(client):
    """Great Plains (Chicago) with two dogs and their sessions; Lakeshore with one unsigned session. A manager logged in."""
    agency = make_agency(name="Great Plains", timezone="America/Chicago")
    manager = make_user("manager", agency)
    rex, juno = make_dog(agency, name="Rex"), make_dog(agency, name="Juno")
    dana, lee = make_handler(agency, name="Dana"), make_handler(agency, name="Lee")
    make_team(rex, dana)
    make_team(juno, lee)
    sessions = {
        "rex_1": make_session(rex, dana, started_at=at(2)),
        "juno_1": make_session(juno, lee, started_at=at(3)),
        "rex_2": make_session(rex, dana, started_at=at(5)),
        # 03:00 UTC on the 8th is 21:00 on the 7th in Chicago.
        "juno_late": make_session(juno, lee, started_at=datetime(2026, 3, 8, 3, tzinfo=timezone.utc)),
        "signed": make_session(rex, dana, started_at=at(1), signed_off_at=at(1, 20), signed_off_by_id=manager.id),
        "archived": make_session(rex, dana, started_at=at(4), archived_at=at(4, 20)),
    }
    other = make_agency(name="Lakeshore")
    stranger_dog = make_dog(other, name="Stranger")
    stranger_handler = make_handler(other, name="Sam")
    stranger = make_session(stranger_dog, stranger_handler, started_at=at(1))
    db.session.commit()
    assert client.post("/login", data={"email": manager.email, "password": PASSWORD}).status_code == 302
    return SimpleNamespace(agency=agency, manager=manager, rex=rex, juno=juno, dana=dana, lee=lee, s=sessions,
                           stranger=stranger, stranger_dog=stranger_dog, stranger_handler=stranger_handler)


def listed(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-test="queue-row" data-session="(\d+)"', html)]


def ids(world, *names) -> list[int]:
    return [world.s[name].id for name in names]


def test_the_queue_lists_the_agencys_unsigned_sessions_oldest_first(client, world):
    response = client.get("/training/queue")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert listed(html) == ids(world, "rex_1", "juno_1", "rex_2", "juno_late")
    assert "Stranger" not in html and 'data-test="queue-panel"' in html
    assert re.search(r'data-test="queue-total"><strong>4</strong>', html)


@pytest.mark.parametrize("query, expected", [
    ("dog={rex}", ["rex_1", "rex_2"]),
    ("handler={lee}", ["juno_1", "juno_late"]),
    ("start=2026-03-03&end=2026-03-07", ["juno_1", "rex_2", "juno_late"]),  # the 7th in Chicago
    ("end=2026-03-06", ["rex_1", "juno_1", "rex_2"]),
    ("dog={juno}&start=2026-03-08", []),
])
def test_filters_by_dog_handler_and_the_agencys_days(client, world, query, expected):
    url = "/training/queue?" + query.format(rex=world.rex.id, juno=world.juno.id, lee=world.lee.id)
    html = client.get(url).get_data(as_text=True)
    assert listed(html) == ids(world, *expected)
    if not expected:
        assert "No session matches these filters." in html


@pytest.mark.parametrize("query, message", [
    ("start=2026-13-45", "Not a valid date value."),
    ("start=2026-03-09&end=2026-03-01", "The end date is before the start date."),
    ("dog=abc", "Choose a dog from the list."),
    ("handler=99999999999999999999", "Choose a handler from the list."),
])
def test_bad_filter_input_is_explained_beside_the_field(client, world, query, message):
    response = client.get("/training/queue?" + query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and listed(html) == []


def test_a_dog_or_handler_of_another_agency_is_not_found(client, world):
    assert client.get(f"/training/queue?dog={world.stranger_dog.id}").status_code == 404
    assert client.get(f"/training/queue?handler={world.stranger_handler.id}").status_code == 404
    assert client.get("/training/queue?dog=987654").status_code == 404


def test_bulk_sign_off_signs_exactly_the_ticked_sessions_each_audited(client, world):
    chosen = ids(world, "rex_1", "juno_late")
    response = client.post("/training/queue/sign-off?dog=&start=2026-03-01", data={"session_id": chosen})
    assert response.status_code == 302 and response.headers["Location"].endswith("/training/queue?start=2026-03-01")
    db.session.expire_all()
    signed = {s.id for s in db.session.scalars(select(TrainingSession).where(
        TrainingSession.signed_off_by_id == world.manager.id, TrainingSession.signed_off_at > at(2)))}
    assert signed == set(chosen)
    assert db.session.get(TrainingSession, world.s["juno_1"].id).signed_off_at is None
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "training_session",
                                                          AuditEntry.action == "update")).all()
    assert sorted(e.entity_id for e in entries) == sorted(chosen)
    assert all(e.user_id == world.manager.id and "signed_off_at" in e.changes for e in entries)
    assert all(e.reason == "Signed off from the sign-off queue" for e in entries)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 sessions signed off." in html and listed(html) == ids(world, "juno_1", "rex_2")


def test_a_session_of_another_agency_among_the_ticked_signs_nothing(client, world):
    response = client.post("/training/queue/sign-off", data={"session_id": ids(world, "rex_1") + [world.stranger.id]})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(TrainingSession, world.s["rex_1"].id).signed_off_at is None
    assert db.session.get(TrainingSession, world.stranger.id).signed_off_at is None


@pytest.mark.parametrize("bad", ["archived", "missing", "garbage"])
def test_an_archived_missing_or_malformed_id_signs_nothing(client, world, bad):
    value = {"archived": world.s["archived"].id, "missing": 987654, "garbage": "1e9"}[bad]
    response = client.post("/training/queue/sign-off", data={"session_id": [world.s["rex_2"].id, value]})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(TrainingSession, world.s["rex_2"].id).signed_off_at is None


def test_an_already_signed_session_keeps_its_first_sign_off(client, world):
    first = world.s["signed"].signed_off_at
    response = client.post("/training/queue/sign-off", data={"session_id": ids(world, "signed", "rex_2")},
                           follow_redirects=True)
    assert "1 session signed off. 1 had been signed off already" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TrainingSession, world.s["signed"].id).signed_off_at == first
    assert db.session.get(TrainingSession, world.s["rex_2"].id).is_signed_off


def test_ticking_nothing_says_so_and_signs_nothing(client, world):
    response = client.post("/training/queue/sign-off", data={}, follow_redirects=True)
    assert "Tick at least one session to sign off." in response.get_data(as_text=True)
    assert listed(response.get_data(as_text=True)) == ids(world, "rex_1", "juno_1", "rex_2", "juno_late")


def test_more_than_a_page_at_once_is_refused_whole(client, world):
    too_many = ids(world, "rex_1") * (queue.MAX_CHOSEN + 1)
    response = client.post("/training/queue/sign-off", data={"session_id": too_many}, follow_redirects=True)
    assert f"at most {queue.MAX_CHOSEN} sessions" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TrainingSession, world.s["rex_1"].id).signed_off_at is None


def test_handlers_have_no_queue(app, world):
    user = make_user("handler", world.agency)
    db.session.commit()
    handler_client = app.test_client()
    handler_client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert handler_client.get("/training/queue").status_code == 404
    assert handler_client.post("/training/queue/sign-off", data={"session_id": ids(world, "rex_1")}).status_code == 404
    db.session.expire_all()
    assert db.session.get(TrainingSession, world.s["rex_1"].id).signed_off_at is None


def test_a_session_changed_after_sign_off_comes_back_to_the_queue(client, app, world):
    """Signed off in the queue, then corrected by its handler (with a reason): it waits for sign-off again."""
    handler_user = make_user("handler", world.agency)
    world.dana.user_id = handler_user.id
    session = world.s["rex_2"]
    session.created_by_id = handler_user.id
    db.session.commit()
    client.post("/training/queue/sign-off", data={"session_id": [session.id]})
    assert session.id not in listed(client.get("/training/queue").get_data(as_text=True))

    handler_client = app.test_client()
    handler_client.post("/login", data={"email": handler_user.email, "password": PASSWORD})
    body = handler_client.get(f"/api/sessions/{session.id}").get_json()
    body["duration_minutes"] = 45
    body["reason"] = "The timer ran on"
    assert handler_client.put(f"/api/sessions/{session.id}", json=body).status_code == 200

    assert session.id in listed(client.get("/training/queue").get_data(as_text=True))


def test_the_queue_service_counts_and_lists_without_a_request(world):
    total, rows = queue.unsigned_sessions([world.agency.id], queue.QueueFilters(dog_id=world.juno.id), limit=1)
    assert total == 2 and [r["session"].id for r in rows] == ids(world, "juno_1")
    assert queue.waiting_count(world.agency) == (4, at(2))


def test_a_sign_off_without_the_forms_token_is_refused(app, world):
    """With CSRF on, as in production: a forged post signs nothing; the queue's own form carries its token."""
    from esd import create_app
    protected = create_app({"TESTING": True, "SECRET_KEY": "csrf-test", "WTF_CSRF_ENABLED": True,
                            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}).test_client()
    page = protected.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    protected.post("/login", data={"email": world.manager.email, "password": PASSWORD, "csrf_token": token})
    forged = protected.post("/training/queue/sign-off", data={"session_id": ids(world, "rex_1")})
    assert forged.status_code == 400
    db.session.expire_all()
    assert db.session.get(TrainingSession, world.s["rex_1"].id).signed_off_at is None
    queue_page = protected.get("/training/queue").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', queue_page).group(1)
    signed = protected.post("/training/queue/sign-off", data={"session_id": ids(world, "rex_1"), "csrf_token": token})
    assert signed.status_code == 302
    db.session.expire_all()
    assert db.session.get(TrainingSession, world.s["rex_1"].id).is_signed_off
