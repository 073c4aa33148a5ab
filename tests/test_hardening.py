"""Security hardening found by the same tester: archived agencies, redirects, lockout answers,
the idle timeout from the environment, and the password policy's context words."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from esd import create_app
from esd.auth.passwords import password_problem
from esd.extensions import db
from esd.models import AuditEntry, Notification, utcnow
from esd.redirects import safe_next
from tests.helpers import PASSWORD, make_agency, make_dog, make_user


def login(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def test_archiving_an_agency_ends_its_users_sessions_and_refuses_their_logins(app, client):
    agency = make_agency(name="Closed Task Force")
    manager = make_user("manager", agency)
    admin = make_user("admin")
    dog = make_dog(agency)
    db.session.commit()
    assert login(client, manager.email).status_code == 302
    assert client.get("/dogs").status_code == 200

    admin_client = app.test_client()
    login(admin_client, admin.email)
    assert admin_client.post(f"/admin/agencies/{agency.id}/archive").status_code == 302

    # The manager's open session has ended, and neither password nor a new login brings it back.
    assert "/login" in client.get("/dogs").headers["Location"]
    refused = login(client, manager.email)
    assert refused.status_code == 200 and "agency is archived" in refused.get_data(as_text=True)
    assert client.post("/dogs/new", data={"name": "Rex", "status": "active"}).status_code == 302  # to login
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == manager.id,
                                                                     AuditEntry.entity == "user")))
    assert {"sessions_ended", "login_refused"} <= actions
    # Its records stay readable to administrators.
    assert admin_client.get(f"/dogs/{dog.id}").status_code == 200


@pytest.mark.parametrize("target", ["/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/",
                                    "/\n/evil.example", " //evil.example", "javascript:alert(1)"])
def test_safe_next_refuses_anything_that_leaves_the_site(target):
    assert safe_next(target) is None
    assert safe_next("/certifications?status=expired") == "/certifications?status=expired"


def test_marking_a_notification_read_never_redirects_off_site(client, login_as):
    user = login_as("manager")
    note = Notification(user_id=user.id, message="Rex expires soon", link="/certifications")
    db.session.add(note)
    db.session.commit()
    response = client.post(f"/notifications/{note.id}/read", data={"next": "/\t/evil.example"})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"


def test_a_locked_account_answers_the_same_whatever_the_password(client):
    user = make_user("manager", locked_at=utcnow(), failed_logins=5)
    db.session.commit()
    right = login(client, user.email).get_data(as_text=True)
    wrong = login(client, user.email, "not the password").get_data(as_text=True)
    assert "is locked" in right and "is locked" in wrong


def test_the_idle_timeout_is_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ESD_IDLE_TIMEOUT_MINUTES", "45")
    configured = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "x"})
    assert configured.config["IDLE_TIMEOUT"] == timedelta(minutes=45)
    assert configured.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=45)
    monkeypatch.delenv("ESD_IDLE_TIMEOUT_MINUTES")
    assert create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "x"}) \
        .config["IDLE_TIMEOUT"] == timedelta(minutes=30)


def test_the_idle_flash_names_the_configured_length(app, client, login_as):
    login_as("manager")
    app.config["IDLE_TIMEOUT"] = timedelta(minutes=45)
    try:
        with client.session_transaction() as session:
            session["last_seen"] = (utcnow() - timedelta(minutes=46)).timestamp()
        response = client.get("/dogs", follow_redirects=True)
    finally:
        app.config["IDLE_TIMEOUT"] = timedelta(minutes=30)
    assert "ended after 45 minutes without activity" in response.get_data(as_text=True)


def test_the_published_demo_password_is_refused():
    from esd import demo
    assert password_problem(demo.DEMO_PASSWORD) == "This is the demo's published password; choose another."
    assert password_problem("Tracker  Demo 2026") is not None


@pytest.mark.parametrize("password", ["Metro ICAC Task Force", "metroicactaskforce", "Metro-ICAC-Task-Force-2026!"])
def test_the_agencys_own_name_is_refused(password):
    assert password_problem(password, agency_name="Metro ICAC Task Force") == \
        "The password must not be your agency's name."


def test_a_manager_cannot_change_to_the_agencys_name(client, login_as):
    agency = make_agency(name="Harbor County Task Force")
    login_as("manager", agency)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "harbor county task force",
        "confirm": "harbor county task force"})
    assert "must not be your agency" in response.get_data(as_text=True)
