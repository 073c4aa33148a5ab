"""The admin area: agencies, accounts, unlocking, vocabularies, and reading the audit log."""
import html
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from esd.audit import record_event
from esd.auth.passwords import verify_password
from esd.models import Agency, AuditEntry, User, VocabularyTerm, terms
from tests.helpers import PASSWORD, make_agency, make_dog, make_user


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def agency_form(**overrides):
    data = {"name": "Metro ICAC Task Force", "timezone": "America/Chicago", "warning_window_days": "45",
            "reminder_thresholds": "30, 90,7,0", "monthly_training_target_hours": "20"}
    data.update(overrides)
    return data


def user_form(**overrides):
    data = {"email": "New.Person@Example.org", "name": "New Person", "role": "manager", "agency": "",
            "active": "y", "password": "a long and unusual passphrase"}
    data.update(overrides)
    return data


def test_admin_creates_an_agency_with_normalised_reminder_days(client, login_as, db_session):
    login_as("admin")
    assert client.post("/admin/agencies/new", data=agency_form()).status_code == 302
    agency = db_session.scalar(select(Agency).where(Agency.name == "Metro ICAC Task Force"))
    assert agency.timezone == "America/Chicago" and agency.warning_window_days == 45
    assert agency.reminder_thresholds == "90,30,7,0" and agency.monthly_training_target_hours == 20
    assert db_session.scalar(select(AuditEntry).where(AuditEntry.entity == "agency", AuditEntry.action == "create"))


@pytest.mark.parametrize("overrides, message", [
    ({"name": ""}, "Give the agency's name."),
    ({"timezone": "Mars/Olympus"}, "Choose a time zone from the list."),
    ({"warning_window_days": "0"}, "Use 1 to 365 days."),
    ({"reminder_thresholds": "90,sixty"}, "“sixty” is not a whole number of days"),
    ({"reminder_thresholds": "400"}, "400 days is more than a year"),
    ({"reminder_thresholds": " , "}, "Give at least one number of days"),
    ({"monthly_training_target_hours": "999"}, "Use 0 to 400 hours."),
    ({"name": "Existing Task Force"}, "An agency with this name already exists."),
])
def test_bad_agency_input_is_explained(client, login_as, db_session, overrides, message):
    make_agency(name="Existing Task Force")
    db_session.commit()
    login_as("admin")
    response = client.post("/admin/agencies/new", data=agency_form(**overrides))
    assert response.status_code == 400
    page = text(response)
    assert message in page
    if "timezone" not in overrides:  # what was typed stays chosen (an unknown zone cannot be)
        assert '<option selected value="America/Chicago">' in page


def test_editing_and_archiving_an_agency(client, login_as, db_session):
    agency = make_agency(name="Old Name")
    db_session.commit()
    login_as("admin")
    assert client.post(f"/admin/agencies/{agency.id}/edit", data=agency_form(name="New Name")).status_code == 302
    update = db_session.scalar(select(AuditEntry).where(AuditEntry.entity == "agency", AuditEntry.action == "update"))
    assert update.changes["name"] == ["Old Name", "New Name"]
    assert client.post(f"/admin/agencies/{agency.id}/archive").status_code == 302
    db_session.refresh(agency)
    assert agency.archived_at is not None
    # An archived agency is no longer offered for new dogs.
    assert ">New Name</option>" not in text(client.get("/dogs/new"))


def test_admin_creates_a_manager_with_a_hashed_password(client, login_as, db_session, app):
    agency = make_agency()
    db_session.commit()
    login_as("admin")
    assert client.post("/admin/users/new", data=user_form(agency=agency.id)).status_code == 302
    user = db_session.scalar(select(User).where(User.email == "new.person@example.org"))
    assert user.role == "manager" and user.agency_id == agency.id and user.active
    assert user.password_hash.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    assert verify_password(user.password_hash, "a long and unusual passphrase")
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.entity == "user", AuditEntry.entity_id == user.id))
    assert "password_hash" not in entry.changes and entry.changes["role"] == [None, "manager"]
    other = app.test_client()
    login = other.post("/login", data={"email": "new.person@example.org", "password": "a long and unusual passphrase"})
    assert login.status_code == 302


def test_admin_grants_a_funder_several_agencies(client, login_as, db_session):
    one, two, three = make_agency(name="A TF"), make_agency(name="B TF"), make_agency(name="C TF")
    db_session.commit()
    login_as("admin")
    response = client.post("/admin/users/new", data=user_form(role="funder", grants=[one.id, three.id]))
    assert response.status_code == 302
    funder = db_session.scalar(select(User).where(User.role == "funder"))
    assert [a.name for a in funder.granted_agencies] == ["A TF", "C TF"]


@pytest.mark.parametrize("overrides, message", [
    ({"role": "manager", "agency": ""}, "Managers and handlers belong to an agency: choose it."),
    ({"role": "handler", "agency": ""}, "Managers and handlers belong to an agency: choose it."),
    ({"role": "admin", "agency": "AGENCY"}, "Administrators and funders belong to no agency: leave this empty."),
    ({"role": "funder", "agency": "AGENCY"}, "Administrators and funders belong to no agency: leave this empty."),
    ({"role": "wizard"}, "Choose one of the roles."),
    ({"email": "taken@example.org", "agency": "AGENCY"}, "Another account already uses this e-mail address."),
    ({"password": "", "agency": "AGENCY"}, "Give an initial password."),
    ({"password": "password123", "agency": "AGENCY"}, "commonly used passwords"),
    ({"password": "short", "agency": "AGENCY"}, "Use at least 8 characters."),
    ({"role": "manager", "agency": "AGENCY", "grants": "AGENCY"}, "Only funders are granted agencies."),
])
def test_bad_user_input_is_explained(client, login_as, db_session, overrides, message):
    agency = make_agency()
    make_user("handler", agency, email="taken@example.org")
    db_session.commit()
    login_as("admin")
    data = user_form(**{k: (agency.id if v == "AGENCY" else v) for k, v in overrides.items()})
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 400
    page = text(response)
    assert message in page and 'value="New Person"' in page
    assert db_session.scalar(select(User).where(User.name == "New Person")) is None


def test_new_password_or_deactivation_ends_the_users_sessions(client, login_as, db_session, app):
    agency = make_agency()
    user = make_user("manager", agency)
    db_session.commit()
    theirs = app.test_client()
    theirs.post("/login", data={"email": user.email, "password": PASSWORD})
    assert theirs.get("/").status_code == 200
    login_as("admin")
    response = client.post(f"/admin/users/{user.id}/edit",
                           data=user_form(email=user.email, name=user.name, agency=agency.id, password=""))
    assert response.status_code == 302
    assert theirs.get("/").status_code == 200  # a name change keeps them logged in
    response = client.post(f"/admin/users/{user.id}/edit",
                           data=user_form(email=user.email, name=user.name, agency=agency.id, active="",
                                          password=""))
    assert response.status_code == 302
    assert theirs.get("/").status_code == 302  # deactivated: sent to the login page
    changes = [e.changes for e in db_session.scalars(select(AuditEntry).where(
        AuditEntry.entity == "user", AuditEntry.entity_id == user.id, AuditEntry.action == "update"))]
    assert {"active": [True, False]} in changes


def test_admin_cannot_lock_themselves_out(client, login_as, db_session):
    admin = login_as("admin")
    response = client.post(f"/admin/users/{admin.id}/edit",
                           data=user_form(email=admin.email, name=admin.name, role="admin", active="", password=""))
    assert response.status_code == 400
    assert "You cannot deactivate your own account." in text(response)


def test_admin_unlocks_a_locked_account_and_it_is_audited(client, login_as, db_session, app):
    user = make_user("manager", locked_at=datetime(2026, 1, 1, tzinfo=timezone.utc), failed_logins=5)
    db_session.commit()
    admin = login_as("admin")
    assert "locked" in text(client.get("/admin/users"))
    assert client.post(f"/admin/users/{user.id}/unlock").status_code == 302
    db_session.refresh(user)
    assert user.locked_at is None and user.failed_logins == 0
    event = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "unlock"))
    assert event.entity_id == user.id and event.user_id == admin.id
    assert app.test_client().post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_vocabulary_add_deactivate_and_reorder(client, login_as, db_session):
    login_as("admin")
    response = client.post("/admin/vocabularies", data={"kind": "device_type", "name": "Smart ring"})
    assert response.status_code == 302
    assert terms("device_type")[-1].name == "Smart ring"
    duplicate = client.post("/admin/vocabularies", data={"kind": "device_type", "name": "usb DRIVE"})
    assert duplicate.status_code == 400 and "“USB drive” is already in this vocabulary." in text(duplicate)
    ring = db_session.scalar(select(VocabularyTerm).where(VocabularyTerm.name == "Smart ring"))
    client.post(f"/admin/vocabularies/{ring.id}/move", data={"direction": "up"})
    names = [t.name for t in terms("device_type")]
    assert names.index("Smart ring") == len(names) - 2
    client.post(f"/admin/vocabularies/{ring.id}/active", data={"active": "0"})
    assert "Smart ring" not in [t.name for t in terms("device_type")]
    assert "Smart ring" in [t.name for t in terms("device_type", include_inactive=True)]
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "vocabulary_term")).all()
    assert sorted(actions) == ["create", "update", "update"]


def test_audit_log_admin_sees_all_manager_only_their_agency(client, login_as, db_session):
    own, other = make_agency(name="Own TF"), make_agency(name="Other TF")
    make_dog(own, name="Ownpup"), make_dog(other, name="Otherpup")
    db_session.commit()
    login_as("manager", own)
    page = text(client.get("/audit"))
    assert "Ownpup" in page and "Otherpup" not in page
    client2 = client.application.test_client()
    admin = make_user("admin")
    db_session.commit()
    client2.post("/login", data={"email": admin.email, "password": PASSWORD})
    page = text(client2.get("/audit"))
    assert "Ownpup" in page and "Otherpup" in page and "→" in page


def test_audit_log_filters_paginates_newest_first(client, login_as, db_session):
    manager = login_as("manager")
    for n in range(60):
        record_event("export", "dog", n, user_id=manager.id, agency_id=manager.agency_id, reason=f"entry {n}")
    record_event("export", "handler", 1, user_id=manager.id, agency_id=manager.agency_id, reason="handler entry")
    db_session.commit()
    first = text(client.get("/audit?entity=dog"))
    assert "entry 59" in first and "entry 0<" not in first and "handler entry" not in first
    assert first.index("entry 59") < first.index("entry 58")
    second = text(client.get("/audit?entity=dog&page=2"))
    assert "entry 0<" in second and "entry 59" not in second
    future = text(client.get("/audit?start=2999-01-01"))
    assert "No entries." in future
    bad = client.get("/audit?start=2026-02-01&end=2026-01-01")
    assert bad.status_code == 400 and "The end date is before the start date." in text(bad)


def test_handlers_and_funders_have_no_audit_log(client, login_as):
    login_as("handler")
    assert client.get("/audit").status_code == 404
