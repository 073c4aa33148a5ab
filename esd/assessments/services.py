"""Planned sessions: who may see the plan, recording outcomes at the site, closing into a training session.

The seal is a rule of who reads what: `may_see_plan` is the one answer, used by every page of this
area; nothing else in the application reads a plan before it is closed (a plan is not a training
session until then).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import abort
from sqlalchemy import func, select, update

from ..audit import audit_reason, record_event
from ..extensions import db
from ..models import AssessmentStandard, Dog, PlannedArea, PlannedSession, TrainingSession, User, VocabularyTerm
from ..models.assessments import AREA_OUTCOMES
from ..models.training import MAX_DURATION_MINUTES, MAX_SECONDS_TO_FIND
from ..parsing import MAX_ID
from ..roles import is_trainer  # the one rule of who is a trainer (managers, handlers given the right)
from ..scoping import require_manage, scope_clause, scoped_get_or_404
from ..training import forms as training_forms
from ..training import services as training_services
from ..training.forms import PayloadError
from . import comparison, standard

MAX_AREAS = 40
MAX_REASON = 1000
RECORD_SKEW = timedelta(minutes=5)  # a tablet's clock may run a little ahead
RECORD_WINDOW = timedelta(days=7)  # an outcome queued offline is uploaded within a week


class PlanError(Exception):
    """A request about a plan that cannot be done: `message` says why, `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 422, field: str | None = None):
        super().__init__(message)
        self.message, self.status, self.field = message, status, field


# ---------------------------------------------------------------- who may do what

def _is_handler_of(user: User, plan: PlannedSession) -> bool:
    return user.handler is not None and user.handler.id == plan.handler_id


def may_see_plan(user: User, plan: PlannedSession) -> bool:
    """What was placed where: anyone in scope once closed; before, a trainer who is neither its
    handler nor its observer (in a double-blind session nobody present may know)."""
    if plan.is_closed:
        return True
    return (is_trainer(user, plan.agency_id) and user.id != plan.observer_id
            and not _is_handler_of(user, plan))


def may_record(user: User, plan: PlannedSession) -> bool:
    """The observer records; the handler or a trainer too, unless the session is double-blind."""
    if plan.is_closed:
        return False
    if plan.observer_id is not None and user.id == plan.observer_id:
        return True
    if plan.blindness == "double_blind":
        return False
    return _is_handler_of(user, plan) or is_trainer(user, plan.agency_id)


def may_edit_plan(user: User, plan: PlannedSession) -> bool:
    """A trainer edits a plan before it starts; after, only its own trainer (with a reason); never once closed."""
    if plan.is_closed or not is_trainer(user, plan.agency_id):
        return False
    return not plan.is_started or user.id == plan.trainer_id


# ---------------------------------------------------------------- lists

def plans_in_scope(agency_ids: list[int] | None, limit: int = 200) -> list[PlannedSession]:
    stmt = select(PlannedSession).order_by(PlannedSession.planned_on.desc(), PlannedSession.id.desc()).limit(limit)
    clause = scope_clause(PlannedSession, agency_ids)
    return list(db.session.scalars(stmt if clause is None else stmt.where(clause)))


def standards_in_scope(agency_ids: list[int] | None, include_archived: bool = False) -> list[AssessmentStandard]:
    stmt = select(AssessmentStandard).order_by(AssessmentStandard.name)
    if not include_archived:
        stmt = stmt.where(AssessmentStandard.archived_at.is_(None))
    clause = scope_clause(AssessmentStandard, agency_ids)
    return list(db.session.scalars(stmt if clause is None else stmt.where(clause)))


def area_count(plan: PlannedSession) -> int:
    return len(plan.areas)


# ---------------------------------------------------------------- writing a plan

PLAN_FIELDS = ("dog_id", "handler_id", "planned_on", "location", "environment_id", "purpose", "blindness",
               "placed_by", "observer_id", "knew", "kind", "evaluator", "standard_id", "notes")
AREA_FIELDS = ("label", "environment_id", "device_type_id", "hiding_spot_id", "height", "concealment", "aid",
               "placed_by", "placed_at")


def snapshot(plan: PlannedSession) -> dict:
    """The plan as plain data (kept whole in the audit entry of a change after the start)."""
    def plain(value):
        return value.isoformat() if isinstance(value, (date, datetime)) else value
    return {**{name: plain(getattr(plan, name)) for name in PLAN_FIELDS},
            "areas": [{name: plain(getattr(a, name)) for name in AREA_FIELDS} for a in plan.areas]}


def save_plan(plan: PlannedSession, values: dict, areas: list[dict], user: User, now: datetime,
              reason: str | None = None) -> PlannedSession:
    """Write a new or changed plan from validated values (the caller commits).

    Raises PlanError when it may not change: closed, or started and no reason given.
    """
    new = plan.id is None
    reason = (reason or "").strip() or None
    if not new:
        if plan.is_closed:
            raise PlanError("This session is closed: its plan can no longer change.", 409)
        if plan.is_started:
            if user.id != plan.trainer_id and user.role != "admin":
                raise PlanError("The session has started: only its trainer may change the plan.", 403)
            if not reason:
                raise PlanError("The session has started: give a reason for changing its plan.", field="reason")
            if len(reason) > MAX_REASON:
                raise PlanError(f"At most {MAX_REASON} characters.", field="reason")
    if plan.is_started and any(a.outcome is not None for a in plan.areas) and len(areas) < len(plan.areas):
        raise PlanError("Areas with a recorded outcome cannot be removed.", 409, field="areas")
    before = None if new else snapshot(plan)
    dog = db.session.get(Dog, values["dog_id"])
    plan.agency_id = dog.agency_id
    for name in PLAN_FIELDS:
        setattr(plan, name, values[name])
    if values.get("standard_id"):
        plan.certifying_body_id = db.session.get(AssessmentStandard, values["standard_id"]).certifying_body_id
    else:
        plan.certifying_body_id = None
    if new:
        plan.trainer_id = user.id
        db.session.add(plan)
    for position, area_values in enumerate(areas):
        if position < len(plan.areas):
            area = plan.areas[position]
        else:
            area = PlannedArea(position=position)
            plan.areas.append(area)
        for name in AREA_FIELDS:
            setattr(area, name, area_values.get(name))
    for area in list(plan.areas[len(areas):]):
        db.session.delete(area)
    if before is not None and plan.is_started:
        audit_reason(reason)
        db.session.flush()
        db.session.expire(plan, ["areas"])
        record_event("revise", "planned_session", plan.id, user_id=user.id, agency_id=plan.agency_id,
                     changes={"before": before, "after": snapshot(plan)}, reason=reason)
    db.session.flush()
    return plan


# ---------------------------------------------------------------- at the site

def start(plan: PlannedSession, user: User, now: datetime) -> None:
    """Mark the session started (the first outcome does it too): from now the plan is locked."""
    if not may_record(user, plan):
        raise PlanError("You may not record this session.", 404)
    plan.started_at = plan.started_at or now


@dataclass
class OutcomeInput:
    outcome: str
    alert_spot_id: int | None
    alert_note: str | None
    seconds_to_find: int | None
    recorded_at: datetime


def read_outcome(data, now: datetime) -> OutcomeInput:
    """Read an outcome body ({"outcome": "alert"|"no_alert", "alert_spot_id", "alert_note", "seconds_to_find",
    "recorded_at"}). Raises PlanError (400/422) saying which field is wrong."""
    if not isinstance(data, dict):
        raise PlanError("The body must be a JSON object.", 400)
    unknown = set(data) - {"outcome", "alert_spot_id", "alert_note", "seconds_to_find", "recorded_at"}
    if unknown:
        raise PlanError(f"Unknown field: {sorted(map(str, unknown))[0][:40]}.", 422, sorted(map(str, unknown))[0][:40])
    outcome = data.get("outcome")
    if outcome not in AREA_OUTCOMES:
        raise PlanError("Choose the outcome: alert or no alert.", field="outcome")
    spot = _whole(data.get("alert_spot_id"), "alert_spot_id", "Choose where the dog alerted.", 1, MAX_ID)
    if outcome == "alert":
        term = db.session.get(VocabularyTerm, spot) if spot is not None else None
        if term is None or term.kind != "hiding_spot" or not term.active:
            raise PlanError("Choose where the dog alerted.", field="alert_spot_id")
    else:
        spot = None
    note = data.get("alert_note")
    if note is not None and not isinstance(note, str):
        raise PlanError("The note must be text.", field="alert_note")
    note = (note or "").strip() or None
    if note and (len(note) > 200 or "\x00" in note):
        raise PlanError("The note: at most 200 characters, no control characters.", field="alert_note")
    seconds = _whole(data.get("seconds_to_find"), "seconds_to_find",
                     f"Seconds to find must be from 0 to {MAX_SECONDS_TO_FIND} (2 hours).", 0, MAX_SECONDS_TO_FIND)
    if outcome != "alert":
        seconds = None
    recorded_at = now
    raw = data.get("recorded_at")
    if raw:
        try:
            moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise PlanError("The time recorded must be an ISO date and time.", field="recorded_at") from None
        if moment.tzinfo is not None and now - RECORD_WINDOW <= moment <= now + RECORD_SKEW:
            recorded_at = min(moment, now)
    return OutcomeInput(outcome, spot, note if outcome == "alert" else None, seconds, recorded_at)


def _whole(value, field: str, message: str, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PlanError(message, field=field)
    text = str(value).strip()
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 18:
        raise PlanError(message, field=field)
    number = int(text)
    if not low <= number <= high:
        raise PlanError(message, field=field)
    return number


def record_outcome(plan: PlannedSession, area_id: int, data, user: User, now: datetime) -> tuple[PlannedArea, bool]:
    """Record one area's outcome; return the area and whether it was new (an identical retry is not).

    Raises PlanError: 404 for an area not in this session (or a user who may not record it),
    409 for a closed session or an area that already has a different outcome, 422 for a bad value.
    """
    if not may_record(user, plan):
        raise PlanError("You may not record this session.", 404)
    area = next((a for a in plan.areas if a.id == area_id), None)
    if area is None:
        raise PlanError(f"This session has no area {area_id}.", 404, "area")
    given = read_outcome(data, now)
    if area.outcome is None:
        # Only if still empty: two tablets recording one area at once cannot both win.
        done = db.session.execute(
            update(PlannedArea).where(PlannedArea.id == area.id, PlannedArea.outcome.is_(None)).values(
                outcome=given.outcome, alert_spot_id=given.alert_spot_id, alert_note=given.alert_note,
                seconds_to_find=given.seconds_to_find, recorded_by_id=user.id, recorded_at=given.recorded_at)
            .execution_options(synchronize_session=False)).rowcount
        db.session.expire(area)
        if done:
            record_event("record_outcome", "planned_area", area.id, user_id=user.id, agency_id=plan.agency_id,
                         changes={"outcome": [None, given.outcome], "alert_spot_id": [None, given.alert_spot_id],
                                  "seconds_to_find": [None, given.seconds_to_find]})
            if plan.started_at is None or plan.started_at > given.recorded_at:
                plan.started_at = given.recorded_at
            db.session.flush()
            return area, True
    same = (area.outcome, area.alert_spot_id, area.alert_note, area.seconds_to_find) == (
        given.outcome, given.alert_spot_id, given.alert_note, given.seconds_to_find)
    if same:
        return area, False
    raise PlanError(f"“{area.label}” already has an outcome ({area.outcome.replace('_', ' ')}); "
                    "a second one is not recorded.", 409, "area")


# ---------------------------------------------------------------- closing

def compare_plan(plan: PlannedSession) -> comparison.Comparison:
    return comparison.compare(plan.areas, plan.environment.name if plan.environment else None)


def judge_plan(plan: PlannedSession, result: comparison.Comparison | None = None) -> list[standard.Criterion]:
    """The assessment's criteria against its standard (raises standard.NoStandard without one)."""
    return standard.judge(result or compare_plan(plan), plan.standard)


def _aid_set_minutes(area: PlannedArea, started_at: datetime) -> int | None:
    if area.placed_at is None or area.placed_at > started_at:
        return None
    return min(int((started_at - area.placed_at).total_seconds() // 60), training_forms.MAX_AID_SET_MINUTES)


def training_body(plan: PlannedSession, result: comparison.Comparison, duration_minutes: int) -> dict:
    """The closed plan as a training session body, in the one schema every session is read through."""
    started = plan.started_at
    local = started.astimezone(training_services.agency_tz(plan.dog.agency))
    hides, false_alerts = [], []
    for area, outcome in result.verdicts:
        if area.device_type_id is not None:
            hides.append({"device_type_id": area.device_type_id, "hiding_spot_id": area.hiding_spot_id,
                          "height": area.height, "concealment": area.concealment,
                          "aid_set_minutes": _aid_set_minutes(area, started),
                          "blind": plan.blindness != "known",
                          "outcome": "found" if outcome == comparison.FOUND else "missed",
                          "seconds_to_find": area.seconds_to_find if outcome == comparison.FOUND else None})
        if outcome in (comparison.FALSE_ALERT, comparison.MISSED_AND_FALSE):
            where = "negative area" if outcome == comparison.FALSE_ALERT else "away from the aid"
            false_alerts.append({"hiding_spot_id": area.alert_spot_id, "location_note": area.label,
                                 "note": f"Alert in {where} ({plan.blindness.replace('_', '-')} planned session)"
                                         + (f": {area.alert_note}" if area.alert_note else "")})
    negatives = sum(1 for a in plan.areas if a.device_type_id is None)
    kind = "" if plan.kind == "training" else f" {plan.kind} assessment"
    notes = f"Planned{kind} session, {plan.blindness.replace('_', '-')}: {len(plan.areas)} areas, " \
            f"{negatives} negative." + (f"\n{plan.notes}" if plan.notes else "")
    return {"dog_id": plan.dog_id, "handler_id": plan.handler_id, "started_at": local.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": duration_minutes, "location": plan.location, "environment_id": plan.environment_id,
            "purpose": plan.purpose, "blank_areas": negatives, "notes": notes[:training_forms.MAX_NOTES],
            "hides": hides, "false_alerts": false_alerts}


def close(plan: PlannedSession, user: User, now: datetime, duration_minutes) -> TrainingSession:
    """Reveal and compare the plan, and write it as a training session (the caller commits).

    Raises PlanError when an area has no outcome yet, the duration is out of bounds, an assessment has
    no standard, or the training rules refuse the session; nothing is written then.
    """
    if plan.is_closed:
        raise PlanError("This session is already closed.", 409)
    if not is_trainer(user, plan.agency_id):
        raise PlanError("Only a trainer closes a planned session.", 404)
    if not plan.areas:
        raise PlanError("This plan has no areas.", 409)
    duration = _whole(duration_minutes, "duration_minutes",
                      f"Enter a duration from 1 to {MAX_DURATION_MINUTES} minutes.", 1, MAX_DURATION_MINUTES)
    if duration is None:
        raise PlanError(f"Enter a duration from 1 to {MAX_DURATION_MINUTES} minutes.", field="duration_minutes")
    result = compare_plan(plan)
    if result.unrecorded:
        names = ", ".join(a.label for a in result.unrecorded[:5])
        raise PlanError(f"Record every area's outcome before closing: {len(result.unrecorded)} "
                        f"without one ({names}).", 409)
    criteria = None
    if plan.is_assessment:
        try:
            criteria = judge_plan(plan, result)
        except standard.NoStandard as error:
            raise PlanError(str(error), 409, "standard_id") from None
    try:
        clean = training_services.load_session(training_body(plan, result, duration), user, now)
    except PayloadError as error:
        raise PlanError("The session cannot be saved: " + "; ".join(
            f"{e['field']}: {e['error']}" for e in error.errors), 422) from None
    session = training_services.create_session(clean, user)
    plan.training_session_id = session.id
    plan.closed_at, plan.closed_by_id = now, user.id
    if criteria is not None:
        plan.result = "pass" if standard.passed(criteria) else "fail"
        plan.criteria = standard.as_record(criteria)
    db.session.flush()
    return session


def default_duration(plan: PlannedSession, now: datetime) -> int:
    """Minutes from the start to now, within the bounds a session allows."""
    if plan.started_at is None:
        return 60
    return max(1, min(MAX_DURATION_MINUTES, int((now - plan.started_at).total_seconds() // 60)))


def certification_prefill(plan: PlannedSession) -> dict:
    """The certification form's values from a passed assessment."""
    result = compare_plan(plan)
    return {"dog_id": plan.dog_id, "handler_id": plan.handler_id, "certifying_body_id": plan.certifying_body_id,
            "evaluator": plan.evaluator, "result": "pass", "score_finds": result.total.found,
            "score_hides": result.total.hides, "score_false_alerts": result.total.false_alerts,
            "issued_on": plan.closed_at.astimezone(training_services.agency_tz(plan.dog.agency)).date(),
            "notes": f"From {plan.kind} assessment #{plan.id} against “{plan.standard.name}” "
                     f"({plan.blindness.replace('_', '-')})."}


def open_count(agency_ids: list[int] | None) -> int:
    stmt = select(func.count(PlannedSession.id)).where(PlannedSession.closed_at.is_(None))
    clause = scope_clause(PlannedSession, agency_ids)
    return db.session.scalar(stmt if clause is None else stmt.where(clause)) or 0


def passed_assessment_or_404(plan_id: int, prefill: bool = False):
    """A passed assessment the user may record a certification from (or the form's values from it).

    Raises NotFound (404) when it is not in scope, not closed, not passed or the user may not manage it.
    """
    plan = scoped_get_or_404(PlannedSession, plan_id)
    require_manage(plan.agency_id)
    if not plan.is_closed or plan.result != "pass":
        abort(404)
    return certification_prefill(plan) if prefill else plan


def dog_section(dog: Dog, today: date, user: User) -> dict:
    """The dog page's section: its open plans (the areas only: sealed) and its latest assessments' results."""
    plans = list(db.session.scalars(select(PlannedSession).where(PlannedSession.dog_id == dog.id).order_by(
        PlannedSession.planned_on.desc(), PlannedSession.id.desc()).limit(20)))
    return {"open": [p for p in plans if not p.is_closed],
            "assessments": [p for p in plans if p.is_closed and p.is_assessment][:5],
            "can_plan": is_trainer(user, dog.agency_id) and not _works(user, dog, today)}


def _works(user: User, dog: Dog, today: date) -> bool:
    """Whether the user is the dog's handler today (a trainer does not plan a session they would handle)."""
    team = dog.current_team(today) if user.handler is not None else None
    return team is not None and team.handler_id == user.handler.id
