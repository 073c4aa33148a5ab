"""Report versions: the report cache's key moves with every committed change a report shows, and only then."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from esd.extensions import db
from esd.models import Hide, ReportVersion
from esd.reports.cache import data_version
from esd.reports.metrics import Filters
from tests.helpers import make_agency, make_certification, make_deployment, make_dog, make_handler, make_session, term


def at(day):
    return datetime(2026, 3, day, 15, 0, tzinfo=timezone.utc)


def version_of(agency) -> int:
    row = db.session.scalar(select(ReportVersion.version).where(ReportVersion.agency_id == agency.id))
    return row or 0


def two_agencies():
    teams = []
    for name in ("North Task Force", "South Task Force"):
        agency = make_agency(name=name, timezone="UTC")
        handler = make_handler(agency)
        dog = make_dog(agency)
        teams.append((agency, handler, dog))
    db.session.commit()
    return teams


def test_a_committed_session_moves_its_agency_version_and_no_other():
    (north, handler, dog), (south, _, _) = two_agencies()
    before_north, before_south = version_of(north), version_of(south)
    make_session(dog, handler, started_at=at(2), hides=[{"outcome": "found"}])
    db.session.commit()
    assert version_of(north) == before_north + 1  # one transaction, one step, however many rows
    assert version_of(south) == before_south


def test_a_rolled_back_change_leaves_the_version_alone():
    (north, handler, dog), _ = two_agencies()
    before = version_of(north)
    make_session(dog, handler, started_at=at(3), hides=[{"outcome": "missed"}])
    db.session.flush()
    db.session.rollback()
    assert version_of(north) == before


def test_editing_a_hide_archiving_a_session_and_recording_a_find_each_move_the_key():
    (north, handler, dog), _ = two_agencies()
    session = make_session(dog, handler, started_at=at(4), hides=[{"outcome": "missed"}])
    db.session.commit()
    filters = Filters(agency_ids=(north.id,))
    seen = {data_version(filters)}

    hide = db.session.scalar(select(Hide).where(Hide.session_id == session.id))
    hide.outcome = "found"
    db.session.commit()
    seen.add(data_version(filters))

    session.archived_at = at(5)
    db.session.commit()
    seen.add(data_version(filters))

    make_deployment(dog, handler, started_at=at(6), finds=[{"device": "Phone"}])
    db.session.commit()
    seen.add(data_version(filters))

    make_certification(dog, handler)
    db.session.commit()
    seen.add(data_version(filters))
    assert len(seen) == 5


def test_a_multi_agency_key_moves_when_any_of_its_agencies_changes():
    (north, _, _), (south, handler, dog) = two_agencies()
    both = Filters(agency_ids=(north.id, south.id))
    north_only = Filters(agency_ids=(north.id,))
    before_both, before_north = data_version(both), data_version(north_only)
    make_session(dog, handler, started_at=at(7), hides=[{"outcome": "found"}])
    db.session.commit()
    assert data_version(both) != before_both
    assert data_version(north_only)[:2] == before_north[:2]  # the versions part: south's change is not north's


def test_a_vocabulary_change_moves_every_agency_key():
    (north, _, _), (south, _, _) = two_agencies()
    keys = [Filters(agency_ids=(north.id,)), Filters(agency_ids=(south.id,)), Filters(agency_ids=None)]
    before = [data_version(f)[:2] for f in keys]
    term("device_type").name = "Micro SD card (renamed)"
    db.session.commit()
    assert all(data_version(f)[:2] != b for f, b in zip(keys, before))


def test_reading_the_key_is_no_change():
    (north, _, _), _ = two_agencies()
    filters = Filters(agency_ids=(north.id,))
    first = data_version(filters)
    db.session.commit()
    assert data_version(filters) == first
