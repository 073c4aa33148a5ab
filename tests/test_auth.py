"""Logging in and out."""
from esd.models import AuditEntry
from tests.helpers import PASSWORD, make_user


def test_login_with_right_password_reaches_home(client, db_session):
    user = make_user("manager")
    db_session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_wrong_password_gives_generic_error(client, db_session):
    user = make_user("manager")
    db_session.commit()
    response = client.post("/login", data={"email": user.email, "password": "wrong password"})
    assert b"Invalid e-mail or password." in response.data
    assert db_session.query(AuditEntry).filter_by(action="login_failed").count() == 1


def test_pages_of_a_signed_in_user_are_never_stored_by_a_shared_cache(client, login_as):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login_as("manager")
    assert client.get("/").headers["Cache-Control"] == "no-store"
