"""Passwords are stored as PBKDF2-SHA256 with at least OWASP's 600,000 rounds in production."""
from werkzeug.security import check_password_hash

from esd import create_app
from esd.auth.passwords import hash_password


def test_production_config_hashes_with_600000_pbkdf2_rounds(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                      "SECRET_KEY": "x"})
    with app.app_context():
        hashed = hash_password("a long and unusual passphrase")
    method, rounds = hashed.split("$")[0].rsplit(":", 1)
    assert method == "pbkdf2:sha256"
    assert int(rounds) >= 600_000
    assert check_password_hash(hashed, "a long and unusual passphrase")
    assert not check_password_hash(hashed, "a long and unusual passphrasE")
