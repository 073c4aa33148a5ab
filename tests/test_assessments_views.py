"""Planned sessions through HTTP: planning, the seal on every surface a handler reaches, recording,
closing and revealing, standards, and a certification recorded from a passed assessment."""
import io
import re
import zipfile
import zlib
from datetime import date

import pytest
from flask import url_for
from sqlalchemy import func, select

from esd.extensions import db
from esd.models import AssessmentStandard, PlannedSession, TrainingSession, VocabularyTerm
from tests.access import build_world
from tests.assessment_builders import area, make_plan, make_standard
from tests.helpers import PASSWORD, make_handler, make_user, term
from tests.test_access_matrix import CASES


def login(client, user):
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def plan_form(dog, handler, **overrides) -> dict:
    data = {"dog_id": dog.id, "handler_id": handler.id, "planned_on": "2026-03-10", "purpose": "proficiency",
            "blindness": "known", "kind": "training", "location": "Old county school",
            "areas-0-label": "Office 1", "areas-0-device_type_id": term("device_type", "USB drive").id,
            "areas-0-hiding_spot_id": term("hiding_spot", "Book").id, "areas-0-height": "low",
            "areas-0-aid": "Aid 7", "areas-0-placed_by": "Cpl. Placer", "areas-0-placed_at": "2026-03-10T08:30",
            "areas-1-label": "Office 2"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# ---------------------------------------------------------------- planning

def test_a_manager_plans_a_session_with_a_hide_and_a_negative_area(client, login_as):
    world = build_world()
    login(client, world.own.manager)
    response = client.post("/planned/new", data=plan_form(world.own.dog, world.own.handler))
    assert response.status_code == 302
    plan = db.session.scalar(select(PlannedSession))
    assert [(a.label, a.device_type.name if a.device_type else None, a.aid) for a in plan.areas] == [
        ("Office 1", "USB drive", "Aid 7"), ("Office 2", None, None)]
    assert plan.trainer_id == world.own.manager.id and plan.areas[0].placed_at.hour == 12  # 08:30 in New York (EDT since March 8)


@pytest.mark.parametrize("overrides, field, message", [
    ({"kind": "certification"}, "standard_id", "An assessment must name the standard"),
    ({"blindness": "double_blind"}, "observer_id", "A double-blind session names its observer"),
    ({"areas-0-hiding_spot_id": ""}, "areas-0-hiding_spot_id", "both a device type and a hiding spot"),
    ({"areas-1-label": "office 1"}, "areas", "its own name"),
    ({"areas-1-aid": "Aid 9"}, "areas-1-aid", "A negative area has nothing placed"),
    ({"areas-0-device_type_id": "99999999999999999999"}, "areas-0-device_type_id", "Choose one from the list"),
    ({"areas-0-placed_at": "2026-01-01T08:00"}, "areas-0-placed_at", "within the week before"),
    ({"areas-0-label": "", "areas-0-device_type_id": "", "areas-0-hiding_spot_id": "", "areas-0-aid": "",
      "areas-0-height": "", "areas-0-placed_by": "", "areas-0-placed_at": "", "areas-1-label": ""},
     "areas", "Plan at least one area"),
    ({"planned_on": "9999-12-31"}, "planned_on", ""),
    ({"location": "a\x00b"}, "location", ""),
])
def test_a_bad_plan_is_refused_beside_its_field_and_nothing_is_stored(client, overrides, field, message):
    world = build_world()
    login(client, world.own.manager)
    response = client.post("/planned/new", data=plan_form(world.own.dog, world.own.handler, **overrides))
    assert response.status_code in (400, 302) and response.status_code != 500
    if "\x00" not in str(overrides):
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert message in page.replace("&#39;", "'")
    assert db.session.scalar(select(func.count(PlannedSession.id))) == 0


def test_a_standard_of_another_agency_cannot_be_named(client):
    world = build_world()
    theirs = make_standard(world.other.agency)
    db.session.commit()
    login(client, world.own.manager)
    response = client.post("/planned/new", data=plan_form(world.own.dog, world.own.handler, kind="proficiency",
                                                          standard_id=theirs.id))
    assert response.status_code == 400 and "Choose a standard of the dog" in response.get_data(as_text=True)


def test_a_started_plan_edited_without_a_reason_is_refused_and_unchanged(client):
    world = build_world()
    plan = make_plan(world.own.dog, world.own.handler, world.own.manager, blindness="known",
                     areas=[area("Office 1", "USB drive", "Book", "no_alert")])
    db.session.commit()
    login(client, world.own.manager)
    data = plan_form(world.own.dog, world.own.handler, **{"areas-1-label": None, "areas-0-aid": "Changed"})
    response = client.post(f"/planned/{plan.id}/edit", data=data)
    assert response.status_code == 400 and "give a reason" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PlannedSession, plan.id).areas[0].aid is None
    response = client.post(f"/planned/{plan.id}/edit", data=data | {"reason": "Aid label copied wrong"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(PlannedSession, plan.id).areas[0].aid == "Changed"


# ---------------------------------------------------------------- recording and closing over HTTP

def test_outcomes_over_json_then_close_and_reveal(client):
    world = build_world()
    observer = make_user("handler", world.own.agency, name="Officer Observer")
    plan = make_plan(world.own.dog, world.own.handler, world.own.manager, observer_id=observer.id,
                     areas=[area("Office 1", "USB drive", "Book"), area("Office 2")])
    other = make_plan(world.own.dog, world.own.handler, world.own.manager, observer_id=observer.id,
                      areas=[area("Elsewhere")])
    db.session.commit()
    hide_area, negative = plan.areas[0].id, plan.areas[1].id
    login(client, observer)
    url = f"/planned/{plan.id}/areas/{{}}/outcome"
    book = term("hiding_spot", "Book").id
    first = client.post(url.format(hide_area), json={"outcome": "alert", "alert_spot_id": book, "seconds_to_find": 31})
    assert first.status_code == 201 and first.json["recorded"] == 1
    again = client.post(url.format(hide_area), json={"outcome": "alert", "alert_spot_id": book, "seconds_to_find": 31})
    assert again.status_code == 200 and again.json["created"] is False
    second = client.post(url.format(hide_area), json={"outcome": "no_alert"})
    assert second.status_code == 409 and "already has an outcome" in second.json["error"]
    stranger = client.post(url.format(other.areas[0].id), json={"outcome": "no_alert"})
    assert stranger.status_code == 404 and "has no area" in stranger.json["error"]
    assert client.post(url.format(negative), data="not json", content_type="application/json").status_code == 400
    assert client.post(url.format(negative), json={"outcome": "no_alert"}).status_code == 201
    # The observer may not close, nor see the plan before it is closed.
    assert client.post(f"/planned/{plan.id}/close", data={"duration_minutes": 40}).status_code == 404
    client.post("/logout")

    login(client, world.own.manager)
    response = client.post(f"/planned/{plan.id}/close", data={"duration_minutes": 40})
    assert response.status_code == 302
    db.session.expire_all()
    session = db.session.get(PlannedSession, plan.id).training_session
    assert (session.hide_count, session.found, session.blank_areas, session.duration_minutes) == (1, 1, 1, 40)
    page = client.get(f"/planned/{plan.id}").get_data(as_text=True)
    assert "Negative area searched clear" in page and 'data-count="found">1<' in page


def test_closing_with_an_unrecorded_area_says_so_and_stores_nothing(client):
    world = build_world()
    plan = make_plan(world.own.dog, world.own.handler, world.own.manager, blindness="known",
                     areas=[area("Office 1", "USB drive", "Book")])
    db.session.commit()
    login(client, world.own.manager)
    response = client.post(f"/planned/{plan.id}/close", data={"duration_minutes": 40}, follow_redirects=True)
    assert "Record every area&#39;s outcome before closing" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(TrainingSession.id))) == 2  # the world's own two


# ---------------------------------------------------------------- the seal

SECRETS = ("AID-SEAL-7731", "Cpl. Zebra Placer", "Lt. Quokka Knew", "Sealdevice Qx", "Sealspot Qx")


def _texts(response) -> list[str]:
    """Everything a response carries, as text: a ZIP's members and a PDF's streams unpacked."""
    body = response.get_data()
    texts = [body.decode("utf-8", "replace")]
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            texts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    if body[:4] == b"%PDF":
        for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S):
            try:
                texts.append(zlib.decompress(stream).decode("latin-1"))
            except zlib.error:
                pass
    return texts


def _sealed_world():
    world = build_world()
    observer = make_user("handler", world.own.agency, name="Officer Observer")
    device = VocabularyTerm(kind="device_type", name="Sealdevice Qx")
    spot = VocabularyTerm(kind="hiding_spot", name="Sealspot Qx")
    db.session.add_all([device, spot])
    db.session.flush()
    plan = make_plan(world.own.dog, world.own.handler, world.own.manager, observer_id=observer.id,
                     placed_by="Cpl. Zebra Placer", knew="Lt. Quokka Knew", areas=[
                         area("Office 1", "Sealdevice Qx", "Sealspot Qx", aid="AID-SEAL-7731",
                              placed_by="Cpl. Zebra Placer"),
                         area("Office 2"), area("Hallway", "Sealdevice Qx", "Sealspot Qx", outcome="alert",
                                                alert_spot="Book")])
    # Nobody could pick these terms from a form now: where they show, they come from the plan.
    device.active = spot.active = False
    db.session.commit()
    return world, observer, plan


@pytest.mark.parametrize("who", ["handler", "observer", "trainer handler", "trainer observer"])
def test_the_handler_and_the_observer_read_nothing_of_the_plan_anywhere(app, who):
    """Walk every GET route, export and API of the access matrix, the service worker and the page it keeps
    offline, as the handler of the dog and as the observer: no placement detail shows before closing, even
    when they hold the trainer right."""
    world, observer, plan = _sealed_world()
    user = world.own.handler_user if who.endswith("handler") else observer
    if who.startswith("trainer"):
        user.trainer = True
        db.session.commit()
    client = app.test_client()
    login(client, user)
    seen, answered = [], {}
    for case in CASES:
        if case.method != "GET":
            continue
        kwargs = case.params(world.own) if case.params else {}
        if "plan_id" in kwargs:
            kwargs["plan_id"] = plan.id
        with app.test_request_context():
            url = url_for(case.endpoint, **kwargs) + case.query
        response = client.get(url)
        answered[case.endpoint] = response.status_code
        assert response.status_code < 500, url
        seen += [(url, text) for text in _texts(response)]
    for extra in (f"/api/sessions/{world.own.session.id}", "/sw.js", f"/planned/{plan.id}",
                  f"/planned/{plan.id}/record", "/planned", f"/dogs/{world.own.dog.id}"):
        response = client.get(extra)
        seen += [(extra, text) for text in _texts(response)]
    assert answered["assessments.plan_detail"] == 200 and answered["assessments.list_plans"] == 200
    assert answered["assessments.record"] == (200 if who.endswith("observer") else 404)
    for url, text in seen:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} shows at {url}"
    detail = client.get(f"/planned/{plan.id}").get_data(as_text=True)
    assert "Office 1" in detail and "Hallway" in detail and "alert at Book" in detail  # what was recorded shows
    assert "negative" not in detail.lower().replace("negative area)", "")  # no area is marked as negative


def test_a_hide_area_and_a_negative_area_look_the_same_on_the_recording_page(app):
    world, observer, plan = _sealed_world()
    client = app.test_client()
    login(client, observer)
    page = client.get(f"/planned/{plan.id}/record").get_data(as_text=True)
    cards = re.findall(r'<section class="card mb-2 area-card".*?</section>', page, re.S)
    assert len(cards) == 3

    def shape(card, area_obj, index):
        for pattern in (f'data-area="{area_obj.id}"', f"areas/{area_obj.id}/",
                        *(f'{name}-{area_obj.id}"' for name in ("spot", "seconds", "note"))):
            card = card.replace(pattern, pattern.replace(str(area_obj.id), "ID"))
        return card.replace(area_obj.label, "LABEL").replace(f"{index}. ", "N. ")

    assert shape(cards[0], plan.areas[0], 1) == shape(cards[1], plan.areas[1], 2)


def test_once_closed_the_handler_sees_the_revealed_plan(app):
    world, observer, plan = _sealed_world()
    for a in plan.areas:
        a.outcome = a.outcome or "no_alert"
        a.alert_spot_id = a.alert_spot_id if a.outcome == "alert" else None
    for term_ in db.session.scalars(select(VocabularyTerm).where(VocabularyTerm.name.like("Seal%"))):
        term_.active = True  # closing writes hides through the training rules, which want active terms
    db.session.commit()
    client = app.test_client()
    login(client, world.own.manager)
    assert client.post(f"/planned/{plan.id}/close", data={"duration_minutes": 30}).status_code == 302
    client.post("/logout")
    login(client, world.own.handler_user)
    page = client.get(f"/planned/{plan.id}").get_data(as_text=True)
    assert "AID-SEAL-7731" in page and "Sealdevice Qx" in page and "Cpl. Zebra Placer" in page


# ---------------------------------------------------------------- standards and certification

def test_a_manager_sets_up_a_standard_and_bad_limits_are_refused(client):
    world = build_world()
    login(client, world.own.manager)
    body = {"certifying_body_id": term("certifying_body", "NNDDA").id, "name": "NNDDA ESD",
            "min_find_rate_percent": "150", "max_misses": "1", "max_false_responses": "1",
            "negative_search_required": "y"}
    response = client.post("/standards/new", data=body)
    assert response.status_code == 400 and "Enter the minimum find rate, 0 to 100." in response.get_data(as_text=True)
    assert client.post("/standards/new", data=body | {"min_find_rate_percent": "90"}).status_code == 302
    saved = db.session.scalar(select(AssessmentStandard))
    assert (saved.agency_id, saved.min_find_rate_percent, saved.max_misses, saved.negative_search_required) == (
        world.own.agency.id, 90, 1, True)
    again = client.post("/standards/new", data=body | {"min_find_rate_percent": "90"})
    assert again.status_code == 400 and "already has a standard of that name" in again.get_data(as_text=True)


def test_a_passed_assessment_prefills_the_certification_form_and_a_failed_one_does_not(client):
    world = build_world()
    std = make_standard(world.own.agency, negative_search_required=True)
    passed = make_plan(world.own.dog, world.own.handler, world.own.manager, kind="certification",
                       standard_id=std.id, certifying_body_id=std.certifying_body_id, evaluator="J. Evaluator",
                       blindness="known", areas=[area("A", "USB drive", "Book", "alert", "Book"),
                                                 area("B", outcome="no_alert")])
    failed = make_plan(world.own.dog, world.own.handler, world.own.manager, kind="certification",
                       standard_id=std.id, certifying_body_id=std.certifying_body_id, blindness="known",
                       areas=[area("A", "USB drive", "Book", "no_alert")])
    db.session.commit()
    login(client, world.own.manager)
    for plan in (passed, failed):
        assert client.post(f"/planned/{plan.id}/close", data={"duration_minutes": 30}).status_code == 302
    db.session.expire_all()
    assert (db.session.get(PlannedSession, passed.id).result, db.session.get(PlannedSession, failed.id).result) == (
        "pass", "fail")
    page = client.get(f"/certifications/new?assessment={passed.id}").get_data(as_text=True)
    assert 'value="J. Evaluator"' in page and re.search(r'id="score_finds"[^>]*value="1"', page)
    assert f'<option selected value="{std.certifying_body_id}">' in page
    assert client.get(f"/certifications/new?assessment={failed.id}").status_code == 404
    detail = client.get(f"/planned/{failed.id}").get_data(as_text=True)
    assert "Failed" in detail and "Record the certification" not in detail


def test_an_outcome_without_the_csrf_token_is_refused_and_with_it_stored(app):
    """As in production: the tablet sends the token from /api/csrf-token in X-CSRFToken."""
    from esd import create_app
    protected = create_app({"TESTING": True, "SECRET_KEY": "csrf-test", "WTF_CSRF_ENABLED": True,
                            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    world = build_world()
    plan = make_plan(world.own.dog, world.own.handler, world.own.manager, blindness="single_blind",
                     areas=[area("Office 1")])
    db.session.commit()
    client = protected.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": world.own.handler_user.email, "password": PASSWORD,
                                       "csrf_token": csrf}).status_code == 302
    url = f"/planned/{plan.id}/areas/{plan.areas[0].id}/outcome"
    assert client.post(url, json={"outcome": "no_alert"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(PlannedSession, plan.id).areas[0].outcome is None
    token = client.get("/api/csrf-token").json["csrf_token"]
    assert client.post(url, json={"outcome": "no_alert"}, headers={"X-CSRFToken": token}).status_code == 201


def test_the_dog_page_lists_open_plans_sealed_and_assessments_with_their_results(client):
    world, observer, plan = _sealed_world()
    std = make_standard(world.own.agency)
    passed = make_plan(world.own.dog, world.own.handler, world.own.manager, kind="proficiency",
                       standard_id=std.id, certifying_body_id=std.certifying_body_id, blindness="known",
                       areas=[area("A", "USB drive", "Book", "alert", "Book"), area("B", outcome="no_alert")])
    db.session.commit()
    login(client, world.own.manager)
    assert client.post(f"/planned/{passed.id}/close", data={"duration_minutes": 30}).status_code == 302
    client.post("/logout")
    login(client, world.own.handler_user)
    page = client.get(f"/dogs/{world.own.dog.id}").get_data(as_text=True)
    section = page[page.index('data-test="dog-assessments"'):]
    assert "training, double-blind, 3 areas (started)" in section and "NNDDA ESD annual" in section
    assert ">pass<" in section and "Plan a session" not in section
    for secret in SECRETS:
        assert secret not in page
