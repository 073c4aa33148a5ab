"""Builders for planned sessions, their areas and standards (tests of the assessments area)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from esd.extensions import db
from esd.models import AssessmentStandard, PlannedArea, PlannedSession
from tests.helpers import term


def make_standard(agency, **overrides) -> AssessmentStandard:
    values = dict(agency_id=agency.id, certifying_body_id=term("certifying_body", "NNDDA").id,
                  name="NNDDA ESD annual", min_find_rate_percent=90, max_misses=1, max_false_responses=1,
                  negative_search_required=True)
    values.update(overrides)
    standard = AssessmentStandard(**values)
    db.session.add(standard)
    db.session.flush()
    return standard


def area(label: str, device: str | None = None, spot: str | None = None, outcome: str | None = None,
         alert_spot: str | None = None, environment: str | None = None, **extra) -> dict:
    """An area spec: a hide when `device` is given (spot defaults to "Book"), else a negative area."""
    return dict(label=label, device=device, spot=spot or ("Book" if device else None), outcome=outcome,
                alert_spot=alert_spot, environment=environment, **extra)


def make_plan(dog, handler, trainer, areas=(), **overrides) -> PlannedSession:
    """A planned session of `areas` (specs from `area`); outcomes given are stored as recorded."""
    values = dict(agency_id=dog.agency_id, dog_id=dog.id, handler_id=handler.id, trainer_id=trainer.id,
                  planned_on=date(2026, 3, 10), blindness="double_blind", kind="training", purpose="proficiency",
                  location="Old county school", environment_id=term("environment", "School").id)
    values.update(overrides)
    plan = PlannedSession(**values)
    for position, spec in enumerate(areas):
        spec = dict(spec)
        device, spot, alert_spot, environment = (spec.pop(k) for k in ("device", "spot", "alert_spot", "environment"))
        if spec.get("outcome"):
            spec.setdefault("recorded_at", datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc))
        plan.areas.append(PlannedArea(
            position=position, device_type_id=term("device_type", device).id if device else None,
            hiding_spot_id=term("hiding_spot", spot).id if spot else None,
            alert_spot_id=term("hiding_spot", alert_spot).id if alert_spot else None,
            environment_id=term("environment", environment).id if environment else None, **spec))
    if any(a.outcome for a in plan.areas) and plan.started_at is None:
        plan.started_at = datetime(2026, 3, 10, 14, 30, tzinfo=timezone.utc)
    db.session.add(plan)
    db.session.flush()
    return plan
