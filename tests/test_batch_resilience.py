"""One bad record stops nothing: the reminder job and the rollup check log it and go on with the others."""
import logging
from datetime import date, datetime, timezone

from sqlalchemy import select

from esd.extensions import db
from esd.models import Notification
from esd.certifications.reminders import run
from tests.helpers import make_agency, make_certification, make_deployment, make_dog, make_handler, make_user


def _agency_with_due_certification(name, **certification):
    agency = make_agency(name=name, timezone="UTC")
    manager = make_user("manager", agency)
    dog = make_dog(agency)
    make_certification(dog, make_handler(agency), **certification)
    return manager


def test_a_certification_issued_in_year_1_does_not_stop_other_agencies_reminders(caplog):
    # Stored before dates were bounded; the first agency in the run holds it.
    _agency_with_due_certification("Aardvark County", issued_on=date(1, 1, 1), expires_on=date(1, 1, 20))
    later = _agency_with_due_certification("Zebra County", issued_on=date(2025, 7, 1),
                                           expires_on=date(2026, 6, 30))
    db.session.commit()
    with caplog.at_level(logging.ERROR, logger="esd.batch"):
        run(today=date(2026, 6, 23))
    assert db.session.scalars(select(Notification).where(Notification.user_id == later.id)).first() is not None
    assert "skipped after an error" in caplog.text


def test_a_deployment_dated_9999_does_not_crash_the_rollup_check_and_is_named(app):
    agency = make_agency(timezone="America/New_York")
    dog, handler = make_dog(agency), make_handler(agency)
    make_deployment(dog, handler)
    # Stored before dates were bounded.
    odd = make_deployment(dog, handler, started_at=datetime(9999, 12, 31, 12, 0, tzinfo=timezone.utc))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["esd", "rollups", "--verify"])
    assert not isinstance(result.exception, (OverflowError, ValueError)), result.output
    assert f"deployment {odd.id} dated 9999-12-31" in result.output and "left out of the rollups" in result.output
    rebuilt = app.test_cli_runner().invoke(args=["esd", "rollups", "--rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
