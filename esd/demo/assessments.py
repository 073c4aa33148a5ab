"""Demo planned sessions and assessments: standards for two task forces, a double-blind training session,
Josie's failed certification evaluation and its passed re-test, a passed proficiency check, and one
double-blind session planned for today and still sealed (its observer records it on the tablet).

Written through the assessments and training services (a closed plan becomes a training session by the
same rules as any other), after the bulk writer, so rollups rebuilt afterwards count them.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ..assessments import services
from ..dates import zone
from ..extensions import db
from ..models import (Agency, AssessmentStandard, Dog, PlannedArea, PlannedSession, TeamAssignment, User,
                      VocabularyTerm)

ROOMS = ("Bedroom 2 (north)", "Kitchen", "Home office", "Garage workbench", "Living room", "Hallway closet",
         "Bathroom", "Vehicle 1 (sedan)", "Laundry room", "Basement storage")


def _term(kind: str, name: str) -> int:
    return db.session.scalar(select(VocabularyTerm.id).where(VocabularyTerm.kind == kind, VocabularyTerm.name == name))


def _dog(name: str) -> Dog | None:
    return db.session.scalar(select(Dog).where(Dog.name == name))


def _manager(agency: Agency) -> User:
    return db.session.scalar(select(User).where(User.agency_id == agency.id, User.role == "manager").order_by(User.id))


def _plan(dog: Dog, trainer: User, day: date, areas: list[tuple], *, blindness="double_blind", kind="training",
          standard: AssessmentStandard | None = None, observer: User | None = None, placed_by: str,
          evaluator: str | None = None, environment: str = "Residence", hour: int = 10,
          today: date) -> PlannedSession:
    """A plan on `day`; each area is (label, device, spot, alert spot or None, seconds) or (label, None, None,
    alert spot or None) for a negative area. Outcomes are recorded when the day is past."""
    tz = zone(dog.agency.timezone)
    team = db.session.scalar(select(TeamAssignment).where(TeamAssignment.dog_id == dog.id,
                                                          TeamAssignment.ends_on.is_(None)))
    start = datetime.combine(day, time(hour), tz)
    plan = PlannedSession(agency_id=dog.agency_id, dog_id=dog.id, handler_id=team.handler_id, trainer_id=trainer.id,
                          planned_on=day, location="Training house, 1400 block", blindness=blindness, kind=kind,
                          environment_id=_term("environment", environment),
                          purpose="proficiency" if kind != "training" else "maintenance", placed_by=placed_by,
                          observer_id=observer.id if observer else None, evaluator=evaluator,
                          standard_id=standard.id if standard else None,
                          certifying_body_id=standard.certifying_body_id if standard else None,
                          knew=f"{placed_by} (left before the search)" if blindness == "double_blind" else None)
    recorded = observer or trainer
    for position, (label, device, spot, alert, *rest) in enumerate(areas):
        area = PlannedArea(position=position, label=label, placed_by=placed_by if device else None,
                           placed_at=start - timedelta(minutes=45) if device else None,
                           device_type_id=_term("device_type", device) if device else None,
                           hiding_spot_id=_term("hiding_spot", spot) if spot else None,
                           height="low" if device else None, concealment="concealed" if device else None,
                           aid=f"Aid {chr(65 + position)}-{day.day:02d}" if device else None)
        if day < today:
            area.outcome = "alert" if alert else "no_alert"
            area.alert_spot_id = _term("hiding_spot", alert) if alert else None
            area.seconds_to_find = rest[0] if alert and rest else None
            area.recorded_by_id, area.recorded_at = recorded.id, start + timedelta(minutes=5 * (position + 1))
        plan.areas.append(area)
    db.session.add(plan)
    db.session.flush()
    if day < today:
        plan.started_at = start
        services.close(plan, trainer, start + timedelta(hours=2), 50)
    return plan


def seed_assessments(today: date) -> int:
    """Add the demo's plans and assessments; return how many plans were written (0 without the demo dogs)."""
    josie, tilly, ruger, bella = (_dog(n) for n in ("Josie", "Tilly", "Ruger", "Bella"))
    if not all((josie, tilly, ruger, bella)):
        return 0
    plains, cascade = josie.agency, tilly.agency
    nndda = AssessmentStandard(agency_id=plains.id, certifying_body_id=_term("certifying_body", "NNDDA"),
                               name="NNDDA ESD annual certification", min_find_rate_percent=90, max_misses=1,
                               max_false_responses=1, negative_search_required=True)
    napwda = AssessmentStandard(agency_id=cascade.id, certifying_body_id=_term("certifying_body", "NAPWDA"),
                                name="NAPWDA ESD proficiency", min_find_rate_percent=90, max_misses=1,
                                max_false_responses=1, negative_search_required=True)
    db.session.add_all([nndda, napwda])
    db.session.flush()
    harris, cole = _manager(plains), _manager(cascade)
    observer = db.session.scalar(select(User).where(User.agency_id == cascade.id, User.role == "handler",
                                                    User.name == "Kelsey Tran"))
    r = ROOMS
    plans = [
        _plan(tilly, cole, today - timedelta(days=40), today=today, placed_by="Cpl. Dale Yates", observer=observer, areas=[
            (r[0], "microSD card", "Book", "Book", 48), (r[1], "USB drive", "Appliance", "Appliance", 95),
            (r[2], "SIM card", "Electrical outlet", None), (r[3], "SD card", "Container", "Container", 61),
            (r[4], None, None, "Furniture"), (r[5], None, None, None), (r[6], "Phone", "Drawer", "Drawer", 33)]),
        # Josie's certification: two aids missed in the residence, so it fails; the re-test two weeks later passes.
        _plan(josie, harris, today - timedelta(days=30), kind="certification", standard=nndda, today=today,
              placed_by="NNDDA evaluator's assistant", evaluator="R. Delgado (NNDDA)", areas=[
                  (r[0], "USB drive", "Book", "Book", 40), (r[1], "microSD card", "Appliance", None),
                  (r[2], "SIM card", "Electrical outlet", "Electrical outlet", 72), (r[3], "SD card", "Container", None),
                  (r[4], "Phone", "Furniture", "Furniture", 25), (r[5], None, None, None),
                  (r[6], "Hard drive", "Drawer", "Drawer", 58), (r[8], "USB drive", "Clothing", "Clothing", 44)]),
        _plan(josie, harris, today - timedelta(days=16), kind="certification", standard=nndda, today=today,
              placed_by="NNDDA evaluator's assistant", evaluator="R. Delgado (NNDDA)", areas=[
                  (r[0], "USB drive", "Bedding", "Bedding", 37), (r[1], "microSD card", "Appliance", "Appliance", 81),
                  (r[2], "SIM card", "Book", "Book", 52), (r[3], "SD card", "Container", "Container", 64),
                  (r[4], None, None, None), (r[5], "Phone", "Clothing", "Clothing", 29),
                  (r[6], "Hard drive", "Drawer", "Drawer", 46), (r[8], None, None, None),
                  (r[9], "USB drive", "Floorboard", "Floorboard", 118)]),
        _plan(ruger, cole, today - timedelta(days=10), kind="proficiency", standard=napwda, blindness="single_blind", today=today,
              placed_by="Lt. Sarah Cole", evaluator="Lt. Sarah Cole", environment="Vehicle", areas=[
                  ("Vehicle 1 (sedan), trunk", "USB drive", "Vehicle", "Vehicle", 55),
                  ("Vehicle 2 (pickup), cab", "microSD card", "Vehicle", "Vehicle", 70),
                  ("Vehicle 3 (van)", None, None, None), ("Vehicle 4 (SUV)", "Phone", "Vehicle", "Vehicle", 41)]),
        # Planned for today and still sealed: Kelsey Tran observes and records on the tablet.
        _plan(bella, cole, today, today=today, placed_by="Cpl. Dale Yates", observer=observer, areas=[
            (r[0], "microSD card", "Hollowed coin", None), (r[1], None, None, None),
            (r[2], "USB drive", "Light fixture", None), (r[4], "SIM card", "Toy", None), (r[7], None, None, None)]),
    ]
    db.session.flush()
    return len(plans)
