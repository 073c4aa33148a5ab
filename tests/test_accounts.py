"""Account security: logout that holds, lockout and unlock, the per-address limit, idle timeout,
password rules and safe redirects."""
import html
import time

import pytest
from sqlalchemy import select

from esd.auth.passwords import password_problem
from esd.models import AuditEntry
from tests.helpers import PASSWORD, make_user


def login(client, email, password=PASSWORD, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_cookie_replayed_after_logout_is_refused(app, client, db_session):
    user = make_user("manager")
    db_session.commit()
    assert login(client, user.email).status_code == 302
    stolen = client.get_cookie("session").value
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db_session.scalar(select(AuditEntry).where(AuditEntry.action == "logout")).user_id == user.id


def test_login_starts_a_fresh_session(client, db_session):
    user = make_user("manager")
    db_session.commit()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, user.email)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_five_failures_lock_the_account_until_an_admin_unlocks_it(app, client, db_session):
    user = make_user("manager")
    admin = make_user("admin")
    db_session.commit()
    for _ in range(5):
        assert "Invalid e-mail or password." in text(login(client, user.email, "wrong password"))
    db_session.refresh(user)
    assert user.is_locked and user.failed_logins == 5
    assert db_session.scalar(select(AuditEntry).where(AuditEntry.action == "lockout")).entity_id == user.id
    refused = login(client, user.email)  # the right password no longer helps
    assert refused.status_code == 200 and "locked" in text(refused)
    admin_client = app.test_client()
    login(admin_client, admin.email)
    assert admin_client.post(f"/admin/users/{user.id}/unlock").status_code == 302
    assert login(client, user.email).status_code == 302


def test_a_success_resets_the_failure_count(client, db_session):
    user = make_user("manager")
    db_session.commit()
    for _ in range(4):
        login(client, user.email, "wrong password")
    assert login(client, user.email).status_code == 302
    db_session.refresh(user)
    assert user.failed_logins == 0 and not user.is_locked


def test_one_address_over_its_limit_is_refused_without_locking_accounts(app, client, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_IP_LIMIT", 3)
    victim = make_user("manager")
    db_session.commit()
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for n in range(3):
        login(client, f"guess{n}@example.org", "wrong password", environ_base=attacker)
    response = login(client, victim.email, "wrong password", environ_base=attacker)
    assert "Too many failed logins from this address" in text(response)
    response = login(client, victim.email, environ_base=attacker)  # even the right password waits
    assert "Too many failed logins from this address" in text(response)
    db_session.refresh(victim)
    assert victim.failed_logins == 0 and not victim.is_locked
    elsewhere = app.test_client()
    assert login(elsewhere, victim.email, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 302


def test_idle_session_ends_after_thirty_minutes(client, db_session):
    user = make_user("handler")
    db_session.commit()
    login(client, user.email)
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - 29 * 60
    assert client.get("/").status_code == 200  # activity keeps it alive
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - 31 * 60
    response = client.get("/dogs")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/").status_code == 302
    page = text(client.get("/login"))
    assert "30 minutes without activity" in page


def test_no_long_lived_remember_cookie_and_safe_cookie_flags(client, db_session):
    user = make_user("manager")
    db_session.commit()
    response = login(client, user.email)
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith("remember_token") for c in cookies)
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


@pytest.mark.parametrize("password, problem", [
    ("seven77", "Use at least 8 characters."),
    ("x" * 64 + "y" * 65, "Use at most 128 characters."),
    ("password1", "commonly used passwords"),
    ("Password123", "commonly used passwords"),
    ("abababababab", "repeats one or two characters"),
    ("Pat.Doe.Smith@example.org", "must not be your e-mail address"),
    ("pat.doe.smith", "must not be your e-mail address"),
])
def test_weak_passwords_are_refused_with_the_reason(password, problem):
    assert problem in password_problem(password, "pat.doe.smith@example.org")


@pytest.mark.parametrize("password", [
    "eight ch",
    "correct horse battery staple",
    "a passphrase of sixty-four characters, spaces & symbols allowed!",
    "x" * 100 + "yz" * 14,
])
def test_good_passwords_are_accepted_without_composition_rules(password):
    assert password_problem(password, "pat.doe.smith@example.org") is None


def test_sixty_four_character_passphrase_works_for_login(app, client, db_session):
    phrase = "a passphrase of sixty-four characters, spaces & symbols allowed!"
    assert len(phrase) == 64
    from esd.auth.passwords import hash_password
    user = make_user("manager", password_hash=hash_password(phrase))
    db_session.commit()
    assert login(client, user.email, phrase).status_code == 302


@pytest.mark.parametrize("target", [
    "//evil.com", "https://evil.com", "/\\evil.com", "javascript:alert(1)", "http:/evil.com", " //evil.com",
    "\\\\evil.com",
])
def test_next_never_leads_off_site(client, db_session, target):
    user = make_user("manager")
    db_session.commit()
    response = client.post("/login", query_string={"next": target},
                           data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_to_a_page_of_the_app_is_followed(client, db_session):
    user = make_user("manager")
    db_session.commit()
    response = client.post("/login?next=/dogs%3Fstatus%3Dactive", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/dogs?status=active"
