"""The app factory and configuration from the environment."""
import os

import pytest

from esd import config, create_app


def test_secret_key_is_generated_once_into_the_instance_folder_and_reused(tmp_path):
    first = config.instance_secret_key(str(tmp_path))
    assert len(first) == 64
    assert (tmp_path / "secret_key").read_text().strip() == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert config.instance_secret_key(str(tmp_path)) == first


def test_factory_without_secret_key_uses_the_instance_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    one = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    two = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert one.config["SECRET_KEY"] == two.config["SECRET_KEY"]
    path = os.path.join(one.instance_path, "secret_key")
    assert open(path).read().strip() == one.config["SECRET_KEY"]


def test_secret_key_from_the_environment_wins(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"] == "from-the-environment"


@pytest.mark.parametrize("raw, expected", [
    (None, "sqlite:///esd.sqlite3"),
    ("", "sqlite:///esd.sqlite3"),
    ("postgres://u:p@db.example:5432/esd", "postgresql://u:p@db.example:5432/esd"),
    ("postgresql://u@127.0.0.1/esd", "postgresql://u@127.0.0.1/esd"),
    ("sqlite:////var/lib/esd/esd.sqlite3", "sqlite:////var/lib/esd/esd.sqlite3"),
])
def test_database_url_is_normalised(raw, expected):
    assert config.database_url(raw) == expected


def test_database_url_from_the_environment_is_honoured(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example/esd")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql://someone@db.example/esd"
    with app.app_context():
        from esd.extensions import db
        assert db.engine.url.drivername == "postgresql"  # psycopg 3 under SQLAlchemy 2.1


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    with app.app_context():
        from esd.extensions import db
        assert db.engine.url.database == os.path.join(app.instance_path, "esd.sqlite3")


def test_https_setting_makes_cookies_secure(monkeypatch):
    monkeypatch.setenv("ESD_HTTPS", "1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_safe_defaults():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["PASSWORD_HASH_METHOD"] == "pbkdf2:sha256:600000"
    assert app.config["IDLE_TIMEOUT"].total_seconds() == 30 * 60
    assert app.config["BOOTSTRAP_SERVE_LOCAL"] is True
    assert app.config["MAX_CONTENT_LENGTH"] <= 16 * 1024 * 1024


def test_postgresql_connections_run_without_parallel_query_workers_unless_configured():
    on_postgres = config.engine_options("postgresql://db/esd", {"pool_pre_ping": True}, 0)
    assert on_postgres["connect_args"]["options"] == "-c max_parallel_workers_per_gather=0"
    assert on_postgres["pool_pre_ping"] is True
    assert config.engine_options("postgresql+psycopg://db/esd", {}, 2)["connect_args"]["options"] == \
        "-c max_parallel_workers_per_gather=2"
    assert config.engine_options("sqlite:///esd.sqlite3", {"pool_pre_ping": True}, 0) == {"pool_pre_ping": True}


def test_the_parallel_workers_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("PG_PARALLEL_WORKERS", "2")
    assert config.from_environment()["PG_PARALLEL_WORKERS"] == 2


def test_the_apps_own_connections_carry_the_setting(app, db_session):
    """On PostgreSQL the test database's connections show it; SQLite has no such setting."""
    from sqlalchemy import text
    if db_session.get_bind().dialect.name == "postgresql":
        assert db_session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
    else:
        assert "connect_args" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
