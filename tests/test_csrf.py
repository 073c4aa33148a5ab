"""CSRF protection, on as in production (the shared test app turns it off to post forms directly)."""
import re

import pytest

from esd import create_app
from tests.helpers import PASSWORD, make_user


@pytest.fixture
def csrf_client(app):
    """A second app on the same database with CSRF enforced."""
    protected = create_app({"TESTING": True, "SECRET_KEY": "csrf-test", "WTF_CSRF_ENABLED": True,
                            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    return protected.test_client()


def token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"',
                     page).group(1) or ""


def test_login_without_a_token_is_refused(csrf_client, db_session):
    user = make_user("manager")
    db_session.commit()
    response = csrf_client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "The form expired or was sent from elsewhere" in response.get_data(as_text=True)


def test_login_with_the_forms_token_works_and_forms_carry_tokens(csrf_client, db_session):
    user = make_user("manager")
    db_session.commit()
    page = csrf_client.get("/login").get_data(as_text=True)
    response = csrf_client.post("/login", data={"email": user.email, "password": PASSWORD,
                                                "csrf_token": token(page)})
    assert response.status_code == 302
    new_dog = csrf_client.get("/dogs/new").get_data(as_text=True)
    assert 'name="csrf_token"' in new_dog
    forged = csrf_client.post("/dogs/new", data={"name": "Forged", "status": "active"})
    assert forged.status_code == 400
    logout = csrf_client.post("/logout")  # no token: the session stays
    assert logout.status_code == 400
    assert csrf_client.get("/").status_code == 200
