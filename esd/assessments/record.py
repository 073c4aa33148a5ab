"""The reliability record's section on blind and known performance and on assessments.

Blind versus known hides side by side with their intervals, the planned sessions by blindness with
their negative searches and false alerts, and every assessment up to the as-of date with its result.
Only closed plans count: an open plan is sealed and not yet part of any record. Counts are summed
in SQL; the packet's digest covers the rows these are built from (`source_rows`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from ..exports.pdf import Grid, Heading, Text
from ..extensions import db
from ..models import AssessmentStandard, Dog, FalseAlert, Hide, PlannedArea, PlannedSession, TrainingSession
from ..rates import Rate, rate_text
from .comparison import compare


@dataclass
class PerformanceRow:
    label: str
    rate: Rate
    false_alerts: int | None
    negatives: int | None


@dataclass
class AssessmentRow:
    plan: PlannedSession
    found: int
    hides: int
    missed: int
    false_alerts: int
    negatives: int


@dataclass
class AssessmentRecord:
    performance: list[PerformanceRow]
    assessments: list[AssessmentRow]


def _closed_plans(dog: Dog, end_utc: datetime):
    """Ids of the dog's closed plans whose session started before `end_utc`."""
    return (select(PlannedSession.id).join(TrainingSession, PlannedSession.training_session_id == TrainingSession.id)
            .where(PlannedSession.dog_id == dog.id, PlannedSession.closed_at.is_not(None),
                   TrainingSession.started_at < end_utc))


def source_rows(dog: Dog, end_utc: datetime) -> dict[str, list[dict]]:
    """The closed plans, their areas and standards the section is built from (for the packet's digest)."""
    plans = _closed_plans(dog, end_utc)

    def rows(model, *where):
        table = model.__table__
        return [dict(r._mapping) for r in db.session.execute(select(table).where(*where).order_by(table.c.id))]
    return {"planned_session": rows(PlannedSession, PlannedSession.id.in_(plans)),
            "planned_area": rows(PlannedArea, PlannedArea.session_id.in_(plans)),
            "assessment_standard": rows(AssessmentStandard, AssessmentStandard.id.in_(
                select(PlannedSession.standard_id).where(PlannedSession.id.in_(plans))))}


def performance(dog: Dog, start_utc: datetime, end_utc: datetime) -> list[PerformanceRow]:
    """Known and blind hides, then the closed planned sessions by blindness, in [start_utc, end_utc)."""
    window = (TrainingSession.dog_id == dog.id, TrainingSession.archived_at.is_(None),
              TrainingSession.started_at >= start_utc, TrainingSession.started_at < end_utc)
    found = func.sum(case((Hide.outcome == "found", 1), else_=0))
    by_flag = {bool(blind): (int(f or 0), n) for blind, n, f in db.session.execute(
        select(Hide.blind, func.count(Hide.id), found).join(TrainingSession, Hide.session_id == TrainingSession.id)
        .where(*window).group_by(Hide.blind))}
    rows = [PerformanceRow("Known to the handler (all sessions)", Rate(*by_flag.get(False, (0, 0))), None, None),
            PerformanceRow("Blind to the handler (all sessions)", Rate(*by_flag.get(True, (0, 0))), None, None)]
    planned = (select(PlannedSession.blindness.label("blindness"), TrainingSession.id.label("session_id"),
                      TrainingSession.blank_areas.label("blanks"))
               .join(TrainingSession, PlannedSession.training_session_id == TrainingSession.id)
               .where(*window).subquery())
    hides = {b: (int(f or 0), n) for b, n, f in db.session.execute(
        select(planned.c.blindness, func.count(Hide.id), found).join(Hide, Hide.session_id == planned.c.session_id)
        .group_by(planned.c.blindness))}
    alerts = dict(db.session.execute(
        select(planned.c.blindness, func.count(FalseAlert.id))
        .join(FalseAlert, FalseAlert.session_id == planned.c.session_id).group_by(planned.c.blindness)).all())
    blanks = {b: int(s or 0) for b, s in db.session.execute(
        select(planned.c.blindness, func.sum(planned.c.blanks)).group_by(planned.c.blindness))}
    for blindness, label in (("known", "Planned, known"), ("single_blind", "Planned, single-blind"),
                             ("double_blind", "Planned, double-blind")):
        if blindness in blanks:
            rows.append(PerformanceRow(label, Rate(*hides.get(blindness, (0, 0))), alerts.get(blindness, 0),
                                       blanks[blindness]))
    return rows


def build(dog: Dog, start_utc: datetime, end_utc: datetime) -> AssessmentRecord:
    """The section's figures: performance over the window, every assessment up to its end."""
    plans = list(db.session.scalars(select(PlannedSession).where(
        PlannedSession.id.in_(_closed_plans(dog, end_utc)), PlannedSession.kind != "training")
        .order_by(PlannedSession.planned_on, PlannedSession.id)))
    assessments = []
    for plan in plans:
        total = compare(plan.areas).total
        assessments.append(AssessmentRow(plan, total.found, total.hides, total.missed, total.false_alerts,
                                         total.negatives))
    return AssessmentRecord(performance(dog, start_utc, end_utc), assessments)


def blocks(record: AssessmentRecord | None) -> list:
    """The section as document blocks (the record page and its PDF)."""
    if record is None:
        return []
    return [
        Heading("Blind and known performance (12 months)"),
        Grid(["Hides", "Count", "Found", "Find rate (95% CI)", "False alerts", "Negative areas searched"],
             [[r.label, r.rate.n, r.rate.found, rate_text(r.rate, 1),
               "–" if r.false_alerts is None else r.false_alerts, "–" if r.negatives is None else r.negatives]
              for r in record.performance],
             caption="Blind: the handler did not know where the aids were. Planned sessions were set by a trainer "
                     "and sealed from the handler until closed; in a double-blind one nobody present knew."),
        Heading("Assessments", 2),
        Grid(["Date", "Kind", "Standard", "Blindness", "Evaluator", "Found", "Missed", "False alerts",
              "Negative areas", "Result", "Criteria not met"],
             [[a.plan.planned_on, a.plan.kind, f"{a.plan.standard.name} ({a.plan.standard.certifying_body.name})",
               a.plan.blindness.replace("_", "-"), a.plan.evaluator or "", f"{a.found} of {a.hides}", a.missed,
               a.false_alerts, a.negatives, a.plan.result or "",
               "; ".join(f"{c['name']}: {c['actual']} (required {c['required']})"
                         for c in (a.plan.criteria or []) if not c["met"]) or "none"]
              for a in record.assessments],
             caption="Every proficiency and certification assessment up to the as-of date, judged against the "
                     "standard named, with its negative searches and false alerts.",
             empty="No assessments up to the as-of date."),
        Text("False alerts here include alerts in negative areas (nothing placed) and alerts away from the aid "
             "in an area with a hide."),
    ]
