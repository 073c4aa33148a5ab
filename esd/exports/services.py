"""CSV exports of every record kind, limited to the user's agencies and a date range.

Cells are written by esd/spreadsheets.py, so a spreadsheet opens them safely (a formula is shown,
never evaluated).
Dates are ISO 8601 (spreadsheets recognise them). Each timestamp comes twice: in the record's agency
time zone with its abbreviation (`…_local`, "2026-11-30 19:30:00 PST") and in UTC (`…_utc`); a date
range is read in each agency's own zone, like every period in the app.
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable, Iterator

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import aliased

from .. import spreadsheets
from ..agency_day import local_days_clause
from ..dates import format_local
from ..extensions import db
from ..models import (Agency, AssessmentStandard, CaseOutcome, Certification, Deployment, Dog, FalseAlert, FieldAlert, Find, Handler, Hide,
                      PlannedArea, PlannedSession, TeamAssignment, TrainingSession, User, VocabularyTerm)
from ..models.outcomes import OUTCOME_COUNTS
from ..scoping import scope_clause

LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"


def cell(value):
    """Write a database value as the export shows it: yes/no, ISO dates, UTC timestamps."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        # Microseconds only when there are some: a round trip through an import keeps the instant exact.
        moment = value.astimezone(timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f" if moment.microsecond else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)  # an assessment's criteria, as kept
    return value


@dataclass(frozen=True)
class DateRange:
    start: date | None = None
    end: date | None = None


def _between(column, dates: DateRange):
    """A date column inside the range (inclusive)."""
    clauses = []
    if dates.start:
        clauses.append(column >= dates.start)
    if dates.end:
        clauses.append(column <= dates.end)
    return and_(*clauses) if clauses else None


def _started_in(stmt: Select, model, agency_ids, dates: DateRange) -> Select:
    """Rows of the user's agencies whose session or deployment (`model`) started on the range's days,
    as its agency counts them."""
    return _scoped(stmt, model, agency_ids,
                   local_days_clause(model.started_at, model.agency_id, agency_ids, dates.start, dates.end))


def _scoped(stmt: Select, model, agency_ids, extra=None) -> Select:
    for clause in (scope_clause(model, agency_ids), extra):
        if clause is not None:
            stmt = stmt.where(clause)
    return stmt


def _dogs(agency_ids, dates):
    stmt = (select(Dog.id, Agency.name.label("agency"), Dog.name, Dog.call_sign, Dog.breed, Dog.sex,
                   Dog.date_of_birth, Dog.microchip_id, Dog.status, Dog.acquired_on, Dog.retired_on,
                   Dog.archived_at.label("archived_at_utc"), Dog.created_at.label("created_at_utc"),
                   Agency.timezone.label("time_zone"))
            .join(Agency, Agency.id == Dog.agency_id).order_by(Dog.id))
    return _scoped(stmt, Dog, agency_ids)


def _handlers(agency_ids, dates):
    stmt = (select(Handler.id, Agency.name.label("agency"), Handler.name, Handler.badge_number,
                   Handler.phone, Handler.email, User.email.label("user"),
                   Handler.archived_at.label("archived_at_utc"), Handler.created_at.label("created_at_utc"),
                   Agency.timezone.label("time_zone"))
            .join(Agency, Agency.id == Handler.agency_id).outerjoin(User, User.id == Handler.user_id)
            .order_by(Handler.id))
    return _scoped(stmt, Handler, agency_ids)


def _teams(agency_ids, dates):
    stmt = (select(TeamAssignment.id, TeamAssignment.dog_id, Dog.name.label("dog"),
                   TeamAssignment.handler_id, Handler.name.label("handler"), TeamAssignment.starts_on,
                   TeamAssignment.ends_on, TeamAssignment.notes, TeamAssignment.created_at.label("created_at_utc"))
            .join(Dog, Dog.id == TeamAssignment.dog_id)
            .join(Handler, Handler.id == TeamAssignment.handler_id).order_by(TeamAssignment.id))
    overlap = []
    if dates.end:
        overlap.append(TeamAssignment.starts_on <= dates.end)
    if dates.start:
        overlap.append(or_(TeamAssignment.ends_on.is_(None), TeamAssignment.ends_on >= dates.start))
    return _scoped(stmt, TeamAssignment, agency_ids, and_(*overlap) if overlap else None)


def _sessions(agency_ids, dates):
    environment, creator, signer = aliased(VocabularyTerm), aliased(User), aliased(User)
    stmt = (select(TrainingSession.id, TrainingSession.started_at.label("started_at_utc"),
                   TrainingSession.dog_id, Dog.name.label("dog"), TrainingSession.handler_id,
                   Handler.name.label("handler"), TrainingSession.duration_minutes,
                   TrainingSession.location, environment.name.label("environment"),
                   TrainingSession.purpose, TrainingSession.temperature_c, TrainingSession.wind,
                   TrainingSession.precipitation, TrainingSession.blank_areas, TrainingSession.notes,
                   TrainingSession.signed_off_at.label("signed_off_at_utc"), signer.email.label("signed_off_by"),
                   TrainingSession.archived_at.label("archived_at_utc"), TrainingSession.client_uuid,
                   creator.email.label("created_by"), TrainingSession.created_at.label("created_at_utc"),
                   TrainingSession.updated_at.label("updated_at_utc"), Agency.timezone.label("time_zone"))
            .join(Agency, Agency.id == TrainingSession.agency_id)
            .join(Dog, Dog.id == TrainingSession.dog_id)
            .join(Handler, Handler.id == TrainingSession.handler_id)
            .outerjoin(environment, environment.id == TrainingSession.environment_id)
            .outerjoin(creator, creator.id == TrainingSession.created_by_id)
            .outerjoin(signer, signer.id == TrainingSession.signed_off_by_id)
            .order_by(TrainingSession.started_at, TrainingSession.id))
    return _started_in(stmt, TrainingSession, agency_ids, dates)


def _hides(agency_ids, dates):
    device, spot = aliased(VocabularyTerm), aliased(VocabularyTerm)
    stmt = (select(Hide.id, Hide.session_id, TrainingSession.started_at.label("session_started_at_utc"),
                   TrainingSession.dog_id, Hide.position, device.name.label("device_type"),
                   spot.name.label("hiding_spot"), Hide.height, Hide.concealment, Hide.aid_set_minutes,
                   Hide.blind, Hide.outcome, Hide.seconds_to_find, Agency.timezone.label("time_zone"))
            .join(TrainingSession, TrainingSession.id == Hide.session_id)
            .join(Agency, Agency.id == TrainingSession.agency_id)
            .join(device, device.id == Hide.device_type_id).join(spot, spot.id == Hide.hiding_spot_id)
            .order_by(Hide.session_id, Hide.position, Hide.id))
    return _started_in(stmt, TrainingSession, agency_ids, dates)


def _false_alerts(agency_ids, dates):
    spot = aliased(VocabularyTerm)
    stmt = (select(FalseAlert.id, FalseAlert.session_id,
                   TrainingSession.started_at.label("session_started_at_utc"), TrainingSession.dog_id,
                   spot.name.label("hiding_spot"), FalseAlert.location_note, FalseAlert.note,
                   Agency.timezone.label("time_zone"))
            .join(TrainingSession, TrainingSession.id == FalseAlert.session_id)
            .join(Agency, Agency.id == TrainingSession.agency_id)
            .outerjoin(spot, spot.id == FalseAlert.hiding_spot_id).order_by(FalseAlert.id))
    return _started_in(stmt, TrainingSession, agency_ids, dates)


def _deployments(agency_ids, dates):
    location, creator = aliased(VocabularyTerm), aliased(User)
    stmt = (select(Deployment.id, Deployment.started_at.label("started_at_utc"), Deployment.dog_id,
                   Dog.name.label("dog"), Deployment.handler_id, Handler.name.label("handler"),
                   Deployment.requesting_agency, Deployment.case_number, Deployment.legal_authority,
                   location.name.label("location_type"), Deployment.duration_minutes,
                   Deployment.notes,
                   Deployment.archived_at.label("archived_at_utc"), creator.email.label("created_by"),
                   Deployment.created_at.label("created_at_utc"), Agency.timezone.label("time_zone"))
            .join(Agency, Agency.id == Deployment.agency_id).outerjoin(creator, creator.id == Deployment.created_by_id)
            .join(Dog, Dog.id == Deployment.dog_id).join(Handler, Handler.id == Deployment.handler_id)
            .outerjoin(location, location.id == Deployment.location_type_id)
            .order_by(Deployment.started_at, Deployment.id))
    return _started_in(stmt, Deployment, agency_ids, dates)


def _finds(agency_ids, dates):
    device, spot = aliased(VocabularyTerm), aliased(VocabularyTerm)
    stmt = (select(Find.id, Find.deployment_id, Deployment.started_at.label("deployment_started_at_utc"),
                   Deployment.dog_id, device.name.label("device_type"), spot.name.label("hiding_spot"),
                   Find.missed_by_human_search, Find.evidence, Find.notes, Agency.timezone.label("time_zone"))
            .join(Deployment, Deployment.id == Find.deployment_id)
            .join(Agency, Agency.id == Deployment.agency_id)
            .join(device, device.id == Find.device_type_id)
            .outerjoin(spot, spot.id == Find.hiding_spot_id).order_by(Find.id))
    return _started_in(stmt, Deployment, agency_ids, dates)


def _outcomes(agency_ids, dates):
    """The case outcome of each deployment (counts only), by the deployment it belongs to."""
    updater = aliased(User)
    stmt = (select(CaseOutcome.id, CaseOutcome.deployment_id,
                   Deployment.started_at.label("deployment_started_at_utc"), Deployment.dog_id,
                   *(getattr(CaseOutcome, c) for c in OUTCOME_COUNTS), updater.email.label("updated_by"),
                   CaseOutcome.updated_at.label("updated_at_utc"), Agency.timezone.label("time_zone"))
            .join(Deployment, Deployment.id == CaseOutcome.deployment_id)
            .join(Agency, Agency.id == Deployment.agency_id)
            .outerjoin(updater, updater.id == CaseOutcome.updated_by_id).order_by(CaseOutcome.id))
    return _started_in(stmt, Deployment, agency_ids, dates)


def _field_alerts(agency_ids, dates):
    """Every alert of the deployments: a confirmed one names its find by the finds export's id."""
    spot = aliased(VocabularyTerm)
    stmt = (select(FieldAlert.id, FieldAlert.deployment_id, Deployment.started_at.label("deployment_started_at_utc"),
                   Deployment.dog_id, spot.name.label("hiding_spot"), FieldAlert.location_note, FieldAlert.outcome,
                   FieldAlert.find_id, FieldAlert.explanation, Agency.timezone.label("time_zone"))
            .join(Deployment, Deployment.id == FieldAlert.deployment_id)
            .join(Agency, Agency.id == Deployment.agency_id)
            .outerjoin(spot, spot.id == FieldAlert.hiding_spot_id).order_by(FieldAlert.id))
    return _started_in(stmt, Deployment, agency_ids, dates)


def _certifications(agency_ids, dates):
    body, creator = aliased(VocabularyTerm), aliased(User)
    stmt = (select(Certification.id, Certification.dog_id, Dog.name.label("dog"),
                   Certification.handler_id, Handler.name.label("handler"), body.name.label("body"),
                   Certification.discipline, Certification.issued_on, Certification.expires_on,
                   Certification.evaluator, Certification.result, Certification.score_finds,
                   Certification.score_hides, Certification.score_false_alerts, Certification.notes,
                   Certification.replaced_by_id, Certification.certificate_name,
                   creator.email.label("created_by"), Certification.created_at.label("created_at_utc"),
                   Certification.archived_at.label("archived_at_utc"))
            .join(Dog, Dog.id == Certification.dog_id).outerjoin(creator, creator.id == Certification.created_by_id)
            .outerjoin(Handler, Handler.id == Certification.handler_id)
            .join(body, body.id == Certification.certifying_body_id)
            .order_by(Certification.issued_on, Certification.id))
    return _scoped(stmt, Certification, agency_ids,
                   _between(Certification.issued_on, dates))


def _standards(agency_ids, dates):
    """The standards assessments are judged by (not dated: a plan of any day may name one)."""
    body = aliased(VocabularyTerm)
    stmt = (select(AssessmentStandard.id, Agency.name.label("agency"), AssessmentStandard.name,
                   body.name.label("body"), AssessmentStandard.min_find_rate_percent, AssessmentStandard.max_misses,
                   AssessmentStandard.max_false_responses, AssessmentStandard.negative_search_required,
                   AssessmentStandard.archived_at.label("archived_at_utc"),
                   AssessmentStandard.created_at.label("created_at_utc"), Agency.timezone.label("time_zone"))
            .join(Agency, Agency.id == AssessmentStandard.agency_id)
            .join(body, body.id == AssessmentStandard.certifying_body_id).order_by(AssessmentStandard.id))
    return _scoped(stmt, AssessmentStandard, agency_ids)


def _planned_sessions(agency_ids, dates):
    """Planned sessions, open (sealed) or closed with their result: exports are for managers and admins only."""
    environment, body, standard = aliased(VocabularyTerm), aliased(VocabularyTerm), aliased(AssessmentStandard)
    trainer, observer, closer = aliased(User), aliased(User), aliased(User)
    stmt = (select(PlannedSession.id, PlannedSession.planned_on, PlannedSession.dog_id, Dog.name.label("dog"),
                   PlannedSession.handler_id, Handler.name.label("handler"), trainer.email.label("trainer"),
                   PlannedSession.location, environment.name.label("environment"), PlannedSession.purpose,
                   PlannedSession.blindness, PlannedSession.placed_by, observer.email.label("observer"),
                   PlannedSession.knew, PlannedSession.kind, PlannedSession.evaluator, body.name.label("body"),
                   standard.name.label("standard"), PlannedSession.notes,
                   PlannedSession.started_at.label("started_at_utc"), PlannedSession.closed_at.label("closed_at_utc"),
                   closer.email.label("closed_by"), PlannedSession.training_session_id.label("session_id"),
                   TrainingSession.started_at.label("session_started_at_utc"), PlannedSession.result,
                   PlannedSession.criteria, PlannedSession.created_at.label("created_at_utc"),
                   PlannedSession.updated_at.label("updated_at_utc"), Agency.timezone.label("time_zone"))
            .join(Agency, Agency.id == PlannedSession.agency_id)
            .join(Dog, Dog.id == PlannedSession.dog_id).join(Handler, Handler.id == PlannedSession.handler_id)
            .join(trainer, trainer.id == PlannedSession.trainer_id)
            .outerjoin(observer, observer.id == PlannedSession.observer_id)
            .outerjoin(closer, closer.id == PlannedSession.closed_by_id)
            .outerjoin(environment, environment.id == PlannedSession.environment_id)
            .outerjoin(body, body.id == PlannedSession.certifying_body_id)
            .outerjoin(standard, standard.id == PlannedSession.standard_id)
            .outerjoin(TrainingSession, TrainingSession.id == PlannedSession.training_session_id)
            .order_by(PlannedSession.planned_on, PlannedSession.id))
    return _scoped(stmt, PlannedSession, agency_ids, _between(PlannedSession.planned_on, dates))


def _planned_areas(agency_ids, dates):
    """Each plan's areas (what was placed where, and the outcome recorded), by the planned sessions' id."""
    environment, device, spot, alert_spot = (aliased(VocabularyTerm) for _ in range(4))
    recorder = aliased(User)
    stmt = (select(PlannedArea.id, PlannedArea.session_id.label("plan_id"), PlannedArea.position, PlannedArea.label,
                   environment.name.label("environment"), device.name.label("device_type"),
                   spot.name.label("hiding_spot"), PlannedArea.height, PlannedArea.concealment, PlannedArea.aid,
                   PlannedArea.placed_by, PlannedArea.placed_at.label("placed_at_utc"), PlannedArea.outcome,
                   alert_spot.name.label("alert_spot"), PlannedArea.alert_note, PlannedArea.seconds_to_find,
                   recorder.email.label("recorded_by"), PlannedArea.recorded_at.label("recorded_at_utc"),
                   Agency.timezone.label("time_zone"))
            .join(PlannedSession, PlannedSession.id == PlannedArea.session_id)
            .join(Agency, Agency.id == PlannedSession.agency_id)
            .outerjoin(environment, environment.id == PlannedArea.environment_id)
            .outerjoin(device, device.id == PlannedArea.device_type_id)
            .outerjoin(spot, spot.id == PlannedArea.hiding_spot_id)
            .outerjoin(alert_spot, alert_spot.id == PlannedArea.alert_spot_id)
            .outerjoin(recorder, recorder.id == PlannedArea.recorded_by_id)
            .order_by(PlannedArea.session_id, PlannedArea.position, PlannedArea.id))
    return _scoped(stmt, PlannedSession, agency_ids, _between(PlannedSession.planned_on, dates))


def _vocabulary(agency_ids, dates):
    """The installation's terms (shared by every agency): an import elsewhere recreates the ones it lacks."""
    return select(VocabularyTerm.kind, VocabularyTerm.name, VocabularyTerm.position, VocabularyTerm.active) \
        .order_by(VocabularyTerm.kind, VocabularyTerm.position, VocabularyTerm.name)


# The export kinds, in the order the ZIP lists them.
EXPORTS: dict[str, Callable[[list[int] | None, DateRange], Select]] = {
    "dogs": _dogs, "handlers": _handlers, "teams": _teams, "sessions": _sessions, "hides": _hides,
    "false_alerts": _false_alerts, "deployments": _deployments, "finds": _finds, "field_alerts": _field_alerts,
    "outcomes": _outcomes,
    "certifications": _certifications, "standards": _standards, "planned_sessions": _planned_sessions,
    "planned_areas": _planned_areas, "vocabulary": _vocabulary,
}


def csv_rows(kind: str, agency_ids: list[int] | None, dates: DateRange) -> Iterator[list]:
    """The header, then each row of one export, streamed from the database.

    Each `…_utc` timestamp is preceded by the same instant as the agency reads it (`…_local`).
    """
    result = db.session.execute(EXPORTS[kind](agency_ids, dates).execution_options(yield_per=1000))
    keys = list(result.keys())
    zone_at = keys.index("time_zone") if "time_zone" in keys else None
    instants = {i for i, key in enumerate(keys) if key.endswith("_utc") and zone_at is not None}
    yield [name for i, key in enumerate(keys)
           for name in ((key[:-len("_utc")] + "_local", key) if i in instants else (key,))]
    for row in result:
        yield [text for i, value in enumerate(row)
               for text in ((format_local(value, row[zone_at], LOCAL_FORMAT), cell(value))
                            if i in instants else (cell(value),))]


def csv_chunks(kind: str, agency_ids, dates: DateRange, bom: bool = True) -> Iterator[str]:
    """One export as CSV text in chunks (UTF-8 BOM first, so spreadsheets read accents right)."""
    return spreadsheets.csv_chunks(csv_rows(kind, agency_ids, dates), bom=bom)


def zip_bytes(agency_ids, dates: DateRange) -> bytes:
    """A ZIP holding one CSV per export kind."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for kind in EXPORTS:
            archive.writestr(f"{kind}.csv", "".join(csv_chunks(kind, agency_ids, dates)))
    return out.getvalue()
