"""Rules about deployments shared by the views: local times, saving finds and alerts, the list's query."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from flask import abort
from sqlalchemy import Select, case, func, inspect, or_, select

from .. import dates
from ..dates import twelve_months_to
from ..agency_day import local_days_clause
from ..extensions import db
from ..models import Deployment, Dog, FieldAlert, Find, Handler, User, VocabularyTerm
from ..models.deployments import ALERT_OUTCOMES as OUTCOMES
from ..parsing import parse_id
from ..reports import metrics
from ..scoping import scope_clause


def local_to_utc(day: date, at: time, tz: str) -> datetime:
    """A date and wall-clock time in the agency's time zone, as a UTC instant."""
    return datetime.combine(day, at, dates.zone(tz)).astimezone(dates.UTC)


def utc_to_local(moment: datetime, tz: str) -> datetime:
    return dates.local_time(tz, moment)


def requesting_agencies(agency_ids: list[int] | None, limit: int = 200) -> list[str]:
    """Requesting agencies named before in the user's scope, most used first, for the datalist."""
    name = func.trim(Deployment.requesting_agency)
    stmt = (select(name, func.count(Deployment.id)).where(Deployment.requesting_agency.is_not(None), name != "")
            .group_by(name).order_by(func.count(Deployment.id).desc(), name).limit(limit))
    clause = scope_clause(Deployment, agency_ids)
    if clause is not None:
        stmt = stmt.where(clause)
    return [row[0] for row in db.session.execute(stmt)]


def _term_id(kind: str, term_id: int | None) -> int | None:
    """The id of an existing term of `kind` (the form checked it; this guards the database)."""
    if term_id is None:
        return None
    term = db.session.get(VocabularyTerm, term_id)
    if term is None or term.kind != kind:
        abort(400)
    return term.id


def save_deployment(deployment: Deployment | None, data: dict, *, dog: Dog, handler: Handler,
                    by) -> Deployment:
    """Create or update a deployment, its finds and its alerts from validated form data; nothing is committed.

    A find or alert row naming an id that is not one of this deployment's answers 404; a confirmed
    alert naming a find that is not this deployment's (the form refused it already) answers 400.
    """
    tz = dog.agency.timezone
    if deployment is None:
        deployment = Deployment(created_by_id=by.id)
    with db.session.no_autoflush:  # a half-filled row must not be flushed by a lookup
        _apply(deployment, data, dog=dog, handler=handler, tz=tz)
    db.session.add(deployment)
    return deployment


def _apply(deployment: Deployment, data: dict, *, dog: Dog, handler: Handler, tz: str) -> None:
    deployment.agency_id = dog.agency_id
    deployment.dog_id = dog.id
    deployment.handler_id = handler.id
    deployment.started_at = local_to_utc(data["day"], data["time"], tz)
    deployment.requesting_agency = (data.get("requesting_agency") or "").strip() or None
    deployment.case_number = (data.get("case_number") or "").strip() or None
    deployment.legal_authority = data["legal_authority"]
    deployment.location_type_id = _term_id("location_type", data.get("location_type"))
    deployment.duration_minutes = data.get("duration_minutes")
    deployment.notes = (data.get("notes") or "").strip() or None
    existing = {f.id: f for f in deployment.finds} if deployment.id else {}
    # The finds an alert row may name: saved ones by id, this form's new rows as "new-<row>".
    linkable = {str(f.id): f for f in existing.values()}
    removed: list[Find] = []
    for position, row in enumerate(data.get("finds", [])):
        if row.get("device_type") is None and not row.get("id"):
            continue  # a blank row
        if row.get("id"):
            find = existing.get(parse_id(row["id"]))
            if find is None:
                abort(404)
            if row.get("remove"):
                removed.append(find)
                linkable.pop(str(find.id), None)
                continue
        elif row.get("remove"):
            continue  # a new row ticked "remove": nothing to store
        else:
            find = Find()
            deployment.finds.append(find)
            linkable[f"new-{position}"] = find
        find.device_type_id = _term_id("device_type", row["device_type"])
        find.hiding_spot_id = _term_id("hiding_spot", row.get("hiding_spot"))
        find.missed_by_human_search = bool(row.get("missed_by_human_search"))
        find.evidence = row.get("evidence") or "pending"
        find.notes = (row.get("notes") or "").strip() or None
    _apply_alerts(deployment, data.get("alerts", []), linkable)
    # Finds go after the alerts let go of them (an alert's find_id refers to its find).
    for find in removed:
        if any(alert.find is find for alert in deployment.alerts if not _gone(alert)):
            abort(400)  # a saved alert the form left out still names it (the page always posts every alert)
        # Deleted while still linked to its deployment, so the audit entry keeps its agency
        # and the rollups take its contribution out in the same transaction.
        db.session.delete(find)


def _apply_alerts(deployment: Deployment, rows: list[dict], linkable: dict[str, Find]) -> None:
    """Add, correct or remove the deployment's alerts in place; a confirmed one is linked to its find.

    One find confirms one alert (UNIQUE field_alert.find_id), and both databases check that row by
    row, whatever order the unit of work writes in. So an alert takes a find only once the alert
    holding it has let go: removals and alerts letting go of a find are flushed first, then the
    alerts taking them. Alerts exchanging finds among themselves (a cycle) cannot be ordered: one of
    them is deleted and written anew (audited as such).
    """
    existing = {a.id: a for a in deployment.alerts} if deployment.id else {}
    plan: list[tuple[FieldAlert | None, dict]] = []
    posted: set[int] = set()
    for row in rows:
        if not row.get("outcome") and not row.get("id"):
            continue  # a blank row
        alert = None
        if row.get("id"):
            alert = existing.get(parse_id(row["id"]))
            if alert is None:
                abort(404)
            if alert.id in posted:
                abort(400)  # one alert posted twice
            posted.add(alert.id)
            if row.get("remove"):
                db.session.delete(alert)  # still linked: its audit entry keeps the agency
                continue
        elif row.get("remove"):
            continue
        if row.get("outcome") not in OUTCOMES:
            abort(400)
        find = linkable.get(row.get("find") or "") if row["outcome"] == "confirmed" else None
        if row["outcome"] == "confirmed" and find is None:
            abort(400)
        plan.append((alert, dict(
            outcome=row["outcome"], hiding_spot_id=_term_id("hiding_spot", row.get("hiding_spot")),
            location_note=(row.get("location_note") or "").strip() or None, find=find,
            explanation=((row.get("explanation") or "").strip() or None) if row["outcome"] == "explained" else None)))
    # Who holds each saved find now; an alert the form left out keeps its find.
    holder = {a.find_id: a for a in existing.values() if a.find_id is not None and not _gone(a)}
    wanted = [values["find"] for _, values in plan if values["find"] is not None]
    moving = {alert for alert, _ in plan if alert is not None}
    if len(wanted) != len(set(map(id, wanted))) or any(
            f.id in holder and holder[f.id] not in moving for f in wanted):
        abort(400)  # two alerts would name one find (the form refused it already)
    while plan:
        ready, waiting = [], []
        for alert, values in plan:
            find = values["find"]
            held_by = holder.get(find.id) if find is not None and find.id is not None else None
            (ready if held_by is None or held_by is alert else waiting).append((alert, values))
        if not ready:  # alerts exchanging finds: write one of them anew once the others have moved
            alert, values = waiting.pop(0)
            holder.pop(alert.find_id, None)
            db.session.delete(alert)
            waiting.append((None, values))
        for alert, values in ready:
            if alert is None:
                alert = FieldAlert()
                deployment.alerts.append(alert)
            elif alert.find_id is not None and holder.get(alert.find_id) is alert:
                del holder[alert.find_id]
            for name, value in values.items():
                setattr(alert, name, value)
        plan = waiting
        if plan:
            db.session.flush()
            db.session.expire(deployment, ["alerts"])  # reloaded without the alerts deleted by the flush
            holder.update({alert.find_id: alert for alert in deployment.alerts
                           if alert.find_id is not None and not _gone(alert)})


def _gone(record) -> bool:
    """Deleted in this transaction, flushed or not (a flushed one stays in its collection until commit)."""
    return record in db.session.deleted or inspect(record).was_deleted


@dataclass
class ListFilter:
    dog_id: int | None = None
    handler_id: int | None = None
    start: date | None = None
    end: date | None = None
    q: str | None = None
    with_finds: bool = False
    archived: bool = False


def deployments_query(agency_ids: list[int] | None, f: ListFilter) -> Select:
    """Deployments in scope matching the list's filters, newest first."""
    stmt = select(Deployment).order_by(Deployment.started_at.desc(), Deployment.id.desc())
    clause = scope_clause(Deployment, agency_ids)
    if clause is not None:
        stmt = stmt.where(clause)
    if not f.archived:
        stmt = stmt.where(Deployment.archived_at.is_(None))
    if f.dog_id:
        stmt = stmt.where(Deployment.dog_id == f.dog_id)
    if f.handler_id:
        stmt = stmt.where(Deployment.handler_id == f.handler_id)
    if f.start or f.end:  # each agency's deployments on its own days
        stmt = stmt.where(local_days_clause(Deployment.started_at, Deployment.agency_id, agency_ids,
                                            f.start, f.end))
    if f.q:
        pattern = f"%{f.q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Deployment.case_number).like(pattern),
                              func.lower(Deployment.requesting_agency).like(pattern)))
    if f.with_finds:
        stmt = stmt.where(Deployment.finds.any())
    return stmt


def find_counts(deployment_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Finds and finds missed by the human search, per deployment, in one grouped query."""
    if not deployment_ids:
        return {}
    rows = db.session.execute(
        select(Find.deployment_id, func.count(Find.id),
               func.sum(case((Find.missed_by_human_search.is_(True), 1), else_=0)))
        .where(Find.deployment_id.in_(deployment_ids)).group_by(Find.deployment_id))
    return {d: (int(n), int(m or 0)) for d, n, m in rows}


def open_alert_counts(deployment_ids: list[int]) -> dict[int, int]:
    """Alerts with nothing recovered (unverified or explained), per deployment, in one grouped query."""
    if not deployment_ids:
        return {}
    return dict(db.session.execute(
        select(FieldAlert.deployment_id, func.count(FieldAlert.id))
        .where(FieldAlert.deployment_id.in_(deployment_ids), FieldAlert.outcome != "confirmed")
        .group_by(FieldAlert.deployment_id)).all())


def dog_section(dog: Dog, today: date, user: User, limit: int = 10) -> dict:
    """The dog page's deployments section: the latest deployments with their finds, and the total."""
    stmt = deployments_query([dog.agency_id], ListFilter(dog_id=dog.id))
    # The latest and, on each, how many there are in all (a window over every row, before the limit).
    latest = db.session.execute(stmt.add_columns(func.count().over()).limit(limit)).all()
    rows = [deployment for deployment, _ in latest]
    total = latest[0][1] if latest else 0
    return {"rows": rows, "total": total, "counts": find_counts([d.id for d in rows]),
            "local": lambda d: utc_to_local(d.started_at, dog.agency.timezone),
            "accuracy": field_accuracy(dog, today)}


def field_accuracy(dog: Dog, today: date) -> dict:
    """The dog's field accuracy (esd/reports/metrics.py) over all its deployments and the last twelve months.

    One statement (`metrics.field_accuracies`), not cached: it costs about what storing it would.
    """
    every = metrics.Filters(agency_ids=(dog.agency_id,), dog_id=dog.id, tz=dog.agency.timezone)
    start, end = twelve_months_to(today)
    whole, year = metrics.field_accuracies(every, [(None, None), (start, end)])
    return {"all": whole, "year": year, "year_start": start}
