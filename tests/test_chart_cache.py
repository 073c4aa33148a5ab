"""The report cache shared by the workers: one worker's drawing serves another, never a stale one.

Two app instances on one database and one cache folder stand for two gunicorn workers.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import insert, select

from esd import create_app
from esd.admin.services import add_term, set_term_active
from esd.extensions import db
from esd.models import Deployment, Hide, TrainingSession, VocabularyTerm
from esd.models.base import utcnow
from esd.rollups import rebuild
from tests.helpers import (PASSWORD, make_agency, make_certification, make_deployment, make_dog, make_handler,
                           make_session, make_user)

PERIOD = "start=2026-01-01&end=2026-03-31"


def at(month, day):
    return datetime(2026, month, day, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def worker2(app):
    """A second app on the same database and cache folder, as a second gunicorn worker is."""
    keys = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED", "UPLOAD_FOLDER",
            "MAIL_BACKEND", "PASSWORD_HASH_METHOD", "CACHE_DIR")
    other = create_app({k: app.config[k] for k in keys})
    assert other.config["CACHE_TYPE"] == "FileSystemCache"
    yield other
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def team():
    agency = make_agency(name="Cache Task Force", timezone="UTC")
    handler = make_handler(agency)
    dog = make_dog(agency, name="Cachet")
    make_session(dog, handler, started_at=at(1, 10),
                 hides=[{"outcome": "found", "device": "USB drive", "spot": "Book"}] * 4
                 + [{"outcome": "missed", "device": "Phone", "spot": "Drawer"}] * 2)
    make_deployment(dog, handler, started_at=at(2, 1), finds=[{"device": "Phone", "evidence": "pending"}])
    user = make_user("manager", agency)
    db.session.commit()
    return agency, handler, dog, user


def logged_in(app, user):
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def unversioned_hides(dog, outcome: str, count: int) -> None:
    """Hides written behind the app's back (no ORM flush, no version bump): only a fresh computation shows them."""
    session_id = db.session.scalar(select(TrainingSession.id).where(TrainingSession.dog_id == dog.id))
    phone, book = (db.session.scalar(select(VocabularyTerm.id).where(VocabularyTerm.name == n)) for n in ("Phone", "Book"))
    db.session.execute(insert(Hide), [dict(session_id=session_id, position=50 + i, outcome=outcome, blind=False,
                                           device_type_id=phone, hiding_spot_id=book) for i in range(count)])
    rebuild(db.session.connection())
    db.session.commit()


def test_a_second_worker_serves_the_first_workers_drawing(app, worker2, team):
    agency, handler, dog, user = team
    one, two = logged_in(app, user), logged_in(worker2, user)
    first = one.get(f"/reports/charts/heatmap.png?{PERIOD}")
    assert first.status_code == 200
    unversioned_hides(dog, "missed", 20)  # a drawing made now would differ
    second = two.get(f"/reports/charts/heatmap.png?{PERIOD}")
    assert second.data == first.data  # worker 2 served worker 1's drawing, not one of its own
    # The CSV and the dashboard of worker 2 use the table worker 1 computed: same numbers.
    assert one.get(f"/reports/charts/device_type.csv?{PERIOD}").data == \
        two.get(f"/reports/charts/device_type.csv?{PERIOD}").data


def _csv(client, name):
    return list(csv.reader(io.StringIO(client.get(f"/reports/charts/{name}.csv?{PERIOD}").get_data(as_text=True))))


def _hide(dog, device):
    return db.session.scalars(select(Hide).join(TrainingSession).join(VocabularyTerm, VocabularyTerm.id == Hide.device_type_id)
                              .where(TrainingSession.dog_id == dog.id, VocabularyTerm.name == device)).first()


def _session(dog):
    return db.session.scalars(select(TrainingSession).where(TrainingSession.dog_id == dog.id)).first()


def _deployment(dog):
    return db.session.scalars(select(Deployment).where(Deployment.dog_id == dog.id)).first()


def _create_session(agency, handler, dog, admin):
    make_session(dog, handler, started_at=at(3, 1), hides=[{"outcome": "missed", "device": "SIM card"}])


def _edit_hide(agency, handler, dog, admin):
    _hide(dog, "Phone").outcome = "found"


def _archive_session(agency, handler, dog, admin):
    _session(dog).archived_at = utcnow()


def _create_deployment(agency, handler, dog, admin):
    make_deployment(dog, handler, started_at=at(3, 2), finds=[{"device": "Laptop"}])


def _edit_find(agency, handler, dog, admin):
    _deployment(dog).finds[0].evidence = "yes"


def _archive_deployment(agency, handler, dog, admin):
    _deployment(dog).archived_at = utcnow()


def _create_certification(agency, handler, dog, admin):
    make_certification(dog, handler, issued_on=date(2026, 2, 1))


def _add_term(agency, handler, dog, admin):
    add_term("device_type", "Smart ring", admin)


def _deactivate_term(agency, handler, dog, admin):
    term = db.session.scalars(select(VocabularyTerm).where(VocabularyTerm.name == "SIM card")).one()
    set_term_active(term, False, admin)


@pytest.mark.parametrize("change", [_create_session, _edit_hide, _archive_session, _create_deployment, _edit_find,
                                    _archive_deployment, _create_certification, _add_term, _deactivate_term])
def test_after_any_change_neither_worker_serves_the_old_drawing_or_numbers(app, worker2, team, change):
    agency, handler, dog, user = team
    admin = make_user("admin")
    db.session.commit()
    one, two = logged_in(app, user), logged_in(worker2, user)
    names = ("device_type", "heatmap", "trend", "impact_monthly", "impact_finds")
    for name in names:
        one.get(f"/reports/charts/{name}.png?{PERIOD}")
    one.get(f"/reports/dashboard?{PERIOD}")
    old = {name: _csv(one, name) for name in names}
    old_png = {name: two.get(f"/reports/charts/{name}.png?{PERIOD}").data for name in names}

    change(agency, handler, dog, admin)
    db.session.commit()

    new_png = {name: two.get(f"/reports/charts/{name}.png?{PERIOD}").data for name in names}
    assert {name: one.get(f"/reports/charts/{name}.png?{PERIOD}").data for name in names} == new_png
    new = {name: _csv(two, name) for name in names}
    # What the change shows, seen by both workers.
    if change in (_create_session, _edit_hide, _archive_session):
        assert new["device_type"] != old["device_type"] and new_png["device_type"] != old_png["device_type"]
    if change in (_create_deployment, _edit_find, _archive_deployment):
        assert new["impact_finds"] != old["impact_finds"] and new_png["impact_finds"] != old_png["impact_finds"]
    assert all(_csv(one, name) == new[name] for name in names)


def test_dashboard_numbers_change_right_after_a_session_is_saved(app, worker2, team):
    agency, handler, dog, user = team
    one, two = logged_in(app, user), logged_in(worker2, user)
    assert "(4 of 6;" in one.get(f"/reports/dashboard?{PERIOD}").get_data(as_text=True)
    assert "(4 of 6;" in two.get(f"/reports/dashboard?{PERIOD}").get_data(as_text=True)
    make_session(dog, handler, started_at=at(3, 5), hides=[{"outcome": "found"}] * 4)
    db.session.commit()
    assert "(8 of 10;" in two.get(f"/reports/dashboard?{PERIOD}").get_data(as_text=True)
    assert "(8 of 10;" in one.get(f"/reports/dashboard?{PERIOD}").get_data(as_text=True)


def test_a_dogs_page_numbers_change_right_after_a_session_is_saved(app, worker2, team):
    agency, handler, dog, user = team
    one, two = logged_in(app, user), logged_in(worker2, user)
    assert "67% <span" in one.get(f"/dogs/{dog.id}").get_data(as_text=True)  # 4 of 6
    make_session(dog, handler, started_at=at(3, 5), hides=[{"outcome": "missed"}] * 2)
    db.session.commit()
    assert "50% <span" in two.get(f"/dogs/{dog.id}").get_data(as_text=True)  # 4 of 8
    assert "50% <span" in one.get(f"/dogs/{dog.id}").get_data(as_text=True)


def test_one_agencys_cached_numbers_are_never_served_to_another(app, worker2, team):
    agency, handler, dog, user = team
    other = make_agency(name="Other Task Force", timezone="UTC")
    other_handler, other_dog = make_handler(other), make_dog(other, name="Byte")
    make_session(other_dog, other_handler, started_at=at(1, 12), hides=[{"outcome": "missed", "device": "Laptop"}] * 3)
    other_manager = make_user("manager", other)
    funder = make_user("funder")
    funder.granted_agencies.append(other)
    db.session.commit()
    mine, theirs = logged_in(app, user), logged_in(worker2, other_manager)
    assert "(4 of 6;" in mine.get(f"/reports/dashboard?{PERIOD}").get_data(as_text=True)
    mine.get(f"/reports/charts/device_type.png?{PERIOD}")
    page = theirs.get(f"/reports/dashboard?{PERIOD}").get_data(as_text=True)
    assert "(0 of 3;" in page and "(4 of 6;" not in page
    rows = _csv(theirs, "device_type")
    assert [r[0] for r in rows[1:]] == ["Laptop"]
    assert theirs.get(f"/reports/charts/device_type.png?{PERIOD}").data != \
        mine.get(f"/reports/charts/device_type.png?{PERIOD}").data
    # A funder granted the other agency sees its aggregate only, also from a warm cache.
    funder_client = logged_in(app, funder)
    assert "(4 of 6;" not in funder_client.get(f"/reports/impact?{PERIOD}").get_data(as_text=True)
    assert [r[0] for r in _csv(funder_client, "device_type")[1:]] == ["Laptop"]
    # And the first agency's dog page is not the second's.
    assert theirs.get(f"/dogs/{dog.id}").status_code == 404


def _choices(client, field):
    """The options of one of the dashboard filter's lists, as the page shows them."""
    import re
    page = client.get(f"/reports/dashboard?{PERIOD}").get_data(as_text=True)
    select = re.search(rf'<select[^>]*name="{field}">(.*?)</select>', page, re.S).group(1)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_the_filters_dog_and_handler_lists_follow_every_change_on_both_workers(app, worker2, team):
    agency, handler, dog, user = team
    one, two = logged_in(app, user), logged_in(worker2, user)
    assert _choices(one, "dog") == ["All dogs", "Cachet"]
    assert _choices(two, "handler") == ["All handlers", handler.name]
    # Each change in its own transaction: the next page of either worker shows it.
    make_dog(agency, name="Abby")
    db.session.commit()
    assert _choices(two, "dog") == ["All dogs", "Abby", "Cachet"]
    handler.name = "Zed Renamed"
    db.session.commit()
    assert _choices(one, "handler") == ["All handlers", "Zed Renamed"]
    dog.archived_at = utcnow()
    db.session.commit()
    assert _choices(two, "dog") == ["All dogs", "Abby"]
    handler.archived_at = utcnow()
    db.session.commit()
    assert _choices(one, "handler") == ["All handlers"]


def test_a_bad_filter_keeps_what_was_typed_beside_its_message(app, team):
    *_, user = team
    page = logged_in(app, user).get("/reports/dashboard?start=2026-03-01&end=2026-02-01&blind=y")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'value="2026-03-01"' in html and 'is-invalid" id="end" name="end" type="date" value="2026-02-01"' in html
    assert "The end date is before the start date." in html and 'value="y" checked' in html
    assert "<option" in html and "Cachet" in html  # the lists are there to correct the filter
