"""A new session's rollup contribution is counted from the objects just written (esd/rollups.py):
these are the cases where that could differ from reading the rows back."""
from datetime import datetime, timezone

from esd import rollups
from esd.extensions import db
from esd.models import FalseAlert, Hide, TrainingSession
from tests.helpers import make_agency, make_dog, make_handler, make_session, term

STARTED = datetime(2026, 3, 1, 3, 0, tzinfo=timezone.utc)  # still February in New York


def setup():
    agency = make_agency(timezone="America/New_York")
    return make_dog(agency), make_handler(agency)


def new_session(dog, handler, **values):
    return TrainingSession(agency_id=dog.agency_id, dog_id=dog.id, handler_id=handler.id, started_at=STARTED,
                           duration_minutes=40, purpose="maintenance", **values)


def hide(outcome="found", blind=None):
    return Hide(device_type_id=term("device_type").id, hiding_spot_id=term("hiding_spot").id, outcome=outcome,
                blind=blind)


def assert_rollups_right():
    assert rollups.differences(db.session.connection()) == []


def test_a_stored_hide_moved_into_a_new_session_leaves_its_old_session(app):
    dog, handler = setup()
    old = make_session(dog, handler, hides=[{"outcome": "found", "blind": True}, {"outcome": "missed"}])
    db.session.commit()
    moved = old.hides[0]
    session = new_session(dog, handler)
    session.hides = [moved, hide("missed")]
    session.false_alerts = [FalseAlert()]
    db.session.add(session)
    db.session.commit()
    assert len(old.hides) == 1
    assert_rollups_right()


def test_new_sessions_without_hides_archived_or_with_defaults_left_to_the_database(app):
    dog, handler = setup()
    db.session.add(new_session(dog, handler))  # collections never touched: read back
    archived = new_session(dog, handler, archived_at=STARTED)
    archived.hides = [hide()]
    archived.false_alerts = []
    db.session.add(archived)
    defaults = new_session(dog, handler)
    defaults.hides = [hide("found"), hide("missed", blind=True)]  # blind left to its column default
    defaults.false_alerts = [FalseAlert(), FalseAlert()]
    db.session.add(defaults)
    db.session.commit()
    assert_rollups_right()


def test_a_hide_added_to_a_session_flushed_earlier_in_the_transaction(app):
    dog, handler = setup()
    session = new_session(dog, handler)
    session.hides = [hide()]
    session.false_alerts = []
    db.session.add(session)
    db.session.flush()
    session.hides.append(hide("missed", blind=True))
    session.false_alerts.append(FalseAlert())
    db.session.commit()
    assert_rollups_right()
