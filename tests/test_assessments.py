"""Planned, sealed sessions and assessments: the comparison on closing, the standard's criteria, bad input."""
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from esd.assessments import comparison, services, standard
from esd.extensions import db
from esd.models import AuditEntry, FalseAlert, Hide, PlannedArea, PlannedSession, TrainingSession
from tests.assessment_builders import area, make_plan, make_standard
from tests.helpers import make_agency, make_dog, make_handler, make_team, make_user, term

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=timezone.utc)


@pytest.fixture
def team():
    """An agency with a trainer (manager), an observer, and a handler account working a dog."""
    agency = make_agency(name="Metro ICAC Task Force")
    trainer = make_user("manager", agency, name="Sgt. Trainer")
    observer = make_user("handler", agency, name="Officer Observer")
    handler_user = make_user("handler", agency, name="Officer Reyes")
    handler = make_handler(agency, user_id=handler_user.id, name="Officer Reyes")
    dog = make_dog(agency, name="Juno")
    make_team(dog, handler)
    db.session.commit()
    return SimpleNamespace(agency=agency, trainer=trainer, observer=observer, handler_user=handler_user,
                           handler=handler, dog=dog)


def spec(device=None, spot=None, outcome=None, alert_spot=None, environment=None):
    """An area as the comparison reads it, without a database."""
    ids = {"Book": 1, "Drawer": 2, "Vehicle": 3}
    return SimpleNamespace(device_type_id=7 if device else None, hiding_spot_id=ids.get(spot),
                           outcome=outcome, alert_spot_id=ids.get(alert_spot),
                           environment=SimpleNamespace(name=environment) if environment else None)


# ---------------------------------------------------------------- the comparison, by hand

def test_each_kind_of_area_gets_its_verdict():
    assert comparison.verdict(spec("USB", "Book", "alert", "Book")) == comparison.FOUND
    assert comparison.verdict(spec("USB", "Book", "alert", "Drawer")) == comparison.MISSED_AND_FALSE
    assert comparison.verdict(spec("USB", "Book", "no_alert")) == comparison.MISSED
    assert comparison.verdict(spec(None, None, "alert", "Drawer")) == comparison.FALSE_ALERT
    assert comparison.verdict(spec(None, None, "no_alert")) == comparison.CLEAR
    assert comparison.verdict(spec("USB", "Book")) is None


def test_a_hand_built_plan_compares_to_hand_counted_totals_per_environment():
    areas = [spec("USB", "Book", "alert", "Book", "Residence"),       # found
             spec("USB", "Drawer", "alert", "Drawer", "Residence"),   # found
             spec("USB", "Book", "no_alert", environment="Residence"),  # missed
             spec(None, None, "alert", "Drawer", "Residence"),        # false alert in a negative area
             spec("USB", "Vehicle", "alert", "Book"),                 # missed + false alert, session's env
             spec(None, None, "no_alert"),                            # clear negative, session's env
             spec("USB", "Book")]                                     # not recorded yet
    result = comparison.compare(areas, "Vehicle")
    assert (result.total.found, result.total.missed, result.total.false_alerts, result.total.negatives) == (2, 2, 2, 2)
    assert result.total.find_rate.found == 2 and result.total.find_rate.n == 4
    residence, vehicle = result.environments["Residence"], result.environments["Vehicle"]
    assert (residence.found, residence.missed, residence.false_alerts, residence.negatives) == (2, 1, 1, 1)
    assert (vehicle.found, vehicle.missed, vehicle.false_alerts, vehicle.negatives) == (0, 1, 1, 1)
    assert len(result.unrecorded) == 1


# ---------------------------------------------------------------- the standard's criteria

STANDARD = SimpleNamespace(min_find_rate_percent=90, max_misses=1, max_false_responses=1,
                           negative_search_required=True)


def judged(areas, std=STANDARD):
    criteria = standard.judge(comparison.compare(areas, "Residence"), std)
    return standard.passed(criteria), {c.name: c.met for c in criteria}


def ten_hides(found: int, **kw):
    return [spec("USB", "Book", "alert", "Book", **kw) for _ in range(found)] + \
           [spec("USB", "Book", "no_alert", **kw) for _ in range(10 - found)]


def test_an_assessment_meeting_every_criterion_passes():
    ok, met = judged(ten_hides(9) + [spec(None, None, "no_alert")])
    assert ok and all(met.values()) and set(met) == {
        "Find rate", "Missed aids per environment", "False responses per environment", "Negative search"}


def test_it_fails_on_the_find_rate():
    # 9 of 11 is 81.8%: under 90%, though one miss per environment is within the limit of one... not here.
    std = SimpleNamespace(**{**vars(STANDARD), "max_misses": 5})
    ok, met = judged(ten_hides(8) + [spec(None, None, "no_alert")], std)
    assert not ok and met == {"Find rate": False, "Missed aids per environment": True,
                              "False responses per environment": True, "Negative search": True}


def test_it_fails_on_misses_in_one_environment_though_the_rate_is_met():
    std = SimpleNamespace(**{**vars(STANDARD), "min_find_rate_percent": 80})
    areas = ten_hides(8, environment="Vehicle") + ten_hides(10, environment="Office") + [spec(None, None, "no_alert")]
    ok, met = judged(areas, std)  # 18 of 20 = 90%; but 2 misses in the vehicle
    assert not ok and met["Find rate"] and not met["Missed aids per environment"]


def test_it_fails_on_false_responses():
    areas = ten_hides(10) + [spec(None, None, "alert", "Drawer"), spec(None, None, "alert", "Book")]
    ok, met = judged(areas)
    assert not ok and met == {"Find rate": True, "Missed aids per environment": True,
                              "False responses per environment": False, "Negative search": True}


def test_it_fails_without_a_negative_search():
    ok, met = judged(ten_hides(10))
    assert not ok and not met["Negative search"] and met["Find rate"]


def test_a_rate_of_exactly_the_minimum_passes_and_no_hides_fails():
    assert judged(ten_hides(9) + [spec(None, None, "no_alert")])[1]["Find rate"]  # 90% of 10
    assert not judged([spec(None, None, "no_alert")])[1]["Find rate"]


def test_judging_without_a_standard_is_a_clear_error():
    with pytest.raises(standard.NoStandard, match="names no standard"):
        standard.judge(comparison.compare([]), None)


# ---------------------------------------------------------------- closing writes a training session

def test_closing_reveals_and_writes_a_training_session_with_hides_and_false_alerts(team):
    plan = make_plan(team.dog, team.handler, team.trainer, areas=[
        area("Office 1", "USB drive", "Book", "alert", "Book", seconds_to_find=42),
        area("Office 2", "microSD card", "Drawer", "no_alert"),
        area("Hallway", "SIM card", "Book", "alert", "Drawer"),
        area("Closet", outcome="alert", alert_spot="Clothing"),
        area("Kitchen", outcome="no_alert"),
    ], placed_by="Cpl. Placer")
    session = services.close(plan, team.trainer, NOW, 45)
    db.session.commit()
    assert plan.is_closed and plan.training_session_id == session.id
    assert session.dog_id == team.dog.id and session.handler_id == team.handler.id
    assert session.duration_minutes == 45 and session.blank_areas == 2 and session.purpose == "proficiency"
    outcomes = [(h.device_type.name, h.outcome, h.blind, h.seconds_to_find) for h in session.hides]
    assert outcomes == [("USB drive", "found", True, 42), ("microSD card", "missed", True, None),
                        ("SIM card", "missed", True, None)]
    assert sorted((f.location_note, f.hiding_spot.name) for f in session.false_alerts) == [
        ("Closet", "Clothing"), ("Hallway", "Drawer")]
    assert session.started_at == plan.started_at


def test_a_known_session_writes_hides_that_are_not_blind(team):
    plan = make_plan(team.dog, team.handler, team.trainer, blindness="known",
                     areas=[area("A", "USB drive", "Book", "alert", "Book")])
    session = services.close(plan, team.trainer, NOW, 30)
    assert [h.blind for h in session.hides] == [False]


def test_closing_an_assessment_keeps_its_result_with_each_criterion(team):
    std = make_standard(team.agency)
    plan = make_plan(team.dog, team.handler, team.trainer, kind="certification", standard_id=std.id,
                     certifying_body_id=std.certifying_body_id, evaluator="J. Evaluator", areas=[
                         area("A", "USB drive", "Book", "alert", "Book"),
                         area("B", "USB drive", "Book", "no_alert")])
    services.close(plan, team.trainer, NOW, 30)
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(PlannedSession, plan.id)
    assert kept.result == "fail"
    assert [(c["name"], c["met"]) for c in kept.criteria] == [
        ("Find rate", False), ("Missed aids per environment", True),
        ("False responses per environment", True), ("Negative search", False)]


def test_closing_with_an_area_unrecorded_stores_nothing(team):
    plan = make_plan(team.dog, team.handler, team.trainer,
                     areas=[area("A", "USB drive", "Book", "alert", "Book"), area("B", "USB drive", "Book")])
    db.session.commit()
    with pytest.raises(services.PlanError, match="Record every area's outcome before closing: 1 without one \\(B\\)"):
        services.close(plan, team.trainer, NOW, 30)
    db.session.rollback()
    assert db.session.scalar(select(func.count(TrainingSession.id))) == 0
    assert db.session.get(PlannedSession, plan.id).closed_at is None


def test_an_assessment_without_a_standard_cannot_be_closed(team):
    plan = make_plan(team.dog, team.handler, team.trainer, areas=[area("A", outcome="no_alert")])
    db.session.commit()
    plan.kind = "proficiency"
    with db.session.no_autoflush, pytest.raises(services.PlanError, match="names no standard"):
        services.close(plan, team.trainer, NOW, 30)
    with pytest.raises(IntegrityError):  # nor can one be stored
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count(TrainingSession.id))) == 0


@pytest.mark.parametrize("duration", [0, 601, "abc", None, 10**30])
def test_a_duration_out_of_bounds_is_refused(team, duration):
    plan = make_plan(team.dog, team.handler, team.trainer, areas=[area("A", outcome="no_alert")])
    with pytest.raises(services.PlanError, match="Enter a duration from 1 to 600"):
        services.close(plan, team.trainer, NOW, duration)


# ---------------------------------------------------------------- recording outcomes

def test_an_outcome_for_an_area_of_another_session_is_not_found(team):
    plan = make_plan(team.dog, team.handler, team.trainer, observer_id=team.observer.id, areas=[area("A")])
    other = make_plan(team.dog, team.handler, team.trainer, observer_id=team.observer.id, areas=[area("B")])
    db.session.commit()
    with pytest.raises(services.PlanError, match=f"no area {other.areas[0].id}") as error:
        services.record_outcome(plan, other.areas[0].id, {"outcome": "no_alert"}, team.observer, NOW)
    assert error.value.status == 404
    assert other.areas[0].outcome is None


def test_a_second_outcome_for_one_area_is_refused_and_the_first_kept(team):
    plan = make_plan(team.dog, team.handler, team.trainer, observer_id=team.observer.id, areas=[area("A")])
    target = plan.areas[0].id
    _, created = services.record_outcome(plan, target, {"outcome": "no_alert"}, team.observer, NOW)
    db.session.commit()
    assert created and plan.started_at is not None
    _, again = services.record_outcome(plan, target, {"outcome": "no_alert"}, team.observer, NOW)
    assert again is False  # the same outcome sent again (an offline retry) is not a second one
    with pytest.raises(services.PlanError, match="already has an outcome") as error:
        services.record_outcome(plan, target, {"outcome": "alert", "alert_spot_id": term("hiding_spot", "Book").id},
                                team.observer, NOW)
    assert error.value.status == 409
    db.session.rollback()
    assert db.session.get(PlannedArea, target).outcome == "no_alert"


@pytest.mark.parametrize("body, message", [
    (["no_alert"], "JSON object"),
    ({"outcome": "maybe"}, "Choose the outcome"),
    ({"outcome": "alert"}, "Choose where the dog alerted"),
    ({"outcome": "alert", "alert_spot_id": 10**20}, "Choose where the dog alerted"),
    ({"outcome": "alert", "alert_spot_id": "١"}, "Choose where the dog alerted"),
    ({"outcome": "alert", "alert_spot_id": 1, "seconds_to_find": 9999}, None),
    ({"outcome": "no_alert", "colour": "red"}, "Unknown field"),
    ({"outcome": "no_alert", "recorded_at": "yesterday"}, "ISO date"),
])
def test_bad_outcomes_are_refused_with_a_message_and_nothing_stored(team, body, message):
    plan = make_plan(team.dog, team.handler, team.trainer, observer_id=team.observer.id, areas=[area("A")])
    db.session.commit()
    if message is None:  # a known spot, but seconds out of bounds
        body = {**body, "alert_spot_id": term("hiding_spot", "Book").id}
        message = "Seconds to find must be from 0 to 7200"
    with pytest.raises(services.PlanError, match=message):
        services.record_outcome(plan, plan.areas[0].id, body, team.observer, NOW)
    db.session.rollback()
    assert db.session.get(PlannedArea, plan.areas[0].id).outcome is None


def test_in_a_double_blind_session_only_the_observer_records(team):
    plan = make_plan(team.dog, team.handler, team.trainer, observer_id=team.observer.id, areas=[area("A")])
    assert services.may_record(team.observer, plan)
    assert not services.may_record(team.handler_user, plan) and not services.may_record(team.trainer, plan)
    plan.blindness = "single_blind"
    assert services.may_record(team.handler_user, plan)


def test_the_plan_is_seen_by_trainers_only_until_closed(team):
    plan = make_plan(team.dog, team.handler, team.trainer, observer_id=team.observer.id,
                     areas=[area("A", outcome="no_alert")])
    other_manager = make_user("manager", team.agency)
    assert services.may_see_plan(team.trainer, plan) and services.may_see_plan(other_manager, plan)
    assert not services.may_see_plan(team.handler_user, plan) and not services.may_see_plan(team.observer, plan)
    services.close(plan, team.trainer, NOW, 30)
    assert services.may_see_plan(team.handler_user, plan) and services.may_see_plan(team.observer, plan)


# ---------------------------------------------------------------- changing a started plan

def plan_values(plan):
    return {name: getattr(plan, name) for name in services.PLAN_FIELDS}


def test_a_started_plan_changes_only_by_its_trainer_with_a_reason_kept_in_the_audit_log(team):
    plan = make_plan(team.dog, team.handler, team.trainer, observer_id=team.observer.id,
                     areas=[area("A", "USB drive", "Book", "no_alert")])
    db.session.commit()
    areas = [{name: getattr(plan.areas[0], name) for name in services.AREA_FIELDS} | {"aid": "Aid B-7"}]
    other_manager = make_user("manager", team.agency)
    with pytest.raises(services.PlanError, match="only its trainer"):
        services.save_plan(plan, plan_values(plan), areas, other_manager, NOW, "typo")
    with pytest.raises(services.PlanError, match="give a reason"):
        services.save_plan(plan, plan_values(plan), areas, team.trainer, NOW, "  ")
    db.session.rollback()
    services.save_plan(plan, plan_values(plan), areas, team.trainer, NOW, "The aid's label was copied wrong")
    db.session.commit()
    assert plan.areas[0].aid == "Aid B-7"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "planned_session",
                                                       AuditEntry.action == "revise"))
    assert entry.reason == "The aid's label was copied wrong"
    assert entry.changes["before"]["areas"][0]["aid"] is None and entry.changes["after"]["areas"][0]["aid"] == "Aid B-7"


def test_a_closed_plan_never_changes(team):
    plan = make_plan(team.dog, team.handler, team.trainer, areas=[area("A", outcome="no_alert")])
    services.close(plan, team.trainer, NOW, 30)
    with pytest.raises(services.PlanError, match="closed"):
        services.save_plan(plan, plan_values(plan), [], team.trainer, NOW, "reason")


def test_closing_counts_in_the_training_figures(team):
    from esd.reports import metrics
    plan = make_plan(team.dog, team.handler, team.trainer, areas=[
        area("A", "USB drive", "Book", "alert", "Book"), area("B", "USB drive", "Book", "no_alert"),
        area("C", outcome="alert", alert_spot="Drawer")])
    services.close(plan, team.trainer, NOW, 30)
    db.session.commit()
    totals = metrics.training_totals(metrics.Filters(agency_ids=(team.agency.id,), dog_id=team.dog.id,
                                                     tz=team.agency.timezone))
    assert (totals.hides, totals.found, totals.false_alerts) == (2, 1, 1)
    assert db.session.scalar(select(func.count(Hide.id))) == 2
    assert db.session.scalar(select(func.count(FalseAlert.id))) == 1
