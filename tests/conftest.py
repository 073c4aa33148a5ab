"""Fixtures: a real database (a temporary SQLite file, or PostgreSQL from TEST_DATABASE_URL),
the app, a test client and `login_as(role, agency)`."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from esd import create_app
from esd.extensions import cache, db
from esd.models import seed_vocabularies
from tests.helpers import PASSWORD, make_agency, make_user

pytest_plugins = ["tests.browser"]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """PostgreSQL when TEST_DATABASE_URL names it, else a fresh SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    """One app for the run, its schema built once from the models."""
    instance = tmp_path_factory.mktemp("instance")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,  # view tests post forms directly; tests/test_csrf.py turns it on
        "UPLOAD_FOLDER": str(instance / "uploads"),
        "CACHE_DIR": str(instance / "cache"),  # the real shared cache, emptied before each test
        "MAIL_BACKEND": "locmem",
        # Production hashes with 600,000 PBKDF2 rounds (tests/test_password_policy.py checks it);
        # hundreds of test logins at that cost would take minutes, so tests use fewer rounds.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SERVER_NAME": None,
    })
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def app_context(app):
    """Each test runs in an app context on empty tables with the default vocabularies."""
    with app.app_context():
        # Ids restart in every test's empty tables, so an earlier test's entry could match a key.
        cache.clear()
        seed_vocabularies()
        db.session.commit()
        yield
        db.session.rollback()
        db.session.info.clear()
        _empty_all_tables()
        db.session.remove()


@pytest.fixture
def db_session(app_context):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login_as(client):
    """Log the test client in as a new user of `role` (in `agency`, made when needed); return the user."""
    def login(role: str = "manager", agency=None, **overrides):
        if role in ("manager", "handler") and agency is None:
            agency = make_agency()
        user = make_user(role, agency, **overrides)
        db.session.commit()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, "login failed in fixture"
        return user
    return login
