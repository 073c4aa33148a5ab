"""Training rules without a request: hours across month and week boundaries in the agency's zone,
summaries, edit rules, keyset pages and the usage order of the vocabularies."""
from datetime import date, datetime, timedelta, timezone

import pytest

from esd.extensions import db
from esd.models import AuditEntry, Hide, TrainingSession
from esd.training import services
from tests.helpers import make_agency, make_dog, make_handler, make_session, make_team, make_user, term

UTC = timezone.utc


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def team():
    agency = make_agency(timezone="America/New_York", monthly_training_target_hours=16)
    dog = make_dog(agency)
    handler = make_handler(agency)
    make_team(dog, handler)
    return agency, dog, handler


def test_month_boundary_follows_the_agency_time_zone(team):
    agency, dog, handler = team
    make_session(dog, handler, started_at=at(2026, 3, 1, 3, 0), duration_minutes=60)   # Feb 28, 22:00 in New York
    make_session(dog, handler, started_at=at(2026, 3, 1, 5, 30), duration_minutes=90)  # Mar 1, 00:30 in New York
    tz = services.agency_tz(agency)
    hours = services.hours_per_period([dog.id], tz, "month", date(2026, 2, 1), date(2026, 3, 31))
    assert hours[dog.id] == [(date(2026, 2, 1), 1.0), (date(2026, 3, 1), 1.5)]


def test_the_same_instant_falls_in_another_month_for_another_zone(team):
    _, dog, handler = team
    make_session(dog, handler, started_at=at(2026, 3, 31, 20, 0), duration_minutes=120)  # Apr 1, 05:00 in Tokyo
    tokyo = services.hours_per_period([dog.id], services.ZoneInfo("Asia/Tokyo"), "month",
                                      date(2026, 3, 1), date(2026, 4, 30))
    new_york = services.hours_per_period([dog.id], services.ZoneInfo("America/New_York"), "month",
                                         date(2026, 3, 1), date(2026, 4, 30))
    assert tokyo[dog.id] == [(date(2026, 3, 1), 0.0), (date(2026, 4, 1), 2.0)]
    assert new_york[dog.id] == [(date(2026, 3, 1), 2.0), (date(2026, 4, 1), 0.0)]


def test_weeks_start_on_local_monday_across_daylight_saving(team):
    agency, dog, handler = team
    # Clocks go forward in New York on Sunday 2026-03-08; Monday 2026-03-09 starts at 04:00 UTC.
    make_session(dog, handler, started_at=at(2026, 3, 9, 3, 30), duration_minutes=30)  # Sunday 23:30 local
    make_session(dog, handler, started_at=at(2026, 3, 9, 4, 15), duration_minutes=45)  # Monday 00:15 local
    hours = services.hours_per_period([dog.id], services.agency_tz(agency), "week",
                                      date(2026, 3, 2), date(2026, 3, 15))
    assert hours[dog.id] == [(date(2026, 3, 2), 0.5), (date(2026, 3, 9), 0.75)]


def test_archived_sessions_and_other_dogs_do_not_count(team):
    agency, dog, handler = team
    other = make_dog(agency)
    make_session(dog, handler, started_at=at(2026, 3, 10, 12), duration_minutes=60)
    make_session(dog, handler, started_at=at(2026, 3, 11, 12), duration_minutes=60, archived_at=at(2026, 3, 12))
    make_session(other, handler, started_at=at(2026, 3, 11, 12), duration_minutes=300)
    minutes = services.training_minutes([dog.id], at(2026, 3, 1), at(2026, 4, 1))
    assert minutes == {dog.id: 60}


@pytest.mark.parametrize("hours, fraction, status", [
    (16, 0.2, "met"), (4, 0.2, "on_track"), (3, 0.2, "behind"), (0, 0.0, "on_track"), (15.9, 1.0, "behind"),
])
def test_training_status_is_pro_rated_by_the_month_elapsed(hours, fraction, status):
    assert services.training_status(hours, 16, fraction) == status


def test_agency_overview_shows_which_dogs_are_behind(team):
    agency, dog, handler = team
    idle = make_dog(agency, name="Idle")
    make_session(dog, handler, started_at=at(2026, 3, 14, 15), duration_minutes=600)
    make_session(dog, handler, started_at=at(2026, 2, 20, 15), duration_minutes=120)
    rows = {r.dog.id: r for r in services.agency_overview(agency, now=at(2026, 3, 16, 12))}
    assert rows[dog.id].month_hours == 10.0 and rows[dog.id].status == "on_track"
    assert rows[dog.id].last_month_hours == 2.0
    assert rows[dog.id].handler.id == handler.id
    assert rows[idle.id].month_hours == 0 and rows[idle.id].status == "behind"


def test_session_summary_counts_and_find_rate_with_its_count(team):
    _, dog, handler = team
    session = make_session(dog, handler, hides=[{"outcome": "found", "seconds_to_find": 40},
                                                {"outcome": "found", "seconds_to_find": 90},
                                                {"outcome": "missed"}], false_alerts=2, blank_areas=3)
    summary = services.session_summary(session)
    assert (summary["hides"], summary["found"], summary["missed"], summary["false_alerts"]) == (3, 2, 1, 2)
    assert summary["find_rate_text"].startswith("67% (2 of 3; 95% CI")
    assert summary["blank_areas"] == 3


def test_a_reason_is_required_after_24_hours_or_once_signed_off(team):
    _, dog, handler = team
    session = make_session(dog, handler, created_at=at(2026, 3, 10, 14))
    assert not services.reason_required(session, now=at(2026, 3, 11, 13, 59))
    assert services.reason_required(session, now=at(2026, 3, 11, 14, 1))
    session.signed_off_at = at(2026, 3, 10, 15)
    assert services.reason_required(session, now=at(2026, 3, 10, 16))


def test_who_may_edit_and_sign_off(team):
    agency, dog, handler = team
    owner = make_user("handler", agency)
    handler.user_id = owner.id
    colleague = make_user("handler", agency)
    manager = make_user("manager", agency)
    stranger = make_user("manager", make_agency())
    session = make_session(dog, handler)
    assert services.may_edit(owner, session) and services.may_edit(manager, session)
    assert not services.may_edit(colleague, session) and not services.may_edit(stranger, session)
    assert services.may_sign_off(manager, session) and not services.may_sign_off(owner, session)
    assert not services.may_sign_off(stranger, session)


def test_revising_a_signed_session_keeps_the_earlier_version_and_clears_the_sign_off(team):
    agency, dog, handler = team
    manager = make_user("manager", agency)
    session = make_session(dog, handler, hides=[{"outcome": "found", "device": "USB drive", "spot": "Book"}],
                           created_at=at(2026, 3, 10, 14))
    services.sign_off(session, manager, now=at(2026, 3, 10, 15))
    db.session.commit()
    body = {"dog_id": dog.id, "started_at": "2026-03-10T10:00", "duration_minutes": 60, "purpose": "maintenance",
            "hides": [{"device_type_id": term("device_type", "USB drive").id,
                       "hiding_spot_id": term("hiding_spot", "Book").id, "outcome": "missed"}]}
    now = at(2026, 3, 10, 16)
    clean = services.load_session(body, manager, now, session=session)
    with pytest.raises(services.PayloadError) as error:
        services.revise_session(session, clean, manager, now, reason="")
    assert error.value.errors[0]["field"] == "reason"
    assert services.revise_session(session, clean, manager, now, reason="Miss was recorded as a find")
    db.session.commit()
    assert session.signed_off_at is None and session.hides[0].outcome == "missed"
    entry = services.revisions(session)[0]
    assert entry.reason == "Miss was recorded as a find"
    assert entry.changes["before"]["hides"][0]["outcome"] == "found"
    assert entry.changes["before"]["signed_off_at"] is not None
    hide_update = db.session.scalars(db.select(AuditEntry).where(AuditEntry.entity == "hide",
                                                                 AuditEntry.action == "update")).one()
    assert hide_update.changes["outcome"] == ["found", "missed"]
    assert hide_update.reason == "Miss was recorded as a find"


def test_an_unchanged_save_changes_nothing_and_keeps_the_sign_off(team):
    agency, dog, handler = team
    manager = make_user("manager", agency)
    session = make_session(dog, handler, hides=[{"outcome": "found"}])
    services.sign_off(session, manager, now=at(2026, 3, 10, 15))
    db.session.commit()
    clean = services.load_session(services.session_json(session), manager, at(2026, 3, 10, 16), session=session)
    assert not services.revise_session(session, clean, manager, at(2026, 3, 10, 16), reason="none")
    assert session.is_signed_off


def test_removed_hides_are_deleted_with_an_audit_entry(team):
    agency, dog, handler = team
    manager = make_user("manager", agency)
    session = make_session(dog, handler, hides=[{"outcome": "found"}, {"outcome": "missed"}])
    db.session.commit()
    body = services.session_json(session)
    body["hides"] = body["hides"][:1]
    now = session.created_at + timedelta(hours=1)
    services.revise_session(session, services.load_session(body, manager, now, session=session), manager, now, None)
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count()).select_from(Hide)) == 1
    deleted = db.session.scalars(db.select(AuditEntry).where(AuditEntry.entity == "hide",
                                                             AuditEntry.action == "delete")).one()
    assert deleted.changes["outcome"] == ["missed", None]
    assert deleted.agency_id == agency.id  # a manager's audit log shows it


def test_keyset_pages_walk_every_session_once_newest_first(team):
    _, dog, handler = team
    for i in range(30):
        make_session(dog, handler, started_at=at(2026, 1, 1, 12) + timedelta(days=i))
    # Two sessions at the same instant: the id breaks the tie.
    make_session(dog, handler, started_at=at(2026, 1, 10, 12))
    first, cursor = services.dog_sessions_page(dog, services.SessionFilters(), None)
    second, end = services.dog_sessions_page(dog, services.SessionFilters(), cursor)
    starts = [r["session"].started_at for r in first + second]
    ids = [r["session"].id for r in first + second]
    assert len(first) == 25 and len(second) == 6 and end is None
    assert len(set(ids)) == 31 and starts == sorted(starts, reverse=True)


def test_pages_return_every_session_exactly_once_while_sessions_are_added(team):
    _, dog, handler = team
    base = at(2026, 1, 1, 12)
    existing = {make_session(dog, handler, started_at=base + timedelta(hours=i)).id for i in range(40)}
    # Several sessions at one instant, so that page boundaries fall inside a tie.
    existing |= {make_session(dog, handler, started_at=base + timedelta(hours=20)).id for _ in range(6)}
    seen, ahead, behind, cursor = [], set(), set(), None
    while True:
        rows, cursor = services.dog_sessions_page(dog, services.SessionFilters(), cursor, size=7)
        seen += [r["session"].id for r in rows]
        if cursor is None:
            break
        position, _ = services.decode_cursor(cursor)
        # Tablets upload while someone pages: newer sessions (and a later one at the cursor's own
        # instant) belong to pages already shown; an older one belongs to the pages still to come.
        ahead.add(make_session(dog, handler, started_at=position + timedelta(minutes=1)).id)
        ahead.add(make_session(dog, handler, started_at=position).id)
        behind.add(make_session(dog, handler, started_at=position - timedelta(minutes=1)).id)
    assert len(seen) == len(set(seen)), "a session was shown twice"
    assert existing | behind <= set(seen), "a session was skipped"
    assert not ahead & set(seen)
    assert [db.session.get(TrainingSession, i).started_at for i in seen] == sorted(
        (db.session.get(TrainingSession, i).started_at for i in seen), reverse=True)


def test_filters_by_local_dates_purpose_and_blind_hides(team):
    _, dog, handler = team
    late = make_session(dog, handler, started_at=at(2026, 3, 11, 3, 0), hides=[{"blind": True}])  # Mar 10, 23:00 local
    make_session(dog, handler, started_at=at(2026, 3, 11, 15, 0), purpose="imprint")
    make_session(dog, handler, started_at=at(2026, 3, 12, 15, 0), hides=[{"blind": False}])

    def ids(**kw):
        rows, _ = services.dog_sessions_page(dog, services.SessionFilters(**kw), None)
        return [r["session"].id for r in rows]
    assert ids(start=date(2026, 3, 10), end=date(2026, 3, 10)) == [late.id]
    assert len(ids(start=date(2026, 3, 11))) == 2
    assert len(ids(purpose="imprint")) == 1
    assert ids(blind_only=True) == [late.id]


def test_vocabulary_lists_this_agencys_most_used_first(team):
    agency, dog, handler = team
    make_session(dog, handler, hides=[{"device": "Router", "spot": "Toy"}] * 3 + [{"device": "SIM card"}])
    other = make_agency()
    make_session(make_dog(other), make_handler(other), hides=[{"device": "Laptop"}] * 5)
    vocab = services.vocabulary([agency.id])
    names = [t["name"] for t in vocab["device_types"]]
    assert names[:2] == ["Router", "SIM card"]
    assert vocab["hiding_spots"][0]["name"] == "Toy"
    assert "Laptop" in names[2:]
