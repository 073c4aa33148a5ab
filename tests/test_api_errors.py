"""The JSON API answers every error in JSON: unknown keys by name, a body nested too deep, a failure (500)."""
import pytest

from esd import create_app
from esd.extensions import db
from tests.helpers import make_agency, make_dog


@pytest.fixture
def dog(login_as):
    agency = make_agency()
    login_as("manager", agency)
    dog = make_dog(agency)
    db.session.commit()
    return dog


def test_unknown_keys_are_refused_with_422_naming_each(client, dog):
    body = {"dog_id": dog.id, "started_at": "2026-03-01T10:00", "duration_minutes": 30, "purpose": "maintenance",
            "dog": 3, "hides": [{"outcome": "found", "device": 1}]}
    response = client.post("/api/sessions", json=body)
    assert response.status_code == 422 and response.is_json
    unknown = {e["field"] for e in response.json["errors"] if e["error"].startswith("Unknown field")}
    assert unknown == {"dog", "hides[0].device"}


def test_json_nested_100000_deep_is_refused_cleanly_in_json(client, dog):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/sessions", data=body, content_type="application/json")
    assert response.status_code == 400 and response.json["error"] == "The JSON body is nested too deeply."


def test_a_failure_under_api_is_answered_in_json_and_elsewhere_as_a_page(tmp_path):
    app = create_app({"TESTING": False, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                      "CACHE_DIR": str(tmp_path / "cache")})

    @app.route("/api/fails")
    def fails():
        raise RuntimeError("a bug")

    @app.route("/fails")
    def fails_page():
        raise RuntimeError("a bug")

    client = app.test_client()
    response = client.get("/api/fails")
    assert response.status_code == 500 and response.is_json and "went wrong" in response.json["error"]
    page = client.get("/fails")
    assert page.status_code == 500 and page.mimetype == "text/html"
