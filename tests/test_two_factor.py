"""Two-factor sign-in: enrolment, the code after the password, replay, recovery codes, lockout, rules, reset."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from esd.auth.twofactor import begin_enrolment, confirm_enrolment
from esd.models import AuditEntry, RecoveryCode, TwoFactor, TwoFactorRule, User, utcnow
from tests.helpers import PASSWORD, make_agency, make_user


def enrol(user: User) -> tuple[pyotp.TOTP, list[str]]:
    """Switch two-factor on for `user` with a code of 90 seconds ago, so the current code is still unused."""
    factor = begin_enrolment(user)
    earlier = utcnow() - timedelta(seconds=90)
    totp = pyotp.TOTP(factor.secret)
    codes = confirm_enrolment(user, totp.at(earlier), now=earlier)
    assert codes is not None
    from esd.extensions import db
    db.session.commit()
    return totp, codes


def password_step(client, user: User):
    return client.post("/login", data={"email": user.email, "password": PASSWORD})


def audit_actions(user: User) -> list[str]:
    from esd.extensions import db
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "user",
                                                                   AuditEntry.entity_id == user.id)
                                   .order_by(AuditEntry.id)))


def test_enrolment_shows_a_qr_code_and_the_secret_and_needs_a_right_first_code(client, login_as, db_session):
    user = login_as("manager")
    page = client.get("/account/two-factor").get_data(as_text=True)
    qr = re.search(r'data-test="qr">(.*?)</div>', page, re.S).group(1)
    assert qr.strip().startswith("<svg") and "<script" not in qr and "href" not in qr
    secret = db_session.get(TwoFactor, user.id).secret
    assert re.sub(r"\s", "", re.search(r'data-test="secret">([^<]+)<', page).group(1)) == secret
    assert client.get("/account/two-factor").get_data(as_text=True).count(secret[:4]) >= 1  # same secret on reload

    wrong = client.post("/account/two-factor", data={"code": "000000" if pyotp.TOTP(secret).now() != "000000"
                                                     else "111111"})
    assert wrong.status_code == 400
    assert "This code does not match" in wrong.get_data(as_text=True)
    assert db_session.get(TwoFactor, user.id).confirmed_at is None

    done = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    shown = re.findall(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b", done.get_data(as_text=True))
    assert len(set(shown)) == 10
    stored = set(db_session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
    assert len(stored) == 10 and not stored & set(shown)  # kept hashed, never as typed
    assert "two_factor_enrolled" in audit_actions(user)
    assert "Two-factor sign-in is on" in client.get("/account/two-factor").get_data(as_text=True)


def test_an_enrolled_user_signs_in_with_password_then_code(client, db_session):
    user = make_user("manager")
    totp, _ = enrol(user)
    response = password_step(client, user)
    assert response.status_code == 302 and response.location.endswith("/login/code")
    assert client.get("/").status_code == 302  # the password alone opens nothing
    assert client.post("/login/code", data={"code": totp.now()}).status_code == 302
    assert client.get("/").status_code == 200
    assert audit_actions(user)[-1] == "login"


def test_a_code_is_accepted_once(client, app, db_session):
    user = make_user("manager")
    totp, _ = enrol(user)
    code = totp.now()
    password_step(client, user)
    assert client.post("/login/code", data={"code": code}).status_code == 302

    other = app.test_client()  # someone who saw the code over the shoulder, within its 30 seconds
    password_step(other, user)
    replay = other.post("/login/code", data={"code": code})
    assert replay.status_code == 400
    assert "was used already" in replay.get_data(as_text=True)
    assert other.get("/").status_code == 302
    assert db_session.get(User, user.id).failed_logins == 1


def test_a_recovery_code_works_once(client, app, db_session):
    user = make_user("handler")
    _, codes = enrol(user)
    password_step(client, user)
    assert client.post("/login/code", data={"code": codes[3].lower().replace("-", " ")}).status_code == 302
    assert client.get("/").status_code == 200
    assert "recovery_code_used" in audit_actions(user)

    again = app.test_client()
    password_step(again, user)
    assert again.post("/login/code", data={"code": codes[3]}).status_code == 400
    assert again.get("/").status_code == 302
    assert again.post("/login/code", data={"code": codes[4]}).status_code == 302  # the others still work


def test_wrong_codes_lock_the_account_and_a_right_password_does_not_reset_the_count(client, app, db_session):
    user = make_user("manager")
    totp, _ = enrol(user)
    threshold = app.config["LOGIN_LOCKOUT_THRESHOLD"]
    wrong = "123456" if totp.now() != "123456" else "654321"
    password_step(client, user)
    for _ in range(threshold - 1):
        assert client.post("/login/code", data={"code": wrong}).status_code == 400
    password_step(client, user)  # starting again with the right password must not forgive the wrong codes
    last = client.post("/login/code", data={"code": wrong})
    assert "locked" in last.get_data(as_text=True)
    assert db_session.get(User, user.id).is_locked
    assert "lockout" in audit_actions(user)

    assert "locked" in password_step(client, user).get_data(as_text=True)
    client.post("/login/code", data={"code": totp.now()})
    assert client.get("/").status_code == 302


def test_a_required_user_must_enrol_and_can_reach_nothing_else(client, app, db_session):
    admin = make_user("admin")
    agency = make_agency()
    handler = make_user("handler", agency)
    make_user("handler", agency)  # someone whose pages the handler must not see either
    db_session.commit()
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    saved = client.post("/admin/two-factor", data={"roles": ["handler"]})
    assert saved.status_code == 302
    assert db_session.scalar(select(AuditEntry).where(AuditEntry.entity == "two_factor_rule",
                                                      AuditEntry.action == "create")) is not None
    client.post("/logout")

    response = password_step(client, handler)
    assert response.location.endswith("/account/two-factor")
    routes = [rule.rule for rule in app.url_map.iter_rules()
              if "GET" in rule.methods and not rule.arguments and rule.endpoint not in
              {"static", "bootstrap.static", "auth.two_factor_setup"}]
    assert len(routes) > 15
    for route in routes + ["/dogs/1", "/api/sessions/1"]:
        answer = client.get(route)
        if route.startswith("/api/"):
            assert answer.status_code == 401, route
        else:
            assert answer.status_code == 302 and answer.location.endswith("/account/two-factor"), route
    assert client.post("/dogs/new", data={"name": "Sneaky"}).status_code == 302
    assert client.post("/account/password", data={}).location.endswith("/account/two-factor")

    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'data-test="enrol-required"' in page
    secret = db_session.get(TwoFactor, handler.id).secret
    done = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and 'data-test="recovery-codes"' in done.get_data(as_text=True)
    assert client.get("/").status_code == 200


def test_an_agency_rule_covers_that_agencys_users_only(client, db_session):
    covered, other = make_agency(), make_agency()
    db_session.add(TwoFactorRule(agency_id=covered.id))
    inside, outside = make_user("manager", covered), make_user("manager", other)
    db_session.commit()
    assert password_step(client, inside).location.endswith("/account/two-factor")
    client.post("/login/cancel")
    assert client.get("/").status_code == 302  # cancelling leaves nobody signed in
    assert password_step(client, outside).location.endswith("/")


def test_an_admin_resets_a_second_factor_and_the_users_sessions_end(client, app, db_session):
    user = make_user("manager")
    totp, _ = enrol(user)
    users_browser = app.test_client()
    password_step(users_browser, user)
    users_browser.post("/login/code", data={"code": totp.now()})
    assert users_browser.get("/").status_code == 200

    admin = make_user("admin")
    db_session.commit()
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert 'data-test="reset-two-factor"' in client.get("/admin/users").get_data(as_text=True)
    assert client.post(f"/admin/users/{user.id}/two-factor/reset").status_code == 302

    assert users_browser.get("/").status_code == 302
    assert db_session.get(TwoFactor, user.id) is None
    assert db_session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).first() is None
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "two_factor_reset"))
    assert entry.user_id == admin.id and entry.entity_id == user.id
    assert password_step(app.test_client(), user).location.endswith("/")  # no rule: the password alone again


@pytest.mark.parametrize("role", ["manager", "handler", "funder"])
def test_only_administrators_set_rules_or_reset(client, login_as, role, db_session):
    target = make_user("manager")
    db_session.commit()
    login_as(role)
    assert client.get("/admin/two-factor").status_code == 404
    assert client.post("/admin/two-factor", data={"roles": ["admin"]}).status_code == 404
    assert client.post(f"/admin/users/{target.id}/two-factor/reset").status_code == 404
    assert db_session.scalars(select(TwoFactorRule)).first() is None


def test_the_rules_form_refuses_unknown_choices(client, login_as, db_session):
    login_as("admin")
    response = client.post("/admin/two-factor", data={"roles": ["pilot"], "agencies": ["x"]})
    assert response.status_code == 400
    assert "Choose roles from the list." in response.get_data(as_text=True)
    assert db_session.scalars(select(TwoFactorRule)).first() is None
