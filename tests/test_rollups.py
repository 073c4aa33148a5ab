"""The monthly rollups always equal the raw training log and deployments, and the metrics read from
them give the same figures as the raw rows, for agencies and for one dog: after random creates,
edits, moves (in time and to another dog), archives, deletes of sessions, hides, deployments, finds
and field alerts and time-zone changes (hypothesis), and
`flask esd rollups --verify/--rebuild` find and mend a corrupted row."""
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, select, update

from esd import rollups
from esd.extensions import db
from esd.models import Deployment, FalseAlert, FieldAlert, Find, Hide, HideRollup, SessionRollup, TrainingSession, VocabularyTerm
from esd.reports import metrics
from esd.reports.metrics import Filters
from tests.helpers import make_agency, make_dog, make_handler

BASE = datetime(2025, 12, 29, tzinfo=timezone.utc)
ZONES = ("America/New_York", "Pacific/Honolulu", "America/Chicago", "Asia/Tokyo")


@pytest.fixture
def world():
    agencies = [make_agency(timezone="America/New_York"), make_agency(timezone="Pacific/Honolulu")]
    teams = []
    for agency in agencies:
        teams.append((make_dog(agency), make_handler(agency)))
    spares = [make_dog(agency) for agency in agencies]  # a session can be moved to another dog
    db.session.commit()
    devices = db.session.scalars(select(VocabularyTerm.id).where(VocabularyTerm.kind == "device_type")
                                 .order_by(VocabularyTerm.id).limit(3)).all()
    spots = db.session.scalars(select(VocabularyTerm.id).where(VocabularyTerm.kind == "hiding_spot")
                               .order_by(VocabularyTerm.id).limit(3)).all()
    return dict(agencies=[a.id for a in agencies], teams=[(d.id, h.id) for d, h in teams],
                spares=[d.id for d in spares], devices=devices, spots=spots)


# Start times every 3 hours over ten weeks: many fall near a month's edge in one zone or another.
instants = st.integers(0, 10 * 7 * 8).map(lambda k: BASE + timedelta(hours=3 * k))
hide_specs = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.booleans(), st.booleans()),
                      max_size=4)
EVIDENCE = ("yes", "no", "pending")
find_specs = st.lists(st.tuples(st.integers(0, 2), st.booleans(), st.sampled_from(EVIDENCE)), max_size=3)
# Spellings "agencies served" counts as one (case, surrounding spaces), and none at all.
requesters = st.sampled_from([None, "Metro PD", "metro pd ", " METRO PD", "County Sheriff", ""])
operations = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 1), instants, hide_specs, st.integers(0, 2),
              st.integers(1, 120)),
    st.tuples(st.just("outcome"), st.integers(0, 99), st.integers(0, 9)),
    st.tuples(st.just("blind"), st.integers(0, 99), st.integers(0, 9)),
    st.tuples(st.just("replace_hides"), st.integers(0, 99), hide_specs),
    st.tuples(st.just("move"), st.integers(0, 99), instants),
    st.tuples(st.just("other_dog"), st.integers(0, 99)),
    st.tuples(st.just("minutes"), st.integers(0, 99), st.integers(1, 120)),
    st.tuples(st.just("archive"), st.integers(0, 99)),
    st.tuples(st.just("unarchive"), st.integers(0, 99)),
    st.tuples(st.just("delete"), st.integers(0, 99)),
    st.tuples(st.just("alert"), st.integers(0, 99)),
    st.tuples(st.just("timezone"), st.integers(0, 1), st.sampled_from(ZONES)),
    st.tuples(st.just("deploy"), st.integers(0, 1), instants, find_specs, st.booleans(), requesters),
    st.tuples(st.just("find_evidence"), st.integers(0, 99), st.integers(0, 9), st.sampled_from(EVIDENCE)),
    st.tuples(st.just("find_missed"), st.integers(0, 99), st.integers(0, 9)),
    st.tuples(st.just("replace_finds"), st.integers(0, 99), find_specs),
    st.tuples(st.just("remove_find"), st.integers(0, 99), st.integers(0, 9)),
    st.tuples(st.just("deployment_move"), st.integers(0, 99), instants),
    st.tuples(st.just("deployment_alert"), st.integers(0, 99), st.sampled_from(("unverified", "explained"))),
    st.tuples(st.just("deployment_alert_outcome"), st.integers(0, 99), st.integers(0, 9),
              st.sampled_from(("confirmed", "unverified", "explained"))),
    st.tuples(st.just("deployment_alert_remove"), st.integers(0, 99), st.integers(0, 9)),
    st.tuples(st.just("deployment_requester"), st.integers(0, 99), requesters),
    st.tuples(st.just("deployment_archive"), st.integers(0, 99)),
    st.tuples(st.just("deployment_unarchive"), st.integers(0, 99)),
    st.tuples(st.just("deployment_delete"), st.integers(0, 99)),
)
days = st.integers(0, 75).map(lambda k: date(2025, 12, 20) + timedelta(days=k))
filter_specs = st.tuples(st.sampled_from(["first", "second", "both", "all"]), st.one_of(st.none(), days),
                         st.one_of(st.none(), days), st.booleans(), st.one_of(st.none(), st.integers(0, 3)))


def _reset(world):
    db.session.rollback()
    for model, _, _ in rollups.TABLES:
        db.session.execute(delete(model))
    for model in (Hide, FalseAlert, TrainingSession, FieldAlert, Find, Deployment):
        db.session.execute(delete(model))
    db.session.commit()


def _hides(world, specs):
    return [Hide(position=i, device_type_id=world["devices"][d], hiding_spot_id=world["spots"][s],
                 outcome="found" if found else "missed", blind=blind)
            for i, (d, s, found, blind) in enumerate(specs)]


def _finds(world, specs):
    return [Find(device_type_id=world["devices"][d], missed_by_human_search=missed, evidence=evidence)
            for d, missed, evidence in specs]


def _apply_deployment(world, op):
    kind = op[0]
    if kind == "deploy":
        _, team, started, specs, unverified, requester = op
        dog_id, handler_id = world["teams"][team]
        deployment = Deployment(agency_id=world["agencies"][team], dog_id=dog_id, handler_id=handler_id,
                                started_at=started, legal_authority="consent", requesting_agency=requester)
        deployment.finds = _finds(world, specs)
        # Every find an alert that a device confirmed, and maybe one where nothing was recovered.
        deployment.alerts = [FieldAlert(outcome="confirmed", find=f) for f in deployment.finds] + (
            [FieldAlert(outcome="unverified")] if unverified else [])
        db.session.add(deployment)
        return
    deployments = db.session.scalars(select(Deployment).order_by(Deployment.id)).all()
    if not deployments:
        return
    deployment = deployments[op[1] % len(deployments)]
    if kind in ("find_evidence", "find_missed", "remove_find"):
        if deployment.finds:
            find = deployment.finds[op[2] % len(deployment.finds)]
            if kind == "find_evidence":
                find.evidence = op[3]
            elif kind == "find_missed":
                find.missed_by_human_search = not find.missed_by_human_search
            else:
                _unconfirm(deployment, [find])
                db.session.delete(find)
    elif kind == "replace_finds":
        _unconfirm(deployment, deployment.finds)
        deployment.finds = _finds(world, op[2])
    elif kind == "deployment_move":
        deployment.started_at = op[2]
    elif kind == "deployment_alert":
        deployment.alerts.append(FieldAlert(outcome=op[2], explanation="Residual odour" if op[2] == "explained"
                                            else None))
    elif kind == "deployment_alert_outcome":
        if deployment.alerts:
            alert = deployment.alerts[op[2] % len(deployment.alerts)]
            taken = {a.find_id for a in deployment.alerts if a is not alert}
            free = [f for f in deployment.finds if f.id not in taken]
            if op[3] != "confirmed" or free:
                alert.outcome = op[3]
                alert.find = free[0] if op[3] == "confirmed" else None
                alert.explanation = "Removed before the search" if op[3] == "explained" else None
    elif kind == "deployment_alert_remove":
        if deployment.alerts:
            db.session.delete(deployment.alerts[op[2] % len(deployment.alerts)])
    elif kind == "deployment_requester":
        deployment.requesting_agency = op[2]
    elif kind == "deployment_archive":
        deployment.archived_at = BASE
    elif kind == "deployment_unarchive":
        deployment.archived_at = None
    elif kind == "deployment_delete":
        db.session.delete(deployment)


def _unconfirm(deployment, finds):
    """The alerts confirmed by finds about to go become unverified (a find's alert cannot outlive it)."""
    for alert in deployment.alerts:
        if alert.find in finds:
            alert.outcome, alert.find = "unverified", None


def _apply(world, op):
    kind = op[0]
    if kind == "deploy" or kind.startswith(("find_", "deployment_")) or kind in ("replace_finds", "remove_find"):
        _apply_deployment(world, op)
        return
    if kind == "create":
        _, team, started, specs, alerts, minutes = op
        dog_id, handler_id = world["teams"][team]
        agency_id = world["agencies"][team]
        session = TrainingSession(agency_id=agency_id, dog_id=dog_id, handler_id=handler_id, started_at=started,
                                  duration_minutes=minutes, purpose="maintenance")
        session.hides = _hides(world, specs)
        session.false_alerts = [FalseAlert() for _ in range(alerts)]
        db.session.add(session)
        return
    if kind == "timezone":
        from esd.models import Agency
        db.session.get(Agency, world["agencies"][op[1]]).timezone = op[2]
        return
    sessions = db.session.scalars(select(TrainingSession).order_by(TrainingSession.id)).all()
    if not sessions:
        return
    session = sessions[op[1] % len(sessions)]
    if kind in ("outcome", "blind"):
        if session.hides:
            hide = session.hides[op[2] % len(session.hides)]
            if kind == "outcome":
                hide.outcome = "missed" if hide.outcome == "found" else "found"
            else:
                hide.blind = not hide.blind
    elif kind == "replace_hides":
        session.hides = _hides(world, op[2])
    elif kind == "move":
        session.started_at = op[2]
    elif kind == "other_dog":
        team = world["agencies"].index(session.agency_id)
        session.dog_id = (world["spares"][team] if session.dog_id == world["teams"][team][0]
                          else world["teams"][team][0])
    elif kind == "minutes":
        session.duration_minutes = op[2]
    elif kind == "archive":
        session.archived_at = BASE
    elif kind == "unarchive":
        session.archived_at = None
    elif kind == "delete":
        db.session.delete(session)
    elif kind == "alert":
        session.false_alerts.append(FalseAlert())


def _filters(world, spec):
    which, start, end, blind, dog = spec
    # "both" names every agency: the all-agency tables answer it as they answer None.
    ids = {"first": (world["agencies"][0],), "second": (world["agencies"][1],),
           "both": tuple(world["agencies"]), "all": None}[which]
    dog_id = None
    if dog is not None:  # one of the four dogs, seen from its own agency (or all of them)
        dog_id = ([d for d, _ in world["teams"]] + world["spares"])[dog]
        ids = None if ids is None else (world["agencies"][dog % 2],)
    if start and end and end < start:
        start, end = end, start
    return Filters(agency_ids=ids, dog_id=dog_id, start=start, end=end, blind_only=blind)


def _assert_paths_agree(f):
    assert metrics.find_rate(f) == metrics.find_rate(f, raw=True)
    for by in ("device_type", "hiding_spot"):
        assert metrics.find_rates(f, by) == metrics.find_rates(f, by, raw=True)
    assert metrics.device_spot_matrix(f) == metrics.device_spot_matrix(f, raw=True)
    # The three from one read of the pairs, as a dog page takes them, equal each on its own.
    assert metrics.hide_breakdown(f) == metrics.HideBreakdown(
        metrics.find_rates(f, "device_type", raw=True), metrics.find_rates(f, "hiding_spot", raw=True),
        metrics.device_spot_matrix(f, raw=True))
    assert metrics.monthly_training(f) == metrics.monthly_training(f, raw=True)
    assert metrics.training_totals(f) == metrics.training_totals(f, raw=True)
    assert metrics.training_hours(f) == metrics.training_hours(f, raw=True)
    assert metrics.deployment_impact(f) == metrics.deployment_impact(f, raw=True)  # evidence included
    assert metrics.monthly_impact(f) == metrics.monthly_impact(f, raw=True)
    assert metrics.deployment_counts_by_agency(f) == metrics.deployment_counts_by_agency(f, raw=True)
    # The funders' report takes its totals as the sums of the per-agency counts it shows.
    assert metrics.deployment_impact(f, by_agency=metrics.deployment_counts_by_agency(f)) == \
        metrics.deployment_impact(f, raw=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(ops=st.lists(operations, min_size=1, max_size=16), checks=st.lists(filter_specs, min_size=1, max_size=3))
def test_rollups_equal_the_raw_rows_after_any_changes(world, ops, checks):
    _reset(world)
    for op in ops:
        _apply(world, op)
        db.session.commit()
    assert rollups.differences(db.session.connection()) == []
    for spec in checks:
        _assert_paths_agree(_filters(world, spec))


def test_a_session_moved_across_a_month_edge_moves_its_hides(world):
    dog_id, handler_id = world["teams"][1]  # Honolulu
    session = TrainingSession(agency_id=world["agencies"][1], dog_id=dog_id, handler_id=handler_id,
                              started_at=datetime(2026, 2, 1, 9, 30, tzinfo=timezone.utc),  # 23:30 on 31 Jan
                              duration_minutes=45, purpose="maintenance")
    session.hides = _hides(world, [(0, 0, True, False), (1, 1, False, True)])
    db.session.add(session)
    db.session.commit()
    month = lambda: db.session.execute(select(SessionRollup.month, SessionRollup.minutes)).all()  # noqa: E731
    assert month() == [(date(2026, 1, 1), 45)]
    session.started_at = datetime(2026, 2, 1, 10, 30, tzinfo=timezone.utc)  # 00:30 on 1 Feb in Honolulu
    db.session.commit()
    assert month() == [(date(2026, 2, 1), 45)]
    assert {m for m, in db.session.execute(select(HideRollup.month))} == {date(2026, 2, 1)}
    feb = Filters(agency_ids=tuple(world["agencies"]), start=date(2026, 2, 1), end=date(2026, 2, 28))
    assert metrics.find_rate(feb).n == 2 and metrics.training_totals(feb).minutes == 45


def test_verify_reports_a_corrupted_row_and_rebuild_mends_it(app, world):
    dog_id, handler_id = world["teams"][0]
    session = TrainingSession(agency_id=world["agencies"][0], dog_id=dog_id, handler_id=handler_id,
                              started_at=datetime(2026, 1, 10, 15, tzinfo=timezone.utc), duration_minutes=60,
                              purpose="maintenance")
    session.hides = _hides(world, [(0, 0, True, False)] * 3)
    db.session.add(session)
    db.session.commit()
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["esd", "rollups", "--verify"])
    assert clean.exit_code == 0, clean.output
    db.session.execute(update(HideRollup).values(found=HideRollup.found - 1))
    db.session.commit()
    broken = runner.invoke(args=["esd", "rollups", "--verify"])
    assert broken.exit_code == 1
    assert "hide_rollup" in broken.output and "found 2 (raw rows give 3)" in broken.output
    mended = runner.invoke(args=["esd", "rollups", "--rebuild", "--verify"])
    assert mended.exit_code == 0, mended.output
    assert "agree" in mended.output
    db.session.expire_all()
    assert metrics.find_rate(Filters(agency_ids=None)).found == 3
