"""Training pages: the tablet form's defaults, detail and sign-off, the dog's list, the overview,
the dog-page section and the service worker."""
import json
import re
from datetime import timedelta

from esd.extensions import db
from esd.models import utcnow
from tests.helpers import make_agency, make_dog, make_handler, make_session, make_team, make_user


def form_data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="training-data">(.*?)</script>', html, re.S).group(1))


def test_new_session_preselects_the_handlers_current_team_dog(client, login_as):
    user = login_as("handler")
    handler = make_handler(user.agency, user_id=user.id, name="Sgt. Diaz")
    make_dog(user.agency, name="Alpha")
    dog = make_dog(user.agency, name="Bravo")
    make_team(dog, handler)
    db.session.commit()
    html = client.get("/training/new").get_data(as_text=True)
    data = form_data(html)
    assert data["default_dog_id"] == dog.id
    assert data["own_handler_name"] == "Sgt. Diaz"
    assert {d["name"] for d in data["dogs"]} == {"Alpha", "Bravo"}
    assert 'data-create-url="/api/sessions"' in html


def test_a_manager_picks_among_the_agencys_dogs_only(client, login_as):
    manager = login_as("manager")
    make_dog(manager.agency, name="Ours")
    make_dog(make_agency(), name="Theirs")
    db.session.commit()
    data = form_data(client.get("/training/new").get_data(as_text=True))
    assert [d["name"] for d in data["dogs"]] == ["Ours"]
    assert data["default_dog_id"] == data["dogs"][0]["id"]  # the only dog is chosen


def test_detail_shows_the_summary_and_a_manager_signs_off(client, login_as):
    manager = login_as("manager")
    handler = make_handler(manager.agency)
    dog = make_dog(manager.agency, name="Rex")
    session = make_session(dog, handler, hides=[{"outcome": "found"}] * 4 + [{"outcome": "missed"}], false_alerts=1)
    db.session.commit()
    html = client.get(f"/training/sessions/{session.id}?saved=1").get_data(as_text=True)
    assert "Session saved." in html
    assert "80% (4 of 5; 95% CI" in re.sub(r"<[^>]+>", "", html)  # as read, without the muted span
    assert 'data-summary="false-alerts">1<' in html
    response = client.post(f"/training/sessions/{session.id}/sign-off", follow_redirects=True)
    assert "Signed off" in response.get_data(as_text=True)
    db.session.expire_all()
    assert session.signed_off_by_id == manager.id


def test_handlers_cannot_sign_off(client, login_as):
    user = login_as("handler")
    handler = make_handler(user.agency, user_id=user.id)
    session = make_session(make_dog(user.agency), handler)
    db.session.commit()
    assert client.post(f"/training/sessions/{session.id}/sign-off").status_code == 404
    assert "Sign off" not in client.get(f"/training/sessions/{session.id}").get_data(as_text=True)


def test_dog_sessions_filter_and_page_without_losing_the_filters(client, login_as):
    manager = login_as("manager")
    handler = make_handler(manager.agency)
    dog = make_dog(manager.agency)
    start = utcnow() - timedelta(days=40)
    for i in range(27):
        make_session(dog, handler, started_at=start + timedelta(days=i), purpose="maintenance",
                     hides=[{"blind": i % 2 == 0}])
    make_session(dog, handler, started_at=start, purpose="imprint")
    db.session.commit()
    first = client.get(f"/dogs/{dog.id}/sessions?purpose=maintenance").get_data(as_text=True)
    assert first.count("/training/sessions/") == 25
    older = re.search(r'href="([^"]+)" data-test="older"', first).group(1).replace("&amp;", "&")
    assert "purpose=maintenance" in older
    second = client.get(older).get_data(as_text=True)
    assert second.count("/training/sessions/") == 2 and 'data-test="older"' not in second
    blind = client.get(f"/dogs/{dog.id}/sessions?blind=1").get_data(as_text=True)
    assert blind.count("/training/sessions/") == 14


def test_bad_filter_dates_are_reported_not_fatal(client, login_as):
    manager = login_as("manager")
    dog = make_dog(manager.agency)
    db.session.commit()
    response = client.get(f"/dogs/{dog.id}/sessions?start=31/12/2026&after=garbage")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # The message stands beside the field, which keeps what was typed; the list is still shown.
    assert re.search(r'class="form-control is-invalid" id="start" name="start" type="date" value="31/12/2026">'
                     r'<div class="invalid-feedback d-block">Not a valid date value.</div>', html)
    assert 'data-test="sessions"' in html
    backwards = client.get(f"/dogs/{dog.id}/sessions?start=2026-03-09&end=2026-03-01&purpose=nonsense")
    html = backwards.get_data(as_text=True)
    assert "The end date is before the start date." in html and "Not a valid choice." in html


def test_overview_shows_dogs_behind_the_monthly_target(client, login_as):
    manager = login_as("manager")
    handler = make_handler(manager.agency)
    busy, idle = make_dog(manager.agency, name="Busy"), make_dog(manager.agency, name="Idle")
    make_team(busy, handler)
    make_session(busy, handler, started_at=utcnow() - timedelta(minutes=5), duration_minutes=600)
    make_session(busy, handler, started_at=utcnow() - timedelta(minutes=700), duration_minutes=600)
    db.session.commit()
    html = client.get("/training").get_data(as_text=True)
    assert f'data-dog="{idle.id}" data-status="behind"' in html
    assert re.search(rf'data-dog="{busy.id}" data-status="(met|on_track)"', html)
    assert "Target 16 hours a month" in html


def test_the_dog_page_shows_hours_against_target_and_recent_sessions(client, login_as):
    manager = login_as("manager")
    handler = make_handler(manager.agency)
    dog = make_dog(manager.agency)
    make_session(dog, handler, started_at=utcnow() - timedelta(days=40), duration_minutes=240)
    db.session.commit()
    html = client.get(f"/dogs/{dog.id}").get_data(as_text=True)
    section = html[html.index('data-test="dog-training"'):]
    assert "of 16 hours" in section and "All sessions" in section and "0 of 0" in section


def test_service_worker_is_served_at_the_root_with_the_shell_to_cache(client, login_as):
    login_as("handler")
    response = client.get("/sw.js")
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.mimetype == "text/javascript"
    body = response.get_data(as_text=True)
    for url in ("/training/new", "/api/vocabularies", "/bootstrap/static/css/bootstrap.min.css",
                "/bootstrap/static/js/bootstrap.min.js", "/static/training/app.js"):
        assert f'"{url}' in body


def test_pages_link_the_manifest_and_register_the_worker(client, login_as):
    login_as("manager")
    html = client.get("/training").get_data(as_text=True)
    assert 'rel="manifest" href="/static/training/manifest.json"' in html
    assert 'serviceWorker.register("/sw.js"' in html
    manifest = client.get("/static/training/manifest.json").get_json()
    assert manifest["start_url"] == "/training/new" and {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
