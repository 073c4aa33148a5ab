"""Training rules shared by the views, the JSON API and the tablet: validation, edits, hours."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload

from ..audit import audit_reason, record_event
from ..extensions import db
from ..rates import rate_text
from ..models import (Agency, Dog, FalseAlert, Handler, Hide, TrainingSession, User, VocabularyTerm)
from ..models.training import (CONCEALMENTS, HEIGHTS, MAX_DURATION_MINUTES, MAX_SECONDS_TO_FIND,
                               OUTCOMES, PRECIPITATIONS, PURPOSES, WINDS)
from ..scoping import record_agency_ids, scope_clause

PURPOSE_LABELS = {"imprint": "Imprint", "maintenance": "Maintenance", "proficiency": "Proficiency",
                  "certification_prep": "Certification prep"}
EDIT_GRACE = timedelta(hours=24)
FUTURE_SKEW = timedelta(minutes=5)  # tablet clocks drift; a start a few minutes ahead is not "future"
MAX_HIDES = 200
MAX_FALSE_ALERTS = 100
MAX_AID_SET_MINUTES = 10080
PAGE_SIZE = 25


class PayloadError(Exception):
    """A session body that cannot be saved: `errors` is a list of {"field", "error"}."""

    def __init__(self, errors: list[dict], status: int = 422):
        super().__init__(errors[0]["error"])
        self.errors = errors
        self.status = status


# ---------------------------------------------------------------- time zones and periods

def agency_tz(agency: Agency) -> ZoneInfo:
    """The agency's zone; an unknown name falls back to UTC rather than failing a page."""
    try:
        return ZoneInfo(agency.timezone or "UTC")
    except Exception:
        return ZoneInfo("UTC")


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `tz`."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


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


def month_hours_for(dog: Dog, now: datetime) -> tuple[float, int]:
    """Hours this local month for one dog, and the agency's target."""
    tz = agency_tz(dog.agency)
    today = now.astimezone(tz).date()
    start = local_midnight_utc(month_start(today), tz)
    end = local_midnight_utc(next_month(today), tz)
    minutes = training_minutes([dog.id], start, end).get(dog.id, 0)
    return round(minutes / 60, 2), dog.agency.monthly_training_target_hours


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
        "limits": {"max_seconds_to_find": MAX_SECONDS_TO_FIND, "max_duration_minutes": MAX_DURATION_MINUTES},
    }


# ---------------------------------------------------------------- who may do what

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


def reason_required(session: TrainingSession, now: datetime) -> bool:
    """An edit needs a reason once the record is over 24 hours old or signed off."""
    return session.is_signed_off or (now - session.created_at) > EDIT_GRACE


# ---------------------------------------------------------------- validation

def _int(value, field: str, errors: list, *, required=False, low=None, high=None, message=None):
    if value is None or value == "":
        if required:
            errors.append({"field": field, "error": message or "This field is required."})
        return None
    if isinstance(value, bool):
        errors.append({"field": field, "error": "Must be a whole number."})
        return None
    try:
        number = float(value)
        if not number.is_integer():
            raise ValueError
        number = int(number)
    except (TypeError, ValueError, OverflowError):
        errors.append({"field": field, "error": "Must be a whole number."})
        return None
    if low is not None and number < low or high is not None and number > high:
        errors.append({"field": field, "error": message or f"Must be between {low} and {high}."})
        return None
    return number


def _text(value, field: str, errors: list, limit: int | None = None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        errors.append({"field": field, "error": "Must be text."})
        return None
    text = str(value).strip()
    if limit and len(text) > limit:
        errors.append({"field": field, "error": f"At most {limit} characters."})
        return None
    return text or None


def _choice(value, field: str, errors: list, choices, *, required=False, label="value"):
    if value in (None, ""):
        if required:
            errors.append({"field": field, "error": f"Choose the {label}."})
        return None
    if value not in choices:
        errors.append({"field": field, "error": f"Unknown {label}: {value!r}."})
        return None
    return value


def _term(value, field: str, errors: list, kind: str, allowed_extra: set[int], *, required=False,
          label: str, terms: dict[int, VocabularyTerm] | None = None) -> int | None:
    term_id = _int(value, field, errors, required=required, message=f"Choose the {label}." if required else None)
    if term_id is None:
        return None
    term = (terms or {}).get(term_id) or db.session.get(VocabularyTerm, term_id)
    if term is None or term.kind != kind or (not term.active and term_id not in allowed_extra):
        errors.append({"field": field, "error": f"Unknown {label}."})
        return None
    return term_id


def _load_terms(data: dict) -> dict[int, VocabularyTerm]:
    """Every vocabulary term the body names, in one query instead of one per hide."""
    rows = [data] + [r for key in ("hides", "false_alerts") if isinstance(data.get(key), list)
                     for r in data[key] if isinstance(r, dict)]
    ids = {r.get(key) for r in rows for key in ("environment_id", "device_type_id", "hiding_spot_id")}
    ids = {int(i) for i in ids if (isinstance(i, int) and not isinstance(i, bool))
           or (isinstance(i, str) and i.isdigit() and len(i) < 10)}
    if not ids:
        return {}
    return {t.id: t for t in db.session.scalars(select(VocabularyTerm).where(VocabularyTerm.id.in_(ids)))}


def parse_started_at(value, tz: ZoneInfo) -> datetime:
    """An ISO date-time; without an offset it is the agency's local time. Raises ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Enter the date and start time.")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("Enter the date and time as YYYY-MM-DD HH:MM.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(timezone.utc)


def validate_payload(data, user: User, now: datetime, session: TrainingSession | None = None) -> dict:
    """Check a session body from the tablet; return clean values or raise PayloadError.

    A dog outside the user's scope raises NotFound (404), like every other record.
    """
    from flask import abort
    if not isinstance(data, dict):
        raise PayloadError([{"field": None, "error": "The body must be a JSON object."}], status=400)
    errors: list[dict] = []
    clean: dict = {}

    dog_id = _int(data.get("dog_id"), "dog_id", errors, required=True, message="Choose the dog.")
    if dog_id is None:
        raise PayloadError(errors)
    dog = db.session.get(Dog, dog_id, options=[joinedload(Dog.agency)])  # its zone is needed next
    agency_ids = record_agency_ids(user)
    if dog is None or (agency_ids is not None and dog.agency_id not in agency_ids):
        abort(404)
    if dog.archived_at is not None and (session is None or session.dog_id != dog.id):
        errors.append({"field": "dog_id", "error": "This dog is archived."})
    clean["dog"] = dog
    tz = agency_tz(dog.agency)

    client_uuid = data.get("client_uuid")
    if client_uuid not in (None, ""):
        try:
            clean["client_uuid"] = str(uuid.UUID(str(client_uuid)))
        except ValueError:
            errors.append({"field": "client_uuid", "error": "Not a valid UUID."})

    try:
        started_at = parse_started_at(data.get("started_at"), tz)
        if started_at > now + FUTURE_SKEW:
            errors.append({"field": "started_at", "error": "The start cannot be in the future."})
        elif started_at < now - timedelta(days=3650):
            errors.append({"field": "started_at", "error": "The start is more than ten years ago."})
        clean["started_at"] = started_at
    except ValueError as exc:
        errors.append({"field": "started_at", "error": str(exc)})

    clean["duration_minutes"] = _int(
        data.get("duration_minutes"), "duration_minutes", errors, required=True, low=1,
        high=MAX_DURATION_MINUTES,
        message=f"Enter a duration from 1 to {MAX_DURATION_MINUTES} minutes (10 hours).")
    clean["location"] = _text(data.get("location"), "location", errors, 200)
    terms = _load_terms(data)
    kept_terms = set()
    if session is not None:
        kept_terms = ({session.environment_id} | {h.device_type_id for h in session.hides}
                      | {h.hiding_spot_id for h in session.hides}
                      | {f.hiding_spot_id for f in session.false_alerts})
    clean["environment_id"] = _term(data.get("environment_id"), "environment_id", errors, "environment",
                                    kept_terms, label="environment", terms=terms)
    clean["purpose"] = _choice(data.get("purpose"), "purpose", errors, PURPOSES, required=True, label="purpose")
    temperature = data.get("temperature_c")
    clean["temperature_c"] = None
    if temperature not in (None, ""):
        try:
            value = float(temperature)
            if isinstance(temperature, bool) or not -60 <= value <= 60:
                raise ValueError
            clean["temperature_c"] = value
        except (TypeError, ValueError):
            errors.append({"field": "temperature_c", "error": "Enter a temperature from -60 to 60 °C."})
    clean["wind"] = _choice(data.get("wind"), "wind", errors, WINDS, label="wind")
    clean["precipitation"] = _choice(data.get("precipitation"), "precipitation", errors, PRECIPITATIONS,
                                     label="precipitation")
    clean["blank_areas"] = _int(data.get("blank_areas") or 0, "blank_areas", errors, low=0, high=1000) or 0
    clean["notes"] = _text(data.get("notes"), "notes", errors, 5000)

    hides = data.get("hides") or []
    if not isinstance(hides, list) or len(hides) > MAX_HIDES:
        errors.append({"field": "hides", "error": f"Hides must be a list of at most {MAX_HIDES}."})
        hides = []
    clean["hides"] = []
    for i, raw in enumerate(hides):
        f = f"hides[{i}]."
        if not isinstance(raw, dict):
            errors.append({"field": f"hides[{i}]", "error": "Each hide must be an object."})
            continue
        hide = {
            "device_type_id": _term(raw.get("device_type_id"), f + "device_type_id", errors, "device_type",
                                    kept_terms, required=True, label="device type", terms=terms),
            "hiding_spot_id": _term(raw.get("hiding_spot_id"), f + "hiding_spot_id", errors, "hiding_spot",
                                    kept_terms, required=True, label="hiding spot", terms=terms),
            "height": _choice(raw.get("height"), f + "height", errors, HEIGHTS, label="height"),
            "concealment": _choice(raw.get("concealment"), f + "concealment", errors, CONCEALMENTS,
                                   label="concealment"),
            "aid_set_minutes": _int(raw.get("aid_set_minutes"), f + "aid_set_minutes", errors, low=0,
                                    high=MAX_AID_SET_MINUTES),
            "blind": bool(raw.get("blind")),
            "outcome": _choice(raw.get("outcome"), f + "outcome", errors, OUTCOMES, required=True,
                               label="outcome (found or missed)"),
            "seconds_to_find": _int(raw.get("seconds_to_find"), f + "seconds_to_find", errors, low=0,
                                    high=MAX_SECONDS_TO_FIND,
                                    message="Seconds to find must be from 0 to 7200 (2 hours)."),
        }
        if hide["outcome"] == "missed":
            hide["seconds_to_find"] = None
        clean["hides"].append(hide)

    alerts = data.get("false_alerts") or []
    if not isinstance(alerts, list) or len(alerts) > MAX_FALSE_ALERTS:
        errors.append({"field": "false_alerts", "error": f"False alerts must be a list of at most {MAX_FALSE_ALERTS}."})
        alerts = []
    clean["false_alerts"] = []
    for i, raw in enumerate(alerts):
        f = f"false_alerts[{i}]."
        if not isinstance(raw, dict):
            errors.append({"field": f"false_alerts[{i}]", "error": "Each false alert must be an object."})
            continue
        clean["false_alerts"].append({
            "hiding_spot_id": _term(raw.get("hiding_spot_id"), f + "hiding_spot_id", errors, "hiding_spot",
                                    kept_terms, label="hiding spot", terms=terms),
            "location_note": _text(raw.get("location_note"), f + "location_note", errors, 200),
            "note": _text(raw.get("note"), f + "note", errors, 2000),
        })

    clean["handler"] = _resolve_handler(data.get("handler_id"), dog, user, clean.get("started_at") or now,
                                        errors, session)
    if errors:
        raise PayloadError(errors)
    return clean


def _resolve_handler(value, dog: Dog, user: User, started_at: datetime, errors: list,
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
    handler_id = _int(value, "handler_id", errors)
    if handler_id is not None:
        handler = db.session.get(Handler, handler_id)
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
    for key in ("started_at", "duration_minutes", "location", "environment_id", "purpose", "temperature_c",
                "wind", "precipitation", "blank_areas", "notes"):
        setattr(session, key, clean[key])
    for position, values in enumerate(clean["hides"]):
        if position < len(session.hides):
            hide = session.hides[position]
        else:
            hide = Hide()
            session.hides.append(hide)
        hide.position = position
        for key, value in values.items():
            setattr(hide, key, value)
    _remove_tail(session.hides, len(clean["hides"]))
    for position, values in enumerate(clean["false_alerts"]):
        if position < len(session.false_alerts):
            alert = session.false_alerts[position]
        else:
            alert = FalseAlert()
            session.false_alerts.append(alert)
        for key, value in values.items():
            setattr(alert, key, value)
    _remove_tail(session.false_alerts, len(clean["false_alerts"]))


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


def snapshot(session: TrainingSession) -> dict:
    """The whole record as plain data, hides and false alerts included, for the audit trail."""
    def name(term_id):
        term = db.session.get(VocabularyTerm, term_id) if term_id else None
        return term.name if term else None
    return {
        "dog_id": session.dog_id, "handler_id": session.handler_id,
        "started_at": session.started_at.isoformat() if session.started_at else None,
        "duration_minutes": session.duration_minutes, "location": session.location,
        "environment": name(session.environment_id), "purpose": session.purpose,
        "temperature_c": session.temperature_c, "wind": session.wind, "precipitation": session.precipitation,
        "blank_areas": session.blank_areas, "notes": session.notes,
        "signed_off_at": session.signed_off_at.isoformat() if session.signed_off_at else None,
        "signed_off_by_id": session.signed_off_by_id,
        "hides": [{"device_type": name(h.device_type_id), "hiding_spot": name(h.hiding_spot_id),
                   "height": h.height, "concealment": h.concealment, "aid_set_minutes": h.aid_set_minutes,
                   "blind": bool(h.blind), "outcome": h.outcome, "seconds_to_find": h.seconds_to_find}
                  for h in session.hides],
        "false_alerts": [{"hiding_spot": name(f.hiding_spot_id), "location_note": f.location_note,
                          "note": f.note} for f in session.false_alerts],
    }


def revise_session(session: TrainingSession, clean: dict, user: User, now: datetime,
                   reason: str | None) -> bool:
    """Apply an edit under the record-integrity rules; return whether anything changed.

    Raises PayloadError when a reason is needed and missing. The earlier version is kept
    whole in a `revise` audit entry (hides included), and a change clears any sign-off.
    """
    reason = (reason.strip() or None) if isinstance(reason, str) else None
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
    """A session as the tablet form and the API speak it."""
    tz = agency_tz(session.dog.agency)
    local = session.started_at.astimezone(tz)
    return {
        "id": session.id, "client_uuid": session.client_uuid, "dog_id": session.dog_id,
        "handler_id": session.handler_id, "started_at": local.strftime("%Y-%m-%dT%H:%M"),
        "started_at_utc": session.started_at.isoformat(), "duration_minutes": session.duration_minutes,
        "location": session.location, "environment_id": session.environment_id, "purpose": session.purpose,
        "temperature_c": session.temperature_c, "wind": session.wind, "precipitation": session.precipitation,
        "blank_areas": session.blank_areas, "notes": session.notes,
        "signed_off_at": session.signed_off_at.isoformat() if session.signed_off_at else None,
        "hides": [{"device_type_id": h.device_type_id, "hiding_spot_id": h.hiding_spot_id, "height": h.height,
                   "concealment": h.concealment, "aid_set_minutes": h.aid_set_minutes, "blind": bool(h.blind),
                   "outcome": h.outcome, "seconds_to_find": h.seconds_to_find} for h in session.hides],
        "false_alerts": [{"hiding_spot_id": f.hiding_spot_id, "location_note": f.location_note,
                          "note": f.note} for f in session.false_alerts],
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
    try:
        stamp, _, ident = cursor.partition("_")
        return datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=timezone.utc), int(ident)
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
    sessions = list(db.session.scalars(
        stmt.order_by(TrainingSession.started_at.desc(), TrainingSession.id.desc()).limit(size + 1)))
    more = len(sessions) > size
    sessions = sessions[:size]
    counts = session_counts([s.id for s in sessions])
    rows = [{"session": s, "local_start": s.started_at.astimezone(tz), **counts.get(s.id, {})}
            for s in sessions]
    return rows, (encode_cursor(sessions[-1]) if more else None)


def session_counts(session_ids: list[int]) -> dict[int, dict]:
    """Hides, found, blind and false alerts per session, counted in SQL."""
    result = {i: {"hides": 0, "found": 0, "blind": 0, "false_alerts": 0} for i in session_ids}
    if not session_ids:
        return result
    stmt = (select(Hide.session_id, func.count(),
                   func.sum(case((Hide.outcome == "found", 1), else_=0)),
                   func.sum(case((Hide.blind.is_(True), 1), else_=0)))
            .where(Hide.session_id.in_(session_ids)).group_by(Hide.session_id))
    for sid, hides, found, blind in db.session.execute(stmt):
        result[sid].update(hides=hides, found=int(found or 0), blind=int(blind or 0))
    stmt = (select(FalseAlert.session_id, func.count()).where(FalseAlert.session_id.in_(session_ids))
            .group_by(FalseAlert.session_id))
    for sid, alerts in db.session.execute(stmt):
        result[sid]["false_alerts"] = alerts
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
        local_today = today or datetime.now(timezone.utc).astimezone(tz).date()
        team = dog.team_on(local_today)
        choices.append({"id": dog.id, "name": dog.name, "call_sign": dog.call_sign, "agency_id": dog.agency_id,
                        "agency": dog.agency.name, "tz": tz.key,
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
