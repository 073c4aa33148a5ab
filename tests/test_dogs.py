"""Dogs, handlers and teams: what a manager keeps, what a handler reads, and what bad input gets."""
import html
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from esd.models import AuditEntry, Dog, Handler, TeamAssignment
from tests.helpers import make_agency, make_dog, make_handler, make_team, make_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def dog_form(**overrides):
    data = {"name": "Riley", "call_sign": "K9-7", "breed": "Labrador Retriever", "sex": "female",
            "date_of_birth": "2021-04-02", "microchip_id": "985112004455667", "status": "active",
            "acquired_on": "2022-06-01", "retired_on": ""}
    data.update(overrides)
    return data


def text(response) -> str:
    """The page as a person reads it (entities like &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def audit_entries(entity, entity_id=None, action=None):
    stmt = select(AuditEntry).where(AuditEntry.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    from esd.extensions import db
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


# Dogs

def test_manager_adds_a_dog_to_their_agency_and_it_is_audited(client, login_as, db_session):
    manager = login_as("manager")
    response = client.post("/dogs/new", data=dog_form())
    assert response.status_code == 302
    dog = db_session.scalar(select(Dog).where(Dog.name == "Riley"))
    assert dog.agency_id == manager.agency_id and dog.status == "active"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Riley" in page and "985112004455667" in page
    (entry,) = audit_entries("dog", dog.id, "create")
    assert entry.user_id == manager.id and entry.changes["name"] == [None, "Riley"]
    assert entry.agency_id == manager.agency_id


def test_dog_list_shows_own_agency_only_and_filters_by_status(client, login_as, db_session):
    manager = login_as("manager")
    make_dog(manager.agency, name="Ace", status="active")
    make_dog(manager.agency, name="Bolt", status="in_training")
    make_dog(manager.agency, name="Old Timer", status="retired", archived_at=datetime(2024, 1, 1, tzinfo=timezone.utc))
    make_dog(make_agency(), name="Stranger")
    db_session.commit()
    page = client.get("/dogs").get_data(as_text=True)
    assert "Ace" in page and "Bolt" in page
    assert "Stranger" not in page and "Old Timer" not in page
    page = client.get("/dogs?status=in_training").get_data(as_text=True)
    assert "Bolt" in page and "Ace" not in page
    assert "Old Timer" in client.get("/dogs?archived=1").get_data(as_text=True)


def test_admin_sees_every_agencys_dogs_with_the_agency(client, login_as, db_session):
    one, two = make_agency(name="North Task Force"), make_agency(name="South Task Force")
    make_dog(one, name="Ace"), make_dog(two, name="Zed")
    db_session.commit()
    login_as("admin")
    page = client.get("/dogs").get_data(as_text=True)
    assert "North Task Force" in page and "South Task Force" in page and "Ace" in page and "Zed" in page


def test_admin_chooses_the_agency_of_a_new_dog(client, login_as, db_session):
    agency = make_agency(name="East Task Force")
    db_session.commit()
    login_as("admin")
    assert "Choose the agency." in client.post("/dogs/new", data=dog_form()).get_data(as_text=True)
    assert client.post("/dogs/new", data=dog_form(agency=agency.id)).status_code == 302
    assert db_session.scalar(select(Dog.agency_id).where(Dog.name == "Riley")) == agency.id


@pytest.mark.parametrize("overrides, field, message", [
    ({"name": ""}, "name", "Give the dog's name."),
    ({"status": "deceased"}, "status", "Unknown status: choose in training, active or retired."),
    ({"retired_on": "2022-01-01"}, "retired_on", "The retired date cannot be before the acquired date."),
    ({"microchip_id": "TAKEN-123"}, "microchip_id", "Microchip id TAKEN-123 is already registered to another dog."),
    ({"sex": "unknown"}, "sex", "Choose male or female."),
    ({"date_of_birth": "not a date"}, "date_of_birth", "Not a valid date value."),
])
def test_bad_dog_input_is_explained_beside_the_field_and_keeps_what_was_typed(
        client, login_as, db_session, overrides, field, message):
    manager = login_as("manager")
    make_dog(make_agency(), name="Other", microchip_id="TAKEN-123")  # unique across agencies
    db_session.commit()
    data = dog_form(**overrides)
    response = client.post("/dogs/new", data=data)
    assert response.status_code == 400
    page = text(response)
    # The message is rendered in the field's invalid-feedback, right after the input.
    assert f'id="{field}"' in page and message in page
    assert page.index(message) > page.index(f'id="{field}"')
    assert 'value="K9-7"' in page and 'value="Labrador Retriever"' in page
    if field != "name":
        assert 'value="Riley"' in page
    assert db_session.scalar(select(Dog).where(Dog.agency_id == manager.agency_id)) is None


def test_editing_a_dog_audits_before_and_after(client, login_as, db_session):
    manager = login_as("manager")
    dog = make_dog(manager.agency, name="Riley", status="in_training")
    db_session.commit()
    form = dog_form(status="active", microchip_id=dog.microchip_id)
    assert client.post(f"/dogs/{dog.id}/edit", data=form).status_code == 302
    (entry,) = audit_entries("dog", dog.id, "update")
    assert entry.changes["status"] == ["in_training", "active"]
    assert entry.reason == "Dog profile edited" and entry.user_id == manager.id


def test_a_dog_keeps_its_own_microchip_id_when_edited(client, login_as, db_session):
    manager = login_as("manager")
    dog = make_dog(manager.agency, microchip_id="985000000000001")
    db_session.commit()
    response = client.post(f"/dogs/{dog.id}/edit", data=dog_form(microchip_id="985000000000001"))
    assert response.status_code == 302


def test_archiving_a_dog_hides_it_and_keeps_it(client, login_as, db_session):
    manager = login_as("manager")
    dog = make_dog(manager.agency, name="Riley")
    db_session.commit()
    assert client.post(f"/dogs/{dog.id}/archive").status_code == 302
    db_session.refresh(dog)
    assert dog.archived_at is not None
    assert client.get(f"/dogs/{dog.id}").status_code == 200  # still there, showing the "archived" flash
    assert "Riley" not in client.get("/dogs").get_data(as_text=True)
    (entry,) = audit_entries("dog", dog.id, "archive")
    assert entry.changes["archived_at"][0] is None and entry.changes["archived_at"][1]


def test_the_reason_typed_is_audited_and_a_second_archive_changes_nothing(client, login_as, db_session):
    manager = login_as("manager")
    dog = make_dog(manager.agency, name="Riley")
    db_session.commit()
    client.post(f"/dogs/{dog.id}/archive", data={"reason": "  Entered twice by mistake  "})
    db_session.refresh(dog)
    first = dog.archived_at
    client.post(f"/dogs/{dog.id}/archive", data={"reason": "x" * 400})
    db_session.refresh(dog)
    (entry,) = audit_entries("dog", dog.id, "archive")
    assert entry.reason == "Entered twice by mistake" and dog.archived_at == first


def test_handler_reads_dogs_but_cannot_change_them(client, login_as, db_session):
    user = login_as("handler")
    dog = make_dog(user.agency, name="Riley")
    db_session.commit()
    page = client.get(f"/dogs/{dog.id}").get_data(as_text=True)
    assert "Riley" in page and f"/dogs/{dog.id}/edit" not in page and "Assign a handler" not in page
    assert client.get(f"/dogs/{dog.id}/edit").status_code == 404
    assert client.post(f"/dogs/{dog.id}/archive").status_code == 404
    assert client.get("/dogs/new").status_code == 404


def test_dog_page_shows_profile_current_team_and_history(client, login_as, db_session):
    manager = login_as("manager")
    dog = make_dog(manager.agency, name="Riley")
    first, second = make_handler(manager.agency, name="Pat Former"), make_handler(manager.agency, name="Sam Current")
    make_team(dog, first, starts_on=date(2022, 1, 1), ends_on=date(2023, 12, 31))
    make_team(dog, second, starts_on=date(2024, 1, 1))
    db_session.commit()
    page = client.get(f"/dogs/{dog.id}").get_data(as_text=True)
    current = page[page.index('data-test="current-team"'):page.index('data-test="team-history"')]
    assert "Sam Current" in current and "Pat Former" not in current
    history = page[page.index('data-test="team-history"'):]
    assert "Pat Former" in history and "2023-12-31" in history and "Sam Current" in history


def test_photo_is_checked_from_its_content_and_served_only_in_scope(client, login_as, db_session, app):
    manager = login_as("manager")
    dog = make_dog(manager.agency)
    db_session.commit()
    from io import BytesIO
    fake = client.post(f"/dogs/{dog.id}/edit", content_type="multipart/form-data",
                       data={**dog_form(microchip_id=dog.microchip_id),
                             "photo": (BytesIO(b"<script>alert(1)</script>"), "dog.png")})
    assert fake.status_code == 400 and "This file is not a JPEG or PNG picture." in fake.get_data(as_text=True)
    ok = client.post(f"/dogs/{dog.id}/edit", content_type="multipart/form-data",
                     data={**dog_form(microchip_id=dog.microchip_id), "photo": (BytesIO(PNG), "riley.png")})
    assert ok.status_code == 302
    db_session.refresh(dog)
    assert dog.photo_filename.endswith(".png") and "riley" not in dog.photo_filename
    photo = client.get(f"/dogs/{dog.id}/photo")
    assert photo.status_code == 200 and photo.data == PNG and photo.mimetype == "image/png"
    other = app.test_client()
    outsider = make_user("manager", make_agency())
    db_session.commit()
    from tests.helpers import PASSWORD
    other.post("/login", data={"email": outsider.email, "password": PASSWORD})
    assert other.get(f"/dogs/{dog.id}/photo").status_code == 404


# Handlers

def handler_form(**overrides):
    data = {"name": "Pat Doe", "badge_number": "B-100", "phone": "555-0100", "email": "pat@example.org", "user": ""}
    data.update(overrides)
    return data


def test_manager_adds_a_handler_linked_to_a_handler_account(client, login_as, db_session):
    manager = login_as("manager")
    account = make_user("handler", manager.agency, name="Pat Doe")
    db_session.commit()
    response = client.post("/handlers/new", data=handler_form(user=account.id))
    assert response.status_code == 302
    handler = db_session.scalar(select(Handler).where(Handler.name == "Pat Doe"))
    assert handler.agency_id == manager.agency_id and handler.user_id == account.id
    assert audit_entries("handler", handler.id, "create")
    page = client.get("/handlers").get_data(as_text=True)
    assert "Pat Doe" in page and "B-100" in page


@pytest.mark.parametrize("overrides, field, message", [
    ({"name": ""}, "name", "Give the handler's name."),
    ({"badge_number": "B-1"}, "badge_number", "Badge number B-1 is already used by another handler of this agency."),
    ({"email": "not-an-address"}, "email", "Enter a valid e-mail address."),
    ({"user": "OTHER"}, "user", "Choose a handler account of the same agency."),
])
def test_bad_handler_input_is_explained_and_keeps_what_was_typed(client, login_as, db_session, overrides, field,
                                                                message):
    manager = login_as("manager")
    make_handler(manager.agency, badge_number="B-1")
    foreign = make_user("handler", make_agency())
    db_session.commit()
    if overrides.get("user") == "OTHER":
        overrides["user"] = str(foreign.id)
    response = client.post("/handlers/new", data=handler_form(**overrides))
    assert response.status_code == 400
    page = text(response)
    assert message in page and page.index(message) > page.index(f'id="{field}"')
    assert 'value="555-0100"' in page


def test_the_same_badge_number_is_fine_in_another_agency(client, login_as, db_session):
    login_as("manager")
    make_handler(make_agency(), badge_number="B-100")
    db_session.commit()
    assert client.post("/handlers/new", data=handler_form()).status_code == 302


def test_editing_and_archiving_a_handler_is_audited(client, login_as, db_session):
    manager = login_as("manager")
    handler = make_handler(manager.agency, name="Pat Doe", phone="555-0100")
    db_session.commit()
    form = handler_form(badge_number=handler.badge_number, phone="555-0199")
    assert client.post(f"/handlers/{handler.id}/edit", data=form).status_code == 302
    (update,) = audit_entries("handler", handler.id, "update")
    assert update.changes["phone"] == ["555-0100", "555-0199"]
    assert client.post(f"/handlers/{handler.id}/archive").status_code == 302
    assert audit_entries("handler", handler.id, "archive")
    assert "archived" in client.get(f"/handlers/{handler.id}").get_data(as_text=True)
    assert "Pat Doe" not in client.get("/handlers").get_data(as_text=True)


def test_handlers_of_another_agency_are_not_found(client, login_as, db_session):
    login_as("manager")
    stranger = make_handler(make_agency(), name="Stranger")
    db_session.commit()
    assert client.get(f"/handlers/{stranger.id}").status_code == 404
    assert client.post(f"/handlers/{stranger.id}/edit", data=handler_form()).status_code == 404
    assert "Stranger" not in client.get("/handlers").get_data(as_text=True)


# Teams

def test_assigning_and_ending_a_team_keeps_the_history(client, login_as, db_session):
    manager = login_as("manager")
    dog, pat = make_dog(manager.agency, name="Riley"), make_handler(manager.agency, name="Pat Doe")
    db_session.commit()
    response = client.post(f"/dogs/{dog.id}/teams/new", data={"handler": pat.id, "starts_on": "2024-01-01"})
    assert response.status_code == 302
    team = db_session.scalar(select(TeamAssignment).where(TeamAssignment.dog_id == dog.id))
    assert team.handler_id == pat.id and team.ends_on is None
    assert client.post(f"/teams/{team.id}/end", data={"ends_on": "2024-06-30"}).status_code == 302
    db_session.refresh(team)
    assert team.ends_on == date(2024, 6, 30)
    (created,) = audit_entries("team_assignment", team.id, "create")
    (ended,) = audit_entries("team_assignment", team.id, "update")
    assert created.changes["handler_id"] == [None, pat.id]
    assert ended.changes["ends_on"] == [None, "2024-06-30"] and ended.reason == "Team ended"
    sam = make_handler(manager.agency, name="Sam Next")
    db_session.commit()
    assert client.post(f"/dogs/{dog.id}/teams/new",
                       data={"handler": sam.id, "starts_on": "2024-07-01"}).status_code == 302
    history = client.get(f"/dogs/{dog.id}").get_data(as_text=True).split('data-test="team-history"')[1]
    assert "Pat Doe" in history and "Sam Next" in history


@pytest.mark.parametrize("data, field, message", [
    ({"starts_on": "2024-03-01"}, "starts_on", "is already teamed with Pat Doe from 2024-01-01 to now"),
    ({"starts_on": "2023-06-01", "ends_on": "2024-02-01"}, "starts_on", "End that team first"),
    ({"starts_on": ""}, "starts_on", "Give the first day of the team."),
    ({"starts_on": "2025-01-01", "ends_on": "2024-01-01"}, "ends_on", "The end date cannot be before the start date."),
    ({"handler": "FOREIGN", "starts_on": "2025-01-01"}, "handler", "Choose a handler of this dog's agency."),
    ({"handler": "", "starts_on": "2025-01-01"}, "handler", "Choose the handler."),
])
def test_bad_team_input_is_refused_with_a_message(client, login_as, db_session, data, field, message):
    manager = login_as("manager")
    dog = make_dog(manager.agency, name="Riley")
    make_team(dog, make_handler(manager.agency, name="Pat Doe"), starts_on=date(2024, 1, 1))
    sam, foreign = make_handler(manager.agency, name="Sam Next"), make_handler(make_agency(), name="Foreign")
    db_session.commit()
    form = {"handler": sam.id, "notes": "Cross-trained", **data}
    if form["handler"] == "FOREIGN":
        form["handler"] = foreign.id
    response = client.post(f"/dogs/{dog.id}/teams/new", data=form)
    assert response.status_code == 400
    page = text(response)
    assert message in page and page.index(message) > page.index(f'id="{field}"')
    assert "Cross-trained" in page
    assert len(db_session.scalars(select(TeamAssignment).where(TeamAssignment.dog_id == dog.id)).all()) == 1


def test_a_team_cannot_end_before_it_started(client, login_as, db_session):
    manager = login_as("manager")
    dog = make_dog(manager.agency)
    team = make_team(dog, make_handler(manager.agency), starts_on=date(2024, 1, 1))
    db_session.commit()
    response = client.post(f"/teams/{team.id}/end", data={"ends_on": "2023-12-31"})
    assert response.status_code == 400
    assert "it cannot end before that" in text(response)
    db_session.refresh(team)
    assert team.ends_on is None
