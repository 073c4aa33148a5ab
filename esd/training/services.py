"""Training rules shared by the views, the JSON API and the tablet: validation, edits, hours."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import abort
from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload

from ..audit import audit_reason, record_event
from ..dates import local_midnight_utc, month_start, next_month, week_start, zone
from ..extensions import db
from ..rates import rate_text
from ..models import (Agency, Dog, FalseAlert, Handler, Hide, TrainingSession, User, VocabularyTerm)
from ..models.training import (CONCEALMENTS, HEIGHTS, OUTCOMES, PRECIPITATIONS, PURPOSES, WINDS,
                               false_alerts_of_session, hides_of_session)
from ..parsing import parse_id
from ..scoping import record_agency_ids, scope_clause, scoped_get_or_404
from . import forms
from .forms import PayloadError

PURPOSE_LABELS = {"imprint": "Imprint", "maintenance": "Maintenance", "proficiency": "Proficiency",
                  "certification_prep": "Certification prep"}
EDIT_GRACE = timedelta(hours=24)
FUTURE_SKEW = timedelta(minutes=5)  # tablet clocks drift; a start a few minutes ahead is not "future"
PAGE_SIZE = 25


# ---------------------------------------------------------------- time zones and periods

def agency_tz(agency: Agency) -> ZoneInfo:
    """The agency's zone; an unknown name falls back to UTC rather than failing a page."""
    return zone(agency.timezone)


def period_starts(period: str, first: date, last: date) -> list[date]:
    """Local start days of each week (Monday) or month touching [first, last]."""
    starts = []
    current = month_start(first) if period == "month" else week_start(first)
    while current <= last:
        starts.append(current)
        current = next_month(current) if period == "month" else current + timedelta(days=7)
    return starts


def period_end(period: str, start: date) -> date:
    return next_month(start) if period == "month" else start + timedelta(days=7)


# ---------------------------------------------------------------- training hours

def training_minutes(dog_ids: list[int], start: datetime, end: datetime) -> dict[int, int]:
    """Minutes trained per dog with a session starting in [start, end) (UTC instants)."""
    if not dog_ids:
        return {}
    stmt = (select(TrainingSession.dog_id, func.coalesce(func.sum(TrainingSession.duration_minutes), 0))
            .where(TrainingSession.dog_id.in_(dog_ids), TrainingSession.archived_at.is_(None),
                   TrainingSession.started_at >= start, TrainingSession.started_at < end)
            .group_by(TrainingSession.dog_id))
    return {dog_id: int(minutes) for dog_id, minutes in db.session.execute(stmt)}


def hours_per_period(dog_ids: list[int], tz: ZoneInfo, period: str, first: date,
                     last: date) -> dict[int, list[tuple[date, float]]]:
    """Training hours per dog per local week or month, summed in SQL.

    Period boundaries are local midnights converted to UTC here, so the database
    needs no time-zone support and DST changes fall where the agency sees them.
    """
    starts = period_starts(period, first, last)
    bounds = [local_midnight_utc(s, tz) for s in starts] + [
        local_midnight_utc(period_end(period, starts[-1]), tz)]
    result = {dog_id: [(s, 0.0) for s in starts] for dog_id in dog_ids}
    if not dog_ids:
        return result
    bucket = case(*[(TrainingSession.started_at < bound, index)
                    for index, bound in enumerate(bounds[1:])], else_=-1)
    stmt = (select(TrainingSession.dog_id, bucket.label("bucket"), func.sum(TrainingSession.duration_minutes))
            .where(TrainingSession.dog_id.in_(dog_ids), TrainingSession.archived_at.is_(None),
                   TrainingSession.started_at >= bounds[0], TrainingSession.started_at < bounds[-1])
            .group_by(TrainingSession.dog_id, bucket))
    for dog_id, index, minutes in db.session.execute(stmt):
        if index is not None and index >= 0:
            result[dog_id][index] = (starts[index], round(int(minutes) / 60, 2))
    return result


def training_status(hours: float, target: float, elapsed_fraction: float) -> str:
    """`met`, `on_track` or `behind` against the monthly target, pro-rated by the month elapsed."""
    if target <= 0 or hours >= target:
        return "met"
    return "behind" if hours < target * elapsed_fraction else "on_track"


@dataclass
class DogHours:
    dog: Dog
    handler: Handler | None
    month_hours: float
    week_hours: float
    last_month_hours: float
    target: int
    status: str

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.month_hours / self.target)) if self.target else 100


def month_hours_for(dog: Dog, today: date) -> tuple[float, int]:
    """Hours in the local month of `today` for one dog, and the agency's target."""
    tz = agency_tz(dog.agency)
    start = local_midnight_utc(month_start(today), tz)
    end = local_midnight_utc(next_month(today), tz)
    minutes = training_minutes([dog.id], start, end).get(dog.id, 0)
    return round(minutes / 60, 2), dog.agency.monthly_training_target_hours


def dog_section(dog: Dog, today: date, user: User) -> dict:
    """The dog page's training section: hours this month against the target, the latest sessions."""
    hours, target = month_hours_for(dog, today)
    return {"hours": hours, "target": target, "percent": min(100, round(100 * hours / target)) if target else 100,
            "recent": recent_sessions(dog, 5)}


def agency_overview(agency: Agency, now: datetime) -> list[DogHours]:
    """Every working dog of an agency with this week's, this month's and last month's hours."""
    tz = agency_tz(agency)
    today = now.astimezone(tz).date()
    dogs = list(db.session.scalars(
        select(Dog).where(Dog.agency_id == agency.id, Dog.archived_at.is_(None), Dog.status != "retired")
        .order_by(Dog.name)))
    ids = [d.id for d in dogs]
    this_month = month_start(today)
    last_month = month_start(this_month - timedelta(days=1))
    months = hours_per_period(ids, tz, "month", last_month, today)
    weeks = hours_per_period(ids, tz, "week", today, today)
    days_in_month = (next_month(this_month) - this_month).days
    elapsed = (now - local_midnight_utc(this_month, tz)).total_seconds() / (days_in_month * 86400)
    target = agency.monthly_training_target_hours
    rows = []
    for dog in dogs:
        month_hours = months[dog.id][-1][1]
        team = dog.team_on(today)
        rows.append(DogHours(dog=dog, handler=team.handler if team else None, month_hours=month_hours,
                             week_hours=weeks[dog.id][-1][1], last_month_hours=months[dog.id][0][1],
                             target=target, status=training_status(month_hours, target, elapsed)))
    return rows


# ---------------------------------------------------------------- summaries

def session_summary(session: TrainingSession) -> dict:
    """Counts the handler sees after saving: hides, found, missed, find rate, false alerts, time."""
    rate = session.find_rate
    total, found = rate.n, rate.found
    times = [h.seconds_to_find for h in session.hides if h.outcome == "found" and h.seconds_to_find is not None]
    return {"hides": total, "found": found, "missed": total - found,
            "blind": sum(1 for h in session.hides if h.blind),
            "find_rate": rate.rate, "find_rate_text": rate_text(rate),
            "false_alerts": len(session.false_alerts), "duration_minutes": session.duration_minutes,
            "blank_areas": session.blank_areas,
            "median_seconds_to_find": sorted(times)[len(times) // 2] if times else None}


# ---------------------------------------------------------------- vocabularies

def vocabulary(agency_ids: list[int] | None) -> dict:
    """The form's choices; device types and hiding spots ordered by this agency's use, most used first."""
    def used(column) -> dict[int, int]:
        stmt = (select(column, func.count()).select_from(Hide)
                .join(TrainingSession, Hide.session_id == TrainingSession.id).group_by(column))
        clause = scope_clause(TrainingSession, agency_ids)
        if clause is not None:
            stmt = stmt.where(clause)
        return dict(db.session.execute(stmt).all())

    def ordered(kind: str, uses: dict[int, int]) -> list[dict]:
        rows = db.session.scalars(select(VocabularyTerm).where(VocabularyTerm.kind == kind,
                                                               VocabularyTerm.active.is_(True)))
        items = sorted(rows, key=lambda t: (-uses.get(t.id, 0), t.position, t.name))
        return [{"id": t.id, "name": t.name, "uses": uses.get(t.id, 0)} for t in items]

    spot_uses = used(Hide.hiding_spot_id)
    return {
        "device_types": ordered("device_type", used(Hide.device_type_id)),
        "hiding_spots": ordered("hiding_spot", spot_uses),
        "environments": ordered("environment", {}),
        "purposes": [[p, PURPOSE_LABELS[p]] for p in PURPOSES],
        "heights": list(HEIGHTS), "concealments": list(CONCEALMENTS), "outcomes": list(OUTCOMES),
        "winds": list(WINDS), "precipitations": list(PRECIPITATIONS),
    }


# ---------------------------------------------------------------- who may do what

def editable_or_404(user: User, session_id: int) -> TrainingSession:
    """The session if `user` may edit it (`may_edit`); raises NotFound (404), as for one out of scope, otherwise."""
    session = scoped_get_or_404(TrainingSession, session_id, user)
    if not may_edit(user, session):
        abort(404)
    return session


def may_edit(user: User, session: TrainingSession) -> bool:
    """Handlers edit their own sessions; managers any in their agency; admins all."""
    if user.role == "admin":
        return True
    if user.agency_id != session.agency_id:
        return False
    if user.role == "manager":
        return True
    if user.role == "handler":
        return session.created_by_id == user.id or (session.handler is not None
                                                    and session.handler.user_id == user.id)
    return False


def may_sign_off(user: User, session: TrainingSession) -> bool:
    return user.role == "admin" or (user.role == "manager" and user.agency_id == session.agency_id)


MAX_REASON = 1000  # an edit's reason, kept in the audit log


def reason_required(session: TrainingSession, now: datetime) -> bool:
    """An edit needs a reason once the record is over 24 hours old or signed off."""
    return session.is_signed_off or (now - session.created_at) > EDIT_GRACE


# ---------------------------------------------------------------- reading a body

def parse_started_at(moment: datetime, tz: ZoneInfo) -> datetime:
    """The schema's date-time as a UTC instant; without an offset it is the agency's local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(timezone.utc)


def _check_terms(named: list[forms.TermUse], kept: set[int], errors: list) -> None:
    """Every vocabulary term the body names exists, is of its kind, and is active (or already in use)."""
    ids = {use.value for use in named}
    terms = {t.id: t for t in db.session.scalars(select(VocabularyTerm).where(VocabularyTerm.id.in_(ids)))} if ids else {}
    for use in named:
        term = terms.get(use.value)
        if term is None or term.kind != use.kind or (not term.active and use.value not in kept):
            errors.append({"field": use.path, "error": f"Unknown {use.label}."})


def load_session(data, user: User, now: datetime, session: TrainingSession | None = None) -> dict:
    """Read a session body through the schema and the rules that need the database; return clean values.

    Raises PayloadError (400 for a body that is not an object, 422 with every field's error) and
    NotFound (404) for a dog outside the user's scope, like every other record.
    """
    from flask import abort
    if not isinstance(data, dict):
        raise PayloadError([{"field": None, "error": "The body must be a JSON object."}], status=400)
    reading = forms.read(data)
    form, errors = reading.form, reading.errors
    if form.dog_id.data is None:
        raise PayloadError(errors)
    dog = (db.session.get(Dog, form.dog_id.data, options=[joinedload(Dog.agency)])  # its zone is needed next
           if 0 < form.dog_id.data <= forms.MAX_ID else None)
    agency_ids = record_agency_ids(user)
    if dog is None or (agency_ids is not None and dog.agency_id not in agency_ids):
        abort(404)
    if dog.archived_at is not None and (session is None or session.dog_id != dog.id):
        errors.append({"field": "dog_id", "error": "This dog is archived."})
    clean = forms.clean_values(reading)
    clean["dog"] = dog
    clean["started_at"] = None
    if form.started_at.data is not None:
        try:
            started_at = parse_started_at(form.started_at.data, agency_tz(dog.agency))
        except (OverflowError, ValueError):
            started_at = None
            errors.append({"field": "started_at", "error": "Enter a date and time from the last ten years."})
        if started_at is None:
            pass
        elif started_at > now + FUTURE_SKEW:
            errors.append({"field": "started_at", "error": "The start cannot be in the future."})
        elif started_at < now - timedelta(days=3650):
            errors.append({"field": "started_at", "error": "The start is more than ten years ago."})
        else:
            clean["started_at"] = started_at
    kept = set()
    if session is not None:
        kept = ({session.environment_id} | {h.device_type_id for h in session.hides}
                | {h.hiding_spot_id for h in session.hides} | {f.hiding_spot_id for f in session.false_alerts})
    _check_terms(reading.terms, kept, errors)
    clean["handler"] = _resolve_handler(form.handler_id.data, dog, user, clean["started_at"] or now,
                                        errors, session)
    if errors:
        raise PayloadError(_first_per_field(errors))
    return clean


def _first_per_field(errors: list[dict]) -> list[dict]:
    seen, first = set(), []
    for error in errors:
        if error["field"] not in seen:
            seen.add(error["field"])
            first.append(error)
    return first


def _resolve_handler(value: int | None, dog: Dog, user: User, started_at: datetime, errors: list,
                     session: TrainingSession | None) -> Handler | None:
    """Handlers log as themselves; managers name a handler or get the dog's team of that day."""
    if user.role == "handler":
        own = user.handler
        if own is None or own.agency_id != dog.agency_id:
            errors.append({"field": "handler_id",
                           "error": "Your account is not linked to a handler of this dog's agency."})
            return None
        if session is not None and session.handler_id != own.id:
            return session.handler  # a handler editing a session they created keeps its handler
        return own
    if value is not None:
        handler = db.session.get(Handler, value) if 0 < value <= forms.MAX_ID else None
        if handler is None or handler.agency_id != dog.agency_id or handler.archived_at is not None:
            errors.append({"field": "handler_id", "error": "Unknown handler for this dog's agency."})
            return None
        return handler
    if session is not None and session.dog_id == dog.id:
        return session.handler
    team = dog.team_on(started_at.astimezone(agency_tz(dog.agency)).date())
    if team is None:
        errors.append({"field": "handler_id", "error": "No handler works this dog on that day: choose one."})
        return None
    return team.handler


# ---------------------------------------------------------------- saving

def _apply(session: TrainingSession, clean: dict) -> None:
    """Copy clean values onto a session; hides and false alerts are matched by position."""
    session.dog_id = clean["dog"].id
    session.agency_id = clean["dog"].agency_id
    session.handler_id = clean["handler"].id
    session.started_at = clean["started_at"]
    for key in forms.record_columns():
        setattr(session, key, clean[key])
    _apply_rows(session.hides, clean["hides"], Hide)
    _apply_rows(session.false_alerts, clean["false_alerts"], FalseAlert)


def _apply_rows(rows: list, values: list[dict], model) -> None:
    for position, row_values in enumerate(values):
        if position < len(rows):
            row = rows[position]
        else:
            row = model()
            rows.append(row)
        if model is Hide:
            row.position = position
        for key, value in row_values.items():
            setattr(row, key, value)
    _remove_tail(rows, len(values))


def _remove_tail(rows: list, keep: int) -> None:
    """Delete explicitly while still linked to the session: orphans removed at flush time would
    escape the audit hook, and unlinked rows would be audited without their agency."""
    for row in list(rows[keep:]):
        if sa_inspect(row).persistent:
            db.session.delete(row)
        else:
            rows.remove(row)


def find_by_uuid(client_uuid: str | None) -> TrainingSession | None:
    if not client_uuid:
        return None
    return db.session.scalar(select(TrainingSession).where(TrainingSession.client_uuid == client_uuid))


def create_session(clean: dict, user: User) -> TrainingSession:
    """Add a new session from validated values (the caller commits)."""
    session = TrainingSession(client_uuid=clean.get("client_uuid"), created_by_id=user.id)
    _apply(session, clean)
    db.session.add(session)
    db.session.flush()
    return session


def _audit_key(name: str, cls: type) -> str:
    """A term is audited by its name (ids differ between installations): `device_type_id` → `device_type`."""
    return name.removesuffix("_id") if cls is forms.TermField else name


def _audit_value(cls: type, value):
    if cls is forms.TermField:
        term = db.session.get(VocabularyTerm, value) if value else None
        return term.name if term else None
    return bool(value) if cls is forms.BooleanField else value


def _audit_rows(rows: list, list_name: str) -> list[dict]:
    columns = forms.row_columns(list_name)
    return [{_audit_key(name, cls): _audit_value(cls, getattr(row, name)) for name, cls in columns} for row in rows]


def _json_rows(rows: list, list_name: str) -> list[dict]:
    columns = forms.row_columns(list_name)
    return [{name: bool(getattr(row, name)) if cls is forms.BooleanField else getattr(row, name)
             for name, cls in columns} for row in rows]


def snapshot(session: TrainingSession) -> dict:
    """The whole record as plain data, hides and false alerts included, for the audit trail."""
    columns = forms.record_columns()
    record = {_audit_key(name, cls): _audit_value(cls, getattr(session, name))
              for name, cls in forms.fields_of(forms.SessionForm) if name in columns}
    return {
        "dog_id": session.dog_id, "handler_id": session.handler_id,
        "started_at": session.started_at.isoformat() if session.started_at else None, **record,
        "signed_off_at": session.signed_off_at.isoformat() if session.signed_off_at else None,
        "signed_off_by_id": session.signed_off_by_id,
        **{name: _audit_rows(getattr(session, name), name) for name in forms.LISTS},
    }


def revise_session(session: TrainingSession, clean: dict, user: User, now: datetime,
                   reason: str | None) -> bool:
    """Apply an edit under the record-integrity rules; return whether anything changed.

    Raises PayloadError when a reason is needed and missing. The earlier version is kept
    whole in a `revise` audit entry (hides included), and a change clears any sign-off.
    """
    reason = (reason.strip() or None) if isinstance(reason, str) else None
    if reason and len(reason) > MAX_REASON:
        raise PayloadError([{"field": "reason", "error": f"At most {MAX_REASON} characters."}])
    if reason_required(session, now) and not reason:
        why = "it is signed off" if session.is_signed_off else "it is more than 24 hours old"
        raise PayloadError([{"field": "reason", "error": f"Give a reason for changing this session: {why}."}])
    before = snapshot(session)
    audit_reason(reason)
    _apply(session, clean)
    db.session.flush()
    db.session.expire(session, ["hides", "false_alerts"])
    after = snapshot(session)
    compare = {k: v for k, v in after.items() if not k.startswith("signed_off")}
    if compare == {k: v for k, v in before.items() if not k.startswith("signed_off")}:
        return False
    if session.is_signed_off:
        session.signed_off_at = None
        session.signed_off_by_id = None
        after["signed_off_at"] = after["signed_off_by_id"] = None
    session.updated_at = now
    record_event("revise", "training_session", session.id, user_id=user.id, agency_id=session.agency_id,
                 changes={"before": before, "after": after}, reason=reason)
    db.session.flush()
    return True


def sign_off(session: TrainingSession, user: User, now: datetime) -> None:
    """Lock a session: later edits need a reason and clear this sign-off."""
    session.signed_off_at = now
    session.signed_off_by_id = user.id


def revisions(session: TrainingSession) -> list:
    """Earlier versions of a session, newest first."""
    from ..models import AuditEntry
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "training_session", AuditEntry.entity_id == session.id,
                                 AuditEntry.action == "revise").order_by(AuditEntry.at.desc(), AuditEntry.id.desc())))


def session_json(session: TrainingSession) -> dict:
    """A session as the tablet form and the API speak it (the schema's fields, plus what the server adds)."""
    local = session.started_at.astimezone(agency_tz(session.dog.agency))
    return {
        "id": session.id, "client_uuid": session.client_uuid, "dog_id": session.dog_id,
        "handler_id": session.handler_id, "started_at": local.strftime("%Y-%m-%dT%H:%M"),
        "started_at_utc": session.started_at.isoformat(),
        **{name: getattr(session, name) for name in forms.record_columns()},
        "signed_off_at": session.signed_off_at.isoformat() if session.signed_off_at else None,
        **{name: _json_rows(getattr(session, name), name) for name in forms.LISTS},
        "summary": session_summary(session),
    }


# ---------------------------------------------------------------- lists

@dataclass
class SessionFilters:
    start: date | None = None
    end: date | None = None
    purpose: str | None = None
    blind_only: bool = False


def encode_cursor(session: TrainingSession) -> str:
    return f"{session.started_at.strftime('%Y%m%dT%H%M%S%f')}_{session.id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    stamp, _, ident = cursor.partition("_")
    if parse_id(ident) is None or not stamp.isascii():
        return None  # a cursor we did not write: start from the first page
    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=timezone.utc), parse_id(ident)
    except ValueError:
        return None


def dog_sessions_page(dog: Dog, filters: SessionFilters, cursor: str | None,
                      size: int = PAGE_SIZE) -> tuple[list[dict], str | None]:
    """One page of a dog's sessions, newest first, by keyset (no count over the table).

    Returns rows with their hide counts and the cursor of the next page (None at the end).
    """
    tz = agency_tz(dog.agency)
    stmt = select(TrainingSession).where(TrainingSession.dog_id == dog.id, TrainingSession.archived_at.is_(None))
    if filters.start:
        stmt = stmt.where(TrainingSession.started_at >= local_midnight_utc(filters.start, tz))
    if filters.end:
        stmt = stmt.where(TrainingSession.started_at < local_midnight_utc(filters.end + timedelta(days=1), tz))
    if filters.purpose:
        stmt = stmt.where(TrainingSession.purpose == filters.purpose)
    if filters.blind_only:
        stmt = stmt.where(exists().where(Hide.session_id == TrainingSession.id, Hide.blind.is_(True)))
    position = decode_cursor(cursor)
    if position:
        at, ident = position
        # `started_at <= at` is implied by the OR but lets the (dog_id, started_at) index start its
        # range at the cursor: without it the last page walks every newer session of the dog first.
        stmt = stmt.where(TrainingSession.started_at <= at,
                          or_(TrainingSession.started_at < at, TrainingSession.id < ident))
    # Each session with its counts, in the same statement.
    fetched = db.session.execute(stmt.add_columns(*_count_columns())
                                 .order_by(TrainingSession.started_at.desc(), TrainingSession.id.desc())
                                 .limit(size + 1)).all()
    more = len(fetched) > size
    rows = [{"session": s, "local_start": s.started_at.astimezone(tz), **_counts_of(counts)}
            for s, *counts in fetched[:size]]
    return rows, (encode_cursor(rows[-1]["session"]) if more else None)


# What a session list shows of each session, counted in SQL: each count an index look-up by session.
COUNTS = ("hides", "found", "blind", "false_alerts")


def _count_columns() -> tuple:
    """Scalar subqueries of a TrainingSession row, in the order of COUNTS."""
    return (hides_of_session(), hides_of_session(Hide.outcome == "found"), hides_of_session(Hide.blind.is_(True)),
            false_alerts_of_session())


def _counts_of(values) -> dict[str, int]:
    return {name: int(value) for name, value in zip(COUNTS, values)}


def session_counts(session_ids: list[int]) -> dict[int, dict]:
    """Hides, found, blind and false alerts per session, in one statement."""
    result = {i: dict.fromkeys(COUNTS, 0) for i in session_ids}
    if not session_ids:
        return result
    for sid, *counts in db.session.execute(select(TrainingSession.id, *_count_columns())
                                           .where(TrainingSession.id.in_(session_ids))):
        result[sid] = _counts_of(counts)
    return result


def recent_sessions(dog: Dog, limit: int = 5) -> list[dict]:
    rows, _ = dog_sessions_page(dog, SessionFilters(), None, size=limit)
    return rows


def dog_choices(user: User, today: date | None = None, include_id: int | None = None) -> list[dict]:
    """Dogs the user may log for, each with its agency's zone and the handler of its current team.

    `include_id` keeps a session's own dog selectable in the edit form even once retired.
    """
    working = and_(Dog.archived_at.is_(None), Dog.status != "retired")
    stmt = select(Dog).where(or_(working, Dog.id == include_id) if include_id else working).order_by(Dog.name)
    clause = scope_clause(Dog, record_agency_ids(user))
    if clause is not None:
        stmt = stmt.where(clause)
    choices = []
    for dog in db.session.scalars(stmt):
        tz = agency_tz(dog.agency)
        local_today = today or dog.agency.today()
        team = dog.team_on(local_today)
        choices.append({"id": dog.id, "name": dog.name, "call_sign": dog.call_sign, "agency_id": dog.agency_id,
                        "agency": dog.agency.name, "tz": tz.key,
                        "temperature_unit": dog.agency.temperature_unit,
                        "handler_id": team.handler_id if team else None,
                        "handler_name": team.handler.name if team else None})
    return choices


def handler_choices(user: User) -> list[dict]:
    stmt = select(Handler).where(Handler.archived_at.is_(None)).order_by(Handler.name)
    clause = scope_clause(Handler, record_agency_ids(user))
    if clause is not None:
        stmt = stmt.where(clause)
    return [{"id": h.id, "name": h.name, "agency_id": h.agency_id} for h in db.session.scalars(stmt)]


def default_dog_id(user: User, choices: list[dict]) -> int | None:
    """The dog of the user's current team (a handler), or the only dog there is."""
    if user.role == "handler" and user.handler is not None:
        for choice in choices:
            if choice["handler_id"] == user.handler.id:
                return choice["id"]
    return choices[0]["id"] if len(choices) == 1 else None
