"""The training area's sections of the home page: hours against the month's target, the sign-off queue,
a handler's last sessions and the sessions still waiting on the tablet."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..dates import local_midnight_utc, month_start, next_month
from ..dogs.services import handler_dogs
from ..extensions import db
from ..models import Agency, Dog, TrainingSession, User
from . import queue
from .services import agency_tz, session_counts, training_minutes, training_status

OLDEST_SHOWN = 5  # sessions waiting for sign-off named on a manager's home page
LAST_SESSIONS = 5  # a handler's own latest sessions


@dataclass
class MonthHours:
    """One dog's training hours in the agency's month so far, against the pro-rata target."""

    dog: Dog
    hours: float
    expected: float  # the target's share of the days of the month already over
    target: int
    status: str  # met | on_track | behind

    @property
    def shortfall(self) -> float:
        return round(max(0.0, self.expected - self.hours), 1)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.hours / self.target)) if self.target else 100


def month_elapsed(today: date) -> float:
    """The share of the month of `today` already over: the days before today (today is still to train in)."""
    first = month_start(today)
    return (today - first).days / (next_month(today) - first).days


def month_hours(agency: Agency, dogs: list[Dog], today: date) -> list[MonthHours]:
    """Each dog's hours in the agency's month of `today`, summed in SQL, with its status against the target."""
    tz = agency_tz(agency)
    minutes = training_minutes([d.id for d in dogs], local_midnight_utc(month_start(today), tz),
                               local_midnight_utc(next_month(today), tz))
    target = agency.monthly_training_target_hours
    elapsed = month_elapsed(today)
    rows = []
    for dog in dogs:
        hours = round(minutes.get(dog.id, 0) / 60, 2)
        rows.append(MonthHours(dog=dog, hours=hours, expected=round(target * elapsed, 1), target=target,
                               status=training_status(hours, target, elapsed)))
    return rows


def working_dogs(agency: Agency) -> list[Dog]:
    """The agency's dogs that train: not retired, not archived (as on the training overview)."""
    return list(db.session.scalars(
        select(Dog).where(Dog.agency_id == agency.id, Dog.archived_at.is_(None), Dog.status != "retired")
        .order_by(Dog.name, Dog.id)))


def behind_on_hours(agency: Agency, today: date) -> list[MonthHours]:
    """Working dogs behind this month's pro-rata target, furthest behind first."""
    behind = [row for row in month_hours(agency, working_dogs(agency), today) if row.status == "behind"]
    return sorted(behind, key=lambda row: (-row.shortfall, row.dog.name))


def last_sessions(user: User, limit: int = LAST_SESSIONS) -> list[dict]:
    """A handler's own latest sessions (as the handler of record), newest first, with their counts."""
    if user.handler is None:
        return []
    sessions = list(db.session.scalars(
        select(TrainingSession).where(TrainingSession.handler_id == user.handler.id,
                                      TrainingSession.archived_at.is_(None))
        .order_by(TrainingSession.started_at.desc(), TrainingSession.id.desc()).limit(limit)))
    counts = session_counts([s.id for s in sessions])
    return [{"session": s, "local_start": s.started_at.astimezone(agency_tz(s.dog.agency)), **counts[s.id]}
            for s in sessions]


# ---------------------------------------------------------------- sections

def hours_section(user: User, agency: Agency, today: date) -> dict | None:
    """A manager's dogs behind on this month's hours; a handler's own dogs' hours against the target."""
    if user.role == "handler":
        return {"template": "training/_home_my_dogs.html", "title": "My dogs", "count": None,
                "rows": month_hours(agency, handler_dogs(user, today), today), "month": month_start(today)}
    if user.role not in ("manager", "admin"):
        return None
    rows = behind_on_hours(agency, today)
    return {"template": "training/_home_behind.html", "title": "Dogs behind on hours", "count": len(rows),
            "rows": rows, "month": month_start(today)}


def sign_off_section(user: User, agency: Agency, today: date) -> dict | None:
    """For a manager: how many sessions wait for sign-off, the oldest first, and the way to the queue."""
    if user.role not in ("manager", "admin"):
        return None
    count, _ = queue.waiting_count(agency)
    _, oldest = queue.unsigned_sessions([agency.id], queue.QueueFilters(), limit=OLDEST_SHOWN) if count else (0, [])
    return {"template": "training/_home_sign_off.html", "title": "Sessions to sign off", "count": count,
            "rows": oldest, "agency": agency}


def last_sessions_section(user: User, agency: Agency, today: date) -> dict | None:
    """For a handler: their latest sessions, and the sessions still waiting on this tablet to upload."""
    if user.role != "handler":
        return None
    return {"template": "training/_home_last_sessions.html", "title": "My last sessions", "count": None,
            "rows": last_sessions(user)}
